import SegFormats

/// A 2-D convolution with BatchNorm folded in (eval mode), as the backbone
/// runs it on position-major maps [H*W, C] (each position's channels
/// contiguous). Weight [Cout, k*k*Cin], tap-major (ky, kx, then ci: PyTorch's
/// [Cout, Cin, k, k] reordered at load), bias [Cout].
public struct Convolution: Sendable {
    public let weight: [Float]
    public let bias: [Float]
    public let inputs: Int, outputs: Int
    public let kernel: Int, stride: Int, padding: Int, dilation: Int

    /// `weight` in PyTorch's order [Cout, Cin, k, k].
    public init(
        torchWeight weight: [Float], bias: [Float], inputs: Int, outputs: Int, kernel: Int, stride: Int = 1,
        padding: Int = 0, dilation: Int = 1
    ) {
        precondition(weight.count == outputs * inputs * kernel * kernel && bias.count == outputs)
        let taps = kernel * kernel
        var reordered = [Float](repeating: 0, count: weight.count)
        for o in 0..<outputs {
            for ci in 0..<inputs {
                for t in 0..<taps { reordered[(o * taps + t) * inputs + ci] = weight[(o * inputs + ci) * taps + t] }
            }
        }
        (self.weight, self.bias, self.inputs, self.outputs) = (reordered, bias, inputs, outputs)
        (self.kernel, self.stride, self.padding, self.dilation) = (kernel, stride, padding, dilation)
    }

    /// Folds eval-mode BatchNorm (y = (x - mean) / sqrt(var + eps) * gamma + beta)
    /// into a bias-free convolution's weight [Cout, Cin, k, k]: w' = w * s,
    /// b' = beta - mean * s with s = gamma / sqrt(var + eps), per output channel.
    public static func foldingBatchNorm(
        weight: [Float], inputs: Int, outputs: Int, kernel: Int, stride: Int = 1, padding: Int = 0, dilation: Int = 1,
        gamma: [Float], beta: [Float], mean: [Float], variance: [Float], epsilon: Float = 1e-5
    ) -> Convolution {
        let perOutput = inputs * kernel * kernel
        var folded = weight
        var bias = [Float](repeating: 0, count: outputs)
        for o in 0..<outputs {
            let scale = gamma[o] / (variance[o] + epsilon).squareRoot()
            for i in 0..<perOutput { folded[o * perOutput + i] *= scale }
            bias[o] = beta[o] - mean[o] * scale
        }
        return Convolution(
            torchWeight: folded, bias: bias, inputs: inputs, outputs: outputs, kernel: kernel, stride: stride,
            padding: padding, dilation: dilation)
    }

    public func outputSize(height h: Int, width w: Int) -> (height: Int, width: Int) {
        let span = dilation * (kernel - 1) + 1
        return ((h + 2 * padding - span) / stride + 1, (w + 2 * padding - span) / stride + 1)
    }

    /// Output positions per tile: enough rows for efficient GEMMs, enough
    /// tiles for every core.
    static let tileRows = 512
    /// Gathered columns per GEMM: taps are grouped until a group holds about
    /// this many input channels (all taps at once when Cin is small; one tap
    /// at a time, accumulated, when it is large, so no buffer grows with Cin*k*k).
    static let groupColumns = 512

    /// x [H*W, Cin] (the concatenation, along channels, of `parts` when given)
    /// -> [Ho*Wo, Cout]; `residual` [Ho*Wo, Cout] is added before `relu`.
    /// `method` chooses between Winograd and GEMMs over gathered taps.
    public func apply(
        _ parts: [[Float]], height h: Int, width w: Int, relu: Bool, residual: [Float]? = nil,
        method: ConvolutionMethod = .automatic
    ) -> [Float] {
        let widths = parts.map { $0.count / (h * w) }
        precondition(widths.reduce(0, +) == inputs && zip(parts, widths).allSatisfy { $0.count == $1 * h * w })
        let (ho, wo) = outputSize(height: h, width: w)
        let n = ho * wo
        let taps = kernel * kernel
        let depth = taps * inputs
        let tapsPerGroup = max(1, min(taps, Self.groupColumns / inputs))
        let rows = min(Self.tileRows, max(16, (n + 3) / 4))
        let tiles = (n + rows - 1) / rows
        var out = uninitialized(n * outputs)
        // The input is read in place when one GEMM can take it as it is.
        let direct = kernel == 1 && stride == 1 && padding == 0 && parts.count == 1
        withPointers(parts + (residual.map { [$0] } ?? [])) { pointers in
            let sources = Array(pointers.prefix(parts.count))
            let residualPointer = residual == nil ? nil : pointers.last
            if let winograd = method.winograd(for: self), n > 0 {
                out.withUnsafeMutableBufferPointer { ob in
                    applyWinograd(
                        sources, widths: widths, height: h, width: w, relu: relu, residual: residualPointer,
                        output: SharedMutablePointer(ob.baseAddress!), transform: winograd)
                }
                return
            }
            weight.withUnsafeBufferPointer { wb in
                bias.withUnsafeBufferPointer { bb in
                    out.withUnsafeMutableBufferPointer { ob in
                        let (weights, biases, output) = (
                            SharedPointer(wb.baseAddress!), SharedPointer(bb.baseAddress!),
                            SharedMutablePointer(ob.baseAddress!)
                        )
                        parallelFor(tiles) { t in
                            let start = t * rows
                            let count = min(rows, n - start)
                            let c = output.base + start * outputs
                            if direct {
                                BLAS.gemm(
                                    transposeB: true, m: count, n: outputs, k: inputs,
                                    a: sources[0].base + start * inputs, lda: inputs,
                                    b: weights.base, ldb: depth, c: c, ldc: outputs)
                            } else {
                                let columns = tapsPerGroup * inputs
                                var gathered = uninitialized(count * columns)
                                gathered.withUnsafeMutableBufferPointer { gb in
                                    for first in Swift.stride(from: 0, to: taps, by: tapsPerGroup) {
                                        let group = min(tapsPerGroup, taps - first)
                                        gather(
                                            sources, widths: widths, height: h, width: w, outputWidth: wo, start: start,
                                            count: count,
                                            taps: first..<(first + group), into: gb.baseAddress!, rowStride: columns)
                                        BLAS.gemm(
                                            transposeB: true, m: count, n: outputs, k: group * inputs,
                                            a: gb.baseAddress!, lda: columns,
                                            b: weights.base + first * inputs, ldb: depth, beta: first == 0 ? 0 : 1,
                                            c: c, ldc: outputs)
                                    }
                                }
                            }
                            // Bias, residual and ReLU while the tile is in cache.
                            for i in 0..<count {
                                let row = c + i * outputs
                                let shortcut = residualPointer.map { $0.base + (start + i) * outputs }
                                for o in 0..<outputs {
                                    var v = row[o] + biases.base[o]
                                    if let shortcut { v += shortcut[o] }
                                    row[o] = relu ? max(0, v) : v
                                }
                            }
                        }
                    }
                }
            }
        }
        return out
    }

