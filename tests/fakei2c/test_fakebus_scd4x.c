/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_fakebus_scd4x: the SCD4x model against docs/chips.md §2.6 and the
 * §6 frames, byte for byte: responses with CRCs, NACK while a command
 * executes, read-once buffers and 0xFF padding, the mode state machine and
 * which commands each mode accepts, the 5 s / 30 s sample cadence.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "fakebus_test.h"

#define A 0x62

static struct fakebus *
bus(const char *json)
{
	struct fakebus *fb = fbt_new(json);

	assert_non_null(fb);
	fakebus_set_origin(fb, 0);
	return fb;
}

/* Command, wait exec ms, read n bytes. */
static const char *
cmd_read(struct fakebus *fb, const char *hex, double wait_ms, size_t n, int64_t *t)
{
	assert_string_equal(fbt_w(fb, A, hex, *t), "OK");
	*t += T_MS(wait_ms);
	const char *r = fbt_r(fb, A, n, *t);
	*t += T_MS(1);
	return r;
}

static void
test_measurement_vector(void **state)
{
	struct fakebus *fb = bus("{\"scd4x\": {\"raw\": [500, 26215, 24249]}}");
	int64_t t = 0;

	(void)state;
	assert_string_equal(cmd_read(fb, "E4 B8", 1, 3, &t), "80 00 A2");
	assert_string_equal(fbt_w(fb, A, "21 B1", t), "OK");
	t += T_S(4.9);
	assert_string_equal(cmd_read(fb, "E4 B8", 1, 3, &t), "80 00 A2");
	/* no sample yet: the command is ACKed, the read header NACKed */
	assert_string_equal(fbt_w(fb, A, "EC 05", t), "OK");
	t += T_MS(1);
	assert_string_equal(fbt_r(fb, A, 9, t), "NACK");
	t = T_S(5.002);
	assert_string_equal(cmd_read(fb, "E4 B8", 1, 3, &t), "80 06 04");
	assert_string_equal(fbt_w(fb, A, "EC 05", t), "OK");
	/* busy for 1 ms: every header NACKed */
	assert_string_equal(fbt_r(fb, A, 9, t + T_MS(0.5)), "NACK");
	assert_string_equal(fbt_r(fb, A, 9, t + T_MS(1)), "01 F4 33 66 67 A2 5E B9 3C");
	/* read once */
	assert_string_equal(fbt_r(fb, A, 9, t + T_MS(2)), "NACK");
	t += T_MS(3);
	assert_string_equal(cmd_read(fb, "E4 B8", 1, 3, &t), "80 00 A2");
	assert_int_equal(fakebus_count(fb, A, 0xEC05), 2);
	fakebus_free(fb);
}

static void
test_physical_values(void **state)
{
	struct fakebus *fb = bus("{\"scd4x\": {\"co2\": 812, \"t\": 22.5, \"rh\": 41.0}}");
	int64_t t = 0;
	char want[64];

	(void)state;
	assert_string_equal(fbt_w(fb, A, "21 B1", t), "OK");
	t = T_S(5.5);
	/* 812 = 0x032C; (22.5+45)*65535/175 = 25278.2 -> 0x62BE; 41*655.35 = 26869.35 -> 0x68F5 */
	snprintf(want, sizeof(want), "03 2C %02X 62 BE %02X 68 F5 %02X",
	    crc8(0x03, 0x2C), crc8(0x62, 0xBE), crc8(0x68, 0xF5));
	assert_string_equal(cmd_read(fb, "EC 05", 1, 9, &t), want);
	fakebus_free(fb);
}

