/// SplitMix64: a 64-bit generator whose output is the same on every machine.
/// Shared by the synthetic data (SegSynth) and the trainer's initialisation
/// and data order (SegTrain).
public struct SplitMix64: Sendable {
    public var state: UInt64

    public init(seed: UInt64) { state = seed }

    public mutating func next() -> UInt64 {
        state &+= 0x9e37_79b9_7f4a_7c15
        var z = state
        z = (z ^ (z >> 30)) &* 0xbf58_476d_1ce4_e5b9
        z = (z ^ (z >> 27)) &* 0x94d0_49bb_1331_11eb
        return z ^ (z >> 31)
    }

    /// Uniform in [0, 1) with 24 bits.
    public mutating func unit() -> Float { Float(next() >> 40) * (1.0 / 16_777_216.0) }

    public mutating func uniform(_ low: Float, _ high: Float) -> Float { low + (high - low) * unit() }

    public mutating func int(_ range: Range<Int>) -> Int { range.lowerBound + Int(next() % UInt64(range.count)) }

    public mutating func chance(_ p: Float) -> Bool { unit() < p }

    /// Approximately standard normal: the sum of four uniforms (Irwin-Hall),
    /// rescaled; no logarithms, so bit-identical everywhere.
    public mutating func normal() -> Float {
        let bits = next()
        var sum: Float = 0
        for k in 0..<4 { sum += Float((bits >> (16 * UInt64(k))) & 0xffff) * (1.0 / 65536.0) }
        return (sum - 2) * 1.7320508  // variance of the sum is 4/12
    }
}
