import Foundation
import SegEngine
import SegFormats
import SegTestSupport
import Testing

/// `ExplainContext` (the per-token fast path) against the independent NumPy computation of the spec
/// (Tests/Tools/explain_reference.py, float64, every ICSA's attention matrices kept) and against its
/// plain float64 twin `ExplainReference`. Tolerance: 1e-5 max abs on every attention weight, every
/// composed-map value, every probability, MAR row weight and cosine.
@Suite struct ExplainTests {
    struct ReferenceFailure: Error { let stderr: String }

    static let tolerance: Float = 1e-5
    static let tools = TestSupport.repositoryRoot + "/Tests/Tools"

    /// Random weights with the release's names (stf_mar_reference.random_weights) and features, in a
    /// scratch folder: w.safetensors, prev.npy, cur.npy, next.npy.
    static func makeCase(
        c: Int, heads: Int, block: (Int, Int), size: (Int, Int), positions: (Int, Int), ffn: Int, classes: Int,
        perClass: Int, depth: Int = 1, seed: Int, label: String = #function
    ) throws -> String {
        let root = try TestSupport.scratchDirectory(label)
        try TestSupport.python(
            """
            import sys
            sys.path.insert(0, sys.argv[2])
            import numpy as np, stf_mar_reference as ref
            from safetensors.numpy import save_file
            root, (c, heads, hb, wb, h, w, hp, wp, m, k, kl, depth, seed) = sys.argv[1], map(int, sys.argv[3:])
            p, rng = ref.random_weights(c, heads, hb, wb, hp, wp, m, k, kl, depth, seed)
            save_file(p, root + "/w.safetensors", metadata={"heads": str(heads), "block_size": "%d,%d" % (hb, wb)})
            for n in ("prev", "cur", "next"):
                np.save(root + "/%s.npy" % n, rng.standard_normal((c, h, w)).astype(np.float32))
            """,
            [root, tools]
                + [
                    c, heads, block.0, block.1, size.0, size.1, positions.0, positions.1, ffn, classes, perClass,
                    depth, seed,
                ].map(String.init))
        return root
    }

    static func load(_ root: String, weights: String = "w.safetensors") throws -> (Model, [[Float]], Int, Int) {
        let model = try Model.load(path: root + "/" + weights)
        let frames = try ["prev", "cur", "next"].map { try Npy.read(path: "\(root)/\($0).npy") }
        return (model, frames.map { $0.floats() }, frames[1].shape[1], frames[1].shape[2])
    }

    static func numpyReference(_ root: String, weights: String = "w.safetensors", y: Int, x: Int) throws -> [String:
        Any]
    {
        let text = try TestSupport.outcome(
            "/usr/bin/env",
            [
                TestSupport.pythonExecutable, tools + "/explain_reference.py", root + "/" + weights, root + "/prev.npy",
                root + "/cur.npy", root + "/next.npy", String(y), String(x),
            ])
        guard text.status == 0 else { throw ReferenceFailure(stderr: text.stderr) }
        return try JSONSerialization.jsonObject(with: Data(text.stdout.utf8)) as! [String: Any]
    }

    static func floats(_ value: Any?) -> [Float] { (value as! [Double]).map(Float.init) }

    /// Largest difference between two explanations, keys matched by position (the two list them in
    /// their own orders); fails when they differ in which steps, keys or stages they have.
    static func difference(_ a: PixelExplanation, _ b: PixelExplanation) -> Float {
        differences(a, b).values.max() ?? 0
    }

