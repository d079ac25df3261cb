import Foundation
import SegFormats
import SegLabels
import SegSynth
import SegTestSupport
import Testing

@Suite struct SynthTests {
    static func make(
        _ directory: String, corruptions: Float = 2.5, seed: UInt64 = 5, frames: Int = 4,
        size: (Int, Int) = (128, 256), channels: Int = 32
    ) throws {
        var spec = SyntheticDataset()
        spec.sequences = 1
        spec.frames = frames
        spec.height = size.0
        spec.width = size.1
        spec.seed = seed
        spec.featureChannels = channels
        spec.knobs.corruptionsPerKiloCell = corruptions
        try spec.write(to: directory, force: true)
    }

    static func files(_ root: String) throws -> [String] {
        (FileManager.default.enumerator(atPath: root)?.allObjects as? [String] ?? []).sorted()
    }

    @Test func sameSeedGivesIdenticalBytes() throws {
        let a = try TestSupport.scratchDirectory() + "/a"
        let b = try TestSupport.scratchDirectory() + "/b"
        try Self.make(a)
        try Self.make(b)
        let names = try Self.files(a)
        #expect(names == (try Self.files(b)))
        #expect(names.filter { $0.hasSuffix(".png") || $0.hasSuffix(".npy") }.count == 4 * 5)
        for name in names where !name.hasPrefix(".") {
            var isDirectory: ObjCBool = false
            FileManager.default.fileExists(atPath: a + "/" + name, isDirectory: &isDirectory)
            if isDirectory.boolValue { continue }
            #expect(FileManager.default.contentsEqual(atPath: a + "/" + name, andPath: b + "/" + name), "\(name)")
        }
        let c = try TestSupport.scratchDirectory() + "/c"
        try Self.make(c, seed: 6)
        let frame = "/leftImg8bit_sequence/train/synth/synth_000000_000000_leftImg8bit.png"
        #expect(
            !FileManager.default.contentsEqual(atPath: a + frame, andPath: c + frame),
            "another seed draws another street")
    }

    @Test func groundTruthEncodingsAgree() throws {
        let root = try TestSupport.scratchDirectory() + "/d"
        try Self.make(root, frames: 2)
        let space = LabelSpace.cityscapes
        for t in 0..<2 {
            let base = root + "/gtFine/train/synth/" + SyntheticDataset.key(sequence: 0, frame: t) + "_gtFine_"
            var maps: [LabelMap] = []
            for (suffix, encoding) in [
                ("labelTrainIds", LabelEncoding.trainIds), ("labelIds", .labelIds), ("color", .color),
            ] {
                let decoded = try space.decode(
                    try PNG.read(path: base + suffix + ".png"), encoding: encoding, path: suffix)
                #expect(decoded.unknownColors.isEmpty && decoded.outOfRangePixels == 0)
                maps.append(decoded.map)
            }
            #expect(maps[0] == maps[1] && maps[1] == maps[2])
            #expect(Set(maps[0].ids).count >= 8, "a street shows many classes")
        }
    }

    @Test func refusesNonEmptyOutputWithoutForce() throws {
        let root = try TestSupport.scratchDirectory()
        try "x".write(toFile: root + "/keep", atomically: true, encoding: .utf8)
        var spec = SyntheticDataset()
        spec.frames = 1
        spec.sequences = 1
        #expect(throws: SyntheticDataset.SynthError.outputExists(root)) { try spec.write(to: root, force: false) }
        #expect(FileManager.default.fileExists(atPath: root + "/keep"))
    }

    @Test func interruptedRunLeavesNothing() throws {
        let parent = try TestSupport.scratchDirectory()
        var spec = SyntheticDataset()
        spec.frames = 3
        spec.sequences = 1
        spec.height = 64
        spec.width = 128
        var calls = 0
        #expect(throws: SyntheticDataset.Cancelled.self) {
            try spec.write(
                to: parent + "/out", force: false,
                cancelled: {
                    calls += 1
                    return calls > 2
                })
        }
        #expect(try FileManager.default.contentsOfDirectory(atPath: parent).isEmpty)
    }

    /// Cancellation is polled inside a frame too (a frame at the largest size
    /// takes minutes in a debug build): a one-frame dataset stops part-way.
    @Test func cancellationReachesInsideAFrame() throws {
        let parent = try TestSupport.scratchDirectory()
        var spec = SyntheticDataset()
        (spec.frames, spec.sequences, spec.height, spec.width) = (1, 1, 256, 512)
        var calls = 0
        #expect(throws: SyntheticDataset.Cancelled.self) {
            try spec.write(
                to: parent + "/out", force: false,
                cancelled: {
                    calls += 1
                    return calls > 3
                })
        }
        #expect(calls == 4, "stopped at the first poll that asked")
        #expect(try FileManager.default.contentsOfDirectory(atPath: parent).isEmpty)
    }

    /// A file or a symbolic link as the output is refused even with force, and kept.
    @Test func fileAndSymlinkOutputsAreRefused() throws {
        let parent = try TestSupport.scratchDirectory()
        var spec = SyntheticDataset()
        (spec.frames, spec.sequences, spec.height, spec.width, spec.writeFeatures) = (1, 1, 32, 64, false)
        try Data("keep".utf8).write(to: URL(fileURLWithPath: parent + "/file"))
        try FileManager.default.createSymbolicLink(atPath: parent + "/link", withDestinationPath: parent + "/file")
        #expect(throws: SyntheticDataset.SynthError.notAFolder(parent + "/file")) {
            try spec.write(to: parent + "/file", force: true)
        }
        #expect(throws: SyntheticDataset.SynthError.symbolicLink(parent + "/link")) {
            try spec.write(to: parent + "/link", force: true)
        }
        #expect(try String(contentsOfFile: parent + "/file", encoding: .utf8) == "keep")
        #expect(try FileManager.default.contentsOfDirectory(atPath: parent).sorted() == ["file", "link"])
    }

    @Test func realPrototypesAreTheAnchorsAt512() throws {
        var spec = SyntheticDataset()
        spec.featureChannels = 512
        let anchors = spec.anchors()
        let shared = TestSupport.cityscapesMemory + "/value.npy"
        let reference = try Npy.read(path: shared).floats()
        #expect(anchors.flatMap { $0 } == reference)
    }

    /// A softmax regression (numpy, full-batch gradient descent) fitted on one
    /// sequence's features: well above chance, clearly worse at boundaries
    /// than inside regions, and worse where frames are corrupted.
    @Test func featuresAreLearnableButHardWhereTheyShouldBe() throws {
        let corrupted = try TestSupport.scratchDirectory() + "/c"
        let clean = try TestSupport.scratchDirectory() + "/k"
        try Self.make(corrupted, corruptions: 6, seed: 11, frames: 6, size: (256, 512), channels: 32)
        try Self.make(clean, corruptions: 0, seed: 11, frames: 6, size: (256, 512), channels: 32)
        let printed = try TestSupport.python(
            """
            import glob, sys
            import numpy as np
            from PIL import Image
            def load(root):
                xs, ys, bs = [], [], []
                for f in sorted(glob.glob(root + "/features/train/synth/*.npy")):
                    key = f.split("/")[-1][:-4]
                    x = np.load(f)
                    c, h, w = x.shape
                    gt = np.array(Image.open(root + "/gtFine/train/synth/" + key + "_gtFine_labelTrainIds.png"))
                    y = gt[::8, ::8]
                    p = np.pad(y, 1, mode="edge")
                    boundary = np.zeros_like(y, dtype=bool)
                    for dy in (0, 1, 2):
                        for dx in (0, 1, 2):
                            boundary |= p[dy:dy + h, dx:dx + w] != y
                    xs.append(x.reshape(c, -1).T); ys.append(y.ravel()); bs.append(boundary.ravel())
                return np.concatenate(xs), np.concatenate(ys), np.concatenate(bs)
            xc, yc, bc = load(sys.argv[1])
            xk, yk, bk = load(sys.argv[2])
            k = 19
            mu, sd = xc.mean(0), xc.std(0) + 1e-6
            def design(x): return np.hstack([(x - mu) / sd, np.ones((len(x), 1))])
            X, Y = design(xc), np.eye(k)[yc]
            W = np.zeros((X.shape[1], k))
            for _ in range(400):
                z = X @ W; z -= z.max(1, keepdims=True); p = np.exp(z); p /= p.sum(1, keepdims=True)
                W -= 0.5 * X.T @ (p - Y) / len(X)
            def acc(x, y, m=None):
                pred = (design(x) @ W).argmax(1)
                ok = pred == y
                return ok[m].mean() if m is not None else ok.mean()
            chance = np.bincount(yc, minlength=k).max() / len(yc)
            print(acc(xc, yc), chance, acc(xc, yc, ~bc), acc(xc, yc, bc), acc(xk, yk), acc(xc, yc))
            """, [corrupted, clean])
        let v = printed.split(separator: " ").compactMap { Double($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
        try #require(v.count == 6)
        let (overall, chance, interior, boundary, cleanAcc, corruptedAcc) = (v[0], v[1], v[2], v[3], v[4], v[5])
        #expect(overall > chance + 0.25, "overall \(overall) vs majority class \(chance)")
        #expect(interior > 0.9, "interior \(interior)")
        #expect(boundary < interior - 0.15, "boundary \(boundary) vs interior \(interior)")
        #expect(corruptedAcc < cleanAcc - 0.03, "corrupted \(corruptedAcc) vs clean \(cleanAcc)")
    }

    /// JPEG frames and float16 features change nothing else: the GT and manifest
    /// are byte-identical to the default's, each JPEG frame is the JPEG writer's
    /// encoding of the PNG frame's pixels, byte for byte, and each float16 feature
    /// is the float32 feature rounded to half precision.
    @Test func jpegFramesAndHalfFeaturesChangeOnlyThose() throws {
        let plain = try TestSupport.scratchDirectory() + "/plain"
        let small = try TestSupport.scratchDirectory() + "/small"
        var spec = SyntheticDataset()
        (spec.sequences, spec.frames, spec.height, spec.width, spec.featureChannels) = (1, 2, 64, 128, 16)
        try spec.write(to: plain, force: false)
        (spec.frameFormat, spec.featureType) = (.jpeg, .float16)
        try spec.write(to: small, force: false)
        let names = try Self.files(small).filter { $0.contains(".") }
        #expect(names.filter { $0.hasSuffix("_leftImg8bit.jpg") }.count == 2)
        #expect(!names.contains { $0.hasSuffix("_leftImg8bit.png") })
        for name in try Self.files(plain) where name.hasPrefix("gtFine/") && name.hasSuffix(".png") {
            let same = FileManager.default.contentsEqual(atPath: plain + "/" + name, andPath: small + "/" + name)
            #expect(same, "\(name)")
        }
        #expect(FileManager.default.contentsEqual(atPath: plain + "/segscope.toml", andPath: small + "/segscope.toml"))
        for t in 0..<2 {
            let key = SyntheticDataset.key(sequence: 0, frame: t)
            let frames = "/leftImg8bit_sequence/train/synth/\(key)_leftImg8bit."
            let png = try PNG.read(path: plain + frames + "png")
            guard case .eight(let lossless) = png.samples else {
                Issue.record("\(key): the PNG frame is not 8-bit")
                continue
            }
            let expected = try JPEG.encode(rgb: lossless, width: png.width, height: png.height, path: key)
            let written = try [UInt8](Data(contentsOf: URL(fileURLWithPath: small + frames + "jpg")))
            #expect(written == expected, "\(key): the JPEG frame encodes the PNG frame's pixels")
            let single = try Npy.read(path: plain + "/features/train/synth/\(key).npy")
            let half = try Npy.read(path: small + "/features/train/synth/\(key).npy")
            #expect(single.elementType == .float32 && half.elementType == .float16)
            #expect(half.shape == [16, 8, 16] && half.shape == single.shape)
            #expect(half.floats() == single.floats().map { Float(Float16($0)) }, "\(key): float16 rounding")
        }
    }

    /// A feature that float16 cannot hold (an absurd noise through the API; the
    /// CLI caps it) is an error naming the frame, and nothing is written.
    @Test func featuresBeyondHalfPrecisionAreRefused() throws {
        let parent = try TestSupport.scratchDirectory()
        var spec = SyntheticDataset()
        (spec.sequences, spec.frames, spec.height, spec.width, spec.featureChannels) = (1, 1, 32, 64, 4)
        (spec.featureType, spec.knobs.noise) = (.float16, 1e6)
        do {
            try spec.write(to: parent + "/out", force: false)
            Issue.record("written")
        } catch let error as SyntheticDataset.SynthError {
            guard case .featureOutOfRange(let key, let value) = error else { throw error }
            #expect(key == "synth_000000_000000" && abs(value) > 65504, "\(error)")
            #expect("\(error)".contains("does not fit float16"), "\(error)")
        }
        #expect(try FileManager.default.contentsOfDirectory(atPath: parent).isEmpty)
        spec.featureType = .float32
        try spec.write(to: parent + "/out", force: false)
    }
}
