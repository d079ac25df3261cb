import SegFormats
import SegLabels

/// Boundary IoU (Cheng et al. 2021) per class: intersections and unions of
/// boundaries summed over the dataset. Shard: tensor `boundary.<method>` I64 [2, K].
public struct BoundaryIoUCounts: MetricUnit {
    public static let name = "boundary"
    public var intersections: [Int64]
    public var unions: [Int64]

    public init?(_ setup: MetricSetup) {
        intersections = Array(repeating: 0, count: setup.classes)
        unions = intersections
    }

    init(intersections: [Int64], unions: [Int64]) { (self.intersections, self.unions) = (intersections, unions) }

    /// Per class (NaN where no image had a boundary of the class).
    public var iou: [Double] { zip(intersections, unions).map { $1 == 0 ? .nan : Double($0) / Double($1) } }

    public mutating func add(_ frame: FrameInput) {
        guard let ratio = frame.boundaryRatio else { return }
        frame.measure(.boundaryIoU) {
            BoundaryIoU.add(
                groundTruth: frame.groundTruth, prediction: frame.prediction, classes: frame.space.count, ratio: ratio,
                intersections: &intersections, unions: &unions)
        }
    }

    public mutating func checkedMerge(_ other: BoundaryIoUCounts) throws(MetricError) {
        for c in intersections.indices {
            intersections[c] = try checkedSum(intersections[c], other.intersections[c], "boundary")
            unions[c] = try checkedSum(unions[c], other.unions[c], "boundary")
        }
    }

    public func write(method: String, to shard: inout ShardWriter) {
        shard.add("boundary.\(method)", intersections + unions, shape: [2, intersections.count])
    }

    public static func read(method: String, from shard: ShardReader, setup: MetricSetup) throws -> BoundaryIoUCounts? {
        let k = setup.classes
        guard let b = try shard.counts("boundary.\(method)", shape: [2, k]) else { return BoundaryIoUCounts(setup) }
        let counts = BoundaryIoUCounts(intersections: Array(b[0..<k]), unions: Array(b[k...]))
        for c in 0..<k where counts.intersections[c] > counts.unions[c] {
            throw shard.bad("boundary.\(method): class \(c) has more intersection than union")
        }
        return counts
    }

    public static func rules(_ report: Report) -> [String] {
        guard let r = report.evaluation.boundaryRatio else { return [] }
        return [
            "Boundary IoU (Cheng et al. 2021): boundaries of width max(1, round(\(r) x image diagonal)), "
                + "intersections and unions summed over the dataset per class, then averaged over classes"
        ]
    }

    public static func summaryRows(_ report: Report) -> [SummaryRow] {
        report.evaluation.boundaryRatio == nil
            ? [] : [SummaryRow("Boundary mIoU") { Metrics.mean($0.counts.boundaryIoU) }]
    }

    public static func csvRows(_ report: Report) -> [CSVRow] {
        guard report.evaluation.boundaryRatio != nil else { return [] }
        return report.classNames.indices.map { c in
            report.valueRow(.detail, "boundary", report.classNames[c]) { $0.counts.boundaryIoU[c] }
        }
    }

    public static func jsonEntries(_ report: Report, _ result: MethodResult) -> [(String, JSONValue)] {
        guard report.evaluation.boundaryRatio != nil else { return [] }
        let iou = result.counts.boundaryIoU
        return [("boundary_iou", report.perClass(iou)), ("boundary_miou", Report.number(Metrics.mean(iou)))]
    }
}

extension MethodCounts {
    public var boundaryIntersections: [Int64] { self[BoundaryIoUCounts.self]?.intersections ?? [] }
    public var boundaryUnions: [Int64] { self[BoundaryIoUCounts.self]?.unions ?? [] }
    /// Boundary IoU per class (NaN where no image had a boundary of the class).
    public var boundaryIoU: [Double] { self[BoundaryIoUCounts.self]?.iou ?? [] }
}
