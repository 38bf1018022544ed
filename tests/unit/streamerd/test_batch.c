/* SPDX-License-Identifier: Apache-2.0 */
/*
 * batch: bodies decompress to exactly the rows added, for each compression;
 * a batch closes by compressed bytes, near its wire cap (not at some count
 * of NDJSON bytes); a sealed body never changes while the coder fills the
 * next batch; bodies held stay within a byte budget; a row too big for any
 * batch is refused; the queue counts the bytes it holds.
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

/* Row seq of a backlog: ~700 bytes like a real row, with some noise so it
 * compresses about as much (5-15x) rather than to nothing. */
static size_t
mkrow(uint64_t seq, char *row, size_t cap)
{
	unsigned char rnd[8];
	int n;

	RAND_bytes(rnd, sizeof(rnd));
	n = snprintf(row, cap, "{\"uuid\":\"%02x%02x%02x%02x-%02x%02x\",\"rowid\":\"00000000000000ab-%020llu\","
	    "\"hostname\":\"pi-7\",\"host\":\"pi-host\",\"ipaddress\":\"192.168.1.20\","
	    "\"macaddress\":\"b8:27:eb:00:11:22\",\"temperature\":%u.%u,\"humidity\":%u.%u,"
	    "\"co2\":%u,\"equivalentco2ppm\":450,\"totalvocppb\":12,\"pressure\":100734.5,"
	    "\"cputempf\":120,\"temperatureicp\":70.34,\"cpu\":12.5,\"memory\":33,"
	    "\"diskusage\":\"2048 MB\",\"runtime\":3723,\"ts\":1764000000,"
	    "\"systemtime\":\"11/24/2025 16:00:00\",\"starttime\":\"11/24/2025 16:00:00\","
	    "\"endtime\":\"1764000000\",\"datetimestamp\":\"2025-11-24T16:00:00.123\","
	    "\"te\":\"0.0123\",\"synced\":true,\"journal_id\":\"00000000000000ab\"}\n",
	    rnd[0], rnd[1], rnd[2], rnd[3], rnd[4], rnd[5], (unsigned long long)seq,
	    15 + rnd[6] % 10, rnd[7] % 10, 30 + rnd[6] % 20, rnd[5] % 10, 400 + rnd[4]);
	assert_true(n > 0 && (size_t)n < cap);
	return (size_t)n;
}

/* What one row may take past a budget: a batch always takes its first. */
#define ROW_SLACK 2048

struct run {
	struct batch_queue sealed;	/* in seq order */
	char *all;			/* every row added, concatenated */
	size_t all_len;
	size_t max_held;		/* most bytes of bodies held at once */
};

/* Feeds rows 1..nrows through one coder as the daemon does: a full batch
 * (-ENOBUFS) is sealed and queued, the row goes into a new one (even with
 * no room left: a batch always takes its first row); rows are read only
 * while fewer than two sealed batches wait (the head "goes out" then), and
 * the open batch gets only the room the budget leaves. The bodies held
 * never pass the budget by more than a row. Sealed batches end
 * in r->sealed (those that went out too, their bodies kept for checking). */
static void
feed_rows(enum batch_comp comp, size_t wire_max, size_t budget, uint64_t nrows,
    struct run *r)
{
	struct batch_queue waiting = { 0 };
	struct batch_coder *c;
	struct batch *b = NULL;

	memset(r, 0, sizeof(*r));
	r->all = malloc(nrows * 1024);
	assert_non_null(r->all);
	assert_int_equal(batch_coder_new(comp, wire_max, &c), 0);
	for (uint64_t seq = 1; seq <= nrows; seq++) {
		char row[1024];
		size_t len = mkrow(seq, row, sizeof(row)), held;
		int e;

		for (;;) {
			if (b == NULL)
				assert_int_equal(batch_new(c, 0xab, 0, &b), 0);
			e = batch_add(b, seq, row, len,
			    waiting.bytes < budget ? budget - waiting.bytes : 0);
			if (e != -ENOBUFS)
				break;
			assert_true(b->nrows > 0);	/* the first row is always taken */
			assert_int_equal(batch_seal(b), 0);
			batch_queue_push(&waiting, b);
			b = NULL;
		}
		assert_int_equal(e, 0);
		memcpy(r->all + r->all_len, row, len);
		r->all_len += len;
		held = waiting.bytes + b->body_len;
		assert_true(held <= budget + ROW_SLACK);
		if (held > r->max_held)
			r->max_held = held;
		if (waiting.n == 2)	/* the daemon reads no more until one went out */
			batch_queue_push(&r->sealed, batch_queue_pop(&waiting));
	}
	assert_int_equal(batch_seal(b), 0);
	while (waiting.n > 0)
		batch_queue_push(&r->sealed, batch_queue_pop(&waiting));
	batch_queue_push(&r->sealed, b);
	batch_coder_free(c);
}

