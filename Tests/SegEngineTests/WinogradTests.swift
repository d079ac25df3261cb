import SegEngine
import Testing

/// Winograd F(2x2, 3x3) and F(4x4, 3x3) against the direct convolution in
/// float64 (`Reference`, BatchNorm unfolded). Stated bound: for every output,
/// |error| <= eps * L, where L is the largest sum of absolute terms
/// sum |w s| |x| + |b| of any output (what a float32 sum of those terms can be
/// off by is a multiple of L): eps = 1e-6 for F(2x2), 1e-5 for F(4x4), whose
/// transforms have entries up to 8 and 1/24.
@Suite struct WinogradTests {
    typealias V = KernelTwinTests

    /// (inputs, outputs, height, width, padding, dilation): sizes that are
    /// and are not multiples of the tile, dilations 2 and 4 through their
    /// sub-grids (with the backbone's padding = dilation, and without),
    /// several channel groups (Cin 600 > 512), fewer outputs than a tile.
    static let cases: [(Int, Int, Int, Int, Int, Int)] = [
        (3, 5, 8, 8, 1, 1), (7, 4, 13, 11, 1, 1), (4, 6, 12, 12, 2, 2), (5, 3, 17, 14, 4, 4), (6, 4, 11, 9, 0, 2),
        (600, 8, 10, 9, 1, 1), (64, 24, 3, 5, 1, 1), (16, 16, 30, 22, 1, 3),
    ]

    static func bound(_ transform: WinogradTransform) -> Double { transform.outputTile == 2 ? 1e-6 : 1e-5 }

    @Test(arguments: cases.indices, [2, 4])
    func withinTheStatedBoundOfFloat64(index: Int, tile: Int) {
        let (ci, co, h, w, p, d) = Self.cases[index]
        let transform = tile == 2 ? WinogradTransform.f2 : WinogradTransform.f4
        let x = V.values(ci * h * w, seed: UInt64(50 + index))
        let weight = V.values(co * ci * 9, seed: UInt64(60 + index)).map { $0 / 3 }
        let gamma = V.values(co, seed: 1).map { $0 + 1.5 }
        let beta = V.values(co, seed: 2)
        let mean = V.values(co, seed: 3).map { $0 * 0.2 }
        let variance = V.values(co, seed: 4).map { $0 * 0.5 + 0.8 }
        // L: the same convolution of |x| with |w s| and bias |b|.
        let scale = (0..<co).map { gamma[$0] / (variance[$0] + 1e-5).squareRoot() }
        let bias = (0..<co).map { abs(beta[$0] - mean[$0] * scale[$0]) }
        let magnitude = Reference.convolutionBatchNorm(
            x.map(abs), weight: weight.map(abs), inputs: ci, outputs: co, height: h, width: w,
            kernel: 3, stride: 1, padding: p, dilation: d, gamma: scale.map(abs), beta: bias,
            mean: [Float](repeating: 0, count: co), variance: [Float](repeating: 1 - 1e-5, count: co),
            relu: false)
        let l = Double(magnitude.max()!)
        for relu in [false, true] {
            let fast = Kernels.convolutionBatchNorm(
                x, weight: weight, inputs: ci, outputs: co, height: h, width: w, kernel: 3, stride: 1,
                padding: p, dilation: d, gamma: gamma, beta: beta, mean: mean, variance: variance,
                relu: relu, method: .winograd(transform))
            let exact = Reference.convolutionBatchNorm(
                x, weight: weight, inputs: ci, outputs: co, height: h, width: w, kernel: 3, stride: 1,
                padding: p, dilation: d, gamma: gamma, beta: beta, mean: mean, variance: variance,
                relu: relu)
            #expect(fast.count == exact.count)
            let error = Double(V.maxDifference(fast, exact))
            #expect(error <= Self.bound(transform) * l, "case \(index) F(\(tile)): error \(error), L \(l)")
        }
    }

    /// PSPHead's bottleneck: the input as channel parts, several groups.
    @Test(arguments: [2, 4])
    func overChannelParts(tile: Int) {
        let (h, w, co) = (9, 10, 6)
        let widths = [300, 250, 7]
        let ci = widths.reduce(0, +)
        let x = V.values(ci * h * w, seed: 71)
        let weight = V.values(co * ci * 9, seed: 72).map { $0 / 3 }
        let ones = [Float](repeating: 1, count: co)
        let zeros = [Float](repeating: 0, count: co)
        let fast = Kernels.convolutionBatchNorm(
            parts: widths, x, weight: weight, outputs: co, height: h, width: w, kernel: 3, stride: 1,
            padding: 1, dilation: 1, gamma: ones, beta: zeros, mean: zeros,
            variance: [Float](repeating: 1 - 1e-5, count: co), relu: false,
            method: .winograd(tile == 2 ? .f2 : .f4))
        let gemm = Kernels.convolutionBatchNorm(
            parts: widths, x, weight: weight, outputs: co, height: h, width: w, kernel: 3, stride: 1,
            padding: 1, dilation: 1, gamma: ones, beta: zeros, mean: zeros,
            variance: [Float](repeating: 1 - 1e-5, count: co), relu: false, method: .gemm)
        // L here is at most 557 * 9 / 3 = 1671 (|x|, 3|w| <= 1).
        #expect(Double(V.maxDifference(fast, gemm)) <= (tile == 2 ? 1e-6 : 1e-5) * 1671 + 2e-4)
        #expect(V.maxDifference(fast, gemm) > 0, "Winograd ran (it rounds differently from the GEMM)")
    }
}
