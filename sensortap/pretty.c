/* SPDX-License-Identifier: Apache-2.0 */
/*
 * pretty: the units people read, and the line. The one table here is of
 * units, not fields: how a value in that unit is rounded and how wide its
 * column is. A unit it does not know still shows, with four significant
 * digits.
 */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "pretty.h"

struct unit_fmt {
	const char *unit;	/* as the field table says it */
	const char *shown;	/* as people read it */
	double scale;		/* shown = value * scale */
	int width, prec;	/* of the number */
};

static const struct unit_fmt units[] = {
	{ "ppm", "ppm", 1, 5, 0 },
	{ "ppb", "ppb", 1, 5, 0 },
	{ "°C", "°C", 1, 5, 1 },
	{ "%RH", "%RH", 1, 5, 1 },
	{ "Pa", "hPa", 0.01, 7, 2 },
	{ "%", "%", 1, 5, 1 },
	{ "MiB", "MiB", 1, 7, 0 },
};
static const struct unit_fmt unknown_unit = { NULL, NULL, 1, 8, -1 };

#define STATE_MIN_COLS 13	/* "no new sample" */
#define NOTES_MAX 32		/* notes at the end of a line */

static const struct unit_fmt *
unit_of(const struct record_field *f)
{
	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++)
		if (strcmp(units[i].unit, f->unit) == 0)
			return &units[i];
	return &unknown_unit;
}

static bool
is_number(enum record_type t)
{
	return t == RECORD_U32 || t == RECORD_U64 || t == RECORD_I64 || t == RECORD_F64;
}

bool
pretty_shown(const struct record_field *f)
{
	return is_number(f->type) && f->unit[0] != '\0' && strcmp(f->unit, "ns") != 0;
}

size_t
pretty_cols(const struct record_field *f)
{
	const struct unit_fmt *u = unit_of(f);

	return (size_t)u->width + 1 + text_cols(u->shown ? u->shown : f->unit);
}

bool
pretty_get(const struct record *r, const struct record_field *blk,
    const struct record_field *f, double *ret)
{
	const void *v = record_value(r, f);

	if (!record_present(r, blk, f))
		return false;
	switch (f->type) {
	case RECORD_U32: *ret = *(const uint32_t *)v; return true;
	case RECORD_U64: *ret = (double)*(const uint64_t *)v; return true;
	case RECORD_I64: *ret = (double)*(const int64_t *)v; return true;
	case RECORD_F64: *ret = *(const double *)v; return true;
	default: return false;
	}
}

void
pretty_number(struct text *t, const struct record_field *f, double v, bool pad)
{
	const struct unit_fmt *u = unit_of(f);
	const char *shown = u->shown ? u->shown : f->unit;
	int w = pad ? u->width : 0;

	if (isnan(v))
		text_add(t, "%*s %s", w, "-", shown);
	else if (u->prec < 0)
		text_add(t, "%*.4g %s", w, v * u->scale, shown);
	else
		text_add(t, "%*.*f %s", w, u->prec, v * u->scale, shown);
}

/* The record's top-level field "<chip>_<what>" of type, if present. */
static const void *
chip_field(const struct record *r, const struct record_field *blk, const char *what,
    enum record_type type)
{
	const struct record_field *f, *in;
	char key[64];

	if (snprintf(key, sizeof(key), "%s_%s", blk->key, what) >= (int)sizeof(key))
		return NULL;
	f = record_find(key, &in);
	if (f == NULL || in != NULL || f->type != type || !record_present(r, NULL, f))
		return NULL;
	return record_value(r, f);
}

const char *
pretty_state(const struct record *r, const struct record_field *blk)
{
	const char *s = chip_field(r, blk, "state", RECORD_STR);

	return s != NULL && *s != '\0' ? s : NULL;
}

/* The state, or what the record shows when it does not say one. */
static const char *
state_or_shown(const struct record *r, const struct record_field *blk)
{
	const char *s = pretty_state(r, blk);

	if (s != NULL)
		return s;
	return record_present(r, NULL, blk) ? RECORD_OK : "no_sample";
}

void
pretty_trouble(const struct record *r, const struct record_field *blk, int64_t *ret_since,
    const char **ret_error)
{
	const int64_t *since = chip_field(r, blk, "since", RECORD_I64);
	const char *err = chip_field(r, blk, "error", RECORD_STR);

	*ret_since = since ? *since : 0;
	*ret_error = err && *err ? err : NULL;
}

