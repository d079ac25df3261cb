import Dispatch
import Foundation
import SegDataset
import SegFormats
import SegLabels
import Synchronization

/// One method's evaluation: its name, counts and the frames it lacks.
public struct MethodResult: Sendable {
    public let name: String
    public var counts: MethodCounts
    /// Keys of frames with GT but no prediction of this method.
    public var missing: [String]
    /// For a compared method: its counts and the reference's over the frames
    /// both have, from which every Δ is taken (nil: the reference itself, or
    /// a shard written before they were kept).
    public var shared: SharedCounts?

    public init(name: String, counts: MethodCounts, missing: [String], shared: SharedCounts? = nil) {
        (self.name, self.counts, self.missing, self.shared) = (name, counts, missing, shared)
    }

    public var metrics: Metrics { Metrics(counts.confusion) }
    public var bandMetrics: Metrics { Metrics(counts.bandConfusion) }
}

/// A compared method and the reference, each over the frames both have.
public struct SharedCounts: Sendable {
    public var method: MethodCounts
    public var reference: MethodCounts
    /// How many frames both have.
    public var frames: Int { method.frames.count }

    public mutating func merge(_ other: SharedCounts) throws(MetricError) {
        try method.merge(other.method)
        try reference.merge(other.reference)
    }
}

/// A file that could not be read, and why (the decoder's words).
public struct UnreadableFile: Sendable, Equatable, Hashable {
    public var path: String
    public var reason: String
    public init(path: String, reason: String) { (self.path, self.reason) = (path, reason) }
}

/// Everything `segscope eval` reports, and what a shard file stores.
public struct Evaluation: Sendable {
    public let space: LabelSpace
    /// Per method, in display order.
    public var results: [MethodResult]
    public let reference: String?
    public let band: Int
    /// Boundary IoU's dilation ratio (nil: not computed).
    public var boundaryRatio: Double?
    /// Window lengths of video consistency.
    public var vcLengths: [Int] = []
    /// Which classes mIoU averages over.
    public var evaluationProtocol = EvaluationProtocol.labelSpace
    /// Ground-truth files evaluated, in dataset order.
    public var files: [String]
    public var notes: [String]
    /// Frames with ground truth in scope (scored or not).
    public var framesWithGroundTruth = 0
    /// Files left out because they could not be read (with --skip-unreadable).
    public var unreadable: [UnreadableFile] = []
    /// The frames evaluated when not the whole dataset (e.g. "frames A..B"), for the tables' footnotes.
    public var scopeDescription: String?

    public var methods: [String] { results.map(\.name) }
    public func result(_ method: String) -> MethodResult? { results.first { $0.name == method } }
    public var referenceResult: MethodResult? { reference.flatMap(result) }
    /// The methods compared against the reference (none without one).
    public var others: [MethodResult] { reference == nil ? [] : results.filter { $0.name != reference } }
}

public struct EvaluationOptions: Sendable {
    /// Boundary band half-width in full-resolution pixels (0: no band metrics).
    public var band = 3
    public var strict = false
    /// When set, collects where the time goes (the bench's breakdown).
    public var timing: EvaluationTiming?
    /// Boundary IoU's dilation ratio (nil: not computed).
    public var boundaryRatio: Double? = BoundaryIoU.defaultDilationRatio
    /// Video consistency window lengths (VSPW reports 8 and 16).
    public var vcLengths = [8, 16]
    /// Flicker and video consistency (a second pass over every predicted frame).
    public var temporal = true
    public var evaluationProtocol = EvaluationProtocol.labelSpace
    /// Score the rest when files cannot be read (else `EvaluationError.unreadable` lists them all).
    public var skipUnreadable = false
    /// Only these frames (keys), e.g. a `--range`; nil: every frame.
    public var scope: Set<String>?
    public init() {}
}

/// Seconds spent per stage of evaluation, summed over frames and threads.
public final class EvaluationTiming: Sendable {
    public enum Stage: String, CaseIterable, Sendable {
        case decodeGroundTruth = "decode GT"
        case band
        case decodePredictions = "decode predictions"
        case confusion, flips
        case boundaryIoU = "Boundary IoU"
    }
    private let seconds = Mutex<[Stage: Double]>([:])
    public init() {}

    public var totals: [Stage: Double] { seconds.withLock { $0 } }

    func measure<T>(_ stage: Stage, _ body: () throws -> T) rethrows -> T {
        let start = DispatchTime.now().uptimeNanoseconds
        defer {
            let elapsed = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
            seconds.withLock { $0[stage, default: 0] += elapsed }
        }
        return try body()
    }
}

