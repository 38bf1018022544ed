/* SPDX-License-Identifier: Apache-2.0 */
/*
 * conf: one pass over the JSON object per table level: every present key is
 * looked up in the table (unknown → error), then every required key that was
 * not seen is reported. Values are range-checked before they are stored, so
 * a failed load leaves no half-valid field behind that a caller might use.
 */
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "conf.h"
#include "fsutil.h"

#define CONF_MAX_FILE (1024 * 1024)

struct ctx {
	const char *file;
	char *err;
	size_t errlen;
};

static void *
field(void *base, const struct conf_key *k)
{
	return (char *)base + k->offset;
}

void
conf_defaults(const struct conf_key *t, void *base)
{
	for (; t->name; t++) {
		void *f = field(base, t);
		switch (t->type) {
		case CONF_BOOL: *(bool *)f = t->idef != 0; break;
		case CONF_INT: *(int64_t *)f = t->idef; break;
		case CONF_DOUBLE: *(double *)f = t->ddef; break;
		case CONF_ENUM: *(int *)f = (int)t->idef; break;
		case CONF_STRING:
			snprintf(f, t->size, "%s", t->sdef ? t->sdef : "");
			break;
		case CONF_INT_LIST: memset(f, 0, sizeof(struct conf_int_list)); break;
		case CONF_STR_LIST: memset(f, 0, sizeof(struct conf_str_list)); break;
		case CONF_OBJECT: conf_defaults(t->sub, f); break;
		}
	}
}

/* A short rendering of what was found, for "got ..." (never for secrets). */
static void
describe(const json_t *v, const struct conf_key *k, char *out, size_t len)
{
	char *s;

	if (k->flags & CONF_SECRET) {
		snprintf(out, len, "a %s (value not shown)",
		    json_is_string(v) ? "string" : json_is_object(v) ? "object" :
		    json_is_array(v) ? "array" : "non-string value");
		return;
	}
	s = json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT);
	if (!s) {
		snprintf(out, len, "an unprintable value");
		return;
	}
	if (strlen(s) > 40)
		snprintf(out, len, "%.37s...", s);
	else
		snprintf(out, len, "%s", s);
	free(s);
}

static int
bad(struct ctx *c, const char *path, const char *what, const json_t *v,
    const struct conf_key *k)
{
	char got[64];

	if (v) {
		describe(v, k, got, sizeof(got));
		snprintf(c->err, c->errlen, "%s: \"%s\": expected %s, got %s", c->file,
		    path, what, got);
	} else {
		snprintf(c->err, c->errlen, "%s: \"%s\": %s", c->file, path, what);
	}
	return -EINVAL;
}

static int load_object(struct ctx *c, const char *prefix, json_t *obj,
    const struct conf_key *table, void *base);

static int
load_int(struct ctx *c, const char *path, const json_t *v, const struct conf_key *k,
    int64_t *out)
{
	char what[96];

	snprintf(what, sizeof(what), "integer %lld..%lld", (long long)k->imin,
	    (long long)k->imax);
	if (!json_is_integer(v))
		return bad(c, path, what, v, k);
	if (json_integer_value(v) < k->imin || json_integer_value(v) > k->imax)
		return bad(c, path, what, v, k);
	*out = json_integer_value(v);
	return 0;
}

static int
load_str_list(struct ctx *c, const char *path, const json_t *v, const struct conf_key *k,
    struct conf_str_list *out)
{
	char what[96];
	const json_t *e;
	size_t i;

	snprintf(what, sizeof(what), "an array of at most %d strings of 1..%d bytes",
	    CONF_LIST_MAX, CONF_LIST_STR_LEN - 1);
	if (!json_is_array(v) || json_array_size(v) > CONF_LIST_MAX)
		return bad(c, path, what, v, k);
	json_array_foreach(v, i, e) {
		if (!json_is_string(e) || json_string_length(e) == 0 ||
		    json_string_length(e) >= CONF_LIST_STR_LEN ||
		    strlen(json_string_value(e)) != json_string_length(e))
			return bad(c, path, what, v, k);
		memcpy(out->v[i], json_string_value(e), json_string_length(e) + 1);
	}
	out->n = json_array_size(v);
	return 0;
}

