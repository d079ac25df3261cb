/// A pickle reader that interprets the opcodes itself and never executes
/// anything: a global (module.name) is only a name, and "calling" one
/// (REDUCE, NEWOBJ, BUILD) makes an inert `.call` value recording the name
/// and arguments. PyTorch checkpoints are read by recognising a few such
/// names afterwards (PyTorchCheckpoint). Protocols 0-5 as far as
/// `torch.save` and Python's pickler use them for these files.
public indirect enum PickleValue: Sendable {
    case none
    case bool(Bool)
    case int(Int64)
    /// An integer wider than 64 bits, as little-endian two's-complement bytes
    /// (torch's legacy magic number is one).
    case bigInt([UInt8])
    case float(Double)
    case string(String)
    case bytes([UInt8])
    case list(PickleList)
    case tuple([PickleValue])
    case dict(PickleDict)
    /// `module.name`, as GLOBAL / STACK_GLOBAL name it.
    case global(String)
    /// A global applied to arguments (REDUCE / NEWOBJ), with BUILD state if any.
    case call(PickleCall)
    /// A persistent id (BINPERSID / PERSID): how torch.save refers to storages.
    case persistent(PickleValue)

    public var string: String? {
        if case .string(let s) = self { return s }
        return nil
    }
    public var int: Int64? {
        if case .int(let i) = self { return i }
        if case .bool(let b) = self { return b ? 1 : 0 }
        return nil
    }
    public var tuple: [PickleValue]? {
        switch self {
        case .tuple(let items): return items
        case .list(let list): return list.items
        default: return nil
        }
    }
}

/// Lists and dicts are references in a pickle: a memoised list that later
/// APPENDs extend is the same object wherever it is fetched again. A hostile
/// pickle can so make a list that holds itself; the arena that made the
/// containers empties them all when it goes, so such cycles never leak.
public final class PickleArena {
    var containers: [AnyObject] = []
    public init() {}

    func register<T: AnyObject>(_ object: T) -> T {
        containers.append(object)
        return object
    }

    deinit {
        for object in containers {
            if let list = object as? PickleList { list.items = [] }
            if let dict = object as? PickleDict { dict.entries = [] }
            if let call = object as? PickleCall {
                call.arguments = []
                call.state = nil
                call.dictionary.entries = []
            }
        }
    }
}

public final class PickleList: @unchecked Sendable {
    public var items: [PickleValue] = []
}

public final class PickleDict: @unchecked Sendable {
    /// Insertion order, as Python keeps it.
    public var entries: [(key: PickleValue, value: PickleValue)] = []
    public func value(_ key: String) -> PickleValue? { entries.first { $0.key.string == key }?.value }
}

public final class PickleCall: @unchecked Sendable {
    public let function: String
    public internal(set) var arguments: [PickleValue]
    public var state: PickleValue?
    /// Items set on the result (an OrderedDict made by REDUCE, then SETITEMS).
    public let dictionary = PickleDict()
    init(function: String, arguments: [PickleValue]) { (self.function, self.arguments) = (function, arguments) }
}

public struct PickleError: Error, CustomStringConvertible, Equatable {
    public let description: String
}

public enum Pickle {
    /// Limits that keep a hostile file from exhausting memory or time.
    public static let maxStack = 1 << 20, maxMemo = 1 << 22, maxNesting = 10_000

