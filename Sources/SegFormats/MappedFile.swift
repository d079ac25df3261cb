import Glibc

/// A read-only memory mapping of a whole regular file. Large npy and safetensors
/// files are read through this so that only the pages a caller touches are loaded.
public final class MappedFile: @unchecked Sendable {
    public let path: String
    public let count: Int
    private let base: UnsafeMutableRawPointer?

    public init(path: String) throws {
        self.path = path
        // Non-blocking: opening a FIFO for reading would otherwise wait for a
        // writer forever; the regular-file check below then refuses it.
        let fd = open(FileName.systemPath(path), O_RDONLY | O_CLOEXEC | O_NONBLOCK)
        if fd < 0 { throw MappedFile.error(path: path, errno: errno) }
        defer { close(fd) }
        var info = stat()
        if fstat(fd, &info) != 0 { throw MappedFile.error(path: path, errno: errno) }
        if (info.st_mode & S_IFMT) == S_IFDIR { throw FormatError.unreadable(path: path, reason: "is a directory") }
        if (info.st_mode & S_IFMT) != S_IFREG { throw FormatError.unreadable(path: path, reason: "not a regular file") }
        count = Int(info.st_size)
        if count == 0 {
            base = nil
            return
        }
        let mapped = mmap(nil, count, PROT_READ, MAP_PRIVATE, fd, 0)
        if mapped == MAP_FAILED || mapped == nil { throw MappedFile.error(path: path, errno: errno) }
        base = mapped
    }

    deinit {
        if let base { munmap(base, count) }
    }

    public func withBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        try body(UnsafeRawBufferPointer(start: base.map { UnsafeRawPointer($0) }, count: count))
    }

    static func error(path: String, errno code: Int32) -> FormatError {
        switch code {
        case ENOENT, ENOTDIR: return .notFound(path: path)
        case EACCES, EPERM: return .unreadable(path: path, reason: "permission denied")
        case EISDIR: return .unreadable(path: path, reason: "is a directory")
        default: return .unreadable(path: path, reason: String(cString: strerror(code)))
        }
    }
}
