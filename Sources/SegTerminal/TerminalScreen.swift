import CNCursesW
import Foundation
import SegFormats
import SegLabels
import SegView

/// The only type that talks to the terminal. It paints `CellGrid`s through
/// ncurses, sending only the cells that changed since the last paint, and
/// maps RGB to what the terminal can show: direct colour when the terminal
/// announces it (through a terminfo entry made for the purpose), else
/// xterm-256 (classes on distinct entries) or ANSI-8, else monochrome shading.
///
/// It also answers for the terminal on every way out: `close` (q, Ctrl-C, a
/// signal the loop ends on, `deinit`), exit (an atexit hook), Ctrl-Z (given
/// back while stopped, taken again on SIGCONT) and crashes (`TerminalSignals`).
public final class TerminalScreen {
    public let depth: ColorDepth
    private let colors: ColorMapping
    private var previous: CellGrid?
    private var pairs: [UInt64: Int32] = [:]
    private var nextPair: Int32 = 1
    private let background: RGB
    private var open = true

    public private(set) var width: Int
    public private(set) var height: Int

    /// Starts curses. `requested` is the environment's colour depth; it is
    /// lowered to what the terminal offers. The theme's classes and marks get
    /// distinct entries at 256 colours.
    public init(requested: ColorDepth, theme: Theme, background: RGB) {
        self.background = background
        setlocale(LC_ALL, "")
        TerminalSignals.install()
        TerminalDescription.start(
            term: ProcessInfo.processInfo.environment["TERM"],
            directColor: requested == .trueColor)
        cbreak()
        noecho()
        nonl()
        keypad(segscope_stdscr(), true)
        segscope_define_home_end_keys()
        curs_set(0)
        set_escdelay(25)
        wtimeout(segscope_stdscr(), 40)
        mousemask(segscope_button1_mask(), nil)
        var depth = requested
        if depth != .monochrome && has_colors() {
            start_color()
            use_default_colors()
            if segscope_colors() >= 0x100_0000 {
                depth = .trueColor
            } else if depth == .trueColor {
                depth = segscope_colors() >= 256 ? .xterm256 : .ansi8
            } else if segscope_colors() < 256 && depth == .xterm256 {
                depth = .ansi8
            }
        } else {
            depth = .monochrome
        }
        self.depth = depth
        colors = ColorMapping(depth: depth, theme: theme)
        width = Int(getmaxx(segscope_stdscr()))
        height = Int(getmaxy(segscope_stdscr()))
        restoreSequence = Self.composeRestoreSequence()
        TerminalSignals.arm(restore: restoreSequence)
        TerminalScreen.active = true
        atexit { if TerminalScreen.active { endwin() } }
    }

    /// What endwin would send, for the signal handlers (which cannot call curses).
    private let restoreSequence: [UInt8]

    /// Attributes and colours off, keypad and mouse reporting off, cursor
    /// shown, alternate screen left: in that order, as endwin does.
    private static func composeRestoreSequence() -> [UInt8] {
        var bytes: [UInt8] = []
        func append(_ capability: String) {
            guard let value = segscope_terminfo_string(capability) else { return }
            bytes += Array(String(cString: value).utf8)
        }
        append("sgr0")
        append("op")
        append("rmkx")
        if segscope_terminfo_string("kmous") != nil { bytes += Array("\u{1b}[?1006;1000l".utf8) }
        append("cnorm")
        append("rmcup")
        return bytes
    }

    /// Set while curses owns the terminal, so an exit path restores it.
    nonisolated(unsafe) static var active = false

    /// Gives the terminal back and puts back the signal handlers that were
    /// there before. A signal that asked the viewer to end is then completed
    /// by `endProcess(by:)`.
    public func close() {
        guard open else { return }
        open = false
        endwin()
        TerminalSignals.disarm()
        TerminalSignals.uninstall()
        TerminalScreen.active = false
    }

    deinit { close() }

    /// The signal (SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGALRM, SIGPIPE, ...)
    /// that asked the viewer to end, if one arrived, or SIGHUP when the
    /// terminal has gone without one (SIGHUP ignored, as under nohup); the
    /// loop then closes the screen and calls `endProcess(by:)`.
    public func endingSignal() -> Int32? { TerminalSignals.takeEnding() ?? (terminalGone ? SIGHUP : nil) }

    /// Set when a read failed because the terminal has gone.
    private var terminalGone = false

    /// Ends the process by `signal`'s default action once the screen is
    /// closed, so that the shell sees how it ended (128 + N), as less does.
    public static func endProcess(by signal: Int32) { TerminalSignals.endProcess(by: signal) }

    /// Ctrl-Z: gives the terminal back, stops, and takes it again on SIGCONT.
    private func suspend() {
        endwin()
        TerminalSignals.disarm()
        TerminalSignals.stopProcess()
        _ = TerminalSignals.takeResumed()
        TerminalSignals.arm(restore: restoreSequence)
        reenter()
    }

    /// After a stop (the shell may have changed the modes, the size, the
    /// screen): curses' modes again and a full repaint at the current size.
    private func reenter() {
        reset_prog_mode()
        adoptTerminalSize()
        resized()
    }

    /// After SIGWINCH: tells curses the kernel's new size (curses then
    /// queues a KEY_RESIZE, which arrives as `.resize`).
    public func adoptTerminalSize() {
        var rows: Int32 = 0
        var columns: Int32 = 0
        guard segscope_terminal_size(&rows, &columns) == 0, rows > 0, columns > 0,
            Int(rows) != height || Int(columns) != width
        else { return }
        resizeterm(rows, columns)
        resized()
    }

