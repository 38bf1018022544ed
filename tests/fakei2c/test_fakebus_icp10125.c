/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_fakebus_icp10125: the ICP-10125 model against docs/chips.md §4.4,
 * §4.5 and §6: ID, OTP pointer and reads, the eight measure commands with
 * their conversion times and field orders, soft reset, read-once, and the
 * inverse conversion (target P/T -> raw) checked by converting back with
 * the algorithm of §4.4 at many points, negative temperatures and signed OTP
 * included. The forward conversion is written out again here rather than
 * taken from the model, so the round trip checks the model's inverse.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "chip.h"
#include "fakebus_test.h"

#define A 0x63

static struct fakebus *
bus(const char *json)
{
	struct fakebus *fb = fbt_new(json);

	assert_non_null(fb);
	fakebus_set_origin(fb, 0);
	return fb;
}

/* docs/chips.md §4.4, step by step. */
static double
spec_pressure(const int16_t c[4], unsigned t_dout, unsigned p_dout)
{
	double t = (double)t_dout - 32768;
	double s1 = 3670016 + c[0] * t * t / 16777216;
	double s2 = 2048.0 * c[3] + c[1] * t * t / 16777216;
	double s3 = 12058624 + c[2] * t * t / 16777216;
	double p0 = 45000, p1 = 80000, p2 = 105000;
	double C = (s1 * s2 * (p0 - p1) + s2 * s3 * (p1 - p2) + s3 * s1 * (p2 - p0)) /
	    (s3 * (p0 - p1) + s1 * (p1 - p2) + s2 * (p2 - p0));
	double Aa = (p0 * s1 - p1 * s2 - (p1 - p0) * C) / (s1 - s2);
	double B = (p0 - Aa) * (s1 + C);
	return Aa + B / (C + p_dout);
}

static void
test_spec_forward_vectors(void **state)
{
	static const int16_t sample[4] = { 1000, 2000, 3000, 4000 };
	static const int16_t neg[4] = { -1000, 2000, -3000, 4000 };

	(void)state;
	assert_float_equal(spec_pressure(sample, 32000, 8000000), 78650.672, 0.01);
	assert_float_equal(fake_icp_pressure(sample, 32000, 8000000), 78650.672, 0.01);
	assert_float_equal(fake_icp_pressure(sample, 26214, 11458143), 101325.00, 0.01);
	assert_float_equal(fake_icp_pressure(sample, 25739, 10564513), 95754.653, 0.01);
	assert_float_equal(fake_icp_pressure(neg, 26214, 11458143), 101397.23, 0.01);
	assert_float_equal(fake_icp_temperature(32000), 40.449, 0.001);
	assert_float_equal(fake_icp_temperature(25739), 23.731, 0.001);
}

static void
test_spec_inverse_vectors(void **state)
{
	static const int16_t sample[4] = { 1000, 2000, 3000, 4000 };
	static const struct { double p; uint32_t raw; } v[] = {
		{ 30000, 1989144 }, { 50000, 4264961 }, { 70000, 6809126 },
		{ 90000, 9672073 }, { 101325, 11458143 }, { 110000, 12917723 },
	};
	uint32_t p;
	uint16_t t;

	(void)state;
	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		fake_icp_inverse(sample, v[i].p, 25.0, &p, &t);
		assert_int_equal(t, 26214);
		assert_int_equal(p, v[i].raw);
	}
}

static void
test_round_trip(void **state)
{
	static const int16_t otps[][4] = {
		{ 1000, 2000, 3000, 4000 }, { -1000, 2000, -3000, 4000 },
		{ -2000, 3000, -1500, 3800 }, { 2500, -1500, 1200, 3900 },
	};
	static const double temps[] = { -40, -20.5, -5.25, 0, 0.01, 21.3, 25, 45, 65, 85 };
	static const double press[] = { 30000, 45000, 70000.5, 95000, 100734.5, 101325, 110000, 115000 };
	int n = 0;

	(void)state;
	for (size_t o = 0; o < sizeof(otps) / sizeof(otps[0]); o++)
		for (size_t i = 0; i < sizeof(temps) / sizeof(temps[0]); i++)
			for (size_t k = 0; k < sizeof(press) / sizeof(press[0]); k++) {
				uint32_t p;
				uint16_t t;
				fake_icp_inverse(otps[o], press[k], temps[i], &p, &t);
				assert_true(p > 0 && p < 16777215);
				/* 175/65536 °C per LSB: within half of it */
				assert_float_equal(-45 + 175.0 * t / 65536, temps[i], 0.0014);
				assert_float_equal(spec_pressure(otps[o], t, p), press[k], 0.05);
				n++;
			}
	assert_int_equal(n, 320);
}

