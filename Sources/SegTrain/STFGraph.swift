import SegEngine

/// STF for training (spec "STF"): the same computation as SegEngine's
/// inference path, in float64, keeping every activation its backward pass needs.

/// Which tokens attend to which in ICSA over [T, H, W] token buffers: the
/// engine's ICSAGeometry rows (long range: tokens sharing an in-block offset
/// across blocks and frames; short range: the tokens of one block), as groups.
struct ICSAGrouping: Sendable {
    let height: Int, width: Int, blockHeight: Int, blockWidth: Int

    func geometry(queryFrames tq: Int, keyFrames tk: Int) -> ICSAGeometry {
        ICSAGeometry(
            queryFrames: tq, keyFrames: tk, height: height, width: width, blockHeight: blockHeight,
            blockWidth: blockWidth)
    }

    func long(queryFrames tq: Int, keyFrames tk: Int) -> AttentionGroups {
        let g = geometry(queryFrames: tq, keyFrames: tk)
        let groups = 0..<(blockHeight * blockWidth)
        return AttentionGroups(
            queries: groups.map { g.longRows($0, frames: tq) }, keys: groups.map { g.longRows($0, frames: tk) })
    }

    func short(frames t: Int) -> AttentionGroups {
        let g = geometry(queryFrames: t, keyFrames: t)
        let rows = (0..<(g.blocksDown * g.blocksAcross)).map { g.shortRows($0) }
        return AttentionGroups(queries: rows, keys: rows)
    }
}

/// ICSA(q, k, v, pos_q, pos_k): long-range MHA, then short-range MHA on its result.
struct ICSALayer: Sendable {
    let long: MultiheadLayer, short: MultiheadLayer

    struct Saved {
        var long: MultiheadLayer.Saved, short: MultiheadLayer.Saved
        var longGroups: AttentionGroups, shortGroups: AttentionGroups
    }

    func forward(
        q: [Double], k: [Double], v: [Double], positionQ: [Double], positionK: [Double],
        queryFrames tq: Int, keyFrames tk: Int, grouping: ICSAGrouping, _ p: ReadBuffer
    ) -> ([Double], Saved) {
        let longGroups = grouping.long(queryFrames: tq, keyFrames: tk)
        let shortGroups = grouping.short(frames: tq)
        let (u, longSaved) = long.forward(
            queries: adding(q, positionQ), keys: adding(k, positionK), values: v, groups: longGroups, p)
        let uq = adding(u, positionQ)
        let (out, shortSaved) = short.forward(queries: uq, keys: uq, values: u, groups: shortGroups, p)
        return (out, Saved(long: longSaved, short: shortSaved, longGroups: longGroups, shortGroups: shortGroups))
    }

    func backward(_ dy: [Double], _ s: Saved, _ p: ReadBuffer, _ g: Buffer)
        -> (q: [Double], k: [Double], v: [Double], positionQ: [Double], positionK: [Double])
    {
        let ds = short.backward(dy, s.short, groups: s.shortGroups, p, g)
        let dPositioned = adding(ds.queries, ds.keys)
        let du = adding(dPositioned, ds.values)
        let dl = long.backward(du, s.long, groups: s.longGroups, p, g)
        return (dl.queries, dl.keys, dl.values, adding(dPositioned, dl.queries), dl.keys)
    }

    /// Self-attention use, ICSA(x, x, x, pos, pos): gradients for x and pos.
    func backwardSelf(_ dy: [Double], _ s: Saved, _ p: ReadBuffer, _ g: Buffer) -> (x: [Double], position: [Double]) {
        let d = backward(dy, s, p, g)
        return (adding(adding(d.q, d.k), d.v), adding(d.positionQ, d.positionK))
    }
}

/// A learnable positional encoding [1, C, T, Hp, Wp] (channel-major, as the
/// release stores it), resized bilinearly to H x W and read as tokens [T*H*W, C].
struct PositionLayer: Sendable {
    let offset: Int, channels: Int, frames: Int, height: Int, width: Int

