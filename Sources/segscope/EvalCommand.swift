import ArgumentParser
import Foundation
import SegDataset
import SegEval
import SegFormats
import SegLabels
import SegView

extension Report.Format: ExpressibleByArgument {}
extension EvaluationProtocol: ExpressibleByArgument {}

struct EvalCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "eval",
        abstract: "Per-class IoU tables of one or more methods, as cityscapesScripts computes them.",
        subcommands: [EvalRun.self, EvalMerge.self],
        defaultSubcommand: EvalRun.self
    )
}

struct ReportOptions: ParsableArguments {
    @Option(help: "Output: text, markdown, csv or json (json on stdout only).")
    var format: Report.Format = .text
    @Flag(help: "Also print each method's row-normalised confusion matrix.")
    var confusion = false

    func print(_ evaluation: Evaluation) {
        let report = Report(evaluation, style: format == .text ? AnsiStyling.forStandardOutput() : PlainStyling())
        var out = report.render(format)
        if confusion && format != .json {
            for result in evaluation.results { out += "\n" + report.confusionTable(result) }
        }
        Swift.print(out, terminator: "")
    }
}

func warn(_ text: String) {
    FileHandle.standardError.write(Data("segscope: warning: \(oneLine(text))\n".utf8))
}

struct EvalRun: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Evaluate predictions against ground truth (the default of `segscope eval`).",
        discussion: """
            GT ignore pixels do not count; a prediction outside the evaluated classes counts as a false negative. \
            mIoU comes from the dataset-wide confusion matrix. Frames without a prediction are reported and skipped \
            (--strict makes that an error).
            """
    )

    @OptionGroup var dataset: DatasetArguments
    @OptionGroup var report: ReportOptions
    @Option(help: "Boundary band half-width in full-resolution pixels (0 = none).")
    var band = 3
    @Option(name: .customLong("save-confusion"), help: "Write the confusion counts to this shard file (safetensors) for `segscope eval merge`.")
    var saveConfusion: String?
    @Flag(help: "Fail if any method lacks a prediction for a frame with ground truth.")
    var strict = false
    @Option(name: .customLong("protocol"), help: "Which classes mIoU averages over: default (the label space's rule; Cityscapes: every class with GT or predicted pixels) or vspw (classes with GT pixels, as VSPW_code).")
    var evaluationProtocol: EvaluationProtocol = .labelSpace
    @Option(name: .customLong("vc"), help: "Video consistency window length (repeat for several; default 8 and 16).")
    var vcLengths: [Int] = []
    @Option(name: .customLong("boundary-dilation"), help: "Boundary IoU's dilation ratio (of the image diagonal).")
    var boundaryDilation = BoundaryIoU.defaultDilationRatio
    @Flag(name: .customLong("no-boundary-iou"), help: "Skip Boundary IoU (Cheng et al.).")
    var noBoundaryIoU = false
    @Flag(name: .customLong("no-temporal"), help: "Skip flicker and video consistency (their second pass over every predicted frame).")
    var noTemporal = false
    @Option(help: "Also list likely annotation errors (every method agrees, confidence >= --suspect-tau, GT differs) per frame and class in this CSV file.")
    var suspects: String?
    @Option(name: .customLong("suspect-tau"), help: "Confidence every method must reach for --suspects.")
    var suspectTau: Float = 0.9
    @OptionGroup var sharding: ShardArguments

    func validate() throws {
        guard band >= 0 else { throw ValidationError("--band must be >= 0") }
        guard suspectTau >= 0 && suspectTau <= 1 else { throw ValidationError("--suspect-tau must be in [0, 1]") }
        guard vcLengths.allSatisfy({ $0 >= 2 }) else { throw ValidationError("--vc must be at least 2 frames") }
        guard boundaryDilation > 0 && boundaryDilation < 1 else { throw ValidationError("--boundary-dilation must be in (0, 1)") }
    }

    func run() throws {
        let data = sharding.apply(try dataset.open())
        var options = EvaluationOptions()
        options.band = band
        options.strict = strict
        options.evaluationProtocol = evaluationProtocol
        if !vcLengths.isEmpty { options.vcLengths = Array(Set(vcLengths)).sorted() }
        options.boundaryRatio = noBoundaryIoU ? nil : boundaryDilation
        options.temporal = !noTemporal
        let work = LongWork(label: "eval")
        let evaluation = try Evaluator.run(data, options: options, progress: work.observer.progress, cancelled: work.observer.cancelled)
        work.finish()
        for note in evaluation.notes { warn(note) }
        for result in evaluation.results where !result.missing.isEmpty {
            let (method, keys) = (result.name, result.missing)
            warn("method '\(method)' has no prediction for \(keys.count) frame(s) with ground truth, e.g. \(keys.prefix(3).joined(separator: ", ")); they are left out of its scores")
        }
        if let saveConfusion { try Shards.write(evaluation, to: saveConfusion) }
        if let suspects {
            guard !data.methods.isEmpty else { throw InputError("--suspects needs predictions (--pred NAME=DIR)") }
            if !data.frames.contains(where: { !$0.confidences.isEmpty }) {
                warn("no method has confidence maps (--conf NAME=DIR): suspects are pixels where every method agrees against the GT, at any confidence")
            }
            let work = LongWork(label: "suspects")
            let found = try Suspects.scan(data, tau: suspectTau, progress: work.observer.progress, cancelled: work.observer.cancelled)
            work.finish()
            try AtomicFile.write(Suspects.csv(found, space: data.space), to: suspects)
        }
        report.print(evaluation)
    }
}

struct EvalMerge: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "merge",
        abstract: "Merge confusion shards written with --save-confusion and print the same tables."
    )

    @Argument(help: "Shard files.")
    var shards: [String]
    @OptionGroup var report: ReportOptions
    @Option(name: .customLong("save-confusion"), help: "Also write the merged counts as one shard.")
    var saveConfusion: String?

    func validate() throws {
        guard !shards.isEmpty else { throw ValidationError("give at least one shard file") }
    }

    func run() throws {
        let merged = try Shards.merge(try shards.map { ($0, try Shards.read(path: $0)) })
        if let saveConfusion { try Shards.write(merged, to: saveConfusion) }
        report.print(merged)
    }
}
