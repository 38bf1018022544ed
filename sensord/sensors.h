/* SPDX-License-Identifier: Apache-2.0 */
/*
 * sensors: the chip manager. Owns one driver instance per configured chip on
 * one bus, runs each chip's non-blocking schedule from the daemon's loop,
 * applies cross-sensor compensation (ICP-10125 pressure -> SCD4x,
 * SCD4x T/RH -> SGP30 absolute humidity), and hands the daemon the fresh,
 * CRC-valid samples of an interval to put into a record.
 *
 * The loop calls sensors_next_deadline() to size its poll timeout and
 * sensors_run() when it expires; nothing here sleeps.
 *
 * CONTRACT between the drivers (issue 3) and the daemon (issue 4); change it
 * only together with both sides.
 */
#ifndef SNOWSENSE_SENSORS_H
#define SNOWSENSE_SENSORS_H

#include <stdbool.h>
#include <stdint.h>

#include "conf.h"
#include "proto.h"

struct i2c_bus;
struct sensors;

enum scd4x_mode { SCD4X_PERIODIC, SCD4X_LOW_POWER };
enum icp_mode { ICP_LP, ICP_N, ICP_LN, ICP_ULN };
enum sensors_require { REQUIRE_SCD4X_OR_ICP, REQUIRE_ANY, REQUIRE_ALL, REQUIRE_NONE };

struct scd4x_conf {
	bool enabled;			/* default true */
	double temp_offset;		/* °C, default 4.0 */
	int64_t altitude;		/* m, default 0 */
	bool asc;			/* automatic self-calibration, default true */
	int mode;			/* enum scd4x_mode, "periodic" | "low_power" */
};

struct sgp30_conf {
	bool enabled;			/* default true */
	bool humidity_compensation;	/* default true */
};

struct icp10125_conf {
	bool enabled;			/* default true */
	int mode;			/* enum icp_mode, "lp" | "n" | "ln" | "uln", default "n" */
};

struct sensors_conf {
	struct scd4x_conf scd4x;
	struct sgp30_conf sgp30;
	struct icp10125_conf icp10125;
	int require;			/* enum sensors_require */
	/* Not a configuration key: whether a chip's answer may wait in the
	 * chip for the next 1 s tick (chip_out.late) rather than be read when
	 * it is ready. The daemon allows it for records 2 s or more apart: a
	 * record 1 s long would, on any jitter between its slot and the tick,
	 * now and then catch two of a 1 Hz chip's answers and leave its
	 * neighbour none (seen in sensord/chip-faults.sh). */
	bool reads_wait;
};

/* Key tables for the blocks "scd4x", "sgp30", "icp10125" (relative to the
 * block struct), for the daemon's config table via CONF_K_SUB. */
extern const struct conf_key scd4x_conf_keys[];
extern const struct conf_key sgp30_conf_keys[];
extern const struct conf_key icp10125_conf_keys[];
/* Choices for "require": "scd4x_or_icp10125" (default), "any", "all", "none". */
extern const char *const sensors_require_choices[];

/* Probes and starts every enabled chip on bus (borrowed; must outlive the
 * manager). state_dir holds the SGP30 baseline file. now is CLOCK_MONOTONIC
 * ns. Returns 0 and *ret (new), or -ENODEV when the require rule is not met
 * (why in errbuf: what was probed and what answered), or another -errno. */
int sensors_new(const struct sensors_conf *conf, struct i2c_bus *bus,
    const char *state_dir, int64_t now, struct sensors **ret, char *errbuf,
    size_t errlen);
/* Begins an orderly stop at now (CLOCK_MONOTONIC ns): the SCD4x leaves
 * periodic measurement, the SGP30 reads and saves its baseline when it is
 * worth keeping. What is left to do runs in sensors_run at
 * sensors_next_deadline, as before, until sensors_stopped(); no more samples
 * are taken. */
void sensors_stop(struct sensors *s, int64_t now);
/* True when every chip has finished stopping (or failed to). */
bool sensors_stopped(const struct sensors *s);
/* Finishes the orderly stop (sensors_stop, if not begun yet, and then its
 * remaining steps on the real clock: blocks a few ms, at most 500 ms) and
 * frees. */
void sensors_free(struct sensors *s);
/* CLOCK_MONOTONIC ns at which sensors_run must be called: the earliest chip
 * deadline, or the last one within 20 ms of it (served together). */
int64_t sensors_next_deadline(const struct sensors *s);
/* Does all chip I/O that is due at now: the deadlines that have come, and
 * on the chips' shared tick (chip_out.tick) the slots and reads that may
 * join it (chip_out.early, chip_out.late). Never blocks longer than one
 * I2C transfer. */
void sensors_run(struct sensors *s, int64_t now);
/* Moves the samples that arrived since the previous call into r (has_* and
 * the chip blocks, plus one fault string per fault since then), clearing
 * them so a value is never reported twice, and gives each chip its state on
 * r: a block is there exactly when its state is "ok"; a chip being retried
 * gets a fault line on every record until it measures again. */
void sensors_take(struct sensors *s, struct record *r);
/* Fills the chip part of a status answer. */
void sensors_status(const struct sensors *s, struct proto_status *st);
/* Runs the one-shot hardware test of `sensord --probe` on bus: identity,
 * self-tests, one measurement per chip; prints a PASS/FAIL table to stdout.
 * Returns 0 only when every enabled chip passed. Blocking is fine here. */
int sensors_probe(const struct sensors_conf *conf, struct i2c_bus *bus);

#endif
