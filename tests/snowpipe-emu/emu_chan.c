/* SPDX-License-Identifier: Apache-2.0 */
/*
 * emu_chan: the sequencing model of docs/snowpipe.md §4.1 (README.md,
 * "Sequencing"). A token is "<client_seq>_<next_row_seq>"; reopening bumps client_seq, each accepted
 * append bumps next_row_seq, and the last accepted append can be replayed
 * idempotently. Pending batches live only in memory (capped globally): a
 * restart loses them, as a service failover would, and next_row_seq is
 * persisted only at open and at commit, so a client holding a token for
 * lost data gets a reopen-class error instead of silence.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "clock.h"
#include "emu_chan.h"
#include "emu_rows.h"
#include "log.h"

/* Count mode keeps no bodies, so batches are also capped per channel. */
#define MAX_PENDING_BATCHES 100000

struct emu_chans {
	const struct emu_conf *conf;
	struct emu_store *store;
	struct emu_chan *list;
	size_t n;
	bool count_mode, stalled;
	int64_t lag_ns;
	int64_t pending_bytes;
	int64_t rows_committed, rows_errored, batches_committed, batches_discarded;
	int64_t retry_after_ns;	/* after a failed SQLite commit */
};

static void
state_clear(struct emu_chan_state *s)
{
	free(s->db);
	free(s->schema);
	free(s->pipe);
	free(s->key);
	free(s->name);
	free(s->committed_token);
	free(s->last_err_bound);
	free(s->last_err_msg);
}

static char *
dup_or_null(const char *s)
{
	return s ? strdup(s) : NULL;
}

void
emu_batch_free(struct emu_batch *b)
{
	if (b == NULL)
		return;
	free(b->end_token);
	free(b->body);
	free(b->err_msg);
	free(b);
}

static void
discard_pending(struct emu_chans *cs, struct emu_chan *ch)
{
	struct emu_batch *b, *next;

	for (b = ch->head; b != NULL; b = next) {
		next = b->next;
		cs->batches_discarded++;
		emu_batch_free(b);
	}
	cs->pending_bytes -= (int64_t)ch->pending_bytes;
	ch->head = ch->tail = NULL;
	ch->npending = ch->pending_bytes = 0;
}

static void
chan_free(struct emu_chans *cs, struct emu_chan *ch)
{
	discard_pending(cs, ch);
	state_clear(&ch->st);
	free(ch);
}

static int
load_one(const struct emu_chan_state *s, void *arg)
{
	struct emu_chans *cs = arg;
	const struct emu_pipe *p = emu_conf_pipe(cs->conf, s->db, s->schema, s->pipe);
	struct emu_chan *ch;

	if (p == NULL) {
		log_warnx("stored channel %s on %s.%s.%s: pipe no longer configured, ignored",
		    s->name, s->db, s->schema, s->pipe);
		return 0;
	}
	ch = calloc(1, sizeof(*ch));
	if (ch == NULL)
		return -ENOMEM;
	ch->st = *s;
	ch->st.db = strdup(s->db);
	ch->st.schema = strdup(s->schema);
	ch->st.pipe = strdup(s->pipe);
	ch->st.key = strdup(s->key);
	ch->st.name = strdup(s->name);
	ch->st.committed_token = dup_or_null(s->committed_token);
	ch->st.last_err_bound = dup_or_null(s->last_err_bound);
	ch->st.last_err_msg = dup_or_null(s->last_err_msg);
	ch->pipe = p;
	ch->bucket = cs->conf->limits.requests_per_s;
	ch->next = cs->list;
	cs->list = ch;
	cs->n++;
	return 0;
}

int
emu_chans_new(const struct emu_conf *conf, struct emu_store *st, bool count_mode,
    int64_t lag_ms, struct emu_chans **ret)
{
	struct emu_chans *cs = calloc(1, sizeof(*cs));
	int r;

	if (cs == NULL)
		return -ENOMEM;
	cs->conf = conf;
	cs->store = st;
	cs->count_mode = count_mode;
	cs->lag_ns = lag_ms * NS_PER_MS;
	if ((r = emu_store_load_channels(st, load_one, cs)) < 0) {
		emu_chans_free(cs);
		return r;
	}
	*ret = cs;
	return 0;
}

