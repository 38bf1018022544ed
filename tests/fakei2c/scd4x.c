/* SPDX-License-Identifier: Apache-2.0 */
/*
 * scd4x: byte-level model of the Sensirion SCD40/41/43 at 0x62, after
 * docs/chips.md §2.2–2.6. Modes IDLE, PERIODIC (a sample every 5 s),
 * LP_PERIODIC (every 30 s), SLEEP (SCD41/43 power_down); in the periodic
 * modes only read_measurement, get_data_ready_status, stop and the ambient
 * pressure pair are accepted, everything else is NACKed. Execution times
 * make the chip deaf (the core NACKs every header); a sample is read once.
 *
 * Values: "co2" ppm, "t" °C as reported with the default 4 °C temperature
 * offset (a different offset shifts the reported temperature by the
 * difference, as on the chip), "rh" %RH; or "raw": [co2, t, rh] words, sent
 * as they are. T/RH words use the 2^16 − 1 divisor (datasheet ≥ v1.4).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "chip.h"

enum { S_CO2, S_T, S_RH, S_RAW0, S_RAW1, S_RAW2 };
enum scd_mode { M_IDLE, M_PERIODIC, M_LP, M_SLEEP };

#define T_OFFSET_DEFAULT 1498	/* 4 °C */

struct settings {
	uint16_t t_offset, altitude, asc, asc_target, asc_init, asc_std;
};

struct scd4x {
	/* scenario */
	uint64_t serial;
	uint16_t variant;
	uint16_t self_test;
	enum scd_mode start_mode;
	bool stuck_data;		/* fault: periodic mode never produces a sample */
	/* chip */
	enum scd_mode mode;
	struct settings ram, eeprom;
	uint16_t pressure;		/* hPa */
	bool measured;			/* since power-up (FRC needs it) */
	int64_t next_sample;		/* periodic modes */
	bool has_sample;
	uint16_t sample[3];
	int64_t wake_at;		/* SLEEP -> IDLE after wake_up */
	int32_t frc_correction;		/* ppm added to CO2 after a forced recalibration */
	int64_t single_shot_at;		/* a single shot completes then (0: none) */
	bool single_shot_rht;
	uint64_t rejected;		/* commands NACKed for the mode */
};

static const struct chip_field fields[] = {
	{ "co2", 1, S_CO2, 0, 100000 },
	{ "t", 1, S_T, -100, 200 },
	{ "rh", 1, S_RH, 0, 100 },
	{ "raw", 3, S_RAW0, 0, 65535 },
};

static const char *const keys[] = {
	"serial", "variant", "mode", "self_test", "stuck_data", NULL,
};

static struct scd4x *
priv(const struct chip *c)
{
	return c->priv;
}

static const struct settings factory = {
	.t_offset = T_OFFSET_DEFAULT, .altitude = 0, .asc = 1, .asc_target = 400,
	.asc_init = 44, .asc_std = 156,
};

static void
scd_init(struct chip *c)
{
	struct scd4x *s = priv(c);

	s->serial = 0xF8969F073BBEULL;
	s->variant = 0x1440;
	s->self_test = 0;
	s->start_mode = M_IDLE;
	s->eeprom = factory;
}

static void
scd_power_on(struct chip *c, int64_t now, bool first)
{
	struct scd4x *s = priv(c);

	s->ram = s->eeprom;
	s->pressure = 1013;
	s->measured = false;
	s->has_sample = false;
	s->single_shot_at = 0;
	s->frc_correction = 0;
	s->mode = M_IDLE;
	/* "Left in periodic mode by a previous process" is the scenario's
	 * start state only; a replugged chip powers up idle. */
	if (first && (s->start_mode == M_PERIODIC || s->start_mode == M_LP)) {
		s->mode = s->start_mode;
		s->next_sample = now + (s->mode == M_LP ? SEC(30) : SEC(5));
	} else if (!first) {
		fchip_busy(c, now, MS(30));
	}
}

static uint16_t
encode(const struct chip *c, int64_t now, int word)
{
	const struct scd4x *s = priv(c);
	double v;

	if (fchip_value(c, S_RAW0 + word, now, &v))
		return (uint16_t)fchip_round_clamp(v, 0, 65535);
	switch (word) {
	case 0:
		if (!fchip_value(c, S_CO2, now, &v))
			v = 500;
		return (uint16_t)fchip_round_clamp(v + s->frc_correction, 0, 40000);
	case 1:
		if (!fchip_value(c, S_T, now, &v))
			v = 25.0;
		/* The chip reports internal T minus its offset; the scenario's
		 * value is what it reports with the default 4 °C. */
		v -= (s->ram.t_offset - T_OFFSET_DEFAULT) * 175.0 / 65535.0;
		return (uint16_t)fchip_round_clamp((v + 45.0) * 65535.0 / 175.0, 0, 65535);
	default:
		if (!fchip_value(c, S_RH, now, &v))
			v = 37.0;
		return (uint16_t)fchip_round_clamp(v * 65535.0 / 100.0, 0, 65535);
	}
}

