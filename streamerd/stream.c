/* SPDX-License-Identifier: Apache-2.0 */
/*
 * stream: the daemon side of the channel engine. It owns the HTTP client,
 * the sensord connection and the batch queues, runs the single poll loop on
 * common/timer's deadlines, and carries out what the engine decides
 * (engine.c holds every exactly-once rule, and no I/O). --check and
 * --drop-channel run the same engine synchronously.
 *
 * Buffers: one open batch, compressed as it fills (closed at
 * batch_max_rows, batch_max_bytes of NDJSON or batch_max_wire_bytes on the
 * wire), at most READY_MAX sealed batches waiting to be sent, and SENT_MAX
 * appended batches (their bodies freed) waiting for commit. The bodies of
 * the open and the waiting batches stay within queue_max_wire_bytes (plus
 * at most one row: a batch always takes its first): the open batch closes
 * early when the waiting ones leave it less room. When
 * there is no room the loop stops reading the sensord socket; the journal
 * holds the rest.
 */
#include <errno.h>
#include <inttypes.h>
#include <malloc.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include "batch.h"
#include "clock.h"
#include "engine.h"
#include "http.h"
#include "log.h"
#include "notify.h"
#include "metrics.h"
#include "sdsock.h"
#include "stream.h"
#include "timefix.h"
#include "timer.h"

#define READY_MAX 2
#define SENT_MAX 64
#define READS_PER_TURN 512
#define STATS_EVERY_NS (60 * NS_PER_S)
#define METRICS_EVERY_NS (10 * NS_PER_S)
#define PROBE_WAIT_NS (1 * NS_PER_S)	/* sensord's answer to the metrics probe */
#define HOLD_CHECK_NS (1 * NS_PER_S)	/* a held record: is the clock synchronised now? */
#define WATCHDOG_EVERY_NS (2 * NS_PER_S)
#define STALL_NS (120 * NS_PER_S)	/* uncommitted this long with no back-off: unhealthy */
#define SYNC_TIMEOUT_MS 20000		/* --check and --drop-channel, per request */

/* DOWN: no connection; WAIT: hello sent, sensord's not yet read; HELLO:
 * sensord said hello, not subscribed yet; READY: subscribed. */
enum sub_state { SUB_DOWN, SUB_WAIT, SUB_HELLO, SUB_READY };

struct stream {
	const struct config *cf;
	struct engine *eng;
	struct http *http;
	struct batch_coder *coder;
	struct row_host host;
	char *row_buf;

	/* sensord */
	struct sdsock *sub;
	enum sub_state sub_state;
	int64_t sub_backoff_ms;
	uint64_t acked;			/* last ack sent on this connection */

	/* a record taken before the clock was synchronised, waiting for it
	 * (nothing more is read meanwhile: order stays, the journal holds the rest) */
	struct timefix tf;
	struct record *held;
	bool hold_said;			/* the first hold was logged */

	/* batches */
	struct batch *cur;
	struct batch_queue ready, sent;

	struct metrics m;
	struct sdsock *probe;		/* asks sensord how far its journal goes */
	char probe_device[PROTO_NAME_LEN];
	bool metrics_failing;
	struct notify *nt;
	bool ready_sent;
	int64_t progress_at;		/* mono: last commit, or start */

	struct timer_set timers;
	struct timer t_engine, t_flush, t_sub, t_stats, t_metrics, t_watchdog, t_hold;
};

/* ------------------------------------------------------------ engine I/O */

static void
engine_log(void *arg, int level, const char *msg)
{
	(void)arg;
	switch (level) {
	case LOG_LVL_ERR: log_errx("%s", msg); break;
	case LOG_LVL_WARN: log_warnx("%s", msg); break;
	case LOG_LVL_INFO: log_info("%s", msg); break;
	default: log_debug("%s", msg); break;
	}
}

static void sub_lost(struct stream *s, const char *why, int64_t now);
static void write_metrics(struct stream *s);

