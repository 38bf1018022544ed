/* SPDX-License-Identifier: Apache-2.0 */
/*
 * icp10125: driver for the TDK InvenSense ICP-10125 barometer (0x63) as a
 * non-blocking state machine. Start-up is a soft reset, then (all zero-wait
 * transfers, done in one turn) the ID check and the four OTP calibration
 * words, which are signed: reading them unsigned is off by hundreds of Pa on
 * parts with negative constants. The chip measures only on command; the
 * driver triggers one T-first conversion per second on a fixed grid, reads
 * it at the next slot, just before the next conversion (the result waits
 * in the chip; never sooner than the mode's maximum conversion time), and
 * converts with the datasheet's three-point fit in double precision.
 */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "clock.h"
#include "chip.h"
#include "log.h"

#define ICP_ADDR 0x63

#define CMD_SOFT_RESET	0x805D
#define CMD_READ_ID	0xEFC8
#define CMD_OTP_POINTER	0xC595
#define CMD_OTP_READ	0xC7F7
#define OTP_ADDRESS	0x0066

#define T_RESET		(NS_PER_MS / 5 + CHIP_MARGIN)	/* 170 µs specified; kernel uses 200 µs */
#define PERIOD		NS_PER_S

enum step {
	S_RESET,	/* soft reset sent */
	S_IDLE,		/* waiting for the next slot */
	S_MEASURE,	/* conversion running */
};

/* T-first command and maximum conversion time per mode (CHIP_MARGIN on top). */
static const struct {
	uint16_t cmd;
	int64_t wait;
	const char *name;
} modes[] = {
	[ICP_LP] = { 0x609C, 1800 * 1000, "low power" },
	[ICP_N] = { 0x6825, 6300 * 1000, "normal" },
	[ICP_LN] = { 0x70DF, 23800 * 1000, "low noise" },
	[ICP_ULN] = { 0x7866, 94500 * 1000, "ultra low noise" },
};

struct icp {
	struct icp10125_conf conf;
	struct i2c_bus *bus;
	enum step step;
	bool identified;
	bool measured;
	uint16_t id;
	int16_t otp[4];
	int64_t slot;
	int64_t t_cmd;		/* when the conversion in flight was started */
};

void
icp10125_convert(const int16_t otp[4], uint16_t t_dout, uint32_t p_dout, double *p,
    double *t)
{
	const double p0 = 45000.0, p1 = 80000.0, p2 = 105000.0;
	const double lut_lower = 3.5 * 1048576.0, lut_upper = 11.5 * 1048576.0;
	const double quadr = 1.0 / 16777216.0, offst = 2048.0;
	double tt = (double)t_dout - 32768.0, t2 = tt * tt;
	double s1, s2, s3, a, b, cc;

	s1 = lut_lower + otp[0] * t2 * quadr;
	s2 = offst * otp[3] + otp[1] * t2 * quadr;
	s3 = lut_upper + otp[2] * t2 * quadr;
	cc = (s1 * s2 * (p0 - p1) + s2 * s3 * (p1 - p2) + s3 * s1 * (p2 - p0)) /
	    (s3 * (p0 - p1) + s1 * (p1 - p2) + s2 * (p2 - p0));
	a = (p0 * s1 - p1 * s2 - (p1 - p0) * cc) / (s1 - s2);
	b = (p0 - a) * (s1 + cc);
	*p = a + b / (cc + (double)p_dout);
	*t = -45.0 + 175.0 * (double)t_dout / 65536.0;
}

static int
mode_of(const struct icp *c)
{
	return c->conf.mode >= ICP_LP && c->conf.mode <= ICP_ULN ? c->conf.mode : ICP_N;
}

static void
icp_init(void *st, const void *conf, struct i2c_bus *bus, const char *state_dir)
{
	struct icp *c = st;

	(void)state_dir;
	c->conf = *(const struct icp10125_conf *)conf;
	c->bus = bus;
}

static int
icp_start(void *st, int64_t now, int64_t *ret_next)
{
	struct icp *c = st;
	int r;

	r = chip_send(c->bus, ICP_ADDR, CMD_SOFT_RESET, NULL, 0);
	if (r < 0)
		return r;
	c->step = S_RESET;
	c->measured = false;
	*ret_next = now + T_RESET;
	return 0;
}

/* ID, then the OTP pointer and four words: no waits, so all in one go. */
static int
read_identity(struct icp *c, const char **ret_what)
{
	uint16_t id, w, arg = OTP_ADDRESS;
	int r;

	*ret_what = "read_id";
	r = chip_send_read(c->bus, ICP_ADDR, CMD_READ_ID, &id, 1);
	if (r < 0)
		return r;
	c->id = id;
	if ((id & 0x3F) != 0x08)
		return -ENODEV;
	*ret_what = "set_otp_pointer";
	r = chip_send(c->bus, ICP_ADDR, CMD_OTP_POINTER, &arg, 1);
	if (r < 0)
		return r;
	*ret_what = "read_otp";
	for (int i = 0; i < 4; i++) {
		r = chip_send_read(c->bus, ICP_ADDR, CMD_OTP_READ, &w, 1);
		if (r < 0)
			return r;
		c->otp[i] = (int16_t)w;
	}
	return 0;
}

