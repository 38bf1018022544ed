/* SPDX-License-Identifier: Apache-2.0 */
/*
 * record: what sensord assembles once per interval, and the one table that
 * describes every field of it: its key, its C type and place in struct
 * record, whether it may be null and where its presence flag is, its unit,
 * and the chip block it belongs to. The socket codec (proto.c), sensortap's
 * JSON, streamerd's row and docs/schema.md all walk this table, so adding a
 * field means: its member here, its entry in record.c, and the code that
 * measures it.
 *
 * Nulls: a nullable value has a bool presence flag beside it (has_*); a
 * zeroed record is therefore all null, so a value nobody measured can never
 * reach the wire as 0. A whole block (a chip's map) may be nullable too; a
 * value is present when its block and its own flag both say so.
 */
#ifndef SNOWSENSE_RECORD_H
#define SNOWSENSE_RECORD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define RECORD_DEVICE_LEN 64	/* device name, incl. NUL */
#define RECORD_FAULT_LEN 96	/* one fault string, incl. NUL */
#define RECORD_MAX_FAULTS 8
#define RECORD_BOOT_ID_LEN 37	/* /proc/sys/kernel/random/boot_id, incl. NUL */
#define RECORD_STATE_LEN 16	/* a chip state name, incl. NUL */
#define RECORD_ERROR_LEN 72	/* a chip's last error, a value's reason, incl. NUL */

/* Why a chip's block is what it is on this record (its "<chip>_state"). */
#define RECORD_OK "ok"			/* a fresh, valid sample: the block */
#define RECORD_WARMING_UP "warming_up"	/* SGP30's first 15 s: constants, not data */
#define RECORD_NO_NEW_SAMPLE "no_new_sample"	/* running; nothing new since the last record */
#define RECORD_RETRYING "retrying"	/* failed at "since" with "error"; being retried */
#define RECORD_ABSENT "absent"		/* did not answer at start; still looked for */
#define RECORD_DISABLED "disabled"	/* switched off in the configuration */

/* New members go at the end of a struct: tests fill these with positional
 * initializers. */
struct rec_scd4x {
	uint32_t co2;		/* ppm; present only with has_co2 */
	double t;		/* °C */
	double rh;		/* %RH */
	int64_t t_meas;		/* Unix ns */
	bool has_co2;		/* false: co2_error says why */
	bool has_co2_error;
	char co2_error[RECORD_ERROR_LEN];
};

struct rec_sgp30 {
	uint32_t eco2;		/* ppm */
	uint32_t tvoc;		/* ppb */
	int64_t t_meas;		/* Unix ns */
	bool warmup;		/* values are the chip's warm-up constants, not real */
	bool baseline_ok;	/* baseline restored or learned (IAQ valid) */
};

struct rec_icp10125 {
	double p;		/* Pa */
	double t;		/* °C */
	int64_t t_meas;		/* Unix ns */
};

/* System figures; each one is absent (has_* false) when it could not be read. */
struct rec_sys {
	bool has_cpu_t, has_cpu, has_mem, has_disk;
	double cpu_t;		/* °C */
	double cpu;		/* % busy since the previous record */
	double mem;		/* % used */
	uint64_t disk_free_mb;
};

/* A chip's state on one record; the manager (sensord/sensors.c) fills it. */
struct rec_chip_state {
	bool has_state, has_since, has_error;	/* false in records of older versions */
	char state[RECORD_STATE_LEN];	/* RECORD_OK, RECORD_RETRYING, ... */
	int64_t since;			/* retrying: Unix ns of the failure */
	char error[RECORD_ERROR_LEN];	/* retrying: the last error */
};

struct record {
	uint64_t seq;
	int64_t t;		/* Unix ns, CLOCK_REALTIME when the record was assembled */
	uint64_t boot_ns;	/* CLOCK_BOOTTIME at the same moment */
	bool synced;		/* clock synchronised when measured */
	char device[RECORD_DEVICE_LEN];
	bool has_scd4x, has_sgp30, has_icp10125;	/* false: the block is nil */
	struct rec_scd4x scd4x;
	struct rec_sgp30 sgp30;
	struct rec_icp10125 icp10125;
	struct rec_sys sys;
	unsigned nfaults;
	char faults[RECORD_MAX_FAULTS][RECORD_FAULT_LEN];
	bool has_boot_id;
	char boot_id[RECORD_BOOT_ID_LEN];
	struct rec_chip_state scd4x_st, sgp30_st, icp10125_st;
};

/* ---- the table ---------------------------------------------------------- */

enum record_type {
	RECORD_U32,	/* uint32_t */
	RECORD_U64,	/* uint64_t */
	RECORD_I64,	/* int64_t */
	RECORD_F64,	/* double, always finite */
	RECORD_BOOL,	/* bool */
	RECORD_STR,	/* char[size], NUL-terminated, no NUL inside */
	RECORD_STRS,	/* char[max][size] with an unsigned count at .count */
	RECORD_MAP,	/* a block: the map of fields[0..nfields) */
};

