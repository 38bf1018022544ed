/* SPDX-License-Identifier: Apache-2.0 */
/*
 * sdclient: drives sensord's socket the way the integration tests need —
 * one verb per run, printing key=value lines and exiting 0 only when what
 * it saw is what the verb promises.
 *
 *   sdclient -s SOCK status            status as key=value lines
 *   sdclient -s SOCK ack SEQ           subscribe from oldest, read up to SEQ,
 *                                      ack it, check status shows it
 *   sdclient -s SOCK rogue-ack SEQ [FROM]  ack SEQ without a subscription
 *                                      (or subscribed at FROM, nothing read);
 *                                      exit 0 when refused and not applied
 *   sdclient -s SOCK follow FROM N     subscribe (seq|oldest|now), read N
 *                                      records, seqs consecutive (gaps
 *                                      reported as gap=A..B)
 *   sdclient -s SOCK stuck FROM        subscribe and never read (until killed)
 *   sdclient -s SOCK many LIVE REPLAY N  LIVE clients from now and REPLAY
 *                                      from oldest, each must get N
 *                                      consecutive records
 *   sdclient -s SOCK raw FILE...       each file as one message on its own
 *                                      connection; prints closed/open
 *   sdclient -s SOCK denied            expects err DENIED, then EOF
 *
 * Every verb but raw and denied says hello first, as a real client does;
 * all of them speak through common/sdsock.
 */
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "clock.h"
#include "fsutil.h"
#include "proto.h"
#include "sdsock.h"

#define TIMEOUT_NS (20 * NS_PER_S)
#define ANSWER_MS 5000

static const char *sock_path;

static void
die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

static void
die(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "sdclient: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(1);
}

/* A connection that has said hello (and read sensord's). */
static struct sdsock *
conn(void)
{
	struct sdsock *c;
	int r = sdsock_open(sock_path, SDSOCK_ANY_SERVER, "sdclient", ANSWER_MS, &c, NULL);

	if (r < 0)
		die("connect %s: %s", sock_path, strerror(-r));
	return c;
}

/* A bare connection: not even hello. */
static struct sdsock *
conn_bare(void)
{
	struct sdsock *c;
	int r = sdsock_connect(sock_path, SDSOCK_ANY_SERVER, ANSWER_MS, &c);

	if (r < 0)
		die("connect %s: %s", sock_path, strerror(-r));
	return c;
}

static void
sent(int r)
{
	if (r < 0)
		die("send: %s", strerror(-r));
}

/* 1 and *m, 0 at EOF; dies after the timeout. */
static int
recvm(struct sdsock *c, struct proto_msg *m, int timeout_ms)
{
	int r = sdsock_wait(c, timeout_ms, m);

	if (r == -ETIMEDOUT)
		die("no answer within %d ms", timeout_ms);
	if (r == -ECONNRESET)
		return 0;
	if (r == -EBADMSG || r == -EMSGSIZE || r == -EPROTONOSUPPORT)
		die("undecodable message from sensord: %s", sdsock_why(c, NULL));
	if (r < 0)
		die("recv: %s", strerror(-r));
	return 1;
}

static void
subscribe(struct sdsock *c, const char *from)
{
	uint64_t seq = 0;
	char *end;

	if (strcmp(from, "oldest") == 0) {
		sent(sdsock_subscribe(c, PROTO_FROM_OLDEST, 0));
		return;
	}
	if (strcmp(from, "now") == 0) {
		sent(sdsock_subscribe(c, PROTO_FROM_NOW, 0));
		return;
	}
	errno = 0;
	seq = strtoull(from, &end, 10);
	if (errno || *end)
		die("bad seq %s", from);
	sent(sdsock_subscribe(c, PROTO_FROM_SEQ, seq));
}

static struct proto_status
get_status(struct sdsock *c)
{
	struct proto_msg m;

	sent(sdsock_ask_status(c));
	do {
		if (!recvm(c, &m, ANSWER_MS))
			die("closed while waiting for status");
	} while (m.op != PROTO_OP_STATUS);
	return m.u.status;
}

static int
cmd_status(void)
{
	struct sdsock *c = conn();
	struct proto_status s = get_status(c);

	printf("journal_id=%016" PRIx64 "\nfirst_seq=%" PRIu64 "\nlast_seq=%" PRIu64
	    "\nacked_seq=%" PRIu64 "\nrecords_written=%" PRIu64 "\nrecords_dropped=%" PRIu64
	    "\nseqs_skipped=%" PRIu64 "\nclients=%u\nuptime_s=%" PRIu64 "\nnchips=%u\n",
	    s.journal_id, s.first_seq, s.last_seq, s.acked_seq, s.records_written,
	    s.records_dropped, s.seqs_skipped, s.clients, s.uptime_s, s.nchips);
	for (uint32_t i = 0; i < s.nchips && i < PROTO_MAX_CHIPS; i++)
		printf("chip_%s=%s\n", s.chips[i].name, s.chips[i].state);
	sdsock_close(c);
	return 0;
}

