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

    public var title: String {
        switch self {
        case .image: return "frame"
        case .groundTruth: return "ground truth"
        case .method(let name): return name
        case .confidenceChange(let before, let after): return "Δconf \(before)→\(after)"
        case .flips(let reference, let method): return "flips \(reference)→\(method)"
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
    public var reference: String?
    public var hasGroundTruth: Bool
    public var hasImages: Bool
    /// The current frame, or nil while it loads.
    public var frame: FrameData?
    /// Per-frame mIoU of each method along the current sequence (nil: no GT or not yet known).
    public var sparkline: [String: [Double?]] = [:]
    /// Confusion summed over the sequence or the marked range, per method (nil until computed).
    public var cumulative: [String: ConfusionMatrix]?
    public var bookmarkedFrames: Set<String> = []
    public var loading = false

    public init(state: ViewState, theme: Theme, sequenceNames: [String], frameKeys: [String], methods: [String],
                reference: String?, hasGroundTruth: Bool, hasImages: Bool) {
        self.state = state
        self.theme = theme
        self.sequenceNames = sequenceNames
        self.frameKeys = frameKeys
        self.methods = methods
        self.reference = reference
        self.hasGroundTruth = hasGroundTruth
        self.hasImages = hasImages
    }

    /// The two methods whose confidences the confidence-change mode compares:
    /// methods named stf and mar if present, else the last two with confidences.
    public var confidencePair: (before: String, after: String)? {
        let lower = methods.map { $0.lowercased() }
        if let s = lower.firstIndex(of: "stf"), let m = lower.firstIndex(of: "mar") { return (methods[s], methods[m]) }
        let withConfidence = methods.filter { frame?.confidences[$0] != nil }
        guard withConfidence.count >= 2 else { return nil }
        return (withConfidence[withConfidence.count - 2], withConfidence[withConfidence.count - 1])
    }

    /// The method compared with the reference (flips, Δ column).
    public var comparedMethod: String? {
        if let c = state.compared, methods.contains(c), c != reference { return c }
        return methods.last { $0 != reference }
    }

    public var panes: [Pane] {
        var panes: [Pane] = []
        switch state.mode {
        case .classes: break
        case .confidence:
            if let pair = confidencePair { panes.append(.confidenceChange(before: pair.before, after: pair.after)) }
        case .flips:
            if let reference, let method = comparedMethod { panes.append(.flips(reference: reference, method: method)) }
        }
        if hasImages { panes.append(.image) }
        if hasGroundTruth { panes.append(.groundTruth) }
        panes += methods.map { Pane.method($0) }
        return panes
    }
}

