import Foundation
import SegDataset
import SegEngine
import SegFormats
import SegLabels

/// `segscope memory build`: the STF stage over every frame with ground
/// truth, and each correctly classified feature pixel offered to the sampler
/// (spec "Building the memory").
public struct MemoryBuilding {
    public let model: Model
    public let dataset: Dataset
    public let hardCount: Int, goodCount: Int
    public let rule: MemorySampler.Rule

    public init(
        model: Model, dataset: Dataset, hardCount: Int, goodCount: Int, rule: MemorySampler.Rule, weightsName: String
    ) throws {
        guard model.classes == dataset.space.count else {
            throw RunError(
                "\(weightsName): \(model.classes) classes, but the label space \(dataset.space.name) has \(dataset.space.count)"
            )
        }
        (self.model, self.dataset, self.hardCount, self.goodCount, self.rule) = (
            model, dataset, hardCount, goodCount, rule
        )
    }

    public struct Result: Sendable {
        public let memory: MemoryBank
        /// Classes with no correctly classified pixel (zeros in the memory).
        public let emptyClasses: [Int]
        /// Classes whose hard or good list stayed empty (the other stands in).
        public let oneSidedClasses: [Int]
    }

    public func run(observer: WorkObserver = .silent) throws -> Result {
        var sampler = MemorySampler(
            classes: model.classes, channels: model.channels, hardCount: hardCount, goodCount: goodCount, rule: rule)
        let frames = try LabelledWindows(
            dataset, source: try FeatureSource.choose(model: model, data: dataset, saveFeatures: nil))
        var done = 0
        try frames.forEach(channels: model.channels, observer: observer) { _, window, gt in
            let c = window.current
            let stage = try model.stfStage(
                previous: window.previous.values, current: c.values, next: window.next.values, height: c.height,
                width: c.width)
            Self.offerCorrectPixels(
                features: stage.features, logits: stage.logits, classes: model.classes, channels: model.channels,
                height: c.height, width: c.width, groundTruth: gt, to: &sampler)
            done += 1
            observer.progress(done, frames.total)
        }
        let (keys, prototypes) = sampler.memory()
        return Result(
            memory: MemoryBank(
                classes: model.classes, perClass: hardCount, channels: model.channels, keys: keys,
                prototypes: prototypes),
            emptyClasses: sampler.emptyClasses, oneSidedClasses: sampler.oneSidedClasses)
    }

    /// Row-major over the feature map: the label is the ground truth's
    /// nearest sample (featureStride*i, featureStride*j); the pixel counts
    /// when the argmax equals it, with score = max softmax.
    /// features [C, H*W], logits [K, H*W].
    static func offerCorrectPixels(
        features: [Float], logits: [Float], classes k: Int, channels: Int, height h: Int, width w: Int,
        groundTruth gt: LabelMap, to sampler: inout MemorySampler
    ) {
        let positions = h * w
        for pixel in 0..<positions {
            let label = Int(gt[featureStride * (pixel % w), featureStride * (pixel / w)])
            guard label < k else { continue }
            var best: Float = -.infinity
            var predicted = 0
            for j in 0..<k where logits[j * positions + pixel] > best {
                best = logits[j * positions + pixel]
                predicted = j
            }
            guard predicted == label else { continue }
            var sum: Float = 0
            for j in 0..<k { sum += expf(logits[j * positions + pixel] - best) }
            sampler.offer(label: label, score: 1 / sum) {
                (0..<channels).map { features[$0 * positions + pixel] }
            }
        }
    }
}
