import ArgumentParser
import Foundation
import SegDataset
import SegEngine
import SegEval
import SegFormats
import SegLabels
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
    @Option(help: "Epochs.")
    var epochs = 10
    @Option(help: "Peak learning rate (decays as poly 0.9).")
    var lr = 1e-3
    @Option(name: .customLong("weight-decay"), help: "AdamW's decoupled weight decay.")
    var weightDecay = 0.01
    @Option(help: "Samples per step (they run in parallel).")
    var batch = 4
    @Option(help: "Seed of initialisation and data order.")
    var seed: UInt64 = 0
    @Option(help: "Validation dataset (a folder or manifest with features): mIoU after every epoch.")
    var val: String?
    @Option(name: .customLong("val-features"), help: "Features folder of the validation dataset (default: its manifest's).")
    var valFeatures: String?
    @Flag(help: "Continue from <out> and <out>.state.")
    var resume = false
    @Option(name: .customLong("stop-after"), help: "Stop after this many epochs of the --epochs schedule (time-limited jobs; continue with --resume).")
    var stopAfter: Int?
    @Option(help: "STF attention heads.")
    var heads = 2
    @Option(help: "STF block size HBxWB.")
    var block = "16x16"
    @Option(name: .customLong("ffn"), help: "STF feed-forward width.")
    var feedForward = 256
    @Option(help: "STF encoder and decoder layers.")
    var depth = 1
    @Option(name: .customLong("pe-size"), help: "STF positional-encoding size HpxWp (default: the feature size).")
    var peSize: String?
    @Option(name: .customLong("mar-width"), help: "MAR attention and FFN width dh (default C/2).")
    var marWidth: Int?

    static func pair(_ text: String, _ option: String) throws -> (Int, Int) {
        let parts = text.lowercased().split(separator: "x").compactMap { Int($0) }
        guard parts.count == 2, parts[0] > 0, parts[1] > 0 else { throw ValidationError("\(option) must be AxB with positive numbers, e.g. 16x16") }
        return (parts[0], parts[1])
    }

    func validate() throws {
        guard epochs > 0, batch > 0, lr > 0, weightDecay >= 0, heads > 0, feedForward > 0, depth > 0 else {
            throw ValidationError("--epochs, --batch, --lr, --heads, --ffn and --depth must be positive, --weight-decay not negative")
        }
        _ = try Self.pair(block, "--block")
        if let peSize { _ = try Self.pair(peSize, "--pe-size") }
        if stage == .mar && memory == nil && !resume { throw ValidationError("the mar stage needs --memory DIR (from `segscope memory build`)") }
        if let marWidth, marWidth <= 0 { throw ValidationError("--mar-width must be positive") }
        if let stopAfter, stopAfter <= 0 { throw ValidationError("--stop-after must be positive") }
    }

    func run() throws {
        let folder = (out as NSString).deletingLastPathComponent
        var isFolder: ObjCBool = false
        guard FileManager.default.fileExists(atPath: folder.isEmpty ? "." : folder, isDirectory: &isFolder), isFolder.boolValue else {
            throw InputError("\(out): the folder \(folder) does not exist")
        }
        let data = try dataset.open()
        let initial = try `init`.map { try SafetensorsFile(path: $0) }
        // The fixed part in front of the trained head: the STF of --init for the mar stage.
        let fixed = try stage == .mar ? `init`.map { try Model.load(path: $0) } : nil
        Interruption.shared.install()
        let training = try TrainingData.load(data, label: "train", fixed: fixed)
        let validation = try val.map { path -> TrainingData in
            var options = DatasetOptions()
            options.path = path
            options.features = valFeatures
            options.space = data.space
            return try TrainingData.load(try DatasetLocator.open(options), label: "val", fixed: fixed)
        }
        if let validation, validation.channels != training.channels || validation.size != training.size {
            throw InputError("\(val!): features [\(validation.channels), \(validation.size.0), \(validation.size.1)] differ from the training features [\(training.channels), \(training.size.0), \(training.size.1)]")
        }
        if let initial, let head = ["classifier.weight", "pspnet.decode_head.conv_seg.weight"].lazy.compactMap({ initial.tensor($0) }).first,
           head.shape.count >= 2, head.shape[0] != data.space.count || head.shape[1] != training.channels {
            throw InputError("\(initial.path): its classifier is for \(head.shape[0]) classes and \(head.shape[1]) channels; the data has \(data.space.count) classes (\(data.space.name)) and \(training.channels) channels")
        }
        let model = try makeModel(channels: training.channels, classes: data.space.count, featureSize: training.size)
        var options = TrainingOptions()
        (options.epochs, options.learningRate, options.weightDecay, options.batch, options.seed) = (epochs, lr, weightDecay, batch, seed)
        var trainer = Trainer(model: model, options: options)
        var carried = try carriedTensors(initial)
        var metadata = initial?.metadata ?? [:]
        if resume {
            let previous = try SafetensorsFile(path: out)
            try TrainingCheckpoint.restoreState(&trainer, from: TrainingCheckpoint.statePath(out))
            carried = try previous.tensors.map { CarriedTensor(name: $0.name, shape: $0.shape, values: try previous.floats($0.name)) }
            metadata = previous.metadata
        } else if let initial {
            // Fine-tuning: trained tensors the init already has start from it (never the classifier, which each stage re-initialises).
            try TrainingCheckpoint.load(&trainer.model.parameters, from: initial, skipping: stage == .classifier ? [] : ["classifier.weight", "classifier.bias"])
        }
        if stage == .stf {
            metadata["heads"] = String(heads)
            metadata["block_size"] = block.lowercased().replacingOccurrences(of: "x", with: ",")
        }
        metadata["segscope_stage"] = stage.rawValue
        metadata["segscope_train"] = "epochs \(epochs), lr \(lr), weight decay \(weightDecay), batch \(batch), seed \(seed)"
        if trainer.epochsDone >= epochs {
            print("\(out): already trained for \(trainer.epochsDone) epochs")
            return
        }
        let progress = ProgressLine(label: "train \(stage.rawValue)")
        defer { progress.finish() }
        while trainer.epochsDone < min(epochs, stopAfter ?? epochs) {
            let started = Date()
            let epoch = trainer.epochsDone + 1
            guard let loss = trainer.trainEpoch(training.samples, cancelled: { Interruption.shared.requested },
                                                progress: { progress.update(($0 + (epoch - 1) * $1), epochs * $1) }) else {
                throw InputError("interrupted during epoch \(epoch); \(epoch > 1 ? "\(out) holds epoch \(epoch - 1) (continue with --resume)" : "nothing was written")")
            }
            var line = String(format: "epoch %d/%d  loss %.4f", epoch, epochs, loss)
            if let validation {
                line += String(format: "  val mIoU %.2f%%", 100 * validation.meanIoU(trainer.model, classes: data.space.count))
            }
            line += String(format: "  (%.1f s)", Date().timeIntervalSince(started))
            metadata["segscope_history"] = [metadata["segscope_history"], "\(stage.rawValue) \(line)"].compactMap { $0 }.joined(separator: "; ")
            try TrainingCheckpoint.write(trainer, carried: carried, metadata: metadata, to: out)
            try TrainingCheckpoint.writeState(trainer, to: TrainingCheckpoint.statePath(out))
            progress.finish()
            FileHandle.standardOutput.write(Data((line + "\n").utf8))
        }
    }

    func makeModel(channels c: Int, classes k: Int, featureSize: (Int, Int)) throws -> TrainingModel {
        switch stage {
        case .classifier:
            return TrainingModel(stage: .classifier, channels: c, classes: k, seed: seed)
        case .stf:
            let (hb, wb) = try Self.pair(block, "--block")
            guard c % heads == 0 else { throw InputError("\(c) feature channels are not divisible by \(heads) heads") }
            guard featureSize.0 % hb == 0, featureSize.1 % wb == 0 else {
                throw InputError("feature size \(featureSize.0)x\(featureSize.1) is not a multiple of the block size \(hb)x\(wb) (use --block)")
            }
            let (ph, pw) = try peSize.map { try Self.pair($0, "--pe-size") } ?? featureSize
            let shape = STFShape(channels: c, heads: heads, blockHeight: hb, blockWidth: wb, feedForward: feedForward, depth: depth,
                                 positionHeight: ph, positionWidth: pw)
            return TrainingModel(stage: .stf, channels: c, classes: k, stfShape: shape, seed: seed)
        case .mar:
            // On --resume the memory comes from the state; the folder only gives its shape.
            let bank = try MemoryBank.load(path: memory ?? out)
            guard bank.channels == c, bank.classes == k else {
                throw InputError("\(memory ?? out): memory of \(bank.classes) classes x \(bank.channels) channels, the data has \(k) x \(c)")
            }
            let values = (0..<(bank.classes * bank.perClass)).flatMap { row in bank.prototypes[((row / bank.perClass) * c)..<((row / bank.perClass + 1) * c)] }
            return TrainingModel(stage: .mar, channels: c, classes: k, memory: (bank.keys, values), marWidth: marWidth ?? c / 2, seed: seed)
        }
    }

    /// Every tensor of --init, with its main classifier renamed to the stage it belongs to.
    func carriedTensors(_ initial: SafetensorsFile?) throws -> [CarriedTensor] {
        guard let initial else { return [] }
        let hasSTF = initial.tensor("STF.pe_enc") != nil
        let previousStage = hasSTF ? "classifier_stf" : "classifier_baseline"
        let names = Set(initial.tensors.map(\.name))
        return try initial.tensors.map { tensor in
            var name = tensor.name
            if stage != .classifier {
                for prefix in ["classifier.", "pspnet.decode_head.conv_seg."] where name.hasPrefix(prefix) {
                    let renamed = previousStage + "." + name.dropFirst(prefix.count)
                    if !names.contains(renamed) { name = renamed }
                }
            }
            return CarriedTensor(name: name, shape: tensor.shape, values: try initial.floats(tensor.name))
        }
    }
}

