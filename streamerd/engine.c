/* SPDX-License-Identifier: Apache-2.0 */
/*
 * engine: one request at a time, chosen from the state alone (so a retry
 * after back-off re-sends exactly the request that failed), and every answer
 * classified once (api_classify) before the handler of its request decides.
 * Time comes in as arguments (CLOCK_MONOTONIC) and through env (the wall
 * clock for JWT claims); log lines go out through env; nothing here reads a
 * socket or a file.
 */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "api.h"
#include "auth.h"
#include "clock.h"
#include "engine.h"
#include "log.h"
#include "row.h"

#define INGEST_GAP_NS (100 * NS_PER_MS)	/* <= 10 requests/s per channel */
#define APPEND_TIMEOUT_MS 30000
#define OTHER_TIMEOUT_MS 60000
#define SETUP_HINT "create it with config/snowflake/setup.sql (and check the names and grants)"
#define OPEN_BODY "{\"fail_on_uncommitted_rows\":false}"
#define REFUSALS_MAX 5		/* refusals in a row with no commit before giving up */
/* The learned commit lag's cap: below the 6.4 s that SENT_MAX (stream.c)
 * batches last at 10 appends/s, so a drain never waits on a poll. */
#define COMMIT_WAIT_MAX_NS (5 * NS_PER_S)
#define STATUS_BACKOFF_MAX 4	/* polls without progress: commit_poll_ms << 3 apart at most */

struct engine {
	const struct config *cf;
	enum engine_mode mode;
	struct engine_env env;
	struct metrics *m;
	struct metrics own_m;		/* when the caller keeps none */
	EVP_PKEY *key;
	char fp[AUTH_FP_LEN], claim_account[256], claim_user[256];

	/* credentials (never logged) */
	char *jwt;
	int64_t jwt_exp;		/* wall s */
	char *scoped;
	int64_t scoped_refresh_at;	/* mono ns, 0 = never */
	bool pat_direct;		/* the PAT itself is the Bearer on the ingest host */
	char session[HTTP_SESSION_MAX + 1];	/* x-snowflake-session to echo, "" none */
	/* A Pi has no RTC: before the first JWT, wait (at most
	 * clock_sync_wait_s) for the kernel to say the clock is synchronised. */
	bool clock_done;
	int64_t clock_since, clock_check_at;	/* mono ns; 0: not waiting */
	int token_kind;			/* PAT exchange: 0 jwt-bearer form, 1 RFC 8693 form */
	bool scope_role;		/* scope "<host> session:role:<role>", not the host alone */
	bool scope_flipped;		/* ... changed once after a 400 naming the scope */
	char scp[300];			/* the JWT's scp claim, "" for none */
	bool auth_refreshed;
	char ingest[API_HOST_MAX];
	char ingest_base[API_HOST_MAX + 16];

	/* channel: the name asked for, and the names the open answer says the
	 * service stores (an unquoted name upper-cased), which bulk status
	 * needs: its channel names are case-sensitive. */
	char channel[256];
	char st_channel[256], st_db[256], st_schema[256], st_pipe[256], st_upper[256];
	char *cont;			/* NULL: channel not open */
	bool have_committed;
	char committed[API_OFFSET_TOKEN_MAX + 1];
	uint64_t committed_seq;		/* in the held journal, 0 = none */
	bool err_base_set;
	int64_t err_base;

	/* sensord, as far as the stream goes */
	bool have_hello, subscribed, have_jid;
	uint64_t jid;			/* journal of every held batch */
	char device[PROTO_NAME_LEN];
	uint64_t next_seq;		/* next seq expected, 0 = any */
	uint64_t inflight_hi;		/* last seq appended since the open */
	uint64_t journal_last;		/* newest seq sensord showed of jid */
	/* What sensord may be acked never goes past what this process appended
	 * or found committed at an open and the journal explained. */
	uint64_t ack_bound;
	bool warned_past;		/* a commit past ack_bound was reported */
	/* A committed token ahead of the journal's last record waits for the
	 * next record or gap to tell a skip (a power cut) from a journal that
	 * went back; with --accept-committed-token records up to it are not
	 * sent instead. */
	uint64_t verify_ahead, skip_to;
	bool accept;			/* --accept-committed-token, until used once */
	bool streamed;			/* a journal was streamed before this one ... */
	uint64_t streamed_jid;		/* ... this one, in this run */

	/* the one request */
	enum engine_stage rq;
	uint64_t rq_first, rq_last;	/* the append's batch */
	char *rq_body;
	char url[API_URL_MAX];
	int attempts;			/* failed tries in a row, usable answers reset it */
	enum engine_stage failing;	/* the request those failures were of */
	int refusals;			/* refusals (reopens) with no commit progress */
	bool unusable_logged;		/* this streak of unusable answers was logged */
	int64_t retry_at, next_ingest_at, next_status_at;
	/* Status polls (schedule_status): the commit lag learned so far, the
	 * seq the next poll expects committed (0: a back-off poll, which
	 * expects nothing), and polls in a row that found nothing new. */
	int64_t commit_wait_ns;
	uint64_t wait_seq;
	int status_misses;
	bool need_rewind;
	char rewind_why[160];

	int sync_tries;
	bool done;
	struct engine_report rep;
};

/* ------------------------------------------------------------ helpers */

static void __attribute__((format(printf, 3, 4)))
elog(struct engine *e, int level, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	if (e->env.log == NULL)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	e->env.log(e->env.arg, level, msg);
}

static void __attribute__((format(printf, 4, 5)))
die(struct engine *e, struct engine_out *out, int code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(out->fatal, sizeof(out->fatal), fmt, ap);
	va_end(ap);
	out->exit_code = code;
	e->done = true;
}

static int64_t
wall_ns(const struct engine *e)
{
	return e->env.wall_ns ? e->env.wall_ns(e->env.arg) : clock_realtime_ns();
}

static int64_t
wall_s(const struct engine *e)
{
	return wall_ns(e) / NS_PER_S;
}

static void
set_str(char **dst, char *src)
{
	if (*dst != NULL) {
		OPENSSL_cleanse(*dst, strlen(*dst));
		free(*dst);
	}
	*dst = src;
}

static void
out_clear(struct engine_out *out)
{
	memset(out, 0, sizeof(*out));
}

static void
backoff(struct engine *e, enum engine_stage rq, int64_t now, long retry_after_s)
{
	int64_t ms = 250LL << (e->attempts < 7 ? e->attempts : 7);
	uint32_t rnd = 0;

	if (ms > 30000)
		ms = 30000;
	if (e->mode != ENGINE_STREAM && ms > 2000)
		ms = 2000;
	RAND_bytes((unsigned char *)&rnd, sizeof(rnd));
	ms = ms / 2 + (int64_t)(rnd % (uint32_t)(ms / 2 + 1));	/* jitter: 50..100% */
	if (retry_after_s >= 0 && retry_after_s * 1000 > ms)
		ms = retry_after_s * 1000 > 120000 ? 120000 : retry_after_s * 1000;
	e->attempts++;
	e->failing = rq;
	e->m->retries++;
	e->retry_at = now + ms * NS_PER_MS;
}

static const char *rq_name(enum engine_stage rq);

/* A usable answer to rq: its failures in a row are over. A usable answer
 * to another request ends nothing: appends that go through between status
 * polls answered unusably must not keep the status back-off at its start. */
static void
usable(struct engine *e, enum engine_stage rq)
{
	if (e->failing != ENGINE_RQ_NONE && e->failing != rq)
		return;
	e->failing = ENGINE_RQ_NONE;
	e->attempts = 0;
	e->unusable_logged = false;
	metrics_retry_over(e->m);
}

