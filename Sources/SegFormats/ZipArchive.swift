/// The entries of a zip archive whose members are stored uncompressed, as
/// `torch.save` writes them (PyTorch >= 1.6), read through a memory map.
///
/// Read field by field (APPNOTE.TXT): the end-of-central-directory record
/// (signature 0x06054b50, found within the last 64 KiB + 22 bytes) gives
/// the central directory's entry count, size and offset; when any is
/// 0xFFFF/0xFFFFFFFF the zip64 locator (0x07064b50) just before it points at
/// the zip64 end record (0x06064b50) holding the 64-bit values. Each central
/// entry (0x02014b50) gives method, sizes, name and the local header's offset
/// (64-bit values from its zip64 extra field 0x0001 when saturated); the
/// local header (0x04034b50, 30 bytes + name + extra) precedes the data.
public struct ZipArchive {
    public struct Entry: Sendable {
        public let name: String
        /// Byte range of the stored data in the file.
        public let begin: Int, end: Int
    }

    public let path: String
    public let entries: [Entry]

    public init(path: String, bytes raw: UnsafeRawBufferPointer) throws {
        self.path = path
        func bad(_ problem: String) -> FormatError { .malformed(path: path, format: "zip (PyTorch)", problem: problem) }
        func u16(_ at: Int) throws -> Int {
            guard at >= 0, at + 2 <= raw.count else { throw bad("field at byte \(at) runs past the end") }
            return Int(raw[at]) | Int(raw[at + 1]) << 8
        }
        func u32(_ at: Int) throws -> Int {
            let (low, high) = (try u16(at), try u16(at + 2))
            return low | high << 16
        }
        func u64(_ at: Int) throws -> Int {
            let (low, high) = (try u32(at), try u32(at + 4))
            let value = UInt64(low) | UInt64(high) << 32
            guard value <= UInt64(raw.count) else { throw bad("64-bit field at byte \(at) exceeds the file size") }
            return Int(value)
        }
        guard raw.count >= 22 else { throw bad("shorter than an end-of-central-directory record") }
        var eocd = -1
        for at in stride(from: raw.count - 22, through: max(0, raw.count - 22 - 65_535), by: -1)
        where try u32(at) == 0x0605_4b50 {
            eocd = at
            break
        }
        guard eocd >= 0 else { throw bad("no end-of-central-directory record") }
        var count = try u16(eocd + 10)
        var size = try u32(eocd + 12)
        var offset = try u32(eocd + 16)
        if count == 0xFFFF || size == 0xFFFF_FFFF || offset == 0xFFFF_FFFF {
            guard eocd >= 20, try u32(eocd - 20) == 0x0706_4b50 else {
                throw bad("saturated end record without a zip64 locator")
            }
            let record = try u64(eocd - 20 + 8)
            guard try u32(record) == 0x0606_4b50 else { throw bad("zip64 end record not where the locator says") }
            (count, size, offset) = (try u64(record + 32), try u64(record + 40), try u64(record + 48))
        }
        guard offset <= raw.count, size <= raw.count - offset, count <= size / 46 + 1 else {
            throw bad("central directory outside the file")
        }
        var entries: [Entry] = []
        var at = offset
        for _ in 0..<count {
            guard try u32(at) == 0x0201_4b50 else {
                throw bad("central directory entry \(entries.count) has a bad signature")
            }
            let method = try u16(at + 10)
            var compressed = try u32(at + 20)
            var uncompressed = try u32(at + 24)
            let nameLength = try u16(at + 28)
            let extraLength = try u16(at + 30)
            let commentLength = try u16(at + 32)
            var local = try u32(at + 42)
            guard at + 46 + nameLength + extraLength <= raw.count else {
                throw bad("central directory entry runs past the end")
            }
            let name = String(
                decoding: UnsafeRawBufferPointer(rebasing: raw[(at + 46)..<(at + 46 + nameLength)]), as: UTF8.self)
            // zip64 extra field: the saturated values, in this order.
            var extra = at + 46 + nameLength
            let extraEnd = extra + extraLength
            while extra + 4 <= extraEnd {
                let id = try u16(extra)
                let length = try u16(extra + 2)
                if id == 0x0001 {
                    var field = extra + 4
                    if uncompressed == 0xFFFF_FFFF {
                        uncompressed = try u64(field)
                        field += 8
                    }
                    if compressed == 0xFFFF_FFFF {
                        compressed = try u64(field)
                        field += 8
                    }
                    if local == 0xFFFF_FFFF {
                        local = try u64(field)
                        field += 8
                    }
                }
                extra += 4 + length
            }
            guard method == 0, compressed == uncompressed else {
                throw bad("entry '\(name)' is compressed (method \(method)); torch.save stores entries")
            }
            guard try u32(local) == 0x0403_4b50 else { throw bad("entry '\(name)': no local header at byte \(local)") }
            let (localName, localExtra) = (try u16(local + 26), try u16(local + 28))
            let begin = local + 30 + localName + localExtra
            guard begin <= raw.count, compressed <= raw.count - begin else {
                throw bad("entry '\(name)' runs past the end of the file")
            }
            entries.append(Entry(name: name, begin: begin, end: begin + compressed))
            at += 46 + nameLength + extraLength + commentLength
        }
        self.entries = entries
    }

    public func entry(_ name: String) -> Entry? { entries.first { $0.name == name } }
}
