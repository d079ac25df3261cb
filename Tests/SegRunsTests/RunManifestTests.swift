import Foundation
import SegDataset
import SegEngine
import SegFormats
import SegLabels
import SegRuns
import SegTestSupport
import Testing

/// The manifest of an infer run opens as the dataset it was written from.
@Suite struct RunManifestTests {
    static func dataset(space: LabelSpace, root: String) -> Dataset {
        Dataset(
            root: root, layout: .folders, space: space, sequences: [], methods: [], reference: nil,
            groundTruthEncoding: .trainIds,
            predictionEncodings: [:], bookmarksPath: root + "/bookmarks.json", notes: [])
    }

    @Test func aCustomLabelSpaceIsKeptBesideTheManifest() throws {
        let run = try TestSupport.scratchDirectory()
        let classes = [
            LabelDefinition("road \"wet\"", 7, 0, "flat", 0, false, false, RGB(1, 2, 3)),
            LabelDefinition("tree\\bush", 21, 1, "nature", 1, false, false, RGB(200, 100, 50)),
        ]
        let space = LabelSpace(name: "my space", labels: classes)
        try RunManifest(
            dataset: Self.dataset(space: space, root: run), stages: [.baseline, .mar], weights: "w.safetensors"
        ).write(to: run)
        let text = try String(contentsOfFile: run + "/segscope.toml", encoding: .utf8)
        #expect(text.contains("label_space = \"\(RunManifest.customSpaceFile)\""))
        // How DatasetLocator reads it: label_space names a theme file beside the manifest.
        let manifest = try ConfigFile.load(path: run + "/segscope.toml")
        let reopened = try Theme.load(path: run + "/" + manifest["label_space"]!.string!).space
        #expect(reopened.classNames == ["road \"wet\"", "tree\\bush"])
        #expect(reopened.classes.map(\.id) == [7, 21])
        #expect(reopened.classes.map(\.color) == [RGB(1, 2, 3), RGB(200, 100, 50)])
        #expect(manifest["method"]?.array?.compactMap { $0["name"]?.string } == ["baseline", "mar"])
        #expect(manifest["reference"]?.string == "baseline")
    }

    @Test func aBuiltInSpaceIsNamed() throws {
        let run = try TestSupport.scratchDirectory()
        try RunManifest(dataset: Self.dataset(space: .camvid, root: run), stages: [.baseline], weights: "w").write(
            to: run)
        #expect(
            try String(contentsOfFile: run + "/segscope.toml", encoding: .utf8).contains("label_space = \"camvid\""))
        #expect(!FileManager.default.fileExists(atPath: run + "/" + RunManifest.customSpaceFile))
    }

    @Test func tomlStringsEscapeWhatTOMLRequires() {
        #expect(TOMLText.quoted("a\"b\\c\nd\u{1}") == #""a\"b\\c\nd\u0001""#)
    }
}
