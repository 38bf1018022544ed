/* SPDX-License-Identifier: Apache-2.0 */
/*
 * emu_ddl: reads the subset of Snowflake DDL that config/snowflake/setup.sql
 * uses — CREATE TABLE with typed columns and CREATE PIPE ... AS COPY INTO
 * ... FROM (SELECT $1:key, ... FROM TABLE(DATA_SOURCE(TYPE => 'STREAMING')))
 * — into the same JSON shapes the emulator's config uses for "tables" and
 * "pipes". Every other statement is skipped.
 */
#ifndef EMU_DDL_H
#define EMU_DDL_H

#include <stddef.h>

#include <jansson.h>

/* Parses the SQL file at path, appending table objects to tables and pipe
 * objects to pipes (both borrowed arrays). -EINVAL with a message in err
 * (file, statement number, what was expected). */
int emu_ddl_load(const char *path, json_t *tables, json_t *pipes, char *err, size_t errlen);
/* Same for SQL text buf[0..len); name is used in messages. */
int emu_ddl_parse(const char *name, const char *buf, size_t len, json_t *tables,
    json_t *pipes, char *err, size_t errlen);

#endif
