/* SPDX-License-Identifier: Apache-2.0 */
/*
 * sgp30: byte-level model of the Sensirion SGP30 at 0x58, after
 * docs/chips.md §3.2–3.7. Powers up asleep; iaq_init starts the IAQ
 * algorithm, whose first 15 s of measure_iaq answers are the fixed 400 ppm /
 * 0 ppb; the IAQ baseline reads (0, 0) until "baseline_after" (60 min) after
 * iaq_init unless one was restored with set_iaq_baseline (TVOC word first,
 * read back CO2eq first). Every command makes the chip deaf for its maximum
 * execution time; responses are read once; the general-call reset returns
 * it to the power-up state.
 *
 * Values: "eco2" ppm and "tvoc" ppb (clamped to the chip's output ranges),
 * or "raw": [co2eq, tvoc] words sent as they are after the warm-up (for
 * saturation and junk tests), and "signals": [h2, ethanol] for measure_raw.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "chip.h"

enum { S_ECO2, S_TVOC, S_RAW0, S_RAW1, S_H2, S_ETH };

struct sgp30 {
	/* scenario */
	uint64_t serial;
	uint16_t feature_set;
	uint16_t algo_baseline[2];	/* co2eq, tvoc the algorithm settles on */
	int64_t baseline_after;		/* ns after iaq_init */
	uint16_t inceptive;		/* TVOC inceptive baseline */
	uint16_t test_result;
	/* chip */
	bool iaq;			/* algorithm running (after iaq_init) */
	int64_t init_at;
	bool restored;			/* a baseline was set since iaq_init */
	uint16_t baseline[2];		/* co2eq, tvoc */
	uint16_t ah;			/* 8.8 g/m³, 0 = compensation off */
	uint64_t before_init;		/* measure_iaq without iaq_init (flagged) */
	uint64_t warmup_answers;	/* measure_iaq answered 400/0 for warm-up */
	/* Cadence of measure_iaq (the algorithm wants exactly 1 Hz). */
	int64_t iaq_last;		/* 0: none yet */
	uint64_t iaq_n;
	int64_t iaq_sum, iaq_min, iaq_max, iaq_maxdev;
	uint64_t iaq_over50;		/* intervals more than 50 ms off 1 s */
};

static const struct chip_field fields[] = {
	{ "eco2", 1, S_ECO2, 0, 100000 },
	{ "tvoc", 1, S_TVOC, 0, 100000 },
	{ "raw", 2, S_RAW0, 0, 65535 },
	{ "signals", 2, S_H2, 0, 65535 },
};

static const char *const keys[] = {
	"serial", "feature_set", "baseline", "baseline_after", "inceptive_baseline",
	"measure_test", NULL,
};

static struct sgp30 *
priv(const struct chip *c)
{
	return c->priv;
}

static void
sgp_init(struct chip *c)
{
	struct sgp30 *s = priv(c);

	s->serial = 0x000001A2B3C4ULL;
	s->feature_set = 0x0022;
	s->algo_baseline[0] = 0x90D7;
	s->algo_baseline[1] = 0x936B;
	s->baseline_after = SEC(3600);
	s->inceptive = 0x9B9E;
	s->test_result = 0xD400;
}

static void
sgp_power_on(struct chip *c, int64_t now, bool first)
{
	struct sgp30 *s = priv(c);

	s->iaq = false;
	s->restored = false;
	s->baseline[0] = s->baseline[1] = 0;
	s->ah = 0;
	s->iaq_last = 0;	/* downtime is not a cadence interval */
	if (!first)
		fchip_busy(c, now, US(600));
}

static bool
warming_up(const struct sgp30 *s, int64_t now)
{
	return now - s->init_at < SEC(15);
}

static void
cadence(struct sgp30 *s, int64_t now)
{
	if (s->iaq_last != 0) {
		int64_t d = now - s->iaq_last, dev = d > SEC(1) ? d - SEC(1) : SEC(1) - d;
		if (s->iaq_n == 0 || d < s->iaq_min)
			s->iaq_min = d;
		if (d > s->iaq_max)
			s->iaq_max = d;
		if (dev > s->iaq_maxdev)
			s->iaq_maxdev = dev;
		if (dev > MS(50))
			s->iaq_over50++;
		s->iaq_sum += d;
		s->iaq_n++;
	}
	s->iaq_last = now;
}

