import SegDataset
import SegEval
import SegLabels
import Testing

/// Reference twins: plain loops, obviously right, compared with the fast paths.
@Suite struct KernelTests {
    static func randomMap(width: Int, height: Int, seed: UInt64, classes: Int, blobs: Bool = true) -> LabelMap {
        var state = seed
        func next() -> Int {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return Int(state >> 33)
        }
        var ids = [UInt8](repeating: 0, count: width * height)
        for i in ids.indices {
            let roll = next() % 100
            ids[i] =
                roll < 5
                ? 255
                : UInt8(blobs ? ((i % width) / 7 + (i / width) / 5 + (roll < 15 ? 1 : 0)) % classes : next() % classes)
        }
        return LabelMap(width: width, height: height, ids: ids)
    }

    @Test func confusionMatchesPlainCounting() {
        let k = 19
        let gt = Self.randomMap(width: 61, height: 37, seed: 1, classes: k)
        // ids 19..24: no evaluated class
        var pred = Self.randomMap(width: 61, height: 37, seed: 2, classes: 25, blobs: false)
        pred.ids[0] = 255
        var fast = ConfusionMatrix(classes: k)
        fast.add(groundTruth: gt, prediction: pred)
        var reference = [Int64](repeating: 0, count: k * (k + 1))
        for i in gt.ids.indices where gt.ids[i] != 255 {
            let p = Int(pred.ids[i]) < k ? Int(pred.ids[i]) : k
            reference[Int(gt.ids[i]) * (k + 1) + p] += 1
        }
        #expect(fast.counts == reference)
        #expect(fast.total == Int64(gt.ids.filter { $0 != 255 }.count))
    }

    @Test func metricsByHand() {
        // 2 classes. GT 0: 3 px (2 right, 1 predicted as "other"); GT 1: 2 px (1 right, 1 predicted 0).
        let m = ConfusionMatrix(classes: 3, counts: [2, 0, 0, 1, 1, 1, 0, 0, 0, 0, 0, 0])  // 3 rows of K + 1 = 4 counts
        let metrics = Metrics(m)
        #expect(metrics.iou[0] == 2.0 / 4.0)  // tp 2, fn 1 (other), fp 1
        #expect(metrics.iou[1] == 1.0 / 2.0)  // tp 1, fn 1
        #expect(metrics.iou[2].isNaN)  // no GT, no prediction: left out of the mean
        #expect(metrics.meanIoU == 0.5)
        #expect(metrics.pixelAccuracy == 3.0 / 5.0)
        #expect(metrics.meanAccuracy == (2.0 / 3.0 + 1.0 / 2.0) / 2)
        #expect(abs(metrics.frequencyWeightedIoU - (3.0 / 5.0 * 0.5 + 2.0 / 5.0 * 0.5)) < 1e-15)
    }

    @Test(arguments: [(40, 23), (1, 9), (9, 1), (2, 2)])
    func bandMatchesBruteForceChebyshev(width: Int, height: Int) {
        let map = Self.randomMap(width: width, height: height, seed: 3, classes: 4)
        let edge = BoundaryBand.boundary(map)
        for radius in [0, 1, 3] {
            let fast = BoundaryBand.band(map, width: radius)
            for y in 0..<map.height {
                for x in 0..<map.width {
                    var near = false
                    for yy in max(0, y - radius)...min(map.height - 1, y + radius) {
                        for xx in max(0, x - radius)...min(map.width - 1, x + radius) where edge[yy * map.width + xx] {
                            near = true
                        }
                    }
                    #expect(fast[y * map.width + x] == near, "r=\(radius) at \(x),\(y)")
                }
            }
        }
        let distance = BoundaryBand.distance(map, cap: 50)
        for y in 0..<map.height {
            for x in 0..<map.width {
                var best = 50
                for yy in 0..<map.height {
                    for xx in 0..<map.width where edge[yy * map.width + xx] {
                        best = min(best, max(abs(xx - x), abs(yy - y)))
                    }
                }
                #expect(Int(distance[y * map.width + x]) == best)
            }
        }
    }

