/* SPDX-License-Identifier: Apache-2.0 */
/*
 * emu_rows: Snowflake's conversions as far as a client can observe them. A
 * row that fails any column is skipped whole and reported (ON_ERROR =
 * CONTINUE); the message names the column and the problem but, like the real
 * service's redacted last_error_message, never the value.
 */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "emu_rows.h"

void
emu_val_clear(struct emu_val *v)
{
	free(v->s);
	memset(v, 0, sizeof(*v));
}

static int
set_text(struct emu_val *out, const char *s, size_t n)
{
	out->s = strndup(s, n);
	if (out->s == NULL)
		return -ENOMEM;
	out->kind = EMU_V_TEXT;
	return 0;
}

/* Whole-string numeric parse: optional spaces around, nothing else. */
static int
parse_double(const char *s, double *ret)
{
	char *end;
	double d;

	while (isspace((unsigned char)*s))
		s++;
	if (*s == '\0')
		return -EINVAL;
	errno = 0;
	d = strtod(s, &end);
	if (end == s || errno == ERANGE)
		return -EINVAL;
	while (isspace((unsigned char)*end))
		end++;
	if (*end != '\0')
		return -EINVAL;
	*ret = d;
	return 0;
}

static int
parse_ll(const char *s, long long *ret)
{
	char *end;
	long long v;

	while (isspace((unsigned char)*s))
		s++;
	if (*s == '\0')
		return -EINVAL;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (end == s || errno != 0)
		return -EINVAL;
	while (isspace((unsigned char)*end))
		end++;
	if (*end != '\0')
		return -EINVAL;
	*ret = v;
	return 0;
}

