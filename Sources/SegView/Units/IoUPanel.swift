import SegDataset
import SegEval
import SegFormats
import SegLabels

extension ViewState {
    /// What the IoU panel's columns hold.
    public enum PanelMetric: String, CaseIterable, Sendable {
        case iou = "IoU"
        case boundaryIoU = "Boundary IoU"
        case
            instanceIoU = "iIoU"
    }

    public struct IoUPanelState: Equatable, Sendable {
        /// The column rows are ordered by.
        public enum Sort: Equatable, Sendable {
            case byClass, byDelta
            case byMethod(String)
        }
        public var sort = Sort.byClass
        /// Largest first (for a method or Δ); by class: reversed class order.
        public var descending = false
        public var metric = PanelMetric.iou
        public var selectedRow = 0
        public var focusedClass: Int?
    }
}

/// The per-class table of the panel's scope: rows in display order.
public struct IoUTable: Sendable {
    public struct Row: Sendable {
        public var classIndex: Int
        public var values: [Double]
        public var delta: Double
    }
    public var scope: String
    public var methods: [String]
    public var rows: [Row]
    public var mean: [Double]
    public var meanDelta: Double
    /// Frames each method was scored on, of the labelled frames of the scope.
    public var scored: [Int]
    public var labelled: Int
    /// Frames both Δ methods were scored on (nil: no Δ).
    public var deltaFrames: Int?
}

/// The IoU panel: per-class IoU (Boundary IoU, iIoU) of each method over
/// the scope, Δ of the compared method against the reference over the
/// frames both have, coverage, sorting, focus and export.
enum IoUPanel: ViewerUnit {
    static let keys: [KeyHelpRow] = [
        KeyHelpRow(
            "i", "IoU panel (columns: methods, Δ; last rows: mean and frames scored)",
            [
                (
                    Key.character("i"),
                    .redraw("toggleIoUPanel") { c in c.state.panel.kind = c.state.panel.kind == .iou ? .none : .iou }
                )
            ]),
        KeyHelpRow(
            "s/S", "sort rows by class / each method / Δ;  S  reverses",
            [
                (Key.character("s"), .redraw("nextSort") { c in nextSort(c) }),
                (Key.character("S"), .redraw("reverseSort") { c in c.state.iou.descending.toggle() }),
            ]),
        KeyHelpRow(
            "y", "IoU panel shows IoU / Boundary IoU / iIoU",
            [
                (
                    Key.character("y"),
                    .redraw("nextPanelMetric") { c in
                        let all = ViewState.PanelMetric.allCases
                        c.state.iou.metric = all[(all.firstIndex(of: c.state.iou.metric)! + 1) % all.count]
                        c.state.panel.kind = .iou
                    }
                )
            ]),
        KeyHelpRow(
            "↑/↓  Enter  Esc", "select class; focus it; clear focus and highlight",
            [
                (Key.up, .redraw("selectUp") { c in select(c, by: -1) }),
                (Key.down, .redraw("selectDown") { c in select(c, by: 1) }),
                (Key.enter, .redraw("focusClass") { c in focus(c) }),
                (
                    Key.escape,
                    .redraw("clearFocus") { c in
                        c.state.iou.focusedClass = nil
                        c.state.highlight = nil
                    }
                ),
            ]),
        KeyHelpRow(
            "e", "export the IoU panel or confusion matrix (.md or .csv; path asked)",
            [
                (Key.character("e"), .redraw("export") { c in Export.ask(c) })
            ]),
    ]

    static func nextSort(_ c: ViewerController) {
        let methods = c.dataset.methods
        var order: [ViewState.IoUPanelState.Sort] = [.byClass] + methods.map { .byMethod($0) }
        if methods.count >= 2 { order.append(.byDelta) }
        let i = order.firstIndex(of: c.state.iou.sort) ?? 0
        c.state.iou.sort = order[(i + 1) % order.count]
        c.state.iou.descending = c.state.iou.sort != .byClass
        c.state.panel.kind = .iou
    }

    static func select(_ c: ViewerController, by step: Int) {
        guard c.state.panel.kind == .iou else { return }
        c.state.iou.selectedRow = max(0, min(c.theme.space.count - 1, c.state.iou.selectedRow + step))
    }

