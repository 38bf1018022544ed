/* SPDX-License-Identifier: Apache-2.0 */
/*
 * record: the field table is well formed (what the codec, the row and the
 * docs rely on), lookups by path and flat names work, and docs/schema.md
 * shows the table as it is.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "record.h"
#include "../docsection.h"

static void
check_map(const struct record_field *map)
{
	assert_true(map->nfields > 0 && map->nfields <= 64);	/* the decoder's seen bits */
	for (size_t i = 0; i < map->nfields; i++) {
		const struct record_field *f = &map->fields[i];

		assert_int_equal(f->klen, strlen(f->key));
		assert_true(f->klen > 0 && f->unit != NULL && f->doc != NULL && f->doc[0]);
		for (size_t j = 0; j < i; j++)
			if (strcmp(map->fields[j].key, f->key) == 0)
				fail_msg("key \"%s\" twice in \"%s\"", f->key, map->key);
		/* a field older records lack must be able to say "null" */
		if (f->optional && f->has == RECORD_NOT_NULL)
			fail_msg("\"%s\" is optional but never null", f->key);
		assert_true(f->has == RECORD_NOT_NULL ||
		    (size_t)f->has + sizeof(bool) <= sizeof(struct record));
		assert_true(f->type == RECORD_MAP || f->off < sizeof(struct record));
		if (f->type == RECORD_STR || f->type == RECORD_STRS)
			assert_true(f->size > 1);
		if (f->type == RECORD_STRS)
			assert_true(f->off + f->max * f->size <= sizeof(struct record) && f->max > 0);
		if (f->type == RECORD_MAP) {
			assert_true(map == &record_root);	/* one level of blocks */
			check_map(f);
		}
	}
}

/* Is key the .why of a field of map? */
static bool
is_reason(const struct record_field *map, const char *key)
{
	for (size_t i = 0; i < map->nfields; i++)
		if (map->fields[i].why && strcmp(map->fields[i].why, key) == 0)
			return true;
	return false;
}

/* No null without a reason, in the table itself: a chip's block (a block
 * that may be null) has its "<chip>_state" beside it, and a value of it that
 * may be null on its own names a reason field of the same block, a string
 * that may be null. */
static void
test_nulls_have_reasons(void **state)
{
	const struct record_field *blk, *f;
	char path[64];

	(void)state;
	for (size_t i = 0; i < record_root.nfields; i++) {
		const struct record_field *b = &record_root.fields[i];

		if (b->type != RECORD_MAP || b->has == RECORD_NOT_NULL)
			continue;
		snprintf(path, sizeof(path), "%s_state", b->key);
		f = record_find(path, &blk);
		assert_non_null(f);
		assert_true(f->type == RECORD_STR && f->has != RECORD_NOT_NULL);
		for (size_t j = 0; j < b->nfields; j++) {
			const struct record_field *v = &b->fields[j];

			if (v->has == RECORD_NOT_NULL || is_reason(b, v->key))
				continue;
			if (v->why == NULL)
				fail_msg("%s.%s may be null with no field saying why", b->key,
				    v->key);
			snprintf(path, sizeof(path), "%s.%s", b->key, v->why);
			f = record_find(path, &blk);
			assert_non_null(f);
			assert_true(blk == b && f->type == RECORD_STR &&
			    f->has != RECORD_NOT_NULL && f->why == NULL);
		}
	}
}

static void
test_table_well_formed(void **state)
{
	char names[128][64];
	size_t n = 0;

	(void)state;
	check_map(&record_root);
	/* flat names (the row's extra keys) are unique */
	for (size_t i = 0; i < record_root.nfields; i++) {
		const struct record_field *f = &record_root.fields[i];
		size_t m = f->type == RECORD_MAP ? f->nfields : 1;

		for (size_t j = 0; j < m; j++) {
			const struct record_field *blk = f->type == RECORD_MAP ? f : NULL;

			assert_true(n < 128);
			assert_true(record_flat_name(blk, blk ? &f->fields[j] : f, names[n],
			    sizeof(names[n])) > 0);
			for (size_t k = 0; k < n; k++)
				if (strcmp(names[k], names[n]) == 0)
					fail_msg("flat name \"%s\" twice", names[n]);
			n++;
		}
	}
}

