import ArgumentParser
import Foundation
import SegFormats
import SegLabels
import SegView

struct LabelsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "labels",
        abstract: "Print a label table: id, trainId, name, category and colour.",
        discussion:
            "NAME is a built-in label space (cityscapes, camvid), a theme name, or a theme file. Colour swatches are drawn when stdout is a terminal."
    )

    @Argument(help: "Label space or theme (cityscapes, camvid, cityscapes-cb, or a .toml path).")
    var name: String = "cityscapes"

    func validate() throws { try OptionCheck.input("name", name) }

    func run() throws {
        let theme = try Theme.resolve(name)
        for note in theme.notes { warn(note) }
        let space = theme.space
        let style = AnsiStyling.forStandardOutput()
        // Names come from theme files: escaped, as every string segscope did not make.
        let names = space.labels.map { oneLine($0.name) }
        let categories = space.labels.map { oneLine($0.category) }
        let nameWidth = max(4, names.map(\.count).max() ?? 4)
        let categoryWidth = max(8, categories.map(\.count).max() ?? 8)
        func pad(_ s: String, _ n: Int) -> String { s + String(repeating: " ", count: max(0, n - s.count)) }
        func right(_ s: String, _ n: Int) -> String { String(repeating: " ", count: max(0, n - s.count)) + s }
        var out =
            "# \(oneLine(space.name)): \(space.count) evaluated classes (trainId 0-\(space.count - 1)); "
            + "theme \(oneLine(theme.name))\n"
        out +=
            right("id", 4) + "  " + right("trainId", 7) + "  " + pad("name", nameWidth) + "  "
            + pad("category", categoryWidth) + "  colour\n"
        for (index, label) in space.labels.enumerated() {
            let evaluated = label.trainId >= 0 && label.trainId < 255
            let color = evaluated ? theme.classColors[label.trainId] : label.color
            var line =
                right("\(label.id)", 4) + "  " + right("\(label.trainId)", 7) + "  "
                + pad(names[index], nameWidth) + "  "
                + pad(categories[index], categoryWidth) + "  " + color.hex
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
        for name in Theme.available() { print(oneLine(name)) }
        print("# searched: " + oneLine(Theme.searchPaths().joined(separator: ", ")))
    }
}
