extension ViewState {
    /// A line of text being typed in the status line.
    public struct Prompt: Equatable, Sendable {
        public enum Kind: Sendable { case jump, bookmark, export }
        public var kind: Kind
        public var text = ""
        public init(kind: Kind, text: String = "") {
            self.kind = kind
            self.text = text
        }

        var label: String {
            switch kind {
            case .jump: return "jump to (key, N of the dataset, or S/N; Esc cancels): "
            case .bookmark: return "bookmark note (Enter saves, Esc cancels): "
            case .export: return "export to (.md or .csv; Esc cancels): "
            }
        }
    }
}

/// The prompt: typing, Backspace, Enter accepts (an empty jump or export
/// cancels), Esc and Ctrl-C cancel.
enum PromptUnit: ViewerUnit {
    static let keys: [KeyHelpRow] = [
        KeyHelpRow(
            "text  Backspace  Ctrl-U", "at a prompt: type; delete the last character; clear the text",
            context: .prompt,
            [
                (
                    Trigger.anyCharacter,
                    Action("type") { c, key in
                        if case .character(let ch) = key { c.state.prompt?.text.append(ch) }
                        return .redraw
                    }
                ),
                (Trigger.key(.backspace), .redraw("deleteCharacter") { c in _ = c.state.prompt?.text.popLast() }),
                (Trigger.key(.clearLine), .redraw("clearPrompt") { c in c.state.prompt?.text = "" }),
            ]),
        KeyHelpRow(
            "Enter  Esc  Ctrl-C", "at a prompt: accept (empty: cancel); cancel; cancel", context: .prompt,
            [
                (Trigger.key(.enter), .redraw("acceptPrompt") { c in accept(c) }),
                (Trigger.key(.escape), .redraw("cancelPrompt") { c in c.state.prompt = nil }),
                (Trigger.key(.interrupt), .redraw("cancelPrompt") { c in c.state.prompt = nil }),
                (Trigger.otherKey, Action("ignore") { _, _ in .unchanged }),
            ]),
    ]

    static func accept(_ c: ViewerController) {
        guard let prompt = c.state.prompt else { return }
        c.state.prompt = nil
        let empty = prompt.text.allSatisfy(\.isWhitespace)
        switch prompt.kind {
        case .jump: if !empty { Navigation.jump(c, to: prompt.text) }
        case .bookmark: BookmarkUnit.save(c, note: prompt.text)
        case .export: if !empty { Export.write(c, to: prompt.text) }
        }
    }

    static func draw(_ compositor: Compositor, _ prompt: ViewState.Prompt, row: Int, into grid: inout CellGrid) {
        let width = compositor.width
        let text = prompt.label + prompt.text + "▏"
        grid.text(
            " " + (text.count > width - 2 ? "…" + String(text.suffix(width - 3)) : text), x: 0, y: row,
            foreground: compositor.role(.statusText), background: compositor.role(.statusBar), bold: true)
    }
}
