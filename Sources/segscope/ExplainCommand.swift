import ArgumentParser
import Foundation
import SegDataset
import SegEngine
import SegFormats
import SegLabels
import SegRuns
import SegView

/// `segscope explain`: why STF and MAR predict what they do at one pixel of frame T, and (--fixed-broken)
/// through which classes' memory MAR fixed and broke boundary pixels of a frame, a sequence or a dataset.
struct ExplainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "explain",
        abstract: "Show the attention of STF and MAR behind one pixel's prediction in frame T.",
        usage: """
            segscope explain --weights W (--features|--images) PREV CUR NEXT --pixel Y,X [options]
            segscope explain DATASET --weights W --frame F --pixel Y,X [options]
            segscope explain DATASET --weights W --fixed-broken [--frame F | --sequence S] [options]
            """,
        discussion: """
            --pixel Y,X is a full-resolution pixel of frame T (row, column), explained through its stride-8 \
            feature token (Y/8, X/8), the token whose centre is nearest. Text: class probabilities at the token \
            (softmax of its logits) and at the pixel (softmax of the logits upsampled bilinearly from the 2x2 \
            tokens around it, as infer writes predictions and confidences); per STF layer and attention step \
            (encoder long/short for frame T's token, decoder self long/short, decoder cross long into the \
            encoded T-1, T, T+1 and short within the block) the --top keys by head-averaged weight with frame, \
            (y, x) and each head's weight; the composed cross-attention map (for each encoder token k, the sum \
            over the pixel's block tokens q' of A_short[p,q'] * A_long[q',k]; per head pairs head h of both \
            modules, the average composes the head-averaged matrices); MAR's attention mass per class, its top \
            memory rows, class probabilities before and after MAR, and cosines of the feature to each class \
            prototype before and after. --format json: everything, every weight of every step and head and \
            the whole composed maps. With DATASET (as view and eval open it: a root, a manifest, a folder \
            holding one, or an infer run) and --frame, the window T-1, T, T+1 is the frame's as infer takes it, \
            its features the dataset's or the backbone's on its images, and each listed key also shows the GT \
            class and each method's predicted class at the centre pixel of its 8x8 cell. --fixed-broken: among \
            the pixels within --band px of a GT class boundary, those MAR fixed (reference stage wrong, MAR \
            right) and broke (reference right, MAR wrong), per GT class, with the mean MAR attention mass (at \
            the pixel's token) on the memory rows of the GT class and of the competing class.
            """
    )

    @OptionGroup var model: ModelOptions
    @Argument(help: "A dataset or infer run (as view and eval take it): the frame's window, GT and predictions.")
    var dataset: String?
    @Option(
        name: [.customLong("features"), .customLong("frames")], parsing: .upToNextOption,
        help: """
            Features of T-1, T and T+1: float16 or float32 npy [C,H,W] or [1,C,H,W] (as infer --save-features writes); \
            with DATASET, one folder of its features.
            """)
    var features: [String] = []
    @Option(parsing: .upToNextOption, help: "Frames T-1, T and T+1 (three PNG or JPEG images), through the backbone.")
    var images: [String] = []
    @Option(
        parsing: .unconditional,
        help: "The pixel Y,X of frame T in full-resolution image pixels, each \(ExplainLimits.text).")
    var pixel: String?
    @Option(help: "With DATASET: frame T, by key, N (1-based over the dataset) or S/N (as view --frame).")
    var frame: String?
    @Option(help: "With --fixed-broken: only this sequence (its name or 1-based number).")
    var sequence: String?
    @Flag(
        name: .customLong("fixed-broken"),
        help: "With DATASET: the table of boundary pixels MAR fixed and broke, with its memory's class masses.")
    var fixedBroken = false
    @Option(
        help: "With --fixed-broken: boundary band half-width in pixels, \(OptionLimits.text(ExplainLimits.band)) (3).")
    var band: Int?
    @Option(
        name: .customLong("reference-stage"),
        help: "With --fixed-broken: the stage MAR is compared against, baseline or stf (default: the one it refines).")
    var referenceStage: Stage?
    @Option(help: "With --fixed-broken: write the table to this file (atomically) instead of stdout.")
    var out: String?
    @Option(help: "With DATASET: ground-truth folder.")
    var gt: String?
    @Option(name: .customLong("pred"), help: "With DATASET: a method's predictions, NAME=DIR (repeatable).")
    var predictions: [String] = []
    @Option(help: "With DATASET: only this split of a Cityscapes or CamVid root.")
    var split: String?
    // Unconditional: a negative value is the option's (and its range error), not read as another option.
    @Option(
        parsing: .unconditional,
        help:
            "Keys and memory rows listed per step, \(OptionLimits.text(ExplainLimits.top)) (also JSON's topKeys; it keeps every weight)."
    )
    var top = 5
    @Option(help: "Output: text or json (and csv with --fixed-broken).")
    var format: ExplainFormat = .text
    @Option(
        name: .customLong("label-space"),
        help: "Names of the classes (default: by class count); with DATASET, its label space.")
    var labelSpace: String?
    @Flag(help: "Print the wall and CPU times of the window's STF run and of the pixel's query to stderr.")
    var timings = false

    func validate() throws {
        if let dataset {
            try OptionCheck.input("DATASET", dataset)
            guard images.isEmpty, features.count <= 1 else {
                throw ValidationError(
                    "with DATASET, the window comes from the dataset: give no --images, and --features only as "
                        + "one folder")
            }
            if fixedBroken {
                guard pixel == nil else { throw ValidationError("--fixed-broken counts whole frames: give no --pixel") }
                guard frame == nil || sequence == nil else {
                    throw ValidationError("--fixed-broken: give --frame or --sequence, not both")
                }
                if let band { try OptionCheck.range("--band", band, ExplainLimits.band) }
                if referenceStage == .mar { throw ValidationError("--reference-stage: baseline or stf, not mar") }
                try OptionCheck.output("--out", out, .file, inputs: [model.weights] + features + images)
            } else {
                guard frame != nil, pixel != nil else {
                    throw ValidationError("with DATASET, give --frame and --pixel (or --fixed-broken)")
                }
            }
        } else {
            guard (features.count == 3 && images.isEmpty) || (images.count == 3 && features.isEmpty) else {
                throw ValidationError("give --features or --images, with exactly three files: PREV CUR NEXT")
            }
            guard pixel != nil else { throw ValidationError("give --pixel Y,X") }
            for (option, given) in [
                ("--frame", frame != nil), ("--sequence", sequence != nil), ("--fixed-broken", fixedBroken),
                ("--gt", gt != nil), ("--pred", !predictions.isEmpty), ("--split", split != nil),
            ] where given {
                throw ValidationError("\(option) needs DATASET")
            }
        }
        if !fixedBroken {
            for (option, given) in [
                ("--sequence", sequence != nil), ("--out", out != nil), ("--reference-stage", referenceStage != nil),
                ("--band", band != nil),
            ] where given {
                throw ValidationError("\(option) goes with --fixed-broken")
            }
            if format == .csv { throw ValidationError("--format csv goes with --fixed-broken") }
        }
        for path in features { try OptionCheck.input("--features", path) }
        for path in images { try OptionCheck.input("--images", path) }
        for (option, path) in [("--gt", gt), ("--split", split), ("--label-space", labelSpace)] {
            try OptionCheck.input(option, path)
        }
        if pixel != nil { _ = try parsedPixel() }
        try OptionCheck.range("--top", top, ExplainLimits.top)
    }

    /// --pixel as (row, column).
    func parsedPixel() throws -> (y: Int, x: Int) {
        let pixel = self.pixel ?? ""
        let parts = pixel.split(separator: ",", omittingEmptySubsequences: false)
            .map { Int($0.trimmingCharacters(in: .whitespaces)) }
        guard parts.count == 2, let y = parts[0], let x = parts[1] else {
            throw ValidationError("--pixel \(oneLine(pixel)): expected Y,X (two integers, row then column)")
        }
        try OptionCheck.range("--pixel row", y, ExplainLimits.coordinate)
        try OptionCheck.range("--pixel column", x, ExplainLimits.coordinate)
        return (y, x)
    }

    func run() throws {
        let model = try self.model.load()
        if fixedBroken { return try runFixedBroken(model) }
        let window: DatasetWindow?
        let (maps, names): ([FeatureMap], [String])
        if dataset != nil {
            let found = try datasetWindow(model)
            (window, maps, names) = (found, found.maps, found.names)
        } else {
            window = nil
            (maps, names) = try windowFeatures(model)
        }
        let current = maps[1]
        let (y, x) = try parsedPixel()
        let frameHeight = current.height * featureStride
        let frameWidth = current.width * featureStride
        guard y < frameHeight, x < frameWidth else {
            throw InputError(
                "--pixel \(y),\(x): outside the \(frameHeight)x\(frameWidth) frame of \(names[1]) "
                    + "(features \(current.shapeText) at stride \(featureStride))")
        }
        let start = (wall: DispatchTime.now().uptimeNanoseconds, cpu: processCPUSeconds())
        let context = try ExplainContext(
            model: model, previous: maps[0].values, current: current.values, next: maps[2].values,
            height: current.height, width: current.width, input: names[1])
        let built = (wall: DispatchTime.now().uptimeNanoseconds, cpu: processCPUSeconds())
        // The query's end is taken while the context lives: freeing its gigabyte is no part of a query.
        let (explanation, done) = try withExtendedLifetime(context) {
            (
                try context.explain(pixelY: y, pixelX: x),
                (wall: DispatchTime.now().uptimeNanoseconds, cpu: processCPUSeconds())
            )
        }
        if timings {
            // CPU seconds beside wall time: on a shared machine the wall time grows with others' work.
            let line = { (name: String, from: (wall: UInt64, cpu: Double), to: (wall: UInt64, cpu: Double)) in
                String(
                    format: "%@: %.3f s wall, %.3f s CPU\n", name, Double(to.wall - from.wall) / 1e9, to.cpu - from.cpu)
            }
            FileHandle.standardError.write(
                Data((line("window (STF run once)", start, built) + line("pixel query", built, done)).utf8))
        }
        let classNames = try window.map { $0.classNames } ?? self.classNames(model.classes)
        let report = ExplainReport(
            explanation: explanation, model: model, pixel: (y, x), features: current, classNames: classNames,
            keyClasses: try window?.keyClasses())
        switch format {
        case .text: print(report.text(top: top), terminator: "")
        case .json, .csv: print(report.json(top: top).serialized)
        }
    }

    /// The dataset DATASET names, with this command's dataset options.
    func openDataset() throws -> Dataset {
        var options = DatasetOptions()
        options.path = dataset
        options.groundTruth = gt
        options.features = features.first
        options.split = split
        if let labelSpace { options.space = try LabelSpace.named(labelSpace) ?? Theme.resolve(labelSpace).space }
        try options.addMethods(predictions: predictions, confidences: [])
        return try DatasetLocator.open(options)
    }

    /// Frame T of --frame with its STF window (as infer takes it) and its neighbours' records.
    func datasetWindow(_ model: Model) throws -> DatasetWindow {
        let data = try openDataset()
        guard model.classes == data.space.count else {
            throw InputError(
                "\(self.model.weights): \(model.classes) classes, but the label space \(data.space.name) of "
                    + "\(data.root) has \(data.space.count)")
        }
        guard let frame, let (s, f) = data.locate(frame) else {
            throw InputError("--frame \(oneLine(frame ?? "")): no such frame in \(data.root) (a key, N or S/N)")
        }
        let source = try FeatureSource.choose(model: model, data: data, saveFeatures: nil)
        let covered = data.sequences[s].frames.filter(source.covers)
        let record = data.sequences[s].frames[f]
        guard let i = covered.firstIndex(of: record) else {
            throw InputError(
                "--frame \(oneLine(frame)): \(record.key) has no \(source.isFiles ? "features" : "image") in "
                    + data.root)
        }
        var windows = FeatureWindows(frames: covered, channels: model.channels, source: source)
        let features = try windows.window(i)
        let (previous, next) = Dataset.slidingWindow(covered, i)
        let records = [previous, record, next]
        return DatasetWindow(
            data: data, records: records, maps: [features.previous, features.current, features.next],
            names: records.map { $0.features ?? $0.image ?? $0.key })
    }

    /// --fixed-broken: the table over --frame, --sequence or the whole dataset.
    func runFixedBroken(_ model: Model) throws {
        let data = try openDataset()
        let keys: Set<String>?
        var scopeName = "dataset"
        if let frame {
            guard let (s, f) = data.locate(frame) else {
                throw InputError("--frame \(oneLine(frame)): no such frame in \(data.root) (a key, N or S/N)")
            }
            keys = [data.sequences[s].frames[f].key]
            scopeName = "frame \(oneLine(data.sequences[s].frames[f].key))"
        } else if let sequence {
            let index =
                data.sequences.firstIndex { $0.name == sequence }
                ?? Int(sequence).flatMap { data.sequences.indices.contains($0 - 1) ? $0 - 1 : nil }
            guard let index else {
                throw InputError(
                    "--sequence \(oneLine(sequence)): no such sequence in \(data.root) (a name or 1-based number "
                        + "up to \(data.sequences.count))")
            }
            keys = Set(data.sequences[index].frames.map(\.key))
            scopeName = "sequence \(oneLine(data.sequences[index].name))"
        } else {
            keys = nil
        }
        let work = LongWork(label: "fixed/broken")
        let table: MemoryAttribution
        do {
            defer { work.finish() }
            table = try MemoryAttribution.run(
                model: model, data: data, keys: keys, bandWidth: band ?? 3, reference: referenceStage,
                observer: work.observer)
        }
        let names = data.space.classNames.map(oneLine)
        let report = FixedBrokenReport(table: table, classNames: names, scope: scopeName)
        let text: String
        switch format {
        case .text: text = report.text()
        case .csv: text = report.csv()
        case .json: text = report.json().serialized + "\n"
        }
        if let out { try AtomicFile.write(text, to: out) } else { print(text, terminator: "") }
    }
    /// The window's three feature maps, read or computed through the backbone, and the files they came from.
    func windowFeatures(_ model: Model) throws -> (maps: [FeatureMap], names: [String]) {
        let maps: [FeatureMap]
        let names = features.isEmpty ? images : features
        if features.isEmpty {
            guard let backbone = model.backbone else {
                throw InputError(
                    "\(self.model.weights) has no backbone (pspnet.backbone.* or backbone.*): give --features")
            }
            maps = try images.map { try FeatureMap.throughBackbone(backbone, image: $0) }
        } else {
            maps = try features.map(FeatureMap.read)
        }
        try FeatureMap.checkWindow(maps, paths: names)
        guard maps[1].channels == model.channels else {
            throw InputError(
                "\(names[1]): \(maps[1].channels) channels, but \(self.model.weights) expects \(model.channels)")
        }
        return (maps, names)
    }

    func classNames(_ classes: Int) throws -> [String] {
        let theme =
            try labelSpace.map { try Theme.resolve($0) }
            ?? [LabelSpace.cityscapes, .camvid].first { $0.count == classes }.map { Theme.builtIn(for: $0) }
        if let theme, theme.space.count != classes {
            throw InputError("--label-space \(labelSpace ?? ""): \(theme.space.count) classes, the weights \(classes)")
        }
        return (0..<classes).map { index in theme.map { oneLine($0.space.classNames[index]) } ?? "class \(index)" }
    }
}

