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
            FileHandle.standardError.write(Data("segscope: \(oneLine(String(describing: error)))\n".utf8))
            Foundation.exit(1)
        }
    }
}

/// Control characters (a newline in a file name, an escape in a header key)
/// shown escaped, so an error or a warning stays one line that cannot drive the terminal.
func oneLine(_ text: String) -> String {
    var out = ""
    for scalar in text.unicodeScalars {
        if scalar.value < 0x20 || (0x7f..<0xa0).contains(scalar.value) {
            out += "\\u{" + String(scalar.value, radix: 16) + "}"
        } else {
            out.unicodeScalars.append(scalar)
        }
    }
    return out
}
