/* SPDX-License-Identifier: Apache-2.0 */
/*
 * emu_api: one function per endpoint behind a small router. Order of checks
 * on an API request: injected "answer now" faults, method, Accept, auth,
 * then the endpoint (rate limit, size, sequencing, decoding); "after the
 * work" faults (drop the connection, delay the answer) apply last, so an
 * append can be accepted and its answer lost, the ambiguous failure clients
 * must survive. Control endpoints under /_emu/ need no auth.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/evp.h>

#include "clock.h"
#include "emu_api.h"
#include "emu_b64.h"
#include "emu_codec.h"
#include "emu_rows.h"
#include "log.h"

#define MAX_SEGS 16
#define MAX_STATUS_NAMES 10000

struct emu_api {
	const struct emu_conf *conf;
	struct emu_auth *auth;
	struct emu_chans *chans;
	struct emu_faults *faults;
	struct emu_store *store;
	struct emu_http *http;
	bool count_mode;
	char ingest_host[300];
	int64_t counts[EMU_R_COUNT][600];
	int64_t dropped[EMU_R_COUNT];
	int64_t rows_appended, appends_accepted, appends_replayed, bytes_decompressed;
	int64_t sess_sent, sess_echoed, sess_missing, sess_wrong;
	int64_t jwt_max_age_s;
};

struct route {
	int route;
	char *seg[MAX_SEGS];
	size_t nseg;
	const char *db, *schema, *pipe, *channel;	/* decoded path segments */
	struct emu_principal who;
};

int
emu_api_new(const struct emu_conf *conf, struct emu_auth *auth, struct emu_chans *chans,
    struct emu_faults *faults, struct emu_store *store, bool count_mode,
    struct emu_api **ret)
{
	struct emu_api *a = calloc(1, sizeof(*a));

	if (a == NULL)
		return -ENOMEM;
	a->conf = conf;
	a->auth = auth;
	a->chans = chans;
	a->faults = faults;
	a->store = store;
	a->count_mode = count_mode;
	*ret = a;
	return 0;
}

void
emu_api_free(struct emu_api *a)
{
	free(a);
}

void
emu_api_set_http(struct emu_api *a, struct emu_http *http)
{
	const char *h = a->conf->ingest_host, *ph = strstr(h, "{port}");

	a->http = http;
	if (ph == NULL)
		snprintf(a->ingest_host, sizeof(a->ingest_host), "%s", h);
	else
		snprintf(a->ingest_host, sizeof(a->ingest_host), "%.*s%u%s", (int)(ph - h), h,
		    emu_http_port(http), ph + 6);
}

const char *
emu_api_ingest_host(const struct emu_api *a)
{
	return a->ingest_host;
}

/* ------------------------------------------------------------ replies */

static void
reply_raw(struct emu_req *r, int status, const char *ctype, char *body /* steals */)
{
	free(r->resp);
	r->status = status;
	r->ctype = ctype;
	r->resp = body;
	r->resp_len = body ? strlen(body) : 0;
}

static void
reply_json(struct emu_req *r, int status, json_t *o /* steals */)
{
	char *s = json_dumps(o, JSON_COMPACT | JSON_ENCODE_ANY);

	json_decref(o);
	reply_raw(r, s ? status : 500, "application/json", s ? s : strdup("{}"));
}

static void
reply_error(struct emu_api *a, struct emu_req *r, int status, const char *code,
    const char *msg)
{
	json_t *o;

	switch (a->conf->error_shape) {
	case 1:
		o = json_pack("{s:s, s:s}", "error_code", code, "message", msg);
		break;
	case 2:
		o = json_string(code);
		break;
	default:
		o = json_pack("{s:s, s:s}", "code", code, "message", msg);
		break;
	}
	reply_json(r, status, o);
}

/* ------------------------------------------------------------ routing */

static void
route_free(struct route *rt)
{
	for (size_t i = 0; i < rt->nseg; i++)
		free(rt->seg[i]);
}

static bool
seg_is(const struct route *rt, size_t i, const char *s)
{
	return i < rt->nseg && strcmp(rt->seg[i], s) == 0;
}

static int
split_path(const char *url, struct route *rt)
{
	const char *p = url;

	if (*p != '/')
		return -EINVAL;
	while (*p == '/') {
		const char *s = ++p, *e = s + strcspn(s, "/");
		int r;

		if (rt->nseg == MAX_SEGS)
			return -E2BIG;
		if ((r = emu_pct_decode(s, (size_t)(e - s), false, &rt->seg[rt->nseg], NULL)) < 0)
			return r;
		rt->nseg++;
		p = e;
	}
	return 0;
}

static void
classify(struct route *rt)
{
	static const char sfx[] = ":bulk-channel-status";
	size_t n = rt->nseg, l;

	rt->route = EMU_R_OTHER;
	if (n >= 1 && strcmp(rt->seg[0], "_emu") == 0) {
		rt->route = EMU_R_CONTROL;
	} else if (n == 2 && seg_is(rt, 0, "oauth") && seg_is(rt, 1, "token")) {
		rt->route = EMU_R_TOKEN;
	} else if (n == 3 && seg_is(rt, 0, "v2") && seg_is(rt, 1, "streaming") &&
	    seg_is(rt, 2, "hostname")) {
		rt->route = EMU_R_HOSTNAME;
	} else if (n == 10 && seg_is(rt, 0, "v2") && seg_is(rt, 1, "streaming") &&
	    seg_is(rt, 2, "databases") && seg_is(rt, 4, "schemas") && seg_is(rt, 6, "pipes") &&
	    seg_is(rt, 8, "channels")) {
		rt->route = EMU_R_OPEN;	/* or DROP, by method */
		rt->db = rt->seg[3], rt->schema = rt->seg[5], rt->pipe = rt->seg[7];
		rt->channel = rt->seg[9];
	} else if (n == 12 && seg_is(rt, 0, "v2") && seg_is(rt, 1, "streaming") &&
	    seg_is(rt, 2, "data") && seg_is(rt, 3, "databases") && seg_is(rt, 5, "schemas") &&
	    seg_is(rt, 7, "pipes") && seg_is(rt, 9, "channels") && seg_is(rt, 11, "rows")) {
		rt->route = EMU_R_APPEND;
		rt->db = rt->seg[4], rt->schema = rt->seg[6], rt->pipe = rt->seg[8];
		rt->channel = rt->seg[10];
	} else if (n == 8 && seg_is(rt, 0, "v2") && seg_is(rt, 1, "streaming") &&
	    seg_is(rt, 2, "databases") && seg_is(rt, 4, "schemas") && seg_is(rt, 6, "pipes") &&
	    (l = strlen(rt->seg[7])) > sizeof(sfx) - 1 &&
	    strcmp(rt->seg[7] + l - (sizeof(sfx) - 1), sfx) == 0) {
		rt->seg[7][l - (sizeof(sfx) - 1)] = '\0';
		rt->route = EMU_R_STATUS;
		rt->db = rt->seg[3], rt->schema = rt->seg[5], rt->pipe = rt->seg[7];
	}
}

