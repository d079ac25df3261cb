import Foundation
import SegTestSupport
import Testing

/// `render --keys X --weights W`: the explain view's top keys and MAR masses equal `segscope explain
/// --format json` at the same pixel and frames, an independent path through the CLI to the same numbers.
@Suite struct ExplainViewCLITests {
    static let weights = TestSupport.repositoryRoot + "/samples/weights/street-c64.safetensors"

    /// One sequence of three 64x128 frames with 64-channel features.
    static func synth(features: Bool = true) throws -> String {
        let root = try TestSupport.scratchDirectory() + "/d"
        let made = try TestSupport.segscope(
            [
                "synth", "--out", root, "--sequences", "1", "--frames", "3", "--size", "64x128", "--seed", "7",
                "--split",
                "val", "--feature-dim", "64",
            ] + (features ? [] : ["--no-features"]))
        #expect(made.status == 0, "\(made.stderr)")
        return root
    }

    static func plain(_ ansi: String) -> [String] {
        ansi.replacingOccurrences(of: "\u{1b}\\[[0-9;]*m", with: "", options: .regularExpression)
            .split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
    }

    static func pad(_ text: String, _ width: Int) -> String {
        text.padding(toLength: max(width, text.count), withPad: " ", startingAt: 0)
    }

    @Test func topKeysAndMARMassesEqualExplainJSON() throws {
        let root = try Self.synth()
        // Frame 2 of 3: its window is frames 1, 2, 3; X puts the cursor at the frame's centre (y 32, x 64).
        let render = try TestSupport.segscope(
            [
                "render", root, "--frame", "2", "--keys", "X", "--weights", Self.weights, "--ansi", "--cols", "160",
                "--rows", "48",
            ], environment: ["NO_COLOR": "1"])
        #expect(render.status == 0, "\(render.stderr)")
        let screen = Self.plain(render.stdout)
        let features = try FileManager.default.contentsOfDirectory(atPath: root + "/features/val/synth").sorted()
            .map { root + "/features/val/synth/" + $0 }
        #expect(features.count == 3)
        let explain = try TestSupport.segscope(
            ["explain", "--weights", Self.weights, "--features"] + features + ["--pixel", "32,64", "--format", "json"])
        #expect(explain.status == 0, "\(explain.stderr)")
        let json = try JSONSerialization.jsonObject(with: Data(explain.stdout.utf8)) as! [String: Any]
        #expect(json["token"] as? [Int] == [4, 8])
        #expect(screen.contains { $0.contains("token y4 x8") }, "\(screen.joined(separator: "\n"))")

        // Top 5 keys of the composed map of layer 0, averaged over heads (the default map).
        let composed = (json["composed"] as! [[String: Any]])[0]
        let shape = composed["shape"] as! [Int]
        let average = composed["average"] as! [Double]
        let order = average.indices.sorted { average[$0] > average[$1] || (average[$0] == average[$1] && $0 < $1) }
        let n = shape[1] * shape[2]
        for index in order.prefix(5) {
            let frame = ["T-1", "T", "T+1"][index / n]
            let key = "(\(index % n / shape[2]),\(index % shape[2]))"
            let row = Self.pad(frame, 3) + " " + Self.pad(key, 9) + " " + String(format: "%.4f", average[index])
            #expect(screen.contains { $0.contains("│ " + row + " ") }, "top key \(row)")
        }
        // MAR's mass per class: the classes with at least 0.01, and at least the top 5, as three decimals.
        let mar = json["mar"] as! [String: Any]
        let mass = mar["classMass"] as! [Double]
        let classes = json["classes"] as! [String]
        for (rank, k) in mass.indices.sorted(by: { mass[$0] > mass[$1] }).enumerated()
        where rank < 5 || mass[k] >= 0.01 {
            let shown = screen.first { $0.contains("│ █ " + classes[k].prefix(4)) }
            #expect(
                shown?.split(separator: " ").contains(Substring(String(format: "%.3f", mass[k]))) == true,
                "mass of \(classes[k]): \(shown ?? "missing")")
        }
    }

    /// Frames without features, weights with a backbone (the committed r18 fixture with random STF and MAR):
    /// the view computes the window's features from the images, as `explain --images` does.
    @Test func framesWithoutFeaturesGoThroughTheBackbone() throws {
        let (root, _, _) = try BackboneFixture.make()
        let folder = root + "/data/leftImg8bit_sequence/val/synth"
        let images = try FileManager.default.contentsOfDirectory(atPath: folder).sorted().map { folder + "/" + $0 }
        let render = try TestSupport.segscope(
            [
                "render", root + "/data", "--frame", "2", "--keys", "X", "--weights", root + "/w.safetensors", "--ansi",
                "--cols", "160", "--rows", "48",
            ], environment: ["NO_COLOR": "1"])
        #expect(render.status == 0, "\(render.stderr)")
        let screen = Self.plain(render.stdout)
        let explain = try TestSupport.segscope(
            ["explain", "--weights", root + "/w.safetensors", "--images"] + images
                + ["--pixel", "32,48", "--format", "json"])
        #expect(explain.status == 0, "\(explain.stderr)")
        let json = try JSONSerialization.jsonObject(with: Data(explain.stdout.utf8)) as! [String: Any]
        #expect(json["token"] as? [Int] == [4, 6])
        #expect(screen.contains { $0.contains("token y4 x6") }, "\(screen.joined(separator: "\n"))")
        let average = (json["composed"] as! [[String: Any]])[0]["average"] as! [Double]
        let best = average.indices.max { average[$0] < average[$1] || (average[$0] == average[$1] && $0 > $1) }!
        #expect(screen.contains { $0.contains(String(format: " %.4f ", average[best])) }, "the top key's weight")
        let mass = (json["mar"] as! [String: Any])["classMass"] as! [Double]
        let heaviest = mass.indices.max { mass[$0] < mass[$1] }!
        let name = (json["classes"] as! [String])[heaviest]
        #expect(
            screen.contains {
                $0.contains("│ █ " + name.prefix(4)) && $0.contains(String(format: " %.3f ", mass[heaviest]))
            })
    }

    @Test func saysInOneLineWhatItNeeds() throws {
        let root = try Self.synth()
        let noWeights = try TestSupport.segscope(
            ["render", root, "--keys", "X", "--ansi", "--cols", "160", "--rows", "30"], environment: ["NO_COLOR": "1"])
        // render draws nothing it cannot explain: one line saying why, exit 1 (the viewer shows it in its panel).
        #expect(noWeights.status == 1 && noWeights.stdout.isEmpty, "\(noWeights.stdout)")
        #expect(
            noWeights.stderr
                == "segscope: explain needs --weights W (STF/MAR weights), or weights = \"W\" in segscope.toml\n",
            "\(noWeights.stderr)")

        let bare = try Self.synth(features: false)
        let noFeatures = try TestSupport.segscope(
            ["render", bare, "--keys", "X", "--weights", Self.weights, "--ansi", "--cols", "160", "--rows", "30"],
            environment: ["NO_COLOR": "1"])
        #expect(noFeatures.status == 1 && noFeatures.stdout.isEmpty, "\(noFeatures.stdout)")
        #expect(
            noFeatures.stderr
                == "segscope: no features for frame synth_000000_000000: give --features DIR, or weights with a backbone\n",
            "\(noFeatures.stderr)")

        let missing = try TestSupport.segscope(
            ["render", root, "--keys", "X", "--weights", root + "/none.safetensors", "--ansi"])
        #expect(missing.status != 0 && missing.stderr.split(separator: "\n").count == 1)
        #expect(missing.stderr.contains("--weights") && missing.stderr.contains("none.safetensors"))
    }

    @Test func theManifestNamesTheWeights() throws {
        let root = try Self.synth()
        let manifest = root + "/segscope.toml"
        let text = try String(contentsOfFile: manifest, encoding: .utf8)
        try ("weights = \"\(Self.weights)\"\n" + text).write(toFile: manifest, atomically: true, encoding: .utf8)
        let render = try TestSupport.segscope(
            ["render", root, "--frame", "2", "--keys", "X", "--ansi", "--cols", "160", "--rows", "48"],
            environment: ["NO_COLOR": "1"])
        #expect(render.status == 0, "\(render.stderr)")
        #expect(
            Self.plain(render.stdout).contains { $0.contains("token y4 x8") && $0.contains("composed cross L0 avg") })

        // A manifest's weights that are missing: the view says so in a line; that are not a name: an error.
        try ("weights = \"nothere.safetensors\"\n" + text).write(toFile: manifest, atomically: true, encoding: .utf8)
        let missing = try TestSupport.segscope(
            ["render", root, "--keys", "X", "--ansi", "--cols", "160", "--rows", "30"], environment: ["NO_COLOR": "1"])
        #expect(missing.status == 1 && missing.stderr.split(separator: "\n").count == 1, "\(missing.stderr)")
        #expect(missing.stderr.contains(root + "/nothere.safetensors: no such file"), "\(missing.stderr)")
        try ("weights = 5\n" + text).write(toFile: manifest, atomically: true, encoding: .utf8)
        let wrong = try TestSupport.segscope(["render", root, "--keys", "X", "--ansi"])
        #expect(wrong.status == 1 && wrong.stderr.split(separator: "\n").count == 1)
        #expect(wrong.stderr.contains("segscope.toml: bad manifest: 'weights' must be a file name (a string)"))
    }

    /// A run of `infer` names its weights: `view RUN` explains without --weights, with the run's features.
    @Test func anInferRunExplainsWithTheWeightsThatMadeIt() throws {
        let root = try Self.synth()
        let run = try TestSupport.scratchDirectory() + "/run"
        let infer = try TestSupport.segscope(["infer", root, "--weights", Self.weights, "--out", run])
        #expect(infer.status == 0, "\(infer.stderr)")
        let manifest = try String(contentsOfFile: run + "/segscope.toml", encoding: .utf8)
        #expect(manifest.contains("weights = \"\(Self.weights)\""), "\(manifest)")
        let render = try TestSupport.segscope(
            ["render", run, "--frame", "2", "--keys", "X", "--ansi", "--cols", "160", "--rows", "48"],
            environment: ["NO_COLOR": "1"])
        #expect(render.status == 0, "\(render.stderr)")
        let screen = Self.plain(render.stdout)
        #expect(
            screen.contains { $0.contains("token y4 x8") && $0.contains("composed cross L0 avg") },
            "\(screen.joined(separator: "\n"))")
        #expect(!screen.contains { $0.contains("explain needs --weights") })
    }
}
