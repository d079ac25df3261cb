import Dispatch
import SegDataset
import SegEval
import SegFormats
import SegLabels
import SegRuns
import Synchronization

/// Decoded frames, loaded off the UI thread and kept within a memory budget
/// (least recently used frames are dropped first), and the frames' features
/// the explain view reads or computes (within the same budget).
public final class FrameCache: Sendable {
    struct State {
        var frames: [Int: FrameData] = [:]
        var lastUse: [Int: UInt64] = [:]
        var features: [Int: FeatureMap] = [:]
        var featureUse: [Int: UInt64] = [:]
        var pending: Set<Int> = []
        var clock: UInt64 = 0
        var bytes = 0
    }

    private let state = Mutex(State())
    private let loader: FrameLoader
    private let records: [FrameRecord]
    private let methods: [String]
    private let classes: Int
    private let budget: Int
    private let queue = DispatchQueue(label: "segscope.frames", qos: .userInitiated, attributes: .concurrent)
    private let slots = DispatchSemaphore(value: 2)

    public init(dataset: Dataset, budgetBytes: Int) {
        loader = FrameLoader(dataset: dataset)
        records = dataset.frames
        methods = dataset.methods
        classes = dataset.space.count
        budget = budgetBytes
    }

    public var count: Int { records.count }

    /// The frame if loaded; otherwise starts loading it and returns nil.
    public func frame(_ index: Int) -> FrameData? {
        let hit = state.withLock { s -> FrameData? in
            s.clock += 1
            if s.frames[index] != nil { s.lastUse[index] = s.clock }
            return s.frames[index]
        }
        if hit == nil { request(index) }
        return hit
    }

    public func request(_ index: Int) {
        guard records.indices.contains(index) else { return }
        let start = state.withLock { s -> Bool in
            guard s.frames[index] == nil, !s.pending.contains(index) else { return false }
            s.pending.insert(index)
            return true
        }
        guard start else { return }
        let record = records[index]
        let loader = loader
        let methods = methods
        let classes = classes
        queue.async { [self] in
            slots.wait()
            let data = FrameData.load(record, loader: loader, methods: methods, classes: classes)
            slots.signal()
            store(index, data)
        }
    }

    /// Blocks until frame `index` is loaded (headless rendering, tests).
    public func load(_ index: Int) -> FrameData {
        if let data = state.withLock({ $0.frames[index] }) { return data }
        let data = FrameData.load(records[index], loader: loader, methods: methods, classes: classes)
        store(index, data)
        return data
    }

    private func store(_ index: Int, _ data: FrameData) {
        state.withLock { s in
            s.pending.remove(index)
            s.clock += 1
            s.frames[index] = data
            s.lastUse[index] = s.clock
            s.bytes += data.bytes
            evict(&s, keepingFrame: index, keepingFeatures: nil)
        }
    }

    /// A frame's features if kept (its use counts for the budget's order).
    public func features(_ index: Int) -> FeatureMap? {
        state.withLock { s in
            s.clock += 1
            if s.features[index] != nil { s.featureUse[index] = s.clock }
            return s.features[index]
        }
    }

    public func storeFeatures(_ index: Int, _ map: FeatureMap) {
        state.withLock { s in
            s.clock += 1
            s.bytes -= 4 * (s.features[index]?.values.count ?? 0)
            s.features[index] = map
            s.featureUse[index] = s.clock
            s.bytes += 4 * map.values.count
            evict(&s, keepingFrame: nil, keepingFeatures: index)
        }
    }

    /// Drops the least recently used frames and features until the budget holds, never the one just stored
    /// and never the last frame.
    private func evict(_ s: inout State, keepingFrame: Int?, keepingFeatures: Int?) {
        while s.bytes > budget {
            let oldestFrame =
                s.frames.count > 1 ? s.lastUse.filter { $0.key != keepingFrame }.min { $0.value < $1.value } : nil
            let oldestFeatures = s.featureUse.filter { $0.key != keepingFeatures }.min { $0.value < $1.value }
            if let f = oldestFeatures, oldestFrame.map({ f.value < $0.value }) ?? true {
                s.bytes -= 4 * (s.features[f.key]?.values.count ?? 0)
                s.features[f.key] = nil
                s.featureUse[f.key] = nil
            } else if let f = oldestFrame {
                s.bytes -= s.frames[f.key]?.bytes ?? 0
                s.frames[f.key] = nil
                s.lastUse[f.key] = nil
            } else {
                return
            }
        }
    }

