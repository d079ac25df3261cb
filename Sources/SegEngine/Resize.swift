import SegFormats

/// Bilinear resizing with PyTorch's align_corners=False semantics.

/// Source index pair and weight of the second for each output position.
func bilinearTaps(output n: Int, input m: Int) -> [(Int, Int, Float)] {
    (0..<n).map { i in
        let source = max(0, (Float(i) + 0.5) * Float(m) / Float(n) - 0.5)
        let i0 = min(Int(source), m - 1)
        let i1 = min(i0 + 1, m - 1)
        return (i0, i1, source - Float(i0))
    }
}

/// Resizes planes [P, Hs, Ws] to [P, H, W] (P = channels x frames).
func resizePlanes(_ source: [Float], planes p: Int, height hs: Int, width ws: Int, toHeight h: Int, width w: Int)
    -> [Float]
{
    // source [p, hs, ws] -> out [p, h, w]
    if hs == h && ws == w { return source }
    let ys = bilinearTaps(output: h, input: hs)
    let xs = bilinearTaps(output: w, input: ws)
    var out = [Float](repeating: 0, count: p * h * w)
    for plane in 0..<p {
        let s = plane * hs * ws
        let o = plane * h * w
        for (y, (y0, y1, fy)) in ys.enumerated() {
            for (x, (x0, x1, fx)) in xs.enumerated() {
                let top = source[s + y0 * ws + x0] * (1 - fx) + source[s + y0 * ws + x1] * fx
                let bottom = source[s + y1 * ws + x0] * (1 - fx) + source[s + y1 * ws + x1] * fx
                out[o + y * w + x] = top * (1 - fy) + bottom * fy
            }
        }
    }
    return out
}

/// Resizes token-major maps [T*Hs*Ws, C] to [T*H*W, C]: each output token is
/// the bilinear blend (align_corners=False) of four source tokens, applied to
/// whole channel vectors.
func resizeTokens(
    _ source: [Float], frames t: Int, height hs: Int, width ws: Int, toHeight h: Int, width w: Int, channels c: Int
) -> [Float] {
    // source [t*hs*ws, c] -> out [t*h*w, c]
    if hs == h && ws == w { return source }
    let ys = bilinearTaps(output: h, input: hs)
    let xs = bilinearTaps(output: w, input: ws)
    var out = uninitialized(t * h * w * c)
    source.withUnsafeBufferPointer { sb in
        out.withUnsafeMutableBufferPointer { ob in
            let s = SharedPointer(sb.baseAddress!)
            let o = SharedMutablePointer(ob.baseAddress!)
            parallelFor(t * h) { frameRow in
                let frame = frameRow / h
                let y = frameRow % h
                let (y0, y1, fy) = ys[y]
                for (x, (x0, x1, fx)) in xs.enumerated() {
                    let base = frame * hs * ws
                    let a = s.base + (base + y0 * ws + x0) * c
                    let b = s.base + (base + y0 * ws + x1) * c
                    let d = s.base + (base + y1 * ws + x0) * c
                    let e = s.base + (base + y1 * ws + x1) * c
                    let target = o.base + ((frame * h + y) * w + x) * c
                    for ch in 0..<c {
                        let top = a[ch] * (1 - fx) + b[ch] * fx
                        let bottom = d[ch] * (1 - fx) + e[ch] * fx
                        target[ch] = top * (1 - fy) + bottom * fy
                    }
                }
            }
        }
    }
    return out
}

/// Transposes a row-major [rows, columns] matrix in 32x32 tiles, so both
/// the reads and the writes stay within a few cache lines.
func transposed(_ x: [Float], rows: Int, columns: Int) -> [Float] {
    // x [rows, columns] -> out [columns, rows]
    [Float](unsafeUninitializedCapacity: rows * columns) { out, n in
        x.withUnsafeBufferPointer { transpose($0.baseAddress!, rows: rows, columns: columns, into: out.baseAddress!) }
        n = rows * columns
    }
}

/// The same into a caller's buffer [columns, rows].
func transpose(_ s: UnsafePointer<Float>, rows: Int, columns: Int, into o: UnsafeMutablePointer<Float>) {
    let tile = 32
    for r0 in stride(from: 0, to: rows, by: tile) {
        for c0 in stride(from: 0, to: columns, by: tile) {
            for r in r0..<min(rows, r0 + tile) {
                let from = s + r * columns
                for c in c0..<min(columns, c0 + tile) { o[c * rows + r] = from[c] }
            }
        }
    }
}

/// Channel-first [C, N] to token-major [N, C].
func tokensFromChannels(_ x: [Float], channels c: Int, positions n: Int) -> [Float] {
    transposed(x, rows: c, columns: n)
}

/// Token-major [N, C] to channel-first [C, N].
func channelsFromTokens(_ x: [Float], channels c: Int, positions n: Int) -> [Float] {
    transposed(x, rows: n, columns: c)
}
