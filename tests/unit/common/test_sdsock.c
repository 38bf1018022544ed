/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests for sensord's socket transport, with the other end played by
 * hand: a socketpair(AF_UNIX, SOCK_SEQPACKET) for the messages (hello and
 * its version check, the three subscribe cursors, ack, status, gap and err
 * handed through, malformed and oversized messages, a peer that closes,
 * a full socket; the client's batched receive: order across batches with
 * every message type, a full-size message among small ones, a close in
 * mid-batch, slots given back; records packed several to a message, and
 * packs that break the rules), a listener in a temp dir for connect's errors and its
 * bounded wait on a full backlog, and a server played from a signal
 * handler for sdsock_open.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include <cmocka.h>

#include "sdsock.c"

static uint8_t pbuf[PROTO_MAX_MSG];
static char dir[64], path[128];

/* A connection whose server end is *ret_peer (both non-blocking). */
static struct sdsock *
pair_client(int *ret_peer)
{
	struct sdsock *c;
	int sv[2];

	assert_int_equal(client_new(&c), 0);
	assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0,
	    sv), 0);
	c->fd = sv[0];
	*ret_peer = sv[1];
	return c;
}

/* What the client sent, as the server decodes it. */
static struct proto_msg
peer_recv(int peer)
{
	struct proto_msg m;
	char why[128];

	memset(&m, 0xa5, sizeof(m));
	assert_int_equal(sdsock_recv_msg(peer, pbuf, PROTO_CLIENT, &m, NULL, why, sizeof(why)),
	    0);
	return m;
}

static void
peer_send(int peer, const struct proto_msg *m)
{
	assert_int_equal(sdsock_send_msg(peer, m, PROTO_SERVER), 0);
}

static void
server_hello(struct proto_msg *m, uint32_t v)
{
	memset(m, 0, sizeof(*m));
	m->op = PROTO_OP_HELLO;
	m->u.hello_s.v = v;
	m->u.hello_s.journal_id = 0x0123456789abcdefULL;
	m->u.hello_s.first_seq = 5;
	m->u.hello_s.last_seq = 10;
	snprintf(m->u.hello_s.device, sizeof(m->u.hello_s.device), "pi-attic");
}

static void
test_hello(void **state)
{
	char name[PROTO_NAME_LEN + 1];
	struct proto_msg m;
	int peer;
	struct sdsock *c = pair_client(&peer);

	(void)state;
	assert_int_equal(sdsock_hello(c, "sensortap"), 0);
	m = peer_recv(peer);
	assert_int_equal(m.op, PROTO_OP_HELLO);
	assert_int_equal(m.u.hello_c.v, PROTO_VERSION);
	assert_string_equal(m.u.hello_c.name, "sensortap");

	/* a name that does not fit is refused, not cut */
	memset(name, 'x', sizeof(name) - 1);
	name[sizeof(name) - 1] = '\0';
	assert_int_equal(sdsock_hello(c, name), -ENAMETOOLONG);
	assert_int_equal(recv(peer, pbuf, sizeof(pbuf), MSG_DONTWAIT), -1);
	name[PROTO_NAME_LEN - 1] = '\0';
	assert_int_equal(sdsock_hello(c, name), 0);
	assert_int_equal(strlen(peer_recv(peer).u.hello_c.name), PROTO_NAME_LEN - 1);

	server_hello(&m, PROTO_VERSION);
	peer_send(peer, &m);
	memset(&m, 0, sizeof(m));
	assert_int_equal(sdsock_read(c, &m), 0);
	assert_int_equal(m.op, PROTO_OP_HELLO);
	assert_int_equal(m.u.hello_s.journal_id, 0x0123456789abcdefULL);
	assert_int_equal(m.u.hello_s.first_seq, 5);
	assert_int_equal(m.u.hello_s.last_seq, 10);
	assert_string_equal(m.u.hello_s.device, "pi-attic");
	assert_string_equal(sdsock_why(c, NULL), "");
	sdsock_close(c);
	close(peer);
}

static void
test_hello_other_version(void **state)
{
	struct proto_msg m, out = { .op = PROTO_OP_ACK };
	int peer;
	struct sdsock *c = pair_client(&peer);

	(void)state;
	server_hello(&m, PROTO_VERSION + 1);
	peer_send(peer, &m);
	assert_int_equal(sdsock_read(c, &out), -EPROTONOSUPPORT);
	assert_int_equal(out.op, PROTO_OP_ACK);	/* untouched */
	assert_non_null(strstr(sdsock_why(c, NULL), "version 2"));
	sdsock_close(c);
	close(peer);
}

