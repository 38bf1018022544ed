/* SPDX-License-Identifier: Apache-2.0 */
/*
 * watch: one loop, one thread: poll on sensord's socket and the keyboard
 * with a deadline for the next tick (a second: metrics file, status,
 * redraw of the ages); records mark the screen dirty and it is redrawn at
 * most ten times a second. Signal handlers only set flags.
 */
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <unistd.h>

#include "clock.h"
#include "promfile.h"
#include "view.h"
#include "watch.h"

#define NS 1000000000LL
#define WINDOW_NS (SERIES_SECONDS * NS)
#define TICK_NS NS			/* metrics file, status, ages */
#define PLAIN_TICK_NS (2 * NS)		/* a frame on a pipe */
#define DRAW_GAP_NS (NS / 10)		/* records redraw at most this often */
#define RECONNECT_NS (2 * NS)
#define PROBE_MS 5000			/* a probe's wait for its first record */
#define PLAIN_COLS 100
#define PLAIN_ROWS 200
#define FRAME_MAX (512 * 1024)		/* a screen, colours and line ends included */
#define READ_BURST 256			/* messages read before the keyboard gets a turn */

static volatile sig_atomic_t quit_sig, resized;

static void
on_quit(int sig)
{
	quit_sig = sig;
}

static void
on_winch(int sig)
{
	(void)sig;
	resized = 1;
}

struct watch {
	struct view *v;
	struct sdsock *c;		/* NULL while sensord is away */
	const char *path;
	bool tty, color;
	struct termios saved;
	bool raw;			/* saved holds the terminal as it was */
	size_t rows, cols;
	int64_t next_tick, next_status, next_connect, drawn;
	bool dirty, clear;
	char *frame, *out;
	char failed[320];		/* why it ended, said once the screen is gone */
};

/* ---- the terminal -------------------------------------------------------- */

