import ArgumentParser
import Foundation
import SegDataset
import SegEngine
import SegFormats
import SegLabels
import SegRuns
import SegView

/// `segscope explain`: why STF and MAR predict what they do at one pixel of frame T.
struct ExplainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "explain",
        abstract: "Show the attention of STF and MAR behind one pixel's prediction in frame T.",
        discussion: """
            --pixel Y,X is a full-resolution pixel of frame T (row, column), explained through its stride-8 \
            feature token (Y/8, X/8), the token whose centre is nearest. Text: per STF layer and attention step \
            (encoder long/short for frame T's token, decoder self long/short, decoder cross long into the \
            encoded T-1, T, T+1 and short within the block) the --top keys by head-averaged weight with frame, \
            (y, x) and each head's weight; the composed cross-attention map (for each encoder token k, the sum \
            over the pixel's block tokens q' of A_short[p,q'] * A_long[q',k]; per head pairs head h of both \
            modules, the average composes the head-averaged matrices); MAR's attention mass per class, its top \
            memory rows, class probabilities before and after MAR, and cosines of the feature to each class \
            prototype before and after. --format json: everything, every weight of every step and head and \
            the whole composed maps.
            """
    )

    @OptionGroup var model: ModelOptions
    @Option(
        name: [.customLong("features"), .customLong("frames")], parsing: .upToNextOption,
        help: "Features of T-1, T and T+1: float32 npy [C,H,W] or [1,C,H,W] (as infer --save-features writes).")
    var features: [String] = []
    @Option(parsing: .upToNextOption, help: "Frames T-1, T and T+1 (three PNG images), through the backbone.")
    var images: [String] = []
    @Option(help: "The pixel Y,X of frame T in full-resolution image pixels, each \(ExplainLimits.text).")
    var pixel: String
    @Option(help: "Keys and memory rows listed per step, \(OptionLimits.text(ExplainLimits.top)) (text output).")
    var top = 5
    @Option(help: "Output: text or json.")
    var format: ExplainFormat = .text
    @Option(name: .customLong("label-space"), help: "Names of the classes (default: by class count).")
    var labelSpace: String?
    @Flag(help: "Print the wall and CPU times of the window's STF run and of the pixel's query to stderr.")
    var timings = false

    func validate() throws {
        guard (features.count == 3 && images.isEmpty) || (images.count == 3 && features.isEmpty) else {
            throw ValidationError("give --features or --images, with exactly three files: PREV CUR NEXT")
        }
        for path in features { try OptionCheck.input("--features", path) }
        for path in images { try OptionCheck.input("--images", path) }
        _ = try parsedPixel()
        try OptionCheck.range("--top", top, ExplainLimits.top)
        try OptionCheck.input("--label-space", labelSpace)
    }

    /// --pixel as (row, column).
    func parsedPixel() throws -> (y: Int, x: Int) {
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
        let (maps, names) = try windowFeatures(model)
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
                try context.explain(y: y / featureStride, x: x / featureStride),
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
        let classNames = try self.classNames(model.classes)
        let report = ExplainReport(
            explanation: explanation, model: model, pixel: (y, x), features: current, classNames: classNames)
        switch format {
        case .text: print(report.text(top: top), terminator: "")
        case .json: print(report.json().serialized)
        }
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
            maps = try images.map { path in
                let image = RGBImage(try PNG.read(path: path))
                guard image.height % featureStride == 0, image.width % featureStride == 0 else {
                    throw InputError(
                        "\(path): \(image.width)x\(image.height) is not a multiple of \(featureStride) "
                            + "in both directions")
                }
                let values = backbone.features(rgb: image.rgb, height: image.height, width: image.width)
                if let i = values.firstIndex(where: { !$0.isFinite }) {
                    throw InputError("\(path): the backbone's features hold \(values[i]) at element \(i)")
                }
                return FeatureMap(
                    values: values, channels: backbone.channels, height: image.height / featureStride,
                    width: image.width / featureStride)
            }
        } else {
            maps = try features.map(FeatureMap.read)
        }
        for i in [0, 2]
        where maps[i].channels != maps[1].channels || maps[i].height != maps[1].height
            || maps[i].width != maps[1].width
        {
            throw InputError("\(names[i]): shape \(maps[i].shapeText) differs from \(names[1]) \(maps[1].shapeText)")
        }
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

enum ExplainFormat: String, CaseIterable, ExpressibleByArgument { case text, json }

/// Ranges of explain's options (man segscope(1), "Option ranges").
enum ExplainLimits {
    static let top = 1...10_000
    static let coordinate = 0...1_000_000
    static var text: String { OptionLimits.text(coordinate) }
}

/// explain's output: text for people, JSON for scripts.
struct ExplainReport {
    let explanation: PixelExplanation
    let model: Model
    let pixel: (y: Int, x: Int)
    let features: FeatureMap
    let classNames: [String]

    func text(top: Int) -> String {
        let e = explanation
        var out = "pixel (\(pixel.y), \(pixel.x)) of the \(features.height * featureStride)x"
        out += "\(features.width * featureStride) frame T -> token (\(e.y), \(e.x)) of \(features.height)x"
        out += "\(features.width) features\n"
        out += "\nclass probabilities at the token (largest \(min(top, classNames.count)) after the last stage)\n"
        let last = e.probabilities.last!.values
        out += pad("class", 16) + e.probabilities.map { pad($0.stage.rawValue, 10, right: true) }.joined() + "\n"
        for k in largestIndices(last, top) {
            out += pad(classNames[k], 16) + e.probabilities.map { pad(number($0.values[k]), 10, right: true) }.joined()
            out += "\n"
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
                    .joined() + "\n"
                for (key, weight) in rows {
                    let index = ((key.frame + 1) * map.height + key.y) * map.width + key.x
                    out += keyColumns(key) + pad(number(weight), 10, right: true)
                    out += map.perHead.map { pad(number($0[index]), 10, right: true) }.joined() + "\n"
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
        out += "\n"
        for (key, weight) in rows {
            let index = keys.firstIndex(of: key)!
            out += keyColumns(key) + pad(number(weight), 10, right: true)
            out += heads.map { pad(number($0[index]), 10, right: true) }.joined() + "\n"
        }
        return out
    }

    private func keyColumns(_ key: TokenPosition) -> String {
        "  " + pad(key.frameName, 5) + pad(String(key.y), 6, right: true) + pad(String(key.x), 6, right: true)
    }

    func json() -> JSONValue {
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
        ]
        if let stf = model.stf {
            members.append(("heads", .number(Double(stf.heads))))
            members.append(("block", .array([.number(Double(stf.blockHeight)), .number(Double(stf.blockWidth))])))
            members.append(
                (
                    "steps",
                    .array(
                        e.steps.map { step in
                            .object([
                                ("layer", .number(Double(step.layer))), ("kind", .string(step.kind.rawValue)),
                                ("keys", .array(step.keys.map(position))),
                                ("weights", .array(step.weights.map(numbers))),
                                ("headAverage", numbers(step.headAverage)),
                            ])
                        })
                ))
            members.append(
                (
                    "composed",
                    .array(
                        e.composed.map { map in
                            .object([
                                ("layer", .number(Double(map.layer))),
                                ("shape", .array([3, map.height, map.width].map { .number(Double($0)) })),
                                ("perHead", .array(map.perHead.map(numbers))), ("average", numbers(map.average)),
                            ])
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
