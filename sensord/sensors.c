/* SPDX-License-Identifier: Apache-2.0 */
/*
 * sensors: the chip manager. It owns one driver instance per enabled chip,
 * decides when each runs (the earliest driver deadline), and does everything
 * the drivers should not each reinvent: fault counting and naming, retry with
 * exponential back-off (1 s doubling to 60 s) followed by a full
 * re-initialisation, the status of each chip, and the hand-over of samples to
 * the record. Compensation flows through struct chip_env: the ICP-10125 runs
 * first in each turn so the SCD4x sees the latest pressure, and the SCD4x runs
 * before the SGP30 so a new T/RH sample reaches the SGP30 at its next slot.
 *
 * A sample is kept until sensors_take moves it into a record and is then
 * forgotten, so a value is reported at most once; a chip that produced
 * nothing since the previous record has no block in the next one, and its
 * state on that record says why (no_new_sample, warming_up, retrying since
 * when and after which error, absent, disabled). A chip waiting for its next
 * retry adds a fault line to every record meanwhile, not only to those in
 * which an attempt failed.
 *
 * An orderly stop (sensors_stop) lets each chip finish what is worth
 * keeping, as more turns of the same schedule: the SGP30 reads and saves
 * its baseline.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "chip.h"
#include "i2c_bus.h"
#include "log.h"
#include "sensors.h"

#define BACKOFF_MIN	NS_PER_S
#define BACKOFF_MAX	(60 * NS_PER_S)
#define MAX_STEPS	16	/* zero-wait steps one chip may take per turn */
#define FAULT_CAP	RECORD_MAX_FAULTS	/* pending fault lines; overflow: counted */
#define STOP_MAX	(500 * NS_PER_MS)	/* sensors_free waits this long at most */

enum chip_id { CHIP_SCD4X, CHIP_SGP30, CHIP_ICP10125, NCHIPS };

/* C_STOPPING: sensors_stop asked it to finish; C_STOPPED: it has. */
enum chip_state { C_DISABLED, C_ABSENT, C_RUNNING, C_RETRYING, C_STOPPING, C_STOPPED };

struct chip {
	const struct chip_ops *ops;
	void *st;
	enum chip_state state;
	bool recovering;	/* failed since the last good sample */
	bool faulted;		/* a fault line since the last record */
	int64_t fail_since;	/* Unix ns of the failure that started recovering */
	char error[RECORD_ERROR_LEN];	/* the last failure */
	int64_t next;
	int64_t early;		/* next may be served this much sooner (chip_out) */
	int64_t late;		/* ... or this much later, on the tick */
	bool tick;		/* next is a slot of the shared tick (chip_out.tick) */
	int64_t backoff;
	uint64_t measurements, faults;
	int64_t last_ok;	/* Unix ns */
	bool has_sample;
	struct chip_out sample;	/* the latest sample not yet taken */
};

struct sensors {
	struct i2c_bus *bus;
	struct chip chips[NCHIPS];
	struct chip_env env;
	int64_t last_now;
	bool stopping;
	bool reads_wait;		/* sensors_conf.reads_wait */
	unsigned nfaults, faults_dropped;
	char faults[FAULT_CAP][RECORD_FAULT_LEN];
};

/* Run order: pressure before CO2, CO2 (T/RH) before the gas sensor. */
static const enum chip_id run_order[NCHIPS] = { CHIP_ICP10125, CHIP_SCD4X, CHIP_SGP30 };

static const char *const scd4x_modes[] = { "periodic", "low_power", NULL };
static const char *const icp_modes[] = { "lp", "n", "ln", "uln", NULL };

const struct conf_key scd4x_conf_keys[] = {
	CONF_K_BOOL("enabled", struct scd4x_conf, enabled, 1, 0),
	CONF_K_DOUBLE("temperature_offset", struct scd4x_conf, temp_offset, 0.0, 20.0,
	    4.0, 0),
	CONF_K_INT("altitude", struct scd4x_conf, altitude, 0, 3000, 0, 0),
	CONF_K_BOOL("asc", struct scd4x_conf, asc, 1, 0),
	CONF_K_ENUM("mode", struct scd4x_conf, mode, scd4x_modes, SCD4X_PERIODIC, 0),
	CONF_K_END
};