    init(_ slot: Slot) {
        offset = slot.offset
        (channels, frames, height, width) = (slot.shape[1], slot.shape[2], slot.shape[3], slot.shape[4])
    }

    func forward(height h: Int, width w: Int, _ p: ReadBuffer) -> [Double] {
        let planes = channels * frames
        let resize = BilinearMap(from: (height, width), to: (h, w))
        var resized = [Double](repeating: 0, count: planes * h * w)
        resized.withUnsafeMutableBufferPointer { resize.apply(p + offset, planes: planes, into: $0.baseAddress!) }
        // [C, T*h*w] -> [T*h*w, C]
        let positions = frames * h * w
        var tokens = [Double](repeating: 0, count: positions * channels)
        for c in 0..<channels { for i in 0..<positions { tokens[i * channels + c] = resized[c * positions + i] } }
        return tokens
    }

    func backward(_ dTokens: [Double], height h: Int, width w: Int, _ g: Buffer) {
        let positions = frames * h * w
        let resize = BilinearMap(from: (height, width), to: (h, w))
        var planes = [Double](repeating: 0, count: positions * channels)
        for c in 0..<channels { for i in 0..<positions { planes[c * positions + i] = dTokens[i * channels + c] } }
        planes.withUnsafeBufferPointer {
            resize.applyTransposed($0.baseAddress!, planes: channels * frames, into: g + offset)
        }
    }
}

/// Shapes of an STF: the release's are C 512, heads 2, block 16x16, FFN 256,
/// depth 1, positional encodings 128x256.
public struct STFShape: Sendable, Equatable {
    public var channels: Int, heads: Int, blockHeight: Int, blockWidth: Int
    public var feedForward: Int, depth: Int, positionHeight: Int, positionWidth: Int

    public init(
        channels: Int, heads: Int = 2, blockHeight: Int = 16, blockWidth: Int = 16, feedForward: Int = 256,
        depth: Int = 1,
        positionHeight: Int = 128, positionWidth: Int = 256
    ) {
        (self.channels, self.heads, self.blockHeight, self.blockWidth) = (channels, heads, blockHeight, blockWidth)
        (self.feedForward, self.depth, self.positionHeight, self.positionWidth) = (
            feedForward, depth, positionHeight, positionWidth
        )
    }
}

struct STFGraph: Sendable {
    let shape: STFShape
    let encoderPositions: PositionLayer, decoderPositions: PositionLayer
    let encoder: [(attention: ICSALayer, feedForward: FeedForwardLayer, norm1: NormLayer, norm2: NormLayer)]
    let decoder:
        [(
            selfAttention: ICSALayer, crossAttention: ICSALayer, feedForward: FeedForwardLayer, norm1: NormLayer,
            norm2: NormLayer, norm3: NormLayer
        )]

