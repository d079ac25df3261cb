import Foundation

/// Token-wise layers over row-major token buffers [L, C] (one row per token).

/// out[L, n] = x[L, k] * W[n, k]^T + bias[n]  (a PyTorch nn.Linear; bias optional).
func linear(
    _ out: UnsafeMutablePointer<Float>, _ x: UnsafePointer<Float>, _ weight: UnsafePointer<Float>,
    _ bias: UnsafePointer<Float>?, tokens l: Int, inputs k: Int, outputs n: Int
) {
    // x [l, k], weight [n, k], out [l, n]
    if let bias {
        for t in 0..<l { (out + t * n).update(from: bias, count: n) }
    }
    BLAS.gemm(
        transposeB: true, m: l, n: n, k: k, a: x, lda: k, b: weight, ldb: k, beta: bias == nil ? 0 : 1, c: out, ldc: n)
}

/// `linear` over many tokens, split into row chunks that run on all cores.
func parallelLinear(
    _ out: UnsafeMutablePointer<Float>, _ x: UnsafePointer<Float>, _ weight: UnsafePointer<Float>,
    _ bias: UnsafePointer<Float>?, tokens l: Int, inputs k: Int, outputs n: Int
) {
    // x [l, k], weight [n, k], out [l, n]
    let chunks = max(1, min(4 * ProcessInfo.processInfo.activeProcessorCount, l / 256))
    parallelRows(chunks) { chunk in
        let start = l * chunk / chunks
        let end = l * (chunk + 1) / chunks
        linear(out + start * n, x + start * k, weight, bias, tokens: end - start, inputs: k, outputs: n)
    }
}

/// C[m, n] = A[m, k] op(B) with A's rows split over all cores (B shared).
func parallelGemmRows(
    transposeB: Bool, m: Int, n: Int, k: Int, a: UnsafePointer<Float>, lda: Int,
    b: UnsafePointer<Float>, ldb: Int, c: UnsafeMutablePointer<Float>, ldc: Int, beta: Float = 0
) {
    let chunks = max(1, min(4 * ProcessInfo.processInfo.activeProcessorCount, m / 128))
    parallelRows(chunks) { chunk in
        let start = m * chunk / chunks
        let end = m * (chunk + 1) / chunks
        BLAS.gemm(
            transposeB: transposeB, m: end - start, n: n, k: k, a: a + start * lda, lda: lda, b: b, ldb: ldb,
            beta: beta,
            c: c + start * ldc, ldc: ldc)
    }
}

