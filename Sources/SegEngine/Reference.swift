import Foundation

/// Plain-loop twins of the fast kernels: obviously right, slow, used by the
/// tests to check the fast paths.
public enum Reference {
    /// out[l, n] = x[l, k] W[n, k]^T + b[n]
    public static func linear(
        _ x: [Float], _ weight: [Float], _ bias: [Float]?, tokens l: Int, inputs k: Int, outputs n: Int
    ) -> [Float] {
        var out = [Float](repeating: 0, count: l * n)
        for t in 0..<l {
            for o in 0..<n {
                var sum = Double(bias?[o] ?? 0)
                for i in 0..<k { sum += Double(x[t * k + i]) * Double(weight[o * k + i]) }
                out[t * n + o] = Float(sum)
            }
        }
        return out
    }

    public static func layerNorm(_ x: [Float], _ weight: [Float], _ bias: [Float], tokens l: Int, channels c: Int)
        -> [Float]
    {
        var out = x
        for t in 0..<l {
            let row = (0..<c).map { Double(x[t * c + $0]) }
            let mean = row.reduce(0, +) / Double(c)
            let variance = row.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(c)
            for i in 0..<c {
                out[t * c + i] = Float(
                    (row[i] - mean) / (variance + 1e-5).squareRoot() * Double(weight[i]) + Double(bias[i]))
            }
        }
        return out
    }

    public static func softmax(_ row: [Float]) -> [Float] {
        let top = row.max() ?? 0
        let e = row.map { exp(Double($0 - top)) }
        let sum = e.reduce(0, +)
        return e.map { Float($0 / sum) }
    }

    /// Multi-head attention of one group, from already projected q, k, v.
    public static func attention(
        q: [Float], k: [Float], v: [Float], queries l: Int, keys s: Int, channels c: Int, heads: Int
    ) -> [Float] {
        let d = c / heads
        var out = [Float](repeating: 0, count: l * c)
        for h in 0..<heads {
            for i in 0..<l {
                let scores = (0..<s).map { j -> Float in
                    var dot: Float = 0
                    for e in 0..<d { dot += q[i * c + h * d + e] * k[j * c + h * d + e] }
                    return dot / Float(d).squareRoot()
                }
                let p = softmax(scores)
                for e in 0..<d { out[i * c + h * d + e] = (0..<s).reduce(0) { $0 + p[$1] * v[$1 * c + h * d + e] } }
            }
        }
        return out
    }

    /// Bilinear resize of one plane, align_corners=False, by the definition.
    public static func resize(_ plane: [Float], height hs: Int, width ws: Int, toHeight h: Int, width w: Int) -> [Float]
    {
        func source(_ i: Int, _ n: Int, _ m: Int) -> Double { max(0, (Double(i) + 0.5) * Double(m) / Double(n) - 0.5) }
        var out = [Float](repeating: 0, count: h * w)
        for y in 0..<h {
            let sy = source(y, h, hs)
            let y0 = min(Int(sy), hs - 1)
            let y1 = min(y0 + 1, hs - 1)
            let fy = sy - Double(y0)
            for x in 0..<w {
                let sx = source(x, w, ws)
                let x0 = min(Int(sx), ws - 1)
                let x1 = min(x0 + 1, ws - 1)
                let fx = sx - Double(x0)
                let value =
                    (1 - fy) * ((1 - fx) * Double(plane[y0 * ws + x0]) + fx * Double(plane[y0 * ws + x1]))
                    + fy * ((1 - fx) * Double(plane[y1 * ws + x0]) + fx * Double(plane[y1 * ws + x1]))
                out[y * w + x] = Float(value)
            }
        }
        return out
    }

    /// Direct convolution [Cin, H, W] -> [Cout, Ho, Wo] with weight
    /// [Cout, Cin, k, k], then eval BatchNorm per output channel (unfolded), in float64.
    public static func convolutionBatchNorm(
        _ x: [Float], weight: [Float], inputs ci: Int, outputs co: Int, height h: Int, width w: Int,
        kernel k: Int, stride s: Int, padding p: Int, dilation d: Int,
        gamma: [Float], beta: [Float], mean: [Float], variance: [Float], relu: Bool
    ) -> [Float] {
        let ho = (h + 2 * p - d * (k - 1) - 1) / s + 1
        let wo = (w + 2 * p - d * (k - 1) - 1) / s + 1
        var out = [Float](repeating: 0, count: co * ho * wo)
        for o in 0..<co {
            for oy in 0..<ho {
                for ox in 0..<wo {
                    var sum = 0.0
                    for c in 0..<ci {
                        for ky in 0..<k {
                            for kx in 0..<k {
                                let iy = oy * s - p + ky * d
                                let ix = ox * s - p + kx * d
                                guard iy >= 0, iy < h, ix >= 0, ix < w else { continue }
                                sum +=
                                    Double(weight[((o * ci + c) * k + ky) * k + kx]) * Double(x[(c * h + iy) * w + ix])
                            }
                        }
                    }
                    var v =
                        (sum - Double(mean[o])) / (Double(variance[o]) + 1e-5).squareRoot() * Double(gamma[o])
                        + Double(beta[o])
                    if relu { v = max(0, v) }
                    out[(o * ho + oy) * wo + ox] = Float(v)
                }
            }
        }
        return out
    }

