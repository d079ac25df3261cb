import Foundation
import SegFormats

/// Query rows whose scores are computed, normalised and used at once: their
/// [rows, S] scores stay in a core's cache (64 x 768 floats is 192 KB) for
/// the product with V, instead of a whole [L, S] matrix going out to memory
/// and back between the three passes.
let attentionQueryRows = 64

/// Scores scratch that `groupAttention` needs for `keys` keys.
func attentionScratch(keys s: Int) -> Int { attentionQueryRows * s }

/// Multi-head attention of one group of tokens whose projections are done:
/// out[L, C] = concat_h softmax(q_h k_h^T * scale) v_h, with q [L, C],
/// k and v [S, C], heads of d = C / heads channels, scores scratch of
/// `attentionScratch(keys:)` floats. Per head and block of query rows: scores,
/// softmax and the product with V while the block's scores are in cache.
func groupAttention(
    _ out: UnsafeMutablePointer<Float>, q: UnsafePointer<Float>, k: UnsafePointer<Float>,
    v: UnsafePointer<Float>, scores: UnsafeMutablePointer<Float>,
    queries l: Int, keys s: Int, channels c: Int, heads: Int, scale: Float
) {
    // q [l, c], k [s, c], v [s, c], out [l, c], scores [rows, s]
    let d = c / heads
    for head in 0..<heads {
        let offset = head * d
        for first in stride(from: 0, to: l, by: attentionQueryRows) {
            let rows = min(attentionQueryRows, l - first)
            BLAS.gemm(
                transposeB: true, m: rows, n: s, k: d, alpha: scale, a: q + first * c + offset, lda: c, b: k + offset,
                ldb: c,
                c: scores, ldc: s)
            softmaxRows(scores, rows: rows, columns: s, stride: s)
            BLAS.gemm(
                m: rows, n: d, k: s, a: scores, lda: s, b: v + offset, ldb: c, c: out + first * c + offset, ldc: c)
        }
    }
}

/// One MHA module applied to groups of tokens: group g's queries are rows
/// `queryRows(g)` of `queryInput` (+ `queryPositions`), its keys rows
/// `keyRows(g)` of `keyInput` (+ `keyPositions`) and its values the same rows
/// of `valueInput`; all [L, C] token buffers. Each group gathers its rows,
/// projects them (in_proj), attends, projects back (out_proj) and writes its
/// result rows, so no all-token Q, K or V is ever held. Groups run in
/// parallel with single-threaded BLAS.
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
    let selfAttention = queryInput == keyInput && queryPositions == keyPositions
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
                                                for (i, row) in qr.enumerated() {
                                                    let a = sources.q.base + row * c
                                                    let p = sources.qp.base + row * c
                                                    let o = queryIn + i * c
                                                    for ch in 0..<c { o[ch] = a[ch] + p[ch] }
                                                }
                                                if !selfAttention {
                                                    for (i, row) in kr.enumerated() {
                                                        let a = sources.k.base + row * c
                                                        let p = sources.kp.base + row * c
                                                        let o = keyIn + i * c
                                                        for ch in 0..<c { o[ch] = a[ch] + p[ch] }
                                                    }
                                                }
                                                for (i, row) in kr.enumerated() {
                                                    (valueIn + i * c).update(from: sources.v.base + row * c, count: c)
                                                }
                                                let q = pb.baseAddress!
                                                let k = q + nq * c
                                                let v = k + nk * c
                                                weights.query.apply(queryIn, tokens: nq, into: q)
                                                weights.key.apply(selfAttention ? queryIn : keyIn, tokens: nk, into: k)
                                                weights.value.apply(valueIn, tokens: nk, into: v)
                                                groupAttention(
                                                    ab.baseAddress!, q: q, k: k, v: v, scores: sb.baseAddress!,
                                                    queries: nq, keys: nk,
                                                    channels: c, heads: heads, scale: scale)
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

    /// x[count, C] += linear2(relu(linear1(x))) for one chunk, on the calling thread.
    func addInPlace(to x: UnsafeMutablePointer<Float>, tokens count: Int) {
        let c = first.inputs
        let m = first.outputs
        var hidden = uninitialized(count * m)
        var out = uninitialized(count * c)  // written in full by the GEMMs
        hidden.withUnsafeMutableBufferPointer { hb in
            out.withUnsafeMutableBufferPointer { ob in
                first.apply(x, tokens: count, into: hb.baseAddress!)
                relu(hb.baseAddress!, count: count * m)
                second.apply(hb.baseAddress!, tokens: count, into: ob.baseAddress!)
                let source = ob.baseAddress!
                for i in 0..<(count * c) { x[i] += source[i] }
            }
        }
    }
}