    /// Parses one pickle starting at `offset`; returns its value and the
    /// offset after STOP. Its lists, dicts and calls live in `arena`: use
    /// the value while the arena lives.
    public static func parse(_ bytes: UnsafeRawBufferPointer, offset start: Int = 0, arena: PickleArena) throws -> (
        value: PickleValue, end: Int
    ) {
        var reader = Reader(bytes: bytes, position: start)
        var stack: [PickleValue] = []
        var marks: [Int] = []
        var memo: [Int: PickleValue] = [:]
        func fail(_ problem: String) -> PickleError {
            PickleError(description: "pickle at byte \(reader.position): \(problem)")
        }
        func pop() throws -> PickleValue {
            guard let v = stack.popLast() else { throw fail("stack underflow") }
            return v
        }
        func popMark() throws -> [PickleValue] {
            guard let mark = marks.popLast(), mark <= stack.count else { throw fail("no MARK") }
            defer { stack.removeSubrange(mark...) }
            return Array(stack[mark...])
        }
        func push(_ v: PickleValue) throws {
            guard stack.count < maxStack else { throw fail("stack deeper than \(maxStack)") }
            stack.append(v)
        }
        func memoize(_ index: Int) throws {
            guard let top = stack.last else { throw fail("memoize on an empty stack") }
            guard index >= 0, memo.count < maxMemo else { throw fail("memo index \(index) out of range") }
            memo[index] = top
        }
        func fetch(_ index: Int) throws -> PickleValue {
            guard let v = memo[index] else { throw fail("memo index \(index) was never stored") }
            return v
        }
        func setItems(_ target: PickleValue, _ pairs: [PickleValue]) throws {
            guard pairs.count % 2 == 0 else { throw fail("odd number of dict items") }
            let dict: PickleDict
            switch target {
            case .dict(let d): dict = d
            case .call(let c): dict = c.dictionary
            default: throw fail("SETITEM on a value that is not a dict")
            }
            for i in stride(from: 0, to: pairs.count, by: 2) { dict.entries.append((pairs[i], pairs[i + 1])) }
        }
        func append(_ target: PickleValue, _ items: [PickleValue]) throws {
            guard case .list(let list) = target else {
                // Appending to a reconstructed object: inert, recorded nowhere.
                if case .call = target { return }
                throw fail("APPEND on a value that is not a list")
            }
            list.items += items
        }
        while true {
            let opcode = try reader.byte()
            switch opcode {
            case 0x80: _ = try reader.byte()  // PROTO
            case 0x95: _ = try reader.bytes(8)  // FRAME (sizes only)
            case 0x2e:  // STOP
                guard stack.count == 1 else { throw fail("STOP with \(stack.count) values on the stack") }
                return (stack[0], reader.position)
            case 0x28:  // MARK
                guard marks.count < maxNesting else { throw fail("more than \(maxNesting) nested marks") }
                marks.append(stack.count)
            case 0x4e: try push(.none)  // NONE
            case 0x88: try push(.bool(true))  // NEWTRUE
            case 0x89: try push(.bool(false))  // NEWFALSE
            case 0x4b: try push(.int(Int64(try reader.byte())))  // BININT1
            case 0x4d: try push(.int(Int64(try reader.littleEndian(2))))  // BININT2
            case 0x4a: try push(.int(Int64(Int32(truncatingIfNeeded: try reader.littleEndian(4)))))  // BININT
            case 0x8a, 0x8b:  // LONG1, LONG4
                let n = opcode == 0x8a ? Int(try reader.byte()) : Int(try reader.littleEndian(4))
                let raw = try reader.bytes(n)
                guard n <= 8 else {
                    try push(.bigInt(raw))
                    continue
                }
                var value: UInt64 = 0
                for (i, b) in raw.enumerated() { value |= UInt64(b) << (8 * UInt64(i)) }
                if n > 0 && n < 8 && raw[n - 1] & 0x80 != 0 { value |= ~0 << (8 * UInt64(n)) }  // sign-extend
                try push(.int(Int64(bitPattern: value)))
            case 0x49, 0x4c:  // INT, LONG (text)
                let text = try reader.line().trimmingCharacters(whereSuffix: "L")
                if text == "00" || text == "01" {
                    try push(.bool(text == "01"))
                } else if let v = Int64(text) {
                    try push(.int(v))
                } else {
                    throw fail("bad integer text")
                }
            case 0x47:  // BINFLOAT (big-endian)
                var bits: UInt64 = 0
                for b in try reader.bytes(8) { bits = bits << 8 | UInt64(b) }
                try push(.float(Double(bitPattern: bits)))
            case 0x46:  // FLOAT (text)
                guard let v = Double(try reader.line()) else { throw fail("bad float text") }
                try push(.float(v))
            case 0x58: try push(.string(try reader.utf8(Int(try reader.littleEndian(4)))))  // BINUNICODE
            case 0x8c: try push(.string(try reader.utf8(Int(try reader.byte()))))  // SHORT_BINUNICODE
            case 0x8d: try push(.string(try reader.utf8(try reader.length8())))  // BINUNICODE8
            case 0x54:  // BINSTRING
                try push(.string(String(decoding: try reader.bytes(Int(try reader.littleEndian(4))), as: UTF8.self)))
            case 0x55:  // SHORT_BINSTRING
                try push(.string(String(decoding: try reader.bytes(Int(try reader.byte())), as: UTF8.self)))
            case 0x42: try push(.bytes(try reader.bytes(Int(try reader.littleEndian(4)))))  // BINBYTES
            case 0x43: try push(.bytes(try reader.bytes(Int(try reader.byte()))))  // SHORT_BINBYTES
            case 0x8e: try push(.bytes(try reader.bytes(try reader.length8())))  // BINBYTES8
            case 0x96: try push(.bytes(try reader.bytes(try reader.length8())))  // BYTEARRAY8
            case 0x53, 0x56: try push(.string(try reader.line()))  // STRING, UNICODE (text; quoting kept)
            case 0x29: try push(.tuple([]))  // EMPTY_TUPLE
            case 0x85: try push(.tuple([try pop()]))  // TUPLE1
            case 0x86:
                let b = try pop()
                let a = try pop()
                try push(.tuple([a, b]))  // TUPLE2
            case 0x87:
                let c = try pop()
                let b = try pop()
                let a = try pop()
                try push(.tuple([a, b, c]))  // TUPLE3
            case 0x74: try push(.tuple(try popMark()))  // TUPLE
            case 0x5d: try push(.list(arena.register(PickleList())))  // EMPTY_LIST
            case 0x6c:  // LIST
                let list = arena.register(PickleList())
                list.items = try popMark()
                try push(.list(list))
            case 0x61:
                let item = try pop()
                try append(try stack.last.orThrow(fail("APPEND on an empty stack")), [item])  // APPEND
            case 0x65:
                let items = try popMark()
                try append(try stack.last.orThrow(fail("APPENDS on an empty stack")), items)  // APPENDS
            case 0x7d: try push(.dict(arena.register(PickleDict())))  // EMPTY_DICT
            case 0x64:  // DICT
                let dict = arena.register(PickleDict())
                try setItems(.dict(dict), try popMark())
                try push(.dict(dict))
            case 0x73:
                let value = try pop()
                let key = try pop()
                try setItems(try stack.last.orThrow(fail("SETITEM on an empty stack")), [key, value])  // SETITEM
            case 0x75:
                let items = try popMark()
                try setItems(try stack.last.orThrow(fail("SETITEMS on an empty stack")), items)  // SETITEMS
            case 0x8f: try push(.list(arena.register(PickleList())))  // EMPTY_SET (kept as a list)
            case 0x90:
                let items = try popMark()
                try append(try stack.last.orThrow(fail("ADDITEMS on an empty stack")), items)  // ADDITEMS
            case 0x91:
                let list = arena.register(PickleList())
                list.items = try popMark()
                try push(.list(list))  // FROZENSET
            case 0x63:  // GLOBAL "module\nname\n"
                let module = try reader.line()
                let name = try reader.line()
                try push(.global(module + "." + name))
            case 0x93:  // STACK_GLOBAL
                guard let name = try pop().string, let module = try pop().string else {
                    throw fail("STACK_GLOBAL needs two strings")
                }
                try push(.global(module + "." + name))
            case 0x52, 0x81:  // REDUCE, NEWOBJ
                let arguments = try pop()
                let function = try pop()
                guard case .global(let name) = function else { throw fail("call of a value that is not a global") }
                try push(.call(arena.register(PickleCall(function: name, arguments: arguments.tuple ?? [arguments]))))
            case 0x92:  // NEWOBJ_EX
                _ = try pop()
                let arguments = try pop()
                let function = try pop()
                guard case .global(let name) = function else { throw fail("call of a value that is not a global") }
                try push(.call(arena.register(PickleCall(function: name, arguments: arguments.tuple ?? [arguments]))))
            case 0x62:  // BUILD
                let state = try pop()
                guard let target = stack.last else { throw fail("BUILD on an empty stack") }
                if case .call(let call) = target { call.state = state }
            case 0x51: try push(.persistent(try pop()))  // BINPERSID
            case 0x50: try push(.persistent(.string(try reader.line())))  // PERSID
            case 0x71: try memoize(Int(try reader.byte()))  // BINPUT
            case 0x72: try memoize(Int(try reader.littleEndian(4)))  // LONG_BINPUT
            case 0x94: try memoize(memo.count)  // MEMOIZE
            case 0x70:
                guard let i = Int(try reader.line()) else { throw fail("bad PUT index") }
                try memoize(i)  // PUT
            case 0x68: try push(try fetch(Int(try reader.byte())))  // BINGET
            case 0x6a: try push(try fetch(Int(try reader.littleEndian(4))))  // LONG_BINGET
            case 0x67:
                guard let i = Int(try reader.line()) else { throw fail("bad GET index") }
                try push(try fetch(i))  // GET
            case 0x30: _ = try pop()  // POP
            case 0x31: _ = try popMark()  // POP_MARK
            case 0x32: try push(try stack.last.orThrow(fail("DUP on an empty stack")))  // DUP
            default: throw fail(String(format: "unsupported opcode 0x%02x", opcode))
            }
        }
    }