    public var isLoading: Bool { state.withLock { !$0.pending.isEmpty } }
}

/// What one frame contributes to the figures of wider scopes: each method's
/// confusion where both the ground truth and that method's prediction could
/// be read, and why the others could not.
public struct ScoredFrame: Sendable, Equatable {
    /// Per method: the frame's confusion.
    public var matrices: [String: ConfusionMatrix] = [:]
    /// The frame has a ground-truth file (frames without are not scored and not a problem).
    public var labelled = false
    /// Unreadable or missing files of a labelled frame, one line each ("file: reason").
    public var problems: [String] = []
}

/// Per-frame confusion matrices of a whole sequence, computed in the
/// background (ground truth and predictions only, no images) for the
/// sparklines and the figures of the sequence, range and dataset scopes.
public final class SequenceStatistics: Sendable {
    private let results = Mutex<[Int: [ScoredFrame]]>([:])
    private let started = Mutex<Set<Int>>([])
    private let dataset: Dataset

    public init(dataset: Dataset) { self.dataset = dataset }

    /// Per frame of sequence `s`, its score. Nil until computed (asking starts it).
    public func scores(sequence s: Int) -> [ScoredFrame]? {
        if let done = results.withLock({ $0[s] }) { return done }
        let begin = started.withLock { $0.insert(s).inserted }
        if begin {
            let dataset = dataset
            DispatchQueue.global(qos: .utility).async { [self] in
                let value = SequenceStatistics.compute(dataset: dataset, sequence: s)
                results.withLock { $0[s] = value }
            }
        }
        return nil
    }

    /// Per frame of every sequence, once all are computed (nil until then;
    /// asking starts the missing ones). `blocking` computes them here.
    public func allSequences(blocking: Bool) -> [[ScoredFrame]]? {
        if blocking { return dataset.sequences.indices.map { compute(sequence: $0) } }
        let parts = dataset.sequences.indices.map { scores(sequence: $0) }
        return parts.contains { $0 == nil } ? nil : parts.map { $0! }
    }

    /// How many sequences are computed, of all.
    public var progress: (done: Int, of: Int) { (results.withLock { $0.count }, dataset.sequences.count) }

    /// Blocking variant for headless use.
    @discardableResult
    public func compute(sequence s: Int) -> [ScoredFrame] {
        if let done = results.withLock({ $0[s] }) { return done }
        let value = SequenceStatistics.compute(dataset: dataset, sequence: s)
        results.withLock { $0[s] = value }
        return value
    }

    static func compute(dataset: Dataset, sequence s: Int) -> [ScoredFrame] {
        let loader = FrameLoader(dataset: dataset)
        let frames = dataset.sequences[s].frames
        let out = Mutex([ScoredFrame](repeating: ScoredFrame(), count: frames.count))
        parallelFor(frames.count) { f in
            out.withLock { $0[f] = score(frames[f], loader: loader, dataset: dataset) }
        }
        return out.withLock { $0 }
    }

    static func score(_ frame: FrameRecord, loader: FrameLoader, dataset: Dataset) -> ScoredFrame {
        var score = ScoredFrame()
        guard frame.groundTruth != nil else { return score }
        score.labelled = true
        let gt: LabelMap
        do {
            guard let labels = try loader.groundTruth(frame) else { return score }
            gt = labels.map
        } catch {
            score.problems.append("ground truth: \(error)")
            return score
        }
        for method in dataset.methods {
            guard frame.predictions[method] != nil else {
                score.problems.append("\(method): no prediction for \(frame.key)")
                continue
            }
            do {
                guard
                    let p = try loader.prediction(
                        frame, method: method,
                        size: (
                            gt.width,
                            gt.height
                        ))
                else { continue }
                var m = ConfusionMatrix(classes: dataset.space.count)
                m.add(groundTruth: gt, prediction: p.map)
                score.matrices[method] = m
            } catch {
                score.problems.append("\(method): \(error)")
            }
        }
        return score
    }
}

/// Per-frame counts of annotation suspects over the whole dataset at one
/// threshold, computed in the background (ground truth, predictions and
/// confidences only).
public final class SuspectStatistics: Sendable {
    private let results = Mutex<(tau: Float, counts: [Int?])?>(nil)
    private let running = Mutex<Float?>(nil)
    private let dataset: Dataset

    public init(dataset: Dataset) { self.dataset = dataset }