static void
measure_iaq(struct chip *c, int64_t now, uint16_t *w)
{
	struct sgp30 *s = priv(c);
	double v;

	w[0] = 400;
	w[1] = 0;
	cadence(s, now);
	if (!s->iaq) {
		s->before_init++;
		return;
	}
	if (warming_up(s, now)) {
		s->warmup_answers++;
		return;
	}
	if (fchip_value(c, S_RAW0, now, &v))
		w[0] = (uint16_t)fchip_round_clamp(v, 0, 65535);
	else if (fchip_value(c, S_ECO2, now, &v))
		w[0] = (uint16_t)fchip_round_clamp(v, 400, 60000);
	if (fchip_value(c, S_RAW1, now, &v))
		w[1] = (uint16_t)fchip_round_clamp(v, 0, 65535);
	else if (fchip_value(c, S_TVOC, now, &v))
		w[1] = (uint16_t)fchip_round_clamp(v, 0, 60000);
}

static void
get_baseline(const struct chip *c, int64_t now, uint16_t *w)
{
	const struct sgp30 *s = priv(c);

	if (s->iaq && s->restored) {
		w[0] = s->baseline[0];
		w[1] = s->baseline[1];
	} else if (s->iaq && now - s->init_at >= s->baseline_after) {
		w[0] = s->algo_baseline[0];
		w[1] = s->algo_baseline[1];
	} else {
		w[0] = w[1] = 0;
	}
}

struct sgp_cmd {
	uint16_t code;
	uint8_t nargs;
	int32_t exec_us;	/* datasheet maximum */
	bool fs22;		/* needs feature set >= 0x22 */
};

static const struct sgp_cmd cmds[] = {
	{ 0x2003, 0, 10000, false },	/* iaq_init */
	{ 0x2008, 0, 12000, false },	/* measure_iaq */
	{ 0x2015, 0, 10000, false },	/* get_iaq_baseline */
	{ 0x201E, 2, 10000, false },	/* set_iaq_baseline (TVOC, CO2eq) */
	{ 0x2061, 1, 10000, false },	/* set_absolute_humidity */
	{ 0x2032, 0, 220000, false },	/* measure_test */
	{ 0x202F, 0, 10000, false },	/* get_feature_set */
	{ 0x2050, 0, 25000, false },	/* measure_raw */
	{ 0x20B3, 0, 10000, true },	/* get_tvoc_inceptive_baseline */
	{ 0x2077, 1, 10000, true },	/* set_tvoc_baseline */
	{ 0x3682, 0, 500, false },	/* get_serial_id */
};

static void
execute(struct chip *c, uint16_t code, const uint16_t *a, int64_t now)
{
	struct sgp30 *s = priv(c);
	uint16_t w[3];
	double v;

	switch (code) {
	case 0x2003:
		s->iaq = true;
		s->init_at = now;
		s->restored = false;
		s->baseline[0] = s->baseline[1] = 0;
		return;
	case 0x2008:
		measure_iaq(c, now, w);
		fchip_respond(c, code, w, 2);
		return;
	case 0x2015:
		get_baseline(c, now, w);
		fchip_respond(c, code, w, 2);
		return;
	case 0x201E:
		s->baseline[1] = a[0];
		s->baseline[0] = a[1];
		s->restored = true;
		return;
	case 0x2061:
		s->ah = a[0];
		return;
	case 0x2032:
		s->iaq = false;		/* leaves the chip asleep */
		w[0] = s->test_result;
		fchip_respond(c, code, w, 1);
		return;
	case 0x202F:
		w[0] = s->feature_set;
		fchip_respond(c, code, w, 1);
		return;
	case 0x2050:
		w[0] = fchip_value(c, S_H2, now, &v) ? (uint16_t)fchip_round_clamp(v, 0, 65535) : 13000;
		w[1] = fchip_value(c, S_ETH, now, &v) ? (uint16_t)fchip_round_clamp(v, 0, 65535) : 18000;
		fchip_respond(c, code, w, 2);
		return;
	case 0x20B3:
		w[0] = s->inceptive;
		fchip_respond(c, code, w, 1);
		return;
	case 0x2077:
		s->baseline[1] = a[0];
		return;
	case 0x3682:
		w[0] = (uint16_t)(s->serial >> 32);
		w[1] = (uint16_t)(s->serial >> 16);
		w[2] = (uint16_t)s->serial;
		fchip_respond(c, code, w, 3);
		return;
	}
}

static int
sgp_command(struct chip *c, const uint8_t *buf, size_t len, int64_t now)
{
	struct sgp30 *s = priv(c);
	const struct sgp_cmd *k = NULL;
	uint16_t code, a[2];

	if (len < 2)
		return 0;
	code = (uint16_t)(buf[0] << 8 | buf[1]);
	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
		if (cmds[i].code == code)
			k = &cmds[i];
	if (k == NULL || (k->fs22 && (s->feature_set & 0xFF) < 0x22))
		return -EREMOTEIO;	/* unknown code: its built-in 3-bit CRC fails */
	if (k->nargs > 0 && len == 2)
		return 0;		/* the argument never came: nothing happens */
	if (fchip_args(buf, len, k->nargs, a) < 0)
		return -EREMOTEIO;	/* data accepted only with a correct CRC */
	c->resp_valid = false;
	fchip_accept(c, code, a, k->nargs);
	fchip_busy(c, now, k->exec_us * 1000LL);
	execute(c, code, a, now);
	return 0;
}

