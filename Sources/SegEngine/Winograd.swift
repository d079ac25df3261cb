import SegFormats

/// Winograd's minimal filtering F(m x m, 3 x 3) (Lavin & Gray 2016): an
/// m x m output tile from an a x a input window (a = m + 2) is
/// Y = A^T [(G g G^T) ⊙ (B^T d B)] A, so the products per tile fall from
/// 9 m^2 to a^2 per input and output channel: 2.25x fewer for m = 2, 4x for
/// m = 4. Summed over input channels, each of the a^2 elementwise products
/// is one GEMM [tiles, Cin] x [Cin, Cout], done through the one BLAS file.
public struct WinogradTransform: Sendable {
    /// m: output positions per tile side.
    public let outputTile: Int
    /// B^T [a, a], G [a, 3], A^T [m, a], row-major.
    let input: [Float], filter: [Float], output: [Float]
    var window: Int { outputTile + 2 }

    /// F(2x2, 3x3): points 0, 1, -1.
    public static let f2 = WinogradTransform(
        outputTile: 2,
        input: [
            1, 0, -1, 0,
            0, 1, 1, 0,
            0, -1, 1, 0,
            0, 1, 0, -1,
        ],
        filter: [
            1, 0, 0,
            0.5, 0.5, 0.5,
            0.5, -0.5, 0.5,
            0, 0, 1,
        ],
        output: [
            1, 1, 1, 0,
            0, 1, -1, -1,
        ])

    /// F(4x4, 3x3): points 0, 1, -1, 2, -2.
    public static let f4 = WinogradTransform(
        outputTile: 4,
        input: [
            4, 0, -5, 0, 1, 0,
            0, -4, -4, 1, 1, 0,
            0, 4, -4, -1, 1, 0,
            0, -2, -1, 2, 1, 0,
            0, 2, -1, -2, 1, 0,
            0, 4, 0, -5, 0, 1,
        ],
        filter: [
            1.0 / 4, 0, 0,
            -1.0 / 6, -1.0 / 6, -1.0 / 6,
            -1.0 / 6, 1.0 / 6, -1.0 / 6,
            1.0 / 24, 1.0 / 12, 1.0 / 6,
            1.0 / 24, -1.0 / 12, 1.0 / 6,
            0, 0, 1,
        ],
        output: [
            1, 1, 1, 1, 1, 0,
            0, 1, -1, 2, -2, 0,
            0, 1, 1, 4, 4, 0,
            0, 1, -1, 8, -8, 1,
        ])

    /// The transform the backbone runs: F(2x2, 3x3). F(4x4, 3x3) would save
    /// more multiplies, but its transforms (entries up to 8 and 1/24) raise
    /// the float32 error about 20x (measured: 5.6e-4 against 3.2e-5 on a
    /// 600-channel 3x3 whose outputs reach 58, where the GEMM way is 1.5e-5),
    /// past the 1e-4 the convolution kernels are held to.
    public static let backbone = f2

    /// Non-zero entries of each row of a row-major [rows, columns] matrix:
    /// the transforms are sparse, and their loops run over channels.
    static func terms(_ matrix: [Float], rows: Int, columns: Int) -> [[(index: Int, coefficient: Float)]] {
        (0..<rows).map { r in
            (0..<columns).compactMap { c in matrix[r * columns + c] == 0 ? nil : (c, matrix[r * columns + c]) }
        }
    }
}

/// How `Convolution.apply` computes: `automatic` is what the backbone runs.
public enum ConvolutionMethod: Sendable {
    /// Winograd F(2x2, 3x3) for 3x3 convolutions with stride 1 and at least
    /// `winogradMinimumInputs` input channels, GEMMs over gathered taps otherwise.
    case automatic
    /// GEMMs over gathered taps.
    case gemm
    /// This transform wherever it applies (3x3, stride 1), GEMMs otherwise.
    case winograd(WinogradTransform)

    /// Below this many input channels the transforms cost more than the
    /// multiplies they save (measured with `segscope-bench convolution-child`:
    /// the stem's 32-channel 3x3s at 512x1024 take 0.46 CPU s by F(2x2) and
    /// 0.32 s as GEMMs; at 64 channels Winograd is 1.13x faster, at 512 1.6-1.7x).
    public static let winogradMinimumInputs = 64

    func winograd(for convolution: Convolution) -> WinogradTransform? {
        // Any padding and dilation: a dilated 3x3 is a plain 3x3 on each of its d x d interleaved sub-grids.
        guard convolution.kernel == 3 && convolution.stride == 1 else { return nil }
        switch self {
        case .automatic: return convolution.inputs >= Self.winogradMinimumInputs ? .backbone : nil
        case .gemm: return nil
        case .winograd(let transform): return transform
        }
    }
}

