import Foundation
import SegDataset
import SegLabels
import SegSynth
import SegTestSupport
import Testing

@testable import SegView

@Suite struct ControllerTests {
    static func controller() throws -> (ViewerController, String) {
        let root = try TestSupport.scratchDirectory()
        var spec = SyntheticDataset()
        spec.sequences = 2
        spec.frames = 3
        spec.height = 64
        spec.width = 128
        spec.writeFeatures = false
        try spec.write(to: root + "/d", force: false)
        var options = DatasetOptions()
        options.path = root + "/d"
        try options.addMethods(predictions: ["gtcopy=\(root)/d/gtFine"], confidences: [])
        let dataset = try DatasetLocator.open(options)
        return (
            try ViewerController(
                dataset: dataset, theme: .builtIn(for: .cityscapes), bookmarksPath: root + "/marks.json"), root
        )
    }

    @Test func framesStepAcrossSequences() throws {
        let (c, _) = try Self.controller()
        #expect(c.handle(.right) == .redraw)
        #expect(c.state.frame == 1)
        _ = c.handle(.end)
        _ = c.handle(.right)
        #expect(c.state.sequence == 1 && c.state.frame == 0)
        _ = c.handle(.left)
        #expect(c.state.sequence == 0 && c.state.frame == 2)
        _ = c.handle(.pageDown)
        #expect(c.state.sequence == 1)
        _ = c.handle(.home)
        #expect(c.state.frame == 0)
        #expect(c.handle(.character("q")) == .quit)
    }

    @Test func jumpPromptFindsKeysAndNumbers() throws {
        let (c, _) = try Self.controller()
        c.jump(to: "synth_000001_000002")
        #expect(c.state.sequence == 1 && c.state.frame == 2)
        c.jump(to: "2")
        #expect(c.state.frame == 1)
        _ = c.handle(.character(":"))
        _ = c.handle(.character("x"))
        _ = c.handle(.escape)
        #expect(c.state.prompt == nil && c.state.frame == 1)
    }

    @Test func bookmarksAreSavedAtOnce() throws {
        let (c, root) = try Self.controller()
        _ = c.handle(.right)
        _ = c.handle(.character("B"))
        for ch in "glare here" { _ = c.handle(.character(ch)) }
        _ = c.handle(.enter)
        let saved = try Bookmarks.load(path: root + "/marks.json")
        #expect(saved.entries.map(\.key) == ["synth_000000_000001"])
        #expect(saved.entries.first?.note == "glare here")
        _ = c.handle(.end)
        _ = c.handle(.character("n"))
        #expect(c.state.frame == 1, "n jumps to the next bookmark, wrapping around")
    }

    @Test func iouFocusWithEnter() throws {
        let (c, _) = try Self.controller()
        _ = c.model(blocking: true)
        _ = c.handle(.character("i"))
        _ = c.handle(.down)
        _ = c.handle(.enter)
        #expect(c.state.iou.focusedClass == 1)
        _ = c.handle(.escape)
        #expect(c.state.iou.focusedClass == nil)
    }

    @Test func sparklineAndCumulativeScopeUseSequenceStatistics() throws {
        let (c, _) = try Self.controller()
        _ = c.handle(.character("i"))
        _ = c.handle(.character("u"))
        let model = c.model(blocking: true)
        #expect(model.sparkline["gtcopy"]?.count == 3)
        #expect(model.sparkline["gtcopy"]?.allSatisfy { $0 == 1.0 } == true, "a copy of GT scores 100%")
        #expect(model.scope?.matrices["gtcopy"] != nil && model.scope?.scored["gtcopy"] == 3)
    }

    @Test func zoomAndPanStayInsideTheImage() throws {
        let (c, _) = try Self.controller()
        for _ in 0..<20 { _ = c.handle(.character("z")) }
        for _ in 0..<20 { _ = c.handle(.character("L")) }
        let model = c.model(blocking: true)
        let v = Compositor(model: model, width: 120, height: 40).viewport(imageWidth: 128, imageHeight: 64)
        #expect(v.x1 <= 128 && v.x0 >= 0 && v.x1 - v.x0 >= 1)
        _ = c.handle(.character("0"))
        #expect(c.state.zoom.zoom == 1)
    }
}

extension ViewerController {
    /// Types `text` at the `:` prompt and presses Enter, as a user jumps.
    func jump(to text: String) {
        _ = handle(.character(":"))
        for ch in text { _ = handle(.character(ch)) }
        _ = handle(.enter)
    }
}
