import Foundation
import SegTestSupport
import Testing

/// The viewer as a person uses it: tmux runs it, send-keys types,
/// capture-pane reads the screen.
@Suite(.serialized) struct ViewerEndToEndTests {
    final class Session {
        let name = "segscope-test-\(UUID().uuidString.prefix(8))"
        let exitFile: String

        init(
            arguments: [String], width: Int = 200, height: Int = 60,
            environment: String = "env -u NO_COLOR TERM=xterm-256color"
        ) throws {
            exitFile = try TestSupport.scratchDirectory() + "/exit"
            let binary = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
                .appendingPathComponent("segscope").path
            let command =
                "\(environment) \(binary) \(arguments.joined(separator: " ")); echo $? > \(exitFile); sleep 60"
            try TestSupport.runDetached([
                "tmux", "new-session", "-d", "-s", name, "-x", "\(width)", "-y", "\(height)", command,
            ])
        }

        deinit { _ = try? tmux(["kill-session", "-t", name]) }

        @discardableResult
        func tmux(_ arguments: [String]) throws -> String { try TestSupport.run("/usr/bin/env", ["tmux"] + arguments) }

        func screen(colors: Bool = false) throws -> String {
            try tmux(["capture-pane", "-t", name, "-p"] + (colors ? ["-e"] : []))
        }

        func keys(_ keys: String...) throws { try tmux(["send-keys", "-t", name] + keys) }

        /// Waits up to `seconds` for `text` (or, with `pattern`, a match of that regular expression) to
        /// appear on screen.
        func waitFor(_ text: String, pattern: Bool = false, seconds: Double = 10) throws -> Bool {
            let deadline = Date().addingTimeInterval(seconds)
            while Date() < deadline {
                let shown = try screen()
                if pattern ? shown.range(of: text, options: .regularExpression) != nil : shown.contains(text) {
                    return true
                }
                Thread.sleep(forTimeInterval: 0.05)
            }
            return false
        }

        func waitForAbsence(_ text: String, seconds: Double = 5) throws -> Bool {
            let deadline = Date().addingTimeInterval(seconds)
            while Date() < deadline {
                if !(try screen().contains(text)) { return true }
                Thread.sleep(forTimeInterval: 0.05)
            }
            return false
        }

        func exitStatus(within seconds: Double) -> String? {
            let deadline = Date().addingTimeInterval(seconds)
            while Date() < deadline {
                // The shell creates the file before writing the status: wait for content.
                if let text = try? String(contentsOfFile: exitFile, encoding: .utf8),
                    !text.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty
                {
                    return text.trimmingCharacters(in: .whitespacesAndNewlines)
                }
                Thread.sleep(forTimeInterval: 0.02)
            }
            return nil
        }

        var alternateScreen: Bool {
            ((try? tmux(["display-message", "-p", "-t", name, "#{alternate_on}"])) ?? "").hasPrefix("1")
        }
    }

    @Test func samplesSessionAsAPersonWouldUseIt() throws {
        let session = try Session(arguments: ["view", TestSupport.repositoryRoot + "/samples"])
        let opened = try session.waitFor("frame 1/12")
        #expect(opened, "\((try? session.screen()) ?? "")")
        #expect(try session.waitFor("▀"), "the frame is drawn once decoded")
        let colored = try session.screen(colors: true)
        #expect(colored.contains("▀") && colored.contains("38;5;"), "coloured half-block panes")
        #expect(try session.screen().contains("ground truth"))
        #expect(session.alternateScreen)

        try session.keys("Right")
        #expect(try session.waitFor("frame 2/12"))
        try session.keys("?")
        #expect(try session.waitFor("segscope keys"))
        #expect(try session.screen().contains("q  Ctrl-C"))
        try session.keys("Escape")
        #expect(try session.waitForAbsence("segscope keys"))
        #expect(try session.screen().contains("frame 2/12"))

        try session.keys("i")
        #expect(try session.waitFor("IoU"))
        try session.keys("c")
        #expect(try session.waitFor("Δconf"))
        try session.keys("c", "v")
        #expect(try session.waitFor("· row"))

        try session.tmux(["resize-window", "-t", session.name, "-x", "50", "-y", "10"])
        #expect(try session.waitFor("Terminal too small"))
        try session.tmux(["resize-window", "-t", session.name, "-x", "200", "-y", "60"])
        #expect(try session.waitFor("frame 2/12"))

        let quitAt = Date()
        try session.keys("q")
        #expect(session.exitStatus(within: 1.0) == "0", "q exits with status 0 within a second")
        #expect(Date().timeIntervalSince(quitAt) < 1.0)
        #expect(!session.alternateScreen, "terminal restored")
    }

