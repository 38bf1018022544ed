/* SPDX-License-Identifier: Apache-2.0 */
/*
 * row: record -> NDJSON row. Written by hand into a caller buffer (no JSON
 * library) because it runs once per record during a backlog drain and must
 * stay cheap: the column table and the extra keys are resolved against the
 * record's field table once, numbers and times are written without printf
 * where the result is the same. Every string that came from outside (device,
 * faults, host) goes through the escaper. A value the record does not carry
 * is written as null, never as 0 or a sentinel. docs/schema.md shows the
 * columns as generated from the table below (tests/unit/streamerd/test_row.c
 * fails when the two differ).
 */
#include <assert.h>
#include <errno.h>
#include <ifaddrs.h>
#include <inttypes.h>
#include <math.h>
#include <net/if.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <netpacket/packet.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/sha.h>

#include "row.h"

/* A bounded writer: once it overflows it stays overflowed and writes nothing. */
struct sb {
	char *p;
	size_t len, cap;
	bool over;
};

/* Copies n bytes: a row is some two hundred pieces of 1 to 20 bytes, and a
 * call to memcpy for each was a sixth of a row's formatting. Two copies of
 * a fixed size that overlap in the middle cover every n of a range and
 * read nothing outside s. */
static inline void
copy_small(char *d, const char *s, size_t n)
{
	if (n >= 8 && n <= 16) {
		memcpy(d, s, 8);
		memcpy(d + n - 8, s + n - 8, 8);
	} else if (n >= 4 && n < 8) {
		memcpy(d, s, 4);
		memcpy(d + n - 4, s + n - 4, 4);
	} else if (n > 0 && n < 4) {
		d[0] = s[0];
		d[n / 2] = s[n / 2];
		d[n - 1] = s[n - 1];
	} else if (n > 16) {
		memcpy(d, s, n);
	}
}

/* Keeps one byte free for the NUL row_format puts at the end. */
static inline void
sb_add(struct sb *b, const char *s, size_t n)
{
	if (b->over || n >= b->cap - b->len) {
		b->over = true;
		return;
	}
	copy_small(b->p + b->len, s, n);
	b->len += n;
}

static void __attribute__((format(printf, 2, 3)))
sb_fmt(struct sb *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (b->over)
		return;
	va_start(ap, fmt);
	n = vsnprintf(b->p + b->len, b->cap - b->len, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= b->cap - b->len) {
		b->over = true;
		return;
	}
	b->len += (size_t)n;
}

/* JSON string with RFC 8259 escaping of quote, backslash and controls;
 * bytes >= 0x80 pass through as UTF-8. */
static void
sb_jstr(struct sb *b, const char *s)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *u = (const unsigned char *)s;
	size_t run = 0, i;

	sb_add(b, "\"", 1);
	for (i = 0; u[i] != '\0'; i++) {
		unsigned char c = u[i];
		char esc[7];

		if (c >= 0x20 && c != '"' && c != '\\') {
			run++;
			continue;
		}
		sb_add(b, s + i - run, run);
		run = 0;
		if (c == '"' || c == '\\') {
			esc[0] = '\\';
			esc[1] = (char)c;
			sb_add(b, esc, 2);
		} else {
			memcpy(esc, "\\u00", 4);
			esc[4] = hex[c >> 4];
			esc[5] = hex[c & 15];
			sb_add(b, esc, 6);
		}
	}
	sb_add(b, s + i - run, run);
	sb_add(b, "\"", 1);
}

/* A string this file made of hex digits, decimal digits and '-' (uuid,
 * offset token, journal id): nothing in it needs escaping. */
static void
sb_plain(struct sb *b, const char *s, size_t n)
{
	sb_add(b, "\"", 1);
	sb_add(b, s, n);
	sb_add(b, "\"", 1);
}