static const char *
want_method(int route)
{
	switch (route) {
	case EMU_R_HOSTNAME:
		return "GET";
	case EMU_R_OPEN:
		return "PUT";
	case EMU_R_DROP:
		return "DELETE";
	default:
		return "POST";
	}
}

static bool
accept_ok(struct emu_api *a, struct emu_req *req, int route, char *msg, size_t msglen)
{
	const char *acc = emu_http_header(req, "Accept");

	if (!a->conf->strict_accept)
		return true;
	if (acc == NULL) {
		snprintf(msg, msglen, "Unsupported Accept header null is specified.");
		return false;
	}
	if (strstr(acc, "application/json") || strstr(acc, "*/*") ||
	    strstr(acc, "application/*") || (route == EMU_R_HOSTNAME && strstr(acc, "text/")))
		return true;
	snprintf(msg, msglen, "Unsupported Accept header %.100s is specified.", acc);
	return false;
}

static const char *
bearer(struct emu_req *req)
{
	const char *h = emu_http_header(req, "Authorization");

	if (h == NULL || strncasecmp(h, "Bearer ", 7) != 0)
		return NULL;
	h += 7;
	while (*h == ' ')
		h++;
	return h;
}

/* Strict pat_direct follows the only real-run evidence there is: the PAT
 * works as the Bearer on the ingest host and is not exchanged. */
static unsigned
allowed_creds(struct emu_api *a, int route)
{
	unsigned lax = a->conf->strict_auth ? 0 : EMU_CRED_JWT | EMU_CRED_PAT | EMU_CRED_SCOPED;
	bool pat_direct = emu_strict(a->conf, EMU_STRICT_PAT_DIRECT);

	switch (route) {
	case EMU_R_HOSTNAME:
		return EMU_CRED_JWT | EMU_CRED_PAT | EMU_CRED_CONTROL | lax;
	case EMU_R_TOKEN:
		return EMU_CRED_JWT | EMU_CRED_CONTROL | (pat_direct ? 0 : EMU_CRED_PAT);
	default:
		return EMU_CRED_SCOPED | lax | (pat_direct ? EMU_CRED_PAT : 0);
	}
}

static int64_t
now_s(void)
{
	return clock_realtime_ns() / NS_PER_S;
}

static bool
authenticate(struct emu_api *a, struct emu_req *req, struct route *rt, const char *tok)
{
	struct emu_auth_err e;

	if (emu_auth_verify(a->auth, tok, allowed_creds(a, rt->route), now_s(), &rt->who,
	    &e) == 0)
		return true;
	reply_error(a, req, e.status, e.code, e.message);
	return false;
}

/* ------------------------------------------------------------ endpoints */

static void
do_hostname(struct emu_api *a, struct emu_req *req)
{
	if (a->conf->hostname_json)
		reply_json(req, 200, json_pack("{s:s}", "hostname", a->ingest_host));
	else
		reply_raw(req, 200, "text/plain", strdup(a->ingest_host));
}

/* application/x-www-form-urlencoded: the value of key, new, or NULL. */
static char *
form_get(const char *body, size_t len, const char *key)
{
	size_t kl = strlen(key), pos = 0;

	while (pos < len) {
		const char *s = body + pos, *amp = memchr(s, '&', len - pos);
		size_t n = amp ? (size_t)(amp - s) : len - pos;
		const char *eq = memchr(s, '=', n);
		char *k = NULL, *v = NULL;

		pos += n + 1;
		if (eq == NULL)
			continue;
		if (emu_pct_decode(s, (size_t)(eq - s), true, &k, NULL) < 0)
			continue;
		if (strlen(k) == kl && strcmp(k, key) == 0 &&
		    emu_pct_decode(eq + 1, n - (size_t)(eq - s) - 1, true, &v, NULL) == 0) {
			free(k);
			return v;
		}
		free(k);
	}
	return NULL;
}

/* Host names compare the way clients normalise them: lower-case, '_' as '-'. */
static bool
host_eq(const char *a, const char *b, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		char x = (char)tolower((unsigned char)a[i]), y = (char)tolower((unsigned char)b[i]);

		if ((x == '_' ? '-' : x) != (y == '_' ? '-' : y))
			return false;
	}
	return true;
}

/* The scope must name the ingest host, with or without its port. */
static bool
host_ok(struct emu_api *a, const char *host)
{
	const char *colon = strrchr(a->ingest_host, ':');
	size_t full = strlen(a->ingest_host);
	size_t hl = colon ? (size_t)(colon - a->ingest_host) : full;

	if (strlen(host) == full && host_eq(host, a->ingest_host, full))
		return true;
	return strlen(host) == hl && host_eq(host, a->ingest_host, hl);
}

static void
token_reply(struct emu_api *a, struct emu_req *req, const struct emu_principal *who,
    const char *host)
{
	char *tok = NULL;

	if (emu_auth_mint_scoped(a->auth, who, host, now_s(), &tok) < 0) {
		reply_error(a, req, 500, "ERR_INTERNAL", "cannot mint token");
		return;
	}
	log_info("scoped token issued to %s (role %s, via %s)", who->user->name, who->role,
	    who->kind == EMU_CRED_JWT ? "key-pair JWT" : "PAT");
	if (a->conf->token_json) {
		reply_json(req, 200, json_pack("{s:s, s:s, s:I}", "token", tok, "token_type",
		    "Bearer", "expires_in", (json_int_t)a->conf->scoped_token_ttl_s));
		free(tok);
	} else {
		reply_raw(req, 200, "text/plain", tok);
	}
}

/* Lenient: the scope's first word names the ingest host and a
 * " session:role:R" suffix picks the role. Strict scope_host: the scope is
 * the ingest host alone, as the documentation and Snowflake's own client
 * send it; anything else is a 400 that names the scope. The host part goes
 * to host (size 300). */