    /// The largest absolute difference per part: "attention" (every step's weights and the composed maps),
    /// "probabilities" (per stage) and "memory" (MAR's rows, masses, probabilities and cosines).
    static func differences(_ a: PixelExplanation, _ b: PixelExplanation) -> [String: Float] {
        var worst: [String: Float] = [:]
        var part = "attention"
        func compare(_ x: [Float], _ y: [Float]) {
            #expect(x.count == y.count)
            for (u, v) in zip(x, y) { worst[part] = max(worst[part] ?? 0, abs(u - v)) }
        }
        #expect(a.steps.map(\.kind) == b.steps.map(\.kind))
        for (s, t) in zip(a.steps, b.steps) {
            #expect(Set(s.keys) == Set(t.keys) && s.keys.count == t.keys.count)
            let order = Dictionary(uniqueKeysWithValues: t.keys.enumerated().map { ($1, $0) })
            let permutation = s.keys.map { order[$0] ?? 0 }
            for (x, y) in zip(s.weights, t.weights) { compare(x, permutation.map { y[$0] }) }
        }
        #expect(a.composed.count == b.composed.count)
        for (m, n) in zip(a.composed, b.composed) {
            compare(m.average, n.average)
            for (x, y) in zip(m.perHead, n.perHead) { compare(x, y) }
        }
        #expect(a.probabilities.map(\.stage) == b.probabilities.map(\.stage))
        part = "probabilities"
        for (x, y) in zip(a.probabilities, b.probabilities) { compare(x.values, y.values) }
        #expect((a.mar == nil) == (b.mar == nil))
        part = "memory"
        if let m = a.mar, let n = b.mar {
            compare(m.rowWeights, n.rowWeights)
            compare(m.classMass, n.classMass)
            compare(m.probabilitiesBefore, n.probabilitiesBefore)
            compare(m.probabilitiesAfter, n.probabilitiesAfter)
            compare(m.cosineBefore, n.cosineBefore)
            compare(m.cosineAfter, n.cosineAfter)
        }
        return worst
    }

    /// The NumPy reference's JSON as a PixelExplanation, so `difference` compares the two.
    static func explanation(_ json: [String: Any], height h: Int, width w: Int) -> PixelExplanation {
        let kinds = Dictionary(uniqueKeysWithValues: AttentionStepKind.allCases.map { ($0.rawValue, $0) })
        let steps = (json["steps"] as! [[String: Any]]).map { step in
            AttentionStep(
                layer: step["layer"] as! Int, kind: kinds[step["kind"] as! String]!,
                keys: (step["keys"] as! [[Int]]).map { TokenPosition(frame: $0[0], y: $0[1], x: $0[2]) },
                weights: (step["weights"] as! [Any]).map(floats))
        }
        let composed = (json["composed"] as! [[String: Any]]).map { map in
            ComposedAttention(
                layer: map["layer"] as! Int, height: h, width: w, perHead: (map["perHead"] as! [Any]).map(floats),
                average: floats(map["average"]))
        }
        let stages = json["probabilities"] as! [String: Any]
        let probabilities = Stage.allCases.compactMap { stage in
            stages[stage.rawValue].map { (stage: stage, values: floats($0)) }
        }
        let mar = (json["mar"] as? [String: Any]).map { m in
            let rows = floats(m["rowWeights"])
            return MARExplanation(
                rowWeights: rows, rowsPerClass: rows.count / floats(m["classMass"]).count,
                classMass: floats(m["classMass"]), probabilitiesBefore: floats(m["before"]),
                probabilitiesAfter: floats(m["after"]), cosineBefore: floats(m["cosineBefore"]),
                cosineAfter: floats(m["cosineAfter"]))
        }
        return PixelExplanation(
            y: -1, x: -1, steps: steps, composed: composed, probabilities: probabilities, mar: mar)
    }

    @Test func smallSizeMatchesNumpyAndTwin() throws {
        // C=16, 8x16 tokens, 4x4 blocks, 2 heads; pe of another size, so the resize is exercised.
        let root = try Self.makeCase(
            c: 16, heads: 2, block: (4, 4), size: (8, 16), positions: (6, 10), ffn: 24, classes: 5, perClass: 3,
            seed: 11)
        let (model, f, h, w) = try Self.load(root)
        let context = try ExplainContext(model: model, previous: f[0], current: f[1], next: f[2], height: h, width: w)
        for (y, x) in [(0, 0), (3, 5), (7, 15), (5, 10)] {
            let fast = try context.explain(y: y, x: x)
            #expect(fast.steps.count == 6 && fast.composed.count == 1)
            let numpy = Self.explanation(try Self.numpyReference(root, y: y, x: x), height: h, width: w)
            #expect(Self.difference(fast, numpy) <= Self.tolerance, "token (\(y), \(x)) against NumPy")
            let twin = ExplainReference.explain(
                model: model, previous: f[0], current: f[1], next: f[2], height: h, width: w, y: y, x: x)
            #expect(Self.difference(fast, twin) <= Self.tolerance, "token (\(y), \(x)) against the twin")
        }
    }

