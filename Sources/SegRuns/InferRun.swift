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
            throw RunError(
                "\(weightsName): \(model.classes) classes, but the label space \(dataset.space.name) has \(dataset.space.count)"
            )
        }
        (self.model, self.dataset, self.folder, self.weightsName) = (model, dataset, folder, weightsName)
    }

    public static func predictionFolder(_ stage: Stage) -> String { "pred/\(stage.rawValue)" }
    public static func confidenceFolder(_ stage: Stage) -> String { "conf/\(stage.rawValue)" }

    func outputs(_ frame: FrameRecord) -> [String] {
        model.stages.flatMap {
            [
                "\(folder)/\(Self.predictionFolder($0))/\(frame.key).png",
                "\(folder)/\(Self.confidenceFolder($0))/\(frame.key).png",
            ]
        }
    }

    /// Runs every frame not yet written, then writes the manifest. Returns the
    /// number of frames computed in this call.
    @discardableResult
    public func run(observer: WorkObserver = .silent) throws -> Int {
        let fm = FileManager.default
        for stage in model.stages {
            try fm.createDirectory(
                atPath: "\(folder)/\(Self.predictionFolder(stage))", withIntermediateDirectories: true)
            try fm.createDirectory(
                atPath: "\(folder)/\(Self.confidenceFolder(stage))", withIntermediateDirectories: true)
        }
        guard !dataset.frames.isEmpty else {
            throw RunError(
                "\(dataset.root): no frame to run in this part of the dataset "
                    + "(a --shard K/N holds none when K is not below the number of sequences)")
        }
        let source = try FeatureSource.choose(model: model, data: dataset, saveFeatures: saveFeatures)
        if let saveFeatures { try fm.createDirectory(atPath: saveFeatures, withIntermediateDirectories: true) }
        let work = dataset.sequences.map { $0.frames.filter(source.covers) }
        func written(_ frame: FrameRecord) -> Bool { !labelledOnly || frame.groundTruth != nil }
        let total = work.reduce(0) { $0 + $1.filter(written).count }
        guard total > 0 else {
            throw RunError(
                "\(dataset.root): no frame has \(labelledOnly ? "ground truth and " : "")\(source.isFiles ? "features (give --features DIR)" : "an image")"
            )
        }
        var done = 0
        var computed = 0
        for frames in work {
            var windows = FeatureWindows(frames: frames, channels: model.channels, source: source)
            for (i, frame) in frames.enumerated() where written(frame) {
                if observer.cancelled() {
                    throw RunError("interrupted; \(done) of \(total) frames written, run again to resume")
                }
                if !finished(frame) {
                    let window = try windows.window(i)
                    let (previous, next) = Dataset.slidingWindow(frames, i)
                    try write(frame, window, neighbours: [previous, next])
                    computed += 1
                }
                done += 1
                observer.progress(done, total)
            }
        }
        try RunManifest(dataset: dataset, stages: model.stages, weights: weightsName, featuresFolder: saveFeatures)
            .write(to: folder)
        return computed
    }

    /// Whether a frame's outputs were all written in full: each decodes as a whole PNG (a zero-byte or
    /// truncated file, from a copy or a disk that filled up, does not), and the predictions agree in size.
    func finished(_ frame: FrameRecord) -> Bool {
        var sizes = Set<[Int]>()
        for (i, path) in outputs(frame).enumerated() {
            guard let png = try? PNG.read(path: path), png.colorType == .gray else { return false }
            if i % 2 == 0 { sizes.insert([png.width, png.height]) }
        }
        return sizes.count == 1
    }

    func write(_ frame: FrameRecord, _ window: FeatureWindow, neighbours: [FrameRecord]) throws {
        let c = window.current
        let result: Model.Outputs
        do {
            result = try model.forward(
                previous: window.previous.values, current: c.values, next: window.next.values,
                height: c.height, width: c.width, input: frame.features ?? frame.image ?? frame.key)
        } catch ModelError.nonFiniteOutput(_, let stage, _, let value) {
            // Named: the window's frame with the largest feature, the likely cause.
            let members = [(neighbours[0], window.previous), (frame, window.current), (neighbours[1], window.next)]
            let largest = members.max { $0.1.largestMagnitude < $1.1.largestMagnitude }!
            let source = largest.0.features ?? largest.0.image ?? largest.0.key
            throw RunError(
                "\(source): features up to \(largest.1.largestMagnitude) make the \(stage) "
                    + "of \(frame.key) \(value) (float32 overflows); features must be far smaller")
        }
        let size = ImageSize(height: c.height * featureStride, width: c.width * featureStride)
        for stage in model.stages {
            // Keys of nested layouts (VSPW's <video>/<frame>) need their folder under every stage.
            for file in [
                "\(folder)/\(Self.predictionFolder(stage))/\(frame.key)",
                "\(folder)/\(Self.confidenceFolder(stage))/\(frame.key)",
            ] {
                try FileManager.default.createDirectory(
                    atPath: FileName.parent(of: file),
                    withIntermediateDirectories: true)
            }
            let logits = result.logits(stage)!
            let (labels, confidence) = upsampledPrediction(
                logits: logits, classes: model.classes,
                height: c.height, width: c.width, factor: featureStride)
            let map = ConfidenceMap(width: size.width, height: size.height, values: confidence)
            try PNG.write(
                PNGImage(
                    width: size.width, height: size.height, colorType: .gray, bitDepth: 8, samples: .eight(labels)),
                to: "\(folder)/\(Self.predictionFolder(stage))/\(frame.key).png", compressionLevel: compact ? 9 : 1)
            try PNG.write(
                compact ? map.subsampled(by: 2).png(bitDepth: 8) : map.png(),
                to: "\(folder)/\(Self.confidenceFolder(stage))/\(frame.key).png", compressionLevel: compact ? 9 : 1)
        }
    }
}
