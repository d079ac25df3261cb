import Foundation
import SegFormats
import SegLabels

/// Writes a synthetic street-video dataset in the Cityscapes layout:
///   leftImg8bit_sequence/<split>/synth/<key>_leftImg8bit.png   RGB frames (.jpg with FrameFormat.jpeg)
///   gtFine/<split>/synth/<key>_gtFine_{labelTrainIds,labelIds,color}.png
///   features/<split>/synth/<key>.npy                           float32 (or float16) [C, H/8, W/8]
///   segscope.toml                                             manifest for view/eval
/// with keys `synth_<sequence:6>_<frame:6>`. Everything is written into a
/// temporary sibling folder that is renamed into place at the end, so an
/// interrupted run leaves no partial dataset.
public struct SyntheticDataset: Sendable {
    public var sequences = 2
    public var frames = 12
    public var width = 512
    public var height = 256
    public var seed: UInt64 = 1
    /// The simulated backbone (class anchors, glare, boundary bends): splits
    /// made with the same value share it, as splits of a real dataset share
    /// one backbone, so a head trained on one split applies to the other.
    public var backboneSeed: UInt64 = 0
    public var featureChannels = 64
    public var split = "train"
    /// Index of the first sequence (so train and val sets made separately do not share keys).
    public var firstSequence = 0
    public var knobs = FeatureModel.Knobs()
    public var writeFeatures = true
    public var frameFormat = FrameFormat.png
    public var featureType = FeatureType.float32
    public var space = LabelSpace.cityscapes

    public init() {}

    /// How frames are stored: PNG keeps every value; JPEG (as VSPW ships its
    /// frames) is about a seventh of the size, for samples that must stay small.
    public enum FrameFormat: String, CaseIterable, Sendable {
        case png, jpeg

        /// The frame file's name ending.
        public var fileExtension: String { self == .png ? "png" : "jpg" }
    }

    /// The features' npy dtype: float16 (what `infer --save-features` keeps)
    /// halves the files, and readers of features take both.
    public enum FeatureType: String, CaseIterable, Sendable {
        case float32, float16
    }

    public enum SynthError: Error, CustomStringConvertible, Equatable {
        case badSize(String)
        case outputExists(String)
        case notAFolder(String)
        case symbolicLink(String)
        case notAFolderName(String)
        case featureOutOfRange(key: String, value: Float)
        public var description: String {
            switch self {
            case .badSize(let text): return text
            case .outputExists(let path): return "\(path): exists and is not empty (use --force to replace it)"
            case .notAFolder(let path): return "\(path): exists and is not a folder (nothing is replaced)"
            case .symbolicLink(let path):
                return "\(path): is a symbolic link; give the folder itself (nothing is replaced)"
            case .notAFolderName(let path): return "\(path): give a new folder name (not '/', '.' or '..')"
            case .featureOutOfRange(let key, let value):
                let largest = Float(Float16.greatestFiniteMagnitude)
                return "\(key): feature value \(value) does not fit float16 (largest \(largest)); use float32 features"
            }
        }
    }

    public func validate() throws {
        guard width % featureStride == 0, height % featureStride == 0, width >= 64, height >= 32 else {
            throw SynthError.badSize("size \(height)x\(width): height and width must be multiples of 8, at least 32x64")
        }
        guard sequences > 0, frames > 0, featureChannels > 0 else {
            throw SynthError.badSize("sequences, frames and feature dim must be positive")
        }
        let knobValues = [knobs.noise, knobs.confusableDistortion, knobs.corruptionsPerKiloCell]
        guard knobValues.allSatisfy({ $0.isFinite && $0 >= 0 }), knobs.corruptionsPerKiloCell <= 1000 else {
            throw SynthError.badSize(
                "noise, boundary distortion and corruptions must be finite and not negative "
                    + "(corruptions at most 1000)")
        }
        guard space.name == "cityscapes" else {
            throw SynthError.badSize("synth draws Cityscapes classes; other label spaces are not supported")
        }
    }

    /// The anchors: the release's real Cityscapes prototypes at C = 512,
    /// deterministic random ones otherwise.
    public func anchors() -> [[Float]] {
        if featureChannels == 512 {
            let bytes = [UInt8](Data(base64Encoded: cityscapesPrototypesBase64, options: .ignoreUnknownCharacters)!)
            return (0..<19).map { k in
                (0..<512).map { n in
                    let o = 4 * (k * 512 + n)
                    return Float(
                        bitPattern: UInt32(bytes[o]) | UInt32(bytes[o + 1]) << 8 | UInt32(bytes[o + 2]) << 16 | UInt32(
                            bytes[o + 3]) << 24)
                }
            }
        }
        return FeatureModel.randomAnchors(classes: 19, channels: featureChannels, seed: backboneSeed)
    }

    public static func key(sequence: Int, frame: Int) -> String {
        func six(_ n: Int) -> String { String(repeating: "0", count: max(0, 6 - String(n).count)) + String(n) }
        return "synth_\(six(sequence))_\(six(frame))"
    }

