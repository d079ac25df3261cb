import SegDataset
import SegEval
import SegLabels

/// A pane of the same frame.
public enum Pane: Equatable, Sendable {
    case image
    case groundTruth
    case method(String)
    /// Boundary pixels whose confidence changed from `before` to `after` by at least τ.
    case confidenceChange(before: String, after: String)
    /// Fixed / broken / changed-but-wrong pixels of `method` against `reference`.
    case flips(reference: String, method: String)
    /// Pixels where every method confidently agrees against the ground truth.
    case suspects
    /// Pixels whose predicted class changes in the next frame.
    case flicker(String)

    /// The frame's parts this pane draws from (their load errors are its own).
    public func sources(methods: [String]) -> [FrameData.Part] {
        switch self {
        case .suspects: return [.groundTruth] + methods.map { .prediction($0) } + methods.map { .confidence($0) }
        case .flicker(let method): return [.prediction(method)]
        case .image: return [.image]
        case .groundTruth: return [.groundTruth]
        case .method(let name): return [.prediction(name)]
        case .confidenceChange(let before, let after): return [.confidence(before), .confidence(after), .prediction(after)]
        case .flips(let reference, let method): return [.groundTruth, .prediction(reference), .prediction(method)]
        }
    }

    public var title: String {
        switch self {
        case .image: return "frame"
        case .groundTruth: return "ground truth"
        case .method(let name): return name
        case .confidenceChange(let before, let after): return "Δconf \(before)→\(after)"
        case .flips(let reference, let method): return "flips \(reference)→\(method)"
        case .suspects: return "annotation suspects"
        case .flicker(let method): return "flicker \(method) → next frame"
        }
    }
}

/// Everything the compositor draws from: the state, what the dataset holds,
/// and what has been loaded so far. Built by the app on the UI thread.
public struct ViewModel: Sendable {
    public var state: ViewState
    public var theme: Theme
    public var sequenceNames: [String]
    public var frameKeys: [String]
    public var methods: [String]
    public var hasGroundTruth: Bool
    public var hasImages: Bool
    /// The current frame, or nil while it loads.
    public var frame: FrameData?
    /// Per-frame mIoU of each method along the current sequence (nil: no GT or not yet known).
    public var sparkline: [String: [Double?]] = [:]
    /// Confusion summed over the scope (sequence, marked range or dataset), per method (nil until computed).
    public var cumulative: [String: ConfusionMatrix]?
    public var bookmarkedFrames: Set<String> = []
    public var loading = false
    /// The next frame of the sequence (the flicker mode compares with it), once loaded.
    public var nextFrame: FrameData?
    /// Flicker and VC of the current sequence per method (nil until computed).
    public var temporal: [String: TemporalCounts]?
    /// Boundary IoU counts of the current frame per method (nil until computed).
    public var frameBoundary: [String: BoundaryStatistics.Counts]?

    public init(state: ViewState, theme: Theme, sequenceNames: [String], frameKeys: [String], methods: [String],
                reference: String?, hasGroundTruth: Bool, hasImages: Bool) {
        self.state = state
        self.theme = theme
        self.sequenceNames = sequenceNames
        self.frameKeys = frameKeys
        self.methods = methods
        self.hasGroundTruth = hasGroundTruth
        self.hasImages = hasImages
        if self.state.reference == nil { self.state.reference = reference }
    }

    /// The method the others are compared with (flips, Δ, confidence change).
    public var reference: String? {
        if let r = state.reference, methods.contains(r) { return r }
        return methods.first
    }

    /// The two methods whose confidences the confidence-change mode compares:
    /// once the user picked methods (m, M), the reference and the compared
    /// one; before, the memory refinement step (methods named stf and mar),
    /// else the last two methods with confidences.
    public var confidencePair: (before: String, after: String)? {
        let withConfidence = methods.filter { frame?.confidences[$0] != nil || frame?.errors[.confidence($0)] != nil }
        if state.methodsChosen, let r = reference, let c = comparedMethod { return (r, c) }
        let lower = methods.map { $0.lowercased() }
        if let s = lower.firstIndex(of: "stf"), let m = lower.firstIndex(of: "mar") { return (methods[s], methods[m]) }
        guard withConfidence.count >= 2 else { return nil }
        return (withConfidence[withConfidence.count - 2], withConfidence[withConfidence.count - 1])
    }

    /// The method compared with the reference (flips, Δ column).
    public var comparedMethod: String? {
        if let c = state.compared, methods.contains(c), c != reference { return c }
        return methods.last { $0 != reference }
    }

    /// Whose flicker the flicker mode shows: the compared method, or the only one.
    public var flickerMethod: String? { comparedMethod ?? methods.first }

    public var panes: [Pane] {
        var panes: [Pane] = []
        switch state.mode {
        case .classes: break
        case .confidence:
            if let pair = confidencePair { panes.append(.confidenceChange(before: pair.before, after: pair.after)) }
        case .flips:
            if let reference, let method = comparedMethod { panes.append(.flips(reference: reference, method: method)) }
        case .suspects:
            if hasGroundTruth && !methods.isEmpty { panes.append(.suspects) }
        case .flicker:
            if let method = flickerMethod { panes.append(.flicker(method)) }
        }
        if hasImages { panes.append(.image) }
        if hasGroundTruth { panes.append(.groundTruth) }
        panes += methods.map { Pane.method($0) }
        return panes
    }

    /// One-line errors of the files the panes draw from (file name first).
    public var paneErrors: [String] {
        guard let frame else { return [] }
        var seen = Set<FrameData.Part>(), errors: [String] = []
        for pane in panes {
            for part in pane.sources(methods: methods) where seen.insert(part).inserted {
                if let error = frame.errors[part] { errors.append(error) }
            }
        }
        return errors
    }
}
