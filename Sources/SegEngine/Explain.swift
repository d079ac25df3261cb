import Foundation
import SegFormats

/// Why a prediction is what it is: the attention one token of frame T goes
/// through in STF and MAR. `ExplainContext` runs the window once and keeps
/// every attention module's projected queries and keys; `explain(y:x:)` then
/// multiplies the token's (and its block's) queries with their groups' keys,
/// so a pixel costs tens of milliseconds, not a forward pass.

/// A token's place in the window: `frame` relative to T (-1, 0, +1), then feature row and column.
public struct TokenPosition: Sendable, Hashable, CustomStringConvertible {
    public let frame: Int, y: Int, x: Int

    public init(frame: Int, y: Int, x: Int) { (self.frame, self.y, self.x) = (frame, y, x) }

    public var description: String { "\(frameName) (\(y), \(x))" }

    /// "T-1", "T" or "T+1".
    public var frameName: String { frame == 0 ? "T" : frame < 0 ? "T\(frame)" : "T+\(frame)" }
}

/// The attention steps a token of frame T goes through in each STF layer, in pipeline order.
public enum AttentionStepKind: String, Sendable, CaseIterable {
    case encoderLong = "encoder-long"
    case encoderShort = "encoder-short"
    case decoderSelfLong = "decoder-self-long"
    case decoderSelfShort = "decoder-self-short"
    case decoderCrossLong = "decoder-cross-long"
    case decoderCrossShort = "decoder-cross-short"
}

/// One attention step of the token: its keys and, per head, softmax(q k^T / sqrt(d)) over them.
public struct AttentionStep: Sendable {
    public let layer: Int
    public let kind: AttentionStepKind
    public let keys: [TokenPosition]
    /// weights[head][i] is the weight of keys[i]; each head's weights sum to 1.
    public let weights: [[Float]]

    public init(layer: Int, kind: AttentionStepKind, keys: [TokenPosition], weights: [[Float]]) {
        (self.layer, self.kind, self.keys, self.weights) = (layer, kind, keys, weights)
    }

    /// The mean over heads of each key's weight.
    public var headAverage: [Float] { meanOverHeads(weights) }

    /// The `count` keys of largest head-averaged weight, largest first.
    public func top(_ count: Int) -> [(key: TokenPosition, weight: Float)] {
        let mean = headAverage
        return topIndices(mean, count).map { (keys[$0], mean[$0]) }
    }
}

/// How strongly each encoder token (T-1, T, T+1) reaches the token through one decoder layer's cross
/// attention, long range then short range: for head h,
/// `perHead[h][k] = sum over q' in the token's block of A_short_h[p, q'] * A_long_h[q', k]`
/// (head h of the short module with head h of the long one), and
/// `average[k] = sum over q' of mean_h A_short_h[p, q'] * mean_h A_long_h[q', k]` (the product of the
/// head-averaged matrices, as attention rollout). Each encoder token k is reached through exactly one
/// q' (the block token at k's in-block offset); every map sums to 1. Maps are [3, H, W], T-1 first.
public struct ComposedAttention: Sendable {
    public let layer: Int
    public let height: Int, width: Int
    public let perHead: [[Float]]
    public let average: [Float]

    public init(layer: Int, height: Int, width: Int, perHead: [[Float]], average: [Float]) {
        (self.layer, self.height, self.width, self.perHead, self.average) = (layer, height, width, perHead, average)
    }

    public func position(_ index: Int) -> TokenPosition {
        let n = height * width
        return TokenPosition(frame: index / n - 1, y: index % n / width, x: index % width)
    }

    /// The `count` encoder tokens of largest head-averaged composed weight, largest first.
    public func top(_ count: Int) -> [(key: TokenPosition, weight: Float)] {
        topIndices(average, count).map { (position($0), average[$0]) }
    }
}