void
emu_chans_free(struct emu_chans *cs)
{
	struct emu_chan *ch, *next;

	if (cs == NULL)
		return;
	for (ch = cs->list; ch != NULL; ch = next) {
		next = ch->next;
		chan_free(cs, ch);
	}
	free(cs);
}

struct emu_chan *
emu_chans_find(struct emu_chans *cs, const struct emu_pipe *p, const char *key)
{
	for (struct emu_chan *ch = cs->list; ch != NULL; ch = ch->next)
		if (ch->pipe == p && strcmp(ch->st.key, key) == 0)
			return ch;
	return NULL;
}

static int
chan_create(struct emu_chans *cs, const struct emu_pipe *p, const char *key,
    const char *name, int64_t now_ms, struct emu_chan **ret)
{
	struct emu_chan *ch;

	if ((int64_t)cs->n >= cs->conf->limits.max_channels)
		return -ENOSPC;
	ch = calloc(1, sizeof(*ch));
	if (ch == NULL)
		return -ENOMEM;
	ch->pipe = p;
	ch->st.db = strdup(p->db);
	ch->st.schema = strdup(p->schema);
	ch->st.pipe = strdup(p->name);
	ch->st.key = strdup(key);
	ch->st.name = strdup(name);
	if (!ch->st.db || !ch->st.schema || !ch->st.pipe || !ch->st.key || !ch->st.name) {
		chan_free(cs, ch);
		return -ENOMEM;
	}
	ch->st.client_seq = 0;
	ch->st.next_row_seq = 1;
	ch->st.created_on_ms = now_ms;
	snprintf(ch->st.status, sizeof(ch->st.status), "SUCCESS");
	ch->bucket = cs->conf->limits.requests_per_s;
	ch->next = cs->list;
	cs->list = ch;
	cs->n++;
	*ret = ch;
	return 0;
}

int
emu_chans_open(struct emu_chans *cs, const struct emu_pipe *p, const char *key,
    const char *name, const char *offset_token, bool fail_on_uncommitted, int64_t now_ms,
    struct emu_chan **ret)
{
	struct emu_chan *ch = emu_chans_find(cs, p, key);
	int r;

	if (ch != NULL) {
		if (fail_on_uncommitted && ch->npending > 0)
			return -EBUSY;
		discard_pending(cs, ch);
		ch->st.client_seq++;
		ch->has_last = false;
		snprintf(ch->st.status, sizeof(ch->st.status), "SUCCESS");
	} else if ((r = chan_create(cs, p, key, name, now_ms, &ch)) < 0) {
		return r;
	}
	if (offset_token != NULL) {
		char *t = strdup(offset_token);

		if (t == NULL)
			return -ENOMEM;
		free(ch->st.committed_token);
		ch->st.committed_token = t;
	}
	if ((r = emu_store_put_channel(cs->store, &ch->st)) < 0)
		return r;
	*ret = ch;
	return 0;
}

int
emu_chans_drop(struct emu_chans *cs, struct emu_chan *ch, bool fail_on_uncommitted)
{
	struct emu_chan **pp;
	int r;

	if (fail_on_uncommitted && ch->npending > 0)
		return -EBUSY;
	if ((r = emu_store_del_channel(cs->store, &ch->st)) < 0)
		return r;
	for (pp = &cs->list; *pp != NULL; pp = &(*pp)->next)
		if (*pp == ch) {
			*pp = ch->next;
			break;
		}
	cs->n--;
	chan_free(cs, ch);
	return 0;
}

void
emu_chan_token(const struct emu_chan *ch, char *buf, size_t len)
{
	snprintf(buf, len, "%" PRId64 "_%" PRId64, ch->st.client_seq, ch->st.next_row_seq);
}

static int
parse_u63(const char *s, const char *end, int64_t *ret)
{
	int64_t v = 0;

	if (s == end || end - s > 18)
		return -EINVAL;
	for (; s < end; s++) {
		if (*s < '0' || *s > '9')
			return -EINVAL;
		v = v * 10 + (*s - '0');
	}
	*ret = v;
	return 0;
}

