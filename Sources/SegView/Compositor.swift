import SegDataset
import SegEval
import SegFormats
import SegLabels
import Synchronization

/// Draws a `ViewModel` into a `CellGrid`: a pure function of its input, so
/// the headless `render` command, the tests and the ncurses screen all see
/// the same picture.
public struct Compositor: Sendable {
    public static let minimumWidth = 60
    public static let minimumHeight = 16

    public let model: ViewModel
    public let width: Int
    public let height: Int

    public init(model: ViewModel, width: Int, height: Int) {
        self.model = model
        self.width = width
        self.height = height
    }

    var theme: Theme { model.theme }
    var state: ViewState { model.state }

    func role(_ r: ThemeRole) -> RGB { theme.color(r) }

    /// Where things go on the screen.
    public struct Layout: Sendable {
        public var panes: [(pane: Pane, x: Int, y: Int, width: Int, height: Int)]
        public var iouPanel: (x: Int, width: Int)?
        public var sparkRows: Int
        public var statusRow: Int
        public var inspectorRow: Int?
    }

    public func layout() -> Layout {
        let panes = model.panes
        let sparkMethods = model.hasGroundTruth ? min(4, model.methods.count) : 0
        let sparkRows = height >= 24 ? sparkMethods : 0
        let inspectorRow = state.inspect ? height - 2 - sparkRows : nil
        let bottom = 1 + sparkRows + (inspectorRow == nil ? 0 : 1)
        let areaHeight = height - bottom
        let iouWidth = state.showIoU ? min(width / 2, 16 + 7 * (model.methods.count + (model.reference != nil && model.methods.count > 1 ? 1 : 0))) : 0
        let areaWidth = width - iouWidth
        var rects: [(Pane, Int, Int, Int, Int)] = []
        let shown: [Pane]
        switch state.layout {
        case .single: shown = panes.isEmpty ? [] : [panes[min(state.singlePane, panes.count - 1)]]
        case .grid, .row: shown = panes
        }
        let n = max(1, shown.count)
        let columns = state.layout == .grid ? Int((Double(n)).squareRoot().rounded(.up)) : n
        let rows = (n + columns - 1) / columns
        let cellWidth = areaWidth / columns, cellHeight = areaHeight / rows
        for (i, pane) in shown.enumerated() {
            rects.append((pane, (i % columns) * cellWidth, (i / columns) * cellHeight, cellWidth, cellHeight))
        }
        return Layout(panes: rects.map { (pane: $0.0, x: $0.1, y: $0.2, width: $0.3, height: $0.4) },
                      iouPanel: state.showIoU ? (areaWidth, iouWidth) : nil, sparkRows: sparkRows,
                      statusRow: height - 1, inspectorRow: inspectorRow)
    }

    public func compose() -> CellGrid {
        var grid = CellGrid(width: width, height: height, fill: Cell(" ", foreground: role(.text), background: role(.background)))
        guard width >= Compositor.minimumWidth && height >= Compositor.minimumHeight else {
            let lines = ["Terminal too small", "need \(Compositor.minimumWidth)x\(Compositor.minimumHeight), have \(width)x\(height)", "q quits"]
            for (i, line) in lines.enumerated() {
                grid.text(line, x: max(0, (width - line.count) / 2), y: height / 2 - 1 + i, foreground: role(.warning), background: role(.background))
            }
            return grid
        }
        let layout = layout()
        var confidenceCounts: (up: Int, down: Int)?
        var flipCounts: FlipCounts?
        // Panes are independent: draw each into its own grid on all cores, then copy in.
        let drawn = Mutex<[(CellGrid, PaneCounts)?]>(Array(repeating: nil, count: layout.panes.count))
        let background = grid
        parallelFor(layout.panes.count) { i in
            let rect = layout.panes[i]
            var paneGrid = background
            let counts = drawPane(rect.pane, x: rect.x, y: rect.y, width: rect.width, height: rect.height, into: &paneGrid)
            drawn.withLock { $0[i] = (paneGrid, counts) }
        }
        for (i, result) in drawn.withLock({ $0 }).enumerated() {
            guard let (paneGrid, counts) = result else { continue }
            let rect = layout.panes[i]
            for y in rect.y..<min(height, rect.y + rect.height) {
                for x in rect.x..<min(width, rect.x + rect.width) { grid[x, y] = paneGrid[x, y] }
            }
            if case .confidenceChange = rect.pane { confidenceCounts = counts.confidence }
            if case .flips = rect.pane { flipCounts = counts.flips }
        }
        if let panel = layout.iouPanel { drawIoUPanel(x: panel.x, width: panel.width, height: height - 1 - layout.sparkRows - (layout.inspectorRow == nil ? 0 : 1), into: &grid) }
        if layout.sparkRows > 0 { drawSparklines(row: layout.statusRow - layout.sparkRows, rows: layout.sparkRows, into: &grid) }
        if let row = layout.inspectorRow { drawInspector(row: row, into: &grid) }
        drawStatus(row: layout.statusRow, confidence: confidenceCounts, flips: flipCounts, into: &grid)
        if state.showHelp { drawHelp(into: &grid) }
        return grid
    }