    /// Suspect pixels per frame (dataset order; nil: no GT or no prediction)
    /// at `tau`; nil while computing (asking starts it).
    public func counts(tau: Float, blocking: Bool) -> [Int?]? {
        if let done = results.withLock({ $0 }), done.tau == tau { return done.counts }
        if blocking {
            let counts = SuspectStatistics.compute(dataset: dataset, tau: tau)
            results.withLock { $0 = (tau, counts) }
            return counts
        }
        let begin = running.withLock { r -> Bool in
            guard r != tau else { return false }
            r = tau
            return true
        }
        if begin {
            let dataset = dataset
            DispatchQueue.global(qos: .utility).async { [self] in
                let counts = SuspectStatistics.compute(dataset: dataset, tau: tau)
                results.withLock { $0 = (tau, counts) }
            }
        }
        return nil
    }

    static func compute(dataset: Dataset, tau: Float) -> [Int?] {
        let loader = FrameLoader(dataset: dataset)
        let frames = dataset.frames
        let out = Mutex([Int?](repeating: nil, count: frames.count))
        parallelFor(frames.count) { f in
            guard let gt = try? loader.groundTruth(frames[f])?.map else { return }
            let size = (gt.width, gt.height)
            var predictions: [LabelMap] = []
            var confidences: [ConfidenceMap?] = []
            for method in dataset.methods {
                guard let p = try? loader.prediction(frames[f], method: method, size: size)?.map else { return }
                predictions.append(p)
                confidences.append((try? loader.confidence(frames[f], method: method, size: size)) ?? nil)
            }
            guard !predictions.isEmpty else { return }
            let mask = Suspects.mask(
                groundTruth: gt, predictions: predictions, confidences: confidences, tau: tau,
                classes: dataset.space.count)
            let count = mask.reduce(0) { $0 + Int($1) }
            out.withLock { $0[f] = count }
        }
        return out.withLock { $0 }
    }
}

/// Flicker and video consistency of each sequence, per method, computed in
/// the background (predictions of every frame, GT for VC) for the sparklines.
public final class TemporalStatistics: Sendable {
    private let results = Mutex<[Int: [String: TemporalCounts]]>([:])
    private let started = Mutex<Set<Int>>([])
    private let dataset: Dataset

    public init(dataset: Dataset) { self.dataset = dataset }

    public func counts(sequence s: Int) -> [String: TemporalCounts]? {
        if let done = results.withLock({ $0[s] }) { return done }
        if started.withLock({ $0.insert(s).inserted }) {
            DispatchQueue.global(qos: .utility).async { [self] in _ = compute(sequence: s) }
        }
        return nil
    }

    public func compute(sequence s: Int) -> [String: TemporalCounts] {
        if let done = results.withLock({ $0[s] }) { return done }
        let value =
            (try? Temporal.sequence(
                dataset.sequences[s], loader: FrameLoader(dataset: dataset), methods: dataset.methods,
                classes: dataset.space.count, vcLengths: [8])) ?? [:]
        results.withLock { $0[s] = value }
        return value
    }
}

/// Boundary IoU of one frame per method, computed off the UI thread once asked for.
public final class BoundaryStatistics: Sendable {
    public struct Counts: Sendable {
        public var intersections: [Int64], unions: [Int64]
        public var iou: [Double] { zip(intersections, unions).map { $1 == 0 ? .nan : Double($0) / Double($1) } }
    }
    private let results = Mutex<[Int: [String: Counts]]>([:])
    private let started = Mutex<Set<Int>>([])

    public init() {}

    public func counts(frame index: Int, data: FrameData, classes k: Int, blocking: Bool) -> [String: Counts]? {
        if let done = results.withLock({ $0[index] }) { return done }
        let compute: @Sendable () -> [String: Counts] = {
            guard let gt = data.groundTruth else { return [:] }
            var out: [String: Counts] = [:]
            for (method, prediction) in data.predictions where prediction.ids.count == gt.ids.count {
                var c = Counts(intersections: Array(repeating: 0, count: k), unions: Array(repeating: 0, count: k))
                BoundaryIoU.add(
                    groundTruth: gt, prediction: prediction, classes: k, ratio: BoundaryIoU.defaultDilationRatio,
                    intersections: &c.intersections, unions: &c.unions)
                out[method] = c
            }
            return out
        }
        if blocking {
            let value = compute()
            results.withLock { $0[index] = value }
            return value
        }
        if started.withLock({ $0.insert(index).inserted }) {
            DispatchQueue.global(qos: .utility).async { [self] in
                let value = compute()
                results.withLock { $0[index] = value }
            }
        }
        return nil
    }
}
