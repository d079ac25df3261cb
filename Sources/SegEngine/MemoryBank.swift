import SegFormats

/// A MAR memory: hard keys [K*KL, C] (class-major) and class prototypes [K, C].
public struct MemoryBank: Sendable, Equatable {
    public let classes: Int, perClass: Int, channels: Int
    public let keys: [Float]
    public let prototypes: [Float]

    public init(classes: Int, perClass: Int, channels: Int, keys: [Float], prototypes: [Float]) {
        precondition(keys.count == classes * perClass * channels && prototypes.count == classes * channels)
        self.classes = classes
        self.perClass = perClass
        self.channels = channels
        self.keys = keys
        self.prototypes = prototypes
    }

    /// Reads a release-format folder (key.npy, value.npy) or a weights file
    /// holding MAR.memory_key and MAR.memory_value [1, K*KL, C] (values:
    /// prototypes repeated KL times; KL is found from where they change).
    public static func load(path: String) throws -> MemoryBank {
        if path.hasSuffix(".safetensors") {
            let file = try SafetensorsFile(path: path)
            guard let key = file.tensor("MAR.memory_key"), let value = file.tensor("MAR.memory_value"),
                  key.shape.count == 3, key.shape == value.shape else {
                throw ModelError.memory(path: path, problem: "needs MAR.memory_key and MAR.memory_value of equal shape [1, N, C]")
            }
            let rows = key.shape[1], c = key.shape[2]
            let values = try file.floats("MAR.memory_value")
            var perClass = 1
            while perClass < rows && Array(values[(perClass * c)..<((perClass + 1) * c)]) == Array(values[0..<c]) { perClass += 1 }
            guard rows % perClass == 0 else {
                throw ModelError.memory(path: path, problem: "memory values are not prototypes repeated per class")
            }
            let k = rows / perClass
            let prototypes = (0..<k).flatMap { Array(values[(($0 * perClass) * c)..<(($0 * perClass + 1) * c)]) }
            return MemoryBank(classes: k, perClass: perClass, channels: c, keys: try file.floats("MAR.memory_key"), prototypes: prototypes)
        }
        let key = try Npy.read(path: path + "/key.npy"), value = try Npy.read(path: path + "/value.npy")
        guard value.shape.count == 2, key.shape.count == 2, key.shape[1] == value.shape[1], value.shape[0] > 0,
              key.shape[0] % value.shape[0] == 0 else {
            throw ModelError.memory(path: path, problem: "key.npy \(key.shape) and value.npy \(value.shape) are not [K*KL, C] and [K, C]")
        }
        return MemoryBank(classes: value.shape[0], perClass: key.shape[0] / value.shape[0], channels: value.shape[1],
                          keys: key.floats(), prototypes: value.floats())
    }

    /// Writes key.npy, value.npy (release format) and memory.safetensors
    /// (MAR.memory_key and MAR.memory_value, [1, K*KL, C], ready to merge into weights).
    public func write(to folder: String) throws {
        try Npy.write(keys, shape: [classes * perClass, channels], to: folder + "/key.npy")
        try Npy.write(prototypes, shape: [classes, channels], to: folder + "/value.npy")
        var repeated = [Float]()
        repeated.reserveCapacity(keys.count)
        for k in 0..<classes { for _ in 0..<perClass { repeated += prototypes[(k * channels)..<((k + 1) * channels)] } }
        var writer = SafetensorsWriter(metadata: ["classes": String(classes), "per_class": String(perClass)])
        writer.add("MAR.memory_key", keys, shape: [1, classes * perClass, channels])
        writer.add("MAR.memory_value", repeated, shape: [1, classes * perClass, channels])
        try writer.write(to: folder + "/memory.safetensors")
    }
}

extension Model {
    /// The STF stage of frame T (spec "Building the memory"): STF features
    /// and the STF classifier's logits, or, for a model without STF, the raw
    /// features and the baseline classifier. Features [C, H*W], logits [K, H*W].
    public func stfStage(previous: [Float], current: [Float], next: [Float], height h: Int, width w: Int) throws
        -> (features: [Float], logits: [Float]) {
        let n = h * w
        guard let stf else {
            return (current, baselineClassifier.logits(tokensFromChannels(current, channels: channels, positions: n), tokens: n))
        }
        guard h % stf.blockHeight == 0, w % stf.blockWidth == 0 else {
            throw ModelError.geometry("feature size \(h)x\(w) is not a multiple of the block size \(stf.blockHeight)x\(stf.blockWidth) (use --block)")
        }
        let g = stf.forward(previous: previous, current: current, next: next, height: h, width: w)
        return (channelsFromTokens(g, channels: channels, positions: n), stfClassifier.logits(g, tokens: n))
    }
}
