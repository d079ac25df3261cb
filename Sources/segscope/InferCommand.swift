import ArgumentParser
import Foundation
import SegDataset
import SegEngine
import SegFormats
import SegLabels

struct InferCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "infer",
        abstract: "Run the model over every frame with features and write predictions and confidences per stage.",
        discussion: """
            For each frame T the window is T-1, T, T+1; at a sequence end (or where a neighbour has no features) \
            the frame itself stands in for the missing neighbour. Logits are upsampled x8 (bilinear, \
            align_corners=False): predictions are trainId PNGs, confidences (max softmax) 16-bit PNGs, under \
            RUN/pred/<stage>/ and RUN/conf/<stage>/ for the stages baseline, stf and mar. RUN/segscope.toml \
            lets `segscope view RUN` and `segscope eval RUN` open the run. Frames already written are skipped, \
            so an interrupted run resumes. --compact writes small runs for sharing: predictions at the highest \
            PNG compression and confidences as 8-bit PNGs (value / 255) of every second pixel of every second \
            row, which the viewer nearest-upsamples.
            """
    )

    @OptionGroup var model: ModelOptions
    @OptionGroup var dataset: DatasetArguments
    @Option(help: "Run folder to write.")
    var out: String
    @Flag(help: "Small files: 8-bit confidences at half resolution, maximum PNG compression.")
    var compact = false

    var weights: String { model.weights }

    func run() throws {
        let data = try dataset.open()
        let model = try self.model.load()
        guard model.classes == data.space.count else {
            throw InputError("\(weights): \(model.classes) classes, but the label space \(data.space.name) has \(data.space.count)")
        }
        let stages = ["baseline"] + (model.stf != nil ? ["stf"] : []) + (model.mar != nil ? ["mar"] : [])
        let fm = FileManager.default
        for stage in stages {
            try fm.createDirectory(atPath: "\(out)/pred/\(stage)", withIntermediateDirectories: true)
            try fm.createDirectory(atPath: "\(out)/conf/\(stage)", withIntermediateDirectories: true)
        }
        let work = data.sequences.map { $0.frames.filter { $0.features != nil } }
        let total = work.reduce(0) { $0 + $1.count }
        guard total > 0 else { throw InputError("\(data.root): no frame has features (give --features DIR)") }
        Interruption.shared.install()
        let progress = ProgressLine(label: "infer")
        defer { progress.finish() }
        var done = 0
        for frames in work {
            var windows = FeatureWindows(frames: frames, channels: model.channels)
            for (i, frame) in frames.enumerated() {
                if Interruption.shared.requested { throw InputError("interrupted; \(done) of \(total) frames written, run again to resume") }
                let outputs = stages.flatMap { ["\(out)/pred/\($0)/\(frame.key).png", "\(out)/conf/\($0)/\(frame.key).png"] }
                if outputs.allSatisfy({ fm.fileExists(atPath: $0) }) { done += 1; progress.update(done, total); continue }
                let (p, c, n) = try windows.window(i)
                let result = try model.forward(previous: p.values, current: c.values, next: n.values, height: c.h, width: c.w)
                let logits = ["baseline": result.baselineLogits, "stf": result.stfLogits, "mar": result.marLogits]
                for stage in stages {
                    let (labels, confidence) = upsampledPrediction(logits: logits[stage]!!, classes: model.classes, height: c.h, width: c.w, factor: 8)
                    let size = (c.w * 8, c.h * 8)
                    let map = ConfidenceMap(width: size.0, height: size.1, values: confidence)
                    try PNG.write(PNGImage(width: size.0, height: size.1, colorType: .gray, bitDepth: 8, samples: .eight(labels)),
                                  to: "\(out)/pred/\(stage)/\(frame.key).png", compressionLevel: compact ? 9 : 1)
                    try PNG.write(compact ? map.subsampled(by: 2).png(bitDepth: 8) : map.png(),
                                  to: "\(out)/conf/\(stage)/\(frame.key).png", compressionLevel: compact ? 9 : 1)
                }
                done += 1
                progress.update(done, total)
            }
        }
        try writeManifest(data, stages: stages)
    }

    /// RUN/segscope.toml: the dataset's frames and GT (absolute paths) and one method per stage.
    func writeManifest(_ data: Dataset, stages: [String]) throws {
        func absolute(_ path: String) -> String {
            path.hasPrefix("/") ? path : FileManager.default.currentDirectoryPath + "/" + path
        }
        func quoted(_ s: String) -> String { "\"" + s.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + "\"" }
        var text = "# Written by segscope infer from \(weights).\n"
        text += "label_space = \(quoted(LabelSpace.named(data.space.name) != nil ? data.space.name : "cityscapes"))\n"
        if let frames = data.framesFolder { text += "frames = \(quoted(absolute(frames)))\n" }
        if let gt = data.groundTruthFolder { text += "gt = \(quoted(absolute(gt)))\n" }
        if let encoding = data.groundTruthEncoding { text += "gt_encoding = \(quoted(encoding.rawValue))\n" }
        if let features = data.featuresFolder { text += "features = \(quoted(absolute(features)))\n" }
        text += "reference = \"baseline\"\n"
        for stage in stages {
            text += "\n[[method]]\nname = \(quoted(stage))\npred = \(quoted("pred/\(stage)"))\nconf = \(quoted("conf/\(stage)"))\nencoding = \"trainIds\"\n"
        }
        try AtomicFile.write(text, to: out + "/segscope.toml")
    }
}