static void
test_subscribe_variants(void **state)
{
	struct proto_msg m;
	int peer;
	struct sdsock *c = pair_client(&peer);

	(void)state;
	assert_int_equal(sdsock_subscribe(c, PROTO_FROM_SEQ, 42), 0);
	m = peer_recv(peer);
	assert_int_equal(m.op, PROTO_OP_SUBSCRIBE);
	assert_int_equal(m.u.subscribe.from, PROTO_FROM_SEQ);
	assert_int_equal(m.u.subscribe.seq, 42);

	assert_int_equal(sdsock_subscribe(c, PROTO_FROM_OLDEST, 99), 0);
	m = peer_recv(peer);
	assert_int_equal(m.u.subscribe.from, PROTO_FROM_OLDEST);
	assert_int_equal(m.u.subscribe.seq, 0);	/* a cursor has no seq to carry */

	assert_int_equal(sdsock_subscribe(c, PROTO_FROM_NOW, 0), 0);
	m = peer_recv(peer);
	assert_int_equal(m.u.subscribe.from, PROTO_FROM_NOW);

	/* seq 0 is a seq: the server decides what it means */
	assert_int_equal(sdsock_subscribe(c, PROTO_FROM_SEQ, 0), 0);
	m = peer_recv(peer);
	assert_int_equal(m.u.subscribe.from, PROTO_FROM_SEQ);
	assert_int_equal(m.u.subscribe.seq, 0);

	assert_int_equal(sdsock_subscribe(c, (enum proto_from)7, 1), -EINVAL);
	sdsock_close(c);
	close(peer);
}

static void
test_ack_status_gap_err(void **state)
{
	struct proto_msg m;
	int peer;
	struct sdsock *c = pair_client(&peer);

	(void)state;
	assert_int_equal(sdsock_ack(c, 17), 0);
	m = peer_recv(peer);
	assert_int_equal(m.op, PROTO_OP_ACK);
	assert_int_equal(m.u.ack.seq, 17);
	assert_int_equal(sdsock_ask_status(c), 0);
	assert_int_equal(peer_recv(peer).op, PROTO_OP_STATUS);

	/* gap and err come through as messages, in order */
	memset(&m, 0, sizeof(m));
	m.op = PROTO_OP_GAP;
	m.u.gap.from = 3;
	m.u.gap.to = 9;
	peer_send(peer, &m);
	memset(&m, 0, sizeof(m));
	m.op = PROTO_OP_ERR;
	m.u.err.code = PROTO_ERR_DENIED;
	snprintf(m.u.err.msg, sizeof(m.u.err.msg), "not allowed");
	peer_send(peer, &m);
	memset(&m, 0, sizeof(m));
	m.op = PROTO_OP_STATUS;
	m.u.status.last_seq = 77;
	m.u.status.nchips = 1;
	snprintf(m.u.status.chips[0].name, sizeof(m.u.status.chips[0].name), "scd4x");
	peer_send(peer, &m);

	assert_int_equal(sdsock_read(c, &m), 0);
	assert_int_equal(m.op, PROTO_OP_GAP);
	assert_int_equal(m.u.gap.from, 3);
	assert_int_equal(m.u.gap.to, 9);
	assert_int_equal(sdsock_read(c, &m), 0);
	assert_int_equal(m.op, PROTO_OP_ERR);
	assert_int_equal(m.u.err.code, PROTO_ERR_DENIED);
	assert_string_equal(m.u.err.msg, "not allowed");
	assert_int_equal(sdsock_wait(c, 1000, &m), 0);
	assert_int_equal(m.op, PROTO_OP_STATUS);
	assert_int_equal(m.u.status.last_seq, 77);
	assert_string_equal(m.u.status.chips[0].name, "scd4x");
	sdsock_close(c);
	close(peer);
}

static void
test_malformed(void **state)
{
	struct proto_msg m = { .op = PROTO_OP_ACK };
	size_t len = 0;
	int peer;
	struct sdsock *c = pair_client(&peer);

	(void)state;
	assert_int_equal(send(peer, "\xc1\xc1garbage", 9, 0), 9);
	assert_int_equal(sdsock_read(c, &m), -EBADMSG);
	assert_int_equal(m.op, PROTO_OP_ACK);
	assert_true(sdsock_why(c, &len)[0] != '\0');
	assert_int_equal(len, 9);

	/* a well-formed client op is still malformed from the server */
	m.op = PROTO_OP_SUBSCRIBE;
	m.u.subscribe.from = PROTO_FROM_NOW;
	assert_int_equal(sdsock_send_msg(peer, &m, PROTO_CLIENT), 0);
	assert_int_equal(sdsock_read(c, &m), -EBADMSG);
	assert_non_null(strstr(sdsock_why(c, NULL), "not valid from the server"));

	/* and the server side refuses what only a server may send */
	server_hello(&m, PROTO_VERSION);
	m.op = PROTO_OP_GAP;
	assert_int_equal(sdsock_send_msg(c->fd, &m, PROTO_SERVER), 0);
	{
		char why[128] = "";

		assert_int_equal(sdsock_recv_msg(peer, pbuf, PROTO_CLIENT, &m, &len, why,
		    sizeof(why)), -EBADMSG);
		assert_non_null(strstr(why, "not valid from the client"));
	}

	/* the connection itself still works */
	server_hello(&m, PROTO_VERSION);
	peer_send(peer, &m);
	assert_int_equal(sdsock_read(c, &m), 0);
	assert_int_equal(m.op, PROTO_OP_HELLO);
	assert_string_equal(sdsock_why(c, NULL), "");
	sdsock_close(c);
	close(peer);
}

