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
            let dr = Double(a.r) - Double(b.r), dg = Double(a.g) - Double(b.g), db = Double(a.b) - Double(b.b)
            return (2 + rMean / 256) * dr * dr + 4 * dg * dg + (2 + (255 - rMean) / 256) * db * db
        }
        for color in LabelSpace.cityscapes.classes.map(\.color) + [RGB(255, 255, 175), RGB(12, 200, 99)] {
            let best = (16...255).min { distance(color, TerminalPalette.rgb(ofXterm: $0)) < distance(color, TerminalPalette.rgb(ofXterm: $1)) }!
            let chosen = TerminalPalette.nearestXterm256(color)
            // Integer rounding may pick an equally close neighbour; never a clearly worse one.
            #expect(distance(color, TerminalPalette.rgb(ofXterm: chosen)) <= distance(color, TerminalPalette.rgb(ofXterm: best)) * 1.02 + 2, "\(color)")
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