static uint64_t
parse_seq(const char *arg)
{
	uint64_t seq;
	char *end;

	errno = 0;
	seq = strtoull(arg, &end, 10);
	if (errno || *end || end == arg)
		die("bad seq %s", arg);
	return seq;
}

/* Waits for the answer to an ack: err (1 and *ret_err) or, since an ack
 * has no answer of its own, the status asked right after it (0). Records
 * and gaps in between are skipped. */
static int
ack_answer(struct sdsock *c, struct proto_status *ret_st, struct proto_msg *ret_err)
{
	struct proto_msg m;

	sent(sdsock_ask_status(c));
	for (;;) {
		if (!recvm(c, &m, ANSWER_MS))
			die("closed while waiting for the ack's answer");
		if (m.op == PROTO_OP_ERR) {
			*ret_err = m;
			return 1;
		}
		if (m.op == PROTO_OP_STATUS) {
			*ret_st = m.u.status;
			return 0;
		}
	}
}

/* As streamerd does: subscribe from the oldest record, read up to seq,
 * then ack it. */
static int
cmd_ack(const char *arg)
{
	struct proto_status s;
	struct proto_msg m;
	uint64_t seq = parse_seq(arg), seen = 0;
	struct sdsock *c = conn();

	sent(sdsock_subscribe(c, PROTO_FROM_OLDEST, 0));
	while (seen < seq) {
		if (!recvm(c, &m, 10000))
			die("closed after seq %" PRIu64, seen);
		if (m.op == PROTO_OP_REC)
			seen = m.u.rec.seq;
		else if (m.op == PROTO_OP_GAP)
			seen = m.u.gap.to;
		else if (m.op == PROTO_OP_ERR)
			die("err %u: %s", m.u.err.code, m.u.err.msg);
	}
	sent(sdsock_ack(c, seq));
	if (ack_answer(c, &s, &m))
		die("ack %" PRIu64 " refused: err %u: %s", seq, m.u.err.code, m.u.err.msg);
	printf("acked_seq=%" PRIu64 "\n", s.acked_seq);
	sdsock_close(c);
	return s.acked_seq >= seq ? 0 : 1;
}

/* The rogue ack: hello, then ack seq without a subscription (or, with
 * from, after subscribing there and reading nothing). Exits 0 only when
 * sensord refused it with an err and its acked seq stayed below seq. */
static int
cmd_rogue_ack(const char *arg, const char *from)
{
	struct proto_status s;
	struct proto_msg m;
	uint64_t seq = parse_seq(arg);
	struct sdsock *c = conn();

	if (from)
		subscribe(c, from);
	sent(sdsock_ack(c, seq));
	if (!ack_answer(c, &s, &m)) {
		printf("honoured acked_seq=%" PRIu64 "\n", s.acked_seq);
		sdsock_close(c);
		return 1;
	}
	printf("refused code=%u msg=%s\n", m.u.err.code, m.u.err.msg);
	s = get_status(c);
	printf("acked_seq=%" PRIu64 "\n", s.acked_seq);
	sdsock_close(c);
	return s.acked_seq < seq ? 0 : 1;
}

static int
cmd_follow(const char *from, const char *count)
{
	struct proto_msg m;
	uint64_t n = strtoull(count, NULL, 10), got = 0, first = 0, last = 0;
	struct sdsock *c = conn();

	subscribe(c, from);
	while (got < n) {
		if (!recvm(c, &m, 10000))
			die("closed after %" PRIu64 " records", got);
		if (m.op == PROTO_OP_GAP) {
			printf("gap=%" PRIu64 "..%" PRIu64 "\n", m.u.gap.from, m.u.gap.to);
			last = m.u.gap.to;
			continue;
		}
		if (m.op != PROTO_OP_REC)
			die("unexpected op %s", proto_op_name(m.op));
		if (last && m.u.rec.seq != last + 1)
			die("seq %" PRIu64 " after %" PRIu64, m.u.rec.seq, last);
		if (!first)
			first = m.u.rec.seq;
		last = m.u.rec.seq;
		printf("rec seq=%" PRIu64 " t=%" PRId64 "\n", m.u.rec.seq, m.u.rec.t);
		got++;
	}
	printf("ok records=%" PRIu64 " first=%" PRIu64 " last=%" PRIu64 "\n", got, first, last);
	fflush(stdout);
	sdsock_close(c);
	return 0;
}

static int
cmd_stuck(const char *from)
{
	struct sdsock *c = conn();

	subscribe(c, from);
	printf("subscribed\n");
	fflush(stdout);
	for (;;)
		pause();
	return 0;
}

struct follower {
	struct sdsock *c;
	uint64_t last, got;
};