static void
on_appended(struct stream *s, int64_t now)
{
	struct batch *b = batch_queue_pop(&s->ready);

	if (b == NULL)
		return;
	free(b->body);
	b->body = NULL;
	b->appended_ns = now;
	s->m.rows_appended += b->nrows;
	s->m.batches_appended++;
	s->m.bytes_raw += b->raw_total;
	s->m.bytes_wire += b->body_len;
	batch_queue_push(&s->sent, b);
}

static void
on_committed(struct stream *s, uint64_t seq, int64_t now)
{
	struct batch *b;

	s->m.last_commit_wall_ns = clock_realtime_ns();
	s->progress_at = now;
	while ((b = s->sent.head) != NULL && b->last_seq <= seq) {
		batch_queue_pop(&s->sent);
		s->m.rows_committed += b->nrows;
		metrics_latency(&s->m, (double)(now - b->appended_ns) / 1e6);
		batch_free(b);
	}
	write_metrics(s);
}

/* Drops everything held; the engine replays from the committed token once
 * sensord says hello again. */
static void
on_rewind(struct stream *s)
{
	batch_free(s->cur);
	s->cur = NULL;
	free(s->held);
	s->held = NULL;
	timer_cancel(&s->t_hold);
	batch_queue_clear(&s->ready);
	batch_queue_clear(&s->sent);
	sdsock_close(s->sub);
	s->sub = NULL;
	s->sub_state = SUB_DOWN;
	timer_cancel(&s->t_flush);
	timer_arm(&s->t_sub, 0);
}

static void
on_subscribe(struct stream *s, const struct engine_out *out, int64_t now)
{
	int r;

	if (s->sub == NULL || s->sub_state != SUB_HELLO)
		return;
	if ((r = sdsock_subscribe(s->sub, out->sub_oldest ? PROTO_FROM_OLDEST : PROTO_FROM_SEQ,
	    out->sub_from)) < 0) {
		sub_lost(s, strerror(-r), now);
		return;
	}
	s->sub_state = SUB_READY;
	if (!s->ready_sent) {
		notify_send(s->nt, "READY=1");
		s->ready_sent = true;
	}
}

/* Carries out the engine's decisions, in the order engine.h gives. */
static void
apply(struct stream *s, const struct engine_out *out, int64_t now)
{
	if (out->exit_code != 0)
		fatalx_code(out->exit_code, "%s", out->fatal);
	if (out->appended)
		on_appended(s, now);
	if (out->committed != 0)
		on_committed(s, out->committed, now);
	if (out->rewind)
		on_rewind(s);
	if (out->subscribe)
		on_subscribe(s, out, now);
}

/* Starts the request the engine wants, if any. */
static void
pump(struct stream *s, int64_t now)
{
	const struct batch *head = s->sent.n < SENT_MAX ? s->ready.head : NULL;
	struct engine_out out;
	struct http_req q;
	int r;

	if (http_busy(s->http))
		return;
	if (engine_next(s->eng, now, head, &q, &out)) {
		if ((r = http_start(s->http, &q)) < 0) {
			struct http_resp rs = { .status = 0, .retry_after_s = -1 };

			apply(s, &out, now);
			snprintf(rs.error, sizeof(rs.error), "cannot start request: %s",
			    strerror(-r));
			rs.error_kind = "cannot start request";
			rs.body = "";
			engine_on_answer(s->eng, &rs, now, &out);
		}
	}
	apply(s, &out, now);
}

/* ------------------------------------------------------------ batches */

/* Drops the open batch after a failure that cannot happen with capped rows;
 * losing its rows silently would break exactly-once, so replay them. */
static void
drop_cur(struct stream *s, const char *what, int err)
{
	char why[96];

	if (s->cur == NULL)
		return;
	log_errx("%s batch %" PRIu64 "..%" PRIu64 " failed: %s", what, s->cur->first_seq,
	    s->cur->last_seq, strerror(-err));
	batch_free(s->cur);
	s->cur = NULL;
	timer_cancel(&s->t_flush);
	snprintf(why, sizeof(why), "a batch could not be %s", what);
	engine_want_rewind(s->eng, why);
}

