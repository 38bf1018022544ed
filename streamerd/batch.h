/*
 * batch: a run of NDJSON rows with consecutive journal positions, as one
 * append request. Rows are added while the batch is open; sealing compresses
 * the rows into the body that goes on the wire (and that every retry of the
 * append sends unchanged) and splits the batch at a row boundary when the
 * body would exceed the wire cap.
 */
#ifndef STREAMERD_BATCH_H
#define STREAMERD_BATCH_H

#include <stddef.h>
#include <stdint.h>

enum batch_comp { BATCH_COMP_GZIP, BATCH_COMP_ZSTD, BATCH_COMP_NONE };

/* The service's hard cap is 4 MB on the wire; stay under it with margin. */
#define BATCH_WIRE_MAX 4000000u

struct batch_row {
	uint64_t seq;
	size_t end;		/* offset just past the row's '\n' in raw */
};

struct batch {
	struct batch *next;		/* queue link, owned by whoever queues */
	uint64_t journal_id;
	uint64_t first_seq, last_seq;
	size_t nrows;
	char *raw;			/* NDJSON while open; freed by batch_seal */
	size_t raw_len, raw_cap;
	struct batch_row *rows;		/* per-row seq and end; freed by batch_seal */
	size_t rows_cap;
	unsigned char *body;		/* wire body after batch_seal */
	size_t body_len;
	size_t raw_total;		/* uncompressed length of body */
	int64_t opened_ns;		/* monotonic, when the first row came */
	int64_t appended_ns;		/* monotonic, when the append succeeded */
	char request_id[37];		/* same on every retry of this batch */
};

struct batch_coder;

/* Creates a compressor for comp (new; free with batch_coder_free). */
int batch_coder_new(enum batch_comp comp, struct batch_coder **ret);
void batch_coder_free(struct batch_coder *c);
/* Content-Encoding value for comp, or NULL for none. */
const char *batch_comp_encoding(enum batch_comp comp);

/* Creates an empty open batch (new; free with batch_free). */
int batch_new(uint64_t journal_id, int64_t now_ns, struct batch **ret);
/* Appends one row (len bytes ending in '\n', copied) with its seq.
 * Returns 0 or -ENOMEM. */
int batch_add(struct batch *b, uint64_t seq, const char *row, size_t len);
/* Compresses b into its body and frees its raw rows; when the body exceeds
 * wire_max the rows are split in halves, recursively. On success *ret_head
 * gets the list of sealed batches in seq order (steals b; new list). On
 * failure (-EMSGSIZE: one row alone exceeds wire_max, -ENOMEM, -EIO) b stays
 * the caller's to free, possibly shortened. */
int batch_seal(struct batch *b, struct batch_coder *c, size_t wire_max,
    struct batch **ret_head);
/* Frees one batch (not the list it may be linked into). */
void batch_free(struct batch *b);

#endif