    public func apply(
        _ x: [Float], height h: Int, width w: Int, relu: Bool, residual: [Float]? = nil,
        method: ConvolutionMethod = .automatic
    ) -> [Float] {
        apply([x], height: h, width: w, relu: relu, residual: residual, method: method)
    }

    /// For output positions start..<start+count, the input channels under
    /// taps `range` (row-major within the kernel), tap after tap: row i of
    /// `into` is [tap0: Cin values, tap1: ...]; zeros where a tap falls in the padding.
    func gather(
        _ sources: [SharedPointer<Float>], widths: [Int], height h: Int, width w: Int, outputWidth wo: Int, start: Int,
        count: Int,
        taps range: Range<Int>, into buffer: UnsafeMutablePointer<Float>, rowStride: Int
    ) {
        for i in 0..<count {
            let p = start + i
            let oy = p / wo
            let ox = p % wo
            var column = buffer + i * rowStride
            for tap in range {
                let iy = oy * stride - padding + (tap / kernel) * dilation
                let ix = ox * stride - padding + (tap % kernel) * dilation
                if iy >= 0 && iy < h && ix >= 0 && ix < w {
                    let position = iy * w + ix
                    for (source, width) in zip(sources, widths) {
                        column.update(from: source.base + position * width, count: width)
                        column += width
                    }
                } else {
                    column.update(repeating: 0, count: inputs)
                    column += inputs
                }
            }
        }
    }
}

/// Base pointers of several arrays for the duration of `body`.
private func withPointers<R>(_ arrays: [[Float]], _ body: ([SharedPointer<Float>]) -> R) -> R {
    func nest(_ i: Int, _ collected: [SharedPointer<Float>]) -> R {
        if i == arrays.count { return body(collected) }
        return arrays[i].withUnsafeBufferPointer { nest(i + 1, collected + [SharedPointer($0.baseAddress!)]) }
    }
    return nest(0, [])
}

/// Max pooling, k x k with stride and padding (padded cells never win):
/// x [H*W, C] -> [Ho*Wo, C].
public func maxPool(
    _ x: [Float], channels c: Int, height h: Int, width w: Int, kernel k: Int, stride s: Int, padding p: Int
)
    -> (values: [Float], height: Int, width: Int)
{
    let ho = (h + 2 * p - k) / s + 1
    let wo = (w + 2 * p - k) / s + 1
    var out = [Float](repeating: -.infinity, count: ho * wo * c)
    x.withUnsafeBufferPointer { xb in
        out.withUnsafeMutableBufferPointer { ob in
            let (input, output) = (SharedPointer(xb.baseAddress!), SharedMutablePointer(ob.baseAddress!))
            parallelFor(ho) { oy in
                for ox in 0..<wo {
                    let target = output.base + (oy * wo + ox) * c
                    for ky in 0..<k {
                        let iy = oy * s - p + ky
                        guard iy >= 0 && iy < h else { continue }
                        for kx in 0..<k {
                            let ix = ox * s - p + kx
                            guard ix >= 0 && ix < w else { continue }
                            let source = input.base + (iy * w + ix) * c
                            for ch in 0..<c { target[ch] = max(target[ch], source[ch]) }
                        }
                    }
                }
            }
        }
    }
    return (out, ho, wo)
}

/// PyTorch's adaptive average pooling to s x s: bin i covers rows
/// floor(i*H/s) ..< ceil((i+1)*H/s) (bins overlap when s does not divide H),
/// likewise columns. x [H*W, C] -> [s*s, C].
public func adaptiveAveragePool(_ x: [Float], channels c: Int, height h: Int, width w: Int, size s: Int) -> [Float] {
    func bins(_ n: Int) -> [Range<Int>] { (0..<s).map { i in (i * n / s)..<(((i + 1) * n + s - 1) / s) } }
    let rows = bins(h)
    let columns = bins(w)
    var out = [Float](repeating: 0, count: s * s * c)
    for (by, ys) in rows.enumerated() {
        for (bx, xs) in columns.enumerated() {
            var sum = [Float](repeating: 0, count: c)
            for y in ys { for column in xs { for ch in 0..<c { sum[ch] += x[(y * w + column) * c + ch] } } }
            for ch in 0..<c { out[(by * s + bx) * c + ch] = sum[ch] / Float(ys.count * xs.count) }
        }
    }
    return out
}
