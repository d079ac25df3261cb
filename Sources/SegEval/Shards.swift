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
/// - compared methods' counts over the frames they share with the reference,
///   the same tensors and entries under `<method>|shared` and
///   `<method>|shared-reference`; each frame's confusion: `frames.<method>`
///   I64 [F, K, K+1];
/// - metadata: `segscope_shard` = "1", `label_space`, `classes` (JSON list),
///   `methods` (JSON list, in order), `reference`, `band`, `files` (JSON list
///   of ground-truth files), `frames` (JSON object: method -> [[key, mIoU], ...]),
///   `missing` (JSON object: method -> [keys]), `boundary_ratio` (empty: none),
///   `vc_lengths` (JSON list), `protocol`, `temporal` (JSON object: method ->
///   {"pairs": [[key, fraction]...], "vc": {"n": [[video, vspw, strict, first key]...]}};
///   NaN written as -1), `instances` (JSON object: method -> weighted true
///   positives per class, false negatives per class, then the same per category),
///   `frames_with_gt`, `unreadable` (JSON list of [path, reason]).
/// Each metric's part is written and read by its `MetricUnit`; reading checks
/// every count (no negative, no sum beyond Int64) and names the shard file.
public enum Shards {
    /// Metadata keys holding per-method JSON objects (written by metric units).
    static let tableKeys = ["frames", "temporal", "instances"]
    /// Shard names of a compared method's counts over the frames it shares with the reference.
    static func sharedName(_ method: String) -> String { method + "|shared" }
    static func sharedReferenceName(_ method: String) -> String { method + "|shared-reference" }

    public static func write(_ evaluation: Evaluation, to path: String) throws {
        var shard = ShardWriter()
        func add(_ counts: MethodCounts, as name: String) {
            for unit in MetricRegistry.units {
                if let c = counts.units[unit.name] { c.write(method: name, to: &shard) }
            }
        }
        for result in evaluation.results {
            add(result.counts, as: result.name)
            if let shared = result.shared {
                add(shared.method, as: sharedName(result.name))
                add(shared.reference, as: sharedReferenceName(result.name))
            }
        }
        var writer = shard.tensors
        for key in shard.keyOrder { writer.metadata[key] = JSONValue.object(shard.perMethod[key]!).serialized }
        for key in tableKeys where writer.metadata[key] == nil { writer.metadata[key] = "{}" }
        writer.metadata.merge([
            "segscope_shard": "1",
            "label_space": evaluation.space.name,
            "classes": JSONValue.array(evaluation.space.classNames.map { .string($0) }).serialized,
            "methods": JSONValue.array(evaluation.methods.map { .string($0) }).serialized,
            "reference": evaluation.reference ?? "",
            "band": String(evaluation.band),
            "files": JSONValue.array(evaluation.files.map { .string($0) }).serialized,
            "frames_with_gt": String(evaluation.framesWithGroundTruth),
            "unreadable": JSONValue.array(evaluation.unreadable.map { .array([.string($0.path), .string($0.reason)]) })
                .serialized,
            "missing": JSONValue.object(
                evaluation.results.filter { !$0.missing.isEmpty }.map {
                    ($0.name, .array($0.missing.map { .string($0) }))
                }
            ).serialized,
            "boundary_ratio": evaluation.boundaryRatio.map { "\($0)" } ?? "",
            "vc_lengths": JSONValue.array(evaluation.vcLengths.map { .number(Double($0)) }).serialized,
            "protocol": evaluation.evaluationProtocol.rawValue,
        ]) { _, new in new }
        try writer.write(to: path)
    }

    /// Largest band a shard may name (as `eval --band` allows).
    static let largestBand = 255

