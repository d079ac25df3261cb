import SegEval
import SegFormats
import SegLabels

/// The side panels (per-class IoU, confusion matrix) and the boxes drawn
/// over everything (frame lists, help). Numbers are never cut: names give
/// way first, and what does not fit scrolls.
extension Compositor {
    // MARK: IoU panel

    static let valueWidth = 7

    var showDelta: Bool { model.reference != nil && model.comparedMethod != nil }

    func iouPanelWidth() -> Int { 3 + 14 + Self.valueWidth * (model.methods.count + (showDelta ? 1 : 0)) }

    var scopeName: String {
        switch state.scope {
        case .frame: return "this frame"
        case .sequence: return "sequence"
        case .range: return "marked range"
        case .dataset: return "dataset"
        }
    }

    /// Confusion matrices of the scope, per method (nil until computed).
    var scopeMatrices: [String: ConfusionMatrix]? {
        state.scope == .frame ? model.frame?.confusion : model.cumulative
    }

    /// Rows of the IoU panel in display order: class index, per-method IoU,
    /// and the compared method's IoU minus the reference's.
    public func iouRows() -> (scope: String, methods: [String], rows: [(classIndex: Int, iou: [Double], delta: Double)], mean: [Double], meanDelta: Double)? {
        let methods = model.methods
        guard let matrices = scopeMatrices, !matrices.isEmpty else { return nil }
        // Per method, the values of the panel's metric per class (nil: not available).
        let perClass: [[Double]?]
        switch state.panelMetric {
        case .iou: perClass = methods.map { matrices[$0].map { Metrics($0).iou } }
        case .boundaryIoU:
            guard state.scope == .frame, let counts = model.frameBoundary else { return nil }
            perClass = methods.map { counts[$0]?.iou }
        case .instanceIoU:
            guard state.scope == .frame, let frame = model.frame, !frame.instances.isEmpty else { return nil }
            perClass = methods.map { method in
                frame.instances[method].flatMap { c in matrices[method].map { InstanceIoU.perClass(c, confusion: $0, space: theme.space) } }
            }
        }

        let reference = model.reference.flatMap { methods.firstIndex(of: $0) }
        let compared = model.comparedMethod.flatMap { methods.firstIndex(of: $0) }
        func delta(_ values: [Double]) -> Double { reference != nil && compared != nil ? values[compared!] - values[reference!] : .nan }
        var rows: [(Int, [Double], Double)] = []
        for c in 0..<theme.space.count {
            let values = perClass.map { $0?[c] ?? .nan }
            rows.append((c, values, delta(values)))
        }
        if state.iouSort == .byDelta {
            rows.sort { a, b in
                if a.2.isNaN != b.2.isNaN { return !a.2.isNaN }
                return a.2 == b.2 ? a.0 < b.0 : a.2 > b.2
            }
        }
        let mean = perClass.map { $0.map(Metrics.mean) ?? .nan }
        return (scopeName, methods, rows.map { (classIndex: $0.0, iou: $0.1, delta: $0.2) }, mean, delta(mean))
    }

