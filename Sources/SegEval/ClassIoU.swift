import SegFormats
import SegLabels

/// Per-class IoU, mIoU and the accuracies: one confusion matrix over all
/// pixels, pooled over the dataset. Shard: tensor `confusion.<method>` I64 [K, K+1].
public struct ClassIoU: MetricUnit {
    public static let name = "confusion"
    public var matrix: ConfusionMatrix

    public init?(_ setup: MetricSetup) { matrix = ConfusionMatrix(classes: setup.classes) }

    public mutating func add(_ frame: FrameInput) {
        // Empty counts (a frame's own) take the frame's matrix as is: its storage is then shared with the
        // frame's score instead of copied (one matrix per frame and method is kept until the merge).
        if matrix.total == 0 { matrix = frame.confusion } else { matrix.merge(frame.confusion) }
    }

    public mutating func checkedMerge(_ other: ClassIoU) throws(MetricError) {
        try matrix.checkedMerge(other.matrix, "confusion")
    }

    public func write(method: String, to shard: inout ShardWriter) {
        shard.add("confusion.\(method)", matrix)
    }

    public static func read(method: String, from shard: ShardReader, setup: MetricSetup) throws -> ClassIoU? {
        ClassIoU(matrix: try shard.confusionMatrix("confusion.\(method)", classes: setup.classes))
    }

    init(matrix: ConfusionMatrix) { self.matrix = matrix }

    public static func rules(_ report: Report) -> [String] { [report.evaluation.evaluationProtocol.rule] }

    public static func summaryRows(_ report: Report) -> [SummaryRow] {
        [
            SummaryRow("mIoU", report.meanIoU), SummaryRow("pixel acc") { $0.metrics.pixelAccuracy },
            SummaryRow("mean acc") { $0.metrics.meanAccuracy }, SummaryRow("fwIoU") { $0.metrics.frequencyWeightedIoU },
        ]
    }

    public static func csvRows(_ report: Report) -> [CSVRow] {
        report.classNames.indices.map { c in
            report.valueRow(.classes, "class", report.classNames[c]) { $0.metrics.iou[c] }
        }
    }

    public static func jsonEntries(_ report: Report, _ result: MethodResult) -> [(String, JSONValue)] {
        let m = result.metrics
        return [
            ("miou", Report.number(report.meanIoU(result))), ("pixel_acc", Report.number(m.pixelAccuracy)),
            ("mean_acc", Report.number(m.meanAccuracy)), ("fwiou", Report.number(m.frequencyWeightedIoU)),
            ("iou", report.perClass(m.iou)),
        ]
    }
}

extension MethodCounts {
    public var confusion: ConfusionMatrix {
        get { self[ClassIoU.self]!.matrix }
        set { self[ClassIoU.self] = ClassIoU(matrix: newValue) }
    }
}
