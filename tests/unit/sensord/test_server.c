/* SPDX-License-Identifier: Apache-2.0 */
/*
 * server: the protocol as a client sees it, over a real socket, with the
 * server driven by hand in the same process: hello, replay then live,
 * gaps after forced retention and after journal damage (counted), acks
 * only from the streamer's uid and only up to what its subscription was
 * sent, status, malformed and oversized messages closing only their
 * sender, a client that never reads not holding up the others, refusal
 * of a uid that is not allowed (admission by supplementary group), the
 * per-uid cap and the streamer's kept slots, the start-up rules for the
 * socket path, and the pause in accepting when the process is out of
 * fds, which must end. Other uids are played by forked children when the
 * test runs as root.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <grp.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "clock.h"
#include "journal.h"
#include "log.h"
#include "proto.h"
#include "server.h"

static char dir[64], sock[128];
static struct journal *j;
static struct server *srv;
static int status_calls;
static uid_t streamer;		/* who may ack: the test itself unless a test says */
static gid_t allowed_gid = (gid_t)-1;	/* one allowed group, or none */

static void
fake_status(void *ctx, struct proto_status *st)
{
	(void)ctx;
	memset(st, 0, sizeof(*st));
	st->uptime_s = 42;
	st->last_seq = journal_next_seq(j) - 1;
	status_calls++;
}

static struct server_conf
conf_for(unsigned max_clients, unsigned max_per_uid)
{
	struct server_conf sc = { .path = sock, .mode = 0660, .uid = (uid_t)-1,
		.gid = (gid_t)-1, .streamer = streamer, .streamer_name = "streamer",
		.gids = &allowed_gid, .ngids = allowed_gid != (gid_t)-1,
		.denied_hint = "join group \"unit\"", .max_clients = max_clients,
		.max_per_uid = max_per_uid, .device = "testdev" };

	return sc;
}

static void
open_caps(uint64_t seg, uint64_t max, unsigned max_clients, unsigned max_per_uid)
{
	struct journal_opts o = { seg, max, 0, JOURNAL_FSYNC_NEVER };
	struct server_conf sc = conf_for(max_clients, max_per_uid);
	char err[256];
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC), r;

	assert_true(fd >= 0);
	r = journal_open(fd, dir, &o, &j, err, sizeof(err));
	close(fd);
	if (r != 0)
		fail_msg("journal_open: %s", err);
	if (server_new(&sc, j, fake_status, NULL, &srv, err, sizeof(err)) != 0)
		fail_msg("server_new: %s", err);
}

static void
open_all(uint64_t seg, uint64_t max, unsigned max_clients)
{
	open_caps(seg, max, max_clients, max_clients > 1 ? max_clients - 1 : 1);
}

static int
setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/test_server.XXXXXX");
	assert_non_null(mkdtemp(dir));
	snprintf(sock, sizeof(sock), "%s/s.sock", dir);
	log_init("test_server", 1, 0);
	status_calls = 0;
	streamer = geteuid();
	allowed_gid = (gid_t)-1;
	j = NULL;
	srv = NULL;
	return 0;
}

static int
teardown(void **state)
{
	char cmd[128];

	(void)state;
	server_free(srv);
	journal_close(j);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	assert_int_equal(system(cmd), 0);
	return 0;
}

static void
append(unsigned n)
{
	static uint8_t buf[PROTO_MAX_MSG];
	struct record r;
	size_t len;
	uint64_t seq;

	for (unsigned i = 0; i < n; i++) {
		memset(&r, 0, sizeof(r));
		r.seq = journal_next_seq(j);
		r.t = 1700000000LL * NS_PER_S + (int64_t)r.seq;
		snprintf(r.device, sizeof(r.device), "testdev");
		r.sys.has_mem = true;
		r.sys.mem = 12.5;
		assert_int_equal(proto_encode_record(&r, buf, sizeof(buf), &len), 0);
		assert_int_equal(journal_append(j, buf, len, r.t, &seq), 0);
		assert_int_equal(seq, r.seq);
	}
	server_wake(srv);
}

/* One loop turn of the daemon, minus the records. */
static void
pump(int ms)
{
	struct pollfd fds[512];
	int64_t end = clock_mono_ns() + ms * NS_PER_MS;

	do {
		size_t n = server_pollfds(srv, fds, 512, clock_mono_ns());
		if (poll(fds, n, 2) > 0)
			server_dispatch(srv, fds, n, clock_mono_ns());
	} while (clock_mono_ns() < end);
}

