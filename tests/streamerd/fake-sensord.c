/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fake-sensord: the test-only stand-in for sensord's socket side, for the
 * tests of its clients (streamerd, sensortap). It keeps a "journal" of
 * records first..last whose values are a pure function of the seq
 * (tests/streamerd/check.py's record() computes the same values to check
 * what landed), grows it at a given rate, honours subscribe from a seq /
 * oldest / now, answers status, feeds each client as its socket drains,
 * and persists last_seq and the highest ack in a state file so a restarted
 * fake serves the same journal. Several clients may be connected (a
 * restarting streamerd can overlap its predecessor). Seqs the journal
 * lacks — below -f FIRST (retention dropped them) and -g FROM..TO (what
 * retention or a power cut leaves) — are, as sensord does it, a gap message
 * to a client owed one of them once a later record exists; fake-sensord
 * says on stderr where in the subscription. It speaks through
 * common/sdsock, as sensord does.
 *
 * usage: fake-sensord SOCKET STATEFILE [-n INITIAL] [-r RATE_HZ] [-m MAX]
 *                     [-j JOURNAL_ID_HEX] [-D DEVICE] [-f FIRST] [-g FROM-TO]
 *                     [-x stale|garbage|silent]
 *   -x stale    bind the socket, then exit without removing it
 *      garbage  answer hello with bytes that are not MessagePack
 *      silent   never answer anything
 * Prints "ready" on stdout once listening. SIGTERM/SIGINT: exit 0.
 */
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "clock.h"
#include "proto.h"
#include "sdsock.h"

#define MAXC 4

struct client {
	int fd;
	bool hello, sub;
	uint64_t next;
	uint64_t sent;		/* records sent on this subscription */
};

static volatile sig_atomic_t stop;
static uint64_t last_seq, acked, journal_id = 0x5eed5eed00c0ffeeULL, first_seq = 1;
static const char *state_path, *misbehave = "";
static int64_t start_ns;
static char device[PROTO_NAME_LEN] = "fake-pi";
static int64_t t0_ns = 1764000000000000000LL;
static uint64_t hole_from, hole_to;	/* seqs not in the journal; 0, 0: none */

static void
on_sig(int s)
{
	(void)s;
	stop = 1;
}

/* Values derived from seq; expect.py mirrors this exactly. */
static void
make_record(uint64_t seq, struct record *r)
{
	memset(r, 0, sizeof(*r));
	r->seq = seq;
	r->t = t0_ns + (int64_t)seq * 5000000000LL + (int64_t)(seq % 1000) * 1000000LL;
	r->boot_ns = 1000000000ULL + seq * 5000000000ULL;
	r->synced = seq % 7 != 0;
	snprintf(r->device, sizeof(r->device), "%s", device);
	r->has_scd4x = seq % 3 != 0;
	r->scd4x = (struct rec_scd4x){ (uint32_t)(400 + seq % 1000), 20.0 + (double)(seq % 100) / 8.0,
		40.0 + (double)(seq % 50) / 4.0, r->t };
	r->scd4x.has_co2 = true;
	r->has_sgp30 = seq % 5 != 0;
	r->sgp30 = (struct rec_sgp30){ (uint32_t)(400 + seq % 300), (uint32_t)(seq % 200), r->t,
		seq < 3, seq % 2 == 0 };
	r->has_icp10125 = seq % 11 != 0;
	r->icp10125 = (struct rec_icp10125){ 100000.0 + (double)(seq % 2000) / 4.0,
		21.0 + (double)(seq % 40) / 16.0, r->t };
	r->sys = (struct rec_sys){ seq % 13 != 0, true, true, seq % 17 != 0,
		45.0 + (double)(seq % 20) / 2.0, (double)(seq % 100) / 4.0, 33.5, 2048 + seq % 10 };
	if (seq % 4 == 0)
		record_add_fault(r, "scd4x: crc error on read \"measurement\"");
}

static void
save_state(void)
{
	char tmp[4096];
	FILE *f;

	snprintf(tmp, sizeof(tmp), "%s.tmp", state_path);
	if ((f = fopen(tmp, "w")) == NULL)
		return;
	fprintf(f, "%" PRIu64 " %" PRIu64 "\n", last_seq, acked);
	fclose(f);
	rename(tmp, state_path);
}

static void
load_state(void)
{
	FILE *f = fopen(state_path, "r");

	if (f == NULL)
		return;
	if (fscanf(f, "%" SCNu64 " %" SCNu64, &last_seq, &acked) != 2)
		last_seq = acked = 0;
	fclose(f);
}

