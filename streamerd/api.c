/* SPDX-License-Identifier: Apache-2.0 */
/*
 * api: REST request builders and answer parsers. The service's answers vary
 * between documentation versions and reality (plain-text vs JSON hostname
 * and token, rows_error_count vs rows_errors, SUCCESS vs ACTIVE, four error
 * shapes), so parsers accept every observed variant but nothing else: a
 * field of the wrong type or a value that cannot be a token is an error,
 * not a guess.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>

#include "api.h"

int
api_escape(const char *s, char *out, size_t cap)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t o = 0;

	for (const unsigned char *p = (const unsigned char *)s; *p != '\0'; p++) {
		if (isalnum(*p) || *p == '-' || *p == '.' || *p == '_' || *p == '~') {
			if (o + 1 >= cap)
				return -ENOSPC;
			out[o++] = (char)*p;
		} else {
			if (o + 3 >= cap)
				return -ENOSPC;
			out[o++] = '%';
			out[o++] = hex[*p >> 4];
			out[o++] = hex[*p & 15];
		}
	}
	if (o >= cap)
		return -ENOSPC;
	out[o] = '\0';
	return 0;
}

/* base/v2/streaming/[data/]databases/D/schemas/S/pipes/P into out. */
static int
pipe_path(char *out, size_t cap, const char *base, bool data, const char *db,
    const char *schema, const char *pipe)
{
	char d[768], s[768], p[768];
	int n;

	if (api_escape(db, d, sizeof(d)) < 0 || api_escape(schema, s, sizeof(s)) < 0 ||
	    api_escape(pipe, p, sizeof(p)) < 0)
		return -ENOSPC;
	n = snprintf(out, cap, "%s/v2/streaming/%sdatabases/%s/schemas/%s/pipes/%s", base,
	    data ? "data/" : "", d, s, p);
	return n < 0 || (size_t)n >= cap ? -ENOSPC : 0;
}

int
api_url_channel(char *out, size_t cap, const char *base, const char *db,
    const char *schema, const char *pipe, const char *channel, const char *request_id)
{
	char c[768];
	size_t l;
	int n;

	if (pipe_path(out, cap, base, false, db, schema, pipe) < 0 ||
	    api_escape(channel, c, sizeof(c)) < 0)
		return -ENOSPC;
	l = strlen(out);
	n = snprintf(out + l, cap - l, "/channels/%s?requestId=%s", c, request_id);
	return n < 0 || (size_t)n >= cap - l ? -ENOSPC : 0;
}

int
api_url_append(char *out, size_t cap, const char *base, const char *db,
    const char *schema, const char *pipe, const char *channel, const char *start_tok,
    const char *end_tok, const char *cont, const char *request_id)
{
	char c[768], st[768], en[768], *ct;
	size_t l, ctcap = strlen(cont) * 3 + 1;
	int n, r = -ENOSPC;

	if ((ct = malloc(ctcap)) == NULL)
		return -ENOMEM;
	if (pipe_path(out, cap, base, true, db, schema, pipe) < 0 ||
	    api_escape(channel, c, sizeof(c)) < 0 || api_escape(start_tok, st, sizeof(st)) < 0 ||
	    api_escape(end_tok, en, sizeof(en)) < 0 || api_escape(cont, ct, ctcap) < 0)
		goto cleanup;
	l = strlen(out);
	n = snprintf(out + l, cap - l, "/channels/%s/rows?startOffsetToken=%s&endOffsetToken=%s"
	    "&continuationToken=%s&requestId=%s", c, st, en, ct, request_id);
	if (n >= 0 && (size_t)n < cap - l)
		r = 0;
cleanup:
	free(ct);
	return r;
}

int
api_url_status(char *out, size_t cap, const char *base, const char *db,
    const char *schema, const char *pipe, const char *request_id)
{
	size_t l;
	int n;

	if (pipe_path(out, cap, base, false, db, schema, pipe) < 0)
		return -ENOSPC;
	l = strlen(out);
	n = snprintf(out + l, cap - l, ":bulk-channel-status%s%s", request_id ? "?requestId=" : "",
	    request_id ? request_id : "");
	return n < 0 || (size_t)n >= cap - l ? -ENOSPC : 0;
}

