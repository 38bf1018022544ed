/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The record's rule for missing data, as a property of the chip manager over
 * every fault the chip models can produce, in virtual time: on every record,
 *
 *   - each chip has a state (ok, warming_up, no_new_sample, retrying,
 *     absent, disabled); its block is there exactly when the state is ok;
 *   - "since" and "error" are there exactly when the state is retrying, and
 *     a retrying chip is named in the record's faults, every record;
 *   - a value is null only with a reason (its chip's state, or its own
 *     reason field, e.g. scd4x.co2_error), and a reason never stands beside
 *     a value;
 *   - every value is the scenario's: none comes from a response whose CRC
 *     failed ("flip" garbles the data the CRC protects).
 *
 * Each scenario prints its counts.
 */
#include <errno.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "clock.h"
#include "conf.h"
#include "chip.h"
#include "fakebus_bus.h"
#include "record.h"
#include "sensors.h"

#define SEC(x) ((int64_t)(x) * NS_PER_S)
#define MAX_STEPS 8
#define NSTATES 6

static const char all_chips[] =
    "{\"scd4x\": {\"co2\": 812, \"t\": 22.5, \"rh\": 41.0},"
    " \"sgp30\": {\"eco2\": 450, \"tvoc\": 12},"
    " \"icp10125\": {\"p\": 100734.5, \"t\": 21.3}}";

/* raw words of 0 ppm, 25 °C, 50 %RH */
static const char co2_zero[] =
    "{\"scd4x\": {\"raw\": [0, 26214, 32768]},"
    " \"sgp30\": {\"eco2\": 450, \"tvoc\": 12},"
    " \"icp10125\": {\"p\": 100734.5, \"t\": 21.3}}";

struct step {
	int at;			/* s since start */
	const char *control;
};

struct scenario {
	const char *name;
	const char *chips;	/* fakebus scenario */
	struct step steps[MAX_STEPS];
	int seconds;
	int interval_ms;	/* 0: 2000 */
	bool scd4x_off;		/* disabled in the configuration */
	bool co2_zero;		/* the SCD4x reads 0 ppm, 25 °C, 50 %RH */
	const char *must_see;	/* "chip:state chip:state ..." */
};

