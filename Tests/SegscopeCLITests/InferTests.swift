import Foundation
import SegFormats
import SegTestSupport
import Testing

/// synth -> infer (random weights with the release's names) -> eval and view.
@Suite struct InferTests {
    static func setUp() throws -> (data: String, weights: String, run: String) {
        let root = try TestSupport.scratchDirectory()
        let synth = try TestSupport.segscope([
            "synth", "--out", root + "/data", "--sequences", "2", "--frames", "3",
            "--size", "64x128", "--feature-dim", "32", "--split", "val",
        ])
        #expect(synth.status == 0, "\(synth.stderr)")
        try TestSupport.python(
            """
            import sys
            sys.path.insert(0, sys.argv[2])
            import stf_mar_reference as ref
            from safetensors.numpy import save_file
            p, _ = ref.random_weights(c=32, heads=2, hb=4, wb=4, hp=8, wp=16, m=16, k=19, kl=2, depth=1, seed=9)
            save_file(p, sys.argv[1], metadata={"heads": "2", "block_size": "4,4"})
            """, [root + "/w.safetensors", TestSupport.repositoryRoot + "/Tests/Tools"])
        return (root + "/data", root + "/w.safetensors", root + "/run")
    }

    @Test func runOpensInEvalAndView() throws {
        let (data, weights, run) = try Self.setUp()
        let infer = try TestSupport.segscope(["infer", "--weights", weights, data, "--out", run])
        #expect(infer.status == 0, "\(infer.stderr)")
        for stage in ["baseline", "stf", "mar"] {
            let pred = try PNG.read(path: "\(run)/pred/\(stage)/synth_000001_000002.png")
            #expect(pred.width == 128 && pred.height == 64 && pred.bitDepth == 8)
            #expect(pred.bytes!.allSatisfy { $0 < 19 })
            let conf = try PNG.read(path: "\(run)/conf/\(stage)/synth_000001_000002.png")
            #expect(conf.bitDepth == 16 && conf.words!.allSatisfy { $0 >= 65535 / 19 })
        }
        let eval = try TestSupport.segscope(["eval", run, "--format", "json"])
        #expect(eval.status == 0, "\(eval.stderr)")
        let json = try JSONSerialization.jsonObject(with: Data(eval.stdout.utf8)) as! [String: Any]
        let methods = json["methods"] as! [String: [String: Any]]
        #expect(Set(methods.keys) == ["baseline", "stf", "mar"])
        #expect(methods["mar"]?["frames"] as? Int == 6)
        let view = try TestSupport.segscope(
            [
                "render", run, "--frame", "synth_000000_000001", "--keys", "c", "--ansi", "--cols", "160", "--rows",
                "48",
            ],
            environment: ["NO_COLOR": "", "TERM": "xterm-256color"])
        #expect(view.status == 0, "\(view.stderr)")
        #expect(
            view.stdout.contains("Δconf stf→mar")
                && view.stdout.range(of: #"↑[\d,]+ ↓[\d,]+"#, options: .regularExpression) != nil)
    }

    @Test func writtenFramesAreSkippedOnTheNextRun() throws {
        let (data, weights, run) = try Self.setUp()
        #expect(try TestSupport.segscope(["infer", "--weights", weights, data, "--out", run]).status == 0)
        let file = "\(run)/pred/mar/synth_000000_000000.png"
        let before = try FileManager.default.attributesOfItem(atPath: file)[.modificationDate] as! Date
        try FileManager.default.removeItem(atPath: "\(run)/conf/stf/synth_000001_000001.png")
        Thread.sleep(forTimeInterval: 0.05)
        #expect(try TestSupport.segscope(["infer", "--weights", weights, data, "--out", run]).status == 0)
        #expect(
            try FileManager.default.attributesOfItem(atPath: file)[.modificationDate] as! Date == before,
            "complete frames are not redone")
        #expect(
            FileManager.default.fileExists(atPath: "\(run)/conf/stf/synth_000001_000001.png"), "incomplete frames are")
    }

    @Test func aCustomLabelSpaceIsWhatTheRunOpensWith() throws {
        let (data, weights, run) = try Self.setUp()
        let theme = data + "/custom.toml"
        let classes = (0..<19).map {
            "\n[[class]]\nname = \"kind \($0)\"\ncolor = \"#\(String(format: "%02x%02x%02x", 10 * $0, 255 - 10 * $0, 7 * $0))\"\n"
        }
        try ("name = \"nineteen\"\nlabel_space = \"custom\"\n" + classes.joined()).write(
            toFile: theme, atomically: true, encoding: .utf8)
        let infer = try TestSupport.segscope([
            "infer", "--weights", weights, data, "--label-space", theme, "--out", run,
        ])
        #expect(infer.status == 0, "\(infer.stderr)")
        let eval = try TestSupport.segscope(["eval", run, "--format", "json"])
        #expect(eval.status == 0, "\(eval.stderr)")
        let json = try JSONSerialization.jsonObject(with: Data(eval.stdout.utf8)) as! [String: Any]
        #expect(json["classes"] as? [String] == (0..<19).map { "kind \($0)" })
    }

    @Test func classCountMustMatchTheLabelSpace() throws {
        let (data, _, run) = try Self.setUp()
        let fixture = TestSupport.repositoryRoot + "/Tests/SegEngineTests/Fixtures/small/weights.safetensors"
        let result = try TestSupport.segscope(["infer", "--weights", fixture, data, "--out", run])
        #expect(result.status != 0 && result.stderr.contains("5 classes, but the label space cityscapes has 19"))
    }
}
