/* SPDX-License-Identifier: Apache-2.0 */
/*
 * scd4x: driver for the Sensirion SCD40/41/43 CO2 sensor (0x62) as a
 * non-blocking state machine. Start-up assumes the chip may still be measuring
 * for a previous process: stop, wait 500 ms, read the serial (reinit once if
 * that fails), read the variant, write the RAM settings (temperature offset,
 * altitude, ASC — never persisted, to spare the EEPROM), then start periodic
 * or low-power periodic measurement. While measuring it polls data-ready at
 * 1 s once a sample is due and reads the sample when ready; a chip that stays
 * silent for three periods is declared failed so the manager reinitialises it.
 * Ambient pressure from the ICP-10125 is written when it moved by 1 hPa or
 * more, at most once a minute (the setting is not persisted, so it is re-sent
 * after every start).
 */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "clock.h"
#include "chip.h"
#include "log.h"

#define SCD4X_ADDR 0x62

#define CMD_START_PERIODIC	0x21B1
#define CMD_START_LOW_POWER	0x21AC
#define CMD_READ_MEASUREMENT	0xEC05
#define CMD_STOP_PERIODIC	0x3F86
#define CMD_SET_T_OFFSET	0x241D
#define CMD_SET_ALTITUDE	0x2427
#define CMD_AMBIENT_PRESSURE	0xE000
#define CMD_SET_ASC		0x2416
#define CMD_DATA_READY		0xE4B8
#define CMD_SERIAL		0x3682
#define CMD_SELF_TEST		0x3639
#define CMD_REINIT		0x3646
#define CMD_VARIANT		0x202F

/* Execution times (max) plus the loop's margin. */
#define T_CMD		(1 * NS_PER_MS + CHIP_MARGIN)
#define T_STOP		(500 * NS_PER_MS + CHIP_MARGIN)
#define T_REINIT	(30 * NS_PER_MS + CHIP_MARGIN)
#define T_SELF_TEST	(10 * NS_PER_S + CHIP_MARGIN)
#define T_POLL		NS_PER_S	/* data-ready cadence once a sample is due */
#define P_MIN_INTERVAL	(60 * NS_PER_S)	/* pressure compensation at most this often */
#define P_MIN_CHANGE	100.0		/* Pa */

enum step {
	S_STOPPING,	/* stop sent; the chip is deaf for 500 ms */
	S_REINIT,	/* reinit sent; 30 ms */
	S_SERIAL,	/* serial requested; read after 1 ms */
	S_VARIANT,	/* variant requested */
	S_SETTINGS,	/* writing RAM settings, one per millisecond */
	S_MEASURING,	/* periodic measurement running, nothing pending */
	S_READY,	/* data-ready requested */
	S_READ,		/* read_measurement requested */
};

struct scd4x {
	struct scd4x_conf conf;
	struct i2c_bus *bus;
	enum step step;
	bool reinit_tried;
	int setting;		/* next RAM setting to write */
	bool identified;	/* identity logged once */
	uint64_t serial;
	uint16_t variant;
	bool has_variant;
	int64_t period;		/* sample period of the chosen mode */
	int64_t last_data;	/* last sample, or measurement start */
	int64_t due;		/* earliest time worth asking data-ready */
	int64_t t_asked;	/* when the pending data-ready question was sent */
	int64_t t_ready;	/* when the question that saw the sample pending was */
	bool p_sent;		/* a pressure was written since the last start */
	double p_last;		/* Pa, last written */
	int64_t p_time;
	bool started_once;	/* a sample arrived since the last start */
};

void
scd4x_convert(const uint16_t w[3], uint32_t *co2, double *t, double *rh)
{
	*co2 = w[0];
	*t = -45.0 + 175.0 * (double)w[1] / 65535.0;
	*rh = 100.0 * (double)w[2] / 65535.0;
}

uint16_t
scd4x_offset_word(double offset_c)
{
	double w = round(offset_c * 65535.0 / 175.0);

	if (w < 0)
		return 0;
	return w > 65535 ? 65535 : (uint16_t)w;
}

uint16_t
scd4x_pressure_word(double pa)
{
	double w = round(pa / 100.0);

	if (!(w >= 700))
		return 700;
	return w > 1200 ? 1200 : (uint16_t)w;
}

static const char *
variant_name(const struct scd4x *c)
{
	if (!c->has_variant)
		return "SCD4x";
	switch (c->variant >> 12) {
	case 0: return "SCD40";
	case 1: return "SCD41";
	case 2: return "SCD42";
	case 5: return "SCD43";
	default: return "SCD4x (unknown variant)";
	}
}

