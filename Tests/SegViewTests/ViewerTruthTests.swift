import Foundation
import SegDataset
import SegEval
import SegFormats
import SegLabels
import SegSynth
import SegTestSupport
import Testing

@testable import SegView

/// Issue 21, viewer side: every figure says over which frames it was
/// computed, and those are the frames eval would sum.
@Suite struct ViewerTruthTests {
    static let theme = CompositorTests.theme

    /// Two sequences of three frames; "good" is the ground truth, "bad" the
    /// ground truth with a band of class 5 growing per frame. `damage`
    /// breaks files: the bad prediction of (0, 1) is missing, the GT of
    /// (1, 2) is not a PNG.
    static func damagedController(damage: Bool = true, blocking: Bool = true) throws -> (
        ViewerController,
        root: String
    ) {
        let root = try TestSupport.scratchDirectory()
        var spec = SynthTestData.spec()
        spec.sequences = 2
        spec.frames = 3
        try spec.write(to: root + "/d", force: false)
        let gtCopy = root + "/good"
        let bad = root + "/bad"
        var options = DatasetOptions()
        options.path = root + "/d"
        let plain = try DatasetLocator.open(options)
        let loader = FrameLoader(dataset: plain)
        for folder in [gtCopy, bad] {
            try FileManager.default.createDirectory(
                atPath: folder,
                withIntermediateDirectories: true)
        }
        for (s, sequence) in plain.sequences.enumerated() {
            for (f, frame) in sequence.frames.enumerated() {
                var map = try loader.groundTruth(frame)!.map
                func write(_ folder: String) throws {
                    try PNG.write(
                        PNGImage(
                            width: map.width, height: map.height, colorType: .gray, bitDepth: 8,
                            samples: .eight(map.ids)),
                        to: folder + "/\(frame.key)_gtFine_labelTrainIds.png")
                }
                try write(gtCopy)
                for y in 0..<(2 + 5 * s + 3 * f) { for x in 0..<map.width { map.ids[y * map.width + x] = 5 } }
                if !(damage && s == 0 && f == 1) { try write(bad) }
            }
        }
        if damage {
            let gt = plain.sequences[1].frames[2].groundTruth!
            try Data("not a png".utf8).write(to: URL(fileURLWithPath: gt))
        }
        options = DatasetOptions()
        options.path = root + "/d"
        try options.addMethods(predictions: ["good=\(gtCopy)", "bad=\(bad)"], confidences: [])
        let c = try ViewerController(
            dataset: try DatasetLocator.open(options), theme: theme,
            bookmarksPath: root + "/marks.json")
        c.blocking = blocking
        return (c, root)
    }

    /// Confusions of `method` summed over `frames` (sequence, frame), read
    /// here independently of the viewer; nil for frames that cannot be read.
    static func summed(_ c: ViewerController, _ method: String, _ frames: [(Int, Int)]) throws -> ConfusionMatrix {
        let loader = FrameLoader(dataset: c.dataset)
        var sum = ConfusionMatrix(classes: c.theme.space.count)
        for (s, f) in frames {
            let record = c.dataset.sequences[s].frames[f]
            let gt = try loader.groundTruth(record)!.map
            let p = try loader.prediction(record, method: method, size: (gt.width, gt.height))!.map
            sum.add(groundTruth: gt, prediction: p)
        }
        return sum
    }

    static func screen(_ c: ViewerController, width: Int = 200, height: Int = 60) -> String {
        c.screenSize = (width, height)
        return c.paint(width: width, height: height).plainText
    }

    // MARK: 1 scopes keep their frames

    @Test func aMarkedRangeIsItsFramesWhereverTheViewGoes() throws {
        let (c, _) = try Self.damagedController(damage: false)
        _ = c.handle(.character("i"))
        _ = c.handle(.right)  // 1/2
        _ = c.handle(.character("x"))
        _ = c.handle(.right)  // 1/3
        _ = c.handle(.character("x"))
        #expect(c.state.panel.range == ViewState.MarkedRange(sequence: 0, first: 1, last: 2))
        #expect(c.state.panel.scope == .range)
        _ = c.handle(.pageDown)  // sequence 2
        let model = c.model()
        let figures = try #require(model.scope)
        #expect(figures.name == "range 1/2–1/3", "the range still means sequence 1's frames")
        #expect(figures.frames == 2 && figures.scored["bad"] == 2)
        let expected = try Self.summed(c, "bad", [(0, 1), (0, 2)])
        #expect(figures.matrices["bad"] == expected)
        let text = Self.screen(c)
        #expect(text.contains("range 1/2–1/3 (2 fr)"), "the status line says which frames")
        // A range never spans sequences: x in another sequence starts anew there.
        _ = c.handle(.character("x"))
        _ = c.handle(.pageUp)
        _ = c.handle(.character("x"))
        #expect(c.state.panel.rangeStart == ViewState.FramePosition(sequence: 0, frame: 0))
        #expect(c.state.message?.contains("within one sequence") == true)
    }

