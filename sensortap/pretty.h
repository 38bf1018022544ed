/* SPDX-License-Identifier: Apache-2.0 */
/*
 * pretty: records as people read them — sensortap --pretty's one line per
 * record and the pieces --watch shows. Nothing here names a chip: it all
 * follows the record's field table (common/record.c), so a field added
 * there shows up with no change here:
 *
 * - a chip is a block of the record that may be null;
 * - a value shown is a number with a unit other than "ns" (times are the
 *   line's own), rounded and spelt as pretty.c's table of units says (Pa
 *   as hPa), in a column of fixed width;
 * - a chip's state is the record's "<chip>_state" string when the record
 *   has one ("ok", "warming_up", "retrying", ...), with "<chip>_since"
 *   (Unix ns) and "<chip>_error" beside it; a record without them says
 *   only whether the block is there;
 * - a string inside a chip's block says why one of its values is null
 *   (the SCD4x's co2_error): shown after the columns when present.
 */
#ifndef SNOWSENSE_PRETTY_H
#define SNOWSENSE_PRETTY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "record.h"
#include "text.h"

/* Whether f (a field of the record) is a chip: a block that may be null. */
bool pretty_is_chip(const struct record_field *f);
/* Whether f (a field of a chip's block) is a value --pretty shows. */
bool pretty_shown(const struct record_field *f);
/* Columns pretty_number takes for f: the same for every value of f. */
size_t pretty_cols(const struct record_field *f);
/* f's value in r as a number in f's own unit; false when it is null. */
bool pretty_get(const struct record *r, const struct record_field *blk,
    const struct record_field *f, double *ret);
/* Appends v (in f's unit) rounded, with the unit it is shown in
 * ("1007.36 hPa"); pad: right-aligned in pretty_cols(f) columns; a NAN
 * shows as "-" with the unit. */
void pretty_number(struct text *t, const struct record_field *f, double v, bool pad);

/* The state of chip blk in r as the record says it ("<chip>_state";
 * borrowed from r), or NULL when the record does not say. */
const char *pretty_state(const struct record *r, const struct record_field *blk);
/* When chip blk is failing: the Unix ns it began (0: not said) and its
 * last error (NULL: not said; borrowed from r). */
void pretty_trouble(const struct record *r, const struct record_field *blk,
    int64_t *ret_since, const char **ret_error);
/* Appends state as words ("no_new_sample" -> "no new sample"), at most
 * maxcols columns, coloured by what it means. */
void pretty_add_state(struct text *t, const char *state, size_t maxcols);

/* Writes ns (Unix ns) as local ISO 8601 time with the UTC offset,
 * "2026-12-07T06:47:38+01:00" (with_date false: "06:47:38"). */
void pretty_time(int64_t ns, bool with_date, char *buf, size_t cap);

/* Writes a duration of s seconds as people say it: "0.4 s", "12 s",
 * "3 min 12 s", "5 h 10 min". */
void pretty_duration(double s, char *buf, size_t cap);

/* r as one line (no newline) into buf (borrowed, cap bytes; NUL-terminated):
 * the time, the seq, each chip's values or state in fixed columns, then
 * what went wrong. Its length, or -ENOSPC. */
int pretty_line(const struct record *r, bool color, char *buf, size_t cap);

#endif
