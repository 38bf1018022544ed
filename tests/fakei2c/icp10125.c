/* SPDX-License-Identifier: Apache-2.0 */
/*
 * icp10125: byte-level model of the TDK InvenSense ICP-10125 at 0x63, after
 * docs/chips.md §4.2–4.5. Soft reset, read ID, OTP pointer + auto-
 * incrementing OTP reads (signed constants c0..c3), and the eight measure
 * commands (four modes, T-first or P-first) during whose conversion the
 * chip ignores the bus. A target pressure/temperature is turned into raw
 * ADC values with the inverse of the exact conversion (docs/chips.md §4.4), so
 * a driver that converts correctly gets the target back within a few mPa.
 *
 * Values: "p" Pa and "t" °C, or "raw_p" (24-bit p_dout) and "raw_t"
 * (16-bit t_dout); "otp": [c0, c1, c2, c3] (signed, or 0..65535 words).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "chip.h"

enum { S_P, S_T, S_RAWP, S_RAWT };

struct icp10125 {
	int16_t otp[4];
	uint16_t id;
	uint8_t llsb;
	bool typ_timing;	/* conversion times: typical instead of maximum */
	unsigned otp_ptr;
	uint16_t last_mode;	/* last measure command, for stats */
};

static const struct chip_field fields[] = {
	{ "p", 1, S_P, 1000, 200000 },
	{ "t", 1, S_T, -60, 120 },
	{ "raw_p", 1, S_RAWP, 0, 16777215 },
	{ "raw_t", 1, S_RAWT, 0, 65535 },
};

static const char *const keys[] = { "otp", "id", "llsb", "timing", NULL };

static struct icp10125 *
priv(const struct chip *c)
{
	return c->priv;
}

/* A, B, C for a temperature reading (docs/chips.md §4.4, in double). */
static void
icp_abc(const int16_t c[4], uint16_t t_dout, double *a, double *b, double *cc)
{
	const double p0 = 45000, p1 = 80000, p2 = 105000;
	double t = (double)t_dout - 32768.0, t2 = t * t / 16777216.0;
	double s1 = 3670016.0 + c[0] * t2;
	double s2 = 2048.0 * c[3] + c[1] * t2;
	double s3 = 12058624.0 + c[2] * t2;

	*cc = (s1 * s2 * (p0 - p1) + s2 * s3 * (p1 - p2) + s3 * s1 * (p2 - p0)) /
	    (s3 * (p0 - p1) + s1 * (p1 - p2) + s2 * (p2 - p0));
	*a = (p0 * s1 - p1 * s2 - (p1 - p0) * *cc) / (s1 - s2);
	*b = (p0 - *a) * (s1 + *cc);
}

double
fake_icp_pressure(const int16_t c[4], uint16_t t_dout, uint32_t p_dout)
{
	double a, b, cc;

	icp_abc(c, t_dout, &a, &b, &cc);
	return a + b / (cc + (double)p_dout);
}

double
fake_icp_temperature(uint16_t t_dout)
{
	return -45.0 + 175.0 * t_dout / 65536.0;
}

void
fake_icp_inverse(const int16_t c[4], double p, double t, uint32_t *ret_p, uint16_t *ret_t)
{
	double a, b, cc;
	uint16_t t_dout = (uint16_t)fchip_round_clamp((t + 45.0) * 65536.0 / 175.0, 0, 65535);

	/* Invert at the quantised temperature the driver will see. */
	icp_abc(c, t_dout, &a, &b, &cc);
	*ret_t = t_dout;
	*ret_p = (uint32_t)fchip_round_clamp(b / (p - a) - cc, 0, 16777215);
}

static void
icp_init(struct chip *c)
{
	struct icp10125 *s = priv(c);
	static const int16_t sample[4] = { 1000, 2000, 3000, 4000 };

	memcpy(s->otp, sample, sizeof(sample));
	s->id = 0x0148;
}

static void
icp_power_on(struct chip *c, int64_t now, bool first)
{
	struct icp10125 *s = priv(c);

	s->otp_ptr = 0;
	if (!first)
		fchip_busy(c, now, US(170));
}

struct icp_mode {
	uint16_t code;
	bool t_first;
	int32_t typ_us, max_us;
};

static const struct icp_mode modes[] = {
	{ 0x609C, true, 1600, 1800 }, { 0x401A, false, 1600, 1800 },	/* LP */
	{ 0x6825, true, 5600, 6300 }, { 0x48A3, false, 5600, 6300 },	/* N */
	{ 0x70DF, true, 20800, 23800 }, { 0x5059, false, 20800, 23800 },	/* LN */
	{ 0x7866, true, 83200, 94500 }, { 0x58E0, false, 83200, 94500 },	/* ULN */
};

