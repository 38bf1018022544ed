/* SPDX-License-Identifier: Apache-2.0 */
/*
 * text: lines for a terminal, built into the caller's fixed buffer. What
 * sensortap shows people (--pretty, --watch) lines up in columns, and a
 * column is a character on the screen, not a byte: units such as "°C" and
 * the sparkline's blocks are UTF-8. So padding and cutting count columns
 * (one per code point: everything sensortap prints is narrow), and colour
 * (ANSI SGR) is added only when asked, so a pipe or NO_COLOR gets none.
 *
 * A line can be given a width: what goes past it is dropped (escape
 * sequences still pass), so a screen line never wraps.
 *
 * Errors are sticky, as in common/prom: a line that does not fit sets err
 * (-ENOSPC) and stops growing, and the caller checks once at the end.
 */
#ifndef SNOWSENSE_TEXT_H
#define SNOWSENSE_TEXT_H

#include <stdbool.h>
#include <stddef.h>

/* Colours text_color may add; TEXT_PLAIN ends one. */
enum text_color {
	TEXT_PLAIN, TEXT_DIM, TEXT_BOLD, TEXT_GREEN, TEXT_YELLOW, TEXT_RED,
};

struct text {
	char *buf;	/* borrowed; always NUL-terminated */
	size_t cap, len;
	size_t cols;	/* columns since the last newline */
	size_t limit;	/* columns a line may take (more are dropped); 0: any */
	bool color;	/* emit SGR sequences */
	int err;	/* 0, or -ENOSPC once something did not fit */
};

/* Starts an empty text in buf (borrowed, cap > 0 bytes); color: whether
 * text_color emits escape sequences. */
void text_init(struct text *t, char *buf, size_t cap, bool color);
/* Lines from now on take at most cols columns (0: no limit). */
void text_limit(struct text *t, size_t cols);
/* Appends printf output (at most 1 KB at a time); a newline in it restarts
 * the column count. */
void text_add(struct text *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Appends at most maxcols columns of s (cut at a character boundary). */
void text_cut(struct text *t, const char *s, size_t maxcols);
/* Appends blanks up to column col of the current line (none when past it). */
void text_pad(struct text *t, size_t col);
/* Switches colour (nothing without color): TEXT_PLAIN resets. */
void text_color(struct text *t, enum text_color c);
/* Columns s takes on a terminal: its code points. */
size_t text_cols(const char *s);

#endif
