import Foundation
import SegEngine
import SegFormats
import SegTestSupport
import Testing

/// `Model.memoryClassMasses` (every token's MAR class masses in one batched pass) against its float64
/// twin and against explain's per-token `MARExplanation.classMass`. Tolerance 1e-6 max abs (masses are in
/// [0, 1]; float32 softmax over the memory rows). All three use the engine's folded score projection: the
/// fold itself is held to the NumPy reference's unfolded row weights in ExplainTests.
@Suite struct MemoryClassMassTests {
    static let tolerance: Float = 1e-6

    static func window(_ root: String) throws -> (Model, [[Float]], Int, Int) {
        let model = try Model.load(path: root + "/weights.safetensors")
        let frames = try ["prev", "cur", "next"].map { try Npy.read(path: "\(root)/\($0).npy") }
        return (model, frames.map { $0.floats() }, frames[1].shape[1], frames[1].shape[2])
    }

    @Test func everyTokenEqualsTheTwinAndExplain() throws {
        let (model, f, h, w) = try Self.window(GoldenTests.fixture("small"))
        let outputs = try model.forward(previous: f[0], current: f[1], next: f[2], height: h, width: w)
        let g = try #require(outputs.stf)
        let masses = try model.memoryClassMasses(marInput: g, height: h, width: w)
        let k = model.classes
        #expect(masses.count == h * w * k)
        let twin = Reference.memoryClassMasses(model: model, marInput: g, height: h, width: w)
        #expect(zip(masses, twin).allSatisfy { abs($0 - $1) <= Self.tolerance })
        for t in 0..<(h * w) {
            #expect(abs(masses[(t * k)..<((t + 1) * k)].reduce(0, +) - 1) <= 1e-5, "token \(t) sums to 1")
        }
        // Classes differ in mass (the test would pass for uniform masses otherwise).
        #expect(Set(masses.map { ($0 * 1000).rounded() }).count > k)
        let context = try ExplainContext(model: model, previous: f[0], current: f[1], next: f[2], height: h, width: w)
        for (y, x) in [(0, 0), (3, 5), (h - 1, w - 1), (5, 10)] {
            let mar = try #require(try context.explain(y: y, x: x).mar)
            let t = y * w + x
            #expect(zip(mar.classMass, masses[(t * k)..<((t + 1) * k)]).allSatisfy { abs($0 - $1) <= Self.tolerance })
        }
    }

    @Test func refusesWeightsWithoutMARAndWrongShapes() throws {
        let (model, f, h, w) = try Self.window(GoldenTests.fixture("small"))
        #expect(throws: ModelError.self) { try model.memoryClassMasses(marInput: f[1], height: h + 1, width: w) }
        var infinite = f[1]
        infinite[3] = .nan
        #expect(throws: ModelError.geometry("cur.npy: MAR's input holds nan at element 3")) {
            try model.memoryClassMasses(marInput: infinite, height: h, width: w, input: "cur.npy")
        }
        let path = try classifierOnlyWeights()
        let plain = try Model.load(path: path)
        #expect(throws: MemoryClassMassError.noMAR(path: path)) {
            try plain.memoryClassMasses(marInput: f[1], height: h, width: w)
        }
    }
}