/* Every sealed body decompresses to its rows, the batches tile the seqs and
 * stay within wire_max; returns the number of batches. */
static size_t
check_run(enum batch_comp comp, size_t wire_max, uint64_t nrows, struct run *r)
{
	uint64_t expect_seq = 1;
	size_t off = 0, n = 0;

	for (struct batch *x = r->sealed.head; x != NULL; x = x->next) {
		size_t dl;
		char *d = decompress(comp, x, &dl);

		assert_null(x->coder);
		assert_true(x->body_len <= wire_max);
		assert_int_equal(x->first_seq, expect_seq);
		assert_int_equal(x->last_seq - x->first_seq + 1, x->nrows);
		assert_int_equal(x->journal_id, 0xab);
		assert_int_equal(dl, x->raw_total);
		assert_memory_equal(d, r->all + off, dl);
		off += dl;
		expect_seq = x->last_seq + 1;
		n++;
		free(d);
	}
	assert_int_equal(off, r->all_len);
	assert_int_equal(expect_seq, nrows + 1);
	return n;
}

static void
run_free(struct run *r)
{
	batch_queue_clear(&r->sealed);
	free(r->all);
}

static void
test_roundtrip_each(void **state)
{
	static const enum batch_comp comps[] = { BATCH_COMP_NONE, BATCH_COMP_GZIP,
		BATCH_COMP_ZSTD };
	struct run r;

	(void)state;
	for (size_t i = 0; i < 3; i++) {
		feed_rows(comps[i], BATCH_WIRE_MAX, 2 * BATCH_WIRE_MAX, 100, &r);
		assert_int_equal(check_run(comps[i], BATCH_WIRE_MAX, 100, &r), 1);
		run_free(&r);
	}
}

/* A batch closes by compressed bytes: with a 64 KiB wire cap, each full
 * zstd or gzip batch carries several times that much NDJSON, and closes
 * within a 32nd of the cap (uncompressed, within a 32nd too). */
static void
test_closes_by_wire_bytes(void **state)
{
	static const enum batch_comp comps[] = { BATCH_COMP_NONE, BATCH_COMP_GZIP,
		BATCH_COMP_ZSTD };
	const size_t cap = BATCH_WIRE_MIN;
	struct run r;

	(void)state;
	for (size_t i = 0; i < 3; i++) {
		size_t n;

		feed_rows(comps[i], cap, 4 * cap, 12000, &r);
		n = check_run(comps[i], cap, 12000, &r);
		assert_true(n >= 3);
		for (struct batch *x = r.sealed.head; x != NULL && x->next != NULL; x = x->next) {
			assert_true(x->body_len >= cap - cap / 32 - 1024);
			if (comps[i] != BATCH_COMP_NONE)
				assert_true(x->raw_total >= 3 * cap);
		}
		run_free(&r);
	}
}

/* The bodies held (two waiting, one open) stay within the budget even when
 * it is below what the wire cap would allow, and batches then close early. */
static void
test_budget_bounds_bodies(void **state)
{
	struct run r;
	size_t budget = 100000;

	(void)state;
	feed_rows(BATCH_COMP_ZSTD, BATCH_WIRE_MIN, budget, 6000, &r);
	check_run(BATCH_COMP_ZSTD, BATCH_WIRE_MIN, 6000, &r);
	assert_true(r.max_held <= budget + ROW_SLACK);
	assert_true(r.max_held > budget / 2);	/* the budget, not the cap, was the limit */
	run_free(&r);
	/* at the defaults, a backlog fills the budget near its 8 MB */
	feed_rows(BATCH_COMP_ZSTD, BATCH_WIRE_MAX, 2 * BATCH_WIRE_MAX, 40000, &r);
	check_run(BATCH_COMP_ZSTD, BATCH_WIRE_MAX, 40000, &r);
	assert_true(r.max_held <= 2 * BATCH_WIRE_MAX + ROW_SLACK);
	run_free(&r);
}