/* The failure of rq for the metrics: a label a time series may carry, so
 * from a small vocabulary and never anything secret — the request kind,
 * the HTTP status and the service's error code (its letters, digits and
 * underscores only), or the transport error's class (http.h). */
static void
note_failure(struct engine *e, enum engine_stage rq, long status, const char *code,
    const char *what_failed)
{
	char why[METRICS_REASON_MAX], c[41];
	size_t n = 0;

	for (; code != NULL && code[n] != '\0' && n < sizeof(c) - 1; n++)
		c[n] = isalnum((unsigned char)code[n]) || code[n] == '_' ? code[n] : '?';
	c[n] = '\0';
	if (status != 0)
		snprintf(why, sizeof(why), "%s: %sHTTP %ld%s%s", rq_name(rq), what_failed, status,
		    c[0] ? " " : "", c);
	else
		snprintf(why, sizeof(why), "%s: %s", rq_name(rq), what_failed);
	metrics_retrying(e->m, wall_ns(e), why);
}

static const char *what(const struct engine *e, enum engine_stage rq, char *buf, size_t cap);

/* A 2xx whose body cannot be used is a failure like a 5xx: back off (the
 * counter only resets on a usable answer), and log the first of a streak
 * with the start of the body. */
static void
unusable(struct engine *e, enum engine_stage rq, const struct http_resp *rs, int64_t now)
{
	char snip[160], w[400];

	api_snippet(rs->body, rs->body_len, snip, sizeof(snip));
	elog(e, e->unusable_logged ? LOG_LVL_DEBUG : LOG_LVL_WARN, "%s: unusable answer (HTTP "
	    "%ld, %s): %s; retrying", what(e, rq, w, sizeof(w)), rs->status,
	    rs->content_type[0] ? rs->content_type : "no content type", snip);
	e->unusable_logged = true;
	note_failure(e, rq, rs->status, "", "unusable answer, ");
	backoff(e, rq, now, -1);
}

static const char *
rq_name(enum engine_stage rq)
{
	static const char *const n[] = { "none", "hostname discovery", "token exchange",
		"open channel", "append", "channel status", "drop channel" };

	return n[rq];
}

/* The request named for a log line: its kind, and its channel and seqs. */
static const char *
what(const struct engine *e, enum engine_stage rq, char *buf, size_t cap)
{
	if (rq == ENGINE_RQ_APPEND)
		snprintf(buf, cap, "append %" PRIu64 "..%" PRIu64 " to channel %s", e->rq_first,
		    e->rq_last, e->channel);
	else if (rq >= ENGINE_RQ_OPEN)
		snprintf(buf, cap, "%s %s", rq_name(rq), e->channel);
	else
		snprintf(buf, cap, "%s", rq_name(rq));
	return buf;
}


/* ------------------------------------------------------------ rewind */

static void __attribute__((format(printf, 2, 3)))
want_rewind(struct engine *e, const char *fmt, ...)
{
	va_list ap;

	if (e->need_rewind)
		return;
	va_start(ap, fmt);
	vsnprintf(e->rewind_why, sizeof(e->rewind_why), fmt, ap);
	va_end(ap);
	e->need_rewind = true;
}

void
engine_want_rewind(struct engine *e, const char *why)
{
	want_rewind(e, "%s", why);
}

/* Forgets the channel and everything held; the caller drops its batches and
 * its sensord connection (out->rewind), whose next hello resubscribes. */
static void
rewind_all(struct engine *e, struct engine_out *out)
{
	elog(e, LOG_LVL_WARN, "channel %s: %s; reopening and replaying from the committed "
	    "offset token", e->channel, e->rewind_why);
	set_str(&e->cont, NULL);
	e->have_hello = false;
	e->subscribed = false;
	e->next_seq = 0;
	e->inflight_hi = 0;
	e->need_rewind = false;
	e->m->rewinds++;
	out->rewind = true;
}

/* ------------------------------------------------------------ sensord */

static uint64_t
max64(uint64_t a, uint64_t b)
{
	return a > b ? a : b;
}

static void
set_committed(struct engine *e, uint64_t seq)
{
	e->committed_seq = seq;
	e->m->committed_seq = seq;
}

/* The committed token is ahead of the journal's last record: a journal
 * that skipped seqs after a power cut, or one that went back (restored
 * from an older copy) and would hand out committed seqs again. */
static void
start_ahead(struct engine *e, uint64_t seq, struct engine_out *out)
{
	if (e->accept) {
		e->accept = false;
		e->skip_to = seq;
		set_committed(e, seq);
		e->ack_bound = max64(e->ack_bound, seq);
		elog(e, LOG_LVL_WARN, "WARNING: channel %s's committed offset token %s is ahead of "
		    "journal %016" PRIx64 ", whose last record is %" PRIu64 "; accepted "
		    "(--accept-committed-token): records up to %" PRIu64 " are not sent",
		    e->channel, e->committed, e->jid, e->journal_last, seq);
	} else {
		e->verify_ahead = seq;
		elog(e, LOG_LVL_INFO, "channel %s's committed offset token %s is ahead of journal "
		    "%016" PRIx64 "'s last record %" PRIu64 ": sensord's next record tells whether "
		    "the journal skipped past it (a power cut) or went back", e->channel,
		    e->committed, e->jid, e->journal_last);
	}
	out->sub_from = e->journal_last + 1;
}

/* The committed token is not from the journal sensord serves. */
static void
start_foreign(struct engine *e, struct engine_out *out)
{
	uint64_t jid = 0, seq = 0;
	bool parsed = row_parse_offset_token(e->committed, &jid, &seq) == 0;

	set_committed(e, 0);
	out->sub_oldest = true;
	if (parsed && e->streamed && jid == e->streamed_jid) {
		elog(e, LOG_LVL_WARN, "WARNING: sensord's journal was replaced while streamerd ran "
		    "(%016" PRIx64 ", now %016" PRIx64 "): channel %s starts over from the oldest "
		    "record the new journal holds", jid, e->jid, e->channel);
		return;
	}
	if (e->accept) {
		e->accept = false;
		elog(e, LOG_LVL_WARN, "WARNING: channel %s's committed offset token \"%s\" is not "
		    "from journal %016" PRIx64 "; accepted (--accept-committed-token): starting "
		    "from the oldest record the journal holds", e->channel, e->committed, e->jid);
		return;
	}
	die(e, out, EXIT_PRODUCTION, "PRODUCTION MODE FAILED: channel %s's committed offset "
	    "token \"%s\" is not from journal %016" PRIx64 " that sensord serves: another device "
	    "may be writing to this channel, or this device's journal was replaced (reflashed "
	    "card, deleted journal). Streaming on could send records twice or skip them, so "
	    "streamerd stops. Another device: give each its own \"channel_name\". A replaced "
	    "journal: run once with --accept-committed-token (the channel starts over from the "
	    "oldest record the journal holds), or drop the channel (streamerd --drop-channel)",
	    e->channel, e->committed, e->jid);
}

/* Where a fresh subscription starts: after the committed token, when the
 * journal explains it. */
static void
start_from_token(struct engine *e, struct engine_out *out)
{
	uint64_t jid = 0, seq = 0;

	if (!e->have_committed) {
		out->sub_oldest = true;
		set_committed(e, 0);
		elog(e, LOG_LVL_INFO, "channel %s has no committed offset token: starting from "
		    "the oldest record in the journal", e->channel);
	} else if (row_parse_offset_token(e->committed, &jid, &seq) < 0 || jid != e->jid) {
		start_foreign(e, out);
	} else if (seq > e->journal_last) {
		start_ahead(e, seq, out);
	} else {
		out->sub_from = seq + 1;
		set_committed(e, seq);
		e->ack_bound = max64(e->ack_bound, seq);
	}
}