/// MAR at the token: the memory attention S (no 1/sqrt scaling, as the release), its mass per class
/// (rows j*KL..(j+1)*KL-1 are class j), the class probabilities before MAR (the stage MAR refines) and
/// after it, and the cosine similarity of the feature before (g) and after (r) MAR to each class's
/// prototype: the mean of the class's memory_value rows (the prototype itself while they are repeated).
public struct MARExplanation: Sendable {
    public let rowWeights: [Float]
    public let rowsPerClass: Int
    public let classMass: [Float]
    public let probabilitiesBefore: [Float], probabilitiesAfter: [Float]
    public let cosineBefore: [Float], cosineAfter: [Float]

    public init(
        rowWeights: [Float], rowsPerClass: Int, classMass: [Float], probabilitiesBefore: [Float],
        probabilitiesAfter: [Float], cosineBefore: [Float], cosineAfter: [Float]
    ) {
        (self.rowWeights, self.rowsPerClass, self.classMass) = (rowWeights, rowsPerClass, classMass)
        (self.probabilitiesBefore, self.probabilitiesAfter) = (probabilitiesBefore, probabilitiesAfter)
        (self.cosineBefore, self.cosineAfter) = (cosineBefore, cosineAfter)
    }

    /// The `count` memory rows of largest weight, largest first, with their class.
    public func topRows(_ count: Int) -> [(row: Int, classIndex: Int, weight: Float)] {
        topIndices(rowWeights, count).map { ($0, $0 / rowsPerClass, rowWeights[$0]) }
    }
}

/// Everything `explain` says about one token of frame T.
public struct PixelExplanation: Sendable {
    /// The token, in feature rows and columns.
    public let y: Int, x: Int
    /// Per STF layer, encoder then decoder steps (empty without STF).
    public let steps: [AttentionStep]
    /// One per decoder layer.
    public let composed: [ComposedAttention]
    /// Class probabilities (softmax of the logits) at the token, per stage the model has.
    public let probabilities: [(stage: Stage, values: [Float])]
    public let mar: MARExplanation?
    /// The full-resolution pixel (row, column) of frame T asked about; nil when a token was.
    public let pixel: (y: Int, x: Int)?
    /// Class probabilities at `pixel` as segscope writes them, per stage: the softmax of the logits
    /// upsampled to the frame (bilinear, align_corners=False) from the 2x2 tokens the upsampler reads
    /// there, with its weights; their argmax is infer's prediction at that pixel and their maximum its
    /// confidence to float rounding (infer's softmax uses libm's expf, this one the engine's own exp). Empty
    /// when a token was asked about.
    public let pixelProbabilities: [(stage: Stage, values: [Float])]

    public init(
        y: Int, x: Int, steps: [AttentionStep], composed: [ComposedAttention],
        probabilities: [(stage: Stage, values: [Float])], mar: MARExplanation?, pixel: (y: Int, x: Int)? = nil,
        pixelProbabilities: [(stage: Stage, values: [Float])] = []
    ) {
        (self.y, self.x, self.steps, self.composed, self.probabilities, self.mar) =
            (y, x, steps, composed, probabilities, mar)
        (self.pixel, self.pixelProbabilities) = (pixel, pixelProbabilities)
    }
}

public enum ExplainError: Error, CustomStringConvertible, Equatable {
    case pixel(y: Int, x: Int, height: Int, width: Int)
    case nothingToExplain(path: String)
    case memoryRows(path: String, rows: Int, classes: Int)

    public var description: String {
        switch self {
        case .pixel(let y, let x, let h, let w):
            return "token (\(y), \(x)) is outside the \(h)x\(w) feature map"
        case .nothingToExplain(let path): return "\(path): the weights have neither STF nor MAR: nothing to explain"
        case .memoryRows(let path, let rows, let classes):
            return "\(path): MAR's \(rows) memory rows are not a whole number of rows for each of \(classes) classes"
        }
    }
}

/// A full-resolution pixel outside frame T (its own type: ExplainError's cases are switched over elsewhere).
public struct FramePixelError: Error, CustomStringConvertible, Equatable {
    public let y: Int, x: Int, height: Int, width: Int