/* A string value; "" is null, as for host facts nobody could learn. */
static void
sb_strval(struct sb *b, const char *v)
{
	if (v[0] == '\0')
		sb_add(b, "null", 4);
	else
		sb_jstr(b, v);
}

/* "00" .. "99": digits are written two at a time. */
static const char digit_pairs[201] =
    "00010203040506070809101112131415161718192021222324252627282930313233343536373839"
    "40414243444546474849505152535455565758596061626364656667686970717273747576777879"
    "8081828384858687888990919293949596979899";

/* Integers by hand: snprintf was a third of a row's cost. Two digits at a
 * time, and eight at a time in 32 bits: a row has a dozen times in
 * nanoseconds, nineteen digits each, and a chain of one 64-bit division
 * per digit was most of their cost. */
static void
sb_u64(struct sb *b, uint64_t v)
{
	char d[20], *p = d + sizeof(d);
	uint32_t w;

	while (v >= 100000000) {
		w = (uint32_t)(v % 100000000);
		v /= 100000000;
		for (int k = 0; k < 4; k++, w /= 100) {
			p -= 2;
			memcpy(p, digit_pairs + 2 * (w % 100), 2);
		}
	}
	for (w = (uint32_t)v; w >= 100; w /= 100) {
		p -= 2;
		memcpy(p, digit_pairs + 2 * (w % 100), 2);
	}
	if (w >= 10) {
		p -= 2;
		memcpy(p, digit_pairs + 2 * w, 2);
	} else {
		*--p = (char)('0' + w);
	}
	sb_add(b, p, (size_t)(d + sizeof(d) - p));
}

static void
sb_i64(struct sb *b, int64_t v)
{
	if (v < 0)
		sb_add(b, "-", 1);
	sb_u64(b, v < 0 ? -(uint64_t)v : (uint64_t)v);
}

/* n digits of v, zero-padded (times: "07/04/2026"). */
static void
sb_pad(struct sb *b, unsigned v, int n)
{
	char d[10];

	for (int i = n - 1; i >= 0; i--, v /= 10)
		d[i] = (char)('0' + v % 10);
	sb_add(b, d, (size_t)n);
}

/* Powers of ten up to 1e22, each exact in a double. */
static const double pow10_exact[] = {
	1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14,
	1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
};

/* 1e-4 .. 1e8, for the decimal exponent of a value */
static const double pow10_rough[] = {
	1e-4, 1e-3, 1e-2, 1e-1, 1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8,
};

/* Two digits at a time from a table, in two halves of five that do not
 * wait for each other: a chain of ten divisions by 10, each waiting for the
 * last, was half of sb_g10_fast's time. */
static inline void
five_digits(char *t, uint32_t v)
{
	t[4] = (char)('0' + v % 10);
	v /= 10;
	memcpy(t + 2, digit_pairs + 2 * (v % 100), 2);
	memcpy(t, digit_pairs + 2 * (v / 100), 2);
}

/* v < 10^10 as exactly ten digits, zero-padded. */
static inline void
ten_digits(char t[10], uint64_t v)
{
	five_digits(t, (uint32_t)(v / 100000));
	five_digits(t + 5, (uint32_t)(v % 100000));
}

/* "%.10g" of v without printf (printf's exact decimal conversion was a
 * third of a row's cost). a * 10^(9 - e) is computed with one rounding, so
 * rounding it to an integer gives printf's ten digits unless it lies within
 * a few ulps of a half; such values, and those %g would write in
 * e-notation, return false for printf to do. */
