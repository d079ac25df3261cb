import Testing

@testable import SegTrain

/// Every backward pass of the trainer against central finite differences
/// in float64 (GradientCheck), layer by layer: gradients of inputs and of
/// each parameter tensor. The scalar checked is sum(r * output) for a fixed
/// random r, so every output element contributes.
@Suite struct LayerGradientTests {
    typealias G = GradientCheck

    /// Runs `forward` on the parameters, backward with dL/dy = r, and checks
    /// the parameter gradient of every tensor and the input gradient.
    static func check(
        parameters: Parameters, input: [Double], outputCount: Int,
        forward: ([Double], ReadBuffer) -> [Double],
        backward: ([Double], [Double], ReadBuffer, Buffer) -> [Double]
    ) -> (parameters: Double, input: Double) {
        let r = G.values(outputCount, seed: 99)
        var gradient = [Double](repeating: 0, count: parameters.count)
        let dInput = parameters.values.withUnsafeBufferPointer { p in
            gradient.withUnsafeMutableBufferPointer { g in backward(r, input, p.baseAddress!, g.baseAddress!) }
        }
        func loss(_ values: [Double], _ x: [Double]) -> Double {
            values.withUnsafeBufferPointer { G.project(forward(x, $0.baseAddress!), r) }
        }
        var worstParameter = 0.0
        for slot in parameters.slots {
            let range = slot.offset..<(slot.offset + slot.count)
            let worst = G.worst(Array(parameters.values[range]), analytic: Array(gradient[range])) { tensor in
                var values = parameters.values
                values.replaceSubrange(range, with: tensor)
                return loss(values, input)
            }
            worstParameter = max(worstParameter, worst)
        }
        let worstInput = dInput.isEmpty ? 0 : G.worst(input, analytic: dInput) { loss(parameters.values, $0) }
        return (worstParameter, worstInput)
    }

    static func randomized(_ parameters: inout Parameters, seed: UInt64) {
        parameters.values = G.values(parameters.count, seed: seed).map { $0 * 0.5 }
    }

    @Test func linear() {
        var p = Parameters()
        let layer = LinearLayer(p.add("w", [5, 7], .zeros), p.add("b", [5], .zeros))
        Self.randomized(&p, seed: 1)
        let x = G.values(3 * 7, seed: 2)
        let worst = Self.check(
            parameters: p, input: x, outputCount: 15, forward: { layer.forward($0, tokens: 3, $1) },
            backward: { dy, x, p, g in layer.backward(dy, x: x, tokens: 3, p, g) })
        #expect(worst.parameters < G.tolerance && worst.input < G.tolerance)
    }

    @Test func layerNorm() {
        var p = Parameters()
        let layer = NormLayer(p.add("w", [6], .zeros), p.add("b", [6], .zeros))
        Self.randomized(&p, seed: 3)
        let x = G.values(4 * 6, seed: 4).map { $0 * 3 + 1 }
        let worst = Self.check(
            parameters: p, input: x, outputCount: 24, forward: { layer.forward($0, tokens: 4, $1).0 },
            backward: { dy, x, p, g in layer.backward(dy, layer.forward(x, tokens: 4, p).1, tokens: 4, p, g) })
        #expect(worst.parameters < G.tolerance && worst.input < G.tolerance)
    }

    @Test func feedForwardWithReLU() {
        var p = Parameters()
        let layer = FeedForwardLayer(
            first: LinearLayer(p.add("w1", [9, 6], .zeros), p.add("b1", [9], .zeros)),
            second: LinearLayer(p.add("w2", [6, 9], .zeros), p.add("b2", [6], .zeros)))
        Self.randomized(&p, seed: 5)
        let x = G.values(5 * 6, seed: 6)
        let worst = Self.check(
            parameters: p, input: x, outputCount: 30, forward: { layer.forward($0, tokens: 5, $1).0 },
            backward: { dy, x, p, g in layer.backward(dy, x: x, layer.forward(x, tokens: 5, p).1, tokens: 5, p, g) })
        #expect(worst.parameters < G.tolerance && worst.input < G.tolerance)
    }

    /// MHA over ICSA's long-range groups (2 frames of queries, 3 of keys), 2 heads.
    @Test func multiheadAttentionOverICSAGroups() {
        let c = 8
        let grouping = ICSAGrouping(height: 4, width: 4, blockHeight: 2, blockWidth: 2)
        let groups = grouping.long(queryFrames: 2, keyFrames: 3)
        var p = Parameters()
        let layer = MultiheadLayer(
            inWeight: p.add("in_w", [3 * c, c], .zeros), inBias: p.add("in_b", [3 * c], .zeros),
            outWeight: p.add("out_w", [c, c], .zeros), outBias: p.add("out_b", [c], .zeros), heads: 2)
        Self.randomized(&p, seed: 7)
        let q = G.values(2 * 16 * c, seed: 8)
        let kv = G.values(3 * 16 * c, seed: 9)
        // input = queries ++ keys ++ values, so one check covers all three input gradients.
        let input = q + kv + kv.map { -$0 }
        func split(_ x: [Double]) -> ([Double], [Double], [Double]) {
            (Array(x[0..<q.count]), Array(x[q.count..<(q.count + kv.count)]), Array(x[(q.count + kv.count)...]))
        }
        let worst = Self.check(
            parameters: p, input: input, outputCount: q.count,
            forward: { x, p in
                let (a, b, c) = split(x)
                return layer.forward(queries: a, keys: b, values: c, groups: groups, p).0
            },
            backward: { dy, x, p, g in
                let (a, b, c) = split(x)
                let d = layer.backward(
                    dy, layer.forward(queries: a, keys: b, values: c, groups: groups, p).1, groups: groups, p, g)
                return d.queries + d.keys + d.values
            })
        #expect(worst.parameters < G.tolerance && worst.input < G.tolerance)
    }