static void
test_find_and_flat_names(void **state)
{
	const struct record_field *blk = (void *)1, *f;
	char name[64];

	(void)state;
	f = record_find("scd4x.co2", &blk);
	assert_non_null(f);
	assert_string_equal(blk->key, "scd4x");
	assert_int_equal(f->off, offsetof(struct record, scd4x.co2));
	assert_int_equal(record_flat_name(blk, f, name, sizeof(name)), 9);
	assert_string_equal(name, "scd4x_co2");
	f = record_find("t", &blk);
	assert_non_null(f);
	assert_null(blk);
	assert_int_equal(record_flat_name(blk, f, name, sizeof(name)), 4);
	assert_string_equal(name, "t_ns");	/* the row's name since the start */
	f = record_find("sys", &blk);
	assert_true(f != NULL && f->type == RECORD_MAP);
	assert_null(record_find("scd4x.nope", &blk));
	assert_null(record_find("seq.x", &blk));
	assert_null(record_find("nope", &blk));
	assert_null(record_find("", &blk));
	f = record_find("sgp30.baseline_ok", &blk);
	assert_int_equal(record_flat_name(blk, f, name, 8), -ENOSPC);
}

static void
test_presence(void **state)
{
	const struct record_field *blk, *co2 = record_find("scd4x.co2", &blk), *sblk,
	    *cpu = record_find("sys.cpu", &sblk);
	struct record r;

	(void)state;
	memset(&r, 0, sizeof(r));	/* zeroed: everything nullable is null */
	assert_false(record_present(&r, blk, co2));
	assert_false(record_present(&r, sblk, cpu));
	r.has_scd4x = true;
	r.sys.has_cpu = true;
	assert_false(record_present(&r, blk, co2));	/* a block and its own flag */
	r.scd4x.has_co2 = true;
	assert_true(record_present(&r, blk, co2));
	assert_true(record_present(&r, sblk, cpu));
	assert_true(record_present(&r, NULL, record_find("seq", &blk)));
}

/* One line per field for docs/schema.md. */
static size_t
md_field(char *o, size_t cap, const struct record_field *blk,
    const struct record_field *f)
{
	const char *null = f->why != NULL ? "yes, with a reason" :
	    f->has != RECORD_NOT_NULL ? "yes" :
	    blk != NULL && blk->has != RECORD_NOT_NULL ? "with its block" : "no";
	int n = snprintf(o, cap, "| `%s%s%s` | %s%s | %s | %s%s | %s |\n",
	    blk ? blk->key : "", blk ? "." : "", f->key, record_type_name(f->type),
	    f->type == RECORD_MAP && f->has != RECORD_NOT_NULL ? " or null" : "", f->unit,
	    null, f->optional ? ", may be absent" : "", f->doc);

	assert_true(n > 0 && (size_t)n < cap);
	return (size_t)n;
}

static void
test_schema_doc(void **state)
{
	static char md[32768];
	size_t n;

	(void)state;
	n = (size_t)snprintf(md, sizeof(md), "| key | type | unit | null | meaning |\n"
	    "|---|---|---|---|---|\n");
	for (size_t i = 0; i < record_root.nfields; i++) {
		const struct record_field *f = &record_root.fields[i];

		n += md_field(md + n, sizeof(md) - n, NULL, f);
		for (size_t j = 0; f->type == RECORD_MAP && j < f->nfields; j++)
			n += md_field(md + n, sizeof(md) - n, f, &f->fields[j]);
	}
	doc_section("<!-- record fields: generated from common/record.c -->\n", md);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_table_well_formed),
		cmocka_unit_test(test_find_and_flat_names),
		cmocka_unit_test(test_presence),
		cmocka_unit_test(test_nulls_have_reasons),
		cmocka_unit_test(test_schema_doc),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