static int
connect_client(void)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);

	assert_true(fd >= 0);
	memcpy(sa.sun_path, sock, strlen(sock) + 1);
	assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	pump(5);	/* accept */
	return fd;
}

static void
send_msg(int fd, const struct proto_msg *m)
{
	uint8_t buf[1024];
	size_t len;

	assert_int_equal(proto_encode(m, PROTO_CLIENT, buf, sizeof(buf), &len), 0);
	assert_int_equal(send(fd, buf, len, 0), (ssize_t)len);
}

/* Next message from the server: 1 and *m, 0 at EOF, -1 after 3 s. */
static int
recv_msg(int fd, struct proto_msg *m)
{
	static uint8_t buf[PROTO_MAX_MSG];
	char why[128];

	for (int k = 0; k < 1500; k++) {
		ssize_t n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
		if (n == 0)
			return 0;
		if (n > 0) {
			if (proto_decode(buf, (size_t)n, PROTO_SERVER, m, why, sizeof(why)) != 0)
				fail_msg("server sent something undecodable: %s", why);
			return 1;
		}
		if (errno == ECONNRESET)
			return 0;
		assert_int_equal(errno, EAGAIN);
		pump(2);
	}
	return -1;
}

static void
hello(int fd)
{
	struct proto_msg m = { .op = PROTO_OP_HELLO };

	m.u.hello_c.v = PROTO_VERSION;
	snprintf(m.u.hello_c.name, sizeof(m.u.hello_c.name), "unit");
	send_msg(fd, &m);
	assert_int_equal(recv_msg(fd, &m), 1);
	assert_int_equal(m.op, PROTO_OP_HELLO);
}

static void
subscribe(int fd, enum proto_from from, uint64_t seq)
{
	struct proto_msg m = { .op = PROTO_OP_SUBSCRIBE };

	m.u.subscribe.from = from;
	m.u.subscribe.seq = seq;
	send_msg(fd, &m);
}

static void
expect_recs(int fd, uint64_t from, uint64_t to)
{
	struct proto_msg m;

	for (uint64_t s = from; s <= to; s++) {
		assert_int_equal(recv_msg(fd, &m), 1);
		assert_int_equal(m.op, PROTO_OP_REC);
		assert_int_equal(m.u.rec.seq, s);
		assert_true(m.u.rec.sys.has_mem);
	}
}

static void
test_hello(void **state)
{
	struct proto_msg m = { .op = PROTO_OP_HELLO };
	struct journal_stats st;
	int fd;

	(void)state;
	open_all(1 << 20, 4 << 20, 8);
	append(5);
	fd = connect_client();
	m.u.hello_c.v = PROTO_VERSION;
	send_msg(fd, &m);
	assert_int_equal(recv_msg(fd, &m), 1);
	journal_stats(j, &st);
	assert_int_equal(m.op, PROTO_OP_HELLO);
	assert_int_equal(m.u.hello_s.journal_id, st.journal_id);
	assert_int_equal(m.u.hello_s.first_seq, 1);
	assert_int_equal(m.u.hello_s.last_seq, 5);
	assert_string_equal(m.u.hello_s.device, "testdev");
	/* a wrong version: err, then closed */
	m.op = PROTO_OP_HELLO;
	m.u.hello_c.v = 99;
	send_msg(fd, &m);
	assert_int_equal(recv_msg(fd, &m), 1);
	assert_int_equal(m.op, PROTO_OP_ERR);
	assert_int_equal(m.u.err.code, PROTO_ERR_VERSION);
	assert_int_equal(recv_msg(fd, &m), 0);
	close(fd);
}

static void
test_replay_then_live(void **state)
{
	struct proto_msg m;
	int a, b, c;

	(void)state;
	open_all(4096, 1 << 20, 8);
	append(300);	/* several segments */
	a = connect_client();
	b = connect_client();
	c = connect_client();
	hello(a);
	subscribe(a, PROTO_FROM_OLDEST, 0);
	subscribe(b, PROTO_FROM_SEQ, 250);
	subscribe(c, PROTO_FROM_NOW, 0);
	expect_recs(a, 1, 300);
	expect_recs(b, 250, 300);
	append(20);
	expect_recs(a, 301, 320);
	expect_recs(b, 301, 320);
	expect_recs(c, 301, 320);
	assert_int_equal(recv(a, &m, 1, MSG_DONTWAIT), -1);	/* nothing more */
	/* subscribing twice is a protocol error for that client only */
	subscribe(b, PROTO_FROM_NOW, 0);
	assert_int_equal(recv_msg(b, &m), 1);
	assert_int_equal(m.op, PROTO_OP_ERR);
	assert_int_equal(recv_msg(b, &m), 0);
	append(1);
	expect_recs(a, 321, 321);
	close(a);
	close(b);
	close(c);
}

