/* SPDX-License-Identifier: Apache-2.0 */
/*
 * engine: the channel engine driven event by event, as stream.c drives it,
 * with the service's answers read from tests/snowpipe-emu/answers/ where a
 * recorded or documented one exists (each file names its public source) and
 * written out here otherwise (each naming the rule it follows). Time is a
 * number the test moves; nothing touches the network.
 */
#include <errno.h>
#include <inttypes.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>

#include "api.h"
#include "clock.h"
#include "emu_answer.h"
#include "engine.h"
#include "log.h"
#include "row.h"

#define JID 0x5eed5eed00c0ffeeULL
#define T0 (1000 * NS_PER_S)
#define WALL0 1767225600LL	/* 2026-01-01 */

struct h {
	struct config cf;
	struct engine *e;
	struct metrics m;
	int64_t now;
	int64_t wall_s;
	bool synced;
	char logs[65536];
	struct engine_out out;
	struct http_req req;
	struct emu_answer ans;
	struct http_resp rs;
	char body[16384];
	struct batch *batches[64];
	size_t nbatches;
	bool b_sent;		/* step(): the offered batch went out (until a rewind) */
};

static EVP_PKEY *key2048;

/* ------------------------------------------------------------ world */

static void
hlog(void *arg, int level, const char *msg)
{
	struct h *h = arg;
	size_t l = strlen(h->logs);

	snprintf(h->logs + l, sizeof(h->logs) - l, "%d %s\n", level, msg);
}

static int64_t
hwall(void *arg)
{
	return ((struct h *)arg)->wall_s * NS_PER_S;
}

static bool
hsynced(void *arg)
{
	return ((struct h *)arg)->synced;
}

static void
base_config(struct config *cf, bool jwt)
{
	memset(cf, 0, sizeof(*cf));
	if (jwt) {
		snprintf(cf->private_key_file, sizeof(cf->private_key_file), "/k.p8");
		snprintf(cf->user, sizeof(cf->user), "streamer");
		snprintf(cf->account, sizeof(cf->account), "emuacct");
	} else {
		snprintf(cf->pat, sizeof(cf->pat), "the-pat");
	}
	snprintf(cf->database, sizeof(cf->database), "DEMO_DB");
	snprintf(cf->schema, sizeof(cf->schema), "DEMO_SCHEMA");
	snprintf(cf->pipe, sizeof(cf->pipe), "THERMAL_SENSOR_PIPE");
	snprintf(cf->control_base, sizeof(cf->control_base), "https://acct.example");
	cf->batch_max_rows = 100;
	cf->batch_max_bytes = 100000;
	cf->flush_interval_ms = 200;
	cf->commit_poll_ms = 500;
	cf->compression = 2;
}

/* (Re)creates h's engine from h->cf. */
static void
h_engine(struct h *h, enum engine_mode mode)
{
	struct engine_opts o = { .mode = mode };
	struct engine_env env = { .log = hlog, .wall_ns = hwall, .clock_synced = hsynced,
		.arg = h };
	EVP_PKEY *key = NULL;

	engine_free(h->e);
	if (h->cf.private_key_file[0] != '\0') {
		assert_int_equal(EVP_PKEY_up_ref(key2048), 1);
		key = key2048;
	}
	assert_int_equal(engine_new(&h->cf, key, &o, &env, &h->m, &h->e), 0);
}

static struct h *
h_new_mode(bool jwt, enum engine_mode mode, const char *channel)
{
	struct h *h = calloc(1, sizeof(*h));

	assert_non_null(h);
	base_config(&h->cf, jwt);
	snprintf(h->cf.channel_name, sizeof(h->cf.channel_name), "%s", channel);
	h->now = T0;
	h->wall_s = WALL0;
	h->synced = true;
	h_engine(h, mode);
	return h;
}

static struct h *
h_new(bool jwt)
{
	return h_new_mode(jwt, ENGINE_STREAM, "pi-7");
}

static void
h_free(struct h *h)
{
	engine_free(h->e);
	emu_answer_clear(&h->ans);
	for (size_t i = 0; i < h->nbatches; i++)
		batch_free(h->batches[i]);
	free(h);
}

static void
advance(struct h *h, int64_t ns)
{
	h->now += ns;
	h->wall_s += ns / NS_PER_S;
}

/* ------------------------------------------------------------ requests */

/* The engine's next request at now must be of kind (ENGINE_RQ_NONE: none). */
static void
expect_next(struct h *h, const struct batch *head, enum engine_stage kind)
{
	bool r = engine_next(h->e, h->now, head, &h->req, &h->out);

	if (kind == ENGINE_RQ_NONE) {
		if (r)
			fail_msg("unexpected request %s %s", h->req.method, h->req.url);
		return;
	}
	if (!r)
		fail_msg("no request (kind %d expected); logs:\n%s", (int)kind, h->logs);
	assert_int_equal(engine_report(h->e)->stage, kind);
}

static bool
url_has(const struct h *h, const char *s)
{
	return strstr(h->req.url, s) != NULL;
}

/* Waits (moves time) until a request is due, at most limit. */
static void
wait_next(struct h *h, const struct batch *head, enum engine_stage kind, int64_t limit)
{
	int64_t until = h->now + limit;

	while (h->now <= until) {
		if (engine_next(h->e, h->now, head, &h->req, &h->out)) {
			assert_int_equal(engine_report(h->e)->stage, kind);
			return;
		}
		assert_int_equal(h->out.exit_code, 0);
		advance(h, 50 * NS_PER_MS);
	}
	fail_msg("no request of kind %d within %" PRId64 " ms; logs:\n%s", (int)kind,
	    limit / NS_PER_MS, h->logs);
}

/* ------------------------------------------------------------ answers */

static const char *
answers_dir(void)
{
	static char dir[4096];
	const char *top = getenv("TOP");

	snprintf(dir, sizeof(dir), "%s/tests/snowpipe-emu/answers", top ? top : ".");
	return dir;
}

static void
resp_from_answer(struct h *h)
{
	const char *v;

	h->rs = (struct http_resp){ .status = h->ans.status, .body = h->ans.body,
		.body_len = h->ans.body_len, .retry_after_s = -1 };
	if ((v = emu_answer_header(&h->ans, "x-snowflake-session")) != NULL)
		snprintf(h->rs.session, sizeof(h->rs.session), "%s", v);
	if ((v = emu_answer_header(&h->ans, "content-type")) != NULL)
		snprintf(h->rs.content_type, sizeof(h->rs.content_type), "%.*s",
		    (int)strcspn(v, ";"), v);
	if ((v = emu_answer_header(&h->ans, "retry-after")) != NULL)
		h->rs.retry_after_s = strtol(v, NULL, 10);
}

/* Feeds the canned answer file name (in answers/) to the request in flight. */
static void
feed_file(struct h *h, const char *name)
{
	char path[4200], err[256];

	snprintf(path, sizeof(path), "%s/%s", answers_dir(), name);
	emu_answer_clear(&h->ans);
	if (emu_answer_load(path, &h->ans, err, sizeof(err)) < 0)
		fail_msg("%s: %s", path, err);
	resp_from_answer(h);
	engine_on_answer(h->e, &h->rs, h->now, &h->out);
}

/* Feeds an answer written here: status, a header block ("Name: value\n"
 * lines, may be NULL) and the body. */
static void
feed(struct h *h, int status, const char *headers, const char *fmt, ...)
{
	char text[sizeof(h->body) + 512], err[256];
	va_list ap;
	int n;

	n = snprintf(text, sizeof(text), "# source: test\nHTTP/1.1 %d X\n%s\n", status,
	    headers ? headers : "");
	va_start(ap, fmt);
	vsnprintf(text + n, sizeof(text) - (size_t)n, fmt, ap);
	va_end(ap);
	emu_answer_clear(&h->ans);
	if (emu_answer_parse(text, strlen(text), &h->ans, err, sizeof(err)) < 0)
		fail_msg("answer: %s", err);
	resp_from_answer(h);
	engine_on_answer(h->e, &h->rs, h->now, &h->out);
}

/* A transport failure (status 0). */
static void
feed_transport(struct h *h, const char *why)
{
	h->rs = (struct http_resp){ .status = 0, .body = "", .retry_after_s = -1 };
	snprintf(h->rs.error, sizeof(h->rs.error), "%s", why);
	engine_on_answer(h->e, &h->rs, h->now, &h->out);
}

static void
feed_open(struct h *h, const char *name, const char *committed)
{
	char tok[300];

	if (committed)
		snprintf(tok, sizeof(tok), "\"%s\"", committed);
	else
		snprintf(tok, sizeof(tok), "null");
	feed(h, 200, "Content-Type: application/json\n", "{\"next_continuation_token\":\"0_1\","
	    "\"channel_status\":{\"database_name\":\"DEMO_DB\",\"schema_name\":\"DEMO_SCHEMA\","
	    "\"pipe_name\":\"THERMAL_SENSOR_PIPE\",\"channel_name\":\"%s\","
	    "\"channel_status_code\":\"SUCCESS\",\"last_committed_offset_token\":%s,"
	    "\"rows_error_count\":0}}", name, tok);
}

