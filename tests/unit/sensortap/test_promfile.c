/* SPDX-License-Identifier: Apache-2.0 */
/*
 * promfile: samples by name (labels ignored, the first of a name wins),
 * HELP/TYPE and comments skipped, Prometheus's NaN and infinities, label
 * values unescaped and found among others, malformed lines skipped rather
 * than taken, the caps, and a real file with its time.
 */
#include <errno.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "promfile.h"

static const char file[] =
	"# HELP streamerd_committed_seq Newest seq committed.\n"
	"# TYPE streamerd_committed_seq gauge\n"
	"streamerd_committed_seq{device=\"pi-1\"} 1230\n"
	"streamerd_committed_seq{device=\"pi-2\"} 7\n"
	"streamerd_last_commit_timestamp_seconds{device=\"pi-1\"} 1796622910.25\n"
	"streamerd_commit_latency_seconds{device=\"pi-1\",quantile=\"0.5\"} NaN\n"
	"x_inf +Inf\n"
	"  \t\n"
	"streamerd_last_error_info{device=\"pi-1\",error=\"HTTP 503 on \\\"append\\\": a\\\\b\\nc, {x}\"} 1\n"
	"broken{device=\"pi-1\" 5\n"
	"nospace{a=\"b\"}5\n"
	"novalue\n"
	"1bad 3\n"
	"badvalue 12abc\n"
	"last_line_without_newline 42";

static void
test_values(void **state)
{
	struct promfile *pf;
	double v;

	(void)state;
	assert_int_equal(promfile_parse(file, sizeof(file) - 1, &pf), 0);
	assert_true(promfile_value(pf, "streamerd_committed_seq", &v) && v == 1230);
	assert_true(promfile_value(pf, "streamerd_last_commit_timestamp_seconds", &v) &&
	    v == 1796622910.25);
	assert_true(promfile_value(pf, "streamerd_commit_latency_seconds", &v) && isnan(v));
	assert_true(promfile_value(pf, "x_inf", &v) && isinf(v) && v > 0);
	assert_true(promfile_value(pf, "last_line_without_newline", &v) && v == 42);
	assert_false(promfile_value(pf, "streamerd_committed", &v));	/* a prefix */
	assert_false(promfile_value(pf, "broken", &v));
	assert_false(promfile_value(pf, "nospace", &v));
	assert_false(promfile_value(pf, "novalue", &v));
	assert_false(promfile_value(pf, "badvalue", &v));
	assert_false(promfile_value(pf, "bad", &v));
	promfile_free(pf);
}

static void
test_labels(void **state)
{
	struct promfile *pf;

	(void)state;
	assert_int_equal(promfile_parse(file, sizeof(file) - 1, &pf), 0);
	assert_string_equal(promfile_label(pf, "streamerd_last_error_info", "error"),
	    "HTTP 503 on \"append\": a\\b\nc, {x}");
	assert_string_equal(promfile_label(pf, "streamerd_last_error_info", "device"), "pi-1");
	assert_string_equal(promfile_label(pf, "streamerd_committed_seq", "device"), "pi-1");
	assert_null(promfile_label(pf, "streamerd_last_error_info", "err"));
	assert_null(promfile_label(pf, "x_inf", "device"));
	assert_null(promfile_label(pf, "nothere", "device"));
	promfile_free(pf);
}

static void
test_caps(void **state)
{
	size_t cap = (PROMFILE_MAX_SAMPLES + 10) * 16;
	char *big = malloc(cap), *p = big;
	struct promfile *pf;
	double v;

	(void)state;
	for (int i = 0; i < PROMFILE_MAX_SAMPLES + 10; i++)
		p += snprintf(p, 16, "m%d %d\n", i, i);
	assert_int_equal(promfile_parse(big, (size_t)(p - big), &pf), 0);
	assert_true(promfile_value(pf, "m0", &v) && v == 0);
	assert_true(promfile_value(pf, "m1023", &v) && v == 1023);
	assert_false(promfile_value(pf, "m1024", &v));
	promfile_free(pf);
	free(big);
}

static void
test_read(void **state)
{
	char path[] = "/tmp/test_promfile.XXXXXX";
	struct promfile *pf;
	int64_t mtime = 0;
	int fd = mkstemp(path);
	double v;

	(void)state;
	assert_true(fd >= 0);
	assert_int_equal(write(fd, file, sizeof(file) - 1), (ssize_t)sizeof(file) - 1);
	close(fd);
	assert_int_equal(promfile_read(path, &pf, &mtime), 0);
	assert_true(mtime > 0);
	assert_true(promfile_value(pf, "streamerd_committed_seq", &v) && v == 1230);
	promfile_free(pf);
	unlink(path);
	assert_int_equal(promfile_read(path, &pf, NULL), -ENOENT);
	promfile_free(NULL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_values),
		cmocka_unit_test(test_labels),
		cmocka_unit_test(test_caps),
		cmocka_unit_test(test_read),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
