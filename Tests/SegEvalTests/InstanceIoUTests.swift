import Foundation
import SegDataset
import SegEval
import SegFormats
import SegLabels
import SegTestSupport
import Testing

/// Cityscapes iIoU against cityscapesScripts' evaluateImgLists, on ground
/// truth drawn from polygons by its own json2labelImg and createInstanceImage
/// (with the two mends metrics.md names: np.in1d for numpy 2, and the
/// instance image saved as 16-bit, which current Pillow does not do for mode I).
@Suite struct InstanceIoUTests {
    @Test func iIoUEqualsCityscapesScripts() throws {
        let root = try TestSupport.scratchDirectory()
        let output = try TestSupport.python(
            """
            import json, os, sys
            import numpy as np
            np.in1d = lambda a, b, assume_unique=False, invert=False: np.isin(np.asarray(a).ravel(), b, invert=invert)
            from PIL import Image
            from cityscapesscripts.helpers.annotation import Annotation
            from cityscapesscripts.helpers.labels import labels, name2label
            from cityscapesscripts.preparation.json2labelImg import json2labelImg
            from cityscapesscripts.preparation.json2instanceImg import createInstanceImage
            from cityscapesscripts.evaluation import evalPixelLevelSemanticLabeling as ev
            root = sys.argv[1]
            rng = np.random.default_rng(8)
            w, h = 96, 64
            gt_dir, pred_dir = root + "/gtFine/val/ulm", root + "/pred"
            os.makedirs(gt_dir); os.makedirs(pred_dir)
            evaluated = [l.id for l in labels if 0 <= l.trainId < 19]
            gts, preds = [], []
            def box(x, y, bw, bh): return [[x, y], [x + bw, y], [x + bw, y + bh], [x, y + bh]]
            for f in range(4):
                key = "ulm_000000_%06d" % (19 + f)
                objects = [{"label": "road", "polygon": box(0, 32, 96, 32)}, {"label": "sky", "polygon": box(0, 0, 96, 20)},
                           {"label": "building", "polygon": box(0, 12, 40, 24)}]
                for label in ("person", "person", "rider", "car", "car", "car", "truck", "bicycle", "bus", "motorcycle", "cargroup"):
                    bw, bh = int(rng.integers(3, 30)), int(rng.integers(3, 20))
                    objects.append({"label": label, "polygon": box(int(rng.integers(0, w - bw)), int(rng.integers(10, h - bh)), bw, bh)})
                with open(root + "/%s.json" % key, "w") as out:
                    json.dump({"imgWidth": w, "imgHeight": h, "objects": objects}, out)
                json2labelImg(root + "/%s.json" % key, gt_dir + "/%s_gtFine_labelIds.png" % key, "ids")
                annotation = Annotation(); annotation.fromJsonFile(root + "/%s.json" % key)
                instances = np.array(createInstanceImage(annotation, "ids")).astype(np.uint16)
                Image.fromarray(instances).save(gt_dir + "/%s_gtFine_instanceIds.png" % key)
                gt = np.array(Image.open(gt_dir + "/%s_gtFine_labelIds.png" % key))
                pred = np.where(np.isin(gt, evaluated), gt, name2label["road"].id).astype(np.uint8)
                # Shift some objects, swap vehicle classes, sprinkle noise (evaluated labelIds only).
                pred = np.roll(pred, int(rng.integers(-3, 4)), axis=1)
                vehicle = np.isin(pred, [26, 27, 28]) & (rng.random(pred.shape) < 0.3)
                pred[vehicle] = rng.choice([26, 27, 28, 32, 33], vehicle.sum())
                noise = rng.random(pred.shape) < 0.05
                pred[noise] = rng.choice(evaluated, noise.sum())
                Image.fromarray(pred).save(pred_dir + "/%s_pred.png" % key)
                gts.append(gt_dir + "/%s_gtFine_labelIds.png" % key); preds.append(pred_dir + "/%s_pred.png" % key)
            ev.args.evalInstLevelScore = True; ev.args.quiet = True; ev.args.JSONOutput = False
            result = ev.evaluateImgLists(preds, gts, ev.args)
            nan = lambda v: None if v != v else v
            print(json.dumps({"classes": {k: nan(v) for k, v in result["classInstScores"].items()},
                              "categories": {k: nan(v) for k, v in result["categoryInstScores"].items()},
                              "mean": result["averageScoreInstClasses"]}))
            """, [root])
        let expected =
            try JSONSerialization.jsonObject(with: Data(output.split(separator: "\n").last!.utf8)) as! [String: Any]
        var options = DatasetOptions()
        options.groundTruth = root + "/gtFine"
        options.space = .cityscapes
        options.groundTruthEncoding = .labelIds
        options.predictionEncoding = .labelIds
        try options.addMethods(predictions: ["p=\(root)/pred"], confidences: [])
        let dataset = try DatasetLocator.open(options)
        #expect(dataset.frames.allSatisfy { $0.instances != nil })
        let evaluation = try Evaluator.run(dataset)
        let result = try #require(evaluation.result("p"))
        let space = LabelSpace.cityscapes
        let perClass = InstanceIoU.perClass(result.counts.instances, confusion: result.counts.confusion, space: space)
        let classes = expected["classes"] as! [String: Any]
        var compared = 0
        for (c, name) in space.classNames.enumerated() where space.classes[c].hasInstances {
            if let value = classes[name] as? Double {
                #expect(abs(perClass[c] - value) < 1e-9, "\(name): \(perClass[c]) vs \(value)")
                compared += 1
            } else {
                #expect(perClass[c].isNaN, "\(name)")
            }
        }
        #expect(compared >= 6)
        #expect(abs(Metrics.mean(perClass) - (expected["mean"] as! Double)) < 1e-9)
        let perCategory = InstanceIoU.perCategory(
            result.counts.instances, confusion: result.counts.confusion, space: space)
        let categories = expected["categories"] as! [String: Any]
        for category in ["human", "vehicle"] {
            let i = space.categories.firstIndex(of: category)!
            #expect(abs(perCategory[i] - (categories[category] as! Double)) < 1e-9, "category \(category)")
        }
        let csv = Report(evaluation).render(.csv)
        #expect(
            csv.contains("\niiou,car,") && csv.contains("\ncategory_iiou,vehicle,") && csv.contains("\nsummary,iIoU,"))
        let json = Report(evaluation).json()
        #expect(
            json["methods"]?["p"]?["iiou"]?.number != nil
                && json["methods"]?["p"]?["category_iiou"]?["vehicle"]?.number != nil)
    }
}
