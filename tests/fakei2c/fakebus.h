/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fakebus: byte-level models of the SCD4x (0x62), SGP30 (0x58) and
 * ICP-10125 (0x63) on one emulated I2C bus, driven by a scenario (JSON).
 * Used in-process by the driver unit tests and by the LD_PRELOAD library
 * (fakei2c.so) that stands in for /dev/i2c-N under the unmodified sensord.
 *
 * Time is passed in by the caller (CLOCK_MONOTONIC ns, or a test's virtual
 * clock) so unit tests run in virtual time; the preload library passes the
 * real monotonic clock multiplied by the scenario's "time_scale".
 *
 * CONTRACT between the chip models and the driver tests; change it only
 * together with both sides.
 */
#ifndef SNOWSENSE_FAKEBUS_H
#define SNOWSENSE_FAKEBUS_H

#include <stddef.h>
#include <stdint.h>

struct fakebus;

/* Builds a bus from scenario JSON text (see tests/fakei2c/README.md).
 * Returns NULL with a message in err on a bad scenario. New. */
struct fakebus *fakebus_new(const char *json, char *err, size_t errlen);
void fakebus_free(struct fakebus *fb);
/* One write message to addr at time now. 0, or -EREMOTEIO when the address
 * (or a byte) is NACKed: chip absent/unplugged/busy, bad CRC on an argument
 * (the chip NACKs it), command not allowed in the current mode. */
int fakebus_write(struct fakebus *fb, uint16_t addr, const uint8_t *buf, size_t len,
    int64_t now);
/* One read message. 0, or -EREMOTEIO (nothing to read yet, busy, absent).
 * Bytes past the response read as 0xFF; a response is read once. */
int fakebus_read(struct fakebus *fb, uint16_t addr, uint8_t *buf, size_t len,
    int64_t now);
/* Applies a control command (JSON object: new values, faults, unplug...)
 * as described in README.md. 0 or -EINVAL. */
int fakebus_control(struct fakebus *fb, const char *json, int64_t now);
/* How many times the chip at addr received command cmd (0xFFFF: all). */
uint64_t fakebus_count(const struct fakebus *fb, uint16_t addr, uint16_t cmd);
/* The last argument words the chip at addr received with command cmd
 * (up to max words; returns how many), e.g. SCD4x ambient pressure or SGP30
 * absolute humidity, so tests can check compensation values. */
size_t fakebus_last_args(const struct fakebus *fb, uint16_t addr, uint16_t cmd,
    uint16_t *words, size_t max);

/* Additions (not in the original contract; the functions above are unchanged). */

/* Fixes the bus origin: chips power on at now and scenario times ("at",
 * "unplug_at", ...) count from it. Without this call the first
 * fakebus_write/read/control latches the origin. */
void fakebus_set_origin(struct fakebus *fb, int64_t now);
/* The origin in the caller's ns (0 before it is latched). */
int64_t fakebus_origin(const struct fakebus *fb);
/* The scenario's "time_scale" (default 1): the preload library multiplies
 * real elapsed time by it before passing now. In-process callers may ignore it. */
double fakebus_time_scale(const struct fakebus *fb);
/* Like fakebus_control with the reason for -EINVAL in err. */
int fakebus_control_err(struct fakebus *fb, const char *json, int64_t now, char *err,
    size_t errlen);
/* Counters and model state as compact JSON (README.md, "Stats"). New
 * (caller frees with free()); NULL when out of memory. */
char *fakebus_stats_json(const struct fakebus *fb, int64_t now);

#endif
