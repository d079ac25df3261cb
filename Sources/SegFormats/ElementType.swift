/// The element types segscope reads from npy and safetensors files, all
/// little-endian. Conversion to Float/Double/Int64 happens on request, so a
/// float16 weights file and a float32 one load through the same code.
public enum ElementType: String, Sendable, CaseIterable {
    case float16, bfloat16, float32, float64, uint8, uint16, int32, int64

    public var size: Int {
        switch self {
        case .uint8: return 1
        case .float16, .bfloat16, .uint16: return 2
        case .float32, .int32: return 4
        case .float64, .int64: return 8
        }
    }

    public var isInteger: Bool {
        switch self {
        case .uint8, .uint16, .int32, .int64: return true
        default: return false
        }
    }

    /// Reads element `index` from little-endian storage as a Double (exact for
    /// every type here except int64 beyond 2^53).
    @inline(__always)
    func double(_ raw: UnsafeRawPointer, _ index: Int) -> Double {
        switch self {
        case .uint8: return Double(raw.load(fromByteOffset: index, as: UInt8.self))
        case .uint16: return Double(UInt16(littleEndian: raw.loadUnaligned(fromByteOffset: 2 * index, as: UInt16.self)))
        case .int32: return Double(Int32(littleEndian: raw.loadUnaligned(fromByteOffset: 4 * index, as: Int32.self)))
        case .int64: return Double(Int64(littleEndian: raw.loadUnaligned(fromByteOffset: 8 * index, as: Int64.self)))
        case .float16:
            return Double(
                Float16(bitPattern: UInt16(littleEndian: raw.loadUnaligned(fromByteOffset: 2 * index, as: UInt16.self)))
            )
        case .bfloat16:
            let bits = UInt32(UInt16(littleEndian: raw.loadUnaligned(fromByteOffset: 2 * index, as: UInt16.self))) << 16
            return Double(Float(bitPattern: bits))
        case .float32:
            return Double(
                Float(bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: 4 * index, as: UInt32.self))))
        case .float64:
            return Double(
                bitPattern: UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: 8 * index, as: UInt64.self)))
        }
    }

    @inline(__always)
    func int64(_ raw: UnsafeRawPointer, _ index: Int) -> Int64 {
        switch self {
        case .int64: return Int64(littleEndian: raw.loadUnaligned(fromByteOffset: 8 * index, as: Int64.self))
        default: return Int64(double(raw, index))
        }
    }

    /// Converts `count` elements to Float in the element order given by `index(i)`.
    func floats(_ raw: UnsafeRawPointer, count: Int, order: (Int) -> Int) -> [Float] {
        if self == .float32 {
            return [Float](unsafeUninitializedCapacity: count) { out, n in
                for i in 0..<count {
                    out[i] = Float(
                        bitPattern: UInt32(
                            littleEndian: raw.loadUnaligned(fromByteOffset: 4 * order(i), as: UInt32.self)))
                }
                n = count
            }
        }
        return [Float](unsafeUninitializedCapacity: count) { out, n in
            for i in 0..<count { out[i] = Float(double(raw, order(i))) }
            n = count
        }
    }
}

/// A value type that can be written to npy/safetensors as little-endian bytes.
public protocol StorableElement: Sendable {
    static var elementType: ElementType { get }
    var littleEndianBytes: [UInt8] { get }
}

extension Float: StorableElement {
    public static var elementType: ElementType { .float32 }
    public var littleEndianBytes: [UInt8] { withUnsafeBytes(of: bitPattern.littleEndian) { Array($0) } }
}
extension Double: StorableElement {
    public static var elementType: ElementType { .float64 }
    public var littleEndianBytes: [UInt8] { withUnsafeBytes(of: bitPattern.littleEndian) { Array($0) } }
}
extension Float16: StorableElement {
    public static var elementType: ElementType { .float16 }
    public var littleEndianBytes: [UInt8] { withUnsafeBytes(of: bitPattern.littleEndian) { Array($0) } }
}
extension UInt8: StorableElement {
    public static var elementType: ElementType { .uint8 }
    public var littleEndianBytes: [UInt8] { [self] }
}
extension UInt16: StorableElement {
    public static var elementType: ElementType { .uint16 }
    public var littleEndianBytes: [UInt8] { withUnsafeBytes(of: littleEndian) { Array($0) } }
}
extension Int32: StorableElement {
    public static var elementType: ElementType { .int32 }
    public var littleEndianBytes: [UInt8] { withUnsafeBytes(of: littleEndian) { Array($0) } }
}
extension Int64: StorableElement {
    public static var elementType: ElementType { .int64 }
    public var littleEndianBytes: [UInt8] { withUnsafeBytes(of: littleEndian) { Array($0) } }
}

extension Array where Element: StorableElement {
    /// The elements as little-endian bytes (a plain copy on little-endian hosts).
    public var littleEndianStorage: [UInt8] {
        #if _endian(little)
            return withUnsafeBytes { [UInt8]($0) }
        #else
            return flatMap { $0.littleEndianBytes }
        #endif
    }
}
