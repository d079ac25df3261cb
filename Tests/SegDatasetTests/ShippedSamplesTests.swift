import Foundation
import SegDataset
import SegFormats
import SegTestSupport
import Testing

/// The shipped `samples/` (made by samples/make.sh): within its size budget,
/// and with what the explain view needs for whole sequences: every frame's
/// stride-8 features, with the channel count of the shipped weights.
@Suite struct ShippedSamplesTests {
    static let root = TestSupport.repositoryRoot + "/samples"
    /// samples/README.md's budget, in bytes of apparent size (`du -sb samples`).
    static let budget = 8_000_000

    /// What `du -sb` counts: the st_size of every file, folder and link under `path`, itself included.
    static func apparentSize(_ path: String) throws -> Int {
        var info = stat()
        guard lstat(path, &info) == 0 else { throw FormatError.notFound(path: path) }
        var total = Int(info.st_size)
        if info.st_mode & S_IFMT == S_IFDIR {
            for name in try FileManager.default.contentsOfDirectory(atPath: path) {
                total += try apparentSize(path + "/" + name)
            }
        }
        return total
    }

    @Test func samplesStayWithinTheirBudget() throws {
        let size = try Self.apparentSize(Self.root)
        #expect(size <= Self.budget, "samples/ holds \(size) bytes, more than \(Self.budget)")
        // The walk counts what du counts (the budget is stated in du's terms).
        let du = try TestSupport.run("/usr/bin/env", ["du", "-sb", Self.root])
        #expect(Int(du.split(separator: "\t").first ?? "") == size, "du -sb says \(du)")
    }

    /// Every frame has its JPEG frame and its GT; a sequence with any features
    /// has them for every frame (the explain view needs T-1, T and T+1), at least
    /// synth_000000 does, and each is float16 [C, H/8, W/8] with the weights' C
    /// and the frame's own size.
    @Test func shippedSequencesHaveFeaturesOfTheWeightsForEveryFrame() throws {
        var options = DatasetOptions()
        options.path = Self.root
        let data = try DatasetLocator.open(options)
        let weights = try SafetensorsFile(path: Self.root + "/weights/street-c64.safetensors")
        let classifier = try #require(weights.tensor("classifier_baseline.weight"))
        let channels = classifier.shape[1]
        #expect(channels == 64, "the weights' feature channels")
        let withFeatures = data.sequences.filter { $0.frames.contains { $0.features != nil } }
        #expect(withFeatures.map(\.name).contains("synth_000000"), "the first sequence is shipped with features")
        for sequence in data.sequences {
            for frame in sequence.frames {
                let image = try #require(frame.image, "\(frame.key) has a frame")
                #expect(image.hasSuffix("_leftImg8bit.jpg") && frame.groundTruth != nil, "\(frame.key)")
            }
        }
        for sequence in withFeatures {
            #expect(sequence.frames.count == 12, "\(sequence.name): every frame")
            for frame in sequence.frames {
                let path = try #require(frame.features, "\(frame.key) of a shipped sequence has features")
                let features = try Npy.read(path: path)
                let size = try ImageFile.size(path: frame.image ?? "")
                #expect(features.elementType == .float16, "\(path)")
                #expect(
                    features.shape == [channels, size.height / featureStride, size.width / featureStride],
                    "\(path): \(features.shape) for a \(size.width)x\(size.height) frame")
                let finite = features.floats().allSatisfy { $0.isFinite }
                #expect(finite, "\(path): every value finite")
            }
        }
    }
}