static void
test_gap_after_forced_drop(void **state)
{
	struct server_stats ss;
	struct journal_stats st;
	struct proto_msg m;
	int fd;

	(void)state;
	open_all(4096, 16384, 8);
	append(500);
	journal_retain(j, clock_realtime_ns());
	journal_stats(j, &st);
	assert_true(st.first_seq > 1);
	assert_true(st.records_dropped > 0);
	fd = connect_client();
	subscribe(fd, PROTO_FROM_SEQ, 1);
	assert_int_equal(recv_msg(fd, &m), 1);
	assert_int_equal(m.op, PROTO_OP_GAP);
	assert_int_equal(m.u.gap.from, 1);
	assert_int_equal(m.u.gap.to, st.first_seq - 1);
	expect_recs(fd, st.first_seq, 500);
	close(fd);
	server_stats(srv, &ss);
	assert_int_equal(ss.records_damaged, 0);	/* retention is not damage */
}

/* Flips a byte of seq's payload in its segment file (the journal keeps
 * the bytes on disk; a cursor reads them again). */
static void
corrupt(uint64_t seq)
{
	struct journal_cursor *c;
	struct journal_entry e;
	char path[160];
	uint8_t b;
	int fd;

	assert_int_equal(journal_cursor_new(j, seq, &c), 0);
	assert_int_equal(journal_cursor_next(c, &e), 0);
	assert_int_equal(e.seq, seq);
	snprintf(path, sizeof(path), "%s/seg-%020" PRIu64 ".jnl", dir, e.seg);
	journal_cursor_free(c);
	fd = open(path, O_RDWR | O_CLOEXEC);
	assert_true(fd >= 0);
	assert_int_equal(pread(fd, &b, 1, (off_t)(e.off + JOURNAL_ENTRY_HDR + 3)), 1);
	b ^= 0x40;
	assert_int_equal(pwrite(fd, &b, 1, (off_t)(e.off + JOURNAL_ENTRY_HDR + 3)), 1);
	close(fd);
}

/* An unreadable entry reaches a client as a gap, counted once as damage
 * however many clients read past it. */
static void
test_gap_after_damage(void **state)
{
	struct server_stats ss;
	struct proto_msg m;
	int a, b;

	(void)state;
	open_all(1 << 20, 4 << 20, 8);
	append(10);
	corrupt(5);
	a = connect_client();
	b = connect_client();
	subscribe(a, PROTO_FROM_OLDEST, 0);
	expect_recs(a, 1, 4);
	assert_int_equal(recv_msg(a, &m), 1);
	assert_int_equal(m.op, PROTO_OP_GAP);
	assert_int_equal(m.u.gap.from, 5);
	assert_int_equal(m.u.gap.to, 5);
	expect_recs(a, 6, 10);
	subscribe(b, PROTO_FROM_SEQ, 3);
	expect_recs(b, 3, 4);
	assert_int_equal(recv_msg(b, &m), 1);
	assert_int_equal(m.op, PROTO_OP_GAP);
	expect_recs(b, 6, 10);
	server_stats(srv, &ss);
	assert_int_equal(ss.records_damaged, 1);
	close(a);
	close(b);
}

static void
ack(int fd, uint64_t seq)
{
	struct proto_msg m = { .op = PROTO_OP_ACK };

	m.u.ack.seq = seq;
	send_msg(fd, &m);
}

/* The next message is an err with code whose text contains what. */
static void
expect_err(int fd, uint32_t code, const char *what)
{
	struct proto_msg m;

	assert_int_equal(recv_msg(fd, &m), 1);
	assert_int_equal(m.op, PROTO_OP_ERR);
	assert_int_equal(m.u.err.code, code);
	if (!strstr(m.u.err.msg, what))
		fail_msg("err \"%s\" does not say \"%s\"", m.u.err.msg, what);
}

/* The acked seq, after a status round trip on fd (the ack went first). */
static uint64_t
acked_after(int fd)
{
	struct journal_stats st;
	struct proto_msg m = { .op = PROTO_OP_STATUS };

	send_msg(fd, &m);
	do
		assert_int_equal(recv_msg(fd, &m), 1);
	while (m.op != PROTO_OP_STATUS);
	journal_stats(j, &st);
	return st.acked_seq;
}

