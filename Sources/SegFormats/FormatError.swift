/// Why a file could not be read or written. Every case names the file, so the
/// CLI can print `segscope: <description>` as one line.
public enum FormatError: Error, Equatable, CustomStringConvertible, Sendable {
    case notFound(path: String)
    case unreadable(path: String, reason: String)
    case malformed(path: String, format: String, problem: String)
    case tooLarge(path: String, problem: String)
    case unsupported(path: String, problem: String)
    case writeFailed(path: String, reason: String)

    public var description: String {
        switch self {
        case .notFound(let path): return "\(path): no such file"
        case .unreadable(let path, let reason): return "\(path): cannot read: \(reason)"
        case .malformed(let path, let format, let problem): return "\(path): not a valid \(format) file: \(problem)"
        case .tooLarge(let path, let problem): return "\(path): too large: \(problem)"
        case .unsupported(let path, let problem): return "\(path): unsupported: \(problem)"
        case .writeFailed(let path, let reason): return "\(path): cannot write: \(reason)"
        }
    }

    public var path: String {
        switch self {
        case .notFound(let p), .unreadable(let p, _), .malformed(let p, _, _), .tooLarge(let p, _),
             .unsupported(let p, _), .writeFailed(let p, _):
            return p
        }
    }
}
