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
    @Option(
        name: .customLong("cache-mb"),
        help: "Memory for decoded frames, in MB (\(OptionLimits.text(OptionLimits.cacheMB))).")
    var cacheMB = 512
    @Option(help: "Bookmark file (default: bookmarks.json beside the dataset).")
    var bookmarks: String?
    @Option(help: "STF/MAR weights for the explain view, key X (default: the manifest's `weights`).")
    var weights: String?

    func validate() throws {
        try OptionCheck.range("--cache-mb", cacheMB, OptionLimits.cacheMB)
        try OptionCheck.input("--theme", theme)
        try OptionCheck.output("--bookmarks", bookmarks, .file)
        try OptionCheck.input("--weights", weights)
    }

    func controller(_ dataset: Dataset) throws -> ViewerController {
        let theme =
            try theme.map { try Theme.resolve($0) } ?? (try? Theme.resolve(dataset.space.name))
            ?? Theme.builtIn(for: dataset.space)
        guard theme.space.count == dataset.space.count else {
            throw InputError(
                "theme \(theme.name) has \(theme.space.count) classes, the dataset's label space \(dataset.space.count)"
            )
        }
        for note in theme.notes { warn(note) }
        if let weights, !FileManager.default.isReadableFile(atPath: weights) {
            throw InputError("--weights \(oneLine(weights)): no such readable file")
        }
        return try ViewerController(
            dataset: dataset, theme: theme, cacheBytes: cacheMB << 20, bookmarksPath: bookmarks, weights: weights)
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
    @Option(help: "Open at this frame: its key, N (1-based over the dataset) or S/N (sequence S, frame N).")
    var frame: String?
    @Option(help: "Layout to open with: grid, row or single.")
    var layout: ViewState.Layout = .grid

    func run() throws {
        guard isatty(STDIN_FILENO) != 0, isatty(STDOUT_FILENO) != 0 else {
            throw InputError("segscope view needs a terminal; use `segscope render` to draw to a file")
        }
        let data = try dataset.open()
        for note in data.notes { warn(note) }
        let controller = try viewer.controller(data)
        if let frame, !controller.open(frame: frame) {
            throw InputError("no frame '\(frame)' in \(data.root) (a key, N or S/N)")
        }
        controller.setLayout(layout)
        Viewer.run(controller, depth: ColorDepth.detect())
    }
}

struct RenderCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "render",
        abstract: "Draw one view headlessly: ANSI text for a terminal, or a PNG figure of the panes.",
        discussion:
            "Takes the same dataset options as view. Keys can be replayed with --keys (e.g. \"c i\") to set modes."
    )

    @OptionGroup var dataset: DatasetArguments
    @OptionGroup var viewer: ViewerOptions
    @Option(help: "Frame: its key, N (1-based over the dataset) or S/N (sequence S, frame N, both 1-based).")
    var frame = "1"
    @Option(help: "Columns of the virtual terminal (\(OptionLimits.text(OptionLimits.renderColumns))).")
    var cols = 160
    @Option(help: "Rows of the virtual terminal (\(OptionLimits.text(OptionLimits.renderRows))).")
    var rows = 48
    @Option(help: "Layout: grid, row or single (also of the --png figure).")
    var layout: ViewState.Layout = .grid
    @Option(
        help:
            "Viewer keys to apply first, separated by spaces (e.g. \"c\" or \"i s\"); names: Tab Enter Esc Up Down Left Right Home End PgUp PgDn Space Backspace Ctrl-C Ctrl-U."
    )
    var keys = ""
    @Flag(
        help:
            "Print the view with ANSI colour escapes (colour depth from the environment; truecolor with COLORTERM=truecolor)."
    )
    var ansi = false
    @Option(help: "Write a full-resolution figure of the panes with captions, frame key and legend.")
    var png: String?

    func validate() throws {
        guard cols >= Compositor.minimumWidth, rows >= Compositor.minimumHeight else {
            throw ValidationError(
                "--cols \(cols) --rows \(rows) is too small: the viewer needs at least \(Compositor.minimumWidth)x\(Compositor.minimumHeight)"
            )
        }
        try OptionCheck.range("--cols", cols, OptionLimits.renderColumns)
        try OptionCheck.range("--rows", rows, OptionLimits.renderRows)
        try OptionCheck.output("--png", png, .file)
        guard ansi || png != nil else { throw ValidationError("give --ansi, --png FILE, or both") }
        for token in keys.split(separator: " ")
        where Key(name: String(token)) == nil && token.count > 1 && token.first!.isUppercase
            && token.allSatisfy(\.isLetter)
        {
            throw ValidationError(
                "--keys: '\(token)' is not a key name (Tab Enter Esc Up Down Left Right Home End PgUp PgDn Space Backspace Ctrl-C Ctrl-U)"
            )
        }
    }

    func run() throws {
        let data = try dataset.open()
        let controller = try viewer.controller(data)
        guard controller.open(frame: frame) else {
            throw InputError("no frame '\(frame)' in \(data.root) (a key, N or S/N)")
        }
        controller.screenSize = (cols, rows)
        // Headless: what the viewer computes in the background is computed
        // at once, and keys such as I act on the decoded frame.
        controller.blocking = true
        _ = controller.model()
        controller.setLayout(layout)
        for token in keys.split(separator: " ") {
            for key in Key(name: String(token)).map({ [$0] }) ?? token.map({ Key.character($0) }) {
                guard controller.accepts(key) else {
                    throw InputError(
                        "--keys: '\(KeyBindings.name(key))' does nothing in the viewer here (see man segscope, KEYS)")
                }
                _ = controller.handle(key)
            }
        }
        let model = controller.model()
        if let failure = model.paneErrors.first {
            throw InputError(failure)
        }
        // Nor a view that cannot explain: its reason instead of a figure without the explanation.
        if case .failure(let reason)? = model.explain?.result {
            throw InputError(reason.text)
        }
        if let needs = model.attribution?.needs { throw InputError(needs) }
        if ansi {
            let depth = ColorDepth.detect()
            let colors = ColorMapping(depth: depth, theme: controller.theme)
            print(
                AnsiText.render(Compositor(model: model, width: cols, height: rows).compose(), colors: colors),
                terminator: "")
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

    func validate() throws { try OptionCheck.input("file", file) }

    func run() throws {
        guard FileManager.default.fileExists(atPath: file) else { throw InputError("\(file): no such bookmark file") }
        let bookmarks = try Bookmarks.load(path: file)
        // Every field comes from the file: a note may hold escape sequences (an OSC 52 clipboard write).
        for entry in bookmarks.entries {
            print([entry.key, entry.created, entry.note].map(oneLine).joined(separator: "\t"))
        }
    }
}
