import Foundation
import SegDataset
import SegEval
import SegFormats
import SegLabels
import SegTestSupport
import Testing

extension VSPWData {
    static func dataset(_ root: String) throws -> Dataset {
        var options = DatasetOptions()
        options.path = root
        try options.addMethods(predictions: ["a=\(root)/pred/a", "b=\(root)/pred/b"], confidences: [])
        return try DatasetLocator.open(options)
    }
}

@Suite struct VSPWMetricsTests {
    @Test func layoutIsDiscovered() throws {
        let dataset = try VSPWData.dataset(try VSPWData.make())
        #expect(dataset.layout == .vspw && dataset.space.name == "vspw" && dataset.space.count == 124)
        #expect(dataset.sequences.map(\.name) == ["v_1", "v_2", "v_3"])
        #expect(dataset.sequences.map(\.frames.count) == [21, 13, 6])
        let first = dataset.sequences[0].frames[0]
        #expect(first.key == "v_1/00000001" && first.image?.hasSuffix(".jpg") == true && first.predictions.count == 2)
        #expect(dataset.space.classNames.first == "others" && dataset.space.classNames.last == "instrument")
    }

    /// mVC8, mVC16 (VSPW's and strict), the VSPW-protocol mIoU and flicker
    /// against a literal numpy restatement of VC_perclip.py's get_common, of
    /// utils.Evaluator, and of the flicker definition, on the same folders.
    @Test func videoConsistencyProtocolAndFlickerMatchTheReference() throws {
        let root = try VSPWData.make()
        var options = EvaluationOptions()
        options.evaluationProtocol = .vspw
        options.boundaryRatio = nil
        let evaluation = try Evaluator.run(try VSPWData.dataset(root), options: options)
        let reference = try TestSupport.python(
            """
            import json, os, sys
            import numpy as np
            from PIL import Image
            root = sys.argv[1]
            videos = [l.strip() for l in open(root + "/val.txt")]
            def get_common(list_, predlist, clip_num, h, w):   # VC_perclip.py
                accs = []
                for i in range(len(list_) - clip_num):
                    global_common = np.ones((h, w)); predglobal_common = np.ones((h, w))
                    for j in range(1, clip_num):
                        global_common = np.logical_and(global_common, list_[i] == list_[i + j])
                        predglobal_common = np.logical_and(predglobal_common, predlist[i] == predlist[i + j])
                    pred = predglobal_common * global_common
                    with np.errstate(invalid="ignore", divide="ignore"): accs.append(pred.sum() / global_common.sum())
                return accs
            def strict(list_, predlist, clip_num):
                accs = []
                for i in range(len(list_) - clip_num):
                    g = list_[i] != 255; p = predlist[i] == list_[i]
                    for j in range(1, clip_num):
                        g &= list_[i] == list_[i + j]; p &= predlist[i] == predlist[i + j]
                    with np.errstate(invalid="ignore", divide="ignore"): accs.append((g & p).sum() / g.sum())
                return accs
            out = {}
            for method in ("a", "b"):
                cm = np.zeros(124 * 124, np.int64)
                result = {"vc": {}}
                changed = total = 0
                frames = {}
                for video in videos:
                    names = sorted(os.listdir(root + "/data/%s/mask" % video))
                    g = [np.array(Image.open(root + "/data/%s/mask/%s" % (video, n))) for n in names]
                    p = [np.array(Image.open(root + "/pred/%s/%s/%s" % (method, video, n))) for n in names]
                    frames[video] = (g, p)
                    for a, b in zip(g, p):   # utils.Evaluator._generate_matrix
                        mask = (a >= 0) & (a < 124)
                        cm += np.bincount(124 * a[mask].astype(int) + b[mask], minlength=124 ** 2)
                    for x, y in zip(p, p[1:]):
                        changed += int((x != y).sum()); total += x.size
                for n in (8, 16):
                    accs, saccs = [], []
                    for video, (g, p) in frames.items():
                        if len(g) <= n: continue
                        h, w = g[0].shape
                        accs += get_common(g, p, n, h, w); saccs += strict(g, p, n)
                    result["vc"][str(n)] = [float(np.nanmean(accs)) if accs else None, float(np.nanmean(saccs)) if saccs else None]
                m = cm.reshape(124, 124).astype(float)
                with np.errstate(invalid="ignore", divide="ignore"):
                    iou = np.diag(m) / (m.sum(1) + m.sum(0) - np.diag(m))
                isval = m.sum(1) > 0
                result["miou"] = float(np.nansum(iou * isval) / isval.sum())
                result["flicker"] = changed / total
                out[method] = result
            print(json.dumps(out))
            """, [root])
        let expected = try JSONSerialization.jsonObject(with: Data(reference.utf8)) as! [String: [String: Any]]
        for result in evaluation.results {
            let e = expected[result.name]!
            let vc = e["vc"] as! [String: [Double?]]
            let t = result.counts.temporal
            #expect(abs(t.meanVC(8, strict: false) - vc["8"]![0]!) < 1e-9, "\(result.name) mVC8")
            #expect(abs(t.meanVC(8, strict: true) - vc["8"]![1]!) < 1e-9, "\(result.name) mVC8 strict")
            #expect(abs(t.meanVC(16, strict: false) - vc["16"]![0]!) < 1e-9, "\(result.name) mVC16")
            #expect(abs(t.meanVC(16, strict: true) - vc["16"]![1]!) < 1e-9, "\(result.name) mVC16 strict")
            let expectedWindows = (21 - 8) + (13 - 8)
            #expect(t.windows[8]?.count == expectedWindows, "F-n windows a video, videos of <= n frames skipped")
            #expect(t.windows[16]?.count == 21 - 16)
            #expect(
                abs(Metrics.meanIoU(result.counts.confusion, protocol: .vspw) - (e["miou"] as! Double)) < 1e-9,
                "\(result.name) VSPW mIoU")
            #expect(abs(t.flicker - (e["flicker"] as! Double)) < 1e-12, "\(result.name) flicker")
        }
        // The protocols differ where a prediction names a class the GT lacks:
        // GT 0 and 1 only, class 2 predicted on 5 pixels of class 1.
        var m = ConfusionMatrix(classes: 3)
        m.add(
            groundTruth: LabelMap(
                width: 20, height: 1, ids: [UInt8](repeating: 0, count: 10) + [UInt8](repeating: 1, count: 10)),
            prediction: LabelMap(
                width: 20, height: 1,
                ids: [UInt8](repeating: 0, count: 10) + [UInt8](repeating: 1, count: 5)
                    + [UInt8](repeating: 2, count: 5)))
        #expect(Metrics.meanIoU(m, protocol: .vspw) == 0.75, "(1 + 0.5) / 2: classes with GT pixels")
        #expect(Metrics.meanIoU(m, protocol: .labelSpace) == 0.5, "(1 + 0.5 + 0) / 3: also the predicted-only class")
    }

    /// Boundary IoU per class against boundary-iou-api's mask_to_boundary
    /// (cv2 padding and erosion) applied per image and class, accumulated.
    @Test func boundaryIoUMatchesTheOfficialMaskToBoundary() throws {
        let root = try VSPWData.make()
        var options = EvaluationOptions()
        options.temporal = false
        let evaluation = try Evaluator.run(try VSPWData.dataset(root), options: options)
        let reference = try TestSupport.python(
            """
            import json, os, sys
            import cv2
            import numpy as np
            from PIL import Image
            root = sys.argv[1]
            def mask_to_boundary(mask, dilation_ratio=0.02):   # boundary_iou/utils/boundary_utils.py
                h, w = mask.shape
                dilation = int(round(dilation_ratio * np.sqrt(h ** 2 + w ** 2)))
                if dilation < 1: dilation = 1
                new_mask = cv2.copyMakeBorder(mask, 1, 1, 1, 1, cv2.BORDER_CONSTANT, value=0)
                eroded = cv2.erode(new_mask, np.ones((3, 3), dtype=np.uint8), iterations=dilation)
                return mask - eroded[1 : h + 1, 1 : w + 1]
            out = {}
            for method in ("a", "b"):
                inter = np.zeros(124, np.int64); union = np.zeros(124, np.int64)
                for video in [l.strip() for l in open(root + "/val.txt")]:
                    for n in sorted(os.listdir(root + "/data/%s/mask" % video)):
                        gt = np.array(Image.open(root + "/data/%s/mask/%s" % (video, n)))
                        pred = np.array(Image.open(root + "/pred/%s/%s/%s" % (method, video, n)))
                        valid = gt < 124
                        for k in range(124):
                            g = (gt == k).astype(np.uint8); p = ((pred == k) & valid).astype(np.uint8)
                            if not g.any() and not p.any(): continue
                            bg, bp = mask_to_boundary(g), mask_to_boundary(p)
                            inter[k] += int((bg & bp).sum()); union[k] += int((bg | bp).sum())
                out[method] = [inter.tolist(), union.tolist()]
            print(json.dumps(out))
            """, [root])
        let expected = try JSONSerialization.jsonObject(with: Data(reference.utf8)) as! [String: [[Int]]]
        for result in evaluation.results {
            #expect(
                result.counts.boundaryIntersections.map(Int.init) == expected[result.name]![0],
                "\(result.name) intersections")
            #expect(result.counts.boundaryUnions.map(Int.init) == expected[result.name]![1], "\(result.name) unions")
        }
        #expect(BoundaryIoU.dilation(width: 64, height: 40, ratio: 0.02) == 2)
        #expect(BoundaryIoU.dilation(width: 2048, height: 1024, ratio: 0.02) == 46)
    }

    /// A shard of each half, merged, gives the full evaluation's temporal and boundary figures.
    @Test func shardsCarryTheNewFigures() throws {
        let root = try VSPWData.make()
        let dataset = try VSPWData.dataset(root)
        let whole = try Evaluator.run(dataset)
        let paths = try (0..<2).map { i -> String in
            let path = root + "/shard\(i).safetensors"
            try Shards.write(try Evaluator.run(dataset.restricted(to: Shard(index: i, count: 2)!)), to: path)
            return path
        }
        let merged = try Shards.merge(try paths.map { ($0, try Shards.read(path: $0)) })
        for (a, b) in zip(whole.results, merged.results) {
            #expect(
                a.counts.boundaryIntersections == b.counts.boundaryIntersections
                    && a.counts.boundaryUnions == b.counts.boundaryUnions)
            #expect(
                a.counts.temporal.changed == b.counts.temporal.changed
                    && a.counts.temporal.pixels == b.counts.temporal.pixels)
            for n in [8, 16] {
                #expect(a.counts.temporal.meanVC(n, strict: false) == b.counts.temporal.meanVC(n, strict: false))
            }
        }
        let json = Report(merged).json()
        #expect(json["methods"]?["a"]?["vc"]?["8"]?["vspw"]?.number != nil)
        #expect(
            json["methods"]?["a"]?["boundary_miou"]?.number != nil && json["methods"]?["a"]?["band_miou"]?.number != nil
        )
        #expect(json["methods"]?["a"]?["flicker"]?["overall"]?.number != nil)
    }
}