static void
seal_cur(struct stream *s)
{
	int r;

	timer_cancel(&s->t_flush);
	if (s->cur == NULL)
		return;
	if (s->cur->nrows == 0) {	/* a row that did not fit an empty batch */
		batch_free(s->cur);
		s->cur = NULL;
		return;
	}
	if ((r = batch_seal(s->cur)) < 0) {
		drop_cur(s, "sealing", r);
		return;
	}
	batch_queue_push(&s->ready, s->cur);
	s->cur = NULL;
}

/* Room left in queue_max_wire_bytes for the open batch's body. */
static size_t
body_room(const struct stream *s)
{
	size_t max = (size_t)s->cf->queue_max_wire_bytes;

	return s->ready.bytes < max ? max - s->ready.bytes : 0;
}

static bool
can_read(const struct stream *s)
{
	return s->sub != NULL && s->ready.n < READY_MAX && body_room(s) >= BATCH_WIRE_MIN &&
	    s->held == NULL;
}

/* Adds the formatted row to the open batch, sealing it first when full. */
static void
add_row(struct stream *s, uint64_t seq, size_t len, int64_t now)
{
	int r;

	/* Full: seal it, and the row opens the next (which always takes it). */
	for (int tries = 0; tries < 2; tries++) {
		if (s->cur == NULL) {
			if (batch_new(s->coder, engine_journal(s->eng), now, &s->cur) < 0)
				fatalx("out of memory for a batch");
			timer_arm_in(&s->t_flush, now, s->cf->flush_interval_ms * NS_PER_MS);
		}
		r = batch_add(s->cur, seq, s->row_buf, len, body_room(s));
		if (r != -ENOBUFS)
			break;
		seal_cur(s);
	}
	if (r == -ENOMEM)
		fatalx("out of memory for a batch");
	if (r < 0) {
		drop_cur(s, "filling", r);
		return;
	}
	if (s->cur->nrows >= (size_t)s->cf->batch_max_rows ||
	    s->cur->raw_total >= (size_t)s->cf->batch_max_bytes)
		seal_cur(s);
}

/* The record's row into the open batch: its time corrected when it was
 * taken unsynchronised in this boot and the clock is synchronised now
 * (timefix.h). False: it waits for that (held). */
static bool
take_record(struct stream *s, const struct record *r, int64_t now)
{
	uint64_t jid = engine_journal(s->eng);
	int64_t real = clock_realtime_ns(), boot = clock_boottime_ns(), t = r->t;
	enum timefix_verdict v = timefix_decide(&s->tf, r, !r->synced && clock_synced(), boot);
	char why[96];
	size_t len;
	int e;

	if (v == TIMEFIX_HOLD)
		return false;
	if (v == TIMEFIX_CORRECT)
		t = timefix_time(r, real, boot);
	if ((e = row_format_at(r, jid, &s->host, real, t, v == TIMEFIX_CORRECT, s->row_buf,
	    ROW_MAX, &len)) < 0) {
		log_errx("record %" PRIu64 " does not fit in a row: %s", r->seq, strerror(-e));
		snprintf(why, sizeof(why), "record %" PRIu64 " could not be formatted", r->seq);
		engine_want_rewind(s->eng, why);
		return true;
	}
	add_row(s, r->seq, len, now);
	return true;
}

static void
on_record(struct stream *s, const struct record *r, int64_t now)
{
	struct engine_out out;

	if (s->sub_state != SUB_READY)
		return;
	if (!engine_on_record(s->eng, r->seq, &out)) {
		apply(s, &out, now);	/* a record that is not sent may be a fatal alarm */
		return;
	}
	if (take_record(s, r, now))
		return;
	if (!s->hold_said) {
		log_info("the clock is not synchronised: records taken since boot wait up to %"
		    PRId64 " s (unsynced_hold_s) for it, to be sent with their times corrected",
		    s->cf->unsynced_hold_s);
		s->hold_said = true;
	}
	if ((s->held = malloc(sizeof(*s->held))) == NULL)
		fatalx("out of memory for a held record");
	*s->held = *r;
	seal_cur(s);		/* what came before it goes out meanwhile */
	timer_arm_in(&s->t_hold, now, HOLD_CHECK_NS);
}