static void
identify(struct icp *c, struct chip_out *out, int64_t now)
{
	const char *what;
	int r = read_identity(c, &what);

	if (r == -ENODEV) {
		out->err = r;
		out->fault = true;
		snprintf(out->what, sizeof(out->what), "unexpected id 0x%04x", c->id);
		return;
	}
	if (r < 0) {
		chip_fail(out, r, what);
		return;
	}
	if (!c->identified) {
		c->identified = true;
		log_info("icp10125 at 0x%02x: id 0x%04x, OTP read OK (%d, %d, %d, %d), "
		    "%s mode, 1 Hz", ICP_ADDR, c->id, c->otp[0], c->otp[1], c->otp[2],
		    c->otp[3], modes[mode_of(c)].name);
	}
	c->step = S_IDLE;
	c->slot = chip_grid_resume(c->slot, now, PERIOD);
	out->next = c->slot;
}

static void
measure(struct icp *c, struct chip_out *out, int64_t now)
{
	int m = mode_of(c);
	int r = chip_send(c->bus, ICP_ADDR, modes[m].cmd, NULL, 0);
	int64_t done;

	/* Served early, on another chip's (the SGP30's) wake-up: that tick
	 * becomes this grid, so the two go on sharing it at 1 s intervals. */
	if (now < c->slot)
		c->slot = now;
	c->slot += PERIOD;
	if (c->slot <= now)
		c->slot += (now - c->slot) / PERIOD * PERIOD + PERIOD;
	if (r < 0) {
		chip_fail(out, r, "measure");
		return;
	}
	c->step = S_MEASURE;
	c->t_cmd = now;
	/* Read at the next slot, where the next conversion starts, and served
	 * early with the other chips' tick as a slot is, but never before
	 * the conversion is done. Not at any wake-up after that: a read
	 * between two ticks would leave the next tick's record without one. */
	done = now + modes[m].wait + CHIP_MARGIN;
	out->next = c->slot > done ? c->slot : done;
	out->early = out->next - done < CHIP_EARLY ? out->next - done : CHIP_EARLY;
}

/* T-first layout: T | P_MMSB P_MLSB | P_LMSB P_LLSB; P_LLSB is not data. */
static void
got_measurement(struct icp *c, struct chip_out *out)
{
	uint16_t w[3];
	uint32_t p_dout;
	int r = chip_read_words(c->bus, ICP_ADDR, w, 3);

	c->step = S_IDLE;
	out->next = c->slot;
	out->early = CHIP_EARLY;	/* the 1 s grid, shared with the other chips */
	if (r < 0) {
		chip_fail(out, r, "measure");
		return;
	}
	p_dout = (uint32_t)w[1] << 8 | w[2] >> 8;
	icp10125_convert(c->otp, w[0], p_dout, &out->u.icp10125.p, &out->u.icp10125.t);
	if (!isfinite(out->u.icp10125.p)) {
		out->err = -ERANGE;
		out->fault = true;
		snprintf(out->what, sizeof(out->what), "pressure not computable");
		return;
	}
	out->sample = true;
	out->taken = c->t_cmd;
	c->measured = true;
}

static void
icp_poll(void *st, int64_t now, const struct chip_env *env, struct chip_out *out)
{
	struct icp *c = st;

	(void)env;
	switch (c->step) {
	case S_RESET:
		identify(c, out, now);
		return;
	case S_IDLE:
		if (now < c->slot - CHIP_EARLY) {
			out->next = c->slot;
			out->early = CHIP_EARLY;
			return;
		}
		measure(c, out, now);
		return;
	case S_MEASURE:
		got_measurement(c, out);
		return;
	}
}

static bool
icp_stop(void *st, int64_t now, int64_t *ret_next)
{
	/* Idle between commands already: nothing to switch off. */
	(void)st;
	(void)now;
	(void)ret_next;
	return false;
}

static const char *
icp_state(const void *st)
{
	const struct icp *c = st;

	return c->measured ? "ok" : "starting";
}

static int
icp_probe(void *st, char *info, size_t len)
{
	struct icp *c = st;
	const char *what;
	struct chip_out out = { 0 };
	int r;

	r = chip_send(c->bus, ICP_ADDR, CMD_SOFT_RESET, NULL, 0);
	if (r < 0) {
		snprintf(info, len, "no answer (%s)", chip_errname(r));
		return r;
	}
	chip_sleep_ns(T_RESET);
	r = read_identity(c, &what);
	if (r == -ENODEV) {
		snprintf(info, len, "unexpected id 0x%04x", c->id);
		return r;
	}
	if (r < 0) {
		snprintf(info, len, "%s: %s", what, chip_errname(r));
		return r;
	}
	r = chip_send(c->bus, ICP_ADDR, modes[mode_of(c)].cmd, NULL, 0);
	if (r == 0) {
		chip_sleep_ns(modes[mode_of(c)].wait + CHIP_MARGIN);
		got_measurement(c, &out);
		r = out.err;
	}
	if (r < 0) {
		snprintf(info, len, "id 0x%04x, OTP read OK, measurement: %s", c->id,
		    out.fault ? out.what : chip_errname(r));
		return r;
	}
	snprintf(info, len, "id 0x%04x, OTP read OK (%d, %d, %d, %d), %.2f Pa %.2f C",
	    c->id, c->otp[0], c->otp[1], c->otp[2], c->otp[3], out.u.icp10125.p,
	    out.u.icp10125.t);
	return 0;
}

const struct chip_ops icp10125_driver = {
	.name = "icp10125",
	.addr = ICP_ADDR,
	.state_size = sizeof(struct icp),
	.init = icp_init,
	.start = icp_start,
	.poll = icp_poll,
	.stop = icp_stop,
	.probe = icp_probe,
	.state = icp_state,
};
