import ArgumentParser
import CMallocTuning
import Foundation
import SegView

/// segscope: inspect and evaluate video semantic segmentation (STF + MAR).
@main
struct Segscope: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "segscope",
        abstract: "Inspect, evaluate and run video semantic segmentation with STF and MAR.",
        discussion: "See `man segscope` for every command, option, key and file format.",
        subcommands: [
            ViewCommand.self, RenderCommand.self, EvalCommand.self, ForwardCommand.self, InferCommand.self,
            MemoryCommand.self, TrainCommand.self, WeightsCommand.self, SynthCommand.self, LabelsCommand.self,
            ThemesCommand.self, BookmarksCommand.self, ExplainCommand.self,
        ]
    )

    /// Prints errors as one `segscope: ...` line and exits non-zero; usage
    /// errors keep argument-parser's own message and exit code.
    static func main() {
        // Frames are many same-sized multi-megabyte buffers; glibc would mmap
        // and unmap each one (a page fault per 4 KB every frame). Keeping
        // blocks up to 32 MB (glibc's maximum) in the heap lets freed buffers
        // be reused.
        segscope_tune_malloc(32 << 20, 512 << 20)
        do {
            try refuseNonUTF8Arguments()
            var command = try parseAsRoot()
            try command.run()
        } catch {
            // argument-parser gives its own errors (usage, help, version) an
            // exit code other than 1 and every other error 1: those are ours.
            if exitCode(for: error) != .failure || error is ExitCode { exit(withError: error) }
            FileHandle.standardError.write(Data("segscope: \(oneLine(describe(error)))\n".utf8))
            Foundation.exit(1)
        }
    }

    /// Swift decodes arguments as UTF-8, replacing invalid bytes, so a
    /// non-UTF-8 file name would become another name and "not exist".
    static func refuseNonUTF8Arguments() throws {
        for index in 1..<Int(CommandLine.argc) {
            guard let raw = CommandLine.unsafeArgv[index], String(validatingCString: raw) == nil else { continue }
            let shown = String(decoding: UnsafeRawBufferPointer(start: raw, count: strlen(raw)), as: UTF8.self)
            throw ValidationError(
                "argument \(index) ('\(oneLine(shown))') is not valid UTF-8: segscope reads only "
                    + "UTF-8 names; rename the file")
        }
    }

    /// An error as one readable line: Foundation's file errors
    /// ("Error Domain=NSCocoaErrorDomain Code=642 ...") become "PATH: reason".
    static func describe(_ error: Error) -> String {
        let ns = error as NSError
        guard ns.domain == NSCocoaErrorDomain else { return String(describing: error) }
        let path = ns.userInfo[NSFilePathErrorKey] as? String ?? (ns.userInfo[NSURLErrorKey] as? URL)?.path
        let reason: String
        if let underlying = ns.userInfo[NSUnderlyingErrorKey] as? NSError, underlying.domain == NSPOSIXErrorDomain {
            reason = String(cString: strerror(Int32(underlying.code)))
        } else {
            switch CocoaError.Code(rawValue: ns.code) {
            case .fileWriteVolumeReadOnly: reason = "read-only file system"
            case .fileWriteFileExists: reason = "already exists"
            case .fileWriteNoPermission, .fileReadNoPermission: reason = "permission denied"
            case .fileNoSuchFile, .fileReadNoSuchFile: reason = "no such file or directory"
            case .fileWriteOutOfSpace: reason = "no space left on device"
            case .fileWriteInvalidFileName, .fileReadInvalidFileName: reason = "invalid file name"
            default: reason = "file error (Foundation code \(ns.code))"
            }
        }
        return path.map { "\($0): \(reason)" } ?? reason
    }
}
