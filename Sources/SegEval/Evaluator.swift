import Dispatch
import Foundation
import SegDataset
import SegFormats
import SegLabels
import Synchronization

/// One method's counts over a dataset.
public struct MethodCounts: Sendable, Equatable {
    public var confusion: ConfusionMatrix
    /// Counts inside the boundary band only.
    public var bandConfusion: ConfusionMatrix
    /// Against the reference method (nil for the reference itself).
    public var flips: FlipCounts?
    public var bandFlips: FlipCounts?
    /// (frame key, mIoU of that frame alone), in dataset order.
    public var frames: [FrameScore] = []
    /// Boundary IoU (Cheng et al.): per class, summed intersections and unions of boundaries.
    public var boundaryIntersections: [Int64]
    public var boundaryUnions: [Int64]
    /// Flicker and video consistency.
    public var temporal = TemporalCounts()
    /// Cityscapes' instance-level counts (iIoU), when the GT has instance ids.
    public var instances: InstanceCounts

    public init(classes: Int, withFlips: Bool, categories: Int = 0) {
        instances = InstanceCounts(classes: classes, categories: categories)
        confusion = ConfusionMatrix(classes: classes)
        bandConfusion = ConfusionMatrix(classes: classes)
        flips = withFlips ? FlipCounts() : nil
        bandFlips = withFlips ? FlipCounts() : nil
        boundaryIntersections = Array(repeating: 0, count: classes)
        boundaryUnions = Array(repeating: 0, count: classes)
    }

    public mutating func merge(_ other: MethodCounts) {
        confusion.merge(other.confusion)
        bandConfusion.merge(other.bandConfusion)
        if let f = other.flips { flips?.merge(f) }
        if let f = other.bandFlips { bandFlips?.merge(f) }
        frames += other.frames
        for c in boundaryIntersections.indices {
            boundaryIntersections[c] += other.boundaryIntersections[c]
            boundaryUnions[c] += other.boundaryUnions[c]
        }
        temporal.merge(other.temporal)
        instances.merge(other.instances)
    }

    /// Boundary IoU per class (NaN where no image had a boundary of the class).
    public var boundaryIoU: [Double] {
        zip(boundaryIntersections, boundaryUnions).map { $1 == 0 ? .nan : Double($0) / Double($1) }
    }
}

public struct FrameScore: Sendable, Equatable {
    public let key: String
    public let meanIoU: Double
    public init(key: String, meanIoU: Double) {
        self.key = key
        self.meanIoU = meanIoU
    }
}

/// One method's evaluation: its name, counts and the frames it lacks.
public struct MethodResult: Sendable {
    public let name: String
    public var counts: MethodCounts
    /// Keys of frames with GT but no prediction of this method.
    public var missing: [String]

    public var metrics: Metrics { Metrics(counts.confusion) }
    public var bandMetrics: Metrics { Metrics(counts.bandConfusion) }
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
    public init() {}
}

/// Seconds spent per stage of evaluation, summed over frames and threads.
public final class EvaluationTiming: Sendable {
    public enum Stage: String, CaseIterable, Sendable {
        case decodeGroundTruth = "decode GT", band, decodePredictions = "decode predictions", confusion, flips
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
    case cancelled