static bool
scope_ok(struct emu_api *a, struct emu_req *req, const char *scope, char *host)
{
	bool strict = emu_strict(a->conf, EMU_STRICT_SCOPE_HOST);
	char msg[400];

	host[0] = '\0';
	if (scope == NULL) {
		if (!strict && !a->conf->strict_auth)
			return true;
		reply_error(a, req, 400, "INVALID_SCOPE", "scope is required: the ingest host");
		return false;
	}
	snprintf(host, 300, "%.*s", (int)strcspn(scope, " "), scope);
	if (host_ok(a, host) && (!strict || strcmp(host, scope) == 0))
		return true;
	snprintf(msg, sizeof(msg), "scope \"%.200s\" is not accepted: it must be the ingest "
	    "host %.100s alone", scope, a->ingest_host);
	reply_error(a, req, 400, "INVALID_SCOPE", msg);
	return false;
}

static void
do_token(struct emu_api *a, struct emu_req *req, struct route *rt)
{
	char *grant = form_get(req->body, req->len, "grant_type");
	char *scope = form_get(req->body, req->len, "scope");
	char *assertion = form_get(req->body, req->len, "assertion");
	char *subject = form_get(req->body, req->len, "subject_token");
	const char *tok = bearer(req), *role;
	char host[300] = "";

	if (tok == NULL)
		tok = assertion ? assertion : subject;
	if (grant == NULL || (strcmp(grant, "urn:ietf:params:oauth:grant-type:jwt-bearer") != 0 &&
	    strcmp(grant, "urn:ietf:params:oauth:grant-type:token-exchange") != 0)) {
		reply_error(a, req, 400, "INVALID_GRANT_TYPE", "grant_type must be "
		    "urn:ietf:params:oauth:grant-type:jwt-bearer or ...:token-exchange");
		goto out;
	}
	if (!scope_ok(a, req, scope, host))
		goto out;
	if (!authenticate(a, req, rt, tok)) {
		if (emu_strict(a->conf, EMU_STRICT_PAT_DIRECT) && tok != NULL &&
		    strchr(tok, '.') == NULL)
			log_info("token exchange refused a PAT (strict pat_direct: the PAT is "
			    "used as is on the ingest host)");
		goto out;
	}
	if (scope != NULL && (role = strstr(scope, " session:role:")) != NULL)
		snprintf(rt->who.role, sizeof(rt->who.role), "%s", role + 14);
	token_reply(a, req, &rt->who, host[0] ? host : a->ingest_host);
out:
	free(grant);
	free(scope);
	free(assertion);
	free(subject);
}

/* The pipe a channel or status route names, or NULL. */
static const struct emu_pipe *
pipe_of(struct emu_api *a, const struct route *rt)
{
	char *db = NULL, *sc = NULL, *pi = NULL;
	const struct emu_pipe *p = NULL;

	if (rt->db != NULL && emu_ident(rt->db, &db) == 0 &&
	    emu_ident(rt->schema, &sc) == 0 && emu_ident(rt->pipe, &pi) == 0)
		p = emu_conf_pipe(a->conf, db, sc, pi);
	free(db);
	free(sc);
	free(pi);
	return p;
}

/* Resolves the pipe of a channel or status route; replies 404 when absent. */
static const struct emu_pipe *
find_pipe(struct emu_api *a, struct emu_req *req, const struct route *rt)
{
	const struct emu_pipe *p = pipe_of(a, rt);
	char *db = NULL, *sc = NULL, *pi = NULL, *tb = NULL;
	size_t n;

	if (p != NULL || emu_ident(rt->db, &db) < 0 || emu_ident(rt->schema, &sc) < 0 ||
	    emu_ident(rt->pipe, &pi) < 0)
		goto out;
	n = strlen(pi);
	if (n > 10 && strcmp(pi + n - 10, "-STREAMING") == 0 && (tb = strndup(pi, n - 10)) &&
	    !emu_conf_has_table(a->conf, db, sc, tb))
		reply_error(a, req, 404, "ERR_TABLE_DOES_NOT_EXIST_NOT_AUTHORIZED",
		    "Table does not exist or not authorized.");
	else
		reply_error(a, req, 404, "ERR_PIPE_DOES_NOT_EXIST_OR_NOT_AUTHORIZED",
		    "Pipe does not exist or not authorized.");
out:
	free(db);
	free(sc);
	free(pi);
	free(tb);
	return p;
}

/* An optional JSON object body; replies 400 and returns -EINVAL on junk. */
static int
json_body(struct emu_api *a, struct emu_req *req, json_t **ret)
{
	size_t i;

	for (i = 0; i < req->len; i++)
		if (req->body[i] != ' ' && req->body[i] != '\n' && req->body[i] != '\r' &&
		    req->body[i] != '\t')
			break;
	if (i == req->len) {
		*ret = json_object();
		return 0;
	}
	*ret = json_loadb(req->body, req->len, JSON_REJECT_DUPLICATES, NULL);
	if (*ret == NULL || !json_is_object(*ret)) {
		json_decref(*ret);
		reply_error(a, req, 400, "ERR_INVALID_REQUEST_BODY", "Request body is not a JSON "
		    "object.");
		return -EINVAL;
	}
	return 0;
}

static int
fail_flag(struct emu_api *a, struct emu_req *req, json_t *body, bool *ret)
{
	json_t *v = json_object_get(body, "fail_on_uncommitted_rows");

	*ret = false;
	if (v == NULL || json_is_null(v))
		return 0;
	if (!json_is_boolean(v)) {
		reply_error(a, req, 400, "ERR_INVALID_REQUEST_BODY",
		    "fail_on_uncommitted_rows must be a boolean.");
		return -EINVAL;
	}
	*ret = json_is_true(v);
	return 0;
}

static bool
rate_ok(struct emu_api *a, struct emu_req *req, struct emu_chan *ch)
{
	int retry;

	if (ch == NULL || emu_chan_rate_ok(a->chans, ch, clock_mono_ns(), &retry))
		return true;
	req->retry_after = retry;
	reply_error(a, req, 429, "ERR_TOO_MANY_REQUESTS", "Too many requests for this channel.");
	return false;
}

static char *
upper_dup(const char *s)
{
	char *u = strdup(s);

	for (char *p = u; p != NULL && *p != '\0'; p++)
		if (*p >= 'a' && *p <= 'z')
			*p = (char)(*p - 'a' + 'A');
	return u;
}

/* The key a channel is stored under and the name it reports. Strict: the
 * SQL identifier for both (unquoted upper-cased, "quoted" kept as written),
 * as Snowflake stores identifiers. Lenient: the upper-cased text as key and
 * the text as first sent as name. Both new. */
