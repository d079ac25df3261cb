import Foundation
import SegEngine
import Testing

/// Each fast kernel against its plain-loop twin. Tolerances (max abs): 1e-5
/// for linear and attention (float32 sums of up to 64 terms), 1e-5 for
/// LayerNorm, 1e-6 for softmax and bilinear resizing.
@Suite struct KernelTwinTests {
    static func values(_ n: Int, seed: UInt64) -> [Float] {
        var s = seed
        return (0..<n).map { _ in
            s = s &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return Float(Int(s >> 40) % 2001 - 1000) / 1000
        }
    }

    static func maxDifference(_ a: [Float], _ b: [Float]) -> Float { zip(a, b).reduce(0) { max($0, abs($1.0 - $1.1)) } }

    @Test func linear() {
        let x = Self.values(7 * 64, seed: 1)
        let w = Self.values(33 * 64, seed: 2)
        let b = Self.values(33, seed: 3)
        #expect(
            Self.maxDifference(
                Kernels.linear(x, w, b, tokens: 7, inputs: 64, outputs: 33),
                Reference.linear(x, w, b, tokens: 7, inputs: 64, outputs: 33)) < 1e-5)
        #expect(
            Self.maxDifference(
                Kernels.linear(x, w, nil, tokens: 7, inputs: 64, outputs: 33),
                Reference.linear(x, w, nil, tokens: 7, inputs: 64, outputs: 33)) < 1e-5)
    }

    @Test func layerNorm() {
        let x = Self.values(9 * 24, seed: 4).map { $0 * 5 + 2 }
        let w = Self.values(24, seed: 5)
        let b = Self.values(24, seed: 6)
        #expect(
            Self.maxDifference(
                Kernels.layerNorm(x, w, b, tokens: 9, channels: 24),
                Reference.layerNorm(x, w, b, tokens: 9, channels: 24)) < 1e-5)
    }

    @Test func softmax() {
        let row = Self.values(50, seed: 7).map { $0 * 30 }
        let fast = Kernels.softmax(row)
        #expect(Self.maxDifference(fast, Reference.softmax(row)) < 1e-6)
        #expect(abs(fast.reduce(0, +) - 1) < 1e-5)
    }

    @Test(arguments: [1, 2, 4])
    func attention(heads: Int) {
        let c = 16
        let l = 5
        let s = 11
        let q = Self.values(l * c, seed: 8)
        let k = Self.values(s * c, seed: 9)
        let v = Self.values(s * c, seed: 10)
        #expect(
            Self.maxDifference(
                Kernels.attention(q: q, k: k, v: v, queries: l, keys: s, channels: c, heads: heads),
                Reference.attention(q: q, k: k, v: v, queries: l, keys: s, channels: c, heads: heads)) < 1e-5)
    }

    /// More queries than one block of rows (256), the last block partial: each
    /// block's scores, softmax and product with V are done while in cache.
    @Test(arguments: [1, 2])
    func attentionOverSeveralQueryBlocks(heads: Int) {
        let c = 16
        let l = 600
        let s = 97
        let q = Self.values(l * c, seed: 14).map { $0 * 3 }
        let k = Self.values(s * c, seed: 15)
        let v = Self.values(s * c, seed: 16)
        #expect(
            Self.maxDifference(
                Kernels.attention(q: q, k: k, v: v, queries: l, keys: s, channels: c, heads: heads),
                Reference.attention(q: q, k: k, v: v, queries: l, keys: s, channels: c, heads: heads)) < 1e-5)
    }

    /// A whole MHA module on one group (positions added, in_proj, attention,
    /// out_proj) against its definition: self-attention, where Q and K are
    /// one GEMM and strided, and attention over other keys (cross).
    @Test(arguments: [(1, false), (2, false), (2, true)])
    func multiHeadAttentionModule(heads: Int, cross: Bool) {
        let c = 24
        let l = 300
        let s = cross ? 70 : l
        let x = Self.values(l * c, seed: 20)
        let positions = Self.values(l * c, seed: 21).map { $0 * 0.5 }
        let keyInput = cross ? Self.values(s * c, seed: 22) : nil
        let keyPositions = cross ? Self.values(s * c, seed: 23).map { $0 * 0.5 } : nil
        let inProjection = Self.values(3 * c * c, seed: 24).map { $0 * 0.4 }
        let inBias = Self.values(3 * c, seed: 25).map { $0 * 0.1 }
        let outProjection = Self.values(c * c, seed: 26).map { $0 * 0.2 }
        let outBias = Self.values(c, seed: 27).map { $0 * 0.1 }
        func projected(_ input: [Float], _ part: Int, tokens: Int) -> [Float] {
            Reference.linear(
                input, Array(inProjection[(part * c * c)..<((part + 1) * c * c)]),
                Array(inBias[(part * c)..<((part + 1) * c)]), tokens: tokens, inputs: c, outputs: c)
        }
        let keys = keyInput ?? x
        let withPositions = zip(x, positions).map { $0 + $1 }
        let keysWithPositions = zip(keys, keyPositions ?? positions).map { $0 + $1 }
        let attended = Reference.attention(
            q: projected(withPositions, 0, tokens: l), k: projected(keysWithPositions, 1, tokens: s),
            v: projected(keys, 2, tokens: s), queries: l, keys: s, channels: c, heads: heads)
        let expected = Reference.linear(attended, outProjection, outBias, tokens: l, inputs: c, outputs: c)
        let fast = Kernels.multiHeadAttention(
            x: x, positions: positions, keyInput: keyInput, keyPositions: keyPositions, inProjection: inProjection,
            inBias: inBias, outProjection: outProjection, outBias: outBias, channels: c, heads: heads)
        #expect(Self.maxDifference(fast, expected) < 1e-5)
    }

    /// The softmax's exponential within 2 ulp of e^x over float32's normal
    /// range; below it a tiny non-negative value, above it +inf, NaN as NaN.
    @Test func exponential() {
        var worst: Double = 0
        var x: Float = -87.3
        while x < 88.3 {
            let exact = Foundation.exp(Double(x))
            let got = Double(Kernels.exponential(x))
            worst = max(worst, abs(got - exact) / exact)
            x += 0.000_731
        }
        #expect(worst < 2 * 1.19e-7, "worst relative error \(worst)")
        for tiny in [-88, -100, -1e30, -Float.infinity] as [Float] {
            let value = Kernels.exponential(tiny)
            #expect(value >= 0 && value < 1.2e-38)
        }
        #expect(Kernels.exponential(0) == 1)
        #expect(Kernels.exponential(89) == .infinity)
        #expect(Kernels.exponential(.nan).isNaN)
    }

    /// Rows longer than the eight partial sums and not a multiple of them,
    /// with a wide range of scores (most terms underflow).
    @Test(arguments: [1, 7, 8, 190, 767])
    func softmaxOfLongRows(columns: Int) {
        let row = Self.values(columns, seed: 28).map { $0 * 120 }
        let fast = Kernels.softmax(row)
        #expect(Self.maxDifference(fast, Reference.softmax(row)) < 1e-6)
        #expect(abs(fast.reduce(0, +) - 1) < 1e-5)
    }

    /// A NaN score makes its row NaN (named later by the model's check), never a trap.
    @Test func softmaxOfARowWithNaN() {
        var row = Self.values(20, seed: 29)
        row[13] = .nan
        let normalised = Kernels.softmax(row)
        #expect(normalised.allSatisfy { $0.isNaN })
    }

    /// Channels not a multiple of the eight partial sums, rows far from zero mean.
    @Test func layerNormOfWideRows() {
        let c = 517
        let x = Self.values(5 * c, seed: 30).map { $0 * 3 + 40 }
        let w = Self.values(c, seed: 31)
        let b = Self.values(c, seed: 32)
        #expect(
            Self.maxDifference(
                Kernels.layerNorm(x, w, b, tokens: 5, channels: c),
                Reference.layerNorm(x, w, b, tokens: 5, channels: c)) < 1e-5)
    }

    @Test(arguments: [(6, 10, 8, 12), (8, 8, 8, 8), (16, 32, 5, 7), (3, 3, 128, 256)])
    func bilinearResize(hs: Int, ws: Int, h: Int, w: Int) {
        let plane = Self.values(hs * ws, seed: 11)
        let fast = Kernels.resize(plane, height: hs, width: ws, toHeight: h, width: w)
        #expect(Self.maxDifference(fast, Reference.resize(plane, height: hs, width: ws, toHeight: h, width: w)) < 1e-6)
        if hs == h && ws == w { #expect(fast == plane, "same size is the identity") }
    }
}

