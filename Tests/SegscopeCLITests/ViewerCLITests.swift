import Foundation
import SegTestSupport
import Testing

/// render and eval as the viewer issue asks: failures are errors, figures
/// follow the layout, tables say what the man page says, suspects are found.
@Suite struct ViewerCLITests {
    /// A 64x128 frame: road on the left, sky on the right; three methods all
    /// predict that, confidently (0.97). The GT says car in the box
    /// x 30...49, y 10...19 of the road: a deliberate annotation error.
    static func suspectDataset() throws -> String {
        let root = try TestSupport.scratchDirectory()
        _ = try TestSupport.python(
            """
            import os, sys
            import numpy as np
            from PIL import Image
            root = sys.argv[1]
            truth = np.zeros((64, 128), np.uint8); truth[:, 64:] = 10
            gt = truth.copy(); gt[10:20, 30:50] = 13
            os.makedirs(root + "/gt"); os.makedirs(root + "/frames")
            Image.fromarray(gt).save(root + "/gt/x_000000_000000_gtFine_labelTrainIds.png")
            Image.fromarray(np.zeros((64, 128, 3), np.uint8)).save(root + "/frames/x_000000_000000_leftImg8bit.png")
            for m in ("a", "b", "c"):
                os.makedirs(root + "/pred/" + m); os.makedirs(root + "/conf/" + m)
                Image.fromarray(truth).save(root + "/pred/%s/x_000000_000000.png" % m)
                Image.fromarray(np.full((64, 128), int(0.97 * 65535), np.uint16)).save(root + "/conf/%s/x_000000_000000.png" % m)
            """, [root])
        return root
    }

    static func datasetArguments(_ root: String) -> [String] {
        ["--gt", root + "/gt", "--frames", root + "/frames"]
            + ["a", "b", "c"].flatMap { ["--pred", "\($0)=\(root)/pred/\($0)", "--conf", "\($0)=\(root)/conf/\($0)"] }
    }

