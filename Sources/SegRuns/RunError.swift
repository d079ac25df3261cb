/// A problem found while running the model over a dataset (not a usage
/// error): one line, naming the file or folder at fault.
public struct RunError: Error, CustomStringConvertible, Equatable {
    public let description: String
    public init(_ description: String) { self.description = description }
}

/// How long work reports progress and learns it should stop: the CLI wires
/// these to a progress line and Ctrl-C; tests and the bench leave them silent.
public struct WorkObserver: Sendable {
    public let progress: @Sendable (_ done: Int, _ total: Int) -> Void
    public let cancelled: @Sendable () -> Bool

    public init(
        progress: @escaping @Sendable (Int, Int) -> Void = { _, _ in },
        cancelled: @escaping @Sendable () -> Bool = { false }
    ) {
        self.progress = progress
        self.cancelled = cancelled
    }

    public static let silent = WorkObserver()
}
