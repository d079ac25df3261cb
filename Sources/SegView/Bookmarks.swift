import Foundation
import SegFormats

/// Frames a user marked, with notes. The file is JSON, rewritten atomically
/// on every change:
/// `{"bookmarks": [{"key": "<frame key>", "note": "<text>", "created": "<ISO 8601>"}, ...]}`
public struct Bookmarks: Sendable, Equatable {
    public struct Entry: Sendable, Equatable {
        public var key: String
        public var note: String
        public var created: String
        public init(key: String, note: String, created: String) {
            self.key = key
            self.note = note
            self.created = created
        }
    }

    public let path: String
    public private(set) var entries: [Entry] = []
    /// Why the file could not be read; then it is never written over.
    public private(set) var unreadable: String?

    public init(path: String) { self.path = path }

    /// Reads the file; a malformed one gives an empty list that refuses to
    /// save (the viewer still starts and says why, the file stays as it is).
    public static func loadKeepingMalformed(path: String) -> Bookmarks {
        do {
            return try load(path: path)
        } catch {
            var bookmarks = Bookmarks(path: path)
            bookmarks.unreadable = "\(error)"
            return bookmarks
        }
    }

    /// Reads the file; a missing file is an empty list.
    public static func load(path: String) throws -> Bookmarks {
        var bookmarks = Bookmarks(path: path)
        guard FileManager.default.fileExists(atPath: path) else { return bookmarks }
        let bytes = try MappedFile(path: path).withBytes { Array($0) }
        let root: JSONValue
        do { root = try bytes.withUnsafeBytes { try JSON.parse($0) } } catch {
            throw FormatError.malformed(path: path, format: "bookmarks JSON", problem: "\(error)")
        }
        guard let list = root["bookmarks"]?.array else {
            throw FormatError.malformed(path: path, format: "bookmarks JSON", problem: "no \"bookmarks\" list")
        }
        for item in list {
            guard let key = item["key"]?.string else {
                throw FormatError.malformed(path: path, format: "bookmarks JSON", problem: "an entry has no \"key\"")
            }
            bookmarks.entries.append(
                Entry(key: key, note: item["note"]?.string ?? "", created: item["created"]?.string ?? ""))
        }
        return bookmarks
    }

    public var keys: Set<String> { Set(entries.map(\.key)) }

    /// Adds (or replaces the note of) a bookmark and saves at once.
    public mutating func mark(_ key: String, note: String, now: Date = Date()) throws {
        let created = ISO8601DateFormatter().string(from: now)
        if let i = entries.firstIndex(where: { $0.key == key }) {
            entries[i].note = note
        } else {
            entries.append(Entry(key: key, note: note, created: created))
        }
        try save()
    }

    /// Removes the bookmark of `key` (if any) and saves at once; true if there was one.
    @discardableResult
    public mutating func remove(_ key: String) throws -> Bool {
        guard let i = entries.firstIndex(where: { $0.key == key }) else { return false }
        entries.remove(at: i)
        try save()
        return true
    }

    public func save() throws {
        if let unreadable {
            throw FormatError.malformed(
                path: path, format: "bookmarks JSON",
                problem: "not overwritten, it could not be read (\(unreadable))")
        }
        let json = JSONValue.object([
            (
                "bookmarks",
                .array(
                    entries.map {
                        .object([
                            ("key", .string($0.key)), ("note", .string($0.note)), ("created", .string($0.created)),
                        ])
                    })
            )
        ])
        try AtomicFile.write(json.pretty + "\n", to: path)
    }
}
