/*
 * server: one listener plus up to max_clients clients, all non-blocking.
 *
 * Memory per client is fixed: a cursor (one fd and a read buffer) and a
 * small queue of encoded replies (hello, status, gap, err). A client that
 * fills its reply queue is not read from until it drains it (back-pressure
 * instead of growth). Records are copied from the cursor into one shared
 * batch buffer and sent with sendmmsg; whatever the socket did not take is
 * given back to the cursor (journal_cursor_rewind), so nothing per client
 * grows however far behind it is.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "clock.h"
#include "journal.h"
#include "log.h"
#include "sdsock.h"
#include "server.h"

#define CTL_MAX 4		/* queued replies per client; then stop reading it */
#define CTL_SIZE 4096		/* largest reply: a status with every chip */
#define BATCH_MAX 64		/* records per sendmmsg */
#define BATCH_BYTES (256 * 1024)
#define TURN_BUDGET 256	/* records per client per loop turn (fairness) */
#define READ_BUDGET 16		/* messages read per client per turn */
#define ACCEPT_BUDGET 16
#define FD_RESERVE 64		/* fds kept for the journal, logs, metrics */
#define ACCEPT_PAUSE_NS (1000LL * NS_PER_MS)

struct client {
	int fd;
	uid_t uid;
	gid_t gid;
	pid_t pid;
	char name[PROTO_NAME_LEN];
	bool subscribed;
	bool want_out;		/* a send hit EAGAIN (or the budget ran out) */
	uint64_t next;		/* seq the client gets next, for gap detection */
	struct journal_cursor *cur;
	unsigned nctl;
	size_t ctl_len[CTL_MAX];
	uint8_t ctl[CTL_MAX][CTL_SIZE];
};

struct server {
	int fd;
	ino_t ino;
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	struct journal *j;
	server_status_fn *status;
	void *ctx;
	const struct conf_int_list *uids, *gids;
	char device[PROTO_NAME_LEN];
	unsigned cap;
	struct client **clients;
	unsigned nclients;
	int64_t accept_paused_until;
	uint8_t *rbuf;		/* PROTO_MAX_MSG: one incoming message */
	uint8_t *bbuf;		/* BATCH_BYTES: records on their way out */
};

/* ------------------------------------------------------------ socket */

static int
probe_existing(const char *path, char *err, size_t errlen)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct stat st;
	int fd, r;

	if (lstat(path, &st) < 0)
		return errno == ENOENT ? 0 : -errno;
	if (!S_ISSOCK(st.st_mode)) {
		snprintf(err, errlen, "%s exists and is not a socket", path);
		return -EEXIST;
	}
	memcpy(sa.sun_path, path, strlen(path) + 1);
	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	r = connect(fd, (struct sockaddr *)&sa, sizeof(sa));
	close(fd);
	if (r == 0 || errno == EAGAIN) {
		snprintf(err, errlen, "another sensord answers on %s", path);
		return -EADDRINUSE;
	}
	if (errno != ECONNREFUSED)
		return -errno;
	if (unlink(path) < 0)
		return -errno;
	log_info("removed stale socket %s", path);
	return 0;
}

static int
listen_on(struct server *s, const struct server_conf *c, char *err, size_t errlen)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct stat st;
	mode_t old;
	int r;

	if (strlen(c->path) >= sizeof(sa.sun_path)) {
		snprintf(err, errlen, "socket path is too long (%zu bytes, at most %zu): %.64s...",
		    strlen(c->path), sizeof(sa.sun_path) - 1, c->path);
		return -ENAMETOOLONG;
	}
	memcpy(sa.sun_path, c->path, strlen(c->path) + 1);
	memcpy(s->path, c->path, strlen(c->path) + 1);
	r = probe_existing(c->path, err, errlen);
	if (r < 0) {
		if (!*err)
			snprintf(err, errlen, "%s: %s", c->path, strerror(-r));
		return r;
	}
	s->fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (s->fd < 0)
		goto fail;
	/* No moment in which the socket is reachable with looser permissions. */
	old = umask(0177);
	r = bind(s->fd, (struct sockaddr *)&sa, sizeof(sa));
	umask(old);
	if (r < 0)
		goto fail;
	if (stat(c->path, &st) < 0)
		goto fail;
	s->ino = st.st_ino;
	if ((c->uid != (uid_t)-1 || c->gid != (gid_t)-1) && chown(c->path, c->uid, c->gid) < 0)
		goto fail;
	if (chmod(c->path, c->mode) < 0)
		goto fail;
	if (listen(s->fd, 64) < 0)
		goto fail;
	return 0;
