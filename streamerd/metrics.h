/* SPDX-License-Identifier: Apache-2.0 */
/*
 * metrics: streamerd's counters, the once-a-minute stats line, and the
 * metrics file in the Prometheus text format (common/prom: replaced
 * atomically, so scripts/supervise status and node_exporter's textfile
 * collector never read half a file). Also keeps the last append->commit
 * latencies for percentiles.
 */
#ifndef STREAMERD_METRICS_H
#define STREAMERD_METRICS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define METRICS_LAT_N 1024	/* latency samples kept (ring; oldest overwritten) */
#define METRICS_REASON_MAX 96	/* a failure's reason label, truncated to fit */

struct metrics {
	uint64_t rows_appended, rows_committed, batches_appended;
	uint64_t bytes_raw, bytes_wire;
	uint64_t requests, retries, error_rows, rewinds, connections;
	uint64_t sensord_connects, records_received, records_missing;
	uint64_t committed_seq;		/* in the current journal */
	uint64_t journal_last_seq;	/* newest seq known to exist */
	int64_t last_commit_wall_ns;	/* 0: none yet */
	int64_t start_wall_ns;
	/* An outage (back-off, or sensord lost): when it began (mono, 0: none),
	 * rows committed then, and the journal's last seq once healthy again
	 * (0: not yet), which the table must reach for "recovered". */
	int64_t outage_ns;
	uint64_t outage_rows, outage_target;
	/* Snowflake requests failing in a row: since when (Unix ns, 0: not
	 * retrying), and the last failure's reason ("" until the first): the
	 * request kind, HTTP status and service error code or transport error
	 * class, never a token, URL or header. */
	int64_t retrying_since_wall_ns;
	char last_error[METRICS_REASON_MAX];
	bool sensord_connected;		/* subscribed to sensord, hello heard */
	bool changed;			/* one of the three changed since the file was written */
	double lat_ms[METRICS_LAT_N];
	size_t lat_n, lat_next;
	double lat_sum_ms;		/* every latency ever recorded, for the summary */
	uint64_t lat_count;
};

/* Records one append->commit latency in milliseconds. */
void metrics_latency(struct metrics *m, double ms);
/* Latency percentile p (0..100) over the kept samples; -1 when none. */
double metrics_percentile(const struct metrics *m, double p);
/* Records not yet committed that the journal is known to hold: its last
 * seq minus the committed one. */
uint64_t metrics_backlog(const struct metrics *m);
/* Notes that rows cannot flow now (a back-off, sensord gone); the first
 * call of an outage starts it. */
void metrics_outage(struct metrics *m, int64_t now_mono_ns);
/* Called while rows can flow again: ends an outage once the table has
 * caught up with the journal's last seq as known when it became healthy,
 * logging "recovered after N s; M rows caught up" once. */
void metrics_healthy(struct metrics *m, int64_t now_mono_ns);
/* A Snowflake request failed and is retried: the run of failures began
 * now unless one is running; reason (borrowed, truncated) replaces the
 * last one. */
void metrics_retrying(struct metrics *m, int64_t now_wall_ns, const char *reason);
/* A usable answer ended the run of failures. */
void metrics_retry_over(struct metrics *m);
/* Whether streamerd is connected to sensord now. */
void metrics_sensord(struct metrics *m, bool connected);
/* Logs the stats line (info). */
void metrics_log(const struct metrics *m, int64_t now_wall_ns);
/* Replaces the Prometheus text file at path (mode 0644), every series
 * labelled with device. 0 or -errno. */
int metrics_write(const struct metrics *m, const char *path, const char *device,
    const char *channel);

#endif
