/* SPDX-License-Identifier: Apache-2.0 */
/*
 * i2c_bus and the drivers' framing helpers: opening failures of the Linux
 * backend (no i2c adapter exists here, so ENOENT and a non-i2c node are what
 * can be exercised), errno normalisation and counters in the wrappers, and the
 * exact bytes chip_send puts on the wire for the frames of docs/chips.md §6, with CRC
 * checking on the way back.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "chip.h"
#include "i2c_bus.h"

/* A scripted bus: records the last write, answers reads from a buffer, and
 * fails with a chosen errno. */
struct script {
	int fail;			/* returned by every op when non-zero */
	uint16_t addr;
	uint8_t wbuf[32];
	size_t wlen;
	uint8_t rbuf[32];
	size_t rlen;
	int writes, reads, write_reads;
};

static int
s_write(void *ctx, uint16_t addr, const uint8_t *buf, size_t len)
{
	struct script *s = ctx;

	s->writes++;
	if (s->fail)
		return s->fail;
	s->addr = addr;
	memcpy(s->wbuf, buf, len);
	s->wlen = len;
	return 0;
}

static int
s_read(void *ctx, uint16_t addr, uint8_t *buf, size_t len)
{
	struct script *s = ctx;

	s->reads++;
	if (s->fail)
		return s->fail;
	s->addr = addr;
	/* past the response the chip sends all-ones */
	memset(buf, 0xFF, len);
	memcpy(buf, s->rbuf, len < s->rlen ? len : s->rlen);
	return 0;
}

static int
s_write_read(void *ctx, uint16_t addr, const uint8_t *wbuf, size_t wlen,
    uint8_t *rbuf, size_t rlen)
{
	struct script *s = ctx;
	int r;

	s->write_reads++;
	r = s_write(ctx, addr, wbuf, wlen);
	s->writes--;
	if (r < 0)
		return r;
	r = s_read(ctx, addr, rbuf, rlen);
	s->reads--;
	return r;
}

static const struct i2c_bus_ops script_ops = {
	.write = s_write, .read = s_read, .write_read = s_write_read,
};

static void
test_open_missing(void **state)
{
	struct i2c_bus *bus = (struct i2c_bus *)0x1;

	(void)state;
	assert_int_equal(i2c_bus_open("/nonexistent/i2c-1", &bus), -ENOENT);
	assert_ptr_equal(bus, (struct i2c_bus *)0x1);	/* untouched on failure */
}

static void
test_open_not_i2c(void **state)
{
	struct i2c_bus *bus = NULL;
	int r;

	(void)state;
	/* a character device that is not an i2c adapter refuses I2C_FUNCS */
	r = i2c_bus_open("/dev/null", &bus);
	assert_true(r == -ENOTTY || r == -EINVAL);
	assert_null(bus);
	i2c_bus_free(NULL);
}

static void
test_errno_normalised(void **state)
{
	struct script s = { 0 };
	struct i2c_bus bus = { .ops = &script_ops, .ctx = &s };
	uint8_t b[3];
	static const struct { int in, out; } v[] = {
		{ -EREMOTEIO, -EREMOTEIO }, { -ENXIO, -EREMOTEIO }, { -EIO, -EREMOTEIO },
		{ -ETIMEDOUT, -ETIMEDOUT }, { -EAGAIN, -EAGAIN }, { -EINVAL, -EINVAL },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		s.fail = v[i].in;
		assert_int_equal(i2c_bus_write(&bus, 0x62, b, 2), v[i].out);
		assert_int_equal(i2c_bus_read(&bus, 0x62, b, 3), v[i].out);
		assert_int_equal(i2c_bus_write_read(&bus, 0x63, b, 2, b, 3), v[i].out);
	}
	assert_int_equal(bus.xfers, 18);
	assert_int_equal(bus.errors, 18);
	s.fail = 0;
	assert_int_equal(i2c_bus_write(&bus, 0x62, b, 2), 0);
	assert_int_equal(bus.xfers, 19);
	assert_int_equal(bus.errors, 18);
}

static void
expect_frame(struct script *s, struct i2c_bus *bus, uint16_t cmd, const uint16_t *args,
    size_t nargs, const uint8_t *frame, size_t len)
{
	assert_int_equal(chip_send(bus, 0x62, cmd, args, nargs), 0);
	assert_int_equal(s->addr, 0x62);
	assert_int_equal(s->wlen, len);
	assert_memory_equal(s->wbuf, frame, len);
}

