import Foundation
import SegFormats

/// One named tensor inside a `Parameters` block: where its values start in
/// the flat buffer, and its shape as the release stores it.
public struct Slot: Sendable, Hashable {
    public let name: String
    public let shape: [Int]
    public let offset: Int
    public var count: Int { shape.reduce(1, *) }
}

/// Every trainable tensor of a stage in one flat float64 buffer, so the
/// optimizer, gradient accumulation and checkpoints see a single vector while
/// layers address their tensors by slot.
public struct Parameters: Sendable {
    public private(set) var slots: [Slot] = []
    public var values: [Double] = []
    public var count: Int { values.count }

    public init() {}

    /// Adds a tensor with the release's name and shape, filled by `initial`.
    @discardableResult
    public mutating func add(_ name: String, _ shape: [Int], _ initial: Initializer) -> Slot {
        let slot = Slot(name: name, shape: shape, offset: values.count)
        slots.append(slot)
        values += initial.values(count: slot.count, name: name)
        return slot
    }

    public func slot(_ name: String) -> Slot? { slots.first { $0.name == name } }

    public func tensor(_ slot: Slot) -> [Double] { Array(values[slot.offset..<(slot.offset + slot.count)]) }

    public mutating func set(_ slot: Slot, _ newValues: [Double]) {
        precondition(newValues.count == slot.count)
        values.replaceSubrange(slot.offset..<(slot.offset + slot.count), with: newValues)
    }
}

/// How a fresh tensor is filled: PyTorch's defaults for the module it belongs
/// to, drawn from a seeded generator so a run is reproducible.
public enum Initializer: Sendable {
    case zeros, ones
    /// U(-bound, bound): nn.Linear / 1x1 conv (bound 1/sqrt(fan_in)) and
    /// xavier_uniform for attention in_proj (bound sqrt(6/(fan_in+fan_out))).
    case uniform(bound: Double, seed: UInt64)
    /// N(0, std^2), for the positional encodings.
    case normal(std: Double, seed: UInt64)

    func values(count: Int, name: String) -> [Double] {
        switch self {
        case .zeros: return [Double](repeating: 0, count: count)
        case .ones: return [Double](repeating: 1, count: count)
        case .uniform(let bound, let seed):
            var random = TrainingRandom(seed: seed, name: name)
            return (0..<count).map { _ in (2 * random.unit() - 1) * bound }
        case .normal(let std, let seed):
            var random = TrainingRandom(seed: seed, name: name)
            return (0..<count).map { _ in random.normal() * std }
        }
    }
}

/// SplitMix64 keyed by the run's seed and a tensor's name, so adding a tensor
/// never changes the initial values of the others.
struct TrainingRandom {
    private var generator: SplitMix64

    init(seed: UInt64, name: String = "") {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325  // FNV-1a of the name
        for byte in name.utf8 { h = (h ^ UInt64(byte)) &* 0x100_0000_01b3 }
        generator = SplitMix64(seed: seed ^ h)
    }

    mutating func next() -> UInt64 { generator.next() }

    /// Uniform in [0, 1) with 53 bits.
    mutating func unit() -> Double { Double(next() >> 11) * (1.0 / 9_007_199_254_740_992.0) }

    /// Box-Muller; the trainer's files are float32, so libm's last bit does not matter here.
    mutating func normal() -> Double {
        let u = max(unit(), 1e-300)
        let v = unit()
        return (-2 * log(u)).squareRoot() * cos(2 * Double.pi * v)
    }

    /// A permutation of 0..<n (Fisher-Yates).
    mutating func permutation(_ n: Int) -> [Int] {
        var order = Array(0..<n)
        for i in stride(from: n - 1, to: 0, by: -1) {
            let j = Int(next() % UInt64(i + 1))
            order.swapAt(i, j)
        }
        return order
    }
}