fail:
	r = -errno;
	snprintf(err, errlen, "cannot listen on %s: %s", c->path, strerror(errno));
	return r;
}

static unsigned
client_cap(unsigned want)
{
	struct rlimit rl;
	rlim_t room;

	/* Each client holds its socket and one journal segment open. */
	if (getrlimit(RLIMIT_NOFILE, &rl) < 0 || rl.rlim_cur == RLIM_INFINITY)
		return want;
	room = rl.rlim_cur > FD_RESERVE ? (rl.rlim_cur - FD_RESERVE) / 2 : 1;
	return room < want ? (unsigned)room : want;
}

int
server_new(const struct server_conf *conf, struct journal *j,
    server_status_fn *status, void *ctx, struct server **ret, char *err, size_t errlen)
{
	struct server *s;
	int r;

	err[0] = '\0';
	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->fd = -1;
	s->j = j;
	s->status = status;
	s->ctx = ctx;
	s->uids = conf->uids;
	s->gids = conf->gids;
	snprintf(s->device, sizeof(s->device), "%s", conf->device);
	s->cap = client_cap(conf->max_clients);
	s->clients = calloc(s->cap, sizeof(*s->clients));
	s->rbuf = malloc(PROTO_MAX_MSG);
	s->bbuf = malloc(BATCH_BYTES);
	if (!s->clients || !s->rbuf || !s->bbuf) {
		r = -ENOMEM;
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	r = listen_on(s, conf, err, errlen);
	if (r < 0)
		goto fail;
	if (s->cap < conf->max_clients)
		log_warnx("RLIMIT_NOFILE allows only %u clients (max_clients %u)", s->cap,
		    conf->max_clients);
	*ret = s;
	return 0;
fail:
	if (s->fd >= 0 && s->ino)
		(void)unlink(s->path);
	s->ino = 0;
	server_free(s);
	return r;
}

/* ------------------------------------------------------------ clients */

static void
client_close(struct server *s, unsigned i)
{
	struct client *c = s->clients[i];

	journal_cursor_free(c->cur);
	close(c->fd);
	free(c);
	s->clients[i] = s->clients[--s->nclients];
	s->clients[s->nclients] = NULL;
}

void
server_free(struct server *s)
{
	struct stat st;

	if (!s)
		return;
	while (s->nclients)
		client_close(s, s->nclients - 1);
	if (s->fd >= 0) {
		/* Remove only our own socket, never a successor's. */
		if (s->ino && stat(s->path, &st) == 0 && st.st_ino == s->ino &&
		    unlink(s->path) < 0)
			log_warn("cannot remove %s", s->path);
		close(s->fd);
	}
	free(s->clients);
	free(s->rbuf);
	free(s->bbuf);
	free(s);
}

/* Sends an err now, dropping it when the socket is full: only for a
 * farewell before closing. */
static void
send_err_now(int fd, enum proto_err code, const char *msg)
{
	struct proto_msg m = { .op = PROTO_OP_ERR };

	m.u.err.code = code;
	snprintf(m.u.err.msg, sizeof(m.u.err.msg), "%s", msg);
	(void)sdsock_send_msg(fd, &m, PROTO_SERVER);
}

/* Queues a reply. -ENOBUFS when the queue is full (the caller stops reading
 * that client, so this only happens on our own bug). */
static int
ctl_push(struct client *c, const struct proto_msg *m)
{
	int r;

	if (c->nctl == CTL_MAX)
		return -ENOBUFS;
	r = proto_encode(m, PROTO_SERVER, c->ctl[c->nctl], CTL_SIZE, &c->ctl_len[c->nctl]);
	if (r < 0)
		return r;
	c->nctl++;
	return 0;
}

/* 0: queue empty; 1: the socket is full; -errno: the client is gone. */
static int
ctl_flush(struct client *c)
{
	while (c->nctl) {
		ssize_t n = send(c->fd, c->ctl[0], c->ctl_len[0], MSG_DONTWAIT | MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return errno == EAGAIN ? 1 : -errno;
		memmove(c->ctl[0], c->ctl[1], (c->nctl - 1) * CTL_SIZE);
		memmove(c->ctl_len, c->ctl_len + 1, (c->nctl - 1) * sizeof(size_t));
		c->nctl--;
	}
	return 0;
}

struct batch {
	struct mmsghdr msgs[BATCH_MAX];
	struct iovec iov[BATCH_MAX];
	struct journal_entry marks[BATCH_MAX];
	unsigned n;
	size_t used;
};

/* Copies records from the cursor into b; 1 when the cursor has more. */
static int
batch_fill(struct server *s, struct client *c, struct batch *b, unsigned budget)
{
	struct journal_entry e;
	struct proto_msg gap = { .op = PROTO_OP_GAP };
	uint64_t expect = c->next;
	int r;

	b->n = 0;
	b->used = 0;
	while (b->n < BATCH_MAX && b->n < budget) {
		r = journal_cursor_next(c->cur, &e);
		if (r == -EAGAIN)
			return 0;
		if (r < 0)
			return r;
		if (b->used + e.len > BATCH_BYTES || (e.seq > expect && b->n > 0) ||
		    (e.seq > expect && c->nctl == CTL_MAX)) {
			(void)journal_cursor_rewind(c->cur, &e);
			return 1;
		}
		if (e.seq > expect) {
			/* Records the client asked for that retention dropped. */
			gap.u.gap.from = c->next;
			gap.u.gap.to = e.seq - 1;
			(void)ctl_push(c, &gap);
			log_info("client uid=%u pid=%d: gap %" PRIu64 "..%" PRIu64, c->uid,
			    (int)c->pid, gap.u.gap.from, gap.u.gap.to);
			c->next = e.seq;
			(void)journal_cursor_rewind(c->cur, &e);
			return 1;	/* the gap goes out before the record */
		}
		memcpy(s->bbuf + b->used, e.data, e.len);
		b->iov[b->n].iov_base = s->bbuf + b->used;
		b->iov[b->n].iov_len = e.len;
		memset(&b->msgs[b->n], 0, sizeof(b->msgs[b->n]));
		b->msgs[b->n].msg_hdr.msg_iov = &b->iov[b->n];
		b->msgs[b->n].msg_hdr.msg_iovlen = 1;
		b->marks[b->n] = e;
		b->used += e.len;
		b->n++;
		expect = e.seq + 1;
	}
	return 1;
}

/* Sends what the client is owed until its socket is full, it is caught
 * up, or its share of this turn is used. 0, or -errno: close it. */
static int
client_feed(struct server *s, struct client *c)
{
	unsigned budget = TURN_BUDGET;
	struct batch b;
	int more, r;

	c->want_out = false;
	for (;;) {
		r = ctl_flush(c);
		if (r != 0) {
			c->want_out = r > 0;
			return r > 0 ? 0 : r;
		}
		if (!c->subscribed)
			return 0;
		if (budget == 0) {
			c->want_out = true;	/* come back next turn */
			return 0;
		}
		more = batch_fill(s, c, &b, budget);
		if (more < 0) {
			log_warnx("client uid=%u pid=%d: journal read failed: %s", c->uid,
			    (int)c->pid, strerror(-more));
			return more;
		}
		if (b.n == 0 && !more)
			return 0;	/* caught up: server_wake brings it more */
		if (b.n == 0)
			continue;	/* a gap was queued */
		r = sendmmsg(c->fd, b.msgs, b.n, MSG_DONTWAIT | MSG_NOSIGNAL);
		if (r < 0 && errno != EAGAIN && errno != EINTR)
			return -errno;
		if (r < 0)
			r = 0;
		if (r > 0)
			c->next = b.marks[r - 1].seq + 1;
		budget -= (unsigned)r;
		if ((unsigned)r < b.n) {
			(void)journal_cursor_rewind(c->cur, &b.marks[r]);
			c->want_out = true;
			return 0;
		}
		if (!more)
			return 0;
	}
}

static void
fill_hello(struct server *s, struct proto_msg *m)
{
	struct journal_stats st;

	journal_stats(s->j, &st);
	m->op = PROTO_OP_HELLO;
	m->u.hello_s.v = PROTO_VERSION;
	m->u.hello_s.journal_id = st.journal_id;
	m->u.hello_s.first_seq = st.first_seq;
	m->u.hello_s.last_seq = st.last_seq;
	snprintf(m->u.hello_s.device, sizeof(m->u.hello_s.device), "%s", s->device);
}

static int
do_subscribe(struct server *s, struct client *c, const struct proto_msg *m)
{
	struct journal_stats st;
	uint64_t from;
	int r;

	journal_stats(s->j, &st);
	switch (m->u.subscribe.from) {
	case PROTO_FROM_OLDEST:
		from = st.first_seq ? st.first_seq : st.next_seq;
		break;
	case PROTO_FROM_NOW:
		from = st.next_seq;
		break;
	default:
		from = m->u.subscribe.seq ? m->u.subscribe.seq : 1;
		break;
	}
	r = journal_cursor_new(s->j, from, &c->cur);
	if (r < 0)
		return r;
	c->subscribed = true;
	c->next = from;
	log_info("client uid=%u pid=%d \"%s\": subscribed from seq %" PRIu64, c->uid,
	    (int)c->pid, c->name, from);
	return 0;
}

/* Handles one decoded message. Returns 0, or -1 when the client must go
 * (why already logged and sent). */
static int
client_handle(struct server *s, struct client *c, const struct proto_msg *m)
{
	struct proto_msg out = { 0 };
	int r;

	switch (m->op) {
	case PROTO_OP_HELLO:
		if (m->u.hello_c.v != PROTO_VERSION) {
			log_warnx("client uid=%u pid=%d: protocol version %u not supported; "
			    "closing", c->uid, (int)c->pid, m->u.hello_c.v);
			send_err_now(c->fd, PROTO_ERR_VERSION, "unsupported protocol version");
			return -1;
		}
		snprintf(c->name, sizeof(c->name), "%s", m->u.hello_c.name);
		fill_hello(s, &out);
		return ctl_push(c, &out) < 0 ? -1 : 0;
	case PROTO_OP_SUBSCRIBE:
		if (c->subscribed) {
			log_warnx("client uid=%u pid=%d: subscribed twice; closing", c->uid,
			    (int)c->pid);
			send_err_now(c->fd, PROTO_ERR_STATE, "already subscribed");
			return -1;
		}
		r = do_subscribe(s, c, m);
		if (r < 0)
			log_warnx("client uid=%u pid=%d: cannot subscribe: %s", c->uid,
			    (int)c->pid, strerror(-r));
		return r < 0 ? -1 : 0;
	case PROTO_OP_ACK:
		if (journal_ack(s->j, m->u.ack.seq) < 0) {
			log_warnx("client uid=%u pid=%d: ack of seq %" PRIu64 " past the last "
			    "record; ignored", c->uid, (int)c->pid, m->u.ack.seq);
			out.op = PROTO_OP_ERR;
			out.u.err.code = PROTO_ERR_STATE;
			snprintf(out.u.err.msg, sizeof(out.u.err.msg), "ack past the last seq");
			return ctl_push(c, &out) < 0 ? -1 : 0;
		}
		return 0;
	case PROTO_OP_STATUS:
		out.op = PROTO_OP_STATUS;
		s->status(s->ctx, &out.u.status);
		out.u.status.clients = s->nclients;
		return ctl_push(c, &out) < 0 ? -1 : 0;
	default:
		log_warnx("client uid=%u pid=%d: op %s is not for a client; closing", c->uid,
		    (int)c->pid, proto_op_name(m->op));
		send_err_now(c->fd, PROTO_ERR_STATE, "op not valid from a client");
		return -1;
	}
}

/* Reads what the client sent. 0, or -1: close it. */
static int
client_read(struct server *s, struct client *c)
{
	struct proto_msg m;
	char why[160];
	size_t n;

	for (int k = 0; k < READ_BUDGET && c->nctl < CTL_MAX; k++) {
		int r = sdsock_recv_msg(c->fd, s->rbuf, PROTO_CLIENT, &m, &n, why, sizeof(why));

		if (r == -EAGAIN)
			return 0;
		if (r == -ECONNRESET) {
			log_debug("client uid=%u pid=%d: disconnected", c->uid, (int)c->pid);
			return -1;
		}
		if (r == -EMSGSIZE || r == -EBADMSG) {
			log_warnx("client uid=%u pid=%d: malformed message (%zu bytes): %s; "
			    "closing", c->uid, (int)c->pid, n, why);
			send_err_now(c->fd, PROTO_ERR_MALFORMED, why);
			return -1;
		}
		if (r < 0)
			return -1;
		if (client_handle(s, c, &m) < 0)
			return -1;
	}
	return 0;
}

/* ------------------------------------------------------------ accepting */

static bool
allowed(const struct server *s, uid_t uid, gid_t gid)
{
	if (uid == 0 || uid == geteuid())
		return true;
	for (size_t i = 0; i < s->uids->n; i++)
		if ((int64_t)uid == s->uids->v[i])
			return true;
	for (size_t i = 0; i < s->gids->n; i++)
		if ((int64_t)gid == s->gids->v[i])
			return true;
	return false;
}

static void
accept_one(struct server *s, int fd)
{
	struct ucred cr;
	socklen_t len = sizeof(cr);
	struct client *c;

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cr, &len) < 0) {
		log_warn("cannot read peer credentials");
		close(fd);
		return;
	}
	if (!allowed(s, cr.uid, cr.gid)) {
		log_warnx("refused client uid=%u gid=%u pid=%d: not in allowed_uids or "
		    "allowed_gids", cr.uid, cr.gid, (int)cr.pid);
		send_err_now(fd, PROTO_ERR_DENIED, "not allowed");
		close(fd);
		return;
	}
	if (s->nclients >= s->cap) {
		log_warnx("refused client uid=%u pid=%d: already %u clients", cr.uid,
		    (int)cr.pid, s->nclients);
		send_err_now(fd, PROTO_ERR_BUSY, "too many clients");
		close(fd);
		return;
	}
	c = calloc(1, sizeof(*c));
	if (!c) {
		close(fd);
		return;
	}
	c->fd = fd;
	c->uid = cr.uid;
	c->gid = cr.gid;
	c->pid = cr.pid;
	s->clients[s->nclients++] = c;
	log_debug("client uid=%u pid=%d: connected", c->uid, (int)c->pid);
}