static bool
sb_g10_fast(struct sb *b, double v)
{
	double a = fabs(v), p, m, frac;
	char t[10], d[24], *o = d;
	uint64_t digits;
	int e, last;

	if (a == 0.0) {
		sb_add(b, signbit(v) ? "-0" : "0", signbit(v) ? 2 : 1);
		return true;
	}
	if (!(a >= 1e-4 && a < 1e9))
		return false;
	for (e = 8; e > -4 && a < pow10_rough[e + 4]; e--)
		;	/* a wrong exponent is caught below */
	p = a * pow10_exact[9 - e];
	m = floor(p);
	frac = p - m;
	if (fabs(frac - 0.5) < 1e-5)
		return false;	/* too near a half to be sure of the rounding */
	digits = (uint64_t)m + (frac > 0.5);
	if (digits < 1000000000u || digits >= 10000000000u)
		return false;	/* log10 was off by one, or the rounding carried */
	ten_digits(t, digits);
	for (last = 9; last > e && last > 0 && t[last] == '0'; last--)
		;		/* %g drops the fraction's trailing zeros */
	if (v < 0)
		*o++ = '-';
	if (e < 0) {
		*o++ = '0';
		*o++ = '.';
		for (int i = -1; i > e; i--)
			*o++ = '0';
		memcpy(o, t, (size_t)last + 1);
		o += last + 1;
	} else {
		memcpy(o, t, (size_t)e + 1);
		o += e + 1;
		if (last > e) {
			*o++ = '.';
			memcpy(o, t + e + 1, (size_t)(last - e));
			o += last - e;
		}
	}
	sb_add(b, d, (size_t)(o - d));
	return true;
}

/* A finite double as JSON (%.10g, the row's precision since the prototype);
 * NaN and infinities are null. */
static void
sb_dbl(struct sb *b, double v)
{
	if (!isfinite(v))
		sb_add(b, "null", 4);
	else if (!sb_g10_fast(b, v))
		sb_fmt(b, "%.10g", v);
}

void
row_offset_token(uint64_t journal_id, uint64_t seq, char buf[ROW_OFFSET_TOKEN_LEN])
{
	static const char hex[] = "0123456789abcdef";

	/* "%016" PRIx64 "-%020" PRIu64 by hand: it is written for every row */
	for (int i = 15; i >= 0; i--, journal_id >>= 4)
		buf[i] = hex[journal_id & 15];
	buf[16] = '-';
	for (int i = ROW_OFFSET_TOKEN_LEN - 2; i > 16; i--, seq /= 10)
		buf[i] = (char)('0' + seq % 10);
	buf[ROW_OFFSET_TOKEN_LEN - 1] = '\0';
}

int
row_parse_offset_token(const char *tok, uint64_t *ret_journal_id, uint64_t *ret_seq)
{
	uint64_t jid = 0, seq = 0;

	if (tok == NULL || strlen(tok) != ROW_OFFSET_TOKEN_LEN - 1 || tok[16] != '-')
		return -EINVAL;
	for (int i = 0; i < 16; i++) {
		char c = tok[i];
		unsigned v;

		if (c >= '0' && c <= '9')
			v = (unsigned)(c - '0');
		else if (c >= 'a' && c <= 'f')
			v = (unsigned)(c - 'a' + 10);
		else
			return -EINVAL;
		jid = jid << 4 | v;
	}
	for (int i = 17; i < ROW_OFFSET_TOKEN_LEN - 1; i++) {
		unsigned d;

		if (tok[i] < '0' || tok[i] > '9')
			return -EINVAL;
		d = (unsigned)(tok[i] - '0');
		if (seq > (UINT64_MAX - d) / 10)
			return -EINVAL;
		seq = seq * 10 + d;
	}
	*ret_journal_id = jid;
	*ret_seq = seq;
	return 0;
}

/* SHA-256 of s. The algorithm is fetched and a context made once: OpenSSL
 * 3's one-shot SHA256() does both, under a lock, on every call. Both stay
 * for the life of the process; the one-shot is the fallback. */
static void
row_sha256(const char *s, size_t n, unsigned char h[SHA256_DIGEST_LENGTH])
{
	static EVP_MD *md;
	static EVP_MD_CTX *ctx;
	unsigned int len;

	if (md == NULL && (md = EVP_MD_fetch(NULL, "SHA256", NULL)) != NULL)
		ctx = EVP_MD_CTX_new();
	if (ctx == NULL || EVP_DigestInit_ex2(ctx, md, NULL) != 1 ||
	    EVP_DigestUpdate(ctx, s, n) != 1 || EVP_DigestFinal_ex(ctx, h, &len) != 1)
		SHA256((const unsigned char *)s, n, h);
}