    func drawIoUPanel(x: Int, width: Int, height: Int, into grid: inout CellGrid) {
        let border = role(.border), bg = role(.background)
        for y in 0..<height { grid[x, y] = Cell("│", foreground: border, background: bg) }
        let left = x + 2, inner = width - 3
        guard let table = iouRows() else {
            let reason = !model.hasGroundTruth ? "IoU needs ground truth" : model.methods.isEmpty ? "IoU needs predictions (--pred NAME=DIR)"
                : state.panelMetric != .iou && state.scope != .frame ? "\(state.panelMetric.rawValue) is shown for this frame (u); segscope eval gives the dataset's"
                : state.panelMetric == .instanceIoU && model.frame != nil && model.frame!.instances.isEmpty ? "iIoU needs *_gtFine_instanceIds.png beside the ground truth"
                : state.scope != .frame || state.panelMetric == .boundaryIoU ? "computing…"
                : model.frame?.errors[.groundTruth] != nil ? "this frame's ground truth cannot be read (its pane says why)"
                : model.frame?.groundTruth == nil ? "this frame has no ground truth" : "no prediction of this frame can be read"
            grid.text("\(state.panelMetric.rawValue) %", x: left, y: 0, foreground: role(.title), background: bg, bold: true)
            for (i, line) in wrap(reason, width: inner).enumerated() { grid.text(line, x: left, y: 2 + i, foreground: role(.dim), background: bg) }
            return
        }
        // Method columns that fit beside a name column of at least 4; the Δ column always.
        let deltaColumns = showDelta ? 1 : 0
        let fitting = max(0, min(table.methods.count, (inner - 4) / Self.valueWidth - deltaColumns))
        let methodColumns = Array(table.methods.indices.prefix(fitting))
        let nameWidth = inner - Self.valueWidth * (methodColumns.count + deltaColumns)
        let hidden = table.methods.count - methodColumns.count
        var title = "\(state.panelMetric.rawValue) % · \(table.scope) · sort \(state.iouSort.rawValue)"
        if hidden > 0 { title += " · \(hidden) methods hidden" }
        grid.text(Self.shorten(title, to: inner), x: left, y: 0, foreground: role(.title), background: bg, bold: true)
        if showDelta, let c = model.comparedMethod, let r = model.reference {
            grid.text(Self.shorten("Δ = \(c) − \(r)", to: inner), x: left, y: 1, foreground: role(.dim), background: bg)
        }
        var header = Self.shorten("class", to: nameWidth).padding(toLength: nameWidth, withPad: " ", startingAt: 0)
        for m in methodColumns { header += Self.shorten(table.methods[m], to: Self.valueWidth - 1).leftPadded(Self.valueWidth) }
        if showDelta { header += "Δ".leftPadded(Self.valueWidth) }
        grid.text(header, x: left, y: 2, foreground: role(.text), background: bg, bold: true)
        // Rows 3 ..< height-2; then the mIoU row and a line saying what scrolled away.
        let visible = max(1, height - 5)
        let first = max(0, min(state.selectedRow - visible / 2, table.rows.count - visible))
        func line(_ label: String, _ values: [Double], _ delta: Double) -> (text: String, deltaText: String) {
            var text = Self.shorten(label, to: nameWidth - 1).padding(toLength: nameWidth, withPad: " ", startingAt: 0)
            for m in methodColumns { text += Self.percent(values[m]).leftPadded(Self.valueWidth) }
            return (text, showDelta ? Self.signed(delta).leftPadded(Self.valueWidth) : "")
        }
        let deltaX = left + nameWidth + Self.valueWidth * methodColumns.count
        func deltaColor(_ d: Double, _ otherwise: RGB) -> RGB { d.isNaN || abs(d) < 0.0005 ? otherwise : d > 0 ? role(.fixed) : role(.broken) }
        for (offset, row) in table.rows.enumerated().dropFirst(first).prefix(visible) {
            let y = 3 + offset - first
            let selected = offset == state.selectedRow
            let focused = state.focusedClass == row.classIndex
            let fg = selected ? role(.statusText) : state.focusedClass != nil && !focused ? role(.dim) : role(.text)
            let rowBg = selected ? role(.selection) : bg
            grid.fill(x: left - 1, y: y, width: width - 2, height: 1, with: Cell(" ", foreground: fg, background: rowBg))
            grid[left - 1, y] = Cell("█", foreground: theme.color(ofClass: UInt8(row.classIndex)), background: rowBg)
            let (text, deltaText) = line((focused ? "▸" : "") + theme.space.classNames[row.classIndex], row.iou, row.delta)
            grid.text(text, x: left, y: y, foreground: fg, background: rowBg)
            grid.text(deltaText, x: deltaX, y: y, foreground: deltaColor(row.delta, fg), background: rowBg)
        }
        let meanRow = 3 + min(visible, table.rows.count)
        let (meanText, meanDelta) = line(state.panelMetric == .iou ? "mIoU" : "mean", table.mean, table.meanDelta)
        grid.text(meanText, x: left, y: meanRow, foreground: role(.title), background: bg, bold: true)
        grid.text(meanDelta, x: deltaX, y: meanRow, foreground: deltaColor(table.meanDelta, role(.title)), background: bg, bold: true)
        let above = first, below = max(0, table.rows.count - first - visible)
        if above + below > 0 {
            grid.text(Self.shorten("▲\(above) ▼\(below) more classes (↑/↓)", to: inner), x: left, y: meanRow + 1, foreground: role(.dim), background: bg)
        }
    }

