import ArgumentParser
import Foundation
import SegRuns

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

    func run() throws {
        var run = try InferRun(model: try model.load(), dataset: try dataset.open(), folder: out, weightsName: model.weights)
        run.compact = compact
        let work = LongWork(label: "infer")
        defer { work.finish() }
        try run.run(observer: work.observer)
    }
}
