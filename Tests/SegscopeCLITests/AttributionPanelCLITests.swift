import Foundation
import SegTestSupport
import Testing

/// `render --keys d` (the fixed/broken panel) on the shipped samples shows, per class and in total, the numbers
/// of `segscope explain --fixed-broken --format csv` over the same frame or sequence: an independent path through
/// the CLI (explain runs MemoryAttribution.run over the dataset, the viewer merges per-frame tables it keeps).
@Suite struct AttributionPanelCLITests {
    static let samples = TestSupport.repositoryRoot + "/samples"
    static let weights = samples + "/weights/street-c64.safetensors"

    /// The panel's lines (right of its border) of a render with `keys`.
    static func panel(_ arguments: [String], keys: String) throws -> [String] {
        let render = try TestSupport.segscope(
            ["render"] + arguments + ["--keys", keys, "--ansi", "--cols", "200", "--rows", "60"],
            environment: ["NO_COLOR": "1"])
        #expect(render.status == 0, "\(render.stderr)")
        return render.stdout.replacingOccurrences(of: "\u{1b}\\[[0-9;]*m", with: "", options: .regularExpression)
            .split(separator: "\n").compactMap { line in
                line.contains("│") ? line.components(separatedBy: "│").last! : nil
            }
    }

    /// explain's CSV rows: class name, then its six cells as the panel rounds them (masses to 4 places, "-" empty).
    static func explainRows(_ scope: [String]) throws -> [(name: String, cells: [String])] {
        let explain = try TestSupport.segscope(
            ["explain", samples, "--weights", weights, "--fixed-broken", "--format", "csv"] + scope)
        #expect(explain.status == 0, "\(explain.stderr)")
        let lines = explain.stdout.split(separator: "\n").filter { !$0.hasPrefix("#") }.dropFirst()
        return lines.map { line in
            let fields = line.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
            let cells = fields.dropFirst().enumerated().map { i, field in
                i % 3 == 0 ? field : field.isEmpty ? "-" : String(format: "%.4f", Double(field)!)
            }
            return (fields[0], cells)
        }
    }

    static func expectSameRows(_ panel: [String], _ rows: [(name: String, cells: [String])]) {
        #expect(rows.count >= 2 && rows.last?.name == "total")
        for row in rows {
            let found = panel.contains { line in
                let words = line.split(separator: " ").map(String.init)
                return words.count > 6 && words.dropLast(6).joined(separator: " ").hasSuffix(row.name)
                    && Array(words.suffix(6)) == row.cells
            }
            #expect(found, "no row \(row.name) \(row.cells) in \(panel)")
        }
        let numbered = panel.filter { $0.split(separator: " ").suffix(6).contains { $0.hasPrefix("0.") } }
        #expect(numbered.count == rows.count, "\(numbered)")
    }

    @Test func frameScopeEqualsExplainFixedBroken() throws {
        let panel = try Self.panel([Self.samples, "--frame", "1/5"], keys: "d")
        #expect(panel.contains { $0.contains("MAR fixed/broken · this frame") })
        #expect(panel.joined(separator: " ").contains("1 frame(s) counted · skipped: 0"))
        Self.expectSameRows(panel, try Self.explainRows(["--frame", "1/5"]))
    }

    @Test func sequenceScopeEqualsExplainFixedBroken() throws {
        let panel = try Self.panel([Self.samples, "--frame", "1/5"], keys: "d u")
        #expect(panel.contains { $0.contains("MAR fixed/broken · sequence 1") })
        #expect(panel.joined(separator: " ").contains("12 frame(s) counted · skipped: 0"))
        Self.expectSameRows(panel, try Self.explainRows(["--sequence", "synth_000000"]))
    }

    @Test func framesOfTheSequenceWithoutFeaturesAreSkippedAndNamed() throws {
        let text = try Self.panel([Self.samples, "--frame", "2/3"], keys: "d").joined(separator: " ")
            .split(separator: " ").joined(separator: " ")
        #expect(text.contains("0 frame(s) counted · skipped: 0 without GT, 1 without features"), "\(text)")
        #expect(text.contains("no features for frame synth_000001_000002 in "), "\(text)")
    }

    @Test func withoutWeightsSaysWhatItNeeds() throws {
        // The samples without the manifest's weights line.
        let root = try TestSupport.scratchDirectory()
        try FileManager.default.createSymbolicLink(
            atPath: root + "/street", withDestinationPath: Self.samples + "/street")
        let manifest = try String(contentsOfFile: Self.samples + "/segscope.toml", encoding: .utf8)
        #expect(manifest.contains("\nweights = "))
        try manifest.split(separator: "\n", omittingEmptySubsequences: false).filter { !$0.hasPrefix("weights") }
            .joined(separator: "\n").write(toFile: root + "/segscope.toml", atomically: true, encoding: .utf8)
        // render draws no panel it cannot fill: the reason is its one-line error (the viewer shows it in the panel).
        let render = try TestSupport.segscope(
            ["render", root, "--keys", "d", "--ansi"], environment: ["NO_COLOR": "1"])
        #expect(render.status == 1 && render.stdout.isEmpty, "\(render.stdout)")
        #expect(
            render.stderr
                == "segscope: the fixed/broken table needs --weights W (STF/MAR weights), or weights = \"W\" in "
                + "segscope.toml\n", "\(render.stderr)")
    }
}