/// Benchmarks' yardstick: GFLOP/s of an n x n x n sgemm run the engine's way
/// (rows split over all cores, single-threaded BLAS per chunk), best of 3.
public func measuredSgemmGFLOPS(size n: Int = 2048) -> Double {
    let a = [Float](repeating: 0.5, count: n * n)
    let b = [Float](repeating: 0.25, count: n * n)
    var c = [Float](repeating: 0, count: n * n)
    var best = Double.infinity
    for _ in 0..<3 {
        let start = DispatchTime.now().uptimeNanoseconds
        a.withUnsafeBufferPointer { ab in
            b.withUnsafeBufferPointer { bb in
                c.withUnsafeMutableBufferPointer {
                    parallelGemmRows(
                        transposeB: false, m: n, n: n, k: n, a: ab.baseAddress!, lda: n, b: bb.baseAddress!, ldb: n,
                        c: $0.baseAddress!, ldc: n)
                }
            }
        }
        best = min(best, Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
    }
    return 2 * Double(n) * Double(n) * Double(n) / best / 1e9
}

/// In place: x[L, C] = LayerNorm(x) * weight + bias, biased variance, eps 1e-5;
/// rows on all cores, or on the calling thread (`inParallel` false) when the
/// caller already runs one chunk per core.
func layerNorm(
    _ x: UnsafeMutablePointer<Float>, _ weight: UnsafePointer<Float>, _ bias: UnsafePointer<Float>,
    tokens l: Int, channels c: Int, inParallel: Bool = true
) {
    // x [l, c]
    let normalize = { (t: Int) in
        let row = x + t * c
        let mean = sum(row, count: c) / Float(c)
        let variance = sumOfSquares(row, count: c, minus: mean) / Float(c)
        let scale = 1 / (variance + 1e-5).squareRoot()
        for i in 0..<c { row[i] = (row[i] - mean) * scale * weight[i] + bias[i] }
    }
    if inParallel { parallelRows(l, normalize) } else { for t in 0..<l { normalize(t) } }
}

/// The sum of x[0..<n] in eight interleaved partial sums: a float sum is not
/// reassociated by the compiler, so one accumulator would be a chain of
/// dependent adds; eight are independent lanes that it turns into one vector.
@inline(__always)
func sum(_ x: UnsafePointer<Float>, count n: Int) -> Float {
    var (a0, a1, a2, a3) = (Float(0), Float(0), Float(0), Float(0))
    var (a4, a5, a6, a7) = (Float(0), Float(0), Float(0), Float(0))
    var i = 0
    while i + 8 <= n {
        a0 += x[i]
        a1 += x[i + 1]
        a2 += x[i + 2]
        a3 += x[i + 3]
        a4 += x[i + 4]
        a5 += x[i + 5]
        a6 += x[i + 6]
        a7 += x[i + 7]
        i += 8
    }
    var total = ((a0 + a1) + (a2 + a3)) + ((a4 + a5) + (a6 + a7))
    while i < n {
        total += x[i]
        i += 1
    }
    return total
}

/// The sum of (x[i] - shift)^2 over x[0..<n], in eight partial sums as `sum`.
@inline(__always)
func sumOfSquares(_ x: UnsafePointer<Float>, count n: Int, minus shift: Float) -> Float {
    var (a0, a1, a2, a3) = (Float(0), Float(0), Float(0), Float(0))
    var (a4, a5, a6, a7) = (Float(0), Float(0), Float(0), Float(0))
    var i = 0
    while i + 8 <= n {
        let d0 = x[i] - shift
        let d1 = x[i + 1] - shift
        let d2 = x[i + 2] - shift
        let d3 = x[i + 3] - shift
        let d4 = x[i + 4] - shift
        let d5 = x[i + 5] - shift
        let d6 = x[i + 6] - shift
        let d7 = x[i + 7] - shift
        a0 += d0 * d0
        a1 += d1 * d1
        a2 += d2 * d2
        a3 += d3 * d3
        a4 += d4 * d4
        a5 += d5 * d5
        a6 += d6 * d6
        a7 += d7 * d7
        i += 8
    }
    var total = ((a0 + a1) + (a2 + a3)) + ((a4 + a5) + (a6 + a7))
    while i < n {
        let d = x[i] - shift
        total += d * d
        i += 1
    }
    return total
}

/// The largest of x[0..<n] (n > 0), in eight partial maxima as `sum`; NaN
/// propagates (a comparison with NaN keeps it), so a NaN row stays NaN.
@inline(__always)
func largest(_ x: UnsafePointer<Float>, count n: Int) -> Float {
    func pick(_ a: Float, _ b: Float) -> Float { a.isNaN || a > b ? a : b }
    var (a0, a1, a2, a3, a4, a5, a6, a7) = (x[0], x[0], x[0], x[0], x[0], x[0], x[0], x[0])
    var i = 0
    while i + 8 <= n {
        a0 = pick(a0, x[i])
        a1 = pick(a1, x[i + 1])
        a2 = pick(a2, x[i + 2])
        a3 = pick(a3, x[i + 3])
        a4 = pick(a4, x[i + 4])
        a5 = pick(a5, x[i + 5])
        a6 = pick(a6, x[i + 6])
        a7 = pick(a7, x[i + 7])
        i += 8
    }
    var top = pick(pick(pick(a0, a1), pick(a2, a3)), pick(pick(a4, a5), pick(a6, a7)))
    while i < n {
        top = pick(top, x[i])
        i += 1
    }
    return top
}

/// e^x in float32 within 2 ulp (Cephes' expf: e^x = 2^n e^r, n = x / ln 2
/// rounded, |r| <= ln 2 / 2, a degree-6 polynomial for e^r), written
/// without calls or branches so that a loop of it becomes vector code
/// (libm's expf is a call per element: most of the softmax's time). Below
/// -87.3, where e^x leaves the normal floats, x is taken as -87.3 (1.2e-38
/// for any smaller e^x); from 88.4 the result is +inf (float's e^x
/// overflows at 88.7); NaN stays NaN.
@inline(__always)
func exponential(_ x: Float) -> Float {
    let low: Float = -87.33654
    let high: Float = 88.72283
    let clamped = x < low ? low : (x > high ? high : x)
    // round(x / ln 2) in the low mantissa bits of 1.5 * 2^23 + x / ln 2.
    let shifted = clamped * 1.442_695_04 + 12_582_912
    let n = shifted - 12_582_912
    let r = clamped - n * 0.693_359_375 + n * 2.121_944_4e-4
    let z = r * r
    var p: Float = 1.987_569_15e-4
    p = p * r + 1.398_199_95e-3
    p = p * r + 8.333_451_9e-3
    p = p * r + 4.166_579_59e-2
    p = p * r + 1.666_666_55e-1
    p = p * r + 5.000_000_12e-1
    let er = p * z + r + 1
    // 2^n from n's bits: 1.5 * 2^23 + n has the bits 0x4B40_0000 + n.
    let twoToN = Float(bitPattern: (shifted.bitPattern &- 0x4B40_0000 &+ 127) << 23)
    return er * twoToN
}

/// In place: softmax over each row of x[rows, n], max-subtracted.
func softmaxRows(_ x: UnsafeMutablePointer<Float>, rows: Int, columns n: Int, stride: Int) {
    // x [rows, n] with row stride `stride`
    for r in 0..<rows {
        let row = x + r * stride
        let top = largest(row, count: n)
        for i in 0..<n { row[i] = exponential(row[i] - top) }
        let inverse = 1 / sum(row, count: n)
        for i in 0..<n { row[i] *= inverse }
    }
}

func relu(_ x: UnsafeMutablePointer<Float>, count: Int) {
    for i in 0..<count where x[i] < 0 { x[i] = 0 }
}

/// Splits `rows` into one contiguous chunk per core.
func parallelRows(_ rows: Int, _ body: (Int) -> Void) {
    let chunks = min(rows, max(1, ProcessInfo.processInfo.activeProcessorCount))
    withoutActuallyEscaping(body) { body in
        let shared = UncheckedBody(body)
        DispatchQueue.concurrentPerform(iterations: chunks) { chunk in
            let start = rows * chunk / chunks
            let end = rows * (chunk + 1) / chunks
            for r in start..<end { shared.body(r) }
        }
    }
}

/// Lets a non-escaping body run on dispatch's workers; callers write disjoint rows.
private struct UncheckedBody: @unchecked Sendable {
    let body: (Int) -> Void
    init(_ body: @escaping (Int) -> Void) { self.body = body }
}
