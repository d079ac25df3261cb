import Foundation
import SegTestSupport
import Testing

/// Issue 21 in tmux: keys that act on the first press, scopes that keep
/// their frames, prompts and popups that behave.
@Suite(.serialized) struct ViewerTruthEndToEndTests {
    typealias Session = ViewerEndToEndTests.Session

    static var samples: String { TestSupport.repositoryRoot + "/samples" }

    @Test func rankingsActOnTheFirstPressAndStepBack() throws {
        let session = try Session(arguments: ["view", Self.samples])
        #expect(try session.waitFor("frame 1/12"))
        try session.keys("W")
        #expect(
            try session.waitFor("worst Δ mar−baseline: 1 of 24", seconds: 30),
            "one press: \((try? session.screen()) ?? "")")
        try session.keys("W")
        #expect(try session.waitFor("worst Δ mar−baseline: 2 of 24"))
        try session.keys("BSpace")
        #expect(try session.waitFor("worst Δ mar−baseline: 1 of 24"), "Backspace steps back")
        try session.keys("a")
        try session.keys("A")
        #expect(try session.waitFor("most suspects: 1 of", seconds: 30), "one press: \((try? session.screen()) ?? "")")
        try session.keys("q")
        #expect(session.exitStatus(within: 2) == "0")
    }

    @Test func aRangeKeepsItsFramesAndPromptsBehave() throws {
        let session = try Session(arguments: ["view", Self.samples])
        #expect(try session.waitFor("frame 1/12"))
        try session.keys("i", "Right", "x", "Right", "x")
        #expect(try session.waitFor("range 1/2–1/3 marked: 2 frames of sequence 1"))
        try session.keys("PageDown")
        #expect(try session.waitFor("seq 2/2"))
        #expect(try session.waitFor("IoU % · range 1/2–1/3"), "the panel still means sequence 1's frames")
        #expect(try session.screen().contains("range 1/2–1/3 (2 fr)"), "the status line names them")
        #expect(try session.waitFor("frames of 2"))
        // The jump prompt trims spaces; Esc and an empty Enter cancel.
        try session.keys(":", " 1/5 ", "Enter")
        #expect(try session.waitFor("seq 1/2 · frame 5/12"))
        try session.keys(":", "Enter")
        #expect(try session.waitForAbsence("jump to"))
        try session.keys(":", "7", "Escape")
        #expect(try session.waitForAbsence("jump to"))
        #expect(try session.screen().contains("frame 5/12"))
        // End in the help goes to its last line.
        try session.keys("?", "End")
        #expect(try session.waitFor("this help"))
        try session.keys("Escape")
        #expect(try session.waitForAbsence("segscope keys"))
        try session.keys("q")
        #expect(session.exitStatus(within: 2) == "0")
    }

    @Test func exportWritesThePanelBesideTheDataset() throws {
        let root = try TestSupport.scratchDirectory()
        let out = root + "/iou.csv"
        let session = try Session(arguments: ["view", Self.samples], width: 160, height: 45)
        #expect(try session.waitFor("frame 1/12"))
        try session.keys("i", "e")
        #expect(try session.waitFor("export to"))
        let status = try session.screen().split(separator: "\n").last.map(String.init) ?? ""
        let offered = status.components(separatedBy: "cancels): ").last?.components(separatedBy: "▏").first ?? ""
        #expect(offered.hasSuffix("samples/iou-frame.md"), "a name beside the dataset is offered: \(status)")
        try session.tmux(["send-keys", "-t", session.name] + Array(repeating: "BSpace", count: offered.count))
        try session.keys(out, "Enter")
        #expect(try session.waitFor("exported to", seconds: 30), "\((try? session.screen()) ?? "")")
        let text = try String(contentsOfFile: out, encoding: .utf8)
        #expect(text.hasPrefix("class,baseline,stf,mar,delta mar-baseline\nroad,"))
        try session.keys("q")
        #expect(session.exitStatus(within: 2) == "0")
    }
}
