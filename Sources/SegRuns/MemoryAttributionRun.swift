import SegDataset
import SegEngine
import SegFormats
import SegLabels

extension MemoryAttribution {
    /// The fixed/broken table over a scope of `data` (the frames whose keys are in `keys`; nil: every
    /// frame): each frame with ground truth through the model on its STF window, taken as infer takes it
    /// (Dataset.slidingWindow over its sequence's frames that have features, or images for the backbone),
    /// the frames' tables merged. Frames of the scope without ground truth, and those with ground truth but
    /// neither features nor image, are skipped and counted apart (a scope of frames without ground truth gives
    /// an empty table that says so); a scope whose labelled frames all lack features is an error naming the
    /// first.
    public static func run(
        model: Model, data: Dataset, keys: Set<String>?, bandWidth: Int = 3, reference: Stage? = nil,
        observer: WorkObserver = .silent
    ) throws -> MemoryAttribution {
        guard model.classes == data.space.count else {
            throw RunError(
                "\(model.path): \(model.classes) classes, but the label space \(data.space.name) has "
                    + "\(data.space.count)")
        }
        let reference = try checkedReference(model, reference)
        let source = try FeatureSource.choose(model: model, data: data, saveFeatures: nil)
        let loader = FrameLoader(dataset: data)
        var table = MemoryAttribution(classes: model.classes, bandWidth: bandWidth, reference: reference)
        let inScope = { (frame: FrameRecord) in keys?.contains(frame.key) ?? true }
        guard data.frames.contains(where: inScope) else { throw RunError("\(data.root): no frame in the scope") }
        let total = data.frames.filter { inScope($0) && $0.groundTruth != nil }.count
        var done = 0
        var firstWithoutFeatures: String?
        for sequence in data.sequences {
            let covered = sequence.frames.filter(source.covers)
            var windows = FeatureWindows(frames: covered, channels: model.channels, source: source)
            for frame in sequence.frames where inScope(frame) {
                guard let truthPath = frame.groundTruth else {
                    table.countSkippedFrame()
                    continue
                }
                if observer.cancelled() { throw RunError("interrupted; nothing was written") }
                guard let i = covered.firstIndex(of: frame) else {
                    table.countFrameWithoutFeatures()
                    firstWithoutFeatures = firstWithoutFeatures ?? frame.key
                    continue
                }
                let window = try windows.window(i)
                let truth = try loader.groundTruth(frame)!
                try checkSize(truth.map, window.current, input: truthPath)
                try table.merge(
                    MemoryAttribution.frame(
                        model: model, previous: window.previous, current: window.current, next: window.next,
                        groundTruth: truth.map, bandWidth: bandWidth, reference: reference,
                        input: frame.features ?? frame.image ?? frame.key))
                done += 1
                observer.progress(done, total)
            }
        }
        if table.frames == 0, let key = firstWithoutFeatures {
            throw RunError(
                "\(data.root): no frame of the scope with ground truth has "
                    + (source.isFiles ? "features" : "an image") + " (the first: \(key))")
        }
        return table
    }
}
