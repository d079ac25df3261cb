import SegFormats

/// Frame geometry of an ICSA call: queries have `queryFrames` frames, keys
/// and values `keyFrames`, all of height x width tokens in blocks. The
/// trainer (SegTrain) groups its tokens with the same rows.
public struct ICSAGeometry: Sendable {
    public let queryFrames: Int, keyFrames: Int
    public let height: Int, width: Int
    public let blockHeight: Int, blockWidth: Int

    public init(queryFrames: Int, keyFrames: Int, height: Int, width: Int, blockHeight: Int, blockWidth: Int) {
        (self.queryFrames, self.keyFrames, self.height, self.width) = (queryFrames, keyFrames, height, width)
        (self.blockHeight, self.blockWidth) = (blockHeight, blockWidth)
    }

    public var blocksDown: Int { height / blockHeight }
    public var blocksAcross: Int { width / blockWidth }

    /// Long range: group (iy, ix) holds the tokens at that in-block offset of every block and frame.
    public func longRows(_ g: Int, frames: Int) -> [Int] {
        let iy = g / blockWidth
        let ix = g % blockWidth
        var rows: [Int] = []
        rows.reserveCapacity(frames * blocksDown * blocksAcross)
        for t in 0..<frames {
            for by in 0..<blocksDown {
                for bx in 0..<blocksAcross {
                    rows.append(t * height * width + (by * blockHeight + iy) * width + bx * blockWidth + ix)
                }
            }
        }
        return rows
    }

    /// Short range: group (by, bx) holds every token of that block over the query frames.
    public func shortRows(_ g: Int) -> [Int] {
        let by = g / blocksAcross
        let bx = g % blocksAcross
        var rows: [Int] = []
        rows.reserveCapacity(queryFrames * blockHeight * blockWidth)
        for t in 0..<queryFrames {
            for iy in 0..<blockHeight {
                for ix in 0..<blockWidth {
                    rows.append(t * height * width + (by * blockHeight + iy) * width + bx * blockWidth + ix)
                }
            }
        }
        return rows
    }
}

/// x = norm(x + ICSA(x, k, v, pos_q, pos_k)): the attention block with its
/// residual connection and the LayerNorm after it, where the queries are the
/// residual stream x itself (true of every ICSA in STF); `memory` gives keys
/// and values (nil: x, self-attention). x, pos_q [Tq*H*W, C]; memory, pos_k
/// [Tk*H*W, C]. Long range over in-block offsets gives u; short range within
/// blocks on u is added to x in place, so x's buffer is never copied, and
/// each block's rows are normalised as they are written (the blocks cover
/// every token once).
func addICSA(
    to x: inout [Float], _ w: ICSAWeights, memory: [Float]?, positionsQ: [Float], positionsK: [Float],
    geometry: ICSAGeometry, channels c: Int, heads: Int, then norm: Norm
) {
    let u = icsaLongRange(
        w.long, x, memory: memory, positionsQ: positionsQ, positionsK: positionsK, geometry: geometry, channels: c,
        heads: heads)
    addICSAShortRange(
        to: &x, w.short, u, positions: positionsQ, geometry: geometry, channels: c, heads: heads, then: norm)
}

/// The long-range half of ICSA: u [Tq*H*W, C], each query's MHA output over its in-block offset's group
/// (keys and values: `memory`, or x itself).
func icsaLongRange(
    _ attention: Attention, _ x: [Float], memory: [Float]?, positionsQ: [Float], positionsK: [Float],
    geometry g: ICSAGeometry, channels c: Int, heads: Int
) -> [Float] {
    var u = uninitialized(g.queryFrames * g.height * g.width * c)  // every row belongs to exactly one group
    groupedMHA(
        attention, queryInput: x, queryPositions: positionsQ, keyInput: memory ?? x, keyPositions: positionsK,
        valueInput: memory ?? x, into: &u, accumulate: false, channels: c, heads: heads,
        groups: g.blockHeight * g.blockWidth,
        queryRows: { g.longRows($0, frames: g.queryFrames) }, keyRows: { g.longRows($0, frames: g.keyFrames) })
    return u
}

/// The short-range half of ICSA, added to the residual stream: x = norm(x + short(u)) within blocks.
func addICSAShortRange(
    to x: inout [Float], _ attention: Attention, _ u: [Float], positions: [Float], geometry g: ICSAGeometry,
    channels c: Int, heads: Int, then norm: Norm
) {
    groupedMHA(
        attention, queryInput: u, queryPositions: positions, keyInput: u, keyPositions: positions, valueInput: u,
        into: &x, accumulate: true, norm: norm, channels: c, heads: heads, groups: g.blocksDown * g.blocksAcross,
        queryRows: { g.shortRows($0) }, keyRows: { g.shortRows($0) })
}