static int
chan_key(struct emu_api *a, const char *raw, char **ret_key, char **ret_name)
{
	int r;

	if (emu_strict(a->conf, EMU_STRICT_CHANNEL_CASE)) {
		if ((r = emu_ident(raw, ret_key)) < 0)
			return r;
		*ret_name = strdup(*ret_key);
	} else {
		*ret_key = upper_dup(raw);
		*ret_name = strdup(raw);
	}
	if (*ret_key == NULL || *ret_name == NULL) {
		free(*ret_key);
		free(*ret_name);
		return -ENOMEM;
	}
	return 0;
}

/* The channel a URL names: case-insensitive for unquoted names either way. */
static struct emu_chan *
find_chan(struct emu_api *a, const struct emu_pipe *p, const char *raw)
{
	char *key = NULL, *name = NULL;
	struct emu_chan *ch = NULL;

	if (chan_key(a, raw, &key, &name) == 0)
		ch = emu_chans_find(a->chans, p, key);
	free(key);
	free(name);
	return ch;
}

/* The channel a bulk-status body names: the documentation makes these names
 * case-sensitive, so strict matching takes the stored name as is. */
static struct emu_chan *
find_status_chan(struct emu_api *a, const struct emu_pipe *p, const char *name)
{
	if (emu_strict(a->conf, EMU_STRICT_CHANNEL_CASE))
		return emu_chans_find(a->chans, p, name);
	return find_chan(a, p, name);
}

/* An on-demand fault: the answer's last_error_message is a long text (a real
 * service documents no length), so clients must cope with any size. */
static void
long_error(struct emu_api *a, const struct route *rt, json_t *status)
{
	static const char unit[] = "Row 17 of batch \"t-17\": value for column "
	    "\"TEMPERATURE\" is not a valid NUMBER(10,4); ä redacted. ";
	struct emu_fault f;
	char *msg;

	if (!emu_faults_take(a->faults, 1u << EMU_F_LONG_ERROR, rt->route, rt->channel, &f) ||
	    (msg = malloc((size_t)f.bytes + 1)) == NULL)
		return;
	for (int64_t i = 0; i < f.bytes; i++)
		msg[i] = unit[i % (int64_t)(sizeof(unit) - 1)];
	msg[f.bytes] = '\0';
	/* never end inside a UTF-8 sequence: jansson refuses invalid text */
	for (int64_t i = f.bytes; i > 0 && ((unsigned char)msg[i - 1] & 0x80); i--)
		msg[i - 1] = '.';
	json_object_set_new(status, "last_error_message", json_string(msg));
	if (json_is_null(json_object_get(status, "last_error_timestamp")))
		json_object_set_new(status, "last_error_timestamp",
		    json_integer(clock_realtime_ns() / NS_PER_MS));
	free(msg);
}

static void
do_open(struct emu_api *a, struct emu_req *req, struct route *rt)
{
	const struct emu_pipe *p = find_pipe(a, req, rt);
	json_t *body = NULL, *ot, *st;
	char tok[64], *key = NULL, *name = NULL;
	struct emu_chan *ch;
	bool fail;
	int r;

	if (p == NULL)
		return;
	if (*rt->channel == '\0' || strlen(rt->channel) > 255) {
		reply_error(a, req, 400, "ERR_INVALID_CHANNEL_NAME", "Invalid channel name.");
		return;
	}
	if (chan_key(a, rt->channel, &key, &name) < 0) {
		reply_error(a, req, 500, "ERR_GENERAL_EXCEPTION_RETRY_REQUEST", "out of memory");
		return;
	}
	if (json_body(a, req, &body) < 0 || fail_flag(a, req, body, &fail) < 0)
		goto out;
	ot = json_object_get(body, "offset_token");
	if (ot != NULL && !json_is_null(ot) && (!json_is_string(ot) ||
	    (int64_t)json_string_length(ot) > a->conf->limits.max_offset_token_len)) {
		reply_error(a, req, 400, "ERR_INVALID_OFFSET_TOKEN", "offset_token must be a "
		    "string within the length limit.");
		goto out;
	}
	if (!rate_ok(a, req, emu_chans_find(a->chans, p, key)))
		goto out;
	r = emu_chans_open(a->chans, p, key, name, json_string_value(ot), fail,
	    clock_realtime_ns() / NS_PER_MS, &ch);
	if (r == -EBUSY) {
		reply_error(a, req, 409, "ERR_CHANNEL_HAS_UNCOMMITTED_DATA",
		    "Channel has uncommitted data.");
	} else if (r == -ENOSPC) {
		reply_error(a, req, 400, "ERR_TOO_MANY_CHANNELS", "Too many channels.");
	} else if (r < 0) {
		reply_error(a, req, 500, "ERR_GENERAL_EXCEPTION_RETRY_REQUEST", strerror(-r));
	} else {
		emu_chan_token(ch, tok, sizeof(tok));
		log_info("channel %s on %s.%s.%s opened: client_seq %lld, committed %s",
		    ch->st.name, p->db, p->schema, p->name, (long long)ch->st.client_seq,
		    ch->st.committed_token ? ch->st.committed_token : "(null)");
		st = emu_chan_status_json(a->chans, ch);
		long_error(a, rt, st);
		reply_json(req, 200, json_pack("{s:s, s:o}", "next_continuation_token", tok,
		    "channel_status", st));
	}
out:
	free(key);
	free(name);
	json_decref(body);
}

static void
do_drop(struct emu_api *a, struct emu_req *req, struct route *rt)
{
	const struct emu_pipe *p = find_pipe(a, req, rt);
	struct emu_chan *ch;
	json_t *body = NULL;
	bool fail;
	int r;

	if (p == NULL)
		return;
	if (json_body(a, req, &body) < 0 || fail_flag(a, req, body, &fail) < 0)
		goto out;
	ch = find_chan(a, p, rt->channel);
	if (ch == NULL) {
		reply_error(a, req, 404, "ERR_CHANNEL_DOES_NOT_EXIST_OR_IS_NOT_AUTHORIZED",
		    "Channel does not exist or is not authorized.");
		goto out;
	}
	if (!rate_ok(a, req, ch))
		goto out;
	r = emu_chans_drop(a->chans, ch, fail);
	if (r == -EBUSY)
		reply_error(a, req, 409, "ERR_CHANNEL_HAS_UNCOMMITTED_DATA",
		    "Channel has uncommitted data.");
	else if (r < 0)
		reply_error(a, req, 500, "ERR_GENERAL_EXCEPTION_RETRY_REQUEST", strerror(-r));
	else {
		log_info("channel %s on %s dropped", rt->channel, p->name);
		reply_json(req, 200, json_object());
	}
out:
	json_decref(body);
}

