/// Parameter blocks of the model, in PyTorch's layouts (row-major).

/// nn.Linear: weight [outputs, inputs], optional bias [outputs].
public struct Linear: Sendable {
    public let weight: [Float]
    public let bias: [Float]?
    public let inputs: Int, outputs: Int

    /// out[L, outputs] = x[L, inputs] W^T + b, on the calling thread or,
    /// `inParallel`, split over token chunks on all cores.
    func apply(_ x: UnsafePointer<Float>, tokens: Int, into out: UnsafeMutablePointer<Float>, inParallel: Bool = false)
    {
        let run = inParallel ? parallelLinear : linear
        weight.withUnsafeBufferPointer { w in
            if let bias {
                bias.withUnsafeBufferPointer { b in run(out, x, w.baseAddress!, b.baseAddress!, tokens, inputs, outputs)
                }
            } else {
                run(out, x, w.baseAddress!, nil, tokens, inputs, outputs)
            }
        }
    }
}

/// nn.LayerNorm(C): weight [C], bias [C].
public struct Norm: Sendable {
    public let weight: [Float], bias: [Float]

    func apply(_ x: UnsafeMutablePointer<Float>, tokens: Int, channels: Int, inParallel: Bool = true) {
        weight.withUnsafeBufferPointer { w in
            bias.withUnsafeBufferPointer { b in
                layerNorm(x, w.baseAddress!, b.baseAddress!, tokens: tokens, channels: channels, inParallel: inParallel)
            }
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

/// MAR with everything fixed folded at load. With Wq = Aq2 Aq1 Aq0 [dh, C],
/// projected keys K [N, dh] and values V [N, dh], and Wout [C, dh]:
/// scores = (x Wq^T) K^T = x (Wq^T K^T) and (S V) Wout^T = S (V Wout^T), so
/// the memory's two products are [C, N] and [N, C] matrices computed once.
public struct MARWeights: Sendable {
    public let channels: Int
    /// dh: width of the memory attention and of MAR's FFN.
    public let width: Int
    public let memoryRows: Int
    /// Wq^T K^T: [C, N].
    public let scoreProjection: [Float]
    /// V Wout^T: [N, C].
    public let valueOutput: [Float]
    /// to_out.0 bias [C].
    public let outputBias: [Float]
    public let feedForward: FeedForward
    public let norm1: Norm, norm2: Norm
    /// memory_value rows [N, C] as loaded: the class prototypes that `explain` compares features with.
    public internal(set) var memoryValues: [Float] = []
}

/// A 1x1 convolution classifier: weight [K, C], bias [K].
public struct Classifier: Sendable {
    public let weight: [Float], bias: [Float]
    public let classes: Int, channels: Int
}
