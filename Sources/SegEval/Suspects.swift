import SegDataset
import SegFormats
import SegLabels
import Synchronization

/// Likely annotation errors: pixels where every method predicts the same
/// class, each with confidence >= τ, and the ground truth says another
/// (evaluated) class. Models that disagree with each other are unsure; models
/// that all agree, confidently, against the annotation more often point at
/// the annotation.
public enum Suspects {
    /// One suspect region of a frame: the pixels of one (GT class, agreed
    /// class) pair, their count and bounding box (inclusive, pixels).
    public struct Region: Sendable, Equatable {
        public var groundTruth: Int
        public var predicted: Int
        public var pixels: Int
        public var x0: Int, y0: Int, x1: Int, y1: Int
    }

    /// The mask (1 = suspect) over `groundTruth`'s pixels. `predictions` must
    /// all have the ground truth's size, as must every confidence map given;
    /// a method without confidences (nil) counts by agreement alone.
    public static func mask(
        groundTruth: LabelMap, predictions: [LabelMap], confidences: [ConfidenceMap?], tau: Float, classes: Int
    ) -> [UInt8] {
        precondition(
            !predictions.isEmpty && predictions.count == confidences.count, "one confidence entry per prediction")
        let n = groundTruth.ids.count
        var mask = [UInt8](repeating: 0, count: n)
        let gt = groundTruth.ids
        for i in 0..<n {
            let g = Int(gt[i])
            guard g < classes else { continue }
            let p = predictions[0].ids[i]
            guard Int(p) < classes, Int(p) != g else { continue }
            var agreed = true
            for m in predictions.indices {
                if predictions[m].ids[i] != p || (confidences[m].map { $0.values[i] < tau } ?? false) {
                    agreed = false
                    break
                }
            }
            if agreed { mask[i] = 1 }
        }
        return mask
    }

    /// The suspect pixels grouped by (GT class, agreed class), largest first.
    public static func regions(mask: [UInt8], groundTruth: LabelMap, agreed: LabelMap) -> [Region] {
        var byPair: [Int: Region] = [:]
        let w = groundTruth.width
        for i in mask.indices where mask[i] != 0 {
            let g = Int(groundTruth.ids[i])
            let p = Int(agreed.ids[i])
            let x = i % w
            let y = i / w
            let key = g * 256 + p
            if var r = byPair[key] {
                r.pixels += 1
                r.x0 = min(r.x0, x)
                r.x1 = max(r.x1, x)
                r.y0 = min(r.y0, y)
                r.y1 = max(r.y1, y)
                byPair[key] = r
            } else {
                byPair[key] = Region(groundTruth: g, predicted: p, pixels: 1, x0: x, y0: y, x1: x, y1: y)
            }
        }
        return byPair.values.sorted {
            $0.pixels != $1.pixels
                ? $0.pixels > $1.pixels : ($0.groundTruth, $0.predicted) < ($1.groundTruth, $1.predicted)
        }
    }
}

extension Suspects {
    /// One frame's suspects, for `segscope eval --suspects`.
    public struct FrameSuspects: Sendable {
        public var key: String
        public var regions: [Region]
    }

    /// Every frame with ground truth and a prediction of every method, in
    /// dataset order; frames without suspects are left out. Decoding errors
    /// are thrown (naming the file), as in evaluation.
    public static func scan(
        _ dataset: Dataset, tau: Float, progress: @Sendable (Int, Int) -> Void = { _, _ in },
        cancelled: @Sendable () -> Bool = { false }
    ) throws -> [FrameSuspects] {
        let loader = FrameLoader(dataset: dataset)
        let frames = dataset.frames.filter { $0.groundTruth != nil }
        let classes = dataset.space.count
        let methods = dataset.methods
        let results = Mutex<(found: [Int: [Region]], error: Error?, done: Int)>(([:], nil, 0))
        parallelFor(frames.count) { i in
            if cancelled() || results.withLock({ $0.error != nil }) { return }
            do {
                guard let gt = try loader.groundTruth(frames[i])?.map else { return }
                let size = (gt.width, gt.height)
                var predictions: [LabelMap] = []
                var confidences: [ConfidenceMap?] = []
                for method in methods {
                    guard let p = try loader.prediction(frames[i], method: method, size: size)?.map else { return }
                    predictions.append(p)
                    confidences.append(try loader.confidence(frames[i], method: method, size: size))
                }
                guard !predictions.isEmpty else { return }
                let found = regions(
                    mask: mask(
                        groundTruth: gt, predictions: predictions, confidences: confidences, tau: tau, classes: classes),
                    groundTruth: gt, agreed: predictions[0])
                let done = results.withLock { r -> Int in
                    if !found.isEmpty { r.found[i] = found }
                    r.done += 1
                    return r.done
                }
                progress(done, frames.count)
            } catch {
                results.withLock { if $0.error == nil { $0.error = error } }
            }
        }
        let outcome = results.withLock { $0 }
        if let error = outcome.error { throw error }
        if cancelled() { throw EvaluationError.cancelled }
        return outcome.found.keys.sorted().map { FrameSuspects(key: frames[$0].key, regions: outcome.found[$0]!) }
    }

    /// CSV, one row per frame and (GT class, agreed class):
    /// `frame,gt_class,predicted_class,pixels,x0,y0,x1,y1` (box inclusive, pixels).
    public static func csv(_ frames: [FrameSuspects], space: LabelSpace) -> String {
        func quoted(_ s: String) -> String {
            s.contains(",") || s.contains("\"") ? "\"" + s.replacingOccurrences(of: "\"", with: "\"\"") + "\"" : s
        }
        var out = "frame,gt_class,predicted_class,pixels,x0,y0,x1,y1\n"
        for frame in frames {
            for r in frame.regions {
                out +=
                    [
                        quoted(frame.key), quoted(space.classNames[r.groundTruth]),
                        quoted(space.classNames[r.predicted]),
                        "\(r.pixels)", "\(r.x0)", "\(r.y0)", "\(r.x1)", "\(r.y1)",
                    ].joined(separator: ",") + "\n"
            }
        }
        return out
    }
}