static void
take_sample(struct chip *c, int64_t at, bool rht_only)
{
	struct scd4x *s = priv(c);

	for (int i = 0; i < 3; i++)
		s->sample[i] = encode(c, at, i);
	if (rht_only)
		s->sample[0] = 0;
	s->has_sample = true;
	s->measured = true;
}

static void
scd_advance(struct chip *c, int64_t now)
{
	struct scd4x *s = priv(c);
	int64_t period = s->mode == M_LP ? SEC(30) : SEC(5);

	if (s->mode == M_SLEEP && s->wake_at != 0 && now >= s->wake_at) {
		s->mode = M_IDLE;
		s->wake_at = 0;
	}
	if (s->single_shot_at != 0 && now >= s->single_shot_at) {
		take_sample(c, s->single_shot_at, s->single_shot_rht);
		s->single_shot_at = 0;
	}
	if (s->mode != M_PERIODIC && s->mode != M_LP)
		return;
	if (s->next_sample > now)
		return;
	/* Only the newest sample survives; older unread ones are overwritten. */
	int64_t k = (now - s->next_sample) / period;
	int64_t at = s->next_sample + k * period;
	s->next_sample = at + period;
	if (!s->stuck_data)
		take_sample(c, at, false);
}

struct scd_cmd {
	uint16_t code;
	uint8_t nargs;
	uint8_t nresp;		/* response words */
	int32_t exec_us;
	bool periodic_ok;	/* accepted in the periodic modes */
	bool single_shot;	/* SCD41/43 only */
};

static const struct scd_cmd cmds[] = {
	{ 0x21B1, 0, 0, 0, false, false },		/* start_periodic_measurement */
	{ 0xEC05, 0, 3, 1000, true, false },		/* read_measurement */
	{ 0x3F86, 0, 0, 500000, true, false },		/* stop_periodic_measurement */
	{ 0x241D, 1, 0, 1000, false, false },		/* set_temperature_offset */
	{ 0x2318, 0, 1, 1000, false, false },		/* get_temperature_offset */
	{ 0x2427, 1, 0, 1000, false, false },		/* set_sensor_altitude */
	{ 0x2322, 0, 1, 1000, false, false },		/* get_sensor_altitude */
	{ 0xE000, 0, 1, 1000, true, false },		/* set/get_ambient_pressure */
	{ 0x362F, 1, 1, 400000, false, false },		/* perform_forced_recalibration */
	{ 0x2416, 1, 0, 1000, false, false },		/* set_asc_enabled */
	{ 0x2313, 0, 1, 1000, false, false },		/* get_asc_enabled */
	{ 0x243A, 1, 0, 1000, false, false },		/* set_asc_target */
	{ 0x233F, 0, 1, 1000, false, false },		/* get_asc_target */
	{ 0x21AC, 0, 0, 0, false, false },		/* start_low_power_periodic */
	{ 0xE4B8, 0, 1, 1000, true, false },		/* get_data_ready_status */
	{ 0x3615, 0, 0, 800000, false, false },		/* persist_settings */
	{ 0x3682, 0, 3, 1000, false, false },		/* get_serial_number */
	{ 0x3639, 0, 1, 10000000, false, false },	/* perform_self_test */
	{ 0x3632, 0, 0, 1200000, false, false },	/* perform_factory_reset */
	{ 0x3646, 0, 0, 30000, false, false },		/* reinit */
	{ 0x202F, 0, 1, 1000, false, false },		/* get_sensor_variant */
	{ 0x219D, 0, 0, 5000000, false, true },		/* measure_single_shot */
	{ 0x2196, 0, 0, 50000, false, true },		/* measure_single_shot_rht_only */
	{ 0x36E0, 0, 0, 1000, false, true },		/* power_down */
	{ 0x36F6, 0, 0, 30000, false, true },		/* wake_up */
	{ 0x2445, 1, 0, 1000, false, true },		/* set_asc_initial_period */
	{ 0x2340, 0, 1, 1000, false, true },		/* get_asc_initial_period */
	{ 0x244E, 1, 0, 1000, false, true },		/* set_asc_standard_period */
	{ 0x234B, 0, 1, 1000, false, true },		/* get_asc_standard_period */
};

static const struct scd_cmd *
lookup(uint16_t code)
{
	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
		if (cmds[i].code == code)
			return &cmds[i];
	return NULL;
}

