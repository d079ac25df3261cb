import Foundation
import SegFormats
import SegTestSupport
import Testing

/// Frames alone -> infer (the PSPNet backbone of the committed r18 fixture,
/// with random STF and MAR for 19 classes) -> eval and view; and the same
/// work split into three shards, which must write exactly what one run writes.
@Suite struct FramesInferTests {
    static func setUp() throws -> (root: String, data: String, weights: String) {
        try BackboneFixture.make(sequences: 3)
    }

    static func files(_ folder: String) throws -> [String: Data] {
        var out: [String: Data] = [:]
        let enumerator = FileManager.default.enumerator(atPath: folder)!
        while let name = enumerator.nextObject() as? String {
            if name.hasSuffix(".png") { out[name] = try Data(contentsOf: URL(fileURLWithPath: folder + "/" + name)) }
        }
        return out
    }

    @Test func framesAloneGiveARunAndShardsMergeExactly() throws {
        let (root, data, weights) = try Self.setUp()
        let single = try TestSupport.segscope([
            "infer", "--weights", weights, data, "--out", root + "/run", "--save-features", root + "/features",
        ])
        #expect(single.status == 0, "\(single.stderr)")
        #expect(try Npy.read(path: root + "/features/synth_000001_000002.npy").shape == [8, 8, 12])
        let eval = try TestSupport.segscope(["eval", root + "/run", "--format", "json"])
        #expect(eval.status == 0, "\(eval.stderr)")
        let json = try JSONSerialization.jsonObject(with: Data(eval.stdout.utf8)) as! [String: Any]
        #expect(Set((json["methods"] as! [String: Any]).keys) == ["baseline", "stf", "mar"])
        let view = try TestSupport.segscope(
            ["render", root + "/run", "--frame", "synth_000002_000001", "--ansi", "--cols", "120", "--rows", "40"],
            environment: ["NO_COLOR": "1", "TERM": "xterm-256color"])
        #expect(view.status == 0, "\(view.stderr)")

        var shards: [String] = []
        for k in 0..<3 {
            let infer = try TestSupport.segscope([
                "infer", "--weights", weights, data, "--out", root + "/sharded", "--shard", "\(k)/3",
            ])
            #expect(infer.status == 0, "\(infer.stderr)")
            shards.append(root + "/shard\(k).safetensors")
            let part = try TestSupport.segscope([
                "eval", root + "/sharded", "--shard", "\(k)/3", "--save-confusion", shards[k], "--format", "json",
            ])
            #expect(part.status == 0, "\(part.stderr)")
        }
        #expect(
            try Self.files(root + "/sharded") == Self.files(root + "/run"),
            "three shards write exactly what one run writes")
        let merged = try TestSupport.segscope(["eval", "merge"] + shards + ["--format", "csv"])
        let whole = try TestSupport.segscope(["eval", root + "/run", "--format", "csv"])
        #expect(merged.status == 0 && whole.status == 0, "\(merged.stderr)\(whole.stderr)")
        #expect(merged.stdout == whole.stdout)
    }

    /// A Slurm array task without --shard takes its own share, as --shard would.
    @Test func slurmArrayTasksTakeTheirShare() throws {
        let (root, data, weights) = try Self.setUp()
        let explicit = try TestSupport.segscope([
            "infer", "--weights", weights, data, "--out", root + "/explicit", "--shard", "1/3",
        ])
        var environment = ProcessInfo.processInfo.environment
        (
            environment["SLURM_ARRAY_TASK_ID"], environment["SLURM_ARRAY_TASK_COUNT"],
            environment["SLURM_ARRAY_TASK_MIN"]
        ) = ("5", "3", "4")
        let slurm = try TestSupport.segscope(
            ["infer", "--weights", weights, data, "--out", root + "/slurm"], environment: environment)
        #expect(explicit.status == 0 && slurm.status == 0, "\(explicit.stderr)\(slurm.stderr)")
        #expect(slurm.stderr.contains("shard 1/3 of the sequences"))
        let files = try Self.files(root + "/slurm")
        #expect(!files.isEmpty && files.keys.allSatisfy { $0.contains("synth_000001_") })
        #expect(files == (try Self.files(root + "/explicit")))
    }

    /// memory build reads frames directly through the backbone of its weights.
    @Test func memoryBuildFromFrames() throws {
        let (root, data, weights) = try Self.setUp()
        let build = try TestSupport.segscope([
            "memory", "build", "--weights", weights, data, "--kl", "2", "--kh", "2", "--out", root + "/memory",
        ])
        #expect(build.status == 0, "\(build.stderr)")
        #expect(try Npy.read(path: root + "/memory/key.npy").shape == [19 * 2, 8])
    }

    @Test func labelledOnlyWritesTheFramesWithGroundTruth() throws {
        let (root, data, weights) = try Self.setUp()
        // Keep ground truth for the middle frame of each sequence only.
        let gt = data + "/gtFine/val/synth"
        for name in try FileManager.default.contentsOfDirectory(atPath: gt) where !name.contains("_000001_gtFine") {
            try FileManager.default.removeItem(atPath: gt + "/" + name)
        }
        let infer = try TestSupport.segscope([
            "infer", "--weights", weights, data, "--out", root + "/run", "--labelled-only",
        ])
        #expect(infer.status == 0, "\(infer.stderr)")
        #expect(
            try Self.files(root + "/run/pred/mar").keys.sorted() == [
                "synth_000000_000001.png", "synth_000001_000001.png", "synth_000002_000001.png",
            ])
    }

    @Test func framesWithoutABackboneAreAClearError() throws {
        let (root, data, _) = try Self.setUp()
        try TestSupport.python(
            """
            import sys
            sys.path.insert(0, sys.argv[2])
            import stf_mar_reference as ref
            from safetensors.numpy import save_file
            p, _ = ref.random_weights(c=8, heads=2, hb=4, wb=4, hp=8, wp=12, m=16, k=19, kl=2, depth=1, seed=5)
            save_file(p, sys.argv[1])
            """, [root + "/heads.safetensors", TestSupport.repositoryRoot + "/Tests/Tools"])
        let infer = try TestSupport.segscope([
            "infer", "--weights", root + "/heads.safetensors", data, "--out", root + "/run",
        ])
        #expect(infer.status == 1)
        #expect(
            infer.stderr.contains("has no backbone") && infer.stderr.split(separator: "\n").count == 1,
            "\(infer.stderr)")
    }
}