    // MARK: panes

    /// The image region shown (zoom and pan), in image pixels.
    public func viewport(imageWidth w: Int, imageHeight h: Int) -> Viewport {
        let zoom = max(1, state.zoom)
        let vw = Float(w) / zoom, vh = Float(h) / zoom
        let x0 = min(max(0, state.centerX * Float(w) - vw / 2), Float(w) - vw)
        let y0 = min(max(0, state.centerY * Float(h) - vh / 2), Float(h) - vh)
        return Viewport(x0: x0, y0: y0, x1: x0 + vw, y1: y0 + vh)
    }

    /// Output pixel size of a pane's image area, keeping the viewport's aspect
    /// (a cell is two square pixels high).
    public func pixelSize(viewport v: Viewport, columns: Int, rows: Int) -> (width: Int, height: Int) {
        let vw = v.x1 - v.x0, vh = v.y1 - v.y0
        let scale = min(Float(columns) / vw, Float(rows * 2) / vh)
        return (max(1, min(columns, Int((vw * scale).rounded()))), max(1, min(rows * 2, Int((vh * scale).rounded()))))
    }

    struct PaneCounts {
        var confidence: (up: Int, down: Int)?
        var flips: FlipCounts?
    }

    func drawPane(_ pane: Pane, x: Int, y: Int, width: Int, height: Int, into grid: inout CellGrid) -> PaneCounts {
        var counts = PaneCounts()
        let single = state.layout == .single
        let title = single ? "\(pane.title)  [Tab: next of \(model.panes.count)]" : pane.title
        var caption = " " + title
        if case .method(let name) = pane, let matrix = model.frame?.confusion[name] {
            let miou = Metrics(matrix).meanIoU
            if !miou.isNaN { caption += "  mIoU \(Self.percent(miou))" }
        }
        grid.text(caption, x: x, y: y, foreground: role(.title), background: role(.background), bold: true, maxWidth: width - 1)
        let columns = width - 1, rows = height - 1
        guard columns > 2, rows > 1 else { return counts }
        guard let frame = model.frame else {
            grid.text(model.loading ? "loading…" : "", x: x + 1, y: y + 1 + rows / 2, foreground: role(.dim), background: role(.background))
            return counts
        }
        if let error = frame.error {
            for (i, line) in wrap(error, width: columns - 2).prefix(rows).enumerated() {
                grid.text(line, x: x + 1, y: y + 1 + i, foreground: role(.warning), background: role(.background))
            }
            return counts
        }
        let w = frame.width, h = frame.height
        guard w > 0, h > 0 else { return counts }
        let v = viewport(imageWidth: w, imageHeight: h)
        let size = pixelSize(viewport: v, columns: columns, rows: rows)
        let pixels: [RGB]
        switch panePixels(pane, frame: frame, viewport: v, size: size) {
        case .failure(let reason): return explain(reason.text, x: x, y: y, columns: columns, into: &grid)
        case .success(let result):
            pixels = result.pixels
            counts = result.counts
        }
        let left = x + (columns - size.width) / 2
        let top = y + 1 + (rows - (size.height + 1) / 2) / 2
        for cy in 0..<((size.height + 1) / 2) {
            for cx in 0..<size.width {
                let upper = pixels[(2 * cy) * size.width + cx]
                let lower = 2 * cy + 1 < size.height ? pixels[(2 * cy + 1) * size.width + cx] : role(.background)
                grid[left + cx, top + cy] = Cell(Cell.upperHalf, foreground: upper, background: lower, isPixel: true)
            }
        }
        if state.inspect, let cursor = state.cursor, Float(cursor.x) >= v.x0, Float(cursor.x) < v.x1,
           Float(cursor.y) >= v.y0, Float(cursor.y) < v.y1 {
            let cx = Int((Float(cursor.x) - v.x0) / (v.x1 - v.x0) * Float(size.width))
            let cy = Int((Float(cursor.y) - v.y0) / (v.y1 - v.y0) * Float(size.height)) / 2
            grid[left + cx, top + cy] = Cell("╋", foreground: role(.cursor), background: grid[left + cx, top + cy].background, bold: true)
        }
        return counts
    }