static void
test_serial_and_padding(void **state)
{
	struct fakebus *fb = bus("{\"scd4x\": {}}");
	int64_t t = 0;

	(void)state;
	assert_string_equal(cmd_read(fb, "36 82", 1, 9, &t), "F8 96 31 9F 07 C2 3B BE 89");
	assert_string_equal(cmd_read(fb, "36 82", 1, 12, &t),
	    "F8 96 31 9F 07 C2 3B BE 89 FF FF FF");
	/* a read cut short still consumes the response */
	assert_string_equal(cmd_read(fb, "36 82", 1, 3, &t), "F8 96 31");
	assert_string_equal(fbt_r(fb, A, 9, t), "NACK");
	fakebus_free(fb);

	fb = bus("{\"scd4x\": {\"serial\": \"0x123456789ABC\", \"variant\": \"scd40\"}}");
	t = 0;
	char want[64];
	snprintf(want, sizeof(want), "12 34 %02X 56 78 %02X 9A BC %02X",
	    crc8(0x12, 0x34), crc8(0x56, 0x78), crc8(0x9A, 0xBC));
	assert_string_equal(cmd_read(fb, "36 82", 1, 9, &t), want);
	assert_string_equal(cmd_read(fb, "20 2F", 1, 3, &t), "04 40 3F");
	/* SCD40 has no single shot */
	assert_string_equal(fbt_w(fb, A, "21 9D", t), "NACK");
	fakebus_free(fb);
}

static void
test_settings_vectors(void **state)
{
	struct fakebus *fb = bus("{\"scd4x\": {}}");
	int64_t t = 0;

	(void)state;
	/* power-up defaults */
	assert_string_equal(cmd_read(fb, "23 18", 1, 3, &t), "05 DA 29");
	assert_string_equal(cmd_read(fb, "23 22", 1, 3, &t), "00 00 81");
	assert_string_equal(cmd_read(fb, "E0 00", 1, 3, &t), "03 F5 DB");
	assert_string_equal(cmd_read(fb, "23 13", 1, 3, &t), "00 01 B0");
	assert_string_equal(cmd_read(fb, "23 3F", 1, 3, &t), "01 90 4C");
	assert_string_equal(cmd_read(fb, "20 2F", 1, 3, &t), "14 40 51");

	assert_string_equal(fbt_w(fb, A, "24 1D 07 E6 48", t), "OK");
	t += T_MS(1);
	assert_string_equal(cmd_read(fb, "23 18", 1, 3, &t), "07 E6 48");
	assert_string_equal(fbt_w(fb, A, "24 1D 09 12 63", t), "OK");
	t += T_MS(1);
	assert_string_equal(cmd_read(fb, "23 18", 1, 3, &t), "09 12 63");
	/* bad CRC: NACKed, not executed */
	assert_string_equal(fbt_w(fb, A, "24 1D 07 E6 49", t), "NACK");
	t += T_MS(1);
	assert_string_equal(cmd_read(fb, "23 18", 1, 3, &t), "09 12 63");
	/* a write command without its argument is ignored */
	assert_string_equal(fbt_w(fb, A, "24 1D", t), "OK");
	t += T_MS(1);
	assert_string_equal(cmd_read(fb, "23 18", 1, 3, &t), "09 12 63");

	assert_string_equal(fbt_w(fb, A, "24 27 07 9E 09", t), "OK");
	t += T_MS(1);
	assert_string_equal(cmd_read(fb, "23 22", 1, 3, &t), "07 9E 09");
	assert_string_equal(fbt_w(fb, A, "24 27 04 4C 42", t), "OK");
	t += T_MS(1);
	assert_string_equal(cmd_read(fb, "23 22", 1, 3, &t), "04 4C 42");
	assert_string_equal(fbt_w(fb, A, "E0 00 03 DB 42", t), "OK");
	t += T_MS(1);
	assert_string_equal(cmd_read(fb, "E0 00", 1, 3, &t), "03 DB 42");
	assert_string_equal(fbt_w(fb, A, "24 16 00 00 81", t), "OK");
	t += T_MS(1);
	assert_string_equal(cmd_read(fb, "23 13", 1, 3, &t), "00 00 81");
	assert_string_equal(fbt_w(fb, A, "24 16 00 01 B0", t), "OK");
	t += T_MS(1);
	assert_string_equal(cmd_read(fb, "23 13", 1, 3, &t), "00 01 B0");
	assert_string_equal(fbt_w(fb, A, "24 3A 01 B3 99", t), "OK");
	t += T_MS(1);
	assert_string_equal(cmd_read(fb, "23 3F", 1, 3, &t), "01 B3 99");
	assert_string_equal(fbt_w(fb, A, "24 3A 01 A4 4D", t), "OK");
	t += T_MS(1);
	assert_string_equal(cmd_read(fb, "23 3F", 1, 3, &t), "01 A4 4D");
	assert_string_equal(fbt_w(fb, A, "24 45 00 4C C1", t), "OK");
	t += T_MS(1);
	assert_string_equal(cmd_read(fb, "23 40", 1, 3, &t), "00 4C C1");
	assert_string_equal(fbt_w(fb, A, "24 4E 00 9C C5", t), "OK");
	t += T_MS(1);
	assert_string_equal(cmd_read(fb, "23 4B", 1, 3, &t), "00 9C C5");

	uint16_t w[2];
	assert_int_equal(fakebus_last_args(fb, A, 0x241D, w, 2), 1);
	assert_int_equal(w[0], 0x0912);
	assert_int_equal(fakebus_last_args(fb, A, 0xE000, w, 2), 1);
	assert_int_equal(w[0], 987);
	fakebus_free(fb);
}

