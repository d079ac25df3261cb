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
        var mean: Float = 0
        for i in 0..<c { mean += row[i] }
        mean /= Float(c)
        var variance: Float = 0
        for i in 0..<c {
            let d = row[i] - mean
            variance += d * d
        }
        variance /= Float(c)
        let scale = 1 / (variance + 1e-5).squareRoot()
        for i in 0..<c { row[i] = (row[i] - mean) * scale * weight[i] + bias[i] }
    }
    if inParallel { parallelRows(l, normalize) } else { for t in 0..<l { normalize(t) } }
}

/// In place: softmax over each row of x[rows, n], max-subtracted.
func softmaxRows(_ x: UnsafeMutablePointer<Float>, rows: Int, columns n: Int, stride: Int) {
    // x [rows, n] with row stride `stride`
    for r in 0..<rows {
        let row = x + r * stride
        var top = -Float.infinity
        for i in 0..<n { top = max(top, row[i]) }
        var sum: Float = 0
        for i in 0..<n {
            let e = expf(row[i] - top)
            row[i] = e
            sum += e
        }
        let inverse = 1 / sum
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
