/* SPDX-License-Identifier: Apache-2.0 */
/*
 * http: libcurl multi with CURLMOPT_SOCKETFUNCTION/TIMERFUNCTION. The poll
 * loop owns waiting; libcurl only says which fds and when. One easy handle is
 * reused for every request; connections live in the multi handle's cache, so
 * consecutive requests to the same host share one TLS connection. DNS runs
 * in libcurl's threaded resolver and never blocks the loop.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <curl/curl.h>

#include "api.h"
#include "clock.h"
#include "http.h"

struct http {
	CURLM *multi;
	CURL *easy;
	bool busy, done;
	struct curl_slist *hdrs;
	char *ca_file, *user_agent;
	struct { curl_socket_t fd; int what; } socks[HTTP_MAX_FDS];
	size_t nsocks;
	int64_t timer_at;		/* monotonic ns, -1 when no timer */
	char *buf;			/* answer body */
	size_t len, cap;
	struct http_resp resp;
	char errbuf[CURL_ERROR_SIZE];
};

static int
sock_cb(CURL *e, curl_socket_t fd, int what, void *userp, void *sockp)
{
	struct http *h = userp;

	(void)e;
	(void)sockp;
	for (size_t i = 0; i < h->nsocks; i++) {
		if (h->socks[i].fd != fd)
			continue;
		if (what == CURL_POLL_REMOVE)
			h->socks[i] = h->socks[--h->nsocks];
		else
			h->socks[i].what = what;
		return 0;
	}
	if (what != CURL_POLL_REMOVE && h->nsocks < HTTP_MAX_FDS) {
		h->socks[h->nsocks].fd = fd;
		h->socks[h->nsocks].what = what;
		h->nsocks++;
	}
	return 0;
}

static int
timer_cb(CURLM *m, long ms, void *userp)
{
	struct http *h = userp;

	(void)m;
	h->timer_at = ms < 0 ? -1 : clock_mono_ns() + (int64_t)ms * NS_PER_MS;
	return 0;
}

static size_t
write_cb(char *p, size_t sz, size_t n, void *userp)
{
	struct http *h = userp;
	size_t len = sz * n;

	if (h->len + len > API_BODY_MAX)
		return 0;	/* aborts the transfer: no answer of ours is this big */
	if (h->len + len + 1 > h->cap) {
		size_t c = h->cap ? h->cap : 4096;
		char *q;

		while (c < h->len + len + 1)
			c *= 2;
		if ((q = realloc(h->buf, c)) == NULL)
			return 0;
		h->buf = q;
		h->cap = c;
	}
	memcpy(h->buf + h->len, p, len);
	h->len += len;
	h->buf[h->len] = '\0';
	return len;
}

/* The value of header line p (len bytes, CRLF included) when its name is
 * name, trimmed into out; false otherwise or when it does not fit. */
static bool
header_value(const char *p, size_t len, const char *name, char *out, size_t cap)
{
	size_t n = strlen(name);

	if (len <= n || p[n] != ':' || strncasecmp(p, name, n) != 0)
		return false;
	p += n + 1;
	len -= n + 1;
	while (len > 0 && (*p == ' ' || *p == '\t')) {
		p++;
		len--;
	}
	while (len > 0 && (p[len - 1] == '\r' || p[len - 1] == '\n' || p[len - 1] == ' ' ||
	    p[len - 1] == '\t'))
		len--;
	if (len >= cap)
		return false;
	memcpy(out, p, len);
	out[len] = '\0';
	return true;
}

static void
on_retry_after(struct http *h, const char *v)
{
	char *end;
	long long n;

	errno = 0;
	n = strtoll(v, &end, 10);
	/* HTTP-date values are ignored: the back-off then applies. */
	if (errno == 0 && end != v && *end == '\0' && n >= 0 && n <= 3600)
		h->resp.retry_after_s = n;
}

/* x-snowflake-session is echoed back as it came, so only one printable
 * token is kept: nothing that could split or fold a request header. */
static void
on_session(struct http *h, const char *v)
{
	for (const char *c = v; *c != '\0'; c++)
		if (!isgraph((unsigned char)*c))
			return;
	snprintf(h->resp.session, sizeof(h->resp.session), "%s", v);
}

static void
on_content_type(struct http *h, const char *v)
{
	size_t n = strcspn(v, "; \t");

	if (n >= sizeof(h->resp.content_type))
		return;
	for (size_t i = 0; i < n; i++)
		h->resp.content_type[i] = (char)tolower((unsigned char)v[i]);
	h->resp.content_type[n] = '\0';
}

