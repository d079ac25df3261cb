import Foundation
import SegDataset
import SegEngine
import SegFormats
import SegLabels

/// `segscope infer`: the model over every frame with features, a sliding
/// window along each sequence, full-resolution predictions and confidences
/// per stage written into a run folder that `view` and `eval` open. Frames
/// whose files all exist are skipped, so an interrupted run resumes.
public struct InferRun {
    public let model: Model
    public let dataset: Dataset
    public let folder: String
    /// Small files: 8-bit confidences of every second pixel, maximum PNG compression.
    public var compact = false
    /// Only frames with ground truth are written (their neighbours are read or computed for the window).
    public var labelledOnly = false
    /// Where backbone features are kept (float16 npy), when they are computed from the frames.
    public var saveFeatures: String?
    /// Named in the manifest's comment.
    public var weightsName: String

    public init(model: Model, dataset: Dataset, folder: String, weightsName: String) throws {
        guard model.classes == dataset.space.count else {
            throw RunError("\(weightsName): \(model.classes) classes, but the label space \(dataset.space.name) has \(dataset.space.count)")
        }
        (self.model, self.dataset, self.folder, self.weightsName) = (model, dataset, folder, weightsName)
    }

    public static func predictionFolder(_ stage: Stage) -> String { "pred/\(stage.rawValue)" }
    public static func confidenceFolder(_ stage: Stage) -> String { "conf/\(stage.rawValue)" }

    func outputs(_ frame: FrameRecord) -> [String] {
        model.stages.flatMap { ["\(folder)/\(Self.predictionFolder($0))/\(frame.key).png", "\(folder)/\(Self.confidenceFolder($0))/\(frame.key).png"] }
    }

    /// Runs every frame not yet written, then writes the manifest. Returns the
    /// number of frames computed in this call.
    @discardableResult
    public func run(observer: WorkObserver = .silent) throws -> Int {
        let fm = FileManager.default
        for stage in model.stages {
            try fm.createDirectory(atPath: "\(folder)/\(Self.predictionFolder(stage))", withIntermediateDirectories: true)
            try fm.createDirectory(atPath: "\(folder)/\(Self.confidenceFolder(stage))", withIntermediateDirectories: true)
        }
        let source = try FeatureSource.choose(model: model, data: dataset, saveFeatures: saveFeatures)
        if let saveFeatures { try fm.createDirectory(atPath: saveFeatures, withIntermediateDirectories: true) }
        let work = dataset.sequences.map { $0.frames.filter(source.covers) }
        func written(_ frame: FrameRecord) -> Bool { !labelledOnly || frame.groundTruth != nil }
        let total = work.reduce(0) { $0 + $1.filter(written).count }
        guard total > 0 else {
            throw RunError("\(dataset.root): no frame has \(labelledOnly ? "ground truth and " : "")\(source.isFiles ? "features (give --features DIR)" : "an image")")
        }
        var done = 0, computed = 0
        for frames in work {
            var windows = FeatureWindows(frames: frames, channels: model.channels, source: source)
            for (i, frame) in frames.enumerated() where written(frame) {
                if observer.cancelled() { throw RunError("interrupted; \(done) of \(total) frames written, run again to resume") }
                if !outputs(frame).allSatisfy({ fm.fileExists(atPath: $0) }) {
                    let window = try windows.window(i)
                    try write(frame, window)
                    computed += 1
                }
                done += 1
                observer.progress(done, total)
            }
        }
        try RunManifest(dataset: dataset, stages: model.stages, weights: weightsName, featuresFolder: saveFeatures).write(to: folder)
        return computed
    }

    func write(_ frame: FrameRecord, _ window: FeatureWindow) throws {
        let c = window.current
        let result = try model.forward(previous: window.previous.values, current: c.values, next: window.next.values, height: c.height, width: c.width)
        let size = ImageSize(height: c.height * featureStride, width: c.width * featureStride)
        for stage in model.stages {
            let (labels, confidence) = upsampledPrediction(logits: result.logits(stage)!, classes: model.classes,
                                                           height: c.height, width: c.width, factor: featureStride)
            let map = ConfidenceMap(width: size.width, height: size.height, values: confidence)
            try PNG.write(PNGImage(width: size.width, height: size.height, colorType: .gray, bitDepth: 8, samples: .eight(labels)),
                          to: "\(folder)/\(Self.predictionFolder(stage))/\(frame.key).png", compressionLevel: compact ? 9 : 1)
            try PNG.write(compact ? map.subsampled(by: 2).png(bitDepth: 8) : map.png(),
                          to: "\(folder)/\(Self.confidenceFolder(stage))/\(frame.key).png", compressionLevel: compact ? 9 : 1)
        }
    }
}
