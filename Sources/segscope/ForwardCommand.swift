import ArgumentParser
import Foundation
import SegDataset
import SegEngine
import SegFormats
import SegLabels

struct ForwardCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "forward",
        abstract: "Run STF, MAR and the classifiers on the features of frames T-1, T, T+1.",
        discussion: """
            Features are float32 npy [C,H,W] or [1,C,H,W]. Writes float32 npy: stf.npy and mar.npy [C,H,W], \
            logits_baseline.npy, logits_stf.npy and logits_mar.npy [K,H,W] at feature resolution. Outputs the \
            weights cannot produce (no STF, no MAR) are skipped with a message.
            """
    )

    @OptionGroup var model: ModelOptions
    @Option(parsing: .upToNextOption, help: "Features of T-1, T and T+1 (three npy files).")
    var frames: [String]
    @Option(help: "Output folder (created if missing).")
    var out: String
    @Flag(help: "Print per-stage wall times to stderr.")
    var timings = false

    func validate() throws {
        guard frames.count == 3 else { throw ValidationError("--frames takes exactly three files: PREV CUR NEXT") }
    }

    /// [C, H, W] or [1, C, H, W] float features.
    static func features(_ path: String) throws -> (values: [Float], c: Int, h: Int, w: Int) {
        let array = try Npy.read(path: path)
        let shape = array.shape.count == 4 && array.shape[0] == 1 ? Array(array.shape.dropFirst()) : array.shape
        guard shape.count == 3, !array.elementType.isInteger else {
            throw FormatError.unsupported(path: path, problem: "features must be float [C,H,W] or [1,C,H,W], found \(array.elementType.rawValue) \(array.shape)")
        }
        return (array.floats(), shape[0], shape[1], shape[2])
    }

    func run() throws {
        let weights = self.model.weights
        let model = try self.model.load()
        let inputs = try frames.map(Self.features)
        let (c, h, w) = (inputs[1].c, inputs[1].h, inputs[1].w)
        for (path, input) in zip(frames, inputs) where input.c != c || input.h != h || input.w != w {
            throw InputError("\(path): shape [\(input.c), \(input.h), \(input.w)] differs from \(frames[1]) [\(c), \(h), \(w)]")
        }
        guard c == model.channels else {
            throw InputError("\(frames[1]): \(c) channels, but \(weights) expects \(model.channels)")
        }
        if !model.unusedTensors.isEmpty { warn("\(model.unusedTensors.count) tensor(s) in \(weights) are not used by the engine (e.g. \(model.unusedTensors[0]))") }
        let outputs = try model.forward(previous: inputs[0].values, current: inputs[1].values, next: inputs[2].values, height: h, width: w)
        try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
        let k = model.classes
        try Npy.write(outputs.baselineLogits, shape: [k, h, w], to: out + "/logits_baseline.npy")
        if let g = outputs.stf, let logits = outputs.stfLogits {
            try Npy.write(g, shape: [c, h, w], to: out + "/stf.npy")
            try Npy.write(logits, shape: [k, h, w], to: out + "/logits_stf.npy")
        } else {
            warn("\(weights) has no STF: stf.npy and logits_stf.npy are not written")
        }
        if let r = outputs.mar, let logits = outputs.marLogits {
            try Npy.write(r, shape: [c, h, w], to: out + "/mar.npy")
            try Npy.write(logits, shape: [k, h, w], to: out + "/logits_mar.npy")
        } else {
            warn("\(weights) has no MAR: mar.npy and logits_mar.npy are not written")
        }
        if timings {
            for (stage, seconds) in outputs.timings {
                FileHandle.standardError.write(Data(String(format: "%@: %.3f s\n", stage, seconds).utf8))
            }
        }
    }
}

/// The weights and the options that shape the model, shared by forward, infer and memory build.
struct ModelOptions: ParsableArguments {
    @Option(help: "Weights (safetensors, the release's names).")
    var weights: String
    @Option(help: "Attention heads (default: the weights' metadata, else 2).")
    var heads: Int?
    @Option(help: "Block size HBxWB (default: the weights' metadata, else 16x16).")
    var block: String?
    @Option(help: "Memory folder with key.npy and value.npy, for weights without MAR.memory_*.")
    var memory: String?

