/* SPDX-License-Identifier: Apache-2.0 */
/*
 * emu_http: libmicrohttpd in external-polling epoll mode, so the whole
 * emulator runs on one thread and needs no locks. Paths and query values are
 * kept percent-encoded by a no-op unescape callback and decoded here, because
 * Snowflake names may contain an encoded '/' (%2F). Delayed answers suspend
 * the connection and are resumed from emu_http_run when due.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include <microhttpd.h>

#include "clock.h"
#include "emu_http.h"
#include "fsutil.h"
#include "log.h"

/* Past this many bytes a body is not even read: the connection is closed. */
#define HARD_BODY_CAP (256LL << 20)

struct emu_http {
	struct MHD_Daemon *d;
	bool tls;
	char *cert, *key;
	size_t max_body;
	emu_http_handler handler;
	void *arg;
	struct emu_req *delayed;
	struct emu_http_stats st;
};

static size_t
no_unescape(void *cls, struct MHD_Connection *c, char *s)
{
	(void)cls;
	(void)c;
	return strlen(s);
}

static int
hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int
emu_pct_decode(const char *s, size_t n, bool plus_space, char **ret, size_t *ret_len)
{
	char *out = malloc(n + 1), *o = out;

	if (out == NULL)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '%') {
			int hi, lo;

			if (i + 2 >= n || (hi = hexval(s[i + 1])) < 0 ||
			    (lo = hexval(s[i + 2])) < 0) {
				free(out);
				return -EINVAL;
			}
			*o++ = (char)(hi * 16 + lo);
			i += 2;
		} else if (s[i] == '+' && plus_space) {
			*o++ = ' ';
		} else {
			*o++ = s[i];
		}
	}
	*o = '\0';
	*ret = out;
	if (ret_len != NULL)
		*ret_len = (size_t)(o - out);
	return 0;
}

const char *
emu_http_header(struct emu_req *r, const char *name)
{
	return MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, name);
}

int
emu_http_query(struct emu_req *r, const char *name, char **ret)
{
	const char *v = MHD_lookup_connection_value(r->conn, MHD_GET_ARGUMENT_KIND, name);

	if (v == NULL)
		return -ENOENT;
	return emu_pct_decode(v, strlen(v), false, ret, NULL);
}

static void
notify_connection(void *cls, struct MHD_Connection *c, void **socket_context,
    enum MHD_ConnectionNotificationCode toe)
{
	struct emu_http *h = cls;

	(void)c;
	(void)socket_context;
	if (toe == MHD_CONNECTION_NOTIFY_STARTED) {
		h->st.connections++;
		if (h->tls)
			h->st.tls_handshakes++;
	}
}

static void
completed(void *cls, struct MHD_Connection *c, void **con_cls,
    enum MHD_RequestTerminationCode toe)
{
	struct emu_http *h = cls;
	struct emu_req *r = *con_cls, **pp;

	(void)c;
	(void)toe;
	if (r == NULL)
		return;
	for (pp = &h->delayed; *pp != NULL; pp = &(*pp)->next_delayed)
		if (*pp == r) {
			*pp = r->next_delayed;
			break;
		}
	free(r->body);
	free(r->resp);
	free(r->headers);
	free(r);
	*con_cls = NULL;
}

/* Adds the handler's extra header lines; true when one was Content-Type. */
static bool
add_headers(struct MHD_Response *resp, char *lines)
{
	bool ctype = false;

	for (char *l = lines, *nl; l != NULL && *l != '\0'; l = nl + 1) {
		char *colon = strchr(l, ':'), *v;

		if ((nl = strchr(l, '\n')) == NULL)
			break;
		*nl = '\0';
		if (colon != NULL && colon < nl) {
			*colon = '\0';
			for (v = colon + 1; *v == ' '; v++)
				;
			ctype |= strcasecmp(l, MHD_HTTP_HEADER_CONTENT_TYPE) == 0;
			MHD_add_response_header(resp, l, v);
			*colon = ':';
		}
		*nl = '\n';
	}
	return ctype;
}

