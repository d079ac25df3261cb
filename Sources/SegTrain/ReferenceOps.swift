import Foundation

/// Plain twins of the trainer's fast kernels: simple loops, obviously right,
/// compared with the fast paths in the tests (SegTrainTests/KernelTwinTests).
public enum ReferenceOps {
    /// y[t, j] = sum_i x[t, i] W[j, i] + b[j].
    public static func linear(
        _ x: [Double], _ w: [Double], _ b: [Double]?, tokens l: Int, inputs k: Int, outputs n: Int
    ) -> [Double] {
        var y = [Double](repeating: 0, count: l * n)
        for t in 0..<l {
            for j in 0..<n {
                var sum = b?[j] ?? 0
                for i in 0..<k { sum += x[t * k + i] * w[j * k + i] }
                y[t * n + j] = sum
            }
        }
        return y
    }

    /// For each group and head: out = softmax(q k^T * scale) v, one query at a time.
    static func attention(
        q: [Double], k: [Double], v: [Double], groups: AttentionGroups, channels c: Int, heads h: Int, scale: Double
    ) -> [Double] {
        var out = [Double](repeating: 0, count: q.count)
        let d = c / h
        for (queries, keys) in zip(groups.queries, groups.keys) {
            for head in 0..<h {
                for query in queries {
                    let scores = keys.map { key in
                        (0..<d).reduce(0.0) { $0 + q[query * c + head * d + $1] * k[key * c + head * d + $1] } * scale
                    }
                    let top = scores.max()!
                    let e = scores.map { exp($0 - top) }
                    let total = e.reduce(0, +)
                    for i in 0..<d {
                        out[query * c + head * d + i] = zip(keys, e).reduce(0.0) {
                            $0 + $1.1 / total * v[$1.0 * c + head * d + i]
                        }
                    }
                }
            }
        }
        return out
    }

    /// Upsamples every class plane (bilinear, align_corners=False) into a full
    /// buffer, then sums the cross-entropy over labelled pixels and writes the
    /// gradient of that sum back through the explicit transpose of the upsampling.
    static func upsampledCrossEntropy(
        logits: [Double], labels: [UInt8], classes k: Int, height h: Int, width w: Int, factor: Int
    )
        -> (loss: Double, pixels: Int, gradient: [Double])
    {
        let oh = h * factor
        let ow = w * factor
        let resize = BilinearMap(from: (h, w), to: (oh, ow))
        // [h*w, k] token-major -> planes [k, h*w] -> upsampled [k, oh*ow]
        var planes = [Double](repeating: 0, count: k * h * w)
        for i in 0..<(h * w) { for j in 0..<k { planes[j * h * w + i] = logits[i * k + j] } }
        var up = [Double](repeating: 0, count: k * oh * ow)
        planes.withUnsafeBufferPointer { pb in
            up.withUnsafeMutableBufferPointer { resize.apply(pb.baseAddress!, planes: k, into: $0.baseAddress!) }
        }
        var dUp = [Double](repeating: 0, count: up.count)
        var loss = 0.0
        var pixels = 0
        for pixel in 0..<(oh * ow) where Int(labels[pixel]) < k {
            let scores = (0..<k).map { up[$0 * oh * ow + pixel] }
            let total = scores.map { exp($0) }.reduce(0, +)
            loss += log(total) - scores[Int(labels[pixel])]
            pixels += 1
            for j in 0..<k { dUp[j * oh * ow + pixel] = exp(scores[j]) / total - (j == Int(labels[pixel]) ? 1 : 0) }
        }
        var dPlanes = [Double](repeating: 0, count: planes.count)
        dUp.withUnsafeBufferPointer { db in
            dPlanes.withUnsafeMutableBufferPointer {
                resize.applyTransposed(db.baseAddress!, planes: k, into: $0.baseAddress!)
            }
        }
        var gradient = [Double](repeating: 0, count: logits.count)
        for i in 0..<(h * w) { for j in 0..<k { gradient[i * k + j] = dPlanes[j * h * w + i] } }
        return (loss, pixels, gradient)
    }
}
