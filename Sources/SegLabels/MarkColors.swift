import SegFormats

extension ThemeRole {
    /// The roles painted over label panes to mark pixels (flips, Δconf,
    /// suspects, flicker, the chosen confusion): each must stand out from
    /// every class colour around it and from the other marks.
    public static let marks: [ThemeRole] = [
        .fixed, .broken, .changedWrong, .confidenceUp, .confidenceDown, .suspect, .flicker, .highlight,
    ]
}

/// A mark colour closer than `Theme.minimumMarkDifference` (CIEDE2000) to a
/// class colour, the ignore colour or another mark.
public struct MarkClash: Sendable, Equatable, CustomStringConvertible {
    public enum Neighbour: Sendable, Equatable {
        case labelClass(String)
        case ignore
        case mark(ThemeRole)

        var text: String {
            switch self {
            case .labelClass(let name): return "class '\(name)'"
            case .ignore: return "the ignore colour"
            case .mark(let role): return "mark \(role.rawValue)"
            }
        }
    }

    public let role: ThemeRole
    public let color: RGB
    /// The nearest colour that is too close.
    public let neighbour: Neighbour
    public let neighbourColor: RGB
    public let difference: Double
    /// How many further class (or ignore) colours are too close as well.
    public let alsoTooClose: Int

    public var description: String {
        let more = alsoTooClose > 0 ? " (and \(alsoTooClose) more colour\(alsoTooClose == 1 ? "" : "s"))" : ""
        return "mark \(role.rawValue) \(color.hex) is ΔE00 \(String(format: "%.1f", difference)) from "
            + "\(neighbour.text) \(neighbourColor.hex)\(more); marks keep ΔE00 >= "
            + "\(String(format: "%g", Theme.minimumMarkDifference)) from every class colour, the ignore colour"
            + " and each other"
    }
}

extension Theme {
    /// The smallest CIEDE2000 difference every mark keeps from every class
    /// colour of its label space, from the ignore colour and from the other
    /// marks (about 1 is a just noticeable difference). Every built-in
    /// space's default marks and every shipped theme keep it.
    public static let minimumMarkDifference = 10.0

    /// The marks of each built-in label space, chosen against its class
    /// colours: green fixes, red breaks, amber changed-but-wrong, confidence
    /// up green-blue and down magenta-violet, cyan suspects, orange flicker,
    /// yellow(-green) highlight; light enough to stand out on the dimmed panes
    /// they are drawn on.
    /// Cityscapes keeps ΔE00 >= 12 and CamVid >= 15 from its classes and
    /// between marks; VSPW's 124 hues leave room only for paler marks at 10.5.
    static let builtInMarks: [String: [ThemeRole: RGB]] = [
        "cityscapes": cityscapesMarks,
        "camvid": [
            .fixed: RGB(0x00, 0xff, 0x00), .broken: RGB(0xff, 0x2d, 0x00), .changedWrong: RGB(0xff, 0xd2, 0x00),
            .confidenceUp: RGB(0x00, 0xff, 0xaa), .confidenceDown: RGB(0xe1, 0x00, 0xff),
            .suspect: RGB(0x00, 0xff, 0xf5), .flicker: RGB(0xff, 0x78, 0x00), .highlight: RGB(0xe6, 0xff, 0x00),
        ],
        "vspw": [
            .fixed: RGB(0xc8, 0xff, 0xb9), .broken: RGB(0xff, 0x78, 0x5a), .changedWrong: RGB(0xff, 0xa0, 0x00),
            .confidenceUp: RGB(0xaf, 0xfa, 0xe6), .confidenceDown: RGB(0xff, 0xa0, 0xff),
            .suspect: RGB(0x00, 0xe1, 0xff), .flicker: RGB(0xff, 0x9b, 0x55), .highlight: RGB(0xff, 0xf0, 0xaa),
        ],
    ]

    /// Cityscapes' marks, also the default for custom label spaces.
    static let cityscapesMarks: [ThemeRole: RGB] = [
        .fixed: RGB(0x00, 0xf0, 0x00), .broken: RGB(0xff, 0x50, 0x55), .changedWrong: RGB(0xff, 0xcd, 0x00),
        .confidenceUp: RGB(0x00, 0xd7, 0x87), .confidenceDown: RGB(0xaa, 0x5a, 0xff),
        .suspect: RGB(0x00, 0xff, 0xf5), .flicker: RGB(0xff, 0x64, 0x00), .highlight: RGB(0xa0, 0xb4, 0x00),
    ]

    /// The marks that break `minimumMarkDifference`: for each mark the nearest
    /// class or ignore colour that is too close, then each pair of marks too close.
    public var markClashes: [MarkClash] {
        let named = zip(space.classes, classColors).map { (MarkClash.Neighbour.labelClass($0.name), $1) }
        let backdrop = named + [(.ignore, color(.ignore))]
        let backdropLab = backdrop.map { CIELab($0.1) }
        let marks = ThemeRole.marks.map { (role: $0, rgb: color($0), lab: CIELab(color($0))) }
        var clashes: [MarkClash] = []
        for mark in marks {
            let differences = backdropLab.map(mark.lab.difference(to:))
            let tooClose = differences.indices.filter { differences[$0] < Theme.minimumMarkDifference }
            guard let nearest = tooClose.min(by: { differences[$0] < differences[$1] }) else { continue }
            clashes.append(
                MarkClash(
                    role: mark.role, color: mark.rgb, neighbour: backdrop[nearest].0,
                    neighbourColor: backdrop[nearest].1, difference: differences[nearest],
                    alsoTooClose: tooClose.count - 1))
        }
        for (i, first) in marks.enumerated() {
            for second in marks[(i + 1)...] {
                let difference = first.lab.difference(to: second.lab)
                if difference < Theme.minimumMarkDifference {
                    clashes.append(
                        MarkClash(
                            role: first.role, color: first.rgb, neighbour: .mark(second.role),
                            neighbourColor: second.rgb, difference: difference, alsoTooClose: 0))
                }
            }
        }
        return clashes
    }
}
