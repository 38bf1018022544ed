/*
 * stream: the exactly-once engine.
 *
 * Position is never stored locally: Snowflake's last_committed_offset_token
 * is the cursor. After every (re)open the engine subscribes to sensord from
 * the committed seq + 1, appends batches strictly in order with at most one
 * request in flight (the HTTP client serialises everything), polls bulk
 * status while batches are uncommitted, and acks sensord only what the
 * committed token covers. Any doubt about what the server holds (stale or
 * invalid sequencer, invalidated or vanished channel, a 4xx on append) is
 * resolved the same way: reopen — which discards the server's uncommitted
 * data — drop every local batch, reconnect to sensord and replay from the
 * committed token. Ambiguous transport failures retry the identical request
 * (same continuation token, body and requestId), which the service
 * de-duplicates.
 *
 * Buffers: one open batch (batch_max_rows / batch_max_bytes), at most
 * READY_MAX sealed batches waiting to be sent and SENT_MAX appended batches
 * waiting for commit. When they are full the engine stops reading the
 * sensord socket; the journal holds the rest.
 */
#include <errno.h>
#include <stdarg.h>
#include <inttypes.h>
#include <malloc.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <time.h>

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "api.h"
#include "auth.h"
#include "batch.h"
#include "clock.h"
#include "http.h"
#include "log.h"
#include "notify.h"
#include "metrics.h"
#include "sdsock.h"
#include "stream.h"

#define READY_MAX 2
#define SENT_MAX 64
#define READS_PER_TURN 512
#define INGEST_GAP_NS (100 * NS_PER_MS)	/* <= 10 requests/s per channel */
#define STATS_EVERY_NS (60 * NS_PER_S)
#define METRICS_EVERY_NS (10 * NS_PER_S)
#define WATCHDOG_EVERY_NS (2 * NS_PER_S)
#define STALL_NS (120 * NS_PER_S)	/* uncommitted this long with no back-off: unhealthy */
#define APPEND_TIMEOUT_MS 30000
#define OTHER_TIMEOUT_MS 60000
#define SETUP_HINT "create it with config/snowflake/setup.sql (and check the names and grants)"

enum rq { RQ_NONE, RQ_HOSTNAME, RQ_TOKEN, RQ_OPEN, RQ_APPEND, RQ_STATUS };
/* DOWN: no connection; WAIT: hello sent, sensord's not yet read; HELLO:
 * sensord said hello, not subscribed yet; READY: subscribed. */
enum sub_state { SUB_DOWN, SUB_WAIT, SUB_HELLO, SUB_READY };

struct queue {
	struct batch *head, *tail;
	size_t n;
};

struct stream {
	const struct config *cf;
	struct http *http;
	struct batch_coder *coder;
	EVP_PKEY *key;
	char fp[AUTH_FP_LEN], claim_account[256], claim_user[256];
	struct row_host host;
	char *row_buf;

	/* credentials (never logged) */
	char *jwt;
	int64_t jwt_exp;		/* wall s */
	char *scoped;
	int64_t scoped_refresh_at;	/* mono ns, 0 = never */
	int token_kind;			/* PAT: 0 jwt-bearer, 1 token exchange, 2 PAT as is */
	char ingest[API_HOST_MAX];
	char ingest_base[API_HOST_MAX + 16];

	/* channel */
	char channel[256];
	char *cont;			/* NULL: channel not open */
	bool have_committed;
	char committed[256];
	uint64_t committed_seq;		/* in the held journal, 0 = none */
	bool err_base_set;
	int64_t err_base;

	/* sensord */
	struct sdsock *sub;
	enum sub_state sub_state;
	int64_t sub_retry_at, sub_backoff_ms;
	bool have_jid;
	uint64_t jid;			/* journal of every held batch */
	char device[PROTO_NAME_LEN];
	uint64_t next_seq;		/* next seq expected, 0 = any */
	uint64_t acked;			/* last ack sent on this connection */

	/* batches */
	struct batch *cur;
	struct queue ready, sent;

	/* the one request */
	enum rq rq;
	struct batch *rq_batch;
	char *rq_body;
	char url[API_URL_MAX];
	int attempts;
	int64_t retry_at, next_ingest_at, next_status_at;
	bool auth_refreshed, need_rewind;
	char rewind_why[160];

	struct metrics m;
	int64_t next_stats, next_metrics;
	struct notify *nt;
	bool ready_sent;
	int64_t next_watchdog, progress_at;	/* mono: last commit, or start */
};

/* ------------------------------------------------------------ queues */

static void
q_push(struct queue *q, struct batch *b)
{
	b->next = NULL;
	if (q->tail)
		q->tail->next = b;
	else
		q->head = b;
	q->tail = b;
	q->n++;
}

static struct batch *
q_pop(struct queue *q)
{
	struct batch *b = q->head;

	if (b == NULL)
		return NULL;
	q->head = b->next;
	if (q->head == NULL)
		q->tail = NULL;
	q->n--;
	b->next = NULL;
	return b;
}

static void
q_clear(struct queue *q)
{
	struct batch *b;

	while ((b = q_pop(q)) != NULL)
		batch_free(b);
}

/* ------------------------------------------------------------ helpers */

