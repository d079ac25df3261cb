import Dispatch
import SegDataset
import SegEngine
import SegFormats
import SegRuns
import Synchronization

/// A window ready for per-token queries: its frames T-1, T, T+1 (global indices and keys; at a sequence's ends
/// T stands in, as `Dataset.slidingWindow` has it for infer) and STF run once over their features.
public struct ExplainWindow: Sendable {
    public let frames: [Int]
    public let keys: [String]
    public let context: ExplainContext
}

/// Where the explain view's model and features come from, and the one window it keeps: built off the UI
/// thread, for the current frame only (the context holds about 18*H*W*C floats, 1.2 GB at the release's
/// size). Features are read from the frame's npy, or computed from its image when the weights have a
/// backbone, and kept in the frame cache (within --cache-mb).
public final class ExplainSource: Sendable {
    public static let needsWeights =
        "explain needs --weights W (STF/MAR weights), or weights = \"W\" in segscope.toml"

    /// `folder`: the dataset's features folder, which then lacks the frame's.
    public static func needsFeatures(_ key: String, folder: String? = nil) -> String {
        guard let folder else { return "no features for frame \(key): give --features DIR, or weights with a backbone" }
        return "no features for frame \(key) in \(folder), and the weights have no backbone to compute them"
    }

    public let weights: String?
    private let dataset: Dataset
    private let cache: FrameCache
    private struct State {
        var model: Result<Model, Unavailable>?
        var wanted: ViewState.FramePosition?
        var built: (at: ViewState.FramePosition, result: Result<ExplainWindow, Unavailable>)?
        var progress: String?
        var running = false
    }
    private let state = Mutex(State())
    private let queue = DispatchQueue(label: "segscope.explain", qos: .userInitiated)
    private let loading = Mutex(())

    public init(weights: String?, dataset: Dataset, cache: FrameCache) {
        (self.weights, self.dataset, self.cache) = (weights, dataset, cache)
    }

    /// What the background work is doing ("explain: running STF over …"), nil when idle.
    public var progress: String? { state.withLock { $0.progress } }

    /// The window of the frame at `at`; nil while it is built in the background (asking starts it).
    /// `blocking` builds it on this thread (render, tests). Asking for another frame drops the kept window
    /// first, so two contexts never live at once.
    public func window(at: ViewState.FramePosition, blocking: Bool) -> Result<ExplainWindow, Unavailable>? {
        guard weights != nil else { return .failure(Unavailable(Self.needsWeights)) }
        if blocking {
            if let built = state.withLock({ $0.built }), built.at == at { return built.result }
            state.withLock { $0.built = nil }
            let result = build(at)
            state.withLock {
                $0.built = (at, result)
                $0.progress = nil
            }
            return result
        }
        let (ready, start) = state.withLock { s -> (Result<ExplainWindow, Unavailable>?, Bool) in
            if let built = s.built, built.at == at { return (built.result, false) }
            s.built = nil
            s.wanted = at
            guard !s.running else { return (nil, false) }
            s.running = true
            return (nil, true)
        }
        if start { queue.async { [self] in buildWanted() } }
        return ready
    }

    /// Drops the kept window (the view was turned off): its memory is not held for a view not shown.
    public func release() {
        state.withLock { s in
            s.built = nil
            s.wanted = nil
        }
    }

    /// Builds the wanted window until no newer one is wanted; a window that stopped being wanted while it
    /// was built is dropped.
    private func buildWanted() {
        while true {
            let next = state.withLock { s -> ViewState.FramePosition? in
                guard let wanted = s.wanted, s.built?.at != wanted else {
                    s.running = false
                    s.progress = nil
                    return nil
                }
                return wanted
            }
            guard let at = next else { return }
            let result = build(at)
            state.withLock { s in if s.wanted == at { s.built = (at, result) } }
        }
    }

    private func report(_ text: String) { state.withLock { $0.progress = text } }