static int
send_msg(int fd, const struct proto_msg *m)
{
	return sdsock_send_msg(fd, m, PROTO_SERVER);
}

static void
drop(struct client *c)
{
	close(c->fd);
	c->fd = -1;
}

static void
fill_status(struct proto_status *st, unsigned clients)
{
	static const char *const chips[] = { "scd4x", "sgp30", "icp10125" };

	st->uptime_s = (uint64_t)((clock_mono_ns() - start_ns) / NS_PER_S);
	st->journal_id = journal_id;
	st->first_seq = last_seq >= first_seq ? first_seq : 0;
	st->last_seq = last_seq;
	st->acked_seq = acked;
	st->records_written = last_seq;
	st->clients = clients;
	st->nchips = 3;
	for (unsigned i = 0; i < 3; i++) {
		snprintf(st->chips[i].name, sizeof(st->chips[i].name), "%s", chips[i]);
		snprintf(st->chips[i].state, sizeof(st->chips[i].state), "ok");
		st->chips[i].measurements = last_seq;
	}
}

static void
subscribe(struct client *c, const struct proto_msg *in)
{
	c->sub = true;
	c->next = in->u.subscribe.from == PROTO_FROM_SEQ ? in->u.subscribe.seq :
	    in->u.subscribe.from == PROTO_FROM_NOW ? last_seq + 1 : first_seq;
	if (c->next == 0)
		c->next = 1;
}

/* The last seq of the run of seqs the journal lacks that holds seq; 0 when
 * the journal has seq. */
static uint64_t
missing_to(uint64_t seq)
{
	if (seq < first_seq)
		return first_seq - 1;
	if (hole_from && seq >= hole_from && seq <= hole_to)
		return hole_to;
	return 0;
}

static void
on_msg(struct client *c, const struct proto_msg *in, unsigned clients)
{
	struct proto_msg out = { 0 };

	if (strcmp(misbehave, "silent") == 0)
		return;
	if (in->op == PROTO_OP_HELLO && strcmp(misbehave, "garbage") == 0) {
		(void)send(c->fd, "\xc1\xc1garbage", 9, MSG_NOSIGNAL | MSG_DONTWAIT);
		return;
	}
	switch (in->op) {
	case PROTO_OP_HELLO:
		out.op = PROTO_OP_HELLO;
		out.u.hello_s.v = PROTO_VERSION;
		out.u.hello_s.journal_id = journal_id;
		out.u.hello_s.first_seq = last_seq >= first_seq ? first_seq : 0;
		out.u.hello_s.last_seq = last_seq;
		snprintf(out.u.hello_s.device, sizeof(out.u.hello_s.device), "%s", device);
		c->hello = true;
		if (send_msg(c->fd, &out) < 0)
			drop(c);
		break;
	case PROTO_OP_SUBSCRIBE:
		if (!c->hello || c->sub) {
			drop(c);
			break;
		}
		subscribe(c, in);
		break;
	case PROTO_OP_ACK:
		if (in->u.ack.seq > last_seq) {
			fprintf(stderr, "fake-sensord: ack %" PRIu64 " beyond last seq %" PRIu64 "\n",
			    in->u.ack.seq, last_seq);
			exit(3);
		}
		if (in->u.ack.seq > acked) {
			acked = in->u.ack.seq;
			save_state();
		}
		break;
	case PROTO_OP_STATUS:
		out.op = PROTO_OP_STATUS;
		fill_status(&out.u.status, clients);
		if (send_msg(c->fd, &out) < 0)
			drop(c);
		break;
	default:
		break;
	}
}

static void
feed(struct client *c)
{
	struct proto_msg out = { .op = PROTO_OP_REC };

	while (c->fd >= 0 && c->sub && c->next <= last_seq) {
		uint64_t to;
		int r;

		if ((to = missing_to(c->next)) != 0) {
			struct proto_msg gap = { .op = PROTO_OP_GAP };

			if (last_seq <= to)
				return;	/* no record after the hole yet */
			gap.u.gap.from = c->next;
			gap.u.gap.to = to;
			if ((r = send_msg(c->fd, &gap)) == -EAGAIN)
				return;
			if (r < 0) {
				drop(c);
				return;
			}
			fprintf(stderr, "fake-sensord: gap %" PRIu64 "..%" PRIu64 " after %" PRIu64
			    " records of the subscription\n", gap.u.gap.from, gap.u.gap.to, c->sent);
			c->next = to + 1;
			continue;
		}
		make_record(c->next, &out.u.rec);
		if ((r = send_msg(c->fd, &out)) == -EAGAIN)
			return;
		if (r < 0) {
			drop(c);
			return;
		}
		c->next++;
		c->sent++;
	}
}