static void
do_status(struct emu_api *a, struct emu_req *req, struct route *rt)
{
	const struct emu_pipe *p = find_pipe(a, req, rt);
	json_t *body = NULL, *names, *n, *out, *st;
	const char *k;
	size_t i;

	if (p == NULL)
		return;
	if (json_body(a, req, &body) < 0)
		return;
	names = json_object_get(body, "channel_names");
	if (!json_is_array(names) || json_array_size(names) > MAX_STATUS_NAMES) {
		reply_error(a, req, 400, "ERR_INVALID_REQUEST_BODY", "channel_names must be an "
		    "array of strings.");
		goto out;
	}
	out = json_object();
	json_array_foreach(names, i, n) {
		struct emu_chan *ch;

		if (!json_is_string(n)) {
			json_decref(out);
			reply_error(a, req, 400, "ERR_INVALID_REQUEST_BODY", "channel_names must "
			    "be an array of strings.");
			goto out;
		}
		ch = find_status_chan(a, p, json_string_value(n));
		if (ch != NULL)
			json_object_set_new(out, json_string_value(n),
			    emu_chan_status_json(a->chans, ch));
	}
	json_object_foreach(out, k, st)
		long_error(a, rt, st);
	reply_json(req, 200, json_pack("{s:o}", "channel_statuses", out));
out:
	json_decref(body);
}

/* Append: every check that can refuse comes before any state changes. */
struct append_q {
	char *ct, *start, *end, *legacy;
};

static int
append_query(struct emu_api *a, struct emu_req *req, struct append_q *q)
{
	int r;

	if ((r = emu_http_query(req, "continuationToken", &q->ct)) == -EINVAL ||
	    (r = emu_http_query(req, "startOffsetToken", &q->start)) == -EINVAL ||
	    (r = emu_http_query(req, "endOffsetToken", &q->end)) == -EINVAL ||
	    (r = emu_http_query(req, "offsetToken", &q->legacy)) == -EINVAL) {
		reply_error(a, req, 400, "ERR_INVALID_REQUEST", "Badly percent-encoded query.");
		return -EINVAL;
	}
	if (q->end == NULL && q->legacy != NULL) {
		q->end = q->legacy;
		q->legacy = NULL;
	}
	if ((q->start && (int64_t)strlen(q->start) > a->conf->limits.max_offset_token_len) ||
	    (q->end && (int64_t)strlen(q->end) > a->conf->limits.max_offset_token_len)) {
		reply_error(a, req, 400, "ERR_OFFSET_TOKEN_TOO_LONG", "Offset token too long.");
		return -EINVAL;
	}
	if (q->ct == NULL) {
		reply_error(a, req, 400, "ERR_CHANNEL_HAS_INVALID_CLIENT_SEQUENCER",
		    "continuationToken is required.");
		return -EINVAL;
	}
	return 0;
}

static void
append_hash(struct emu_req *req, const struct append_q *q, const char *enc,
    unsigned char out[32])
{
	EVP_MD_CTX *c = EVP_MD_CTX_new();

	memset(out, 0, 32);
	if (c == NULL || EVP_DigestInit_ex(c, EVP_sha256(), NULL) != 1)
		goto out;
	EVP_DigestUpdate(c, q->start ? q->start : "", q->start ? strlen(q->start) + 1 : 0);
	EVP_DigestUpdate(c, "|", 1);
	EVP_DigestUpdate(c, q->end ? q->end : "", q->end ? strlen(q->end) + 1 : 0);
	EVP_DigestUpdate(c, "|", 1);
	EVP_DigestUpdate(c, enc ? enc : "", enc ? strlen(enc) : 0);
	EVP_DigestUpdate(c, "|", 1);
	EVP_DigestUpdate(c, req->body, req->len);
	EVP_DigestFinal_ex(c, out, NULL);
out:
	EVP_MD_CTX_free(c);
}

static int
decode_body(struct emu_api *a, struct emu_req *req, const char *enc, char **ret,
    size_t *ret_len)
{
	int r = emu_decompress(enc, req->body, req->len,
	    (size_t)a->conf->limits.max_decompressed_bytes, ret, ret_len);

	if (r == -ENOTSUP)
		reply_error(a, req, 400, "ERR_UNSUPPORTED_CONTENT_ENCODING",
		    "Content-Encoding must be gzip, zstd or absent.");
	else if (r == -EINVAL)
		reply_error(a, req, 400, "ERR_INVALID_COMPRESSED_PAYLOAD",
		    "Request body could not be decompressed.");
	else if (r == -EFBIG)
		reply_error(a, req, 413, "ERR_PAYLOAD_TOO_LARGE",
		    "Decompressed payload too large.");
	else if (r < 0)
		reply_error(a, req, 500, "ERR_GENERAL_EXCEPTION_RETRY_REQUEST", "out of memory");
	return r;
}

/* Count mode checks rows now so no body needs to be kept. */
static void
count_rows(struct emu_batch *b, const char *body, size_t len)
{
	const char *line;
	size_t pos = 0, n;

	while (emu_rows_next_line(body, len, &pos, &line, &n)) {
		b->nrows++;
		if (!emu_rows_valid_object(line, n)) {
			b->nerr++;
			if (b->err_msg == NULL)
				b->err_msg = strdup("Error parsing JSON: invalid JSON text");
		}
	}
}

static int64_t
line_count(const char *body, size_t len)
{
	const char *line;
	size_t pos = 0, n;
	int64_t c = 0;

	while (emu_rows_next_line(body, len, &pos, &line, &n))
		c++;
	return c;
}

static int
build_batch(struct emu_api *a, struct emu_req *req, struct append_q *q, char *body,
    size_t len, struct emu_batch **ret)
{
	struct emu_batch *b = calloc(1, sizeof(*b));
	int64_t rows;

	if (b == NULL) {
		free(body);
		return -ENOMEM;
	}
	b->end_token = q->end;
	q->end = NULL;
	b->arrived_ms = clock_realtime_ns() / NS_PER_MS;
	if (a->count_mode) {
		count_rows(b, body, len);
		free(body);
		rows = b->nrows;
		b->len = 0;
	} else {
		b->body = body;
		b->len = len;
		rows = line_count(body, len);
	}
	if (rows == 0) {
		emu_batch_free(b);
		reply_error(a, req, 400, "ERR_EMPTY_REQUEST_BODY", "The request contains no rows.");
		return -EINVAL;
	}
	a->rows_appended += rows;
	*ret = b;
	return 0;
}

