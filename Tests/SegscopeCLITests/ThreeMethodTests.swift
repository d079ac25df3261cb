import Foundation
import SegTestSupport
import Testing

/// A Cityscapes-layout dataset with labelIds GT and three methods
/// (baseline, stf, mar) with confidences, made here from the shipped
/// sample's ground truth: errors and low confidence near boundaries, fewer
/// for stf and fewer still for mar.
@Suite struct ThreeMethodTests {
    static func make() throws -> String {
        let root = try TestSupport.scratchDirectory()
        try TestSupport.python(
            """
            import glob, os, shutil, sys
            import numpy as np
            from PIL import Image
            src, root = sys.argv[1], sys.argv[2]
            rng = np.random.default_rng(4)
            for f in sorted(glob.glob(src + "/street/gtFine/val/synth/*_labelIds.png"))[:4]:
                key = os.path.basename(f).split("_gtFine")[0]
                os.makedirs(root + "/gtFine/val/synth", exist_ok=True)
                os.makedirs(root + "/leftImg8bit_sequence/val/synth", exist_ok=True)
                shutil.copy(f, root + "/gtFine/val/synth/")
                shutil.copy(src + "/street/leftImg8bit_sequence/val/synth/%s_leftImg8bit.jpg" % key, root + "/leftImg8bit_sequence/val/synth/")
                train = np.array(Image.open(f.replace("labelIds", "labelTrainIds")))
                edge = np.zeros(train.shape, bool)
                edge[:, 1:] |= train[:, 1:] != train[:, :-1]
                edge[1:, :] |= train[1:, :] != train[:-1, :]
                for _ in range(2):
                    e = edge.copy(); e[:, 1:] |= edge[:, :-1]; e[:, :-1] |= edge[:, 1:]; e[1:] |= edge[:-1]; e[:-1] |= edge[1:]; edge = e
                for method, p_err, c_edge in (("baseline", 0.5, 0.45), ("stf", 0.35, 0.55), ("mar", 0.2, 0.7)):
                    pred = train.copy()
                    flip = edge & (rng.random(train.shape) < p_err)
                    pred[flip] = np.roll(train, 3, axis=1)[flip]
                    conf = np.where(edge, c_edge + 0.1 * rng.random(train.shape), 0.95)
                    for sub, img in (("pred", Image.fromarray(pred)), ("conf", Image.fromarray((conf * 65535).astype(np.uint16)))):
                        os.makedirs("%s/%s/%s" % (root, sub, method), exist_ok=True)
                        img.save("%s/%s/%s/%s.png" % (root, sub, method, key))
            """, [TestSupport.repositoryRoot + "/samples", root])
        return root
    }

    static func render(_ root: String, keys: String, layout: String = "grid") throws -> TestSupport.Outcome {
        try TestSupport.segscope(
            [
                "render", root, "--pred", "baseline=\(root)/pred/baseline", "--pred", "stf=\(root)/pred/stf",
                "--pred", "mar=\(root)/pred/mar", "--conf", "baseline=\(root)/conf/baseline",
                "--conf", "stf=\(root)/conf/stf", "--conf", "mar=\(root)/conf/mar", "--gt-encoding", "labelIds",
                "--frame", "2", "--cols", "200", "--rows", "60", "--layout", layout, "--keys", keys, "--ansi",
            ],
            environment: ["NO_COLOR": "", "TERM": "xterm-256color"])
    }

    @Test func everyModeWorksOnLabelIdsWithThreeMethods() throws {
        let root = try Self.make()
        let classes = try Self.render(root, keys: "")
        #expect(classes.status == 0, "\(classes.stderr)")
        for title in ["frame", "ground truth", "baseline", "stf", "mar"] { #expect(classes.stdout.contains(title)) }
        #expect(classes.stdout.contains("mIoU"))

        let confidence = try Self.render(root, keys: "c")
        let up = try #require(confidence.stdout.range(of: #"↑([\d,]+) ↓([\d,]+)"#, options: .regularExpression))
        #expect(confidence.stdout.contains("Δconf stf→mar"))
        #expect(!confidence.stdout[up].hasPrefix("↑0 "), "mar is more confident than stf near boundaries")

        let flips = try Self.render(root, keys: "f")
        #expect(flips.stdout.contains("flips baseline→mar"))
        #expect(flips.stdout.range(of: #"fixed [1-9][\d,]* broken [\d,]+"#, options: .regularExpression) != nil)

        // s cycles class → each method → Δ (three methods: four presses to Δ).
        let iou = try Self.render(root, keys: "i s s s s", layout: "single")
        #expect(iou.stdout.contains("IoU % · this frame · sort Δ ↓"))
        let sequence = try Self.render(root, keys: "i u")
        #expect(sequence.stdout.contains("IoU % · sequence"))

        let inspect = try Self.render(root, keys: "I")
        #expect(
            inspect.stdout.range(
                of: #"GT \w+.*baseline \w+ 0\.\d\d.*Δconf [+-]\d\.\d\d.*boundary \d+px"#, options: .regularExpression)
                != nil)
    }

    @Test func pngFigureHasEveryPane() throws {
        let root = try Self.make()
        let out = root + "/figure.png"
        let result = try TestSupport.segscope([
            "render", root, "--pred", "baseline=\(root)/pred/baseline", "--pred", "stf=\(root)/pred/stf",
            "--pred", "mar=\(root)/pred/mar", "--frame", "1", "--png", out,
        ])
        #expect(result.status == 0, "\(result.stderr)")
        let size = try TestSupport.python(
            "from PIL import Image; import sys; im = Image.open(sys.argv[1]); print(im.size[0], im.size[1])", [out])
        // 5 panes of 512x256 in 3 columns: 2 rows, under a line with the frame
        // key (30 px) and over the legend (30 px a row of 4 entries).
        let wh = size.split(separator: " ").map { Int($0.trimmingCharacters(in: .whitespacesAndNewlines))! }
        #expect(wh[0] == 3 * 512 + 4 * 8)
        let panes = 8 + 30 + 2 * (256 + 30 + 8)
        #expect(wh[1] > panes + 8 && (wh[1] - panes - 8) % 30 == 0, "\(wh)")
    }
}
