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
            let label = i % 7 == 0 ? 2 : Int(s >> 62) // class 2 is rare: 29 pixels; classes 0, 1, 3 common
            let score = Float(Int(s >> 40) % 1000) / 1000   // ties happen
            out.append((label, score))
        }
        out += [(1, 0.5), (1, 0.5), (3, 0.9)] // exact ties at the end
        return out
    }()

    static func run(_ rule: MemorySampler.Rule, kl: Int, kh: Int) -> (keys: [Float], prototypes: [Float]) {
        var sampler = MemorySampler(classes: 5, channels: 3, hardCount: kl, goodCount: kh, rule: rule)
        for (i, (label, score)) in stream.enumerated() { sampler.offer(label: label, score: score) { [Float(i), Float(label), score] } }
        return sampler.memory()
    }

    /// The expected memory from the chosen pixel indices of each class.
    static func expected(hard: [[Int]], good: [[Int]], kl: Int, kh: Int) -> (keys: [Float], prototypes: [Float]) {
        var keys = [Float](repeating: 0, count: 5 * kl * 3), prototypes = [Float](repeating: 0, count: 5 * 3)
        for cls in 0..<5 {
            let hardList = hard[cls].isEmpty ? good[cls] : hard[cls], goodList = good[cls].isEmpty ? hard[cls] : good[cls]
            for i in 0..<kl where !hardList.isEmpty {
                let p = hardList[i % hardList.count]
                keys.replaceSubrange(((cls * kl + i) * 3)..<((cls * kl + i) * 3 + 3), with: [Float(p), Float(stream[p].0), stream[p].1])
            }
            if !goodList.isEmpty {
                var sum = [Double](repeating: 0, count: 3)
                for i in 0..<kh {
                    let p = goodList[i % goodList.count]
                    sum[0] += Double(p); sum[1] += Double(stream[p].0); sum[2] += Double(stream[p].1)
                }
                for ch in 0..<3 { prototypes[cls * 3 + ch] = Float(sum[ch] / Double(kh)) }
            }
        }
        return (keys, prototypes)
    }

    @Test(arguments: [(10, 10), (3, 5), (40, 2)])
    func plainRuleSelectsLowestAndHighest(kl: Int, kh: Int) {
        var hard: [[Int]] = [], good: [[Int]] = []
        for cls in 0..<5 {
            let mine = Self.stream.indices.filter { Self.stream[$0].0 == cls }
            hard.append(Array(mine.sorted { (Self.stream[$0].1, $0) < (Self.stream[$1].1, $1) }.prefix(kl)))
            good.append(Array(mine.sorted { Self.stream[$0].1 != Self.stream[$1].1 ? Self.stream[$0].1 > Self.stream[$1].1 : $0 < $1 }.prefix(kh)))
        }
        let got = Self.run(.plain, kl: kl, kh: kh), want = Self.expected(hard: hard, good: good, kl: kl, kh: kh)
        #expect(got.keys == want.keys)
        #expect(zip(got.prototypes, want.prototypes).allSatisfy { abs($0 - $1) < 1e-5 })
    }

    @Test(arguments: [(10, 10), (3, 5), (40, 2)])
    func releaseSamplerOffersToHardFirst(kl: Int, kh: Int) {
        // Replay: a pixel joins the hard set if it is among the kl lowest so
        // far (evicting the highest); only otherwise is it offered to the good set.
        var hard = [[Int]](repeating: [], count: 5), good = [[Int]](repeating: [], count: 5)
        for (i, (cls, score)) in Self.stream.enumerated() {
            let worstHard = hard[cls].max { (Self.stream[$0].1, $0) < (Self.stream[$1].1, $1) }
            if hard[cls].count < kl || score < Self.stream[worstHard!].1 {
                hard[cls].append(i)
                if hard[cls].count > kl { hard[cls].removeAll { $0 == worstHard! } }
                continue
            }
            let worstGood = good[cls].min { Self.stream[$0].1 != Self.stream[$1].1 ? Self.stream[$0].1 < Self.stream[$1].1 : $0 > $1 }
            if good[cls].count < kh || score > Self.stream[worstGood!].1 {
                good[cls].append(i)
                if good[cls].count > kh { good[cls].removeAll { $0 == worstGood! } }
            }
        }
        hard = hard.map { $0.sorted { (Self.stream[$0].1, $0) < (Self.stream[$1].1, $1) } }
        good = good.map { $0.sorted { Self.stream[$0].1 != Self.stream[$1].1 ? Self.stream[$0].1 > Self.stream[$1].1 : $0 < $1 } }
        for cls in 0..<5 { #expect(Set(hard[cls]).isDisjoint(with: good[cls]), "never in both") }
        let got = Self.run(.release, kl: kl, kh: kh), want = Self.expected(hard: hard, good: good, kl: kl, kh: kh)
        #expect(got.keys == want.keys)
        #expect(zip(got.prototypes, want.prototypes).allSatisfy { abs($0 - $1) < 1e-5 })
    }

    @Test func rulesDifferForARareClass() {
        // Class 2 has 29 pixels < KL + KH = 40: the release rule sends the first 20 to the hard set.
        let plain = Self.run(.plain, kl: 20, kh: 20), release = Self.run(.release, kl: 20, kh: 20)
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