extension Convolution {
    /// The filter transform U = G g G^T of every (output, input) channel pair,
    /// [a^2, Cout, Cin]: row xi = (i, j) of the window is a [Cout, Cin] matrix.
    func winogradFilters(_ transform: WinogradTransform) -> [Float] {
        let a = transform.window
        let cin = inputs
        let cout = outputs
        var filters = uninitialized(a * a * cout * cin)
        let g = WinogradTransform.terms(transform.filter, rows: a, columns: 3)
        weight.withUnsafeBufferPointer { wb in
            filters.withUnsafeMutableBufferPointer { fb in
                let (source, target) = (SharedPointer(wb.baseAddress!), SharedMutablePointer(fb.baseAddress!))
                parallelFor(cout) { o in
                    // Rows first: half[i][l] = sum_k G[i][k] w[k][l] over channels (taps are (k, l), tap-major).
                    var half = [Float](repeating: 0, count: a * 3 * cin)
                    half.withUnsafeMutableBufferPointer { hb in
                        let h = hb.baseAddress!
                        let w = source.base + o * 9 * cin
                        for i in 0..<a {
                            for (k, coefficient) in g[i] {
                                for l in 0..<3 {
                                    let row = h + (i * 3 + l) * cin
                                    let tap = w + (k * 3 + l) * cin
                                    for ci in 0..<cin { row[ci] += coefficient * tap[ci] }
                                }
                            }
                        }
                        for i in 0..<a {
                            for j in 0..<a {
                                let u = target.base + ((i * a + j) * cout + o) * cin
                                u.update(repeating: 0, count: cin)
                                for (l, coefficient) in g[j] {
                                    let row = h + (i * 3 + l) * cin
                                    for ci in 0..<cin { u[ci] += coefficient * row[ci] }
                                }
                            }
                        }
                    }
                }
            }
        }
        return filters
    }

    /// Input channels per transformed group: the GEMMs accumulate over
    /// groups, so no buffer grows with Cin (PSPHead's bottleneck takes 4096).
    static let winogradChannelGroup = 512
    /// Floats of transformed inputs and products per chunk of tiles (one chunk per call on a core).
    static let winogradChunkFloats = 2 << 20

