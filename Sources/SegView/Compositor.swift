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

    /// A side panel's border down its left column; returns where its text starts and how wide it may be.
    func sidePanelBorder(x: Int, width: Int, height: Int, into grid: inout CellGrid) -> (left: Int, inner: Int) {
        for y in 0..<height { grid[x, y] = Cell("│", foreground: role(.border), background: role(.background)) }
        return (x + 2, width - 3)
    }

    /// The layout of this screen (the controller keeps the one it painted).
    public func layout() -> ScreenLayout { ScreenLayout(model: model, width: width, height: height) }

    /// Columns and rows of `count` panes: a square-ish grid, one row, or one pane.
    static func arrangement(count: Int, layout: ViewState.Layout) -> (columns: Int, rows: Int) {
        let n = max(1, count)
        let columns = layout == .grid ? Int(Double(n).squareRoot().rounded(.up)) : layout == .row ? n : 1
        return (columns, (n + columns - 1) / columns)
    }

    public func compose() -> CellGrid { compose(layout: layout()) }

    /// Draws the screen in `layout` (computed once per paint).
    public func compose(layout: ScreenLayout) -> CellGrid {
        var grid = CellGrid(
            width: width, height: height, fill: Cell(" ", foreground: role(.text), background: role(.background)))
        guard width >= Compositor.minimumWidth && height >= Compositor.minimumHeight else {
            let lines = [
                "Terminal too small",
                "need \(Compositor.minimumWidth)x\(Compositor.minimumHeight), have \(width)x\(height)", "q quits",
            ]
            for (i, line) in lines.enumerated() {
                grid.text(
                    line, x: max(0, (width - line.count) / 2), y: height / 2 - 1 + i, foreground: role(.warning),
                    background: role(.background))
            }
            return grid
        }
        // Panes are independent: draw each into its own grid on all cores, then copy in.
        let drawn = Mutex<[CellGrid?]>(Array(repeating: nil, count: layout.panes.count))
        let background = grid
        parallelFor(layout.panes.count) { i in
            let rect = layout.panes[i]
            var paneGrid = background
            drawPane(rect.pane, x: rect.x, y: rect.y, width: rect.width, height: rect.height, into: &paneGrid)
            drawn.withLock { $0[i] = paneGrid }
        }
        for (i, result) in drawn.withLock({ $0 }).enumerated() {
            guard let paneGrid = result else { continue }
            let rect = layout.panes[i]
            for y in rect.y..<min(height, rect.y + rect.height) {
                for x in rect.x..<min(width, rect.x + rect.width) { grid[x, y] = paneGrid[x, y] }
            }
        }
        if let panel = layout.panel, state.explain.on {
            ExplainView.drawPanel(self, x: panel.x, width: panel.width, height: layout.areaHeight, into: &grid)
        } else if let panel = layout.panel {
            switch state.panel.kind {
            case .iou: IoUPanel.draw(self, x: panel.x, width: panel.width, height: layout.areaHeight, into: &grid)
            case .confusion:
                ConfusionPanel.draw(
                    self, x: panel.x, width: panel.width, height: layout.areaHeight,
                    into: &grid)
            case .attribution:
                MemoryAttributionPanel.draw(
                    self, x: panel.x, width: panel.width, height: layout.areaHeight, into: &grid)
            case .none: break
            }
        }
        if layout.sparkRows > 0 { Sparklines.draw(self, row: layout.areaHeight, rows: layout.sparkRows, into: &grid) }
        if let row = layout.inspectorRow { Inspector.draw(self, row: row, into: &grid) }
        if let row = layout.legendRow { drawLegend(layout.legend, row: row, into: &grid) }
        drawStatus(row: layout.statusRow, into: &grid)
        if let list = state.frameList { FrameListUnit.draw(self, list, into: &grid) }
        if state.help.shown { HelpUnit.draw(self, into: &grid) }
        return grid
    }

    // MARK: panes

    /// The image region shown (zoom and pan), in image pixels.
    public func viewport(imageWidth w: Int, imageHeight h: Int) -> Viewport {
        ZoomUnit.viewport(
            state, imageWidth: w,
            imageHeight: h)
    }

    /// Output pixel size of a pane's image area, keeping the viewport's aspect
    /// (a cell is two square pixels high).
    public static func pixelSize(viewport v: Viewport, columns: Int, rows: Int) -> (width: Int, height: Int) {
        let vw = v.x1 - v.x0
        let vh = v.y1 - v.y0
        let scale = min(Float(columns) / vw, Float(rows * 2) / vh)
        return (max(1, min(columns, Int((vw * scale).rounded()))), max(1, min(rows * 2, Int((vh * scale).rounded()))))
    }

    /// mIoU of a method on the current frame, as its caption shows it.
    func frameMeanIoU(_ method: String) -> Double? {
        guard let matrix = model.frame?.confusion[method] else { return nil }
        let miou = Metrics(matrix).meanIoU
        return miou.isNaN ? nil : miou
    }

    /// Where a pane's image sits inside its rectangle: centred, the caption right above it.
    static func imageRect(x: Int, y: Int, width: Int, height: Int, size: (width: Int, height: Int)) -> (
        left: Int,
        top: Int
    ) {
        let columns = width - 1
        let rows = height - 1
        return (x + (columns - size.width) / 2, y + 1 + (rows - (size.height + 1) / 2) / 2)
    }

    func drawPane(_ pane: Pane, x: Int, y: Int, width: Int, height: Int, into grid: inout CellGrid) {
        let single = state.panes.layout == .single
        // The number is never cut: the title gives way first, then the word "mIoU".
        let title = single ? "\(pane.title)  [Tab: next of \(model.panes.count)]" : pane.title
        var caption = " " + Self.shorten(title, to: width - 2)
        if case .method(let name) = pane, let miou = frameMeanIoU(name) {
            let value = Self.percent(miou)
            if width - 2 - ("  mIoU " + value).count >= min(title.count, 4) {
                caption = " " + Self.shorten(title, to: width - 2 - ("  mIoU " + value).count) + "  mIoU " + value
            } else if width - 2 - (" " + value).count >= min(title.count, 2) {
                caption = " " + Self.shorten(title, to: width - 2 - (" " + value).count) + " " + value
            }
        }
        let columns = width - 1
        let rows = height - 1
        func drawCaption(row: Int) {
            grid.text(
                caption, x: x, y: row, foreground: role(.title), background: role(.background), bold: true,
                maxWidth: width - 1)
        }
        guard columns > 2, rows > 1, let frame = model.frame else {
            drawCaption(row: y)
            if rows > 1 {
                grid.text(
                    model.loading ? "loading…" : "", x: x + 1, y: y + 1 + rows / 2, foreground: role(.dim),
                    background: role(.background))
            }
            return
        }
        if let error = pane.sources(methods: model.methods).lazy.compactMap({ frame.errors[$0] }).first {
            drawCaption(row: y)
            for (i, line) in Self.wrapText(error, width: columns - 2).prefix(rows).enumerated() {
                grid.text(line, x: x + 1, y: y + 1 + i, foreground: role(.warning), background: role(.background))
            }
            return
        }
        let w = frame.width
        let h = frame.height
        guard w > 0, h > 0 else {
            drawCaption(row: y)
            return
        }
        let v = viewport(imageWidth: w, imageHeight: h)
        let size = Self.pixelSize(viewport: v, columns: columns, rows: rows)
        let (left, top) = Self.imageRect(x: x, y: y, width: width, height: height, size: size)
        // The caption sits right above its image (in the row layout images are short and centred).
        drawCaption(row: top - 1)
        let cells: [Cell]
        switch paneCells(pane, frame: frame, viewport: v, size: size) {
        case .failure(let reason):
            for (i, line) in Self.wrapText(reason.text, width: max(10, columns - 2)).enumerated() {
                grid.text(line, x: x + 1, y: top + i, foreground: role(.dim), background: role(.background))
            }
            return
        case .success(let result): cells = result
        }
        for (i, cell) in cells.enumerated() { grid[left + i % size.width, top + i / size.width] = cell }
        // The explain view marks the cursor's token on frame T only.
        var cursor = state.inspector.cursor
        if case .explain(let offset, _) = pane { cursor = offset == 0 ? ExplainView.tokenCentre(model) : nil }
        if state.inspector.on, let cursor, Float(cursor.x) >= v.x0, Float(cursor.x) < v.x1,
            Float(cursor.y) >= v.y0, Float(cursor.y) < v.y1
        {
            let cx = Int((Float(cursor.x) - v.x0) / (v.x1 - v.x0) * Float(size.width))
            let cy = Int((Float(cursor.y) - v.y0) / (v.y1 - v.y0) * Float(size.height)) / 2
            grid[left + cx, top + cy] = Cell(
                "╋", foreground: role(.cursor), background: grid[left + cx, top + cy].background, bold: true)
        }
    }

    /// A pane's pixels at `size` for viewport `v` (full resolution when size
    /// equals the viewport), with each pixel's mark kind (0: none).
    func panePixels(_ pane: Pane, frame: FrameData, viewport v: Viewport, size: (width: Int, height: Int))
        -> Result<(pixels: [RGB], marks: [UInt8]?, kinds: [MarkKind]), Unavailable>
    {
        let w = frame.width
        let h = frame.height
        if let problem = frame.sizeProblem { return .failure(Unavailable(problem)) }
        var pixels: [RGB]
        var shownMarks: [UInt8]?
        var kinds: [MarkKind] = []
        switch pane {
        case .image:
            guard let image = frame.image else { return .failure(Unavailable("no RGB frame for this key")) }
            pixels = Downsample.areaAverage(image, viewport: v, outWidth: size.width, outHeight: size.height)
            if state.panes.overlay,
                let source = frame.groundTruth
                    ?? model.methods.lazy.compactMap({ frame.predictions[$0] }).first
            {
                let ids = Downsample.majority(
                    source.ids, width: w, height: h, viewport: v, outWidth: size.width,
                    outHeight: size.height,
                    keeping: focusID)
                let a = min(max(state.panes.opacity, 0), 1)
                let table = classTable()
                for i in pixels.indices where ids[i] != LabelSpace.ignore {
                    pixels[i] = Self.blend(pixels[i], table[Int(ids[i])], a)
                }
            }
        case .groundTruth:
            guard let gt = frame.groundTruth else { return .failure(Unavailable("no ground truth for this frame")) }
            pixels = labelPixels(gt.ids, w, h, v, size)
        case .method(let name):
            guard let prediction = frame.predictions[name] else {
                return .failure(Unavailable("no \(name) prediction for this frame"))
            }
            pixels = labelPixels(prediction.ids, w, h, v, size)
        case .explain(let offset, _):
            return ExplainView.pixels(self, offset: offset, viewport: v, size: size)
        case .marks:
            switch model.markLayer {
            case nil: return .failure(Unavailable("computing…"))
            case .failure(let reason)?: return .failure(reason)
            case .success(let layer)?:
                guard layer.width == w, layer.height == h else { return .failure(Unavailable("computing…")) }
                pixels =
                    layer.base.map {
                        labelPixels($0.ids, w, h, v, size).map {
                            Self.blend(
                                $0, role(.background),
                                layer.dim)
                        }
                    }
                    ?? [RGB](repeating: role(.background), count: size.width * size.height)
                let shown = Downsample.anyMark(
                    layer.marks, width: w, height: h, viewport: v, outWidth: size.width,
                    outHeight: size.height)
                let colors = layer.kinds.map { role($0.role) }
                for i in pixels.indices where shown[i] != 0 { pixels[i] = colors[Int(shown[i]) - 1] }
                shownMarks = shown
                kinds = layer.kinds
            }
        }
        if let marks = model.highlightMarks, marks.count == w * h {
            let shown = Downsample.anyMark(
                marks, width: w, height: h, viewport: v, outWidth: size.width, outHeight: size.height)
            pixels = pixels.indices.map {
                shown[$0] != 0
                    ? role(.highlight)
                    : Self.blend(
                        pixels[$0], role(.background),
                        0.6)
            }
        }
        return .success((pixels, shownMarks, kinds))
    }

    /// The pane's cells: two pixels per cell as half blocks; without
    /// colours, a marked cell shows its kind's glyph instead.
    func paneCells(
        _ pane: Pane, frame: FrameData, viewport v: Viewport,
        size: (
            width: Int,
            height: Int
        )
    ) -> Result<[Cell], Unavailable> {
        switch panePixels(pane, frame: frame, viewport: v, size: size) {
        case .failure(let reason): return .failure(reason)
        case .success(let (pixels, marks, kinds)):
            let rows = (size.height + 1) / 2
            var cells: [Cell] = []
            cells.reserveCapacity(rows * size.width)
            for cy in 0..<rows {
                for cx in 0..<size.width {
                    let upper = (2 * cy) * size.width + cx
                    let lower = (2 * cy + 1) * size.width + cx
                    let hasLower = 2 * cy + 1 < size.height
                    if model.markGlyphs, let marks,
                        let kind = [
                            marks[upper],
                            hasLower ? marks[lower] : 0,
                        ].first(where: { $0 != 0 })
                    {
                        let mark = kinds[Int(kind) - 1]
                        cells.append(
                            Cell(
                                mark.glyph, foreground: role(mark.role), background: role(.background),
                                bold: true))
                        continue
                    }
                    cells.append(
                        Cell(
                            Cell.upperHalf, foreground: pixels[upper],
                            background: hasLower ? pixels[lower] : role(.background), isPixel: true))
                }
            }
            return .success(cells)
        }
    }

    /// The focused class's id: kept wherever it occurs when maps are reduced, so a small class stays visible.
    var focusID: UInt8? { state.iou.focusedClass.flatMap { $0 < 255 ? UInt8($0) : nil } }

    /// Colour per class id; with a focus, the other classes dimmed.
    func classTable() -> [RGB] {
        (0..<256).map { id in
            let c = theme.color(ofClass: UInt8(id))
            if let focus = state.iou.focusedClass, id != focus { return Self.blend(c, role(.background), 0.75) }
            return c
        }
    }

    func labelPixels(_ ids: [UInt8], _ w: Int, _ h: Int, _ v: Viewport, _ size: (width: Int, height: Int)) -> [RGB] {
        let table = classTable()
        return Downsample.majority(
            ids, width: w, height: h, viewport: v, outWidth: size.width, outHeight: size.height,
            keeping: focusID
        )
        .map { table[Int($0)] }
    }

    static func blend(_ a: RGB, _ b: RGB, _ t: Float) -> RGB {
        func mix(_ x: UInt8, _ y: UInt8) -> UInt8 { UInt8((Float(x) * (1 - t) + Float(y) * t).rounded()) }
        return RGB(mix(a.r, b.r), mix(a.g, b.g), mix(a.b, b.b))
    }

    /// `text` in at most `n` characters, ending in "…" when shortened.
    static func shorten(_ text: String, to n: Int) -> String {
        guard text.count > n else { return text }
        return n <= 1 ? String(text.prefix(n)) : String(text.prefix(n - 1)) + "…"
    }

    /// A count with thousands separators (12,345).
    static func grouped<N: BinaryInteger>(_ n: N) -> String {
        let digits = String(n.magnitude)
        var out = ""
        for (i, c) in digits.enumerated() {
            if i > 0 && (digits.count - i) % 3 == 0 { out.append(",") }
            out.append(c)
        }
        return (n < 0 ? "-" : "") + out
    }

    static func signed(_ v: Double) -> String {
        guard !v.isNaN else { return "-" }
        let tenths = Int((v * 1000).rounded())
        return (tenths > 0 ? "+" : tenths < 0 ? "-" : " ") + "\(abs(tenths) / 10).\(abs(tenths) % 10)"
    }

    /// A percentage with one decimal, never rounded to a misleading 0.0 or 100.0.
    static func percentOne(_ fraction: Double) -> String {
        let tenths = Int((fraction * 1000).rounded())
        if tenths == 0 && fraction > 0 { return "<0.1" }
        if tenths == 1000 && fraction < 1 { return ">99.9" }
        return "\(tenths / 10).\(tenths % 10)"
    }

    static func percent(_ v: Double) -> String {
        guard !v.isNaN else { return "-" }
        let tenths = Int((v * 1000).rounded())
        return "\(tenths / 10).\(abs(tenths % 10))"
    }

    /// Words onto lines of at most `width`; a word longer than a line (a
    /// file path) is split across lines rather than cut, so it stays readable.
    static func wrapText(_ text: String, width: Int) -> [String] {
        let width = max(1, width)
        var lines: [String] = []
        var line = ""
        for word in text.split(separator: " ") {
            if line.count + word.count + 1 > width && !line.isEmpty {
                lines.append(line)
                line = ""
            }
            var rest = Substring(word)
            while line.count + (line.isEmpty ? 0 : 1) + rest.count > width {
                if !line.isEmpty {
                    lines.append(line)
                    line = ""
                    continue
                }
                lines.append(String(rest.prefix(width)))
                rest = rest.dropFirst(width)
            }
            if !rest.isEmpty { line += (line.isEmpty ? "" : " ") + rest }
        }
        if !line.isEmpty { lines.append(line) }
        return lines
    }
}

extension String {
    func leftPadded(_ n: Int) -> String { count >= n ? self : String(repeating: " ", count: n - count) + self }
}
