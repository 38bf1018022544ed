/*
 * sdclient: drives sensord's socket the way the integration tests need —
 * one verb per run, printing key=value lines and exiting 0 only when what
 * it saw is what the verb promises.
 *
 *   sdclient -s SOCK status            status as key=value lines
 *   sdclient -s SOCK ack SEQ           ack, then check status shows it
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
 */
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "fsutil.h"
#include "proto.h"

#define TIMEOUT_NS (20 * NS_PER_S)

static const char *sock_path;
static uint8_t buf[PROTO_MAX_MSG + 1];

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

static int
conn(void)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);

	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", sock_path);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		die("connect %s: %s", sock_path, strerror(errno));
	return fd;
}

static void
sendm(int fd, const struct proto_msg *m)
{
	uint8_t out[1024];
	size_t len;

	if (proto_encode(m, PROTO_CLIENT, out, sizeof(out), &len) < 0 ||
	    send(fd, out, len, MSG_NOSIGNAL) != (ssize_t)len)
		die("send: %s", strerror(errno));
}

/* 1 and *m, 0 at EOF; dies after the timeout. */
static int
recvm(int fd, struct proto_msg *m, int timeout_ms)
{
	struct pollfd p = { fd, POLLIN, 0 };
	char why[128];
	ssize_t n;

	if (poll(&p, 1, timeout_ms) <= 0)
		die("no answer within %d ms", timeout_ms);
	n = recv(fd, buf, sizeof(buf), 0);
	if (n == 0 || (n < 0 && errno == ECONNRESET))
		return 0;
	if (n < 0)
		die("recv: %s", strerror(errno));
	if (proto_decode(buf, (size_t)n, PROTO_SERVER, m, why, sizeof(why)) < 0)
		die("undecodable message from sensord: %s", why);
	return 1;
}

static void
subscribe(int fd, const char *from)
{
	struct proto_msg m = { .op = PROTO_OP_SUBSCRIBE };
	char *end;

	if (strcmp(from, "oldest") == 0) {
		m.u.subscribe.from = PROTO_FROM_OLDEST;
	} else if (strcmp(from, "now") == 0) {
		m.u.subscribe.from = PROTO_FROM_NOW;
	} else {
		m.u.subscribe.from = PROTO_FROM_SEQ;
		errno = 0;
		m.u.subscribe.seq = strtoull(from, &end, 10);
		if (errno || *end)
			die("bad seq %s", from);
	}
	sendm(fd, &m);
}

static struct proto_status
get_status(int fd)
{
	struct proto_msg m = { .op = PROTO_OP_STATUS };

	sendm(fd, &m);
	do {
		if (!recvm(fd, &m, 5000))
			die("closed while waiting for status");
	} while (m.op != PROTO_OP_STATUS);
	return m.u.status;
}

static int
cmd_status(void)
{
	int fd = conn();
	struct proto_status s = get_status(fd);

	printf("journal_id=%016" PRIx64 "\nfirst_seq=%" PRIu64 "\nlast_seq=%" PRIu64
	    "\nacked_seq=%" PRIu64 "\nrecords_written=%" PRIu64 "\nrecords_dropped=%" PRIu64
	    "\nseqs_skipped=%" PRIu64 "\nclients=%u\nuptime_s=%" PRIu64 "\nnchips=%u\n",
	    s.journal_id, s.first_seq, s.last_seq, s.acked_seq, s.records_written,
	    s.records_dropped, s.seqs_skipped, s.clients, s.uptime_s, s.nchips);
	for (uint32_t i = 0; i < s.nchips && i < PROTO_MAX_CHIPS; i++)
		printf("chip_%s=%s\n", s.chips[i].name, s.chips[i].state);
	close(fd);
	return 0;
}

static int
cmd_ack(const char *arg)
{
	struct proto_msg m = { .op = PROTO_OP_ACK };
	struct proto_status s;
	char *end;
	int fd = conn();

	errno = 0;
	m.u.ack.seq = strtoull(arg, &end, 10);
	if (errno || *end)
		die("bad seq %s", arg);
	sendm(fd, &m);
	s = get_status(fd);
	printf("acked_seq=%" PRIu64 "\n", s.acked_seq);
	close(fd);
	return s.acked_seq >= m.u.ack.seq ? 0 : 1;
}

static int
cmd_follow(const char *from, const char *count)
{
	struct proto_msg m;
	uint64_t n = strtoull(count, NULL, 10), got = 0, first = 0, last = 0;
	int fd = conn();

	subscribe(fd, from);
	while (got < n) {
		if (!recvm(fd, &m, 10000))
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
	close(fd);
	return 0;
}

static int
cmd_stuck(const char *from)
{
	int fd = conn();

	subscribe(fd, from);
	printf("subscribed\n");
	fflush(stdout);
	for (;;)
		pause();
	return 0;
}

struct follower {
	int fd;
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
		f[i].fd = conn();
		subscribe(f[i].fd, i < nl ? "now" : "oldest");
	}
	while (done < total) {
		if (clock_mono_ns() > end)
			die("timeout: %u of %u clients done", done, total);
		for (unsigned i = 0; i < total; i++)
			p[i] = (struct pollfd){ f[i].got < n ? f[i].fd : -1, POLLIN, 0 };
		if (poll(p, total, 1000) < 0)
			die("poll: %s", strerror(errno));
		for (unsigned i = 0; i < total; i++) {
			if (!(p[i].revents & (POLLIN | POLLHUP)))
				continue;
			if (!recvm(f[i].fd, &m, 1000))
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
		close(f[i].fd);
	free(f);
	free(p);
	return 0;
}

static int
cmd_raw(int argc, char **argv)
{
	for (int i = 0; i < argc; i++) {
		struct pollfd p;
		char *data;
		size_t len;
		int fd, closed = 0;

		if (fs_read_all(argv[i], PROTO_MAX_MSG * 2, &data, &len) < 0)
			die("cannot read %s", argv[i]);
		fd = conn();
		if (len == 0 || send(fd, data, len, MSG_NOSIGNAL) < 0)
			closed = -1;	/* not sendable as one message */
		free(data);
		/* Drain replies until EOF or a quiet half second. */
		for (int k = 0; closed == 0 && k < 20; k++) {
			ssize_t n;
			p = (struct pollfd){ fd, POLLIN, 0 };
			if (poll(&p, 1, 500) <= 0)
				break;
			n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
			if (n == 0 || (n < 0 && errno == ECONNRESET))
				closed = 1;
		}
		printf("%s %s\n", closed > 0 ? "closed" : closed < 0 ? "unsent" : "open", argv[i]);
		close(fd);
	}
	return 0;
}

static int
cmd_denied(void)
{
	struct proto_msg m;
	int fd = conn();

	if (!recvm(fd, &m, 5000))
		die("closed without err");
	if (m.op != PROTO_OP_ERR || m.u.err.code != PROTO_ERR_DENIED)
		die("expected err DENIED, got %s", proto_op_name(m.op));
	if (recvm(fd, &m, 5000))
		die("still open after err DENIED");
	printf("denied\n");
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