static void
test_oversize(void **state)
{
	static uint8_t big[PROTO_MAX_MSG + 1];
	struct proto_msg m = { .op = PROTO_OP_REC }, got;
	char why[128];
	size_t len = 0;
	int peer;
	struct sdsock *c = pair_client(&peer);

	(void)state;
	memset(big, 0x80, sizeof(big));	/* an empty map, then junk: size decides first */
	assert_int_equal(send(peer, big, sizeof(big), 0), (ssize_t)sizeof(big));
	assert_int_equal(sdsock_read(c, &got), -EMSGSIZE);
	assert_string_equal(sdsock_why(c, &len), "message over 65536 bytes");
	assert_int_equal(len, PROTO_MAX_MSG + 1);
	/* exactly PROTO_MAX_MSG is judged by the decoder, not by size */
	assert_int_equal(send(peer, big, PROTO_MAX_MSG, 0), PROTO_MAX_MSG);
	assert_int_equal(sdsock_read(c, &got), -EBADMSG);

	/* the largest record a struct can hold fits the send buffer */
	memset(&m.u.rec, 0, sizeof(m.u.rec));
	m.u.rec.seq = UINT64_MAX;
	m.u.rec.t = INT64_MIN;
	memset(m.u.rec.device, 'd', sizeof(m.u.rec.device) - 1);
	m.u.rec.has_scd4x = m.u.rec.has_sgp30 = m.u.rec.has_icp10125 = true;
	m.u.rec.sys = (struct rec_sys){ true, true, true, true, 1e300, 1e300, 1e300,
		UINT64_MAX };
	m.u.rec.nfaults = RECORD_MAX_FAULTS;
	for (int i = 0; i < RECORD_MAX_FAULTS; i++)
		memset(m.u.rec.faults[i], 'f', RECORD_FAULT_LEN - 1);
	peer_send(peer, &m);
	assert_int_equal(sdsock_read(c, &got), 0);
	assert_int_equal(got.u.rec.nfaults, RECORD_MAX_FAULTS);
	assert_memory_equal(got.u.rec.faults, m.u.rec.faults, sizeof(m.u.rec.faults));
	assert_int_equal(proto_encode(&m, PROTO_SERVER, pbuf, sizeof(pbuf), &len), 0);
	assert_true(len <= SEND_MAX);

	/* server side: the same size rule */
	assert_int_equal(send(c->fd, big, sizeof(big), 0), (ssize_t)sizeof(big));
	assert_int_equal(sdsock_recv_msg(peer, pbuf, PROTO_CLIENT, &m, &len, why, sizeof(why)),
	    -EMSGSIZE);
	assert_int_equal(len, PROTO_MAX_MSG + 1);
	sdsock_close(c);
	close(peer);
}

static void
test_peer_closes(void **state)
{
	struct proto_msg m;
	int peer, r;
	struct sdsock *c = pair_client(&peer);

	(void)state;
	server_hello(&m, PROTO_VERSION);
	peer_send(peer, &m);
	close(peer);
	/* what was sent before the close is still read, then the end */
	assert_int_equal(sdsock_read(c, &m), 0);
	assert_int_equal(sdsock_read(c, &m), -ECONNRESET);
	assert_int_equal(sdsock_wait(c, 1000, &m), -ECONNRESET);
	r = sdsock_ack(c, 1);	/* no SIGPIPE: an error */
	assert_true(r == -EPIPE || r == -ECONNRESET);
	sdsock_close(c);
}

/* A server that refuses closes with the client's hello unread: the kernel
 * then reports ECONNRESET before the err it queued, which must still be
 * read (sensortap's exit 5 depends on it). */
static void
test_err_before_reset(void **state)
{
	struct proto_msg m = { .op = PROTO_OP_ERR };
	int peer;
	struct sdsock *c = pair_client(&peer);

	(void)state;
	m.u.err.code = PROTO_ERR_DENIED;
	snprintf(m.u.err.msg, sizeof(m.u.err.msg), "uid 1 is not allowed");
	peer_send(peer, &m);
	assert_int_equal(sdsock_hello(c, "unit"), 0);	/* left unread */
	close(peer);
	memset(&m, 0, sizeof(m));
	assert_int_equal(sdsock_read(c, &m), 0);
	assert_int_equal(m.op, PROTO_OP_ERR);
	assert_int_equal(m.u.err.code, PROTO_ERR_DENIED);
	assert_int_equal(sdsock_read(c, &m), -ECONNRESET);
	sdsock_close(c);
}

