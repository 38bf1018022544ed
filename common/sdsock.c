/* SPDX-License-Identifier: Apache-2.0 */
/*
 * sdsock: SOCK_SEQPACKET keeps message boundaries, so one send is one
 * message and one recv is exactly one message. recv is asked with
 * MSG_TRUNC, which makes it return the message's real size: anything over
 * PROTO_MAX_MSG is refused by size before a byte of it is decoded.
 *
 * The client connects with a non-blocking socket; a caller that will wait
 * for room in the server's backlog gets a blocking connect bounded by
 * SO_SNDTIMEO (a Unix socket's connect has no "in progress" state to poll
 * for), and the socket is made non-blocking right after.
 *
 * The client receives up to SDSOCK_BATCH messages per recvmmsg and hands
 * them out one at a time: on a drain the syscall, not the record, was the
 * largest single cost of a row. Its hello asks sensord to pack consecutive
 * records into one message (up to PROTO_PACK_MAX), and it hands those out
 * one at a time too: the kernel's cost is per message, not per byte.
 * Every slot is a whole PROTO_MAX_MSG, so a message is never cut by the
 * batching (MSG_TRUNC still reports the real size of one over the limit,
 * refused as before). The slots live in one anonymous mapping: the kernel
 * writes only each message's bytes, so a record of about 1 KiB makes one
 * page of its slot resident and a pack of 16 KiB four (huge pages are
 * declined for it).
 *
 * Who serves the socket is checked before anything is read from it:
 * SO_PEERCRED on a connected client socket gives the credentials the
 * server had when it called listen(), which a process that merely bound
 * the path cannot fake. root is accepted besides the expected user
 * because sensord started as root listens before it drops privileges.
 */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include "clock.h"
#include "sdsock.h"

/* Every struct proto_msg encodes in less: the largest, a record with every
 * string full, is about 1.1 KiB (tests/unit/common/test_sdsock.c sends one);
 * one that did not fit would be -EMSGSIZE, never a cut message. */
#define SEND_MAX 4096

#define ARENA_BYTES ((size_t)SDSOCK_BATCH * PROTO_MAX_MSG)

struct sdsock {
	int fd;
	size_t why_len;
	char why[160];
	uint8_t *arena;			/* SDSOCK_BATCH slots of PROTO_MAX_MSG (mmap) */
	unsigned next, count;		/* the slot handed out next, of those filled */
	size_t off;			/* where in it the next record starts (a pack) */
	struct proto_msg m;		/* decoded here: *ret is untouched on failure */
	struct iovec iov[SDSOCK_BATCH];
	struct mmsghdr hdr[SDSOCK_BATCH];
};

/* ------------------------------------------------------------ one message */

int
sdsock_send_msg(int fd, const struct proto_msg *m, enum proto_side side)
{
	uint8_t out[SEND_MAX];
	size_t len;
	ssize_t n;
	int r;

	if ((r = proto_encode(m, side, out, sizeof(out), &len)) < 0)
		return r;
	do
		n = send(fd, out, len, MSG_DONTWAIT | MSG_NOSIGNAL);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return errno == EWOULDBLOCK ? -EAGAIN : -errno;
	return 0;
}

/* Judges and decodes one received message of n bytes (its real size, as
 * MSG_TRUNC reports it) at buf: sdsock_recv_msg's results after the recv. */
static int
take_msg(const void *buf, size_t n, enum proto_side peer, struct proto_msg *ret,
    size_t *ret_len, char *why, size_t whylen)
{
	if (n == 0)
		return -ECONNRESET;
	if (ret_len)
		*ret_len = n;
	if (n > PROTO_MAX_MSG) {
		if (why && whylen)
			snprintf(why, whylen, "message over %d bytes", PROTO_MAX_MSG);
		return -EMSGSIZE;
	}
	if (why && whylen)
		why[0] = '\0';
	if (proto_decode(buf, n, peer, ret, why, whylen) < 0) {
		if (why && whylen && !why[0])
			snprintf(why, whylen, "undecodable");
		return -EBADMSG;
	}
	return 0;
}

/* recv or recvmmsg (batch) on fd, without blocking and with MSG_TRUNC:
 * what it returned, or -errno. A peer that closed with something of ours
 * unread makes the kernel report ECONNRESET once, before the messages it
 * sent us (a refusal's err among them): those are read still. Within a
 * batch the kernel keeps an error met after the first message for the
 * next call, so the same rule covers a close in mid-batch. */
static ssize_t
recv_some(int fd, void *buf, struct mmsghdr *batch)
{
	ssize_t n;

	for (int resets = 0;; ) {
		n = batch ? recvmmsg(fd, batch, SDSOCK_BATCH, MSG_DONTWAIT | MSG_TRUNC, NULL) :
		    recv(fd, buf, PROTO_MAX_MSG, MSG_DONTWAIT | MSG_TRUNC);
		if (n >= 0)
			return n;
		if (errno == ECONNRESET && resets++ == 0)
			continue;
		if (errno != EINTR)
			return errno == EWOULDBLOCK ? -EAGAIN : -errno;
	}
}

