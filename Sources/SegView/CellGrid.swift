import SegFormats

/// One terminal cell: a glyph with foreground and background colours. Image
/// panes use the upper half block "▀": foreground = upper pixel, background =
/// lower pixel, so each cell shows two vertical pixels.
public struct Cell: Equatable, Sendable {
    public var glyph: Character
    public var foreground: RGB
    public var background: RGB
    public var bold = false
    /// True for cells that show image pixels (monochrome terminals shade them).
    public var isPixel = false

    public init(_ glyph: Character, foreground: RGB, background: RGB, bold: Bool = false, isPixel: Bool = false) {
        self.glyph = glyph
        self.foreground = foreground
        self.background = background
        self.bold = bold
        self.isPixel = isPixel
    }

    public static let upperHalf: Character = "▀"
}

/// What the compositor draws: a rectangle of cells, independent of ncurses.
public struct CellGrid: Equatable, Sendable {
    public let width: Int
    public let height: Int
    public var cells: [Cell]

    public init(width: Int, height: Int, fill: Cell) {
        self.width = width
        self.height = height
        cells = [Cell](repeating: fill, count: width * height)
    }

    public subscript(x: Int, y: Int) -> Cell {
        get { cells[y * width + x] }
        set { if x >= 0 && x < width && y >= 0 && y < height { cells[y * width + x] = newValue } }
    }

    /// Writes text from (x, y), clipped to `maxWidth` and the grid.
    public mutating func text(
        _ string: String, x: Int, y: Int, foreground: RGB, background: RGB, bold: Bool = false, maxWidth: Int? = nil
    ) {
        guard y >= 0 && y < height else { return }
        let limit = min(width, x + (maxWidth ?? width))
        var column = x
        for character in string {
            if column >= limit { break }
            if column >= 0 {
                self[column, y] = Cell(character, foreground: foreground, background: background, bold: bold)
            }
            column += 1
        }
    }

    public mutating func fill(x: Int, y: Int, width w: Int, height h: Int, with cell: Cell) {
        for yy in max(0, y)..<min(height, y + h) {
            for xx in max(0, x)..<min(width, x + w) { cells[yy * width + xx] = cell }
        }
    }

    /// The grid as plain text, one line per row (for tests and logs).
    public var plainText: String {
        (0..<height).map { y in String((0..<width).map { cells[y * width + $0].glyph }) }.joined(separator: "\n")
    }
}
