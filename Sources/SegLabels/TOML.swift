import SegFormats

/// TOML as people write themes and manifests, parsed here in Swift: a
/// malformed file is a located error, never a crash (the C++ parser this
/// replaces aborted on inputs such as "[\n"). Supported: comments; bare,
/// quoted and dotted keys; [tables] and [[arrays of tables]]; basic, literal
/// and multi-line strings with TOML's escapes; integers (decimal, 0x, 0o, 0b,
/// underscores); floats (exponents, inf, nan); booleans; arrays; inline
/// tables. Dates and times are refused (no segscope file uses them).
/// Integers and floats both become JSON numbers; tables keep their order.
public enum TOML {
    public struct ParseError: Error, CustomStringConvertible, Equatable {
        public let line: Int, column: Int, message: String
        public var description: String { "line \(line), column \(column): \(message)" }
    }

    /// Arrays and inline tables nest at most this deep (a hostile file
    /// cannot exhaust the stack).
    public static let maxNesting = 64

    public static func parse(_ text: String) throws -> JSONValue {
        var parser = Parser(bytes: Array(text.utf8))
        return try parser.document()
    }

    /// A table under construction: values, sub-tables and arrays of tables,
    /// with what TOML forbids redefining.
    final class Table {
        enum Entry {
            case value(JSONValue)
            case table(Table)
            case tables([Table])
        }
        var entries: [(String, Entry)] = []
        /// Defined by a [header] (a second header for it is an error).
        var defined = false
        /// Made by dotted keys (a [header] may not define it afterwards).
        var dotted = false

        func index(_ key: String) -> Int? { entries.firstIndex { $0.0 == key } }

        var json: JSONValue {
            .object(
                entries.map { key, entry in
                    switch entry {
                    case .value(let v): return (key, v)
                    case .table(let t): return (key, t.json)
                    case .tables(let ts): return (key, .array(ts.map(\.json)))
                    }
                })
        }
    }

    struct Parser {
        let bytes: [UInt8]
        var position = 0

        init(bytes: [UInt8]) { self.bytes = bytes }

        var peek: UInt8? { position < bytes.count ? bytes[position] : nil }
        func peek(_ offset: Int) -> UInt8? { position + offset < bytes.count ? bytes[position + offset] : nil }

        func fail(_ message: String) -> ParseError {
            var line = 1
            var column = 1
            for b in bytes[..<min(position, bytes.count)] {
                if b == 0x0a {
                    line += 1
                    column = 1
                } else if b & 0xc0 != 0x80 {
                    column += 1
                }
            }
            return ParseError(line: line, column: column, message: message)
        }

        mutating func skipSpaces() { while let b = peek, b == 0x20 || b == 0x09 { position += 1 } }

        mutating func skipComment() throws {
            guard peek == UInt8(ascii: "#") else { return }
            while let b = peek, b != 0x0a {
                if b == 0x0d && peek(1) == 0x0a { return }
                if (b < 0x20 && b != 0x09) || b == 0x7f { throw fail("control character in a comment") }
                position += 1
            }
        }

        /// Spaces, a comment, then the end of the line (or of the file).
        mutating func endOfLine() throws {
            skipSpaces()
            try skipComment()
            if peek == 0x0d && peek(1) == 0x0a {
                position += 2
                return
            }
            if peek == 0x0a {
                position += 1
                return
            }
            if peek != nil {
                throw fail("expected the end of the line, found '\(String(decoding: [peek!], as: UTF8.self))'")
            }
        }

        /// Blank lines, comments and spaces (inside arrays, where newlines are free).
        mutating func skipBlank() throws {
            while true {
                skipSpaces()
                try skipComment()
                if peek == 0x0a {
                    position += 1
                } else if peek == 0x0d && peek(1) == 0x0a {
                    position += 2
                } else {
                    return
                }
            }
        }

