import Foundation
import Testing

@testable import SegTrain

/// Whole blocks against central finite differences in float64: STF (encoder
/// and decoder, two layers each, positional encodings resized from 3x2 to
/// 4x4), MAR with its trainable memory, and each stage's full loss
/// (features -> block -> classifier -> x8 upsampling -> cross-entropy).
@Suite struct BlockGradientTests {
    typealias G = GradientCheck
    static let shape = STFShape(
        channels: 4, heads: 2, blockHeight: 2, blockWidth: 2, feedForward: 6, depth: 2, positionHeight: 3,
        positionWidth: 2)

    /// Worst scaled error over every parameter tensor (`limit` coordinates each).
    static func worstOverParameters(
        _ parameters: Parameters, gradient: [Double], limit: Int, loss: ([Double]) -> Double
    ) -> Double {
        var worst = 0.0
        for slot in parameters.slots {
            let range = slot.offset..<(slot.offset + slot.count)
            worst = max(
                worst,
                G.worst(Array(parameters.values[range]), analytic: Array(gradient[range]), limit: limit) { tensor in
                    var values = parameters.values
                    values.replaceSubrange(range, with: tensor)
                    return loss(values)
                })
        }
        return worst
    }

    @Test func stfBlock() {
        var parameters = Parameters()
        let stf = STFGraph(shape: Self.shape, parameters: &parameters, seed: 1)
        // Larger positional encodings than the release's init so their gradient is not negligible.
        parameters.values = zip(parameters.values, G.values(parameters.count, seed: 2)).map { $0 + 0.3 * $1 }
        let n = 16
        let c = 4
        let frames = (0..<3).map { G.values(n * c, seed: 10 + UInt64($0)) }
        let r = G.values(n * c, seed: 20)
        func loss(_ values: [Double], _ f: [[Double]]) -> Double {
            values.withUnsafeBufferPointer {
                G.project(
                    stf.forward(previous: f[0], current: f[1], next: f[2], height: 4, width: 4, $0.baseAddress!).0, r)
            }
        }
        var gradient = [Double](repeating: 0, count: parameters.count)
        let dInputs = parameters.values.withUnsafeBufferPointer { p in
            gradient.withUnsafeMutableBufferPointer { g in
                stf.backward(
                    r,
                    stf.forward(
                        previous: frames[0], current: frames[1], next: frames[2], height: 4, width: 4, p.baseAddress!
                    ).1,
                    p.baseAddress!, g.baseAddress!)
            }
        }
        #expect(Self.worstOverParameters(parameters, gradient: gradient, limit: 10) { loss($0, frames) } < G.tolerance)
        let analytic = [dInputs.previous, dInputs.current, dInputs.next]
        for i in 0..<3 {
            #expect(
                G.worst(frames[i], analytic: analytic[i], limit: 20) { x in
                    var f = frames
                    f[i] = x
                    return loss(parameters.values, f)
                } < G.tolerance)
        }
    }

    @Test func marBlockWithTrainableMemory() {
        let c = 6
        let rows = 6
        let l = 10
        var parameters = Parameters()
        let mar = MARGraph(
            channels: c, width: 4, keys: G.values(rows * c, seed: 3), values: G.values(rows * c, seed: 4),
            parameters: &parameters, seed: 5)
        let x = G.values(l * c, seed: 6)
        let r = G.values(l * c, seed: 7)
        func loss(_ values: [Double], _ x: [Double]) -> Double {
            values.withUnsafeBufferPointer { G.project(mar.forward(x, tokens: l, $0.baseAddress!).0, r) }
        }
        var gradient = [Double](repeating: 0, count: parameters.count)
        let dx = parameters.values.withUnsafeBufferPointer { p in
            gradient.withUnsafeMutableBufferPointer { g in
                mar.backward(r, mar.forward(x, tokens: l, p.baseAddress!).1, tokens: l, p.baseAddress!, g.baseAddress!)
            }
        }
        #expect(Self.worstOverParameters(parameters, gradient: gradient, limit: 20) { loss($0, x) } < G.tolerance)
        #expect(G.worst(x, analytic: dx) { loss(parameters.values, $0) } < G.tolerance)
    }

    static func sample(channels c: Int, height h: Int, width w: Int, classes k: Int, seed: UInt64) -> TrainingSample {
        let f = (0..<3).map { G.values(c * h * w, seed: seed + UInt64($0)).map(Float.init) }
        var random = TrainingRandom(seed: seed)
        let labels = (0..<(64 * h * w)).map { _ in
            random.next() % 9 == 0 ? UInt8(255) : UInt8(random.next() % UInt64(k))
        }
        return TrainingSample(previous: f[0], current: f[1], next: f[2], labels: labels, height: h, width: w)
    }

    @Test(arguments: TrainingStage.allCases)
    func stageLoss(stage: TrainingStage) {
        let c = 4
        let k = 3
        let what: TrainingModel.Stage
        switch stage {
        case .classifier: what = .classifier
        case .stf: what = .stf(Self.shape)
        case .mar:
            what = .mar(
                keys: G.values(k * 2 * c, seed: 8).map(Float.init),
                values: G.values(k * 2 * c, seed: 9).map(Float.init), width: 2)
        }
        let model = TrainingModel(what, channels: c, classes: k, seed: 3)
        let sample = Self.sample(channels: c, height: 4, width: 4, classes: k, seed: 30)
        var gradient = [Double](repeating: 0, count: model.parameters.count)
        _ = model.parameters.values.withUnsafeBufferPointer { p in
            gradient.withUnsafeMutableBufferPointer {
                model.lossAndGradient(sample, p.baseAddress!, $0.baseAddress!, scale: 1)
            }
        }
        let worst = Self.worstOverParameters(model.parameters, gradient: gradient, limit: 8) { values in
            values.withUnsafeBufferPointer { model.lossAndGradient(sample, $0.baseAddress!, nil, scale: 1).loss }
        }
        #expect(worst < G.tolerance)
    }
}