/// User plus system CPU seconds of this process, all threads.
private func processCPUSeconds() -> Double {
    var usage = rusage()
    getrusage(RUSAGE_SELF.rawValue, &usage)
    let seconds = { (t: timeval) in Double(t.tv_sec) + Double(t.tv_usec) / 1e6 }
    return seconds(usage.ru_utime) + seconds(usage.ru_stime)
}

enum ExplainFormat: String, CaseIterable, ExpressibleByArgument { case text, json, csv }

extension Stage: ExpressibleByArgument {}

/// Ranges of explain's options (man segscope(1), "Option ranges").
enum ExplainLimits {
    static let top = 1...10_000
    static let coordinate = 0...1_000_000
    /// As eval --band.
    static let band = 0...255
    static var text: String { OptionLimits.text(coordinate) }
}

/// Frame T of a dataset with its STF window: the records T-1, T, T+1 (T itself at a sequence's edge, as
/// infer), their features and the files they came from.
struct DatasetWindow {
    let data: Dataset
    let records: [FrameRecord]
    let maps: [FeatureMap]
    let names: [String]

    var classNames: [String] { data.space.classNames.map(oneLine) }

    /// The window frames' ground truth and each method's prediction, at the frame's size.
    func keyClasses() throws -> KeyClasses {
        let loader = FrameLoader(dataset: data)
        let size = (width: maps[1].width * featureStride, height: maps[1].height * featureStride)
        var truth: [LabelMap?] = []
        var predictions: [[LabelMap?]] = []
        for record in records {
            let map = try loader.groundTruth(record)?.map
            if let map, map.width != size.width || map.height != size.height {
                throw InputError(
                    "\(record.groundTruth!): ground truth \(map.width)x\(map.height) is not \(featureStride)x the "
                        + "features (\(maps[1].width)x\(maps[1].height))")
            }
            truth.append(map)
            predictions.append(try data.methods.map { try loader.prediction(record, method: $0, size: size)?.map })
        }
        return KeyClasses(
            frames: records.map(\.key), methods: data.methods, groundTruth: truth, predictions: predictions,
            classNames: classNames)
    }
}

