import Foundation
import SegFormats
import SegTestSupport
import Testing

/// Issue 22, eval's side: hostile datasets, shards and options end in a clear error or a stated skip.
@Suite struct EvalHostileTests {
    static func oneLineError(_ outcome: TestSupport.Outcome, contains text: String) -> Bool {
        outcome.status == 1 && outcome.stderr.hasPrefix("segscope: ")
            && outcome.stderr.split(separator: "\n").count == 1
            && outcome.stderr.contains(text)
    }

    /// 10 frames of 8x8 with frame 5 at 4x4: no SIGILL in Temporal, the skipped pairs and VC are stated.
    @Test func framesOfDifferentSizesInOneSequence() throws {
        let root = try TestSupport.scratchDirectory()
        let big = [UInt8](repeating: 0, count: 32) + [UInt8](repeating: 1, count: 32)
        try EvalFixture.make(
            root, sequences: ["v"], frames: 10, methods: ["a"], truth: { _, _ in big },
            prediction: { _, _, _ in big })
        for folder in ["gt/v_000000_000005_gtFine_labelTrainIds.png", "a/v_000000_000005_pred.png"] {
            try EvalFixture.write(
                [UInt8](repeating: 0, count: 8) + [UInt8](repeating: 1, count: 8), to: root + "/" + folder, width: 4)
        }
        let outcome = try TestSupport.segscope(
            EvalFixture.arguments(root, methods: ["a"]) + ["--vc", "8"], timeout: 120)
        #expect(outcome.status == 0, "\(outcome.status) \(outcome.stderr)")
        #expect(
            outcome.stderr.contains("no video consistency for sequence v_000000: its frames are not all one size"),
            "\(outcome.stderr)")
        #expect(outcome.stderr.contains("no flicker for v_000000_000004 -> v_000000_000005"), "\(outcome.stderr)")
        #expect(outcome.stdout.contains("flicker"))
    }

    /// A shard, then the same with one tensor or metadata entry replaced.
    static func tampered(
        _ root: String, _ name: String, tensor: String? = nil, values: [Int64] = [],
        metadata: [String: String] = [:]
    ) throws -> String {
        let file = try SafetensorsFile(path: root + "/shard.st")
        var writer = SafetensorsWriter(metadata: file.metadata.merging(metadata) { $1 })
        for t in file.tensors {
            var v = try file.int64s(t.name)
            if t.name == tensor { for (i, x) in values.enumerated() { v[i] = x } }
            writer.add(t.name, v, shape: t.shape)
        }
        let path = root + "/" + name
        try writer.write(to: path)
        return path
    }

    @Test func strangersShardsAreOneLineErrors() throws {
        let root = try TestSupport.scratchDirectory()
        try EvalFixture.make(root, sequences: ["s"], frames: 3, methods: ["a"]) { _, _, _ in
            [UInt8](repeating: 0, count: 20) + [UInt8](repeating: 1, count: 12)
        }
        let made = try TestSupport.segscope(
            EvalFixture.arguments(root, methods: ["a"]) + ["--save-confusion", root + "/shard.st"])
        #expect(made.status == 0, "\(made.stderr)")
        let huge = try Self.tampered(root, "huge.st", tensor: "confusion.a", values: [Int64.max])
        let outcome = try TestSupport.segscope(["eval", "merge", huge])
        #expect(Self.oneLineError(outcome, contains: "huge.st: confusion.a: counts too large"), "\(outcome.stderr)")
        // 2^62 in each of two shards of other frames: their sum does not fit.
        let first = try Self.tampered(root, "first.st", tensor: "confusion.a", values: [1 << 62])
        let second = try Self.tampered(
            root, "second.st", tensor: "confusion.a", values: [1 << 62],
            metadata: ["files": "[\"elsewhere.png\"]"])
        let sum = try TestSupport.segscope(["eval", "merge", first, second])
        #expect(
            Self.oneLineError(sum, contains: "second.st: a: confusion: counts too large to add up"), "\(sum.stderr)")
        let negative = try Self.tampered(root, "negative.st", tensor: "band.a", values: [0, -5])
        let minus = try TestSupport.segscope(["eval", "merge", negative])
        #expect(
            Self.oneLineError(minus, contains: "negative.st: tensor band.a holds a negative count (-5)"),
            "\(minus.stderr)")
        for (name, lengths) in [("vc1.st", "[1e300]"), ("vc2.st", "[-3]"), ("vc3.st", "[8.5]")] {
            let path = try Self.tampered(root, name, metadata: ["vc_lengths": lengths])
            let vc = try TestSupport.segscope(["eval", "merge", path])
            #expect(Self.oneLineError(vc, contains: "\(name): metadata 'vc_lengths' holds"), "\(vc.stderr)")
        }
        let frames = try Self.tampered(root, "frames.st", metadata: ["frames_with_gt": "\(Int.max)"])
        #expect(
            Self.oneLineError(
                try TestSupport.segscope(["eval", "merge", frames, frames]),
                contains: "frames.st: metadata 'frames_with_gt'"))
        let band = try Self.tampered(root, "band.st", metadata: ["band": "99999999999"])
        #expect(
            Self.oneLineError(try TestSupport.segscope(["eval", "merge", band]), contains: "band.st: metadata 'band'"))
    }

    /// Numeric options are range-checked before any work (no minutes-long run ignoring signals).
    @Test func numericOptionsAreRangeChecked() throws {
        for (option, value) in [
            ("--band", "1000000"), ("--band", "-1"), ("--vc", "1"), ("--vc", "1000000000"),
            ("--boundary-dilation", "nan"), ("--suspect-tau", "2"),
        ] {
            let outcome = try TestSupport.segscope(["eval", "samples", option, value], timeout: 30)
            #expect(
                outcome.status == 64 && outcome.stderr.contains(option),
                "\(option) \(value): \(outcome.status) \(outcome.stderr)")
        }
    }

    /// Frame keys and method names from a stranger are printed with control characters escaped.
    @Test func controlCharactersAreEscapedInEveryFormat() throws {
        let root = try TestSupport.scratchDirectory()
        let evil = "e\u{1b}]0;PWNED\u{7}x"
        try FileManager.default.createDirectory(atPath: root + "/gt", withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: root + "/p", withIntermediateDirectories: true)
        for f in 1...2 {
            let key = "\(evil)_000000_00000\(f)"
            try EvalFixture.write([UInt8](repeating: 0, count: 32), to: root + "/gt/\(key)_gtFine_labelTrainIds.png")
            try EvalFixture.write([UInt8](repeating: 0, count: 32), to: root + "/p/\(key)_pred.png")
        }
        let base = [
            "eval", "--gt", root + "/gt", "--pred", "m\u{1b}[2J=\(root)/p", "--label-space", "cityscapes",
            "--gt-encoding", "trainIds", "--pred-encoding", "trainIds",
        ]
        for extra in [
            ["--format", "csv"], ["--format", "text"], ["--format", "markdown"], ["--format", "ablation"],
            ["--per", "frame", "--format", "csv"], ["--per", "sequence"],
        ] {
            let outcome = try TestSupport.segscope(base + extra)
            #expect(outcome.status == 0, "\(extra): \(outcome.stderr)")
            #expect(
                !outcome.stdout.contains("\u{1b}") && !outcome.stdout.contains("\u{7}"), "\(extra): \(outcome.stdout)")
            #expect(outcome.stdout.contains("\\u{1b}"), "\(extra)")
        }
    }
}
