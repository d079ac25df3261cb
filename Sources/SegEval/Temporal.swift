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

    /// `checkedMerge` for counts known to be small (one dataset's frames); traps on overflow.
    public mutating func merge(_ other: TemporalCounts) {
        do { try checkedMerge(other) } catch { preconditionFailure("\(error)") }
    }

    /// mVC_n over all windows of all videos (NaN windows left out), VSPW's rule or the strict one.
    public func meanVC(_ n: Int, strict: Bool) -> Double {
        let values = (windows[n] ?? []).map { strict ? $0.strict : $0.vspw }.filter { !$0.isNaN }
        return values.isEmpty ? .nan : values.reduce(0, +) / Double(values.count)
    }
}

/// The flicker of one pair of adjacent frames (t, t+1): frame t's key and the fraction of pixels that changed.
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
    /// What one pass over sequences found: counts per method, files it could
    /// not read (left out, as absent) and notes (pairs or windows skipped).
    public struct Outcome: Sendable {
        public var counts: [String: TemporalCounts] = [:]
        public var unreadable: [UnreadableFile] = []
        public var notes: [String] = []
    }

    /// Every sequence, in parallel. `scope` (frame keys) limits the frames
    /// used; `skip` holds files already known to be unreadable.
    public static func evaluate(
        _ dataset: Dataset, vcLengths: [Int], scope: Set<String>? = nil, skip: Set<String> = [],
        cancelled: @Sendable () -> Bool = { false }
    ) throws -> Outcome {
        let loader = FrameLoader(dataset: dataset)
        let k = dataset.space.count
        let shared = Mutex<[Outcome?]>(Array(repeating: nil, count: dataset.sequences.count))
        parallelFor(dataset.sequences.count) { s in
            if cancelled() { return }
            let sequence = dataset.sequences[s]
            let frames = scope.map { keys in sequence.frames.filter { keys.contains($0.key) } } ?? sequence.frames
            let result = self.frames(
                frames, name: sequence.name, loader: loader, methods: dataset.methods, classes: k,
                vcLengths: vcLengths, skip: skip, cancelled: cancelled)
            shared.withLock { $0[s] = result }
        }
        if cancelled() { throw EvaluationError.cancelled }
        var total = Outcome()
        for outcome in shared.withLock({ $0 }) {
            guard let outcome else { continue }
            for (method, c) in outcome.counts {
                var sum = total.counts[method] ?? TemporalCounts()
                try sum.checkedMerge(c)
                total.counts[method] = sum
            }
            total.unreadable += outcome.unreadable
            total.notes += outcome.notes
        }
        return total
    }

    /// Flicker and VC windows of one sequence, per method (the first unreadable file is thrown).
    public static func sequence(
        _ sequence: SequenceRecord, loader: FrameLoader, methods: [String], classes k: Int,
        vcLengths: [Int]
    ) throws -> [String: TemporalCounts] {
        let outcome = frames(
            sequence.frames, name: sequence.name, loader: loader, methods: methods, classes: k,
            vcLengths: vcLengths)
        if let first = outcome.unreadable.first { throw EvaluationError.unreadable([first]) }
        return outcome.counts
    }

    /// Flicker over adjacent listed frames that both have a readable
    /// prediction of one size; VC over the frames with GT when every one has
    /// a readable prediction and all share one size (else the sequence's VC
    /// is skipped with a note: windows compare pixels across frames).
    static func frames(
        _ frames: [FrameRecord], name: String, loader: FrameLoader, methods: [String], classes k: Int,
        vcLengths: [Int], skip: Set<String> = [], cancelled: () -> Bool = { false }
    ) -> Outcome {
        var outcome = Outcome()
        func load<T>(_ path: String, _ body: () throws -> T?) -> T? {
            guard !skip.contains(path) else { return nil }
            do { return try body() } catch {
                outcome.unreadable.append(UnreadableFile(path: path, reason: "\(error)"))
                return nil
            }
        }
        let withGT = frames.filter { $0.groundTruth != nil }
        let needsVC = withGT.count > (vcLengths.min() ?? Int.max)
        var truths: [LabelMap]?
        if needsVC {
            let loaded = withGT.compactMap { frame in load(frame.groundTruth!) { try loader.groundTruth(frame)?.map } }
            truths = loaded.count == withGT.count ? loaded : nil
        }
        for method in methods {
            if cancelled() { break }
            var counts = TemporalCounts()
            var previous: (key: String, map: LabelMap)?
            for frame in frames {
                guard let path = frame.predictions[method] else {
                    previous = nil
                    continue
                }
                let size = frame.groundTruth.flatMap { try? ImageFile.size(path: $0) }
                guard let current = load(path, { try loader.prediction(frame, method: method, size: size)?.map }) else {
                    previous = nil
                    continue
                }
                if let (key, before) = previous {
                    if before.width == current.width && before.height == current.height {
                        var changed: Int64 = 0
                        for i in current.ids.indices where current.ids[i] != before.ids[i] { changed += 1 }
                        counts.changed += changed
                        counts.pixels += Int64(current.ids.count)
                        let fraction = Double(changed) / Double(current.ids.count)
                        counts.pairs.append(FlickerPair(key: key, fraction: fraction))
                    } else {
                        outcome.notes.append(
                            "\(method): no flicker for \(key) -> \(frame.key): the predictions are "
                                + "\(before.width)x\(before.height) and \(current.width)x\(current.height)")
                    }
                }
                previous = (frame.key, current)
            }
            if let truths, withGT.allSatisfy({ $0.predictions[method] != nil }) {
                let predictions = zip(withGT, truths).compactMap { frame, gt in
                    load(frame.predictions[method]!) {
                        try loader.prediction(frame, method: method, size: (gt.width, gt.height))?.map
                    }
                }
                let sizes = Set((truths + predictions).map { [$0.width, $0.height] })
                if predictions.count == truths.count && sizes.count == 1 {
                    for n in vcLengths where withGT.count > n {
                        counts.windows[n] = windows(
                            truths: truths, predictions: predictions, n: n, video: name,
                            keys: withGT.map(\.key), classes: k)
                    }
                } else if predictions.count == truths.count {
                    outcome.notes.append(
                        "\(method): no video consistency for sequence \(name): "
                            + "its frames are not all one size "
                            + "(\(sizes.map { "\($0[0])x\($0[1])" }.sorted().joined(separator: ", ")))")
                }
            }
            outcome.counts[method] = counts
        }
        return outcome
    }

    /// VC windows of one video. A pixel's GT is stable over window i when its
    /// run of equal values starting at frame i is at least n frames long, so
    /// one backward pass of run lengths serves every window (and every n).
    static func windows(
        truths: [LabelMap], predictions: [LabelMap], n: Int, video: String, keys: [String], classes k: Int
    ) -> [VCWindow] {
        let f = truths.count
        let pixels = truths[0].ids.count
        var runG = [Int32](repeating: 1, count: pixels)
        var runP = [Int32](repeating: 1, count: pixels)
        var out = [VCWindow?](repeating: nil, count: max(0, f - n))
        for t in stride(from: f - 1, through: 0, by: -1) {
            let g = truths[t].ids
            let p = predictions[t].ids
            if t + 1 < f {
                let gNext = truths[t + 1].ids
                let pNext = predictions[t + 1].ids
                for i in 0..<pixels {
                    runG[i] = g[i] == gNext[i] ? runG[i] + 1 : 1
                    runP[i] = p[i] == pNext[i] ? runP[i] + 1 : 1
                }
            }
            guard t < f - n else { continue }
            var stable: Int64 = 0
            var both: Int64 = 0
            var strictStable: Int64 = 0
            var strictBoth: Int64 = 0
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
            out[t] = VCWindow(
                video: video, start: keys[t], vspw: stable == 0 ? .nan : Double(both) / Double(stable),
                strict: strictStable == 0 ? .nan : Double(strictBoth) / Double(strictStable))
        }
        return out.compactMap { $0 }
    }
}
