import SegDataset
import SegEval
import SegFormats
import SegLabels

extension ViewState.Mode { public static let flips = Self(rawValue: "flips") }

extension ViewState {
    public struct FlipOptions: Equatable, Sendable {
        /// Count only pixels within the boundary radius.
        public var bandOnly = false
    }
}

/// Flips: pixels the compared method fixed, broke, or changed while both
/// are wrong, against the reference.
enum FlipsMode: MarkMode {
    static let mode = ViewState.Mode.flips

    static let keys: [KeyHelpRow] = [
        KeyHelpRow(
            "f", "flip map;  b  flips in the boundary band only",
            [
                (Key.character("f"), .redraw("flipMode") { c in MarkModes.toggle(c, mode) }),
                (Key.character("b"), .redraw("toggleBandOnly") { c in c.state.flips.bandOnly.toggle() }),
            ])
    ]

    static func pane(_ model: ViewModel) -> MarkPane? {
        guard let reference = model.reference, let method = model.comparedMethod else { return nil }
        return MarkPane(
            mode: mode, title: "flips \(reference)→\(method)",
            sources: [.groundTruth, .prediction(reference), .prediction(method)],
            methods: [
                reference,
                method,
            ])
    }

    static func missing(_ model: ViewModel) -> String { "flips: need GT and two methods" }

    static func analyze(_ model: ViewModel, frame: FrameData) -> Result<MarkLayer, Unavailable> {
        guard let pane = pane(model), let gt = frame.groundTruth, let ref = frame.predictions[pane.methods[0]],
            let other = frame.predictions[pane.methods[1]]
        else {
            let names = model.reference.map { "\($0) and \(model.comparedMethod ?? "another method")" } ?? "two methods"
            return .failure(Unavailable("flips need ground truth and predictions of \(names)"))
        }
        let radius = model.state.confidence.radius
        let band = model.state.flips.bandOnly ? frame.boundaryDistance : nil
        var marks = [UInt8](repeating: 0, count: gt.ids.count)
        var flips = FlipCounts()
        for i in marks.indices {
            if let band, band[i] > UInt16(max(0, radius)) { continue }
            switch FlipCounts.classify(gt: gt.ids[i], reference: ref.ids[i], method: other.ids[i]) {
            case .fixed:
                marks[i] = 1
                flips.fixed += 1
            case .broken:
                marks[i] = 2
                flips.broken += 1
            case .changedWrong:
                marks[i] = 3
                flips.changedWrong += 1
            case .unchanged: break
            }
        }
        let (reference, method) = (pane.methods[0], pane.methods[1])
        let kinds = [
            MarkKind(role: .fixed, glyph: "o", legend: "fixed: \(reference) wrong, \(method) right"),
            MarkKind(role: .broken, glyph: "x", legend: "broken: the reverse"),
            MarkKind(role: .changedWrong, glyph: "~", legend: "changed, both wrong"),
        ]
        let status =
            "fixed \(Compositor.grouped(flips.fixed)) broken \(Compositor.grouped(flips.broken)) "
            + "changed \(Compositor.grouped(flips.changedWrong))"
            + (model.state.flips.bandOnly
                ? " (band r\(radius))" : "")
        return .success(
            MarkModes.layer(
                marks, width: gt.width, height: gt.height, kinds: kinds, base: gt, dim: 0.75,
                baseLegend: nil, status: status))
    }
}
