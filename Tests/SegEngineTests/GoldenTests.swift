import Foundation
import SegEngine
import SegFormats
import SegTestSupport
import Testing

/// The engine against the independent NumPy implementation of the spec
/// (Tests/Tools/stf_mar_reference.py, float64). Tolerance: 1e-4 max abs.
@Suite struct GoldenTests {
    static func fixture(_ name: String) -> String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/\(name)").path
    }

    static func maxAbsDifference(_ a: [Float], _ b: [Float]) -> Float {
        precondition(a.count == b.count, "sizes \(a.count) and \(b.count)")
        return zip(a, b).reduce(0) { max($0, abs($1.0 - $1.1)) }
    }

    @Test(arguments: ["small", "deep"])
    func forwardMatchesNumpyReference(name: String) throws {
        let root = Self.fixture(name)
        let model = try Model.load(path: root + "/weights.safetensors")
        #expect(model.unusedTensors == ["pspnet.backbone.unused"])
        let cur = try Npy.read(path: root + "/cur.npy")
        let (h, w) = (cur.shape[1], cur.shape[2])
        let out = try model.forward(
            previous: try Npy.read(path: root + "/prev.npy").floats(), current: cur.floats(),
            next: try Npy.read(path: root + "/next.npy").floats(), height: h, width: w)
        let expected = { (file: String) in try Npy.read(path: root + "/\(file).npy").floats() }
        #expect(Self.maxAbsDifference(try #require(out.stf), try expected("stf")) < 1e-4)
        #expect(Self.maxAbsDifference(try #require(out.mar), try expected("mar")) < 1e-4)
        #expect(Self.maxAbsDifference(out.baselineLogits, try expected("logits_baseline")) < 1e-4)
        #expect(Self.maxAbsDifference(try #require(out.stfLogits), try expected("logits_stf")) < 1e-4)
        #expect(Self.maxAbsDifference(try #require(out.marLogits), try expected("logits_mar")) < 1e-4)
    }

    /// STF and MAR run alone (as segscope-bench engine-child runs them) give
    /// the forward pass's features, and wrong sizes are errors, not traps.
    @Test func stfAndMARAloneMatchTheForwardPass() throws {
        let root = Self.fixture("small")
        let model = try Model.load(path: root + "/weights.safetensors")
        let stf = try #require(model.stf)
        let mar = try #require(model.mar)
        let cur = try Npy.read(path: root + "/cur.npy")
        let (c, h, w) = (cur.shape[0], cur.shape[1], cur.shape[2])
        let frames = try ["prev", "cur", "next"].map { try Npy.read(path: root + "/\($0).npy").floats() }
        let fused = try stf.fusedTokens(previous: frames[0], current: frames[1], next: frames[2], height: h, width: w)
        let refined = try mar.refinedTokens(fused, tokens: h * w)
        let expected = { (file: String) in try Npy.read(path: root + "/\(file).npy").floats() }
        // The fixtures are channel-first [C, H*W]; the tokens are [H*W, C].
        let channelFirst = { (tokens: [Float]) in
            (0..<(c * h * w)).map { tokens[($0 % (h * w)) * c + $0 / (h * w)] }
        }
        #expect(Self.maxAbsDifference(channelFirst(fused), try expected("stf")) < 1e-4)
        #expect(Self.maxAbsDifference(channelFirst(refined), try expected("mar")) < 1e-4)
        #expect(throws: ModelError.self) {
            try stf.fusedTokens(previous: frames[0], current: frames[1], next: [], height: h, width: w)
        }
        #expect(throws: ModelError.self) {
            try stf.fusedTokens(previous: frames[0], current: frames[1], next: frames[2], height: h + 1, width: w)
        }
        #expect(throws: ModelError.self) { try mar.refinedTokens(fused, tokens: h * w + 1) }
        #expect(throws: ModelError.self) { try mar.refinedTokens([], tokens: 0) }
    }
}

/// STF and MAR at C = 512 (the release's width) on a small frame, against the
/// NumPy reference computed here on the same random weights. Tolerance 1e-3.
@Suite struct WideGoldenTests {
    @Test func releaseWidthMatchesNumpyReference() throws {
        let root = try TestSupport.scratchDirectory()
        try TestSupport.python(
            """
            import sys
            sys.path.insert(0, sys.argv[2])
            import numpy as np, stf_mar_reference as ref
            from safetensors.numpy import save_file
            root = sys.argv[1]
            p, rng = ref.random_weights(c=512, heads=2, hb=16, wb=16, hp=16, wp=24, m=256, k=19, kl=10, depth=1, seed=21)
            save_file(p, root + "/w.safetensors", metadata={"heads": "2", "block_size": "16,16"})
            f = [rng.standard_normal((512, 32, 32)).astype(np.float32) for _ in range(3)]
            for n, x in zip(("prev", "cur", "next"), f):
                np.save(root + "/%s.npy" % n, x)
            p64 = {k: v.astype(np.float64) for k, v in p.items()}
            g = ref.stf(p64, *[x.astype(np.float64) for x in f], 2, 16, 16, 1)
            np.save(root + "/stf.npy", g.astype(np.float32))
            np.save(root + "/mar.npy", ref.mar(p64, g).astype(np.float32))
            """, [root, TestSupport.repositoryRoot + "/Tests/Tools"])
        let model = try Model.load(path: root + "/w.safetensors")
        let load = { (name: String) in try Npy.read(path: "\(root)/\(name).npy").floats() }
        let out = try model.forward(
            previous: try load("prev"), current: try load("cur"), next: try load("next"), height: 32, width: 32)
        #expect(GoldenTests.maxAbsDifference(try #require(out.stf), try load("stf")) < 1e-3)
        #expect(GoldenTests.maxAbsDifference(try #require(out.mar), try load("mar")) < 1e-3)
    }
}
