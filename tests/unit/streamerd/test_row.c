/* SPDX-License-Identifier: Apache-2.0 */
/*
 * row: every column of docs/schema.md present with its format, byte for byte
 * as before the field table drove it; nulls for missing blocks and sensor
 * warm-up; every record field reaching the row (a column or an extra key);
 * the worst-case record fitting ROW_MAX; deterministic uuid/rowid, escaping
 * of foreign strings, offset-token round trip and rejection of malformed
 * tokens; docs/schema.md's row tables equal to the code's.
 */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

/* the module itself, to reach its column table and plan */
#include "row.c"

#include "../docsection.h"

static const struct row_host host = { "pi-host", "192.168.1.20", "b8:27:eb:00:11:22" };

static void
full_record(struct record *r)
{
	memset(r, 0, sizeof(*r));
	r->seq = 42;
	r->t = 1764000000123000000LL;	/* 2025-11-24T16:00:00.123Z */
	r->boot_ns = 3723500000000ULL;
	r->synced = true;
	snprintf(r->device, sizeof(r->device), "pi-7");
	r->has_scd4x = true;
	r->scd4x = (struct rec_scd4x){ 612, 21.5, 45.25, r->t };
	r->scd4x.has_co2 = true;
	r->has_sgp30 = true;
	r->sgp30 = (struct rec_sgp30){ 450, 12, r->t, false, true };
	r->has_icp10125 = true;
	r->icp10125 = (struct rec_icp10125){ 100325.5, 20.0, r->t };
	r->sys = (struct rec_sys){ true, true, true, true, 50.0, 12.5, 33.0, 2048 };
}

static json_t *
format(const struct record *r, uint64_t jid)
{
	char buf[ROW_MAX];
	size_t len = 0;
	json_t *j;

	assert_int_equal(row_format(r, jid, &host, r->t + 12300000, buf, sizeof(buf), &len), 0);
	assert_int_equal(strlen(buf), len);
	assert_true(len > 2 && buf[len - 1] == '\n');
	assert_null(memchr(buf, '\n', len - 1));	/* one line: NDJSON */
	j = json_loadb(buf, len, 0, NULL);
	assert_non_null(j);
	return j;
}

static const char *
str(json_t *j, const char *k)
{
	json_t *v = json_object_get(j, k);

	assert_true(json_is_string(v));
	return json_string_value(v);
}

static double
num(json_t *j, const char *k)
{
	json_t *v = json_object_get(j, k);

	assert_true(json_is_number(v));
	return json_number_value(v);
}

static void
is_null(json_t *j, const char *k)
{
	json_t *v = json_object_get(j, k);

	assert_non_null(v);	/* present ... */
	assert_true(json_is_null(v));	/* ... and null */
}

