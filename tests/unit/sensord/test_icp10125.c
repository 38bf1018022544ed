/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ICP-10125 driver: the exact conversion (docs/chips.md §4.4 worked
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

#include "clock.h"
#include "conf.h"
#include "chip.h"
#include "fakebus_bus.h"
#include "sensors.h"

#define SEC(x) ((int64_t)(x) * NS_PER_S)

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
	/* p_dout grows with pressure (docs/chips.md §4.4, inverse; sample OTP, 25 °C) */
	icp10125_convert(otp, 26214, 1989144, &p, &t);
	assert_true(fabs(p - 30000.0) < 1.0);
	icp10125_convert(otp, 26214, 12917723, &p, &t);
	assert_true(fabs(p - 110000.0) < 1.0);
	/* negative temperature: −10 °C */
	icp10125_convert(otp, (uint16_t)lround(35.0 * 65536.0 / 175.0), 8000000, &p, &t);
	assert_true(fabs(t - -10.0) < 0.01);
}


static struct sensors *
start_icp(struct fbb *b, int mode)
{
	struct sensors_conf c;
	struct sensors *s = NULL;
	char err[512] = "";

	memset(&c, 0, sizeof(c));
	conf_defaults(scd4x_conf_keys, &c.scd4x);
	conf_defaults(sgp30_conf_keys, &c.sgp30);
	conf_defaults(icp10125_conf_keys, &c.icp10125);
	c.reads_wait = true;	/* as sensord at its default 5 s records */
	c.scd4x.enabled = false;
	c.sgp30.enabled = false;
	c.icp10125.mode = mode;
	c.require = REQUIRE_SCD4X_OR_ICP;
	assert_int_equal(sensors_new(&c, &b->bus, NULL, b->now, &s, err, sizeof(err)), 0);
	return s;
}

static void
take(struct sensors *s, struct record *r)
{
	memset(r, 0, sizeof(*r));
	sensors_take(s, r);
}

/* Soft reset, ID, OTP pointer and four OTP reads, then 1 Hz measurements. */
static void
test_startup_and_cadence(void **state)
{
	struct fbb *b = fbb_new("{\"icp10125\": {\"p\": 100734.5, \"t\": 21.3}}");
	struct sensors *s;
	struct record r;
	uint16_t w[4];

	(void)state;
	s = start_icp(b, ICP_N);
	assert_int_equal(fakebus_count(b->fb, 0x63, 0x805D), 1);
	fbb_run_for(b, s, SEC(3) / 2);	/* the first conversion is read at the next slot */
	assert_int_equal(fakebus_count(b->fb, 0x63, 0xEFC8), 1);
	assert_int_equal(fakebus_count(b->fb, 0x63, 0xC595), 1);
	assert_int_equal(fakebus_last_args(b->fb, 0x63, 0xC595, w, 4), 1);
	assert_int_equal(w[0], 0x0066);
	assert_int_equal(fakebus_count(b->fb, 0x63, 0xC7F7), 4);
	take(s, &r);
	assert_true(r.has_icp10125);
	assert_true(fabs(r.icp10125.p - 100734.5) < 0.1);
	assert_true(fabs(r.icp10125.t - 21.3) < 0.01);
	fbb_run_for(b, s, SEC(60));
	/* one conversion a second (at 0, 1, ... 61 s), each read at the next */
	assert_int_equal(fakebus_count(b->fb, 0x63, 0x6825), 62);
	sensors_free(s);
	fbb_free(b);
}

/* Raw outputs of docs/chips.md §4.4's signed-OTP row through the whole driver. */
static void
test_signed_otp_end_to_end(void **state)
{
	struct fbb *b = fbb_new("{\"icp10125\": {\"otp\": [-1000, 2000, -3000, 4000], "
	    "\"raw_p\": 11458143, \"raw_t\": 26214}}");
	struct sensors *s;
	struct record r;

	(void)state;
	s = start_icp(b, ICP_N);
	fbb_run_for(b, s, SEC(3) / 2);	/* the first conversion is read at the next slot */
	take(s, &r);
	assert_true(r.has_icp10125);
	assert_true(fabs(r.icp10125.p - 101397.23) < 0.01);
	assert_true(fabs(r.icp10125.t - 24.999) < 0.001);
	sensors_free(s);
	fbb_free(b);
}

