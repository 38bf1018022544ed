/* SPDX-License-Identifier: Apache-2.0 */
/*
 * api: the Snowpipe Streaming REST vocabulary — URL and body builders for
 * hostname, token, open, append, status and drop, tolerant-but-strict
 * parsers for every answer (plain text or JSON hostname and token, open,
 * append, bulk status, the four error-body shapes), and the mapping from an
 * HTTP status plus error code to the client's reaction (docs/snowpipe.md §5.2). Pure
 * functions over byte buffers: no I/O, no logging, fuzzable.
 */
#ifndef STREAMERD_API_H
#define STREAMERD_API_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define API_HOST_MAX 256
#define API_TOKEN_MAX 16384	/* longest bearer/continuation token accepted */
#define API_BODY_MAX (1024 * 1024)	/* longest answer body read */
#define API_URL_MAX 4096

enum api_class {
	API_OK,		/* 2xx */
	API_RETRY,	/* same request again after back-off */
	API_AUTH,	/* 401: refresh credentials once */
	API_FORBIDDEN,	/* 403: grants or network policy; stop */
	API_REOPEN,	/* channel must be reopened, resume from committed token */
	API_MISSING,	/* database/schema/pipe/table missing or not authorised; stop */
	API_BAD,	/* other 4xx: not retryable unchanged */
};

/* One channel's status, from an open answer or a bulk-status entry. Only
 * the committed offset token matters for exactly-once; every other field
 * is optional: absent, null or of a type no version of the service sends
 * means "not reported", and free text is cut to fit. */
#define API_OFFSET_TOKEN_MAX 2048	/* the service's documented offset token cap */
struct api_chstatus {
	char code[64];			/* channel_status_code, "" when not reported */
	bool token_present;		/* last_committed_offset_token was in the answer */
	bool has_committed;		/* ... and not null */
	char committed[API_OFFSET_TOKEN_MAX + 1];
	bool has_errors;		/* rows_error_count (or rows_errors) present */
	int64_t rows_error_count;
	char last_error[256];		/* last_error_message, cut, "" when null */
	int64_t rows_inserted;		/* -1 when absent */
	/* The names as the service stores them (an unquoted name upper-cased);
	 * "" when not reported or not a usable name. */
	char channel_name[256], database_name[256], schema_name[256], pipe_name[256];
};

/* Percent-encodes s (everything but RFC 3986 unreserved) into out.
 * Returns 0 or -ENOSPC. */
int api_escape(const char *s, char *out, size_t cap);
/* https://HOST/v2/streaming/databases/D/schemas/S/pipes/P/channels/C
 * (open: PUT, drop: DELETE), with ?requestId=. 0 or -ENOSPC. */
int api_url_channel(char *out, size_t cap, const char *base, const char *db,
    const char *schema, const char *pipe, const char *channel, const char *request_id);
/* The append-rows URL with start/end offset tokens and continuation token. */
int api_url_append(char *out, size_t cap, const char *base, const char *db,
    const char *schema, const char *pipe, const char *channel, const char *start_tok,
    const char *end_tok, const char *cont, const char *request_id);
/* The pipe's :bulk-channel-status URL, with ?requestId= unless request_id is
 * NULL. */
int api_url_status(char *out, size_t cap, const char *base, const char *db,
    const char *schema, const char *pipe, const char *request_id);
/* {"channel_names":[names[0], ...]}; *ret is new. */
int api_body_status(const char *const *names, size_t n, char **ret);
/* Form body for /oauth/token: kind 0 jwt-bearer with scope, kind 1 RFC 8693
 * token exchange of subject (a PAT). *ret is new. */
int api_body_token(int kind, const char *scope, const char *subject, char **ret);

/* Hostname answer (plain text, JSON string or {"hostname":…}) normalised:
 * trimmed, scheme and trailing '/' stripped, lower-case, '_' -> '-'.
 * Returns 0 or -EBADMSG. */
int api_parse_hostname(const char *body, size_t len, char out[API_HOST_MAX]);
/* Token answer (raw text, JSON string, {"token"} or {"access_token"});
 * *ret is new. 0 or -EBADMSG. */
int api_parse_token(const char *body, size_t len, char **ret);
/* Open-channel answer: next_continuation_token (*ret_cont new) and the
 * channel status, which must say last_committed_offset_token (null for
 * none). 0 or -EBADMSG. */
int api_parse_open(const char *body, size_t len, char **ret_cont, struct api_chstatus *st);
/* Append answer: next_continuation_token (*ret_cont new). -EBADMSG when
 * malformed or a non-zero status_code says it was rejected. */
int api_parse_append(const char *body, size_t len, char **ret_cont);
/* Bulk-status answer: the entry keyed by channel, exactly, else without
 * regard to case (names are case-sensitive there, and the service stores an
 * unquoted name upper-cased). *ret_found false when the channel is absent
 * (dropped or expired). 0 or -EBADMSG. */
int api_parse_status(const char *body, size_t len, const char *channel,
    struct api_chstatus *st, bool *ret_found);
/* Error code from an error body (keys code, error_code, error, or a bare
 * JSON string); "" when none. Never fails. */
void api_error_code(const char *body, size_t len, char *code, size_t cap);
/* The message of an error body (keys message, error_description, msg),
 * printable bytes only and cut to cap; "" when none. Never fails. */
void api_error_message(const char *body, size_t len, char *out, size_t cap);
/* A loggable start of an answer body: printable ASCII kept, every other
 * byte as '?', at most cap - 4 bytes and "..." when cut; "(empty)" for none.
 * Never fails. */
void api_snippet(const char *body, size_t len, char *out, size_t cap);
/* Reaction for an HTTP status (0 = transport failure) and error code. */
enum api_class api_classify(long status, const char *code);
/* True for a usable channel status code (SUCCESS, or the older ACTIVE/"0"),
 * or none reported. */
bool api_status_usable(const char *code);
/* Name of a class, for log lines. */
const char *api_class_name(enum api_class c);

#endif
