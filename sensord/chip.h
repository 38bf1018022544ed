/* SPDX-License-Identifier: Apache-2.0 */
/*
 * chip: the one interface every chip driver implements, and the word/CRC
 * framing helpers they share. A driver is a const struct chip_ops; the manager
 * (sensors.c) allocates state_size bytes per instance and hands that state to
 * every op, so a driver keeps nothing in file-scope variables.
 *
 * Drivers are non-blocking state machines: each op issues at most a few
 * transfers that need no wait between them and says when it wants to be
 * called again (out->next, CLOCK_MONOTONIC ns), and whether it may be
 * called sooner when the loop is awake for another chip (out->early), or,
 * for a read whose answer waits in the chip, later, on the next wake-up the
 * loop has anyway (out->late), so the chips share one tick: one wake-up a
 * second in all. Only probe() may sleep.
 * Retrying, back-off and fault bookkeeping live in the manager: a driver only
 * reports "this chip failed" (out->err) with a short reason.
 */
#ifndef SNOWSENSE_CHIP_H
#define SNOWSENSE_CHIP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "clock.h"
#include "i2c_bus.h"
#include "proto.h"
#include "sensors.h"

#define CHIP_WHAT_LEN RECORD_ERROR_LEN
#define CHIP_INFO_LEN 160
#define CHIP_MAX_WORDS 3		/* the longest response here */
/* Added to every execution-time wait: the loop reads its clock once per
 * turn and the transfers of other chips in the same turn come first, so a
 * command goes out a little after "now" and its answer must not be asked
 * for exactly "now + execution time" later. */
#define CHIP_MARGIN (2 * NS_PER_MS)
/* How early a chip's next slot may be served when the loop is awake anyway
 * (out->early): half the 1 s period, so a 1 Hz grid can join any other
 * chip's (the SGP30's, which is never early, is the shared tick). */
#define CHIP_EARLY (NS_PER_S / 2)
/* How long a read may wait for the shared tick (out->late): a period, so a
 * command sent on one tick is answered on the next. The chips keep an
 * answer until it is read or another command comes (chips.md §1.1), and
 * out->taken keeps the sample's time true. */
#define CHIP_LATE NS_PER_S

/* What the manager knows from the other chips, for compensation. */
struct chip_env {
	bool has_p;		/* ICP-10125 has measured */
	double p;		/* its latest pressure, Pa */
	bool has_th;		/* SCD4x has measured */
	double t, rh;		/* its latest temperature °C and humidity %RH */
	uint64_t th_seq;	/* bumps on every new SCD4x sample */
};

/* What one poll produced. */
struct chip_out {
	int64_t next;		/* call poll again at this CLOCK_MONOTONIC ns */
	int64_t early;		/* ... or up to this much sooner or later, on
				 * the shared tick (below) when it comes then:
				 * next is a slot on the chip's grid, not the end of a
				 * command's execution time (0: exactly then) */
	int64_t late;		/* > 0: next may also be served up to this much
				 * later, on the shared tick when it comes then
				 * (what is read waits in the chip) */
	bool tick;		/* next is a slot of the chips' shared tick (the
				 * SGP30's 1 s grid): the others' early slots and
				 * late reads are served on it, and on no other
				 * deadline */
	bool sample;		/* the block below holds a fresh, CRC-valid measurement */
	int64_t taken;		/* CLOCK_MONOTONIC ns the sample was measured, when
				 * not at this poll (0: now) */
	union {
		struct rec_scd4x scd4x;
		struct rec_sgp30 sgp30;
		struct rec_icp10125 icp10125;
	} u;			/* t_meas is left for the manager to fill */
	bool warmup;		/* the sample is the chip's warm-up output, not data */
	int err;		/* < 0: the chip failed; restart it after a back-off */
	bool fault;		/* something worth a fault line: what says it */
	char what[CHIP_WHAT_LEN];	/* e.g. "crc error on read_measurement" */
	bool stopped;		/* after stop() returned true: finished */
};

