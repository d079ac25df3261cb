/// Problems with label images, label spaces and themes; each names its file.
public enum LabelError: Error, Equatable, CustomStringConvertible, Sendable {
    case wrongBitDepth(path: String, bitDepth: Int, colorType: String)
    case wrongEncoding(path: String, problem: String)
    case unknownLabelSpace(name: String)
    case theme(path: String, problem: String)
    case config(path: String, problem: String)
    case themeNotFound(name: String, searched: [String])

    public var description: String {
        switch self {
        case .wrongBitDepth(let path, let depth, let type):
            return "\(path): a \(depth)-bit \(type) PNG cannot hold labels (expected 8-bit gray, palette or RGB colour)"
        case .wrongEncoding(let path, let problem): return "\(path): \(problem)"
        case .unknownLabelSpace(let name):
            return
                "unknown label space '\(name)' (built in: \(LabelSpace.builtIn.keys.sorted().joined(separator: ", ")); or give a theme file that defines one)"
        case .theme(let path, let problem): return "\(path): bad theme: \(problem)"
        case .config(let path, let problem): return "\(path): \(problem)"
        case .themeNotFound(let name, let searched):
            return "theme '\(name)' not found (looked in \(searched.joined(separator: ", ")))"
        }
    }
}
