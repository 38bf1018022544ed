/* SPDX-License-Identifier: Apache-2.0 */
/*
 * http: one HTTPS request at a time through libcurl's multi interface, driven
 * from the daemon's poll loop (socket and timer callbacks, never a blocking
 * perform). Serialising every request keeps exactly one kept-alive TLS
 * connection per host and makes "at most one append in flight" structural.
 * TLS peer and host verification are always on; ca_file only adds a trust
 * anchor (the emulator's CA).
 */
#ifndef STREAMERD_HTTP_H
#define STREAMERD_HTTP_H

#include <poll.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define HTTP_MAX_FDS 8

struct http_req {
	const char *method;		/* "GET", "POST", "PUT", "DELETE" */
	const char *url;
	const char *bearer;		/* Authorization: Bearer …, or NULL */
	const char *token_type;		/* X-Snowflake-Authorization-Token-Type, or NULL */
	const char *content_type;	/* NULL: no body */
	const char *content_encoding;	/* NULL: identity */
	const char *session;		/* x-snowflake-session to echo, or NULL */
	const void *body;		/* borrowed until the request completes */
	size_t body_len;
	size_t raw_len;			/* uncompressed length, sent when encoded */
	long timeout_ms;
};

#define HTTP_SESSION_MAX 256	/* longest x-snowflake-session value kept */

struct http_resp {
	long status;			/* HTTP status; 0 when the transfer failed */
	const char *body;		/* NUL-terminated; borrowed until the next start */
	size_t body_len;
	int64_t retry_after_s;		/* Retry-After in seconds, -1 when absent */
	char session[HTTP_SESSION_MAX + 1];	/* x-snowflake-session, "" when absent
					 * or not one printable token */
	char content_type[128];		/* media type, lower-case, no parameters; "" when absent */
	char error[256];		/* transport failure text when status is 0 */
	const char *error_kind;		/* ... and its class, static (libcurl's words for
					 * its error code); NULL: not known */
	long new_connections;		/* connections this request had to open */
	double seconds;			/* total time of the transfer */
};

struct http;

/* Creates the client (new; http_free). ca_file may be "" or NULL. */
int http_new(const char *ca_file, const char *user_agent, struct http **ret);
void http_free(struct http *h);
/* Starts req; -EBUSY while another request runs. Strings in req are copied
 * except body, which stays borrowed until http_take returns the answer. */
int http_start(struct http *h, const struct http_req *req);
/* True while a request is running. */
bool http_busy(const struct http *h);
/* Fills fds (up to cap) with the sockets libcurl waits on; returns count. */
size_t http_pollfds(const struct http *h, struct pollfd *fds, size_t cap);
/* Milliseconds until libcurl's next timer, -1 when none. */
int http_timeout_ms(const struct http *h, int64_t now_ns);
/* Lets libcurl act on ready fds (from http_pollfds) and expired timers. */
void http_dispatch(struct http *h, const struct pollfd *fds, size_t n, int64_t now_ns);
/* When the running request finished, *ret gets its answer (borrowed until
 * the next http_start) and true is returned. */
bool http_take(struct http *h, const struct http_resp **ret);
/* Runs req to completion, blocking (only for --check and --drop-channel). */
int http_run_sync(struct http *h, const struct http_req *req, const struct http_resp **ret);

#endif
