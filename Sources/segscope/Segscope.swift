import ArgumentParser
import CMallocTuning
import Foundation

/// segscope: inspect and evaluate video semantic segmentation (STF + MAR).
@main
struct Segscope: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "segscope",
        abstract: "Inspect, evaluate and run video semantic segmentation with STF and MAR.",
        discussion: "See `man segscope` for every command, option, key and file format.",
        subcommands: [ViewCommand.self, RenderCommand.self, EvalCommand.self, ForwardCommand.self, InferCommand.self, MemoryCommand.self, TrainCommand.self, WeightsCommand.self, SynthCommand.self, LabelsCommand.self, ThemesCommand.self, BookmarksCommand.self]
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
            var command = try parseAsRoot()
            try command.run()
        } catch {
            // argument-parser gives its own errors (usage, help, version) an
            // exit code other than 1 and every other error 1: those are ours.
            if exitCode(for: error) != .failure || error is ExitCode { exit(withError: error) }
            FileHandle.standardError.write(Data("segscope: \(error)\n".utf8))
            Foundation.exit(1)
        }
    }
}
