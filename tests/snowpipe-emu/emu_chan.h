/* SPDX-License-Identifier: Apache-2.0 */
/*
 * emu_chan: channels as the service models them — client and row sequencers
 * behind continuation tokens, pending (appended, not yet committed) batches,
 * and the commit worker that turns a batch into rows and a committed offset
 * token after the commit lag.
 */
#ifndef EMU_CHAN_H
#define EMU_CHAN_H

#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>

#include "emu_conf.h"
#include "emu_store.h"

/* One accepted append waiting for its commit. */
struct emu_batch {
	struct emu_batch *next;
	int64_t row_seq;
	char *end_token;	/* new; NULL when the append carried none */
	char *body;		/* rows mode: decompressed NDJSON (new); count mode: NULL */
	size_t len;
	int64_t nrows, nerr;	/* count mode: checked at append time */
	char *err_msg;		/* count mode: last error (new) or NULL */
	int64_t arrived_ms;	/* Unix ms */
	int64_t due_ns;		/* monotonic */
};

struct emu_chan {
	struct emu_chan *next;
	struct emu_chan_state st;
	const struct emu_pipe *pipe;	/* borrowed from the config */
	struct emu_batch *head, *tail;
	size_t npending, pending_bytes;
	bool has_last;			/* last accepted append, for replays */
	int64_t last_row_seq;
	unsigned char last_hash[32];
	double bucket;			/* rate limit tokens */
	int64_t bucket_ns;
	char session[516];		/* last x-snowflake-session sent, "" if none */
};

struct emu_chans;

struct emu_chans_stats {
	int64_t rows_committed, rows_errored, batches_committed, batches_discarded;
	int64_t pending_batches, pending_bytes, channels;
};

/* Creates the channel table over conf and st (both borrowed) and loads the
 * stored channels. count_mode: rows are counted, never stored. */
int emu_chans_new(const struct emu_conf *conf, struct emu_store *st, bool count_mode,
    int64_t lag_ms, struct emu_chans **ret);
/* Frees cs and every channel and pending batch; NULL is fine. */
void emu_chans_free(struct emu_chans *cs);
/* Finds a channel; borrowed until it is dropped. */
struct emu_chan *emu_chans_find(struct emu_chans *cs, const struct emu_pipe *p,
    const char *key);
/* Opens (creates or reopens) the channel stored under key; a new one
 * records name as its channel_name. offset_token non-NULL sets the committed
 * token. -EBUSY: fail_on_uncommitted and data is pending; -ENOSPC: too many
 * channels. *ret borrowed like emu_chans_find. */
int emu_chans_open(struct emu_chans *cs, const struct emu_pipe *p, const char *key,
    const char *name, const char *offset_token, bool fail_on_uncommitted, int64_t now_ms,
    struct emu_chan **ret);
/* Drops ch (freed on success). -EBUSY as for open. */
int emu_chans_drop(struct emu_chans *cs, struct emu_chan *ch, bool fail_on_uncommitted);
/* Writes ch's next continuation token "<client>_<row>" into buf. */
void emu_chan_token(const struct emu_chan *ch, char *buf, size_t len);
/* Checks a presented continuation token: 0 new append, 1 replay of the last
 * one (same hash), or -EINVAL with *ret_code set to the wire error code. */
int emu_chan_check_token(const struct emu_chan *ch, const char *token,
    const unsigned char hash[32], const char **ret_code);
/* True when one more request fits ch's rate; else *ret_retry_s says when. */
bool emu_chan_rate_ok(struct emu_chans *cs, struct emu_chan *ch, int64_t now_ns,
    int *ret_retry_s);
/* True when one more pending batch of bytes fits: under the global byte cap
 * and under the per-channel batch cap. */
bool emu_chans_room(struct emu_chans *cs, const struct emu_chan *ch, size_t bytes);
/* Appends b (steals it) as ch's next batch; advances the row sequencer and
 * remembers hash for replays. */
void emu_chans_enqueue(struct emu_chans *cs, struct emu_chan *ch, struct emu_batch *b,
    const unsigned char hash[32]);
/* Frees a batch; NULL is fine. */
void emu_batch_free(struct emu_batch *b);
/* Marks ch invalid with code (e.g. ERR_CHANNEL_MUST_BE_REOPENED); pending
 * data is discarded. */
void emu_chans_invalidate(struct emu_chans *cs, struct emu_chan *ch, const char *code);
/* Commits every batch due at now_ns (all pending ones when force); returns
 * how many batches were committed. */
int emu_chans_commit_due(struct emu_chans *cs, int64_t now_ns, bool force);
/* Monotonic ns of the next commit due, INT64_MAX when none or stalled. */
int64_t emu_chans_next_due(struct emu_chans *cs);
/* Stops or restarts the commit worker (a fault). */
void emu_chans_stall(struct emu_chans *cs, bool stalled);
/* Changes the commit lag for batches appended from now on. */
void emu_chans_set_lag(struct emu_chans *cs, int64_t lag_ms);
/* The channel_status object of ch (new). */
json_t *emu_chan_status_json(struct emu_chans *cs, const struct emu_chan *ch);
/* Counters for /_emu/stats. */
void emu_chans_stats(struct emu_chans *cs, struct emu_chans_stats *ret);
/* Calls fn for every channel (for faults that address all of them). */
void emu_chans_foreach(struct emu_chans *cs, void (*fn)(struct emu_chans *,
    struct emu_chan *, void *), void *arg);

#endif
