import Foundation
import SegFormats

public enum ModelError: Error, CustomStringConvertible, Equatable {
    case missing(path: String, names: [String])
    case shape(path: String, name: String, expected: String, found: [Int])
    case disagree(path: String, detail: String)
    case geometry(String)
    case memory(path: String, problem: String)
    case nonFinite(path: String, name: String, index: Int, value: Float)
    case metadata(path: String, key: String, value: String, expected: String)
    /// A forward pass gave a non-finite value: `input` names what it was given.
    case nonFiniteOutput(input: String, stage: String, index: Int, value: Float)

    public var description: String {
        switch self {
        case .missing(let path, let names):
            return
                "\(path): missing tensor(s): \(names.prefix(8).joined(separator: ", "))\(names.count > 8 ? " and \(names.count - 8) more" : "")"
        case .shape(let path, let name, let expected, let found):
            return "\(path): tensor \(name) has shape \(found), expected \(expected)"
        case .disagree(let path, let detail): return "\(path): \(detail)"
        case .geometry(let text): return text
        case .memory(let path, let problem): return "\(path): \(problem)"
        case .nonFinite(let path, let name, let index, let value):
            return "\(path): tensor \(name) holds \(value) at element \(index) (weights must be finite)"
        case .metadata(let path, let key, let value, let expected):
            return "\(path): metadata \(key) is \"\(value)\", expected \(expected)"
        case .nonFiniteOutput(let input, let stage, let index, let value):
            return
                "\(input): the \(stage) output holds \(value) at element \(index) (the input's values are too large to compute with)"
        }
    }
}

/// The model of the paper as far as the weights file defines it: the PSPNet
/// backbone (if `backbone.*` or `pspnet.backbone.*` is present), STF (if
/// `STF.*` is), MAR (if `MAR.*` is), and the classifiers.
public struct Model: Sendable {
    /// The weights file and its format.
    public let path: String, format: String
    public let backbone: PSPNetBackbone?
    public let stf: STFWeights?
    public let mar: MARWeights?
    public let baselineClassifier: Classifier
    public let stfClassifier: Classifier
    public let marClassifier: Classifier
    /// Tensors in the file that the engine does not use (e.g. the backbone).
    public let unusedTensors: [String]
    public var channels: Int { baselineClassifier.channels }
    public var classes: Int { baselineClassifier.classes }
    /// The predictions these weights give, in pipeline order.
    public var stages: [Stage] { [.baseline] + (stf != nil ? [.stf] : []) + (mar != nil ? [.mar] : []) }

    /// Loads safetensors weights with the release's names. `heads` and
    /// `block` override the file's metadata (defaults 2 and 16x16);
    /// `memory` is a folder with key.npy and value.npy used when the weights
    /// have no MAR.memory_* tensors.
    public static func load(path: String, heads: Int? = nil, block: BlockSize? = nil, memory: String? = nil) throws
        -> Model
    {
        try requireBLAS()
        var reader = try TensorReader(path: path)
        // Metadata that is present must be well-formed: a silent fall-back to
        // the defaults would run STF with the wrong heads or blocks.
        let metadata = reader.file.metadata
        func malformed(_ key: String, _ expected: String) -> ModelError {
            .metadata(path: path, key: key, value: metadata[key] ?? "", expected: expected)
        }
        let fileHeads = try metadata["heads"].map { text in
            guard let count = Int(text.trimmingCharacters(in: .whitespaces)), count > 0 else {
                throw malformed("heads", "a positive integer")
            }
            return count
        }
        let fileBlock = try metadata["block_size"].map { text in
            guard let size = BlockSize(metadata: text) else {
                throw malformed("block_size", "\"H,W\" with positive integers")
            }
            return size
        }
        let headCount = heads ?? fileHeads ?? 2
        let blockSize = block ?? fileBlock ?? BlockSize(height: 16, width: 16)

        // The release's checkpoints keep each stage's classifier as pspnet.decode_head.conv_seg; mmseg's as decode_head.conv_seg.
        let main = try reader.classifier(["classifier", "pspnet.decode_head.conv_seg", "decode_head.conv_seg"])
        let baseline = try reader.optionalClassifier("classifier_baseline") ?? main
        let stfHead = try reader.optionalClassifier("classifier_stf") ?? main
        let c = main.channels
        for other in [baseline, stfHead] where other.channels != c || other.classes != main.classes {
            throw ModelError.disagree(
                path: path,
                detail: "classifiers disagree: [\(main.classes), \(c)] vs [\(other.classes), \(other.channels)]")
        }
        let backbone = try reader.pspnetPrefix().map { try reader.pspnet(prefix: $0) }
        if let backbone, backbone.channels != c {
            throw ModelError.disagree(
                path: path, detail: "the backbone gives \(backbone.channels) channels, the classifier takes \(c)")
        }
        let stf = try reader.has("STF.pe_enc") ? reader.stf(channels: c, heads: headCount, block: blockSize) : nil
        let mar =
            try reader.hasPrefix("MAR.") ? reader.mar(channels: c, classes: main.classes, memoryFolder: memory) : nil
        try reader.finish()
        return Model(
            path: path, format: reader.file.formatName, backbone: backbone, stf: stf, mar: mar,
            baselineClassifier: baseline, stfClassifier: stfHead, marClassifier: main,
            unusedTensors: reader.unused)
    }

