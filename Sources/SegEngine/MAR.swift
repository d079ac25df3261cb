import SegFormats

extension MARWeights {
    /// MAR over g's tokens [H*W, C]: attention of every token over the
    /// memory (no 1/sqrt scaling, as the release), residual, LayerNorm, FFN,
    /// LayerNorm; with the memory's products folded at load (see MARWeights).
    func forward(_ x: [Float], tokens n: Int) -> [Float] {
        let c = channels, rows = memoryRows
        var scores = uninitialized(n * rows)
        x.withUnsafeBufferPointer { xb in
            scoreProjection.withUnsafeBufferPointer { pb in
                scores.withUnsafeMutableBufferPointer { sb in
                    // scores [n, N] = x [n, C] (Wq^T K^T) [C, N]
                    parallelGemmRows(transposeB: false, m: n, n: rows, k: c, a: xb.baseAddress!, lda: c, b: pb.baseAddress!, ldb: rows,
                                     c: sb.baseAddress!, ldc: rows)
                    let s = SharedMutablePointer(sb.baseAddress!)
                    let chunks = max(1, n / 1024)
                    parallelFor(chunks) { chunk in
                        let start = n * chunk / chunks, end = n * (chunk + 1) / chunks
                        softmaxRows(s.base + start * rows, rows: end - start, columns: rows, stride: rows)
                    }
                }
            }
        }
        // y = (x + bout) in one pass, then y += scores (V Wout^T).
        var y = uninitialized(n * c)
        y.withUnsafeMutableBufferPointer { yb in
            x.withUnsafeBufferPointer { xb in
                outputBias.withUnsafeBufferPointer { bias in
                    let target = SharedMutablePointer(yb.baseAddress!), source = SharedPointer(xb.baseAddress!), b = SharedPointer(bias.baseAddress!)
                    let chunks = max(1, n / 1024)
                    parallelFor(chunks) { chunk in
                        let start = n * chunk / chunks, end = n * (chunk + 1) / chunks
                        for t in start..<end {
                            let row = target.base + t * c, input = source.base + t * c
                            for ch in 0..<c { row[ch] = input[ch] + b.base[ch] }
                        }
                    }
                }
            }
            scores.withUnsafeBufferPointer { sb in
                valueOutput.withUnsafeBufferPointer { vb in
                    parallelGemmRows(transposeB: false, m: n, n: c, k: rows, a: sb.baseAddress!, lda: rows, b: vb.baseAddress!, ldb: c,
                                     c: yb.baseAddress!, ldc: c, beta: 1)
                }
            }
        }
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
