import Foundation
import SegFormats
import SegTestSupport
import Testing

/// `segscope explain` as a user runs it, against the independent NumPy computation of the spec
/// (Tests/Tools/explain_reference.py); tolerance 1e-5 max abs.
@Suite struct ExplainCLITests {
    static let fixture = TestSupport.repositoryRoot + "/Tests/SegEngineTests/Fixtures/small"
    static let weights = fixture + "/weights.safetensors"
    static let frames = ["prev", "cur", "next"].map { fixture + "/\($0).npy" }

    static func oneLineError(_ outcome: TestSupport.Outcome, contains text: String) -> Bool {
        outcome.status == 1 && outcome.stderr.hasPrefix("segscope: ")
            && outcome.stderr.split(separator: "\n").count == 1 && outcome.stderr.contains(text)
    }

    static func json(_ text: String) throws -> [String: Any] {
        try JSONSerialization.jsonObject(with: Data(text.utf8)) as! [String: Any]
    }

    static func floats(_ value: Any?) -> [Double] { value as! [Double] }

    static func maxDifference(_ a: [Double], _ b: [Double]) -> Double {
        #expect(a.count == b.count)
        return zip(a, b).reduce(0) { max($0, abs($1.0 - $1.1)) }
    }

    /// --pixel 27,43 is token (3, 5) (stride 8); every weight of the JSON equals the reference's.
    @Test func jsonEqualsTheNumpyReference() throws {
        let result = try TestSupport.segscope(
            ["explain", "--weights", Self.weights, "--features"] + Self.frames + [
                "--pixel", "27,43", "--format", "json",
            ])
        #expect(result.status == 0, "\(result.stderr)")
        let ours = try Self.json(result.stdout)
        #expect(ours["token"] as? [Int] == [3, 5] && ours["pixel"] as? [Int] == [27, 43])
        let python = try TestSupport.outcome(
            "/usr/bin/env",
            [
                TestSupport.pythonExecutable, TestSupport.repositoryRoot + "/Tests/Tools/explain_reference.py",
                Self.weights,
            ]
                + Self.frames + ["3", "5"])
        #expect(python.status == 0, "\(python.stderr)")
        let reference = try Self.json(python.stdout)
        var worst = 0.0
        let steps = ours["steps"] as! [[String: Any]]
        let expectedSteps = reference["steps"] as! [[String: Any]]
        #expect(steps.map { $0["kind"] as! String } == expectedSteps.map { $0["kind"] as! String })
        for (step, expected) in zip(steps, expectedSteps) {
            let keys = step["keys"] as! [[Int]]
            let order = Dictionary(
                uniqueKeysWithValues: (expected["keys"] as! [[Int]]).enumerated().map { ($1, $0) })
            #expect(keys.count == order.count && keys.allSatisfy { order[$0] != nil })
            for (head, expectedHead) in zip(step["weights"] as! [[Double]], expected["weights"] as! [[Double]]) {
                worst = max(worst, Self.maxDifference(head, keys.map { expectedHead[order[$0] ?? 0] }))
            }
        }
        let composed = (ours["composed"] as! [[String: Any]])[0]
        let expectedComposed = (reference["composed"] as! [[String: Any]])[0]
        worst = max(
            worst, Self.maxDifference(Self.floats(composed["average"]), Self.floats(expectedComposed["average"])))
        for (head, expectedHead) in zip(composed["perHead"] as! [[Double]], expectedComposed["perHead"] as! [[Double]])
        {
            worst = max(worst, Self.maxDifference(head, expectedHead))
        }
        let probabilities = ours["probabilities"] as! [String: Any]
        let expectedProbabilities = reference["probabilities"] as! [String: Any]
        for stage in ["baseline", "stf", "mar"] {
            worst = max(
                worst, Self.maxDifference(Self.floats(probabilities[stage]), Self.floats(expectedProbabilities[stage])))
        }
        let mar = ours["mar"] as! [String: Any]
        let expectedMar = reference["mar"] as! [String: Any]
        for name in ["rowWeights", "classMass", "before", "after", "cosineBefore", "cosineAfter"] {
            worst = max(worst, Self.maxDifference(Self.floats(mar[name]), Self.floats(expectedMar[name])))
        }
        #expect(abs(Self.floats(mar["classMass"]).reduce(0, +) - 1) <= 1e-6)
        #expect(worst <= 1e-5)
    }

