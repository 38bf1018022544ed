/* SPDX-License-Identifier: Apache-2.0 */
/*
 * conf: table-driven JSON configuration. A daemon describes its keys (type,
 * range, default, required) in a table of struct conf_key pointing into its
 * own config struct; conf_load reads the whole file, rejects unknown keys
 * (except those starting with "_comment"), and on the first problem writes a
 * message naming the file, the key and what was expected, e.g.
 *   streamerd.json: "batch_max_rows": expected integer 1..100000, got "ten"
 */
#ifndef SNOWSENSE_CONF_H
#define SNOWSENSE_CONF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

enum conf_type {
	CONF_BOOL,	/* bool */
	CONF_INT,	/* int64_t, range imin..imax */
	CONF_DOUBLE,	/* double, range dmin..dmax (JSON integers accepted) */
	CONF_STRING,	/* char[size]; "" when absent without default */
	CONF_ENUM,	/* int: index into choices[] */
	CONF_INT_LIST,	/* struct conf_int_list; each element in imin..imax */
	CONF_STR_LIST,	/* struct conf_str_list; each element 1..CONF_LIST_STR_LEN-1 bytes */
	CONF_OBJECT,	/* nested table sub[], offsets relative to base + offset */
};

#define CONF_REQUIRED 0x1	/* must be present */
#define CONF_SECRET   0x2	/* never echo the value in a message or a dump */

/* What conf_dump prints in place of a secret that is set. */
#define CONF_REDACTED "<redacted>"

#define CONF_LIST_MAX 32
struct conf_int_list {
	size_t n;
	int64_t v[CONF_LIST_MAX];
};
#define CONF_LIST_STR_LEN 64	/* each string of a conf_str_list, incl. NUL */
struct conf_str_list {
	size_t n;
	char v[CONF_LIST_MAX][CONF_LIST_STR_LEN];
};

struct conf_key {
	const char *name;
	enum conf_type type;
	size_t offset;		/* of the field in the caller's struct */
	size_t size;		/* CONF_STRING: buffer size including NUL */
	int flags;
	int64_t imin, imax, idef;	/* CONF_INT, CONF_BOOL (idef), CONF_ENUM (idef) */
	double dmin, dmax, ddef;	/* CONF_DOUBLE */
	const char *sdef;		/* CONF_STRING default, may be NULL */
	const char *const *choices;	/* CONF_ENUM: NULL-terminated */
	const struct conf_key *sub;	/* CONF_OBJECT: NULL-name-terminated */
};

/* Helpers to write tables; S is the config struct type, F the field. */
#define CONF_K_BOOL(n, S, F, def, fl) \
	{ .name = n, .type = CONF_BOOL, .offset = offsetof(S, F), .idef = def, .flags = fl }
#define CONF_K_INT(n, S, F, lo, hi, def, fl) \
	{ .name = n, .type = CONF_INT, .offset = offsetof(S, F), .imin = lo, .imax = hi, \
	  .idef = def, .flags = fl }
#define CONF_K_DOUBLE(n, S, F, lo, hi, def, fl) \
	{ .name = n, .type = CONF_DOUBLE, .offset = offsetof(S, F), .dmin = lo, .dmax = hi, \
	  .ddef = def, .flags = fl }
#define CONF_K_STR(n, S, F, def, fl) \
	{ .name = n, .type = CONF_STRING, .offset = offsetof(S, F), \
	  .size = sizeof(((S *)0)->F), .sdef = def, .flags = fl }
#define CONF_K_ENUM(n, S, F, ch, def, fl) \
	{ .name = n, .type = CONF_ENUM, .offset = offsetof(S, F), .choices = ch, \
	  .idef = def, .flags = fl }
#define CONF_K_INTLIST(n, S, F, lo, hi, fl) \
	{ .name = n, .type = CONF_INT_LIST, .offset = offsetof(S, F), .imin = lo, \
	  .imax = hi, .flags = fl }
#define CONF_K_STRLIST(n, S, F, fl) \
	{ .name = n, .type = CONF_STR_LIST, .offset = offsetof(S, F), .flags = fl }
/* A nested object whose keys live in the same struct. */
#define CONF_K_OBJ(n, tbl, fl) { .name = n, .type = CONF_OBJECT, .sub = tbl, .flags = fl }
/* A nested object whose keys live in the member F (a struct) of S. */
#define CONF_K_SUB(n, S, F, tbl, fl) \
	{ .name = n, .type = CONF_OBJECT, .offset = offsetof(S, F), .sub = tbl, .flags = fl }
#define CONF_K_END { .name = NULL }

/* Fills base from defaults only (what a missing file would mean). */
void conf_defaults(const struct conf_key *table, void *base);
/* Loads path into base (defaults first). Returns 0, or -EINVAL with a
 * message in err (file, key, what was expected), or another -errno when the
 * file cannot be read (message in err too). */
int conf_load(const char *path, const struct conf_key *table, void *base,
    char *err, size_t errlen);
/* Same as conf_load from a string; name is used in messages. */
int conf_load_string(const char *name, const char *text, size_t len,
    const struct conf_key *table, void *base, char *err, size_t errlen);
/* The configuration in base as JSON text (new, free()), indented, in table
 * order: every key with its value (defaults filled in), an unset string as
 * null, a CONF_SECRET key that is set as CONF_REDACTED, and a "_comment"
 * naming origin, so the text loads back as a configuration (numbers to 15
 * significant digits: what a person writes survives). Returns 0, or
 * -EINVAL when out of memory or a string is not UTF-8. */
int conf_dump(const char *origin, const struct conf_key *table, const void *base,
    char **ret_json);
/* conf_dump written to out with a newline. 0, conf_dump's errors, or -EIO
 * when out cannot be written. */
int conf_print(FILE *out, const char *origin, const struct conf_key *table,
    const void *base);

#endif