public enum EvaluationError: Error, CustomStringConvertible, Equatable {
    case noGroundTruth(String)
    case noMethods
    case missingPredictions(method: String, count: Int, examples: [String])
    case shard(path: String, problem: String)
    case unreadable([UnreadableFile])
    case cancelled

    public var description: String {
        switch self {
        case .noGroundTruth(let root): return "\(root): no frame has ground truth to evaluate against"
        case .noMethods: return "no predictions given (use --pred NAME=DIR or a manifest with [[method]])"
        case .missingPredictions(let method, let count, let examples):
            return
                "method '\(method)' has no prediction for \(count) frame(s) with ground truth, e.g. \(examples.joined(separator: ", ")) (--strict)"
        case .shard(let path, let problem): return "\(path): \(problem)"
        case .unreadable(let files):
            if files.count == 1 { return "\(files[0].reason) (--skip-unreadable scores the rest)" }
            return "\(files.count) files could not be read, e.g. \(files[0].reason) (--skip-unreadable scores the rest)"
        case .cancelled: return "interrupted; nothing was written"
        }
    }
}

public enum Evaluator {
    /// Evaluates every method on every frame that has ground truth, in
    /// parallel over frames; memory holds only the frames in flight. Files
    /// that cannot be read are all collected: thrown together as
    /// `EvaluationError.unreadable`, or with `skipUnreadable` left out and
    /// listed in `Evaluation.unreadable`.
    public static func run(
        _ dataset: Dataset, options: EvaluationOptions = EvaluationOptions(),
        progress: @Sendable (Int, Int) -> Void = { _, _ in },
        cancelled: @Sendable () -> Bool = { false }
    ) throws -> Evaluation {
        guard !dataset.methods.isEmpty else { throw EvaluationError.noMethods }
        let frames = dataset.sequences.flatMap { sequence in
            sequence.frames.filter { $0.groundTruth != nil && (options.scope?.contains($0.key) ?? true) }
                .map { (sequence: sequence.name, record: $0) }
        }
        guard !frames.isEmpty else { throw EvaluationError.noGroundTruth(dataset.root) }
        var missing: [String: [String]] = [:]
        for method in dataset.methods {
            let keys = frames.filter { $0.record.predictions[method] == nil }.map(\.record.key)
            if !keys.isEmpty { missing[method] = keys }
        }
        if options.strict, let (method, keys) = missing.sorted(by: { $0.key < $1.key }).first {
            throw EvaluationError.missingPredictions(method: method, count: keys.count, examples: Array(keys.prefix(3)))
        }
        let loader = FrameLoader(dataset: dataset)
        let reference = dataset.reference
        func setup(_ method: String) -> MetricSetup {
            MetricSetup(space: dataset.space, compared: reference != nil && method != reference)
        }
        struct Shared {
            var perFrame: [FrameCounts?]
            var notes: [String] = []
            var error: Error?
            var done = 0
        }
        let shared = Mutex(Shared(perFrame: Array(repeating: nil, count: frames.count)))
        let decoded = options.temporal ? DecodedMaps() : nil
        parallelFor(frames.count) { index in
            if cancelled() || shared.withLock({ $0.error != nil }) { return }
            do {
                let result = try evaluate(
                    frame: frames[index].record, sequence: frames[index].sequence,
                    loader: loader, methods: dataset.methods, reference: reference,
                    space: dataset.space, band: options.band,
                    boundaryRatio: options.boundaryRatio, timing: options.timing, keep: decoded,
                    cancelled: cancelled)
                let done = shared.withLock { state -> Int in
                    state.perFrame[index] = result
                    state.notes += result.notes
                    state.done += 1
                    return state.done
                }
                progress(done, frames.count)
            } catch {
                shared.withLock { if $0.error == nil { $0.error = error } }
            }
        }
        if cancelled() { throw EvaluationError.cancelled }
        let state = shared.withLock { $0 }
        if let error = state.error { throw error }
        var unreadable = state.perFrame.flatMap { $0?.unreadable ?? [] }
        var notes = state.notes
        var temporal: [String: TemporalCounts] = [:]
        if options.temporal {
            let outcome = try Temporal.evaluate(
                dataset, vcLengths: options.vcLengths, scope: options.scope,
                skip: Set(unreadable.map(\.path)), decoded: decoded, cancelled: cancelled)
            temporal = outcome.counts
            unreadable += outcome.unreadable
            notes += outcome.notes
        }
        unreadable = unique(unreadable)
        if !unreadable.isEmpty && !options.skipUnreadable { throw EvaluationError.unreadable(unreadable) }
        // Merge in dataset order so per-frame lists and sums do not depend on scheduling.
        var results: [MethodResult] = []
        for method in dataset.methods {
            var counts = MethodCounts(setup(method))
            var both =
                reference != nil && method != reference
                ? SharedCounts(method: MethodCounts(setup(method)), reference: MethodCounts(setup(reference!))) : nil
            for frame in state.perFrame {
                guard let frame, let c = frame.counts[method] else { continue }
                try counts.merge(c)
                if both != nil, let r = frame.counts[reference!] {
                    try both!.method.merge(c)
                    try both!.reference.merge(r)
                }
            }
            counts.temporal = temporal[method] ?? TemporalCounts()
            both?.method.temporal = counts.temporal
            both?.reference.temporal = temporal[reference ?? ""] ?? TemporalCounts()
            results.append(MethodResult(name: method, counts: counts, missing: missing[method] ?? [], shared: both))
        }
        var evaluation = Evaluation(
            space: dataset.space, results: results, reference: reference, band: options.band,
            files: state.perFrame.compactMap { $0?.scored == true ? $0?.groundTruth : nil },
            notes: Array(Set(notes)).sorted() + dataset.notes)
        evaluation.framesWithGroundTruth = frames.count
        evaluation.unreadable = unreadable
        evaluation.boundaryRatio = options.boundaryRatio
        evaluation.vcLengths = options.temporal ? options.vcLengths : []
        evaluation.evaluationProtocol = options.evaluationProtocol
        return evaluation
    }