    /// The text lists --top keys per step, the one of largest head-averaged weight first, and MAR's table.
    @Test func textListsTheTopKeysAndTheMemoryByClass() throws {
        let arguments = ["explain", "--weights", Self.weights, "--frames"] + Self.frames + ["--pixel", "27,43"]
        let text = try TestSupport.segscope(arguments + ["--top", "3"])
        #expect(text.status == 0, "\(text.stderr)")
        let json = try Self.json(try TestSupport.segscope(arguments + ["--format", "json"]).stdout)
        let lines = text.stdout.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        #expect(lines[0] == "pixel (27, 43) of the 64x96 frame T -> token (3, 5) of 8x12 features")
        for step in json["steps"] as! [[String: Any]] {
            let kind = step["kind"] as! String
            let header = try #require(lines.firstIndex(of: "layer 0 \(kind) (\((step["keys"] as! [Any]).count) keys)"))
            let average = step["headAverage"] as! [Double]
            let best = average.indices.max { average[$0] < average[$1] }!
            let key = (step["keys"] as! [[Int]])[best]
            let frame = key[0] == 0 ? "T" : key[0] < 0 ? "T-1" : "T+1"
            // Header, column titles, then exactly three rows.
            let first = lines[header + 2].split(separator: " ").map(String.init)
            #expect(
                Array(first.prefix(4)) == [
                    frame, String(key[1]), String(key[2]), String(format: "%.4f", average[best]),
                ])
            #expect(lines[header + 5].isEmpty)
        }
        #expect(text.stdout.contains("layer 0 composed cross attention (long then short) over T-1, T, T+1"))
        let masses = Self.floats((json["mar"] as! [String: Any])["classMass"])
        let heaviest = masses.indices.max { masses[$0] < masses[$1] }!
        let marHeader = try #require(lines.firstIndex { $0.hasPrefix("MAR: memory attention by class (3 rows each)") })
        #expect(lines[marHeader + 2].hasPrefix("class \(heaviest) "))
        #expect(lines[marHeader + 2].contains(String(format: "%.4f", masses[heaviest])))
    }

    /// --images: the frames through the weights' backbone (the committed r18 fixture with random STF and MAR
    /// for 19 classes); the probabilities at the token are the softmax of forward's logits there (1e-5).
    @Test func imagesGoThroughTheBackboneAsForwardDoes() throws {
        let root = try TestSupport.scratchDirectory()
        let synth = try TestSupport.segscope([
            "synth", "--out", root + "/data", "--sequences", "1", "--frames", "3", "--size", "64x96",
            "--no-features", "--split", "val",
        ])
        #expect(synth.status == 0, "\(synth.stderr)")
        try TestSupport.python(
            """
            import sys
            sys.path.insert(0, sys.argv[3])
            import stf_mar_reference as ref
            from safetensors.numpy import load_file, save_file
            backbone = {k: v for k, v in load_file(sys.argv[2]).items() if not k.startswith("decode_head.conv_seg")}
            heads, _ = ref.random_weights(c=8, heads=2, hb=4, wb=4, hp=8, wp=12, m=16, k=19, kl=2, depth=1, seed=5)
            backbone.update(heads)
            save_file(backbone, sys.argv[1], metadata={"heads": "2", "block_size": "4,4"})
            """,
            [
                root + "/w.safetensors",
                TestSupport.repositoryRoot + "/Tests/SegEngineTests/Fixtures/pspnet_r18/weights.safetensors",
                TestSupport.repositoryRoot + "/Tests/Tools",
            ])
        let folder = root + "/data/leftImg8bit_sequence/val/synth"
        let images = try FileManager.default.contentsOfDirectory(atPath: folder).sorted().map { folder + "/" + $0 }
        #expect(images.count == 3)
        let forward = try TestSupport.segscope(
            ["forward", "--weights", root + "/w.safetensors", "--images"] + images + ["--out", root + "/out"])
        #expect(forward.status == 0, "\(forward.stderr)")
        let explain = try TestSupport.segscope(
            ["explain", "--weights", root + "/w.safetensors", "--images"] + images
                + ["--pixel", "50,70", "--format", "json"])
        #expect(explain.status == 0, "\(explain.stderr)")
        let json = try Self.json(explain.stdout)
        #expect(json["token"] as? [Int] == [6, 8])
        #expect((json["classes"] as! [String])[0] == "road", "19 classes are named as Cityscapes'")
        let probabilities = json["probabilities"] as! [String: Any]
        for stage in ["baseline", "stf", "mar"] {
            let logits = try Npy.read(path: root + "/out/logits_\(stage).npy")
            let (k, h, w) = (logits.shape[0], logits.shape[1], logits.shape[2])
            let values = logits.floats()
            let atToken = (0..<k).map { Double(values[$0 * h * w + 6 * w + 8]) }
            let top = atToken.max()!
            let exponentials = atToken.map { Foundation.exp($0 - top) }
            let sum = exponentials.reduce(0, +)
            let expected = exponentials.map { $0 / sum }
            #expect(Self.maxDifference(Self.floats(probabilities[stage]), expected) <= 1e-5, "\(stage)")
        }
    }

    @Test func badInputIsOneLineAndNamesTheProblem() throws {
        let base = ["explain", "--weights", Self.weights, "--features"] + Self.frames
        let outside = try TestSupport.segscope(base + ["--pixel", "64,0"])
        #expect(Self.oneLineError(outside, contains: "--pixel 64,0: outside the 64x96 frame of"), "\(outside.stderr)")
        let images = try TestSupport.segscope(
            ["explain", "--weights", Self.weights, "--images"] + Self.frames + ["--pixel", "0,0"])
        #expect(Self.oneLineError(images, contains: "has no backbone"), "\(images.stderr)")
        for (arguments, message) in [
            (["--pixel", "3;4"], "--pixel 3;4: expected Y,X"),
            (["--pixel=-1,4"], "--pixel row -1: must be in 0...1000000"),
            (["--pixel", "1,2", "--top", "0"], "--top 0: must be in 1...10000"),
        ] {
            let usage = try TestSupport.segscope(base + arguments)
            #expect(usage.status == 64 && usage.stderr.contains(message), "\(usage.stderr)")
        }
        let root = try TestSupport.scratchDirectory()
        var values = try Npy.read(path: Self.frames[1]).floats()
        values[5] = .nan
        try Npy.write(values, shape: [16, 8, 12], to: root + "/cur.npy")
        let nan = try TestSupport.segscope(
            [
                "explain", "--weights", Self.weights, "--features", Self.frames[0], root + "/cur.npy", Self.frames[2],
                "--pixel", "0,0",
            ])
        #expect(Self.oneLineError(nan, contains: root + "/cur.npy: feature nan"), "\(nan.stderr)")
        let finite = try Npy.read(path: Self.frames[2]).floats()
        try Npy.write(Array(finite.prefix(16 * 8 * 8)), shape: [16, 8, 8], to: root + "/narrow.npy")
        let shape = try TestSupport.segscope(
            [
                "explain", "--weights", Self.weights, "--features", Self.frames[0], Self.frames[1],
                root + "/narrow.npy",
                "--pixel", "0,0",
            ])
        #expect(
            Self.oneLineError(shape, contains: root + "/narrow.npy: shape [16, 8, 8] differs from"), "\(shape.stderr)")
    }
}
