import SegFormats

public enum CheckpointError: Error, CustomStringConvertible {
    case mismatch(path: String, problem: String)
    public var description: String {
        switch self {
        case .mismatch(let path, let problem): return "\(path): \(problem)"
        }
    }
}

/// A tensor carried unchanged from the initial weights into the checkpoint.
public struct CarriedTensor: Sendable {
    public let name: String, shape: [Int], values: [Float]
    public init(name: String, shape: [Int], values: [Float]) {
        (self.name, self.shape, self.values) = (name, shape, values)
    }
}

/// Checkpoints in the engine's schema (float32, the release's names and
/// shapes, so `segscope forward/infer` and PyTorch modules named as the
/// release's load them: `make check-pytorch`), and a training state beside
/// them for resuming bit-exactly.
///
/// The state file `<checkpoint>.state` is safetensors holding, per trained
/// tensor `N`: `param.N` (float64 values), `exp_avg.N` and `exp_avg_sq.N`
/// (AdamW's moments, float64); metadata `stage`, `step` (optimizer steps),
/// `epochs_done`, `seed`.
public enum TrainingCheckpoint {
    /// The checkpoint and its state, together or not at all (see `AtomicFile.write(_:)`): a state beside a
    /// checkpoint of another epoch, or none, would make `--resume` fail or go wrong. The state is renamed
    /// first, so that an interruption between the two renames never leaves a newer checkpoint than its state.
    public static func writePair(
        _ trainer: Trainer, carried: [CarriedTensor], metadata: [String: String],
        to path: String
    ) throws {
        try AtomicFile.write([
            (stateWriter(trainer).encode(), statePath(path)),
            (checkpointWriter(trainer, carried: carried, metadata: metadata).encode(), path),
        ])
    }

    public static func write(_ trainer: Trainer, carried: [CarriedTensor], metadata: [String: String], to path: String)
        throws
    {
        try checkpointWriter(trainer, carried: carried, metadata: metadata).write(to: path)
    }

    static func checkpointWriter(
        _ trainer: Trainer, carried: [CarriedTensor],
        metadata: [String: String]
    ) -> SafetensorsWriter {
        var writer = SafetensorsWriter(metadata: metadata)
        let trained = Set(trainer.model.parameters.slots.map(\.name))
        for tensor in carried where !trained.contains(tensor.name) {
            writer.add(tensor.name, tensor.values, shape: tensor.shape)
        }
        for slot in trainer.model.parameters.slots {
            writer.add(slot.name, trainer.model.parameters.tensor(slot).map { Float($0) }, shape: slot.shape)
        }
        return writer
    }

    public static func statePath(_ checkpoint: String) -> String { checkpoint + ".state" }

    public static func writeState(_ trainer: Trainer, to path: String) throws {
        try stateWriter(trainer).write(to: path)
    }

    static func stateWriter(_ trainer: Trainer) -> SafetensorsWriter {
        var writer = SafetensorsWriter(metadata: [
            "stage": trainer.model.stage.rawValue, "step": String(trainer.optimizer.step),
            "epochs_done": String(trainer.epochsDone), "seed": String(trainer.options.seed),
        ])
        let p = trainer.model.parameters
        for slot in p.slots {
            let range = slot.offset..<(slot.offset + slot.count)
            writer.add("param." + slot.name, p.tensor(slot), shape: slot.shape)
            writer.add("exp_avg." + slot.name, Array(trainer.optimizer.firstMoment[range]), shape: slot.shape)
            writer.add("exp_avg_sq." + slot.name, Array(trainer.optimizer.secondMoment[range]), shape: slot.shape)
        }
        return writer
    }

    /// Restores parameters, moments, step and epoch count from a state file
    /// written for the same stage and shapes.
    public static func restoreState(_ trainer: inout Trainer, from path: String) throws {
        let file = try SafetensorsFile(path: path)
        guard file.metadata["stage"] == trainer.model.stage.rawValue else {
            throw CheckpointError.mismatch(
                path: path,
                problem: "state of stage \(file.metadata["stage"] ?? "?"), not \(trainer.model.stage.rawValue)")
        }
        guard let step = file.metadata["step"].flatMap({ Int($0) }),
            let done = file.metadata["epochs_done"].flatMap({ Int($0) })
        else {
            throw CheckpointError.mismatch(path: path, problem: "no step or epochs_done in the metadata")
        }
        let count = trainer.model.parameters.count
        var values = [Double](repeating: 0, count: count)
        var first = values
        var second = values
        for slot in trainer.model.parameters.slots {
            for (prefix, _) in [("param.", 0), ("exp_avg.", 1), ("exp_avg_sq.", 2)] {
                guard let t = file.tensor(prefix + slot.name), t.shape == slot.shape else {
                    throw CheckpointError.mismatch(
                        path: path, problem: "no tensor \(prefix + slot.name) of shape \(slot.shape)")
                }
            }
            let range = slot.offset..<(slot.offset + slot.count)
            values.replaceSubrange(range, with: try file.doubles("param." + slot.name))
            first.replaceSubrange(range, with: try file.doubles("exp_avg." + slot.name))
            second.replaceSubrange(range, with: try file.doubles("exp_avg_sq." + slot.name))
        }
        trainer.model.parameters.values = values
        trainer.optimizer.restore(step: step, firstMoment: first, secondMoment: second)
        trainer.epochsDone = done
    }

    /// Sets every trained tensor that `file` has (same name and shape) from
    /// it, for fine-tuning; returns the names taken.
    @discardableResult
    public static func load(_ parameters: inout Parameters, from file: SafetensorsFile, skipping: Set<String> = [])
        throws -> [String]
    {
        var taken: [String] = []
        for slot in parameters.slots where !skipping.contains(slot.name) {
            guard let t = file.tensor(slot.name) else { continue }
            guard t.count == slot.count else {
                throw CheckpointError.mismatch(
                    path: file.path, problem: "tensor \(slot.name) has shape \(t.shape), the stage needs \(slot.shape)")
            }
            parameters.set(slot, try file.floats(slot.name).map(Double.init))
            taken.append(slot.name)
        }
        return taken
    }
}