    struct Unavailable: Error {
        let text: String
    }

    /// A pane's pixels at `size` for viewport `v` (full resolution when size
    /// equals the viewport), with the counts shown in the status bar.
    func panePixels(_ pane: Pane, frame: FrameData, viewport v: Viewport, size: (width: Int, height: Int))
        -> Result<(pixels: [RGB], counts: PaneCounts), Unavailable> {
        var counts = PaneCounts()
        let w = frame.width, h = frame.height
        var pixels: [RGB]
        switch pane {
        case .image:
            guard let image = frame.image else { return .failure(Unavailable(text: "no RGB frame for this key")) }
            pixels = Downsample.areaAverage(image, viewport: v, outWidth: size.width, outHeight: size.height)
            if state.overlay, let source = frame.groundTruth ?? model.methods.lazy.compactMap({ frame.predictions[$0] }).first {
                let ids = Downsample.majority(source.ids, width: w, height: h, viewport: v, outWidth: size.width, outHeight: size.height)
                let a = min(max(state.opacity, 0), 1)
                let table = (0..<256).map { classColor(UInt8($0)) }
                for i in pixels.indices where ids[i] != LabelSpace.ignore {
                    pixels[i] = Self.blend(pixels[i], table[Int(ids[i])], a)
                }
            }
        case .groundTruth:
            guard let gt = frame.groundTruth else { return .failure(Unavailable(text: "no ground truth for this frame")) }
            pixels = labelPixels(gt.ids, w, h, v, size)
        case .method(let name):
            guard let prediction = frame.predictions[name] else { return .failure(Unavailable(text: "no \(name) prediction for this frame")) }
            pixels = labelPixels(prediction.ids, w, h, v, size)
        case .confidenceChange(let before, let after):
            guard let c0 = frame.confidences[before], let c1 = frame.confidences[after], let distance = frame.boundaryDistance else {
                return .failure(Unavailable(text: "Δconf needs confidence maps of \(before) and \(after) (--conf NAME=DIR, or a run written by segscope infer)"))
            }
            var marks = [UInt8](repeating: 0, count: w * h)
            var up = 0, down = 0
            let r = UInt16(max(0, state.radius)), tau = state.tau
            for i in marks.indices where distance[i] <= r {
                let d = c1.values[i] - c0.values[i]
                if d >= tau { marks[i] = 1; up += 1 } else if d <= -tau { marks[i] = 2; down += 1 }
            }
            counts.confidence = (up, down)
            let base = frame.predictions[after] ?? frame.groundTruth
            pixels = base.map { labelPixels($0.ids, w, h, v, size).map { Self.blend($0, role(.background), 0.65) } }
                ?? [RGB](repeating: role(.background), count: size.width * size.height)
            let shown = Downsample.anyMark(marks, width: w, height: h, viewport: v, outWidth: size.width, outHeight: size.height)
            for i in pixels.indices where shown[i] != 0 { pixels[i] = shown[i] == 1 ? role(.confidenceUp) : role(.confidenceDown) }
        case .flips(let reference, let method):
            guard let gt = frame.groundTruth, let ref = frame.predictions[reference], let other = frame.predictions[method] else {
                return .failure(Unavailable(text: "flips need ground truth and predictions of \(reference) and \(method)"))
            }
            var marks = [UInt8](repeating: 0, count: w * h)
            let band = state.flipsInBandOnly ? frame.boundaryDistance : nil
            var flips = FlipCounts()
            for i in marks.indices {
                if let band, band[i] > UInt16(max(0, state.radius)) { continue }
                switch FlipCounts.classify(gt: gt.ids[i], reference: ref.ids[i], method: other.ids[i]) {
                case .fixed: marks[i] = 1; flips.fixed += 1
                case .broken: marks[i] = 2; flips.broken += 1
                case .changedWrong: marks[i] = 3; flips.changedWrong += 1
                case .unchanged: break
                }
            }
            counts.flips = flips
            pixels = labelPixels(gt.ids, w, h, v, size).map { Self.blend($0, role(.background), 0.75) }
            let shown = Downsample.anyMark(marks, width: w, height: h, viewport: v, outWidth: size.width, outHeight: size.height)
            for i in pixels.indices where shown[i] != 0 {
                pixels[i] = shown[i] == 1 ? role(.fixed) : shown[i] == 2 ? role(.broken) : role(.changedWrong)
            }
        }
        return .success((pixels, counts))
    }