static enum MHD_Result
send_answer(struct emu_req *r)
{
	struct MHD_Response *resp;
	enum MHD_Result ret;
	char ra[16];

	if (r->drop)
		return MHD_NO;
	resp = MHD_create_response_from_buffer(r->resp_len, r->resp, MHD_RESPMEM_MUST_FREE);
	if (resp == NULL)
		return MHD_NO;
	r->resp = NULL;	/* owned by the response now */
	if (!add_headers(resp, r->headers))
		MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE,
		    r->ctype ? r->ctype : "application/json");
	if (r->retry_after >= 0) {
		snprintf(ra, sizeof(ra), "%d", r->retry_after);
		MHD_add_response_header(resp, MHD_HTTP_HEADER_RETRY_AFTER, ra);
	}
	ret = MHD_queue_response(r->conn, (unsigned)r->status, resp);
	MHD_destroy_response(resp);
	return ret;
}

static int
body_add(struct emu_http *h, struct emu_req *r, const char *data, size_t n)
{
	size_t need;

	r->wire_len += n;
	h->st.bytes_in += (int64_t)n;
	if ((long long)r->wire_len > HARD_BODY_CAP)
		return -EFBIG;
	if (r->too_large || r->len + n > h->max_body) {
		r->too_large = true;	/* keep reading, answer 413 at the end */
		return 0;
	}
	need = r->len + n + 1;
	if (need > r->cap) {
		size_t cap = r->cap ? r->cap : 16384;
		char *nb;

		while (cap < need)
			cap *= 2;
		if (cap > h->max_body + 1)
			cap = h->max_body + 1;
		nb = realloc(r->body, cap);
		if (nb == NULL)
			return -ENOMEM;
		r->body = nb;
		r->cap = cap;
	}
	memcpy(r->body + r->len, data, n);
	r->len += n;
	r->body[r->len] = '\0';
	return 0;
}

static void
delay(struct emu_http *h, struct emu_req *r)
{
	r->resume_ns = clock_mono_ns() + r->delay_ms * NS_PER_MS;
	r->suspended = true;
	r->next_delayed = h->delayed;
	h->delayed = r;
	MHD_suspend_connection(r->conn);
}

static enum MHD_Result
access_cb(void *cls, struct MHD_Connection *c, const char *url, const char *method,
    const char *version, const char *upload_data, size_t *upload_data_size, void **con_cls)
{
	struct emu_http *h = cls;
	struct emu_req *r = *con_cls;

	(void)version;
	if (r == NULL) {
		const char *cl = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
		    MHD_HTTP_HEADER_CONTENT_LENGTH);

		char *end;

		errno = 0;
		if (cl != NULL && (strtoull(cl, &end, 10) > (unsigned long long)HARD_BODY_CAP ||
		    errno != 0))
			return MHD_NO;
		r = calloc(1, sizeof(*r));
		if (r == NULL)
			return MHD_NO;
		r->conn = c;
		r->retry_after = -1;
		*con_cls = r;
		return MHD_YES;
	}
	r->method = method;
	r->url = url;
	if (*upload_data_size > 0) {
		if (body_add(h, r, upload_data, *upload_data_size) < 0)
			return MHD_NO;
		*upload_data_size = 0;
		return MHD_YES;
	}
	if (r->handled)
		return send_answer(r);	/* resumed after a delay */
	if (r->body == NULL && (r->body = calloc(1, 1)) == NULL)
		return MHD_NO;
	h->st.requests++;
	r->handled = true;
	h->handler(h->arg, r);
	if (r->resp == NULL && !r->drop) {
		r->resp = strdup("{}");
		r->resp_len = 2;
	}
	if (r->delay_ms > 0 && !r->drop) {
		delay(h, r);
		return MHD_YES;
	}
	return send_answer(r);
}

static int
parse_listen(const char *listen, struct sockaddr_in *sa)
{
	char host[64];
	const char *colon = strrchr(listen, ':');
	char *end;
	unsigned long port;

	if (colon == NULL || (size_t)(colon - listen) >= sizeof(host))
		return -EINVAL;
	snprintf(host, sizeof(host), "%.*s", (int)(colon - listen), listen);
	errno = 0;
	port = strtoul(colon + 1, &end, 10);
	if (errno != 0 || *end != '\0' || end == colon + 1 || port > 65535)
		return -EINVAL;
	memset(sa, 0, sizeof(*sa));
	sa->sin_family = AF_INET;
	sa->sin_port = htons((uint16_t)port);
	if (strcmp(host, "localhost") == 0)
		snprintf(host, sizeof(host), "127.0.0.1");
	if (inet_pton(AF_INET, host, &sa->sin_addr) != 1)
		return -EINVAL;
	return 0;
}