    /// Writes the dataset to `output`. `progress(done, total)` is called after
    /// each frame; `cancelled()` is polled between frames.
    public func write(
        to output: String, force: Bool, progress: (Int, Int) -> Void = { _, _ in },
        cancelled: () -> Bool = { false }
    ) throws {
        try validate()
        let fm = FileManager.default
        var status = stat()
        // lstat: a symbolic link is refused, never replaced nor followed (--force would delete its target's files).
        if lstat(output, &status) == 0 {
            switch status.st_mode & S_IFMT {
            case S_IFLNK: throw SynthError.symbolicLink(output)
            case S_IFDIR: break
            default: throw SynthError.notAFolder(output)
            }
            if !force, let contents = try? fm.contentsOfDirectory(atPath: output), !contents.isEmpty {
                throw SynthError.outputExists(output)
            }
        }
        guard let name = output.split(separator: "/").last.map(String.init), name != ".", name != ".." else {
            throw SynthError.notAFolderName(output)
        }
        let parent = FileName.parent(of: output)
        Self.removeStaleStaging(in: parent, prefix: "." + name + ".partial-")
        let staging = parent + "/." + name + ".partial-\(getpid())"
        try? fm.removeItem(atPath: staging)
        do {
            try writeContents(to: staging, progress: progress, cancelled: cancelled)
            if fm.fileExists(atPath: output) { try fm.removeItem(atPath: output) }
            try fm.moveItem(atPath: staging, toPath: output)
        } catch {
            try? fm.removeItem(atPath: staging)
            throw error
        }
    }

    /// Staging folders (`prefix` + PID) of runs that were killed before they
    /// could clean up: removed when their process is gone. A live process
    /// (a concurrent run, or a reused PID) keeps its folder.
    static func removeStaleStaging(in parent: String, prefix namePrefix: String) {
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: parent) else { return }
        for name in names where name.hasPrefix(namePrefix) {
            guard let pid = pid_t(name.dropFirst(namePrefix.count)), pid > 0, pid != getpid() else { continue }
            if kill(pid, 0) != 0 && errno == ESRCH { try? FileManager.default.removeItem(atPath: parent + "/" + name) }
        }
    }

    /// `values` as float16, refusing any that would become infinite or NaN
    /// (a non-finite feature would silently poison every prediction it reaches).
    static func halfPrecision(_ values: [Float], key: String) throws -> [Float16] {
        try values.map { value in
            let half = Float16(value)
            guard half.isFinite else { throw SynthError.featureOutOfRange(key: key, value: value) }
            return half
        }
    }

    public struct Cancelled: Error, CustomStringConvertible {
        public var description: String { "interrupted; nothing was written" }
    }

    func writeContents(to root: String, progress: (Int, Int) -> Void, cancelled: () -> Bool) throws {
        let fm = FileManager.default
        let frameDir = root + "/leftImg8bit_sequence/\(split)/synth"
        let gtDir = root + "/gtFine/\(split)/synth"
        let featureDir = root + "/features/\(split)/synth"
        for dir in [frameDir, gtDir] + (writeFeatures ? [featureDir] : []) {
            try fm.createDirectory(atPath: dir, withIntermediateDirectories: true)
        }
        let model =
            writeFeatures
            ? FeatureModel(
                channels: featureChannels, classes: 19, anchors: anchors(), seed: seed, backboneSeed: backboneSeed,
                knobs: knobs) : nil
        let total = sequences * frames
        var done = 0
        for s in 0..<sequences {
            let sequence = firstSequence + s
            let scene = StreetScene(seed: Deterministic.hash(Int(truncatingIfNeeded: seed), sequence), frames: frames)
            let renderer = StreetRenderer(
                scene: scene, width: width, height: height,
                sequenceSeed: sequence &* 7919 &+ Int(truncatingIfNeeded: seed))
            for t in 0..<frames {
                if cancelled() { throw Cancelled() }
                let key = SyntheticDataset.key(sequence: sequence, frame: t)
                let frame = try renderer.render(frame: t, cancelled: cancelled)
                let framePath = "\(frameDir)/\(key)_leftImg8bit.\(frameFormat.fileExtension)"
                switch frameFormat {
                case .png:
                    try PNG.write(
                        PNGImage(
                            width: width, height: height, colorType: .rgb, bitDepth: 8, samples: .eight(frame.rgb)),
                        to: framePath)
                case .jpeg:
                    try JPEG.write(rgb: frame.rgb, width: width, height: height, to: framePath)
                }
                let map = LabelMap(width: width, height: height, ids: frame.labels)
                try PNG.write(
                    space.encode(map, as: .trainIds), to: "\(gtDir)/\(key)_gtFine_labelTrainIds.png",
                    compressionLevel: 1)
                try PNG.write(
                    space.encode(map, as: .labelIds), to: "\(gtDir)/\(key)_gtFine_labelIds.png", compressionLevel: 1)
                try PNG.write(
                    space.encode(map, as: .color), to: "\(gtDir)/\(key)_gtFine_color.png", compressionLevel: 1)
                if cancelled() { throw Cancelled() }
                if let model {
                    let features = try model.features(
                        labels: frame.labels, width: width, height: height, frame: t,
                        sequence: sequence, cancelled: cancelled)
                    let shape = [featureChannels, height / 8, width / 8]
                    let path = "\(featureDir)/\(key).npy"
                    switch featureType {
                    case .float32: try Npy.write(features, shape: shape, to: path)
                    case .float16: try Npy.write(try Self.halfPrecision(features, key: key), shape: shape, to: path)
                    }
                }
                done += 1
                progress(done, total)
            }
        }
        var manifest = """
            # segscope manifest of a synthetic dataset (segscope synth); the data is synthetic.
            label_space = "cityscapes"
            frames = "leftImg8bit_sequence"
            gt = "gtFine"
            gt_encoding = "trainIds"

            """
        if writeFeatures { manifest += "features = \"features\"\n" }
        try AtomicFile.write(manifest, to: root + "/segscope.toml")
    }
}
