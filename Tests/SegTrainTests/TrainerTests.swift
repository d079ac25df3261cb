import Foundation
import SegFormats
import Testing

@testable import SegTrain

/// The training loop: it learns, it is deterministic for a seed, and a run
/// resumed from its state file ends bit-identical to an uninterrupted one.
@Suite struct TrainerTests {
    /// Features whose class is readable from a direction in feature space,
    /// plus noise: a classifier can learn it, a fresh one cannot know it.
    static func samples(count: Int, channels c: Int, classes k: Int, seed: UInt64) -> [TrainingSample] {
        var random = TrainingRandom(seed: seed)
        let h = 2
        let w = 4
        return (0..<count).map { _ in
            let cellLabels = (0..<(h * w)).map { _ in Int(random.next() % UInt64(k)) }
            var features = [Float](repeating: 0, count: c * h * w)
            for i in 0..<(h * w) {
                for ch in 0..<c {
                    features[ch * h * w + i] = Float(
                        (ch % k == cellLabels[i] ? 1.5 : 0) + 0.5 * (2 * random.unit() - 1))
                }
            }
            var labels = [UInt8](repeating: 0, count: 64 * h * w)
            for y in 0..<(8 * h) {
                for x in 0..<(8 * w) { labels[y * 8 * w + x] = UInt8(cellLabels[(y / 8) * w + x / 8]) }
            }
            return TrainingSample(
                previous: features, current: features, next: features, labels: labels, height: h, width: w)
        }
    }

    static func options(epochs: Int) -> TrainingOptions {
        var options = TrainingOptions()
        options.epochs = epochs
        options.learningRate = 0.05
        options.batch = 3
        options.seed = 9
        return options
    }

    @Test func classifierLearnsAndIsDeterministic() {
        let data = Self.samples(count: 12, channels: 6, classes: 3, seed: 1)
        func run() -> (first: Double, last: Double, values: [Double]) {
            var trainer = Trainer(
                model: TrainingModel(.classifier, channels: 6, classes: 3, seed: 2), options: Self.options(epochs: 6))
            var losses: [Double] = []
            for _ in 0..<6 { losses.append(trainer.trainEpoch(data)!) }
            return (losses.first!, losses.last!, trainer.model.parameters.values)
        }
        let a = run()
        let b = run()
        #expect(a.last < 0.5 * a.first)
        #expect(a.values == b.values)
    }

    @Test func resumedRunEqualsUninterruptedRun() throws {
        let data = Self.samples(count: 7, channels: 4, classes: 3, seed: 3)
        let shape = STFShape(
            channels: 4, heads: 2, blockHeight: 2, blockWidth: 2, feedForward: 6, depth: 1, positionHeight: 2,
            positionWidth: 4)
        func fresh() -> Trainer {
            Trainer(
                model: TrainingModel(.stf(shape), channels: 4, classes: 3, seed: 4), options: Self.options(epochs: 3))
        }
        var straight = fresh()
        for _ in 0..<3 { _ = straight.trainEpoch(data) }

        var first = fresh()
        _ = first.trainEpoch(data)
        let path = NSTemporaryDirectory() + "segtrain-resume-\(getpid()).state"
        defer { try? FileManager.default.removeItem(atPath: path) }
        try TrainingCheckpoint.writeState(first, to: path)
        var resumed = fresh()
        try TrainingCheckpoint.restoreState(&resumed, from: path)
        #expect(resumed.epochsDone == 1)
        for _ in 0..<2 { _ = resumed.trainEpoch(data) }
        #expect(resumed.model.parameters.values == straight.model.parameters.values)
        #expect(resumed.model.parameters.values != first.model.parameters.values)
    }

    @Test func cancelledEpochLeavesParametersUntouched() {
        let data = Self.samples(count: 9, channels: 4, classes: 3, seed: 5)
        var trainer = Trainer(
            model: TrainingModel(.classifier, channels: 4, classes: 3, seed: 6), options: Self.options(epochs: 2))
        let before = trainer.model.parameters.values
        var batches = 0
        #expect(
            trainer.trainEpoch(
                data,
                cancelled: {
                    batches += 1
                    return batches > 2
                }) == nil)
        #expect(trainer.model.parameters.values == before)
        #expect(trainer.epochsDone == 0)
    }
}
