import Foundation
import SegFormats
import SegLabels
import SegTestSupport
import Testing

@Suite struct ThemeTests {
    static let shipped = TestSupport.repositoryRoot + "/themes"

    @Test(arguments: ["cityscapes", "camvid", "cityscapes-cb", "vspw"])
    func shippedThemesLoad(name: String) throws {
        let theme = try Theme.resolve(name, searchPaths: [Self.shipped])
        #expect(theme.name == name)
        #expect(theme.classColors.count == theme.space.count)
        for role in ThemeRole.allCases { _ = theme.color(role) }
    }

    @Test func colourBlindVariantOverridesClassColours() throws {
        let official = try Theme.resolve("cityscapes", searchPaths: [Self.shipped])
        let cb = try Theme.resolve("cityscapes-cb", searchPaths: [Self.shipped])
        #expect(official.classColors == LabelSpace.cityscapes.classes.map(\.color))
        #expect(cb.classColors[LabelSpace.cityscapes.index(ofClass: "building")!] == RGB(0x33, 0x22, 0x88))
        #expect(Set(cb.classColors).count == 19, "every class keeps a distinct colour")
    }

    @Test func builtInFallbackWhenNoFile() throws {
        let theme = try Theme.resolve("camvid", searchPaths: ["/nonexistent"])
        #expect(theme.classColors == LabelSpace.camvid.classes.map(\.color))
    }

    func writeTheme(_ text: String) throws -> String {
        let path = try TestSupport.scratchDirectory() + "/t.toml"
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    @Test func customLabelSpaceFromTheme() throws {
        let path = try writeTheme(
            """
            label_space = "custom"
            [[class]]
            name = "background"
            color = "#000010"
            [[class]]
            name = "lesion"
            color = "#ff0000"
            id = 7
            """)
        let theme = try Theme.load(path: path)
        #expect(theme.space.classNames == ["background", "lesion"])
        #expect(theme.space.labelIdToTrainId[7] == 1)
        #expect(theme.color(ofClass: 1) == RGB(255, 0, 0))
        #expect(theme.color(ofClass: 255) == Theme.defaultRoles[.ignore])
    }

    @Test func malformedColourIsReported() throws {
        let path = try writeTheme("label_space = \"cityscapes\"\n[roles]\ntext = \"#12345\"\n")
        #expect(
            throws: LabelError.theme(path: path, problem: "roles.text must be a colour \"#rrggbb\", found \"#12345\"")
        ) {
            _ = try Theme.load(path: path)
        }
    }

    @Test func unknownClassInColorsIsReported() throws {
        let path = try writeTheme("label_space = \"cityscapes\"\n[colors]\nroad2 = \"#000000\"\n")
        #expect(throws: LabelError.self) { _ = try Theme.load(path: path) }
    }

    @Test func unknownRoleIsReported() throws {
        let path = try writeTheme("label_space = \"camvid\"\n[roles]\nsparkles = \"#000000\"\n")
        #expect(throws: LabelError.self) { _ = try Theme.load(path: path) }
    }

    @Test func unknownLabelSpaceIsReported() throws {
        let path = try writeTheme("label_space = \"ade20k\"\n")
        #expect(throws: LabelError.unknownLabelSpace(name: "ade20k")) { _ = try Theme.load(path: path) }
    }

    @Test func tomlSyntaxErrorNamesTheLine() throws {
        let path = try writeTheme("label_space = \"cityscapes\"\n[roles\ntext = 1\n")
        do {
            _ = try Theme.load(path: path)
            Issue.record("expected an error")
        } catch let error as LabelError {
            #expect(error.description.hasPrefix(path))
            #expect(error.description.contains("line 2"))
        }
    }

    @Test func missingThemeListsWhereItLooked() {
        #expect(throws: LabelError.themeNotFound(name: "nope", searched: ["/a", "/b"])) {
            _ = try Theme.resolve("nope", searchPaths: ["/a", "/b"])
        }
    }
}