    public init(y: Int, x: Int, height: Int, width: Int) {
        (self.y, self.x, self.height, self.width) = (y, x, height, width)
    }

    public var description: String { "pixel (\(y), \(x)) is outside the \(height)x\(width) frame" }
}

/// One window's STF run with what per-token queries need kept: for every attention module of every
/// layer, the projected queries of frame T's tokens and the projected keys of all its key tokens (the
/// cross attention's long-range keys grouped by long-range group, so a query's keys are contiguous);
/// about 18*H*W*C floats for one layer of each (1.2 GB at the release's 512 x 128 x 256). Build it off
/// the interface thread; `explain(y:x:)` then only multiplies a block's queries with their keys.
public struct ExplainContext: Sendable {
    public let model: Model
    public let height: Int, width: Int
    /// What the features are called in errors.
    let input: String
    let currentTokens: [Float]
    let encoderLayers: [(long: KeptProjections, short: KeptProjections)]
    let decoderLayers:
        [(
            selfLong: KeptProjections, selfShort: KeptProjections, crossLong: KeptProjections,
            crossShort: KeptProjections
        )]
    /// STF's output g [H*W, C] (f[T]'s tokens without STF).
    let refined: [Float]
    /// Per class the mean of its memory_value rows [K, C] (empty without MAR).
    let prototypes: [Float]

    /// Runs STF on features [C, H, W] of T-1, T, T+1; `input` names them in errors.
    public init(
        model: Model, previous: [Float], current: [Float], next: [Float], height h: Int, width w: Int,
        input: String = "features"
    ) throws {
        try requireBLAS()
        guard model.stf != nil || model.mar != nil else { throw ExplainError.nothingToExplain(path: model.path) }
        let c = model.channels
        guard h > 0, w > 0 else { throw ModelError.geometry("\(input): empty (\(h)x\(w) cells)") }
        let (n, overflow) = h.multipliedReportingOverflow(by: w)
        guard !overflow, current.count == c &* n, previous.count == current.count, next.count == current.count
        else {
            throw ModelError.geometry("\(input): features must be [\(c), \(h), \(w)] for all three frames")
        }
        for (frame, values) in [("T-1", previous), ("T", current), ("T+1", next)] {
            if let i = firstNonFinite(values) {
                throw ModelError.geometry("\(input): the features of frame \(frame) hold \(values[i]) at element \(i)")
            }
        }
        (self.model, height, width, self.input) = (model, h, w, input)
        currentTokens = tokensFromChannels(current, channels: c, positions: n)
        var encoderLayers: [(long: KeptProjections, short: KeptProjections)] = []
        var decoderLayers:
            [(
                selfLong: KeptProjections, selfShort: KeptProjections, crossLong: KeptProjections,
                crossShort: KeptProjections
            )] = []
        var refined = currentTokens
        if let stf = model.stf {
            guard h % stf.blockHeight == 0, w % stf.blockWidth == 0 else {
                throw ModelError.geometry(
                    "\(input): feature size \(h)x\(w) is not a multiple of the block size "
                        + "\(stf.blockHeight)x\(stf.blockWidth)")
            }
            // The same kernel calls in the same order as STFWeights.forward, with each attention module's
            // projections of frame T's queries and of all keys kept.
            let (encoderPositions, decoderPositions) = stf.positions(height: h, width: w)
            var x = stf.frameTokens(previous: previous, current: current, next: next, height: h, width: w)
            let geometry = { (queryFrames: Int, keyFrames: Int) in
                ICSAGeometry(
                    queryFrames: queryFrames, keyFrames: keyFrames, height: h, width: w,
                    blockHeight: stf.blockHeight, blockWidth: stf.blockWidth)
            }
            let frameT = Array(n..<(2 * n))
            let (oneFrame, threeFrames) = (Array(0..<n), Array(0..<(3 * n)))
            for layer in stf.encoder {
                encoderLayers.append(
                    keptICSA(
                        to: &x, layer.attention, memory: nil, encoderPositions, encoderPositions, queryRows: frameT,
                        keyRows: threeFrames, shortKeyRows: threeFrames, geometry(3, 3), stf, then: layer.norm1))
                layer.feedForward.addInPlace(to: &x, tokens: 3 * n, then: layer.norm2)
            }
            let memory = x
            var y = currentTokens
            // The cross attention's long-range key rows grouped: group g's rows (in-block offset g over every
            // block and frame) one after the other.
            let groups = (0..<(stf.blockHeight * stf.blockWidth)).flatMap { geometry(1, 3).longRows($0, frames: 3) }
            for layer in stf.decoder {
                let (selfLong, selfShort) = keptICSA(
                    to: &y, layer.selfAttention, memory: nil, decoderPositions, decoderPositions, queryRows: oneFrame,
                    keyRows: oneFrame, shortKeyRows: oneFrame, geometry(1, 1), stf, then: layer.norm1)
                let (crossLong, crossShort) = keptICSA(
                    to: &y, layer.crossAttention, memory: memory, decoderPositions, encoderPositions,
                    queryRows: oneFrame, keyRows: groups, shortKeyRows: oneFrame, geometry(1, 3), stf,
                    then: layer.norm2)
                layer.feedForward.addInPlace(to: &y, tokens: n, then: layer.norm3)
                decoderLayers.append((selfLong, selfShort, crossLong, crossShort))
            }
            if let i = firstNonFinite(y) {
                throw ModelError.nonFiniteOutput(input: input, stage: "STF", index: i, value: y[i])
            }
            refined = y
        }
        (self.encoderLayers, self.decoderLayers, self.refined) = (encoderLayers, decoderLayers, refined)
        if let mar = model.mar {
            let k = model.classes
            guard mar.memoryRows % k == 0, mar.memoryValues.count == mar.memoryRows * c else {
                throw ExplainError.memoryRows(path: model.path, rows: mar.memoryRows, classes: k)
            }
            let perClass = mar.memoryRows / k
            var prototypes = [Float](repeating: 0, count: k * c)
            for row in 0..<mar.memoryRows {
                for ch in 0..<c { prototypes[row / perClass * c + ch] += mar.memoryValues[row * c + ch] }
            }
            self.prototypes = prototypes.map { $0 / Float(perClass) }
        } else {
            prototypes = []
        }
    }