static const struct scenario scenarios[] = {
	{ "steady", all_chips, { { 0 } }, 60, 0, false, false,
	  "scd4x:ok scd4x:no_new_sample sgp30:warming_up sgp30:ok icp10125:ok" },
	{ "nack-bursts", all_chips, {
		{ 20, "{\"icp10125\": {\"nack\": 3}}" },
		{ 40, "{\"sgp30\": {\"nack\": 3}}" },
		{ 60, "{\"scd4x\": {\"nack\": 3}}" } }, 120, 0, false, false,
	  "scd4x:retrying sgp30:retrying icp10125:retrying icp10125:ok scd4x:ok" },
	{ "crc-bursts", all_chips, {
		{ 20, "{\"icp10125\": {\"crc\": 2}}" },
		{ 40, "{\"sgp30\": {\"crc\": 2}}" },
		{ 60, "{\"scd4x\": {\"crc\": 2}}" } }, 120, 0, false, false,
	  "scd4x:retrying sgp30:retrying icp10125:retrying icp10125:ok scd4x:ok" },
	{ "flip-bursts", all_chips, {
		{ 20, "{\"icp10125\": {\"flip\": 3}}" },
		{ 40, "{\"sgp30\": {\"flip\": 3}}" },
		{ 60, "{\"scd4x\": {\"flip\": 3}}" } }, 120, 0, false, false,
	  "scd4x:retrying sgp30:retrying icp10125:retrying" },
	{ "busy", all_chips, {
		{ 20, "{\"scd4x\": {\"busy\": true}}" },
		{ 45, "{\"scd4x\": {\"busy\": false}, \"sgp30\": {\"busy\": true}}" },
		{ 55, "{\"sgp30\": {\"busy\": false}, \"icp10125\": {\"busy\": true}}" },
		{ 63, "{\"icp10125\": {\"busy\": false}}" } }, 150, 0, false, false,
	  "scd4x:retrying sgp30:retrying icp10125:retrying scd4x:ok" },
	{ "eio-etimedout", all_chips, {
		{ 20, "{\"icp10125\": {\"eio\": 2}}" },
		{ 30, "{\"sgp30\": {\"etimedout\": 2}}" },
		{ 40, "{\"scd4x\": {\"eio\": 1}}" } }, 100, 0, false, false,
	  "scd4x:retrying sgp30:retrying icp10125:retrying" },
	{ "stuck-data-ready", all_chips, {
		{ 20, "{\"scd4x\": {\"stuck_data\": true}}" },
		{ 60, "{\"scd4x\": {\"stuck_data\": false}}" } }, 150, 0, false, false,
	  "scd4x:retrying scd4x:ok" },
	{ "unplug-32s", all_chips, {
		{ 20, "{\"icp10125\": {\"unplug\": true}}" },
		{ 52, "{\"icp10125\": {\"unplug\": false}}" } }, 150, 0, false, false,
	  "icp10125:retrying icp10125:ok" },
	{ "unplug-each", all_chips, {
		{ 20, "{\"scd4x\": {\"unplug\": true}}" },
		{ 30, "{\"scd4x\": {\"unplug\": false}, \"sgp30\": {\"unplug\": true}}" },
		{ 40, "{\"sgp30\": {\"unplug\": false}}" } }, 150, 0, false, false,
	  "scd4x:retrying sgp30:retrying scd4x:ok sgp30:warming_up sgp30:ok" },
	{ "power-cycle", all_chips, {
		{ 20, "{\"scd4x\": {\"power_cycle\": true}}" },
		{ 40, "{\"icp10125\": {\"power_cycle\": true}}" } }, 150, 0, false, false,
	  "scd4x:retrying scd4x:ok icp10125:ok" },
	{ "absent-at-start", "{\"scd4x\": {\"co2\": 812, \"t\": 22.5, \"rh\": 41.0},"
	  " \"sgp30\": {\"eco2\": 450, \"tvoc\": 12}, \"icp10125\": {\"present\": false,"
	  " \"p\": 100734.5, \"t\": 21.3}}", {
		{ 30, "{\"icp10125\": {\"present\": true}}" } }, 150, 0, false, false,
	  "icp10125:absent icp10125:ok" },
	{ "disabled", all_chips, { { 0 } }, 40, 0, true, false,
	  "scd4x:disabled sgp30:ok icp10125:ok" },
	{ "co2-zero", co2_zero, { { 0 } }, 60, 0, false, true, "scd4x:ok" },
	{ "left-measuring", "{\"scd4x\": {\"mode\": \"periodic\", \"co2\": 812, \"t\": 22.5,"
	  " \"rh\": 41.0}, \"sgp30\": {\"eco2\": 450, \"tvoc\": 12},"
	  " \"icp10125\": {\"p\": 100734.5, \"t\": 21.3}}", { { 0 } }, 60, 0, false, false,
	  "scd4x:ok" },
	{ "enxio-nacks", "{\"nack_errno\": \"ENXIO\", \"scd4x\": {\"co2\": 812, \"t\": 22.5,"
	  " \"rh\": 41.0}, \"sgp30\": {\"eco2\": 450, \"tvoc\": 12},"
	  " \"icp10125\": {\"p\": 100734.5, \"t\": 21.3}}", {
		{ 20, "{\"icp10125\": {\"nack\": 2}, \"sgp30\": {\"nack\": 2}}" } }, 80, 500,
	  false, false, "sgp30:no_new_sample icp10125:retrying icp10125:ok" },
	{ "slow-records", all_chips, {
		{ 25, "{\"icp10125\": {\"unplug\": true}}" },
		{ 95, "{\"icp10125\": {\"unplug\": false}}" } }, 300, 7000, false, false,
	  "icp10125:retrying icp10125:ok scd4x:ok" },
};

struct counts {
	uint64_t records, values, nulls, faults;
	uint64_t seen[3][NSTATES];
};

static const char *const state_names[NSTATES] = { "ok", "warming_up", "no_new_sample",
	"retrying", "absent", "disabled" };
static const char *const chip_names[3] = { "scd4x", "sgp30", "icp10125" };

static int
state_index(const char *s)
{
	for (int i = 0; i < NSTATES; i++)
		if (strcmp(s, state_names[i]) == 0)
			return i;
	return -1;
}

/* What the scenario's chips give for a value (path "block.key"), and how
 * close a reading must be: the chips' resolution. */
static void
expected(const struct scenario *sc, const char *path, double *ret_v, double *ret_tol)
{
	static const struct { const char *path; double v, tol; } tab[] = {
		{ "scd4x.co2", 812, 0 }, { "scd4x.t", 22.5, 0.01 }, { "scd4x.rh", 41.0, 0.01 },
		{ "sgp30.eco2", 450, 0 }, { "sgp30.tvoc", 12, 0 },
		{ "icp10125.p", 100734.5, 0.5 }, { "icp10125.t", 21.3, 0.01 },
	};

	*ret_tol = -1;		/* not a measured value: not compared */
	if (sc->co2_zero && strcmp(path, "scd4x.t") == 0) {
		*ret_v = 25.0;
		*ret_tol = 0.01;
		return;
	}
	if (sc->co2_zero && strcmp(path, "scd4x.rh") == 0) {
		*ret_v = 50.0;
		*ret_tol = 0.01;
		return;
	}
	for (size_t i = 0; i < sizeof(tab) / sizeof(tab[0]); i++)
		if (strcmp(tab[i].path, path) == 0) {
			*ret_v = tab[i].v;
			*ret_tol = tab[i].tol;
		}
}

