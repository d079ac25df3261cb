import Foundation
import SegEngine
import SegFormats
import Testing

@testable import SegTrain

/// The trainer's forward pass is the engine's (which is checked against an
/// independent NumPy implementation of the spec): a checkpoint written by the
/// trainer, loaded by `Model.load`, gives the same features and logits.
/// Tolerance 1e-4 max abs (the engine computes in float32).
@Suite struct EngineAgreementTests {
    typealias G = GradientCheck

    static func temporaryPath(_ name: String) -> String {
        NSTemporaryDirectory() + "segtrain-\(getpid())-\(name).safetensors"
    }

    static func maxDifference(_ a: [Float], _ b: [Float]) -> Float {
        precondition(a.count == b.count)
        return zip(a, b).reduce(0) { max($0, abs($1.0 - $1.1)) }
    }

    /// Checkpoint of `model` with its values perturbed so nothing is at its initial value.
    static func export(_ model: inout TrainingModel, name: String, metadata: [String: String]) throws -> String {
        model.parameters.values = zip(model.parameters.values, G.values(model.parameters.count, seed: 41)).map {
            $0 + 0.1 * $1
        }
        let path = temporaryPath(name)
        try TrainingCheckpoint.write(
            Trainer(model: model, options: TrainingOptions()), carried: [], metadata: metadata, to: path)
        return path
    }

    @Test func stfMatchesEngine() throws {
        let shape = STFShape(
            channels: 8, heads: 2, blockHeight: 2, blockWidth: 4, feedForward: 12, depth: 1, positionHeight: 3,
            positionWidth: 5)
        var model = TrainingModel(.stf(shape), channels: 8, classes: 5, seed: 4)
        let path = try Self.export(&model, name: "stf", metadata: ["heads": "2", "block_size": "2,4"])
        defer { try? FileManager.default.removeItem(atPath: path) }
        let engine = try Model.load(path: path)
        let sample = BlockGradientTests.sample(channels: 8, height: 4, width: 8, classes: 5, seed: 50)
        let expected = try engine.forward(
            previous: sample.previous, current: sample.current, next: sample.next, height: 4, width: 8)
        let features = model.parameters.values.withUnsafeBufferPointer {
            model.forward(sample, $0.baseAddress!).features
        }
        let n = 32
        let channelFirst = (0..<(8 * n)).map { Float(features[($0 % n) * 8 + $0 / n]) }
        #expect(Self.maxDifference(channelFirst, expected.stf!) < 1e-4)
        #expect(Self.maxDifference(model.logits(sample), expected.stfLogits!) < 1e-4)
    }

    @Test func marMatchesEngine() throws {
        let c = 8
        let k = 3
        var model = TrainingModel(
            .mar(
                keys: G.values(k * 2 * c, seed: 42).map(Float.init),
                values: G.values(k * 2 * c, seed: 43).map(Float.init), width: 4),
            channels: c, classes: k, seed: 5)
        let path = try Self.export(&model, name: "mar", metadata: [:])
        defer { try? FileManager.default.removeItem(atPath: path) }
        let engine = try Model.load(path: path)
        let sample = BlockGradientTests.sample(channels: c, height: 4, width: 4, classes: k, seed: 60)
        let expected = try engine.forward(
            previous: sample.previous, current: sample.current, next: sample.next, height: 4, width: 4)
        #expect(engine.stf == nil)
        #expect(Self.maxDifference(model.logits(sample), expected.marLogits!) < 1e-4)
    }
}
