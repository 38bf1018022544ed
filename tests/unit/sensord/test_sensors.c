/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The chip manager against the three chip models on the fake bus, in virtual
 * time: the require rule and its message, records carrying only fresh values
 * (never repeated), cross-sensor compensation words, fault naming, back-off
 * and recovery, status states, and the --probe table.
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

#include <cmocka.h>

#include "clock.h"
#include "conf.h"
#include "chip.h"
#include "fakebus_bus.h"
#include "sensors.h"

#define SEC(x) ((int64_t)(x) * NS_PER_S)

static const char all_chips[] =
    "{\"scd4x\": {\"co2\": 812, \"t\": 22.5, \"rh\": 41.0},"
    " \"sgp30\": {\"eco2\": 450, \"tvoc\": 12},"
    " \"icp10125\": {\"p\": 100734.5, \"t\": 21.3}}";

static void
defaults(struct sensors_conf *c, int require)
{
	memset(c, 0, sizeof(*c));
	conf_defaults(scd4x_conf_keys, &c->scd4x);
	conf_defaults(sgp30_conf_keys, &c->sgp30);
	conf_defaults(icp10125_conf_keys, &c->icp10125);
	c->require = require;
	c->reads_wait = true;	/* as sensord at its default 5 s records */
}

static struct sensors *
start(struct fbb *b, const struct sensors_conf *conf)
{
	struct sensors *s = NULL;
	char err[512] = "";

	assert_int_equal(sensors_new(conf, &b->bus, NULL, b->now, &s, err, sizeof(err)), 0);
	assert_non_null(s);
	return s;
}

static const char *
chip_state(struct sensors *s, const char *name)
{
	static struct proto_status st;

	memset(&st, 0, sizeof(st));
	sensors_status(s, &st);
	for (uint32_t i = 0; i < st.nchips; i++)
		if (strcmp(st.chips[i].name, name) == 0)
			return st.chips[i].state;
	return "missing";
}

static bool
has_fault(const struct record *r, const char *text)
{
	for (unsigned i = 0; i < r->nfaults; i++)
		if (strstr(r->faults[i], text))
			return true;
	return false;
}

static void
test_defaults(void **state)
{
	struct sensors_conf c;

	(void)state;
	defaults(&c, REQUIRE_SCD4X_OR_ICP);
	assert_true(c.scd4x.enabled);
	assert_true(fabs(c.scd4x.temp_offset - 4.0) < 1e-9);
	assert_int_equal(c.scd4x.altitude, 0);
	assert_true(c.scd4x.asc);
	assert_int_equal(c.scd4x.mode, SCD4X_PERIODIC);
	assert_true(c.sgp30.enabled);
	assert_true(c.sgp30.humidity_compensation);
	assert_true(c.icp10125.enabled);
	assert_int_equal(c.icp10125.mode, ICP_N);
	assert_string_equal(sensors_require_choices[REQUIRE_SCD4X_OR_ICP],
	    "scd4x_or_icp10125");
	assert_string_equal(sensors_require_choices[REQUIRE_NONE], "none");
	assert_null(sensors_require_choices[REQUIRE_NONE + 1]);
}

