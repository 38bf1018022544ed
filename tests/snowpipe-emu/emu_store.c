/* SPDX-License-Identifier: Apache-2.0 */
/*
 * emu_store: SQLite in WAL mode with synchronous=NORMAL: a committed batch
 * survives the emulator being SIGKILLed (the chaos tests do that), not a
 * power cut, which is all a test server needs. Each batch's rows and its
 * channel's new committed offset token go in one transaction, so the token
 * never runs ahead of (or behind) the rows.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/rand.h>
#include <sqlite3.h>

#include "emu_store.h"
#include "log.h"

struct emu_store {
	sqlite3 *db;
	const struct emu_conf *conf;
	sqlite3_stmt **ins;	/* one per table, in config order */
	sqlite3_stmt *put, *del, *begin, *commit, *rollback;
};

static const char schema_sql[] =
    "CREATE TABLE IF NOT EXISTS _emu_meta(key TEXT PRIMARY KEY, value);"
    "CREATE TABLE IF NOT EXISTS _emu_channels("
    " database_name TEXT NOT NULL, schema_name TEXT NOT NULL, pipe_name TEXT NOT NULL,"
    " channel_key TEXT NOT NULL, channel_name TEXT NOT NULL,"
    " client_seq INTEGER NOT NULL, next_row_seq INTEGER NOT NULL,"
    " last_committed_offset_token TEXT, created_on_ms INTEGER NOT NULL,"
    " rows_inserted INTEGER NOT NULL, rows_parsed INTEGER NOT NULL,"
    " rows_error_count INTEGER NOT NULL, last_error_offset_upper_bound TEXT,"
    " last_error_message TEXT, last_error_timestamp INTEGER,"
    " channel_status_code TEXT NOT NULL, latency_sum_ms INTEGER NOT NULL,"
    " latency_batches INTEGER NOT NULL,"
    " PRIMARY KEY(database_name, schema_name, pipe_name, channel_key));";

static int
sqerr(struct emu_store *st, const char *what)
{
	log_warnx("sqlite: %s: %s", what, sqlite3_errmsg(st->db));
	return -EIO;
}

static void
quote_ident(char *out, size_t outlen, const char *name)
{
	size_t o = 0;

	if (outlen < 3)
		return;
	out[o++] = '"';
	for (const char *p = name; *p != '\0' && o + 3 < outlen; p++) {
		if (*p == '"')
			out[o++] = '"';
		out[o++] = *p;
	}
	out[o++] = '"';
	out[o] = '\0';
}

static const char *
sql_type(const struct emu_column *c)
{
	switch (c->type) {
	case EMU_T_NUMBER:
		return c->scale == 0 ? "INTEGER" : "REAL";
	case EMU_T_FLOAT:
		return "REAL";
	case EMU_T_BOOLEAN:
		return "INTEGER";
	default:
		return "TEXT";
	}
}

/* An existing table must have exactly the columns the config names. */
static int
check_columns(struct emu_store *st, const struct emu_table *t, const char *qname)
{
	char sql[700];
	sqlite3_stmt *s;
	size_t i = 0;
	int ok = 1;

	snprintf(sql, sizeof(sql), "PRAGMA table_info(%s)", qname);
	if (sqlite3_prepare_v2(st->db, sql, -1, &s, NULL) != SQLITE_OK)
		return sqerr(st, "table_info");
	while (sqlite3_step(s) == SQLITE_ROW) {
		const char *n = (const char *)sqlite3_column_text(s, 1);
		const char *want = i < t->ncols ? t->cols[i].name : i == t->ncols ? "CHANNEL" :
		    i == t->ncols + 1 ? "OFFSET_TOKEN" : i == t->ncols + 2 ? "COMMITTED_AT" : "";

		if (n == NULL || strcmp(n, want) != 0)
			ok = 0;
		i++;
	}
	sqlite3_finalize(s);
	if (!ok || i != t->ncols + 3) {
		log_warnx("sqlite: table %s exists with other columns than the config says; "
		    "use a fresh --db", t->sql_name);
		return -EEXIST;
	}
	return 0;
}

