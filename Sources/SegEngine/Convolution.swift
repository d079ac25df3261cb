import SegFormats

/// A 2-D convolution with BatchNorm folded in (eval mode), as the backbone
/// runs it: channel-first maps [C, H, W], weight [Cout, Cin*kh*kw], bias [Cout].
public struct Convolution: Sendable {
    public let weight: [Float]
    public let bias: [Float]
    public let inputs: Int, outputs: Int
    public let kernel: Int, stride: Int, padding: Int, dilation: Int

    public init(weight: [Float], bias: [Float], inputs: Int, outputs: Int, kernel: Int, stride: Int = 1, padding: Int = 0, dilation: Int = 1) {
        precondition(weight.count == outputs * inputs * kernel * kernel && bias.count == outputs)
        (self.weight, self.bias, self.inputs, self.outputs) = (weight, bias, inputs, outputs)
        (self.kernel, self.stride, self.padding, self.dilation) = (kernel, stride, padding, dilation)
    }

    /// Folds eval-mode BatchNorm (y = (x - mean) / sqrt(var + eps) * gamma + beta)
    /// into a bias-free convolution's weight [Cout, Cin, k, k]: w' = w * s,
    /// b' = beta - mean * s with s = gamma / sqrt(var + eps), per output channel.
    public static func foldingBatchNorm(weight: [Float], inputs: Int, outputs: Int, kernel: Int, stride: Int = 1, padding: Int = 0, dilation: Int = 1,
                                        gamma: [Float], beta: [Float], mean: [Float], variance: [Float], epsilon: Float = 1e-5) -> Convolution {
        let perOutput = inputs * kernel * kernel
        var folded = weight, bias = [Float](repeating: 0, count: outputs)
        for o in 0..<outputs {
            let scale = gamma[o] / (variance[o] + epsilon).squareRoot()
            for i in 0..<perOutput { folded[o * perOutput + i] *= scale }
            bias[o] = beta[o] - mean[o] * scale
        }
        return Convolution(weight: folded, bias: bias, inputs: inputs, outputs: outputs, kernel: kernel, stride: stride, padding: padding, dilation: dilation)
    }

    public func outputSize(height h: Int, width w: Int) -> (height: Int, width: Int) {
        let span = dilation * (kernel - 1) + 1
        return ((h + 2 * padding - span) / stride + 1, (w + 2 * padding - span) / stride + 1)
    }

    /// Most bytes of im2col columns one tile may hold: tiles keep a 3x3
    /// convolution over thousands of channels from needing gigabytes.
    static let tileBytes = 4 << 20

    /// x [Cin, H, W] -> [Cout, Ho, Wo]; `relu` applies max(0, .) after the
    /// bias, `residual` [Cout, Ho, Wo] is added before it (ResNet blocks).
    public func apply(_ x: [Float], height h: Int, width w: Int, relu: Bool, residual: [Float]? = nil) -> [Float] {
        precondition(x.count == inputs * h * w)
        let (ho, wo) = outputSize(height: h, width: w)
        let n = ho * wo, depth = inputs * kernel * kernel
        var out = [Float](repeating: 0, count: outputs * n)
        let direct = kernel == 1 && stride == 1 && padding == 0
        // Columns per tile: every tile's im2col within tileBytes, and at least a few tiles per core.
        let tile = direct ? max(1, (n + 7) / 8) : max(1, min(Self.tileBytes / (4 * depth), (n + 7) / 8))
        let tiles = (n + tile - 1) / tile
        x.withUnsafeBufferPointer { xb in
            weight.withUnsafeBufferPointer { wb in
                out.withUnsafeMutableBufferPointer { ob in
                    let (input, weights, output) = (SharedPointer(xb.baseAddress!), SharedPointer(wb.baseAddress!), SharedMutablePointer(ob.baseAddress!))
                    parallelFor(tiles) { t in
                        let start = t * tile, count = min(tile, n - start)
                        if direct {
                            BLAS.gemm(m: outputs, n: count, k: inputs, a: weights.base, lda: inputs, b: input.base + start, ldb: n,
                                      c: output.base + start, ldc: n)
                            return
                        }
                        var columns = [Float](repeating: 0, count: depth * count)
                        columns.withUnsafeMutableBufferPointer { cb in
                            im2col(input.base, height: h, width: w, outputWidth: wo, start: start, count: count, into: cb.baseAddress!)
                            BLAS.gemm(m: outputs, n: count, k: depth, a: weights.base, lda: depth, b: cb.baseAddress!, ldb: count,
                                      c: output.base + start, ldc: n)
                        }
                    }
                }
            }
        }
        // Bias, residual and ReLU in one pass.
        finish(&out, positions: n, relu: relu, residual: residual)
        return out
    }