    // MARK: 2 coverage, 3 like with like

    @Test func figuresSayOverWhichFramesAndDeltaComparesCommonFrames() throws {
        let (c, _) = try Self.damagedController()
        _ = c.handle(.character("i"))
        for _ in 0..<3 { _ = c.handle(.character("u")) }
        #expect(c.state.panel.scope == .dataset)
        let model = c.model()
        let figures = try #require(model.scope)
        // 6 frames, all with a GT file; (1, 2)'s GT is unreadable, (0, 1) has no bad prediction.
        #expect(figures.labelled == 6)
        #expect(figures.scored["good"] == 5 && figures.scored["bad"] == 4)
        let scoredGood = [(0, 0), (0, 1), (0, 2), (1, 0), (1, 1)]
        let common = [(0, 0), (0, 2), (1, 0), (1, 1)]
        #expect(figures.matrices["good"] == (try Self.summed(c, "good", scoredGood)))
        #expect(figures.matrices["bad"] == (try Self.summed(c, "bad", common)))
        let pair = try #require(figures.pair)
        let referenceOverCommon = try Self.summed(c, "good", common)
        #expect(pair.frames == 4 && pair.referenceMatrix == referenceOverCommon)
        let table = try #require(IoUPanel.table(model))
        let expectedDelta =
            Metrics(try Self.summed(c, "bad", common)).meanIoU
            - Metrics(
                try Self.summed(
                    c, "good",
                    common)
            ).meanIoU
        #expect(abs(table.meanDelta - expectedDelta) < 1e-12, "Δ over the frames both have")
        #expect(table.scored == [5, 4] && table.labelled == 6)
        let text = Self.screen(c)
        #expect(text.contains("Δ = bad − good · 4 frames both have"))
        #expect(text.range(of: #"frames of 6 +5 +4 +4"#, options: .regularExpression) != nil, "the coverage row")
        #expect(text.contains("2 unreadable (E lists)"))
        // E lists the files with their reasons.
        _ = c.handle(.character("E"))
        let list = try #require(c.state.frameList)
        #expect(list.entries.count == 2)
        let notes = list.entries.compactMap(\.note).joined(separator: "\n")
        #expect(notes.contains("bad: no prediction for synth_000000_000001"))
        #expect(notes.contains(c.dataset.sequences[1].frames[2].groundTruth!), "the unreadable GT by its path")
        // The chosen entry's reason is shown whole, even at 80x24.
        c.state.frameList?.selected = list.entries.firstIndex { $0.note?.hasPrefix("ground truth") == true } ?? 0
        let reason = try #require(c.state.frameList?.entries[c.state.frameList!.selected].note)
        let lastWords = reason.split(separator: " ").suffix(2).joined(separator: " ")
        #expect(Self.screen(c, width: 80, height: 24).contains(lastWords), "\(lastWords) on screen")
        // At frame scope too, a missing prediction is listed, in the wider scopes' words.
        c.state.frameList = nil
        _ = c.handle(.character("u"))
        #expect(c.state.panel.scope == .frame)
        for (position, expected) in [
            ((0, 1), "bad: no prediction for synth_000000_000001"), ((1, 2), "ground truth: "),
        ] {
            c.go(sequence: position.0, frame: position.1)
            _ = c.cache.load(c.frameIndex)
            _ = c.handle(.character("E"))
            let frameList = try #require(c.state.frameList, "\(position): \(c.state.message ?? "")")
            #expect(frameList.entries.count == 1)
            #expect(frameList.entries.first?.note?.hasPrefix(expected) == true, "\(frameList.entries)")
            c.state.frameList = nil
        }
    }

