/* SPDX-License-Identifier: Apache-2.0 */
/*
 * emu_rows (the Snowpipe emulator's row path): the syntax-only validator
 * accepts exactly single JSON objects, NDJSON line splitting handles CRLF
 * and blank lines, and each column type converts or refuses like Snowflake.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "emu_rows.c"

static bool
valid(const char *s)
{
	return emu_rows_valid_object(s, strlen(s));
}

static void
test_validator(void **state)
{
	char deep[700];

	(void)state;
	assert_true(valid("{}"));
	assert_true(valid(" {\"a\":[1,{\"b\":null},-0.5e+3,true,false,\"x\\\"\\u00e9\"]} "));
	assert_true(valid("{\"\xc3\xa9\":\"\xf0\x9f\x98\x80\"}"));
	assert_false(valid("[]"));
	assert_false(valid("\"s\""));
	assert_false(valid("{\"a\":}"));
	assert_false(valid("{\"a\":1,}"));
	assert_false(valid("{\"a\":01}"));
	assert_false(valid("{\"a\":1.}"));
	assert_false(valid("{\"a\":\"\x01\"}"));
	assert_false(valid("{\"a\":\"\\x\"}"));
	assert_false(valid("{\"a\":1}{\"b\":2}"));
	assert_false(valid("{\"a\":\"\xc3\"}"));
	assert_false(valid("{\"a\":tru}"));
	assert_false(valid("{a:1}"));
	assert_false(valid("{\"a\":[1,2}"));
	memset(deep, '[', sizeof(deep));
	memcpy(deep, "{\"a\":", 5);
	deep[sizeof(deep) - 1] = '\0';
	assert_false(valid(deep));
}

static void
test_lines(void **state)
{
	const char body[] = "{\"a\":1}\r\n\n  \n{\"b\":2}";
	const char *line;
	size_t pos = 0, n;

	(void)state;
	assert_true(emu_rows_next_line(body, strlen(body), &pos, &line, &n));
	assert_int_equal(n, 7);
	assert_memory_equal(line, "{\"a\":1}", 7);
	assert_true(emu_rows_next_line(body, strlen(body), &pos, &line, &n));
	assert_memory_equal(line, "{\"b\":2}", 7);
	assert_false(emu_rows_next_line(body, strlen(body), &pos, &line, &n));
}

/* Converts JSON text v for col; returns 0 or -EINVAL, result in *out. */
static int
conv(const struct emu_column *col, const char *v, struct emu_val *out)
{
	json_t *j = json_loads(v, JSON_DECODE_ANY, NULL);
	char err[300];
	int r;

	assert_non_null(j);
	r = emu_rows_convert(col, j, out, err, sizeof(err));
	json_decref(j);
	return r;
}

static void
expect_text(const struct emu_column *col, const char *v, const char *want)
{
	struct emu_val out;

	assert_int_equal(conv(col, v, &out), 0);
	assert_int_equal(out.kind, EMU_V_TEXT);
	assert_string_equal(out.s, want);
	emu_val_clear(&out);
}

static void
expect_fail(const struct emu_column *col, const char *v)
{
	struct emu_val out;

	assert_int_equal(conv(col, v, &out), -EINVAL);
	emu_val_clear(&out);
}

static void
test_numbers(void **state)
{
	struct emu_column n52 = { .name = "N", .type = EMU_T_NUMBER, .precision = 5, .scale = 2 };
	struct emu_column i38 = { .name = "I", .type = EMU_T_NUMBER, .precision = 38 };
	struct emu_column f = { .name = "F", .type = EMU_T_FLOAT };
	struct emu_val out;

	(void)state;
	assert_int_equal(conv(&n52, "123.456", &out), 0);
	assert_int_equal(out.kind, EMU_V_REAL);
	assert_true(out.d > 123.459 && out.d < 123.461);
	expect_fail(&n52, "1234.5");
	expect_fail(&n52, "\"abc\"");
	expect_fail(&n52, "true");
	expect_fail(&n52, "{}");
	assert_int_equal(conv(&i38, "\" 42 \"", &out), 0);
	assert_int_equal(out.kind, EMU_V_INT);
	assert_int_equal(out.i, 42);
	assert_int_equal(conv(&i38, "41.6", &out), 0);
	assert_int_equal(out.i, 42);
	expect_fail(&i38, "\"4x\"");
	assert_int_equal(conv(&f, "\"NaN\"", &out), 0);
	assert_int_equal(conv(&f, "7", &out), 0);
	assert_true(out.kind == EMU_V_REAL && out.d == 7.0);
	expect_fail(&f, "\"\"");
	expect_fail(&f, "[1]");
}