static void
test_full_row(void **state)
{
	static const char *const keys[] = { "uuid", "rowid", "hostname", "host", "ipaddress",
		"macaddress", "temperature", "humidity", "co2", "equivalentco2ppm", "totalvocppb",
		"pressure", "cputempf", "temperatureicp", "cpu", "memory", "diskusage", "runtime",
		"ts", "systemtime", "starttime", "endtime", "datetimestamp", "te", "seq", "t_ns",
		"boot_ns", "synced", "device", "scd4x_t_meas", "sgp30_t_meas", "sgp30_warmup",
		"sgp30_baseline_ok", "icp10125_t_meas", "sys_cpu_t", "faults", "journal_id" };
	struct record r;
	json_t *j;

	(void)state;
	full_record(&r);
	j = format(&r, 0x0123456789abcdefULL);
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		assert_non_null(json_object_get(j, keys[i]));
	/* nothing else but the extra keys of fields added since */
	assert_int_equal(json_object_size(j), NCOLUMNS + plan.nextras + 1);
	assert_string_equal(str(j, "rowid"), "0123456789abcdef-00000000000000000042");
	assert_int_equal(strlen(str(j, "uuid")), 36);
	assert_int_equal(str(j, "uuid")[14], '8');	/* version 8 */
	assert_string_equal(str(j, "hostname"), "pi-7");
	assert_string_equal(str(j, "host"), "pi-host");
	assert_string_equal(str(j, "ipaddress"), "192.168.1.20");
	assert_string_equal(str(j, "macaddress"), "b8:27:eb:00:11:22");
	assert_true(num(j, "temperature") == 21.5);
	assert_true(num(j, "humidity") == 45.25);
	assert_true(num(j, "co2") == 612);
	assert_true(num(j, "equivalentco2ppm") == 450);
	assert_true(num(j, "totalvocppb") == 12);
	assert_true(num(j, "pressure") == 100325.5);
	assert_true(json_is_integer(json_object_get(j, "cputempf")));
	assert_int_equal(json_integer_value(json_object_get(j, "cputempf")), 122);
	assert_true(num(j, "temperatureicp") == 68.0);
	assert_true(num(j, "cpu") == 12.5);
	assert_true(num(j, "memory") == 33.0);
	assert_string_equal(str(j, "diskusage"), "2048 MB");
	assert_int_equal(json_integer_value(json_object_get(j, "runtime")), 3723);
	assert_int_equal(json_integer_value(json_object_get(j, "ts")), 1764000000);
	assert_string_equal(str(j, "systemtime"), "11/24/2025 16:00:00");
	assert_string_equal(str(j, "starttime"), "11/24/2025 16:00:00");
	assert_string_equal(str(j, "endtime"), "1764000000");
	assert_string_equal(str(j, "datetimestamp"), "2025-11-24T16:00:00.123");
	assert_string_equal(str(j, "te"), "0.0123");
	assert_int_equal(json_integer_value(json_object_get(j, "seq")), 42);
	assert_true(json_is_true(json_object_get(j, "synced")));
	assert_true(json_is_false(json_object_get(j, "sgp30_warmup")));
	assert_true(json_is_true(json_object_get(j, "sgp30_baseline_ok")));
	assert_int_equal(json_array_size(json_object_get(j, "faults")), 0);
	assert_int_equal(json_integer_value(json_object_get(j, "t_ns")), r.t);
	assert_string_equal(str(j, "journal_id"), "0123456789abcdef");
	/* fields no column carries whole: exact in RAW_DATA */
	assert_int_equal(json_integer_value(json_object_get(j, "boot_ns")), r.boot_ns);
	assert_int_equal(json_integer_value(json_object_get(j, "scd4x_t_meas")), r.t);
	assert_true(num(j, "sys_cpu_t") == 50.0);
	json_decref(j);
}

/* The 24 columns as the hand-written row_format wrote them before the
 * column table (the same record, the same bytes), and the extra keys as
 * they are today, compared key by key so that a field added to the record
 * (a new extra key) does not change this test. */
