/* SPDX-License-Identifier: Apache-2.0 */
/*
 * crc: the two checksums snowsense needs — Sensirion's CRC-8 (poly 0x31,
 * init 0xFF; also used by the TDK ICP-10125) on every I2C data word, and
 * CRC32C (Castagnoli) on every journal entry.
 */
#ifndef SNOWSENSE_CRC_H
#define SNOWSENSE_CRC_H

#include <stddef.h>
#include <stdint.h>

/* CRC-8 over n bytes, MSB first, not reflected, no final XOR. */
uint8_t crc8_sensirion(const void *p, size_t n);
/* CRC32C of n bytes, continuing from crc (start with 0). */
uint32_t crc32c(uint32_t crc, const void *p, size_t n);

#endif