    public struct Outputs: Sendable {
        /// Channel-first [C, H*W] features after STF and MAR (nil when the model lacks them).
        public var stf: [Float]?, mar: [Float]?
        /// Channel-first logits [K, H*W].
        public var baselineLogits: [Float]
        public var stfLogits: [Float]?, marLogits: [Float]?
        /// Seconds per stage.
        public var timings: [(String, Double)] = []

        /// The logits of `stage`, nil when the model has no such stage.
        public func logits(_ stage: Stage) -> [Float]? {
            switch stage {
            case .baseline: return baselineLogits
            case .stf: return stfLogits
            case .mar: return marLogits
            }
        }

        /// Seconds of the stage named `name` ("STF", "MAR", ...).
        public func seconds(_ name: String) -> Double? { timings.first { $0.0 == name }?.1 }
    }

    /// Runs the pipeline of the spec on features [C, H, W] of T-1, T, T+1;
    /// `input` names them in errors (e.g. the current frame's file). Inputs
    /// and outputs are checked: a non-finite value is an error, never written out.
    public func forward(
        previous: [Float], current: [Float], next: [Float], height h: Int, width w: Int,
        input: String = "features"
    ) throws -> Outputs {
        guard h > 0, w > 0 else { throw ModelError.geometry("\(input): empty (\(h)x\(w) cells)") }
        let (n, overflow) = h.multipliedReportingOverflow(by: w)
        guard !overflow, current.count == channels &* n, previous.count == current.count, next.count == current.count
        else {
            throw ModelError.geometry("\(input): features must be [\(channels), \(h), \(w)] for all three frames")
        }
        for (frame, values) in [("T-1", previous), ("T", current), ("T+1", next)] {
            if let i = values.firstIndex(where: { !$0.isFinite }) {
                throw ModelError.geometry("\(input): the features of frame \(frame) hold \(values[i]) at element \(i)")
            }
        }
        func checked(_ values: [Float], _ stage: String) throws -> [Float] {
            if let i = firstNonFinite(values) {
                throw ModelError.nonFiniteOutput(input: input, stage: stage, index: i, value: values[i])
            }
            return values
        }
        var timings: [(String, Double)] = []
        func timed<T>(_ name: String, _ body: () throws -> T) rethrows -> T {
            let start = DispatchTime.now().uptimeNanoseconds
            defer { timings.append((name, Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)) }
            return try body()
        }
        let currentTokens = tokensFromChannels(current, channels: channels, positions: n)
        let baselineLogits = try checked(
            timed("baseline classifier") { baselineClassifier.logits(currentTokens, tokens: n) },
            "baseline classifier")
        var outputs = Outputs(baselineLogits: baselineLogits)
        var refined = currentTokens
        if let stf {
            guard h % stf.blockHeight == 0, w % stf.blockWidth == 0 else {
                throw ModelError.geometry(
                    "feature size \(h)x\(w) is not a multiple of the block size \(stf.blockHeight)x\(stf.blockWidth) (use --block)"
                )
            }
            let g = try checked(
                timed("STF") { stf.forward(previous: previous, current: current, next: next, height: h, width: w) },
                "STF")
            outputs.stf = channelsFromTokens(g, channels: channels, positions: n)
            outputs.stfLogits = try checked(
                timed("STF classifier") { stfClassifier.logits(g, tokens: n) }, "STF classifier")
            refined = g
        }
        if let mar {
            let r = try checked(timed("MAR") { mar.forward(refined, tokens: n) }, "MAR")
            outputs.mar = channelsFromTokens(r, channels: channels, positions: n)
            outputs.marLogits = try checked(
                timed("MAR classifier") { marClassifier.logits(r, tokens: n) }, "MAR classifier")
        }
        outputs.timings = timings
        return outputs
    }
}