/* Frames from docs/chips.md §6, byte for byte. */
static void
test_send_frames(void **state)
{
	struct script s = { 0 };
	struct i2c_bus bus = { .ops = &script_ops, .ctx = &s };
	uint16_t a;

	(void)state;
	expect_frame(&s, &bus, 0xEC05, NULL, 0, (const uint8_t[]){ 0xEC, 0x05 }, 2);
	a = 0x07E6;
	expect_frame(&s, &bus, 0x241D, &a, 1,
	    (const uint8_t[]){ 0x24, 0x1D, 0x07, 0xE6, 0x48 }, 5);
	a = 1950;
	expect_frame(&s, &bus, 0x2427, &a, 1,
	    (const uint8_t[]){ 0x24, 0x27, 0x07, 0x9E, 0x09 }, 5);
	a = 0x03DB;
	expect_frame(&s, &bus, 0xE000, &a, 1,
	    (const uint8_t[]){ 0xE0, 0x00, 0x03, 0xDB, 0x42 }, 5);
	a = 1;
	expect_frame(&s, &bus, 0x2416, &a, 1,
	    (const uint8_t[]){ 0x24, 0x16, 0x00, 0x01, 0xB0 }, 5);
	a = 0x0F80;
	expect_frame(&s, &bus, 0x2061, &a, 1,
	    (const uint8_t[]){ 0x20, 0x61, 0x0F, 0x80, 0x62 }, 5);
	a = 0x0066;
	expect_frame(&s, &bus, 0xC595, &a, 1,
	    (const uint8_t[]){ 0xC5, 0x95, 0x00, 0x66, 0x9C }, 5);
	/* set_iaq_baseline: TVOC first, then CO2eq (docs/chips.md §3.5) */
	expect_frame(&s, &bus, 0x201E, (const uint16_t[]){ 0x936B, 0x90D7 }, 2,
	    (const uint8_t[]){ 0x20, 0x1E, 0x93, 0x6B, 0xB0, 0x90, 0xD7, 0x5F }, 8);
	assert_int_equal(chip_send(&bus, 0x62, 0x0000, (const uint16_t[]){ 1, 2, 3, 4 }, 4),
	    -EINVAL);
}

static void
test_read_words(void **state)
{
	struct script s = { 0 };
	struct i2c_bus bus = { .ops = &script_ops, .ctx = &s };
	static const uint8_t meas[] = { 0x01, 0xF4, 0x33, 0x66, 0x67, 0xA2, 0x5E, 0xB9, 0x3C };
	uint16_t w[3] = { 7, 7, 7 };

	(void)state;
	memcpy(s.rbuf, meas, sizeof(meas));
	s.rlen = sizeof(meas);
	assert_int_equal(chip_read_words(&bus, 0x62, w, 3), 0);
	assert_int_equal(w[0], 0x01F4);
	assert_int_equal(w[1], 0x6667);
	assert_int_equal(w[2], 0x5EB9);
	/* one flipped CRC anywhere: -EBADMSG and nothing stored */
	for (size_t k = 2; k < sizeof(meas); k += 3) {
		uint16_t z[3] = { 7, 7, 7 };
		memcpy(s.rbuf, meas, sizeof(meas));
		s.rbuf[k] ^= 0x01;
		assert_int_equal(chip_read_words(&bus, 0x62, z, 3), -EBADMSG);
		assert_int_equal(z[0], 7);
		assert_int_equal(z[2], 7);
	}
	/* reading past the response gives 0xFF 0xFF 0xFF, whose CRC is wrong */
	memcpy(s.rbuf, meas, 3);
	s.rlen = 3;
	assert_int_equal(chip_read_words(&bus, 0x62, w, 2), -EBADMSG);
	assert_int_equal(chip_read_words(&bus, 0x62, w, 4), -EINVAL);
	assert_int_equal(chip_read_words(&bus, 0x62, w, 0), -EINVAL);
}

static void
test_send_read_combined(void **state)
{
	struct script s = { 0 };
	struct i2c_bus bus = { .ops = &script_ops, .ctx = &s };
	uint16_t id = 0;

	(void)state;
	s.rbuf[0] = 0x01;
	s.rbuf[1] = 0x48;
	s.rbuf[2] = 0xF1;
	s.rlen = 3;
	assert_int_equal(chip_send_read(&bus, 0x63, 0xEFC8, &id, 1), 0);
	assert_int_equal(id, 0x0148);
	assert_int_equal(s.write_reads, 1);
	assert_int_equal(s.writes, 0);
	assert_int_equal(s.wbuf[0], 0xEF);
	assert_int_equal(s.wbuf[1], 0xC8);
	s.fail = -ENXIO;
	assert_int_equal(chip_send_read(&bus, 0x63, 0xEFC8, &id, 1), -EREMOTEIO);
}

static void
test_errnames(void **state)
{
	struct chip_out out = { 0 };

	(void)state;
	assert_string_equal(chip_errname(-EREMOTEIO), "nack");
	assert_string_equal(chip_errname(-EBADMSG), "crc error");
	assert_string_equal(chip_errname(-ETIMEDOUT), "timeout");
	chip_fail(&out, -EBADMSG, "read_measurement");
	assert_int_equal(out.err, -EBADMSG);
	assert_true(out.fault);
	assert_string_equal(out.what, "crc error on read_measurement");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_open_missing),
		cmocka_unit_test(test_open_not_i2c),
		cmocka_unit_test(test_errno_normalised),
		cmocka_unit_test(test_send_frames),
		cmocka_unit_test(test_read_words),
		cmocka_unit_test(test_send_read_combined),
		cmocka_unit_test(test_errnames),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
