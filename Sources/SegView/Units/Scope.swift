import SegDataset
import SegEval
import SegFormats
import SegLabels

extension ViewState {
    public enum Scope: String, CaseIterable, Sendable { case frame, sequence, range, dataset }

    /// A frame by identity: its sequence and its index there.
    public struct FramePosition: Equatable, Hashable, Sendable {
        public var sequence: Int, frame: Int
        public init(sequence: Int, frame: Int) {
            self.sequence = sequence
            self.frame = frame
        }
        /// "S/N", 1-based, as the `:` prompt reads it.
        public var name: String { "\(sequence + 1)/\(frame + 1)" }
    }

    /// A marked range: consecutive frames of one sequence, held by identity,
    /// so moving to another sequence does not change which frames it means.
    /// A range never spans sequences (their frames are not one video).
    public struct MarkedRange: Equatable, Sendable {
        public var sequence: Int, first: Int, last: Int
        public var count: Int { last - first + 1 }
        public var name: String { "\(sequence + 1)/\(first + 1)–\(sequence + 1)/\(last + 1)" }
    }

    /// The side panel, what it shows and over which frames.
    public struct SidePanel: Equatable, Sendable {
        public enum Kind: String, Sendable { case none, iou, confusion, attribution }
        public var kind = Kind.none
        public var scope = Scope.frame
        /// Where `x` started a range not yet ended.
        public var rangeStart: FramePosition?
        public var range: MarkedRange?
    }
}

/// One unreadable or missing file of a scope, with its frame.
public struct ScopeProblem: Equatable, Sendable {
    public var position: ViewState.FramePosition
    public var key: String
    public var text: String
}

/// Δ between two methods over the frames both were scored on.
public struct PairFigures: Sendable {
    public var reference: String, compared: String
    public var referenceMatrix: ConfusionMatrix, comparedMatrix: ConfusionMatrix
    public var frames: Int
}

/// The figures of a scope: each method's confusion summed over the frames
/// where both the ground truth and that method's prediction could be read
/// (as `segscope eval` sums them), how many frames that was per method, the
/// Δ pair over the frames both methods have, and what could not be read.
public struct ScopeFigures: Sendable {
    public var name: String
    /// Frames in the scope, and those of them with a ground-truth file.
    public var frames: Int, labelled: Int
    public var matrices: [String: ConfusionMatrix] = [:]
    public var scored: [String: Int] = [:]
    public var pair: PairFigures?
    public var problems: [ScopeProblem] = []

    /// "over 21/22 frames" for a method (labelled frames of the scope).
    public func coverage(_ method: String) -> String { "\(scored[method] ?? 0)/\(labelled)" }

    /// Sums per-frame scores, as eval does.
    static func sum(
        name: String, frames: [(ViewState.FramePosition, String, ScoredFrame)], reference: String?,
        compared: String?, classes: Int
    ) -> ScopeFigures {
        var figures = ScopeFigures(name: name, frames: frames.count, labelled: 0)
        var pair: PairFigures?
        if let reference, let compared, reference != compared {
            pair = PairFigures(
                reference: reference, compared: compared,
                referenceMatrix: ConfusionMatrix(classes: classes),
                comparedMatrix: ConfusionMatrix(classes: classes), frames: 0)
        }
        for (position, key, score) in frames {
            if score.labelled { figures.labelled += 1 }
            for (method, m) in score.matrices {
                figures.matrices[method, default: ConfusionMatrix(classes: classes)].merge(m)
                figures.scored[method, default: 0] += 1
            }
            figures.problems += score.problems.map { ScopeProblem(position: position, key: key, text: $0) }
            if let p = pair, let r = score.matrices[p.reference], let c = score.matrices[p.compared] {
                pair!.referenceMatrix.merge(r)
                pair!.comparedMatrix.merge(c)
                pair!.frames += 1
            }
        }
        figures.pair = pair
        return figures
    }
}

struct ScopeKey: Equatable {
    let scope: ViewState.Scope
    let sequence: Int
    let range: ViewState.MarkedRange?
    let reference: String?, compared: String?
}

/// Scopes of the side panels (this frame, the sequence, a marked range,
/// the dataset) and the marking of ranges.
enum ScopeUnit: ViewerUnit {
    static let keys: [KeyHelpRow] = [
        KeyHelpRow(
            "u", "scope of the panels: frame / sequence / range / dataset",
            [
                (
                    Key.character("u"),
                    .redraw("nextScope") { c in
                        let all = ViewState.Scope.allCases
                        c.state.panel.scope = all[(all.firstIndex(of: c.state.panel.scope)! + 1) % all.count]
                        if c.state.panel.scope == .range && c.state.panel.range == nil {
                            c.state.message = "no range marked (x): range = the whole sequence shown"
                        }
                    }
                )
            ]),
        KeyHelpRow(
            "x", "mark range start / end (frames of one sequence; scope range)",
            [
                (
                    Key.character("x"),
                    .redraw("markRange") { c in
                        markRange(c)
                    }
                )
            ]),
    ]

    static func markRange(_ c: ViewerController) {
        let here = ViewState.FramePosition(sequence: c.state.sequence, frame: c.state.frame)
        guard let start = c.state.panel.rangeStart else {
            c.state.panel.rangeStart = here
            c.state.message = "range starts at \(here.name); x again ends it"
            return
        }
        guard start.sequence == here.sequence else {
            c.state.panel.rangeStart = here
            c.state.message = "a range stays within one sequence: it starts again at \(here.name)"
            return
        }
        let range = ViewState.MarkedRange(
            sequence: here.sequence, first: min(start.frame, here.frame),
            last: max(start.frame, here.frame))
        c.state.panel.range = range
        c.state.panel.rangeStart = nil
        c.state.panel.scope = .range
        c.state.message = "range \(range.name) marked: \(range.count) frames of sequence \(range.sequence + 1)"
    }