        mutating func document() throws -> JSONValue {
            let root = Table()
            var current = root
            while true {
                try skipBlank()
                guard let b = peek else { break }
                if b == UInt8(ascii: "[") {
                    let array = peek(1) == UInt8(ascii: "[")
                    position += array ? 2 : 1
                    skipSpaces()
                    let path = try keyPath()
                    skipSpaces()
                    guard peek == UInt8(ascii: "]"), !array || peek(1) == UInt8(ascii: "]") else {
                        throw fail(array ? "expected ']]'" : "expected ']'")
                    }
                    position += array ? 2 : 1
                    try endOfLine()
                    current = try header(path, in: root, array: array)
                } else {
                    try keyValue(into: current)
                    try endOfLine()
                }
            }
            return root.json
        }

        /// The table a [header] or [[header]] names, made as TOML's rules allow.
        func header(_ path: [String], in root: Table, array: Bool) throws -> Table {
            var table = root
            for key in path.dropLast() {
                if let i = table.index(key) {
                    switch table.entries[i].1 {
                    case .table(let t): table = t
                    case .tables(let ts): table = ts.last!
                    case .value: throw fail("'\(key)' is a value, not a table")
                    }
                } else {
                    let t = Table()
                    table.entries.append((key, .table(t)))
                    table = t
                }
            }
            let last = path.last!
            let fresh = Table()
            fresh.defined = true
            if let i = table.index(last) {
                switch table.entries[i].1 {
                case .tables(let ts) where array:
                    table.entries[i].1 = .tables(ts + [fresh])
                    return fresh
                case .table(let t) where !array && !t.defined && !t.dotted:
                    t.defined = true
                    return t
                default:
                    throw fail("'\(path.joined(separator: "."))' is defined twice")
                }
            }
            table.entries.append((last, array ? .tables([fresh]) : .table(fresh)))
            return fresh
        }

        mutating func keyValue(into table: Table) throws {
            let path = try keyPath()
            skipSpaces()
            guard peek == UInt8(ascii: "=") else { throw fail("expected '=' after the key") }
            position += 1
            skipSpaces()
            let value = try self.value(depth: 0)
            var target = table
            for key in path.dropLast() {
                if let i = target.index(key) {
                    guard case .table(let t) = target.entries[i].1, t.dotted || !t.defined else {
                        throw fail("'\(key)' cannot be extended with a dotted key")
                    }
                    target = t
                } else {
                    let t = Table()
                    t.dotted = true
                    target.entries.append((key, .table(t)))
                    target = t
                }
            }
            guard target.index(path.last!) == nil else {
                throw fail("'\(path.joined(separator: "."))' is defined twice")
            }
            target.entries.append((path.last!, .value(value)))
        }

        mutating func keyPath() throws -> [String] {
            var keys = [try key()]
            while true {
                skipSpaces()
                guard peek == UInt8(ascii: ".") else { return keys }
                position += 1
                skipSpaces()
                keys.append(try key())
            }
        }

        mutating func key() throws -> String {
            if peek == UInt8(ascii: "\"") { return try basicString() }
            if peek == UInt8(ascii: "'") { return try literalString() }
            let start = position
            while let b = peek,
                (b >= 0x41 && b <= 0x5a) || (b >= 0x61 && b <= 0x7a) || (b >= 0x30 && b <= 0x39) || b == 0x5f
                    || b == 0x2d
            { position += 1 }
            guard position > start else { throw fail("expected a key") }
            return String(decoding: bytes[start..<position], as: UTF8.self)
        }