    // MARK: confusion panel

    static let confusionCell = 3

    func confusionPanelWidth() -> Int { 3 + 14 + Self.confusionCell * (theme.space.count + 1) }

    /// The confusion the panel shows: the compared method's, over the scope.
    var confusion: (matrix: ConfusionMatrix, method: String)? {
        guard let method = model.comparedMethod, let matrix = scopeMatrices?[method] else { return nil }
        return (matrix, method)
    }

    /// What the cursor cell means, for the status line:
    /// "GT wall → pred building: 12,345 px (3.1% of wall)".
    var confusionCursorText: String? {
        guard state.panel == .confusion, let (m, method) = confusion else { return nil }
        let names = theme.space.classNames
        let g = state.confusionRow, p = state.confusionColumn
        let predicted = p < names.count ? names[p] : "no class"
        let total = m.rowTotal(g)
        let share = total == 0 ? "no \(names[g]) pixels" : "\(Self.percentOne(Double(m[g, p]) / Double(total)))% of \(names[g])"
        return "GT \(names[g]) → \(method) \(predicted): \(Self.grouped(Int(m[g, p]))) px (\(share))"
    }

    /// A percentage with one decimal, never rounded to a misleading 0.0 or 100.0.
    static func percentOne(_ fraction: Double) -> String {
        let tenths = Int((fraction * 1000).rounded())
        if tenths == 0 && fraction > 0 { return "<0.1" }
        if tenths == 1000 && fraction < 1 { return ">99.9" }
        return "\(tenths / 10).\(tenths % 10)"
    }