int
emu_chan_check_token(const struct emu_chan *ch, const char *token,
    const unsigned char hash[32], const char **ret_code)
{
	const char *us = token ? strchr(token, '_') : NULL;
	int64_t c, r;

	if (us == NULL || parse_u63(token, us, &c) < 0 ||
	    parse_u63(us + 1, us + strlen(us), &r) < 0 || c > ch->st.client_seq) {
		*ret_code = "ERR_CHANNEL_HAS_INVALID_CLIENT_SEQUENCER";
		return -EINVAL;
	}
	if (c < ch->st.client_seq) {
		*ret_code = "STALE_CONTINUATION_TOKEN_SEQUENCER";
		return -EINVAL;
	}
	if (r == ch->st.next_row_seq)
		return 0;
	if (r == ch->st.next_row_seq - 1 && ch->has_last && ch->last_row_seq == r &&
	    memcmp(ch->last_hash, hash, 32) == 0)
		return 1;
	*ret_code = r > ch->st.next_row_seq ? "ERR_CHANNEL_MUST_BE_REOPENED_DUE_TO_ROW_SEQ_GAP" :
	    "ERR_CHANNEL_HAS_INVALID_ROW_SEQUENCER";
	return -EINVAL;
}

bool
emu_chan_rate_ok(struct emu_chans *cs, struct emu_chan *ch, int64_t now_ns, int *ret_retry_s)
{
	double rate = cs->conf->limits.requests_per_s;

	if (rate <= 0)
		return true;
	if (ch->bucket_ns != 0) {
		ch->bucket += (double)(now_ns - ch->bucket_ns) / 1e9 * rate;
		if (ch->bucket > rate)
			ch->bucket = rate;
	}
	ch->bucket_ns = now_ns;
	if (ch->bucket >= 1.0) {
		ch->bucket -= 1.0;
		return true;
	}
	*ret_retry_s = 1;
	return false;
}

bool
emu_chans_room(struct emu_chans *cs, const struct emu_chan *ch, size_t bytes)
{
	return ch->npending < MAX_PENDING_BATCHES &&
	    cs->pending_bytes + (int64_t)bytes <= cs->conf->limits.max_pending_bytes;
}

void
emu_chans_enqueue(struct emu_chans *cs, struct emu_chan *ch, struct emu_batch *b,
    const unsigned char hash[32])
{
	b->row_seq = ch->st.next_row_seq++;
	b->due_ns = clock_mono_ns() + cs->lag_ns;
	if (ch->tail != NULL)
		ch->tail->next = b;
	else
		ch->head = b;
	ch->tail = b;
	ch->npending++;
	ch->pending_bytes += b->len;
	cs->pending_bytes += (int64_t)b->len;
	ch->has_last = true;
	ch->last_row_seq = b->row_seq;
	memcpy(ch->last_hash, hash, 32);
}

void
emu_chans_invalidate(struct emu_chans *cs, struct emu_chan *ch, const char *code)
{
	discard_pending(cs, ch);
	snprintf(ch->st.status, sizeof(ch->st.status), "%s", code);
	(void)emu_store_put_channel(cs->store, &ch->st);
}

static void
utc_text(int64_t ms, char *buf, size_t len)
{
	time_t t = (time_t)(ms / 1000);
	struct tm tm;
	size_t n;

	gmtime_r(&t, &tm);
	n = strftime(buf, len, "%Y-%m-%d %H:%M:%S", &tm);
	snprintf(buf + n, len - n, ".%03d", (int)(ms % 1000));
}

static void
set_error(struct emu_chan *ch, const char *bound, int64_t now_ms, int64_t rowno,
    const char *msg)
{
	char buf[400];

	snprintf(buf, sizeof(buf), "Row %lld: %s", (long long)rowno, msg);
	free(ch->st.last_err_msg);
	ch->st.last_err_msg = strdup(buf);
	free(ch->st.last_err_bound);
	ch->st.last_err_bound = dup_or_null(bound);
	ch->st.last_err_ts = now_ms;
}