    /// The explanation of the token at feature row `y`, column `x` of frame T.
    public func explain(y: Int, x: Int) throws -> PixelExplanation {
        guard (0..<height).contains(y), (0..<width).contains(x) else {
            throw ExplainError.pixel(y: y, x: x, height: height, width: width)
        }
        let c = model.channels
        let p = y * width + x
        var steps: [AttentionStep] = []
        var composed: [ComposedAttention] = []
        if let stf = model.stf {
            let geometry = { (queryFrames: Int, keyFrames: Int) in
                ICSAGeometry(
                    queryFrames: queryFrames, keyFrames: keyFrames, height: height, width: width,
                    blockHeight: stf.blockHeight, blockWidth: stf.blockWidth)
            }
            let offset = (y % stf.blockHeight) * stf.blockWidth + x % stf.blockWidth
            let block = (y / stf.blockHeight) * (width / stf.blockWidth) + x / stf.blockWidth
            // The steps other than the cross attention's long range are independent of each other given
            // what the context kept: they run on all cores, in pipeline order in `single`.
            let (encoderGeometry, selfGeometry, crossGeometry) = (geometry(3, 3), geometry(1, 1), geometry(1, 3))
            // In pipeline order; each step is one query's GEMV over its keys (the cross attention's long range,
            // a whole block's queries, is the one large product, and runs on all cores).
            for (i, kept) in encoderLayers.enumerated() {
                steps.append(
                    step(
                        i, .encoderLong, kept.long, token: p, keyRows: encoderGeometry.longRows(offset, frames: 3),
                        frames: 3, stf.heads))
                steps.append(
                    step(
                        i, .encoderShort, kept.short, token: p, keyRows: encoderGeometry.shortRows(block),
                        frames: 3, stf.heads))
            }
            let blockRows = crossGeometry.shortRows(block)
            for (i, kept) in decoderLayers.enumerated() {
                steps.append(
                    step(
                        i, .decoderSelfLong, kept.selfLong, token: p, keyRows: selfGeometry.longRows(offset, frames: 1),
                        frames: 1, stf.heads))
                steps.append(
                    step(
                        i, .decoderSelfShort, kept.selfShort, token: p, keyRows: selfGeometry.shortRows(block),
                        frames: 1, stf.heads))
                // Block token j is long-range group j, the group of in-block offset j.
                let longWeights = crossLongWeights(kept.crossLong, blockRows: blockRows, stf)
                steps.append(
                    AttentionStep(
                        layer: i, kind: .decoderCrossLong,
                        keys: crossGeometry.longRows(offset, frames: 3).map { position($0, frames: 3) },
                        weights: longWeights[offset]))
                let short = step(
                    i, .decoderCrossShort, kept.crossShort, token: p, keyRows: blockRows, frames: 1, stf.heads)
                steps.append(short)
                composed.append(
                    compose(layer: i, short: short.weights, long: longWeights, geometry: crossGeometry, stf.heads))
            }
        }
        let token = Array(refined[(p * c)..<((p + 1) * c)])
        var probabilities: [(stage: Stage, values: [Float])] = [
            (
                .baseline,
                Kernels.softmax(
                    model.baselineClassifier.logits(Array(currentTokens[(p * c)..<((p + 1) * c)]), tokens: 1))
            )
        ]
        if model.stf != nil {
            probabilities.append((.stf, Kernels.softmax(model.stfClassifier.logits(token, tokens: 1))))
        }
        var marExplanation: MARExplanation?
        if let mar = model.mar {
            let rows = mar.memoryRows
            var scores = [Float](repeating: 0, count: rows)
            token.withUnsafeBufferPointer { tb in
                mar.scoreProjection.withUnsafeBufferPointer { pb in
                    scores.withUnsafeMutableBufferPointer { sb in
                        // scores [1, N] = g [1, C] (Wq^T K^T) [C, N], as MARWeights.forward.
                        BLAS.gemm(
                            m: 1, n: rows, k: c, a: tb.baseAddress!, lda: c, b: pb.baseAddress!, ldb: rows,
                            c: sb.baseAddress!, ldc: rows)
                        softmaxRows(sb.baseAddress!, rows: 1, columns: rows, stride: rows)
                    }
                }
            }
            let perClass = rows / model.classes
            let refinedToken = mar.forward(token, tokens: 1)
            if let i = firstNonFinite(refinedToken) {
                throw ModelError.nonFiniteOutput(input: input, stage: "MAR", index: i, value: refinedToken[i])
            }
            let cosines = { (feature: [Float]) in
                (0..<model.classes).map { cosine(feature, Array(prototypes[($0 * c)..<(($0 + 1) * c)])) }
            }
            let after = Kernels.softmax(model.marClassifier.logits(refinedToken, tokens: 1))
            marExplanation = MARExplanation(
                rowWeights: scores, rowsPerClass: perClass,
                classMass: (0..<model.classes).map { scores[($0 * perClass)..<(($0 + 1) * perClass)].reduce(0, +) },
                probabilitiesBefore: probabilities.last!.values, probabilitiesAfter: after,
                cosineBefore: cosines(token), cosineAfter: cosines(refinedToken))
            probabilities.append((.mar, after))
        }
        return PixelExplanation(
            y: y, x: x, steps: steps, composed: composed, probabilities: probabilities, mar: marExplanation)
    }

