import Foundation
import SegDataset
import SegEngine
import SegFormats
import SegLabels
import SegTrain

/// `segscope train`: one stage of the paper's schedule on extracted
/// features, checkpointed after every epoch (see the command's help).
public struct TrainingRun {
    /// What the stage trains and the shapes it needs.
    public enum Head: Sendable {
        case classifier
        case stf(heads: Int, block: BlockSize, feedForward: Int, depth: Int, positionSize: GridSize?)
        /// `memory`: folder or file initialising MAR's memory (nil on --resume:
        /// the checkpoint's trained memory); width dh (nil: C/2).
        case mar(memory: String?, width: Int?)

        var stage: TrainingStage {
            switch self {
            case .classifier: return .classifier
            case .stf: return .stf
            case .mar: return .mar
            }
        }
    }

    public var head: Head
    public var data: Dataset
    public var validation: Dataset?
    public var out: String
    public var initial: String?
    public var options = TrainingOptions()
    public var resume = false
    public var stopAfter: Int?

    public init(head: Head, data: Dataset, out: String) {
        (self.head, self.data, self.out) = (head, data, out)
    }

    /// Trains until the schedule (or --stop-after) ends; `report` gets one
    /// line per epoch, `observer` loading/epoch progress and cancellation.
    public func run(observer: WorkObserver = .silent, loading: WorkObserver = .silent, report: (String) -> Void) throws
    {
        // Training's float64 GEMMs go through the engine's BLAS: a missing library is an error now, not mid-epoch.
        try requireBLAS()
        let folder = FileName.parent(of: out)
        var isFolder: ObjCBool = false
        guard FileManager.default.fileExists(atPath: folder.isEmpty ? "." : folder, isDirectory: &isFolder),
            isFolder.boolValue
        else {
            throw RunError("\(out): the folder \(folder) does not exist")
        }
        let stage = head.stage
        let initialFile = try initial.map { try SafetensorsFile(path: $0) }
        // The fixed part in front of the trained head: the STF of --init for the mar stage.
        let needsModel = stage == .mar || !data.frames.contains { $0.features != nil }
        let initialModel = needsModel ? try initial.map { try Model.load(path: $0) } : nil
        let fixed = stage == .mar ? initialModel : nil
        // Frames without feature files get theirs from the backbone of --init.
        let training = try TrainingData.load(data, fixed: fixed, backbone: initialModel, observer: loading)
        let validationData = try validation.map {
            try TrainingData.load($0, fixed: fixed, backbone: initialModel, observer: loading)
        }
        if let validationData, validationData.channels != training.channels || validationData.size != training.size {
            throw RunError(
                "\(validation!.root): features [\(validationData.channels), \(validationData.size.height), \(validationData.size.width)] differ from the training features [\(training.channels), \(training.size.height), \(training.size.width)]"
            )
        }
        if let initialFile,
            let classifier = ["classifier.weight", "pspnet.decode_head.conv_seg.weight"].lazy.compactMap({
                initialFile.tensor($0)
            }).first,
            classifier.shape.count >= 2,
            classifier.shape[0] != data.space.count || classifier.shape[1] != training.channels
        {
            throw RunError(
                "\(initialFile.path): its classifier is for \(classifier.shape[0]) classes and \(classifier.shape[1]) channels; the data has \(data.space.count) classes (\(data.space.name)) and \(training.channels) channels"
            )
        }
        let model = try makeModel(channels: training.channels, classes: data.space.count, featureSize: training.size)
        var trainer = Trainer(model: model, options: options)
        var carried = try carriedTensors(initialFile)
        var metadata = initialFile?.metadata ?? [:]
        if resume {
            let previous = try SafetensorsFile(path: out)
            try TrainingCheckpoint.restoreState(&trainer, from: TrainingCheckpoint.statePath(out))
            carried = try previous.tensors.map {
                CarriedTensor(name: $0.name, shape: $0.shape, values: try previous.floats($0.name))
            }
            metadata = previous.metadata
        } else if let initialFile {
            // Fine-tuning: trained tensors the init already has start from it (never the classifier, which each stage re-initialises).
            try TrainingCheckpoint.load(
                &trainer.model.parameters, from: initialFile,
                skipping: stage == .classifier ? [] : ["classifier.weight", "classifier.bias"])
        }
        if case .stf(let heads, let block, _, _, _) = head {
            metadata["heads"] = String(heads)
            metadata["block_size"] = block.metadata
        }
        metadata["segscope_stage"] = stage.rawValue
        metadata["segscope_train"] =
            "epochs \(options.epochs), lr \(options.learningRate), weight decay \(options.weightDecay), batch \(options.batch), seed \(options.seed)"
        if trainer.epochsDone >= options.epochs {
            report("\(out): already trained for \(trainer.epochsDone) epochs")
            return
        }
        let epochs = options.epochs
        while trainer.epochsDone < min(epochs, stopAfter ?? epochs) {
            let started = Date()
            let epoch = trainer.epochsDone + 1
            let kept = epoch > 1 ? "\(out) holds epoch \(epoch - 1) (continue with --resume)" : "nothing was written"
            guard
                let loss = trainer.trainEpoch(
                    training.samples, cancelled: observer.cancelled,
                    progress: { observer.progress(($0 + (epoch - 1) * $1), epochs * $1) })
            else {
                throw RunError("interrupted during epoch \(epoch); \(kept)")
            }
            // A diverged epoch is not saved: its checkpoint would hold NaN or infinite weights.
            if !loss.isFinite {
                throw RunError("epoch \(epoch): the loss is \(loss) (diverged; try a lower --lr); \(kept)")
            }
            if let bad = trainer.model.parameters.values.firstIndex(where: { !$0.isFinite }) {
                let slot = trainer.model.parameters.slots.first { $0.offset <= bad && bad < $0.offset + $0.count }
                let value = trainer.model.parameters.values[bad]
                let name = slot?.name ?? "a weight"
                throw RunError("epoch \(epoch): \(name) became \(value) (diverged; try a lower --lr); \(kept)")
            }
            var line = String(format: "epoch %d/%d  loss %.4f", epoch, epochs, loss)
            if let validationData {
                line += String(
                    format: "  val mIoU %.2f%%", 100 * validationData.meanIoU(trainer.model, classes: data.space.count))
            }
            line += String(format: "  (%.1f s)", Date().timeIntervalSince(started))
            metadata["segscope_history"] = [metadata["segscope_history"], "\(stage.rawValue) \(line)"].compactMap { $0 }
                .joined(separator: "; ")
            try TrainingCheckpoint.writePair(trainer, carried: carried, metadata: metadata, to: out)
            report(line)
        }
    }