static void
test_persist_reinit_factory(void **state)
{
	struct fakebus *fb = bus("{\"scd4x\": {}}");
	int64_t t = 0;

	(void)state;
	assert_string_equal(fbt_w(fb, A, "24 1D 07 E6 48", t), "OK");
	t += T_MS(1);
	assert_string_equal(fbt_w(fb, A, "36 46", t), "OK");	/* reinit: EEPROM back */
	assert_string_equal(fbt_w(fb, A, "23 18", t + T_MS(29)), "NACK");
	t += T_MS(30);
	assert_string_equal(cmd_read(fb, "23 18", 1, 3, &t), "05 DA 29");
	assert_string_equal(fbt_w(fb, A, "24 1D 07 E6 48", t), "OK");
	t += T_MS(1);
	assert_string_equal(fbt_w(fb, A, "36 15", t), "OK");	/* persist: 800 ms */
	assert_string_equal(fbt_w(fb, A, "36 46", t + T_MS(799)), "NACK");
	t += T_MS(800);
	assert_string_equal(fbt_w(fb, A, "36 46", t), "OK");
	t += T_MS(30);
	assert_string_equal(cmd_read(fb, "23 18", 1, 3, &t), "07 E6 48");
	assert_string_equal(fbt_w(fb, A, "36 32", t), "OK");	/* factory reset: 1200 ms */
	assert_string_equal(fbt_w(fb, A, "23 18", t + T_MS(1199)), "NACK");
	t += T_MS(1200);
	assert_string_equal(cmd_read(fb, "23 18", 1, 3, &t), "05 DA 29");
	assert_int_equal(fakebus_count(fb, A, 0x3615), 1);
	fakebus_free(fb);
}

