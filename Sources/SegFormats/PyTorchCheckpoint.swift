/// A PyTorch checkpoint (`torch.save` of a state dict, or of a dict holding
/// one under "state_dict" as mmsegmentation saves), read without PyTorch and
/// without executing its pickle (see `Pickle`).
///
/// Two layouts (torch/serialization.py, `_load` and `_legacy_load`):
/// - zip (PyTorch >= 1.6): `<archive>/data.pkl` is the pickled object;
///   storage `key` is the stored entry `<archive>/data/<key>`, raw
///   little-endian elements.
/// - legacy: five things back to back: the pickled magic number
///   0x1950a86a20f9469cfc6c, the protocol version 1001, a system-info dict
///   (little_endian must be true), the pickled object, the pickled list of
///   storage keys; then per key in that order an 8-byte little-endian element
///   count and the elements.
/// In the object a storage is a persistent id ("storage", <type global such
/// as torch.FloatStorage>, key, location, numel[, view]); a tensor is
/// torch._utils._rebuild_tensor_v2(storage, offset, size, stride, ...), maybe
/// inside _rebuild_parameter. Strides may be non-contiguous.
public struct PyTorchCheckpoint: TensorFile, @unchecked Sendable {
    public struct Tensor: Sendable {
        public let name: String
        public let elementType: ElementType
        public let shape: [Int], strides: [Int]
        /// Storage key and element offset in it.
        public let storage: String, offset: Int
    }

    public let path: String
    public let formatName: String
    public var metadata: [String: String] { [:] }
    public let tensors: [Tensor]
    /// Entries of the state dict that are not tensors of a supported type (named in `weights` output).
    public let skipped: [String]
    private let byName: [String: Int]
    private let file: MappedFile
    /// Storage key -> byte range in the file.
    private let storages: [String: Range<Int>]

    static let storageTypes: [String: ElementType] = [
        "torch.FloatStorage": .float32, "torch.HalfStorage": .float16, "torch.BFloat16Storage": .bfloat16,
        "torch.DoubleStorage": .float64, "torch.LongStorage": .int64, "torch.IntStorage": .int32,
        "torch.ByteStorage": .uint8,
    ]
    static let magic: [UInt8] = [0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19]

