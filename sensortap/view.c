/* SPDX-License-Identifier: Apache-2.0 */
/*
 * view: the model is filled by the loop (watch.c) and drawn whole on each
 * refresh; drawing is a pure function of the model, the clock and the
 * size, so the unit tests draw it at any size and time.
 *
 * Screen, top to bottom: a title line, the newest record and the journal,
 * one line per chip (state, newest values and their age; a second line
 * with the error while it fails), the sparklines, the pipeline, the keys.
 * When rows are short the sparklines go first, from the last one up.
 */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pretty.h"
#include "text.h"
#include "view.h"

#define NAME_COLS 12	/* "icp10125" and a gap */
#define STATE_COLS 15	/* "no new sample" and a gap */
#define LABEL_COLS 14	/* "icp10125 t" and a gap */
#define SPARK_MIN 10	/* narrower sparklines are not drawn */

int
view_new(const char *socket, const char *metrics, struct view **ret)
{
	struct view *v = calloc(1, sizeof(*v));

	if (v == NULL)
		return -ENOMEM;
	v->socket = socket;
	v->metrics = metrics;
	v->pipe.sensord = -1;
	v->pipe.err = -ENOENT;
	for (size_t i = 0; i < record_root.nfields; i++) {
		const struct record_field *blk = &record_root.fields[i];

		if (!pretty_is_chip(blk) || v->nchips == VIEW_MAX_CHIPS)
			continue;
		v->chips[v->nchips++].blk = blk;
		for (size_t k = 0; k < blk->nfields && v->nseries < VIEW_MAX_SERIES; k++)
			if (pretty_shown(&blk->fields[k])) {
				v->series[v->nseries].blk = blk;
				v->series[v->nseries++].f = &blk->fields[k];
			}
	}
	*ret = v;
	return 0;
}

void
view_record(struct view *v, const struct record *r)
{
	double x;

	if (!v->have_rec || r->seq >= v->rec.seq) {
		v->rec = *r;
		v->have_rec = true;
	}
	v->seqs[r->seq % VIEW_SEQS].seq = r->seq;
	v->seqs[r->seq % VIEW_SEQS].t = r->t;
	for (size_t i = 0; i < v->nchips; i++)
		if (record_present(r, NULL, v->chips[i].blk) &&
		    (!v->chips[i].have || r->seq >= v->chips[i].last.seq)) {
			v->chips[i].last = *r;
			v->chips[i].have = true;
		}
	for (size_t i = 0; i < v->nseries; i++)
		if (pretty_get(r, v->series[i].blk, v->series[i].f, &x))
			series_add(&v->series[i].s, r->t, x);
}

void
view_status(struct view *v, const struct proto_status *st)
{
	v->status = *st;
	v->have_status = true;
}

void
view_metrics(struct view *v, struct promfile *pf, int err, int64_t mtime)
{
	struct view_pipe *p = &v->pipe;
	const char *e;
	double x;

	*p = (struct view_pipe){ .err = err, .mtime = mtime, .sensord = -1 };
	if (pf == NULL)
		return;
	if (promfile_value(pf, VIEW_M_COMMITTED, &x) && x >= 0) {
		p->have_committed = true;
		p->committed = (uint64_t)x;
	}
	if (promfile_value(pf, VIEW_M_LAST_COMMIT, &x) && x > 0)
		p->last_commit = x;
	else if (promfile_value(pf, VIEW_M_COMMIT_AGE, &x) && x >= 0)
		p->last_commit = (double)mtime / 1e9 - x;
	if (promfile_value(pf, VIEW_M_RETRYING, &x) && x > 0) {
		p->retrying = x;
		e = promfile_label(pf, VIEW_M_ERROR, "reason");
		snprintf(p->error, sizeof(p->error), "%s", e ? e : "");
	}
	if (promfile_value(pf, VIEW_M_SENSORD, &x))
		p->sensord = x > 0;
}

void
view_note(struct view *v, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(v->note, sizeof(v->note), fmt, ap);
	va_end(ap);
}

/* ---- drawing ------------------------------------------------------------ */

struct screen {
	struct text t;
	size_t rows, n;		/* lines allowed, lines begun */
	int64_t now;
};

/* Starts a line; false when the screen is full. */
static bool
line(struct screen *sc)
{
	if (sc->n == sc->rows)
		return false;
	if (sc->n++ > 0)
		text_add(&sc->t, "\n");
	return true;
}

