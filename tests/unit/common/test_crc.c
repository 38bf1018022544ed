/* SPDX-License-Identifier: Apache-2.0 */
/*
 * CRC-8 vectors from docs/chips.md §1.2 and §6, and the CRC32C check
 * values (RFC 3720 B.4 and the standard "123456789").
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "crc.h"

static void
test_crc8_vectors(void **state)
{
	static const struct { uint16_t w; uint8_t crc; } v[] = {
		{ 0xBEEF, 0x92 }, { 0x0000, 0x81 }, { 0xFFFF, 0xAC }, { 0x0001, 0xB0 },
		{ 0x8000, 0xA2 }, { 0x01F4, 0x33 }, { 0x6667, 0xA2 }, { 0x5EB9, 0x3C },
		{ 0x0190, 0x4C }, { 0x0066, 0x9C }, { 0x0148, 0xF1 }, { 0x4711, 0xD4 },
		{ 0x8006, 0x04 }, { 0x07E6, 0x48 }, { 0x03DB, 0x42 }, { 0x0F80, 0x62 },
	};
	static const uint8_t zero = 0x00;

	(void)state;
	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		uint8_t b[2] = { (uint8_t)(v[i].w >> 8), (uint8_t)v[i].w };
		assert_int_equal(crc8_sensirion(b, 2), v[i].crc);
	}
	assert_int_equal(crc8_sensirion(&zero, 1), 0xAC);
}

static void
test_crc32c_vectors(void **state)
{
	uint8_t buf[32];

	(void)state;
	assert_int_equal(crc32c(0, "123456789", 9), 0xE3069283u);
	memset(buf, 0, sizeof(buf));
	assert_int_equal(crc32c(0, buf, 32), 0x8A9136AAu);
	memset(buf, 0xFF, sizeof(buf));
	assert_int_equal(crc32c(0, buf, 32), 0x62A8AB43u);
	for (int i = 0; i < 32; i++)
		buf[i] = (uint8_t)i;
	assert_int_equal(crc32c(0, buf, 32), 0x46DD794Eu);
	/* incremental == one shot, across the 8-byte slicing boundary */
	assert_int_equal(crc32c(crc32c(0, buf, 13), buf + 13, 19), 0x46DD794Eu);
	assert_int_equal(crc32c(0, NULL, 0), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_crc8_vectors),
		cmocka_unit_test(test_crc32c_vectors),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
