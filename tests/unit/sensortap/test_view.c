/* SPDX-License-Identifier: Apache-2.0 */
/*
 * view: the --watch screen drawn from records, sensord's status and
 * streamerd's metrics file, in UTC at a fixed clock: chips and series come
 * from the field table; a chip's newest values with units and their age;
 * its state from sensord's status while the record does not say one; the
 * lag as the age of the oldest pending record; a file that is missing or
 * old said so; a commit seen in sensord's acked seq newer than the file;
 * and whatever the size, no line wider than the screen and no more lines
 * than it has.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "text.h"
#include "view.h"

#define NS 1000000000LL
#define T0 (1796622910LL * NS)	/* 2026-12-07T05:55:10Z */
#define SCREEN_MAX (64 * 1024)

static struct record
rec(uint64_t seq)
{
	struct record r = { .seq = seq, .t = T0 + (int64_t)seq * NS, .synced = true,
		.has_scd4x = true, .has_sgp30 = true, .has_icp10125 = true };

	snprintf(r.device, sizeof(r.device), "pi-1");
	r.scd4x = (struct rec_scd4x){ .co2 = 600 + (uint32_t)seq, .t = 21.8276, .rh = 44.0696,
		.t_meas = r.t, .has_co2 = true };
	r.sgp30 = (struct rec_sgp30){ .eco2 = 437, .tvoc = 24, .t_meas = r.t };
	r.icp10125 = (struct rec_icp10125){ .p = 100736.9975, .t = 21.3006, .t_meas = r.t };
	return r;
}

/* A view holding records 1..last, ICP-10125 missing from unplug on. */
static struct view *
filled(uint64_t last, uint64_t unplug)
{
	struct view *v;

	assert_int_equal(view_new("/run/s.sock", "/run/streamerd.prom", &v), 0);
	for (uint64_t s = 1; s <= last; s++) {
		struct record r = rec(s);

		r.has_icp10125 = s < unplug;
		view_record(v, &r);
	}
	return v;
}

static void
metrics(struct view *v, const char *text, int64_t mtime)
{
	struct promfile *pf;

	assert_int_equal(promfile_parse(text, strlen(text), &pf), 0);
	view_metrics(v, pf, 0, mtime);
	promfile_free(pf);
}

static const char *
render(const struct view *v, size_t rows, size_t cols, int64_t now)
{
	static char buf[SCREEN_MAX];

	assert_true(view_render(v, rows, cols, now, false, buf, sizeof(buf)) > 0);
	return buf;
}

/* The line of the screen that starts with prefix, as its own string. */
static const char *
line_of(const char *screen, const char *prefix)
{
	static char out[1024];
	const char *p = screen;

	while (p != NULL && strncmp(p, prefix, strlen(prefix)) != 0)
		p = (p = strchr(p, '\n')) ? p + 1 : NULL;
	if (p == NULL)
		return "";
	snprintf(out, sizeof(out), "%.*s", (int)strcspn(p, "\n"), p);
	return out;
}

static int
setup(void **state)
{
	(void)state;
	setenv("TZ", "UTC", 1);
	tzset();
	return 0;
}

static void
test_chips_and_values(void **state)
{
	struct view *v = filled(30, 25);
	const char *s;

	(void)state;
	assert_int_equal(v->nchips, 3);
	assert_int_equal(v->nseries, 7);
	s = render(v, 40, 120, T0 + 32 * NS);
	assert_non_null(strstr(line_of(s, "record"), "record 30 at 05:55:40 (2.0 s ago)"));
	assert_string_equal(line_of(s, "scd4x "),
	    "scd4x       ok               630 ppm   21.8 °C   44.1 %RH  (2.0 s ago)");
	/* its newest sample, with its age, while the record has none */
	assert_string_equal(line_of(s, "icp10125 "),
	    "icp10125    no sample      1007.37 hPa   21.3 °C  (8.0 s ago)");
	/* the range as measured: the newest value is its top */
	assert_non_null(strstr(line_of(s, "scd4x co2"), "601 ppm -   630 ppm"));
	assert_non_null(strstr(s, "last 10 minutes"));
	assert_non_null(strstr(s, "q quits"));
	free(v);
}

