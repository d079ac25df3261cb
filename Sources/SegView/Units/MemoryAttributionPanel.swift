import Foundation
import SegDataset
import SegFormats
import SegLabels
import SegRuns

/// What the fixed/broken panel draws: the table of its scope once every frame of it is attributed.
public struct AttributionPanelModel: Sendable {
    /// The scope as the other panels name it ("this frame", "sequence 2", …).
    public var scope: String
    /// Why there is no table at all (no ground truth, no weights, weights without MAR), in a line.
    public var needs: String?
    /// The merged table of the frames counted (nil until every frame of the scope is known).
    public var table: MemoryAttribution?
    /// What the background work is at ("loading the weights", "3/12 frames"), nil once the table is there.
    public var progress: String?
    /// Frames skipped for having no features (no GT ones are counted in `table`), and those that failed.
    public var withoutFeatures = 0
    public var failures: [String] = []
    /// What the first frame without features needs (ExplainSource.needsFeatures of it), said when no frame
    /// was counted.
    public var firstWithoutFeatures: String?

    public init(scope: String) { self.scope = scope }

    /// Rows in the panel's rounding: class index (nil: total), then fixed and broken pixels, mean mass on the
    /// GT class and on the wrong class ("-": no pixels).
    public var rows: [(classIndex: Int?, cells: [String])] {
        (table?.rows ?? []).map { row in
            (row.classIndex, [row.fixed, row.broken].flatMap(MemoryAttributionPanel.cells))
        }
    }
}

/// The fixed/broken panel (`d`): among the GT boundary pixels of the scope, those MAR fixed and those it broke
/// against the stage it refines, with the mean attention mass on the memory rows of the GT class and of the
/// wrong class, per GT class (the table of `explain --fixed-broken`).
enum MemoryAttributionPanel: ViewerUnit {
    static let keys: [KeyHelpRow] = [
        KeyHelpRow(
            "d", "fixed/broken panel: pixels MAR fixed and broke, its memory's mass on GT / wrong class (scope u)",
            [
                (
                    Key.character("d"),
                    .redraw("toggleAttributionPanel") { c in
                        c.state.panel.kind = c.state.panel.kind == .attribution ? .none : .attribution
                    }
                )
            ])
    ]

    static let needsWeights =
        "the fixed/broken table needs --weights W (STF/MAR weights), or weights = \"W\" in segscope.toml"
    static let needsGroundTruth = "the fixed/broken table needs ground truth"

    /// The panel's rounding of a mass (as `explain --fixed-broken`'s text).
    static func mass(_ value: Double?) -> String { value.map { String(format: "%.4f", $0) } ?? "-" }

    static func cells(_ part: MemoryAttribution.Row.Part) -> [String] {
        [String(part.pixels), mass(part.truthMass), mass(part.wrongMass)]
    }

    /// The table of the scope from the frames' kept tables; the missing ones are asked for (in the background
    /// unless `blocking`).
    static func load(into model: inout ViewModel, controller c: ViewerController, blocking: Bool) {
        guard c.state.panel.kind == .attribution, !c.state.explain.on else {
            // Not shown: no forward passes for it (nor beside the explain view's, on the same cores).
            c.attributionStore.cancel()
            return
        }
        var panel = AttributionPanelModel(scope: ScopeUnit.name(c.state, sequences: model.sequenceNames))
        defer { model.attribution = panel }
        guard c.hasGroundTruth, c.explainSource.weights != nil else {
            panel.needs = c.hasGroundTruth ? needsWeights : needsGroundTruth
            return
        }
        let positions = ScopeUnit.positions(c.state, dataset: c.dataset)
        let (base, frames) = c.attributionStore.tables(positions, blocking: blocking)
        let known = frames.filter { $0 != nil }.count
        var table: MemoryAttribution
        switch base {
        case nil:
            panel.progress = "fixed/broken: loading the weights…"
            return
        case .failure(let reason)?:
            panel.needs = reason.text
            return
        case .success(let empty)?: table = empty
        }
        guard known == positions.count else {
            panel.progress = "fixed/broken: \(known)/\(positions.count) frames attributed…"
            return
        }
        do {
            // Every frame is known here (checked above).
            for (at, frame) in zip(positions, frames.compactMap { $0 }) {
                switch frame {
                case .table(let one): try table.merge(one)
                case .noGroundTruth: table.countSkippedFrame()
                case .noFeatures:
                    panel.withoutFeatures += 1
                    if panel.firstWithoutFeatures == nil {
                        panel.firstWithoutFeatures = ExplainSource.needsFeatures(
                            c.dataset.sequences[at.sequence].frames[at.frame].key, folder: c.dataset.featuresFolder)
                    }
                case .failed(let why): panel.failures.append(why)
                }
            }
        } catch {
            panel.needs = "\(error)"
            return
        }
        panel.table = table
    }

    /// Columns: pixels (wide enough for the largest count), mass GT, mass wrong; for fixed, then broken.
    static let massWidth = 7
    static let preferredNameWidth = 14