    func makeModel(channels c: Int, classes k: Int, featureSize: GridSize) throws -> TrainingModel {
        switch head {
        case .classifier:
            return TrainingModel(.classifier, channels: c, classes: k, seed: options.seed)
        case .stf(let heads, let block, let feedForward, let depth, let positionSize):
            guard c % heads == 0 else { throw RunError("\(c) feature channels are not divisible by \(heads) heads") }
            guard featureSize.height % block.height == 0, featureSize.width % block.width == 0 else {
                throw RunError("feature size \(featureSize) is not a multiple of the block size \(block) (use --block)")
            }
            let positions = positionSize ?? featureSize
            let shape = STFShape(
                channels: c, heads: heads, blockHeight: block.height, blockWidth: block.width, feedForward: feedForward,
                depth: depth,
                positionHeight: positions.height, positionWidth: positions.width)
            return TrainingModel(.stf(shape), channels: c, classes: k, seed: options.seed)
        case .mar(let memory, let width):
            let keys: [Float]
            let values: [Float]
            if let memory {
                let bank = try MemoryBank.load(path: memory)
                guard bank.channels == c, bank.classes == k else {
                    throw RunError(
                        "\(memory): memory of \(bank.classes) classes x \(bank.channels) channels, the data has \(k) x \(c)"
                    )
                }
                (keys, values) = (bank.keys, bank.repeatedPrototypes)
            } else {
                // --resume: the trained memory of the checkpoint gives the shape; the state then restores every value.
                let file = try SafetensorsFile(path: out)
                guard let key = file.tensor("MAR.memory_key"), key.shape.count == 3, key.shape[2] == c,
                    file.tensor("MAR.memory_value")?.shape == key.shape
                else {
                    throw RunError(
                        "\(out): no MAR.memory_key/MAR.memory_value [1, N, \(c)] to resume from (give --memory)")
                }
                (keys, values) = (try file.floats("MAR.memory_key"), try file.floats("MAR.memory_value"))
            }
            return TrainingModel(
                .mar(keys: keys, values: values, width: width ?? c / 2), channels: c, classes: k, seed: options.seed)
        }
    }

    /// Every tensor of --init, with its main classifier renamed to the stage it belongs to.
    func carriedTensors(_ initial: SafetensorsFile?) throws -> [CarriedTensor] {
        guard let initial else { return [] }
        let previousStage = initial.tensor("STF.pe_enc") != nil ? "classifier_stf" : "classifier_baseline"
        let names = Set(initial.tensors.map(\.name))
        return try initial.tensors.map { tensor in
            var name = tensor.name
            if head.stage != .classifier {
                for prefix in ["classifier.", "pspnet.decode_head.conv_seg."] where name.hasPrefix(prefix) {
                    let renamed = previousStage + "." + name.dropFirst(prefix.count)
                    if !names.contains(renamed) { name = renamed }
                }
            }
            return CarriedTensor(name: name, shape: tensor.shape, values: try initial.floats(tensor.name))
        }
    }
}