const struct conf_key sgp30_conf_keys[] = {
	CONF_K_BOOL("enabled", struct sgp30_conf, enabled, 1, 0),
	CONF_K_BOOL("humidity_compensation", struct sgp30_conf, humidity_compensation,
	    1, 0),
	CONF_K_END
};

const struct conf_key icp10125_conf_keys[] = {
	CONF_K_BOOL("enabled", struct icp10125_conf, enabled, 1, 0),
	CONF_K_ENUM("mode", struct icp10125_conf, mode, icp_modes, ICP_N, 0),
	CONF_K_END
};

const char *const sensors_require_choices[] = {
	[REQUIRE_SCD4X_OR_ICP] = "scd4x_or_icp10125",
	[REQUIRE_ANY] = "any",
	[REQUIRE_ALL] = "all",
	[REQUIRE_NONE] = "none",
	NULL
};

static const struct chip_ops *const drivers[NCHIPS] = {
	[CHIP_SCD4X] = &scd4x_driver,
	[CHIP_SGP30] = &sgp30_driver,
	[CHIP_ICP10125] = &icp10125_driver,
};

static void
chip_conf(const struct sensors_conf *conf, enum chip_id id, const void **ret_block,
    bool *ret_enabled)
{
	switch (id) {
	case CHIP_SCD4X:
		*ret_block = &conf->scd4x;
		*ret_enabled = conf->scd4x.enabled;
		return;
	case CHIP_SGP30:
		*ret_block = &conf->sgp30;
		*ret_enabled = conf->sgp30.enabled;
		return;
	default:
		*ret_block = &conf->icp10125;
		*ret_enabled = conf->icp10125.enabled;
		return;
	}
}

/* Unix ns at CLOCK_MONOTONIC now. */
static int64_t
unix_at(int64_t now)
{
	return clock_realtime_ns() - clock_mono_ns() + now;
}

/* Pending fault lines; past the cap only a count is kept (said at take). */
static void
add_fault(struct sensors *s, struct chip *c, const char *what)
{
	c->faults++;
	c->faulted = true;
	if (s->nfaults >= FAULT_CAP) {
		s->faults_dropped++;
		return;
	}
	snprintf(s->faults[s->nfaults++], RECORD_FAULT_LEN, "%s: %s", c->ops->name, what);
}

static void
chip_free(struct chip *c)
{
	if (!c->st)
		return;
	if (c->ops->fini)
		c->ops->fini(c->st);
	free(c->st);
	c->st = NULL;
}

/* The chip failed: retry after the current back-off, doubling it. */
static void
chip_failed(struct chip *c, int64_t now, const char *what)
{
	snprintf(c->error, sizeof(c->error), "%s", what);
	if (!c->recovering) {
		c->fail_since = unix_at(now);
		log_warnx("%s at 0x%02x: %s; retrying in %" PRId64 " s", c->ops->name,
		    c->ops->addr, what, (int64_t)(c->backoff / NS_PER_S));
	} else
		log_debug("%s: %s; next retry in %" PRId64 " s", c->ops->name, what,
		    (int64_t)(c->backoff / NS_PER_S));
	c->recovering = true;
	c->state = C_RETRYING;
	c->next = now + c->backoff;
	c->early = c->late = 0;
	c->tick = false;
	c->backoff = c->backoff * 2 > BACKOFF_MAX ? BACKOFF_MAX : c->backoff * 2;
}

static void
got_sample(struct sensors *s, struct chip *c, enum chip_id id, int64_t now,
    const struct chip_out *out)
{
	int64_t t_meas = unix_at(out->taken > 0 ? out->taken : now);

	c->sample = *out;
	c->has_sample = true;
	c->measurements++;
	c->last_ok = t_meas;
	c->backoff = BACKOFF_MIN;
	if (c->recovering)
		log_info("%s at 0x%02x: measuring again", c->ops->name, c->ops->addr);
	c->recovering = false;
	switch (id) {
	case CHIP_SCD4X:
		c->sample.u.scd4x.t_meas = t_meas;
		s->env.has_th = true;
		s->env.t = out->u.scd4x.t;
		s->env.rh = out->u.scd4x.rh;
		s->env.th_seq++;
		break;
	case CHIP_SGP30:
		c->sample.u.sgp30.t_meas = t_meas;
		break;
	default:
		c->sample.u.icp10125.t_meas = t_meas;
		s->env.has_p = true;
		s->env.p = out->u.icp10125.p;
		break;
	}
}