static void
test_ack_and_status(void **state)
{
	struct proto_msg m = { .op = PROTO_OP_STATUS };
	int fd;

	(void)state;
	open_all(1 << 20, 4 << 20, 8);
	append(10);
	fd = connect_client();
	subscribe(fd, PROTO_FROM_OLDEST, 0);
	expect_recs(fd, 1, 10);
	ack(fd, 7);
	send_msg(fd, &m);
	assert_int_equal(recv_msg(fd, &m), 1);
	assert_int_equal(m.op, PROTO_OP_STATUS);
	assert_int_equal(m.u.status.uptime_s, 42);
	assert_int_equal(m.u.status.last_seq, 10);
	assert_int_equal(m.u.status.clients, 1);
	assert_int_equal(status_calls, 1);
	assert_int_equal(acked_after(fd), 7);
	/* an ack past what was sent: err, but the client stays */
	ack(fd, 11);
	expect_err(fd, PROTO_ERR_STATE, "sent seqs up to 10 only");
	assert_int_equal(acked_after(fd), 7);
	append(1);
	expect_recs(fd, 11, 11);
	close(fd);
}

/* Attack 1: a client other than the streamer cannot make sensord delete
 * records, however it asks; it still reads. */
static void
test_ack_read_only_client(void **state)
{
	struct server_stats ss;
	int fd;

	(void)state;
	streamer = geteuid() + 1;	/* not us: this test's clients are read-only */
	open_all(1 << 20, 4 << 20, 8);
	append(10);
	fd = connect_client();
	hello(fd);
	ack(fd, 10);		/* hello, then ack, never subscribed */
	expect_err(fd, PROTO_ERR_DENIED, "read-only (only user streamer may ack)");
	assert_int_equal(acked_after(fd), 0);
	subscribe(fd, PROTO_FROM_OLDEST, 0);
	expect_recs(fd, 1, 10);
	ack(fd, 10);		/* even for what it was sent */
	expect_err(fd, PROTO_ERR_DENIED, "read-only");
	assert_int_equal(acked_after(fd), 0);
	append(1);
	expect_recs(fd, 11, 11);
	server_stats(srv, &ss);
	assert_int_equal(ss.acks_refused, 2);
	close(fd);
}

/* The streamer's ack covers only what its subscription was sent; from seq
 * N it holds N - 1 (streamerd re-acks Snowflake's committed seq at once). */
static void
test_ack_only_what_was_sent(void **state)
{
	int a, b;

	(void)state;
	open_all(1 << 20, 4 << 20, 8);
	append(10);
	a = connect_client();
	hello(a);
	ack(a, 5);
	expect_err(a, PROTO_ERR_STATE, "not subscribed");
	subscribe(a, PROTO_FROM_NOW, 0);
	ack(a, 10);
	expect_err(a, PROTO_ERR_STATE, "sent seqs up to 0 only");
	assert_int_equal(acked_after(a), 0);
	b = connect_client();
	subscribe(b, PROTO_FROM_SEQ, 11);
	ack(b, 10);
	assert_int_equal(acked_after(b), 10);
	append(3);
	expect_recs(a, 11, 13);
	expect_recs(b, 11, 13);
	ack(a, 13);
	assert_int_equal(acked_after(a), 13);
	ack(a, 14);
	expect_err(a, PROTO_ERR_STATE, "sent seqs up to 13 only");
	close(a);
	close(b);
}

static void
test_malformed_closes_only_sender(void **state)
{
	static uint8_t big[PROTO_MAX_MSG + 100];
	static const uint8_t junk[][8] = {
		{ 0xc1 }, { 0x81, 0xa2, 'o', 'p', 0xa3, 'r', 'e', 'c' }, { 0x90 },
		{ 0x81, 0xa2, 'o', 'p', 0xa4, 'n', 'o', 'p' },
	};
	struct proto_msg m;
	int good, bad;

	(void)state;
	open_all(1 << 20, 4 << 20, 16);
	good = connect_client();
	subscribe(good, PROTO_FROM_NOW, 0);
	pump(5);
	for (size_t i = 0; i < sizeof(junk) / sizeof(junk[0]); i++) {
		bad = connect_client();
		assert_int_equal(send(bad, junk[i], sizeof(junk[i]), 0), 8);
		assert_int_equal(recv_msg(bad, &m), 1);
		assert_int_equal(m.op, PROTO_OP_ERR);
		assert_int_equal(recv_msg(bad, &m), 0);
		close(bad);
	}
	bad = connect_client();
	memset(big, 0x80, sizeof(big));
	assert_int_equal(send(bad, big, sizeof(big), 0), (ssize_t)sizeof(big));
	assert_int_equal(recv_msg(bad, &m), 1);
	assert_int_equal(m.op, PROTO_OP_ERR);
	assert_int_equal(m.u.err.code, PROTO_ERR_MALFORMED);
	assert_int_equal(recv_msg(bad, &m), 0);
	close(bad);
	append(3);
	expect_recs(good, 1, 3);
	assert_int_equal(server_clients(srv), 1);
	close(good);
}

