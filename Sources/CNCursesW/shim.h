// Wide-character ncurses: the half-block glyph and cchar_t need the XPG4 API.
#define _XOPEN_SOURCE_EXTENDED 1
#define NCURSES_WIDECHAR 1
#include <ncursesw/curses.h>
#include <locale.h>
#include <wchar.h>
#include <sys/ioctl.h>
#include <unistd.h>

// ncurses defines these as macros, which Swift cannot import; inline
// functions give them names.
static inline int segscope_key_resize(void) { return KEY_RESIZE; }
static inline int segscope_key_mouse(void) { return KEY_MOUSE; }
static inline int segscope_key_left(void) { return KEY_LEFT; }
static inline int segscope_key_right(void) { return KEY_RIGHT; }
static inline int segscope_key_up(void) { return KEY_UP; }
static inline int segscope_key_down(void) { return KEY_DOWN; }
static inline int segscope_key_home(void) { return KEY_HOME; }
static inline int segscope_key_end(void) { return KEY_END; }
static inline int segscope_key_next_page(void) { return KEY_NPAGE; }
static inline int segscope_key_previous_page(void) { return KEY_PPAGE; }
static inline int segscope_key_backspace(void) { return KEY_BACKSPACE; }
static inline int segscope_key_enter(void) { return KEY_ENTER; }
static inline int segscope_key_code_yes(void) { return KEY_CODE_YES; }
static inline mmask_t segscope_button1_mask(void) { return BUTTON1_CLICKED | BUTTON1_PRESSED; }
static inline attr_t segscope_attr_bold(void) { return A_BOLD; }
static inline attr_t segscope_attr_reverse(void) { return A_REVERSE; }
static inline attr_t segscope_attr_normal(void) { return A_NORMAL; }
// ncurses globals, read through functions so Swift 6 does not treat them as
// shared mutable state (only the UI thread calls curses).
static inline WINDOW *segscope_stdscr(void) { return stdscr; }
static inline int segscope_colors(void) { return COLORS; }
static inline int segscope_color_pairs(void) { return COLOR_PAIRS; }

// newterm on the process's own stdout and stdin (Swift 6 cannot use the C
// globals directly).
static inline SCREEN *segscope_newterm(const char *type) { return newterm(type, stdout, stdin); }

// Home and End as terminals other than the terminfo entry's send them:
// tmux sends ESC [ 1 ~ and ESC [ 4 ~ whatever TERM says, rxvt ESC [ 7 ~ and
// ESC [ 8 ~, and xterm in cursor mode ESC [ H and ESC [ F. Without these,
// curses hands over ESC, '[', '1', '~' one by one.
static inline void segscope_define_home_end_keys(void) {
    const char *home[] = {"\033[1~", "\033[7~", "\033[H", "\033OH"};
    const char *end[] = {"\033[4~", "\033[8~", "\033[F", "\033OF"};
    for (int i = 0; i < 4; i++) {
        if (key_defined(home[i]) <= 0) define_key(home[i], KEY_HOME);
        if (key_defined(end[i]) <= 0) define_key(end[i], KEY_END);
    }
}

// The terminal's size from the kernel (ioctl is variadic, so Swift cannot call it).
static inline int segscope_terminal_size(int *rows, int *columns) {
    struct winsize size;
    if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &size) != 0) return -1;
    *rows = size.ws_row;
    *columns = size.ws_col;
    return 0;
}

// Whether the terminal on standard input has gone (hung up, closed): reads
// would then fail at once, forever, rather than time out.
#include <poll.h>
static inline int segscope_terminal_gone(void) {
    struct pollfd input = { .fd = STDIN_FILENO, .events = POLLIN, .revents = 0 };
    if (poll(&input, 1, 0) < 0) return 0;
    return (input.revents & (POLLHUP | POLLERR | POLLNVAL)) != 0;
}

