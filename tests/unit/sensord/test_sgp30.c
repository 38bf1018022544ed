/* SPDX-License-Identifier: Apache-2.0 */
/*
 * SGP30 driver: the absolute-humidity formula and its 8.8 encoding
 * (docs/chips.md §3.6) and, against the chip model on the fake bus in
 * virtual time, start-up, the drift-free 1 Hz schedule, warm-up (a state,
 * no values), humidity compensation words, and the baseline save/restore
 * rules, including the save at an orderly stop.
 */
#include <errno.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include <cmocka.h>

#include "clock.h"
#include "conf.h"
#include "chip.h"
#include "fakebus_bus.h"
#include "fsutil.h"
#include "sensors.h"

#define SEC(x) ((int64_t)(x) * NS_PER_S)
#define HOURS(x) ((int64_t)(x) * 3600 * NS_PER_S)
#define SERIAL "0x000001A2B3C4"	/* the model's default */

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


static char statedir[] = "/tmp/test_sgp30.XXXXXX";
static char basefile[sizeof(statedir) + 32];

static int
setup(void **state)
{
	(void)state;
	snprintf(statedir, sizeof(statedir), "/tmp/test_sgp30.XXXXXX");
	if (!mkdtemp(statedir))
		return -1;
	snprintf(basefile, sizeof(basefile), "%s/sgp30-baseline.json", statedir);
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	unlink(basefile);
	return rmdir(statedir);
}

/* Only the SGP30 enabled, baseline file in the test's state dir. */
static struct sensors *
start_sgp(struct fbb *b, bool humidity)
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
	c.icp10125.enabled = false;
	c.sgp30.humidity_compensation = humidity;
	c.require = REQUIRE_ANY;
	assert_int_equal(sensors_new(&c, &b->bus, statedir, b->now, &s, err, sizeof(err)), 0);
	return s;
}

static const char *
sgp_state(struct sensors *s)
{
	static struct proto_status st;

	memset(&st, 0, sizeof(st));
	sensors_status(s, &st);
	return st.chips[1].state;
}

/* An orderly stop in virtual time, then free (nothing left to do then). */
static void
stop_and_free(struct fbb *b, struct sensors *s)
{
	sensors_stop(s, b->now);
	fbb_run_for(b, s, SEC(1));
	assert_true(sensors_stopped(s));
	sensors_free(s);
}

static void
write_baseline(const char *serial, int co2, int tvoc, int64_t age_s)
{
	char text[256];
	int n = snprintf(text, sizeof(text),
	    "{\"serial\": \"%s\", \"co2eq\": %d, \"tvoc\": %d, \"saved\": %lld}", serial,
	    co2, tvoc, (long long)(clock_realtime_ns() / NS_PER_S - age_s));

	assert_int_equal(fs_write_atomic(basefile, text, (size_t)n, 0644), 0);
}

/* Exactly one measure_iaq per virtual second, each on the 1 s grid. */
static void
test_schedule_exact(void **state)
{
	struct fbb *b = fbb_new("{\"sgp30\": {}}");
	struct sensors *s;
	uint64_t n0;

	(void)state;
	s = start_sgp(b, true);
	fbb_run_for(b, s, SEC(3));
	n0 = fakebus_count(b->fb, 0x58, 0x2008);
	fbb_log(b, 0x58, 0x2008);
	fbb_run_for(b, s, SEC(100));
	assert_int_equal(fakebus_count(b->fb, 0x58, 0x2008) - n0, 100);
	assert_int_equal(b->nlog, 100);
	for (size_t i = 1; i < b->nlog; i++)
		assert_int_equal(b->log[i] - b->log[i - 1], NS_PER_S);
	sensors_free(s);
	fbb_free(b);
}

/* The loop wakes 0..20 ms late (pseudo-random) and the other two chips share
 * the bus: every measurement stays within the wake-up latency of its grid
 * slot (two, and 12 ms, after a humidity update), nothing accumulates, and
 * the count is still one per second. */
