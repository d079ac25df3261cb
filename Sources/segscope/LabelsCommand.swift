import ArgumentParser
import Foundation
import SegFormats
import SegLabels
import SegView

struct LabelsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "labels",
        abstract: "Print a label table: id, trainId, name, category and colour.",
        discussion: "NAME is a built-in label space (cityscapes, camvid), a theme name, or a theme file. Colour swatches are drawn when stdout is a terminal."
    )

    @Argument(help: "Label space or theme (cityscapes, camvid, cityscapes-cb, or a .toml path).")
    var name: String = "cityscapes"

    func run() throws {
        let theme = try Theme.resolve(name)
        let space = theme.space
        let style = AnsiStyling.forStandardOutput()
        let nameWidth = max(4, space.labels.map(\.name.count).max() ?? 4)
        let categoryWidth = max(8, space.labels.map(\.category.count).max() ?? 8)
        func pad(_ s: String, _ n: Int) -> String { s + String(repeating: " ", count: max(0, n - s.count)) }
        func right(_ s: String, _ n: Int) -> String { String(repeating: " ", count: max(0, n - s.count)) + s }
        var out = "# \(space.name): \(space.count) evaluated classes (trainId 0-\(space.count - 1)); theme \(theme.name)\n"
        out += right("id", 4) + "  " + right("trainId", 7) + "  " + pad("name", nameWidth) + "  " + pad("category", categoryWidth) + "  colour\n"
        for label in space.labels {
            let evaluated = label.trainId >= 0 && label.trainId < 255
            let color = evaluated ? theme.classColors[label.trainId] : label.color
            var line = right("\(label.id)", 4) + "  " + right("\(label.trainId)", 7) + "  " + pad(label.name, nameWidth) + "  "
                + pad(label.category, categoryWidth) + "  " + color.hex
            if style.colored { line += " " + style.background("    ", color) }
            out += line + "\n"
        }
        print(out, terminator: "")
    }
}

struct ThemesCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "themes",
        abstract: "List the themes found and where segscope looks for them."
    )

    func run() throws {
        for name in Theme.available() { print(name) }
        print("# searched: " + Theme.searchPaths().joined(separator: ", "))
    }
}
