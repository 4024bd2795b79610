#ifndef CNCURSES_H
#define CNCURSES_H

/* ncursesw for Swift: the wide-character API, and static inline accessors for what Swift cannot
 * import (macros, and C globals that Swift 6 rejects as not concurrency-safe). */
#define NCURSES_WIDECHAR 1
#ifndef _XOPEN_SOURCE_EXTENDED
#define _XOPEN_SOURCE_EXTENDED 1
#endif
#include <langinfo.h>
#include <locale.h>
#include <stdio.h>
#include <string.h>
#include <wchar.h>
#include <ncurses.h>

static inline WINDOW *cn_stdscr(void) { return stdscr; }
/* newterm on the process's stdin/stdout (Swift 6 rejects the C globals themselves). */
static inline SCREEN *cn_newterm(const char *term) { return newterm(term, stdout, stdin); }
static inline int cn_locale_is_utf8(void) { return strcmp(nl_langinfo(CODESET), "UTF-8") == 0; }
static inline int cn_lines(void) { return LINES; }
static inline int cn_cols(void) { return COLS; }
static inline int cn_colors(void) { return COLORS; }
static inline int cn_color_pairs(void) { return COLOR_PAIRS; }
static inline attr_t cn_color_pair(int n) { return COLOR_PAIR(n); }
static inline attr_t cn_a_normal(void) { return A_NORMAL; }
static inline attr_t cn_a_bold(void) { return A_BOLD; }
static inline attr_t cn_a_reverse(void) { return A_REVERSE; }
static inline attr_t cn_a_dim(void) { return A_DIM; }
static inline attr_t cn_a_underline(void) { return A_UNDERLINE; }
static inline int cn_key_resize(void) { return KEY_RESIZE; }
static inline int cn_key_f(int n) { return KEY_F(n); }
static inline int cn_attrset(attr_t a) { return attrset(a); }
/* Writes a wide string at (y, x), at most n characters. */
static inline int cn_mvaddnwstr(int y, int x, const wchar_t *s, int n) { return mvaddnwstr(y, x, s, n); }
static inline int cn_mvhline(int y, int x, int n) { return mvhline(y, x, ' ', n); }
/* The mouse: left clicks and the wheel (buttons 4 and 5), reported without a click delay. */
static inline void cn_mouse_on(void) {
    mousemask(BUTTON1_PRESSED | BUTTON1_CLICKED | BUTTON4_PRESSED | BUTTON5_PRESSED, NULL);
    mouseinterval(0);
}
static inline int cn_key_mouse(void) { return KEY_MOUSE; }
/* Every mouse event ncurses holds after a KEY_MOUSE, newest first (as getmouse hands them
 * out), at most `capacity`. A press and its release that come in one read (a busy frame, a
 * slow link) give one KEY_MOUSE and two events: reading one event per KEY_MOUSE lost the press.
 * Kinds: 1 a left press or click, 4 wheel up, 5 wheel down, 0 anything else.
 * Returns how many were written. */
static inline int cn_get_mouse_events(int *kinds, int *ys, int *xs, int capacity) {
    MEVENT event;
    int count = 0;
    while (count < capacity && getmouse(&event) == OK) {
        int kind = 0;
        if (event.bstate & (BUTTON1_PRESSED | BUTTON1_CLICKED)) kind = 1;
        else if (event.bstate & BUTTON4_PRESSED) kind = 4;
#ifdef BUTTON5_PRESSED
        else if (event.bstate & BUTTON5_PRESSED) kind = 5;
#endif
        kinds[count] = kind;
        ys[count] = event.y;
        xs[count] = event.x;
        count++;
    }
    return count;
}
#endif