/* Subscribes once the channel is open and sensord said hello. */
static void
maybe_subscribe(struct engine *e, struct engine_out *out)
{
	if (e->mode != ENGINE_STREAM || !e->have_hello || e->subscribed || e->cont == NULL ||
	    e->need_rewind || e->device[0] == '\0')
		return;
	if (e->next_seq != 0)
		out->sub_from = e->next_seq;	/* reconnect: continue after what we hold */
	else
		start_from_token(e, out);
	if (out->exit_code != 0)
		return;
	out->subscribe = true;
	if (!out->sub_oldest)
		e->next_seq = out->sub_from;
	e->subscribed = true;
	if (out->sub_oldest)
		elog(e, LOG_LVL_INFO, "subscribed to sensord from the oldest record");
	else
		elog(e, LOG_LVL_INFO, "subscribed to sensord from seq %" PRIu64, out->sub_from);
}

/* A new journal: nothing appended or committed from it yet. */
static void
new_journal(struct engine *e, uint64_t journal_id)
{
	if (e->have_jid && e->jid != journal_id && (e->ack_bound || e->subscribed)) {
		e->streamed = true;
		e->streamed_jid = e->jid;
	}
	e->jid = journal_id;
	e->have_jid = true;
	e->journal_last = 0;
	e->ack_bound = 0;
	e->verify_ahead = 0;
	e->skip_to = 0;
	e->warned_past = false;
	set_committed(e, 0);
}

void
engine_on_hello(struct engine *e, uint64_t journal_id, uint64_t first_seq,
    uint64_t last_seq, const char *device, struct engine_out *out)
{
	bool holding = e->next_seq != 0 || e->inflight_hi != 0;

	out_clear(out);
	snprintf(e->device, sizeof(e->device), "%s", device);
	if (e->mode == ENGINE_STREAM && holding && e->have_jid && journal_id != e->jid) {
		elog(e, LOG_LVL_WARN, "sensord now serves journal %016" PRIx64 " instead of %016"
		    PRIx64, journal_id, e->jid);
		want_rewind(e, "sensord's journal changed");
	}
	if (!e->have_jid || journal_id != e->jid)
		new_journal(e, journal_id);
	e->have_hello = true;
	e->journal_last = max64(e->journal_last, last_seq);
	e->m->journal_last_seq = max64(e->m->journal_last_seq, last_seq);
	if (e->channel[0] == '\0' && e->device[0] != '\0')
		snprintf(e->channel, sizeof(e->channel), "%s", e->device);
	if (e->mode == ENGINE_STREAM)
		elog(e, LOG_LVL_INFO, "sensord: journal %016" PRIx64 " holds seqs %" PRIu64 "..%"
		    PRIu64 ", device \"%s\"", journal_id, first_seq, last_seq, e->device);
	maybe_subscribe(e, out);
}

/* The first record or gap after a committed token ahead of the journal:
 * past the token, the journal skipped it (nothing of it to send); at or
 * below it, the journal went back and would hand out committed seqs again. */
static bool
verify_ahead(struct engine *e, uint64_t seq, struct engine_out *out)
{
	uint64_t tok = e->verify_ahead;

	if (seq <= tok) {
		die(e, out, EXIT_PRODUCTION, "PRODUCTION MODE FAILED: channel %s's committed offset "
		    "token %s is ahead of sensord's journal %016" PRIx64 ": the table holds its "
		    "seqs up to %" PRIu64 ", but the journal's last record was %" PRIu64 " and it "
		    "hands out seq %" PRIu64 " again (a journal restored from an older copy, or a "
		    "service reporting a token it should not). Streaming on would skip records %"
		    PRIu64 "..%" PRIu64 ", so streamerd stops. If the journal was restored and the "
		    "table is right, run once with --accept-committed-token: records up to %"
		    PRIu64 " are then not sent", e->channel, e->committed, e->jid, tok,
		    e->journal_last, seq, seq, tok, tok);
		return false;
	}
	elog(e, LOG_LVL_INFO, "sensord's journal %016" PRIx64 " continues at seq %" PRIu64 ", past "
	    "the committed offset token's %" PRIu64 " (seqs skipped after a power cut): nothing "
	    "is lost", e->jid, seq, tok);
	e->verify_ahead = 0;
	set_committed(e, tok);
	e->ack_bound = max64(e->ack_bound, tok);
	e->next_seq = tok + 1;
	return true;
}

bool
engine_on_record(struct engine *e, uint64_t seq, struct engine_out *out)
{
	out_clear(out);
	if (!e->subscribed || e->need_rewind)
		return false;
	if (e->verify_ahead != 0 && !verify_ahead(e, seq, out))
		return false;
	e->journal_last = max64(e->journal_last, seq);
	e->m->journal_last_seq = max64(e->m->journal_last_seq, seq);
	if (e->next_seq != 0 && seq < e->next_seq)
		return false;		/* already held: a replay overlap */
	if (seq <= e->skip_to) {	/* accepted: the table holds these seqs */
		e->m->records_missing++;
		e->next_seq = seq + 1;
		return false;
	}
	if (e->next_seq != 0 && seq > e->next_seq) {
		elog(e, LOG_LVL_WARN, "sensord skipped seqs %" PRIu64 "..%" PRIu64 " without a "
		    "gap message", e->next_seq, seq - 1);
		e->m->records_missing += seq - e->next_seq;
	}
	e->next_seq = seq + 1;
	e->m->records_received++;
	return true;
}

void
engine_on_gap(struct engine *e, uint64_t from, uint64_t to, struct engine_out *out)
{
	uint64_t lo;

	out_clear(out);
	if (e->verify_ahead != 0) {
		if (to < e->verify_ahead) {	/* all committed: the next one decides */
			e->journal_last = max64(e->journal_last, to);
			e->next_seq = to + 1;
			return;
		}
		verify_ahead(e, to, out);
	}
	/* What the table holds is not missing, only what comes after it. */
	lo = max64(from, max64(e->committed_seq, e->skip_to) + 1);
	if (lo <= to) {
		elog(e, LOG_LVL_WARN, "sensord: seqs %" PRIu64 "..%" PRIu64 " were dropped by "
		    "journal retention before they were committed", lo, to);
		e->m->records_missing += to - lo + 1;
	}
	e->journal_last = max64(e->journal_last, to);
	if (to + 1 > e->next_seq)
		e->next_seq = to + 1;
}

void
engine_on_sub_lost(struct engine *e)
{
	e->have_hello = false;
	e->subscribed = false;
}

uint64_t
engine_ackable(const struct engine *e)
{
	uint64_t a = e->committed_seq;

	if (!e->subscribed || e->verify_ahead != 0)
		return 0;
	if (a > e->ack_bound)
		a = e->ack_bound;
	return a > e->journal_last ? e->journal_last : a;
}

/* ------------------------------------------------------------ credentials */

static int
mint_jwt(struct engine *e)
{
	char *jwt = NULL;
	int64_t now = wall_s(e);
	int r;

	if ((r = auth_make_jwt(e->key, e->claim_account, e->claim_user, e->fp,
	    e->scp[0] ? e->scp : NULL, now, AUTH_JWT_LIFETIME, &jwt)) < 0)
		return r;
	set_str(&e->jwt, jwt);
	e->jwt_exp = now + AUTH_JWT_LIFETIME;
	return 0;
}

/* The account credential for hostname discovery and the token exchange;
 * NULL (and out set) when a JWT cannot be signed. A JWT is minted for each
 * call: the service may refuse one issued more than 60 s before it arrives
 * (394302). */
