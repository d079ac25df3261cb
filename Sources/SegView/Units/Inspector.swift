import SegDataset
import SegFormats
import SegLabels

extension ViewState {
    public struct InspectorState: Equatable, Sendable {
        public var on = false
        public var cursor: Point?
    }
}

/// The pixel inspector: a cursor (arrows, or a click) and a strip naming
/// every map's value there.
enum Inspector: ViewerUnit {
    static let keys: [KeyHelpRow] = [
        KeyHelpRow(
            "I", "inspect: a cursor and every map's value under it",
            [
                (
                    Key.character("I"),
                    .redraw("toggleInspector") { c in
                        c.state.inspector.on.toggle()
                        if c.state.inspector.on
                            && c.state.inspector.cursor == nil, let frame = c.cache.frame(c.frameIndex), frame.width > 0
                        {
                            c.state.inspector.cursor = ViewState.Point(x: frame.width / 2, y: frame.height / 2)
                        }
                    }
                )
            ]),
        KeyHelpRow(
            "←/→/↑/↓  click", "with the inspector: move the cursor; a click inspects that pixel",
            bindings: [
                (Key.left, "cursorLeft"), (Key.right, "cursorRight"), (Key.up, "cursorUp"), (Key.down, "cursorDown"),
            ].map { key, name in
                KeyBinding(trigger: .key(key), context: .inspector, action: .redraw(name) { c in moveCursor(c, key) })
            } + [KeyBinding(trigger: .anyClick, context: .normal, action: Action("click") { c, key in click(c, key) })]),
    ]

    static func moveCursor(_ c: ViewerController, _ key: Key) {
        guard var p = c.state.inspector.cursor, let frame = c.cache.frame(c.frameIndex), frame.width > 0 else { return }
        let stride = max(1, Int(Float(frame.width) / max(1, c.state.zoom.zoom) / 100))
        switch key {
        case .left: p.x = max(0, p.x - stride)
        case .right: p.x = min(frame.width - 1, p.x + stride)
        case .up: p.y = max(0, p.y - stride)
        case .down: p.y = min(frame.height - 1, p.y + stride)
        default: return
        }
        c.state.inspector.cursor = p
    }

    /// A click on a pane's pixels puts the cursor there, by the layout last painted.
    static func click(_ c: ViewerController, _ key: Key) -> Reaction {
        guard case .click(let column, let row) = key else { return .unchanged }
        let model = c.model()
        let layout =
            c.paintedLayout
            ?? ScreenLayout(
                model: model, width: c.screenSize.width,
                height: c.screenSize.height)
        guard let point = layout.imagePoint(column: column, row: row, model: model) else { return .unchanged }
        c.state.inspector.on = true
        c.state.inspector.cursor = point
        return .redraw
    }

    static func draw(_ compositor: Compositor, row: Int, into grid: inout CellGrid) {
        let model = compositor.model
        let theme = model.theme
        let width = compositor.width
        let bg = compositor.role(.statusBar)
        let fg = compositor.role(.statusText)
        grid.fill(x: 0, y: row, width: width, height: 1, with: Cell(" ", foreground: fg, background: bg))
        guard let cursor = model.state.inspector.cursor, let frame = model.frame, frame.width > 0,
            cursor.x < frame.width, cursor.y < frame.height
        else {
            grid.text(
                " inspect: arrows move the cursor, or click a pane; I leaves", x: 0, y: row, foreground: fg,
                background: bg)
            return
        }
        let i = cursor.y * frame.width + cursor.x
        // Row first, as explain --pixel Y,X and the explain view name pixels and tokens.
        var segments: [(text: String, priority: Int)] = [("y\(cursor.y) x\(cursor.x)", 9)]
        func name(_ id: UInt8) -> String { Int(id) < theme.space.count ? theme.space.classNames[Int(id)] : "ignore" }
        if let gt = frame.groundTruth, gt.ids.count > i { segments.append(("GT \(name(gt.ids[i]))", 8)) }
        for (rank, method) in model.methods.enumerated() {
            guard let p = frame.predictions[method], p.ids.count > i else { continue }
            var text = "\(method) \(name(p.ids[i]))"
            if let c = frame.confidences[method], c.values.count > i { text += " \(Compositor.fixed2(c.values[i]))" }
            segments.append((text, 7 - min(3, rank)))
        }
        if let pair = ConfidenceMode.pair(model), let c0 = frame.confidences[pair.before],
            let c1 = frame.confidences[pair.after],
            c0.values.count > i, c1.values.count > i
        {
            let d = c1.values[i] - c0.values[i]
            segments.append(("Δconf \(d >= 0 ? "+" : "")\(Compositor.fixed2(d))", 6))
        }
        if let distance = frame.boundaryDistance, distance.count > i {
            segments.append(("boundary \(distance[i] >= 255 ? "≥255" : "\(distance[i])")px", 3))
        }
        grid.text(
            " " + Compositor.fit(segments, width: width - 2, separator: "  "), x: 0, y: row, foreground: fg,
            background: bg)
    }
}
