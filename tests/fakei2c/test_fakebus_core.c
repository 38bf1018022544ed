/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_fakebus_core: what the bus core does for every chip — scenario
 * validation, absent chips, the injected faults (NACK bursts, CRC
 * corruption rotating over the words, stuck busy, EIO/ETIMEDOUT,
 * unplug/replug at scheduled times and by control), value timelines
 * (linear, step, loop), control JSON, counters and the stats JSON.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <jansson.h>

#include "fakebus_test.h"

static struct fakebus *
bus(const char *json)
{
	struct fakebus *fb = fbt_new(json);

	assert_non_null(fb);
	fakebus_set_origin(fb, 0);
	return fb;
}

static void
test_scenario_errors(void **state)
{
	static const char *const bad[] = {
		"", "[]", "{\"scd4x\": 1}", "{\"bogus\": {}}", "{\"scd4x\": {\"co3\": 1}}",
		"{\"scd4x\": {\"co2\": \"x\"}}", "{\"scd4x\": {\"raw\": [1, 2]}}",
		"{\"scd4x\": {\"raw\": [1, 2, 70000]}}", "{\"sgp30\": {\"baseline\": [1]}}",
		"{\"icp10125\": {\"otp\": [1, 2, 3]}}", "{\"icp10125\": {\"raw_p\": 16777216}}",
		"{\"scd4x\": {\"timeline\": [{\"at\": 5, \"co2\": 1}, {\"at\": 5, \"co2\": 2}]}}",
		"{\"scd4x\": {\"timeline\": [{\"co2\": 1}]}}", "{\"scd4x\": {\"interp\": \"cubic\"}}",
		"{\"time_scale\": 0}", "{\"scd4x\": {\"nack\": -1}}", "{\"scd4x\": {\"mode\": \"sleep\"}}",
		"{\"scd4x\": {\"serial\": \"0x1000000000000\"}}", "{\"nack_errno\": \"EPERM\"}",
		"{\"scd4x\": {\"unplug_at\": -1}}", "{\"scd4x\": {}, \"scd4x\": {}}",
	};
	char err[256];

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		struct fakebus *fb = fakebus_new(bad[i], err, sizeof(err));
		if (fb != NULL)
			fail_msg("accepted: %s", bad[i]);
		assert_true(err[0] != '\0');
	}
	struct fakebus *fb = fakebus_new("{\"time_scale\": 20, \"comment\": \"x\"}", err, sizeof(err));
	assert_non_null(fb);
	assert_true(fakebus_time_scale(fb) == 20.0);
	fakebus_free(fb);
}

static void
test_absent_and_errno(void **state)
{
	struct fakebus *fb = bus("{\"scd4x\": {}, \"sgp30\": {\"present\": false}}");

	(void)state;
	assert_string_equal(fbt_w(fb, 0x58, "20 2F", 0), "NACK");
	assert_string_equal(fbt_w(fb, 0x63, "EF C8", 0), "NACK");
	assert_string_equal(fbt_w(fb, 0x40, "", 0), "NACK");
	assert_string_equal(fbt_w(fb, 0x62, "", 0), "OK");
	fakebus_free(fb);

	fb = bus("{\"nack_errno\": \"ENXIO\", \"scd4x\": {}}");
	assert_string_equal(fbt_w(fb, 0x58, "20 2F", 0), "ENXIO");
	/* a data NACK (bad CRC) stays EREMOTEIO */
	assert_string_equal(fbt_w(fb, 0x62, "24 1D 07 E6 00", 0), "NACK");
	fakebus_free(fb);
}

