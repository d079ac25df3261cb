/// What a key does in the viewer.
public enum ViewerAction: Sendable, Equatable {
    case quit, help
    case nextFrame, previousFrame, nextSequence, previousSequence, firstFrame, lastFrame
    case playPause, faster, slower, jumpPrompt
    case nextLayout, nextPane, toggleOverlay, lessOpacity, moreOpacity
    case confidenceMode, lowerTau, raiseTau, smallerRadius, largerRadius
    case flipMode, nextComparedMethod, toggleBandOnly
    case toggleIoUPanel, toggleSort, nextIoUScope, selectUp, selectDown, focusClass, clearFocus, markRange
    case worstFrame, toggleInspector
    case zoomIn, zoomOut, resetZoom, panLeft, panRight, panUp, panDown
    case bookmark, nextBookmark, previousBookmark
}

/// One line of the help screen and the bindings it describes.
public struct KeyHelpRow: Sendable {
    /// The keys as the help screen and the man page write them.
    public let keys: String
    public let meaning: String
    public let bindings: [(key: Key, action: ViewerAction)]
}

/// The viewer's key bindings: the one table that drives the controller,
/// the help screen, and the test that the man page lists every key.
public enum KeyBindings {
    public static let rows: [KeyHelpRow] = [
        KeyHelpRow(keys: "←/→  h/l", meaning: "previous / next frame",
                   bindings: [(.left, .previousFrame), (.character("h"), .previousFrame), (.right, .nextFrame), (.character("l"), .nextFrame)]),
        KeyHelpRow(keys: "PgUp/PgDn  [ ]", meaning: "previous / next sequence",
                   bindings: [(.pageUp, .previousSequence), (.character("["), .previousSequence), (.pageDown, .nextSequence), (.character("]"), .nextSequence)]),
        KeyHelpRow(keys: "Home/End  g/G", meaning: "first / last frame",
                   bindings: [(.home, .firstFrame), (.character("g"), .firstFrame), (.end, .lastFrame), (.character("G"), .lastFrame)]),
        KeyHelpRow(keys: "space", meaning: "play / pause;  + -  change fps",
                   bindings: [(.character(" "), .playPause), (.character("+"), .faster), (.character("-"), .slower)]),
        KeyHelpRow(keys: ":", meaning: "jump to a frame key or index", bindings: [(.character(":"), .jumpPrompt)]),
        KeyHelpRow(keys: "v", meaning: "layout: grid / row / single;  Tab  next pane",
                   bindings: [(.character("v"), .nextLayout), (.tab, .nextPane)]),
        KeyHelpRow(keys: "o", meaning: "overlay classes on the frame;  { }  opacity",
                   bindings: [(.character("o"), .toggleOverlay), (.character("{"), .lessOpacity), (.character("}"), .moreOpacity)]),
        KeyHelpRow(keys: "c", meaning: "confidence change after memory refinement", bindings: [(.character("c"), .confidenceMode)]),
        KeyHelpRow(keys: "t/T  r/R", meaning: "threshold τ -/+;  boundary radius -/+",
                   bindings: [(.character("t"), .lowerTau), (.character("T"), .raiseTau), (.character("r"), .smallerRadius), (.character("R"), .largerRadius)]),
        KeyHelpRow(keys: "f", meaning: "flip map;  m  compared method;  b  band only",
                   bindings: [(.character("f"), .flipMode), (.character("m"), .nextComparedMethod), (.character("b"), .toggleBandOnly)]),
        KeyHelpRow(keys: "i", meaning: "IoU panel;  s sort;  u frame/sequence/range",
                   bindings: [(.character("i"), .toggleIoUPanel), (.character("s"), .toggleSort), (.character("u"), .nextIoUScope)]),
        KeyHelpRow(keys: "↑/↓  Enter  Esc", meaning: "select class; focus it; clear focus",
                   bindings: [(.up, .selectUp), (.down, .selectDown), (.enter, .focusClass), (.escape, .clearFocus)]),
        KeyHelpRow(keys: "x", meaning: "mark range start / end (IoU scope)", bindings: [(.character("x"), .markRange)]),
        KeyHelpRow(keys: "w", meaning: "worst frame of the compared method", bindings: [(.character("w"), .worstFrame)]),
        KeyHelpRow(keys: "I", meaning: "inspect: arrows move the cursor; click too", bindings: [(.character("I"), .toggleInspector)]),
        KeyHelpRow(keys: "z/Z  0", meaning: "zoom in / out; reset;  H J K L  pan",
                   bindings: [(.character("z"), .zoomIn), (.character("Z"), .zoomOut), (.character("0"), .resetZoom), (.character("H"), .panLeft),
                              (.character("J"), .panDown), (.character("K"), .panUp), (.character("L"), .panRight)]),
        KeyHelpRow(keys: "B  n/N", meaning: "bookmark frame with a note; next / previous",
                   bindings: [(.character("B"), .bookmark), (.character("n"), .nextBookmark), (.character("N"), .previousBookmark)]),
        KeyHelpRow(keys: "?", meaning: "this help", bindings: [(.character("?"), .help)]),
        // Ctrl-C arrives as a signal, not a key.
        KeyHelpRow(keys: "q  Ctrl-C", meaning: "quit", bindings: [(.character("q"), .quit)]),
    ]

    public static func action(for key: Key) -> ViewerAction? {
        for row in rows { if let binding = row.bindings.first(where: { $0.key == key }) { return binding.action } }
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
        }
    }
}