static enum text_color
state_color(const char *state)
{
	/* "no_sample": what a record without states shows for a null block */
	static const struct { const char *state; enum text_color c; } colors[] = {
		{ RECORD_OK, TEXT_GREEN }, { RECORD_NO_NEW_SAMPLE, TEXT_DIM },
		{ "no_sample", TEXT_DIM }, { RECORD_DISABLED, TEXT_DIM },
		{ RECORD_WARMING_UP, TEXT_YELLOW }, { RECORD_RETRYING, TEXT_RED },
		{ RECORD_ABSENT, TEXT_RED },
	};

	for (size_t i = 0; i < sizeof(colors) / sizeof(colors[0]); i++)
		if (strcmp(colors[i].state, state) == 0)
			return colors[i].c;
	return TEXT_YELLOW;
}

void
pretty_add_state(struct text *t, const char *state, size_t maxcols)
{
	char words[64];
	size_t i;

	for (i = 0; state[i] != '\0' && i < sizeof(words) - 1; i++)
		words[i] = state[i] == '_' ? ' ' : state[i];
	words[i] = '\0';
	text_color(t, state_color(state));
	text_cut(t, words, maxcols);
	text_color(t, TEXT_PLAIN);
}

void
pretty_time(int64_t ns, bool with_date, char *buf, size_t cap)
{
	time_t s = (time_t)(ns / 1000000000 - (ns % 1000000000 < 0));
	char off[8];
	struct tm tm;

	if (localtime_r(&s, &tm) == NULL) {
		snprintf(buf, cap, "?");
		return;
	}
	if (!with_date) {
		strftime(buf, cap, "%H:%M:%S", &tm);
		return;
	}
	/* strftime's %z is +0100; ISO 8601's extended form wants +01:00 */
	strftime(off, sizeof(off), "%z", &tm);
	strftime(buf, cap, "%Y-%m-%dT%H:%M:%S", &tm);
	if (strlen(off) == 5)
		snprintf(buf + strlen(buf), cap - strlen(buf), "%.3s:%s", off, off + 3);
}

bool
pretty_is_chip(const struct record_field *f)
{
	return f->type == RECORD_MAP && f->has >= 0;
}

void
pretty_duration(double s, char *buf, size_t cap)
{
	if (!(s >= 0))
		s = 0;
	if (s < 9.95)
		snprintf(buf, cap, "%.1f s", s);
	else if (s < 120)
		snprintf(buf, cap, "%.0f s", s);
	else if (s < 7200)
		snprintf(buf, cap, "%d min %d s", (int)(s / 60), (int)s % 60);
	else if (s < 172800)
		snprintf(buf, cap, "%d h %d min", (int)(s / 3600), (int)(s / 60) % 60);
	else
		snprintf(buf, cap, "%.0f days", s / 86400);
}

/* Columns of a chip's slot: its values side by side, or its state. */
static size_t
slot_cols(const struct record_field *blk)
{
	size_t cols = 0;

	for (size_t i = 0; i < blk->nfields; i++)
		if (pretty_shown(&blk->fields[i]))
			cols += (cols ? 2 : 0) + pretty_cols(&blk->fields[i]);
	return cols > STATE_MIN_COLS ? cols : STATE_MIN_COLS;
}

static void
add_values(struct text *t, const struct record *r, const struct record_field *blk)
{
	bool first = true;
	double v;

	for (size_t i = 0; i < blk->nfields; i++) {
		const struct record_field *f = &blk->fields[i];

		if (!pretty_shown(f))
			continue;
		text_add(t, "%s", first ? "" : "  ");
		pretty_number(t, f, pretty_get(r, blk, f, &v) ? v : NAN, true);
		first = false;
	}
}

static void
add_chip(struct text *t, const struct record *r, const struct record_field *blk)
{
	size_t end;

	text_add(t, "  ");
	text_color(t, TEXT_DIM);
	text_add(t, "%s", blk->key);
	text_color(t, TEXT_PLAIN);
	text_add(t, " ");
	end = t->cols + slot_cols(blk);
	if (record_present(r, NULL, blk))
		add_values(t, r, blk);
	else
		pretty_add_state(t, state_or_shown(r, blk), slot_cols(blk));
	text_pad(t, end);
}

/* What went wrong, after the columns: the notes, each once. */
struct notes {
	const char *s[NOTES_MAX];
	char own[NOTES_MAX][160];
	size_t n;
};

