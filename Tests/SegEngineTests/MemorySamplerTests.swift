import SegEngine
import Testing

/// Streams whose right answer is known, checked against a plain restatement
/// of each rule (sort everything / replay the release's offer order).
@Suite struct MemorySamplerTests {
    /// (label, score); feature of pixel i is [i, label, score] so picks are identifiable.
    static let stream: [(Int, Float)] = {
        var out: [(Int, Float)] = []
        var s: UInt64 = 7
        for i in 0..<200 {
            s = s &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            let label = i % 7 == 0 ? 2 : Int(s >> 62)  // class 2 is rare: 29 pixels; classes 0, 1, 3 common
            let score = Float(Int(s >> 40) % 1000) / 1000  // ties happen
            out.append((label, score))
        }
        out += [(1, 0.5), (1, 0.5), (3, 0.9)]  // exact ties at the end
        return out
    }()

    static func run(_ rule: MemorySampler.Rule, kl: Int, kh: Int) -> (keys: [Float], prototypes: [Float]) {
        var sampler = MemorySampler(classes: 5, channels: 3, hardCount: kl, goodCount: kh, rule: rule)
        for (i, (label, score)) in stream.enumerated() {
            sampler.offer(label: label, score: score) { [Float(i), Float(label), score] }
        }
        return sampler.memory()
    }

    /// The expected memory from the chosen pixel indices of each class.
    static func expected(hard: [[Int]], good: [[Int]], kl: Int, kh: Int) -> (keys: [Float], prototypes: [Float]) {
        var keys = [Float](repeating: 0, count: 5 * kl * 3)
        var prototypes = [Float](repeating: 0, count: 5 * 3)
        for cls in 0..<5 {
            let hardList = hard[cls].isEmpty ? good[cls] : hard[cls]
            let goodList = good[cls].isEmpty ? hard[cls] : good[cls]
            for i in 0..<kl where !hardList.isEmpty {
                let p = hardList[i % hardList.count]
                keys.replaceSubrange(
                    ((cls * kl + i) * 3)..<((cls * kl + i) * 3 + 3), with: [Float(p), Float(stream[p].0), stream[p].1])
            }
            if !goodList.isEmpty {
                var sum = [Double](repeating: 0, count: 3)
                for i in 0..<kh {
                    let p = goodList[i % goodList.count]
                    sum[0] += Double(p)
                    sum[1] += Double(stream[p].0)
                    sum[2] += Double(stream[p].1)
                }
                for ch in 0..<3 { prototypes[cls * 3 + ch] = Float(sum[ch] / Double(kh)) }
            }
        }
        return (keys, prototypes)
    }

    @Test(arguments: [(10, 10), (3, 5), (40, 2)])
    func plainRuleSelectsLowestAndHighest(kl: Int, kh: Int) {
        var hard: [[Int]] = []
        var good: [[Int]] = []
        for cls in 0..<5 {
            let mine = Self.stream.indices.filter { Self.stream[$0].0 == cls }
            hard.append(Array(mine.sorted { (Self.stream[$0].1, $0) < (Self.stream[$1].1, $1) }.prefix(kl)))
            good.append(
                Array(
                    mine.sorted {
                        Self.stream[$0].1 != Self.stream[$1].1 ? Self.stream[$0].1 > Self.stream[$1].1 : $0 < $1
                    }.prefix(kh)))
        }
        let got = Self.run(.plain, kl: kl, kh: kh)
        let want = Self.expected(hard: hard, good: good, kl: kl, kh: kh)
        #expect(got.keys == want.keys)
        #expect(zip(got.prototypes, want.prototypes).allSatisfy { abs($0 - $1) < 1e-5 })
    }

    /// The spec's release rule restated literally (append, stable sort, pop
    /// the end, threshold from the list), on (label, score) streams; returns
    /// the memory as numpy would compute it (float32 mean over the
    /// cyclically repeated good list).
    static func releaseRestated(_ stream: [(Int, Float)], classes: Int, kl: Int, kh: Int) -> (
        keys: [Float], prototypes: [Float]
    ) {
        var h = [[Int]](repeating: [], count: classes)
        var g = [[Int]](repeating: [], count: classes)
        var hmax = [Float](repeating: 1, count: classes)
        var gmin = [Float](repeating: 0, count: classes)
        func sortedStably(_ list: [Int]) -> [Int] {
            list.enumerated().sorted { (stream[$0.element].1, $0.offset) < (stream[$1.element].1, $1.offset) }.map(
                \.element)
        }
        for (i, (cls, score)) in stream.enumerated() {
            if score < hmax[cls] {
                h[cls] = sortedStably(h[cls] + [i])
                if h[cls].count > kl { h[cls].removeLast() }
                hmax[cls] = stream[h[cls].last!].1
            } else if score > gmin[cls] {
                g[cls] = sortedStably(g[cls] + [i])
                if g[cls].count > kh { g[cls].removeFirst() }
                gmin[cls] = stream[g[cls].first!].1
            }
        }
        func feature(_ i: Int) -> [Float] { [Float(i), Float(stream[i].0), stream[i].1] }
        var keys: [Float] = []
        var prototypes: [Float] = []
        for cls in 0..<classes {
            let hardList = h[cls].isEmpty ? g[cls] : h[cls]
            let goodList = g[cls].isEmpty ? h[cls] : g[cls]
            let repeatedKeys =
                hardList.isEmpty
                ? [] : Array(Array(repeating: hardList, count: kl / hardList.count + 1).joined().prefix(kl))
            keys += repeatedKeys.isEmpty ? [Float](repeating: 0, count: kl * 3) : repeatedKeys.flatMap(feature)
            let repeatedGood =
                goodList.isEmpty
                ? [] : Array(Array(repeating: goodList, count: kh / goodList.count + 1).joined().prefix(kh))
            var sum: [Float] = [0, 0, 0]
            for p in repeatedGood { for (ch, v) in feature(p).enumerated() { sum[ch] += v } }
            prototypes += repeatedGood.isEmpty ? [0, 0, 0] : sum.map { $0 / Float(kh) }
        }
        return (keys, prototypes)
    }

