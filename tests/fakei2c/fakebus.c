/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fakebus: the emulated I2C bus. Routes each message to the chip model at
 * its address and does everything that is the same for every chip: the
 * address phase (absent, unplugged, injected faults, deaf while a command
 * executes), the read-once response buffer with 0xFF padding and CRC
 * corruption on demand, counts and last arguments per command, the
 * scripted value timelines, scheduled unplug/replug events, the scenario
 * and control JSON, and the stats JSON the preload library publishes.
 *
 * Time is whatever the caller passes (ns); the first call latches the
 * origin, which is also the chips' power-on instant.
 */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crc.h"
#include "chip.h"
#include "fakebus.h"

#define NCHIPS 3

struct fakebus {
	struct chip chips[NCHIPS];
	double time_scale;
	int addr_nack;		/* errno for an address NACK (default EREMOTEIO) */
	bool origin_set;
	int64_t origin;
	uint64_t gc_count;
};

static const struct chip_ops *const chip_table[NCHIPS] = {
	&fake_scd4x_ops, &fake_sgp30_ops, &fake_icp10125_ops,
};

static const char *const common_keys[] = {
	"present", "timeline", "interp", "loop", "nack", "crc", "flip", "eio", "etimedout",
	"busy", "unplug", "unplug_at", "replug_at", "power_cycle", NULL,
};