/* ---- batched receive: up to SDSOCK_BATCH messages per syscall --------- */

static void
rec_msg(struct proto_msg *m, uint64_t seq)
{
	memset(m, 0, sizeof(*m));
	m->op = PROTO_OP_REC;
	m->u.rec.seq = seq;
	m->u.rec.t = (int64_t)seq * 1000;
	snprintf(m->u.rec.device, sizeof(m->u.rec.device), "pi-%" PRIu64, seq);
}

static void
expect_rec(struct sdsock *c, uint64_t seq)
{
	struct proto_msg m;
	char dev[32];

	memset(&m, 0xa5, sizeof(m));
	assert_int_equal(sdsock_read(c, &m), 0);
	assert_int_equal(m.op, PROTO_OP_REC);
	assert_int_equal(m.u.rec.seq, seq);
	assert_int_equal(m.u.rec.t, (int64_t)seq * 1000);
	snprintf(dev, sizeof(dev), "pi-%" PRIu64, seq);
	assert_string_equal(m.u.rec.device, dev);
}

/* Records seq from..to sent by the server end. */
static void
send_recs(int peer, uint64_t from, uint64_t to)
{
	struct proto_msg m;

	for (uint64_t q = from; q <= to; q++) {
		rec_msg(&m, q);
		peer_send(peer, &m);
	}
}

/* One read takes what is queued (up to SDSOCK_BATCH) off the socket and
 * hands it out one message at a time, in order, across batches. */
static void
test_batch_order(void **state)
{
	struct proto_msg m;
	uint8_t b;
	int peer;
	struct sdsock *c = pair_client(&peer);

	(void)state;
	send_recs(peer, 1, SDSOCK_BATCH);
	assert_false(sdsock_pending(c));
	expect_rec(c, 1);
	/* the others were taken in the same call: the socket is empty */
	assert_int_equal(recv(c->fd, &b, 1, MSG_PEEK | MSG_DONTWAIT), -1);
	assert_int_equal(errno, EAGAIN);
	assert_true(sdsock_pending(c));
	for (uint64_t q = 2; q <= SDSOCK_BATCH; q++)
		expect_rec(c, q);
	assert_false(sdsock_pending(c));
	send_recs(peer, SDSOCK_BATCH + 1, 5);	/* up to 5 */
	for (uint64_t q = SDSOCK_BATCH + 1; q <= 5; q++)
		expect_rec(c, q);
	assert_int_equal(sdsock_read(c, &m), -EAGAIN);

	/* more than a batch, with a hello, a gap, a status and an err among
	 * the records, one of them on the batch's boundary */
	server_hello(&m, PROTO_VERSION);
	peer_send(peer, &m);
	send_recs(peer, 6, 5 + SDSOCK_BATCH - 2);
	memset(&m, 0, sizeof(m));
	m.op = PROTO_OP_GAP;
	m.u.gap.from = 5 + SDSOCK_BATCH - 1;
	m.u.gap.to = 5 + SDSOCK_BATCH + 3;
	peer_send(peer, &m);	/* the batch's last slot */
	send_recs(peer, 5 + SDSOCK_BATCH + 4, 5 + SDSOCK_BATCH + 6);
	memset(&m, 0, sizeof(m));
	m.op = PROTO_OP_STATUS;
	m.u.status.last_seq = 99;
	peer_send(peer, &m);
	memset(&m, 0, sizeof(m));
	m.op = PROTO_OP_ERR;
	m.u.err.code = 7;
	snprintf(m.u.err.msg, sizeof(m.u.err.msg), "last");
	peer_send(peer, &m);

	assert_int_equal(sdsock_read(c, &m), 0);
	assert_int_equal(m.op, PROTO_OP_HELLO);
	assert_int_equal(m.u.hello_s.last_seq, 10);
	for (uint64_t q = 6; q <= 5 + SDSOCK_BATCH - 2; q++)
		expect_rec(c, q);
	assert_int_equal(sdsock_read(c, &m), 0);
	assert_int_equal(m.op, PROTO_OP_GAP);
	assert_int_equal(m.u.gap.from, 5 + SDSOCK_BATCH - 1);
	assert_int_equal(m.u.gap.to, 5 + SDSOCK_BATCH + 3);
	assert_false(sdsock_pending(c));	/* that was the batch's last */
	for (uint64_t q = 5 + SDSOCK_BATCH + 4; q <= 5 + SDSOCK_BATCH + 6; q++)
		expect_rec(c, q);
	assert_int_equal(sdsock_read(c, &m), 0);
	assert_int_equal(m.op, PROTO_OP_STATUS);
	assert_int_equal(m.u.status.last_seq, 99);
	assert_int_equal(sdsock_wait(c, 1000, &m), 0);
	assert_int_equal(m.op, PROTO_OP_ERR);
	assert_string_equal(m.u.err.msg, "last");
	assert_int_equal(sdsock_read(c, &m), -EAGAIN);
	sdsock_close(c);
	close(peer);
}

