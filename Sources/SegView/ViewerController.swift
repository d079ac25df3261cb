import Foundation
import SegDataset
import SegEngine
import SegEval
import SegLabels

/// The viewer's logic: keys run the actions of the key table (each unit
/// brings its rows), the state and the cache make a `ViewModel`. No
/// terminal here, so it is driven the same way by the ncurses screen, by
/// `render` and by tests.
public final class ViewerController {
    public let dataset: Dataset
    public let theme: Theme
    public let cache: FrameCache
    public let statistics: SequenceStatistics
    public let suspectStatistics: SuspectStatistics
    public let temporalStatistics: TemporalStatistics
    public let boundaryStatistics = BoundaryStatistics()
    public let scopeMetricStatistics: ScopeMetricStatistics
    /// The explain view's weights, features and window (built in the background).
    public let explainSource: ExplainSource
    /// The fixed/broken panel's per-frame tables (with the explain view's model and features).
    public let attributionStore: MemoryAttributionStore
    public internal(set) var state = ViewState()
    public internal(set) var bookmarks: Bookmarks
    public var screenSize = (width: 200, height: 60)
    /// Set by whoever changes what is shown; the screen loop clears it after painting.
    public var stateChanged = true
    /// Headless use waits for what the interactive viewer computes in the background.
    public var blocking = false
    /// Marks get glyphs of their own where colours are not shown (NO_COLOR, dumb terminals).
    public var markGlyphs = ColorDepth.detect() == .monochrome

    let hasGroundTruth: Bool
    let hasImages: Bool
    var lastAdvance = Date()
    /// The worst-frame or suspect ranking being stepped through (Rankings).
    var ranking: RankingCursor?
    /// The layout of the last painted screen: clicks are hit-tested against what was drawn.
    var paintedLayout: ScreenLayout?
    /// What the last paint drew from, so a paint is skipped when nothing visible changed.
    var paintedInputs: PaintInputs?
    /// Analyses cached by what they were computed from (mark layers, scope figures).
    var markCache: (key: MarkKey, layer: Result<MarkLayer, Unavailable>)?
    var scopeCache: (key: ScopeKey, figures: ScopeFigures)?
    var scopeMetricsCache: (key: ScopeKey, figures: ScopeMetricFigures)?
    var highlightCache: (frame: Int, highlight: ViewState.Highlight, marks: [UInt8])?
    /// The explanation of the cursor's token in the kept window.
    var explainCache: (at: ViewState.FramePosition, y: Int, x: Int, result: Result<PixelExplanation, Unavailable>)?

    /// `weights`: STF/MAR weights for the explain view (default: the dataset manifest's `weights`).
    public init(
        dataset: Dataset, theme: Theme, cacheBytes: Int = 512 << 20, bookmarksPath: String? = nil,
        weights: String? = nil
    ) throws {
        self.dataset = dataset
        self.theme = theme
        cache = FrameCache(dataset: dataset, budgetBytes: cacheBytes)
        explainSource = ExplainSource(weights: weights ?? dataset.weights, dataset: dataset, cache: cache)
        attributionStore = MemoryAttributionStore(source: explainSource, dataset: dataset)
        statistics = SequenceStatistics(dataset: dataset)
        suspectStatistics = SuspectStatistics(dataset: dataset)
        temporalStatistics = TemporalStatistics(dataset: dataset)
        scopeMetricStatistics = ScopeMetricStatistics(dataset: dataset)
        hasGroundTruth = dataset.frames.contains { $0.groundTruth != nil }
        hasImages = dataset.frames.contains { $0.image != nil }
        let path = bookmarksPath ?? dataset.bookmarksPath
        bookmarks = Bookmarks.loadKeepingMalformed(path: path)
        state.methods.reference = dataset.reference ?? dataset.methods.first
        state.methods.compared = dataset.methods.last { $0 != state.methods.reference }
        if let problem = bookmarks.unreadable {
            state.message = "bookmarks not loaded (file left untouched): \(problem)"
        }
    }

    /// Opens at a frame named as `Dataset.locate` reads names; false if there is none.
    public func open(frame text: String) -> Bool {
        guard let (s, f) = dataset.locate(text) else { return false }
        go(sequence: s, frame: f)
        return true
    }

    public func setLayout(_ layout: ViewState.Layout) { state.panes.layout = layout }

    var sequence: SequenceRecord { dataset.sequences[state.sequence] }

    /// Global index of frame `f` of sequence `s` (the cache's key).
    func globalIndex(sequence s: Int, frame f: Int) -> Int {
        dataset.sequences.prefix(s).reduce(0) { $0 + $1.frames.count } + f
    }

    /// Global index of the current frame.
    public var frameIndex: Int { globalIndex(sequence: state.sequence, frame: state.frame) }

    public func go(sequence s: Int, frame f: Int) {
        state.sequence = max(0, min(dataset.sequences.count - 1, s))
        state.frame = max(0, min(sequence.frames.count - 1, f))
        cache.request(frameIndex)
    }

    /// Neighbours are decoded only once the current frame is, so they never
    /// compete with the frame the user is waiting for.
    func prefetch() {
        for offset in [1, -1, 2] { cache.request(frameIndex + offset) }
    }

    var currentKey: String { sequence.frames[state.frame].key }

    // MARK: the model

