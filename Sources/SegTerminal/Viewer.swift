import Dispatch
import Foundation
import SegLabels
import SegView
import Synchronization

/// The interactive viewer: reads keys, updates the controller, repaints.
public enum Viewer {
    /// Raised by SIGINT, SIGTERM and SIGHUP (the terminal went away, e.g. an
    /// SSH disconnect) through dispatch signal sources; the loop polls it and
    /// leaves through the same path as `q`, restoring the terminal.
    static let stopRequested = Atomic<Bool>(false)
    /// Raised by SIGWINCH. libdispatch leaves the signal blocked on the main
    /// thread, so curses' own handler never runs; a signal source does.
    static let resizeRequested = Atomic<Bool>(false)

    public static func run(_ controller: ViewerController, depth: ColorDepth) {
        var sources: [DispatchSourceSignal] = []
        for number in [SIGINT, SIGTERM, SIGHUP, SIGWINCH] {
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler {
                if number == SIGWINCH {
                    Viewer.resizeRequested.store(true, ordering: .relaxed)
                } else {
                    Viewer.stopRequested.store(true, ordering: .relaxed)
                }
            }
            source.resume()
            sources.append(source)
        }
        let screen = TerminalScreen(requested: depth, classColors: controller.theme.classColors, background: controller.theme.color(.background))
        defer {
            screen.close()
            sources.forEach { $0.cancel() }
        }
        var lastModelSignature = ""
        while !stopRequested.load(ordering: .relaxed) {
            if resizeRequested.exchange(false, ordering: .relaxed) {
                screen.adoptTerminalSize()
                lastModelSignature = ""
            }
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
                if controller.handle(key) == .quit { return }
                controller.stateChanged = true
            }
        }
    }
}
