/*
 * metrics: counters are plain integers bumped by the one loop thread; the
 * file is rendered into a fixed buffer and replaced atomically.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fsutil.h"
#include "log.h"
#include "metrics.h"

void
metrics_latency(struct metrics *m, double ms)
{
	m->lat_ms[m->lat_next] = ms;
	m->lat_next = (m->lat_next + 1) % METRICS_LAT_N;
	if (m->lat_n < METRICS_LAT_N)
		m->lat_n++;
}

static int
cmp_d(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

double
metrics_percentile(const struct metrics *m, double p)
{
	double tmp[METRICS_LAT_N];
	size_t i;

	if (m->lat_n == 0)
		return -1;
	memcpy(tmp, m->lat_ms, m->lat_n * sizeof(double));
	qsort(tmp, m->lat_n, sizeof(double), cmp_d);
	i = (size_t)(p / 100.0 * (double)(m->lat_n - 1) + 0.5);
	return tmp[i < m->lat_n ? i : m->lat_n - 1];
}

uint64_t
metrics_backlog(const struct metrics *m)
{
	return m->journal_last_seq > m->committed_seq ? m->journal_last_seq - m->committed_seq : 0;
}

static double
commit_age_s(const struct metrics *m, int64_t now)
{
	int64_t from = m->last_commit_wall_ns ? m->last_commit_wall_ns : m->start_wall_ns;

	return now > from ? (double)(now - from) / 1e9 : 0;
}

void
metrics_log(const struct metrics *m, int64_t now)
{
	log_info("stats: rows appended %" PRIu64 ", rows committed %" PRIu64 ", committed seq %"
	    PRIu64 ", backlog %" PRIu64 ", bytes raw %" PRIu64 " compressed %" PRIu64
	    ", retries %" PRIu64 ", error rows %" PRIu64 ", last commit age %.0fs, "
	    "commit latency p50 %.0f ms p99 %.0f ms, connections %" PRIu64,
	    m->rows_appended, m->rows_committed, m->committed_seq, metrics_backlog(m),
	    m->bytes_raw, m->bytes_wire, m->retries, m->error_rows, commit_age_s(m, now),
	    metrics_percentile(m, 50), metrics_percentile(m, 99), m->connections);
}

int
metrics_write(const struct metrics *m, const char *path, const char *channel,
    int64_t now)
{
	char buf[4096];
	int n;

	n = snprintf(buf, sizeof(buf),
	    "# streamerd metrics (channel %s)\n"
	    "streamerd_rows_appended_total %" PRIu64 "\n"
	    "streamerd_rows_committed_total %" PRIu64 "\n"
	    "streamerd_batches_appended_total %" PRIu64 "\n"
	    "streamerd_committed_seq %" PRIu64 "\n"
	    "streamerd_backlog_records %" PRIu64 "\n"
	    "streamerd_last_commit_age_seconds %.3f\n"
	    "streamerd_bytes_raw_total %" PRIu64 "\n"
	    "streamerd_bytes_compressed_total %" PRIu64 "\n"
	    "streamerd_requests_total %" PRIu64 "\n"
	    "streamerd_retries_total %" PRIu64 "\n"
	    "streamerd_error_rows_total %" PRIu64 "\n"
	    "streamerd_channel_reopens_total %" PRIu64 "\n"
	    "streamerd_connections_opened_total %" PRIu64 "\n"
	    "streamerd_sensord_connects_total %" PRIu64 "\n"
	    "streamerd_records_missing_total %" PRIu64 "\n"
	    "streamerd_commit_latency_ms{quantile=\"0.5\"} %.1f\n"
	    "streamerd_commit_latency_ms{quantile=\"0.99\"} %.1f\n",
	    channel, m->rows_appended, m->rows_committed, m->batches_appended, m->committed_seq,
	    metrics_backlog(m), commit_age_s(m, now), m->bytes_raw, m->bytes_wire,
	    m->requests, m->retries, m->error_rows, m->rewinds, m->connections,
	    m->sensord_connects, m->records_missing, metrics_percentile(m, 50),
	    metrics_percentile(m, 99));
	if (n < 0 || (size_t)n >= sizeof(buf))
		return -ENOSPC;
	return fs_write_atomic(path, buf, (size_t)n, 0644);
}
