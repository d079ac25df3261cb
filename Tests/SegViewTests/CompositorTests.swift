import SegDataset
import SegEval
import SegFormats
import SegLabels
import Testing

@testable import SegView

/// Snapshot-style tests on cell grids built from frames made here.
@Suite struct CompositorTests {
    static let theme = Theme.builtIn(for: .cityscapes)

    /// A 64x32 frame: road (0) on the left half, car (13) on the right; the
    /// method "after" is more confident than "before" near the boundary on
    /// the top half, less on the bottom half.
    static func frame() -> FrameData {
        let w = 64
        let h = 32
        var data = FrameData(key: "k_000000_000000")
        let gt = LabelMap(width: w, height: h, ids: (0..<(w * h)).map { $0 % w < 32 ? 0 : 13 })
        data.groundTruth = gt
        var wrong = gt
        for y in 0..<h { wrong.ids[y * w + 31] = 13 }  // one column flipped to car
        data.predictions = ["before": wrong, "after": gt]
        data.confidences["before"] = ConfidenceMap(width: w, height: h, values: [Float](repeating: 0.5, count: w * h))
        data.confidences["after"] = ConfidenceMap(
            width: w, height: h, values: (0..<(w * h)).map { $0 / w < 16 ? 0.8 : 0.3 })
        data.boundaryDistance = BoundaryBand.distance(gt, cap: 255)
        data.presentClasses = [0, 13]
        for (method, p) in data.predictions {
            var m = ConfusionMatrix(classes: 19)
            m.add(groundTruth: gt, prediction: p)
            data.confusion[method] = m
        }
        return data
    }

    static func model(_ state: ViewState = ViewState()) -> ViewModel {
        var model = ViewModel(
            state: state, theme: theme, sequenceNames: ["k_000000"], frameKeys: ["k_000000_000000"],
            methods: ["before", "after"], reference: "before", hasGroundTruth: true, hasImages: false)
        model.frame = frame()
        return model.analyzed()
    }

    @Test func labelPanesShowTruePaletteColours() {
        var state = ViewState()
        state.panes.layout = .single
        state.panes.singlePane = 0  // ground truth
        let grid = Compositor(model: Self.model(state), width: 80, height: 24).compose()
        let palette = Set([Self.theme.color(ofClass: 0), Self.theme.color(ofClass: 13), Self.theme.color(.background)])
        let pixels = grid.cells.filter(\.isPixel)
        #expect(pixels.count > 100)
        #expect(pixels.allSatisfy { palette.contains($0.foreground) && palette.contains($0.background) })
        #expect(pixels.contains { $0.foreground == Self.theme.color(ofClass: 13) })
    }

    @Test func confidenceChangeHighlightsBoundaryPixelsOnly() {
        var state = ViewState()
        state.mode = .confidence
        state.panes.layout = .single
        state.confidence.tau = 0.1
        state.confidence.radius = 2
        let model = Self.model(state)
        #expect(model.panes.first?.title == "Δconf before→after")
        let grid = Compositor(model: model.analyzed(), width: 140, height: 24).compose()
        // Band of radius 2 around the boundary between columns 31 and 32: 6 columns x 16 rows each way.
        #expect(grid.plainText.contains("↑96 ↓96"))
        let up = Self.theme.color(.confidenceUp)
        let down = Self.theme.color(.confidenceDown)
        let pixels = grid.cells.filter(\.isPixel)
        #expect(pixels.contains { $0.foreground == up } && pixels.contains { $0.background == down })
        state.confidence.tau = 0.6
        #expect(Compositor(model: Self.model(state), width: 140, height: 24).compose().plainText.contains("↑0 ↓0"))
    }

