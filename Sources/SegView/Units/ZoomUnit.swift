extension ViewState {
    public struct ZoomState: Equatable, Sendable {
        /// 1 = whole image; larger shows a smaller part around (centerX, centerY), in [0, 1].
        public var zoom: Float = 1
        public var centerX: Float = 0.5
        public var centerY: Float = 0.5
    }
}

/// Zoom and pan, the viewport they give, and where the view sits in the image.
enum ZoomUnit: ViewerUnit {
    static let keys: [KeyHelpRow] = [
        KeyHelpRow(
            "z/Z  0", "zoom in / out; reset;  H J K L  pan (the status line shows where)",
            [
                (Key.character("z"), .redraw("zoomIn") { c in c.state.zoom.zoom = min(64, c.state.zoom.zoom * 1.5) }),
                (Key.character("Z"), .redraw("zoomOut") { c in c.state.zoom.zoom = max(1, c.state.zoom.zoom / 1.5) }),
                (Key.character("0"), .redraw("resetZoom") { c in c.state.zoom = ViewState.ZoomState() }),
                (Key.character("H"), .redraw("panLeft") { c in pan(c, dx: -1, dy: 0) }),
                (Key.character("J"), .redraw("panDown") { c in pan(c, dx: 0, dy: 1) }),
                (Key.character("K"), .redraw("panUp") { c in pan(c, dx: 0, dy: -1) }),
                (Key.character("L"), .redraw("panRight") { c in pan(c, dx: 1, dy: 0) }),
            ])
    ]

    static func pan(_ c: ViewerController, dx: Float, dy: Float) {
        let step = 0.25 / max(1, c.state.zoom.zoom)
        c.state.zoom.centerX = min(1, max(0, c.state.zoom.centerX + dx * step))
        c.state.zoom.centerY = min(1, max(0, c.state.zoom.centerY + dy * step))
    }

    /// The image region shown, in image pixels.
    static func viewport(_ state: ViewState, imageWidth w: Int, imageHeight h: Int) -> Viewport {
        let zoom = max(1, state.zoom.zoom)
        let vw = Float(w) / zoom
        let vh = Float(h) / zoom
        let x0 = min(max(0, state.zoom.centerX * Float(w) - vw / 2), Float(w) - vw)
        let y0 = min(max(0, state.zoom.centerY * Float(h) - vh / 2), Float(h) - vh)
        return Viewport(x0: x0, y0: y0, x1: x0 + vw, y1: y0 + vh)
    }

    /// "zoom 2.25x · x 25–69% y 0–44%": the zoom and the part of the image in view.
    static func status(_ model: ViewModel) -> String? {
        guard model.state.zoom.zoom > 1 else { return nil }
        var text = "zoom \(Compositor.fixed2(model.state.zoom.zoom))x"
        if let frame = model.frame, frame.width > 0, frame.height > 0 {
            let v = viewport(model.state, imageWidth: frame.width, imageHeight: frame.height)
            func percent(_ a: Float, _ n: Int) -> Int { Int((a / Float(n) * 100).rounded()) }
            text +=
                " · x \(percent(v.x0, frame.width))–\(percent(v.x1, frame.width))%"
                + " y \(percent(v.y0, frame.height))–\(percent(v.y1, frame.height))%"
        }
        return text
    }
}