static const char *
account_cred(struct engine *e, const char **ret_type, struct engine_out *out)
{
	if (e->key == NULL) {
		*ret_type = "PROGRAMMATIC_ACCESS_TOKEN";
		return e->cf->pat;
	}
	if (mint_jwt(e) < 0) {
		die(e, out, EXIT_PRODUCTION, "cannot sign a JWT with %s", e->cf->private_key_file);
		return NULL;
	}
	*ret_type = "KEYPAIR_JWT";
	return e->jwt;
}

static void
set_scoped(struct engine *e, char *tok, int64_t now)
{
	int64_t exp = 0, wall = wall_s(e), life, margin;

	if (auth_token_exp(tok, &exp) < 0 || exp <= wall)
		exp = e->key ? e->jwt_exp : wall + 55 * 60;
	if (e->key && exp > e->jwt_exp)
		exp = e->jwt_exp;
	life = exp - wall;
	margin = life / 4 < 120 ? life / 4 : 120;
	e->scoped_refresh_at = now + (life - margin) * NS_PER_S;
	set_str(&e->scoped, tok);
}

/* ------------------------------------------------------------ the clock */

static bool
synced(const struct engine *e)
{
	return e->env.clock_synced ? e->env.clock_synced(e->env.arg) : clock_synced();
}

/* True once a JWT may be minted: the clock is synchronised, or the wait for
 * it is over (or not wanted: --check and --drop-channel report the clock
 * themselves, and clock_sync_wait_s 0 means not to wait). Logs the wait
 * once, and its end. */
static bool
clock_ready(struct engine *e, int64_t now)
{
	int64_t wait = e->cf->clock_sync_wait_s * NS_PER_S;

	if (e->clock_done || e->key == NULL)
		return true;
	if (synced(e)) {
		if (e->clock_since != 0)
			elog(e, LOG_LVL_INFO, "the clock is synchronised (after %" PRId64 " s)",
			    (int64_t)((now - e->clock_since) / NS_PER_S));
	} else if (e->mode != ENGINE_STREAM || wait == 0) {
		elog(e, LOG_LVL_INFO, "the clock is not synchronised; signing JWTs anyway%s",
		    e->mode == ENGINE_STREAM ? " (clock_sync_wait_s is 0)" : "");
	} else if (e->clock_since == 0) {
		elog(e, LOG_LVL_WARN, "the clock is not synchronised yet (no NTP sync since boot? "
		    "a Pi has no clock of its own): waiting up to %" PRId64 " s before signing a "
		    "JWT (clock_sync_wait_s)", e->cf->clock_sync_wait_s);
		e->clock_since = now;
		e->clock_check_at = now + NS_PER_S;
		return false;
	} else if (now - e->clock_since < wait) {
		e->clock_check_at = now + NS_PER_S;
		return false;
	} else {
		elog(e, LOG_LVL_WARN, "the clock is still not synchronised after %" PRId64 " s: "
		    "signing a JWT anyway (a 401 may follow; check NTP, e.g. timedatectl)",
		    e->cf->clock_sync_wait_s);
	}
	e->clock_done = true;
	e->clock_check_at = 0;
	return true;
}

bool
engine_waiting_clock(const struct engine *e)
{
	return e->clock_check_at != 0;
}

/* ------------------------------------------------------------ requests */

static void
start(struct engine *e, enum engine_stage rq, int64_t now)
{
	e->rq = rq;
	e->rep.stage = rq;
	e->m->requests++;
	if (rq >= ENGINE_RQ_OPEN)
		e->next_ingest_at = now + INGEST_GAP_NS;
}

static bool
req_hostname(struct engine *e, int64_t now, struct http_req *q, struct engine_out *out)
{
	*q = (struct http_req){ .method = "GET", .url = e->url, .timeout_ms = OTHER_TIMEOUT_MS };
	snprintf(e->url, sizeof(e->url), "%s/v2/streaming/hostname", e->cf->control_base);
	if ((q->bearer = account_cred(e, &q->token_type, out)) == NULL)
		return false;
	start(e, ENGINE_RQ_HOSTNAME, now);
	return true;
}

static bool
req_token(struct engine *e, int64_t now, struct http_req *q, struct engine_out *out)
{
	char scope[API_HOST_MAX + 300];
	const char *type, *cred;
	int kind = e->key ? 0 : e->token_kind;

	if ((cred = account_cred(e, &type, out)) == NULL)
		return false;
	if (e->scope_role)
		snprintf(scope, sizeof(scope), "%s session:role:%s", e->ingest, e->cf->role);
	else
		snprintf(scope, sizeof(scope), "%s", e->ingest);
	free(e->rq_body);
	e->rq_body = NULL;
	if (api_body_token(kind, scope, kind == 1 ? cred : NULL, &e->rq_body) < 0) {
		die(e, out, EXIT_RUNTIME, "out of memory");
		return false;
	}
	snprintf(e->url, sizeof(e->url), "%s/oauth/token", e->cf->control_base);
	*q = (struct http_req){ .method = "POST", .url = e->url, .timeout_ms = OTHER_TIMEOUT_MS,
		.content_type = "application/x-www-form-urlencoded", .body = e->rq_body,
		.body_len = strlen(e->rq_body) };
	if (kind == 0)
		q->bearer = cred;
	start(e, ENGINE_RQ_TOKEN, now);
	return true;
}

/* The credential on the ingest host: the PAT itself until that host
 * refuses it, else the scoped token. */
static void
ingest_auth(const struct engine *e, struct http_req *q)
{
	/* The service may route a channel's requests by this header; it is
	 * sent back as it came (one printable token, see http.c). */
	if (e->session[0] != '\0')
		q->session = e->session;
	if (e->pat_direct) {
		q->bearer = e->cf->pat;
		q->token_type = "PROGRAMMATIC_ACCESS_TOKEN";
	} else {
		q->bearer = e->scoped;
	}
}

static bool
req_open(struct engine *e, int64_t now, struct http_req *q, struct engine_out *out)
{
	char rid[37];

	batch_request_id(rid);
	if (api_url_channel(e->url, sizeof(e->url), e->ingest_base, e->cf->database,
	    e->cf->schema, e->cf->pipe, e->channel, rid) < 0) {
		die(e, out, EXIT_CONFIG, "database/schema/pipe/channel names are too long");
		return false;
	}
	*q = (struct http_req){ .method = "PUT", .url = e->url,
		.content_type = "application/json", .body = OPEN_BODY,
		.body_len = strlen(OPEN_BODY), .timeout_ms = OTHER_TIMEOUT_MS };
	ingest_auth(e, q);
	start(e, ENGINE_RQ_OPEN, now);
	return true;
}

static bool
req_append(struct engine *e, int64_t now, const struct batch *b, struct http_req *q)
{
	char st[ROW_OFFSET_TOKEN_LEN], en[ROW_OFFSET_TOKEN_LEN];

	row_offset_token(b->journal_id, b->first_seq, st);
	row_offset_token(b->journal_id, b->last_seq, en);
	if (api_url_append(e->url, sizeof(e->url), e->ingest_base, e->cf->database,
	    e->cf->schema, e->cf->pipe, e->channel, st, en, e->cont, b->request_id) < 0) {
		want_rewind(e, "the append URL does not fit");
		return false;
	}
	*q = (struct http_req){ .method = "POST", .url = e->url,
		.content_type = "application/x-ndjson",
		.content_encoding = batch_comp_encoding(e->cf->compression),
		.body = b->body, .body_len = b->body_len, .raw_len = b->raw_total,
		.timeout_ms = APPEND_TIMEOUT_MS };
	ingest_auth(e, q);
	e->rq_first = b->first_seq;
	e->rq_last = b->last_seq;
	start(e, ENGINE_RQ_APPEND, now);
	return true;
}