static int
cmd_many(const char *live, const char *replay, const char *count)
{
	unsigned nl = (unsigned)strtoul(live, NULL, 10), nr = (unsigned)strtoul(replay, NULL, 10);
	uint64_t n = strtoull(count, NULL, 10);
	unsigned total = nl + nr, done = 0;
	struct follower *f = calloc(total, sizeof(*f));
	struct pollfd *p = calloc(total, sizeof(*p));
	int64_t end = clock_mono_ns() + TIMEOUT_NS * 3;
	struct proto_msg m;

	if (!f || !p)
		die("out of memory");
	for (unsigned i = 0; i < total; i++) {
		f[i].c = conn();
		subscribe(f[i].c, i < nl ? "now" : "oldest");
	}
	while (done < total) {
		if (clock_mono_ns() > end)
			die("timeout: %u of %u clients done", done, total);
		for (unsigned i = 0; i < total; i++)
			p[i] = (struct pollfd){ f[i].got < n ? sdsock_fd(f[i].c) : -1,
				POLLIN, 0 };
		if (poll(p, total, 1000) < 0)
			die("poll: %s", strerror(errno));
		for (unsigned i = 0; i < total; i++) {
			if (!(p[i].revents & (POLLIN | POLLHUP)))
				continue;
			if (!recvm(f[i].c, &m, 1000))
				die("client %u closed after %" PRIu64 " records", i, f[i].got);
			if (m.op != PROTO_OP_REC)
				die("client %u: unexpected op %s", i, proto_op_name(m.op));
			if (f[i].last && m.u.rec.seq != f[i].last + 1)
				die("client %u: seq %" PRIu64 " after %" PRIu64, i, m.u.rec.seq,
				    f[i].last);
			f[i].last = m.u.rec.seq;
			if (++f[i].got == n)
				done++;
		}
	}
	printf("ok clients=%u records_each=%" PRIu64 "\n", total, n);
	for (unsigned i = 0; i < total; i++)
		sdsock_close(f[i].c);
	free(f);
	free(p);
	return 0;
}

/* Sends data as one message, waiting up to ANSWER_MS for room. */
static int
send_raw(int fd, const char *data, size_t len)
{
	struct pollfd p = { fd, POLLOUT, 0 };

	for (int k = 0; k < ANSWER_MS / 100; k++) {
		if (send(fd, data, len, MSG_NOSIGNAL | MSG_DONTWAIT) >= 0)
			return 0;
		if (errno != EAGAIN && errno != EINTR)
			return -errno;
		(void)poll(&p, 1, 100);
	}
	return -ETIMEDOUT;
}

static int
cmd_raw(int argc, char **argv)
{
	for (int i = 0; i < argc; i++) {
		struct proto_msg m;
		struct sdsock *c;
		char *data;
		size_t len;
		int closed = 0;

		if (fs_read_all(argv[i], PROTO_MAX_MSG * 2, &data, &len) < 0)
			die("cannot read %s", argv[i]);
		c = conn_bare();
		if (len == 0 || send_raw(sdsock_fd(c), data, len) < 0)
			closed = -1;	/* not sendable as one message */
		free(data);
		/* Drain replies until EOF or a quiet half second. */
		for (int k = 0; closed == 0 && k < 20; k++) {
			int r = sdsock_wait(c, 500, &m);

			if (r == -ETIMEDOUT)
				break;
			if (r == -ECONNRESET)
				closed = 1;
		}
		printf("%s %s\n", closed > 0 ? "closed" : closed < 0 ? "unsent" : "open", argv[i]);
		sdsock_close(c);
	}
	return 0;
}

static int
cmd_denied(void)
{
	struct proto_msg m;
	struct sdsock *c = conn_bare();

	if (!recvm(c, &m, ANSWER_MS))
		die("closed without err");
	if (m.op != PROTO_OP_ERR || m.u.err.code != PROTO_ERR_DENIED)
		die("expected err DENIED, got %s", proto_op_name(m.op));
	printf("denied: %s\n", m.u.err.msg);
	if (recvm(c, &m, ANSWER_MS))
		die("still open after err DENIED");
	sdsock_close(c);
	return 0;
}

int
main(int argc, char **argv)
{
	if (argc < 4 || strcmp(argv[1], "-s") != 0) {
		fprintf(stderr, "usage: sdclient -s SOCKET VERB [ARGS...]\n");
		return 2;
	}
	sock_path = argv[2];
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (strcmp(argv[3], "status") == 0)
		return cmd_status();
	if (strcmp(argv[3], "ack") == 0 && argc == 5)
		return cmd_ack(argv[4]);
	if (strcmp(argv[3], "rogue-ack") == 0 && (argc == 5 || argc == 6))
		return cmd_rogue_ack(argv[4], argc == 6 ? argv[5] : NULL);
	if (strcmp(argv[3], "follow") == 0 && argc == 6)
		return cmd_follow(argv[4], argv[5]);
	if (strcmp(argv[3], "stuck") == 0 && argc == 5)
		return cmd_stuck(argv[4]);
	if (strcmp(argv[3], "many") == 0 && argc == 7)
		return cmd_many(argv[4], argv[5], argv[6]);
	if (strcmp(argv[3], "raw") == 0)
		return cmd_raw(argc - 4, argv + 4);
	if (strcmp(argv[3], "denied") == 0)
		return cmd_denied();
	fprintf(stderr, "sdclient: unknown verb or arguments\n");
	return 2;
}