static void
add_time(struct screen *sc, int64_t ns)
{
	char when[40];

	pretty_time(ns, false, when, sizeof(when));
	text_add(&sc->t, "%s", when);
}

/* How long ago ns was, "12 s". */
static void
add_since(struct screen *sc, int64_t ns)
{
	char d[32];

	pretty_duration((double)(sc->now - ns) / 1e9, d, sizeof(d));
	text_add(&sc->t, "%s", d);
}

static void
add_age(struct screen *sc, int64_t ns)
{
	add_since(sc, ns);
	text_add(&sc->t, " ago");
}

static void
draw_title(struct screen *sc, const struct view *v, size_t cols)
{
	char when[40];

	if (!line(sc))
		return;
	pretty_time(sc->now, true, when, sizeof(when));
	text_color(&sc->t, TEXT_BOLD);
	text_add(&sc->t, "sensortap --watch");
	text_color(&sc->t, TEXT_PLAIN);
	if (v->have_rec)
		text_add(&sc->t, "  %s", v->rec.device);
	text_add(&sc->t, "  %s", v->socket);
	if (cols > text_cols(when) + sc->t.cols + 2)
		text_pad(&sc->t, cols - text_cols(when));
	else
		text_add(&sc->t, "  ");
	text_add(&sc->t, "%s", when);
}

static void
draw_record(struct screen *sc, const struct view *v)
{
	const struct proto_status *st = &v->status;

	if (!line(sc))
		return;
	if (v->note[0]) {
		text_color(&sc->t, TEXT_RED);
		text_add(&sc->t, "%s", v->note);
		text_color(&sc->t, TEXT_PLAIN);
		return;
	}
	if (v->have_rec) {
		text_add(&sc->t, "record %" PRIu64 " at ", v->rec.seq);
		add_time(sc, v->rec.t);
		text_add(&sc->t, " (");
		add_age(sc, v->rec.t);
		text_add(&sc->t, ")");
	} else {
		text_add(&sc->t, "no record yet");
	}
	/* the status is asked every few seconds; the records come live */
	if (v->have_status)
		text_add(&sc->t, "   journal %" PRIu64 "..%" PRIu64 ", %" PRIu32 " client%s",
		    st->first_seq, v->have_rec && v->rec.seq > st->last_seq ? v->rec.seq :
		    st->last_seq, st->clients, st->clients == 1 ? "" : "s");
	if (v->missing)
		text_add(&sc->t, ", %" PRIu64 " records no longer journaled", v->missing);
}

/* The chip's state: as the newest record says it, else as sensord's
 * status says it, else whether the record has its block. */
static const char *
chip_state(const struct view *v, const struct view_chip *c)
{
	const char *s = v->have_rec ? pretty_state(&v->rec, c->blk) : NULL;

	if (s != NULL)
		return s;
	for (uint32_t i = 0; v->have_status && i < v->status.nchips; i++)
		if (strcmp(v->status.chips[i].name, c->blk->key) == 0)
			return v->status.chips[i].state;
	if (!v->have_rec)
		return "unknown";
	return record_present(&v->rec, NULL, c->blk) ? RECORD_OK : "no_sample";
}

static void
draw_trouble(struct screen *sc, const struct view *v, const struct view_chip *c)
{
	const char *err;
	int64_t since;

	if (!v->have_rec)
		return;
	pretty_trouble(&v->rec, c->blk, &since, &err);
	if ((since == 0 && err == NULL) || !line(sc))
		return;
	text_pad(&sc->t, NAME_COLS + STATE_COLS);
	text_color(&sc->t, TEXT_RED);
	if (since != 0) {
		text_add(&sc->t, "since ");
		add_time(sc, since);
		text_add(&sc->t, "%s", err ? ": " : "");
	}
	text_add(&sc->t, "%s", err ? err : "");
	text_color(&sc->t, TEXT_PLAIN);
}

