/*
 * server: the protocol as a client sees it, over a real socket, with the
 * server driven by hand in the same process: hello, replay then live,
 * gaps after forced retention, acks, status, malformed and oversized
 * messages closing only their sender, a client that never reads not
 * holding up the others, refusal of a uid that is not allowed, the
 * start-up rules for the socket path, and the pause in accepting when the
 * process is out of fds, which must end.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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
static struct conf_int_list no_ids;
static int status_calls;

static void
fake_status(void *ctx, struct proto_status *st)
{
	(void)ctx;
	memset(st, 0, sizeof(*st));
	st->uptime_s = 42;
	st->last_seq = journal_next_seq(j) - 1;
	status_calls++;
}

static void
open_all(uint64_t seg, uint64_t max, unsigned max_clients)
{
	struct journal_opts o = { seg, max, 0, JOURNAL_FSYNC_NEVER };
	struct server_conf sc = { sock, 0660, (uid_t)-1, (gid_t)-1, &no_ids, &no_ids, max_clients,
		"testdev" };
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

static int
setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/test_server.XXXXXX");
	assert_non_null(mkdtemp(dir));
	snprintf(sock, sizeof(sock), "%s/s.sock", dir);
	log_init("test_server", 1, 0);
	status_calls = 0;
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
}

static void
test_ack_and_status(void **state)
{
	struct journal_stats st;
	struct proto_msg m = { .op = PROTO_OP_ACK };
	int fd;

	(void)state;
	open_all(1 << 20, 4 << 20, 8);
	append(10);
	fd = connect_client();
	m.u.ack.seq = 7;
	send_msg(fd, &m);
	m.op = PROTO_OP_STATUS;
	send_msg(fd, &m);
	assert_int_equal(recv_msg(fd, &m), 1);
	assert_int_equal(m.op, PROTO_OP_STATUS);
	assert_int_equal(m.u.status.uptime_s, 42);
	assert_int_equal(m.u.status.last_seq, 10);
	assert_int_equal(m.u.status.clients, 1);
	assert_int_equal(status_calls, 1);
	journal_stats(j, &st);
	assert_int_equal(st.acked_seq, 7);
	/* an ack past the end: err, but the client stays */
	m.op = PROTO_OP_ACK;
	m.u.ack.seq = 11;
	send_msg(fd, &m);
	assert_int_equal(recv_msg(fd, &m), 1);
	assert_int_equal(m.op, PROTO_OP_ERR);
	assert_int_equal(m.u.err.code, PROTO_ERR_STATE);
	m.op = PROTO_OP_STATUS;
	send_msg(fd, &m);
	assert_int_equal(recv_msg(fd, &m), 1);
	assert_int_equal(m.op, PROTO_OP_STATUS);
	journal_stats(j, &st);
	assert_int_equal(st.acked_seq, 7);
	close(fd);
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

static void
test_socket_path_rules(void **state)
{
	struct server_conf sc = { sock, 0660, (uid_t)-1, (gid_t)-1, &no_ids, &no_ids, 4, "d" };
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
		cmocka_unit_test_setup_teardown(test_ack_and_status, setup, teardown),
		cmocka_unit_test_setup_teardown(test_malformed_closes_only_sender, setup, teardown),
		cmocka_unit_test_setup_teardown(test_stuck_client, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cap_and_denied, setup, teardown),
		cmocka_unit_test_setup_teardown(test_socket_path_rules, setup, teardown),
		cmocka_unit_test_setup_teardown(test_accept_pause_ends, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
