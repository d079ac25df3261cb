import ArgumentParser
import Foundation
import SegRuns

struct InferCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "infer",
        abstract:
            "Run the model over a dataset's frames (or their features) and write predictions and confidences per stage.",
        discussion: """
            Features come from the dataset's --features files, else from the weights' PSPNet backbone run on \
            the frames (once per frame, serving its three windows; --save-features keeps them). For each frame \
            T the window is T-1, T, T+1; at a sequence end (or where a neighbour is missing) the frame itself \
            stands in for the missing neighbour. --labelled-only writes only frames with ground truth (on \
            Cityscapes sequences 3 of every 30 frames are computed). --shard K/N (or a Slurm array task's own \
            share) takes the sequences i with i mod N = K; N shards together write exactly what one run writes. Logits are upsampled x8 (bilinear, \
            align_corners=False): predictions are trainId PNGs, confidences (max softmax) 16-bit PNGs, under \
            RUN/pred/<stage>/ and RUN/conf/<stage>/ for the stages baseline, stf and mar. RUN/segscope.toml \
            lets `segscope view RUN` and `segscope eval RUN` open the run. Frames whose outputs decode whole are skipped \
            (empty or cut files are written again), so an interrupted run resumes. --compact writes small runs for sharing: predictions at the highest \
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
    @Flag(
        name: .customLong("labelled-only"),
        help: "Write only frames with ground truth (their neighbours are computed for the window).")
    var labelledOnly = false
    @Option(
        name: .customLong("save-features"),
        help: "Keep the backbone features computed from the frames here (float16 npy), for train and memory build.")
    var saveFeatures: String?
    @OptionGroup var sharding: ShardArguments

    func validate() throws {
        try OptionCheck.output("--out", out, .folder)
        try OptionCheck.output("--save-features", saveFeatures, .folder)
    }

    func run() throws {
        var run = try InferRun(
            model: try model.load(), dataset: try sharding.nonEmpty(try dataset.open()), folder: out,
            weightsName: model.weights)
        (run.compact, run.labelledOnly, run.saveFeatures) = (compact, labelledOnly, saveFeatures)
        let work = LongWork(label: "infer")
        defer { work.finish() }
        try run.run(observer: work.observer)
    }
}
