import Foundation
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
    /// used; `skip` holds files already known to be unreadable; `decoded`,
    /// maps the per-frame pass already decoded.
    public static func evaluate(
        _ dataset: Dataset, vcLengths: [Int], scope: Set<String>? = nil, skip: Set<String> = [],
        decoded: DecodedMaps? = nil, cancelled: @Sendable () -> Bool = { false }
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
                vcLengths: vcLengths, skip: skip, decoded: decoded, cancelled: cancelled)
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
    /// is skipped with a note: windows compare pixels across frames). One
    /// forward pass: every file is decoded once (a few frames ahead, in
    /// parallel) and serves flicker and every window length; memory holds
    /// those frames and the per-pixel run lengths, not the whole video.
    static func frames(
        _ frames: [FrameRecord], name: String, loader: FrameLoader, methods: [String], classes k: Int,
        vcLengths: [Int], skip: Set<String> = [], decoded: DecodedMaps? = nil, cancelled: () -> Bool = { false }
    ) -> Outcome {
        var outcome = Outcome()
        let withGT = frames.filter { $0.groundTruth != nil }
        let lengths = Array(Set(vcLengths.filter { withGT.count > $0 })).sorted()
        let keys = withGT.map(\.key)
        var states = methods.map { _ in TemporalMethodState() }
        // VC needs every GT: one unreadable and no method has VC (nothing to note).
        var truthsReadable = true
        var truthSizes = Set<[Int]>()
        var truthRuns: RunLengths?
        var withGTSeen = 0
        let ahead = 2 * ProcessInfo.processInfo.activeProcessorCount
        for chunkStart in stride(from: 0, to: frames.count, by: ahead) {
            if cancelled() { break }
            let chunk = Array(frames[chunkStart..<min(frames.count, chunkStart + ahead)])
            let files = decode(
                chunk, loader: loader, methods: methods, groundTruth: !lengths.isEmpty, skip: skip, decoded: decoded)
            for (frame, files) in zip(chunk, files) {
                outcome.unreadable += files.unreadable
                let hasGT = frame.groundTruth != nil
                var index = 0
                if hasGT && !lengths.isEmpty {
                    index = withGTSeen
                    withGTSeen += 1
                    if let gt = files.groundTruth, truthsReadable {
                        truthSizes.insert([gt.width, gt.height])
                        if truthSizes.count == 1 {
                            if truthRuns == nil { truthRuns = RunLengths(pixels: gt.ids.count, cap: lengths.last ?? 1) }
                            truthRuns!.extend(with: gt)
                        }
                    } else {
                        truthsReadable = false
                    }
                }
                for (m, method) in methods.enumerated() {
                    let current = files.predictions[m]
                    states[m].countFlicker(frame: frame, current: current, method: method, notes: &outcome.notes)
                    guard hasGT && !lengths.isEmpty && truthsReadable && states[m].complete else { continue }
                    guard let prediction = current else {
                        states[m].complete = false
                        continue
                    }
                    states[m].sizes.insert([prediction.width, prediction.height])
                    guard truthSizes.count == 1, truthSizes.union(states[m].sizes).count == 1,
                        let truth = files.groundTruth, let runs = truthRuns
                    else { continue }
                    if states[m].vc == nil {
                        states[m].vc = VCStream(
                            lengths: lengths, frames: withGT.count, classes: k, video: name, pixels: truth.ids.count)
                    }
                    states[m].vc!.add(truth: truth, truthRuns: runs, prediction: prediction, index: index, keys: keys)
                }
            }
        }
        if cancelled() { return outcome }
        for (m, method) in methods.enumerated() {
            var state = states[m]
            let sizes = truthSizes.union(state.sizes)
            if !lengths.isEmpty && truthsReadable && state.complete {
                if sizes.count == 1, let vc = state.vc {
                    state.counts.windows = vc.windows
                } else if sizes.count > 1 {
                    outcome.notes.append(
                        "\(method): no video consistency for sequence \(name): "
                            + "its frames are not all one size "
                            + "(\(sizes.map { "\($0[0])x\($0[1])" }.sorted().joined(separator: ", ")))")
                }
            }
            outcome.counts[method] = state.counts
        }
        return outcome
    }

    /// The decoded files of one frame: its GT (when VC needs it) and each method's prediction (nil: absent,
    /// skipped or unreadable), and the files that could not be read.
    struct DecodedFrame: Sendable {
        var groundTruth: LabelMap?
        var predictions: [LabelMap?]
        var unreadable: [UnreadableFile] = []
    }

    /// Decodes the frames' files, one frame per task; predictions are
    /// brought to the GT's size, as the per-frame evaluation does.
    static func decode(
        _ frames: [FrameRecord], loader: FrameLoader, methods: [String], groundTruth: Bool, skip: Set<String>,
        decoded: DecodedMaps?
    ) -> [DecodedFrame] {
        let results = Mutex([DecodedFrame?](repeating: nil, count: frames.count))
        parallelFor(frames.count) { f in
            let frame = frames[f]
            var unreadable: [UnreadableFile] = []
            func load(_ path: String, _ body: () throws -> LabelMap?) -> LabelMap? {
                guard !skip.contains(path) else { return nil }
                if let map = decoded?.take(path) { return map }
                do { return try body() } catch {
                    unreadable.append(UnreadableFile(path: path, reason: "\(error)"))
                    return nil
                }
            }
            var gt: LabelMap?
            if groundTruth, let path = frame.groundTruth { gt = load(path) { try loader.groundTruth(frame)?.map } }
            let size =
                gt.map { (width: $0.width, height: $0.height) }
                ?? frame.groundTruth.flatMap { try? ImageFile.size(path: $0) }
            let predictions = methods.map { method in
                frame.predictions[method].flatMap { path in
                    load(path) { try loader.prediction(frame, method: method, size: size)?.map }
                }
            }
            let decoded = DecodedFrame(groundTruth: gt, predictions: predictions, unreadable: unreadable)
            results.withLock { $0[f] = decoded }
        }
        return results.withLock { $0 }.map { $0! }
    }

    /// VC windows of one video. A pixel's GT is stable over window i when its
    /// run of equal values starting at frame i is at least n frames long, so
    /// one backward pass of run lengths serves every window. The plain twin
    /// of `VCStream` (which tests compare with it).
    static func referenceWindows(
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

/// One method's flicker and VC along a sequence, fed frame by frame.
struct TemporalMethodState {
    var counts = TemporalCounts()
    var previous: (key: String, map: LabelMap)?
    /// Every frame with GT so far has a readable prediction.
    var complete = true
    var sizes = Set<[Int]>()
    var vc: VCStream?

    /// Flicker against the previous listed frame, when both have a readable prediction of one size.
    mutating func countFlicker(frame: FrameRecord, current: LabelMap?, method: String, notes: inout [String]) {
        guard let current else {
            previous = nil
            return
        }
        if let (key, before) = previous {
            if before.width == current.width && before.height == current.height {
                let changed = Int64(PixelBlocks.changed(before.ids, current.ids))
                counts.changed += changed
                counts.pixels += Int64(current.ids.count)
                counts.pairs.append(FlickerPair(key: key, fraction: Double(changed) / Double(current.ids.count)))
            } else {
                notes.append(
                    "\(method): no flicker for \(key) -> \(frame.key): the predictions are "
                        + "\(before.width)x\(before.height) and \(current.width)x\(current.height)")
            }
        }
        previous = (frame.key, current)
    }
}

/// Per-pixel lengths of the runs of equal values ending at the latest frame
/// added, capped at the longest window (past it only "at least n" matters).
struct RunLengths: Sendable {
    private(set) var runs: [Int32]
    private var previous: [UInt8]?
    let cap: Int32
    let blockMinimum: Int

    init(pixels: Int, cap: Int, blockMinimum: Int = PixelBlocks.defaultMinimum) {
        runs = [Int32](repeating: 1, count: pixels)
        self.cap = Int32(clamping: cap)
        self.blockMinimum = blockMinimum
    }

    mutating func extend(with map: LabelMap) {
        precondition(map.ids.count == runs.count, "run lengths over frames of different sizes")
        defer { previous = map.ids }
        guard let previous, !runs.isEmpty else { return }
        let cap = cap
        runs.withUnsafeMutableBufferPointer { r in
            map.ids.withUnsafeBufferPointer { c in
                previous.withUnsafeBufferPointer { p in
                    let (runs, current, before) = (PixelBuffer(r), PixelBuffer(c), PixelBuffer(p))
                    PixelBlocks.forEach(r.count, minimum: blockMinimum) { range in
                        for i in range {
                            let next = min(runs[i] &+ 1, cap)
                            runs[i] = current[i] == before[i] ? next : 1
                        }
                    }
                }
            }
        }
    }
}

/// Video consistency of one method over one video, frame by frame. Window i
/// covers frames i ... i+n-1 and ends at e = i+n-1: a pixel's GT is stable
/// over it when its run of equal GT values ending at e is at least n long
/// (likewise the prediction). With both stable, frame e's GT and prediction
/// equal frame i's, so the strict variant's tests of frame i read frame e.
/// Windows i = 0 ..< F-n (VSPW's count) end at e = n-1 ... F-2.
struct VCStream: Sendable {
    let lengths: [Int]
    let frames: Int
    let classes: Int
    let video: String
    private var predictionRuns: RunLengths
    private(set) var windows: [Int: [VCWindow]] = [:]

    init(
        lengths: [Int], frames: Int, classes: Int, video: String, pixels: Int,
        blockMinimum: Int = PixelBlocks.defaultMinimum
    ) {
        (self.lengths, self.frames, self.classes, self.video) = (lengths, frames, classes, video)
        predictionRuns = RunLengths(pixels: pixels, cap: lengths.max() ?? 1, blockMinimum: blockMinimum)
    }

    /// Adds frame `e` (frames with GT are numbered from 0); `truthRuns` already includes it.
    mutating func add(truth: LabelMap, truthRuns: RunLengths, prediction: LabelMap, index e: Int, keys: [String]) {
        predictionRuns.extend(with: prediction)
        for n in lengths where e >= n - 1 && e <= frames - 2 {
            let c = PixelBlocks.windowCounts(
                truth: truth.ids, prediction: prediction.ids, truthRuns: truthRuns.runs,
                predictionRuns: predictionRuns.runs, n: n, classes: classes, minimum: truthRuns.blockMinimum)
            windows[n, default: []].append(
                VCWindow(
                    video: video, start: keys[e - n + 1],
                    vspw: c.stable == 0 ? .nan : Double(c.both) / Double(c.stable),
                    strict: c.strictStable == 0 ? .nan : Double(c.strictBoth) / Double(c.strictStable)))
        }
    }
}

/// A buffer's base address shared by the tasks of `PixelBlocks.forEach`,
/// each of which reads, or writes only, its own block of pixels.
struct PixelBuffer<Element>: @unchecked Sendable {
    let base: UnsafeMutablePointer<Element>
    init(_ buffer: UnsafeMutableBufferPointer<Element>) { base = buffer.baseAddress! }
    init(_ buffer: UnsafeBufferPointer<Element>) { base = UnsafeMutablePointer(mutating: buffer.baseAddress!) }
    subscript(i: Int) -> Element {
        get { base[i] }
        nonmutating set { base[i] = newValue }
    }
}

/// Per-pixel passes over a frame split in one contiguous block per core (a
/// 1024x2048 frame is milliseconds of work per block, far above the cost of
/// dispatching it), so one sequence's temporal figures use every core.
enum PixelBlocks {
    static let defaultMinimum = 1 << 16

    static func forEach(_ count: Int, minimum: Int, _ body: @Sendable (Range<Int>) -> Void) {
        guard count > 0 else { return }
        let blocks = max(1, min(ProcessInfo.processInfo.activeProcessorCount, count / max(1, minimum)))
        let size = (count + blocks - 1) / blocks
        parallelFor(blocks) { b in body(b * size..<min(count, (b + 1) * size)) }
    }

    /// Sums per block of `count(range)`.
    static func sum(_ count: Int, minimum: Int, _ body: @Sendable (Range<Int>) -> [Int]) -> [Int] {
        let total = Mutex<[Int]>([])
        forEach(count, minimum: minimum) { range in
            let part = body(range)
            total.withLock { t in t = t.isEmpty ? part : zip(t, part).map { $0 + $1 } }
        }
        return total.withLock { $0 }
    }

    /// Pixels whose value differs between two maps of one size.
    static func changed(_ a: [UInt8], _ b: [UInt8], minimum: Int = defaultMinimum) -> Int {
        guard !a.isEmpty else { return 0 }
        return a.withUnsafeBufferPointer { x in
            b.withUnsafeBufferPointer { y in
                let (x, y) = (PixelBuffer(x), PixelBuffer(y))
                return sum(a.count, minimum: minimum) { range in
                    var changed = 0
                    for i in range { changed &+= x[i] != y[i] ? 1 : 0 }
                    return [changed]
                }.first ?? 0
            }
        }
    }

    /// One window's counts at its last frame (see `VCStream`), branch-free:
    /// stable GT, stable GT and prediction, and the same over GT classes < K
    /// with the prediction equal to the GT.
    static func windowCounts(
        truth: [UInt8], prediction: [UInt8], truthRuns: [Int32], predictionRuns: [Int32], n: Int, classes: Int,
        minimum: Int = defaultMinimum
    ) -> (stable: Int, both: Int, strictStable: Int, strictBoth: Int) {
        guard !truth.isEmpty else { return (0, 0, 0, 0) }
        let span = Int32(clamping: n)
        let k = classes
        let c = truth.withUnsafeBufferPointer { gBuffer in
            prediction.withUnsafeBufferPointer { pBuffer in
                truthRuns.withUnsafeBufferPointer { rgBuffer in
                    predictionRuns.withUnsafeBufferPointer { rpBuffer in
                        let (g, p) = (PixelBuffer(gBuffer), PixelBuffer(pBuffer))
                        let (rg, rp) = (PixelBuffer(rgBuffer), PixelBuffer(rpBuffer))
                        return sum(truth.count, minimum: minimum) { range in
                            var (stable, both, strictStable, strictBoth) = (0, 0, 0, 0)
                            for i in range {
                                let gStable = rg[i] >= span ? 1 : 0
                                let bothStable = rp[i] >= span ? gStable : 0
                                let valid = Int(g[i]) < k ? 1 : 0
                                let equal = p[i] == g[i] ? 1 : 0
                                stable &+= gStable
                                both &+= bothStable
                                strictStable &+= gStable & valid
                                strictBoth &+= bothStable & valid & equal
                            }
                            return [stable, both, strictStable, strictBoth]
                        }
                    }
                }
            }
        }
        return c.isEmpty ? (0, 0, 0, 0) : (c[0], c[1], c[2], c[3])
    }
}

/// Label maps the per-frame pass decoded, by path, kept for the temporal
/// pass (which then decodes each file once) up to a byte budget, so memory
/// stays bounded on a large dataset (past the budget files are decoded
/// again). A map is dropped once taken.
public final class DecodedMaps: Sendable {
    /// 64 pairs of 1024x2048 maps.
    public static let defaultBudget = 256 << 20
    private let state = Mutex<(maps: [String: LabelMap], bytes: Int)>(([:], 0))
    public let budget: Int

    public init(budget: Int = defaultBudget) { self.budget = budget }

    public func keep(_ map: LabelMap, path: String) {
        state.withLock { state in
            guard state.maps[path] == nil, state.bytes + map.ids.count <= budget else { return }
            state.maps[path] = map
            state.bytes += map.ids.count
        }
    }

    public func take(_ path: String) -> LabelMap? {
        state.withLock { state in
            guard let map = state.maps.removeValue(forKey: path) else { return nil }
            state.bytes -= map.ids.count
            return map
        }
    }
}
