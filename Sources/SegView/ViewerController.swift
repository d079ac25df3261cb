import Foundation
import SegDataset
import SegEval
import SegLabels

/// A key press, independent of the terminal library.
public enum Key: Equatable, Sendable {
    case character(Character)
    case left, right, up, down, pageUp, pageDown, home, end
    case enter, escape, backspace, tab
    case interrupt
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
    public let suspectStatistics: SuspectStatistics
    public let temporalStatistics: TemporalStatistics
    public let boundaryStatistics = BoundaryStatistics()
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
        suspectStatistics = SuspectStatistics(dataset: dataset)
        temporalStatistics = TemporalStatistics(dataset: dataset)
        bookmarks = try Bookmarks.load(path: bookmarksPath ?? dataset.bookmarksPath)
        state.reference = dataset.reference ?? dataset.methods.first
        state.compared = dataset.methods.last { $0 != state.reference }
    }

    /// Headless use waits for what the interactive viewer computes in the background.
    public var blocking = false

    /// Opens at a frame named as `Dataset.locate` reads names; false if there is none.
    public func open(frame text: String) -> Bool {
        guard let (s, f) = dataset.locate(text) else { return false }
        go(sequence: s, frame: f)
        return true
    }

    public func setLayout(_ layout: ViewState.Layout) { state.layout = layout }

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
        let blocking = blocking || self.blocking
        let frame = blocking ? cache.load(frameIndex) : cache.frame(frameIndex)
        if frame != nil { prefetch() }
        var model = ViewModel(state: state, theme: theme, sequenceNames: dataset.sequences.map(\.name),
                              frameKeys: sequence.frames.map(\.key), methods: dataset.methods, reference: dataset.reference,
                              hasGroundTruth: dataset.frames.contains { $0.groundTruth != nil },
                              hasImages: dataset.frames.contains { $0.image != nil })
        model.frame = frame
        model.loading = frame == nil
        model.bookmarkedFrames = bookmarks.keys
        if state.mode == .flicker, state.frame + 1 < sequence.frames.count {
            model.nextFrame = blocking ? cache.load(frameIndex + 1) : cache.frame(frameIndex + 1)
        }
        if state.sparkMetric != .meanIoU {
            model.temporal = blocking ? temporalStatistics.compute(sequence: state.sequence) : temporalStatistics.counts(sequence: state.sequence)
        }
        if state.panel == .iou, state.panelMetric == .boundaryIoU, state.scope == .frame, let frame {
            model.frameBoundary = boundaryStatistics.counts(frame: frameIndex, data: frame, classes: theme.space.count, blocking: blocking)
        }
        let needsSequence = model.hasGroundTruth && !dataset.methods.isEmpty
        if needsSequence, let matrices = blocking ? statistics.compute(sequence: state.sequence) : statistics.matrices(sequence: state.sequence) {
            for method in dataset.methods {
                model.sparkline[method] = matrices.map { $0?[method].map { Metrics($0).meanIoU } }
            }
            switch state.scope {
            case .frame: break
            case .sequence, .range:
                model.cumulative = sum(matrices[scopeRange(frames: matrices.count)])
            case .dataset:
                model.cumulative = statistics.allSequences(blocking: blocking).map { sum($0.joined()) }
            }
        }
        return model
    }

    func sum<S: Sequence>(_ frames: S) -> [String: ConfusionMatrix] where S.Element == [String: ConfusionMatrix]? {
        var sums: [String: ConfusionMatrix] = [:]
        for perMethod in frames { for (method, m) in perMethod ?? [:] { sums[method, default: ConfusionMatrix(classes: m.classes)].merge(m) } }
        return sums
    }

    func scopeRange(frames: Int) -> ClosedRange<Int> {
        guard state.scope == .range, let a = state.rangeStart else { return 0...max(0, frames - 1) }
        let b = state.rangeEnd ?? state.frame
        return min(a, b)...min(frames - 1, max(a, b))
    }

    // MARK: keys

    public enum Outcome: Equatable { case continueRunning, quit }

    /// Whether `key` does something now (`render --keys` refuses the rest).
    public func accepts(_ key: Key) -> Bool {
        if state.prompt != nil || state.showHelp || state.frameList != nil { return true }
        if [.left, .right, .up, .down].contains(key) && (state.inspect || state.panel == .confusion) { return true }
        if case .click = key { return true }
        return KeyBindings.action(for: key) != nil
    }

    public func handle(_ key: Key) -> Outcome {
        state.message = nil
        if state.prompt != nil { handlePrompt(key); return .continueRunning }
        if state.showHelp { return handleHelp(key) }
        if state.frameList != nil { handleFrameList(key); return .continueRunning }
        if state.inspect, let moved = moveCursor(key) { state.cursor = moved; return .continueRunning }
        if state.panel == .confusion, moveConfusionCursor(key) { return .continueRunning }
        if case .click(let column, let row) = key {
            if let point = Compositor(model: model(), width: screenSize.width, height: screenSize.height).imagePoint(column: column, row: row) {
                state.inspect = true
                state.cursor = point
            }
            return .continueRunning
        }
        guard let action = KeyBindings.action(for: key) else { return .continueRunning }
        if action != .worstFrame && action != .worstDelta && action != .mostSuspects { ranking = nil }
        let panes = model().panes.count
        switch action {
        case .quit: return .quit
        case .help:
            state.showHelp = true
            state.helpScroll = 0
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
        case .toggleClassLegend: state.classLegend.toggle()
        case .confidenceMode:
            state.mode = state.mode == .confidence ? .classes : .confidence
            state.singlePane = 0
            if state.mode == .confidence && model().confidencePair == nil {
                state.message = "Δconf needs confidences of two methods (before/after MAR): --conf NAME=DIR"
            }
        case .lowerTau, .raiseTau:
            let step: Float = action == .raiseTau ? 0.01 : -0.01
            if state.mode == .suspects {
                state.suspectTau = Self.hundredths(state.suspectTau + step)
            } else {
                state.tau = Self.hundredths(state.tau + step)
            }
        case .smallerRadius: state.radius = max(0, state.radius - 1)
        case .largerRadius: state.radius = min(64, state.radius + 1)
        case .flipMode:
            state.mode = state.mode == .flips ? .classes : .flips
            state.singlePane = 0
        case .nextComparedMethod: chooseMethod(reference: false)
        case .nextReferenceMethod: chooseMethod(reference: true)
        case .toggleBandOnly: state.flipsInBandOnly.toggle()
        case .toggleIoUPanel: state.panel = state.panel == .iou ? .none : .iou
        case .confusionPanel:
            state.panel = state.panel == .confusion ? .none : .confusion
            if state.panel == .confusion && !(model().hasGroundTruth && !dataset.methods.isEmpty) {
                state.message = "the confusion matrix needs ground truth and predictions"
            }
        case .toggleSort: state.iouSort = state.iouSort == .byClass ? .byDelta : .byClass
        case .nextScope:
            let all = ViewState.Scope.allCases
            state.scope = all[(all.firstIndex(of: state.scope)! + 1) % all.count]
            if state.scope == .range && state.rangeStart == nil { state.message = "no range marked (x): range = whole sequence" }
        case .selectUp: if state.panel == .iou { state.selectedRow = max(0, state.selectedRow - 1) }
        case .selectDown: if state.panel == .iou { state.selectedRow = min(theme.space.count - 1, state.selectedRow + 1) }
        case .focusClass:
            if state.panel == .iou, let rows = Compositor(model: model(), width: screenSize.width, height: screenSize.height).iouRows()?.rows,
               state.selectedRow < rows.count {
                let c = rows[state.selectedRow].classIndex
                state.focusedClass = state.focusedClass == c ? nil : c
            } else if state.panel == .confusion {
                listConfusedFrames()
            }
        case .clearFocus:
            state.focusedClass = nil
            state.highlight = nil
        case .markRange:
            if state.rangeStart == nil || state.rangeEnd != nil {
                state.rangeStart = state.frame
                state.rangeEnd = nil
                state.message = "range starts at frame \(state.frame + 1); x again ends it"
            } else {
                state.rangeEnd = state.frame
                state.scope = .range
                state.message = "range \(min(state.rangeStart!, state.frame) + 1)–\(max(state.rangeStart!, state.frame) + 1) marked"
            }
        case .worstFrame: jumpToRanked(.worstFrame)
        case .worstDelta: jumpToRanked(.worstDelta)
        case .suspectMode:
            state.mode = state.mode == .suspects ? .classes : .suspects
            state.singlePane = 0
            if state.mode == .suspects && !model().hasGroundTruth { state.message = "annotation suspects need ground truth" }
        case .mostSuspects: jumpToRanked(.mostSuspects)
        case .flickerMode:
            state.mode = state.mode == .flicker ? .classes : .flicker
            state.singlePane = 0
        case .nextPanelMetric:
            let all = ViewState.PanelMetric.allCases
            state.panelMetric = all[(all.firstIndex(of: state.panelMetric)! + 1) % all.count]
            if state.panel != .iou { state.panel = .iou }
        case .nextSparkMetric:
            let all = ViewState.SparkMetric.allCases
            state.sparkMetric = all[(all.firstIndex(of: state.sparkMetric)! + 1) % all.count]
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
        case .deleteBookmark:
            do {
                state.message = try bookmarks.remove(currentKey) ? "bookmark of \(currentKey) deleted" : "this frame has no bookmark"
            } catch {
                state.message = "cannot save bookmarks: \(error)"
            }
        }
        return .continueRunning
    }

    /// τ in [0.01, 1] on a grid of hundredths (so repeated steps do not drift).
    static func hundredths(_ v: Float) -> Float { min(1, max(0.01, (v * 100).rounded() / 100)) }

    func chooseMethod(reference: Bool) {
        let methods = dataset.methods
        guard methods.count >= 2 else { state.message = "comparing needs two methods"; return }
        let current = reference ? state.reference : state.compared
        var i = methods.firstIndex(of: current ?? "") ?? -1
        let other = reference ? state.compared : state.reference
        repeat { i = (i + 1) % methods.count } while methods[i] == other
        if reference { state.reference = methods[i] } else { state.compared = methods[i] }
        state.methodsChosen = true
        state.message = "compared: \(state.compared ?? "-") vs reference \(state.reference ?? "-")"
    }

    func handleHelp(_ key: Key) -> Outcome {
        switch key {
        case .down, .character("j"): state.helpScroll += 1
        case .up, .character("k"): state.helpScroll = max(0, state.helpScroll - 1)
        case .pageDown: state.helpScroll += 10
        case .pageUp: state.helpScroll = max(0, state.helpScroll - 10)
        case .character("q"): return .quit
        default: state.showHelp = false
        }
        // The compositor clamps to what is there; keep the state within it too.
        state.helpScroll = min(state.helpScroll, max(0, Compositor.helpLineCount(width: screenSize.width) - 1))
        return .continueRunning
    }

    func moveConfusionCursor(_ key: Key) -> Bool {
        let k = theme.space.count
        switch key {
        case .left: state.confusionColumn = max(0, state.confusionColumn - 1)
        case .right: state.confusionColumn = min(k, state.confusionColumn + 1)
        case .up: state.confusionRow = max(0, state.confusionRow - 1)
        case .down: state.confusionRow = min(k - 1, state.confusionRow + 1)
        default: return false
        }
        return true
    }

    /// Frames of the panel's scope ranked by the pixels of the chosen
    /// confusion, most first, as a list to jump from.
    func listConfusedFrames() {
        guard let method = model().comparedMethod else { state.message = "the confusion matrix needs predictions"; return }
        let g = state.confusionRow, p = state.confusionColumn
        var entries: [ViewState.FrameList.Entry] = []
        func add(_ s: Int, _ frames: [[String: ConfusionMatrix]?], range: ClosedRange<Int>? = nil) {
            for (f, perMethod) in frames.enumerated() where range?.contains(f) ?? true {
                guard let m = perMethod?[method], m[g, p] > 0 else { continue }
                entries.append(.init(sequence: s, frame: f, key: dataset.sequences[s].frames[f].key, pixels: m[g, p]))
            }
        }
        switch state.scope {
        case .frame, .sequence, .range:
            guard let frames = blocking ? statistics.compute(sequence: state.sequence) : statistics.matrices(sequence: state.sequence) else {
                state.message = "per-frame confusion still computing; Enter again"
                return
            }
            add(state.sequence, frames, range: state.scope == .range ? scopeRange(frames: frames.count) : nil)
        case .dataset:
            guard let all = statistics.allSequences(blocking: blocking) else {
                let p = statistics.progress
                state.message = "per-frame confusion: \(p.done)/\(p.of) sequences done; Enter again"
                return
            }
            for (s, frames) in all.enumerated() { add(s, frames) }
        }
        entries.sort { $0.pixels > $1.pixels }
        let names = theme.space.classNames
        let predicted = p < names.count ? names[p] : "no class"
        guard !entries.isEmpty else { state.message = "no frame has GT \(names[g]) predicted as \(predicted) by \(method)"; return }
        state.frameList = ViewState.FrameList(title: "GT \(names[g]) → \(method) \(predicted): frames by pixels", entries: Array(entries.prefix(200)),
                                              highlight: ViewState.Highlight(groundTruth: g, predicted: p, method: method))
    }

    func handleFrameList(_ key: Key) {
        guard var list = state.frameList else { return }
        switch key {
        case .down, .character("j"): list.selected = min(list.entries.count - 1, list.selected + 1)
        case .up, .character("k"): list.selected = max(0, list.selected - 1)
        case .pageDown: list.selected = min(list.entries.count - 1, list.selected + 10)
        case .pageUp: list.selected = max(0, list.selected - 10)
        case .enter:
            let entry = list.entries[list.selected]
            go(sequence: entry.sequence, frame: entry.frame)
            state.highlight = list.highlight
            state.frameList = nil
            return
        default:
            state.frameList = nil
            return
        }
        state.frameList = list
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

    enum Ranking: Equatable { case worstFrame, worstDelta, mostSuspects }
    /// The last ranking jumped through: pressing its key again goes to the next entry.
    private var ranking: (kind: Ranking, order: [(sequence: Int, frame: Int, value: Double)], position: Int)?

    func jumpToRanked(_ kind: Ranking) {
        if let r = ranking, r.kind == kind, r.position + 1 < r.order.count,
           r.order[r.position].sequence == state.sequence, r.order[r.position].frame == state.frame {
            ranking!.position += 1
            show(ranking!)
            return
        }
        guard let order = rankedFrames(kind) else { return }
        guard !order.isEmpty else {
            state.message = kind == .mostSuspects ? "no suspect pixels at τ \(Compositor.fixed2(state.suspectTau))" : "no frame has a score"
            return
        }
        ranking = (kind, order, 0)
        show(ranking!)
    }

    private func show(_ r: (kind: Ranking, order: [(sequence: Int, frame: Int, value: Double)], position: Int)) {
        let entry = r.order[r.position]
        go(sequence: entry.sequence, frame: entry.frame)
        let place = "\(r.position + 1) of \(r.order.count)"
        switch r.kind {
        case .worstFrame: state.message = "worst \(model().comparedMethod ?? "") frames: \(place), mIoU \(Compositor.percent(entry.value))"
        case .worstDelta:
            let m = model()
            state.message = "worst Δ \(m.comparedMethod ?? "")−\(m.reference ?? ""): \(place), Δ mIoU \(Compositor.signed(entry.value))"
        case .mostSuspects: state.message = "most suspects: \(place), \(Int(entry.value)) px at τ \(Compositor.fixed2(state.suspectTau))"
        }
    }

    /// Frames of the whole dataset in the order of `kind`; nil (with a message) while statistics compute.
    func rankedFrames(_ kind: Ranking) -> [(sequence: Int, frame: Int, value: Double)]? {
        let m = model()
        var order: [(sequence: Int, frame: Int, value: Double)] = []
        if kind == .mostSuspects {
            guard m.hasGroundTruth, !dataset.methods.isEmpty else { state.message = "annotation suspects need ground truth and predictions"; return nil }
            guard let counts = suspectStatistics.counts(tau: state.suspectTau, blocking: blocking) else {
                state.message = "counting suspects over the dataset…; A again"
                return nil
            }
            var index = 0
            for (s, sequence) in dataset.sequences.enumerated() {
                for f in sequence.frames.indices {
                    if let c = counts[index], c > 0 { order.append((s, f, Double(c))) }
                    index += 1
                }
            }
            return order.sorted { $0.value > $1.value }
        }
        guard let method = m.comparedMethod ?? dataset.methods.first, m.hasGroundTruth else {
            state.message = "ranking frames needs ground truth and predictions"
            return nil
        }
        guard let all = statistics.allSequences(blocking: blocking) else {
            let p = statistics.progress
            state.message = "scoring frames: \(p.done)/\(p.of) sequences done; press again"
            return nil
        }
        let reference = m.reference
        if kind == .worstDelta && (reference == nil || reference == method) { state.message = "worst Δ needs two methods"; return nil }
        for (s, frames) in all.enumerated() {
            for (f, perMethod) in frames.enumerated() {
                guard let matrix = perMethod?[method] else { continue }
                var value = Metrics(matrix).meanIoU
                if kind == .worstDelta {
                    guard let r = perMethod?[reference!] else { continue }
                    value -= Metrics(r).meanIoU
                }
                if !value.isNaN { order.append((s, f, value)) }
            }
        }
        return order.sorted { $0.value < $1.value }
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
                if !open(frame: prompt.text) { state.message = "no frame '\(prompt.text)' (a key, N or S/N)" }
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
