import ArgumentParser
import Foundation
import SegFormats
import SegView

/// The checks every command's `validate()` makes: numbers inside ranges a real
/// user never leaves (so a hostile value is a usage error, not a huge
/// allocation or an overflow trap) and paths that can name a file.
enum OptionCheck {
    /// The longest path and file name Linux accepts (PATH_MAX counts the NUL).
    static let pathMax = 4096, nameMax = 255

    static func range<Value: Comparable>(_ option: String, _ value: Value, _ bounds: ClosedRange<Value>) throws {
        guard bounds.contains(value) else {
            throw ValidationError("\(option) \(value): must be in \(bounds.lowerBound)...\(bounds.upperBound)")
        }
    }

    static func range(_ option: String, _ value: Float, _ bounds: ClosedRange<Float>) throws {
        guard value.isFinite else { throw ValidationError("\(option) \(value): must be a finite number") }
        guard bounds.contains(value) else {
            throw ValidationError("\(option) \(value): must be in \(bounds.lowerBound)...\(bounds.upperBound)")
        }
    }

    static func range(_ option: String, _ value: Double, _ bounds: ClosedRange<Double>) throws {
        guard value.isFinite else { throw ValidationError("\(option) \(value): must be a finite number") }
        guard bounds.contains(value) else {
            throw ValidationError("\(option) \(value): must be in \(bounds.lowerBound)...\(bounds.upperBound)")
        }
    }

    /// Each side of an HxW option in `sides` (compared one by one: their product may overflow).
    static func size(_ option: String, _ value: GridSize, _ sides: ClosedRange<Int>) throws {
        guard sides.contains(value.height), sides.contains(value.width) else {
            throw ValidationError("\(option) \(value): each side must be in \(sides.lowerBound)...\(sides.upperBound)")
        }
    }

    /// A path to read: not empty and within the system's limits (beyond them
    /// the kernel says "does not exist", which misleads).
    static func input(_ option: String, _ path: String?) throws {
        guard let path else { return }
        guard !path.isEmpty else { throw ValidationError("\(option): the path is empty") }
        let bytes = path.utf8.count
        guard bytes < pathMax else {
            throw ValidationError(
                "\(option): the path is \(bytes) bytes, longer than the system's limit "
                    + "(\(pathMax - 1))")
        }
        for component in path.split(separator: "/") where component.utf8.count > nameMax {
            throw ValidationError(
                "\(option): a name in the path is \(component.utf8.count) bytes, longer than the "
                    + "system's limit (\(nameMax))")
        }
    }

    /// What an output path must name.
    enum Kind { case file, folder }

    /// A path to write: as `input`, without control characters (a name made
    /// by mistake that no shell shows plainly), not `.`, `..` or `/`, and not
    /// an existing entry of the other kind. A file is written beside its
    /// target and renamed over it, so an existing device, FIFO or socket
    /// (`--png /dev/null`, run as root) would be replaced: refused.
    /// `inputs`: files the command reads; an output that is one of them (the same file by any name) is refused,
    /// since writing it would destroy what the command reads.
    static func output(_ option: String, _ path: String?, _ kind: Kind, inputs: [String] = []) throws {
        guard let path else { return }
        var written = stat()
        if stat(path, &written) == 0 {
            for input in inputs {
                var read = stat()
                if stat(input, &read) == 0, read.st_dev == written.st_dev, read.st_ino == written.st_ino {
                    throw ValidationError(
                        "\(option) \(oneLine(path)): is \(oneLine(input)), an input; give another file")
                }
            }
        }
        try input(option, path)
        if oneLine(path) != path {
            throw ValidationError("\(option) \(oneLine(path)): control character in the path")
        }
        let last = path.split(separator: "/").last.map(String.init) ?? "/"
        guard ![".", "..", "/"].contains(last) else {
            let noun = kind == .file ? "file" : "folder"
            throw ValidationError("\(option) \(path): give a new \(noun) name, not '\(last)'")
        }
        var status = stat()
        guard stat(path, &status) == 0 else { return }
        switch (kind, status.st_mode & S_IFMT) {
        case (.folder, S_IFDIR), (.file, S_IFREG): return
        case (.folder, _):
            throw ValidationError("\(option) \(path): exists and is not a folder")
        case (.file, S_IFDIR):
            throw ValidationError("\(option) \(path): is a folder; give a file name")
        case (.file, _):
            throw ValidationError(
                "\(option) \(path): is not a regular file (a device, FIFO or socket is never "
                    + "replaced)")
        }
    }
}

/// The ranges of the numeric options, stated in --help and man segscope(1):
/// far beyond real use, and small enough that no value inside them can
/// overflow or allocate more memory than a workstation has.
enum OptionLimits {
    static let heads = 1...512
    static let blockSide = 1...1024
    static let renderColumns = Compositor.minimumWidth...1000, renderRows = Compositor.minimumHeight...500
    static let cacheMB = 16...1_048_576
    static let synthSequences = 1...10_000, synthFrames = 1...10_000
    /// Keys hold six digits of the sequence number.
    static let synthSequenceNumbers = 0...999_999
    static let synthHeight = 32...4096, synthWidth = 64...8192
    static let synthFeatureDim = 1...4096
    /// Values of one frame's features (C x H/8 x W/8): 256 MB of float32.
    static let synthFeatureValues = 1 << 26
    static let synthNoise: ClosedRange<Float> = 0...100, synthDistortion: ClosedRange<Float> = 0...100
    static let synthCorruptions: ClosedRange<Float> = 0...1000
    static let epochs = 1...100_000
    static let learningRate: ClosedRange<Double> = 1e-12...10, weightDecay: ClosedRange<Double> = 0...10
    static let batch = 1...1024
    static let feedForward = 1...16_384, depth = 1...64, marWidth = 1...16_384
    static let positionSide = 1...1024
    static let memoryKeys = 1...100_000

    /// A range as --help states it.
    static func text(_ range: ClosedRange<Int>) -> String { "\(range.lowerBound)-\(range.upperBound)" }
}