    static func pixelWidth(_ panel: AttributionPanelModel?) -> Int {
        let digits = panel?.rows.flatMap { [$0.cells[0], $0.cells[3]] }.map(\.count).max() ?? 0
        return max(7, digits + 1)
    }

    static func width(_ model: ViewModel, screenWidth: Int) -> Int {
        min(screenWidth - 24, 3 + preferredNameWidth + 2 * (pixelWidth(model.attribution) + 2 * massWidth))
    }

    static func draw(_ compositor: Compositor, x: Int, width: Int, height: Int, into grid: inout CellGrid) {
        let model = compositor.model
        func role(_ r: ThemeRole) -> RGB { compositor.role(r) }
        let bg = role(.background)
        let (left, inner) = compositor.sidePanelBorder(x: x, width: width, height: height, into: &grid)
        let title = "MAR fixed/broken · " + (model.attribution?.scope ?? "")
        grid.text(
            Compositor.shorten(title, to: inner), x: left, y: 0, foreground: role(.title), background: bg, bold: true)
        func lines(_ text: String, from y: Int, _ color: ThemeRole) -> Int {
            let wrapped = Compositor.wrapText(text, width: inner)
            for (i, line) in wrapped.enumerated() where y + i < height {
                grid.text(line, x: left, y: y + i, foreground: role(color), background: bg)
            }
            return y + wrapped.count
        }
        guard let panel = model.attribution, panel.needs == nil, let table = panel.table else {
            _ = lines(model.attribution?.needs ?? model.attribution?.progress ?? "", from: 2, .dim)
            return
        }
        var skipped = [
            "\(table.framesWithoutGroundTruth) without GT", "\(panel.withoutFeatures) without features",
        ]
        if !panel.failures.isEmpty { skipped.append("\(panel.failures.count) failed") }
        var y = lines(
            "vs \(table.reference.rawValue) · band \(table.bandWidth) px · \(table.frames) frame(s) counted · "
                + "skipped: " + skipped.joined(separator: ", "), from: 1, .dim)
        if let failure = panel.failures.first { y = lines("failed: " + failure, from: y, .warning) }
        if table.frames == 0, let needs = panel.firstWithoutFeatures {
            y = lines(needs, from: y, .dim)
        }
        let pixelWidth = pixelWidth(panel)
        let partWidth = pixelWidth + 2 * massWidth
        // Numbers are never cut: the broken columns go when both parts leave no room for a name.
        let parts = inner - 2 * partWidth >= 4 ? 2 : 1
        let nameWidth = max(2, inner - parts * partWidth)
        let widths = [pixelWidth, massWidth, massWidth]
        func row(_ name: String, _ cells: [String]) -> String {
            Compositor.shorten(name, to: nameWidth - 1).padding(toLength: nameWidth, withPad: " ", startingAt: 0)
                + zip(cells.prefix(3 * parts), widths + widths).map { $0.leftPadded($1) }.joined()
        }
        func over(_ title: String) -> String {
            let dashes = String(repeating: "─", count: max(0, partWidth - title.count - 3))
            return " ─ " + title + " " + dashes.dropLast()
        }
        y += 1
        let groups = String(repeating: " ", count: nameWidth) + over("fixed") + (parts == 2 ? over("broken") : "")
        grid.text(groups, x: left, y: y, foreground: role(.dim), background: bg)
        grid.text(
            row("class", ["pixels", "GT", "wrong", "pixels", "GT", "wrong"]), x: left, y: y + 1,
            foreground: role(.text), background: bg, bold: true)
        y += 2
        let rows = panel.rows
        let classRows = rows.dropLast()
        // The total row and a line saying what is hidden (when something is) stay on screen.
        let room = max(0, height - y - 1)
        let shownRows = classRows.count <= room ? classRows.count : max(0, room - 1)
        for (i, entry) in classRows.prefix(shownRows).enumerated() {
            let k = entry.classIndex!
            grid[left - 1, y + i] = Cell("█", foreground: model.theme.color(ofClass: UInt8(k)), background: bg)
            grid.text(
                row(model.theme.space.classNames[k], entry.cells), x: left, y: y + i, foreground: role(.text),
                background: bg)
        }
        y += shownRows
        if let total = rows.last, y < height {
            grid.text(row("total", total.cells), x: left, y: y, foreground: role(.title), background: bg, bold: true)
            y += 1
        }
        var notes: [String] = []
        if shownRows < classRows.count { notes.append("▼\(classRows.count - shownRows) classes") }
        if parts == 1 { notes.append("broken cols") }
        if !notes.isEmpty, y < height {
            grid.text(
                Compositor.shorten("hidden: " + notes.joined(separator: ", "), to: inner), x: left, y: y,
                foreground: role(.warning), background: bg)
        } else if y + 1 < height {
            _ = lines(
                "mass: mean MAR attention on the memory rows of the GT / wrong class (explain --fixed-broken)",
                from: y + 1, .dim)
        }
    }
}
