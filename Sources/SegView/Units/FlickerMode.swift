import SegDataset
import SegEval
import SegFormats
import SegLabels

extension ViewState.Mode { public static let flicker = Self(rawValue: "flicker") }

/// Flicker: pixels whose predicted class changes between this frame and
/// the next. The convention everywhere in the viewer (status line,
/// sparkline, legend): frame t shows the flicker between t and t+1.
enum FlickerMode: MarkMode {
    static let mode = ViewState.Mode.flicker

    static let keys: [KeyHelpRow] = [
        KeyHelpRow(
            "F", "pixels that change from this frame to the next (flicker of t: t→t+1)",
            [(Key.character("F"), .redraw("flickerMode") { c in MarkModes.toggle(c, mode) })])
    ]

    /// Whose flicker the mode shows: the compared method, or the only one.
    static func method(_ model: ViewModel) -> String? { model.comparedMethod ?? model.methods.first }

    static func pane(_ model: ViewModel) -> MarkPane? {
        guard let method = method(model) else { return nil }
        return MarkPane(
            mode: mode, title: "flicker \(method) → next frame", sources: [.prediction(method)],
            methods: [method])
    }

    static func missing(_ model: ViewModel) -> String { "flicker: needs the next frame" }

    /// The next frame is loaded alongside the current one while the mode is on.
    static func load(into model: inout ViewModel, controller c: ViewerController, blocking: Bool) {
        guard c.state.mode == mode, c.state.frame + 1 < c.sequence.frames.count else { return }
        model.nextFrame = blocking ? c.cache.load(c.frameIndex + 1) : c.cache.frame(c.frameIndex + 1)
    }

    static func analyze(_ model: ViewModel, frame: FrameData) -> Result<MarkLayer, Unavailable> {
        guard let method = method(model), let current = frame.predictions[method] else {
            return .failure(Unavailable("no \(method(model) ?? "") prediction for this frame"))
        }
        guard model.state.frame + 1 < model.frameKeys.count else {
            return .failure(Unavailable("the last frame of the sequence has no next frame"))
        }
        guard let next = model.nextFrame?.predictions[method] else {
            return .failure(
                Unavailable(
                    model.nextFrame == nil
                        ? "loading the next frame…" : "no \(method) prediction for the next frame"))
        }
        guard next.ids.count == current.ids.count else {
            return .failure(Unavailable("the next frame's prediction has another size"))
        }
        var marks = [UInt8](repeating: 0, count: current.ids.count)
        var changed = 0
        for i in marks.indices where current.ids[i] != next.ids[i] {
            marks[i] = 1
            changed += 1
        }
        let share = Compositor.percentOne(Double(changed) / Double(max(1, marks.count)))
        let kinds = [
            MarkKind(
                role: .flicker, glyph: "*",
                legend: "\(method)'s class changes from this frame to the next (t→t+1)", short: "changes t→t+1")
        ]
        return .success(
            MarkModes.layer(
                marks, width: current.width, height: current.height, kinds: kinds,
                base: current, dim: 0.7,
                baseLegend: "dimmed: \(method)'s classes",
                status: "flicker \(share)% (\(Compositor.grouped(changed)) px) → next"))
    }
}