/// Reads named tensors with expected shapes, remembering which were used.
struct TensorReader {
    let path: String
    let file: any TensorFile
    private var used = Set<String>()
    private var missing: [String] = []

    init(path: String) throws {
        self.path = path
        file = try TensorFiles.open(path: path)
    }

    func has(_ name: String) -> Bool { file.shape(of: name) != nil }
    func hasPrefix(_ prefix: String) -> Bool { file.tensorNames.contains { $0.hasPrefix(prefix) } }
    var unused: [String] { file.tensorNames.filter { !used.contains($0) } }

    /// A tensor's values; `shape` entries of -1 match anything. Missing
    /// tensors are collected and reported together by `finish`.
    mutating func tensor(_ name: String, _ shape: [Int]) throws -> (values: [Float], shape: [Int]) {
        guard let found = file.shape(of: name) else {
            missing.append(name)
            return ([], shape.map { max($0, 1) })
        }
        guard found.count == shape.count, zip(found, shape).allSatisfy({ $1 < 0 || $0 == $1 }) else {
            throw ModelError.shape(
                path: path, name: name,
                expected: "[" + shape.map { $0 < 0 ? "*" : String($0) }.joined(separator: ", ") + "]", found: found)
        }
        used.insert(name)
        let values = try file.floats(name)
        if let i = values.firstIndex(where: { !$0.isFinite }) {
            throw ModelError.nonFinite(path: path, name: name, index: i, value: values[i])
        }
        return (values, found)
    }

    /// Tensors read for completeness only (BatchNorm's num_batches_tracked).
    mutating func markUsed(_ name: String) {
        if has(name) { used.insert(name) }
    }

    mutating func finish() throws {
        if !missing.isEmpty { throw ModelError.missing(path: path, names: missing) }
    }

    mutating func linear(_ prefix: String, inputs: Int, outputs: Int = -1, bias: Bool = true) throws -> Linear {
        let w = try tensor(prefix + ".weight", [outputs, inputs])
        let b = bias ? try tensor(prefix + ".bias", [w.shape[0]]).values : nil
        return Linear(weight: w.values, bias: b, inputs: inputs, outputs: w.shape[0])
    }

    mutating func norm(_ prefix: String, channels c: Int) throws -> Norm {
        Norm(weight: try tensor(prefix + ".weight", [c]).values, bias: try tensor(prefix + ".bias", [c]).values)
    }

    mutating func attention(_ prefix: String, channels c: Int) throws -> Attention {
        let w = try tensor(prefix + ".in_proj_weight", [3 * c, c]).values
        let b = try tensor(prefix + ".in_proj_bias", [3 * c]).values
        func part(_ i: Int) -> Linear {
            Linear(
                weight: w.isEmpty ? [] : Array(w[(i * c * c)..<((i + 1) * c * c)]),
                bias: b.isEmpty ? [] : Array(b[(i * c)..<((i + 1) * c)]), inputs: c, outputs: c)
        }
        return Attention(
            query: part(0), key: part(1), value: part(2),
            output: try linear(prefix + ".out_proj", inputs: c, outputs: c))
    }

    mutating func icsa(_ prefix: String, channels c: Int) throws -> ICSAWeights {
        ICSAWeights(
            long: try attention(prefix + ".self_attn_long", channels: c),
            short: try attention(prefix + ".self_attn_short", channels: c))
    }

    mutating func feedForward(_ prefix: String, channels c: Int) throws -> FeedForward {
        let first = try linear(prefix + ".linear1", inputs: c)
        return FeedForward(first: first, second: try linear(prefix + ".linear2", inputs: first.outputs, outputs: c))
    }

    mutating func classifier(_ prefixes: [String]) throws -> Classifier {
        guard let prefix = prefixes.first(where: { has($0 + ".weight") }) else {
            throw ModelError.missing(path: path, names: prefixes.map { $0 + ".weight" })
        }
        return try optionalClassifier(prefix)!
    }

