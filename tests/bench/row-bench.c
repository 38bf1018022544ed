/* SPDX-License-Identifier: Apache-2.0 */
/*
 * row-bench: what a row costs inside streamerd, stage by stage, without
 * the socket, TLS or HTTP around it, so that a change to one stage can be
 * judged on this noisy machine: each pass is run R times and the fastest
 * is kept (noise only ever adds). Reads a journal that journal-fill wrote,
 * packs its records as sensord does for a client that asks (back to back,
 * up to PROTO_PACK_MAX), and times three passes over them in CPU time:
 * decode; decode and format (row_format_at); decode, format and compress
 * into zstd batches closed at 2 MB on the wire, as streamerd's defaults.
 * Each stage's cost is the difference to the pass before.
 * usage: row-bench DIR [REPEATS]
 * Prints one JSON line: rows, ns per row for each stage and in all, the
 * NDJSON bytes of a row and the bytes on the wire in all.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "batch.h"
#include "journal.h"
#include "log.h"
#include "proto.h"
#include "row.h"

enum pass { DECODE, FORMAT, COMPRESS };

static uint8_t *packs;		/* the records, in packs of up to PROTO_PACK_MAX */
static size_t *pack_len, npacks, nrows;
static size_t raw_bytes, wire_bytes;	/* NDJSON and on the wire, in the last pass */

static int64_t
cpu_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void
die(const char *what)
{
	fprintf(stderr, "row-bench: %s\n", what);
	exit(1);
}

/* Every entry of the journal in dir into packs. */
static void
load(const char *dir)
{
	struct journal_opts o = { 4u << 20, 1ULL << 36, 0, JOURNAL_FSYNC_NEVER };
	struct journal_cursor *cur;
	struct journal_stats st;
	struct journal_entry e;
	struct journal *j;
	size_t used = 0, cap;
	char err[256];
	int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (dfd < 0 || journal_open(dfd, dir, &o, &j, err, sizeof(err)) != 0)
		die("cannot open the journal");
	close(dfd);
	journal_stats(j, &st);
	cap = st.bytes + 1;
	if ((packs = malloc(cap)) == NULL ||
	    (pack_len = calloc(st.last_seq - st.first_seq + 2, sizeof(*pack_len))) == NULL ||
	    journal_cursor_new(j, st.first_seq, &cur) != 0)
		die("out of memory");
	while (journal_cursor_next(cur, &e) == 0) {
		if (used + e.len > cap)
			die("the journal grew");
		if (npacks == 0 || pack_len[npacks - 1] + e.len > PROTO_PACK_MAX)
			npacks++;
		memcpy(packs + used, e.data, e.len);
		pack_len[npacks - 1] += e.len;
		used += e.len;
		nrows++;
	}
	journal_cursor_free(cur);
	journal_close(j);
	if (nrows == 0)
		die("the journal is empty");
}

/* One pass over every record, up to stage p. */
static void
run(enum pass p, struct batch_coder *coder)
{
	static const struct row_host host = { "bench-host", "192.0.2.7", "b8:27:eb:00:00:01" };
	static struct proto_msg m;
	static char row[ROW_MAX];
	struct batch *b = NULL;
	const uint8_t *at = packs;
	size_t used, len;

	raw_bytes = wire_bytes = 0;
	for (size_t i = 0; i < npacks; at += pack_len[i], i++) {
		for (size_t off = 0; off < pack_len[i]; off += used) {
			if (proto_decode_first(at + off, pack_len[i] - off, PROTO_SERVER, &m, &used,
			    NULL, 0) != 0 || m.op != PROTO_OP_REC)
				die("a record does not decode");
			if (p == DECODE)
				continue;
			if (row_format_at(&m.u.rec, 0x1234, &host, m.u.rec.t, m.u.rec.t, false, row,
			    sizeof(row), &len) != 0)
				die("a record does not format");
			if (p == FORMAT)
				continue;
			if (b == NULL && batch_new(coder, 0x1234, 0, &b) != 0)
				die("batch_new");
			raw_bytes += len;
			if (batch_add(b, m.u.rec.seq, row, len, SIZE_MAX) == -ENOBUFS) {
				if (batch_seal(b) != 0)
					die("batch_seal");
				wire_bytes += b->body_len;
				batch_free(b);
				if (batch_new(coder, 0x1234, 0, &b) != 0 ||
				    batch_add(b, m.u.rec.seq, row, len, SIZE_MAX) != 0)
					die("batch_add");
			}
		}
	}
	if (b != NULL) {
		if (batch_seal(b) != 0)
			die("batch_seal");
		wire_bytes += b->body_len;
		batch_free(b);
	}
}

int
main(int argc, char **argv)
{
	int repeats = argc > 2 ? atoi(argv[2]) : 5;
	struct batch_coder *coder;
	double best[3];

	if (argc < 2 || argc > 3 || repeats < 1) {
		fprintf(stderr, "usage: row-bench DIR [REPEATS]\n");
		return 2;
	}
	log_init("row-bench", 1, 0);
	load(argv[1]);
	if (batch_coder_new(BATCH_COMP_ZSTD, 2000000, &coder) != 0)
		die("batch_coder_new");
	for (int p = DECODE; p <= COMPRESS; p++) {
		best[p] = 1e300;
		for (int k = 0; k < repeats; k++) {
			int64_t t0 = cpu_ns();

			run((enum pass)p, coder);
			if ((double)(cpu_ns() - t0) < best[p])
				best[p] = (double)(cpu_ns() - t0);
		}
		best[p] /= (double)nrows;
	}
	batch_coder_free(coder);
	printf("{\"rows\": %zu, \"packs\": %zu, \"decode_ns\": %.0f, \"format_ns\": %.0f, "
	    "\"compress_ns\": %.0f, \"total_ns\": %.0f, \"row_bytes\": %.0f, "
	    "\"wire_bytes\": %zu}\n", nrows, npacks, best[DECODE], best[FORMAT] - best[DECODE],
	    best[COMPRESS] - best[FORMAT], best[COMPRESS], (double)raw_bytes / (double)nrows,
	    wire_bytes);
	free(packs);
	free(pack_len);
	return 0;
}
