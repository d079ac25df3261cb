/// Layer objects of the trainer: where each layer's tensors sit in the flat
/// parameter buffer, and its forward/backward over Swift arrays. Forward
/// returns what backward needs; backward adds parameter gradients into `g`
/// (same layout as the parameters) and returns the input gradient.

/// nn.Linear with weight [outputs, inputs] at `weight` and optional bias.
struct LinearLayer: Sendable {
    let weight: Int, bias: Int?
    let inputs: Int, outputs: Int

    init(_ weight: Slot, _ bias: Slot?) {
        self.init(
            weight: weight.offset, bias: bias?.offset, inputs: weight.shape.dropFirst().reduce(1, *),
            outputs: weight.shape[0])
    }

    init(weight: Int, bias: Int?, inputs: Int, outputs: Int) {
        (self.weight, self.bias, self.inputs, self.outputs) = (weight, bias, inputs, outputs)
    }

    func forward(_ x: [Double], tokens l: Int, _ p: ReadBuffer) -> [Double] {
        // x [l, inputs] -> [l, outputs]
        var out = [Double](repeating: 0, count: l * outputs)
        x.withUnsafeBufferPointer { xb in
            out.withUnsafeMutableBufferPointer {
                linearForward(
                    $0.baseAddress!, xb.baseAddress!, p + weight, bias.map { p + $0 }, tokens: l, inputs: inputs,
                    outputs: outputs)
            }
        }
        return out
    }

    /// Returns dx [l, inputs] (empty when `inputGradient` is false).
    func backward(_ dy: [Double], x: [Double], tokens l: Int, _ p: ReadBuffer, _ g: Buffer, inputGradient: Bool = true)
        -> [Double]
    {
        var dx = [Double](repeating: 0, count: inputGradient ? l * inputs : 0)
        dy.withUnsafeBufferPointer { dyb in
            x.withUnsafeBufferPointer { xb in
                dx.withUnsafeMutableBufferPointer { dxb in
                    linearBackward(
                        dx: inputGradient ? dxb.baseAddress! : nil, accumulate: false, dw: g + weight,
                        db: bias.map { g + $0 },
                        dy: dyb.baseAddress!, x: xb.baseAddress!, w: p + weight, tokens: l, inputs: inputs,
                        outputs: outputs)
                }
            }
        }
        return dx
    }
}

/// nn.LayerNorm(C): weight and bias [C].
struct NormLayer: Sendable {
    let weight: Int, bias: Int, channels: Int

    init(_ weight: Slot, _ bias: Slot) {
        (self.weight, self.bias, channels) = (weight.offset, bias.offset, weight.count)
    }

    struct Saved { var normalized: [Double], inverseStd: [Double] }

    func forward(_ x: [Double], tokens l: Int, _ p: ReadBuffer) -> ([Double], Saved) {
        var y = [Double](repeating: 0, count: l * channels)
        var saved = Saved(normalized: y, inverseStd: [Double](repeating: 0, count: l))
        x.withUnsafeBufferPointer { xb in
            y.withUnsafeMutableBufferPointer { yb in
                saved.normalized.withUnsafeMutableBufferPointer { nb in
                    saved.inverseStd.withUnsafeMutableBufferPointer { sb in
                        layerNormForward(
                            yb.baseAddress!, normalized: nb.baseAddress!, inverseStd: sb.baseAddress!, xb.baseAddress!,
                            p + weight, p + bias, tokens: l, channels: channels)
                    }
                }
            }
        }
        return (y, saved)
    }

    func backward(_ dy: [Double], _ saved: Saved, tokens l: Int, _ p: ReadBuffer, _ g: Buffer) -> [Double] {
        var dx = [Double](repeating: 0, count: l * channels)
        dy.withUnsafeBufferPointer { dyb in
            saved.normalized.withUnsafeBufferPointer { nb in
                saved.inverseStd.withUnsafeBufferPointer { sb in
                    dx.withUnsafeMutableBufferPointer {
                        layerNormBackward(
                            dx: $0.baseAddress!, dw: g + weight, db: g + bias, dy: dyb.baseAddress!,
                            normalized: nb.baseAddress!,
                            inverseStd: sb.baseAddress!, p + weight, tokens: l, channels: channels)
                    }
                }
            }
        }
        return dx
    }
}

/// linear2(relu(linear1(x))).
struct FeedForwardLayer: Sendable {
    let first: LinearLayer, second: LinearLayer

    struct Saved { var hidden: [Double] }

    func forward(_ x: [Double], tokens l: Int, _ p: ReadBuffer) -> ([Double], Saved) {
        var hidden = first.forward(x, tokens: l, p)
        for i in hidden.indices where hidden[i] < 0 { hidden[i] = 0 }
        return (second.forward(hidden, tokens: l, p), Saved(hidden: hidden))
    }

    func backward(_ dy: [Double], x: [Double], _ saved: Saved, tokens l: Int, _ p: ReadBuffer, _ g: Buffer) -> [Double]
    {
        var dHidden = second.backward(dy, x: saved.hidden, tokens: l, p, g)
        for i in dHidden.indices where saved.hidden[i] <= 0 { dHidden[i] = 0 }
        return first.backward(dHidden, x: x, tokens: l, p, g)
    }
}