    mutating func optionalClassifier(_ prefix: String) throws -> Classifier? {
        guard let shape = file.shape(of: prefix + ".weight") else { return nil }
        // A 1x1 convolution [K, C, 1, 1] or a plain [K, C].
        guard shape.count == 2 || (shape.count == 4 && shape[2] == 1 && shape[3] == 1) else {
            throw ModelError.shape(
                path: path, name: prefix + ".weight", expected: "[K, C] or [K, C, 1, 1]", found: shape)
        }
        let k = shape[0]
        let c = shape[1]
        let weight = try tensor(prefix + ".weight", shape).values
        return Classifier(weight: weight, bias: try tensor(prefix + ".bias", [k]).values, classes: k, channels: c)
    }

    mutating func stf(channels c: Int, heads: Int, block: BlockSize) throws -> STFWeights {
        guard heads > 0, c % heads == 0 else {
            throw ModelError.disagree(path: path, detail: "\(c) channels are not divisible by \(heads) heads")
        }
        let enc = try tensor("STF.pe_enc", [1, c, 3, -1, -1])
        let dec = try tensor("STF.pe_dec", [1, c, 1, enc.shape[3], enc.shape[4]])
        var depth = 0
        while has("STF.encoder.layers.\(depth).norm1.weight") { depth += 1 }
        guard depth > 0 else { throw ModelError.missing(path: path, names: ["STF.encoder.layers.0.*"]) }
        var encoder: [EncoderLayer] = []
        var decoder: [DecoderLayer] = []
        for i in 0..<depth {
            let e = "STF.encoder.layers.\(i)"
            encoder.append(
                EncoderLayer(
                    attention: try icsa(e + ".self_attn", channels: c), feedForward: try feedForward(e, channels: c),
                    norm1: try norm(e + ".norm1", channels: c), norm2: try norm(e + ".norm2", channels: c)))
            let d = "STF.decoder.layers.\(i)"
            decoder.append(
                DecoderLayer(
                    selfAttention: try icsa(d + ".self_attn", channels: c),
                    crossAttention: try icsa(d + ".multihead_attn", channels: c),
                    feedForward: try feedForward(d, channels: c), norm1: try norm(d + ".norm1", channels: c),
                    norm2: try norm(d + ".norm2", channels: c), norm3: try norm(d + ".norm3", channels: c)))
        }
        let planes = enc.shape[3] * enc.shape[4]
        // pe_enc [1, C, 3, Hp, Wp] is channel-major: [C, 3*Hp*Wp] -> tokens [3*Hp*Wp, C].
        return STFWeights(
            channels: c, heads: heads, blockHeight: block.height, blockWidth: block.width,
            encoderPositions: enc.values.isEmpty
                ? [] : tokensFromChannels(enc.values, channels: c, positions: 3 * planes),
            decoderPositions: dec.values.isEmpty ? [] : tokensFromChannels(dec.values, channels: c, positions: planes),
            positionHeight: enc.shape[3], positionWidth: enc.shape[4],
            encoder: encoder, decoder: decoder)
    }

