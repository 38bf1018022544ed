/* SPDX-License-Identifier: Apache-2.0 */
/*
 * batch: a run of NDJSON rows with consecutive journal positions, as one
 * append request. Rows are compressed into the request body as they are
 * added (streaming zstd or gzip, or copied for none), and a batch is full
 * when one more row might take the body past the wire cap, measured in
 * compressed bytes. Sealing ends the body; from then on it never changes,
 * so every retry of the append sends it byte for byte.
 *
 * Also the queue sealed batches wait in, which counts the bytes of the
 * bodies it holds so the daemon can bound them.
 */
#ifndef STREAMERD_BATCH_H
#define STREAMERD_BATCH_H

#include <stddef.h>
#include <stdint.h>

enum batch_comp { BATCH_COMP_GZIP, BATCH_COMP_ZSTD, BATCH_COMP_NONE };

/* The service's hard cap is 4 MB on the wire; stay under it with margin. */
#define BATCH_WIRE_MAX 4000000u
/* The defaults of batch_max_wire_bytes and queue_max_wire_bytes: two
 * bodies of 2 MB (one being sent, the next being filled) keep a drain
 * going at ~20,000 rows per append within streamerd's 16 MiB; 4 MB
 * bodies would need 8 MB for the same overlap. */
#define BATCH_WIRE_DEFAULT 2000000u
#define BATCH_QUEUE_DEFAULT 4000000u
/* The smallest wire cap a coder takes: room for the largest row. */
#define BATCH_WIRE_MIN 65536u

struct batch_coder;

struct batch {
	struct batch *next;		/* queue link, owned by whoever queues */
	struct batch_coder *coder;	/* while open; NULL once sealed */
	uint64_t journal_id;
	uint64_t first_seq, last_seq;
	size_t nrows;
	unsigned char *body;		/* the wire body (complete once sealed) */
	size_t body_len, body_cap;
	size_t raw_total;		/* NDJSON bytes of the rows added */
	int64_t opened_ns;		/* monotonic, when the first row came */
	int64_t appended_ns;		/* monotonic, when the append succeeded */
	char request_id[37];		/* same on every retry of this batch */
};

/* Creates a compressor for comp whose batches stay within wire_max bytes
 * on the wire (BATCH_WIRE_MIN..BATCH_WIRE_MAX) (new; free with
 * batch_coder_free). One batch at a time is open on a coder. */
int batch_coder_new(enum batch_comp comp, size_t wire_max, struct batch_coder **ret);
void batch_coder_free(struct batch_coder *c);
/* Frees the compressor's state (zstd's window and tables, deflate's) while
 * no batch is open; the next batch_new makes it again. For idle times: a
 * drain leaves it all resident. */
void batch_coder_trim(struct batch_coder *c);
/* Content-Encoding value for comp, or NULL for none. */
const char *batch_comp_encoding(enum batch_comp comp);
/* Writes a new random request id (UUID v4 text) into out. */
void batch_request_id(char out[37]);

/* Opens an empty batch on c (borrowed until the batch is sealed or freed);
 * a batch still open on c is abandoned: it can only be freed. New; free
 * with batch_free. */
int batch_new(struct batch_coder *c, uint64_t journal_id, int64_t now_ns, struct batch **ret);
/* Adds one row (len bytes ending in '\n', copied) with its seq, keeping
 * the body within cap bytes on the wire (at most the coder's wire_max;
 * less to keep within a budget for every body held; the first row of a
 * batch is always taken, whatever cap says). Returns 0; -ENOBUFS
 * when the batch is full (nothing added: seal it, and add the row to a new
 * one); -EMSGSIZE when the row alone cannot fit the coder's wire cap;
 * -EINVAL when b is not open; -ENOMEM or -EIO (b is then unusable). */
int batch_add(struct batch *b, uint64_t seq, const char *row, size_t len, size_t cap);
/* Ends b's body; b is sealed. Returns 0, or -EINVAL (not open, or no
 * rows), -ENOMEM or -EIO (b stays the caller's to free). */
int batch_seal(struct batch *b);
/* Frees one batch (not the list it may be linked into); an open batch is
 * abandoned first. */
void batch_free(struct batch *b);

/* A FIFO of batches; bytes is the sum of the body_len of those that hold
 * a body (a queued batch's body is left as it is until it is popped). */
struct batch_queue {
	struct batch *head, *tail;
	size_t n, bytes;
};

/* Appends b (stolen) at the tail. */
void batch_queue_push(struct batch_queue *q, struct batch *b);
/* Removes the head (returned, the caller's), or NULL when empty. */
struct batch *batch_queue_pop(struct batch_queue *q);
/* Frees every batch. */
void batch_queue_clear(struct batch_queue *q);

#endif
