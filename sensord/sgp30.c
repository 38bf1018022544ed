/* SPDX-License-Identifier: Apache-2.0 */
/*
 * sgp30: driver for the Sensirion SGP30 gas sensor (0x58) as a non-blocking
 * state machine. Start-up reads the serial and checks the feature set, sends
 * iaq_init and, when a baseline saved for this serial is at most 7 days old,
 * restores it. From then on measure_iaq runs on a fixed 1 s grid anchored at
 * start-up: each slot is the previous slot + 1 s, never "now + 1 s", so the
 * time the loop takes to wake up does not accumulate. A measurement's
 * answer waits in the chip and is read at the next slot, just before the
 * next measure_iaq, so the chip costs one wake-up a second, not two; the
 * sample keeps the time it was measured. Work that needs the chip between
 * measurements (absolute-humidity compensation after each new SCD4x
 * sample, the hourly baseline read) is slotted in right after a
 * measurement's read; measure_iaq then follows once it is done.
 *
 * The first 15 s after iaq_init the chip returns fixed 400 ppm / 0 ppb;
 * those samples are passed on flagged warm-up. The baseline is trusted (and
 * saved hourly to <state_dir>/sgp30-baseline.json) 12 h after a fresh init or
 * 1 h after a restore. An orderly stop reads and saves it once more, so a
 * restart loses none of the chip's learning: when it is trusted, or when it
 * was restored and the chip is past its warm-up (Sensirion's rule: store
 * only a learned baseline, or one that started from a restored one).
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "clock.h"
#include "chip.h"
#include "fsutil.h"
#include "log.h"

#define SGP30_ADDR 0x58

#define CMD_IAQ_INIT		0x2003
#define CMD_MEASURE_IAQ		0x2008
#define CMD_GET_BASELINE	0x2015
#define CMD_SET_BASELINE	0x201E
#define CMD_SET_AH		0x2061
#define CMD_MEASURE_TEST	0x2032
#define CMD_FEATURE_SET		0x202F
#define CMD_SERIAL		0x3682

/* Execution times (max) plus the loop's margin. */
#define T_SERIAL	(NS_PER_MS / 2 + CHIP_MARGIN)
#define T_CMD		(10 * NS_PER_MS + CHIP_MARGIN)	/* init, feature set, baseline, AH */
#define T_MEASURE	(12 * NS_PER_MS + CHIP_MARGIN)
#define T_TEST		(220 * NS_PER_MS + CHIP_MARGIN)
#define PERIOD		NS_PER_S
#define WARMUP		(15 * NS_PER_S)
#define HOUR		(3600 * NS_PER_S)
#define FRESH_VALID	(12 * HOUR)
#define RESTORED_VALID	HOUR
#define BASELINE_MAX_AGE_S (7 * 24 * 3600LL)
#define BASELINE_FILE	"sgp30-baseline.json"
#define BASELINE_FILE_MAX 4096

enum step {
	S_SERIAL,	/* serial requested */
	S_FEATURES,	/* feature set requested */
	S_INIT,		/* iaq_init sent */
	S_RESTORE,	/* set_iaq_baseline sent */
	S_IDLE,		/* waiting for the next 1 s slot */
	S_MEASURE,	/* measure_iaq sent */
	S_HUMIDITY,	/* set_absolute_humidity sent */
	S_BASELINE,	/* get_iaq_baseline sent */
};

struct sgp30 {
	struct sgp30_conf conf;
	struct i2c_bus *bus;
	char path[4096];	/* baseline file; "" without a state dir */
	enum step step;
	bool identified;
	uint64_t serial;
	uint16_t features;
	int64_t t_init;		/* when iaq_init was sent */
	int64_t slot;		/* next measure_iaq slot on the 1 s grid */
	int64_t t_meas;		/* when the pending measure_iaq was sent */
	bool restored;		/* a saved baseline was written after iaq_init */
	int64_t next_save;	/* next baseline read-and-save */
	uint64_t th_seq;	/* SCD4x sample last used for compensation */
	bool warm;		/* past the 15 s warm-up */
	int64_t due;		/* when the last poll asked to be called again */
	bool stopping;		/* the baseline is read and saved, then done */
};

double
sgp30_abs_humidity(double t, double rh)
{
	return 216.7 * ((rh / 100.0) * 6.112 * exp(17.62 * t / (243.12 + t))) /
	    (273.15 + t);
}