    /// What the compositor draws: the state, the loaded frame, and what the
    /// units computed from them (mark layers, scope figures, sparklines).
    public func model(blocking: Bool = false) -> ViewModel {
        let blocking = blocking || self.blocking
        // A ranking asked for while its figures computed jumps once they are ready.
        if ranking != nil && ranking?.order == nil { Rankings.resume(self) }
        let frame = blocking ? cache.load(frameIndex) : cache.frame(frameIndex)
        if frame != nil { prefetch() }
        var model = ViewModel(
            state: state, theme: theme, sequenceNames: dataset.sequences.map(\.name),
            frameKeys: sequence.frames.map(\.key), methods: dataset.methods, reference: dataset.reference,
            hasGroundTruth: hasGroundTruth, hasImages: hasImages)
        model.frame = frame
        model.loading = frame == nil
        model.markGlyphs = markGlyphs
        model.bookmarkedFrames = bookmarks.keys
        FlickerMode.load(into: &model, controller: self, blocking: blocking)
        Sparklines.load(into: &model, controller: self, blocking: blocking)
        IoUPanel.load(into: &model, controller: self, blocking: blocking)
        ScopeUnit.load(into: &model, controller: self, blocking: blocking)
        ScopeMetrics.load(into: &model, controller: self, blocking: blocking)
        ExplainView.load(into: &model, controller: self, blocking: blocking)
        MemoryAttributionPanel.load(into: &model, controller: self, blocking: blocking)
        analyzeMarks(&model)
        return model
    }

    /// The mark layer of the current mode, computed once per frame and settings.
    func analyzeMarks(_ model: inout ViewModel) {
        guard let frame = model.frame else { return }
        if let h = state.highlight, let cached = highlightCache, cached.frame == frameIndex, cached.highlight == h {
            model.highlightMarks = cached.marks
        } else {
            model.analyzeHighlight(frame: frame)
            if let h = state.highlight, let marks = model.highlightMarks { highlightCache = (frameIndex, h, marks) }
        }
        guard let pane = model.modePane else { return }
        let key = MarkKey(frame: frameIndex, state: MarkSettings(state), pane: pane, nextLoaded: model.nextFrame != nil)
        if let cached = markCache, cached.key == key {
            model.markLayer = cached.layer
        } else {
            model.analyze(frame: frame)
            if let layer = model.markLayer { markCache = (key, layer) }
        }
    }

    // MARK: keys

    /// Whether `key` does something now (`render --keys` refuses the rest).
    public func accepts(_ key: Key) -> Bool { KeyBindings.binding(for: key, in: state) != nil }

    @discardableResult
    public func handle(_ key: Key) -> Reaction {
        let before = state
        state.message = nil
        guard
            let binding = KeyBindings.binding(
                for: key,
                in: state)
        else { return before == state ? .unchanged : .redraw }
        var reaction = binding.action.run(self, key)
        if reaction == .unchanged && state != before { reaction = .redraw }
        if reaction == .redraw { stateChanged = true }
        return reaction
    }

    // MARK: painting

    /// The screen for the current state at `width` x `height`, or nil when
    /// nothing visible changed since the last paint (the state, the size,
    /// or something computed in the background arriving).
    public func paintIfChanged(width: Int, height: Int) -> CellGrid? {
        let model = model()
        let inputs = PaintInputs(model: model, width: width, height: height)
        guard stateChanged || inputs != paintedInputs else { return nil }
        return paint(model, inputs: inputs)
    }

    /// The screen for the current state (always drawn).
    public func paint(width: Int, height: Int) -> CellGrid {
        let model = model()
        return paint(model, inputs: PaintInputs(model: model, width: width, height: height))
    }

    func paint(_ model: ViewModel, inputs: PaintInputs) -> CellGrid {
        let compositor = Compositor(model: model, width: inputs.width, height: inputs.height)
        let layout = compositor.layout()
        paintedLayout = layout
        paintedInputs = inputs
        stateChanged = false
        return compositor.compose(layout: layout)
    }

    /// Advances playback; returns true if the frame changed.
    public func tick(now: Date = Date()) -> Bool {
        guard state.playback.playing, now.timeIntervalSince(lastAdvance) >= 1 / state.playback.fps else { return false }
        // Wait for the next frame rather than skipping past undecoded ones.
        guard cache.frame(frameIndex) != nil else { return false }
        lastAdvance = now
        Navigation.step(self, 1)
        return true
    }
}

/// What a paint depends on besides the state: the size and which
/// background results have arrived. Equal inputs draw the same screen.
struct PaintInputs: Equatable {
    let state: ViewState
    let width: Int, height: Int
    let arrived: [Bool]
    let sparklines: Int
    /// The explain view's progress, whether its explanation arrived, and how many window frames are decoded.
    let explain: String
    /// The fixed/broken panel's progress and whether its table arrived.
    let attribution: String

    init(model: ViewModel, width: Int, height: Int) {
        state = model.state
        self.width = width
        self.height = height
        arrived = [
            model.frame != nil, model.scope != nil, model.temporal != nil, model.frameBoundary != nil,
            model.nextFrame != nil, model.markLayer != nil, model.scopeProgress == nil,
            model.scopeMetrics != nil,
        ]
        sparklines = model.sparkline.count
        explain =
            model.explain.map {
                "\($0.progress ?? "")|\($0.result != nil)|\($0.frames.filter { $0 != nil }.count)"
            } ?? ""
        attribution = model.attribution.map { "\($0.progress ?? "")|\($0.needs ?? "")|\($0.table != nil)" } ?? ""
    }
}