static int
load_value(struct ctx *c, const char *path, json_t *v, const struct conf_key *k,
    void *base)
{
	void *f = field(base, k);
	char what[160];

	switch (k->type) {
	case CONF_BOOL:
		if (!json_is_boolean(v))
			return bad(c, path, "true or false", v, k);
		*(bool *)f = json_is_true(v);
		return 0;
	case CONF_INT:
		return load_int(c, path, v, k, f);
	case CONF_DOUBLE: {
		double d;
		snprintf(what, sizeof(what), "number %g..%g", k->dmin, k->dmax);
		if (!json_is_number(v))
			return bad(c, path, what, v, k);
		d = json_number_value(v);
		if (!isfinite(d) || d < k->dmin || d > k->dmax)
			return bad(c, path, what, v, k);
		*(double *)f = d;
		return 0;
	}
	case CONF_STRING:
		snprintf(what, sizeof(what), "a string of 1..%zu bytes", k->size - 1);
		if (!json_is_string(v) || json_string_length(v) == 0 ||
		    json_string_length(v) >= k->size ||
		    strlen(json_string_value(v)) != json_string_length(v))
			return bad(c, path, what, v, k);
		memcpy(f, json_string_value(v), json_string_length(v) + 1);
		return 0;
	case CONF_ENUM: {
		size_t off = 0;
		off += (size_t)snprintf(what, sizeof(what), "one of");
		for (int i = 0; k->choices[i] && off < sizeof(what); i++)
			off += (size_t)snprintf(what + off, sizeof(what) - off, "%s\"%s\"",
			    i ? ", " : " ", k->choices[i]);
		if (!json_is_string(v))
			return bad(c, path, what, v, k);
		for (int i = 0; k->choices[i]; i++)
			if (strcmp(k->choices[i], json_string_value(v)) == 0) {
				*(int *)f = i;
				return 0;
			}
		return bad(c, path, what, v, k);
	}
	case CONF_INT_LIST: {
		struct conf_int_list *l = f;
		size_t i;
		const json_t *e;
		snprintf(what, sizeof(what), "an array of at most %d integers %lld..%lld",
		    CONF_LIST_MAX, (long long)k->imin, (long long)k->imax);
		if (!json_is_array(v) || json_array_size(v) > CONF_LIST_MAX)
			return bad(c, path, what, v, k);
		json_array_foreach(v, i, e) {
			if (!json_is_integer(e) || json_integer_value(e) < k->imin ||
			    json_integer_value(e) > k->imax)
				return bad(c, path, what, v, k);
			l->v[i] = json_integer_value(e);
		}
		l->n = json_array_size(v);
		return 0;
	}
	case CONF_STR_LIST:
		return load_str_list(c, path, v, k, f);
	case CONF_OBJECT:
		if (!json_is_object(v))
			return bad(c, path, "an object", v, k);
		return load_object(c, path, v, k->sub, f);
	}
	return -EINVAL;
}

static int
load_object(struct ctx *c, const char *prefix, json_t *obj,
    const struct conf_key *table, void *base)
{
	const struct conf_key *k;
	const char *key;
	json_t *v;
	char path[256];

	json_object_foreach(obj, key, v) {
		if (strncmp(key, "_comment", 8) == 0)
			continue;
		snprintf(path, sizeof(path), "%s%s%s", prefix, *prefix ? "." : "", key);
		for (k = table; k->name; k++)
			if (strcmp(k->name, key) == 0)
				break;
		if (!k->name) {
			snprintf(c->err, c->errlen, "%s: \"%s\": unknown key", c->file, path);
			return -EINVAL;
		}
		/* explicit null, or "" for an optional string (the prototype's
		 * snowflake_config.json writes "pat": "" when a key is used):
		 * keep the default */
		if (!(k->flags & CONF_REQUIRED) && (json_is_null(v) ||
		    (k->type == CONF_STRING && json_is_string(v) &&
		    json_string_length(v) == 0)))
			continue;
		if (load_value(c, path, v, k, base) < 0)
			return -EINVAL;
	}
	for (k = table; k->name; k++) {
		if ((k->flags & CONF_REQUIRED) && !json_object_get(obj, k->name)) {
			snprintf(path, sizeof(path), "%s%s%s", prefix, *prefix ? "." : "",
			    k->name);
			return bad(c, path, "required key is missing", NULL, k);
		}
	}
	return 0;
}

int
conf_load_string(const char *name, const char *text, size_t len,
    const struct conf_key *table, void *base, char *err, size_t errlen)
{
	struct ctx c = { name, err, errlen };
	json_error_t je;
	json_t *root;
	int r;

	conf_defaults(table, base);
	root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &je);
	if (!root) {
		snprintf(err, errlen, "%s:%d:%d: invalid JSON: %s", name, je.line,
		    je.column, je.text);
		return -EINVAL;
	}
	if (!json_is_object(root)) {
		snprintf(err, errlen, "%s: expected a JSON object at the top level", name);
		json_decref(root);
		return -EINVAL;
	}
	r = load_object(&c, "", root, table, base);
	json_decref(root);
	return r;
}

