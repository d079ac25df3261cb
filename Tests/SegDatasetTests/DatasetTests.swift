import Foundation
import SegDataset
import SegFormats
import SegLabels
import SegTestSupport
import Testing

@Suite struct FrameKeyTests {
    @Test(arguments: [
        ("frankfurt_000000_000294_leftImg8bit.png", "frankfurt_000000_000294", "frankfurt_000000", 294),
        ("frankfurt_000000_000294_gtFine_labelTrainIds.png", "frankfurt_000000_000294", "frankfurt_000000", 294),
        ("lindau_000001_000019.npy", "lindau_000001_000019", "lindau_000001", 19),
        ("0001TP_006690.png", "0001TP_006690", "0001TP", 6690),
        ("Seq05VD_f00930_L.png", "Seq05VD_f00930", "Seq05VD", 930),
        ("frame0042_pred.png", "frame0042", "", 42),
    ])
    func parses(name: String, key: String, sequence: String, index: Int) throws {
        let id = try #require(FrameKey(fileName: name))
        #expect(id.key == key && id.sequence == sequence && id.index == index)
    }
}

/// Builds small datasets on disk, in the layouts segscope discovers.
enum Make {
    static func labelPNG(_ path: String, _ ids: [UInt8], width: Int) throws {
        try FileManager.default.createDirectory(
            atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try PNG.write(
            PNGImage(width: width, height: ids.count / width, colorType: .gray, bitDepth: 8, samples: .eight(ids)),
            to: path)
    }

    static func rgbPNG(_ path: String, width: Int, height: Int) throws {
        try FileManager.default.createDirectory(
            atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        let rgb = (0..<(width * height * 3)).map { UInt8($0 % 251) }
        try PNG.write(
            PNGImage(width: width, height: height, colorType: .rgb, bitDepth: 8, samples: .eight(rgb)), to: path)
    }

    /// Cityscapes sequence layout: one city, 2 sequences x 3 frames, GT on the middle frame only.
    static func cityscapes() throws -> String {
        let root = try TestSupport.scratchDirectory()
        for seq in ["000000", "000001"] {
            for frame in [18, 19, 20] {
                let key = "ulm_\(seq)_0000\(frame)"
                try rgbPNG(root + "/leftImg8bit_sequence/val/ulm/\(key)_leftImg8bit.png", width: 8, height: 4)
                if frame == 19 {
                    let train: [UInt8] = [0, 0, 1, 1, 2, 2, 255, 13] + [UInt8](repeating: 10, count: 24)
                    try labelPNG(root + "/gtFine/val/ulm/\(key)_gtFine_labelTrainIds.png", train, width: 8)
                    let labelIds = LabelSpace.cityscapes.encode(
                        LabelMap(width: 8, height: 4, ids: train), as: .labelIds)
                    try PNG.write(labelIds, to: root + "/gtFine/val/ulm/\(key)_gtFine_labelIds.png")
                }
            }
        }
        return root
    }
}

@Suite struct DiscoveryTests {
    @Test func cityscapesSequenceLayout() throws {
        let root = try Make.cityscapes()
        var options = DatasetOptions()
        options.path = root
        let dataset = try DatasetLocator.open(options)
        #expect(dataset.layout == .cityscapes)
        #expect(dataset.sequences.map(\.name) == ["ulm_000000", "ulm_000001"])
        #expect(dataset.frameCount == 6)
        let withGT = dataset.frames.filter { $0.groundTruth != nil }
        #expect(withGT.map(\.key) == ["ulm_000000_000019", "ulm_000001_000019"])
        #expect(withGT.allSatisfy { $0.groundTruth!.hasSuffix("_gtFine_labelTrainIds.png") })
        let frames = dataset.sequences[0].frames
        let (previous, next) = Dataset.slidingWindow(frames, 0)
        #expect(previous.key == frames[0].key && next.key == "ulm_000000_000019", "the first frame stands in for T-1")
        let last = Dataset.slidingWindow(frames, 2)
        #expect(last.previous.key == "ulm_000000_000019" && last.next.key == frames[2].key)
        let gap = Dataset.slidingWindow([frames[0], frames[2]], 1)
        #expect(gap.previous.key == frames[2].key, "a gap in frame numbers is no neighbour")
    }

    /// JPEG frames (`synth --frame-format jpeg`, VSPW-like) are indexed in the
    /// Cityscapes layout as PNG ones are, and load at their size.
    @Test func cityscapesLayoutIndexesJPEGFrames() throws {
        let root = try TestSupport.scratchDirectory()
        let key = "synth_000000_000000"
        try FileManager.default.createDirectory(
            atPath: root + "/leftImg8bit_sequence/val/synth", withIntermediateDirectories: true)
        try JPEG.write(
            rgb: [UInt8](repeating: 90, count: 16 * 8 * 3), width: 16, height: 8,
            to: root + "/leftImg8bit_sequence/val/synth/\(key)_leftImg8bit.jpg")
        try Make.labelPNG(
            root + "/gtFine/val/synth/\(key)_gtFine_labelTrainIds.png", [UInt8](repeating: 0, count: 128), width: 16)
        var options = DatasetOptions()
        options.path = root
        let dataset = try DatasetLocator.open(options)
        #expect(dataset.layout == .cityscapes)
        let frame = try #require(dataset.frames.first)
        #expect(dataset.frameCount == 1 && frame.key == key && frame.groundTruth != nil)
        #expect(frame.image?.hasSuffix("_leftImg8bit.jpg") == true, "\(frame.image ?? "no image")")
        let image = try #require(try FrameLoader(dataset: dataset).image(frame))
        #expect(image.width == 16 && image.height == 8 && image.rgb.allSatisfy { abs(Int($0) - 90) <= 1 })
    }

    @Test func encodingOverridePicksTheMatchingGTFile() throws {
        let root = try Make.cityscapes()
        var options = DatasetOptions()
        options.path = root
        options.groundTruthEncoding = .labelIds
        let dataset = try DatasetLocator.open(options)
        let frame = try #require(dataset.frames.first { $0.groundTruth != nil })
        #expect(frame.groundTruth!.hasSuffix("_gtFine_labelIds.png"))
        // Both files decode to the same trainIds.
        let loader = FrameLoader(dataset: dataset)
        let viaLabelIds = try loader.groundTruth(frame)!.map
        let viaTrainIds = try loader.labels(
            path: frame.groundTruth!.replacingOccurrences(of: "labelIds", with: "labelTrainIds"),
            encoding: nil
        ).map
        #expect(viaLabelIds == viaTrainIds)
    }

    @Test func predictionsMatchByKeyAndUpsampleByIntegerFactors() throws {
        let root = try Make.cityscapes()
        let pred = root + "/pred"
        try Make.labelPNG(pred + "/ulm_000000_000019.png", [0, 1, 2, 13, 10, 10, 10, 10], width: 4)  // half size
        try Make.labelPNG(pred + "/ulm_000001_000019.png", [UInt8](repeating: 0, count: 15), width: 5)  // wrong size
        var options = DatasetOptions()
        options.path = root
        try options.addMethods(predictions: ["base=\(pred)"], confidences: [])
        let dataset = try DatasetLocator.open(options)
        #expect(dataset.methods == ["base"])
        let loader = FrameLoader(dataset: dataset)
        let good = dataset.frames.first { $0.key == "ulm_000000_000019" }!
        let labels = try #require(try loader.prediction(good, method: "base", size: (8, 4)))
        #expect(labels.map.width == 8 && labels.map[2, 0] == 1 && labels.map[7, 1] == 13)
        #expect(labels.notes.contains { $0.contains("upsampled x2") })
        let bad = dataset.frames.first { $0.key == "ulm_000001_000019" }!
        #expect(throws: DatasetError.self) { _ = try loader.prediction(bad, method: "base", size: (8, 4)) }
    }

    @Test func manifestWithMethodsAndConfidences() throws {
        let root = try Make.cityscapes()
        try Make.labelPNG(root + "/p/a/ulm_000000_000019.png", [UInt8](repeating: 2, count: 32), width: 8)
        let confidence = ConfidenceMap(width: 8, height: 4, values: (0..<32).map { Float($0) / 31 })
        try FileManager.default.createDirectory(atPath: root + "/c/a", withIntermediateDirectories: true)
        try PNG.write(confidence.png(), to: root + "/c/a/ulm_000000_000019.png")
        try Npy.write((0..<32).map { Float($0) / 31 }, shape: [4, 8], to: root + "/c/a/ulm_000001_000019.npy")
        try """
        label_space = "cityscapes"
        frames = "leftImg8bit_sequence"
        gt = "gtFine"
        reference = "a"
        [[method]]
        name = "a"
        pred = "p/a"
        conf = "c/a"
        """.write(toFile: root + "/segscope.toml", atomically: true, encoding: .utf8)
        var options = DatasetOptions()
        options.path = root
        let dataset = try DatasetLocator.open(options)
        #expect(dataset.layout == .manifest && dataset.reference == "a")
        let loader = FrameLoader(dataset: dataset)
        let frame = dataset.frames.first { $0.key == "ulm_000000_000019" }!
        let back = try #require(try loader.confidence(frame, method: "a"))
        #expect(zip(back.values, confidence.values).allSatisfy { abs($0 - $1) <= 0.5 / 65535 })
        let npyFrame = dataset.frames.first { $0.key == "ulm_000001_000019" }!
        #expect(try loader.confidence(npyFrame, method: "a")?.values == (0..<32).map { Float($0) / 31 })
    }

    @Test func camvidLayout() throws {
        let root = try TestSupport.scratchDirectory()
        try Make.rgbPNG(root + "/test/0001TP_008550.png", width: 4, height: 2)
        try Make.rgbPNG(root + "/test/0001TP_008580.png", width: 4, height: 2)
        try Make.labelPNG(root + "/testannot/0001TP_008550.png", [0, 1, 2, 3, 4, 5, 11, 10], width: 4)
        var options = DatasetOptions()
        options.path = root
        let dataset = try DatasetLocator.open(options)
        #expect(dataset.layout == .camvid && dataset.space.name == "camvid")
        #expect(dataset.frameCount == 2)
        let frame = dataset.frames.first { $0.groundTruth != nil }!
        #expect(try FrameLoader(dataset: dataset).groundTruth(frame)!.map.ids == [0, 1, 2, 3, 4, 5, 255, 10])
    }

    @Test func plainFolders() throws {
        let root = try Make.cityscapes()
        var options = DatasetOptions()
        options.groundTruth = root + "/gtFine"
        options.space = .cityscapes
        try options.addMethods(predictions: ["x=\(root)/gtFine"], confidences: [])
        let dataset = try DatasetLocator.open(options)
        #expect(
            dataset.layout == .folders && dataset.frameCount == 2
                && dataset.frames.allSatisfy { $0.predictions["x"] != nil })
    }
}

@Suite struct DatasetBadInputTests {
    @Test func manifestNamingMissingFolder() throws {
        let root = try TestSupport.scratchDirectory()
        try "label_space = \"cityscapes\"\ngt = \"nowhere\"\n".write(
            toFile: root + "/segscope.toml", atomically: true, encoding: .utf8)
        var options = DatasetOptions()
        options.path = root
        #expect(throws: DatasetError.missingFolder(path: root + "/nowhere", role: "gt")) {
            _ = try DatasetLocator.open(options)
        }
    }