    static func runRelease(_ stream: [(Int, Float)], classes: Int, kl: Int, kh: Int) -> MemorySampler {
        var sampler = MemorySampler(classes: classes, channels: 3, hardCount: kl, goodCount: kh, rule: .release)
        for (i, (label, score)) in stream.enumerated() {
            sampler.offer(label: label, score: score) { [Float(i), Float(label), score] }
        }
        return sampler
    }

    /// Few pixels per class, ties, scores of exactly 1.0 and a class whose
    /// good list stays empty; plus the long random stream.
    static let releaseCases: [(name: String, stream: [(Int, Float)], classes: Int)] = [
        ("random", stream, 5),
        // Class 0: descending scores all go hard; class 1: ascending scores,
        // only the first is hard, the rest good; class 2: ties at every level.
        (
            "few",
            [
                (0, 0.9), (0, 0.8), (1, 0.2), (0, 0.7), (1, 0.3), (2, 0.5), (2, 0.5), (1, 0.4), (2, 0.5), (2, 0.6),
                (2, 0.4),
            ], 3
        ),
        // Scores of exactly 1.0 are never hard; class 1 has only 1.0s (hard list empty).
        ("ones", [(0, 1.0), (0, 0.99), (1, 1.0), (1, 1.0), (0, 1.0), (0, 0.99)], 2),
        // Class 1 never gets a good pixel: each score is below the last (all hard), then equal ones are dropped.
        ("no good", [(1, 0.9), (1, 0.7), (1, 0.5), (0, 0.3), (0, 0.6), (1, 0.5), (1, 0.9)], 2),
    ]

    @Test(arguments: [(10, 10), (3, 5), (40, 2), (1, 1), (2, 3)])
    func releaseSamplerEqualsTheSpecRestated(kl: Int, kh: Int) {
        for (name, stream, classes) in Self.releaseCases {
            let sampler = Self.runRelease(stream, classes: classes, kl: kl, kh: kh)
            let got = sampler.memory()
            let want = Self.releaseRestated(stream, classes: classes, kl: kl, kh: kh)
            #expect(got.keys == want.keys, "\(name) keys, KL \(kl) KH \(kh)")
            #expect(got.prototypes == want.prototypes, "\(name) prototypes, KL \(kl) KH \(kh)")
        }
    }

    @Test func releaseThresholdIsTheLargestKeptHardScore() {
        // The second pixel of class 0 scores above the first: it is good, not
        // hard, although the hard list holds one pixel of ten.
        let sampler = Self.runRelease([(0, 0.4), (0, 0.6), (0, 0.5), (0, 0.3)], classes: 1, kl: 10, kh: 10)
        let keys = sampler.memory().keys
        #expect(Array(keys[0..<6]) == [3, 0, 0.3, 0, 0, 0.4], "hard = pixels 3 and 0, ascending")
        #expect(Array(keys[6..<9]) == [3, 0, 0.3], "repeated cyclically")
        // Good = pixel 1 only: pixel 2's 0.5 is neither below 0.4 nor above 0.6, so it is dropped.
        #expect(zip(sampler.memory().prototypes, [1, 0, 0.6]).allSatisfy { abs($0 - $1) < 1e-6 })
    }

    @Test func releaseEmptyGoodListIsReported() {
        let sampler = Self.runRelease([(1, 0.9), (1, 0.7), (0, 0.3), (0, 0.6)], classes: 2, kl: 2, kh: 2)
        #expect(sampler.oneSidedClasses == [1])
        #expect(sampler.emptyClasses == [])
        // Class 1's prototype falls back to the mean of its hard keys (0.7 then 0.9).
        #expect(Array(sampler.memory().prototypes[3..<6]) == [0.5, 1, (Float(0.7) + Float(0.9)) / 2])
    }

    @Test func rulesDifferForARareClass() {
        // Class 2 has 29 pixels < KL + KH = 40: the plain rule may use a pixel twice, the release's never.
        let plain = Self.run(.plain, kl: 20, kh: 20)
        let release = Self.run(.release, kl: 20, kh: 20)
        #expect(Array(plain.prototypes[6..<9]) != Array(release.prototypes[6..<9]))
    }

    @Test func aClassWithoutPixelsIsZeroAndReported() {
        var sampler = MemorySampler(classes: 5, channels: 3, hardCount: 2, goodCount: 2, rule: .plain)
        sampler.offer(label: 0, score: 0.5) { [1, 2, 3] }
        #expect(sampler.emptyClasses == [1, 2, 3, 4])
        let memory = sampler.memory()
        #expect(Array(memory.keys[0..<6]) == [1, 2, 3, 1, 2, 3], "a short list repeats cyclically")
        #expect(memory.keys[6...].allSatisfy { $0 == 0 })
    }
}