int
conf_load(const char *path, const struct conf_key *table, void *base, char *err,
    size_t errlen)
{
	char *text;
	size_t len;
	int r;

	r = fs_read_all(path, CONF_MAX_FILE, &text, &len);
	if (r < 0) {
		snprintf(err, errlen, "%s: cannot read: %s", path,
		    r == -EFBIG ? "larger than 1 MiB" : strerror(-r));
		return r;
	}
	r = conf_load_string(path, text, len, table, base, err, errlen);
	free(text);
	return r;
}

/* ------------------------------------------------------------ dump */

/* The dump is built with jansson from the same table the loader walks, so
 * a key added to a table is printed without anything else to change. A
 * secret is replaced whatever its type; an unset string is null, which the
 * loader reads back as "keep the default", so the dump is itself a valid
 * configuration file. */

static json_t *dump_object(const struct conf_key *table, const void *base);

static json_t *
dump_list(const struct conf_int_list *l)
{
	json_t *a = json_array();

	for (size_t i = 0; a && i < l->n && i < CONF_LIST_MAX; i++)
		if (json_array_append_new(a, json_integer(l->v[i])) < 0) {
			json_decref(a);
			return NULL;
		}
	return a;
}

static json_t *
dump_str_list(const struct conf_str_list *l)
{
	json_t *a = json_array();

	for (size_t i = 0; a && i < l->n && i < CONF_LIST_MAX; i++)
		if (json_array_append_new(a, json_stringn(l->v[i], strnlen(l->v[i],
		    CONF_LIST_STR_LEN))) < 0) {
			json_decref(a);
			return NULL;
		}
	return a;
}

static json_t *
dump_enum(const struct conf_key *k, int v)
{
	for (int i = 0; k->choices[i]; i++)
		if (i == v)
			return json_string(k->choices[i]);
	return json_null();	/* not a choice: cannot come from conf_load */
}

static json_t *
dump_value(const struct conf_key *k, const void *base)
{
	const void *f = (const char *)base + k->offset;

	if (k->type == CONF_STRING && *(const char *)f == '\0')
		return json_null();
	if (k->flags & CONF_SECRET)
		return json_string(CONF_REDACTED);
	switch (k->type) {
	case CONF_BOOL: return json_boolean(*(const bool *)f);
	case CONF_INT: return json_integer(*(const int64_t *)f);
	case CONF_DOUBLE: return json_real(*(const double *)f);
	case CONF_STRING: return json_stringn(f, strnlen(f, k->size));
	case CONF_ENUM: return dump_enum(k, *(const int *)f);
	case CONF_INT_LIST: return dump_list(f);
	case CONF_STR_LIST: return dump_str_list(f);
	case CONF_OBJECT: return dump_object(k->sub, f);
	}
	return NULL;
}

static json_t *
dump_object(const struct conf_key *t, const void *base)
{
	json_t *o = json_object();

	for (; o && t->name; t++) {
		json_t *v = dump_value(t, base);

		/* NULL: out of memory, or a string that is not UTF-8 */
		if (!v || json_object_set_new(o, t->name, v) < 0) {
			json_decref(o);
			return NULL;
		}
	}
	return o;
}

int
conf_dump(const char *origin, const struct conf_key *table, const void *base,
    char **ret_json)
{
	char comment[PATH_MAX + 160];
	json_t *root, *body;
	char *s = NULL;

	snprintf(comment, sizeof(comment), "effective configuration: %s with the defaults "
	    "of every key it leaves out and the command-line overrides; secrets "
	    "redacted", origin);
	root = json_pack("{s:s}", "_comment", comment);
	body = dump_object(table, base);
	if (root && body && json_object_update(root, body) == 0)
		s = json_dumps(root, JSON_INDENT(2) | JSON_REAL_PRECISION(15));
	json_decref(body);
	json_decref(root);
	if (!s)
		return -EINVAL;
	*ret_json = s;
	return 0;
}

int
conf_print(FILE *out, const char *origin, const struct conf_key *table,
    const void *base)
{
	char *s;
	int r = conf_dump(origin, table, base, &s);

	if (r < 0)
		return r;
	if (fprintf(out, "%s\n", s) < 0 || fflush(out) != 0)
		r = -EIO;
	free(s);
	return r;
}