static double
number(const struct record *r, const struct record_field *f)
{
	const void *v = record_value(r, f);

	switch (f->type) {
	case RECORD_U32: return *(const uint32_t *)v;
	case RECORD_U64: return (double)*(const uint64_t *)v;
	case RECORD_I64: return (double)*(const int64_t *)v;
	case RECORD_F64: return *(const double *)v;
	default: return NAN;
	}
}

static bool
named_in_faults(const struct record *r, const char *chip)
{
	size_t n = strlen(chip);

	for (unsigned i = 0; i < r->nfaults; i++)
		if (strncmp(r->faults[i], chip, n) == 0 && r->faults[i][n] == ':')
			return true;
	return false;
}

/* One chip's part of one record, walked through the field table. */
static void
check_chip(const struct scenario *sc, const struct record *r, int chip, struct counts *k,
    int64_t unix_now)
{
	const struct record_field *blk, *fs, *fsince, *ferr, *nb;
	char path[64];
	const char *state;
	bool ok;
	int si;

	snprintf(path, sizeof(path), "%s_state", chip_names[chip]);
	fs = record_find(path, &nb);
	snprintf(path, sizeof(path), "%s_since", chip_names[chip]);
	fsince = record_find(path, &nb);
	snprintf(path, sizeof(path), "%s_error", chip_names[chip]);
	ferr = record_find(path, &nb);
	blk = record_find(chip_names[chip], &nb);
	assert_true(fs && fsince && ferr && blk);
	if (!record_present(r, NULL, fs))
		fail_msg("%s: record without %s_state", sc->name, chip_names[chip]);
	state = record_value(r, fs);
	si = state_index(state);
	if (si < 0)
		fail_msg("%s: %s_state \"%s\" is not a state", sc->name, chip_names[chip], state);
	k->seen[chip][si]++;
	ok = si == 0;
	/* the block is there exactly when the state is ok */
	if (record_present(r, NULL, blk) != ok)
		fail_msg("%s: %s is %s with%s a block", sc->name, chip_names[chip], state,
		    ok ? "out" : "");
	/* since and error exactly when retrying, and then a fault line */
	if (record_present(r, NULL, fsince) != (si == 3) ||
	    record_present(r, NULL, ferr) != (si == 3))
		fail_msg("%s: %s is %s: since/error present %d/%d", sc->name, chip_names[chip],
		    state, record_present(r, NULL, fsince), record_present(r, NULL, ferr));
	if (si == 3) {
		int64_t since = *(const int64_t *)record_value(r, fsince);

		assert_true(since > 0 && since <= unix_now);
		assert_true(*(const char *)record_value(r, ferr) != '\0');
		if (!named_in_faults(r, chip_names[chip]))
			fail_msg("%s: %s retrying, no fault line on the record", sc->name,
			    chip_names[chip]);
	}
	if (strcmp(chip_names[chip], "scd4x") == 0 && sc->scd4x_off && si != 5)
		fail_msg("%s: disabled scd4x is %s", sc->name, state);
	for (size_t i = 0; i < blk->nfields; i++) {
		const struct record_field *f = &blk->fields[i], *why = NULL;
		bool present = record_present(r, blk, f), has_reason;
		double want = 0, tol;

		if (f->why) {
			snprintf(path, sizeof(path), "%s.%s", blk->key, f->why);
			why = record_find(path, &nb);
			assert_non_null(why);
		}
		snprintf(path, sizeof(path), "%s.%s", blk->key, f->key);
		expected(sc, path, &want, &tol);
		if (tol < 0 && f->why == NULL)
			continue;	/* t_meas, flags, reasons: not values */
		k->values++;
		has_reason = !ok || (why && record_present(r, blk, why));
		if (!present && !has_reason)
			fail_msg("%s: %s null without a reason", sc->name, path);
		if (present && why && record_present(r, blk, why))
			fail_msg("%s: %s has a value and a reason", sc->name, path);
		if (!present) {
			k->nulls++;
			continue;
		}
		if (sc->co2_zero && strcmp(path, "scd4x.co2") == 0)
			fail_msg("%s: a 0 ppm co2 reached the record", sc->name);
		if (fabs(number(r, f) - want) > tol)
			fail_msg("%s: %s = %g, the chip said %g: a value from a bad response",
			    sc->name, path, number(r, f), want);
	}
}