    /// Two layers, 4 heads, 2x4 blocks (the golden "deep" fixture): every layer's steps and composed map.
    @Test func deeperModelMatchesNumpyAndTwin() throws {
        let root = GoldenTests.fixture("deep")
        let (model, f, h, w) = try Self.load(root, weights: "weights.safetensors")
        let context = try ExplainContext(model: model, previous: f[0], current: f[1], next: f[2], height: h, width: w)
        for (y, x) in [(1, 6), (4, 3)] {
            let fast = try context.explain(y: y, x: x)
            #expect(fast.steps.count == 12 && fast.composed.count == 2)
            let numpy = Self.explanation(
                try Self.numpyReference(root, weights: "weights.safetensors", y: y, x: x), height: h, width: w)
            #expect(Self.difference(fast, numpy) <= Self.tolerance)
            let twin = ExplainReference.explain(
                model: model, previous: f[0], current: f[1], next: f[2], height: h, width: w, y: y, x: x)
            #expect(Self.difference(fast, twin) <= Self.tolerance)
        }
    }

    /// The release's width: C=512, 16x32 tokens, 8x8 blocks, 2 heads, 19 classes x 10 memory rows.
    @Test func releaseWidthMatchesNumpy() throws {
        let root = try Self.makeCase(
            c: 512, heads: 2, block: (8, 8), size: (16, 32), positions: (12, 20), ffn: 256, classes: 19,
            perClass: 10, seed: 12)
        let (model, f, h, w) = try Self.load(root)
        let context = try ExplainContext(model: model, previous: f[0], current: f[1], next: f[2], height: h, width: w)
        for (y, x) in [(9, 21), (0, 31)] {
            let fast = try context.explain(y: y, x: x)
            let numpy = Self.explanation(try Self.numpyReference(root, y: y, x: x), height: h, width: w)
            // Attention weights and composed maps at 1e-5 (the line). Probabilities and MAR's figures
            // carry the float32 forward pass's own error at this width (its logits are held to 1e-3 against
            // float64 in WideGoldenTests), so 1e-4 here; against segscope's own logits they are within 1e-5
            // (probabilitiesAreForwardsAndMassesSumToOne).
            let parts = Self.differences(fast, numpy)
            #expect((parts["attention"] ?? .infinity) <= Self.tolerance, "token (\(y), \(x)): \(parts)")
            #expect(
                max(parts["probabilities"] ?? .infinity, parts["memory"] ?? .infinity) <= 1e-4,
                "token (\(y), \(x)): \(parts)")
        }
    }

    /// At every token: each step's heads, the composed maps and MAR's class masses sum to 1, and the
    /// probabilities are the softmax of the logits Model.forward gives there (1e-5).
    @Test func probabilitiesAreForwardsAndMassesSumToOne() throws {
        let root = GoldenTests.fixture("small")
        let (model, f, h, w) = try Self.load(root, weights: "weights.safetensors")
        let outputs = try model.forward(previous: f[0], current: f[1], next: f[2], height: h, width: w)
        let context = try ExplainContext(model: model, previous: f[0], current: f[1], next: f[2], height: h, width: w)
        let k = model.classes
        for y in 0..<h {
            for x in 0..<w {
                let e = try context.explain(y: y, x: x)
                for step in e.steps {
                    for head in step.weights { #expect(abs(head.reduce(0, +) - 1) < 1e-5) }
                }
                for map in e.composed { #expect(abs(map.average.reduce(0, +) - 1) < 1e-5) }
                let mar = try #require(e.mar)
                #expect(abs(mar.classMass.reduce(0, +) - 1) <= 1e-6)
                #expect(mar.classMass.count == k && mar.rowWeights.count == k * mar.rowsPerClass)
                for (stage, values) in e.probabilities {
                    let logits = try #require(outputs.logits(stage))
                    let expected = Reference.softmax((0..<k).map { logits[$0 * h * w + y * w + x] })
                    #expect(zip(values, expected).allSatisfy { abs($0 - $1) <= 1e-5 }, "\(stage) at (\(y), \(x))")
                }
            }
        }
    }

    /// At full-resolution pixels of the fixture's 64x96 frame: the pixel probabilities are the softmax of
    /// forward's logits resized here in float64 (PyTorch's bilinear, align_corners=False, written out), 1e-5;
    /// the token's part is that of explain(y: Y/8, x: X/8).
    @Test func pixelProbabilitiesAreTheUpsampledLogits() throws {
        let root = GoldenTests.fixture("small")
        let (model, f, h, w) = try Self.load(root, weights: "weights.safetensors")
        let outputs = try model.forward(previous: f[0], current: f[1], next: f[2], height: h, width: w)
        let context = try ExplainContext(model: model, previous: f[0], current: f[1], next: f[2], height: h, width: w)
        let (k, s) = (model.classes, 8)
        func tap(_ i: Int, _ size: Int) -> (Int, Int, Double) {
            let source = max(0, (Double(i) + 0.5) / Double(s) - 0.5)
            let i0 = min(Int(source), size - 1)
            return (i0, min(i0 + 1, size - 1), source - Double(i0))
        }
        var worst: Float = 0
        // Every third row and column (all eight bilinear phases) and the last ones (the clamped edge).
        for y in Array(stride(from: 0, to: h * s, by: 3)) + [h * s - 1] {
            for x in Array(stride(from: 0, to: w * s, by: 3)) + [w * s - 1] {
                let e = try context.explain(pixelY: y, pixelX: x)
                #expect(e.pixel?.y == y && e.pixel?.x == x && e.y == y / s && e.x == x / s)
                #expect(e.pixelProbabilities.map(\.stage) == model.stages)
                let ((y0, y1, fy), (x0, x1, fx)) = (tap(y, h), tap(x, w))
                for (stage, values) in e.pixelProbabilities {
                    let logits = try #require(outputs.logits(stage))
                    let at = { (j: Int, v: Int, u: Int) in Double(logits[j * h * w + v * w + u]) }
                    let resized = (0..<k).map { j in
                        (at(j, y0, x0) * (1 - fx) + at(j, y0, x1) * fx) * (1 - fy)
                            + (at(j, y1, x0) * (1 - fx) + at(j, y1, x1) * fx) * fy
                    }
                    let top = resized.max()!
                    let sum = resized.reduce(0) { $0 + Foundation.exp($1 - top) }
                    for j in 0..<k {
                        worst = max(worst, abs(values[j] - Float(Foundation.exp(resized[j] - top) / sum)))
                    }
                }
            }
        }
        #expect(worst <= Self.tolerance, "largest difference \(worst)")
        let token = try context.explain(y: 3, x: 5)
        let pixel = try context.explain(pixelY: 27, pixelX: 43)
        #expect(token.pixel == nil && token.pixelProbabilities.isEmpty)
        #expect(Self.difference(token, pixel) == 0)
        #expect(throws: FramePixelError(y: h * s, x: 0, height: h * s, width: w * s)) {
            try context.explain(pixelY: h * s, pixelX: 0)
        }
    }

    @Test func refusesTokensOutsideAndFeaturesOffTheBlocks() throws {
        let root = GoldenTests.fixture("small")
        let (model, f, h, w) = try Self.load(root, weights: "weights.safetensors")
        let context = try ExplainContext(model: model, previous: f[0], current: f[1], next: f[2], height: h, width: w)
        #expect(throws: ExplainError.pixel(y: h, x: 0, height: h, width: w)) { try context.explain(y: h, x: 0) }
        #expect(throws: ExplainError.pixel(y: 0, x: -1, height: h, width: w)) { try context.explain(y: 0, x: -1) }
        // 6x8 features: 6 rows are no whole number of the fixture's 4x4 blocks.
        let wrong = Array(f[1].prefix(model.channels * 6 * 8))
        #expect(throws: ModelError.self) {
            try ExplainContext(model: model, previous: wrong, current: wrong, next: wrong, height: 6, width: 8)
        }
        let path = try classifierOnlyWeights()
        let plain = try Model.load(path: path)
        #expect(throws: ExplainError.nothingToExplain(path: path)) {
            try ExplainContext(model: plain, previous: f[0], current: f[1], next: f[2], height: h, width: w)
        }
        var infinite = f[1]
        infinite[7] = .infinity
        #expect(throws: ModelError.geometry("cur.npy: the features of frame T hold inf at element 7")) {
            try ExplainContext(
                model: model, previous: f[0], current: infinite, next: f[2], height: h, width: w, input: "cur.npy")
        }
    }
}