@Suite struct UpsampleTwinTests {
    /// Labels equal; confidence within 1e-6.
    @Test func fusedUpsamplingMatchesThePlainWay() {
        let k = 5
        let h = 6
        let w = 9
        let logits = KernelTwinTests.values(k * h * w, seed: 12).map { $0 * 4 }
        let fast = upsampledPrediction(logits: logits, classes: k, height: h, width: w, factor: 8)
        let plain = Reference.upsampledPrediction(logits: logits, classes: k, height: h, width: w, factor: 8)
        #expect(fast.labels == plain.labels)
        #expect(KernelTwinTests.maxDifference(fast.confidence, plain.confidence) < 1e-6)
        #expect(fast.confidence.allSatisfy { $0 >= 1 / Float(k) - 1e-6 && $0 <= 1 })
    }
}

@Suite struct TokenResizeTwinTests {
    /// Token-major resizing equals resizing every channel plane of every frame by the definition.
    @Test func tokenResizeMatchesPlaneByPlane() {
        let (frames, hs, ws, h, w, c) = (3, 6, 10, 8, 12, 5)
        let tokens = KernelTwinTests.values(frames * hs * ws * c, seed: 13)
        let fast = Kernels.resizeTokens(
            tokens, frames: frames, height: hs, width: ws, toHeight: h, width: w, channels: c)
        for t in 0..<frames {
            for ch in 0..<c {
                let plane = (0..<(hs * ws)).map { tokens[(t * hs * ws + $0) * c + ch] }
                let expected = Reference.resize(plane, height: hs, width: ws, toHeight: h, width: w)
                let got = (0..<(h * w)).map { fast[(t * h * w + $0) * c + ch] }
                #expect(KernelTwinTests.maxDifference(got, expected) < 1e-6)
            }
        }
    }
}