    /// Image cell position of screen cell (column, row) inside a pane, for mouse clicks.
    public func imagePoint(column: Int, row: Int) -> ViewState.Point? {
        guard let frame = model.frame, frame.width > 0 else { return nil }
        for rect in layout().panes where column >= rect.x && column < rect.x + rect.width - 1 && row > rect.y && row < rect.y + rect.height {
            let v = viewport(imageWidth: frame.width, imageHeight: frame.height)
            let size = pixelSize(viewport: v, columns: rect.width - 1, rows: rect.height - 1)
            let left = rect.x + (rect.width - 1 - size.width) / 2
            let top = rect.y + 1 + (rect.height - 1 - (size.height + 1) / 2) / 2
            let px = column - left, py = (row - top) * 2
            guard px >= 0, px < size.width, py >= 0, py < size.height else { return nil }
            return ViewState.Point(x: Int(v.x0 + (Float(px) + 0.5) / Float(size.width) * (v.x1 - v.x0)),
                                   y: Int(v.y0 + (Float(py) + 0.5) / Float(size.height) * (v.y1 - v.y0)))
        }
        return nil
    }

    func explain(_ text: String, x: Int, y: Int, columns: Int, into grid: inout CellGrid) -> PaneCounts {
        for (i, line) in wrap(text, width: max(10, columns - 2)).enumerated() {
            grid.text(line, x: x + 1, y: y + 2 + i, foreground: role(.dim), background: role(.background))
        }
        return PaneCounts()
    }

    func classColor(_ id: UInt8) -> RGB {
        let c = theme.color(ofClass: id)
        if let focus = state.focusedClass, Int(id) != focus { return Self.blend(c, role(.background), 0.75) }
        return c
    }

    func labelPixels(_ ids: [UInt8], _ w: Int, _ h: Int, _ v: Viewport, _ size: (width: Int, height: Int)) -> [RGB] {
        let table = (0..<256).map { classColor(UInt8($0)) }
        return Downsample.majority(ids, width: w, height: h, viewport: v, outWidth: size.width, outHeight: size.height).map { table[Int($0)] }
    }

    static func blend(_ a: RGB, _ b: RGB, _ t: Float) -> RGB {
        func mix(_ x: UInt8, _ y: UInt8) -> UInt8 { UInt8((Float(x) * (1 - t) + Float(y) * t).rounded()) }
        return RGB(mix(a.r, b.r), mix(a.g, b.g), mix(a.b, b.b))
    }

    static func percent(_ v: Double) -> String {
        guard !v.isNaN else { return "-" }
        let tenths = Int((v * 1000).rounded())
        return "\(tenths / 10).\(abs(tenths % 10))"
    }

    func wrap(_ text: String, width: Int) -> [String] {
        var lines: [String] = [], line = ""
        for word in text.split(separator: " ") {
            if line.count + word.count + 1 > width && !line.isEmpty { lines.append(line); line = "" }
            line += (line.isEmpty ? "" : " ") + word
        }
        if !line.isEmpty { lines.append(line) }
        return lines
    }

