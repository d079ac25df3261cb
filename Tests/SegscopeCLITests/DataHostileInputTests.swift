import Foundation
import SegFormats
import SegTestSupport
import Testing

/// Issue 22, the data part: files and datasets that once blew up memory, lost files, trapped or gave
/// unclear errors, through the binary. Memory is the child's peak RSS (GNU time's ru_maxrss).
@Suite struct DataHostileInputTests {
    /// A failure whose every stderr line is one `segscope:` message (eval lists each unreadable file
    /// on its own line, then how many) and one of them says `text`.
    static func oneLineError(_ outcome: TestSupport.Outcome, contains text: String) -> Bool {
        outcome.status == 1 && !outcome.stderr.isEmpty
            && outcome.stderr.split(separator: "\n").allSatisfy { $0.hasPrefix("segscope: ") }
            && outcome.stderr.contains(text)
    }

    static let megabyte = 1 << 20

    /// Writes a PNG of `width` x `height` whose every sample is 0, streamed through zlib (valid, small on disk).
    static func zeroPNG(_ path: String, width: Int, height: Int, bitDepth: Int, colorType: Int, channels: Int) throws {
        try TestSupport.python(
            """
            import struct, sys, zlib
            path, w, h, depth, ctype, channels = sys.argv[1], *map(int, sys.argv[2:])
            def chunk(kind, data):
                return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
            z = zlib.compressobj(9)
            row = bytes(1 + w * channels * depth // 8)
            idat = b"".join(z.compress(row) for _ in range(h)) + z.flush()
            ihdr = struct.pack(">IIBBBBB", w, h, depth, ctype, 0, 0, 0)
            open(path, "wb").write(b"\\x89PNG\\r\\n\\x1a\\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT",
                    idat) + chunk(b"IEND", b""))
            """, [path, String(width), String(height), String(bitDepth), String(colorType), String(channels)])
    }

    /// A frame and its ground truth (Cityscapes names) in one folder, plus a small valid prediction.
    static func frameFolders(_ root: String) throws -> (folder: String, pred: String) {
        let folder = root + "/data"
        let pred = root + "/pred"
        for path in [folder, pred] {
            try FileManager.default.createDirectory(
                atPath: path,
                withIntermediateDirectories: true)
        }
        let label = PNGImage(
            width: 16, height: 8, colorType: .gray, bitDepth: 8,
            samples: .eight([UInt8](repeating: 0, count: 128)))
        try PNG.write(label, to: pred + "/x_000000_000000_gtFine_labelTrainIds.png")
        return (folder, pred)
    }

