import Dispatch
import Foundation
import SegRuns
import SegTerminal
import Synchronization

/// Ctrl-C and SIGTERM for long commands: a dispatch signal source (not a raw
/// handler) raises a flag that the work polls between units, so it can stop
/// cleanly and leave no partial files.
final class Interruption: Sendable {
    static let shared = Interruption()
    private let flag = Atomic<Bool>(false)
    private let sources = Mutex<[DispatchSourceSignal]>([])

    var requested: Bool { flag.load(ordering: .relaxed) }

    func install() {
        sources.withLock { sources in
            guard sources.isEmpty else { return }
            for number in [SIGINT, SIGTERM] {
                signal(number, SIG_IGN)
                let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
                source.setEventHandler { Interruption.shared.flag.store(true, ordering: .relaxed) }
                source.resume()
                sources.append(source)
            }
        }
    }
}

/// Long work as the CLI runs it: progress on stderr when it is a terminal,
/// and Ctrl-C/SIGTERM as cancellation that the library polls between units.
struct LongWork {
    let line: ProgressLine

    init(label: String) {
        Interruption.shared.install()
        line = ProgressLine(label: label)
    }

    var observer: WorkObserver {
        let line = self.line
        return WorkObserver(progress: { line.update($0, $1) }, cancelled: { Interruption.shared.requested })
    }

    func finish() { line.finish() }
}

/// A problem with the inputs found while running (not a usage error): printed
/// as one `segscope: ...` line, exit status 1.
struct InputError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
