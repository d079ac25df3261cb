/// The files of the panel's scope that could not be read (or are missing
/// for a labelled frame), listed with their reasons; every figure of the
/// panel is over the frames where they could.
enum CoverageUnit: ViewerUnit {
    static let keys: [KeyHelpRow] = [
        KeyHelpRow(
            "E", "list the unreadable or missing files of the scope, with reasons",
            [
                (Key.character("E"), .redraw("listProblems") { c in list(c) })
            ])
    ]

    static func list(_ c: ViewerController) {
        if c.state.panel.kind == .none { c.state.panel.kind = .iou }
        let model = c.model()
        guard let figures = model.scope else {
            c.state.message = model.scopeProgress ?? "the scope's figures need ground truth and predictions"
            return
        }
        guard !figures.problems.isEmpty else {
            c.state.message = "\(figures.name): every file of the \(figures.labelled) labelled frames was read"
            return
        }
        let entries = figures.problems.map {
            ViewState.FrameList.Entry(
                sequence: $0.position.sequence, frame: $0.position.frame, key: $0.key,
                pixels: nil, note: $0.text)
        }
        c.state.frameList = ViewState.FrameList(
            title: "\(figures.name): \(entries.count) unreadable or missing files",
            entries: entries)
    }
}
