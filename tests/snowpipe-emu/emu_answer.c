/* SPDX-License-Identifier: Apache-2.0 */
/*
 * emu_answer: a line reader over the whole file. The head (comments, status
 * line, headers) is line-oriented and tolerant of CRLF; the body is taken
 * byte for byte, minus one final newline so files can end the usual way
 * (a body that must end in a newline is written with one more).
 */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "emu_answer.h"
#include "fsutil.h"

struct rd {
	const char *p, *end;
	int line;
	char *err;
	size_t errlen;
};

static int __attribute__((format(printf, 2, 3)))
bad(struct rd *r, const char *fmt, ...)
{
	va_list ap;
	int n = snprintf(r->err, r->errlen, "line %d: ", r->line);

	va_start(ap, fmt);
	if (n > 0 && (size_t)n < r->errlen)
		vsnprintf(r->err + n, r->errlen - (size_t)n, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

/* The next line without its LF or CRLF; false at the end of the buffer. */
static bool
next_line(struct rd *r, const char **ret, size_t *ret_len)
{
	const char *nl;
	size_t n;

	if (r->p >= r->end)
		return false;
	nl = memchr(r->p, '\n', (size_t)(r->end - r->p));
	n = nl ? (size_t)(nl - r->p) : (size_t)(r->end - r->p);
	*ret = r->p;
	r->p += n + (nl != NULL);
	if (n > 0 && (*ret)[n - 1] == '\r')
		n--;
	*ret_len = n;
	r->line++;
	return true;
}

static char *
trimmed_dup(const char *s, size_t n)
{
	while (n > 0 && (*s == ' ' || *s == '\t'))
		s++, n--;
	while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t'))
		n--;
	return strndup(s, n);
}

/* "HTTP/1.1 400 Bad Request" (any HTTP/x version, reason optional). */
static int
status_line(struct rd *r, const char *s, size_t n, struct emu_answer *a)
{
	const char *sp = memchr(s, ' ', n);
	size_t rest;

	if (n < 5 || strncmp(s, "HTTP/", 5) != 0 || sp == NULL)
		return bad(r, "expected a status line \"HTTP/1.1 NNN Reason\"");
	rest = n - (size_t)(sp + 1 - s);
	if (rest < 3 || !isdigit((unsigned char)sp[1]) || !isdigit((unsigned char)sp[2]) ||
	    !isdigit((unsigned char)sp[3]) || (rest > 3 && sp[4] != ' '))
		return bad(r, "expected a three-digit status after the HTTP version");
	a->status = (sp[1] - '0') * 100 + (sp[2] - '0') * 10 + (sp[3] - '0');
	if (a->status < 100 || a->status > 599)
		return bad(r, "status %d out of 100..599", a->status);
	a->reason = rest > 4 ? trimmed_dup(sp + 5, rest - 4) : strdup("");
	return a->reason ? 0 : -ENOMEM;
}

static int
header_line(struct rd *r, const char *s, size_t n, struct emu_answer *a)
{
	const char *colon = memchr(s, ':', n);

	if (colon == NULL || colon == s)
		return bad(r, "expected a header \"Name: value\"");
	for (const char *c = s; c < colon; c++)
		if (!isgraph((unsigned char)*c))
			return bad(r, "header name with a space or control character");
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x20 && s[i] != '\t')
			return bad(r, "control character in a header");
	if (a->nhdr == EMU_ANSWER_MAX_HEADERS)
		return bad(r, "more than %d headers", EMU_ANSWER_MAX_HEADERS);
	a->names[a->nhdr] = strndup(s, (size_t)(colon - s));
	a->values[a->nhdr] = trimmed_dup(colon + 1, n - (size_t)(colon + 1 - s));
	a->nhdr++;
	return a->names[a->nhdr - 1] && a->values[a->nhdr - 1] ? 0 : -ENOMEM;
}

/* Comment lines first; the first "# source:" one is kept. */
static int
comments(struct rd *r, struct emu_answer *a, const char **ret, size_t *ret_len)
{
	const char *s;
	size_t n;

	while (next_line(r, &s, &n)) {
		if (n == 0 || s[0] != '#') {
			*ret = s;
			*ret_len = n;
			return 0;
		}
		if (a->source == NULL && n > 9 && strncasecmp(s, "# source:", 9) == 0 &&
		    (a->source = trimmed_dup(s + 9, n - 9)) == NULL)
			return -ENOMEM;
	}
	return bad(r, "no status line");
}

int
emu_answer_parse(const char *buf, size_t len, struct emu_answer *ret, char *err,
    size_t errlen)
{
	struct rd r = { .p = buf, .end = buf + len, .err = err, .errlen = errlen };
	struct emu_answer a = { 0 };
	const char *s = NULL;
	size_t n = 0;
	int rc;

	if (len > EMU_ANSWER_MAX_BYTES) {
		snprintf(err, errlen, "larger than %d bytes", EMU_ANSWER_MAX_BYTES);
		return -EINVAL;
	}
	if ((rc = comments(&r, &a, &s, &n)) < 0 || (rc = status_line(&r, s, n, &a)) < 0)
		goto fail;
	while (next_line(&r, &s, &n) && n > 0)
		if ((rc = header_line(&r, s, n, &a)) < 0)
			goto fail;
	n = (size_t)(r.end - r.p);
	if (n > 0 && r.p[n - 1] == '\n')
		n--;
	if ((a.body = malloc(n + 1)) == NULL) {
		rc = -ENOMEM;
		goto fail;
	}
	memcpy(a.body, r.p, n);
	a.body[n] = '\0';
	a.body_len = n;
	*ret = a;
	return 0;
fail:
	emu_answer_clear(&a);
	return rc;
}

int
emu_answer_load(const char *path, struct emu_answer *ret, char *err, size_t errlen)
{
	char *buf, msg[200];
	size_t len;
	int r;

	if ((r = fs_read_all(path, EMU_ANSWER_MAX_BYTES, &buf, &len)) < 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(-r));
		return r;
	}
	r = emu_answer_parse(buf, len, ret, msg, sizeof(msg));
	if (r < 0)
		snprintf(err, errlen, "%s: %s", path, msg);
	free(buf);
	return r;
}

void
emu_answer_clear(struct emu_answer *a)
{
	for (size_t i = 0; i < a->nhdr; i++) {
		free(a->names[i]);
		free(a->values[i]);
	}
	free(a->reason);
	free(a->source);
	free(a->body);
	memset(a, 0, sizeof(*a));
}

const char *
emu_answer_header(const struct emu_answer *a, const char *name)
{
	for (size_t i = 0; i < a->nhdr; i++)
		if (strcasecmp(a->names[i], name) == 0)
			return a->values[i];
	return NULL;
}
