/* SPDX-License-Identifier: Apache-2.0 */
/*
 * SCD4x driver: conversions and encodings from docs/chips.md §2.3 and §6
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
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "clock.h"
#include "conf.h"
#include "chip.h"
#include "fakebus_bus.h"
#include "sensors.h"

#define SEC(x) ((int64_t)(x) * NS_PER_S)

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


static struct sensors *
start_scd(struct fbb *b, struct sensors_conf *c)
{
	struct sensors *s = NULL;
	char err[512] = "";

	c->sgp30.enabled = false;
	c->icp10125.enabled = false;
	c->require = REQUIRE_SCD4X_OR_ICP;
	assert_int_equal(sensors_new(c, &b->bus, NULL, b->now, &s, err, sizeof(err)), 0);
	return s;
}

static void
defaults(struct sensors_conf *c)
{
	memset(c, 0, sizeof(*c));
	conf_defaults(scd4x_conf_keys, &c->scd4x);
	conf_defaults(sgp30_conf_keys, &c->sgp30);
	conf_defaults(icp10125_conf_keys, &c->icp10125);
}

static struct proto_chip_status
scd_status(struct sensors *s)
{
	struct proto_status st;

	memset(&st, 0, sizeof(st));
	sensors_status(s, &st);
	return st.chips[0];
}

static uint16_t
last_arg(struct fbb *b, uint16_t cmd)
{
	uint16_t w[4] = { 0 };

	assert_int_equal(fakebus_last_args(b->fb, 0x62, cmd, w, 4), 1);
	return w[0];
}

static void
take(struct sensors *s, struct record *r)
{
	memset(r, 0, sizeof(*r));
	sensors_take(s, r);
}

static bool
has_fault(const struct record *r, const char *text)
{
	for (unsigned i = 0; i < r->nfaults; i++)
		if (strcmp(r->faults[i], text) == 0)
			return true;
	return false;
}

/* A chip left measuring by an earlier process: stop, 500 ms, serial,
 * variant, the three RAM settings (defaults), start; first sample ~5 s. */
static void
test_startup_from_periodic(void **state)
{
	struct fbb *b = fbb_new("{\"scd4x\": {\"mode\": \"periodic\", \"co2\": 812, "
	    "\"t\": 22.5, \"rh\": 41.0}}");
	struct sensors_conf c;
	struct sensors *s;
	struct record r;

	(void)state;
	defaults(&c);
	s = start_scd(b, &c);
	assert_int_equal(fakebus_count(b->fb, 0x62, 0x3F86), 1);
	fbb_run_for(b, s, SEC(1));
	assert_int_equal(fakebus_count(b->fb, 0x62, 0x3682), 1);
	assert_int_equal(fakebus_count(b->fb, 0x62, 0x202F), 1);
	assert_int_equal(fakebus_count(b->fb, 0x62, 0x3646), 0);	/* not needed */
	assert_int_equal(last_arg(b, 0x241D), 0x05DA);
	assert_int_equal(last_arg(b, 0x2427), 0);
	assert_int_equal(last_arg(b, 0x2416), 1);
	assert_int_equal(fakebus_count(b->fb, 0x62, 0x21B1), 1);
	assert_int_equal(fakebus_count(b->fb, 0x62, 0x3615), 0);	/* no EEPROM wear */
	assert_string_equal(scd_status(s).state, "starting");
	take(s, &r);
	assert_false(r.has_scd4x);
	fbb_run_for(b, s, SEC(5));
	take(s, &r);
	assert_true(r.has_scd4x);
	assert_int_equal(r.scd4x.co2, 812);
	assert_true(fabs(r.scd4x.t - 22.5) < 0.01);
	assert_true(fabs(r.scd4x.rh - 41.0) < 0.01);
	assert_string_equal(scd_status(s).state, "ok");
	/* one sample per 5 s, read once */
	fbb_run_for(b, s, SEC(50));
	assert_int_equal(fakebus_count(b->fb, 0x62, 0xEC05), 11);
	assert_int_equal(scd_status(s).measurements, 11);
	assert_int_equal(scd_status(s).faults, 0);
	sensors_free(s);
	fbb_free(b);
}