static void
measure(struct chip *c, const struct icp_mode *m, int64_t now)
{
	struct icp10125 *s = priv(c);
	uint32_t p_dout;
	uint16_t t_dout, w[3], tw[1], pw[2];
	double p, t, v;

	if (!fchip_value(c, S_P, now, &p))
		p = 101325.0;
	if (!fchip_value(c, S_T, now, &t))
		t = 25.0;
	fake_icp_inverse(s->otp, p, t, &p_dout, &t_dout);
	if (fchip_value(c, S_RAWT, now, &v)) {
		t_dout = (uint16_t)fchip_round_clamp(v, 0, 65535);
		if (!fchip_value(c, S_RAWP, now, &v))
			fake_icp_inverse(s->otp, p, fake_icp_temperature(t_dout), &p_dout, &t_dout);
	}
	if (fchip_value(c, S_RAWP, now, &v))
		p_dout = (uint32_t)fchip_round_clamp(v, 0, 16777215);
	tw[0] = t_dout;
	pw[0] = (uint16_t)(p_dout >> 8);		/* P_MMSB P_MLSB */
	pw[1] = (uint16_t)((p_dout & 0xFF) << 8 | s->llsb);	/* P_LMSB P_LLSB */
	if (m->t_first) {
		w[0] = tw[0], w[1] = pw[0], w[2] = pw[1];
	} else {
		w[0] = pw[0], w[1] = pw[1], w[2] = tw[0];
	}
	fchip_respond(c, m->code, w, 3);
	fchip_busy(c, now, (s->typ_timing ? m->typ_us : m->max_us) * 1000LL);
	s->last_mode = m->code;
}

static int
icp_command(struct chip *c, const uint8_t *buf, size_t len, int64_t now)
{
	struct icp10125 *s = priv(c);
	uint16_t code, a[1], w[1];

	if (len < 2)
		return 0;
	code = (uint16_t)(buf[0] << 8 | buf[1]);
	if (code == 0xC595) {
		if (len == 2)
			return 0;
		/* Only the documented pointer value with a good CRC is taken. */
		if (fchip_args(buf, len, 1, a) < 0 || a[0] != 0x0066)
			return -EREMOTEIO;
		c->resp_valid = false;
		fchip_accept(c, code, a, 1);
		s->otp_ptr = 0;
		return 0;
	}
	if (len != 2)
		return -EREMOTEIO;
	for (size_t i = 0; i < sizeof(modes) / sizeof(modes[0]); i++) {
		if (modes[i].code == code) {
			fchip_accept(c, code, NULL, 0);
			measure(c, &modes[i], now);
			return 0;
		}
	}
	switch (code) {
	case 0x805D:
		c->resp_valid = false;
		fchip_accept(c, code, NULL, 0);
		s->otp_ptr = 0;
		fchip_busy(c, now, US(170));
		return 0;
	case 0xEFC8:
		fchip_accept(c, code, NULL, 0);
		w[0] = s->id;
		fchip_respond(c, code, w, 1);
		return 0;
	case 0xC7F7:
		fchip_accept(c, code, NULL, 0);
		/* Past the four constants the model reads erased OTP. */
		w[0] = s->otp_ptr < 4 ? (uint16_t)s->otp[s->otp_ptr] : 0xFFFF;
		s->otp_ptr++;
		fchip_respond(c, code, w, 1);
		return 0;
	}
	return -EREMOTEIO;
}

static int
icp_configure(struct chip *c, json_t *obj, bool at_start, int64_t now, char *err,
    size_t errlen)
{
	struct icp10125 *s = priv(c);
	json_t *v;
	int64_t i;

	(void)at_start;
	(void)now;
	if ((v = json_object_get(obj, "otp")) != NULL) {
		int16_t otp[4];
		if (!json_is_array(v) || json_array_size(v) != 4)
			goto bad_otp;
		for (size_t k = 0; k < 4; k++) {
			if (fchip_json_int(json_array_get(v, k), -32768, 65535, &i) < 0)
				goto bad_otp;
			otp[k] = (int16_t)(uint16_t)(i & 0xFFFF);
		}
		memcpy(s->otp, otp, sizeof(otp));
	}
	if ((v = json_object_get(obj, "id")) != NULL) {
		if (fchip_json_int(v, 0, 65535, &i) < 0) {
			snprintf(err, errlen, "icp10125.id: want a word");
			return -EINVAL;
		}
		s->id = (uint16_t)i;
	}
	if ((v = json_object_get(obj, "llsb")) != NULL) {
		if (fchip_json_int(v, 0, 255, &i) < 0) {
			snprintf(err, errlen, "icp10125.llsb: want a byte");
			return -EINVAL;
		}
		s->llsb = (uint8_t)i;
	}
	if ((v = json_object_get(obj, "timing")) != NULL) {
		const char *n = json_string_value(v);
		if (n == NULL || (strcmp(n, "max") != 0 && strcmp(n, "typ") != 0)) {
			snprintf(err, errlen, "icp10125.timing: want \"max\" or \"typ\"");
			return -EINVAL;
		}
		s->typ_timing = strcmp(n, "typ") == 0;
	}
	return 0;
bad_otp:
	snprintf(err, errlen, "icp10125.otp: want 4 integers in [-32768, 65535]");
	return -EINVAL;
}

static void
icp_stats(const struct chip *c, json_t *o, int64_t now)
{
	const struct icp10125 *s = priv(c);
	char mode[8];

	(void)now;
	snprintf(mode, sizeof(mode), "0x%04x", s->last_mode);
	json_object_set_new(o, "last_measure", json_string(mode));
	json_object_set_new(o, "otp_ptr", json_integer(s->otp_ptr));
}

const struct chip_ops fake_icp10125_ops = {
	.name = "icp10125",
	.addr = 0x63,
	.fields = fields,
	.nfields = sizeof(fields) / sizeof(fields[0]),
	.keys = keys,
	.priv_size = sizeof(struct icp10125),
	.init = icp_init,
	.configure = icp_configure,
	.power_on = icp_power_on,
	.command = icp_command,
	.stats = icp_stats,
};