// ---------------------------------------------------------------------------
// Terminfo look-ups.
#include <term.h>

// Whether terminfo has a usable entry for `name`: found, not generic or
// hardcopy, and able to move the cursor and clear the screen ("dumb" is not).
// Probed with setupterm, which writes nothing.
static inline int segscope_terminfo_usable(const char *name) {
    int status = 0;
    TERMINAL *saved = set_curterm(NULL);
    int found = setupterm(name, STDOUT_FILENO, &status) == OK && status == 1;
    int usable = 0;
    if (found) {
        char *move = tigetstr("cup"), *clear = tigetstr("clear");
        usable = move != NULL && move != (char *)-1 && clear != NULL && clear != (char *)-1;
        del_curterm(set_curterm(saved));
    } else {
        set_curterm(saved);
    }
    return usable;
}

// A string capability of the terminal curses runs on, or NULL when the entry
// lacks it.
static inline const char *segscope_terminfo_string(const char *capability) {
    char *value = tigetstr(capability);
    if (value == NULL || value == (char *)-1) return NULL;
    return value;
}

// ---------------------------------------------------------------------------
// Signals while the viewer owns the terminal.
//
// The handlers only set flags, except where the process is about to end
// without the viewer's loop: a crash, or a signal the loop has not answered
// within two seconds. Then they restore the terminal themselves with
// async-signal-safe calls only (write, tcgetattr, tcsetattr, tcflow,
// sigaction, raise): the escape sequences are composed beforehand, nothing
// is allocated.
//
// The state below is static in a header, so each object file that uses it
// has its own copy: only TerminalSignals.swift calls these functions.
#include <signal.h>
#include <termios.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <string.h>
#include <time.h>

enum { segscope_signal_slots = 65, segscope_restore_capacity = 512 };

struct segscope_signal_state {
    int armed;            // the screen is up: a crash restores the terminal
    int installed;        // handlers are in place (the watchdog runs while set)
    int ending;           // the signal that ends the viewer, 0 for none
    int ending_taken;     // the loop has seen `ending` and is closing
    int interrupts;       // Ctrl-C presses the loop has not taken yet
    int suspend;          // SIGTSTP arrived
    int resumed;          // SIGCONT arrived
    int resize;           // SIGWINCH arrived
    char restore[segscope_restore_capacity];
    size_t restore_length;
    struct termios shell_modes;
    int has_shell_modes;
    struct sigaction previous[segscope_signal_slots];
    int handled[segscope_signal_slots];
    sigset_t previous_mask;
};

// A function-local static: Swift emits the shim's functions into its object
// files but not a header's file-scope variables.
static inline struct segscope_signal_state *segscope_state(void) {
    static struct segscope_signal_state state;
    return &state;
}

// Signals after which the viewer restores the terminal and then ends by the
// same signal (their default action is to terminate).
static inline const int *segscope_ending_signals(size_t *count) {
    static const int numbers[] = {
        SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGPIPE, SIGALRM, SIGTERM, SIGVTALRM, SIGXCPU, SIGXFSZ
    };
    *count = sizeof numbers / sizeof *numbers;
    return numbers;
}
// Crashes: the terminal is restored before the runtime's crash report.
static inline const int *segscope_crash_signals(size_t *count) {
    static const int numbers[] = { SIGSEGV, SIGILL, SIGTRAP, SIGBUS, SIGFPE, SIGABRT };
    *count = sizeof numbers / sizeof *numbers;
    return numbers;
}

static inline int segscope_flag_take(int *flag) { return __atomic_exchange_n(flag, 0, __ATOMIC_ACQ_REL); }
static inline int segscope_flag_read(int *flag) { return __atomic_load_n(flag, __ATOMIC_ACQUIRE); }

static void segscope_write_all(int fd, const char *bytes, size_t length) {
    while (length > 0) {
        ssize_t written = write(fd, bytes, length);
        if (written < 0 && errno == EINTR) continue;
        if (written <= 0) return;
        bytes += written;
        length -= (size_t)written;
    }
}

