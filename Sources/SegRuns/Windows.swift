import SegDataset
import SegEngine
import SegFormats
import SegLabels

/// Features of STF windows along one sequence's frames, each file read once
/// although every frame is part of three windows (only the current window's
/// frames are kept).
public struct FeatureWindows {
    public let frames: [FrameRecord]
    public let channels: Int
    private var loaded: [String: FeatureMap] = [:]

    /// `frames`: one sequence's frames that have features, in order.
    public init(frames: [FrameRecord], channels: Int) {
        self.frames = frames
        self.channels = channels
    }

    /// T-1, T, T+1 of frame i (Dataset.slidingWindow), checked against the model and each other.
    public mutating func window(_ i: Int) throws -> FeatureWindow {
        let (previous, next) = Dataset.slidingWindow(frames, i)
        let keys = Set([previous.key, frames[i].key, next.key])
        loaded = loaded.filter { keys.contains($0.key) }
        for frame in [previous, frames[i], next] where loaded[frame.key] == nil {
            guard let path = frame.features else { throw RunError("\(frame.key): no features") }
            loaded[frame.key] = try FeatureMap.read(path: path)
        }
        let window = FeatureWindow(previous: loaded[previous.key]!, current: loaded[frames[i].key]!, next: loaded[next.key]!)
        guard window.current.channels == channels, window.previous.sameShape(window.current), window.next.sameShape(window.current) else {
            throw RunError("\(frames[i].features!): features \(window.current.shapeText) do not match the model (\(channels) channels) or the neighbouring frames")
        }
        return window
    }
}

/// Every frame with ground truth and features, in sequence order, with its
/// STF window and its ground truth checked to be `featureStride` times the
/// features: what memory building and training read.
public struct LabelledWindows {
    public let data: Dataset
    public let sequences: [[FrameRecord]]
    /// Frames with both ground truth and features.
    public let total: Int

    public init(_ data: Dataset) throws {
        self.data = data
        sequences = data.sequences.map { $0.frames.filter { $0.features != nil } }
        total = sequences.reduce(0) { $0 + $1.filter { $0.groundTruth != nil }.count }
        guard total > 0 else { throw RunError("\(data.root): no frame has both ground truth and features (give --features DIR)") }
    }

    /// Calls `body` for each such frame in order; `channels` nil takes the
    /// first file's. Stops with an error when the observer cancels (callers
    /// write nothing before the end).
    public func forEach(channels: Int?, observer: WorkObserver, _ body: (FrameRecord, FeatureWindow, LabelMap) throws -> Void) throws {
        let loader = FrameLoader(dataset: data)
        var channels = channels
        for frames in sequences {
            var windows: FeatureWindows?
            for (i, frame) in frames.enumerated() where frame.groundTruth != nil {
                if observer.cancelled() { throw RunError("interrupted; nothing was written") }
                if channels == nil { channels = try FeatureMap.read(path: frame.features!).channels }
                if windows == nil { windows = FeatureWindows(frames: frames, channels: channels!) }
                let window = try windows!.window(i)
                let gt = try loader.groundTruth(frame)!.map
                let c = window.current
                guard gt.width == featureStride * c.width, gt.height == featureStride * c.height else {
                    throw RunError("\(frame.groundTruth!): ground truth \(gt.width)x\(gt.height) is not \(featureStride)x the features (\(c.width)x\(c.height))")
                }
                try body(frame, window, gt)
            }
        }
    }
}
