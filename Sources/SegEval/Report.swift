import SegFormats
import SegLabels

/// Renders an `Evaluation` as the tables researchers publish.
public struct Report {
    /// `ablation`: one row per method (the form of the paper's Table 3);
    /// text and markdown: one row per class (the form of its Table 5).
    public enum Format: String, CaseIterable, Sendable { case text, markdown, csv, json, ablation }

    public let evaluation: Evaluation
    /// Emphasis of the best values in text tables.
    public var style: any TextStyling

    public init(_ evaluation: Evaluation, style: any TextStyling = PlainStyling()) {
        self.evaluation = evaluation
        self.style = style
    }

    public static let meanIoUNote =
        "mIoU is the mean of per-class IoU over the dataset-wide confusion matrix (not a mean of per-frame mIoU)"

    /// How each figure is aggregated and over which frames, one line each, for every table.
    var rules: [String] {
        MetricRegistry.units.flatMap { $0.rules(self) } + coverage
    }

    /// Over how many frames each method was scored, and each Δ.
    var coverage: [String] {
        let scored = results.map { "\(text($0.name)) \($0.counts.frames.count)" }.joined(separator: ", ")
        var lines = ["frames scored: \(scored) (of \(evaluation.framesWithGroundTruth) with ground truth)"]
        if let scope = evaluation.scopeDescription { lines.append("scope: \(text(scope))") }
        if let reference = evaluation.reference, !others.isEmpty {
            let shared = others.map { "\(text($0.name)) \($0.shared.map { "\($0.frames)" } ?? "all its")" }
                .joined(separator: ", ")
            lines.append("Δ and flips: each method against \(text(reference)) over the frames both have (\(shared))")
        }
        if !evaluation.unreadable.isEmpty {
            lines.append("left out as unreadable: \(evaluation.unreadable.count) file(s), listed as warnings")
        }
        return lines
    }

    func meanIoU(_ result: MethodResult) -> Double {
        Metrics.meanIoU(result.counts.confusion, protocol: evaluation.evaluationProtocol)
    }

    var classNames: [String] { evaluation.space.classNames.map(text) }
    var results: [MethodResult] { evaluation.results }
    var others: [MethodResult] { evaluation.others }
    var referenceIndex: Int? { evaluation.reference.flatMap { r in results.firstIndex { $0.name == r } } }

    /// `pick(result) - pick(reference)`, both over the frames the two have
    /// (over each one's own frames for a shard that did not keep them).
    func delta(_ result: MethodResult, _ pick: (MethodResult) -> Double) -> Double {
        guard let reference = evaluation.referenceResult else { return .nan }
        guard let shared = result.shared else { return pick(result) - pick(reference) }
        return pick(MethodResult(name: result.name, counts: shared.method, missing: []))
            - pick(MethodResult(name: reference.name, counts: shared.reference, missing: []))
    }

    /// A string that did not come from segscope (a method, key, class or file
    /// name), with control characters escaped so it cannot drive a terminal.
    public func text(_ raw: String) -> String { Report.printable(raw) }

    public static func printable(_ raw: String) -> String {
        var out = ""
        for scalar in raw.unicodeScalars {
            if scalar.value < 0x20 || (0x7f..<0xa0).contains(scalar.value) {
                out += "\\u{" + String(scalar.value, radix: 16) + "}"
            } else {
                out.unicodeScalars.append(scalar)
            }
        }
        return out
    }

    public static func number(_ v: Double) -> JSONValue { v.isNaN ? .null : .number(v) }
    func perClass(_ values: [Double]) -> JSONValue {
        .object(zip(evaluation.space.classNames, values).map { ($0, Report.number($1)) })
    }

    public func render(_ format: Format) -> String {
        switch format {
        case .json: return json().pretty + "\n"
        case .csv: return csv()
        case .markdown: return table(markdown: true)
        case .text: return table(markdown: false)
        case .ablation: return ablationTable()
        }
    }

    /// Methods as rows: mIoU, its change against the reference, boundary-band
    /// mIoU and pixel accuracy, as a markdown table.
    func ablationTable() -> String {
        var out =
            "| method | mIoU (%) | Δ mIoU | band mIoU (%) | pixel acc (%) |\n| --- | ---: | ---: | ---: | ---: |\n"
        for result in results {
            let m = result.metrics
            let delta = result.name == evaluation.reference ? "" : signedPercent(self.delta(result, meanIoU))
            let band = evaluation.band > 0 ? percent(result.bandMetrics.meanIoU) : "-"
            out +=
                "| \(text(result.name)) | \(percent(meanIoU(result))) | \(delta) | \(band) "
                + "| \(percent(m.pixelAccuracy)) |\n"
        }
        return out + "\nIoU on \(evaluation.files.count) frames.\n" + rules.map { "- " + $0 + "\n" }.joined()
    }

    // MARK: JSON (schema documented in man segscope, EVAL JSON)

