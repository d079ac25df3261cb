import SegEval
import SegFormats
import SegLabels

/// The one-row strips at the bottom: the legend and the status line. Each
/// is built from segments; a segment that does not fit is left out whole
/// (labels first), so no number is ever cut.
extension Compositor {
    /// Fits segments into `width` characters: drops the lowest priority
    /// segments first; a lone segment still too long is cut at a word
    /// boundary with "…" (so a number is shown whole or not at all).
    static func fit(_ segments: [(text: String, priority: Int)], width: Int, separator: String = " · ") -> String {
        var kept = Array(segments.indices)
        func joined() -> String { kept.map { segments[$0].text }.joined(separator: separator) }
        while joined().count > width && kept.count > 1 {
            let lowest = kept.min {
                segments[$0].priority < segments[$1].priority
                    || (segments[$0].priority == segments[$1].priority && $0 > $1)
            }!
            kept.removeAll { $0 == lowest }
        }
        var text = joined()
        if text.count > width {
            var words = text.split(separator: " ").map(String.init)
            while !words.isEmpty && words.joined(separator: " ").count + 1 > width { words.removeLast() }
            text = words.joined(separator: " ") + "…"
        }
        return text
    }

    static func fixed2(_ v: Float) -> String {
        let hundredths = Int((abs(v) * 100).rounded())
        return (v < 0 && hundredths > 0 ? "-" : "")
            + "\(hundredths / 100).\(hundredths % 100 < 10 ? "0" : "")\(hundredths % 100)"
    }

    // MARK: legend

    /// What each colour of the current view means (see `Legend`).
    public func legend() -> [LegendEntry] { Legend.entries(model) }

    func drawLegend(_ entries: [LegendEntry], row: Int, into grid: inout CellGrid) {
        let bg = role(.background)
        grid.fill(x: 0, y: row, width: width, height: 1, with: Cell(" ", foreground: role(.text), background: bg))
        // The marks' entries (those with a short text) come first and must all show: labels shorten first.
        let marks = entries.prefix { $0.short != nil }
        let full = marks.reduce(1) { $0 + $1.text.count + 4 } + (entries.count > marks.count ? 8 : 0)
        let texts = entries.map { full > width ? $0.short ?? $0.text : $0.text }
        var x = 1
        for (i, entry) in entries.enumerated() {
            let rest = entries.count - i
            let more = "+\(rest) more"
            let tail = rest > 1 ? more.count + 1 : 0
            guard x + 2 + texts[i].count <= width - tail else {
                grid.text(more, x: x, y: row, foreground: role(.dim), background: bg)
                break
            }
            if model.markGlyphs && entry.glyph == nil {
                // Without colours, panes shade pixels by lightness: the swatch is a pixel of the entry's
                // colour, so it shows the shade its class has in the panes.
                grid[x, row] = Cell("■", foreground: entry.color, background: entry.color, isPixel: true)
            } else {
                let swatch = model.markGlyphs ? entry.glyph ?? "■" : "■"
                grid[x, row] = Cell(swatch, foreground: entry.color, background: bg, bold: entry.glyph != nil)
            }
            grid.text(texts[i], x: x + 2, y: row, foreground: role(.text), background: bg)
            x += texts[i].count + 4
        }
    }

    // MARK: status