static void
on_hold(struct timer *t, void *arg, int64_t now)
{
	struct stream *s = arg;

	if (s->held == NULL)
		return;
	if (!take_record(s, s->held, now)) {
		timer_arm_in(t, now, HOLD_CHECK_NS);
		return;
	}
	free(s->held);
	s->held = NULL;
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
	engine_on_sub_lost(s->eng);
	timer_arm_in(&s->t_sub, now, s->sub_backoff_ms * NS_PER_MS);
	s->sub_backoff_ms = s->sub_backoff_ms * 2 > 10000 ? 10000 : s->sub_backoff_ms * 2;
}

static void
on_sub_timer(struct timer *t, void *arg, int64_t now)
{
	struct stream *s = arg;
	int r;

	(void)t;
	if (s->sub != NULL)
		return;
	if ((r = sdsock_connect(s->cf->socket, s->cf->sensord_uid, 0, &s->sub)) < 0 ||
	    (r = sdsock_hello(s->sub, "streamerd")) < 0) {
		sub_lost(s, sdsock_strerror(r), now);
		return;
	}
	s->sub_state = SUB_WAIT;
	s->acked = 0;
	s->m.sensord_connects++;
}

static void
on_hello(struct stream *s, const struct proto_msg *m, int64_t now)
{
	struct engine_out out;

	if (s->sub_state != SUB_WAIT) {
		engine_want_rewind(s->eng, "sensord said hello twice");
		return;
	}
	s->sub_state = SUB_HELLO;	/* subscribed when the engine says so */
	s->sub_backoff_ms = 250;
	engine_on_hello(s->eng, m->u.hello_s.journal_id, m->u.hello_s.first_seq,
	    m->u.hello_s.last_seq, m->u.hello_s.device, &out);
	apply(s, &out, now);
}

static void
sub_read_some(struct stream *s, int64_t now)
{
	struct engine_out out;
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
			on_hello(s, &m, now);
			break;
		case PROTO_OP_REC:
			on_record(s, &m.u.rec, now);
			break;
		case PROTO_OP_GAP:
			engine_on_gap(s->eng, m.u.gap.from, m.u.gap.to, &out);
			apply(s, &out, now);
			break;
		case PROTO_OP_ERR:
			/* A refusal of who we are repeats on every reconnect:
			 * one clear message instead of a loop. */
			if (m.u.err.code == PROTO_ERR_DENIED)
				fatalx_code(EXIT_PRODUCTION, "sensord refuses this process "
				    "(uid %u): %s; sensord.json's streamer_user must name the "
				    "user streamerd runs as (then restart sensord)",
				    (unsigned)getuid(), m.u.err.msg);
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
	uint64_t seq = engine_ackable(s->eng);
	int r;

	if (s->sub == NULL || s->sub_state != SUB_READY || seq <= s->acked)
		return;
	if ((r = sdsock_ack(s->sub, seq)) == 0)
		s->acked = seq;
	else if (r != -EAGAIN)
		sub_lost(s, strerror(-r), now);
}

/* ------------------------------------------------------------ timers */

static void
on_engine_timer(struct timer *t, void *arg, int64_t now)
{
	(void)t;
	pump(arg, now);
}

static void
on_flush(struct timer *t, void *arg, int64_t now)
{
	(void)t;
	(void)now;
	seal_cur(arg);
}

static void
on_stats(struct timer *t, void *arg, int64_t now)
{
	struct stream *s = arg;

	metrics_log(&s->m, clock_realtime_ns());
	/* A drained backlog leaves the compressor's window and freed buffers
	 * resident; give them back so steady-state RSS stays small on a Pi. */
	if (s->ready.n == 0 && s->sent.n == 0) {
		if (s->cur == NULL)
			batch_coder_trim(s->coder);
		if (s->sub != NULL)
			sdsock_trim(s->sub);
		malloc_trim(0);
	}
	timer_arm_in(t, now, STATS_EVERY_NS);
}

/* The device sensord names, "" until it said hello on either connection. */
static const char *
metrics_device(const struct stream *s)
{
	const char *d = engine_device(s->eng);

	return d[0] != '\0' ? d : s->probe_device;
}