static void
note(struct notes *nt, const char *s)
{
	for (size_t i = 0; i < nt->n; i++)
		if (strcmp(nt->s[i], s) == 0)
			return;
	if (nt->n < NOTES_MAX)
		nt->s[nt->n++] = s;
}

static void
note_fmt(struct notes *nt, const char *what, const char *detail)
{
	if (nt->n >= NOTES_MAX)
		return;
	snprintf(nt->own[nt->n], sizeof(nt->own[0]), "%s: %s", what, detail);
	note(nt, nt->own[nt->n]);
}

/* A block's strings say why one of its values is null (scd4x.co2_error):
 * each present one is a note. */
static void
note_reasons(struct notes *nt, const struct record *r, const struct record_field *blk)
{
	char what[64];

	for (size_t i = 0; i < blk->nfields; i++) {
		const struct record_field *f = &blk->fields[i];

		if (f->type != RECORD_STR || !record_present(r, blk, f) ||
		    *(const char *)record_value(r, f) == '\0')
			continue;
		snprintf(what, sizeof(what), "%s %s", blk->key, f->key);
		note_fmt(nt, what, record_value(r, f));
	}
}

static void
note_trouble(struct notes *nt, const struct record *r, const struct record_field *blk)
{
	const char *err;
	char what[64], when[16];
	int64_t since;

	pretty_trouble(r, blk, &since, &err);
	if (err == NULL && since == 0)
		return;
	pretty_time(since, false, when, sizeof(when));
	if (since != 0)
		snprintf(what, sizeof(what), "%s since %s", blk->key, when);
	else
		snprintf(what, sizeof(what), "%s", blk->key);
	note_fmt(nt, what, err ? err : state_or_shown(r, blk));
}

/* Whether fault is "<chip>: <error>" of a chip whose since and error are
 * already noted: the same words once are enough. */
static bool
said_by_trouble(const struct record *r, const char *fault)
{
	for (size_t i = 0; i < record_root.nfields; i++) {
		const struct record_field *blk = &record_root.fields[i];
		size_t k = strlen(blk->key);
		const char *err;
		int64_t since;

		if (!pretty_is_chip(blk) || strncmp(fault, blk->key, k) != 0 || fault[k] != ':')
			continue;
		pretty_trouble(r, blk, &since, &err);
		if (err != NULL && strcmp(fault + k + 1 + (fault[k + 1] == ' '), err) == 0)
			return true;
	}
	return false;
}

static void
collect_notes(struct notes *nt, const struct record *r)
{
	const struct record_field *f, *in;

	for (size_t i = 0; i < record_root.nfields; i++) {
		if (!pretty_is_chip(&record_root.fields[i]))
			continue;
		note_trouble(nt, r, &record_root.fields[i]);
		if (record_present(r, NULL, &record_root.fields[i]))
			note_reasons(nt, r, &record_root.fields[i]);
	}
	for (unsigned i = 0; i < r->nfaults && i < RECORD_MAX_FAULTS; i++)
		if (!said_by_trouble(r, r->faults[i]))
			note(nt, r->faults[i]);
	f = record_find("synced", &in);
	if (f != NULL && f->type == RECORD_BOOL && !*(const bool *)record_value(r, f))
		note(nt, "clock not synchronised");
}

int
pretty_line(const struct record *r, bool color, char *buf, size_t cap)
{
	struct notes nt = { .n = 0 };
	struct text t;
	char when[40];

	text_init(&t, buf, cap, color);
	pretty_time(r->t, true, when, sizeof(when));
	text_add(&t, "%s  seq %-8" PRIu64, when, r->seq);
	for (size_t i = 0; i < record_root.nfields; i++)
		if (pretty_is_chip(&record_root.fields[i]))
			add_chip(&t, r, &record_root.fields[i]);
	collect_notes(&nt, r);
	for (size_t i = 0; i < nt.n; i++) {
		text_add(&t, "%s", i ? "; " : "  ");
		text_color(&t, TEXT_RED);
		text_add(&t, "%s", nt.s[i]);
		text_color(&t, TEXT_PLAIN);
	}
	if (t.err)
		return t.err;
	/* trailing blanks of the last chip's slot say nothing */
	while (t.len > 0 && t.buf[t.len - 1] == ' ')
		t.buf[--t.len] = '\0';
	return (int)t.len;
}