    func drawConfusionPanel(x: Int, width: Int, height: Int, into grid: inout CellGrid) {
        let border = role(.border), bg = role(.background)
        for y in 0..<height { grid[x, y] = Cell("│", foreground: border, background: bg) }
        let left = x + 2, inner = width - 3
        guard let (m, method) = confusion else {
            let reason = !model.hasGroundTruth || model.methods.isEmpty ? "the confusion matrix needs ground truth and predictions"
                : state.scope == .frame ? "no confusion for this frame (no readable ground truth or prediction)" : "computing…"
            grid.text("confusion", x: left, y: 0, foreground: role(.title), background: bg, bold: true)
            for (i, line) in wrap(reason, width: inner).enumerated() { grid.text(line, x: left, y: 2 + i, foreground: role(.dim), background: bg) }
            return
        }
        let k = m.classes, cw = Self.confusionCell
        let names = theme.space.classNames
        grid.text(Self.shorten("confusion · \(method) · \(scopeName) · % of GT row", to: inner), x: left, y: 0,
                  foreground: role(.title), background: bg, bold: true)
        let labelWidth = min(14, max(6, inner - cw * (k + 1)))
        let visibleColumns = max(1, min(k + 1, (inner - labelWidth) / cw))
        let firstColumn = max(0, min(state.confusionColumn - visibleColumns / 2, k + 1 - visibleColumns))
        let visibleRows = max(1, height - 4)
        let firstRow = max(0, min(state.confusionRow - visibleRows / 2, k - visibleRows))
        // Header: predicted classes by trainId ("—": no evaluated class).
        var hx = left + labelWidth
        for p in firstColumn..<(firstColumn + visibleColumns) {
            let label = p < k ? "\(p)" : "—"
            let current = p == state.confusionColumn
            grid.text(label.leftPadded(cw), x: hx, y: 1, foreground: current ? role(.title) : role(.dim), background: bg, bold: current)
            hx += cw
        }
        for g in firstRow..<min(k, firstRow + visibleRows) {
            let y = 2 + g - firstRow
            let current = g == state.confusionRow
            let label = Self.shorten("\(g) \(names[g])", to: labelWidth - 1)
            grid.text(label, x: left, y: y, foreground: current ? role(.title) : role(.text), background: bg, bold: current)
            let total = m.rowTotal(g)
            for p in firstColumn..<(firstColumn + visibleColumns) {
                let count = m[g, p]
                let fraction = total > 0 ? Double(count) / Double(total) : 0
                let text: String
                if total == 0 { text = "-" } else if count == 0 { text = "." } else if fraction < 0.005 { text = "<1" } else { text = "\(Int((fraction * 100).rounded()))" }
                let scale = g == p ? role(.confusionDiagonal) : role(.confusionOff)
                var cellBg = count > 0 ? Self.blend(bg, scale, Float(0.2 + 0.8 * fraction.squareRoot())) : bg
                var fg = Self.luma(cellBg) > 140 ? RGB(0, 0, 0) : role(.text)
                let isCursor = g == state.confusionRow && p == state.confusionColumn
                if isCursor { cellBg = role(.selection); fg = role(.statusText) }
                let cx = left + labelWidth + (p - firstColumn) * cw
                grid.fill(x: cx, y: y, width: cw, height: 1, with: Cell(" ", foreground: fg, background: cellBg))
                grid.text(text.leftPadded(cw), x: cx, y: y, foreground: fg, background: cellBg, bold: isCursor || g == p)
            }
        }
        let legendY = 2 + min(k, visibleRows)
        var lx = left
        for (color, text) in [(role(.confusionDiagonal), "correct"), (role(.confusionOff), "confused")] where lx + text.count + 3 < left + inner {
            grid[lx, legendY] = Cell("■", foreground: color, background: bg)
            grid.text(text, x: lx + 2, y: legendY, foreground: role(.text), background: bg)
            lx += text.count + 4
        }
        grid.text(Self.shorten("darker = fewer · Enter: its frames", to: max(0, left + inner - lx)), x: lx, y: legendY, foreground: role(.dim), background: bg)
        let hiddenRows = k - min(k, visibleRows), hiddenColumns = k + 1 - visibleColumns
        if hiddenRows + hiddenColumns > 0 && legendY + 1 < height {
            grid.text(Self.fit([("shown: rows \(min(k, visibleRows))/\(k) columns \(visibleColumns)/\(k + 1)", 2), ("scrolls with the cursor", 1)], width: inner),
                      x: left, y: legendY + 1, foreground: role(.dim), background: bg)
        }
    }

    static func luma(_ c: RGB) -> Int { (299 * Int(c.r) + 587 * Int(c.g) + 114 * Int(c.b)) / 1000 }

    // MARK: boxes over everything

    /// A bordered box centred on the screen, cleared; returns its frame.
    func box(width boxWidth: Int, height boxHeight: Int, title: String, footer: String, into grid: inout CellGrid) -> (x: Int, y: Int) {
        let x0 = (width - boxWidth) / 2, y0 = (height - boxHeight) / 2
        let bg = role(.statusBar), border = role(.border)
        grid.fill(x: x0, y: y0, width: boxWidth, height: boxHeight, with: Cell(" ", foreground: role(.text), background: bg))
        for x in x0..<(x0 + boxWidth) {
            grid[x, y0] = Cell("─", foreground: border, background: bg)
            grid[x, y0 + boxHeight - 1] = Cell("─", foreground: border, background: bg)
        }
        for y in y0..<(y0 + boxHeight) {
            grid[x0, y] = Cell("│", foreground: border, background: bg)
            grid[x0 + boxWidth - 1, y] = Cell("│", foreground: border, background: bg)
        }
        grid[x0, y0] = Cell("┌", foreground: border, background: bg)
        grid[x0 + boxWidth - 1, y0] = Cell("┐", foreground: border, background: bg)
        grid[x0, y0 + boxHeight - 1] = Cell("└", foreground: border, background: bg)
        grid[x0 + boxWidth - 1, y0 + boxHeight - 1] = Cell("┘", foreground: border, background: bg)
        grid.text(" " + Self.shorten(title, to: boxWidth - 6) + " ", x: x0 + 2, y: y0, foreground: role(.title), background: bg, bold: true)
        grid.text(" " + Self.shorten(footer, to: boxWidth - 6) + " ", x: x0 + 2, y: y0 + boxHeight - 1, foreground: role(.title), background: bg)
        return (x0, y0)
    }