    /// The explanation of the full-resolution pixel (`y`, `x`) of frame T: that of its token
    /// (y / featureStride, x / featureStride), with the class probabilities at the pixel itself.
    public func explain(pixelY y: Int, pixelX x: Int) throws -> PixelExplanation {
        let (frameHeight, frameWidth) = (height * featureStride, width * featureStride)
        guard (0..<frameHeight).contains(y), (0..<frameWidth).contains(x) else {
            throw FramePixelError(y: y, x: x, height: frameHeight, width: frameWidth)
        }
        let token = try explain(y: y / featureStride, x: x / featureStride)
        return PixelExplanation(
            y: token.y, x: token.x, steps: token.steps, composed: token.composed, probabilities: token.probabilities,
            mar: token.mar, pixel: (y, x), pixelProbabilities: try pixelProbabilities(y: y, x: x))
    }

    /// Per stage, softmax of the logits at full-resolution pixel (y, x) as `upsampledPrediction` forms
    /// them: the 2x2 tokens of its bilinear taps through the stage's classifier, weighed as it weighs them.
    func pixelProbabilities(y: Int, x: Int) throws -> [(stage: Stage, values: [Float])] {
        let (c, k) = (model.channels, model.classes)
        let (y0, y1, fy) = bilinearTaps(output: height * featureStride, input: height)[y]
        let (x0, x1, fx) = bilinearTaps(output: width * featureStride, input: width)[x]
        // Taps in upsampledPrediction's order: (y0, x0), (y0, x1), (y1, x0), (y1, x1).
        let taps = [y0 * width + x0, y0 * width + x1, y1 * width + x0, y1 * width + x1]
        let gathered = { (tokens: [Float]) in taps.flatMap { tokens[($0 * c)..<(($0 + 1) * c)] } }
        // Channel-first logits [K, 4] of the taps -> the interpolated logit of each class, then softmax.
        let interpolated = { (logits: [Float]) -> [Float] in
            Kernels.softmax(
                (0..<k).map { j in
                    let l = Array(logits[(j * 4)..<(j * 4 + 4)])
                    let top = l[0] * (1 - fx) + l[1] * fx
                    let bottom = l[2] * (1 - fx) + l[3] * fx
                    return top * (1 - fy) + bottom * fy
                })
        }
        let refinedTaps = gathered(refined)
        var result: [(stage: Stage, values: [Float])] = [
            (.baseline, interpolated(model.baselineClassifier.logits(gathered(currentTokens), tokens: 4)))
        ]
        if model.stf != nil { result.append((.stf, interpolated(model.stfClassifier.logits(refinedTaps, tokens: 4)))) }
        if let mar = model.mar {
            let after = mar.forward(refinedTaps, tokens: 4)
            if let i = firstNonFinite(after) {
                throw ModelError.nonFiniteOutput(input: input, stage: "MAR", index: i, value: after[i])
            }
            result.append((.mar, interpolated(model.marClassifier.logits(after, tokens: 4))))
        }
        return result
    }

