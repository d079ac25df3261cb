/// An 8-bit sRGB colour, as stored in PNG palettes, label tables and themes.
public struct RGB: Hashable, Sendable, CustomStringConvertible {
    public var r: UInt8, g: UInt8, b: UInt8

    public init(_ r: UInt8, _ g: UInt8, _ b: UInt8) {
        self.r = r
        self.g = g
        self.b = b
    }

    /// Parses `#rrggbb` (the form themes use); nil for anything else.
    public init?(hex: String) {
        let digits = hex.hasPrefix("#") ? hex.dropFirst() : Substring(hex)
        guard digits.count == 6, let value = UInt32(digits, radix: 16) else { return nil }
        self.init(UInt8(value >> 16), UInt8((value >> 8) & 0xff), UInt8(value & 0xff))
    }

    public var hex: String {
        let digits = "0123456789abcdef"
        func pair(_ v: UInt8) -> String {
            let d = Array(digits)
            return String([d[Int(v >> 4)], d[Int(v & 15)]])
        }
        return "#" + pair(r) + pair(g) + pair(b)
    }

    public var description: String { hex }

    /// 24-bit key used for exact colour matching (colour-encoded label images).
    public var packed: UInt32 { UInt32(r) << 16 | UInt32(g) << 8 | UInt32(b) }
}