int
main(int argc, char **argv)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct client cl[MAXC];
	uint64_t initial = 0, max = UINT64_MAX;
	double rate = 0;
	int ls, opt;
	int64_t next_gen;

	while ((opt = getopt(argc, argv, "n:r:m:j:D:f:g:x:")) != -1) {
		switch (opt) {
		case 'n': initial = strtoull(optarg, NULL, 10); break;
		case 'r': rate = strtod(optarg, NULL); break;
		case 'm': max = strtoull(optarg, NULL, 10); break;
		case 'j': journal_id = strtoull(optarg, NULL, 16); break;
		case 'D': snprintf(device, sizeof(device), "%s", optarg); break;
		case 'f': first_seq = strtoull(optarg, NULL, 10); break;
		case 'g':
			if (sscanf(optarg, "%" SCNu64 "-%" SCNu64, &hole_from, &hole_to) != 2 ||
			    hole_from == 0 || hole_to < hole_from)
				return 2;
			break;
		case 'x': misbehave = optarg; break;
		default: return 2;
		}
	}
	if (argc - optind != 2 || strlen(argv[optind]) >= sizeof(sa.sun_path)) {
		fprintf(stderr, "usage: fake-sensord SOCKET STATEFILE [-n N] [-r HZ] [-m MAX] "
		    "[-j JID] [-D DEVICE] [-f FIRST] [-g FROM-TO] [-x stale|garbage|silent]\n");
		return 2;
	}
	state_path = argv[optind + 1];
	load_state();
	if (last_seq < initial)
		last_seq = initial;
	if (last_seq > max)
		last_seq = max;
	save_state();
	memcpy(sa.sun_path, argv[optind], strlen(argv[optind]) + 1);
	unlink(sa.sun_path);
	ls = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (ls < 0 || bind(ls, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(ls, 8) < 0) {
		perror("fake-sensord");
		return 1;
	}
	if (strcmp(misbehave, "stale") == 0)
		return 0;	/* the socket file stays, nobody listens */
	signal(SIGTERM, on_sig);
	signal(SIGINT, on_sig);
	signal(SIGPIPE, SIG_IGN);
	for (int i = 0; i < MAXC; i++)
		cl[i].fd = -1;
	printf("ready\n");
	fflush(stdout);
	start_ns = next_gen = clock_mono_ns();
	while (!stop) {
		struct pollfd p[MAXC + 1];
		int64_t now = clock_mono_ns();
		unsigned clients = 0;
		int to = 200;

		if (rate > 0 && last_seq < max) {
			int64_t step = (int64_t)(1e9 / rate);
			bool grew = false;

			while (now >= next_gen && last_seq < max) {
				last_seq++;
				next_gen += step;
				grew = true;
			}
			if (grew)
				save_state();
			to = (int)((next_gen - now) / 1000000) + 1;
		}
		p[0] = (struct pollfd){ .fd = ls, .events = POLLIN };
		for (int i = 0; i < MAXC; i++) {
			feed(&cl[i]);
			clients += cl[i].fd >= 0;
			p[i + 1] = (struct pollfd){ .fd = cl[i].fd, .events = POLLIN |
				(cl[i].fd >= 0 && cl[i].sub && cl[i].next <= last_seq ? POLLOUT : 0) };
		}
		if (poll(p, MAXC + 1, to) < 0 && errno != EINTR)
			return 1;
		if (p[0].revents & POLLIN) {
			int fd = accept4(ls, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);

			for (int i = 0; fd >= 0 && i < MAXC; i++) {
				if (cl[i].fd < 0) {
					cl[i] = (struct client){ .fd = fd };
					fd = -1;
				}
			}
			if (fd >= 0)
				close(fd);
		}
		for (int i = 0; i < MAXC; i++) {
			static uint8_t buf[PROTO_MAX_MSG];
			struct proto_msg in;
			int r;

			if (cl[i].fd < 0 || !(p[i + 1].revents & (POLLIN | POLLHUP | POLLERR)))
				continue;
			r = sdsock_recv_msg(cl[i].fd, buf, PROTO_CLIENT, &in, NULL, NULL, 0);
			if (r == -EAGAIN)
				continue;
			if (r < 0) {
				drop(&cl[i]);
				continue;
			}
			on_msg(&cl[i], &in, clients);
		}
	}
	unlink(sa.sun_path);
	save_state();
	return 0;
}
