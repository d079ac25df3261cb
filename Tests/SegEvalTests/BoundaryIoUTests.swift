import SegEval
import SegLabels
import Testing

/// Boundary IoU's row sweep (`BoundaryIoU.add`) against its per-class plain
/// twin (`addPerClass`, itself checked against boundary-iou-api in
/// VSPWMetricsTests): integer counts must be equal, not close.
@Suite struct BoundaryIoUSweepTests {
    /// A seeded generator, so a failing case can be replayed from its message.
    struct SplitMix: RandomNumberGenerator {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE5_E9B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
    }

    /// Label maps of the kinds that stress the sweep: rectangles of classes
    /// (long runs, boundaries in both directions), salt of single pixels,
    /// ignore (255) and ids past the evaluated classes, or one class only.
    static func map(width: Int, height: Int, classes k: Int, style: Int, rng: inout SplitMix) -> LabelMap {
        var ids = [UInt8](repeating: UInt8.random(in: 0..<UInt8(k), using: &rng), count: width * height)
        guard style > 0 else { return LabelMap(width: width, height: height, ids: ids) }
        let palette: [UInt8] = Array(0..<UInt8(k)) + [255, UInt8(k), 200]
        for _ in 0..<Int.random(in: 1...12, using: &rng) {
            let x0 = Int.random(in: 0..<width, using: &rng)
            let y0 = Int.random(in: 0..<height, using: &rng)
            let x1 = min(width, x0 + Int.random(in: 1...max(1, width), using: &rng))
            let y1 = min(height, y0 + Int.random(in: 1...max(1, height), using: &rng))
            let label = palette.randomElement(using: &rng)!
            for y in y0..<y1 { for x in x0..<x1 { ids[y * width + x] = label } }
        }
        if style > 1 {
            for i in ids.indices where Int.random(in: 0..<30, using: &rng) == 0 {
                ids[i] = palette.randomElement(using: &rng)!
            }
        }
        return LabelMap(width: width, height: height, ids: ids)
    }

    static func counts(
        _ gt: LabelMap, _ prediction: LabelMap, classes k: Int, ratio: Double, perClass: Bool
    ) -> (intersections: [Int64], unions: [Int64]) {
        var intersections = [Int64](repeating: 0, count: k)
        var unions = intersections
        if perClass {
            BoundaryIoU.addPerClass(
                groundTruth: gt, prediction: prediction, classes: k, ratio: ratio, intersections: &intersections,
                unions: &unions)
        } else {
            BoundaryIoU.add(
                groundTruth: gt, prediction: prediction, classes: k, ratio: ratio, intersections: &intersections,
                unions: &unions)
        }
        return (intersections, unions)
    }

