import Foundation
import SegDataset
import SegEngine
import SegFormats
import SegLabels

/// `RUN/segscope.toml` of an infer run: the dataset's frames and ground
/// truth (absolute paths), its label space, and one method per stage, so
/// that `view RUN` and `eval RUN` open the run as written.
public struct RunManifest: Sendable {
    public let dataset: Dataset
    public let stages: [Stage]
    /// The weights file (its `weights` key: `view RUN` explains predictions with the weights that made them).
    public let weights: String
    /// Features of the frames: the dataset's, or those the run computed and kept.
    public let featuresFolder: String?

    public init(dataset: Dataset, stages: [Stage], weights: String, featuresFolder: String? = nil) {
        (self.dataset, self.stages, self.weights) = (dataset, stages, weights)
        self.featuresFolder = featuresFolder ?? dataset.featuresFolder
    }

    /// File name of the label space a run keeps when the dataset's is custom.
    public static let customSpaceFile = "labels.toml"

    /// Built-in spaces are named; a custom space is written beside the
    /// manifest (RUN/labels.toml) so the run opens with the dataset's classes.
    var customSpace: LabelSpace? { LabelSpace.named(dataset.space.name) == dataset.space ? nil : dataset.space }

    public func text() -> String {
        func absolute(_ path: String) -> String {
            path.hasPrefix("/") ? path : FileManager.default.currentDirectoryPath + "/" + path
        }
        let q = TOMLText.quoted
        var text = "# Written by segscope infer from \(weights).\n"
        text += "label_space = \(q(customSpace == nil ? dataset.space.name : Self.customSpaceFile))\n"
        if let frames = dataset.framesFolder { text += "frames = \(q(absolute(frames)))\n" }
        if let gt = dataset.groundTruthFolder { text += "gt = \(q(absolute(gt)))\n" }
        if let encoding = dataset.groundTruthEncoding { text += "gt_encoding = \(q(encoding.rawValue))\n" }
        if let features = featuresFolder { text += "features = \(q(absolute(features)))\n" }
        text += "weights = \(q(absolute(weights)))\n"
        text += "reference = \(q(Stage.baseline.rawValue))\n"
        for stage in stages {
            text += "\n[[method]]\nname = \(q(stage.rawValue))\npred = \(q(InferRun.predictionFolder(stage)))\n"
            text += "conf = \(q(InferRun.confidenceFolder(stage)))\nencoding = \"trainIds\"\n"
        }
        return text
    }

    /// Writes the manifest (and the custom label space) into `folder`.
    public func write(to folder: String) throws {
        if let space = customSpace {
            try AtomicFile.write(
                Theme.customSpaceText(space, colors: space.classes.map(\.color)),
                to: folder + "/" + Self.customSpaceFile)
        }
        try AtomicFile.write(text(), to: folder + "/segscope.toml")
    }
}
