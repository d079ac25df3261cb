import Foundation

/// A terminfo entry that is the user's TERM plus direct (24-bit) colour, so
/// that ncurses, still the one owner of the terminal, sends exact RGB.
///
/// `COLORTERM=truecolor` says the terminal takes `ESC[38;2;R;G;Bm`, but TERM
/// is almost always xterm-256color or tmux-256color, whose entries offer 256
/// colours; Debian ships the -direct entries only in ncurses-term, and those
/// map the RGB values 0-7 to the 8 ANSI colours (so RGB 0,0,5 would be
/// magenta). This entry inherits everything from TERM (`use=`) and replaces
/// the colour capabilities: `RGB`, 2^24 colours, and setaf/setab that write
/// every value as R;G;B.
enum DirectColorTerminfo {
    static let name = "segscope-direct"

    static func source(base: String) -> String {
        let rgb = "%p1%{65536}%/%d;%p1%{256}%/%{255}%&%d;%p1%{255}%&%d"
        return """
        \(name)|\(base) with direct colour (written by segscope),
        \tRGB, colors#0x1000000, pairs#0x10000,
        \tsetaf=\\E[38;2;\(rgb)m, setab=\\E[48;2;\(rgb)m,
        \tuse=\(base),

        """
    }

    /// Compiles the entry with tic into a fresh folder and returns it (the
    /// caller points TERMINFO there for newterm, then removes it); nil when
    /// TERM is unknown to terminfo or tic is missing.
    static func compile(base: String) -> String? {
        guard !base.isEmpty, base.allSatisfy({ $0.isLetter || $0.isNumber || "-_.+".contains($0) }) else { return nil }
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("segscope-terminfo-\(getpid())-\(UUID().uuidString.prefix(8))").path
        do {
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
            try source(base: base).write(toFile: folder + "/entry.ti", atomically: false, encoding: .utf8)
            let tic = Process()
            tic.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            tic.arguments = ["tic", "-x", "-o", folder, folder + "/entry.ti"]
            tic.standardOutput = FileHandle.nullDevice
            tic.standardError = FileHandle.nullDevice
            try tic.run()
            tic.waitUntilExit()
            guard tic.terminationStatus == 0 else { throw CocoaError(.fileWriteUnknown) }
            return folder
        } catch {
            try? FileManager.default.removeItem(atPath: folder)
            return nil
        }
    }
}