static void
feed_status(struct h *h, const char *name, const char *code, uint64_t seq)
{
	char tok[ROW_OFFSET_TOKEN_LEN];

	row_offset_token(JID, seq, tok);
	feed(h, 200, "Content-Type: application/json\n", "{\"channel_statuses\":{\"%s\":{"
	    "\"channel_status_code\":\"%s\",\"last_committed_offset_token\":\"%s\","
	    "\"rows_error_count\":0}}}", name, code, tok);
}

/* ------------------------------------------------------------ sensord */

static void
hello(struct h *h, uint64_t first, uint64_t last)
{
	engine_on_hello(h->e, JID, first, last, "pi-7", &h->out);
}

/* A sealed batch of seqs first..last of JID, owned by the harness, as the
 * configuration's compression (none) makes it. */
static struct batch *
mkbatch(struct h *h, uint64_t first, uint64_t last)
{
	struct batch_coder *c;
	struct batch *b;

	assert_int_equal(batch_coder_new(BATCH_COMP_NONE, BATCH_WIRE_MAX, &c), 0);
	assert_int_equal(batch_new(c, JID, h->now, &b), 0);
	for (uint64_t s = first; s <= last; s++) {
		char row[64];
		int n = snprintf(row, sizeof(row), "{\"seq\":%" PRIu64 "}\n", s);

		assert_int_equal(batch_add(b, s, row, (size_t)n, BATCH_WIRE_MAX), 0);
	}
	assert_int_equal(batch_seal(b), 0);
	batch_coder_free(c);
	assert_true(h->nbatches < sizeof(h->batches) / sizeof(h->batches[0]));
	h->batches[h->nbatches++] = b;
	return b;
}

/* Records first..last arrive and are kept. */
static void
records(struct h *h, uint64_t first, uint64_t last)
{
	for (uint64_t s = first; s <= last; s++)
		assert_true(engine_on_record(h->e, s, &h->out));
}

/* hostname (the prototype's real answer), a token if the engine asks for one,
 * sensord's hello, then the open with a committed token (NULL: none). */
static void
bring_up(struct h *h, const char *committed)
{
	expect_next(h, NULL, ENGINE_RQ_HOSTNAME);
	assert_true(url_has(h, "/v2/streaming/hostname"));
	feed_file(h, "hostname-prototype.http");
	assert_string_equal(engine_ingest(h->e), "lxb29530.ingest.iadaax.snowflakecomputing.com");
	hello(h, 1, 100);
	assert_false(h->out.subscribe);		/* not before the channel is open */
	assert_true(engine_next(h->e, h->now, NULL, &h->req, &h->out));
	if (engine_report(h->e)->stage == ENGINE_RQ_TOKEN) {
		assert_true(url_has(h, "/oauth/token"));
		feed(h, 200, "Content-Type: text/plain\n",
		    "eyJhbGciOiJIUzI1NiJ9.eyJleHAiOjE3NjcyMjkyMDB9.c2ln");
		expect_next(h, NULL, ENGINE_RQ_OPEN);
	}
	assert_int_equal(engine_report(h->e)->stage, ENGINE_RQ_OPEN);
	assert_string_equal(h->req.method, "PUT");
	assert_true(url_has(h, "/channels/pi-7?requestId="));
	feed_open(h, "pi-7", committed);
}

/* ------------------------------------------------------------ tests */

static void
test_open_subscribes_after_committed(void **state)
{
	struct h *h = h_new(true);
	char tok[ROW_OFFSET_TOKEN_LEN];

	(void)state;
	row_offset_token(JID, 40, tok);
	bring_up(h, tok);
	assert_true(h->out.subscribe);
	assert_false(h->out.sub_oldest);
	assert_int_equal(h->out.sub_from, 41);
	assert_int_equal(engine_ackable(h->e), 40);	/* committed by an earlier run */
	h_free(h);
}

static void
test_open_new_channel_from_oldest(void **state)
{
	struct h *h = h_new(false);

	(void)state;
	bring_up(h, NULL);
	assert_true(h->out.subscribe);
	assert_true(h->out.sub_oldest);
	assert_int_equal(engine_ackable(h->e), 0);
	h_free(h);
}

/* The documented open answer (open-docs.http) and the prototype's minimal one
 * are both usable. */
static void
test_open_canned(void **state)
{
	struct h *h = h_new(true);

	(void)state;
	expect_next(h, NULL, ENGINE_RQ_HOSTNAME);
	feed_file(h, "hostname-docs.http");
	assert_string_equal(engine_ingest(h->e), "string");
	expect_next(h, NULL, ENGINE_RQ_TOKEN);
	feed_file(h, "token-docs.http");
	hello(h, 1, 10);
	expect_next(h, NULL, ENGINE_RQ_OPEN);
	feed_file(h, "open-docs.http");
	assert_true(h->out.subscribe);
	assert_true(h->out.sub_oldest);
	h_free(h);
}

/* append -> 200 (append-docs.http) -> status polls -> commit -> ack. */
static void
test_append_commit_ack(void **state)
{
	struct h *h = h_new(true);
	struct batch *b;

	(void)state;
	bring_up(h, NULL);
	records(h, 1, 10);
	b = mkbatch(h, 1, 10);
	advance(h, 200 * NS_PER_MS);
	expect_next(h, b, ENGINE_RQ_APPEND);
	assert_true(url_has(h, "/channels/pi-7/rows?startOffsetToken=5eed5eed00c0ffee-0000"));
	assert_true(url_has(h, "continuationToken=0_1"));
	assert_ptr_equal(h->req.body, b->body);
	feed_file(h, "append-docs.http");
	assert_true(h->out.appended);
	assert_int_equal(engine_ackable(h->e), 0);
	/* nothing more to send until the commit poll is due */
	expect_next(h, NULL, ENGINE_RQ_NONE);
	assert_true(engine_deadline(h->e, false) > h->now);
	wait_next(h, NULL, ENGINE_RQ_STATUS, NS_PER_S);
	assert_true(url_has(h, ":bulk-channel-status"));
	feed_status(h, "pi-7", "SUCCESS", 10);
	assert_int_equal(h->out.committed, 10);
	assert_int_equal(engine_ackable(h->e), 10);
	assert_int_equal(h->m.committed_seq, 10);
	/* all committed: no more polls */
	advance(h, 5 * NS_PER_S);
	expect_next(h, NULL, ENGINE_RQ_NONE);
	h_free(h);
}

/* A service that commits each append lag after it took it, one record a
 * second in a batch of its own (as flush_interval_ms at 1 record/s): the
 * bulk status calls per append over the appends after the first skip, of
 * n. sensord is never told of a seq the service did not report committed. */
static double
status_per_append(int64_t lag, int n, int skip)
{
	struct h *h = h_new(true);
	int64_t taken[64], next_rec;
	uint64_t last[64], seq = 0, committed = 0;
	struct batch *ready = NULL;
	int na = 0, polls = 0;

	assert_true(n <= 60);
	bring_up(h, NULL);
	next_rec = h->now;
	while (na < n) {
		if (ready == NULL && h->now >= next_rec) {
			seq++;
			records(h, seq, seq);
			ready = mkbatch(h, seq, seq);
			next_rec += NS_PER_S;
		}
		if (engine_next(h->e, h->now, ready, &h->req, &h->out)) {
			enum engine_stage k = engine_report(h->e)->stage;

			assert_true(k == ENGINE_RQ_APPEND || k == ENGINE_RQ_STATUS);
			if (k == ENGINE_RQ_APPEND) {
				feed_file(h, "append-docs.http");
				taken[na] = h->now;
				last[na++] = seq;
				ready = NULL;
			} else {
				for (int i = 0; i < na && taken[i] + lag <= h->now; i++)
					committed = last[i];
				polls += na > skip;
				feed_status(h, "pi-7", "SUCCESS", committed);
			}
		}
		assert_true(engine_ackable(h->e) <= committed);
		advance(h, 10 * NS_PER_MS);
	}
	h_free(h);
	return (double)polls / (n - skip);
}

/* One bulk status call per append once the lag is learned (it was one
 * every commit_poll_ms from each append: two at a 1 s lag), and fewer than
 * one when several appends wait at once (a 3 s lag: four per append). */
static void
test_status_polls_per_append(void **state)
{
	double one = status_per_append(NS_PER_S, 60, 20);
	double three = status_per_append(3 * NS_PER_S, 60, 20);

	(void)state;
	print_message("status calls per append: %.2f at a 1 s lag, %.2f at 3 s\n", one, three);
	assert_true(one <= 1.2);
	assert_true(three <= 0.8);
}

/* A real 400 STALE_CONTINUATION_TOKEN_SEQUENCER: rewind, reopen, replay
 * from the committed token. */
