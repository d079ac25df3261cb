import Foundation
import SegFormats
import SegLabels

/// How many colours the terminal can show, decided once from the environment.
public enum ColorDepth: String, Sendable {
    case trueColor, xterm256, ansi8, monochrome

    /// `NO_COLOR` (no-color.org) wins; then `COLORTERM` announcing truecolor;
    /// then TERM's name. A TERM without a colour hint gets 8 colours.
    public static func detect(environment: [String: String] = ProcessInfo.processInfo.environment) -> ColorDepth {
        if let noColor = environment["NO_COLOR"], !noColor.isEmpty { return .monochrome }
        let term = environment["TERM"] ?? ""
        if term == "dumb" || term.isEmpty { return .monochrome }
        let colorterm = environment["COLORTERM"] ?? ""
        if colorterm == "truecolor" || colorterm == "24bit" || term.hasSuffix("-direct") { return .trueColor }
        if term.contains("256color") { return .xterm256 }
        return .ansi8
    }
}

/// Nearest-colour mapping to the terminal palettes. The 16 system colours are
/// never targets of the 256-colour mapping because users redefine them.
public enum TerminalPalette {
    static let cubeLevels: [Int] = [0, 95, 135, 175, 215, 255]

    /// The RGB value of xterm colour `index` (16...255).
    public static func rgb(ofXterm index: Int) -> RGB {
        if index >= 232 {
            let v = UInt8(8 + 10 * (index - 232))
            return RGB(v, v, v)
        }
        let i = index - 16
        return RGB(UInt8(cubeLevels[i / 36]), UInt8(cubeLevels[(i / 6) % 6]), UInt8(cubeLevels[i % 6]))
    }

    /// "Redmean" distance: cheap, and closer to perceived difference than plain RGB.
    static func distance(_ a: RGB, _ b: RGB) -> Int {
        let rMean = (Int(a.r) + Int(b.r)) / 2
        let dr = Int(a.r) - Int(b.r)
        let dg = Int(a.g) - Int(b.g)
        let db = Int(a.b) - Int(b.b)
        return (((512 + rMean) * dr * dr) >> 8) + 4 * dg * dg + (((767 - rMean) * db * db) >> 8)
    }

    /// Nearest xterm-256 colour among the cube and the gray ramp (16...255).
    public static func nearestXterm256(_ c: RGB) -> Int {
        var best = 16
        var bestDistance = Int.max
        for index in 16...255 {
            let d = distance(c, rgb(ofXterm: index))
            if d < bestDistance {
                best = index
                bestDistance = d
            }
        }
        return best
    }

    static let ansi8: [RGB] = [
        RGB(0, 0, 0), RGB(205, 0, 0), RGB(0, 205, 0), RGB(205, 205, 0),
        RGB(0, 0, 238), RGB(205, 0, 205), RGB(0, 205, 205), RGB(229, 229, 229),
    ]

    /// Nearest of the 8 basic ANSI colours (0...7).
    public static func nearestAnsi8(_ c: RGB) -> Int {
        var best = 0
        var bestDistance = Int.max
        for (index, candidate) in ansi8.enumerated() {
            let d = distance(c, candidate)
            if d < bestDistance {
                best = index
                bestDistance = d
            }
        }
        return best
    }

    /// Distinct xterm-256 entries for distinct colours (a label space's
    /// classes): nearest first, but an entry already taken goes to nobody
    /// else. Greedy by closeness: the colour with the closest free entry is
    /// placed first, so contested entries go to the colour they fit best.
    public static func distinctXterm256(_ colors: [RGB]) -> [UInt32: Int] {
        var unplaced = Dictionary(colors.map { ($0.packed, $0) }, uniquingKeysWith: { a, _ in a }).sorted {
            $0.key < $1.key
        }.map(\.value)
        var taken = Set<Int>()
        var placed: [UInt32: Int] = [:]
        while !unplaced.isEmpty {
            var best = (colour: 0, entry: 16, distance: Int.max)
            for (i, c) in unplaced.enumerated() {
                for entry in 16...255 where !taken.contains(entry) {
                    let d = distance(c, rgb(ofXterm: entry))
                    if d < best.distance { best = (i, entry, d) }
                }
            }
            placed[unplaced[best.colour].packed] = best.entry
            taken.insert(best.entry)
            unplaced.remove(at: best.colour)
        }
        return placed
    }

    /// Entries for mark colours at 256 colours, given the classes' entries: each mark, in order, gets the
    /// nearest entry that no class and no earlier mark holds and whose colour keeps ΔE00 >=
    /// `Theme.minimumMarkDifference` from every class entry's colour (the nearest free entry if none is that
    /// far). The palette rounds marks and classes, so marks that keep it in true colour could meet otherwise.
    public static func markXterm256(_ marks: [RGB], classEntries: [UInt32: Int]) -> [UInt32: Int] {
        var taken = Set(classEntries.values)
        let classLab = Set(classEntries.values).map { CIELab(rgb(ofXterm: $0)) }
        var placed: [UInt32: Int] = [:]
        for mark in marks where placed[mark.packed] == nil && classEntries[mark.packed] == nil {
            let free = (16...255).filter { !taken.contains($0) }.sorted {
                (distance(mark, rgb(ofXterm: $0)), $0) < (distance(mark, rgb(ofXterm: $1)), $1)
            }
            let apart = free.first { entry in
                let lab = CIELab(rgb(ofXterm: entry))
                return classLab.allSatisfy { lab.difference(to: $0) >= Theme.minimumMarkDifference }
            }
            if let entry = apart ?? free.first {
                placed[mark.packed] = entry
                taken.insert(entry)
            }
        }
        return placed
    }
}

/// How RGB becomes SGR parameters at a colour depth. At 256 colours the
/// label space's classes get distinct entries (bus and train, both nearest
/// to colour 23, stay apart), marks entries apart from them
/// (`TerminalPalette.markXterm256`); every other colour goes to its nearest entry.
public struct ColorMapping: Sendable {
    public let depth: ColorDepth
    private let entries: [UInt32: Int]

    public init(depth: ColorDepth, classColors: [RGB] = [], markColors: [RGB] = []) {
        self.depth = depth
        guard depth == .xterm256 else {
            entries = [:]
            return
        }
        let classEntries = TerminalPalette.distinctXterm256(classColors)
        entries = classEntries.merging(TerminalPalette.markXterm256(markColors, classEntries: classEntries)) { a, _ in a
        }
    }

    /// The mapping for a theme: its classes and its marks.
    public init(depth: ColorDepth, theme: Theme) {
        self.init(depth: depth, classColors: theme.classColors, markColors: ThemeRole.marks.map(theme.color))
    }

    /// The xterm-256 entry of `c`.
    public func xterm256(_ c: RGB) -> Int { entries[c.packed] ?? TerminalPalette.nearestXterm256(c) }

    /// SGR parameters selecting `c` as background (or foreground).
    public func sgr(_ c: RGB, background: Bool) -> String {
        switch depth {
        case .trueColor: return "\(background ? 48 : 38);2;\(c.r);\(c.g);\(c.b)"
        case .xterm256: return "\(background ? 48 : 38);5;\(xterm256(c))"
        case .ansi8: return "\((background ? 40 : 30) + TerminalPalette.nearestAnsi8(c))"
        case .monochrome: return ""
        }
    }
}
