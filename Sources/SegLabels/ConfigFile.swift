import Foundation
import SegFormats
import TOMLKit

/// Reads the human-edited files (themes, dataset manifests) into a JSONValue
/// tree. Themes and manifests are TOML because people edit them by hand and
/// want comments; `.json` files are accepted too. Only this file knows TOMLKit.
public enum ConfigFile {
    public static func load(path: String) throws -> JSONValue {
        let text: String
        do {
            let bytes = try MappedFile(path: path).withBytes { Array($0) }
            guard let decoded = String(validating: bytes, as: UTF8.self) else {
                throw LabelError.config(path: path, problem: "not UTF-8 text")
            }
            text = decoded
        }
        if path.hasSuffix(".json") {
            do { return try JSON.parse(text) } catch {
                throw LabelError.config(path: path, problem: "invalid JSON: \(error)")
            }
        }
        let table: TOMLTable
        do {
            table = try TOMLTable(string: text)
        } catch let error as TOMLParseError {
            throw LabelError.config(path: path, problem:
                "invalid TOML at line \(error.source.begin.line), column \(error.source.begin.column): \(error.description)")
        }
        return try convert(table, path: path)
    }

    private static func convert(_ value: TOMLValueConvertible, path: String) throws -> JSONValue {
        switch value.type {
        case .table:
            let table = value.table!
            return .object(try table.keys.sorted().map { ($0, try convert(table[$0]!, path: path)) })
        case .array:
            return .array(try value.array!.map { try convert($0, path: path) })
        case .string: return .string(value.string!)
        case .int: return .number(Double(value.int!))
        case .double: return .number(value.double!)
        case .bool: return .bool(value.bool!)
        default:
            throw LabelError.config(path: path, problem: "dates and times are not used in segscope files")
        }
    }
}

/// Writing TOML: a basic string. TOML's escapes are JSON's (\\ \" \n \t \r
/// \uXXXX for other control characters), so JSON's quoting serves.
public enum TOMLText {
    public static func quoted(_ text: String) -> String { JSONValue.string(text).serialized }
}
