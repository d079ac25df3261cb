import Foundation
import SegEngine
import SegFormats
import SegTestSupport
import Testing

/// PSPNet against PyTorch modules built as the release's mmsegmentation
/// (Tests/Tools/make_backbone_fixtures.py: random weights and BatchNorm
/// statistics, mmseg's key names, reduced widths). Tolerance: 1e-4 x max|reference|.
@Suite struct BackboneGoldenTests {
    static let sizes = [(64, 96), (40, 56)]

    @Test(arguments: [18, 50])
    func featuresAndBaselineLogitsEqualMMSegmentation(depth: Int) throws {
        let root = GoldenTests.fixture("pspnet_r\(depth)")
        let model = try Model.load(path: root + "/weights.safetensors")
        let backbone = try #require(model.backbone)
        #expect(backbone.depth == depth)
        #expect(model.stf == nil && model.mar == nil)
        #expect(model.unusedTensors.allSatisfy { $0.hasPrefix("auxiliary_head.") }, "\(model.unusedTensors)")
        for (h, w) in Self.sizes {
            let image = try Npy.read(path: root + "/image_\(h)x\(w).npy")
            #expect(image.shape == [h, w, 3])
            let features = backbone.features(rgb: try image.uint8s(), height: h, width: w)
            let expected = try Npy.read(path: root + "/features_\(h)x\(w).npy")
            #expect(expected.shape == [backbone.channels, h / 8, w / 8])
            let reference = expected.floats()
            let scale = reference.map(abs).max()!
            let worst = zip(features, reference).map { abs($0 - $1) }.max()!
            #expect(
                features.count == reference.count && worst <= 1e-4 * scale,
                "features \(h)x\(w): max error \(worst), scale \(scale)")
            let outputs = try model.forward(
                previous: features, current: features, next: features, height: h / 8, width: w / 8)
            let logits = try Npy.read(path: root + "/logits_\(h)x\(w).npy").floats()
            let logitScale = logits.map(abs).max()!
            let logitError = zip(outputs.baselineLogits, logits).map { abs($0 - $1) }.max()!
            #expect(logitError <= 1e-4 * logitScale, "logits \(h)x\(w): max error \(logitError), scale \(logitScale)")
        }
    }
}

/// The same PSPNet from .pth files as users have them: an mmseg checkpoint
/// (zip layout, {"meta", "state_dict"}) and the release's "pspnet." names
/// (legacy layout), bit-identical to the safetensors twin.
@Suite struct BackboneCheckpointTests {
    @Test(arguments: ["pspnet_r18.mmseg.pth", "pspnet_r18.release.legacy.pth"])
    func pthGivesBitIdenticalFeatures(file: String) throws {
        let root = GoldenTests.fixture("pspnet_r18")
        let twin = try Model.load(path: root + "/weights.safetensors")
        let model = try Model.load(path: TestSupport.repositoryRoot + "/Tests/SegFormatsTests/Fixtures/pth/" + file)
        let image = try Npy.read(path: root + "/image_40x56.npy").uint8s()
        let ours = try #require(model.backbone).features(rgb: image, height: 40, width: 56)
        let theirs = try #require(twin.backbone).features(rgb: image, height: 40, width: 56)
        #expect(ours.map(\.bitPattern) == theirs.map(\.bitPattern))
        #expect(model.baselineClassifier.weight == twin.baselineClassifier.weight)
    }
}
