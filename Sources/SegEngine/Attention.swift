import Foundation
import SegFormats

/// Query rows whose scores are computed, normalised and used at once: a
/// block's [rows, S] scores stay in cache for the product with V. BLAS packs
/// K and V once per GEMM, so longer blocks pack them less often; 256 rows
/// against 768 keys are 768 KB of scores. (On a loaded 2-core Zen 3, blocks
/// of 64, 256 and whole groups of 768 rows measured within noise of each
/// other in CPU seconds: see `segscope-bench engine-child`.)
let attentionQueryRows = 256

/// Scores scratch that `groupAttention` needs for `keys` keys.
func attentionScratch(keys s: Int) -> Int { attentionQueryRows * s }

/// Multi-head attention of one group of tokens whose projections are done:
/// out[L, C] = concat_h softmax(q_h k_h^T * scale) v_h, with q [L, C],
/// k and v [S, C] (rows `strides` apart: q, k, v, out; nil: C), heads of
/// d = C / heads channels, scores scratch of `attentionScratch(keys:)`
/// floats. Per head and block of query rows: scores, softmax and the product
/// with V while the block's scores are in cache.
func groupAttention(
    _ out: UnsafeMutablePointer<Float>, q: UnsafePointer<Float>, k: UnsafePointer<Float>,
    v: UnsafePointer<Float>, scores: UnsafeMutablePointer<Float>,
    queries l: Int, keys s: Int, channels c: Int, heads: Int, scale: Float,
    strides: (q: Int, k: Int, v: Int, out: Int)? = nil
) {
    // q [l, c], k [s, c], v [s, c], out [l, c], scores [rows, s]
    let d = c / heads
    let (qs, ks, vs, os) = strides ?? (c, c, c, c)
    for head in 0..<heads {
        let offset = head * d
        for first in stride(from: 0, to: l, by: attentionQueryRows) {
            let rows = min(attentionQueryRows, l - first)
            BLAS.gemm(
                transposeB: true, m: rows, n: s, k: d, alpha: scale, a: q + first * qs + offset, lda: qs,
                b: k + offset, ldb: ks, c: scores, ldc: s)
            softmaxRows(scores, rows: rows, columns: s, stride: s)
            BLAS.gemm(
                m: rows, n: d, k: s, a: scores, lda: s, b: v + offset, ldb: vs, c: out + first * os + offset, ldc: os)
        }
    }
}

/// The query and key halves of an in_proj as one [2C, C] layer, so that
/// self-attention projects its (x + pos) rows once for both.
func queryKeyProjection(_ weights: Attention) -> Linear {
    let q = weights.query
    let k = weights.key
    var bias: [Float]? = nil
    if q.bias != nil || k.bias != nil {
        bias =
            (q.bias ?? [Float](repeating: 0, count: q.outputs)) + (k.bias ?? [Float](repeating: 0, count: k.outputs))
    }
    return Linear(weight: q.weight + k.weight, bias: bias, inputs: q.inputs, outputs: q.outputs + k.outputs)
}

