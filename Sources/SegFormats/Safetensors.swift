/// The safetensors format (huggingface/safetensors), read through a memory map.
///
/// Layout, field by field:
/// - bytes 0-7: N, the header length, little-endian UInt64 (capped here at 100 MB)
/// - bytes 8..<8+N: a UTF-8 JSON object (may be padded with trailing spaces):
///   - `"__metadata__"` (optional): an object of string to string
///   - every other key names a tensor: `{"dtype": "F32", "shape": [2, 3],
///     "data_offsets": [begin, end]}`, offsets relative to the byte buffer
/// - byte buffer: from 8+N to the end of the file; the tensors' ranges must not
///   overlap and must cover it exactly, and end - begin = prod(shape) * itemsize.
public struct SafetensorsFile: @unchecked Sendable {
    public struct Tensor: Sendable, Equatable {
        public let name: String
        public let elementType: ElementType
        public let shape: [Int]
        /// Byte range within the data buffer.
        public let begin: Int, end: Int
        public var count: Int { shape.reduce(1, *) }
    }

    public static let maxHeaderLength = 100_000_000
    public let path: String
    public let metadata: [String: String]
    /// Tensors in header order.
    public let tensors: [Tensor]
    private let byName: [String: Int]
    private let file: MappedFile
    private let dataStart: Int

    static let dtypes: [String: ElementType] = [
        "F32": .float32, "F16": .float16, "BF16": .bfloat16, "F64": .float64,
        "I64": .int64, "I32": .int32, "U8": .uint8, "U16": .uint16,
    ]

    public init(path: String) throws {
        self.path = path
        file = try MappedFile(path: path)
        func bad(_ problem: String) -> FormatError { .malformed(path: path, format: "safetensors", problem: problem) }
        let fileSize = file.count
        let (header, start): (JSONValue, Int) = try file.withBytes { raw in
            guard raw.count > 0 else { throw FormatError.unreadable(path: path, reason: "empty file (0 bytes)") }
            guard raw.count >= 8 else { throw bad("file is shorter than the 8-byte header length") }
            var length: UInt64 = 0
            for i in 0..<8 { length |= UInt64(raw[i]) << (8 * UInt64(i)) }
            guard length <= UInt64(SafetensorsFile.maxHeaderLength) else {
                throw bad("header length \(length) is above the 100 MB cap")
            }
            guard Int(length) <= raw.count - 8 else {
                throw bad("header length \(length) runs past the end of the file (\(raw.count) bytes)")
            }
            do {
                let json = try JSON.parse(UnsafeRawBufferPointer(rebasing: raw[8..<(8 + Int(length))]))
                return (json, 8 + Int(length))
            } catch {
                throw bad("header JSON: \(error)")
            }
        }
        dataStart = start
        guard let members = header.object else { throw bad("header is not a JSON object") }
        var metadata: [String: String] = [:]
        var tensors: [Tensor] = []
        for (name, entry) in members {
            if name == "__metadata__" {
                guard let pairs = entry.object else { throw bad("__metadata__ is not an object") }
                for (key, value) in pairs {
                    guard let s = value.string else { throw bad("__metadata__ value for '\(key)' is not a string") }
                    metadata[key] = s
                }
                continue
            }
            guard let dtypeName = entry["dtype"]?.string else { throw bad("tensor '\(name)' has no dtype") }
            guard let type = SafetensorsFile.dtypes[dtypeName] else {
                throw FormatError.unsupported(path: path, problem: "tensor '\(name)' has dtype \(dtypeName)")
            }
            guard let dims = entry["shape"]?.array, let shape = Optional(dims.compactMap(\.count)),
                shape.count == dims.count
            else { throw bad("tensor '\(name)' has a malformed shape") }
            guard let offsets = entry["data_offsets"]?.array, offsets.count == 2,
                let begin = offsets[0].count, let end = offsets[1].count, begin <= end
            else {
                throw bad("tensor '\(name)' has malformed data_offsets")
            }
            var count = 1
            for d in shape {
                let (p, o) = count.multipliedReportingOverflow(by: d)
                guard !o else { throw bad("tensor '\(name)' shape overflows") }
                count = p
            }
            guard end - begin == count * type.size else {
                throw bad(
                    "tensor '\(name)' spans \(end - begin) bytes but \(dtypeName) \(shape) needs \(count * type.size)")
            }
            tensors.append(Tensor(name: name, elementType: type, shape: shape, begin: begin, end: end))
        }
        let bufferLength = fileSize - start
        var position = 0
        for t in tensors.sorted(by: { ($0.begin, $0.end) < ($1.begin, $1.end) }) {
            guard t.end <= bufferLength else {
                throw bad("tensor '\(t.name)' ends at byte \(t.end), past the data buffer (\(bufferLength) bytes)")
            }
            guard t.begin == position else {
                throw bad(
                    t.begin < position
                        ? "tensor '\(t.name)' overlaps another tensor"
                        : "gap in the data buffer before tensor '\(t.name)'")
            }
            position = t.end
        }
        guard position == bufferLength else {
            throw bad("data buffer has \(bufferLength - position) bytes that no tensor covers")
        }
        self.metadata = metadata
        self.tensors = tensors
        byName = Dictionary(uniqueKeysWithValues: tensors.enumerated().map { ($1.name, $0) })
    }

