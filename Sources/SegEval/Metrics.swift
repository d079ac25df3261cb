import SegLabels

/// Scores from one confusion matrix. Every ratio is a fraction in [0, 1];
/// NaN marks a class with neither ground-truth nor predicted pixels, and such
/// classes are left out of the means (as cityscapesScripts does).
public struct Metrics: Sendable, Equatable {
    public let iou: [Double]
    public let classAccuracy: [Double]
    public let pixelAccuracy: Double
    public let meanIoU: Double
    public let meanAccuracy: Double
    public let frequencyWeightedIoU: Double

    public init(_ m: ConfusionMatrix) {
        let k = m.classes
        var iou = [Double](repeating: .nan, count: k)
        var accuracy = [Double](repeating: .nan, count: k)
        var correct: Int64 = 0
        var counted: Int64 = 0
        for c in 0..<k {
            let tp = m[c, c]
            let row = m.rowTotal(c)
            let fp = m.columnTotal(c) - tp
            let denominator = row + fp
            if denominator > 0 { iou[c] = Double(tp) / Double(denominator) }
            if row > 0 { accuracy[c] = Double(tp) / Double(row) }
            correct += tp
            counted += row
        }
        self.iou = iou
        classAccuracy = accuracy
        pixelAccuracy = counted > 0 ? Double(correct) / Double(counted) : .nan
        meanIoU = Metrics.mean(iou)
        meanAccuracy = Metrics.mean(accuracy)
        var weighted = 0.0
        for c in 0..<k where !iou[c].isNaN && counted > 0 {
            weighted += Double(m.rowTotal(c)) / Double(counted) * iou[c]
        }
        frequencyWeightedIoU = counted > 0 ? weighted : .nan
    }

    /// mIoU as `protocol` defines it: the label space's own rule (every class
    /// with GT or predicted pixels, as cityscapesScripts), or VSPW's (only
    /// classes with GT pixels, as VSPW_code's Evaluator).
    public static func meanIoU(_ m: ConfusionMatrix, protocol rule: EvaluationProtocol) -> Double {
        let metrics = Metrics(m)
        switch rule {
        case .labelSpace: return metrics.meanIoU
        case .vspw: return mean((0..<m.classes).map { m.rowTotal($0) > 0 ? metrics.iou[$0] : .nan })
        }
    }

    /// Mean over the values that are not NaN; NaN if there are none.
    public static func mean(_ values: [Double]) -> Double {
        let valid = values.filter { !$0.isNaN }
        return valid.isEmpty ? .nan : valid.reduce(0, +) / Double(valid.count)
    }

    /// IoU per category: classes of one category merged, as cityscapesScripts'
    /// category-level scores (a prediction of another class of the same
    /// category counts as correct).
    public static func categoryIoU(_ m: ConfusionMatrix, space: LabelSpace) -> [(category: String, iou: Double)] {
        space.categories.map { category in
            let members = Set(space.classes.indices.filter { space.classes[$0].category == category })
            var tp: Int64 = 0
            var fn: Int64 = 0
            var fp: Int64 = 0
            for g in 0..<m.classes {
                for p in 0...m.classes {
                    let n = m[g, p]
                    let gtIn = members.contains(g)
                    let predIn = p < m.classes && members.contains(p)
                    if gtIn && predIn { tp += n } else if gtIn { fn += n } else if predIn { fp += n }
                }
            }
            let denominator = tp + fp + fn
            return (category, denominator > 0 ? Double(tp) / Double(denominator) : .nan)
        }
    }
}

/// Which classes an mIoU averages over.
public enum EvaluationProtocol: String, CaseIterable, Sendable {
    /// Every class with ground-truth or predicted pixels (cityscapesScripts).
    case labelSpace = "default"
    /// Only classes with ground-truth pixels (VSPW_code's Evaluator).
    case vspw

    /// The aggregation rule in one line, printed under every table.
    public var rule: String {
        let classes =
            self == .vspw
            ? "classes with ground-truth pixels (VSPW protocol)"
            : "classes with ground-truth or predicted pixels (NaN classes left out)"
        return
            "mIoU: mean IoU over \(classes), from one confusion matrix pooled over the dataset (not a mean of per-frame mIoU)"
    }
}
