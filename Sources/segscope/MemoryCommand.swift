import ArgumentParser
import Foundation
import SegDataset
import SegEngine
import SegFormats
import SegLabels
import SegEval

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
            short lists repeat cyclically. --release-sampler reproduces the release's streaming rule (a pixel \
            goes to the good set only if the hard set did not take it). Ties: frame order, then pixel index. \
            Writes key.npy, value.npy and memory.safetensors.
            """
    )

    @OptionGroup var model: ModelOptions
    @OptionGroup var dataset: DatasetArguments
    @Option(help: "Hard keys per class (KL).")
    var kl = 10
    @Option(help: "Most confident features per class averaged into the prototype (KH).")
    var kh = 10
    @Option(help: "Output folder.")
    var out: String
    @Flag(name: .customLong("release-sampler"), help: "Use the release's streaming sampler instead of the plain rule.")
    var releaseSampler = false
    func validate() throws {
        guard kl > 0, kh > 0 else { throw ValidationError("--kl and --kh must be positive") }
    }

    func run() throws {
        let data = try dataset.open()
        let weights = self.model.weights
        let model = try self.model.load()
        guard model.classes == data.space.count else {
            throw InputError("\(weights): \(model.classes) classes, but the label space \(data.space.name) has \(data.space.count)")
        }
        var sampler = MemorySampler(classes: model.classes, channels: model.channels, hardCount: kl, goodCount: kh,
                                    rule: releaseSampler ? .release : .plain)
        let frames = try LabelledWindows(data)
        Interruption.shared.install()
        let progress = ProgressLine(label: "memory")
        defer { progress.finish() }
        var done = 0
        try frames.forEach(channels: model.channels) { _, p, c, n, gt in
            let stage = try model.stfStage(previous: p.values, current: c.values, next: n.values, height: c.h, width: c.w)
            let k = model.classes, positions = c.h * c.w
            for pixel in 0..<positions {
                let label = Int(gt[8 * (pixel % c.w), 8 * (pixel / c.w)])
                guard label < k else { continue }
                var best: Float = -.infinity, predicted = 0
                for j in 0..<k where stage.logits[j * positions + pixel] > best { best = stage.logits[j * positions + pixel]; predicted = j }
                guard predicted == label else { continue }
                var sum: Float = 0
                for j in 0..<k { sum += expf(stage.logits[j * positions + pixel] - best) }
                sampler.offer(label: label, score: 1 / sum) {
                    (0..<model.channels).map { stage.features[$0 * positions + pixel] }
                }
            }
            done += 1
            progress.update(done, frames.total)
        }
        for k in sampler.emptyClasses {
            warn("class \(k) (\(k < data.space.count ? data.space.classNames[k] : "?")) has no correctly classified pixel: its keys and prototype are zeros")
        }
        let (keys, prototypes) = sampler.memory()
        try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
        try MemoryBank(classes: model.classes, perClass: kl, channels: model.channels, keys: keys, prototypes: prototypes).write(to: out)
    }
}

struct MemoryInspect: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "inspect",
        abstract: "Show how good a memory is: norms, prototype similarities, keys nearest their prototype, a PCA scatter."
    )

    @Argument(help: "A memory folder (key.npy, value.npy) or a weights/memory safetensors file.")
    var path: String
    @Option(help: "Output: text or json.")
    var format: Report.Format = .text
    @Option(name: .customLong("label-space"), help: "Names and colours of the classes (default: by class count).")
    var labelSpace: String?

    func run() throws {
        guard FileManager.default.fileExists(atPath: path) else { throw InputError("\(path): no such file or folder") }
        let bank = try MemoryBank.load(path: path)
        let theme = try labelSpace.map { try Theme.resolve($0) }
            ?? [LabelSpace.cityscapes, .camvid].first { $0.count == bank.classes }.map { Theme.builtIn(for: $0) }
        let names = (0..<bank.classes).map { index in theme.map { $0.space.classNames[index] } ?? "class \(index)" }
        let analysis = MemoryAnalysis(bank)
        if format == .json {
            print(analysis.json(names: names).pretty)
        } else {
            let depth: ColorDepth = isatty(STDOUT_FILENO) != 0 ? ColorDepth.detect() : .monochrome
            let colors = theme.map { t in (0..<bank.classes).map { index in t.color(ofClass: UInt8(index)) } }
            print(analysis.text(names: names, colors: colors, depth: depth), terminator: "")
        }
    }
}
