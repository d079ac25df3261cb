import Foundation
import SegDataset
import SegEngine
import SegFormats
import SegLabels
import SegRuns
import SegTestSupport
import Testing

@testable import SegView

/// The fixed/broken panel (d) against MemoryAttribution computed here from the shipped samples' weights, npy
/// features and ground truth: its table for a frame is `MemoryAttribution.frame` on the frame's window, for a
/// sequence, a marked range and the dataset the merge of its frames' tables; its rows on screen are those
/// numbers rounded.
@Suite struct MemoryAttributionPanelTests {
    static let samples = TestSupport.repositoryRoot + "/samples"
    static let weights = samples + "/weights/street-c64.safetensors"

    static func controller(weights: String? = nil) throws -> (ViewerController, Dataset) {
        var options = DatasetOptions()
        options.path = samples
        let dataset = try DatasetLocator.open(options)
        let c = try ViewerController(
            dataset: dataset, theme: .builtIn(for: .cityscapes),
            bookmarksPath: try TestSupport.scratchDirectory() + "/marks.json", weights: weights)
        c.blocking = true
        c.markGlyphs = false
        return (c, dataset)
    }

    /// Frame `f` of the first sequence (the one with features) through the model on its window, as infer takes it.
    static func expected(_ dataset: Dataset, _ model: Model, frame f: Int) throws -> MemoryAttribution {
        let frames = dataset.sequences[0].frames
        let (previous, next) = Dataset.slidingWindow(frames, f)
        let maps = try [previous, frames[f], next].map { try FeatureMap.read(path: $0.features!) }
        let truth = try #require(try FrameLoader(dataset: dataset).groundTruth(frames[f]))
        return try MemoryAttribution.frame(
            model: model, previous: maps[0], current: maps[1], next: maps[2], groundTruth: truth.map)
    }

    /// The panel's lines, right of its border.
    static func panelLines(_ c: ViewerController, width: Int = 200, height: Int = 60) -> [String] {
        let grid = c.paint(width: width, height: height)
        let layout = c.paintedLayout!
        let x = layout.panel!.x + 1
        return (0..<layout.areaHeight).map { y in String((x..<grid.width).map { grid[$0, y].glyph }) }
    }

    /// The panel's text as one line, single spaces (wrapped sentences read whole).
    static func panelText(_ c: ViewerController) -> String {
        panelLines(c).joined(separator: " ").split(separator: " ").joined(separator: " ")
    }

    /// Each row of `table` (class name or "total", six cells rounded as the panel rounds them) on a line of
    /// `lines`, in order, and no other row.
    static func expectRows(_ table: MemoryAttribution, _ lines: [String], names: [String]) {
        let mass = { (v: Double?) in v.map { String(format: "%.4f", $0) } ?? "-" }
        var next = 0
        for row in table.rows {
            let cells = [row.fixed, row.broken].flatMap { [String($0.pixels), mass($0.truthMass), mass($0.wrongMass)] }
            let name = row.classIndex.map { names[$0] } ?? "total"
            let found = lines.dropFirst(next).firstIndex { line in
                let words = line.split(separator: " ").map(String.init)
                return line.contains(name) && Array(words.suffix(6)) == cells
            }
            #expect(found != nil, "no row \(name) \(cells) in \(lines)")
            next = (found ?? next) + 1
        }
        let numbered = lines.filter { $0.contains("0.") || $0.hasSuffix(" -  ") }.count
        #expect(numbered <= table.rows.count, "\(lines)")
    }

