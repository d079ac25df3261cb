import Foundation
import SegFormats
import SegTestSupport
import Testing

/// The shipped predictions and confidences are what `segscope infer` gives
/// from the shipped features and weights, so the explain view's probabilities
/// (computed from those features) agree with the prediction panes.
@Suite struct ShippedSamplesInferTests {
    static let samples = TestSupport.repositoryRoot + "/samples"
    static let stages = ["baseline", "stf", "mar"]

    struct NotEightBitGray: Error, CustomStringConvertible {
        let path: String
        var description: String { "\(path): not an 8-bit gray PNG" }
    }

    static func eightBit(_ path: String) throws -> (width: Int, height: Int, values: [UInt8]) {
        let png = try PNG.read(path: path)
        guard png.colorType == .gray, case .eight(let values) = png.samples else {
            throw NotEightBitGray(path: path)
        }
        return (png.width, png.height, values)
    }

    /// Infer over a copy of the samples (only the sequence with features is
    /// run): predictions equal to the shipped ones pixel for pixel, compact
    /// confidences within one step of 1/255 (BLAS summation order may move a
    /// value across a rounding boundary; in practice they are equal).
    @Test func shippedPredictionsAreInferOnTheShippedFeatures() throws {
        let root = try TestSupport.scratchDirectory()
        let copy = root + "/samples"
        try FileManager.default.copyItem(atPath: Self.samples, toPath: copy)
        let run = try TestSupport.segscope(
            [
                "infer", copy, "--weights", copy + "/weights/street-c64.safetensors", "--out", root + "/run",
                "--compact",
            ],
            timeout: 600)
        try #require(run.status == 0, "\(run.stderr)")
        let featureKeys = try FileManager.default.contentsOfDirectory(atPath: copy + "/street/features/val/synth")
            .filter { $0.hasSuffix(".npy") }.map { String($0.dropLast(4)) }.sorted()
        #expect(featureKeys.count >= 12, "at least one whole sequence has features")
        for stage in Self.stages {
            let written = try FileManager.default.contentsOfDirectory(atPath: root + "/run/pred/\(stage)")
                .map { String($0.dropLast(4)) }.sorted()
            #expect(written == featureKeys, "\(stage): infer ran the frames with features")
            for key in featureKeys {
                let ours = try Self.eightBit(root + "/run/pred/\(stage)/\(key).png")
                let shipped = try Self.eightBit(Self.samples + "/street/pred/\(stage)/\(key).png")
                #expect(ours.width == shipped.width && ours.height == shipped.height, "\(stage) \(key)")
                let differing = zip(ours.values, shipped.values).filter { $0 != $1 }.count
                #expect(ours.values.count == shipped.values.count && differing == 0, "\(stage) \(key): \(differing) px")
                let confidence = try Self.eightBit(root + "/run/conf/\(stage)/\(key).png")
                let shippedConfidence = try Self.eightBit(Self.samples + "/street/conf/\(stage)/\(key).png")
                let gap = zip(confidence.values, shippedConfidence.values).map { abs(Int($0) - Int($1)) }.max() ?? 99
                #expect(
                    confidence.values.count == shippedConfidence.values.count && gap <= 1,
                    "\(stage) \(key): confidences \(gap)/255 apart")
            }
        }
    }
}