#define RECORD_NOT_NULL (-1)	/* .has of a value that is never null */

struct record_field {
	const char *key;	/* in its map: the record's or its block's */
	size_t klen;		/* strlen(key) */
	enum record_type type;
	size_t off;		/* of the value in struct record */
	ptrdiff_t has;		/* of its bool presence flag, or RECORD_NOT_NULL */
	size_t size;		/* RECORD_STR, RECORD_STRS: bytes per string, incl. NUL */
	size_t count;		/* RECORD_STRS: offset of the unsigned count */
	size_t max;		/* RECORD_STRS: at most this many strings */
	const struct record_field *fields;	/* RECORD_MAP */
	size_t nfields;
	/* May be missing from a record, then null: records journaled before
	 * this field existed are replayed after an upgrade, so every field
	 * added after the first release must be optional (and nullable). */
	bool optional;
	const char *unit;	/* "ppm", "°C", "ns", ... or "" */
	const char *flat;	/* its name where blocks are flattened (the row's
				 * extra keys): NULL means "<block>_<key>", or the
				 * key for a field outside any block */
	const char *doc;	/* one line for docs/schema.md */
	/* A value of a chip's block that may be null on its own while the
	 * block has a sample: the key of the string field in the same block
	 * that says why (present exactly when the value is null). */
	const char *why;
};

/* Helpers to write the table (record.c); M is a member path in struct record. */
#define RECORD_OFF(M) offsetof(struct record, M)
#define RECORD_VAL(k, ty, M, u, d) \
	{ .key = k, .klen = sizeof(k) - 1, .type = ty, .off = RECORD_OFF(M), \
	  .has = RECORD_NOT_NULL, .unit = u, .doc = d }
/* A value that may be null: H is its bool presence flag. */
#define RECORD_OPT(k, ty, M, H, u, d) \
	{ .key = k, .klen = sizeof(k) - 1, .type = ty, .off = RECORD_OFF(M), \
	  .has = RECORD_OFF(H), .unit = u, .doc = d }
#define RECORD_STRING(k, M, d) \
	{ .key = k, .klen = sizeof(k) - 1, .type = RECORD_STR, .off = RECORD_OFF(M), \
	  .has = RECORD_NOT_NULL, .size = sizeof(((struct record *)0)->M), .unit = "", \
	  .doc = d }
/* A value added after records were first journaled: nullable (flag H), and
 * a record without it (from an older sensord's journal) reads as null. */
#define RECORD_ADDED(k, ty, M, H, u, d) \
	{ .key = k, .klen = sizeof(k) - 1, .type = ty, .off = RECORD_OFF(M), \
	  .has = RECORD_OFF(H), .optional = true, .unit = u, .doc = d }
/* The same for a string (a char array M). */
#define RECORD_ADDED_STR(k, M, H, d) \
	{ .key = k, .klen = sizeof(k) - 1, .type = RECORD_STR, .off = RECORD_OFF(M), \
	  .has = RECORD_OFF(H), .size = sizeof(((struct record *)0)->M), .optional = true, \
	  .unit = "", .doc = d }
/* A block of fields tbl, nil when H is false (H may be RECORD_NOT_NULL). */
#define RECORD_BLOCK(k, tbl, H, d) \
	{ .key = k, .klen = sizeof(k) - 1, .type = RECORD_MAP, .has = H, .fields = tbl, \
	  .nfields = sizeof(tbl) / sizeof((tbl)[0]), .unit = "", .doc = d }

/* The whole record as one map: the root of the table. */
extern const struct record_field record_root;

/* True when f (a field of block blk, NULL for the record's own fields) has a
 * value in r: its block is not nil and its own flag, if any, is set. */
static inline bool
record_present(const struct record *r, const struct record_field *blk,
    const struct record_field *f)
{
	const char *p = (const char *)r;

	return (blk == NULL || blk->has < 0 || *(const bool *)(p + blk->has)) &&
	    (f->has < 0 || *(const bool *)(p + f->has));
}

/* Where f's value is in r (borrowed from r). */
static inline const void *
record_value(const struct record *r, const struct record_field *f)
{
	return (const char *)r + f->off;
}

/* The field at path ("seq", "scd4x.co2"), or NULL; *ret_blk gets its block
 * (NULL for the record's own fields). Borrowed, static. */
const struct record_field *record_find(const char *path,
    const struct record_field **ret_blk);
/* Writes f's flat name (see .flat) into buf; returns its length, or -ENOSPC. */
int record_flat_name(const struct record_field *blk, const struct record_field *f,
    char *buf, size_t cap);
/* Name of a type as docs/schema.md says it: "uint", "float", "str", ... */
const char *record_type_name(enum record_type t);
/* Adds a fault string to a record (truncated to fit; past the cap the last
 * slot says that more faults did not fit). */
void record_add_fault(struct record *r, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

#endif
