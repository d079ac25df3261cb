import Foundation
import SegFormats

/// Multi-head attention of one group of tokens whose projections are done:
/// out[L, C] = concat_h softmax(q_h k_h^T * scale) v_h, with q [L, C],
/// k and v [S, C], heads of d = C / heads channels, scores scratch [L, S].
func groupAttention(_ out: UnsafeMutablePointer<Float>, q: UnsafePointer<Float>, k: UnsafePointer<Float>,
                    v: UnsafePointer<Float>, scores: UnsafeMutablePointer<Float>,
                    queries l: Int, keys s: Int, channels c: Int, heads: Int, scale: Float) {
    // q [l, c], k [s, c], v [s, c], out [l, c], scores [l, s]
    let d = c / heads
    for head in 0..<heads {
        let offset = head * d
        BLAS.gemm(transposeB: true, m: l, n: s, k: d, alpha: scale, a: q + offset, lda: c, b: k + offset, ldb: c,
                  c: scores, ldc: s)
        softmaxRows(scores, rows: l, columns: s, stride: s)
        BLAS.gemm(m: l, n: d, k: s, a: scores, lda: s, b: v + offset, ldb: c, c: out + offset, ldc: c)
    }
}

/// Runs attention over groups of token rows: group g's queries are rows
/// `queryRows(g)` of Q, its keys and values rows `keyRows(g)` of K and V;
/// the result rows land at the same places in the returned [Lq, C] buffer.
/// Groups run in parallel; each gathers its rows into contiguous scratch.
func groupedAttention(queries: [Float], keys: [Float], values: [Float], queryCount lq: Int, channels c: Int, heads: Int,
                      groups: Int, queryRows: @Sendable (Int) -> [Int], keyRows: @Sendable (Int) -> [Int]) -> [Float] {
    var out = [Float](repeating: 0, count: lq * c)
    let scale = 1 / Float(c / heads).squareRoot()
    queries.withUnsafeBufferPointer { qAll in
        keys.withUnsafeBufferPointer { kAll in
            values.withUnsafeBufferPointer { vAll in
                out.withUnsafeMutableBufferPointer { oAll in
                    let q = SharedPointer(qAll.baseAddress!), k = SharedPointer(kAll.baseAddress!)
                    let v = SharedPointer(vAll.baseAddress!), o = SharedMutablePointer(oAll.baseAddress!)
                    parallelFor(groups) { g in
                        let qr = queryRows(g), kr = keyRows(g)
                        var qg = [Float](repeating: 0, count: qr.count * c), og = qg
                        var kg = [Float](repeating: 0, count: kr.count * c), vg = kg
                        var scores = [Float](repeating: 0, count: qr.count * kr.count)
                        for (i, row) in qr.enumerated() { qg.withUnsafeMutableBufferPointer { ($0.baseAddress! + i * c).update(from: q.base + row * c, count: c) } }
                        for (i, row) in kr.enumerated() {
                            kg.withUnsafeMutableBufferPointer { ($0.baseAddress! + i * c).update(from: k.base + row * c, count: c) }
                            vg.withUnsafeMutableBufferPointer { ($0.baseAddress! + i * c).update(from: v.base + row * c, count: c) }
                        }
                        og.withUnsafeMutableBufferPointer { ob in
                            scores.withUnsafeMutableBufferPointer { sb in
                                groupAttention(ob.baseAddress!, q: qg, k: kg, v: vg, scores: sb.baseAddress!,
                                               queries: qr.count, keys: kr.count, channels: c, heads: heads, scale: scale)
                            }
                        }
                        for (i, row) in qr.enumerated() { og.withUnsafeBufferPointer { (o.base + row * c).update(from: $0.baseAddress! + i * c, count: c) } }
                    }
                }
            }
        }
    }
    return out
}

/// A read-only pointer shared by parallel iterations.
struct SharedPointer<T>: @unchecked Sendable {
    let base: UnsafePointer<T>
    init(_ base: UnsafePointer<T>) { self.base = base }
}

/// x + y elementwise.
func added(_ x: [Float], _ y: [Float]) -> [Float] {
    precondition(x.count == y.count)
    return [Float](unsafeUninitializedCapacity: x.count) { out, n in
        for i in 0..<x.count { out[i] = x[i] + y[i] }
        n = x.count
    }
}

extension Linear {
    func callAsFunction(_ x: [Float], tokens: Int) -> [Float] {
        var out = [Float](repeating: 0, count: tokens * outputs)
        x.withUnsafeBufferPointer { xb in out.withUnsafeMutableBufferPointer { apply(xb.baseAddress!, tokens: tokens, into: $0.baseAddress!) } }
        return out
    }
}

extension Norm {
    func callAsFunction(_ x: [Float], tokens: Int, channels: Int) -> [Float] {
        var out = x
        out.withUnsafeMutableBufferPointer { apply($0.baseAddress!, tokens: tokens, channels: channels) }
        return out
    }
}

extension FeedForward {
    /// linear2(relu(linear1(x))) over [L, C] tokens.
    func callAsFunction(_ x: [Float], tokens: Int) -> [Float] {
        var hidden = first(x, tokens: tokens)
        hidden.withUnsafeMutableBufferPointer { relu($0.baseAddress!, count: $0.count) }
        return second(hidden, tokens: tokens)
    }
}