static void
test_config_keys(void **state)
{
	static const struct conf_key table[] = {
		CONF_K_SUB("scd4x", struct sensors_conf, scd4x, scd4x_conf_keys, 0),
		CONF_K_SUB("sgp30", struct sensors_conf, sgp30, sgp30_conf_keys, 0),
		CONF_K_SUB("icp10125", struct sensors_conf, icp10125, icp10125_conf_keys, 0),
		CONF_K_ENUM("require", struct sensors_conf, require, sensors_require_choices,
		    REQUIRE_SCD4X_OR_ICP, 0),
		CONF_K_END
	};
	static const char good[] = "{\"scd4x\": {\"temperature_offset\": 5.4, "
	    "\"altitude\": 1950, \"asc\": false, \"mode\": \"low_power\"}, "
	    "\"sgp30\": {\"humidity_compensation\": false}, "
	    "\"icp10125\": {\"mode\": \"uln\"}, \"require\": \"all\"}";
	static const char bad[] = "{\"scd4x\": {\"altitude\": 4000}}";
	struct sensors_conf c;
	char err[256];

	(void)state;
	assert_int_equal(conf_load_string("t.json", good, strlen(good), table, &c, err,
	    sizeof(err)), 0);
	assert_true(fabs(c.scd4x.temp_offset - 5.4) < 1e-9);
	assert_int_equal(c.scd4x.altitude, 1950);
	assert_false(c.scd4x.asc);
	assert_int_equal(c.scd4x.mode, SCD4X_LOW_POWER);
	assert_false(c.sgp30.humidity_compensation);
	assert_int_equal(c.icp10125.mode, ICP_ULN);
	assert_int_equal(c.require, REQUIRE_ALL);
	assert_int_equal(conf_load_string("t.json", bad, strlen(bad), table, &c, err,
	    sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "altitude"));
}

static void
test_require_rule(void **state)
{
	struct fbb *b = fbb_new("{\"sgp30\": {}}");
	struct sensors_conf c;
	struct sensors *s = (struct sensors *)0x1;
	char err[512] = "";

	(void)state;
	defaults(&c, REQUIRE_SCD4X_OR_ICP);
	assert_int_equal(sensors_new(&c, &b->bus, NULL, b->now, &s, err, sizeof(err)),
	    -ENODEV);
	assert_ptr_equal(s, (struct sensors *)0x1);
	assert_non_null(strstr(err, "No sensors initialized. At least SCD4X or ICP10125 "
	    "must be available."));
	/* and what was probed */
	assert_non_null(strstr(err, "scd4x at 0x62"));
	assert_non_null(strstr(err, "sgp30 at 0x58 on fakebus: answered"));
	assert_non_null(strstr(err, "icp10125 at 0x63 on fakebus: no answer (nack)"));

	/* each attempt leaves the chips busy for a command's execution time */
	b->now += SEC(1);
	defaults(&c, REQUIRE_ANY);
	s = start(b, &c);
	sensors_free(s);
	b->now += SEC(1);

	defaults(&c, REQUIRE_ALL);
	assert_int_equal(sensors_new(&c, &b->bus, NULL, b->now, &s, err, sizeof(err)),
	    -ENODEV);
	/* disabled chips do not count */
	c.scd4x.enabled = false;
	c.icp10125.enabled = false;
	b->now += SEC(1);
	s = start(b, &c);
	assert_string_equal(chip_state(s, "scd4x"), "disabled");
	sensors_free(s);
	fbb_free(b);

	b = fbb_new("{}");
	defaults(&c, REQUIRE_ANY);
	assert_int_equal(sensors_new(&c, &b->bus, NULL, b->now, &s, err, sizeof(err)),
	    -ENODEV);
	defaults(&c, REQUIRE_NONE);
	s = start(b, &c);
	assert_string_equal(chip_state(s, "icp10125"), "absent");
	sensors_free(s);
	fbb_free(b);

	b = fbb_new("{\"icp10125\": {}}");
	defaults(&c, REQUIRE_SCD4X_OR_ICP);
	s = start(b, &c);
	sensors_free(s);
	fbb_free(b);
}

/* Values match the scenario to the chips' resolution; a take without new
 * measurements has no chip blocks at all. */
