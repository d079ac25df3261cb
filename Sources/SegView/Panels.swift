import SegFormats
import SegLabels

/// Boxes drawn over everything (the frame list, help).
extension Compositor {
    static func luma(_ c: RGB) -> Int { (299 * Int(c.r) + 587 * Int(c.g) + 114 * Int(c.b)) / 1000 }

    /// A bordered box centred on the screen, cleared; returns its frame.
    func box(width boxWidth: Int, height boxHeight: Int, title: String, footer: String, into grid: inout CellGrid) -> (
        x: Int, y: Int
    ) {
        let x0 = (width - boxWidth) / 2
        let y0 = (height - boxHeight) / 2
        let bg = role(.statusBar)
        let border = role(.border)
        grid.fill(
            x: x0, y: y0, width: boxWidth, height: boxHeight, with: Cell(" ", foreground: role(.text), background: bg))
        for x in x0..<(x0 + boxWidth) {
            grid[x, y0] = Cell("─", foreground: border, background: bg)
            grid[x, y0 + boxHeight - 1] = Cell("─", foreground: border, background: bg)
        }
        for y in y0..<(y0 + boxHeight) {
            grid[x0, y] = Cell("│", foreground: border, background: bg)
            grid[x0 + boxWidth - 1, y] = Cell("│", foreground: border, background: bg)
        }
        grid[x0, y0] = Cell("┌", foreground: border, background: bg)
        grid[x0 + boxWidth - 1, y0] = Cell("┐", foreground: border, background: bg)
        grid[x0, y0 + boxHeight - 1] = Cell("└", foreground: border, background: bg)
        grid[x0 + boxWidth - 1, y0 + boxHeight - 1] = Cell("┘", foreground: border, background: bg)
        grid.text(
            " " + Self.shorten(title, to: boxWidth - 6) + " ", x: x0 + 2, y: y0, foreground: role(.title),
            background: bg, bold: true)
        grid.text(
            " " + Self.shorten(footer, to: boxWidth - 6) + " ", x: x0 + 2, y: y0 + boxHeight - 1,
            foreground: role(.title), background: bg)
        return (x0, y0)
    }
}
