/* SPDX-License-Identifier: Apache-2.0 */
/*
 * prom: the text is appended straight into the caller's buffer; nothing is
 * allocated. What the format demands and a careless writer gets wrong:
 * - names: metric [a-zA-Z_:][a-zA-Z0-9_:]*, label [a-zA-Z_][a-zA-Z0-9_]*
 *   with "__" reserved for Prometheus itself;
 * - escapes: in help text backslash and line feed, in label values also
 *   the double quote; the file is UTF-8, so invalid bytes (a hostname is
 *   not guaranteed to be UTF-8) become U+FFFD rather than a file a parser
 *   rejects;
 * - values: Go's float syntax, with NaN, +Inf and -Inf spelled so; finite
 *   values in the fewest digits that read back as the same double;
 * - a family's HELP and TYPE once per file, before its samples, and its
 *   samples together: a family is checked against the "# TYPE" lines
 *   already written, so no table of names is kept.
 */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fsutil.h"
#include "prom.h"

static const char *const type_names[] = {
	[PROM_COUNTER] = "counter", [PROM_GAUGE] = "gauge", [PROM_SUMMARY] = "summary",
	[PROM_UNTYPED] = "untyped",
};

static void
fail(struct prom *p, int err)
{
	if (p->err == 0)
		p->err = err;
}

static void
put(struct prom *p, const char *s, size_t n)
{
	if (p->err)
		return;
	if (n > p->cap - p->len) {
		fail(p, -EMSGSIZE);
		return;
	}
	memcpy(p->buf + p->len, s, n);
	p->len += n;
}

static void
put_str(struct prom *p, const char *s)
{
	put(p, s, strlen(s));
}

static bool
name_ok(const char *s, bool colon)
{
	size_t n = strlen(s);

	if (n == 0 || n > PROM_NAME_MAX || (s[0] >= '0' && s[0] <= '9'))
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		bool alnum = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9');
		if (!alnum && c != '_' && !(colon && c == ':'))
			return false;
	}
	return true;
}

static bool
label_name_ok(const char *s)
{
	return name_ok(s, false) && strncmp(s, "__", 2) != 0;
}

/* Length of the well-formed UTF-8 sequence at s (at most n bytes), or 0
 * (Unicode 15, table 3-7: no overlongs, surrogates or code points past
 * U+10FFFF). */
static size_t
utf8_len(const unsigned char *s, size_t n)
{
	unsigned char c = s[0], lo = 0x80, hi = 0xBF;
	size_t len;

	if (c < 0x80)
		return 1;
	if (c >= 0xC2 && c <= 0xDF)
		len = 2;
	else if (c >= 0xE0 && c <= 0xEF)
		len = 3;
	else if (c >= 0xF0 && c <= 0xF4)
		len = 4;
	else
		return 0;
	if (c == 0xE0)
		lo = 0xA0;
	else if (c == 0xED)
		hi = 0x9F;
	else if (c == 0xF0)
		lo = 0x90;
	else if (c == 0xF4)
		hi = 0x8F;
	if (n < len || s[1] < lo || s[1] > hi)
		return 0;
	for (size_t i = 2; i < len; i++)
		if (s[i] < 0x80 || s[i] > 0xBF)
			return 0;
	return len;
}

/* Appends s escaped: backslash and line feed always, '"' when quoted. */
static void
put_escaped(struct prom *p, const char *s, bool quoted)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t n = strlen(s);

	while (n > 0) {
		size_t k = utf8_len(u, n);
		if (k == 0) {
			put_str(p, "\xEF\xBF\xBD");
			k = 1;
		} else if (*u == '\\') {
			put_str(p, "\\\\");
		} else if (*u == '\n') {
			put_str(p, "\\n");
		} else if (*u == '"' && quoted) {
			put_str(p, "\\\"");
		} else {
			put(p, (const char *)u, k);
		}
		u += k;
		n -= k;
	}
}

/* True when a "# TYPE name " line is already in the file. */
static bool
family_written(const struct prom *p, const char *name)
{
	size_t nlen = strlen(name);
	const char *q = p->buf, *end = p->buf + p->len;

	while ((q = memmem(q, (size_t)(end - q), "# TYPE ", 7)) != NULL) {
		bool at_line = q == p->buf || q[-1] == '\n';
		q += 7;
		if (at_line && (size_t)(end - q) > nlen && memcmp(q, name, nlen) == 0 &&
		    q[nlen] == ' ')
			return true;
	}
	return false;
}

void
prom_init(struct prom *p, char *buf, size_t cap, const struct prom_label *common,
    size_t ncommon)
{
	*p = (struct prom){ .buf = buf, .cap = cap, .common = common, .ncommon = ncommon };
	for (size_t i = 0; i < ncommon; i++)
		if (!label_name_ok(common[i].name) || !common[i].value)
			fail(p, -EINVAL);
}