static void
test_stale_sequencer_reopens(void **state)
{
	struct h *h = h_new(true);
	char tok[ROW_OFFSET_TOKEN_LEN];
	struct batch *b;

	(void)state;
	bring_up(h, NULL);
	records(h, 1, 5);
	b = mkbatch(h, 1, 5);
	advance(h, 200 * NS_PER_MS);
	expect_next(h, b, ENGINE_RQ_APPEND);
	feed_file(h, "stale-sequencer-emqx-18056.http");
	assert_false(h->out.appended);
	advance(h, 200 * NS_PER_MS);
	expect_next(h, NULL, ENGINE_RQ_OPEN);	/* the rewind, then the reopen */
	assert_true(h->out.rewind);
	assert_int_equal(h->m.rewinds, 1);
	assert_non_null(strstr(h->logs, "STALE_CONTINUATION_TOKEN_SEQUENCER"));
	row_offset_token(JID, 3, tok);
	feed_open(h, "pi-7", tok);
	assert_false(h->out.subscribe);		/* the new connection's hello first */
	hello(h, 1, 100);
	assert_true(h->out.subscribe);
	assert_int_equal(h->out.sub_from, 4);
	h_free(h);
}

/* The documented stale-sequencer 400 and the prototype's real 400 for an
 * append to a channel the service does not know: rewind and reopen; the
 * docs' bulk status example, which does not name our channel: reopen too. */
static void
test_canned_reopen_answers(void **state)
{
	static const char *const files[] = { "stale-sequencer-docs.http",
		"append-not-found-prototype.http" };
	struct h *h;

	(void)state;
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		h = h_new(true);
		bring_up(h, NULL);
		records(h, 1, 5);
		advance(h, 200 * NS_PER_MS);
		expect_next(h, mkbatch(h, 1, 5), ENGINE_RQ_APPEND);
		feed_file(h, files[i]);
		assert_false(h->out.appended);
		assert_int_equal(h->out.exit_code, 0);
		advance(h, 200 * NS_PER_MS);
		expect_next(h, NULL, ENGINE_RQ_OPEN);
		assert_true(h->out.rewind);
		h_free(h);
	}

	h = h_new(true);
	bring_up(h, NULL);
	records(h, 1, 5);
	advance(h, 200 * NS_PER_MS);
	expect_next(h, mkbatch(h, 1, 5), ENGINE_RQ_APPEND);
	feed_file(h, "append-docs.http");
	wait_next(h, NULL, ENGINE_RQ_STATUS, NS_PER_S);
	feed_file(h, "status-docs.http");
	assert_int_equal(h->out.exit_code, 0);
	assert_int_equal(engine_ackable(h->e), 0);
	assert_non_null(strstr(h->logs, "no longer lists the channel"));
	wait_next(h, NULL, ENGINE_RQ_OPEN, 2 * NS_PER_S);
	assert_int_equal(h->m.rewinds, 1);
	h_free(h);
}

/* 401 (jwt-invalid.http): the token is renewed once; a second 401 stops with
 * exit 4 and the hint. */
static void
test_401_refresh_once_then_fatal(void **state)
{
	struct h *h = h_new(true);

	(void)state;
	bring_up(h, NULL);
	records(h, 1, 2);
	advance(h, 200 * NS_PER_MS);
	expect_next(h, mkbatch(h, 1, 2), ENGINE_RQ_APPEND);
	feed_file(h, "jwt-invalid.http");
	assert_int_equal(h->out.exit_code, 0);
	assert_non_null(strstr(h->logs, "refreshing the token once"));
	expect_next(h, NULL, ENGINE_RQ_TOKEN);
	feed(h, 200, NULL, "a.b.c");
	advance(h, 200 * NS_PER_MS);
	expect_next(h, h->batches[0], ENGINE_RQ_APPEND);
	feed_file(h, "jwt-invalid.http");
	assert_int_equal(h->out.exit_code, EXIT_PRODUCTION);
	assert_non_null(strstr(h->out.fatal, "authentication refused (HTTP 401) again"));
	assert_non_null(strstr(h->out.fatal, "RSA_PUBLIC_KEY_FP"));
	expect_next(h, NULL, ENGINE_RQ_NONE);
	h_free(h);
}

/* 403: grants or a network policy; stop at once, naming them. */
static void
test_403_fatal(void **state)
{
	struct h *h = h_new(true);

	(void)state;
	expect_next(h, NULL, ENGINE_RQ_HOSTNAME);
	feed_file(h, "hostname-prototype.http");
	expect_next(h, NULL, ENGINE_RQ_TOKEN);
	feed(h, 200, NULL, "a.b.c");
	hello(h, 1, 1);
	expect_next(h, NULL, ENGINE_RQ_OPEN);
	/* REST reference: 403 is an authorisation failure. */
	feed(h, 403, "Content-Type: application/json\n", "{\"code\":\"ERR_FORBIDDEN\","
	    "\"message\":\"not allowed\"}");
	assert_int_equal(h->out.exit_code, EXIT_PRODUCTION);
	assert_non_null(strstr(h->out.fatal, "HTTP 403"));
	assert_non_null(strstr(h->out.fatal, "lacks a grant"));
	h_free(h);
}

/* 409 on an append (an invalidated channel, per the error-handling page):
 * reopen and replay. */
static void
test_409_reopens(void **state)
{
	struct h *h = h_new(true);

	(void)state;
	bring_up(h, NULL);
	records(h, 1, 3);
	advance(h, 200 * NS_PER_MS);
	expect_next(h, mkbatch(h, 1, 3), ENGINE_RQ_APPEND);
	feed(h, 409, "Content-Type: application/json\n", "{\"code\":\"ERR_CHANNEL_MUST_BE_REOPENED\","
	    "\"message\":\"channel invalidated\"}");
	advance(h, 200 * NS_PER_MS);
	expect_next(h, NULL, ENGINE_RQ_OPEN);
	assert_true(h->out.rewind);
	h_free(h);
}

/* The request in flight is the append first sent: same URL (request id and
 * offset tokens), same body byte for byte. */
static void
expect_same_append(const struct h *h, const char *url, const unsigned char *body,
    size_t len)
{
	assert_string_equal(h->req.url, url);
	assert_int_equal(h->req.body_len, len);
	assert_memory_equal(h->req.body, body, len);
}

/* 429 with Retry-After, a 5xx and a transport failure: the identical
 * request again after the back-off, nothing rewound. */
static void
test_429_and_5xx_retry_same_request(void **state)
{
	struct h *h = h_new(true);
	struct batch *b;
	char url[API_URL_MAX];
	unsigned char body[4096];
	size_t len;

	(void)state;
	bring_up(h, NULL);
	records(h, 1, 3);
	b = mkbatch(h, 1, 3);
	advance(h, 200 * NS_PER_MS);
	expect_next(h, b, ENGINE_RQ_APPEND);
	snprintf(url, sizeof(url), "%s", h->req.url);
	assert_true(h->req.body_len <= sizeof(body));
	len = h->req.body_len;
	memcpy(body, h->req.body, len);
	feed(h, 429, "Content-Type: application/json\nRetry-After: 2\n",
	    "{\"code\":\"ERR_TOO_MANY_REQUESTS\",\"message\":\"slow down\"}");
	assert_false(h->out.rewind);
	/* the metrics say since when and why, in words a label may carry */
	assert_int_equal(h->m.retrying_since_wall_ns, WALL0 * NS_PER_S);
	assert_string_equal(h->m.last_error, "append: HTTP 429 ERR_TOO_MANY_REQUESTS");
	assert_true(h->m.changed);
	advance(h, 1900 * NS_PER_MS);
	h->wall_s += 2;
	expect_next(h, b, ENGINE_RQ_NONE);	/* Retry-After: 2 s is honoured */
	wait_next(h, b, ENGINE_RQ_APPEND, NS_PER_S);
	expect_same_append(h, url, body, len);
	/* the bare-string 5xx body the spec lists */
	feed(h, 503, "Content-Type: application/json\n", "\"ERR_GENERAL_EXCEPTION_RETRY_REQUEST\"");
	assert_false(h->out.rewind);
	expect_next(h, b, ENGINE_RQ_NONE);
	wait_next(h, b, ENGINE_RQ_APPEND, 5 * NS_PER_S);
	expect_same_append(h, url, body, len);
	assert_string_equal(h->m.last_error, "append: HTTP 503 ERR_GENERAL_EXCEPTION_RETRY_REQUEST");
	feed_transport(h, "Connection reset by peer");
	/* not the transport's own text (it may name hosts, paths, times) */
	assert_string_equal(h->m.last_error, "append: transport failure");
	wait_next(h, b, ENGINE_RQ_APPEND, 5 * NS_PER_S);
	expect_same_append(h, url, body, len);
	h->rs = (struct http_resp){ .status = 0, .retry_after_s = -1, .body = "",
		.error = "Operation timed out after 30001 ms", .error_kind = "Timeout was reached" };
	engine_on_answer(h->e, &h->rs, h->now, &h->out);
	assert_string_equal(h->m.last_error, "append: Timeout was reached");
	assert_int_equal(h->m.retrying_since_wall_ns, WALL0 * NS_PER_S);	/* the run's start */
	wait_next(h, b, ENGINE_RQ_APPEND, 10 * NS_PER_S);
	feed_file(h, "append-docs.http");
	assert_true(h->out.appended);
	assert_true(h->m.retries >= 4);
	assert_int_equal(h->m.retrying_since_wall_ns, 0);	/* over */
	assert_string_equal(h->m.last_error, "append: Timeout was reached");	/* kept */
	h_free(h);
}