    static func unique(_ files: [UnreadableFile]) -> [UnreadableFile] {
        var seen = Set<String>()
        return files.filter { seen.insert($0.path).inserted }
    }

    /// One frame's counts per method, and the files of it that could not be read.
    struct FrameCounts: Sendable {
        var groundTruth: String
        var scored = false
        var counts: [String: MethodCounts] = [:]
        var notes: [String] = []
        var unreadable: [UnreadableFile] = []
    }

    static func evaluate(
        frame: FrameRecord, sequence: String, loader: FrameLoader, methods: [String],
        reference: String?,
        space: LabelSpace, band: Int, boundaryRatio: Double?, timing: EvaluationTiming? = nil,
        keep: DecodedMaps? = nil, cancelled: () -> Bool = { false }
    ) throws -> FrameCounts {
        let k = space.count
        func measure<T>(_ stage: EvaluationTiming.Stage, _ body: () throws -> T) rethrows -> T {
            try timing.map { try $0.measure(stage, body) } ?? body()
        }
        var result = FrameCounts(groundTruth: frame.groundTruth!)
        func load<T>(_ path: String, _ body: () throws -> T?) -> T? {
            do { return try body() } catch {
                result.unreadable.append(UnreadableFile(path: path, reason: "\(error)"))
                return nil
            }
        }
        let gt = load(frame.groundTruth!) { try measure(.decodeGroundTruth) { try loader.groundTruth(frame) } }
        var instances: [UInt16]?
        if let path = frame.instances {
            instances = load(path) {
                let ids = try loader.instances(frame)
                if let ids, let gt, ids.count != gt.map.ids.count {
                    throw FormatError.unsupported(
                        path: path,
                        problem: "instance ids are not the size of \(frame.groundTruth!)")
                }
                return ids
            }
            if instances == nil, gt != nil { return result }
        }
        guard let gt else { return result }
        keep?.keep(gt.map, path: frame.groundTruth!)
        result.notes = gt.notes
        result.scored = true
        let mask = band > 0 ? measure(.band) { BoundaryBand.band(gt.map, width: band) } : nil
        var predictions: [String: LabelMap] = [:]
        for method in methods {
            let size = (gt.map.width, gt.map.height)
            guard let path = frame.predictions[method],
                let labels = load(
                    path,
                    {
                        try measure(.decodePredictions) { try loader.prediction(frame, method: method, size: size) }
                    })
            else { continue }
            predictions[method] = labels.map
            keep?.keep(labels.map, path: path)
            result.notes += labels.notes
        }
        for (method, prediction) in predictions {
            if cancelled() { break }
            var all = ConfusionMatrix(classes: k)
            var inBand = ConfusionMatrix(classes: k)
            measure(.confusion) {
                ConfusionMatrix.add(groundTruth: gt.map, prediction: prediction, all: &all, band: &inBand, mask: mask)
            }
            let compared = reference != nil && method != reference
            let input = FrameInput(
                key: frame.key, sequence: sequence, space: space, groundTruth: gt.map,
                prediction: prediction,
                reference: compared ? reference.flatMap { predictions[$0] } : nil, bandMask: mask,
                instances: instances, confusion: all, bandConfusion: inBand,
                boundaryRatio: boundaryRatio, timing: timing)
            var c = MethodCounts(MetricSetup(space: space, compared: compared))
            c.add(input)
            result.counts[method] = c
        }
        return result
    }
}