static void
test_state_from_status(void **state)
{
	struct view *v = filled(3, 99);
	struct proto_status st = { .first_seq = 1, .last_seq = 3, .clients = 2, .nchips = 2 };
	const char *s;

	(void)state;
	snprintf(st.chips[0].name, sizeof(st.chips[0].name), "sgp30");
	snprintf(st.chips[0].state, sizeof(st.chips[0].state), "warmup");
	snprintf(st.chips[1].name, sizeof(st.chips[1].name), "icp10125");
	snprintf(st.chips[1].state, sizeof(st.chips[1].state), "retrying");
	view_status(v, &st);
	s = render(v, 40, 120, T0 + 4 * NS);
	assert_non_null(strstr(line_of(s, "sgp30 "), "sgp30       warmup "));
	assert_non_null(strstr(line_of(s, "icp10125 "), "icp10125    retrying "));
	assert_non_null(strstr(line_of(s, "record"), "journal 1..3, 2 clients"));
	free(v);
}

static void
test_lag(void **state)
{
	struct view *v = filled(40, 99);
	const char *s;

	(void)state;
	/* committed 34 at T0+35 s, written then; records 35..40 pending */
	metrics(v, "# TYPE streamerd_committed_seq gauge\n"
	    "streamerd_committed_seq{device=\"pi-1\"} 34\n"
	    "streamerd_last_commit_timestamp_seconds{device=\"pi-1\"} 1796622945\n",
	    T0 + 35 * NS);
	s = render(v, 40, 140, T0 + 41 * NS);
	assert_string_equal(line_of(s, "pipeline"), "pipeline    lag 6.0 s, 6 pending, "
	    "committed seq 34, last commit 6.0 s ago");
	free(v);
}

static void
test_acked_beyond_the_file(void **state)
{
	struct view *v = filled(40, 99);
	struct proto_status st = { .first_seq = 1, .last_seq = 40, .acked_seq = 40 };
	const char *s;

	(void)state;
	metrics(v, "streamerd_committed_seq 34\n", T0 + 35 * NS);
	view_status(v, &st);
	s = render(v, 40, 140, T0 + 41 * NS);
	assert_string_equal(line_of(s, "pipeline"), "pipeline    lag 0 s (all committed), "
	    "committed seq 40, last commit within 6.0 s");
	free(v);
}

static void
test_retrying_and_old_file(void **state)
{
	struct view *v = filled(40, 99);
	const char *s;

	(void)state;
	metrics(v, "streamerd_committed_seq 10\n"
	    "streamerd_retrying_since_timestamp_seconds 1796622930\n"
	    "streamerd_last_error_info{reason=\"append: HTTP 503\"} 1\n", T0 + 20 * NS);
	s = render(v, 40, 200, T0 + 90 * NS);
	assert_non_null(strstr(line_of(s, "pipeline"), "30 pending"));
	assert_non_null(strstr(line_of(s, "pipeline"), "; retrying since 05:55:30: append: HTTP 503"));
	assert_non_null(strstr(line_of(s, "pipeline"), "(metrics file 70 s old)"));
	view_metrics(v, NULL, -ENOENT, 0);
	s = render(v, 40, 200, T0 + 90 * NS);
	assert_non_null(strstr(line_of(s, "pipeline"), "no lag known: /run/streamerd.prom: "
	    "no such file"));
	free(v);
}

/* Lines and columns within the screen at every size. */
static void
test_sizes(void **state)
{
	static const size_t sizes[][2] = { { 1, 1 }, { 5, 20 }, { 12, 60 }, { 24, 80 },
		{ 50, 200 }, { 200, 400 } };
	struct view *v = filled(700, 650);
	char buf[SCREEN_MAX];

	(void)state;
	view_note(v, "sensord: closed the connection; reconnecting every 2 s");
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		size_t rows = sizes[i][0], cols = sizes[i][1], n = 1;
		char *p, *nl;

		assert_true(view_render(v, rows, cols, T0 + 701 * NS, false, buf,
		    sizeof(buf)) > 0);
		for (p = buf; (nl = strchr(p, '\n')) != NULL; p = nl + 1, n++) {
			*nl = '\0';
			assert_true(text_cols(p) <= cols);
		}
		assert_true(text_cols(p) <= cols);
		assert_true(n <= rows);
		/* colour adds escapes, not columns or lines */
		assert_true(view_render(v, rows, cols, T0 + 701 * NS, true, buf,
		    sizeof(buf)) > 0);
		for (n = 1, p = buf; (p = strchr(p, '\n')) != NULL; p++)
			n++;
		assert_true(n <= rows);
	}
	assert_int_equal(view_render(v, 24, 80, T0, false, buf, 100), -ENOSPC);
	free(v);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_chips_and_values),
		cmocka_unit_test(test_state_from_status),
		cmocka_unit_test(test_lag),
		cmocka_unit_test(test_acked_beyond_the_file),
		cmocka_unit_test(test_retrying_and_old_file),
		cmocka_unit_test(test_sizes),
	};

	return cmocka_run_group_tests(tests, setup, NULL);
}
