import CNCursesW

/// The viewer's signals, for `TerminalScreen` (the one owner of the
/// terminal): Ctrl-C becomes a key, Ctrl-Z suspends, SIGWINCH resizes,
/// signals whose default is to end the process end it after the terminal is
/// restored, and crashes restore it before the runtime's crash report.
///
/// The only Swift file that calls the signal part of the C shim: its state is
/// static in a header, and each object file using it would get its own copy.
enum TerminalSignals {
    /// Installs the handlers; before curses starts, so that curses installs
    /// none of its own. False when one could not be installed.
    @discardableResult
    static func install() -> Bool { segscope_signals_install() == 0 }

    /// The bytes that give the terminal back, written by the handlers when
    /// the process ends without the viewer's loop (a crash, a stuck loop).
    static func arm(restore: [UInt8]) {
        restore.withUnsafeBufferPointer { bytes in
            bytes.withMemoryRebound(to: CChar.self) { segscope_signals_arm($0.baseAddress, $0.count) }
        }
    }

    static func disarm() { segscope_signals_disarm() }

    /// Puts back the handlers that were there before `install`.
    static func uninstall() { segscope_signals_uninstall() }

    static func takeInterrupts() -> Int { Int(segscope_signals_take_interrupts()) }
    static func takeSuspend() -> Bool { segscope_signals_take_suspend() != 0 }
    static func takeResumed() -> Bool { segscope_signals_take_resumed() != 0 }
    static func takeResize() -> Bool { segscope_signals_take_resize() != 0 }

    /// The signal that asked the viewer to end, if one arrived.
    static func takeEnding() -> Int32? {
        let number = segscope_signals_take_ending()
        return number == 0 ? nil : number
    }

    /// Stops the process (Ctrl-Z); returns once it is continued.
    static func stopProcess() { segscope_signals_stop() }

    /// Ends the process by `number` with the signal's default action, so that
    /// the shell sees how it ended (128 + number), as less does.
    static func endProcess(by number: Int32) { segscope_signals_end_by(number) }
}