    // MARK: IoU panel

    /// Rows of the IoU panel in display order: class index and per-method IoU.
    public func iouRows() -> (scope: String, methods: [String], rows: [(classIndex: Int, iou: [Double], delta: Double)], mean: [Double])? {
        let methods = model.methods
        let matrices: [String: ConfusionMatrix]?
        let scope: String
        switch state.iouScope {
        case .frame:
            matrices = model.frame?.confusion
            scope = "this frame"
        case .sequence, .range:
            matrices = model.cumulative
            scope = state.iouScope == .sequence ? "sequence" : "marked range"
        }
        guard let matrices, !matrices.isEmpty else { return nil }
        let metrics = methods.map { matrices[$0].map(Metrics.init) }
        let reference = model.reference.flatMap { methods.firstIndex(of: $0) }
        let compared = model.comparedMethod.flatMap { methods.firstIndex(of: $0) }
        var rows: [(Int, [Double], Double)] = []
        for c in 0..<theme.space.count {
            let values = metrics.map { $0?.iou[c] ?? .nan }
            let delta = reference != nil && compared != nil ? values[compared!] - values[reference!] : .nan
            rows.append((c, values, delta))
        }
        if state.iouSort == .byDelta {
            rows.sort { a, b in
                if a.2.isNaN != b.2.isNaN { return !a.2.isNaN }
                return a.2 == b.2 ? a.0 < b.0 : a.2 > b.2
            }
        }
        return (scope, methods, rows.map { (classIndex: $0.0, iou: $0.1, delta: $0.2) }, metrics.map { $0?.meanIoU ?? .nan })
    }

    func drawIoUPanel(x: Int, width: Int, height: Int, into grid: inout CellGrid) {
        let border = role(.border), bg = role(.background)
        for y in 0..<height { grid[x, y] = Cell("│", foreground: border, background: bg) }
        let left = x + 2
        guard let table = iouRows() else {
            let reason = !model.hasGroundTruth ? "IoU needs ground truth" : model.methods.isEmpty ? "IoU needs predictions (--pred NAME=DIR)"
                : state.iouScope == .frame ? "this frame has no ground truth" : "computing…"
            grid.text("IoU %", x: left, y: 0, foreground: role(.title), background: bg, bold: true)
            for (i, line) in wrap(reason, width: width - 3).enumerated() { grid.text(line, x: left, y: 2 + i, foreground: role(.dim), background: bg) }
            return
        }
        grid.text("IoU % · \(table.scope) · sort \(state.iouSort.rawValue)", x: left, y: 0, foreground: role(.title), background: bg, bold: true, maxWidth: width - 3)
        let showDelta = model.reference != nil && model.methods.count > 1
        var header = "class".padding(toLength: 13, withPad: " ", startingAt: 0)
        for method in table.methods { header += String(method.prefix(6)).leftPadded(7) }
        if showDelta { header += "Δ".leftPadded(7) }
        grid.text(header, x: left, y: 1, foreground: role(.text), background: bg, bold: true, maxWidth: width - 3)
        let visible = height - 3
        let first = max(0, min(state.selectedRow - visible / 2, table.rows.count - visible))
        for (offset, row) in table.rows.enumerated().dropFirst(first).prefix(max(0, visible)) {
            let y = 2 + offset - first
            let name = theme.space.classNames[row.classIndex]
            let selected = offset == state.selectedRow
            let focused = state.focusedClass == row.classIndex
            let fg = selected ? role(.statusText) : state.focusedClass != nil && !focused ? role(.dim) : role(.text)
            let rowBg = selected ? role(.selection) : bg
            grid.fill(x: left - 1, y: y, width: width - 2, height: 1, with: Cell(" ", foreground: fg, background: rowBg))
            grid[left - 1, y] = Cell("█", foreground: theme.color(ofClass: UInt8(row.classIndex)), background: rowBg)
            var line = ((focused ? "▸" : "") + name).padding(toLength: 13, withPad: " ", startingAt: 0)
            for value in row.iou { line += Self.percent(value).leftPadded(7) }
            if showDelta { line += Self.signed(row.delta).leftPadded(7) }
            grid.text(String(line.prefix(width - 3)), x: left, y: y, foreground: fg, background: rowBg)
            if showDelta, !row.delta.isNaN, abs(row.delta) >= 0.0005 {
                let deltaX = left + 13 + 7 * table.methods.count
                grid.text(Self.signed(row.delta).leftPadded(7), x: deltaX, y: y,
                          foreground: row.delta > 0 ? role(.fixed) : role(.broken), background: rowBg, maxWidth: max(0, x + width - deltaX))
            }
        }
        let meanRow = 2 + min(visible, table.rows.count)
        if meanRow < height {
            var line = "mIoU".padding(toLength: 13, withPad: " ", startingAt: 0)
            for value in table.mean { line += Self.percent(value).leftPadded(7) }
            grid.text(line, x: left, y: meanRow, foreground: role(.title), background: bg, bold: true, maxWidth: width - 3)
        }
    }

