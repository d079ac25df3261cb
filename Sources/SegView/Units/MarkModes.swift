import SegDataset
import SegFormats
import SegLabels

/// A viewer mode that marks pixels of the current frame in a pane of its
/// own (Δconf, flips, suspects, flicker): the pane it adds, its analysis
/// (run by the controller, cached; never by the compositor) and what the
/// status line says without a result.
protocol MarkMode: ViewerUnit {
    static var mode: ViewState.Mode { get }
    static func pane(_ model: ViewModel) -> MarkPane?
    static func analyze(_ model: ViewModel, frame: FrameData) -> Result<MarkLayer, Unavailable>
    /// The status line's text while there is no layer.
    static func missing(_ model: ViewModel) -> String
}

enum MarkModes {
    static let all: [any MarkMode.Type] = [ConfidenceMode.self, FlipsMode.self, SuspectsMode.self, FlickerMode.self]

    static func unit(for mode: ViewState.Mode) -> (any MarkMode.Type)? { all.first { $0.mode == mode } }

    /// Switches to `mode`, or back to the class maps when it is on.
    static func toggle(_ c: ViewerController, _ mode: ViewState.Mode) {
        c.state.mode = c.state.mode == mode ? .classes : mode
        c.state.panes.singlePane = 0
    }

    /// A layer over `base` dimmed by `dim`, its marks counted per kind.
    static func layer(
        _ marks: [UInt8], width: Int, height: Int, kinds: [MarkKind], base: LabelMap?, dim: Float,
        baseLegend: String?, status: String
    ) -> MarkLayer {
        MarkLayer(
            width: width, height: height, marks: marks, kinds: kinds, base: base, dim: dim,
            baseLegend: baseLegend, status: status)
    }
}

/// The settings the mark analyses read: a cached layer is reused while they
/// and the frame stay the same.
struct MarkSettings: Equatable {
    let mode: ViewState.Mode
    let confidence: ViewState.ConfidenceOptions
    let flips: ViewState.FlipOptions
    let suspects: ViewState.SuspectOptions

    init(_ state: ViewState) {
        mode = state.mode
        confidence = state.confidence
        flips = state.flips
        suspects = state.suspects
    }
}

struct MarkKey: Equatable {
    let frame: Int
    let state: MarkSettings
    let pane: MarkPane
    let nextLoaded: Bool
}