int
api_body_status(const char *const *names, size_t n, char **ret)
{
	json_t *j = json_object(), *a = json_array();
	char *s;

	if (j == NULL || a == NULL || json_object_set(j, "channel_names", a) < 0) {
		json_decref(j);
		json_decref(a);
		return -ENOMEM;
	}
	for (size_t i = 0; i < n; i++)
		if (json_array_append_new(a, json_string(names[i])) < 0) {
			json_decref(j);
			json_decref(a);
			return -ENOMEM;
		}
	json_decref(a);
	s = json_dumps(j, JSON_COMPACT);
	json_decref(j);
	if (s == NULL)
		return -ENOMEM;
	*ret = s;
	return 0;
}

int
api_body_token(int kind, const char *scope, const char *subject, char **ret)
{
	size_t cap = 3 * strlen(scope) + (subject ? 3 * strlen(subject) : 0) + 256;
	char *out = malloc(cap), *esc = malloc(cap);
	int r = -ENOSPC;

	if (out == NULL || esc == NULL) {
		r = -ENOMEM;
		goto cleanup;
	}
	if (api_escape(scope, esc, cap) < 0)
		goto cleanup;
	if (kind == 0) {
		snprintf(out, cap, "grant_type=urn%%3Aietf%%3Aparams%%3Aoauth%%3Agrant-type%%3A"
		    "jwt-bearer&scope=%s", esc);
	} else {
		size_t l;

		l = (size_t)snprintf(out, cap, "grant_type=urn%%3Aietf%%3Aparams%%3Aoauth%%3A"
		    "grant-type%%3Atoken-exchange&scope=%s&subject_token_type="
		    "programmatic_access_token&subject_token=", esc);
		if (subject == NULL || api_escape(subject, out + l, cap - l) < 0)
			goto cleanup;
	}
	*ret = out;
	out = NULL;
	r = 0;
cleanup:
	free(out);
	if (esc != NULL)
		free(esc);
	return r;
}

/* Trims ASCII whitespace from both ends of [*p, *p + *len). */
static void
trim(const char **p, size_t *len)
{
	while (*len > 0 && isspace((unsigned char)(*p)[0])) {
		(*p)++;
		(*len)--;
	}
	while (*len > 0 && isspace((unsigned char)(*p)[*len - 1]))
		(*len)--;
}

static json_t *
load(const char *body, size_t len)
{
	if (len > API_BODY_MAX)
		return NULL;
	return json_loadb(body, len, JSON_DECODE_ANY | JSON_REJECT_DUPLICATES, NULL);
}

/* Text of a hostname or token answer: a JSON object's key (or fallback), a
 * JSON string, or the raw trimmed text. *ret is new. */
static int
text_answer(const char *body, size_t len, const char *key, const char *alt, size_t max,
    char **ret)
{
	json_t *j = NULL, *v;
	const char *s;
	size_t n;
	char *out;
	int r = -EBADMSG;

	trim(&body, &len);
	if (len > 0 && (body[0] == '{' || body[0] == '"')) {
		if ((j = load(body, len)) == NULL)
			return -EBADMSG;
		v = json_is_object(j) ? json_object_get(j, key) : j;
		if (v == NULL && alt != NULL)
			v = json_object_get(j, alt);
		if (!json_is_string(v))
			goto cleanup;
		s = json_string_value(v);
		n = json_string_length(v);
	} else {
		s = body;
		n = len;
	}
	trim(&s, &n);
	if (n == 0 || n > max || memchr(s, '\0', n) != NULL)
		goto cleanup;
	for (size_t i = 0; i < n; i++)
		if (!isgraph((unsigned char)s[i]))
			goto cleanup;
	if ((out = malloc(n + 1)) == NULL) {
		r = -ENOMEM;
		goto cleanup;
	}
	memcpy(out, s, n);
	out[n] = '\0';
	*ret = out;
	r = 0;
cleanup:
	json_decref(j);
	return r;
}

int
api_parse_hostname(const char *body, size_t len, char out[API_HOST_MAX])
{
	char *h = NULL, *p;
	size_t n;
	int r;

	if ((r = text_answer(body, len, "hostname", NULL, API_HOST_MAX * 2, &h)) < 0)
		return r == -ENOMEM ? r : -EBADMSG;
	p = h;
	if (strncasecmp(p, "https://", 8) == 0)
		p += 8;
	n = strlen(p);
	while (n > 0 && p[n - 1] == '/')
		p[--n] = '\0';
	r = -EBADMSG;
	if (n == 0 || n >= API_HOST_MAX || p[0] == '.' || p[0] == '-' || strstr(p, "..") != NULL)
		goto cleanup;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)p[i];

		if (c == '_')
			c = '-';
		c = (unsigned char)tolower(c);
		if (!(isalnum(c) || c == '-' || c == '.' || c == ':' || c == '[' || c == ']'))
			goto cleanup;
		p[i] = (char)c;
	}
	memcpy(out, p, n + 1);
	r = 0;