    static func signed(_ v: Double) -> String {
        guard !v.isNaN else { return "-" }
        let tenths = Int((v * 1000).rounded())
        return (tenths > 0 ? "+" : tenths < 0 ? "-" : " ") + "\(abs(tenths) / 10).\(abs(tenths) % 10)"
    }

    // MARK: sparklines, inspector, status, help

    func drawSparklines(row: Int, rows: Int, into grid: inout CellGrid) {
        let bars: [Character] = ["▁", "▂", "▃", "▄", "▅", "▆", "▇", "█"]
        let labelWidth = 12
        let span = width - labelWidth - 16
        guard span > 4 else { return }
        for (i, method) in model.methods.prefix(rows).enumerated() {
            let y = row + i
            grid.text(String(method.prefix(labelWidth - 1)), x: 0, y: y, foreground: role(.text), background: role(.background))
            let values = model.sparkline[method] ?? []
            guard !values.isEmpty else {
                grid.text("per-frame mIoU: computing…", x: labelWidth, y: y, foreground: role(.dim), background: role(.background))
                continue
            }
            let known = values.compactMap { $0 }.filter { !$0.isNaN }
            let low = known.min() ?? 0, high = known.max() ?? 1
            let n = values.count
            let cells = min(span, n)
            for cx in 0..<cells {
                let range = (cx * n / cells)..<max(cx * n / cells + 1, (cx + 1) * n / cells)
                let bucket = values[range].compactMap { $0 }.filter { !$0.isNaN }
                let isCurrent = range.contains(state.frame)
                let fg = isCurrent ? role(.cursor) : role(.text)
                let bg = isCurrent ? role(.selection) : role(.background)
                guard let v = bucket.min() else { grid[labelWidth + cx, y] = Cell(isCurrent ? "·" : " ", foreground: fg, background: bg); continue }
                let level = high > low ? Int(((v - low) / (high - low) * 7).rounded()) : 7
                grid[labelWidth + cx, y] = Cell(bars[max(0, min(7, level))], foreground: fg, background: bg)
            }
            let summary = known.isEmpty ? "no GT" : "\(Self.percent(low))–\(Self.percent(high))"
            grid.text(summary, x: labelWidth + cells + 2, y: y, foreground: role(.dim), background: role(.background))
        }
    }

    func drawInspector(row: Int, into grid: inout CellGrid) {
        let bg = role(.statusBar)
        grid.fill(x: 0, y: row, width: width, height: 1, with: Cell(" ", foreground: role(.statusText), background: bg))
        guard let cursor = state.cursor, let frame = model.frame, frame.width > 0 else {
            grid.text(" inspect: arrows move the cursor, or click a pane; I leaves", x: 0, y: row, foreground: role(.statusText), background: bg)
            return
        }
        let i = cursor.y * frame.width + cursor.x
        var text = " (\(cursor.x),\(cursor.y))"
        func name(_ id: UInt8) -> String { Int(id) < theme.space.count ? theme.space.classNames[Int(id)] : "ignore" }
        if let gt = frame.groundTruth { text += "  GT \(name(gt.ids[i]))" }
        for method in model.methods {
            guard let p = frame.predictions[method] else { continue }
            text += "  \(method) \(name(p.ids[i]))"
            if let c = frame.confidences[method] { text += " \(Self.fixed2(c.values[i]))" }
        }
        if let pair = model.confidencePair, let c0 = frame.confidences[pair.before], let c1 = frame.confidences[pair.after] {
            let d = c1.values[i] - c0.values[i]
            text += "  Δconf \(d >= 0 ? "+" : "")\(Self.fixed2(d))"
        }
        if let distance = frame.boundaryDistance { text += "  boundary \(distance[i] >= 255 ? "≥255" : "\(distance[i])")px" }
        grid.text(text, x: 0, y: row, foreground: role(.statusText), background: bg, maxWidth: width)
    }

