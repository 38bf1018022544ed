/* SPDX-License-Identifier: Apache-2.0 */
/*
 * emu_codec: gzip through zlib (several concatenated members allowed, as
 * gzip(1) allows) and zstd through its streaming API (several frames
 * allowed). Output grows geometrically up to the cap.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <zlib.h>
#include <zstd.h>

#include "emu_codec.h"

struct obuf {
	char *p;
	size_t len, cap, max;
};

static int
ob_room(struct obuf *o, size_t want)
{
	size_t cap;
	char *np;

	if (o->cap - o->len >= want + 1)
		return 0;
	if (o->len >= o->max)
		return -EFBIG;
	cap = o->cap ? o->cap * 2 : 65536;
	while (cap < o->len + want + 1)
		cap *= 2;
	if (cap > o->max + 1)
		cap = o->max + 1;
	np = realloc(o->p, cap);
	if (np == NULL)
		return -ENOMEM;
	o->p = np;
	o->cap = cap;
	return 0;
}

static int
gunzip(const char *in, size_t len, struct obuf *o)
{
	z_stream z = { 0 };
	int zr = Z_OK, r = 0;

	if (inflateInit2(&z, 15 + 16) != Z_OK)
		return -ENOMEM;
	z.next_in = (Bytef *)(uintptr_t)in;
	z.avail_in = (uInt)len;
	if (len > 0xffffffffu) {
		r = -EFBIG;
		goto out;
	}
	for (;;) {
		if ((r = ob_room(o, 65536)) < 0)
			goto out;
		z.next_out = (Bytef *)o->p + o->len;
		z.avail_out = (uInt)(o->cap - o->len - 1);
		zr = inflate(&z, Z_NO_FLUSH);
		o->len = (size_t)((char *)z.next_out - o->p);
		if (o->len > o->max) {
			r = -EFBIG;
			goto out;
		}
		if (zr == Z_STREAM_END) {
			if (z.avail_in == 0)
				break;
			if (inflateReset(&z) != Z_OK) {
				r = -EINVAL;
				goto out;
			}
			continue;
		}
		if (zr == Z_BUF_ERROR && z.avail_in == 0) {
			r = -EINVAL;	/* truncated */
			goto out;
		}
		if (zr != Z_OK && zr != Z_BUF_ERROR) {
			r = zr == Z_MEM_ERROR ? -ENOMEM : -EINVAL;
			goto out;
		}
	}
out:
	inflateEnd(&z);
	return r;
}

static int
unzstd(const char *in, size_t len, struct obuf *o)
{
	ZSTD_DStream *ds = ZSTD_createDStream();
	ZSTD_inBuffer ib = { in, len, 0 };
	unsigned long long fsz = ZSTD_getFrameContentSize(in, len);
	size_t zr = 1;
	int r = 0;

	if (ds == NULL)
		return -ENOMEM;
	if (fsz != ZSTD_CONTENTSIZE_UNKNOWN && fsz != ZSTD_CONTENTSIZE_ERROR &&
	    fsz <= o->max && (r = ob_room(o, (size_t)fsz)) < 0)
		goto out;
	ZSTD_initDStream(ds);
	while (ib.pos < ib.size || zr != 0) {
		ZSTD_outBuffer ob;

		if ((r = ob_room(o, 65536)) < 0)
			goto out;
		ob.dst = o->p + o->len;
		ob.size = o->cap - o->len - 1;
		ob.pos = 0;
		zr = ZSTD_decompressStream(ds, &ob, &ib);
		if (ZSTD_isError(zr)) {
			r = -EINVAL;
			goto out;
		}
		o->len += ob.pos;
		if (o->len > o->max) {
			r = -EFBIG;
			goto out;
		}
		if (ib.pos == ib.size && zr != 0 && ob.pos < ob.size) {
			r = -EINVAL;	/* truncated frame */
			goto out;
		}
	}
out:
	ZSTD_freeDStream(ds);
	return r;
}

int
emu_decompress(const char *encoding, const char *in, size_t len, size_t cap, char **ret,
    size_t *ret_len)
{
	struct obuf o = { .max = cap };
	int r;

	if (encoding == NULL || *encoding == '\0' || strcasecmp(encoding, "identity") == 0) {
		if (len > cap)
			return -EFBIG;
		if ((r = ob_room(&o, len)) < 0)
			return r;
		memcpy(o.p, in, len);
		o.len = len;
	} else if (strcasecmp(encoding, "gzip") == 0) {
		r = gunzip(in, len, &o);
	} else if (strcasecmp(encoding, "zstd") == 0) {
		r = unzstd(in, len, &o);
	} else {
		return -ENOTSUP;
	}
	if (r < 0) {
		free(o.p);
		return r;
	}
	if (o.p == NULL && (o.p = malloc(1)) == NULL)
		return -ENOMEM;
	o.p[o.len] = '\0';
	*ret = o.p;
	*ret_len = o.len;
	return 0;
}