static void
test_golden_row(void **state)
{
	static const char columns_before[] = "{\"uuid\":\"78a315f6-2586-8d7d-93df-7ead055fa837\","
	    "\"rowid\":\"0123456789abcdef-00000000000000000042\",\"hostname\":\"pi-7\","
	    "\"host\":\"pi-host\",\"ipaddress\":\"192.168.1.20\",\"macaddress\":"
	    "\"b8:27:eb:00:11:22\",\"temperature\":21.5,\"humidity\":45.25,\"co2\":612,"
	    "\"equivalentco2ppm\":450,\"totalvocppb\":12,\"pressure\":100325.5,"
	    "\"cputempf\":122,\"temperatureicp\":68,\"cpu\":12.5,\"memory\":33,"
	    "\"diskusage\":\"2048 MB\",\"runtime\":3723,\"ts\":1764000000,"
	    "\"systemtime\":\"11/24/2025 16:00:00\",\"starttime\":\"11/24/2025 16:00:00\","
	    "\"endtime\":\"1764000000\",\"datetimestamp\":\"2025-11-24T16:00:00.123\","
	    "\"te\":\"0.0123\"";
	static const char extras[] = ",\"seq\":42,\"t_ns\":1764000000123000000,"
	    "\"boot_ns\":3723500000000,\"synced\":true,\"device\":\"pi-7\","
	    "\"scd4x_t_meas\":1764000000123000000,\"sgp30_t_meas\":1764000000123000000,"
	    "\"sgp30_warmup\":false,\"sgp30_baseline_ok\":true,"
	    "\"icp10125_t_meas\":1764000000123000000,\"sys_cpu_t\":50,"
	    "\"faults\":[\"scd4x: crc \\\"bad\\\"\\u000a\"],\"journal_id\":\"0123456789abcdef\"}\n";
	char buf[ROW_MAX], want[ROW_MAX];
	struct record r;
	json_t *row, *old, *v;
	const char *k;
	size_t len;

	(void)state;
	full_record(&r);
	record_add_fault(&r, "scd4x: crc \"bad\"\n");
	assert_int_equal(row_format(&r, 0x0123456789abcdefULL, &host, r.t + 12300000, buf,
	    sizeof(buf), &len), 0);
	assert_memory_equal(buf, columns_before, sizeof(columns_before) - 1);
	snprintf(want, sizeof(want), "{%s", extras + 1);
	row = json_loads(buf, 0, NULL);
	old = json_loads(want, 0, NULL);
	assert_true(row != NULL && old != NULL);
	json_object_foreach(old, k, v)
		if (!json_equal(v, json_object_get(row, k)))
			fail_msg("extra key \"%s\" differs", k);
	json_decref(row);
	json_decref(old);
}

/* Every field of the record table reaches the row: through a column that
 * carries it, or as its extra key with its value; null when it is null. */
static void
test_every_field_reaches_row(void **state)
{
	const struct record_field *root = &record_root;
	struct record r, none;
	json_t *j, *jn;

	(void)state;
	full_record(&r);
	memset(&none, 0, sizeof(none));		/* every nullable field null */
	j = format(&r, 1);
	jn = format(&none, 1);
	for (size_t i = 0; i < root->nfields; i++) {
		const struct record_field *f = &root->fields[i];
		size_t n = f->type == RECORD_MAP ? f->nfields : 1;

		for (size_t k = 0; k < n; k++) {
			const struct record_field *blk = f->type == RECORD_MAP ? f : NULL;
			const struct record_field *v = blk ? &f->fields[k] : f;
			char name[64];
			bool col = false;

			for (size_t c = 0; c < NCOLUMNS; c++)
				col |= plan.cols[c].f == v && columns[c].carries;
			assert_true(record_flat_name(blk, v, name, sizeof(name)) > 0);
			if (col) {
				assert_null(json_object_get(j, name));
				continue;
			}
			if (json_object_get(j, name) == NULL)
				fail_msg("record field \"%s\" reaches no column and no extra key", name);
			if (!record_present(&none, blk, v))
				is_null(jn, name);
		}
	}
	json_decref(j);
	json_decref(jn);
}

/* Fills every string of the table to its cap with characters JSON escapes
 * six-fold, the strings list to its cap, numbers to their longest. */
static void
worst_map(struct record *r, const struct record_field *map)
{
	for (size_t i = 0; i < map->nfields; i++) {
		const struct record_field *f = &map->fields[i];
		char *p = (char *)r + f->off;

		if (f->has != RECORD_NOT_NULL)
			*(bool *)((char *)r + f->has) = true;
		switch (f->type) {
		case RECORD_U32: *(uint32_t *)p = UINT32_MAX; break;
		case RECORD_U64: *(uint64_t *)p = UINT64_MAX; break;
		case RECORD_I64: *(int64_t *)p = INT64_MIN; break;
		case RECORD_F64: *(double *)p = -1.2345678901234567e-300; break;
		case RECORD_BOOL: *(bool *)p = false; break;
		case RECORD_STR: memset(p, 1, f->size - 1); break;
		case RECORD_STRS:
			memset(p, 1, f->max * f->size);
			for (size_t k = 0; k < f->max; k++)
				p[(k + 1) * f->size - 1] = '\0';
			*(unsigned *)((char *)r + f->count) = (unsigned)f->max;
			break;
		case RECORD_MAP: worst_map(r, f); break;
		}
	}
}