extension STFWeights {
    /// STF alone, as `Model.forward` runs it, for profiling it on its own
    /// (segscope-bench engine-child): features [C, H, W] of T-1, T, T+1 in,
    /// tokens [H*W, C] out; sizes checked.
    public func fusedTokens(previous: [Float], current: [Float], next: [Float], height h: Int, width w: Int) throws
        -> [Float]
    {
        try requireBLAS()
        let (n, overflow) = h.multipliedReportingOverflow(by: w)
        guard h > 0, w > 0, !overflow, h % blockHeight == 0, w % blockWidth == 0,
            current.count == channels &* n, previous.count == current.count, next.count == current.count
        else {
            throw ModelError.geometry(
                "STF: features must be [\(channels), \(h), \(w)] per frame, H and W multiples of the block size "
                    + "\(blockHeight)x\(blockWidth)")
        }
        return forward(previous: previous, current: current, next: next, height: h, width: w)
    }

    /// The positional encodings resized to a feature size H x W: encoder [3*H*W, C], decoder [H*W, C]. The
    /// forward pass and explain's context start alike (this and `frameTokens`).
    func positions(height h: Int, width w: Int) -> (encoder: [Float], decoder: [Float]) {
        let encoder = resizeTokens(
            encoderPositions, frames: 3, height: positionHeight, width: positionWidth, toHeight: h, width: w,
            channels: channels)
        let decoder = resizeTokens(
            decoderPositions, frames: 1, height: positionHeight, width: positionWidth, toHeight: h, width: w,
            channels: channels)
        return (encoder, decoder)
    }

    /// Tokens of T-1, T, T+1 one frame after the other [3*H*W, C], from features [C, H, W] each.
    func frameTokens(previous: [Float], current: [Float], next: [Float], height h: Int, width w: Int) -> [Float] {
        let c = channels
        let n = h * w
        var x = uninitialized(3 * n * c)
        x.withUnsafeMutableBufferPointer { xb in
            for (t, frame) in [previous, current, next].enumerated() {
                frame.withUnsafeBufferPointer {
                    transpose($0.baseAddress!, rows: c, columns: n, into: xb.baseAddress! + t * n * c)
                }
            }
        }
        return x
    }

    /// STF for frame T: features [C, H, W] of T-1, T, T+1 in, g [H*W, C] tokens out.
    func forward(previous: [Float], current: [Float], next: [Float], height h: Int, width w: Int) -> [Float] {
        let c = channels
        let n = h * w
        let (encoderPositions, decoderPositions) = positions(height: h, width: w)
        var x = frameTokens(previous: previous, current: current, next: next, height: h, width: w)
        let encoderGeometry = ICSAGeometry(
            queryFrames: 3, keyFrames: 3, height: h, width: w, blockHeight: blockHeight, blockWidth: blockWidth)
        for layer in encoder {
            addICSA(
                to: &x, layer.attention, memory: nil, positionsQ: encoderPositions, positionsK: encoderPositions,
                geometry: encoderGeometry, channels: c, heads: heads, then: layer.norm1)
            layer.feedForward.addInPlace(to: &x, tokens: 3 * n, then: layer.norm2)
        }
        let memory = x
        var y = tokensFromChannels(current, channels: c, positions: n)
        let selfGeometry = ICSAGeometry(
            queryFrames: 1, keyFrames: 1, height: h, width: w, blockHeight: blockHeight, blockWidth: blockWidth)
        let crossGeometry = ICSAGeometry(
            queryFrames: 1, keyFrames: 3, height: h, width: w, blockHeight: blockHeight, blockWidth: blockWidth)
        for layer in decoder {
            addICSA(
                to: &y, layer.selfAttention, memory: nil, positionsQ: decoderPositions, positionsK: decoderPositions,
                geometry: selfGeometry, channels: c, heads: heads, then: layer.norm1)
            addICSA(
                to: &y, layer.crossAttention, memory: memory, positionsQ: decoderPositions,
                positionsK: encoderPositions,
                geometry: crossGeometry, channels: c, heads: heads, then: layer.norm2)
            layer.feedForward.addInPlace(to: &y, tokens: n, then: layer.norm3)
        }
        return y
    }
}