static void
draw_chip(struct screen *sc, const struct view *v, const struct view_chip *c)
{
	const struct record_field *blk = c->blk;
	bool first = true;
	double x;

	if (!line(sc))
		return;
	text_add(&sc->t, "%s", blk->key);
	text_pad(&sc->t, NAME_COLS);
	pretty_add_state(&sc->t, chip_state(v, c), STATE_COLS - 1);
	text_pad(&sc->t, NAME_COLS + STATE_COLS);
	if (!c->have) {
		text_color(&sc->t, TEXT_DIM);
		text_add(&sc->t, "no sample yet");
		text_color(&sc->t, TEXT_PLAIN);
		draw_trouble(sc, v, c);
		return;
	}
	for (size_t i = 0; i < blk->nfields; i++) {
		if (!pretty_shown(&blk->fields[i]))
			continue;
		text_add(&sc->t, "%s", first ? "" : "  ");
		pretty_number(&sc->t, &blk->fields[i],
		    pretty_get(&c->last, blk, &blk->fields[i], &x) ? x : NAN, true);
		first = false;
	}
	text_color(&sc->t, TEXT_DIM);
	text_add(&sc->t, "  (");
	add_age(sc, c->last.t);
	text_add(&sc->t, ")");
	text_color(&sc->t, TEXT_PLAIN);
	draw_trouble(sc, v, c);
}

/* Columns of the low-high range right of the sparklines. */
static size_t
range_cols(const struct view *v)
{
	size_t w = 0;

	for (size_t i = 0; i < v->nseries; i++) {
		size_t c = 2 * pretty_cols(v->series[i].f) + 3;

		w = c > w ? c : w;
	}
	return w;
}

static void
draw_series(struct screen *sc, const struct view_series *s, size_t spark, size_t range)
{
	double lo, hi;

	if (!line(sc))
		return;
	text_add(&sc->t, "%s %s", s->blk->key, s->f->key);
	text_pad(&sc->t, LABEL_COLS);
	if (!series_spark(&s->s, sc->now, spark, &sc->t, &lo, &hi))
		return;
	text_add(&sc->t, "  ");
	text_pad(&sc->t, sc->t.cols + range - (pretty_cols(s->f) * 2 + 3));
	pretty_number(&sc->t, s->f, lo, true);
	text_add(&sc->t, " - ");
	pretty_number(&sc->t, s->f, hi, true);
}

static void
draw_sparklines(struct screen *sc, const struct view *v, size_t cols, size_t room)
{
	size_t range = range_cols(v), spark;

	if (cols < LABEL_COLS + SPARK_MIN + 2 + range || room < 3 || v->nseries == 0)
		return;
	spark = cols - LABEL_COLS - 2 - range;
	if (!line(sc))
		return;
	text_color(&sc->t, TEXT_DIM);
	text_add(&sc->t, "last 10 minutes");
	text_pad(&sc->t, LABEL_COLS + spark + 2);
	text_add(&sc->t, "low - high");
	text_color(&sc->t, TEXT_PLAIN);
	for (size_t i = 0; i < v->nseries && i + 2 < room; i++)
		draw_series(sc, &v->series[i], spark, range);
	line(sc);
}

/* The time of record seq, or 0 when the view no longer has it. */
static int64_t
time_of(const struct view *v, uint64_t seq)
{
	return v->seqs[seq % VIEW_SEQS].seq == seq ? v->seqs[seq % VIEW_SEQS].t : 0;
}

/* The time of the oldest record after seq the view still has, or 0. */
static int64_t
oldest_after(const struct view *v, uint64_t seq)
{
	uint64_t best = 0;
	int64_t t = 0;

	for (size_t i = 0; i < VIEW_SEQS; i++)
		if (v->seqs[i].seq > seq && (best == 0 || v->seqs[i].seq < best)) {
			best = v->seqs[i].seq;
			t = v->seqs[i].t;
		}
	return t;
}

/* The committed seq: streamerd acks to sensord exactly what Snowflake
 * committed, so sensord's acked seq, when ahead of the metrics file, is
 * the newer figure. */
static uint64_t
committed(const struct view *v)
{
	uint64_t c = v->pipe.committed;

	return v->have_status && v->status.acked_seq > c ? v->status.acked_seq : c;
}

