import Foundation
import SegFormats
import SegTestSupport
import Testing

/// The crashes and hangs of issue 15, each a clear one-line error now.
@Suite struct HostileInputTests {
    static func oneLineError(_ outcome: TestSupport.Outcome, contains text: String) -> Bool {
        outcome.status == 1 && outcome.stderr.hasPrefix("segscope: ")
            && outcome.stderr.split(separator: "\n").count == 1 && outcome.stderr.contains(text)
    }

    /// A memory with NaN or infinity, from npy files and from MAR.memory_* in safetensors.
    @Test func nonFiniteMemoriesAreNamed() throws {
        let root = try TestSupport.scratchDirectory()
        for (i, bad) in [Float.nan, .infinity].enumerated() {
            let folder = "\(root)/m\(i)"
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
            var keys = [Float](repeating: 0.5, count: 4 * 3)
            keys[7] = bad
            try Npy.write(keys, shape: [4, 3], to: folder + "/key.npy")
            try Npy.write([Float](repeating: 1, count: 2 * 3), shape: [2, 3], to: folder + "/value.npy")
            let inspect = try TestSupport.segscope(["memory", "inspect", folder])
            #expect(Self.oneLineError(inspect, contains: "key.npy: keys row 2 holds \(bad)"), "\(inspect.stderr)")
            var writer = SafetensorsWriter()
            writer.add("MAR.memory_key", keys, shape: [1, 4, 3])
            writer.add("MAR.memory_value", [Float](repeating: 1, count: 12), shape: [1, 4, 3])
            try writer.write(to: folder + "/memory.safetensors")
            let weights = try TestSupport.segscope(["memory", "inspect", folder + "/memory.safetensors"])
            #expect(Self.oneLineError(weights, contains: "MAR.memory_key row 2"), "\(weights.stderr)")
        }
    }

    /// forward with NaN features or NaN weights fails instead of writing NaN outputs.
    @Test func nonFiniteFeaturesAndWeightsAreNamed() throws {
        let root = try TestSupport.scratchDirectory()
        let fixture = TestSupport.repositoryRoot + "/Tests/SegEngineTests/Fixtures/small"
        var features = try Npy.read(path: fixture + "/cur.npy")
        var values = features.floats()
        values[5] = .nan
        try Npy.write(values, shape: features.shape, to: root + "/cur.npy")
        let forward = try TestSupport.segscope([
            "forward", "--weights", fixture + "/weights.safetensors", "--frames", fixture + "/prev.npy",
            root + "/cur.npy", fixture + "/next.npy", "--out", root + "/out",
        ])
        #expect(Self.oneLineError(forward, contains: "cur.npy: feature nan"), "\(forward.stderr)")
        #expect(!FileManager.default.fileExists(atPath: root + "/out"))
        let file = try SafetensorsFile(path: fixture + "/weights.safetensors")
        var writer = SafetensorsWriter(metadata: file.metadata)
        for tensor in file.tensors {
            var v = try file.floats(tensor.name)
            if tensor.name == "STF.pe_enc" { v[3] = -.infinity }
            writer.add(tensor.name, v, shape: tensor.shape)
        }
        try writer.write(to: root + "/w.safetensors")
        features = try Npy.read(path: fixture + "/cur.npy")
        let weights = try TestSupport.segscope([
            "forward", "--weights", root + "/w.safetensors", "--frames", fixture + "/prev.npy",
            fixture + "/cur.npy", fixture + "/next.npy", "--out", root + "/out2",
        ])
        #expect(Self.oneLineError(weights, contains: "tensor STF.pe_enc holds -inf at element 3"), "\(weights.stderr)")
    }

    /// A FIFO where a file is expected: refused at once, not waited on.
    @Test func fifosAreRefusedWithoutBlocking() throws {
        let root = try TestSupport.scratchDirectory()
        let fifo = root + "/pipe.png"
        #expect(mkfifo(fifo, 0o644) == 0)
        for arguments in [["labels", fifo], ["bookmarks", fifo], ["memory", "inspect", fifo]] {
            let run = try TestSupport.segscope(arguments, timeout: 20)
            #expect(Self.oneLineError(run, contains: fifo + ": "), "\(arguments): status \(run.status) \(run.stderr)")
        }
        // A dataset whose ground truth is a FIFO: the frame's pane shows the error (no wait for a writer).
        try FileManager.default.createSymbolicLink(
            atPath: root + "/x_000000_000000_gtFine_labelTrainIds.png", withDestinationPath: fifo)
        let render = try TestSupport.segscope(
            ["render", "--gt", root, "--frames", root, "--frame", "1", "--ansi", "--cols", "80", "--rows", "24"],
            timeout: 20)
        #expect(render.status != 124, "render waited on the FIFO")
        #expect(
            Self.oneLineError(render, contains: fifo + ": "),
            "the pane's failure is render's error: \(render.status) \(render.stderr)")
    }

    /// Discovery through symlink loops (`loop -> .`, `up -> ..`) ends, visiting each folder once.
    @Test func symlinkLoopsEndDiscovery() throws {
        let root = try TestSupport.scratchDirectory()
        let synth = try TestSupport.segscope([
            "synth", "--out", root + "/data", "--sequences", "1", "--frames", "2", "--size", "32x64", "--no-features",
        ])
        #expect(synth.status == 0)
        let folder = root + "/data/gtFine/train/synth"
        try FileManager.default.createSymbolicLink(atPath: folder + "/loop", withDestinationPath: ".")
        try FileManager.default.createSymbolicLink(atPath: folder + "/up", withDestinationPath: "..")
        let eval = try TestSupport.segscope(
            ["eval", root + "/data", "--pred", "gt=" + folder, "--format", "json"], timeout: 30)
        #expect(eval.status == 0, "\(eval.status) \(eval.stderr)")
    }

    /// Control characters in an npy header key stay escaped on one line; an
    /// empty file or a device is "not a memory folder or weights file".
    @Test func controlCharactersAndNonFilesGiveOneLine() throws {
        let root = try TestSupport.scratchDirectory()
        let header = "{'descr': '<f4', 'fortran_order': False, 'shape': (2,), 'evil\u{1b}[2J\nkey': 1, }"
        var bytes: [UInt8] = [0x93] + Array("NUMPY".utf8) + [1, 0]
        let padded = header + String(repeating: " ", count: (64 - (10 + header.utf8.count + 1) % 64) % 64) + "\n"
        bytes +=
            [UInt8(padded.utf8.count & 0xff), UInt8(padded.utf8.count >> 8)] + Array(padded.utf8)
            + [UInt8](repeating: 0, count: 8)
        try FileManager.default.createDirectory(atPath: root + "/m", withIntermediateDirectories: true)
        try Data(bytes).write(to: URL(fileURLWithPath: root + "/m/key.npy"))
        try Data(bytes).write(to: URL(fileURLWithPath: root + "/m/value.npy"))
        let npy = try TestSupport.segscope(["memory", "inspect", root + "/m"])
        #expect(
            npy.status == 1 && npy.stderr.split(separator: "\n").count == 1 && !npy.stderr.contains("\u{1b}"),
            "\(npy.stderr.debugDescription)")
        FileManager.default.createFile(atPath: root + "/empty", contents: Data())
        for path in [root + "/empty", "/dev/zero"] {
            let inspect = try TestSupport.segscope(["memory", "inspect", path], timeout: 20)
            #expect(
                Self.oneLineError(
                    inspect, contains: "\(path): not a memory folder (key.npy, value.npy) or a weights file"),
                "\(inspect.stderr)")
        }
    }
}