static void
test_worst_case_fits(void **state)
{
	static struct row_host h;
	static char buf[ROW_MAX];
	struct record r;
	size_t len;

	(void)state;
	memset(&r, 0, sizeof(r));
	worst_map(&r, &record_root);
	memset(h.host, 1, sizeof(h.host) - 1);
	memset(h.ip, 1, sizeof(h.ip) - 1);
	memset(h.mac, 1, sizeof(h.mac) - 1);
	assert_int_equal(row_format(&r, UINT64_MAX, &h, INT64_MAX, buf, sizeof(buf), &len), 0);
	assert_int_equal(strlen(buf), len);
}

static void
test_schema_doc(void **state)
{
	static char md[16384];
	size_t n;

	(void)state;
	if (!plan.ready)
		row_setup();
	n = (size_t)snprintf(md, sizeof(md), "| column | from | how |\n|---|---|---|\n");
	for (size_t i = 0; i < NCOLUMNS; i++)
		n += (size_t)snprintf(md + n, sizeof(md) - n, "| `%s` | %s%s%s | %s |\n",
		    columns[i].name, columns[i].src ? "`" : "",
		    columns[i].src ? columns[i].src : "", columns[i].src ? "`" : "",
		    columns[i].how);
	assert_true(n < sizeof(md));
	doc_section("<!-- row columns: generated from streamerd/row.c -->\n", md);
	n = (size_t)snprintf(md, sizeof(md), "| extra key | from |\n|---|---|\n");
	for (size_t i = 0; i < plan.nextras; i++) {
		const struct slot *x = &plan.extras[i];

		/* the slot's key is ,"name": */
		n += (size_t)snprintf(md + n, sizeof(md) - n, "| `%.*s` | `%s%s%s` |\n",
		    (int)x->klen - 4, x->key + 2, x->blk ? x->blk->key : "", x->blk ? "." : "",
		    x->f->key);
	}
	assert_true(n < sizeof(md));
	doc_section("<!-- row extra keys: generated from streamerd/row.c and common/record.c -->\n",
	    md);
}

static void
test_nulls(void **state)
{
	struct record r;
	json_t *j;

	(void)state;
	full_record(&r);
	r.has_scd4x = false;
	r.has_icp10125 = false;
	r.sgp30.warmup = true;	/* warm-up constants are not measurements */
	r.sys = (struct rec_sys){ 0 };
	j = format(&r, 1);
	is_null(j, "temperature");
	is_null(j, "humidity");
	is_null(j, "co2");
	is_null(j, "equivalentco2ppm");
	is_null(j, "totalvocppb");
	is_null(j, "pressure");
	is_null(j, "temperatureicp");
	is_null(j, "cputempf");
	is_null(j, "cpu");
	is_null(j, "memory");
	is_null(j, "diskusage");
	assert_true(json_is_true(json_object_get(j, "sgp30_warmup")));
	json_decref(j);
	r.has_sgp30 = false;
	j = format(&r, 1);
	is_null(j, "sgp30_warmup");
	is_null(j, "sgp30_baseline_ok");
	is_null(j, "equivalentco2ppm");
	json_decref(j);
}

/* A 0 ppm SCD4x reading: co2 null with its reason, t and rh kept; the
 * chips' states reach RAW_DATA as extra keys. */
static void
test_co2_null_with_reason(void **state)
{
	struct record r;
	json_t *j;

	(void)state;
	full_record(&r);
	r.scd4x.has_co2 = false;
	r.scd4x.has_co2_error = true;
	snprintf(r.scd4x.co2_error, sizeof(r.scd4x.co2_error), "0 ppm is not valid");
	r.scd4x_st = (struct rec_chip_state){ .has_state = true, .state = "ok" };
	r.icp10125_st = (struct rec_chip_state){ true, true, true, "retrying", 17,
	    "nack on measure" };
	r.has_icp10125 = false;
	j = format(&r, 1);
	is_null(j, "co2");
	assert_true(num(j, "temperature") == 21.5);
	assert_true(num(j, "humidity") == 45.25);
	assert_string_equal(str(j, "scd4x_co2_error"), "0 ppm is not valid");
	assert_string_equal(str(j, "scd4x_state"), "ok");
	is_null(j, "scd4x_since");
	assert_string_equal(str(j, "icp10125_state"), "retrying");
	assert_int_equal(json_integer_value(json_object_get(j, "icp10125_since")), 17);
	assert_string_equal(str(j, "icp10125_error"), "nack on measure");
	is_null(j, "pressure");
	json_decref(j);
}

