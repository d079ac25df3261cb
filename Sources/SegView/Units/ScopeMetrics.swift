import Dispatch
import SegDataset
import SegEval
import SegFormats
import SegLabels
import Synchronization

/// Boundary IoU and iIoU counts of one frame per method (where both the
/// ground truth and the method's prediction could be read).
public struct FrameMetricCounts: Sendable {
    public var boundary: [String: BoundaryStatistics.Counts] = [:]
    public var instances: [String: InstanceCounts] = [:]
}

/// Boundary IoU and iIoU of every frame of a sequence, computed in the
/// background once the panel asks for them at a wider scope, then kept.
public final class ScopeMetricStatistics: Sendable {
    private let results = Mutex<[Int: [FrameMetricCounts]]>([:])
    private let started = Mutex<Set<Int>>([])
    private let dataset: Dataset

    public init(dataset: Dataset) { self.dataset = dataset }

    public func counts(sequence s: Int, blocking: Bool) -> [FrameMetricCounts]? {
        if let done = results.withLock({ $0[s] }) { return done }
        if blocking {
            let value = Self.compute(dataset: dataset, sequence: s)
            results.withLock { $0[s] = value }
            return value
        }
        if started.withLock({ $0.insert(s).inserted }) {
            let dataset = dataset
            DispatchQueue.global(qos: .utility).async { [self] in
                let value = Self.compute(dataset: dataset, sequence: s)
                results.withLock { $0[s] = value }
            }
        }
        return nil
    }

    public func done(_ sequences: [Int]) -> Int { results.withLock { r in sequences.filter { r[$0] != nil }.count } }

    static func compute(dataset: Dataset, sequence s: Int) -> [FrameMetricCounts] {
        let loader = FrameLoader(dataset: dataset)
        let frames = dataset.sequences[s].frames
        let k = dataset.space.count
        let space = dataset.space
        let out = Mutex([FrameMetricCounts](repeating: FrameMetricCounts(), count: frames.count))
        parallelFor(frames.count) { f in
            guard let gt = (try? loader.groundTruth(frames[f]))??.map else { return }
            let instances = (try? loader.instances(frames[f])) ?? nil
            var counts = FrameMetricCounts()
            for method in dataset.methods {
                guard
                    let p =
                        (try? loader.prediction(
                            frames[f], method: method,
                            size: (
                                gt.width,
                                gt.height
                            )))??.map
                else { continue }
                var c = BoundaryStatistics.Counts(
                    intersections: Array(repeating: 0, count: k),
                    unions: Array(repeating: 0, count: k))
                BoundaryIoU.add(
                    groundTruth: gt, prediction: p, classes: k, ratio: BoundaryIoU.defaultDilationRatio,
                    intersections: &c.intersections, unions: &c.unions)
                counts.boundary[method] = c
                if let instances, instances.count == gt.ids.count {
                    var i = InstanceCounts(classes: k, categories: space.categories.count)
                    InstanceIoU.add(instances: instances, prediction: p, space: space, into: &i)
                    counts.instances[method] = i
                }
            }
            out.withLock { $0[f] = counts }
        }
        return out.withLock { $0 }
    }
}

/// Boundary IoU and iIoU of a scope, summed over the same frames as its IoU
/// (and, for Δ, over the frames both methods have).
public struct ScopeMetricFigures: Sendable {
    public var boundary: [String: BoundaryStatistics.Counts] = [:]
    public var instances: [String: InstanceCounts] = [:]
    /// Reference and compared method over the frames both have.
    public var pairBoundary: (reference: BoundaryStatistics.Counts, compared: BoundaryStatistics.Counts)?
    public var pairInstances: (reference: InstanceCounts, compared: InstanceCounts)?
}

/// Boundary IoU and iIoU at the sequence, range and dataset scopes of the
/// IoU panel: computed in the background with progress, then cached.
enum ScopeMetrics {
    static func load(into model: inout ViewModel, controller c: ViewerController, blocking: Bool) {
        let state = c.state
        guard state.panel.kind == .iou, state.iou.metric != .iou, state.panel.scope != .frame, model.scope != nil else {
            return
        }
        let positions: [ViewState.FramePosition]
        switch state.panel.scope {
        case .frame: return
        case .sequence, .range:
            let range = state.panel.scope == .range ? state.panel.range : nil
            let s = range?.sequence ?? state.sequence
            let indices = range.map { Array($0.first...$0.last) } ?? Array(c.dataset.sequences[s].frames.indices)
            positions = indices.map { ViewState.FramePosition(sequence: s, frame: $0) }
        case .dataset:
            positions = c.dataset.sequences.enumerated().flatMap {
                s,
                q in q.frames.indices.map { ViewState.FramePosition(sequence: s, frame: $0) }
            }
        }
        let sequences = Array(Set(positions.map(\.sequence))).sorted()
        let key = ScopeKey(
            scope: state.panel.scope, sequence: state.panel.scope == .dataset ? 0 : state.sequence,
            range: state.panel.scope == .range
                ? state.panel.range : nil, reference: model.reference, compared: model.comparedMethod)
        if let cached = c.scopeMetricsCache, cached.key == key {
            model.scopeMetrics = cached.figures
            return
        }
        var perSequence: [Int: [FrameMetricCounts]] = [:]
        for s in sequences {
            if let counts = c.scopeMetricStatistics.counts(
                sequence: s,
                blocking: blocking)
            {
                perSequence[s] = counts
            }
        }
        guard perSequence.count == sequences.count else {
            let done = c.scopeMetricStatistics.done(sequences)
            model.scopeProgress = "\(state.iou.metric.rawValue): \(done)/\(sequences.count) sequences computed…"
            return
        }
        let k = c.theme.space.count
        let categories = c.theme.space.categories.count
        let empty = BoundaryStatistics.Counts(
            intersections: Array(repeating: 0, count: k),
            unions: Array(
                repeating: 0,
                count: k))
        var figures = ScopeMetricFigures()
        let reference = model.reference
        let compared = model.comparedMethod
        var pairB = (empty, empty)
        var pairI = (
            InstanceCounts(classes: k, categories: categories),
            InstanceCounts(classes: k, categories: categories)
        )
        var common = 0
        for p in positions {
            guard let counts = perSequence[p.sequence]?[p.frame] else { continue }
            for (method, b) in counts.boundary { figures.boundary[method, default: empty].add(b) }
            for (method, i) in counts.instances {
                figures.instances[
                    method,
                    default: InstanceCounts(
                        classes: k,
                        categories: categories)
                ].merge(i)
            }
            if let reference, let compared, let r = counts.boundary[reference], let m = counts.boundary[compared] {
                pairB.0.add(r)
                pairB.1.add(m)
                common += 1
                if let ri = counts.instances[reference], let mi = counts.instances[compared] {
                    pairI.0.merge(ri)
                    pairI.1.merge(mi)
                }
            }
        }
        if common > 0 {
            figures.pairBoundary = pairB
            figures.pairInstances = pairI
        }
        c.scopeMetricsCache = (key, figures)
        model.scopeMetrics = figures
    }
}

extension BoundaryStatistics.Counts {
    mutating func add(_ other: Self) {
        for c in intersections.indices {
            intersections[c] += other.intersections[c]
            unions[c] += other.unions[c]
        }
    }
}