static void
test_records_fresh_only(void **state)
{
	struct fbb *b = fbb_new(all_chips);
	struct sensors_conf c;
	struct sensors *s;
	struct record r;

	(void)state;
	defaults(&c, REQUIRE_SCD4X_OR_ICP);
	s = start(b, &c);
	fbb_run_for(b, s, SEC(20));
	memset(&r, 0, sizeof(r));
	sensors_take(s, &r);
	assert_true(r.has_scd4x);
	assert_int_equal(r.scd4x.co2, 812);
	assert_true(fabs(r.scd4x.t - 22.5) < 0.01);
	assert_true(fabs(r.scd4x.rh - 41.0) < 0.01);
	assert_true(r.has_sgp30);
	assert_false(r.sgp30.warmup);		/* the last one, 19 s after init */
	assert_int_equal(r.sgp30.eco2, 450);
	assert_int_equal(r.sgp30.tvoc, 12);
	assert_false(r.sgp30.baseline_ok);
	assert_true(r.has_icp10125);
	assert_true(fabs(r.icp10125.p - 100734.5) < 0.5);
	assert_true(fabs(r.icp10125.t - 21.3) < 0.01);
	assert_int_equal(r.nfaults, 0);
	assert_true(r.scd4x.t_meas > 0);
	assert_string_equal(chip_state(s, "scd4x"), "ok");
	assert_string_equal(chip_state(s, "sgp30"), "ok");
	assert_string_equal(chip_state(s, "icp10125"), "ok");

	/* nothing measured since: no blocks, no repeats */
	memset(&r, 0, sizeof(r));
	sensors_take(s, &r);
	assert_false(r.has_scd4x);
	assert_false(r.has_sgp30);
	assert_false(r.has_icp10125);

	/* 1 s later the 1 Hz chips have a fresh value, the 5 s SCD4x not yet */
	fbb_run_for(b, s, SEC(1));
	memset(&r, 0, sizeof(r));
	sensors_take(s, &r);
	assert_true(r.has_sgp30);
	assert_true(r.has_icp10125);
	sensors_free(s);
	fbb_free(b);
}

/* Wake-ups (sensors_run calls at sensors_next_deadline) in span. */
static unsigned
wakeups(struct fbb *b, struct sensors *s, int64_t span)
{
	int64_t until = b->now + span;
	unsigned n = 0;

	for (;;) {
		int64_t d = sensors_next_deadline(s);

		if (d > until) {
			b->now = until;
			return n;
		}
		if (d > b->now)
			b->now = d;
		sensors_run(s, b->now);
		n++;
	}
}

/* A minute of steady state with all three chips at their defaults (past
 * start-up and the SGP30's warm-up), reads_wait as given: the wake-ups in
 * it and the samples each chip gave the 60 records taken a second apart. */
struct minute {
	unsigned wakeups, sgp, icp, scd;
};

static struct minute
steady_minute(bool reads_wait)
{
	struct fbb *b = fbb_new(all_chips);
	struct sensors_conf c;
	struct sensors *s;
	struct record r;
	struct minute m = { 0 };

	defaults(&c, REQUIRE_ALL);
	c.reads_wait = reads_wait;
	s = start(b, &c);
	fbb_run_for(b, s, SEC(30));
	sensors_take(s, &r);
	for (int i = 0; i < 60; i++) {
		m.wakeups += wakeups(b, s, SEC(1));
		memset(&r, 0, sizeof(r));
		sensors_take(s, &r);
		m.sgp += r.has_sgp30;
		m.icp += r.has_icp10125;
		m.scd += r.has_scd4x;
	}
	print_message("%u wake-ups in 60 s; samples: sgp30 %u, icp10125 %u, scd4x %u\n",
	    m.wakeups, m.sgp, m.icp, m.scd);
	sensors_free(s);
	fbb_free(b);
	return m;
}

/* The chips share one tick: with all three at their defaults, a minute of
 * steady state takes one wake-up a second (each 1 Hz command's answer is
 * read on the next tick, just before the next command; the SCD4x's
 * data-ready answer and its sample too) and one more after each SCD4x
 * sample, every 5 s (the SGP30's humidity update, which measure_iaq must
 * wait 10 ms for): 72. Not two a second and more (130 before), not one per
 * chip and step (4.5 a second before that); and every chip still measures
 * at its rate: 60 SGP30 and ICP-10125 samples, 12 SCD4x. */