    /// Where row `row` of a token buffer of `frames` frames (T-1, T, T+1, or T alone) is.
    func position(_ row: Int, frames: Int) -> TokenPosition {
        let n = height * width
        return TokenPosition(frame: frames == 3 ? row / n - 1 : 0, y: row % n / width, x: row % width)
    }

    /// One step: the token's kept query (row `token` of frame T) against the kept keys at `keyRows`.
    private func step(
        _ layer: Int, _ kind: AttentionStepKind, _ kept: KeptProjections, token: Int, keyRows: [Int], frames: Int,
        _ heads: Int
    ) -> AttentionStep {
        let c = model.channels
        return AttentionStep(
            layer: layer, kind: kind, keys: keyRows.map { position($0, frames: frames) },
            weights: headWeights(
                queries: gather(kept.queries, rows: [token], channels: c),
                keys: gather(kept.keys, rows: keyRows, channels: c),
                keysPerQuery: keyRows.count, shared: true, channels: c, heads: heads)[0])
    }

    /// The cross attention's long range for every token of the pixel's block: block token j (in-block
    /// offset j) against long-range group j's keys, kept grouped. [j][head][key].
    private func crossLongWeights(_ kept: KeptProjections, blockRows: [Int], _ stf: STFWeights) -> [[[Float]]] {
        let keysPerGroup = 3 * (height / stf.blockHeight) * (width / stf.blockWidth)
        return headWeights(
            queries: gather(kept.queries, rows: blockRows, channels: model.channels), keys: kept.keys,
            keysPerQuery: keysPerGroup, shared: false, channels: model.channels, heads: stf.heads)
    }