static void
scd_init(void *st, const void *conf, struct i2c_bus *bus, const char *state_dir)
{
	struct scd4x *c = st;

	(void)state_dir;
	c->conf = *(const struct scd4x_conf *)conf;
	c->bus = bus;
	c->period = c->conf.mode == SCD4X_LOW_POWER ? 30 * NS_PER_S : 5 * NS_PER_S;
}

/* Stop first: a chip left measuring by an earlier run NACKs everything else. */
static int
scd_start(void *st, int64_t now, int64_t *ret_next)
{
	struct scd4x *c = st;
	int r;

	r = chip_send(c->bus, SCD4X_ADDR, CMD_STOP_PERIODIC, NULL, 0);
	if (r < 0)
		return r;
	c->step = S_STOPPING;
	c->reinit_tried = false;
	c->p_sent = false;
	c->started_once = false;
	*ret_next = now + T_STOP;
	return 0;
}

static void
send_or_fail(struct scd4x *c, struct chip_out *out, int64_t now, uint16_t cmd,
    const uint16_t *args, size_t nargs, const char *what, enum step next_step,
    int64_t wait)
{
	int r = chip_send(c->bus, SCD4X_ADDR, cmd, args, nargs);

	if (r < 0) {
		chip_fail(out, r, what);
		return;
	}
	c->step = next_step;
	out->next = now + wait;
}

/* The serial read failed once: reinit (idle only) reloads a sane state. */
static void
serial_failed(struct scd4x *c, struct chip_out *out, int64_t now, int r)
{
	if (c->reinit_tried) {
		chip_fail(out, r, "get_serial_number");
		return;
	}
	c->reinit_tried = true;
	send_or_fail(c, out, now, CMD_REINIT, NULL, 0, "reinit", S_REINIT, T_REINIT);
}

static void
got_serial(struct scd4x *c, struct chip_out *out, int64_t now)
{
	uint16_t w[3];
	int r = chip_read_words(c->bus, SCD4X_ADDR, w, 3);

	if (r < 0) {
		serial_failed(c, out, now, r);
		return;
	}
	c->serial = (uint64_t)w[0] << 32 | (uint64_t)w[1] << 16 | w[2];
	send_or_fail(c, out, now, CMD_VARIANT, NULL, 0, "get_sensor_variant",
	    S_VARIANT, T_CMD);
}

/* Older firmware may not know get_sensor_variant: a NACK only means unknown. */
static void
got_variant(struct scd4x *c, struct chip_out *out, int64_t now)
{
	uint16_t w;
	int r = chip_read_words(c->bus, SCD4X_ADDR, &w, 1);

	if (r == -EBADMSG) {
		chip_fail(out, r, "get_sensor_variant");
		return;
	}
	c->has_variant = r == 0;
	c->variant = r == 0 ? w : 0;
	c->setting = 0;
	c->step = S_SETTINGS;
	out->next = now;
}

static void
log_identity(struct scd4x *c)
{
	if (c->identified)
		return;
	c->identified = true;
	log_info("scd4x at 0x%02x: %s serial 0x%012" PRIX64 ", %s mode, temperature "
	    "offset %.2f C, altitude %" PRId64 " m, ASC %s", SCD4X_ADDR,
	    variant_name(c), c->serial,
	    c->conf.mode == SCD4X_LOW_POWER ? "low-power periodic" : "periodic",
	    c->conf.temp_offset, c->conf.altitude, c->conf.asc ? "on" : "off");
}

static void
write_setting(struct scd4x *c, struct chip_out *out, int64_t now)
{
	uint16_t arg;

	switch (c->setting++) {
	case 0:
		arg = scd4x_offset_word(c->conf.temp_offset);
		send_or_fail(c, out, now, CMD_SET_T_OFFSET, &arg, 1,
		    "set_temperature_offset", S_SETTINGS, T_CMD);
		return;
	case 1:
		arg = (uint16_t)c->conf.altitude;
		send_or_fail(c, out, now, CMD_SET_ALTITUDE, &arg, 1,
		    "set_sensor_altitude", S_SETTINGS, T_CMD);
		return;
	case 2:
		arg = c->conf.asc ? 1 : 0;
		send_or_fail(c, out, now, CMD_SET_ASC, &arg, 1,
		    "set_automatic_self_calibration_enabled", S_SETTINGS, T_CMD);
		return;
	default:
		if (c->conf.mode == SCD4X_LOW_POWER)
			send_or_fail(c, out, now, CMD_START_LOW_POWER, NULL, 0,
			    "start_low_power_periodic_measurement", S_MEASURING,
			    T_CMD);
		else
			send_or_fail(c, out, now, CMD_START_PERIODIC, NULL, 0,
			    "start_periodic_measurement", S_MEASURING, T_CMD);
		if (!out->err) {
			/* 1 ms later: room for the pressure before the first sample */
			c->last_data = now;
			c->due = now + c->period;
			log_identity(c);
		}
		return;
	}
}