static void
test_stuck_client(void **state)
{
	struct proto_msg m;
	int stuck, ok;
	int64_t t0, worst = 0;

	(void)state;
	open_all(1 << 20, 64 << 20, 8);
	stuck = connect_client();
	ok = connect_client();
	subscribe(stuck, PROTO_FROM_OLDEST, 0);
	subscribe(ok, PROTO_FROM_OLDEST, 0);
	pump(5);
	for (int round = 0; round < 50; round++) {
		t0 = clock_mono_ns();
		append(100);	/* server_wake feeds both */
		if (clock_mono_ns() - t0 > worst)
			worst = clock_mono_ns() - t0;
		expect_recs(ok, (uint64_t)round * 100 + 1, (uint64_t)round * 100 + 100);
	}
	/* the stuck one filled its socket and was left behind without delaying
	 * the appends; it still gets everything, in order, once it reads */
	assert_true(worst < 200 * NS_PER_MS);
	expect_recs(stuck, 1, 5000);
	assert_int_equal(recv(stuck, &m, 1, MSG_DONTWAIT), -1);
	close(stuck);
	close(ok);
}

/* The next message, read as a pack: each of its maps in order into ms (at
 * most max). The count, 0 at EOF, -1 after 3 s; *ret_len gets its size. */
static int
recv_pack(int fd, struct proto_msg *ms, int max, size_t *ret_len)
{
	static uint8_t buf[PROTO_MAX_MSG];
	char why[128];

	for (int k = 0; k < 1500; k++) {
		ssize_t n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
		size_t off = 0, used;
		int count = 0;

		if (n == 0)
			return 0;
		if (n < 0) {
			if (errno == ECONNRESET)
				return 0;
			assert_int_equal(errno, EAGAIN);
			pump(2);
			continue;
		}
		*ret_len = (size_t)n;
		while (off < (size_t)n) {
			assert_true(count < max);
			if (proto_decode_first(buf + off, (size_t)n - off, PROTO_SERVER, &ms[count],
			    &used, why, sizeof(why)) != 0)
				fail_msg("server sent something undecodable at %zu: %s", off, why);
			off += used;
			count++;
		}
		return count;
	}
	return -1;
}

/* A client whose hello says "pack" gets consecutive records several to a
 * message, never with a gap or a reply inside one, none over
 * PROTO_PACK_MAX; a socket that fills in mid-batch loses and repeats
 * nothing; its acks cover what the packs carried. A client beside it that
 * did not ask gets one record per message (expect_recs decodes strictly). */
static void
test_packed_records(void **state)
{
	static struct proto_msg ms[PROTO_PACK_MAX / 16];
	struct proto_msg m = { .op = PROTO_OP_HELLO };
	uint64_t want = 1;
	size_t len;
	int p, plain, n, msgs = 0, gaps = 0, most = 0;

	(void)state;
	open_all(1 << 20, 64 << 20, 8);
	append(10);
	corrupt(5);
	p = connect_client();
	plain = connect_client();
	m.u.hello_c.v = PROTO_VERSION;
	m.u.hello_c.pack = true;
	snprintf(m.u.hello_c.name, sizeof(m.u.hello_c.name), "packer");
	send_msg(p, &m);
	assert_int_equal(recv_msg(p, &m), 1);
	assert_int_equal(m.op, PROTO_OP_HELLO);
	hello(plain);
	subscribe(p, PROTO_FROM_OLDEST, 0);
	subscribe(plain, PROTO_FROM_OLDEST, 0);
	pump(5);
	append(3000);	/* more than p's socket holds: sendmmsg stops mid-batch */
	while (want <= 3010) {
		n = recv_pack(p, ms, (int)(sizeof(ms) / sizeof(ms[0])), &len);
		assert_true(n > 0);
		msgs++;
		most = n > most ? n : most;
		if (n > 1)
			assert_true(len <= PROTO_PACK_MAX);
		for (int i = 0; i < n; i++) {
			if (ms[i].op == PROTO_OP_GAP) {
				assert_int_equal(n, 1);
				assert_int_equal(ms[i].u.gap.from, 5);
				assert_int_equal(ms[i].u.gap.to, 5);
				gaps++;
				want = 6;
				continue;
			}
			assert_int_equal(ms[i].op, PROTO_OP_REC);
			assert_int_equal(ms[i].u.rec.seq, want);
			want++;
		}
	}
	assert_int_equal(gaps, 1);
	assert_true(most > 1);
	assert_true(msgs < 3010 / 8);
	assert_int_equal(recv(p, ms, 1, MSG_DONTWAIT), -1);	/* nothing more */
	ack(p, 3010);
	assert_int_equal(acked_after(p), 3010);
	expect_recs(plain, 1, 4);
	assert_int_equal(recv_msg(plain, &m), 1);
	assert_int_equal(m.op, PROTO_OP_GAP);
	expect_recs(plain, 6, 3010);
	close(p);
	close(plain);
}