static int __attribute__((format(printf, 3, 4)))
bad(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

static int
to_number(const struct emu_column *col, json_t *v, struct emu_val *out, char *err,
    size_t errlen)
{
	double lim = pow(10.0, col->precision - col->scale), d;
	long long ll;

	if (json_is_integer(v) || (json_is_string(v) && col->scale == 0 &&
	    parse_ll(json_string_value(v), &ll) == 0)) {
		if (json_is_integer(v))
			ll = json_integer_value(v);
		if (fabs((double)ll) >= lim)
			return bad(err, errlen, "Number out of representable range: type "
			    "NUMBER(%d,%d), column %s", col->precision, col->scale, col->name);
		out->kind = col->scale == 0 ? EMU_V_INT : EMU_V_REAL;
		out->i = ll;
		out->d = (double)ll;
		return 0;
	}
	if (json_is_real(v))
		d = json_real_value(v);
	else if (!json_is_string(v) || parse_double(json_string_value(v), &d) < 0)
		return bad(err, errlen, "Numeric value is not recognized for column %s "
		    "(JSON %s)", col->name, json_is_string(v) ? "string" : json_is_boolean(v) ?
		    "boolean" : json_is_object(v) ? "object" : "array");
	if (!isfinite(d))
		return bad(err, errlen, "Numeric value is not recognized for column %s", col->name);
	d = round(d * pow(10.0, col->scale)) / pow(10.0, col->scale);
	if (fabs(d) >= lim)
		return bad(err, errlen, "Number out of representable range: type NUMBER(%d,%d), "
		    "column %s", col->precision, col->scale, col->name);
	if (col->scale == 0 && fabs(d) < 9.2e18) {
		out->kind = EMU_V_INT;
		out->i = (int64_t)d;
	} else {
		out->kind = EMU_V_REAL;
		out->d = d;
	}
	return 0;
}

static int
to_float(const struct emu_column *col, json_t *v, struct emu_val *out, char *err,
    size_t errlen)
{
	double d;

	if (json_is_number(v))
		d = json_number_value(v);
	else if (!json_is_string(v) || parse_double(json_string_value(v), &d) < 0)
		return bad(err, errlen, "Numeric value is not recognized for column %s", col->name);
	out->kind = EMU_V_REAL;
	out->d = d;
	return 0;
}

static size_t
utf8_chars(const char *s)
{
	size_t n = 0;

	for (; *s != '\0'; s++)
		if (((unsigned char)*s & 0xC0) != 0x80)
			n++;
	return n;
}

static int
to_varchar(const struct emu_column *col, json_t *v, struct emu_val *out, char *err,
    size_t errlen)
{
	char buf[64];

	if (json_is_string(v)) {
		size_t n = utf8_chars(json_string_value(v));

		if ((int64_t)n > col->max_len)
			return bad(err, errlen, "String is too long and would be truncated: column "
			    "%s, %zu characters > %lld", col->name, n, (long long)col->max_len);
		return set_text(out, json_string_value(v), json_string_length(v));
	}
	if (json_is_integer(v))
		snprintf(buf, sizeof(buf), "%lld", (long long)json_integer_value(v));
	else if (json_is_real(v))
		snprintf(buf, sizeof(buf), "%.17g", json_real_value(v));
	else if (json_is_boolean(v))
		snprintf(buf, sizeof(buf), "%s", json_is_true(v) ? "true" : "false");
	else
		return bad(err, errlen, "Failed to cast variant value of type %s to VARCHAR: "
		    "column %s", json_is_object(v) ? "OBJECT" : "ARRAY", col->name);
	if ((int64_t)strlen(buf) > col->max_len)
		return bad(err, errlen, "String is too long and would be truncated: column %s",
		    col->name);
	return set_text(out, buf, strlen(buf));
}

static int
to_boolean(const struct emu_column *col, json_t *v, struct emu_val *out, char *err,
    size_t errlen)
{
	static const char *const yes[] = { "true", "t", "yes", "y", "on", "1", NULL };
	static const char *const no[] = { "false", "f", "no", "n", "off", "0", NULL };

	out->kind = EMU_V_INT;
	if (json_is_boolean(v)) {
		out->i = json_is_true(v);
		return 0;
	}
	if (json_is_number(v)) {
		out->i = json_number_value(v) != 0;
		return 0;
	}
	if (json_is_string(v)) {
		for (size_t i = 0; yes[i] != NULL; i++) {
			if (strcasecmp(json_string_value(v), yes[i]) == 0) {
				out->i = 1;
				return 0;
			}
			if (strcasecmp(json_string_value(v), no[i]) == 0) {
				out->i = 0;
				return 0;
			}
		}
	}
	out->kind = EMU_V_NULL;
	return bad(err, errlen, "Boolean value is not recognized for column %s", col->name);
}

static int
digits(const char **p, int n, int *ret)
{
	int v = 0;

	for (int i = 0; i < n; i++) {
		if (!isdigit((unsigned char)(*p)[i]))
			return -EINVAL;
		v = v * 10 + ((*p)[i] - '0');
	}
	*p += n;
	*ret = v;
	return 0;
}

static int
days_in(int y, int m)
{
	static const int d[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };

	if (m == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0))
		return 29;
	return d[m - 1];
}

/* YYYY-MM-DD[(T| )HH:MI[:SS[.F{1,9}]]][Z|(+|-)HH[:]MM]; the offset is accepted
 * and ignored (TIMESTAMP_NTZ keeps the wall clock). The fraction is kept to
 * the microsecond in *us. */
static int
parse_iso(const char *s, struct tm *tm, int *us, bool *has_time)
{
	const char *p = s;
	int y, mo, d, h = 0, mi = 0, se = 0, f = 0, fd = 0, x;

	*has_time = false;
	if (digits(&p, 4, &y) < 0 || *p++ != '-' || digits(&p, 2, &mo) < 0 || *p++ != '-' ||
	    digits(&p, 2, &d) < 0)
		return -EINVAL;
	if (mo < 1 || mo > 12 || d < 1 || d > days_in(y, mo))
		return -EINVAL;
	if (*p == 'T' || *p == ' ') {
		p++;
		*has_time = true;
		if (digits(&p, 2, &h) < 0 || *p++ != ':' || digits(&p, 2, &mi) < 0)
			return -EINVAL;
		if (*p == ':') {
			p++;
			if (digits(&p, 2, &se) < 0)
				return -EINVAL;
			if (*p == '.') {
				p++;
				while (isdigit((unsigned char)*p) && fd < 9) {
					if (fd < 6)
						f = f * 10 + (*p - '0');
					fd++;
					p++;
				}
				if (fd == 0 || isdigit((unsigned char)*p))
					return -EINVAL;
				for (int k = fd; k < 6; k++)
					f *= 10;
			}
		}
		if (h > 23 || mi > 59 || se > 59)
			return -EINVAL;
		if (*p == 'Z') {
			p++;
		} else if (*p == '+' || *p == '-') {
			p++;
			if (digits(&p, 2, &x) < 0 || x > 23)
				return -EINVAL;
			if (*p == ':')
				p++;
			if (digits(&p, 2, &x) < 0 || x > 59)
				return -EINVAL;
		}
	}
	if (*p != '\0')
		return -EINVAL;
	memset(tm, 0, sizeof(*tm));
	tm->tm_year = y - 1900;
	tm->tm_mon = mo - 1;
	tm->tm_mday = d;
	tm->tm_hour = h;
	tm->tm_min = mi;
	tm->tm_sec = se;
	*us = f;
	return 0;
}