    @Test func sweepEqualsTheTwinOnRandomMaps() {
        // Sizes: single rows and columns, squares, the (2d+1)-square just
        // fitting or not, and wide maps; ratios from d = 1 to d past the image.
        let sizes = [
            (1, 1), (1, 17), (23, 1), (2, 2), (3, 3), (5, 5), (7, 4), (9, 50), (50, 9), (37, 23), (64, 40),
            (120, 7), (33, 33), (97, 61),
        ]
        let ratios = [0.001, 0.02, 0.05, 0.1, 0.2, 0.45, 0.9]
        var rng = SplitMix(state: 23)
        var cases = 0
        var withBoundaries = 0
        for (width, height) in sizes {
            for ratio in ratios {
                for style in 0..<3 {
                    let k = [1, 3, 6, 19][Int.random(in: 0..<4, using: &rng)]
                    let gt = Self.map(width: width, height: height, classes: k, style: style, rng: &rng)
                    // Predictions: another map, or the GT with salt (mostly agreeing boundaries).
                    var prediction = Self.map(width: width, height: height, classes: k, style: 2, rng: &rng)
                    if Bool.random(using: &rng) {
                        prediction = gt
                        for i in prediction.ids.indices where Int.random(in: 0..<15, using: &rng) == 0 {
                            prediction.ids[i] = UInt8.random(in: 0...UInt8(k), using: &rng)
                        }
                    }
                    let fast = Self.counts(gt, prediction, classes: k, ratio: ratio, perClass: false)
                    let plain = Self.counts(gt, prediction, classes: k, ratio: ratio, perClass: true)
                    #expect(
                        fast.intersections == plain.intersections && fast.unions == plain.unions,
                        "\(width)x\(height) ratio \(ratio) style \(style) classes \(k)")
                    cases += 1
                    if plain.unions.reduce(0, +) > 0 { withBoundaries += 1 }
                }
            }
        }
        #expect(cases == 14 * 7 * 3)
        #expect(withBoundaries > cases * 3 / 4, "the cases have boundaries to count")
    }

    /// Counts worked out by hand: a 9x9 map of class 0 with a 3x3 block of
    /// class 1 in the middle (rows and columns 3...5), d = 1.
    @Test func countsOfABlockByHand() {
        var ids = [UInt8](repeating: 0, count: 81)
        for y in 3...5 { for x in 3...5 { ids[y * 9 + x] = 1 } }
        let gt = LabelMap(width: 9, height: 9, ids: ids)
        // ratio 0.05 x diagonal 12.7 rounds to d = 1.
        #expect(BoundaryIoU.dilation(width: 9, height: 9, ratio: 0.05) == 1)
        let same = Self.counts(gt, gt, classes: 2, ratio: 0.05, perClass: false)
        // Class 1: the 8 pixels of the block around its centre (the centre's
        // 3x3 square is all class 1). Class 0: the 32 pixels of the image's
        // edge ring and the 16 around the block.
        #expect(same.intersections == [48, 8] && same.unions == [48, 8])
        // Prediction all class 0: its boundary is the edge ring only (32 px);
        // class 1 has no predicted boundary.
        let flat = LabelMap(width: 9, height: 9, ids: [UInt8](repeating: 0, count: 81))
        let against = Self.counts(gt, flat, classes: 2, ratio: 0.05, perClass: false)
        #expect(against.intersections == [32, 0] && against.unions == [48, 8])
        // Ignored GT pixels drop the prediction there: the block ignored, the
        // prediction's class 0 mask gets a hole whose rim (16 px) is boundary.
        for y in 3...5 { for x in 3...5 { ids[y * 9 + x] = 255 } }
        let holed = LabelMap(width: 9, height: 9, ids: ids)
        let ignored = Self.counts(holed, flat, classes: 2, ratio: 0.05, perClass: false)
        #expect(ignored.intersections == [48, 0] && ignored.unions == [48, 0])
    }
}

/// The band's row sweep against the band by definition: every pixel within
/// Chebyshev distance `width` of a boundary pixel (`BoundaryBand.boundary`,
/// 4-neighbour marks), by brute force.
@Suite struct BoundaryBandSweepTests {
    @Test func bandEqualsBruteForceOnRandomMaps() {
        var rng = BoundaryIoUSweepTests.SplitMix(state: 3)
        let sizes = [(1, 1), (1, 12), (12, 1), (2, 3), (31, 17), (17, 31), (64, 5)]
        var inBand = 0
        var outside = 0
        for (width, height) in sizes {
            for style in 0..<3 {
                let map = BoundaryIoUSweepTests.map(width: width, height: height, classes: 4, style: style, rng: &rng)
                let edge = BoundaryBand.boundary(map)
                // Radii past the image's sides too (they reach everything a full-width one does).
                for radius in [0, 1, 2, 5, 16, 40] {
                    let band = BoundaryBand.band(map, width: radius)
                    var expected = [Bool](repeating: false, count: width * height)
                    for y in 0..<height {
                        for x in 0..<width where edge[y * width + x] {
                            for yy in max(0, y - radius)...min(height - 1, y + radius) {
                                for xx in max(0, x - radius)...min(width - 1, x + radius) {
                                    expected[yy * width + xx] = true
                                }
                            }
                        }
                    }
                    #expect(band == expected, "\(width)x\(height) style \(style) radius \(radius)")
                    inBand += expected.filter { $0 }.count
                    outside += expected.filter { !$0 }.count
                }
            }
        }
        #expect(inBand > 0 && outside > 0, "both kinds of pixel are tested")
    }
}