/* --check: hostname, token, one status; a transient 429 on the way is
 * retried, not taken as a refusal. */
static void
test_check_retries_transient(void **state)
{
	struct h *h = h_new_mode(true, ENGINE_CHECK, "pi-7");
	const struct engine_report *rep = engine_report(h->e);

	(void)state;
	expect_next(h, NULL, ENGINE_RQ_HOSTNAME);
	feed_file(h, "hostname-prototype.http");
	expect_next(h, NULL, ENGINE_RQ_TOKEN);
	feed(h, 429, NULL, "{\"code\":\"ERR_TOO_MANY_REQUESTS\"}");
	assert_int_equal(h->out.exit_code, 0);
	wait_next(h, NULL, ENGINE_RQ_TOKEN, 5 * NS_PER_S);
	feed(h, 200, NULL, "a.b.c");
	assert_true(rep->token);
	expect_next(h, NULL, ENGINE_RQ_STATUS);
	feed_status(h, "pi-7", "SUCCESS", 5);
	assert_true(engine_done(h->e));
	assert_true(rep->found);
	assert_string_equal(rep->code, "SUCCESS");
	h_free(h);
}

/* --check with a PAT: a 429 from the token exchange is retried with the same
 * form, never taken as the form's refusal (which walked through every form
 * and still printed PASS). */
static void
test_check_pat_429_not_a_refusal(void **state)
{
	struct h *h = h_new_mode(false, ENGINE_CHECK, "pi-7");
	char first[512] = "";
	int tokens = 0, guard = 0;

	(void)state;
	expect_next(h, NULL, ENGINE_RQ_HOSTNAME);
	feed_file(h, "hostname-prototype.http");
	while (!engine_done(h->e) && guard++ < 200) {
		if (!engine_next(h->e, h->now, NULL, &h->req, &h->out)) {
			assert_int_equal(h->out.exit_code, 0);
			advance(h, 100 * NS_PER_MS);
			continue;
		}
		switch (engine_report(h->e)->stage) {
		case ENGINE_RQ_TOKEN:
			if (tokens++ == 0) {
				snprintf(first, sizeof(first), "%s", (const char *)h->req.body);
				feed(h, 429, "Retry-After: 1\n", "{\"code\":\"ERR_TOO_MANY_REQUESTS\"}");
			} else {
				assert_string_equal((const char *)h->req.body, first);
				feed(h, 200, NULL, "a.b.c");
			}
			break;
		case ENGINE_RQ_STATUS:
			if (tokens == 0 && !engine_report(h->e)->pat_refused)
				feed_file(h, "jwt-invalid.http");	/* PAT refused as it is */
			else
				feed_status(h, "pi-7", "SUCCESS", 1);
			break;
		default:
			fail_msg("unexpected request %s", h->req.url);
		}
		assert_int_equal(h->out.exit_code, 0);
	}
	assert_true(engine_done(h->e));
	assert_int_equal(tokens, 2);
	assert_true(engine_report(h->e)->token);
	h_free(h);
}

/* --drop-channel: a channel that is already gone counts as dropped when the
 * service says so with its code, at any status; a bare 404 (perhaps a wrong
 * pipe) and a 404 naming a missing pipe are errors. */
static void
drop_answered(int status, const char *body, bool dropped)
{
	struct h *h = h_new_mode(true, ENGINE_DROP, "pi-7");

	expect_next(h, NULL, ENGINE_RQ_HOSTNAME);
	feed_file(h, "hostname-prototype.http");
	expect_next(h, NULL, ENGINE_RQ_TOKEN);
	feed(h, 200, NULL, "a.b.c");
	expect_next(h, NULL, ENGINE_RQ_DROP);
	assert_string_equal(h->req.method, "DELETE");
	feed(h, status, NULL, "%s", body);
	assert_int_equal(engine_report(h->e)->dropped, dropped);
	if (dropped)
		assert_int_equal(h->out.exit_code, 0);
	else
		assert_int_not_equal(h->out.exit_code, 0);
	h_free(h);
}

static void
test_drop_gone_is_dropped(void **state)
{
	(void)state;
	drop_answered(200, "{}", true);
	drop_answered(404, "", false);
	drop_answered(400, "{\"code\":\"ERR_CHANNEL_DOES_NOT_EXIST_OR_IS_NOT_AUTHORIZED\"}", true);
	drop_answered(404, "{\"code\":\"ERR_CHANNEL_DOES_NOT_EXIST_OR_IS_NOT_AUTHORIZED\"}", true);
	drop_answered(404, "{\"code\":\"ERR_PIPE_DOES_NOT_EXIST_OR_NOT_AUTHORIZED\"}", false);
}

/* --check gives up on a transient failure after a few tries, naming it. */
static void
test_check_gives_up(void **state)
{
	struct h *h = h_new_mode(true, ENGINE_CHECK, "pi-7");
	int tries = 0;

	(void)state;
	expect_next(h, NULL, ENGINE_RQ_HOSTNAME);
	for (;;) {
		feed(h, 503, NULL, "\"ERR_GENERAL_EXCEPTION_RETRY_REQUEST\"");
		tries++;
		if (h->out.exit_code != 0)
			break;
		wait_next(h, NULL, ENGINE_RQ_HOSTNAME, 5 * NS_PER_S);
	}
	assert_int_equal(tries, 4);
	assert_int_equal(h->out.exit_code, EXIT_PRODUCTION);
	assert_non_null(strstr(h->out.fatal, "HTTP 503"));
	assert_true(engine_done(h->e));
	h_free(h);
}

/* Counts the requests of kind the engine sends in window ns when each is
 * answered with status and body. */
static int
count_requests(struct h *h, enum engine_stage kind, int64_t window, int status,
    const char *body)
{
	int64_t until = h->now + window;
	int n = 0;

	while (h->now < until) {
		if (engine_next(h->e, h->now, NULL, &h->req, &h->out)) {
			assert_int_equal(engine_report(h->e)->stage, kind);
			feed(h, status, "Content-Type: application/json\n", "%s", body);
			assert_int_equal(h->out.exit_code, 0);
			n++;
		}
		advance(h, 10 * NS_PER_MS);
	}
	return n;
}

/* 13.10: a 200 whose body cannot be used backs off like a 5xx, growing: a
 * few requests in 6 s, not one every ~200 ms; and it is logged once. */
static void
test_unusable_200_backs_off(void **state)
{
	static const char *const bodies[] = { "{}", "{\"next_continuation_token\":", "<html>" };
	struct h *h;
	int n;

	(void)state;
	for (size_t i = 0; i < sizeof(bodies) / sizeof(bodies[0]); i++) {
		h = h_new(false);
		expect_next(h, NULL, ENGINE_RQ_HOSTNAME);
		feed_file(h, "hostname-prototype.http");
		hello(h, 1, 10);
		while (engine_next(h->e, h->now, NULL, &h->req, &h->out) &&
		    engine_report(h->e)->stage == ENGINE_RQ_TOKEN)
			feed(h, 200, NULL, "a.b.c");
		/* the open went out: answer it, and every retry, unusably */
		feed(h, 200, "Content-Type: application/json\n", "%s", bodies[i]);
		n = 1 + count_requests(h, ENGINE_RQ_OPEN, 6 * NS_PER_S, 200, bodies[i]);
		assert_in_range(n, 3, 7);
		assert_true(engine_backing_off(h->e, h->now));
		assert_int_equal(h->m.retries, (uint64_t)n);
		/* logged at warning level once, the body's start included */
		assert_non_null(strstr(h->logs, "1 open channel pi-7: unusable answer (HTTP 200"));
		assert_null(strstr(strstr(h->logs, "1 open channel") + 1, "1 open channel"));
		/* a usable answer ends the streak */
		wait_next(h, NULL, ENGINE_RQ_OPEN, 40 * NS_PER_S);
		feed_open(h, "pi-7", NULL);
		assert_false(engine_backing_off(h->e, h->now));
		h_free(h);
	}
}

/* 13.10 on bulk status: an unusable 200 there backs off too. */
static void
test_unusable_status_backs_off(void **state)
{
	struct h *h = h_new(true);
	int n;

	(void)state;
	bring_up(h, NULL);
	records(h, 1, 2);
	advance(h, 200 * NS_PER_MS);
	expect_next(h, mkbatch(h, 1, 2), ENGINE_RQ_APPEND);
	feed_file(h, "append-docs.http");
	n = count_requests(h, ENGINE_RQ_STATUS, 6 * NS_PER_S, 200, "{\"channel_statuses\":7}");
	/* commit_poll_ms 500 alone would be 12 */
	assert_in_range(n, 3, 7);
	h_free(h);
}

/* ... and appends that go through between those status polls do not end
 * the status streak (they did: one status poll each ~300 ms for ever). */