    /// The convolution by Winograd over position-major maps: `sources` are
    /// the channel parts of x [H*W, Cin], `output` [Ho*Wo, Cout]; bias,
    /// `residual` and ReLU are applied as the tiles are written.
    func applyWinograd(
        _ sources: [SharedPointer<Float>], widths: [Int], height h: Int, width w: Int, relu: Bool,
        residual: SharedPointer<Float>?, output: SharedMutablePointer<Float>, transform: WinogradTransform
    ) {
        let (ho, wo) = outputSize(height: h, width: w)
        let m = transform.outputTile
        let a = transform.window
        let area = a * a
        let d = dilation
        let p = padding
        let cin = inputs
        let cout = outputs
        // Tiles of every sub-grid (ry, rx): outputs oy = ry + d (ty m + u), ox = rx + d (tx m + v).
        var tileList: [(ry: Int32, rx: Int32, ty: Int32, tx: Int32)] = []
        for ry in 0..<min(d, ho) {
            let rows = (ho - ry + d - 1) / d
            for rx in 0..<min(d, wo) {
                let columns = (wo - rx + d - 1) / d
                for ty in 0..<((rows + m - 1) / m) {
                    for tx in 0..<((columns + m - 1) / m) {
                        tileList.append((Int32(ry), Int32(rx), Int32(ty), Int32(tx)))
                    }
                }
            }
        }
        let group = min(cin, Self.winogradChannelGroup)
        let chunkTiles = max(16, min(512, Self.winogradChunkFloats / (area * (group + cout))))
        let tileCount = tileList.count
        let chunks = (tileCount + chunkTiles - 1) / chunkTiles
        let inputTerms = WinogradTransform.terms(transform.input, rows: a, columns: a)
        let outputTerms = WinogradTransform.terms(transform.output, rows: m, columns: a)
        // Where each part's channels start in x's channel order.
        var partStarts: [Int] = []
        var first = 0
        for width in widths {
            partStarts.append(first)
            first += width
        }
        let starts = partStarts
        let filters = winogradFilters(transform)
        filters.withUnsafeBufferPointer { fb in
            bias.withUnsafeBufferPointer { bb in
                tileList.withUnsafeBufferPointer { tb in
                    let (u, biases, tiles) = (
                        SharedPointer(fb.baseAddress!), SharedPointer(bb.baseAddress!), SharedPointer(tb.baseAddress!)
                    )
                    parallelFor(chunks) { chunk in
                        let t0 = chunk * chunkTiles
                        let count = min(chunkTiles, tileCount - t0)
                        var transformed = uninitialized(area * count * group)
                        var products = uninitialized(area * count * cout)
                        var window = uninitialized(area * group)
                        var half = uninitialized(area * max(group, cout))
                        transformed.withUnsafeMutableBufferPointer { vb in
                            products.withUnsafeMutableBufferPointer { mb in
                                window.withUnsafeMutableBufferPointer { wb in
                                    half.withUnsafeMutableBufferPointer { hb in
                                        let v = vb.baseAddress!
                                        let products = mb.baseAddress!
                                        let window = wb.baseAddress!
                                        let half = hb.baseAddress!
                                        for c0 in Swift.stride(from: 0, to: cin, by: group) {
                                            let width = min(group, cin - c0)
                                            for i in 0..<count {
                                                let tile = tiles.base[t0 + i]
                                                let y0 = Int(tile.ry) + d * Int(tile.ty) * m - p
                                                let x0 = Int(tile.rx) + d * Int(tile.tx) * m - p
                                                // The a x a window of channels c0 ..< c0 + width; zeros outside the input.
                                                for r in 0..<a {
                                                    let iy = y0 + d * r
                                                    for c in 0..<a {
                                                        let ix = x0 + d * c
                                                        let target = window + (r * a + c) * width
                                                        guard iy >= 0, iy < h, ix >= 0, ix < w else {
                                                            target.update(repeating: 0, count: width)
                                                            continue
                                                        }
                                                        copyChannels(
                                                            sources, widths: widths, starts: starts,
                                                            position: iy * w + ix, from: c0, count: width, into: target)
                                                    }
                                                }
                                                // B^T d B: columns (half[r][j] = sum_c B^T[j][c] d[r][c]), then rows, into V[xi][i].
                                                for r in 0..<a {
                                                    for j in 0..<a {
                                                        let target = half + (r * a + j) * width
                                                        target.update(repeating: 0, count: width)
                                                        for (c, coefficient) in inputTerms[j] {
                                                            let source = window + (r * a + c) * width
                                                            for ch in 0..<width {
                                                                target[ch] += coefficient * source[ch]
                                                            }
                                                        }
                                                    }
                                                }
                                                for r in 0..<a {
                                                    for j in 0..<a {
                                                        let target = v + ((r * a + j) * count + i) * width
                                                        target.update(repeating: 0, count: width)
                                                        for (k, coefficient) in inputTerms[r] {
                                                            let source = half + (k * a + j) * width
                                                            for ch in 0..<width {
                                                                target[ch] += coefficient * source[ch]
                                                            }
                                                        }
                                                    }
                                                }
                                            }
                                            // M[xi] (+)= V[xi] U[xi]^T over this channel group.
                                            for xi in 0..<area {
                                                BLAS.gemm(
                                                    transposeB: true, m: count, n: cout, k: width,
                                                    a: v + xi * count * width, lda: width,
                                                    b: u.base + xi * cout * cin + c0, ldb: cin, beta: c0 == 0 ? 0 : 1,
                                                    c: products + xi * count * cout, ldc: cout)
                                            }
                                        }
                                        // A^T M A per tile, then bias, residual and ReLU on the positions inside the output.
                                        for i in 0..<count {
                                            let tile = tiles.base[t0 + i]
                                            for r in 0..<a {
                                                for q in 0..<m {
                                                    let target = half + (r * m + q) * cout
                                                    target.update(repeating: 0, count: cout)
                                                    for (j, coefficient) in outputTerms[q] {
                                                        let source = products + ((r * a + j) * count + i) * cout
                                                        for o in 0..<cout { target[o] += coefficient * source[o] }
                                                    }
                                                }
                                            }
                                            for s in 0..<m {
                                                let oy = Int(tile.ry) + d * (Int(tile.ty) * m + s)
                                                guard oy < ho else { break }
                                                for q in 0..<m {
                                                    let ox = Int(tile.rx) + d * (Int(tile.tx) * m + q)
                                                    guard ox < wo else { break }
                                                    let position = oy * wo + ox
                                                    let target = output.base + position * cout
                                                    target.update(from: biases.base, count: cout)
                                                    for (r, coefficient) in outputTerms[s] {
                                                        let source = half + (r * m + q) * cout
                                                        for o in 0..<cout { target[o] += coefficient * source[o] }
                                                    }
                                                    if let residual {
                                                        let shortcut = residual.base + position * cout
                                                        for o in 0..<cout { target[o] += shortcut[o] }
                                                    }
                                                    if relu { for o in 0..<cout { target[o] = max(0, target[o]) } }
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

/// Channels from..<from+count of one position of x, given as channel parts.
@inline(__always)
private func copyChannels(
    _ sources: [SharedPointer<Float>], widths: [Int], starts: [Int], position: Int, from: Int, count: Int,
    into target: UnsafeMutablePointer<Float>
) {
    var written = 0
    for (index, source) in sources.enumerated() where written < count {
        let start = starts[index]
        let width = widths[index]
        let low = max(from + written, start)
        let high = min(from + count, start + width)
        guard low < high else { continue }
        (target + (low - from)).update(from: source.base + position * width + (low - start), count: high - low)
        written = high - from
    }
}