        mutating func value(depth: Int) throws -> JSONValue {
            guard depth < TOML.maxNesting else {
                throw fail("arrays or inline tables nested deeper than \(TOML.maxNesting)")
            }
            guard let b = peek else { throw fail("expected a value") }
            switch b {
            case UInt8(ascii: "\""):
                return .string(peek(1) == b && peek(2) == b ? try multilineString(literal: false) : try basicString())
            case UInt8(ascii: "'"):
                return .string(peek(1) == b && peek(2) == b ? try multilineString(literal: true) : try literalString())
            case UInt8(ascii: "["):
                position += 1
                var items: [JSONValue] = []
                while true {
                    try skipBlank()
                    if peek == UInt8(ascii: "]") {
                        position += 1
                        return .array(items)
                    }
                    items.append(try value(depth: depth + 1))
                    try skipBlank()
                    if peek == UInt8(ascii: ",") {
                        position += 1
                        continue
                    }
                    guard peek == UInt8(ascii: "]") else { throw fail("expected ',' or ']' in an array") }
                }
            case UInt8(ascii: "{"):
                position += 1
                let table = Table()
                skipSpaces()
                if peek == UInt8(ascii: "}") {
                    position += 1
                    return table.json
                }
                while true {
                    skipSpaces()
                    try keyValue(into: table)
                    skipSpaces()
                    if peek == UInt8(ascii: ",") {
                        position += 1
                        continue
                    }
                    guard peek == UInt8(ascii: "}") else { throw fail("expected ',' or '}' in an inline table") }
                    position += 1
                    return table.json
                }
            default:
                return try scalar()
            }
        }

        /// true, false, integers and floats; dates are refused.
        mutating func scalar() throws -> JSONValue {
            let start = position
            while let b = peek,
                !(b == 0x20 || b == 0x09 || b == 0x0a || b == 0x0d || b == UInt8(ascii: ",") || b == UInt8(ascii: "]")
                    || b == UInt8(ascii: "}") || b == UInt8(ascii: "#"))
            { position += 1 }
            let word = String(decoding: bytes[start..<position], as: UTF8.self)
            switch word {
            case "true": return .bool(true)
            case "false": return .bool(false)
            case "inf", "+inf": return .number(.infinity)
            case "-inf": return .number(-.infinity)
            case "nan", "+nan", "-nan": return .number(.nan)
            default: break
            }
            if word.count >= 5, word.dropFirst(4).first == "-" || word.contains(":") {
                position = start
                throw fail("dates and times are not used in segscope files")
            }
            let unsigned = word.hasPrefix("+") || word.hasPrefix("-") ? word.dropFirst() : Substring(word)
            let negative = word.hasPrefix("-")
            for (prefix, radix) in [("0x", 16), ("0o", 8), ("0b", 2)] where unsigned.hasPrefix(prefix) {
                let digits = unsigned.dropFirst(2)
                guard word.first != "+" && !negative, validUnderscores(digits),
                    let v = Int64(digits.replacingOccurrences(of: "_", with: ""), radix: radix)
                else {
                    position = start
                    throw fail("invalid number '\(word)'")
                }
                return .number(Double(v))
            }
            let isFloat = unsigned.contains(where: { $0 == "." || $0 == "e" || $0 == "E" })
            let digits = unsigned.replacingOccurrences(of: "_", with: "")
            // No leading zeros, digits on both sides of '.', underscores only between digits.
            let valid =
                validUnderscores(unsigned) && !digits.isEmpty && digits.first!.isASCII && digits.first!.isNumber
                && !(digits.count > 1 && digits.hasPrefix("0") && !digits.hasPrefix("0.") && !digits.hasPrefix("0e")
                    && !digits.hasPrefix("0E"))
                && !digits.contains(".e") && !digits.contains(".E") && !digits.hasSuffix(".")
                && digits.allSatisfy { $0.isASCII && ($0.isNumber || ".eE+-".contains($0)) }
            guard valid, let v = isFloat ? Double(digits) : Int64(digits).map(Double.init) else {
                position = start
                throw fail(word.isEmpty ? "expected a value" : "invalid value '\(word)'")
            }
            return .number(negative ? -v : v)
        }

        func validUnderscores<S: StringProtocol>(_ text: S) -> Bool {
            let characters = Array(text)
            for (i, c) in characters.enumerated() where c == "_" {
                guard i > 0, i + 1 < characters.count, characters[i - 1].isHexDigit, characters[i + 1].isHexDigit else {
                    return false
                }
            }
            return true
        }

