/// What a key does in the viewer.
public enum ViewerAction: Sendable, Equatable {
    case quit, help
    case nextFrame, previousFrame, nextSequence, previousSequence, firstFrame, lastFrame
    case playPause, faster, slower, jumpPrompt
    case nextLayout, nextPane, toggleOverlay, lessOpacity, moreOpacity, toggleClassLegend
    case confidenceMode, lowerTau, raiseTau, smallerRadius, largerRadius
    case flipMode, nextComparedMethod, nextReferenceMethod, toggleBandOnly
    case toggleIoUPanel, toggleSort, nextScope, selectUp, selectDown, focusClass, clearFocus, markRange
    case confusionPanel
    case worstFrame, worstDelta, toggleInspector
    case suspectMode, mostSuspects
    case flickerMode, nextPanelMetric, nextSparkMetric
    case zoomIn, zoomOut, resetZoom, panLeft, panRight, panUp, panDown
    case bookmark, nextBookmark, previousBookmark, deleteBookmark
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
        KeyHelpRow(keys: ":", meaning: "jump to a frame: key, N (dataset) or S/N", bindings: [(.character(":"), .jumpPrompt)]),
        KeyHelpRow(keys: "v", meaning: "layout: grid / row / single;  Tab  next pane",
                   bindings: [(.character("v"), .nextLayout), (.tab, .nextPane)]),
        KeyHelpRow(keys: "o", meaning: "overlay classes on the frame;  { }  opacity",
                   bindings: [(.character("o"), .toggleOverlay), (.character("{"), .lessOpacity), (.character("}"), .moreOpacity)]),
        KeyHelpRow(keys: "k", meaning: "class colour legend on / off", bindings: [(.character("k"), .toggleClassLegend)]),
        KeyHelpRow(keys: "c", meaning: "confidence change after memory refinement", bindings: [(.character("c"), .confidenceMode)]),
        KeyHelpRow(keys: "t/T  r/R", meaning: "threshold τ -/+ (Δconf, or suspects);  boundary radius -/+",
                   bindings: [(.character("t"), .lowerTau), (.character("T"), .raiseTau), (.character("r"), .smallerRadius), (.character("R"), .largerRadius)]),
        KeyHelpRow(keys: "f", meaning: "flip map;  b  flips in the boundary band only",
                   bindings: [(.character("f"), .flipMode), (.character("b"), .toggleBandOnly)]),
        KeyHelpRow(keys: "m/M", meaning: "compared / reference method (flips, Δ, Δconf)",
                   bindings: [(.character("m"), .nextComparedMethod), (.character("M"), .nextReferenceMethod)]),
        KeyHelpRow(keys: "i", meaning: "IoU panel;  s sort;  u frame/sequence/range/dataset",
                   bindings: [(.character("i"), .toggleIoUPanel), (.character("s"), .toggleSort), (.character("u"), .nextScope)]),
        KeyHelpRow(keys: "y", meaning: "IoU panel shows IoU / Boundary IoU / iIoU", bindings: [(.character("y"), .nextPanelMetric)]),
        KeyHelpRow(keys: "F  Y", meaning: "pixels that change in the next frame;  sparklines: mIoU / flicker / VC8",
                   bindings: [(.character("F"), .flickerMode), (.character("Y"), .nextSparkMetric)]),
        KeyHelpRow(keys: "C", meaning: "confusion matrix: arrows move, Enter lists its frames",
                   bindings: [(.character("C"), .confusionPanel)]),
        KeyHelpRow(keys: "↑/↓  Enter  Esc", meaning: "select class; focus it; clear focus and highlight",
                   bindings: [(.up, .selectUp), (.down, .selectDown), (.enter, .focusClass), (.escape, .clearFocus)]),
        KeyHelpRow(keys: "x", meaning: "mark range start / end (scope)", bindings: [(.character("x"), .markRange)]),
        KeyHelpRow(keys: "w/W", meaning: "worst frame / worst Δ of the dataset; again: the next",
                   bindings: [(.character("w"), .worstFrame), (.character("W"), .worstDelta)]),
        KeyHelpRow(keys: "a/A", meaning: "annotation suspects; frame with the most, again: next",
                   bindings: [(.character("a"), .suspectMode), (.character("A"), .mostSuspects)]),
        KeyHelpRow(keys: "I", meaning: "inspect: arrows move the cursor; click too", bindings: [(.character("I"), .toggleInspector)]),
        KeyHelpRow(keys: "z/Z  0", meaning: "zoom in / out; reset;  H J K L  pan",
                   bindings: [(.character("z"), .zoomIn), (.character("Z"), .zoomOut), (.character("0"), .resetZoom), (.character("H"), .panLeft),
                              (.character("J"), .panDown), (.character("K"), .panUp), (.character("L"), .panRight)]),
        KeyHelpRow(keys: "B  n/N  D", meaning: "bookmark with a note; next / previous; delete",
                   bindings: [(.character("B"), .bookmark), (.character("n"), .nextBookmark), (.character("N"), .previousBookmark),
                              (.character("D"), .deleteBookmark)]),
        KeyHelpRow(keys: "?", meaning: "this help (↑/↓ scroll)", bindings: [(.character("?"), .help)]),
        // Ctrl-C arrives as SIGINT; the terminal hands it on as .interrupt.
        KeyHelpRow(keys: "q  Ctrl-C", meaning: "quit", bindings: [(.character("q"), .quit), (.interrupt, .quit)]),
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
        case .interrupt: return "Ctrl-C"
        case .click: return "click"
        }
    }
}

extension Key {
    /// Keys by the names `render --keys` takes (a single character is itself).
    public init?(name: String) {
        let named: [String: Key] = ["Tab": .tab, "Enter": .enter, "Esc": .escape, "Up": .up, "Down": .down, "Left": .left,
                                    "Right": .right, "Home": .home, "End": .end, "PgUp": .pageUp, "PgDn": .pageDown,
                                    "Space": .character(" "), "Backspace": .backspace]
        guard let key = named[name] else { return nil }
        self = key
    }
}