/* Replaces the metrics file once the device its series are labelled with
 * is known (until then there is none: stream_run removed the last run's). */
static void
write_metrics(struct stream *s)
{
	int r;

	s->m.changed = false;
	if (s->cf->metrics_file[0] == '\0' || metrics_device(s)[0] == '\0')
		return;
	r = metrics_write(&s->m, s->cf->metrics_file, metrics_device(s), engine_channel(s->eng));
	if (r < 0 && !s->metrics_failing)
		log_warnx("metrics file %s: %s", s->cf->metrics_file, strerror(-r));
	s->metrics_failing = r < 0;
}

static void
probe_end(struct stream *s)
{
	sdsock_close(s->probe);
	s->probe = NULL;
}

/* While batches wait out an outage the loop stops reading the subscription,
 * so the records seen say nothing of the journal's growth: a connection of
 * its own asks sensord, whose hello carries the journal's last seq. */
static bool
probe_start(struct stream *s)
{
	if (sdsock_connect(s->cf->socket, s->cf->sensord_uid, 0, &s->probe) < 0)
		return false;
	if (sdsock_hello(s->probe, "streamerd-probe") < 0) {
		probe_end(s);
		return false;
	}
	return true;
}

static void
probe_read(struct stream *s, int64_t now)
{
	struct proto_msg m;
	uint64_t jid = engine_journal(s->eng);
	int r = sdsock_read(s->probe, &m);

	if (r == -EAGAIN)
		return;
	if (r == 0 && m.op == PROTO_OP_HELLO) {
		if ((jid == 0 || m.u.hello_s.journal_id == jid) &&
		    m.u.hello_s.last_seq > s->m.journal_last_seq)
			s->m.journal_last_seq = m.u.hello_s.last_seq;
		snprintf(s->probe_device, sizeof(s->probe_device), "%s", m.u.hello_s.device);
	}
	probe_end(s);
	write_metrics(s);
	timer_arm_in(&s->t_metrics, now, METRICS_EVERY_NS);
}

/* Every 10 s: ask sensord (the file is written with its answer, or without
 * it after PROBE_WAIT_NS). Commits write the file too. */
static void
on_metrics(struct timer *t, void *arg, int64_t now)
{
	struct stream *s = arg;

	if (s->probe == NULL && probe_start(s)) {
		timer_arm_in(t, now, PROBE_WAIT_NS);
		return;
	}
	probe_end(s);
	write_metrics(s);
	timer_arm_in(t, now, METRICS_EVERY_NS);
}

/* systemd's watchdog is fed while the pipeline is healthy: nothing waits
 * for a commit, commits advanced recently, or an outage is being ridden out
 * with back-off. A loop that runs but makes no progress lets it fire. */
static void
on_watchdog(struct timer *t, void *arg, int64_t now)
{
	struct stream *s = arg;
	bool idle = s->sent.n == 0 && s->ready.n == 0;
	bool backing_off = engine_backing_off(s->eng, now) || s->sub == NULL;

	if (engine_waiting_clock(s->eng)) {
		/* Waiting for NTP at boot is healthy, and may outlast systemd's
		 * start timeout: extend it while the wait goes on. */
		notify_send(s->nt, "WATCHDOG=1");
		if (!s->ready_sent)
			notify_send(s->nt, "EXTEND_TIMEOUT_USEC=10000000");
	} else if (s->ready_sent && (idle || backing_off || now - s->progress_at < STALL_NS)) {
		notify_send(s->nt, "WATCHDOG=1");
	}
	timer_arm_in(t, now, WATCHDOG_EVERY_NS);
}