    public func tensor(_ name: String) -> Tensor? { byName[name].map { tensors[$0] } }

    /// The tensor's elements converted to Float, in stored (row-major) order.
    public func floats(_ name: String) throws -> [Float] {
        guard let t = tensor(name) else {
            throw FormatError.malformed(path: path, format: "safetensors", problem: "no tensor '\(name)'")
        }
        return file.withBytes { raw in
            t.elementType.floats(raw.baseAddress! + dataStart + t.begin, count: t.count, order: { $0 })
        }
    }

    /// The tensor's elements as Double (exact for float64, so a training
    /// state read back is bit-identical to the one written).
    public func doubles(_ name: String) throws -> [Double] {
        guard let t = tensor(name) else {
            throw FormatError.malformed(path: path, format: "safetensors", problem: "no tensor '\(name)'")
        }
        return file.withBytes { raw in
            (0..<t.count).map { t.elementType.double(raw.baseAddress! + dataStart + t.begin, $0) }
        }
    }

    public func int64s(_ name: String) throws -> [Int64] {
        guard let t = tensor(name) else {
            throw FormatError.malformed(path: path, format: "safetensors", problem: "no tensor '\(name)'")
        }
        guard t.elementType.isInteger else {
            throw FormatError.unsupported(
                path: path, problem: "tensor '\(name)' is \(t.elementType.rawValue), not integer")
        }
        return file.withBytes { raw in
            (0..<t.count).map { t.elementType.int64(raw.baseAddress! + dataStart + t.begin, $0) }
        }
    }
}

/// Collects tensors and writes one safetensors file atomically, in the layout
/// described on `SafetensorsFile` (header padded with spaces to 8 bytes so the
/// data buffer stays aligned).
public struct SafetensorsWriter {
    private var entries: [(name: String, type: ElementType, shape: [Int], bytes: [UInt8])] = []
    public var metadata: [String: String] = [:]

    public init(metadata: [String: String] = [:]) { self.metadata = metadata }

    public mutating func add<T: StorableElement>(_ name: String, _ values: [T], shape: [Int]) {
        precondition(
            shape.reduce(1, *) == values.count, "tensor \(name): shape \(shape) does not match \(values.count) values")
        precondition(!entries.contains { $0.name == name }, "tensor \(name) added twice")
        entries.append((name, T.elementType, shape, values.littleEndianStorage))
    }

    public func encode() -> [UInt8] {
        let code = Dictionary(uniqueKeysWithValues: SafetensorsFile.dtypes.map { ($1, $0) })
        var members: [(String, JSONValue)] = []
        if !metadata.isEmpty {
            members.append(
                ("__metadata__", .object(metadata.sorted { $0.key < $1.key }.map { ($0.key, .string($0.value)) })))
        }
        var offset = 0
        for e in entries {
            members.append(
                (
                    e.name,
                    .object([
                        ("dtype", .string(code[e.type]!)),
                        ("shape", .array(e.shape.map { .number(Double($0)) })),
                        ("data_offsets", .array([.number(Double(offset)), .number(Double(offset + e.bytes.count))])),
                    ])
                ))
            offset += e.bytes.count
        }
        var header = Array(JSONValue.object(members).serialized.utf8)
        while header.count % 8 != 0 { header.append(0x20) }
        var out = (0..<8).map { UInt8((UInt64(header.count) >> (8 * UInt64($0))) & 0xff) }
        out.reserveCapacity(8 + header.count + offset)
        out += header
        for e in entries { out += e.bytes }
        return out
    }

    public func write(to path: String) throws {
        try AtomicFile.write(encode(), to: path)
    }
}
