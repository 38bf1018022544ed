/* SPDX-License-Identifier: Apache-2.0 */
/*
 * emu_store: the emulator's SQLite file — committed rows in one table per
 * configured table (same column names plus CHANNEL, OFFSET_TOKEN,
 * COMMITTED_AT), channel state in _emu_channels, and the scoped-token secret
 * in _emu_meta — so a restart on the same file keeps what was committed.
 */
#ifndef EMU_STORE_H
#define EMU_STORE_H

#include <stdint.h>

#include "emu_conf.h"
#include "emu_rows.h"

/* What survives a restart of one channel. Strings are owned by whoever
 * embeds the struct (emu_chan) and may be NULL where nullable. */
struct emu_chan_state {
	char *db, *schema, *pipe;	/* resolved identifiers */
	char *key;			/* upper-cased channel name */
	char *name;			/* channel name as first opened */
	int64_t client_seq, next_row_seq;
	char *committed_token;
	int64_t created_on_ms;
	int64_t rows_inserted, rows_parsed, rows_error_count;
	char *last_err_bound, *last_err_msg;
	int64_t last_err_ts;		/* ms; 0 = none */
	char status[64];
	int64_t lat_sum_ms, lat_n;
};

struct emu_store;

/* Opens (creating if needed) path for conf (borrowed for the store's life). */
int emu_store_open(const char *path, const struct emu_conf *conf, struct emu_store **ret);
/* Closes st; NULL is fine. */
void emu_store_close(struct emu_store *st);
/* Returns the persistent 32-byte token secret and token generation. */
int emu_store_secret(struct emu_store *st, unsigned char out[32], int64_t *ret_gen);
/* Persists the token generation. */
int emu_store_set_gen(struct emu_store *st, int64_t gen);
/* Calls cb for each stored channel; the state is borrowed for the call only. */
int emu_store_load_channels(struct emu_store *st,
    int (*cb)(const struct emu_chan_state *, void *), void *arg);
/* Inserts or replaces a channel's state. */
int emu_store_put_channel(struct emu_store *st, const struct emu_chan_state *s);
/* Deletes a channel's state (its committed rows stay). */
int emu_store_del_channel(struct emu_store *st, const struct emu_chan_state *s);
/* Transaction brackets: one commit of one batch is one transaction. */
int emu_store_begin(struct emu_store *st);
int emu_store_commit(struct emu_store *st);
void emu_store_rollback(struct emu_store *st);
/* Inserts one converted row (vals: one per column of table t). */
int emu_store_insert(struct emu_store *st, const struct emu_table *t,
    const struct emu_val *vals, const char *channel, const char *token,
    const char *committed_at);

#endif