    private func compose(layer: Int, short: [[Float]], long: [[[Float]]], geometry: ICSAGeometry, _ heads: Int)
        -> ComposedAttention
    {
        let size = 3 * height * width
        // Flat [head][size] buffer: one allocation, written in place.
        var perHead = [Float](repeating: 0, count: heads * size)
        var average = [Float](repeating: 0, count: size)
        let shortAverage = meanOverHeads(short)
        for (j, weights) in long.enumerated() {
            let longAverage = meanOverHeads(weights)
            for (i, row) in geometry.longRows(j, frames: 3).enumerated() {
                for head in 0..<heads { perHead[head * size + row] = short[head][j] * weights[head][i] }
                average[row] = shortAverage[j] * longAverage[i]
            }
        }
        return ComposedAttention(
            layer: layer, height: height, width: width,
            perHead: (0..<heads).map { Array(perHead[($0 * size)..<(($0 + 1) * size)]) }, average: average)
    }
}

/// An attention module's projections kept by the context: queries of frame T's tokens [H*W, C] and keys
/// [rows, C] (in the order the context chose).
struct KeptProjections: Sendable {
    let queries: [Float], keys: [Float]

    /// Rows `queryRows` of `queryInput` + `queryPositions` through the module's query projection, rows
    /// `keyRows` of `keyInput` + `keyPositions` through its key projection.
    init(
        _ attention: Attention, queries queryInput: [Float], _ queryPositions: [Float], rows queryRows: [Int],
        keys keyInput: [Float], _ keyPositions: [Float], rows keyRows: [Int]
    ) {
        queries = project(attention.query, queryInput, plus: queryPositions, rows: queryRows)
        keys = project(attention.key, keyInput, plus: keyPositions, rows: keyRows)
    }
}

/// Rows `rows` of `x` (+ the same rows of `positions`) through `linear`: [rows.count, outputs].
private func project(_ linear: Linear, _ x: [Float], plus positions: [Float], rows: [Int]) -> [Float] {
    let c = linear.inputs
    var gathered = uninitialized(rows.count * c)
    gathered.withUnsafeMutableBufferPointer { gb in
        x.withUnsafeBufferPointer { xb in
            positions.withUnsafeBufferPointer { pb in
                for (i, row) in rows.enumerated() {
                    for ch in 0..<c { gb[i * c + ch] = xb[row * c + ch] + pb[row * c + ch] }
                }
            }
        }
    }
    var out = uninitialized(rows.count * linear.outputs)
    gathered.withUnsafeBufferPointer { gb in
        out.withUnsafeMutableBufferPointer {
            linear.apply(gb.baseAddress!, tokens: rows.count, into: $0.baseAddress!, inParallel: rows.count >= 512)
        }
    }
    return out
}

/// Rows `rows` of a [*, C] buffer.
private func gather(_ x: [Float], rows: [Int], channels c: Int) -> [Float] {
    var out = uninitialized(rows.count * c)
    for (i, row) in rows.enumerated() { out[(i * c)..<((i + 1) * c)] = x[(row * c)..<((row + 1) * c)] }
    return out
}