    /// Adds STF's tensors (release names, prefix `STF.`) to `parameters`,
    /// initialised as PyTorch initialises the release's modules.
    init(shape s: STFShape, parameters: inout Parameters, seed: UInt64) {
        shape = s
        let c = s.channels
        func multihead(_ prefix: String) -> MultiheadLayer {
            MultiheadLayer(
                inWeight: parameters.add(
                    prefix + ".in_proj_weight", [3 * c, c],
                    .uniform(bound: (6.0 / Double(4 * c)).squareRoot(), seed: seed)),
                inBias: parameters.add(prefix + ".in_proj_bias", [3 * c], .zeros),
                outWeight: parameters.add(
                    prefix + ".out_proj.weight", [c, c], .uniform(bound: 1 / Double(c).squareRoot(), seed: seed)),
                outBias: parameters.add(prefix + ".out_proj.bias", [c], .zeros), heads: s.heads)
        }
        func icsa(_ prefix: String) -> ICSALayer {
            ICSALayer(long: multihead(prefix + ".self_attn_long"), short: multihead(prefix + ".self_attn_short"))
        }
        func linear(_ prefix: String, _ inputs: Int, _ outputs: Int) -> LinearLayer {
            let bound = 1 / Double(inputs).squareRoot()
            return LinearLayer(
                parameters.add(prefix + ".weight", [outputs, inputs], .uniform(bound: bound, seed: seed)),
                parameters.add(prefix + ".bias", [outputs], .uniform(bound: bound, seed: seed)))
        }
        func norm(_ prefix: String) -> NormLayer {
            NormLayer(parameters.add(prefix + ".weight", [c], .ones), parameters.add(prefix + ".bias", [c], .zeros))
        }
        encoderPositions = PositionLayer(
            parameters.add("STF.pe_enc", [1, c, 3, s.positionHeight, s.positionWidth], .normal(std: 0.02, seed: seed)))
        decoderPositions = PositionLayer(
            parameters.add("STF.pe_dec", [1, c, 1, s.positionHeight, s.positionWidth], .normal(std: 0.02, seed: seed)))
        encoder = (0..<s.depth).map { i in
            let e = "STF.encoder.layers.\(i)"
            return (
                icsa(e + ".self_attn"),
                FeedForwardLayer(
                    first: linear(e + ".linear1", c, s.feedForward), second: linear(e + ".linear2", s.feedForward, c)),
                norm(e + ".norm1"), norm(e + ".norm2")
            )
        }
        decoder = (0..<s.depth).map { i in
            let d = "STF.decoder.layers.\(i)"
            return (
                icsa(d + ".self_attn"), icsa(d + ".multihead_attn"),
                FeedForwardLayer(
                    first: linear(d + ".linear1", c, s.feedForward), second: linear(d + ".linear2", s.feedForward, c)),
                norm(d + ".norm1"), norm(d + ".norm2"), norm(d + ".norm3")
            )
        }
    }

    struct Saved {
        var height: Int, width: Int
        var encoder:
            [(
                input: [Double], attention: ICSALayer.Saved, norm1: NormLayer.Saved, afterAttention: [Double],
                feedForward: FeedForwardLayer.Saved, norm2: NormLayer.Saved
            )] = []
        var decoder:
            [(
                input: [Double], selfAttention: ICSALayer.Saved, norm1: NormLayer.Saved, afterSelf: [Double],
                crossAttention: ICSALayer.Saved, norm2: NormLayer.Saved, afterCross: [Double],
                feedForward: FeedForwardLayer.Saved, norm3: NormLayer.Saved
            )] = []
        var memory: [Double] = []
        var encoderPositions: [Double] = [], decoderPositions: [Double] = []
    }

    /// g = STF(f[T-1], f[T], f[T+1]); each input token-major [H*W, C].
    func forward(previous: [Double], current: [Double], next: [Double], height h: Int, width w: Int, _ p: ReadBuffer)
        -> ([Double], Saved)
    {
        let c = shape.channels
        let n = h * w
        let grouping = ICSAGrouping(height: h, width: w, blockHeight: shape.blockHeight, blockWidth: shape.blockWidth)
        var saved = Saved(height: h, width: w)
        saved.encoderPositions = encoderPositions.forward(height: h, width: w, p)
        saved.decoderPositions = decoderPositions.forward(height: h, width: w, p)
        let pe = saved.encoderPositions
        let pd = saved.decoderPositions
        var x = previous + current + next
        for layer in encoder {
            let (a, attention) = layer.attention.forward(
                q: x, k: x, v: x, positionQ: pe, positionK: pe, queryFrames: 3, keyFrames: 3, grouping: grouping, p)
            let (x1, norm1) = layer.norm1.forward(adding(x, a), tokens: 3 * n, p)
            let (f, feedForward) = layer.feedForward.forward(x1, tokens: 3 * n, p)
            let (x2, norm2) = layer.norm2.forward(adding(x1, f), tokens: 3 * n, p)
            saved.encoder.append((x, attention, norm1, x1, feedForward, norm2))
            x = x2
        }
        saved.memory = x
        var y = current
        for layer in decoder {
            let (a, selfAttention) = layer.selfAttention.forward(
                q: y, k: y, v: y, positionQ: pd, positionK: pd, queryFrames: 1, keyFrames: 1, grouping: grouping, p)
            let (y1, norm1) = layer.norm1.forward(adding(y, a), tokens: n, p)
            let (b, cross) = layer.crossAttention.forward(
                q: y1, k: x, v: x, positionQ: pd, positionK: pe, queryFrames: 1, keyFrames: 3, grouping: grouping, p)
            let (y2, norm2) = layer.norm2.forward(adding(y1, b), tokens: n, p)
            let (f, feedForward) = layer.feedForward.forward(y2, tokens: n, p)
            let (y3, norm3) = layer.norm3.forward(adding(y2, f), tokens: n, p)
            saved.decoder.append((y, selfAttention, norm1, y1, cross, norm2, y2, feedForward, norm3))
            y = y3
        }
        precondition(y.count == n * c)
        return (y, saved)
    }

