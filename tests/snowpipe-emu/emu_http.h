/* SPDX-License-Identifier: Apache-2.0 */
/*
 * emu_http: the emulator's HTTP(S) front end on libmicrohttpd, driven from
 * the emulator's own single-threaded loop (external polling). It collects
 * each request's body (capped), hands the finished request to a handler,
 * and sends, delays or drops the answer the handler decided on.
 */
#ifndef EMU_HTTP_H
#define EMU_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* One request as the handler sees it, and the answer it fills in. */
struct emu_req {
	void *conn;		/* the MHD connection */
	const char *method;	/* borrowed for the request */
	const char *url;	/* path, still percent-encoded */
	char *body;		/* NUL-terminated, at most max_body bytes */
	size_t len;
	size_t wire_len;	/* bytes received, even past the cap */
	bool too_large;		/* wire_len > max_body */
	/* filled by the handler */
	int status;
	char *resp;		/* new; freed by emu_http */
	size_t resp_len;
	const char *ctype;	/* static string */
	char *headers;		/* new; extra "Name: value\n" lines (a Content-Type
				 * among them replaces ctype), freed by emu_http */
	int retry_after;	/* -1: no Retry-After header */
	bool drop;		/* close the connection without answering */
	int64_t delay_ms;	/* answer later */
	/* private to emu_http */
	size_t cap;
	bool handled, suspended;
	int64_t resume_ns;
	struct emu_req *next_delayed;
};

struct emu_http;

typedef void (*emu_http_handler)(void *arg, struct emu_req *req);

struct emu_http_stats {
	int64_t connections;	/* accepted */
	int64_t tls_handshakes;	/* = TLS connections accepted (no session resumption) */
	int64_t requests;
	int64_t bytes_in;
};

/* Starts listening on listen ("HOST:PORT", port 0 = any free one) with TLS
 * when cert and key (PEM files) are given; handler runs for every request
 * on the caller's thread inside emu_http_run. */
int emu_http_start(const char *listen, const char *cert, const char *key, size_t max_body,
    emu_http_handler handler, void *arg, struct emu_http **ret);
/* Stops and frees h; NULL is fine. */
void emu_http_stop(struct emu_http *h);
/* The bound port. */
unsigned emu_http_port(const struct emu_http *h);
/* True when serving HTTPS. */
bool emu_http_tls(const struct emu_http *h);
/* Serves for at most timeout_ms (returns early on activity or a signal). */
int emu_http_run(struct emu_http *h, int64_t timeout_ms);
/* A request header (borrowed for the request) or NULL. */
const char *emu_http_header(struct emu_req *r, const char *name);
/* A query parameter, percent-decoded into *ret (new); -ENOENT if absent,
 * -EINVAL if badly encoded. */
int emu_http_query(struct emu_req *r, const char *name, char **ret);
/* Connection counters. */
void emu_http_stats(const struct emu_http *h, struct emu_http_stats *ret);
/* Percent-decodes s[0..n) into *ret (new); plus_space turns '+' into ' '. */
int emu_pct_decode(const char *s, size_t n, bool plus_space, char **ret, size_t *ret_len);

#endif