static void
test_cap_and_denied(void **state)
{
	struct proto_msg m;
	int a, b, st = -1;
	pid_t pid;

	(void)state;
	open_all(1 << 20, 4 << 20, 1);
	a = connect_client();
	b = connect_client();
	assert_int_equal(recv_msg(b, &m), 1);
	assert_int_equal(m.op, PROTO_OP_ERR);
	assert_int_equal(m.u.err.code, PROTO_ERR_BUSY);
	assert_int_equal(recv_msg(b, &m), 0);
	close(b);
	close(a);
	pump(5);
	if (geteuid() != 0)
		return;	/* refusing another uid needs one to switch to */
	assert_int_equal(chmod(dir, 0755), 0);
	assert_int_equal(chmod(sock, 0666), 0);
	pid = fork();
	if (pid == 0) {
		struct sockaddr_un sa = { .sun_family = AF_UNIX };
		char c[PROTO_MAX_MSG];
		ssize_t n;
		int fd;
		/* only what the child uses: valgrind's fd check runs here too */
		close_range(3, ~0U, 0);
		if (setgid(65534) < 0 || setuid(65534) < 0)
			_exit(2);
		fd = socket(AF_UNIX, SOCK_SEQPACKET, 0);
		memcpy(sa.sun_path, sock, strlen(sock) + 1);
		if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
			_exit(3);
		n = recv(fd, c, sizeof(c), 0);	/* the err */
		if (n <= 0)
			_exit(4);
		if (proto_decode(c, (size_t)n, PROTO_SERVER, &m, NULL, 0) != 0 ||
		    m.op != PROTO_OP_ERR || m.u.err.code != PROTO_ERR_DENIED)
			_exit(5);
		_exit(recv(fd, c, sizeof(c), 0) == 0 ? 0 : 6);	/* then EOF */
	}
	for (int k = 0; k < 500 && waitpid(pid, &st, WNOHANG) == 0; k++)
		pump(5);
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 0);
	assert_int_equal(server_clients(srv), 0);
}

/* A child that connects as uid:gid with the given supplementary groups,
 * says hello and reports the first answer as its exit status: 1 for
 * hello, 100 + code for an err whose text contains want (else 99), 0 at
 * EOF. count connections are made one after the other (the last one's
 * answer counts). The parent pumps the server meanwhile. */
static int
child_answer(uid_t uid, gid_t gid, const gid_t *groups, size_t ngroups, int count,
    const char *want)
{
	int st = -1;
	pid_t pid = fork();

	assert_true(pid >= 0);
	if (pid == 0) {
		struct sockaddr_un sa = { .sun_family = AF_UNIX };
		uint8_t c[PROTO_MAX_MSG];
		struct proto_msg m;
		int code = 0;

		/* only what the child uses: valgrind's fd check runs here too */
		close_range(3, ~0U, 0);
		if (setgroups(ngroups, groups) < 0 || setgid(gid) < 0 || setuid(uid) < 0)
			_exit(2);
		memcpy(sa.sun_path, sock, strlen(sock) + 1);
		for (int k = 0; k < count; k++) {
			int fd = socket(AF_UNIX, SOCK_SEQPACKET, 0);
			ssize_t n;

			if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
				_exit(3);
			m = (struct proto_msg){ .op = PROTO_OP_HELLO };
			m.u.hello_c.v = PROTO_VERSION;
			if (proto_encode(&m, PROTO_CLIENT, c, sizeof(c), (size_t *)&n) == 0)
				(void)send(fd, c, (size_t)n, MSG_NOSIGNAL);
			n = recv(fd, c, sizeof(c), 0);
			if (n < 0 && errno == ECONNRESET)	/* hello unread: err queued */
				n = recv(fd, c, sizeof(c), MSG_DONTWAIT);
			if (n <= 0)
				code = 0;
			else if (proto_decode(c, (size_t)n, PROTO_SERVER, &m, NULL, 0) != 0)
				_exit(4);
			else if (m.op == PROTO_OP_HELLO)
				code = 1;
			else if (m.op == PROTO_OP_ERR)
				code = want && !strstr(m.u.err.msg, want) ? 99 :
				    100 + (int)m.u.err.code;
			close(fd);
		}
		_exit(code);
	}
	for (int k = 0; k < 2000 && waitpid(pid, &st, WNOHANG) == 0; k++)
		pump(5);
	assert_true(WIFEXITED(st));
	return WEXITSTATUS(st);
}

