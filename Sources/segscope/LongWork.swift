import Dispatch
import Foundation
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

/// A one-line progress bar on stderr, drawn only when stderr is a terminal.
struct ProgressLine {
    let label: String
    let enabled = isatty(STDERR_FILENO) != 0
    let started = Date()

    func update(_ done: Int, _ total: Int) {
        guard enabled, total > 0 else { return }
        let width = 30
        let filled = done * width / total
        let elapsed = Date().timeIntervalSince(started)
        let eta = done > 0 ? elapsed / Double(done) * Double(total - done) : 0
        let bar = String(repeating: "#", count: filled) + String(repeating: ".", count: width - filled)
        let line = "\r\(label) [\(bar)] \(done)/\(total)  \(Int(elapsed))s elapsed, ~\(Int(eta))s left \u{1b}[K"
        FileHandle.standardError.write(Data(line.utf8))
    }

    func finish() {
        guard enabled else { return }
        FileHandle.standardError.write(Data("\r\u{1b}[K".utf8))
    }
}

/// A problem with the inputs found while running (not a usage error): printed
/// as one `segscope: ...` line, exit status 1.
struct InputError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