    @Test func sparklinesSayTheirCoverageAndWhatTheyCannotShow() {
        var model = CompositorTests.model()
        model.methods = ["before", "after", "m3", "m4", "m5", "m6"]
        model.sparkline = ["before": [0.5, nil, 0.7], "after": [0.6, 0.6, nil]]
        model.frameKeys = ["a", "b", "c"]
        let text = Compositor(model: model.analyzed(), width: 200, height: 50).compose().plainText
        #expect(text.contains("mIoU 50.0–70.0 % · 2/3 fr"), "the metric, its unit and over how many frames")
        #expect(text.contains("+2 more"), "six methods, four rows")
    }

    // MARK: 7 the rest of what was seen

    @Test func rankingsWorkOnTheFirstPressWhileFiguresCompute() throws {
        let (c, _) = try Self.damagedController(damage: false, blocking: false)
        _ = c.handle(.character("W"))
        let deadline = Date().addingTimeInterval(30)
        while c.state.message?.hasPrefix("worst Δ") != true && Date() < deadline {
            _ = c.model()
            Thread.sleep(forTimeInterval: 0.02)
        }
        #expect(c.state.message?.contains("worst Δ bad−good: 1 of 6") == true, "\(c.state.message ?? "")")
        #expect(c.state.sequence == 1 && c.state.frame == 2, "the largest loss, after one press")
        // Backspace steps back; w again goes on.
        _ = c.handle(.character("W"))
        let second = (c.state.sequence, c.state.frame)
        _ = c.handle(.backspace)
        #expect(c.state.sequence == 1 && c.state.frame == 2 && c.state.message?.contains("1 of 6") == true)
        _ = c.handle(.character("W"))
        #expect((c.state.sequence, c.state.frame) == second)
    }

    @Test func statusNamesTheOnlyMethod() throws {
        let (c, _) = try ControllerTests.controller()
        #expect(Self.screen(c).contains("method gtcopy"))
    }

    @Test func promptTrimsCancelsAndCtrlCCancels() throws {
        let (c, _) = try ControllerTests.controller()
        c.jump(to: "  2/2  ")
        #expect(c.state.sequence == 1 && c.state.frame == 1 && c.state.message == nil)
        c.jump(to: "")
        #expect(c.state.prompt == nil && c.state.message == nil, "an empty Enter cancels")
        _ = c.handle(.character(":"))
        _ = c.handle(.character("3"))
        #expect(c.handle(.interrupt) != .quit && c.state.prompt == nil, "Ctrl-C cancels the prompt")
        _ = c.handle(.character(":"))
        for ch in "2/2" { _ = c.handle(.character(ch)) }
        _ = c.handle(.clearLine)
        #expect(c.state.prompt?.text == "", "Ctrl-U clears the text")
        _ = c.handle(.escape)
        _ = c.handle(.character("?"))
        #expect(c.handle(.interrupt) != .quit && !c.state.help.shown, "and the help")
        #expect(c.handle(.interrupt) == .quit, "otherwise it quits")
    }

    @Test func endGoesToTheLastEntryOfAPopup() throws {
        let (c, _) = try Self.damagedController()
        for key in "iuuuE" { _ = c.handle(.character(key)) }
        #expect(c.state.frameList?.selected == 0)
        _ = c.handle(.end)
        #expect(c.state.frameList?.selected == 1)
        _ = c.handle(.home)
        #expect(c.state.frameList?.selected == 0)
        _ = c.handle(.interrupt)
        #expect(c.state.frameList == nil)
        c.screenSize = (80, 24)
        _ = c.handle(.character("?"))
        _ = c.handle(.end)
        let text = Self.screen(c, width: 80, height: 24)
        #expect(text.contains("this help") && !text.contains("▼"), "the last line of the help is shown")
    }

    @Test func aMalformedBookmarksFileIsReportedAndKept() throws {
        let root = try TestSupport.scratchDirectory()
        let path = root + "/marks.json"
        try "{\"bookmarks\": [ {\"note\": 3".write(toFile: path, atomically: true, encoding: .utf8)
        var spec = SynthTestData.spec()
        spec.sequences = 1
        spec.frames = 2
        try spec.write(to: root + "/d", force: false)
        var options = DatasetOptions()
        options.path = root + "/d"
        let c = try ViewerController(dataset: try DatasetLocator.open(options), theme: Self.theme, bookmarksPath: path)
        #expect(c.state.message?.contains("bookmarks not loaded") == true && c.state.message?.contains(path) == true)
        _ = c.handle(.character("B"))
        _ = c.handle(.character("x"))
        _ = c.handle(.enter)
        #expect(c.state.message?.contains("cannot save bookmark") == true)
        #expect(try String(contentsOfFile: path, encoding: .utf8) == "{\"bookmarks\": [ {\"note\": 3", "left untouched")
    }

