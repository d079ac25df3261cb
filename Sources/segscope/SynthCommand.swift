import ArgumentParser
import Foundation
import SegFormats
import SegSynth

extension SyntheticDataset.FrameFormat: ExpressibleByArgument {}
extension SyntheticDataset.FeatureType: ExpressibleByArgument {}

struct SynthCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "synth",
        abstract: "Generate a synthetic street-video dataset with ground truth and backbone-like features.",
        discussion: """
            Writes a Cityscapes-layout dataset (frames, GT in three encodings, stride-8 features, manifest) \
            that segscope view, eval, infer and train read. The same arguments give the same files. \
            The feature model and its knobs are described in `man segscope` (SYNTHETIC FEATURES).
            """
    )

    @Option(name: .long, help: "Output folder (refused if not empty, unless --force).")
    var out: String
    @Option(name: .long, help: "Number of sequences (\(OptionLimits.text(OptionLimits.synthSequences))).")
    var sequences = 2
    @Option(name: .long, help: "Frames per sequence (\(OptionLimits.text(OptionLimits.synthFrames))).")
    var frames = 12
    @Option(name: .long, help: "Frame size HxW (multiples of 8; H 32-4096, W 64-8192).")
    var size = ImageSize(height: 256, width: 512)
    @Option(name: .long, help: "Random seed.")
    var seed: UInt64 = 1
    @Option(
        name: .customLong("backbone-seed"),
        help: "The simulated backbone (anchors, boundary bends); keep it equal across splits.")
    var backboneSeed: UInt64 = 0
    @Option(
        name: .customLong("feature-dim"),
        help: "Feature channels C, 1-4096, C x H/8 x W/8 at most 2^26 (512: the real Cityscapes prototypes).")
    var featureDim = 64
    @Option(name: .long, help: "Split folder name.")
    var split = "train"
    @Option(
        name: .customLong("first-sequence"),
        help: "Number of the first sequence (keeps keys of separate splits apart); numbers stay below 10^6.")
    var firstSequence = 0
    @Option(name: .customLong("label-space"), help: "Label space (only cityscapes is drawn).")
    var labelSpace = "cityscapes"
    @Option(name: .long, help: "Per-value feature noise (standard deviation, 0-100).")
    var noise: Float = 0.45
    @Option(
        name: .customLong("boundary-distortion"),
        help: "Boundary distortion strength of confusable class pairs (0-100).")
    var boundaryDistortion: Float = 1.1
    @Option(name: .customLong("corruptions"), help: "Corrupted patches per 1000 feature cells per frame (0-1000).")
    var corruptions: Float = 2.5
    @Option(
        name: .customLong("frame-format"),
        help: "Frame files: png (lossless) or jpeg (quality \(JPEG.defaultQuality), about a seventh of the size).")
    var frameFormat = SyntheticDataset.FrameFormat.png
    @Option(
        name: .customLong("feature-type"),
        help: "Feature npy dtype: float32 (default), or float16 (half the size, as infer --save-features keeps).")
    var featureType: SyntheticDataset.FeatureType?
    @Flag(name: .customLong("no-features"), help: "Write frames and GT only.")
    var noFeatures = false
    @Flag(name: .long, help: "Replace a non-empty output folder.")
    var force = false

    func validate() throws {
        let (h, w) = (size.height, size.width)
        typealias Limits = OptionLimits
        guard Limits.synthHeight.contains(h), Limits.synthWidth.contains(w), h % featureStride == 0,
            w % featureStride == 0
        else {
            throw ValidationError(
                "--size \(size): H and W must be multiples of \(featureStride), "
                    + "H in \(Limits.text(Limits.synthHeight)), W in \(Limits.text(Limits.synthWidth))")
        }
        try OptionCheck.range("--sequences", sequences, Limits.synthSequences)
        try OptionCheck.range("--frames", frames, Limits.synthFrames)
        try OptionCheck.range("--feature-dim", featureDim, Limits.synthFeatureDim)
        try OptionCheck.range("--first-sequence", firstSequence, Limits.synthSequenceNumbers)
        guard firstSequence + sequences - 1 <= Limits.synthSequenceNumbers.upperBound else {
            throw ValidationError(
                "--first-sequence \(firstSequence) --sequences \(sequences): sequence numbers must "
                    + "stay below \(Limits.synthSequenceNumbers.upperBound + 1) (six digits in the keys)")
        }
        if noFeatures, let featureType {
            throw ValidationError("--feature-type \(featureType.rawValue) goes with features: not with --no-features")
        }
        let featureValues = featureDim * (h / featureStride) * (w / featureStride)
        guard noFeatures || featureValues <= Limits.synthFeatureValues else {
            throw ValidationError(
                "--feature-dim \(featureDim) --size \(size): \(featureValues) feature values per "
                    + "frame, more than \(Limits.synthFeatureValues)")
        }
        try OptionCheck.range("--noise", noise, Limits.synthNoise)
        try OptionCheck.range("--boundary-distortion", boundaryDistortion, Limits.synthDistortion)
        try OptionCheck.range("--corruptions", corruptions, Limits.synthCorruptions)
        guard labelSpace == "cityscapes" else {
            throw ValidationError("--label-space: synth draws Cityscapes classes only")
        }
        try OptionCheck.input("--split", split)
        guard !split.contains("/") else { throw ValidationError("--split \(split): a folder name, without '/'") }
        try OptionCheck.output("--out", out, .folder)
    }

    func run() throws {
        var spec = SyntheticDataset()
        (spec.height, spec.width) = (size.height, size.width)
        spec.sequences = sequences
        spec.frames = frames
        spec.seed = seed
        spec.backboneSeed = backboneSeed
        spec.featureChannels = featureDim
        spec.split = split
        spec.firstSequence = firstSequence
        spec.writeFeatures = !noFeatures
        spec.frameFormat = frameFormat
        spec.featureType = featureType ?? .float32
        spec.knobs.noise = noise
        spec.knobs.confusableDistortion = boundaryDistortion
        spec.knobs.corruptionsPerKiloCell = corruptions
        let work = LongWork(label: "synth")
        defer { work.finish() }
        try spec.write(to: out, force: force, progress: work.observer.progress, cancelled: work.observer.cancelled)
    }
}
