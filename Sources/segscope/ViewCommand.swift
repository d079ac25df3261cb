import ArgumentParser
import Foundation
import SegDataset
import SegLabels
import SegTerminal
import SegView

/// Options shared by `view` and `render`.
struct ViewerOptions: ParsableArguments {
    @Option(help: "Theme name or file (default: the label space's).")
    var theme: String?
    @Option(name: .customLong("cache-mb"), help: "Memory for decoded frames, in MB.")
    var cacheMB = 512
    @Option(help: "Bookmark file (default: bookmarks.json beside the dataset).")
    var bookmarks: String?

    func validate() throws {
        guard cacheMB >= 16 else { throw ValidationError("--cache-mb must be at least 16") }
    }

    func controller(_ dataset: Dataset) throws -> ViewerController {
        let theme = try theme.map { try Theme.resolve($0) } ?? (try? Theme.resolve(dataset.space.name)) ?? Theme.builtIn(for: dataset.space)
        guard theme.space.count == dataset.space.count else {
            throw InputError("theme \(theme.name) has \(theme.space.count) classes, the dataset's label space \(dataset.space.count)")
        }
        return try ViewerController(dataset: dataset, theme: theme, cacheBytes: cacheMB << 20, bookmarksPath: bookmarks)
    }
}

struct ViewCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "view",
        abstract: "Inspect frames, ground truth and predictions of baseline / STF / MAR in the terminal.",
        discussion: "Press ? in the viewer for every key. `segscope view samples/` opens the shipped sample."
    )

    @OptionGroup var dataset: DatasetArguments
    @OptionGroup var viewer: ViewerOptions

    func run() throws {
        guard isatty(STDIN_FILENO) != 0, isatty(STDOUT_FILENO) != 0 else {
            throw InputError("segscope view needs a terminal; use `segscope render` to draw to a file")
        }
        let data = try dataset.open()
        for note in data.notes { warn(note) }
        let controller = try viewer.controller(data)
        Viewer.run(controller, depth: ColorDepth.detect())
    }
}

struct RenderCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "render",
        abstract: "Draw one view headlessly: ANSI text for a terminal, or a PNG figure of the panes.",
        discussion: "Takes the same dataset options as view. Keys can be replayed with --keys (e.g. \"c i\") to set modes."
    )

    @OptionGroup var dataset: DatasetArguments
    @OptionGroup var viewer: ViewerOptions
    @Option(help: "Frame key, or 0-based index over the whole dataset.")
    var frame = "0"
    @Option(help: "Columns of the virtual terminal.")
    var cols = 160
    @Option(help: "Rows of the virtual terminal.")
    var rows = 48
    @Option(help: "Layout: grid, row or single.")
    var layout: ViewState.Layout = .grid
    @Option(help: "Viewer keys to apply first, separated by spaces (e.g. \"c\" or \"i s\").")
    var keys = ""
    @Flag(help: "Print the view with ANSI colour escapes (colour depth from the environment; truecolor with COLORTERM=truecolor).")
    var ansi = false
    @Option(help: "Write a full-resolution figure of the panes side by side with captions.")
    var png: String?

    func validate() throws {
        guard cols >= 20, rows >= 8 else { throw ValidationError("--cols must be >= 20 and --rows >= 8") }
        guard ansi || png != nil else { throw ValidationError("give --ansi, --png FILE, or both") }
    }

    func run() throws {
        let data = try dataset.open()
        guard let (s, f) = data.locate(frame) else { throw InputError("no frame '\(frame)' in \(data.root)") }
        let controller = try viewer.controller(data)
        controller.go(sequence: s, frame: f)
        controller.screenSize = (cols, rows)
        // Keys such as I act on the decoded frame: decode it first.
        _ = controller.model(blocking: true)
        while controller.state.layout != layout { _ = controller.handle(.character("v")) }
        for token in keys.split(separator: " ") {
            switch token {
            case "Tab": _ = controller.handle(.tab)
            case "Enter": _ = controller.handle(.enter)
            case "Up": _ = controller.handle(.up)
            case "Down": _ = controller.handle(.down)
            default: for c in token { _ = controller.handle(.character(c)) }
            }
        }
        let model = controller.model(blocking: true)
        if ansi {
            let depth = ColorDepth.detect()
            print(AnsiText.render(Compositor(model: model, width: cols, height: rows).compose(), depth: depth == .monochrome ? .monochrome : depth), terminator: "")
        }
        if let png {
            try Figure.write(model: model, to: png)
        }
    }
}

extension ViewState.Layout: ExpressibleByArgument {}

struct BookmarksCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bookmarks",
        abstract: "List the bookmarks saved by the viewer."
    )

    @Argument(help: "Bookmark file (bookmarks.json).")
    var file: String

    func run() throws {
        guard FileManager.default.fileExists(atPath: file) else { throw InputError("\(file): no such bookmark file") }
        let bookmarks = try Bookmarks.load(path: file)
        for entry in bookmarks.entries { print("\(entry.key)\t\(entry.created)\t\(entry.note)") }
    }
}