/* The socket file and its directory open to everyone, so that only
 * sensord's own check decides. */
static void
open_to_all(void)
{
	assert_int_equal(chmod(dir, 0755), 0);
	assert_int_equal(chmod(sock, 0666), 0);
}

/* One uid cannot take every slot (attack 8). */
static void
test_per_uid_cap(void **state)
{
	int fds[3];

	(void)state;
	streamer = geteuid() + 1;
	open_caps(1 << 20, 4 << 20, 8, 3);
	for (int i = 0; i < 3; i++)
		fds[i] = connect_client();
	expect_err(connect_client(), PROTO_ERR_BUSY,
	    "too many connections from uid");
	assert_int_equal(server_clients(srv), 3);
	for (int i = 0; i < 3; i++)
		close(fds[i]);
}

/* The streamer finds a slot when everyone else has filled theirs. */
static void
test_streamer_slot_kept(void **state)
{
	int fds[4];

	(void)state;
	if (geteuid() != 0)
		skip();	/* the streamer is another uid: one to switch to */
	streamer = 65534;
	open_caps(1 << 20, 4 << 20, 6, 5);
	open_to_all();
	for (int i = 0; i < 4; i++)
		fds[i] = connect_client();
	expect_err(connect_client(), PROTO_ERR_BUSY, "the last 2 slots are kept for streamer");
	assert_int_equal(child_answer(65534, 65534, NULL, 0, 1, NULL), 1);
	for (int i = 0; i < 4; i++)
		close(fds[i]);
}

/* Issue 15: members of an allowed group are admitted, supplementary groups
 * included; others are refused with a hint that names the way in. */
static void
test_admitted_by_group(void **state)
{
	gid_t g = 4243;

	(void)state;
	if (geteuid() != 0)
		skip();
	allowed_gid = g;
	open_all(1 << 20, 4 << 20, 8);
	open_to_all();
	assert_int_equal(child_answer(4242, 4242, &g, 1, 1, NULL), 1);
	assert_int_equal(child_answer(4242, 4243, NULL, 0, 1, NULL), 1);
	assert_int_equal(child_answer(4242, 4242, NULL, 0, 1, "uid 4242 is not allowed: join "
	    "group \"unit\""), 100 + PROTO_ERR_DENIED);
}

/* Attack 9: a refused uid connecting in a loop costs a few log lines and
 * one count, not a line each. */
