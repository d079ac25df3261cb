import Foundation
import SegFormats
import SegTestSupport
import Testing

/// `.pth` files written by torch.save (Tests/Tools/make_pth_fixtures.py) read
/// exactly as their safetensors twins, in both layouts.
@Suite struct PyTorchCheckpointTests {
    static let folder = TestSupport.repositoryRoot + "/Tests/SegFormatsTests/Fixtures/pth"

    @Test(arguments: ["zip", "legacy"])
    func tensorsEqualTheirSafetensorsTwins(layout: String) throws {
        let twin = try SafetensorsFile(path: Self.folder + "/tensors.safetensors")
        let file = try TensorFiles.open(path: Self.folder + "/tensors.\(layout).pth")
        #expect(file is PyTorchCheckpoint)
        #expect(file.tensorNames == ["f32", "f16", "bf16", "f64", "i64", "transposed", "sliced", "param", "scalar"])
        for name in file.tensorNames {
            #expect(file.shape(of: name) == twin.tensor(name)?.shape, "\(name)")
            let ours = try file.floats(name).map(\.bitPattern)
            let theirs = try twin.floats(name).map(\.bitPattern)
            #expect(ours == theirs, "\(name) (\(layout))")
        }
        let checkpoint = try #require(file as? PyTorchCheckpoint)
        #expect(checkpoint.tensor("transposed")?.strides == [1, 6], "non-contiguous as saved")
        #expect(checkpoint.tensor("sliced")?.offset == 8)
    }

    @Test(arguments: ["zip", "legacy"])
    func mmsegmentationCheckpointsGiveTheirStateDict(layout: String) throws {
        let file = try TensorFiles.open(path: Self.folder + "/mmseg.\(layout).pth")
        #expect(file.tensorNames == ["f32", "i64", "transposed"])
    }

    @Test func aPickleNamingCallablesRunsNothing() throws {
        let cwd = FileManager.default.currentDirectoryPath
        let file = try PyTorchCheckpoint(path: Self.folder + "/hostile.pth")
        #expect(file.tensorNames == ["ok"])
        #expect(file.skipped == ["f32", "g"])
        #expect(!FileManager.default.fileExists(atPath: cwd + "/segscope-pwned"))
        #expect(!FileManager.default.fileExists(atPath: cwd + "/segscope-pwned-eval"))
    }

    /// A legacy file whose object is a list holding itself: a clean error,
    /// not an endless walk (the fuzzer found the cycle as a leak).
    @Test func cyclicPicklesEndCleanly() throws {
        #expect(throws: FormatError.self) { _ = try PyTorchCheckpoint(path: Self.folder + "/cyclic.legacy.pth") }
    }

    /// Every prefix of a valid file, and bytes flipped at every position of a
    /// small one, give a FormatError or a file, never a crash or a hang.
    @Test(arguments: ["tensors.zip.pth", "tensors.legacy.pth", "mmseg.legacy.pth"])
    func damagedFilesAreCleanErrors(name: String) throws {
        let bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: Self.folder + "/" + name)))
        let scratch = try TestSupport.scratchDirectory() + "/damaged.pth"
        var failures = 0
        for cut in stride(from: 1, to: bytes.count, by: max(1, bytes.count / 200)) {
            try Data(bytes[..<cut]).write(to: URL(fileURLWithPath: scratch))
            do { _ = try PyTorchCheckpoint(path: scratch) } catch is FormatError { failures += 1 }
        }
        #expect(failures > 0)
        for position in stride(from: 0, to: bytes.count, by: max(1, bytes.count / 300)) {
            var damaged = bytes
            damaged[position] ^= 0xA5
            try Data(damaged).write(to: URL(fileURLWithPath: scratch))
            do {
                let file = try PyTorchCheckpoint(path: scratch)
                for tensor in file.tensorNames { _ = try file.floats(tensor) }
            } catch is FormatError {}
        }
    }
}