    /// Re-reads the size after a resize and forgets what is on screen.
    public func resized() {
        width = Int(getmaxx(segscope_stdscr()))
        height = Int(getmaxy(segscope_stdscr()))
        previous = nil
        wclear(segscope_stdscr())
    }

    public func paint(_ grid: CellGrid) {
        let full = previous == nil || previous!.width != grid.width || previous!.height != grid.height
        for y in 0..<min(grid.height, height) {
            for x in 0..<min(grid.width, width) {
                let cell = grid[x, y]
                if !full && previous![x, y] == cell { continue }
                put(cell, x: x, y: y)
            }
        }
        previous = grid
        wnoutrefresh(segscope_stdscr())
        doupdate()
    }

    private var xtermEntries: [UInt32: Int32] = [:]

    private func colorNumber(_ c: RGB) -> Int32 {
        switch depth {
        case .trueColor: return Int32(c.packed)
        case .xterm256:
            if let known = xtermEntries[c.packed] { return known }
            let n = Int32(colors.xterm256(c))
            xtermEntries[c.packed] = n
            return n
        case .ansi8: return Int32(TerminalPalette.nearestAnsi8(c))
        case .monochrome: return -1
        }
    }

    private func pair(_ fg: RGB, _ bg: RGB) -> Int32 {
        let f = colorNumber(fg)
        let b = colorNumber(bg)
        let key = UInt64(UInt32(bitPattern: f)) << 32 | UInt64(UInt32(bitPattern: b))
        if let known = pairs[key] { return known }
        if nextPair >= segscope_color_pairs() - 1 {
            // Out of pairs: start over and repaint everything with fresh pairs.
            pairs.removeAll()
            nextPair = 1
            previous = nil
        }
        let n = nextPair
        nextPair += 1
        init_extended_pair(n, f, b)
        pairs[key] = n
        return n
    }

    private static let shades: [Character] = [" ", "░", "▒", "▓", "█"]

    private func put(_ cell: Cell, x: Int, y: Int) {
        var glyph = cell.glyph
        var attributes = cell.bold ? segscope_attr_bold() : segscope_attr_normal()
        var pairNumber: Int32 = 0
        if depth == .monochrome {
            if cell.isPixel {
                let luma = (Self.luma(cell.foreground) + Self.luma(cell.background)) / 2
                glyph = Self.shades[min(4, luma * 5 / 256)]
            } else if cell.background != background {
                attributes |= segscope_attr_reverse()
            }
        } else {
            pairNumber = pair(cell.foreground, cell.background)
        }
        var wide = Array(String(glyph).unicodeScalars.map { wchar_t(bitPattern: $0.value) }) + [0]
        var character = cchar_t()
        var extended = pairNumber
        setcchar(&character, &wide, attributes, 0, &extended)
        mvwadd_wch(segscope_stdscr(), Int32(y), Int32(x), &character)
    }

    static func luma(_ c: RGB) -> Int { (299 * Int(c.r) + 587 * Int(c.g) + 114 * Int(c.b)) / 1000 }

    public enum Event: Equatable {
        case key(Key)
        case resize
    }

    private var pendingInterrupts = 0

    /// The next key or resize, or nil after the read timeout. Ctrl-C arrives
    /// as SIGINT (the terminal's ISIG stays on, so Ctrl-Z and Ctrl-\ keep
    /// their meaning) and is handed on as `.interrupt`, one per press.
    public func nextEvent() -> Event? {
        if TerminalSignals.takeSuspend() {
            suspend()
            return .resize
        }
        if TerminalSignals.takeResumed() {
            reenter()
            return .resize
        }
        if TerminalSignals.takeResize() { adoptTerminalSize() }
        pendingInterrupts += TerminalSignals.takeInterrupts()
        if pendingInterrupts > 0 {
            pendingInterrupts -= 1
            return .key(.interrupt)
        }
        var value: wint_t = 0
        let status = wget_wch(segscope_stdscr(), &value)
        if status == ERR {
            terminalGone = segscope_terminal_gone() != 0
            return nil
        }
        let code = Int32(bitPattern: value)
        if status == segscope_key_code_yes() {
            switch code {
            case segscope_key_resize(): return .resize
            case segscope_key_left(): return .key(.left)
            case segscope_key_right(): return .key(.right)
            case segscope_key_up(): return .key(.up)
            case segscope_key_down(): return .key(.down)
            case segscope_key_home(): return .key(.home)
            case segscope_key_end(): return .key(.end)
            case segscope_key_next_page(): return .key(.pageDown)
            case segscope_key_previous_page(): return .key(.pageUp)
            case segscope_key_backspace(): return .key(.backspace)
            case segscope_key_enter(): return .key(.enter)
            case segscope_key_mouse():
                var event = MEVENT()
                guard getmouse(&event) == OK else { return nil }
                return .key(.click(column: Int(event.x), row: Int(event.y)))
            default: return nil
            }
        }
        switch code {
        case 9: return .key(.tab)
        case 10, 13: return .key(.enter)
        case 27: return .key(.escape)
        case 8, 127: return .key(.backspace)
        case 21: return .key(.clearLine)
        default:
            guard let scalar = Unicode.Scalar(UInt32(bitPattern: code)), code >= 32 else { return nil }
            return .key(.character(Character(scalar)))
        }
    }
}
