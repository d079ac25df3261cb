import SegDataset
import SegFormats
import SegLabels
import Synchronization

/// Temporal figures of one method over a dataset.
public struct TemporalCounts: Sendable, Equatable {
    /// Prediction flicker: pixels whose predicted class differs between
    /// adjacent frames of a sequence, and all pixels of those pairs.
    public var changed: Int64 = 0
    public var pixels: Int64 = 0
    /// Per pair in dataset order.
    public var pairs: [FlickerPair] = []
    /// Video consistency per window length n: one entry per window.
    public var windows: [Int: [VCWindow]] = [:]

    public init() {}

    public var flicker: Double { pixels == 0 ? .nan : Double(changed) / Double(pixels) }

    public mutating func merge(_ other: TemporalCounts) {
        changed += other.changed
        pixels += other.pixels
        pairs += other.pairs
        for (n, list) in other.windows { windows[n, default: []] += list }
    }

    /// mVC_n over all windows of all videos (NaN windows left out), VSPW's rule or the strict one.
    public func meanVC(_ n: Int, strict: Bool) -> Double {
        let values = (windows[n] ?? []).map { strict ? $0.strict : $0.vspw }.filter { !$0.isNaN }
        return values.isEmpty ? .nan : values.reduce(0, +) / Double(values.count)
    }
}

/// The flicker of one pair of adjacent frames: the later frame's key and the fraction of pixels that changed.
public struct FlickerPair: Sendable, Equatable {
    public var key: String
    public var fraction: Double
    public init(key: String, fraction: Double) { (self.key, self.fraction) = (key, fraction) }
}

/// One VC window: the video and the window's two values.
public struct VCWindow: Sendable, Equatable {
    public var video: String
    /// The key of the window's first frame.
    public var start: String
    /// |stable GT ∧ stable prediction| / |stable GT| (VSPW's VC_perclip).
    public var vspw: Double
    /// The same where the prediction also equals the GT and the GT is not void.
    public var strict: Double

    public init(video: String, start: String, vspw: Double, strict: Double) {
        (self.video, self.start, self.vspw, self.strict) = (video, start, vspw, strict)
    }
}

/// Flicker and video consistency (VSPW_code's VC_perclip, quirks included):
/// for a video of F frames with GT and prediction, windows i = 0 ..< F-n
/// (F-n windows, not F-n+1); g = GT equal across frames i ... i+n-1, p = the
/// prediction equal across them; VC_i = |g ∧ p| / |g|; videos with F <= n are
/// skipped; void counts as a stable GT value and the prediction is never
/// compared with the GT. The strict variant also requires prediction == GT at
/// frame i and leaves void out. Pixels are compared as decoded classes, so
/// values the label space ignores (VSPW's 124 and 255) compare equal.
public enum Temporal {
    public static func evaluate(_ dataset: Dataset, vcLengths: [Int], cancelled: @Sendable () -> Bool = { false }) throws -> [String: TemporalCounts] {
        let loader = FrameLoader(dataset: dataset)
        let k = dataset.space.count
        let shared = Mutex<(counts: [[String: TemporalCounts]?], error: Error?)>((Array(repeating: nil, count: dataset.sequences.count), nil))
        parallelFor(dataset.sequences.count) { s in
            if cancelled() || shared.withLock({ $0.error != nil }) { return }
            do {
                let result = try sequence(dataset.sequences[s], loader: loader, methods: dataset.methods, classes: k, vcLengths: vcLengths)
                shared.withLock { $0.counts[s] = result }
            } catch {
                shared.withLock { if $0.error == nil { $0.error = error } }
            }
        }
        if cancelled() { throw EvaluationError.cancelled }
        let state = shared.withLock { $0 }
        if let error = state.error { throw error }
        var total: [String: TemporalCounts] = [:]
        for perMethod in state.counts { for (method, c) in perMethod ?? [:] { total[method, default: TemporalCounts()].merge(c) } }
        return total
    }

    /// Flicker and VC windows of one sequence, per method.
    public static func sequence(_ sequence: SequenceRecord, loader: FrameLoader, methods: [String], classes k: Int,
                         vcLengths: [Int]) throws -> [String: TemporalCounts] {
        var result: [String: TemporalCounts] = [:]
        let withGT = sequence.frames.filter { $0.groundTruth != nil }
        let needsVC = withGT.count > (vcLengths.min() ?? Int.max)
        var truths: [LabelMap] = []
        if needsVC { truths = try withGT.map { try loader.groundTruth($0)!.map } }
        for method in methods {
            var counts = TemporalCounts()
            // Flicker over adjacent listed frames that both have a prediction.
            var previous: LabelMap?
            for frame in sequence.frames {
                guard frame.predictions[method] != nil else { previous = nil; continue }
                let size = frame.groundTruth.flatMap { try? ImageFile.size(path: $0) }
                let current = try loader.prediction(frame, method: method, size: size)!.map
                if let previous, previous.ids.count == current.ids.count {
                    var changed: Int64 = 0
                    for i in current.ids.indices where current.ids[i] != previous.ids[i] { changed += 1 }
                    counts.changed += changed
                    counts.pixels += Int64(current.ids.count)
                    counts.pairs.append(FlickerPair(key: frame.key, fraction: Double(changed) / Double(current.ids.count)))
                }
                previous = current
            }
            // VC over the frames with GT, all of which need this method's prediction.
            if needsVC && withGT.allSatisfy({ $0.predictions[method] != nil }) {
                let predictions = try zip(withGT, truths).map { frame, gt in
                    try loader.prediction(frame, method: method, size: (gt.width, gt.height))!.map
                }
                for n in vcLengths where withGT.count > n {
                    counts.windows[n] = windows(truths: truths, predictions: predictions, n: n, video: sequence.name, keys: withGT.map(\.key), classes: k)
                }
            }
            result[method] = counts
        }
        return result
    }

    /// VC windows of one video. A pixel's GT is stable over window i when its
    /// run of equal values starting at frame i is at least n frames long, so
    /// one backward pass of run lengths serves every window (and every n).
    static func windows(truths: [LabelMap], predictions: [LabelMap], n: Int, video: String, keys: [String], classes k: Int) -> [VCWindow] {
        let f = truths.count, pixels = truths[0].ids.count
        var runG = [Int32](repeating: 1, count: pixels), runP = [Int32](repeating: 1, count: pixels)
        var out = [VCWindow?](repeating: nil, count: max(0, f - n))
        for t in stride(from: f - 1, through: 0, by: -1) {
            let g = truths[t].ids, p = predictions[t].ids
            if t + 1 < f {
                let gNext = truths[t + 1].ids, pNext = predictions[t + 1].ids
                for i in 0..<pixels {
                    runG[i] = g[i] == gNext[i] ? runG[i] + 1 : 1
                    runP[i] = p[i] == pNext[i] ? runP[i] + 1 : 1
                }
            }
            guard t < f - n else { continue }
            var stable: Int64 = 0, both: Int64 = 0, strictStable: Int64 = 0, strictBoth: Int64 = 0
            let span = Int32(n)
            for i in 0..<pixels where runG[i] >= span {
                stable += 1
                let predictionStable = runP[i] >= span
                if predictionStable { both += 1 }
                if Int(g[i]) < k {
                    strictStable += 1
                    if predictionStable && p[i] == g[i] { strictBoth += 1 }
                }
            }
            out[t] = VCWindow(video: video, start: keys[t], vspw: stable == 0 ? .nan : Double(both) / Double(stable),
                              strict: strictStable == 0 ? .nan : Double(strictBoth) / Double(strictStable))
        }
        return out.compactMap { $0 }
    }
}