/// The GT class and each method's predicted class at a key's place: the centre pixel of the key's 8x8
/// cell in its frame (T-1, T or T+1) of the window.
struct KeyClasses {
    let frames: [String]
    let methods: [String]
    /// Per window frame (T-1 first), nil where the frame has none.
    let groundTruth: [LabelMap?]
    let predictions: [[LabelMap?]]
    let classNames: [String]

    /// (ground truth, per method) label values at the key, nil where there is no file.
    func labels(_ key: TokenPosition) -> (truth: UInt8?, predictions: [UInt8?]) {
        let frame = key.frame + 1
        let at = { (map: LabelMap?) -> UInt8? in
            map.map {
                $0.ids[
                    min(key.y * featureStride + featureStride / 2, $0.height - 1) * $0.width
                        + min(key.x * featureStride + featureStride / 2, $0.width - 1)]
            }
        }
        return (at(groundTruth[frame]), predictions[frame].map(at))
    }

    func name(_ label: UInt8?) -> String {
        guard let label else { return "-" }
        if Int(label) < classNames.count { return classNames[Int(label)] }
        return label == LabelSpace.ignore ? "ignore" : "#\(label)"
    }

    /// Text columns: "gt" then each method.
    var header: String { Self.cells(["gt"] + methods) }

    func columns(_ key: TokenPosition) -> String {
        let (truth, predictions) = labels(key)
        return Self.cells(([truth] + predictions).map(name))
    }

