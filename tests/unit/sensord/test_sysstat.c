/* SPDX-License-Identifier: Apache-2.0 */
/*
 * sysstat: the parsers on real-looking and broken file contents, CPU % from
 * two samples, and a live sample on this machine: each figure present only
 * when it can be read, values in range.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "metrics.h"
#include "sysstat.h"

static void
test_parse_stat(void **state)
{
	uint64_t total, idle;

	(void)state;
	assert_int_equal(sysstat_parse_stat("cpu  100 5 50 800 20 1 2 3 0 0\ncpu0 1 2 3 4\n",
	    &total, &idle), 0);
	assert_int_equal(total, 100 + 5 + 50 + 800 + 20 + 1 + 2 + 3);
	assert_int_equal(idle, 820);
	assert_int_equal(sysstat_parse_stat("cpu0 1 2 3 4\n", &total, &idle), -EINVAL);
	assert_int_equal(sysstat_parse_stat("cpu  1 2\n", &total, &idle), -EINVAL);
	assert_int_equal(sysstat_parse_stat("", &total, &idle), -EINVAL);
}

static void
test_parse_meminfo(void **state)
{
	double pct = -1;

	(void)state;
	assert_int_equal(sysstat_parse_meminfo("MemTotal:        1000 kB\nMemFree:  100 kB\n"
	    "MemAvailable:     250 kB\n", &pct), 0);
	assert_float_equal(pct, 75.0, 1e-9);
	pct = -1;
	assert_int_equal(sysstat_parse_meminfo("MemTotal: 1000 kB\n", &pct), -EINVAL);
	assert_int_equal(sysstat_parse_meminfo("MemTotal: 0 kB\nMemAvailable: 0 kB\n", &pct),
	    -EINVAL);
	assert_int_equal(sysstat_parse_meminfo("MemTotal: 10 kB\nMemAvailable: 20 kB\n",
	    &pct), -EINVAL);
	assert_float_equal(pct, -1, 0);	/* untouched on failure */
}

static void
test_parse_temp(void **state)
{
	double c = 0;

	(void)state;
	assert_int_equal(sysstat_parse_temp("48312\n", &c), 0);
	assert_float_equal(c, 48.312, 1e-9);
	assert_int_equal(sysstat_parse_temp("-5000", &c), 0);
	assert_float_equal(c, -5.0, 1e-9);
	assert_int_equal(sysstat_parse_temp("", &c), -EINVAL);
	assert_int_equal(sysstat_parse_temp("abc\n", &c), -EINVAL);
	assert_int_equal(sysstat_parse_temp("12x\n", &c), -EINVAL);
	assert_int_equal(sysstat_parse_temp("999999\n", &c), -ERANGE);
}

static void
test_live_sample(void **state)
{
	struct sysstat *s;
	struct rec_sys a, b;
	volatile double x = 0;

	(void)state;
	assert_int_equal(sysstat_new("/", &s), 0);
	sysstat_sample(s, &a);
	assert_false(a.has_cpu);	/* needs two samples */
	assert_true(a.has_mem);		/* /proc/meminfo exists here */
	assert_true(a.mem > 0 && a.mem <= 100);
	assert_true(a.has_disk);
	for (int i = 0; i < 20000000; i++)	/* let some jiffies pass */
		x += i;
	sysstat_sample(s, &b);
	assert_true(b.has_cpu);
	assert_true(b.cpu >= 0 && b.cpu <= 100);
	if (b.has_cpu_t)
		assert_true(b.cpu_t > -60 && b.cpu_t < 150);
	sysstat_free(s);
	assert_int_equal(sysstat_new("/nonexistent/path", &s), 0);
	sysstat_sample(s, &a);
	assert_false(a.has_disk);
	assert_int_equal(a.disk_free_mb, 0);
	sysstat_free(s);
}

