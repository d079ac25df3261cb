import Foundation
import SegEngine
import SegFormats
import SegTestSupport
import Testing

/// The real MAR memory of the release's Cityscapes model (C = 512, 19 x 10
/// keys) loaded through --memory into a MAR with random weights, run on
/// random features, and checked against the NumPy reference on the same inputs.
@Suite struct MemoryTests {
    @Test func realCityscapesMemoryRunsInMAR() throws {
        let shared = TestSupport.cityscapesMemory
        let root = try TestSupport.scratchDirectory()
        try TestSupport.python(
            """
            import sys
            import numpy as np
            from safetensors.numpy import save_file
            sys.path.insert(0, sys.argv[3])
            import stf_mar_reference as ref
            root, shared = sys.argv[1], sys.argv[2]
            rng = np.random.default_rng(5)
            c, dh, k, h, w = 512, 256, 19, 8, 16
            r = lambda *s: (rng.standard_normal(s) / np.sqrt(s[-1])).astype(np.float32)
            a = "MAR.HEdecoder.attn."
            p = {}
            for which in "qkv":
                p[a + "to_%s.0.weight" % which] = r(c, c)
                p[a + "to_%s.1.weight" % which] = r(dh, c)
                p[a + "to_%s.2.weight" % which] = r(dh, dh)
            p[a + "to_out.0.weight"] = r(c, dh); p[a + "to_out.0.bias"] = r(c)
            hd = "MAR.HEdecoder."
            p[hd + "linear1.weight"] = r(dh, c); p[hd + "linear1.bias"] = r(dh)
            p[hd + "linear2.weight"] = r(c, dh); p[hd + "linear2.bias"] = r(c)
            for n in ("norm1", "norm2"):
                p[hd + n + ".weight"] = np.ones(c, np.float32); p[hd + n + ".bias"] = np.zeros(c, np.float32)
            p["classifier.weight"] = r(k, c); p["classifier.bias"] = r(k)
            save_file(p, root + "/mar.safetensors")
            key = np.load(shared + "/key.npy"); value = np.load(shared + "/value.npy")
            full = {n: v.astype(np.float64) for n, v in p.items()}
            full["MAR.memory_key"] = key[None].astype(np.float64)
            full["MAR.memory_value"] = np.repeat(value, 10, axis=0)[None].astype(np.float64)
            g = rng.standard_normal((c, h, w)).astype(np.float32)
            np.save(root + "/g.npy", g)
            np.save(root + "/mar.npy", ref.mar(full, g.astype(np.float64)).astype(np.float32))
            """, [root, shared, TestSupport.repositoryRoot + "/Tests/Tools"])
        let model = try Model.load(path: root + "/mar.safetensors", memory: shared)
        let mar = try #require(model.mar)
        #expect(mar.memoryRows == 190 && mar.channels == 512 && mar.width == 256)
        let g = try Npy.read(path: root + "/g.npy").floats()
        // Without STF, MAR refines the current frame's features directly (the paper's MAR-only ablation).
        let out = try model.forward(previous: g, current: g, next: g, height: 8, width: 16)
        let expected = try Npy.read(path: root + "/mar.npy").floats()
        let refined = try #require(out.mar)
        let difference = zip(refined, expected).reduce(Float(0)) { max($0, abs($1.0 - $1.1)) }
        #expect(difference < 1e-3, "C = 512 tolerance")
    }

    @Test func missingMemoryIsReported() throws {
        let root = try TestSupport.scratchDirectory()
        var writer = SafetensorsWriter()
        writer.add("classifier.weight", [Float](repeating: 0, count: 8), shape: [2, 4])
        writer.add("classifier.bias", [Float](repeating: 0, count: 2), shape: [2])
        writer.add("MAR.HEdecoder.norm1.weight", [Float](repeating: 1, count: 4), shape: [4])
        try writer.write(to: root + "/w.safetensors")
        do {
            _ = try Model.load(path: root + "/w.safetensors")
            Issue.record("expected an error")
        } catch let error as ModelError {
            #expect(error.description.contains("missing tensor(s)") && error.description.contains("to_q.0.weight"))
        }
    }

    @Test func headsMustDivideChannels() throws {
        let root = GoldenTests.fixture("small")
        #expect(throws: ModelError.self) { _ = try Model.load(path: root + "/weights.safetensors", heads: 3) }
    }

    @Test func blockMustDivideTheFeatureSize() throws {
        let model = try Model.load(
            path: GoldenTests.fixture("small") + "/weights.safetensors", block: BlockSize(height: 3, width: 4))
        let x = [Float](repeating: 0, count: 16 * 8 * 12)
        #expect(throws: ModelError.geometry("feature size 8x12 is not a multiple of the block size 3x4 (use --block)"))
        {
            _ = try model.forward(previous: x, current: x, next: x, height: 8, width: 12)
        }
    }
}
