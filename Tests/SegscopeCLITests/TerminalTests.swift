import Foundation
import SegTestSupport
import Testing

/// The terminal under the viewer, driven through tmux: any TERM starts, and
/// every way out (q, signals, crashes, Ctrl-Z) gives the terminal back, with
/// the shell seeing how the viewer ended.
@Suite(.serialized) struct TerminalTests {
    /// A tmux pane running `ENVIRONMENT segscope view samples/`, then writing
    /// the shell's `$?` to a file and staying open so its screen can be read.
    final class Pane {
        let name = "segscope-terminal-\(UUID().uuidString.prefix(8))"
        let statusFile: String

        init(environment: String, width: Int = 120, height: Int = 40) throws {
            statusFile = try TestSupport.scratchDirectory() + "/status"
            let view = "\(environment) \(TestSupport.segscopeBinary) view \(TestSupport.repositoryRoot)/samples"
            let command = "\(view); echo status=$? > \(statusFile); sleep 120"
            try Pane.start(["new-session", "-d", "-s", name, "-x", "\(width)", "-y", "\(height)", command])
        }

        /// An interactive bash with job control (for Ctrl-Z and fg).
        init(interactiveShellWidth width: Int = 120, height: Int = 40) throws {
            statusFile = try TestSupport.scratchDirectory() + "/status"
            let shell =
                "env -i PATH=/usr/bin:/bin HOME=/tmp LANG=C.UTF-8 TERM=xterm-256color PS1='prompt$ ' "
                + "bash --norc --noprofile -i"
            try Pane.start(["new-session", "-d", "-s", name, "-x", "\(width)", "-y", "\(height)", shell])
        }

        /// tmux new-session, tried again when it meets the server of the
        /// previous test exiting with its last session.
        static func start(_ arguments: [String]) throws {
            var attempt = 1
            while true {
                do {
                    return try TestSupport.runDetached(["tmux"] + arguments)
                } catch  where attempt < 5 {
                    attempt += 1
                    Thread.sleep(forTimeInterval: 0.3)
                }
            }
        }

        deinit { _ = try? tmux(["kill-session", "-t", name]) }

        @discardableResult
        func tmux(_ arguments: [String]) throws -> String { try TestSupport.run("/usr/bin/env", ["tmux"] + arguments) }

        func screen(colors: Bool = false) throws -> String {
            try tmux(["capture-pane", "-t", name, "-p"] + (colors ? ["-e"] : []))
        }

        func keys(_ keys: String...) throws { try tmux(["send-keys", "-t", name] + keys) }

        func waitFor(_ seconds: Double = 15, _ condition: () throws -> Bool) rethrows -> Bool {
            let deadline = Date().addingTimeInterval(seconds)
            while Date() < deadline {
                if try condition() { return true }
                Thread.sleep(forTimeInterval: 0.05)
            }
            return false
        }

        func waitFor(_ text: String, seconds: Double = 15) throws -> Bool {
            try waitFor(seconds) { try screen().contains(text) }
        }

        /// The viewer has drawn its panes: half blocks in colour, shades without.
        func waitForPixels() throws -> Bool {
            try waitFor { try screen().contains { "▀░▒▓█".contains($0) } }
        }

        /// tmux's view of the pane: alternate screen on, cursor visible.
        var terminalState: (alternate: Bool, cursorVisible: Bool) {
            let flags = ((try? tmux(["display-message", "-p", "-t", name, "#{alternate_on} #{cursor_flag}"])) ?? "")
                .split(separator: " ").map { $0.hasPrefix("1") }
            return (flags.first ?? false, flags.count > 1 && flags[1])
        }

        /// Restored: the normal screen with a visible cursor.
        var restored: Bool { terminalState == (false, true) }

        /// What the shell wrote after the viewer ended ("status=N"), or nil.
        func status(within seconds: Double) -> String? {
            var text: String?
            _ = waitFor(seconds) {
                let written = (try? String(contentsOfFile: statusFile, encoding: .utf8))?
                    .trimmingCharacters(in: .whitespacesAndNewlines)
                text = written?.isEmpty == false ? written : nil
                return text != nil
            }
            return text
        }

        /// The viewer's pid: the child of the pane's shell (env execs it).
        func viewerPid() throws -> String {
            let shell = try tmux(["display-message", "-p", "-t", name, "#{pane_pid}"])
                .trimmingCharacters(in: .whitespacesAndNewlines)
            return try TestSupport.run("/usr/bin/env", ["pgrep", "-P", shell, "-x", "segscope"])
                .trimmingCharacters(in: .whitespacesAndNewlines)
        }

        func send(signal: String) throws { try TestSupport.run("/bin/kill", ["-s", signal, try viewerPid()]) }
    }

