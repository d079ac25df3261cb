import SegFormats

/// A full-resolution figure of the current frame's panes, side by side with
/// captions (like the paper's qualitative figures), written as an RGB PNG.
public enum Figure {
    public static let columns = 3
    static let gap = 8, captionHeight = 30, scale = 2

    public static func write(model: ViewModel, to path: String) throws {
        let image = try render(model: model)
        try PNG.write(
            PNGImage(
                width: image.width, height: image.height, colorType: .rgb, bitDepth: 8, samples: .eight(image.rgb)),
            to: path)
    }

    /// The panes of the model's layout (grid, row, or the single pane) with
    /// their captions (each method's frame mIoU), the frame key on top and
    /// the legend of the view's colours below.
    public static func render(model: ViewModel) throws -> (width: Int, height: Int, rgb: [UInt8]) {
        guard let frame = model.frame, frame.width > 0 else {
            throw FormatError.unsupported(
                path: model.frameKeys.first ?? "frame",
                problem:
                    "nothing to draw: \(model.frame.map { $0.errors.values.sorted().joined(separator: "; ") } ?? "frame not loaded")"
            )
        }
        let compositor = Compositor(model: model, width: 200, height: 60)
        let w = frame.width
        let h = frame.height
        let full = Viewport(x0: 0, y0: 0, x1: Float(w), y1: Float(h))
        var panes: [(title: String, pixels: [RGB])] = []
        let options = model.state.panes
        let shown =
            options.layout == .single
            ? model.panes.isEmpty
                ? []
                : [
                    model.panes[
                        min(
                            options.singlePane,
                            model.panes.count - 1)]
                ] : model.panes
        for pane in shown {
            if case .success(let result) = compositor.panePixels(pane, frame: frame, viewport: full, size: (w, h)) {
                var title = pane.title
                if case .method(let name) = pane, let miou = compositor.frameMeanIoU(name) {
                    title += "  mIoU \(Compositor.percent(miou))"
                }
                if case .marks = pane, let settings = modeSettings(model) { title += "  (\(settings))" }
                panes.append((title, result.pixels))
            }
        }
        guard !panes.isEmpty else {
            throw FormatError.unsupported(path: frame.key, problem: "no pane can be drawn for this frame")
        }
        let legend = compositor.legend()
        let (columns, rows) = Compositor.arrangement(count: panes.count, layout: model.state.panes.layout)
        let lineHeight = BitmapFont.height * scale + 8
        // Legend entries in columns as wide as the longest entry.
        let entryWidth =
            BitmapFont.height * scale + 6 + (legend.map(\.text.count).max() ?? 0) * BitmapFont.width * scale + 16
        let legendPerRow = max(1, (columns * (w + gap)) / entryWidth)
        let legendRows = (legend.count + legendPerRow - 1) / legendPerRow
        let width = columns * w + (columns + 1) * gap
        let top = gap + lineHeight
        let height = top + rows * (h + captionHeight) + rows * gap + legendRows * lineHeight + gap
        var rgb = [UInt8](repeating: 255, count: width * height * 3)
        let sequence =
            model.state.sequence < model.sequenceNames.count ? model.sequenceNames[model.state.sequence] : "-"
        drawText(
            "\(frame.key)  (sequence \(sequence), frame \(model.state.frame + 1) of \(model.frameKeys.count))",
            x: gap, y: gap, into: &rgb, width: width, height: height)
        for (i, pane) in panes.enumerated() {
            let left = gap + (i % columns) * (w + gap)
            let paneTop = top + (i / columns) * (h + captionHeight + gap)
            // A title wider than its pane shortens (it would run into the next pane's); the font has no "…".
            let room = w / (BitmapFont.width * scale)
            let title = pane.title.count <= room ? pane.title : String(pane.title.prefix(max(0, room - 3))) + "..."
            drawText(title, x: left, y: paneTop + 4, into: &rgb, width: width, height: height)
            for y in 0..<h {
                for x in 0..<w {
                    let c = pane.pixels[y * w + x]
                    let o = ((paneTop + captionHeight + y) * width + left + x) * 3
                    rgb[o] = c.r
                    rgb[o + 1] = c.g
                    rgb[o + 2] = c.b
                }
            }
        }
        let legendTop = top + rows * (h + captionHeight + gap)
        for (i, entry) in legend.enumerated() {
            let x = gap + (i % legendPerRow) * entryWidth
            let y = legendTop + (i / legendPerRow) * lineHeight
            let swatch = BitmapFont.height * scale
            for yy in y..<min(height, y + swatch) {
                for xx in x..<min(width, x + swatch) {
                    let o = (yy * width + xx) * 3
                    rgb[o] = entry.color.r
                    rgb[o + 1] = entry.color.g
                    rgb[o + 2] = entry.color.b
                }
            }
            drawText(entry.text, x: x + swatch + 6, y: y, into: &rgb, width: width, height: height)
        }
        return (width, height, rgb)
    }

    /// The full setting of the mark mode, so a figure says what it shows:
    /// band radius and τ of Δconf, the band of flips, τ of suspects.
    static func modeSettings(_ model: ViewModel) -> String? {
        let state = model.state
        switch state.mode {
        case .confidence: return "τ \(Compositor.fixed2(state.confidence.tau)), band r \(state.confidence.radius) px"
        case .flips: return state.flips.bandOnly ? "band r \(state.confidence.radius) px" : "all pixels"
        case .suspects: return "τ \(Compositor.fixed2(state.suspects.tau))"
        case .flicker: return "t → t+1"
        default: return nil
        }
    }

    /// Hand-drawn glyphs, in BitmapFont's layout, for the non-ASCII symbols
    /// that captions use (Pillow's built-in font is ASCII only).
    static let symbolGlyphs: [Unicode.Scalar: [UInt8]] = [
        "Δ": [0, 0, 12, 12, 18, 18, 33, 33, 63, 0, 0],
        "→": [0, 0, 0, 4, 2, 63, 2, 4, 0, 0, 0],
        "↑": [0, 0, 12, 30, 45, 12, 12, 12, 12, 0, 0],
        "↓": [0, 0, 12, 12, 12, 12, 45, 30, 12, 0, 0],
        "−": [0, 0, 0, 0, 0, 63, 0, 0, 0, 0, 0],
        "≥": [0, 48, 12, 3, 12, 48, 0, 63, 0, 0, 0],
        "τ": [0, 0, 0, 63, 12, 12, 12, 12, 6, 0, 0],
    ]

    static func drawText(_ text: String, x: Int, y: Int, into rgb: inout [UInt8], width: Int, height: Int) {
        var cursor = x
        for scalar in text.unicodeScalars {
            let code = Int(scalar.value)
            let glyph =
                code >= 32 && code < 127
                ? BitmapFont.glyphs[code - 32]
                : symbolGlyphs[scalar] ?? BitmapFont.glyphs[Int(("?" as Unicode.Scalar).value) - 32]
            for (row, mask) in glyph.enumerated() {
                for column in 0..<BitmapFont.width where mask & (1 << (5 - column)) != 0 {
                    for dy in 0..<scale {
                        for dx in 0..<scale {
                            let px = cursor + column * scale + dx
                            let py = y + row * scale + dy
                            guard px < width, py < height else { continue }
                            let o = (py * width + px) * 3
                            rgb[o] = 0
                            rgb[o + 1] = 0
                            rgb[o + 2] = 0
                        }
                    }
                }
            }
            cursor += BitmapFont.width * scale
        }
    }
}