/* A name-based UUID (version 8, RFC 9562 "custom") from SHA-256 of the
 * offset token, so the same record always gets the same uuid. */
static void
row_uuid(const char *token, char out[37])
{
	static const char hex[] = "0123456789abcdef";
	unsigned char h[SHA256_DIGEST_LENGTH];
	char *o = out;

	row_sha256(token, ROW_OFFSET_TOKEN_LEN - 1, h);
	h[6] = (unsigned char)((h[6] & 0x0f) | 0x80);
	h[8] = (unsigned char)((h[8] & 0x3f) | 0x80);
	for (int i = 0; i < 16; i++) {
		if (i == 4 || i == 6 || i == 8 || i == 10)
			*o++ = '-';
		*o++ = hex[h[i] >> 4];
		*o++ = hex[h[i] & 15];
	}
	*o = '\0';
}

/* What one row is made from. The record's time is broken down at most once. */
struct rowctx {
	struct sb b;
	const struct record *r;
	const struct row_host *h;
	int64_t now_ns;
	int64_t t;		/* the row's time: the record's, or corrected */
	char tok[ROW_OFFSET_TOKEN_LEN];
	int tm_state;		/* 0: not yet, 1: tm/secs/ms valid, -1: out of range */
	struct tm tm;
	time_t secs;
	long ms;		/* milliseconds past secs */
};

static bool
row_tm(struct rowctx *c)
{
	int64_t secs = c->t / 1000000000, ns = c->t % 1000000000;

	if (c->tm_state == 0) {
		if (ns < 0) {	/* floor, for times before 1970 (no negation: INT64_MIN) */
			secs--;
			ns += 1000000000;
		}
		c->secs = (time_t)secs;
		c->ms = (long)(ns / 1000000);
		c->tm_state = gmtime_r(&c->secs, &c->tm) != NULL &&
		    c->tm.tm_year >= -1900 && c->tm.tm_year <= 9999 - 1900 ? 1 : -1;
	}
	return c->tm_state > 0;
}

/* One column from its field's value v (NULL for a column not made from the
 * record); called only when the value is present. */
typedef void put_fn(struct rowctx *c, const struct record_field *f, const void *v);

static double
c_to_f(double c)
{
	return c * 9.0 / 5.0 + 32.0;
}

/* A field's value as it is: number, bool, string ("" is null) or list. */
static void
put_value(struct rowctx *c, const struct record_field *f, const void *v)
{
	struct sb *b = &c->b;

	switch (f->type) {
	case RECORD_U32: sb_u64(b, *(const uint32_t *)v); return;
	case RECORD_U64: sb_u64(b, *(const uint64_t *)v); return;
	case RECORD_I64: sb_i64(b, *(const int64_t *)v); return;
	case RECORD_F64: sb_dbl(b, *(const double *)v); return;
	case RECORD_BOOL:
		if (*(const bool *)v)
			sb_add(b, "true", 4);
		else
			sb_add(b, "false", 5);
		return;
	case RECORD_STR: sb_strval(b, v); return;
	case RECORD_STRS:
		sb_add(b, "[", 1);
		for (unsigned i = 0, n = *(const unsigned *)((const char *)c->r + f->count);
		    i < n && i < f->max; i++) {
			if (i > 0)
				sb_add(b, ",", 1);
			sb_jstr(b, (const char *)v + (size_t)i * f->size);
		}
		sb_add(b, "]", 1);
		return;
	case RECORD_MAP:
		break;
	}
	sb_add(b, "null", 4);	/* a block is never one value: see row_setup */
}

