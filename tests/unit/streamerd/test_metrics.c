/* SPDX-License-Identifier: Apache-2.0 */
/*
 * streamerd's metrics: the file has every family with HELP and TYPE, the
 * device on every series and the channel in an info series; latencies kept
 * in ms come out as a summary in seconds, NaN quantiles before the first
 * commit; the pending count never goes negative; an outage ends once the
 * table caught up.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "clock.h"
#include "fsutil.h"
#include "metrics.h"

static char dir[] = "/tmp/test_metrics.XXXXXX", path[64];

static int
setup(void **state)
{
	(void)state;
	if (!mkdtemp(dir))
		return -1;
	snprintf(path, sizeof(path), "%s/streamerd.prom", dir);
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	(void)unlink(path);
	return rmdir(dir);
}

static char *
written(const struct metrics *m, const char *device)
{
	char *text;
	size_t len;

	assert_int_equal(metrics_write(m, path, device, "chan-1"), 0);
	assert_int_equal(fs_read_all(path, 1 << 16, &text, &len), 0);
	return text;
}

/* Every "# TYPE" has its "# HELP" just before it, and no sample line comes
 * without a device label. */
static void
assert_well_formed(const char *text, const char *device_label)
{
	const char *line = text;
	size_t types = 0;

	while (*line) {
		const char *nl = strchr(line, '\n');
		assert_non_null(nl);
		if (strncmp(line, "# TYPE ", 7) == 0)
			types++;
		else if (line[0] != '#')
			assert_non_null(memmem(line, (size_t)(nl - line), device_label,
			    strlen(device_label)));
		line = nl + 1;
	}
	assert_true(types >= 18);
}

static void
test_file(void **state)
{
	static struct metrics m;
	char *text;

	(void)state;
	memset(&m, 0, sizeof(m));
	m.rows_committed = 7;
	m.committed_seq = 40;
	m.journal_last_seq = 45;
	text = written(&m, "pi-1");
	assert_well_formed(text, "{device=\"pi-1\"");
	assert_non_null(strstr(text, "# HELP streamerd_committed_seq "));
	assert_non_null(strstr(text, "\nstreamerd_committed_seq{device=\"pi-1\"} 40\n"));
	assert_non_null(strstr(text, "\nstreamerd_pending_records{device=\"pi-1\"} 5\n"));
	assert_non_null(strstr(text, "_rows_committed_total{device=\"pi-1\"} 7\n"));
	assert_non_null(strstr(text,
	    "\nstreamerd_channel_info{device=\"pi-1\",channel=\"chan-1\"} 1\n"));
	/* no commit yet: no quantile to report */
	assert_non_null(strstr(text, "# TYPE streamerd_commit_latency_seconds summary\n"));
	assert_non_null(strstr(text,
	    "\nstreamerd_commit_latency_seconds{device=\"pi-1\",quantile=\"0.5\"} NaN\n"));
	assert_non_null(strstr(text, "_seconds_count{device=\"pi-1\"} 0\n"));
	assert_null(strstr(text, "_ms"));
	free(text);
}

static void
test_latency_in_seconds(void **state)
{
	static struct metrics m;
	char *text;

	(void)state;
	memset(&m, 0, sizeof(m));
	for (int i = 1; i <= 100; i++)
		metrics_latency(&m, 10.0 * i);	/* 10 ms .. 1 s */
	m.committed_seq = 50;
	m.journal_last_seq = 3;			/* a new journal: no negative backlog */
	text = written(&m, "");
	assert_well_formed(text, "{device=\"\"");
	assert_non_null(strstr(text, "quantile=\"0.5\"} 0.51\n"));
	assert_non_null(strstr(text, "quantile=\"0.99\"} 0.99\n"));
	assert_non_null(strstr(text, "_seconds_sum{device=\"\"} 50.5\n"));
	assert_non_null(strstr(text, "_seconds_count{device=\"\"} 100\n"));
	assert_non_null(strstr(text, "\nstreamerd_pending_records{device=\"\"} 0\n"));
	free(text);
	/* the ring keeps the last METRICS_LAT_N for quantiles, the sum all */
	for (int i = 0; i < METRICS_LAT_N; i++)
		metrics_latency(&m, 2000);
	assert_true(metrics_percentile(&m, 1) == 2000);
	text = written(&m, "d");
	assert_non_null(strstr(text, "quantile=\"0.5\"} 2\n"));
	assert_non_null(strstr(text, "_count{device=\"d\"} 1124\n"));
	assert_non_null(strstr(text, "_sum{device=\"d\"} 2098.5\n"));
	free(text);
}

/* An outage ends when the table reaches the journal's last seq as known
 * once rows could flow again, not at the first success. */
static void
test_outage(void **state)
{
	static struct metrics m;
	char *text;

	(void)state;
	memset(&m, 0, sizeof(m));
	m.committed_seq = 10;
	m.journal_last_seq = 12;
	m.rows_committed = 100;
	metrics_healthy(&m, 1);			/* no outage: nothing to end */
	assert_int_equal(m.outage_ns, 0);
	metrics_outage(&m, 5 * NS_PER_S);
	metrics_outage(&m, 9 * NS_PER_S);	/* the same outage */
	assert_int_equal(m.outage_ns, 5 * NS_PER_S);
	m.journal_last_seq = 30;
	metrics_healthy(&m, 20 * NS_PER_S);	/* target: 30 */
	assert_int_equal(m.outage_target, 30);
	m.journal_last_seq = 40;
	m.committed_seq = 29;
	m.rows_committed = 119;
	metrics_healthy(&m, 21 * NS_PER_S);
	assert_int_equal(m.outage_ns, 5 * NS_PER_S);
	metrics_outage(&m, 22 * NS_PER_S);	/* down again before catching up */
	metrics_healthy(&m, 23 * NS_PER_S);	/* target: 40 now */
	assert_int_equal(m.outage_target, 40);
	m.committed_seq = 40;
	m.rows_committed = 130;
	metrics_healthy(&m, 24 * NS_PER_S);
	assert_int_equal(m.outage_ns, 0);
	m.last_commit_wall_ns = 1767225600250000000;
	text = written(&m, "d");
	assert_non_null(strstr(text, "\nstreamerd_last_commit_timestamp_seconds{device=\"d\"} "
	    "1767225600.25\n"));
	assert_non_null(strstr(text, "\nstreamerd_journal_last_seq{device=\"d\"} 40\n"));
	free(text);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_file),
		cmocka_unit_test(test_latency_in_seconds),
		cmocka_unit_test(test_outage),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
