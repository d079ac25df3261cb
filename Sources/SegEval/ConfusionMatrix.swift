import SegLabels

/// Pixel counts of (ground-truth class, predicted class) for K evaluated
/// classes, with the rules of cityscapesScripts' pixel-level evaluation:
/// - ground-truth pixels that are ignored (trainId 255) are not counted;
/// - a prediction that is no evaluated class (trainId 255, e.g. a void or
///   non-evaluated labelId) is counted in an extra column K: a false negative
///   of the ground-truth class and a false positive of nothing.
/// Rows are GT classes 0..<K, columns predictions 0...K. 64-bit counts, so a
/// whole dataset (or many merged shards) cannot overflow.
public struct ConfusionMatrix: Sendable, Equatable {
    public let classes: Int
    public private(set) var counts: [Int64]

    public init(classes: Int) {
        self.classes = classes
        counts = [Int64](repeating: 0, count: classes * (classes + 1))
    }

    public init(classes: Int, counts: [Int64]) {
        precondition(counts.count == classes * (classes + 1), "confusion counts must be K x (K+1)")
        self.classes = classes
        self.counts = counts
    }

    @inline(__always) public subscript(gt: Int, prediction: Int) -> Int64 { counts[gt * (classes + 1) + prediction] }

    /// Adds every pixel of a frame (optionally only where `mask` is true).
    public mutating func add(groundTruth: LabelMap, prediction: LabelMap, mask: [Bool]? = nil) {
        if let mask {
            var unused = ConfusionMatrix(classes: classes)
            ConfusionMatrix.add(groundTruth: groundTruth, prediction: prediction, all: &unused, band: &self, mask: mask)
        } else {
            var unused = ConfusionMatrix(classes: classes)
            ConfusionMatrix.add(groundTruth: groundTruth, prediction: prediction, all: &self, band: &unused, mask: nil)
        }
    }

    /// Counts all pixels into `all` and the masked ones into `band` in one
    /// pass. Both maps go through 256-entry tables to a small count table
    /// ((K+1) x (K+1), twice) that stays in L1 cache; GT ignore lands in row
    /// K, which is dropped.
    public static func add(
        groundTruth: LabelMap, prediction: LabelMap, all: inout ConfusionMatrix,
        band: inout ConfusionMatrix, mask: [Bool]?
    ) {
        precondition(groundTruth.ids.count == prediction.ids.count, "ground truth and prediction sizes differ")
        precondition(all.classes == band.classes, "matrices of different class counts")
        let k = all.classes
        let stride = k + 1
        let size = stride * stride
        var gtRow = [Int32](repeating: Int32(k * stride), count: 256)
        var predColumn = [Int32](repeating: Int32(k), count: 256)
        for c in 0..<k {
            gtRow[c] = Int32(c * stride)
            predColumn[c] = Int32(c)
        }
        // Entries [0, size) count all pixels, [size, 2 size) the masked ones. UInt32
        // cannot overflow: an image has fewer than 2^32 pixels (sides are capped).
        var table = [UInt32](repeating: 0, count: 2 * size)
        groundTruth.ids.withUnsafeBufferPointer { gt in
            prediction.ids.withUnsafeBufferPointer { pred in
                table.withUnsafeMutableBufferPointer { t in
                    gtRow.withUnsafeBufferPointer { row in
                        predColumn.withUnsafeBufferPointer { column in
                            let g = gt.baseAddress!
                            let p = pred.baseAddress!
                            let r = row.baseAddress!
                            let c = column.baseAddress!
                            let counts = t.baseAddress!
                            let masked = counts + size
                            if let mask {
                                mask.withUnsafeBufferPointer { m in
                                    let inside = m.baseAddress!
                                    for i in 0..<gt.count {
                                        let index = Int(r[Int(g[i])] + c[Int(p[i])])
                                        counts[index] &+= 1
                                        if inside[i] { masked[index] &+= 1 }
                                    }
                                }
                            } else {
                                for i in 0..<gt.count { counts[Int(r[Int(g[i])] + c[Int(p[i])])] &+= 1 }
                            }
                        }
                    }
                }
            }
        }
        for gClass in 0..<k {
            for pClass in 0...k {
                all.counts[gClass * stride + pClass] += Int64(table[gClass * stride + pClass])
                band.counts[gClass * stride + pClass] += Int64(table[size + gClass * stride + pClass])
            }
        }
    }

    public mutating func merge(_ other: ConfusionMatrix) {
        precondition(
            other.classes == classes, "cannot merge confusion matrices of \(classes) and \(other.classes) classes")
        for i in counts.indices { counts[i] += other.counts[i] }
    }

    /// `merge` with a named error instead of a trap: every count and the
    /// total must fit in Int64 (each derived sum, a row, a column or
    /// tp + fp + fn, is at most the total).
    public mutating func checkedMerge(_ other: ConfusionMatrix, _ what: String) throws(MetricError) {
        precondition(other.classes == classes, "confusion matrices of \(classes) and \(other.classes) classes")
        var sum = counts
        var total: Int64 = 0
        for i in counts.indices {
            sum[i] = try checkedSum(counts[i], other.counts[i], what)
            total = try checkedSum(total, sum[i], what)
        }
        counts = sum
    }

    /// Whether the total fits in Int64 (then no derived sum overflows).
    public var totalFits: Bool {
        var total: Int64 = 0
        for c in counts {
            let (sum, overflow) = total.addingReportingOverflow(c)
            if overflow || c < 0 { return false }
            total = sum
        }
        return true
    }

    public func rowTotal(_ g: Int) -> Int64 { (0...classes).reduce(0) { $0 + self[g, $1] } }
    public func columnTotal(_ p: Int) -> Int64 { (0..<classes).reduce(0) { $0 + self[$1, p] } }
    public var total: Int64 { counts.reduce(0, +) }
}
