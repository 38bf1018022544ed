/*
 * sub: the sensord client connection. SOCK_SEQPACKET keeps message
 * boundaries, so each recv is exactly one message of at most PROTO_MAX_MSG
 * bytes; a truncated datagram (MSG_TRUNC) is a protocol violation.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "sub.h"

struct sub {
	int fd;
	unsigned char buf[PROTO_MAX_MSG + 1];
};

static int
send_msg(struct sub *s, const struct proto_msg *m)
{
	unsigned char out[512];
	size_t len;
	int r;

	if ((r = proto_encode(m, PROTO_CLIENT, out, sizeof(out), &len)) < 0)
		return r;
	if (send(s->fd, out, len, MSG_NOSIGNAL | MSG_DONTWAIT) < 0)
		return errno == EWOULDBLOCK ? -EAGAIN : -errno;
	return 0;
}

int
sub_connect(const char *path, struct sub **ret)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct proto_msg hello = { .op = PROTO_OP_HELLO };
	struct sub *s;
	int r;

	if (strlen(path) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	memcpy(sa.sun_path, path, strlen(path) + 1);
	if ((s = malloc(sizeof(*s))) == NULL)
		return -ENOMEM;
	s->fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (s->fd < 0) {
		r = -errno;
		free(s);
		return r;
	}
	if (connect(s->fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		r = errno == EAGAIN ? -ECONNREFUSED : -errno;
		goto fail;
	}
	hello.u.hello_c.v = PROTO_VERSION;
	snprintf(hello.u.hello_c.name, sizeof(hello.u.hello_c.name), "streamerd");
	if ((r = send_msg(s, &hello)) < 0)
		goto fail;
	*ret = s;
	return 0;
fail:
	close(s->fd);
	free(s);
	return r;
}

void
sub_close(struct sub *s)
{
	if (s == NULL)
		return;
	close(s->fd);
	free(s);
}

int
sub_fd(const struct sub *s)
{
	return s->fd;
}

int
sub_read(struct sub *s, struct proto_msg *ret)
{
	ssize_t n = recv(s->fd, s->buf, sizeof(s->buf), MSG_DONTWAIT | MSG_TRUNC);

	if (n < 0)
		return errno == EWOULDBLOCK || errno == EINTR ? -EAGAIN : -errno;
	if (n == 0)
		return -ECONNRESET;
	if ((size_t)n > PROTO_MAX_MSG)
		return -EBADMSG;
	return proto_decode(s->buf, (size_t)n, PROTO_SERVER, ret, NULL, 0) < 0 ? -EBADMSG : 0;
}

int
sub_subscribe(struct sub *s, bool from_oldest, uint64_t seq)
{
	struct proto_msg m = { .op = PROTO_OP_SUBSCRIBE };

	m.u.subscribe.from = from_oldest ? PROTO_FROM_OLDEST : PROTO_FROM_SEQ;
	m.u.subscribe.seq = seq;
	return send_msg(s, &m);
}

int
sub_ack(struct sub *s, uint64_t seq)
{
	struct proto_msg m = { .op = PROTO_OP_ACK };

	m.u.ack.seq = seq;
	return send_msg(s, &m);
}