static int64_t
late(uint64_t i)
{
	return (int64_t)((i * 2654435761u) % 20000) * 1000;
}

static void
test_schedule_no_drift(void **state)
{
	struct fbb *b = fbb_new("{\"scd4x\": {}, \"sgp30\": {}, \"icp10125\": {}}");
	struct sensors_conf c;
	struct sensors *s = NULL;
	char err[256];
	int64_t worst = 0, t0, end;
	uint64_t n0;

	(void)state;
	memset(&c, 0, sizeof(c));
	conf_defaults(scd4x_conf_keys, &c.scd4x);
	conf_defaults(sgp30_conf_keys, &c.sgp30);
	conf_defaults(icp10125_conf_keys, &c.icp10125);
	c.reads_wait = true;	/* as sensord at its default 5 s records */
	assert_int_equal(sensors_new(&c, &b->bus, statedir, b->now, &s, err, sizeof(err)), 0);
	fbb_run(b, s, b->now + SEC(2), late);
	n0 = fakebus_count(b->fb, 0x58, 0x2008);
	fbb_log(b, 0x58, 0x2008);
	end = b->now + SEC(300);
	fbb_run(b, s, end, late);
	assert_int_equal(b->nlog, 300);
	assert_int_equal(fakebus_count(b->fb, 0x58, 0x2008) - n0, 300);
	/* grid slot k is t0 + k s, with t0 the earliest possible phase */
	t0 = b->log[0];
	for (size_t i = 0; i < b->nlog; i++)
		if (b->log[i] - (int64_t)i * NS_PER_S < t0)
			t0 = b->log[i] - (int64_t)i * NS_PER_S;
	for (size_t i = 0; i < b->nlog; i++) {
		int64_t dev = b->log[i] - (t0 + (int64_t)i * NS_PER_S);
		if (dev > worst)
			worst = dev;
	}
	print_message("sgp30 schedule: %zu measurements in 300 s, worst deviation from "
	    "the 1 s grid %.3f ms (injected wake-up latency 0..20 ms)\n", b->nlog,
	    (double)worst / 1e6);
	/* After each new SCD4x sample (every 5 s) set_absolute_humidity comes
	 * first and measure_iaq 12 ms later, on a wake-up of its own with its
	 * own injected latency: up to 20 + 12 + 20 ms late, never more. */
	assert_true(worst <= 52 * NS_PER_MS + NS_PER_MS);
	sensors_free(s);
	fbb_free(b);
}

/* The same on the real clock for 6 s, the way sensord's loop runs it (sleep
 * until the next deadline, read the clock, run): the real wake-up jitter
 * of this machine, all three chips sharing the bus. */
static void
test_schedule_realtime(void **state)
{
	struct fbb *b = fbb_new_realtime("{\"scd4x\": {}, \"sgp30\": {}, \"icp10125\": {}}");
	struct sensors_conf c;
	struct sensors *s = NULL;
	char err[256];
	int64_t end, worst = 0, t0;

	(void)state;
	memset(&c, 0, sizeof(c));
	conf_defaults(scd4x_conf_keys, &c.scd4x);
	conf_defaults(sgp30_conf_keys, &c.sgp30);
	conf_defaults(icp10125_conf_keys, &c.icp10125);
	c.reads_wait = true;	/* as sensord at its default 5 s records */
	assert_int_equal(sensors_new(&c, &b->bus, statedir, clock_mono_ns(), &s, err,
	    sizeof(err)), 0);
	fbb_log(b, 0x58, 0x2008);
	end = clock_mono_ns() + SEC(6);
	for (;;) {
		int64_t d = sensors_next_deadline(s), now = clock_mono_ns();
		if (d > end)
			break;
		if (d > now)
			chip_sleep_ns(d - now);
		sensors_run(s, clock_mono_ns());
	}
	print_message("%zu measure_iaq in 6 s\n", b->nlog);
	assert_true(b->nlog >= 5 && b->nlog <= 7);
	t0 = b->log[0];
	for (size_t i = 1; i < b->nlog; i++) {
		int64_t dev = llabs(b->log[i] - (t0 + (int64_t)i * NS_PER_S));
		if (dev > worst)
			worst = dev;
	}
	print_message("sgp30 schedule (real clock): %zu measurements, worst deviation "
	    "from the 1 s grid %.3f ms\n", b->nlog, (double)worst / 1e6);
	/* valgrind (make valgrind) slows every turn by far more than that */
	if (!getenv("VALGRIND"))
		assert_true(worst < 50 * NS_PER_MS);
	sensors_free(s);
	fbb_free(b);
}

