import ArgumentParser
import SegDataset
import SegLabels

extension LabelEncoding: ExpressibleByArgument {}

/// Dataset options shared by view, render, eval, infer and train.
struct DatasetArguments: ParsableArguments {
    @Argument(help: "A Cityscapes or CamVid root, a manifest (segscope.toml), or a folder holding one.")
    var path: String?
    @Option(help: "Folder of RGB frames (searched recursively; matched by frame key).")
    var frames: String?
    @Option(help: "Folder of ground-truth label PNGs.")
    var gt: String?
    @Option(name: .customLong("pred"), help: "A method's predictions: NAME=DIR (repeatable, in display order).")
    var predictions: [String] = []
    @Option(name: .customLong("conf"), help: "A method's confidences: NAME=DIR of 16-bit PNG or npy (repeatable).")
    var confidences: [String] = []
    @Option(help: "Folder of stride-8 features (npy).")
    var features: String?
    @Option(name: .customLong("label-space"), help: "cityscapes, camvid, or a theme file defining a custom space.")
    var labelSpace: String?
    @Option(help: "Only this split of a Cityscapes or CamVid root (e.g. val).")
    var split: String?
    @Option(
        name: .customLong("gt-encoding"),
        help: "Ground-truth encoding: trainIds, labelIds or color (detected if not given).")
    var gtEncoding: LabelEncoding?
    @Option(
        name: .customLong("pred-encoding"),
        help: "Prediction encoding: trainIds, labelIds or color (detected if not given).")
    var predEncoding: LabelEncoding?
    @Option(name: .customLong("ref"), help: "Reference method for deltas and flips (default: the first method).")
    var reference: String?

    func validate() throws {
        for (option, path) in [
            ("path", path), ("--frames", frames), ("--gt", gt), ("--features", features),
            ("--label-space", labelSpace), ("--split", split), ("--ref", reference),
        ] {
            try OptionCheck.input(option, path)
        }
        for (option, values) in [("--pred", predictions), ("--conf", confidences)] {
            for value in values {
                let folder = value.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false).last ?? ""
                try OptionCheck.input(option, String(folder))
            }
        }
    }

    func options() throws -> DatasetOptions {
        var options = DatasetOptions()
        options.path = path
        options.frames = frames
        options.groundTruth = gt
        options.features = features
        options.split = split
        options.groundTruthEncoding = gtEncoding
        options.predictionEncoding = predEncoding
        options.reference = reference
        if let labelSpace {
            options.space = try LabelSpace.named(labelSpace) ?? Theme.resolve(labelSpace).space
        }
        try options.addMethods(predictions: predictions, confidences: confidences)
        return options
    }

    func open() throws -> Dataset { try DatasetLocator.open(try options()) }
}
