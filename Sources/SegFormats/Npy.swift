/// NumPy's `.npy` format, read and written here without Python.
///
/// Layout, field by field (numpy/lib/format.py):
/// - bytes 0-5: magic `\x93NUMPY`
/// - byte 6, 7: format version major, minor (1.0, 2.0 or 3.0)
/// - header length: little-endian UInt16 (v1) or UInt32 (v2, v3)
/// - header: a Python dict literal, ASCII (v1, v2) or UTF-8 (v3), padded with
///   spaces and ending in '\n', with exactly the keys
///   `'descr'` (dtype string such as `'<f4'`), `'fortran_order'` (True/False)
///   and `'shape'` (a tuple of non-negative ints)
/// - payload: the elements, C or Fortran order, exactly prod(shape) * itemsize bytes.
public struct NpyArray: @unchecked Sendable {
    public let path: String
    public let shape: [Int]
    public let elementType: ElementType
    public let fortranOrder: Bool
    public let version: Int
    private let file: MappedFile
    private let dataOffset: Int

    public var count: Int { shape.reduce(1, *) }

    fileprivate init(
        path: String, shape: [Int], elementType: ElementType, fortranOrder: Bool,
        version: Int, file: MappedFile, dataOffset: Int
    ) {
        self.path = path
        self.shape = shape
        self.elementType = elementType
        self.fortranOrder = fortranOrder
        self.version = version
        self.file = file
        self.dataOffset = dataOffset
    }

    /// Maps a C-order element index to its position in storage.
    private func storageIndex() -> (Int) -> Int {
        guard fortranOrder, shape.count > 1 else { return { $0 } }
        let dims = shape
        var fortranStrides = [Int](repeating: 1, count: dims.count)
        for k in 1..<dims.count { fortranStrides[k] = fortranStrides[k - 1] * dims[k - 1] }
        return { cIndex in
            var rest = cIndex
            var offset = 0
            for k in stride(from: dims.count - 1, through: 0, by: -1) {
                offset += (rest % dims[k]) * fortranStrides[k]
                rest /= dims[k]
            }
            return offset
        }
    }

    /// All elements in C order, converted to Float.
    public func floats() -> [Float] {
        let n = count
        let order = storageIndex()
        return file.withBytes { raw in
            elementType.floats(
                raw.baseAddress.map { $0 + dataOffset } ?? UnsafeRawPointer(bitPattern: 1)!,
                count: n, order: order)
        }
    }

    public func doubles() -> [Double] {
        let n = count
        let order = storageIndex()
        let type = elementType
        return file.withBytes { raw in
            guard let base = raw.baseAddress.map({ $0 + dataOffset }) else { return [] }
            return (0..<n).map { type.double(base, order($0)) }
        }
    }

    /// All elements in C order as Int64; only for integer dtypes.
    public func int64s() throws -> [Int64] {
        guard elementType.isInteger else {
            throw FormatError.unsupported(
                path: path, problem: "expected an integer array, found \(elementType.rawValue)")
        }
        let n = count
        let order = storageIndex()
        let type = elementType
        return file.withBytes { raw in
            guard let base = raw.baseAddress.map({ $0 + dataOffset }) else { return [] }
            return (0..<n).map { type.int64(base, order($0)) }
        }
    }

    /// All elements in C order as bytes; only for integer dtypes with values in 0...255.
    public func uint8s() throws -> [UInt8] {
        let values = try int64s()
        if let bad = values.first(where: { $0 < 0 || $0 > 255 }) {
            throw FormatError.unsupported(path: path, problem: "value \(bad) does not fit in 0...255")
        }
        return values.map { UInt8($0) }
    }
}

