import Foundation
import SegEngine
import SegFormats
import SegTestSupport
import Testing

/// The engine against the independent NumPy implementation of the spec
/// (Tests/Tools/stf_mar_reference.py, float64). Tolerance: 1e-4 max abs.
@Suite struct GoldenTests {
    static func fixture(_ name: String) -> String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/\(name)").path
    }

    static func maxAbsDifference(_ a: [Float], _ b: [Float]) -> Float {
        precondition(a.count == b.count, "sizes \(a.count) and \(b.count)")
        return zip(a, b).reduce(0) { max($0, abs($1.0 - $1.1)) }
    }

    @Test(arguments: ["small", "deep"])
    func forwardMatchesNumpyReference(name: String) throws {
        let root = Self.fixture(name)
        let model = try Model.load(path: root + "/weights.safetensors")
        #expect(model.unusedTensors == ["pspnet.backbone.unused"])
        let cur = try Npy.read(path: root + "/cur.npy")
        let (h, w) = (cur.shape[1], cur.shape[2])
        let out = try model.forward(previous: try Npy.read(path: root + "/prev.npy").floats(), current: cur.floats(),
                                    next: try Npy.read(path: root + "/next.npy").floats(), height: h, width: w)
        let expected = { (file: String) in try Npy.read(path: root + "/\(file).npy").floats() }
        #expect(Self.maxAbsDifference(try #require(out.stf), try expected("stf")) < 1e-4)
        #expect(Self.maxAbsDifference(try #require(out.mar), try expected("mar")) < 1e-4)
        #expect(Self.maxAbsDifference(out.baselineLogits, try expected("logits_baseline")) < 1e-4)
        #expect(Self.maxAbsDifference(try #require(out.stfLogits), try expected("logits_stf")) < 1e-4)
        #expect(Self.maxAbsDifference(try #require(out.marLogits), try expected("logits_mar")) < 1e-4)
    }
}
