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

    public static let meanIoUNote = "mIoU is the mean of per-class IoU over the dataset-wide confusion matrix (not a mean of per-frame mIoU)"

    /// How each figure is aggregated, one line each, for every table.
    var rules: [String] {
        var lines = [evaluation.evaluationProtocol.rule]
        if evaluation.band > 0 { lines.append("band mIoU: the same, on pixels within \(evaluation.band) px (Chebyshev) of a ground-truth class boundary") }
        if let r = evaluation.boundaryRatio {
            lines.append("Boundary IoU (Cheng et al. 2021): boundaries of width max(1, round(\(r) x image diagonal)), intersections and unions summed over the dataset per class, then averaged over classes")
        }
        if results.contains(where: { $0.counts.instances.present }) {
            lines.append("iIoU: cityscapesScripts' instance-level IoU, each GT instance weighted by its class's average size over its own, counts summed over the dataset")
        }
        if hasFlicker { lines.append("flicker: pixels whose predicted class changes between adjacent frames of a sequence / all pixels of those pairs (pooled)") }
        if !vcLengths.isEmpty {
            lines.append("mVC n: VSPW's VC_perclip, mean over all windows of all videos (videos of <= n frames skipped); strict: the prediction must also equal the GT, void left out")
        }
        return lines
    }

    var hasFlicker: Bool { results.contains { $0.counts.temporal.pixels > 0 } }
    /// Window lengths some method has VC windows for.
    var vcLengths: [Int] { evaluation.vcLengths.filter { n in results.contains { !($0.counts.temporal.windows[n] ?? []).isEmpty } } }
    func meanIoU(_ result: MethodResult) -> Double { Metrics.meanIoU(result.counts.confusion, protocol: evaluation.evaluationProtocol) }

    var classNames: [String] { evaluation.space.classNames }
    var results: [MethodResult] { evaluation.results }
    var others: [MethodResult] { evaluation.others }

    func delta(_ result: MethodResult, _ c: Int) -> Double {
        guard let reference = evaluation.referenceResult else { return .nan }
        return result.metrics.iou[c] - reference.metrics.iou[c]
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
        var out = "| method | mIoU (%) | Δ mIoU | band mIoU (%) | pixel acc (%) |\n| --- | ---: | ---: | ---: | ---: |\n"
        let referenceIoU = evaluation.referenceResult.map(meanIoU) ?? .nan
        for result in results {
            let m = result.metrics
            let delta = result.name == evaluation.reference ? "" : signedPercent(meanIoU(result) - referenceIoU)
            let band = evaluation.band > 0 ? percent(result.bandMetrics.meanIoU) : "-"
            out += "| \(result.name) | \(percent(meanIoU(result))) | \(delta) | \(band) | \(percent(m.pixelAccuracy)) |\n"
        }
        return out + "\nIoU on \(evaluation.files.count) frames.\n" + rules.map { "- " + $0 + "\n" }.joined()
    }

    // MARK: JSON (schema documented in man segscope, EVAL JSON)

    public func json() -> JSONValue {
        func number(_ v: Double) -> JSONValue { v.isNaN ? .null : .number(v) }
        func perClass(_ values: [Double]) -> JSONValue { .object(zip(classNames, values).map { ($0, number($1)) }) }
        var methods: [(String, JSONValue)] = []
        for result in results {
            let (m, b, counts) = (result.metrics, result.bandMetrics, result.counts)
            var entry: [(String, JSONValue)] = [
                ("miou", number(meanIoU(result))), ("pixel_acc", number(m.pixelAccuracy)), ("mean_acc", number(m.meanAccuracy)),
                ("fwiou", number(m.frequencyWeightedIoU)), ("iou", perClass(m.iou)), ("band_iou", perClass(b.iou)),
                ("band_miou", number(b.meanIoU)), ("frames", .number(Double(counts.frames.count))),
                ("per_frame_miou", .object(counts.frames.map { ($0.key, number($0.meanIoU)) })),
            ]
            if evaluation.boundaryRatio != nil {
                entry.append(("boundary_iou", perClass(counts.boundaryIoU)))
                entry.append(("boundary_miou", number(Metrics.mean(counts.boundaryIoU))))
            }
            let t = counts.temporal
            if t.pixels > 0 {
                entry.append(("flicker", .object([("overall", number(t.flicker)), ("pairs", .number(Double(t.pairs.count))),
                                                  ("per_pair", .object(t.pairs.map { ($0.key, number($0.fraction)) }))])))
            }
            if !vcLengths.isEmpty {
                entry.append(("vc", .object(vcLengths.map { n in
                    let windows = t.windows[n] ?? []
                    var videos: [(String, JSONValue)] = []
                    for video in Array(Set(windows.map(\.video))).sorted() {
                        let mine = windows.filter { $0.video == video }
                        videos.append((video, .object([("vspw", number(Metrics.mean(mine.map(\.vspw)))), ("strict", number(Metrics.mean(mine.map(\.strict))))])))
                    }
                    return ("\(n)", .object([("vspw", number(t.meanVC(n, strict: false))), ("strict", number(t.meanVC(n, strict: true))),
                                              ("windows", .number(Double(windows.count))), ("videos", .object(videos))]))
                })))
            }
            if counts.instances.present {
                let perClass = InstanceIoU.perClass(counts.instances, confusion: counts.confusion, space: evaluation.space)
                let instanceClasses = evaluation.space.classes.indices.filter { evaluation.space.classes[$0].hasInstances }
                entry.append(("iiou", number(Metrics.mean(perClass))))
                entry.append(("class_iiou", .object(instanceClasses.map { (classNames[$0], number(perClass[$0])) })))
                let perCategory = InstanceIoU.perCategory(counts.instances, confusion: counts.confusion, space: evaluation.space)
                entry.append(("category_iiou", .object(InstanceIoU.categories(evaluation.space).map { (evaluation.space.categories[$0], number(perCategory[$0])) })))
            }
            if evaluation.space.name == "cityscapes" {
                entry.append(("category_iou", .object(Metrics.categoryIoU(counts.confusion, space: evaluation.space).map { ($0.category, number($0.iou)) })))
            }
            methods.append((result.name, .object(entry)))
        }
        var deltas: [(String, JSONValue)] = []
        var flips: [(String, JSONValue)] = []
        for result in others {
            var d: [(String, JSONValue)] = classNames.indices.map { (classNames[$0], number(delta(result, $0))) }
            d.append(("miou", number(meanIoU(result) - (evaluation.referenceResult.map(meanIoU) ?? .nan))))
            deltas.append((result.name, .object(d)))
            if let f = result.counts.flips, let b = result.counts.bandFlips {
                func counts(_ f: FlipCounts) -> JSONValue {
                    .object([("fixed", .number(Double(f.fixed))), ("broken", .number(Double(f.broken))), ("changed_wrong", .number(Double(f.changedWrong)))])
                }
                flips.append((result.name, .object([("all", counts(f)), ("band", counts(b))])))
            }
        }
        return .object([
            ("label_space", .string(evaluation.space.name)),
            ("classes", .array(classNames.map { .string($0) })),
            ("methods", .object(methods)),
            ("reference", evaluation.reference.map { .string($0) } ?? .null),
            ("deltas", .object(deltas)),
            ("flips", .object(flips)),
            ("band", .number(Double(evaluation.band))),
            ("boundary_ratio", evaluation.boundaryRatio.map { .number($0) } ?? .null),
            ("protocol", .string(evaluation.evaluationProtocol.rawValue)),
            ("missing", .object(results.filter { !$0.missing.isEmpty }.map { ($0.name, .number(Double($0.missing.count))) })),
            ("aggregation", .array(rules.map { .string($0) })),
            ("note", .string(Report.meanIoUNote)),
        ])
    }

    // MARK: CSV

    /// One rectangular table: `kind,name`, a column per method, then a
    /// `delta_<method>` column per compared method (method − reference).
    /// Kinds: `class` (IoU), `summary` (mIoU, accuracies, band mIoU),
    /// `category` (Cityscapes category IoU), `flips` (pixel counts against
    /// the reference, all pixels and in the band; the reference's cell is
    /// empty) and `frame` (per-frame mIoU). Empty cells are NaN or not
    /// applicable; ratios are fractions.
    func csv() -> String {
        var header = ["kind", "name"] + evaluation.methods
        header += others.map { "delta_\($0.name)" }
        var lines = [header.joined(separator: ",")]
        func value(_ v: Double) -> String { v.isNaN ? "" : String(format6(v)) }
        func quoted(_ name: String) -> String { name.contains(",") || name.contains("\"") ? "\"" + name.replacingOccurrences(of: "\"", with: "\"\"") + "\"" : name }
        func row(_ kind: String, _ name: String, _ values: [Double], reference: Double?) {
            var cells = [kind, quoted(name)] + values.map(value)
            let base = reference ?? .nan
            cells += others.map { result in
                guard let i = results.firstIndex(where: { $0.name == result.name }) else { return "" }
                return value(values[i] - base)
            }
            lines.append(cells.joined(separator: ","))
        }
        let referenceIndex = evaluation.referenceResult.flatMap { r in results.firstIndex { $0.name == r.name } }
        for (c, name) in classNames.enumerated() {
            let values = results.map { $0.metrics.iou[c] }
            row("class", name, values, reference: referenceIndex.map { values[$0] })
        }
        for (label, pick) in summaryRows() {
            let values = results.map(pick)
            row("summary", label, values, reference: referenceIndex.map { values[$0] })
        }
        if evaluation.boundaryRatio != nil {
            for (c, name) in classNames.enumerated() {
                let values = results.map { $0.counts.boundaryIoU[c] }
                row("boundary", name, values, reference: referenceIndex.map { values[$0] })
            }
        }
        if results.contains(where: { $0.counts.instances.present }) {
            let space = evaluation.space
            let perClass = results.map { InstanceIoU.perClass($0.counts.instances, confusion: $0.counts.confusion, space: space) }
            for (c, name) in classNames.enumerated() where space.classes[c].hasInstances {
                let values = perClass.map { $0[c] }
                row("iiou", name, values, reference: referenceIndex.map { values[$0] })
            }
            let perCategory = results.map { InstanceIoU.perCategory($0.counts.instances, confusion: $0.counts.confusion, space: space) }
            for i in InstanceIoU.categories(space) {
                let values = perCategory.map { $0[i] }
                row("category_iiou", space.categories[i], values, reference: referenceIndex.map { values[$0] })
            }
        }
        if evaluation.space.name == "cityscapes" {
            let perMethod = results.map { Metrics.categoryIoU($0.counts.confusion, space: evaluation.space) }
            for (i, category) in evaluation.space.categories.enumerated() {
                let values = perMethod.map { $0[i].iou }
                row("category", category, values, reference: referenceIndex.map { values[$0] })
            }
        }
        if evaluation.reference != nil {
            let kinds: [(String, (FlipCounts) -> Int64)] = [("fixed", \.fixed), ("broken", \.broken), ("changed_wrong", \.changedWrong)]
            for (band, name) in [(false, ""), (true, "band ")] {
                for (label, pick) in kinds {
                    var cells = ["flips", name + label]
                    cells += results.map { result in
                        (band ? result.counts.bandFlips : result.counts.flips).map { "\(pick($0))" } ?? ""
                    }
                    cells += others.map { _ in "" }
                    lines.append(cells.joined(separator: ","))
                }
            }
        }
        var frameValues: [String: [Double]] = [:]
        var frameOrder: [String] = []
        for (m, result) in results.enumerated() {
            for frame in result.counts.frames {
                if frameValues[frame.key] == nil { frameOrder.append(frame.key); frameValues[frame.key] = Array(repeating: .nan, count: results.count) }
                frameValues[frame.key]![m] = frame.meanIoU
            }
        }
        for key in frameOrder.sorted() {
            let values = frameValues[key]!
            row("frame", key, values, reference: referenceIndex.map { values[$0] })
        }
        return lines.joined(separator: "\n") + "\n"
    }

    func format6(_ v: Double) -> String {
        let scaled = (v * 1_000_000).rounded() / 1_000_000
        return "\(scaled)"
    }

    /// Rows under the per-class table: a label and each method's value.
    func summaryRows() -> [(String, (MethodResult) -> Double)] {
        var rows: [(String, (MethodResult) -> Double)] = [
            ("mIoU", meanIoU), ("pixel acc", { $0.metrics.pixelAccuracy }),
            ("mean acc", { $0.metrics.meanAccuracy }), ("fwIoU", { $0.metrics.frequencyWeightedIoU }),
        ]
        if evaluation.band > 0 { rows.append(("band mIoU (\(evaluation.band)px)", { $0.bandMetrics.meanIoU })) }
        if results.contains(where: { $0.counts.instances.present }) {
            rows.append(("iIoU", { Metrics.mean(InstanceIoU.perClass($0.counts.instances, confusion: $0.counts.confusion, space: self.evaluation.space)) }))
        }
        if evaluation.boundaryRatio != nil { rows.append(("Boundary mIoU", { Metrics.mean($0.counts.boundaryIoU) })) }
        if hasFlicker { rows.append(("flicker", { $0.counts.temporal.flicker })) }
        for n in vcLengths {
            rows.append(("mVC\(n)", { $0.counts.temporal.meanVC(n, strict: false) }))
            rows.append(("mVC\(n) strict", { $0.counts.temporal.meanVC(n, strict: true) }))
        }
        return rows
    }

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
        var header = ["class"] + evaluation.methods
        if let reference = evaluation.reference { header += others.map { "Δ \($0.name)-\(reference)" } }
        var rows: [[String]] = []
        var best: [Set<Int>] = []
        func row(_ label: String, _ values: [Double], deltas: [Double]) {
            // Flicker is the one figure where less is better.
            let values = label == "flicker" ? values.map { -$0 } : values
            let valid = values.enumerated().filter { !$0.element.isNaN }
            // A best is marked only where it means something: above zero (as
            // shown, 0.0 is no class found) and not shared by every method.
            let shown = valid.map { (offset: $0.offset, value: percent($0.element)) }
            let top = valid.map(\.element).max().map(percent)
            let winners = shown.filter { $0.value == top }
            let meaningful = values.count > 1 && top != nil && top != "0.0" && winners.count < values.count
            best.append(meaningful ? Set(winners.map { $0.offset + 1 }) : [])
            rows.append([label] + values.map { percent(label == "flicker" ? -$0 : $0) } + deltas.map(signedPercent))
        }
        for (c, name) in classNames.enumerated() {
            row(name, results.map { $0.metrics.iou[c] }, deltas: others.map { delta($0, c) })
        }
        let separatorIndex = rows.count
        for (label, pick) in summaryRows() {
            let values = results.map(pick)
            let referenceValue = evaluation.referenceResult.map(pick) ?? .nan
            let deltas = others.map { pick($0) - referenceValue }
            row(label, values, deltas: deltas)
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
                    let padded = i == 0 ? marked + String(repeating: " ", count: widths[0] - marked.count)
                        : String(repeating: " ", count: max(0, widths[i] - marked.count + (best.contains(i) ? 0 : 0))) + marked
                    return best.contains(i) ? style.bold(padded) : padded
                }.joined(separator: "  ")
            }
            out += "IoU (%) on \(evaluation.files.count) frames, \(evaluation.space.name); * = best per row\n"
            out += line(header, best: []) + "\n"
            let rule = String(repeating: "-", count: widths.reduce(0, +) + 2 * (widths.count - 1))
            out += rule + "\n"
            for (r, cells) in rows.enumerated() {
                if r == separatorIndex { out += rule + "\n" }
                out += line(cells, best: best[r]) + "\n"
            }
        }
        if let reference = evaluation.reference, !others.isEmpty {
            out += markdown ? "\n| flips vs \(reference) | fixed | broken | changed-but-wrong | fixed (band) | broken (band) | changed (band) |\n| --- | ---: | ---: | ---: | ---: | ---: | ---: |\n"
                : "\nPixel flips vs \(reference) (fixed: \(reference) wrong, method right; broken: the reverse)\n"
            for result in others {
                guard let f = result.counts.flips, let b = result.counts.bandFlips else { continue }
                let method = result.name
                let cells = [method, "\(f.fixed)", "\(f.broken)", "\(f.changedWrong)", "\(b.fixed)", "\(b.broken)", "\(b.changedWrong)"]
                out += markdown ? "| " + cells.joined(separator: " | ") + " |\n"
                    : "  \(method): fixed \(f.fixed), broken \(f.broken), changed-but-wrong \(f.changedWrong); in the \(evaluation.band)px band: fixed \(b.fixed), broken \(b.broken), changed-but-wrong \(b.changedWrong)\n"
            }
        }
        if evaluation.space.name == "cityscapes" && !markdown {
            out += "\nCategory IoU (%)\n"
            let categories = evaluation.space.categories
            let width = max(12, categories.map(\.count).max() ?? 12)
            let columns = evaluation.methods.map { max(5, $0.count) }
            out += String(repeating: " ", count: width)
                + zip(evaluation.methods, columns).map { "  " + String(repeating: " ", count: $1 - $0.count) + $0 }.joined() + "\n"
            let perMethod = results.map { Metrics.categoryIoU($0.counts.confusion, space: evaluation.space) }
            for (i, category) in categories.enumerated() {
                out += category + String(repeating: " ", count: width - category.count)
                for m in evaluation.methods.indices {
                    let text = percent(perMethod[m][i].iou)
                    out += "  " + String(repeating: " ", count: max(0, columns[m] - text.count)) + text
                }
                out += "\n"
            }
        }
        out += "\n" + rules.map { (markdown ? "- " : "") + $0 + "\n" }.joined()
        return out
    }

    /// Row-normalised confusion matrix in percent, abbreviated so 19 classes fit in 120 columns.
    public func confusionTable(_ result: MethodResult) -> String {
        let (method, m) = (result.name, result.counts.confusion)
        let k = m.classes
        let names = classNames.map { String($0.replacingOccurrences(of: "traffic ", with: "t.").prefix(4)) }
        var out = "Confusion of \(method), % of each ground-truth row (columns: predicted; 'oth' = no evaluated class)\n"
        out += String(repeating: " ", count: 13) + (names + ["oth"]).map { String(repeating: " ", count: 5 - $0.count) + $0 }.joined() + "\n"
        for g in 0..<k {
            let total = m.rowTotal(g)
            let label = String(classNames[g].prefix(12))
            out += label + String(repeating: " ", count: 13 - label.count)
            for p in 0...k {
                let text = total == 0 ? "-" : m[g, p] == 0 ? "." : "\(Int((Double(m[g, p]) / Double(total) * 100).rounded()))"
                out += String(repeating: " ", count: 5 - text.count) + text
            }
            out += "\n"
        }
        return out
    }
}