static void
test_no_host_facts(void **state)
{
	struct row_host none = { "", "", "" };
	char buf[ROW_MAX];
	struct record r;
	size_t len;
	json_t *j;

	(void)state;
	full_record(&r);
	assert_int_equal(row_format(&r, 1, &none, r.t, buf, sizeof(buf), &len), 0);
	j = json_loads(buf, 0, NULL);
	assert_non_null(j);
	is_null(j, "ipaddress");
	is_null(j, "macaddress");
	is_null(j, "host");
	json_decref(j);
}

/* Every piece of a row is copied by length class (row.c copy_small): a
 * host name of each length from 1 to 40 bytes arrives whole, and so do
 * the pieces around it. */
static void
test_piece_lengths(void **state)
{
	struct row_host h = { "", "10.0.0.1", "" };
	char buf[ROW_MAX];
	struct record r;
	size_t len;
	json_t *j;

	(void)state;
	full_record(&r);
	for (size_t n = 1; n <= 40; n++) {
		for (size_t i = 0; i < n; i++)
			h.host[i] = (char)('a' + (i * 7 + n) % 26);
		h.host[n] = '\0';
		assert_int_equal(row_format(&r, 1, &h, r.t, buf, sizeof(buf), &len), 0);
		assert_int_equal(strlen(buf), len);
		j = json_loads(buf, 0, NULL);
		assert_non_null(j);
		assert_string_equal(json_string_value(json_object_get(j, "host")), h.host);
		assert_string_equal(json_string_value(json_object_get(j, "ipaddress")), "10.0.0.1");
		json_decref(j);
	}
}

static void
test_escaping_and_faults(void **state)
{
	struct record r;
	json_t *j;

	(void)state;
	full_record(&r);
	snprintf(r.device, sizeof(r.device), "a\"b\\c\x01");
	record_add_fault(&r, "scd4x: crc \"bad\"\n");
	record_add_fault(&r, "sgp30: nack");
	j = format(&r, 1);
	assert_string_equal(str(j, "device"), "a\"b\\c\x01");
	assert_string_equal(str(j, "hostname"), "a\"b\\c\x01");
	assert_int_equal(json_array_size(json_object_get(j, "faults")), 2);
	assert_string_equal(json_string_value(json_array_get(json_object_get(j, "faults"), 0)),
	    "scd4x: crc \"bad\"\n");
	json_decref(j);
}

static void
test_deterministic(void **state)
{
	char a[ROW_MAX], b[ROW_MAX];
	struct record r;
	size_t la, lb;
	json_t *ja, *jb;

	(void)state;
	full_record(&r);
	assert_int_equal(row_format(&r, 7, &host, r.t, a, sizeof(a), &la), 0);
	assert_int_equal(row_format(&r, 7, &host, r.t + 5000000000LL, b, sizeof(b), &lb), 0);
	ja = json_loads(a, 0, NULL);
	jb = json_loads(b, 0, NULL);
	assert_string_equal(str(ja, "uuid"), str(jb, "uuid"));
	assert_string_equal(str(ja, "rowid"), str(jb, "rowid"));
	json_decref(jb);
	r.seq = 43;	/* another seq: another uuid */
	assert_int_equal(row_format(&r, 7, &host, r.t, b, sizeof(b), &lb), 0);
	jb = json_loads(b, 0, NULL);
	assert_string_not_equal(str(ja, "uuid"), str(jb, "uuid"));
	json_decref(ja);
	json_decref(jb);
}