    private func build(_ at: ViewState.FramePosition) -> Result<ExplainWindow, Unavailable> {
        do {
            let model = try loadedModel()
            let window = try windowFeatures(at, model) { report("explain: " + $0) }
            report("explain: running STF over \(window.keys.joined(separator: ", "))…")
            let context = try ExplainContext(
                model: model, previous: window.maps[0].values, current: window.maps[1].values,
                next: window.maps[2].values, height: window.maps[1].height, width: window.maps[1].width,
                input: window.name)
            return .success(ExplainWindow(frames: window.indices, keys: window.keys, context: context))
        } catch let reason as Unavailable {
            return .failure(reason)
        } catch {
            return .failure(Unavailable(oneLine("\(error)")))
        }
    }

    /// The feature maps of the window of the frame at `at` (T-1, T, T+1 as infer takes them), their frames'
    /// global indices and keys, and the file T's features came from (for errors).
    func windowFeatures(_ at: ViewState.FramePosition, _ model: Model, report: (String) -> Void) throws -> (
        maps: [FeatureMap], indices: [Int], keys: [String], name: String
    ) {
        let sequence = dataset.sequences[at.sequence]
        let record = sequence.frames[at.frame]
        let covered = sequence.frames.filter { $0.features != nil || (model.backbone != nil && $0.image != nil) }
        guard let i = covered.firstIndex(where: { $0.key == record.key }) else {
            throw Unavailable(Self.needsFeatures(record.key, folder: dataset.featuresFolder))
        }
        let (previous, next) = Dataset.slidingWindow(covered, i)
        let members = [previous, record, next]
        let first = dataset.sequences.prefix(at.sequence).reduce(0) { $0 + $1.frames.count }
        let indices = members.map { member in first + sequence.frames.firstIndex { $0.key == member.key }! }
        var maps: [FeatureMap] = []
        for (member, index) in zip(members, indices) {
            maps.append(try features(member, index: index, model, report: report))
        }
        let name = { (k: Int) in members[k].features ?? members[k].image ?? members[k].key }
        for k in [1, 0, 2] where maps[k].channels != model.channels {
            throw Unavailable(
                "\(name(k)): features have \(maps[k].channels) channels, \(model.path) expects \(model.channels)")
        }
        for k in [0, 2] where maps[k].height != maps[1].height || maps[k].width != maps[1].width {
            throw Unavailable("\(name(k)): features \(maps[k].shapeText) differ from \(name(1)) \(maps[1].shapeText)")
        }
        return (maps, indices, members.map(\.key), name(1))
    }

    /// Whether the frame at `at` has features, or an image the weights' backbone can make them from.
    func hasFeatures(_ at: ViewState.FramePosition, _ model: Model) -> Bool {
        let record = dataset.sequences[at.sequence].frames[at.frame]
        return record.features != nil || (model.backbone != nil && record.image != nil)
    }

    /// The weights, loaded once (the explain view and the fixed/broken panel share them).
    func loadedModel() throws -> Model {
        // Held while loading, so two threads asking at once do not both read the weights.
        try loading.withLock { _ throws -> Model in
            if let model = state.withLock({ $0.model }) { return try model.get() }
            guard let weights else { throw Unavailable(Self.needsWeights) }
            let loadingText = "explain: loading \(weights)…"
            report(loadingText)
            let model: Result<Model, Unavailable>
            do { model = .success(try Model.load(path: weights)) } catch {
                model = .failure(Unavailable(oneLine("\(error)")))
            }
            state.withLock { s in
                s.model = model
                // Loaded for the fixed/broken panel, no window being built: the explain view is not left saying so.
                if s.progress == loadingText { s.progress = nil }
            }
            return try model.get()
        }
    }

    /// A frame's features: kept ones, else its npy, else its image through the backbone (`report` says which).
    private func features(
        _ frame: FrameRecord, index: Int, _ model: Model, report: (String) -> Void
    ) throws -> FeatureMap {
        if let kept = cache.features(index) { return kept }
        let map: FeatureMap
        if frame.features != nil {
            report("reading the features of \(frame.key)…")
            map = try FeatureSource.files.features(frame)
        } else if let backbone = model.backbone {
            report("features of \(frame.key) through the backbone…")
            map = try FeatureSource.backbone(backbone, FrameLoader(dataset: dataset), saveTo: nil).features(frame)
        } else {
            throw Unavailable(Self.needsFeatures(frame.key, folder: dataset.featuresFolder))
        }
        cache.storeFeatures(index, map)
        return map
    }
}