    public func json() -> JSONValue {
        let number = Report.number
        let methods: [(String, JSONValue)] = results.map { result in
            (result.name, .object(MetricRegistry.units.flatMap { $0.jsonEntries(self, result) }))
        }
        let deltas: [(String, JSONValue)] = others.map { result in
            var d: [(String, JSONValue)] = evaluation.space.classNames.indices.map { c in
                (evaluation.space.classNames[c], number(delta(result, { $0.metrics.iou[c] })))
            }
            d.append(("miou", number(delta(result, meanIoU))))
            return (result.name, .object(d))
        }
        let coverage: JSONValue = .object([
            ("frames_with_gt", .number(Double(evaluation.framesWithGroundTruth))),
            ("scored", .object(results.map { ($0.name, .number(Double($0.counts.frames.count))) })),
            (
                "shared_with_reference",
                .object(others.compactMap { r in r.shared.map { (r.name, .number(Double($0.frames))) } })
            ),
            (
                "unreadable",
                .array(
                    evaluation.unreadable.map { file in
                        .object([("path", .string(file.path)), ("reason", .string(file.reason))])
                    })
            ),
        ])
        var top: [(String, JSONValue)] = [
            ("label_space", .string(evaluation.space.name)),
            ("classes", .array(evaluation.space.classNames.map { .string($0) })),
            ("methods", .object(methods)),
            ("reference", evaluation.reference.map { .string($0) } ?? .null),
            ("deltas", .object(deltas)),
        ]
        top += MetricRegistry.units.flatMap { $0.jsonComparison(self) }
        let missing: [(String, JSONValue)] = results.filter { !$0.missing.isEmpty }
            .map { ($0.name, .number(Double($0.missing.count))) }
        top += [
            ("band", .number(Double(evaluation.band))),
            ("boundary_ratio", evaluation.boundaryRatio.map { .number($0) } ?? .null),
            ("protocol", .string(evaluation.evaluationProtocol.rawValue)),
            ("missing", .object(missing)),
            ("coverage", coverage),
            ("aggregation", .array(rules.map { .string($0) })),
            ("note", .string(Report.meanIoUNote)),
        ]
        return .object(top)
    }

    // MARK: CSV

    /// One rectangular table: `kind,name`, a column per method, then a
    /// `delta_<method>` column per compared method (method − reference, over
    /// the frames both have). Kinds: `class` (IoU), `summary` (mIoU,
    /// accuracies, band mIoU...), `coverage` (frames scored, frames shared
    /// with the reference), `boundary`, `iiou`, `category_iiou`, `category`
    /// (Cityscapes category IoU), `flips` (pixel counts against the
    /// reference, all pixels and in the band; the reference's cell is empty)
    /// and `frame` (per-frame mIoU). Empty cells are NaN or not applicable;
    /// ratios are fractions.
    func csv() -> String {
        let header = ["kind", "name"] + evaluation.methods.map(csvText) + others.map { csvText("delta_" + $0.name) }
        var rows = MetricRegistry.units.flatMap { $0.csvRows(self) }
        let summary = summaryRows().map { row in valueRow(.detail, "summary", row.label, row.value) }
        let coverage = [
            CSVRow(
                .detail,
                cells: ["coverage", "frames scored"] + results.map { "\($0.counts.frames.count)" }
                    + others.map { _ in "" }),
            CSVRow(
                .detail,
                cells: ["coverage", "frames shared with reference"]
                    + results.map { r in r.shared.map { "\($0.frames)" } ?? "" } + others.map { _ in "" }),
        ]
        // Stable: within a section, rows keep the registry's order.
        let classes = rows.filter { $0.section == .classes }
        rows =
            classes + summary + coverage
            + rows.filter { $0.section != .classes }.enumerated()
            .sorted { ($0.element.section, $0.offset) < ($1.element.section, $1.offset) }.map(\.element)
        return ([header] + rows.map(\.cells)).map { $0.joined(separator: ",") }.joined(separator: "\n") + "\n"
    }

    /// A CSV row of ratios: each method's value, then each compared method's Δ over shared frames.
    public func valueRow(
        _ section: CSVRow.Section, _ kind: String, _ name: String,
        _ pick: (MethodResult) -> Double
    ) -> CSVRow {
        CSVRow(
            section,
            cells: [kind, csvText(name)] + results.map { csvNumber(pick($0)) }
                + others.map { csvNumber(delta($0, pick)) })
    }

    func csvNumber(_ v: Double) -> String { v.isNaN ? "" : format6(v) }

    /// Quoted when it holds a comma or a quote; control characters escaped.
    func csvText(_ raw: String) -> String {
        let name = text(raw)
        guard name.contains(",") || name.contains("\"") else { return name }
        return "\"" + name.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }

    func format6(_ v: Double) -> String {
        let scaled = (v * 1_000_000).rounded() / 1_000_000
        return "\(scaled)"
    }

    /// Rows under the per-class table: a label and each method's value.
    func summaryRows() -> [SummaryRow] { MetricRegistry.units.flatMap { $0.summaryRows(self) } }

    // MARK: text and markdown tables

    func percent(_ v: Double) -> String {
        guard !v.isNaN else { return "-" }
        let tenths = Int((v * 1000).rounded())
        return "\(tenths / 10).\(abs(tenths % 10))"
    }

