import Foundation
import SegLabels
import SegView

/// The interactive viewer: reads keys, updates the controller, repaints.
public enum Viewer {
    /// Runs until the controller quits (q, Ctrl-C) or a signal asks the viewer
    /// to end (SIGTERM, SIGHUP, ...). The terminal is restored either way; after
    /// a signal the process then ends by that signal, so the shell sees it.
    public static func run(_ controller: ViewerController, depth: ColorDepth) {
        let screen = TerminalScreen(requested: depth, classColors: controller.theme.classColors,
                                    background: controller.theme.color(.background))
        let endedBy = loop(controller, on: screen)
        screen.close()
        if let endedBy { TerminalScreen.endProcess(by: endedBy) }
    }

    /// The signal that ended the loop, or nil when the controller quit.
    private static func loop(_ controller: ViewerController, on screen: TerminalScreen) -> Int32? {
        var lastModelSignature = ""
        while true {
            if let signal = screen.endingSignal() { return signal }
            controller.screenSize = (screen.width, screen.height)
            let model = controller.model()
            // Repaint when something visible may have changed: the state, the
            // frame arriving, or background statistics arriving.
            let arrived = [model.frame != nil, model.cumulative != nil, model.temporal != nil, model.frameBoundary != nil, model.nextFrame != nil]
            let signature = "\(model.state.frame)|\(model.state.sequence)|\(arrived)|\(model.sparkline.count)|\(screen.width)x\(screen.height)|\(model.loading)"
            if signature != lastModelSignature || controller.stateChanged {
                screen.paint(Compositor(model: model, width: screen.width, height: screen.height).compose())
                lastModelSignature = signature
                controller.stateChanged = false
            }
            guard let event = screen.nextEvent() else {
                if controller.tick() { controller.stateChanged = true }
                continue
            }
            switch event {
            case .resize:
                screen.resized()
                lastModelSignature = ""
            case .key(let key):
                if controller.handle(key) == .quit { return nil }
                controller.stateChanged = true
            }
        }
    }
}
