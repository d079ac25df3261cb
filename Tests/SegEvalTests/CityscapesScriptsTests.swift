import Foundation
import SegDataset
import SegEval
import SegFormats
import SegLabels
import SegTestSupport
import Testing

/// Builds a Cityscapes-layout folder with labelIds GT and two methods'
/// labelIds predictions; both hold void and non-evaluated ids.
enum EvalData {
    static func make(frames: Int = 6, width: Int = 96, height: Int = 48, seed: Int = 3) throws -> String {
        let root = try TestSupport.scratchDirectory()
        try TestSupport.python(
            """
            import os, sys
            import numpy as np
            from PIL import Image
            root, frames, w, h, seed = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
            rng = np.random.default_rng(seed)
            ids = np.arange(34)  # every labelId: evaluated, void and non-evaluated ones
            for f in range(frames):
                key = "ulm_%06d_%06d" % (f // 3, 19 + f % 3)
                gt = rng.choice(ids, size=(h // 8, w // 8)).repeat(8, 0).repeat(8, 1).astype(np.uint8)
                os.makedirs(root + "/gtFine/val/ulm", exist_ok=True)
                Image.fromarray(gt).save(root + "/gtFine/val/ulm/%s_gtFine_labelIds.png" % key)
                for method, noise in (("a", 0.3), ("b", 0.15)):
                    pred = gt.copy()
                    mask = rng.random(gt.shape) < noise
                    pred[mask] = rng.choice(ids, size=mask.sum())
                    os.makedirs(root + "/pred/" + method, exist_ok=True)
                    Image.fromarray(pred).save(root + "/pred/%s/%s_pred.png" % (method, key))
            """, [root, String(frames), String(width), String(height), String(seed)])
        return root
    }

    static func dataset(_ root: String, gt: String? = nil) throws -> Dataset {
        var options = DatasetOptions()
        options.groundTruth = gt ?? root + "/gtFine"
        options.space = .cityscapes
        options.groundTruthEncoding = .labelIds
        options.predictionEncoding = .labelIds
        try options.addMethods(predictions: ["a=\(root)/pred/a", "b=\(root)/pred/b"], confidences: [])
        return try DatasetLocator.open(options)
    }
}

@Suite struct CityscapesScriptsTests {
    /// The reference: cityscapesScripts' evaluateImgLists on the same files.
    @Test func perClassIoUAndMeanMatchCityscapesScripts() throws {
        let root = try EvalData.make()
        let evaluation = try Evaluator.run(try EvalData.dataset(root))
        let printed = try TestSupport.python(
            """
            import glob, json, sys
            from cityscapesscripts.evaluation import evalPixelLevelSemanticLabeling as ev
            ev.args.evalInstLevelScore = False
            ev.args.quiet = True
            ev.args.JSONOutput = False
            root = sys.argv[1]
            out = {}
            for method in ("a", "b"):
                gts = sorted(glob.glob(root + "/gtFine/val/ulm/*_labelIds.png"))
                preds = [root + "/pred/%s/" % method + g.split("/")[-1].replace("_gtFine_labelIds", "_pred") for g in gts]
                r = ev.evaluateImgLists(preds, gts, ev.args)
                out[method] = {"classes": {k: (None if v != v else v) for k, v in r["classScores"].items()},
                               "mean": r["averageScoreClasses"],
                               "categories": {k: (None if v != v else v) for k, v in r["categoryScores"].items()}}
            print(json.dumps(out))
            """, [root])
        let reference = try JSONSerialization.jsonObject(with: Data(printed.utf8)) as! [String: [String: Any]]
        for method in ["a", "b"] {
            let metrics = evaluation.result(method)!.metrics
            let classes = reference[method]!["classes"] as! [String: Any]
            for (c, name) in LabelSpace.cityscapes.classNames.enumerated() {
                let expected = (classes[name] as? NSNumber)?.doubleValue
                if let expected {
                    #expect(
                        abs(metrics.iou[c] - expected) <= 1e-9, "\(method) \(name): \(metrics.iou[c]) vs \(expected)")
                } else {
                    #expect(metrics.iou[c].isNaN, "\(method) \(name)")
                }
            }
            let mean = (reference[method]!["mean"] as! NSNumber).doubleValue
            #expect(abs(metrics.meanIoU - mean) <= 1e-9)
            let categories = reference[method]!["categories"] as! [String: Any]
            for (category, iou) in Metrics.categoryIoU(evaluation.result(method)!.counts.confusion, space: .cityscapes)
            {
                let expected = (categories[category] as! NSNumber).doubleValue
                #expect(abs(iou - expected) <= 1e-9, "\(method) category \(category)")
            }
        }
    }

    @Test func threeShardsMergeToTheSingleRun() throws {
        let root = try EvalData.make(frames: 9)
        // These shards split sequences (every third frame), which pixel counts
        // allow and temporal figures do not (segscope's --shard splits by
        // sequence; VSPWMetricsTests merges those).
        var options = EvaluationOptions()
        options.temporal = false
        let whole = try Evaluator.run(try EvalData.dataset(root), options: options)
        // Split the GT files over three folders, evaluate each, save, merge.
        let files = try FileManager.default.contentsOfDirectory(atPath: root + "/gtFine/val/ulm").sorted()
        var shards: [(String, Evaluation)] = []
        for part in 0..<3 {
            let folder = root + "/part\(part)"
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
            for file in files.enumerated().filter({ $0.offset % 3 == part }).map(\.element) {
                try FileManager.default.copyItem(atPath: root + "/gtFine/val/ulm/" + file, toPath: folder + "/" + file)
            }
            let path = root + "/shard\(part).safetensors"
            try Shards.write(try Evaluator.run(try EvalData.dataset(root, gt: folder), options: options), to: path)
            shards.append((path, try Shards.read(path: path)))
        }
        let merged = try Shards.merge(shards)
        for method in ["a", "b"] {
            #expect(merged.result(method)!.counts.confusion == whole.result(method)!.counts.confusion)
            #expect(merged.result(method)!.counts.bandConfusion == whole.result(method)!.counts.bandConfusion)
            #expect(merged.result(method)!.counts.flips == whole.result(method)!.counts.flips)
            #expect(
                Set(merged.result(method)!.counts.frames.map(\.key))
                    == Set(whole.result(method)!.counts.frames.map(\.key)))
        }
        #expect(Report(merged).render(.text) == Report(whole).render(.text))
        #expect(throws: EvaluationError.self) { _ = try Shards.merge([shards[0], shards[0]]) }
    }
}