/* The documentation: an invalidated channel answers 409 ("channel
 * invalidated, e.g. superseded by another client"); a configured status wins. */
static int
invalid_status(const struct emu_api *a)
{
	if (a->conf->invalid_channel_http != 0)
		return a->conf->invalid_channel_http;
	return emu_strict(a->conf, EMU_STRICT_INVALID_409) ? 409 : 400;
}

/* Counts whether an append echoes the x-snowflake-session this channel was
 * last given (Snowflake's own client sends it back on the next append). */
static void
session_echo(struct emu_api *a, struct emu_req *req, const struct emu_chan *ch)
{
	const char *got = emu_http_header(req, "x-snowflake-session");

	if (ch->session[0] == '\0')
		return;
	if (got == NULL)
		a->sess_missing++;
	else if (strcmp(got, ch->session) == 0)
		a->sess_echoed++;
	else
		a->sess_wrong++;
}

static bool
append_checks(struct emu_api *a, struct emu_req *req, struct emu_chan *ch)
{
	char msg[160];

	if (ch == NULL) {
		reply_error(a, req, 400, "ERR_CHANNEL_DOES_NOT_EXIST_OR_IS_NOT_AUTHORIZED",
		    "Channel does not exist or is not authorized.");
		return false;
	}
	if (strcmp(ch->st.status, "SUCCESS") != 0) {
		snprintf(msg, sizeof(msg), "Channel is invalid (%s); please reopen it.",
		    ch->st.status);
		reply_error(a, req, invalid_status(a), ch->st.status, msg);
		return false;
	}
	if (!rate_ok(a, req, ch))
		return false;
	if (req->too_large) {
		reply_error(a, req, 413, "ERR_PAYLOAD_TOO_LARGE", "Request body larger than "
		    "the limit on the wire.");
		return false;
	}
	return true;
}

/* On demand: a repeated append is refused (the service is not documented to
 * answer a retry idempotently), forcing the client to reopen and replay. */
static bool
refuse_replay(struct emu_api *a, const struct route *rt)
{
	struct emu_fault f;

	if (!emu_faults_take(a->faults, 1u << EMU_F_REFUSE_REPLAY, rt->route, rt->channel,
	    &f))
		return false;
	log_info("fault: repeated append on %s refused", rt->channel);
	return true;
}

static void
do_append(struct emu_api *a, struct emu_req *req, struct route *rt)
{
	const struct emu_pipe *p = find_pipe(a, req, rt);
	const char *enc = emu_http_header(req, "Content-Encoding"), *code, *ua;
	struct append_q q = { 0 };
	struct emu_batch *b = NULL;
	struct emu_chan *ch;
	unsigned char hash[32];
	char tok[64], *body;
	size_t len;
	int r;

	if (p == NULL)
		return;
	ch = find_chan(a, p, rt->channel);
	if (ch != NULL)
		session_echo(a, req, ch);
	if (!append_checks(a, req, ch) || append_query(a, req, &q) < 0)
		goto out;
	append_hash(req, &q, enc, hash);
	r = emu_chan_check_token(ch, q.ct, hash, &code);
	if (r == 1 && refuse_replay(a, rt)) {
		r = -EINVAL;
		code = "ERR_CHANNEL_HAS_INVALID_ROW_SEQUENCER";
	}
	if (r < 0) {
		log_info("channel %s: append with token %.40s refused: %s", ch->st.name, q.ct, code);
		reply_error(a, req, 400, code, strcmp(code, "STALE_CONTINUATION_TOKEN_SEQUENCER") == 0 ?
		    "Channel sequencer in the continuation token is stale. Please reopen the "
		    "channel" : "Continuation token does not match the channel; please reopen it.");
		goto out;
	}
	emu_chan_token(ch, tok, sizeof(tok));
	if (r == 1) {
		a->appends_replayed++;
		log_info("channel %s: replay of batch %s answered again", ch->st.name, q.ct);
		reply_json(req, 200, json_pack("{s:s}", "next_continuation_token", tok));
		goto out;
	}
	if (decode_body(a, req, enc, &body, &len) < 0)
		goto out;
	a->bytes_decompressed += (int64_t)len;
	/* What the client chose (compression, User-Agent): tests check their config. */
	ua = emu_http_header(req, "User-Agent");
	log_debug("channel %s: append of %zu bytes, %zu on the wire, Content-Encoding %s, "
	    "User-Agent %s", ch->st.name, len, req->len, enc != NULL ? enc : "none",
	    ua != NULL ? ua : "none");
	if (!emu_chans_room(a->chans, ch, a->count_mode ? 0 : len)) {
		free(body);
		req->retry_after = 1;
		reply_error(a, req, 429, "ReceiverSaturated", "Too much uncommitted data; retry.");
		goto out;
	}
	if (build_batch(a, req, &q, body, len, &b) < 0)
		goto out;
	emu_chans_enqueue(a->chans, ch, b, hash);
	a->appends_accepted++;
	emu_chan_token(ch, tok, sizeof(tok));
	reply_json(req, 200, json_pack("{s:s}", "next_continuation_token", tok));
out:
	free(q.ct);
	free(q.start);
	free(q.end);
	free(q.legacy);
}

/* ------------------------------------------------------------ control */

struct inval {
	const char *name;	/* NULL: every channel */
	const char *code;
	int n;
};

static void
inval_one(struct emu_chans *cs, struct emu_chan *ch, void *arg)
{
	struct inval *iv = arg;

	if (iv->name != NULL && strcasecmp(iv->name, ch->st.name) != 0)
		return;
	emu_chans_invalidate(cs, ch, iv->code);
	iv->n++;
	log_info("channel %s invalidated: %s", ch->st.name, iv->code);
}

/* Removes every rule and the on-demand JWT age limit. */
static void
clear_faults(struct emu_api *a)
{
	emu_faults_clear(a->faults);
	a->jwt_max_age_s = 0;
	emu_auth_set_max_age(a->auth, 0);
}