/* The first 15 s the chip answers its constants (400/0): the record has no
 * SGP30 values then, and says warming_up; then the real values, ok. */
static void
test_warmup(void **state)
{
	struct fbb *b = fbb_new("{\"sgp30\": {\"eco2\": 612, \"tvoc\": 87}}");
	struct sensors *s;
	struct record r;
	int warm = 0, real = 0;

	(void)state;
	s = start_sgp(b, true);
	for (int i = 0; i < 30; i++) {
		fbb_run_for(b, s, SEC(1));
		memset(&r, 0, sizeof(r));
		sensors_take(s, &r);
		assert_true(r.sgp30_st.has_state);
		if (!r.has_sgp30) {
			assert_int_equal(real, 0);	/* never back to warm-up */
			assert_string_equal(r.sgp30_st.state, "warming_up");
			assert_string_equal(sgp_state(s), "warmup");
			warm++;
		} else {
			assert_string_equal(r.sgp30_st.state, "ok");
			assert_false(r.sgp30.warmup);
			assert_int_equal(r.sgp30.eco2, 612);
			assert_int_equal(r.sgp30.tvoc, 87);
			assert_string_equal(sgp_state(s), "ok");
			assert_false(r.sgp30.baseline_ok);
			real++;
		}
		assert_false(r.sgp30_st.has_since || r.sgp30_st.has_error);
		assert_int_equal(r.nfaults, 0);
	}
	/* each answer is read at the next slot: the first second has none
	 * yet (warming_up), then 15 warm-up answers, then real ones */
	assert_int_equal(warm, 16);
	assert_int_equal(real, 14);
	sensors_free(s);
	fbb_free(b);
}

static json_t *
read_baseline(void)
{
	return json_load_file(basefile, 0, NULL);
}

/* Fresh start: no baseline stored before 12 h; then the chip's baseline,
 * with the serial and a timestamp, and again every hour. */
static void
test_baseline_fresh(void **state)
{
	struct fbb *b = fbb_new("{\"sgp30\": {\"baseline\": [37079, 37739]}}");
	struct sensors *s;
	struct record r;
	json_t *j;
	int64_t saved;

	(void)state;
	s = start_sgp(b, true);
	fbb_run_for(b, s, HOURS(12) - SEC(5));
	assert_int_equal(access(basefile, F_OK), -1);
	assert_int_equal(fakebus_count(b->fb, 0x58, 0x2015), 0);
	memset(&r, 0, sizeof(r));
	sensors_take(s, &r);
	assert_false(r.sgp30.baseline_ok);
	fbb_run_for(b, s, SEC(10));
	assert_int_equal(fakebus_count(b->fb, 0x58, 0x2015), 1);
	memset(&r, 0, sizeof(r));
	sensors_take(s, &r);
	assert_true(r.sgp30.baseline_ok);
	j = read_baseline();
	assert_non_null(j);
	assert_string_equal(json_string_value(json_object_get(j, "serial")), SERIAL);
	assert_int_equal(json_integer_value(json_object_get(j, "co2eq")), 37079);
	assert_int_equal(json_integer_value(json_object_get(j, "tvoc")), 37739);
	saved = json_integer_value(json_object_get(j, "saved"));
	assert_true(llabs(saved - clock_realtime_ns() / NS_PER_S) < 5);
	json_decref(j);
	fbb_run_for(b, s, HOURS(1));
	assert_int_equal(fakebus_count(b->fb, 0x58, 0x2015), 2);
	/* the 1 Hz schedule never paused for it */
	assert_int_equal(fakebus_count(b->fb, 0x58, 0x2008), 13 * 3600 + 5);
	sensors_free(s);
	fbb_free(b);
}

