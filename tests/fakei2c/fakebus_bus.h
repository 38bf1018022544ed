/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fakebus_bus: the test side of the driver seam — a struct i2c_bus whose
 * transfers go to the in-process chip models (tests/fakei2c/fakebus.h) at a
 * virtual clock the test owns, so hours of chip time run in milliseconds.
 * It can also log the times at which one chosen command was written, and
 * drive the chip manager's loop the way sensord does (jump to the next
 * deadline, optionally late by a chosen wake-up latency).
 * Header-only, static functions, for sensord's driver tests (tests/unit/sensord).
 */
#ifndef SNOWSENSE_FAKEBUS_BUS_H
#define SNOWSENSE_FAKEBUS_BUS_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "fakebus.h"
#include "i2c_bus.h"
#include "sensors.h"

#define FBB_LOG_MAX 4096	/* logged writes; later ones are only counted */
#define FBB_T0 ((int64_t)1000 * 1000000000)	/* virtual time at creation */

struct fbb {
	struct i2c_bus bus;
	struct fakebus *fb;
	int64_t now;		/* the virtual clock, ns */
	bool realtime;		/* use CLOCK_MONOTONIC instead (blocking probe code) */
	uint16_t log_addr, log_cmd;	/* which write to log (cmd 0: none) */
	size_t nlog;
	uint64_t log_dropped;
	int64_t log[FBB_LOG_MAX];
};

static inline int
fbb_write(void *ctx, uint16_t addr, const uint8_t *buf, size_t len)
{
	struct fbb *b = ctx;
	int r;

	if (b->realtime)
		b->now = clock_mono_ns();
	r = fakebus_write(b->fb, addr, buf, len, b->now);

	if (r == 0 && b->log_cmd && addr == b->log_addr && len >= 2 &&
	    (uint16_t)(buf[0] << 8 | buf[1]) == b->log_cmd) {
		if (b->nlog < FBB_LOG_MAX)
			b->log[b->nlog++] = b->now;
		else
			b->log_dropped++;
	}
	return r;
}

static inline int
fbb_read(void *ctx, uint16_t addr, uint8_t *buf, size_t len)
{
	struct fbb *b = ctx;

	if (b->realtime)
		b->now = clock_mono_ns();
	return fakebus_read(b->fb, addr, buf, len, b->now);
}

/* A repeated start is a write then a read at the same instant. */
static inline int
fbb_write_read(void *ctx, uint16_t addr, const uint8_t *wbuf, size_t wlen,
    uint8_t *rbuf, size_t rlen)
{
	int r = fbb_write(ctx, addr, wbuf, wlen);

	return r < 0 ? r : fbb_read(ctx, addr, rbuf, rlen);
}

static inline void
fbb_close(void *ctx)
{
	(void)ctx;
}

static const struct i2c_bus_ops fbb_ops = {
	.write = fbb_write,
	.read = fbb_read,
	.write_read = fbb_write_read,
	.close = fbb_close,
};

/* A fake bus for scenario JSON; aborts the test on a bad scenario. New:
 * free with fbb_free. The chips power on at FBB_T0. */
static inline struct fbb *
fbb_new(const char *scenario)
{
	struct fbb *b = calloc(1, sizeof(*b));
	char err[256] = "";

	if (!b)
		abort();
	b->fb = fakebus_new(scenario, err, sizeof(err));
	if (!b->fb) {
		fprintf(stderr, "fbb_new: bad scenario: %s\n", err);
		abort();
	}
	b->bus.ops = &fbb_ops;
	b->bus.ctx = b;
	snprintf(b->bus.name, sizeof(b->bus.name), "fakebus");
	b->now = FBB_T0;
	/* latch the power-on instant */
	(void)fakebus_control(b->fb, "{}", b->now);
	return b;
}

static inline void
fbb_free(struct fbb *b)
{
	if (!b)
		return;
	fakebus_free(b->fb);
	free(b);
}

/* The same on the real monotonic clock, for code that sleeps (probe). */
static inline struct fbb *
fbb_new_realtime(const char *scenario)
{
	struct fbb *b = fbb_new(scenario);

	fakebus_free(b->fb);
	b->fb = fakebus_new(scenario, NULL, 0);
	if (!b->fb)
		abort();
	b->realtime = true;
	b->now = clock_mono_ns();
	(void)fakebus_control(b->fb, "{}", b->now);
	return b;
}

/* Applies a control object (unplug, faults, new values) now. */
static inline int
fbb_control(struct fbb *b, const char *json)
{
	return fakebus_control(b->fb, json, b->now);
}

/* Logs the times at which cmd is written to addr from now on. */
static inline void
fbb_log(struct fbb *b, uint16_t addr, uint16_t cmd)
{
	b->log_addr = addr;
	b->log_cmd = cmd;
	b->nlog = 0;
	b->log_dropped = 0;
}

/* Runs the manager like sensord's loop until the virtual clock reaches
 * until: wake at each deadline plus latency(i) ns (i counts wake-ups; NULL
 * means on time), call sensors_run. */
static inline void
fbb_run(struct fbb *b, struct sensors *s, int64_t until, int64_t (*latency)(uint64_t))
{
	static uint64_t wakeups;
	int64_t last = -1;
	int same = 0;

	for (;;) {
		int64_t d = sensors_next_deadline(s);
		/* a deadline that never moves is a driver bug, not a long test */
		same = d == last ? same + 1 : 0;
		if (same > 1000) {
			fprintf(stderr, "fbb_run: deadline stuck at %lld\n", (long long)d);
			abort();
		}
		last = d;
		if (d > until) {
			b->now = until;
			return;
		}
		if (d > b->now)
			b->now = d;
		if (latency)
			b->now += latency(wakeups++);
		sensors_run(s, b->now);
	}
}

/* Runs for a span of virtual time. */
static inline void
fbb_run_for(struct fbb *b, struct sensors *s, int64_t ns)
{
	fbb_run(b, s, b->now + ns, NULL);
}

#endif