/* 0 would switch compensation off, so the smallest real value is 1/256. */
uint16_t
sgp30_ah_word(double ah)
{
	double w = round(ah * 256.0);

	if (!(w >= 1))
		return 1;
	return w > 65535 ? 65535 : (uint16_t)w;
}

static void
sgp_init(void *st, const void *conf, struct i2c_bus *bus, const char *state_dir)
{
	struct sgp30 *c = st;

	c->conf = *(const struct sgp30_conf *)conf;
	c->bus = bus;
	if (state_dir && *state_dir &&
	    (size_t)snprintf(c->path, sizeof(c->path), "%s/%s", state_dir,
	    BASELINE_FILE) >= sizeof(c->path))
		c->path[0] = '\0';
}

static int
sgp_start(void *st, int64_t now, int64_t *ret_next)
{
	struct sgp30 *c = st;
	int r;

	r = chip_send(c->bus, SGP30_ADDR, CMD_SERIAL, NULL, 0);
	if (r < 0)
		return r;
	c->step = S_SERIAL;
	c->warm = false;
	*ret_next = c->due = now + T_SERIAL;
	return 0;
}

static void
send_or_fail(struct sgp30 *c, struct chip_out *out, int64_t now, uint16_t cmd,
    const uint16_t *args, size_t nargs, const char *what, enum step next_step,
    int64_t wait)
{
	int r = chip_send(c->bus, SGP30_ADDR, cmd, args, nargs);

	if (r < 0) {
		chip_fail(out, r, what);
		return;
	}
	c->step = next_step;
	out->next = now + wait;
}

/* ---- baseline file --------------------------------------------------- */

/*
 * Reads a saved baseline: only for this serial, only when saved at most
 * 7 days ago by the wall clock (a clock that went backwards or an unsynced
 * clock at boot makes the age unknown, and an unknown age is too old), and
 * never a zero word (the chip's "no baseline yet").
 */
static int
baseline_load(const struct sgp30 *c, int64_t now_unix_s, uint16_t *ret_co2,
    uint16_t *ret_tvoc)
{
	char *buf = NULL, serial[32];
	size_t len;
	json_t *root = NULL;
	json_int_t co2, tvoc, saved;
	const char *s;
	int r;

	if (!c->path[0])
		return -ENOENT;
	/* Never through a symbolic link or into a FIFO planted under its name
	 * (read after the privilege drop, as sensord's user). */
	r = fs_read_all_at(AT_FDCWD, c->path, BASELINE_FILE_MAX, &buf, &len);
	if (r < 0)
		return r;
	r = -EINVAL;
	root = json_loadb(buf, len, 0, NULL);
	if (!root || json_unpack(root, "{s:s, s:I, s:I, s:I}", "serial", &s, "co2eq",
	    &co2, "tvoc", &tvoc, "saved", &saved) != 0)
		goto out;
	if (co2 < 1 || co2 > 0xFFFF || tvoc < 1 || tvoc > 0xFFFF)
		goto out;
	snprintf(serial, sizeof(serial), "0x%012" PRIX64, c->serial);
	if (strcmp(s, serial) != 0) {
		r = -ESTALE;
		goto out;
	}
	if (saved > now_unix_s || now_unix_s - saved > BASELINE_MAX_AGE_S) {
		r = -ESTALE;
		goto out;
	}
	*ret_co2 = (uint16_t)co2;
	*ret_tvoc = (uint16_t)tvoc;
	r = 0;
out:
	json_decref(root);
	free(buf);
	return r;
}

static int
baseline_save(const struct sgp30 *c, uint16_t co2, uint16_t tvoc)
{
	char serial[32], *text;
	json_t *root;
	int r;

	if (!c->path[0])
		return -ENOENT;
	snprintf(serial, sizeof(serial), "0x%012" PRIX64, c->serial);
	root = json_pack("{s:s, s:i, s:i, s:I}", "serial", serial, "co2eq", (int)co2,
	    "tvoc", (int)tvoc, "saved", (json_int_t)(clock_realtime_ns() / NS_PER_S));
	if (!root)
		return -ENOMEM;
	text = json_dumps(root, JSON_COMPACT);
	json_decref(root);
	if (!text)
		return -ENOMEM;
	r = fs_write_atomic(c->path, text, strlen(text), 0644);
	free(text);
	return r;
}

