import Foundation
import SegFormats
import SegTestSupport
import Testing

@Suite struct CLITests {
    @Test func helpListsTheCommands() throws {
        let result = try TestSupport.segscope(["--help"])
        #expect(result.status == 0)
        for command in [
            "view", "render", "eval", "forward", "infer", "memory", "synth", "labels", "themes", "bookmarks",
        ] { #expect(result.stdout.contains(command)) }
    }

    @Test func labelsPrintsTheCityscapesTable() throws {
        let result = try TestSupport.segscope(["labels", "cityscapes"])
        #expect(result.status == 0)
        #expect(result.stdout.contains("traffic light"))
        #expect(result.stdout.split(separator: "\n").count == 2 + 35)
        #expect(!result.stdout.contains("\u{1b}["), "no colour when stdout is not a terminal")
    }

    @Test func unknownThemeIsOneLineAndNonZero() throws {
        let result = try TestSupport.segscope(["labels", "nope"])
        #expect(result.status != 0)
        #expect(result.stderr.hasPrefix("segscope: theme 'nope' not found"))
        #expect(result.stderr.split(separator: "\n").count == 1)
    }

    /// Predictions = GT with a few pixels changed, written here with segscope's own PNG writer.
    static func makeEvalFolders() throws -> String {
        let root = try TestSupport.scratchDirectory()
        for dir in ["gt", "a", "b"] {
            try FileManager.default.createDirectory(atPath: root + "/" + dir, withIntermediateDirectories: true)
        }
        for f in 0..<3 {
            let key = "ulm_000000_00001\(f)"
            var gt = (0..<(32 * 16)).map { UInt8(($0 % 32) / 4 + f) }
            gt[5] = 255
            let a = gt.enumerated().map { $0.offset % 7 == 0 ? UInt8(2) : $0.element }
            let b = gt.enumerated().map { $0.offset % 13 == 0 ? UInt8(2) : $0.element }
            for (dir, ids, suffix) in [("gt", gt, "_gtFine_labelTrainIds"), ("a", a, ""), ("b", b, "")] {
                try PNG.write(
                    PNGImage(width: 32, height: 16, colorType: .gray, bitDepth: 8, samples: .eight(ids)),
                    to: "\(root)/\(dir)/\(key)\(suffix).png")
            }
        }
        return root
    }

    @Test func evalJSONOnStdoutOnly() throws {
        let root = try Self.makeEvalFolders()
        let result = try TestSupport.segscope([
            "eval", "--gt", root + "/gt", "--pred", "a=\(root)/a", "--pred", "b=\(root)/b",
            "--label-space", "cityscapes", "--format", "json",
        ])
        #expect(result.status == 0, "\(result.stderr)")
        let json = try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as! [String: Any]
        #expect(json["label_space"] as? String == "cityscapes")
        #expect((json["classes"] as! [String]).contains("traffic light"))
        let methods = json["methods"] as! [String: [String: Any]]
        #expect(Set(methods.keys) == ["a", "b"])
        for (_, entry) in methods {
            for key in ["miou", "pixel_acc", "mean_acc", "fwiou"] {
                let v = entry[key] as! Double
                #expect(v >= 0 && v <= 1, "\(key)")
            }
            #expect(entry["frames"] as? Int == 3)
            let iou = entry["iou"] as! [String: Any]
            #expect(iou.count == 19 && iou["road"] is Double && iou["bicycle"] is NSNull)
            #expect((entry["boundary_iou"] as! [String: Any]).count == 19)
        }
        #expect((json["deltas"] as! [String: Any])["b"] != nil)
        #expect((json["flips"] as! [String: Any])["b"] != nil)
    }

    @Test func mismatchedPredictionSizeFailsNamingBothFiles() throws {
        let root = try Self.makeEvalFolders()
        try PNG.write(
            PNGImage(
                width: 30, height: 16, colorType: .gray, bitDepth: 8, samples: .eight([UInt8](repeating: 1, count: 480))
            ),
            to: root + "/a/ulm_000000_000011.png")
        let result = try TestSupport.segscope([
            "eval", "--gt", root + "/gt", "--pred", "a=\(root)/a", "--label-space", "cityscapes",
        ])
        #expect(result.status != 0)
        #expect(result.stderr.contains("/a/ulm_000000_000011.png: size 30x16 does not match"))
        #expect(result.stderr.contains("ulm_000000_000011_gtFine_labelTrainIds.png (32x16)"))
        #expect(result.stdout.isEmpty)
    }

    @Test func missingPredictionsWarnOrFailWithStrict() throws {
        let root = try Self.makeEvalFolders()
        try FileManager.default.removeItem(atPath: root + "/a/ulm_000000_000012.png")
        let lenient = try TestSupport.segscope([
            "eval", "--gt", root + "/gt", "--pred", "a=\(root)/a", "--label-space", "cityscapes",
        ])
        #expect(lenient.status == 0)
        #expect(lenient.stderr.contains("no prediction for 1 frame(s)"))
        let strict = try TestSupport.segscope([
            "eval", "--gt", root + "/gt", "--pred", "a=\(root)/a", "--label-space", "cityscapes", "--strict",
        ])
        #expect(strict.status != 0)
        #expect(strict.stderr.contains("ulm_000000_000012"))
    }

    @Test func unreadablePredictionFails() throws {
        let root = try Self.makeEvalFolders()
        try TestSupport.write([1, 2, 3], to: root + "/a/ulm_000000_000010.png")
        let result = try TestSupport.segscope([
            "eval", "--gt", root + "/gt", "--pred", "a=\(root)/a", "--label-space", "cityscapes",
        ])
        #expect(result.status != 0)
        #expect(result.stderr.contains("ulm_000000_000010.png: not a valid PNG file"))
    }

    @Test func evalMergeOfShardsPrintsTheSameTable() throws {
        let root = try Self.makeEvalFolders()
        let whole = try TestSupport.segscope([
            "eval", "--gt", root + "/gt", "--pred", "a=\(root)/a", "--pred", "b=\(root)/b",
            "--label-space", "cityscapes", "--save-confusion", root + "/all.st",
        ])
        #expect(whole.status == 0)
        let merged = try TestSupport.segscope(["eval", "merge", root + "/all.st"])
        #expect(merged.status == 0)
        #expect(merged.stdout == whole.stdout)
    }
}

@Suite struct ForwardCommandTests {
    static let fixtures = TestSupport.repositoryRoot + "/Tests/SegEngineTests/Fixtures/small"