cleanup:
	free(h);
	return r;
}

int
api_parse_token(const char *body, size_t len, char **ret)
{
	int r = text_answer(body, len, "token", "access_token", API_TOKEN_MAX, ret);

	return r == -ENOMEM ? r : r < 0 ? -EBADMSG : 0;
}

/* Optional integer field: a JSON integer or numeric string; absent, null or
 * anything else -> *have false. */
static void
get_int(json_t *o, const char *k, bool *have, int64_t *v)
{
	json_t *j = json_object_get(o, k);
	char *end;
	long long x;

	*have = false;
	if (json_is_integer(j)) {
		*v = json_integer_value(j);
		*have = true;
	} else if (json_is_string(j)) {
		const char *s = json_string_value(j);

		errno = 0;
		x = strtoll(s, &end, 10);
		if (errno == 0 && end != s && *end == '\0') {
			*v = x;
			*have = true;
		}
	}
}

/* Optional text field into out, cut to cap - 1 bytes (at a UTF-8 character
 * boundary), control characters as spaces; "" when absent, null or not a
 * string. Never fails: a long last_error_message must not cost the answer. */
static void
get_text(json_t *o, const char *k, char *out, size_t cap)
{
	json_t *j = json_object_get(o, k);
	const char *s;
	size_t n;

	out[0] = '\0';
	if (json_is_integer(j)) {	/* legacy numeric codes, e.g. status 0 */
		snprintf(out, cap, "%lld", (long long)json_integer_value(j));
		return;
	}
	if (!json_is_string(j) || cap == 0)
		return;
	s = json_string_value(j);
	n = strlen(s);		/* an embedded NUL ends the text */
	if (n >= cap) {
		n = cap - 1;
		while (n > 0 && ((unsigned char)s[n] & 0xc0) == 0x80)
			n--;	/* not in the middle of a character */
	}
	for (size_t i = 0; i < n; i++)
		out[i] = (unsigned char)s[i] < 0x20 || s[i] == 0x7f ? ' ' : s[i];
	out[n] = '\0';
}

/* Optional name field: kept only when it is a whole printable name of
 * fewer than cap bytes ("" otherwise: the configured name is used). */
static void
get_name(json_t *o, const char *k, char *out, size_t cap)
{
	json_t *j = json_object_get(o, k);
	const char *s = json_string_value(j);
	size_t n = json_string_length(j);

	out[0] = '\0';
	if (s == NULL || n == 0 || n >= cap || strlen(s) != n)
		return;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			return;
	memcpy(out, s, n + 1);
}

/* The committed offset token: a string (an integer is taken as its decimal
 * text), or null. Anything else makes the status unusable. */
static int
get_token(json_t *o, struct api_chstatus *st)
{
	json_t *j = json_object_get(o, "last_committed_offset_token");

	st->token_present = j != NULL;
	st->has_committed = false;
	st->committed[0] = '\0';
	if (j == NULL || json_is_null(j))
		return 0;
	if (json_is_integer(j)) {
		snprintf(st->committed, sizeof(st->committed), "%lld",
		    (long long)json_integer_value(j));
	} else if (json_is_string(j) && json_string_length(j) > 0 &&
	    json_string_length(j) < sizeof(st->committed) &&
	    strlen(json_string_value(j)) == json_string_length(j)) {
		memcpy(st->committed, json_string_value(j), json_string_length(j) + 1);
	} else {
		return -EBADMSG;
	}
	st->has_committed = true;
	return 0;
}

