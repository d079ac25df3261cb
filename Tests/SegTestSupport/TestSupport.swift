import Foundation

/// Helpers shared by segscope's test targets: scratch folders, running the
/// independent Python references, and building raw PNG chunks by hand.
public enum TestSupport {
    /// A new empty directory under the system temporary folder.
    public static func scratchDirectory(_ label: String = #function) throws -> String {
        let safe = label.filter { $0.isLetter || $0.isNumber }
        let path = NSTemporaryDirectory() + "segscope-test-\(safe)-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    public struct CommandFailure: Error, CustomStringConvertible {
        public let description: String
    }

    /// The Python holding the references (numpy, safetensors, PIL,
    /// cityscapesScripts): `make test` sets SEGSCOPE_PYTHON to its venv.
    public static var pythonExecutable: String {
        ProcessInfo.processInfo.environment["SEGSCOPE_PYTHON"] ?? "python3"
    }

    /// Runs `python -c script args...` and returns its stdout; throws with
    /// stderr if it fails.
    @discardableResult
    public static func python(_ script: String, _ arguments: [String] = []) throws -> String {
        try run("/usr/bin/env", [pythonExecutable, "-c", script] + arguments)
    }

    public struct Outcome {
        public let status: Int32
        public let stdout: String
        public let stderr: String
        /// The child's peak resident set in bytes (set by `segscopeMeasuringMemory` only).
        public var peakResidentBytes = 0
    }

    /// The `segscope` binary built beside the test bundle.
    public static var segscopeBinary: String {
        let binary = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent(
            "segscope"
        ).path
        return FileManager.default.fileExists(atPath: binary) ? binary : repositoryRoot + "/.build/debug/segscope"
    }

    /// Runs the `segscope` binary built beside the test bundle.
    public static func segscope(_ arguments: [String], environment: [String: String]? = nil) throws -> Outcome {
        try outcome(segscopeBinary, arguments, environment: environment)
    }

    /// The same, killed after `seconds` (status 124, as timeout(1) reports): for inputs that once hung.
    public static func segscope(_ arguments: [String], timeout seconds: Int) throws -> Outcome {
        try outcome("/usr/bin/timeout", ["-s", "KILL", String(seconds), segscopeBinary] + arguments)
    }

    /// Runs `segscope` under GNU time and records its peak RSS (ru_maxrss). Time forks the child from its
    /// own small process: the rusage of a child spawned from here counts this test process's pages too,
    /// since posix_spawn shares our address space until exec and exec keeps the old space's peak.
    public static func segscopeMeasuringMemory(_ arguments: [String]) throws -> Outcome {
        let report = NSTemporaryDirectory() + "segscope-rss-\(UUID().uuidString)"
        defer { unlink(report) }
        var result = try outcome("/usr/bin/time", ["-f", "%M", "-o", report, segscopeBinary] + arguments)
        // time writes "Command exited with non-zero status N" first when the status is not 0.
        let text = (try? String(contentsOfFile: report, encoding: .utf8)) ?? ""
        guard let kilobytes = text.split(separator: "\n").last.flatMap({ Int($0) }) else {
            throw CommandFailure(description: "no peak RSS from /usr/bin/time: '\(text)'")
        }
        result.peakResidentBytes = kilobytes * 1024
        return result
    }

