/*
 * batch: row accumulation, compression and the 4 MB wire split. Sealing
 * happens once per batch; the compressed body is kept unchanged for every
 * retry of the append (same continuation token, same body, same requestId),
 * which is what lets the service recognise a replayed request.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/rand.h>
#include <zlib.h>
#include <zstd.h>

#include "batch.h"

#define ZSTD_LEVEL 3
#define GZIP_LEVEL 1	/* gzip is the fallback; favour CPU on a small board */

struct batch_coder {
	enum batch_comp comp;
	ZSTD_CCtx *zctx;
};

int
batch_coder_new(enum batch_comp comp, struct batch_coder **ret)
{
	struct batch_coder *c = calloc(1, sizeof(*c));

	if (c == NULL)
		return -ENOMEM;
	c->comp = comp;
	if (comp == BATCH_COMP_ZSTD && (c->zctx = ZSTD_createCCtx()) == NULL) {
		free(c);
		return -ENOMEM;
	}
	*ret = c;
	return 0;
}

void
batch_coder_free(struct batch_coder *c)
{
	if (c == NULL)
		return;
	ZSTD_freeCCtx(c->zctx);
	free(c);
}

const char *
batch_comp_encoding(enum batch_comp comp)
{
	switch (comp) {
	case BATCH_COMP_GZIP: return "gzip";
	case BATCH_COMP_ZSTD: return "zstd";
	default: return NULL;
	}
}

static void
make_uuid4(char out[37])
{
	unsigned char u[16];

	if (RAND_bytes(u, sizeof(u)) != 1)
		memset(u, 0, sizeof(u));	/* a request id only traces; it need not be secret */
	u[6] = (unsigned char)((u[6] & 0x0f) | 0x40);
	u[8] = (unsigned char)((u[8] & 0x3f) | 0x80);
	snprintf(out, 37,
	    "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
	    u[0], u[1], u[2], u[3], u[4], u[5], u[6], u[7], u[8], u[9], u[10], u[11],
	    u[12], u[13], u[14], u[15]);
}

int
batch_new(uint64_t journal_id, int64_t now_ns, struct batch **ret)
{
	struct batch *b = calloc(1, sizeof(*b));

	if (b == NULL)
		return -ENOMEM;
	b->journal_id = journal_id;
	b->opened_ns = now_ns;
	make_uuid4(b->request_id);
	*ret = b;
	return 0;
}

static int
grow(void **p, size_t *cap, size_t need, size_t elem)
{
	size_t n = *cap ? *cap : 16;
	void *q;

	if (need <= *cap)
		return 0;
	while (n < need)
		n *= 2;
	if ((q = realloc(*p, n * elem)) == NULL)
		return -ENOMEM;
	*p = q;
	*cap = n;
	return 0;
}

int
batch_add(struct batch *b, uint64_t seq, const char *row, size_t len)
{
	int r;

	if ((r = grow((void **)&b->raw, &b->raw_cap, b->raw_len + len, 1)) < 0 ||
	    (r = grow((void **)&b->rows, &b->rows_cap, b->nrows + 1, sizeof(*b->rows))) < 0)
		return r;
	memcpy(b->raw + b->raw_len, row, len);
	b->raw_len += len;
	b->rows[b->nrows].seq = seq;
	b->rows[b->nrows].end = b->raw_len;
	if (b->nrows == 0)
		b->first_seq = seq;
	b->last_seq = seq;
	b->nrows++;
	return 0;
}

