import Foundation
import SegFormats
import SegLabels
import SegTestSupport
import Testing

@Suite struct MarkColorsTests {
    static let shipped = TestSupport.repositoryRoot + "/themes"

    /// The smallest ΔE00 between a mark and a class colour, the ignore colour
    /// or another mark, counted here with plain loops (not `markClashes`).
    static func smallestDifference(_ theme: Theme) -> (value: Double, between: String) {
        var smallest = (value: Double.infinity, between: "")
        let backdrop =
            zip(theme.space.classNames, theme.classColors).map { ($0, $1) } + [("ignore", theme.color(.ignore))]
        for (i, role) in ThemeRole.marks.enumerated() {
            let mark = theme.color(role)
            for (name, color) in backdrop where mark.difference(to: color) < smallest.value {
                smallest = (mark.difference(to: color), "\(role.rawValue) \(mark) / \(name) \(color)")
            }
            for other in ThemeRole.marks[(i + 1)...] where mark.difference(to: theme.color(other)) < smallest.value {
                smallest = (mark.difference(to: theme.color(other)), "\(role.rawValue) \(mark) / \(other.rawValue)")
            }
        }
        return smallest
    }

    @Test func everyMarkRoleIsListed() {
        #expect(
            Set(ThemeRole.marks) == [
                .fixed, .broken, .changedWrong, .confidenceUp, .confidenceDown,
                .suspect, .flicker, .highlight,
            ])
    }

    @Test(arguments: ["cityscapes", "camvid", "vspw"])
    func builtInMarksStandOut(spaceName: String) throws {
        let space = try #require(LabelSpace.named(spaceName))
        let theme = Theme.builtIn(for: space)
        let smallest = Self.smallestDifference(theme)
        #expect(
            smallest.value >= Theme.minimumMarkDifference,
            "\(spaceName): ΔE00 \(smallest.value) for \(smallest.between)")
        #expect(theme.markClashes.isEmpty, "\(theme.markClashes)")
    }

    @Test func everyShippedThemeKeepsItsMarksApart() throws {
        let files = try FileManager.default.contentsOfDirectory(atPath: Self.shipped).filter { $0.hasSuffix(".toml") }
        #expect(Set(files).isSuperset(of: ["cityscapes.toml", "camvid.toml", "vspw.toml", "cityscapes-cb.toml"]))
        for file in files {
            let theme = try Theme.load(path: Self.shipped + "/" + file)
            let smallest = Self.smallestDifference(theme)
            #expect(
                smallest.value >= Theme.minimumMarkDifference, "\(file): ΔE00 \(smallest.value) for \(smallest.between)"
            )
            #expect(theme.notes.isEmpty, "\(theme.notes)")
        }
    }

    /// The shipped theme of a built-in space draws what the built-in theme draws.
    @Test(arguments: ["cityscapes", "camvid", "vspw"])
    func shippedThemeMarksEqualTheBuiltIn(spaceName: String) throws {
        let file = try Theme.load(path: Self.shipped + "/\(spaceName).toml")
        let builtIn = Theme.builtIn(for: try #require(LabelSpace.named(spaceName)))
        for role in ThemeRole.marks { #expect(file.color(role) == builtIn.color(role), "\(spaceName) \(role)") }
    }

    /// Fixes green and breaks red (CIELAB hue angles), Δconf up on the green
    /// side and down on the red side, every mark light enough to show on the
    /// dimmed panes it is drawn over.
    @Test(arguments: ["cityscapes", "camvid", "vspw"])
    func marksReadAsWhatTheyMean(spaceName: String) throws {
        let theme = Theme.builtIn(for: try #require(LabelSpace.named(spaceName)))
        func hue(_ role: ThemeRole) -> Double {
            let lab = CIELab(theme.color(role))
            let degrees = atan2(lab.b, lab.a) * 180 / .pi
            return degrees < 0 ? degrees + 360 : degrees
        }
        #expect((120...160).contains(hue(.fixed)), "fixed \(theme.color(.fixed)) hue \(hue(.fixed))")
        #expect((20...50).contains(hue(.broken)), "broken \(theme.color(.broken)) hue \(hue(.broken))")
        #expect(CIELab(theme.color(.confidenceUp)).a < 0 && CIELab(theme.color(.confidenceDown)).a > 0)
        for role in ThemeRole.marks {
            #expect(CIELab(theme.color(role)).l >= 50, "\(spaceName) \(role) \(theme.color(role)) is too dark")
        }
    }

    func writeTheme(_ text: String) throws -> String {
        let path = try TestSupport.scratchDirectory() + "/marks.toml"
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    /// The marks segscope shipped before: broken ≈ rider, changed ≈ traffic
    /// light, Δconf down ≈ sidewalk. Loading them warns, naming role, class and ΔE00.
    @Test func oldMarksAreWarnedAbout() throws {
        let path = try writeTheme(
            """
            label_space = "cityscapes"
            [roles]
            broken = "#e60000"
            changed_wrong = "#ffaa00"
            confidence_down = "#ff00af"
            """)
        let theme = try Theme.load(path: path)
        func difference(_ mark: String, _ className: String) throws -> String {
            let color = try #require(LabelSpace.cityscapes.classes.first { $0.name == className }).color
            return String(format: "%.1f", try #require(RGB(hex: mark)).difference(to: color))
        }
        let expected = [
            ("broken #e60000", "class 'rider' #ff0000", try difference("#e60000", "rider")),
            ("changed_wrong #ffaa00", "class 'traffic light' #faaa1e", try difference("#ffaa00", "traffic light")),
            ("confidence_down #ff00af", "class 'sidewalk' #f423e8", try difference("#ff00af", "sidewalk")),
        ]
        #expect(theme.notes.count == 3, "\(theme.notes)")
        for (mark, neighbour, delta) in expected {
            let line = theme.notes.first { $0.contains("mark \(mark) ") }
            #expect(line?.hasPrefix(path + ": ") == true, "\(theme.notes)")
            #expect(line?.contains("is ΔE00 \(delta) from \(neighbour)") == true, "\(line ?? "no line for \(mark)")")
        }
        #expect(theme.color(.broken) == RGB(0xe6, 0, 0), "a warning does not change the file's colours")
    }

    @Test func marksTooCloseToEachOtherAreWarnedAbout() throws {
        let path = try writeTheme(
            "label_space = \"camvid\"\n[roles]\nfixed = \"#00ffaa\"\nconfidence_up = \"#00ffaa\"\n")
        let theme = try Theme.load(path: path)
        #expect(theme.markClashes.count == 1, "\(theme.markClashes)")
        let clash = try #require(theme.markClashes.first)
        #expect(clash.role == .fixed && clash.neighbour == .mark(.confidenceUp) && clash.difference == 0)
        #expect(theme.notes == [path + ": theme: " + clash.description])
        #expect(clash.description.hasPrefix("mark fixed #00ffaa is ΔE00 0.0 from mark confidence_up #00ffaa;"))
    }

    /// A class recoloured onto a mark: the default marks are checked against
    /// the theme's class colours, not the label table's.
    @Test func recolouredClassIsCheckedAgainstTheMarks() throws {
        let path = try writeTheme("label_space = \"vspw\"\n[colors]\nwall = \"#00e1ff\"\ncat = \"#00e8ff\"\n")
        let theme = try Theme.load(path: path)
        #expect(theme.notes.count == 1, "\(theme.notes)")
        let clash = try #require(theme.markClashes.first)
        #expect(clash.role == .suspect && clash.neighbour == .labelClass("wall") && clash.difference == 0)
        #expect(clash.alsoTooClose == 1, "cat is too close as well")
        #expect(theme.notes[0].contains("(and 1 more colour)"))
    }

    /// A file without [roles] takes its space's marks, which keep the minimum.
    @Test func missingRolesTakeTheSpaceMarks() throws {
        let path = try writeTheme("label_space = \"vspw\"\n")
        let theme = try Theme.load(path: path)
        #expect(theme.notes.isEmpty, "\(theme.notes)")
        for role in ThemeRole.marks { #expect(theme.color(role) == Theme.builtIn(for: .vspw).color(role)) }
    }

    /// A custom space gets the first built-in set of marks that keeps the
    /// minimum against its classes; when none does, loading it warns.
    @Test func customSpaceTakesMarksThatFit() throws {
        let classes = { (colors: [String]) in
            colors.enumerated().map { "[[class]]\nname = \"c\($0)\"\ncolor = \"\($1)\"\n" }.joined()
        }
        let cityscapesFixed = Theme.builtIn(for: .cityscapes).color(.fixed).hex
        let camvidFixed = Theme.builtIn(for: .camvid).color(.fixed).hex
        let fittingText = "label_space = \"custom\"\n" + classes([cityscapesFixed, camvidFixed])
        let fitting = try Theme.load(path: writeTheme(fittingText))
        #expect(fitting.notes.isEmpty, "\(fitting.notes)")
        for role in ThemeRole.marks { #expect(fitting.color(role) == Theme.builtIn(for: .vspw).color(role)) }

        let everyFixed = [LabelSpace.cityscapes, .camvid, .vspw].map { Theme.builtIn(for: $0).color(.fixed).hex }
        let crowded = try Theme.load(path: writeTheme("label_space = \"custom\"\n" + classes(everyFixed)))
        #expect(crowded.color(.fixed) == Theme.builtIn(for: .cityscapes).color(.fixed))
        #expect(
            crowded.notes.contains { $0.contains("mark fixed \(everyFixed[0]) is ΔE00 0.0 from class 'c0'") },
            "\(crowded.notes)")
    }
}
