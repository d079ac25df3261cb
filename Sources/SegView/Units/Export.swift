import Foundation
import SegEval
import SegFormats

/// Writes the IoU panel or the confusion matrix as shown (scope, sort,
/// coverage) to a Markdown (.md) or CSV (.csv) file, atomically.
enum Export {
    /// Asks for the path, offering one beside the dataset.
    static func ask(_ c: ViewerController) {
        guard [.iou, .confusion].contains(c.state.panel.kind) else {
            c.state.message = "export: open the IoU panel (i) or the confusion matrix (C) first"
            return
        }
        let folder = FileName.parent(of: c.dataset.bookmarksPath)
        let scope = c.state.panel.scope.rawValue
        let name = c.state.panel.kind == .iou ? "iou-\(scope).md" : "confusion-\(scope).csv"
        c.state.prompt = ViewState.Prompt(kind: .export, text: (folder.isEmpty ? "" : folder + "/") + name)
    }

    enum Format { case markdown, csv }

    static func write(_ c: ViewerController, to text: String) {
        let path = text.trimmingCharacters(in: .whitespaces)
        let format: Format
        switch (path as NSString).pathExtension.lowercased() {
        case "md", "markdown": format = .markdown
        case "csv": format = .csv
        default:
            c.state.message = "export: \(path): the name must end in .md or .csv"
            return
        }
        let model = c.model(blocking: true)
        let content: String?
        switch c.state.panel.kind {
        case .iou: content = IoUPanel.table(model).map { iouTable($0, model: model, format: format) }
        case .confusion:
            content = ConfusionPanel.matrix(model).map {
                confusionTable(
                    $0.matrix, method: $0.method,
                    model: model, format: format)
            }
        case .none, .attribution: content = nil
        }
        guard let content else {
            c.state.message = "export: nothing to write yet (\(model.scopeProgress ?? "no figures"))"
            return
        }
        do {
            try AtomicFile.write(content, to: path)
            c.state.message = "exported to \(path)"
        } catch {
            c.state.message = "export: \(error)"
        }
    }

    static func cells(_ values: [String], _ format: Format) -> String {
        format == .csv ? values.map(csvField).joined(separator: ",") : "| " + values.joined(separator: " | ") + " |"
    }

    static func csvField(_ s: String) -> String {
        s.contains(",") || s.contains("\"") ? "\"" + s.replacingOccurrences(of: "\"", with: "\"\"") + "\"" : s
    }

    /// IoU in percent with two decimals (markdown) or as fractions (CSV), as eval writes them.
    static func number(_ v: Double, _ format: Format) -> String {
        guard !v.isNaN else { return "" }
        return format == .csv ? String(format: "%.6f", v) : String(format: "%.2f", v * 100)
    }

    static func iouTable(_ table: IoUTable, model: ViewModel, format: Format) -> String {
        let delta = table.deltaFrames != nil && model.comparedMethod != nil && model.reference != nil
        var header = ["class"] + table.methods
        if delta { header.append("delta \(model.comparedMethod!)-\(model.reference!)") }
        var lines: [String] = []
        if format == .markdown {
            var about = "\(model.state.iou.metric.rawValue) % · \(table.scope) · sort \(IoUPanel.sortName(model.state))"
            if delta { about += " · Δ over the \(table.deltaFrames!) frames both have" }
            lines += [about, "", cells(header, format), "|" + String(repeating: "---|", count: header.count)]
        } else {
            lines.append(cells(header, format))
        }
        for row in table.rows {
            var values = [model.theme.space.classNames[row.classIndex]] + row.values.map { number($0, format) }
            if delta { values.append(number(row.delta, format)) }
            lines.append(cells(values, format))
        }
        var mean = [model.state.iou.metric == .iou ? "mIoU" : "mean"] + table.mean.map { number($0, format) }
        if delta { mean.append(number(table.meanDelta, format)) }
        lines.append(cells(mean, format))
        var frames = ["frames scored of \(table.labelled)"] + table.scored.map(String.init)
        if delta { frames.append(String(table.deltaFrames!)) }
        lines.append(cells(frames, format))
        return lines.joined(separator: "\n") + "\n"
    }

    static func confusionTable(_ m: ConfusionMatrix, method: String, model: ViewModel, format: Format) -> String {
        let names = model.theme.space.classNames
        let coverage = model.scope.map { " · \($0.coverage(method)) frames" } ?? ""
        let about = "confusion (pixels) · \(method) · \(model.scope?.name ?? "")\(coverage)"
        // CSV has no title line, so its corner cell says what the table is.
        let header = [format == .csv ? "GT \\ \(method) (\(about))" : "GT \\ \(method)"] + names + ["no class"]
        var lines: [String] = []
        if format == .markdown {
            lines += [
                about, "",
                cells(
                    header,
                    format),
                "|" + String(repeating: "---|", count: header.count),
            ]
        } else {
            lines.append(cells(header, format))
        }
        for g in 0..<m.classes {
            lines.append(cells([names[g]] + (0...m.classes).map { String(m[g, $0]) }, format))
        }
        return lines.joined(separator: "\n") + "\n"
    }
}