static void
draw_lag(struct screen *sc, const struct view *v)
{
	uint64_t newest = v->have_rec ? v->rec.seq : v->status.last_seq, pending;
	uint64_t done = committed(v);
	int64_t oldest;

	pending = newest > done ? newest - done : 0;
	if (pending == 0) {
		text_add(&sc->t, "lag 0 s (all committed)");
		return;
	}
	if ((oldest = time_of(v, done + 1)) != 0) {
		text_add(&sc->t, "lag ");
		add_since(sc, oldest);
	} else if ((oldest = oldest_after(v, done)) != 0) {
		/* the first pending record is older than any the view holds */
		text_add(&sc->t, "lag over ");
		add_since(sc, oldest);
	} else {
		text_add(&sc->t, "lag unknown");
	}
	text_add(&sc->t, ", %" PRIu64 " pending", pending);
}

static void
draw_pipe(struct screen *sc, const struct view *v)
{
	const struct view_pipe *p = &v->pipe;
	char d[32];

	if (!line(sc))
		return;
	text_add(&sc->t, "pipeline");
	text_pad(&sc->t, NAME_COLS);
	if (p->err != 0 || !p->have_committed) {
		text_color(&sc->t, TEXT_YELLOW);
		text_add(&sc->t, "no lag known: %s: %s", v->metrics,
		    p->err == -ENOENT ? "no such file (is streamerd running with this "
		    "metrics_file?)" : p->err ? strerror(-p->err) : "no committed seq in it");
		text_color(&sc->t, TEXT_PLAIN);
		return;
	}
	draw_lag(sc, v);
	text_add(&sc->t, ", committed seq %" PRIu64, committed(v));
	if (committed(v) > p->committed) {
		/* committed since the file was written */
		text_add(&sc->t, ", last commit within ");
		add_since(sc, p->mtime);
	} else if (p->last_commit > 0) {
		text_add(&sc->t, ", last commit ");
		add_age(sc, (int64_t)(p->last_commit * 1e9));
	}
	if (p->retrying > 0) {
		text_color(&sc->t, TEXT_RED);
		text_add(&sc->t, "; retrying since ");
		add_time(sc, (int64_t)(p->retrying * 1e9));
		text_add(&sc->t, "%s%s", p->error[0] ? ": " : "", p->error);
		text_color(&sc->t, TEXT_PLAIN);
	} else if (p->sensord == 0) {
		text_add(&sc->t, "; streamerd waits for sensord");
	}
	if (sc->now - p->mtime > 30 * (int64_t)1000000000) {
		pretty_duration((double)(sc->now - p->mtime) / 1e9, d, sizeof(d));
		text_color(&sc->t, TEXT_YELLOW);
		text_add(&sc->t, " (metrics file %s old)", d);
		text_color(&sc->t, TEXT_PLAIN);
	}
}

/* Lines the chips take: one each, and one more for each failing. */
static size_t
chip_lines(const struct view *v)
{
	const char *err;
	int64_t since;
	size_t n = 0;

	for (size_t i = 0; i < v->nchips; i++) {
		n++;
		if (v->have_rec) {
			pretty_trouble(&v->rec, v->chips[i].blk, &since, &err);
			n += since != 0 || err != NULL;
		}
	}
	return n;
}

int
view_render(const struct view *v, size_t rows, size_t cols, int64_t now, bool color,
    char *buf, size_t cap)
{
	struct screen sc = { .rows = rows, .now = now };
	size_t fixed = 2 + 1 + 1 + chip_lines(v) + 1 + 1 + 1;

	text_init(&sc.t, buf, cap, color);
	text_limit(&sc.t, cols);
	draw_title(&sc, v, cols);
	draw_record(&sc, v);
	line(&sc);
	if (line(&sc)) {
		text_color(&sc.t, TEXT_DIM);
		text_add(&sc.t, "chip");
		text_pad(&sc.t, NAME_COLS);
		text_add(&sc.t, "state");
		text_pad(&sc.t, NAME_COLS + STATE_COLS);
		text_add(&sc.t, "newest sample");
		text_color(&sc.t, TEXT_PLAIN);
	}
	for (size_t i = 0; i < v->nchips; i++)
		draw_chip(&sc, v, &v->chips[i]);
	line(&sc);
	draw_sparklines(&sc, v, cols, rows > fixed ? rows - fixed : 0);
	draw_pipe(&sc, v);
	if (line(&sc)) {
		text_color(&sc.t, TEXT_DIM);
		text_add(&sc.t, "q quits");
		text_color(&sc.t, TEXT_PLAIN);
	}
	return sc.t.err ? sc.t.err : (int)sc.t.len;
}
