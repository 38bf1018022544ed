/* SPDX-License-Identifier: Apache-2.0 */
/*
 * chip: Sensirion-style framing shared by the three chip drivers (a 16-bit
 * command, argument and response words each followed by a CRC-8), so no
 * driver builds byte strings or checks CRCs by hand.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "clock.h"
#include "crc.h"
#include "chip.h"

#define CHIP_MAX_ARGS 3

int
chip_send(struct i2c_bus *bus, uint16_t addr, uint16_t cmd, const uint16_t *args,
    size_t nargs)
{
	uint8_t b[2 + 3 * CHIP_MAX_ARGS];
	size_t n = 0;

	if (nargs > CHIP_MAX_ARGS)
		return -EINVAL;
	b[n++] = (uint8_t)(cmd >> 8);
	b[n++] = (uint8_t)cmd;
	for (size_t i = 0; i < nargs; i++) {
		b[n++] = (uint8_t)(args[i] >> 8);
		b[n++] = (uint8_t)args[i];
		b[n] = crc8_sensirion(&b[n - 2], 2);
		n++;
	}
	return i2c_bus_write(bus, addr, b, n);
}

static int
decode(const uint8_t *raw, uint16_t *words, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (crc8_sensirion(&raw[3 * i], 2) != raw[3 * i + 2])
			return -EBADMSG;
	for (size_t i = 0; i < n; i++)
		words[i] = (uint16_t)(raw[3 * i] << 8 | raw[3 * i + 1]);
	return 0;
}

int
chip_read_words(struct i2c_bus *bus, uint16_t addr, uint16_t *words, size_t n)
{
	uint8_t raw[3 * CHIP_MAX_WORDS];
	int r;

	if (n == 0 || n > CHIP_MAX_WORDS)
		return -EINVAL;
	r = i2c_bus_read(bus, addr, raw, 3 * n);
	if (r < 0)
		return r;
	return decode(raw, words, n);
}

int
chip_send_read(struct i2c_bus *bus, uint16_t addr, uint16_t cmd, uint16_t *words,
    size_t n)
{
	uint8_t c[2] = { (uint8_t)(cmd >> 8), (uint8_t)cmd };
	uint8_t raw[3 * CHIP_MAX_WORDS];
	int r;

	if (n == 0 || n > CHIP_MAX_WORDS)
		return -EINVAL;
	r = i2c_bus_write_read(bus, addr, c, sizeof(c), raw, 3 * n);
	if (r < 0)
		return r;
	return decode(raw, words, n);
}

const char *
chip_errname(int err)
{
	switch (err) {
	case -EREMOTEIO: return "nack";
	case -EBADMSG: return "crc error";
	case -ETIMEDOUT: return "timeout";
	default: return strerror(-err);
	}
}

void
chip_fail(struct chip_out *out, int err, const char *what)
{
	out->err = err < 0 ? err : -EIO;
	out->fault = true;
	snprintf(out->what, sizeof(out->what), "%s on %s", chip_errname(out->err), what);
}

int64_t
chip_grid_resume(int64_t slot, int64_t now, int64_t period)
{
	if (slot == 0)
		return now;
	if (slot < now)
		return slot + (now - slot + period - 1) / period * period;
	return slot - (slot - now) / period * period;
}

void
chip_sleep_ns(int64_t ns)
{
	struct timespec ts;
	int64_t until = clock_mono_ns() + ns;

	ts.tv_sec = until / NS_PER_S;
	ts.tv_nsec = until % NS_PER_S;
	while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR)
		;
}
