import SegDataset
import SegEval
import SegFormats
import SegLabels

extension ViewState {
    /// Confusion panel cursor: ground-truth row and predicted column (column K = no evaluated class).
    public struct ConfusionCursor: Equatable, Sendable {
        public var row = 0
        public var column = 0
    }

    /// Pixels of one confusion (ground-truth class → predicted class of a
    /// method), highlighted in every pane.
    public struct Highlight: Equatable, Sendable {
        public var groundTruth: Int, predicted: Int
        public var method: String
        public init(groundTruth: Int, predicted: Int, method: String) {
            self.groundTruth = groundTruth
            self.predicted = predicted
            self.method = method
        }
    }
}

/// The confusion matrix of the compared method over the scope: a cursor
/// over cells; Enter lists the frames of that confusion and jumps to one
/// with its pixels highlighted.
enum ConfusionPanel: ViewerUnit {
    static let keys: [KeyHelpRow] = [
        KeyHelpRow(
            "C", "confusion matrix: arrows move, Enter lists its frames",
            [
                (
                    Key.character("C"),
                    .redraw("confusionPanel") { c in
                        c.state.panel.kind = c.state.panel.kind == .confusion ? .none : .confusion
                        if c.state.panel.kind == .confusion && !(c.hasGroundTruth && !c.dataset.methods.isEmpty) {
                            c.state.message = "the confusion matrix needs ground truth and predictions"
                        }
                    }
                )
            ]),
        KeyHelpRow(
            "←/→/↑/↓  Enter", "in the confusion matrix: move the cursor; list the frames of its cell",
            bindings: [
                (Key.left, "cellLeft"), (Key.right, "cellRight"), (Key.up, "cellUp"), (Key.down, "cellDown"),
            ].map { key, name in
                KeyBinding(trigger: .key(key), context: .confusion, action: .redraw(name) { c in move(c, key) })
            } + [
                KeyBinding(
                    trigger: .key(.enter), context: .confusion,
                    action: .redraw("listConfusedFrames") { c in listFrames(c) })
            ]),
    ]

    static func move(_ c: ViewerController, _ key: Key) {
        let k = c.theme.space.count
        var cursor = c.state.confusion
        switch key {
        case .left: cursor.column = max(0, cursor.column - 1)
        case .right: cursor.column = min(k, cursor.column + 1)
        case .up: cursor.row = max(0, cursor.row - 1)
        case .down: cursor.row = min(k - 1, cursor.row + 1)
        default: return
        }
        c.state.confusion = cursor
    }

    /// Frames of the panel's scope ranked by the pixels of the chosen
    /// confusion, most first, as a list to jump from.
    static func listFrames(_ c: ViewerController) {
        guard let method = c.model().comparedMethod else {
            c.state.message = "the confusion matrix needs predictions"
            return
        }
        let g = c.state.confusion.row
        let p = c.state.confusion.column
        var entries: [ViewState.FrameList.Entry] = []
        func add(_ s: Int, _ scores: [ScoredFrame], _ indices: ClosedRange<Int>?) {
            for (f, score) in scores.enumerated() where indices?.contains(f) ?? true {
                guard let m = score.matrices[method], m[g, p] > 0 else { continue }
                entries.append(.init(sequence: s, frame: f, key: c.dataset.sequences[s].frames[f].key, pixels: m[g, p]))
            }
        }
        switch c.state.panel.scope {
        case .frame, .sequence, .range:
            let range = c.state.panel.scope == .range ? c.state.panel.range : nil
            let s = range?.sequence ?? c.state.sequence
            guard let scores = c.blocking ? c.statistics.compute(sequence: s) : c.statistics.scores(sequence: s) else {
                c.state.message = "per-frame confusion still computing; Enter again"
                return
            }
            add(s, scores, range.map { $0.first...$0.last })
        case .dataset:
            guard let all = c.statistics.allSequences(blocking: c.blocking) else {
                let progress = c.statistics.progress
                c.state.message = "per-frame confusion: \(progress.done)/\(progress.of) sequences done; Enter again"
                return
            }
            for (s, scores) in all.enumerated() { add(s, scores, nil) }
        }
        entries.sort { ($0.pixels ?? 0) > ($1.pixels ?? 0) }
        let names = c.theme.space.classNames
        let predicted = p < names.count ? names[p] : "no class"
        guard !entries.isEmpty else {
            c.state.message = "no frame has GT \(names[g]) predicted as \(predicted) by \(method)"
            return
        }
        c.state.frameList = ViewState.FrameList(
            title: "GT \(names[g]) → \(method) \(predicted): frames by pixels",
            entries: Array(entries.prefix(200)),
            highlight: ViewState.Highlight(
                groundTruth: g, predicted: p,
                method: method))
    }