    func signedPercent(_ v: Double) -> String {
        guard !v.isNaN else { return "-" }
        let tenths = Int((v * 1000).rounded())
        let sign = tenths > 0 ? "+" : tenths < 0 ? "-" : " "
        return "\(sign)\(abs(tenths) / 10).\(abs(tenths) % 10)"
    }

    func table(markdown: Bool) -> String {
        var header = ["class"] + evaluation.methods.map(text)
        if let reference = evaluation.reference { header += others.map { "Δ \(text($0.name))-\(text(reference))" } }
        var rows: [[String]] = []
        var best: [Set<Int>] = []
        func row(_ label: String, _ values: [Double], deltas: [Double], lowerIsBetter: Bool = false) {
            let values = lowerIsBetter ? values.map { -$0 } : values
            let valid = values.enumerated().filter { !$0.element.isNaN }
            // A best is marked only where it means something: above zero (as
            // shown, 0.0 is no class found) and not shared by every method.
            let shown = valid.map { (offset: $0.offset, value: percent($0.element)) }
            let top = valid.map(\.element).max().map(percent)
            let winners = shown.filter { $0.value == top }
            let meaningful = values.count > 1 && top != nil && top != "0.0" && winners.count < values.count
            best.append(meaningful ? Set(winners.map { $0.offset + 1 }) : [])
            rows.append([label] + values.map { percent(lowerIsBetter ? -$0 : $0) } + deltas.map(signedPercent))
        }
        for (c, name) in classNames.enumerated() {
            row(name, results.map { $0.metrics.iou[c] }, deltas: others.map { delta($0, { $0.metrics.iou[c] }) })
        }
        let separatorIndex = rows.count
        for summary in summaryRows() {
            row(
                summary.label, results.map(summary.value), deltas: others.map { delta($0, summary.value) },
                lowerIsBetter: summary.lowerIsBetter)
        }
        var out = ""
        if markdown {
            out += "| " + header.joined(separator: " | ") + " |\n"
            out += "|" + header.indices.map { $0 == 0 ? " --- |" : " ---: |" }.joined() + "\n"
            for (r, cells) in rows.enumerated() {
                let marked = cells.enumerated().map { best[r].contains($0.offset) ? "**\($0.element)**" : $0.element }
                out += "| " + marked.joined(separator: " | ") + " |\n"
            }
        } else {
            var widths = header.map(\.count)
            for cells in rows { for (i, c) in cells.enumerated() { widths[i] = max(widths[i], c.count + 1) } }
            func line(_ cells: [String], best: Set<Int>) -> String {
                cells.enumerated().map { i, cell in
                    let marked = best.contains(i) ? cell + "*" : cell
                    let padded =
                        i == 0
                        ? marked + String(repeating: " ", count: widths[0] - marked.count)
                        : String(repeating: " ", count: max(0, widths[i] - marked.count)) + marked
                    return best.contains(i) ? style.bold(padded) : padded
                }.joined(separator: "  ")
            }
            out += "IoU (%) on \(evaluation.files.count) frames, \(evaluation.space.name); * = best per row"
            if let reference = evaluation.reference, !others.isEmpty {
                out += "; Δ over the frames each method shares with \(text(reference))"
            }
            out += "\n"
            out += line(header, best: []) + "\n"
            let rule = String(repeating: "-", count: widths.reduce(0, +) + 2 * (widths.count - 1))
            out += rule + "\n"
            for (r, cells) in rows.enumerated() {
                if r == separatorIndex { out += rule + "\n" }
                out += line(cells, best: best[r]) + "\n"
            }
        }
        let sections = MetricRegistry.units.compactMap { $0.textSection(self, markdown: markdown) }
        out += (sections.filter(\.comparison) + sections.filter { !$0.comparison }).map(\.text).joined()
        out += "\n" + rules.map { (markdown ? "- " : "") + $0 + "\n" }.joined()
        return out
    }

    /// Row-normalised confusion matrix in percent, abbreviated so 19 classes fit in 120 columns.
    public func confusionTable(_ result: MethodResult) -> String {
        let (method, m) = (text(result.name), result.counts.confusion)
        let k = m.classes
        let names = classNames.map { String($0.replacingOccurrences(of: "traffic ", with: "t.").prefix(4)) }
        var out =
            "Confusion of \(method), % of each ground-truth row (columns: predicted; 'oth' = no evaluated class)\n"
        out +=
            String(repeating: " ", count: 13)
            + (names + ["oth"]).map { String(repeating: " ", count: 5 - $0.count) + $0 }.joined() + "\n"
        for g in 0..<k {
            let total = m.rowTotal(g)
            let label = String(classNames[g].prefix(12))
            out += label + String(repeating: " ", count: 13 - label.count)
            for p in 0...k {
                let text =
                    total == 0 ? "-" : m[g, p] == 0 ? "." : "\(Int((Double(m[g, p]) / Double(total) * 100).rounded()))"
                out += String(repeating: " ", count: 5 - text.count) + text
            }
            out += "\n"
        }
        return out
    }
}
