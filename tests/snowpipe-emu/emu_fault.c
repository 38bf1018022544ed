/* SPDX-License-Identifier: Apache-2.0 */
/*
 * emu_fault: a short list of rules, checked in order on each request. The
 * list is capped (64 rules); a rule with a count disappears when used up.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "emu_answer.h"
#include "emu_fault.h"

#define MAX_RULES 64
#define MAX_LONG_ERROR (1 << 20)

struct emu_faults {
	struct emu_fault *list;
	size_t n;
	int64_t next_id;
	/* strings of the last rule taken (see emu_faults_take) */
	char *last_body, *last_headers, *last_value;
};

static const char *const route_names[EMU_R_COUNT] = {
	"hostname", "token", "open", "append", "drop", "status", "control", "other"
};

const char *
emu_route_name(int route)
{
	return route >= 0 && route < EMU_R_COUNT ? route_names[route] : "any";
}

int
emu_faults_new(struct emu_faults **ret)
{
	struct emu_faults *f = calloc(1, sizeof(*f));

	if (f == NULL)
		return -ENOMEM;
	f->next_id = 1;
	*ret = f;
	return 0;
}

static void
rule_free(struct emu_fault *r)
{
	free(r->channel);
	free(r->body);
	free(r->headers);
	free(r->value);
	free(r);
}

void
emu_faults_clear(struct emu_faults *f)
{
	struct emu_fault *r, *next;

	for (r = f->list; r != NULL; r = next) {
		next = r->next;
		rule_free(r);
	}
	f->list = NULL;
	f->n = 0;
}

void
emu_faults_free(struct emu_faults *f)
{
	if (f == NULL)
		return;
	emu_faults_clear(f);
	free(f->last_body);
	free(f->last_headers);
	free(f->last_value);
	free(f);
}

static const char *
default_body(int status)
{
	switch (status) {
	case 408:
		return "{\"code\":\"REQUEST_TIMEOUT\",\"message\":\"Request timed out (injected)\"}";
	case 429:
		return "{\"code\":\"ERR_TOO_MANY_REQUESTS\",\"message\":\"Too many requests "
		    "(injected)\"}";
	case 500:
	case 503:
		return "\"ERR_GENERAL_EXCEPTION_RETRY_REQUEST\"";
	default:
		return "{\"code\":\"ERR_INJECTED_FAULT\",\"message\":\"Injected fault\"}";
	}
}

static int
parse_route(const char *s, int *ret)
{
	if (s == NULL || strcmp(s, "any") == 0) {
		*ret = -1;
		return 0;
	}
	for (int i = 0; i < EMU_R_COUNT; i++)
		if (strcmp(s, route_names[i]) == 0 && i != EMU_R_CONTROL) {
			*ret = i;
			return 0;
		}
	return -EINVAL;
}

static int
parse_kind(const char *k, struct emu_fault *r)
{
	if (strcmp(k, "status") == 0)
		r->kind = EMU_F_STATUS;
	else if (strcmp(k, "stale_pipe_cache") == 0) {
		r->kind = EMU_F_STATUS;
		r->status = 400;
		r->body = strdup("{\"code\":\"STALE_PIPE_CACHE\",\"message\":\"A pipe with this "
		    "name was recently dropped. Please reopen the channel and try again.\"}");
		r->route = EMU_R_APPEND;
		if (r->body == NULL)
			return -ENOMEM;
	} else if (strcmp(k, "drop") == 0)
		r->kind = EMU_F_DROP;
	else if (strcmp(k, "drop_after_accept") == 0) {
		r->kind = EMU_F_DROP_AFTER;
		r->route = EMU_R_APPEND;
	} else if (strcmp(k, "delay") == 0)
		r->kind = EMU_F_DELAY;
	else if (strcmp(k, "answer") == 0)
		r->kind = EMU_F_STATUS;	/* status, headers and body from "file" */
	else if (strcmp(k, "long_error_message") == 0) {
		r->kind = EMU_F_LONG_ERROR;
		r->bytes = 5120;
		r->remaining = -1;
	} else if (strcmp(k, "refuse_replay") == 0) {
		r->kind = EMU_F_REFUSE_REPLAY;
		r->route = EMU_R_APPEND;
	} else if (strcmp(k, "session") == 0) {
		r->kind = EMU_F_SESSION;
		r->remaining = -1;
	} else
		return -EINVAL;
	return 0;
}

