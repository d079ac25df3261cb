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