    static func fixed2(_ v: Float) -> String {
        let hundredths = Int((abs(v) * 100).rounded())
        return (v < 0 && hundredths > 0 ? "-" : "") + "\(hundredths / 100).\(hundredths % 100 < 10 ? "0" : "")\(hundredths % 100)"
    }

    func drawStatus(row: Int, confidence: (up: Int, down: Int)?, flips: FlipCounts?, into grid: inout CellGrid) {
        let bg = role(.statusBar), fg = role(.statusText)
        grid.fill(x: 0, y: row, width: width, height: 1, with: Cell(" ", foreground: fg, background: bg))
        if let prompt = state.prompt {
            let label = prompt.kind == .jump ? "jump to frame (key or index): " : "bookmark note (Enter saves, Esc cancels): "
            grid.text(" " + label + prompt.text + "▏", x: 0, y: row, foreground: fg, background: bg, bold: true)
            return
        }
        let sequenceCount = model.sequenceNames.count
        let key = state.frame < model.frameKeys.count ? model.frameKeys[state.frame] : "-"
        var left = " seq \(state.sequence + 1)/\(sequenceCount) · frame \(state.frame + 1)/\(model.frameKeys.count) \(key)"
        if model.bookmarkedFrames.contains(key) { left += " ★" }
        left += " · \(state.layout.rawValue)"
        switch state.mode {
        case .classes: break
        case .confidence:
            if let confidence {
                left += " · Δconf≥\(Self.fixed2(state.tau)) r\(state.radius): ↑\(confidence.up) ↓\(confidence.down)"
            } else {
                left += " · Δconf: no confidences"
            }
        case .flips:
            if let flips {
                left += " · fixed \(flips.fixed) broken \(flips.broken) changed \(flips.changedWrong)\(state.flipsInBandOnly ? " (band r\(state.radius))" : "")"
            } else {
                left += " · flips: need GT and two methods"
            }
        }
        if state.overlay { left += " · overlay \(Int((state.opacity * 100).rounded()))%" }
        if state.zoom > 1 { left += " · zoom \(Self.fixed2(state.zoom))x" }
        if state.playing { left += " · ▶ \(Int(state.fps))fps" }
        if model.loading { left += " · loading" }
        let right = "? help  q quit "
        if let message = state.message { left += " · " + message }
        grid.text(left, x: 0, y: row, foreground: fg, background: bg, maxWidth: width - right.count - 1)
        grid.text(right, x: width - right.count, y: row, foreground: fg, background: bg, bold: true)
    }

    public static var helpLines: [(String, String)] { KeyBindings.rows.map { ($0.keys, $0.meaning) } }

    func drawHelp(into grid: inout CellGrid) {
        let boxWidth = min(width - 4, 64), boxHeight = min(height - 2, Compositor.helpLines.count + 4)
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
        grid.text(" segscope keys (any key closes) ", x: x0 + 2, y: y0, foreground: role(.title), background: bg, bold: true)
        for (i, (keys, meaning)) in Compositor.helpLines.prefix(boxHeight - 4).enumerated() {
            grid.text(keys, x: x0 + 2, y: y0 + 2 + i, foreground: role(.title), background: bg, bold: true)
            grid.text(meaning, x: x0 + 19, y: y0 + 2 + i, foreground: role(.text), background: bg, maxWidth: boxWidth - 21)
        }
    }
}

extension String {
    func leftPadded(_ n: Int) -> String { count >= n ? self : String(repeating: " ", count: n - count) + self }
}