/* Appends "name: value\n" to *lines (new); header names and values must be
 * one line each. */
static int
add_header(char **lines, const char *name, const char *value)
{
	size_t old = *lines ? strlen(*lines) : 0, n = old + strlen(name) + strlen(value) + 4;
	char *nl;

	if (*name == '\0' || strpbrk(name, ": \r\n") != NULL ||
	    strpbrk(value, "\r\n") != NULL)
		return -EINVAL;
	if ((nl = realloc(*lines, n)) == NULL)
		return -ENOMEM;
	snprintf(nl + old, n - old, "%s: %s\n", name, value);
	*lines = nl;
	return 0;
}

/* Headers the HTTP server sets itself are not replayed from a file. */
static bool
own_header(const char *name)
{
	static const char *const own[] = { "content-length", "transfer-encoding",
		"connection", "date", "keep-alive", NULL };

	for (size_t i = 0; own[i] != NULL; i++)
		if (strcasecmp(name, own[i]) == 0)
			return true;
	return false;
}

/* kind "answer": status, headers and body of a canned answer file. */
static int
rule_answer(json_t *file, struct emu_fault *r, char *err, size_t errlen)
{
	struct emu_answer a;
	int rc;

	if (!json_is_string(file)) {
		snprintf(err, errlen, "fault: kind \"answer\" needs \"file\" (a path)");
		return -EINVAL;
	}
	if ((rc = emu_answer_load(json_string_value(file), &a, err, errlen)) < 0)
		return -EINVAL;
	r->status = a.status;
	free(r->body);
	r->body = a.body;
	a.body = NULL;
	for (size_t i = 0; rc == 0 && i < a.nhdr; i++)
		if (!own_header(a.names[i]))
			rc = add_header(&r->headers, a.names[i], a.values[i]);
	emu_answer_clear(&a);
	if (rc < 0)
		snprintf(err, errlen, "fault: answer file: unusable header");
	return rc;
}

static int
rule_headers(json_t *h, struct emu_fault *r, char *err, size_t errlen)
{
	const char *k;
	json_t *v;

	if (!json_is_object(h))
		goto bad;
	json_object_foreach(h, k, v)
		if (!json_is_string(v) || add_header(&r->headers, k, json_string_value(v)) < 0)
			goto bad;
	return 0;
bad:
	snprintf(err, errlen, "fault: \"headers\": an object of one-line strings");
	return -EINVAL;
}

