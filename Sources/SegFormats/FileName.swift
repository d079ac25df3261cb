/// File names are bytes, paths here are Strings. In a name that is not UTF-8, each byte outside a valid
/// sequence becomes the private-use scalar U+F700 + byte (U+F780...U+F7FF), so that the path opens the
/// same file again (`systemPath`) and prints as `\xNN` (`display`). A valid name holding those scalars
/// itself is read as the bytes they stand for: such names are far rarer than Latin-1 ones.
public enum FileName {
    static let escapeBase: UInt32 = 0xF700
    static let escaped: ClosedRange<UInt32> = 0xF780...0xF7FF

    /// The folder holding `path` ("." for a bare name, "/" for a name at the root). Foundation's
    /// `NSString.deletingLastPathComponent` traps on a one-letter relative name ("d"), so no code
    /// here uses it.
    public static func parent(of path: String) -> String {
        let components = path.split(separator: "/", omittingEmptySubsequences: true)
        let parent = (path.hasPrefix("/") ? "/" : "") + components.dropLast().joined(separator: "/")
        return parent.isEmpty ? "." : parent
    }

    /// A name as read from a directory.
    public static func decode(_ bytes: [UInt8]) -> String {
        if let text = String(validating: bytes, as: UTF8.self) { return text }
        var scalars = String.UnicodeScalarView()
        var i = 0
        while i < bytes.count {
            let lead = bytes[i]
            let length =
                lead < 0x80
                ? 1
                : lead >= 0xC2 && lead <= 0xDF
                    ? 2
                    : lead >= 0xE0 && lead <= 0xEF
                        ? 3
                        : lead >= 0xF0 && lead <= 0xF4 ? 4 : 0
            if length > 0, i + length <= bytes.count,
                let valid = String(validating: bytes[i..<(i + length)], as: UTF8.self)
            {
                scalars.append(contentsOf: valid.unicodeScalars)
                i += length
            } else {
                scalars.append(Unicode.Scalar(escapeBase + UInt32(lead))!)
                i += 1
            }
        }
        return String(scalars)
    }

    /// The bytes to give the system for `path` (NUL-terminated).
    public static func systemPath(_ path: String) -> [CChar] {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(path.utf8.count + 1)
        for scalar in path.unicodeScalars {
            if escaped.contains(scalar.value) {
                bytes.append(UInt8(scalar.value - escapeBase))
            } else {
                bytes.append(contentsOf: String(scalar).utf8)
            }
        }
        bytes.append(0)
        return bytes.map { CChar(bitPattern: $0) }
    }

    /// `path` for messages: each byte that is not UTF-8 as `\xNN`.
    public static func display(_ path: String) -> String {
        guard path.unicodeScalars.contains(where: { escaped.contains($0.value) }) else { return path }
        var text = ""
        for scalar in path.unicodeScalars {
            if escaped.contains(scalar.value) {
                let byte = scalar.value - escapeBase
                text += "\\x" + String(byte, radix: 16, uppercase: true)
            } else {
                text.unicodeScalars.append(scalar)
            }
        }
        return text
    }
}