    /// TERM values without a usable terminfo entry here (Debian's ncurses-base
    /// has no kitty or -direct entries; "dumb" cannot move the cursor; "" is
    /// TERM unset): the viewer starts on its built-in description.
    @Test(arguments: ["xterm-kitty", "xterm-direct", "nonsense", "", "dumb"])
    func anyTermStartsDrawsAndQuits(term: String) throws {
        let environment = "env -u NO_COLOR -u COLORTERM " + (term.isEmpty ? "-u TERM" : "TERM=\(term)")
        let pane = try Pane(environment: environment)
        #expect(try pane.waitFor("frame 1/12"), "TERM=\(term): \((try? pane.screen()) ?? "")")
        #expect(try pane.waitForPixels(), "TERM=\(term): the panes are drawn")
        #expect(pane.terminalState == (true, false), "TERM=\(term): alternate screen, cursor hidden")
        try pane.keys("Right")
        #expect(try pane.waitFor("frame 2/12"), "TERM=\(term): arrow keys arrive")
        try pane.keys("q")
        #expect(pane.status(within: 5) == "status=0", "TERM=\(term)")
        #expect(pane.restored, "TERM=\(term): \(pane.terminalState)")
    }

    /// Truecolour on a TERM terminfo does not know: exact 24-bit class colours.
    @Test(arguments: [("xterm-kitty", "truecolor"), ("nonsense", "24bit"), ("xterm-direct", "")])
    func truecolourOnAnUnknownTerm(term: String, colorterm: String) throws {
        let colour = colorterm.isEmpty ? "-u COLORTERM" : "COLORTERM=\(colorterm)"
        let pane = try Pane(environment: "env -u NO_COLOR \(colour) TERM=\(term)")
        #expect(try pane.waitFor("frame 1/12"))
        // Cityscapes road, sidewalk, building, sky, exactly, once the ground
        // truth and predictions are drawn.
        let classes = ["128;64;128", "244;35;232", "70;70;70", "70;130;180"]
        _ = try pane.waitFor {
            let colored = try pane.screen(colors: true)
            return classes.allSatisfy { colored.contains("38;2;" + $0) || colored.contains("48;2;" + $0) }
        }
        let colored = try pane.screen(colors: true)
        for rgb in classes {
            #expect(colored.contains("38;2;" + rgb) || colored.contains("48;2;" + rgb), "TERM=\(term): exact \(rgb)")
        }
        #expect(!colored.contains("38;5;") && !colored.contains("48;5;"), "TERM=\(term): no 256-colour approximations")
        try pane.keys("q")
        #expect(pane.status(within: 5) == "status=0")
        #expect(pane.restored)
    }

    /// Without tic (nothing on PATH), an unknown TERM falls back to
    /// xterm-256color from the terminfo database, and truecolour to 256 colours.
    @Test func withoutTicAnUnknownTermUsesXterm256color() throws {
        let pane = try Pane(environment: "env -u NO_COLOR PATH=/var/empty COLORTERM=truecolor TERM=xterm-kitty")
        #expect(try pane.waitFor("frame 1/12"), "\((try? pane.screen()) ?? "")")
        #expect(try pane.waitForPixels())
        #expect(try pane.waitFor { try pane.screen(colors: true).contains("8;5;") }, "256 colours")
        #expect(!(try pane.screen(colors: true).contains("8;2;")), "no direct colour without a compiled entry")
        try pane.keys("q")
        #expect(pane.status(within: 5) == "status=0")
        #expect(pane.restored)
    }

    /// Signals whose default action ends the process: the terminal is
    /// restored, then the viewer ends by the signal, so the shell sees 128+N.
    @Test(arguments: [("TERM", 15), ("HUP", 1), ("QUIT", 3), ("USR1", 10), ("ALRM", 14), ("PIPE", 13)])
    func endingSignalRestoresAndEndsBySignal(signal: String, number: Int) throws {
        let pane = try Pane(environment: "env -u NO_COLOR TERM=xterm-256color")
        #expect(try pane.waitFor("frame 1/12"))
        #expect(pane.terminalState == (true, false))
        try pane.send(signal: signal)
        #expect(pane.status(within: 5) == "status=\(128 + number)", "SIG\(signal)")
        #expect(pane.restored, "SIG\(signal): \(pane.terminalState)")
    }

    /// Crashes (here sent with kill; a fault takes the same handler): the
    /// terminal is restored before Swift's crash report, which is printed on
    /// the normal screen without the backtracer's 30 s wait for a key.
    @Test(arguments: [("SEGV", 11), ("ILL", 4), ("TRAP", 5), ("BUS", 7), ("FPE", 8), ("ABRT", 6)])
    func crashRestoresTheTerminalFirst(signal: String, number: Int) throws {
        let pane = try Pane(environment: "env -u NO_COLOR TERM=xterm-256color")
        #expect(try pane.waitFor("frame 1/12"))
        let sent = Date()
        try pane.send(signal: signal)
        #expect(pane.status(within: 20) == "status=\(128 + number)", "SIG\(signal)")
        #expect(Date().timeIntervalSince(sent) < 20, "SIG\(signal): no wait for a key")
        #expect(pane.restored, "SIG\(signal): \(pane.terminalState)")
        #expect(try pane.screen().contains("crashed"), "SIG\(signal): the crash report is on the normal screen")
    }

