import SegFormats
import SegLabels

/// A `CellGrid` as text with ANSI SGR colour escapes, for `segscope render --ansi`.
public enum AnsiText {
    public static func render(_ grid: CellGrid, depth: ColorDepth) -> String {
        var out = ""
        for y in 0..<grid.height {
            var current = ""
            for x in 0..<grid.width {
                let cell = grid[x, y]
                if depth == .monochrome {
                    out.append(cell.isPixel ? shade(cell) : cell.glyph)
                    continue
                }
                let sgr = (cell.bold ? "1;" : "22;") + TerminalPalette.sgr(cell.foreground, background: false, depth: depth)
                    + ";" + TerminalPalette.sgr(cell.background, background: true, depth: depth)
                if sgr != current {
                    out += "\u{1b}[\(sgr)m"
                    current = sgr
                }
                out.append(cell.glyph)
            }
            out += depth == .monochrome ? "\n" : "\u{1b}[0m\n"
        }
        return out
    }

    static func shade(_ cell: Cell) -> Character {
        let shades: [Character] = [" ", "░", "▒", "▓", "█"]
        func luma(_ c: RGB) -> Int { (299 * Int(c.r) + 587 * Int(c.g) + 114 * Int(c.b)) / 1000 }
        return shades[min(4, (luma(cell.foreground) + luma(cell.background)) / 2 * 5 / 256)]
    }
}