    @Test func suspectsAreTheWrongRegionAndNothingElse() throws {
        let root = try Self.suspectDataset()
        let csv = root + "/suspects.csv"
        let run = try TestSupport.segscope(["eval"] + Self.datasetArguments(root) + ["--suspects", csv])
        #expect(run.status == 0, "\(run.stderr)")
        let text = try String(contentsOfFile: csv, encoding: .utf8)
        #expect(text == "frame,gt_class,predicted_class,pixels,x0,y0,x1,y1\nx_000000_000000,car,road,200,30,10,49,19\n")
        let strict = try TestSupport.segscope(
            ["eval"] + Self.datasetArguments(root) + ["--suspects", csv, "--suspect-tau", "0.98"])
        #expect(strict.status == 0)
        #expect(
            try String(contentsOfFile: csv, encoding: .utf8).split(separator: "\n").count == 1,
            "confidence 0.97 < τ 0.98: no suspect")
        let view = try TestSupport.segscope(
            ["render"] + Self.datasetArguments(root) + ["--keys", "a", "--ansi", "--cols", "160", "--rows", "40"],
            environment: ["NO_COLOR": "1", "TERM": "xterm-256color"])
        #expect(view.status == 0, "\(view.stderr)")
        #expect(view.stdout.contains("suspects 200 px τ0.90") && view.stdout.contains("annotation suspects"))
    }

    @Test func renderFailuresAreErrors() throws {
        let root = try Self.suspectDataset()
        let args = Self.datasetArguments(root)
        let small = try TestSupport.segscope(["render"] + args + ["--ansi", "--cols", "80", "--rows", "10"])
        #expect(small.status != 0 && small.stderr.contains("too small"), "\(small.status) \(small.stderr)")
        let unknown = try TestSupport.segscope(["render"] + args + ["--ansi", "--keys", "i Q"])
        #expect(unknown.status == 1 && unknown.stderr.contains("'Q'"), "\(unknown.status) \(unknown.stderr)")
        let bad = root + "/pred/b/x_000000_000000.png"
        try Data("not a png".utf8).write(to: URL(fileURLWithPath: bad))
        let broken = try TestSupport.segscope(["render"] + args + ["--ansi"])
        #expect(
            broken.status == 1 && broken.stderr.hasPrefix("segscope: ") && broken.stderr.contains(bad),
            "\(broken.status) \(broken.stderr)")
        #expect(broken.stdout.isEmpty)
    }

    static func pngWidth(_ path: String) throws -> Int {
        let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
        return bytes[16..<20].reduce(0) { $0 << 8 | Int($1) }
    }

    @Test func pngFigureFollowsTheLayout() throws {
        let root = try Self.suspectDataset()
        var widths: [String: Int] = [:]
        for layout in ["single", "row", "grid"] {
            let out = root + "/\(layout).png"
            let run = try TestSupport.segscope(
                ["render"] + Self.datasetArguments(root) + ["--png", out, "--layout", layout])
            #expect(run.status == 0, "\(run.stderr)")
            widths[layout] = try Self.pngWidth(out)
        }
        // Five panes (frame, GT, a, b, c) of 128 px with 8 px gaps.
        #expect(widths["single"] == 128 + 2 * 8)
        #expect(widths["row"] == 5 * 128 + 6 * 8)
        #expect(widths["grid"] == 3 * 128 + 4 * 8)
    }

    @Test func evalTablesHoldWhatTheManPageSays() throws {
        let root = try Self.suspectDataset()
        let text = try TestSupport.segscope(["eval"] + Self.datasetArguments(root), environment: ["NO_COLOR": "1"])
        #expect(text.status == 0)
        #expect(!text.stdout.contains("0.0*"), "a 0.0 is never the best:\n\(text.stdout)")
        let csv = try TestSupport.segscope(["eval"] + Self.datasetArguments(root) + ["--format", "csv"])
        let lines = csv.stdout.split(separator: "\n").map(String.init)
        #expect(lines.first == "kind,name,a,b,c,delta_b,delta_c")
        #expect(lines.contains { $0.hasPrefix("summary,mIoU,") && !$0.hasSuffix(",,") }, "the mIoU row has its deltas")
        #expect(lines.contains("flips,fixed,,0,0,,"))
        #expect(lines.contains { $0.hasPrefix("category,flat,") })
        #expect(lines.contains { $0.hasPrefix("frame,x_000000_000000,") })
        let man = try String(contentsOfFile: TestSupport.repositoryRoot + "/man/segscope.1", encoding: .utf8)
        #expect(!man.contains("not part of segscope") && man.contains("kind, name"))
    }

    /// The dataset scope of the IoU panel shows eval's figures: IoU and
    /// Boundary IoU per class, their means and Δ (eval's CSV rounded to the
    /// panel's one decimal).
    @Test func datasetScopeEqualsEval() throws {
        let samples = TestSupport.repositoryRoot + "/samples"
        let eval = try TestSupport.segscope(["eval", samples, "--format", "csv"])
        #expect(eval.status == 0, "\(eval.stderr)")
        var rows: [String: [Double]] = [:]
        for line in eval.stdout.split(separator: "\n") {
            let fields = line.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
            guard fields.count == 7, let values = Optional(fields[2...].compactMap(Double.init)),
                values.count == 5
            else {
                continue
            }
            rows[fields[0] + "," + fields[1]] = values
        }
        func shown(_ v: Double) -> String { String(format: "%.1f", v * 100) }
        func signed(_ v: Double) -> String {
            (v >= 0.0005 ? "+" : v <= -0.0005 ? "-" : " ")
                + String(
                    format: "%.1f",
                    abs(v) * 100)
        }
        for (keys, summary, road, label) in [
            ("i u u u", "summary,mIoU", "class,road", "mIoU"),
            ("i u u u y", "summary,Boundary mIoU", "boundary,road", "mean"),
        ] {
            let view = try TestSupport.segscope(
                [
                    "render", samples, "--keys", keys, "--ansi", "--cols", "200",
                    "--rows", "60",
                ],
                environment: ["NO_COLOR": "1", "TERM": "xterm-256color"])
            #expect(view.status == 0, "\(view.stderr)")
            let mean = try #require(rows[summary])
            let roadRow = try #require(rows[road])
            /// The panel's numbers on the line that starts with `label`.
            func panelNumbers(_ marker: String) -> [String] {
                let line = view.stdout.split(separator: "\n").first { $0.contains(marker) }.map(String.init) ?? ""
                let panel = line.components(separatedBy: "│").last ?? ""
                return panel.split(separator: " ").dropFirst().map(String.init)
            }
            #expect(panelNumbers("│ \(label) ") == mean[0..<3].map(shown) + [signed(mean[4])], "\(keys): \(label)")
            #expect(panelNumbers("█road ") == roadRow[0..<3].map(shown) + [signed(roadRow[4])], "\(keys): road")
            #expect(view.stdout.contains("frames of 24"), "coverage stated")
        }
    }

    /// The samples with a truncated GT (1/3), a missing mar prediction (1/5) and an empty stf one (2/4);
    /// render refuses to draw a frame whose files cannot be read, so the frames drawn are the others.
    static func damagedSamples() throws -> String {
        let root = try TestSupport.scratchDirectory()
        let samples = TestSupport.repositoryRoot + "/samples"
        for item in ["segscope.toml", "street"] {
            try FileManager.default.copyItem(atPath: samples + "/" + item, toPath: root + "/" + item)
        }
        let gt = root + "/street/gtFine/val/synth/synth_000000_000002_gtFine_labelTrainIds.png"
        try FileManager.default.contents(atPath: gt)!.prefix(300).write(to: URL(fileURLWithPath: gt))
        try FileManager.default.removeItem(atPath: root + "/street/pred/mar/synth_000000_000004.png")
        try Data().write(to: URL(fileURLWithPath: root + "/street/pred/stf/synth_000001_000003.png"))
        return root
    }

    /// Truth item 4: each scope of the IoU panel shows what eval reports for it, on a dataset with missing
    /// and damaged files (eval told to skip them, as the viewer does): per-method figures, Δ over the frames
    /// both have, and the frames each method was scored on.
    @Test func everyScopeEqualsEvalOnDamagedData() throws {
        let root = try Self.damagedSamples()
        func csv(_ arguments: [String]) throws -> [String: [String]] {
            let run = try TestSupport.segscope(["eval", root, "--skip-unreadable", "--format", "csv"] + arguments)
            #expect(run.status == 0, "\(run.stderr)")
            var rows: [String: [String]] = [:]
            for line in run.stdout.split(separator: "\n") {
                let fields = line.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
                // Columns: the row's name fields, then baseline, stf, mar, delta_stf, delta_mar.
                rows[fields.dropLast(5).joined(separator: ",")] = Array(fields.suffix(5))
            }
            return rows
        }
        func shown(_ field: String) -> String {
            Double(field).map { String(format: "%.1f", $0 * 100) } ?? "-"
        }
        func signed(_ field: String) -> String {
            guard let v = Double(field) else { return "-" }
            return (v >= 0.0005 ? "+" : v <= -0.0005 ? "-" : " ") + String(format: "%.1f", abs(v) * 100)
        }
        /// The viewer's figures for (methods..., Δ mar − baseline) from one eval row.
        func expected(_ row: [String]) -> [String] { row[0..<3].map(shown) + [signed(row[4])] }
        let perFrame = try csv(["--per", "frame"])
        let perSequence = try csv(["--per", "sequence"])
        let range = try csv(["--range", "1/2..1/5"])
        let dataset = try csv([])
        let cases: [(frame: String, keys: String, title: String, mean: [String]?, road: [String]?, scored: [String])] =
            [
                (
                    "1/5", "i", "this frame", perFrame["frame,synth_000000_000004,mIoU"],
                    perFrame["frame,synth_000000_000004,road"], ["1", "1", "0"]
                ),
                (
                    "1/2", "i", "this frame", perFrame["frame,synth_000000_000001,mIoU"],
                    perFrame["frame,synth_000000_000001,road"], ["1", "1", "1"]
                ),
                (
                    "1/5", "i u", "sequence 1", perSequence["sequence,synth_000000,mIoU"],
                    perSequence["sequence,synth_000000,road"],
                    perSequence["sequence,synth_000000,frames"].map { Array($0[0..<3]) } ?? []
                ),
                (
                    "1/2", "x Right Right Right x i", "range 1/2–1/5", range["summary,mIoU"], range["class,road"],
                    range["coverage,frames scored"].map { Array($0[0..<3]) } ?? []
                ),
                (
                    "1/2", "i u u u", "dataset", dataset["summary,mIoU"], dataset["class,road"],
                    dataset["coverage,frames scored"].map { Array($0[0..<3]) } ?? []
                ),
                (
                    "1/2", "x Right Right Right x i y", "range 1/2–1/5", range["summary,Boundary mIoU"],
                    range["boundary,road"], range["coverage,frames scored"].map { Array($0[0..<3]) } ?? []
                ),
            ]
        for (frame, keys, title, mean, road, scored) in cases {
            let view = try TestSupport.segscope(
                ["render", root, "--frame", frame, "--keys", keys, "--ansi", "--cols", "200", "--rows", "60"],
                environment: ["NO_COLOR": "1", "TERM": "xterm-256color"])
            #expect(view.status == 0, "\(view.stderr)")
            let lines = view.stdout.split(separator: "\n").map { $0.components(separatedBy: "│").last ?? "" }
            /// The panel's fields on the line that starts with `label`, after the label.
            func panel(_ label: String) -> [String] {
                guard let line = lines.first(where: { $0.hasPrefix(label) }) else { return [] }
                return line.dropFirst(label.count).split(separator: " ").map(String.init)
            }
            let context = "\(frame) [\(keys)]"
            #expect(
                lines.contains { $0.hasPrefix(" IoU % · \(title) ") || $0.hasPrefix(" Boundary IoU % · \(title) ") },
                "\(context): \(view.stdout)")
            let mean = try #require(mean, "\(context): eval has no mean row")
            let road = try #require(road, "\(context): eval has no road row")
            let meanLabel = keys.hasSuffix("y") ? " mean " : " mIoU "
            #expect(panel(meanLabel) == expected(mean), "\(context): \(meanLabel)")
            let roadShown = panel("█road ")
            #expect(Array(roadShown.prefix(3)) == road[0..<3].map(shown), "\(context): road")
            if title == "range 1/2–1/5" || title == "dataset" {
                #expect(roadShown.last == signed(road[4]), "\(context): road Δ")
            }
            #expect(Array(panel(" frames of ").dropFirst().prefix(3)) == scored, "\(context): frames scored")
        }
    }

    /// Every mark of a mode has its legend entry at 80x24 too: the marks' labels shorten before any is left
    /// out (at 200 columns they are whole).
    @Test func everyMarkKeepsItsLegendOnASmallTerminal() throws {
        let samples = TestSupport.repositoryRoot + "/samples"
        for (key, entries, whole) in [
            ("f", ["o fixed", "x broken", "~ changed"], "fixed: baseline wrong, mar right"),
            ("c", ["+ ", "- ", "dimmed: mar's classes"], "within 3px of a boundary; dimmed: mar's classes"),
            ("F", ["* ", "dimmed: mar's classes"], "class changes from this frame to the next"),
        ] {
            for (cols, rows) in [(80, 24), (200, 60)] {
                let view = try TestSupport.segscope(
                    ["render", samples, "--keys", key, "--ansi", "--cols", "\(cols)", "--rows", "\(rows)"],
                    environment: ["NO_COLOR": "1", "TERM": "xterm-256color"])
                #expect(view.status == 0, "\(view.stderr)")
                let lines = view.stdout.split(separator: "\n").map(String.init)
                let legend = lines.count >= 2 ? lines[lines.count - 2] : ""
                if cols == 80 {
                    for entry in entries { #expect(legend.contains(entry), "\(key) at 80x24: \(legend)") }
                } else {
                    #expect(legend.contains(whole), "\(key) at 200x60: \(legend)")
                    // Without colours a class's swatch is its shade in the panes: road (128,64,128) is ░.
                    #expect(legend.contains("░ road"), "\(key) at 200x60: \(legend)")
                }
            }
        }
    }

    /// Sparklines name their metric and count what it is over: 12 frames, 11 pairs, 4 windows of 8 (as eval).
    @Test func sparklinesSayWhatTheyCount() throws {
        let samples = TestSupport.repositoryRoot + "/samples"
        for (keys, expected) in [("", "mIoU "), ("", "12/12 fr"), ("Y", "flicker "), ("Y", "11/11 pairs")]
            + [("Y Y", "VC8 "), ("Y Y", "4/4 windows")]
        {
            let view = try TestSupport.segscope(
                ["render", samples, "--ansi", "--cols", "160", "--rows", "48"]
                    + (keys.isEmpty ? [] : ["--keys", keys]),
                environment: ["NO_COLOR": "1", "TERM": "xterm-256color"])
            let baseline = view.stdout.split(separator: "\n").first { $0.hasPrefix("baseline ") } ?? ""
            #expect(baseline.contains(expected), "[\(keys)] \(baseline)")
        }
    }

    @Test func viewOpensAtAFrameAndLayout() throws {
        let unknown = try TestSupport.segscope([
            "view", TestSupport.repositoryRoot + "/samples", "--layout", "diagonal",
        ])
        #expect(unknown.status == 64)
    }
}