/* Negative temperatures and the model's inverse at the range ends. */
static void
test_physical_edges(void **state)
{
	struct fbb *b = fbb_new("{\"icp10125\": {\"otp\": [-1000, 2000, -3000, 4000], "
	    "\"p\": 30000, \"t\": -40}}");
	struct sensors *s;
	struct record r;

	(void)state;
	s = start_icp(b, ICP_N);
	fbb_run_for(b, s, SEC(3) / 2);	/* the first conversion is read at the next slot */
	take(s, &r);
	assert_true(r.has_icp10125);
	assert_true(fabs(r.icp10125.t - -40.0) < 0.01);
	assert_true(fabs(r.icp10125.p - 30000.0) < 0.5);
	assert_int_equal(fbb_control(b, "{\"icp10125\": {\"p\": 110000, \"t\": 85}}"), 0);
	/* the conversion of the next slot, read at the one after */
	fbb_run_for(b, s, SEC(2));
	take(s, &r);
	assert_true(fabs(r.icp10125.t - 85.0) < 0.01);
	assert_true(fabs(r.icp10125.p - 110000.0) < 0.5);
	sensors_free(s);
	fbb_free(b);
}

/* Each configured mode sends its T-first command and waits long enough
 * (the model NACKs a read during the conversion). */
static void
test_modes(void **state)
{
	static const struct { int mode; uint16_t cmd; } v[] = {
		{ ICP_LP, 0x609C }, { ICP_N, 0x6825 }, { ICP_LN, 0x70DF }, { ICP_ULN, 0x7866 },
	};

	(void)state;
	for (size_t i = 0; i < 4; i++) {
		struct fbb *b = fbb_new("{\"icp10125\": {\"p\": 99000, \"t\": 10}}");
		struct sensors *s = start_icp(b, v[i].mode);
		struct record r;

		fbb_run_for(b, s, SEC(10));
		assert_int_equal(fakebus_count(b->fb, 0x63, v[i].cmd), 10);
		assert_int_equal(fakebus_count(b->fb, 0x63, 0xFFFF),
		    10 + 1 + 1 + 1 + 4);		/* + reset, ID, pointer, OTP */
		take(s, &r);
		assert_true(r.has_icp10125);
		assert_int_equal(r.nfaults, 0);
		assert_true(fabs(r.icp10125.p - 99000.0) < 0.5);
		sensors_free(s);
		fbb_free(b);
	}
}

static void
test_wrong_id(void **state)
{
	struct fbb *b = fbb_new("{\"icp10125\": {\"id\": 329}}");	/* 0x0149 */
	struct sensors *s;
	struct record r;

	(void)state;
	s = start_icp(b, ICP_N);
	fbb_run_for(b, s, SEC(5));
	take(s, &r);
	assert_false(r.has_icp10125);
	assert_true(r.nfaults >= 1);
	assert_string_equal(r.faults[0], "icp10125: unexpected id 0x0149");
	assert_int_equal(fakebus_count(b->fb, 0x63, 0xC595), 0);
	sensors_free(s);
	fbb_free(b);
}

/* A NACK burst mid-run: fault, back-off, re-initialised with a fresh OTP read. */
static void
test_nack_recovers(void **state)
{
	struct fbb *b = fbb_new("{\"icp10125\": {\"p\": 101000, \"t\": 20}}");
	struct sensors *s;
	struct record r;
	bool named = false;

	(void)state;
	s = start_icp(b, ICP_N);
	fbb_run_for(b, s, SEC(3));
	take(s, &r);
	assert_int_equal(fbb_control(b, "{\"icp10125\": {\"nack\": 3}}"), 0);
	fbb_run_for(b, s, SEC(10));
	take(s, &r);
	for (unsigned i = 0; i < r.nfaults; i++)
		named |= strncmp(r.faults[i], "icp10125: nack on ", 18) == 0;
	assert_true(named);
	assert_true(r.has_icp10125);		/* back within the 10 s */
	assert_true(fabs(r.icp10125.p - 101000.0) < 0.5);
	assert_int_equal(fakebus_count(b->fb, 0x63, 0xC595), 2);
	sensors_free(s);
	fbb_free(b);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_convert_examples),
		cmocka_unit_test(test_convert_signed_otp),
		cmocka_unit_test(test_convert_edges),
		cmocka_unit_test(test_startup_and_cadence),
		cmocka_unit_test(test_signed_otp_end_to_end),
		cmocka_unit_test(test_physical_edges),
		cmocka_unit_test(test_modes),
		cmocka_unit_test(test_wrong_id),
		cmocka_unit_test(test_nack_recovers),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
