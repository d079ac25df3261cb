extension ViewState {
    /// A ranked list of frames to pick from (a confusion's frames, unreadable files).
    public struct FrameList: Equatable, Sendable {
        public struct Entry: Equatable, Sendable {
            public var sequence: Int, frame: Int
            public var key: String
            /// Pixels of the listed confusion in that frame (nil: the note says why it is listed).
            public var pixels: Int64?
            public var note: String?
        }
        public var title: String
        public var entries: [Entry]
        public var selected = 0
        /// Set on the frames jumped to from the list.
        public var highlight: Highlight?
    }
}

/// The frame-list popup: choose an entry, Enter jumps to its frame.
enum FrameListUnit: ViewerUnit {
    static let keys: [KeyHelpRow] = [
        KeyHelpRow(
            "↑/↓  Home/End", "in a list: choose (PgUp/PgDn by 10); first / last; Enter jumps; other keys close",
            context: .frameList,
            [
                (Trigger.key(.down), .redraw("nextEntry") { c in move(c) { $0 + 1 } }),
                (.key(.character("j")), .redraw("nextEntry") { c in move(c) { $0 + 1 } }),
                (.key(.up), .redraw("previousEntry") { c in move(c) { $0 - 1 } }),
                (.key(.character("k")), .redraw("previousEntry") { c in move(c) { $0 - 1 } }),
                (.key(.pageDown), .redraw("entryPageDown") { c in move(c) { $0 + 10 } }),
                (.key(.pageUp), .redraw("entryPageUp") { c in move(c) { $0 - 10 } }),
                (.key(.home), .redraw("firstEntry") { c in move(c) { _ in 0 } }),
                (.key(.end), .redraw("lastEntry") { c in move(c) { _ in Int.max } }),
                (.key(.enter), .redraw("jumpToEntry") { c in jump(c) }),
                (.otherKey, .redraw("closeList") { c in c.state.frameList = nil }),
            ])
    ]

    static func move(_ c: ViewerController, _ to: (Int) -> Int) {
        guard var list = c.state.frameList, !list.entries.isEmpty else { return }
        list.selected = max(0, min(list.entries.count - 1, to(list.selected)))
        c.state.frameList = list
    }

    static func jump(_ c: ViewerController) {
        guard let list = c.state.frameList, list.entries.indices.contains(list.selected) else { return }
        let entry = list.entries[list.selected]
        c.go(sequence: entry.sequence, frame: entry.frame)
        c.state.highlight = list.highlight
        c.state.frameList = nil
    }

    static func draw(_ compositor: Compositor, _ list: ViewState.FrameList, into grid: inout CellGrid) {
        let width = compositor.width
        let height = compositor.height
        let notes = list.entries.contains { $0.note != nil }
        // Lists with notes (files and why they could not be read) take the width they need, and the chosen
        // entry's note is shown whole, wrapped, below the list: a line of the list may be cut, the reason never.
        let longest = list.entries.map { 8 + $0.key.count + ($0.note?.count ?? 0) }.max() ?? 0
        let boxWidth = notes ? min(width - 4, max(100, longest)) : min(width - 4, 100)
        let selectedNote = list.entries.indices.contains(list.selected) ? list.entries[list.selected].note : nil
        let noteLines = selectedNote.map { Compositor.wrapText($0, width: boxWidth - 4) } ?? []
        let noteRows = notes ? min(noteLines.count, max(0, (height - 2 - 4 - 2) / 2)) + 1 : 0
        let boxHeight = min(height - 2, list.entries.count + 4 + noteRows)
        let (x0, y0) = compositor.box(
            width: boxWidth, height: boxHeight, title: list.title,
            footer: "↑/↓ Home/End choose · Enter jumps · other keys close", into: &grid)
        let visible = boxHeight - 4 - noteRows
        for (row, text) in noteLines.prefix(max(0, noteRows - 1)).enumerated() {
            grid.text(
                text, x: x0 + 2, y: y0 + 2 + visible + 1 + row, foreground: compositor.role(.dim),
                background: compositor.role(.statusBar))
        }
        let first = max(0, min(list.selected - visible / 2, list.entries.count - visible))
        let valueWidth = list.entries.compactMap { $0.pixels.map { Compositor.grouped($0).count } }.max() ?? 0
        for (offset, entry) in list.entries.enumerated().dropFirst(first).prefix(visible) {
            let y = y0 + 2 + offset - first
            let selected = offset == list.selected
            let bg = selected ? compositor.role(.selection) : compositor.role(.statusBar)
            let rank = "\(offset + 1).".leftPadded(5)
            let line: String
            if let pixels = entry.pixels {
                let value = Compositor.grouped(pixels).leftPadded(valueWidth) + " px"
                let keyWidth = boxWidth - 4 - rank.count - 1 - value.count - 1
                line =
                    rank + " "
                    + Compositor.shorten(entry.key, to: keyWidth).padding(
                        toLength: keyWidth,
                        withPad: " ", startingAt: 0) + " " + value
            } else {
                line = Compositor.shorten(rank + " " + entry.key + "  " + (entry.note ?? ""), to: boxWidth - 4)
            }
            grid.fill(
                x: x0 + 1, y: y, width: boxWidth - 2, height: 1,
                with: Cell(
                    " ",
                    foreground: compositor.role(.text), background: bg))
            grid.text(
                line, x: x0 + 2, y: y,
                foreground: selected ? compositor.role(.statusText) : compositor.role(.text), background: bg)
        }
    }
}