    @Test func frameSequenceAndDatasetTablesAreTheMergeOfMemoryAttributionFrame() throws {
        let (c, dataset) = try Self.controller(weights: Self.weights)
        let model = try Model.load(path: Self.weights)
        let names = dataset.space.classNames
        let tables = try (0..<dataset.sequences[0].frames.count).map { try Self.expected(dataset, model, frame: $0) }
        c.go(sequence: 0, frame: 4)
        #expect(c.handle(.character("d")) == .redraw)
        let frame = try #require(c.model().attribution?.table)
        #expect(frame == tables[4])
        #expect(frame.total.fixed.pixels + frame.total.broken.pixels > 0)
        let frameLines = Self.panelLines(c)
        #expect(frameLines[0].contains("MAR fixed/broken · this frame"))
        Self.expectRows(tables[4], frameLines, names: names)
        #expect(Self.panelText(c).contains("1 frame(s) counted · skipped: 0 without GT, 0 without features"))

        _ = c.handle(.character("u"))
        var sequence = MemoryAttribution(classes: model.classes, bandWidth: 3, reference: .stf)
        for table in tables { try sequence.merge(table) }
        #expect(c.model().attribution?.table == sequence)
        let sequenceLines = Self.panelLines(c)
        #expect(sequenceLines[0].contains("MAR fixed/broken · sequence 1"))
        Self.expectRows(sequence, sequenceLines, names: names)

        // A marked range: frames 2-4 of the sequence.
        c.go(sequence: 0, frame: 1)
        _ = c.handle(.character("x"))
        c.go(sequence: 0, frame: 3)
        _ = c.handle(.character("x"))
        var range = MemoryAttribution(classes: model.classes, bandWidth: 3, reference: .stf)
        for table in tables[1...3] { try range.merge(table) }
        #expect(c.model().attribution?.table == range && range.frames == 3)
        #expect(Self.panelLines(c)[0].contains("MAR fixed/broken · range 1/2–1/4"))
        Self.expectRows(range, Self.panelLines(c), names: names)

        // The dataset: the second sequence has no features, its frames are skipped and said so.
        _ = c.handle(.character("u"))
        let whole = try #require(c.model().attribution)
        #expect(whole.table == sequence && whole.withoutFeatures == dataset.sequences[1].frames.count)
        #expect(
            Self.panelText(c).contains(
                "12 frame(s) counted · skipped: 0 without GT, \(dataset.sequences[1].frames.count) without features"))
    }

    @Test func interactiveViewerComputesInTheBackgroundWithProgress() async throws {
        let (c, dataset) = try Self.controller(weights: Self.weights)
        c.blocking = false
        c.go(sequence: 0, frame: 3)
        _ = c.handle(.character("d"))
        // The key returns at once: the weights load and the frame is attributed off this thread.
        let first = try #require(c.model().attribution)
        #expect(first.table == nil && first.progress == "fixed/broken: loading the weights…")
        var table: MemoryAttribution?
        for _ in 0..<600 where table == nil {
            try await Task.sleep(for: .milliseconds(100))
            table = c.model().attribution?.table
        }
        #expect(table == (try Self.expected(dataset, try Model.load(path: Self.weights), frame: 3)))
    }

    @Test func frameWithoutFeaturesSaysWhatItNeeds() throws {
        let (c, dataset) = try Self.controller(weights: Self.weights)
        c.go(sequence: 1, frame: 2)
        _ = c.handle(.character("d"))
        let panel = try #require(c.model().attribution)
        #expect(panel.table?.frames == 0 && panel.withoutFeatures == 1)
        let text = Self.panelText(c)
        #expect(
            text.contains(
                ExplainSource.needsFeatures(dataset.sequences[1].frames[2].key, folder: dataset.featuresFolder)),
            "\(text)")
    }

    @Test func withoutWeightsOneLineSaysWhatItNeeds() throws {
        // The samples' manifest names its weights: a dataset of its frames without it has none.
        let (sampled, _) = try Self.controller()
        #expect(sampled.explainSource.weights != nil)
        let root = try TestSupport.scratchDirectory()
        var options = DatasetOptions()
        options.path = root
        try FileManager.default.createSymbolicLink(
            atPath: root + "/street", withDestinationPath: Self.samples + "/street")
        let manifest = try String(contentsOfFile: Self.samples + "/segscope.toml", encoding: .utf8)
            .split(separator: "\n", omittingEmptySubsequences: false).filter { !$0.hasPrefix("weights") }
        try manifest.joined(separator: "\n").write(toFile: root + "/segscope.toml", atomically: true, encoding: .utf8)
        let c = try ViewerController(
            dataset: try DatasetLocator.open(options), theme: .builtIn(for: .cityscapes),
            bookmarksPath: root + "/marks.json")
        c.blocking = true
        _ = c.handle(.character("d"))
        #expect(c.model().attribution?.needs == MemoryAttributionPanel.needsWeights)
        let text = Self.panelText(c)
        #expect(text.contains(MemoryAttributionPanel.needsWeights), "\(text)")
    }

    @Test func fitsAt80x24AndOpeningTheIoUPanelClosesIt() throws {
        let (c, dataset) = try Self.controller(weights: Self.weights)
        let model = try Model.load(path: Self.weights)
        c.go(sequence: 0, frame: 1)
        _ = c.handle(.character("d"))
        let lines = Self.panelLines(c, width: 80, height: 24)
        let table = try Self.expected(dataset, model, frame: 1)
        Self.expectRows(table, lines, names: dataset.space.classNames.map { String($0.prefix(6)) })
        // At the smallest screen: the fixed columns whole, and a line naming the classes and columns hidden.
        let small = Self.panelLines(c, width: Compositor.minimumWidth, height: Compositor.minimumHeight)
        let mass = { (v: Double?) in v.map { String(format: "%.4f", $0) } ?? "-" }
        let fixedRows = small.filter { line in
            table.rows.contains { row in
                line.hasSuffix(" \(row.fixed.pixels) \(mass(row.fixed.truthMass)) \(mass(row.fixed.wrongMass)) ")
            }
        }
        #expect(fixedRows.count >= 2 && fixedRows.count < table.rows.count, "\(small)")
        #expect(
            small.contains { $0.contains("hidden: ▼\(table.rows.count - fixedRows.count) classes, broken cols") },
            "\(small)")
        _ = c.handle(.character("i"))
        #expect(c.state.panel.kind == .iou)
        _ = c.handle(.character("d"))
        #expect(c.state.panel.kind == .attribution)
    }
}
