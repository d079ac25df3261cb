import SegDataset
import SegEval
import SegFormats
import SegLabels

extension ViewState.Mode { public static let suspects = Self(rawValue: "suspects") }

extension ViewState {
    public struct SuspectOptions: Equatable, Sendable {
        /// Confidence every method must reach for an annotation suspect.
        public var tau: Float = 0.90
    }
}

/// Annotation suspects: pixels where every method confidently agrees
/// against the ground truth (likely label errors); `A` ranks frames by them.
enum SuspectsMode: MarkMode {
    static let mode = ViewState.Mode.suspects

    static let keys: [KeyHelpRow] = [
        KeyHelpRow(
            "a/A", "annotation suspects; frame with the most, again: next (Backspace: back)",
            [
                (
                    Key.character("a"),
                    .redraw("suspectMode") { c in
                        MarkModes.toggle(c, mode)
                        if c.state.mode == mode
                            && !c.hasGroundTruth
                        {
                            c.state.message = "annotation suspects need ground truth"
                        }
                    }
                ),
                (Key.character("A"), .redraw("mostSuspects") { c in Rankings.jump(c, .mostSuspects, forward: true) }),
            ])
    ]

    static func pane(_ model: ViewModel) -> MarkPane? {
        guard model.hasGroundTruth, !model.methods.isEmpty else { return nil }
        return MarkPane(
            mode: mode, title: "annotation suspects",
            sources: [.groundTruth] + model.methods.map { .prediction($0) }
                + model.methods.map { .confidence($0) },
            methods: model.methods)
    }

    static func missing(_ model: ViewModel) -> String { "suspects: need GT and predictions" }

    static func analyze(_ model: ViewModel, frame: FrameData) -> Result<MarkLayer, Unavailable> {
        guard let gt = frame.groundTruth else { return .failure(Unavailable("annotation suspects need ground truth")) }
        let methods = model.methods.filter { frame.predictions[$0] != nil }
        guard methods.count == model.methods.count, !methods.isEmpty else {
            return .failure(Unavailable("annotation suspects need every method's prediction of this frame"))
        }
        let tau = model.state.suspects.tau
        let marks = Suspects.mask(
            groundTruth: gt, predictions: methods.map { frame.predictions[$0]! },
            confidences: methods.map { frame.confidences[$0] }, tau: tau,
            classes: model.theme.space.count)
        let count = marks.reduce(0) { $0 + Int($1) }
        let confident = methods.filter { frame.confidences[$0] != nil }.count
        let rule =
            confident == 0
            ? "all methods agree (no confidences: agreement only)"
            : "all methods agree, confidence ≥\(Compositor.fixed2(tau))"
        let kinds = [MarkKind(role: .suspect, glyph: "!", legend: "suspect: \(rule), GT differs")]
        return .success(
            MarkModes.layer(
                marks, width: gt.width, height: gt.height, kinds: kinds, base: gt, dim: 0.75,
                baseLegend: nil,
                status: "suspects \(Compositor.grouped(count)) px τ\(Compositor.fixed2(tau))"))
    }
}