static int
immediate(struct emu_api *a, const char *kind, json_t *j, char *err, size_t errlen)
{
	if (strcmp(kind, "expire_tokens") == 0) {
		int64_t gen = emu_auth_expire_all(a->auth);

		log_info("all scoped tokens expired (generation %lld)", (long long)gen);
		return emu_store_set_gen(a->store, gen);
	}
	if (strcmp(kind, "invalidate_channel") == 0) {
		struct inval iv = {
			.name = json_string_value(json_object_get(j, "channel")),
			.code = json_string_value(json_object_get(j, "code")),
		};

		if (iv.code == NULL)
			iv.code = "ERR_CHANNEL_MUST_BE_REOPENED";
		if (strlen(iv.code) == 0 || strlen(iv.code) > 60 || strcmp(iv.code, "SUCCESS") == 0) {
			snprintf(err, errlen, "invalidate_channel: bad \"code\"");
			return -EINVAL;
		}
		emu_chans_foreach(a->chans, inval_one, &iv);
		return 0;
	}
	if (strcmp(kind, "stall_commits") == 0 || strcmp(kind, "resume_commits") == 0) {
		emu_chans_stall(a->chans, kind[0] == 's');
		log_info("commits %s", kind[0] == 's' ? "stalled" : "resumed");
		return 0;
	}
	if (strcmp(kind, "commit_lag") == 0) {
		json_t *ms = json_object_get(j, "ms");

		if (!json_is_integer(ms) || json_integer_value(ms) < 0 ||
		    json_integer_value(ms) > 3600000) {
			snprintf(err, errlen, "commit_lag: \"ms\" 0..3600000");
			return -EINVAL;
		}
		emu_chans_set_lag(a->chans, json_integer_value(ms));
		return 0;
	}
	if (strcmp(kind, "jwt_max_age") == 0) {
		json_t *sec = json_object_get(j, "s");

		if (!json_is_integer(sec) || json_integer_value(sec) < 0 ||
		    json_integer_value(sec) > 86400) {
			snprintf(err, errlen, "jwt_max_age: \"s\" 0..86400 (0 = off)");
			return -EINVAL;
		}
		a->jwt_max_age_s = json_integer_value(sec);
		emu_auth_set_max_age(a->auth, a->jwt_max_age_s);
		return 0;
	}
	if (strcmp(kind, "clear") == 0) {
		clear_faults(a);
		return 0;
	}
	return 1;	/* not immediate */
}

int
emu_api_apply_faults(struct emu_api *a, json_t *doc, char *err, size_t errlen)
{
	json_t *list = doc, *one = NULL, *v;
	size_t i;
	int r;

	if (json_is_object(doc) && json_object_get(doc, "faults") != NULL)
		list = json_object_get(doc, "faults");
	else if (json_is_object(doc))
		list = one = json_pack("[O]", doc);
	if (!json_is_array(list)) {
		snprintf(err, errlen, "faults: expected {\"faults\":[...]}, an array or one rule");
		return -EINVAL;
	}
	r = 0;
	json_array_foreach(list, i, v) {
		const char *kind = json_string_value(json_object_get(v, "kind"));

		if (kind == NULL) {
			snprintf(err, errlen, "faults[%zu]: missing \"kind\"", i);
			r = -EINVAL;
			break;
		}
		r = immediate(a, kind, v, err, errlen);
		if (r == 1)
			r = emu_faults_add(a->faults, v, err, errlen);
		if (r < 0)
			break;
		log_info("fault added: %s", kind);
	}
	json_decref(one);
	return r;
}

/* The strict behaviours in force, by name. */
static json_t *
strict_json(const struct emu_conf *c)
{
	json_t *o = json_object();

	for (unsigned b = 1; b & EMU_STRICT_ALL; b <<= 1)
		json_object_set_new(o, emu_strict_name(b), json_boolean(emu_strict(c, b)));
	return o;
}

static json_t *
stats_json(struct emu_api *a)
{
	struct emu_chans_stats cs;
	struct emu_http_stats hs = { 0 };
	json_t *o = json_object(), *req = json_object();

	for (int r = 0; r < EMU_R_COUNT; r++) {
		json_t *by = json_object();
		char k[16];

		for (int s = 0; s < 600; s++) {
			if (a->counts[r][s] == 0)
				continue;
			snprintf(k, sizeof(k), "%d", s);
			json_object_set_new(by, k, json_integer(a->counts[r][s]));
		}
		if (a->dropped[r] > 0)
			json_object_set_new(by, "dropped", json_integer(a->dropped[r]));
		json_object_set_new(req, emu_route_name(r), by);
	}
	emu_chans_stats(a->chans, &cs);
	if (a->http != NULL)
		emu_http_stats(a->http, &hs);
	json_object_set_new(o, "requests", req);
	json_object_set_new(o, "requests_total", json_integer(hs.requests));
	json_object_set_new(o, "connections", json_integer(hs.connections));
	json_object_set_new(o, "tls_handshakes", json_integer(hs.tls_handshakes));
	json_object_set_new(o, "bytes_received", json_integer(hs.bytes_in));
	json_object_set_new(o, "bytes_decompressed", json_integer(a->bytes_decompressed));
	json_object_set_new(o, "appends_accepted", json_integer(a->appends_accepted));
	json_object_set_new(o, "appends_replayed", json_integer(a->appends_replayed));
	json_object_set_new(o, "rows_appended", json_integer(a->rows_appended));
	json_object_set_new(o, "rows_committed", json_integer(cs.rows_committed));
	json_object_set_new(o, "rows_errored", json_integer(cs.rows_errored));
	json_object_set_new(o, "batches_committed", json_integer(cs.batches_committed));
	json_object_set_new(o, "batches_discarded", json_integer(cs.batches_discarded));
	json_object_set_new(o, "pending_batches", json_integer(cs.pending_batches));
	json_object_set_new(o, "pending_bytes", json_integer(cs.pending_bytes));
	json_object_set_new(o, "channels", json_integer(cs.channels));
	json_object_set_new(o, "session", json_pack("{s:I, s:I, s:I, s:I}", "sent",
	    (json_int_t)a->sess_sent, "echoed", (json_int_t)a->sess_echoed, "missing",
	    (json_int_t)a->sess_missing, "wrong", (json_int_t)a->sess_wrong));
	json_object_set_new(o, "strict", strict_json(a->conf));
	json_object_set_new(o, "jwt_max_age_s", json_integer(a->jwt_max_age_s));
	json_object_set_new(o, "ingest_host", json_string(a->ingest_host));
	json_object_set_new(o, "store", json_string(a->count_mode ? "count" : "rows"));
	return o;
}