/* Configured offset, altitude, ASC off and low-power mode reach the chip
 * with the right words; the first low-power sample comes after ~30 s. */
static void
test_settings_low_power(void **state)
{
	struct fbb *b = fbb_new("{\"scd4x\": {}}");
	struct sensors_conf c;
	struct sensors *s;
	struct record r;

	(void)state;
	defaults(&c);
	c.scd4x.temp_offset = 5.4;
	c.scd4x.altitude = 1950;
	c.scd4x.asc = false;
	c.scd4x.mode = SCD4X_LOW_POWER;
	s = start_scd(b, &c);
	fbb_run_for(b, s, SEC(25));
	assert_int_equal(last_arg(b, 0x241D), 0x07E6);
	assert_int_equal(last_arg(b, 0x2427), 1950);
	assert_int_equal(last_arg(b, 0x2416), 0);
	assert_int_equal(fakebus_count(b->fb, 0x62, 0x21AC), 1);
	assert_int_equal(fakebus_count(b->fb, 0x62, 0x21B1), 0);
	take(s, &r);
	assert_false(r.has_scd4x);
	fbb_run_for(b, s, SEC(10));
	take(s, &r);
	assert_true(r.has_scd4x);
	/* polled gently: a handful of data-ready questions per 30 s sample */
	fbb_run_for(b, s, SEC(300));
	assert_int_equal(fakebus_count(b->fb, 0x62, 0xEC05), 11);
	assert_true(fakebus_count(b->fb, 0x62, 0xE4B8) < 11 * 4);
	sensors_free(s);
	fbb_free(b);
}

/* Raw words straight from the chip: the edges convert exactly; 0 ppm is a
 * known failure mode and is discarded with a fault, not reported. */
static void
test_raw_edges(void **state)
{
	struct fbb *b = fbb_new("{\"scd4x\": {\"raw\": [65535, 65535, 65535]}}");
	struct sensors_conf c;
	struct sensors *s;
	struct record r;

	(void)state;
	defaults(&c);
	s = start_scd(b, &c);
	fbb_run_for(b, s, SEC(6));
	take(s, &r);
	assert_true(r.has_scd4x);
	assert_int_equal(r.scd4x.co2, 65535);
	assert_true(fabs(r.scd4x.t - 130.0) < 1e-9);
	assert_true(fabs(r.scd4x.rh - 100.0) < 1e-9);

	assert_int_equal(fbb_control(b, "{\"scd4x\": {\"raw\": [400, 13107, 0]}}"), 0);
	fbb_run_for(b, s, SEC(5));
	take(s, &r);
	assert_true(r.has_scd4x);
	assert_int_equal(r.scd4x.co2, 400);
	assert_true(fabs(r.scd4x.t - -10.0) < 0.003);
	assert_true(fabs(r.scd4x.rh) < 1e-9);

	/* 0 ppm (VDDH unpowered): no CO2, with its reason; T/RH kept */
	assert_int_equal(fbb_control(b, "{\"scd4x\": {\"raw\": [0, 26214, 32768]}}"), 0);
	fbb_run_for(b, s, SEC(5));
	take(s, &r);
	assert_true(r.has_scd4x);
	assert_string_equal(r.scd4x_st.state, "ok");
	assert_false(r.scd4x.has_co2);
	assert_true(r.scd4x.has_co2_error);
	assert_non_null(strstr(r.scd4x.co2_error, "0 ppm"));
	assert_true(fabs(r.scd4x.t - 25.0) < 0.003);
	assert_true(fabs(r.scd4x.rh - 50.0) < 0.003);
	assert_true(has_fault(&r, "scd4x: invalid co2 (0 ppm); t and rh kept"));
	assert_string_equal(scd_status(s).state, "ok");	/* no restart for that */
	assert_int_equal(fakebus_count(b->fb, 0x62, 0x3F86), 1);
	sensors_free(s);
	fbb_free(b);
}

