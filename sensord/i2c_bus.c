/* SPDX-License-Identifier: Apache-2.0 */
/*
 * i2c_bus: the Linux i2c-dev backend and the thin wrappers every chip driver
 * calls. Each transfer is one I2C_RDWR ioctl carrying one message (or, for
 * zero-wait commands, a write and a read joined by a repeated start), so a
 * single descriptor serves all three chip addresses and no I2C_SLAVE address
 * switching is needed. Errors are normalised in the wrappers so that the
 * drivers see one NACK code (-EREMOTEIO) whatever the adapter reports.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <linux/i2c-dev.h>
#include <linux/i2c.h>

#include "i2c_bus.h"
#include "log.h"

/* i2c-dev refuses longer messages; nothing here comes close. */
#define I2C_MSG_MAX 8192

struct linux_bus {
	int fd;
};

/*
 * bcm2835 and DesignWare report a NACK as EREMOTEIO, adapters following the
 * kernel's fault-code convention use ENXIO for an address NACK, and EIO is
 * what a clock-stretch timeout or short transfer looks like. For a driver all
 * three mean "the chip did not take it": retry later.
 */
static int
normalise(int err)
{
	if (err == -ENXIO || err == -EIO || err == -EREMOTEIO)
		return -EREMOTEIO;
	return err;
}

static int
rdwr(int fd, struct i2c_msg *msgs, unsigned n)
{
	struct i2c_rdwr_ioctl_data d = { .msgs = msgs, .nmsgs = n };
	int r;

	do {
		r = ioctl(fd, I2C_RDWR, &d);
	} while (r < 0 && errno == EINTR);
	if (r < 0)
		return -errno;
	/* A partial transfer is a failed one for a command protocol. */
	return (unsigned)r == n ? 0 : -EIO;
}

static int
lb_write(void *ctx, uint16_t addr, const uint8_t *buf, size_t len)
{
	struct linux_bus *lb = ctx;
	struct i2c_msg m = { .addr = addr, .flags = 0, .len = (uint16_t)len,
		.buf = (uint8_t *)(uintptr_t)buf };

	if (len > I2C_MSG_MAX || addr > 0x7F)
		return -EINVAL;
	return rdwr(lb->fd, &m, 1);
}

static int
lb_read(void *ctx, uint16_t addr, uint8_t *buf, size_t len)
{
	struct linux_bus *lb = ctx;
	struct i2c_msg m = { .addr = addr, .flags = I2C_M_RD, .len = (uint16_t)len,
		.buf = buf };

	if (len == 0 || len > I2C_MSG_MAX || addr > 0x7F)
		return -EINVAL;
	return rdwr(lb->fd, &m, 1);
}

/* The read is the last message: bcm2835 rejects any other order. */
static int
lb_write_read(void *ctx, uint16_t addr, const uint8_t *wbuf, size_t wlen,
    uint8_t *rbuf, size_t rlen)
{
	struct linux_bus *lb = ctx;
	struct i2c_msg m[2] = {
		{ .addr = addr, .flags = 0, .len = (uint16_t)wlen,
		  .buf = (uint8_t *)(uintptr_t)wbuf },
		{ .addr = addr, .flags = I2C_M_RD, .len = (uint16_t)rlen, .buf = rbuf },
	};

	if (wlen > I2C_MSG_MAX || rlen == 0 || rlen > I2C_MSG_MAX || addr > 0x7F)
		return -EINVAL;
	return rdwr(lb->fd, m, 2);
}

static void
lb_close(void *ctx)
{
	struct linux_bus *lb = ctx;

	if (lb && lb->fd >= 0)
		close(lb->fd);
	free(lb);
}

static const struct i2c_bus_ops linux_ops = {
	.write = lb_write,
	.read = lb_read,
	.write_read = lb_write_read,
	.close = lb_close,
};

int
i2c_bus_open(const char *path, struct i2c_bus **ret)
{
	struct i2c_bus *bus = NULL;
	struct linux_bus *lb = NULL;
	unsigned long funcs = 0;
	int fd, r;

	fd = open(path, O_RDWR | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return -errno;
	if (ioctl(fd, I2C_FUNCS, &funcs) < 0) {
		r = -errno;
		goto fail;
	}
	/* Plain I2C messages are all these chips speak; SMBus-only is no use. */
	if (!(funcs & I2C_FUNC_I2C)) {
		r = -EOPNOTSUPP;
		goto fail;
	}
	bus = calloc(1, sizeof(*bus));
	lb = calloc(1, sizeof(*lb));
	if (!bus || !lb) {
		r = -ENOMEM;
		goto fail;
	}
	lb->fd = fd;
	bus->ops = &linux_ops;
	bus->ctx = lb;
	snprintf(bus->name, sizeof(bus->name), "%s", path);
	log_debug("%s: opened, functionality 0x%08lx", path, funcs);
	*ret = bus;
	return 0;
fail:
	free(bus);
	free(lb);
	close(fd);
	return r;
}

void
i2c_bus_free(struct i2c_bus *bus)
{
	if (!bus)
		return;
	if (bus->ops && bus->ops->close)
		bus->ops->close(bus->ctx);
	free(bus);
}

static int
account(struct i2c_bus *bus, int r)
{
	bus->xfers++;
	if (r < 0) {
		bus->errors++;
		r = normalise(r);
	}
	return r;
}

int
i2c_bus_write(struct i2c_bus *bus, uint16_t addr, const uint8_t *buf, size_t len)
{
	return account(bus, bus->ops->write(bus->ctx, addr, buf, len));
}

int
i2c_bus_read(struct i2c_bus *bus, uint16_t addr, uint8_t *buf, size_t len)
{
	return account(bus, bus->ops->read(bus->ctx, addr, buf, len));
}

int
i2c_bus_write_read(struct i2c_bus *bus, uint16_t addr, const uint8_t *wbuf,
    size_t wlen, uint8_t *rbuf, size_t rlen)
{
	return account(bus, bus->ops->write_read(bus->ctx, addr, wbuf, wlen, rbuf, rlen));
}