static void
test_unusable_status_appends_between(void **state)
{
	struct h *h = h_new(true);
	struct batch *b = NULL;
	uint64_t seq = 1;
	int64_t until, flush_at;
	int n = 0, appends = 0;

	(void)state;
	bring_up(h, NULL);
	until = h->now + 6 * NS_PER_S;
	flush_at = h->now;
	while (h->now < until) {
		if (b == NULL && h->now >= flush_at) {	/* a batch every 200 ms */
			records(h, seq, seq + 1);
			b = mkbatch(h, seq, seq + 1);
			seq += 2;
			flush_at = h->now + 200 * NS_PER_MS;
		}
		if (engine_next(h->e, h->now, b, &h->req, &h->out)) {
			if (engine_report(h->e)->stage == ENGINE_RQ_APPEND) {
				feed_file(h, "append-docs.http");
				appends++;
				b = NULL;
			} else {
				assert_int_equal(engine_report(h->e)->stage, ENGINE_RQ_STATUS);
				feed(h, 200, "Content-Type: application/json\n", "%s",
				    "{\"channel_statuses\":7}");
				n++;
			}
			assert_int_equal(h->out.exit_code, 0);
		}
		advance(h, 10 * NS_PER_MS);
	}
	assert_true(appends >= 5);
	assert_in_range(n, 3, 7);
	/* logged once at warning level */
	assert_non_null(strstr(h->logs, "1 channel status pi-7: unusable answer"));
	assert_null(strstr(strstr(h->logs, "1 channel status") + 1, "1 channel status"));
	h_free(h);
}

/* A last_error_message of 5 KB (the emulator's long_error_message fault, a
 * real service's stack trace) in the open and the status answers: the
 * channel opens, commits are seen, the rejected rows counted and the
 * message logged cut. */
static void
test_long_error_message(void **state)
{
	struct h *h = h_new(false);
	char tok[ROW_OFFSET_TOKEN_LEN], *msg;

	(void)state;
	assert_non_null(msg = malloc(5200));
	memset(msg, 'x', 5120);
	memcpy(msg, "Error \\\"quoted\\\" ", 17);
	msg[5120] = '\0';
	expect_next(h, NULL, ENGINE_RQ_HOSTNAME);
	feed_file(h, "hostname-prototype.http");
	hello(h, 1, 100);
	while (engine_next(h->e, h->now, NULL, &h->req, &h->out) &&
	    engine_report(h->e)->stage == ENGINE_RQ_TOKEN)
		feed(h, 200, NULL, "a.b.c");
	assert_int_equal(engine_report(h->e)->stage, ENGINE_RQ_OPEN);
	feed(h, 200, NULL, "{\"next_continuation_token\":\"0_1\",\"channel_status\":{"
	    "\"channel_name\":\"pi-7\",\"channel_status_code\":\"SUCCESS\","
	    "\"last_committed_offset_token\":null,\"rows_error_count\":1,"
	    "\"last_error_message\":\"%s\"}}", msg);
	assert_true(h->out.subscribe);
	records(h, 1, 4);
	advance(h, 200 * NS_PER_MS);
	expect_next(h, mkbatch(h, 1, 4), ENGINE_RQ_APPEND);
	feed_file(h, "append-docs.http");
	wait_next(h, NULL, ENGINE_RQ_STATUS, NS_PER_S);
	row_offset_token(JID, 4, tok);
	feed(h, 200, NULL, "{\"channel_statuses\":{\"pi-7\":{\"channel_status_code\":"
	    "\"SUCCESS\",\"last_committed_offset_token\":\"%s\",\"rows_error_count\":3,"
	    "\"last_error_message\":\"%s\",\"last_error_timestamp\":1767225900000}}}", tok, msg);
	assert_int_equal(h->out.committed, 4);
	assert_int_equal(engine_ackable(h->e), 4);
	assert_int_equal(h->m.error_rows, 2);
	if (strstr(h->logs, "2 row(s) rejected by the table; last error: Error \"quoted\" xxx") == NULL)
		fail_msg("logs:\n%s", h->logs);
	assert_null(strstr(h->logs, "unusable"));
	free(msg);
	h_free(h);
}

/* Corner 1: the service stores the unquoted name pi-7 as PI-7 (the open
 * answer says so) and matches bulk-status names exactly: status asks for
 * PI-7 on the pipe as stored, and finds it. */
static void
test_case_change(void **state)
{
	struct h *h = h_new(false);

	(void)state;
	snprintf(h->cf.database, sizeof(h->cf.database), "demo_db");
	expect_next(h, NULL, ENGINE_RQ_HOSTNAME);
	feed_file(h, "hostname-prototype.http");
	hello(h, 1, 100);
	while (engine_next(h->e, h->now, NULL, &h->req, &h->out) &&
	    engine_report(h->e)->stage == ENGINE_RQ_TOKEN)
		feed(h, 200, NULL, "a.b.c");
	assert_int_equal(engine_report(h->e)->stage, ENGINE_RQ_OPEN);
	assert_true(url_has(h, "/databases/demo_db/"));
	assert_true(url_has(h, "/channels/pi-7?"));	/* the URL takes any case */
	feed_open(h, "PI-7", NULL);
	assert_non_null(strstr(h->logs, "channel pi-7 is stored as \"PI-7\""));
	records(h, 1, 3);
	advance(h, 200 * NS_PER_MS);
	expect_next(h, mkbatch(h, 1, 3), ENGINE_RQ_APPEND);
	feed_file(h, "append-docs.http");
	wait_next(h, NULL, ENGINE_RQ_STATUS, NS_PER_S);
	assert_true(url_has(h, "/databases/DEMO_DB/schemas/DEMO_SCHEMA/pipes/THERMAL_SENSOR_PIPE"
	    ":bulk-channel-status"));
	assert_string_equal((const char *)h->req.body, "{\"channel_names\":[\"PI-7\"]}");
	feed_status(h, "PI-7", "SUCCESS", 3);
	assert_int_equal(h->out.committed, 3);
	assert_int_equal(engine_ackable(h->e), 3);
	/* a service that keys the entry in another case still matches */
	records(h, 4, 5);
	advance(h, 200 * NS_PER_MS);
	expect_next(h, mkbatch(h, 4, 5), ENGINE_RQ_APPEND);
	feed_file(h, "append-docs.http");
	wait_next(h, NULL, ENGINE_RQ_STATUS, NS_PER_S);
	feed_status(h, "Pi-7", "SUCCESS", 5);
	assert_int_equal(h->out.committed, 5);
	h_free(h);
}

/* --check cannot open the channel: it asks for both spellings. */
static void
test_check_asks_both_cases(void **state)
{
	struct h *h = h_new_mode(true, ENGINE_CHECK, "pi-7");

	(void)state;
	expect_next(h, NULL, ENGINE_RQ_HOSTNAME);
	feed_file(h, "hostname-prototype.http");
	expect_next(h, NULL, ENGINE_RQ_TOKEN);
	feed(h, 200, NULL, "a.b.c");
	expect_next(h, NULL, ENGINE_RQ_STATUS);
	assert_string_equal((const char *)h->req.body, "{\"channel_names\":[\"pi-7\",\"PI-7\"]}");
	feed_status(h, "PI-7", "SUCCESS", 5);
	assert_true(engine_report(h->e)->found);
	h_free(h);
}

/* A scripted service for a brought-up engine: opens answered usable (with
 * committed token open_committed, NULL: none), appends with append_status
 * and append_body, status with a commit of the batch's last seq. */
struct script {
	int append_status;
	const char *append_body;
	const char *open_committed;
};

/* One step: answers the request the engine sends with batch b offered, or
 * moves time 10 ms when it sends none. sensord says hello again after each
 * rewind and the batch's records arrive after each subscription. Returns
 * the kind answered, ENGINE_RQ_NONE when time moved. */
static enum engine_stage
step(struct h *h, struct batch *b, const struct script *sc)
{
	enum engine_stage k;
	bool r = engine_next(h->e, h->now, h->b_sent ? NULL : b, &h->req, &h->out);

	if (h->out.rewind) {
		h->b_sent = false;
		hello(h, 1, 100);
	}
	if (!r) {
		advance(h, 10 * NS_PER_MS);
		return ENGINE_RQ_NONE;
	}
	switch ((k = engine_report(h->e)->stage)) {
	case ENGINE_RQ_OPEN:
		feed_open(h, "pi-7", sc->open_committed);
		if (h->out.subscribe)
			records(h, b->first_seq, b->last_seq);
		break;
	case ENGINE_RQ_APPEND:
		if (sc->append_status == 200)
			feed_file(h, "append-docs.http");
		else
			feed(h, sc->append_status, "Content-Type: application/json\n", "%s",
			    sc->append_body);
		h->b_sent = h->out.appended;
		break;
	case ENGINE_RQ_STATUS:
		feed_status(h, "pi-7", "SUCCESS", b->last_seq);
		break;
	default:
		fail_msg("unexpected request %s", h->req.url);
	}
	return k;
}

/* Steps until n requests of kind were answered (or a fatal error, or the
 * time limit); returns how many were. */
static int
steps(struct h *h, struct batch *b, const struct script *sc, enum engine_stage kind, int n,
    int64_t limit)
{
	int64_t until = h->now + limit;
	int got = 0;

	while (got < n && h->now < until && h->out.exit_code == 0)
		if (step(h, b, sc) == kind)
			got++;
	return got;
}