static int64_t
wall_s(void)
{
	return clock_realtime_ns() / NS_PER_S;
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
backoff(struct stream *s, int64_t now, long retry_after_s)
{
	int64_t ms = 250LL << (s->attempts < 7 ? s->attempts : 7);
	uint32_t rnd = 0;

	if (ms > 30000)
		ms = 30000;
	RAND_bytes((unsigned char *)&rnd, sizeof(rnd));
	ms = ms / 2 + (int64_t)(rnd % (uint32_t)(ms / 2 + 1));	/* jitter: 50..100% */
	if (retry_after_s >= 0 && retry_after_s * 1000 > ms)
		ms = retry_after_s * 1000 > 120000 ? 120000 : retry_after_s * 1000;
	s->attempts++;
	s->m.retries++;
	s->retry_at = now + ms * NS_PER_MS;
}

static const char *
rq_name(enum rq rq)
{
	static const char *const n[] = { "none", "hostname discovery", "token exchange",
		"open channel", "append", "channel status" };

	return n[rq];
}

/* ------------------------------------------------------------ rewind */

/* Asks for a reopen + replay once the running request is done. */
static void __attribute__((format(printf, 2, 3)))
want_rewind(struct stream *s, const char *fmt, ...)
{
	va_list ap;

	if (s->need_rewind)
		return;
	va_start(ap, fmt);
	vsnprintf(s->rewind_why, sizeof(s->rewind_why), fmt, ap);
	va_end(ap);
	s->need_rewind = true;
}

static void
rewind_all(struct stream *s, const char *why)
{
	log_warnx("channel %s: %s; reopening and replaying from the committed offset token",
	    s->channel, why);
	batch_free(s->cur);
	s->cur = NULL;
	q_clear(&s->ready);
	q_clear(&s->sent);
	set_str(&s->cont, NULL);
	sdsock_close(s->sub);
	s->sub = NULL;
	s->sub_state = SUB_DOWN;
	s->sub_retry_at = 0;
	s->next_seq = 0;
	s->need_rewind = false;
	s->m.rewinds++;
}

/* ------------------------------------------------------------ batches */

static void
seal_cur(struct stream *s)
{
	struct batch *list = NULL, *b;
	int r;

	if (s->cur == NULL)
		return;
	if ((r = batch_seal(s->cur, s->coder, BATCH_WIRE_MAX, &list)) < 0) {
		/* Cannot happen with capped rows; losing the rows silently would
		 * break exactly-once, so replay them instead. */
		log_errx("sealing batch %" PRIu64 "..%" PRIu64 " failed: %s", s->cur->first_seq,
		    s->cur->last_seq, strerror(-r));
		batch_free(s->cur);
		s->cur = NULL;
		want_rewind(s, "a batch could not be sealed");
		return;
	}
	s->cur = NULL;
	while ((b = list) != NULL) {
		list = b->next;
		q_push(&s->ready, b);
	}
}

static bool
can_read(const struct stream *s)
{
	return s->sub != NULL && s->ready.n < READY_MAX && !s->need_rewind;
}

static void
on_record(struct stream *s, const struct record *r, int64_t now)
{
	size_t len;
	int e;

	if (s->sub_state != SUB_READY)
		return;
	if (s->next_seq != 0 && r->seq < s->next_seq)
		return;		/* already held: a replay overlap */
	if (s->next_seq != 0 && r->seq > s->next_seq) {
		log_warnx("sensord skipped seqs %" PRIu64 "..%" PRIu64 " without a gap message",
		    s->next_seq, r->seq - 1);
		s->m.records_missing += r->seq - s->next_seq;
	}
	s->next_seq = r->seq + 1;
	s->m.records_received++;
	if (r->seq > s->m.journal_last_seq)
		s->m.journal_last_seq = r->seq;
	if ((e = row_format(r, s->jid, &s->host, clock_realtime_ns(), s->row_buf, ROW_MAX,
	    &len)) < 0) {
		log_errx("record %" PRIu64 " does not fit in a row: %s", r->seq, strerror(-e));
		want_rewind(s, "record %" PRIu64 " could not be formatted", r->seq);
		return;
	}
	if (s->cur == NULL && (e = batch_new(s->jid, now, &s->cur)) < 0)
		fatalx("out of memory for a batch");
	if ((e = batch_add(s->cur, r->seq, s->row_buf, len)) < 0)
		fatalx("out of memory for a batch");
	if (s->cur->nrows >= (size_t)s->cf->batch_max_rows ||
	    s->cur->raw_len >= (size_t)s->cf->batch_max_bytes)
		seal_cur(s);
}

/* ------------------------------------------------------------ sensord */

static void
sub_lost(struct stream *s, const char *why, int64_t now)
{
	log_warnx("sensord connection %s: %s; reconnecting in %" PRId64 " ms",
	    s->cf->socket, why, s->sub_backoff_ms);
	sdsock_close(s->sub);
	s->sub = NULL;
	s->sub_state = SUB_DOWN;
	s->sub_retry_at = now + s->sub_backoff_ms * NS_PER_MS;
	s->sub_backoff_ms = s->sub_backoff_ms * 2 > 10000 ? 10000 : s->sub_backoff_ms * 2;
}

static void
sub_try_connect(struct stream *s, int64_t now)
{
	int r;

	if (s->sub != NULL || now < s->sub_retry_at)
		return;
	if ((r = sdsock_connect(s->cf->socket, 0, &s->sub)) < 0 ||
	    (r = sdsock_hello(s->sub, "streamerd")) < 0) {
		sub_lost(s, strerror(-r), now);
		return;
	}
	s->sub_state = SUB_WAIT;
	s->acked = 0;
	s->m.sensord_connects++;
}

static void
on_hello(struct stream *s, const struct proto_msg *m)
{
	bool holding = s->cur || s->ready.n || s->sent.n || s->next_seq;

	if (s->sub_state != SUB_WAIT) {
		want_rewind(s, "sensord said hello twice");
		return;
	}
	snprintf(s->device, sizeof(s->device), "%s", m->u.hello_s.device);
	if (holding && s->have_jid && m->u.hello_s.journal_id != s->jid) {
		log_warnx("sensord now serves journal %016" PRIx64 " instead of %016" PRIx64,
		    m->u.hello_s.journal_id, s->jid);
		want_rewind(s, "sensord's journal changed");
	}
	s->jid = m->u.hello_s.journal_id;
	s->have_jid = true;
	if (m->u.hello_s.last_seq > s->m.journal_last_seq)
		s->m.journal_last_seq = m->u.hello_s.last_seq;
	s->sub_state = SUB_HELLO;	/* subscribed by maybe_subscribe */
	s->sub_backoff_ms = 250;
	log_info("sensord: journal %016" PRIx64 " holds seqs %" PRIu64 "..%" PRIu64
	    ", device \"%s\"", m->u.hello_s.journal_id, m->u.hello_s.first_seq,
	    m->u.hello_s.last_seq, s->device);
}

/* Subscribes once the channel is open and sensord said hello. */
static void
maybe_subscribe(struct stream *s, int64_t now)
{
	uint64_t jid = 0, seq = 0, from;
	bool oldest = false;
	int r;

	if (s->sub == NULL || s->sub_state != SUB_HELLO || !s->have_jid || s->cont == NULL ||
	    s->need_rewind || s->device[0] == '\0')
		return;
	if (s->next_seq != 0) {
		from = s->next_seq;	/* reconnect: continue after what we hold */
	} else if (!s->have_committed) {
		oldest = true;
		from = 0;
		s->committed_seq = 0;
		s->m.committed_seq = 0;
		log_info("channel %s has no committed offset token: starting from the oldest "
		    "record in the journal", s->channel);
	} else if (row_parse_offset_token(s->committed, &jid, &seq) == 0 && jid == s->jid) {
		from = seq + 1;
		s->committed_seq = seq;
		s->m.committed_seq = seq;
	} else {
		oldest = true;
		from = 0;
		s->committed_seq = 0;
		s->m.committed_seq = 0;
		log_warnx("WARNING: channel %s's committed offset token \"%s\" is not from "
		    "journal %016" PRIx64 " (reflashed card or deleted journal?): starting from "
		    "the oldest record the journal holds", s->channel, s->committed, s->jid);
	}
	if ((r = sdsock_subscribe(s->sub, oldest ? PROTO_FROM_OLDEST : PROTO_FROM_SEQ,
	    from)) < 0) {
		sub_lost(s, strerror(-r), now);
		return;
	}
	if (!oldest)
		s->next_seq = from;
	s->sub_state = SUB_READY;
	if (!s->ready_sent) {
		notify_send(s->nt, "READY=1");
		s->ready_sent = true;
	}
	if (oldest)
		log_info("subscribed to sensord from the oldest record");
	else
		log_info("subscribed to sensord from seq %" PRIu64, from);
}

static void
sub_read_some(struct stream *s, int64_t now)
{
	struct proto_msg m;

	for (int i = 0; i < READS_PER_TURN && can_read(s); i++) {
		int r = sdsock_read(s->sub, &m);

		if (r == -EAGAIN)
			return;
		if (r < 0) {
			sub_lost(s, r == -ECONNRESET ? "closed by sensord" :
			    r == -EBADMSG || r == -EMSGSIZE ? "malformed message" :
			    strerror(-r), now);
			return;
		}
		switch (m.op) {
		case PROTO_OP_HELLO:
			on_hello(s, &m);
			maybe_subscribe(s, now);
			break;
		case PROTO_OP_REC:
			on_record(s, &m.u.rec, now);
			break;
		case PROTO_OP_GAP:
			log_warnx("sensord: seqs %" PRIu64 "..%" PRIu64 " were dropped by journal "
			    "retention before they were committed", m.u.gap.from, m.u.gap.to);
			s->m.records_missing += m.u.gap.to - m.u.gap.from + 1;
			if (m.u.gap.to + 1 > s->next_seq)
				s->next_seq = m.u.gap.to + 1;
			break;
		case PROTO_OP_ERR:
			log_warnx("sensord error %u: %s", m.u.err.code, m.u.err.msg);
			sub_lost(s, "error from sensord", now);
			return;
		default:
			break;
		}
	}
}

static void
send_ack(struct stream *s, int64_t now)
{
	int r;

	if (s->sub == NULL || s->sub_state != SUB_READY || s->committed_seq <= s->acked)
		return;
	if ((r = sdsock_ack(s->sub, s->committed_seq)) == 0)
		s->acked = s->committed_seq;
	else if (r != -EAGAIN)
		sub_lost(s, strerror(-r), now);
}

/* ------------------------------------------------------------ credentials */

static int
mint_jwt(struct stream *s)
{
	char *jwt = NULL;
	int64_t now = wall_s();
	int r;

	if ((r = auth_make_jwt(s->key, s->claim_account, s->claim_user, s->fp, now,
	    AUTH_JWT_LIFETIME, &jwt)) < 0)
		return r;
	set_str(&s->jwt, jwt);
	s->jwt_exp = now + AUTH_JWT_LIFETIME;
	return 0;
}

/* The account credential for hostname discovery and the token exchange. */
static const char *
account_cred(struct stream *s, const char **ret_type)
{
	if (s->key == NULL) {
		*ret_type = "PROGRAMMATIC_ACCESS_TOKEN";
		return s->cf->pat;
	}
	if (s->jwt == NULL || wall_s() >= s->jwt_exp - 300)
		if (mint_jwt(s) < 0)
			fatalx_code(EXIT_PRODUCTION, "cannot sign a JWT with %s",
			    s->cf->private_key_file);
	*ret_type = "KEYPAIR_JWT";
	return s->jwt;
}

static void
set_scoped(struct stream *s, char *tok, int64_t now)
{
	int64_t exp = 0, wall = wall_s(), life, margin;

	if (auth_token_exp(tok, &exp) < 0 || exp <= wall)
		exp = s->key ? s->jwt_exp : wall + 55 * 60;
	if (s->key && exp > s->jwt_exp)
		exp = s->jwt_exp;
	life = exp - wall;
	margin = life / 4 < 120 ? life / 4 : 120;
	s->scoped_refresh_at = now + (life - margin) * NS_PER_S;
	set_str(&s->scoped, tok);
}

/* ------------------------------------------------------------ requests */

static void
start(struct stream *s, enum rq rq, const struct http_req *req, int64_t now)
{
	int r;

	if ((r = http_start(s->http, req)) < 0) {
		log_errx("%s: cannot start request: %s", rq_name(rq), strerror(-r));
		backoff(s, now, -1);
		return;
	}
	s->rq = rq;
	s->m.requests++;
	if (rq >= RQ_OPEN)
		s->next_ingest_at = now + INGEST_GAP_NS;
}

static void
req_hostname(struct stream *s, int64_t now)
{
	struct http_req q = { .method = "GET", .timeout_ms = OTHER_TIMEOUT_MS };

	snprintf(s->url, sizeof(s->url), "%s/v2/streaming/hostname", s->cf->control_base);
	q.url = s->url;
	q.bearer = account_cred(s, &q.token_type);
	start(s, RQ_HOSTNAME, &q, now);
}

static int
token_req(struct stream *s, struct http_req *q)
{
	char scope[API_HOST_MAX + 300];
	const char *type;
	const char *cred = account_cred(s, &type);
	int kind = s->key ? 0 : s->token_kind;

	if (s->cf->role[0] != '\0')
		snprintf(scope, sizeof(scope), "%s session:role:%s", s->ingest, s->cf->role);
	else
		snprintf(scope, sizeof(scope), "%s", s->ingest);
	free(s->rq_body);
	s->rq_body = NULL;
	if (api_body_token(kind, scope, kind == 1 ? cred : NULL, &s->rq_body) < 0)
		return -ENOMEM;
	snprintf(s->url, sizeof(s->url), "%s/oauth/token", s->cf->control_base);
	*q = (struct http_req){ .method = "POST", .url = s->url, .timeout_ms = OTHER_TIMEOUT_MS,
		.content_type = "application/x-www-form-urlencoded", .body = s->rq_body,
		.body_len = strlen(s->rq_body) };
	if (kind == 0)
		q->bearer = cred;
	return 0;
}

static void
req_token(struct stream *s, int64_t now)
{
	struct http_req q;

	if (s->key == NULL && s->token_kind == 2) {
		/* The exchange was refused both ways: use the PAT on the ingest host. */
		char *p = strdup(s->cf->pat);

		if (p == NULL)
			fatalx("out of memory");
		set_str(&s->scoped, p);
		s->scoped_refresh_at = 0;
		return;
	}
	if (token_req(s, &q) < 0)
		fatalx("out of memory");
	start(s, RQ_TOKEN, &q, now);
}

static void
req_open(struct stream *s, int64_t now)
{
	static const char body[] = "{\"fail_on_uncommitted_rows\":false}";
	struct http_req q = { .method = "PUT", .url = s->url, .bearer = s->scoped,
		.content_type = "application/json", .body = body, .body_len = strlen(body),
		.timeout_ms = OTHER_TIMEOUT_MS };
	char rid[37];
	struct batch *tmp;

	if (batch_new(0, 0, &tmp) < 0)
		fatalx("out of memory");
	memcpy(rid, tmp->request_id, sizeof(rid));
	batch_free(tmp);
	if (api_url_channel(s->url, sizeof(s->url), s->ingest_base, s->cf->database,
	    s->cf->schema, s->cf->pipe, s->channel, rid) < 0)
		fatalx_code(EXIT_CONFIG, "database/schema/pipe/channel names are too long");
	start(s, RQ_OPEN, &q, now);
}

static void
req_append(struct stream *s, int64_t now)
{
	struct batch *b = s->ready.head;
	char st[ROW_OFFSET_TOKEN_LEN], en[ROW_OFFSET_TOKEN_LEN];
	struct http_req q = { .method = "POST", .url = s->url, .bearer = s->scoped,
		.content_type = "application/x-ndjson",
		.content_encoding = batch_comp_encoding(s->cf->compression),
		.body = b->body, .body_len = b->body_len, .raw_len = b->raw_total,
		.timeout_ms = APPEND_TIMEOUT_MS };

	row_offset_token(b->journal_id, b->first_seq, st);
	row_offset_token(b->journal_id, b->last_seq, en);
	if (api_url_append(s->url, sizeof(s->url), s->ingest_base, s->cf->database,
	    s->cf->schema, s->cf->pipe, s->channel, st, en, s->cont, b->request_id) < 0) {
		want_rewind(s, "the append URL does not fit");
		return;
	}
	s->rq_batch = b;
	start(s, RQ_APPEND, &q, now);
}

static void
req_status(struct stream *s, int64_t now)
{
	struct http_req q = { .method = "POST", .url = s->url, .bearer = s->scoped,
		.content_type = "application/json", .timeout_ms = OTHER_TIMEOUT_MS };

	free(s->rq_body);
	s->rq_body = NULL;
	if (api_body_status(s->channel, &s->rq_body) < 0 ||
	    api_url_status(s->url, sizeof(s->url), s->ingest_base, s->cf->database,
	    s->cf->schema, s->cf->pipe) < 0)
		fatalx("cannot build the status request");
	q.body = s->rq_body;
	q.body_len = strlen(s->rq_body);
	start(s, RQ_STATUS, &q, now);
}

/* Picks the next request; the state alone decides, so a retry after
 * back-off re-sends exactly the request that failed. */
static void
next_request(struct stream *s, int64_t now)
{
	if (http_busy(s->http) || now < s->retry_at)
		return;
	if (s->need_rewind)
		rewind_all(s, s->rewind_why);
	if (s->ingest[0] == '\0') {
		req_hostname(s, now);
	} else if (s->scoped == NULL || (s->scoped_refresh_at && now >= s->scoped_refresh_at)) {
		req_token(s, now);
	} else if (s->cont == NULL) {
		if (s->channel[0] == '\0' && s->device[0] != '\0')
			snprintf(s->channel, sizeof(s->channel), "%s", s->device);
		if (s->channel[0] != '\0' && now >= s->next_ingest_at)
			req_open(s, now);
	} else if (now < s->next_ingest_at) {
		return;
	} else if (s->ready.n > 0 && s->sent.n < SENT_MAX) {
		req_append(s, now);
	} else if (s->sent.n > 0 && now >= s->next_status_at) {
		req_status(s, now);
	}
}

/* ------------------------------------------------------------ answers */

static void __attribute__((noreturn))
die_missing(struct stream *s, const char *code)
{
	fatalx_code(EXIT_PRODUCTION, "PRODUCTION MODE FAILED: %s: database %s, schema %s, "
	    "pipe %s does not exist or the role may not use it; %s",
	    code[0] ? code : "not found", s->cf->database, s->cf->schema, s->cf->pipe,
	    SETUP_HINT);
}

static void __attribute__((noreturn))
die_forbidden(struct stream *s, const char *what, const char *code)
{
	fatalx_code(EXIT_PRODUCTION, "PRODUCTION MODE FAILED: %s refused with HTTP 403 %s: "
	    "the role%s%s lacks a grant (USAGE on database %s and schema %s, INSERT on the "
	    "table, OPERATE on pipe %s) or a network policy blocks this host",
	    what, code, s->cf->role[0] ? " " : "", s->cf->role, s->cf->database, s->cf->schema,
	    s->cf->pipe);
}

/* 401: refresh the credentials once and repeat; a second 401 is fatal. */
static void
on_unauthorized(struct stream *s, const char *what)
{
	if (s->auth_refreshed)
		fatalx_code(EXIT_PRODUCTION, "PRODUCTION MODE FAILED: %s: authentication "
		    "refused (HTTP 401) again after refreshing the token; check %s", what,
		    s->key ? "that the key's fingerprint (streamerd --check) equals "
		    "RSA_PUBLIC_KEY_FP in DESC USER, the user and account names, and the clock" :
		    "that the PAT is valid, not expired, and the user has a network policy");
	log_warnx("%s: HTTP 401; refreshing the token once", what);
	s->auth_refreshed = true;
	set_str(&s->jwt, NULL);
	set_str(&s->scoped, NULL);
}

static void
common_failure(struct stream *s, enum api_class c, const struct http_resp *rs,
    const char *code, int64_t now)
{
	const char *what = rq_name(s->rq);

	switch (c) {
	case API_AUTH:
		on_unauthorized(s, what);
		break;
	case API_FORBIDDEN:
		die_forbidden(s, what, code);
	case API_MISSING:
		die_missing(s, code);
	case API_RETRY:
		if (rs->status == 0)
			log_warnx("%s: %s; retrying", what, rs->error);
		else
			log_warnx("%s: HTTP %ld %s; retrying", what, rs->status, code);
		backoff(s, now, (long)rs->retry_after_s);
		break;
	case API_REOPEN:
		want_rewind(s, "%s: HTTP %ld %s", what, rs->status, code);
		break;
	default:
		log_errx("%s: HTTP %ld %s: %.200s", what, rs->status, code, rs->body);
		backoff(s, now, -1);
		want_rewind(s, "%s: HTTP %ld %s", what, rs->status, code);
		break;
	}
}

static void
on_hostname(struct stream *s, const struct http_resp *rs, enum api_class c,
    const char *code, int64_t now)
{
	if (c == API_OK) {
		if (api_parse_hostname(rs->body, rs->body_len, s->ingest) < 0) {
			log_warnx("hostname discovery: unusable answer; retrying");
			backoff(s, now, -1);
			return;
		}
		snprintf(s->ingest_base, sizeof(s->ingest_base), "https://%s", s->ingest);
		log_info("ingest host: %s", s->ingest);
		return;
	}
	if (c == API_MISSING || c == API_BAD)
		fatalx_code(EXIT_PRODUCTION, "PRODUCTION MODE FAILED: hostname discovery at %s: "
		    "HTTP %ld %s; check \"url\"/\"account_url\"/\"account\"", s->cf->control_base,
		    rs->status, code);
	common_failure(s, c, rs, code, now);
}

static void
on_token(struct stream *s, const struct http_resp *rs, enum api_class c,
    const char *code, int64_t now)
{
	char *tok = NULL;

	if (c == API_OK) {
		if (api_parse_token(rs->body, rs->body_len, &tok) < 0) {
			log_warnx("token exchange: unusable answer; retrying");
			backoff(s, now, -1);
			return;
		}
		set_scoped(s, tok, now);
		log_info("scoped token obtained for %s", s->ingest);
		return;
	}
	if (s->key == NULL && s->token_kind < 2 && rs->status >= 400 && rs->status < 500 &&
	    c != API_RETRY) {
		s->token_kind++;
		log_info("token exchange refused the PAT (HTTP %ld); trying %s", rs->status,
		    s->token_kind == 1 ? "the RFC 8693 token-exchange form" :
		    "the PAT directly on the ingest host");
		return;
	}
	if (c == API_BAD || c == API_MISSING)
		fatalx_code(EXIT_PRODUCTION, "PRODUCTION MODE FAILED: token exchange: HTTP %ld "
		    "%s", rs->status, code);
	common_failure(s, c, rs, code, now);
}

static void
on_open(struct stream *s, const struct http_resp *rs, enum api_class c,
    const char *code, int64_t now)
{
	struct api_chstatus st;
	char *cont = NULL;

	if (c != API_OK) {
		if (c == API_REOPEN) {	/* e.g. 409 while another open runs */
			log_warnx("open channel %s: HTTP %ld %s; retrying", s->channel, rs->status,
			    code);
			backoff(s, now, (long)rs->retry_after_s);
			return;
		}
		common_failure(s, c, rs, code, now);
		return;
	}
	if (api_parse_open(rs->body, rs->body_len, &cont, &st) < 0) {
		log_warnx("open channel %s: unusable answer; retrying", s->channel);
		backoff(s, now, -1);
		return;
	}
	if (!api_status_usable(st.code)) {
		free(cont);
		if (api_classify(404, st.code) == API_MISSING && strncmp(st.code, "ERR_", 4) == 0)
			die_missing(s, st.code);
		log_warnx("open channel %s: channel status %s; retrying", s->channel, st.code);
		backoff(s, now, -1);
		return;
	}
	set_str(&s->cont, cont);
	s->have_committed = st.has_committed;
	snprintf(s->committed, sizeof(s->committed), "%s", st.committed);
	s->err_base = st.rows_error_count;
	s->err_base_set = st.has_errors;
	log_info("channel %s open on pipe %s.%s.%s; last committed offset token %s",
	    s->channel, s->cf->database, s->cf->schema, s->cf->pipe,
	    st.has_committed ? st.committed : "(none)");
	maybe_subscribe(s, now);
}

static void
on_append(struct stream *s, const struct http_resp *rs, enum api_class c,
    const char *code, int64_t now)
{
	struct batch *b = s->rq_batch;
	char *cont = NULL;

	s->rq_batch = NULL;
	if (c != API_OK) {
		common_failure(s, c, rs, code, now);
		return;
	}
	if (api_parse_append(rs->body, rs->body_len, &cont) < 0) {
		want_rewind(s, "append %" PRIu64 "..%" PRIu64 ": unusable answer", b->first_seq,
		    b->last_seq);
		return;
	}
	set_str(&s->cont, cont);
	q_pop(&s->ready);
	free(b->body);
	b->body = NULL;
	b->appended_ns = now;
	s->m.rows_appended += b->nrows;
	s->m.batches_appended++;
	s->m.bytes_raw += b->raw_total;
	s->m.bytes_wire += b->body_len;
	log_debug("appended seqs %" PRIu64 "..%" PRIu64 " (%zu rows, %zu -> %zu bytes)",
	    b->first_seq, b->last_seq, b->nrows, b->raw_total, b->body_len);
	if (s->sent.n == 0)
		s->next_status_at = now + s->cf->commit_poll_ms * NS_PER_MS;
	q_push(&s->sent, b);
}

static void
on_committed(struct stream *s, const char *tok, int64_t now)
{
	uint64_t jid, seq;
	struct batch *b;

	if (row_parse_offset_token(tok, &jid, &seq) < 0 || jid != s->jid || seq <= s->committed_seq)
		return;
	s->committed_seq = seq;
	s->m.committed_seq = seq;
	s->m.last_commit_wall_ns = clock_realtime_ns();
	s->progress_at = now;
	while ((b = s->sent.head) != NULL && b->last_seq <= seq) {
		q_pop(&s->sent);
		s->m.rows_committed += b->nrows;
		metrics_latency(&s->m, (double)(now - b->appended_ns) / 1e6);
		batch_free(b);
	}
	send_ack(s, now);
}

static void
on_status(struct stream *s, const struct http_resp *rs, enum api_class c,
    const char *code, int64_t now)
{
	struct api_chstatus st;
	bool found = false;

	if (c != API_OK) {
		common_failure(s, c, rs, code, now);
		return;
	}
	s->next_status_at = now + s->cf->commit_poll_ms * NS_PER_MS;
	if (api_parse_status(rs->body, rs->body_len, s->channel, &st, &found) < 0) {
		log_warnx("channel status: unusable answer");
		return;
	}
	if (!found) {
		want_rewind(s, "the service no longer lists the channel");
		return;
	}
	if (!api_status_usable(st.code)) {
		want_rewind(s, "channel status %s", st.code);
		return;
	}
	if (st.has_errors && s->err_base_set && st.rows_error_count > s->err_base) {
		log_errx("channel %s: %" PRId64 " row(s) rejected by the table; last error: %s",
		    s->channel, st.rows_error_count - s->err_base,
		    st.last_error[0] ? st.last_error : "(none given)");
		s->m.error_rows += (uint64_t)(st.rows_error_count - s->err_base);
	}
	if (st.has_errors) {
		s->err_base = st.rows_error_count;
		s->err_base_set = true;
	}
	if (st.has_committed)
		on_committed(s, st.committed, now);
}

static void
on_done(struct stream *s, const struct http_resp *rs, int64_t now)
{
	char code[128];
	enum api_class c;
	enum rq rq = s->rq;

	s->m.connections += (uint64_t)rs->new_connections;
	api_error_code(rs->body, rs->body_len, code, sizeof(code));
	c = api_classify(rs->status, code);
	if (c == API_OK && rq != RQ_TOKEN && rq != RQ_HOSTNAME)
		s->auth_refreshed = false;
	if (c == API_OK)
		s->attempts = 0;
	switch (rq) {
	case RQ_HOSTNAME: on_hostname(s, rs, c, code, now); break;
	case RQ_TOKEN: on_token(s, rs, c, code, now); break;
	case RQ_OPEN: on_open(s, rs, c, code, now); break;
	case RQ_APPEND: on_append(s, rs, c, code, now); break;
	case RQ_STATUS: on_status(s, rs, c, code, now); break;
	default: break;
	}
	if (s->rq == rq)
		s->rq = RQ_NONE;
}

/* ------------------------------------------------------------ loop */

static int64_t
min_deadline(const struct stream *s, int64_t now)
{
	int64_t d = now + NS_PER_S;

	/* turn() just acted on everything due; a deadline already past is
	 * waiting on something else (back-off, an answer) and must not spin. */
#define MIN(x) do { if ((x) > now && (x) < d) d = (x); } while (0)
	MIN(s->next_stats);
	MIN(s->next_metrics);
	if (s->sub == NULL)
		MIN(s->sub_retry_at);
	if (s->cur != NULL)
		MIN(s->cur->opened_ns + s->cf->flush_interval_ms * NS_PER_MS);
	if (!http_busy(s->http)) {
		MIN(s->retry_at);
		MIN(s->next_ingest_at);
		if (s->sent.n > 0)
			MIN(s->next_status_at);
		MIN(s->scoped_refresh_at);
	}
#undef MIN
	return d;
}

/* systemd's watchdog is fed while the pipeline is healthy: nothing waits
 * for a commit, commits advanced recently, or an outage is being ridden out
 * with back-off. A loop that runs but makes no progress lets it fire. */
static void
feed_watchdog(struct stream *s, int64_t now)
{
	bool idle = s->sent.n == 0 && s->ready.n == 0;
	bool backing_off = now < s->retry_at || s->attempts > 0 || s->sub == NULL;

	if (now < s->next_watchdog)
		return;
	s->next_watchdog = now + WATCHDOG_EVERY_NS;
	if (idle || backing_off || now - s->progress_at < STALL_NS)
		notify_send(s->nt, "WATCHDOG=1");
}

static void
periodic(struct stream *s, int64_t now)
{
	int r;

	if (s->ready_sent)
		feed_watchdog(s, now);

	if (now >= s->next_stats) {
		metrics_log(&s->m, clock_realtime_ns());
		s->next_stats = now + STATS_EVERY_NS;
		/* A drained backlog leaves freed batch buffers in the heap; give
		 * them back so steady-state RSS stays small on a Pi. */
		if (s->ready.n == 0 && s->sent.n == 0)
			malloc_trim(0);
	}
	if (s->cf->metrics_file[0] != '\0' && now >= s->next_metrics) {
		if ((r = metrics_write(&s->m, s->cf->metrics_file, s->device, s->channel,
		    clock_realtime_ns())) < 0)
			log_warnx("metrics file %s: %s", s->cf->metrics_file, strerror(-r));
		s->next_metrics = now + METRICS_EVERY_NS;
	}
}

static void
turn(struct stream *s, int64_t now)
{
	const struct http_resp *rs;

	if (http_take(s->http, &rs))
		on_done(s, rs, now);
	sub_try_connect(s, now);
	maybe_subscribe(s, now);
	if (s->cur != NULL && now - s->cur->opened_ns >= s->cf->flush_interval_ms * NS_PER_MS)
		seal_cur(s);
	next_request(s, now);
	send_ack(s, now);
	periodic(s, now);
}

int
stream_run(struct stream *s, volatile sig_atomic_t *stop)
{
	struct pollfd fds[1 + HTTP_MAX_FDS];
	sigset_t waitmask;

	/* main() blocks SIGTERM/SIGINT (so libcurl's resolver threads never take
	 * them); they are delivered only inside ppoll, which then returns EINTR
	 * and the loop sees *stop at once. */
	sigprocmask(SIG_BLOCK, NULL, &waitmask);
	sigdelset(&waitmask, SIGTERM);
	sigdelset(&waitmask, SIGINT);
	s->m.start_wall_ns = clock_realtime_ns();
	s->next_stats = clock_mono_ns() + STATS_EVERY_NS;
	s->progress_at = clock_mono_ns();
	while (!*stop) {
		int64_t now = clock_mono_ns(), dl;
		size_t n = 0, nh;
		int to, hto;

		turn(s, now);
		if (s->sub != NULL && can_read(s)) {
			fds[0] = (struct pollfd){ .fd = sdsock_fd(s->sub), .events = POLLIN };
			n = 1;
		}
		nh = http_pollfds(s->http, fds + n, HTTP_MAX_FDS);
		dl = min_deadline(s, now);
		to = (int)((dl - now + NS_PER_MS - 1) / NS_PER_MS);
		hto = http_timeout_ms(s->http, now);
		if (hto >= 0 && hto < to)
			to = hto;
		if (to < 0)
			to = 0;
		{
			struct timespec ts = { to / 1000, (long)(to % 1000) * 1000000L };

			if (ppoll(fds, n + nh, &ts, &waitmask) < 0 && errno != EINTR)
				return -errno;
		}
		now = clock_mono_ns();
		http_dispatch(s->http, fds + n, nh, now);
		if (n == 1 && s->sub != NULL && fds[0].revents != 0)
			sub_read_some(s, now);
	}
	notify_send(s->nt, "STOPPING=1");
	metrics_log(&s->m, clock_realtime_ns());
	if (s->cf->metrics_file[0] != '\0')
		metrics_write(&s->m, s->cf->metrics_file, s->device, s->channel,
		    clock_realtime_ns());
	return 0;
}

/* ------------------------------------------------------------ life cycle */

int
stream_new(const struct config *cf, EVP_PKEY *key, const struct row_host *host,
    struct notify *nt, struct stream **ret)
{
	struct stream *s = calloc(1, sizeof(*s));
	struct utsname u;
	char ua[512];
	int r;

	if (s == NULL) {
		EVP_PKEY_free(key);
		return -ENOMEM;
	}
	s->cf = cf;
	s->nt = nt;
	s->key = key;
	s->host = *host;
	s->sub_backoff_ms = 250;
	snprintf(s->channel, sizeof(s->channel), "%s", cf->channel_name);
	if (uname(&u) < 0)
		snprintf(u.machine, sizeof(u.machine), "unknown");
	snprintf(ua, sizeof(ua), "snowsense-streamerd/%s (Linux %s) C/17 (app=%s)",
	    SNOWSENSE_VERSION, u.machine, cf->user_agent_app);
	if (key != NULL) {
		auth_claim_account(cf->account, s->claim_account, sizeof(s->claim_account));
		auth_upper(cf->user, s->claim_user, sizeof(s->claim_user));
		if ((r = auth_fingerprint(key, s->fp)) < 0)
			goto fail;
	}
	if ((s->row_buf = malloc(ROW_MAX)) == NULL) {
		r = -ENOMEM;
		goto fail;
	}
	if ((r = http_new(cf->ca_file, ua, &s->http)) < 0 ||
	    (r = batch_coder_new((enum batch_comp)cf->compression, &s->coder)) < 0)
		goto fail;
	*ret = s;
	return 0;
fail:
	stream_free(s);
	return r;
}

void
stream_free(struct stream *s)
{
	if (s == NULL)
		return;
	http_free(s->http);
	batch_coder_free(s->coder);
	EVP_PKEY_free(s->key);
	batch_free(s->cur);
	q_clear(&s->ready);
	q_clear(&s->sent);
	sdsock_close(s->sub);
	set_str(&s->jwt, NULL);
	set_str(&s->scoped, NULL);
	set_str(&s->cont, NULL);
	free(s->rq_body);
	free(s->row_buf);
	free(s);
}

/* ------------------------------------------------------------ one-shot modes */

/* Runs one request to completion; returns its class, code in code. */
static enum api_class
sync_req(struct stream *s, const struct http_req *q, const struct http_resp **rs,
    char *code, size_t cap)
{
	int r = http_run_sync(s->http, q, rs);

	if (r < 0) {
		snprintf(code, cap, "%s", strerror(-r));
		return API_BAD;
	}
	api_error_code((*rs)->body, (*rs)->body_len, code, cap);
	return api_classify((*rs)->status, code);
}

static void
describe(const struct http_resp *rs, const char *code, char *out, size_t cap)
{
	if (rs->status == 0)
		snprintf(out, cap, "%s", rs->error);
	else
		snprintf(out, cap, "HTTP %ld %s", rs->status, code);
}

/* Hostname discovery and token exchange, blocking; prints PASS/FAIL lines
 * when verbose. Returns the number of failures (0 or 1). */
static int
sync_auth(struct stream *s, bool print)
{
	struct http_req q = { .method = "GET", .timeout_ms = 20000 };
	const struct http_resp *rs;
	char code[128], msg[300];
	char *tok = NULL;
	enum api_class c;

	snprintf(s->url, sizeof(s->url), "%s/v2/streaming/hostname", s->cf->control_base);
	q.url = s->url;
	q.bearer = account_cred(s, &q.token_type);
	c = sync_req(s, &q, &rs, code, sizeof(code));
	if (c != API_OK || api_parse_hostname(rs->body, rs->body_len, s->ingest) < 0) {
		describe(rs, code, msg, sizeof(msg));
		if (print)
			printf("FAIL hostname discovery: %s at %s\n", c == API_OK ?
			    "unusable answer" : msg, s->cf->control_base);
		else
			log_errx("hostname discovery at %s: %s", s->cf->control_base, msg);
		return 1;
	}
	snprintf(s->ingest_base, sizeof(s->ingest_base), "https://%s", s->ingest);
	if (print)
		printf("PASS hostname discovery: ingest host %s\n", s->ingest);
	for (;;) {
		if (s->key == NULL && s->token_kind == 2) {
			req_token(s, clock_mono_ns());
			if (print)
				printf("PASS token exchange: refused; using the PAT directly on the "
				    "ingest host\n");
			return 0;
		}
		if (token_req(s, &q) < 0)
			fatalx("out of memory");
		c = sync_req(s, &q, &rs, code, sizeof(code));
		if (c == API_OK && api_parse_token(rs->body, rs->body_len, &tok) == 0)
			break;
		if (c != API_OK && s->key == NULL && rs->status >= 400 && rs->status < 500) {
			s->token_kind++;
			continue;
		}
		describe(rs, code, msg, sizeof(msg));
		if (print)
			printf("FAIL token exchange: %s\n", c == API_OK ? "unusable answer" : msg);
		else
			log_errx("token exchange: %s", msg);
		return 1;
	}
	set_scoped(s, tok, clock_mono_ns());
	if (print)
		printf("PASS token exchange: scoped token for %s\n", s->ingest);
	return 0;
}

/* Connects to sensord and waits up to 3 s for its hello. */
static int
sync_hello(struct stream *s, struct proto_msg *m)
{
	struct sdsock *sb;
	int r;

	if ((r = sdsock_open(s->cf->socket, "streamerd", 3000, &sb, m)) == 0)
		sdsock_close(sb);
	return r;
}

int
stream_check(struct stream *s)
{
	struct proto_msg m;
	struct http_req q = { .method = "POST", .content_type = "application/json",
		.timeout_ms = 20000 };
	const struct http_resp *rs;
	struct api_chstatus st;
	char code[128], msg[300];
	bool found = false;
	int fails = 0, r;
	enum api_class c;

	if ((r = sync_hello(s, &m)) == 0) {
		snprintf(s->device, sizeof(s->device), "%s", m.u.hello_s.device);
		printf("PASS sensord socket: %s (journal %016" PRIx64 ", seqs %" PRIu64 "..%"
		    PRIu64 ", device \"%s\")\n", s->cf->socket, m.u.hello_s.journal_id,
		    m.u.hello_s.first_seq, m.u.hello_s.last_seq, s->device);
	} else {
		printf("FAIL sensord socket: %s: %s\n", s->cf->socket, strerror(-r));
		fails++;
	}
	if (sync_auth(s, true) != 0)
		return fails + 1;
	if (s->channel[0] == '\0')
		snprintf(s->channel, sizeof(s->channel), "%s", s->device);
	/* s->rq_body still holds the token request's body: replace, not overwrite. */
	free(s->rq_body);
	s->rq_body = NULL;
	if (api_body_status(s->channel[0] ? s->channel : "-", &s->rq_body) < 0 ||
	    api_url_status(s->url, sizeof(s->url), s->ingest_base, s->cf->database,
	    s->cf->schema, s->cf->pipe) < 0)
		fatalx("cannot build the status request");
	q.url = s->url;
	q.bearer = s->scoped;
	q.body = s->rq_body;
	q.body_len = strlen(s->rq_body);
	c = sync_req(s, &q, &rs, code, sizeof(code));
	if (c != API_OK || api_parse_status(rs->body, rs->body_len, s->channel, &st, &found) < 0) {
		describe(rs, code, msg, sizeof(msg));
		printf("FAIL pipe %s.%s.%s: %s%s\n", s->cf->database, s->cf->schema, s->cf->pipe,
		    c == API_OK ? "unusable status answer" : msg,
		    c == API_MISSING ? " (" SETUP_HINT ")" :
		    c == API_FORBIDDEN ? " (grants or network policy)" : "");
		return fails + 1;
	}
	if (!found)
		printf("PASS pipe %s.%s.%s reachable; channel %s not created yet\n",
		    s->cf->database, s->cf->schema, s->cf->pipe, s->channel);
	else
		printf("PASS pipe %s.%s.%s reachable; channel %s status %s, committed offset "
		    "token %s\n", s->cf->database, s->cf->schema, s->cf->pipe, s->channel,
		    st.code, st.has_committed ? st.committed : "(none)");
	return fails;
}

int
stream_drop(struct stream *s)
{
	static const char body[] = "{\"fail_on_uncommitted_rows\":false}";
	struct http_req q = { .method = "DELETE", .content_type = "application/json",
		.body = body, .body_len = strlen(body), .timeout_ms = 20000 };
	const struct http_resp *rs;
	struct proto_msg m;
	char code[128], msg[300];
	enum api_class c;
	int r;

	if (s->channel[0] == '\0') {
		if ((r = sync_hello(s, &m)) < 0) {
			log_errx("no \"channel_name\" configured and sensord (%s) is not there to "
			    "tell the device id: %s", s->cf->socket, strerror(-r));
			return r;
		}
		snprintf(s->channel, sizeof(s->channel), "%s", m.u.hello_s.device);
	}
	if (sync_auth(s, false) != 0)
		return -EACCES;
	if (api_url_channel(s->url, sizeof(s->url), s->ingest_base, s->cf->database,
	    s->cf->schema, s->cf->pipe, s->channel, "00000000-0000-4000-8000-000000000000") < 0)
		return -ENAMETOOLONG;
	q.url = s->url;
	q.bearer = s->scoped;
	c = sync_req(s, &q, &rs, code, sizeof(code));
	if (c == API_OK || (c == API_REOPEN && rs->status == 404) ||
	    (c == API_MISSING && strcmp(code, "ERR_CHANNEL_DOES_NOT_EXIST_OR_IS_NOT_AUTHORIZED") == 0)) {
		log_info("channel %s dropped from pipe %s.%s.%s (its offset token is gone; the "
		    "next start replays the whole journal)", s->channel, s->cf->database,
		    s->cf->schema, s->cf->pipe);
		return 0;
	}
	describe(rs, code, msg, sizeof(msg));
	log_errx("drop channel %s: %s", s->channel, msg);
	return -EIO;
}