static int
create_table(struct emu_store *st, const struct emu_table *t, sqlite3_stmt **ret_ins)
{
	size_t cap = 256 + t->ncols * 300, n;
	char *sql = malloc(cap), *ins = malloc(cap), q[600];
	int r = -EIO;

	if (sql == NULL || ins == NULL) {
		r = -ENOMEM;
		goto out;
	}
	quote_ident(q, sizeof(q), t->sql_name);
	n = (size_t)snprintf(sql, cap, "CREATE TABLE IF NOT EXISTS %s (", q);
	for (size_t i = 0; i < t->ncols; i++) {
		char qc[300];

		quote_ident(qc, sizeof(qc), t->cols[i].name);
		n += (size_t)snprintf(sql + n, cap - n, "%s %s, ", qc, sql_type(&t->cols[i]));
	}
	snprintf(sql + n, cap - n, "CHANNEL TEXT, OFFSET_TOKEN TEXT, COMMITTED_AT TEXT)");
	if (sqlite3_exec(st->db, sql, NULL, NULL, NULL) != SQLITE_OK) {
		r = sqerr(st, "create table");
		goto out;
	}
	if ((r = check_columns(st, t, q)) < 0)
		goto out;
	n = (size_t)snprintf(ins, cap, "INSERT INTO %s VALUES (", q);
	for (size_t i = 0; i < t->ncols + 3; i++)
		n += (size_t)snprintf(ins + n, cap - n, i ? ",?" : "?");
	snprintf(ins + n, cap - n, ")");
	if (sqlite3_prepare_v2(st->db, ins, -1, ret_ins, NULL) != SQLITE_OK) {
		r = sqerr(st, "prepare insert");
		goto out;
	}
	r = 0;
out:
	free(sql);
	free(ins);
	return r;
}