/* A sealed body stays byte for byte the same while the coder compresses the
 * next batch: what a retry of its append sends is what the first try sent. */
static void
test_sealed_body_unchanged(void **state)
{
	static const enum batch_comp comps[] = { BATCH_COMP_NONE, BATCH_COMP_GZIP,
		BATCH_COMP_ZSTD };

	(void)state;
	for (size_t i = 0; i < 3; i++) {
		struct batch_coder *c;
		struct batch *a, *b;
		unsigned char *copy;
		char row[1024];
		char rid[37];
		size_t len;

		assert_int_equal(batch_coder_new(comps[i], BATCH_WIRE_MIN, &c), 0);
		assert_int_equal(batch_new(c, 1, 0, &a), 0);
		for (uint64_t s = 1; s <= 20; s++) {
			len = mkrow(s, row, sizeof(row));
			assert_int_equal(batch_add(a, s, row, len, BATCH_WIRE_MIN), 0);
		}
		assert_int_equal(batch_seal(a), 0);
		assert_int_equal(batch_add(a, 21, row, len, BATCH_WIRE_MIN), -EINVAL);
		assert_int_equal(batch_seal(a), -EINVAL);
		copy = malloc(a->body_len);
		assert_non_null(copy);
		memcpy(copy, a->body, a->body_len);
		memcpy(rid, a->request_id, sizeof(rid));
		assert_int_equal(batch_new(c, 1, 0, &b), 0);
		for (uint64_t s = 21; s <= 2000; s++) {
			int e;

			len = mkrow(s, row, sizeof(row));
			if ((e = batch_add(b, s, row, len, BATCH_WIRE_MIN)) == -ENOBUFS)
				break;
			assert_int_equal(e, 0);
		}
		assert_int_equal(batch_seal(b), 0);
		assert_memory_equal(a->body, copy, a->body_len);
		assert_string_equal(a->request_id, rid);
		assert_string_not_equal(a->request_id, b->request_id);
		free(copy);
		batch_free(a);
		batch_free(b);
		batch_coder_free(c);
	}
}

/* A batch takes its first row whatever room the budget leaves (the daemon
 * has read it and has nowhere else to put it), and only that one. */
static void
test_first_row_always_taken(void **state)
{
	struct batch_coder *c;
	struct batch *b;
	char row[1024];
	size_t len = mkrow(1, row, sizeof(row));

	(void)state;
	assert_int_equal(batch_coder_new(BATCH_COMP_ZSTD, BATCH_WIRE_MIN, &c), 0);
	assert_int_equal(batch_new(c, 1, 0, &b), 0);
	assert_int_equal(batch_add(b, 1, row, len, 0), 0);
	assert_int_equal(batch_add(b, 2, row, len, 0), -ENOBUFS);
	assert_int_equal(b->nrows, 1);
	assert_int_equal(batch_seal(b), 0);
	assert_true(b->body_len > 0 && b->body_len < len + 128);
	batch_free(b);
	batch_coder_free(c);
}

/* Opening a batch abandons the one still open on the coder. */
static void
test_new_batch_abandons_open(void **state)
{
	struct batch_coder *c;
	struct batch *a, *b;

	(void)state;
	assert_int_equal(batch_coder_new(BATCH_COMP_ZSTD, BATCH_WIRE_MIN, &c), 0);
	assert_int_equal(batch_new(c, 1, 0, &a), 0);
	assert_int_equal(batch_add(a, 1, "{}\n", 3, BATCH_WIRE_MIN), 0);
	assert_int_equal(batch_new(c, 1, 0, &b), 0);
	assert_int_equal(batch_add(a, 2, "{}\n", 3, BATCH_WIRE_MIN), -EINVAL);
	assert_int_equal(batch_add(b, 2, "{}\n", 3, BATCH_WIRE_MIN), 0);
	batch_free(a);
	assert_int_equal(batch_seal(b), 0);
	assert_int_equal(b->nrows, 1);
	batch_free(b);
	batch_coder_free(c);
}

/* Trimming a coder frees its compressor while no batch is open, and the
 * next batch compresses as well as before; an open batch keeps it. */
