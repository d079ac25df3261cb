import Foundation
import SegFormats
import SegTestSupport
import Testing

@Suite struct MemoryCommandTests {
    @Test func inspectOfTheRealCityscapesMemory() throws {
        let shared = TestSupport.cityscapesMemory
        let text = try TestSupport.segscope(["memory", "inspect", shared])
        #expect(text.status == 0, "\(text.stderr)")
        #expect(text.stdout.contains("19 classes x 10 keys") && text.stdout.contains("85/190 (44.7%)"))
        let json = try TestSupport.segscope(["memory", "inspect", shared, "--format", "json"])
        let object = try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as! [String: Any]
        #expect(object["classes"] as? Int == 19 && object["keys_per_class"] as? Int == 10)
        #expect(object["nearest_own_total"] as? Int == 85 && object["keys"] as? Int == 190)
        #expect((object["nearest_own"] as! [String: Int])["traffic light"] == 10)
    }

    /// Build a memory with segscope, then run forward with it given as
    /// --memory DIR and merged into the weights: the outputs are identical.
    @Test func builtMemoryLoadsBothWays() throws {
        let (data, weights, _) = try InferTests.setUp()
        let root = try TestSupport.scratchDirectory()
        let build = try TestSupport.segscope([
            "memory", "build", "--weights", weights, data, "--kl", "4", "--kh", "6", "--out", root + "/memory",
        ])
        #expect(build.status == 0, "\(build.stderr)")
        let key = try Npy.read(path: root + "/memory/key.npy")
        let value = try Npy.read(path: root + "/memory/value.npy")
        #expect(key.shape == [19 * 4, 32] && value.shape == [19, 32])
        try TestSupport.python(
            """
            import sys
            from safetensors.numpy import load_file, save_file
            w = load_file(sys.argv[1]); m = load_file(sys.argv[2])
            del w["MAR.memory_key"], w["MAR.memory_value"]
            save_file(w, sys.argv[3], metadata={"heads": "2", "block_size": "4,4"})
            w.update(m)
            save_file(w, sys.argv[4], metadata={"heads": "2", "block_size": "4,4"})
            """,
            [weights, root + "/memory/memory.safetensors", root + "/without.safetensors", root + "/merged.safetensors"])
        let features = data + "/features/val/synth/"
        let frames = ["synth_000000_000000", "synth_000000_000001", "synth_000000_000002"].map {
            features + $0 + ".npy"
        }
        let viaFolder = try TestSupport.segscope(
            [
                "forward", "--weights", root + "/without.safetensors", "--memory", root + "/memory",
                "--frames",
            ] + frames + ["--out", root + "/a"])
        let viaWeights = try TestSupport.segscope(
            ["forward", "--weights", root + "/merged.safetensors", "--frames"] + frames + ["--out", root + "/b"])
        #expect(viaFolder.status == 0 && viaWeights.status == 0, "\(viaFolder.stderr) \(viaWeights.stderr)")
        for name in ["mar", "logits_mar"] {
            #expect(
                try Npy.read(path: "\(root)/a/\(name).npy").floats()
                    == (try Npy.read(path: "\(root)/b/\(name).npy").floats()), "\(name)")
        }
        let without = try TestSupport.segscope(
            ["forward", "--weights", root + "/without.safetensors", "--frames"] + frames + ["--out", root + "/c"])
        #expect(without.status != 0 && without.stderr.contains("MAR.memory_key"))
    }

    @Test func releaseSamplerGivesAnotherMemoryOnFewPixels() throws {
        let (data, weights, _) = try InferTests.setUp()
        let root = try TestSupport.scratchDirectory()
        for (folder, extra) in [("plain", [String]()), ("release", ["--release-sampler"])] {
            let result = try TestSupport.segscope(
                ["memory", "build", "--weights", weights, data, "--kl", "8", "--kh", "8", "--out", root + "/" + folder]
                    + extra)
            #expect(result.status == 0, "\(result.stderr)")
        }
        #expect(
            try Npy.read(path: root + "/plain/value.npy").floats()
                != (try Npy.read(path: root + "/release/value.npy").floats()))
    }
}