// Leaves the alternate screen, shows the cursor, resets attributes and puts
// back the shell's tty modes; at most once per arming.
static void segscope_restore_terminal_now(void) {
    if (!__atomic_exchange_n(&segscope_state()->armed, 0, __ATOMIC_ACQ_REL)) return;
    int saved = errno;
    // Output stopped by Ctrl-S would block this write (and the viewer's
    // own, which may be why the loop does not answer): turning IXON off
    // resumes it (TCOON only undoes TCOOFF); the shell's modes come after.
    struct termios current;
    if (tcgetattr(STDOUT_FILENO, &current) == 0 && (current.c_iflag & IXON)) {
        current.c_iflag &= ~(tcflag_t)IXON;
        tcsetattr(STDOUT_FILENO, TCSANOW, &current);
    }
    tcflow(STDOUT_FILENO, TCOON);
    segscope_write_all(STDOUT_FILENO, segscope_state()->restore, segscope_state()->restore_length);
    if (segscope_state()->has_shell_modes) tcsetattr(STDOUT_FILENO, TCSANOW, &segscope_state()->shell_modes);
    errno = saved;
}

static void segscope_set_default(int number) {
    struct sigaction action;
    memset(&action, 0, sizeof action);
    action.sa_handler = SIG_DFL;
    sigemptyset(&action.sa_mask);
    sigaction(number, &action, NULL);
}

// Ends the process by `number` with its default action, as if it had never
// been caught (the shell then reports 128 + number).
static void segscope_end_by_signal(int number) {
    segscope_set_default(number);
    sigset_t only;
    sigemptyset(&only);
    sigaddset(&only, number);
    pthread_sigmask(SIG_UNBLOCK, &only, NULL);
    raise(number);
}

static void segscope_on_ending_signal(int number) {
    int expected = 0;
    if (__atomic_compare_exchange_n(&segscope_state()->ending, &expected, number, 0,
                                    __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)) return;
    // A second one while the loop has not answered the first: end now.
    if (!segscope_flag_read(&segscope_state()->ending_taken)) {
        segscope_restore_terminal_now();
        segscope_end_by_signal(number);
    }
}

static void segscope_on_interrupt(int number) {
    (void)number;
    __atomic_add_fetch(&segscope_state()->interrupts, 1, __ATOMIC_ACQ_REL);
}

static void segscope_on_flag_signal(int number) {
    int *flag = number == SIGTSTP ? &segscope_state()->suspend
        : number == SIGCONT ? &segscope_state()->resumed : &segscope_state()->resize;
    __atomic_store_n(flag, 1, __ATOMIC_RELEASE);
}

static void segscope_on_crash(int number, siginfo_t *info, void *context) {
    segscope_restore_terminal_now();
    // The Swift runtime's crash handler (installed at start-up, before ours)
    // prints a backtrace and then, on a terminal, waits 30 s for a key. With
    // standard input on /dev/null it prints the report and does not wait.
    int null = open("/dev/null", O_RDONLY);
    if (null >= 0) {
        dup2(null, STDIN_FILENO);
        close(null);
    }
    struct sigaction previous = segscope_state()->previous[number];
    if ((previous.sa_flags & SA_SIGINFO) && previous.sa_sigaction != NULL) {
        previous.sa_sigaction(number, info, context);
    } else if (!(previous.sa_flags & SA_SIGINFO) && previous.sa_handler != SIG_DFL && previous.sa_handler != SIG_IGN) {
        previous.sa_handler(number);
    }
    // A fault would repeat on return, but a crash signal sent with kill would
    // not: end by it either way.
    segscope_end_by_signal(number);
}