static void
test_strings_and_bools(void **state)
{
	struct emu_column v3 = { .name = "V", .type = EMU_T_VARCHAR, .max_len = 3 };
	struct emu_column b = { .name = "B", .type = EMU_T_BOOLEAN };
	struct emu_val out;

	(void)state;
	expect_text(&v3, "\"\xc3\xa9t\xc3\xa9\"", "\xc3\xa9t\xc3\xa9");	/* 3 characters */
	expect_fail(&v3, "\"abcd\"");
	expect_text(&v3, "12", "12");
	expect_fail(&v3, "true");	/* "true" is 4 characters */
	expect_fail(&v3, "{\"a\":1}");
	assert_int_equal(conv(&b, "\"OFF\"", &out), 0);
	assert_int_equal(out.i, 0);
	assert_int_equal(conv(&b, "2", &out), 0);
	assert_int_equal(out.i, 1);
	expect_fail(&b, "\"maybe\"");
}

static void
test_times_and_variants(void **state)
{
	struct emu_column t = { .name = "T", .type = EMU_T_TIMESTAMP };
	struct emu_column d = { .name = "D", .type = EMU_T_DATE };
	struct emu_column v = { .name = "V", .type = EMU_T_VARIANT };
	struct emu_column o = { .name = "O", .type = EMU_T_OBJECT, .not_null = true };
	struct emu_val out;

	(void)state;
	expect_text(&t, "\"2026-01-01T00:00:00Z\"", "2026-01-01 00:00:00.000");
	expect_text(&t, "\"2024-02-29 23:59:59.5\"", "2024-02-29 23:59:59.500");
	expect_text(&t, "\"2026-01-01T10:20:30.123456789+05:30\"", "2026-01-01 10:20:30.123");
	expect_text(&t, "\"2026-01-01\"", "2026-01-01 00:00:00.000");
	expect_text(&t, "1767225600", "2026-01-01 00:00:00.000");
	expect_text(&t, "1767225600123", "2026-01-01 00:00:00.123");
	expect_text(&t, "1767225600123456", "2026-01-01 00:00:00.123");
	expect_fail(&t, "\"2023-02-29\"");
	expect_fail(&t, "\"2026-01-01T24:00:00\"");
	expect_fail(&t, "\"01/01/2026\"");
	expect_fail(&t, "1.5");
	expect_text(&d, "\"2026-03-04T05:06:07\"", "2026-03-04");
	expect_text(&v, "{\"b\": [1, \"x\"], \"a\": null}", "{\"b\":[1,\"x\"],\"a\":null}");
	expect_text(&v, "\"s\"", "\"s\"");
	expect_text(&v, "{\"h\":40.1,\"p\":101325.5}", "{\"h\":40.1,\"p\":101325.5}");
	expect_fail(&o, "[1]");
	assert_int_equal(emu_rows_convert(&o, NULL, &out, (char[64]){ 0 }, 64), -EINVAL);
	assert_int_equal(emu_rows_convert(&v, json_null(), &out, (char[64]){ 0 }, 64), 0);
	assert_int_equal(out.kind, EMU_V_NULL);
}

/* Strict ts_micros: the fraction is kept to min(precision, 6) digits,
 * truncated, from strings and from integer-stored times alike. */
static void
test_micros(void **state)
{
	struct emu_column t9 = { .name = "T", .type = EMU_T_TIMESTAMP, .precision = 9,
		.ts_micros = true };
	struct emu_column t3 = { .name = "T", .type = EMU_T_TIMESTAMP, .precision = 3,
		.ts_micros = true };
	struct emu_column t0 = { .name = "T", .type = EMU_T_TIMESTAMP, .precision = 0,
		.ts_micros = true };
	struct emu_column d = { .name = "D", .type = EMU_T_DATE, .precision = 9,
		.ts_micros = true };

	(void)state;
	expect_text(&t9, "\"2026-01-01T00:00:00.123456789Z\"", "2026-01-01 00:00:00.123456");
	expect_text(&t9, "\"2026-01-01 00:00:00.5\"", "2026-01-01 00:00:00.500000");
	expect_text(&t9, "\"2026-01-01\"", "2026-01-01 00:00:00.000000");
	expect_text(&t9, "1767225600123456", "2026-01-01 00:00:00.123456");
	expect_text(&t9, "1767225600123456789", "2026-01-01 00:00:00.123456");
	expect_text(&t9, "1767225600123", "2026-01-01 00:00:00.123000");
	expect_text(&t3, "\"2026-01-01T00:00:00.123956Z\"", "2026-01-01 00:00:00.123");
	expect_text(&t0, "\"2026-01-01T00:00:59.999Z\"", "2026-01-01 00:00:59");
	expect_text(&d, "\"2026-03-04T05:06:07.25\"", "2026-03-04");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_validator),
		cmocka_unit_test(test_lines),
		cmocka_unit_test(test_numbers),
		cmocka_unit_test(test_strings_and_bools),
		cmocka_unit_test(test_times_and_variants),
		cmocka_unit_test(test_micros),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