/* ---- start-up ---------------------------------------------------------- */

static void
got_serial(struct sgp30 *c, struct chip_out *out, int64_t now)
{
	uint16_t w[3];
	int r = chip_read_words(c->bus, SGP30_ADDR, w, 3);

	if (r < 0) {
		chip_fail(out, r, "get_serial_id");
		return;
	}
	c->serial = (uint64_t)w[0] << 32 | (uint64_t)w[1] << 16 | w[2];
	send_or_fail(c, out, now, CMD_FEATURE_SET, NULL, 0, "get_feature_set",
	    S_FEATURES, T_CMD);
}

/* As the kernel checks: product SGP30 (0), generation 0, no engineering
 * sample, major version 1; any minor. */
static bool
features_ok(uint16_t fs)
{
	return (fs & 0xF000) == 0 && (fs & 0x0600) == 0 && !(fs & 0x0100) &&
	    ((fs >> 5) & 0x7) == 1;
}

static void
got_features(struct sgp30 *c, struct chip_out *out, int64_t now)
{
	uint16_t fs;
	int r = chip_read_words(c->bus, SGP30_ADDR, &fs, 1);

	if (r < 0) {
		chip_fail(out, r, "get_feature_set");
		return;
	}
	if (!features_ok(fs)) {
		out->err = -ENODEV;
		out->fault = true;
		snprintf(out->what, sizeof(out->what), "unsupported feature set 0x%04x",
		    fs);
		return;
	}
	c->features = fs;
	c->t_init = now;
	send_or_fail(c, out, now, CMD_IAQ_INIT, NULL, 0, "iaq_init", S_INIT, T_CMD);
}

static void
log_identity(struct sgp30 *c)
{
	if (c->identified)
		return;
	c->identified = true;
	log_info("sgp30 at 0x%02x: serial 0x%012" PRIX64 ", feature set 0x%04x, "
	    "1 Hz IAQ, baseline %s, humidity compensation %s", SGP30_ADDR, c->serial,
	    c->features, c->restored ? "restored" : "learning (12 h)",
	    c->conf.humidity_compensation ? "on" : "off");
}

/* The measurement grid starts here, or, after a re-initialisation, goes
 * on in the phase it had; everything after keeps its phase. */
static void
begin_measuring(struct sgp30 *c, struct chip_out *out, int64_t now)
{
	c->slot = chip_grid_resume(c->slot, now, PERIOD);
	c->next_save = c->t_init + (c->restored ? RESTORED_VALID : FRESH_VALID);
	c->step = S_IDLE;
	out->next = c->slot;
	log_identity(c);
}

static void
initialised(struct sgp30 *c, struct chip_out *out, int64_t now)
{
	uint16_t co2, tvoc, args[2];
	int r;

	c->restored = false;
	r = baseline_load(c, clock_realtime_ns() / NS_PER_S, &co2, &tvoc);
	if (r < 0) {
		if (r != -ENOENT)
			log_info("sgp30: saved baseline not used (%s); learning for 12 h",
			    r == -ESTALE ? "other sensor or older than 7 days" :
			    "unreadable");
		begin_measuring(c, out, now);
		return;
	}
	/* set_iaq_baseline takes TVOC first, the reverse of get_iaq_baseline. */
	args[0] = tvoc;
	args[1] = co2;
	r = chip_send(c->bus, SGP30_ADDR, CMD_SET_BASELINE, args, 2);
	if (r < 0) {
		chip_fail(out, r, "set_iaq_baseline");
		return;
	}
	c->restored = true;
	log_debug("sgp30: baseline restored (co2eq 0x%04x, tvoc 0x%04x)", co2, tvoc);
	c->step = S_RESTORE;
	out->next = now + T_CMD;
}

/* ---- measuring --------------------------------------------------------- */

static void
measure(struct sgp30 *c, struct chip_out *out, int64_t now)
{
	int r = chip_send(c->bus, SGP30_ADDR, CMD_MEASURE_IAQ, NULL, 0);

	/* Advance the grid whatever happened; slots missed while the loop was
	 * stalled are skipped, not made up in a burst. This grid is the chips'
	 * shared tick: the SGP30's algorithm wants measure_iaq every second, so
	 * it is never served early; the other chips are, on its wake-ups. */
	c->slot += PERIOD;
	if (c->slot <= now)
		c->slot += (now - c->slot) / PERIOD * PERIOD + PERIOD;
	if (r < 0) {
		chip_fail(out, r, "measure_iaq");
		return;
	}
	c->t_meas = now;
	c->step = S_MEASURE;
	/* The answer is read at the next slot (the chips' next tick). */
	out->next = c->slot > now + T_MEASURE ? c->slot : now + T_MEASURE;
}

