import SegFormats
import SegLabels

/// IoU on the pixels within `band` px of a ground-truth class boundary.
/// Shard: tensor `band.<method>` I64 [K, K+1].
public struct BandIoU: MetricUnit {
    public static let name = "band"
    public var matrix: ConfusionMatrix

    public init?(_ setup: MetricSetup) { matrix = ConfusionMatrix(classes: setup.classes) }
    init(matrix: ConfusionMatrix) { self.matrix = matrix }

    public mutating func add(_ frame: FrameInput) { matrix.merge(frame.bandConfusion) }

    public mutating func checkedMerge(_ other: BandIoU) throws(MetricError) {
        try matrix.checkedMerge(other.matrix, "band")
    }

    public func write(method: String, to shard: inout ShardWriter) {
        shard.add("band.\(method)", matrix)
    }

    public static func read(method: String, from shard: ShardReader, setup: MetricSetup) throws -> BandIoU? {
        BandIoU(matrix: try shard.confusionMatrix("band.\(method)", classes: setup.classes))
    }

    public static func rules(_ report: Report) -> [String] {
        let band = report.evaluation.band
        return band > 0
            ? ["band mIoU: the same, on pixels within \(band) px (Chebyshev) of a ground-truth class boundary"] : []
    }

    public static func summaryRows(_ report: Report) -> [SummaryRow] {
        let band = report.evaluation.band
        return band > 0 ? [SummaryRow("band mIoU (\(band)px)") { $0.bandMetrics.meanIoU }] : []
    }

    public static func jsonEntries(_ report: Report, _ result: MethodResult) -> [(String, JSONValue)] {
        let b = result.bandMetrics
        return [("band_iou", report.perClass(b.iou)), ("band_miou", Report.number(b.meanIoU))]
    }
}

extension MethodCounts {
    /// Counts inside the boundary band only.
    public var bandConfusion: ConfusionMatrix {
        get { self[BandIoU.self]!.matrix }
        set { self[BandIoU.self] = BandIoU(matrix: newValue) }
    }
}
