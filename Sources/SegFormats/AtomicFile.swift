import Glibc

/// Writes whole files so that a reader (or an interrupted run) never sees half
/// of one: the bytes go to a temporary file in the same directory, which is
/// renamed over the destination once complete (rename is atomic on POSIX).
public enum AtomicFile {
    public static func write(_ bytes: UnsafeRawBufferPointer, to path: String) throws {
        let temporary = try writeTemporary(bytes, for: path)
        try commit(temporary, to: path)
    }

    /// Writes several files that belong together (a checkpoint and its training state): every one is
    /// written in full to its temporary file before any is renamed, so a full disk or a write error
    /// leaves all the previous files as they were. Renamed in the order given.
    public static func write(_ files: [(bytes: [UInt8], path: String)]) throws {
        var temporaries: [String] = []
        do {
            for file in files {
                temporaries.append(try file.bytes.withUnsafeBytes { try writeTemporary($0, for: file.path) })
            }
        } catch {
            for temporary in temporaries { unlink(temporary) }
            throw error
        }
        for (i, file) in files.enumerated() {
            do { try commit(temporaries[i], to: file.path) } catch {
                for temporary in temporaries[(i + 1)...] { unlink(temporary) }
                throw error
            }
        }
    }

    private static func writeTemporary(_ bytes: UnsafeRawBufferPointer, for path: String) throws -> String {
        let temporary = "\(path).\(getpid()).tmp"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        if fd < 0 { throw FormatError.writeFailed(path: path, reason: String(cString: strerror(errno))) }
        var written = 0
        while written < bytes.count {
            let n = Glibc.write(fd, bytes.baseAddress! + written, bytes.count - written)
            if n < 0 {
                if errno == EINTR { continue }
                let reason = String(cString: strerror(errno))
                close(fd)
                unlink(temporary)
                throw FormatError.writeFailed(path: path, reason: reason)
            }
            written += n
        }
        if close(fd) != 0 {
            let reason = String(cString: strerror(errno))
            unlink(temporary)
            throw FormatError.writeFailed(path: path, reason: reason)
        }
        return temporary
    }

    private static func commit(_ temporary: String, to path: String) throws {
        if rename(temporary, path) != 0 {
            let reason = String(cString: strerror(errno))
            unlink(temporary)
            throw FormatError.writeFailed(path: path, reason: reason)
        }
    }

    public static func write(_ bytes: [UInt8], to path: String) throws {
        try bytes.withUnsafeBytes { try write($0, to: path) }
    }

    public static func write(_ text: String, to path: String) throws {
        try write(Array(text.utf8), to: path)
    }
}
