/* SPDX-License-Identifier: Apache-2.0 */
/*
 * emu_rows: what happens to one NDJSON row at commit time — splitting the
 * body into lines, projecting a row object through a pipe onto the table's
 * columns, and converting each value to its Snowflake column type (or saying
 * why it cannot be) — plus a fast syntax-only check for --store count.
 */
#ifndef EMU_ROWS_H
#define EMU_ROWS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "emu_conf.h"

enum emu_val_kind { EMU_V_NULL, EMU_V_INT, EMU_V_REAL, EMU_V_TEXT };

/* A converted value ready for SQLite; s is new (emu_val_clear frees it). */
struct emu_val {
	enum emu_val_kind kind;
	int64_t i;
	double d;
	char *s;
};

/* Frees what v owns and makes it NULL. */
void emu_val_clear(struct emu_val *v);
/* Converts v (borrowed; NULL = SQL NULL) for col into *out; on -EINVAL err
 * says why without quoting customer data. */
int emu_rows_convert(const struct emu_column *col, json_t *v, struct emu_val *out,
    char *err, size_t errlen);
/* Projects row (a JSON object, borrowed) through pipe p into vals (one per
 * table column, cleared by the caller). -EINVAL with err on the first
 * column that fails. */
int emu_rows_project(const struct emu_pipe *p, json_t *row, struct emu_val *vals,
    char *err, size_t errlen);
/* Steps *pos through buf to the next non-blank line (without its \r\n);
 * false at the end. */
bool emu_rows_next_line(const char *buf, size_t len, size_t *pos, const char **ret_line,
    size_t *ret_len);
/* True when s[0..n) is exactly one syntactically valid JSON object (UTF-8
 * checked), surrounding whitespace allowed. Builds nothing. */
bool emu_rows_valid_object(const char *s, size_t n);

#endif