        mutating func literalString() throws -> String {
            position += 1
            let start = position
            while let b = peek, b != UInt8(ascii: "'") {
                guard b != 0x0a && b != 0x0d && (b >= 0x20 || b == 0x09) && b != 0x7f else {
                    throw fail("control character or newline in a string")
                }
                position += 1
            }
            guard peek != nil else { throw fail("unterminated string") }
            defer { position += 1 }
            return String(decoding: bytes[start..<position], as: UTF8.self)
        }

        mutating func basicString() throws -> String {
            position += 1
            var out: [UInt8] = []
            while true {
                guard let b = peek else { throw fail("unterminated string") }
                if b == UInt8(ascii: "\"") {
                    position += 1
                    return String(decoding: out, as: UTF8.self)
                }
                guard b != 0x0a && b != 0x0d && (b >= 0x20 || b == 0x09) && b != 0x7f else {
                    throw fail("control character or newline in a string")
                }
                if b == UInt8(ascii: "\\") {
                    out += try escape()
                } else {
                    out.append(b)
                    position += 1
                }
            }
        }

        mutating func escape() throws -> [UInt8] {
            position += 1
            guard let e = peek else { throw fail("unterminated escape") }
            position += 1
            switch e {
            case UInt8(ascii: "b"): return [0x08]
            case UInt8(ascii: "t"): return [0x09]
            case UInt8(ascii: "n"): return [0x0a]
            case UInt8(ascii: "f"): return [0x0c]
            case UInt8(ascii: "r"): return [0x0d]
            case UInt8(ascii: "\""): return [0x22]
            case UInt8(ascii: "\\"): return [0x5c]
            case UInt8(ascii: "u"), UInt8(ascii: "U"):
                let n = e == UInt8(ascii: "u") ? 4 : 8
                guard position + n <= bytes.count,
                    let v = UInt32(String(decoding: bytes[position..<(position + n)], as: UTF8.self), radix: 16),
                    let scalar = Unicode.Scalar(v)
                else { throw fail("invalid \\\(e == UInt8(ascii: "u") ? "u" : "U") escape") }
                position += n
                return Array(String(Character(scalar)).utf8)
            default:
                throw fail("invalid escape '\\\(String(decoding: [e], as: UTF8.self))'")
            }
        }

        mutating func multilineString(literal: Bool) throws -> String {
            let quote = literal ? UInt8(ascii: "'") : UInt8(ascii: "\"")
            position += 3
            if peek == 0x0a { position += 1 } else if peek == 0x0d && peek(1) == 0x0a { position += 2 }
            var out: [UInt8] = []
            while true {
                guard let b = peek else { throw fail("unterminated multi-line string") }
                if b == quote && peek(1) == quote && peek(2) == quote {
                    // Up to two more quotes belong to the string.
                    var extra = 0
                    while extra < 2 && peek(3 + extra) == quote { extra += 1 }
                    out += [UInt8](repeating: quote, count: extra)
                    position += 3 + extra
                    return String(decoding: out, as: UTF8.self)
                }
                if !literal && b == UInt8(ascii: "\\") {
                    // A line-ending backslash trims the newline and the white space after it.
                    var look = position + 1
                    while look < bytes.count, bytes[look] == 0x20 || bytes[look] == 0x09 { look += 1 }
                    if look < bytes.count, bytes[look] == 0x0a || bytes[look] == 0x0d {
                        position = look
                        while let w = peek, w == 0x20 || w == 0x09 || w == 0x0a || w == 0x0d { position += 1 }
                        continue
                    }
                    out += try escape()
                    continue
                }
                guard b >= 0x20 || b == 0x09 || b == 0x0a || (b == 0x0d && peek(1) == 0x0a), b != 0x7f else {
                    throw fail("control character in a string")
                }
                out.append(b)
                position += 1
            }
        }
    }
}