static void
put_uuid(struct rowctx *c, const struct record_field *f, const void *v)
{
	char uuid[37];

	(void)f, (void)v;
	row_uuid(c->tok, uuid);
	sb_plain(&c->b, uuid, 36);
}

static void
put_rowid(struct rowctx *c, const struct record_field *f, const void *v)
{
	(void)f, (void)v;
	sb_plain(&c->b, c->tok, ROW_OFFSET_TOKEN_LEN - 1);
}

static void
put_host(struct rowctx *c, const struct record_field *f, const void *v)
{
	(void)f, (void)v;
	sb_strval(&c->b, c->h->host);
}

static void
put_ip(struct rowctx *c, const struct record_field *f, const void *v)
{
	(void)f, (void)v;
	sb_strval(&c->b, c->h->ip);
}

static void
put_mac(struct rowctx *c, const struct record_field *f, const void *v)
{
	(void)f, (void)v;
	sb_strval(&c->b, c->h->mac);
}

static void
put_f(struct rowctx *c, const struct record_field *f, const void *v)
{
	(void)f;
	sb_dbl(&c->b, c_to_f(*(const double *)v));
}

static void
put_f_int(struct rowctx *c, const struct record_field *f, const void *v)
{
	double d = c_to_f(*(const double *)v);

	(void)f;
	/* llround: a long is 32 bits on armhf; beyond 2^63 it has no answer */
	if (isfinite(d) && fabs(d) < 9.2e18)
		sb_i64(&c->b, llround(d));
	else
		sb_add(&c->b, "null", 4);
}

static void
put_mb(struct rowctx *c, const struct record_field *f, const void *v)
{
	(void)f;
	sb_add(&c->b, "\"", 1);
	sb_u64(&c->b, *(const uint64_t *)v);
	sb_add(&c->b, " MB\"", 4);
}

static void
put_secs(struct rowctx *c, const struct record_field *f, const void *v)
{
	(void)f;
	sb_u64(&c->b, *(const uint64_t *)v / 1000000000u);
}

/* The time columns are null together when the record's time has no date. */
static bool
tm_or_null(struct rowctx *c)
{
	if (row_tm(c))
		return true;
	sb_add(&c->b, "null", 4);
	return false;
}

static void
put_ts(struct rowctx *c, const struct record_field *f, const void *v)
{
	(void)f, (void)v;
	if (tm_or_null(c))
		sb_i64(&c->b, (int64_t)c->secs);
}

/* Three zero-padded numbers with sep between them: "11/24/2025", "16:00:00". */
static void
sb_three(struct sb *b, int x, int nx, int y, int z, int nz, char sep)
{
	sb_pad(b, (unsigned)x, nx);
	sb_add(b, &sep, 1);
	sb_pad(b, (unsigned)y, 2);
	sb_add(b, &sep, 1);
	sb_pad(b, (unsigned)z, nz);
}

/* "MM/DD/YYYY HH:MM:SS", UTC */
static void
put_us_time(struct rowctx *c, const struct record_field *f, const void *v)
{
	const struct tm *tm = &c->tm;

	(void)f, (void)v;
	if (!tm_or_null(c))
		return;
	sb_add(&c->b, "\"", 1);
	sb_three(&c->b, tm->tm_mon + 1, 2, tm->tm_mday, tm->tm_year + 1900, 4, '/');
	sb_add(&c->b, " ", 1);
	sb_three(&c->b, tm->tm_hour, 2, tm->tm_min, tm->tm_sec, 2, ':');
	sb_add(&c->b, "\"", 1);
}

static void
put_endtime(struct rowctx *c, const struct record_field *f, const void *v)
{
	(void)f, (void)v;
	if (!tm_or_null(c))
		return;
	sb_add(&c->b, "\"", 1);
	sb_i64(&c->b, (int64_t)c->secs);
	sb_add(&c->b, "\"", 1);
}