static void
test_shared_tick(void **state)
{
	struct minute m = steady_minute(true);

	(void)state;
	assert_true(m.wakeups <= 78);
	assert_true(m.sgp >= 59 && m.icp >= 59);
	assert_true(m.scd >= 11 && m.scd <= 13);
}

/* For records under 2 s apart sensord reads each answer when it is ready
 * (sensors_conf.reads_wait false), not on the next tick: one wake-up for
 * the 1 Hz commands and one a few ms later for their answers, about two a
 * second, and every chip still measures at its rate. */
static void
test_reads_at_once(void **state)
{
	struct minute m = steady_minute(false);

	(void)state;
	assert_true(m.wakeups >= 100);	/* 108; 72 with reads_wait */
	assert_true(m.sgp >= 59 && m.icp >= 59);
}

/* While the other two chips retry (a CRC burst on the SCD4x, a NACK burst
 * on the SGP30, as in chip-faults.sh), the ICP-10125 keeps its own 1 s grid:
 * their restart attempts come at odd times and must not pull its reads
 * early or late, or a 1 s record now and then gets two of them and the
 * next none. Records taken a second apart at several phases of the grid:
 * every one has a pressure. And once the SGP30 is re-initialised, its
 * measure_iaq commands (the shared tick) come in the phase they had before,
 * so records placed between two ticks stay there. */
static void
test_retries_leave_grid(void **state)
{
	(void)state;
	for (int phase = 1; phase < 10; phase += 2) {
		struct fbb *b = fbb_new(all_chips);
		struct sensors_conf c;
		struct sensors *s;
		struct record r;
		unsigned icp = 0;
		int64_t tick;

		defaults(&c, REQUIRE_SCD4X_OR_ICP);
		c.reads_wait = false;	/* as sensord at 1 s records */
		s = start(b, &c);
		fbb_log(b, 0x58, 0x2008);
		fbb_run_for(b, s, SEC(20) + phase * NS_PER_S / 10);
		assert_true(b->nlog > 10);
		tick = b->log[b->nlog - 1] % NS_PER_S;
		sensors_take(s, &r);
		assert_int_equal(fbb_control(b,
		    "{\"scd4x\": {\"crc\": 3}, \"sgp30\": {\"nack\": 4}}"), 0);
		fbb_log(b, 0x58, 0x2008);
		for (int i = 0; i < 30; i++) {
			fbb_run_for(b, s, SEC(1));
			memset(&r, 0, sizeof(r));
			sensors_take(s, &r);
			icp += r.has_icp10125;
			if (i == 0)	/* both bursts did hit */
				assert_true(has_fault(&r, "sgp30: ") && has_fault(&r, "scd4x: "));
			if (!r.has_icp10125)
				print_message("phase 0.%d s, record %d: no pressure\n", phase, i);
		}
		assert_int_equal(icp, 30);
		/* re-initialised after the fourth NACK, at +15 s: 10 s of the new
		 * grid, whose wake-ups come in the old phase (up to the 20 ms in
		 * which deadlines are served together) */
		assert_true(b->nlog >= 10);
		for (size_t i = b->nlog - 10; i < b->nlog; i++)
			assert_true(llabs(b->log[i] % NS_PER_S - tick) <= 20 * NS_PER_MS);
		sensors_free(s);
		fbb_free(b);
	}
}

/* ICP pressure → SCD4x (≥ 1 hPa change, ≤ once a minute); SCD4x T/RH →
 * SGP30 absolute humidity on every new sample. */
