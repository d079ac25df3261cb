import Foundation
import SegEngine

/// The trainer's layers, one forward and one backward function each, over
/// row-major float64 token buffers [L, C] (one row per token). Backward
/// functions *add* into parameter gradients (so a batch accumulates) and
/// return or add input gradients as documented. Plain twins live in
/// ReferenceOps.swift.

typealias Buffer = UnsafeMutablePointer<Double>
typealias ReadBuffer = UnsafePointer<Double>

/// out[L, n] = x[L, k] W[n, k]^T + b[n]   (nn.Linear; b optional).
func linearForward(
    _ out: Buffer, _ x: ReadBuffer, _ w: ReadBuffer, _ b: ReadBuffer?, tokens l: Int, inputs k: Int, outputs n: Int
) {
    // x [l, k], w [n, k], b [n], out [l, n]
    if let b { for t in 0..<l { (out + t * n).update(from: b, count: n) } }
    gemm64(transposeB: true, m: l, n: n, k: k, a: x, lda: k, b: w, ldb: k, beta: b == nil ? 0 : 1, c: out, ldc: n)
}

/// dW[n, k] += dy^T x, db[n] += column sums of dy, dx[L, k] (+)= dy W.
func linearBackward(
    dx: Buffer?, accumulate: Bool, dw: Buffer, db: Buffer?, dy: ReadBuffer, x: ReadBuffer, w: ReadBuffer,
    tokens l: Int, inputs k: Int, outputs n: Int
) {
    // dy [l, n], x [l, k], w [n, k]
    gemm64(transposeA: true, m: n, n: k, k: l, a: dy, lda: n, b: x, ldb: k, beta: 1, c: dw, ldc: k)
    if let db {
        for t in 0..<l {
            let row = dy + t * n
            for j in 0..<n { db[j] += row[j] }
        }
    }
    if let dx { gemm64(m: l, n: k, k: n, a: dy, lda: n, b: w, ldb: k, beta: accumulate ? 1 : 0, c: dx, ldc: k) }
}

/// y = LayerNorm(x) * w + b per token (biased variance, eps 1e-5); keeps the
/// normalised x and 1/std per token for the backward pass.
func layerNormForward(
    _ y: Buffer, normalized: Buffer, inverseStd: Buffer, _ x: ReadBuffer, _ w: ReadBuffer, _ b: ReadBuffer,
    tokens l: Int, channels c: Int
) {
    // x, y, normalized [l, c]; inverseStd [l]
    for t in 0..<l {
        let row = x + t * c
        var mean = 0.0
        for i in 0..<c { mean += row[i] }
        mean /= Double(c)
        var variance = 0.0
        for i in 0..<c {
            let d = row[i] - mean
            variance += d * d
        }
        let scale = 1 / (variance / Double(c) + 1e-5).squareRoot()
        inverseStd[t] = scale
        let n = normalized + t * c
        let out = y + t * c
        for i in 0..<c {
            n[i] = (row[i] - mean) * scale
            out[i] = n[i] * w[i] + b[i]
        }
    }
}

/// dw += sum dy * xhat, db += sum dy, dx = (1/std) (g - mean(g) - xhat mean(g xhat)) with g = dy * w.
func layerNormBackward(
    dx: Buffer, dw: Buffer, db: Buffer, dy: ReadBuffer, normalized: ReadBuffer, inverseStd: ReadBuffer,
    _ w: ReadBuffer, tokens l: Int, channels c: Int
) {
    // dy, dx, normalized [l, c]
    for t in 0..<l {
        let g = dy + t * c
        let n = normalized + t * c
        let out = dx + t * c
        var meanG = 0.0
        var meanGN = 0.0
        for i in 0..<c {
            dw[i] += g[i] * n[i]
            db[i] += g[i]
            let gi = g[i] * w[i]
            meanG += gi
            meanGN += gi * n[i]
        }
        meanG /= Double(c)
        meanGN /= Double(c)
        for i in 0..<c { out[i] = inverseStd[t] * (g[i] * w[i] - meanG - n[i] * meanGN) }
    }
}

/// Token groups of one attention call: each group attends its queries
/// (rows of Q) to its keys (rows of K and V) independently.
struct AttentionGroups: Sendable {
    var queries: [[Int]]
    var keys: [[Int]]
}