/* "YYYY-MM-DDTHH:MM:SS.mmm", UTC */
static void
put_iso(struct rowctx *c, const struct record_field *f, const void *v)
{
	const struct tm *tm = &c->tm;

	(void)f, (void)v;
	if (!tm_or_null(c))
		return;
	sb_add(&c->b, "\"", 1);
	sb_three(&c->b, tm->tm_year + 1900, 4, tm->tm_mon + 1, tm->tm_mday, 2, '-');
	sb_add(&c->b, "T", 1);
	sb_three(&c->b, tm->tm_hour, 2, tm->tm_min, tm->tm_sec, 2, ':');
	sb_add(&c->b, ".", 1);
	sb_pad(&c->b, (unsigned)c->ms, 3);
	sb_add(&c->b, "\"", 1);
}

static void
put_te(struct rowctx *c, const struct record_field *f, const void *v)
{
	int64_t t = c->t;

	/* unsigned: the difference of two int64 may not fit in one */
	uint64_t ns = c->now_ns > t ? (uint64_t)c->now_ns - (uint64_t)t : 0;
	uint64_t q = ns / 100000, r = ns % 100000;

	(void)f, (void)v;
	/* As "%.4f" of ns / 1e9, without printf: below 2^53 ns the double is
	 * within 1 ns of ns / 1e9, so only a remainder near the half could
	 * round otherwise; that, and larger values, go to printf. */
	if (ns >= (UINT64_C(1) << 53) || (r >= 49998 && r <= 50002)) {
		sb_fmt(&c->b, "\"%.4f\"", (double)ns / 1e9);
		return;
	}
	q += r > 50000;
	sb_add(&c->b, "\"", 1);
	sb_u64(&c->b, q / 10000);
	sb_add(&c->b, ".", 1);
	sb_pad(&c->b, (unsigned)(q % 10000), 4);
	sb_add(&c->b, "\"", 1);
}

/*
 * The product's contract with the existing table THERMAL_SENSOR_DATA: its
 * columns in the prototype's order, each made from one record field (src,
 * a path of the field table) by put. A column is null when its field is
 * null, or when the bool field `unless` is true. Every record field that no
 * column carries without loss (carries) follows as an extra key, which the
 * pipe keeps in RAW_DATA: so a new record field reaches the table with no
 * change here.
 */
struct column {
	const char *name;
	const char *src;	/* record field, NULL: made from the row's own facts */
	put_fn *put;
	bool carries;
	const char *unless;
	const char *how;	/* for docs/schema.md */
};

static const struct column columns[] = {
	{ "uuid", NULL, put_uuid, false, NULL,
	  "name-based UUID (version 8) from SHA-256 of rowid: the same on replay" },
	{ "rowid", NULL, put_rowid, false, NULL,
	  "the offset token `<journal_id, 16 hex>-<seq, 20 digits>`" },
	{ "hostname", "device", put_value, false, NULL, "as is" },
	{ "host", NULL, put_host, false, NULL, "streamerd's host name" },
	{ "ipaddress", NULL, put_ip, false, NULL,
	  "first non-loopback IPv4 of streamerd's host" },
	{ "macaddress", NULL, put_mac, false, NULL, "its MAC address" },
	{ "temperature", "scd4x.t", put_value, true, NULL, "°C, as is" },
	{ "humidity", "scd4x.rh", put_value, true, NULL, "%RH, as is" },
	{ "co2", "scd4x.co2", put_value, true, NULL, "ppm, as is" },
	{ "equivalentco2ppm", "sgp30.eco2", put_value, true, "sgp30.warmup",
	  "ppm; null during warm-up" },
	{ "totalvocppb", "sgp30.tvoc", put_value, true, "sgp30.warmup",
	  "ppb; null during warm-up" },
	{ "pressure", "icp10125.p", put_value, true, NULL, "Pa, as is" },
	{ "cputempf", "sys.cpu_t", put_f_int, false, NULL, "°F, rounded to an integer" },
	{ "temperatureicp", "icp10125.t", put_f, true, NULL, "°F" },
	{ "cpu", "sys.cpu", put_value, true, NULL, "%, as is" },
	{ "memory", "sys.mem", put_value, true, NULL, "%, as is" },
	{ "diskusage", "sys.disk_free_mb", put_mb, true, NULL, "string `\"N MB\"` (free)" },
	{ "runtime", "boot_ns", put_secs, false, NULL, "whole seconds since boot" },
	{ "ts", "t", put_ts, false, NULL, "Unix seconds" },
	{ "systemtime", "t", put_us_time, false, NULL, "`MM/DD/YYYY HH:MM:SS`, UTC" },
	{ "starttime", "t", put_us_time, false, NULL, "same as systemtime" },
	{ "endtime", "t", put_endtime, false, NULL, "Unix seconds as a string" },
	{ "datetimestamp", "t", put_iso, false, NULL, "`YYYY-MM-DDTHH:MM:SS.mmm`, UTC" },
	{ "te", "t", put_te, false, NULL,
	  "seconds from t to when the row was batched, string with 4 decimals" },
};

