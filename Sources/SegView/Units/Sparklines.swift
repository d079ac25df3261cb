import SegDataset
import SegEval
import SegFormats
import SegLabels

extension ViewState {
    /// What the sparklines plot per frame.
    public enum SparkMetric: String, CaseIterable, Sendable {
        case meanIoU = "mIoU"
        case flicker
        case vc8 = "VC8"
    }
}

/// Per-frame sparklines of each method along the sequence: mIoU, flicker
/// (frame t: t→t+1, as the flicker mode) or VC8 (the window starting at t).
enum Sparklines: ViewerUnit {
    static let keys: [KeyHelpRow] = [
        KeyHelpRow(
            "Y", "sparklines: mIoU / flicker (t→t+1) / VC8",
            [
                (
                    Key.character("Y"),
                    .redraw("nextSparkMetric") { c in
                        let all = ViewState.SparkMetric.allCases
                        c.state.sparkMetric = all[(all.firstIndex(of: c.state.sparkMetric)! + 1) % all.count]
                    }
                )
            ])
    ]

    /// Methods shown at most, one row each.
    static let maximumRows = 4

    static func load(into model: inout ViewModel, controller c: ViewerController, blocking: Bool) {
        if c.state.sparkMetric != .meanIoU {
            let s = c.state.sequence
            model.temporal =
                blocking
                ? c.temporalStatistics.compute(sequence: s) : c.temporalStatistics.counts(sequence: s)
        }
        guard model.hasGroundTruth, !c.dataset.methods.isEmpty,
            let scores = blocking
                ? c.statistics.compute(sequence: c.state.sequence) : c.statistics.scores(sequence: c.state.sequence)
        else { return }
        for method in c.dataset.methods {
            model.sparkline[method] = scores.map { $0.matrices[method].map { Metrics($0).meanIoU } }
        }
    }

    /// The values per frame of the sequence of the sparkline metric.
    static func values(_ model: ViewModel, _ method: String) -> [Double?] {
        switch model.state.sparkMetric {
        case .meanIoU: return model.sparkline[method] ?? []
        case .flicker, .vc8:
            guard let counts = model.temporal?[method] else { return [] }
            var byKey: [String: Double] = [:]
            if model.state.sparkMetric == .flicker {
                // SegEval keys the pair (t, t+1) by frame t: frame t shows t→t+1, as eval's per-pair rows.
                for pair in counts.pairs { byKey[pair.key] = pair.fraction }
            } else {
                for window in counts.windows[8] ?? [] { byKey[window.start] = window.vspw }
            }
            return model.frameKeys.map { byKey[$0] }
        }
    }

    static func rows(_ model: ViewModel, height: Int) -> Int {
        let methods =
            model.hasGroundTruth || model.state.sparkMetric != .meanIoU
            ? min(
                maximumRows,
                model.methods.count) : 0
        return height >= 24 ? methods : 0
    }

    static func draw(_ compositor: Compositor, row: Int, rows: Int, into grid: inout CellGrid) {
        let model = compositor.model
        let state = model.state
        let width = compositor.width
        let bg = compositor.role(.background)
        let bars: [Character] = ["▁", "▂", "▃", "▄", "▅", "▆", "▇", "█"]
        let labelWidth = 12
        let span = width - labelWidth - 36
        guard span > 4 else { return }
        let hidden = model.methods.count - rows
        for (i, method) in model.methods.prefix(rows).enumerated() {
            let y = row + i
            grid.text(
                Compositor.shorten(method, to: labelWidth - 1), x: 0, y: y, foreground: compositor.role(.text),
                background: bg)
            let values = values(model, method)
            guard !values.isEmpty else {
                grid.text(
                    "per-frame \(state.sparkMetric.rawValue): computing…", x: labelWidth, y: y,
                    foreground: compositor.role(.dim), background: bg)
                continue
            }
            let known = values.compactMap { $0 }.filter { !$0.isNaN }
            let low = known.min() ?? 0
            let high = known.max() ?? 1
            let n = values.count
            let cells = min(span, n)
            for cx in 0..<cells {
                let range = (cx * n / cells)..<max(cx * n / cells + 1, (cx + 1) * n / cells)
                let bucket = values[range].compactMap { $0 }.filter { !$0.isNaN }
                let isCurrent = range.contains(state.frame)
                let fg = isCurrent ? compositor.role(.cursor) : compositor.role(.text)
                let cellBg = isCurrent ? compositor.role(.selection) : bg
                guard let v = bucket.min() else {
                    grid[labelWidth + cx, y] = Cell(
                        isCurrent ? "·" : " ",
                        foreground: fg, background: cellBg)
                    continue
                }
                let level = high > low ? Int(((v - low) / (high - low) * 7).rounded()) : 7
                grid[labelWidth + cx, y] = Cell(bars[max(0, min(7, level))], foreground: fg, background: cellBg)
            }
            // Over how many frames: the coverage of this line.
            // The metric and what is counted: frames (mIoU), frame pairs t→t+1 (flicker), windows (VC8).
            let metric = state.sparkMetric
            let counted = metric == .meanIoU ? "fr" : metric == .flicker ? "pairs" : "windows"
            // Of how many there are: n frames, n - 1 pairs, n - 8 windows of 8 (as VSPW's code and eval count).
            let possible = max(0, metric == .meanIoU ? n : metric == .flicker ? n - 1 : n - 8)
            let noData = metric == .meanIoU ? "no GT" : "none"
            let summary =
                known.isEmpty
                ? noData
                : "\(metric.rawValue) \(Compositor.percent(low))–\(Compositor.percent(high)) % · "
                    + "\(known.count)/\(possible) \(counted)"
            grid.text(summary, x: labelWidth + cells + 2, y: y, foreground: compositor.role(.dim), background: bg)
        }
        // Methods without a row are counted, never dropped silently.
        if hidden > 0 {
            let more = "+\(hidden) more"
            grid.text(
                more, x: width - more.count - 1, y: row + rows - 1, foreground: compositor.role(.dim),
                background: bg)
        }
    }
}