static void
test_small_buffer(void **state)
{
	char buf[64];
	struct record r;
	size_t len = 99;

	(void)state;
	full_record(&r);
	assert_int_equal(row_format(&r, 1, &host, r.t, buf, sizeof(buf), &len), -ENOSPC);
	assert_int_equal(len, 99);
}

static void
test_offset_tokens(void **state)
{
	char tok[ROW_OFFSET_TOKEN_LEN];
	uint64_t jid = 0, seq = 0;

	(void)state;
	row_offset_token(0xfedcba9876543210ULL, UINT64_MAX, tok);
	assert_string_equal(tok, "fedcba9876543210-18446744073709551615");
	assert_int_equal(row_parse_offset_token(tok, &jid, &seq), 0);
	assert_true(jid == 0xfedcba9876543210ULL && seq == UINT64_MAX);
	/* string order equals numeric order thanks to the fixed width */
	row_offset_token(1, 9, tok);
	assert_string_equal(tok, "0000000000000001-00000000000000000009");
	assert_int_equal(row_parse_offset_token(NULL, &jid, &seq), -EINVAL);
	assert_int_equal(row_parse_offset_token("0", &jid, &seq), -EINVAL);
	assert_int_equal(row_parse_offset_token("1042", &jid, &seq), -EINVAL);
	assert_int_equal(row_parse_offset_token("000000000000000G-00000000000000000009",
	    &jid, &seq), -EINVAL);
	assert_int_equal(row_parse_offset_token("0000000000000001_00000000000000000009",
	    &jid, &seq), -EINVAL);
	assert_int_equal(row_parse_offset_token("0000000000000001-18446744073709551616",
	    &jid, &seq), -EINVAL);
	assert_int_equal(row_parse_offset_token("0000000000000001-0000000000000000000x",
	    &jid, &seq), -EINVAL);
	assert_int_equal(row_parse_offset_token("00000000000000A1-00000000000000000009",
	    &jid, &seq), -EINVAL);	/* upper-case hex is not what we write */
}

/* One value through the row's number writer and through printf. */
static void
same_as_printf(double v)
{
	char want[64], got[64];
	struct sb b = { .p = got, .cap = sizeof(got) };

	snprintf(want, sizeof(want), "%.10g", v);
	sb_dbl(&b, v);
	got[b.len] = '\0';
	if (strcmp(got, want) != 0)
		fail_msg("%.17g: wrote \"%s\", printf \"%s\"", v, got, want);
}

static uint64_t
xorshift(uint64_t *x)
{
	*x ^= *x << 13;
	*x ^= *x >> 7;
	*x ^= *x << 17;
	return *x;
}

/* Numbers are written without printf: byte for byte what "%.10g" and
 * "%.4f" write, for sensor-like values, powers of ten and their neighbours,
 * halves at the tenth digit, random bit patterns and every magnitude. */
/* sb_u64 and sb_i64 write what printf writes: the edges, every power of
 * ten and its neighbours, and random values of every length. */
static void
test_integers_as_printf(void **state)
{
	static const int64_t edges[] = { 0, 1, -1, 9, 10, 99, 100, INT64_MAX, INT64_MIN,
		INT64_MIN + 1, 99999999, 100000000, 9999999999999999LL, 1764000000123456789LL };
	uint64_t x = 0x243f6a8885a308d3ULL, p = 1;
	char got[32], want[32];
	struct sb b;

	(void)state;
	for (int i = 0; i < 200000 + 60 + (int)(sizeof(edges) / sizeof(edges[0])); i++) {
		uint64_t u;
		int64_t v;

		if (i < (int)(sizeof(edges) / sizeof(edges[0]))) {
			v = edges[i];
			u = (uint64_t)v;
		} else if (i < (int)(sizeof(edges) / sizeof(edges[0])) + 60) {
			int k = i - (int)(sizeof(edges) / sizeof(edges[0]));

			if (k % 3 == 0 && k > 0)
				p = p * 10 > p ? p * 10 : 1;
			u = p + (uint64_t)(k % 3) - 1;	/* 10^n - 1, 10^n, 10^n + 1 */
			v = (int64_t)u;
		} else {
			u = xorshift(&x) >> (xorshift(&x) % 64);	/* every length */
			v = (int64_t)u;
		}
		b = (struct sb){ .p = got, .cap = sizeof(got) };
		sb_u64(&b, u);
		got[b.len] = '\0';
		snprintf(want, sizeof(want), "%" PRIu64, u);
		if (strcmp(got, want) != 0)
			fail_msg("u64 %s written as %s", want, got);
		b = (struct sb){ .p = got, .cap = sizeof(got) };
		sb_i64(&b, v);
		got[b.len] = '\0';
		snprintf(want, sizeof(want), "%" PRId64, v);
		if (strcmp(got, want) != 0)
			fail_msg("i64 %s written as %s", want, got);
	}
}

