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
        let shown = FileName.display(path)
        switch self {
        case .notFound: return "\(shown): no such file"
        case .unreadable(_, let reason): return "\(shown): cannot read: \(reason)"
        case .malformed(_, let format, let problem): return "\(shown): not a valid \(format) file: \(problem)"
        case .tooLarge(_, let problem): return "\(shown): too large: \(problem)"
        case .unsupported(_, let problem): return "\(shown): unsupported: \(problem)"
        case .writeFailed(_, let reason): return "\(shown): cannot write: \(reason)"
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