    struct Reader {
        let bytes: UnsafeRawBufferPointer
        var position: Int

        mutating func byte() throws -> UInt8 {
            guard position < bytes.count else {
                throw PickleError(description: "pickle ends at byte \(position) without STOP")
            }
            defer { position += 1 }
            return bytes[position]
        }

        mutating func bytes(_ n: Int) throws -> [UInt8] {
            guard n >= 0, n <= bytes.count - position else {
                throw PickleError(description: "pickle at byte \(position): \(n) bytes run past the end")
            }
            defer { position += n }
            return Array(bytes[position..<(position + n)])
        }

        mutating func littleEndian(_ n: Int) throws -> UInt64 {
            var value: UInt64 = 0
            for (i, b) in try bytes(n).enumerated() { value |= UInt64(b) << (8 * UInt64(i)) }
            return value
        }

        mutating func length8() throws -> Int {
            let n = try littleEndian(8)
            guard n <= UInt64(bytes.count) else {
                throw PickleError(description: "pickle at byte \(position): length \(n) beyond the file")
            }
            return Int(n)
        }

        mutating func utf8(_ n: Int) throws -> String {
            let raw = try bytes(n)
            guard let s = String(validating: raw, as: UTF8.self) else {
                throw PickleError(description: "pickle at byte \(position): invalid UTF-8")
            }
            return s
        }

        /// Up to the next newline (text opcodes), at most 1000 bytes.
        mutating func line() throws -> String {
            var raw: [UInt8] = []
            while true {
                let b = try byte()
                if b == 0x0a { break }
                raw.append(b)
                guard raw.count <= 1000 else {
                    throw PickleError(description: "pickle at byte \(position): text argument longer than 1000 bytes")
                }
            }
            return String(decoding: raw, as: UTF8.self)
        }
    }
}

extension Optional {
    func orThrow(_ error: @autoclosure () -> Error) throws -> Wrapped {
        guard let value = self else { throw error() }
        return value
    }
}

extension String {
    func trimmingCharacters(whereSuffix suffix: Character) -> String { last == suffix ? String(dropLast()) : self }
}