/* Steps the clock 1 ms at a time until cmd has been sent n times. */
static void
run_until_sent(struct fbb *b, struct sensors *s, uint16_t cmd, uint64_t n)
{
	for (int i = 0; i < 20000 && fakebus_count(b->fb, 0x62, cmd) < n; i++)
		fbb_run_for(b, s, NS_PER_MS);
	assert_int_equal(fakebus_count(b->fb, 0x62, cmd), n);
}

/* A corrupted read_measurement: the value is dropped, the fault named,
 * the chip re-initialised, and the next value is good. */
static void
test_crc_on_measurement(void **state)
{
	struct fbb *b = fbb_new("{\"scd4x\": {\"co2\": 700}}");
	struct sensors_conf c;
	struct sensors *s;
	struct record r;

	(void)state;
	defaults(&c);
	s = start_scd(b, &c);
	fbb_run_for(b, s, SEC(6));
	take(s, &r);
	assert_true(r.has_scd4x);
	run_until_sent(b, s, 0xEC05, 2);
	assert_int_equal(fbb_control(b, "{\"scd4x\": {\"crc\": 1}}"), 0);
	fbb_run_for(b, s, 5 * NS_PER_MS);
	take(s, &r);
	assert_false(r.has_scd4x);
	assert_true(has_fault(&r, "scd4x: crc error on read_measurement"));
	assert_string_equal(scd_status(s).state, "retrying");
	assert_int_equal(scd_status(s).faults, 1);
	fbb_run_for(b, s, SEC(8));
	take(s, &r);
	assert_true(r.has_scd4x);
	assert_int_equal(r.scd4x.co2, 700);
	assert_int_equal(r.nfaults, 0);
	assert_int_equal(fakebus_count(b->fb, 0x62, 0x3F86), 2);	/* re-initialised */
	assert_string_equal(scd_status(s).state, "ok");
	sensors_free(s);
	fbb_free(b);
}

/* Unplugged: the retries back off 1, 2, 4, … 60 s; replugged: back. */
static void
test_unplug_backoff(void **state)
{
	struct fbb *b = fbb_new("{\"scd4x\": {}}");
	struct sensors_conf c;
	struct sensors *s;
	struct record r;
	int64_t at[16];
	size_t n = 0;
	uint64_t faults;
	static const int64_t gaps[] = { 1, 2, 4, 8, 16, 32, 60, 60 };

	(void)state;
	defaults(&c);
	s = start_scd(b, &c);
	fbb_run_for(b, s, SEC(12));
	take(s, &r);
	assert_true(r.has_scd4x);
	assert_int_equal(fbb_control(b, "{\"scd4x\": {\"unplug\": true}}"), 0);
	faults = scd_status(s).faults;
	for (int i = 0; i < 260 * 10; i++) {
		fbb_run_for(b, s, 100 * NS_PER_MS);
		if (scd_status(s).faults != faults && n < 16) {
			faults = scd_status(s).faults;
			at[n++] = b->now;
		}
	}
	assert_true(n >= 9);
	for (size_t i = 0; i < 8; i++) {
		int64_t gap = (at[i + 1] - at[i] + 50 * NS_PER_MS) / NS_PER_S;
		assert_int_equal(gap, gaps[i]);
	}
	assert_string_equal(scd_status(s).state, "retrying");
	take(s, &r);
	assert_false(r.has_scd4x);
	assert_true(has_fault(&r, "scd4x: no answer (nack)"));

	assert_int_equal(fbb_control(b, "{\"scd4x\": {\"unplug\": false}}"), 0);
	/* next retry within 60 s, then 0.5 s start-up and the first 5 s sample */
	for (n = 0; n < 70 && !r.has_scd4x; n++) {
		fbb_run_for(b, s, SEC(1));
		take(s, &r);
	}
	print_message("scd4x back %zu s after replug\n", n);
	assert_true(r.has_scd4x);
	assert_string_equal(scd_status(s).state, "ok");
	sensors_free(s);
	fbb_free(b);
}