/// Per query and head, softmax(q_h k_h^T / sqrt(d)) over `keysPerQuery` projected keys [S, C] (C = the
/// queries' width): the same keys for every query (`shared`), or query j's at row j*S of `keys`.
/// [query][head][key]; queries run on all cores.
private func headWeights(
    queries: [Float], keys: [Float], keysPerQuery s: Int, shared: Bool, channels c: Int, heads: Int
) -> [[[Float]]] {
    let d = c / heads
    let count = queries.count / c
    var flat = uninitialized(count * heads * s)
    queries.withUnsafeBufferPointer { qb in
        keys.withUnsafeBufferPointer { kb in
            flat.withUnsafeMutableBufferPointer { fb in
                let (q, k, out) = (
                    SharedPointer(qb.baseAddress!), SharedPointer(kb.baseAddress!),
                    SharedMutablePointer(fb.baseAddress!)
                )
                parallelFor(count) { j in
                    let keysOfQuery = k.base + (shared ? 0 : j * s * c)
                    for head in 0..<heads {
                        let scores = out.base + (j * heads + head) * s
                        // scores [1, S] = q_h [1, d] k_h^T [d, S] / sqrt(d), as groupAttention.
                        BLAS.gemm(
                            transposeB: true, m: 1, n: s, k: d, alpha: 1 / Float(d).squareRoot(),
                            a: q.base + j * c + head * d, lda: c, b: keysOfQuery + head * d, ldb: c, c: scores, ldc: s)
                        softmaxRows(scores, rows: 1, columns: s, stride: s)
                    }
                }
            }
        }
    }
    return (0..<count).map { j in
        (0..<heads).map { head in Array(flat[((j * heads + head) * s)..<((j * heads + head + 1) * s)]) }
    }
}

/// One ICSA added to the residual stream x as `addICSA` computes it, keeping the projections a token's
/// explanation needs: the long-range module's queries (rows `queryRows` of x) and keys (rows `keyRows` of the
/// keys: `memory`, or x), and the short-range module's queries and keys (rows `queryRows` and `shortKeyRows`
/// of u).
private func keptICSA(
    to x: inout [Float], _ w: ICSAWeights, memory: [Float]?, _ positionsQ: [Float], _ positionsK: [Float],
    queryRows: [Int], keyRows: [Int], shortKeyRows: [Int], _ g: ICSAGeometry, _ stf: STFWeights, then norm: Norm
) -> (long: KeptProjections, short: KeptProjections) {
    let (c, heads) = (stf.channels, stf.heads)
    let long = KeptProjections(
        w.long, queries: x, positionsQ, rows: queryRows, keys: memory ?? x, positionsK, rows: keyRows)
    let u = icsaLongRange(
        w.long, x, memory: memory, positionsQ: positionsQ, positionsK: positionsK, geometry: g, channels: c,
        heads: heads)
    let short = KeptProjections(
        w.short, queries: u, positionsQ, rows: queryRows, keys: u, positionsQ, rows: shortKeyRows)
    addICSAShortRange(to: &x, w.short, u, positions: positionsQ, geometry: g, channels: c, heads: heads, then: norm)
    return (long, short)
}

func meanOverHeads(_ weights: [[Float]]) -> [Float] {
    guard let first = weights.first else { return [] }
    var mean = first
    for head in weights.dropFirst() { for i in mean.indices { mean[i] += head[i] } }
    let scale = 1 / Float(weights.count)
    return mean.map { $0 * scale }
}

/// Indices of the `count` largest values, largest first (ties: lower index first).
func topIndices(_ values: [Float], _ count: Int) -> [Int] {
    Array(values.indices.sorted { values[$0] > values[$1] || (values[$0] == values[$1] && $0 < $1) }.prefix(count))
}

/// Cosine similarity in float64; 0 when either vector is zero.
func cosine(_ a: [Float], _ b: [Float]) -> Float {
    var (dot, aa, bb) = (0.0, 0.0, 0.0)
    for i in a.indices {
        dot += Double(a[i]) * Double(b[i])
        aa += Double(a[i]) * Double(a[i])
        bb += Double(b[i]) * Double(b[i])
    }
    return aa > 0 && bb > 0 ? Float(dot / (aa * bb).squareRoot()) : 0
}