    /// Names in columns of 12 (cut to fit), the last one unpadded.
    static func cells(_ names: [String]) -> String {
        names.enumerated().map { i, name in
            "  " + (i == names.count - 1 ? String(name.prefix(12)) : pad(String(name.prefix(12)), 12))
        }.joined()
    }

    func json(_ key: TokenPosition) -> [(String, JSONValue)] {
        let (truth, predictions) = labels(key)
        let value = { (label: UInt8?) -> JSONValue in label.map { .number(Double($0)) } ?? .null }
        return [
            ("gt", value(truth)),
            ("predictions", .object(zip(methods, predictions).map { ($0, value($1)) })),
        ]
    }
}

/// explain's output: text for people, JSON for scripts.
struct ExplainReport {
    let explanation: PixelExplanation
    let model: Model
    let pixel: (y: Int, x: Int)
    let features: FeatureMap
    let classNames: [String]
    /// With DATASET: the classes at the listed keys.
    var keyClasses: KeyClasses? = nil

    func text(top: Int) -> String {
        let e = explanation
        var out = "pixel (\(pixel.y), \(pixel.x)) of the \(features.height * featureStride)x"
        out += "\(features.width * featureStride) frame T -> token (\(e.y), \(e.x)) of \(features.height)x"
        out += "\(features.width) features\n"
        if let keyClasses {
            // A neighbour without features (or beyond the sequence's ends) is T itself, as infer takes it: said.
            let frames = keyClasses.frames
            out +=
                "window "
                + zip(["T-1", "T", "T+1"], frames.indices).map { name, i in
                    "\(name) \(oneLine(frames[i]))" + (i != 1 && frames[i] == frames[1] ? " (T stands in)" : "")
                }.joined(separator: ", ") + "; keys show the GT and predicted classes at the centre of their 8x8 cell\n"
        }
        for (place, probabilities) in [
            ("token (softmax of its logits)", e.probabilities),
            ("pixel (softmax of its 2x2 tokens' logits upsampled, as infer writes)", e.pixelProbabilities),
        ] where !probabilities.isEmpty {
            out += "\nclass probabilities at the \(place); largest \(min(top, classNames.count)) after the last stage\n"
            out += pad("class", 16) + probabilities.map { pad($0.stage.rawValue, 10, right: true) }.joined() + "\n"
            for k in largestIndices(probabilities.last!.values, top) {
                out += pad(classNames[k], 16)
                out += probabilities.map { pad(number($0.values[k]), 10, right: true) }.joined() + "\n"
            }
        }
        if let stf = model.stf {
            out += "\nSTF: \(stf.heads) heads, \(stf.blockHeight)x\(stf.blockWidth) blocks; "
            out += "top \(top) keys per step by head-averaged weight\n"
            for step in e.steps {
                out += "\nlayer \(step.layer) \(step.kind.rawValue) (\(step.keys.count) keys)\n"
                out += table(step.top(top).map { ($0.key, $0.weight) }, heads: step.weights, keys: step.keys)
            }
            for map in e.composed {
                out += "\nlayer \(map.layer) composed cross attention (long then short) over T-1, T, T+1\n"
                let rows = map.top(top)
                out +=
                    "  frame     y     x   rollout"
                    + (0..<stf.heads).map { pad("head \($0)", 10, right: true) }
                    .joined() + (keyClasses?.header ?? "") + "\n"
                for (key, weight) in rows {
                    let index = ((key.frame + 1) * map.height + key.y) * map.width + key.x
                    out += keyColumns(key) + pad(number(weight), 10, right: true)
                    out += map.perHead.map { pad(number($0[index]), 10, right: true) }.joined()
                    out += (keyClasses?.columns(key) ?? "") + "\n"
                }
            }
        }
        if let mar = e.mar {
            out += "\nMAR: memory attention by class (\(mar.rowsPerClass) rows each), "
            out += "probabilities and prototype cosines before/after MAR\n"
            out +=
                pad("class", 16)
                + ["mass", "p before", "p after", "cos before", "cos after"]
                .map { pad($0, 11, right: true) }.joined() + "\n"
            for k in largestIndices(mar.classMass, classNames.count) {
                let values = [
                    mar.classMass[k], mar.probabilitiesBefore[k], mar.probabilitiesAfter[k], mar.cosineBefore[k],
                    mar.cosineAfter[k],
                ]
                out += pad(classNames[k], 16) + values.map { pad(number($0), 11, right: true) }.joined() + "\n"
            }
            out += "\ntop \(top) memory rows\n" + "   row  class           weight\n"
            for (row, k, weight) in mar.topRows(top) {
                out +=
                    pad(String(row), 6, right: true) + "  " + pad(classNames[k], 14)
                    + pad(number(weight), 8, right: true)
                out += "\n"
            }
        }
        return out
    }

