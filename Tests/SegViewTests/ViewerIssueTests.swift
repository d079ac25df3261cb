import Foundation
import SegDataset
import SegEval
import SegFormats
import SegLabels
import SegSynth
import SegTestSupport
import Testing

@testable import SegView

/// The viewer's wrongs and additions of issue 13, each pinned by a test.
@Suite struct ViewerIssueTests {
    static let theme = CompositorTests.theme

    // MARK: keys and state

    @Test func tauKeysRaiseAndLowerByHundredths() throws {
        let (c, _) = try ControllerTests.controller()
        #expect(c.state.confidence.tau == 0.10)
        _ = c.handle(.character("T"))
        #expect(c.state.confidence.tau == 0.11, "T raises τ")
        _ = c.handle(.character("t"))
        _ = c.handle(.character("t"))
        #expect(c.state.confidence.tau == 0.09)
        for _ in 0..<200 { _ = c.handle(.character("T")) }
        #expect(c.state.confidence.tau == 1)
        _ = c.handle(.character("a"))
        let before = c.state.suspects.tau
        _ = c.handle(.character("t"))
        #expect(
            c.state.suspects.tau == before - 0.01 && c.state.confidence.tau == 1,
            "in suspect mode t/T change the suspect threshold")
    }

    @Test func framesAreNamedOneWayEverywhere() throws {
        let (c, _) = try ControllerTests.controller()
        let d = c.dataset
        #expect(d.locate("1")! == (0, 0))
        #expect(d.locate("4")! == (1, 0), "N counts over the dataset, 1-based")
        #expect(d.locate("2/3")! == (1, 2), "S/N as the status line writes them")
        #expect(d.locate("synth_000001_000001")! == (1, 1))
        #expect(d.locate("0") == nil && d.locate("7") == nil && d.locate("3/1") == nil && d.locate("1/0") == nil)
        c.jump(to: "2/2")
        #expect(c.state.sequence == 1 && c.state.frame == 1)
        c.jump(to: "2")
        #expect(c.state.sequence == 0 && c.state.frame == 1)
    }

    /// Two methods whose per-frame scores differ: "good" is the GT, "bad" the
    /// GT with a growing band of frame f painted as class 5.
    static func rankedController() throws -> ViewerController {
        let root = try TestSupport.scratchDirectory()
        var spec = SynthTestData.spec()
        spec.sequences = 2
        spec.frames = 3
        try spec.write(to: root + "/d", force: false)
        let gtFolder = root + "/d/gtFine"
        let bad = root + "/bad"
        var options = DatasetOptions()
        options.path = root + "/d"
        try options.addMethods(predictions: ["good=\(gtFolder)"], confidences: [])
        let plain = try DatasetLocator.open(options)
        try FileManager.default.createDirectory(atPath: bad, withIntermediateDirectories: true)
        let loader = FrameLoader(dataset: plain)
        // Damage grows with a frame-specific amount; frame (1, 1) is the worst.
        let damage = [[2, 8, 4], [6, 30, 1]]
        for (s, sequence) in plain.sequences.enumerated() {
            for (f, frame) in sequence.frames.enumerated() {
                var map = try loader.groundTruth(frame)!.map
                for y in 0..<damage[s][f] { for x in 0..<map.width { map.ids[y * map.width + x] = 5 } }
                try PNG.write(
                    PNGImage(
                        width: map.width, height: map.height, colorType: .gray, bitDepth: 8, samples: .eight(map.ids)),
                    to: bad + "/\(frame.key)_gtFine_labelTrainIds.png")
            }
        }
        options = DatasetOptions()
        options.path = root + "/d"
        try options.addMethods(predictions: ["good=\(gtFolder)", "bad=\(bad)"], confidences: [])
        let c = try ViewerController(
            dataset: try DatasetLocator.open(options), theme: theme, bookmarksPath: root + "/marks.json")
        c.blocking = true
        return c
    }

    @Test func worstFrameSpansTheDatasetAndAgainGoesOn() throws {
        let c = try Self.rankedController()
        #expect(c.state.methods.compared == "bad")
        _ = c.handle(.character("w"))
        #expect(c.state.sequence == 1 && c.state.frame == 1, "worst over both sequences")
        _ = c.handle(.character("w"))
        #expect(c.state.sequence == 0 && c.state.frame == 1, "w again: the next worst")
        _ = c.handle(.character("W"))
        #expect(c.state.sequence == 1 && c.state.frame == 1, "W: largest loss of bad against good")
        #expect(c.state.message?.contains("Δ mIoU -") == true, "\(c.state.message ?? "")")
    }

    @Test func methodsArePickedInTheViewer() throws {
        let c = try Self.rankedController()
        #expect(c.state.methods.reference == "good" && c.state.methods.compared == "bad")
        _ = c.handle(.character("M"))
        #expect(c.state.methods.reference == "bad" || c.state.message?.contains("reference") == true)
        // With two methods the reference cannot become the compared one: M skips it.
        #expect(c.state.methods.reference != c.state.methods.compared)
        let model = c.model()
        #expect(model.reference == c.state.methods.reference && model.comparedMethod == c.state.methods.compared)
    }

    @Test func bookmarksCanBeDeleted() throws {
        let (c, root) = try ControllerTests.controller()
        _ = c.handle(.character("B"))
        for ch in "x" { _ = c.handle(.character(ch)) }
        _ = c.handle(.enter)
        #expect(try Bookmarks.load(path: root + "/marks.json").entries.count == 1)
        _ = c.handle(.character("D"))
        #expect(try Bookmarks.load(path: root + "/marks.json").entries.isEmpty)
        #expect(c.state.message?.contains("deleted") == true)
    }

    @Test func confusionCellListsItsFramesAndHighlights() throws {
        let c = try Self.rankedController()
        c.screenSize = (200, 60)
        _ = c.handle(.character("C"))
        #expect(c.state.panel.kind == .confusion)
        // Row: the GT class under the damage (first row of the frames: class of pixel 0); column 5.
        let frame = c.cache.load(c.frameIndex)
        let g = Int(frame.groundTruth!.ids[0])
        for _ in 0..<g { _ = c.handle(.down) }
        for _ in 0..<5 { _ = c.handle(.right) }
        _ = c.handle(.character("u"))
        _ = c.handle(.character("u"))
        _ = c.handle(.character("u"))
        #expect(c.state.panel.scope == .dataset)
        let grid = Compositor(model: c.model(), width: 200, height: 60).compose().plainText
        #expect(
            grid.contains("GT \(Self.theme.space.classNames[g]) → bad \(Self.theme.space.classNames[5]):"),
            "the status line names the cell")
        _ = c.handle(.enter)
        let list = try #require(c.state.frameList)
        let values = list.entries.compactMap(\.pixels)
        #expect(values == values.sorted(by: >) && !values.isEmpty)
        #expect(list.entries.first?.key == "synth_000001_000001")
        _ = c.handle(.enter)
        #expect(c.state.sequence == 1 && c.state.frame == 1)
        #expect(c.state.highlight == ViewState.Highlight(groundTruth: g, predicted: 5, method: "bad"))
        let highlighted = Compositor(model: c.model(), width: 200, height: 60).compose()
        #expect(
            highlighted.cells.contains {
                $0.isPixel
                    && ($0.foreground == Self.theme.color(.highlight) || $0.background == Self.theme.color(.highlight))
            })
        #expect(highlighted.plainText.contains("(Esc clears)"), "the highlight has its legend")
        _ = c.handle(.escape)
        #expect(c.state.highlight == nil)
    }

    @Test func helpScrollsAndQuitStaysReachable() throws {
        let (c, _) = try ControllerTests.controller()
        for (w, h) in [(80, 24), (60, 16)] {
            c.screenSize = (w, h)
            _ = c.handle(.character("?"))
            var seen = ""
            for _ in 0..<60 {
                let text = Compositor(model: c.model(blocking: true), width: w, height: h).compose().plainText
                #expect(text.contains("q quits"), "the footer says how to quit at \(w)x\(h)")
                seen += text
                _ = c.handle(.down)
            }
            #expect(
                seen.contains("q  Ctrl-C") && seen.contains("←/→  h/l"),
                "scrolling shows the first and the last line at \(w)x\(h)")
            #expect(c.state.help.shown)
            #expect(c.handle(.character("q")) == .quit)
            _ = c.handle(.escape)
        }
    }

    // MARK: compositor

    @Test func anUnreadableFileBlanksOnlyItsOwnPane() {
        var model = CompositorTests.model()
        let path = "/data/run/pred/before/k_000000_000000_very_long_name_for_the_prediction.png"
        model.frame!.predictions["before"] = nil
        model.frame!.confusion["before"] = nil
        model.frame!.errors[.prediction("before")] = "\(path): not a PNG file (bad signature)"
        var state = ViewState()
        state.panel.kind = .iou
        model.state = state
        let grid = Compositor(model: model.analyzed(), width: 160, height: 40)
        let text = grid.compose().plainText
        let lines = Compositor.wrapText(model.frame!.errors[.prediction("before")]!, width: 20)
        #expect(
            lines.joined().replacingOccurrences(of: " ", with: "")
                == model.frame!.errors[.prediction("before")]!.replacingOccurrences(of: " ", with: ""),
            "wrapping loses no character")
        #expect(lines.allSatisfy { $0.count <= 20 })
        let paneLines = text.split(separator: "\n").map(String.init).filter {
            $0.contains("very_long") || $0.contains("he_prediction")
        }
        #expect(paneLines.count == 2, "the long file name is split over two lines of its pane, not cut")
        #expect(text.contains("ground truth") && text.contains("after  mIoU 100.0"), "the other panes are drawn")
        #expect(!text.contains("this frame has no ground truth"))
        #expect(grid.compose().cells.filter(\.isPixel).count > 200)
        #expect(model.paneErrors == ["\(path): not a PNG file (bad signature)"])
    }

    /// Every number the screen shows is whole: the expected strings, computed
    /// here from the frame, appear complete at 200x60 and 80x24.
    @Test(arguments: [(200, 60), (80, 24)])
    func noNumberIsCut(width: Int, height: Int) {
        let base = CompositorTests.model()
        let frame = base.frame!
        let metrics = ["before": Metrics(frame.confusion["before"]!), "after": Metrics(frame.confusion["after"]!)]
        var state = ViewState()
        state.panel.kind = .iou
        var model = base
        model.state = state
        let text = Compositor(model: model.analyzed(), width: width, height: height).compose().plainText
        for method in ["before", "after"] {
            #expect(
                text.contains(Compositor.percent(metrics[method]!.meanIoU)),
                "\(method)'s mIoU whole at \(width)x\(height)")
        }
        let delta = metrics["after"]!.meanIoU - metrics["before"]!.meanIoU
        #expect(text.contains(Compositor.signed(delta)), "the mIoU row's Δ at \(width)x\(height)")
        for c in [0, 13] {
            let d = metrics["after"]!.iou[c] - metrics["before"]!.iou[c]
            #expect(text.contains(Compositor.signed(d)), "class \(c) Δ at \(width)x\(height)")
        }
        #expect(text.contains("Δ = after − before"), "the Δ column names its pair")
        // Captions: each number in the caption row is a whole mIoU, never a prefix of one.
        let captions = String(text.split(separator: "\n").first!)
        let expected = Set(metrics.values.map { Compositor.percent($0.meanIoU) })
        let numbers = captions.matches(of: /\d+(\.\d+)?/).map { String($0.output.0) }
        #expect(numbers.allSatisfy(expected.contains), "captions \(captions)")
        state.mode = .confidence
        state.panel.kind = .none
        model.state = state
        let confidence = Compositor(model: model.analyzed(), width: width, height: height).compose().plainText
        let status = String(confidence.split(separator: "\n").last!)
        #expect(status.range(of: #"↑\d+ ↓\d+"#, options: .regularExpression) != nil, "status counts whole: \(status)")
    }

    @Test func everyColourCodedModeHasALegend() {
        for mode in [ViewState.Mode.confidence, .flips, .suspects] {
            var state = ViewState()
            state.mode = mode
            state.panes.classLegend = false
            let compositor = Compositor(model: CompositorTests.model(state), width: 160, height: 40)
            let legend = compositor.legend()
            #expect(!legend.isEmpty, "\(mode)")
            let text = compositor.compose().plainText
            for entry in legend.prefix(2) { #expect(text.contains(entry.text), "\(mode): \(entry.text)") }
        }
        var state = ViewState()
        state.panes.classLegend = true
        let legend = Compositor(model: CompositorTests.model(state), width: 160, height: 40).legend()
        #expect(legend.map(\.text) == ["road", "car"], "the classes of the frame, by colour")
        #expect(legend.map(\.color) == [Self.theme.color(ofClass: 0), Self.theme.color(ofClass: 13)])
    }

    @Test func statusNamesFocusAndOverlaySource() {
        var state = ViewState()
        state.iou.focusedClass = 13
        state.panes.overlay = true
        let text = Compositor(model: CompositorTests.model(state), width: 200, height: 40).compose().plainText
        #expect(text.contains("focus car") && text.contains("overlay GT 50%"))
    }
}