static int
rule_fields(json_t *j, struct emu_fault *r, char *err, size_t errlen)
{
	static const char *const keys[] = { "kind", "route", "channel", "count", "percent",
		"status", "retry_after", "body", "delay_ms", "headers", "file", "bytes", "value",
		NULL };
	json_t *v;
	const char *k;

	json_object_foreach(j, k, v) {
		size_t i;

		for (i = 0; keys[i] != NULL && strcmp(keys[i], k) != 0; i++)
			;
		if (keys[i] == NULL) {
			snprintf(err, errlen, "fault: unknown key \"%s\"", k);
			return -EINVAL;
		}
	}
	if ((v = json_object_get(j, "route")) != NULL &&
	    (!json_is_string(v) || parse_route(json_string_value(v), &r->route) < 0)) {
		snprintf(err, errlen, "fault: \"route\": one of any, hostname, token, open, "
		    "append, drop, status, other");
		return -EINVAL;
	}
	if ((v = json_object_get(j, "channel")) != NULL) {
		if (!json_is_string(v) || (r->channel = strdup(json_string_value(v))) == NULL) {
			snprintf(err, errlen, "fault: \"channel\": expected a string");
			return -EINVAL;
		}
		for (char *p = r->channel; *p; p++)
			if (*p >= 'a' && *p <= 'z')
				*p = (char)(*p - 'a' + 'A');
	}
	if ((v = json_object_get(j, "count")) != NULL) {
		if (!json_is_integer(v) || json_integer_value(v) < -1 || json_integer_value(v) == 0) {
			snprintf(err, errlen, "fault: \"count\": positive integer or -1 (forever)");
			return -EINVAL;
		}
		r->remaining = json_integer_value(v);
	}
	if ((v = json_object_get(j, "percent")) != NULL) {
		if (!json_is_integer(v) || json_integer_value(v) < 1 || json_integer_value(v) > 100) {
			snprintf(err, errlen, "fault: \"percent\": 1..100");
			return -EINVAL;
		}
		r->percent = (int)json_integer_value(v);
		if (json_object_get(j, "count") == NULL)
			r->remaining = -1;
	}
	if ((v = json_object_get(j, "status")) != NULL) {
		if (!json_is_integer(v) || json_integer_value(v) < 100 || json_integer_value(v) > 599) {
			snprintf(err, errlen, "fault: \"status\": 100..599");
			return -EINVAL;
		}
		r->status = (int)json_integer_value(v);
	}
	if ((v = json_object_get(j, "retry_after")) != NULL) {
		if (!json_is_integer(v) || json_integer_value(v) < 0 || json_integer_value(v) > 3600) {
			snprintf(err, errlen, "fault: \"retry_after\": seconds 0..3600");
			return -EINVAL;
		}
		r->retry_after = (int)json_integer_value(v);
	}
	if ((v = json_object_get(j, "delay_ms")) != NULL) {
		if (!json_is_integer(v) || json_integer_value(v) < 0 ||
		    json_integer_value(v) > 600000) {
			snprintf(err, errlen, "fault: \"delay_ms\": 0..600000");
			return -EINVAL;
		}
		r->delay_ms = json_integer_value(v);
	}
	if ((v = json_object_get(j, "body")) != NULL) {
		free(r->body);
		r->body = json_is_string(v) ? strdup(json_string_value(v)) :
		    json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
		if (r->body == NULL)
			return -ENOMEM;
	}
	if ((v = json_object_get(j, "bytes")) != NULL) {
		if (!json_is_integer(v) || json_integer_value(v) < 1 ||
		    json_integer_value(v) > MAX_LONG_ERROR) {
			snprintf(err, errlen, "fault: \"bytes\": 1..%d", MAX_LONG_ERROR);
			return -EINVAL;
		}
		r->bytes = json_integer_value(v);
	}
	if ((v = json_object_get(j, "value")) != NULL) {
		if (!json_is_string(v) || strpbrk(json_string_value(v), "\r\n") != NULL ||
		    json_string_length(v) > 512) {
			snprintf(err, errlen, "fault: \"value\": a one-line string");
			return -EINVAL;
		}
		if ((r->value = strdup(json_string_value(v))) == NULL)
			return -ENOMEM;
	}
	if ((v = json_object_get(j, "headers")) != NULL &&
	    rule_headers(v, r, err, errlen) < 0)
		return -EINVAL;
	return 0;
}

