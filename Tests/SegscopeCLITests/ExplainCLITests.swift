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
                + Self.frames + ["3", "5", "27", "43"])
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
        let pixelProbabilities = ours["pixelProbabilities"] as! [String: Any]
        let expectedPixelProbabilities = reference["pixelProbabilities"] as! [String: Any]
        for stage in ["baseline", "stf", "mar"] {
            worst = max(
                worst,
                Self.maxDifference(
                    Self.floats(pixelProbabilities[stage]), Self.floats(expectedPixelProbabilities[stage])))
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
    /// for 19 classes); the probabilities at the token are the softmax of forward's logits there (1e-5). PNG
    /// frames, and the same frames as JPEG (written by Pillow).
    @Test(arguments: ["png", "jpg"]) func imagesGoThroughTheBackboneAsForwardDoes(format: String) throws {
        let (root, _, _) = try BackboneFixture.make()
        let folder = root + "/data/leftImg8bit_sequence/val/synth"
        var images = try FileManager.default.contentsOfDirectory(atPath: folder).sorted().map { folder + "/" + $0 }
        #expect(images.count == 3)
        if format == "jpg" {
            try TestSupport.python(
                """
                import sys
                from PIL import Image
                for path in sys.argv[1:]:
                    Image.open(path).convert("RGB").save(path[:-4] + ".jpg", quality=90)
                """, images)
            images = images.map { String($0.dropLast(4)) + ".jpg" }
        }
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
            (["--pixel", "-1,4"], "--pixel row -1: must be in 0...1000000"),
            (["--pixel", "1,2", "--top", "-1"], "--top -1: must be in 1...10000"),
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
        // T the odd one out: T is named, not the neighbour checked against it.
        let odd = try TestSupport.segscope(
            [
                "explain", "--weights", Self.weights, "--features", Self.frames[0], root + "/narrow.npy",
                Self.frames[2], "--pixel", "0,0",
            ])
        #expect(
            Self.oneLineError(odd, contains: root + "/narrow.npy: shape [16, 8, 8] differs from " + Self.frames[0]),
            "\(odd.stderr)")
    }

    /// A synth dataset (2 sequences of 3 frames, 64x128, features of 32 channels, GT on every frame) and
    /// random weights for it (19 classes, 4x4 blocks), run through `segscope infer` (16-bit confidences).
    static func inferredRun() throws -> (data: String, weights: String, run: String) {
        let (data, weights, run) = try InferTests.setUp()
        let infer = try TestSupport.segscope(["infer", "--weights", weights, data, "--out", run])
        #expect(infer.status == 0, "\(infer.stderr)")
        return (data, weights, run)
    }

    static let stages = ["baseline", "stf", "mar"]

    /// The pixel probabilities of each stage against infer's files at that pixel, at the frame's corners,
    /// edges and inside, in a sequence's first frame (T-1 is T) and a middle one: the argmax is infer's
    /// predicted class unless the two largest probabilities are within 1e-4 (a near tie, which float32
    /// summation order may flip), and the largest is infer's confidence within the 16-bit PNG's half step
    /// plus 1e-5.
    @Test func pixelProbabilitiesAreInfersPredictionsAndConfidences() throws {
        let (_, weights, run) = try Self.inferredRun()
        var compared = 0
        for (key, window) in [
            ("synth_000000_000000", ["synth_000000_000000", "synth_000000_000000", "synth_000000_000001"]),
            ("synth_000001_000001", ["synth_000001_000000", "synth_000001_000001", "synth_000001_000002"]),
        ] {
            let predictions = try Self.stages.map { try PNG.read(path: "\(run)/pred/\($0)/\(key).png").bytes! }
            let confidences = try Self.stages.map { try PNG.read(path: "\(run)/conf/\($0)/\(key).png").words! }
            for (y, x) in [(0, 0), (0, 127), (63, 0), (63, 127), (0, 61), (40, 127), (27, 43), (36, 100), (4, 4)] {
                let result = try TestSupport.segscope([
                    "explain", run, "--weights", weights, "--frame", key, "--pixel", "\(y),\(x)", "--format", "json",
                ])
                #expect(result.status == 0, "\(result.stderr)")
                let json = try Self.json(result.stdout)
                #expect(json["frames"] as? [String] == window)
                #expect(json["token"] as? [Int] == [y / 8, x / 8])
                let pixel = json["pixelProbabilities"] as! [String: Any]
                for (s, stage) in Self.stages.enumerated() {
                    let values = Self.floats(pixel[stage])
                    let order = values.indices.sorted { values[$0] > values[$1] }
                    if values[order[0]] - values[order[1]] >= 1e-4 {
                        #expect(order[0] == Int(predictions[s][y * 128 + x]), "\(key) (\(y), \(x)) \(stage)")
                        compared += 1
                    }
                    let confidence = Double(confidences[s][y * 128 + x]) / 65535
                    #expect(abs(values[order[0]] - confidence) <= 0.5 / 65535 + 1e-5, "\(key) (\(y), \(x)) \(stage)")
                }
            }
        }
        #expect(compared >= 40, "most pixels are no near tie")
    }

    /// Each listed key of the dataset form names the GT class and each method's predicted class at the centre
    /// pixel of its 8x8 cell, as the PNG files of that window frame hold them.
    @Test func keysShowTheirGroundTruthAndPredictedClasses() throws {
        let (data, weights, run) = try Self.inferredRun()
        let key = "synth_000001_000001"
        let result = try TestSupport.segscope([
            "explain", run, "--weights", weights, "--frame", "2/2", "--pixel", "30,70", "--format", "json",
            "--top", "4",
        ])
        #expect(result.status == 0, "\(result.stderr)")
        let json = try Self.json(result.stdout)
        #expect(json["methods"] as? [String] == Self.stages)
        let frames = json["frames"] as! [String]
        #expect(frames[1] == key)
        func label(_ path: String, _ y: Int, _ x: Int) throws -> Int {
            let png = try PNG.read(path: path)
            return Int(png.bytes![(y * 8 + 4) * png.width + x * 8 + 4])
        }
        var checked = 0
        var places = Set<[Int]>()
        let steps = (json["steps"] as! [[String: Any]]) + (json["composed"] as! [[String: Any]])
        for step in steps {
            let listed = step["topKeys"] as! [[String: Any]]
            #expect(listed.count == 4)
            for entry in listed {
                let position = entry["key"] as! [Int]
                let frame = frames[position[0] + 1]
                let truth = try label(
                    "\(data)/gtFine/val/synth/\(frame)_gtFine_labelTrainIds.png", position[1], position[2])
                #expect(entry["gt"] as? Int == truth, "\(position)")
                let predicted = entry["predictions"] as! [String: Int]
                for stage in Self.stages {
                    let file = "\(run)/pred/\(stage)/\(frame).png"
                    #expect(predicted[stage] == (try label(file, position[1], position[2])))
                }
                places.insert(position)
                checked += 1
            }
        }
        #expect(checked == 4 * steps.count && places.count > 4)
        #expect(Set(places.map { $0[0] }).count > 1, "keys in more than one frame of the window")
        let text = try TestSupport.segscope([
            "explain", run, "--weights", weights, "--frame", key, "--pixel", "30,70", "--top", "1",
        ])
        #expect(text.status == 0, "\(text.stderr)")
        let lines = text.stdout.split(separator: "\n").map(String.init)
        let header = try #require(lines.firstIndex(of: "layer 0 encoder-long (24 keys)"))
        #expect(lines[header + 1].hasSuffix("head 1  gt            baseline      stf           mar"))
        let first = ((json["steps"] as! [[String: Any]])[0]["topKeys"] as! [[String: Any]])[0]
        let names = [
            "road", "sidewalk", "building", "wall", "fence", "pole", "traffic light", "traffic sign",
            "vegetation", "terrain", "sky", "person", "rider", "car", "truck", "bus", "train", "motorcycle", "bicycle",
        ]
        #expect(lines[header + 2].contains(names[first["gt"] as! Int]))
    }

    /// --fixed-broken --format json as a dictionary, after checking the command succeeded.
    static func table(_ arguments: [String]) throws -> [String: Any] {
        let result = try TestSupport.segscope(["explain"] + arguments + ["--fixed-broken", "--format", "json"])
        #expect(result.status == 0, "\(result.stderr)")
        return try json(result.stdout)
    }

    /// Per row name: pixels, and mean masses times pixels (the sums), for fixed then broken.
    static func sums(_ table: [String: Any]) -> [String: [Double]] {
        var out: [String: [Double]] = [:]
        for row in table["rows"] as! [[String: Any]] {
            out[row["name"] as! String] = ["fixed", "broken"].flatMap { kind -> [Double] in
                let part = row[kind] as! [String: Any]
                let pixels = part["pixels"] as! Double
                return [
                    pixels, pixels * (part["massGT"] as? Double ?? 0), pixels * (part["massWrong"] as? Double ?? 0),
                ]
            }
        }
        return out
    }

    /// The dataset's table (and a sequence's) is the sum of the tables of its frames run one by one: pixel
    /// counts exactly, mean masses within 1e-9; a frame without ground truth is skipped and counted; --out
    /// writes what stdout shows; the CSV's total row is the JSON's.
    @Test func fixedBrokenTableIsTheSumOfPerFrameRuns() throws {
        let (data, weights, run) = try Self.inferredRun()
        let unlabelled = "synth_000000_000002"
        for kind in ["labelIds", "labelTrainIds", "color"] {
            try FileManager.default.removeItem(atPath: "\(data)/gtFine/val/synth/\(unlabelled)_gtFine_\(kind).png")
        }
        let base = [data, "--weights", weights]
        let dataset = try Self.table(base)
        #expect(dataset["frames"] as? Int == 5 && dataset["framesWithoutGroundTruth"] as? Int == 1)
        #expect(dataset["reference"] as? String == "stf" && dataset["band"] as? Int == 3)
        let keys = [
            "synth_000000_000000", "synth_000000_000001", "synth_000001_000000", "synth_000001_000001",
            "synth_000001_000002",
        ]
        var summed: [String: [Double]] = [:]
        var secondSequence: [String: [Double]] = [:]
        for key in keys {
            let frame = try Self.table(base + ["--frame", key])
            #expect(frame["frames"] as? Int == 1 && frame["scope"] as? String == "frame \(key)")
            for (name, values) in Self.sums(frame) {
                summed[name] = zip(summed[name] ?? [0, 0, 0, 0, 0, 0], values).map { $0 + $1 }
                if key.hasPrefix("synth_000001") {
                    secondSequence[name] = zip(secondSequence[name] ?? [0, 0, 0, 0, 0, 0], values).map { $0 + $1 }
                }
            }
        }
        for (whole, parts) in [
            (Self.sums(dataset), summed),
            (
                Self.sums(try Self.table(base + ["--sequence", "2"])),
                secondSequence
            ),
        ] {
            #expect(Set(whole.keys) == Set(parts.keys))
            for (name, values) in whole {
                let expected = parts[name] ?? []
                #expect(values[0] == expected[0] && values[3] == expected[3], "\(name) pixels")
                for i in [1, 2, 4, 5] where values[i / 3 * 3] > 0 {
                    #expect(abs(values[i] - expected[i]) / values[i / 3 * 3] <= 1e-9, "\(name) column \(i)")
                }
            }
        }
        let total = try #require(Self.sums(dataset)["total"])
        #expect(total[0] > 0 && total[3] > 0, "MAR fixes and breaks boundary pixels of these frames")
        let unlabelledOnly = try Self.table(base + ["--frame", unlabelled])
        #expect(unlabelledOnly["frames"] as? Int == 0 && unlabelledOnly["framesWithoutGroundTruth"] as? Int == 1)

        let out = try TestSupport.scratchDirectory() + "/table.csv"
        let csvArguments = ["explain"] + base + ["--fixed-broken", "--format", "csv"]
        let written = try TestSupport.segscope(csvArguments + ["--out", out])
        #expect(written.status == 0 && written.stdout.isEmpty, "\(written.stderr)")
        let csv = try String(contentsOfFile: out, encoding: .utf8)
        #expect(csv == (try TestSupport.segscope(csvArguments)).stdout)
        let lines = csv.split(separator: "\n").map(String.init)
        #expect(lines[0].hasPrefix("# MAR fixed/broken boundary pixels of the dataset against stf: 5 frame(s)"))
        let totalCells = try #require(lines.last).split(separator: ",", omittingEmptySubsequences: false)
        #expect(totalCells[0] == "total" && Double(totalCells[1]) == total[0] && Double(totalCells[4]) == total[3])
        let text = try TestSupport.segscope(["explain"] + base + ["--fixed-broken", "--reference-stage", "baseline"])
        #expect(text.status == 0, "\(text.stderr)")
        #expect(
            text.stdout.hasPrefix(
                "MAR fixed/broken boundary pixels of the dataset against baseline: 5 frame(s) counted, 1 without ground "
                    + "truth and 0 without features skipped; GT boundary band 3 px"))
        _ = run
    }

    /// Bad datasets and options: one line naming the file or option, never a crash or a half-written table.
    @Test func fixedBrokenRefusesBadInput() throws {
        let (data, weights, _) = try Self.inferredRun()
        let base = ["explain", data, "--weights", weights, "--fixed-broken"]
        for (arguments, message) in [
            (["--pixel", "1,1"], "--fixed-broken counts whole frames: give no --pixel"),
            (["--frame", "1", "--sequence", "1"], "give --frame or --sequence, not both"),
            (["--band", "300"], "--band 300: must be in 0...255"),
            (["--reference-stage", "mar"], "--reference-stage: baseline or stf, not mar"),
        ] {
            let usage = try TestSupport.segscope(base + arguments)
            #expect(usage.status == 64 && usage.stderr.contains(message), "\(usage.stderr)")
        }
        let csv = try TestSupport.segscope(
            ["explain", "--weights", weights, "--features"] + Self.frames
                + ["--pixel", "1,1", "--format", "csv"])
        #expect(csv.status == 64 && csv.stderr.contains("--format csv goes with --fixed-broken"), "\(csv.stderr)")
        let band = try TestSupport.segscope([
            "explain", data, "--weights", weights, "--frame", "1", "--pixel", "1,1",
            "--band", "2",
        ])
        #expect(band.status == 64 && band.stderr.contains("--band goes with --fixed-broken"), "\(band.stderr)")
        let sequence = try TestSupport.segscope(base + ["--sequence", "9"])
        #expect(Self.oneLineError(sequence, contains: "--sequence 9: no such sequence in"), "\(sequence.stderr)")
        // Weights of another class count than the label space (the small fixture's), then of another width
        // than the features (C=16 against 32 channels).
        let otherClasses = try TestSupport.segscope(["explain", data, "--weights", Self.weights, "--fixed-broken"])
        #expect(
            Self.oneLineError(otherClasses, contains: "classes, but the label space"), "\(otherClasses.stderr)")
        let root = try TestSupport.scratchDirectory()
        try TestSupport.python(
            """
            import sys
            sys.path.insert(0, sys.argv[2])
            import stf_mar_reference as ref
            from safetensors.numpy import save_file
            p, _ = ref.random_weights(c=16, heads=2, hb=4, wb=4, hp=8, wp=16, m=16, k=19, kl=2, depth=1, seed=3)
            save_file(p, sys.argv[1], metadata={"heads": "2", "block_size": "4,4"})
            """, [root + "/w16.safetensors", TestSupport.repositoryRoot + "/Tests/Tools"])
        let wide = try TestSupport.segscope(["explain", data, "--weights", root + "/w16.safetensors", "--fixed-broken"])
        #expect(Self.oneLineError(wide, contains: "do not have the model's 16 channels"), "\(wide.stderr)")
        let truth = data + "/gtFine/val/synth/synth_000000_000001_gtFine_labelTrainIds.png"
        let original = try Data(contentsOf: URL(fileURLWithPath: truth))
        try PNG.write(
            PNGImage(
                width: 64, height: 32, colorType: .gray, bitDepth: 8,
                samples: .eight([UInt8](repeating: 0, count: 64 * 32))), to: truth)
        let small = try TestSupport.segscope(base)
        #expect(Self.oneLineError(small, contains: "ground truth 64x32 is not 8x the features"), "\(small.stderr)")
        try original.write(to: URL(fileURLWithPath: truth))
        try FileManager.default.removeItem(atPath: data + "/features/val/synth/synth_000001_000001.npy")
        // A labelled frame without features is skipped and counted; a scope of only such frames is an error.
        let out = root + "/table.txt"
        let skipping = try TestSupport.segscope(base + ["--out", out])
        #expect(skipping.status == 0, "\(skipping.stderr)")
        #expect(
            try String(contentsOfFile: out, encoding: .utf8).contains(
                "without ground truth and 1 without features skipped"))
        try FileManager.default.removeItem(atPath: out)
        let missing = try TestSupport.segscope(base + ["--frame", "synth_000001_000001", "--out", out])
        #expect(
            Self.oneLineError(
                missing,
                contains: "no frame of the scope with ground truth has features (the first: synth_000001_000001)"),
            "\(missing.stderr)")
        #expect(!FileManager.default.fileExists(atPath: out), "nothing written")
        // --out onto an input (the weights, by another name) is refused before anything is read or written.
        let weightsBefore = try Data(contentsOf: URL(fileURLWithPath: weights))
        try FileManager.default.createSymbolicLink(atPath: root + "/alias.safetensors", withDestinationPath: weights)
        let onto = try TestSupport.segscope(base + ["--out", root + "/alias.safetensors"])
        #expect(onto.status == 64 && onto.stderr.contains("is " + weights + ", an input"), "\(onto.stderr)")
        #expect(try Data(contentsOf: URL(fileURLWithPath: weights)) == weightsBefore)
        let pixel = try TestSupport.segscope([
            "explain", data, "--weights", weights, "--frame", "synth_000001_000001", "--pixel", "1,1",
        ])
        #expect(Self.oneLineError(pixel, contains: "synth_000001_000001 has no features"), "\(pixel.stderr)")
        let noFrame = try TestSupport.segscope([
            "explain", data, "--weights", weights, "--frame", "7/1", "--pixel", "1,1",
        ])
        #expect(Self.oneLineError(noFrame, contains: "--frame 7/1: no such frame in"), "\(noFrame.stderr)")
    }
}
