/* SPDX-License-Identifier: Apache-2.0 */
/*
 * series: ten minutes in one-second slots; a sparkline cell is the mean of
 * its seconds, scaled from the lowest to the highest cell (the range
 * reported is of the values themselves); seconds out of
 * the window and empty cells are blanks; a slot is reused when its second
 * comes round again, and an older value never overwrites a newer second.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "series.h"

#define NS 1000000000LL
#define T0 (1796622000LL * NS)	/* a multiple of 600 s */

static const char *
spark(const struct series *s, int64_t now, size_t cols, double *lo, double *hi)
{
	static char buf[4096];
	struct text t;

	text_init(&t, buf, sizeof(buf), false);
	series_spark(s, now, cols, &t, lo, hi);
	assert_int_equal(t.err, 0);
	assert_int_equal(t.cols, cols);
	return buf;
}

static void
test_scaled_cells(void **state)
{
	struct series *s = calloc(1, sizeof(*s));
	double lo, hi;

	(void)state;
	/* 10 cells of 60 s; values in the last 8 cells, two per second in one */
	for (int c = 2; c < 10; c++)
		series_add(s, T0 + (c * 60 + 5) * NS, 100 + c * 10);
	series_add(s, T0 + (9 * 60 + 5) * NS + NS / 2, 260);	/* cell 9: mean 225 */
	assert_string_equal(spark(s, T0 + 599 * NS, 10, &lo, &hi), "  ▁▂▂▃▄▄▅█");
	/* the range is of the values as measured, the bars of the cell means */
	assert_true(lo == 120 && hi == 260);
	free(s);
}

static void
test_window(void **state)
{
	struct series *s = calloc(1, sizeof(*s));
	double lo, hi;

	(void)state;
	assert_string_equal(spark(s, T0, 4, &lo, &hi), "    ");
	assert_true(isnan(lo) && isnan(hi));
	series_add(s, T0 + 10 * NS, 5);
	series_add(s, T0 + 11 * NS, 5);
	/* flat: the middle bar */
	assert_string_equal(spark(s, T0 + 599 * NS, 2, &lo, &hi), "▄ ");
	/* ten minutes later the same slots hold newer seconds */
	series_add(s, T0 + 610 * NS, 7);
	assert_string_equal(spark(s, T0 + 1199 * NS, 2, &lo, &hi), "▄ ");
	assert_true(lo == 7 && hi == 7);
	/* a value from before the slot's second is out of the window */
	series_add(s, T0 + 10 * NS, 1000);
	assert_string_equal(spark(s, T0 + 1199 * NS, 2, &lo, &hi), "▄ ");
	assert_true(hi == 7);
	/* far later: all gone */
	assert_string_equal(spark(s, T0 + 5000 * NS, 3, &lo, &hi), "   ");
	series_add(s, T0, NAN);	/* not a value */
	free(s);
}

static void
test_wide(void **state)
{
	struct series *s = calloc(1, sizeof(*s));
	double lo, hi;

	(void)state;
	for (int sec = 0; sec < 600; sec++)
		series_add(s, T0 + sec * NS, sec);
	/* wider than the window's cells can be: drawn 512 wide, padded */
	assert_int_equal(strlen(spark(s, T0 + 599 * NS, 700, &lo, &hi)) > 700, 1);
	assert_true(lo >= 0 && hi <= 599 && hi > 590);
	free(s);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_scaled_cells),
		cmocka_unit_test(test_window),
		cmocka_unit_test(test_wide),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
