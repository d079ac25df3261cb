import Foundation
import SegFormats

/// Colours by role: every colour the viewer, `labels` and `render` draw comes
/// from a theme, either a class colour or one of these UI roles.
public enum ThemeRole: String, CaseIterable, Sendable {
    case text, background, border, title
    case statusBar = "status_bar"
    case statusText = "status_text"
    case dim, selection, cursor, warning, bookmark
    case confidenceUp = "confidence_up"
    case confidenceDown = "confidence_down"
    case fixed, broken
    case changedWrong = "changed_wrong"
    /// Pixels with no class (ignore / void).
    case ignore
    /// Likely annotation errors (the annotation inspector).
    case suspect
    /// Pixels of the confusion chosen in the confusion panel.
    case highlight
    /// Pixels whose prediction changes in the next frame (the flicker mode).
    case flicker
    /// The confusion panel's colour scales: correct (diagonal) and confused cells.
    case confusionDiagonal = "confusion_diagonal"
    case confusionOff = "confusion_off"
    /// The explain view's attention heat map: the colour of the largest weight.
    case heat
}

/// A theme file (TOML), field by field:
/// - `name` (string, optional): shown in the UI; defaults to the file name.
/// - `label_space` (string): `cityscapes`, `camvid`, or `custom`.
/// - `[colors]` (built-in spaces): `"class name" = "#rrggbb"` overrides a
///   class colour; classes not listed keep the label table's colour.
/// - `[[class]]` (custom spaces, in trainId order): `name`, `color`,
///   optional `id` (labelId stored in files, default = position) and `category`.
/// - `[roles]`: `role = "#rrggbb"` for every `ThemeRole`; missing roles take
///   the label space's defaults (`defaultRoles(for:)`).
public struct Theme: Sendable, Equatable {
    public let name: String
    public let space: LabelSpace
    /// Class colours in trainId order.
    public let classColors: [RGB]
    public let roles: [ThemeRole: RGB]
    /// Problems found in a theme file that do not stop it loading (marks too
    /// close to class colours), one line each, naming the file: for the CLI
    /// to print as warnings.
    public let notes: [String]

    public func color(_ role: ThemeRole) -> RGB { roles[role] ?? Theme.defaultRoles[role]! }

    /// Colour of a trainId (255 and unknown ids: the ignore role).
    public func color(ofClass id: UInt8) -> RGB {
        Int(id) < classColors.count ? classColors[Int(id)] : color(.ignore)
    }

    public static let defaultRoles: [ThemeRole: RGB] = [
        .text: RGB(208, 208, 208), .background: RGB(0, 0, 0), .border: RGB(95, 95, 135),
        .title: RGB(255, 255, 175), .statusBar: RGB(48, 48, 64), .statusText: RGB(230, 230, 230),
        .dim: RGB(88, 88, 88), .selection: RGB(0, 95, 175), .cursor: RGB(255, 255, 255),
        .warning: RGB(255, 175, 0), .bookmark: RGB(255, 215, 0),
        .ignore: RGB(0, 0, 0), .confusionDiagonal: RGB(0, 175, 95), .confusionOff: RGB(215, 95, 0),
        .heat: RGB(255, 60, 0),
    ].merging(cityscapesMarks) { $1 }

    /// The default roles for a label space: a built-in space gets the marks
    /// chosen against its own class colours (see `minimumMarkDifference`), a
    /// custom space the first built-in set of marks that keeps the minimum
    /// against its classes (else Cityscapes', and loading it warns).
    public static func defaultRoles(for space: LabelSpace) -> [ThemeRole: RGB] {
        if let marks = builtInMarks[space.name], LabelSpace.named(space.name) == space {
            return defaultRoles.merging(marks) { $1 }
        }
        for name in ["cityscapes", "camvid", "vspw"] {
            let roles = defaultRoles.merging(builtInMarks[name] ?? [:]) { $1 }
            let trial = Theme(name: space.name, space: space, classColors: space.classes.map(\.color), roles: roles)
            if trial.markClashes.isEmpty { return roles }
        }
        return defaultRoles
    }

    /// The theme a label space gets when no theme file is found: the label
    /// table's own colours and the space's default roles.
    public static func builtIn(for space: LabelSpace) -> Theme {
        Theme(name: space.name, space: space, classColors: space.classes.map(\.color), roles: defaultRoles(for: space))
    }

    public init(name: String, space: LabelSpace, classColors: [RGB], roles: [ThemeRole: RGB], notes: [String] = []) {
        self.name = name
        self.space = space
        self.classColors = classColors
        self.roles = roles
        self.notes = notes
    }

    /// A theme file that defines `space` as a custom label space with these
    /// class colours (how a run folder keeps a dataset's custom classes).
    public static func customSpaceText(_ space: LabelSpace, colors: [RGB]) -> String {
        var text =
            "# A custom label space, written by segscope.\nname = \(TOMLText.quoted(space.name))\nlabel_space = \"custom\"\n"
        for (definition, color) in zip(space.classes, colors) {
            text += "\n[[class]]\nname = \(TOMLText.quoted(definition.name))\nid = \(definition.id)\n"
            text += "category = \(TOMLText.quoted(definition.category))\ncolor = \"\(color.hex)\"\n"
        }
        return text
    }