static void
test_compensation(void **state)
{
	struct fbb *b = fbb_new(all_chips);
	struct sensors_conf c;
	struct sensors *s;
	struct record r;
	uint16_t w[4];
	uint64_t n;

	(void)state;
	defaults(&c, REQUIRE_SCD4X_OR_ICP);
	s = start(b, &c);
	fbb_run_for(b, s, SEC(12));
	assert_int_equal(fakebus_count(b->fb, 0x62, 0xE000), 1);
	assert_int_equal(fakebus_last_args(b->fb, 0x62, 0xE000, w, 4), 1);
	assert_int_equal(w[0], 1007);		/* 100 734.5 Pa */

	memset(&r, 0, sizeof(r));
	sensors_take(s, &r);
	assert_true(r.has_scd4x);
	assert_int_equal(fakebus_last_args(b->fb, 0x58, 0x2061, w, 4), 1);
	assert_int_equal(w[0], sgp30_ah_word(sgp30_abs_humidity(r.scd4x.t, r.scd4x.rh)));
	n = fakebus_count(b->fb, 0x58, 0x2061);
	assert_true(n >= 1);

	/* a 0.6 hPa change is not worth a write */
	assert_int_equal(fbb_control(b, "{\"icp10125\": {\"p\": 100794.5}}"), 0);
	fbb_run_for(b, s, SEC(120));
	assert_int_equal(fakebus_count(b->fb, 0x62, 0xE000), 1);
	/* SCD4x samples every 5 s; the SGP30 got one AH write per sample */
	assert_true(fakebus_count(b->fb, 0x58, 0x2061) >= n + 22);
	assert_true(fakebus_count(b->fb, 0x58, 0x2061) <= n + 25);

	/* 3 hPa: written within a second, then not again within the minute */
	assert_int_equal(fbb_control(b, "{\"icp10125\": {\"p\": 101034.5}}"), 0);
	fbb_run_for(b, s, SEC(6));
	assert_int_equal(fakebus_count(b->fb, 0x62, 0xE000), 2);
	fakebus_last_args(b->fb, 0x62, 0xE000, w, 4);
	assert_int_equal(w[0], 1010);
	assert_int_equal(fbb_control(b, "{\"icp10125\": {\"p\": 101534.5}}"), 0);
	fbb_run_for(b, s, SEC(30));
	assert_int_equal(fakebus_count(b->fb, 0x62, 0xE000), 2);
	fbb_run_for(b, s, SEC(35));
	assert_int_equal(fakebus_count(b->fb, 0x62, 0xE000), 3);
	fakebus_last_args(b->fb, 0x62, 0xE000, w, 4);
	assert_int_equal(w[0], 1015);
	sensors_free(s);
	fbb_free(b);
}

/* An SCD4x reading 0 ppm (VDDH unpowered) still measures T and RH: the
 * record keeps them, and the SGP30 is compensated with them. */
static void
test_co2_zero_keeps_th(void **state)
{
	struct fbb *b = fbb_new("{\"scd4x\": {\"raw\": [0, 26214, 32768]},"
	    " \"sgp30\": {}, \"icp10125\": {}}");
	struct sensors_conf c;
	struct sensors *s;
	struct record r;
	uint16_t w[4];

	(void)state;
	defaults(&c, REQUIRE_SCD4X_OR_ICP);
	s = start(b, &c);
	fbb_run_for(b, s, SEC(12));
	memset(&r, 0, sizeof(r));
	sensors_take(s, &r);
	assert_true(r.has_scd4x);
	assert_false(r.scd4x.has_co2);
	assert_true(r.scd4x.has_co2_error);
	assert_true(fabs(r.scd4x.t - 25.0) < 0.01 && fabs(r.scd4x.rh - 50.0) < 0.01);
	assert_true(has_fault(&r, "scd4x: invalid co2 (0 ppm)"));
	assert_true(fakebus_count(b->fb, 0x58, 0x2061) >= 1);
	assert_int_equal(fakebus_last_args(b->fb, 0x58, 0x2061, w, 4), 1);
	assert_int_equal(w[0], sgp30_ah_word(sgp30_abs_humidity(r.scd4x.t, r.scd4x.rh)));
	sensors_free(s);
	fbb_free(b);
}

