import Dispatch

/// A pointer that parallel loops may share because each iteration writes a
/// disjoint part of the buffer (the caller's promise, hence "unchecked").
public struct SharedMutablePointer<T>: @unchecked Sendable {
    public let base: UnsafeMutablePointer<T>
    public init(_ base: UnsafeMutablePointer<T>) { self.base = base }
    @inline(__always) public subscript(i: Int) -> T {
        get { base[i] }
        nonmutating set { base[i] = newValue }
    }
}

/// Runs body(0..<count) on all cores; returns when every iteration is done.
public func parallelFor(_ count: Int, _ body: @Sendable (Int) -> Void) {
    if count == 1 {
        body(0)
        return
    }
    DispatchQueue.concurrentPerform(iterations: count, execute: body)
}
