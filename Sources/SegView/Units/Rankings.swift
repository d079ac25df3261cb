import SegDataset
import SegEval
import SegFormats

/// A ranking of the dataset's frames being stepped through, with what it
/// was ranked by; `order` is nil while the figures it needs compute.
struct RankingCursor {
    let kind: Rankings.Kind
    let basis: Rankings.Basis
    var order: [(sequence: Int, frame: Int, value: Double)]?
    var position: Int
}

/// The worst frames of the dataset (w), the largest losses against the
/// reference (W), the frames with the most annotation suspects (A):
/// pressed again, the next; Backspace, the one before. The first press
/// works while the figures compute: it jumps once they are ready.
enum Rankings: ViewerUnit {
    enum Kind: Equatable { case worstFrame, worstDelta, mostSuspects }

    /// What a ranking depends on: a different method or τ ranks anew.
    struct Basis: Equatable {
        let method: String?, reference: String?, tau: Float
    }

    static let keys: [KeyHelpRow] = [
        KeyHelpRow(
            "w/W  Backspace",
            "worst frame / worst Δ of the dataset; again: the next; Backspace: the one before (w, W, A)",
            [
                (Key.character("w"), .redraw("worstFrame") { c in jump(c, .worstFrame, forward: true) }),
                (Key.character("W"), .redraw("worstDelta") { c in jump(c, .worstDelta, forward: true) }),
                (
                    Key.backspace,
                    .redraw("previousRanked") { c in
                        guard let kind = c.ranking?.kind else {
                            c.state.message = "no ranking to step back through (w, W, A first)"
                            return
                        }
                        jump(c, kind, forward: false)
                    }
                ),
            ])
    ]

    static func basis(_ c: ViewerController) -> Basis {
        let model = c.model()
        return Basis(
            method: model.comparedMethod ?? c.dataset.methods.first, reference: model.reference,
            tau: c.state.suspects.tau)
    }

    static func jump(_ c: ViewerController, _ kind: Kind, forward: Bool) {
        let basis = basis(c)
        if var r = c.ranking, r.kind == kind, r.basis == basis, let order = r.order, !order.isEmpty {
            let here = order[r.position]
            if here.sequence == c.state.sequence && here.frame == c.state.frame {
                guard forward ? r.position + 1 < order.count : r.position > 0 else {
                    c.state.message =
                        forward
                        ? "that was the last of \(order.count)" : "that was the first of \(order.count)"
                    return
                }
                r.position += forward ? 1 : -1
            }
            c.ranking = r
            show(c)
            return
        }
        guard forward else {
            c.state.message = "no ranking to step back through (w, W, A first)"
            return
        }
        c.ranking = RankingCursor(kind: kind, basis: basis, order: nil, position: 0)
        resume(c)
    }

    /// Ranks once the figures are there (called on every model build while
    /// a ranking waits), else says how far they are.
    static func resume(_ c: ViewerController) {
        guard var r = c.ranking, r.order == nil else { return }
        switch rankedFrames(c, r.kind, r.basis) {
        case .failure(let reason):
            c.ranking = nil
            c.state.message = reason.text
        case .success(nil):
            let p = c.statistics.progress
            c.state.message =
                r.kind == .mostSuspects
                ? "counting suspects over the dataset…"
                : "scoring frames: \(p.done)/\(p.of) sequences done…"
        case .success(let order?):
            guard !order.isEmpty else {
                c.ranking = nil
                c.state.message =
                    r.kind == .mostSuspects
                    ? "no suspect pixels at τ \(Compositor.fixed2(r.basis.tau))" : "no frame has a score"
                return
            }
            r.order = order
            c.ranking = r
            show(c)
            c.stateChanged = true
        }
    }

    static func show(_ c: ViewerController) {
        guard let r = c.ranking, let order = r.order else { return }
        let entry = order[r.position]
        c.go(sequence: entry.sequence, frame: entry.frame)
        let place = "\(r.position + 1) of \(order.count)"
        let method = r.basis.method ?? ""
        let reference = r.basis.reference ?? ""
        switch r.kind {
        case .worstFrame: c.state.message = "worst \(method) frames: \(place), mIoU \(Compositor.percent(entry.value))"
        case .worstDelta:
            c.state.message = "worst Δ \(method)−\(reference): \(place), Δ mIoU \(Compositor.signed(entry.value))"
        case .mostSuspects:
            c.state.message = "most suspects: \(place), \(Int(entry.value)) px at τ \(Compositor.fixed2(r.basis.tau))"
        }
    }

    typealias Order = [(sequence: Int, frame: Int, value: Double)]

    /// Frames of the whole dataset in the order of `kind`; nil while the figures compute.
    static func rankedFrames(_ c: ViewerController, _ kind: Kind, _ basis: Basis) -> Result<Order?, Unavailable> {
        if kind == .mostSuspects {
            guard c.hasGroundTruth, !c.dataset.methods.isEmpty else {
                return .failure(Unavailable("annotation suspects need ground truth and predictions"))
            }
            guard
                let counts = c.suspectStatistics.counts(
                    tau: basis.tau,
                    blocking: c.blocking)
            else { return .success(nil) }
            var order: Order = []
            var index = 0
            for (s, sequence) in c.dataset.sequences.enumerated() {
                for f in sequence.frames.indices {
                    if let n = counts[index], n > 0 { order.append((s, f, Double(n))) }
                    index += 1
                }
            }
            return .success(order.sorted { $0.value > $1.value })
        }
        guard let method = basis.method, c.hasGroundTruth else {
            return .failure(Unavailable("ranking frames needs ground truth and predictions"))
        }
        if kind == .worstDelta
            && (basis.reference == nil
                || basis.reference == method)
        {
            return .failure(Unavailable("worst Δ needs two methods"))
        }
        guard let all = c.statistics.allSequences(blocking: c.blocking) else { return .success(nil) }
        var order: Order = []
        for (s, scores) in all.enumerated() {
            for (f, score) in scores.enumerated() {
                guard let matrix = score.matrices[method] else { continue }
                var value = Metrics(matrix).meanIoU
                if kind == .worstDelta {
                    // Only frames both methods were scored on.
                    guard let r = score.matrices[basis.reference!] else { continue }
                    value -= Metrics(r).meanIoU
                }
                if !value.isNaN { order.append((s, f, value)) }
            }
        }
        return .success(order.sorted { $0.value < $1.value })
    }
}