/* An integer-stored time, scaled by magnitude as Snowflake does (s, ms, us,
 * ns), into *t and the microseconds within the second. */
static void
epoch_split(long long v, time_t *t, int *us)
{
	long long a = llabs(v);

	if (a < 31536000000LL)
		*t = (time_t)v, *us = 0;
	else if (a < 31536000000000LL)
		*t = (time_t)(v / 1000), *us = (int)(a % 1000 * 1000);
	else if (a < 31536000000000000LL)
		*t = (time_t)(v / 1000000), *us = (int)(a % 1000000);
	else
		*t = (time_t)(v / 1000000000), *us = (int)(a % 1000000000 / 1000);
}

/* The fraction as stored: .mmm (lenient), or min(precision, 6) digits when
 * the column keeps microseconds (none for TIMESTAMP(0)). */
static void
put_fraction(const struct emu_column *col, int us, char *buf, size_t len)
{
	int n = col->precision < 6 ? col->precision : 6, div = 1;

	if (!col->ts_micros) {
		snprintf(buf, len, ".%03d", us / 1000);
		return;
	}
	if (n <= 0) {
		buf[0] = '\0';
		return;
	}
	for (int i = n; i < 6; i++)
		div *= 10;
	snprintf(buf, len, ".%0*d", n, us / div);
}

static int
to_time(const struct emu_column *col, json_t *v, struct emu_val *out, char *err,
    size_t errlen)
{
	char buf[48];
	struct tm tm;
	long long ll;
	bool has_time;
	int us = 0;

	if (json_is_integer(v) || (json_is_string(v) &&
	    parse_ll(json_string_value(v), &ll) == 0)) {
		time_t t;

		epoch_split(json_is_integer(v) ? json_integer_value(v) : ll, &t, &us);
		if (gmtime_r(&t, &tm) == NULL)
			return bad(err, errlen, "Timestamp out of range for column %s", col->name);
	} else if (!json_is_string(v) ||
	    parse_iso(json_string_value(v), &tm, &us, &has_time) < 0) {
		return bad(err, errlen, "Timestamp '%s' is not recognized for column %s",
		    json_is_string(v) ? "<redacted>" : "<non-string>", col->name);
	}
	if (col->type == EMU_T_DATE)
		strftime(buf, sizeof(buf), "%Y-%m-%d", &tm);
	else {
		size_t n = strftime(buf, sizeof(buf), "%Y-%m-%d %H:%M:%S", &tm);

		put_fraction(col, us, buf + n, sizeof(buf) - n);
	}
	return set_text(out, buf, strlen(buf));
}

static int
to_variant(const struct emu_column *col, json_t *v, struct emu_val *out, char *err,
    size_t errlen)
{
	char *s;

	if (col->type == EMU_T_OBJECT && !json_is_object(v))
		return bad(err, errlen, "Expected an OBJECT for column %s", col->name);
	if (col->type == EMU_T_ARRAY && !json_is_array(v))
		return bad(err, errlen, "Expected an ARRAY for column %s", col->name);
	/* 15 significant digits, as Snowflake shows a FLOAT: 40.1 stays "40.1"
	 * instead of jansson's round-trip "40.100000000000001". */
	s = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY | JSON_PRESERVE_ORDER |
	    JSON_REAL_PRECISION(15));
	if (s == NULL)
		return -ENOMEM;
	out->kind = EMU_V_TEXT;
	out->s = s;
	return 0;
}