    @Test func noColorIsRespected() throws {
        let session = try Session(
            arguments: ["view", TestSupport.repositoryRoot + "/samples"],
            environment: "env NO_COLOR=1 TERM=xterm-256color")
        #expect(try session.waitFor("frame 1/12"))
        #expect(try session.waitFor("▒"), "pixels shaded by brightness")
        let colored = try session.screen(colors: true)
        #expect(!colored.contains("38;5;") && !colored.contains("48;5;") && !colored.contains("38;2;"))
        try session.keys("q")
        #expect(session.exitStatus(within: 1.0) == "0")
    }

    @Test func ctrlCQuitsCleanly() throws {
        let session = try Session(arguments: ["view", TestSupport.repositoryRoot + "/samples"])
        #expect(try session.waitFor("frame 1/12"))
        try session.keys("C-c")
        #expect(session.exitStatus(within: 2) == "0")
        #expect(!session.alternateScreen, "terminal restored")
    }

    @Test func sigtermRestoresTheTerminal() throws {
        let session = try Session(arguments: ["view", TestSupport.repositoryRoot + "/samples"])
        #expect(try session.waitFor("frame 1/12"))
        let pid = try session.tmux(["display-message", "-p", "-t", session.name, "#{pane_pid}"]).trimmingCharacters(
            in: .whitespacesAndNewlines)
        // The pane runs a shell; its child is segscope.
        let child = try TestSupport.run("/usr/bin/env", ["pgrep", "-P", pid, "segscope"]).trimmingCharacters(
            in: .whitespacesAndNewlines)
        try TestSupport.run("/bin/kill", ["-TERM", child])
        #expect(session.exitStatus(within: 5) == "143", "ends by SIGTERM (128 + 15) after restoring")
        #expect(!session.alternateScreen, "terminal restored")
    }

    @Test func trueColourTerminalsGetExactClassColours() throws {
        let session = try Session(
            arguments: ["view", TestSupport.repositoryRoot + "/samples"],
            environment: "env -u NO_COLOR TERM=xterm-256color COLORTERM=truecolor")
        #expect(try session.waitFor("frame 1/12"))
        #expect(try session.waitFor("▀"))
        let colored = try session.screen(colors: true)
        // Cityscapes road, sidewalk, building, sky, exactly.
        for rgb in ["128;64;128", "244;35;232", "70;70;70", "70;130;180"] {
            #expect(colored.contains("38;2;" + rgb) || colored.contains("48;2;" + rgb), "exact \(rgb)")
        }
        #expect(!colored.contains("38;5;") && !colored.contains("48;5;"), "no 256-colour approximations")
        try session.keys("q")
        #expect(session.exitStatus(within: 2) == "0")
        #expect(!session.alternateScreen, "terminal restored")
    }

    /// tmux sends Home and End as ESC [ 1 ~ and ESC [ 4 ~ whatever TERM says.
    @Test func homeAndEndInsideTmux() throws {
        let session = try Session(arguments: ["view", TestSupport.repositoryRoot + "/samples"])
        #expect(try session.waitFor("frame 1/12"))
        try session.keys("End")
        #expect(try session.waitFor("frame 12/12"), "\((try? session.screen()) ?? "")")
        try session.keys("Home")
        #expect(try session.waitFor("frame 1/12"))
        #expect(try session.screen().contains("seq 1/2"), "not read as Esc + [ (previous sequence)")
        try session.keys("q")
        #expect(session.exitStatus(within: 2) == "0")
    }

