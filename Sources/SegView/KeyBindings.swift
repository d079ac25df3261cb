/// A key press, independent of the terminal library.
public enum Key: Equatable, Sendable {
    case character(Character)
    case left, right, up, down, pageUp, pageDown, home, end
    case enter, escape, backspace, tab
    case click(column: Int, row: Int)
    /// Ctrl-C: cancels a prompt or popup, otherwise quits.
    case interrupt
    /// Ctrl-U: clears a prompt's text (as shells and readline do).
    case clearLine
}

/// What the viewer does after an action (as htop's Action table): paint
/// again, nothing visible changed, or leave.
public enum Reaction: Sendable, Equatable { case redraw, unchanged, quit }

/// What a key does: a name (for tests and logs) and the function run.
public struct Action: Sendable, CustomStringConvertible {
    public let description: String
    let run: @Sendable (ViewerController, Key) -> Reaction

    init(_ name: String, _ run: @escaping @Sendable (ViewerController, Key) -> Reaction) {
        description = name
        self.run = run
    }

    /// An action that changes the state and always repaints.
    static func redraw(_ name: String, _ change: @escaping @Sendable (ViewerController) -> Void) -> Action {
        Action(name) { c, _ in
            change(c)
            return .redraw
        }
    }
}

/// When a binding applies. A popup context takes every key while it is
/// open (its unbound keys go to its `.otherKey` binding); an overlay's
/// bindings come before the normal ones while it is on.
public enum KeyContext: String, Sendable, CaseIterable {
    case prompt, help, frameList, explain, inspector, confusion, normal

    var isPopup: Bool { self == .prompt || self == .help || self == .frameList }

    func isActive(_ state: ViewState) -> Bool {
        switch self {
        case .prompt: return state.prompt != nil
        case .help: return state.help.shown
        case .frameList: return state.frameList != nil
        case .explain: return state.explain.on
        case .inspector: return state.inspector.on
        case .confusion: return state.panel.kind == .confusion
        case .normal: return true
        }
    }
}

/// What a binding reacts to.
public enum Trigger: Equatable, Sendable {
    case key(Key)
    /// Any printable character (text typed at a prompt).
    case anyCharacter
    /// Any mouse click.
    case anyClick
    /// Any key the context binds otherwise (a popup's "other keys close").
    case otherKey

    func matches(_ key: Key) -> Bool {
        switch (self, key) {
        case (.key(let bound), _): return bound == key
        case (.anyCharacter, .character): return true
        case (.anyClick, .click): return true
        case (.otherKey, _): return true
        default: return false
        }
    }
}

public struct KeyBinding: Sendable {
    public let trigger: Trigger
    public let context: KeyContext
    public let action: Action
    /// The key of a `.key` trigger.
    public var key: Key? { if case .key(let k) = trigger { return k } else { return nil } }
}

/// One line of the help screen and the bindings it describes.
public struct KeyHelpRow: Sendable {
    /// The keys as the help screen and the man page write them.
    public let keys: String
    public let meaning: String
    public let bindings: [KeyBinding]

    init(_ keys: String, _ meaning: String, context: KeyContext = .normal, _ bindings: [(Trigger, Action)]) {
        self.keys = keys
        self.meaning = meaning
        self.bindings = bindings.map { KeyBinding(trigger: $0.0, context: context, action: $0.1) }
    }

    init(_ keys: String, _ meaning: String, bindings: [KeyBinding]) {
        self.keys = keys
        self.meaning = meaning
        self.bindings = bindings
    }

    init(_ keys: String, _ meaning: String, context: KeyContext = .normal, _ bindings: [(Key, Action)]) {
        self.init(keys, meaning, context: context, bindings.map { (Trigger.key($0.0), $0.1) })
    }
}

/// A part of the viewer (a mode, a panel, a popup): its rows of the key table.
protocol ViewerUnit: Sendable {
    static var keys: [KeyHelpRow] { get }
}

/// The viewer's key bindings: the one table that drives the controller,
/// the help screen, and the test that the man page lists every key. Each
/// unit brings its rows; the order here is the order of the help screen.
public enum KeyBindings {
    static let units: [any ViewerUnit.Type] = [
        Navigation.self, PaneUnit.self, ConfidenceMode.self, FlipsMode.self, MethodUnit.self, IoUPanel.self,
        ScopeUnit.self, FlickerMode.self, Sparklines.self, ConfusionPanel.self, Rankings.self, SuspectsMode.self,
        CoverageUnit.self, MemoryAttributionPanel.self, Inspector.self, ExplainView.self, ZoomUnit.self,
        BookmarkUnit.self, FrameListUnit.self,
        PromptUnit.self,
        HelpUnit.self,
    ]

    public static let rows: [KeyHelpRow] = units.flatMap { $0.keys }

    /// Bindings by context, in table order.
    static let byContext: [KeyContext: [KeyBinding]] = Dictionary(grouping: rows.flatMap(\.bindings), by: \.context)

    /// The binding `key` triggers in `state`: the open popup's, else an
    /// active overlay's, else the normal one.
    static func binding(for key: Key, in state: ViewState) -> KeyBinding? {
        for context in KeyContext.allCases where context.isActive(state) {
            let bindings = byContext[context] ?? []
            // Exact keys before the catch-alls of the same context.
            if let exact = bindings.first(where: { $0.key == key }) { return exact }
            if let general = bindings.first(where: { $0.key == nil && $0.trigger.matches(key) }) { return general }
            if context.isPopup { return nil }
        }
        return nil
    }

    /// A key as the help screen and the man page name it.
    public static func name(_ key: Key) -> String {
        switch key {
        case .character(" "): return "space"
        case .character(let c): return String(c)
        case .left: return "←"
        case .right: return "→"
        case .up: return "↑"
        case .down: return "↓"
        case .pageUp: return "PgUp"
        case .pageDown: return "PgDn"
        case .home: return "Home"
        case .end: return "End"
        case .enter: return "Enter"
        case .escape: return "Esc"
        case .backspace: return "Backspace"
        case .tab: return "Tab"
        case .click: return "click"
        case .interrupt: return "Ctrl-C"
        case .clearLine: return "Ctrl-U"
        }
    }
}

extension Key {
    /// Keys by the names `render --keys` takes (a single character is itself).
    public init?(name: String) {
        let named: [String: Key] = [
            "Tab": .tab, "Enter": .enter, "Esc": .escape, "Up": .up, "Down": .down, "Left": .left,
            "Right": .right, "Home": .home, "End": .end, "PgUp": .pageUp, "PgDn": .pageDown,
            "Space": .character(" "), "Backspace": .backspace, "Ctrl-C": .interrupt,
            "Ctrl-U": .clearLine,
        ]
        guard let key = named[name] else { return nil }
        self = key
    }
}