static void
test_nack_burst(void **state)
{
	struct fakebus *fb = bus("{\"scd4x\": {\"nack\": 3}}");
	int64_t t = 0;

	(void)state;
	for (int i = 0; i < 3; i++)
		assert_string_equal(fbt_w(fb, 0x62, "36 82", t += T_MS(2)), "NACK");
	assert_string_equal(fbt_w(fb, 0x62, "36 82", t += T_MS(2)), "OK");
	assert_string_equal(fbt_r(fb, 0x62, 3, t += T_MS(1)), "F8 96 31");
	/* a burst during a pending response: the reads are NACKed, the
	 * response survives for the first read that gets through */
	assert_string_equal(fbt_w(fb, 0x62, "36 82", t += T_MS(2)), "OK");
	assert_int_equal(fakebus_control(fb, "{\"scd4x\": {\"nack\": 2}}", t), 0);
	assert_string_equal(fbt_r(fb, 0x62, 3, t += T_MS(1)), "NACK");
	assert_string_equal(fbt_r(fb, 0x62, 3, t += T_MS(1)), "NACK");
	assert_string_equal(fbt_r(fb, 0x62, 3, t += T_MS(1)), "F8 96 31");
	fakebus_free(fb);
}

static void
test_crc_corruption(void **state)
{
	struct fakebus *fb = bus("{\"scd4x\": {\"crc\": 4}}");
	int64_t t = 0;
	uint8_t b[9];

	(void)state;
	for (int i = 0; i < 5; i++) {
		int bad = 0, badword = -1;
		assert_string_equal(fbt_w(fb, 0x62, "36 82", t), "OK");
		t += T_MS(1);
		assert_int_equal(fakebus_read(fb, 0x62, b, 9, t), 0);
		t += T_MS(1);
		for (int w = 0; w < 3; w++)
			if (crc8(b[3 * w], b[3 * w + 1]) != b[3 * w + 2])
				bad++, badword = w;
		if (i < 4) {
			assert_int_equal(bad, 1);
			assert_int_equal(badword, i % 3);	/* rotates over the words */
		} else {
			assert_int_equal(bad, 0);
		}
		/* the data bytes themselves are untouched */
		assert_int_equal(b[0], 0xF8);
		assert_int_equal(b[7], 0xBE);
	}
	fakebus_free(fb);

	/* "flip": a data byte is wrong and its CRC says so */
	fb = bus("{\"scd4x\": {\"flip\": 2}}");
	t = 0;
	for (int i = 0; i < 3; i++) {
		int bad = 0;
		assert_string_equal(fbt_w(fb, 0x62, "36 82", t), "OK");
		t += T_MS(1);
		assert_int_equal(fakebus_read(fb, 0x62, b, 9, t), 0);
		t += T_MS(1);
		for (int w = 0; w < 3; w++)
			bad += crc8(b[3 * w], b[3 * w + 1]) != b[3 * w + 2];
		assert_int_equal(bad, i < 2);
		assert_int_equal(b[1], i == 0 ? (0x96 ^ 0x5A) : 0x96);
		assert_int_equal(b[4], i == 1 ? (0x07 ^ 0x5A) : 0x07);
	}
	fakebus_free(fb);
}

static void
test_busy_eio_timeout(void **state)
{
	struct fakebus *fb = bus("{\"scd4x\": {\"busy\": true, \"eio\": 1, \"etimedout\": 1}}");

	(void)state;
	assert_string_equal(fbt_w(fb, 0x62, "36 82", T_S(1)), "NACK");
	assert_string_equal(fbt_w(fb, 0x62, "36 82", T_S(100)), "NACK");
	assert_int_equal(fakebus_control(fb, "{\"scd4x\": {\"busy\": false}}", T_S(101)), 0);
	assert_string_equal(fbt_w(fb, 0x62, "36 82", T_S(101)), "EIO");
	assert_string_equal(fbt_w(fb, 0x62, "36 82", T_S(101)), "ETIMEDOUT");
	assert_string_equal(fbt_w(fb, 0x62, "36 82", T_S(101)), "OK");
	fakebus_free(fb);
}

