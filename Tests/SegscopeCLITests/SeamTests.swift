import Foundation
import SegTestSupport
import Testing

/// Cases that cross the parts of segscope: a library the CLI calls, a theme the viewer draws.
@Suite struct SeamTests {
    /// Foundation's `NSString.deletingLastPathComponent` traps on a one-letter relative path; a
    /// checkpoint named "w" in the working folder once died with SIGILL.
    @Test func trainIntoAOneLetterFileName() throws {
        let root = try TestSupport.scratchDirectory()
        let data = try TrainTests.synth(root)
        let script = "cd \"$1\" && exec \"$2\" train classifier \"$3\" --out w --epochs 1 --batch 2"
        let run = try TestSupport.outcome("/bin/sh", ["-c", script, "sh", root, TestSupport.segscopeBinary, data])
        #expect(run.status == 0, "\(run.status) \(run.stderr)")
        #expect(FileManager.default.fileExists(atPath: root + "/w"))
    }

    /// A theme whose marks sit too close to a class colour still loads, with one warning naming
    /// the role, the class and the colour difference.
    @Test func aThemeWithCloseMarksIsWarnedAbout() throws {
        let root = try TestSupport.scratchDirectory()
        let theme = root + "/close.toml"
        try "label_space = \"cityscapes\"\n[roles]\nbroken = \"#e60000\"\n".write(
            toFile: theme, atomically: true,
            encoding: .utf8)
        let run = try TestSupport.segscope(["labels", theme])
        #expect(run.status == 0, "\(run.stderr)")
        let warnings = run.stderr.split(separator: "\n").filter { $0.contains("warning") }
        #expect(warnings.count == 1, "\(run.stderr)")
        #expect(
            warnings.first.map { $0.contains("broken") && $0.contains("rider") && $0.contains("ΔE00") } == true,
            "\(run.stderr)")
    }
}
