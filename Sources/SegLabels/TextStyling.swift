import SegFormats

/// How a plain-text report marks emphasis and colour. Reports below the view
/// layer (memory inspect, eval tables, label tables) take a styling and never
/// write terminal escapes themselves; the view layer's `AnsiStyling` does.
public protocol TextStyling: Sendable {
    /// Whether colours are shown (else reports use their monochrome forms).
    var colored: Bool { get }
    func bold(_ text: String) -> String
    func foreground(_ text: String, _ color: RGB, bold: Bool) -> String
    func background(_ text: String, _ color: RGB) -> String
}

/// No styling at all: files, pipes, NO_COLOR.
public struct PlainStyling: TextStyling {
    public init() {}
    public var colored: Bool { false }
    public func bold(_ text: String) -> String { text }
    public func foreground(_ text: String, _ color: RGB, bold: Bool) -> String { text }
    public func background(_ text: String, _ color: RGB) -> String { text }
}