    public init(path: String) throws {
        self.path = path
        file = try MappedFile(path: path)
        func bad(_ problem: String) -> FormatError {
            .malformed(path: path, format: "PyTorch checkpoint", problem: problem)
        }
        // Holds every pickled container until this initialiser returns (then empties them: no cycle outlives it).
        let arena = PickleArena()
        let (object, storages, format): (PickleValue, [String: Range<Int>], String) = try file.withBytes { raw in
            do {
                if raw.count >= 4 && raw[0] == 0x50 && raw[1] == 0x4b {
                    let zip = try ZipArchive(path: path, bytes: raw)
                    // `<archive>/data.pkl`, the archive folder being the file's stem.
                    guard
                        let pickle = zip.entries.filter({ $0.name.hasSuffix("/data.pkl") }).min(by: {
                            $0.name.count < $1.name.count
                        })
                    else {
                        throw bad("no data.pkl in the archive")
                    }
                    let archive = String(pickle.name.dropLast("data.pkl".count))
                    let (object, _) = try Pickle.parse(
                        UnsafeRawBufferPointer(rebasing: raw[pickle.begin..<pickle.end]), arena: arena)
                    var storages: [String: Range<Int>] = [:]
                    for entry in zip.entries where entry.name.hasPrefix(archive + "data/") {
                        storages[String(entry.name.dropFirst(archive.count + 5))] = entry.begin..<entry.end
                    }
                    return (object, storages, "PyTorch zip")
                }
                // Legacy: magic, protocol, system info, object, keys, storages.
                var at = 0
                let (magic, afterMagic) = try Pickle.parse(raw, offset: at, arena: arena)
                guard case .bigInt(let bytes) = magic, bytes == Self.magic else {
                    throw bad("not a PyTorch file (no zip header, wrong legacy magic number)")
                }
                let (version, afterVersion) = try Pickle.parse(raw, offset: afterMagic, arena: arena)
                guard version.int == 1001 else {
                    throw bad("legacy protocol version \(version.int.map(String.init) ?? "?"), expected 1001")
                }
                let (info, afterInfo) = try Pickle.parse(raw, offset: afterVersion, arena: arena)
                if case .dict(let d) = info, case .bool(false)? = d.value("little_endian") {
                    throw bad("big-endian legacy checkpoints are not supported")
                }
                let (object, afterObject) = try Pickle.parse(raw, offset: afterInfo, arena: arena)
                let (keyList, afterKeys) = try Pickle.parse(raw, offset: afterObject, arena: arena)
                var types: [String: ElementType] = [:]
                Self.collectStorageTypes(object, into: &types)
                at = afterKeys
                var storages: [String: Range<Int>] = [:]
                for key in keyList.tuple ?? [] {
                    guard let key = key.string, let type = types[key] else {
                        throw bad("storage key list names an unknown storage")
                    }
                    guard at + 8 <= raw.count else { throw bad("storage \(key) runs past the end of the file") }
                    var count: UInt64 = 0
                    for i in 0..<8 { count |= UInt64(raw[at + i]) << (8 * UInt64(i)) }
                    let bytes = count.multipliedReportingOverflow(by: UInt64(type.size))
                    guard !bytes.overflow, bytes.partialValue <= UInt64(raw.count - at - 8) else {
                        throw bad("storage \(key) runs past the end of the file")
                    }
                    storages[key] = (at + 8)..<(at + 8 + Int(bytes.partialValue))
                    at += 8 + Int(bytes.partialValue)
                }
                return (object, storages, "PyTorch legacy")
            } catch let error as PickleError {
                throw bad(error.description)
            }
        }
        self.storages = storages
        formatName = format
        // The state dict: the object itself, or its "state_dict" entry (mmseg).
        guard let top = Self.dictionary(object) else { throw bad("the pickled object is not a dict of tensors") }
        let state = top.value("state_dict").flatMap(Self.dictionary) ?? top
        var tensors: [Tensor] = []
        var skipped: [String] = []
        for (key, value) in state.entries {
            guard let name = key.string else { continue }
            guard let tensor = try Self.tensor(value, name: name, bad: bad) else {
                skipped.append(name)
                continue
            }
            guard let range = storages[tensor.storage] else {
                throw bad("tensor '\(name)' refers to storage \(tensor.storage), which the file lacks")
            }
            // The furthest element the strides reach must lie inside the storage.
            let count = tensor.shape.reduce(1, *)
            let last =
                count == 0
                ? tensor.offset : tensor.offset + zip(tensor.shape, tensor.strides).reduce(0) { $0 + ($1.0 - 1) * $1.1 }
            guard tensor.offset >= 0, tensor.strides.allSatisfy({ $0 >= 0 }),
                count == 0 || (last + 1) * tensor.elementType.size <= range.count
            else {
                throw bad(
                    "tensor '\(name)' (\(tensor.shape), strides \(tensor.strides), offset \(tensor.offset)) reaches past its storage of \(range.count) bytes"
                )
            }
            tensors.append(tensor)
        }
        self.tensors = tensors
        self.skipped = skipped
        byName = Dictionary(tensors.enumerated().map { ($1.name, $0) }, uniquingKeysWith: { first, _ in first })
    }

    static func dictionary(_ value: PickleValue) -> PickleDict? {
        switch value {
        case .dict(let d): return d
        case .call(let call) where call.function == "collections.OrderedDict": return call.dictionary
        default: return nil
        }
    }

