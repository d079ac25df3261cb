import ArgumentParser
import Foundation
import SegEngine
import SegEval
import SegFormats
import SegLabels
import SegRuns
import SegView

struct MemoryCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "memory",
        abstract: "Build MAR's key-value memory from training features, or inspect one.",
        subcommands: [MemoryBuild.self, MemoryInspect.self]
    )
}

struct MemoryBuild: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "build",
        abstract: "Select hard keys and class prototypes from every frame with ground truth and features.",
        discussion: """
            Runs the STF stage (features -> STF -> STF classifier; without STF: raw features and the baseline \
            classifier) on the window T-1, T, T+1 of every frame with GT, brings GT to feature resolution by \
            nearest sampling (label at (i,j) = label at (8i,8j)), keeps correctly classified pixels, and per \
            class selects the --kl lowest-scoring (keys) and the --kh highest-scoring (mean = prototype); \
            short lists repeat cyclically. Ties: frame order, then row-major pixel index. --release-sampler \
            reproduces the release's streaming Memory_Sampler: a pixel scoring below the largest kept hard score \
            joins the hard list (dropping its largest beyond KL), else one scoring above the smallest kept good \
            score joins the good list (dropping its smallest beyond KH), else it is dropped; the thresholds \
            start at 1.0 and 0.0, so a pixel is never in both and a score of exactly 1.0 is never hard. A class \
            left with only one list (the release crashes on it) is warned about and uses that list for both. \
            Writes key.npy, value.npy and memory.safetensors.
            """
    )

    @OptionGroup var model: ModelOptions
    @OptionGroup var dataset: DatasetArguments
    @Option(help: "Hard keys per class (KL, 1-100000).")
    var kl = 10
    @Option(help: "Most confident features per class averaged into the prototype (KH, 1-100000).")
    var kh = 10
    @Option(help: "Output folder.")
    var out: String
    @Flag(name: .customLong("release-sampler"), help: "Use the release's streaming sampler instead of the plain rule.")
    var releaseSampler = false
    func validate() throws {
        try OptionCheck.range("--kl", kl, OptionLimits.memoryKeys)
        try OptionCheck.range("--kh", kh, OptionLimits.memoryKeys)
        try OptionCheck.output("--out", out, .folder)
    }

    func run() throws {
        let data = try dataset.open()
        let building = try MemoryBuilding(
            model: try model.load(), dataset: data, hardCount: kl, goodCount: kh,
            rule: releaseSampler ? .release : .plain, weightsName: model.weights)
        let work = LongWork(label: "memory")
        let result = try building.run(observer: work.observer)
        work.finish()
        func name(_ k: Int) -> String { k < data.space.count ? data.space.classNames[k] : "?" }
        for k in result.emptyClasses {
            warn("class \(k) (\(name(k))) has no correctly classified pixel: its keys and prototype are zeros")
        }
        for k in result.oneSidedClasses {
            warn(
                "class \(k) (\(name(k))): the release's sampler kept only hard or only good pixels (the release crashes here); that list gives both keys and prototype"
            )
        }
        try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
        try result.memory.write(to: out)
    }
}

struct MemoryInspect: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "inspect",
        abstract:
            "Show how good a memory is: norms, prototype similarities, keys nearest their prototype, a PCA scatter."
    )

    @Argument(help: "A memory folder (key.npy, value.npy) or a weights/memory safetensors file.")
    var path: String
    @Option(help: "Output: text or json.")
    var format: Report.Format = .text
    @Option(name: .customLong("label-space"), help: "Names and colours of the classes (default: by class count).")
    var labelSpace: String?

    func validate() throws {
        try OptionCheck.input("path", path)
        try OptionCheck.input("--label-space", labelSpace)
    }

    func run() throws {
        let bank = try MemoryBank.load(path: path)
        let theme =
            try labelSpace.map { try Theme.resolve($0) }
            ?? [LabelSpace.cityscapes, .camvid].first { $0.count == bank.classes }.map { Theme.builtIn(for: $0) }
        if let theme, theme.space.count != bank.classes {
            let given = labelSpace ?? ""
            throw InputError("--label-space \(given): \(theme.space.count) classes, the memory \(bank.classes)")
        }
        for note in theme?.notes ?? [] { warn(note) }
        let names = (0..<bank.classes).map { index in theme.map { $0.space.classNames[index] } ?? "class \(index)" }
        let analysis = MemoryAnalysis(bank)
        if format == .json {
            print(analysis.json(names: names).pretty)
        } else {
            let colors = theme.map { t in (0..<bank.classes).map { index in t.color(ofClass: UInt8(index)) } }
            // Class names come from theme files; JSON escapes them itself.
            let text = analysis.text(names: names.map(oneLine), colors: colors, style: AnsiStyling.forStandardOutput())
            print(text, terminator: "")
        }
    }
}
