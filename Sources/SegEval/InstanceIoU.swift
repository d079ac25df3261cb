import SegLabels

/// Cityscapes' instance-level IoU (cityscapesScripts'
/// evalPixelLevelSemanticLabeling): every ground-truth instance (id v > 1000
/// in `*_gtFine_instanceIds.png`, label v / 1000 evaluated) weighs its pixels
/// by avgClassSize[label] / its size, so small instances count as much as
/// large ones; iIoU = tpW / (tpW + fp + fnW) with the class's ordinary false
/// positives. Categories whose labels all have instances (human, vehicle)
/// get the same at category level.
public struct InstanceCounts: Sendable, Equatable {
    /// Per class (trainId): weighted true positives and false negatives.
    public var truePositives: [Double]
    public var falseNegatives: [Double]
    /// Per category (the label space's category order).
    public var categoryTruePositives: [Double]
    public var categoryFalseNegatives: [Double]
    /// Whether any frame had instance ground truth.
    public var present = false

    public init(classes: Int, categories: Int) {
        truePositives = Array(repeating: 0, count: classes)
        falseNegatives = Array(repeating: 0, count: classes)
        categoryTruePositives = Array(repeating: 0, count: categories)
        categoryFalseNegatives = Array(repeating: 0, count: categories)
    }

    /// `checkedMerge` for counts of one dataset's frames (sums of finite weights stay finite).
    public mutating func merge(_ other: InstanceCounts) {
        do { try checkedMerge(other) } catch { preconditionFailure("\(error)") }
    }
}

public enum InstanceIoU {
    /// cityscapesScripts' args.avgClassSize: mean instance size per class over its training set.
    public static let averageClassSize: [String: Double] = [
        "bicycle": 4672.3249222261, "caravan": 36771.8241758242, "motorcycle": 6298.7200839748,
        "rider": 3930.4788056518,
        "bus": 35732.1511111111, "train": 67583.7075812274, "car": 12794.0202738185, "person": 3462.4756337644,
        "truck": 27855.1264367816, "trailer": 16926.9763313609,
    ]

    /// Categories scored at instance level: those all of whose labels (id >= 0) have instances.
    public static func categories(_ space: LabelSpace) -> [Int] {
        space.categories.indices.filter { i in
            let labels = space.labels.filter { $0.category == space.categories[i] && $0.id >= 0 }
            return !labels.isEmpty && labels.allSatisfy(\.hasInstances)
        }
    }

    /// Adds one image: `instances` holds the instance ids, `prediction` trainIds.
    public static func add(
        instances: [UInt16], prediction: LabelMap, space: LabelSpace, into counts: inout InstanceCounts
    ) {
        counts.present = true
        let k = space.count
        // Instance id -> (size, pixels predicted as its class, pixels predicted as its category).
        var sizes: [UInt16: (size: Int, tp: Int, categoryTP: Int)] = [:]
        let categoryOf = space.classes.map { c in space.categories.firstIndex(of: c.category) ?? -1 }
        for i in instances.indices {
            let v = instances[i]
            guard v > 1000 else { continue }
            let labelId = Int(v / 1000)
            guard labelId < 256 else { continue }
            let c = Int(space.labelIdToTrainId[labelId])
            guard c < k else { continue }
            var entry = sizes[v] ?? (0, 0, 0)
            entry.size += 1
            let p = Int(prediction.ids[i])
            if p == c { entry.tp += 1 }
            if p < k && categoryOf[p] == categoryOf[c] { entry.categoryTP += 1 }
            sizes[v] = entry
        }
        let scored = Set(categories(space))
        for (v, entry) in sizes.sorted(by: { $0.key < $1.key }) {
            let c = Int(space.labelIdToTrainId[Int(v / 1000)])
            let label = space.classes[c]
            guard label.hasInstances, !label.ignoreInEval, let average = averageClassSize[label.name] else { continue }
            let weight = average / Double(entry.size)
            counts.truePositives[c] += Double(entry.tp) * weight
            counts.falseNegatives[c] += Double(entry.size - entry.tp) * weight
            let category = categoryOf[c]
            if scored.contains(category) {
                counts.categoryTruePositives[category] += Double(entry.categoryTP) * weight
                counts.categoryFalseNegatives[category] += Double(entry.size - entry.categoryTP) * weight
            }
        }
    }

    /// iIoU per class (NaN for classes without instances or without any count).
    public static func perClass(_ counts: InstanceCounts, confusion m: ConfusionMatrix, space: LabelSpace) -> [Double] {
        (0..<m.classes).map { c in
            let label = space.classes[c]
            guard label.hasInstances, averageClassSize[label.name] != nil else { return .nan }
            let fp = Double(m.columnTotal(c) - m[c, c])
            let denominator = counts.truePositives[c] + fp + counts.falseNegatives[c]
            return denominator == 0 ? .nan : counts.truePositives[c] / denominator
        }
    }

    /// iIoU per scored category, in the label space's category order (NaN for the others).
    public static func perCategory(_ counts: InstanceCounts, confusion m: ConfusionMatrix, space: LabelSpace)
        -> [Double]
    {
        let scored = Set(categories(space))
        return space.categories.indices.map { i in
            guard scored.contains(i) else { return .nan }
            let members = (0..<m.classes).filter { space.classes[$0].category == space.categories[i] }
            var fp: Int64 = 0
            for g in 0..<m.classes where space.classes[g].category != space.categories[i] {
                for p in members { fp += m[g, p] }
            }
            let denominator = counts.categoryTruePositives[i] + Double(fp) + counts.categoryFalseNegatives[i]
            return denominator == 0 ? .nan : counts.categoryTruePositives[i] / denominator
        }
    }
}