static void
check_record(const struct scenario *sc, const struct record *r, struct counts *k,
    int64_t unix_now)
{
	k->records++;
	k->faults += r->nfaults;
	for (int chip = 0; chip < 3; chip++)
		check_chip(sc, r, chip, k, unix_now);
}

static void
must_have_seen(const struct scenario *sc, const struct counts *k)
{
	char want[256];
	const char *p = sc->must_see;

	while (*p) {
		size_t n = strcspn(p, " ");
		char *colon;
		int chip = -1, si;

		snprintf(want, sizeof(want), "%.*s", (int)n, p);
		colon = strchr(want, ':');
		assert_non_null(colon);
		*colon = '\0';
		for (int i = 0; i < 3; i++)
			if (strcmp(want, chip_names[i]) == 0)
				chip = i;
		si = state_index(colon + 1);
		assert_true(chip >= 0 && si >= 0);
		if (k->seen[chip][si] == 0)
			fail_msg("%s: %s never %s", sc->name, want, colon + 1);
		p += n;
		p += strspn(p, " ");
	}
}

static void
run_scenario(const struct scenario *sc, struct counts *k)
{
	struct fbb *b = fbb_new(sc->chips);
	int64_t t0 = b->now, interval = SEC(1) / 1000 * (sc->interval_ms ? sc->interval_ms :
	    2000), next_rec = t0 + interval, end = t0 + SEC(sc->seconds);
	struct sensors_conf c;
	struct sensors *s = NULL;
	char err[512] = "";
	size_t step = 0;

	memset(&c, 0, sizeof(c));
	conf_defaults(scd4x_conf_keys, &c.scd4x);
	conf_defaults(sgp30_conf_keys, &c.sgp30);
	conf_defaults(icp10125_conf_keys, &c.icp10125);
	c.reads_wait = true;	/* as sensord at its default 5 s records */
	c.scd4x.enabled = !sc->scd4x_off;
	c.require = REQUIRE_NONE;
	assert_int_equal(sensors_new(&c, &b->bus, NULL, b->now, &s, err, sizeof(err)), 0);
	memset(k, 0, sizeof(*k));
	while (next_rec <= end) {
		int64_t until = next_rec;
		struct record r;

		if (step < MAX_STEPS && sc->steps[step].control &&
		    t0 + SEC(sc->steps[step].at) < until)
			until = t0 + SEC(sc->steps[step].at);
		fbb_run(b, s, until, NULL);
		if (until < next_rec) {
			if (fbb_control(b, sc->steps[step].control) != 0)
				fail_msg("%s: bad control %s", sc->name, sc->steps[step].control);
			step++;
			continue;
		}
		memset(&r, 0, sizeof(r));
		sensors_take(s, &r);
		check_record(sc, &r, k, clock_realtime_ns() - clock_mono_ns() + b->now + 1);
		next_rec += interval;
	}
	must_have_seen(sc, k);
	sensors_free(s);
	fbb_free(b);
}

static void
test_property(void **state)
{
	struct counts k, all = { 0 };
	size_t n = sizeof(scenarios) / sizeof(scenarios[0]);

	(void)state;
	assert_true(n >= 10);
	for (size_t i = 0; i < n; i++) {
		char seen[512];
		size_t off = 0;

		run_scenario(&scenarios[i], &k);
		for (int chip = 0; chip < 3; chip++)
			for (int si = 0; si < NSTATES; si++) {
				all.seen[chip][si] += k.seen[chip][si];
				if (k.seen[chip][si])
					off += (size_t)snprintf(seen + off, sizeof(seen) - off,
					    " %s:%s=%llu", chip_names[chip], state_names[si],
					    (unsigned long long)k.seen[chip][si]);
			}
		printf("nulls: %-17s records %4llu, values %5llu, nulls %4llu, fault lines "
		    "%4llu;%s\n", scenarios[i].name, (unsigned long long)k.records,
		    (unsigned long long)k.values, (unsigned long long)k.nulls,
		    (unsigned long long)k.faults, seen);
		all.records += k.records;
		all.values += k.values;
		all.nulls += k.nulls;
	}
	printf("nulls: %zu scenarios, %llu records, %llu values, %llu nulls, each with its "
	    "reason\n", n, (unsigned long long)all.records, (unsigned long long)all.values,
	    (unsigned long long)all.nulls);
	/* every state occurs somewhere */
	for (int si = 0; si < NSTATES; si++)
		assert_true(all.seen[0][si] + all.seen[1][si] + all.seen[2][si] > 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_property),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