/* Record seq encoded into out, then padded with an unknown key (which the
 * decoder skips) to exactly len bytes. */
static void
padded_rec(uint64_t seq, uint8_t *out, size_t len)
{
	struct proto_msg m;
	size_t n, pad;

	rec_msg(&m, seq);
	assert_int_equal(proto_encode(&m, PROTO_SERVER, out, len, &n), 0);
	/* the record is a map16: one key more */
	assert_int_equal(out[0], 0xde);
	out[2]++;
	assert_true(out[2] != 0);
	out[n++] = 0xa3;	/* "pad" */
	memcpy(out + n, "pad", 3);
	n += 3;
	pad = len - n - 5;
	out[n++] = 0xdb;	/* str32 */
	out[n++] = (uint8_t)(pad >> 24);
	out[n++] = (uint8_t)(pad >> 16);
	out[n++] = (uint8_t)(pad >> 8);
	out[n++] = (uint8_t)pad;
	memset(out + n, 'p', pad);
	assert_int_equal(n + pad, len);
}

/* Every slot holds a whole PROTO_MAX_MSG: a message of the largest size
 * among small ones arrives intact; one over it is refused in its place and
 * the messages after it still come. */
static void
test_batch_full_size(void **state)
{
	static uint8_t big[PROTO_MAX_MSG + 1];
	struct proto_msg m;
	size_t len = 0;
	int peer;
	struct sdsock *c = pair_client(&peer);

	(void)state;
	send_recs(peer, 1, 2);
	padded_rec(3, big, PROTO_MAX_MSG);
	assert_int_equal(send(peer, big, PROTO_MAX_MSG, 0), PROTO_MAX_MSG);
	send_recs(peer, 4, 4);
	memset(big, 0x80, sizeof(big));
	assert_int_equal(send(peer, big, sizeof(big), 0), (ssize_t)sizeof(big));
	send_recs(peer, 5, 6);

	for (uint64_t q = 1; q <= 4; q++)
		expect_rec(c, q);
	assert_int_equal(sdsock_read(c, &m), -EMSGSIZE);
	assert_string_equal(sdsock_why(c, &len), "message over 65536 bytes");
	assert_int_equal(len, PROTO_MAX_MSG + 1);
	/* sent while the slots still hold 6: it lands after it */
	padded_rec(7, big, PROTO_MAX_MSG);
	assert_int_equal(send(peer, big, PROTO_MAX_MSG, 0), PROTO_MAX_MSG);
	for (uint64_t q = 5; q <= 7; q++)
		expect_rec(c, q);
	assert_string_equal(sdsock_why(c, &len), "");
	assert_int_equal(sdsock_read(c, &m), -EAGAIN);
	sdsock_close(c);
	close(peer);
}

/* A server that closes after a burst: the burst, then the end; also when
 * the close left the client's ack unread (ECONNRESET before the burst). */
static void
test_batch_peer_closes(void **state)
{
	struct proto_msg m;
	int peer;
	struct sdsock *c = pair_client(&peer);

	(void)state;
	send_recs(peer, 1, 3);
	close(peer);
	for (uint64_t q = 1; q <= 3; q++)
		expect_rec(c, q);
	assert_int_equal(sdsock_read(c, &m), -ECONNRESET);
	assert_int_equal(sdsock_read(c, &m), -ECONNRESET);
	sdsock_close(c);

	c = pair_client(&peer);
	send_recs(peer, 1, SDSOCK_BATCH + 3);
	assert_int_equal(sdsock_ack(c, 1), 0);	/* left unread */
	close(peer);
	for (uint64_t q = 1; q <= SDSOCK_BATCH + 3; q++)
		expect_rec(c, q);
	assert_int_equal(sdsock_read(c, &m), -ECONNRESET);
	assert_int_equal(sdsock_wait(c, 1000, &m), -ECONNRESET);
	sdsock_close(c);
}

/* Giving the slots back never loses a message still to hand out. */
static void
test_batch_trim(void **state)
{
	struct proto_msg m;
	int peer;
	struct sdsock *c = pair_client(&peer);

	(void)state;
	send_recs(peer, 1, 4);
	expect_rec(c, 1);
	sdsock_trim(c);
	for (uint64_t q = 2; q <= 4; q++)
		expect_rec(c, q);
	sdsock_trim(c);
	assert_int_equal(sdsock_read(c, &m), -EAGAIN);
	send_recs(peer, 5, 6);
	expect_rec(c, 5);
	expect_rec(c, 6);
	sdsock_close(c);
	close(peer);
}

/* Records from..to encoded back to back into out: what sensord sends a
 * client that packs. Returns the length. */
