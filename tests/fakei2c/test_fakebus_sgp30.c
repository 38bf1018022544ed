/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_fakebus_sgp30: the SGP30 model against docs/chips.md §3.7 and the
 * §6 frames: feature set, iaq_init, the 15 s warm-up at 400/0, baseline
 * get/set with the TVOC-first order of set, humidity, measure_test, serial,
 * NACK while executing, read-once and 0xFF padding, bad CRC, general call.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <jansson.h>

#include "fakebus_test.h"

#define A 0x58

static struct fakebus *
bus(const char *json)
{
	struct fakebus *fb = fbt_new(json);

	assert_non_null(fb);
	fakebus_set_origin(fb, 0);
	return fb;
}

static const char *
cmd_read(struct fakebus *fb, const char *hex, double wait_ms, size_t n, int64_t *t)
{
	assert_string_equal(fbt_w(fb, A, hex, *t), "OK");
	/* deaf for the whole (maximum) execution time */
	assert_string_equal(fbt_r(fb, A, n, *t + T_MS(wait_ms) - 10000), "NACK");
	*t += T_MS(wait_ms);
	const char *r = fbt_r(fb, A, n, *t);
	*t += T_MS(1);
	return r;
}

static void
test_feature_set_and_serial(void **state)
{
	struct fakebus *fb = bus("{\"sgp30\": {}}");
	int64_t t = 0;
	char want[64];

	(void)state;
	assert_string_equal(cmd_read(fb, "20 2F", 10, 3, &t), "00 22 65");
	assert_string_equal(fbt_r(fb, A, 3, t), "NACK");	/* read once */
	assert_string_equal(cmd_read(fb, "36 82", 0.5, 9, &t), "00 00 81 01 A2 EB B3 C4 BE");
	fakebus_free(fb);

	fb = bus("{\"sgp30\": {\"feature_set\": 32, \"serial\": \"0x4A910A976226\"}}");
	t = 0;
	assert_string_equal(cmd_read(fb, "20 2F", 10, 3, &t), "00 20 07");
	snprintf(want, sizeof(want), "4A 91 %02X 0A 97 %02X 62 26 %02X",
	    crc8(0x4A, 0x91), crc8(0x0A, 0x97), crc8(0x62, 0x26));
	assert_string_equal(cmd_read(fb, "36 82", 0.5, 9, &t), want);
	/* feature set 0x20 has no inceptive baseline commands */
	assert_string_equal(fbt_w(fb, A, "20 B3", t), "NACK");
	fakebus_free(fb);
}

static void
test_warmup_then_values(void **state)
{
	struct fakebus *fb = bus("{\"sgp30\": {\"eco2\": 450, \"tvoc\": 12}}");
	int64_t t = 0, init;

	(void)state;
	assert_string_equal(fbt_w(fb, A, "20 03", t), "OK");
	init = t;
	assert_string_equal(fbt_w(fb, A, "20 08", t + T_MS(9.9)), "NACK");
	t += T_MS(10);
	for (int i = 0; i < 14; i++) {
		assert_string_equal(cmd_read(fb, "20 08", 12, 6, &t), "01 90 4C 00 00 81");
		t = init + T_S(i + 1);
	}
	t = init + T_S(14.98);
	assert_string_equal(cmd_read(fb, "20 08", 12, 6, &t), "01 90 4C 00 00 81");
	t = init + T_S(15);
	assert_string_equal(cmd_read(fb, "20 08", 12, 6, &t), "01 C2 50 00 0C FC");
	/* 0xFF beyond the response */
	assert_string_equal(cmd_read(fb, "20 08", 12, 8, &t), "01 C2 50 00 0C FC FF FF");
	assert_int_equal(fakebus_count(fb, A, 0x2008), 17);
	fakebus_free(fb);
}

static void
test_clamp_and_raw(void **state)
{
	struct fakebus *fb = bus("{\"sgp30\": {\"eco2\": 70000, \"tvoc\": 99999}}");
	int64_t t = 0;

	(void)state;
	assert_string_equal(fbt_w(fb, A, "20 03", t), "OK");
	t = T_S(20);
	assert_string_equal(cmd_read(fb, "20 08", 12, 6, &t), "EA 60 A2 EA 60 A2");
	assert_int_equal(fakebus_control(fb, "{\"sgp30\": {\"eco2\": 100, \"tvoc\": 5}}", t), 0);
	assert_string_equal(cmd_read(fb, "20 08", 12, 6, &t), "01 90 4C 00 05 74");
	assert_int_equal(fakebus_control(fb, "{\"sgp30\": {\"raw\": [60000, 60000]}}", t), 0);
	assert_string_equal(cmd_read(fb, "20 08", 12, 6, &t), "EA 60 A2 EA 60 A2");
	fakebus_free(fb);
}