static void
test_id_and_otp(void **state)
{
	struct fakebus *fb = bus("{\"icp10125\": {}}");

	(void)state;
	/* zero wait: write and read at the same instant (combined transfer) */
	assert_string_equal(fbt_w(fb, A, "EF C8", 0), "OK");
	assert_string_equal(fbt_r(fb, A, 3, 0), "01 48 F1");
	assert_string_equal(fbt_r(fb, A, 3, 0), "NACK");
	assert_string_equal(fbt_w(fb, A, "C5 95 00 66 9C", 0), "OK");
	static const char *const otp[] = { "03 E8 D4", "07 D0 2B", "0B B8 9D", "0F A0 E4", "FF FF AC" };
	for (size_t i = 0; i < 5; i++) {
		assert_string_equal(fbt_w(fb, A, "C7 F7", 0), "OK");
		assert_string_equal(fbt_r(fb, A, 3, 0), otp[i]);
	}
	/* pointer again, and a bad CRC / wrong parameter refused */
	assert_string_equal(fbt_w(fb, A, "C5 95 00 66 9D", 0), "NACK");
	assert_string_equal(fbt_w(fb, A, "C5 95 00 67 AD", 0), "NACK");
	assert_string_equal(fbt_w(fb, A, "C5 95 00 66 9C", 0), "OK");
	assert_string_equal(fbt_w(fb, A, "C7 F7", 0), "OK");
	assert_string_equal(fbt_r(fb, A, 3, 0), "03 E8 D4");
	assert_int_equal(fakebus_count(fb, A, 0xC7F7), 6);
	fakebus_free(fb);

	fb = bus("{\"icp10125\": {\"otp\": [-1000, 2000, -3000, 4000], \"id\": 200}}");
	assert_string_equal(fbt_w(fb, A, "C5 95 00 66 9C", 0), "OK");
	assert_string_equal(fbt_w(fb, A, "C7 F7", 0), "OK");
	char want[16];
	snprintf(want, sizeof(want), "FC 18 %02X", crc8(0xFC, 0x18));
	assert_string_equal(fbt_r(fb, A, 3, 0), want);
	assert_string_equal(fbt_w(fb, A, "EF C8", 0), "OK");
	assert_string_equal(fbt_r(fb, A, 3, 0), "00 C8 7F");
	fakebus_free(fb);
}

static void
test_measure_frames(void **state)
{
	struct fakebus *fb = bus("{\"icp10125\": {\"p\": 101325, \"t\": 25}}");
	int64_t t = 0;

	(void)state;
	/* no result yet */
	assert_string_equal(fbt_r(fb, A, 9, t), "NACK");
	assert_string_equal(fbt_w(fb, A, "68 25", t), "OK");
	assert_string_equal(fbt_r(fb, A, 9, t + T_MS(6.29)), "NACK");
	assert_string_equal(fbt_w(fb, A, "EF C8", t + T_MS(6.29)), "NACK");
	t += T_MS(6.3);
	assert_string_equal(fbt_r(fb, A, 9, t), "66 66 93 AE D6 B1 5F 00 FF");
	assert_string_equal(fbt_r(fb, A, 9, t), "NACK");
	assert_string_equal(fbt_w(fb, A, "48 A3", t), "OK");
	t += T_MS(6.3);
	assert_string_equal(fbt_r(fb, A, 12, t), "AE D6 B1 5F 00 FF 66 66 93 FF FF FF");
	fakebus_free(fb);

	/* datasheet Fig. 5: LN P-first, raw values */
	fb = bus("{\"icp10125\": {\"raw_p\": 10564513, \"raw_t\": 25739, \"llsb\": 51}}");
	t = 0;
	assert_string_equal(fbt_w(fb, A, "50 59", t), "OK");
	assert_string_equal(fbt_r(fb, A, 9, t + T_MS(23.7)), "NACK");
	assert_string_equal(fbt_r(fb, A, 9, t + T_MS(23.8)), "A1 33 1C A1 33 1C 64 8B C7");
	fakebus_free(fb);
}