    /// What the status line says of the range: exactly which frames it holds.
    static func status(_ state: ViewState) -> String? {
        if let start = state.panel.rangeStart { return "range from \(start.name)…" }
        guard
            state.panel.scope == .range || state.panel.kind != .none, let range = state.panel.range
        else { return nil }
        return "range \(range.name) (\(range.count) fr)"
    }

    static func name(_ state: ViewState, sequences: [String]) -> String {
        switch state.panel.scope {
        case .frame: return "this frame"
        case .sequence: return "sequence \(state.sequence + 1)"
        case .range:
            return state.panel.range.map { "range \($0.name)" }
                ?? "sequence \(state.sequence + 1) (no range marked)"
        case .dataset: return "dataset"
        }
    }

    /// The frames of the panels' scope, in order (a range not marked: the whole sequence shown).
    static func positions(_ state: ViewState, dataset: Dataset) -> [ViewState.FramePosition] {
        switch state.panel.scope {
        case .frame: return [ViewState.FramePosition(sequence: state.sequence, frame: state.frame)]
        case .sequence, .range:
            let range = state.panel.scope == .range ? state.panel.range : nil
            let s = range?.sequence ?? state.sequence
            let indices = range.map { Array($0.first...$0.last) } ?? Array(dataset.sequences[s].frames.indices)
            return indices.map { ViewState.FramePosition(sequence: s, frame: $0) }
        case .dataset:
            return dataset.sequences.enumerated().flatMap { s, sequence in
                sequence.frames.indices.map { ViewState.FramePosition(sequence: s, frame: $0) }
            }
        }
    }

    /// The figures of one frame, from its loaded data.
    static func frameFigures(_ model: ViewModel, frame: FrameData, labelled: Bool) -> ScopeFigures {
        var score = ScoredFrame()
        score.labelled = labelled
        score.matrices = frame.confusion
        // The wording of the wider scopes' lists (FrameCache.score): a part, then why.
        if labelled {
            if let error = frame.errors[.groundTruth] {
                score.problems.append("ground truth: \(error)")
            } else {
                for method in model.methods {
                    if let error = frame.errors[.prediction(method)] {
                        score.problems.append("\(method): \(error)")
                    } else if frame.predictions[method] == nil {
                        score.problems.append("\(method): no prediction for \(frame.key)")
                    }
                }
            }
        }
        let position = ViewState.FramePosition(sequence: model.state.sequence, frame: model.state.frame)
        return ScopeFigures.sum(
            name: name(model.state, sequences: model.sequenceNames),
            frames: [
                (
                    position, frame.key,
                    score
                )
            ],
            reference: model.reference, compared: model.comparedMethod,
            classes: model.theme.space.count)
    }

    /// The panel's figures: of the frame from its data; of wider scopes
    /// from the sequence statistics (nil, with progress, until computed).
    static func load(into model: inout ViewModel, controller c: ViewerController, blocking: Bool) {
        // The IoU and confusion panels' figures (the fixed/broken panel computes its own).
        guard [.iou, .confusion].contains(c.state.panel.kind), model.hasGroundTruth, !c.dataset.methods.isEmpty
        else { return }
        let state = c.state
        let name = name(state, sequences: model.sequenceNames)
        if state.panel.scope == .frame {
            if let frame = model.frame {
                model.scope = frameFigures(
                    model, frame: frame,
                    labelled: c.sequence.frames[state.frame].groundTruth != nil)
            }
            return
        }
        let key = ScopeKey(
            scope: state.panel.scope, sequence: state.panel.scope == .dataset ? 0 : state.sequence,
            range: state.panel.scope == .range ? state.panel.range : nil,
            reference: model.reference, compared: model.comparedMethod)
        if let cached = c.scopeCache, cached.key == key {
            model.scope = cached.figures
            return
        }
        var frames: [(ViewState.FramePosition, String, ScoredFrame)] = []
        func add(_ s: Int, _ scores: [ScoredFrame], _ indices: ClosedRange<Int>?) {
            let keys = c.dataset.sequences[s].frames
            for (f, score) in scores.enumerated() where indices?.contains(f) ?? true {
                frames.append((ViewState.FramePosition(sequence: s, frame: f), keys[f].key, score))
            }
        }
        switch state.panel.scope {
        case .frame: return
        case .sequence, .range:
            let range = state.panel.scope == .range ? state.panel.range : nil
            let s = range?.sequence ?? state.sequence
            guard let scores = blocking ? c.statistics.compute(sequence: s) : c.statistics.scores(sequence: s) else {
                model.scopeProgress = "scoring the frames of sequence \(s + 1)…"
                return
            }
            add(s, scores, range.map { $0.first...$0.last })
        case .dataset:
            guard let all = c.statistics.allSequences(blocking: blocking) else {
                let p = c.statistics.progress
                model.scopeProgress = "scoring the dataset: \(p.done)/\(p.of) sequences…"
                return
            }
            for (s, scores) in all.enumerated() { add(s, scores, nil) }
        }
        let figures = ScopeFigures.sum(
            name: name, frames: frames, reference: model.reference,
            compared: model.comparedMethod,
            classes: c.theme.space.count)
        c.scopeCache = (key, figures)
        model.scope = figures
    }
}