/// A dataset's frames with features and ground truth as training samples.
struct TrainingData {
    let samples: [TrainingSample]
    let channels: Int
    let size: (Int, Int)
    let space: LabelSpace

    /// With `fixed` (the mar stage), each sample's current features are the
    /// fixed model's STF output (or f[T] when it has no STF).
    static func load(_ data: Dataset, label: String, fixed: Model?) throws -> TrainingData {
        let frames = try LabelledWindows(data)
        let progress = ProgressLine(label: "load \(label)")
        defer { progress.finish() }
        var samples: [TrainingSample] = []
        var shape: (c: Int, h: Int, w: Int)?
        try frames.forEach(channels: nil) { frame, p, c, n, gt in
            shape = shape ?? (c.c, c.h, c.w)
            guard c.h == shape!.h, c.w == shape!.w else {
                throw InputError("\(frame.features!): features are \(c.h)x\(c.w), earlier frames \(shape!.h)x\(shape!.w)")
            }
            var current = c.values
            if let fixed {
                guard fixed.channels == c.c else { throw InputError("\(frame.features!): \(c.c) channels, the --init model has \(fixed.channels)") }
                current = try fixed.stfStage(previous: p.values, current: c.values, next: n.values, height: c.h, width: c.w).features
            }
            samples.append(TrainingSample(previous: p.values, current: current, next: n.values, labels: gt.ids, height: c.h, width: c.w))
            progress.update(samples.count, frames.total)
        }
        return TrainingData(samples: samples, channels: shape!.c, size: (shape!.h, shape!.w), space: data.space)
    }

    /// mIoU of the model's full-resolution predictions over these samples.
    func meanIoU(_ model: TrainingModel, classes k: Int) -> Double {
        var matrix = ConfusionMatrix(classes: k)
        for sample in samples {
            let (labels, _) = upsampledPrediction(logits: model.logits(sample), classes: k, height: sample.height, width: sample.width, factor: 8)
            let (w, h) = (sample.width * 8, sample.height * 8)
            matrix.add(groundTruth: LabelMap(width: w, height: h, ids: sample.labels), prediction: LabelMap(width: w, height: h, ids: labels))
        }
        return Metrics(matrix).meanIoU
    }
}
