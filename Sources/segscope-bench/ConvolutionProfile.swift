import Foundation
import SegEngine

/// CPU seconds of this process (every thread), which other processes on the
/// machine do not inflate as they do wall time.
func processCPUSeconds() -> Double {
    var time = timespec()
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &time)
    return Double(time.tv_sec) + Double(time.tv_nsec) / 1e9
}

/// PSPNet-50's stride-1 3x3 convolutions at 1024x2048 (feature maps at 1/2,
/// 1/4 and 1/8), each by Winograd F(2x2), F(4x4) and as GEMMs over gathered
/// taps: CPU seconds of one run, and GFLOP/s of the direct convolution's count.
func convolutionProfile() {
    // (name, Cin, Cout, height, width, dilation, count in the backbone)
    let shapes: [(String, Int, Int, Int, Int, Int, Int)] = [
        ("stem 3x3 32->32 at 512x1024", 32, 32, 512, 1024, 1, 1),
        ("stem 3x3 32->64 at 512x1024", 32, 64, 512, 1024, 1, 1),
        ("layer1 3x3 64 at 256x512", 64, 64, 256, 512, 1, 3),
        ("layer2 3x3 128 at 128x256", 128, 128, 128, 256, 1, 3),
        ("layer3 3x3 256 at 128x256", 256, 256, 128, 256, 1, 1),
        ("layer3 3x3 256 d2 at 128x256", 256, 256, 128, 256, 2, 5),
        ("layer4 3x3 512 d2 at 128x256", 512, 512, 128, 256, 2, 1),
        ("layer4 3x3 512 d4 at 128x256", 512, 512, 128, 256, 4, 2),
        ("PSP bottleneck 4096->512 at 128x256", 4096, 512, 128, 256, 1, 1),
    ]
    print("  3x3 convolutions of PSPNet-50 at 1024x2048, CPU seconds of all threads, x count in the backbone")
    print(
        "  " + "shape".padding(toLength: 38, withPad: " ", startingAt: 0)
            + "  count   F(2x2)   F(4x4)     GEMM   GEMM/F(2x2)")
    var totals = [0.0, 0.0, 0.0]
    for (name, cin, cout, h, w, d, count) in shapes {
        var state: UInt64 = 1
        func value() -> Float {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return Float(Int(state >> 40) % 2001 - 1000) / 1000
        }
        let weight = (0..<(cout * cin * 9)).map { _ in value() / Float(3 * cin).squareRoot() }
        let convolution = Convolution(
            torchWeight: weight, bias: [Float](repeating: 0.1, count: cout), inputs: cin, outputs: cout,
            kernel: 3, padding: d, dilation: d)
        let x = (0..<(h * w * cin)).map { _ in value() }
        let seconds = [ConvolutionMethod.winograd(.f2), .winograd(.f4), .gemm].map { method in
            let start = processCPUSeconds()
            _ = convolution.apply(x, height: h, width: w, relu: true, method: method)
            return processCPUSeconds() - start
        }
        for i in 0..<3 { totals[i] += seconds[i] * Double(count) }
        print(
            "  " + name.padding(toLength: 38, withPad: " ", startingAt: 0)
                + String(
                    format: "  %5d  %7.2f  %7.2f  %7.2f  %8.2fx", count,
                    seconds[0], seconds[1], seconds[2], seconds[2] / seconds[0]))
    }
    print(
        String(
            format: "  all stride-1 3x3 convolutions of one pass: F(2x2) %.1f, F(4x4) %.1f, GEMM %.1f CPU seconds",
            totals[0], totals[1], totals[2]))
}