static void
test_unplug_replug_scheduled(void **state)
{
	struct fakebus *fb = bus("{\"scd4x\": {\"co2\": 600, \"unplug_at\": 10, \"replug_at\": 12},"
	    " \"sgp30\": {}}");
	int64_t t = 0;

	(void)state;
	assert_string_equal(fbt_w(fb, 0x62, "21 B1", t), "OK");
	assert_string_equal(fbt_w(fb, 0x58, "20 03", t), "OK");
	t = T_S(9.99);
	assert_string_equal(fbt_w(fb, 0x62, "E4 B8", t), "OK");
	t = T_S(10);
	assert_string_equal(fbt_r(fb, 0x62, 3, t), "NACK");	/* gone with its response */
	assert_string_equal(fbt_w(fb, 0x62, "E4 B8", T_S(11)), "NACK");
	assert_string_equal(fbt_w(fb, 0x58, "20 2F", T_S(11)), "OK");	/* the others go on */
	/* replugged: powered up idle (30 ms), not measuring */
	assert_string_equal(fbt_w(fb, 0x62, "36 82", T_S(12.01)), "NACK");
	assert_string_equal(fbt_w(fb, 0x62, "36 82", T_S(12.03)), "OK");
	assert_string_equal(fbt_r(fb, 0x62, 3, T_S(12.031)), "F8 96 31");
	char *s = fakebus_stats_json(fb, T_S(13));
	assert_non_null(strstr(s, "\"mode\":\"idle\""));
	free(s);
	fakebus_free(fb);
}

static void
test_unplug_by_control(void **state)
{
	struct fakebus *fb = bus("{\"icp10125\": {}, \"sgp30\": {}}");

	(void)state;
	assert_string_equal(fbt_w(fb, 0x63, "EF C8", T_S(1)), "OK");
	assert_int_equal(fakebus_control(fb, "{\"icp10125\": {\"unplug\": true}}", T_S(2)), 0);
	assert_string_equal(fbt_w(fb, 0x63, "EF C8", T_S(3)), "NACK");
	assert_int_equal(fakebus_control(fb, "{\"icp10125\": {\"unplug\": false}}", T_S(4)), 0);
	assert_string_equal(fbt_w(fb, 0x63, "EF C8", T_S(4)), "NACK");	/* 170 µs power-up */
	assert_string_equal(fbt_w(fb, 0x63, "EF C8", T_S(4.001)), "OK");
	/* control errors leave the bus as it was */
	char err[128] = "";
	assert_int_equal(fakebus_control_err(fb, "{\"icp10125\": {\"bogus\": 1}}", T_S(5),
	    err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "bogus"));
	assert_int_equal(fakebus_control(fb, "not json", T_S(5)), -EINVAL);
	assert_int_equal(fakebus_control(fb, "{\"sgp30\": {\"unplug_at\": 1, \"replug_at\": 2}}",
	    T_S(10)), 0);
	assert_string_equal(fbt_w(fb, 0x58, "20 2F", T_S(10.5)), "OK");
	assert_string_equal(fbt_w(fb, 0x58, "20 2F", T_S(11.5)), "NACK");
	assert_string_equal(fbt_w(fb, 0x58, "20 2F", T_S(12.5)), "OK");
	fakebus_free(fb);
}

static unsigned
co2_at(struct fakebus *fb, double s)
{
	uint8_t b[9];

	if (fakebus_write(fb, 0x62, (const uint8_t *)"\xEC\x05", 2, T_S(s)) != 0 ||
	    fakebus_read(fb, 0x62, b, 3, T_S(s) + T_MS(1)) != 0)
		return 0xFFFFFFFFu;
	return (unsigned)(b[0] << 8 | b[1]);
}

static void
test_timeline(void **state)
{
	struct fakebus *fb = bus("{\"scd4x\": {\"mode\": \"periodic\", \"timeline\": ["
	    "{\"at\": 0, \"co2\": 400}, {\"at\": 100, \"co2\": 1400, \"t\": 30}]}}");

	(void)state;
	/* samples at 5, 10, ... s: linear between points, flat after the last */
	assert_int_equal(co2_at(fb, 5.1), 450);
	assert_int_equal(co2_at(fb, 50.1), 900);
	assert_int_equal(co2_at(fb, 200.1), 1400);
	assert_int_equal(co2_at(fb, 200.2), 0xFFFFFFFFu);	/* read once */
	fakebus_free(fb);

	fb = bus("{\"scd4x\": {\"mode\": \"periodic\", \"interp\": \"step\", \"loop\": 20, "
	    "\"timeline\": [{\"at\": 0, \"co2\": 400}, {\"at\": 10, \"co2\": 800}]}}");
	assert_int_equal(co2_at(fb, 5.1), 400);
	assert_int_equal(co2_at(fb, 15.1), 800);
	assert_int_equal(co2_at(fb, 25.1), 400);	/* looped */
	/* a value set by control replaces the timeline for that value */
	assert_int_equal(fakebus_control(fb, "{\"scd4x\": {\"co2\": 999}}", T_S(26)), 0);
	assert_int_equal(co2_at(fb, 30.1), 999);
	/* a control timeline counts from when it is applied */
	assert_int_equal(fakebus_control(fb, "{\"scd4x\": {\"interp\": \"linear\", \"loop\": false,"
	    " \"timeline\": [{\"at\": 0, \"co2\": 1000}, {\"at\": 10, \"co2\": 2000}]}}", T_S(30.1)), 0);
	assert_int_equal(co2_at(fb, 35.1), 1490);	/* sample at 35 s = 4.9 s in */
	fakebus_free(fb);
}