    /// Columns [Cin*k*k, count] for output positions start..<start+count (row-major over [Ho, Wo]); zero padding.
    func im2col(_ x: UnsafePointer<Float>, height h: Int, width w: Int, outputWidth wo: Int, start: Int, count: Int, into columns: UnsafeMutablePointer<Float>) {
        var row = 0
        for c in 0..<inputs {
            let plane = x + c * h * w
            for ky in 0..<kernel {
                for kx in 0..<kernel {
                    let destination = columns + row * count
                    for i in 0..<count {
                        let p = start + i
                        let iy = (p / wo) * stride - padding + ky * dilation, ix = (p % wo) * stride - padding + kx * dilation
                        destination[i] = iy >= 0 && iy < h && ix >= 0 && ix < w ? plane[iy * w + ix] : 0
                    }
                    row += 1
                }
            }
        }
    }

    func finish(_ out: inout [Float], positions n: Int, relu: Bool, residual: [Float]?) {
        for o in 0..<outputs {
            let b = bias[o]
            for i in (o * n)..<((o + 1) * n) {
                var v = out[i] + b
                if let residual { v += residual[i] }
                out[i] = relu ? max(0, v) : v
            }
        }
    }
}

/// Max pooling, k x k with stride and padding (padded cells never win):
/// x [C, H, W] -> [C, Ho, Wo].
public func maxPool(_ x: [Float], channels c: Int, height h: Int, width w: Int, kernel k: Int, stride s: Int, padding p: Int)
    -> (values: [Float], height: Int, width: Int) {
    let ho = (h + 2 * p - k) / s + 1, wo = (w + 2 * p - k) / s + 1
    var out = [Float](repeating: -.infinity, count: c * ho * wo)
    for ch in 0..<c {
        for oy in 0..<ho {
            for ox in 0..<wo {
                var best = -Float.infinity
                for ky in 0..<k {
                    let iy = oy * s - p + ky
                    guard iy >= 0 && iy < h else { continue }
                    for kx in 0..<k {
                        let ix = ox * s - p + kx
                        if ix >= 0 && ix < w { best = max(best, x[(ch * h + iy) * w + ix]) }
                    }
                }
                out[(ch * ho + oy) * wo + ox] = best
            }
        }
    }
    return (out, ho, wo)
}

/// PyTorch's adaptive average pooling to s x s: bin i covers rows
/// floor(i*H/s) ..< ceil((i+1)*H/s) (bins overlap when s does not divide H),
/// likewise columns. x [C, H, W] -> [C, s, s].
public func adaptiveAveragePool(_ x: [Float], channels c: Int, height h: Int, width w: Int, size s: Int) -> [Float] {
    func bins(_ n: Int) -> [Range<Int>] { (0..<s).map { i in (i * n / s)..<(((i + 1) * n + s - 1) / s) } }
    let rows = bins(h), columns = bins(w)
    var out = [Float](repeating: 0, count: c * s * s)
    for ch in 0..<c {
        for (by, ys) in rows.enumerated() {
            for (bx, xs) in columns.enumerated() {
                var sum: Float = 0
                for y in ys { for column in xs { sum += x[(ch * h + y) * w + column] } }
                out[(ch * s + by) * s + bx] = sum / Float(ys.count * xs.count)
            }
        }
    }
    return out
}