/// Synthetic data for viewer tests.
enum SynthTestData {
    static func spec() -> SyntheticDataset {
        var spec = SyntheticDataset()
        spec.height = 64
        spec.width = 128
        spec.writeFeatures = false
        return spec
    }
}

/// The viewer's share of issue 14: flicker, Boundary IoU and iIoU in the panel, temporal sparklines.
@Suite struct TemporalViewTests {
    static let theme = CompositorTests.theme

    @Test func flickerModeMarksWhatChangesInTheNextFrame() {
        var state = ViewState()
        state.mode = .flicker
        state.panes.layout = .single
        var model = CompositorTests.model(state)
        model.frameKeys = ["k_000000_000000", "k_000000_000001"]
        var next = CompositorTests.frame()
        var changed = next.predictions["after"]!
        for i in 0..<50 { changed.ids[i] = 5 }  // 50 pixels of "after" become pole
        next.predictions["after"] = changed
        model.nextFrame = next
        #expect(model.panes.first?.title == "flicker after → next frame")
        let compositor = Compositor(model: model.analyzed(), width: 120, height: 40)
        let text = compositor.compose().plainText
        #expect(
            text.contains("flicker after → next frame") && text.contains("(50 px) → next"),
            "\(text.split(separator: "\n").last!)")
        #expect(compositor.legend().first?.color == Self.theme.color(.flicker))
        #expect(
            compositor.compose().cells.contains {
                $0.isPixel
                    && ($0.foreground == Self.theme.color(.flicker) || $0.background == Self.theme.color(.flicker))
            })
        model.nextFrame = nil
        #expect(
            Compositor(
                model: model.analyzed(), width: 120,
                height: 40
            ).compose().plainText.contains("loading the next frame"))
        // With one method (its own reference, nothing compared) the mode shows that method's flicker.
        model.methods = ["after"]
        model.state.methods.reference = "after"
        #expect(model.panes.first?.title == "flicker after → next frame")
    }

    @Test func panelShowsBoundaryIoUAndIIoUOfTheFrame() {
        var state = ViewState()
        state.panel.kind = .iou
        state.iou.metric = .boundaryIoU
        var model = CompositorTests.model(state)
        #expect(Compositor(model: model.analyzed(), width: 160, height: 40).compose().plainText.contains("computing…"))
        var intersections = [Int64](repeating: 0, count: 19)
        var unions = [Int64](repeating: 0, count: 19)
        intersections[0] = 3
        unions[0] = 4
        intersections[13] = 1
        unions[13] = 2
        model.frameBoundary = [
            "before": .init(intersections: intersections, unions: unions),
            "after": .init(intersections: unions, unions: unions),
        ]
        let text = Compositor(model: model.analyzed(), width: 160, height: 40).compose().plainText
        #expect(text.contains("Boundary IoU % · this frame"))
        #expect(text.contains("75.0") && text.contains("50.0") && text.contains("62.5"), "road 3/4, car 1/2, mean 62.5")
        state.panel.scope = .sequence
        model.state = state
        let elsewhere = Compositor(model: model.analyzed(), width: 160, height: 40).compose().plainText
        #expect(
            elsewhere.contains("Boundary IoU %") && elsewhere.contains("computing…"),
            "wider scopes compute in the background")
        state.panel.scope = .frame
        state.iou.metric = .instanceIoU
        model.state = state
        #expect(Compositor(model: model.analyzed(), width: 160, height: 40).compose().plainText.contains("iIoU needs"))
        var counts = InstanceCounts(classes: 19, categories: LabelSpace.cityscapes.categories.count)
        counts.truePositives[13] = 100
        counts.falseNegatives[13] = 100
        counts.present = true
        model.frame!.instances = ["before": counts, "after": counts]
        let iiou = Compositor(model: model.analyzed(), width: 160, height: 40).compose().plainText
        // car: tpW / (tpW + fp + fnW) = 100 / (100 + 32 + 100) for "before" (32 road pixels predicted car), 100 / 200 for "after".
        #expect(iiou.contains("iIoU % · this frame") && iiou.contains("43.1") && iiou.contains("50.0"), "\(iiou)")
    }

    @Test func sparklinesPlotFlickerAndVC() throws {
        var state = ViewState()
        state.sparkMetric = .flicker
        var model = CompositorTests.model(state)
        model.frameKeys = ["a", "b", "c"]
        var counts = TemporalCounts()
        counts.pairs = [FlickerPair(key: "a", fraction: 0.25), FlickerPair(key: "b", fraction: 0.5)]
        counts.windows[8] = [VCWindow(video: "v", start: "a", vspw: 0.9, strict: 0.8)]
        model.temporal = ["before": counts]
        let compositor = Compositor(model: model.analyzed(), width: 120, height: 40)
        // SegEval keys the pair (t, t+1) by frame t; frame t shows t→t+1, as the flicker mode does.
        #expect(Sparklines.values(compositor.model, "before") == [0.25, 0.5, nil])
        #expect(compositor.compose().plainText.contains("25.0–50.0"))
        state.sparkMetric = .vc8
        model.state = state
        #expect(Sparklines.values(model, "before") == [0.9, nil, nil])
        let (c, _) = try ControllerTests.controller()
        c.blocking = true
        _ = c.handle(.character("Y"))
        #expect(c.state.sparkMetric == .flicker)
        #expect(c.model().temporal?["gtcopy"] != nil)
        _ = c.handle(.character("F"))
        #expect(c.state.mode == .flicker && c.model().nextFrame != nil)
        _ = c.handle(.character("y"))
        #expect(c.state.panel.kind == .iou && c.state.iou.metric == .boundaryIoU)
        #expect(c.model().frameBoundary?["gtcopy"] != nil)
    }
}