    /// A loop that cannot answer: output stopped with Ctrl-S, so the viewer
    /// blocks writing its next paint. SIGTERM still ends it within seconds
    /// (a watchdog restores the terminal, resuming output, and ends the
    /// process by the signal).
    @Test func stuckViewerStillEndsOnSigterm() throws {
        let pane = try Pane(environment: "env -u NO_COLOR TERM=xterm-256color", width: 160, height: 50)
        #expect(try pane.waitFor("frame 1/12"))
        #expect(try pane.waitForPixels())
        try pane.keys("C-s")
        for _ in 0..<4 {
            try pane.keys("Right")
            Thread.sleep(forTimeInterval: 0.2)
        }
        try pane.keys("v")
        Thread.sleep(forTimeInterval: 0.5)
        let pid = try pane.viewerPid()
        let blocked = (try? String(contentsOfFile: "/proc/\(pid)/wchan", encoding: .utf8)) ?? ""
        #expect(blocked.contains("wait"), "the viewer is blocked writing to the stopped terminal: \(blocked)")
        try pane.send(signal: "TERM")
        #expect(pane.status(within: 8) == "status=\(128 + SIGTERM)")
        #expect(pane.restored, "\(pane.terminalState)")
    }

    /// The terminal goes away while SIGHUP is ignored (trap '' HUP, as under
    /// nohup): the viewer sees its reads fail and ends as hung up, instead of
    /// spinning on a dead terminal.
    @Test func terminalGoneWithHangupIgnored() throws {
        let pane = try Pane(environment: "trap '' HUP; env -u NO_COLOR TERM=xterm-256color")
        #expect(try pane.waitFor("frame 1/12"))
        let pid = try #require(pid_t(try pane.viewerPid()))
        try pane.tmux(["kill-session", "-t", pane.name])
        let ended = pane.waitFor(5) { kill(pid, 0) != 0 }
        #expect(ended, "the viewer ends once its terminal is gone")
        if !ended { kill(pid, SIGKILL) }
        #expect(pane.status(within: 2) == "status=\(128 + SIGHUP)")
    }

    /// Stopped by SIGSTOP (which cannot be caught), the tty reset behind the
    /// viewer's back (stty sane: line buffering, echo), then SIGCONT: the
    /// viewer takes its modes again, so keys arrive one by one.
    @Test func sigcontAfterAStopTakesTheTerminalAgain() throws {
        let pane = try Pane(environment: "env -u NO_COLOR TERM=xterm-256color")
        #expect(try pane.waitFor("frame 1/12"))
        let tty = try pane.tmux(["display-message", "-p", "-t", pane.name, "#{pane_tty}"])
            .trimmingCharacters(in: .whitespacesAndNewlines)
        try pane.send(signal: "STOP")
        try TestSupport.run("/usr/bin/env", ["stty", "-F", tty, "sane"])
        try pane.send(signal: "CONT")
        try pane.keys("Right")
        #expect(try pane.waitFor("frame 2/12", seconds: 5), "\((try? pane.screen()) ?? "")")
        try pane.keys("q")
        #expect(pane.status(within: 5) == "status=0")
        #expect(pane.restored)
    }

    /// Ctrl-C is a key the controller sees, not an exit: at the `:` prompt it
    /// does not end the viewer; elsewhere it quits with status 0.
    @Test func ctrlCIsAKey() throws {
        let pane = try Pane(environment: "env -u NO_COLOR TERM=xterm-256color")
        #expect(try pane.waitFor("frame 1/12"))
        try pane.keys(":")
        #expect(try pane.waitFor("jump to"), "\((try? pane.screen()) ?? "")")
        try pane.keys("C-c")
        #expect(pane.status(within: 1.5) == nil, "Ctrl-C at the prompt does not end the viewer")
        try pane.keys("Escape")
        #expect(try pane.waitFor(5) { !(try pane.screen().contains("jump to")) })
        try pane.keys("C-c")
        #expect(pane.status(within: 5) == "status=0")
        #expect(pane.restored)
    }

    /// Ctrl-Z in a shell with job control: the terminal is given back while
    /// the viewer is stopped, and fg takes it again with the viewer working.
    @Test func ctrlZSuspendsAndFgResumes() throws {
        let pane = try Pane(interactiveShellWidth: 120, height: 40)
        #expect(try pane.waitFor("prompt$"))
        try pane.keys("\(TestSupport.segscopeBinary) view \(TestSupport.repositoryRoot)/samples", "Enter")
        #expect(try pane.waitFor("frame 1/12"))
        #expect(pane.terminalState == (true, false))
        try pane.keys("C-z")
        #expect(try pane.waitFor("Stopped"))
        #expect(pane.restored, "stopped: \(pane.terminalState)")
        try pane.keys("fg", "Enter")
        #expect(pane.waitFor(5) { pane.terminalState == (true, false) }, "fg: the viewer takes the screen again")
        #expect(try pane.waitFor("frame 1/12"))
        try pane.keys("Right")
        #expect(try pane.waitFor("frame 2/12"), "keys work after fg: \((try? pane.screen()) ?? "")")
        try pane.keys("q")
        #expect(pane.waitFor(5) { pane.restored })
        try pane.keys("echo status=$?", "Enter")
        #expect(try pane.waitFor("status=0"))
    }
}
