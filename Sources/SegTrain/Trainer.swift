import Dispatch
import Foundation

public struct TrainingOptions: Sendable {
    public var epochs = 10
    public var learningRate = 1e-3
    public var weightDecay = 0.01
    /// Samples per optimizer step; a batch's samples run on all cores.
    public var batch = 4
    public var seed: UInt64 = 0
    public init() {}
}

/// Runs the epochs of one stage: a seeded shuffle per epoch, batches whose
/// samples run in parallel, gradients summed in sample order (so the result
/// does not depend on thread timing), AdamW with a poly(0.9) learning-rate
/// decay over all steps (the release's schedule).
public struct Trainer: Sendable {
    public var model: TrainingModel
    public var optimizer: AdamW
    public let options: TrainingOptions
    /// Epochs completed (a resumed run starts after them).
    public var epochsDone = 0

    public init(model: TrainingModel, options: TrainingOptions) {
        self.model = model
        self.options = options
        optimizer = AdamW(
            count: model.parameters.count, learningRate: options.learningRate, weightDecay: options.weightDecay)
    }

    /// The sample order of an epoch: a function of the seed and the epoch only.
    public func order(epoch: Int, count: Int) -> [Int] {
        var random = TrainingRandom(seed: options.seed, name: "epoch \(epoch)")
        return random.permutation(count)
    }

    func rate(step: Int, totalSteps: Int) -> Double {
        options.learningRate * pow(max(0, 1 - Double(step) / Double(max(1, totalSteps))), 0.9)
    }

    /// Trains one epoch; returns the mean per-pixel loss, or nil when
    /// `cancelled` became true (the parameters are then left as they were
    /// after the last whole step, and the epoch does not count).
    public mutating func trainEpoch(
        _ samples: [TrainingSample], cancelled: () -> Bool = { false },
        progress: (Int, Int) -> Void = { _, _ in }
    ) -> Double? {
        let order = self.order(epoch: epochsDone, count: samples.count)
        let batches = stride(from: 0, to: order.count, by: options.batch).map {
            Array(order[$0..<min(order.count, $0 + options.batch)])
        }
        let totalSteps = options.epochs * batches.count
        var lossSum = 0.0
        var pixelSum = 0
        let start = (parameters: model.parameters.values, optimizer: optimizer)
        for (b, batch) in batches.enumerated() {
            if cancelled() {
                model.parameters.values = start.parameters
                optimizer = start.optimizer
                return nil
            }
            let (gradient, loss, pixels) = batchGradient(batch.map { samples[$0] })
            lossSum += loss
            pixelSum += pixels
            if pixels > 0 {
                optimizer.update(
                    &model.parameters.values, gradient: gradient,
                    rate: rate(step: optimizer.step, totalSteps: totalSteps))
            }
            progress(b + 1, batches.count)
        }
        epochsDone += 1
        return pixelSum > 0 ? lossSum / Double(pixelSum) : 0
    }

    /// Mean cross-entropy gradient over all labelled pixels of the batch
    /// (PyTorch's mean reduction), the summed loss, and the pixel count.
    func batchGradient(_ batch: [TrainingSample]) -> (gradient: [Double], loss: Double, pixels: Int) {
        let count = model.parameters.count
        let results = Results(batch.count)
        let model = self.model
        model.parameters.values.withUnsafeBufferPointer { pb in
            let p = UncheckedPointer(pb.baseAddress!)
            DispatchQueue.concurrentPerform(iterations: batch.count) { i in
                var gradient = [Double](repeating: 0, count: count)
                let (loss, pixels) = gradient.withUnsafeMutableBufferPointer {
                    model.lossAndGradient(batch[i], p.base, $0.baseAddress!, scale: 1)
                }
                results.store(i, (gradient, loss, pixels))
            }
        }
        var total = [Double](repeating: 0, count: count)
        var loss = 0.0
        var pixels = 0
        for (gradient, l, n) in results.values {
            for j in 0..<count { total[j] += gradient[j] }
            loss += l
            pixels += n
        }
        if pixels > 0 {
            let inverse = 1 / Double(pixels)
            for j in 0..<count { total[j] *= inverse }
        }
        return (total, loss, pixels)
    }
}

/// A read-only parameter pointer shared by the batch's workers.
private struct UncheckedPointer: @unchecked Sendable {
    let base: UnsafePointer<Double>
    init(_ base: UnsafePointer<Double>) { self.base = base }
}

/// Per-sample results written by parallel workers, read in sample order.
private final class Results: @unchecked Sendable {
    private let lock = NSLock()
    private var slots: [([Double], Double, Int)?]
    init(_ count: Int) { slots = Array(repeating: nil, count: count) }
    func store(_ i: Int, _ value: ([Double], Double, Int)) {
        lock.lock()
        slots[i] = value
        lock.unlock()
    }
    var values: [([Double], Double, Int)] { slots.map { $0! } }
}