static bool
pressure_due(const struct scd4x *c, const struct chip_env *env, int64_t now)
{
	if (!env || !env->has_p)
		return false;
	if (!c->p_sent)
		return true;
	return fabs(env->p - c->p_last) >= P_MIN_CHANGE && now - c->p_time >= P_MIN_INTERVAL;
}

/* Measuring: compensation first (1 ms), then the data-ready question. */
static void
measuring(struct scd4x *c, struct chip_out *out, int64_t now, const struct chip_env *env)
{
	if (pressure_due(c, env, now)) {
		uint16_t arg = scd4x_pressure_word(env->p);
		int r = chip_send(c->bus, SCD4X_ADDR, CMD_AMBIENT_PRESSURE, &arg, 1);
		if (r < 0) {
			chip_fail(out, r, "set_ambient_pressure");
			return;
		}
		log_debug("scd4x: ambient pressure %u hPa", arg);
		c->p_sent = true;
		c->p_last = env->p;
		c->p_time = now;
		c->step = S_MEASURING;
		out->next = now + T_CMD;
		out->late = CHIP_LATE;	/* nothing to read: the next tick will do */
		return;
	}
	if (now < c->due - CHIP_EARLY) {
		out->next = c->due;
		out->early = CHIP_EARLY;
		return;
	}
	send_or_fail(c, out, now, CMD_DATA_READY, NULL, 0, "get_data_ready_status",
	    S_READY, T_CMD);
	c->t_asked = now;
	out->late = CHIP_LATE;	/* the answer waits: read it on the next tick */
}

static void
got_ready(struct scd4x *c, struct chip_out *out, int64_t now)
{
	uint16_t w;
	int r = chip_read_words(c->bus, SCD4X_ADDR, &w, 1);

	if (r < 0) {
		chip_fail(out, r, "get_data_ready_status");
		return;
	}
	if (w & 0x07FF) {
		send_or_fail(c, out, now, CMD_READ_MEASUREMENT, NULL, 0,
		    "read_measurement", S_READ, T_CMD);
		c->t_ready = c->t_asked;
		out->late = CHIP_LATE;
		return;
	}
	/* A chip that silently left periodic mode never sets data-ready. */
	if (now - c->last_data > 3 * c->period + T_POLL) {
		out->err = -ETIMEDOUT;
		out->fault = true;
		snprintf(out->what, sizeof(out->what), "no data for %" PRId64 " s",
		    (int64_t)((now - c->last_data) / NS_PER_S));
		return;
	}
	/* Asked a poll interval after the last question, with the other
	 * chips' tick (usually this one: the answer was read on it). */
	c->step = S_MEASURING;
	out->next = c->t_asked + T_POLL;
	out->early = CHIP_EARLY;
}

static void
got_measurement(struct scd4x *c, struct chip_out *out, int64_t now)
{
	uint16_t w[3];
	int r = chip_read_words(c->bus, SCD4X_ADDR, w, 3);

	if (r < 0) {
		chip_fail(out, r, "read_measurement");
		return;
	}
	c->last_data = now;
	c->step = S_MEASURING;
	/* The next sample is one period after this one, which was there when
	 * the data-ready question was sent and at most T_POLL before; so ask
	 * again a poll interval early, counted from that question. */
	c->due = c->t_ready + c->period - T_POLL;
	out->next = c->due;
	out->early = CHIP_EARLY;
	out->taken = c->t_ready;
	scd4x_convert(w, &out->u.scd4x.co2, &out->u.scd4x.t, &out->u.scd4x.rh);
	out->sample = true;
	c->started_once = true;
	/* 0 ppm with valid T/RH is a known failure (VDDH unpowered, a failing
	 * sensor), not air: the CO2 is null with its reason, T/RH are kept. */
	out->u.scd4x.has_co2 = w[0] != 0;
	if (w[0] == 0) {
		out->u.scd4x.has_co2_error = true;
		snprintf(out->u.scd4x.co2_error, sizeof(out->u.scd4x.co2_error),
		    "0 ppm is not a valid reading (VDDH unpowered or sensor failing)");
		out->fault = true;
		snprintf(out->what, sizeof(out->what), "invalid co2 (0 ppm); t and rh kept");
	}
}