static void
restart(struct sensors *s, struct chip *c, int64_t now)
{
	char what[CHIP_WHAT_LEN];
	int r = c->ops->start(c->st, now, &c->next);

	c->early = c->late = 0;
	c->tick = false;
	if (r == 0) {
		c->state = C_RUNNING;
		return;
	}
	if (c->state == C_ABSENT) {
		/* Never seen: keep looking, quietly. */
		c->next = now + c->backoff;
		c->backoff = c->backoff * 2 > BACKOFF_MAX ? BACKOFF_MAX : c->backoff * 2;
		return;
	}
	snprintf(what, sizeof(what), "no answer (%s)", chip_errname(r));
	add_fault(s, c, what);
	chip_failed(c, now, what);
}

/* A poll while stopping: done when the driver says so or fails. */
static void
step_stopping(struct sensors *s, struct chip *c, int64_t now)
{
	struct chip_out out = { 0 };

	out.next = now + BACKOFF_MAX;
	c->ops->poll(c->st, now, &s->env, &out);
	if (out.err < 0)
		log_warnx("%s at 0x%02x: stopping: %s", c->ops->name, c->ops->addr,
		    out.what[0] ? out.what : chip_errname(out.err));
	if (out.err < 0 || out.stopped)
		c->state = C_STOPPED;
	else
		c->next = out.next;
	c->early = c->late = 0;
	c->tick = false;
}

static void
step(struct sensors *s, enum chip_id id, int64_t now)
{
	struct chip *c = &s->chips[id];
	struct chip_out out = { 0 };

	if (c->state == C_ABSENT || c->state == C_RETRYING) {
		restart(s, c, now);
		return;
	}
	if (c->state == C_STOPPING) {
		step_stopping(s, c, now);
		return;
	}
	out.next = now + BACKOFF_MAX;	/* a driver that forgets is still polled */
	c->ops->poll(c->st, now, &s->env, &out);
	if (out.sample)
		got_sample(s, c, id, now, &out);
	if (out.fault)
		add_fault(s, c, out.what);
	if (out.err < 0) {
		chip_failed(c, now, out.what[0] ? out.what : chip_errname(out.err));
		return;
	}
	c->next = out.next;
	c->early = out.early > 0 && !s->stopping ? out.early : 0;
	c->late = out.late > 0 && s->reads_wait && !s->stopping ? out.late : 0;
	c->tick = out.tick && !s->stopping;
}

static void
describe_probe(struct sensors *s, const struct sensors_conf *conf, const int *res,
    char *errbuf, size_t errlen)
{
	size_t off;

	switch (conf->require) {
	case REQUIRE_ALL:
		off = (size_t)snprintf(errbuf, errlen, "Not all sensors initialized. "
		    "Every enabled sensor must be available.");
		break;
	case REQUIRE_ANY:
		off = (size_t)snprintf(errbuf, errlen, "No sensors initialized. At least "
		    "one sensor must be available.");
		break;
	default:
		off = (size_t)snprintf(errbuf, errlen, "No sensors initialized. At least "
		    "SCD4X or ICP10125 must be available.");
		break;
	}
	for (int i = 0; i < NCHIPS && off < errlen; i++) {
		const char *how = s->chips[i].state == C_DISABLED ? "disabled" :
		    res[i] == 0 ? "answered" : "no answer";
		off += (size_t)snprintf(errbuf + off, errlen - off, "%s %s at 0x%02x on %s: %s%s%s%s",
		    i == 0 ? " Probed:" : ";", drivers[i]->name, drivers[i]->addr,
		    s->bus->name, how, res[i] < 0 ? " (" : "",
		    res[i] < 0 ? chip_errname(res[i]) : "", res[i] < 0 ? ")" : "");
	}
}