int
sdsock_recv_msg(int fd, void *buf, enum proto_side peer, struct proto_msg *ret,
    size_t *ret_len, char *why, size_t whylen)
{
	ssize_t n = recv_some(fd, buf, NULL);

	return n < 0 ? (int)n : take_msg(buf, (size_t)n, peer, ret, ret_len, why, whylen);
}

/* ------------------------------------------------------------ the client */

static int
set_send_timeout(int fd, int ms)
{
	struct timeval tv = { ms / 1000, (ms % 1000) * 1000 };

	return setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)) < 0 ? -errno : 0;
}

static int
set_nonblock(int fd)
{
	int fl = fcntl(fd, F_GETFL);

	if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0)
		return -errno;
	return 0;
}

/* 0 when the listener on fd is root or want (SDSOCK_ANY_SERVER: anyone). */
static int
check_server(int fd, uid_t want)
{
	struct ucred cr;
	socklen_t len = sizeof(cr);

	if (want == SDSOCK_ANY_SERVER)
		return 0;
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cr, &len) < 0)
		return -errno;
	return cr.uid == 0 || cr.uid == want ? 0 : -ESRCH;
}

/* A connection with no fd yet (-1) and its receive slots: 0 and *ret (new),
 * or -ENOMEM. */
static int
client_new(struct sdsock **ret)
{
	struct sdsock *c = calloc(1, sizeof(*c));

	if (c == NULL)
		return -ENOMEM;
	c->fd = -1;
	c->arena = mmap(NULL, ARENA_BYTES, PROT_READ | PROT_WRITE,
	    MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (c->arena == MAP_FAILED) {
		free(c);
		return -ENOMEM;
	}
	(void)madvise(c->arena, ARENA_BYTES, MADV_NOHUGEPAGE);
	for (size_t i = 0; i < SDSOCK_BATCH; i++) {
		c->iov[i] = (struct iovec){ c->arena + i * PROTO_MAX_MSG, PROTO_MAX_MSG };
		c->hdr[i].msg_hdr = (struct msghdr){ .msg_iov = &c->iov[i], .msg_iovlen = 1 };
	}
	*ret = c;
	return 0;
}

int
sdsock_connect(const char *path, uid_t server_uid, int wait_ms, struct sdsock **ret)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	size_t plen = strlen(path);
	struct sdsock *c;
	int r;

	if (plen >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	memcpy(sa.sun_path, path, plen + 1);
	if ((r = client_new(&c)) < 0)
		return r;
	c->fd = socket(AF_UNIX,
	    SOCK_SEQPACKET | SOCK_CLOEXEC | (wait_ms > 0 ? 0 : SOCK_NONBLOCK), 0);
	if (c->fd < 0) {
		r = -errno;
		goto fail;
	}
	if (wait_ms > 0 && (r = set_send_timeout(c->fd, wait_ms)) < 0)
		goto fail;
	if (connect(c->fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		/* A blocking connect that timed out reports EAGAIN too. */
		r = errno == EAGAIN && wait_ms > 0 ? -ETIMEDOUT : -errno;
		goto fail;
	}
	if ((r = check_server(c->fd, server_uid)) < 0)
		goto fail;
	if (wait_ms > 0 && (r = set_nonblock(c->fd)) < 0)
		goto fail;
	*ret = c;
	return 0;
fail:
	sdsock_close(c);
	return r;
}

void
sdsock_close(struct sdsock *c)
{
	if (c == NULL)
		return;
	if (c->fd >= 0)
		close(c->fd);
	munmap(c->arena, ARENA_BYTES);
	free(c);
}

int
sdsock_fd(const struct sdsock *c)
{
	return c->fd;
}

int
sdsock_hello(struct sdsock *c, const char *name)
{
	struct proto_msg m = { .op = PROTO_OP_HELLO };
	size_t n = strlen(name);

	if (n >= sizeof(m.u.hello_c.name))
		return -ENAMETOOLONG;
	m.u.hello_c.v = PROTO_VERSION;
	m.u.hello_c.pack = true;	/* sdsock_read unpacks */
	memcpy(m.u.hello_c.name, name, n + 1);
	return sdsock_send_msg(c->fd, &m, PROTO_CLIENT);
}

int
sdsock_subscribe(struct sdsock *c, enum proto_from from, uint64_t seq)
{
	struct proto_msg m = { .op = PROTO_OP_SUBSCRIBE };

	m.u.subscribe.from = from;
	m.u.subscribe.seq = from == PROTO_FROM_SEQ ? seq : 0;
	return sdsock_send_msg(c->fd, &m, PROTO_CLIENT);
}

int
sdsock_ack(struct sdsock *c, uint64_t seq)
{
	struct proto_msg m = { .op = PROTO_OP_ACK };

	m.u.ack.seq = seq;
	return sdsock_send_msg(c->fd, &m, PROTO_CLIENT);
}

int
sdsock_ask_status(struct sdsock *c)
{
	struct proto_msg m = { .op = PROTO_OP_STATUS };

	return sdsock_send_msg(c->fd, &m, PROTO_CLIENT);
}

bool
sdsock_pending(const struct sdsock *c)
{
	return c->next < c->count;
}

void
sdsock_trim(struct sdsock *c)
{
	if (!sdsock_pending(c))
		(void)madvise(c->arena, ARENA_BYTES, MADV_DONTNEED);
}

/* The next message of the filled slots into c->m: the slot's one message,
 * or the next record of a pack (several "rec" back to back). A slot is left
 * once its last byte is decoded or anything in it is refused. */
static int
take_next(struct sdsock *c)
{
	const uint8_t *p = c->iov[c->next].iov_base;
	size_t n = c->hdr[c->next].msg_len, used;
	int r;

	if (n == 0 || n > PROTO_MAX_MSG) {
		c->next++;
		return take_msg(p, n, PROTO_SERVER, &c->m, &c->why_len, c->why, sizeof(c->why));
	}
	c->why_len = n;
	r = proto_decode_first(p + c->off, n - c->off, PROTO_SERVER, &c->m, &used, c->why,
	    sizeof(c->why));
	if (r == 0 && (c->off > 0 || used < n) && c->m.op != PROTO_OP_REC) {
		snprintf(c->why, sizeof(c->why), "a \"%s\" packed with records (only records "
		    "may share a message)", proto_op_name(c->m.op));
		r = -EBADMSG;
	}
	if (r < 0) {
		if (!c->why[0])
			snprintf(c->why, sizeof(c->why), "undecodable");
		c->next++;
		c->off = 0;
		return -EBADMSG;
	}
	c->off += used;
	if (c->off == n) {
		c->next++;
		c->off = 0;
	}
	return 0;
}

int
sdsock_read(struct sdsock *c, struct proto_msg *ret)
{
	int r;

	c->why[0] = '\0';
	c->why_len = 0;
	if (!sdsock_pending(c)) {
		ssize_t n = recv_some(c->fd, NULL, c->hdr);

		if (n <= 0)
			return n == 0 ? -EAGAIN : (int)n;
		c->count = (unsigned)n;
		c->next = 0;
		c->off = 0;
	}
	if ((r = take_next(c)) < 0)
		return r;
	if (c->m.op == PROTO_OP_HELLO && c->m.u.hello_s.v != PROTO_VERSION) {
		snprintf(c->why, sizeof(c->why), "the server speaks protocol version %u, "
		    "this client %u", c->m.u.hello_s.v, PROTO_VERSION);
		return -EPROTONOSUPPORT;
	}
	c->why_len = 0;
	*ret = c->m;
	return 0;
}

int
sdsock_wait(struct sdsock *c, int timeout_ms, struct proto_msg *ret)
{
	int64_t end = clock_mono_ns() + (int64_t)timeout_ms * NS_PER_MS;
	struct pollfd p = { .fd = c->fd, .events = POLLIN };
	int r, left = timeout_ms;

	for (;;) {
		if ((r = sdsock_read(c, ret)) != -EAGAIN)
			return r;
		if (timeout_ms >= 0) {
			int64_t ns = end - clock_mono_ns();

			if (ns <= 0)
				return -ETIMEDOUT;
			left = (int)((ns + NS_PER_MS - 1) / NS_PER_MS);
		}
		if (poll(&p, 1, left) < 0 && errno != EINTR)
			return -errno;
	}
}

const char *
sdsock_why(const struct sdsock *c, size_t *ret_len)
{
	if (ret_len)
		*ret_len = c->why_len;
	return c->why;
}

const char *
sdsock_strerror(int err)
{
	if (err == -ESRCH)
		return "the socket is served by another user than sensord's (or root): "
		    "not trusted";
	return strerror(err < 0 ? -err : err);
}

int
sdsock_open(const char *path, uid_t server_uid, const char *name, int timeout_ms,
    struct sdsock **ret, struct proto_msg *ret_hello)
{
	struct sdsock *c;
	struct proto_msg m;
	int r;

	if ((r = sdsock_connect(path, server_uid, timeout_ms, &c)) < 0)
		return r;
	if ((r = sdsock_hello(c, name)) < 0 || (r = sdsock_wait(c, timeout_ms, &m)) < 0)
		goto fail;
	if (m.op != PROTO_OP_HELLO) {
		r = -EPROTO;
		goto fail;
	}
	if (ret_hello)
		*ret_hello = m;
	*ret = c;
	return 0;
fail:
	sdsock_close(c);
	return r;
}

uid_t
sdsock_dir_owner(const char *path)
{
	char copy[PATH_MAX];
	struct stat st;

	if (snprintf(copy, sizeof(copy), "%s", path) >= (int)sizeof(copy) ||
	    stat(dirname(copy), &st) < 0)
		return SDSOCK_ANY_SERVER;
	return st.st_uid;
}