/* A baseline younger than 7 days for this serial is restored right after
 * iaq_init (TVOC word first) and re-saved after 1 h. */
static void
test_baseline_restore(void **state)
{
	struct fbb *b = fbb_new("{\"sgp30\": {}}");
	struct sensors *s;
	struct record r;
	uint16_t w[4];
	json_t *j;

	(void)state;
	write_baseline(SERIAL, 0x90D7, 0x936B, 6 * 86400);
	s = start_sgp(b, true);
	fbb_run_for(b, s, SEC(2));
	assert_int_equal(fakebus_count(b->fb, 0x58, 0x201E), 1);
	assert_int_equal(fakebus_last_args(b->fb, 0x58, 0x201E, w, 4), 2);
	assert_int_equal(w[0], 0x936B);
	assert_int_equal(w[1], 0x90D7);
	fbb_run_for(b, s, SEC(18));
	memset(&r, 0, sizeof(r));
	sensors_take(s, &r);
	assert_true(r.sgp30.baseline_ok);
	fbb_run_for(b, s, HOURS(1) - SEC(28));
	assert_int_equal(fakebus_count(b->fb, 0x58, 0x2015), 0);
	fbb_run_for(b, s, SEC(20));
	assert_int_equal(fakebus_count(b->fb, 0x58, 0x2015), 1);
	j = read_baseline();
	assert_non_null(j);
	/* the chip hands back what was restored, CO2eq first */
	assert_int_equal(json_integer_value(json_object_get(j, "co2eq")), 0x90D7);
	assert_int_equal(json_integer_value(json_object_get(j, "tvoc")), 0x936B);
	assert_true(llabs(json_integer_value(json_object_get(j, "saved")) -
	    clock_realtime_ns() / NS_PER_S) < 5);
	json_decref(j);
	stop_and_free(b, s);
	fbb_free(b);
}

static void
expect_not_restored(void)
{
	struct fbb *b = fbb_new("{\"sgp30\": {}}");
	struct sensors *s;
	struct record r;

	s = start_sgp(b, true);
	fbb_run_for(b, s, SEC(20));
	assert_int_equal(fakebus_count(b->fb, 0x58, 0x201E), 0);
	memset(&r, 0, sizeof(r));
	sensors_take(s, &r);
	assert_true(r.has_sgp30);
	assert_false(r.sgp30.baseline_ok);
	sensors_free(s);
	fbb_free(b);
}

static void
test_baseline_rejected(void **state)
{
	(void)state;
	write_baseline(SERIAL, 0x90D7, 0x936B, 8 * 86400);	/* too old */
	expect_not_restored();
	write_baseline("0x000001A2B3C5", 0x90D7, 0x936B, 3600);	/* other sensor */
	expect_not_restored();
	write_baseline(SERIAL, 0, 0x936B, 3600);		/* zero: never valid */
	expect_not_restored();
	write_baseline(SERIAL, 0x90D7, 0x936B, -3600);		/* from the future */
	expect_not_restored();
	assert_int_equal(fs_write_atomic(basefile, "{\"serial\":", 10, 0644), 0);
	expect_not_restored();
}

/* A chip that still has no baseline at 12 h (reads 0, 0): nothing stored. */
static void
test_baseline_zero_not_saved(void **state)
{
	struct fbb *b = fbb_new("{\"sgp30\": {\"baseline_after\": 50000}}");
	struct sensors *s;

	(void)state;
	unlink(basefile);
	s = start_sgp(b, true);
	fbb_run_for(b, s, HOURS(12) + SEC(30));
	assert_int_equal(fakebus_count(b->fb, 0x58, 0x2015), 1);
	assert_int_equal(access(basefile, F_OK), -1);
	sensors_free(s);
	fbb_free(b);
}