    static func focus(_ c: ViewerController) {
        guard c.state.panel.kind == .iou, let table = table(c.model()),
            c.state.iou.selectedRow < table.rows.count
        else {
            return
        }
        let chosen = table.rows[c.state.iou.selectedRow].classIndex
        c.state.iou.focusedClass = c.state.iou.focusedClass == chosen ? nil : chosen
    }

    /// Boundary IoU of the frame is computed off the UI thread once asked for.
    static func load(into model: inout ViewModel, controller c: ViewerController, blocking: Bool) {
        guard c.state.panel.kind == .iou, c.state.iou.metric == .boundaryIoU, c.state.panel.scope == .frame,
            let frame = model.frame
        else {
            return
        }
        model.frameBoundary = c.boundaryStatistics.counts(
            frame: c.frameIndex, data: frame,
            classes: c.theme.space.count, blocking: blocking)
    }

    static func sortName(_ state: ViewState) -> String {
        let arrow = state.iou.descending ? "↓" : "↑"
        switch state.iou.sort {
        case .byClass: return state.iou.descending ? "class, reversed" : "class"
        case .byDelta: return "Δ \(arrow)"
        case .byMethod(let m): return "\(m) \(arrow)"
        }
    }

    /// The rows of the panel in display order (nil until the scope is computed).
    static func table(_ model: ViewModel) -> IoUTable? {
        let methods = model.methods
        let state = model.state
        guard let figures = model.scope, !figures.matrices.isEmpty else { return nil }
        let matrices = figures.matrices
        let space = model.theme.space
        let perClass: [[Double]?]
        switch state.iou.metric {
        case .iou: perClass = methods.map { matrices[$0].map { Metrics($0).iou } }
        case .boundaryIoU:
            guard
                let counts = state.panel.scope == .frame
                    ? model.frameBoundary : model.scopeMetrics?.boundary
            else { return nil }
            perClass = methods.map { counts[$0]?.iou }
        case .instanceIoU:
            let instances = state.panel.scope == .frame ? model.frame?.instances : model.scopeMetrics?.instances
            guard let instances, !instances.isEmpty else { return nil }
            perClass = methods.map { method in
                instances[method].flatMap { c in
                    matrices[method].map {
                        InstanceIoU.perClass(
                            c, confusion: $0,
                            space: space)
                    }
                }
            }
        }
        // Δ over the frames both methods have: for IoU from the pair's own sums.
        var deltaValues: [Double]?
        var deltaMean = Double.nan
        if let pair = figures.pair {
            if state.iou.metric == .iou {
                let r = Metrics(pair.referenceMatrix)
                let c = Metrics(pair.comparedMatrix)
                deltaValues = zip(c.iou, r.iou).map { $0 - $1 }
                deltaMean = c.meanIoU - r.meanIoU
            } else if state.panel.scope != .frame, let metrics = model.scopeMetrics {
                // Wider scopes: Boundary IoU and iIoU of both over the frames both have.
                let r: [Double]?
                let c: [Double]?
                if state.iou.metric == .boundaryIoU {
                    (r, c) = (metrics.pairBoundary?.reference.iou, metrics.pairBoundary?.compared.iou)
                } else {
                    r = metrics.pairInstances.map {
                        InstanceIoU.perClass(
                            $0.reference, confusion: pair.referenceMatrix,
                            space: space)
                    }
                    c = metrics.pairInstances.map {
                        InstanceIoU.perClass(
                            $0.compared, confusion: pair.comparedMatrix,
                            space: space)
                    }
                }
                if let r, let c {
                    deltaValues = zip(c, r).map { $0 - $1 }
                    deltaMean = Metrics.mean(c) - Metrics.mean(r)
                }
            } else if let ri = methods.firstIndex(of: pair.reference), let ci = methods.firstIndex(of: pair.compared),
                let r = perClass[ri], let c = perClass[ci]
            {
                deltaValues = zip(c, r).map { $0 - $1 }
                deltaMean = Metrics.mean(c) - Metrics.mean(r)
            }
        }
        var rows: [IoUTable.Row] = (0..<space.count).map { c in
            IoUTable.Row(classIndex: c, values: perClass.map { $0?[c] ?? .nan }, delta: deltaValues?[c] ?? .nan)
        }
        let descending = state.iou.descending
        func ordered(_ key: (IoUTable.Row) -> Double) {
            rows.sort { a, b in
                let x = key(a)
                let y = key(b)
                if x.isNaN != y.isNaN { return !x.isNaN }
                if x == y || x.isNaN { return a.classIndex < b.classIndex }
                return descending ? x > y : x < y
            }
        }
        switch state.iou.sort {
        case .byClass: if descending { rows.reverse() }
        case .byDelta: ordered { $0.delta }
        case .byMethod(let m):
            if let i = methods.firstIndex(of: m) { ordered { $0.values[i] } }
        }
        let mean = perClass.map { $0.map(Metrics.mean) ?? .nan }
        return IoUTable(
            scope: figures.name, methods: methods, rows: rows, mean: mean, meanDelta: deltaMean,
            scored: methods.map { figures.scored[$0] ?? 0 }, labelled: figures.labelled,
            deltaFrames: figures.pair?.frames)
    }

