import SegEngine
import Testing

/// The backbone's kernels against their plain twins. Tolerances (max abs,
/// inputs in [-1, 1]): 1e-4 for convolution with folded BatchNorm (float32
/// sums of up to 576 products against float64 with BN unfolded), 1e-6 for
/// adaptive average pooling.
@Suite struct BackboneKernelTests {
    typealias V = KernelTwinTests

    /// (inputs, outputs, height, width, kernel, stride, padding, dilation):
    /// 1x1 direct and strided, 3x3 with stride 2, dilations 2 and 4 with
    /// padding = dilation, one with several output tiles and taps gathered one
    /// at a time (Cin 600 > 512 columns per group), one with all taps in one group.
    static let cases: [(Int, Int, Int, Int, Int, Int, Int, Int)] = [
        (5, 7, 9, 11, 1, 1, 0, 1), (6, 4, 9, 10, 1, 2, 0, 1), (3, 8, 13, 17, 3, 2, 1, 1),
        (4, 6, 12, 12, 3, 1, 2, 2), (4, 5, 16, 12, 3, 1, 4, 4), (600, 8, 40, 40, 3, 1, 1, 1),
        (64, 8, 48, 40, 3, 1, 1, 1),
    ]

    @Test(arguments: cases.indices)
    func convolutionWithFoldedBatchNorm(index: Int) {
        let (ci, co, h, w, k, s, p, d) = Self.cases[index]
        let x = V.values(ci * h * w, seed: UInt64(10 + index))
        let weight = V.values(co * ci * k * k, seed: UInt64(20 + index)).map { $0 / Float(k) }
        let gamma = V.values(co, seed: 1).map { $0 + 1.5 }
        let beta = V.values(co, seed: 2)
        let mean = V.values(co, seed: 3).map { $0 * 0.2 }
        let variance = V.values(co, seed: 4).map { $0 * 0.5 + 0.8 }
        for relu in [false, true] {
            let fast = Kernels.convolutionBatchNorm(
                x, weight: weight, inputs: ci, outputs: co, height: h, width: w, kernel: k, stride: s, padding: p,
                dilation: d, gamma: gamma, beta: beta, mean: mean, variance: variance, relu: relu)
            let plain = Reference.convolutionBatchNorm(
                x, weight: weight, inputs: ci, outputs: co, height: h, width: w, kernel: k, stride: s, padding: p,
                dilation: d, gamma: gamma, beta: beta, mean: mean, variance: variance, relu: relu)
            #expect(fast.count == plain.count)
            #expect(V.maxDifference(fast, plain) < 1e-4, "case \(index), relu \(relu)")
        }
    }

    /// A 3x3 convolution over channels given as three parts (PSPHead's
    /// bottleneck reads its concatenation so, without building it).
    @Test func convolutionOverParts() {
        let (h, w, co) = (7, 9, 5)
        let widths = [6, 2, 3]
        let ci = widths.reduce(0, +)
        let x = V.values(ci * h * w, seed: 31)
        let weight = V.values(co * ci * 9, seed: 32).map { $0 / 3 }
        let gamma = V.values(co, seed: 1).map { $0 + 1.5 }
        let beta = V.values(co, seed: 2)
        let mean = V.values(co, seed: 3).map { $0 * 0.2 }
        let variance = V.values(co, seed: 4).map { $0 * 0.5 + 0.8 }
        let fast = Kernels.convolutionBatchNorm(
            parts: widths, x, weight: weight, outputs: co, height: h, width: w, kernel: 3, stride: 1, padding: 1,
            dilation: 1, gamma: gamma, beta: beta, mean: mean, variance: variance, relu: true)
        let plain = Reference.convolutionBatchNorm(
            x, weight: weight, inputs: ci, outputs: co, height: h, width: w, kernel: 3, stride: 1, padding: 1,
            dilation: 1, gamma: gamma, beta: beta, mean: mean, variance: variance, relu: true)
        #expect(V.maxDifference(fast, plain) < 1e-4)
    }

    @Test(arguments: [(8, 12, 6), (7, 5, 3), (6, 6, 2), (9, 13, 1), (4, 4, 6)])
    func adaptiveAveragePool(height: Int, width: Int, size: Int) {
        let x = V.values(3 * height * width, seed: 5)
        #expect(
            V.maxDifference(
                Kernels.adaptiveAveragePool(x, channels: 3, height: height, width: width, size: size),
                Reference.adaptiveAveragePool(x, channels: 3, height: height, width: width, size: size)) < 1e-6)
    }
}
