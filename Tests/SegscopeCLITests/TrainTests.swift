import Foundation
import SegFormats
import SegTestSupport
import Testing

/// The paper's stages through the command line, at toy size: synth ->
/// train classifier -> train stf -> memory build -> train mar -> infer.
@Suite struct TrainTests {
    static func synth(_ root: String) throws -> String {
        let synth = try TestSupport.segscope([
            "synth", "--out", root + "/data", "--sequences", "2", "--frames", "3",
            "--size", "64x128", "--feature-dim", "32", "--split", "train",
        ])
        #expect(synth.status == 0, "\(synth.stderr)")
        return root + "/data"
    }

    static func shapes(_ path: String) throws -> [String: [Int]] {
        let file = try SafetensorsFile(path: path)
        return Dictionary(uniqueKeysWithValues: file.tensors.map { ($0.name, $0.shape) })
    }

    /// The whole schedule; the final checkpoint has the release's names and
    /// shapes (compared with the reference script's weights, written from the
    /// spec) and gives three stages in `infer`.
    @Test func stagesChainIntoAModelTheEngineRuns() throws {
        let root = try TestSupport.scratchDirectory()
        let data = try Self.synth(root)
        let common = ["--epochs", "1", "--batch", "2", "--seed", "3"]
        let base = try TestSupport.segscope(
            ["train", "classifier", data, "--out", root + "/base.safetensors"] + common)
        #expect(base.status == 0, "\(base.stderr)")
        #expect(base.stdout.hasPrefix("epoch 1/1  loss "))
        let stf = try TestSupport.segscope(
            [
                "train", "stf", data, "--init", root + "/base.safetensors", "--out", root + "/stf.safetensors",
                "--block", "4x4", "--ffn", "16", "--pe-size", "8x16", "--val", data,
            ] + common)
        #expect(stf.status == 0, "\(stf.stderr)")
        #expect(stf.stdout.contains("val mIoU"))
        let memory = try TestSupport.segscope([
            "memory", "build", data, "--weights", root + "/stf.safetensors", "--kl", "2", "--out", root + "/memory",
        ])
        #expect(memory.status == 0, "\(memory.stderr)")
        let mar = try TestSupport.segscope(
            [
                "train", "mar", data, "--init", root + "/stf.safetensors", "--memory", root + "/memory",
                "--out", root + "/full.safetensors",
            ] + common)
        #expect(mar.status == 0, "\(mar.stderr)")

        let ours = try Self.shapes(root + "/full.safetensors")
        try TestSupport.python(
            """
            import sys, json
            sys.path.insert(0, sys.argv[2])
            import stf_mar_reference as ref
            p, _ = ref.random_weights(c=32, heads=2, hb=4, wb=4, hp=8, wp=16, m=16, k=19, kl=2, depth=1, seed=1)
            json.dump({k: list(v.shape) for k, v in p.items()}, open(sys.argv[1], "w"))
            """, [root + "/reference.json", TestSupport.repositoryRoot + "/Tests/Tools"])
        let reference =
            try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: root + "/reference.json")))
            as! [String: [Int]]
        for (name, shape) in reference
        where name.hasPrefix("STF.") || name.hasPrefix("MAR.") || name.hasPrefix("classifier.") {
            #expect(ours[name] == shape, "\(name)")
        }
        #expect(
            ours.keys.filter { $0.hasPrefix("STF.") || $0.hasPrefix("MAR.") }.count
                == reference.keys.filter { $0.hasPrefix("STF.") || $0.hasPrefix("MAR.") }.count)
        #expect(
            ours["classifier_baseline.weight"] == [19, 32, 1, 1] && ours["classifier_stf.weight"] == [19, 32, 1, 1])

        let infer = try TestSupport.segscope([
            "infer", data, "--weights", root + "/full.safetensors", "--out", root + "/run",
        ])
        #expect(infer.status == 0, "\(infer.stderr)")
        for stage in ["baseline", "stf", "mar"] {
            #expect(FileManager.default.fileExists(atPath: "\(root)/run/pred/\(stage)/synth_000001_000002.png"))
        }
        // Each stage has its own classifier, so the three predictions differ somewhere.
        let predictions = try ["baseline", "stf", "mar"].map {
            try PNG.read(path: "\(root)/run/pred/\($0)/synth_000000_000001.png").bytes!
        }
        #expect(predictions[0] != predictions[1] && predictions[1] != predictions[2])
    }

    /// Two epochs at once, or stopped after one and resumed: the same tensors.
    @Test func resumeEqualsAnUninterruptedRun() throws {
        let root = try TestSupport.scratchDirectory()
        let data = try Self.synth(root)
        let stf = ["--block", "4x4", "--ffn", "16", "--batch", "2", "--seed", "5"]
        #expect(
            try TestSupport.segscope(
                ["train", "stf", data, "--out", root + "/straight.safetensors", "--epochs", "2"] + stf
            ).status == 0)
        #expect(
            try TestSupport.segscope(
                ["train", "stf", data, "--out", root + "/resumed.safetensors", "--epochs", "2", "--stop-after", "1"]
                    + stf
            ).status == 0)
        let resumed = try TestSupport.segscope(
            ["train", "stf", data, "--out", root + "/resumed.safetensors", "--epochs", "2", "--resume"] + stf)
        #expect(resumed.status == 0, "\(resumed.stderr)")
        #expect(resumed.stdout.hasPrefix("epoch 2/2"))
        let a = try SafetensorsFile(path: root + "/straight.safetensors")
        let b = try SafetensorsFile(path: root + "/resumed.safetensors")
        #expect(a.tensors.map(\.name) == b.tensors.map(\.name))
        for tensor in a.tensors { #expect(try a.floats(tensor.name) == b.floats(tensor.name), "\(tensor.name)") }
    }

    /// Ctrl-C mid-run: a clear message, a non-zero status, the last whole
    /// epoch's checkpoint intact, no temporary files, and --resume goes on.
    @Test func interruptLeavesTheLastWholeEpoch() throws {
        let root = try TestSupport.scratchDirectory()
        let data = try Self.synth(root)
        let out = root + "/ckpt/w.safetensors"
        try FileManager.default.createDirectory(atPath: root + "/ckpt", withIntermediateDirectories: true)
        let binary = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent(
            "segscope"
        ).path
        let run = try TestSupport.outcome(
            "/usr/bin/timeout",
            [
                "--preserve-status", "-s", "INT", "8",
                FileManager.default.fileExists(atPath: binary)
                    ? binary : TestSupport.repositoryRoot + "/.build/debug/segscope",
                "train", "stf", data, "--out", out, "--epochs", "100000", "--block", "4x4", "--ffn", "16",
            ])
        #expect(run.status == 1, "\(run.stderr)")
        #expect(run.stderr.contains("segscope: interrupted during epoch"))
        let files = try FileManager.default.contentsOfDirectory(atPath: root + "/ckpt").sorted()
        // A toy epoch takes about a second, so 8 s hold at least one.
        #expect(files == ["w.safetensors", "w.safetensors.state"], "\(files)")
        if !files.isEmpty {
            let done = run.stdout.split(separator: "\n").count
            #expect(
                try SafetensorsFile(path: out).metadata["segscope_history"]?.components(separatedBy: "; ").count == done
            )
            let more = try TestSupport.segscope([
                "train", "stf", data, "--out", out, "--epochs", "100000", "--stop-after", "\(done + 1)",
                "--block", "4x4", "--ffn", "16", "--resume",
            ])
            #expect(more.status == 0 && more.stdout.hasPrefix("epoch \(done + 1)/100000"), "\(more.stderr)")
        }
    }

    @Test func badInputsGiveOneLineErrors() throws {
        let root = try TestSupport.scratchDirectory()
        let data = try Self.synth(root)
        let noMemory = try TestSupport.segscope(["train", "mar", data, "--out", root + "/m.safetensors"])
        #expect(noMemory.status != 0 && noMemory.stderr.contains("needs --memory"))
        let badOut = try TestSupport.segscope(["train", "classifier", data, "--out", root + "/missing/w.safetensors"])
        #expect(
            badOut.status == 1 && badOut.stderr.contains("the folder \(root)/missing does not exist"),
            "\(badOut.stderr)")
        let badInit = try TestSupport.segscope([
            "train", "stf", data, "--init", root + "/missing.safetensors", "--out", root + "/s.safetensors",
        ])
        #expect(
            badInit.status == 1 && badInit.stderr.hasPrefix("segscope: ")
                && badInit.stderr.contains("missing.safetensors"))
        let badBlock = try TestSupport.segscope([
            "train", "stf", data, "--block", "3x3", "--out", root + "/s.safetensors",
        ])
        #expect(badBlock.status == 1 && badBlock.stderr.contains("not a multiple of the block size 3x3"))
        let fixture = TestSupport.repositoryRoot + "/Tests/SegEngineTests/Fixtures/small/weights.safetensors"
        let wrongInit = try TestSupport.segscope([
            "train", "stf", data, "--init", fixture, "--block", "4x4", "--out", root + "/s.safetensors",
        ])
        #expect(
            wrongInit.status == 1 && wrongInit.stderr.contains("its classifier is for 5 classes"), "\(wrongInit.stderr)"
        )
        #expect(!FileManager.default.fileExists(atPath: root + "/s.safetensors"))
    }
}