static bool
require_met(const struct sensors *s, int require)
{
	bool any = false, all = true;

	for (int i = 0; i < NCHIPS; i++) {
		if (s->chips[i].state == C_DISABLED)
			continue;
		any |= s->chips[i].state == C_RUNNING;
		all &= s->chips[i].state == C_RUNNING;
	}
	switch (require) {
	case REQUIRE_NONE: return true;
	case REQUIRE_ANY: return any;
	case REQUIRE_ALL: return all && any;
	default:
		return s->chips[CHIP_SCD4X].state == C_RUNNING ||
		    s->chips[CHIP_ICP10125].state == C_RUNNING;
	}
}

int
sensors_new(const struct sensors_conf *conf, struct i2c_bus *bus,
    const char *state_dir, int64_t now, struct sensors **ret, char *errbuf,
    size_t errlen)
{
	struct sensors *s;
	int res[NCHIPS] = { 0 };
	int r;

	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->bus = bus;
	s->last_now = now;
	s->reads_wait = conf->reads_wait;
	log_debug("PRODUCTION MODE: Real sensors required and enforced");
	for (int i = 0; i < NCHIPS; i++) {
		struct chip *c = &s->chips[i];
		const void *block;
		bool enabled;

		c->ops = drivers[i];
		c->backoff = BACKOFF_MIN;
		chip_conf(conf, (enum chip_id)i, &block, &enabled);
		if (!enabled) {
			c->state = C_DISABLED;
			continue;
		}
		c->st = calloc(1, c->ops->state_size);
		if (!c->st) {
			r = -ENOMEM;
			goto fail;
		}
		c->ops->init(c->st, block, bus, state_dir);
		res[i] = c->ops->start(c->st, now, &c->next);
		if (res[i] == 0) {
			c->state = C_RUNNING;
			log_debug("%s at 0x%02x on %s: answered, starting", c->ops->name,
			    c->ops->addr, bus->name);
		} else {
			c->state = C_ABSENT;
			c->next = now + c->backoff;
			log_warnx("%s at 0x%02x on %s: no answer (%s)", c->ops->name,
			    c->ops->addr, bus->name, chip_errname(res[i]));
		}
	}
	if (!require_met(s, conf->require)) {
		describe_probe(s, conf, res, errbuf, errlen);
		r = -ENODEV;
		goto fail;
	}
	*ret = s;
	return 0;
fail:
	for (int i = 0; i < NCHIPS; i++)
		chip_free(&s->chips[i]);
	free(s);
	return r;
}

/* Chips that have a schedule: not disabled, not done stopping. */
static bool
scheduled(const struct chip *c)
{
	return c->state != C_DISABLED && c->state != C_STOPPED;
}

void
sensors_stop(struct sensors *s, int64_t now)
{
	if (s->stopping)
		return;
	s->stopping = true;
	s->last_now = now;
	for (int i = 0; i < NCHIPS; i++) {
		struct chip *c = &s->chips[i];
		int64_t next = now;

		if (c->state == C_DISABLED)
			continue;
		c->early = c->late = 0;
		c->tick = false;
		if (c->state == C_RUNNING && c->ops->stop(c->st, now, &next)) {
			c->state = C_STOPPING;
			c->next = next;
		} else {
			c->state = C_STOPPED;
		}
	}
}

bool
sensors_stopped(const struct sensors *s)
{
	for (int i = 0; i < NCHIPS; i++)
		if (s->chips[i].state == C_STOPPING)
			return false;
	return true;
}

/* The rest of an orderly stop on the real clock: a few commands, each a
 * few ms, so STOP_MAX is only there for a chip that stops answering. */
static void
finish_stop(struct sensors *s)
{
	int64_t start = clock_mono_ns(), now = start;

	sensors_stop(s, now);
	while (!sensors_stopped(s)) {
		int64_t d = sensors_next_deadline(s);

		if (d - start > STOP_MAX) {
			log_warnx("chips did not finish stopping within %" PRId64 " ms",
			    (int64_t)(STOP_MAX / NS_PER_MS));
			return;
		}
		if (d > now)
			chip_sleep_ns(d - now);
		now = clock_mono_ns();
		sensors_run(s, now);
	}
}