/* Every record says each chip's state; a chip being retried is named in
 * the faults of every record until it is back, not only when a retry fails
 * (a 32 s unplug at records every 2 s). */
static void
test_states_and_waiting_faults(void **state)
{
	struct fbb *b = fbb_new(all_chips);
	struct sensors_conf c;
	struct sensors *s;
	struct record r;
	int retrying = 0, named = 0, waiting = 0;
	int64_t since = 0;

	(void)state;
	defaults(&c, REQUIRE_SCD4X_OR_ICP);
	c.sgp30.enabled = false;
	s = start(b, &c);
	memset(&r, 0, sizeof(r));
	sensors_take(s, &r);
	assert_string_equal(r.scd4x_st.state, "no_new_sample");
	assert_string_equal(r.sgp30_st.state, "disabled");
	assert_false(r.has_scd4x || r.has_sgp30);
	fbb_run_for(b, s, SEC(20));
	memset(&r, 0, sizeof(r));
	sensors_take(s, &r);
	assert_string_equal(r.icp10125_st.state, "ok");
	assert_false(r.icp10125_st.has_since || r.icp10125_st.has_error);
	assert_int_equal(fbb_control(b, "{\"icp10125\": {\"unplug\": true}}"), 0);
	for (int i = 0; i < 16; i++) {
		fbb_run_for(b, s, SEC(2));
		memset(&r, 0, sizeof(r));
		sensors_take(s, &r);
		assert_false(r.has_icp10125);
		assert_string_equal(r.icp10125_st.state, "retrying");
		assert_true(r.icp10125_st.has_since && r.icp10125_st.has_error);
		assert_true(since == 0 || r.icp10125_st.since == since);	/* the first */
		since = r.icp10125_st.since;
		retrying++;
		named += has_fault(&r, "icp10125: ");
		waiting += has_fault(&r, "icp10125: retrying for ");
	}
	assert_int_equal(named, retrying);
	/* retries at +1, +3, +7, +15, +31 s: the other records are waits */
	assert_true(waiting >= 16 - 5);
	assert_non_null(strstr(r.icp10125_st.error, "nack"));
	assert_int_equal(fbb_control(b, "{\"icp10125\": {\"unplug\": false}}"), 0);
	fbb_run_for(b, s, SEC(40));
	memset(&r, 0, sizeof(r));
	sensors_take(s, &r);
	assert_string_equal(r.icp10125_st.state, "ok");
	assert_true(r.has_icp10125);
	assert_false(r.icp10125_st.has_since || r.icp10125_st.has_error);
	sensors_free(s);
	fbb_free(b);
}

static void
test_humidity_compensation_off(void **state)
{
	struct fbb *b = fbb_new(all_chips);
	struct sensors_conf c;
	struct sensors *s;

	(void)state;
	defaults(&c, REQUIRE_SCD4X_OR_ICP);
	c.sgp30.humidity_compensation = false;
	s = start(b, &c);
	fbb_run_for(b, s, SEC(30));
	assert_true(fakebus_count(b->fb, 0x62, 0xEC05) >= 4);
	assert_int_equal(fakebus_count(b->fb, 0x58, 0x2061), 0);
	sensors_free(s);
	fbb_free(b);
}

