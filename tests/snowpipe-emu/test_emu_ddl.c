/* SPDX-License-Identifier: Apache-2.0 */
/*
 * emu_ddl (the emulator's DDL reader): the Python prototype's DDL
 * (tests/snowpipe-emu/prototype.sql) reads into the table and pipe it
 * describes; USE DATABASE / USE SCHEMA qualify names; DEFAULT
 * CURRENT_TIMESTAMP(), casts with arguments, aliases, conversion functions
 * and COPY INTO without a column list are understood; what is not is refused
 * naming the statement.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* before cmocka.h, whose fail() macro would rename the reader's own */
#include "emu_ddl.c"

#include <cmocka.h>

struct world {
	json_t *tables, *pipes;
	char err[300];
};

static int
parse_sql(const char *sql, struct world *w)
{
	w->tables = json_array();
	w->pipes = json_array();
	w->err[0] = '\0';
	return emu_ddl_parse("t.sql", sql, strlen(sql), w->tables, w->pipes, w->err,
	    sizeof(w->err));
}

static void
world_free(struct world *w)
{
	json_decref(w->tables);
	json_decref(w->pipes);
}

static const char *
str(json_t *o, const char *k)
{
	return json_string_value(json_object_get(o, k));
}

static const char *
str_at(json_t *o, const char *k, size_t i)
{
	return json_string_value(json_array_get(json_object_get(o, k), i));
}

static void
test_prototype(void **state)
{
	const char *top = getenv("TOP");
	struct world w = { json_array(), json_array(), "" };
	char path[1024];
	json_t *t, *cols, *p, *sel;

	(void)state;
	snprintf(path, sizeof(path), "%s/tests/snowpipe-emu/prototype.sql", top ? top : ".");
	if (emu_ddl_load(path, w.tables, w.pipes, w.err, sizeof(w.err)) < 0)
		fail_msg("%s", w.err);
	assert_int_equal(json_array_size(w.tables), 1);
	t = json_array_get(w.tables, 0);
	assert_string_equal(str(t, "database"), "DEMO");
	assert_string_equal(str(t, "schema"), "DEMO");
	assert_string_equal(str(t, "name"), "THERMAL_SENSOR_DATA");
	cols = json_object_get(t, "columns");
	assert_int_equal(json_array_size(cols), 26);
	assert_string_equal(str(json_array_get(cols, 7), "name"), "temperature");
	assert_string_equal(str(json_array_get(cols, 7), "type"), "DECIMAL(10,4)");
	assert_string_equal(str(json_array_get(cols, 25), "name"), "ingestion_timestamp");
	assert_string_equal(str(json_array_get(cols, 25), "default_expr"),
	    "CURRENT_TIMESTAMP()");
	assert_int_equal(json_array_size(w.pipes), 1);
	p = json_array_get(w.pipes, 0);
	assert_string_equal(str(p, "database"), "DEMO");
	assert_string_equal(str(p, "name"), "THERMAL_SENSOR_PIPE");
	assert_string_equal(str(p, "table"), "THERMAL_SENSOR_DATA");
	sel = json_object_get(p, "select");
	assert_int_equal(json_array_size(sel), 25);
	assert_int_equal(json_array_size(json_object_get(p, "columns")), 25);
	assert_string_equal(str_at(p, "select", 0), "$1");
	assert_string_equal(str_at(p, "select", 7), "$1:temperature::DECIMAL");
	assert_string_equal(str_at(p, "select", 23), "$1:datetimestamp");
	world_free(&w);
}

static void
test_use_and_names(void **state)
{
	struct world w;

	(void)state;
	/* USE DATABASE alone makes PUBLIC current; two-part names take the db */
	assert_int_equal(parse_sql("use database d; create table t (a int); "
	    "create table s2.u (b int); use schema \"Mixed\"; create table v (c int) ;"
	    "use e.f; create table w (d int);", &w), 0);
	assert_string_equal(str(json_array_get(w.tables, 0), "schema"), "PUBLIC");
	assert_string_equal(str(json_array_get(w.tables, 0), "database"), "d");
	assert_string_equal(str(json_array_get(w.tables, 1), "schema"), "s2");
	assert_string_equal(str(json_array_get(w.tables, 2), "schema"), "\"Mixed\"");
	assert_string_equal(str(json_array_get(w.tables, 3), "database"), "e");
	assert_string_equal(str(json_array_get(w.tables, 3), "schema"), "f");
	world_free(&w);

	assert_int_equal(parse_sql("CREATE TABLE T (A INT);", &w), -EINVAL);
	assert_non_null(strstr(w.err, "statement 1: T is not qualified"));
	world_free(&w);
	assert_int_equal(parse_sql("USE ROLE R; USE WAREHOUSE W; CREATE TABLE S.T (A INT);",
	    &w), -EINVAL);
	assert_non_null(strstr(w.err, "statement 3:"));
	world_free(&w);
}

static void
test_pipe_forms(void **state)
{
	struct world w;
	json_t *p;

	(void)state;
	/* no column list: the SELECT fills the table's first columns in order */
	assert_int_equal(parse_sql("USE DATABASE D; USE SCHEMA S;"
	    "CREATE TABLE T (raw VARIANT, at TIMESTAMP_LTZ DEFAULT CURRENT_TIMESTAMP, n INT);"
	    "CREATE PIPE P AS COPY INTO t FROM (SELECT $1 raw, "
	    "to_timestamp_ltz($1:at)::TIMESTAMP_LTZ(3) \"AT\" "
	    "FROM TABLE(DATA_SOURCE(TYPE => 'STREAMING')));", &w), 0);
	p = json_array_get(w.pipes, 0);
	assert_string_equal(str_at(p, "columns", 1), "at");
	assert_string_equal(str_at(p, "select", 1), "$1:at");
	assert_string_equal(str(json_array_get(json_object_get(json_array_get(w.tables, 0),
	    "columns"), 1), "default_expr"), "CURRENT_TIMESTAMP()");
	world_free(&w);

	assert_int_equal(parse_sql("USE D.S; CREATE PIPE P AS COPY INTO T FROM (SELECT $1 "
	    "FROM TABLE(DATA_SOURCE(TYPE => 'STREAMING')));", &w), -EINVAL);
	assert_non_null(strstr(w.err, "needs the table's CREATE TABLE"));
	world_free(&w);
	assert_int_equal(parse_sql("USE D.S; CREATE PIPE P AS COPY INTO T (A) FROM (SELECT "
	    "TO_NUMBER($1:a, 10) FROM TABLE(DATA_SOURCE(TYPE => 'STREAMING')));", &w),
	    -EINVAL);
	assert_non_null(strstr(w.err, "TO_NUMBER: only one argument"));
	world_free(&w);
	assert_int_equal(parse_sql("USE D.S; CREATE PIPE P AS COPY INTO T (A) FROM (SELECT "
	    "UPPER($1:a) FROM TABLE(DATA_SOURCE(TYPE => 'STREAMING')));", &w), -EINVAL);
	assert_non_null(strstr(w.err, "only $1, $1:path and conversion functions"));
	world_free(&w);
	assert_int_equal(parse_sql("USE D.S; CREATE TABLE T (A TIMESTAMP DEFAULT NOW());",
	    &w), -EINVAL);
	assert_non_null(strstr(w.err, "only literal and CURRENT_TIMESTAMP() DEFAULTs"));
	world_free(&w);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_prototype),
		cmocka_unit_test(test_use_and_names),
		cmocka_unit_test(test_pipe_forms),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
