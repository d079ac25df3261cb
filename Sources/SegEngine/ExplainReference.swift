import Foundation

/// The plain twin of `ExplainContext`: the whole STF in float64 with plain loops, every attention
/// matrix of every ICSA kept, then the token's rows read out of them. Slow (every token's attention,
/// quadratic loops); for tests at small sizes. Its steps list keys in its own order: compare by position.
/// Its MAR uses the engine's folded matrices (scoreProjection, valueOutput); the unfolded release weights are
/// checked by the NumPy reference (Tests/Tools/explain_reference.py) in ExplainTests and ExplainCLITests.
public enum ExplainReference {
    /// One query row's attention: its key rows and, per head, their weights.
    typealias Row = (keys: [Int], weights: [[Double]])

    /// Every attention row of one ICSA call, by query row: long range and short range.
    struct Captured {
        var long: [Int: Row] = [:]
        var short: [Int: Row] = [:]
    }

    public static func explain(
        model: Model, previous: [Float], current: [Float], next: [Float], height h: Int, width w: Int,
        y: Int, x: Int
    ) -> PixelExplanation {
        let c = model.channels
        let n = h * w
        let p = y * w + x
        let frames = [previous, current, next].map { frame in
            (0..<n).map { position in (0..<c).map { Double(frame[$0 * n + position]) } }
        }
        let currentTokens = frames[1]
        var steps: [AttentionStep] = []
        var composed: [ComposedAttention] = []
        var refined = currentTokens
        func position(_ row: Int, keyFrames: Int) -> TokenPosition {
            TokenPosition(frame: keyFrames == 3 ? row / n - 1 : 0, y: row % n / w, x: row % w)
        }
        func step(_ layer: Int, _ kind: AttentionStepKind, _ row: Row, keyFrames: Int) -> AttentionStep {
            AttentionStep(
                layer: layer, kind: kind, keys: row.keys.map { position($0, keyFrames: keyFrames) },
                weights: row.weights.map { $0.map(Float.init) })
        }
        if let stf = model.stf {
            let encoderPositions = resized(stf.encoderPositions, frames: 3, stf, height: h, width: w)
            let decoderPositions = resized(stf.decoderPositions, frames: 1, stf, height: h, width: w)
            var tokens = frames.flatMap { $0 }
            for (i, layer) in stf.encoder.enumerated() {
                var captured = Captured()
                let a = icsa(
                    layer.attention, tokens, tokens, encoderPositions, encoderPositions, queryFrames: 3, stf,
                    height: h, width: w, captured: &captured)
                tokens = norm(layer.norm1, add(tokens, a))
                tokens = norm(layer.norm2, add(tokens, feedForward(layer.feedForward, tokens)))
                steps.append(step(i, .encoderLong, captured.long[n + p]!, keyFrames: 3))
                steps.append(step(i, .encoderShort, captured.short[n + p]!, keyFrames: 3))
            }
            var current = currentTokens
            for (i, layer) in stf.decoder.enumerated() {
                var selfCaptured = Captured()
                let a = icsa(
                    layer.selfAttention, current, current, decoderPositions, decoderPositions, queryFrames: 1, stf,
                    height: h, width: w, captured: &selfCaptured)
                current = norm(layer.norm1, add(current, a))
                steps.append(step(i, .decoderSelfLong, selfCaptured.long[p]!, keyFrames: 1))
                steps.append(step(i, .decoderSelfShort, selfCaptured.short[p]!, keyFrames: 1))
                var cross = Captured()
                let b = icsa(
                    layer.crossAttention, current, tokens, decoderPositions, encoderPositions, queryFrames: 1, stf,
                    height: h, width: w, captured: &cross)
                current = norm(layer.norm2, add(current, b))
                current = norm(layer.norm3, add(current, feedForward(layer.feedForward, current)))
                steps.append(step(i, .decoderCrossLong, cross.long[p]!, keyFrames: 3))
                steps.append(step(i, .decoderCrossShort, cross.short[p]!, keyFrames: 1))
                // Sum over the block's tokens q' of A_short[p, q'] A_long[q', k], per head and head-averaged.
                var perHead = [[Double]](repeating: [Double](repeating: 0, count: 3 * n), count: stf.heads)
                var average = [Double](repeating: 0, count: 3 * n)
                let short = cross.short[p]!
                for (j, via) in short.keys.enumerated() {
                    let long = cross.long[via]!
                    for (e, key) in long.keys.enumerated() {
                        var shortMean = 0.0
                        var longMean = 0.0
                        for head in 0..<stf.heads {
                            perHead[head][key] += short.weights[head][j] * long.weights[head][e]
                            shortMean += short.weights[head][j] / Double(stf.heads)
                            longMean += long.weights[head][e] / Double(stf.heads)
                        }
                        average[key] += shortMean * longMean
                    }
                }
                composed.append(
                    ComposedAttention(
                        layer: i, height: h, width: w, perHead: perHead.map { $0.map(Float.init) },
                        average: average.map(Float.init)))
            }
            refined = current
        }
        let token = refined[p]
        var probabilities: [(stage: Stage, values: [Float])] = [
            (.baseline, Self.probabilities(logits(model.baselineClassifier, currentTokens[p])))
        ]
        if model.stf != nil { probabilities.append((.stf, Self.probabilities(logits(model.stfClassifier, token)))) }
        var marExplanation: MARExplanation?
        if let mar = model.mar {
            let rows = mar.memoryRows
            let perClass = rows / model.classes
            let scores = softmax(
                (0..<rows).map { r in
                    (0..<c).reduce(0.0) { $0 + token[$1] * Double(mar.scoreProjection[$1 * rows + r]) }
                })
            var attended = (0..<c).map { Double(mar.outputBias[$0]) + token[$0] }
            for r in 0..<rows { for ch in 0..<c { attended[ch] += scores[r] * Double(mar.valueOutput[r * c + ch]) } }
            var r = norm(mar.norm1, [attended])
            r = norm(mar.norm2, add(r, feedForward(mar.feedForward, r)))
            let prototypes = (0..<model.classes).map { j in
                (0..<c).map { ch in
                    (0..<perClass).reduce(0.0) { $0 + Double(mar.memoryValues[((j * perClass) + $1) * c + ch]) }
                        / Double(perClass)
                }
            }
            let after = Self.probabilities(logits(model.marClassifier, r[0]))
            marExplanation = MARExplanation(
                rowWeights: scores.map(Float.init), rowsPerClass: perClass,
                classMass: (0..<model.classes).map { j in
                    Float((0..<perClass).reduce(0.0) { $0 + scores[j * perClass + $1] })
                },
                probabilitiesBefore: probabilities.last!.values, probabilitiesAfter: after,
                cosineBefore: prototypes.map { Float(cosine(token, $0)) },
                cosineAfter: prototypes.map { Float(cosine(r[0], $0)) })
            probabilities.append((.mar, after))
        }
        return PixelExplanation(
            y: y, x: x, steps: steps, composed: composed, probabilities: probabilities, mar: marExplanation)
    }

