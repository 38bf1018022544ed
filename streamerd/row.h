/* SPDX-License-Identifier: Apache-2.0 */
/*
 * row: turns one sensord record into one NDJSON row of the table schema
 * (docs/schema.md, "The row"): the prototype's 24 columns in their units and
 * formats, JSON null for every missing value, plus an extra key for every
 * record field no column carries, which the pipe keeps in RAW_DATA. The row
 * is a pure function of the record, the journal id, the host facts and the
 * batching time, so a replayed record yields the same uuid and rowid.
 */
#ifndef STREAMERD_ROW_H
#define STREAMERD_ROW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "proto.h"

#define ROW_OFFSET_TOKEN_LEN 38	/* 16 hex + '-' + 20 digits + NUL */
/* A row never exceeds this: record strings are capped, and the worst case
 * (every string at its cap, all control characters, escaped 6-fold) is
 * tested from the field table in test_row.c. */
#define ROW_MAX 16384

/* Facts about the machine streamerd runs on, gathered once at start-up. */
struct row_host {
	char host[256];		/* system hostname */
	char ip[64];		/* first non-loopback IPv4, "" when none */
	char mac[32];		/* its MAC, "" when unknown */
};

/* Fills h from gethostname/getifaddrs; fields it cannot learn stay "". */
void row_host_probe(struct row_host *h);
/* Writes the offset token "<journal_id 16 hex>-<seq 20 digits>" into buf. */
void row_offset_token(uint64_t journal_id, uint64_t seq, char buf[ROW_OFFSET_TOKEN_LEN]);
/* Parses an offset token; 0 or -EINVAL (anything else, including NULL). */
int row_parse_offset_token(const char *tok, uint64_t *ret_journal_id, uint64_t *ret_seq);
/* Formats the row for r, terminated by '\n', into buf of cap bytes; now_ns
 * is the batching time (for "te"). *ret_len gets the length without NUL.
 * Returns 0 or -ENOSPC. */
int row_format(const struct record *r, uint64_t journal_id, const struct row_host *h,
    int64_t now_ns, char *buf, size_t cap, size_t *ret_len);
/* The same with the time columns (ts, systemtime, starttime, endtime,
 * datetimestamp, te) made from t instead of the record's own; corrected adds
 * "time_corrected": true (the record's t and synced stay as they were, in
 * RAW_DATA). */
int row_format_at(const struct record *r, uint64_t journal_id, const struct row_host *h,
    int64_t now_ns, int64_t t, bool corrected, char *buf, size_t cap, size_t *ret_len);

#endif