/* A CRC burst on one chip: its value is discarded and named, the others go on. */
static void
test_crc_fault_isolated(void **state)
{
	struct fbb *b = fbb_new(all_chips);
	struct sensors_conf c;
	struct sensors *s;
	struct record r;
	struct proto_status st;

	(void)state;
	defaults(&c, REQUIRE_SCD4X_OR_ICP);
	s = start(b, &c);
	fbb_run_for(b, s, SEC(18));	/* past the SGP30's warm-up */
	memset(&r, 0, sizeof(r));
	sensors_take(s, &r);
	assert_int_equal(fbb_control(b, "{\"icp10125\": {\"crc\": 1}}"), 0);
	fbb_run_for(b, s, SEC(1));
	memset(&r, 0, sizeof(r));
	sensors_take(s, &r);
	assert_false(r.has_icp10125);
	assert_true(r.has_sgp30);
	assert_true(has_fault(&r, "icp10125: crc error on measure"));
	assert_string_equal(chip_state(s, "icp10125"), "retrying");
	fbb_run_for(b, s, SEC(3));
	memset(&r, 0, sizeof(r));
	sensors_take(s, &r);
	assert_true(r.has_icp10125);
	assert_true(fabs(r.icp10125.p - 100734.5) < 0.5);
	assert_int_equal(r.nfaults, 0);
	memset(&st, 0, sizeof(st));
	sensors_status(s, &st);
	assert_int_equal(st.nchips, 3);
	assert_string_equal(st.chips[2].name, "icp10125");
	assert_string_equal(st.chips[2].state, "ok");
	assert_int_equal(st.chips[2].faults, 1);
	assert_true(st.chips[2].measurements >= 10);
	assert_true(st.chips[2].last_ok > 0);
	sensors_free(s);
	fbb_free(b);
}

/* Unplugged: retried with back-off 1, 2, 4 … 60 s; the others keep their
 * cadence; replugged: back within one back-off step. */
static void
test_unplug_replug(void **state)
{
	struct fbb *b = fbb_new(all_chips);
	struct sensors_conf c;
	struct sensors *s;
	struct record r;
	uint64_t stops, sgp;

	(void)state;
	defaults(&c, REQUIRE_SCD4X_OR_ICP);
	s = start(b, &c);
	fbb_run_for(b, s, SEC(10));
	memset(&r, 0, sizeof(r));
	sensors_take(s, &r);
	assert_int_equal(fbb_control(b, "{\"scd4x\": {\"unplug\": true}}"), 0);
	stops = fakebus_count(b->fb, 0x62, 0x3F86);
	sgp = fakebus_count(b->fb, 0x58, 0x2008);
	fbb_run_for(b, s, SEC(200));
	assert_string_equal(chip_state(s, "scd4x"), "retrying");
	memset(&r, 0, sizeof(r));
	sensors_take(s, &r);
	assert_false(r.has_scd4x);
	assert_true(r.has_sgp30);
	assert_true(has_fault(&r, "scd4x: "));
	/* NACKed attempts are not counted by the model, so count faults:
	 * one failure, then retries at +1, +3, +7, +15, +31, +63, +123, +183 s */
	assert_true(r.nfaults >= 7 && r.nfaults <= RECORD_MAX_FAULTS);
	assert_int_equal(fakebus_count(b->fb, 0x62, 0x3F86), stops);
	assert_int_equal(fakebus_count(b->fb, 0x58, 0x2008) - sgp, 200);

	assert_int_equal(fbb_control(b, "{\"scd4x\": {\"unplug\": false}}"), 0);
	fbb_run_for(b, s, SEC(60 + 7));
	memset(&r, 0, sizeof(r));
	sensors_take(s, &r);
	assert_true(r.has_scd4x);
	assert_int_equal(r.scd4x.co2, 812);
	assert_string_equal(chip_state(s, "scd4x"), "ok");
	sensors_free(s);
	fbb_free(b);
}

/* A chip absent at start is looked for quietly and picked up later. */
static void
test_absent_then_present(void **state)
{
	struct fbb *b = fbb_new("{\"icp10125\": {}, \"scd4x\": {\"present\": false}}");
	struct sensors_conf c;
	struct sensors *s;
	struct record r;

	(void)state;
	defaults(&c, REQUIRE_SCD4X_OR_ICP);
	c.sgp30.enabled = false;
	s = start(b, &c);
	assert_string_equal(chip_state(s, "scd4x"), "absent");
	assert_string_equal(chip_state(s, "sgp30"), "disabled");
	fbb_run_for(b, s, SEC(30));
	memset(&r, 0, sizeof(r));
	sensors_take(s, &r);
	assert_int_equal(r.nfaults, 0);		/* never seen: not a fault */
	assert_true(r.has_icp10125);
	assert_int_equal(fbb_control(b, "{\"scd4x\": {\"present\": true}}"), 0);
	fbb_run_for(b, s, SEC(70));
	memset(&r, 0, sizeof(r));
	sensors_take(s, &r);
	assert_true(r.has_scd4x);
	assert_string_equal(chip_state(s, "scd4x"), "ok");
	sensors_free(s);
	fbb_free(b);
}