static size_t
pack_recs(uint8_t *out, size_t cap, uint64_t from, uint64_t to)
{
	struct proto_msg m;
	size_t len = 0, n;

	for (uint64_t q = from; q <= to; q++) {
		rec_msg(&m, q);
		assert_int_equal(proto_encode(&m, PROTO_SERVER, out + len, cap - len, &n), 0);
		len += n;
	}
	return len;
}

/* The client's hello asks for packs, and it hands a pack's records out one
 * at a time, in order with the single messages around it, even across
 * trims; a pack with anything but records in it, or with a cut record at
 * its end, is refused after the whole records before the bad one. */
static void
test_packed(void **state)
{
	static uint8_t buf[PROTO_PACK_MAX];
	struct proto_msg m;
	size_t len, why_len;
	int peer;
	struct sdsock *c = pair_client(&peer);

	(void)state;
	assert_int_equal(sdsock_hello(c, "streamerd"), 0);
	m = peer_recv(peer);
	assert_true(m.u.hello_c.pack);

	send_recs(peer, 1, 1);
	len = pack_recs(buf, sizeof(buf), 2, 4);
	assert_int_equal(send(peer, buf, len, 0), (ssize_t)len);
	memset(&m, 0, sizeof(m));
	m.op = PROTO_OP_GAP;
	m.u.gap.from = 5;
	m.u.gap.to = 6;
	peer_send(peer, &m);
	len = pack_recs(buf, sizeof(buf), 7, 8);
	assert_int_equal(send(peer, buf, len, 0), (ssize_t)len);
	expect_rec(c, 1);
	expect_rec(c, 2);
	assert_true(sdsock_pending(c));
	sdsock_trim(c);		/* 3 and 4 are still to hand out */
	expect_rec(c, 3);
	expect_rec(c, 4);
	assert_int_equal(sdsock_read(c, &m), 0);
	assert_int_equal(m.op, PROTO_OP_GAP);
	expect_rec(c, 7);
	assert_true(sdsock_pending(c));
	expect_rec(c, 8);
	assert_false(sdsock_pending(c));
	assert_int_equal(sdsock_read(c, &m), -EAGAIN);

	/* a gap inside a pack: the record before it, then a refusal */
	len = pack_recs(buf, sizeof(buf), 9, 9);
	memset(&m, 0, sizeof(m));
	m.op = PROTO_OP_GAP;
	m.u.gap.from = 10;
	m.u.gap.to = 10;
	assert_int_equal(proto_encode(&m, PROTO_SERVER, buf + len, sizeof(buf) - len, &why_len),
	    0);
	len += why_len;
	assert_int_equal(send(peer, buf, len, 0), (ssize_t)len);
	expect_rec(c, 9);
	memset(&m, 0xa5, sizeof(m));
	assert_int_equal(sdsock_read(c, &m), -EBADMSG);
	assert_int_equal(((uint8_t *)&m)[0], 0xa5);	/* untouched */
	assert_non_null(strstr(sdsock_why(c, &why_len), "\"gap\" packed with records"));
	assert_int_equal(why_len, len);
	assert_false(sdsock_pending(c));

	/* a pack whose last record is cut */
	len = pack_recs(buf, sizeof(buf), 11, 13);
	assert_int_equal(send(peer, buf, len - 5, 0), (ssize_t)(len - 5));
	expect_rec(c, 11);
	expect_rec(c, 12);
	assert_int_equal(sdsock_read(c, &m), -EBADMSG);
	assert_false(sdsock_pending(c));
	assert_int_equal(sdsock_read(c, &m), -EAGAIN);
	sdsock_close(c);
	close(peer);
}

static void
test_eagain(void **state)
{
	struct proto_msg m = { .op = PROTO_OP_ACK };
	int64_t t0;
	int peer, r, n = 0;
	struct sdsock *c = pair_client(&peer);

	(void)state;
	assert_int_equal(sdsock_read(c, &m), -EAGAIN);
	assert_int_equal(m.op, PROTO_OP_ACK);
	assert_int_equal(sdsock_wait(c, 0, &m), -ETIMEDOUT);
	t0 = clock_mono_ns();
	assert_int_equal(sdsock_wait(c, 60, &m), -ETIMEDOUT);
	assert_true(clock_mono_ns() - t0 >= 60 * NS_PER_MS);
	assert_int_equal(sdsock_recv_msg(peer, pbuf, PROTO_CLIENT, &m, NULL, NULL, 0), -EAGAIN);

	/* a server that does not read: sends fail with -EAGAIN, never block */
	while ((r = sdsock_ack(c, (uint64_t)n + 1)) == 0)
		assert_true(++n < 1000000);
	assert_int_equal(r, -EAGAIN);
	assert_true(n > 0);
	/* it reads one: room again, and nothing was lost or reordered */
	assert_int_equal(peer_recv(peer).u.ack.seq, 1);
	assert_int_equal(sdsock_ack(c, (uint64_t)n + 1), 0);
	for (int i = 2; i <= n + 1; i++)
		assert_int_equal(peer_recv(peer).u.ack.seq, (uint64_t)i);
	assert_int_equal(sdsock_recv_msg(peer, pbuf, PROTO_CLIENT, &m, NULL, NULL, 0), -EAGAIN);
	sdsock_close(c);
	close(peer);
}

