/* SPDX-License-Identifier: Apache-2.0 */
/*
 * engine: the decisions of one Snowpipe Streaming channel — credentials,
 * hostname, token, open, append, commit, reopen and what sensord may be
 * acked — with no I/O, as api.c: events come in (an HTTP answer with its
 * status, headers and body; the time; sensord's hello, each record's seq, a
 * gap, a lost connection) and decisions come out (the next request, which
 * batch went out, how far the table has committed, the seq sensord may be
 * acked, where to subscribe, a rewind and replay, or a fatal error with its
 * exit code and message). stream.c drives it from the daemon's loop;
 * --check and --drop-channel drive it synchronously, so every token and
 * exchange rule exists once.
 *
 * Exactly once: Snowflake's committed offset token is the only cursor. The
 * engine subscribes from the seq after it, appends batches strictly in
 * order with one request at a time, polls bulk status while appended rows
 * are uncommitted, and lets sensord be acked only what the table committed
 * and this process appended (or found committed when it opened). Any doubt
 * about what the server holds is resolved one way: reopen (which discards
 * the server's uncommitted rows), drop every local batch and replay from the
 * committed token. Ambiguous transport failures repeat the identical
 * request, which the service de-duplicates.
 */
#ifndef STREAMERD_ENGINE_H
#define STREAMERD_ENGINE_H

#include <stdbool.h>
#include <stdint.h>

#include <openssl/evp.h>

#include "api.h"
#include "batch.h"
#include "config.h"
#include "http.h"
#include "metrics.h"

enum engine_mode {
	ENGINE_STREAM,		/* the daemon: open, append, poll, ack */
	ENGINE_CHECK,		/* --check: hostname, token, one channel status */
	ENGINE_DROP,		/* --drop-channel: hostname, token, drop */
};

/* The world the engine may not touch itself; every member may be NULL. */
struct engine_env {
	/* A log line at level (enum log_level of common/log.h); never a secret. */
	void (*log)(void *arg, int level, const char *msg);
	/* CLOCK_REALTIME in ns, for JWT claims (NULL: the real clock). */
	int64_t (*wall_ns)(void *arg);
	/* Whether the kernel says the clock is synchronised (NULL: adjtimex). */
	bool (*clock_synced)(void *arg);
	void *arg;
};

struct engine_opts {
	enum engine_mode mode;
	/* --accept-committed-token: take the first committed offset token the
	 * journal cannot explain (ahead of it, or from another journal) as the
	 * operator's word instead of stopping with exit 4. */
	bool accept_committed_token;
	/* Tries of one transient failure before --check or --drop-channel gives
	 * up (the daemon rides an outage out); 0: a default. */
	int sync_tries;
};

/* What the caller must do after an event; cleared by every call that
 * takes it. Apply in this order: appended, committed, rewind, subscribe;
 * exit_code first of all. */
struct engine_out {
	bool appended;		/* the batch offered to engine_next went out: it waits
				 * for its commit now */
	uint64_t committed;	/* batches up to this seq are committed (0: nothing new) */
	bool rewind;		/* drop every batch and the sensord connection: a replay
				 * from the committed token follows */
	bool subscribe;		/* subscribe to sensord, from the oldest record it
				 * holds or from sub_from */
	bool sub_oldest;
	uint64_t sub_from;
	int exit_code;		/* non-zero: stop with this status; fatal says why */
	char fatal[1024];
};

/* What --check and --drop-channel report, filled as stages pass. */
struct engine_report {
	bool hostname;			/* the ingest host is known */
	bool token;			/* a scoped token was obtained */
	bool pat_direct;		/* the PAT is used as it is on the ingest host */
	bool pat_refused;		/* ... it was tried and refused (401) */
	bool status;			/* the channel status answer came */
	bool found;			/* ... and listed the channel */
	char code[64];			/* its channel_status_code */
	char committed[API_OFFSET_TOKEN_MAX + 1];	/* its committed offset token, "" when none */
	bool dropped;			/* the channel is gone */
	int stage;			/* enum engine_stage the last request was for */
};