static int
prepare_all(struct emu_store *st)
{
	static const char put[] = "INSERT OR REPLACE INTO _emu_channels VALUES "
	    "(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)";
	static const char del[] = "DELETE FROM _emu_channels WHERE database_name=? AND "
	    "schema_name=? AND pipe_name=? AND channel_key=?";

	if (sqlite3_prepare_v2(st->db, put, -1, &st->put, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(st->db, del, -1, &st->del, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(st->db, "BEGIN IMMEDIATE", -1, &st->begin, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(st->db, "COMMIT", -1, &st->commit, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(st->db, "ROLLBACK", -1, &st->rollback, NULL) != SQLITE_OK)
		return sqerr(st, "prepare");
	return 0;
}

int
emu_store_open(const char *path, const struct emu_conf *conf, struct emu_store **ret)
{
	struct emu_store *st = calloc(1, sizeof(*st));
	int r = -EIO;

	if (st == NULL)
		return -ENOMEM;
	st->conf = conf;
	st->ins = calloc(conf->ntables, sizeof(*st->ins));
	if (st->ins == NULL) {
		r = -ENOMEM;
		goto fail;
	}
	if (sqlite3_open_v2(path, &st->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
	    SQLITE_OPEN_FULLMUTEX, NULL) != SQLITE_OK) {
		r = st->db ? sqerr(st, path) : -ENOMEM;
		goto fail;
	}
	sqlite3_busy_timeout(st->db, 5000);
	if (sqlite3_exec(st->db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
	    NULL, NULL, NULL) != SQLITE_OK ||
	    sqlite3_exec(st->db, schema_sql, NULL, NULL, NULL) != SQLITE_OK) {
		r = sqerr(st, "schema");
		goto fail;
	}
	for (size_t i = 0; i < conf->ntables; i++)
		if ((r = create_table(st, &conf->tables[i], &st->ins[i])) < 0)
			goto fail;
	if ((r = prepare_all(st)) < 0)
		goto fail;
	*ret = st;
	return 0;
fail:
	emu_store_close(st);
	return r;
}

void
emu_store_close(struct emu_store *st)
{
	if (st == NULL)
		return;
	for (size_t i = 0; st->ins != NULL && i < st->conf->ntables; i++)
		sqlite3_finalize(st->ins[i]);
	free(st->ins);
	sqlite3_finalize(st->put);
	sqlite3_finalize(st->del);
	sqlite3_finalize(st->begin);
	sqlite3_finalize(st->commit);
	sqlite3_finalize(st->rollback);
	sqlite3_close(st->db);
	free(st);
}

int
emu_store_secret(struct emu_store *st, unsigned char out[32], int64_t *ret_gen)
{
	sqlite3_stmt *s;
	int found = 0, r = 0;

	*ret_gen = 1;
	if (sqlite3_prepare_v2(st->db, "SELECT key, value FROM _emu_meta", -1, &s, NULL) !=
	    SQLITE_OK)
		return sqerr(st, "meta");
	while (sqlite3_step(s) == SQLITE_ROW) {
		const char *k = (const char *)sqlite3_column_text(s, 0);

		if (k != NULL && strcmp(k, "token_secret") == 0 && sqlite3_column_bytes(s, 1) == 32) {
			memcpy(out, sqlite3_column_blob(s, 1), 32);
			found = 1;
		} else if (k != NULL && strcmp(k, "token_gen") == 0) {
			*ret_gen = sqlite3_column_int64(s, 1);
		}
	}
	sqlite3_finalize(s);
	if (found)
		return 0;
	if (RAND_bytes(out, 32) != 1)
		return -EIO;
	if (sqlite3_prepare_v2(st->db, "INSERT OR REPLACE INTO _emu_meta VALUES "
	    "('token_secret', ?)", -1, &s, NULL) != SQLITE_OK)
		return sqerr(st, "meta");
	sqlite3_bind_blob(s, 1, out, 32, SQLITE_TRANSIENT);
	if (sqlite3_step(s) != SQLITE_DONE)
		r = sqerr(st, "meta insert");
	sqlite3_finalize(s);
	return r;
}

int
emu_store_set_gen(struct emu_store *st, int64_t gen)
{
	sqlite3_stmt *s;
	int r = 0;

	if (sqlite3_prepare_v2(st->db, "INSERT OR REPLACE INTO _emu_meta VALUES "
	    "('token_gen', ?)", -1, &s, NULL) != SQLITE_OK)
		return sqerr(st, "meta");
	sqlite3_bind_int64(s, 1, gen);
	if (sqlite3_step(s) != SQLITE_DONE)
		r = sqerr(st, "meta gen");
	sqlite3_finalize(s);
	return r;
}

static char *
col_dup(sqlite3_stmt *s, int i)
{
	const unsigned char *t = sqlite3_column_text(s, i);

	return t ? strdup((const char *)t) : NULL;
}

int
emu_store_load_channels(struct emu_store *st,
    int (*cb)(const struct emu_chan_state *, void *), void *arg)
{
	sqlite3_stmt *s;
	int r = 0, rc;

	if (sqlite3_prepare_v2(st->db, "SELECT * FROM _emu_channels", -1, &s, NULL) != SQLITE_OK)
		return sqerr(st, "load channels");
	while (r == 0 && (rc = sqlite3_step(s)) == SQLITE_ROW) {
		struct emu_chan_state cs = {
			.db = col_dup(s, 0), .schema = col_dup(s, 1), .pipe = col_dup(s, 2),
			.key = col_dup(s, 3), .name = col_dup(s, 4),
			.client_seq = sqlite3_column_int64(s, 5),
			.next_row_seq = sqlite3_column_int64(s, 6),
			.committed_token = col_dup(s, 7),
			.created_on_ms = sqlite3_column_int64(s, 8),
			.rows_inserted = sqlite3_column_int64(s, 9),
			.rows_parsed = sqlite3_column_int64(s, 10),
			.rows_error_count = sqlite3_column_int64(s, 11),
			.last_err_bound = col_dup(s, 12), .last_err_msg = col_dup(s, 13),
			.last_err_ts = sqlite3_column_int64(s, 14),
			.lat_sum_ms = sqlite3_column_int64(s, 16),
			.lat_n = sqlite3_column_int64(s, 17),
		};
		const unsigned char *stc = sqlite3_column_text(s, 15);

		snprintf(cs.status, sizeof(cs.status), "%s", stc ? (const char *)stc : "SUCCESS");
		if (cs.db && cs.schema && cs.pipe && cs.key && cs.name)
			r = cb(&cs, arg);
		free(cs.db);
		free(cs.schema);
		free(cs.pipe);
		free(cs.key);
		free(cs.name);
		free(cs.committed_token);
		free(cs.last_err_bound);
		free(cs.last_err_msg);
	}
	sqlite3_finalize(s);
	return r;
}

static void
bind_text(sqlite3_stmt *s, int i, const char *t)
{
	if (t == NULL)
		sqlite3_bind_null(s, i);
	else
		sqlite3_bind_text(s, i, t, -1, SQLITE_STATIC);
}

int
emu_store_put_channel(struct emu_store *st, const struct emu_chan_state *c)
{
	sqlite3_stmt *s = st->put;
	int r = 0;

	bind_text(s, 1, c->db);
	bind_text(s, 2, c->schema);
	bind_text(s, 3, c->pipe);
	bind_text(s, 4, c->key);
	bind_text(s, 5, c->name);
	sqlite3_bind_int64(s, 6, c->client_seq);
	sqlite3_bind_int64(s, 7, c->next_row_seq);
	bind_text(s, 8, c->committed_token);
	sqlite3_bind_int64(s, 9, c->created_on_ms);
	sqlite3_bind_int64(s, 10, c->rows_inserted);
	sqlite3_bind_int64(s, 11, c->rows_parsed);
	sqlite3_bind_int64(s, 12, c->rows_error_count);
	bind_text(s, 13, c->last_err_bound);
	bind_text(s, 14, c->last_err_msg);
	if (c->last_err_ts)
		sqlite3_bind_int64(s, 15, c->last_err_ts);
	else
		sqlite3_bind_null(s, 15);
	bind_text(s, 16, c->status);
	sqlite3_bind_int64(s, 17, c->lat_sum_ms);
	sqlite3_bind_int64(s, 18, c->lat_n);
	if (sqlite3_step(s) != SQLITE_DONE)
		r = sqerr(st, "put channel");
	sqlite3_reset(s);
	sqlite3_clear_bindings(s);
	return r;
}

int
emu_store_del_channel(struct emu_store *st, const struct emu_chan_state *c)
{
	sqlite3_stmt *s = st->del;
	int r = 0;

	bind_text(s, 1, c->db);
	bind_text(s, 2, c->schema);
	bind_text(s, 3, c->pipe);
	bind_text(s, 4, c->key);
	if (sqlite3_step(s) != SQLITE_DONE)
		r = sqerr(st, "delete channel");
	sqlite3_reset(s);
	sqlite3_clear_bindings(s);
	return r;
}

static int
run(struct emu_store *st, sqlite3_stmt *s, const char *what)
{
	int rc = sqlite3_step(s);

	sqlite3_reset(s);
	return rc == SQLITE_DONE ? 0 : sqerr(st, what);
}

int
emu_store_begin(struct emu_store *st)
{
	return run(st, st->begin, "begin");
}

int
emu_store_commit(struct emu_store *st)
{
	return run(st, st->commit, "commit");
}

void
emu_store_rollback(struct emu_store *st)
{
	(void)run(st, st->rollback, "rollback");
}

int
emu_store_insert(struct emu_store *st, const struct emu_table *t,
    const struct emu_val *vals, const char *channel, const char *token,
    const char *committed_at)
{
	sqlite3_stmt *s = NULL;
	int r = 0;

	for (size_t i = 0; i < st->conf->ntables; i++)
		if (&st->conf->tables[i] == t)
			s = st->ins[i];
	if (s == NULL)
		return -EINVAL;
	for (size_t i = 0; i < t->ncols; i++) {
		int c = (int)i + 1;

		switch (vals[i].kind) {
		case EMU_V_NULL:
			sqlite3_bind_null(s, c);
			break;
		case EMU_V_INT:
			sqlite3_bind_int64(s, c, vals[i].i);
			break;
		case EMU_V_REAL:
			sqlite3_bind_double(s, c, vals[i].d);
			break;
		case EMU_V_TEXT:
			sqlite3_bind_text(s, c, vals[i].s, -1, SQLITE_STATIC);
			break;
		}
	}
	bind_text(s, (int)t->ncols + 1, channel);
	bind_text(s, (int)t->ncols + 2, token);
	bind_text(s, (int)t->ncols + 3, committed_at);
	if (sqlite3_step(s) != SQLITE_DONE)
		r = sqerr(st, "insert row");
	sqlite3_reset(s);
	sqlite3_clear_bindings(s);
	return r;
}