/* Stopping the manager switches the SCD4x's periodic measurement off. */
static void
test_free_stops(void **state)
{
	struct fbb *b = fbb_new(all_chips);
	struct sensors_conf c;
	struct sensors *s;
	uint64_t n;

	(void)state;
	defaults(&c, REQUIRE_SCD4X_OR_ICP);
	s = start(b, &c);
	fbb_run_for(b, s, SEC(7));
	n = fakebus_count(b->fb, 0x62, 0x3F86);
	sensors_free(s);
	assert_int_equal(fakebus_count(b->fb, 0x62, 0x3F86), n + 1);
	fbb_free(b);
}

static int
capture_probe(const struct sensors_conf *c, struct fbb *b, char *out, size_t len)
{
	char path[] = "/tmp/test_sensors.XXXXXX";
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

/* --probe on the real clock (its waits are real sleeps): the SGP30 and the
 * ICP-10125 pass; the SCD4x is skipped here (its self-test takes 10 s). */
static void
test_probe(void **state)
{
	struct fbb *b = fbb_new_realtime("{\"sgp30\": {\"serial\": \"0x0000018F3A2B\"},"
	    " \"icp10125\": {\"p\": 100000, \"t\": 20}}");
	struct sensors_conf c;
	char out[2048];

	(void)state;
	defaults(&c, REQUIRE_SCD4X_OR_ICP);
	c.scd4x.enabled = false;
	assert_int_equal(capture_probe(&c, b, out, sizeof(out)), 0);
	assert_non_null(strstr(out, "scd4x     0x62  SKIP"));
	assert_non_null(strstr(out, "sgp30     0x58  PASS"));
	assert_non_null(strstr(out, "serial 0x0000018F3A2B"));
	assert_non_null(strstr(out, "self-test ok"));
	assert_non_null(strstr(out, "icp10125  0x63  PASS     id 0x0148, OTP read OK"));
	assert_non_null(strstr(out, "OTP read OK"));
	assert_non_null(strstr(out, "100000.0"));
	fbb_free(b);

	b = fbb_new_realtime("{\"icp10125\": {\"p\": 100000, \"t\": 20}}");
	defaults(&c, REQUIRE_SCD4X_OR_ICP);
	assert_int_not_equal(capture_probe(&c, b, out, sizeof(out)), 0);
	assert_non_null(strstr(out, "scd4x     0x62  FAIL     no answer (nack)"));
	assert_non_null(strstr(out, "sgp30     0x58  FAIL     no answer (nack)"));
	assert_non_null(strstr(out, "icp10125  0x63  PASS     id 0x0148, OTP read OK"));
	fbb_free(b);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_config_keys),
		cmocka_unit_test(test_require_rule),
		cmocka_unit_test(test_records_fresh_only),
		cmocka_unit_test(test_shared_tick),
		cmocka_unit_test(test_reads_at_once),
		cmocka_unit_test(test_retries_leave_grid),
		cmocka_unit_test(test_compensation),
		cmocka_unit_test(test_humidity_compensation_off),
		cmocka_unit_test(test_co2_zero_keeps_th),
		cmocka_unit_test(test_states_and_waiting_faults),
		cmocka_unit_test(test_crc_fault_isolated),
		cmocka_unit_test(test_unplug_replug),
		cmocka_unit_test(test_absent_then_present),
		cmocka_unit_test(test_free_stops),
		cmocka_unit_test(test_probe),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
