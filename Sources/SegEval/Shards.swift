import Foundation
import SegFormats
import SegLabels

/// Confusion-matrix shards, so a cluster can split a dataset over array jobs
/// and merge. A shard is a safetensors file:
/// - tensors `confusion.<method>` and `band.<method>`: I64 [K, K+1] (rows GT
///   class, columns predicted class, column K = no evaluated class);
///   `flips.<method>`: I64 [2, 3] (all pixels / band; fixed, broken, changed-wrong)
///   for methods other than the reference; `boundary.<method>`: I64 [2, K]
///   (Boundary IoU intersections, unions); `flicker.<method>`: I64 [2]
///   (changed pixels, pixels of adjacent-frame pairs);
/// - metadata: `segscope_shard` = "1", `label_space`, `classes` (JSON list),
///   `methods` (JSON list, in order), `reference`, `band`, `files` (JSON list
///   of ground-truth files), `frames` (JSON object: method -> [[key, mIoU], ...]),
///   `missing` (JSON object: method -> [keys]), `boundary_ratio` (empty: none),
///   `vc_lengths` (JSON list), `protocol`, `temporal` (JSON object: method ->
///   {"pairs": [[key, fraction]...], "vc": {"n": [[video, vspw, strict, first key]...]}};
///   NaN written as -1), `instances` (JSON object: method -> weighted true
///   positives per class, false negatives per class, then the same per category).
public enum Shards {
    public static func write(_ evaluation: Evaluation, to path: String) throws {
        var writer = SafetensorsWriter()
        let k = evaluation.space.count
        for result in evaluation.results {
            let (method, c) = (result.name, result.counts)
            writer.add("confusion.\(method)", c.confusion.counts, shape: [k, k + 1])
            writer.add("band.\(method)", c.bandConfusion.counts, shape: [k, k + 1])
            if let f = c.flips, let b = c.bandFlips {
                writer.add("flips.\(method)", [f.fixed, f.broken, f.changedWrong, b.fixed, b.broken, b.changedWrong], shape: [2, 3])
            }
            writer.add("boundary.\(method)", c.boundaryIntersections + c.boundaryUnions, shape: [2, k])
            writer.add("flicker.\(method)", [c.temporal.changed, c.temporal.pixels], shape: [2])
        }
        func number(_ v: Double) -> JSONValue { .number(v.isNaN ? -1 : v) }
        let temporal = JSONValue.object(evaluation.results.map { result in
            let t = result.counts.temporal
            return (result.name, .object([
                ("pairs", .array(t.pairs.map { .array([.string($0.key), number($0.fraction)]) })),
                ("vc", .object(t.windows.keys.sorted().map { n in
                    ("\(n)", .array(t.windows[n]!.map { .array([.string($0.video), number($0.vspw), number($0.strict), .string($0.start)]) }))
                })),
            ]))
        })
        let frames = JSONValue.object(evaluation.results.map { result in
            (result.name, .array(result.counts.frames.map { .array([.string($0.key), .number($0.meanIoU.isNaN ? -1 : $0.meanIoU)]) }))
        })
        writer.metadata = [
            "segscope_shard": "1",
            "label_space": evaluation.space.name,
            "classes": JSONValue.array(evaluation.space.classNames.map { .string($0) }).serialized,
            "methods": JSONValue.array(evaluation.methods.map { .string($0) }).serialized,
            "reference": evaluation.reference ?? "",
            "band": String(evaluation.band),
            "files": JSONValue.array(evaluation.files.map { .string($0) }).serialized,
            "frames": frames.serialized,
            "missing": JSONValue.object(evaluation.results.filter { !$0.missing.isEmpty }.map { ($0.name, .array($0.missing.map { .string($0) })) }).serialized,
            "boundary_ratio": evaluation.boundaryRatio.map { "\($0)" } ?? "",
            "vc_lengths": JSONValue.array(evaluation.vcLengths.map { .number(Double($0)) }).serialized,
            "protocol": evaluation.evaluationProtocol.rawValue,
            "temporal": temporal.serialized,
            "instances": JSONValue.object(evaluation.results.filter { $0.counts.instances.present }.map { result in
                let i = result.counts.instances
                return (result.name, .array((i.truePositives + i.falseNegatives + i.categoryTruePositives + i.categoryFalseNegatives).map { .number($0) }))
            }).serialized,
        ]
        try writer.write(to: path)
    }

