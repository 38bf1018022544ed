/* SPDX-License-Identifier: Apache-2.0 */
/*
 * chip: what the fake bus core (fakebus.c) and the three chip models
 * (scd4x.c, sgp30.c, icp10125.c) share. The core owns everything that is
 * the same on every chip — presence, faults, the execution-time "deaf"
 * window, the read-once response buffer with 0xFF padding, command counts
 * and last arguments, and the value timeline — and calls a model's ops for
 * what is not: command decoding, power-on state, periodic sampling.
 *
 * Internal to tests/fakei2c; tests and drivers use fakebus.h only.
 */
#ifndef SNOWSENSE_FAKEI2C_CHIP_H
#define SNOWSENSE_FAKEI2C_CHIP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#define CHIP_MAX_FIELDS 8	/* timeline values per chip */
#define CHIP_MAX_POINTS 1024	/* timeline points per chip; more is a scenario error */
#define CHIP_MAX_CMDS 48	/* distinct command codes counted per chip */
#define CHIP_MAX_ARGS 4		/* argument words remembered per command */
#define CHIP_RESP_MAX 18	/* bytes in the largest response (6 words) */

#define US(x) ((int64_t)(x) * 1000)
#define MS(x) ((int64_t)(x) * 1000000)
#define SEC(x) ((int64_t)(x) * 1000000000)

/* A value a scenario can script over time: JSON key, how many numbers
 * (1 = scalar, n = array of n), first slot in the value vector, and the
 * range accepted in the scenario (values outside are an error). */
struct chip_field {
	const char *key;
	int count;
	int slot;
	double min, max;
};

struct chip;

struct chip_ops {
	const char *name;	/* scenario key: "scd4x", "sgp30", "icp10125" */
	uint16_t addr;
	const struct chip_field *fields;
	size_t nfields;
	const char *const *keys;	/* model-specific scenario/control keys, NULL-terminated */
	size_t priv_size;
	bool general_call;	/* answers the general-call reset (addr 0, 0x06) */
	/* Defaults for the model's private state, before configure(). */
	void (*init)(struct chip *c);
	/* Model-specific keys of a scenario or control object (at_start: from
	 * the scenario). 0 or -EINVAL with a message in err. */
	int (*configure)(struct chip *c, json_t *obj, bool at_start, int64_t now,
	    char *err, size_t errlen);
	/* Power-on (or replug, or reset): back to the datasheet's start state;
	 * first is true only for the power-on at the bus origin. */
	void (*power_on)(struct chip *c, int64_t now, bool first);
	/* Moves internal clocks (periodic samples) up to now; may be NULL. */
	void (*advance)(struct chip *c, int64_t now);
	/* A write message (len may be 0) while the chip is powered and not
	 * busy. 0, or -EREMOTEIO for a NACKed byte (the command is then not
	 * executed). A model that is asleep NACKs here. */
	int (*command)(struct chip *c, const uint8_t *buf, size_t len, int64_t now);
	/* After a response was read (read-once side effects); may be NULL. */
	void (*read_done)(struct chip *c, uint16_t cmd, int64_t now);
	/* Model state for the stats JSON; may be NULL. */
	void (*stats)(const struct chip *c, json_t *obj, int64_t now);
};

struct chip_cmdstat {
	uint16_t cmd;
	uint64_t count;
	size_t nargs;
	uint16_t args[CHIP_MAX_ARGS];
};

struct tl_point {
	int64_t at;			/* ns since the bus origin */
	uint32_t mask;			/* which slots this point carries */
	double v[CHIP_MAX_FIELDS];
};

struct chip {
	const struct chip_ops *ops;
	void *priv;
	bool present;			/* false: never answers */
	bool plugged;			/* false while unplugged */
	bool stuck_busy;		/* fault: NACK everything */
	uint64_t nack_left, crc_left, eio_left, etimedout_left, flip_left;
	uint64_t crc_done;		/* responses corrupted so far (rotates the word) */
	int64_t busy_until;		/* deaf until (execution time) */
	/* The pending response: readable once, from busy_until on. */
	bool resp_valid;
	uint16_t resp_cmd;
	uint8_t resp[CHIP_RESP_MAX];
	size_t resp_len;
	/* Scheduled plug events (ns since origin), applied in time order. */
	struct chip_event {
		int64_t at;
		bool plug;
	} events[16];
	size_t nevents;
	/* Values. */
	double base[CHIP_MAX_FIELDS];
	uint32_t base_mask;
	struct tl_point *tl;
	size_t ntl;
	bool tl_step;
	int64_t tl_loop;		/* 0: no loop; else period ns */
	/* Counters. */
	struct chip_cmdstat cmds[CHIP_MAX_CMDS];
	size_t ncmds;
	uint64_t writes, reads, nacks, crc_corrupted;
	const struct fakebus *bus;
};

/* Bus origin (ns) the timelines and events count from. */
int64_t fchip_origin(const struct chip *c);
/* Scripted value of slot at now; false if the scenario never gave it. */
bool fchip_value(const struct chip *c, int slot, int64_t now, double *ret);
/* Queues words (CRC added) as the response, readable once the chip is no
 * longer busy. */
void fchip_respond(struct chip *c, uint16_t cmd, const uint16_t *words, size_t n);
/* Deaf (NACK every header) for ns from now. */
void fchip_busy(struct chip *c, int64_t now, int64_t ns);
/* Records an accepted command and its argument words. */
void fchip_accept(struct chip *c, uint16_t cmd, const uint16_t *args, size_t nargs);
/* Splits buf[2..] into nargs CRC-checked words. 0, -EBADMSG on a bad CRC,
 * -EINVAL when the length is not 2 + 3·nargs. */
int fchip_args(const uint8_t *buf, size_t len, size_t nargs, uint16_t *words);
/* Reads a 48-bit serial ("0x..." string or integer) into *ret. */
int fchip_json_serial(json_t *v, uint64_t *ret);
/* Reads an integer in [min, max] into *ret. */
int fchip_json_int(json_t *v, int64_t min, int64_t max, int64_t *ret);
/* Rounds and clamps a double to [min, max]. */
long fchip_round_clamp(double v, long min, long max);

/* ICP-10125 conversion (docs/chips.md §4.4, double) and its inverse, shared by the
 * model and its unit test. */
double fake_icp_pressure(const int16_t c[4], uint16_t t_dout, uint32_t p_dout);
double fake_icp_temperature(uint16_t t_dout);
void fake_icp_inverse(const int16_t c[4], double p, double t, uint32_t *ret_p,
    uint16_t *ret_t);

extern const struct chip_ops fake_scd4x_ops;
extern const struct chip_ops fake_sgp30_ops;
extern const struct chip_ops fake_icp10125_ops;

#endif
