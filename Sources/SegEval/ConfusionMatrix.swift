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
        precondition(groundTruth.ids.count == prediction.ids.count, "ground truth and prediction sizes differ")
        let k = classes, stride = k + 1
        // Count into a dense 256 x 256 table first: no branches per pixel.
        var table = [Int64](repeating: 0, count: 65536)
        groundTruth.ids.withUnsafeBufferPointer { gt in
            prediction.ids.withUnsafeBufferPointer { pred in
                if let mask {
                    for i in 0..<gt.count where mask[i] { table[Int(gt[i]) << 8 | Int(pred[i])] += 1 }
                } else {
                    for i in 0..<gt.count { table[Int(gt[i]) << 8 | Int(pred[i])] += 1 }
                }
            }
        }
        for g in 0..<k {
            for p in 0..<256 {
                let n = table[g << 8 | p]
                if n != 0 { counts[g * stride + (p < k ? p : k)] += n }
            }
        }
    }

    public mutating func merge(_ other: ConfusionMatrix) {
        precondition(other.classes == classes, "cannot merge confusion matrices of \(classes) and \(other.classes) classes")
        for i in counts.indices { counts[i] += other.counts[i] }
    }

    public func rowTotal(_ g: Int) -> Int64 { (0...classes).reduce(0) { $0 + self[g, $1] } }
    public func columnTotal(_ p: Int) -> Int64 { (0..<classes).reduce(0) { $0 + self[$1, p] } }
    public var total: Int64 { counts.reduce(0, +) }
}