    public static func read(path: String, space: LabelSpace? = nil) throws -> Evaluation {
        let file = try SafetensorsFile(path: path)
        func bad(_ problem: String) -> EvaluationError { .shard(path: path, problem: problem) }
        let meta = file.metadata
        guard meta["segscope_shard"] == "1" else { throw bad("not a segscope confusion shard") }
        func list(_ key: String) throws -> [String] {
            guard let text = meta[key], let items = (try? JSON.parse(text))?.array else { throw bad("metadata '\(key)' is not a JSON list") }
            return items.compactMap(\.string)
        }
        let spaceName = meta["label_space"] ?? ""
        let resolved = space ?? LabelSpace.named(spaceName)
        guard let resolved else { throw bad("label space '\(spaceName)' is not built in; pass --label-space with its theme") }
        guard try list("classes") == resolved.classNames else { throw bad("classes differ from label space \(resolved.name)") }
        let methods = try list("methods")
        let k = resolved.count
        let referenceText = meta["reference"] ?? ""
        var missing: [String: [String]] = [:]
        for (method, keys) in (try? JSON.parse(meta["missing"] ?? "{}"))?.object ?? [] { missing[method] = keys.array?.compactMap(\.string) ?? [] }
        var results: [MethodResult] = []
        let frameTable = (try? JSON.parse(meta["frames"] ?? "{}")) ?? .object([])
        let temporalTable = (try? JSON.parse(meta["temporal"] ?? "{}")) ?? .object([])
        let instanceTable = (try? JSON.parse(meta["instances"] ?? "{}")) ?? .object([])
        for method in methods {
            var c = MethodCounts(classes: k, withFlips: file.tensor("flips.\(method)") != nil, categories: resolved.categories.count)
            for (name, shape) in [("confusion.\(method)", [k, k + 1]), ("band.\(method)", [k, k + 1])] {
                guard let t = file.tensor(name), t.shape == shape else { throw bad("tensor \(name) missing or not [\(k), \(k + 1)]") }
            }
            c.confusion = ConfusionMatrix(classes: k, counts: try file.int64s("confusion.\(method)"))
            c.bandConfusion = ConfusionMatrix(classes: k, counts: try file.int64s("band.\(method)"))
            if file.tensor("flips.\(method)") != nil {
                let f = try file.int64s("flips.\(method)")
                guard f.count == 6 else { throw bad("tensor flips.\(method) is not [2, 3]") }
                c.flips = FlipCounts(fixed: f[0], broken: f[1], changedWrong: f[2])
                c.bandFlips = FlipCounts(fixed: f[3], broken: f[4], changedWrong: f[5])
            }
            c.frames = (frameTable[method]?.array ?? []).compactMap { pair in
                guard let items = pair.array, items.count == 2, let key = items[0].string, let v = items[1].number else { return nil }
                return FrameScore(key: key, meanIoU: v < 0 ? .nan : v)
            }
            if file.tensor("boundary.\(method)") != nil {
                let b = try file.int64s("boundary.\(method)")
                guard b.count == 2 * k else { throw bad("tensor boundary.\(method) is not [2, \(k)]") }
                c.boundaryIntersections = Array(b[0..<k])
                c.boundaryUnions = Array(b[k...])
            }
            if file.tensor("flicker.\(method)") != nil {
                let f = try file.int64s("flicker.\(method)")
                guard f.count == 2 else { throw bad("tensor flicker.\(method) is not [2]") }
                (c.temporal.changed, c.temporal.pixels) = (f[0], f[1])
            }
            if let values = instanceTable[method]?.array?.compactMap(\.number) {
                let categories = resolved.categories.count
                guard values.count == 2 * k + 2 * categories else { throw bad("instances of \(method) do not hold \(2 * k + 2 * categories) numbers") }
                c.instances = InstanceCounts(classes: k, categories: categories)
                c.instances.truePositives = Array(values[0..<k])
                c.instances.falseNegatives = Array(values[k..<(2 * k)])
                c.instances.categoryTruePositives = Array(values[(2 * k)..<(2 * k + categories)])
                c.instances.categoryFalseNegatives = Array(values[(2 * k + categories)...])
                c.instances.present = true
            }
            let methodTemporal = temporalTable[method]
            c.temporal.pairs = (methodTemporal?["pairs"]?.array ?? []).compactMap { pair in
                guard let items = pair.array, items.count == 2, let key = items[0].string, let v = items[1].number else { return nil }
                return FlickerPair(key: key, fraction: v < 0 ? .nan : v)
            }
            for (n, list) in methodTemporal?["vc"]?.object ?? [] {
                guard let length = Int(n) else { throw bad("temporal vc key '\(n)' is not a window length") }
                c.temporal.windows[length] = (list.array ?? []).compactMap { entry in
                    guard let items = entry.array, items.count == 4, let video = items[0].string, let a = items[1].number, let b = items[2].number,
                          let start = items[3].string else { return nil }
                    return VCWindow(video: video, start: start, vspw: a < 0 ? .nan : a, strict: b < 0 ? .nan : b)
                }
            }
            results.append(MethodResult(name: method, counts: c, missing: missing[method] ?? []))
        }
        var evaluation = Evaluation(space: resolved, results: results, reference: referenceText.isEmpty ? nil : referenceText,
                                    band: Int(meta["band"] ?? "") ?? 0, files: try list("files"), notes: [])
        evaluation.boundaryRatio = (meta["boundary_ratio"]).flatMap { Double($0) }
        evaluation.vcLengths = ((try? JSON.parse(meta["vc_lengths"] ?? "[]"))?.array ?? []).compactMap { $0.number.map { Int($0) } }
        evaluation.evaluationProtocol = EvaluationProtocol(rawValue: meta["protocol"] ?? "") ?? .labelSpace
        return evaluation
    }