static void
do_control(struct emu_api *a, struct emu_req *req, struct route *rt)
{
	const char *what = rt->nseg >= 2 ? rt->seg[1] : "";
	char err[256];
	json_t *doc;

	if (strcmp(what, "stats") == 0 && strcmp(req->method, "GET") == 0) {
		reply_json(req, 200, stats_json(a));
	} else if (strcmp(what, "health") == 0) {
		reply_json(req, 200, json_pack("{s:b}", "ok", 1));
	} else if (strcmp(what, "commit") == 0 && strcmp(req->method, "POST") == 0) {
		int n = emu_chans_commit_due(a->chans, clock_mono_ns(), true);

		reply_json(req, 200, json_pack("{s:i}", "batches_committed", n));
	} else if (strcmp(what, "faults") == 0 && strcmp(req->method, "GET") == 0) {
		reply_json(req, 200, json_pack("{s:o}", "faults", emu_faults_json(a->faults)));
	} else if (strcmp(what, "faults") == 0 && strcmp(req->method, "DELETE") == 0) {
		clear_faults(a);
		emu_chans_stall(a->chans, false);
		reply_json(req, 200, json_pack("{s:[]}", "faults"));
	} else if (strcmp(what, "faults") == 0 && strcmp(req->method, "POST") == 0) {
		doc = json_loadb(req->body, req->len, JSON_REJECT_DUPLICATES, NULL);
		if (doc == NULL) {
			reply_error(a, req, 400, "BAD_FAULT", "body is not JSON");
			return;
		}
		if (emu_api_apply_faults(a, doc, err, sizeof(err)) < 0)
			reply_error(a, req, 400, "BAD_FAULT", err);
		else
			reply_json(req, 200, json_pack("{s:o}", "faults", emu_faults_json(a->faults)));
		json_decref(doc);
	} else {
		reply_error(a, req, 404, "NOT_FOUND", "GET /_emu/stats, /_emu/health, "
		    "GET|POST|DELETE /_emu/faults, POST /_emu/commit");
	}
}

/* ------------------------------------------------------------ dispatch */

static bool
pre_faults(struct emu_api *a, struct emu_req *req, const struct route *rt)
{
	struct emu_fault f;

	if (!emu_faults_take(a->faults, 1u << EMU_F_STATUS | 1u << EMU_F_DROP, rt->route,
	    rt->channel, &f))
		return false;
	log_info("fault: %s on %s", f.kind == EMU_F_DROP ? "drop" : "status",
	    emu_route_name(rt->route));
	if (f.kind == EMU_F_DROP) {
		req->drop = true;
		return true;
	}
	req->retry_after = f.retry_after;
	reply_raw(req, f.status, "application/json", strdup(f.body ? f.body : "{}"));
	if (f.headers != NULL)
		req->headers = strdup(f.headers);
	return true;
}

/* On demand: the answer carries x-snowflake-session (as the real ingest host
 * sends it); the channel remembers it to check the client's echo. */
static void
session_header(struct emu_api *a, struct emu_req *req, const struct route *rt)
{
	const struct emu_pipe *p;
	struct emu_chan *ch;
	struct emu_fault f;
	char val[516], *h = NULL;
	size_t n;

	if (!emu_faults_take(a->faults, 1u << EMU_F_SESSION, rt->route, rt->channel, &f))
		return;
	if (f.value != NULL)
		snprintf(val, sizeof(val), "%s", f.value);
	else if (emu_b64_encode(a->ingest_host, strlen(a->ingest_host), &h) == 0)
		snprintf(val, sizeof(val), "%s", h);
	free(h);
	n = (req->headers ? strlen(req->headers) : 0) + strlen(val) + 32;
	if ((h = realloc(req->headers, n)) == NULL)
		return;
	if (req->headers == NULL)
		h[0] = '\0';
	snprintf(h + strlen(h), n - strlen(h), "x-snowflake-session: %s\n", val);
	req->headers = h;
	a->sess_sent++;
	if (rt->channel != NULL && (p = pipe_of(a, rt)) != NULL &&
	    (ch = find_chan(a, p, rt->channel)) != NULL)
		snprintf(ch->session, sizeof(ch->session), "%s", val);
}

static void
post_faults(struct emu_api *a, struct emu_req *req, const struct route *rt)
{
	unsigned mask = 1u << EMU_F_DELAY;
	struct emu_fault f;

	if (!req->drop)
		session_header(a, req, rt);

	if (req->status >= 200 && req->status < 300)
		mask |= 1u << EMU_F_DROP_AFTER;
	if (!emu_faults_take(a->faults, mask, rt->route, rt->channel, &f))
		return;
	log_info("fault: %s on %s", f.kind == EMU_F_DELAY ? "delay" : "drop after accept",
	    emu_route_name(rt->route));
	if (f.kind == EMU_F_DELAY)
		req->delay_ms = f.delay_ms;
	else
		req->drop = true;
}

static void
dispatch(struct emu_api *a, struct emu_req *req, struct route *rt)
{
	char msg[200];

	if (rt->route == EMU_R_OPEN && strcmp(req->method, "DELETE") == 0)
		rt->route = EMU_R_DROP;
	if (rt->route == EMU_R_OTHER) {
		reply_error(a, req, 404, "NOT_FOUND", "No such endpoint.");
		return;
	}
	if (pre_faults(a, req, rt))
		return;
	if (strcmp(req->method, want_method(rt->route)) != 0) {
		reply_error(a, req, 405, "METHOD_NOT_ALLOWED", "Method not allowed.");
		return;
	}
	if (!accept_ok(a, req, rt->route, msg, sizeof(msg))) {
		reply_error(a, req, 400, "391902", msg);
		return;
	}
	if (rt->route != EMU_R_TOKEN && !authenticate(a, req, rt, bearer(req)))
		return;
	switch (rt->route) {
	case EMU_R_HOSTNAME:
		do_hostname(a, req);
		break;
	case EMU_R_TOKEN:
		do_token(a, req, rt);
		break;
	case EMU_R_OPEN:
		do_open(a, req, rt);
		break;
	case EMU_R_DROP:
		do_drop(a, req, rt);
		break;
	case EMU_R_APPEND:
		do_append(a, req, rt);
		break;
	case EMU_R_STATUS:
		do_status(a, req, rt);
		break;
	}
	post_faults(a, req, rt);
}

void
emu_api_handle(void *arg, struct emu_req *req)
{
	struct emu_api *a = arg;
	struct route rt = { 0 };

	if (split_path(req->url, &rt) < 0) {
		rt.route = EMU_R_OTHER;
		reply_error(a, req, 400, "ERR_INVALID_REQUEST", "Badly encoded path.");
	} else {
		classify(&rt);
		if (rt.route == EMU_R_CONTROL)
			do_control(a, req, &rt);
		else
			dispatch(a, req, &rt);
	}
	if (req->drop)
		a->dropped[rt.route]++;
	else if (req->status >= 100 && req->status < 600)
		a->counts[rt.route][req->status]++;
	log_debug("%s %s -> %d%s", req->method, req->url, req->status, req->drop ? " (dropped)" :
	    "");
	route_free(&rt);
}
