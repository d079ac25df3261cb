import ArgumentParser
import Foundation
import SegEngine
import SegFormats
import SegRuns

extension GridSize: ExpressibleByArgument {
    public init?(argument: String) { self.init(parsing: argument) }
}

struct ForwardCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "forward",
        abstract: "Run the model on frames T-1, T, T+1: images through the backbone, or their features.",
        discussion: """
            --images: three PNG frames (sides multiples of 8) through the weights' PSPNet backbone; also writes \
            features.npy [C,H/8,W/8] of frame T. --frames: features, float32 npy [C,H,W] or [1,C,H,W]. Writes \
            float32 npy: stf.npy and mar.npy [C,H,W], logits_baseline.npy, logits_stf.npy and logits_mar.npy \
            [K,H,W] at feature resolution. Outputs the weights cannot produce (no STF, no MAR) are skipped with a \
            message.
            """
    )

    @OptionGroup var model: ModelOptions
    @Option(parsing: .upToNextOption, help: "Features of T-1, T and T+1 (three npy files).")
    var frames: [String] = []
    @Option(parsing: .upToNextOption, help: "Frames T-1, T and T+1 (three PNG images), through the backbone.")
    var images: [String] = []
    @Option(help: "Output folder (created if missing).")
    var out: String
    @Flag(help: "Print per-stage wall times to stderr.")
    var timings = false

    func validate() throws {
        guard (frames.count == 3 && images.isEmpty) || (images.count == 3 && frames.isEmpty) else {
            throw ValidationError("give --images or --frames, with exactly three files: PREV CUR NEXT")
        }
        for path in frames { try OptionCheck.input("--frames", path) }
        for path in images { try OptionCheck.input("--images", path) }
        try OptionCheck.output("--out", out, .folder)
    }

    func run() throws {
        let model = try self.model.load()
        let forward = WindowForward(model: model, weightsName: self.model.weights)
        let outputs =
            images.isEmpty
            ? try forward.run(paths: frames, to: out, warn: warn) : try forward.run(images: images, to: out, warn: warn)
        if timings {
            for (stage, seconds) in outputs.timings {
                FileHandle.standardError.write(Data(String(format: "%@: %.3f s\n", stage, seconds).utf8))
            }
        }
    }
}

/// The weights and the options that shape the model, shared by forward, infer and memory build.
struct ModelOptions: ParsableArguments {
    @Option(help: "Weights: safetensors or PyTorch .pth (the release's, mmseg's or segscope's names).")
    var weights: String
    @Option(help: "Attention heads, \(OptionLimits.text(OptionLimits.heads)) (default: the weights' metadata, else 2).")
    var heads: Int?
    @Option(help: "Block size HBxWB, each \(OptionLimits.text(OptionLimits.blockSide)) (default: metadata; 16x16).")
    var block: BlockSize?
    @Option(help: "Memory folder with key.npy and value.npy, for weights without MAR.memory_*.")
    var memory: String?

    func validate() throws {
        if let heads { try OptionCheck.range("--heads", heads, OptionLimits.heads) }
        if let block { try OptionCheck.size("--block", block, OptionLimits.blockSide) }
        try OptionCheck.input("--weights", weights)
        try OptionCheck.input("--memory", memory)
    }

    func load() throws -> Model { try Model.load(path: weights, heads: heads, block: block, memory: memory) }
}
