import CNCursesW
import Foundation

/// The terminfo entry curses runs on. TERM's own entry when terminfo has it;
/// else (TERM=xterm-kitty, xterm-direct without ncurses-term, a name no
/// terminfo knows, TERM unset) a built-in description of an xterm-compatible
/// terminal, which is what every terminal emulator in use speaks.
///
/// Direct colour: `COLORTERM=truecolor` says the terminal takes
/// `ESC[38;2;R;G;Bm`, but TERM is almost always xterm-256color or
/// tmux-256color, whose entries offer 256 colours; Debian ships the -direct
/// entries only in ncurses-term, and those map the RGB values 0-7 to the 8
/// ANSI colours (so RGB 0,0,5 would be magenta). segscope-direct inherits
/// everything from the base entry (`use=`) and replaces the colour
/// capabilities: `RGB`, 2^24 colours, and setaf/setab that write every value
/// as R;G;B. Compiled entries are made with tic in a fresh folder that is
/// removed once curses has read them.
enum TerminalDescription {
    static let builtInName = "segscope-xterm"
    static let directName = "segscope-direct"

    /// An xterm-compatible terminal with 256 colours, written out in full (no
    /// `use=`), so that it needs nothing from the terminfo database (terminfo
    /// source: continuation lines start with white space).
    static let builtInSource = #"""
        segscope-xterm|xterm-compatible terminal (built into segscope),
            am, bce, km, mir, msgr, xenl,
            colors#256, cols#80, it#8, lines#24, pairs#0x10000,
            acsc=``aaffggiijjkkllmmnnooppqqrrssttuuvvwwxxyyzz{{||}}~~,
            bel=^G, blink=\E[5m, bold=\E[1m, cbt=\E[Z, civis=\E[?25l,
            clear=\E[H\E[2J, cnorm=\E[?12l\E[?25h, cr=\r,
            csr=\E[%i%p1%d;%p2%dr, cub=\E[%p1%dD, cub1=^H, cud=\E[%p1%dB,
            cud1=\n, cuf=\E[%p1%dC, cuf1=\E[C, cup=\E[%i%p1%d;%p2%dH,
            cuu=\E[%p1%dA, cuu1=\E[A, cvvis=\E[?12;25h, dch=\E[%p1%dP,
            dch1=\E[P, dim=\E[2m, dl=\E[%p1%dM, dl1=\E[M, ech=\E[%p1%dX,
            ed=\E[J, el=\E[K, el1=\E[1K, home=\E[H, hpa=\E[%i%p1%dG, ht=^I,
            hts=\EH, ich=\E[%p1%d@, il=\E[%p1%dL, il1=\E[L, ind=\n,
            indn=\E[%p1%dS, invis=\E[8m, is2=\E[!p\E[?3;4l\E[4l\E>,
            kbs=^?, kcbt=\E[Z, kcub1=\EOD, kcud1=\EOB, kcuf1=\EOC,
            kcuu1=\EOA, kdch1=\E[3~, kend=\EOF, kent=\EOM, kf1=\EOP,
            kf2=\EOQ, kf3=\EOR, kf4=\EOS, kf5=\E[15~, kf6=\E[17~,
            kf7=\E[18~, kf8=\E[19~, kf9=\E[20~, kf10=\E[21~, kf11=\E[23~,
            kf12=\E[24~, khome=\EOH, kich1=\E[2~, kmous=\E[<, knp=\E[6~,
            kpp=\E[5~, op=\E[39;49m, rc=\E8, rev=\E[7m, ri=\EM,
            rin=\E[%p1%dT, ritm=\E[23m, rmacs=\E(B, rmam=\E[?7l,
            rmcup=\E[?1049l, rmir=\E[4l, rmkx=\E[?1l\E>, rmso=\E[27m,
            rmul=\E[24m, rs2=\E[!p\E[?3;4l\E[4l\E>, sc=\E7,
            setab=\E[%?%p1%{8}%<%t4%p1%d%e%p1%{16}%<%t10%p1%{8}%-%d%e48;5;%p1%d%;m,
            setaf=\E[%?%p1%{8}%<%t3%p1%d%e%p1%{16}%<%t9%p1%{8}%-%d%e38;5;%p1%d%;m,
            sgr=%?%p9%t\E(0%e\E(B%;\E[0%?%p6%t;1%;%?%p5%t;2%;%?%p2%t;4%;%?%p1%p3%|%t;7%;%?%p4%t;5%;%?%p7%t;8%;m,
            sgr0=\E(B\E[m, sitm=\E[3m, smacs=\E(0, smam=\E[?7h,
            smcup=\E[?1049h, smir=\E[4h, smkx=\E[?1h\E=, smso=\E[7m,
            smul=\E[4m, tbc=\E[3g, u6=\E[%i%d;%dR, u7=\E[6n,
            u8=\E[?%[;0123456789]c, u9=\E[c, vpa=\E[%i%p1%dd,
            XM=\E[?1006;1000%?%p1%{1}%=%th%el%;,

        """#

    static func directSource(base: String) -> String {
        let rgb = "%p1%{65536}%/%d;%p1%{256}%/%{255}%&%d;%p1%{255}%&%d"
        return """
            \(directName)|\(base) with direct colour (written by segscope),
            \tRGB, colors#0x1000000, pairs#0x10000,
            \tsetaf=\\E[38;2;\(rgb)m, setab=\\E[48;2;\(rgb)m,
            \tuse=\(base),

            """
    }

    /// Starts curses on the process's terminal, on TERM's entry (plus direct
    /// colour when `directColor`), else the built-in one; without tic, TERM's
    /// own or xterm-256color/xterm from the terminfo database. When none of
    /// these can be had, initscr explains the problem and exits, as every
    /// curses program does.
    static func start(term: String?, directColor: Bool) {
        let term = term ?? ""
        let known = isEntryName(term) && segscope_terminfo_usable(term) != 0
        let asItIs = known && (!directColor || term.hasSuffix("-direct"))
        if asItIs, segscope_newterm(term) != nil { return }
        // TERM's entry under direct colour, or the built-in description.
        let base = known && !asItIs ? term : builtInName
        let name = directColor ? directName : builtInName
        let source = (base == builtInName ? builtInSource : "") + (directColor ? directSource(base: base) : "")
        if let folder = compile(source) {
            defer { try? FileManager.default.removeItem(atPath: folder) }
            let saved = getenv("TERMINFO").map { String(cString: $0) }
            setenv("TERMINFO", folder, 1)
            let screen = segscope_newterm(name)
            if let saved { setenv("TERMINFO", saved, 1) } else { unsetenv("TERMINFO") }
            if screen != nil { return }
        }
        for candidate in (known ? [term] : []) + ["xterm-256color", "xterm"]
        where segscope_terminfo_usable(candidate) != 0 && segscope_newterm(candidate) != nil {
            return
        }
        initscr()
    }

    /// A name terminfo could hold and that can stand in a `use=` clause.
    static func isEntryName(_ name: String) -> Bool {
        !name.isEmpty
            && name.unicodeScalars.allSatisfy {
                $0.isASCII && (CharacterSet.alphanumerics.contains($0) || "-_.+".unicodeScalars.contains($0))
            }
    }

    /// Compiles `source` with tic into a fresh folder and returns it; nil
    /// when tic is missing or refuses the source.
    static func compile(_ source: String) -> String? {
        let folder = FileManager.default.temporaryDirectory
            .appendingPathComponent("segscope-terminfo-\(getpid())-\(UUID().uuidString.prefix(8))").path
        do {
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
            try source.write(toFile: folder + "/entry.ti", atomically: false, encoding: .utf8)
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
