import Foundation
import SegFormats
import SegTestSupport
import Testing

/// Small trainIds datasets written by segscope's own PNG writer, for eval's figures.
enum EvalFixture {
    /// GT and predictions of `frames` frames per sequence (`seq_000000_00000N`), 8x4 pixels.
    /// `prediction(method, sequence, frame)` gives a method's labels, or nil for no file.
    static func make(
        _ root: String, sequences: [String], frames: Int, methods: [String],
        truth: (String, Int) -> [UInt8] = { _, _ in [UInt8](repeating: 0, count: 16) + [UInt8](repeating: 1, count: 16)
        },
        prediction: (String, String, Int) -> [UInt8]?
    ) throws {
        try FileManager.default.createDirectory(atPath: root + "/gt", withIntermediateDirectories: true)
        for method in methods {
            try FileManager.default.createDirectory(atPath: root + "/\(method)", withIntermediateDirectories: true)
        }
        for sequence in sequences {
            for f in 1...frames {
                let key = "\(sequence)_000000_\(String(format: "%06d", f))"
                try write(truth(sequence, f), to: root + "/gt/\(key)_gtFine_labelTrainIds.png")
                for method in methods {
                    if let ids = prediction(method, sequence, f) {
                        try write(ids, to: root + "/\(method)/\(key)_pred.png")
                    }
                }
            }
        }
    }

    static func write(_ ids: [UInt8], to path: String, width: Int = 8) throws {
        try PNG.write(
            PNGImage(width: width, height: ids.count / width, colorType: .gray, bitDepth: 8, samples: .eight(ids)),
            to: path)
    }

    static func arguments(_ root: String, methods: [String]) -> [String] {
        [
            "eval", "--gt", root + "/gt", "--label-space", "cityscapes", "--gt-encoding", "trainIds", "--pred-encoding",
            "trainIds",
        ]
            + methods.flatMap { ["--pred", "\($0)=\(root)/\($0)"] }
    }

    static func json(_ text: String) -> [String: Any]? {
        (try? JSONSerialization.jsonObject(with: Data(text.utf8))) as? [String: Any]
    }

    /// IoU per class and mIoU (classes with GT or predicted pixels) from plain pixel counting: the reference twin.
    static func meanIoU(_ pairs: [(gt: [UInt8], prediction: [UInt8])], classes: Int = 19) -> Double {
        var tp = [Int](repeating: 0, count: classes)
        var fp = tp
        var fn = tp
        for (gt, prediction) in pairs {
            for (g, p) in zip(gt, prediction) where Int(g) < classes {
                if g == p {
                    tp[Int(g)] += 1
                } else {
                    fn[Int(g)] += 1
                    if Int(p) < classes { fp[Int(p)] += 1 }
                }
            }
        }
        var ious: [Double] = []
        for c in 0..<classes {
            let union = tp[c] + fp[c] + fn[c]
            if union > 0 { ious.append(Double(tp[c]) / Double(union)) }
        }
        return ious.reduce(0, +) / Double(ious.count)
    }
}

@Suite struct EvalTruthTests {
    static let truth = [UInt8](repeating: 0, count: 16) + [UInt8](repeating: 1, count: 16)

    /// A prediction that gets `wrong` of the 16 class-1 pixels wrong (as class 2).
    static func prediction(wrong: Int) -> [UInt8] {
        [UInt8](repeating: 0, count: 16) + [UInt8](repeating: 2, count: wrong)
            + [UInt8](repeating: 1, count: 16 - wrong)
    }