    /// Storage element types named by the persistent ids (legacy files need
    /// them to size the storages). Iterative, each container once: a hostile
    /// pickle may nest deeply or hold cycles.
    static func collectStorageTypes(_ root: PickleValue, into types: inout [String: ElementType]) {
        var pending = [root]
        var seen = Set<ObjectIdentifier>()
        while let value = pending.popLast() {
            switch value {
            case .persistent(let id):
                if let parts = id.tuple, parts.count >= 5, parts[0].string == "storage",
                    case .global(let name) = parts[1],
                    let key = parts[2].string, let type = storageTypes[name]
                {
                    types[key] = type
                }
            case .call(let call):
                if seen.insert(ObjectIdentifier(call)).inserted {
                    pending += call.arguments + call.dictionary.entries.map(\.value)
                }
            case .dict(let d):
                if seen.insert(ObjectIdentifier(d)).inserted { pending += d.entries.map(\.value) }
            case .list(let l):
                if seen.insert(ObjectIdentifier(l)).inserted { pending += l.items }
            case .tuple(let items):
                pending += items
            default:
                break
            }
        }
    }

    /// A tensor from _rebuild_tensor_v2 (possibly wrapped in _rebuild_parameter); nil for other values.
    static func tensor(_ value: PickleValue, name: String, bad: (String) -> FormatError) throws -> Tensor? {
        guard case .call(let call) = value else { return nil }
        switch call.function {
        case "torch._utils._rebuild_parameter", "torch._utils._rebuild_parameter_with_state":
            guard let inner = call.arguments.first else { return nil }
            return try tensor(inner, name: name, bad: bad)
        case "torch._utils._rebuild_tensor_v2":
            let a = call.arguments
            guard a.count >= 4, case .persistent(let id) = a[0], let parts = id.tuple, parts.count >= 5,
                parts[0].string == "storage",
                case .global(let storageType) = parts[1], let key = parts[2].string,
                let offset = a[1].int, let size = a[2].tuple?.compactMap(\.int),
                let stride = a[3].tuple?.compactMap(\.int),
                size.count == a[2].tuple?.count, stride.count == size.count
            else {
                throw bad("tensor '\(name)' is not a well-formed _rebuild_tensor_v2 call")
            }
            guard let type = storageTypes[storageType] else { return nil }
            // A legacy view (view key, offset, size) shifts the tensor within its root storage.
            var viewOffset: Int64 = 0
            if parts.count >= 6, let view = parts[5].tuple, view.count == 3, let o = view[1].int { viewOffset = o }
            guard size.allSatisfy({ $0 >= 0 && $0 < 1 << 40 }), stride.allSatisfy({ $0 >= 0 && $0 < 1 << 40 }),
                offset >= 0, offset < 1 << 40
            else {
                throw bad("tensor '\(name)' has an impossible size, stride or offset")
            }
            return Tensor(
                name: name, elementType: type, shape: size.map { Int($0) }, strides: stride.map { Int($0) },
                storage: key,
                offset: Int(offset + viewOffset))
        default:
            return nil
        }
    }

    public var tensorNames: [String] { tensors.map(\.name) }
    public func tensor(_ name: String) -> Tensor? { byName[name].map { tensors[$0] } }
    public func shape(of name: String) -> [Int]? { tensor(name)?.shape }

    public func floats(_ name: String) throws -> [Float] {
        guard let t = tensor(name), let range = storages[t.storage] else {
            throw FormatError.malformed(path: path, format: "PyTorch checkpoint", problem: "no tensor '\(name)'")
        }
        let count = t.shape.reduce(1, *)
        // Row-major position i -> storage element, through the strides.
        let contiguous = t.strides == Self.contiguousStrides(t.shape)
        return file.withBytes { raw in
            let base = raw.baseAddress! + range.lowerBound
            if contiguous { return t.elementType.floats(base, count: count, order: { t.offset + $0 }) }
            return t.elementType.floats(
                base, count: count,
                order: { i in
                    var rest = i
                    var index = t.offset
                    for d in stride(from: t.shape.count - 1, through: 0, by: -1) {
                        index += (rest % t.shape[d]) * t.strides[d]
                        rest /= t.shape[d]
                    }
                    return index
                })
        }
    }

    static func contiguousStrides(_ shape: [Int]) -> [Int] {
        var strides = [Int](repeating: 1, count: shape.count)
        for d in stride(from: shape.count - 2, through: 0, by: -1) { strides[d] = strides[d + 1] * shape[d + 1] }
        return strides
    }
}