public enum Npy {
    static let magic: [UInt8] = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]
    public static let maxDimensions = 4
    /// numpy's `max_header_size`: a header of at most 4 dimensions needs a fraction of it, and parsing a
    /// longer one costs memory many times its length.
    public static let maxHeaderLength = 10000

    public static func read(path: String) throws -> NpyArray {
        let file = try MappedFile(path: path)
        func bad(_ problem: String) -> FormatError { .malformed(path: path, format: "npy", problem: problem) }
        let (version, headerText, dataOffset): (Int, String, Int) = try file.withBytes { raw in
            guard raw.count > 0 else { throw FormatError.unreadable(path: path, reason: "empty file (0 bytes)") }
            guard raw.count >= 10 else { throw bad("file is shorter than the npy preamble") }
            guard Array(raw[0..<6]) == magic else { throw bad("bad magic (not an npy file)") }
            let major = Int(raw[6])
            let minor = Int(raw[7])
            guard [1, 2, 3].contains(major), minor == 0 else {
                throw FormatError.unsupported(path: path, problem: "npy format version \(major).\(minor)")
            }
            let lengthBytes = major == 1 ? 2 : 4
            guard raw.count >= 8 + lengthBytes else { throw bad("file ends inside the header length") }
            var headerLength = 0
            for i in 0..<lengthBytes { headerLength |= Int(raw[8 + i]) << (8 * i) }
            let start = 8 + lengthBytes
            guard headerLength <= maxHeaderLength else {
                throw bad("header length \(headerLength) is above numpy's limit of \(maxHeaderLength) bytes")
            }
            guard headerLength <= raw.count - start else {
                throw bad("header length \(headerLength) runs past the end of the file (\(raw.count) bytes)")
            }
            let headerBytes = Array(raw[start..<(start + headerLength)])
            if major < 3, headerBytes.contains(where: { $0 >= 0x80 }) { throw bad("header is not ASCII") }
            guard let text = String(validating: headerBytes, as: UTF8.self) else { throw bad("header is not UTF-8") }
            return (major, text, start + headerLength)
        }
        var parser = HeaderParser(text: headerText)
        let header = try parser.dictionary(bad)
        guard let descr = header.descr, let fortran = header.fortranOrder, let shape = header.shape else {
            throw bad("header must have 'descr', 'fortran_order' and 'shape'")
        }
        let type = try elementType(descr: descr, path: path)
        guard shape.count <= maxDimensions else {
            throw FormatError.unsupported(path: path, problem: "\(shape.count)-D array (at most \(maxDimensions)-D)")
        }
        var count = 1
        for d in shape {
            let (product, overflow) = count.multipliedReportingOverflow(by: d)
            guard !overflow else { throw bad("shape \(shape) overflows") }
            count = product
        }
        let (payload, overflow) = count.multipliedReportingOverflow(by: type.size)
        guard !overflow else { throw bad("shape \(shape) of \(descr) overflows the byte count") }
        guard payload == file.count - dataOffset else {
            throw bad(
                "shape \(shape) of \(descr) needs \(payload) bytes but the payload has \(file.count - dataOffset)")
        }
        return NpyArray(
            path: path, shape: shape, elementType: type, fortranOrder: fortran,
            version: version, file: file, dataOffset: dataOffset)
    }

    static func elementType(descr: String, path: String) throws -> ElementType {
        let types: [String: ElementType] = [
            "f2": .float16, "f4": .float32, "f8": .float64,
            "u1": .uint8, "u2": .uint16, "i4": .int32, "i8": .int64,
        ]
        guard descr.count == 3, let order = descr.first else {
            throw FormatError.unsupported(path: path, problem: "dtype '\(descr)'")
        }
        let code = String(descr.dropFirst())
        guard let type = types[code] else { throw FormatError.unsupported(path: path, problem: "dtype '\(descr)'") }
        switch order {
        case "<", "=": return type
        case "|" where type.size == 1: return type
        case ">" where type.size == 1: return type
        case ">": throw FormatError.unsupported(path: path, problem: "big-endian dtype '\(descr)'")
        default: throw FormatError.unsupported(path: path, problem: "dtype '\(descr)'")
        }
    }

    static func descr(_ type: ElementType) -> String {
        switch type {
        case .float16: return "<f2"
        case .bfloat16: preconditionFailure("npy has no bfloat16 dtype")
        case .float32: return "<f4"
        case .float64: return "<f8"
        case .uint8: return "|u1"
        case .uint16: return "<u2"
        case .int32: return "<i4"
        case .int64: return "<i8"
        }
    }

    /// Encodes values in C order as npy version 1.0 (2.0 if the header needs it).
    public static func encode<T: StorableElement>(_ values: [T], shape: [Int]) -> [UInt8] {
        precondition(shape.reduce(1, *) == values.count, "npy shape \(shape) does not match \(values.count) values")
        let shapeText = shape.count == 1 ? "(\(shape[0]),)" : "(" + shape.map(String.init).joined(separator: ", ") + ")"
        var header = "{'descr': '\(descr(T.elementType))', 'fortran_order': False, 'shape': \(shapeText), }"
        let version = header.utf8.count + 1 + 10 > 65535 ? 2 : 1
        let preamble = version == 1 ? 10 : 12
        // Pad so the payload starts on a 64-byte boundary, as numpy does.
        let total = ((preamble + header.utf8.count + 1 + 63) / 64) * 64
        header += String(repeating: " ", count: total - preamble - header.utf8.count - 1) + "\n"
        var out = magic + [UInt8(version), 0]
        let length = header.utf8.count
        out +=
            version == 1
            ? [UInt8(length & 0xff), UInt8(length >> 8)]
            : (0..<4).map { UInt8((length >> (8 * $0)) & 0xff) }
        out += Array(header.utf8)
        out += values.littleEndianStorage
        return out
    }

    public static func write<T: StorableElement>(_ values: [T], shape: [Int], to path: String) throws {
        try AtomicFile.write(encode(values, shape: shape), to: path)
    }
}

