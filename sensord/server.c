/* SPDX-License-Identifier: Apache-2.0 */
/*
 * server: one listener plus up to max_clients clients, all non-blocking.
 *
 * Memory per client is fixed: a cursor (one fd and a read buffer) and a
 * small queue of encoded replies (hello, status, gap, err). A client that
 * fills its reply queue is not read from until it drains it (back-pressure
 * instead of growth). Records are copied from the cursor into one shared
 * batch buffer and sent with sendmmsg (to a client whose hello asks, several
 * consecutive records per message); whatever the socket did not take is
 * given back to the cursor (journal_cursor_rewind), so nothing per client
 * grows however far behind it is.
 *
 * Abuse stays cheap and quiet: no uid holds more than max_per_uid
 * connections, the streamer's uid always finds a slot (STREAMER_SLOTS are
 * kept for it), and refusals are logged through rate limiters (a few lines,
 * then one count) so a connect loop cannot fill the disk with log lines.
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
#include "ratelim.h"
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
#define STREAMER_SLOTS 2	/* kept free for the streamer: streaming + a check */
#define ACCESS_MAX 256		/* allowed uids, allowed gids: two config lists */
#define PEER_GROUPS_MAX 1024	/* supplementary groups read per peer; more are ignored */
#define LOG_WINDOW_NS (10 * NS_PER_S)
#define LOG_BURST 5		/* lines per window for each kind of refusal */