    /// The confusion the panel shows: the compared method's, over the scope.
    static func matrix(_ model: ViewModel) -> (matrix: ConfusionMatrix, method: String)? {
        guard let method = model.comparedMethod, let matrix = model.scope?.matrices[method] else { return nil }
        return (matrix, method)
    }

    /// What the cursor cell means, for the status line:
    /// "GT wall → pred building: 12,345 px (3.1% of wall)".
    static func cursorText(_ model: ViewModel) -> String? {
        guard model.state.panel.kind == .confusion, let (m, method) = matrix(model) else { return nil }
        let names = model.theme.space.classNames
        let g = model.state.confusion.row
        let p = model.state.confusion.column
        let predicted = p < names.count ? names[p] : "no class"
        let total = m.rowTotal(g)
        let share =
            total == 0
            ? "no \(names[g]) pixels" : "\(Compositor.percentOne(Double(m[g, p]) / Double(total)))% of \(names[g])"
        return "GT \(names[g]) → \(method) \(predicted): \(Compositor.grouped(Int(m[g, p]))) px (\(share))"
    }

    /// Row labels ("6 traffic light") whole when there is room.
    static let labelWidth = 18

    /// Columns of a cell: "100" and a space, so neighbouring numbers never touch.
    static let cell = 4

    static func width(_ model: ViewModel, screenWidth: Int) -> Int {
        min(screenWidth - 24, 3 + labelWidth + cell * (model.theme.space.count + 1))
    }

