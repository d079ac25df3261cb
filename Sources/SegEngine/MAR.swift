import SegFormats

extension MARWeights {
    /// MAR over g's tokens [H*W, C]: attention of every token over the
    /// projected memory (no 1/sqrt scaling, as the release), then residual,
    /// LayerNorm, FFN, LayerNorm.
    func forward(_ x: [Float], tokens n: Int) -> [Float] {
        let c = channels, dh = width, rows = memoryRows
        var q = [Float](repeating: 0, count: n * dh)
        var scores = [Float](repeating: 0, count: n * rows)
        var attended = [Float](repeating: 0, count: n * dh)
        x.withUnsafeBufferPointer { xb in
            query.withUnsafeBufferPointer { wq in
                q.withUnsafeMutableBufferPointer { parallelLinear($0.baseAddress!, xb.baseAddress!, wq.baseAddress!, nil, tokens: n, inputs: c, outputs: dh) }
            }
        }
        q.withUnsafeBufferPointer { qb in
            keys.withUnsafeBufferPointer { kb in
                scores.withUnsafeMutableBufferPointer { sb in
                    // scores [n, rows] = q [n, dh] keys [rows, dh]^T
                    parallelGemmRows(transposeB: true, m: n, n: rows, k: dh, a: qb.baseAddress!, lda: dh, b: kb.baseAddress!, ldb: dh,
                                     c: sb.baseAddress!, ldc: rows)
                    let s = SharedMutablePointer(sb.baseAddress!)
                    parallelFor(max(1, n / 1024)) { chunk in
                        let chunks = max(1, n / 1024), start = n * chunk / chunks, end = n * (chunk + 1) / chunks
                        softmaxRows(s.base + start * rows, rows: end - start, columns: rows, stride: rows)
                    }
                }
            }
        }
        scores.withUnsafeBufferPointer { sb in
            values.withUnsafeBufferPointer { vb in
                attended.withUnsafeMutableBufferPointer {
                    parallelGemmRows(transposeB: false, m: n, n: dh, k: rows, a: sb.baseAddress!, lda: rows, b: vb.baseAddress!, ldb: dh,
                                     c: $0.baseAddress!, ldc: dh)
                }
            }
        }
        var y = x
        addInPlace(&y, output(attended, tokens: n))
        norm1.applyInPlace(&y, tokens: n, channels: c)
        feedForward.addInPlace(to: &y, tokens: n)
        norm2.applyInPlace(&y, tokens: n, channels: c)
        return y
    }
}

extension Classifier {
    /// Logits [K, H*W] (channel-first) of tokens [H*W, C].
    func logits(_ x: [Float], tokens n: Int) -> [Float] {
        let layer = Linear(weight: weight, bias: bias, inputs: channels, outputs: classes)
        return channelsFromTokens(layer(x, tokens: n), channels: classes, positions: n)
    }
}