#define NCOLUMNS (sizeof(columns) / sizeof(columns[0]))
#define ROW_MAX_EXTRAS 64	/* extra keys; row_setup asserts the table fits */
#define ROW_KEY_LEN 48		/* ,"key": */

/* A column or extra key resolved against the field table, with its key
 * already written out as JSON. */
struct slot {
	const struct record_field *blk, *f;	/* f NULL: not from the record */
	const struct record_field *ublk, *uf;	/* the column's `unless`, or NULL */
	put_fn *put;
	char key[ROW_KEY_LEN];
	size_t klen;
};

static struct {
	bool ready;
	struct slot cols[NCOLUMNS];
	struct slot extras[ROW_MAX_EXTRAS];
	size_t nextras;
} plan;

static void
slot_key(struct slot *s, const char *name, bool first)
{
	int n = snprintf(s->key, sizeof(s->key), "%s\"%s\":", first ? "" : ",", name);

	assert(n > 0 && (size_t)n < sizeof(s->key));
	s->klen = (size_t)n;
}

static bool
carried(const struct record_field *f)
{
	for (size_t i = 0; i < NCOLUMNS; i++)
		if (plan.cols[i].f == f && columns[i].carries)
			return true;
	return false;
}

static void
add_extra(const struct record_field *blk, const struct record_field *f)
{
	struct slot *s = &plan.extras[plan.nextras++];
	char name[ROW_KEY_LEN];
	int n = record_flat_name(blk, f, name, sizeof(name));

	assert(plan.nextras <= ROW_MAX_EXTRAS && n > 0);
	s->blk = blk;
	s->f = f;
	s->put = put_value;
	slot_key(s, name, false);
}

/* Resolves the columns against the field table and lists the extra keys,
 * once. A column naming no field is our own bug: assert. */
static void
row_setup(void)
{
	const struct record_field *root = &record_root;

	for (size_t i = 0; i < NCOLUMNS; i++) {
		struct slot *s = &plan.cols[i];

		if (columns[i].src) {
			s->f = record_find(columns[i].src, &s->blk);
			assert(s->f != NULL);
		}
		if (columns[i].unless) {
			s->uf = record_find(columns[i].unless, &s->ublk);
			assert(s->uf != NULL && s->uf->type == RECORD_BOOL);
		}
		s->put = columns[i].put;
		slot_key(s, columns[i].name, i == 0);
	}
	for (size_t i = 0; i < root->nfields; i++) {
		const struct record_field *f = &root->fields[i];

		if (f->type != RECORD_MAP) {
			if (!carried(f))
				add_extra(NULL, f);
			continue;
		}
		for (size_t j = 0; j < f->nfields; j++) {
			assert(f->fields[j].type != RECORD_MAP);	/* one level of blocks */
			if (!carried(&f->fields[j]))
				add_extra(f, &f->fields[j]);
		}
	}
	plan.ready = true;
}

