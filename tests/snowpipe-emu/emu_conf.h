/* SPDX-License-Identifier: Apache-2.0 */
/*
 * emu_conf: the Snowpipe emulator's world — account, users with their keys
 * and PATs, tables with typed columns, pipes, limits and wire-shape switches —
 * read once from a JSON file and immutable afterwards.
 */
#ifndef EMU_CONF_H
#define EMU_CONF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>
#include <openssl/evp.h>

enum emu_type {
	EMU_T_NUMBER,		/* NUMBER(p,s), DECIMAL, INTEGER, BIGINT, ... */
	EMU_T_FLOAT,		/* FLOAT, DOUBLE, REAL */
	EMU_T_VARCHAR,		/* VARCHAR(n), STRING, TEXT, CHAR(n) */
	EMU_T_BOOLEAN,
	EMU_T_TIMESTAMP,	/* TIMESTAMP_NTZ/LTZ/TZ, DATETIME, TIMESTAMP */
	EMU_T_DATE,
	EMU_T_VARIANT,
	EMU_T_OBJECT,
	EMU_T_ARRAY,
};

struct emu_column {
	char *name;		/* stored (upper-case unless quoted) name */
	enum emu_type type;
	int precision, scale;	/* NUMBER; TIMESTAMP: fractional digits (default 9) */
	int64_t max_len;	/* VARCHAR, in characters */
	bool not_null;
	bool ts_micros;		/* TIMESTAMP: keep min(precision, 6) digits, not .mmm */
	json_t *def;		/* DEFAULT value as JSON, NULL when none */
};

struct emu_table {
	char *db, *schema, *name;
	char *sql_name;		/* SQLite table name (default: name) */
	struct emu_column *cols;
	size_t ncols;
};

/* One projected column of a pipe: path NULL means the whole row ($1). */
struct emu_pipe_col {
	size_t col;		/* index into table->cols */
	char **path;		/* key path into the row, NULL-terminated */
	bool by_name;		/* default pipe: match the key case-insensitively */
};

struct emu_pipe {
	char *db, *schema, *name;
	struct emu_table *table;
	struct emu_pipe_col *cols;
	size_t ncols;
	bool is_default;
};

struct emu_pat {
	char *name;
	char *secret;
	int64_t expires_at;	/* Unix s; 0 = never */
	char *role;
};

struct emu_user {
	char *name;
	char *default_role;
	EVP_PKEY *keys[2];
	char fp[2][64];		/* "SHA256:<base64>" */
	size_t nkeys;
	struct emu_pat *pats;
	size_t npats;
};

struct emu_limits {
	int64_t max_body_bytes;		/* on the wire; 413 above */
	int64_t max_decompressed_bytes;	/* 413 above */
	double requests_per_s;		/* per channel; 0 = unlimited */
	int64_t max_offset_token_len;
	int64_t max_pending_bytes;	/* all channels; 429 above */
	int64_t max_channels;
};

/*
 * Strict behaviours: what the documentation states explicitly, where a
 * lenient emulator would hide a client's mistake. Each is one bit, switchable alone (config
 * "strict", --strict=LIST); all of them together is EMU_STRICT_ALL.
 */
enum {
	EMU_STRICT_CHANNEL_CASE = 1u << 0,	/* channel names are SQL identifiers;
						 * bulk status matched exactly */
	EMU_STRICT_INVALID_409 = 1u << 1,	/* append to an invalidated channel: 409 */
	EMU_STRICT_PAT_DIRECT = 1u << 2,	/* PAT refused at /oauth/token, taken as is
						 * on the ingest host */
	EMU_STRICT_SCOPE_HOST = 1u << 3,	/* scope = the ingest host alone */
	EMU_STRICT_TS_MICROS = 1u << 4,		/* timestamps kept to the microsecond */
};
#define EMU_STRICT_ALL 0x1fu
/* The strict behaviours in force when neither the config ("strict") nor the
 * command line (--strict, --no-strict) says otherwise: all of them, as the
 * service documents it; a test of lenient behaviour asks for it by name. */
#define EMU_STRICT_DEFAULT EMU_STRICT_ALL

struct emu_conf {
	char *path;
	char *account;
	char *ingest_host;	/* "{port}" is replaced by the bound port */
	int64_t scoped_token_ttl_s;
	int64_t jwt_max_skew_s;
	int64_t jwt_max_lifetime_s;
	int64_t commit_lag_ms;
	bool strict_accept;
	bool strict_auth;	/* ingest endpoints take scoped tokens only */
	bool hostname_json, token_json;
	int error_shape;	/* 0 {"code"}, 1 {"error_code"}, 2 bare string */
	char status_success[16];
	bool emit_rows_errors;
	int invalid_channel_http;	/* status for appends to an invalidated channel;
					 * 0: 409 when strict, else 400 */
	unsigned strict;		/* EMU_STRICT_* bits in force */
	struct emu_limits limits;
	struct emu_user *users;
	size_t nusers;
	struct emu_table *tables;
	size_t ntables;
	struct emu_pipe *pipes;	/* named pipes, then one default pipe per table */
	size_t npipes;
};

/* Loads path into *ret (new, free with emu_conf_free); on -EINVAL a message
 * naming the file and key is in err. */
int emu_conf_load(const char *path, struct emu_conf **ret, char *err, size_t errlen);
/* Frees c and everything it owns; NULL is fine. */
void emu_conf_free(struct emu_conf *c);
/* Finds a pipe by resolved names; borrowed from c. */
const struct emu_pipe *emu_conf_pipe(const struct emu_conf *c, const char *db,
    const char *schema, const char *pipe);
/* True when some table lives in db.schema.name (for the 404 flavour). */
bool emu_conf_has_table(const struct emu_conf *c, const char *db, const char *schema,
    const char *name);
/* Finds a user by upper-case name; borrowed from c. */
const struct emu_user *emu_conf_user(const struct emu_conf *c, const char *name);
/* Resolves an identifier like SQL does: "Quoted" kept (quotes removed,
 * "" unescaped), otherwise upper-cased. *ret is new. */
int emu_ident(const char *in, char **ret);
/* Parses a Snowflake type like "NUMBER(38,0)" into col; -EINVAL if unknown. */
int emu_conf_parse_type(const char *s, struct emu_column *col);
/* Sets the strict behaviours in force (EMU_STRICT_* bits) and what follows
 * from them in the tables (timestamp precision). */
void emu_conf_set_strict(struct emu_conf *c, unsigned strict);
/* Parses a comma-separated list of strict behaviour names ("channel_case,
 * invalid_409,pat_direct,scope_host,ts_micros", or "all") into bits; -EINVAL
 * naming the first unknown one in err. */
int emu_strict_parse(const char *list, unsigned *ret, char *err, size_t errlen);
/* The name of one strict behaviour bit (static string), NULL if none. */
const char *emu_strict_name(unsigned bit);
/* True when the strict behaviour bit is in force. */
bool emu_strict(const struct emu_conf *c, unsigned bit);

#endif
