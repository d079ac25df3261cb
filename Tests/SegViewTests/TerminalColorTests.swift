import SegFormats
import SegLabels
import SegView
import Testing

@Suite struct TerminalColorTests {
    @Test func cubeColoursMapToThemselves() {
        for index in 16...255 {
            #expect(TerminalPalette.nearestXterm256(TerminalPalette.rgb(ofXterm: index)) == index)
        }
    }

    /// Reference: exhaustive search with the plain redmean formula in floating point.
    @Test func nearestMatchesPlainSearch() {
        func distance(_ a: RGB, _ b: RGB) -> Double {
            let rMean = (Double(a.r) + Double(b.r)) / 2
            let dr = Double(a.r) - Double(b.r)
            let dg = Double(a.g) - Double(b.g)
            let db = Double(a.b) - Double(b.b)
            return (2 + rMean / 256) * dr * dr + 4 * dg * dg + (2 + (255 - rMean) / 256) * db * db
        }
        for color in LabelSpace.cityscapes.classes.map(\.color) + [RGB(255, 255, 175), RGB(12, 200, 99)] {
            let best = (16...255).min {
                distance(color, TerminalPalette.rgb(ofXterm: $0)) < distance(color, TerminalPalette.rgb(ofXterm: $1))
            }!
            let chosen = TerminalPalette.nearestXterm256(color)
            // Integer rounding may pick an equally close neighbour; never a clearly worse one.
            #expect(
                distance(color, TerminalPalette.rgb(ofXterm: chosen)) <= distance(
                    color, TerminalPalette.rgb(ofXterm: best)) * 1.02 + 2, "\(color)")
        }
        #expect(TerminalPalette.nearestXterm256(RGB(255, 255, 175)) == 229)
        #expect(TerminalPalette.nearestAnsi8(RGB(220, 20, 60)) == 1)
    }

    @Test func depthFromEnvironment() {
        #expect(ColorDepth.detect(environment: ["TERM": "xterm-256color", "NO_COLOR": "1"]) == .monochrome)
        #expect(ColorDepth.detect(environment: ["TERM": "xterm-256color", "COLORTERM": "truecolor"]) == .trueColor)
        #expect(ColorDepth.detect(environment: ["TERM": "tmux-256color"]) == .xterm256)
        #expect(ColorDepth.detect(environment: ["TERM": "xterm"]) == .ansi8)
        #expect(ColorDepth.detect(environment: ["TERM": "dumb"]) == .monochrome)
    }
}

@Suite struct DistinctPaletteTests {
    /// At 256 colours every class of the shipped label spaces has its own
    /// palette entry (bus and train are both nearest to 23).
    @Test(arguments: [LabelSpace.cityscapes, LabelSpace.camvid])
    func everyClassHasItsOwnEntry(space: LabelSpace) {
        let colors = space.classes.map(\.color)
        let mapping = ColorMapping(depth: .xterm256, classColors: colors)
        let entries = colors.map(mapping.xterm256)
        #expect(Set(entries).count == Set(colors).count, "\(space.name): \(entries)")
        #expect(entries.allSatisfy { (16...255).contains($0) })
        if space.name == "cityscapes" {
            #expect(
                TerminalPalette.nearestXterm256(RGB(0, 60, 100)) == TerminalPalette.nearestXterm256(RGB(0, 80, 100)),
                "the collision this prevents")
        }
        // A colour that is no class still goes to its nearest entry.
        #expect(mapping.xterm256(RGB(255, 255, 175)) == 229)
    }

    @Test func trueColourIsExact() {
        #expect(ColorMapping(depth: .trueColor).sgr(RGB(0, 60, 100), background: false) == "38;2;0;60;100")
    }
}