static int
parse_chstatus(json_t *o, struct api_chstatus *st)
{
	struct api_chstatus s = { .rows_inserted = -1 };
	bool have;

	if (!json_is_object(o) || get_token(o, &s) < 0)
		return -EBADMSG;
	get_text(o, "channel_status_code", s.code, sizeof(s.code));
	get_int(o, "rows_error_count", &s.has_errors, &s.rows_error_count);
	if (!s.has_errors)
		get_int(o, "rows_errors", &s.has_errors, &s.rows_error_count);
	get_int(o, "rows_inserted", &have, &s.rows_inserted);
	if (!have)
		s.rows_inserted = -1;
	get_text(o, "last_error_message", s.last_error, sizeof(s.last_error));
	get_name(o, "channel_name", s.channel_name, sizeof(s.channel_name));
	get_name(o, "database_name", s.database_name, sizeof(s.database_name));
	get_name(o, "schema_name", s.schema_name, sizeof(s.schema_name));
	get_name(o, "pipe_name", s.pipe_name, sizeof(s.pipe_name));
	*st = s;
	return 0;
}

/* next_continuation_token: a non-empty printable string. *ret new. */
static int
get_cont(json_t *o, char **ret)
{
	json_t *t = json_object_get(o, "next_continuation_token");
	const char *s;
	size_t n;

	if (!json_is_string(t))
		return -EBADMSG;
	s = json_string_value(t);
	n = json_string_length(t);
	if (n == 0 || n > API_TOKEN_MAX || strlen(s) != n)
		return -EBADMSG;
	for (size_t i = 0; i < n; i++)
		if (!isprint((unsigned char)s[i]))
			return -EBADMSG;
	if ((*ret = strdup(s)) == NULL)
		return -ENOMEM;
	return 0;
}

int
api_parse_open(const char *body, size_t len, char **ret_cont, struct api_chstatus *st)
{
	json_t *j = load(body, len);
	struct api_chstatus s;
	char *cont = NULL;
	int r = -EBADMSG;

	if (!json_is_object(j))
		goto cleanup;
	if ((r = parse_chstatus(json_object_get(j, "channel_status"), &s)) < 0 ||
	    (r = s.token_present ? 0 : -EBADMSG) < 0)
		goto cleanup;
	if ((r = get_cont(j, &cont)) < 0)
		goto cleanup;
	*ret_cont = cont;
	*st = s;
	r = 0;
cleanup:
	json_decref(j);
	return r;
}

int
api_parse_append(const char *body, size_t len, char **ret_cont)
{
	json_t *j = load(body, len);
	bool have;
	int64_t sc = 0;
	int r = -EBADMSG;

	if (!json_is_object(j))
		goto cleanup;
	get_int(j, "status_code", &have, &sc);
	if (have && sc != 0)
		goto cleanup;
	r = get_cont(j, ret_cont);
cleanup:
	json_decref(j);
	return r;
}

int
api_parse_status(const char *body, size_t len, const char *channel,
    struct api_chstatus *st, bool *ret_found)
{
	json_t *j = load(body, len), *all, *e;
	struct api_chstatus s;
	int r = -EBADMSG;

	if (!json_is_object(j))
		goto cleanup;
	all = json_object_get(j, "channel_statuses");
	if (!json_is_object(all))
		goto cleanup;
	if ((e = json_object_get(all, channel)) == NULL) {
		const char *k;
		json_t *v;

		json_object_foreach(all, k, v)
			if (strcasecmp(k, channel) == 0) {
				e = v;
				break;
			}
	}
	if (e == NULL) {
		*ret_found = false;
		r = 0;
		goto cleanup;
	}
	if ((r = parse_chstatus(e, &s)) < 0)
		goto cleanup;
	*st = s;
	*ret_found = true;
cleanup:
	json_decref(j);
	return r;
}

void
api_error_code(const char *body, size_t len, char *code, size_t cap)
{
	static const char *const keys[] = { "code", "error_code", "error" };
	json_t *j, *v = NULL;

	code[0] = '\0';
	if (cap == 0 || body == NULL)
		return;
	trim(&body, &len);
	if (len == 0 || (body[0] != '{' && body[0] != '"'))
		return;
	if ((j = load(body, len)) == NULL)
		return;
	if (json_is_object(j)) {
		for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]) && v == NULL; i++) {
			v = json_object_get(j, keys[i]);
			if (!json_is_string(v) && !json_is_integer(v))
				v = NULL;
		}
	} else if (json_is_string(j)) {
		v = j;
	}
	if (json_is_string(v)) {
		const char *s = json_string_value(v);
		size_t i;

		for (i = 0; s[i] != '\0' && i + 1 < cap && isgraph((unsigned char)s[i]); i++)
			code[i] = s[i];
		code[i] = '\0';
	} else if (json_is_integer(v)) {
		snprintf(code, cap, "%lld", (long long)json_integer_value(v));
	}
	json_decref(j);
}