static size_t
header_cb(char *p, size_t sz, size_t n, void *userp)
{
	struct http *h = userp;
	size_t len = sz * n;
	char v[HTTP_SESSION_MAX + 1];

	/* A new status line starts another response's headers (after a 1xx). */
	if (len > 5 && strncmp(p, "HTTP/", 5) == 0) {
		h->resp.retry_after_s = -1;
		h->resp.session[0] = '\0';
		h->resp.content_type[0] = '\0';
	} else if (header_value(p, len, "Retry-After", v, sizeof(v))) {
		on_retry_after(h, v);
	} else if (header_value(p, len, "x-snowflake-session", v, sizeof(v))) {
		on_session(h, v);
	} else if (header_value(p, len, "Content-Type", v, sizeof(v))) {
		on_content_type(h, v);
	}
	return len;
}

int
http_new(const char *ca_file, const char *user_agent, struct http **ret)
{
	struct http *h;

	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
		return -EIO;
	if ((h = calloc(1, sizeof(*h))) == NULL)
		return -ENOMEM;
	h->timer_at = -1;
	h->multi = curl_multi_init();
	h->easy = curl_easy_init();
	h->ca_file = ca_file && ca_file[0] ? strdup(ca_file) : NULL;
	h->user_agent = strdup(user_agent);
	if (h->multi == NULL || h->easy == NULL || h->user_agent == NULL ||
	    (ca_file && ca_file[0] && h->ca_file == NULL)) {
		http_free(h);
		return -ENOMEM;
	}
	curl_multi_setopt(h->multi, CURLMOPT_SOCKETFUNCTION, sock_cb);
	curl_multi_setopt(h->multi, CURLMOPT_SOCKETDATA, h);
	curl_multi_setopt(h->multi, CURLMOPT_TIMERFUNCTION, timer_cb);
	curl_multi_setopt(h->multi, CURLMOPT_TIMERDATA, h);
	curl_multi_setopt(h->multi, CURLMOPT_MAXCONNECTS, 2L);
	*ret = h;
	return 0;
}

void
http_free(struct http *h)
{
	if (h == NULL)
		return;
	if (h->busy)
		curl_multi_remove_handle(h->multi, h->easy);
	curl_easy_cleanup(h->easy);
	curl_multi_cleanup(h->multi);
	curl_slist_free_all(h->hdrs);
	free(h->ca_file);
	free(h->user_agent);
	free(h->buf);
	free(h);
	curl_global_cleanup();
}

static int
add_hdr(struct http *h, const char *name, const char *value)
{
	size_t n = strlen(name) + strlen(value) + 3;
	char *line = malloc(n);
	struct curl_slist *l;

	if (line == NULL)
		return -ENOMEM;
	snprintf(line, n, "%s: %s", name, value);
	l = curl_slist_append(h->hdrs, line);
	free(line);
	if (l == NULL)
		return -ENOMEM;
	h->hdrs = l;
	return 0;
}

static int
build_headers(struct http *h, const struct http_req *req)
{
	char num[32];
	int r = 0;

	curl_slist_free_all(h->hdrs);
	h->hdrs = NULL;
	r |= add_hdr(h, "Accept", "application/json");
	if (req->bearer != NULL) {
		size_t n = strlen(req->bearer) + 8;
		char *v = malloc(n);

		if (v == NULL)
			return -ENOMEM;
		snprintf(v, n, "Bearer %s", req->bearer);
		r |= add_hdr(h, "Authorization", v);
		free(v);
	}
	if (req->token_type != NULL)
		r |= add_hdr(h, "X-Snowflake-Authorization-Token-Type", req->token_type);
	if (req->content_type != NULL)
		r |= add_hdr(h, "Content-Type", req->content_type);
	if (req->session != NULL)
		r |= add_hdr(h, "x-snowflake-session", req->session);
	if (req->content_encoding != NULL) {
		r |= add_hdr(h, "Content-Encoding", req->content_encoding);
		snprintf(num, sizeof(num), "%zu", req->raw_len);
		r |= add_hdr(h, "x-snowflake-uncompressed-content-length", num);
	}
	/* No 100-continue round trip for large bodies. */
	if ((h->hdrs = curl_slist_append(h->hdrs, "Expect:")) == NULL)
		return -ENOMEM;
	return r ? -ENOMEM : 0;
}

int
http_start(struct http *h, const struct http_req *req)
{
	CURL *e = h->easy;
	int r;

	if (h->busy)
		return -EBUSY;
	if ((r = build_headers(h, req)) < 0)
		return r;
	h->len = 0;
	if (h->buf != NULL)
		h->buf[0] = '\0';
	memset(&h->resp, 0, sizeof(h->resp));
	h->resp.retry_after_s = -1;
	h->errbuf[0] = '\0';
	curl_easy_reset(e);
	curl_easy_setopt(e, CURLOPT_URL, req->url);
	curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "https");
	curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 1L);
	curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 2L);
	if (h->ca_file != NULL)
		curl_easy_setopt(e, CURLOPT_CAINFO, h->ca_file);
	curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(e, CURLOPT_TCP_KEEPALIVE, 1L);
	curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, 10000L);
	curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, req->timeout_ms > 0 ? req->timeout_ms : 60000L);
	curl_easy_setopt(e, CURLOPT_USERAGENT, h->user_agent);
	curl_easy_setopt(e, CURLOPT_HTTPHEADER, h->hdrs);
	curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, write_cb);
	curl_easy_setopt(e, CURLOPT_WRITEDATA, h);
	curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, header_cb);
	curl_easy_setopt(e, CURLOPT_HEADERDATA, h);
	curl_easy_setopt(e, CURLOPT_ERRORBUFFER, h->errbuf);
	if (req->content_type != NULL) {
		curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)req->body_len);
		curl_easy_setopt(e, CURLOPT_POSTFIELDS, req->body_len ? req->body : "");
	}
	if (strcmp(req->method, "GET") == 0)
		curl_easy_setopt(e, CURLOPT_HTTPGET, 1L);
	else if (strcmp(req->method, "POST") != 0 || req->content_type == NULL)
		curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, req->method);
	if (curl_multi_add_handle(h->multi, e) != CURLM_OK)
		return -EIO;
	h->busy = true;
	h->done = false;
	return 0;
}

