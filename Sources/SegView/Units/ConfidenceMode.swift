import SegDataset
import SegEval
import SegFormats
import SegLabels

extension ViewState.Mode { public static let confidence = Self(rawValue: "confidence") }

extension ViewState {
    /// Confidence-change threshold and boundary radius (full-resolution pixels).
    public struct ConfidenceOptions: Equatable, Sendable {
        public var tau: Float = 0.10
        public var radius = 3
    }
}

/// Δconf: boundary pixels whose confidence changed by at least τ between
/// two methods (before and after memory refinement).
enum ConfidenceMode: MarkMode {
    static let mode = ViewState.Mode.confidence

    static let keys: [KeyHelpRow] = [
        KeyHelpRow(
            "c", "confidence change after memory refinement",
            [
                (
                    Key.character("c"),
                    .redraw("confidenceMode") { c in
                        MarkModes.toggle(c, mode)
                        if c.state.mode == mode && pair(c.model()) == nil {
                            c.state.message =
                                "Δconf needs confidences of two methods (before/after MAR): --conf NAME=DIR"
                        }
                    }
                )
            ]),
        KeyHelpRow(
            "t/T  r/R", "threshold τ -/+ (Δconf, or suspects);  boundary radius -/+",
            [
                (Key.character("t"), .redraw("lowerTau") { c in changeTau(c, by: -0.01) }),
                (Key.character("T"), .redraw("raiseTau") { c in changeTau(c, by: 0.01) }),
                (
                    Key.character("r"),
                    .redraw("smallerRadius") { c in
                        c.state.confidence.radius = max(
                            0,
                            c.state.confidence.radius - 1)
                    }
                ),
                (
                    Key.character("R"),
                    .redraw("largerRadius") { c in
                        c.state.confidence.radius = min(
                            64,
                            c.state.confidence.radius + 1)
                    }
                ),
            ]),
    ]

    /// t/T set the threshold of the mode shown: the suspects' in suspect mode, Δconf's otherwise.
    static func changeTau(_ c: ViewerController, by step: Float) {
        if c.state.mode == .suspects {
            c.state.suspects.tau = hundredths(c.state.suspects.tau + step)
        } else {
            c.state.confidence.tau = hundredths(c.state.confidence.tau + step)
        }
    }

    /// τ in [0.01, 1] on a grid of hundredths (so repeated steps do not drift).
    static func hundredths(_ v: Float) -> Float { min(1, max(0.01, (v * 100).rounded() / 100)) }

    /// The two methods whose confidences are compared: once the user picked
    /// methods (m, M), the reference and the compared one; before, the memory
    /// refinement step (methods named stf and mar), else the last two methods
    /// with confidences.
    static func pair(_ model: ViewModel) -> (before: String, after: String)? {
        let methods = model.methods
        let frame = model.frame
        if model.state.methods.chosen, let r = model.reference, let c = model.comparedMethod { return (r, c) }
        let lower = methods.map { $0.lowercased() }
        if let s = lower.firstIndex(of: "stf"), let m = lower.firstIndex(of: "mar") { return (methods[s], methods[m]) }
        let withConfidence = methods.filter { frame?.confidences[$0] != nil || frame?.errors[.confidence($0)] != nil }
        guard withConfidence.count >= 2 else { return nil }
        return (withConfidence[withConfidence.count - 2], withConfidence[withConfidence.count - 1])
    }

    static func pane(_ model: ViewModel) -> MarkPane? {
        guard let (before, after) = pair(model) else { return nil }
        return MarkPane(
            mode: mode, title: "Δconf \(before)→\(after)",
            sources: [.confidence(before), .confidence(after), .prediction(after)],
            methods: [
                before,
                after,
            ])
    }

    static func missing(_ model: ViewModel) -> String { "Δconf: no confidences" }

    static func analyze(_ model: ViewModel, frame: FrameData) -> Result<MarkLayer, Unavailable> {
        guard let pane = pane(model) else { return .failure(Unavailable("Δconf needs confidences of two methods")) }
        let before = pane.methods[0]
        let after = pane.methods[1]
        guard let c0 = frame.confidences[before], let c1 = frame.confidences[after],
            let distance = frame.boundaryDistance
        else {
            return .failure(
                Unavailable(
                    "Δconf needs confidence maps of \(before) and \(after)"
                        + " (--conf NAME=DIR, or a run written by segscope infer)"))
        }
        let options = model.state.confidence
        let (marks, up, down) = marks(
            before: c0.values, after: c1.values, distance: distance, tau: options.tau,
            radius: options.radius)
        let tau = Compositor.fixed2(options.tau)
        let kinds = [
            MarkKind(
                role: .confidenceUp, glyph: "+", legend: "\(after) more confident by ≥\(tau)", short: "conf ↑"),
            MarkKind(role: .confidenceDown, glyph: "-", legend: "less confident by ≥\(tau)", short: "conf ↓"),
        ]
        let status = "Δconf≥\(tau) r\(options.radius): ↑\(Compositor.grouped(up)) ↓\(Compositor.grouped(down))"
        return .success(
            MarkModes.layer(
                marks, width: frame.width, height: frame.height, kinds: kinds,
                base: frame.predictions[after] ?? frame.groundTruth, dim: 0.65,
                baseLegend: "within \(options.radius)px of a boundary; dimmed: \(after)'s classes",
                status: status))
    }

    /// 1 where confidence rose by ≥ τ, 2 where it fell by ≥ τ, within `radius` of a boundary.
    static func marks(before: [Float], after: [Float], distance: [UInt16], tau: Float, radius: Int) -> (
        [UInt8],
        up: Int, down: Int
    ) {
        var marks = [UInt8](repeating: 0, count: distance.count)
        var up = 0
        var down = 0
        let r = UInt16(max(0, radius))
        for i in marks.indices where distance[i] <= r {
            let d = after[i] - before[i]
            if d >= tau {
                marks[i] = 1
                up += 1
            } else if d <= -tau {
                marks[i] = 2
                down += 1
            }
        }
        return (marks, up, down)
    }
}