/* ------------------------------------------------------------ connect */

static int
setup_dir(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/test_sdsock.XXXXXX");
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/s.sock", dir);
	return 0;
}

static int
teardown_dir(void **state)
{
	(void)state;
	(void)unlink(path);
	assert_int_equal(rmdir(dir), 0);
	return 0;
}

static int
listener(int backlog)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);

	assert_true(fd >= 0);
	memcpy(sa.sun_path, path, strlen(path) + 1);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	if (backlog >= 0)
		assert_int_equal(listen(fd, backlog), 0);
	return fd;
}

static void
assert_nonblock_cloexec(const struct sdsock *c)
{
	assert_true(fcntl(sdsock_fd(c), F_GETFL) & O_NONBLOCK);
	assert_true(fcntl(sdsock_fd(c), F_GETFD) & FD_CLOEXEC);
}

static void
test_connect_errors(void **state)
{
	char longpath[200];
	struct sdsock *c = NULL;
	int ls;

	(void)state;
	memset(longpath, 'p', sizeof(longpath) - 1);
	longpath[sizeof(longpath) - 1] = '\0';
	assert_int_equal(sdsock_connect(longpath, SDSOCK_ANY_SERVER, 0, &c), -ENAMETOOLONG);
	assert_int_equal(sdsock_connect(path, SDSOCK_ANY_SERVER, 0, &c), -ENOENT);
	assert_int_equal(sdsock_connect(path, SDSOCK_ANY_SERVER, 500, &c), -ENOENT);
	ls = listener(-1);	/* bound, nobody listens: a stale socket */
	assert_int_equal(sdsock_connect(path, SDSOCK_ANY_SERVER, 0, &c), -ECONNREFUSED);
	assert_null(c);
	close(ls);
}

/* The listener's credentials are checked: a socket served by someone other
 * than the expected user (or root) is refused before a byte is read. The
 * kernel records the server's effective uid at listen(), so a root test
 * plays the other user with seteuid around listen alone. */
static void
test_server_checked(void **state)
{
	uid_t me = geteuid(), other = me == 0 ? 65534 : me;
	struct sdsock *c = NULL;
	int ls;

	(void)state;
	ls = listener(-1);
	if (me == 0)
		assert_int_equal(seteuid(other), 0);
	assert_int_equal(listen(ls, 4), 0);
	if (me == 0)
		assert_int_equal(seteuid(0), 0);
	assert_int_equal(sdsock_connect(path, other + 1, 0, &c), -ESRCH);
	assert_null(c);
	assert_non_null(strstr(sdsock_strerror(-ESRCH), "not trusted"));
	assert_int_equal(sdsock_connect(path, other, 0, &c), 0);
	sdsock_close(c);
	assert_int_equal(sdsock_connect(path, SDSOCK_ANY_SERVER, 0, &c), 0);
	sdsock_close(c);
	close(ls);
	if (me != 0)
		return;
	/* root serving is trusted whoever was expected */
	assert_int_equal(unlink(path), 0);
	ls = listener(4);
	assert_int_equal(sdsock_connect(path, 4242, 0, &c), 0);
	sdsock_close(c);
	close(ls);
}

static void
test_connect_backlog(void **state)
{
	struct sdsock *a, *b, *c = NULL;
	int64_t t0;
	int ls, fd;

	(void)state;
	/* backlog 0 holds one connection nobody accepted; the next finds it full */
	ls = listener(0);
	assert_int_equal(sdsock_connect(path, SDSOCK_ANY_SERVER, 0, &a), 0);
	assert_nonblock_cloexec(a);
	assert_int_equal(sdsock_connect(path, SDSOCK_ANY_SERVER, 0, &c), -EAGAIN);
	t0 = clock_mono_ns();
	assert_int_equal(sdsock_connect(path, SDSOCK_ANY_SERVER, 80, &c), -ETIMEDOUT);
	assert_true(clock_mono_ns() - t0 >= 70 * NS_PER_MS);
	assert_null(c);
	/* room again once the server accepts */
	fd = accept4(ls, NULL, NULL, SOCK_CLOEXEC);
	assert_true(fd >= 0);
	assert_int_equal(sdsock_connect(path, SDSOCK_ANY_SERVER, 80, &b), 0);
	assert_nonblock_cloexec(b);
	/* a waiting connect still does not make a waiting read */
	{
		struct proto_msg m;

		assert_int_equal(sdsock_read(b, &m), -EAGAIN);
	}
	sdsock_close(a);
	sdsock_close(b);
	close(fd);
	close(ls);
}

