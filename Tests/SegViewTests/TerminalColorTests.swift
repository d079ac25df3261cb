import Foundation
import SegFormats
import SegLabels
import SegTestSupport
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

    /// Truth item 5 at 256 colours: the palette rounds marks and classes, so each mark gets an entry of its
    /// own that stays ΔE00 >= `Theme.minimumMarkDifference` from every class's entry, for the built-in spaces and
    /// every shipped theme.
    @Test func marksKeepApartFromClassesAt256Colours() throws {
        let folder = TestSupport.repositoryRoot + "/themes"
        let files = try FileManager.default.contentsOfDirectory(atPath: folder).filter { $0.hasSuffix(".toml") }
        let themes =
            try ["cityscapes", "camvid", "vspw"].map { Theme.builtIn(for: try #require(LabelSpace.named($0))) }
            + files.map { try Theme.load(path: folder + "/" + $0) }
        #expect(themes.count >= 7)
        var nearestWouldClash = 0
        for theme in themes {
            let mapping = ColorMapping(depth: .xterm256, theme: theme)
            let classEntries = Set(theme.classColors.map(mapping.xterm256))
            let marks = ThemeRole.marks.map(theme.color)
            let markEntries = marks.map(mapping.xterm256)
            #expect(Set(markEntries).count == Set(marks).count, "\(theme.name): \(markEntries)")
            for (role, entry) in zip(ThemeRole.marks, markEntries) {
                #expect(!classEntries.contains(entry), "\(theme.name): \(role.rawValue) on a class's entry \(entry)")
                let closest =
                    classEntries.map {
                        TerminalPalette.rgb(ofXterm: entry).difference(to: TerminalPalette.rgb(ofXterm: $0))
                    }.min() ?? .infinity
                #expect(
                    closest >= Theme.minimumMarkDifference,
                    "\(theme.name): \(role.rawValue) entry \(entry) is ΔE00 \(closest) from a class entry")
                let nearest = TerminalPalette.nearestXterm256(theme.color(role))
                if classEntries.contains(nearest)
                    || classEntries.contains(where: {
                        TerminalPalette.rgb(ofXterm: nearest).difference(to: TerminalPalette.rgb(ofXterm: $0))
                            < Theme.minimumMarkDifference
                    })
                {
                    nearestWouldClash += 1
                }
            }
        }
        #expect(nearestWouldClash > 0, "the rounding this guards against happens with the shipped colours")
    }

    @Test func trueColourIsExact() {
        #expect(ColorMapping(depth: .trueColor).sgr(RGB(0, 60, 100), background: false) == "38;2;0;60;100")
    }
}
