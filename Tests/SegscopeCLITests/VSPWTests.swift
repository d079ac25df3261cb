import Foundation
import SegTestSupport
import Testing

/// A VSPW-layout dataset with JPEG frames, as a user opens it.
@Suite struct VSPWTests {
    @Test func opensInViewAndEval() throws {
        let root = try VSPWData.make()
        let methods = ["--pred", "a=\(root)/pred/a", "--pred", "b=\(root)/pred/b"]
        let eval = try TestSupport.segscope(["eval", root] + methods + ["--protocol", "vspw", "--format", "json"])
        #expect(eval.status == 0, "\(eval.stderr)")
        let json = try JSONSerialization.jsonObject(with: Data(eval.stdout.utf8)) as? [String: Any]
        #expect(json?["label_space"] as? String == "vspw" && json?["protocol"] as? String == "vspw")
        let a = (json?["methods"] as? [String: Any])?["a"] as? [String: Any]
        #expect(((a?["vc"] as? [String: Any])?["8"] as? [String: Any])?["vspw"] is Double)
        #expect((a?["flicker"] as? [String: Any])?["overall"] is Double)
        #expect((json?["aggregation"] as? [String])?.first?.contains("VSPW protocol") == true)
        let text = try TestSupport.segscope(["eval", root] + methods, environment: ["NO_COLOR": "1"])
        #expect(
            text.stdout.contains("mVC8") && text.stdout.contains("mVC16 strict") && text.stdout.contains("flicker")
                && text.stdout.contains("Boundary mIoU"), "\(text.stdout)")
        let view = try TestSupport.segscope(
            ["render", root] + methods + ["--frame", "v_2/00000004", "--ansi", "--cols", "160", "--rows", "40"],
            environment: ["NO_COLOR": "1", "TERM": "xterm-256color"])
        #expect(view.status == 0, "\(view.stderr)")
        #expect(view.stdout.contains("seq 2/3 · frame 2/13") && view.stdout.contains("v_2/00000004"))
        #expect(
            view.stdout.contains("frame") && view.stdout.contains("ground truth") && view.stdout.contains("░"),
            "the JPEG frame is drawn")
    }
}
