import Foundation
import SegFormats
import SegTestSupport
import Testing

struct SpawnFailure: Error, CustomStringConvertible {
    let description: String
}

/// A run of the binary with its peak RSS (measured by /usr/bin/time),
/// under an address-space limit so a blow-up fails here instead of taking the
/// machine's memory, and killed after a timeout (status 124).
struct MeasuredRun {
    let status: Int32
    let stdout: String
    let stderr: String
    let peakRSSBytes: Int

    static func segscope(
        _ arguments: [String], timeout: Double = 60, environment: [String: String] = [:],
        addressSpaceGB: Int = 6
    ) throws -> MeasuredRun {
        let scratch = try TestSupport.scratchDirectory("measured")
        defer { try? FileManager.default.removeItem(atPath: scratch) }
        let (outPath, errPath) = (scratch + "/stdout", scratch + "/stderr")
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, outPath, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, errPath, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        let limit = String(addressSpaceGB << 30)
        // The peak RSS comes from /usr/bin/time, whose own small child runs segscope: the rusage of a child
        // posix_spawn makes here keeps the high-water mark of this (large) test process, shared until exec.
        let report = scratch + "/peak-rss"
        let command =
            [
                "/usr/bin/time", "-f", "%M", "-o", report, "/usr/bin/prlimit", "--as=\(limit)", "--core=0",
                TestSupport.segscopeBinary,
            ] + arguments
        let merged = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        var envp: [UnsafeMutablePointer<CChar>?] = merged.map { strdup("\($0.key)=\($0.value)") } + [nil]
        var argv: [UnsafeMutablePointer<CChar>?] = command.map { strdup($0) } + [nil]
        defer { for pointer in (envp + argv) { free(pointer) } }
        var pid: pid_t = 0
        let spawned = posix_spawn(&pid, command[0], &actions, nil, &argv, &envp)
        guard spawned == 0 else {
            throw SpawnFailure(description: "cannot start segscope: \(String(cString: strerror(spawned)))")
        }
        var status: Int32 = 0
        var usage = rusage()
        var timedOut = false
        let deadline = Date().addingTimeInterval(timeout)
        while true {
            let waited = wait4(pid, &status, WNOHANG, &usage)
            if waited == pid { break }
            if waited < 0 && errno != EINTR { break }
            if !timedOut && Date() > deadline {
                kill(pid, SIGKILL)
                timedOut = true
            }
            usleep(20_000)
        }
        let code = timedOut ? 124 : (status & 0x7f) == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f)
        func text(_ path: String) -> String { (try? String(contentsOfFile: path, encoding: .utf8)) ?? "" }
        return MeasuredRun(
            status: code, stdout: text(outPath), stderr: text(errPath),
            // time writes "Command exited with non-zero status N" before the figure when the status is not 0.
            peakRSSBytes: (text(report).split(separator: "\n").last.flatMap { Int($0) } ?? Int.max / 1024) * 1024)
    }
}

/// Issue 22, the CLI layer: hostile options and paths end in a usage error,
/// strangers' strings are escaped, and file errors read as one line.
@Suite struct HostileCommandTests {
    static let usageError: Int32 = 64
    let samples = TestSupport.repositoryRoot + "/samples"

