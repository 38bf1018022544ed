/* SPDX-License-Identifier: Apache-2.0 */
/*
 * text: columns are characters, not bytes; a line's limit drops what
 * passes it but never an escape sequence; colour only when asked; a full
 * buffer is a sticky -ENOSPC with the text so far intact.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "text.h"

static void
test_columns(void **state)
{
	char buf[128];
	struct text t;

	(void)state;
	text_init(&t, buf, sizeof(buf), false);
	text_add(&t, "%d °C", 21);
	assert_int_equal(t.cols, 5);
	assert_int_equal(t.len, 6);	/* ° is two bytes */
	text_pad(&t, 8);
	text_add(&t, "▁▂|");
	assert_string_equal(buf, "21 °C   ▁▂|");
	assert_int_equal(t.cols, 11);
	text_add(&t, "\nab");
	assert_int_equal(t.cols, 2);
	assert_int_equal(text_cols("1007.36 hPa ▇█"), 14);
	assert_int_equal(t.err, 0);
}

static void
test_limit_and_cut(void **state)
{
	char buf[128];
	struct text t;

	(void)state;
	text_init(&t, buf, sizeof(buf), true);
	text_limit(&t, 6);
	text_color(&t, TEXT_RED);
	text_add(&t, "°°°°°°°°");
	text_color(&t, TEXT_PLAIN);
	text_pad(&t, 20);
	text_add(&t, "\nxyz");
	/* six characters, the escapes around them kept, no padding past 6 */
	assert_string_equal(buf, "\033[31m°°°°°°\033[0m\nxyz");
	text_init(&t, buf, sizeof(buf), false);
	text_color(&t, TEXT_RED);
	text_cut(&t, "retrying since", 8);
	assert_string_equal(buf, "retrying");
	assert_int_equal(t.cols, 8);
}

static void
test_full(void **state)
{
	char buf[8];
	struct text t;

	(void)state;
	text_init(&t, buf, sizeof(buf), false);
	text_add(&t, "abc");
	text_add(&t, "%s", "defghij");
	assert_int_equal(t.err, -ENOSPC);
	text_add(&t, "x");
	assert_int_equal(t.err, -ENOSPC);
	assert_true(strlen(buf) < sizeof(buf));
	assert_string_equal(buf, "abcdefg");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_columns),
		cmocka_unit_test(test_limit_and_cut),
		cmocka_unit_test(test_full),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