static void
test_measure_before_init(void **state)
{
	struct fakebus *fb = bus("{\"sgp30\": {\"eco2\": 450, \"tvoc\": 12}}");
	int64_t t = T_S(100);

	(void)state;
	assert_string_equal(cmd_read(fb, "20 08", 12, 6, &t), "01 90 4C 00 00 81");
	char *s = fakebus_stats_json(fb, t);
	assert_non_null(s);
	assert_non_null(strstr(s, "\"measure_before_init\":1"));
	free(s);
	fakebus_free(fb);
}

static void
test_baseline(void **state)
{
	struct fakebus *fb = bus("{\"sgp30\": {}}");
	int64_t t = 0, init;

	(void)state;
	assert_string_equal(fbt_w(fb, A, "20 03", t), "OK");
	init = t;
	t += T_MS(10);
	/* no valid baseline in the first hour without a restore */
	assert_string_equal(cmd_read(fb, "20 15", 10, 6, &t), "00 00 81 00 00 81");
	t = init + T_S(3599);
	assert_string_equal(cmd_read(fb, "20 15", 10, 6, &t), "00 00 81 00 00 81");
	t = init + T_S(3600);
	assert_string_equal(cmd_read(fb, "20 15", 10, 6, &t), "90 D7 5F 93 6B B0");
	/* set takes TVOC first; get answers CO2eq first */
	assert_string_equal(fbt_w(fb, A, "20 03", t), "OK");
	t += T_MS(10);
	assert_string_equal(fbt_w(fb, A, "20 1E 93 6B B0 90 D7 5F", t), "OK");
	t += T_MS(10);
	assert_string_equal(cmd_read(fb, "20 15", 10, 6, &t), "90 D7 5F 93 6B B0");
	char frame[64], want[64];
	snprintf(frame, sizeof(frame), "20 1E BE BA %02X FE CA %02X", crc8(0xBE, 0xBA), crc8(0xFE, 0xCA));
	snprintf(want, sizeof(want), "FE CA %02X BE BA %02X", crc8(0xFE, 0xCA), crc8(0xBE, 0xBA));
	assert_string_equal(fbt_w(fb, A, frame, t), "OK");
	t += T_MS(10);
	assert_string_equal(cmd_read(fb, "20 15", 10, 6, &t), want);
	uint16_t w[4];
	assert_int_equal(fakebus_last_args(fb, A, 0x201E, w, 4), 2);
	assert_int_equal(w[0], 0xBEBA);
	assert_int_equal(w[1], 0xFECA);
	/* a bad CRC in either word: NACK, nothing set */
	assert_string_equal(fbt_w(fb, A, "20 1E 93 6B B0 90 D7 5E", t), "NACK");
	t += T_MS(10);
	assert_string_equal(cmd_read(fb, "20 15", 10, 6, &t), want);
	/* iaq_init forgets the restored baseline */
	assert_string_equal(fbt_w(fb, A, "20 03", t), "OK");
	t += T_MS(10);
	assert_string_equal(cmd_read(fb, "20 15", 10, 6, &t), "00 00 81 00 00 81");
	fakebus_free(fb);
}

static void
test_humidity(void **state)
{
	struct fakebus *fb = bus("{\"sgp30\": {}}");
	int64_t t = 0;
	uint16_t w[2];

	(void)state;
	assert_string_equal(fbt_w(fb, A, "20 03", t), "OK");
	t += T_MS(10);
	assert_string_equal(fbt_w(fb, A, "20 61 0F 80 62", t), "OK");
	assert_string_equal(fbt_w(fb, A, "20 61 0F 80 62", t + T_MS(9.9)), "NACK");
	t += T_MS(10);
	assert_int_equal(fakebus_last_args(fb, A, 0x2061, w, 2), 1);
	assert_int_equal(w[0], 0x0F80);
	assert_string_equal(fbt_w(fb, A, "20 61 0B 7C 00", t), "NACK");	/* bad CRC */
	t += T_MS(10);
	assert_int_equal(fakebus_last_args(fb, A, 0x2061, w, 2), 1);
	assert_int_equal(w[0], 0x0F80);
	assert_string_equal(fbt_w(fb, A, "20 61 00 00 81", t), "OK");
	assert_int_equal(fakebus_last_args(fb, A, 0x2061, w, 2), 1);
	assert_int_equal(w[0], 0);
	assert_int_equal(fakebus_count(fb, A, 0x2061), 2);
	fakebus_free(fb);
}