void
sensors_free(struct sensors *s)
{
	if (!s)
		return;
	finish_stop(s);
	for (int i = 0; i < NCHIPS; i++)
		chip_free(&s->chips[i]);
	free(s);
}

/* Deadlines a few ms apart (one chip's command finishing just after
 * another's, every second) are served in one wake-up: the earliest deadline
 * is pushed back to the last one within COALESCE_NS of it. A chip is then
 * served at most that late, never early: its result waits in the chip, and
 * the SGP30 keeps its 1 s grid from planned times, so it does not drift.
 *
 * The chips share one tick, the SGP30's grid (chip_out.tick): a slot that
 * may move (early) is served on it when the tick comes up to CHIP_EARLY
 * before or after the slot, a read that may wait (late) on the tick up to
 * CHIP_LATE after it, so the SCD4x's data-ready questions and the
 * ICP-10125 join the tick whichever comes first. No other wake-up moves
 * them: not a chip's start-up steps, not a retrying chip's restart
 * attempts (at whatever times its back-off gives). Were they served on
 * those, a 1 Hz chip's reads would jump about, and a 1 s record now and
 * then get two of them and the next none (seen in chip-faults.sh while
 * the SCD4x and the SGP30 retried). Without a tick (the SGP30 retrying,
 * absent or disabled) each keeps its own slots. */
#define COALESCE_NS (20 * NS_PER_MS)

/* The shared tick's next slot, INT64_MAX when there is none. */
static int64_t
tick_of(const struct sensors *s)
{
	int64_t tick = INT64_MAX;

	for (int i = 0; i < NCHIPS; i++)
		if (s->chips[i].tick && s->chips[i].next < tick)
			tick = s->chips[i].next;
	return tick;
}

/* When chip c is served: its deadline, or the tick when its slot or read
 * may move there (see above). */
static int64_t
wants(const struct chip *c, int64_t tick)
{
	if (c->late > 0 && tick >= c->next && tick - c->next <= c->late)
		return tick;
	if (c->early > 0 && tick >= c->next - c->early && tick <= c->next + c->early)
		return tick;
	return c->next;
}

int64_t
sensors_next_deadline(const struct sensors *s)
{
	int64_t tick = tick_of(s), first = INT64_MAX, last;

	for (int i = 0; i < NCHIPS; i++)
		if (scheduled(&s->chips[i]) && wants(&s->chips[i], tick) < first)
			first = wants(&s->chips[i], tick);
	if (first == INT64_MAX)
		return first;
	last = first;
	for (int i = 0; i < NCHIPS; i++)
		if (scheduled(&s->chips[i]) && s->chips[i].next > last &&
		    s->chips[i].next - first <= COALESCE_NS)
			last = s->chips[i].next;
	return last;
}

/* Every chip due at now runs: its deadline has come, or the tick it may
 * join (taken before any runs, so a chip served on it is not served again
 * for its next slot). */
void
sensors_run(struct sensors *s, int64_t now)
{
	int64_t tick = tick_of(s);

	s->last_now = now;
	for (int k = 0; k < NCHIPS; k++) {
		enum chip_id id = run_order[k];
		struct chip *c = &s->chips[id];

		for (int n = 0; n < MAX_STEPS && scheduled(c) && wants(c, tick) <= now; n++)
			step(s, id, now);
	}
}

/* The state a record gives the chip; *ret_block: its sample goes in. */
static const char *
record_state(const struct chip *c, bool *ret_block)
{
	*ret_block = false;
	switch (c->state) {
	case C_DISABLED: return RECORD_DISABLED;
	case C_ABSENT: return RECORD_ABSENT;
	default: break;
	}
	if (c->has_sample) {
		/* the SGP30's warm-up constants are not measurements */
		if (c->sample.warmup)
			return RECORD_WARMING_UP;
		*ret_block = true;
		return RECORD_OK;
	}
	if (c->state == C_RETRYING || c->recovering)
		return RECORD_RETRYING;
	if (strcmp(c->ops->state(c->st), "warmup") == 0)
		return RECORD_WARMING_UP;
	return RECORD_NO_NEW_SAMPLE;
}