static bool
req_status(struct engine *e, int64_t now, struct http_req *q, struct engine_out *out)
{
	const char *names[2] = { e->st_channel, e->st_upper };
	char rid[37];
	size_t n = 1;

	if (e->mode == ENGINE_CHECK) {
		/* Not opened: ask for the name as configured and as the
		 * service stores an unquoted one. */
		names[0] = e->channel[0] ? e->channel : "-";
		auth_upper(names[0], e->st_upper, sizeof(e->st_upper));
		n = strcmp(names[0], e->st_upper) != 0 ? 2 : 1;
	}
	free(e->rq_body);
	e->rq_body = NULL;
	batch_request_id(rid);
	if (api_body_status(names, n, &e->rq_body) < 0 ||
	    api_url_status(e->url, sizeof(e->url), e->ingest_base, e->st_db, e->st_schema,
	    e->st_pipe, rid) < 0) {
		die(e, out, EXIT_CONFIG, "cannot build the status request: names too long");
		return false;
	}
	*q = (struct http_req){ .method = "POST", .url = e->url,
		.content_type = "application/json", .body = e->rq_body,
		.body_len = strlen(e->rq_body), .timeout_ms = OTHER_TIMEOUT_MS };
	ingest_auth(e, q);
	start(e, ENGINE_RQ_STATUS, now);
	return true;
}

static bool
req_drop(struct engine *e, int64_t now, struct http_req *q, struct engine_out *out)
{
	if (api_url_channel(e->url, sizeof(e->url), e->ingest_base, e->cf->database,
	    e->cf->schema, e->cf->pipe, e->channel, "00000000-0000-4000-8000-000000000000") < 0) {
		die(e, out, EXIT_CONFIG, "database/schema/pipe/channel names are too long");
		return false;
	}
	*q = (struct http_req){ .method = "DELETE", .url = e->url,
		.content_type = "application/json", .body = OPEN_BODY,
		.body_len = strlen(OPEN_BODY), .timeout_ms = OTHER_TIMEOUT_MS };
	ingest_auth(e, q);
	start(e, ENGINE_RQ_DROP, now);
	return true;
}

static bool
need_token(const struct engine *e, int64_t now)
{
	return !e->pat_direct &&
	    (e->scoped == NULL || (e->scoped_refresh_at && now >= e->scoped_refresh_at));
}

/* The ingest-host request the state calls for, if any. */
static bool
next_ingest(struct engine *e, int64_t now, const struct batch *head, struct http_req *q,
    struct engine_out *out)
{
	if (e->mode == ENGINE_CHECK)
		return !e->rep.status && req_status(e, now, q, out);
	if (e->mode == ENGINE_DROP)
		return !e->rep.dropped && e->channel[0] != '\0' && req_drop(e, now, q, out);
	if (now < e->next_ingest_at)
		return false;
	if (e->cont == NULL)
		return e->channel[0] != '\0' && req_open(e, now, q, out);
	if (head != NULL && head->journal_id == e->jid)
		return req_append(e, now, head, q);
	if (e->inflight_hi > e->committed_seq && now >= e->next_status_at)
		return req_status(e, now, q, out);
	return false;
}

bool
engine_next(struct engine *e, int64_t now, const struct batch *head, struct http_req *req,
    struct engine_out *out)
{
	out_clear(out);
	if (e->done || e->rq != ENGINE_RQ_NONE || now < e->retry_at)
		return false;
	if (e->need_rewind)
		rewind_all(e, out);
	if ((e->ingest[0] == '\0' || need_token(e, now)) && !clock_ready(e, now))
		return false;
	if (e->ingest[0] == '\0')
		return req_hostname(e, now, req, out);
	if (need_token(e, now))
		return req_token(e, now, req, out);
	return next_ingest(e, now, head, req, out);
}

static int64_t
later(int64_t a, int64_t b)
{
	return a > b ? a : b;
}

static int64_t
sooner(int64_t a, int64_t b)
{
	return a < b ? a : b;
}

int64_t
engine_deadline(const struct engine *e, bool have_batch)
{
	int64_t d = INT64_MAX, ingest;

	if (e->done || e->rq != ENGINE_RQ_NONE)
		return INT64_MAX;
	if (e->clock_check_at != 0)
		return later(e->clock_check_at, e->retry_at);
	if (e->need_rewind || e->ingest[0] == '\0' || (!e->pat_direct && e->scoped == NULL))
		return e->retry_at;
	if (e->scoped_refresh_at)
		d = later(e->scoped_refresh_at, e->retry_at);
	ingest = later(e->retry_at, e->next_ingest_at);
	if (e->mode != ENGINE_STREAM || (e->cont == NULL ? e->channel[0] != '\0' : have_batch))
		return sooner(d, ingest);
	if (e->cont != NULL && e->inflight_hi > e->committed_seq)
		d = sooner(d, later(ingest, e->next_status_at));
	return d;
}

/* ------------------------------------------------------------ answers */

static void
die_missing(struct engine *e, struct engine_out *out, const char *code)
{
	die(e, out, EXIT_PRODUCTION, "PRODUCTION MODE FAILED: %s: database %s, schema %s, pipe "
	    "%s does not exist or the role may not use it; %s", code[0] ? code : "not found",
	    e->cf->database, e->cf->schema, e->cf->pipe, SETUP_HINT);
}

static void
die_forbidden(struct engine *e, struct engine_out *out, const char *what, const char *code)
{
	die(e, out, EXIT_PRODUCTION, "PRODUCTION MODE FAILED: %s refused with HTTP 403 %s: the "
	    "role%s%s lacks a grant (USAGE on database %s and schema %s, INSERT on the table, "
	    "OPERATE on pipe %s) or a network policy blocks this host", what, code,
	    e->cf->role[0] ? " " : "", e->cf->role, e->cf->database, e->cf->schema,
	    e->cf->pipe);
}

/* 401: refresh the credentials once and repeat; a second 401 is fatal. */
static void
on_unauthorized(struct engine *e, struct engine_out *out, const char *what)
{
	if (e->auth_refreshed) {
		die(e, out, EXIT_PRODUCTION, "PRODUCTION MODE FAILED: %s: authentication refused "
		    "(HTTP 401) again after refreshing the token; check %s%s", what, e->key ?
		    "that the key's fingerprint (streamerd --check) equals RSA_PUBLIC_KEY_FP in "
		    "DESC USER, the user and account names, and the clock" :
		    "that the PAT is valid, not expired, and the user has a network policy",
		    e->key && !synced(e) ? " (the kernel says the clock is not synchronised: "
		    "start NTP, e.g. systemd-timesyncd)" : "");
		return;
	}
	elog(e, LOG_LVL_WARN, "%s: HTTP 401; refreshing the token once", what);
	e->auth_refreshed = true;
	set_str(&e->jwt, NULL);
	set_str(&e->scoped, NULL);
}

/* What fatal refusals tell the operator to do. */
static const char *
refusal_hint(long status, const char *code)
{
	if (status == 413 || strcmp(code, "ERR_PAYLOAD_TOO_LARGE") == 0)
		return "the service wants smaller requests: lower \"batch_max_wire_bytes\"";
	if (status == 415 || strcmp(code, "ERR_UNSUPPORTED_CONTENT_ENCODING") == 0)
		return "the service does not take this compression: set \"compression\" to "
		    "\"gzip\" or \"none\"";
	return "streamerd cannot get past this by itself; the records stay in sensord's journal "
	    "until it is solved (please report the message)";
}

/* The service refused the channel (a reopen-class error, an unknown 4xx, a
 * status it cannot be used in): reopen and replay (an append or status) or
 * open again, after a back-off that grows with each refusal. Commit progress
 * ends the count, a successful reopen does not: REFUSALS_MAX in a row is
 * one fatal error naming the last answer. known: a code that only asks for a
 * reopen, which the first time goes at once. */