static void
test_measure_test_and_unknown(void **state)
{
	struct fakebus *fb = bus("{\"sgp30\": {\"eco2\": 900}}");
	int64_t t = 0;

	(void)state;
	assert_string_equal(cmd_read(fb, "20 32", 220, 3, &t), "D4 00 C6");
	assert_string_equal(fbt_w(fb, A, "20 99", t), "NACK");
	assert_string_equal(fbt_w(fb, A, "20 08 00", t), "NACK");
	/* iaq running, then measure_test puts the chip back to sleep */
	assert_string_equal(fbt_w(fb, A, "20 03", t), "OK");
	t = T_S(30);
	assert_string_equal(cmd_read(fb, "20 08", 12, 3, &t), "03 84 12");
	assert_string_equal(cmd_read(fb, "20 32", 220, 3, &t), "D4 00 C6");
	assert_string_equal(cmd_read(fb, "20 08", 12, 3, &t), "01 90 4C");
	assert_string_equal(cmd_read(fb, "20 50", 25, 6, &t), "32 C8 14 46 50 2C");
	fakebus_free(fb);
}

static void
test_general_call(void **state)
{
	struct fakebus *fb = bus("{\"sgp30\": {\"eco2\": 900}}");
	int64_t t = 0;

	(void)state;
	assert_string_equal(fbt_w(fb, A, "20 03", t), "OK");
	t = T_S(20);
	assert_string_equal(fbt_w(fb, A, "20 61 0F 80 62", t), "OK");
	t += T_MS(10);
	assert_string_equal(fbt_w(fb, 0x00, "06", t), "OK");
	assert_string_equal(fbt_w(fb, A, "20 08", t + T_MS(0.5)), "NACK");
	t += T_MS(0.6);
	/* back to the power-up state: asleep, humidity off, warm-up again */
	char *s = fakebus_stats_json(fb, t);
	assert_non_null(strstr(s, "\"absolute_humidity\":0"));
	assert_non_null(strstr(s, "\"iaq\":false"));
	free(s);
	assert_string_equal(fbt_w(fb, A, "20 03", t), "OK");
	t += T_S(1);
	assert_string_equal(cmd_read(fb, "20 08", 12, 3, &t), "01 90 4C");
	assert_int_equal(fakebus_count(fb, 0x00, 0x0006), 1);
	fakebus_free(fb);

	/* nobody on the bus answers the general call */
	fb = bus("{\"scd4x\": {}}");
	assert_string_equal(fbt_w(fb, 0x00, "06", 0), "NACK");
	fakebus_free(fb);
}

static void
test_inceptive(void **state)
{
	struct fakebus *fb = bus("{\"sgp30\": {\"inceptive_baseline\": 39838}}");
	int64_t t = 0;

	(void)state;
	assert_string_equal(cmd_read(fb, "20 B3", 10, 3, &t), "9B 9E F0");
	assert_string_equal(fbt_w(fb, A, "20 77 9B 9E F0", t), "OK");
	fakebus_free(fb);
}

static void
test_cadence_stats(void **state)
{
	struct fakebus *fb = bus("{\"sgp30\": {}}");
	static const double at[] = { 1, 2, 3.03, 3.98, 5.05 };
	json_error_t jerr;

	(void)state;
	assert_string_equal(fbt_w(fb, A, "20 03", 0), "OK");
	for (size_t i = 0; i < 5; i++)
		assert_string_equal(fbt_w(fb, A, "20 08", T_S(at[i])), "OK");
	char *s = fakebus_stats_json(fb, T_S(6));
	json_t *root = json_loads(s, 0, &jerr);
	free(s);
	json_t *iv = json_object_get(json_object_get(json_object_get(root, "chips"), "sgp30"),
	    "iaq_intervals");
	assert_int_equal(json_integer_value(json_object_get(iv, "n")), 4);
	assert_float_equal(json_real_value(json_object_get(iv, "min_ms")), 950, 0.001);
	assert_float_equal(json_real_value(json_object_get(iv, "max_ms")), 1070, 0.001);
	assert_float_equal(json_real_value(json_object_get(iv, "max_dev_ms")), 70, 0.001);
	assert_int_equal(json_integer_value(json_object_get(iv, "over_50ms")), 1);
	assert_float_equal(json_real_value(json_object_get(iv, "mean_ms")), 1012.5, 0.001);
	json_decref(root);
	fakebus_free(fb);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_feature_set_and_serial),
		cmocka_unit_test(test_warmup_then_values),
		cmocka_unit_test(test_clamp_and_raw),
		cmocka_unit_test(test_measure_before_init),
		cmocka_unit_test(test_baseline),
		cmocka_unit_test(test_humidity),
		cmocka_unit_test(test_measure_test_and_unknown),
		cmocka_unit_test(test_general_call),
		cmocka_unit_test(test_inceptive),
		cmocka_unit_test(test_cadence_stats),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