    func parsedBlock() throws -> (Int, Int)? {
        guard let block else { return nil }
        let parts = block.lowercased().split(separator: "x").compactMap { Int($0) }
        guard parts.count == 2, parts[0] > 0, parts[1] > 0 else { throw ValidationError("--block must be HBxWB, e.g. 16x16") }
        return (parts[0], parts[1])
    }

    func validate() throws {
        if let heads, heads <= 0 { throw ValidationError("--heads must be positive") }
        _ = try parsedBlock()
    }

    func load() throws -> Model { try Model.load(path: weights, heads: heads, block: try parsedBlock(), memory: memory) }
}

/// Features of STF windows along one sequence's frames, each file read once
/// although every frame is part of three windows (only the current window's
/// frames are kept).
struct FeatureWindows {
    typealias Features = (values: [Float], c: Int, h: Int, w: Int)
    let frames: [FrameRecord]
    let channels: Int
    private var loaded: [String: Features] = [:]

    init(frames: [FrameRecord], channels: Int) {
        self.frames = frames
        self.channels = channels
    }

    /// T-1, T, T+1 of frame i (Dataset.slidingWindow), checked against the model and each other.
    mutating func window(_ i: Int) throws -> (previous: Features, current: Features, next: Features) {
        let (previous, next) = Dataset.slidingWindow(frames, i)
        let keys = Set([previous.key, frames[i].key, next.key])
        loaded = loaded.filter { keys.contains($0.key) }
        for frame in [previous, frames[i], next] where loaded[frame.key] == nil {
            loaded[frame.key] = try ForwardCommand.features(frame.features!)
        }
        let (p, c, n) = (loaded[previous.key]!, loaded[frames[i].key]!, loaded[next.key]!)
        guard c.c == channels, p.c == c.c, n.c == c.c, p.h == c.h, n.h == c.h, p.w == c.w, n.w == c.w else {
            throw InputError("\(frames[i].features!): features [\(c.c), \(c.h), \(c.w)] do not match the model (\(channels) channels) or the neighbouring frames")
        }
        return (p, c, n)
    }
}

/// Every frame with ground truth and features, in sequence order, with its
/// STF window and its ground truth checked to be 8x the features: what
/// `memory build` and `train` read.
struct LabelledWindows {
    let data: Dataset
    let sequences: [[FrameRecord]]
    /// Frames with both ground truth and features.
    let total: Int

    init(_ data: Dataset) throws {
        self.data = data
        sequences = data.sequences.map { $0.frames.filter { $0.features != nil } }
        total = sequences.reduce(0) { $0 + $1.filter { $0.groundTruth != nil }.count }
        guard total > 0 else { throw InputError("\(data.root): no frame has both ground truth and features (give --features DIR)") }
    }

    /// Calls `body` for each such frame; `channels` nil takes the first
    /// file's. Stops with an error on Ctrl-C (callers write nothing before the end).
    func forEach(channels: Int?, _ body: (FrameRecord, FeatureWindows.Features, FeatureWindows.Features, FeatureWindows.Features, LabelMap) throws -> Void) throws {
        let loader = FrameLoader(dataset: data)
        var channels = channels
        for frames in sequences {
            var windows: FeatureWindows?
            for (i, frame) in frames.enumerated() where frame.groundTruth != nil {
                if Interruption.shared.requested { throw InputError("interrupted; nothing was written") }
                if channels == nil { channels = try ForwardCommand.features(frame.features!).c }
                if windows == nil { windows = FeatureWindows(frames: frames, channels: channels!) }
                let (p, c, n) = try windows!.window(i)
                let gt = try loader.groundTruth(frame)!.map
                guard gt.width == 8 * c.w, gt.height == 8 * c.h else {
                    throw InputError("\(frame.groundTruth!): ground truth \(gt.width)x\(gt.height) is not 8x the features (\(c.w)x\(c.h))")
                }
                try body(frame, p, c, n, gt)
            }
        }
    }
}