static int
word_pair(json_t *v, uint16_t *w)
{
	int64_t a, b;

	if (!json_is_array(v) || json_array_size(v) != 2 ||
	    fchip_json_int(json_array_get(v, 0), 0, 65535, &a) < 0 ||
	    fchip_json_int(json_array_get(v, 1), 0, 65535, &b) < 0)
		return -EINVAL;
	w[0] = (uint16_t)a;
	w[1] = (uint16_t)b;
	return 0;
}

static int
sgp_configure(struct chip *c, json_t *obj, bool at_start, int64_t now, char *err,
    size_t errlen)
{
	struct sgp30 *s = priv(c);
	json_t *v;
	int64_t i;

	(void)at_start;
	(void)now;
	if ((v = json_object_get(obj, "serial")) != NULL && fchip_json_serial(v, &s->serial) < 0) {
		snprintf(err, errlen, "sgp30.serial: want a 48-bit number or \"0x...\" string");
		return -EINVAL;
	}
	if ((v = json_object_get(obj, "feature_set")) != NULL) {
		if (fchip_json_int(v, 0, 65535, &i) < 0)
			goto bad_word;
		s->feature_set = (uint16_t)i;
	}
	if ((v = json_object_get(obj, "inceptive_baseline")) != NULL) {
		if (fchip_json_int(v, 0, 65535, &i) < 0)
			goto bad_word;
		s->inceptive = (uint16_t)i;
	}
	if ((v = json_object_get(obj, "measure_test")) != NULL) {
		if (fchip_json_int(v, 0, 65535, &i) < 0)
			goto bad_word;
		s->test_result = (uint16_t)i;
	}
	if ((v = json_object_get(obj, "baseline")) != NULL && word_pair(v, s->algo_baseline) < 0) {
		snprintf(err, errlen, "sgp30.baseline: want [co2eq, tvoc] words");
		return -EINVAL;
	}
	if ((v = json_object_get(obj, "baseline_after")) != NULL) {
		double d = json_number_value(v);
		if (!json_is_number(v) || !(d >= 0 && d <= 1e8)) {
			snprintf(err, errlen, "sgp30.baseline_after: want seconds >= 0");
			return -EINVAL;
		}
		s->baseline_after = (int64_t)(d * 1e9);
	}
	return 0;
bad_word:
	snprintf(err, errlen, "sgp30: feature_set, inceptive_baseline and measure_test want a word");
	return -EINVAL;
}

static void
sgp_stats(const struct chip *c, json_t *o, int64_t now)
{
	const struct sgp30 *s = priv(c);
	json_t *b = json_array();

	json_object_set_new(o, "iaq", json_boolean(s->iaq));
	json_object_set_new(o, "warmup", json_boolean(s->iaq && warming_up(s, now)));
	json_object_set_new(o, "absolute_humidity", json_integer(s->ah));
	json_array_append_new(b, json_integer(s->baseline[0]));
	json_array_append_new(b, json_integer(s->baseline[1]));
	json_object_set_new(o, "baseline_set", b);
	json_object_set_new(o, "restored", json_boolean(s->restored));
	json_object_set_new(o, "measure_before_init", json_integer((json_int_t)s->before_init));
	json_object_set_new(o, "warmup_answers", json_integer((json_int_t)s->warmup_answers));
	if (s->iaq_n > 0) {
		json_t *iv = json_object();
		json_object_set_new(iv, "n", json_integer((json_int_t)s->iaq_n));
		json_object_set_new(iv, "mean_ms", json_real((double)s->iaq_sum / (double)s->iaq_n / 1e6));
		json_object_set_new(iv, "min_ms", json_real((double)s->iaq_min / 1e6));
		json_object_set_new(iv, "max_ms", json_real((double)s->iaq_max / 1e6));
		json_object_set_new(iv, "max_dev_ms", json_real((double)s->iaq_maxdev / 1e6));
		json_object_set_new(iv, "over_50ms", json_integer((json_int_t)s->iaq_over50));
		json_object_set_new(o, "iaq_intervals", iv);
	}
}

const struct chip_ops fake_sgp30_ops = {
	.name = "sgp30",
	.addr = 0x58,
	.fields = fields,
	.nfields = sizeof(fields) / sizeof(fields[0]),
	.keys = keys,
	.priv_size = sizeof(struct sgp30),
	.general_call = true,
	.init = sgp_init,
	.configure = sgp_configure,
	.power_on = sgp_power_on,
	.command = sgp_command,
	.stats = sgp_stats,
};
