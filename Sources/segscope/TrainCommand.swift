import ArgumentParser
import Foundation
import SegDataset
import SegFormats
import SegRuns
import SegTrain

extension TrainingStage: ExpressibleByArgument {}

struct TrainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train",
        abstract: "Train the classifier, STF or MAR heads on extracted features (the paper's stages, on CPU).",
        discussion: """
            Stages (paper section 3.4): `classifier` trains the baseline 1x1 classifier on f[T]; `stf` trains STF and \
            a fresh classifier; `mar` trains MAR (memory included, initialised from --memory) and a fresh classifier \
            on the output of the fixed STF of --init (or on f[T] when --init has no STF: MAR alone). Loss: \
            cross-entropy with ignore label 255 on logits upsampled x8 (bilinear, align_corners=False); AdamW with \
            a poly(0.9) learning-rate decay; float64 throughout. The checkpoint keeps every tensor of --init; the \
            classifier of --init is kept as classifier_baseline (or classifier_stf when --init has STF), so the \
            final file gives baseline, STF and MAR predictions. After every epoch the checkpoint and its state \
            (<out>.state: float64 parameters and optimizer moments) are replaced atomically; --resume continues \
            from them and ends bit-identical to an uninterrupted run. One line per epoch on stdout.
            """
    )

    @Argument(help: "Stage: classifier, stf or mar.")
    var stage: TrainingStage
    @OptionGroup var dataset: DatasetArguments
    @Option(help: "Output checkpoint (safetensors, the release's names).")
    var out: String
    @Option(help: "Initial weights: earlier stages' tensors are kept; for mar, its STF is the fixed feature extractor.")
    var `init`: String?
    @Option(help: "Memory folder (key.npy, value.npy from `segscope memory build`) initialising MAR's memory.")
    var memory: String?
    @Option(help: "Epochs (1-100000).")
    var epochs = 10
    @Option(help: "Peak learning rate (decays as poly 0.9), in 1e-12...10.")
    var lr = 1e-3
    @Option(name: .customLong("weight-decay"), help: "AdamW's decoupled weight decay (0-10).")
    var weightDecay = 0.01
    @Option(help: "Samples per step, 1-1024 (they run in parallel).")
    var batch = 4
    @Option(help: "Seed of initialisation and data order.")
    var seed: UInt64 = 0
    @Option(help: "Validation dataset (a folder or manifest with features): mIoU after every epoch.")
    var val: String?
    @Option(
        name: .customLong("val-features"), help: "Features folder of the validation dataset (default: its manifest's).")
    var valFeatures: String?
    @Flag(help: "Continue from <out> and <out>.state.")
    var resume = false
    @Option(
        name: .customLong("stop-after"),
        help: "Stop after this many epochs (1 to --epochs; time-limited jobs; continue with --resume).")
    var stopAfter: Int?
    @Option(help: "STF attention heads (1-512).")
    var heads = 2
    @Option(help: "STF block size HBxWB (each 1-1024).")
    var block = BlockSize(height: 16, width: 16)
    @Option(name: .customLong("ffn"), help: "STF feed-forward width (1-16384).")
    var feedForward = 256
    @Option(help: "STF encoder and decoder layers (1-64).")
    var depth = 1
    @Option(
        name: .customLong("pe-size"),
        help: "STF positional-encoding size HpxWp, each 1-1024 (default: the feature size).")
    var peSize: GridSize?
    @Option(name: .customLong("mar-width"), help: "MAR attention and FFN width dh, 1-16384 (default C/2).")
    var marWidth: Int?

    func validate() throws {
        typealias Limits = OptionLimits
        try OptionCheck.range("--epochs", epochs, Limits.epochs)
        try OptionCheck.range("--lr", lr, Limits.learningRate)
        try OptionCheck.range("--weight-decay", weightDecay, Limits.weightDecay)
        try OptionCheck.range("--batch", batch, Limits.batch)
        try OptionCheck.range("--heads", heads, Limits.heads)
        try OptionCheck.size("--block", block, Limits.blockSide)
        try OptionCheck.range("--ffn", feedForward, Limits.feedForward)
        try OptionCheck.range("--depth", depth, Limits.depth)
        if let peSize { try OptionCheck.size("--pe-size", peSize, Limits.positionSide) }
        if let marWidth { try OptionCheck.range("--mar-width", marWidth, Limits.marWidth) }
        if let stopAfter { try OptionCheck.range("--stop-after", stopAfter, 1...epochs) }
        if stage == .mar && memory == nil && !resume {
            throw ValidationError("the mar stage needs --memory DIR (from `segscope memory build`)")
        }
        try OptionCheck.output("--out", out, .file)
        let inputs = [("--init", `init`), ("--memory", memory), ("--val", val), ("--val-features", valFeatures)]
        for (option, path) in inputs {
            try OptionCheck.input(option, path)
        }
    }

    var head: TrainingRun.Head {
        switch stage {
        case .classifier: return .classifier
        case .stf: return .stf(heads: heads, block: block, feedForward: feedForward, depth: depth, positionSize: peSize)
        case .mar: return .mar(memory: memory, width: marWidth)
        }
    }

    func run() throws {
        let data = try dataset.open()
        var run = TrainingRun(head: head, data: data, out: out)
        run.initial = `init`
        run.validation = try val.map { path in
            var options = DatasetOptions()
            options.path = path
            options.features = valFeatures
            options.space = data.space
            return try DatasetLocator.open(options)
        }
        (run.options.epochs, run.options.learningRate, run.options.weightDecay, run.options.batch, run.options.seed) = (
            epochs, lr, weightDecay, batch, seed
        )
        (run.resume, run.stopAfter) = (resume, stopAfter)
        let loading = LongWork(label: "load")
        let work = LongWork(label: "train \(stage.rawValue)")
        defer { work.finish() }
        try run.run(observer: work.observer, loading: loading.observer) { line in
            loading.finish()
            work.finish()
            FileHandle.standardOutput.write(Data((line + "\n").utf8))
        }
    }
}