    /// Merges shards made with the same label space, methods and band over disjoint frames.
    public static func merge(_ shards: [(path: String, evaluation: Evaluation)]) throws -> Evaluation {
        guard var merged = shards.first?.evaluation else { throw EvaluationError.noMethods }
        var seen = Set(merged.files)
        for (path, shard) in shards.dropFirst() {
            guard shard.space.name == merged.space.name, shard.methods == merged.methods,
                  shard.reference == merged.reference, shard.band == merged.band, shard.boundaryRatio == merged.boundaryRatio,
                  shard.vcLengths == merged.vcLengths, shard.evaluationProtocol == merged.evaluationProtocol else {
                throw EvaluationError.shard(path: path, problem: "label space, methods, reference, band, Boundary IoU ratio, VC lengths or protocol differ from \(shards[0].path)")
            }
            if let repeated = shard.files.first(where: { seen.contains($0) }) {
                throw EvaluationError.shard(path: path, problem: "frame \(repeated) is already in another shard")
            }
            seen.formUnion(shard.files)
            // Same method names in the same order (checked above).
            for (i, result) in shard.results.enumerated() {
                merged.results[i].counts.merge(result.counts)
                merged.results[i].missing += result.missing
            }
            merged.files += shard.files
        }
        return merged
    }
}

extension FlipCounts {
    public init(fixed: Int64, broken: Int64, changedWrong: Int64) {
        self.init()
        self.fixed = fixed
        self.broken = broken
        self.changedWrong = changedWrong
    }
}
