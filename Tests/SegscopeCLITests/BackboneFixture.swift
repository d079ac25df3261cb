import Foundation
import SegTestSupport
import Testing

/// A synthetic street without features and weights whose backbone is the committed r18 fixture, with random STF
/// and MAR for 19 classes (C=8, 2 heads, 4x4 blocks): for the commands that run frames through the backbone.
enum BackboneFixture {
    /// `sequences` x 3 frames of 64x96 in ROOT/data; the weights are ROOT/w.safetensors.
    static func make(sequences: Int = 1) throws -> (root: String, data: String, weights: String) {
        let root = try TestSupport.scratchDirectory()
        let synth = try TestSupport.segscope([
            "synth", "--out", root + "/data", "--sequences", String(sequences), "--frames", "3",
            "--size", "64x96", "--no-features", "--split", "val",
        ])
        #expect(synth.status == 0, "\(synth.stderr)")
        try TestSupport.python(
            """
            import sys
            sys.path.insert(0, sys.argv[3])
            import stf_mar_reference as ref
            from safetensors.numpy import load_file, save_file
            backbone = {k: v for k, v in load_file(sys.argv[2]).items() if not k.startswith("decode_head.conv_seg")}
            heads, _ = ref.random_weights(c=8, heads=2, hb=4, wb=4, hp=8, wp=12, m=16, k=19, kl=2, depth=1, seed=5)
            backbone.update(heads)
            save_file(backbone, sys.argv[1], metadata={"heads": "2", "block_size": "4,4"})
            """,
            [
                root + "/w.safetensors",
                TestSupport.repositoryRoot + "/Tests/SegEngineTests/Fixtures/pspnet_r18/weights.safetensors",
                TestSupport.repositoryRoot + "/Tests/Tools",
            ])
        return (root, root + "/data", root + "/w.safetensors")
    }
}