    /// The whole ICSA (long then short range, positions added) as cross-attention
    /// from 1 frame to 3: gradients for q, k, v and both positional inputs.
    @Test func icsaCrossAttention() {
        let c = 4
        let n = 16
        let grouping = ICSAGrouping(height: 4, width: 4, blockHeight: 2, blockWidth: 2)
        var p = Parameters()
        func mha(_ name: String) -> MultiheadLayer {
            MultiheadLayer(
                inWeight: p.add(name + "in_w", [3 * c, c], .zeros), inBias: p.add(name + "in_b", [3 * c], .zeros),
                outWeight: p.add(name + "out_w", [c, c], .zeros), outBias: p.add(name + "out_b", [c], .zeros), heads: 2)
        }
        let layer = ICSALayer(long: mha("long"), short: mha("short"))
        Self.randomized(&p, seed: 10)
        let sizes = [n * c, 3 * n * c, 3 * n * c, n * c, 3 * n * c]
        let input = G.values(sizes.reduce(0, +), seed: 11)
        func split(_ x: [Double]) -> [[Double]] {
            var parts: [[Double]] = []
            var start = 0
            for size in sizes {
                parts.append(Array(x[start..<(start + size)]))
                start += size
            }
            return parts
        }
        func run(_ x: [Double], _ p: ReadBuffer) -> ([Double], ICSALayer.Saved) {
            let s = split(x)
            return layer.forward(
                q: s[0], k: s[1], v: s[2], positionQ: s[3], positionK: s[4], queryFrames: 1, keyFrames: 3,
                grouping: grouping, p)
        }
        let worst = Self.check(
            parameters: p, input: input, outputCount: n * c, forward: { run($0, $1).0 },
            backward: { dy, x, p, g in
                let d = layer.backward(dy, run(x, p).1, p, g)
                return d.q + d.k + d.v + d.positionQ + d.positionK
            })
        #expect(worst.parameters < G.tolerance && worst.input < G.tolerance)
    }

    /// A positional encoding 3x2 resized to 4x5 (bilinear, align_corners=False).
    @Test func positionalEncodingResize() {
        var p = Parameters()
        let layer = PositionLayer(p.add("pe", [1, 3, 2, 3, 2], .zeros))
        Self.randomized(&p, seed: 12)
        let worst = Self.check(
            parameters: p, input: [], outputCount: 2 * 20 * 3,
            forward: { _, p in layer.forward(height: 4, width: 5, p) },
            backward: { dy, _, _, g in
                layer.backward(dy, height: 4, width: 5, g)
                return []
            })
        #expect(worst.parameters < G.tolerance)
    }

    /// MAR's memory read: one head, no scaling.
    @Test func marAttentionCore() {
        let core = AttentionCore(channels: 6, heads: 1, scale: 1)
        let groups = AttentionGroups(queries: [Array(0..<7)], keys: [Array(0..<5)])
        let q = G.values(7 * 6, seed: 13)
        let k = G.values(5 * 6, seed: 14)
        let v = G.values(5 * 6, seed: 15)
        let r = G.values(7 * 6, seed: 16)
        let (_, weights) = core.forward(q: q, k: k, v: v, groups: groups)
        let d = core.backward(r, q: q, k: k, v: v, weights: weights, groups: groups)
        #expect(
            G.worst(q, analytic: d.q) { G.project(core.forward(q: $0, k: k, v: v, groups: groups).out, r) }
                < G.tolerance)
        #expect(
            G.worst(k, analytic: d.k) { G.project(core.forward(q: q, k: $0, v: v, groups: groups).out, r) }
                < G.tolerance)
        #expect(
            G.worst(v, analytic: d.v) { G.project(core.forward(q: q, k: k, v: $0, groups: groups).out, r) }
                < G.tolerance)
    }

    /// Cross-entropy with ignore label 255 on logits upsampled x4.
    @Test func upsampledCrossEntropy() {
        let k = 5
        let h = 3
        let w = 4
        let factor = 4
        let logits = G.values(h * w * k, seed: 17).map { $0 * 3 }
        var random = TrainingRandom(seed: 18)
        let labels = (0..<(h * w * factor * factor)).map { _ in
            random.next() % 7 == 0 ? UInt8(255) : UInt8(random.next() % UInt64(k))
        }
        func loss(_ x: [Double]) -> Double {
            x.withUnsafeBufferPointer {
                SegTrain.upsampledCrossEntropy(
                    logits: $0.baseAddress!, dLogits: nil, scale: 1, labels: labels, classes: k, height: h, width: w,
                    factor: factor
                ).loss
            }
        }
        var gradient = [Double](repeating: 0, count: logits.count)
        logits.withUnsafeBufferPointer { lb in
            gradient.withUnsafeMutableBufferPointer {
                _ = SegTrain.upsampledCrossEntropy(
                    logits: lb.baseAddress!, dLogits: $0.baseAddress!, scale: 1, labels: labels, classes: k,
                    height: h, width: w, factor: factor)
            }
        }
        #expect(G.worst(logits, analytic: gradient, limit: 60, loss) < G.tolerance)
    }
}