static int
read_pem(const char *path, char **ret)
{
	size_t len;

	return fs_read_all(path, 1 << 20, ret, &len);
}

int
emu_http_start(const char *listen, const char *cert, const char *key, size_t max_body,
    emu_http_handler handler, void *arg, struct emu_http **ret)
{
	struct emu_http *h = calloc(1, sizeof(*h));
	struct sockaddr_in sa;
	unsigned flags = MHD_USE_EPOLL | MHD_ALLOW_SUSPEND_RESUME;
	int r;

	if (h == NULL)
		return -ENOMEM;
	h->max_body = max_body;
	h->handler = handler;
	h->arg = arg;
	if ((r = parse_listen(listen, &sa)) < 0) {
		log_warnx("--listen %s: expected IPv4:PORT", listen);
		goto fail;
	}
	if (cert != NULL && key != NULL) {
		if ((r = read_pem(cert, &h->cert)) < 0 || (r = read_pem(key, &h->key)) < 0) {
			log_warnx("cannot read TLS certificate or key: %s", strerror(-r));
			goto fail;
		}
		h->tls = true;
		flags |= MHD_USE_TLS;
	}
	h->d = MHD_start_daemon(flags, 0, NULL, NULL, access_cb, h,
	    MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sa,
	    MHD_OPTION_UNESCAPE_CALLBACK, no_unescape, NULL,
	    MHD_OPTION_NOTIFY_COMPLETED, completed, h,
	    MHD_OPTION_NOTIFY_CONNECTION, notify_connection, h,
	    MHD_OPTION_CONNECTION_LIMIT, (unsigned)512,
	    MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)300,
	    MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)(256 * 1024),
	    h->tls ? MHD_OPTION_HTTPS_MEM_KEY : MHD_OPTION_END, h->key,
	    MHD_OPTION_HTTPS_MEM_CERT, h->cert,
	    MHD_OPTION_END);
	if (h->d == NULL) {
		log_warnx("cannot start the HTTP%s server on %s", h->tls ? "S" : "", listen);
		r = -EADDRNOTAVAIL;
		goto fail;
	}
	*ret = h;
	return 0;
fail:
	emu_http_stop(h);
	return r;
}

void
emu_http_stop(struct emu_http *h)
{
	if (h == NULL)
		return;
	if (h->d != NULL) {
		for (struct emu_req *r = h->delayed; r != NULL; r = r->next_delayed)
			MHD_resume_connection(r->conn);
		MHD_stop_daemon(h->d);
	}
	free(h->cert);
	free(h->key);
	free(h);
}

unsigned
emu_http_port(const struct emu_http *h)
{
	const union MHD_DaemonInfo *i = MHD_get_daemon_info(h->d, MHD_DAEMON_INFO_BIND_PORT);

	return i ? i->port : 0;
}

bool
emu_http_tls(const struct emu_http *h)
{
	return h->tls;
}

int
emu_http_run(struct emu_http *h, int64_t timeout_ms)
{
	int64_t now = clock_mono_ns();

	for (struct emu_req *r = h->delayed; r != NULL; r = r->next_delayed) {
		int64_t left = (r->resume_ns - now) / NS_PER_MS;

		if (r->suspended && left < timeout_ms)
			timeout_ms = left < 0 ? 0 : left + 1;
	}
	if (timeout_ms < 0)
		timeout_ms = 0;
	if (timeout_ms > 1000)
		timeout_ms = 1000;
	(void)MHD_run_wait(h->d, (int32_t)timeout_ms);
	now = clock_mono_ns();
	for (struct emu_req *r = h->delayed; r != NULL; r = r->next_delayed)
		if (r->suspended && r->resume_ns <= now) {
			r->suspended = false;
			MHD_resume_connection(r->conn);
		}
	return 0;
}

void
emu_http_stats(const struct emu_http *h, struct emu_http_stats *ret)
{
	*ret = h->st;
}
