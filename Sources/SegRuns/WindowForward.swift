import Foundation
import SegEngine
import SegFormats

/// `segscope forward`: the model on one window of three feature files,
/// every output written as npy at feature resolution.
public struct WindowForward {
    public let model: Model
    public let weightsName: String

    public init(model: Model, weightsName: String) {
        (self.model, self.weightsName) = (model, weightsName)
    }

    /// `paths`: features of T-1, T, T+1. Writes stf.npy, mar.npy [C,H,W] and
    /// logits_<stage>.npy [K,H,W]; `warn` hears of outputs the weights cannot give.
    public func run(paths: [String], to out: String, warn: (String) -> Void) throws -> Model.Outputs {
        precondition(paths.count == 3)
        let inputs = try paths.map(FeatureMap.read)
        let current = inputs[1]
        for (path, input) in zip(paths, inputs) where !input.sameShape(current) {
            throw RunError("\(path): shape \(input.shapeText) differs from \(paths[1]) \(current.shapeText)")
        }
        guard current.channels == model.channels else {
            throw RunError("\(paths[1]): \(current.channels) channels, but \(weightsName) expects \(model.channels)")
        }
        if !model.unusedTensors.isEmpty {
            warn("\(model.unusedTensors.count) tensor(s) in \(weightsName) are not used by the engine (e.g. \(model.unusedTensors[0]))")
        }
        let (h, w, c, k) = (current.height, current.width, current.channels, model.classes)
        let outputs = try model.forward(previous: inputs[0].values, current: current.values, next: inputs[2].values, height: h, width: w)
        try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
        for stage in Stage.allCases {
            guard let logits = outputs.logits(stage) else {
                warn("\(weightsName) has no \(stage == .stf ? "STF" : "MAR"): \(stage.rawValue).npy and logits_\(stage.rawValue).npy are not written")
                continue
            }
            if let features = stage == .stf ? outputs.stf : stage == .mar ? outputs.mar : nil {
                try Npy.write(features, shape: [c, h, w], to: "\(out)/\(stage.rawValue).npy")
            }
            try Npy.write(logits, shape: [k, h, w], to: "\(out)/logits_\(stage.rawValue).npy")
        }
        return outputs
    }
}