    private func table(_ rows: [(TokenPosition, Float)], heads: [[Float]], keys: [TokenPosition]) -> String {
        var out = "  frame     y     x      mean" + heads.indices.map { pad("head \($0)", 10, right: true) }.joined()
        out += (keyClasses?.header ?? "") + "\n"
        for (key, weight) in rows {
            let index = keys.firstIndex(of: key)!
            out += keyColumns(key) + pad(number(weight), 10, right: true)
            out += heads.map { pad(number($0[index]), 10, right: true) }.joined()
            out += (keyClasses?.columns(key) ?? "") + "\n"
        }
        return out
    }

    private func keyColumns(_ key: TokenPosition) -> String {
        "  " + pad(key.frameName, 5) + pad(String(key.y), 6, right: true) + pad(String(key.x), 6, right: true)
    }

    /// `top`: how many keys per step and composed map carry their classes (with DATASET).
    func json(top: Int) -> JSONValue {
        let e = explanation
        func numbers(_ values: [Float]) -> JSONValue { .array(values.map { .number(Double($0)) }) }
        func position(_ key: TokenPosition) -> JSONValue {
            .array([.number(Double(key.frame)), .number(Double(key.y)), .number(Double(key.x))])
        }
        var members: [(String, JSONValue)] = [
            ("pixel", .array([.number(Double(pixel.y)), .number(Double(pixel.x))])),
            ("token", .array([.number(Double(e.y)), .number(Double(e.x))])),
            ("features", .array([features.channels, features.height, features.width].map { .number(Double($0)) })),
            ("classes", .array(classNames.map { .string($0) })),
            (
                "probabilities",
                .object(e.probabilities.map { ($0.stage.rawValue, numbers($0.values)) })
            ),
            ("pixelProbabilities", .object(e.pixelProbabilities.map { ($0.stage.rawValue, numbers($0.values)) })),
        ]
        func topKeys(_ rows: [(key: TokenPosition, weight: Float)]) -> [(String, JSONValue)] {
            guard let keyClasses else { return [] }
            return [
                (
                    "topKeys",
                    .array(
                        rows.map { row in
                            .object(
                                [("key", position(row.key)), ("weight", .number(Double(row.weight)))]
                                    + keyClasses.json(row.key))
                        })
                )
            ]
        }
        if let keyClasses {
            members.append(("frames", .array(keyClasses.frames.map { .string($0) })))
            members.append(("methods", .array(keyClasses.methods.map { .string($0) })))
        }
        if let stf = model.stf {
            members.append(("heads", .number(Double(stf.heads))))
            members.append(("block", .array([.number(Double(stf.blockHeight)), .number(Double(stf.blockWidth))])))
            members.append(
                (
                    "steps",
                    .array(
                        e.steps.map { step in
                            .object(
                                [
                                    ("layer", .number(Double(step.layer))), ("kind", .string(step.kind.rawValue)),
                                    ("keys", .array(step.keys.map(position))),
                                    ("weights", .array(step.weights.map(numbers))),
                                    ("headAverage", numbers(step.headAverage)),
                                ] + topKeys(step.top(top)))
                        })
                ))
            members.append(
                (
                    "composed",
                    .array(
                        e.composed.map { map in
                            .object(
                                [
                                    ("layer", .number(Double(map.layer))),
                                    ("shape", .array([3, map.height, map.width].map { .number(Double($0)) })),
                                    ("perHead", .array(map.perHead.map(numbers))), ("average", numbers(map.average)),
                                ] + topKeys(map.top(top)))
                        })
                ))
        }
        if let mar = e.mar {
            members.append(
                (
                    "mar",
                    .object([
                        ("rowsPerClass", .number(Double(mar.rowsPerClass))), ("rowWeights", numbers(mar.rowWeights)),
                        ("classMass", numbers(mar.classMass)), ("before", numbers(mar.probabilitiesBefore)),
                        ("after", numbers(mar.probabilitiesAfter)), ("cosineBefore", numbers(mar.cosineBefore)),
                        ("cosineAfter", numbers(mar.cosineAfter)),
                    ])
                ))
        }
        return .object(members)
    }
}