void
api_error_message(const char *body, size_t len, char *out, size_t cap)
{
	static const char *const keys[] = { "message", "error_description", "msg" };
	json_t *j, *v = NULL;

	if (cap == 0)
		return;
	out[0] = '\0';
	if (body == NULL)
		return;
	trim(&body, &len);
	if (len == 0 || body[0] != '{' || (j = load(body, len)) == NULL)
		return;
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]) && !json_is_string(v); i++)
		v = json_object_get(j, keys[i]);
	if (json_is_string(v) && json_string_length(v) > 0)
		api_snippet(json_string_value(v), json_string_length(v), out, cap);
	json_decref(j);
}

void
api_snippet(const char *body, size_t len, char *out, size_t cap)
{
	size_t o = 0;

	if (cap < 8)
		return;
	if (body == NULL || len == 0) {
		snprintf(out, cap, "(empty)");
		return;
	}
	for (size_t i = 0; i < len && o + 4 < cap; i++) {
		unsigned char c = (unsigned char)body[i];

		out[o++] = c >= 0x20 && c < 0x7f ? (char)c : '?';
	}
	if (o < len && o + 4 <= cap) {
		memcpy(out + o, "...", 3);
		o += 3;
	}
	out[o] = '\0';
}

static bool
in_list(const char *code, const char *const *list)
{
	for (; *list != NULL; list++)
		if (strcmp(code, *list) == 0)
			return true;
	return false;
}

enum api_class
api_classify(long status, const char *code)
{
	static const char *const reopen[] = {
		"STALE_CONTINUATION_TOKEN_SEQUENCER", "ERR_CHANNEL_HAS_INVALID_ROW_SEQUENCER",
		"ERR_CHANNEL_HAS_INVALID_CLIENT_SEQUENCER", "ERR_CHANNEL_MUST_BE_REOPENED",
		"ERR_CHANNEL_MUST_BE_REOPENED_DUE_TO_ROW_SEQ_GAP",
		"ERR_CHANNEL_DOES_NOT_EXIST_OR_IS_NOT_AUTHORIZED", "STALE_PIPE_CACHE", NULL,
	};
	static const char *const missing[] = {
		"ERR_PIPE_DOES_NOT_EXIST_OR_NOT_AUTHORIZED", "ERR_TABLE_DOES_NOT_EXIST_NOT_AUTHORIZED",
		"ERR_DATABASE_DOES_NOT_EXIST_OR_NOT_AUTHORIZED",
		"ERR_SCHEMA_DOES_NOT_EXIST_OR_NOT_AUTHORIZED", "ERR_PIPE_KIND_NOT_SUPPORTED", NULL,
	};
	static const char *const retry[] = {
		"ERR_GENERAL_EXCEPTION_RETRY_REQUEST", "ERR_OPEN_CHANNEL_IN_PROGRESS",
		"ERR_CHANNEL_HAS_UNCOMMITTED_DATA", "ReceiverSaturated", "MemoryThresholdExceeded",
		"MemoryThresholdExceededInContainer", "HttpRetryableClientError", NULL,
	};

	if (status >= 200 && status < 300)
		return API_OK;
	if (code == NULL)
		code = "";
	if (status == 401)
		return API_AUTH;
	if (status == 403)
		return API_FORBIDDEN;
	if (in_list(code, reopen))
		return API_REOPEN;
	if (in_list(code, missing))
		return API_MISSING;
	if (in_list(code, retry))
		return API_RETRY;
	if (status == 0 || status == 408 || status == 429 || status == 499 || status >= 500)
		return API_RETRY;
	if (status == 409)
		return strcmp(code, "ERR_PIPE_IN_INVALID_STATE") == 0 ? API_BAD : API_REOPEN;
	if (status == 404)
		return API_MISSING;
	return API_BAD;
}

bool
api_status_usable(const char *code)
{
	return code[0] == '\0' || strcmp(code, "SUCCESS") == 0 || strcmp(code, "ACTIVE") == 0 ||
	    strcmp(code, "0") == 0;
}

const char *
api_class_name(enum api_class c)
{
	static const char *const n[] = { "ok", "retry", "auth", "forbidden", "reopen",
		"missing", "bad-request" };

	return (unsigned)c < sizeof(n) / sizeof(n[0]) ? n[c] : "?";
}