    @Test func flipClasses() {
        #expect(FlipCounts.classify(gt: 1, reference: 2, method: 1) == .fixed)
        #expect(FlipCounts.classify(gt: 1, reference: 1, method: 2) == .broken)
        #expect(FlipCounts.classify(gt: 1, reference: 2, method: 3) == .changedWrong)
        #expect(FlipCounts.classify(gt: 1, reference: 3, method: 3) == .unchanged)
        #expect(FlipCounts.classify(gt: 255, reference: 1, method: 2) == .unchanged)
    }
}

/// Suspects against a plain restatement of the rule.
@Suite struct SuspectTests {
    @Test func maskEqualsThePlainRule() {
        var rng = SystemRandomNumberGenerator()
        let w = 37
        let h = 23
        let n = w * h
        let classes = 5
        for _ in 0..<20 {
            let gt = LabelMap(
                width: w, height: h, ids: (0..<n).map { _ in [0, 1, 2, 3, 4, 255].randomElement(using: &rng)! })
            let predictions = (0..<3).map { _ in
                LabelMap(width: w, height: h, ids: (0..<n).map { _ in UInt8.random(in: 0...5, using: &rng) })
            }
            let confidences: [ConfidenceMap?] = [
                ConfidenceMap(width: w, height: h, values: (0..<n).map { _ in Float.random(in: 0...1, using: &rng) }),
                nil,
                ConfidenceMap(width: w, height: h, values: (0..<n).map { _ in Float.random(in: 0...1, using: &rng) }),
            ]
            let mask = Suspects.mask(
                groundTruth: gt, predictions: predictions, confidences: confidences, tau: 0.5, classes: classes)
            for i in 0..<n {
                let p = predictions.map { Int($0.ids[i]) }
                let agree = Set(p).count == 1
                let confident = confidences.allSatisfy { $0 == nil || $0!.values[i] >= 0.5 }
                let expected =
                    Int(gt.ids[i]) < classes && p[0] < classes && p[0] != Int(gt.ids[i]) && agree && confident
                #expect((mask[i] == 1) == expected)
            }
            let regions = Suspects.regions(mask: mask, groundTruth: gt, agreed: predictions[0])
            #expect(regions.reduce(0) { $0 + $1.pixels } == mask.reduce(0) { $0 + Int($1) })
        }
    }
}

/// Boundary IoU's one-pass kernel against its per-class twin.
@Suite struct BoundaryIoUKernelTests {
    @Test(arguments: [(37, 23, 0.02), (64, 40, 0.1), (9, 50, 0.3), (120, 7, 0.05)])
    func allClassesAtOnceEqualsClassByClass(width: Int, height: Int, ratio: Double) {
        var rng = SystemRandomNumberGenerator()
        let k = 6
        // Blocky maps (boundaries to find) with some salt, ignore and out-of-range values.
        func map() -> LabelMap {
            let blocks = (0..<(width * height / 16 + 1)).map { _ in UInt8.random(in: 0..<UInt8(k), using: &rng) }
            return LabelMap(
                width: width, height: height,
                ids: (0..<(width * height)).map { i in
                    let r = Int.random(in: 0..<40, using: &rng)
                    let x = i % width
                    let y = i / width
                    return r == 0 ? 255 : r == 1 ? UInt8(k) : blocks[((y / 4) * (width / 4 + 1) + x / 4) % blocks.count]
                })
        }
        for _ in 0..<5 {
            let gt = map()
            let prediction = map()
            var fast = ([Int64](repeating: 0, count: k), [Int64](repeating: 0, count: k))
            var plain = fast
            BoundaryIoU.add(
                groundTruth: gt, prediction: prediction, classes: k, ratio: ratio, intersections: &fast.0,
                unions: &fast.1)
            BoundaryIoU.addPerClass(
                groundTruth: gt, prediction: prediction, classes: k, ratio: ratio, intersections: &plain.0,
                unions: &plain.1)
            #expect(fast.0 == plain.0 && fast.1 == plain.1, "\(width)x\(height) ratio \(ratio)")
            #expect(plain.1.reduce(0, +) > 0)
        }
    }
}
