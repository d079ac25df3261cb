import Foundation
import SegDataset
import SegEval
import SegLabels

/// A key press, independent of the terminal library.
public enum Key: Equatable, Sendable {
    case character(Character)
    case left, right, up, down, pageUp, pageDown, home, end
    case enter, escape, backspace, tab
    case click(column: Int, row: Int)
}

/// The viewer's logic: keys change the state, the state and the cache make a
/// `ViewModel`. No terminal here, so it is driven the same way by the
/// ncurses screen, by `render` and by tests.
public final class ViewerController {
    public let dataset: Dataset
    public let theme: Theme
    public let cache: FrameCache
    public let statistics: SequenceStatistics
    public private(set) var state = ViewState()
    public private(set) var bookmarks: Bookmarks
    public var screenSize = (width: 200, height: 60)
    /// Set by whoever changes what is shown; the screen loop clears it after painting.
    public var stateChanged = true
    private var lastAdvance = Date()

    public init(dataset: Dataset, theme: Theme, cacheBytes: Int = 512 << 20, bookmarksPath: String? = nil) throws {
        self.dataset = dataset
        self.theme = theme
        cache = FrameCache(dataset: dataset, budgetBytes: cacheBytes)
        statistics = SequenceStatistics(dataset: dataset)
        bookmarks = try Bookmarks.load(path: bookmarksPath ?? dataset.bookmarksPath)
        state.compared = dataset.methods.last { $0 != dataset.reference }
    }

    var sequence: SequenceRecord { dataset.sequences[state.sequence] }

    /// Global index of the current frame (the cache's key).
    public var frameIndex: Int {
        dataset.sequences.prefix(state.sequence).reduce(0) { $0 + $1.frames.count } + state.frame
    }

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

    // MARK: the model

    public func model(blocking: Bool = false) -> ViewModel {
        let frame = blocking ? cache.load(frameIndex) : cache.frame(frameIndex)
        if frame != nil { prefetch() }
        var model = ViewModel(state: state, theme: theme, sequenceNames: dataset.sequences.map(\.name),
                              frameKeys: sequence.frames.map(\.key), methods: dataset.methods, reference: dataset.reference,
                              hasGroundTruth: dataset.frames.contains { $0.groundTruth != nil },
                              hasImages: dataset.frames.contains { $0.image != nil })
        model.frame = frame
        model.loading = frame == nil
        model.bookmarkedFrames = bookmarks.keys
        let needsSequence = model.hasGroundTruth && !dataset.methods.isEmpty
        if needsSequence, let matrices = blocking ? statistics.compute(sequence: state.sequence) : statistics.matrices(sequence: state.sequence) {
            for method in dataset.methods {
                model.sparkline[method] = matrices.map { $0?[method].map { Metrics($0).meanIoU } }
            }
            if state.iouScope != .frame {
                let range = scopeRange(frames: matrices.count)
                var sums: [String: ConfusionMatrix] = [:]
                for f in range { for (method, m) in matrices[f] ?? [:] { sums[method, default: ConfusionMatrix(classes: m.classes)].merge(m) } }
                model.cumulative = sums
            }
        }
        return model
    }

    func scopeRange(frames: Int) -> ClosedRange<Int> {
        guard state.iouScope == .range, let a = state.rangeStart else { return 0...max(0, frames - 1) }
        let b = state.rangeEnd ?? state.frame
        return min(a, b)...min(frames - 1, max(a, b))
    }

    // MARK: keys

    public enum Outcome: Equatable { case continueRunning, quit }