static void
start_timers(struct stream *s, int64_t now)
{
	timer_set_init(&s->timers);
	timer_init(&s->t_engine, &s->timers, on_engine_timer, s);
	timer_init(&s->t_flush, &s->timers, on_flush, s);
	timer_init(&s->t_sub, &s->timers, on_sub_timer, s);
	timer_init(&s->t_stats, &s->timers, on_stats, s);
	timer_init(&s->t_metrics, &s->timers, on_metrics, s);
	timer_init(&s->t_watchdog, &s->timers, on_watchdog, s);
	timer_init(&s->t_hold, &s->timers, on_hold, s);
	timer_arm(&s->t_sub, now);
	timer_arm_in(&s->t_stats, now, STATS_EVERY_NS);
	if (s->cf->metrics_file[0] != '\0')
		timer_arm(&s->t_metrics, now);
	if (s->nt != NULL)
		timer_arm(&s->t_watchdog, now);
}

/* ------------------------------------------------------------ loop */

static void
turn(struct stream *s, int64_t now)
{
	const struct http_resp *rs;
	struct engine_out out;

	if (http_take(s->http, &rs)) {
		engine_on_answer(s->eng, rs, now, &out);
		apply(s, &out, now);
	}
	timer_run(&s->timers, now);
	pump(s, now);
	send_ack(s, now);
	/* Rows cannot flow while a failure is ridden out or sensord is being
	 * reconnected with back-off; the end of such an outage is logged once,
	 * when the table has caught up with the journal. */
	if (engine_backing_off(s->eng, now) || (s->sub == NULL && s->sub_backoff_ms > 250))
		metrics_outage(&s->m, now);
	else if (s->sub_state == SUB_READY)
		metrics_healthy(&s->m, now);
	/* what the readers show as the state, in the file as soon as it changes */
	metrics_sensord(&s->m, s->sub != NULL && (s->sub_state == SUB_HELLO ||
	    s->sub_state == SUB_READY));
	if (s->m.changed)
		write_metrics(s);
	/* The engine's next deadline follows whatever just changed. */
	timer_arm(&s->t_engine, engine_deadline(s->eng, s->ready.n > 0 &&
	    s->sent.n < SENT_MAX));
}

/* How long ppoll may sleep: until the earliest timer, or libcurl's. */
static int
sleep_ms(const struct stream *s, int64_t now)
{
	int64_t next = timer_next(&s->timers), ms;
	int hto = http_timeout_ms(s->http, now);

	ms = next == TIMER_NEVER ? 60000 : (next - now + NS_PER_MS - 1) / NS_PER_MS;
	if (ms < 0)
		ms = 0;
	if (ms > 60000)
		ms = 60000;
	if (hto >= 0 && hto < ms)
		ms = hto;
	return (int)ms;
}

int
stream_run(struct stream *s, volatile sig_atomic_t *stop)
{
	struct pollfd fds[2 + HTTP_MAX_FDS];
	sigset_t waitmask;

	/* main() blocks SIGTERM/SIGINT (so libcurl's resolver threads never take
	 * them); they are delivered only inside ppoll, which then returns EINTR
	 * and the loop sees *stop at once. */
	sigprocmask(SIG_BLOCK, NULL, &waitmask);
	sigdelset(&waitmask, SIGTERM);
	sigdelset(&waitmask, SIGINT);
	s->m.start_wall_ns = clock_realtime_ns();
	s->progress_at = clock_mono_ns();
	if (s->cf->metrics_file[0] != '\0')
		(void)unlink(s->cf->metrics_file);	/* the last run's figures are not ours */
	start_timers(s, s->progress_at);
	while (!*stop) {
		int64_t now = clock_mono_ns();
		size_t n = 0, nh, np;
		int to;

		turn(s, now);
		if (s->sub != NULL && can_read(s)) {
			fds[0] = (struct pollfd){ .fd = sdsock_fd(s->sub), .events = POLLIN };
			n = 1;
		}
		np = n;
		if (s->probe != NULL)
			fds[n++] = (struct pollfd){ .fd = sdsock_fd(s->probe), .events = POLLIN };
		nh = http_pollfds(s->http, fds + n, HTTP_MAX_FDS);
		/* records already taken off the socket poll nothing */
		to = np == 1 && sdsock_pending(s->sub) ? 0 : sleep_ms(s, now);
		{
			struct timespec ts = { to / 1000, (long)(to % 1000) * 1000000L };

			if (ppoll(fds, n + nh, &ts, &waitmask) < 0 && errno != EINTR)
				return -errno;
		}
		now = clock_mono_ns();
		http_dispatch(s->http, fds + n, nh, now);
		if (np == 1 && s->sub != NULL && (fds[0].revents != 0 || sdsock_pending(s->sub)))
			sub_read_some(s, now);
		if (n > np && s->probe != NULL && fds[np].revents != 0)
			probe_read(s, now);
	}
	notify_send(s->nt, "STOPPING=1");
	metrics_log(&s->m, clock_realtime_ns());
	write_metrics(s);
	return 0;
}