/// One MHA module applied to groups of tokens: group g's queries are rows
/// `queryRows(g)` of `queryInput` (+ `queryPositions`), its keys rows
/// `keyRows(g)` of `keyInput` (+ `keyPositions`) and its values the same rows
/// of `valueInput`; all [L, C] token buffers. Each group gathers its rows,
/// projects them (in_proj), attends, projects back (out_proj) and writes its
/// result rows, so no all-token Q, K or V is ever held. Groups run in
/// parallel with single-threaded BLAS. In self-attention (one input, one
/// set of positions, the same rows) a row is read once for its value and
/// its x + pos, and Q and K are one GEMM.
/// Each group's result rows are written into `out` (accumulate: added, for
/// a residual connection, so no result buffer is needed); `norm`, when
/// given, is applied to each written row while it is in cache (the groups'
/// query rows must then cover every row once: the LayerNorm after a residual
/// connection, without a pass of its own).
func groupedMHA(
    _ weights: Attention, queryInput: [Float], queryPositions: [Float], keyInput: [Float], keyPositions: [Float],
    valueInput: [Float], into out: inout [Float], accumulate: Bool, norm: Norm? = nil, channels c: Int, heads: Int,
    groups: Int, queryRows: @Sendable (Int) -> [Int], keyRows: @Sendable (Int) -> [Int]
) {
    let scale = 1 / Float(c / heads).squareRoot()
    let oneInput = queryInput == keyInput && keyInput == valueInput && queryPositions == keyPositions
    let queryKey = oneInput ? queryKeyProjection(weights) : nil
    queryInput.withUnsafeBufferPointer { qi in
        queryPositions.withUnsafeBufferPointer { qp in
            keyInput.withUnsafeBufferPointer { ki in
                keyPositions.withUnsafeBufferPointer { kp in
                    valueInput.withUnsafeBufferPointer { vi in
                        out.withUnsafeMutableBufferPointer { ob in
                            let sources = (
                                q: SharedPointer(qi.baseAddress!), qp: SharedPointer(qp.baseAddress!),
                                k: SharedPointer(ki.baseAddress!),
                                kp: SharedPointer(kp.baseAddress!), v: SharedPointer(vi.baseAddress!)
                            )
                            let result = SharedMutablePointer(ob.baseAddress!)
                            parallelFor(groups) { g in
                                let qr = queryRows(g)
                                let kr = keyRows(g)
                                let nq = qr.count
                                let nk = kr.count
                                let selfAttention = queryKey != nil && qr == kr
                                // Gathered inputs, their projections, scores and the attended values;
                                // left uninitialised, since each is written in full before it is read.
                                var gathered = uninitialized((nq + 2 * nk) * c)
                                var projected = uninitialized((nq + 2 * nk) * c)
                                var scores = uninitialized(attentionScratch(keys: nk))
                                var attended = uninitialized(nq * c)
                                gathered.withUnsafeMutableBufferPointer { gb in
                                    projected.withUnsafeMutableBufferPointer { pb in
                                        scores.withUnsafeMutableBufferPointer { sb in
                                            attended.withUnsafeMutableBufferPointer { ab in
                                                let queryIn = gb.baseAddress!
                                                let keyIn = queryIn + nq * c
                                                let valueIn = keyIn + nk * c
                                                if selfAttention {
                                                    for (i, row) in qr.enumerated() {
                                                        let a = sources.q.base + row * c
                                                        let p = sources.qp.base + row * c
                                                        let o = queryIn + i * c
                                                        let value = valueIn + i * c
                                                        for ch in 0..<c {
                                                            value[ch] = a[ch]
                                                            o[ch] = a[ch] + p[ch]
                                                        }
                                                    }
                                                } else {
                                                    for (i, row) in qr.enumerated() {
                                                        let a = sources.q.base + row * c
                                                        let p = sources.qp.base + row * c
                                                        let o = queryIn + i * c
                                                        for ch in 0..<c { o[ch] = a[ch] + p[ch] }
                                                    }
                                                    for (i, row) in kr.enumerated() {
                                                        let a = sources.k.base + row * c
                                                        let p = sources.kp.base + row * c
                                                        let o = keyIn + i * c
                                                        for ch in 0..<c { o[ch] = a[ch] + p[ch] }
                                                        let value = sources.v.base + row * c
                                                        (valueIn + i * c).update(from: value, count: c)
                                                    }
                                                }
                                                let q = pb.baseAddress!
                                                let strides: (q: Int, k: Int, v: Int, out: Int)
                                                let k: UnsafeMutablePointer<Float>
                                                if let queryKey, selfAttention {
                                                    // Q and K side by side: [nq, 2C].
                                                    queryKey.apply(queryIn, tokens: nq, into: q)
                                                    k = q + c
                                                    strides = (2 * c, 2 * c, c, c)
                                                } else {
                                                    weights.query.apply(queryIn, tokens: nq, into: q)
                                                    k = q + nq * c
                                                    weights.key.apply(keyIn, tokens: nk, into: k)
                                                    strides = (c, c, c, c)
                                                }
                                                let v = q + (nq + nk) * c
                                                weights.value.apply(valueIn, tokens: nk, into: v)
                                                groupAttention(
                                                    ab.baseAddress!, q: q, k: k, v: v, scores: sb.baseAddress!,
                                                    queries: nq, keys: nk,
                                                    channels: c, heads: heads, scale: scale, strides: strides)
                                                // out_proj into the (now free) gathered query buffer, then scatter.
                                                weights.output.apply(ab.baseAddress!, tokens: nq, into: queryIn)
                                                for (i, row) in qr.enumerated() {
                                                    let target = result.base + row * c
                                                    let source = queryIn + i * c
                                                    if accumulate {
                                                        for ch in 0..<c { target[ch] += source[ch] }
                                                    } else {
                                                        target.update(from: source, count: c)
                                                    }
                                                    norm?.apply(target, tokens: 1, channels: c, inParallel: false)
                                                }
                                            }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// A buffer whose contents are written before being read.
func uninitialized(_ count: Int) -> [Float] {
    [Float](unsafeUninitializedCapacity: count) { _, n in n = count }
}

/// A read-only pointer shared by parallel iterations.
struct SharedPointer<T>: @unchecked Sendable {
    let base: UnsafePointer<T>
    init(_ base: UnsafePointer<T>) { self.base = base }
}

/// x += y elementwise (residual connections, in place).
func addInPlace(_ x: inout [Float], _ y: [Float]) {
    precondition(x.count == y.count)
    x.withUnsafeMutableBufferPointer { xb in
        y.withUnsafeBufferPointer { yb in
            let a = xb.baseAddress!
            let b = yb.baseAddress!
            for i in 0..<xb.count { a[i] += b[i] }
        }
    }
}

extension Linear {
    /// Over all tokens, on all cores.
    func callAsFunction(_ x: [Float], tokens: Int) -> [Float] {
        var out = [Float](repeating: 0, count: tokens * outputs)
        x.withUnsafeBufferPointer { xb in
            out.withUnsafeMutableBufferPointer {
                apply(xb.baseAddress!, tokens: tokens, into: $0.baseAddress!, inParallel: true)
            }
        }
        return out
    }
}

extension Norm {
    func callAsFunction(_ x: [Float], tokens: Int, channels: Int) -> [Float] {
        var out = x
        applyInPlace(&out, tokens: tokens, channels: channels)
        return out
    }

    func applyInPlace(_ x: inout [Float], tokens: Int, channels: Int) {
        x.withUnsafeMutableBufferPointer { apply($0.baseAddress!, tokens: tokens, channels: channels) }
    }
}

extension FeedForward {
    /// x = norm(x + linear2(relu(linear1(x)))) over [L, C] tokens (no norm:
    /// just the residual sum), in chunks of tokens on all cores, so the
    /// hidden layer never exists for all tokens and the LayerNorm runs on
    /// each chunk while it is in cache.
    func addInPlace(to x: inout [Float], tokens l: Int, then norm: Norm? = nil) {
        let chunkSize = 512
        let chunks = (l + chunkSize - 1) / chunkSize
        let c = first.inputs
        x.withUnsafeMutableBufferPointer { xb in
            let base = SharedMutablePointer(xb.baseAddress!)
            parallelFor(chunks) { chunk in
                let start = chunk * chunkSize
                let count = min(chunkSize, l - start)
                addInPlace(to: base.base + start * c, tokens: count)
                norm?.apply(base.base + start * c, tokens: count, channels: c, inParallel: false)
            }
        }
    }

    /// x[count, C] += linear2(relu(linear1(x))) for one chunk, on the calling
    /// thread: linear2's bias is added to x and its GEMM accumulates onto x
    /// (beta 1), so its result needs no buffer and no pass of its own.
    func addInPlace(to x: UnsafeMutablePointer<Float>, tokens count: Int) {
        let c = first.inputs
        let m = first.outputs
        var hidden = uninitialized(count * m)
        hidden.withUnsafeMutableBufferPointer { hb in
            first.apply(x, tokens: count, into: hb.baseAddress!)
            relu(hb.baseAddress!, count: count * m)
            if let bias = second.bias {
                bias.withUnsafeBufferPointer { b in
                    for t in 0..<count {
                        let row = x + t * c
                        for ch in 0..<c { row[ch] += b[ch] }
                    }
                }
            }
            second.weight.withUnsafeBufferPointer { w in
                // x [count, C] += hidden [count, m] W2^T, W2 [C, m]
                BLAS.gemm(
                    transposeB: true, m: count, n: c, k: m, a: hb.baseAddress!, lda: m, b: w.baseAddress!, ldb: m,
                    beta: 1, c: x, ldc: c)
            }
        }
    }
}

extension Kernels {
    /// e^x as the softmax computes it.
    public static func exponential(_ x: Float) -> Float { SegEngine.exponential(x) }

    /// One MHA module on one group holding every row, as STF runs it:
    /// queries x + posQ, keys keyInput + posK, values valueInput (nil:
    /// self-attention on x with posQ, where Q and K are one GEMM); in_proj
    /// [3C, C] with bias [3C], out_proj [C, C] with bias [C]; result [L, C].
    public static func multiHeadAttention(
        x: [Float], positions: [Float], keyInput: [Float]?, keyPositions: [Float]?, inProjection: [Float],
        inBias: [Float], outProjection: [Float], outBias: [Float], channels c: Int, heads: Int
    ) -> [Float] {
        func part(_ i: Int) -> Linear {
            Linear(
                weight: Array(inProjection[(i * c * c)..<((i + 1) * c * c)]),
                bias: Array(inBias[(i * c)..<((i + 1) * c)]), inputs: c, outputs: c)
        }
        let weights = Attention(
            query: part(0), key: part(1), value: part(2),
            output: Linear(weight: outProjection, bias: outBias, inputs: c, outputs: c))
        let l = x.count / c
        let keys = keyInput ?? x
        let s = keys.count / c
        var out = [Float](repeating: 0, count: x.count)
        groupedMHA(
            weights, queryInput: x, queryPositions: positions, keyInput: keys, keyPositions: keyPositions ?? positions,
            valueInput: keys, into: &out, accumulate: false, channels: c, heads: heads, groups: 1,
            queryRows: { _ in Array(0..<l) }, keyRows: { _ in Array(0..<s) })
        return out
    }
}
