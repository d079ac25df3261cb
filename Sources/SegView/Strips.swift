import SegEval
import SegFormats
import SegLabels

/// The one-row strips at the bottom: sparklines, the inspector, the legend
/// and the status line. Each is built from segments; a segment that does
/// not fit is left out whole (labels first), so no number is ever cut.
extension Compositor {
    /// Fits segments into `width` characters: drops the lowest priority
    /// segments first; a lone segment still too long is cut at a word
    /// boundary with "…" (so a number is shown whole or not at all).
    static func fit(_ segments: [(text: String, priority: Int)], width: Int, separator: String = " · ") -> String {
        var kept = Array(segments.indices)
        func joined() -> String { kept.map { segments[$0].text }.joined(separator: separator) }
        while joined().count > width && kept.count > 1 {
            let lowest = kept.min { segments[$0].priority < segments[$1].priority || (segments[$0].priority == segments[$1].priority && $0 > $1) }!
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

    // MARK: sparklines

    func drawSparklines(row: Int, rows: Int, into grid: inout CellGrid) {
        let bars: [Character] = ["▁", "▂", "▃", "▄", "▅", "▆", "▇", "█"]
        let labelWidth = 12
        let span = width - labelWidth - 16
        guard span > 4 else { return }
        for (i, method) in model.methods.prefix(rows).enumerated() {
            let y = row + i
            grid.text(Self.shorten(method, to: labelWidth - 1), x: 0, y: y, foreground: role(.text), background: role(.background))
            let values = sparkValues(method)
            guard !values.isEmpty else {
                grid.text("per-frame \(state.sparkMetric.rawValue): computing…", x: labelWidth, y: y, foreground: role(.dim), background: role(.background))
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
            let summary = known.isEmpty ? (state.sparkMetric == .meanIoU ? "no GT" : "none") : "\(Self.percent(low))–\(Self.percent(high))"
            grid.text(summary, x: labelWidth + cells + 2, y: y, foreground: role(.dim), background: role(.background))
        }
    }

    /// The sparkline's values per frame of the sequence: mIoU, flicker (the
    /// fraction changing from the frame before) or VC8 (of the window starting there).
    func sparkValues(_ method: String) -> [Double?] {
        switch state.sparkMetric {
        case .meanIoU: return model.sparkline[method] ?? []
        case .flicker, .vc8:
            guard let counts = model.temporal?[method] else { return [] }
            var byKey: [String: Double] = [:]
            if state.sparkMetric == .flicker {
                for pair in counts.pairs { byKey[pair.key] = pair.fraction }
            } else {
                for window in counts.windows[8] ?? [] { byKey[window.start] = window.vspw }
            }
            return model.frameKeys.map { byKey[$0] }
        }
    }

    // MARK: inspector

    func drawInspector(row: Int, into grid: inout CellGrid) {
        let bg = role(.statusBar)
        grid.fill(x: 0, y: row, width: width, height: 1, with: Cell(" ", foreground: role(.statusText), background: bg))
        guard let cursor = state.cursor, let frame = model.frame, frame.width > 0,
              cursor.x < frame.width, cursor.y < frame.height else {
            grid.text(" inspect: arrows move the cursor, or click a pane; I leaves", x: 0, y: row, foreground: role(.statusText), background: bg)
            return
        }
        let i = cursor.y * frame.width + cursor.x
        var segments: [(String, Int)] = [("(\(cursor.x),\(cursor.y))", 9)]
        func name(_ id: UInt8) -> String { Int(id) < theme.space.count ? theme.space.classNames[Int(id)] : "ignore" }
        if let gt = frame.groundTruth, gt.ids.count > i { segments.append(("GT \(name(gt.ids[i]))", 8)) }
        for (rank, method) in model.methods.enumerated() {
            guard let p = frame.predictions[method], p.ids.count > i else { continue }
            var text = "\(method) \(name(p.ids[i]))"
            if let c = frame.confidences[method], c.values.count > i { text += " \(Self.fixed2(c.values[i]))" }
            segments.append((text, 7 - min(3, rank)))
        }
        if let pair = model.confidencePair, let c0 = frame.confidences[pair.before], let c1 = frame.confidences[pair.after],
           c0.values.count > i, c1.values.count > i {
            let d = c1.values[i] - c0.values[i]
            segments.append(("Δconf \(d >= 0 ? "+" : "")\(Self.fixed2(d))", 6))
        }
        if let distance = frame.boundaryDistance, distance.count > i { segments.append(("boundary \(distance[i] >= 255 ? "≥255" : "\(distance[i])")px", 3)) }
        let text = " " + Self.fit(segments.map { (text: $0.0, priority: $0.1) }, width: width - 2, separator: "  ")
        grid.text(text, x: 0, y: row, foreground: role(.statusText), background: bg)
    }

    static func fixed2(_ v: Float) -> String {
        let hundredths = Int((abs(v) * 100).rounded())
        return (v < 0 && hundredths > 0 ? "-" : "") + "\(hundredths / 100).\(hundredths % 100 < 10 ? "0" : "")\(hundredths % 100)"
    }

    // MARK: legend

    /// What each colour of the current view means: the mode's marks, the
    /// highlight, then (when on) the classes of this frame.
    public func legend() -> [(color: RGB, text: String)] {
        var entries: [(RGB, String)] = []
        switch state.mode {
        case .classes: break
        case .confidence:
            if let pair = model.confidencePair {
                let tau = Self.fixed2(state.tau)
                entries += [(role(.confidenceUp), "\(pair.after) more confident by ≥\(tau)"),
                            (role(.confidenceDown), "less confident by ≥\(tau)"),
                            (Self.blend(role(.text), role(.background), 0.65), "within \(state.radius)px of a boundary; dimmed: \(pair.after)'s classes")]
            }
        case .flips:
            if let reference = model.reference, let method = model.comparedMethod {
                entries += [(role(.fixed), "fixed: \(reference) wrong, \(method) right"), (role(.broken), "broken: the reverse"),
                            (role(.changedWrong), "changed, both wrong")]
            }
        case .flicker:
            if let method = model.flickerMethod {
                entries.append((role(.flicker), "\(method)'s class changes in the next frame"))
                entries.append((Self.blend(role(.text), role(.background), 0.7), "dimmed: \(method)'s classes"))
            }
        case .suspects:
            let confident = model.frame.map { f in model.methods.filter { f.confidences[$0] != nil }.count } ?? 0
            let rule = confident == 0 ? "all methods agree (no confidences: agreement only)" : "all methods agree, confidence ≥\(Self.fixed2(state.suspectTau))"
            entries.append((role(.suspect), "suspect: \(rule), GT differs"))
        }
        if let h = state.highlight {
            let names = theme.space.classNames
            let predicted = h.predicted < names.count ? names[h.predicted] : "no class"
            entries.append((role(.highlight), "GT \(names[h.groundTruth]) → \(h.method) \(predicted) (Esc clears)"))
        }
        if state.classLegend, let frame = model.frame {
            for c in frame.presentClasses where Int(c) < theme.space.count {
                entries.append((theme.color(ofClass: c), theme.space.classNames[Int(c)]))
            }
        }
        return entries
    }

    func drawLegend(row: Int, into grid: inout CellGrid) {
        let bg = role(.background)
        grid.fill(x: 0, y: row, width: width, height: 1, with: Cell(" ", foreground: role(.text), background: bg))
        let entries = legend()
        var x = 1
        for (i, entry) in entries.enumerated() {
            let rest = entries.count - i
            let more = "+\(rest) more"
            let tail = rest > 1 ? more.count + 1 : 0
            guard x + 2 + entry.text.count <= width - tail else {
                grid.text(more, x: x, y: row, foreground: role(.dim), background: bg)
                break
            }
            grid[x, row] = Cell("■", foreground: entry.color, background: bg)
            grid.text(entry.text, x: x + 2, y: row, foreground: role(.text), background: bg)
            x += entry.text.count + 4
        }
    }

    // MARK: status

    func drawStatus(row: Int, counts: PaneCounts, into grid: inout CellGrid) {
        let bg = role(.statusBar), fg = role(.statusText)
        grid.fill(x: 0, y: row, width: width, height: 1, with: Cell(" ", foreground: fg, background: bg))
        if let prompt = state.prompt {
            let label = prompt.kind == .jump ? "jump to (key, N of the dataset, or S/N): " : "bookmark note (Enter saves, Esc cancels): "
            let text = label + prompt.text + "▏"
            grid.text(" " + (text.count > width - 2 ? "…" + String(text.suffix(width - 3)) : text), x: 0, y: row, foreground: fg, background: bg, bold: true)
            return
        }
        let key = state.frame < model.frameKeys.count ? model.frameKeys[state.frame] : "-"
        var segments: [(text: String, priority: Int)] = [
            ("seq \(state.sequence + 1)/\(model.sequenceNames.count)", 8),
            ("frame \(state.frame + 1)/\(model.frameKeys.count)", 10),
            (key + (model.bookmarkedFrames.contains(key) ? " ★" : ""), 4),
            (state.layout.rawValue, 1),
        ]
        switch state.mode {
        case .classes: break
        case .confidence:
            if let c = counts.confidence {
                segments.append(("Δconf≥\(Self.fixed2(state.tau)) r\(state.radius): ↑\(Self.grouped(c.up)) ↓\(Self.grouped(c.down))", 9))
            } else {
                segments.append(("Δconf: no confidences", 9))
            }
        case .flips:
            if let f = counts.flips {
                segments.append(("fixed \(Self.grouped(f.fixed)) broken \(Self.grouped(f.broken)) changed \(Self.grouped(f.changedWrong))"
                    + (state.flipsInBandOnly ? " (band r\(state.radius))" : ""), 9))
            } else {
                segments.append(("flips: need GT and two methods", 9))
            }
        case .flicker:
            segments.append((counts.flicker.map { "flicker \(Self.percentOne(Double($0.changed) / Double(max(1, $0.total))))% (\(Self.grouped($0.changed)) px) → next" }
                ?? "flicker: needs the next frame", 9))
        case .suspects:
            segments.append((counts.suspects.map { "suspects \(Self.grouped($0)) px τ\(Self.fixed2(state.suspectTau))" } ?? "suspects: need GT and predictions", 9))
        }
        if state.sparkMetric != .meanIoU && model.hasGroundTruth { segments.append(("sparklines: \(state.sparkMetric.rawValue)", 3)) }
        if let focus = state.focusedClass, focus < theme.space.count { segments.append(("focus \(theme.space.classNames[focus])", 6)) }
        if state.overlay {
            let source = model.frame?.groundTruth != nil ? "GT" : model.methods.first { model.frame?.predictions[$0] != nil } ?? "none"
            segments.append(("overlay \(source) \(Int((state.opacity * 100).rounded()))%", 5))
        }
        if state.zoom > 1 { segments.append(("zoom \(Self.fixed2(state.zoom))x", 5)) }
        if state.playing { segments.append(("▶ \(Int(state.fps))fps", 7)) }
        if model.loading { segments.append(("loading", 7)) }
        if let text = confusionCursorText { segments.append((text, 9)) }
        if let message = state.message { segments.append((message, 9)) }
        let help = width >= 100 ? "? help  q quit " : "? "
        let left = " " + Self.fit(segments, width: width - help.count - 2)
        grid.text(left, x: 0, y: row, foreground: fg, background: bg)
        grid.text(help, x: width - help.count, y: row, foreground: fg, background: bg, bold: true)
    }
}