/* After a measurement: one extra command at most, then back to the grid
 * (or, stopping, done once the baseline is read). */
static void
between(struct sgp30 *c, struct chip_out *out, int64_t now, const struct chip_env *env)
{
	if (c->step == S_MEASURE && !c->stopping && c->conf.humidity_compensation &&
	    env && env->has_th && env->th_seq != c->th_seq) {
		uint16_t arg = sgp30_ah_word(sgp30_abs_humidity(env->t, env->rh));
		c->th_seq = env->th_seq;
		send_or_fail(c, out, now, CMD_SET_AH, &arg, 1, "set_absolute_humidity",
		    S_HUMIDITY, T_CMD);
		/* Nothing to read back: measure_iaq follows once it is done
		 * (or waits for its slot, if that is later). */
		if (out->err == 0 && c->slot >= out->next)
			out->next = c->slot;
		return;
	}
	if (c->step != S_BASELINE && now >= c->next_save && c->path[0]) {
		send_or_fail(c, out, now, CMD_GET_BASELINE, NULL, 0, "get_iaq_baseline",
		    S_BASELINE, T_CMD);
		return;
	}
	c->step = S_IDLE;
	out->next = c->slot;
	out->stopped = c->stopping;
}

static void
got_measurement(struct sgp30 *c, struct chip_out *out, int64_t now,
    const struct chip_env *env)
{
	uint16_t w[2];
	int r = chip_read_words(c->bus, SGP30_ADDR, w, 2);

	if (r < 0) {
		chip_fail(out, r, "measure_iaq");
		return;
	}
	out->sample = true;
	out->taken = c->t_meas;
	out->u.sgp30.eco2 = w[0];
	out->u.sgp30.tvoc = w[1];
	out->warmup = c->t_meas - c->t_init < WARMUP;
	out->u.sgp30.warmup = out->warmup;
	out->u.sgp30.baseline_ok = c->restored || c->t_meas - c->t_init >= FRESH_VALID;
	c->warm = !out->warmup;
	between(c, out, now, env);
}

static void
got_baseline(struct sgp30 *c, struct chip_out *out, int64_t now,
    const struct chip_env *env)
{
	uint16_t w[2];
	int r = chip_read_words(c->bus, SGP30_ADDR, w, 2);

	if (r < 0) {
		chip_fail(out, r, "get_iaq_baseline");
		return;
	}
	c->next_save = now + HOUR;
	/* Zero is the chip's "not learned yet"; storing it would poison a restore. */
	if (w[0] && w[1]) {
		r = baseline_save(c, w[0], w[1]);
		if (r < 0)
			log_warnx("sgp30: cannot save baseline to %s: %s", c->path,
			    strerror(-r));
		else if (c->stopping)
			log_info("sgp30: baseline saved at stop (co2eq 0x%04x, tvoc 0x%04x)",
			    w[0], w[1]);
		else
			log_debug("sgp30: baseline saved (co2eq 0x%04x, tvoc 0x%04x)",
			    w[0], w[1]);
	}
	between(c, out, now, env);
}

static void
poll_step(struct sgp30 *c, int64_t now, const struct chip_env *env, struct chip_out *out)
{
	switch (c->step) {
	case S_SERIAL:
		got_serial(c, out, now);
		return;
	case S_FEATURES:
		got_features(c, out, now);
		return;
	case S_INIT:
		initialised(c, out, now);
		return;
	case S_RESTORE:
		begin_measuring(c, out, now);
		return;
	case S_IDLE:
		if (c->stopping) {
			between(c, out, now, env);
			return;
		}
		if (now < c->slot) {
			out->next = c->slot;
			return;
		}
		measure(c, out, now);
		return;
	case S_MEASURE:
		got_measurement(c, out, now, env);
		return;
	case S_HUMIDITY:
		between(c, out, now, env);
		return;
	case S_BASELINE:
		got_baseline(c, out, now, env);
		return;
	}
}