int
emu_rows_convert(const struct emu_column *col, json_t *v, struct emu_val *out, char *err,
    size_t errlen)
{
	memset(out, 0, sizeof(*out));
	if (v == NULL || json_is_null(v)) {
		if (col->not_null)
			return bad(err, errlen, "NULL result in a non-nullable column %s", col->name);
		return 0;
	}
	switch (col->type) {
	case EMU_T_NUMBER:
		return to_number(col, v, out, err, errlen);
	case EMU_T_FLOAT:
		return to_float(col, v, out, err, errlen);
	case EMU_T_VARCHAR:
		return to_varchar(col, v, out, err, errlen);
	case EMU_T_BOOLEAN:
		return to_boolean(col, v, out, err, errlen);
	case EMU_T_TIMESTAMP:
	case EMU_T_DATE:
		return to_time(col, v, out, err, errlen);
	case EMU_T_VARIANT:
	case EMU_T_OBJECT:
	case EMU_T_ARRAY:
		return to_variant(col, v, out, err, errlen);
	}
	return bad(err, errlen, "unsupported type for column %s", col->name);
}

/* Default pipe: the key matching the column name exactly, else ignoring case. */
static json_t *
by_name(json_t *row, const char *name, bool *found)
{
	const char *k;
	json_t *v;

	if ((v = json_object_get(row, name)) != NULL) {
		*found = true;
		return v;
	}
	json_object_foreach(row, k, v) {
		if (strcasecmp(k, name) == 0) {
			*found = true;
			return v;
		}
	}
	*found = false;
	return NULL;
}

static json_t *
by_path(json_t *row, char **path)
{
	json_t *v = row;

	for (size_t i = 0; path[i] != NULL && v != NULL; i++)
		v = json_is_object(v) ? json_object_get(v, path[i]) : NULL;
	return v;
}

int
emu_rows_project(const struct emu_pipe *p, json_t *row, struct emu_val *vals, char *err,
    size_t errlen)
{
	const struct emu_table *t = p->table;
	bool set[1000] = { false };
	int r;

	for (size_t i = 0; i < p->ncols; i++) {
		const struct emu_pipe_col *pc = &p->cols[i];
		const struct emu_column *col = &t->cols[pc->col];
		bool found = true;
		json_t *v;

		if (pc->by_name)
			v = by_name(row, col->name, &found);
		else
			v = pc->path == NULL ? row : by_path(row, pc->path);
		if (!found)
			continue;	/* the DEFAULT applies, below */
		set[pc->col] = true;
		if ((r = emu_rows_convert(col, v, &vals[pc->col], err, errlen)) < 0)
			return r;
	}
	for (size_t c = 0; c < t->ncols; c++) {
		if (set[c])
			continue;
		if ((r = emu_rows_convert(&t->cols[c], t->cols[c].def, &vals[c], err, errlen)) < 0)
			return r;
	}
	return 0;
}

bool
emu_rows_next_line(const char *buf, size_t len, size_t *pos, const char **ret_line,
    size_t *ret_len)
{
	while (*pos < len) {
		const char *s = buf + *pos, *nl = memchr(s, '\n', len - *pos);
		size_t n = nl ? (size_t)(nl - s) : len - *pos;
		size_t k;

		*pos += n + (nl ? 1 : 0);
		if (n > 0 && s[n - 1] == '\r')
			n--;
		for (k = 0; k < n; k++)
			if (s[k] != ' ' && s[k] != '\t')
				break;
		if (k == n)
			continue;
		*ret_line = s;
		*ret_len = n;
		return true;
	}
	return false;
}

/* ------------------------------------------------ syntax-only validator */

#define VMAX_DEPTH 256