/* Response words of a read-type command; 0 words = nothing to read. */
static size_t
respond_words(struct chip *c, uint16_t code, uint16_t *w)
{
	struct scd4x *s = priv(c);

	switch (code) {
	case 0xEC05:
		if (!s->has_sample)
			return 0;
		memcpy(w, s->sample, sizeof(s->sample));
		return 3;
	case 0x2318: w[0] = s->ram.t_offset; return 1;
	case 0x2322: w[0] = s->ram.altitude; return 1;
	case 0xE000: w[0] = s->pressure; return 1;
	case 0x2313: w[0] = s->ram.asc; return 1;
	case 0x233F: w[0] = s->ram.asc_target; return 1;
	case 0x2340: w[0] = s->ram.asc_init; return 1;
	case 0x234B: w[0] = s->ram.asc_std; return 1;
	case 0xE4B8: w[0] = s->has_sample ? 0x8006 : 0x8000; return 1;
	case 0x3639: w[0] = s->self_test; return 1;
	case 0x202F: w[0] = s->variant; return 1;
	case 0x3682:
		w[0] = (uint16_t)(s->serial >> 32);
		w[1] = (uint16_t)(s->serial >> 16);
		w[2] = (uint16_t)s->serial;
		return 3;
	}
	return 0;
}

/* A command with its (CRC-checked) arguments: the state change. */
static void
execute(struct chip *c, const struct scd_cmd *k, const uint16_t *a, size_t nargs, int64_t now)
{
	struct scd4x *s = priv(c);
	uint16_t w[3];
	size_t n;

	switch (k->code) {
	case 0x21B1:
	case 0x21AC:
		s->mode = k->code == 0x21B1 ? M_PERIODIC : M_LP;
		s->next_sample = now + (s->mode == M_LP ? SEC(30) : SEC(5));
		s->has_sample = false;
		break;
	case 0x3F86:
		s->mode = M_IDLE;
		s->has_sample = false;	/* an unread sample is discarded */
		break;
	case 0x241D: s->ram.t_offset = a[0]; break;
	case 0x2427: s->ram.altitude = a[0]; break;
	case 0xE000:
		if (nargs == 1)
			s->pressure = a[0];
		break;
	case 0x2416: s->ram.asc = a[0]; break;
	case 0x243A: s->ram.asc_target = a[0]; break;
	case 0x2445: s->ram.asc_init = a[0]; break;
	case 0x244E: s->ram.asc_std = a[0]; break;
	case 0x3615: s->eeprom = s->ram; break;
	case 0x3632:
		s->eeprom = factory;
		s->ram = factory;
		s->frc_correction = 0;
		break;
	case 0x3646: s->ram = s->eeprom; break;
	case 0x219D:
	case 0x2196:
		s->single_shot_at = now + k->exec_us * 1000LL;
		s->single_shot_rht = k->code == 0x2196;
		break;
	case 0x36E0:
		s->mode = M_SLEEP;
		s->wake_at = 0;
		s->has_sample = false;
		break;
	case 0x362F:
		if (!s->measured) {
			w[0] = 0xFFFF;
		} else {
			/* Correction = target − what the chip would read now. */
			int32_t now_ppm = (int32_t)encode(c, now, 0);
			int32_t corr = (int32_t)a[0] - now_ppm;
			s->frc_correction += corr;
			w[0] = (uint16_t)(0x8000 + corr);
		}
		fchip_respond(c, k->code, w, 1);
		return;
	}
	if (k->nresp > 0 && !(k->code == 0xE000 && nargs == 1) &&
	    (n = respond_words(c, k->code, w)) > 0)
		fchip_respond(c, k->code, w, n);
}

static int
scd_command(struct chip *c, const uint8_t *buf, size_t len, int64_t now)
{
	struct scd4x *s = priv(c);
	const struct scd_cmd *k;
	uint16_t code, a[1];
	size_t nargs;
	int rc;

	if (s->mode == M_SLEEP) {
		/* Asleep: nothing is ACKed, but wake_up still wakes it. */
		if (len == 2 && buf[0] == 0x36 && buf[1] == 0xF6 && s->wake_at == 0) {
			s->wake_at = now + MS(30);
			fchip_accept(c, 0x36F6, NULL, 0);
		}
		return -EREMOTEIO;
	}
	if (len < 2)
		return 0;		/* address probe, or a lone byte: nothing to do */
	code = (uint16_t)(buf[0] << 8 | buf[1]);
	k = lookup(code);
	if (k == NULL || (k->single_shot && (s->variant >> 12) == 0))
		return -EREMOTEIO;
	if ((s->mode == M_PERIODIC || s->mode == M_LP) && !k->periodic_ok) {
		s->rejected++;
		return -EREMOTEIO;
	}
	nargs = k->nargs;
	if (code == 0xE000 && len == 5)
		nargs = 1;		/* set_ambient_pressure; 2 bytes = get */
	if (nargs > 0 && len == 2)
		return 0;		/* a write command without its argument: ignored */
	rc = fchip_args(buf, len, nargs, a);
	if (rc < 0)
		return -EREMOTEIO;	/* bad CRC (or stray bytes): NACK, not executed */
	c->resp_valid = false;		/* a new command drops an unread response */
	fchip_accept(c, code, a, nargs);
	fchip_busy(c, now, k->exec_us * 1000LL);
	execute(c, k, a, nargs, now);
	return 0;
}

