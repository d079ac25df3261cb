import Foundation
import SegLabels
import SegView

/// The interactive viewer: reads keys, updates the controller, repaints.
public enum Viewer {
    /// Runs until the controller quits (q, Ctrl-C) or a signal asks the viewer
    /// to end (SIGTERM, SIGHUP, ...). The terminal is restored either way; after
    /// a signal the process then ends by that signal, so the shell sees it.
    public static func run(_ controller: ViewerController, depth: ColorDepth) {
        let screen = TerminalScreen(
            requested: depth, theme: controller.theme, background: controller.theme.color(.background))
        let endedBy = loop(controller, on: screen)
        screen.close()
        if let endedBy { TerminalScreen.endProcess(by: endedBy) }
    }

    /// The signal that ended the loop, or nil when the controller quit.
    private static func loop(_ controller: ViewerController, on screen: TerminalScreen) -> Int32? {
        while true {
            if let signal = screen.endingSignal() { return signal }
            controller.screenSize = (screen.width, screen.height)
            // The controller knows what a paint depends on (state, size, what
            // arrived from the background) and draws only when it changed.
            if let grid = controller.paintIfChanged(width: screen.width, height: screen.height) { screen.paint(grid) }
            guard let event = screen.nextEvent() else {
                if controller.tick() { controller.stateChanged = true }
                continue
            }
            switch event {
            case .resize:
                screen.resized()
                controller.stateChanged = true
            case .key(let key):
                if controller.handle(key) == .quit { return nil }
            }
        }
    }
}
