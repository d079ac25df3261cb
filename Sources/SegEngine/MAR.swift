import SegFormats

extension MARWeights {
    /// MAR alone, as `Model.forward` runs it, for profiling it on its own
    /// (segscope-bench engine-child): tokens [n, C] in and out; size checked.
    public func refinedTokens(_ x: [Float], tokens n: Int) throws -> [Float] {
        try requireBLAS()
        let (count, overflow) = n.multipliedReportingOverflow(by: channels)
        guard n > 0, !overflow, x.count == count else {
            throw ModelError.geometry("MAR: tokens must be [\(n), \(channels)], not \(x.count) values")
        }
        return forward(x, tokens: n)
    }

    /// MAR over g's tokens [H*W, C]: attention of every token over the
    /// memory (no 1/sqrt scaling, as the release), residual, LayerNorm, FFN,
    /// LayerNorm; with the memory's products folded at load (see MARWeights).
    /// Tokens are independent here, so each chunk runs the whole block while
    /// it is in cache, one chunk per core, instead of one pass over all
    /// tokens per layer.
    func forward(_ x: [Float], tokens n: Int) -> [Float] {
        let c = channels
        let chunkSize = 256
        var y = uninitialized(n * c)
        y.withUnsafeMutableBufferPointer { yb in
            x.withUnsafeBufferPointer { xb in
                let output = SharedMutablePointer(yb.baseAddress!)
                let input = SharedPointer(xb.baseAddress!)
                parallelFor((n + chunkSize - 1) / chunkSize) { chunk in
                    let start = chunk * chunkSize
                    let count = min(chunkSize, n - start)
                    refine(input.base + start * c, into: output.base + start * c, tokens: count)
                }
            }
        }
        return y
    }

    /// One chunk: out[count, C] = MAR(x[count, C]), on the calling thread.
    private func refine(_ x: UnsafePointer<Float>, into out: UnsafeMutablePointer<Float>, tokens count: Int) {
        let c = channels
        let rows = memoryRows
        var scores = uninitialized(count * rows)
        scores.withUnsafeMutableBufferPointer { sb in
            let s = sb.baseAddress!
            scoreProjection.withUnsafeBufferPointer { pb in
                // scores [count, N] = x [count, C] (Wq^T K^T) [C, N]
                BLAS.gemm(m: count, n: rows, k: c, a: x, lda: c, b: pb.baseAddress!, ldb: rows, c: s, ldc: rows)
            }
            softmaxRows(s, rows: count, columns: rows, stride: rows)
            outputBias.withUnsafeBufferPointer { bias in
                for t in 0..<count { for ch in 0..<c { out[t * c + ch] = x[t * c + ch] + bias[ch] } }
            }
            valueOutput.withUnsafeBufferPointer { vb in
                // out += scores (V Wout^T)
                BLAS.gemm(m: count, n: c, k: rows, a: s, lda: rows, b: vb.baseAddress!, ldb: c, beta: 1, c: out, ldc: c)
            }
        }
        norm1.apply(out, tokens: count, channels: c, inParallel: false)
        feedForward.addInPlace(to: out, tokens: count)
        norm2.apply(out, tokens: count, channels: c, inParallel: false)
    }
}

extension Classifier {
    /// Logits [K, H*W] (channel-first) of tokens [H*W, C].
    func logits(_ x: [Float], tokens n: Int) -> [Float] {
        let layer = Linear(weight: weight, bias: bias, inputs: channels, outputs: classes)
        return channelsFromTokens(layer(x, tokens: n), channels: classes, positions: n)
    }
}