static void
scd_poll(void *st, int64_t now, const struct chip_env *env, struct chip_out *out)
{
	struct scd4x *c = st;

	switch (c->step) {
	case S_STOPPING:
	case S_REINIT:
		send_or_fail(c, out, now, CMD_SERIAL, NULL, 0, "get_serial_number",
		    S_SERIAL, T_CMD);
		if (out->err && !c->reinit_tried) {
			int r = out->err;
			memset(out, 0, sizeof(*out));
			serial_failed(c, out, now, r);
		}
		return;
	case S_SERIAL:
		got_serial(c, out, now);
		return;
	case S_VARIANT:
		got_variant(c, out, now);
		return;
	case S_SETTINGS:
		write_setting(c, out, now);
		return;
	case S_MEASURING:
		measuring(c, out, now, env);
		return;
	case S_READY:
		got_ready(c, out, now);
		return;
	case S_READ:
		got_measurement(c, out, now);
		return;
	}
}

static bool
scd_stop(void *st, int64_t now, int64_t *ret_next)
{
	struct scd4x *c = st;

	(void)now;
	(void)ret_next;
	if (c->step >= S_MEASURING)
		(void)chip_send(c->bus, SCD4X_ADDR, CMD_STOP_PERIODIC, NULL, 0);
	return false;
}

static const char *
scd_state(const void *st)
{
	const struct scd4x *c = st;

	return c->started_once ? "ok" : "starting";
}

/* One blocking command with the documented wait, then its answer. */
static int
probe_cmd(struct scd4x *c, uint16_t cmd, int64_t wait, uint16_t *w, size_t n)
{
	int r = chip_send(c->bus, SCD4X_ADDR, cmd, NULL, 0);

	if (r < 0)
		return r;
	chip_sleep_ns(wait);
	return n ? chip_read_words(c->bus, SCD4X_ADDR, w, n) : 0;
}

static int
probe_measure(struct scd4x *c, char *info, size_t len, size_t off)
{
	uint16_t w[3], ready = 0;
	uint32_t co2;
	double t, rh;
	int r;

	r = probe_cmd(c, CMD_START_PERIODIC, 5 * NS_PER_S, NULL, 0);
	for (int i = 0; r == 0 && i < 10 && !(ready & 0x07FF); i++) {
		r = probe_cmd(c, CMD_DATA_READY, T_CMD, &ready, 1);
		if (r == 0 && !(ready & 0x07FF))
			chip_sleep_ns(T_POLL);
	}
	if (r == 0 && !(ready & 0x07FF))
		r = -ETIMEDOUT;
	if (r == 0)
		r = probe_cmd(c, CMD_READ_MEASUREMENT, T_CMD, w, 3);
	(void)chip_send(c->bus, SCD4X_ADDR, CMD_STOP_PERIODIC, NULL, 0);
	if (r < 0) {
		snprintf(info + off, len - off, ", measurement: %s", chip_errname(r));
		return r;
	}
	scd4x_convert(w, &co2, &t, &rh);
	snprintf(info + off, len - off, ", %" PRIu32 " ppm %.2f C %.2f %%RH%s", co2, t,
	    rh, co2 == 0 ? " (0 ppm: invalid)" : "");
	return co2 == 0 ? -EBADMSG : 0;
}

static int
scd_probe(void *st, char *info, size_t len)
{
	struct scd4x *c = st;
	uint16_t w[3], test;
	size_t off;
	int r;

	r = chip_send(c->bus, SCD4X_ADDR, CMD_STOP_PERIODIC, NULL, 0);
	if (r < 0) {
		snprintf(info, len, "no answer (%s)", chip_errname(r));
		return r;
	}
	chip_sleep_ns(T_STOP);
	r = probe_cmd(c, CMD_SERIAL, T_CMD, w, 3);
	if (r < 0) {
		snprintf(info, len, "serial number: %s", chip_errname(r));
		return r;
	}
	c->serial = (uint64_t)w[0] << 32 | (uint64_t)w[1] << 16 | w[2];
	c->has_variant = probe_cmd(c, CMD_VARIANT, T_CMD, &c->variant, 1) == 0;
	r = probe_cmd(c, CMD_SELF_TEST, T_SELF_TEST, &test, 1);
	off = (size_t)snprintf(info, len, "%s serial 0x%012" PRIX64 ", self-test %s",
	    variant_name(c), c->serial, r < 0 ? chip_errname(r) : test ? "FAILED" : "ok");
	if (off >= len)
		off = len - 1;
	if (r == 0 && test != 0) {
		snprintf(info + off, len - off, " (0x%04x)", test);
		return -EIO;
	}
	if (r < 0)
		return r;
	return probe_measure(c, info, len, off);
}

const struct chip_ops scd4x_driver = {
	.name = "scd4x",
	.addr = SCD4X_ADDR,
	.state_size = sizeof(struct scd4x),
	.init = scd_init,
	.start = scd_start,
	.poll = scd_poll,
	.stop = scd_stop,
	.probe = scd_probe,
	.state = scd_state,
};
