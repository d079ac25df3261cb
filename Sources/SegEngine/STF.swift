import SegFormats

/// Frame geometry of an ICSA call: queries have `queryFrames` frames, keys
/// and values `keyFrames`, all of height x width tokens in blocks.
struct ICSAGeometry: Sendable {
    let queryFrames: Int, keyFrames: Int
    let height: Int, width: Int
    let blockHeight: Int, blockWidth: Int

    var blocksDown: Int { height / blockHeight }
    var blocksAcross: Int { width / blockWidth }

    /// Long range: group (iy, ix) holds the tokens at that in-block offset of every block and frame.
    func longRows(_ g: Int, frames: Int) -> [Int] {
        let iy = g / blockWidth, ix = g % blockWidth
        var rows: [Int] = []
        rows.reserveCapacity(frames * blocksDown * blocksAcross)
        for t in 0..<frames {
            for by in 0..<blocksDown {
                for bx in 0..<blocksAcross { rows.append(t * height * width + (by * blockHeight + iy) * width + bx * blockWidth + ix) }
            }
        }
        return rows
    }

    /// Short range: group (by, bx) holds every token of that block over the query frames.
    func shortRows(_ g: Int) -> [Int] {
        let by = g / blocksAcross, bx = g % blocksAcross
        var rows: [Int] = []
        rows.reserveCapacity(queryFrames * blockHeight * blockWidth)
        for t in 0..<queryFrames {
            for iy in 0..<blockHeight {
                for ix in 0..<blockWidth { rows.append(t * height * width + (by * blockHeight + iy) * width + bx * blockWidth + ix) }
            }
        }
        return rows
    }
}

/// ICSA(q, k, v, pos_q, pos_k) over token buffers: q, pos_q [Tq*H*W, C];
/// k, v, pos_k [Tk*H*W, C]. Long range over in-block offsets, then short
/// range within blocks on the long-range result u.
func icsa(_ w: ICSAWeights, q: [Float], k: [Float], v: [Float], positionsQ: [Float], positionsK: [Float],
          geometry: ICSAGeometry, channels c: Int, heads: Int) -> [Float] {
    let lq = geometry.queryFrames * geometry.height * geometry.width
    let g = geometry
    let u = groupedMHA(w.long, queryInput: q, queryPositions: positionsQ, keyInput: k, keyPositions: positionsK, valueInput: v,
                       queryCount: lq, channels: c, heads: heads, groups: g.blockHeight * g.blockWidth,
                       queryRows: { g.longRows($0, frames: g.queryFrames) }, keyRows: { g.longRows($0, frames: g.keyFrames) })
    return groupedMHA(w.short, queryInput: u, queryPositions: positionsQ, keyInput: u, keyPositions: positionsQ, valueInput: u,
                      queryCount: lq, channels: c, heads: heads, groups: g.blocksDown * g.blocksAcross,
                      queryRows: { g.shortRows($0) }, keyRows: { g.shortRows($0) })
}

extension STFWeights {
    /// STF for frame T: features [C, H, W] of T-1, T, T+1 in, g [H*W, C] tokens out.
    func forward(previous: [Float], current: [Float], next: [Float], height h: Int, width w: Int) -> [Float] {
        let c = channels, n = h * w
        let encoderPositions = tokensFromChannels(
            resizePlanes(self.encoderPositions, planes: c * 3, height: positionHeight, width: positionWidth, toHeight: h, width: w),
            channels: c, positions: 3 * n)
        let decoderPositions = tokensFromChannels(
            resizePlanes(self.decoderPositions, planes: c, height: positionHeight, width: positionWidth, toHeight: h, width: w),
            channels: c, positions: n)
        // [C, 3, H, W] as frames one after the other, then tokens.
        var x = tokensFromChannels(interleaveFrames([previous, current, next], channels: c, positions: n), channels: c, positions: 3 * n)
        let encoderGeometry = ICSAGeometry(queryFrames: 3, keyFrames: 3, height: h, width: w, blockHeight: blockHeight, blockWidth: blockWidth)
        for layer in encoder {
            addInPlace(&x, icsa(layer.attention, q: x, k: x, v: x, positionsQ: encoderPositions, positionsK: encoderPositions,
                                geometry: encoderGeometry, channels: c, heads: heads))
            layer.norm1.applyInPlace(&x, tokens: 3 * n, channels: c)
            layer.feedForward.addInPlace(to: &x, tokens: 3 * n)
            layer.norm2.applyInPlace(&x, tokens: 3 * n, channels: c)
        }
        let memory = x
        var y = tokensFromChannels(current, channels: c, positions: n)
        let selfGeometry = ICSAGeometry(queryFrames: 1, keyFrames: 1, height: h, width: w, blockHeight: blockHeight, blockWidth: blockWidth)
        let crossGeometry = ICSAGeometry(queryFrames: 1, keyFrames: 3, height: h, width: w, blockHeight: blockHeight, blockWidth: blockWidth)
        for layer in decoder {
            addInPlace(&y, icsa(layer.selfAttention, q: y, k: y, v: y, positionsQ: decoderPositions, positionsK: decoderPositions,
                                geometry: selfGeometry, channels: c, heads: heads))
            layer.norm1.applyInPlace(&y, tokens: n, channels: c)
            addInPlace(&y, icsa(layer.crossAttention, q: y, k: memory, v: memory, positionsQ: decoderPositions,
                                positionsK: encoderPositions, geometry: crossGeometry, channels: c, heads: heads))
            layer.norm2.applyInPlace(&y, tokens: n, channels: c)
            layer.feedForward.addInPlace(to: &y, tokens: n)
            layer.norm3.applyInPlace(&y, tokens: n, channels: c)
        }
        return y
    }
}

/// Frames [C, H*W] each, to [C, T, H*W] (channel-major, then frame).
func interleaveFrames(_ frames: [[Float]], channels c: Int, positions n: Int) -> [Float] {
    var out = [Float](repeating: 0, count: c * frames.count * n)
    for ch in 0..<c {
        for (t, frame) in frames.enumerated() {
            for i in 0..<n { out[(ch * frames.count + t) * n + i] = frame[ch * n + i] }
        }
    }
    return out
}