    static let valueWidth = 7
    static let nameWidth = 14

    static func showDelta(_ model: ViewModel) -> Bool { model.reference != nil && model.comparedMethod != nil }

    /// Column width: wide enough for every method's whole name when the
    /// panes keep half the screen, else the width of a number.
    static func columnWidth(_ model: ViewModel, screenWidth: Int) -> Int {
        let columns = model.methods.count + (showDelta(model) ? 1 : 0)
        let longest = (model.methods.map(\.count).max() ?? 0) + 1
        guard columns > 0, 3 + nameWidth + longest * columns <= screenWidth / 2 else { return valueWidth }
        return max(valueWidth, longest)
    }

    static func width(_ model: ViewModel, screenWidth: Int) -> Int {
        let columns = model.methods.count + (showDelta(model) ? 1 : 0)
        return min(screenWidth - 24, 3 + nameWidth + columnWidth(model, screenWidth: screenWidth) * columns)
    }

    static func draw(_ compositor: Compositor, x: Int, width: Int, height: Int, into grid: inout CellGrid) {
        let model = compositor.model
        let state = model.state
        let theme = model.theme
        func role(_ r: ThemeRole) -> RGB { compositor.role(r) }
        let bg = role(.background)
        let (left, inner) = compositor.sidePanelBorder(x: x, width: width, height: height, into: &grid)
        let metricName = state.iou.metric.rawValue
        guard let table = table(model) else {
            let frame = model.frame
            let reason =
                !model.hasGroundTruth
                ? "IoU needs ground truth"
                : model.methods.isEmpty
                    ? "IoU needs predictions (--pred NAME=DIR)"
                    : state.iou.metric == .instanceIoU
                        && (state.panel.scope == .frame
                            ? frame?.instances.isEmpty == true
                            : model.scopeMetrics?.instances.isEmpty == true)
                        ? "iIoU needs *_gtFine_instanceIds.png beside the ground truth"
                        : model.scopeProgress
                            ?? (state.panel.scope != .frame || state.iou.metric == .boundaryIoU
                                ? "computing…"
                                : frame?.errors[.groundTruth] != nil
                                    ? "this frame's ground truth cannot be read (its pane says why)"
                                    : frame == nil
                                        ? "loading…"
                                        : frame?.groundTruth == nil
                                            ? "this frame has no ground truth"
                                            : "no prediction of this frame can be read")
            grid.text("\(metricName) %", x: left, y: 0, foreground: role(.title), background: bg, bold: true)
            for (i, line) in Compositor.wrapText(reason, width: inner).enumerated() {
                grid.text(line, x: left, y: 2 + i, foreground: role(.dim), background: bg)
            }
            return
        }
        let delta = showDelta(model)
        let deltaColumns = delta ? 1 : 0
        let columnWidth = max(
            valueWidth,
            min(
                columnWidth(model, screenWidth: compositor.width),
                (inner - Self.nameWidth) / max(1, table.methods.count + deltaColumns)))
        // Method columns that fit beside a name column of at least 4; the Δ column always.
        let fitting = max(0, min(table.methods.count, (inner - 4) / columnWidth - deltaColumns))
        let methodColumns = Array(table.methods.indices.prefix(fitting))
        let nameWidth = inner - columnWidth * (methodColumns.count + deltaColumns)
        let hidden = table.methods.count - methodColumns.count
        var title = "\(metricName) % · \(table.scope) · sort \(sortName(state))"
        if hidden > 0 { title += " · +\(hidden) methods hidden" }
        grid.text(
            Compositor.shorten(title, to: inner), x: left, y: 0, foreground: role(.title), background: bg,
            bold: true)
        if delta, let c = model.comparedMethod, let r = model.reference {
            let over = table.deltaFrames.map { state.panel.scope == .frame ? "" : " · \($0) frames both have" } ?? ""
            grid.text(
                Compositor.shorten("Δ = \(c) − \(r)\(over)", to: inner), x: left, y: 1, foreground: role(.dim),
                background: bg)
        }
        var header = Compositor.shorten("class", to: nameWidth).padding(
            toLength: nameWidth, withPad: " ",
            startingAt: 0)
        for m in methodColumns {
            header += Compositor.shorten(
                table.methods[m],
                to: columnWidth - 1
            ).leftPadded(columnWidth)
        }
        if delta { header += "Δ".leftPadded(columnWidth) }
        grid.text(header, x: left, y: 2, foreground: role(.text), background: bg, bold: true)
        // Rows 3 ..< height-3; then the mean row, the frames row and a line saying what scrolled away.
        let visible = max(1, height - 6)
        let first = max(0, min(state.iou.selectedRow - visible / 2, table.rows.count - visible))
        func line(_ label: String, _ values: [String], _ deltaText: String) -> (text: String, deltaText: String) {
            var text = Compositor.shorten(label, to: nameWidth - 1).padding(
                toLength: nameWidth, withPad: " ",
                startingAt: 0)
            for m in methodColumns { text += values[m].leftPadded(columnWidth) }
            return (text, delta ? deltaText.leftPadded(columnWidth) : "")
        }
        let deltaX = left + nameWidth + columnWidth * methodColumns.count
        func deltaColor(
            _ d: Double,
            _ otherwise: RGB
        ) -> RGB { d.isNaN || abs(d) < 0.0005 ? otherwise : d > 0 ? role(.fixed) : role(.broken) }
        for (offset, row) in table.rows.enumerated().dropFirst(first).prefix(visible) {
            let y = 3 + offset - first
            let selected = offset == state.iou.selectedRow
            let focused = state.iou.focusedClass == row.classIndex
            let fg = selected ? role(.statusText) : state.iou.focusedClass != nil && !focused ? role(.dim) : role(.text)
            let rowBg = selected ? role(.selection) : bg
            grid.fill(
                x: left - 1, y: y, width: width - 2, height: 1,
                with: Cell(
                    " ", foreground: fg,
                    background: rowBg))
            grid[left - 1, y] = Cell("█", foreground: theme.color(ofClass: UInt8(row.classIndex)), background: rowBg)
            let (text, deltaText) = line(
                (focused ? "▸" : "") + theme.space.classNames[row.classIndex],
                row.values.map(Compositor.percent),
                Compositor.signed(row.delta))
            grid.text(text, x: left, y: y, foreground: fg, background: rowBg)
            grid.text(deltaText, x: deltaX, y: y, foreground: deltaColor(row.delta, fg), background: rowBg)
        }
        let meanRow = 3 + min(visible, table.rows.count)
        let (meanText, meanDelta) = line(
            state.iou.metric == .iou ? "mIoU" : "mean", table.mean.map(Compositor.percent),
            Compositor.signed(table.meanDelta))
        grid.text(meanText, x: left, y: meanRow, foreground: role(.title), background: bg, bold: true)
        grid.text(
            meanDelta, x: deltaX, y: meanRow, foreground: deltaColor(table.meanDelta, role(.title)),
            background: bg, bold: true)
        // Coverage: frames each method was scored on, of the labelled frames.
        let (framesText, framesDelta) = line(
            "frames of \(table.labelled)", table.scored.map(String.init),
            table.deltaFrames.map(String.init) ?? "")
        grid.text(framesText, x: left, y: meanRow + 1, foreground: role(.dim), background: bg)
        grid.text(framesDelta, x: deltaX, y: meanRow + 1, foreground: role(.dim), background: bg)
        let above = first
        let below = max(0, table.rows.count - first - visible)
        var notes: [(text: String, priority: Int)] = []
        if let problems = model.scope?.problems, !problems.isEmpty {
            notes.append(("\(problems.count) unreadable (E lists)", 2))
        }
        if above + below > 0 { notes.append(("▲\(above) ▼\(below) more classes (↑/↓)", 1)) }
        if !notes.isEmpty {
            let hasProblems = model.scope?.problems.isEmpty == false
            grid.text(
                Compositor.fit(notes, width: inner), x: left, y: meanRow + 2,
                foreground: hasProblems ? role(.warning) : role(.dim), background: bg)
        }
    }
}
