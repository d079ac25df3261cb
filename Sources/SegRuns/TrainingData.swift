import SegDataset
import SegEngine
import SegEval
import SegFormats
import SegLabels
import SegTrain

/// A dataset's frames with features and ground truth as training samples.
public struct TrainingData {
    public let samples: [TrainingSample]
    public let channels: Int
    /// Feature map size (H x W).
    public let size: GridSize
    public let space: LabelSpace

    /// With `fixed` (the mar stage), each sample's current features are the
    /// fixed model's STF output (or f[T] when it has no STF). Features come
    /// from the dataset's files, else from `backbone` on its frames.
    public static func load(_ data: Dataset, fixed: Model?, backbone: Model? = nil, observer: WorkObserver = .silent)
        throws -> TrainingData
    {
        let source: FeatureSource =
            try backbone.map { try FeatureSource.choose(model: $0, data: data, saveFeatures: nil) } ?? .files
        let frames = try LabelledWindows(data, source: source)
        var samples: [TrainingSample] = []
        var first: FeatureMap?
        try frames.forEach(channels: nil, observer: observer) { frame, window, gt in
            let c = window.current
            first = first ?? c
            guard c.height == first!.height, c.width == first!.width else {
                throw RunError(
                    "\(frame.features!): features are \(c.height)x\(c.width), earlier frames \(first!.height)x\(first!.width)"
                )
            }
            var current = c.values
            if let fixed {
                guard fixed.channels == c.channels else {
                    throw RunError("\(frame.features!): \(c.channels) channels, the --init model has \(fixed.channels)")
                }
                current = try fixed.stfStage(
                    previous: window.previous.values, current: c.values, next: window.next.values, height: c.height,
                    width: c.width
                ).features
            }
            samples.append(
                TrainingSample(
                    previous: window.previous.values, current: current, next: window.next.values, labels: gt.ids,
                    height: c.height, width: c.width))
            observer.progress(samples.count, frames.total)
        }
        return TrainingData(
            samples: samples, channels: first!.channels, size: GridSize(height: first!.height, width: first!.width),
            space: data.space)
    }

    /// mIoU of the model's full-resolution predictions over these samples.
    public func meanIoU(_ model: TrainingModel, classes k: Int) -> Double {
        var matrix = ConfusionMatrix(classes: k)
        for sample in samples {
            let (labels, _) = upsampledPrediction(
                logits: model.logits(sample), classes: k, height: sample.height, width: sample.width,
                factor: featureStride)
            let (w, h) = (sample.width * featureStride, sample.height * featureStride)
            matrix.add(
                groundTruth: LabelMap(width: w, height: h, ids: sample.labels),
                prediction: LabelMap(width: w, height: h, ids: labels))
        }
        return Metrics(matrix).meanIoU
    }
}