    /// Every out-of-range numeric option is refused by validate() before any
    /// work: exit 64 naming the option, at once, in little memory.
    @Test func numericOptionsOutsideTheirRangesAreUsageErrors() throws {
        let root = try TestSupport.scratchDirectory()
        let out = root + "/out"
        let weights = TestSupport.repositoryRoot + "/samples/weights/street-c64.safetensors"
        let huge = String(Int.max)
        let cases: [(option: String, arguments: [String])] = [
            ("--cols", ["render", "--ansi", "--cols", "100000000", "--rows", "48"]),
            ("--cols", ["render", "--ansi", "--cols", "20000", "--rows", "48"]),
            ("--rows", ["render", "--ansi", "--cols", "160", "--rows", "5000"]),
            ("--cache-mb", ["render", "--ansi", "--cache-mb", String(1 << 43)]),
            ("--cache-mb", ["view", "--cache-mb", String(1 << 43)]),
            ("--size", ["synth", "--out", out, "--size", "100000x100000"]),
            ("--corruptions", ["synth", "--out", out, "--corruptions", "1e308"]),
            ("--corruptions", ["synth", "--out", out, "--corruptions", "nan"]),
            ("--noise", ["synth", "--out", out, "--noise", "inf"]),
            ("--boundary-distortion", ["synth", "--out", out, "--boundary-distortion", "-1"]),
            ("--feature-dim", ["synth", "--out", out, "--feature-dim", huge]),
            ("--feature-dim", ["synth", "--out", out, "--feature-dim", "4096", "--size", "4096x8192"]),
            ("--sequences", ["synth", "--out", out, "--sequences", huge]),
            ("--frames", ["synth", "--out", out, "--frames", huge]),
            ("--first-sequence", ["synth", "--out", out, "--first-sequence", huge]),
            ("--first-sequence", ["synth", "--out", out, "--first-sequence", "-5"]),
            ("--feature-type", ["synth", "--out", out, "--no-features", "--feature-type", "float16"]),
            ("--pe-size", ["train", "stf", samples, "--out", out + ".safetensors", "--pe-size", "100000x100000"]),
            ("--epochs", ["train", "classifier", samples, "--out", out + ".safetensors", "--epochs", huge]),
            ("--lr", ["train", "classifier", samples, "--out", out + ".safetensors", "--lr", "1e308"]),
            ("--lr", ["train", "classifier", samples, "--out", out + ".safetensors", "--lr", "nan"]),
            (
                "--weight-decay",
                [
                    "train", "classifier", samples, "--out", out + ".safetensors",
                    "--weight-decay", "inf",
                ]
            ),
            ("--batch", ["train", "classifier", samples, "--out", out + ".safetensors", "--batch", huge]),
            ("--heads", ["train", "stf", samples, "--out", out + ".safetensors", "--heads", huge]),
            ("--block", ["train", "stf", samples, "--out", out + ".safetensors", "--block", "\(huge)x\(huge)"]),
            ("--ffn", ["train", "stf", samples, "--out", out + ".safetensors", "--ffn", huge]),
            ("--depth", ["train", "stf", samples, "--out", out + ".safetensors", "--depth", huge]),
            (
                "--mar-width",
                [
                    "train", "mar", samples, "--out", out + ".safetensors", "--memory", root,
                    "--mar-width", huge,
                ]
            ),
            (
                "--stop-after",
                [
                    "train", "classifier", samples, "--out", out + ".safetensors", "--epochs", "2",
                    "--stop-after", "3",
                ]
            ),
            ("--kl", ["memory", "build", samples, "--weights", weights, "--out", out, "--kl", huge]),
            ("--kh", ["memory", "build", samples, "--weights", weights, "--out", out, "--kh", huge]),
            ("--heads", ["forward", "--weights", weights, "--frames", "a", "b", "c", "--out", out, "--heads", huge]),
            ("--block", ["infer", samples, "--weights", weights, "--out", out, "--block", "100000x8"]),
        ]
        for (option, arguments) in cases {
            let run = try MeasuredRun.segscope(arguments, timeout: 30)
            #expect(
                run.status == Self.usageError && run.stderr.contains(option),
                "\(arguments): status \(run.status) \(run.stderr)")
            #expect(run.peakRSSBytes < 200 << 20, "\(arguments): peak RSS \(run.peakRSSBytes >> 20) MB")
            #expect(!FileManager.default.fileExists(atPath: out), "\(arguments) wrote \(out)")
        }
        let help = try TestSupport.segscope(["synth", "--help"])
        #expect(help.stdout.contains("1-4096") && help.stdout.contains("0-1000"), "the ranges are stated in --help")
    }

    /// Empty, over-long and control-character paths are refused by every
    /// command before anything is written (`infer --out ""` once wrote /pred).
    @Test func emptyAndOddPathsAreRefused() throws {
        let root = try TestSupport.scratchDirectory()
        let weights = TestSupport.repositoryRoot + "/samples/weights/street-c64.safetensors"
        let longName = String(repeating: "n", count: 300)
        let longPath = root + String(repeating: "/abcdefgh", count: 600)
        let cases: [(option: String, problem: String, arguments: [String])] = [
            ("--out", "empty", ["infer", samples, "--weights", weights, "--out", ""]),
            ("--out", "empty", ["synth", "--out", ""]),
            ("--out", "empty", ["forward", "--weights", weights, "--frames", "a", "b", "c", "--out", ""]),
            ("--out", "empty", ["memory", "build", samples, "--weights", weights, "--out", ""]),
            ("--out", "empty", ["train", "classifier", samples, "--out", ""]),
            ("--png", "empty", ["render", samples, "--png", ""]),
            ("--gt", "empty", ["eval", "--gt", "", "--pred", "a=" + root]),
            ("--pred", "empty", ["eval", "--gt", root, "--pred", "a="]),
            ("--weights", "empty", ["forward", "--weights", "", "--frames", "a", "b", "c", "--out", root + "/o"]),
            ("file", "empty", ["weights", ""]),
            ("file", "empty", ["bookmarks", ""]),
            ("name", "empty", ["labels", ""]),
            ("path", "empty", ["memory", "inspect", ""]),
            ("--bookmarks", "empty", ["view", samples, "--bookmarks", ""]),
            ("--split", "empty", ["synth", "--out", root + "/s", "--split", ""]),
            ("--split", "without '/'", ["synth", "--out", root + "/s", "--split", "../../escape"]),
            ("file", "longer than the system's limit (4095)", ["weights", longPath]),
            ("file", "longer than the system's limit (255)", ["weights", root + "/" + longName]),
            ("--out", "control character", ["synth", "--out", root + "/evil\u{1b}[2J"]),
            ("--out", "not '..'", ["synth", "--out", root + "/.."]),
            ("--out", "not '/'", ["synth", "--out", "/", "--force"]),
        ]
        for (option, problem, arguments) in cases {
            let run = try TestSupport.segscope(arguments, timeout: 30)
            #expect(
                run.status == Self.usageError && run.stderr.contains(option) && run.stderr.contains(problem),
                "\(arguments.map { String($0.prefix(40)) }): status \(run.status) \(run.stderr.prefix(300))")
            #expect(!run.stderr.contains("\u{1b}"), "the refused path is shown escaped")
        }
        #expect(try FileManager.default.contentsOfDirectory(atPath: root).isEmpty, "nothing was written")
    }

    /// `synth --out` naming a file or a symbolic link is refused (even with
    /// --force) and leaves it as it was; an output folder given to a command
    /// writing files, or a file given as a folder, is a usage error.
    @Test func outputsOfTheWrongKindAreRefused() throws {
        let root = try TestSupport.scratchDirectory()
        let file = root + "/notes.txt"
        try Data("keep me\n".utf8).write(to: URL(fileURLWithPath: file))
        try FileManager.default.createDirectory(atPath: root + "/target", withIntermediateDirectories: true)
        try Data("also keep me\n".utf8).write(to: URL(fileURLWithPath: root + "/target/precious"))
        try FileManager.default.createSymbolicLink(atPath: root + "/link", withDestinationPath: root + "/target")
        for force in [[], ["--force"]] {
            let toFile = try TestSupport.segscope(
                [
                    "synth", "--out", file, "--sequences", "1", "--frames", "1",
                    "--size", "32x64",
                ] + force)
            #expect(
                toFile.status != 0 && toFile.stderr.contains("\(file): exists and is not a folder"),
                "\(toFile.status) \(toFile.stderr)")
            let toLink = try TestSupport.segscope(
                [
                    "synth", "--out", root + "/link", "--sequences", "1",
                    "--frames", "1", "--size", "32x64",
                ] + force)
            #expect(
                toLink.status != 0 && toLink.stderr.contains("is a symbolic link"),
                "\(toLink.status) \(toLink.stderr)")
        }
        #expect(try String(contentsOfFile: file, encoding: .utf8) == "keep me\n")
        #expect(try String(contentsOfFile: root + "/target/precious", encoding: .utf8) == "also keep me\n")
        #expect(try FileManager.default.destinationOfSymbolicLink(atPath: root + "/link") == root + "/target")
        let weights = TestSupport.repositoryRoot + "/samples/weights/street-c64.safetensors"
        for arguments in [
            ["infer", samples, "--weights", weights, "--out", file],
            ["memory", "build", samples, "--weights", weights, "--out", file],
            ["forward", "--weights", weights, "--frames", "a", "b", "c", "--out", file],
        ] {
            let run = try TestSupport.segscope(arguments)
            #expect(
                run.status == Self.usageError && run.stderr.contains("--out \(file): exists and is not a folder"),
                "\(arguments[0]): \(run.status) \(run.stderr)")
        }
        // Written beside and renamed over: a device or FIFO would be replaced (as root, /dev/null itself).
        let fifo = root + "/fifo"
        #expect(mkfifo(fifo, 0o644) == 0)
        for (option, arguments) in [
            ("--png", ["render", samples, "--png", fifo]),
            ("--out", ["train", "classifier", samples, "--out", fifo]),
            ("--out", ["synth", "--out", fifo]),
        ] {
            let run = try TestSupport.segscope(arguments, timeout: 30)
            #expect(
                run.status == Self.usageError && run.stderr.contains("\(option) \(fifo): "),
                "\(arguments[0]): \(run.status) \(run.stderr)")
            var status = stat()
            #expect(lstat(fifo, &status) == 0 && status.st_mode & S_IFMT == S_IFIFO, "the FIFO is still there")
        }
        let train = try TestSupport.segscope(["train", "classifier", samples, "--out", root + "/target"])
        #expect(
            train.status == Self.usageError && train.stderr.contains("is a folder; give a file name"),
            "\(train.stderr)")
        #expect(try String(contentsOfFile: file, encoding: .utf8) == "keep me\n")
    }

    /// Staging folders of killed synth runs are removed by the next run when
    /// their process is gone; a live process's folder is left alone.
    @Test func staleSynthStagingFoldersAreRemoved() throws {
        let root = try TestSupport.scratchDirectory()
        // A PID that is surely gone: a child that has exited and been reaped.
        var dead: pid_t = 0
        var argv: [UnsafeMutablePointer<CChar>?] = [strdup("/bin/true"), nil]
        defer { for pointer in argv { free(pointer) } }
        #expect(posix_spawn(&dead, "/bin/true", nil, nil, &argv, environ) == 0)
        var status: Int32 = 0
        while waitpid(dead, &status, 0) < 0 && errno == EINTR {}
        let stale = root + "/.data.partial-\(dead)"
        let live = root + "/.data.partial-\(getpid())"
        let other = root + "/.other.partial-\(dead)"
        for folder in [stale, live, other] {
            try FileManager.default.createDirectory(atPath: folder + "/gtFine", withIntermediateDirectories: true)
        }
        let run = try TestSupport.segscope([
            "synth", "--out", root + "/data", "--sequences", "1", "--frames", "1",
            "--size", "32x64", "--no-features",
        ])
        #expect(run.status == 0, "\(run.stderr)")
        #expect(!FileManager.default.fileExists(atPath: stale), "the dead run's staging folder is removed")
        #expect(FileManager.default.fileExists(atPath: live), "a live process's staging folder stays")
        #expect(FileManager.default.fileExists(atPath: other), "another output's staging folder stays")
        #expect(FileManager.default.fileExists(atPath: root + "/data/segscope.toml"))
    }

    /// A one-letter relative output name works (NSString's path functions trapped on it).
    @Test func synthIntoAOneLetterFolder() throws {
        let root = try TestSupport.scratchDirectory()
        let script = "cd \"$1\" && exec \"$2\" synth --out d --sequences 1 --frames 1 --size 32x64 --no-features"
        let run = try TestSupport.outcome("/bin/sh", ["-c", script, "sh", root, TestSupport.segscopeBinary])
        #expect(run.status == 0, "\(run.status) \(run.stderr)")
        #expect(FileManager.default.fileExists(atPath: root + "/d/segscope.toml"))
    }

    /// SIGINT and SIGTERM end synth at its largest allowed frames without
    /// output or a staging folder, within seconds.
    @Test(arguments: [SIGINT, SIGTERM])
    func synthEndsOnSignalsWithoutPartialOutput(signal: Int32) throws {
        let root = try TestSupport.scratchDirectory()
        let command = [
            TestSupport.segscopeBinary, "synth", "--out", root + "/data", "--sequences", "3",
            "--frames", "50",
            "--size", "4096x8192", "--feature-dim", "32",
        ]
        var argv: [UnsafeMutablePointer<CChar>?] = command.map { strdup($0) } + [nil]
        defer { for pointer in argv { free(pointer) } }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, "/dev/null", O_WRONLY, 0)
        var pid: pid_t = 0
        #expect(posix_spawn(&pid, command[0], &actions, nil, &argv, environ) == 0)
        // Well into the first frame (and its staging folder).
        let started = Date()
        while (try? FileManager.default.contentsOfDirectory(atPath: root))?.isEmpty ?? true,
            Date().timeIntervalSince(started) < 20
        {
            usleep(50_000)
        }
        usleep(500_000)
        let sent = Date()
        kill(pid, signal)
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        let seconds = Date().timeIntervalSince(sent)
        #expect((status & 0x7f) == 0 && (status >> 8) & 0xff == 1, "exits 1 (interrupted), status \(status)")
        #expect(seconds < 30, "ended \(seconds) s after the signal")
        #expect(try FileManager.default.contentsOfDirectory(atPath: root).isEmpty, "no output, no staging folder")
    }

    /// A dataset whose frame key holds `ESC ] 0;PWNED BEL ESC [2J`: render
    /// --ansi shows it as visible pictures, never as a title change or a clear.
    @Test func renderAnsiEscapesControlCharactersInCells() throws {
        let root = try TestSupport.scratchDirectory()
        let evil = "x\u{1b}]0;PWNED\u{7}\u{1b}[2J_000000_000000"
        let labels = [UInt8](repeating: 0, count: 64 * 32)
        try PNG.write(
            PNGImage(width: 64, height: 32, colorType: .gray, bitDepth: 8, samples: .eight(labels)),
            to: root + "/\(evil)_gtFine_labelTrainIds.png")
        for environment in [["NO_COLOR": "1"], ["TERM": "xterm-256color", "COLORTERM": "truecolor"]] {
            let run = try TestSupport.segscope(
                [
                    "render", "--gt", root, "--label-space", "cityscapes", "--ansi",
                    "--cols", "120", "--rows", "30",
                ], environment: environment)
            #expect(run.status == 0, "\(run.stderr)")
            #expect(
                !run.stdout.contains("\u{7}") && !run.stdout.contains("\u{1b}]")
                    && !run.stdout.contains("\u{1b}[2J"),
                "\(environment): \(run.stdout.debugDescription.prefix(400))")
            #expect(
                run.stdout.contains("\u{241b}]0;PWNED\u{2407}\u{241b}[2J"),
                "the key is shown, its controls as pictures")
        }
    }

    /// Bookmark notes and keys are printed escaped: an OSC 52 clipboard write stays text.
    @Test func bookmarkNotesAreEscaped() throws {
        let root = try TestSupport.scratchDirectory()
        let note = "look \u{1b}]52;c;cm0gLXJmIH4=\u{7} here"
        let json = """
            {"bookmarks": [{"key": "k\\u001b[2J", "note": "\(note.replacingOccurrences(of: "\u{1b}", with: "\\u001b")
                .replacingOccurrences(of: "\u{7}", with: "\\u0007"))", "created": "2026-01-01T00:00:00Z"}]}
            """
        try Data(json.utf8).write(to: URL(fileURLWithPath: root + "/bookmarks.json"))
        let run = try TestSupport.segscope(["bookmarks", root + "/bookmarks.json"])
        #expect(run.status == 0, "\(run.stderr)")
        #expect(!run.stdout.contains("\u{1b}") && !run.stdout.contains("\u{7}"), "\(run.stdout.debugDescription)")
        #expect(
            run.stdout == "k\\u{1b}[2J\t2026-01-01T00:00:00Z\tlook \\u{1b}]52;c;cm0gLXJmIH4=\\u{7} here\n",
            "\(run.stdout.debugDescription)")
    }

    /// A theme file's name, class names and categories reach `labels` escaped.
    @Test func themeNamesInLabelsAreEscaped() throws {
        let root = try TestSupport.scratchDirectory()
        let theme = """
            name = "t\\u001b]0;PWNED\\u0007"
            label_space = "custom"
            [[class]]
            name = "road\\u001b[2J"
            category = "flat\\u009b31m"
            color = "#804080"
            """
        try Data(theme.utf8).write(to: URL(fileURLWithPath: root + "/evil.toml"))
        let run = try TestSupport.segscope(["labels", root + "/evil.toml"])
        #expect(run.status == 0, "\(run.stderr)")
        #expect(
            !run.stdout.unicodeScalars.contains { $0.value == 0x1b || $0.value == 0x07 || $0.value == 0x9b },
            "\(run.stdout.debugDescription)")
        #expect(
            run.stdout.contains("theme t\\u{1b}]0;PWNED\\u{7}") && run.stdout.contains("road\\u{1b}[2J")
                && run.stdout.contains("flat\\u{9b}31m"), "\(run.stdout.debugDescription)")
    }

    /// `memory inspect --label-space` with fewer classes than the memory is an
    /// error, not an index out of range.
    @Test func memoryInspectWithTooFewClassNamesIsAnError() throws {
        let root = try TestSupport.scratchDirectory()
        try Npy.write([Float](repeating: 0.5, count: 19 * 2 * 4), shape: [38, 4], to: root + "/key.npy")
        try Npy.write([Float](repeating: 1, count: 19 * 4), shape: [19, 4], to: root + "/value.npy")
        let run = try TestSupport.segscope(["memory", "inspect", root, "--label-space", "camvid"])
        #expect(
            run.status == 1 && run.stderr.contains("--label-space camvid: 11 classes, the memory 19"),
            "\(run.status) \(run.stderr)")
    }

    /// Foundation's file errors read as "PATH: reason", never
    /// "Error Domain=NSCocoaErrorDomain Code=...".
    @Test func fileErrorsAreOneReadableLine() throws {
        let run = try TestSupport.segscope([
            "synth", "--out", "/sys/segscope-test/data", "--sequences", "1",
            "--frames", "1",
            "--size", "32x64", "--no-features",
        ])
        #expect(
            run.status == 1 && run.stderr.hasPrefix("segscope: /sys/") && !run.stderr.contains("Domain=")
                && run.stderr.split(separator: "\n").count == 1, "\(run.stderr)")
    }

    /// A file name that is not UTF-8 is a usage error saying so (it was "no such file": Swift replaced its bytes).
    @Test func nonUTF8ArgumentsAreNamed() throws {
        let root = try TestSupport.scratchDirectory()
        let name = "\"$(printf 'w\\377.safetensors')\""
        let script = "cd \"$1\" && : > \(name) && exec \"$2\" weights \(name)"
        let run = try TestSupport.outcome("/bin/sh", ["-c", script, "sh", root, TestSupport.segscopeBinary])
        #expect(
            run.status == Self.usageError && run.stderr.contains("argument 2")
                && run.stderr.contains("not valid UTF-8"),
            "\(run.status) \(run.stderr)")
    }

    /// `--shard 2/3` on two sequences says the shard is empty (it said "no backbone").
    @Test func anEmptyShardSaysSo() throws {
        let root = try TestSupport.scratchDirectory()
        let synth = try TestSupport.segscope([
            "synth", "--out", root + "/d", "--sequences", "2", "--frames", "2",
            "--size", "32x64",
        ])
        #expect(synth.status == 0, "\(synth.stderr)")
        let weights = TestSupport.repositoryRoot + "/samples/weights/street-c64.safetensors"
        let run = try TestSupport.segscope([
            "infer", root + "/d", "--weights", weights, "--out", root + "/run",
            "--shard", "2/3",
        ])
        let expected = "--shard 2/3: the dataset has 2 sequence(s), so shard 2 of 3 holds none"
        #expect(
            run.status == 1 && run.stderr.contains(expected),
            "\(run.status) \(run.stderr)")
        #expect(!FileManager.default.fileExists(atPath: root + "/run"))
    }
}
