/* SPDX-License-Identifier: Apache-2.0 */
/*
 * journal-bench: journal append rate with fsync "never" and "always", and
 * replay rate from the journal through the socket server to one client
 * (a forked process that connects, says hello and subscribes through
 * common/sdsock, then reads with recvmmsg without decoding until it has
 * every record's bytes: the figure is the server's). sdsock's hello asks
 * for packs, so records come several to a message, as streamerd gets them. Records are real encoded "rec" messages with every block
 * filled, the size sensord writes.
 * Prints one JSON line. usage: journal-bench [RECORDS] [FSYNC_RECORDS]
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "clock.h"
#include "journal.h"
#include "log.h"
#include "proto.h"
#include "sdsock.h"
#include "server.h"

static uint8_t msg[PROTO_MAX_MSG];
static size_t msglen;
static uint64_t kept_bytes;	/* the encoded records of the journal kept */

static void
make_record(uint64_t seq)
{
	struct record r = { 0 };

	r.seq = seq;
	r.t = clock_realtime_ns();
	r.boot_ns = 123456789;
	r.synced = true;
	snprintf(r.device, sizeof(r.device), "bench-pi");
	r.has_scd4x = r.has_sgp30 = r.has_icp10125 = true;
	r.scd4x = (struct rec_scd4x){ 612, 21.37, 45.2, r.t };
	r.sgp30 = (struct rec_sgp30){ 400, 12, r.t, false, true };
	r.icp10125 = (struct rec_icp10125){ 100812.5, 21.9, r.t };
	r.sys = (struct rec_sys){ true, true, true, true, 48.3, 7.5, 31.2, 12345 };
	if (proto_encode_record(&r, msg, sizeof(msg), &msglen) != 0)
		abort();
}

static double
append_rate(const char *dir, int fsync, unsigned n, struct journal **keep)
{
	struct journal_opts o = { 1 << 20, 1ULL << 34, 0, fsync };
	struct journal *j;
	char err[256];
	uint64_t seq;
	int64_t t0;

	int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (dfd < 0 || journal_open(dfd, dir, &o, &j, err, sizeof(err)) != 0) {
		fprintf(stderr, "%s: %s\n", dir, dfd < 0 ? strerror(errno) : err);
		exit(1);
	}
	close(dfd);
	t0 = clock_mono_ns();
	for (unsigned i = 0; i < n; i++) {
		make_record(journal_next_seq(j));
		if (journal_append(j, msg, msglen, 1, &seq) != 0)
			abort();
		kept_bytes += keep ? msglen : 0;
	}
	t0 = clock_mono_ns() - t0;
	if (keep)
		*keep = j;
	else
		journal_close(j);
	return (double)n * 1e9 / (double)t0;
}

/* Child: subscribe from oldest, read the records' bytes (packs hold a
 * varying number of records of varying size), report elapsed ns. */
static void
reader(const char *path, uint64_t bytes, int out)
{
	static uint8_t bufs[16][PROTO_MAX_MSG];
	struct mmsghdr mm[16];
	struct iovec iov[16];
	struct sdsock *c;
	struct pollfd p;
	uint64_t got = 0;
	int64_t t0;

	if (sdsock_open(path, SDSOCK_ANY_SERVER, "journal-bench", 5000, &c, NULL) < 0)
		_exit(1);
	p = (struct pollfd){ sdsock_fd(c), POLLIN, 0 };
	t0 = clock_mono_ns();
	if (sdsock_subscribe(c, PROTO_FROM_OLDEST, 0) < 0)
		_exit(1);
	for (int i = 0; i < 16; i++) {
		iov[i] = (struct iovec){ bufs[i], sizeof(bufs[i]) };
		memset(&mm[i], 0, sizeof(mm[i]));
		mm[i].msg_hdr.msg_iov = &iov[i];
		mm[i].msg_hdr.msg_iovlen = 1;
	}
	while (got < bytes) {
		int k = recvmmsg(p.fd, mm, 16, 0, NULL);

		if (k < 0 && errno == EAGAIN && poll(&p, 1, 5000) == 1)
			continue;
		if (k <= 0)
			_exit(1);
		for (int i = 0; i < k; i++)
			got += mm[i].msg_len;
	}
	t0 = clock_mono_ns() - t0;
	if (got != bytes || write(out, &t0, sizeof(t0)) != sizeof(t0))
		_exit(1);
	_exit(0);
}

static double
replay_rate(const char *dir, struct journal *j, unsigned n)
{
	char path[128], err[256];
	struct server_conf sc = { .path = path, .mode = 0600, .uid = (uid_t)-1,
		.gid = (gid_t)-1, .streamer = (uid_t)-1, .max_clients = 4, .max_per_uid = 3,
		.device = "bench" };
	struct pollfd fds[8];
	struct server *s;
	int p[2], st;
	int64_t ns = 0;
	pid_t pid;

	snprintf(path, sizeof(path), "%s/s.sock", dir);
	if (server_new(&sc, j, NULL, NULL, &s, err, sizeof(err)) != 0 || pipe(p) < 0) {
		fprintf(stderr, "%s\n", err);
		exit(1);
	}
	pid = fork();
	if (pid == 0)
		reader(path, kept_bytes, p[1]);
	while (waitpid(pid, &st, WNOHANG) == 0) {
		size_t k = server_pollfds(s, fds, 8, clock_mono_ns());
		if (poll(fds, k, 10) > 0)
			server_dispatch(s, fds, k, clock_mono_ns());
	}
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0 || read(p[0], &ns, sizeof(ns)) != sizeof(ns))
		ns = 0;
	close(p[0]);
	close(p[1]);
	server_free(s);
	return ns ? (double)n * 1e9 / (double)ns : 0;
}

int
main(int argc, char **argv)
{
	unsigned n = argc > 1 ? (unsigned)strtoul(argv[1], NULL, 10) : 500000;
	unsigned nf = argc > 2 ? (unsigned)strtoul(argv[2], NULL, 10) : 2000;
	char d1[] = "/tmp/jbench.XXXXXX", d2[] = "/tmp/jbench.XXXXXX", cmd[128];
	struct journal *j;
	double never, always, replay;

	if (!n || !nf || !mkdtemp(d1) || !mkdtemp(d2))
		return 1;
	log_init("journal-bench", 1, 0);
	signal(SIGPIPE, SIG_IGN);
	always = append_rate(d2, JOURNAL_FSYNC_ALWAYS, nf, NULL);
	never = append_rate(d1, JOURNAL_FSYNC_NEVER, n, &j);
	replay = replay_rate(d1, j, n);
	journal_close(j);
	printf("{\"bench\":\"journal\",\"record_bytes\":%zu,\"records\":%u,"
	    "\"append_fsync_never_per_s\":%.0f,\"append_fsync_always_per_s\":%.0f,"
	    "\"fsync_always_records\":%u,\"replay_one_client_per_s\":%.0f}\n", msglen, n,
	    never, always, nf, replay);
	snprintf(cmd, sizeof(cmd), "rm -rf %s %s", d1, d2);
	return system(cmd) == 0 && replay > 0 ? 0 : 1;
}