    @Test func flipMapCountsFixedPixels() {
        var state = ViewState()
        state.mode = .flips
        state.panes.layout = .single
        let grid = Compositor(model: Self.model(state), width: 140, height: 24).compose()
        #expect(grid.plainText.contains("fixed 32 broken 0 changed 0"))
        #expect(
            grid.cells.contains {
                $0.isPixel && ($0.foreground == Self.theme.color(.fixed) || $0.background == Self.theme.color(.fixed))
            })
    }

    @Test func gridLayoutTilesFourPanes() {
        var model = Self.model()
        model.methods = ["before", "after", "third"]
        let layout = Compositor(model: model.analyzed(), width: 120, height: 40).layout()
        #expect(layout.panes.count == 4)
        #expect(Set(layout.panes.map(\.x)).count == 2 && Set(layout.panes.map(\.y)).count == 2)
        var row = model.state
        row.panes.layout = .row
        model.state = row
        let rowLayout = Compositor(model: model.analyzed(), width: 120, height: 40).layout()
        #expect(Set(rowLayout.panes.map(\.y)) == [0] && rowLayout.panes.count == 4)
    }

    @Test func iouPanelListsClassesAndDeltas() {
        var state = ViewState()
        state.panel.kind = .iou
        state.iou.sort = .byDelta
        state.iou.descending = true
        let compositor = Compositor(model: Self.model(state), width: 140, height: 40)
        let table = IoUPanel.table(compositor.model)!
        #expect(table.rows.first!.delta > 0, "sorted by Δ: the improved class first")
        #expect(table.rows.first!.delta >= table.rows[1].delta)
        let text = compositor.compose().plainText
        #expect(text.contains("IoU % · this frame · sort Δ ↓"))
        #expect(text.contains("road") && text.contains("car"))
    }

    @Test func focusDimsOtherClasses() {
        var state = ViewState()
        state.panes.layout = .single
        state.iou.focusedClass = 13
        let grid = Compositor(model: Self.model(state), width: 80, height: 24).compose()
        #expect(!grid.cells.contains { $0.isPixel && $0.foreground == Self.theme.color(ofClass: 0) })
        #expect(grid.cells.contains { $0.isPixel && $0.foreground == Self.theme.color(ofClass: 13) })
    }

    @Test func missingConfidencesAreExplained() {
        var model = Self.model()
        model.frame!.confidences = [:]
        model.methods = ["stf", "mar"]
        var state = model.state
        state.mode = .confidence
        model.state = state
        // No pair can be formed without confidences unless named stf/mar; then the pane explains.
        let text = Compositor(model: model.analyzed(), width: 120, height: 30).compose().plainText
        #expect(text.contains("Δconf needs confidence maps of stf and mar"))
    }

    @Test func tooSmallTerminalSaysSo() {
        let text = Compositor(model: Self.model(), width: 40, height: 10).compose().plainText
        #expect(text.contains("Terminal too small"))
    }

    @Test func mouseClickMapsToImagePixel() {
        var state = ViewState()
        state.panes.layout = .single
        let compositor = Compositor(model: Self.model(state), width: 80, height: 24)
        let pane = compositor.layout().panes[0]
        let size = Compositor.pixelSize(
            viewport: compositor.viewport(imageWidth: 64, imageHeight: 32),
            columns: pane.width - 1, rows: pane.height - 1)
        let left = pane.x + (pane.width - 1 - size.width) / 2
        let top = pane.y + 1 + (pane.height - 1 - (size.height + 1) / 2) / 2
        let scale = Float(64) / Float(size.width)
        let expected = ViewState.Point(x: Int((10.5) * scale), y: Int((6.5) * Float(32) / Float(size.height)))
        let layout = compositor.layout()
        #expect(layout.imagePoint(column: left + 10, row: top + 3, model: compositor.model) == expected)
        #expect(layout.imagePoint(column: 0, row: 0, model: compositor.model) == nil, "the caption row is no pixel")
    }
}

/// Captions draw the symbols the viewer's mode names use, not the "?" fallback.
@Suite struct FigureCaptionTests {
    static func pixels(_ text: String) -> [UInt8] {
        var rgb = [UInt8](repeating: 255, count: 40 * 30 * 3)
        Figure.drawText(text, x: 0, y: 0, into: &rgb, width: 40, height: 30)
        return rgb
    }

    @Test func symbolsHaveTheirOwnGlyphs() {
        let fallback = Self.pixels("?")
        let glyphs = ["Δ", "→", "↑", "↓"].map(Self.pixels)
        for glyph in glyphs { #expect(glyph != fallback && glyph.contains(0)) }
        #expect(Set(glyphs.map { $0.hashValue }).count == 4)
        #expect(Self.pixels("ξ") == fallback)
    }
}
