import Foundation
import SegFormats

/// Reads the human-edited files (themes, dataset manifests) into a JSONValue
/// tree. Themes and manifests are TOML because people edit them by hand and
/// want comments (parsed by `TOML`); `.json` files are accepted too.
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
        do {
            return try TOML.parse(text)
        } catch let error as TOML.ParseError {
            throw LabelError.config(path: path, problem: "invalid TOML at \(error)")
        }
    }
}

/// Writing TOML: a basic string. TOML's escapes are JSON's (\\ \" \n \t \r
/// \uXXXX for other control characters), so JSON's quoting serves.
public enum TOMLText {
    public static func quoted(_ text: String) -> String { JSONValue.string(text).serialized }
}