    public static func load(path: String) throws -> Theme {
        let root = try ConfigFile.load(path: path)
        func bad(_ problem: String) -> LabelError { .theme(path: path, problem: problem) }
        func color(_ value: JSONValue, _ field: String) throws -> RGB {
            guard let text = value.string, let rgb = RGB(hex: text) else {
                throw bad("\(field) must be a colour \"#rrggbb\", found \(value.serialized)")
            }
            return rgb
        }
        guard let spaceName = root["label_space"]?.string else { throw bad("missing label_space") }
        let fileName = URL(fileURLWithPath: path).deletingPathExtension().lastPathComponent
        let name = root["name"]?.string ?? fileName
        var roleColors: [ThemeRole: RGB] = [:]
        if let entries = root["roles"] {
            guard let members = entries.object else { throw bad("[roles] must be a table") }
            for (key, value) in members {
                guard let role = ThemeRole(rawValue: key) else {
                    throw bad(
                        "unknown role '\(key)' (roles: \(ThemeRole.allCases.map(\.rawValue).joined(separator: ", ")))")
                }
                roleColors[role] = try color(value, "roles.\(key)")
            }
        }
        let space: LabelSpace
        var classColors: [RGB]
        if spaceName == "custom" {
            guard let entries = root["class"]?.array, !entries.isEmpty else {
                throw bad("a custom label space needs [[class]] entries")
            }
            guard entries.count <= 255 else { throw bad("at most 255 classes") }
            var labels: [LabelDefinition] = []
            var seenIds = Set<Int>()
            for (k, entry) in entries.enumerated() {
                guard let className = entry["name"]?.string, !className.isEmpty else {
                    throw bad("class \(k) has no name")
                }
                guard let colorValue = entry["color"] else { throw bad("class '\(className)' has no color") }
                let rgb = try color(colorValue, "class '\(className)' color")
                let id = entry["id"]?.count ?? k
                guard id < 256, seenIds.insert(id).inserted else {
                    throw bad("class '\(className)' id \(id) is repeated or above 255")
                }
                let category = entry["category"]?.string ?? className
                labels.append(LabelDefinition(className, id, k, category, k, false, false, rgb))
            }
            space = LabelSpace(name: name, labels: labels)
            classColors = labels.map(\.color)
        } else {
            guard let builtIn = LabelSpace.named(spaceName) else { throw LabelError.unknownLabelSpace(name: spaceName) }
            space = builtIn
            classColors = builtIn.classes.map(\.color)
            if let overrides = root["colors"] {
                guard let members = overrides.object else { throw bad("[colors] must be a table") }
                for (className, value) in members {
                    guard let k = builtIn.index(ofClass: className) else {
                        throw bad("[colors] names '\(className)', which is not a \(spaceName) class")
                    }
                    classColors[k] = try color(value, "colors.\(className)")
                }
            }
        }
        let roles = defaultRoles(for: space).merging(roleColors) { $1 }
        let theme = Theme(name: name, space: space, classColors: classColors, roles: roles)
        let notes = theme.markClashes.map { "\(path): theme: \($0)" }
        return Theme(name: name, space: space, classColors: classColors, roles: roles, notes: notes)
    }

    /// Where themes are looked up by name, first match wins: the user's
    /// config folder, the repository's `themes/` (running from a checkout),
    /// then the installed share folder.
    public static func searchPaths(executable: String = CommandLine.arguments.first ?? "") -> [String] {
        var paths: [String] = []
        let environment = ProcessInfo.processInfo.environment
        if let config = environment["XDG_CONFIG_HOME"], !config.isEmpty {
            paths.append(config + "/segscope/themes")
        } else if let home = environment["HOME"] {
            paths.append(home + "/.config/segscope/themes")
        }
        let binary = URL(fileURLWithPath: executable).resolvingSymlinksInPath().deletingLastPathComponent()
        // Running from a checkout (.build/<triple>/<config>/segscope): the
        // nearest ancestor holding Package.swift has the repository's themes/.
        var ancestor = binary
        for _ in 0..<5 {
            ancestor = ancestor.deletingLastPathComponent()
            if FileManager.default.fileExists(atPath: ancestor.appendingPathComponent("Package.swift").path) {
                paths.append(ancestor.appendingPathComponent("themes").path)
                break
            }
        }
        // Installed as <prefix>/bin/segscope: <prefix>/share/segscope/themes.
        paths.append(binary.deletingLastPathComponent().appendingPathComponent("share/segscope/themes").path)
        return paths
    }

    /// A theme by name (`cityscapes`) or by path (`./mine.toml`). A name
    /// that is a built-in label space falls back to its built-in theme.
    public static func resolve(_ nameOrPath: String, searchPaths: [String] = Theme.searchPaths()) throws -> Theme {
        if nameOrPath.contains("/") || nameOrPath.hasSuffix(".toml") || nameOrPath.hasSuffix(".json") {
            return try load(path: nameOrPath)
        }
        for directory in searchPaths {
            let candidate = directory + "/" + nameOrPath + ".toml"
            if FileManager.default.fileExists(atPath: candidate) { return try load(path: candidate) }
        }
        if let space = LabelSpace.named(nameOrPath) { return builtIn(for: space) }
        throw LabelError.themeNotFound(name: nameOrPath, searched: searchPaths)
    }

    /// Every theme file in the search paths, by name.
    public static func available(searchPaths: [String] = Theme.searchPaths()) -> [String] {
        var names = Set<String>()
        for directory in searchPaths {
            for file in (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
            where file.hasSuffix(".toml") {
                names.insert(String(file.dropLast(5)))
            }
        }
        return names.sorted()
    }
}
