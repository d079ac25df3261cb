import Foundation
import SegFormats

/// MAR's attention over the memory summed by class, for every token of a frame at once: what
/// `MARExplanation.classMass` is for one token, batched so a frame-wide table (fixed/broken pixels)
/// costs one GEMM over the memory keys per chunk of tokens instead of one explain per pixel.
extension Model {
    /// For features [C, H*W] channel-first (MAR's input: STF's output g, or f[T] without STF), the
    /// attention mass per class at every token: [H*W, K], token-major; each token's masses sum to 1.
    /// Rows j*KL..(j+1)*KL-1 of the memory are class j (KL = memory rows / K), as in explain.
    public func memoryClassMasses(marInput features: [Float], height h: Int, width w: Int, input: String = "features")
        throws -> [Float]
    {
        try requireBLAS()
        guard let mar else { throw MemoryClassMassError.noMAR(path: path) }
        let (c, k, rows) = (channels, classes, mar.memoryRows)
        guard rows % k == 0 else { throw ExplainError.memoryRows(path: path, rows: rows, classes: k) }
        let (n, overflow) = h.multipliedReportingOverflow(by: w)
        guard h > 0, w > 0, !overflow, features.count == c &* n else {
            throw ModelError.geometry("\(input): MAR's input must be [\(c), \(h), \(w)], not \(features.count) values")
        }
        if let i = firstNonFinite(features) {
            throw ModelError.geometry("\(input): MAR's input holds \(features[i]) at element \(i)")
        }
        let tokens = tokensFromChannels(features, channels: c, positions: n)
        let perClass = rows / k
        // Chunks of tokens, one per core, as MARWeights.forward: scores [chunk, N] stay in cache.
        let chunkSize = 256
        var masses = [Float](repeating: 0, count: n * k)
        tokens.withUnsafeBufferPointer { tb in
            mar.scoreProjection.withUnsafeBufferPointer { pb in
                masses.withUnsafeMutableBufferPointer { mb in
                    let (x, projection, out) = (
                        SharedPointer(tb.baseAddress!), SharedPointer(pb.baseAddress!),
                        SharedMutablePointer(mb.baseAddress!)
                    )
                    parallelFor((n + chunkSize - 1) / chunkSize) { chunk in
                        let start = chunk * chunkSize
                        let count = min(chunkSize, n - start)
                        var scores = uninitialized(count * rows)
                        scores.withUnsafeMutableBufferPointer { sb in
                            let s = sb.baseAddress!
                            // scores [count, N] = g [count, C] (Wq^T K^T) [C, N], as MARWeights.forward.
                            BLAS.gemm(
                                m: count, n: rows, k: c, a: x.base + start * c, lda: c, b: projection.base, ldb: rows,
                                c: s, ldc: rows)
                            softmaxRows(s, rows: count, columns: rows, stride: rows)
                            for t in 0..<count {
                                for j in 0..<k {
                                    var sum: Float = 0
                                    for r in (j * perClass)..<((j + 1) * perClass) { sum += s[t * rows + r] }
                                    out[(start + t) * k + j] = sum
                                }
                            }
                        }
                    }
                }
            }
        }
        if let i = firstNonFinite(masses) {
            throw ModelError.nonFiniteOutput(input: input, stage: "MAR attention", index: i, value: masses[i])
        }
        return masses
    }
}

public enum MemoryClassMassError: Error, CustomStringConvertible, Equatable {
    case noMAR(path: String)

    public var description: String {
        switch self {
        case .noMAR(let path): return "\(path): the weights have no MAR (mar.*): no memory attention to attribute"
        }
    }
}

extension Reference {
    /// The plain twin of `Model.memoryClassMasses`: per token, the scores against every memory row in
    /// float64 loops, softmax, summed by class. [H*W, K].
    public static func memoryClassMasses(model: Model, marInput features: [Float], height h: Int, width w: Int)
        -> [Float]
    {
        guard let mar = model.mar else { return [] }
        let (c, k, rows, n) = (model.channels, model.classes, mar.memoryRows, h * w)
        let perClass = rows / k
        var masses = [Float](repeating: 0, count: n * k)
        for t in 0..<n {
            var scores = [Double](repeating: 0, count: rows)
            for r in 0..<rows {
                for ch in 0..<c {
                    scores[r] += Double(features[ch * n + t]) * Double(mar.scoreProjection[ch * rows + r])
                }
            }
            let top = scores.max()!
            let exponentials = scores.map { Foundation.exp($0 - top) }
            let total = exponentials.reduce(0, +)
            for j in 0..<k {
                let mass = exponentials[(j * perClass)..<((j + 1) * perClass)].reduce(0, +) / total
                masses[t * k + j] = Float(mass)
            }
        }
        return masses
    }
}