/* Rows mode: each line parsed, projected, converted; bad rows counted. */
static int
commit_rows(struct emu_chans *cs, struct emu_chan *ch, struct emu_batch *b, int64_t now_ms,
    int64_t *ret_ok, int64_t *ret_bad)
{
	const struct emu_table *t = ch->pipe->table;
	struct emu_val *vals = calloc(t->ncols, sizeof(*vals));
	char at[32], err[300];
	const char *line;
	size_t pos = 0, n;
	int64_t rowno = 0;
	int r = 0;

	if (vals == NULL)
		return -ENOMEM;
	utc_text(now_ms, at, sizeof(at));
	while (r == 0 && emu_rows_next_line(b->body, b->len, &pos, &line, &n)) {
		/* jansson would skip a raw NUL byte; JSON text cannot contain one */
		json_t *row = memchr(line, '\0', n) ? NULL :
		    json_loadb(line, n, JSON_REJECT_DUPLICATES, NULL);

		rowno++;
		if (row == NULL || !json_is_object(row)) {
			snprintf(err, sizeof(err), "Error parsing JSON: %s",
			    row ? "not an object" : "invalid JSON text");
			set_error(ch, b->end_token, now_ms, rowno, err);
			(*ret_bad)++;
		} else if (emu_rows_project(ch->pipe, row, vals, err, sizeof(err)) < 0) {
			set_error(ch, b->end_token, now_ms, rowno, err);
			(*ret_bad)++;
		} else {
			r = emu_store_insert(cs->store, t, vals, ch->st.name, b->end_token, at);
			(*ret_ok)++;
		}
		for (size_t i = 0; i < t->ncols; i++)
			emu_val_clear(&vals[i]);
		json_decref(row);
	}
	free(vals);
	return r;
}

static int
commit_one(struct emu_chans *cs, struct emu_chan *ch, struct emu_batch *b)
{
	int64_t now_ms = clock_realtime_ns() / NS_PER_MS, ok = 0, nbad = 0;
	struct emu_chan_state saved = ch->st;
	char *tok = NULL;
	int r;

	if ((r = emu_store_begin(cs->store)) < 0)
		return r;
	if (cs->count_mode) {
		ok = b->nrows - b->nerr;
		nbad = b->nerr;
		if (b->nerr > 0)
			set_error(ch, b->end_token, now_ms, 0, b->err_msg ? b->err_msg : "error");
	} else if ((r = commit_rows(cs, ch, b, now_ms, &ok, &nbad)) < 0) {
		goto fail;
	}
	ch->st.rows_inserted += ok;
	ch->st.rows_parsed += ok + nbad;
	ch->st.rows_error_count += nbad;
	if (b->end_token != NULL) {
		tok = ch->st.committed_token;
		ch->st.committed_token = strdup(b->end_token);
	}
	ch->st.lat_sum_ms += now_ms - b->arrived_ms;
	ch->st.lat_n++;
	{
		/* Persist the row sequencer as of this batch: a restart then
		 * rejects tokens for batches that were lost with it. */
		int64_t mem_next = ch->st.next_row_seq;

		ch->st.next_row_seq = b->row_seq + 1;
		r = emu_store_put_channel(cs->store, &ch->st);
		ch->st.next_row_seq = mem_next;
	}
	if (r < 0 || (r = emu_store_commit(cs->store)) < 0)
		goto fail;
	free(tok);
	cs->rows_committed += ok;
	cs->rows_errored += nbad;
	cs->batches_committed++;
	return 0;
fail:
	emu_store_rollback(cs->store);
	/* Undo the in-memory counters so the retry counts once. */
	if (ch->st.committed_token != saved.committed_token) {
		free(ch->st.committed_token);
		ch->st.committed_token = tok;
	}
	ch->st.rows_inserted = saved.rows_inserted;
	ch->st.rows_parsed = saved.rows_parsed;
	ch->st.rows_error_count = saved.rows_error_count;
	ch->st.lat_sum_ms = saved.lat_sum_ms;
	ch->st.lat_n = saved.lat_n;
	return r;
}

