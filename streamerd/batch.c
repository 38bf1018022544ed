/* SPDX-License-Identifier: Apache-2.0 */
/*
 * batch: rows compressed into the wire body as they come, closed by
 * compressed size. No NDJSON is kept: a row is copied into the coder's
 * stage, the stage is fed to the compressor when it fills, and the output
 * goes straight into the body, which is allocated at the wire cap (only
 * the pages written are ever resident).
 *
 * Closing by wire bytes: a compressor holds input it has not written out
 * yet, so before taking a row the batch checks that even incompressible
 * held input plus the row would fit. When that check fails the compressor
 * is flushed, which makes the body's size exact, and the check is made
 * again with only the row; a batch is full when the row still does not
 * fit, or when less than a 32nd of the cap is left (flushing ever more
 * often for ever smaller gains would only cost compression). The cap is the
 * coder's wire cap, or less when the caller's budget for all the bodies it
 * holds has less room left.
 *
 * Once sealed, a body never changes: every retry of the append sends the
 * same bytes, with the same request id.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/rand.h>
#include <zlib.h>
#define ZSTD_STATIC_LINKING_ONLY	/* ZSTD_c_stableOutBuffer (zstd >= 1.5.0) */
#include <zstd.h>

#include "batch.h"

/* zstd level 1 costs about half of level 3 per row here for ~10 % more
 * bytes; the wire cap, not the ratio, is what limits a drain. */
#define ZSTD_LEVEL 1
#define ZSTD_WINDOW_LOG 17
#define GZIP_LEVEL 1	/* gzip is the fallback; favour CPU on a small board */
#define STAGE_SIZE (64u * 1024u)	/* more than ROW_MAX: a row always fits */
#define END_MARGIN 64u		/* frame/stream header and end, gzip trailer */
#define BODY_SLACK 4096u	/* body room past the cap: a bound proven wrong is
				 * an error, never an overflow */

enum feed_mode { FEED_CONTINUE, FEED_FLUSH, FEED_END };

struct batch_coder {
	enum batch_comp comp;
	size_t wire_max;
	ZSTD_CCtx *zctx;
	z_stream zs;
	bool zs_ready;
	struct batch *open;		/* the batch being filled, or NULL */
	char *stage;
	size_t staged;			/* bytes in stage, not yet fed */
	size_t unflushed;		/* bytes fed since the last flush */
};

/* ------------------------------------------------------------ coder */

static int zstd_params(ZSTD_CCtx *z);

/* Makes the compressor's state, unless it is there (batch_coder_trim). */
static int
coder_ready(struct batch_coder *c)
{
	if (c->comp == BATCH_COMP_ZSTD && c->zctx == NULL) {
		if ((c->zctx = ZSTD_createCCtx()) == NULL)
			return -ENOMEM;
		if (zstd_params(c->zctx) < 0) {
			ZSTD_freeCCtx(c->zctx);
			c->zctx = NULL;
			return -ENOMEM;
		}
	} else if (c->comp == BATCH_COMP_GZIP && !c->zs_ready) {
		memset(&c->zs, 0, sizeof(c->zs));
		if (deflateInit2(&c->zs, GZIP_LEVEL, Z_DEFLATED, 15 + 16, 8,
		    Z_DEFAULT_STRATEGY) != Z_OK)
			return -ENOMEM;
		c->zs_ready = true;
	}
	return 0;
}

/* Level 1 with a 128 KiB window (rows repeat each other within a few rows;
 * the default 512 KiB window costs 400 KiB more for nothing), writing
 * straight into the body, which never moves while a batch is open, instead
 * of through an output buffer of zstd's own. */
static int
zstd_params(ZSTD_CCtx *z)
{
	if (ZSTD_isError(ZSTD_CCtx_setParameter(z, ZSTD_c_compressionLevel, ZSTD_LEVEL)) ||
	    ZSTD_isError(ZSTD_CCtx_setParameter(z, ZSTD_c_windowLog, ZSTD_WINDOW_LOG)) ||
	    ZSTD_isError(ZSTD_CCtx_setParameter(z, ZSTD_c_stableOutBuffer, 1)))
		return -EINVAL;
	return 0;
}