static int
compress_gzip(const char *in, size_t len, unsigned char **ret, size_t *ret_len)
{
	z_stream zs = { 0 };
	uLong bound;
	unsigned char *out;
	int r = -ENOMEM;

	if (deflateInit2(&zs, GZIP_LEVEL, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
		return -ENOMEM;
	bound = deflateBound(&zs, (uLong)len);
	if ((out = malloc(bound)) == NULL)
		goto cleanup;
	zs.next_in = (Bytef *)(uintptr_t)in;
	zs.avail_in = (uInt)len;
	zs.next_out = out;
	zs.avail_out = (uInt)bound;
	if (deflate(&zs, Z_FINISH) != Z_STREAM_END) {
		free(out);
		r = -EIO;
		goto cleanup;
	}
	*ret = out;
	*ret_len = zs.total_out;
	r = 0;
cleanup:
	deflateEnd(&zs);
	return r;
}

static int
compress_body(struct batch_coder *c, const char *in, size_t len, unsigned char **ret,
    size_t *ret_len)
{
	unsigned char *out;
	size_t n;

	switch (c->comp) {
	case BATCH_COMP_GZIP:
		return compress_gzip(in, len, ret, ret_len);
	case BATCH_COMP_ZSTD:
		if ((out = malloc(ZSTD_compressBound(len))) == NULL)
			return -ENOMEM;
		n = ZSTD_compressCCtx(c->zctx, out, ZSTD_compressBound(len), in, len, ZSTD_LEVEL);
		if (ZSTD_isError(n)) {
			free(out);
			return -EIO;
		}
		*ret = out;
		*ret_len = n;
		return 0;
	default:
		if ((out = malloc(len ? len : 1)) == NULL)
			return -ENOMEM;
		memcpy(out, in, len);
		*ret = out;
		*ret_len = len;
		return 0;
	}
}

/* Moves rows [from, nrows) of b into a new open batch. */
static int
split_tail(struct batch *b, size_t from, struct batch **ret)
{
	struct batch *t;
	size_t off = b->rows[from - 1].end;
	int r;

	if ((r = batch_new(b->journal_id, b->opened_ns, &t)) < 0)
		return r;
	for (size_t i = from; i < b->nrows; i++) {
		size_t start = b->rows[i - 1].end;

		if ((r = batch_add(t, b->rows[i].seq, b->raw + start, b->rows[i].end - start)) < 0) {
			batch_free(t);
			return r;
		}
	}
	b->raw_len = off;
	b->nrows = from;
	b->last_seq = b->rows[from - 1].seq;
	*ret = t;
	return 0;
}

int
batch_seal(struct batch *b, struct batch_coder *c, size_t wire_max, struct batch **ret_head)
{
	unsigned char *body;
	size_t len;
	struct batch *tail = NULL, *tail_head = NULL;
	int r;

	if (b->nrows == 0)
		return -EINVAL;
	if ((r = compress_body(c, b->raw, b->raw_len, &body, &len)) < 0)
		return r;
	if (len > wire_max) {
		free(body);
		if (b->nrows == 1)
			return -EMSGSIZE;
		if ((r = split_tail(b, b->nrows / 2, &tail)) < 0)
			return r;
		if ((r = batch_seal(tail, c, wire_max, &tail_head)) < 0) {
			batch_free(tail);
			return r;
		}
		if ((r = batch_seal(b, c, wire_max, ret_head)) < 0) {
			/* b is unchanged but shorter; give the split rows back by
			 * failing the whole seal: callers drop b on error. */
			while (tail_head != NULL) {
				struct batch *n = tail_head->next;

				batch_free(tail_head);
				tail_head = n;
			}
			return r;
		}
		for (tail = *ret_head; tail->next != NULL; tail = tail->next)
			;
		tail->next = tail_head;
		return 0;
	}
	b->body = body;
	b->body_len = len;
	b->raw_total = b->raw_len;
	free(b->raw);
	free(b->rows);
	b->raw = NULL;
	b->rows = NULL;
	b->raw_cap = b->rows_cap = 0;
	b->next = NULL;
	*ret_head = b;
	return 0;
}

void
batch_free(struct batch *b)
{
	if (b == NULL)
		return;
	free(b->raw);
	free(b->rows);
	free(b->body);
	free(b);
}
