/// Parameter blocks of the model, in PyTorch's layouts (row-major).

/// nn.Linear: weight [outputs, inputs], optional bias [outputs].
public struct Linear: Sendable {
    public let weight: [Float]
    public let bias: [Float]?
    public let inputs: Int, outputs: Int

    /// out[L, outputs] = x[L, inputs] W^T + b, on the calling thread.
    func apply(_ x: UnsafePointer<Float>, tokens: Int, into out: UnsafeMutablePointer<Float>) {
        weight.withUnsafeBufferPointer { w in
            if let bias {
                bias.withUnsafeBufferPointer { b in
                    linear(out, x, w.baseAddress!, b.baseAddress!, tokens: tokens, inputs: inputs, outputs: outputs)
                }
            } else {
                linear(out, x, w.baseAddress!, nil, tokens: tokens, inputs: inputs, outputs: outputs)
            }
        }
    }

    /// The same over many tokens, on all cores.
    func applyInParallel(_ x: UnsafePointer<Float>, tokens: Int, into out: UnsafeMutablePointer<Float>) {
        weight.withUnsafeBufferPointer { w in
            if let bias {
                bias.withUnsafeBufferPointer { b in
                    parallelLinear(out, x, w.baseAddress!, b.baseAddress!, tokens: tokens, inputs: inputs, outputs: outputs)
                }
            } else {
                parallelLinear(out, x, w.baseAddress!, nil, tokens: tokens, inputs: inputs, outputs: outputs)
            }
        }
    }
}

/// nn.LayerNorm(C): weight [C], bias [C].
public struct Norm: Sendable {
    public let weight: [Float], bias: [Float]

    func apply(_ x: UnsafeMutablePointer<Float>, tokens: Int, channels: Int) {
        weight.withUnsafeBufferPointer { w in
            bias.withUnsafeBufferPointer { b in layerNorm(x, w.baseAddress!, b.baseAddress!, tokens: tokens, channels: channels) }
        }
    }
}

/// nn.MultiheadAttention: in_proj rows 0..<C query, C..<2C key, 2C..<3C value.
public struct Attention: Sendable {
    public let query: Linear, key: Linear, value: Linear, output: Linear
}

/// ICSA's two attention modules.
public struct ICSAWeights: Sendable {
    public let long: Attention, short: Attention
}

public struct FeedForward: Sendable {
    public let first: Linear, second: Linear
}

public struct EncoderLayer: Sendable {
    public let attention: ICSAWeights
    public let feedForward: FeedForward
    public let norm1: Norm, norm2: Norm
}

public struct DecoderLayer: Sendable {
    public let selfAttention: ICSAWeights
    public let crossAttention: ICSAWeights
    public let feedForward: FeedForward
    public let norm1: Norm, norm2: Norm, norm3: Norm
}

public struct STFWeights: Sendable {
    public let channels: Int
    public let heads: Int
    public let blockHeight: Int, blockWidth: Int
    /// pe_enc and pe_dec token-major: [3*Hp*Wp, C] and [Hp*Wp, C] (stored so
    /// at load; at the native size they are used as they are).
    public let encoderPositions: [Float], decoderPositions: [Float]
    public let positionHeight: Int, positionWidth: Int
    public let encoder: [EncoderLayer]
    public let decoder: [DecoderLayer]
}

/// MAR with its fixed parts folded at load: the three query matrices
/// multiplied into one, keys and values projected once.
public struct MARWeights: Sendable {
    public let channels: Int
    /// dh: width of the memory attention and of MAR's FFN.
    public let width: Int
    public let memoryRows: Int
    /// Aq2 Aq1 Aq0: [dh, C].
    public let query: [Float]
    /// Projected memory keys and values: [N, dh].
    public let keys: [Float], values: [Float]
    public let output: Linear
    public let feedForward: FeedForward
    public let norm1: Norm, norm2: Norm
}

/// A 1x1 convolution classifier: weight [K, C], bias [K].
public struct Classifier: Sendable {
    public let weight: [Float], bias: [Float]
    public let classes: Int, channels: Int
}
