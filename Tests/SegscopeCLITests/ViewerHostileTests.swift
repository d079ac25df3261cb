import Foundation
import SegTestSupport
import Testing

/// Hostile data in the viewer, through tmux: it keeps running and says what it cannot show.
@Suite(.serialized) struct ViewerHostileTests {
    /// One frame of ten at another size: the sequence's flicker and VC8 sparklines (Y) once trapped
    /// with an index out of range in Temporal, leaving the terminal on the alternate screen.
    @Test func sparklinesOfASequenceWithFramesOfTwoSizes() throws {
        let root = try TestSupport.scratchDirectory()
        let big = [UInt8](repeating: 0, count: 32) + [UInt8](repeating: 1, count: 32)
        try EvalFixture.make(
            root, sequences: ["v"], frames: 10, methods: ["a"], truth: { _, _ in big },
            prediction: { _, _, _ in big })
        for file in ["gt/v_000000_000005_gtFine_labelTrainIds.png", "a/v_000000_000005_pred.png"] {
            try EvalFixture.write(
                [UInt8](repeating: 0, count: 8) + [UInt8](repeating: 1, count: 8), to: root + "/" + file,
                width: 4)
        }
        let arguments = ["view"] + EvalFixture.arguments(root, methods: ["a"]).dropFirst()
        let session = try ViewerEndToEndTests.Session(arguments: Array(arguments), width: 120, height: 40)
        #expect(try session.waitFor("frame 1/10"), "\((try? session.screen()) ?? "")")
        try session.keys("Y")
        try session.keys("Y")
        for _ in 0..<6 { try session.keys("Right") }
        #expect(try session.waitFor("frame 7/10"), "\((try? session.screen()) ?? "")")
        Thread.sleep(forTimeInterval: 2)
        #expect(session.exitStatus(within: 0.1) == nil, "still running after the sequence's temporal figures")
        #expect(session.alternateScreen)
        try session.keys("q")
        #expect(session.exitStatus(within: 5) == "0")
    }
}