static void
test_periodic_mode_rules(void **state)
{
	struct fakebus *fb = bus("{\"scd4x\": {\"co2\": 700}}");
	int64_t t = 0;
	static const char *const refused[] = {
		"36 82", "21 B1", "21 AC", "24 1D 07 E6 48", "23 18", "36 46", "36 15",
		"36 39", "20 2F", "36 2F 01 E0 B4", "21 9D", "36 E0", "36 F6", "23 13",
	};

	(void)state;
	assert_string_equal(fbt_w(fb, A, "21 B1", t), "OK");
	for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
		t += T_MS(2);
		assert_string_equal(fbt_w(fb, A, refused[i], t), "NACK");
	}
	t += T_MS(2);
	/* allowed in periodic: data ready, read, pressure set/get */
	assert_string_equal(cmd_read(fb, "E4 B8", 1, 3, &t), "80 00 A2");
	assert_string_equal(fbt_w(fb, A, "E0 00 03 DB 42", t), "OK");
	t += T_MS(1);
	assert_string_equal(cmd_read(fb, "E0 00", 1, 3, &t), "03 DB 42");
	/* an unknown code is NACKed in any mode */
	assert_string_equal(fbt_w(fb, A, "12 34", t), "NACK");
	/* samples every 5 s; only the newest survives */
	t = T_S(16);
	assert_string_equal(cmd_read(fb, "E4 B8", 1, 3, &t), "80 06 04");
	/* stop: deaf 500 ms, unread sample discarded, back to idle */
	assert_string_equal(fbt_w(fb, A, "3F 86", t), "OK");
	assert_string_equal(fbt_w(fb, A, "E4 B8", t + T_MS(499)), "NACK");
	t += T_MS(500);
	assert_string_equal(cmd_read(fb, "E4 B8", 1, 3, &t), "80 00 A2");
	assert_string_equal(cmd_read(fb, "36 82", 1, 9, &t), "F8 96 31 9F 07 C2 3B BE 89");
	/* stop in idle is harmless */
	assert_string_equal(fbt_w(fb, A, "3F 86", t), "OK");
	fakebus_free(fb);
}

static void
test_low_power_cadence(void **state)
{
	struct fakebus *fb = bus("{\"scd4x\": {\"co2\": 700}}");
	int64_t t = 0;

	(void)state;
	assert_string_equal(fbt_w(fb, A, "21 AC", t), "OK");
	t = T_S(29.9);
	assert_string_equal(cmd_read(fb, "E4 B8", 1, 3, &t), "80 00 A2");
	t = T_S(30.0);
	assert_string_equal(cmd_read(fb, "E4 B8", 1, 3, &t), "80 06 04");
	assert_string_equal(cmd_read(fb, "EC 05", 1, 3, &t), "02 BC 9A");
	fakebus_free(fb);
}

static void
test_started_in_periodic(void **state)
{
	/* a chip left measuring by a previous process */
	struct fakebus *fb = bus("{\"scd4x\": {\"mode\": \"periodic\"}}");
	int64_t t = 0;

	(void)state;
	assert_string_equal(fbt_w(fb, A, "36 82", t), "NACK");
	assert_string_equal(fbt_w(fb, A, "3F 86", t), "OK");
	t += T_MS(500);
	assert_string_equal(cmd_read(fb, "36 82", 1, 9, &t), "F8 96 31 9F 07 C2 3B BE 89");
	fakebus_free(fb);
}

static void
test_frc(void **state)
{
	struct fakebus *fb = bus("{\"scd4x\": {\"co2\": 530}}");
	int64_t t = 0;

	(void)state;
	/* never measured since power-up: failure */
	assert_string_equal(fbt_w(fb, A, "36 2F 01 E0 B4", t), "OK");
	assert_string_equal(fbt_r(fb, A, 3, t + T_MS(399)), "NACK");
	t += T_MS(400);
	assert_string_equal(fbt_r(fb, A, 3, t), "FF FF AC");
	assert_string_equal(fbt_w(fb, A, "21 B1", t), "OK");
	t = T_S(200);
	assert_string_equal(fbt_w(fb, A, "3F 86", t), "OK");
	t += T_MS(500);
	assert_string_equal(cmd_read(fb, "36 2F 01 E0 B4", 400, 3, &t), "7F CE 7B");
	fakebus_free(fb);
}