static void
refused(struct engine *e, enum engine_stage rq, long status, const char *code,
    const char *msg, bool known, int64_t now, struct engine_out *out)
{
	char w[400], desc[600];
	int64_t ms;
	uint32_t rnd = 0;

	what(e, rq, w, sizeof(w));
	if (status != 0)
		snprintf(desc, sizeof(desc), "HTTP %ld %s: %s", status, code[0] ? code : "(no code)",
		    msg[0] ? msg : "(no message)");
	else
		snprintf(desc, sizeof(desc), "%s", msg);
	if (e->mode != ENGINE_STREAM) {
		die(e, out, EXIT_PRODUCTION, "%s refused: %s", w, desc);
		return;
	}
	if (++e->refusals >= REFUSALS_MAX) {
		die(e, out, EXIT_PRODUCTION, "PRODUCTION MODE FAILED: %s refused %d times in a row "
		    "with no commit in between: %s; %s", w, e->refusals, desc,
		    refusal_hint(status, code));
		return;
	}
	elog(e, LOG_LVL_WARN, "%s: %s (refusal %d of at most %d with no commit)", w, desc,
	    e->refusals, REFUSALS_MAX - 1);
	ms = known && e->refusals == 1 ? 0 : 250LL << (e->refusals < 8 ? e->refusals - 1 : 7);
	if (ms > 30000)
		ms = 30000;
	if (ms > 0) {
		RAND_bytes((unsigned char *)&rnd, sizeof(rnd));
		ms = ms / 2 + (int64_t)(rnd % (uint32_t)(ms / 2 + 1));
		e->retry_at = now + ms * NS_PER_MS;
		e->m->retries++;
		/* status 0: msg is one of this file's own sentences */
		note_failure(e, rq, status, code, status != 0 ? "refused, " : msg);
	}
	if (rq != ENGINE_RQ_OPEN)
		want_rewind(e, "%s: %s", w, desc);
}

static void
refused_answer(struct engine *e, enum engine_stage rq, enum api_class c,
    const struct http_resp *rs, const char *code, int64_t now, struct engine_out *out)
{
	char msg[256];

	api_error_message(rs->body, rs->body_len, msg, sizeof(msg));
	if (msg[0] == '\0' && code[0] == '\0')
		api_snippet(rs->body, rs->body_len, msg, sizeof(msg));
	refused(e, rq, rs->status, code, msg, c == API_REOPEN, now, out);
}

static void
common_failure(struct engine *e, enum engine_stage rq, enum api_class c,
    const struct http_resp *rs, const char *code, int64_t now, struct engine_out *out)
{
	char w[400];
	const char *name = what(e, rq, w, sizeof(w));

	switch (c) {
	case API_AUTH:
		if (e->pat_direct && rq >= ENGINE_RQ_OPEN) {
			/* The PAT as it is was refused: exchange it (not the one
			 * refresh a credential gets). */
			elog(e, LOG_LVL_WARN, "%s: the ingest host refused the PAT as the Bearer "
			    "(HTTP 401); exchanging it for a scoped token", name);
			e->pat_direct = false;
			e->token_kind = 0;
			e->rep.pat_refused = true;
			break;
		}
		on_unauthorized(e, out, name);
		break;
	case API_FORBIDDEN:
		die_forbidden(e, out, name, code);
		break;
	case API_MISSING:
		die_missing(e, out, code);
		break;
	case API_RETRY:
		if (rs->status == 0)
			elog(e, LOG_LVL_WARN, "%s: %s; retrying", name, rs->error);
		else
			elog(e, LOG_LVL_WARN, "%s: HTTP %ld %s; retrying", name, rs->status, code);
		note_failure(e, rq, rs->status, code, rs->status != 0 ? "" :
		    rs->error_kind != NULL ? rs->error_kind : "transport failure");
		backoff(e, rq, now, (long)rs->retry_after_s);
		break;
	default:
		refused_answer(e, rq, c, rs, code, now, out);
		break;
	}
}

static void
on_hostname(struct engine *e, const struct http_resp *rs, enum api_class c, const char *code,
    int64_t now, struct engine_out *out)
{
	if (c == API_OK) {
		if (api_parse_hostname(rs->body, rs->body_len, e->ingest) < 0) {
			unusable(e, ENGINE_RQ_HOSTNAME, rs, now);
			return;
		}
		usable(e, ENGINE_RQ_HOSTNAME);
		snprintf(e->ingest_base, sizeof(e->ingest_base), "https://%s", e->ingest);
		elog(e, LOG_LVL_INFO, "ingest host: %s", e->ingest);
		e->rep.hostname = true;
		return;
	}
	if (c == API_MISSING || c == API_BAD) {
		die(e, out, EXIT_PRODUCTION, "PRODUCTION MODE FAILED: hostname discovery at %s: "
		    "HTTP %ld %s; check \"url\"/\"account_url\"/\"account\"", e->cf->control_base,
		    rs->status, code);
		return;
	}
	common_failure(e, ENGINE_RQ_HOSTNAME, c, rs, code, now, out);
}

/* True when an error answer is about the token request's scope. */
static bool
names_scope(const struct http_resp *rs, const char *code)
{
	char msg[256];

	api_error_message(rs->body, rs->body_len, msg, sizeof(msg));
	return strcasestr(code, "scope") != NULL || strcasestr(msg, "scope") != NULL;
}

static void
on_token(struct engine *e, const struct http_resp *rs, enum api_class c, const char *code,
    int64_t now, struct engine_out *out)
{
	char *tok = NULL;

	if (c == API_OK) {
		if (api_parse_token(rs->body, rs->body_len, &tok) < 0) {
			unusable(e, ENGINE_RQ_TOKEN, rs, now);
			return;
		}
		usable(e, ENGINE_RQ_TOKEN);
		set_scoped(e, tok, now);
		elog(e, LOG_LVL_INFO, "scoped token obtained for %s", e->ingest);
		e->rep.token = true;
		return;
	}
	if (rs->status == 400 && e->cf->role[0] != '\0' && !e->scope_flipped &&
	    names_scope(rs, code)) {
		/* The documented scope is the host alone; some accounts may want
		 * the role in it: the other form, once. */
		e->scope_flipped = true;
		e->scope_role = !e->scope_role;
		elog(e, LOG_LVL_INFO, "token exchange: HTTP 400 %s is about the scope; asking for "
		    "%s instead", code, e->scope_role ? "the host with \"session:role:\"" :
		    "the host alone");
		return;
	}
	if (e->key == NULL && rs->status >= 400 && rs->status < 500 && c != API_RETRY) {
		if (e->token_kind == 0) {
			e->token_kind = 1;
			elog(e, LOG_LVL_INFO, "token exchange refused the PAT (HTTP %ld %s); trying "
			    "the RFC 8693 token-exchange form", rs->status, code);
			return;
		}
		die(e, out, EXIT_PRODUCTION, "PRODUCTION MODE FAILED: the ingest host refused the "
		    "PAT as the Bearer (HTTP 401) and the token exchange refused it in both forms "
		    "(last: HTTP %ld %s); check that the PAT is valid, not expired, that its role "
		    "may use the pipe, and that the user has a network policy", rs->status, code);
		return;
	}
	if (c == API_BAD || c == API_MISSING) {
		die(e, out, EXIT_PRODUCTION, "PRODUCTION MODE FAILED: token exchange: HTTP %ld %s",
		    rs->status, code);
		return;
	}
	common_failure(e, ENGINE_RQ_TOKEN, c, rs, code, now, out);
}

