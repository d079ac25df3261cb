/// Selects MAR's memory from a stream of correctly classified feature pixels
/// (spec, "Building the memory"). Per class it keeps the KL lowest-scoring
/// pixels ("hard", the keys, ascending score) and the KH highest-scoring
/// ("good", whose mean is the prototype). Pixels arrive in a fixed order
/// (frame order, then pixel index); equal scores keep the earlier pixel.
/// Memory is O(K x (KL + KH) x C) whatever the stream's length.
public struct MemorySampler: Sendable {
    public enum Rule: Sendable {
        /// The plain rule: hard and good chosen independently (a pixel may be in both).
        case plain
        /// The release's streaming sampler: a pixel is offered to the hard set
        /// first and to the good set only if the hard set did not take it, so
        /// no pixel is in both; while a class has seen fewer than KL pixels,
        /// every one goes to the hard set.
        case release
    }

    struct Entry: Sendable {
        let score: Float
        let order: Int
        let feature: [Float]
    }

    public let classes: Int, channels: Int
    public let hardCount: Int, goodCount: Int
    public let rule: Rule
    private(set) var hard: [[Entry]]
    private(set) var good: [[Entry]]
    private var seen = 0

    public init(classes: Int, channels: Int, hardCount: Int, goodCount: Int, rule: Rule) {
        self.classes = classes
        self.channels = channels
        self.hardCount = hardCount
        self.goodCount = goodCount
        self.rule = rule
        hard = Array(repeating: [], count: classes)
        good = Array(repeating: [], count: classes)
    }

    /// Offers one correctly classified pixel of class `label` with its score
    /// (max softmax) and feature. `feature` is read only if the pixel is kept.
    public mutating func offer(label: Int, score: Float, feature: () -> [Float]) {
        let order = seen
        seen += 1
        // Hard: ascending score; a newcomer must beat the worst kept strictly.
        var takenAsHard = false
        if hard[label].count < hardCount || score < hard[label].last!.score {
            insert(Entry(score: score, order: order, feature: feature()), into: &hard[label], limit: hardCount, ascending: true)
            takenAsHard = true
        }
        if rule == .release && takenAsHard { return }
        if good[label].count < goodCount || score > good[label].last!.score {
            insert(Entry(score: score, order: order, feature: feature()), into: &good[label], limit: goodCount, ascending: false)
        }
    }

    private func insert(_ entry: Entry, into list: inout [Entry], limit: Int, ascending: Bool) {
        // Sorted by score (ascending or descending), then by arrival order.
        let position = list.firstIndex { ascending ? entry.score < $0.score : entry.score > $0.score } ?? list.count
        list.insert(entry, at: position)
        if list.count > limit { list.removeLast() }
    }

    /// Classes that saw no correct pixel at all.
    public var emptyClasses: [Int] { (0..<classes).filter { hard[$0].isEmpty && good[$0].isEmpty } }

    /// keys [K*KL, C] (class-major, ascending score) and prototypes [K, C].
    /// Short lists are repeated cyclically up to KL (keys) and KH (before the
    /// mean); a class with no pixel gets zeros.
    public func memory() -> (keys: [Float], prototypes: [Float]) {
        let c = channels
        var keys = [Float](repeating: 0, count: classes * hardCount * c)
        var prototypes = [Float](repeating: 0, count: classes * c)
        for k in 0..<classes {
            let hardList = hard[k].isEmpty ? good[k] : hard[k]
            if !hardList.isEmpty {
                for i in 0..<hardCount {
                    let feature = hardList[i % hardList.count].feature
                    for ch in 0..<c { keys[(k * hardCount + i) * c + ch] = feature[ch] }
                }
            }
            let goodList = good[k].isEmpty ? hard[k] : good[k]
            if !goodList.isEmpty {
                var sum = [Double](repeating: 0, count: c)
                for i in 0..<goodCount {
                    let feature = goodList[i % goodList.count].feature
                    for ch in 0..<c { sum[ch] += Double(feature[ch]) }
                }
                for ch in 0..<c { prototypes[k * c + ch] = Float(sum[ch] / Double(goodCount)) }
            }
        }
        return (keys, prototypes)
    }
}