/* ------------------------------------------------------------ life cycle */

int
stream_new(const struct config *cf, EVP_PKEY *key, const struct row_host *host,
    struct notify *nt, const struct engine_opts *eo, struct stream **ret)
{
	struct stream *s = calloc(1, sizeof(*s));
	struct engine_env env = { .log = engine_log };
	struct utsname u;
	char ua[512];
	int r;

	if (s == NULL) {
		EVP_PKEY_free(key);
		return -ENOMEM;
	}
	s->cf = cf;
	s->nt = nt;
	s->host = *host;
	s->sub_backoff_ms = 250;
	/* read before the sandbox; without it no record's time is corrected */
	if ((r = timefix_init(&s->tf, "/proc/sys/kernel/random/boot_id",
	    cf->unsynced_hold_s * NS_PER_S)) < 0)
		log_warnx("/proc/sys/kernel/random/boot_id: %s: times of records taken before "
		    "the clock was synchronised will not be corrected", strerror(-r));
	if ((r = engine_new(cf, key, eo, &env, &s->m, &s->eng)) < 0)
		goto fail;
	if (uname(&u) < 0)
		snprintf(u.machine, sizeof(u.machine), "unknown");
	snprintf(ua, sizeof(ua), "snowsense-streamerd/%s (Linux %s) C/17 (app=%s)",
	    SNOWSENSE_VERSION, u.machine, cf->user_agent_app);
	if ((s->row_buf = malloc(ROW_MAX)) == NULL) {
		r = -ENOMEM;
		goto fail;
	}
	if ((r = http_new(cf->ca_file, ua, &s->http)) < 0 ||
	    (r = batch_coder_new((enum batch_comp)cf->compression,
	    (size_t)cf->batch_max_wire_bytes, &s->coder)) < 0)
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
	engine_free(s->eng);
	batch_free(s->cur);
	batch_coder_free(s->coder);
	batch_queue_clear(&s->ready);
	batch_queue_clear(&s->sent);
	sdsock_close(s->sub);
	sdsock_close(s->probe);
	free(s->held);
	free(s->row_buf);
	free(s);
}

/* ------------------------------------------------------------ one-shot modes */

/* Runs the engine to its end, blocking: each request to completion, each
 * back-off slept. Returns 0 when done, or the exit code of its failure
 * with the message in out. */
static int
run_sync(struct stream *s, struct engine_out *out)
{
	struct http_resp failed = { .retry_after_s = -1, .body = "" };
	const struct http_resp *rs;
	struct http_req q;
	int idle = 0;

	for (;;) {
		int64_t now = clock_mono_ns(), dl;
		int r;

		if (engine_next(s->eng, now, NULL, &q, out)) {
			idle = 0;
			q.timeout_ms = SYNC_TIMEOUT_MS;
			if ((r = http_run_sync(s->http, &q, &rs)) < 0) {
				snprintf(failed.error, sizeof(failed.error), "%s", strerror(-r));
				rs = &failed;
			}
			engine_on_answer(s->eng, rs, clock_mono_ns(), out);
		}
		if (out->exit_code != 0)
			return out->exit_code;
		if (engine_done(s->eng))
			return 0;
		dl = engine_deadline(s->eng, false);
		now = clock_mono_ns();
		/* Nothing to wait for, or nothing due twice in a row: a bug,
		 * reported rather than spun on. */
		if (dl == INT64_MAX || (dl <= now && ++idle > 2)) {
			snprintf(out->fatal, sizeof(out->fatal), "the engine stopped without an answer");
			return EXIT_RUNTIME;
		}
		if (dl > now) {
			struct timespec ts = { (dl - now) / NS_PER_S, (long)((dl - now) % NS_PER_S) };

			nanosleep(&ts, NULL);
		}
	}
}