static void
test_refusals_rate_limited(void **state)
{
	char logf[128], line[512];
	struct server_stats ss;
	unsigned lines = 0, summary = 0;
	int saved, fd, answer;
	int64_t due;
	FILE *f;

	(void)state;
	if (geteuid() != 0)
		skip();
	open_all(1 << 20, 4 << 20, 8);
	open_to_all();
	snprintf(logf, sizeof(logf), "%s/log", dir);
	fd = open(logf, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	assert_true(fd >= 0);
	fflush(stderr);
	saved = dup(2);
	assert_int_equal(dup2(fd, 2), 2);
	answer = child_answer(4242, 4242, NULL, 0, 300, NULL);
	due = server_next_deadline(srv);	/* a count is due */
	if (due < INT64_MAX)
		server_tick(srv, due);
	fflush(stderr);
	assert_int_equal(dup2(saved, 2), 2);	/* assertions are seen from here on */
	close(saved);
	close(fd);
	assert_int_equal(answer, 100 + PROTO_ERR_DENIED);
	assert_true(due < INT64_MAX);
	assert_int_equal(server_next_deadline(srv), INT64_MAX);
	server_stats(srv, &ss);
	assert_int_equal(ss.clients_refused, 300);
	f = fopen(logf, "r");
	assert_non_null(f);
	while (fgets(line, sizeof(line), f)) {
		lines += strstr(line, "refused client uid=4242") != NULL;
		summary += strstr(line, "refused 295 more clients in the last 10 s") != NULL;
	}
	fclose(f);
	assert_int_equal(lines, 5);
	assert_int_equal(summary, 1);
}

static void
test_socket_path_rules(void **state)
{
	struct server_conf sc = conf_for(4, 3);
	struct server *second = NULL;
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct stat sb;
	char err[256];
	int fd;

	(void)state;
	/* a stale socket (nobody listening) is replaced */
	fd = socket(AF_UNIX, SOCK_SEQPACKET, 0);
	memcpy(sa.sun_path, sock, strlen(sock) + 1);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	close(fd);
	open_all(1 << 20, 4 << 20, 4);
	assert_int_equal(stat(sock, &sb), 0);
	assert_int_equal(sb.st_mode & 0777, 0660);
	/* a live one is not */
	assert_int_equal(server_new(&sc, j, fake_status, NULL, &second, err, sizeof(err)),
	    -EADDRINUSE);
	assert_non_null(strstr(err, "another sensord"));
	assert_null(second);
	assert_int_equal(stat(sock, &sb), 0);	/* still the first one's */
	server_free(srv);
	srv = NULL;
	assert_int_equal(stat(sock, &sb), -1);	/* removed on exit */
	/* a file that is not a socket is left alone */
	fd = open(sock, O_CREAT | O_WRONLY, 0600);
	close(fd);
	assert_int_equal(server_new(&sc, j, fake_status, NULL, &second, err, sizeof(err)),
	    -EEXIST);
	assert_int_equal(stat(sock, &sb), 0);
}

/* Out of fds, the server stops accepting for a while instead of spinning;
 * once the pause is over its deadline must be gone, or the loop that sleeps
 * until it would never sleep again. */
static void
test_accept_pause_ends(void **state)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct pollfd fds[8];
	struct rlimit old, low;
	int64_t now;
	size_t n;
	int c, probe;

	(void)state;
	open_all(1 << 20, 4 << 20, 4);
	c = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	assert_true(c >= 0);
	memcpy(sa.sun_path, sock, strlen(sock) + 1);
	assert_int_equal(connect(c, (struct sockaddr *)&sa, sizeof(sa)), 0);
	probe = dup(c);		/* the lowest free fd: accept would need it */
	assert_true(probe >= 0);
	close(probe);
	assert_int_equal(getrlimit(RLIMIT_NOFILE, &old), 0);
	low = old;
	low.rlim_cur = (rlim_t)probe;
	assert_int_equal(setrlimit(RLIMIT_NOFILE, &low), 0);
	now = clock_mono_ns();
	n = server_pollfds(srv, fds, 8, now);
	assert_int_equal(poll(fds, n, 1000), 1);
	server_dispatch(srv, fds, n, now);
	assert_int_equal(setrlimit(RLIMIT_NOFILE, &old), 0);
	assert_int_equal(server_clients(srv), 0);
	assert_true(server_next_deadline(srv) > now);
	assert_true(server_next_deadline(srv) < INT64_MAX);
	/* the pause is over: the listening socket is polled again and no
	 * deadline is left behind */
	now = server_next_deadline(srv);
	n = server_pollfds(srv, fds, 8, now);
	assert_true(fds[0].fd >= 0);
	assert_int_equal(server_next_deadline(srv), INT64_MAX);
	close(c);	/* under valgrind, the failed accept consumed it */
	c = connect_client();
	hello(c);
	close(c);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_hello, setup, teardown),
		cmocka_unit_test_setup_teardown(test_replay_then_live, setup, teardown),
		cmocka_unit_test_setup_teardown(test_gap_after_forced_drop, setup, teardown),
		cmocka_unit_test_setup_teardown(test_gap_after_damage, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ack_and_status, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ack_read_only_client, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ack_only_what_was_sent, setup, teardown),
		cmocka_unit_test_setup_teardown(test_malformed_closes_only_sender, setup, teardown),
		cmocka_unit_test_setup_teardown(test_stuck_client, setup, teardown),
		cmocka_unit_test_setup_teardown(test_packed_records, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cap_and_denied, setup, teardown),
		cmocka_unit_test_setup_teardown(test_per_uid_cap, setup, teardown),
		cmocka_unit_test_setup_teardown(test_streamer_slot_kept, setup, teardown),
		cmocka_unit_test_setup_teardown(test_admitted_by_group, setup, teardown),
		cmocka_unit_test_setup_teardown(test_refusals_rate_limited, setup, teardown),
		cmocka_unit_test_setup_teardown(test_socket_path_rules, setup, teardown),
		cmocka_unit_test_setup_teardown(test_accept_pause_ends, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