static void
take_chip(struct sensors *s, enum chip_id id, struct record *r, struct rec_chip_state *st)
{
	struct chip *c = &s->chips[id];
	bool block;
	const char *state = record_state(c, &block);

	st->has_state = true;
	snprintf(st->state, sizeof(st->state), "%s", state);
	if (strcmp(state, RECORD_RETRYING) == 0) {
		st->has_since = st->has_error = true;
		st->since = c->fail_since;
		snprintf(st->error, sizeof(st->error), "%s", c->error);
		/* every record of the outage says so, not only the failed tries */
		if (!c->faulted)
			record_add_fault(r, "%s: retrying for %" PRId64 " s: %s", c->ops->name,
			    (int64_t)((unix_at(s->last_now) - c->fail_since) / NS_PER_S), c->error);
	}
	c->faulted = false;
	c->has_sample = false;
	if (!block)
		return;
	switch (id) {
	case CHIP_SCD4X:
		r->has_scd4x = true;
		r->scd4x = c->sample.u.scd4x;
		return;
	case CHIP_SGP30:
		r->has_sgp30 = true;
		r->sgp30 = c->sample.u.sgp30;
		return;
	default:
		r->has_icp10125 = true;
		r->icp10125 = c->sample.u.icp10125;
		return;
	}
}

void
sensors_take(struct sensors *s, struct record *r)
{
	for (unsigned i = 0; i < s->nfaults; i++)
		record_add_fault(r, "%s", s->faults[i]);
	if (s->faults_dropped)
		record_add_fault(r, "sensors: %u more faults not listed", s->faults_dropped);
	s->nfaults = 0;
	s->faults_dropped = 0;
	take_chip(s, CHIP_SCD4X, r, &r->scd4x_st);
	take_chip(s, CHIP_SGP30, r, &r->sgp30_st);
	take_chip(s, CHIP_ICP10125, r, &r->icp10125_st);
}

static const char *
state_name(const struct chip *c)
{
	switch (c->state) {
	case C_DISABLED: return "disabled";
	case C_ABSENT: return "absent";
	case C_RETRYING: return "retrying";
	case C_STOPPING: case C_STOPPED: return "stopping";
	default:
		return c->recovering ? "retrying" : c->ops->state(c->st);
	}
}

void
sensors_status(const struct sensors *s, struct proto_status *st)
{
	st->nchips = 0;
	for (int i = 0; i < NCHIPS && i < PROTO_MAX_CHIPS; i++) {
		const struct chip *c = &s->chips[i];
		struct proto_chip_status *cs = &st->chips[st->nchips++];

		snprintf(cs->name, sizeof(cs->name), "%s", c->ops->name);
		snprintf(cs->state, sizeof(cs->state), "%s", state_name(c));
		cs->measurements = c->measurements;
		cs->faults = c->faults;
		cs->last_ok = c->last_ok;
	}
}

int
sensors_probe(const struct sensors_conf *conf, struct i2c_bus *bus)
{
	int failed = 0;

	printf("%-9s %-5s %-8s %s\n", "chip", "addr", "result", "details");
	for (int i = 0; i < NCHIPS; i++) {
		const struct chip_ops *ops = drivers[i];
		char info[CHIP_INFO_LEN] = "";
		const void *block;
		bool enabled;
		void *st;
		int r;

		chip_conf(conf, (enum chip_id)i, &block, &enabled);
		if (!enabled) {
			printf("%-9s 0x%02x  %-8s %s\n", ops->name, ops->addr, "SKIP",
			    "disabled in the configuration");
			continue;
		}
		st = calloc(1, ops->state_size);
		if (!st) {
			r = -ENOMEM;
			snprintf(info, sizeof(info), "out of memory");
		} else {
			ops->init(st, block, bus, NULL);
			r = ops->probe(st, info, sizeof(info));
			if (ops->fini)
				ops->fini(st);
			free(st);
		}
		printf("%-9s 0x%02x  %-8s %s\n", ops->name, ops->addr, r == 0 ? "PASS" : "FAIL",
		    info);
		if (r < 0)
			failed++;
	}
	fflush(stdout);
	return failed ? -EIO : 0;
}