/* Data-ready never set: after three periods the chip is re-initialised. */
static void
test_stuck_data_ready(void **state)
{
	struct fbb *b = fbb_new("{\"scd4x\": {}}");
	struct sensors_conf c;
	struct sensors *s;
	struct record r;
	bool found = false;

	(void)state;
	defaults(&c);
	s = start_scd(b, &c);
	fbb_run_for(b, s, SEC(6));
	take(s, &r);
	assert_true(r.has_scd4x);
	assert_int_equal(fbb_control(b, "{\"scd4x\": {\"stuck_data\": true}}"), 0);
	fbb_run_for(b, s, SEC(20));
	take(s, &r);
	assert_false(r.has_scd4x);
	for (unsigned i = 0; i < r.nfaults; i++)
		found |= strncmp(r.faults[i], "scd4x: no data for ", 19) == 0;
	assert_true(found);
	assert_int_equal(fakebus_count(b->fb, 0x62, 0x3F86), 2);
	assert_int_equal(fbb_control(b, "{\"scd4x\": {\"stuck_data\": false}}"), 0);
	fbb_run_for(b, s, SEC(30));
	take(s, &r);
	assert_true(r.has_scd4x);
	sensors_free(s);
	fbb_free(b);
}

/* The serial read is refused once after stop: reinit, then carry on. */
static void
test_reinit_when_needed(void **state)
{
	struct fbb *b = fbb_new("{\"scd4x\": {}}");
	struct sensors_conf c;
	struct sensors *s;
	struct record r;

	(void)state;
	defaults(&c);
	s = start_scd(b, &c);
	assert_int_equal(fbb_control(b, "{\"scd4x\": {\"nack\": 1}}"), 0);
	fbb_run_for(b, s, SEC(7));
	assert_int_equal(fakebus_count(b->fb, 0x62, 0x3646), 1);
	take(s, &r);
	assert_true(r.has_scd4x);
	assert_int_equal(r.nfaults, 0);
	sensors_free(s);
	fbb_free(b);
}


static int
capture_probe(const struct sensors_conf *c, struct fbb *b, char *out, size_t len)
{
	char path[] = "/tmp/test_scd4x.XXXXXX";
	int fd = mkstemp(path), saved = dup(1), r;
	ssize_t n;

	assert_true(fd >= 0 && saved >= 0);
	fflush(stdout);
	dup2(fd, 1);
	r = sensors_probe(c, &b->bus);
	fflush(stdout);
	dup2(saved, 1);
	close(saved);
	n = pread(fd, out, len - 1, 0);
	out[n > 0 ? n : 0] = '\0';
	close(fd);
	unlink(path);
	return r;
}

/* `sensord --probe` on the real clock: stop, serial, variant, the 10 s
 * self-test, one periodic sample. Slow (about 16 s) because the waits are
 * the datasheet's (a failing self-test, another 10 s, is left out). */
static void
test_probe(void **state)
{
	struct fbb *b = fbb_new_realtime("{\"scd4x\": {\"mode\": \"periodic\", "
	    "\"co2\": 640, \"t\": 19.5, \"rh\": 55.0}}");
	struct sensors_conf c;
	char out[2048];

	(void)state;
	defaults(&c);
	c.sgp30.enabled = false;
	c.icp10125.enabled = false;
	assert_int_equal(capture_probe(&c, b, out, sizeof(out)), 0);
	assert_non_null(strstr(out, "scd4x     0x62  PASS     SCD41 serial 0xF8969F073BBE, "
	    "self-test ok, 640 ppm 19.50 C 55.00 %RH"));
	assert_int_equal(fakebus_count(b->fb, 0x62, 0x3639), 1);
	fbb_free(b);

}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_convert_frame),
		cmocka_unit_test(test_convert_edges),
		cmocka_unit_test(test_encodings),
		cmocka_unit_test(test_startup_from_periodic),
		cmocka_unit_test(test_settings_low_power),
		cmocka_unit_test(test_raw_edges),
		cmocka_unit_test(test_crc_on_measurement),
		cmocka_unit_test(test_unplug_backoff),
		cmocka_unit_test(test_stuck_data_ready),
		cmocka_unit_test(test_reinit_when_needed),
		cmocka_unit_test(test_probe),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