static void
test_self_test_and_single_shot(void **state)
{
	struct fakebus *fb = bus("{\"scd4x\": {\"co2\": 500, \"t\": 25, \"rh\": 50}}");
	int64_t t = 0;

	(void)state;
	assert_string_equal(fbt_w(fb, A, "36 39", t), "OK");
	assert_string_equal(fbt_r(fb, A, 3, t + T_S(9.999)), "NACK");
	t += T_S(10);
	assert_string_equal(fbt_r(fb, A, 3, t), "00 00 81");
	assert_string_equal(fbt_w(fb, A, "21 9D", t), "OK");
	assert_string_equal(fbt_w(fb, A, "E4 B8", t + T_S(4.9)), "NACK");
	t += T_S(5);
	assert_string_equal(cmd_read(fb, "E4 B8", 1, 3, &t), "80 06 04");
	assert_string_equal(cmd_read(fb, "EC 05", 1, 3, &t), "01 F4 33");
	/* RHT only: CO2 = 0 */
	assert_string_equal(fbt_w(fb, A, "21 96", t), "OK");
	t += T_MS(50);
	assert_string_equal(cmd_read(fb, "EC 05", 1, 3, &t), "00 00 81");
	fakebus_free(fb);

	fb = bus("{\"scd4x\": {\"self_test\": 196}}");
	t = 0;
	assert_string_equal(cmd_read(fb, "36 39", 10000, 3, &t), "00 C4 02");
	fakebus_free(fb);
}

static void
test_sleep_wake(void **state)
{
	struct fakebus *fb = bus("{\"scd4x\": {}}");
	int64_t t = 0;

	(void)state;
	assert_string_equal(fbt_w(fb, A, "36 E0", t), "OK");
	t += T_MS(1);
	assert_string_equal(fbt_w(fb, A, "36 82", t), "NACK");
	assert_string_equal(fbt_w(fb, A, "", t), "NACK");
	/* wake_up is never ACKed but wakes the chip after 30 ms */
	assert_string_equal(fbt_w(fb, A, "36 F6", t), "NACK");
	assert_string_equal(fbt_w(fb, A, "36 82", t + T_MS(29)), "NACK");
	t += T_MS(30);
	assert_string_equal(cmd_read(fb, "36 82", 1, 9, &t), "F8 96 31 9F 07 C2 3B BE 89");
	/* awake: wake_up is just another command */
	assert_string_equal(fbt_w(fb, A, "36 F6", t), "OK");
	fakebus_free(fb);
}

static void
test_temperature_offset_shifts_t(void **state)
{
	struct fakebus *fb = bus("{\"scd4x\": {\"t\": 22.5, \"rh\": 40}}");
	int64_t t = 0;
	uint8_t b[9];

	(void)state;
	/* 5.4 °C instead of the default 4: reported T 1.4 °C lower */
	assert_string_equal(fbt_w(fb, A, "24 1D 07 E6 48", t), "OK");
	t += T_MS(1);
	assert_string_equal(fbt_w(fb, A, "21 B1", t), "OK");
	t = T_S(6);
	assert_string_equal(fbt_w(fb, A, "EC 05", t), "OK");
	assert_int_equal(fakebus_read(fb, A, b, 9, t + T_MS(1)), 0);
	double temp = -45 + 175.0 * (b[3] << 8 | b[4]) / 65535.0;
	assert_true(temp > 21.1 - 0.01 && temp < 21.1 + 0.01);
	fakebus_free(fb);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_measurement_vector),
		cmocka_unit_test(test_physical_values),
		cmocka_unit_test(test_serial_and_padding),
		cmocka_unit_test(test_settings_vectors),
		cmocka_unit_test(test_persist_reinit_factory),
		cmocka_unit_test(test_periodic_mode_rules),
		cmocka_unit_test(test_low_power_cadence),
		cmocka_unit_test(test_started_in_periodic),
		cmocka_unit_test(test_frc),
		cmocka_unit_test(test_self_test_and_single_shot),
		cmocka_unit_test(test_sleep_wake),
		cmocka_unit_test(test_temperature_offset_shifts_t),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