static void
test_mode_timings(void **state)
{
	static const struct { const char *cmd; double typ, max; } m[] = {
		{ "60 9C", 1.6, 1.8 }, { "40 1A", 1.6, 1.8 }, { "68 25", 5.6, 6.3 },
		{ "48 A3", 5.6, 6.3 }, { "70 DF", 20.8, 23.8 }, { "50 59", 20.8, 23.8 },
		{ "78 66", 83.2, 94.5 }, { "58 E0", 83.2, 94.5 },
	};
	struct fakebus *fb = bus("{\"icp10125\": {}}");
	struct fakebus *typ = bus("{\"icp10125\": {\"timing\": \"typ\"}}");
	int64_t t = 0;

	(void)state;
	for (size_t i = 0; i < sizeof(m) / sizeof(m[0]); i++) {
		assert_string_equal(fbt_w(fb, A, m[i].cmd, t), "OK");
		assert_string_equal(fbt_r(fb, A, 9, t + T_MS(m[i].max - 0.01)), "NACK");
		assert_string_equal(fbt_w(fb, A, m[i].cmd, t + T_MS(m[i].max - 0.01)), "NACK");
		assert_string_not_equal(fbt_r(fb, A, 9, t + T_MS(m[i].max)), "NACK");
		assert_string_equal(fbt_w(typ, A, m[i].cmd, t), "OK");
		assert_string_equal(fbt_r(typ, A, 9, t + T_MS(m[i].typ - 0.01)), "NACK");
		assert_string_not_equal(fbt_r(typ, A, 9, t + T_MS(m[i].typ)), "NACK");
		t += T_MS(100);
	}
	assert_string_equal(fbt_w(fb, A, "68 26", t), "NACK");
	fakebus_free(fb);
	fakebus_free(typ);
}

static void
test_soft_reset(void **state)
{
	struct fakebus *fb = bus("{\"icp10125\": {}}");
	int64_t t = 0;

	(void)state;
	assert_string_equal(fbt_w(fb, A, "C5 95 00 66 9C", t), "OK");
	assert_string_equal(fbt_w(fb, A, "C7 F7", t), "OK");
	assert_string_equal(fbt_r(fb, A, 3, t), "03 E8 D4");
	assert_string_equal(fbt_w(fb, A, "68 25", t), "OK");
	/* only when idle: during the conversion it is not even heard */
	assert_string_equal(fbt_w(fb, A, "80 5D", t + T_MS(1)), "NACK");
	t += T_MS(7);
	assert_string_equal(fbt_w(fb, A, "80 5D", t), "OK");
	assert_string_equal(fbt_w(fb, A, "EF C8", t + T_US(169)), "NACK");
	t += T_US(170);
	/* the result is gone, the OTP pointer starts over */
	assert_string_equal(fbt_r(fb, A, 9, t), "NACK");
	assert_string_equal(fbt_w(fb, A, "C7 F7", t), "OK");
	assert_string_equal(fbt_r(fb, A, 3, t), "03 E8 D4");
	fakebus_free(fb);
}

static void
test_scenario_values_round_trip(void **state)
{
	struct fakebus *fb = bus("{\"icp10125\": {\"p\": 100734.5, \"t\": -12.7, "
	    "\"otp\": [-1000, 2000, -3000, 4000]}}");
	static const int16_t neg[4] = { -1000, 2000, -3000, 4000 };
	uint8_t b[9];

	(void)state;
	assert_string_equal(fbt_w(fb, A, "68 25", 0), "OK");
	assert_int_equal(fakebus_read(fb, A, b, 9, T_MS(6.3)), 0);
	unsigned t_dout = (unsigned)(b[0] << 8 | b[1]);
	unsigned p_dout = (unsigned)(b[3] << 16 | b[4] << 8 | b[6]);
	assert_float_equal(-45 + 175.0 * t_dout / 65536, -12.7, 0.0014);
	assert_float_equal(spec_pressure(neg, t_dout, p_dout), 100734.5, 0.05);
	for (int i = 0; i < 3; i++)
		assert_int_equal(crc8(b[3 * i], b[3 * i + 1]), b[3 * i + 2]);
	fakebus_free(fb);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_spec_forward_vectors),
		cmocka_unit_test(test_spec_inverse_vectors),
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_id_and_otp),
		cmocka_unit_test(test_measure_frames),
		cmocka_unit_test(test_mode_timings),
		cmocka_unit_test(test_soft_reset),
		cmocka_unit_test(test_scenario_values_round_trip),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
