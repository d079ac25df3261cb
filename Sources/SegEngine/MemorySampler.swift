/// Selects MAR's memory from a stream of correctly classified feature pixels
/// (spec, "Building the memory"). Pixels arrive in a fixed order (frame
/// order, then row-major pixel index). Memory is O(K x (KL + KH) x C)
/// whatever the stream's length.
public struct MemorySampler: Sendable {
    public enum Rule: Sendable {
        /// Per class the KL lowest-scoring pixels (keys, ascending score) and
        /// the KH highest-scoring (their mean is the prototype), chosen
        /// independently (a pixel may be in both); equal scores keep the
        /// earlier pixel.
        case plain
        /// The release's streaming `Memory_Sampler` (spec): a pixel scoring
        /// below the largest kept hard score goes to the hard list, else one
        /// scoring above the smallest kept good score goes to the good list,
        /// else it is dropped. Thresholds start at 1.0 and 0.0.
        case release
    }

    struct Entry: Sendable {
        let score: Float
        let feature: [Float]
    }

    public let classes: Int, channels: Int
    public let hardCount: Int, goodCount: Int
    public let rule: Rule
    /// Plain rule: hard ascending, good descending. Release rule: both
    /// ascending, as the release keeps them.
    private(set) var hard: [[Entry]]
    private(set) var good: [[Entry]]

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
        switch rule {
        case .plain:
            if hard[label].count < hardCount || score < hard[label].last!.score {
                Self.insert(Entry(score: score, feature: feature()), into: &hard[label], ascending: true)
                if hard[label].count > hardCount { hard[label].removeLast() }
            }
            if good[label].count < goodCount || score > good[label].last!.score {
                Self.insert(Entry(score: score, feature: feature()), into: &good[label], ascending: false)
                if good[label].count > goodCount { good[label].removeLast() }
            }
        case .release:
            // The thresholds are the lists' extremes, also while a list is short.
            let largestHard = hard[label].last?.score ?? 1.0
            let smallestGood = good[label].first?.score ?? 0.0
            if score < largestHard {
                Self.insert(Entry(score: score, feature: feature()), into: &hard[label], ascending: true)
                if hard[label].count > hardCount { hard[label].removeLast() }
            } else if score > smallestGood {
                Self.insert(Entry(score: score, feature: feature()), into: &good[label], ascending: true)
                if good[label].count > goodCount { good[label].removeFirst() }
            }
        }
    }

    /// Inserts after every entry that sorts before or equal to it: the place
    /// a stable sort gives a newcomer appended at the end.
    private static func insert(_ entry: Entry, into list: inout [Entry], ascending: Bool) {
        let position = list.firstIndex { ascending ? entry.score < $0.score : entry.score > $0.score } ?? list.count
        list.insert(entry, at: position)
    }

    /// Classes that saw no correct pixel at all: their keys and prototype are zeros.
    public var emptyClasses: [Int] { (0..<classes).filter { hard[$0].isEmpty && good[$0].isEmpty } }

    /// Classes with pixels whose hard or good list is empty (the release
    /// crashes on them): the other list stands in for the empty one.
    public var oneSidedClasses: [Int] { (0..<classes).filter { hard[$0].isEmpty != good[$0].isEmpty } }

    /// keys [K*KL, C] (class-major, ascending score) and prototypes [K, C].
    /// Short lists repeat cyclically up to KL (keys) and KH (before the
    /// mean). The release rule averages in float32 in list order, as numpy's
    /// mean over axis 0 does; the plain rule in float64.
    public func memory() -> (keys: [Float], prototypes: [Float]) {
        let c = channels
        var keys = [Float](repeating: 0, count: classes * hardCount * c)
        var prototypes = [Float](repeating: 0, count: classes * c)
        for k in 0..<classes {
            let hardList = hard[k].isEmpty ? good[k] : hard[k]
            if !hardList.isEmpty {
                for i in 0..<hardCount {
                    keys.replaceSubrange(
                        ((k * hardCount + i) * c)..<((k * hardCount + i + 1) * c),
                        with: hardList[i % hardList.count].feature)
                }
            }
            let goodList = good[k].isEmpty ? hard[k] : good[k]
            guard !goodList.isEmpty else { continue }
            let repeated = (0..<goodCount).map { goodList[$0 % goodList.count].feature }
            switch rule {
            case .plain:
                var sum = [Double](repeating: 0, count: c)
                for feature in repeated { for ch in 0..<c { sum[ch] += Double(feature[ch]) } }
                for ch in 0..<c { prototypes[k * c + ch] = Float(sum[ch] / Double(goodCount)) }
            case .release:
                var sum = [Float](repeating: 0, count: c)
                for feature in repeated { for ch in 0..<c { sum[ch] += feature[ch] } }
                for ch in 0..<c { prototypes[k * c + ch] = sum[ch] / Float(goodCount) }
            }
        }
        return (keys, prototypes)
    }
}