    @Test func confusionPanelAndSuspectsAreDriven() throws {
        let session = try Session(arguments: ["view", TestSupport.repositoryRoot + "/samples"])
        #expect(try session.waitFor("frame 1/12"))
        try session.keys("C")
        #expect(try session.waitFor("confusion · mar · this frame"))
        #expect(try session.waitFor("GT road → mar road:"))
        try session.keys("Down")
        #expect(try session.waitFor("GT sidewalk → mar road:"))
        try session.keys("Enter")
        #expect(try session.waitFor("frames by pixels"), "\((try? session.screen()) ?? "")")
        try session.keys("Enter")
        #expect(try session.waitFor("(Esc clears)"))
        let colored = try session.screen(colors: true)
        // The highlight mark of cityscapes, #a0b400, is entry 142 of the 256-colour palette.
        #expect(colored.contains("38;5;142") || colored.contains("48;5;142"), "highlighted pixels")
        try session.keys("Escape", "C", "a")
        #expect(try session.waitFor("annotation suspects"))
        #expect(try session.waitFor(#"suspects [\d,]+ px"#, pattern: true), "the count, once computed")
        // The counts come from a background pass over the dataset; the first A jumps once it is done
        // (pressing again meanwhile would step on to the next entry).
        try session.keys("A")
        #expect(try session.waitFor("most suspects: 1 of", seconds: 60), "\((try? session.screen()) ?? "")")
        try session.keys("q")
        #expect(session.exitStatus(within: 2) == "0")
    }

    /// At 80x24 the IoU panel shows every number whole.
    @Test func smallScreenShowsNumbersWhole() throws {
        let session = try Session(arguments: ["view", TestSupport.repositoryRoot + "/samples"], width: 80, height: 24)
        #expect(try session.waitFor("frame 1/12"))
        try session.keys("i")
        #expect(try session.waitFor("mIoU"))
        #expect(try session.waitFor("▼"))
        let screen = try session.screen()
        var checked = 0
        for line in screen.split(separator: "\n") {
            guard let bar = line.firstIndex(of: "│") else { continue }
            let panel = line[line.index(after: bar)...]
            guard let first = panel.split(separator: " ").first, first.hasPrefix("█") || first == "mIoU" else {
                continue
            }
            let numbers = panel.split(separator: " ").dropFirst().filter { $0.contains(where: \.isNumber) }
            for token in numbers {
                #expect(
                    token.range(of: #"^[+-]?\d+\.\d$"#, options: .regularExpression) != nil,
                    "cut number '\(token)' in: \(line)")
                checked += 1
            }
        }
        #expect(checked > 20)
        try session.keys("q")
        #expect(session.exitStatus(within: 2) == "0")
    }

    @Test func viewOpensAtTheFrameAndLayoutGiven() throws {
        let session = try Session(arguments: [
            "view", TestSupport.repositoryRoot + "/samples", "--frame", "2/3", "--layout", "row",
        ])
        #expect(try session.waitFor("seq 2/2 · frame 3/12"), "\((try? session.screen()) ?? "")")
        #expect(try session.screen().contains("· row"))
        try session.keys("q")
        #expect(session.exitStatus(within: 2) == "0")
    }

    /// Figures computed in the background (flicker sparklines, the frame's
    /// Boundary IoU) reach the screen without a key press.
    @Test func temporalViewsAppearWhenComputed() throws {
        let session = try Session(arguments: ["view", TestSupport.repositoryRoot + "/samples"], width: 160, height: 45)
        #expect(try session.waitFor("frame 1/12"))
        try session.keys("F")
        #expect(try session.waitFor("px) → next"), "\((try? session.screen()) ?? "")")
        #expect(try session.screen().range(of: #"flicker \d+\.\d% \([\d,]+ px\)"#, options: .regularExpression) != nil)
        try session.keys("Y")
        #expect(try session.waitFor("sparklines: flicker"))
        #expect(
            try session.waitForAbsence("per-frame flicker: computing", seconds: 20),
            "the sparklines fill in by themselves")
        try session.keys("y")
        #expect(try session.waitFor("Boundary IoU % · this frame"))
        #expect(try session.waitForAbsence("computing…", seconds: 20), "\((try? session.screen()) ?? "")")
        #expect(try session.screen().range(of: #"mean +\d+\.\d"#, options: .regularExpression) != nil)
        try session.keys("q")
        #expect(session.exitStatus(within: 2) == "0")
    }
}