/* The request kinds, also the stages of --check. */
enum engine_stage {
	ENGINE_RQ_NONE, ENGINE_RQ_HOSTNAME, ENGINE_RQ_TOKEN, ENGINE_RQ_OPEN,
	ENGINE_RQ_APPEND, ENGINE_RQ_STATUS, ENGINE_RQ_DROP,
};

struct engine;

/* Creates the engine for cf (borrowed for its lifetime); key is stolen
 * (NULL with PAT auth); env is copied; m (borrowed, may be NULL) gets the
 * request, retry, rewind, commit and journal counters. Returns 0 or -errno. */
int engine_new(const struct config *cf, EVP_PKEY *key, const struct engine_opts *o,
    const struct engine_env *env, struct metrics *m, struct engine **ret);
void engine_free(struct engine *e);

/* The request to start at now, if one is due: true and req filled (its
 * strings borrowed until engine_on_answer). head is the oldest sealed batch
 * waiting to be appended (borrowed until its answer; NULL: none, or no
 * room for one more batch awaiting commit). */
bool engine_next(struct engine *e, int64_t now, const struct batch *head,
    struct http_req *req, struct engine_out *out);
/* The answer to the request engine_next gave (status 0 and error text for
 * a transport failure). */
void engine_on_answer(struct engine *e, const struct http_resp *rs, int64_t now,
    struct engine_out *out);
/* The earliest CLOCK_MONOTONIC time engine_next may have something to do
 * (INT64_MAX: only an event can change that); have_batch: a sealed batch
 * waits. */
int64_t engine_deadline(const struct engine *e, bool have_batch);

/* sensord said hello (on a new connection). */
void engine_on_hello(struct engine *e, uint64_t journal_id, uint64_t first_seq,
    uint64_t last_seq, const char *device, struct engine_out *out);
/* A record arrived on the subscription: true when it is to be batched
 * (false: already held, or skipped). */
bool engine_on_record(struct engine *e, uint64_t seq, struct engine_out *out);
/* sensord reported seqs from..to missing from its journal. */
void engine_on_gap(struct engine *e, uint64_t from, uint64_t to, struct engine_out *out);
/* The sensord connection is gone; a new one will say hello. */
void engine_on_sub_lost(struct engine *e);
/* Something local broke the stream (a record that does not fit in a row, a
 * batch that cannot be sealed, sensord misbehaving): rewind and replay once
 * the request in flight is answered. why is logged. */
void engine_want_rewind(struct engine *e, const char *why);

/* The seq sensord may be acked now: committed, appended by this process or
 * found committed at an open, and in the journal. 0: none. */
uint64_t engine_ackable(const struct engine *e);
/* The journal the held batches come from (sensord's hello). */
uint64_t engine_journal(const struct engine *e);
/* The channel name in use, "" until known; borrowed. */
const char *engine_channel(const struct engine *e);
/* The ingest host, "" until discovered; borrowed. */
const char *engine_ingest(const struct engine *e);
/* The device sensord named, "" until known; borrowed. */
const char *engine_device(const struct engine *e);
/* Sets the channel name when the config has none (--drop-channel, from a
 * hello of its own). */
void engine_set_channel(struct engine *e, const char *name);
/* True while no JWT is signed yet because the kernel's clock is not
 * synchronised (at most clock_sync_wait_s from the first try). */
bool engine_waiting_clock(const struct engine *e);
/* True while a failure is being ridden out with back-off. */
bool engine_backing_off(const struct engine *e, int64_t now);
/* True when --check or --drop-channel has all its answers. */
bool engine_done(const struct engine *e);
/* The stages --check and --drop-channel passed; borrowed. */
const struct engine_report *engine_report(const struct engine *e);

#endif