    /// A 206-byte PNG claiming 16384x16384 RGBA16 (2 GB of samples) is refused from its header and chunk
    /// lengths by render (as the frame) and eval (as the ground truth), without allocating for it.
    @Test func pngClaimingAHugeSizeIsRefusedBeforeAllocating() throws {
        let root = try TestSupport.scratchDirectory()
        let (folder, pred) = try Self.frameFolders(root)
        let bomb = TestSupport.pngWithHeader(width: 16384, height: 16384, bitDepth: 16, colorType: 6)
        let frame = folder + "/x_000000_000000_leftImg8bit.png"
        let gt = folder + "/x_000000_000000_gtFine_labelTrainIds.png"
        try TestSupport.write(bomb, to: frame)
        try TestSupport.write(bomb, to: gt)
        let render = try TestSupport.segscopeMeasuringMemory([
            "render", "--frames", folder, "--frame", "1", "--ansi",
            "--cols", "80", "--rows", "24",
        ])
        #expect(
            Self.oneLineError(render, contains: frame + ": not a valid PNG file: "),
            "\(render.status) \(render.stderr)")
        #expect(render.stderr.contains("cannot hold a 16384x16384 image"), "\(render.stderr)")
        #expect(
            render.peakResidentBytes < 300 * Self.megabyte,
            "render peaked at \(render.peakResidentBytes / Self.megabyte) MB")
        let eval = try TestSupport.segscopeMeasuringMemory([
            "eval", "--gt", folder, "--pred", "a=" + pred,
            "--label-space", "cityscapes",
        ])
        #expect(Self.oneLineError(eval, contains: gt + ": not a valid PNG file: "), "\(eval.status) \(eval.stderr)")
        #expect(
            eval.peakResidentBytes < 300 * Self.megabyte,
            "eval peaked at \(eval.peakResidentBytes / Self.megabyte) MB")
    }

    /// A valid 16384x16384 gray label (a few hundred kB of zeros) is refused by its pixel count.
    @Test func validHugeLabelIsRefusedByItsPixelCount() throws {
        let root = try TestSupport.scratchDirectory()
        let (folder, pred) = try Self.frameFolders(root)
        let gt = folder + "/x_000000_000000_gtFine_labelTrainIds.png"
        try Self.zeroPNG(gt, width: 16384, height: 16384, bitDepth: 8, colorType: 0, channels: 1)
        let eval = try TestSupport.segscopeMeasuringMemory([
            "eval", "--gt", folder, "--pred", "a=" + pred,
            "--label-space", "cityscapes",
        ])
        let refusal = ": too large: image of 16384x16384 has 268435456 pixels, above the limit of"
        #expect(
            Self.oneLineError(eval, contains: gt + refusal),
            "\(eval.status) \(eval.stderr)")
        #expect(
            eval.peakResidentBytes < 300 * Self.megabyte,
            "eval peaked at \(eval.peakResidentBytes / Self.megabyte) MB")
    }

    /// A valid 5000x5000 RGBA16 PNG (200 MB of samples) cannot hold labels: refused from its header, before decoding.
    @Test func labelOfTheWrongTypeIsRefusedBeforeDecoding() throws {
        let root = try TestSupport.scratchDirectory()
        let (folder, pred) = try Self.frameFolders(root)
        let gt = folder + "/x_000000_000000_gtFine_labelTrainIds.png"
        try Self.zeroPNG(gt, width: 5000, height: 5000, bitDepth: 16, colorType: 6, channels: 4)
        let eval = try TestSupport.segscopeMeasuringMemory([
            "eval", "--gt", folder, "--pred", "a=" + pred,
            "--label-space", "cityscapes",
        ])
        #expect(
            Self.oneLineError(eval, contains: gt + ": a 16-bit rgba PNG cannot hold labels"),
            "\(eval.status) \(eval.stderr)")
        #expect(
            eval.peakResidentBytes < 150 * Self.megabyte,
            "eval peaked at \(eval.peakResidentBytes / Self.megabyte) MB")
    }

    /// An npy whose header claims 150 MB is refused by its length (numpy's limit), not parsed.
    @Test func npyWithAHugeHeaderIsRefusedByItsLength() throws {
        let root = try TestSupport.scratchDirectory()
        let header = "{'descr': '<f4', 'fortran_order': False, 'shape': (1, 1), }"
        let length = 150 * Self.megabyte
        var bytes: [UInt8] = [0x93] + Array("NUMPY".utf8) + [2, 0]
        bytes += (0..<4).map { UInt8((length >> (8 * $0)) & 0xff) }
        bytes +=
            Array(header.utf8) + [UInt8](repeating: 0x20, count: length - header.utf8.count - 1) + [0x0a] + [
                0,
                0, 0, 0,
            ]
        try TestSupport.write(bytes, to: root + "/key.npy")
        try Npy.write([Float](repeating: 1, count: 1), shape: [1, 1], to: root + "/value.npy")
        let inspect = try TestSupport.segscopeMeasuringMemory(["memory", "inspect", root])
        #expect(
            Self.oneLineError(
                inspect,
                contains: root + "/key.npy: not a valid npy file: header length 157286400 is above"),
            "\(inspect.status) \(inspect.stderr)")
        #expect(
            inspect.peakResidentBytes < 300 * Self.megabyte,
            "peaked at \(inspect.peakResidentBytes / Self.megabyte) MB")
    }

    /// `segscope ARGS` with the file size limited to `blocks` x 512 bytes (SIGXFSZ ignored, so a write fails
    /// with EFBIG as on a full disk).
    static func segscope(_ arguments: [String], fileBlocks blocks: Int) throws -> TestSupport.Outcome {
        try TestSupport.outcome(
            "/bin/sh",
            [
                "-c", "trap '' XFSZ; ulimit -f \(blocks); exec \"$0\" \"$@\"",
                TestSupport.segscopeBinary,
            ] + arguments)
    }

    /// The checkpoint and its .state are written together or not at all: with room for the checkpoint but
    /// not the state, train writes neither; a resumed run that cannot write keeps the last pair.
    @Test func trainWritesCheckpointAndStateTogether() throws {
        let root = try TestSupport.scratchDirectory()
        let data = try TrainTests.synth(root)
        let common = ["train", "classifier", data, "--batch", "2", "--seed", "3"]
        let reference = try TestSupport.segscope(common + ["--out", root + "/reference.safetensors", "--epochs", "1"])
        #expect(reference.status == 0, "\(reference.stderr)")
        let sizes = try [root + "/reference.safetensors", root + "/reference.safetensors.state"].map {
            try #require(FileManager.default.attributesOfItem(atPath: $0)[.size] as? Int)
        }
        let blocks = sizes[0] / 512 + 1
        try #require(
            sizes[1] > blocks * 512,
            "the state (\(sizes[1]) bytes) must be larger than the checkpoint (\(sizes[0]))")
        let out = root + "/c.safetensors"
        let full = try Self.segscope(common + ["--out", out, "--epochs", "1"], fileBlocks: blocks)
        #expect(
            Self.oneLineError(full, contains: out + ".state: cannot write: File too large"),
            "\(full.status) \(full.stderr)")
        #expect(!FileManager.default.fileExists(atPath: out) && !FileManager.default.fileExists(atPath: out + ".state"))
        #expect(try FileManager.default.contentsOfDirectory(atPath: root).allSatisfy { !$0.hasSuffix(".tmp") })

        let first = try TestSupport.segscope(common + ["--out", out, "--epochs", "2", "--stop-after", "1"])
        #expect(first.status == 0, "\(first.stderr)")
        let pair = try [out, out + ".state"].map { try Data(contentsOf: URL(fileURLWithPath: $0)) }
        let resumed = try Self.segscope(common + ["--out", out, "--epochs", "2", "--resume"], fileBlocks: blocks)
        #expect(
            Self.oneLineError(resumed, contains: "cannot write: File too large"),
            "\(resumed.status) \(resumed.stderr)")
        #expect(
            try [out, out + ".state"].map { try Data(contentsOf: URL(fileURLWithPath: $0)) } == pair,
            "epoch 1's pair is kept")
        let finished = try TestSupport.segscope(common + ["--out", out, "--epochs", "2", "--resume"])
        #expect(finished.status == 0 && finished.stdout.hasPrefix("epoch 2/2"), "\(finished.stderr)")
    }

    /// A resumed infer rewrites outputs that are empty or cut short instead of taking them as finished.
    @Test func resumedInferRewritesBrokenOutputs() throws {
        let (data, weights, run) = try InferTests.setUp()
        let infer = try TestSupport.segscope(["infer", "--weights", weights, data, "--out", run])
        #expect(infer.status == 0, "\(infer.stderr)")
        let empty = run + "/pred/stf/synth_000001_000002.png"
        let cut = run + "/conf/mar/synth_000000_000001.png"
        let originals = try [empty, cut].map { try Data(contentsOf: URL(fileURLWithPath: $0)) }
        try Data().write(to: URL(fileURLWithPath: empty))
        try originals[1].prefix(originals[1].count / 2).write(to: URL(fileURLWithPath: cut))
        let resumed = try TestSupport.segscope(["infer", "--weights", weights, data, "--out", run])
        #expect(resumed.status == 0, "\(resumed.stderr)")
        #expect(try [empty, cut].map { try Data(contentsOf: URL(fileURLWithPath: $0)) } == originals)
    }

    /// One finite feature of 3e38 overflows the logits: infer names the feature file instead of trapping.
    @Test func inferWithAHugeFeatureNamesItsFile() throws {
        let (data, weights, run) = try InferTests.setUp()
        let path = data + "/features/val/synth/synth_000001_000002.npy"
        let features = try Npy.read(path: path)
        var values = features.floats()
        values[17] = 3e38
        try Npy.write(values, shape: features.shape, to: path)
        let infer = try TestSupport.segscope(["infer", "--weights", weights, data, "--out", run])
        #expect(
            Self.oneLineError(infer, contains: path + ": features up to 3e+38 make the "),
            "\(infer.status) \(infer.stderr)")
    }

    /// A shard that holds no sequence says so, not that the weights have no backbone.
    @Test func emptyShardSaysItHoldsNoFrame() throws {
        let (data, weights, run) = try InferTests.setUp()
        let infer = try TestSupport.segscope(["infer", "--weights", weights, data, "--out", run, "--shard", "2/3"])
        #expect(
            Self.oneLineError(
                infer, contains: "--shard 2/3: the dataset has 2 sequence(s), so shard 2 of 3 holds none"),
            "\(infer.stderr)")
        #expect(!infer.stderr.contains("backbone"))
    }

    /// infer on a VSPW dataset writes RUN/pred/<stage>/<video>/<frame>.png (the per-video folders are made).
    @Test func inferOnVSPWWritesPerVideoFolders() throws {
        let data = try VSPWData.make()
        try "v_3\n".write(toFile: data + "/val.txt", atomically: true, encoding: .utf8)
        let weights = data + "/w.safetensors"
        try TestSupport.python(
            """
            import sys
            sys.path.insert(0, sys.argv[3])
            import stf_mar_reference as ref
            from safetensors.numpy import load_file, save_file
            backbone = {k: v for k, v in load_file(sys.argv[2]).items() if not k.startswith("decode_head.conv_seg")}
            heads, _ = ref.random_weights(c=8, heads=2, hb=5, wb=4, hp=5, wp=8, m=16, k=124, kl=2, depth=1, seed=5)
            backbone.update(heads)
            save_file(backbone, sys.argv[1], metadata={"heads": "2", "block_size": "5,4"})
            """,
            [
                weights, TestSupport.repositoryRoot + "/Tests/SegEngineTests/Fixtures/pspnet_r18/weights.safetensors",
                TestSupport.repositoryRoot + "/Tests/Tools",
            ])
        let run = data + "/run"
        let infer = try TestSupport.segscope(["infer", "--weights", weights, data, "--out", run])
        #expect(infer.status == 0, "\(infer.stderr)")
        for stage in ["baseline", "stf", "mar"] {
            let pred = try PNG.read(path: "\(run)/pred/\(stage)/v_3/00000016.png")
            #expect(pred.width == 64 && pred.height == 40)
            #expect(FileManager.default.fileExists(atPath: "\(run)/conf/\(stage)/v_3/00000001.png"))
        }
    }

    /// Runs segscope as the user nobody: root reads every folder whatever its mode, so permission errors
    /// are only seen without root's rights.
    static func segscopeAsNobody(_ arguments: [String]) throws -> TestSupport.Outcome {
        try TestSupport.outcome(
            "/usr/bin/setpriv",
            [
                "--reuid=65534", "--regid=65534", "--clear-groups",
                TestSupport.segscopeBinary,
            ] + arguments)
    }

    /// A ground-truth folder that can be listed but not searched (mode r--) says so, not "no frames found".
    @Test func unsearchableFolderSaysPermissionDenied() throws {
        let root = try TestSupport.scratchDirectory()
        let (folder, _) = try Self.frameFolders(root)
        let label = PNGImage(
            width: 16, height: 8, colorType: .gray, bitDepth: 8,
            samples: .eight([UInt8](repeating: 0, count: 128)))
        try PNG.write(label, to: folder + "/x_000000_000000_gtFine_labelTrainIds.png")
        for path in [root, folder] { chmod(path, 0o755) }
        chmod(folder, 0o444)
        defer { chmod(folder, 0o755) }
        let eval = try Self.segscopeAsNobody(["eval", "--gt", folder, "--label-space", "cityscapes"])
        #expect(
            Self.oneLineError(eval, contains: folder + ": cannot read: permission denied"),
            "\(eval.status) \(eval.stderr)")
        chmod(folder, 0o311)
        let unlistable = try Self.segscopeAsNobody(["eval", "--gt", folder, "--label-space", "cityscapes"])
        #expect(
            Self.oneLineError(unlistable, contains: folder + ": cannot read: permission denied"),
            "\(unlistable.stderr)")
    }

    /// Empty weights files say they are empty, whatever their extension.
    @Test func emptyWeightsSayEmpty() throws {
        let root = try TestSupport.scratchDirectory()
        for name in ["best.pth", "w.safetensors"] {
            try Data().write(to: URL(fileURLWithPath: root + "/" + name))
            let weights = try TestSupport.segscope(["weights", root + "/" + name])
            #expect(
                Self.oneLineError(weights, contains: root + "/" + name + ": cannot read: empty file (0 bytes)"),
                "\(weights.stderr)")
        }
    }

    /// The feature file whose shape differs from its neighbours' is the one named, in infer and in forward.
    @Test func theOddFeatureFileIsBlamed() throws {
        let (data, weights, run) = try InferTests.setUp()
        let odd = data + "/features/val/synth/synth_000001_000001.npy"
        try Npy.write([Float](repeating: 0.5, count: 32 * 4 * 16), shape: [32, 4, 16], to: odd)
        let infer = try TestSupport.segscope(["infer", "--weights", weights, data, "--out", run])
        #expect(
            Self.oneLineError(infer, contains: odd + ": features [32, 4, 16] differ from the neighbouring "),
            "\(infer.stderr)")
        let other = data + "/features/val/synth/synth_000001_000000.npy"
        let forward = try TestSupport.segscope([
            "forward", "--weights", weights, "--frames", other, odd, other,
            "--out", run + "/f",
        ])
        #expect(Self.oneLineError(forward, contains: odd + ": shape [32, 4, 16] differs from "), "\(forward.stderr)")
    }

    /// A frame whose size differs from its ground truth's names both sizes.
    @Test func frameOfAnotherSizeThanItsGroundTruthNamesBoth() throws {
        let root = try TestSupport.scratchDirectory()
        let (folder, _) = try Self.frameFolders(root)
        let gt = folder + "/x_000000_000000_gtFine_labelTrainIds.png"
        let frame = folder + "/x_000000_000000_leftImg8bit.png"
        try PNG.write(
            PNGImage(
                width: 16, height: 8, colorType: .gray, bitDepth: 8,
                samples: .eight([UInt8](repeating: 1, count: 128))), to: gt)
        try PNG.write(
            PNGImage(
                width: 8, height: 4, colorType: .rgb, bitDepth: 8,
                samples: .eight([UInt8](repeating: 9, count: 96))), to: frame)
        let render = try TestSupport.segscope([
            "render", "--frames", folder, "--gt", folder, "--frame", "1", "--ansi",
            "--cols", "80", "--rows", "24",
        ])
        #expect(
            render.stderr.contains(frame + ": frame is 8x4 but its ground truth " + gt + " is 16x8"),
            "\(render.status) \(render.stderr)")
        #expect(!(render.stderr + render.stdout).contains("no ground truth sets the size"))
    }

    /// File names that are not UTF-8 (a Latin-1 é) are read, and printed with the byte as \xNN.
    @Test func namesThatAreNotUTF8AreReadAndPrintedEscaped() throws {
        let root = try TestSupport.scratchDirectory()
        try TestSupport.python(
            """
            import io, os, sys
            import numpy as np
            from PIL import Image
            root = os.fsencode(sys.argv[1])
            name = b"caf\\xe9_000000_000000_gtFine_labelTrainIds.png"
            png = io.BytesIO()
            Image.fromarray(np.ones((8, 16), np.uint8)).save(png, format="PNG")
            for folder, data in ((b"gt", png.getvalue()), (b"pred", png.getvalue()), (b"bad", b"not a png")):
                os.makedirs(root + b"/" + folder)
                open(root + b"/" + folder + b"/" + name, "wb").write(data)
            video = b"v\\xe9"
            for folder in (b"/vspw/data/" + video + b"/mask", b"/vspw/data/" + video + b"/origin", b"/vspred/" + video):
                os.makedirs(root + folder)
                open(root + folder + b"/00000001.png", "wb").write(png.getvalue())
            """, [root])
        let quick = ["--format", "json", "--no-temporal", "--no-boundary-iou"]
        let eval = try TestSupport.segscope(
            [
                "eval", "--gt", root + "/gt", "--pred", "a=" + root + "/pred",
                "--label-space", "cityscapes",
            ] + quick)
        #expect(eval.status == 0, "\(eval.stderr)")
        #expect(eval.stdout.contains("\"frames\": 1"), "\(eval.stdout)")
        let vspw = try TestSupport.segscope(["eval", root + "/vspw", "--pred", "a=" + root + "/vspred"] + quick)
        #expect(vspw.status == 0 && vspw.stdout.contains("\"frames\": 1"), "VSPW video folder: \(vspw.stderr)")
        let bad = try TestSupport.segscope([
            "eval", "--gt", root + "/bad", "--pred", "a=" + root + "/pred",
            "--label-space", "cityscapes",
        ])
        let shown = root + "/bad/caf\\xE9_000000_000000_gtFine_labelTrainIds.png"
        #expect(
            Self.oneLineError(bad, contains: shown + ": not a valid PNG file"),
            "\(bad.status) \(bad.stderr)")
    }
}