static void
seterr(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (err == NULL || errlen == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

/* ------------------------------------------------------------ helpers */

int64_t
fchip_origin(const struct chip *c)
{
	return c->bus->origin;
}

long
fchip_round_clamp(double v, long min, long max)
{
	if (!isfinite(v))
		return v > 0 ? max : min;
	if (v <= (double)min)
		return min;
	if (v >= (double)max)
		return max;
	return lround(v);
}

int
fchip_json_int(json_t *v, int64_t min, int64_t max, int64_t *ret)
{
	double d;

	if (json_is_integer(v)) {
		json_int_t i = json_integer_value(v);
		if (i < min || i > max)
			return -EINVAL;
		*ret = i;
		return 0;
	}
	if (!json_is_real(v))
		return -EINVAL;
	d = json_real_value(v);
	if (d != floor(d) || d < (double)min || d > (double)max)
		return -EINVAL;
	*ret = (int64_t)d;
	return 0;
}

int
fchip_json_serial(json_t *v, uint64_t *ret)
{
	const char *s;
	char *end;
	unsigned long long u;
	int64_t i;

	if (json_is_string(v)) {
		s = json_string_value(v);
		errno = 0;
		u = strtoull(s, &end, 0);
		if (errno != 0 || end == s || *end != '\0' || u > 0xFFFFFFFFFFFFULL)
			return -EINVAL;
		*ret = u;
		return 0;
	}
	if (fchip_json_int(v, 0, 0xFFFFFFFFFFFFLL, &i) < 0)
		return -EINVAL;
	*ret = (uint64_t)i;
	return 0;
}

void
fchip_busy(struct chip *c, int64_t now, int64_t ns)
{
	c->busy_until = now + ns;
}

void
fchip_respond(struct chip *c, uint16_t cmd, const uint16_t *words, size_t n)
{
	if (n * 3 > sizeof(c->resp))
		n = sizeof(c->resp) / 3;
	for (size_t i = 0; i < n; i++) {
		c->resp[3 * i] = (uint8_t)(words[i] >> 8);
		c->resp[3 * i + 1] = (uint8_t)words[i];
		c->resp[3 * i + 2] = crc8_sensirion(&c->resp[3 * i], 2);
	}
	c->resp_len = 3 * n;
	c->resp_cmd = cmd;
	c->resp_valid = true;
}

static struct chip_cmdstat *
cmdstat(struct chip *c, uint16_t cmd)
{
	for (size_t i = 0; i < c->ncmds; i++)
		if (c->cmds[i].cmd == cmd)
			return &c->cmds[i];
	/* The table holds every code the models know; overflow would be our bug. */
	if (c->ncmds == CHIP_MAX_CMDS)
		return NULL;
	c->cmds[c->ncmds].cmd = cmd;
	return &c->cmds[c->ncmds++];
}

void
fchip_accept(struct chip *c, uint16_t cmd, const uint16_t *args, size_t nargs)
{
	struct chip_cmdstat *st = cmdstat(c, cmd);

	if (st == NULL)
		return;
	st->count++;
	if (nargs > 0) {
		if (nargs > CHIP_MAX_ARGS)
			nargs = CHIP_MAX_ARGS;
		memcpy(st->args, args, nargs * sizeof(*args));
		st->nargs = nargs;
	}
}

int
fchip_args(const uint8_t *buf, size_t len, size_t nargs, uint16_t *words)
{
	if (len != 2 + 3 * nargs)
		return -EINVAL;
	for (size_t i = 0; i < nargs; i++) {
		const uint8_t *w = buf + 2 + 3 * i;
		if (crc8_sensirion(w, 2) != w[2])
			return -EBADMSG;
		words[i] = (uint16_t)(w[0] << 8 | w[1]);
	}
	return 0;
}

/* Value of one slot at relative time t from the points that carry it. */
static bool
timeline_value(const struct chip *c, int slot, int64_t t, double *ret)
{
	const struct tl_point *before = NULL, *after = NULL;
	uint32_t bit = 1u << slot;

	if (c->tl_loop > 0 && t > 0)
		t %= c->tl_loop;
	for (size_t i = 0; i < c->ntl; i++) {
		const struct tl_point *p = &c->tl[i];
		if (!(p->mask & bit))
			continue;
		if (p->at <= t)
			before = p;
		else if (after == NULL)
			after = p;
	}
	if (before == NULL && after == NULL)
		return false;
	if (before == NULL)
		*ret = after->v[slot];
	else if (after == NULL || c->tl_step)
		*ret = before->v[slot];
	else
		*ret = before->v[slot] + (after->v[slot] - before->v[slot]) *
		    (double)(t - before->at) / (double)(after->at - before->at);
	return true;
}

bool
fchip_value(const struct chip *c, int slot, int64_t now, double *ret)
{
	if (slot < 0 || slot >= CHIP_MAX_FIELDS)
		return false;
	if (timeline_value(c, slot, now - c->bus->origin, ret))
		return true;
	if (c->base_mask & (1u << slot)) {
		*ret = c->base[slot];
		return true;
	}
	return false;
}

/* ------------------------------------------------------------ plug events */

static void
chip_unplug(struct chip *c)
{
	c->plugged = false;
	c->resp_valid = false;
}

static void
chip_plug(struct chip *c, int64_t at)
{
	c->plugged = true;
	c->resp_valid = false;
	c->busy_until = at;
	c->ops->power_on(c, at, false);
}

/* Applies the scheduled events due by now, letting the model catch up to
 * each event first so a sample due before an unplug still happens. */
static void
chip_advance(struct chip *c, int64_t now)
{
	while (c->nevents > 0 && c->bus->origin + c->events[0].at <= now) {
		int64_t at = c->bus->origin + c->events[0].at;
		bool plug = c->events[0].plug;

		memmove(&c->events[0], &c->events[1], (c->nevents - 1) * sizeof(c->events[0]));
		c->nevents--;
		if (c->plugged && c->ops->advance != NULL)
			c->ops->advance(c, at);
		if (plug && !c->plugged)
			chip_plug(c, at);
		else if (!plug && c->plugged)
			chip_unplug(c);
	}
	if (c->present && c->plugged && c->ops->advance != NULL)
		c->ops->advance(c, now);
}

static int
add_event(struct chip *c, int64_t at, bool plug, char *err, size_t errlen)
{
	size_t i;

	if (c->nevents == sizeof(c->events) / sizeof(c->events[0])) {
		seterr(err, errlen, "%s: too many unplug/replug events (max %zu)",
		    c->ops->name, sizeof(c->events) / sizeof(c->events[0]));
		return -EINVAL;
	}
	for (i = c->nevents; i > 0 && c->events[i - 1].at > at; i--)
		c->events[i] = c->events[i - 1];
	c->events[i].at = at;
	c->events[i].plug = plug;
	c->nevents++;
	return 0;
}

/* ------------------------------------------------------------ scenario */

static int
seconds_to_ns(json_t *v, int64_t *ret)
{
	double s;

	if (!json_is_number(v))
		return -EINVAL;
	s = json_number_value(v);
	if (!isfinite(s) || s < 0 || s > 1e9)
		return -EINVAL;
	*ret = (int64_t)llround(s * 1e9);
	return 0;
}

static const struct chip_field *
find_field(const struct chip_ops *ops, const char *key)
{
	for (size_t i = 0; i < ops->nfields; i++)
		if (strcmp(ops->fields[i].key, key) == 0)
			return &ops->fields[i];
	return NULL;
}

static bool
in_list(const char *const *list, const char *key)
{
	for (; list != NULL && *list != NULL; list++)
		if (strcmp(*list, key) == 0)
			return true;
	return false;
}

/* Reads one field (scalar or array) into v/mask. */
static int
parse_field(const struct chip *c, const struct chip_field *f, json_t *val,
    double *v, uint32_t *mask, char *err, size_t errlen)
{
	for (int i = 0; i < f->count; i++) {
		json_t *x = f->count == 1 ? val : json_array_get(val, (size_t)i);
		double d;

		if (f->count > 1 && (!json_is_array(val) || json_array_size(val) != (size_t)f->count)) {
			seterr(err, errlen, "%s.%s: want an array of %d numbers",
			    c->ops->name, f->key, f->count);
			return -EINVAL;
		}
		if (!json_is_number(x)) {
			seterr(err, errlen, "%s.%s: not a number", c->ops->name, f->key);
			return -EINVAL;
		}
		d = json_number_value(x);
		if (!isfinite(d) || d < f->min || d > f->max) {
			seterr(err, errlen, "%s.%s: %g outside [%g, %g]", c->ops->name,
			    f->key, d, f->min, f->max);
			return -EINVAL;
		}
		v[f->slot + i] = d;
		*mask |= 1u << (f->slot + i);
	}
	return 0;
}

static int
parse_timeline(struct chip *c, json_t *arr, int64_t shift, char *err, size_t errlen)
{
	struct tl_point *pts;
	size_t n = json_array_size(arr);
	int rc = -EINVAL;

	if (!json_is_array(arr) || n == 0 || n > CHIP_MAX_POINTS) {
		seterr(err, errlen, "%s.timeline: want an array of 1..%d points",
		    c->ops->name, CHIP_MAX_POINTS);
		return -EINVAL;
	}
	pts = calloc(n, sizeof(*pts));
	if (pts == NULL)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		json_t *p = json_array_get(arr, i), *val;
		const char *key;

		if (!json_is_object(p) || seconds_to_ns(json_object_get(p, "at"), &pts[i].at) < 0) {
			seterr(err, errlen, "%s.timeline[%zu]: want an object with \"at\" (s >= 0)",
			    c->ops->name, i);
			goto out;
		}
		pts[i].at += shift;
		if (i > 0 && pts[i].at <= pts[i - 1].at) {
			seterr(err, errlen, "%s.timeline[%zu]: \"at\" must increase", c->ops->name, i);
			goto out;
		}
		json_object_foreach(p, key, val) {
			const struct chip_field *f = find_field(c->ops, key);
			if (strcmp(key, "at") == 0)
				continue;
			if (f == NULL) {
				seterr(err, errlen, "%s.timeline[%zu]: unknown key \"%s\"",
				    c->ops->name, i, key);
				goto out;
			}
			if (parse_field(c, f, val, pts[i].v, &pts[i].mask, err, errlen) < 0)
				goto out;
		}
	}
	free(c->tl);
	c->tl = pts;
	c->ntl = n;
	pts = NULL;
	rc = 0;
out:
	free(pts);
	return rc;
}

static int
parse_events(struct chip *c, json_t *v, bool plug, int64_t shift, char *err, size_t errlen)
{
	size_t n = json_is_array(v) ? json_array_size(v) : 1;

	for (size_t i = 0; i < n; i++) {
		json_t *x = json_is_array(v) ? json_array_get(v, i) : v;
		int64_t at;

		if (seconds_to_ns(x, &at) < 0) {
			seterr(err, errlen, "%s.%s: want seconds >= 0 or an array of them",
			    c->ops->name, plug ? "replug_at" : "unplug_at");
			return -EINVAL;
		}
		if (add_event(c, at + shift, plug, err, errlen) < 0)
			return -EINVAL;
	}
	return 0;
}

static int
parse_count(struct chip *c, json_t *obj, const char *key, uint64_t *ret, char *err,
    size_t errlen)
{
	json_t *v = json_object_get(obj, key);
	int64_t n;

	if (v == NULL)
		return 0;
	if (fchip_json_int(v, 0, INT32_MAX, &n) < 0) {
		seterr(err, errlen, "%s.%s: want a count >= 0", c->ops->name, key);
		return -EINVAL;
	}
	*ret = (uint64_t)n;
	return 0;
}

static int
parse_bool(struct chip *c, json_t *obj, const char *key, bool *ret, char *err, size_t errlen)
{
	json_t *v = json_object_get(obj, key);

	if (v == NULL)
		return 0;
	if (!json_is_boolean(v)) {
		seterr(err, errlen, "%s.%s: want true or false", c->ops->name, key);
		return -EINVAL;
	}
	*ret = json_is_true(v);
	return 1;
}

static int configure_plug(struct chip *c, json_t *obj, bool at_start, int64_t now,
    char *err, size_t errlen);

/* Keys every chip understands, in the scenario (at_start) and in control
 * objects (relative times count from now). */
static int
configure_common(struct chip *c, json_t *obj, bool at_start, int64_t now, char *err,
    size_t errlen)
{
	int64_t shift = at_start ? 0 : now - c->bus->origin;
	const char *key;
	json_t *v;

	json_object_foreach(obj, key, v) {
		const struct chip_field *f = find_field(c->ops, key);
		if (f != NULL) {
			if (parse_field(c, f, v, c->base, &c->base_mask, err, errlen) < 0)
				return -EINVAL;
			/* A value set directly wins over a timeline for that value. */
			for (size_t i = 0; i < c->ntl; i++)
				for (int k = 0; k < f->count; k++)
					c->tl[i].mask &= ~(1u << (f->slot + k));
		} else if (!in_list(common_keys, key) && !in_list(c->ops->keys, key)) {
			seterr(err, errlen, "%s: unknown key \"%s\"", c->ops->name, key);
			return -EINVAL;
		}
	}
	if ((v = json_object_get(obj, "timeline")) != NULL &&
	    parse_timeline(c, v, shift, err, errlen) < 0)
		return -EINVAL;
	if ((v = json_object_get(obj, "interp")) != NULL) {
		const char *s = json_string_value(v);
		if (s == NULL || (strcmp(s, "linear") != 0 && strcmp(s, "step") != 0)) {
			seterr(err, errlen, "%s.interp: want \"linear\" or \"step\"", c->ops->name);
			return -EINVAL;
		}
		c->tl_step = strcmp(s, "step") == 0;
	}
	if ((v = json_object_get(obj, "loop")) != NULL) {
		if (json_is_false(v))
			c->tl_loop = 0;
		else if (seconds_to_ns(v, &c->tl_loop) < 0) {
			seterr(err, errlen, "%s.loop: want a period in seconds or false", c->ops->name);
			return -EINVAL;
		}
	}
	if (parse_count(c, obj, "nack", &c->nack_left, err, errlen) < 0 ||
	    parse_count(c, obj, "crc", &c->crc_left, err, errlen) < 0 ||
	    parse_count(c, obj, "flip", &c->flip_left, err, errlen) < 0 ||
	    parse_count(c, obj, "eio", &c->eio_left, err, errlen) < 0 ||
	    parse_count(c, obj, "etimedout", &c->etimedout_left, err, errlen) < 0 ||
	    parse_bool(c, obj, "busy", &c->stuck_busy, err, errlen) < 0)
		return -EINVAL;
	if ((v = json_object_get(obj, "unplug_at")) != NULL &&
	    parse_events(c, v, false, shift, err, errlen) < 0)
		return -EINVAL;
	if ((v = json_object_get(obj, "replug_at")) != NULL &&
	    parse_events(c, v, true, shift, err, errlen) < 0)
		return -EINVAL;
	return configure_plug(c, obj, at_start, now, err, errlen);
}

/* "present", "unplug", "power_cycle": presence and power right now. */
static int
configure_plug(struct chip *c, json_t *obj, bool at_start, int64_t now, char *err,
    size_t errlen)
{
	bool b;
	int r;

	if ((r = parse_bool(c, obj, "present", &b, err, errlen)) < 0)
		return -EINVAL;
	if (r > 0) {
		if (b && !c->present && !at_start && c->bus->origin_set) {
			c->present = true;
			chip_plug(c, now);
		}
		c->present = b;
	}
	if ((r = parse_bool(c, obj, "unplug", &b, err, errlen)) < 0)
		return -EINVAL;
	if (r > 0) {
		if (at_start)
			c->plugged = !b;
		else if (b && c->plugged)
			chip_unplug(c);
		else if (!b && !c->plugged)
			chip_plug(c, now);
	}
	if ((r = parse_bool(c, obj, "power_cycle", &b, err, errlen)) < 0)
		return -EINVAL;
	if (r > 0 && b && !at_start && c->plugged)
		chip_plug(c, now);
	return 0;
}

static int
configure_chip(struct chip *c, json_t *obj, bool at_start, int64_t now, char *err,
    size_t errlen)
{
	if (!json_is_object(obj)) {
		seterr(err, errlen, "%s: want an object", c->ops->name);
		return -EINVAL;
	}
	if (configure_common(c, obj, at_start, now, err, errlen) < 0)
		return -EINVAL;
	return c->ops->configure(c, obj, at_start, now, err, errlen);
}

static int
parse_errno_name(json_t *v, int *ret)
{
	const char *s = json_string_value(v);

	if (s == NULL)
		return -EINVAL;
	if (strcmp(s, "EREMOTEIO") == 0)
		*ret = EREMOTEIO;
	else if (strcmp(s, "ENXIO") == 0)
		*ret = ENXIO;
	else if (strcmp(s, "EIO") == 0)
		*ret = EIO;
	else
		return -EINVAL;
	return 0;
}

static void
chip_release(struct chip *c)
{
	free(c->priv);
	free(c->tl);
	c->priv = NULL;
	c->tl = NULL;
}

void
fakebus_free(struct fakebus *fb)
{
	if (fb == NULL)
		return;
	for (size_t i = 0; i < NCHIPS; i++)
		chip_release(&fb->chips[i]);
	free(fb);
}

static int
bus_keys(struct fakebus *fb, json_t *root, bool at_start, int64_t now, char *err,
    size_t errlen)
{
	const char *key;
	json_t *v;

	json_object_foreach(root, key, v) {
		size_t i;

		for (i = 0; i < NCHIPS; i++)
			if (strcmp(key, chip_table[i]->name) == 0)
				break;
		if (i < NCHIPS) {
			if (at_start && json_is_object(v))
				fb->chips[i].present = true;
			if (configure_chip(&fb->chips[i], v, at_start, now, err, errlen) < 0)
				return -EINVAL;
		} else if (strcmp(key, "nack_errno") == 0) {
			if (parse_errno_name(v, &fb->addr_nack) < 0) {
				seterr(err, errlen, "nack_errno: want \"EREMOTEIO\", \"ENXIO\" or \"EIO\"");
				return -EINVAL;
			}
		} else if (strcmp(key, "time_scale") == 0 && at_start) {
			double s = json_number_value(v);
			if (!json_is_number(v) || !(s >= 0.001 && s <= 1e6)) {
				seterr(err, errlen, "time_scale: want a number in [0.001, 1e6]");
				return -EINVAL;
			}
			fb->time_scale = s;
		} else if (strcmp(key, "device") == 0 && at_start) {
			/* read by the preload library (open errors, I2C_FUNCS) */
			if (!json_is_object(v)) {
				seterr(err, errlen, "device: want an object");
				return -EINVAL;
			}
		} else if (strcmp(key, "comment") != 0 && strcmp(key, "seq") != 0) {
			seterr(err, errlen, "unknown key \"%s\"", key);
			return -EINVAL;
		}
	}
	return 0;
}

struct fakebus *
fakebus_new(const char *json, char *err, size_t errlen)
{
	struct fakebus *fb;
	json_error_t jerr;
	json_t *root;

	root = json_loads(json, JSON_REJECT_DUPLICATES, &jerr);
	if (root == NULL || !json_is_object(root)) {
		seterr(err, errlen, root == NULL ? "scenario JSON, line %d: %s" :
		    "scenario: want a JSON object", jerr.line, jerr.text);
		json_decref(root);
		return NULL;
	}
	fb = calloc(1, sizeof(*fb));
	if (fb == NULL)
		goto fail;
	fb->time_scale = 1.0;
	fb->addr_nack = EREMOTEIO;
	for (size_t i = 0; i < NCHIPS; i++) {
		struct chip *c = &fb->chips[i];
		c->ops = chip_table[i];
		c->bus = fb;
		c->plugged = true;
		c->priv = calloc(1, c->ops->priv_size);
		if (c->priv == NULL)
			goto fail;
		c->ops->init(c);
	}
	if (bus_keys(fb, root, true, 0, err, errlen) < 0)
		goto fail;
	json_decref(root);
	return fb;
fail:
	if (fb == NULL)
		seterr(err, errlen, "out of memory");
	fakebus_free(fb);
	json_decref(root);
	return NULL;
}

/* The first call fixes the origin: every chip powers on then. */
static void
latch(struct fakebus *fb, int64_t now)
{
	if (fb->origin_set)
		return;
	fb->origin_set = true;
	fb->origin = now;
	for (size_t i = 0; i < NCHIPS; i++) {
		struct chip *c = &fb->chips[i];
		c->busy_until = now;
		if (c->plugged)
			c->ops->power_on(c, now, true);
	}
}

void
fakebus_set_origin(struct fakebus *fb, int64_t now)
{
	latch(fb, now);
}

int64_t
fakebus_origin(const struct fakebus *fb)
{
	return fb->origin_set ? fb->origin : 0;
}

double
fakebus_time_scale(const struct fakebus *fb)
{
	return fb->time_scale;
}

int
fakebus_control_err(struct fakebus *fb, const char *json, int64_t now, char *err,
    size_t errlen)
{
	json_error_t jerr;
	json_t *root;
	int rc;

	latch(fb, now);
	root = json_loads(json, JSON_REJECT_DUPLICATES, &jerr);
	if (root == NULL || !json_is_object(root)) {
		seterr(err, errlen, root == NULL ? "control JSON, line %d: %s" :
		    "control: want a JSON object", jerr.line, jerr.text);
		json_decref(root);
		return -EINVAL;
	}
	for (size_t i = 0; i < NCHIPS; i++)
		chip_advance(&fb->chips[i], now);
	rc = bus_keys(fb, root, false, now, err, errlen);
	json_decref(root);
	return rc;
}

int
fakebus_control(struct fakebus *fb, const char *json, int64_t now)
{
	return fakebus_control_err(fb, json, now, NULL, 0);
}

/* ------------------------------------------------------------ transfers */

static struct chip *
chip_at(struct fakebus *fb, uint16_t addr)
{
	for (size_t i = 0; i < NCHIPS; i++)
		if (fb->chips[i].ops->addr == addr)
			return &fb->chips[i];
	return NULL;
}

/* The address phase: 0 if the chip ACKs its address now, else -errno. */
static int
gate(struct fakebus *fb, struct chip *c, int64_t now)
{
	chip_advance(c, now);
	if (!c->present || !c->plugged || c->stuck_busy)
		return -fb->addr_nack;
	if (c->eio_left > 0) {
		c->eio_left--;
		return -EIO;
	}
	if (c->etimedout_left > 0) {
		c->etimedout_left--;
		return -ETIMEDOUT;
	}
	if (c->nack_left > 0) {
		c->nack_left--;
		return -fb->addr_nack;
	}
	if (now < c->busy_until)
		return -fb->addr_nack;
	return 0;
}

static int
general_call(struct fakebus *fb, const uint8_t *buf, size_t len, int64_t now)
{
	bool acked = false;

	for (size_t i = 0; i < NCHIPS; i++) {
		struct chip *c = &fb->chips[i];
		if (!c->ops->general_call || gate(fb, c, now) < 0)
			continue;
		acked = true;
		if (len >= 1 && buf[0] == 0x06) {
			fchip_accept(c, 0x0006, NULL, 0);
			chip_plug(c, now);
		}
	}
	if (!acked)
		return -fb->addr_nack;
	fb->gc_count++;
	return 0;
}

int
fakebus_write(struct fakebus *fb, uint16_t addr, const uint8_t *buf, size_t len, int64_t now)
{
	struct chip *c;
	int rc;

	latch(fb, now);
	if (addr == 0)
		return general_call(fb, buf, len, now);
	if ((c = chip_at(fb, addr)) == NULL)
		return -fb->addr_nack;
	c->writes++;
	rc = gate(fb, c, now);
	if (rc == 0)
		rc = c->ops->command(c, buf, len, now);
	if (rc < 0)
		c->nacks++;
	return rc;
}

/* Flips the CRC byte ("crc") or the low data byte ("flip": noise on the
 * wire, so a driver that used the word anyway would show a wrong value) of
 * one word of what the master is about to see; the word rotates so a driver
 * that checks only some words gets caught. Either way the CRC check fails:
 * CRC-8 catches every error burst of up to 8 bits. */
static void
corrupt(struct chip *c, uint8_t *buf, size_t got)
{
	size_t nwords = got / 3;
	uint64_t *left = c->crc_left ? &c->crc_left : &c->flip_left;

	if (*left == 0 || nwords == 0)
		return;
	buf[3 * (c->crc_done % nwords) + (left == &c->crc_left ? 2 : 1)] ^= 0x5A;
	(*left)--;
	c->crc_done++;
	c->crc_corrupted++;
}

int
fakebus_read(struct fakebus *fb, uint16_t addr, uint8_t *buf, size_t len, int64_t now)
{
	struct chip *c;
	size_t got;
	uint16_t cmd;
	int rc;

	latch(fb, now);
	if ((c = chip_at(fb, addr)) == NULL)
		return -fb->addr_nack;
	c->reads++;
	rc = gate(fb, c, now);
	if (rc == 0 && !c->resp_valid)
		rc = -fb->addr_nack;
	if (rc < 0) {
		c->nacks++;
		return rc;
	}
	got = len < c->resp_len ? len : c->resp_len;
	memcpy(buf, c->resp, got);
	memset(buf + got, 0xFF, len - got);
	corrupt(c, buf, got);
	cmd = c->resp_cmd;
	c->resp_valid = false;
	if (c->ops->read_done != NULL)
		c->ops->read_done(c, cmd, now);
	return 0;
}

/* ------------------------------------------------------------ counters */

static const struct chip *
chip_at_const(const struct fakebus *fb, uint16_t addr)
{
	for (size_t i = 0; i < NCHIPS; i++)
		if (fb->chips[i].ops->addr == addr)
			return &fb->chips[i];
	return NULL;
}

uint64_t
fakebus_count(const struct fakebus *fb, uint16_t addr, uint16_t cmd)
{
	const struct chip *c = chip_at_const(fb, addr);
	uint64_t n = 0;

	if (c == NULL)
		return addr == 0 && (cmd == 0x0006 || cmd == 0xFFFF) ? fb->gc_count : 0;
	for (size_t i = 0; i < c->ncmds; i++)
		if (cmd == 0xFFFF || c->cmds[i].cmd == cmd)
			n += c->cmds[i].count;
	return n;
}

size_t
fakebus_last_args(const struct fakebus *fb, uint16_t addr, uint16_t cmd, uint16_t *words,
    size_t max)
{
	const struct chip *c = chip_at_const(fb, addr);

	if (c == NULL)
		return 0;
	for (size_t i = 0; i < c->ncmds; i++) {
		const struct chip_cmdstat *st = &c->cmds[i];
		if (st->cmd != cmd)
			continue;
		size_t n = st->nargs < max ? st->nargs : max;
		memcpy(words, st->args, n * sizeof(*words));
		return n;
	}
	return 0;
}

static json_t *
chip_stats(const struct chip *c, int64_t now)
{
	json_t *o = json_object(), *cmds = json_object(), *args = json_object();
	char key[8];

	json_object_set_new(o, "addr", json_integer(c->ops->addr));
	json_object_set_new(o, "present", json_boolean(c->present));
	json_object_set_new(o, "plugged", json_boolean(c->plugged));
	json_object_set_new(o, "writes", json_integer((json_int_t)c->writes));
	json_object_set_new(o, "reads", json_integer((json_int_t)c->reads));
	json_object_set_new(o, "nacks", json_integer((json_int_t)c->nacks));
	json_object_set_new(o, "crc_corrupted", json_integer((json_int_t)c->crc_corrupted));
	for (size_t i = 0; i < c->ncmds; i++) {
		const struct chip_cmdstat *st = &c->cmds[i];
		snprintf(key, sizeof(key), "0x%04x", st->cmd);
		json_object_set_new(cmds, key, json_integer((json_int_t)st->count));
		if (st->nargs > 0) {
			json_t *a = json_array();
			for (size_t k = 0; k < st->nargs; k++)
				json_array_append_new(a, json_integer(st->args[k]));
			json_object_set_new(args, key, a);
		}
	}
	json_object_set_new(o, "commands", cmds);
	json_object_set_new(o, "last_args", args);
	if (c->present && c->plugged && c->ops->stats != NULL)
		c->ops->stats(c, o, now);
	return o;
}

char *
fakebus_stats_json(const struct fakebus *fb, int64_t now)
{
	json_t *root = json_object(), *chips = json_object();
	char *s;

	json_object_set_new(root, "t", json_real(fb->origin_set ?
	    (double)(now - fb->origin) / 1e9 : 0.0));
	json_object_set_new(root, "general_call", json_integer((json_int_t)fb->gc_count));
	for (size_t i = 0; i < NCHIPS; i++)
		json_object_set_new(chips, fb->chips[i].ops->name, chip_stats(&fb->chips[i], now));
	json_object_set_new(root, "chips", chips);
	s = json_dumps(root, JSON_COMPACT | JSON_SORT_KEYS);
	json_decref(root);
	return s;
}
