import Foundation
import SegDataset
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
        return try run(paths: paths, features: try paths.map(FeatureMap.read), to: out, warn: warn)
    }

    /// `images`: frames T-1, T, T+1 (PNG or JPEG, RGB or gray), each through the
    /// backbone; additionally writes features.npy [C,H/8,W/8] of frame T.
    /// Timings gain "backbone" (the three frames) first.
    public func run(images: [String], to out: String, warn: (String) -> Void) throws -> Model.Outputs {
        precondition(images.count == 3)
        guard let backbone = model.backbone else {
            throw RunError(
                "\(weightsName) has no backbone (pspnet.backbone.* or backbone.*): give features with --frames")
        }
        let start = DispatchTime.now().uptimeNanoseconds
        let features = try images.map { try FeatureMap.throughBackbone(backbone, image: $0) }
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        var outputs = try run(paths: images, features: features, to: out, warn: warn)
        outputs.timings.insert(("backbone", seconds), at: 0)
        let current = features[1]
        try Npy.write(
            current.values, shape: [current.channels, current.height, current.width], to: out + "/features.npy")
        return outputs
    }

    func run(paths: [String], features inputs: [FeatureMap], to out: String, warn: (String) -> Void) throws
        -> Model.Outputs
    {
        let current = inputs[1]
        try FeatureMap.checkWindow(inputs, paths: paths)
        guard current.channels == model.channels else {
            throw RunError("\(paths[1]): \(current.channels) channels, but \(weightsName) expects \(model.channels)")
        }
        if !model.unusedTensors.isEmpty {
            warn(
                "\(model.unusedTensors.count) tensor(s) in \(weightsName) are not used by the engine (e.g. \(model.unusedTensors[0]))"
            )
        }
        let (h, w, c, k) = (current.height, current.width, current.channels, model.classes)
        let outputs = try model.forward(
            previous: inputs[0].values, current: current.values, next: inputs[2].values,
            height: h, width: w, input: paths[1])
        try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
        for stage in Stage.allCases {
            guard let logits = outputs.logits(stage) else {
                warn(
                    "\(weightsName) has no \(stage == .stf ? "STF" : "MAR"): \(stage.rawValue).npy and logits_\(stage.rawValue).npy are not written"
                )
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