static int
write_all(const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(STDOUT_FILENO, p, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -errno;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

static void
size_of_terminal(struct watch *w)
{
	struct winsize ws;

	w->rows = PLAIN_ROWS;
	w->cols = PLAIN_COLS;
	if (w->tty && ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_row && ws.ws_col) {
		w->rows = ws.ws_row;
		w->cols = ws.ws_col;
	}
}

/* Keys one at a time, no echo; Ctrl-C still interrupts. */
static void
terminal_enter(struct watch *w)
{
	struct termios t;

	if (!w->tty)
		return;
	if (isatty(STDIN_FILENO) && tcgetattr(STDIN_FILENO, &w->saved) == 0) {
		t = w->saved;
		t.c_lflag &= ~(tcflag_t)(ICANON | ECHO);
		t.c_cc[VMIN] = 0;
		t.c_cc[VTIME] = 0;
		w->raw = tcsetattr(STDIN_FILENO, TCSAFLUSH, &t) == 0;
	}
	/* the alternate screen, cursor hidden */
	write_all("\033[?1049h\033[?25l", 14);
}

static void
terminal_leave(struct watch *w)
{
	if (!w->tty)
		return;
	write_all("\033[?25h\033[?1049l", 14);
	if (w->raw)
		tcsetattr(STDIN_FILENO, TCSAFLUSH, &w->saved);
	w->raw = false;
}

/* The frame as the terminal gets it: from the top left, each line cleared
 * to its end, then the rest of the screen cleared. */
static int
draw(struct watch *w, int64_t now)
{
	size_t n = 0, cap = FRAME_MAX * 2;
	int len;

	len = view_render(w->v, w->rows, w->cols, now, w->color, w->frame, FRAME_MAX);
	if (len < 0)
		return 0;	/* a screen too big for the frame: keep the old one */
	if (w->tty)
		n += (size_t)snprintf(w->out, cap, "%s\033[H", w->clear ? "\033[2J" : "");
	for (const char *p = w->frame; *p && n + 8 < cap; p++) {
		if (*p == '\n' && w->tty) {
			memcpy(w->out + n, "\033[K", 3);
			n += 3;
		}
		w->out[n++] = *p;
	}
	n += (size_t)snprintf(w->out + n, cap - n, "%s", w->tty ? "\033[K\033[J" : "\n\n");
	w->clear = false;
	w->dirty = false;
	w->drawn = now;
	return write_all(w->out, n);
}

/* ---- sensord ------------------------------------------------------------- */

/* The time of the first record from seq on, from a connection of its own. */
static int
probe(const char *path, uint64_t seq, int64_t *ret_t)
{
	struct sdsock *c;
	struct proto_msg m;
	int r;

	if ((r = sdsock_open(path, sdsock_dir_owner(path), "sensortap", PROBE_MS, &c, NULL)) < 0)
		return r;
	r = sdsock_subscribe(c, PROTO_FROM_SEQ, seq);
	while (r == 0 && (r = sdsock_wait(c, PROBE_MS, &m)) == 0 && m.op == PROTO_OP_GAP)
		;
	if (r == 0 && m.op != PROTO_OP_REC)
		r = -EPROTO;
	if (r == 0)
		*ret_t = m.u.rec.t;
	sdsock_close(c);
	return r;
}

/* The seq to replay from so that the view starts with the window filled:
 * back from the newest record in growing steps until a record is older
 * than the window or the journal's start is reached (0: nothing to
 * replay). Each step costs one record, not a replay. */
static uint64_t
replay_from(const char *path, const struct proto_status *st, int64_t now)
{
	uint64_t back = 64, from;
	int64_t t = 0;

	if (st->last_seq == 0)
		return 0;
	for (;;) {
		from = st->last_seq > back && st->last_seq - back > st->first_seq ?
		    st->last_seq - back : st->first_seq;
		if (from <= st->first_seq || probe(path, from, &t) < 0 || t <= now - WINDOW_NS)
			return from ? from : 1;
		back *= 8;
	}
}

static void
lost(struct watch *w, const char *why, int64_t now)
{
	sdsock_close(w->c);
	w->c = NULL;
	w->next_connect = now + RECONNECT_NS;
	view_note(w->v, "sensord: %s; reconnecting every 2 s", why);
	w->dirty = true;
}

static void
reconnect(struct watch *w, int64_t now)
{
	const struct view *v = w->v;
	int r;

	w->next_connect = now + RECONNECT_NS;
	r = sdsock_open(w->path, sdsock_dir_owner(w->path), "sensortap", 1000, &w->c, NULL);
	if (r == 0)
		r = v->have_rec ? sdsock_subscribe(w->c, PROTO_FROM_SEQ, v->rec.seq + 1) :
		    sdsock_subscribe(w->c, PROTO_FROM_NOW, 0);
	if (r < 0) {
		sdsock_close(w->c);
		w->c = NULL;
		view_note(w->v, "sensord at %s: %s; reconnecting every 2 s", w->path, strerror(-r));
	} else {
		view_note(w->v, "%s", "");
		w->next_status = now;
	}
	w->dirty = true;
}

/* Reads what sensord sent; false on a refusal the view cannot outlive. */
static bool
take(struct watch *w, int64_t now)
{
	struct proto_msg m;
	int r = 0;

	for (int i = 0; i < READ_BURST && w->c && (r = sdsock_read(w->c, &m)) == 0; i++) {
		if (m.op == PROTO_OP_REC)
			view_record(w->v, &m.u.rec);
		else if (m.op == PROTO_OP_STATUS)
			view_status(w->v, &m.u.status);
		else if (m.op == PROTO_OP_GAP)
			w->v->missing += m.u.gap.to - m.u.gap.from + 1;
		else if (m.op == PROTO_OP_ERR) {
			snprintf(w->failed, sizeof(w->failed), "sensord refused: %s (code %" PRIu32
			    ")", m.u.err.msg, m.u.err.code);
			return false;
		}
		w->dirty = true;
	}
	if (r == -ECONNRESET)
		lost(w, "closed the connection", now);
	else if (r < 0 && r != -EAGAIN)
		lost(w, r == -EBADMSG || r == -EMSGSIZE ? sdsock_why(w->c, NULL) : strerror(-r),
		    now);
	return true;
}

/* ---- the loop -------------------------------------------------------------- */

static void
tick(struct watch *w, int64_t now)
{
	struct promfile *pf = NULL;
	int64_t mtime = 0;
	int r;

	r = promfile_read(w->v->metrics, &pf, &mtime);
	view_metrics(w->v, pf, r, mtime);
	promfile_free(pf);
	if (w->c && now >= w->next_status) {
		if (sdsock_ask_status(w->c) == 0)
			w->next_status = now + 2 * NS;
	}
	if (!w->c && now >= w->next_connect)
		reconnect(w, now);
	w->next_tick = now + (w->tty ? TICK_NS : PLAIN_TICK_NS);
	w->dirty = true;
}

/* A key: q quits. */
static bool
keys(void)
{
	char k[32];
	ssize_t n = read(STDIN_FILENO, k, sizeof(k));

	for (ssize_t i = 0; i < n; i++)
		if (k[i] == 'q' || k[i] == 'Q')
			return false;
	return true;
}

static int
timeout_ms(const struct watch *w, int64_t now)
{
	int64_t until = w->next_tick;

	if (w->tty && w->dirty && w->drawn + DRAW_GAP_NS < until)
		until = w->drawn + DRAW_GAP_NS;
	return until > now ? (int)((until - now + 999999) / 1000000) : 0;
}

/* On a terminal a change shows within DRAW_GAP_NS; on a pipe a frame goes
 * out with each tick. A reader gone from the pipe ends the view. */
static bool
redraw(struct watch *w, int64_t now, bool ticked)
{
	if (w->tty ? !(w->dirty && (w->clear || now >= w->drawn + DRAW_GAP_NS)) : !ticked)
		return true;
	return draw(w, now) == 0;
}

static int
loop(struct watch *w)
{
	struct pollfd p[2];
	int64_t now;
	bool ticked;

	for (;;) {
		now = clock_realtime_ns();
		if (resized) {
			resized = 0;
			size_of_terminal(w);
			w->clear = w->dirty = true;
		}
		ticked = now >= w->next_tick;
		if (ticked)
			tick(w, now);
		if (!redraw(w, now, ticked))
			return 0;
		p[0] = (struct pollfd){ .fd = w->c ? sdsock_fd(w->c) : -1, .events = POLLIN };
		p[1] = (struct pollfd){ .fd = w->raw ? STDIN_FILENO : -1, .events = POLLIN };
		/* records already taken off the socket poll nothing */
		if (poll(p, 2, w->c && sdsock_pending(w->c) ? 0 : timeout_ms(w, now)) < 0 &&
		    errno != EINTR) {
			snprintf(w->failed, sizeof(w->failed), "poll: %s", strerror(errno));
			return 1;
		}
		if (quit_sig)
			return 0;
		if ((p[1].revents & POLLIN) && !keys())
			return 0;
		if ((p[0].revents || (w->c && sdsock_pending(w->c))) &&
		    !take(w, clock_realtime_ns()))
			return 1;
	}
}

static void
signals(void)
{
	struct sigaction sa = { .sa_handler = on_quit };

	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	sa.sa_handler = on_winch;
	sigaction(SIGWINCH, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
}

/* Status, then the subscription that replays the window. */
static int
start(struct watch *w)
{
	struct proto_msg m;
	uint64_t from;
	int r;

	if ((r = sdsock_ask_status(w->c)) < 0 || (r = sdsock_wait(w->c, PROBE_MS, &m)) < 0 ||
	    m.op != PROTO_OP_STATUS) {
		fprintf(stderr, "sensortap: sensord did not answer the status request: %s\n",
		    r < 0 ? strerror(-r) : proto_op_name(m.op));
		return -EPROTO;
	}
	view_status(w->v, &m.u.status);
	from = replay_from(w->path, &m.u.status, clock_realtime_ns());
	r = from ? sdsock_subscribe(w->c, PROTO_FROM_SEQ, from) :
	    sdsock_subscribe(w->c, PROTO_FROM_NOW, 0);
	if (r < 0)
		fprintf(stderr, "sensortap: subscribe: %s\n", strerror(-r));
	return r;
}

int
watch_run(struct sdsock *c, const char *path, const char *metrics)
{
	struct watch w = { .c = c, .path = path };
	int rc = 1;

	w.tty = isatty(STDOUT_FILENO);
	w.color = w.tty && getenv("NO_COLOR") == NULL;
	w.frame = malloc(FRAME_MAX);
	w.out = malloc(FRAME_MAX * 2);
	if (w.frame == NULL || w.out == NULL || view_new(path, metrics, &w.v) < 0) {
		fprintf(stderr, "sensortap: out of memory\n");
		goto out;
	}
	if (start(&w) < 0)
		goto out;
	signals();
	size_of_terminal(&w);
	terminal_enter(&w);
	w.clear = true;
	rc = loop(&w);
	terminal_leave(&w);
	if (w.failed[0])
		fprintf(stderr, "sensortap: %s\n", w.failed);
out:
	sdsock_close(w.c);
	free(w.v);
	free(w.frame);
	free(w.out);
	return rc;
}