static void
scd_read_done(struct chip *c, uint16_t cmd, int64_t now)
{
	struct scd4x *s = priv(c);

	(void)now;
	if (cmd == 0xEC05)
		s->has_sample = false;
}

static int
scd_configure(struct chip *c, json_t *obj, bool at_start, int64_t now, char *err,
    size_t errlen)
{
	struct scd4x *s = priv(c);
	json_t *v;
	int64_t i;

	(void)now;
	if ((v = json_object_get(obj, "serial")) != NULL && fchip_json_serial(v, &s->serial) < 0)
		goto bad_serial;
	if ((v = json_object_get(obj, "variant")) != NULL) {
		const char *n = json_string_value(v);
		if (n != NULL && strcmp(n, "scd40") == 0)
			s->variant = 0x0440;
		else if (n != NULL && strcmp(n, "scd41") == 0)
			s->variant = 0x1440;
		else if (n != NULL && strcmp(n, "scd43") == 0)
			s->variant = 0x5441;
		else if (fchip_json_int(v, 0, 65535, &i) == 0)
			s->variant = (uint16_t)i;
		else {
			snprintf(err, errlen, "scd4x.variant: want \"scd40\", \"scd41\", \"scd43\" or a word");
			return -EINVAL;
		}
	}
	if ((v = json_object_get(obj, "mode")) != NULL) {
		const char *n = json_string_value(v);
		if (!at_start || n == NULL || (strcmp(n, "idle") != 0 &&
		    strcmp(n, "periodic") != 0 && strcmp(n, "low_power") != 0)) {
			snprintf(err, errlen, "scd4x.mode: want \"idle\", \"periodic\" or "
			    "\"low_power\" (scenario only)");
			return -EINVAL;
		}
		s->start_mode = n[0] == 'i' ? M_IDLE : n[0] == 'p' ? M_PERIODIC : M_LP;
	}
	if ((v = json_object_get(obj, "self_test")) != NULL) {
		if (fchip_json_int(v, 0, 65535, &i) < 0) {
			snprintf(err, errlen, "scd4x.self_test: want a word (0 = pass)");
			return -EINVAL;
		}
		s->self_test = (uint16_t)i;
	}
	if ((v = json_object_get(obj, "stuck_data")) != NULL) {
		if (!json_is_boolean(v)) {
			snprintf(err, errlen, "scd4x.stuck_data: want true or false");
			return -EINVAL;
		}
		s->stuck_data = json_is_true(v);
	}
	return 0;
bad_serial:
	snprintf(err, errlen, "scd4x.serial: want a 48-bit number or \"0x...\" string");
	return -EINVAL;
}

static void
scd_stats(const struct chip *c, json_t *o, int64_t now)
{
	const struct scd4x *s = priv(c);
	static const char *const names[] = { "idle", "periodic", "low_power", "sleep" };

	(void)now;
	json_object_set_new(o, "mode", json_string(names[s->mode]));
	json_object_set_new(o, "data_ready", json_boolean(s->has_sample));
	json_object_set_new(o, "t_offset", json_integer(s->ram.t_offset));
	json_object_set_new(o, "altitude", json_integer(s->ram.altitude));
	json_object_set_new(o, "pressure", json_integer(s->pressure));
	json_object_set_new(o, "asc", json_integer(s->ram.asc));
	json_object_set_new(o, "rejected", json_integer((json_int_t)s->rejected));
}

const struct chip_ops fake_scd4x_ops = {
	.name = "scd4x",
	.addr = 0x62,
	.fields = fields,
	.nfields = sizeof(fields) / sizeof(fields[0]),
	.keys = keys,
	.priv_size = sizeof(struct scd4x),
	.init = scd_init,
	.configure = scd_configure,
	.power_on = scd_power_on,
	.advance = scd_advance,
	.command = scd_command,
	.read_done = scd_read_done,
	.stats = scd_stats,
};