/// nn.MultiheadAttention: in_proj [3C, C] split into query, key and value
/// rows, out_proj [C, C]; the attention itself runs over `AttentionGroups`.
struct MultiheadLayer: Sendable {
    let query: LinearLayer, key: LinearLayer, value: LinearLayer, output: LinearLayer
    let channels: Int, heads: Int

    init(inWeight: Slot, inBias: Slot, outWeight: Slot, outBias: Slot, heads: Int) {
        let c = outWeight.shape[0]
        func part(_ i: Int) -> LinearLayer {
            LinearLayer(weight: inWeight.offset + i * c * c, bias: inBias.offset + i * c, inputs: c, outputs: c)
        }
        (query, key, value) = (part(0), part(1), part(2))
        output = LinearLayer(outWeight, outBias)
        (self.channels, self.heads) = (c, heads)
    }

    struct Saved {
        var queryInput: [Double], keyInput: [Double], valueInput: [Double]
        var q: [Double], k: [Double], v: [Double], attended: [Double], weights: [[Double]]
    }

    var core: AttentionCore {
        AttentionCore(channels: channels, heads: heads, scale: 1 / Double(channels / heads).squareRoot())
    }

    /// queries [Lq, C] (position already added), keys [Lk, C] (same), values [Lk, C].
    func forward(queries: [Double], keys: [Double], values: [Double], groups: AttentionGroups, _ p: ReadBuffer) -> (
        [Double], Saved
    ) {
        let c = channels
        let lq = queries.count / c
        let lk = keys.count / c
        let q = query.forward(queries, tokens: lq, p)
        let k = key.forward(keys, tokens: lk, p)
        let v = value.forward(values, tokens: lk, p)
        let (attended, weights) = core.forward(q: q, k: k, v: v, groups: groups)
        let out = output.forward(attended, tokens: lq, p)
        return (
            out,
            Saved(
                queryInput: queries, keyInput: keys, valueInput: values, q: q, k: k, v: v, attended: attended,
                weights: weights)
        )
    }

    /// Gradients for the query, key and value inputs.
    func backward(_ dy: [Double], _ s: Saved, groups: AttentionGroups, _ p: ReadBuffer, _ g: Buffer) -> (
        queries: [Double], keys: [Double], values: [Double]
    ) {
        let lq = s.queryInput.count / channels
        let lk = s.keyInput.count / channels
        let dAttended = output.backward(dy, x: s.attended, tokens: lq, p, g)
        let (dq, dk, dv) = core.backward(dAttended, q: s.q, k: s.k, v: s.v, weights: s.weights, groups: groups)
        return (
            query.backward(dq, x: s.queryInput, tokens: lq, p, g), key.backward(dk, x: s.keyInput, tokens: lk, p, g),
            value.backward(dv, x: s.valueInput, tokens: lk, p, g)
        )
    }
}

/// softmax(Q K^T * scale) V per group and head, over already projected
/// tokens: MHA's core (scale 1/sqrt(d)) and MAR's memory read (one head, scale 1).
struct AttentionCore: Sendable {
    let channels: Int, heads: Int, scale: Double

    func forward(q: [Double], k: [Double], v: [Double], groups: AttentionGroups) -> (out: [Double], weights: [[Double]])
    {
        var out = [Double](repeating: 0, count: q.count)
        var weights: [[Double]] = []
        q.withUnsafeBufferPointer { qb in
            k.withUnsafeBufferPointer { kb in
                v.withUnsafeBufferPointer { vb in
                    out.withUnsafeMutableBufferPointer { ob in
                        weights = attentionForward(
                            ob.baseAddress!, q: qb.baseAddress!, k: kb.baseAddress!, v: vb.baseAddress!, groups: groups,
                            channels: channels, heads: heads, scale: scale)
                    }
                }
            }
        }
        return (out, weights)
    }

    func backward(_ dOut: [Double], q: [Double], k: [Double], v: [Double], weights: [[Double]], groups: AttentionGroups)
        -> (q: [Double], k: [Double], v: [Double])
    {
        var dq = [Double](repeating: 0, count: q.count)
        var dk = [Double](repeating: 0, count: k.count)
        var dv = dk
        dOut.withUnsafeBufferPointer { db in
            q.withUnsafeBufferPointer { qb in
                k.withUnsafeBufferPointer { kb in
                    v.withUnsafeBufferPointer { vb in
                        dq.withUnsafeMutableBufferPointer { dqb in
                            dk.withUnsafeMutableBufferPointer { dkb in
                                dv.withUnsafeMutableBufferPointer { dvb in
                                    attentionBackward(
                                        dq: dqb.baseAddress!, dk: dkb.baseAddress!, dv: dvb.baseAddress!,
                                        dOut: db.baseAddress!,
                                        q: qb.baseAddress!, k: kb.baseAddress!, v: vb.baseAddress!, weights: weights,
                                        groups: groups,
                                        channels: channels, heads: heads, scale: scale)
                                }
                            }
                        }
                    }
                }
            }
        }
        return (dq, dk, dv)
    }
}

func adding(_ a: [Double], _ b: [Double]) -> [Double] {
    precondition(a.count == b.count)
    return zip(a, b).map { $0 + $1 }
}

func addInPlace(_ a: inout [Double], _ b: [Double]) {
    precondition(a.count == b.count)
    for i in a.indices { a[i] += b[i] }
}