    mutating func mar(channels c: Int, classes k: Int, memoryFolder: String?) throws -> MARWeights {
        let a = "MAR.HEdecoder.attn"
        func chain(_ which: String) throws -> (matrix: [Float], width: Int) {
            let a0 = try tensor("\(a).to_\(which).0.weight", [c, c])
            let a1 = try tensor("\(a).to_\(which).1.weight", [-1, c])
            let dh = a1.shape[0]
            let a2 = try tensor("\(a).to_\(which).2.weight", [dh, dh])
            guard !a0.values.isEmpty, !a1.values.isEmpty, !a2.values.isEmpty else { return ([], dh) }
            // A2 A1 A0: [dh, C], so x A0^T A1^T A2^T = x (A2 A1 A0)^T.
            return (matmul(matmul(a2.values, a1.values, m: dh, k: dh, n: c), a0.values, m: dh, k: c, n: c), dh)
        }
        let (query, dh) = try chain("q")
        let (keyProjection, _) = try chain("k")
        let (valueProjection, _) = try chain("v")
        var memoryKey: [Float]
        var memoryValue: [Float]
        var rows: Int
        if has("MAR.memory_key") {
            let mk = try tensor("MAR.memory_key", [1, -1, c])
            rows = mk.shape[1]
            memoryKey = mk.values
            memoryValue = try tensor("MAR.memory_value", [1, rows, c]).values
        } else if let memoryFolder {
            let bank = try MemoryBank.load(path: memoryFolder)
            guard bank.channels == c, bank.classes == k else {
                throw ModelError.memory(
                    path: memoryFolder,
                    problem: "memory of \(bank.classes) classes x \(bank.channels) channels, the model has \(k) x \(c)")
            }
            (memoryKey, memoryValue, rows) = (bank.keys, bank.repeatedPrototypes, bank.rows)
        } else {
            // Reported with every other missing tensor by finish().
            missing += ["MAR.memory_key", "MAR.memory_value (or pass --memory DIR)"]
            (memoryKey, memoryValue, rows) = ([], [], 0)
        }
        let output = try linear("\(a).to_out.0", inputs: dh, outputs: c)
        let hd = "MAR.HEdecoder"
        let ffn = try feedForward(hd, channels: c)
        let n1 = try norm(hd + ".norm1", channels: c)
        let n2 = try norm(hd + ".norm2", channels: c)
        let complete =
            !query.isEmpty && !keyProjection.isEmpty && !valueProjection.isEmpty && rows > 0 && !output.weight.isEmpty
        guard complete else {
            return MARWeights(
                channels: c, width: dh, memoryRows: rows, scoreProjection: [], valueOutput: [], outputBias: [],
                feedForward: ffn, norm1: n1, norm2: n2)
        }
        let keys = matmulTransposedB(memoryKey, keyProjection, m: rows, k: c, n: dh)  // [N, dh]
        let values = matmulTransposedB(memoryValue, valueProjection, m: rows, k: c, n: dh)  // [N, dh]
        // Wq^T K^T = (K Wq)^T: [C, N]; V Wout^T: [N, C].
        let keyQuery = matmul(keys, query, m: rows, k: dh, n: c)  // [N, C]
        let scoreProjection = transposed(keyQuery, rows: rows, columns: c)
        let valueOutput = matmulTransposedB(values, output.weight, m: rows, k: dh, n: c)
        return MARWeights(
            channels: c, width: dh, memoryRows: rows, scoreProjection: scoreProjection, valueOutput: valueOutput,
            outputBias: output.bias ?? [Float](repeating: 0, count: c), feedForward: ffn, norm1: n1, norm2: n2,
            memoryValues: memoryValue)
    }
}

/// The index of the first NaN or infinity in `values`, nil if all are finite.
func firstNonFinite(_ values: [Float]) -> Int? {
    values.withUnsafeBufferPointer { buffer in
        // A sum of products by zero is NaN exactly when some element is not finite:
        // one branch-free pass, then a search only when it failed.
        var probe: Float = 0
        for v in buffer { probe += v * 0 }
        return probe.isNaN ? buffer.firstIndex { !$0.isFinite } : nil
    }
}

/// [m, k] x [k, n] (load-time folding of small matrices).
func matmul(_ a: [Float], _ b: [Float], m: Int, k: Int, n: Int) -> [Float] {
    var out = [Float](repeating: 0, count: m * n)
    a.withUnsafeBufferPointer { ab in
        b.withUnsafeBufferPointer { bb in
            out.withUnsafeMutableBufferPointer {
                BLAS.gemm(
                    m: m, n: n, k: k, a: ab.baseAddress!, lda: k, b: bb.baseAddress!, ldb: n, c: $0.baseAddress!, ldc: n
                )
            }
        }
    }
    return out
}

/// [m, k] x [n, k]^T.
func matmulTransposedB(_ a: [Float], _ b: [Float], m: Int, k: Int, n: Int) -> [Float] {
    var out = [Float](repeating: 0, count: m * n)
    a.withUnsafeBufferPointer { ab in
        b.withUnsafeBufferPointer { bb in
            out.withUnsafeMutableBufferPointer {
                BLAS.gemm(
                    transposeB: true, m: m, n: n, k: k, a: ab.baseAddress!, lda: k, b: bb.baseAddress!, ldb: k,
                    c: $0.baseAddress!, ldc: n)
            }
        }
    }
    return out
}