/* Connects to sensord and waits up to 3 s for its hello. */
static int
sync_hello(struct stream *s, struct proto_msg *m)
{
	struct sdsock *sb;
	int r;

	if ((r = sdsock_open(s->cf->socket, s->cf->sensord_uid, "streamerd", 3000, &sb, m)) == 0)
		sdsock_close(sb);
	return r;
}

static void
print_check(const struct stream *s, const struct engine_report *rep, int rc,
    const struct engine_out *out)
{
	const struct config *cf = s->cf;
	const char *stage = rep->stage == ENGINE_RQ_HOSTNAME ? "hostname discovery" :
	    rep->stage == ENGINE_RQ_TOKEN ? "token exchange" : "pipe";

	if (rep->hostname)
		printf("PASS hostname discovery: ingest host %s\n", engine_ingest(s->eng));
	if (rep->token)
		printf("PASS token exchange: scoped token for %s%s\n", engine_ingest(s->eng),
		    rep->pat_refused ? " (the ingest host refused the PAT as it is)" : "");
	else if (rep->pat_direct)
		printf("PASS token exchange: not needed: the ingest host takes the PAT as it is\n");
	if (rc != 0) {
		const char *msg = out->fatal;
		size_t n = strlen(stage);

		/* the engine's message may name the stage already */
		if (strncmp(msg, stage, n) == 0 && strncmp(msg + n, ": ", 2) == 0)
			msg += n + 2;
		printf("FAIL %s: %s\n", stage, msg);
		return;
	}
	if (!rep->found)
		printf("PASS pipe %s.%s.%s reachable; channel %s not created yet\n", cf->database,
		    cf->schema, cf->pipe, engine_channel(s->eng));
	else
		printf("PASS pipe %s.%s.%s reachable; channel %s status %s, committed offset "
		    "token %s\n", cf->database, cf->schema, cf->pipe, engine_channel(s->eng),
		    rep->code, rep->committed[0] ? rep->committed : "(none)");
}

int
stream_check(struct stream *s)
{
	struct engine_out out, hout;
	struct proto_msg m;
	int fails = 0, r;

	if ((r = sync_hello(s, &m)) == 0) {
		engine_on_hello(s->eng, m.u.hello_s.journal_id, m.u.hello_s.first_seq,
		    m.u.hello_s.last_seq, m.u.hello_s.device, &hout);
		printf("PASS sensord socket: %s (journal %016" PRIx64 ", seqs %" PRIu64 "..%"
		    PRIu64 ", device \"%s\")\n", s->cf->socket, m.u.hello_s.journal_id,
		    m.u.hello_s.first_seq, m.u.hello_s.last_seq, m.u.hello_s.device);
	} else {
		printf("FAIL sensord socket: %s: %s\n", s->cf->socket, sdsock_strerror(r));
		fails++;
	}
	r = run_sync(s, &out);
	print_check(s, engine_report(s->eng), r, &out);
	return fails + (r != 0);
}

int
stream_drop(struct stream *s)
{
	struct engine_out out;
	struct proto_msg m;
	int r;

	if (engine_channel(s->eng)[0] == '\0') {
		if ((r = sync_hello(s, &m)) < 0) {
			log_errx("no \"channel_name\" configured and sensord (%s) is not there to "
			    "tell the device id: %s", s->cf->socket, sdsock_strerror(r));
			return r;
		}
		engine_set_channel(s->eng, m.u.hello_s.device);
	}
	if (run_sync(s, &out) != 0) {
		log_errx("drop channel %s: %s", engine_channel(s->eng), out.fatal);
		return -EIO;
	}
	log_info("channel %s dropped from pipe %s.%s.%s (its offset token is gone; the next "
	    "start replays the whole journal)", engine_channel(s->eng), s->cf->database,
	    s->cf->schema, s->cf->pipe);
	return 0;
}
