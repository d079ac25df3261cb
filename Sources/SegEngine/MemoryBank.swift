import Foundation
import SegFormats

/// A MAR memory: hard keys [K*KL, C] (class-major) and class prototypes
/// [K, C]. The one codec of memories: the release's folder (key.npy,
/// value.npy), the `MAR.memory_key`/`MAR.memory_value` tensors [1, K*KL, C]
/// of weights files (values = each prototype repeated KL times), and that
/// repetition itself.
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

    /// K*KL: rows of the keys and of the repeated values.
    public var rows: Int { classes * perClass }

    /// MAR's value rows [K*KL, C]: the prototype of each key's class.
    public var repeatedPrototypes: [Float] {
        var values = [Float]()
        values.reserveCapacity(rows * channels)
        for k in 0..<classes {
            for _ in 0..<perClass { values += prototypes[(k * channels)..<((k + 1) * channels)] }
        }
        return values
    }

    /// Reads a release-format folder (key.npy, value.npy) or a weights file
    /// (safetensors or .pth) holding MAR.memory_key and MAR.memory_value
    /// [1, K*KL, C] whose values are prototypes repeated per class (KL is
    /// found from where they change). NaN or infinite values are refused,
    /// naming the file and the row.
    public static func load(path: String) throws -> MemoryBank {
        var isFolder: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isFolder) else {
            throw FormatError.notFound(path: path)
        }
        if isFolder.boolValue { return try loadFolder(path) }
        let attributes = try? FileManager.default.attributesOfItem(atPath: path)
        guard attributes?[.type] as? FileAttributeType == .typeRegular, (attributes?[.size] as? Int ?? 0) > 0 else {
            throw ModelError.memory(path: path, problem: "not a memory folder (key.npy, value.npy) or a weights file")
        }
        let file = try TensorFiles.open(path: path)
        guard let shape = file.shape(of: "MAR.memory_key"), shape.count == 3,
            file.shape(of: "MAR.memory_value") == shape, shape[1] > 0
        else {
            throw ModelError.memory(
                path: path, problem: "needs MAR.memory_key and MAR.memory_value of equal shape [1, N, C]")
        }
        let rows = shape[1]
        let c = shape[2]
        let keys = try file.floats("MAR.memory_key")
        let values = try file.floats("MAR.memory_value")
        try requireFinite(keys, columns: c, path: path, name: "MAR.memory_key")
        try requireFinite(values, columns: c, path: path, name: "MAR.memory_value")
        var perClass = 1
        while perClass < rows && values[(perClass * c)..<((perClass + 1) * c)].elementsEqual(values[0..<c]) {
            perClass += 1
        }
        let bank = MemoryBank(
            classes: rows / perClass, perClass: perClass, channels: c, keys: keys,
            prototypes: (0..<(rows / perClass)).flatMap { values[($0 * perClass * c)..<(($0 * perClass + 1) * c)] })
        guard rows % perClass == 0, bank.repeatedPrototypes == values else {
            throw ModelError.memory(
                path: path,
                problem:
                    "memory values are not prototypes repeated per class (a trained MAR's memory has no folder form)")
        }
        return bank
    }

    static func loadFolder(_ path: String) throws -> MemoryBank {
        let keyPath = path + "/key.npy"
        let valuePath = path + "/value.npy"
        let key = try Npy.read(path: keyPath)
        let value = try Npy.read(path: valuePath)
        guard value.shape.count == 2, value.shape[0] > 0, !value.elementType.isInteger else {
            throw ModelError.memory(
                path: valuePath,
                problem: "prototypes must be float [K, C], found \(value.elementType.rawValue) \(value.shape)")
        }
        let (k, c) = (value.shape[0], value.shape[1])
        guard key.shape.count == 2, key.shape[1] == c, key.shape[0] > 0, key.shape[0] % k == 0,
            !key.elementType.isInteger
        else {
            throw ModelError.memory(
                path: keyPath,
                problem: "keys must be float [K*KL, \(c)] with K = \(k), found \(key.elementType.rawValue) \(key.shape)"
            )
        }
        let (keys, prototypes) = (key.floats(), value.floats())
        try requireFinite(keys, columns: c, path: keyPath, name: "keys")
        try requireFinite(prototypes, columns: c, path: valuePath, name: "prototypes")
        return MemoryBank(classes: k, perClass: key.shape[0] / k, channels: c, keys: keys, prototypes: prototypes)
    }

    static func requireFinite(_ values: [Float], columns: Int, path: String, name: String) throws {
        if let i = values.firstIndex(where: { !$0.isFinite }) {
            throw ModelError.memory(
                path: path,
                problem:
                    "\(name) row \(i / max(1, columns)) holds \(values[i]) (NaN or infinite values are not a memory)")
        }
    }

    /// Writes key.npy, value.npy (release format) and memory.safetensors
    /// (MAR.memory_key and MAR.memory_value, [1, K*KL, C], ready to merge into weights).
    public func write(to folder: String) throws {
        try Npy.write(keys, shape: [rows, channels], to: folder + "/key.npy")
        try Npy.write(prototypes, shape: [classes, channels], to: folder + "/value.npy")
        var writer = SafetensorsWriter(metadata: ["classes": String(classes), "per_class": String(perClass)])
        writer.add("MAR.memory_key", keys, shape: [1, rows, channels])
        writer.add("MAR.memory_value", repeatedPrototypes, shape: [1, rows, channels])
        try writer.write(to: folder + "/memory.safetensors")
    }
}

extension Model {
    /// The STF stage of frame T (spec "Building the memory"): STF features
    /// and the STF classifier's logits, or, for a model without STF, the raw
    /// features and the baseline classifier. Features [C, H*W], logits [K, H*W].
    public func stfStage(previous: [Float], current: [Float], next: [Float], height h: Int, width w: Int) throws
        -> (features: [Float], logits: [Float])
    {
        let n = h * w
        guard let stf else {
            return (
                current,
                baselineClassifier.logits(tokensFromChannels(current, channels: channels, positions: n), tokens: n)
            )
        }
        guard h % stf.blockHeight == 0, w % stf.blockWidth == 0 else {
            throw ModelError.geometry(
                "feature size \(h)x\(w) is not a multiple of the block size \(stf.blockHeight)x\(stf.blockWidth) (use --block)"
            )
        }
        let g = stf.forward(previous: previous, current: current, next: next, height: h, width: w)
        return (channelsFromTokens(g, channels: channels, positions: n), stfClassifier.logits(g, tokens: n))
    }
}