    public func handle(_ key: Key) -> Outcome {
        state.message = nil
        if state.prompt != nil { handlePrompt(key); return .continueRunning }
        if state.showHelp {
            state.showHelp = false
            if key == .character("q") { return .quit }
            return .continueRunning
        }
        if state.inspect, let moved = moveCursor(key) { state.cursor = moved; return .continueRunning }
        if case .click(let column, let row) = key {
            if let point = Compositor(model: model(), width: screenSize.width, height: screenSize.height).imagePoint(column: column, row: row) {
                state.inspect = true
                state.cursor = point
            }
            return .continueRunning
        }
        guard let action = KeyBindings.action(for: key) else { return .continueRunning }
        let panes = model().panes.count
        switch action {
        case .quit: return .quit
        case .help: state.showHelp = true
        case .nextFrame: step(1)
        case .previousFrame: step(-1)
        case .nextSequence: go(sequence: state.sequence + 1, frame: 0)
        case .previousSequence: go(sequence: state.sequence - 1, frame: 0)
        case .firstFrame: go(sequence: state.sequence, frame: 0)
        case .lastFrame: go(sequence: state.sequence, frame: sequence.frames.count - 1)
        case .playPause:
            state.playing.toggle()
            lastAdvance = Date()
        case .faster: state.fps = min(60, state.fps + 1)
        case .slower: state.fps = max(1, state.fps - 1)
        case .jumpPrompt: state.prompt = (.jump, "")
        case .nextLayout:
            let all = ViewState.Layout.allCases
            state.layout = all[(all.firstIndex(of: state.layout)! + 1) % all.count]
        case .nextPane: state.singlePane = panes > 0 ? (state.singlePane + 1) % panes : 0
        case .toggleOverlay: state.overlay.toggle()
        case .lessOpacity: state.opacity = max(0.1, state.opacity - 0.1)
        case .moreOpacity: state.opacity = min(1, state.opacity + 0.1)
        case .confidenceMode:
            state.mode = state.mode == .confidence ? .classes : .confidence
            state.singlePane = 0
            if state.mode == .confidence && model().confidencePair == nil {
                state.message = "Δconf needs confidences of two methods (before/after MAR): --conf NAME=DIR"
            }
        case .lowerTau: state.tau = max(0.01, (state.tau - 0.01) * 100).rounded() / 100
        case .raiseTau: state.tau = min(1, (state.tau + 0.01) * 100).rounded() / 100
        case .smallerRadius: state.radius = max(0, state.radius - 1)
        case .largerRadius: state.radius = min(64, state.radius + 1)
        case .flipMode:
            state.mode = state.mode == .flips ? .classes : .flips
            state.singlePane = 0
        case .nextComparedMethod:
            let candidates = dataset.methods.filter { $0 != dataset.reference }
            if !candidates.isEmpty {
                let i = candidates.firstIndex(of: state.compared ?? "") ?? -1
                state.compared = candidates[(i + 1) % candidates.count]
                state.message = "compared: \(state.compared!) vs \(dataset.reference ?? "-")"
            }
        case .toggleBandOnly: state.flipsInBandOnly.toggle()
        case .toggleIoUPanel: state.showIoU.toggle()
        case .toggleSort: state.iouSort = state.iouSort == .byClass ? .byDelta : .byClass
        case .nextIoUScope:
            let all = ViewState.IoUScope.allCases
            state.iouScope = all[(all.firstIndex(of: state.iouScope)! + 1) % all.count]
            if state.iouScope == .range && state.rangeStart == nil { state.message = "no range marked (x): range = whole sequence" }
        case .selectUp: if state.showIoU { state.selectedRow = max(0, state.selectedRow - 1) }
        case .selectDown: if state.showIoU { state.selectedRow = min(theme.space.count - 1, state.selectedRow + 1) }
        case .focusClass:
            if state.showIoU, let rows = Compositor(model: model(), width: screenSize.width, height: screenSize.height).iouRows()?.rows,
               state.selectedRow < rows.count {
                let c = rows[state.selectedRow].classIndex
                state.focusedClass = state.focusedClass == c ? nil : c
            }
        case .clearFocus: state.focusedClass = nil
        case .markRange:
            if state.rangeStart == nil || state.rangeEnd != nil {
                state.rangeStart = state.frame
                state.rangeEnd = nil
                state.message = "range starts at frame \(state.frame + 1); x again ends it"
            } else {
                state.rangeEnd = state.frame
                state.iouScope = .range
                state.message = "range \(min(state.rangeStart!, state.frame) + 1)–\(max(state.rangeStart!, state.frame) + 1) marked"
            }
        case .worstFrame: jumpToWorst()
        case .toggleInspector:
            state.inspect.toggle()
            if state.inspect && state.cursor == nil, let frame = cache.frame(frameIndex), frame.width > 0 {
                state.cursor = ViewState.Point(x: frame.width / 2, y: frame.height / 2)
            }
        case .zoomIn: state.zoom = min(64, state.zoom * 1.5)
        case .zoomOut: state.zoom = max(1, state.zoom / 1.5)
        case .resetZoom: state.zoom = 1; state.centerX = 0.5; state.centerY = 0.5
        case .panLeft: pan(dx: -1, dy: 0)
        case .panRight: pan(dx: 1, dy: 0)
        case .panUp: pan(dx: 0, dy: -1)
        case .panDown: pan(dx: 0, dy: 1)
        case .bookmark: state.prompt = (.bookmark, bookmarks.entries.first { $0.key == currentKey }?.note ?? "")
        case .nextBookmark: jumpToBookmark(forward: true)
        case .previousBookmark: jumpToBookmark(forward: false)
        }
        return .continueRunning
    }