int
emu_faults_add(struct emu_faults *f, json_t *j, char *err, size_t errlen)
{
	struct emu_fault *r, **pp;
	const char *kind = json_string_value(json_object_get(j, "kind"));
	int rc;

	if (!json_is_object(j) || kind == NULL) {
		snprintf(err, errlen, "fault: expected an object with \"kind\"");
		return -EINVAL;
	}
	if (f->n >= MAX_RULES) {
		snprintf(err, errlen, "fault: at most %d rules", MAX_RULES);
		return -ENOSPC;
	}
	r = calloc(1, sizeof(*r));
	if (r == NULL)
		return -ENOMEM;
	r->route = -1;
	r->remaining = 1;
	r->percent = 100;
	r->retry_after = -1;
	if ((rc = parse_kind(kind, r)) < 0) {
		snprintf(err, errlen, "fault: unknown kind \"%s\"", kind);
		goto fail;
	}
	if (strcmp(kind, "answer") == 0 &&
	    (rc = rule_answer(json_object_get(j, "file"), r, err, errlen)) < 0)
		goto fail;
	if ((rc = rule_fields(j, r, err, errlen)) < 0)
		goto fail;
	if (r->kind == EMU_F_STATUS && r->status == 0) {
		snprintf(err, errlen, "fault: kind \"status\" needs \"status\"");
		rc = -EINVAL;
		goto fail;
	}
	if (r->kind == EMU_F_STATUS && r->body == NULL &&
	    (r->body = strdup(default_body(r->status))) == NULL) {
		rc = -ENOMEM;
		goto fail;
	}
	r->id = f->next_id++;
	for (pp = &f->list; *pp != NULL; pp = &(*pp)->next)
		;
	*pp = r;
	f->n++;
	return 0;
fail:
	rule_free(r);
	return rc;
}

json_t *
emu_faults_json(struct emu_faults *f)
{
	static const char *const kinds[] = { "status", "drop", "drop_after_accept", "delay",
		"long_error_message", "refuse_replay", "session" };
	json_t *a = json_array();

	for (struct emu_fault *r = f->list; r != NULL; r = r->next) {
		json_t *o = json_pack("{s:I, s:s, s:s, s:I, s:i}", "id", (json_int_t)r->id,
		    "kind", kinds[r->kind], "route", emu_route_name(r->route), "count",
		    (json_int_t)r->remaining, "percent", r->percent);

		if (r->channel)
			json_object_set_new(o, "channel", json_string(r->channel));
		if (r->kind == EMU_F_STATUS)
			json_object_set_new(o, "status", json_integer(r->status));
		if (r->retry_after >= 0)
			json_object_set_new(o, "retry_after", json_integer(r->retry_after));
		if (r->body)
			json_object_set_new(o, "body", json_string(r->body));
		if (r->kind == EMU_F_DELAY)
			json_object_set_new(o, "delay_ms", json_integer(r->delay_ms));
		if (r->headers)
			json_object_set_new(o, "headers", json_string(r->headers));
		if (r->kind == EMU_F_LONG_ERROR)
			json_object_set_new(o, "bytes", json_integer(r->bytes));
		if (r->value)
			json_object_set_new(o, "value", json_string(r->value));
		json_array_append_new(a, o);
	}
	return a;
}

bool
emu_faults_take(struct emu_faults *f, unsigned kinds_mask, int route, const char *channel,
    struct emu_fault *ret)
{
	struct emu_fault **pp, *r;

	for (pp = &f->list; (r = *pp) != NULL; pp = &r->next) {
		if (!(kinds_mask & (1u << r->kind)))
			continue;
		if (r->route >= 0 && r->route != route)
			continue;
		if (r->route < 0 && route == EMU_R_CONTROL)
			continue;
		if (r->channel != NULL && (channel == NULL || strcasecmp(r->channel, channel) != 0))
			continue;
		if (r->percent < 100 && rand() % 100 >= r->percent)
			continue;
		*ret = *r;
		free(f->last_body);
		free(f->last_headers);
		free(f->last_value);
		f->last_body = r->body ? strdup(r->body) : NULL;
		f->last_headers = r->headers ? strdup(r->headers) : NULL;
		f->last_value = r->value ? strdup(r->value) : NULL;
		ret->body = f->last_body;
		ret->headers = f->last_headers;
		ret->value = f->last_value;
		ret->channel = NULL;
		ret->next = NULL;
		if (r->remaining > 0 && --r->remaining == 0) {
			*pp = r->next;
			f->n--;
			rule_free(r);
		}
		return true;
	}
	return false;
}