static int segscope_install_handler(int number, void (*handler)(int), int crash) {
    struct sigaction action;
    memset(&action, 0, sizeof action);
    sigfillset(&action.sa_mask);
    if (crash) {
        // As the Swift runtime installs its own: on the alternate stack (a
        // stack overflow), and with the crash signals deliverable inside
        // (its backtracer's helper thread catches faults while reading memory).
        size_t count = 0;
        const int *crashes = segscope_crash_signals(&count);
        for (size_t i = 0; i < count; i++) sigdelset(&action.sa_mask, crashes[i]);
        action.sa_flags = SA_SIGINFO | SA_ONSTACK | SA_NODEFER;
        action.sa_sigaction = segscope_on_crash;
    } else {
        action.sa_flags = SA_RESTART;
        action.sa_handler = handler;
    }
    if (sigaction(number, &action, &segscope_state()->previous[number]) != 0) return -1;
    segscope_state()->handled[number] = 1;
    return 0;
}

// Answers for the loop when it is stuck: an ending signal or a Ctrl-C left
// untaken for two seconds ends the process (after restoring the terminal).
static void *segscope_watchdog(void *unused) {
    (void)unused;
    // Signals for the process go to the viewer's thread. Left open, as
    // libdispatch leaves them on its threads: faults, and SIGPROF, which
    // Swift's crash handler sends to pause every thread for its backtrace.
    sigset_t others;
    sigfillset(&others);
    size_t count = 0;
    const int *crashes = segscope_crash_signals(&count);
    for (size_t i = 0; i < count; i++) sigdelset(&others, crashes[i]);
    sigdelset(&others, SIGPROF);
    pthread_sigmask(SIG_BLOCK, &others, NULL);
    // In ticks of 0.1 s: 2 s for the loop to take a signal or a Ctrl-C, and
    // 5 s more for it to close the screen once it has (endwin can block too).
    int endingWaits = 0, interruptWaits = 0;
    const struct timespec tick = { 0, 100 * 1000 * 1000 };
    while (segscope_flag_read(&segscope_state()->installed)) {
        nanosleep(&tick, NULL);
        int ending = segscope_flag_read(&segscope_state()->ending);
        int patience = segscope_flag_read(&segscope_state()->ending_taken) ? 70 : 20;
        endingWaits = ending != 0 ? endingWaits + 1 : 0;
        interruptWaits = segscope_flag_read(&segscope_state()->interrupts) > 0 ? interruptWaits + 1 : 0;
        if (endingWaits >= patience || interruptWaits >= 20) {
            segscope_restore_terminal_now();
            segscope_end_by_signal(endingWaits >= patience ? ending : SIGINT);
        }
    }
    return NULL;
}

// Installs every handler; ending signals that were ignored when the viewer
// started (nohup, a background job) stay ignored. Returns 0, or -1 when a
// handler could not be installed.
static inline int segscope_signals_install(void) {
    memset(segscope_state(), 0, sizeof *segscope_state());
    segscope_state()->has_shell_modes = tcgetattr(STDOUT_FILENO, &segscope_state()->shell_modes) == 0;
    int failed = 0;
    size_t count = 0;
    const int *endings = segscope_ending_signals(&count);
    for (size_t i = 0; i < count; i++) {
        int number = endings[i];
        struct sigaction current;
        if (sigaction(number, NULL, &current) == 0 && !(current.sa_flags & SA_SIGINFO) && current.sa_handler == SIG_IGN)
            continue;
        failed |= segscope_install_handler(number, segscope_on_ending_signal, 0);
    }
    const int *crashes = segscope_crash_signals(&count);
    for (size_t i = 0; i < count; i++) failed |= segscope_install_handler(crashes[i], NULL, 1);
    failed |= segscope_install_handler(SIGINT, segscope_on_interrupt, 0);
    failed |= segscope_install_handler(SIGTSTP, segscope_on_flag_signal, 0);
    failed |= segscope_install_handler(SIGCONT, segscope_on_flag_signal, 0);
    failed |= segscope_install_handler(SIGWINCH, segscope_on_flag_signal, 0);
    // A process can start with signals blocked (inherited from a parent's
    // thread, e.g. one of libdispatch's, which block all asynchronous ones):
    // the handled ones are unblocked here, and the mask is put back after.
    sigset_t handled;
    sigemptyset(&handled);
    for (int number = 1; number < segscope_signal_slots; number++) {
        if (segscope_state()->handled[number]) sigaddset(&handled, number);
    }
    failed |= pthread_sigmask(SIG_UNBLOCK, &handled, &segscope_state()->previous_mask) != 0 ? -1 : 0;
    __atomic_store_n(&segscope_state()->installed, 1, __ATOMIC_RELEASE);
    pthread_t watchdog;
    pthread_attr_t attributes;
    pthread_attr_init(&attributes);
    pthread_attr_setdetachstate(&attributes, PTHREAD_CREATE_DETACHED);
    failed |= pthread_create(&watchdog, &attributes, segscope_watchdog, NULL) != 0 ? -1 : 0;
    pthread_attr_destroy(&attributes);
    return failed ? -1 : 0;
}