    @Test func writesEveryOutputEqualToTheReference() throws {
        let out = try TestSupport.scratchDirectory()
        let result = try TestSupport.segscope([
            "forward", "--weights", Self.fixtures + "/weights.safetensors", "--frames",
            Self.fixtures + "/prev.npy", Self.fixtures + "/cur.npy", Self.fixtures + "/next.npy",
            "--out", out, "--timings",
        ])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stderr.contains("STF:") && result.stderr.contains("MAR:"))
        for name in ["stf", "mar", "logits_baseline", "logits_stf", "logits_mar"] {
            let ours = try Npy.read(path: "\(out)/\(name).npy")
            let reference = try Npy.read(path: "\(Self.fixtures)/\(name).npy")
            #expect(ours.shape == reference.shape, "\(name)")
            #expect(zip(ours.floats(), reference.floats()).allSatisfy { abs($0 - $1) < 1e-4 }, "\(name)")
        }
    }

    @Test func wrongChannelCountIsAClearError() throws {
        let out = try TestSupport.scratchDirectory()
        try Npy.write([Float](repeating: 0, count: 8 * 8 * 12), shape: [8, 8, 12], to: out + "/x.npy")
        let result = try TestSupport.segscope([
            "forward", "--weights", Self.fixtures + "/weights.safetensors", "--frames",
            out + "/x.npy", out + "/x.npy", out + "/x.npy", "--out", out + "/o",
        ])
        #expect(result.status != 0)
        #expect(result.stderr.contains("8 channels, but") && result.stderr.split(separator: "\n").count == 1)
        #expect(!FileManager.default.fileExists(atPath: out + "/o/stf.npy"))
    }
}

/// The man page names every option of every command (from argument-parser's own description of the CLI).
@Suite struct ManPageTests {
    @Test func everyOptionIsDocumented() throws {
        let dump = try TestSupport.segscope(["--experimental-dump-help"])
        #expect(dump.status == 0)
        let man = try String(contentsOfFile: TestSupport.repositoryRoot + "/man/segscope.1", encoding: .utf8)
            .replacingOccurrences(of: "\\-", with: "-")
        var missing: [String] = []
        func walk(_ command: [String: Any], _ path: String) {
            for argument in command["arguments"] as? [[String: Any]] ?? [] {
                for name in argument["names"] as? [[String: Any]] ?? [] where name["kind"] as? String == "long" {
                    let option = "--" + (name["name"] as! String)
                    if !["--help", "--version", "--experimental-dump-help"].contains(option) && !man.contains(option) {
                        missing.append("\(path) \(option)")
                    }
                }
            }
            for sub in command["subcommands"] as? [[String: Any]] ?? [] {
                walk(sub, path + " " + (sub["commandName"] as! String))
            }
        }
        let json = try JSONSerialization.jsonObject(with: Data(dump.stdout.utf8)) as! [String: Any]
        walk(json["command"] as! [String: Any], "segscope")
        #expect(missing.isEmpty, "not in man/segscope.1: \(missing.joined(separator: ", "))")
    }
}
