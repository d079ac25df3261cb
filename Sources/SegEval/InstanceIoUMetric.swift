import SegFormats
import SegLabels

/// iIoU as a unit (the counting is `InstanceIoU`). Shard: metadata
/// `instances` (method -> weighted true positives per class, false negatives
/// per class, then the same per category), for methods with instance GT.
extension InstanceCounts: MetricUnit {
    public static let name = "instances"

    public init?(_ setup: MetricSetup) { self.init(classes: setup.classes, categories: setup.categories) }

    public mutating func add(_ frame: FrameInput) {
        guard let instances = frame.instances else { return }
        InstanceIoU.add(instances: instances, prediction: frame.prediction, space: frame.space, into: &self)
    }

    public mutating func checkedMerge(_ other: InstanceCounts) throws(MetricError) {
        func add(_ a: inout [Double], _ b: [Double]) throws(MetricError) {
            for c in a.indices {
                a[c] += b[c]
                if !a[c].isFinite { throw MetricError.overflow("instances") }
            }
        }
        try add(&truePositives, other.truePositives)
        try add(&falseNegatives, other.falseNegatives)
        try add(&categoryTruePositives, other.categoryTruePositives)
        try add(&categoryFalseNegatives, other.categoryFalseNegatives)
        present = present || other.present
    }

    public func write(method: String, to shard: inout ShardWriter) {
        guard present else { return }
        shard.set(
            "instances", method: method,
            .array(
                (truePositives + falseNegatives + categoryTruePositives + categoryFalseNegatives).map { .number($0) }))
    }

    public static func read(method: String, from shard: ShardReader, setup: MetricSetup) throws -> InstanceCounts? {
        var c = InstanceCounts(classes: setup.classes, categories: setup.categories)
        guard let entry = shard.entry("instances", method: method) else { return c }
        let (k, categories) = (setup.classes, setup.categories)
        guard let values = entry.array?.compactMap(\.number), values.count == 2 * k + 2 * categories,
            values.allSatisfy({ $0.isFinite && $0 >= 0 })
        else {
            throw shard.bad("instances of \(method) do not hold \(2 * k + 2 * categories) finite numbers >= 0")
        }
        c.truePositives = Array(values[0..<k])
        c.falseNegatives = Array(values[k..<(2 * k)])
        c.categoryTruePositives = Array(values[(2 * k)..<(2 * k + categories)])
        c.categoryFalseNegatives = Array(values[(2 * k + categories)...])
        c.present = true
        return c
    }

    static func present(_ report: Report) -> Bool { report.results.contains { $0.counts.instances.present } }

    public static func rules(_ report: Report) -> [String] {
        guard present(report) else { return [] }
        return [
            "iIoU: cityscapesScripts' instance-level IoU, each GT instance weighted by its class's average size "
                + "over its own, "
                + "counts summed over the dataset"
        ]
    }

    public static func summaryRows(_ report: Report) -> [SummaryRow] {
        guard present(report) else { return [] }
        let space = report.evaluation.space
        return [
            SummaryRow("iIoU") {
                Metrics.mean(InstanceIoU.perClass($0.counts.instances, confusion: $0.counts.confusion, space: space))
            }
        ]
    }

    public static func csvRows(_ report: Report) -> [CSVRow] {
        guard present(report) else { return [] }
        let space = report.evaluation.space
        var rows = report.classNames.indices.filter { space.classes[$0].hasInstances }.map { c in
            report.valueRow(.detail, "iiou", report.classNames[c]) {
                InstanceIoU.perClass($0.counts.instances, confusion: $0.counts.confusion, space: space)[c]
            }
        }
        for i in InstanceIoU.categories(space) {
            rows.append(
                report.valueRow(.detail, "category_iiou", space.categories[i]) {
                    InstanceIoU.perCategory($0.counts.instances, confusion: $0.counts.confusion, space: space)[i]
                })
        }
        return rows
    }

    public static func jsonEntries(_ report: Report, _ result: MethodResult) -> [(String, JSONValue)] {
        let counts = result.counts
        guard counts.instances.present else { return [] }
        let space = report.evaluation.space
        let perClass = InstanceIoU.perClass(counts.instances, confusion: counts.confusion, space: space)
        let instanceClasses = space.classes.indices.filter { space.classes[$0].hasInstances }
        let perCategory = InstanceIoU.perCategory(counts.instances, confusion: counts.confusion, space: space)
        return [
            ("iiou", Report.number(Metrics.mean(perClass))),
            ("class_iiou", .object(instanceClasses.map { (report.classNames[$0], Report.number(perClass[$0])) })),
            (
                "category_iiou",
                .object(InstanceIoU.categories(space).map { (space.categories[$0], Report.number(perCategory[$0])) })
            ),
        ]
    }
}

extension MethodCounts {
    /// Cityscapes' instance-level counts (iIoU), when the GT has instance ids.
    public var instances: InstanceCounts {
        get { self[InstanceCounts.self]! }
        set { self[InstanceCounts.self] = newValue }
    }
}