/* A CRC error on a measurement: no value, the fault named, re-initialised. */
static void
test_crc_failure(void **state)
{
	struct fbb *b = fbb_new("{\"sgp30\": {\"eco2\": 612, \"tvoc\": 87}}");
	struct sensors *s;
	struct record r;
	bool named = false;

	(void)state;
	s = start_sgp(b, true);
	fbb_run_for(b, s, SEC(20));
	memset(&r, 0, sizeof(r));
	sensors_take(s, &r);
	assert_int_equal(fbb_control(b, "{\"sgp30\": {\"crc\": 1}}"), 0);
	fbb_run_for(b, s, SEC(1) - 1);
	memset(&r, 0, sizeof(r));
	sensors_take(s, &r);
	assert_false(r.has_sgp30);
	for (unsigned i = 0; i < r.nfaults; i++)
		named |= strcmp(r.faults[i], "sgp30: crc error on measure_iaq") == 0;
	assert_true(named);
	assert_string_equal(sgp_state(s), "retrying");
	fbb_run_for(b, s, SEC(3));
	assert_int_equal(fakebus_count(b->fb, 0x58, 0x2003), 2);
	memset(&r, 0, sizeof(r));
	sensors_take(s, &r);
	assert_false(r.has_sgp30);	/* a new iaq_init starts a new warm-up */
	assert_string_equal(r.sgp30_st.state, "warming_up");
	sensors_free(s);
	fbb_free(b);
}

static int64_t
saved_at(void)
{
	json_t *j = read_baseline();
	int64_t t;

	if (!j)
		return -1;
	t = json_integer_value(json_object_get(j, "saved"));
	json_decref(j);
	return t;
}

/* A learned baseline (12 h) is read and saved once more at an orderly stop:
 * the chip's value of that moment, not the one of the last hourly save. */
static void
test_baseline_saved_at_stop(void **state)
{
	struct fbb *b = fbb_new("{\"sgp30\": {\"baseline\": [37079, 37739]}}");
	struct sensors *s;
	json_t *j;

	(void)state;
	unlink(basefile);
	s = start_sgp(b, true);
	fbb_run_for(b, s, HOURS(12) + SEC(100));
	assert_int_equal(fakebus_count(b->fb, 0x58, 0x2015), 1);
	/* the chip learns on: half an hour later its baseline has moved */
	assert_int_equal(fbb_control(b, "{\"sgp30\": {\"baseline\": [37100, 37800]}}"), 0);
	fbb_run_for(b, s, SEC(1800));
	sensors_stop(s, b->now);
	assert_false(sensors_stopped(s));
	fbb_run_for(b, s, SEC(1));
	assert_true(sensors_stopped(s));
	assert_int_equal(fakebus_count(b->fb, 0x58, 0x2015), 2);
	j = read_baseline();
	assert_non_null(j);
	assert_int_equal(json_integer_value(json_object_get(j, "co2eq")), 37100);
	assert_int_equal(json_integer_value(json_object_get(j, "tvoc")), 37800);
	json_decref(j);
	/* stopped: no more commands */
	fbb_run_for(b, s, SEC(10));
	assert_int_equal(fakebus_count(b->fb, 0x58, 0x2015), 2);
	sensors_free(s);
	fbb_free(b);
}

/* Never a warm-up baseline: a fresh chip (under 12 h) or a restored one in
 * its first 15 s is not saved at stop; a restored one past that is, whatever
 * command is in flight when the stop comes. */