void
prom_family(struct prom *p, const char *name, enum prom_type type, const char *help)
{
	if (p->err)
		return;
	if (!name_ok(name, true) || (unsigned)type > PROM_UNTYPED || !help || !*help) {
		fail(p, -EINVAL);
		return;
	}
	if (family_written(p, name)) {
		fail(p, -EEXIST);
		return;
	}
	snprintf(p->family, sizeof(p->family), "%s", name);
	p->type = type;
	put_str(p, "# HELP ");
	put_str(p, name);
	put_str(p, " ");
	put_escaped(p, help, false);
	put_str(p, "\n# TYPE ");
	put_str(p, name);
	put_str(p, " ");
	put_str(p, type_names[type]);
	put_str(p, "\n");
}

static bool
has_label(const struct prom_label *l, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(l[i].name, name) == 0)
			return true;
	return false;
}

/* A summary's own samples are its quantiles; other types have only theirs. */
static bool
suffix_ok(const struct prom *p, const char *suffix, const struct prom_label *l, size_t n)
{
	if (p->type != PROM_SUMMARY)
		return *suffix == '\0';
	if (*suffix == '\0')
		return has_label(l, n, "quantile");
	return (strcmp(suffix, "_sum") == 0 || strcmp(suffix, "_count") == 0) &&
	    !has_label(l, n, "quantile");
}

static bool
labels_ok(const struct prom *p, const struct prom_label *l, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!label_name_ok(l[i].name) || !l[i].value || has_label(l, i, l[i].name) ||
		    has_label(p->common, p->ncommon, l[i].name))
			return false;
	return true;
}

static void
put_labels(struct prom *p, const struct prom_label *l, size_t n, bool *first)
{
	for (size_t i = 0; i < n; i++) {
		put_str(p, *first ? "{" : ",");
		*first = false;
		put_str(p, l[i].name);
		put_str(p, "=\"");
		put_escaped(p, l[i].value, true);
		put_str(p, "\"");
	}
}

/* Writes "name{labels} " for a sample, or fails the file. */
static bool
sample_head(struct prom *p, const char *suffix, const struct prom_label *l, size_t n)
{
	bool first = true;

	if (!suffix)
		suffix = "";
	if (p->err)
		return false;
	if (p->family[0] == '\0' || !suffix_ok(p, suffix, l, n) || !labels_ok(p, l, n) ||
	    strlen(p->family) + strlen(suffix) > PROM_NAME_MAX) {
		fail(p, -EINVAL);
		return false;
	}
	put_str(p, p->family);
	put_str(p, suffix);
	put_labels(p, p->common, p->ncommon, &first);
	put_labels(p, l, n, &first);
	put_str(p, first ? " " : "} ");
	return p->err == 0;
}

/* The fewest significant digits that strtod reads back as v. */
static void
format_double(char *out, size_t cap, double v)
{
	if (isnan(v)) {
		snprintf(out, cap, "NaN");
		return;
	}
	if (isinf(v)) {
		snprintf(out, cap, v > 0 ? "+Inf" : "-Inf");
		return;
	}
	for (int prec = 1; prec <= 17; prec++) {
		snprintf(out, cap, "%.*g", prec, v);
		if (strtod(out, NULL) == v)
			return;
	}
}

void
prom_sample(struct prom *p, const char *suffix, const struct prom_label *labels, size_t n,
    double v)
{
	char num[32];

	if (!sample_head(p, suffix, labels, n))
		return;
	format_double(num, sizeof(num), v);
	put_str(p, num);
	put_str(p, "\n");
}

void
prom_sample_u64(struct prom *p, const char *suffix, const struct prom_label *labels,
    size_t n, uint64_t v)
{
	char num[24];

	if (!sample_head(p, suffix, labels, n))
		return;
	snprintf(num, sizeof(num), "%" PRIu64, v);
	put_str(p, num);
	put_str(p, "\n");
}

void
prom_metric(struct prom *p, const char *name, enum prom_type type, const char *help,
    double v)
{
	prom_family(p, name, type, help);
	prom_sample(p, NULL, NULL, 0, v);
}

void
prom_metric_u64(struct prom *p, const char *name, enum prom_type type, const char *help,
    uint64_t v)
{
	prom_family(p, name, type, help);
	prom_sample_u64(p, NULL, NULL, 0, v);
}

int
prom_end(struct prom *p, size_t *ret_len)
{
	if (p->err)
		return p->err;
	*ret_len = p->len;
	return 0;
}

int
prom_write(struct prom *p, const char *path, mode_t mode)
{
	size_t len = 0;
	int r = prom_end(p, &len);

	if (r < 0)
		return r;
	return fs_write_atomic_nosync(path, p->buf, len, mode);
}
