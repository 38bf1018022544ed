/* SPDX-License-Identifier: Apache-2.0 */
/*
 * i2c_bus: the only door from the chip drivers to the hardware. Transfers
 * are whole I2C messages to a 7-bit address; errors come back as negative
 * errno with NACKs normalised: -EREMOTEIO (address or data NACK, also
 * reported by some adapters as ENXIO or EIO), -ETIMEDOUT, or others.
 *
 * A bus is a small vtable so the chip drivers can be unit-tested against
 * in-process chip models (tests/fakei2c); production builds use
 * i2c_bus_open() on /dev/i2c-N only.
 *
 * CONTRACT between the drivers (issue 3) and the daemon (issue 4).
 */
#ifndef SNOWSENSE_I2C_BUS_H
#define SNOWSENSE_I2C_BUS_H

#include <stddef.h>
#include <stdint.h>

struct i2c_bus_ops {
	/* One write message (S addrW data... P). */
	int (*write)(void *ctx, uint16_t addr, const uint8_t *buf, size_t len);
	/* One read message (S addrR data... P). */
	int (*read)(void *ctx, uint16_t addr, uint8_t *buf, size_t len);
	/* Write then repeated-start read, for zero-wait commands only. */
	int (*write_read)(void *ctx, uint16_t addr, const uint8_t *wbuf, size_t wlen,
	    uint8_t *rbuf, size_t rlen);
	void (*close)(void *ctx);
};

struct i2c_bus {
	const struct i2c_bus_ops *ops;
	void *ctx;
	char name[64];		/* e.g. "/dev/i2c-1", for log lines */
	uint64_t xfers, errors;	/* counters */
};

/* Opens /dev/i2c-N at path (O_RDWR|O_CLOEXEC) and checks I2C_FUNCS.
 * Returns 0 and *ret (new), or -errno (-ENOENT, -EACCES, ...). */
int i2c_bus_open(const char *path, struct i2c_bus **ret);
/* Closes and frees; NULL is fine. */
void i2c_bus_free(struct i2c_bus *bus);
/* Transfers; 0 or -errno as above. */
int i2c_bus_write(struct i2c_bus *bus, uint16_t addr, const uint8_t *buf, size_t len);
int i2c_bus_read(struct i2c_bus *bus, uint16_t addr, uint8_t *buf, size_t len);
int i2c_bus_write_read(struct i2c_bus *bus, uint16_t addr, const uint8_t *wbuf,
    size_t wlen, uint8_t *rbuf, size_t rlen);

#endif