int
batch_coder_new(enum batch_comp comp, size_t wire_max, struct batch_coder **ret)
{
	struct batch_coder *c;

	if (wire_max < BATCH_WIRE_MIN || wire_max > BATCH_WIRE_MAX)
		return -EINVAL;
	if ((c = calloc(1, sizeof(*c))) == NULL)
		return -ENOMEM;
	c->comp = comp;
	c->wire_max = wire_max;
	if ((c->stage = malloc(STAGE_SIZE)) == NULL || coder_ready(c) < 0) {
		batch_coder_free(c);
		return -ENOMEM;
	}
	*ret = c;
	return 0;
}

void
batch_coder_trim(struct batch_coder *c)
{
	if (c->open != NULL)
		return;
	ZSTD_freeCCtx(c->zctx);
	c->zctx = NULL;
	if (c->zs_ready)
		deflateEnd(&c->zs);
	c->zs_ready = false;
}

void
batch_coder_free(struct batch_coder *c)
{
	if (c == NULL)
		return;
	if (c->open != NULL)
		c->open->coder = NULL;
	ZSTD_freeCCtx(c->zctx);
	if (c->zs_ready)
		deflateEnd(&c->zs);
	free(c->stage);
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

void
batch_request_id(char out[37])
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

/* Forgets the stream in progress, ready for the next batch. */
static void
coder_reset(struct batch_coder *c)
{
	if (c->open != NULL)
		c->open->coder = NULL;
	c->open = NULL;
	c->staged = c->unflushed = 0;
	if (c->zctx != NULL)
		ZSTD_CCtx_reset(c->zctx, ZSTD_reset_session_only);
	if (c->zs_ready)
		deflateReset(&c->zs);
}

/* The most n bytes of input can add to the body: stored blocks plus their
 * headers (zstd's ZSTD_compressBound and deflate's are both below this). */
static size_t
wire_bound(const struct batch_coder *c, size_t n)
{
	return c->comp == BATCH_COMP_NONE ? n : n + n / 128 + 128;
}

static int
feed_zstd(struct batch_coder *c, struct batch *b, const char *in, size_t len,
    enum feed_mode mode)
{
	static const ZSTD_EndDirective dir[] = { ZSTD_e_continue, ZSTD_e_flush, ZSTD_e_end };
	ZSTD_inBuffer ib = { in, len, 0 };
	ZSTD_outBuffer ob = { b->body, b->body_cap, b->body_len };
	size_t left;

	do {
		left = ZSTD_compressStream2(c->zctx, &ob, &ib, dir[mode]);
		if (ZSTD_isError(left))
			return -EIO;
		if (ob.pos == ob.size && (left != 0 || ib.pos < ib.size))
			return -EIO;	/* the bound was wrong: never send a cut body */
	} while (mode == FEED_CONTINUE ? ib.pos < ib.size : left != 0);
	b->body_len = ob.pos;
	return 0;
}

static int
feed_gzip(struct batch_coder *c, struct batch *b, const char *in, size_t len,
    enum feed_mode mode)
{
	static const int flush[] = { Z_NO_FLUSH, Z_SYNC_FLUSH, Z_FINISH };
	z_stream *zs = &c->zs;
	int zr;

	zs->next_in = (Bytef *)(uintptr_t)in;
	zs->avail_in = (uInt)len;
	zs->next_out = b->body + b->body_len;
	zs->avail_out = (uInt)(b->body_cap - b->body_len);
	zr = deflate(zs, flush[mode]);
	b->body_len = b->body_cap - zs->avail_out;
	if (mode == FEED_END ? zr != Z_STREAM_END : (zr != Z_OK && zr != Z_BUF_ERROR))
		return -EIO;
	if (zs->avail_in != 0 || (mode != FEED_CONTINUE && zs->avail_out == 0))
		return -EIO;	/* out of room: the bound was wrong */
	return 0;
}

/* Feeds the stage to the compressor (mode: and flushes, or ends the body). */
static int
feed_stage(struct batch_coder *c, struct batch *b, enum feed_mode mode)
{
	int r = 0;

	switch (c->comp) {
	case BATCH_COMP_ZSTD:
		r = feed_zstd(c, b, c->stage, c->staged, mode);
		break;
	case BATCH_COMP_GZIP:
		r = feed_gzip(c, b, c->stage, c->staged, mode);
		break;
	default:
		if (c->staged > b->body_cap - b->body_len)
			return -EIO;
		memcpy(b->body + b->body_len, c->stage, c->staged);
		b->body_len += c->staged;
		break;
	}
	if (r < 0)
		return r;
	c->unflushed = mode == FEED_CONTINUE ? c->unflushed + c->staged : 0;
	c->staged = 0;
	return 0;
}

/* ------------------------------------------------------------ batches */

int
batch_new(struct batch_coder *c, uint64_t journal_id, int64_t now_ns, struct batch **ret)
{
	struct batch *b;

	if (coder_ready(c) < 0 || (b = calloc(1, sizeof(*b))) == NULL)
		return -ENOMEM;
	b->body_cap = c->wire_max + BODY_SLACK;
	if ((b->body = malloc(b->body_cap)) == NULL) {
		free(b);
		return -ENOMEM;
	}
	coder_reset(c);
	c->open = b;
	b->coder = c;
	b->journal_id = journal_id;
	b->opened_ns = now_ns;
	batch_request_id(b->request_id);
	*ret = b;
	return 0;
}

/* Whether len more bytes of input surely fit within cap, with what is held. */
static bool
fits(const struct batch_coder *c, const struct batch *b, size_t len, size_t cap)
{
	return b->body_len + wire_bound(c, c->unflushed + c->staged + len) + END_MARGIN <= cap;
}

int
batch_add(struct batch *b, uint64_t seq, const char *row, size_t len, size_t cap)
{
	struct batch_coder *c = b->coder;
	int r;

	if (c == NULL)
		return -EINVAL;
	if (len > STAGE_SIZE || wire_bound(c, len) + END_MARGIN > c->wire_max)
		return -EMSGSIZE;
	/* A batch always takes its first row: the caller has read it and has
	 * nowhere else to put it, so a budget may be passed by one row. */
	if (cap > c->wire_max || b->nrows == 0)
		cap = c->wire_max;
	if (!fits(c, b, len, cap)) {
		if ((r = feed_stage(c, b, FEED_FLUSH)) < 0)
			return r;
		if (!fits(c, b, len, cap) || cap - b->body_len < cap / 32)
			return -ENOBUFS;
	}
	if (c->staged + len > STAGE_SIZE && (r = feed_stage(c, b, FEED_CONTINUE)) < 0)
		return r;
	memcpy(c->stage + c->staged, row, len);
	c->staged += len;
	b->raw_total += len;
	if (b->nrows == 0)
		b->first_seq = seq;
	b->last_seq = seq;
	b->nrows++;
	return 0;
}

int
batch_seal(struct batch *b)
{
	struct batch_coder *c = b->coder;
	int r;

	if (c == NULL || b->nrows == 0)
		return -EINVAL;
	if ((r = feed_stage(c, b, FEED_END)) < 0)
		return r;
	coder_reset(c);
	return 0;
}

void
batch_free(struct batch *b)
{
	if (b == NULL)
		return;
	if (b->coder != NULL)
		coder_reset(b->coder);
	free(b->body);
	free(b);
}

/* ------------------------------------------------------------ queue */

static size_t
held(const struct batch *b)
{
	return b->body != NULL ? b->body_len : 0;
}

void
batch_queue_push(struct batch_queue *q, struct batch *b)
{
	b->next = NULL;
	if (q->tail)
		q->tail->next = b;
	else
		q->head = b;
	q->tail = b;
	q->n++;
	q->bytes += held(b);
}

struct batch *
batch_queue_pop(struct batch_queue *q)
{
	struct batch *b = q->head;

	if (b == NULL)
		return NULL;
	q->head = b->next;
	if (q->head == NULL)
		q->tail = NULL;
	q->n--;
	q->bytes -= held(b);
	b->next = NULL;
	return b;
}

void
batch_queue_clear(struct batch_queue *q)
{
	struct batch *b;

	while ((b = batch_queue_pop(q)) != NULL)
		batch_free(b);
}