static void
test_stats_json(void **state)
{
	struct fakebus *fb = bus("{\"scd4x\": {}, \"sgp30\": {}}");
	json_error_t jerr;
	int64_t t = 0;

	(void)state;
	assert_string_equal(fbt_w(fb, 0x62, "21 B1", t), "OK");
	assert_string_equal(fbt_w(fb, 0x62, "E0 00 03 DB 42", t += T_MS(1)), "OK");
	assert_string_equal(fbt_w(fb, 0x58, "20 03", t), "OK");
	assert_string_equal(fbt_w(fb, 0x58, "20 61 0F 80 62", t += T_MS(10)), "OK");
	assert_string_equal(fbt_w(fb, 0x58, "20 08", t += T_MS(1)), "NACK");
	char *s = fakebus_stats_json(fb, t);
	json_t *root = json_loads(s, 0, &jerr);
	free(s);
	assert_non_null(root);
	json_t *scd = json_object_get(json_object_get(root, "chips"), "scd4x");
	json_t *sgp = json_object_get(json_object_get(root, "chips"), "sgp30");
	assert_int_equal(json_integer_value(json_object_get(json_object_get(scd, "commands"), "0x21b1")), 1);
	assert_int_equal(json_integer_value(json_array_get(json_object_get(json_object_get(scd,
	    "last_args"), "0xe000"), 0)), 987);
	assert_string_equal(json_string_value(json_object_get(scd, "mode")), "periodic");
	assert_int_equal(json_integer_value(json_object_get(sgp, "absolute_humidity")), 0x0F80);
	assert_int_equal(json_integer_value(json_object_get(sgp, "nacks")), 1);
	assert_true(json_is_false(json_object_get(json_object_get(json_object_get(root, "chips"),
	    "icp10125"), "present")));
	assert_int_equal(fakebus_count(fb, 0x58, 0xFFFF), 2);
	assert_int_equal(fakebus_count(fb, 0x63, 0xFFFF), 0);
	json_decref(root);
	fakebus_free(fb);
}

static void
test_origin_latch(void **state)
{
	/* without set_origin the first access is power-on and t = 0 */
	struct fakebus *fb = fbt_new("{\"scd4x\": {\"unplug_at\": 1}}");

	(void)state;
	assert_non_null(fb);
	assert_string_equal(fbt_w(fb, 0x62, "", T_S(1000)), "OK");
	assert_int_equal(fakebus_origin(fb), T_S(1000));
	assert_string_equal(fbt_w(fb, 0x62, "", T_S(1000.5)), "OK");
	assert_string_equal(fbt_w(fb, 0x62, "", T_S(1001)), "NACK");
	fakebus_free(fb);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_scenario_errors),
		cmocka_unit_test(test_absent_and_errno),
		cmocka_unit_test(test_nack_burst),
		cmocka_unit_test(test_crc_corruption),
		cmocka_unit_test(test_busy_eio_timeout),
		cmocka_unit_test(test_unplug_replug_scheduled),
		cmocka_unit_test(test_unplug_by_control),
		cmocka_unit_test(test_timeline),
		cmocka_unit_test(test_stats_json),
		cmocka_unit_test(test_origin_latch),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