static void
accept_some(struct server *s, int64_t now)
{
	for (int k = 0; k < ACCEPT_BUDGET; k++) {
		int fd = accept4(s->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd >= 0) {
			accept_one(s, fd);
			continue;
		}
		if (errno == EINTR || errno == ECONNABORTED)
			continue;
		if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
			/* Out of fds: stop accepting for a while instead of spinning. */
			log_warn("accept");
			s->accept_paused_until = now + ACCEPT_PAUSE_NS;
		} else if (errno != EAGAIN) {
			log_warn("accept");
		}
		return;
	}
}

/* ------------------------------------------------------------ loop */

size_t
server_maxfds(const struct server *s)
{
	return 1 + s->cap;
}

size_t
server_pollfds(struct server *s, struct pollfd *fds, size_t cap, int64_t now)
{
	size_t n = 0;

	if (cap < 1 + s->nclients)
		return 0;
	if (s->accept_paused_until && now >= s->accept_paused_until)
		s->accept_paused_until = 0;	/* over: no deadline left for the loop */
	fds[n].fd = s->accept_paused_until ? -1 : s->fd;
	fds[n++].events = POLLIN;
	for (unsigned i = 0; i < s->nclients; i++) {
		struct client *c = s->clients[i];
		fds[n].fd = c->fd;
		fds[n].events = (short)((c->nctl < CTL_MAX ? POLLIN : 0) |
		    (c->want_out ? POLLOUT : 0));
		fds[n].revents = 0;
		n++;
	}
	return n;
}