    @Test func flickerIsAttachedToTheSameFrameEverywhere() throws {
        let (c, _) = try Self.damagedController(damage: false)
        _ = c.handle(.character("F"))
        _ = c.handle(.character("Y"))
        let model = c.model()
        guard case .success(let layer)? = model.markLayer else {
            Issue.record("no flicker layer")
            return
        }
        let changed = layer.marks.filter { $0 != 0 }.count
        let spark = try #require(Sparklines.values(model, "bad")[0])
        #expect(
            abs(spark - Double(changed) / Double(layer.marks.count)) < 1e-12,
            "frame 1 shows 1→2 in the sparkline and the mode")
        #expect(Legend.entries(model).contains { $0.text.contains("t→t+1") }, "the legend states the convention")
    }

    @Test func captionsSitRightAboveTheirPanesInRowLayout() {
        var state = ViewState()
        state.panes.layout = .row
        let model = CompositorTests.model(state)
        let grid = Compositor(model: model, width: 200, height: 60).compose()
        let lines = grid.plainText.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        let captionRow = try? #require(lines.firstIndex { $0.contains("ground truth") })
        let firstPixelRow = (0..<grid.height).first { y in (0..<grid.width).contains { grid[$0, y].isPixel } }
        #expect(captionRow != nil && firstPixelRow != nil && captionRow! == firstPixelRow! - 1)
    }

    @Test func theIoUHeaderKeepsMethodNamesWhole() {
        var state = ViewState()
        state.panel.kind = .iou
        var model = CompositorTests.model(state)
        model.methods = ["baseline-r101", "stf-memory-v2"]
        model.frame!.confusion = [
            "baseline-r101": model.frame!.confusion["before"]!,
            "stf-memory-v2": model.frame!.confusion["after"]!,
        ]
        model.frame!.predictions = [
            "baseline-r101": model.frame!.predictions["before"]!,
            "stf-memory-v2": model.frame!.predictions["after"]!,
        ]
        let text = Compositor(model: model.analyzed(), width: 200, height: 40).compose().plainText
        #expect(text.contains("baseline-r101") && text.contains("stf-memory-v2"), "room for whole names at 200 columns")
    }

    // MARK: 5 every mark can be seen

    @Test func aFocusedSmallClassShowsAtAnyZoom() {
        let w = 512
        let h = 256
        var frame = FrameData(key: "k_000000_000000")
        var ids = [UInt8](repeating: 0, count: w * h)
        // 47 pixels of wall (3), scattered.
        for i in 0..<47 { ids[(40 + 4 * i) * w / 2 + 7 * i + 5] = 3 }
        let gt = LabelMap(width: w, height: h, ids: ids)
        frame.groundTruth = gt
        #expect(ids.filter { $0 == 3 }.count == 47)
        var state = ViewState()
        state.panes.layout = .single
        state.panes.singlePane = 0
        var model = ViewModel(
            state: state, theme: Self.theme, sequenceNames: ["k"], frameKeys: ["k_000000_000000"],
            methods: [],
            reference: nil, hasGroundTruth: true, hasImages: false)
        model.frame = frame
        let wall = Self.theme.color(ofClass: 3)
        func wallCells(_ m: ViewModel) -> Int {
            Compositor(
                model: m, width: 80,
                height: 24
            ).compose().cells.filter {
                $0.isPixel
                    && ($0.foreground == wall || $0.background == wall)
            }.count
        }
        #expect(wallCells(model) == 0, "a majority never picks 47 scattered pixels")
        model.state.iou.focusedClass = 3
        #expect(wallCells(model) > 0, "focused, it shows at zoom 1")
    }

    @Test func withoutColoursEachMarkKindHasItsGlyph() {
        var kinds: [MarkKind] = []
        for mode in [ViewState.Mode.confidence, .flips, .suspects] {
            var state = ViewState()
            state.mode = mode
            state.panes.layout = .single
            var model = CompositorTests.model(state)
            model.markGlyphs = true
            guard case .success(let layer)? = model.markLayer else {
                Issue.record("\(mode)")
                continue
            }
            kinds += layer.kinds
            let grid = Compositor(model: model, width: 160, height: 40).compose()
            let glyphs = Set(layer.kinds.map(\.glyph))
            #expect(grid.cells.contains { glyphs.contains($0.glyph) && !$0.isPixel }, "\(mode) draws its glyphs")
            let legend = grid.plainText.split(separator: "\n").reversed()[1]
            #expect(
                legend.contains("\(layer.kinds[0].glyph) \(layer.kinds[0].legend.prefix(10))"),
                "\(mode): the legend shows the glyph: \(legend)")
        }
        #expect(Set(kinds.map(\.glyph)).count == kinds.count, "every kind its own glyph")
    }

    @Test func figureCaptionsStateTheFullMode() throws {
        var state = ViewState()
        state.mode = .confidence
        state.confidence.tau = 0.15
        state.confidence.radius = 4
        #expect(Figure.modeSettings(CompositorTests.model(state)) == "τ 0.15, band r 4 px")
        #expect(FigureCaptionTests.pixels("τ") != FigureCaptionTests.pixels("?"))
    }

    // MARK: 4 Boundary IoU beyond the frame

    @Test func boundaryIoUOfARangeIsItsFramesSummed() throws {
        let (c, _) = try Self.damagedController()
        _ = c.handle(.character("i"))
        _ = c.handle(.character("x"))
        _ = c.handle(.end)
        _ = c.handle(.character("x"))  // range 1/1–1/3; 1/2 has no bad prediction
        _ = c.handle(.character("y"))
        let table = try #require(IoUPanel.table(c.model()))
        let loader = FrameLoader(dataset: c.dataset)
        let k = c.theme.space.count
        func summed(_ method: String, _ frames: [Int]) throws -> [Double] {
            var i = [Int64](repeating: 0, count: k)
            var u = [Int64](repeating: 0, count: k)
            for f in frames {
                let record = c.dataset.sequences[0].frames[f]
                let gt = try loader.groundTruth(record)!.map
                let p = try loader.prediction(record, method: method, size: (gt.width, gt.height))!.map
                BoundaryIoU.add(
                    groundTruth: gt, prediction: p, classes: k, ratio: BoundaryIoU.defaultDilationRatio,
                    intersections: &i, unions: &u)
            }
            return zip(i, u).map { $1 == 0 ? .nan : Double($0) / Double($1) }
        }
        let good = try summed("good", [0, 1, 2])
        let bad = try summed("bad", [0, 2])
        let goodCommon = try summed(
            "good",
            [
                0,
                2,
            ])
        #expect(abs(table.mean[0] - Metrics.mean(good)) < 1e-12 && abs(table.mean[1] - Metrics.mean(bad)) < 1e-12)
        #expect(
            abs(table.meanDelta - (Metrics.mean(bad) - Metrics.mean(goodCommon))) < 1e-12,
            "Δ over the frames both have")
        #expect(table.scope == "range 1/1–1/3" && table.scored == [3, 2])
    }

    // MARK: 8 what researchers asked for

    @Test func theIoUPanelSortsByAnyMethodAndDeltaBothWays() throws {
        let (c, _) = try Self.damagedController(damage: false)
        _ = c.handle(.character("i"))
        var orders: [ViewState.IoUPanelState.Sort] = []
        for _ in 0..<4 {
            _ = c.handle(.character("s"))
            orders.append(c.state.iou.sort)
            let table = try #require(IoUPanel.table(c.model()))
            let keys: [Double]
            switch c.state.iou.sort {
            case .byMethod(let m):
                keys = table.rows.map { $0.values[table.methods.firstIndex(of: m)!] }.filter { !$0.isNaN }
            case .byDelta: keys = table.rows.map(\.delta).filter { !$0.isNaN }
            case .byClass: keys = table.rows.map { Double($0.classIndex) }
            }
            let descending = c.state.iou.sort != .byClass
            #expect(keys == keys.sorted(by: descending ? (>) : (<)), "\(c.state.iou.sort)")
            _ = c.handle(.character("S"))
            let reversed = try #require(IoUPanel.table(c.model()))
            let first = reversed.rows.first!
            if case .byDelta = c.state.iou.sort { #expect(first.delta == keys.last!, "S reverses") }
            _ = c.handle(.character("S"))
        }
        #expect(orders == [.byMethod("good"), .byMethod("bad"), .byDelta, .byClass])
    }

    @Test func theEndsOfTheDatasetAreSaid() throws {
        let (c, _) = try ControllerTests.controller()
        let last = c.dataset.sequences.count - 1
        c.go(sequence: last, frame: 1)
        _ = c.handle(.character("]"))
        #expect(c.state.sequence == last && c.state.frame == 1, "] in the last sequence stays where it is")
        #expect(c.state.message == "the last sequence of the dataset")
        c.go(sequence: 0, frame: 0)
        _ = c.handle(.left)
        #expect(c.state.frame == 0 && c.state.message == "the first frame of the dataset")
    }

    @Test func aFocusedClassSaysInTheLegendWhatIsDimmed() throws {
        let (c, _) = try ControllerTests.controller()
        c.blocking = true
        _ = c.handle(.character("i"))
        _ = c.handle(.enter)
        let focused = try #require(c.state.iou.focusedClass)
        let name = c.theme.space.classNames[focused]
        #expect(Self.screen(c).contains("dimmed: every class but \(name) (focus; Esc clears)"))
        _ = c.handle(.escape)
        #expect(!Self.screen(c).contains("dimmed: every class but"))
    }

    @Test func zoomShowsWhereTheViewIs() throws {
        let (c, _) = try ControllerTests.controller()
        c.blocking = true
        _ = c.handle(.character("z"))
        _ = c.handle(.character("z"))
        for _ in 0..<10 { _ = c.handle(.character("L")) }
        let text = Self.screen(c)
        #expect(text.contains("zoom 2.25x · x 56–100% y 28–72%"), "\(text.split(separator: "\n").last!)")
    }

    /// The confusion matrix exports its pixel counts, and says so with its scope and frames in both formats.
    @Test(arguments: ["md", "csv"])
    func theConfusionMatrixExportsItsCounts(ext: String) throws {
        let (c, root) = try Self.damagedController(damage: false)
        _ = c.handle(.character("C"))
        _ = c.handle(.character("e"))
        for _ in c.state.prompt!.text { _ = c.handle(.backspace) }
        let path = root + "/confusion." + ext
        for ch in path { _ = c.handle(.character(ch)) }
        _ = c.handle(.enter)
        #expect(c.state.message == "exported to \(path)")
        let text = try String(contentsOfFile: path, encoding: .utf8)
        let figures = try #require(c.model().scope)
        let method = c.model().comparedMethod ?? "bad"
        let matrix = try #require(figures.matrices[method])
        let about = "confusion (pixels) · \(method) · \(figures.name) · \(figures.coverage(method)) frames"
        #expect(text.contains(about), "\(text.prefix(200))")
        let road = "road" + (0...matrix.classes).map { (ext == "csv" ? "," : " | ") + String(matrix[0, $0]) }.joined()
        #expect(text.contains(road), "row of road's pixel counts")
    }

    @Test(arguments: ["md", "csv"])
    func theIoUPanelExportsAsShown(ext: String) throws {
        let (c, root) = try Self.damagedController(damage: false)
        _ = c.handle(.character("i"))
        _ = c.handle(.character("u"))
        _ = c.handle(.character("e"))
        let offered = try #require(c.state.prompt?.text)
        #expect(offered == root + "/d/iou-sequence.md", "beside the dataset")
        for _ in offered { _ = c.handle(.backspace) }
        let path = root + "/out." + ext
        for ch in path { _ = c.handle(.character(ch)) }
        _ = c.handle(.enter)
        #expect(c.state.message == "exported to \(path)")
        let text = try String(contentsOfFile: path, encoding: .utf8)
        let table = try #require(IoUPanel.table(c.model()))
        let road = table.rows.first { $0.classIndex == 0 }!
        if ext == "csv" {
            let lines = text.split(separator: "\n").map(String.init)
            #expect(lines.first == "class,good,bad,delta bad-good")
            #expect(
                lines[1] == "road,"
                    + road.values.map {
                        String(
                            format: "%.6f",
                            $0)
                    }.joined(separator: ",") + "," + String(format: "%.6f", road.delta))
            #expect(lines.last == "frames scored of 3,3,3,3")
        } else {
            #expect(
                text.contains(
                    "| road | "
                        + road.values.map {
                            String(
                                format: "%.2f",
                                $0 * 100)
                        }.joined(separator: " | ")))
            #expect(text.hasPrefix("IoU % · sequence 1 · sort class · Δ over the 3 frames both have"))
        }
        let bad = root + "/out.txt"
        _ = c.handle(.character("e"))
        for _ in c.state.prompt!.text { _ = c.handle(.backspace) }
        for ch in bad { _ = c.handle(.character(ch)) }
        _ = c.handle(.enter)
        #expect(
            c.state.message?.contains("must end in .md or .csv") == true
                && !FileManager.default.fileExists(atPath: bad))
    }
}