/* Corner 3: an unknown 400 on every append (the emulator's persistent
 * refusal): reopen and replay, each reopen succeeding, but no commit in
 * between: the fifth refusal is one fatal error, exit 4, naming the status,
 * the code and the message, within seconds, not three loops a second for
 * ever. */
static void
test_persistent_refusal_ends(void **state)
{
	struct h *h = h_new(false);
	struct script sc = { 400, "{\"code\":\"ERR_SOMETHING_NEW\",\"message\":\"the service "
		"changed\"}", NULL };
	struct batch *b;
	int64_t t0;

	(void)state;
	bring_up(h, NULL);
	b = mkbatch(h, 1, 3);
	records(h, 1, 3);
	t0 = h->now;
	assert_int_equal(steps(h, b, &sc, ENGINE_RQ_APPEND, 100, 120 * NS_PER_S), 5);
	assert_int_equal(h->out.exit_code, EXIT_PRODUCTION);
	assert_int_equal(h->m.rewinds, 4);
	assert_true(h->now - t0 < 15 * NS_PER_S);
	assert_non_null(strstr(h->out.fatal, "refused 5 times in a row with no commit in between"));
	assert_non_null(strstr(h->out.fatal, "HTTP 400 ERR_SOMETHING_NEW: the service changed"));
	assert_true(engine_done(h->e));
	expect_next(h, NULL, ENGINE_RQ_NONE);
	h_free(h);
}

/* 413 (and 415) get the hint that fixes them. */
static void
test_persistent_413_hint(void **state)
{
	struct h *h = h_new(false);
	struct script sc = { 413, "{\"code\":\"ERR_PAYLOAD_TOO_LARGE\",\"message\":\"too big\"}",
		NULL };
	struct batch *b;

	(void)state;
	bring_up(h, NULL);
	b = mkbatch(h, 1, 3);
	records(h, 1, 3);
	assert_int_equal(steps(h, b, &sc, ENGINE_RQ_APPEND, 100, 120 * NS_PER_S), 5);
	assert_int_equal(h->out.exit_code, EXIT_PRODUCTION);
	assert_non_null(strstr(h->out.fatal, "HTTP 413 ERR_PAYLOAD_TOO_LARGE: too big"));
	assert_non_null(strstr(h->out.fatal, "batch_max_wire_bytes"));
	h_free(h);
}

/* Commit progress ends a run of refusals; a successful reopen does not. */
static void
test_refusals_reset_by_commit(void **state)
{
	struct h *h = h_new(false);
	struct script bad = { 400, "{\"code\":\"ERR_ODD\",\"message\":\"m\"}", NULL };
	struct script good = { 200, NULL, NULL };
	struct batch *b;

	(void)state;
	bring_up(h, NULL);
	b = mkbatch(h, 1, 3);
	records(h, 1, 3);
	assert_int_equal(steps(h, b, &bad, ENGINE_RQ_APPEND, 4, 60 * NS_PER_S), 4);
	assert_int_equal(steps(h, b, &good, ENGINE_RQ_STATUS, 1, 60 * NS_PER_S), 1);
	assert_int_equal(h->out.committed, 3);
	b = mkbatch(h, 4, 6);
	records(h, 4, 6);
	h->b_sent = false;
	bad.open_committed = good.open_committed = "5eed5eed00c0ffee-00000000000000000003";
	assert_int_equal(steps(h, b, &bad, ENGINE_RQ_APPEND, 4, 60 * NS_PER_S), 4);
	assert_int_equal(h->out.exit_code, 0);
	assert_int_equal(steps(h, b, &good, ENGINE_RQ_STATUS, 1, 60 * NS_PER_S), 1);
	assert_int_equal(h->out.committed, 6);
	assert_int_equal(h->out.exit_code, 0);
	h_free(h);
}

/* The same bound for an open refused again and again. */
static void
test_open_refusals_end(void **state)
{
	struct h *h = h_new(false);
	int opens = 0;

	(void)state;
	expect_next(h, NULL, ENGINE_RQ_HOSTNAME);
	feed_file(h, "hostname-prototype.http");
	hello(h, 1, 10);
	while (opens < 10 && h->out.exit_code == 0) {
		if (!engine_next(h->e, h->now, NULL, &h->req, &h->out)) {
			advance(h, 10 * NS_PER_MS);
			continue;
		}
		if (engine_report(h->e)->stage == ENGINE_RQ_TOKEN) {
			feed(h, 200, NULL, "a.b.c");
			continue;
		}
		assert_int_equal(engine_report(h->e)->stage, ENGINE_RQ_OPEN);
		opens++;
		feed(h, 400, NULL, "{\"code\":\"ERR_INVALID_CHANNEL_NAME\",\"message\":\"bad\"}");
	}
	assert_int_equal(opens, 5);
	assert_int_equal(h->out.exit_code, EXIT_PRODUCTION);
	assert_non_null(strstr(h->out.fatal, "open channel pi-7 refused 5 times"));
	h_free(h);
}

/* The payload of a JWT as text (base64url decoded); new. */
static char *
jwt_payload(const char *jwt)
{
	const char *a = strchr(jwt, '.'), *b = a ? strchr(a + 1, '.') : NULL;
	size_t n, padded;
	unsigned char *in, *out;

	assert_non_null(b);
	n = (size_t)(b - a - 1);
	padded = (n + 3) / 4 * 4;
	assert_non_null(in = calloc(1, padded + 1));
	assert_non_null(out = calloc(1, padded + 1));
	for (size_t i = 0; i < padded; i++)
		in[i] = i < n ? (a[1 + i] == '-' ? '+' : a[1 + i] == '_' ? '/' : a[1 + i]) : '=';
	assert_true(EVP_DecodeBlock(out, in, (int)padded) > 0);
	free(in);
	return (char *)out;
}

/* Corner 4: with "role" set, the scope is the ingest host alone (as the docs
 * and Snowflake's own client send it) and the role rides in the JWT's scp
 * claim. */
static void
test_role_in_jwt_not_scope(void **state)
{
	struct h *h = h_new(true);
	char *pl;

	(void)state;
	snprintf(h->cf.role, sizeof(h->cf.role), "INGEST_ROLE");
	h_engine(h, ENGINE_STREAM);
	expect_next(h, NULL, ENGINE_RQ_HOSTNAME);
	feed_file(h, "hostname-prototype.http");
	expect_next(h, NULL, ENGINE_RQ_TOKEN);
	assert_string_equal((const char *)h->req.body, "grant_type=urn%3Aietf%3Aparams%3Aoauth%3A"
	    "grant-type%3Ajwt-bearer&scope=lxb29530.ingest.iadaax.snowflakecomputing.com");
	pl = jwt_payload(h->req.bearer);
	assert_non_null(strstr(pl, "\"scp\":\"session:role:INGEST_ROLE\""));
	free(pl);
	h_free(h);
}

/* ... the role in the scope only when asked ("scope_role"), and the other
 * form once after a 400 about the scope (the strict emulator's
 * INVALID_SCOPE). */
static void
test_scope_role_flips_once(void **state)
{
	struct h *h = h_new(true);

	(void)state;
	snprintf(h->cf.role, sizeof(h->cf.role), "INGEST_ROLE");
	h->cf.scope_role = true;
	h_engine(h, ENGINE_STREAM);
	expect_next(h, NULL, ENGINE_RQ_HOSTNAME);
	feed_file(h, "hostname-prototype.http");
	expect_next(h, NULL, ENGINE_RQ_TOKEN);
	assert_non_null(strstr(h->req.body, "%20session%3Arole%3AINGEST_ROLE"));
	feed(h, 400, NULL, "{\"code\":\"INVALID_SCOPE\",\"message\":\"scope \\\"x session:role:"
	    "INGEST_ROLE\\\" is not accepted: it must be the ingest host alone\"}");
	assert_int_equal(h->out.exit_code, 0);
	expect_next(h, NULL, ENGINE_RQ_TOKEN);
	assert_null(strstr(h->req.body, "session"));
	/* a second 400 about the scope is the answer */
	feed(h, 400, NULL, "{\"code\":\"INVALID_SCOPE\",\"message\":\"no\"}");
	assert_int_equal(h->out.exit_code, EXIT_PRODUCTION);
	assert_non_null(strstr(h->out.fatal, "token exchange: HTTP 400 INVALID_SCOPE"));
	h_free(h);
}

/* Corner 5: the PAT is the Bearer on the ingest host first (the only path
 * with real-run evidence); no token request at all when that works. */
static void
test_pat_direct_first(void **state)
{
	struct h *h = h_new(false);

	(void)state;
	expect_next(h, NULL, ENGINE_RQ_HOSTNAME);
	assert_string_equal(h->req.bearer, "the-pat");
	assert_string_equal(h->req.token_type, "PROGRAMMATIC_ACCESS_TOKEN");
	feed_file(h, "hostname-prototype.http");
	hello(h, 1, 10);
	expect_next(h, NULL, ENGINE_RQ_OPEN);
	assert_string_equal(h->req.bearer, "the-pat");
	assert_string_equal(h->req.token_type, "PROGRAMMATIC_ACCESS_TOKEN");
	feed_file(h, "open-prototype.http");
	assert_true(h->out.subscribe);
	records(h, 1, 2);
	advance(h, 200 * NS_PER_MS);
	expect_next(h, mkbatch(h, 1, 2), ENGINE_RQ_APPEND);
	assert_string_equal(h->req.bearer, "the-pat");
	feed_file(h, "append-docs.http");
	wait_next(h, NULL, ENGINE_RQ_STATUS, NS_PER_S);
	assert_string_equal(h->req.bearer, "the-pat");
	assert_int_equal(h->m.requests, 4);	/* hostname, open, append, status */
	h_free(h);
}