/// Multi-head attention core over groups. Q [Lq, C], K and V [Lk, C] are
/// already projected; head i uses channels [i*d, (i+1)*d).
/// out[Lq, C]: for every group and head, softmax(Qg Kg^T * scale) Vg.
/// Returns the attention weights per group and head (for the backward pass).
func attentionForward(
    _ out: Buffer, q: ReadBuffer, k: ReadBuffer, v: ReadBuffer, groups: AttentionGroups,
    channels c: Int, heads h: Int, scale: Double
) -> [[Double]] {
    // q, out [Lq, c]; k, v [Lk, c]; weights per group [h, lq, lk]
    let d = c / h
    var weights: [[Double]] = []
    weights.reserveCapacity(groups.queries.count)
    for (queryRows, keyRows) in zip(groups.queries, groups.keys) {
        let lq = queryRows.count
        let lk = keyRows.count
        let qg = gatherRows(q, queryRows, c)
        let kg = gatherRows(k, keyRows, c)
        let vg = gatherRows(v, keyRows, c)
        var p = [Double](repeating: 0, count: h * lq * lk)
        var og = [Double](repeating: 0, count: lq * c)
        p.withUnsafeMutableBufferPointer { pb in
            og.withUnsafeMutableBufferPointer { ob in
                for head in 0..<h {
                    let ph = pb.baseAddress! + head * lq * lk
                    gemm64(
                        transposeB: true, m: lq, n: lk, k: d, alpha: scale, a: qg + head * d, lda: c, b: kg + head * d,
                        ldb: c,
                        c: ph, ldc: lk)
                    softmaxRows64(ph, rows: lq, columns: lk)
                    gemm64(
                        m: lq, n: d, k: lk, a: ph, lda: lk, b: vg + head * d, ldb: c, c: ob.baseAddress! + head * d,
                        ldc: c)
                }
                scatterRows(ob.baseAddress!, queryRows, c, into: out, accumulate: false)
            }
        }
        qg.deallocate()
        kg.deallocate()
        vg.deallocate()
        weights.append(p)
    }
    return weights
}

/// Gradients of `attentionForward`: dq, dk, dv [L, C] are added to.
func attentionBackward(
    dq: Buffer, dk: Buffer, dv: Buffer, dOut: ReadBuffer, q: ReadBuffer, k: ReadBuffer, v: ReadBuffer,
    weights: [[Double]], groups: AttentionGroups, channels c: Int, heads h: Int, scale: Double
) {
    let d = c / h
    for (g, (queryRows, keyRows)) in zip(groups.queries, groups.keys).enumerated() {
        let lq = queryRows.count
        let lk = keyRows.count
        let qg = gatherRows(q, queryRows, c)
        let kg = gatherRows(k, keyRows, c)
        let vg = gatherRows(v, keyRows, c)
        let dog = gatherRows(dOut, queryRows, c)
        let dqg = Buffer.allocate(capacity: lq * c)
        let dkg = Buffer.allocate(capacity: lk * c)
        let dvg = Buffer.allocate(capacity: lk * c)
        let ds = Buffer.allocate(capacity: lq * lk)
        weights[g].withUnsafeBufferPointer { pb in
            for head in 0..<h {
                let p = pb.baseAddress! + head * lq * lk
                let o = head * d
                // dV = P^T dO; dP = dO V^T; dS = P (dP - rowsum(P dP)); dQ = s dS K; dK = s dS^T Q.
                gemm64(transposeA: true, m: lk, n: d, k: lq, a: p, lda: lk, b: dog + o, ldb: c, c: dvg + o, ldc: c)
                gemm64(transposeB: true, m: lq, n: lk, k: d, a: dog + o, lda: c, b: vg + o, ldb: c, c: ds, ldc: lk)
                for r in 0..<lq {
                    let pr = p + r * lk
                    let dr = ds + r * lk
                    var dot = 0.0
                    for j in 0..<lk { dot += pr[j] * dr[j] }
                    for j in 0..<lk { dr[j] = pr[j] * (dr[j] - dot) }
                }
                gemm64(m: lq, n: d, k: lk, alpha: scale, a: ds, lda: lk, b: kg + o, ldb: c, c: dqg + o, ldc: c)
                gemm64(
                    transposeA: true, m: lk, n: d, k: lq, alpha: scale, a: ds, lda: lk, b: qg + o, ldb: c, c: dkg + o,
                    ldc: c)
            }
        }
        scatterRows(dqg, queryRows, c, into: dq, accumulate: true)
        scatterRows(dkg, keyRows, c, into: dk, accumulate: true)
        scatterRows(dvg, keyRows, c, into: dv, accumulate: true)
        for buffer in [qg, kg, vg, dog, dqg, dkg, dvg, ds] { buffer.deallocate() }
    }
}

/// In place: softmax over each row of x[rows, n], max-subtracted.
func softmaxRows64(_ x: Buffer, rows: Int, columns n: Int) {
    for r in 0..<rows {
        let row = x + r * n
        var top = -Double.infinity
        for i in 0..<n { top = max(top, row[i]) }
        var sum = 0.0
        for i in 0..<n {
            row[i] = exp(row[i] - top)
            sum += row[i]
        }
        for i in 0..<n { row[i] /= sum }
    }
}

/// The listed rows of x [*, c] as a new [rows.count, c] buffer (caller frees).
private func gatherRows(_ x: ReadBuffer, _ rows: [Int], _ c: Int) -> Buffer {
    let out = Buffer.allocate(capacity: rows.count * c)
    for (i, r) in rows.enumerated() { (out + i * c).update(from: x + r * c, count: c) }
    return out
}

private func scatterRows(_ x: ReadBuffer, _ rows: [Int], _ c: Int, into out: Buffer, accumulate: Bool) {
    for (i, r) in rows.enumerated() {
        let target = out + r * c
        let source = x + i * c
        if accumulate { for j in 0..<c { target[j] += source[j] } } else { target.update(from: source, count: c) }
    }
}