static const char *
skip_ws(const char *p, const char *e)
{
	while (p < e && (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n'))
		p++;
	return p;
}

static const char *
v_string(const char *p, const char *e)
{
	p++;	/* opening quote */
	while (p < e) {
		unsigned char c = (unsigned char)*p;

		if (c == '"')
			return p + 1;
		if (c < 0x20)
			return NULL;
		if (c == '\\') {
			if (++p >= e)
				return NULL;
			if (*p == 'u') {
				if (e - p < 5)
					return NULL;
				for (int i = 1; i <= 4; i++)
					if (!isxdigit((unsigned char)p[i]))
						return NULL;
				p += 5;
			} else if (strchr("\"\\/bfnrt", *p) != NULL && *p != '\0') {
				p++;
			} else {
				return NULL;
			}
		} else if (c < 0x80) {
			p++;
		} else {
			int n = (c & 0xE0) == 0xC0 ? 1 : (c & 0xF0) == 0xE0 ? 2 :
			    (c & 0xF8) == 0xF0 ? 3 : -1;

			if (n < 0 || c == 0xC0 || c == 0xC1 || c > 0xF4 || e - p <= n)
				return NULL;
			for (int i = 1; i <= n; i++)
				if (((unsigned char)p[i] & 0xC0) != 0x80)
					return NULL;
			p += n + 1;
		}
	}
	return NULL;
}

static const char *
v_number(const char *p, const char *e)
{
	if (p < e && *p == '-')
		p++;
	if (p >= e)
		return NULL;
	if (*p == '0')
		p++;
	else if (*p >= '1' && *p <= '9')
		while (p < e && isdigit((unsigned char)*p))
			p++;
	else
		return NULL;
	if (p < e && *p == '.') {
		p++;
		if (p >= e || !isdigit((unsigned char)*p))
			return NULL;
		while (p < e && isdigit((unsigned char)*p))
			p++;
	}
	if (p < e && (*p == 'e' || *p == 'E')) {
		p++;
		if (p < e && (*p == '+' || *p == '-'))
			p++;
		if (p >= e || !isdigit((unsigned char)*p))
			return NULL;
		while (p < e && isdigit((unsigned char)*p))
			p++;
	}
	return p;
}

static const char *
v_literal(const char *p, const char *e)
{
	static const char *const lits[] = { "true", "false", "null" };

	for (size_t i = 0; i < 3; i++) {
		size_t n = strlen(lits[i]);

		if ((size_t)(e - p) >= n && memcmp(p, lits[i], n) == 0)
			return p + n;
	}
	return NULL;
}

bool
emu_rows_valid_object(const char *s, size_t n)
{
	const char *p = s, *e = s + n;
	char stack[VMAX_DEPTH];
	int depth = 0;

	p = skip_ws(p, e);
	if (p >= e || *p != '{')
		return false;
	/* Each turn: p is at the start of a value (or a closing bracket). */
	for (;;) {
		p = skip_ws(p, e);
		if (p >= e)
			return false;
		if (*p == '{' || *p == '[') {
			if (depth == VMAX_DEPTH)
				return false;
			stack[depth++] = *p == '{' ? '}' : ']';
			p = skip_ws(p + 1, e);
			if (p < e && *p == stack[depth - 1])
				goto close;
			if (stack[depth - 1] == '}')
				goto key;
			continue;
		}
		if (*p == '"')
			p = v_string(p, e);
		else if (*p == '-' || isdigit((unsigned char)*p))
			p = v_number(p, e);
		else
			p = v_literal(p, e);
		if (p == NULL)
			return false;
		/* after a value: ',' or the closing bracket */
		for (;;) {
			p = skip_ws(p, e);
			if (p >= e || depth == 0)
				return false;
			if (*p == ',') {
				p = skip_ws(p + 1, e);
				if (stack[depth - 1] == '}')
					goto key;
				break;
			}
			if (*p != stack[depth - 1])
				return false;
close:
			p++;
			if (--depth == 0)
				return skip_ws(p, e) == e;
		}
		continue;
key:
		if (p >= e || *p != '"' || (p = v_string(p, e)) == NULL)
			return false;
		p = skip_ws(p, e);
		if (p >= e || *p != ':')
			return false;
		p++;
	}
}
