/* SPDX-License-Identifier: Apache-2.0 */
/*
 * emu_fault: scripted misbehaviour per request — answer with a given status
 * and body, close the connection before or after doing the work, delay the
 * answer — for the next N matching requests or a percentage of a route.
 * One-shot world changes (expire tokens, invalidate a channel, stall
 * commits) are applied by emu_api when a rule arrives, not stored here.
 */
#ifndef EMU_FAULT_H
#define EMU_FAULT_H

#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>

enum emu_route {
	EMU_R_HOSTNAME, EMU_R_TOKEN, EMU_R_OPEN, EMU_R_APPEND, EMU_R_DROP, EMU_R_STATUS,
	EMU_R_CONTROL, EMU_R_OTHER, EMU_R_COUNT
};

enum emu_fault_kind {
	EMU_F_STATUS,		/* answer status/body/headers without doing the work */
	EMU_F_DROP,		/* close the connection without doing the work */
	EMU_F_DROP_AFTER,	/* do the work, then close without answering */
	EMU_F_DELAY,		/* do the work, answer after delay_ms */
	EMU_F_LONG_ERROR,	/* open/status answers carry a bytes-long last_error_message */
	EMU_F_REFUSE_REPLAY,	/* a repeated append is refused, not answered again */
	EMU_F_SESSION,		/* answers carry x-snowflake-session: value */
};

struct emu_fault {
	struct emu_fault *next;
	int64_t id;
	enum emu_fault_kind kind;
	int route;		/* enum emu_route, or -1 for any API route */
	char *channel;		/* upper-cased channel filter or NULL */
	int64_t remaining;	/* -1: until cleared */
	int percent;		/* 1..100 */
	int status;
	int retry_after;	/* seconds, -1: no header */
	char *body;		/* sent verbatim */
	char *headers;		/* extra answer headers, "Name: value\n" lines, or NULL */
	char *value;		/* session: the header value (NULL: the emulator picks) */
	int64_t delay_ms;
	int64_t bytes;		/* long error: message length */
};

struct emu_faults;

/* Name of a route as used in JSON and stats (static string). */
const char *emu_route_name(int route);
/* Creates an empty rule set. */
int emu_faults_new(struct emu_faults **ret);
/* Frees f and its rules; NULL is fine. */
void emu_faults_free(struct emu_faults *f);
/* Adds one per-request rule from JSON (borrowed); -EINVAL with err. */
int emu_faults_add(struct emu_faults *f, json_t *rule, char *err, size_t errlen);
/* Removes every rule. */
void emu_faults_clear(struct emu_faults *f);
/* The rules as a JSON array (new). */
json_t *emu_faults_json(struct emu_faults *f);
/* Picks the first rule of one of the kinds in kinds_mask (1 << kind) that
 * matches route and channel (may be NULL), consuming one use. Returns a
 * copy in *ret (body, headers and value borrowed until the next call) or
 * false. */
bool emu_faults_take(struct emu_faults *f, unsigned kinds_mask, int route,
    const char *channel, struct emu_fault *ret);

#endif
