/* SPDX-License-Identifier: Apache-2.0 */
/*
 * mpack: big-endian field readers plus one recursive skipper. Every length
 * is compared with what remains before the cursor moves.
 */
#include <errno.h>
#include <math.h>
#include <string.h>

#include "mpack.h"

static size_t
left(const struct mpack *m)
{
	return (size_t)(m->end - m->p);
}

static uint64_t
be(const uint8_t *p, int n)
{
	uint64_t v = 0;

	for (int i = 0; i < n; i++)
		v = v << 8 | p[i];
	return v;
}

/* Consumes the type byte plus an n-byte big-endian field. */
static int
take(struct mpack *m, int n, uint64_t *ret)
{
	if (left(m) < (size_t)n + 1)
		return -EBADMSG;
	*ret = be(m->p + 1, n);
	m->p += n + 1;
	return 0;
}

enum mpack_kind
mpack_peek(const struct mpack *m)
{
	uint8_t b;

	if (left(m) == 0)
		return MPACK_INVALID;
	b = m->p[0];
	if (b <= 0x7f || b == 0xcc || b == 0xcd || b == 0xce || b == 0xcf)
		return MPACK_UINT;
	if (b >= 0xe0 || (b >= 0xd0 && b <= 0xd3))
		return MPACK_INT;
	if ((b & 0xf0) == 0x80 || b == 0xde || b == 0xdf)
		return MPACK_MAP;
	if ((b & 0xf0) == 0x90 || b == 0xdc || b == 0xdd)
		return MPACK_ARRAY;
	if ((b & 0xe0) == 0xa0 || (b >= 0xd9 && b <= 0xdb))
		return MPACK_STR;
	switch (b) {
	case 0xc0: return MPACK_NIL;
	case 0xc2: case 0xc3: return MPACK_BOOL;
	case 0xca: case 0xcb: return MPACK_FLOAT;
	case 0xc4: case 0xc5: case 0xc6: return MPACK_BIN;
	case 0xc7: case 0xc8: case 0xc9: case 0xd4: case 0xd5: case 0xd6: case 0xd7: case 0xd8:
		return MPACK_EXT;
	}
	return MPACK_INVALID;
}

/* Reads a container header: fix form in mask, or 16/32-bit forms. */
static int
read_container(struct mpack *m, uint8_t fixmask, uint8_t b16, uint32_t *ret_n)
{
	uint64_t n;
	uint8_t b;

	if (left(m) < 1)
		return -EBADMSG;
	b = m->p[0];
	if ((b & 0xf0) == fixmask) {
		n = b & 0x0f;
		m->p++;
	} else if (b == b16) {
		if (take(m, 2, &n) < 0)
			return -EBADMSG;
	} else if (b == b16 + 1) {
		if (take(m, 4, &n) < 0)
			return -EBADMSG;
	} else {
		return -EBADMSG;
	}
	/* every element needs at least one byte: no count may exceed what is left */
	if (n > left(m))
		return -EBADMSG;
	*ret_n = (uint32_t)n;
	return 0;
}

int
mpack_read_map(struct mpack *m, uint32_t *ret_n)
{
	uint32_t n;

	if (read_container(m, 0x80, 0xde, &n) < 0 || (uint64_t)n * 2 > left(m))
		return -EBADMSG;
	*ret_n = n;
	return 0;
}

int
mpack_read_array(struct mpack *m, uint32_t *ret_n)
{
	return read_container(m, 0x90, 0xdc, ret_n);
}

int
mpack_read_str(struct mpack *m, const char **ret_s, uint32_t *ret_len)
{
	uint64_t n;
	uint8_t b;

	if (left(m) < 1)
		return -EBADMSG;
	b = m->p[0];
	if ((b & 0xe0) == 0xa0) {
		n = b & 0x1f;
		m->p++;
	} else if (b == 0xd9 || b == 0xda || b == 0xdb) {
		if (take(m, b == 0xd9 ? 1 : b == 0xda ? 2 : 4, &n) < 0)
			return -EBADMSG;
	} else {
		return -EBADMSG;
	}
	if (n > left(m))
		return -EBADMSG;
	*ret_s = (const char *)m->p;
	*ret_len = (uint32_t)n;
	m->p += n;
	return 0;
}

int
mpack_read_cstr(struct mpack *m, char *buf, size_t cap)
{
	const char *s;
	uint32_t n;

	if (mpack_read_str(m, &s, &n) < 0 || n >= cap || memchr(s, '\0', n))
		return -EBADMSG;
	memcpy(buf, s, n);
	buf[n] = '\0';
	return 0;
}