bool
http_busy(const struct http *h)
{
	return h->busy;
}

size_t
http_pollfds(const struct http *h, struct pollfd *fds, size_t cap)
{
	size_t n = 0;

	for (size_t i = 0; i < h->nsocks && n < cap; i++) {
		fds[n].fd = h->socks[i].fd;
		fds[n].events = (short)(((h->socks[i].what & CURL_POLL_IN) ? POLLIN : 0) |
		    ((h->socks[i].what & CURL_POLL_OUT) ? POLLOUT : 0));
		fds[n].revents = 0;
		n++;
	}
	return n;
}

int
http_timeout_ms(const struct http *h, int64_t now_ns)
{
	int64_t d;

	if (h->timer_at < 0)
		return -1;
	d = h->timer_at - now_ns;
	if (d <= 0)
		return 0;
	return (int)((d + NS_PER_MS - 1) / NS_PER_MS);
}

static void
check_done(struct http *h)
{
	CURLMsg *m;
	int left;

	while ((m = curl_multi_info_read(h->multi, &left)) != NULL) {
		long st = 0, conns = 0;
		double secs = 0;

		if (m->msg != CURLMSG_DONE || m->easy_handle != h->easy)
			continue;
		if (m->data.result == CURLE_OK) {
			curl_easy_getinfo(h->easy, CURLINFO_RESPONSE_CODE, &st);
		} else {
			snprintf(h->resp.error, sizeof(h->resp.error), "%s",
			    h->errbuf[0] ? h->errbuf : curl_easy_strerror(m->data.result));
			h->resp.error_kind = curl_easy_strerror(m->data.result);
		}
		curl_easy_getinfo(h->easy, CURLINFO_NUM_CONNECTS, &conns);
		curl_easy_getinfo(h->easy, CURLINFO_TOTAL_TIME, &secs);
		h->resp.status = st;
		h->resp.new_connections = conns;
		h->resp.seconds = secs;
		h->resp.body = h->buf ? h->buf : "";
		h->resp.body_len = h->len;
		curl_multi_remove_handle(h->multi, h->easy);
		h->busy = false;
		h->done = true;
	}
}

void
http_dispatch(struct http *h, const struct pollfd *fds, size_t n, int64_t now_ns)
{
	int running;

	for (size_t i = 0; i < n; i++) {
		int ev = 0;

		if (fds[i].revents == 0)
			continue;
		if (fds[i].revents & (POLLIN | POLLHUP))
			ev |= CURL_CSELECT_IN;
		if (fds[i].revents & POLLOUT)
			ev |= CURL_CSELECT_OUT;
		if (fds[i].revents & (POLLERR | POLLNVAL))
			ev |= CURL_CSELECT_ERR;
		curl_multi_socket_action(h->multi, fds[i].fd, ev, &running);
	}
	if (h->timer_at >= 0 && now_ns >= h->timer_at) {
		h->timer_at = -1;
		curl_multi_socket_action(h->multi, CURL_SOCKET_TIMEOUT, 0, &running);
	}
	check_done(h);
}

bool
http_take(struct http *h, const struct http_resp **ret)
{
	if (!h->done)
		return false;
	h->done = false;
	*ret = &h->resp;
	return true;
}

int
http_run_sync(struct http *h, const struct http_req *req, const struct http_resp **ret)
{
	struct pollfd fds[HTTP_MAX_FDS];
	int r;

	if ((r = http_start(h, req)) < 0)
		return r;
	for (;;) {
		int64_t now = clock_mono_ns();
		size_t n;
		int to;

		http_dispatch(h, fds, 0, now);
		if (http_take(h, ret))
			return 0;
		n = http_pollfds(h, fds, HTTP_MAX_FDS);
		to = http_timeout_ms(h, now);
		if (to < 0 || to > 100)
			to = 100;
		if (poll(fds, n, to) < 0 && errno != EINTR)
			return -errno;
		http_dispatch(h, fds, n, clock_mono_ns());
		if (http_take(h, ret))
			return 0;
	}
}