/* ... exchanged only when the ingest host answers 401 to it: the
 * documented form, then the RFC 8693 one; both refused is one fatal error. */
static void
test_pat_exchange_after_401(void **state)
{
	struct h *h = h_new(false);

	(void)state;
	expect_next(h, NULL, ENGINE_RQ_HOSTNAME);
	feed_file(h, "hostname-prototype.http");
	hello(h, 1, 10);
	expect_next(h, NULL, ENGINE_RQ_OPEN);
	feed_file(h, "jwt-invalid.http");
	assert_int_equal(h->out.exit_code, 0);
	assert_non_null(strstr(h->logs, "refused the PAT as the Bearer (HTTP 401)"));
	expect_next(h, NULL, ENGINE_RQ_TOKEN);
	assert_string_equal(h->req.bearer, "the-pat");
	assert_non_null(strstr(h->req.body, "jwt-bearer"));
	feed(h, 200, NULL, "sc.op.ed");
	advance(h, 200 * NS_PER_MS);
	expect_next(h, NULL, ENGINE_RQ_OPEN);
	assert_string_equal(h->req.bearer, "sc.op.ed");
	assert_null(h->req.token_type);
	feed_open(h, "pi-7", NULL);
	assert_true(h->out.subscribe);
	h_free(h);

	h = h_new(false);
	expect_next(h, NULL, ENGINE_RQ_HOSTNAME);
	feed_file(h, "hostname-prototype.http");
	hello(h, 1, 10);
	expect_next(h, NULL, ENGINE_RQ_OPEN);
	feed_file(h, "jwt-invalid.http");
	expect_next(h, NULL, ENGINE_RQ_TOKEN);
	feed(h, 401, NULL, "{\"code\":\"PAT_INVALID\",\"message\":\"no\"}");
	expect_next(h, NULL, ENGINE_RQ_TOKEN);
	assert_non_null(strstr(h->req.body, "token-exchange"));
	assert_non_null(strstr(h->req.body, "subject_token=the-pat"));
	assert_null(h->req.bearer);
	feed(h, 400, NULL, "{\"code\":\"invalid_grant\"}");
	assert_int_equal(h->out.exit_code, EXIT_PRODUCTION);
	assert_non_null(strstr(h->out.fatal, "refused it in both forms"));
	h_free(h);
}

/* Corner 7: a fresh JWT for each control-plane call (394302: refused when
 * issued more than 60 s before it arrives) ... */
static void
test_fresh_jwt_per_call(void **state)
{
	struct h *h = h_new(true);
	char *pl, want[64];

	(void)state;
	expect_next(h, NULL, ENGINE_RQ_HOSTNAME);
	pl = jwt_payload(h->req.bearer);
	snprintf(want, sizeof(want), "\"iat\":%lld", (long long)WALL0);
	assert_non_null(strstr(pl, want));
	free(pl);
	advance(h, 90 * NS_PER_S);	/* a slow answer, or a back-off */
	feed_file(h, "hostname-prototype.http");
	expect_next(h, NULL, ENGINE_RQ_TOKEN);
	pl = jwt_payload(h->req.bearer);
	snprintf(want, sizeof(want), "\"iat\":%lld", (long long)WALL0 + 90);
	assert_non_null(strstr(pl, want));
	free(pl);
	h_free(h);
}

/* ... x-snowflake-session echoed once the service sends it (here the real
 * EMQX answer's value), and a requestId on bulk status. */
static void
test_session_echo_and_status_request_id(void **state)
{
	struct h *h = h_new(false);
	struct batch *b;

	(void)state;
	bring_up(h, NULL);
	assert_null(h->req.session);
	records(h, 1, 4);
	b = mkbatch(h, 1, 2);
	advance(h, 200 * NS_PER_MS);
	expect_next(h, b, ENGINE_RQ_APPEND);
	assert_null(h->req.session);
	feed_file(h, "stale-sequencer-emqx-18056.http");	/* carries the header */
	wait_next(h, NULL, ENGINE_RQ_OPEN, NS_PER_S);
	assert_string_equal(h->req.session, "MTAuNC4zLjE0NDoxMDAwMA==");
	feed_open(h, "pi-7", NULL);
	hello(h, 1, 10);
	records(h, 1, 2);
	advance(h, 200 * NS_PER_MS);
	expect_next(h, b, ENGINE_RQ_APPEND);
	assert_string_equal(h->req.session, "MTAuNC4zLjE0NDoxMDAwMA==");
	feed_file(h, "append-docs.http");
	wait_next(h, NULL, ENGINE_RQ_STATUS, NS_PER_S);
	assert_string_equal(h->req.session, "MTAuNC4zLjE0NDoxMDAwMA==");
	assert_true(url_has(h, ":bulk-channel-status?requestId="));
	assert_int_equal(strlen(strstr(h->req.url, "requestId=") + 10), 36);
	h_free(h);
}

/* Brings h up to an open channel whose committed token is seq of journal
 * jid, sensord's journal JID holding 1..last; accept: --accept-committed-token. */
static void
open_with_token(struct h *h, uint64_t jid, uint64_t seq, uint64_t last, bool accept)
{
	char tok[ROW_OFFSET_TOKEN_LEN];
	struct engine_opts o = { .mode = ENGINE_STREAM, .accept_committed_token = accept };
	struct engine_env env = { .log = hlog, .wall_ns = hwall, .clock_synced = hsynced,
		.arg = h };

	engine_free(h->e);
	assert_int_equal(engine_new(&h->cf, NULL, &o, &env, &h->m, &h->e), 0);
	expect_next(h, NULL, ENGINE_RQ_HOSTNAME);
	feed_file(h, "hostname-prototype.http");
	engine_on_hello(h->e, JID, 1, last, "pi-7", &h->out);
	expect_next(h, NULL, ENGINE_RQ_OPEN);
	row_offset_token(jid, seq, tok);
	feed_open(h, "pi-7", tok);
}

/* 13.5: a committed token ahead of the journal (a restored card, a reused
 * channel name, a lying server) is never a skip: the first record at or
 * below it stops streamerd with exit 4, and nothing is acked meanwhile. */
static void
test_token_ahead_alarm(void **state)
{
	struct h *h = h_new(false);

	(void)state;
	open_with_token(h, JID, 400, 100, false);
	assert_true(h->out.subscribe);
	assert_false(h->out.sub_oldest);
	assert_int_equal(h->out.sub_from, 101);
	assert_int_equal(engine_ackable(h->e), 0);
	assert_false(engine_on_record(h->e, 101, &h->out));
	assert_int_equal(h->out.exit_code, EXIT_PRODUCTION);
	assert_non_null(strstr(h->out.fatal, "is ahead of sensord's journal"));
	assert_non_null(strstr(h->out.fatal, "hands out seq 101 again"));
	assert_non_null(strstr(h->out.fatal, "--accept-committed-token"));
	assert_int_equal(engine_ackable(h->e), 0);
	h_free(h);
}

/* ... but a journal that skipped past the token after a power cut (fsync
 * interval or never: a gap, then the next record) is explained: nothing of
 * it is missing but what lies past the token. */
static void
test_token_ahead_explained_by_gap(void **state)
{
	struct h *h = h_new(false);

	(void)state;
	open_with_token(h, JID, 400, 100, false);
	engine_on_gap(h->e, 101, 450, &h->out);
	assert_int_equal(h->out.exit_code, 0);
	assert_true(engine_on_record(h->e, 451, &h->out));
	assert_int_equal(h->m.records_missing, 50);	/* 401..450 only */
	assert_int_equal(engine_ackable(h->e), 400);
	assert_non_null(strstr(h->logs, "nothing is lost"));
	h_free(h);

	/* the record past the token straight away, no gap */
	h = h_new(false);
	open_with_token(h, JID, 400, 100, false);
	assert_true(engine_on_record(h->e, 401, &h->out));
	assert_int_equal(h->out.exit_code, 0);
	assert_int_equal(engine_ackable(h->e), 400);
	assert_int_equal(h->m.records_missing, 0);
	h_free(h);
}

/* --accept-committed-token: the operator means it; records up to the
 * token are not sent, and are counted as missing. */
static void
test_token_ahead_accepted(void **state)
{
	struct h *h = h_new(false);

	(void)state;
	open_with_token(h, JID, 400, 100, true);
	assert_int_equal(h->out.sub_from, 101);
	assert_non_null(strstr(h->logs, "accepted (--accept-committed-token)"));
	for (uint64_t s = 101; s <= 400; s++)
		assert_false(engine_on_record(h->e, s, &h->out));
	assert_int_equal(h->out.exit_code, 0);
	assert_int_equal(h->m.records_missing, 300);
	assert_int_equal(engine_ackable(h->e), 400);
	assert_true(engine_on_record(h->e, 401, &h->out));
	h_free(h);
}