int
emu_chans_commit_due(struct emu_chans *cs, int64_t now_ns, bool force)
{
	int done = 0;

	if ((cs->stalled && !force) || now_ns < cs->retry_after_ns)
		return 0;
	for (struct emu_chan *ch = cs->list; ch != NULL; ch = ch->next) {
		while (ch->head != NULL && (force || ch->head->due_ns <= now_ns)) {
			struct emu_batch *b = ch->head;

			if (commit_one(cs, ch, b) < 0) {
				log_warnx("channel %s: commit of batch %lld failed; retrying in 1 s",
				    ch->st.name, (long long)b->row_seq);
				cs->retry_after_ns = now_ns + NS_PER_S;
				return done;
			}
			ch->head = b->next;
			if (ch->head == NULL)
				ch->tail = NULL;
			ch->npending--;
			ch->pending_bytes -= b->len;
			cs->pending_bytes -= (int64_t)b->len;
			emu_batch_free(b);
			done++;
		}
	}
	return done;
}

int64_t
emu_chans_next_due(struct emu_chans *cs)
{
	int64_t due = INT64_MAX;

	if (cs->stalled)
		return due;
	for (struct emu_chan *ch = cs->list; ch != NULL; ch = ch->next)
		if (ch->head != NULL && ch->head->due_ns < due)
			due = ch->head->due_ns;
	if (due != INT64_MAX && due < cs->retry_after_ns)
		due = cs->retry_after_ns;
	return due;
}

void
emu_chans_stall(struct emu_chans *cs, bool stalled)
{
	cs->stalled = stalled;
}

void
emu_chans_set_lag(struct emu_chans *cs, int64_t lag_ms)
{
	cs->lag_ns = lag_ms * NS_PER_MS;
}

static json_t *
str_or_null(const char *s)
{
	return s ? json_string(s) : json_null();
}

json_t *
emu_chan_status_json(struct emu_chans *cs, const struct emu_chan *ch)
{
	const char *code = strcmp(ch->st.status, "SUCCESS") == 0 ? cs->conf->status_success :
	    ch->st.status;
	json_t *o = json_object();

	json_object_set_new(o, "database_name", json_string(ch->st.db));
	json_object_set_new(o, "schema_name", json_string(ch->st.schema));
	json_object_set_new(o, "pipe_name", json_string(ch->st.pipe));
	json_object_set_new(o, "channel_name", json_string(ch->st.name));
	json_object_set_new(o, "channel_status_code", json_string(code));
	json_object_set_new(o, "last_committed_offset_token", str_or_null(ch->st.committed_token));
	json_object_set_new(o, "created_on_ms", json_integer(ch->st.created_on_ms));
	json_object_set_new(o, "rows_inserted", json_integer(ch->st.rows_inserted));
	json_object_set_new(o, "rows_parsed", json_integer(ch->st.rows_parsed));
	json_object_set_new(o, "rows_error_count", json_integer(ch->st.rows_error_count));
	if (cs->conf->emit_rows_errors)
		json_object_set_new(o, "rows_errors", json_integer(ch->st.rows_error_count));
	json_object_set_new(o, "last_error_offset_upper_bound", str_or_null(ch->st.last_err_bound));
	json_object_set_new(o, "last_error_message", str_or_null(ch->st.last_err_msg));
	json_object_set_new(o, "last_error_timestamp", ch->st.last_err_ts ?
	    json_integer(ch->st.last_err_ts) : json_null());
	json_object_set_new(o, "snowflake_avg_processing_latency_ms",
	    json_integer(ch->st.lat_n ? ch->st.lat_sum_ms / ch->st.lat_n : 0));
	return o;
}

void
emu_chans_stats(struct emu_chans *cs, struct emu_chans_stats *ret)
{
	int64_t nb = 0;

	for (struct emu_chan *ch = cs->list; ch != NULL; ch = ch->next)
		nb += (int64_t)ch->npending;
	ret->rows_committed = cs->rows_committed;
	ret->rows_errored = cs->rows_errored;
	ret->batches_committed = cs->batches_committed;
	ret->batches_discarded = cs->batches_discarded;
	ret->pending_batches = nb;
	ret->pending_bytes = cs->pending_bytes;
	ret->channels = (int64_t)cs->n;
}

void
emu_chans_foreach(struct emu_chans *cs, void (*fn)(struct emu_chans *, struct emu_chan *,
    void *), void *arg)
{
	for (struct emu_chan *ch = cs->list; ch != NULL; ch = ch->next)
		fn(cs, ch, arg);
}