    /// Item 2: a corrupt GT and an empty prediction are both listed, eval fails; with
    /// --skip-unreadable they are warnings and the coverage says what was scored.
    @Test func unreadableFilesAreAllListedAndFailUnlessSkipped() throws {
        let root = try TestSupport.scratchDirectory()
        try EvalFixture.make(root, sequences: ["s"], frames: 6, methods: ["a", "b"]) { _, _, f in
            Self.prediction(wrong: f)
        }
        try Data("not a png".utf8).write(
            to: URL(fileURLWithPath: root + "/gt/s_000000_000002_gtFine_labelTrainIds.png"))
        try Data().write(to: URL(fileURLWithPath: root + "/b/s_000000_000005_pred.png"))
        let args = EvalFixture.arguments(root, methods: ["a", "b"])
        let failed = try TestSupport.segscope(args)
        #expect(failed.status == 1)
        #expect(
            failed.stderr.contains("s_000000_000002_gtFine_labelTrainIds.png")
                && failed.stderr.contains("b/s_000000_000005_pred.png"),
            "\(failed.stderr)")
        #expect(
            failed.stderr.contains("2 file(s) could not be read") && failed.stderr.contains("--skip-unreadable"),
            "\(failed.stderr)")
        #expect(failed.stdout.isEmpty)
        let skipped = try TestSupport.segscope(args + ["--skip-unreadable"])
        #expect(skipped.status == 0, "\(skipped.stderr)")
        #expect(skipped.stderr.components(separatedBy: "left out, cannot read").count == 3, "\(skipped.stderr)")
        #expect(skipped.stdout.contains("frames scored: a 5, b 4 (of 6 with ground truth)"), "\(skipped.stdout)")
        #expect(skipped.stdout.contains("left out as unreadable: 2 file(s)"), "\(skipped.stdout)")
        let json = EvalFixture.json(try TestSupport.segscope(args + ["--skip-unreadable", "--format", "json"]).stdout)
        let coverage = json?["coverage"] as? [String: Any]
        #expect((coverage?["scored"] as? [String: Int]) == ["a": 5, "b": 4])
        #expect((coverage?["unreadable"] as? [[String: String]])?.count == 2)
        let shard = root + "/skipped.st"
        #expect(try TestSupport.segscope(args + ["--skip-unreadable", "--save-confusion", shard]).status == 0)
        let merged = try TestSupport.segscope(["eval", "merge", shard])
        #expect(
            merged.status == 0 && merged.stderr.components(separatedBy: "left out, cannot read").count == 3,
            "\(merged.stderr)")
        #expect(merged.stdout.contains("frames scored: a 5, b 4 (of 6 with ground truth)"), "\(merged.stdout)")
        // One unreadable file is one error line naming it.
        try FileManager.default.removeItem(atPath: root + "/b/s_000000_000005_pred.png")
        let single = try TestSupport.segscope(args)
        let errorLines = single.stderr.split(separator: "\n").filter { !$0.hasPrefix("segscope: warning:") }
        #expect(single.status == 1)
        #expect(
            errorLines.count == 1 && errorLines[0].hasPrefix("segscope: cannot read: ")
                && errorLines[0].contains("s_000000_000002_gtFine_labelTrainIds.png")
                && errorLines[0].contains("--skip-unreadable"),
            "\(single.stderr)")
    }

    /// Item 3: b lacks the frame where a is worst; Δ b−a over the frames both have is 0, not b's 4 frames
    /// against a's 5.
    @Test func deltaComparesTheFramesBothMethodsHave() throws {
        let root = try TestSupport.scratchDirectory()
        try EvalFixture.make(root, sequences: ["s"], frames: 5, methods: ["a", "b"]) { method, _, f in
            method == "b" && f == 5 ? nil : Self.prediction(wrong: f == 5 ? 12 : 2)
        }
        let args = EvalFixture.arguments(root, methods: ["a", "b"]) + ["--no-temporal"]
        let json = EvalFixture.json(try TestSupport.segscope(args + ["--format", "json"]).stdout)
        let deltas = (json?["deltas"] as? [String: Any])?["b"] as? [String: Any]
        #expect((deltas?["miou"] as? Double) == 0, "\(String(describing: deltas))")
        let methods = json?["methods"] as? [String: [String: Any]]
        #expect(
            (methods?["b"]?["miou"] as? Double ?? 0) > (methods?["a"]?["miou"] as? Double ?? 1),
            "each method's own mIoU differs")
        let text = try TestSupport.segscope(args)
        #expect(
            text.stdout.contains("Δ and flips: each method against a over the frames both have (b 4)"), "\(text.stdout)"
        )
        #expect(text.stdout.contains("frames scored: a 5, b 4 (of 5 with ground truth)"))
        #expect(
            text.stdout.split(separator: "\n").first?.hasSuffix("Δ over the frames each method shares with a") == true)
    }

    /// Item 4: per-frame, per-sequence and range figures equal the confusion matrices summed over those frames.
    @Test func perScopeFiguresEqualSummedFrames() throws {
        let root = try TestSupport.scratchDirectory()
        func wrong(_ sequence: String, _ f: Int) -> Int { (sequence == "p" ? 1 : 5) + f }
        try EvalFixture.make(root, sequences: ["p", "q"], frames: 4, methods: ["a"]) { _, s, f in
            Self.prediction(wrong: wrong(s, f))
        }
        let args = EvalFixture.arguments(root, methods: ["a"]) + ["--format", "json", "--no-temporal"]
        func expected(_ frames: [(String, Int)]) -> Double {
            EvalFixture.meanIoU(frames.map { (Self.truth, Self.prediction(wrong: wrong($0.0, $0.1))) })
        }
        func scopes(_ extra: [String]) throws -> [String: Double] {
            let json = EvalFixture.json(try TestSupport.segscope(args + extra).stdout)
            var out: [String: Double] = [:]
            for scope in json?["scopes"] as? [[String: Any]] ?? [] {
                out[scope["name"] as! String] = (scope["miou"] as? [String: Double])?["a"]
            }
            return out
        }
        let sequences = try scopes(["--per", "sequence"])
        #expect(sequences.count == 2)
        #expect(abs((sequences["p_000000"] ?? .nan) - expected((1...4).map { ("p", $0) })) < 1e-12)
        #expect(abs((sequences["q_000000"] ?? .nan) - expected((1...4).map { ("q", $0) })) < 1e-12)
        let frames = try scopes(["--per", "frame"])
        #expect(frames.count == 8)
        #expect(abs((frames["q_000000_000003"] ?? .nan) - expected([("q", 3)])) < 1e-12)
        // 1/3..2/2 spans the sequences: p 3, p 4, q 1, q 2.
        let range = EvalFixture.json(try TestSupport.segscope(args + ["--range", "1/3..2/2"]).stdout)
        let miou = ((range?["methods"] as? [String: Any])?["a"] as? [String: Any])?["miou"] as? Double
        #expect(abs((miou ?? 0) - expected([("p", 3), ("p", 4), ("q", 1), ("q", 2)])) < 1e-12)
        let bad = try TestSupport.segscope(EvalFixture.arguments(root, methods: ["a"]) + ["--range", "2/2..1/1"])
        #expect(bad.status == 1 && bad.stderr.contains("--range"), "\(bad.stderr)")
    }

    /// Item 7: eval --help shows the options of `eval run`; a warning for many files is printed once with a count.
    @Test func helpShowsRunOptionsAndWarningsAreCollapsed() throws {
        let help = try TestSupport.segscope(["eval", "--help"])
        #expect(
            help.stdout.contains("--band") && help.stdout.contains("--skip-unreadable")
                && help.stdout.contains("--per"), "\(help.stdout)")
        let root = try TestSupport.scratchDirectory()
        try EvalFixture.make(root, sequences: ["s"], frames: 5, methods: ["a"]) { _, _, _ in
            [UInt8](repeating: 0, count: 16) + [UInt8](repeating: 100, count: 16)
        }
        let outcome = try TestSupport.segscope(EvalFixture.arguments(root, methods: ["a"]))
        #expect(outcome.status == 0)
        let lines = outcome.stderr.split(separator: "\n").filter { $0.contains("hold no trainIds value") }
        #expect(lines.count == 1 && lines[0].hasSuffix("(and 4 more like it)"), "\(outcome.stderr)")
    }

    /// The flicker of (t, t+1) belongs to frame t: the first frame has a pair, the last none.
    @Test func flickerIsAttachedToTheEarlierFrame() throws {
        let root = try TestSupport.scratchDirectory()
        try EvalFixture.make(root, sequences: ["s"], frames: 3, methods: ["a"]) { _, _, f in
            Self.prediction(wrong: f * 4)
        }
        let json = EvalFixture.json(
            try TestSupport.segscope(EvalFixture.arguments(root, methods: ["a"]) + ["--format", "json"]).stdout)
        let flicker = ((json?["methods"] as? [String: Any])?["a"] as? [String: Any])?["flicker"] as? [String: Any]
        let pairs = flicker?["per_pair"] as? [String: Double]
        #expect(
            pairs?["s_000000_000001"] == 4.0 / 32 && pairs?["s_000000_000002"] == 4.0 / 32
                && pairs?["s_000000_000003"] == nil,
            "\(String(describing: pairs))")
        #expect((json?["aggregation"] as? [String])?.contains { $0.contains("attached to frame t") } == true)
    }
}
