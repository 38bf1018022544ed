/* SPDX-License-Identifier: Apache-2.0 */
/*
 * view: what sensortap --watch shows, apart from the terminal it shows it
 * on: the newest record, each chip's state and newest sample, ten minutes
 * of every value a chip measures (series.h), sensord's status, and the
 * pipeline's lag read from streamerd's metrics file; and the screen drawn
 * from them, as text of a given size. The chips and values come from the
 * record's field table (pretty.h), so a new chip or value shows by itself.
 *
 * The lag is the age of the oldest record not yet committed: the newest
 * seq seen minus streamerd's committed seq are pending, and the time of
 * the first of them is known from the records themselves (the view keeps
 * the times of the last VIEW_SEQS seqs).
 */
#ifndef SNOWSENSE_VIEW_H
#define SNOWSENSE_VIEW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "promfile.h"
#include "proto.h"
#include "record.h"
#include "series.h"

#define VIEW_MAX_CHIPS 8
#define VIEW_MAX_SERIES 16	/* values beyond it get no sparkline */
#define VIEW_SEQS 4096

/* streamerd's metrics file: the figures the view reads (see the report of
 * metrics_file in streamerd(8)). Older files lack the newer ones: the view
 * then falls back or leaves the figure out. */
#define VIEW_M_COMMITTED "streamerd_committed_seq"
#define VIEW_M_LAST_COMMIT "streamerd_last_commit_timestamp_seconds"
#define VIEW_M_COMMIT_AGE "streamerd_last_commit_age_seconds"	/* before it */
#define VIEW_M_RETRYING "streamerd_retrying_since_timestamp_seconds"
#define VIEW_M_ERROR "streamerd_last_error_info"	/* label "reason" */
#define VIEW_M_SENSORD "streamerd_sensord_connected"

struct view_chip {
	const struct record_field *blk;	/* its block in the field table */
	bool have;			/* a sample seen */
	struct record last;		/* the newest record with its block */
};

struct view_series {
	const struct record_field *blk, *f;
	struct series s;
};

/* The pipeline as streamerd's metrics file says it. */
struct view_pipe {
	int err;		/* 0, or why the file could not be read */
	int64_t mtime;		/* when it was written, Unix ns */
	bool have_committed;
	uint64_t committed;
	double last_commit;	/* Unix s; 0: unknown */
	double retrying;	/* Unix s the current failures began; 0: none */
	char error[160];	/* the latest of them */
	int sensord;		/* 1 connected, 0 not, -1 not said */
};

struct view {
	const char *socket, *metrics;	/* borrowed; shown */
	bool have_rec;
	struct record rec;		/* the newest record */
	size_t nchips, nseries;
	struct view_chip chips[VIEW_MAX_CHIPS];
	struct view_series series[VIEW_MAX_SERIES];
	struct { uint64_t seq; int64_t t; } seqs[VIEW_SEQS];
	bool have_status;
	struct proto_status status;
	struct view_pipe pipe;
	uint64_t missing;		/* records sensord no longer had (gaps) */
	char note[200];			/* trouble with sensord's socket; "" none */
};

/* A view of sensord at socket and streamerd's metrics file at metrics
 * (both borrowed, for as long as the view lives). 0 and *ret (new; free()),
 * or -ENOMEM. */
int view_new(const char *socket, const char *metrics, struct view **ret);
/* Takes a record in (replayed or live, in seq order). */
void view_record(struct view *v, const struct record *r);
/* Takes sensord's status in. */
void view_status(struct view *v, const struct proto_status *st);
/* Takes streamerd's metrics file in: pf (borrowed; NULL when it could not
 * be read, err says why) written at mtime (Unix ns). */
void view_metrics(struct view *v, struct promfile *pf, int err, int64_t mtime);
/* Sets the note on top ("" clears it). */
void view_note(struct view *v, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Draws the screen at time now (Unix ns), rows x cols, into buf (borrowed,
 * cap bytes): lines separated by "\n", none longer than cols, at most
 * rows of them; color: with ANSI colours. Its length, or -ENOSPC. */
int view_render(const struct view *v, size_t rows, size_t cols, int64_t now, bool color,
    char *buf, size_t cap);

#endif
