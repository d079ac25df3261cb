import Foundation
import SegFormats
import SegLabels

/// A `CellGrid` as text with ANSI SGR colour escapes, for `segscope render --ansi`.
public enum AnsiText {
    public static func render(_ grid: CellGrid, colors: ColorMapping) -> String {
        let depth = colors.depth
        var out = ""
        for y in 0..<grid.height {
            var current = ""
            for x in 0..<grid.width {
                let cell = grid[x, y]
                let glyph = cell.isPixel && depth == .monochrome ? shade(cell) : visible(cell.glyph)
                if depth == .monochrome {
                    out.append(glyph)
                    continue
                }
                let sgr =
                    (cell.bold ? "1;" : "22;") + colors.sgr(cell.foreground, background: false)
                    + ";" + colors.sgr(cell.background, background: true)
                if sgr != current {
                    out += "\u{1b}[\(sgr)m"
                    current = sgr
                }
                out.append(glyph)
            }
            out += depth == .monochrome ? "\n" : "\u{1b}[0m\n"
        }
        return out
    }

    /// A cell's glyph, or a visible stand-in for a control character (text in
    /// cells can come from file names and metadata; ESC would drive the terminal).
    static func visible(_ glyph: Character) -> Character {
        guard glyph.unicodeScalars.contains(where: isControl) else { return glyph }
        let first = glyph.unicodeScalars.first!.value
        // U+2400...U+241F picture C0 controls, U+2421 DEL; C1 has no pictures.
        if first < 0x20 { return Character(Unicode.Scalar(0x2400 + first)!) }
        return first == 0x7f ? "\u{2421}" : "\u{fffd}"
    }

    static func shade(_ cell: Cell) -> Character {
        let shades: [Character] = [" ", "░", "▒", "▓", "█"]
        func luma(_ c: RGB) -> Int { (299 * Int(c.r) + 587 * Int(c.g) + 114 * Int(c.b)) / 1000 }
        return shades[min(4, (luma(cell.foreground) + luma(cell.background)) / 2 * 5 / 256)]
    }
}

/// C0 controls, DEL and C1 controls: what a terminal may act on.
func isControl(_ scalar: Unicode.Scalar) -> Bool {
    scalar.value < 0x20 || (0x7f..<0xa0).contains(scalar.value)
}

/// Text that did not come from segscope (file names, metadata, notes) made
/// safe to print: control characters (a newline in a file name, an escape in
/// a header key) shown escaped, so a line stays one line that cannot drive the terminal.
public func oneLine(_ text: String) -> String {
    var out = ""
    for scalar in text.unicodeScalars {
        if isControl(scalar) {
            out += "\\u{" + String(scalar.value, radix: 16) + "}"
        } else {
            out.unicodeScalars.append(scalar)
        }
    }
    return out
}

/// SGR escapes for reports on a colour terminal, at its colour depth.
public struct AnsiStyling: TextStyling {
    public let depth: ColorDepth
    public init(depth: ColorDepth) { self.depth = depth }

    /// The styling for stdout: ANSI on a colour terminal; plain for files,
    /// pipes, NO_COLOR and dumb terminals.
    public static func forStandardOutput() -> any TextStyling {
        let depth = ColorDepth.detect()
        return isatty(STDOUT_FILENO) != 0 && depth != .monochrome ? AnsiStyling(depth: depth) : PlainStyling()
    }

    public var colored: Bool { depth != .monochrome }
    public func bold(_ text: String) -> String { "\u{1b}[1m\(text)\u{1b}[0m" }
    public func foreground(_ text: String, _ color: RGB, bold: Bool) -> String {
        guard colored else { return bold ? self.bold(text) : text }
        return "\u{1b}[\(bold ? "1;" : "")\(ColorMapping(depth: depth).sgr(color, background: false))m\(text)\u{1b}[0m"
    }
    public func background(_ text: String, _ color: RGB) -> String {
        guard colored else { return text }
        return "\u{1b}[\(ColorMapping(depth: depth).sgr(color, background: true))m\(text)\u{1b}[0m"
    }
}
