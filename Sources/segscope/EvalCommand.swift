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
        discussion: EvalRunOptions.discussion + "\n\n" + defaultOptionsHelp,
        subcommands: [EvalRun.self, EvalMerge.self],
        defaultSubcommand: EvalRun.self
    )

    /// `eval --help` would list only the subcommands; a user typing
    /// `segscope eval PATH` runs `eval run`, so its arguments and options are
    /// shown here too (argument-parser's own text for them, from ARGUMENTS on).
    static var defaultOptionsHelp: String {
        let help = EvalRun.helpMessage(columns: 78)
        guard let start = help.range(of: "ARGUMENTS:") else { return "" }
        return "Arguments and options of `segscope eval` (the same as `segscope eval run`):\n\n"
            + help[start.lowerBound...]
            .replacingOccurrences(of: "\n  -h, --help              Show help information.", with: "")
    }
}

extension ScopeReport.Scope: ExpressibleByArgument {}

struct ReportOptions: ParsableArguments {
    @Option(help: "Output: text, markdown, csv or json (json on stdout only).")
    var format: Report.Format = .text
    @Flag(help: "Also print each method's row-normalised confusion matrix.")
    var confusion = false

    func print(_ evaluation: Evaluation, per: ScopeReport.Scope? = nil) throws {
        let report = Report(evaluation, style: format == .text ? AnsiStyling.forStandardOutput() : PlainStyling())
        if let per {
            Swift.print(try ScopeReport(evaluation, per: per).render(format), terminator: "")
            return
        }
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
        discussion: EvalRunOptions.discussion
    )

    @OptionGroup var options: EvalRunOptions

    func validate() throws { try options.validate() }
    func run() throws { try options.run() }
}

/// Prints warnings, a repeated one once with a count.
func warnCollapsed(_ notes: [String]) {
    for note in Warnings.collapse(notes) { warn(note) }
}

struct EvalRunOptions: ParsableArguments {
    static let discussion = """
        GT ignore pixels do not count; a prediction outside the evaluated classes counts as a false negative. \
        mIoU comes from the dataset-wide confusion matrix. Frames without a prediction are reported and skipped \
        (--strict makes that an error). Files that cannot be read are all listed and the command fails \
        (--skip-unreadable scores the rest). `segscope eval merge SHARD...` adds up --save-confusion shards.
        """
    /// Widest boundary band: a band this wide already covers most of a frame.
    static let bandRange = 0...255
    /// Longest video consistency window.
    static let vcRange = 2...100_000

    @OptionGroup var dataset: DatasetArguments
    @OptionGroup var report: ReportOptions
    @Option(help: "Boundary band half-width in full-resolution pixels (0 = none, at most 255).")
    var band = 3
    @Option(
        name: .customLong("save-confusion"),
        help: "Write the confusion counts to this shard file (safetensors) for `segscope eval merge`.")
    var saveConfusion: String?
    @Flag(help: "Fail if any method lacks a prediction for a frame with ground truth.")
    var strict = false
    @Flag(
        name: .customLong("skip-unreadable"),
        help: ArgumentHelp(
            "Score the frames that can be read when some files cannot (they are listed as warnings); "
                + "without it, eval lists them and fails."))
    var skipUnreadable = false
    @Option(
        help: ArgumentHelp(
            "Report mIoU per frame or per sequence (the viewer's frame and sequence scopes) "
                + "instead of the per-class table: frame or sequence."))
    var per: ScopeReport.Scope?
    @Option(
        help: ArgumentHelp(
            "Only the frames A..B (inclusive, in dataset order; each a frame key, N counted over "
                + "the dataset, or S/N), as the viewer's marked range."))
    var range: String?
    @Option(
        name: .customLong("protocol"),
        help:
            "Which classes mIoU averages over: default (the label space's rule; Cityscapes: every class with GT or predicted pixels) or vspw (classes with GT pixels, as VSPW_code)."
    )
    var evaluationProtocol: EvaluationProtocol = .labelSpace
    @Option(
        name: .customLong("vc"),
        help: "Video consistency window length (repeat for several; default 8 and 16; 2 to 100000).")
    var vcLengths: [Int] = []
    @Option(name: .customLong("boundary-dilation"), help: "Boundary IoU's dilation ratio (of the image diagonal).")
    var boundaryDilation = BoundaryIoU.defaultDilationRatio
    @Flag(name: .customLong("no-boundary-iou"), help: "Skip Boundary IoU (Cheng et al.).")
    var noBoundaryIoU = false
    @Flag(
        name: .customLong("no-temporal"),
        help: "Skip flicker and video consistency (their second pass over every predicted frame).")
    var noTemporal = false
    @Option(
        help:
            "Also list likely annotation errors (every method agrees, confidence >= --suspect-tau, GT differs) per frame and class in this CSV file."
    )
    var suspects: String?
    @Option(name: .customLong("suspect-tau"), help: "Confidence every method must reach for --suspects.")
    var suspectTau: Float = 0.9
    @OptionGroup var sharding: ShardArguments

