/// MAR for training (spec "MAR"), in float64. Unlike inference, nothing is
/// folded: the memory and the three-matrix projections are all trainable.
struct MARGraph: Sendable {
    let channels: Int, width: Int, rows: Int
    let memoryKey: Int, memoryValue: Int
    let toQuery: [LinearLayer], toKey: [LinearLayer], toValue: [LinearLayer]
    let output: LinearLayer
    let feedForward: FeedForwardLayer
    let norm1: NormLayer, norm2: NormLayer

    /// Adds MAR's tensors (prefix `MAR.`). The memory starts from `keys` and
    /// `values` ([N, C] each, class-major), as built by `segscope memory build`.
    init(channels c: Int, width dh: Int, keys: [Double], values: [Double], parameters: inout Parameters, seed: UInt64) {
        precondition(keys.count == values.count && keys.count % c == 0)
        channels = c
        width = dh
        rows = keys.count / c
        let key = parameters.add("MAR.memory_key", [1, rows, c], .zeros)
        let value = parameters.add("MAR.memory_value", [1, rows, c], .zeros)
        parameters.set(key, keys)
        parameters.set(value, values)
        (memoryKey, memoryValue) = (key.offset, value.offset)
        func linear(_ name: String, _ inputs: Int, _ outputs: Int, bias: Bool) -> LinearLayer {
            let bound = 1 / Double(inputs).squareRoot()
            return LinearLayer(
                parameters.add(name + ".weight", [outputs, inputs], .uniform(bound: bound, seed: seed)),
                bias ? parameters.add(name + ".bias", [outputs], .uniform(bound: bound, seed: seed)) : nil)
        }
        let a = "MAR.HEdecoder.attn"
        func chain(_ which: String) -> [LinearLayer] {
            [
                linear("\(a).to_\(which).0", c, c, bias: false), linear("\(a).to_\(which).1", c, dh, bias: false),
                linear("\(a).to_\(which).2", dh, dh, bias: false),
            ]
        }
        (toQuery, toKey, toValue) = (chain("q"), chain("k"), chain("v"))
        output = linear("\(a).to_out.0", dh, c, bias: true)
        let hd = "MAR.HEdecoder"
        norm1 = NormLayer(
            parameters.add(hd + ".norm1.weight", [c], .ones), parameters.add(hd + ".norm1.bias", [c], .zeros))
        norm2 = NormLayer(
            parameters.add(hd + ".norm2.weight", [c], .ones), parameters.add(hd + ".norm2.bias", [c], .zeros))
        feedForward = FeedForwardLayer(
            first: linear(hd + ".linear1", c, dh, bias: true), second: linear(hd + ".linear2", dh, c, bias: true))
    }

    struct Saved {
        var input: [Double]
        var query: [[Double]], key: [[Double]], value: [[Double]]  // inputs of each projection, then its output
        var weights: [[Double]], read: [Double]
        var norm1: NormLayer.Saved, afterMemory: [Double], feedForward: FeedForwardLayer.Saved, norm2: NormLayer.Saved
    }

    var core: AttentionCore { AttentionCore(channels: width, heads: 1, scale: 1) }

    func groups(tokens l: Int) -> AttentionGroups { AttentionGroups(queries: [Array(0..<l)], keys: [Array(0..<rows)]) }

    /// Inputs of each of the three projections and the final output.
    private func project(_ chain: [LinearLayer], _ x: [Double], tokens l: Int, _ p: ReadBuffer) -> [[Double]] {
        var stages = [x]
        for layer in chain { stages.append(layer.forward(stages.last!, tokens: l, p)) }
        return stages
    }

    private func projectBackward(
        _ chain: [LinearLayer], _ dy: [Double], _ stages: [[Double]], tokens l: Int, _ p: ReadBuffer, _ g: Buffer
    ) -> [Double] {
        var d = dy
        for (i, layer) in chain.enumerated().reversed() { d = layer.backward(d, x: stages[i], tokens: l, p, g) }
        return d
    }

    /// r = MAR(x), x token-major [L, C].
    func forward(_ x: [Double], tokens l: Int, _ p: ReadBuffer) -> ([Double], Saved) {
        let n = rows * channels
        let keys = Array(UnsafeBufferPointer(start: p + memoryKey, count: n))
        let values = Array(UnsafeBufferPointer(start: p + memoryValue, count: n))
        let q = project(toQuery, x, tokens: l, p)
        let k = project(toKey, keys, tokens: rows, p)
        let v = project(toValue, values, tokens: rows, p)
        let (read, weights) = core.forward(q: q.last!, k: k.last!, v: v.last!, groups: groups(tokens: l))
        let o = output.forward(read, tokens: l, p)
        let (x1, n1) = norm1.forward(adding(x, o), tokens: l, p)
        let (f, ff) = feedForward.forward(x1, tokens: l, p)
        let (x2, n2) = norm2.forward(adding(x1, f), tokens: l, p)
        return (
            x2,
            Saved(
                input: x, query: q, key: k, value: v, weights: weights, read: read, norm1: n1, afterMemory: x1,
                feedForward: ff, norm2: n2)
        )
    }

    /// Adds the parameter gradients (memory included); returns dx [L, C].
    @discardableResult
    func backward(_ dy: [Double], _ s: Saved, tokens l: Int, _ p: ReadBuffer, _ g: Buffer) -> [Double] {
        let dz2 = norm2.backward(dy, s.norm2, tokens: l, p, g)
        let dx1 = adding(dz2, feedForward.backward(dz2, x: s.afterMemory, s.feedForward, tokens: l, p, g))
        let dz1 = norm1.backward(dx1, s.norm1, tokens: l, p, g)
        let dRead = output.backward(dz1, x: s.read, tokens: l, p, g)
        let (dq, dk, dv) = core.backward(
            dRead, q: s.query.last!, k: s.key.last!, v: s.value.last!, weights: s.weights, groups: groups(tokens: l))
        let dKeys = projectBackward(toKey, dk, s.key, tokens: rows, p, g)
        let dValues = projectBackward(toValue, dv, s.value, tokens: rows, p, g)
        for i in 0..<(rows * channels) {
            g[memoryKey + i] += dKeys[i]
            g[memoryValue + i] += dValues[i]
        }
        return adding(dz1, projectBackward(toQuery, dq, s.query, tokens: l, p, g))
    }
}

/// The 1x1 convolution classifier: weight [K, C, 1, 1], bias [K].
struct ClassifierLayer: Sendable {
    let linear: LinearLayer
    var classes: Int { linear.outputs }

    init(prefix: String, classes k: Int, channels c: Int, parameters: inout Parameters, seed: UInt64) {
        let bound = 1 / Double(c).squareRoot()
        linear = LinearLayer(
            parameters.add(prefix + ".weight", [k, c, 1, 1], .uniform(bound: bound, seed: seed)),
            parameters.add(prefix + ".bias", [k], .uniform(bound: bound, seed: seed)))
    }
}