    public var description: String {
        switch self {
        case .noGroundTruth(let root): return "\(root): no frame has ground truth to evaluate against"
        case .noMethods: return "no predictions given (use --pred NAME=DIR or a manifest with [[method]])"
        case .missingPredictions(let method, let count, let examples):
            return "method '\(method)' has no prediction for \(count) frame(s) with ground truth, e.g. \(examples.joined(separator: ", ")) (--strict)"
        case .shard(let path, let problem): return "\(path): \(problem)"
        case .cancelled: return "interrupted; nothing was written"
        }
    }
}

public enum Evaluator {
    /// Evaluates every method on every frame that has ground truth, in
    /// parallel over frames; memory holds only the frames in flight.
    public static func run(_ dataset: Dataset, options: EvaluationOptions = EvaluationOptions(),
                           progress: @Sendable (Int, Int) -> Void = { _, _ in },
                           cancelled: @Sendable () -> Bool = { false }) throws -> Evaluation {
        guard !dataset.methods.isEmpty else { throw EvaluationError.noMethods }
        let frames = dataset.frames.filter { $0.groundTruth != nil }
        guard !frames.isEmpty else { throw EvaluationError.noGroundTruth(dataset.root) }
        var missing: [String: [String]] = [:]
        for method in dataset.methods {
            let keys = frames.filter { $0.predictions[method] == nil }.map(\.key)
            if !keys.isEmpty { missing[method] = keys }
        }
        if options.strict, let (method, keys) = missing.sorted(by: { $0.key < $1.key }).first {
            throw EvaluationError.missingPredictions(method: method, count: keys.count, examples: Array(keys.prefix(3)))
        }
        let loader = FrameLoader(dataset: dataset)
        let k = dataset.space.count
        let reference = dataset.reference
        struct Shared {
            var perFrame: [[String: MethodCounts]?]
            var notes: [String] = []
            var error: Error?
            var done = 0
        }
        let shared = Mutex(Shared(perFrame: Array(repeating: nil, count: frames.count)))
        parallelFor(frames.count) { index in
            if cancelled() || shared.withLock({ $0.error != nil }) { return }
            do {
                let (result, notes) = try evaluate(frame: frames[index], loader: loader, methods: dataset.methods, reference: reference,
                                                   space: dataset.space, band: options.band, boundaryRatio: options.boundaryRatio, timing: options.timing)
                let done = shared.withLock { state -> Int in
                    state.perFrame[index] = result
                    state.notes += notes
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
        // Merge in dataset order so per-frame lists and sums do not depend on scheduling.
        let temporal = options.temporal ? try Temporal.evaluate(dataset, vcLengths: options.vcLengths, cancelled: cancelled) : [:]
        let results = dataset.methods.map { method in
            var counts = MethodCounts(classes: k, withFlips: reference != nil && method != reference, categories: dataset.space.categories.count)
            for frame in state.perFrame { if let c = frame?[method] { counts.merge(c) } }
            counts.temporal = temporal[method] ?? TemporalCounts()
            return MethodResult(name: method, counts: counts, missing: missing[method] ?? [])
        }
        var evaluation = Evaluation(space: dataset.space, results: results, reference: reference, band: options.band,
                                    files: frames.compactMap(\.groundTruth), notes: Array(Set(state.notes)).sorted() + dataset.notes)
        evaluation.boundaryRatio = options.boundaryRatio
        evaluation.vcLengths = options.temporal ? options.vcLengths : []
        evaluation.evaluationProtocol = options.evaluationProtocol
        return evaluation
    }

    static func evaluate(frame: FrameRecord, loader: FrameLoader, methods: [String], reference: String?,
                         space: LabelSpace, band: Int, boundaryRatio: Double?, timing: EvaluationTiming? = nil) throws -> ([String: MethodCounts], [String]) {
        let k = space.count
        func measure<T>(_ stage: EvaluationTiming.Stage, _ body: () throws -> T) rethrows -> T {
            try timing.map { try $0.measure(stage, body) } ?? body()
        }
        guard let gt = try measure(.decodeGroundTruth, { try loader.groundTruth(frame) }) else { return ([:], []) }
        var notes = gt.notes
        let instances = try loader.instances(frame)
        if let instances, instances.count != gt.map.ids.count {
            throw FormatError.unsupported(path: frame.instances!, problem: "instance ids are not the size of \(frame.groundTruth!)")
        }
        let mask = band > 0 ? measure(.band) { BoundaryBand.band(gt.map, width: band) } : nil
        var predictions: [String: LabelMap] = [:]
        for method in methods {
            guard let labels = try measure(.decodePredictions, { try loader.prediction(frame, method: method, size: (gt.map.width, gt.map.height)) })
            else { continue }
            predictions[method] = labels.map
            notes += labels.notes
        }
        var result: [String: MethodCounts] = [:]
        for (method, prediction) in predictions {
            var c = MethodCounts(classes: k, withFlips: reference != nil && method != reference, categories: space.categories.count)
            if let instances { InstanceIoU.add(instances: instances, prediction: prediction, space: space, into: &c.instances) }
            measure(.confusion) {
                ConfusionMatrix.add(groundTruth: gt.map, prediction: prediction, all: &c.confusion, band: &c.bandConfusion, mask: mask)
            }
            if let boundaryRatio {
                measure(.boundaryIoU) {
                    BoundaryIoU.add(groundTruth: gt.map, prediction: prediction, classes: k, ratio: boundaryRatio,
                                    intersections: &c.boundaryIntersections, unions: &c.boundaryUnions)
                }
            }
            if let reference, method != reference, let ref = predictions[reference] {
                measure(.flips) {
                    c.flips!.add(groundTruth: gt.map, reference: ref, method: prediction)
                    if let mask { c.bandFlips!.add(groundTruth: gt.map, reference: ref, method: prediction, mask: mask) }
                }
            }
            c.frames = [FrameScore(key: frame.key, meanIoU: Metrics(c.confusion).meanIoU)]
            result[method] = c
        }
        return (result, notes)
    }
}
