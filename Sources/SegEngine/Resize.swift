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
func resizePlanes(_ source: [Float], planes p: Int, height hs: Int, width ws: Int, toHeight h: Int, width w: Int) -> [Float] {
    // source [p, hs, ws] -> out [p, h, w]
    if hs == h && ws == w { return source }
    let ys = bilinearTaps(output: h, input: hs), xs = bilinearTaps(output: w, input: ws)
    var out = [Float](repeating: 0, count: p * h * w)
    for plane in 0..<p {
        let s = plane * hs * ws, o = plane * h * w
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

/// Channel-first [C, T*H*W] to token-major [T*H*W, C].
func tokensFromChannels(_ x: [Float], channels c: Int, positions n: Int) -> [Float] {
    var out = [Float](repeating: 0, count: c * n)
    for ch in 0..<c { for i in 0..<n { out[i * c + ch] = x[ch * n + i] } }
    return out
}

/// Token-major [N, C] to channel-first [C, N].
func channelsFromTokens(_ x: [Float], channels c: Int, positions n: Int) -> [Float] {
    var out = [Float](repeating: 0, count: c * n)
    for i in 0..<n { for ch in 0..<c { out[ch * n + i] = x[i * c + ch] } }
    return out
}