static void
test_numbers_as_printf(void **state)
{
	static const double fixed[] = {
		0.0, -0.0, 1.0, -1.0, 0.5, 21.5, 45.25, 100325.5, 612.0, 1e-4, 9.99999999995e-5,
		0.00012345678915, 123456789.5, 999999999.95, 999999999.4, 1e9, 1e10, 1e-5, 1e300,
		5e-324, 0.1, 0.2, 0.3, 1.0 / 3.0, 2.0 / 3.0, 12345678.125, 1234567.8125,
		9999999999.5, 0.99999999995, 0.999999999949, 77.0000000005,
	};
	uint64_t x = 0x9e3779b97f4a7c15ULL;

	(void)state;
	for (size_t i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++) {
		same_as_printf(fixed[i]);
		same_as_printf(-fixed[i]);
	}
	for (int e = -12; e <= 12; e++) {
		double p = pow(10, e);

		same_as_printf(p);
		same_as_printf(nextafter(p, 0));
		same_as_printf(nextafter(p, INFINITY));
	}
	for (int i = 0; i < 200000; i++) {
		uint64_t r = xorshift(&x);
		double v, sensor;

		memcpy(&v, &r, sizeof(v));
		if (isfinite(v))
			same_as_printf(v);
		/* a chip's conversion: raw word * scale + offset */
		sensor = -45.0 + 175.0 * (double)(r & 0xffff) / 65535.0;
		same_as_printf(sensor);
		same_as_printf(sensor * 9.0 / 5.0 + 32.0);
		same_as_printf((double)(r % 2000000) / 16.0);
		same_as_printf(ldexp((double)(r >> 11), (int)(r % 80) - 90));
	}
	for (int i = 0; i < 200000; i++) {
		uint64_t ns = i < 100000 ? xorshift(&x) % (UINT64_C(1) << 40) :
		    (uint64_t)i * 50000 + (xorshift(&x) % 5);
		struct record r = { .t = 0 };
		struct rowctx c = { .now_ns = (int64_t)ns };
		char want[64], got[64];

		c.b = (struct sb){ .p = got, .cap = sizeof(got) };
		c.r = &r;
		put_te(&c, NULL, &r.t);
		got[c.b.len] = '\0';
		snprintf(want, sizeof(want), "\"%.4f\"", (double)ns / 1e9);
		if (strcmp(got, want) != 0)
			fail_msg("te of %" PRIu64 " ns: wrote %s, printf %s", ns, got, want);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_full_row),
		cmocka_unit_test(test_golden_row),
		cmocka_unit_test(test_every_field_reaches_row),
		cmocka_unit_test(test_worst_case_fits),
		cmocka_unit_test(test_schema_doc),
		cmocka_unit_test(test_nulls),
		cmocka_unit_test(test_co2_null_with_reason),
		cmocka_unit_test(test_no_host_facts),
		cmocka_unit_test(test_piece_lengths),
		cmocka_unit_test(test_escaping_and_faults),
		cmocka_unit_test(test_deterministic),
		cmocka_unit_test(test_small_buffer),
		cmocka_unit_test(test_offset_tokens),
		cmocka_unit_test(test_integers_as_printf),
		cmocka_unit_test(test_numbers_as_printf),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