static void
test_baseline_stop_rules(void **state)
{
	struct fbb *b = fbb_new("{\"sgp30\": {}}");
	struct sensors *s;
	int64_t old = clock_realtime_ns() / NS_PER_S - 6 * 86400;

	(void)state;
	unlink(basefile);
	s = start_sgp(b, true);
	fbb_run_for(b, s, HOURS(11));
	sensors_stop(s, b->now);
	assert_true(sensors_stopped(s));	/* nothing worth saving */
	sensors_free(s);
	assert_int_equal(access(basefile, F_OK), -1);
	fbb_free(b);

	write_baseline(SERIAL, 0x90D7, 0x936B, 6 * 86400);
	b = fbb_new("{\"sgp30\": {}}");
	s = start_sgp(b, true);
	fbb_run_for(b, s, SEC(10));
	stop_and_free(b, s);
	assert_true(llabs(saved_at() - old) < 5);	/* untouched */
	fbb_free(b);

	/* stop at every 50 ms of the second: idle, measuring, compensating */
	for (int ms = 0; ms < 1000; ms += 50) {
		write_baseline(SERIAL, 0x90D7, 0x936B, 6 * 86400);
		b = fbb_new("{\"sgp30\": {}}");
		s = start_sgp(b, true);
		fbb_run_for(b, s, SEC(20) + ms * NS_PER_MS);
		stop_and_free(b, s);
		if (llabs(saved_at() - clock_realtime_ns() / NS_PER_S) >= 5)
			fail_msg("not saved at stop %d ms into the second", ms);
		assert_int_equal(fakebus_count(b->fb, 0x58, 0x2015), 1);
		fbb_free(b);
	}
}

/* A stop that cannot read the baseline (CRC error, chip gone) keeps the
 * file as it was, and ends. */
static void
test_baseline_stop_fails(void **state)
{
	static const char *const faults[] = { "{\"sgp30\": {\"crc\": 1}}",
		"{\"sgp30\": {\"unplug\": true}}" };
	int64_t old = clock_realtime_ns() / NS_PER_S - 6 * 86400;

	(void)state;
	write_baseline(SERIAL, 0x90D7, 0x936B, 6 * 86400);
	for (size_t i = 0; i < sizeof(faults) / sizeof(faults[0]); i++) {
		struct fbb *b = fbb_new("{\"sgp30\": {}}");
		struct sensors *s = start_sgp(b, true);

		fbb_run_for(b, s, SEC(30) + 100 * NS_PER_MS);
		assert_int_equal(fbb_control(b, faults[i]), 0);
		stop_and_free(b, s);
		assert_true(llabs(saved_at() - old) < 5);
		fbb_free(b);
	}
}

static void
test_feature_set_rejected(void **state)
{
	struct fbb *b = fbb_new("{\"sgp30\": {\"feature_set\": 4130}}");	/* 0x1022: SGPC3 */
	struct sensors *s;
	struct record r;

	(void)state;
	s = start_sgp(b, true);
	fbb_run_for(b, s, SEC(5));
	memset(&r, 0, sizeof(r));
	sensors_take(s, &r);
	assert_false(r.has_sgp30);
	assert_true(r.nfaults >= 1);
	assert_non_null(strstr(r.faults[0], "sgp30: unsupported feature set 0x1022"));
	assert_int_equal(fakebus_count(b->fb, 0x58, 0x2003), 0);
	sensors_free(s);
	fbb_free(b);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_abs_humidity),
		cmocka_unit_test(test_schedule_exact),
		cmocka_unit_test(test_schedule_no_drift),
		cmocka_unit_test(test_schedule_realtime),
		cmocka_unit_test(test_warmup),
		cmocka_unit_test(test_baseline_fresh),
		cmocka_unit_test(test_baseline_restore),
		cmocka_unit_test(test_baseline_rejected),
		cmocka_unit_test(test_baseline_zero_not_saved),
		cmocka_unit_test(test_baseline_saved_at_stop),
		cmocka_unit_test(test_baseline_stop_rules),
		cmocka_unit_test(test_baseline_stop_fails),
		cmocka_unit_test(test_crc_failure),
		cmocka_unit_test(test_feature_set_rejected),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
