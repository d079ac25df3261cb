import SegDataset
import SegEval
import SegFormats
import SegLabels

/// A pane of the same frame.
public enum Pane: Equatable, Sendable {
    case image
    case groundTruth
    case method(String)
    /// The current mark mode's pane (Δconf, flips, suspects, flicker).
    case marks(MarkPane)
    /// Frame T+offset (-1, 0, 1) of the explain view's window, titled with the map shown.
    case explain(offset: Int, title: String)

    /// The frame's parts this pane draws from (their load errors are its own).
    public func sources(methods: [String]) -> [FrameData.Part] {
        switch self {
        case .image: return [.image]
        case .groundTruth: return [.groundTruth]
        case .method(let name): return [.prediction(name)]
        case .marks(let pane): return pane.sources
        case .explain: return []
        }
    }

    public var title: String {
        switch self {
        case .image: return "frame"
        case .groundTruth: return "ground truth"
        case .method(let name): return name
        case .marks(let pane): return pane.title
        case .explain(_, let title): return title
        }
    }
}

/// The pane a mark mode adds in front of the others.
public struct MarkPane: Equatable, Hashable, Sendable {
    public let mode: ViewState.Mode
    public let title: String
    public let sources: [FrameData.Part]
    /// The methods the marks are computed from, in the mode's order.
    public let methods: [String]
}

/// One kind of mark: its colour role, the glyph that stands for it where
/// colours are not shown, and what the legend says of it.
public struct MarkKind: Equatable, Sendable {
    public let role: ThemeRole
    public let glyph: Character
    public let legend: String
    /// The legend in a word or two, for narrow terminals: `short` if given, else `legend` up to its
    /// first ":" or ",".
    public let shortLegend: String

    public init(role: ThemeRole, glyph: Character, legend: String, short: String? = nil) {
        (self.role, self.glyph, self.legend) = (role, glyph, legend)
        shortLegend = short ?? String(legend.prefix { $0 != ":" && $0 != "," })
    }
}

/// What a mark mode computed for a frame: which pixels carry which kind
/// of mark (0: none, i: `kinds[i - 1]`), drawn over the dimmed classes of
/// `base`, and the counts for the status line.
public struct MarkLayer: Sendable {
    public var width: Int, height: Int
    public var marks: [UInt8]
    public var kinds: [MarkKind]
    public var base: LabelMap?
    /// How far the classes beneath are blended towards the background.
    public var dim: Float
    /// What the dimmed classes are, for the legend.
    public var baseLegend: String?
    public var status: String
}

/// Why a pane or an analysis cannot be shown, in a sentence.
public struct Unavailable: Error, Sendable, Equatable {
    public let text: String
    public init(_ text: String) { self.text = text }
}

/// One entry of the legend strip: a colour (and, without colours, a glyph) and what it means.
public struct LegendEntry: Equatable, Sendable {
    public let color: RGB
    public let text: String
    public var glyph: Character?
    /// A shorter text the legend uses when the entries with one would not all fit otherwise.
    public var short: String?
}

/// Everything the compositor draws from: the state, what the dataset holds,
/// and what has been loaded or computed so far. Built by the controller on
/// the UI thread; the compositor only draws it.
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
    /// Figures of the IoU panel's scope beyond the frame (nil until computed).
    public var scope: ScopeFigures?
    /// Boundary IoU and iIoU of the scope beyond the frame (nil until computed).
    public var scopeMetrics: ScopeMetricFigures?
    /// "3/10 sequences" while the scope's figures compute.
    public var scopeProgress: String?
    public var bookmarkedFrames: Set<String> = []
    public var loading = false
    /// The next frame of the sequence (the flicker mode compares with it), once loaded.
    public var nextFrame: FrameData?
    /// Flicker and VC of the current sequence per method (nil until computed).
    public var temporal: [String: TemporalCounts]?
    /// Boundary IoU counts of the current frame per method (nil until computed).
    public var frameBoundary: [String: BoundaryStatistics.Counts]?
    /// The current mode's marks, once analysed (nil: no mode pane or no frame yet).
    public var markLayer: Result<MarkLayer, Unavailable>?
    /// Pixels of the highlighted confusion (1) in the current frame.
    public var highlightMarks: [UInt8]?
    /// Marks are drawn as glyphs (NO_COLOR).
    public var markGlyphs = false
    /// The explain view's window and explanation (nil while the view is off).
    public var explain: ExplainModel?
    /// The fixed/broken panel's table (nil while the panel is off).
    public var attribution: AttributionPanelModel?

    public init(
        state: ViewState, theme: Theme, sequenceNames: [String], frameKeys: [String], methods: [String],
        reference: String?, hasGroundTruth: Bool, hasImages: Bool
    ) {
        self.state = state
        self.theme = theme
        self.sequenceNames = sequenceNames
        self.frameKeys = frameKeys
        self.methods = methods
        self.hasGroundTruth = hasGroundTruth
        self.hasImages = hasImages
        if self.state.methods.reference == nil { self.state.methods.reference = reference }
    }

    /// The method the others are compared with (flips, Δ, confidence change).
    public var reference: String? {
        if let r = state.methods.reference, methods.contains(r) { return r }
        return methods.first
    }

    /// The method compared with the reference (flips, Δ column).
    public var comparedMethod: String? {
        if let c = state.methods.compared, methods.contains(c), c != reference { return c }
        return methods.last { $0 != reference }
    }

    /// The mark mode's pane, when the mode can form one.
    public var modePane: MarkPane? { MarkModes.unit(for: state.mode)?.pane(self) }

    public var panes: [Pane] {
        if state.explain.on { return ExplainView.panes(self) }
        var panes: [Pane] = []
        if let pane = modePane { panes.append(.marks(pane)) }
        if hasImages { panes.append(.image) }
        if hasGroundTruth { panes.append(.groundTruth) }
        panes += methods.map { Pane.method($0) }
        return panes
    }

    /// Runs the current mode's analysis on `frame` (the controller does,
    /// caching it; tests that build a model by hand call it themselves).
    public mutating func analyze(frame: FrameData) {
        guard let unit = MarkModes.unit(for: state.mode), modePane != nil else {
            markLayer = nil
            return
        }
        if let problem = frame.sizeProblem {
            markLayer = .failure(Unavailable(problem))
            return
        }
        markLayer = unit.analyze(self, frame: frame)
    }

    /// The model with its analyses run on its own frame, as the controller
    /// runs them (for models built by hand; the frame counts as labelled
    /// when it has a ground truth or could not read one).
    public func analyzed() -> ViewModel {
        var model = self
        guard let frame else { return model }
        model.analyze(frame: frame)
        model.analyzeHighlight(frame: frame)
        if state.panel.scope == .frame && hasGroundTruth && !methods.isEmpty {
            model.scope = ScopeUnit.frameFigures(
                model, frame: frame,
                labelled: frame.groundTruth != nil || frame.errors[.groundTruth] != nil)
        }
        return model
    }

    /// One-line errors of the files the panes draw from (file name first).
    public var paneErrors: [String] {
        guard let frame else { return [] }
        var seen = Set<FrameData.Part>()
        var errors: [String] = []
        for pane in panes {
            for part in pane.sources(methods: methods) where seen.insert(part).inserted {
                if let error = frame.errors[part] { errors.append(error) }
            }
        }
        return errors
    }
}