/// Bilinear resize (align_corners=False) of planes [P, Hs, Ws] to [P, H, W]
/// as a sparse linear map: each output position blends four source positions.
struct BilinearMap: Sendable {
    let sourceHeight: Int, sourceWidth: Int, height: Int, width: Int
    let ys: [(Int, Int, Double)], xs: [(Int, Int, Double)]

    init(from source: (Int, Int), to target: (Int, Int)) {
        (sourceHeight, sourceWidth) = source
        (height, width) = target
        ys = BilinearMap.taps(output: target.0, input: source.0)
        xs = BilinearMap.taps(output: target.1, input: source.1)
    }

    /// PyTorch's align_corners=False source coordinate, clamped at 0.
    static func taps(output n: Int, input m: Int) -> [(Int, Int, Double)] {
        (0..<n).map { i in
            let source = max(0, (Double(i) + 0.5) * Double(m) / Double(n) - 0.5)
            let i0 = min(Int(source), m - 1)
            return (i0, min(i0 + 1, m - 1), source - Double(i0))
        }
    }

    /// out[P, H, W] = resize(source[P, Hs, Ws]).
    func apply(_ source: ReadBuffer, planes: Int, into out: Buffer) {
        for plane in 0..<planes {
            let s = source + plane * sourceHeight * sourceWidth
            let o = out + plane * height * width
            for (y, (y0, y1, fy)) in ys.enumerated() {
                for (x, (x0, x1, fx)) in xs.enumerated() {
                    let top = s[y0 * sourceWidth + x0] * (1 - fx) + s[y0 * sourceWidth + x1] * fx
                    let bottom = s[y1 * sourceWidth + x0] * (1 - fx) + s[y1 * sourceWidth + x1] * fx
                    o[y * width + x] = top * (1 - fy) + bottom * fy
                }
            }
        }
    }

    /// The adjoint: dSource[P, Hs, Ws] += resize^T(dOut[P, H, W]).
    func applyTransposed(_ dOut: ReadBuffer, planes: Int, into dSource: Buffer) {
        for plane in 0..<planes {
            let s = dSource + plane * sourceHeight * sourceWidth
            let o = dOut + plane * height * width
            for (y, (y0, y1, fy)) in ys.enumerated() {
                for (x, (x0, x1, fx)) in xs.enumerated() {
                    let g = o[y * width + x]
                    s[y0 * sourceWidth + x0] += g * (1 - fy) * (1 - fx)
                    s[y0 * sourceWidth + x1] += g * (1 - fy) * fx
                    s[y1 * sourceWidth + x0] += g * fy * (1 - fx)
                    s[y1 * sourceWidth + x1] += g * fy * fx
                }
            }
        }
    }
}

/// Cross-entropy (ignore label 255) of logits upsampled x`factor`
/// bilinearly (align_corners=False) against full-resolution labels, fused so
/// the upsampled logits are never stored. Adds d(loss)/d(logits) * `scale`
/// into dLogits and returns the *sum* of the per-pixel losses and the number
/// of labelled pixels (the caller divides, as PyTorch's mean reduction does).
func upsampledCrossEntropy(
    logits: ReadBuffer, dLogits: Buffer?, scale: Double, labels: [UInt8], classes k: Int,
    height h: Int, width w: Int, factor: Int
) -> (loss: Double, pixels: Int) {
    // logits, dLogits [h*w, k] token-major; labels [h*factor, w*factor]
    let oh = h * factor
    let ow = w * factor
    let ys = BilinearMap.taps(output: oh, input: h)
    let xs = BilinearMap.taps(output: ow, input: w)
    var values = [Double](repeating: 0, count: k)
    var loss = 0.0
    var pixels = 0
    for (y, (y0, y1, fy)) in ys.enumerated() {
        for (x, (x0, x1, fx)) in xs.enumerated() {
            let label = Int(labels[y * ow + x])
            guard label < k else { continue }
            let t00 = y0 * w + x0
            let t01 = y0 * w + x1
            let t10 = y1 * w + x0
            let t11 = y1 * w + x1
            let w00 = (1 - fy) * (1 - fx)
            let w01 = (1 - fy) * fx
            let w10 = fy * (1 - fx)
            let w11 = fy * fx
            var top = -Double.infinity
            for j in 0..<k {
                let v =
                    logits[t00 * k + j] * w00 + logits[t01 * k + j] * w01 + logits[t10 * k + j] * w10 + logits[
                        t11 * k + j] * w11
                values[j] = v
                top = max(top, v)
            }
            let labelValue = values[label] - top
            var sum = 0.0
            for j in 0..<k {
                values[j] = exp(values[j] - top)
                sum += values[j]
            }
            loss += log(sum) - labelValue
            pixels += 1
            guard let dLogits else { continue }
            for j in 0..<k {
                let g = scale * (values[j] / sum - (j == label ? 1 : 0))
                dLogits[t00 * k + j] += g * w00
                dLogits[t01 * k + j] += g * w01
                dLogits[t10 * k + j] += g * w10
                dLogits[t11 * k + j] += g * w11
            }
        }
    }
    return (loss, pixels)
}