/* The server's side of sdsock_open, played from a SIGALRM handler while the
 * client waits: neither a thread nor a fork survives qemu-user (make
 * check-cross runs this test under it), and a signal landing in
 * sdsock_wait's poll deserves a test of its own. */
static struct {
	int ls, fd;
	uint8_t reply[256], hello[256];
	size_t reply_len;
	ssize_t hello_len;
} sv;

static void
arm(void)
{
	struct itimerval it = { { 0, 0 }, { 0, 20000 } };

	assert_int_equal(setitimer(ITIMER_REAL, &it, NULL), 0);
}

static void
on_alarm(int sig)
{
	struct itimerval again = { { 0, 0 }, { 0, 20000 } };
	int e = errno;

	(void)sig;
	if (sv.fd < 0)
		sv.fd = accept4(sv.ls, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
	if (sv.fd >= 0 && sv.hello_len <= 0)
		sv.hello_len = recv(sv.fd, sv.hello, sizeof(sv.hello), MSG_DONTWAIT);
	if (sv.hello_len > 0)
		(void)send(sv.fd, sv.reply, sv.reply_len, MSG_DONTWAIT | MSG_NOSIGNAL);
	else
		(void)setitimer(ITIMER_REAL, &again, NULL);	/* not there yet */
	errno = e;
}

/* Listens; answers the hello with reply (NULL: stays silent). */
static void
serve(const struct proto_msg *reply)
{
	struct sigaction sa = { .sa_handler = on_alarm, .sa_flags = SA_RESTART };

	sv.ls = listener(4);
	assert_int_equal(fcntl(sv.ls, F_SETFL, O_NONBLOCK), 0);
	sv.fd = -1;
	sv.hello_len = 0;
	if (reply == NULL)
		return;
	assert_int_equal(proto_encode(reply, PROTO_SERVER, sv.reply, sizeof(sv.reply),
	    &sv.reply_len), 0);
	assert_int_equal(sigaction(SIGALRM, &sa, NULL), 0);
	arm();
}

/* The client said hello as "unit" and has closed its end since. */
static void
served(void)
{
	struct proto_msg m;

	signal(SIGALRM, SIG_IGN);
	assert_true(sv.hello_len > 0);
	assert_int_equal(proto_decode(sv.hello, (size_t)sv.hello_len, PROTO_CLIENT, &m, NULL,
	    0), 0);
	assert_int_equal(m.op, PROTO_OP_HELLO);
	assert_string_equal(m.u.hello_c.name, "unit");
	assert_int_equal(recv(sv.fd, sv.hello, sizeof(sv.hello), MSG_DONTWAIT), 0);
	close(sv.fd);
	close(sv.ls);
	assert_int_equal(unlink(path), 0);
}

static void
test_open(void **state)
{
	struct proto_msg hello, err = { .op = PROTO_OP_ERR };
	struct sdsock *c = NULL;

	(void)state;
	server_hello(&hello, PROTO_VERSION);
	serve(&hello);
	memset(&hello, 0, sizeof(hello));
	assert_int_equal(sdsock_open(path, SDSOCK_ANY_SERVER, "unit", 5000, &c, &hello), 0);
	assert_int_equal(hello.op, PROTO_OP_HELLO);
	assert_string_equal(hello.u.hello_s.device, "pi-attic");
	assert_nonblock_cloexec(c);
	sdsock_close(c);
	served();

	c = NULL;
	err.u.err.code = PROTO_ERR_BUSY;
	serve(&err);
	assert_int_equal(sdsock_open(path, SDSOCK_ANY_SERVER, "unit", 5000, &c, &hello), -EPROTO);
	assert_null(c);		/* and closed: served() sees the end */
	served();

	serve(NULL);
	assert_int_equal(sdsock_open(path, SDSOCK_ANY_SERVER, "unit", 100, &c, NULL), -ETIMEDOUT);
	assert_null(c);
	close(sv.ls);
	assert_int_equal(unlink(path), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hello),
		cmocka_unit_test(test_hello_other_version),
		cmocka_unit_test(test_subscribe_variants),
		cmocka_unit_test(test_ack_status_gap_err),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_oversize),
		cmocka_unit_test(test_peer_closes),
		cmocka_unit_test(test_err_before_reset),
		cmocka_unit_test(test_eagain),
		cmocka_unit_test(test_batch_order),
		cmocka_unit_test(test_batch_full_size),
		cmocka_unit_test(test_batch_peer_closes),
		cmocka_unit_test(test_batch_trim),
		cmocka_unit_test(test_packed),
		cmocka_unit_test_setup_teardown(test_connect_errors, setup_dir, teardown_dir),
		cmocka_unit_test_setup_teardown(test_server_checked, setup_dir, teardown_dir),
		cmocka_unit_test_setup_teardown(test_connect_backlog, setup_dir, teardown_dir),
		cmocka_unit_test_setup_teardown(test_open, setup_dir, teardown_dir),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
