import Foundation

/// A one-line progress bar on stderr, drawn only when stderr is a terminal.
public struct ProgressLine: Sendable {
    public let label: String
    let enabled = isatty(STDERR_FILENO) != 0
    let started = Date()

    public init(label: String) { self.label = label }

    public func update(_ done: Int, _ total: Int) {
        guard enabled, total > 0 else { return }
        let width = 30
        let filled = done * width / total
        let elapsed = Date().timeIntervalSince(started)
        let eta = done > 0 ? elapsed / Double(done) * Double(total - done) : 0
        let bar = String(repeating: "#", count: filled) + String(repeating: ".", count: width - filled)
        let line = "\r\(label) [\(bar)] \(done)/\(total)  \(Int(elapsed))s elapsed, ~\(Int(eta))s left \u{1b}[K"
        FileHandle.standardError.write(Data(line.utf8))
    }

    public func finish() {
        guard enabled else { return }
        FileHandle.standardError.write(Data("\r\u{1b}[K".utf8))
    }
}