    @Test func manifestWithBadTOML() throws {
        let root = try TestSupport.scratchDirectory()
        try "label_space = cityscapes\n".write(toFile: root + "/segscope.toml", atomically: true, encoding: .utf8)
        var options = DatasetOptions()
        options.path = root
        do {
            _ = try DatasetLocator.open(options)
            Issue.record("expected an error")
        } catch let error as DatasetError {
            #expect(error.description.hasPrefix(root + "/segscope.toml: bad manifest: invalid TOML at line 1"))
        }
    }

    @Test func folderThatIsAFile() throws {
        let root = try TestSupport.scratchDirectory()
        try "x".write(toFile: root + "/gt", atomically: true, encoding: .utf8)
        var options = DatasetOptions()
        options.groundTruth = root + "/gt"
        #expect(throws: DatasetError.missingFolder(path: root + "/gt", role: "ground truth")) {
            _ = try DatasetLocator.open(options)
        }
    }

    @Test func notADataset() throws {
        let root = try TestSupport.scratchDirectory()
        var options = DatasetOptions()
        options.path = root
        #expect(throws: DatasetError.self) { _ = try DatasetLocator.open(options) }
    }

    @Test func malformedPredFlag() {
        var options = DatasetOptions()
        #expect(throws: DatasetError.badOption("--pred expects NAME=DIR, got 'nodir'")) {
            try options.addMethods(predictions: ["nodir"], confidences: [])
        }
    }

    @Test func unknownReferenceMethod() throws {
        let root = try Make.cityscapes()
        var options = DatasetOptions()
        options.path = root
        options.reference = "ghost"
        #expect(throws: DatasetError.self) { _ = try DatasetLocator.open(options) }
    }

    /// 8-bit gray confidences read as value / 255; colour PNGs are refused.
    @Test func eightBitConfidenceAndColourRefusal() throws {
        let root = try TestSupport.scratchDirectory()
        try Make.labelPNG(root + "/c.png", [0, 51, 255, 128], width: 2)
        #expect(try ConfidenceMap.read(path: root + "/c.png").values == [0, 0.2, 1, Float(128) / 255])
        try PNG.write(
            PNGImage(width: 1, height: 1, colorType: .rgb, bitDepth: 8, samples: .eight([1, 2, 3])),
            to: root + "/rgb.png")
        #expect(throws: FormatError.self) { _ = try ConfidenceMap.read(path: root + "/rgb.png") }
    }

    /// infer --compact's maps: every second pixel of every second row, 8-bit.
    @Test func subsampledConfidenceKeepsEvenPixels() {
        let map = ConfidenceMap(width: 4, height: 3, values: (0..<12).map { Float($0) / 11 })
        let half = map.subsampled(by: 2)
        #expect(half.width == 2 && half.height == 2)
        #expect(half.values == [0, 2, 8, 10].map { Float($0) / 11 })
        #expect(half.png(bitDepth: 8).bytes! == [0, 2, 8, 10].map { UInt8((Float($0) / 11 * 255).rounded()) })
    }

    @Test func emptyFolderHasNoFrames() throws {
        let root = try TestSupport.scratchDirectory()
        var options = DatasetOptions()
        options.groundTruth = root
        #expect(throws: DatasetError.noFrames(path: root)) { _ = try DatasetLocator.open(options) }
    }
}
