/*
 * batch: bodies decompress to exactly the rows added, for each compression;
 * a body over the wire cap splits at row boundaries into batches whose seq
 * ranges tile the original; a single oversized row is refused.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <openssl/rand.h>
#include <zlib.h>
#include <zstd.h>

#include "batch.h"

static char *
decompress(enum batch_comp comp, const struct batch *b, size_t *ret_len)
{
	size_t cap = b->raw_total + 1;
	char *out = malloc(cap);

	assert_non_null(out);
	if (comp == BATCH_COMP_NONE) {
		memcpy(out, b->body, b->body_len);
		*ret_len = b->body_len;
	} else if (comp == BATCH_COMP_ZSTD) {
		*ret_len = ZSTD_decompress(out, cap, b->body, b->body_len);
		assert_false(ZSTD_isError(*ret_len));
	} else {
		z_stream zs = { 0 };

		assert_int_equal(inflateInit2(&zs, 15 + 16), Z_OK);
		zs.next_in = b->body;
		zs.avail_in = (uInt)b->body_len;
		zs.next_out = (Bytef *)out;
		zs.avail_out = (uInt)cap;
		assert_int_equal(inflate(&zs, Z_FINISH), Z_STREAM_END);
		*ret_len = zs.total_out;
		inflateEnd(&zs);
	}
	return out;
}

/* Adds rows seq first..last with a little random payload (so it does not
 * compress to nothing); returns the concatenated NDJSON (new). */
static char *
fill(struct batch *b, uint64_t first, uint64_t last, size_t *ret_len)
{
	size_t cap = (last - first + 1) * 128 + 1, len = 0;
	char *all = malloc(cap);

	assert_non_null(all);
	for (uint64_t s = first; s <= last; s++) {
		unsigned char rnd[16];
		char row[128];
		int n;

		RAND_bytes(rnd, sizeof(rnd));
		n = snprintf(row, sizeof(row), "{\"seq\":%llu,\"x\":\"%02x%02x%02x%02x%02x%02x%02x%02x\"}\n",
		    (unsigned long long)s, rnd[0], rnd[1], rnd[2], rnd[3], rnd[4], rnd[5], rnd[6], rnd[7]);
		assert_int_equal(batch_add(b, s, row, (size_t)n), 0);
		memcpy(all + len, row, (size_t)n);
		len += (size_t)n;
	}
	*ret_len = len;
	return all;
}

static void
roundtrip(enum batch_comp comp, size_t wire_max, uint64_t nrows, size_t *ret_nbatches)
{
	struct batch_coder *c;
	struct batch *b, *list = NULL;
	size_t len, off = 0, n = 0;
	uint64_t expect_seq = 10;
	char *all;

	assert_int_equal(batch_coder_new(comp, &c), 0);
	assert_int_equal(batch_new(0xabc, 5, &b), 0);
	all = fill(b, 10, 10 + nrows - 1, &len);
	assert_int_equal(batch_seal(b, c, wire_max, &list), 0);
	for (struct batch *x = list, *next; x != NULL; x = next) {
		size_t dl;
		char *d = decompress(comp, x, &dl);

		next = x->next;
		assert_true(x->body_len <= wire_max);
		assert_int_equal(x->first_seq, expect_seq);
		assert_int_equal(x->last_seq - x->first_seq + 1, x->nrows);
		assert_int_equal(x->journal_id, 0xabc);
		assert_null(x->raw);
		assert_int_equal(dl, x->raw_total);
		assert_memory_equal(d, all + off, dl);
		assert_int_equal(d[dl - 1], '\n');
		off += dl;
		expect_seq = x->last_seq + 1;
		n++;
		free(d);
		batch_free(x);
	}
	assert_int_equal(off, len);
	assert_int_equal(expect_seq, 10 + nrows);
	free(all);
	batch_coder_free(c);
	*ret_nbatches = n;
}

static void
test_roundtrip_each(void **state)
{
	size_t n;

	(void)state;
	roundtrip(BATCH_COMP_NONE, BATCH_WIRE_MAX, 100, &n);
	assert_int_equal(n, 1);
	roundtrip(BATCH_COMP_GZIP, BATCH_WIRE_MAX, 100, &n);
	assert_int_equal(n, 1);
	roundtrip(BATCH_COMP_ZSTD, BATCH_WIRE_MAX, 100, &n);
	assert_int_equal(n, 1);
}

static void
test_split(void **state)
{
	size_t n;

	(void)state;
	/* ~40 bytes a row, 1000 rows: far over a 4 KB cap uncompressed */
	roundtrip(BATCH_COMP_NONE, 4096, 1000, &n);
	assert_true(n >= 10);
	roundtrip(BATCH_COMP_ZSTD, 2048, 1000, &n);
	assert_true(n >= 2);
	roundtrip(BATCH_COMP_GZIP, 2048, 1000, &n);
	assert_true(n >= 2);
}

static void
test_single_row_too_big(void **state)
{
	struct batch_coder *c;
	struct batch *b, *list = NULL;
	char row[200];

	(void)state;
	memset(row, 'a', sizeof(row));
	row[sizeof(row) - 1] = '\n';
	assert_int_equal(batch_coder_new(BATCH_COMP_NONE, &c), 0);
	assert_int_equal(batch_new(1, 0, &b), 0);
	assert_int_equal(batch_add(b, 1, row, sizeof(row)), 0);
	assert_int_equal(batch_seal(b, c, 100, &list), -EMSGSIZE);
	assert_null(list);
	batch_free(b);
	batch_coder_free(c);
}

static void
test_encoding_names(void **state)
{
	(void)state;
	assert_string_equal(batch_comp_encoding(BATCH_COMP_GZIP), "gzip");
	assert_string_equal(batch_comp_encoding(BATCH_COMP_ZSTD), "zstd");
	assert_null(batch_comp_encoding(BATCH_COMP_NONE));
}

static void
test_request_ids_differ(void **state)
{
	struct batch *a, *b;

	(void)state;
	assert_int_equal(batch_new(1, 0, &a), 0);
	assert_int_equal(batch_new(1, 0, &b), 0);
	assert_int_equal(strlen(a->request_id), 36);
	assert_string_not_equal(a->request_id, b->request_id);
	batch_free(a);
	batch_free(b);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_roundtrip_each),
		cmocka_unit_test(test_split),
		cmocka_unit_test(test_single_row_too_big),
		cmocka_unit_test(test_encoding_names),
		cmocka_unit_test(test_request_ids_differ),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
