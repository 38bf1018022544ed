/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fakebus_test: small helpers the fakebus unit tests share — write a frame
 * given as hex text, read n bytes back as hex text (or the errno name), so
 * a test reads like the tables of docs/chips.md §6. Header-only, for the
 * test_fakebus_*.c beside it.
 */
#ifndef SNOWSENSE_FAKEBUS_TEST_H
#define SNOWSENSE_FAKEBUS_TEST_H

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fakebus.h"

#define T_MS(x) ((int64_t)((x) * 1000000.0))
#define T_US(x) ((int64_t)((x) * 1000.0))
#define T_S(x) ((int64_t)((x) * 1000000000.0))

static inline size_t
fbt_hex(const char *hex, uint8_t *buf, size_t max)
{
	size_t n = 0;

	while (*hex != '\0' && n < max) {
		char *end;
		if (*hex == ' ') {
			hex++;
			continue;
		}
		char two[3] = { hex[0], hex[1], '\0' };
		buf[n++] = (uint8_t)strtoul(two, &end, 16);
		hex += 2;
	}
	return n;
}

static inline const char *
fbt_errname(int rc)
{
	switch (rc) {
	case 0: return "OK";
	case -EREMOTEIO: return "NACK";
	case -ENXIO: return "ENXIO";
	case -EIO: return "EIO";
	case -ETIMEDOUT: return "ETIMEDOUT";
	case -EINVAL: return "EINVAL";
	}
	return "ERR";
}

/* CRC-8 of one word, written out again here so the tests do not trust the
 * code under test. */
static inline uint8_t
crc8(uint8_t hi, uint8_t lo)
{
	uint8_t c = 0xFF, b[2] = { hi, lo };

	for (int i = 0; i < 2; i++) {
		c ^= b[i];
		for (int k = 0; k < 8; k++)
			c = (c & 0x80) ? (uint8_t)((c << 1) ^ 0x31) : (uint8_t)(c << 1);
	}
	return c;
}

/* Writes the frame; returns "OK", "NACK", ... */
static inline const char *
fbt_w(struct fakebus *fb, uint16_t addr, const char *hex, int64_t now)
{
	uint8_t buf[64];
	size_t n = fbt_hex(hex, buf, sizeof(buf));

	return fbt_errname(fakebus_write(fb, addr, buf, n, now));
}

/* Reads n bytes; returns them as "AA BB CC" (static buffer) or the errno name. */
static inline const char *
fbt_r(struct fakebus *fb, uint16_t addr, size_t n, int64_t now)
{
	static char out[3 * 64 + 1];
	uint8_t buf[64];
	int rc;

	if (n > sizeof(buf))
		n = sizeof(buf);
	rc = fakebus_read(fb, addr, buf, n, now);
	if (rc < 0)
		return fbt_errname(rc);
	out[0] = '\0';
	for (size_t i = 0, pos = 0; i < n; i++)
		pos += (size_t)snprintf(out + pos, sizeof(out) - pos, "%s%02X", i ? " " : "", buf[i]);
	return out;
}

/* Builds a bus or fails the test with the scenario error. */
static inline struct fakebus *
fbt_new(const char *json)
{
	char err[256] = "";
	struct fakebus *fb = fakebus_new(json, err, sizeof(err));

	if (fb == NULL)
		fprintf(stderr, "scenario rejected: %s\n", err);
	return fb;
}

#endif