    /// Runs a program to completion with posix_spawn, reading its stdout and
    /// stderr with poll and EINTR-safe reads. (Foundation's Process and
    /// FileHandle can trap on EINTR when tests spawn processes concurrently.)
    public static func outcome(_ executable: String, _ arguments: [String], environment: [String: String]? = nil) throws
        -> Outcome
    {
        var outPipe: [Int32] = [0, 0]
        var errPipe: [Int32] = [0, 0]
        guard pipe(&outPipe) == 0, pipe(&errPipe) == 0 else { throw CommandFailure(description: "pipe failed") }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_adddup2(&actions, outPipe[1], STDOUT_FILENO)
        posix_spawn_file_actions_adddup2(&actions, errPipe[1], STDERR_FILENO)
        for fd in outPipe + errPipe { posix_spawn_file_actions_addclose(&actions, fd) }
        let merged = ProcessInfo.processInfo.environment.merging(environment ?? [:]) { $1 }
        var envp: [UnsafeMutablePointer<CChar>?] = merged.map { strdup("\($0.key)=\($0.value)") } + [nil]
        var argv: [UnsafeMutablePointer<CChar>?] = ([executable] + arguments).map { strdup($0) } + [nil]
        defer { for pointer in (envp + argv) { free(pointer) } }
        var pid: pid_t = 0
        let spawned = posix_spawn(&pid, executable, &actions, nil, &argv, &envp)
        close(outPipe[1])
        close(errPipe[1])
        defer {
            close(outPipe[0])
            close(errPipe[0])
        }
        guard spawned == 0 else {
            throw CommandFailure(description: "cannot start \(executable): \(String(cString: strerror(spawned)))")
        }
        var collected: [Int32: [UInt8]] = [outPipe[0]: [], errPipe[0]: []]
        var open = [outPipe[0], errPipe[0]]
        var buffer = [UInt8](repeating: 0, count: 65536)
        while !open.isEmpty {
            var fds = open.map { pollfd(fd: $0, events: Int16(POLLIN), revents: 0) }
            if poll(&fds, nfds_t(fds.count), -1) < 0 {
                if errno == EINTR { continue }
                break
            }
            for entry in fds where entry.revents != 0 {
                let n = read(entry.fd, &buffer, buffer.count)
                if n > 0 {
                    collected[entry.fd]! += buffer[0..<n]
                } else if n == 0 || errno != EINTR {
                    open.removeAll { $0 == entry.fd }
                }
            }
        }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        // Exit code when the child exited normally; 128 + signal otherwise.
        let code = (status & 0x7f) == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f)
        return Outcome(
            status: code, stdout: String(decoding: collected[outPipe[0]]!, as: UTF8.self),
            stderr: String(decoding: collected[errPipe[0]]!, as: UTF8.self))
    }

    /// Runs a command and returns its stdout; throws with its stderr if it fails.
    @discardableResult
    public static func run(_ executable: String, _ arguments: [String], environment: [String: String]? = nil) throws
        -> String
    {
        let result = try outcome(executable, arguments, environment: environment)
        guard result.status == 0 else {
            throw CommandFailure(
                description: "\(arguments.prefix(2).joined(separator: " ")) exited \(result.status): \(result.stderr)")
        }
        return result.stdout
    }

    /// Runs a command that may leave a daemon behind (tmux new-session) and
    /// waits for the command itself only. Foundation's Process can wait for
    /// the daemon too, so this uses posix_spawn and waitpid; output goes to
    /// /dev/null so the daemon holds no pipe of ours.
    public static func runDetached(_ arguments: [String]) throws {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        for fd in [STDIN_FILENO, STDOUT_FILENO, STDERR_FILENO] {
            posix_spawn_file_actions_addopen(&actions, fd, "/dev/null", fd == STDIN_FILENO ? O_RDONLY : O_WRONLY, 0)
        }
        var argv: [UnsafeMutablePointer<CChar>?] = arguments.map { strdup($0) } + [nil]
        defer { for pointer in argv { free(pointer) } }
        var pid: pid_t = 0
        let spawned = posix_spawnp(&pid, arguments[0], &actions, nil, &argv, environ)
        guard spawned == 0 else {
            throw CommandFailure(description: "cannot start \(arguments[0]): \(String(cString: strerror(spawned)))")
        }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        guard status == 0 else {
            throw CommandFailure(
                description: "\(arguments.prefix(2).joined(separator: " ")) exited with status \(status)")
        }
    }

    public static func crc32(_ bytes: [UInt8]) -> UInt32 {
        var crc: UInt32 = 0xffff_ffff
        for b in bytes {
            crc ^= UInt32(b)
            for _ in 0..<8 { crc = (crc >> 1) ^ (0xedb8_8320 & (0 &- (crc & 1))) }
        }
        return ~crc
    }

    /// A PNG chunk with its length and a correct CRC.
    public static func pngChunk(_ type: String, _ data: [UInt8]) -> [UInt8] {
        let body = Array(type.utf8) + data
        return bigEndian(UInt32(data.count)) + body + bigEndian(crc32(body))
    }

    public static func bigEndian(_ v: UInt32) -> [UInt8] {
        [UInt8(v >> 24), UInt8((v >> 16) & 0xff), UInt8((v >> 8) & 0xff), UInt8(v & 0xff)]
    }

    public static let pngSignature: [UInt8] = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]

    /// A PNG with the given IHDR fields and no image data worth decoding.
    public static func pngWithHeader(width: UInt32, height: UInt32, bitDepth: UInt8, colorType: UInt8) -> [UInt8] {
        let ihdr = bigEndian(width) + bigEndian(height) + [bitDepth, colorType, 0, 0, 0]
        return pngSignature + pngChunk("IHDR", ihdr)
            + pngChunk("IDAT", [0x78, 0x9c, 0x03, 0x00, 0x00, 0x00, 0x00, 0x01])
            + pngChunk("IEND", [])
    }

    public static func write(_ bytes: [UInt8], to path: String) throws {
        try Data(bytes).write(to: URL(fileURLWithPath: path))
    }

    /// The release's Cityscapes MAR memory (key.npy, value.npy; MIT, its LICENSE beside them), kept in the
    /// repository so that a clone alone passes the tests.
    public static var cityscapesMemory: String {
        repositoryRoot + "/Tests/Fixtures/st_memory_cityscapes_psp50"
    }

    /// The repository root, found from this source file's location.
    public static var repositoryRoot: String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().path
    }
}