/* 13.5: a token from another journal is an alarm too (another device on
 * the channel, or a replaced journal), with the way out in the message. */
static void
test_foreign_token(void **state)
{
	struct h *h = h_new(false);

	(void)state;
	open_with_token(h, 0x0123456789abcdefULL, 50, 100, false);
	assert_false(h->out.subscribe);
	assert_int_equal(h->out.exit_code, EXIT_PRODUCTION);
	assert_non_null(strstr(h->out.fatal, "is not from journal 5eed5eed00c0ffee"));
	assert_non_null(strstr(h->out.fatal, "\"channel_name\""));
	assert_non_null(strstr(h->out.fatal, "--accept-committed-token"));
	assert_non_null(strstr(h->out.fatal, "--drop-channel"));
	h_free(h);

	h = h_new(false);
	open_with_token(h, 0x0123456789abcdefULL, 50, 100, true);
	assert_int_equal(h->out.exit_code, 0);
	assert_true(h->out.subscribe);
	assert_true(h->out.sub_oldest);
	h_free(h);
}

/* The legitimate case the engine sees itself: sensord's journal replaced
 * while streamerd ran (the channel's token is from the journal this run
 * streamed): start over from the new journal's oldest record. */
static void
test_journal_replaced_while_running(void **state)
{
	struct h *h = h_new(false);
	char tok[ROW_OFFSET_TOKEN_LEN];

	(void)state;
	open_with_token(h, JID, 10, 20, false);
	assert_int_equal(h->out.sub_from, 11);
	records(h, 11, 12);
	engine_on_sub_lost(h->e);
	engine_on_hello(h->e, 0x00000000000000aaULL, 1, 3, "pi-7", &h->out);
	advance(h, 200 * NS_PER_MS);
	expect_next(h, NULL, ENGINE_RQ_OPEN);
	assert_true(h->out.rewind);
	engine_on_hello(h->e, 0x00000000000000aaULL, 1, 3, "pi-7", &h->out);
	row_offset_token(JID, 12, tok);
	feed_open(h, "pi-7", tok);
	assert_int_equal(h->out.exit_code, 0);
	assert_true(h->out.subscribe && h->out.sub_oldest);
	assert_non_null(strstr(h->logs, "journal was replaced while streamerd ran"));
	h_free(h);
}

/* 13.6: never ack past what this process appended, even when the service
 * reports a later token committed. */
static void
test_no_ack_past_appended(void **state)
{
	struct h *h = h_new(false);

	(void)state;
	open_with_token(h, JID, 2500, 2506, false);
	assert_int_equal(engine_ackable(h->e), 2500);
	records(h, 2501, 2510);
	advance(h, 200 * NS_PER_MS);
	expect_next(h, mkbatch(h, 2501, 2506), ENGINE_RQ_APPEND);
	feed_file(h, "append-docs.http");
	wait_next(h, NULL, ENGINE_RQ_STATUS, NS_PER_S);
	feed_status(h, "pi-7", "SUCCESS", 2508);
	assert_int_equal(h->out.committed, 2506);
	assert_int_equal(engine_ackable(h->e), 2506);
	assert_non_null(strstr(h->logs, "past seq 2506, the last this streamerd appended"));
	/* said once */
	advance(h, 200 * NS_PER_MS);
	expect_next(h, mkbatch(h, 2507, 2510), ENGINE_RQ_APPEND);
	feed_file(h, "append-docs.http");
	wait_next(h, NULL, ENGINE_RQ_STATUS, NS_PER_S);
	feed_status(h, "pi-7", "SUCCESS", 2512);
	assert_int_equal(engine_ackable(h->e), 2510);
	assert_null(strstr(strstr(h->logs, "past seq") + 1, "past seq"));
	h_free(h);
}

/* Corner 6: no JWT before the kernel says the clock is synchronised: the
 * wait is logged once and ends when the clock is synchronised ... */
static void
test_clock_wait_until_synced(void **state)
{
	struct h *h = h_new(true);

	(void)state;
	h->cf.clock_sync_wait_s = 60;
	h->synced = false;
	h_engine(h, ENGINE_STREAM);
	for (int i = 0; i < 20; i++) {
		expect_next(h, NULL, ENGINE_RQ_NONE);
		assert_true(engine_waiting_clock(h->e));
		assert_true(engine_deadline(h->e, false) <= h->now + NS_PER_S);
		advance(h, NS_PER_S);
	}
	assert_int_equal(h->m.requests, 0);
	assert_non_null(strstr(h->logs, "the clock is not synchronised yet"));
	assert_null(strstr(strstr(h->logs, "not synchronised yet") + 1, "not synchronised yet"));
	h->synced = true;
	expect_next(h, NULL, ENGINE_RQ_HOSTNAME);
	assert_false(engine_waiting_clock(h->e));
	assert_non_null(strstr(h->logs, "the clock is synchronised (after 20 s)"));
	h_free(h);
}

/* ... or when the bounded grace is over: then it tries anyway. A PAT needs
 * no clock, so it never waits. */
static void
test_clock_wait_bounded(void **state)
{
	struct h *h = h_new(true);
	int64_t t0;

	(void)state;
	h->cf.clock_sync_wait_s = 30;
	h->synced = false;
	h_engine(h, ENGINE_STREAM);
	t0 = h->now;
	wait_next(h, NULL, ENGINE_RQ_HOSTNAME, 40 * NS_PER_S);
	assert_true(h->now - t0 >= 30 * NS_PER_S);
	assert_true(h->now - t0 < 32 * NS_PER_S);
	assert_non_null(strstr(h->logs, "still not synchronised after 30 s: signing a JWT anyway"));
	/* after the wait, 401 twice names the clock */
	feed_file(h, "jwt-invalid.http");
	wait_next(h, NULL, ENGINE_RQ_HOSTNAME, NS_PER_S);
	feed_file(h, "jwt-invalid.http");
	assert_int_equal(h->out.exit_code, EXIT_PRODUCTION);
	assert_non_null(strstr(h->out.fatal, "the kernel says the clock is not synchronised"));
	h_free(h);

	h = h_new(false);
	h->cf.clock_sync_wait_s = 30;
	h->synced = false;
	h_engine(h, ENGINE_STREAM);
	expect_next(h, NULL, ENGINE_RQ_HOSTNAME);
	h_free(h);
}

static int
setup_key(void **state)
{
	(void)state;
	key2048 = EVP_RSA_gen(2048);
	return key2048 == NULL ? -1 : 0;
}

static int
teardown_key(void **state)
{
	(void)state;
	EVP_PKEY_free(key2048);
	return 0;
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_open_subscribes_after_committed),
		cmocka_unit_test(test_open_new_channel_from_oldest),
		cmocka_unit_test(test_open_canned),
		cmocka_unit_test(test_append_commit_ack),
		cmocka_unit_test(test_status_polls_per_append),
		cmocka_unit_test(test_stale_sequencer_reopens),
		cmocka_unit_test(test_canned_reopen_answers),
		cmocka_unit_test(test_401_refresh_once_then_fatal),
		cmocka_unit_test(test_403_fatal),
		cmocka_unit_test(test_409_reopens),
		cmocka_unit_test(test_429_and_5xx_retry_same_request),
		cmocka_unit_test(test_check_retries_transient),
		cmocka_unit_test(test_check_pat_429_not_a_refusal),
		cmocka_unit_test(test_check_gives_up),
		cmocka_unit_test(test_drop_gone_is_dropped),
		cmocka_unit_test(test_unusable_200_backs_off),
		cmocka_unit_test(test_unusable_status_backs_off),
		cmocka_unit_test(test_unusable_status_appends_between),
		cmocka_unit_test(test_long_error_message),
		cmocka_unit_test(test_case_change),
		cmocka_unit_test(test_check_asks_both_cases),
		cmocka_unit_test(test_persistent_refusal_ends),
		cmocka_unit_test(test_persistent_413_hint),
		cmocka_unit_test(test_refusals_reset_by_commit),
		cmocka_unit_test(test_open_refusals_end),
		cmocka_unit_test(test_role_in_jwt_not_scope),
		cmocka_unit_test(test_scope_role_flips_once),
		cmocka_unit_test(test_pat_direct_first),
		cmocka_unit_test(test_pat_exchange_after_401),
		cmocka_unit_test(test_fresh_jwt_per_call),
		cmocka_unit_test(test_session_echo_and_status_request_id),
		cmocka_unit_test(test_token_ahead_alarm),
		cmocka_unit_test(test_token_ahead_explained_by_gap),
		cmocka_unit_test(test_token_ahead_accepted),
		cmocka_unit_test(test_foreign_token),
		cmocka_unit_test(test_journal_replaced_while_running),
		cmocka_unit_test(test_no_ack_past_appended),
		cmocka_unit_test(test_clock_wait_until_synced),
		cmocka_unit_test(test_clock_wait_bounded),
	};

	return cmocka_run_group_tests(tests, setup_key, teardown_key);
}