// The bytes that give the terminal back (composed while curses runs on it).
static inline void segscope_signals_arm(const char *restore, size_t length) {
    if (length > sizeof segscope_state()->restore) length = sizeof segscope_state()->restore;
    memcpy(segscope_state()->restore, restore, length);
    segscope_state()->restore_length = length;
    __atomic_store_n(&segscope_state()->armed, 1, __ATOMIC_RELEASE);
}

// The screen is closed (curses restored the terminal): crashes no longer
// write the restore sequence.
static inline void segscope_signals_disarm(void) { __atomic_store_n(&segscope_state()->armed, 0, __ATOMIC_RELEASE); }

// Puts back every handler that was there before, and stops the watchdog.
static inline void segscope_signals_uninstall(void) {
    __atomic_store_n(&segscope_state()->installed, 0, __ATOMIC_RELEASE);
    for (int number = 1; number < segscope_signal_slots; number++) {
        if (!segscope_state()->handled[number]) continue;
        sigaction(number, &segscope_state()->previous[number], NULL);
        segscope_state()->handled[number] = 0;
    }
    pthread_sigmask(SIG_SETMASK, &segscope_state()->previous_mask, NULL);
}

static inline int segscope_signals_take_interrupts(void) { return segscope_flag_take(&segscope_state()->interrupts); }
static inline int segscope_signals_take_suspend(void) { return segscope_flag_take(&segscope_state()->suspend); }
static inline int segscope_signals_take_resumed(void) { return segscope_flag_take(&segscope_state()->resumed); }
static inline int segscope_signals_take_resize(void) { return segscope_flag_take(&segscope_state()->resize); }

// The signal that ends the viewer, if one arrived; from now on the loop is
// closing and the watchdog leaves it to it.
static inline int segscope_signals_take_ending(void) {
    int ending = segscope_flag_read(&segscope_state()->ending);
    if (ending != 0) __atomic_store_n(&segscope_state()->ending_taken, 1, __ATOMIC_RELEASE);
    return ending;
}

// Stops the process as Ctrl-Z asks (the terminal already given back); returns
// after SIGCONT with the handler back in place.
static inline void segscope_signals_stop(void) {
    segscope_set_default(SIGTSTP);
    sigset_t only;
    sigemptyset(&only);
    sigaddset(&only, SIGTSTP);
    pthread_sigmask(SIG_UNBLOCK, &only, NULL);
    raise(SIGTSTP);
    struct sigaction before = segscope_state()->previous[SIGTSTP];
    segscope_install_handler(SIGTSTP, segscope_on_flag_signal, 0);
    segscope_state()->previous[SIGTSTP] = before;
}

static inline void segscope_signals_end_by(int number) { segscope_end_by_signal(number); }
