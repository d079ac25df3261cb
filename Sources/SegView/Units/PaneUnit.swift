extension ViewState {
    /// How the panes are arranged and drawn.
    public struct PaneOptions: Equatable, Sendable {
        public var layout = Layout.grid
        /// Pane shown in the single layout (index into the pane list).
        public var singlePane = 0
        public var overlay = false
        public var opacity: Float = 0.5
        /// The strip naming the classes of the frame by colour.
        public var classLegend = true
    }
}

/// Layout of the panes, the overlay of classes on the frame, the class legend.
enum PaneUnit: ViewerUnit {
    static let keys: [KeyHelpRow] = [
        KeyHelpRow(
            "v", "layout: grid / row / single;  Tab  next pane",
            [
                (
                    Key.character("v"),
                    .redraw("nextLayout") { c in
                        let all = ViewState.Layout.allCases
                        c.state.panes.layout = all[(all.firstIndex(of: c.state.panes.layout)! + 1) % all.count]
                    }
                ),
                (
                    Key.tab,
                    .redraw("nextPane") { c in
                        let panes = c.model().panes.count
                        c.state.panes.singlePane = panes > 0 ? (c.state.panes.singlePane + 1) % panes : 0
                    }
                ),
            ]),
        KeyHelpRow(
            "o", "overlay classes on the frame;  { }  opacity",
            [
                (Key.character("o"), .redraw("toggleOverlay") { c in c.state.panes.overlay.toggle() }),
                (
                    Key.character("{"),
                    .redraw("lessOpacity") { c in
                        c.state.panes.opacity = max(
                            0.1,
                            c.state.panes.opacity - 0.1)
                    }
                ),
                (
                    Key.character("}"),
                    .redraw("moreOpacity") { c in
                        c.state.panes.opacity = min(
                            1,
                            c.state.panes.opacity + 0.1)
                    }
                ),
            ]),
        KeyHelpRow(
            "k", "class colour legend on / off",
            [
                (Key.character("k"), .redraw("toggleClassLegend") { c in c.state.panes.classLegend.toggle() })
            ]),
    ]
}
