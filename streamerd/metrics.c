/* SPDX-License-Identifier: Apache-2.0 */
/*
 * metrics: counters are plain integers bumped by the one loop thread; the
 * file is rendered into a fixed buffer and replaced atomically. Latencies
 * are kept in ms (the log line's unit) and exported in seconds, the base
 * unit Prometheus expects.
 */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "metrics.h"
#include "prom.h"

#define METRICS_MAX 8192	/* the file: ~3 KB */

void
metrics_latency(struct metrics *m, double ms)
{
	m->lat_sum_ms += ms;
	m->lat_count++;
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
metrics_outage(struct metrics *m, int64_t now)
{
	if (m->outage_ns == 0) {
		m->outage_ns = now;
		m->outage_rows = m->rows_committed;
	}
	m->outage_target = 0;	/* decided again once rows can flow */
}

void
metrics_healthy(struct metrics *m, int64_t now)
{
	if (m->outage_ns == 0)
		return;
	if (m->outage_target == 0)
		m->outage_target = m->journal_last_seq > 0 ? m->journal_last_seq : 1;
	if (m->committed_seq < m->outage_target)
		return;
	log_info("recovered after %.0f s; %" PRIu64 " rows caught up",
	    (double)(now - m->outage_ns) / 1e9, m->rows_committed - m->outage_rows);
	m->outage_ns = 0;
}

void
metrics_retrying(struct metrics *m, int64_t now, const char *reason)
{
	if (m->retrying_since_wall_ns == 0) {
		m->retrying_since_wall_ns = now > 0 ? now : 1;
		m->changed = true;
	}
	if (strncmp(m->last_error, reason, sizeof(m->last_error) - 1) != 0) {
		snprintf(m->last_error, sizeof(m->last_error), "%s", reason);
		m->changed = true;
	}
}

void
metrics_retry_over(struct metrics *m)
{
	if (m->retrying_since_wall_ns != 0)
		m->changed = true;
	m->retrying_since_wall_ns = 0;
}

void
metrics_sensord(struct metrics *m, bool connected)
{
	if (m->sensord_connected != connected)
		m->changed = true;
	m->sensord_connected = connected;
}

/* Whole seconds and the fraction apart: ns since 1970 do not fit a
 * double's 53 bits, and dividing them would print 1767225600.1229999. */
static double
unix_seconds(int64_t ns)
{
	return (double)(ns / 1000000000) + (double)(ns % 1000000000) / 1e9;
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

static void
render_counters(struct prom *p, const struct metrics *m)
{
	const struct { const char *name, *help; uint64_t v; } c[] = {
		{ "streamerd_rows_appended_total", "Rows sent in accepted appends.",
		  m->rows_appended },
		{ "streamerd_rows_committed_total", "Rows Snowflake confirmed committed.",
		  m->rows_committed },
		{ "streamerd_batches_appended_total", "Accepted append requests.",
		  m->batches_appended },
		{ "streamerd_appended_raw_bytes_total",
		  "NDJSON bytes appended, before compression.", m->bytes_raw },
		{ "streamerd_appended_wire_bytes_total",
		  "Append body bytes, as sent (compressed).", m->bytes_wire },
		{ "streamerd_requests_total", "HTTP requests to Snowflake.", m->requests },
		{ "streamerd_retries_total", "Back-offs after a failed request.", m->retries },
		{ "streamerd_error_rows_total", "Rows the table rejected (never stored).",
		  m->error_rows },
		{ "streamerd_channel_reopens_total", "Channel reopens, each replaying from the "
		  "committed offset.", m->rewinds },
		{ "streamerd_connections_opened_total", "TLS connections opened to Snowflake.",
		  m->connections },
		{ "streamerd_sensord_connects_total", "Connections made to sensord's socket.",
		  m->sensord_connects },
		{ "streamerd_records_received_total", "Records received from sensord.",
		  m->records_received },
		{ "streamerd_records_missing_total", "Records sensord no longer had (gaps).",
		  m->records_missing },
	};

	for (size_t i = 0; i < sizeof(c) / sizeof(c[0]); i++)
		prom_metric_u64(p, c[i].name, PROM_COUNTER, c[i].help, c[i].v);
}

static void
render_latency(struct prom *p, const struct metrics *m)
{
	static const struct { const char *label; double p; } q[] = { { "0.5", 50 },
		{ "0.99", 99 } };

	prom_family(p, "streamerd_commit_latency_seconds", PROM_SUMMARY,
	    "Append to confirmed commit, over the last 1024 batches.");
	for (size_t i = 0; i < sizeof(q) / sizeof(q[0]); i++) {
		double ms = metrics_percentile(m, q[i].p);
		prom_sample(p, NULL, &(struct prom_label){ "quantile", q[i].label }, 1,
		    ms < 0 ? NAN : ms / 1e3);
	}
	prom_sample(p, "_sum", NULL, 0, m->lat_sum_ms / 1e3);
	prom_sample_u64(p, "_count", NULL, 0, m->lat_count);
}

/* What readers show as the pipeline's state (scripts/supervise status,
 * sensortap --watch). */
static void
render_state(struct prom *p, const struct metrics *m)
{
	prom_metric_u64(p, "streamerd_sensord_connected", PROM_GAUGE,
	    "1 while streamerd is subscribed to sensord's socket, else 0.",
	    m->sensord_connected ? 1 : 0);
	prom_metric(p, "streamerd_retrying_since_timestamp_seconds", PROM_GAUGE,
	    "Unix time the current run of failed Snowflake requests began (0: not retrying).",
	    unix_seconds(m->retrying_since_wall_ns));
	if (m->last_error[0] == '\0')
		return;
	prom_family(p, "streamerd_last_error_info", PROM_GAUGE,
	    "The last failed Snowflake request (value always 1): reason is the request, "
	    "its HTTP status and the service's error code, or the transport error.");
	prom_sample_u64(p, NULL, &(struct prom_label){ "reason", m->last_error }, 1, 1);
}

static void
render(struct prom *p, const struct metrics *m, const char *channel)
{
	prom_family(p, "streamerd_channel_info", PROM_GAUGE,
	    "The Snowflake channel streamerd appends to (value always 1).");
	prom_sample_u64(p, NULL, &(struct prom_label){ "channel", channel }, 1, 1);
	prom_metric_u64(p, "streamerd_committed_seq", PROM_GAUGE,
	    "Newest sensord seq Snowflake confirmed committed (0: none in this journal).",
	    m->committed_seq);
	prom_metric_u64(p, "streamerd_journal_last_seq", PROM_GAUGE,
	    "Newest seq sensord's journal holds, as last heard from sensord (asked at "
	    "least every 10 s).", m->journal_last_seq);
	prom_metric_u64(p, "streamerd_pending_records", PROM_GAUGE,
	    "Records not committed yet: streamerd_journal_last_seq minus "
	    "streamerd_committed_seq.", metrics_backlog(m));
	prom_metric(p, "streamerd_last_commit_timestamp_seconds", PROM_GAUGE,
	    "Unix time of the last confirmed commit (0: none since start).",
	    unix_seconds(m->last_commit_wall_ns));
	prom_metric(p, "streamerd_start_timestamp_seconds", PROM_GAUGE,
	    "Unix time streamerd started.", unix_seconds(m->start_wall_ns));
	render_state(p, m);
	render_counters(p, m);
	render_latency(p, m);
}

int
metrics_write(const struct metrics *m, const char *path, const char *device,
    const char *channel)
{
	char buf[METRICS_MAX];
	struct prom p;

	prom_init(&p, buf, sizeof(buf), &(struct prom_label){ "device", device }, 1);
	render(&p, m, channel);
	return prom_write(&p, path, 0644);
}
