import SegDataset
import SegEngine
import SegFormats
import SegLabels

/// Where frames' features come from: their npy files, or the backbone run
/// on their images (optionally kept as float16 npy for train and memory build).
public enum FeatureSource {
    case files
    case backbone(PSPNetBackbone, FrameLoader, saveTo: String?)

    /// The source for `model` over `data`: files when the dataset has
    /// features, else the model's backbone on the frames' images.
    public static func choose(model: Model, data: Dataset, saveFeatures: String?) throws -> FeatureSource {
        if data.frames.contains(where: { $0.features != nil }) {
            if let saveFeatures {
                throw RunError(
                    "\(saveFeatures): --save-features needs a dataset without features (these are computed from the frames)"
                )
            }
            return .files
        }
        guard let backbone = model.backbone else {
            throw RunError(
                "\(data.root): no frame has features and \(model.path) has no backbone (pspnet.backbone.* or backbone.*): give --features DIR or weights with a backbone"
            )
        }
        guard data.frames.contains(where: { $0.image != nil }) else {
            throw RunError("\(data.root): no frame has an image or features")
        }
        return .backbone(backbone, FrameLoader(dataset: data), saveTo: saveFeatures)
    }

    public var isFiles: Bool {
        if case .files = self { return true }
        return false
    }

    /// Whether `frame` can be given features by this source.
    public func covers(_ frame: FrameRecord) -> Bool {
        switch self {
        case .files: return frame.features != nil
        case .backbone: return frame.image != nil
        }
    }

    public func features(_ frame: FrameRecord) throws -> FeatureMap {
        switch self {
        case .files:
            guard let path = frame.features else { throw RunError("\(frame.key): no features") }
            return try FeatureMap.read(path: path)
        case .backbone(let backbone, let loader, let folder):
            guard let path = frame.image, let image = try loader.image(frame) else {
                throw RunError("\(frame.key): no image")
            }
            guard image.height % featureStride == 0, image.width % featureStride == 0 else {
                throw RunError(
                    "\(path): \(image.width)x\(image.height) is not a multiple of \(featureStride) in both directions")
            }
            let (h, w) = (image.height / featureStride, image.width / featureStride)
            let map = FeatureMap(
                values: backbone.features(rgb: image.rgb, height: image.height, width: image.width),
                channels: backbone.channels, height: h, width: w)
            if let folder {
                try Npy.write(
                    map.values.map { Float16($0) }, shape: [map.channels, h, w], to: "\(folder)/\(frame.key).npy")
            }
            return map
        }
    }
}

/// Features of STF windows along one sequence's frames, each frame's read
/// (or computed) once although every frame is part of three windows (only
/// the current window's frames are kept).
public struct FeatureWindows {
    public let frames: [FrameRecord]
    public let channels: Int
    public let source: FeatureSource
    private var loaded: [String: FeatureMap] = [:]

    /// `frames`: one sequence's frames that the source covers, in order.
    public init(frames: [FrameRecord], channels: Int, source: FeatureSource = .files) {
        self.frames = frames
        self.channels = channels
        self.source = source
    }

    /// T-1, T, T+1 of frame i (Dataset.slidingWindow), checked against the model and each other.
    public mutating func window(_ i: Int) throws -> FeatureWindow {
        let (previous, next) = Dataset.slidingWindow(frames, i)
        let keys = Set([previous.key, frames[i].key, next.key])
        loaded = loaded.filter { keys.contains($0.key) }
        for frame in [previous, frames[i], next] where loaded[frame.key] == nil {
            loaded[frame.key] = try source.features(frame)
        }
        let members = [previous, frames[i], next]
        let maps = members.map { loaded[$0.key]! }
        if let odd = FeatureMap.oddOneOut(maps, channels: channels) {
            let name = { (k: Int) in members[k].features ?? members[k].image ?? members[k].key }
            let others = (0..<3).filter { !maps[$0].sameShape(maps[odd]) }
                .map { "\(name($0)) \(maps[$0].shapeText)" }.joined(separator: " and ")
            throw RunError(
                "\(name(odd)): features \(maps[odd].shapeText) "
                    + (maps[odd].channels != channels
                        ? "do not have the model's \(channels) channels"
                        : "differ from the neighbouring \(others)"))
        }
        return FeatureWindow(previous: maps[0], current: maps[1], next: maps[2])
    }
}

/// Every frame with ground truth and features (from files or the
/// backbone), in sequence order, with its STF window and its ground truth
/// checked to be `featureStride` times the features: what memory building
/// and training read.
public struct LabelledWindows {
    public let data: Dataset
    public let source: FeatureSource
    public let sequences: [[FrameRecord]]
    /// Frames with both ground truth and features.
    public let total: Int

    public init(_ data: Dataset, source: FeatureSource = .files) throws {
        self.data = data
        self.source = source
        sequences = data.sequences.map { $0.frames.filter(source.covers) }
        total = sequences.reduce(0) { $0 + $1.filter { $0.groundTruth != nil }.count }
        guard total > 0 else {
            throw RunError(
                "\(data.root): no frame has both ground truth and features (give --features DIR, or weights with a backbone)"
            )
        }
    }

    /// Calls `body` for each such frame in order; `channels` nil takes the
    /// first file's. Stops with an error when the observer cancels (callers
    /// write nothing before the end).
    public func forEach(
        channels: Int?, observer: WorkObserver, _ body: (FrameRecord, FeatureWindow, LabelMap) throws -> Void
    ) throws {
        let loader = FrameLoader(dataset: data)
        var channels = channels
        for frames in sequences {
            var windows: FeatureWindows?
            for (i, frame) in frames.enumerated() where frame.groundTruth != nil {
                if observer.cancelled() { throw RunError("interrupted; nothing was written") }
                if windows == nil {
                    if channels == nil { channels = try source.features(frame).channels }
                    windows = FeatureWindows(frames: frames, channels: channels!, source: source)
                }
                let window = try windows!.window(i)
                let gt = try loader.groundTruth(frame)!.map
                let c = window.current
                guard gt.width == featureStride * c.width, gt.height == featureStride * c.height else {
                    throw RunError(
                        "\(frame.groundTruth!): ground truth \(gt.width)x\(gt.height) is not \(featureStride)x the features (\(c.width)x\(c.height))"
                    )
                }
                try body(frame, window, gt)
            }
        }
    }
}
