extension ViewState {
    public struct HelpState: Equatable, Sendable {
        public var shown = false
        public var scroll = 0
    }
}

/// The help screen: every row of the key table.
enum HelpUnit: ViewerUnit {
    static let keys: [KeyHelpRow] = [
        KeyHelpRow(
            "?", "this help (↑/↓ PgUp/PgDn Home/End scroll; q quits; other keys close)",
            bindings: [
                KeyBinding(
                    trigger: .key(.character("?")), context: .normal,
                    action: .redraw("help") { c in c.state.help = ViewState.HelpState(shown: true, scroll: 0) })
            ]
                + [
                    (Trigger.key(.down), Action.redraw("scrollDown") { c in scroll(c, by: 1) }),
                    (.key(.character("j")), .redraw("scrollDown") { c in scroll(c, by: 1) }),
                    (.key(.up), .redraw("scrollUp") { c in scroll(c, by: -1) }),
                    (.key(.character("k")), .redraw("scrollUp") { c in scroll(c, by: -1) }),
                    (.key(.pageDown), .redraw("pageDown") { c in scroll(c, by: 10) }),
                    (.key(.pageUp), .redraw("pageUp") { c in scroll(c, by: -10) }),
                    (.key(.home), .redraw("top") { c in c.state.help.scroll = 0 }),
                    (.key(.end), .redraw("bottom") { c in scroll(c, by: Int.max / 2) }),
                    (.key(.character("q")), Action("quit") { _, _ in .quit }),
                    (.otherKey, .redraw("closeHelp") { c in c.state.help.shown = false }),
                ].map { KeyBinding(trigger: $0.0, context: .help, action: $0.1) })
    ]

    /// Scrolls within what there is: the last line stays on screen.
    static func scroll(_ c: ViewerController, by step: Int) {
        let (_, _, lines) = layout(width: c.screenSize.width)
        let visible = max(1, min(c.screenSize.height - 2, lines.count + 4) - 4)
        c.state.help.scroll = max(0, min(lines.count - visible, c.state.help.scroll + step))
    }

    /// Help lines at a screen width: keys, then the meaning wrapped beside them.
    static func layout(width: Int) -> (boxWidth: Int, keyWidth: Int, lines: [(keys: String, text: String)]) {
        let boxWidth = min(width - 4, 80)
        let keyWidth = (KeyBindings.rows.map(\.keys.count).max() ?? 10) + 2
        var lines: [(String, String)] = []
        for row in KeyBindings.rows {
            let wrapped = Compositor.wrapText(row.meaning, width: max(8, boxWidth - 4 - keyWidth))
            for (i, text) in wrapped.enumerated() { lines.append((i == 0 ? row.keys : "", text)) }
        }
        return (boxWidth, keyWidth, lines)
    }

    static func draw(_ compositor: Compositor, into grid: inout CellGrid) {
        let (boxWidth, keyWidth, lines) = layout(width: compositor.width)
        let boxHeight = min(compositor.height - 2, lines.count + 4)
        let visible = boxHeight - 4
        let first = max(0, min(compositor.state.help.scroll, lines.count - visible))
        let more = first + visible < lines.count
        let footer = (first > 0 || more ? "↑/↓ scroll · " : "") + "q quits · other keys close"
        let (x0, y0) = compositor.box(
            width: boxWidth, height: boxHeight, title: "segscope keys", footer: footer,
            into: &grid)
        let bg = compositor.role(.statusBar)
        for (i, line) in lines.dropFirst(first).prefix(visible).enumerated() {
            grid.text(
                line.keys, x: x0 + 2, y: y0 + 2 + i, foreground: compositor.role(.title), background: bg,
                bold: true)
            grid.text(
                line.text, x: x0 + 2 + keyWidth, y: y0 + 2 + i, foreground: compositor.role(.text),
                background: bg)
        }
        if first > 0 {
            grid.text(
                "▲", x: x0 + boxWidth - 3, y: y0 + 1, foreground: compositor.role(.title),
                background: bg)
        }
        if more {
            grid.text(
                "▼", x: x0 + boxWidth - 3, y: y0 + boxHeight - 2, foreground: compositor.role(.title),
                background: bg)
        }
    }
}
