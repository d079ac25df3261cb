// Wide-character ncurses: the half-block glyph and cchar_t need the XPG4 API.
#define _XOPEN_SOURCE_EXTENDED 1
#define NCURSES_WIDECHAR 1
#include <ncursesw/curses.h>
#include <locale.h>
