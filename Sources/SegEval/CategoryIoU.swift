import SegFormats
import SegLabels

/// Cityscapes' category-level IoU: derived from the class confusion matrix,
/// so it keeps no counts of its own (and nothing in shards).
public struct CategoryIoU: MetricUnit {
    public static let name = "category"

    public init?(_ setup: MetricSetup) { return nil }
    public mutating func checkedMerge(_ other: CategoryIoU) throws(MetricError) {}
    public func write(method: String, to shard: inout ShardWriter) {}
    public static func read(method: String, from shard: ShardReader, setup: MetricSetup) throws -> CategoryIoU? { nil }

    static func applies(_ report: Report) -> Bool { report.evaluation.space.name == "cityscapes" }

    public static func csvRows(_ report: Report) -> [CSVRow] {
        guard applies(report) else { return [] }
        let space = report.evaluation.space
        return space.categories.indices.map { i in
            report.valueRow(.detail, "category", space.categories[i]) {
                Metrics.categoryIoU($0.counts.confusion, space: space)[i].iou
            }
        }
    }

    public static func jsonEntries(_ report: Report, _ result: MethodResult) -> [(String, JSONValue)] {
        guard applies(report) else { return [] }
        let perCategory = Metrics.categoryIoU(result.counts.confusion, space: report.evaluation.space)
        return [("category_iou", .object(perCategory.map { ($0.category, Report.number($0.iou)) }))]
    }

    public static func textSection(_ report: Report, markdown: Bool) -> ReportSection? {
        guard applies(report), !markdown else { return nil }
        let categories = report.evaluation.space.categories
        let methods = report.evaluation.methods.map(report.text)
        var out = "\nCategory IoU (%)\n"
        let width = max(12, categories.map(\.count).max() ?? 12)
        let columns = methods.map { max(5, $0.count) }
        out +=
            String(repeating: " ", count: width)
            + zip(methods, columns).map { "  " + String(repeating: " ", count: $1 - $0.count) + $0 }.joined() + "\n"
        let perMethod = report.results.map { Metrics.categoryIoU($0.counts.confusion, space: report.evaluation.space) }
        for (i, category) in categories.enumerated() {
            out += category + String(repeating: " ", count: width - category.count)
            for m in methods.indices {
                let text = report.percent(perMethod[m][i].iou)
                out += "  " + String(repeating: " ", count: max(0, columns[m] - text.count)) + text
            }
            out += "\n"
        }
        return ReportSection(comparison: false, text: out)
    }
}