    func drawStatus(row: Int, into grid: inout CellGrid) {
        let bg = role(.statusBar)
        let fg = role(.statusText)
        grid.fill(x: 0, y: row, width: width, height: 1, with: Cell(" ", foreground: fg, background: bg))
        if let prompt = state.prompt {
            PromptUnit.draw(self, prompt, row: row, into: &grid)
            return
        }
        let key = state.frame < model.frameKeys.count ? model.frameKeys[state.frame] : "-"
        var segments: [(text: String, priority: Int)] = [
            ("seq \(state.sequence + 1)/\(model.sequenceNames.count)", 8),
            ("frame \(state.frame + 1)/\(model.frameKeys.count)", 10),
            (key + (model.bookmarkedFrames.contains(key) ? " ★" : ""), 4),
            (state.panes.layout.rawValue, 1),
        ]
        if model.methods.count == 1 { segments.append(("method \(model.methods[0])", 7)) }
        if let unit = MarkModes.unit(for: state.mode) {
            if case .success(let layer)? = model.markLayer {
                segments.append(
                    (
                        layer.status,
                        9
                    ))
            } else {
                segments.append((unit.missing(model), 9))
            }
        }
        if state.sparkMetric != .meanIoU && model.hasGroundTruth {
            segments.append(("sparklines: \(state.sparkMetric.rawValue)", 3))
        }
        if let focus = state.iou.focusedClass, focus < theme.space.count {
            segments.append(("focus \(theme.space.classNames[focus])", 6))
        }
        if state.panes.overlay {
            let source =
                model.frame?.groundTruth != nil
                ? "GT" : model.methods.first { model.frame?.predictions[$0] != nil } ?? "none"
            segments.append(("overlay \(source) \(Int((state.panes.opacity * 100).rounded()))%", 5))
        }
        if let range = ScopeUnit.status(state) { segments.append((range, 6)) }
        if let zoom = ZoomUnit.status(model) { segments.append((zoom, 5)) }
        if state.playback.playing { segments.append(("▶ \(Int(state.playback.fps))fps", 7)) }
        if model.loading { segments.append(("loading", 7)) }
        if let text = ConfusionPanel.cursorText(model) { segments.append((text, 9)) }
        if let explain = ExplainView.status(model) { segments.append(explain) }
        if let message = state.message { segments.append((message, 9)) }
        let help = width >= 100 ? "? help  q quit " : "? "
        let left = " " + Self.fit(segments, width: width - help.count - 2)
        grid.text(left, x: 0, y: row, foreground: fg, background: bg)
        grid.text(help, x: width - help.count, y: row, foreground: fg, background: bg, bold: true)
    }
}

/// The legend strip: the mode's marks (with their glyphs where colours are
/// not shown), the highlight, then (when on) the classes of this frame.
enum Legend {
    static func entries(_ model: ViewModel) -> [LegendEntry] {
        let theme = model.theme
        let state = model.state
        var entries: [LegendEntry] = []
        if let heat = ExplainView.legend(model) { entries.append(heat) }
        if case .success(let layer)? = model.markLayer, !state.explain.on {
            entries += layer.kinds.map {
                LegendEntry(color: theme.color($0.role), text: $0.legend, glyph: $0.glyph, short: $0.shortLegend)
            }
            if let base = layer.baseLegend {
                entries.append(
                    LegendEntry(
                        color: Compositor.blend(
                            theme.color(.text), theme.color(.background),
                            layer.dim), text: base,
                        short: base.components(separatedBy: "; ").last))
            }
        }
        if let h = state.highlight {
            let names = theme.space.classNames
            let predicted = h.predicted < names.count ? names[h.predicted] : "no class"
            entries.append(
                LegendEntry(
                    color: theme.color(.highlight),
                    text: "GT \(names[h.groundTruth]) → \(h.method) \(predicted) (Esc clears)"))
        }
        if let focus = state.iou.focusedClass, focus < theme.space.count {
            let name = theme.space.classNames[focus]
            entries.append(
                LegendEntry(
                    color: Compositor.blend(theme.color(.text), theme.color(.background), 0.75),
                    text: "dimmed: every class but \(name) (focus; Esc clears)"))
        }
        // The explain view's panes show frames and heat, not classes (its panel names the classes it lists).
        if state.panes.classLegend, !state.explain.on, let frame = model.frame {
            for c in frame.presentClasses where Int(c) < theme.space.count {
                entries.append(LegendEntry(color: theme.color(ofClass: c), text: theme.space.classNames[Int(c)]))
            }
        }
        return entries
    }
}