void
server_dispatch(struct server *s, const struct pollfd *fds, size_t n, int64_t now)
{
	if (n == 0)
		return;
	/* Clients first, by fd (the array moves as clients close). */
	for (size_t k = 1; k < n; k++) {
		struct client *c = NULL;
		unsigned i;
		int bad = 0;

		if (!fds[k].revents)
			continue;
		for (i = 0; i < s->nclients; i++)
			if (s->clients[i]->fd == fds[k].fd) {
				c = s->clients[i];
				break;
			}
		if (!c)
			continue;
		if (fds[k].revents & (POLLIN | POLLHUP | POLLERR))
			bad = client_read(s, c);
		/* Replies just queued, a fresh subscription or room to write. */
		if (!bad)
			bad = client_feed(s, c);
		if (bad)
			client_close(s, i);
	}
	if (fds[0].fd >= 0 && (fds[0].revents & POLLIN))
		accept_some(s, now);
}

void
server_wake(struct server *s)
{
	for (unsigned i = 0; i < s->nclients;) {
		struct client *c = s->clients[i];
		if (c->subscribed && !c->want_out && client_feed(s, c) < 0) {
			client_close(s, i);
			continue;
		}
		i++;
	}
}

int64_t
server_next_deadline(const struct server *s)
{
	return s->accept_paused_until ? s->accept_paused_until : INT64_MAX;
}

unsigned
server_clients(const struct server *s)
{
	return s->nclients;
}
