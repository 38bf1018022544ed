/*
 * tapserver: a scripted stand-in for sensord's socket, for sensortap's
 * tests only. It serves records FIRST..LAST with values derived from the
 * seq (so a test can check them), answers status, reports a gap for seqs
 * below FIRST, and can be told to misbehave.
 *
 * usage: tapserver PATH FIRST LAST [stale|garbage|silent]
 *   stale   bind the socket, then exit without unlinking it
 *   garbage answer hello with bytes that are not MessagePack
 *   silent  never answer
 * One client at a time; exits when the client goes away.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "proto.h"
#include "sdsock.h"

static void
make_record(uint64_t seq, struct record *r)
{
	memset(r, 0, sizeof(*r));
	r->seq = seq;
	r->t = 1764000000000000000LL + (int64_t)seq * 5000000000LL;
	r->boot_ns = seq * 5000000000ULL;
	r->synced = seq % 2 == 0;
	snprintf(r->device, sizeof(r->device), "tap-test");
	r->has_scd4x = seq % 3 != 0;	/* every third record has no SCD4x block */
	r->scd4x = (struct rec_scd4x){ (uint32_t)(400 + seq), 20.5, 40.25, r->t };
	r->has_sgp30 = true;
	r->sgp30 = (struct rec_sgp30){ 400, 0, r->t, true, false };
	r->has_icp10125 = true;
	r->icp10125 = (struct rec_icp10125){ 100000.0 + (double)seq, -1.5, r->t };
	r->sys = (struct rec_sys){ false, true, true, true, 0, 12.5, 33.0, 2048 };
	if (seq % 4 == 0)
		record_add_fault(r, "scd4x: crc error on read_measurement");
}

/* Never blocks: the few records a sensortap test asks for always fit. */
static void
send_msg(int fd, const struct proto_msg *m)
{
	if (sdsock_send_msg(fd, m, PROTO_SERVER) < 0)
		exit(1);
}

static void
serve(int c, uint64_t first, uint64_t last, const char *mode)
{
	static uint8_t buf[PROTO_MAX_MSG];
	struct proto_msg in, out;
	struct pollfd p = { c, POLLIN, 0 };

	while (poll(&p, 1, -1) == 1) {
		int r = sdsock_recv_msg(c, buf, PROTO_CLIENT, &in, NULL, NULL, 0);

		if (r == -EAGAIN)
			continue;
		if (r < 0)
			return;
		memset(&out, 0, sizeof(out));
		if (strcmp(mode, "silent") == 0)
			continue;
		if (in.op == PROTO_OP_HELLO && strcmp(mode, "garbage") == 0) {
			(void)send(c, "\xc1\xc1garbage", 9, MSG_NOSIGNAL);
			continue;
		}
		switch (in.op) {
		case PROTO_OP_HELLO:
			out.op = PROTO_OP_HELLO;
			out.u.hello_s.v = PROTO_VERSION;
			out.u.hello_s.journal_id = 0x0123456789abcdefULL;
			out.u.hello_s.first_seq = first;
			out.u.hello_s.last_seq = last;
			snprintf(out.u.hello_s.device, sizeof(out.u.hello_s.device), "tap-test");
			send_msg(c, &out);
			break;
		case PROTO_OP_STATUS:
			out.op = PROTO_OP_STATUS;
			out.u.status.uptime_s = 42;
			out.u.status.journal_id = 0x0123456789abcdefULL;
			out.u.status.first_seq = first;
			out.u.status.last_seq = last;
			out.u.status.acked_seq = first;
			out.u.status.clients = 1;
			out.u.status.nchips = 1;
			snprintf(out.u.status.chips[0].name, 16, "scd4x");
			snprintf(out.u.status.chips[0].state, PROTO_NAME_LEN, "ok");
			out.u.status.chips[0].measurements = 9;
			send_msg(c, &out);
			break;
		case PROTO_OP_SUBSCRIBE: {
			uint64_t from = first;
			if (in.u.subscribe.from == PROTO_FROM_NOW)
				break;
			if (in.u.subscribe.from == PROTO_FROM_SEQ)
				from = in.u.subscribe.seq;
			if (from < first) {
				out.op = PROTO_OP_GAP;
				out.u.gap.from = from;
				out.u.gap.to = first - 1;
				send_msg(c, &out);
				from = first;
			}
			for (uint64_t s = from; s <= last; s++) {
				out.op = PROTO_OP_REC;
				make_record(s, &out.u.rec);
				send_msg(c, &out);
			}
			break;
		}
		default:
			break;
		}
	}
}

int
main(int argc, char **argv)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	const char *mode = argc > 4 ? argv[4] : "";
	int s, c;

	if (argc < 4 || strlen(argv[1]) >= sizeof(sa.sun_path)) {
		fprintf(stderr, "usage: tapserver PATH FIRST LAST [stale|garbage|silent]\n");
		return 2;
	}
	memcpy(sa.sun_path, argv[1], strlen(argv[1]) + 1);
	s = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (s < 0 || bind(s, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(s, 4) < 0) {
		perror("tapserver");
		return 1;
	}
	if (strcmp(mode, "stale") == 0)
		return 0;
	printf("ready\n");
	fflush(stdout);
	c = accept4(s, NULL, NULL, SOCK_CLOEXEC);
	if (c < 0)
		return 1;
	serve(c, strtoull(argv[2], NULL, 10), strtoull(argv[3], NULL, 10), mode);
	close(c);
	close(s);
	unlink(argv[1]);
	return 0;
}
