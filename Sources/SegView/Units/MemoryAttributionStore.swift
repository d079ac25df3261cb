import Dispatch
import SegDataset
import SegEngine
import SegFormats
import SegRuns
import Synchronization

/// One frame's share of the fixed/broken panel.
public enum FrameAttribution: Sendable, Equatable {
    case table(MemoryAttribution)
    case noGroundTruth
    /// Neither features nor an image the weights' backbone could make them from.
    case noFeatures
    /// Why the frame could not be attributed (unreadable ground truth, sizes that disagree), in a line.
    case failed(String)
}

/// The fixed/broken tables of single frames (MemoryAttribution.frame, one forward pass each), computed in the
/// background with the explain view's model and features (ExplainSource: the weights are loaded once, features
/// kept in the frame cache) and kept per frame: a table is a few arrays of the class count, so a scope's table
/// is the exact merge of its frames' kept ones.
public final class MemoryAttributionStore: Sendable {
    /// The boundary band of the panel: `explain --fixed-broken`'s default.
    public static let bandWidth = 3

    private struct State {
        /// The empty table frames merge into (the model's classes and reference), or why there is none.
        var base: Result<MemoryAttribution, Unavailable>?
        var done: [ViewState.FramePosition: FrameAttribution] = [:]
        /// The frames of the panel's scope, in the order they are computed.
        var wanted: [ViewState.FramePosition] = []
        var running = false
    }
    private let state = Mutex(State())
    private let source: ExplainSource
    private let dataset: Dataset
    private let queue = DispatchQueue(label: "segscope.attribution", qos: .utility)

    public init(source: ExplainSource, dataset: Dataset) { (self.source, self.dataset) = (source, dataset) }

    /// The empty table the frames at `positions` merge into (nil while the weights load) and their tables known
    /// so far (nil: not yet). The missing ones are computed in the background, replacing the frames asked for
    /// before; `blocking` computes them on this thread (render, tests).
    public func tables(_ positions: [ViewState.FramePosition], blocking: Bool) -> (
        base: Result<MemoryAttribution, Unavailable>?, frames: [FrameAttribution?]
    ) {
        if blocking {
            let base = state.withLock { $0.base } ?? makeBase()
            state.withLock { $0.base = base }
            if case .success(let empty) = base {
                for at in positions where state.withLock({ $0.done[at] }) == nil {
                    let result = attribute(at, reference: empty.reference)
                    state.withLock { $0.done[at] = result }
                }
            }
        }
        let (known, start) = state.withLock { s in
            s.wanted = positions
            let frames = positions.map { s.done[$0] }
            let needed: Bool
            switch s.base {
            case nil: needed = true
            case .success?: needed = frames.contains { $0 == nil }
            case .failure?: needed = false
            }
            let start = needed && !s.running
            if start { s.running = true }
            return ((base: s.base, frames: frames), start)
        }
        if start { queue.async { [self] in work() } }
        return known
    }

    /// Stops computing frames (the panel was closed, or the explain view took the side): the frame being
    /// computed finishes and is kept; no other starts until the panel asks again.
    public func cancel() { state.withLock { $0.wanted = [] } }

    /// Loads the model, then computes the wanted frames not yet known until none is left.
    private func work() {
        if state.withLock({ $0.base }) == nil {
            let base = makeBase()
            state.withLock { $0.base = base }
        }
        while true {
            let next = state.withLock { s -> (ViewState.FramePosition, Stage)? in
                guard case .success(let empty)? = s.base, let at = s.wanted.first(where: { s.done[$0] == nil }) else {
                    s.running = false
                    return nil
                }
                return (at, empty.reference)
            }
            guard let (at, reference) = next else { return }
            let result = attribute(at, reference: reference)
            state.withLock { $0.done[at] = result }
        }
    }

    /// An empty table of the model's classes and the stage MAR refines, or why the model cannot make one.
    private func makeBase() -> Result<MemoryAttribution, Unavailable> {
        do {
            let model = try source.loadedModel()
            guard model.mar != nil else { throw MemoryClassMassError.noMAR(path: model.path) }
            guard model.classes == dataset.space.count else {
                throw Unavailable(
                    "\(model.path): \(model.classes) classes, but the label space \(dataset.space.name) has "
                        + "\(dataset.space.count)")
            }
            return .success(
                MemoryAttribution(
                    classes: model.classes, bandWidth: Self.bandWidth,
                    reference: MemoryAttribution.defaultReference(model)))
        } catch let reason as Unavailable {
            return .failure(reason)
        } catch {
            return .failure(Unavailable(oneLine("\(error)")))
        }
    }

    /// One frame's table through the model on its window (as `explain --fixed-broken` takes it).
    private func attribute(_ at: ViewState.FramePosition, reference: Stage) -> FrameAttribution {
        let record = dataset.sequences[at.sequence].frames[at.frame]
        guard record.groundTruth != nil else { return .noGroundTruth }
        do {
            let model = try source.loadedModel()
            guard source.hasFeatures(at, model) else { return .noFeatures }
            let window = try source.windowFeatures(at, model) { _ in }
            guard let truth = try FrameLoader(dataset: dataset).groundTruth(record) else { return .noGroundTruth }
            return .table(
                try MemoryAttribution.frame(
                    model: model, previous: window.maps[0], current: window.maps[1], next: window.maps[2],
                    groundTruth: truth.map, bandWidth: Self.bandWidth, reference: reference, input: window.name))
        } catch let reason as Unavailable {
            return .failed(reason.text)
        } catch {
            return .failed(oneLine("\(error)"))
        }
    }
}