static void
test_trim(void **state)
{
	static const enum batch_comp comps[] = { BATCH_COMP_GZIP, BATCH_COMP_ZSTD };

	(void)state;
	for (size_t i = 0; i < 2; i++) {
		struct batch_coder *c;
		struct batch *b;
		char row[1024], *d;
		size_t len, dl;

		assert_int_equal(batch_coder_new(comps[i], BATCH_WIRE_MIN, &c), 0);
		for (int round = 0; round < 2; round++) {
			assert_int_equal(batch_new(c, 1, 0, &b), 0);
			len = mkrow(1, row, sizeof(row));
			assert_int_equal(batch_add(b, 1, row, len, BATCH_WIRE_MIN), 0);
			batch_coder_trim(c);	/* open: nothing happens */
			len = mkrow(2, row, sizeof(row));
			assert_int_equal(batch_add(b, 2, row, len, BATCH_WIRE_MIN), 0);
			assert_int_equal(batch_seal(b), 0);
			d = decompress(comps[i], b, &dl);
			assert_int_equal(dl, b->raw_total);
			assert_memory_equal(d + dl - len, row, len);
			free(d);
			batch_free(b);
			batch_coder_trim(c);
		}
		batch_coder_free(c);
	}
}

static void
test_single_row_too_big(void **state)
{
	struct batch_coder *c;
	struct batch *b;
	size_t len = BATCH_WIRE_MIN + 10;
	char *row = malloc(len);

	(void)state;
	assert_non_null(row);
	memset(row, 'a', len);
	row[len - 1] = '\n';
	assert_int_equal(batch_coder_new(BATCH_COMP_NONE, BATCH_WIRE_MIN, &c), 0);
	assert_int_equal(batch_new(c, 1, 0, &b), 0);
	assert_int_equal(batch_add(b, 1, row, len, BATCH_WIRE_MIN), -EMSGSIZE);
	assert_int_equal(b->nrows, 0);
	assert_int_equal(batch_seal(b), -EINVAL);
	batch_free(b);
	batch_coder_free(c);
	assert_int_equal(batch_coder_new(BATCH_COMP_ZSTD, BATCH_WIRE_MIN - 1, &c), -EINVAL);
	assert_int_equal(batch_coder_new(BATCH_COMP_ZSTD, BATCH_WIRE_MAX + 1, &c), -EINVAL);
	free(row);
}

/* The queue counts the bytes of the bodies it holds. */
static void
test_queue_bytes(void **state)
{
	struct batch_queue q = { 0 };
	struct batch *b[3];

	(void)state;
	for (int i = 0; i < 3; i++) {
		b[i] = calloc(1, sizeof(*b[i]));
		assert_non_null(b[i]);
		b[i]->body_len = 1000u * (unsigned)(i + 1);
		b[i]->body = malloc(b[i]->body_len);
		batch_queue_push(&q, b[i]);
	}
	assert_int_equal(q.n, 3);
	assert_int_equal(q.bytes, 6000);
	assert_ptr_equal(batch_queue_pop(&q), b[0]);
	assert_int_equal(q.bytes, 5000);
	free(b[0]->body);	/* went out: a bodiless batch counts nothing */
	b[0]->body = NULL;
	batch_queue_push(&q, b[0]);
	assert_int_equal(q.bytes, 5000);
	batch_queue_clear(&q);
	assert_int_equal(q.n, 0);
	assert_int_equal(q.bytes, 0);
	assert_null(q.head);
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
	char a[37], b[37];

	(void)state;
	batch_request_id(a);
	batch_request_id(b);
	assert_int_equal(strlen(a), 36);
	assert_true(a[14] == '4');
	assert_string_not_equal(a, b);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_roundtrip_each),
		cmocka_unit_test(test_closes_by_wire_bytes),
		cmocka_unit_test(test_budget_bounds_bodies),
		cmocka_unit_test(test_sealed_body_unchanged),
		cmocka_unit_test(test_first_row_always_taken),
		cmocka_unit_test(test_new_batch_abandons_open),
		cmocka_unit_test(test_trim),
		cmocka_unit_test(test_single_row_too_big),
		cmocka_unit_test(test_queue_bytes),
		cmocka_unit_test(test_encoding_names),
		cmocka_unit_test(test_request_ids_differ),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
