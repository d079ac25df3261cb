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
        /// The side panel (IoU or confusion): its left column and width.
        public var panel: (x: Int, width: Int)?
        public var sparkRows: Int
        public var statusRow: Int
        public var legendRow: Int?
        public var inspectorRow: Int?
        /// Rows above the bottom strips (panes and panel).
        public var areaHeight: Int
    }

    public func layout() -> Layout {
        let panes = model.panes
        let statusRow = height - 1
        let legendRow = legend().isEmpty ? nil : statusRow - 1
        var bottom = statusRow - (legendRow == nil ? 0 : 1)
        let inspectorRow = state.inspect ? bottom - 1 : nil
        if inspectorRow != nil { bottom -= 1 }
        let sparkMethods = model.hasGroundTruth || state.sparkMetric != .meanIoU ? min(4, model.methods.count) : 0
        let sparkRows = height >= 24 ? sparkMethods : 0
        let areaHeight = bottom - sparkRows
        let panelWidth: Int
        switch state.panel {
        case .none: panelWidth = 0
        case .iou: panelWidth = min(width - 24, iouPanelWidth())
        case .confusion: panelWidth = min(width - 24, confusionPanelWidth())
        }
        let areaWidth = width - panelWidth
        var rects: [(Pane, Int, Int, Int, Int)] = []
        let shown: [Pane]
        switch state.layout {
        case .single: shown = panes.isEmpty ? [] : [panes[min(state.singlePane, panes.count - 1)]]
        case .grid, .row: shown = panes
        }
        let (columns, rows) = Self.arrangement(count: shown.count, layout: state.layout)
        let cellWidth = areaWidth / columns, cellHeight = areaHeight / rows
        for (i, pane) in shown.enumerated() {
            rects.append((pane, (i % columns) * cellWidth, (i / columns) * cellHeight, cellWidth, cellHeight))
        }
        return Layout(panes: rects.map { (pane: $0.0, x: $0.1, y: $0.2, width: $0.3, height: $0.4) },
                      panel: panelWidth > 0 ? (areaWidth, panelWidth) : nil, sparkRows: sparkRows,
                      statusRow: statusRow, legendRow: legendRow, inspectorRow: inspectorRow, areaHeight: areaHeight)
    }

    /// Columns and rows of `count` panes: a square-ish grid, one row, or one pane.
    static func arrangement(count: Int, layout: ViewState.Layout) -> (columns: Int, rows: Int) {
        let n = max(1, count)
        let columns = layout == .grid ? Int(Double(n).squareRoot().rounded(.up)) : layout == .row ? n : 1
        return (columns, (n + columns - 1) / columns)
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
        var counts = PaneCounts()
        // Panes are independent: draw each into its own grid on all cores, then copy in.
        let drawn = Mutex<[(CellGrid, PaneCounts)?]>(Array(repeating: nil, count: layout.panes.count))
        let background = grid
        parallelFor(layout.panes.count) { i in
            let rect = layout.panes[i]
            var paneGrid = background
            let paneCounts = drawPane(rect.pane, x: rect.x, y: rect.y, width: rect.width, height: rect.height, into: &paneGrid)
            drawn.withLock { $0[i] = (paneGrid, paneCounts) }
        }
        for (i, result) in drawn.withLock({ $0 }).enumerated() {
            guard let (paneGrid, paneCounts) = result else { continue }
            let rect = layout.panes[i]
            for y in rect.y..<min(height, rect.y + rect.height) {
                for x in rect.x..<min(width, rect.x + rect.width) { grid[x, y] = paneGrid[x, y] }
            }
            counts.confidence = counts.confidence ?? paneCounts.confidence
            counts.flips = counts.flips ?? paneCounts.flips
            counts.suspects = counts.suspects ?? paneCounts.suspects
            counts.flicker = counts.flicker ?? paneCounts.flicker
        }
        if let panel = layout.panel {
            switch state.panel {
            case .iou: drawIoUPanel(x: panel.x, width: panel.width, height: layout.areaHeight, into: &grid)
            case .confusion: drawConfusionPanel(x: panel.x, width: panel.width, height: layout.areaHeight, into: &grid)
            case .none: break
            }
        }
        if layout.sparkRows > 0 { drawSparklines(row: layout.areaHeight, rows: layout.sparkRows, into: &grid) }
        if let row = layout.inspectorRow { drawInspector(row: row, into: &grid) }
        if let row = layout.legendRow { drawLegend(row: row, into: &grid) }
        drawStatus(row: layout.statusRow, counts: counts, into: &grid)
        if let list = state.frameList { drawFrameList(list, into: &grid) }
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
        var suspects: Int?
        var flicker: (changed: Int, total: Int)?
    }

    /// mIoU of a method on the current frame, as its caption shows it.
    func frameMeanIoU(_ method: String) -> Double? {
        guard let matrix = model.frame?.confusion[method] else { return nil }
        let miou = Metrics(matrix).meanIoU
        return miou.isNaN ? nil : miou
    }

    func drawPane(_ pane: Pane, x: Int, y: Int, width: Int, height: Int, into grid: inout CellGrid) -> PaneCounts {
        var counts = PaneCounts()
        let single = state.layout == .single
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
        grid.text(caption, x: x, y: y, foreground: role(.title), background: role(.background), bold: true, maxWidth: width - 1)
        let columns = width - 1, rows = height - 1
        guard columns > 2, rows > 1 else { return counts }
        guard let frame = model.frame else {
            grid.text(model.loading ? "loading…" : "", x: x + 1, y: y + 1 + rows / 2, foreground: role(.dim), background: role(.background))
            return counts
        }
        if let error = pane.sources(methods: model.methods).lazy.compactMap({ frame.errors[$0] }).first {
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
        let shownPixels = highlighted(pixels, frame: frame, viewport: v, size: size)
        let left = x + (columns - size.width) / 2
        let top = y + 1 + (rows - (size.height + 1) / 2) / 2
        for cy in 0..<((size.height + 1) / 2) {
            for cx in 0..<size.width {
                let upper = shownPixels[(2 * cy) * size.width + cx]
                let lower = 2 * cy + 1 < size.height ? shownPixels[(2 * cy + 1) * size.width + cx] : role(.background)
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
        // Maps are brought to the ground truth's size when loaded; without a
        // readable ground truth they may differ, and are not drawn together.
        let sizes = [frame.image.map { ($0.width, $0.height) }, frame.groundTruth.map { ($0.width, $0.height) }]
            + frame.predictions.values.map { ($0.width, $0.height) } + frame.confidences.values.map { ($0.width, $0.height) }
        if sizes.contains(where: { $0 != nil && ($0!.0 != w || $0!.1 != h) }) {
            return .failure(Unavailable(text: "this frame's files differ in size (\(w)x\(h) and others) and no ground truth sets the size"))
        }
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
        case .suspects:
            guard let gt = frame.groundTruth else { return .failure(Unavailable(text: "annotation suspects need ground truth")) }
            let methods = model.methods.filter { frame.predictions[$0] != nil }
            guard methods.count == model.methods.count, !methods.isEmpty else {
                return .failure(Unavailable(text: "annotation suspects need every method's prediction of this frame"))
            }
            let marks = Suspects.mask(groundTruth: gt, predictions: methods.map { frame.predictions[$0]! },
                                      confidences: methods.map { frame.confidences[$0] }, tau: state.suspectTau, classes: theme.space.count)
            counts.suspects = marks.reduce(0) { $0 + Int($1) }
            pixels = labelPixels(gt.ids, w, h, v, size).map { Self.blend($0, role(.background), 0.75) }
            let shown = Downsample.anyMark(marks, width: w, height: h, viewport: v, outWidth: size.width, outHeight: size.height)
            for i in pixels.indices where shown[i] != 0 { pixels[i] = role(.suspect) }
        case .flicker(let method):
            guard let current = frame.predictions[method] else { return .failure(Unavailable(text: "no \(method) prediction for this frame")) }
            guard state.frame + 1 < model.frameKeys.count else { return .failure(Unavailable(text: "the last frame of the sequence has no next frame")) }
            guard let next = model.nextFrame?.predictions[method] else {
                return .failure(Unavailable(text: model.nextFrame == nil ? "loading the next frame…" : "no \(method) prediction for the next frame"))
            }
            guard next.ids.count == current.ids.count else { return .failure(Unavailable(text: "the next frame's prediction has another size")) }
            var marks = [UInt8](repeating: 0, count: w * h)
            var changed = 0
            for i in marks.indices where current.ids[i] != next.ids[i] { marks[i] = 1; changed += 1 }
            counts.flicker = (changed, marks.count)
            pixels = labelPixels(current.ids, w, h, v, size).map { Self.blend($0, role(.background), 0.7) }
            let shown = Downsample.anyMark(marks, width: w, height: h, viewport: v, outWidth: size.width, outHeight: size.height)
            for i in pixels.indices where shown[i] != 0 { pixels[i] = role(.flicker) }
        }
        return .success((pixels, counts))
    }

    /// The pixels of the highlighted confusion in the highlight colour, the
    /// rest dimmed; `pixels` unchanged without a highlight.
    func highlighted(_ pixels: [RGB], frame: FrameData, viewport v: Viewport, size: (width: Int, height: Int)) -> [RGB] {
        guard let h = state.highlight, let gt = frame.groundTruth, let prediction = frame.predictions[h.method],
              prediction.ids.count == gt.ids.count else { return pixels }
        let k = theme.space.count
        var marks = [UInt8](repeating: 0, count: gt.ids.count)
        for i in marks.indices where Int(gt.ids[i]) == h.groundTruth {
            let p = Int(prediction.ids[i])
            if p == h.predicted || (h.predicted == k && p >= k) { marks[i] = 1 }
        }
        let shown = Downsample.anyMark(marks, width: gt.width, height: gt.height, viewport: v, outWidth: size.width, outHeight: size.height)
        return pixels.indices.map { shown[$0] != 0 ? role(.highlight) : Self.blend(pixels[$0], role(.background), 0.6) }
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

    static func percent(_ v: Double) -> String {
        guard !v.isNaN else { return "-" }
        let tenths = Int((v * 1000).rounded())
        return "\(tenths / 10).\(abs(tenths % 10))"
    }

    func wrap(_ text: String, width: Int) -> [String] { Self.wrapText(text, width: width) }

    /// Words onto lines of at most `width`; a word longer than a line (a
    /// file path) is split across lines rather than cut, so it stays readable.
    static func wrapText(_ text: String, width: Int) -> [String] {
        let width = max(1, width)
        var lines: [String] = [], line = ""
        for word in text.split(separator: " ") {
            if line.count + word.count + 1 > width && !line.isEmpty { lines.append(line); line = "" }
            var rest = Substring(word)
            while line.count + (line.isEmpty ? 0 : 1) + rest.count > width {
                if !line.isEmpty { lines.append(line); line = ""; continue }
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
