import SegFormats
import SegLabels

/// IoU per frame or per sequence (`eval --per`): each scope's figures come
/// from the confusion matrices of its frames summed per method, over the
/// frames where that method's prediction was scored (the viewer's rule for
/// its frame, sequence, range and dataset scopes); mIoU by the evaluation's
/// protocol. A Δ compares a method with the reference over the frames of the
/// scope both have.
public struct ScopeReport {
    public enum Scope: String, CaseIterable, Sendable { case frame, sequence }

    /// One scope: its name and, per method, the summed matrix and frame count.
    public struct Row {
        public var name: String
        public var matrices: [ConfusionMatrix?]
        public var frames: [Int]
        /// Per compared method: its mIoU minus the reference's, over the frames of this scope both have.
        public var deltas: [Double]
    }

    public let evaluation: Evaluation
    public let scope: Scope

    public init(_ evaluation: Evaluation, per scope: Scope) {
        self.evaluation = evaluation
        self.scope = scope
    }

    func meanIoU(_ m: ConfusionMatrix?) -> Double {
        m.map { Metrics.meanIoU($0, protocol: evaluation.evaluationProtocol) } ?? .nan
    }

    /// The scopes in dataset order; throws when a shard did not keep per-frame matrices.
    public func rows() throws -> [Row] {
        let results = evaluation.results
        var order: [String] = []
        // Per scope, per method: frame key -> that frame's matrix.
        var byScope: [String: [[String: ConfusionMatrix]]] = [:]
        for (m, result) in results.enumerated() {
            for frame in result.counts.frames {
                guard let matrix = frame.confusion else {
                    throw EvaluationError.shard(
                        path: "--per",
                        problem: "these counts hold no per-frame confusion matrices (a shard from an older segscope)")
                }
                let name = scope == .frame ? frame.key : frame.sequence
                if byScope[name] == nil {
                    order.append(name)
                    byScope[name] = Array(repeating: [:], count: results.count)
                }
                byScope[name]![m][frame.key] = matrix
            }
        }
        let referenceIndex = evaluation.reference.flatMap { r in results.firstIndex { $0.name == r } }
        func sum(_ frames: [String: ConfusionMatrix], only keys: Set<String>? = nil) -> ConfusionMatrix? {
            var total: ConfusionMatrix?
            for (key, m) in frames where keys?.contains(key) ?? true {
                if total == nil { total = ConfusionMatrix(classes: m.classes) }
                total!.merge(m)
            }
            return total
        }
        return order.map { name in
            let perMethod = byScope[name]!
            let deltas = evaluation.others.map { other -> Double in
                guard let r = referenceIndex, let m = results.firstIndex(where: { $0.name == other.name }) else {
                    return .nan
                }
                let both = Set(perMethod[m].keys).intersection(perMethod[r].keys)
                return meanIoU(sum(perMethod[m], only: both)) - meanIoU(sum(perMethod[r], only: both))
            }
            return Row(name: name, matrices: perMethod.map { sum($0) }, frames: perMethod.map(\.count), deltas: deltas)
        }
    }

    public func render(_ format: Report.Format) throws -> String {
        let rows = try rows()
        let base = Report(evaluation)
        let methods = evaluation.methods
        let deltaNames = evaluation.others.map { "Δ \($0.name)-\(evaluation.reference ?? "")" }
        let footer =
            "mIoU per \(scope.rawValue): the \(scope.rawValue)'s confusion matrices summed per method over the frames "
            + "where its prediction was scored (frames: n per method); Δ over the frames of the \(scope.rawValue) "
            + "both methods have\n"
        switch format {
        case .json:
            let number = Report.number
            let scopes: [JSONValue] = rows.map { row in
                .object([
                    ("name", .string(row.name)),
                    ("frames", .object(zip(methods, row.frames).map { ($0, .number(Double($1))) })),
                    ("miou", .object(zip(methods, row.matrices).map { ($0, number(meanIoU($1))) })),
                    ("delta_miou", .object(zip(evaluation.others, row.deltas).map { ($0.name, number($1)) })),
                    (
                        "iou",
                        .object(
                            zip(methods, row.matrices).map { method, m in
                                (method, m.map { base.perClass(Metrics($0).iou) } ?? .null)
                            })
                    ),
                ])
            }
            return JSONValue.object([
                ("per", .string(scope.rawValue)), ("label_space", .string(evaluation.space.name)),
                ("protocol", .string(evaluation.evaluationProtocol.rawValue)),
                ("reference", evaluation.reference.map { .string($0) } ?? .null),
                ("scopes", .array(scopes)), ("aggregation", .string(String(footer.dropLast()))),
            ]).pretty + "\n"
        case .csv:
            var lines = [
                (["scope", "name", "class"] + methods + evaluation.others.map { "delta_" + $0.name }).map(base.csvText)
                    .joined(separator: ",")
            ]
            for row in rows {
                let prefix = [scope.rawValue, base.csvText(row.name)]
                let empty = evaluation.others.map { _ in "" }
                lines.append((prefix + ["frames"] + row.frames.map { "\($0)" } + empty).joined(separator: ","))
                lines.append(
                    (prefix + ["mIoU"] + row.matrices.map { base.csvNumber(meanIoU($0)) }
                        + row.deltas.map(base.csvNumber))
                        .joined(separator: ","))
                for (c, name) in evaluation.space.classNames.enumerated() {
                    let values = row.matrices.map { m in m.map { Metrics($0).iou[c] } ?? .nan }
                    lines.append(
                        (prefix + [base.csvText(name)] + values.map(base.csvNumber) + empty).joined(separator: ","))
                }
            }
            return lines.joined(separator: "\n") + "\n"
        case .text, .markdown, .ablation:
            let header =
                [scope.rawValue] + methods.map(base.text) + deltaNames.map(base.text) + [
                    "frames (" + methods.map(base.text).joined(separator: "/") + ")"
                ]
            let cells = rows.map { row in
                [base.text(row.name)] + row.matrices.map { base.percent(meanIoU($0)) }
                    + row.deltas.map(base.signedPercent)
                    + [row.frames.map(String.init).joined(separator: "/")]
            }
            var out = ""
            if format == .text {
                var widths = header.map(\.count)
                for row in cells { for (i, c) in row.enumerated() { widths[i] = max(widths[i], c.count) } }
                func line(_ row: [String]) -> String {
                    row.enumerated().map { i, c in
                        let pad = String(repeating: " ", count: widths[i] - c.count)
                        return i == 0 ? c + pad : pad + c
                    }.joined(separator: "  ")
                }
                out += "mIoU (%) per \(scope.rawValue), \(evaluation.space.name)\n" + line(header) + "\n"
                out += String(repeating: "-", count: widths.reduce(0, +) + 2 * (widths.count - 1)) + "\n"
                out += cells.map(line).joined(separator: "\n") + "\n\n" + footer
            } else {
                out +=
                    "| " + header.joined(separator: " | ") + " |\n|"
                    + header.indices.map { $0 == 0 ? " --- |" : " ---: |" }.joined() + "\n"
                out += cells.map { "| " + $0.joined(separator: " | ") + " |\n" }.joined() + "\n- " + footer
            }
            return out
        }
    }
}
