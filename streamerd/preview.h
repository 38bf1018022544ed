/* SPDX-License-Identifier: Apache-2.0 */
/*
 * preview: streamerd --print-rows — the NDJSON rows streamerd would append
 * for the next records of sensord's journal, printed instead of sent:
 * nothing goes to Snowflake, nothing is acked, no credential is read (what
 * `telegraf --test` gives its users).
 */
#ifndef STREAMERD_PREVIEW_H
#define STREAMERD_PREVIEW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include "row.h"

struct preview_opts {
	const char *socket;	/* sensord's socket */
	uid_t server_uid;	/* who must serve it (or root): sdsock_open */
	uint64_t n;		/* rows to print, >= 1 */
	bool from_seq;		/* from seq, else the next record journaled */
	uint64_t seq;
	int64_t hold_ns;	/* unsynced_hold_s, for what a row would wait for */
};

/* Connects to sensord, then, under a seccomp filter that allows no new
 * socket, prints to out the rows of the next o->n records (records
 * retention dropped meanwhile are said on stderr, as streamerd skips them),
 * formatted with the host facts h: the rows streamerd appends, but for
 * "te", the batching time, which is now. A record taken before the clock
 * was synchronised gets its corrected time as streamerd would give it
 * (timefix.h); one streamerd would still hold is printed as it is, and
 * said on stderr. Waits for records
 * as long as sensord is there. Returns 0, or -errno with what went wrong in
 * err (sensord unreachable or gone, refused, a row that cannot be made). */
int preview_rows(const struct preview_opts *o, const struct row_host *h, FILE *out,
    char *err, size_t errlen);

#endif