    func validate() throws {
        guard Self.bandRange.contains(band) else {
            throw ValidationError("--band must be in \(Self.bandRange) (pixels)")
        }
        guard suspectTau >= 0 && suspectTau <= 1 else { throw ValidationError("--suspect-tau must be in [0, 1]") }
        guard vcLengths.allSatisfy(Self.vcRange.contains) else {
            throw ValidationError("--vc must be in \(Self.vcRange) frames")
        }
        guard boundaryDilation > 0 && boundaryDilation < 1 else {
            throw ValidationError("--boundary-dilation must be in (0, 1)")
        }
        if let range { _ = try Self.rangeEnds(range) }
    }

    /// "A..B" as its two frame names.
    static func rangeEnds(_ text: String) throws -> (String, String) {
        guard let dots = text.range(of: ".."), !text[..<dots.lowerBound].isEmpty, !text[dots.upperBound...].isEmpty
        else {
            throw ValidationError("--range must be A..B (two frames: keys, N or S/N), not '\(oneLine(text))'")
        }
        return (String(text[..<dots.lowerBound]), String(text[dots.upperBound...]))
    }

    /// The keys of the frames from A to B in dataset order.
    static func rangeKeys(_ text: String, in data: Dataset) throws -> (keys: Set<String>, description: String) {
        let (a, b) = try rangeEnds(text)
        let frames = data.sequences.flatMap(\.frames)
        func position(_ name: String) throws -> Int {
            guard let (s, f) = data.locate(name) else {
                throw InputError("--range: '\(oneLine(name))' names no frame (give a frame key, N or S/N)")
            }
            return data.sequences[..<s].reduce(0) { $0 + $1.frames.count } + f
        }
        let (start, end) = (try position(a), try position(b))
        guard start <= end else { throw InputError("--range: \(oneLine(a)) comes after \(oneLine(b)) in the dataset") }
        let keys = frames[start...end].map(\.key)
        return (Set(keys), "frames \(keys.first!) .. \(keys.last!) (\(keys.count) frames, in dataset order)")
    }

    func run() throws {
        let data = sharding.apply(try dataset.open())
        var options = EvaluationOptions()
        options.band = band
        options.strict = strict
        options.skipUnreadable = skipUnreadable
        options.evaluationProtocol = evaluationProtocol
        if !vcLengths.isEmpty { options.vcLengths = Array(Set(vcLengths)).sorted() }
        options.boundaryRatio = noBoundaryIoU ? nil : boundaryDilation
        options.temporal = !noTemporal
        var scopeDescription: String?
        if let range { (options.scope, scopeDescription) = try Self.rangeKeys(range, in: data) }
        let work = LongWork(label: "eval")
        var evaluation: Evaluation
        do {
            evaluation = try Evaluator.run(
                data, options: options, progress: work.observer.progress,
                cancelled: work.observer.cancelled)
        } catch EvaluationError.unreadable(let files) {
            work.finish()
            // One file is one error line; more are listed, each on its own line, before the count.
            if files.count == 1 {
                throw InputError("cannot read: \(oneLine(files[0].reason)); --skip-unreadable scores the rest")
            }
            for file in files {
                FileHandle.standardError.write(Data("segscope: cannot read: \(oneLine(file.reason))\n".utf8))
            }
            throw InputError(
                "\(files.count) file(s) could not be read (listed above); "
                    + "--skip-unreadable scores the rest")
        }
        work.finish()
        evaluation.scopeDescription = scopeDescription
        warnCollapsed(evaluation.notes)
        for file in evaluation.unreadable { warn("left out, cannot read: \(file.reason)") }
        for result in evaluation.results where !result.missing.isEmpty {
            let (method, keys) = (result.name, result.missing)
            warn(
                "method '\(method)' has no prediction for \(keys.count) frame(s) with ground truth, e.g. \(keys.prefix(3).joined(separator: ", ")); they are left out of its scores"
            )
        }
        if let saveConfusion { try Shards.write(evaluation, to: saveConfusion) }
        if let suspects {
            guard !data.methods.isEmpty else { throw InputError("--suspects needs predictions (--pred NAME=DIR)") }
            if !data.frames.contains(where: { !$0.confidences.isEmpty }) {
                warn(
                    "no method has confidence maps (--conf NAME=DIR): suspects are pixels where every method agrees against the GT, at any confidence"
                )
            }
            let work = LongWork(label: "suspects")
            let found = try Suspects.scan(
                data, tau: suspectTau, progress: work.observer.progress, cancelled: work.observer.cancelled)
            work.finish()
            try AtomicFile.write(Suspects.csv(found, space: data.space), to: suspects)
        }
        try report.print(evaluation, per: per)
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
    @Option(help: "Report IoU per frame or per sequence instead: frame or sequence.")
    var per: ScopeReport.Scope?

    func validate() throws {
        guard !shards.isEmpty else { throw ValidationError("give at least one shard file") }
    }

    func run() throws {
        let merged = try Shards.merge(try shards.map { ($0, try Shards.read(path: $0)) })
        // The shards' runs skipped these (--skip-unreadable); the tables' coverage line counts them.
        for file in merged.unreadable { warn("left out, cannot read: \(file.reason)") }
        if let saveConfusion { try Shards.write(merged, to: saveConfusion) }
        try report.print(merged, per: per)
    }
}