static void
put_slot(struct rowctx *c, const struct slot *s)
{
	const struct record *r = c->r;

	sb_add(&c->b, s->key, s->klen);
	if (s->f != NULL && (!record_present(r, s->blk, s->f) || (s->uf != NULL &&
	    record_present(r, s->ublk, s->uf) && *(const bool *)record_value(r, s->uf)))) {
		sb_add(&c->b, "null", 4);
		return;
	}
	s->put(c, s->f, s->f ? record_value(r, s->f) : NULL);
}

int
row_format(const struct record *r, uint64_t journal_id, const struct row_host *h,
    int64_t now_ns, char *buf, size_t cap, size_t *ret_len)
{
	return row_format_at(r, journal_id, h, now_ns, r->t, false, buf, cap, ret_len);
}

int
row_format_at(const struct record *r, uint64_t journal_id, const struct row_host *h,
    int64_t now_ns, int64_t t, bool corrected, char *buf, size_t cap, size_t *ret_len)
{
	struct rowctx c = { .b = { .p = buf, .cap = cap }, .r = r, .h = h, .now_ns = now_ns,
	    .t = t };

	if (cap == 0)
		return -ENOSPC;
	if (!plan.ready)
		row_setup();
	row_offset_token(journal_id, r->seq, c.tok);
	sb_add(&c.b, "{", 1);
	for (size_t i = 0; i < NCOLUMNS; i++)
		put_slot(&c, &plan.cols[i]);
	for (size_t i = 0; i < plan.nextras; i++)
		put_slot(&c, &plan.extras[i]);
	sb_add(&c.b, ",\"journal_id\":", 14);
	sb_plain(&c.b, c.tok, 16);	/* the token's first part */
	if (corrected)
		sb_add(&c.b, ",\"time_corrected\":true", 22);
	sb_add(&c.b, "}\n", 2);
	buf[c.b.over ? 0 : c.b.len] = '\0';
	if (c.b.over)
		return -ENOSPC;
	*ret_len = c.b.len;
	return 0;
}

void
row_host_probe(struct row_host *h)
{
	struct ifaddrs *ifa = NULL;
	char ifname[IF_NAMESIZE + 1] = "";

	memset(h, 0, sizeof(*h));
	if (gethostname(h->host, sizeof(h->host) - 1) < 0)
		h->host[0] = '\0';
	if (getifaddrs(&ifa) < 0)
		return;
	for (struct ifaddrs *i = ifa; i != NULL; i = i->ifa_next) {
		if (i->ifa_addr == NULL || i->ifa_addr->sa_family != AF_INET ||
		    (i->ifa_flags & IFF_LOOPBACK) || !(i->ifa_flags & IFF_UP))
			continue;
		inet_ntop(AF_INET, &((struct sockaddr_in *)(void *)i->ifa_addr)->sin_addr,
		    h->ip, sizeof(h->ip));
		snprintf(ifname, sizeof(ifname), "%s", i->ifa_name);
		break;
	}
	for (struct ifaddrs *i = ifa; ifname[0] != '\0' && i != NULL; i = i->ifa_next) {
		const struct sockaddr_ll *ll;

		if (i->ifa_addr == NULL || i->ifa_addr->sa_family != AF_PACKET ||
		    strcmp(i->ifa_name, ifname) != 0)
			continue;
		ll = (const struct sockaddr_ll *)(const void *)i->ifa_addr;
		if (ll->sll_halen == 6)
			snprintf(h->mac, sizeof(h->mac), "%02x:%02x:%02x:%02x:%02x:%02x",
			    ll->sll_addr[0], ll->sll_addr[1], ll->sll_addr[2],
			    ll->sll_addr[3], ll->sll_addr[4], ll->sll_addr[5]);
		break;
	}
	freeifaddrs(ifa);
}