static void
sgp_poll(void *st, int64_t now, const struct chip_env *env, struct chip_out *out)
{
	struct sgp30 *c = st;

	poll_step(c, now, env, out);
	c->due = out->next;
	/* measuring, and waiting for its next slot (to read the answer and
	 * send the next measure_iaq): the chips' shared tick */
	out->tick = out->err == 0 && c->step >= S_IDLE && out->next == c->slot;
}

/* Never a warm-up baseline: a learned one (12 h), or a restored one once
 * the chip is past its warm-up. */
static bool
baseline_worth_saving(const struct sgp30 *c, int64_t now)
{
	if (!c->path[0] || c->step < S_IDLE)
		return false;
	return now - c->t_init >= (c->restored ? WARMUP : FRESH_VALID);
}

/* The chip has no stop command: read the baseline once more and save it,
 * when the command in flight (if any) is done. */
static bool
sgp_stop(void *st, int64_t now, int64_t *ret_next)
{
	struct sgp30 *c = st;

	if (!baseline_worth_saving(c, now))
		return false;
	c->stopping = true;
	c->next_save = now;
	/* A measurement in flight is read as soon as it is done, not at
	 * the next slot: the stop has STOP_MAX. */
	if (c->step == S_MEASURE)
		*ret_next = c->t_meas + T_MEASURE > now ? c->t_meas + T_MEASURE : now;
	else
		*ret_next = c->step == S_IDLE ? now : c->due;
	return true;
}

static const char *
sgp_state(const void *st)
{
	const struct sgp30 *c = st;

	if (c->step < S_IDLE)
		return "starting";
	return c->warm ? "ok" : "warmup";
}

static int
probe_cmd(struct sgp30 *c, uint16_t cmd, int64_t wait, uint16_t *w, size_t n)
{
	int r = chip_send(c->bus, SGP30_ADDR, cmd, NULL, 0);

	if (r < 0)
		return r;
	chip_sleep_ns(wait);
	return n ? chip_read_words(c->bus, SGP30_ADDR, w, n) : 0;
}

/* measure_test must come before iaq_init: it leaves the chip asleep. */
static int
sgp_probe(void *st, char *info, size_t len)
{
	struct sgp30 *c = st;
	uint16_t w[3], test = 0;
	size_t off;
	int r, rt;

	r = probe_cmd(c, CMD_SERIAL, T_SERIAL, w, 3);
	if (r < 0) {
		snprintf(info, len, "no answer (%s)", chip_errname(r));
		return r;
	}
	c->serial = (uint64_t)w[0] << 32 | (uint64_t)w[1] << 16 | w[2];
	r = probe_cmd(c, CMD_FEATURE_SET, T_CMD, &c->features, 1);
	off = (size_t)snprintf(info, len, "serial 0x%012" PRIX64, c->serial);
	if (r < 0 || !features_ok(c->features)) {
		snprintf(info + off, len - off, ", feature set %s",
		    r < 0 ? chip_errname(r) : "unsupported");
		return r < 0 ? r : -ENODEV;
	}
	rt = probe_cmd(c, CMD_MEASURE_TEST, T_TEST, &test, 1);
	r = rt;
	if (r == 0)
		r = probe_cmd(c, CMD_IAQ_INIT, T_CMD, NULL, 0);
	if (r == 0)
		r = probe_cmd(c, CMD_MEASURE_IAQ, T_MEASURE, w, 2);
	off += (size_t)snprintf(info + off, len - off, ", feature set 0x%04x, self-test %s",
	    c->features, rt < 0 ? chip_errname(rt) : test == 0xD400 ? "ok" : "FAILED");
	if (off >= len)
		off = len - 1;
	if (rt == 0 && test != 0xD400)
		return -EIO;
	if (r < 0) {
		snprintf(info + off, len - off, ", measurement: %s", chip_errname(r));
		return r;
	}
	snprintf(info + off, len - off, ", %u ppm %u ppb (warm-up)", w[0], w[1]);
	return 0;
}

const struct chip_ops sgp30_driver = {
	.name = "sgp30",
	.addr = SGP30_ADDR,
	.state_size = sizeof(struct sgp30),
	.init = sgp_init,
	.start = sgp_start,
	.poll = sgp_poll,
	.stop = sgp_stop,
	.probe = sgp_probe,
	.state = sgp_state,
};