struct chip_ops {
	const char *name;	/* "scd4x": config block, logs, faults, status */
	uint16_t addr;		/* 7-bit I2C address */
	size_t state_size;	/* bytes the manager allocates (zeroed) per instance */
	/* Prepares a zeroed state: conf is the chip's block of struct
	 * sensors_conf, bus and state_dir are borrowed for the state's life. */
	void (*init)(void *st, const void *conf, struct i2c_bus *bus,
	    const char *state_dir);
	/* (Re)starts the chip at now with a first transfer that needs no wait
	 * before it. 0 and *ret_next, or -errno when nothing answers. */
	int (*start)(void *st, int64_t now, int64_t *ret_next);
	/* Does the I/O due at now, using env for compensation; fills out. */
	void (*poll)(void *st, int64_t now, const struct chip_env *env,
	    struct chip_out *out);
	/* Begins an orderly stop at now: leaves the chip quiet (SCD4x:
	 * periodic measurement off) and, where the chip holds something worth
	 * keeping (SGP30: its baseline), arranges to save it. false: done.
	 * true: poll must go on being called from *ret_next, as usual and never
	 * waiting, until it sets out->stopped (or fails). */
	bool (*stop)(void *st, int64_t now, int64_t *ret_next);
	/* Blocking hardware test of `sensord --probe`: identity, self-test,
	 * one measurement. 0 = pass; info gets a one-line summary either way. */
	int (*probe)(void *st, char *info, size_t infolen);
	/* "starting", "ok" or "warmup" while the chip runs; borrowed, static. */
	const char *(*state)(const void *st);
	/* Releases what init acquired; the manager frees the state itself. */
	void (*fini)(void *st);
};

extern const struct chip_ops scd4x_driver;
extern const struct chip_ops sgp30_driver;
extern const struct chip_ops icp10125_driver;

/* ---- framing helpers (chip.c) ----------------------------------------- */

/* Writes cmd and nargs argument words, each followed by its CRC, to addr.
 * 0 or -errno (-EREMOTEIO: NACK). */
int chip_send(struct i2c_bus *bus, uint16_t addr, uint16_t cmd,
    const uint16_t *args, size_t nargs);
/* Reads n words (data + CRC each) from addr into words (host order).
 * 0, -EBADMSG on a CRC mismatch (words untouched), or -errno. */
int chip_read_words(struct i2c_bus *bus, uint16_t addr, uint16_t *words, size_t n);
/* Zero-wait command then its n-word answer in one combined transfer. */
int chip_send_read(struct i2c_bus *bus, uint16_t addr, uint16_t cmd,
    uint16_t *words, size_t n);
/* Short name of a transfer error for fault lines: "nack", "crc error",
 * "timeout", else strerror; borrowed, static. */
const char *chip_errname(int err);
/* Fills out as "chip failed": err and "<errname> on <what>". */
void chip_fail(struct chip_out *out, int err, const char *what);
/* Sleeps for ns of CLOCK_MONOTONIC (probe and the end of an orderly stop
 * only: the loop never sleeps). */
void chip_sleep_ns(int64_t ns);
/* Where a 1 Hz chip's grid (re)starts: the first point at or after now of
 * the grid through slot, a previous start's; now itself for a first start
 * (slot 0). A chip re-initialised after a fault keeps its phase, so the
 * chips' shared tick stays where it was, and with it the place of 1 s
 * records between two ticks (sensord's main.c). */
int64_t chip_grid_resume(int64_t slot, int64_t now, int64_t period);

/* ---- pure conversions, exported for the unit tests ------------------ */

/* SCD4x read_measurement words → ppm, °C, %RH (datasheet ≥ v1.4, 2^16 − 1). */
void scd4x_convert(const uint16_t w[3], uint32_t *co2, double *t, double *rh);
/* SCD4x temperature offset °C → set_temperature_offset word. */
uint16_t scd4x_offset_word(double offset_c);
/* Pa → set_ambient_pressure word (hPa, rounded, clamped to 700..1200). */
uint16_t scd4x_pressure_word(double pa);
/* Absolute humidity g/m³ from °C and %RH (Sensirion's Magnus form). */
double sgp30_abs_humidity(double t, double rh);
/* g/m³ → set_absolute_humidity 8.8 fixed-point word, 1..0xFFFF. */
uint16_t sgp30_ah_word(double ah);
/* ICP-10125 raw outputs and signed OTP constants → Pa and °C. */
void icp10125_convert(const int16_t otp[4], uint16_t t_dout, uint32_t p_dout,
    double *p, double *t);

#endif
