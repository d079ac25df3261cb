import Foundation

/// A VSPW-layout dataset made here: videos of 21, 13 and 6 frames (one
/// shorter than 8 and 16, one between), masks with mostly stable regions,
/// some flicker and void, JPEG frames, predictions of two methods.
public enum VSPWData {
    public static func make() throws -> String {
        let root = try TestSupport.scratchDirectory()
        _ = try TestSupport.python(
            """
            import os, sys
            import numpy as np
            from PIL import Image
            root = sys.argv[1]
            rng = np.random.default_rng(11)
            videos = {"v_1": 21, "v_2": 13, "v_3": 6}
            open(root + "/val.txt", "w").write("".join(v + "\\n" for v in videos))
            for video, frames in videos.items():
                base = rng.integers(0, 124, (6, 10)).repeat(8, 0).repeat(8, 1).astype(np.uint8)[:40, :64]
                for f in range(frames):
                    mask = base.copy()
                    moving = rng.random(mask.shape) < 0.03
                    mask[moving] = rng.integers(0, 124, moving.sum())
                    mask[rng.random(mask.shape) < 0.02] = 255
                    name = "%08d" % (f * 3 + 1)
                    for sub in ("origin", "mask"):
                        os.makedirs("%s/data/%s/%s" % (root, video, sub), exist_ok=True)
                    Image.fromarray(mask).save("%s/data/%s/mask/%s.png" % (root, video, name))
                    Image.fromarray(np.stack([mask] * 3, -1)).save("%s/data/%s/origin/%s.jpg" % (root, video, name), quality=90)
                    for method, noise in (("a", 0.08), ("b", 0.02)):
                        pred = np.where(mask == 255, base, mask).astype(np.uint8)
                        flip = rng.random(mask.shape) < noise
                        pred[flip] = rng.integers(0, 124, flip.sum())
                        os.makedirs("%s/pred/%s/%s" % (root, method, video), exist_ok=True)
                        Image.fromarray(pred).save("%s/pred/%s/%s/%s.png" % (root, method, video, name))
            """, [root])
        return root
    }
}