/// Indices of the `count` largest values, largest first.
private func largestIndices(_ values: [Float], _ count: Int) -> [Int] {
    Array(values.indices.sorted { values[$0] > values[$1] || (values[$0] == values[$1] && $0 < $1) }.prefix(count))
}

private func number(_ value: Float) -> String { String(format: "%.4f", Double(value)) }

private func pad(_ text: String, _ width: Int, right: Bool = false) -> String {
    let fill = String(repeating: " ", count: max(0, width - text.count))
    return right ? fill + text : text + fill
}

/// The fixed/broken table of `explain --fixed-broken`: text, CSV or JSON.
struct FixedBrokenReport {
    let table: MemoryAttribution
    let classNames: [String]
    /// "dataset", "sequence S" or "frame KEY".
    let scope: String

    var header: String {
        "MAR fixed/broken boundary pixels of the \(scope) against \(table.reference.rawValue): \(table.frames) "
            + "frame(s) counted, \(table.framesWithoutGroundTruth) without ground truth and "
            + "\(table.framesWithoutFeatures) without features skipped; GT boundary band "
            + "\(table.bandWidth) px"
    }

    func name(_ row: MemoryAttribution.Row) -> String { row.classIndex.map { classNames[$0] } ?? "total" }

    func text() -> String {
        var out = header + "\n"
        out += "mass: mean MAR attention on the memory rows of the GT class / of the competing class (fixed: the "
        out += "reference's wrong class; broken: MAR's), at the pixel's token (Y/8, X/8)\n\n"
        // Each kind's title centred over its three columns.
        let over = { (title: String) in
            let dashes = String(repeating: "-", count: (30 - title.count) / 2)
            return pad("  " + dashes + " " + title + " " + dashes, 33)
        }
        out += pad("", 16) + over("fixed") + over("broken") + "\n"
        out +=
            pad("class", 16)
            + [
                "pixels", "mass GT", "mass wrong", "pixels", "mass GT", "mass wrong",
            ].map { pad($0, 11, right: true) }.joined() + "\n"
        for row in table.rows {
            let cells = [row.fixed, row.broken].flatMap { part in
                [String(part.pixels), part.truthMass.map(fraction) ?? "-", part.wrongMass.map(fraction) ?? "-"]
            }
            out += pad(name(row), 16) + cells.map { pad($0, 11, right: true) }.joined() + "\n"
        }
        return out
    }