    /// ICSA by the spec: long range over each in-block offset's tokens of every block and frame, then
    /// short range within each block over the query frames; every attention row kept in `captured`.
    static func icsa(
        _ weights: ICSAWeights, _ q: [[Double]], _ kv: [[Double]], _ positionsQ: [[Double]],
        _ positionsK: [[Double]], queryFrames: Int, _ stf: STFWeights, height h: Int, width w: Int,
        captured: inout Captured
    ) -> [[Double]] {
        let n = h * w
        let keyFrames = kv.count / n
        let (hb, wb) = (stf.blockHeight, stf.blockWidth)
        var u = q
        for iy in 0..<hb {
            for ix in 0..<wb {
                func rows(_ frames: Int) -> [Int] {
                    var rows: [Int] = []
                    for t in 0..<frames {
                        for yy in stride(from: iy, to: h, by: hb) {
                            for xx in stride(from: ix, to: w, by: wb) { rows.append(t * n + yy * w + xx) }
                        }
                    }
                    return rows
                }
                let (queryRows, keyRows) = (rows(queryFrames), rows(keyFrames))
                let out = attention(
                    weights.long, queries: queryRows.map { add(q[$0], positionsQ[$0]) },
                    keys: keyRows.map { add(kv[$0], positionsK[$0]) }, values: keyRows.map { kv[$0] },
                    heads: stf.heads)
                for (i, row) in queryRows.enumerated() {
                    u[row] = out.values[i]
                    captured.long[row] = (keyRows, out.weights.map { $0[i] })
                }
            }
        }
        var result = q
        for by in 0..<(h / hb) {
            for bx in 0..<(w / wb) {
                var rows: [Int] = []
                for t in 0..<queryFrames {
                    for yy in (by * hb)..<((by + 1) * hb) {
                        for xx in (bx * wb)..<((bx + 1) * wb) { rows.append(t * n + yy * w + xx) }
                    }
                }
                let inputs = rows.map { add(u[$0], positionsQ[$0]) }
                let out = attention(
                    weights.short, queries: inputs, keys: inputs, values: rows.map { u[$0] }, heads: stf.heads)
                for (i, row) in rows.enumerated() {
                    result[row] = out.values[i]
                    captured.short[row] = (rows, out.weights.map { $0[i] })
                }
            }
        }
        return result
    }