    /// Adds the parameter gradients for dg [H*W, C]; returns the gradients of
    /// the three input frames (the backbone is fixed, so only checks use them).
    @discardableResult
    func backward(_ dg: [Double], _ s: Saved, _ p: ReadBuffer, _ g: Buffer) -> (
        previous: [Double], current: [Double], next: [Double]
    ) {
        let n = s.height * s.width
        let c = shape.channels
        var dMemory = [Double](repeating: 0, count: 3 * n * c)
        var dEncoderPositions = [Double](repeating: 0, count: 3 * n * c)
        var dDecoderPositions = [Double](repeating: 0, count: n * c)
        var dy = dg
        for (layer, saved) in zip(decoder, s.decoder).reversed() {
            let dz3 = layer.norm3.backward(dy, saved.norm3, tokens: n, p, g)
            let dy2 = adding(
                dz3, layer.feedForward.backward(dz3, x: saved.afterCross, saved.feedForward, tokens: n, p, g))
            let dz2 = layer.norm2.backward(dy2, saved.norm2, tokens: n, p, g)
            let cross = layer.crossAttention.backward(dz2, saved.crossAttention, p, g)
            addInPlace(&dMemory, adding(cross.k, cross.v))
            addInPlace(&dDecoderPositions, cross.positionQ)
            addInPlace(&dEncoderPositions, cross.positionK)
            let dz1 = layer.norm1.backward(adding(dz2, cross.q), saved.norm1, tokens: n, p, g)
            let selfGradients = layer.selfAttention.backwardSelf(dz1, saved.selfAttention, p, g)
            addInPlace(&dDecoderPositions, selfGradients.position)
            dy = adding(dz1, selfGradients.x)
        }
        var dx = dMemory
        for (layer, saved) in zip(encoder, s.encoder).reversed() {
            let dz2 = layer.norm2.backward(dx, saved.norm2, tokens: 3 * n, p, g)
            let dx1 = adding(
                dz2, layer.feedForward.backward(dz2, x: saved.afterAttention, saved.feedForward, tokens: 3 * n, p, g))
            let dz1 = layer.norm1.backward(dx1, saved.norm1, tokens: 3 * n, p, g)
            let attention = layer.attention.backwardSelf(dz1, saved.attention, p, g)
            addInPlace(&dEncoderPositions, attention.position)
            dx = adding(dz1, attention.x)
        }
        encoderPositions.backward(dEncoderPositions, height: s.height, width: s.width, g)
        decoderPositions.backward(dDecoderPositions, height: s.height, width: s.width, g)
        let frame = n * c
        return (Array(dx[0..<frame]), adding(Array(dx[frame..<(2 * frame)]), dy), Array(dx[(2 * frame)...]))
    }
}
