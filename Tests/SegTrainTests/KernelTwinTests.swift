import SegEngine
import Testing

@testable import SegTrain

/// The trainer's fast kernels against their plain twins (ReferenceOps and
/// the engine's Reference.resize). Tolerances: 1e-12 max abs for float64
/// kernels (same sums in another order), 1e-6 against the float32 resize.
@Suite struct TrainKernelTwinTests {
    typealias G = GradientCheck
    static func maxDifference(_ a: [Double], _ b: [Double]) -> Double {
        zip(a, b).reduce(0) { max($0, abs($1.0 - $1.1)) }
    }

    @Test func linear() {
        var p = Parameters()
        let layer = LinearLayer(
            p.add("w", [9, 13], .uniform(bound: 1, seed: 1)), p.add("b", [9], .uniform(bound: 1, seed: 1)))
        let x = G.values(6 * 13, seed: 2)
        let fast = p.values.withUnsafeBufferPointer { layer.forward(x, tokens: 6, $0.baseAddress!) }
        #expect(
            Self.maxDifference(
                fast,
                ReferenceOps.linear(x, p.tensor(p.slots[0]), p.tensor(p.slots[1]), tokens: 6, inputs: 13, outputs: 9))
                < 1e-12)
    }

    @Test(arguments: [1, 2])
    func attentionOverShortRangeGroups(heads: Int) {
        let c = 4
        let groups = ICSAGrouping(height: 4, width: 8, blockHeight: 2, blockWidth: 4).short(frames: 3)
        let q = G.values(3 * 32 * c, seed: 3)
        let k = G.values(3 * 32 * c, seed: 4)
        let v = G.values(3 * 32 * c, seed: 5)
        let core = AttentionCore(channels: c, heads: heads, scale: 0.7)
        #expect(
            Self.maxDifference(
                core.forward(q: q, k: k, v: v, groups: groups).out,
                ReferenceOps.attention(q: q, k: k, v: v, groups: groups, channels: c, heads: heads, scale: 0.7)) < 1e-12
        )
    }

    @Test func upsampledCrossEntropy() {
        let k = 4
        let h = 3
        let w = 5
        let logits = G.values(h * w * k, seed: 6).map { $0 * 4 }
        var random = TrainingRandom(seed: 7)
        let labels = (0..<(64 * h * w)).map { _ in
            random.next() % 5 == 0 ? UInt8(255) : UInt8(random.next() % UInt64(k))
        }
        var gradient = [Double](repeating: 0, count: logits.count)
        let fast = logits.withUnsafeBufferPointer { lb in
            gradient.withUnsafeMutableBufferPointer {
                SegTrain.upsampledCrossEntropy(
                    logits: lb.baseAddress!, dLogits: $0.baseAddress!, scale: 1, labels: labels, classes: k, height: h,
                    width: w, factor: 8)
            }
        }
        let reference = ReferenceOps.upsampledCrossEntropy(
            logits: logits, labels: labels, classes: k, height: h, width: w, factor: 8)
        #expect(fast.pixels == reference.pixels)
        #expect(abs(fast.loss - reference.loss) < 1e-9)
        #expect(Self.maxDifference(gradient, reference.gradient) < 1e-12)
    }

    /// BilinearMap against the engine's plain resize, and its transpose by <A x, y> = <x, A^T y>.
    @Test func bilinearResizeAndItsAdjoint() {
        let map = BilinearMap(from: (3, 5), to: (7, 4))
        let x = G.values(15, seed: 8)
        let y = G.values(28, seed: 9)
        var ax = [Double](repeating: 0, count: 28)
        var aty = [Double](repeating: 0, count: 15)
        x.withUnsafeBufferPointer { xb in
            ax.withUnsafeMutableBufferPointer { map.apply(xb.baseAddress!, planes: 1, into: $0.baseAddress!) }
        }
        y.withUnsafeBufferPointer { yb in
            aty.withUnsafeMutableBufferPointer {
                map.applyTransposed(yb.baseAddress!, planes: 1, into: $0.baseAddress!)
            }
        }
        let engine = Reference.resize(x.map(Float.init), height: 3, width: 5, toHeight: 7, width: 4).map(Double.init)
        #expect(Self.maxDifference(ax, engine) < 1e-6)
        #expect(abs(G.project(ax, y) - G.project(x, aty)) < 1e-12)
    }
}