/* The boot id: exactly the kernel's form, and on this machine the file's. */
static void
test_boot_id(void **state)
{
	char id[RECORD_BOOT_ID_LEN], file[64] = "";
	struct sysstat *s;
	FILE *f;

	(void)state;
	assert_int_equal(sysstat_parse_boot_id("0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0\n", id,
	    sizeof(id)), 0);
	assert_string_equal(id, "0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0");
	assert_int_equal(sysstat_parse_boot_id("0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0", id,
	    sizeof(id)), 0);
	assert_int_equal(sysstat_parse_boot_id("0F1E2D3C-4b5a-6978-8796-a5b4c3d2e1f0\n", id,
	    sizeof(id)), -EINVAL);
	assert_int_equal(sysstat_parse_boot_id("0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0x", id,
	    sizeof(id)), -EINVAL);
	assert_int_equal(sysstat_parse_boot_id("0f1e2d3c4b5a-6978-8796-a5b4c3d2e1f0-\n", id,
	    sizeof(id)), -EINVAL);
	assert_int_equal(sysstat_parse_boot_id("", id, sizeof(id)), -EINVAL);
	assert_int_equal(sysstat_parse_boot_id("0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0", id, 36),
	    -EINVAL);
	assert_int_equal(sysstat_new("/", &s), 0);
	f = fopen("/proc/sys/kernel/random/boot_id", "r");
	if (f && fgets(file, sizeof(file), f)) {
		file[strcspn(file, "\n")] = '\0';
		assert_non_null(sysstat_boot_id(s));
		assert_string_equal(sysstat_boot_id(s), file);
	}
	if (f)
		fclose(f);
	sysstat_free(s);
}

static void
test_metrics_format(void **state)
{
	struct proto_status st = { 0 };
	struct metrics_extra x = { .records_lost = 12, .records_damaged = 3,
		.clients_refused = 303500, .acks_refused = 271,
		.last_commit_ns = 1767225601500000000 };
	char buf[8192];
	int n;

	(void)state;
	st.uptime_s = 7;
	st.first_seq = 3;
	st.last_seq = 9;
	st.acked_seq = 5;
	st.records_written = 6;
	st.records_dropped = 2;
	st.seqs_skipped = 11;
	st.clients = 1;
	st.nchips = 1;
	snprintf(st.chips[0].name, sizeof(st.chips[0].name), "scd4x");
	snprintf(st.chips[0].state, sizeof(st.chips[0].state), "retrying");
	st.chips[0].faults = 4;
	st.chips[0].last_ok = 1767225600123000000;
	n = metrics_format(&st, &x, "pi \"1\"", buf, sizeof(buf));
	assert_true(n > 0);
	buf[n] = '\0';
	assert_non_null(strstr(buf, "# HELP sensord_chip_state Current state of each chip"));
	assert_non_null(strstr(buf, "sensord_chip_state{device=\"pi \\\"1\\\"\","
	    "chip=\"scd4x\",state=\"retrying\"} 1\n"));
	assert_non_null(strstr(buf, "sensord_chip_last_ok_timestamp_seconds{device=\"pi \\\"1\\\"\","
	    "chip=\"scd4x\"} 1767225600.123\n"));
	assert_non_null(strstr(buf, "sensord_journal_last_seq{device=\"pi \\\"1\\\"\"} 9\n"));
	assert_non_null(strstr(buf, "sensord_records_dropped_total{device=\"pi \\\"1\\\"\"} 2\n"));
	assert_non_null(strstr(buf, "# TYPE sensord_seqs_skipped_total counter\n"
	    "sensord_seqs_skipped_total{device=\"pi \\\"1\\\"\"} 11\n"));
	assert_non_null(strstr(buf, "sensord_chip_faults_total{device=\"pi \\\"1\\\"\",chip=\"scd4x\"} 4\n"));
	assert_non_null(strstr(buf, "state=\"retrying\"} 1\n"));
	assert_non_null(strstr(buf, "# TYPE sensord_records_written_total counter\n"));
	assert_non_null(strstr(buf, "# TYPE sensord_records_lost_total counter\n"
	    "sensord_records_lost_total{device=\"pi \\\"1\\\"\"} 12\n"));
	assert_non_null(strstr(buf, "sensord_records_damaged_total{device=\"pi \\\"1\\\"\"} 3\n"));
	assert_non_null(strstr(buf, "sensord_clients_refused_total{device=\"pi \\\"1\\\"\"} 303500\n"));
	assert_non_null(strstr(buf, "sensord_acks_refused_total{device=\"pi \\\"1\\\"\"} 271\n"));
	assert_non_null(strstr(buf, "# TYPE sensord_last_commit_timestamp_seconds gauge\n"
	    "sensord_last_commit_timestamp_seconds{device=\"pi \\\"1\\\"\"} 1767225601.5\n"));
	assert_int_equal(metrics_format(&st, &x, "x", buf, 100), -EMSGSIZE);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_stat),
		cmocka_unit_test(test_parse_meminfo),
		cmocka_unit_test(test_parse_temp),
		cmocka_unit_test(test_live_sample),
		cmocka_unit_test(test_boot_id),
		cmocka_unit_test(test_metrics_format),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
