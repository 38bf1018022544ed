/* SPDX-License-Identifier: Apache-2.0 */
/*
 * text: a bounded line builder that counts columns. Everything visible
 * goes through put(), one character at a time, which counts it and drops
 * what passes the line's limit; the escape sequences of text_color are
 * appended around it and take no column.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "text.h"

#define TEXT_ADD_MAX 1024	/* one text_add's output */

void
text_init(struct text *t, char *buf, size_t cap, bool color)
{
	*t = (struct text){ .buf = buf, .cap = cap, .color = color };
	buf[0] = '\0';
}

void
text_limit(struct text *t, size_t cols)
{
	t->limit = cols;
}

static bool
is_cont(unsigned char c)
{
	return (c & 0xc0) == 0x80;
}

/* Appends n bytes as they are. */
static void
raw(struct text *t, const char *s, size_t n)
{
	if (t->err)
		return;
	if (n >= t->cap - t->len) {
		t->err = -ENOSPC;
		return;
	}
	memcpy(t->buf + t->len, s, n);
	t->len += n;
	t->buf[t->len] = '\0';
}

/* Appends the characters of s[0..n) that fit the line, at most maxcols. */
static void
put(struct text *t, const char *s, size_t n, size_t maxcols)
{
	size_t i = 0, taken = 0;

	while (i < n && !t->err) {
		size_t ch = 1;

		while (i + ch < n && is_cont((unsigned char)s[i + ch]))
			ch++;
		if (s[i] == '\n') {
			raw(t, s + i, 1);
			t->cols = 0;
		} else if (taken < maxcols && (t->limit == 0 || t->cols < t->limit)) {
			raw(t, s + i, ch);
			t->cols++;
			taken++;
		}
		i += ch;
	}
}

void
text_add(struct text *t, const char *fmt, ...)
{
	char out[TEXT_ADD_MAX];
	va_list ap;
	int n;

	if (t->err)
		return;
	va_start(ap, fmt);
	n = vsnprintf(out, sizeof(out), fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(out)) {
		t->err = -ENOSPC;
		return;
	}
	put(t, out, (size_t)n, (size_t)-1);
}

void
text_cut(struct text *t, const char *s, size_t maxcols)
{
	put(t, s, strlen(s), maxcols);
}

void
text_pad(struct text *t, size_t col)
{
	while (!t->err && t->cols < col && (t->limit == 0 || t->cols < t->limit)) {
		raw(t, " ", 1);
		t->cols++;
	}
}

void
text_color(struct text *t, enum text_color c)
{
	static const char *const sgr[] = {
		[TEXT_PLAIN] = "\033[0m", [TEXT_DIM] = "\033[2m", [TEXT_BOLD] = "\033[1m",
		[TEXT_GREEN] = "\033[32m", [TEXT_YELLOW] = "\033[33m", [TEXT_RED] = "\033[31m",
	};

	if (t->color)
		raw(t, sgr[c], strlen(sgr[c]));
}

size_t
text_cols(const char *s)
{
	size_t n = 0;

	for (; *s; s++)
		n += !is_cont((unsigned char)*s);
	return n;
}