/// Parses the header dict: `{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }`.
private struct HeaderParser {
    struct Header {
        var descr: String?
        var fortranOrder: Bool?
        var shape: [Int]?
    }
    let chars: [Character]
    var i = 0

    init(text: String) { chars = Array(text) }

    mutating func space() { while i < chars.count, chars[i].isWhitespace { i += 1 } }

    mutating func take(_ c: Character) -> Bool {
        space()
        if i < chars.count, chars[i] == c {
            i += 1
            return true
        }
        return false
    }

    mutating func quoted() -> String? {
        space()
        guard i < chars.count, chars[i] == "'" || chars[i] == "\"" else { return nil }
        let quote = chars[i]
        i += 1
        let start = i
        while i < chars.count, chars[i] != quote { i += 1 }
        guard i < chars.count else { return nil }
        defer { i += 1 }
        return String(chars[start..<i])
    }

    mutating func word() -> String {
        space()
        let start = i
        while i < chars.count, chars[i].isLetter || chars[i].isNumber || chars[i] == "_" { i += 1 }
        return String(chars[start..<i])
    }

    mutating func dictionary(_ bad: (String) -> FormatError) throws -> Header {
        var header = Header()
        guard take("{") else { throw bad("header is not a dict") }
        while !take("}") {
            guard let key = quoted() else { throw bad("header dict key expected") }
            guard take(":") else { throw bad("':' expected after '\(key)'") }
            switch key {
            case "descr":
                guard header.descr == nil, let d = quoted() else { throw bad("'descr' must be a dtype string, once") }
                header.descr = d
            case "fortran_order":
                guard header.fortranOrder == nil else { throw bad("'fortran_order' given twice") }
                switch word() {
                case "True": header.fortranOrder = true
                case "False": header.fortranOrder = false
                default: throw bad("'fortran_order' must be True or False")
                }
            case "shape":
                guard header.shape == nil, take("(") else { throw bad("'shape' must be a tuple, once") }
                var dims: [Int] = []
                while !take(")") {
                    guard let d = Int(word()), d >= 0 else { throw bad("'shape' must hold non-negative integers") }
                    dims.append(d)
                    if !take(",") {
                        guard take(")") else { throw bad("malformed 'shape' tuple") }
                        break
                    }
                }
                header.shape = dims
            default:
                throw bad("unexpected header key '\(key)'")
            }
            if !take(",") {
                guard take("}") else { throw bad("',' or '}' expected in header dict") }
                break
            }
        }
        space()
        guard i == chars.count else { throw bad("text after the header dict") }
        return header
    }
}