    func drawFrameList(_ list: ViewState.FrameList, into grid: inout CellGrid) {
        let boxWidth = min(width - 4, 72), boxHeight = min(height - 2, list.entries.count + 4)
        let (x0, y0) = box(width: boxWidth, height: boxHeight, title: list.title, footer: "↑/↓ choose · Enter jumps · other keys close", into: &grid)
        let visible = boxHeight - 4
        let first = max(0, min(list.selected - visible / 2, list.entries.count - visible))
        let valueWidth = list.entries.map { Self.grouped($0.pixels).count }.max() ?? 1
        for (offset, entry) in list.entries.enumerated().dropFirst(first).prefix(visible) {
            let y = y0 + 2 + offset - first
            let selected = offset == list.selected
            let bg = selected ? role(.selection) : role(.statusBar)
            let value = Self.grouped(entry.pixels).leftPadded(valueWidth) + " px"
            let rank = "\(offset + 1).".leftPadded(5)
            let keyWidth = boxWidth - 4 - rank.count - 1 - value.count - 1
            let line = rank + " " + Self.shorten(entry.key, to: keyWidth).padding(toLength: keyWidth, withPad: " ", startingAt: 0) + " " + value
            grid.fill(x: x0 + 1, y: y, width: boxWidth - 2, height: 1, with: Cell(" ", foreground: role(.text), background: bg))
            grid.text(line, x: x0 + 2, y: y, foreground: selected ? role(.statusText) : role(.text), background: bg)
        }
    }

    /// Help lines at a screen width: keys, then the meaning wrapped beside them.
    public static func helpLayout(width: Int) -> (boxWidth: Int, keyWidth: Int, lines: [(keys: String, text: String)]) {
        let boxWidth = min(width - 4, 76)
        let keyWidth = (KeyBindings.rows.map(\.keys.count).max() ?? 10) + 2
        var lines: [(String, String)] = []
        for row in KeyBindings.rows {
            let wrapped = Compositor.wrapText(row.meaning, width: max(8, boxWidth - 4 - keyWidth))
            for (i, text) in wrapped.enumerated() { lines.append((i == 0 ? row.keys : "", text)) }
        }
        return (boxWidth, keyWidth, lines)
    }

    public static func helpLineCount(width: Int) -> Int { helpLayout(width: width).lines.count }

    func drawHelp(into grid: inout CellGrid) {
        let (boxWidth, keyWidth, lines) = Self.helpLayout(width: width)
        let boxHeight = min(height - 2, lines.count + 4)
        let visible = boxHeight - 4
        let first = max(0, min(state.helpScroll, lines.count - visible))
        let more = first + visible < lines.count
        let footer = (first > 0 || more ? "↑/↓ scroll · " : "") + "q quits · other keys close"
        let (x0, y0) = box(width: boxWidth, height: boxHeight, title: "segscope keys", footer: footer, into: &grid)
        let bg = role(.statusBar)
        for (i, line) in lines.dropFirst(first).prefix(visible).enumerated() {
            grid.text(line.keys, x: x0 + 2, y: y0 + 2 + i, foreground: role(.title), background: bg, bold: true)
            grid.text(line.text, x: x0 + 2 + keyWidth, y: y0 + 2 + i, foreground: role(.text), background: bg)
        }
        if first > 0 { grid.text("▲", x: x0 + boxWidth - 3, y: y0 + 1, foreground: role(.title), background: bg) }
        if more { grid.text("▼", x: x0 + boxWidth - 3, y: y0 + boxHeight - 2, foreground: role(.title), background: bg) }
    }
}
