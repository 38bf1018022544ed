/* SPDX-License-Identifier: Apache-2.0 */
/*
 * journal-fill: writes N records into a sensord journal directory (created
 * if needed) with fsync "never", so `make bench` can hand sensord a backlog
 * — e.g. 600k records, a week and more of a Pi at 1 s — and time how fast
 * streamerd drains it. The records are what sensord journals: encoded "rec"
 * messages with every block present and values that change from record to
 * record (so compression sees realistic, not constant, rows), measurement
 * times spaced by the interval and ending now.
 * usage: journal-fill DIR N [DEVICE [INTERVAL_MS]]
 * Prints one line: journal_id, first and last seq, bytes.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "clock.h"
#include "journal.h"
#include "log.h"
#include "proto.h"

static int
parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *ret)
{
	char *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || v < min || v > max)
		return -EINVAL;
	*ret = v;
	return 0;
}

static void
make_record(struct record *r, uint64_t seq, int64_t t, const char *device)
{
	double w = (double)(seq % 600) / 600.0;	/* a slow sawtooth */

	memset(r, 0, sizeof(*r));
	r->seq = seq;
	r->t = t;
	r->boot_ns = (uint64_t)(t % 1000000000000000LL);
	r->synced = true;
	snprintf(r->device, sizeof(r->device), "%s", device);
	r->has_scd4x = r->has_sgp30 = r->has_icp10125 = true;
	r->scd4x = (struct rec_scd4x){ 600 + (uint32_t)(seq % 97), 21.0 + 2.0 * w,
		40.0 + (double)(seq % 13) * 0.37, t - 3000000 };
	r->sgp30 = (struct rec_sgp30){ 400 + (uint32_t)(seq % 41), (uint32_t)(seq % 23), t - 1000000,
		false, true };
	r->icp10125 = (struct rec_icp10125){ 100800.0 + (double)(seq % 211) * 0.25,
		21.5 + w, t - 2000000 };
	r->sys = (struct rec_sys){ true, true, true, true, 45.0 + w * 5.0,
		(double)(seq % 17) * 0.5, 30.0 + w, 12000 - seq / 100000 };
}

int
main(int argc, char **argv)
{
	struct journal_opts o = { 4u << 20, 1ULL << 36, 0, JOURNAL_FSYNC_NEVER };
	static uint8_t msg[PROTO_MAX_MSG];
	uint64_t n, interval_ms = 1000, seq;
	const char *device = argc > 3 ? argv[3] : "bench-pi";
	struct journal_stats st;
	struct journal *j;
	struct record r;
	char err[256];
	int64_t t;
	size_t len;
	int dfd;

	if (argc < 3 || argc > 5 || parse_u64(argv[2], 1, 100000000, &n) != 0 ||
	    (argc > 4 && parse_u64(argv[4], 1, 3600000, &interval_ms) != 0)) {
		fprintf(stderr, "usage: journal-fill DIR N [DEVICE [INTERVAL_MS]]\n");
		return 2;
	}
	log_init("journal-fill", 1, 0);
	dfd = open(argv[1], O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0 || journal_open(dfd, argv[1], &o, &j, err, sizeof(err)) != 0) {
		fprintf(stderr, "journal-fill: %s: %s\n", argv[1], dfd < 0 ? strerror(errno) : err);
		return 1;
	}
	close(dfd);
	t = clock_realtime_ns() - (int64_t)(n * interval_ms * 1000000);
	for (uint64_t i = 0; i < n; i++) {
		t += (int64_t)interval_ms * 1000000;
		make_record(&r, journal_next_seq(j), t, device);
		if (proto_encode_record(&r, msg, sizeof(msg), &len) != 0 ||
		    journal_append(j, msg, len, t, &seq) != 0) {
			fprintf(stderr, "journal-fill: append failed at record %" PRIu64 "\n", i);
			journal_close(j);
			return 1;
		}
	}
	if (journal_sync(j) != 0) {
		fprintf(stderr, "journal-fill: sync failed\n");
		journal_close(j);
		return 1;
	}
	journal_stats(j, &st);
	printf("journal_id=%016" PRIx64 " first_seq=%" PRIu64 " last_seq=%" PRIu64 " bytes=%" PRIu64
	    "\n", st.journal_id, st.first_seq, st.last_seq, st.bytes);
	journal_close(j);
	return 0;
}