    /// MHA by the spec; weights[head][query][key].
    static func attention(
        _ module: Attention, queries: [[Double]], keys: [[Double]], values: [[Double]], heads: Int
    ) -> (values: [[Double]], weights: [[[Double]]]) {
        let q = queries.map { linear(module.query, $0) }
        let k = keys.map { linear(module.key, $0) }
        let v = values.map { linear(module.value, $0) }
        let c = module.query.outputs
        let d = c / heads
        var concatenated = [[Double]](repeating: [Double](repeating: 0, count: c), count: q.count)
        var weights: [[[Double]]] = []
        for head in 0..<heads {
            let channels = (head * d)..<((head + 1) * d)
            var headWeights: [[Double]] = []
            for (i, query) in q.enumerated() {
                let scores = k.map { key in channels.reduce(0.0) { $0 + query[$1] * key[$1] } / Double(d).squareRoot() }
                let a = softmax(scores)
                headWeights.append(a)
                for ch in channels { concatenated[i][ch] = zip(a, v).reduce(0.0) { $0 + $1.0 * $1.1[ch] } }
            }
            weights.append(headWeights)
        }
        return (concatenated.map { linear(module.output, $0) }, weights)
    }

    static func linear(_ layer: Linear, _ x: [Double]) -> [Double] {
        (0..<layer.outputs).map { o in
            (0..<layer.inputs).reduce(Double(layer.bias?[o] ?? 0)) {
                $0 + Double(layer.weight[o * layer.inputs + $1]) * x[$1]
            }
        }
    }

    static func feedForward(_ ffn: FeedForward, _ tokens: [[Double]]) -> [[Double]] {
        tokens.map { linear(ffn.second, linear(ffn.first, $0).map { max(0, $0) }) }
    }

    static func norm(_ layer: Norm, _ tokens: [[Double]]) -> [[Double]] {
        tokens.map { row in
            let mean = row.reduce(0, +) / Double(row.count)
            let variance = row.reduce(0.0) { $0 + ($1 - mean) * ($1 - mean) } / Double(row.count)
            return row.indices.map {
                (row[$0] - mean) / (variance + 1e-5).squareRoot() * Double(layer.weight[$0]) + Double(layer.bias[$0])
            }
        }
    }

    static func add(_ a: [[Double]], _ b: [[Double]]) -> [[Double]] { zip(a, b).map { add($0, $1) } }
    static func add(_ a: [Double], _ b: [Double]) -> [Double] { zip(a, b).map { $0 + $1 } }

    static func logits(_ classifier: Classifier, _ token: [Double]) -> [Double] {
        (0..<classifier.classes).map { k in
            (0..<classifier.channels).reduce(Double(classifier.bias[k])) {
                $0 + Double(classifier.weight[k * classifier.channels + $1]) * token[$1]
            }
        }
    }

    static func softmax(_ row: [Double]) -> [Double] {
        let top = row.max() ?? 0
        let e = row.map { exp($0 - top) }
        let sum = e.reduce(0, +)
        return e.map { $0 / sum }
    }

    static func probabilities(_ logits: [Double]) -> [Float] { softmax(logits).map(Float.init) }

    static func cosine(_ a: [Double], _ b: [Double]) -> Double {
        let dot = zip(a, b).reduce(0.0) { $0 + $1.0 * $1.1 }
        let norms = (a.reduce(0.0) { $0 + $1 * $1 } * b.reduce(0.0) { $0 + $1 * $1 }).squareRoot()
        return norms > 0 ? dot / norms : 0
    }

    /// Token-major positions [frames*Hp*Wp, C] resized plane by plane with `Reference.resize`: [frames*H*W][C].
    static func resized(_ positions: [Float], frames: Int, _ stf: STFWeights, height h: Int, width w: Int)
        -> [[Double]]
    {
        let (hp, wp, c) = (stf.positionHeight, stf.positionWidth, stf.channels)
        var out = [[Double]](repeating: [Double](repeating: 0, count: c), count: frames * h * w)
        for t in 0..<frames {
            for ch in 0..<c {
                let plane = (0..<(hp * wp)).map { positions[(t * hp * wp + $0) * c + ch] }
                let resized = Reference.resize(plane, height: hp, width: wp, toHeight: h, width: w)
                for i in 0..<(h * w) { out[t * h * w + i][ch] = Double(resized[i]) }
            }
        }
        return out
    }
}