    var currentKey: String { sequence.frames[state.frame].key }

    func step(_ delta: Int) {
        let next = state.frame + delta
        if next >= sequence.frames.count {
            if state.sequence + 1 < dataset.sequences.count { go(sequence: state.sequence + 1, frame: 0) } else { state.playing = false }
        } else if next < 0 {
            if state.sequence > 0 { go(sequence: state.sequence - 1, frame: dataset.sequences[state.sequence - 1].frames.count - 1) }
        } else {
            go(sequence: state.sequence, frame: next)
        }
    }

    func pan(dx: Float, dy: Float) {
        let stepSize = 0.25 / max(1, state.zoom)
        state.centerX = min(1, max(0, state.centerX + dx * stepSize))
        state.centerY = min(1, max(0, state.centerY + dy * stepSize))
    }

    func moveCursor(_ key: Key) -> ViewState.Point? {
        guard var p = state.cursor, let frame = cache.frame(frameIndex), frame.width > 0 else { return nil }
        let stride = max(1, Int(Float(frame.width) / max(1, state.zoom) / 100))
        switch key {
        case .left: p.x = max(0, p.x - stride)
        case .right: p.x = min(frame.width - 1, p.x + stride)
        case .up: p.y = max(0, p.y - stride)
        case .down: p.y = min(frame.height - 1, p.y + stride)
        default: return nil
        }
        return p
    }

    func jumpToWorst() {
        let method = state.compared ?? dataset.methods.first
        guard let method, let values = model().sparkline[method] else {
            state.message = "worst frame needs ground truth and predictions (per-frame mIoU still computing?)"
            return
        }
        let scored = values.enumerated().compactMap { i, v in v.flatMap { $0.isNaN ? nil : (i, $0) } }
        guard let worst = scored.min(by: { $0.1 < $1.1 }) else { state.message = "no frame of this sequence has a score"; return }
        go(sequence: state.sequence, frame: worst.0)
        state.message = "worst \(method) frame: mIoU \(Compositor.percent(worst.1))"
    }

    func jumpToBookmark(forward: Bool) {
        let keys = bookmarks.keys
        let order = dataset.sequences.enumerated().flatMap { s, seq in seq.frames.enumerated().map { (s, $0.offset, $0.element.key) } }
        guard let here = order.firstIndex(where: { $0.0 == state.sequence && $0.1 == state.frame }) else { return }
        let candidates = forward ? Array(order[(here + 1)...]) + Array(order[...here]) : Array(order[..<here].reversed()) + Array(order[here...].reversed())
        guard let target = candidates.first(where: { keys.contains($0.2) }) else { state.message = "no bookmarks"; return }
        go(sequence: target.0, frame: target.1)
        state.message = "★ " + (bookmarks.entries.first { $0.key == target.2 }?.note ?? "")
    }

    func handlePrompt(_ key: Key) {
        guard var prompt = state.prompt else { return }
        switch key {
        case .escape: state.prompt = nil
        case .backspace: prompt.text = String(prompt.text.dropLast()); state.prompt = prompt
        case .enter:
            state.prompt = nil
            switch prompt.kind {
            case .jump:
                if let (s, f) = locateInSequence(prompt.text) { go(sequence: s, frame: f) } else { state.message = "no frame '\(prompt.text)'" }
            case .bookmark:
                do {
                    try bookmarks.mark(currentKey, note: prompt.text)
                    state.message = "bookmarked \(currentKey) in \(bookmarks.path)"
                } catch {
                    state.message = "cannot save bookmark: \(error)"
                }
            }
        case .character(let c): prompt.text.append(c); state.prompt = prompt
        default: break
        }
    }

    /// A frame key anywhere, or a 1-based frame number in the current sequence.
    func locateInSequence(_ text: String) -> (Int, Int)? {
        if let n = Int(text), n >= 1, n <= sequence.frames.count { return (state.sequence, n - 1) }
        for (s, seq) in dataset.sequences.enumerated() {
            if let f = seq.frames.firstIndex(where: { $0.key == text }) { return (s, f) }
        }
        return nil
    }

    /// Advances playback; returns true if the frame changed.
    public func tick(now: Date = Date()) -> Bool {
        guard state.playing, now.timeIntervalSince(lastAdvance) >= 1 / state.fps else { return false }
        // Wait for the next frame rather than skipping past undecoded ones.
        guard cache.frame(frameIndex) != nil else { return false }
        lastAdvance = now
        step(1)
        return true
    }
}
