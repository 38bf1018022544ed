/* SPDX-License-Identifier: Apache-2.0 */
/*
 * crc: table-driven CRC32C (slicing-by-1 is plenty for journal-sized
 * entries) and bitwise CRC-8 (3-byte words, table not worth its cache).
 */
#include "crc.h"

uint8_t
crc8_sensirion(const void *p, size_t n)
{
	const uint8_t *b = p;
	uint8_t c = 0xFF;

	while (n--) {
		c ^= *b++;
		for (int i = 0; i < 8; i++)
			c = (c & 0x80) ? (uint8_t)((c << 1) ^ 0x31) : (uint8_t)(c << 1);
	}
	return c;
}

static uint32_t crc32c_table[8][256];
static int crc32c_ready;

static void
crc32c_init(void)
{
	for (uint32_t i = 0; i < 256; i++) {
		uint32_t c = i;
		for (int k = 0; k < 8; k++)
			c = (c & 1) ? (c >> 1) ^ 0x82F63B78u : c >> 1;
		crc32c_table[0][i] = c;
	}
	for (uint32_t i = 0; i < 256; i++)
		for (int t = 1; t < 8; t++)
			crc32c_table[t][i] = (crc32c_table[t - 1][i] >> 8) ^
			    crc32c_table[0][crc32c_table[t - 1][i] & 0xFF];
	crc32c_ready = 1;
}

uint32_t
crc32c(uint32_t crc, const void *p, size_t n)
{
	const uint8_t *b = p;

	if (!crc32c_ready)
		crc32c_init();
	crc = ~crc;
	/* slicing-by-8: the journal and replay paths checksum every entry */
	while (n >= 8) {
		uint32_t lo = crc ^ ((uint32_t)b[0] | (uint32_t)b[1] << 8 |
		    (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24);
		crc = crc32c_table[7][lo & 0xFF] ^ crc32c_table[6][(lo >> 8) & 0xFF] ^
		    crc32c_table[5][(lo >> 16) & 0xFF] ^ crc32c_table[4][lo >> 24] ^
		    crc32c_table[3][b[4]] ^ crc32c_table[2][b[5]] ^
		    crc32c_table[1][b[6]] ^ crc32c_table[0][b[7]];
		b += 8;
		n -= 8;
	}
	while (n--)
		crc = (crc >> 8) ^ crc32c_table[0][(crc ^ *b++) & 0xFF];
	return ~crc;
}