struct client {
	int fd;
	uid_t uid;
	gid_t gid;
	pid_t pid;
	char name[PROTO_NAME_LEN];
	bool may_ack;		/* the streamer's uid */
	bool pack;		/* its hello asked for several records per message */
	bool subscribed;
	bool want_out;		/* a send hit EAGAIN (or the budget ran out) */
	uint64_t next;		/* seq the client gets next, for gap detection */
	uint64_t sent_to;	/* highest seq sent (or told a gap) on the subscription */
	uint64_t ack_floor;	/* subscribed from seq N: it holds N - 1 (else 0) */
	uint64_t damage_seen;	/* the cursor's damage count at the last gap */
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
	uid_t streamer;
	char streamer_name[PROTO_NAME_LEN];
	uid_t uids[ACCESS_MAX];
	size_t nuids;
	gid_t gids[ACCESS_MAX];
	size_t ngids;
	char denied_hint[PROTO_MSG_LEN - 64];
	unsigned max_per_uid;
	char device[PROTO_NAME_LEN];
	unsigned cap;
	struct client **clients;
	unsigned nclients;
	int64_t accept_paused_until;
	struct ratelim rl_refused, rl_ack, rl_damage;
	uid_t last_refused;	/* for the count of suppressed refusals */
	struct server_stats stats;
	uint64_t damage_hw;	/* damaged seqs up to here are counted */
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

static int
copy_access(struct server *s, const struct server_conf *c, char *err, size_t errlen)
{
	if (c->nuids > ACCESS_MAX || c->ngids > ACCESS_MAX) {
		snprintf(err, errlen, "more than %d allowed uids or gids", ACCESS_MAX);
		return -E2BIG;
	}
	s->streamer = c->streamer;
	snprintf(s->streamer_name, sizeof(s->streamer_name), "%s",
	    c->streamer_name ? c->streamer_name : "?");
	if (c->nuids)
		memcpy(s->uids, c->uids, c->nuids * sizeof(*c->uids));
	s->nuids = c->nuids;
	if (c->ngids)
		memcpy(s->gids, c->gids, c->ngids * sizeof(*c->gids));
	s->ngids = c->ngids;
	snprintf(s->denied_hint, sizeof(s->denied_hint), "%s",
	    c->denied_hint ? c->denied_hint : "ask for access to this socket");
	s->max_per_uid = c->max_per_uid ? c->max_per_uid : c->max_clients;
	s->rl_refused = (struct ratelim)RATELIM_INIT(LOG_WINDOW_NS, LOG_BURST);
	s->rl_ack = (struct ratelim)RATELIM_INIT(LOG_WINDOW_NS, LOG_BURST);
	s->rl_damage = (struct ratelim)RATELIM_INIT(LOG_WINDOW_NS, LOG_BURST);
	return 0;
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
	r = copy_access(s, conf, err, errlen);
	if (r < 0)
		goto fail;
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

/* Records on their way out: n messages, each one record or, to a client
 * that packs, consecutive records back to back up to PROTO_PACK_MAX. */
struct batch {
	struct mmsghdr msgs[BATCH_MAX];
	struct iovec iov[BATCH_MAX];
	struct journal_entry first[BATCH_MAX];	/* a message's first record */
	uint64_t last[BATCH_MAX];		/* and its last seq */
	unsigned recs[BATCH_MAX];		/* and how many it holds */
	unsigned n;
	unsigned nrecs;				/* in all n */
	size_t used;
};

/* " (N more ...)" for a line that follows N suppressed ones, else "". */
static const char *
held_note(uint64_t held, char *buf, size_t len)
{
	if (held == 0)
		return "";
	snprintf(buf, len, " (%" PRIu64 " more before this one were not logged)", held);
	return buf;
}

/* A gap is retention's doing unless the cursor stepped over unreadable
 * entries since the last one: then it is damage, which an operator must
 * hear about. Damaged seqs are counted once, however many clients read
 * past them. */
static void
note_gap(struct server *s, struct client *c, uint64_t from, uint64_t to)
{
	uint64_t dmg = journal_cursor_damage(c->cur), held = 0;
	char note[96];

	if (dmg == c->damage_seen) {
		log_info("client uid=%u pid=%d: gap %" PRIu64 "..%" PRIu64 " (no longer in the "
		    "journal)", c->uid, (int)c->pid, from, to);
		return;
	}
	c->damage_seen = dmg;
	if (to > s->damage_hw) {
		s->stats.records_damaged += to - (from > s->damage_hw ? from : s->damage_hw + 1) + 1;
		s->damage_hw = to;
	}
	if (ratelim_allow(&s->rl_damage, clock_mono_ns(), &held))
		log_warnx("journal damage: seqs %" PRIu64 "..%" PRIu64 " cannot be read (bad "
		    "CRC); client uid=%u pid=%d gets them as a gap%s", from, to, c->uid,
		    (int)c->pid, held_note(held, note, sizeof(note)));
}

/* Copies records from the cursor into b, up to budget records; 1 when the
 * cursor has more. */
static int
batch_fill(struct server *s, struct client *c, struct batch *b, unsigned budget)
{
	struct journal_entry e;
	struct proto_msg gap = { .op = PROTO_OP_GAP };
	uint64_t expect = c->next;
	bool join;
	int r;

	b->n = 0;
	b->nrecs = 0;
	b->used = 0;
	while (b->nrecs < budget) {
		r = journal_cursor_next(c->cur, &e);
		if (r == -EAGAIN)
			return 0;
		if (r < 0)
			return r;
		/* A message is contiguous in bbuf: the last one ends at used. */
		join = c->pack && b->n > 0 && e.seq == expect &&
		    b->iov[b->n - 1].iov_len + e.len <= PROTO_PACK_MAX;
		if (b->used + e.len > BATCH_BYTES || (!join && b->n == BATCH_MAX) ||
		    (e.seq > expect && b->n > 0) || (e.seq > expect && c->nctl == CTL_MAX)) {
			(void)journal_cursor_rewind(c->cur, &e);
			return 1;
		}
		if (e.seq > expect) {
			/* Records the client asked for that are not there (dropped
			 * by retention, or unreadable). */
			gap.u.gap.from = c->next;
			gap.u.gap.to = e.seq - 1;
			(void)ctl_push(c, &gap);
			note_gap(s, c, gap.u.gap.from, gap.u.gap.to);
			c->next = e.seq;
			c->sent_to = gap.u.gap.to;
			(void)journal_cursor_rewind(c->cur, &e);
			return 1;	/* the gap goes out before the record */
		}
		memcpy(s->bbuf + b->used, e.data, e.len);
		if (join) {
			b->iov[b->n - 1].iov_len += e.len;
		} else {
			b->iov[b->n].iov_base = s->bbuf + b->used;
			b->iov[b->n].iov_len = e.len;
			memset(&b->msgs[b->n], 0, sizeof(b->msgs[b->n]));
			b->msgs[b->n].msg_hdr.msg_iov = &b->iov[b->n];
			b->msgs[b->n].msg_hdr.msg_iovlen = 1;
			b->first[b->n] = e;
			b->recs[b->n] = 0;
			b->n++;
		}
		b->last[b->n - 1] = e.seq;
		b->recs[b->n - 1]++;
		b->nrecs++;
		b->used += e.len;
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
		if (r > 0) {
			c->next = b.last[r - 1] + 1;
			c->sent_to = b.last[r - 1];
		}
		for (int i = 0; i < r; i++)
			budget -= b.recs[i];
		if ((unsigned)r < b.n) {
			(void)journal_cursor_rewind(c->cur, &b.first[r]);
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
	/* Subscribing from seq N says "I hold everything before N": streamerd
	 * does so after Snowflake's committed token, and re-acks N - 1 at
	 * once (sensord may have lost its last acks in a crash). */
	c->ack_floor = m->u.subscribe.from == PROTO_FROM_SEQ ? from - 1 : 0;
	log_info("client uid=%u pid=%d \"%s\": subscribed from seq %" PRIu64, c->uid,
	    (int)c->pid, c->name, from);
	return 0;
}

/* Answers a refused ack with an err; the client stays (it may still read).
 * Logged at warning, rate-limited. 0, or -1 when the reply queue is full. */
static int
refuse_ack(struct server *s, struct client *c, uint64_t seq, enum proto_err code,
    const char *why)
{
	struct proto_msg out = { .op = PROTO_OP_ERR };
	uint64_t held = 0;
	char note[96];

	s->stats.acks_refused++;
	if (ratelim_allow(&s->rl_ack, clock_mono_ns(), &held))
		log_warnx("client uid=%u pid=%d \"%s\": ack of seq %" PRIu64 " refused: %s%s",
		    c->uid, (int)c->pid, c->name, seq, why, held_note(held, note, sizeof(note)));
	out.u.err.code = code;
	snprintf(out.u.err.msg, sizeof(out.u.err.msg), "ack of seq %" PRIu64 " refused: %s",
	    seq, why);
	return ctl_push(c, &out) < 0 ? -1 : 0;
}

/* An ack lets sensord delete records, so it is honoured only from the
 * streamer's uid and only up to what this connection's subscription was
 * sent (or, subscribed from seq N, up to N - 1). */
static int
on_ack(struct server *s, struct client *c, uint64_t seq)
{
	uint64_t top = c->sent_to > c->ack_floor ? c->sent_to : c->ack_floor;
	char why[160];

	if (!c->may_ack) {
		snprintf(why, sizeof(why), "this client is read-only (only user %s may ack)",
		    s->streamer_name);
		return refuse_ack(s, c, seq, PROTO_ERR_DENIED, why);
	}
	if (!c->subscribed)
		return refuse_ack(s, c, seq, PROTO_ERR_STATE, "not subscribed (an ack covers "
		    "only records sent on this connection's subscription)");
	if (seq > top) {
		snprintf(why, sizeof(why), "this subscription was sent seqs up to %" PRIu64
		    " only", top);
		return refuse_ack(s, c, seq, PROTO_ERR_STATE, why);
	}
	if (journal_ack(s->j, seq) < 0)
		return refuse_ack(s, c, seq, PROTO_ERR_STATE, "past the last seq");
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
		c->pack = m->u.hello_c.pack;
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
		return on_ack(s, c, m->u.ack.seq);
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
gid_allowed(const struct server *s, gid_t gid)
{
	for (size_t i = 0; i < s->ngids; i++)
		if (gid == s->gids[i])
			return true;
	return false;
}

/* Whether one of the peer's supplementary groups, as they were when it
 * connected (SO_PEERGROUPS), is allowed. */
static bool
peer_group_allowed(const struct server *s, int fd)
{
	gid_t small[64], *g = small;
	socklen_t len = sizeof(small);
	bool ok = false;

	if (s->ngids == 0)
		return false;
	if (getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, g, &len) < 0) {
		/* ERANGE: len says how much room the list needs */
		if (errno != ERANGE || len > PEER_GROUPS_MAX * sizeof(gid_t) ||
		    (g = malloc(len)) == NULL)
			return false;
		if (getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, g, &len) < 0)
			len = 0;
	}
	for (size_t i = 0; !ok && i < len / sizeof(gid_t); i++)
		ok = gid_allowed(s, g[i]);
	if (g != small)
		free(g);
	return ok;
}

static bool
allowed(const struct server *s, int fd, const struct ucred *cr)
{
	if (cr->uid == 0 || cr->uid == geteuid() || cr->uid == s->streamer)
		return true;
	for (size_t i = 0; i < s->nuids; i++)
		if (cr->uid == s->uids[i])
			return true;
	return gid_allowed(s, cr->gid) || peer_group_allowed(s, fd);
}

/* NULL when a client of uid fits, else why not (in buf). */
static const char *
no_slot(const struct server *s, uid_t uid, char *buf, size_t len)
{
	unsigned keep = s->cap > STREAMER_SLOTS ? STREAMER_SLOTS : s->cap - 1, mine = 0;

	if (s->nclients >= s->cap)
		return "too many clients";
	if (uid != s->streamer && s->nclients >= s->cap - keep) {
		snprintf(buf, len, "too many clients (the last %u slots are kept for %s)", keep,
		    s->streamer_name);
		return buf;
	}
	for (unsigned i = 0; i < s->nclients; i++)
		mine += s->clients[i]->uid == uid;
	if (mine >= s->max_per_uid) {
		snprintf(buf, len, "too many connections from uid %u (max_clients_per_uid %u)",
		    (unsigned)uid, s->max_per_uid);
		return buf;
	}
	return NULL;
}

/* Says why to the peer and closes it; the log line is rate-limited. */
static void
refuse(struct server *s, int fd, const struct ucred *cr, enum proto_err code,
    const char *why, int64_t now)
{
	uint64_t held = 0;
	char note[96];

	s->stats.clients_refused++;
	s->last_refused = cr->uid;
	if (ratelim_allow(&s->rl_refused, now, &held))
		log_warnx("refused client uid=%u gid=%u pid=%d: %s%s", cr->uid, cr->gid,
		    (int)cr->pid, why, held_note(held, note, sizeof(note)));
	send_err_now(fd, code, why);
	close(fd);
}

static void
accept_one(struct server *s, int fd, int64_t now)
{
	struct ucred cr;
	socklen_t len = sizeof(cr);
	struct client *c;
	const char *full;
	char why[PROTO_MSG_LEN];

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cr, &len) < 0) {
		log_warn("cannot read peer credentials");
		close(fd);
		return;
	}
	if (!allowed(s, fd, &cr)) {
		snprintf(why, sizeof(why), "uid %u is not allowed: %s", (unsigned)cr.uid,
		    s->denied_hint);
		refuse(s, fd, &cr, PROTO_ERR_DENIED, why, now);
		return;
	}
	if ((full = no_slot(s, cr.uid, why, sizeof(why))) != NULL) {
		refuse(s, fd, &cr, PROTO_ERR_BUSY, full, now);
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
	c->may_ack = cr.uid == s->streamer;
	s->clients[s->nclients++] = c;
	log_debug("client uid=%u pid=%d: connected%s", c->uid, (int)c->pid,
	    c->may_ack ? " (may ack)" : " (read-only)");
}

static void
accept_some(struct server *s, int64_t now)
{
	for (int k = 0; k < ACCEPT_BUDGET; k++) {
		int fd = accept4(s->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd >= 0) {
			accept_one(s, fd, now);
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

static int64_t
earliest(int64_t a, int64_t b)
{
	return a < b ? a : b;
}

int64_t
server_next_deadline(const struct server *s)
{
	int64_t t = s->accept_paused_until ? s->accept_paused_until : INT64_MAX;

	t = earliest(t, ratelim_deadline(&s->rl_refused));
	t = earliest(t, ratelim_deadline(&s->rl_ack));
	return earliest(t, ratelim_deadline(&s->rl_damage));
}

void
server_tick(struct server *s, int64_t now)
{
	uint64_t n;

	if ((n = ratelim_flush(&s->rl_refused, now)) != 0)
		log_warnx("refused %" PRIu64 " more clients in the last %lld s without a line "
		    "each (the last one uid=%u)", n, (long long)(LOG_WINDOW_NS / NS_PER_S),
		    (unsigned)s->last_refused);
	if ((n = ratelim_flush(&s->rl_ack, now)) != 0)
		log_warnx("refused %" PRIu64 " more acks in the last %lld s without a line each",
		    n, (long long)(LOG_WINDOW_NS / NS_PER_S));
	if ((n = ratelim_flush(&s->rl_damage, now)) != 0)
		log_warnx("%" PRIu64 " more journal damage gaps sent to clients in the last %lld "
		    "s without a line each", n, (long long)(LOG_WINDOW_NS / NS_PER_S));
}

void
server_stats(const struct server *s, struct server_stats *st)
{
	*st = s->stats;
}

unsigned
server_clients(const struct server *s)
{
	return s->nclients;
}