/* Reads any integer as a sign flag and magnitude-free 64-bit pair. */
static int
read_int(struct mpack *m, bool *ret_neg, uint64_t *ret_u, int64_t *ret_i)
{
	uint64_t v;
	uint8_t b;

	if (left(m) < 1)
		return -EBADMSG;
	b = m->p[0];
	if (b <= 0x7f) {
		m->p++;
		*ret_neg = false, *ret_u = b;
		return 0;
	}
	if (b >= 0xe0) {
		m->p++;
		*ret_neg = true, *ret_i = (int8_t)b;
		return 0;
	}
	switch (b) {
	case 0xcc: case 0xcd: case 0xce: case 0xcf:
		if (take(m, 1 << (b - 0xcc), &v) < 0)
			return -EBADMSG;
		*ret_neg = false, *ret_u = v;
		return 0;
	case 0xd0: case 0xd1: case 0xd2: case 0xd3: {
		int n = 1 << (b - 0xd0);
		if (take(m, n, &v) < 0)
			return -EBADMSG;
		/* sign-extend from n bytes */
		if (n < 8 && (v & (1ULL << (n * 8 - 1))))
			v |= ~0ULL << (n * 8);
		if ((int64_t)v >= 0) {
			*ret_neg = false, *ret_u = v;
		} else {
			*ret_neg = true, *ret_i = (int64_t)v;
		}
		return 0;
	}
	}
	return -EBADMSG;
}

int
mpack_read_u64(struct mpack *m, uint64_t *ret)
{
	bool neg;
	uint64_t u;
	int64_t i;

	if (read_int(m, &neg, &u, &i) < 0 || neg)
		return -EBADMSG;
	*ret = u;
	return 0;
}

int
mpack_read_i64(struct mpack *m, int64_t *ret)
{
	bool neg;
	uint64_t u = 0;
	int64_t i = 0;

	if (read_int(m, &neg, &u, &i) < 0)
		return -EBADMSG;
	if (!neg && u > INT64_MAX)
		return -EBADMSG;
	*ret = neg ? i : (int64_t)u;
	return 0;
}

int
mpack_read_double(struct mpack *m, double *ret)
{
	uint64_t v;
	double d;

	if (left(m) < 1)
		return -EBADMSG;
	if (m->p[0] == 0xca) {
		uint32_t w;
		float f;
		if (take(m, 4, &v) < 0)
			return -EBADMSG;
		w = (uint32_t)v;
		memcpy(&f, &w, sizeof(f));
		d = f;
	} else if (m->p[0] == 0xcb) {
		if (take(m, 8, &v) < 0)
			return -EBADMSG;
		memcpy(&d, &v, sizeof(d));
	} else {
		int64_t i;
		if (mpack_read_i64(m, &i) < 0)
			return -EBADMSG;
		d = (double)i;
	}
	if (!isfinite(d))
		return -EBADMSG;
	*ret = d;
	return 0;
}

int
mpack_read_bool(struct mpack *m, bool *ret)
{
	if (left(m) < 1 || (m->p[0] != 0xc2 && m->p[0] != 0xc3))
		return -EBADMSG;
	*ret = m->p[0] == 0xc3;
	m->p++;
	return 0;
}

bool
mpack_read_nil(struct mpack *m)
{
	if (left(m) < 1 || m->p[0] != 0xc0)
		return false;
	m->p++;
	return true;
}

/* Skips a bin or ext body whose length field is n bytes after the type. */
static int
skip_sized(struct mpack *m, int n, int extra)
{
	uint64_t len;

	if (take(m, n, &len) < 0 || len + (uint64_t)extra > left(m))
		return -EBADMSG;
	m->p += len + (uint64_t)extra;
	return 0;
}

int
mpack_skip(struct mpack *m, int depth)
{
	uint32_t n;
	uint8_t b;
	const char *s;
	int64_t i;
	bool bo;

	if (depth <= 0)
		return -EBADMSG;
	switch (mpack_peek(m)) {
	case MPACK_NIL: m->p++; return 0;
	case MPACK_BOOL: return mpack_read_bool(m, &bo);
	case MPACK_UINT: case MPACK_INT: {
		bool neg;
		uint64_t u;
		return read_int(m, &neg, &u, &i);
	}
	case MPACK_FLOAT:
		/* NaN is fine to skip; only values we keep must be finite */
		return skip_sized(m, 0, m->p[0] == 0xca ? 4 : 8);
	case MPACK_STR: return mpack_read_str(m, &s, &n);
	case MPACK_BIN:
		b = m->p[0];
		return skip_sized(m, b == 0xc4 ? 1 : b == 0xc5 ? 2 : 4, 0);
	case MPACK_EXT:
		b = m->p[0];
		if (b >= 0xd4)	/* fixext 1, 2, 4, 8, 16 plus the type byte */
			return skip_sized(m, 0, 1 + (1 << (b - 0xd4)));
		return skip_sized(m, b == 0xc7 ? 1 : b == 0xc8 ? 2 : 4, 1);
	case MPACK_ARRAY:
		if (mpack_read_array(m, &n) < 0)
			return -EBADMSG;
		while (n--)
			if (mpack_skip(m, depth - 1) < 0)
				return -EBADMSG;
		return 0;
	case MPACK_MAP:
		if (mpack_read_map(m, &n) < 0)
			return -EBADMSG;
		while (n--)
			if (mpack_skip(m, depth - 1) < 0 || mpack_skip(m, depth - 1) < 0)
				return -EBADMSG;
		return 0;
	case MPACK_INVALID:
		break;
	}
	return -EBADMSG;
}