    public static func read(path: String, space: LabelSpace? = nil) throws -> Evaluation {
        let file = try SafetensorsFile(path: path)
        func bad(_ problem: String) -> EvaluationError { .shard(path: path, problem: problem) }
        let meta = file.metadata
        guard meta["segscope_shard"] == "1" else { throw bad("not a segscope confusion shard") }
        func list(_ key: String) throws -> [String] {
            guard let text = meta[key], let items = (try? JSON.parse(text))?.array else {
                throw bad("metadata '\(key)' is not a JSON list")
            }
            return try items.map { item in
                guard let s = item.string else { throw bad("metadata '\(key)' holds a value that is not a string") }
                return s
            }
        }
        let spaceName = meta["label_space"] ?? ""
        let resolved = space ?? LabelSpace.named(spaceName)
        guard let resolved else {
            throw bad("label space '\(spaceName)' is not built in; pass --label-space with its theme")
        }
        guard try list("classes") == resolved.classNames else {
            throw bad("classes differ from label space \(resolved.name)")
        }
        let methods = try list("methods")
        guard Set(methods).count == methods.count else { throw bad("metadata 'methods' names a method twice") }
        let referenceText = meta["reference"] ?? ""
        let reference = referenceText.isEmpty ? nil : referenceText
        if let reference, !methods.contains(reference) {
            throw bad("reference '\(reference)' is not one of the methods")
        }
        var missing: [String: [String]] = [:]
        for (method, keys) in (try? JSON.parse(meta["missing"] ?? "{}"))?.object ?? [] {
            missing[method] = keys.array?.compactMap(\.string) ?? []
        }
        let reader = try ShardReader(path: path, file: file, keys: tableKeys)
        func counts(_ name: String, compared: Bool) throws -> MethodCounts {
            let setup = MetricSetup(space: resolved, compared: compared)
            var c = MethodCounts(setup)
            c.units = [:]
            for unit in MetricRegistry.units {
                if let value = try unit.read(method: name, from: reader, setup: setup) { c.units[unit.name] = value }
            }
            return c
        }
        var results: [MethodResult] = []
        for method in methods {
            let compared = reference != nil && method != reference
            var result = MethodResult(
                name: method, counts: try counts(method, compared: compared),
                missing: missing[method] ?? [])
            if compared && file.tensor("confusion.\(sharedName(method))") != nil {
                result.shared = SharedCounts(
                    method: try counts(sharedName(method), compared: true),
                    reference: try counts(sharedReferenceName(method), compared: false))
            }
            results.append(result)
        }
        guard let band = Int(meta["band"] ?? ""), (0...largestBand).contains(band) else {
            throw bad("metadata 'band' is not a width in 0...\(largestBand)")
        }
        var evaluation = Evaluation(
            space: resolved, results: results, reference: reference, band: band,
            files: try list("files"), notes: [])
        if let text = meta["boundary_ratio"], !text.isEmpty {
            guard let ratio = Double(text), ratio > 0 && ratio < 1 else {
                throw bad("metadata 'boundary_ratio' is not in (0, 1)")
            }
            evaluation.boundaryRatio = ratio
        }
        guard let lengths = (try? JSON.parse(meta["vc_lengths"] ?? "[]"))?.array else {
            throw bad("metadata 'vc_lengths' is not a JSON list")
        }
        evaluation.vcLengths = try lengths.map { value in
            guard let n = value.number, n.rounded() == n, n >= 2, n <= Double(TemporalCounts.longestWindow) else {
                throw bad(
                    "metadata 'vc_lengths' holds \(value.serialized), "
                        + "not a window length in 2...\(TemporalCounts.longestWindow)")
            }
            return Int(n)
        }
        evaluation.evaluationProtocol = EvaluationProtocol(rawValue: meta["protocol"] ?? "") ?? .labelSpace
        if let text = meta["frames_with_gt"] {
            // At least the frames scored, and few enough that shards add up without overflow.
            guard let n = Int(text), (evaluation.files.count...Int(Int32.max)).contains(n) else {
                throw bad(
                    "metadata 'frames_with_gt' is not a frame count of at least "
                        + "the \(evaluation.files.count) files")
            }
            evaluation.framesWithGroundTruth = n
        } else {
            evaluation.framesWithGroundTruth = evaluation.files.count
        }
        evaluation.unreadable = ((try? JSON.parse(meta["unreadable"] ?? "[]"))?.array ?? []).compactMap { entry in
            guard let items = entry.array, items.count == 2, let path = items[0].string, let reason = items[1].string
            else { return nil }
            return UnreadableFile(path: path, reason: reason)
        }
        return evaluation
    }

    /// Merges shards made with the same label space, methods and band over disjoint frames.
    public static func merge(_ shards: [(path: String, evaluation: Evaluation)]) throws -> Evaluation {
        guard var merged = shards.first?.evaluation else { throw EvaluationError.noMethods }
        var seen = Set(merged.files)
        for (path, shard) in shards.dropFirst() {
            guard shard.space.name == merged.space.name, shard.methods == merged.methods,
                shard.reference == merged.reference, shard.band == merged.band,
                shard.boundaryRatio == merged.boundaryRatio,
                shard.vcLengths == merged.vcLengths, shard.evaluationProtocol == merged.evaluationProtocol
            else {
                throw EvaluationError.shard(
                    path: path,
                    problem:
                        "label space, methods, reference, band, Boundary IoU ratio, VC lengths or protocol differ from \(shards[0].path)"
                )
            }
            if let repeated = shard.files.first(where: { seen.contains($0) }) {
                throw EvaluationError.shard(path: path, problem: "frame \(repeated) is already in another shard")
            }
            seen.formUnion(shard.files)
            // Same method names in the same order (checked above).
            for (i, result) in shard.results.enumerated() {
                let failure = mergeCounts(into: &merged.results[i], result)
                if let failure { throw EvaluationError.shard(path: path, problem: "\(result.name): \(failure)") }
                merged.results[i].missing += result.missing
            }
            merged.files += shard.files
            merged.framesWithGroundTruth += shard.framesWithGroundTruth
            merged.unreadable += shard.unreadable
        }
        return merged
    }
}

extension Shards {
    /// Adds one shard's counts of a method; the overflow, if any, as a value.
    static func mergeCounts(into merged: inout MethodResult, _ result: MethodResult) -> MetricError? {
        do {
            try merged.counts.merge(result.counts)
            if let other = result.shared, merged.shared != nil {
                try merged.shared!.merge(other)
            } else {
                merged.shared = nil
            }
            return nil
        } catch {
            return error
        }
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