/* The names bulk status asks for: the open answer's, else the configured. */
static void
stored_names(struct engine *e, const struct api_chstatus *st)
{
	snprintf(e->st_channel, sizeof(e->st_channel), "%s",
	    st->channel_name[0] ? st->channel_name : e->channel);
	snprintf(e->st_db, sizeof(e->st_db), "%s",
	    st->database_name[0] ? st->database_name : e->cf->database);
	snprintf(e->st_schema, sizeof(e->st_schema), "%s",
	    st->schema_name[0] ? st->schema_name : e->cf->schema);
	snprintf(e->st_pipe, sizeof(e->st_pipe), "%s",
	    st->pipe_name[0] ? st->pipe_name : e->cf->pipe);
	if (strcmp(e->st_channel, e->channel) != 0)
		elog(e, LOG_LVL_INFO, "channel %s is stored as \"%s\": bulk status asks for that "
		    "name", e->channel, e->st_channel);
}

static void
on_open(struct engine *e, const struct http_resp *rs, enum api_class c, const char *code,
    int64_t now, struct engine_out *out)
{
	struct api_chstatus st;
	char *cont = NULL;

	if (c != API_OK) {
		common_failure(e, ENGINE_RQ_OPEN, c, rs, code, now, out);
		return;
	}
	if (api_parse_open(rs->body, rs->body_len, &cont, &st) < 0) {
		unusable(e, ENGINE_RQ_OPEN, rs, now);
		return;
	}
	if (!api_status_usable(st.code)) {
		free(cont);
		if (api_classify(404, st.code) == API_MISSING && strncmp(st.code, "ERR_", 4) == 0) {
			die_missing(e, out, st.code);
			return;
		}
		refused(e, ENGINE_RQ_OPEN, rs->status, st.code, "the channel's status is not usable",
		    false, now, out);
		return;
	}
	usable(e, ENGINE_RQ_OPEN);
	stored_names(e, &st);
	set_str(&e->cont, cont);
	e->have_committed = st.has_committed;
	snprintf(e->committed, sizeof(e->committed), "%s", st.committed);
	e->err_base = st.rows_error_count;
	e->err_base_set = st.has_errors;
	e->inflight_hi = 0;
	elog(e, LOG_LVL_INFO, "channel %s open on pipe %s.%s.%s; last committed offset token %s",
	    e->channel, e->cf->database, e->cf->schema, e->cf->pipe,
	    st.has_committed ? st.committed : "(none)");
	maybe_subscribe(e, out);
}

/* ------------------------------------------------------------ status polls */

/* A bulk status call is worth making when it can confirm something, and
 * one call confirms every append committed by then. So the first poll after
 * an append that starts a wait (nothing else pending) goes when the commit
 * should be there: after the commit lag learned so far, at least
 * commit_poll_ms. Appends made meanwhile do not move that poll (a steady
 * stream of appends would put it off for ever); when it confirms some and
 * others are pending, the next goes one lag later, when every append made
 * by now should be committed: at most one call per lag however fast
 * appends come, so one call confirms several. The lag shrinks slowly
 * while polls so timed find what they expected committed and grows by a
 * quarter when one does not: about one call per append at a steady lag,
 * fewer when appends come faster than commits, and a miss now and then to
 * notice a lag that got shorter. Polls that find nothing new committed
 * back off: commit_poll_ms, then twice that, up to 8 times. Acks only
 * ever follow a confirmed commit; this decides only how often to ask. */
static void
commit_wait_begins(struct engine *e, int64_t now)
{
	int64_t poll = e->cf->commit_poll_ms * NS_PER_MS;

	if (e->commit_wait_ns < poll)
		e->commit_wait_ns = poll;
	e->wait_seq = e->rq_last;
	e->status_misses = 0;
	e->next_status_at = now + e->commit_wait_ns;
}

/* Learns from a poll timed by the lag whether the lag was long enough. */
static void
learn_commit_lag(struct engine *e)
{
	int64_t poll = e->cf->commit_poll_ms * NS_PER_MS;

	if (e->wait_seq == 0)
		return;
	if (e->committed_seq >= e->wait_seq)
		e->commit_wait_ns -= e->commit_wait_ns / 64;
	else
		e->commit_wait_ns += e->commit_wait_ns / 4;
	if (e->commit_wait_ns < poll)
		e->commit_wait_ns = poll;
	if (e->commit_wait_ns > COMMIT_WAIT_MAX_NS)
		e->commit_wait_ns = COMMIT_WAIT_MAX_NS;
	e->wait_seq = 0;
}

/* After a usable status answer: when to ask next, if anything is pending
 * (before: the committed seq the answer found). */
static void
schedule_status(struct engine *e, int64_t now, uint64_t before)
{
	int64_t poll = e->cf->commit_poll_ms * NS_PER_MS;

	learn_commit_lag(e);
	if (e->inflight_hi <= e->committed_seq)
		return;		/* the next append starts a wait */
	if (e->committed_seq > before) {
		/* every append made by now should be committed one lag later */
		e->status_misses = 0;
		e->wait_seq = e->inflight_hi;
		e->next_status_at = now + e->commit_wait_ns;
		return;
	}
	if (e->status_misses < STATUS_BACKOFF_MAX)
		e->status_misses++;
	e->next_status_at = now + (poll << (e->status_misses - 1));
}

static void
on_append(struct engine *e, const struct http_resp *rs, enum api_class c, const char *code,
    int64_t now, struct engine_out *out)
{
	char *cont = NULL;

	if (c != API_OK) {
		common_failure(e, ENGINE_RQ_APPEND, c, rs, code, now, out);
		return;
	}
	if (api_parse_append(rs->body, rs->body_len, &cont) < 0) {
		/* Accepted or not, there is no next continuation token. */
		char snip[160];

		api_snippet(rs->body, rs->body_len, snip, sizeof(snip));
		refused(e, ENGINE_RQ_APPEND, rs->status, "", snip, false, now, out);
		return;
	}
	usable(e, ENGINE_RQ_APPEND);
	set_str(&e->cont, cont);
	elog(e, LOG_LVL_DEBUG, "appended seqs %" PRIu64 "..%" PRIu64, e->rq_first, e->rq_last);
	if (e->inflight_hi <= e->committed_seq)
		commit_wait_begins(e, now);
	e->inflight_hi = e->rq_last;
	e->ack_bound = max64(e->ack_bound, e->rq_last);
	out->appended = true;
}

static void
on_committed(struct engine *e, const char *tok, struct engine_out *out)
{
	uint64_t jid, seq;

	if (row_parse_offset_token(tok, &jid, &seq) < 0 || jid != e->jid || seq <= e->committed_seq)
		return;
	if (seq > e->ack_bound) {
		/* Never past what this process sent: another writer on the
		 * channel, or a service that reports what it should not. */
		if (!e->warned_past)
			elog(e, LOG_LVL_ERR, "channel %s: the service reports offset token %s "
			    "committed, past seq %" PRIu64 ", the last this streamerd appended or "
			    "found committed: another writer on the channel, or a service fault; "
			    "acking no further than %" PRIu64, e->channel, tok, e->ack_bound,
			    e->ack_bound);
		e->warned_past = true;
		seq = e->ack_bound;
		if (seq <= e->committed_seq)
			return;
	}
	set_committed(e, seq);
	e->refusals = 0;	/* progress: whatever was refused got past */
	out->committed = seq;
}