    static func draw(_ compositor: Compositor, x: Int, width: Int, height: Int, into grid: inout CellGrid) {
        let model = compositor.model
        let state = model.state
        func role(_ r: ThemeRole) -> RGB { compositor.role(r) }
        let bg = role(.background)
        let (left, inner) = compositor.sidePanelBorder(x: x, width: width, height: height, into: &grid)
        guard let (m, method) = matrix(model) else {
            let reason =
                !model.hasGroundTruth
                    || model.methods.isEmpty
                ? "the confusion matrix needs ground truth and predictions"
                : state.panel.scope == .frame
                    ? "no confusion for this frame (no readable ground truth or prediction)"
                    : model.scopeProgress ?? "computing…"
            grid.text("confusion", x: left, y: 0, foreground: role(.title), background: bg, bold: true)
            for (i, line) in Compositor.wrapText(reason, width: inner).enumerated() {
                grid.text(line, x: left, y: 2 + i, foreground: role(.dim), background: bg)
            }
            return
        }
        let k = m.classes
        let cw = cell
        let names = model.theme.space.classNames
        let coverage = model.scope.map { " · \($0.coverage(method)) frames" } ?? ""
        grid.text(
            Compositor.shorten(
                "confusion · \(method) · \(model.scope?.name ?? "") · % of GT row\(coverage)",
                to: inner), x: left, y: 0,
            foreground: role(.title), background: bg, bold: true)
        let labelWidth = min(Self.labelWidth, max(6, inner - cw * (k + 1)))
        let visibleColumns = max(1, min(k + 1, (inner - labelWidth) / cw))
        let firstColumn = max(0, min(state.confusion.column - visibleColumns / 2, k + 1 - visibleColumns))
        let visibleRows = max(1, height - 4)
        let firstRow = max(0, min(state.confusion.row - visibleRows / 2, k - visibleRows))
        // Header: predicted classes by trainId ("—": no evaluated class).
        var hx = left + labelWidth
        for p in firstColumn..<(firstColumn + visibleColumns) {
            let label = p < k ? "\(p)" : "—"
            let current = p == state.confusion.column
            grid.text(
                label.leftPadded(cw), x: hx, y: 1, foreground: current ? role(.title) : role(.dim),
                background: bg, bold: current)
            hx += cw
        }
        for g in firstRow..<min(k, firstRow + visibleRows) {
            let y = 2 + g - firstRow
            let current = g == state.confusion.row
            let label = Compositor.shorten("\(g) \(names[g])", to: labelWidth - 1)
            grid.text(
                label, x: left, y: y, foreground: current ? role(.title) : role(.text), background: bg,
                bold: current)
            let total = m.rowTotal(g)
            for p in firstColumn..<(firstColumn + visibleColumns) {
                let count = m[g, p]
                let fraction = total > 0 ? Double(count) / Double(total) : 0
                let text: String
                if total == 0 {
                    text = "-"
                } else if count == 0 {
                    text = "."
                } else if fraction < 0.005 {
                    text = "<1"
                } else {
                    text = "\(Int((fraction * 100).rounded()))"
                }
                let scale = g == p ? role(.confusionDiagonal) : role(.confusionOff)
                var cellBg = count > 0 ? Compositor.blend(bg, scale, Float(0.2 + 0.8 * fraction.squareRoot())) : bg
                var fg = Compositor.luma(cellBg) > 140 ? RGB(0, 0, 0) : role(.text)
                let isCursor = g == state.confusion.row && p == state.confusion.column
                if isCursor {
                    cellBg = role(.selection)
                    fg = role(.statusText)
                }
                let cx = left + labelWidth + (p - firstColumn) * cw
                grid.fill(x: cx, y: y, width: cw, height: 1, with: Cell(" ", foreground: fg, background: cellBg))
                grid.text(
                    text.leftPadded(cw), x: cx, y: y, foreground: fg, background: cellBg,
                    bold: isCursor || g == p)
            }
        }
        let legendY = 2 + min(k, visibleRows)
        var lx = left
        for (color, text) in [
            (role(.confusionDiagonal), "correct"),
            (
                role(.confusionOff),
                "confused"
            ),
        ] where lx + text.count + 3 < left + inner {
            grid[lx, legendY] = Cell("■", foreground: color, background: bg)
            grid.text(text, x: lx + 2, y: legendY, foreground: role(.text), background: bg)
            lx += text.count + 4
        }
        grid.text(
            Compositor.shorten("darker = fewer · Enter: its frames", to: max(0, left + inner - lx)), x: lx,
            y: legendY,
            foreground: role(.dim), background: bg)
        let hiddenRows = k - min(k, visibleRows)
        let hiddenColumns = k + 1 - visibleColumns
        if hiddenRows + hiddenColumns > 0 && legendY + 1 < height {
            grid.text(
                Compositor.fit(
                    [
                        ("shown: rows \(min(k, visibleRows))/\(k) columns \(visibleColumns)/\(k + 1)", 2),
                        ("scrolls with the cursor", 1),
                    ], width: inner),
                x: left, y: legendY + 1, foreground: role(.dim), background: bg)
        }
    }
}

extension ViewModel {
    /// Marks the pixels of the highlighted confusion in this frame.
    public mutating func analyzeHighlight(frame: FrameData) {
        highlightMarks = nil
        guard let h = state.highlight, let gt = frame.groundTruth, let prediction = frame.predictions[h.method],
            prediction.ids.count == gt.ids.count
        else { return }
        let k = theme.space.count
        var marks = [UInt8](repeating: 0, count: gt.ids.count)
        for i in marks.indices where Int(gt.ids[i]) == h.groundTruth {
            let p = Int(prediction.ids[i])
            if p == h.predicted || (h.predicted == k && p >= k) { marks[i] = 1 }
        }
        highlightMarks = marks
    }
}