    /// Adaptive average pooling from the definition: output (i, j) averages
    /// every input (y, x) with i*H/s <= y+1 and y < (i+1)*H/s (likewise x), in float64.
    public static func adaptiveAveragePool(_ x: [Float], channels c: Int, height h: Int, width w: Int, size s: Int)
        -> [Float]
    {
        var out = [Float](repeating: 0, count: c * s * s)
        for ch in 0..<c {
            for i in 0..<s {
                for j in 0..<s {
                    var sum = 0.0
                    var count = 0
                    for y in 0..<h
                    where Double(y + 1) > Double(i * h) / Double(s) && Double(y) < Double((i + 1) * h) / Double(s) {
                        for xx in 0..<w
                        where Double(xx + 1) > Double(j * w) / Double(s) && Double(xx) < Double((j + 1) * w) / Double(s)
                        {
                            sum += Double(x[(ch * h + y) * w + xx])
                            count += 1
                        }
                    }
                    out[(ch * s + i) * s + j] = Float(sum / Double(count))
                }
            }
        }
        return out
    }
}

/// The fast kernels, exposed for the tests that compare them with `Reference`.
public enum Kernels {
    public static func linear(
        _ x: [Float], _ weight: [Float], _ bias: [Float]?, tokens l: Int, inputs k: Int, outputs n: Int
    ) -> [Float] {
        Linear(weight: weight, bias: bias, inputs: k, outputs: n)(x, tokens: l)
    }

    public static func layerNorm(_ x: [Float], _ weight: [Float], _ bias: [Float], tokens l: Int, channels c: Int)
        -> [Float]
    {
        Norm(weight: weight, bias: bias)(x, tokens: l, channels: c)
    }

    public static func softmax(_ row: [Float]) -> [Float] {
        var out = row
        out.withUnsafeMutableBufferPointer {
            softmaxRows($0.baseAddress!, rows: 1, columns: row.count, stride: row.count)
        }
        return out
    }

    public static func attention(
        q: [Float], k: [Float], v: [Float], queries l: Int, keys s: Int, channels c: Int, heads: Int
    ) -> [Float] {
        var out = [Float](repeating: 0, count: l * c)
        var scores = [Float](repeating: 0, count: attentionScratch(keys: s))
        out.withUnsafeMutableBufferPointer { o in
            scores.withUnsafeMutableBufferPointer { sc in
                groupAttention(
                    o.baseAddress!, q: q, k: k, v: v, scores: sc.baseAddress!, queries: l, keys: s, channels: c,
                    heads: heads, scale: 1 / Float(c / heads).squareRoot())
            }
        }
        return out
    }

    public static func resize(_ plane: [Float], height hs: Int, width ws: Int, toHeight h: Int, width w: Int) -> [Float]
    {
        resizePlanes(plane, planes: 1, height: hs, width: ws, toHeight: h, width: w)
    }

    /// Token-major resizing of [frames*Hs*Ws, C] maps.
    public static func resizeTokens(
        _ tokens: [Float], frames: Int, height hs: Int, width ws: Int, toHeight h: Int, width w: Int,
        channels c: Int
    ) -> [Float] {
        SegEngine.resizeTokens(tokens, frames: frames, height: hs, width: ws, toHeight: h, width: w, channels: c)
    }

    public static func convolutionBatchNorm(
        _ x: [Float], weight: [Float], inputs ci: Int, outputs co: Int, height h: Int, width w: Int,
        kernel k: Int, stride s: Int, padding p: Int, dilation d: Int,
        gamma: [Float], beta: [Float], mean: [Float], variance: [Float], relu: Bool,
        method: ConvolutionMethod = .automatic
    ) -> [Float] {
        // Channel-first in and out, as the twin; position-major inside.
        let convolution = Convolution.foldingBatchNorm(
            weight: weight, inputs: ci, outputs: co, kernel: k, stride: s, padding: p, dilation: d,
            gamma: gamma, beta: beta, mean: mean, variance: variance)
        let (ho, wo) = convolution.outputSize(height: h, width: w)
        let out = convolution.apply(
            tokensFromChannels(x, channels: ci, positions: h * w), height: h, width: w, relu: relu,
            method: method)
        return channelsFromTokens(out, channels: co, positions: ho * wo)
    }

    /// The same with the input split along channels into parts of the given widths.
    public static func convolutionBatchNorm(
        parts widths: [Int], _ x: [Float], weight: [Float], outputs co: Int, height h: Int, width w: Int,
        kernel k: Int, stride s: Int, padding p: Int, dilation d: Int,
        gamma: [Float], beta: [Float], mean: [Float], variance: [Float], relu: Bool,
        method: ConvolutionMethod = .automatic
    ) -> [Float] {
        let ci = widths.reduce(0, +)
        let convolution = Convolution.foldingBatchNorm(
            weight: weight, inputs: ci, outputs: co, kernel: k, stride: s, padding: p, dilation: d,
            gamma: gamma, beta: beta, mean: mean, variance: variance)
        var parts: [[Float]] = []
        var first = 0
        for width in widths {
            parts.append(
                tokensFromChannels(
                    Array(x[(first * h * w)..<((first + width) * h * w)]), channels: width, positions: h * w))
            first += width
        }
        let (ho, wo) = convolution.outputSize(height: h, width: w)
        return channelsFromTokens(
            convolution.apply(parts, height: h, width: w, relu: relu, method: method), channels: co,
            positions: ho * wo)
    }

    public static func adaptiveAveragePool(_ x: [Float], channels c: Int, height h: Int, width w: Int, size s: Int)
        -> [Float]
    {
        channelsFromTokens(
            SegEngine.adaptiveAveragePool(
                tokensFromChannels(x, channels: c, positions: h * w), channels: c, height: h, width: w, size: s),
            channels: c, positions: s * s)
    }
}