    /// One comment line with the header, then one row per class and the total; empty cells: no pixels.
    func csv() -> String {
        let quoted = { (text: String) in
            text.contains(",") || text.contains("\"")
                ? "\"" + text.replacingOccurrences(of: "\"", with: "\"\"") + "\"" : text
        }
        var out = "# " + header + "\n"
        out += "class,fixed_pixels,fixed_mass_gt,fixed_mass_wrong,broken_pixels,broken_mass_gt,broken_mass_wrong\n"
        for row in table.rows {
            let cells = [row.fixed, row.broken].flatMap { part in
                [String(part.pixels), part.truthMass.map(exact) ?? "", part.wrongMass.map(exact) ?? ""]
            }
            out += ([quoted(name(row))] + cells).joined(separator: ",") + "\n"
        }
        return out
    }

    func json() -> JSONValue {
        let part = { (part: MemoryAttribution.Row.Part) -> JSONValue in
            .object([
                ("pixels", .number(Double(part.pixels))), ("massGT", part.truthMass.map { .number($0) } ?? .null),
                ("massWrong", part.wrongMass.map { .number($0) } ?? .null),
            ])
        }
        return .object([
            ("scope", .string(scope)), ("reference", .string(table.reference.rawValue)),
            ("band", .number(Double(table.bandWidth))), ("frames", .number(Double(table.frames))),
            ("framesWithoutGroundTruth", .number(Double(table.framesWithoutGroundTruth))),
            ("framesWithoutFeatures", .number(Double(table.framesWithoutFeatures))),
            (
                "rows",
                .array(
                    table.rows.map { row in
                        .object([
                            ("class", row.classIndex.map { .number(Double($0)) } ?? .null),
                            ("name", .string(name(row))), ("fixed", part(row.fixed)), ("broken", part(row.broken)),
                        ])
                    })
            ),
        ])
    }
}

private func fraction(_ value: Double) -> String { String(format: "%.4f", value) }

/// Enough digits to read the Double back.
private func exact(_ value: Double) -> String { "\(value)" }