static void
on_status(struct engine *e, const struct http_resp *rs, enum api_class c, const char *code,
    int64_t now, struct engine_out *out)
{
	struct api_chstatus st;
	bool found = false;
	uint64_t before = e->committed_seq;

	if (c != API_OK) {
		common_failure(e, ENGINE_RQ_STATUS, c, rs, code, now, out);
		return;
	}
	e->next_status_at = now + e->cf->commit_poll_ms * NS_PER_MS;
	if (api_parse_status(rs->body, rs->body_len, e->mode == ENGINE_CHECK ? e->channel :
	    e->st_channel, &st, &found) < 0) {
		unusable(e, ENGINE_RQ_STATUS, rs, now);
		return;
	}
	usable(e, ENGINE_RQ_STATUS);
	if (e->mode == ENGINE_CHECK) {
		e->rep.status = true;
		e->rep.found = found;
		if (found) {
			snprintf(e->rep.code, sizeof(e->rep.code), "%s", st.code);
			snprintf(e->rep.committed, sizeof(e->rep.committed), "%s", st.committed);
		}
		e->done = true;
		return;
	}
	if (!found) {
		refused(e, ENGINE_RQ_STATUS, 0, "", "the service no longer lists the channel", true,
		    now, out);
		return;
	}
	if (!api_status_usable(st.code)) {
		refused(e, ENGINE_RQ_STATUS, rs->status, st.code, "the channel's status is not usable",
		    true, now, out);
		return;
	}
	if (st.has_errors && e->err_base_set && st.rows_error_count > e->err_base) {
		elog(e, LOG_LVL_ERR, "channel %s: %" PRId64 " row(s) rejected by the table; last "
		    "error: %s", e->channel, st.rows_error_count - e->err_base,
		    st.last_error[0] ? st.last_error : "(none given)");
		e->m->error_rows += (uint64_t)(st.rows_error_count - e->err_base);
	}
	if (st.has_errors) {
		e->err_base = st.rows_error_count;
		e->err_base_set = true;
	}
	if (st.has_committed)
		on_committed(e, st.committed, out);
	schedule_status(e, now, before);
}

static void
on_drop(struct engine *e, const struct http_resp *rs, enum api_class c, const char *code,
    int64_t now, struct engine_out *out)
{
	/* Already gone when the service's code says so, at any status
	 * (api_classify makes it a reopen code); a bare 404 may be a wrong pipe. */
	bool gone = strcmp(code, "ERR_CHANNEL_DOES_NOT_EXIST_OR_IS_NOT_AUTHORIZED") == 0;

	if (c == API_OK || gone) {
		usable(e, ENGINE_RQ_DROP);
		e->rep.dropped = true;
		e->done = true;
		return;
	}
	if (c == API_RETRY || c == API_AUTH) {
		common_failure(e, ENGINE_RQ_DROP, c, rs, code, now, out);
		return;
	}
	if (c == API_FORBIDDEN) {
		die_forbidden(e, out, "drop channel", code);
		return;
	}
	die(e, out, EXIT_RUNTIME, "drop channel %s: HTTP %ld %s", e->channel, rs->status, code);
}

/* In --check and --drop-channel a failure that repeats is the answer. */
static void
sync_limit(struct engine *e, enum engine_stage rq, const struct http_resp *rs,
    const char *code, struct engine_out *out)
{
	if (e->mode == ENGINE_STREAM || out->exit_code != 0 || e->attempts < e->sync_tries)
		return;
	if (rs->status == 0)
		die(e, out, EXIT_PRODUCTION, "%s: %s (%d tries)", rq_name(rq), rs->error,
		    e->attempts);
	else
		die(e, out, EXIT_PRODUCTION, "%s: HTTP %ld %s (%d tries)", rq_name(rq),
		    rs->status, code, e->attempts);
}

void
engine_on_answer(struct engine *e, const struct http_resp *rs, int64_t now,
    struct engine_out *out)
{
	enum engine_stage rq = e->rq;
	char code[128];
	enum api_class c;

	out_clear(out);
	e->rq = ENGINE_RQ_NONE;
	e->m->connections += (uint64_t)rs->new_connections;
	if (rq >= ENGINE_RQ_OPEN && rs->session[0] != '\0')
		snprintf(e->session, sizeof(e->session), "%s", rs->session);
	api_error_code(rs->body, rs->body_len, code, sizeof(code));
	c = api_classify(rs->status, code);
	if (c == API_OK && rq != ENGINE_RQ_TOKEN && rq != ENGINE_RQ_HOSTNAME) {
		e->auth_refreshed = false;
		e->rep.pat_direct = e->pat_direct;
	}
	switch (rq) {
	case ENGINE_RQ_HOSTNAME: on_hostname(e, rs, c, code, now, out); break;
	case ENGINE_RQ_TOKEN: on_token(e, rs, c, code, now, out); break;
	case ENGINE_RQ_OPEN: on_open(e, rs, c, code, now, out); break;
	case ENGINE_RQ_APPEND: on_append(e, rs, c, code, now, out); break;
	case ENGINE_RQ_STATUS: on_status(e, rs, c, code, now, out); break;
	case ENGINE_RQ_DROP: on_drop(e, rs, c, code, now, out); break;
	default: break;
	}
	sync_limit(e, rq, rs, code, out);
	free(e->rq_body);
	e->rq_body = NULL;
}

/* ------------------------------------------------------------ accessors */

uint64_t
engine_journal(const struct engine *e)
{
	return e->jid;
}

const char *
engine_channel(const struct engine *e)
{
	return e->channel;
}

const char *
engine_ingest(const struct engine *e)
{
	return e->ingest;
}

const char *
engine_device(const struct engine *e)
{
	return e->device;
}

void
engine_set_channel(struct engine *e, const char *name)
{
	snprintf(e->channel, sizeof(e->channel), "%s", name);
}

bool
engine_backing_off(const struct engine *e, int64_t now)
{
	return now < e->retry_at || e->attempts > 0;
}

bool
engine_done(const struct engine *e)
{
	return e->done;
}

const struct engine_report *
engine_report(const struct engine *e)
{
	return &e->rep;
}

/* ------------------------------------------------------------ life cycle */

int
engine_new(const struct config *cf, EVP_PKEY *key, const struct engine_opts *o,
    const struct engine_env *env, struct metrics *m, struct engine **ret)
{
	struct engine *e = calloc(1, sizeof(*e));
	int r;

	if (e == NULL) {
		EVP_PKEY_free(key);
		return -ENOMEM;
	}
	e->cf = cf;
	e->mode = o->mode;
	e->accept = o->accept_committed_token;
	e->sync_tries = o->sync_tries > 0 ? o->sync_tries : 4;
	if (env != NULL)
		e->env = *env;
	e->m = m != NULL ? m : &e->own_m;
	e->key = key;
	snprintf(e->channel, sizeof(e->channel), "%s", cf->channel_name);
	e->scope_role = cf->scope_role;
	e->pat_direct = key == NULL;
	if (key != NULL && cf->role[0] != '\0')
		snprintf(e->scp, sizeof(e->scp), "session:role:%s", cf->role);
	snprintf(e->st_db, sizeof(e->st_db), "%s", cf->database);
	snprintf(e->st_schema, sizeof(e->st_schema), "%s", cf->schema);
	snprintf(e->st_pipe, sizeof(e->st_pipe), "%s", cf->pipe);
	if (key != NULL) {
		auth_claim_account(cf->account, e->claim_account, sizeof(e->claim_account));
		auth_upper(cf->user, e->claim_user, sizeof(e->claim_user));
		if ((r = auth_fingerprint(key, e->fp)) < 0) {
			engine_free(e);
			return r;
		}
	}
	*ret = e;
	return 0;
}

void
engine_free(struct engine *e)
{
	if (e == NULL)
		return;
	EVP_PKEY_free(e->key);
	set_str(&e->jwt, NULL);
	set_str(&e->scoped, NULL);
	set_str(&e->cont, NULL);
	free(e->rq_body);
	free(e);
}
