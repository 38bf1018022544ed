/* SPDX-License-Identifier: Apache-2.0 */
/*
 * emu_conf: reads the emulator's JSON world description. Every object is
 * checked against its list of allowed keys (unknown keys are errors naming
 * the file and the key), key and PAT files are resolved relative to the
 * config file's directory so a test can copy the example next to the keys it
 * generates, and each table gets its implicit <TABLE>-STREAMING pipe.
 */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <openssl/pem.h>
#include <openssl/sha.h>
#include <openssl/x509.h>

#include "clock.h"
#include "emu_b64.h"
#include "emu_conf.h"
#include "emu_ddl.h"
#include "fsutil.h"

static const char *const strict_names[] = {
	"channel_case", "invalid_409", "pat_direct", "scope_host", "ts_micros", NULL
};

struct ctx {
	const char *path;
	char dir[PATH_MAX];
	char *err;
	size_t errlen;
};

static int __attribute__((format(printf, 2, 3)))
fail(struct ctx *x, const char *fmt, ...)
{
	va_list ap;
	int n;

	n = snprintf(x->err, x->errlen, "%s: ", x->path);
	if (n < 0 || (size_t)n >= x->errlen)
		return -EINVAL;
	va_start(ap, fmt);
	vsnprintf(x->err + n, x->errlen - (size_t)n, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

static int
check_keys(struct ctx *x, json_t *obj, const char *where, const char *const *allowed)
{
	const char *k;
	json_t *v;

	if (!json_is_object(obj))
		return fail(x, "%s: expected an object", where);
	json_object_foreach(obj, k, v) {
		size_t i;

		if (strncmp(k, "_comment", 8) == 0)
			continue;
		for (i = 0; allowed[i] != NULL; i++)
			if (strcmp(k, allowed[i]) == 0)
				break;
		if (allowed[i] == NULL)
			return fail(x, "%s: unknown key \"%s\"", where, k);
	}
	return 0;
}

static int
get_str(struct ctx *x, json_t *obj, const char *where, const char *key, bool required,
    const char *def, char **ret)
{
	json_t *v = json_object_get(obj, key);
	const char *s = def;

	if (v == NULL || json_is_null(v)) {
		if (required)
			return fail(x, "%s: \"%s\" is required", where, key);
	} else if (!json_is_string(v)) {
		return fail(x, "%s: \"%s\": expected a string", where, key);
	} else {
		s = json_string_value(v);
	}
	*ret = NULL;
	if (s != NULL && (*ret = strdup(s)) == NULL)
		return -ENOMEM;
	return 0;
}

static int
get_int(struct ctx *x, json_t *obj, const char *where, const char *key, int64_t lo,
    int64_t hi, int64_t def, int64_t *ret)
{
	json_t *v = json_object_get(obj, key);

	if (v == NULL) {
		*ret = def;
		return 0;
	}
	if (!json_is_integer(v) || json_integer_value(v) < lo || json_integer_value(v) > hi)
		return fail(x, "%s: \"%s\": expected integer %lld..%lld", where, key,
		    (long long)lo, (long long)hi);
	*ret = json_integer_value(v);
	return 0;
}

static int
get_bool(struct ctx *x, json_t *obj, const char *where, const char *key, bool def,
    bool *ret)
{
	json_t *v = json_object_get(obj, key);

	if (v == NULL) {
		*ret = def;
		return 0;
	}
	if (!json_is_boolean(v))
		return fail(x, "%s: \"%s\": expected true or false", where, key);
	*ret = json_is_true(v);
	return 0;
}

int
emu_ident(const char *in, char **ret)
{
	size_t n = strlen(in);
	char *out = malloc(n + 1), *o = out;

	if (out == NULL)
		return -ENOMEM;
	if (n >= 2 && in[0] == '"' && in[n - 1] == '"') {
		for (size_t i = 1; i + 1 < n; i++) {
			*o++ = in[i];
			if (in[i] == '"' && in[i + 1] == '"' && i + 2 < n)
				i++;
		}
	} else {
		for (size_t i = 0; i < n; i++)
			*o++ = (char)toupper((unsigned char)in[i]);
	}
	*o = '\0';
	*ret = out;
	return 0;
}

static int
parse_args(const char *p, int *a, int *b)
{
	char *end;
	long v;

	*a = *b = -1;
	if (*p == '\0')
		return 0;
	if (*p != '(')
		return -EINVAL;
	errno = 0;
	v = strtol(p + 1, &end, 10);
	if (errno != 0 || end == p + 1 || v < 0 || v > INT_MAX)
		return -EINVAL;
	*a = (int)v;
	p = end;
	while (*p == ' ')
		p++;
	if (*p == ',') {
		p++;
		while (*p == ' ')
			p++;
		errno = 0;
		v = strtol(p, &end, 10);
		if (errno != 0 || end == p || v < 0 || v > INT_MAX)
			return -EINVAL;
		*b = (int)v;
		p = end;
	}
	return strcmp(p, ")") == 0 ? 0 : -EINVAL;
}

int
emu_conf_parse_type(const char *s, struct emu_column *col)
{
	static const struct {
		const char *name;
		enum emu_type t;
		int prec;	/* -1: takes (p,s); -2: takes (n); -3: (precision) ignored */
	} types[] = {
		{ "NUMBER", EMU_T_NUMBER, -1 }, { "DECIMAL", EMU_T_NUMBER, -1 },
		{ "NUMERIC", EMU_T_NUMBER, -1 }, { "INTEGER", EMU_T_NUMBER, 38 },
		{ "INT", EMU_T_NUMBER, 38 }, { "BIGINT", EMU_T_NUMBER, 38 },
		{ "SMALLINT", EMU_T_NUMBER, 38 }, { "TINYINT", EMU_T_NUMBER, 38 },
		{ "BYTEINT", EMU_T_NUMBER, 38 },
		{ "FLOAT", EMU_T_FLOAT, 0 }, { "FLOAT4", EMU_T_FLOAT, 0 },
		{ "FLOAT8", EMU_T_FLOAT, 0 }, { "DOUBLE", EMU_T_FLOAT, 0 },
		{ "DOUBLE PRECISION", EMU_T_FLOAT, 0 }, { "REAL", EMU_T_FLOAT, 0 },
		{ "VARCHAR", EMU_T_VARCHAR, -2 }, { "STRING", EMU_T_VARCHAR, -2 },
		{ "TEXT", EMU_T_VARCHAR, -2 }, { "CHAR", EMU_T_VARCHAR, -2 },
		{ "CHARACTER", EMU_T_VARCHAR, -2 }, { "NVARCHAR", EMU_T_VARCHAR, -2 },
		{ "BOOLEAN", EMU_T_BOOLEAN, 0 },
		{ "TIMESTAMP_NTZ", EMU_T_TIMESTAMP, -3 }, { "TIMESTAMP_LTZ", EMU_T_TIMESTAMP, -3 },
		{ "TIMESTAMP_TZ", EMU_T_TIMESTAMP, -3 }, { "TIMESTAMP", EMU_T_TIMESTAMP, -3 },
		{ "DATETIME", EMU_T_TIMESTAMP, -3 }, { "DATE", EMU_T_DATE, 0 },
		{ "VARIANT", EMU_T_VARIANT, 0 }, { "OBJECT", EMU_T_OBJECT, 0 },
		{ "ARRAY", EMU_T_ARRAY, 0 },
	};
	char up[64];
	size_t n = 0;

	for (; s[n] != '\0' && n + 1 < sizeof(up); n++)
		up[n] = (char)toupper((unsigned char)s[n]);
	up[n] = '\0';
	if (s[n] != '\0')
		return -EINVAL;
	for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
		size_t l = strlen(types[i].name);
		int a, b;

		if (strncmp(up, types[i].name, l) != 0 || (up[l] != '\0' && up[l] != '('))
			continue;
		if (parse_args(up + l, &a, &b) < 0)
			return -EINVAL;
		col->type = types[i].t;
		col->precision = 38;
		col->scale = 0;
		col->max_len = 16777216;
		if (types[i].prec == -1) {
			if (a == 0 || a > 38 || (b >= 0 && b > a))
				return -EINVAL;
			if (a > 0)
				col->precision = a;
			if (b > 0)
				col->scale = b;
		} else if (types[i].prec == -2) {
			if (b >= 0 || a == 0)
				return -EINVAL;
			if (a > 0)
				col->max_len = a;
			else if (strcmp(types[i].name, "CHAR") == 0 ||
			    strcmp(types[i].name, "CHARACTER") == 0)
				col->max_len = 1;
		} else if (types[i].prec == -3) {
			if (b >= 0 || a > 9)
				return -EINVAL;
			col->precision = a >= 0 ? a : 9;
		} else if (a >= 0) {
			return -EINVAL;
		}
		return 0;
	}
	return -EINVAL;
}

/* "NAME TYPE [NOT NULL]" shorthand for a column. */
static int
column_from_string(struct ctx *x, const char *where, const char *s, struct emu_column *col)
{
	char buf[256], *sp, *type;
	size_t n = strlen(s);

	if (n >= sizeof(buf))
		return fail(x, "%s: column \"%s\" too long", where, s);
	memcpy(buf, s, n + 1);
	sp = strchr(buf, ' ');
	if (sp == NULL)
		return fail(x, "%s: column \"%s\": expected \"NAME TYPE [NOT NULL]\"", where, s);
	*sp = '\0';
	type = sp + 1;
	while (*type == ' ')
		type++;
	n = strlen(type);
	if (n > 9 && strcasecmp(type + n - 9, " NOT NULL") == 0) {
		col->not_null = true;
		type[n - 9] = '\0';
	}
	if (emu_conf_parse_type(type, col) < 0)
		return fail(x, "%s: column \"%s\": unknown type \"%s\"", where, buf, type);
	return emu_ident(buf, &col->name);
}

/* A DEFAULT that is a time function is evaluated once, when the pipe is
 * compiled (here: when the config is read), as Snowflake documents for
 * streaming pipes: every row gets the same value. */
static int
default_expr(struct ctx *x, const char *where, const char *expr, struct emu_column *col)
{
	static const char *const fns[] = { "CURRENT_TIMESTAMP", "LOCALTIMESTAMP", "SYSDATE",
		"GETDATE", "SYSTIMESTAMP", "CURRENT_DATE", NULL };
	int64_t ns = clock_realtime_ns();
	time_t t = (time_t)(ns / NS_PER_S);
	size_t n = strcspn(expr, "("), i;
	char buf[48];
	struct tm tm;

	for (i = 0; fns[i] != NULL; i++)
		if (strlen(fns[i]) == n && strncasecmp(expr, fns[i], n) == 0)
			break;
	if (fns[i] == NULL || (expr[n] != '\0' && strcmp(expr + n, "()") != 0))
		return fail(x, "%s: \"default_expr\": expected CURRENT_TIMESTAMP(), "
		    "LOCALTIMESTAMP(), SYSDATE(), GETDATE(), SYSTIMESTAMP() or CURRENT_DATE()",
		    where);
	gmtime_r(&t, &tm);
	if (strcmp(fns[i], "CURRENT_DATE") == 0) {
		strftime(buf, sizeof(buf), "%Y-%m-%d", &tm);
	} else {
		n = strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%S", &tm);
		snprintf(buf + n, sizeof(buf) - n, ".%06dZ", (int)(ns % NS_PER_S / 1000));
	}
	json_decref(col->def);
	col->def = json_string(buf);
	return col->def ? 0 : -ENOMEM;
}

static int
load_column(struct ctx *x, const char *where, json_t *j, struct emu_column *col)
{
	static const char *const keys[] = { "name", "type", "not_null", "default",
		"default_expr", NULL };
	char *name = NULL, *type = NULL;
	json_t *def, *expr;
	int r;

	if (json_is_string(j))
		return column_from_string(x, where, json_string_value(j), col);
	if ((r = check_keys(x, j, where, keys)) < 0)
		return r;
	if ((r = get_str(x, j, where, "name", true, NULL, &name)) < 0 ||
	    (r = get_str(x, j, where, "type", true, NULL, &type)) < 0 ||
	    (r = get_bool(x, j, where, "not_null", false, &col->not_null)) < 0)
		goto out;
	if (emu_conf_parse_type(type, col) < 0) {
		r = fail(x, "%s: column \"%s\": unknown type \"%s\"", where, name, type);
		goto out;
	}
	if ((r = emu_ident(name, &col->name)) < 0)
		goto out;
	def = json_object_get(j, "default");
	expr = json_object_get(j, "default_expr");
	if (def != NULL && !json_is_null(def) && expr != NULL) {
		r = fail(x, "%s: give \"default\" or \"default_expr\", not both", where);
	} else if (expr != NULL) {
		r = json_is_string(expr) ? default_expr(x, where, json_string_value(expr), col) :
		    fail(x, "%s: \"default_expr\": expected a string", where);
	} else if (def != NULL && !json_is_null(def)) {
		col->def = json_incref(def);
	}
out:
	free(name);
	free(type);
	return r;
}

static int
load_table(struct ctx *x, json_t *j, size_t idx, struct emu_table *t)
{
	static const char *const keys[] = { "database", "schema", "name", "sqlite_name",
		"columns", NULL };
	char where[64], *db = NULL, *sc = NULL, *nm = NULL;
	json_t *cols, *c;
	size_t i;
	int r;

	snprintf(where, sizeof(where), "tables[%zu]", idx);
	if ((r = check_keys(x, j, where, keys)) < 0)
		return r;
	if ((r = get_str(x, j, where, "database", true, NULL, &db)) < 0 ||
	    (r = get_str(x, j, where, "schema", true, NULL, &sc)) < 0 ||
	    (r = get_str(x, j, where, "name", true, NULL, &nm)) < 0)
		goto out;
	if ((r = emu_ident(db, &t->db)) < 0 || (r = emu_ident(sc, &t->schema)) < 0 ||
	    (r = emu_ident(nm, &t->name)) < 0)
		goto out;
	if ((r = get_str(x, j, where, "sqlite_name", false, t->name, &t->sql_name)) < 0)
		goto out;
	cols = json_object_get(j, "columns");
	if (!json_is_array(cols) || json_array_size(cols) == 0 || json_array_size(cols) > 1000) {
		r = fail(x, "%s: \"columns\": expected a non-empty array", where);
		goto out;
	}
	t->cols = calloc(json_array_size(cols), sizeof(*t->cols));
	if (t->cols == NULL) {
		r = -ENOMEM;
		goto out;
	}
	json_array_foreach(cols, i, c) {
		char cw[96];

		snprintf(cw, sizeof(cw), "%s.columns[%zu]", where, i);
		t->ncols = i + 1;
		if ((r = load_column(x, cw, c, &t->cols[i])) < 0)
			goto out;
		for (size_t k = 0; k < i; k++)
			if (strcmp(t->cols[k].name, t->cols[i].name) == 0) {
				r = fail(x, "%s: duplicate column %s", cw, t->cols[i].name);
				goto out;
			}
		if (strcmp(t->cols[i].name, "CHANNEL") == 0 ||
		    strcmp(t->cols[i].name, "OFFSET_TOKEN") == 0 ||
		    strcmp(t->cols[i].name, "COMMITTED_AT") == 0) {
			r = fail(x, "%s: column name %s is reserved by the emulator", cw,
			    t->cols[i].name);
			goto out;
		}
	}
out:
	free(db);
	free(sc);
	free(nm);
	return r;
}

static struct emu_table *
find_table(struct emu_conf *c, const char *db, const char *schema, const char *name)
{
	for (size_t i = 0; i < c->ntables; i++)
		if (strcmp(c->tables[i].db, db) == 0 && strcmp(c->tables[i].schema, schema) == 0 &&
		    strcmp(c->tables[i].name, name) == 0)
			return &c->tables[i];
	return NULL;
}

static ssize_t
find_col(const struct emu_table *t, const char *name)
{
	for (size_t i = 0; i < t->ncols; i++)
		if (strcmp(t->cols[i].name, name) == 0)
			return (ssize_t)i;
	return -1;
}

/* "$1", "$1:key", "$1:a.b", "$1:\"Key\"", each optionally followed by "::TYPE". */
static int
parse_select(const char *s, char ***ret)
{
	char buf[512], *p, **path = NULL;
	size_t n = strlen(s), np = 0;

	if (n >= sizeof(buf) || strncmp(s, "$1", 2) != 0)
		return -EINVAL;
	memcpy(buf, s, n + 1);
	if ((p = strstr(buf, "::")) != NULL)
		*p = '\0';
	p = buf + 2;
	if (*p == '\0') {
		*ret = NULL;
		return 0;
	}
	if (*p != ':')
		return -EINVAL;
	p++;
	path = calloc(strlen(p) + 2, sizeof(*path));
	if (path == NULL)
		return -ENOMEM;
	while (*p != '\0') {
		char *start = p, *end;

		if (*p == '"') {
			start = ++p;
			end = strchr(p, '"');
			if (end == NULL)
				goto bad;
			p = end + 1;
		} else {
			end = p + strcspn(p, ".");
			p = end;
		}
		if (end == start)
			goto bad;
		path[np] = strndup(start, (size_t)(end - start));
		if (path[np++] == NULL)
			goto bad;
		if (*p == '.')
			p++;
		else if (*p != '\0')
			goto bad;
	}
	*ret = path;
	return 0;
bad:
	for (size_t i = 0; i < np; i++)
		free(path[i]);
	free(path);
	return -EINVAL;
}

static int
load_pipe(struct ctx *x, struct emu_conf *c, json_t *j, size_t idx, struct emu_pipe *p)
{
	static const char *const keys[] = { "database", "schema", "name", "table", "columns",
		"select", NULL };
	char where[64], *db = NULL, *sc = NULL, *nm = NULL, *tb = NULL, *tname = NULL;
	json_t *cols, *sel;
	int r;

	snprintf(where, sizeof(where), "pipes[%zu]", idx);
	if ((r = check_keys(x, j, where, keys)) < 0)
		return r;
	if ((r = get_str(x, j, where, "database", true, NULL, &db)) < 0 ||
	    (r = get_str(x, j, where, "schema", true, NULL, &sc)) < 0 ||
	    (r = get_str(x, j, where, "name", true, NULL, &nm)) < 0 ||
	    (r = get_str(x, j, where, "table", true, NULL, &tb)) < 0)
		goto out;
	if ((r = emu_ident(db, &p->db)) < 0 || (r = emu_ident(sc, &p->schema)) < 0 ||
	    (r = emu_ident(nm, &p->name)) < 0 || (r = emu_ident(tb, &tname)) < 0)
		goto out;
	p->table = find_table(c, p->db, p->schema, tname);
	if (p->table == NULL) {
		r = fail(x, "%s: table %s.%s.%s is not in \"tables\"", where, p->db, p->schema, tname);
		goto out;
	}
	cols = json_object_get(j, "columns");
	sel = json_object_get(j, "select");
	if (!json_is_array(cols) || !json_is_array(sel) || json_array_size(cols) == 0 ||
	    json_array_size(cols) != json_array_size(sel) ||
	    json_array_size(cols) > p->table->ncols) {
		r = fail(x, "%s: \"columns\" and \"select\" must be arrays of equal length", where);
		goto out;
	}
	p->cols = calloc(json_array_size(cols), sizeof(*p->cols));
	if (p->cols == NULL) {
		r = -ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < json_array_size(cols); i++) {
		json_t *cn = json_array_get(cols, i), *se = json_array_get(sel, i);
		char *id = NULL;
		ssize_t ci;

		if (!json_is_string(cn) || !json_is_string(se)) {
			r = fail(x, "%s: columns[%zu]/select[%zu]: expected strings", where, i, i);
			goto out;
		}
		if ((r = emu_ident(json_string_value(cn), &id)) < 0)
			goto out;
		ci = find_col(p->table, id);
		free(id);
		if (ci < 0) {
			r = fail(x, "%s: column \"%s\" is not in table %s", where,
			    json_string_value(cn), p->table->name);
			goto out;
		}
		p->cols[i].col = (size_t)ci;
		p->ncols = i + 1;
		if (parse_select(json_string_value(se), &p->cols[i].path) < 0) {
			r = fail(x, "%s: select[%zu] \"%s\": expected $1 or $1:key[.key...]", where,
			    i, json_string_value(se));
			goto out;
		}
	}
out:
	free(db);
	free(sc);
	free(nm);
	free(tb);
	free(tname);
	return r;
}

static int
default_pipe(struct emu_table *t, struct emu_pipe *p)
{
	size_t n = strlen(t->name) + sizeof("-STREAMING");

	p->is_default = true;
	p->table = t;
	p->db = strdup(t->db);
	p->schema = strdup(t->schema);
	p->name = malloc(n);
	p->cols = calloc(t->ncols, sizeof(*p->cols));
	if (p->db == NULL || p->schema == NULL || p->name == NULL || p->cols == NULL)
		return -ENOMEM;
	snprintf(p->name, n, "%s-STREAMING", t->name);
	for (size_t i = 0; i < t->ncols; i++) {
		p->cols[i].col = i;
		p->cols[i].by_name = true;
	}
	p->ncols = t->ncols;
	return 0;
}

static void
resolve(struct ctx *x, const char *file, char *out, size_t outlen)
{
	if (file[0] == '/')
		snprintf(out, outlen, "%s", file);
	else
		snprintf(out, outlen, "%s/%s", x->dir, file);
}

static int
fingerprint(EVP_PKEY *k, char *out, size_t outlen)
{
	unsigned char *der = NULL, md[SHA256_DIGEST_LENGTH];
	char *b64 = NULL;
	int n = i2d_PUBKEY(k, &der), r;

	if (n <= 0)
		return -EINVAL;
	SHA256(der, (size_t)n, md);
	OPENSSL_free(der);
	if ((r = emu_b64_encode(md, sizeof(md), &b64)) < 0)
		return r;
	snprintf(out, outlen, "SHA256:%s", b64);
	free(b64);
	return 0;
}

/* A PEM public key, or the bare base64 body as in ALTER USER ... RSA_PUBLIC_KEY. */
static int
parse_pubkey(const char *text, EVP_PKEY **ret)
{
	char *pem = NULL;
	const char *src = text;
	BIO *bio;
	EVP_PKEY *k;
	size_t n;

	if (strstr(text, "-----BEGIN") == NULL) {
		n = strlen(text) + 64;
		if ((pem = malloc(n)) == NULL)
			return -ENOMEM;
		snprintf(pem, n, "-----BEGIN PUBLIC KEY-----\n%s\n-----END PUBLIC KEY-----\n",
		    text);
		src = pem;
	}
	bio = BIO_new_mem_buf(src, -1);
	k = bio ? PEM_read_bio_PUBKEY(bio, NULL, NULL, NULL) : NULL;
	BIO_free(bio);
	free(pem);
	if (k == NULL)
		return -EINVAL;
	if (EVP_PKEY_base_id(k) != EVP_PKEY_RSA) {
		EVP_PKEY_free(k);
		return -EINVAL;
	}
	*ret = k;
	return 0;
}

static int
read_text(struct ctx *x, const char *where, const char *file, char **ret)
{
	char path[PATH_MAX + 256], *buf;
	size_t len;
	int r;

	resolve(x, file, path, sizeof(path));
	if ((r = fs_read_all(path, 65536, &buf, &len)) < 0)
		return fail(x, "%s: cannot read %s: %s", where, path, strerror(-r));
	while (len > 0 && isspace((unsigned char)buf[len - 1]))
		buf[--len] = '\0';
	*ret = buf;
	return 0;
}

static int
load_key(struct ctx *x, const char *where, json_t *j, const char *inline_key,
    const char *file_key, struct emu_user *u)
{
	json_t *v = json_object_get(j, inline_key), *f = json_object_get(j, file_key);
	char *text = NULL;
	int r = 0;

	if (v == NULL && f == NULL)
		return 0;
	if ((v != NULL && !json_is_string(v)) || (f != NULL && !json_is_string(f)) ||
	    (v != NULL && f != NULL))
		return fail(x, "%s: give one of \"%s\" or \"%s\" as a string", where, inline_key,
		    file_key);
	if (v != NULL)
		text = strdup(json_string_value(v));
	else if ((r = read_text(x, where, json_string_value(f), &text)) < 0)
		return r;
	if (text == NULL)
		return -ENOMEM;
	if (parse_pubkey(text, &u->keys[u->nkeys]) < 0) {
		r = fail(x, "%s: \"%s\": not an RSA public key (PEM or base64 DER)", where,
		    v ? inline_key : file_key);
		goto out;
	}
	if ((r = fingerprint(u->keys[u->nkeys], u->fp[u->nkeys], sizeof(u->fp[0]))) < 0)
		goto out;
	u->nkeys++;
out:
	free(text);
	return r;
}

static int
load_pat(struct ctx *x, const char *where, json_t *j, struct emu_pat *p)
{
	static const char *const keys[] = { "name", "secret", "secret_file", "expires_at",
		"expires_in_s", "role", NULL };
	json_t *sf = json_object_get(j, "secret_file");
	int64_t in_s, at;
	int r;

	if ((r = check_keys(x, j, where, keys)) < 0)
		return r;
	if ((r = get_str(x, j, where, "name", false, "PAT", &p->name)) < 0 ||
	    (r = get_str(x, j, where, "role", false, NULL, &p->role)) < 0 ||
	    (r = get_int(x, j, where, "expires_at", 0, INT64_MAX / 2, 0, &at)) < 0 ||
	    (r = get_int(x, j, where, "expires_in_s", -INT32_MAX, INT32_MAX, 15 * 86400,
	    &in_s)) < 0)
		return r;
	if (sf != NULL) {
		if (!json_is_string(sf))
			return fail(x, "%s: \"secret_file\": expected a string", where);
		if ((r = read_text(x, where, json_string_value(sf), &p->secret)) < 0)
			return r;
	} else if ((r = get_str(x, j, where, "secret", true, NULL, &p->secret)) < 0) {
		return r;
	}
	if (strlen(p->secret) < 8)
		return fail(x, "%s: PAT secret shorter than 8 characters", where);
	p->expires_at = at != 0 ? at : (int64_t)time(NULL) + in_s;
	return 0;
}

static int
load_user(struct ctx *x, json_t *j, size_t idx, struct emu_user *u)
{
	static const char *const keys[] = { "name", "default_role", "public_key",
		"public_key_file", "public_key_2", "public_key_2_file", "pats", NULL };
	char where[64], *nm = NULL;
	json_t *pats, *p;
	size_t i;
	int r;

	snprintf(where, sizeof(where), "users[%zu]", idx);
	if ((r = check_keys(x, j, where, keys)) < 0)
		return r;
	if ((r = get_str(x, j, where, "name", true, NULL, &nm)) < 0)
		return r;
	r = emu_ident(nm, &u->name);
	free(nm);
	if (r < 0)
		return r;
	if ((r = get_str(x, j, where, "default_role", false, "PUBLIC", &u->default_role)) < 0 ||
	    (r = load_key(x, where, j, "public_key", "public_key_file", u)) < 0 ||
	    (r = load_key(x, where, j, "public_key_2", "public_key_2_file", u)) < 0)
		return r;
	pats = json_object_get(j, "pats");
	if (pats == NULL)
		return 0;
	if (!json_is_array(pats) || json_array_size(pats) > 16)
		return fail(x, "%s: \"pats\": expected an array of at most 16", where);
	u->pats = calloc(json_array_size(pats) + 1, sizeof(*u->pats));
	if (u->pats == NULL)
		return -ENOMEM;
	json_array_foreach(pats, i, p) {
		char pw[96];

		snprintf(pw, sizeof(pw), "%s.pats[%zu]", where, i);
		u->npats = i + 1;
		if ((r = load_pat(x, pw, p, &u->pats[i])) < 0)
			return r;
	}
	return 0;
}

static int
load_wire(struct ctx *x, struct emu_conf *c, json_t *w)
{
	static const char *const keys[] = { "hostname", "token", "errors", "status_success",
		"rows_errors", "invalid_channel_http", NULL };
	char *h = NULL, *t = NULL, *e = NULL, *s = NULL;
	int64_t st;
	int r;

	if (w == NULL)
		w = json_object();
	else
		json_incref(w);
	if ((r = check_keys(x, w, "wire", keys)) < 0 ||
	    (r = get_str(x, w, "wire", "hostname", false, "text", &h)) < 0 ||
	    (r = get_str(x, w, "wire", "token", false, "text", &t)) < 0 ||
	    (r = get_str(x, w, "wire", "errors", false, "code", &e)) < 0 ||
	    (r = get_str(x, w, "wire", "status_success", false, "SUCCESS", &s)) < 0 ||
	    (r = get_bool(x, w, "wire", "rows_errors", false, &c->emit_rows_errors)) < 0 ||
	    (r = get_int(x, w, "wire", "invalid_channel_http", 400, 499, 0, &st)) < 0)
		goto out;
	c->invalid_channel_http = (int)st;
	if ((strcmp(h, "text") != 0 && strcmp(h, "json") != 0) ||
	    (strcmp(t, "text") != 0 && strcmp(t, "json") != 0)) {
		r = fail(x, "wire: \"hostname\"/\"token\": expected \"text\" or \"json\"");
		goto out;
	}
	c->hostname_json = strcmp(h, "json") == 0;
	c->token_json = strcmp(t, "json") == 0;
	if (strcmp(e, "code") == 0)
		c->error_shape = 0;
	else if (strcmp(e, "error_code") == 0)
		c->error_shape = 1;
	else if (strcmp(e, "bare") == 0)
		c->error_shape = 2;
	else {
		r = fail(x, "wire: \"errors\": expected \"code\", \"error_code\" or \"bare\"");
		goto out;
	}
	if (strcmp(s, "SUCCESS") != 0 && strcmp(s, "ACTIVE") != 0) {
		r = fail(x, "wire: \"status_success\": expected \"SUCCESS\" or \"ACTIVE\"");
		goto out;
	}
	snprintf(c->status_success, sizeof(c->status_success), "%s", s);
out:
	json_decref(w);
	free(h);
	free(t);
	free(e);
	free(s);
	return r;
}

static int
load_limits(struct ctx *x, struct emu_limits *l, json_t *j)
{
	static const char *const keys[] = { "max_body_bytes", "max_decompressed_bytes",
		"requests_per_s", "max_offset_token_len", "max_pending_bytes", "max_channels",
		NULL };
	json_t *rps;
	int r;

	if (j == NULL)
		j = json_object();
	else
		json_incref(j);
	if ((r = check_keys(x, j, "limits", keys)) < 0 ||
	    (r = get_int(x, j, "limits", "max_body_bytes", 1, 1LL << 30, 4194304,
	    &l->max_body_bytes)) < 0 ||
	    (r = get_int(x, j, "limits", "max_decompressed_bytes", 1, 1LL << 31, 64LL << 20,
	    &l->max_decompressed_bytes)) < 0 ||
	    (r = get_int(x, j, "limits", "max_offset_token_len", 1, 1 << 20, 2048,
	    &l->max_offset_token_len)) < 0 ||
	    (r = get_int(x, j, "limits", "max_pending_bytes", 1 << 20, 1LL << 34, 256LL << 20,
	    &l->max_pending_bytes)) < 0 ||
	    (r = get_int(x, j, "limits", "max_channels", 1, 1000000, 10000,
	    &l->max_channels)) < 0)
		goto out;
	rps = json_object_get(j, "requests_per_s");
	l->requests_per_s = 10;
	if (rps != NULL) {
		if (!json_is_number(rps) || json_number_value(rps) < 0) {
			r = fail(x, "limits: \"requests_per_s\": expected a number >= 0 (0 = off)");
			goto out;
		}
		l->requests_per_s = json_number_value(rps);
	}
out:
	json_decref(j);
	return r;
}

static int
load_arrays(struct ctx *x, struct emu_conf *c, json_t *root)
{
	json_t *users = json_object_get(root, "users"), *tables = json_object_get(root, "tables");
	json_t *pipes = json_object_get(root, "pipes"), *v;
	size_t i, np;
	int r;

	if (!json_is_array(users) || json_array_size(users) == 0 || json_array_size(users) > 100)
		return fail(x, "\"users\": expected a non-empty array");
	if (!json_is_array(tables) || json_array_size(tables) == 0 ||
	    json_array_size(tables) > 100)
		return fail(x, "\"tables\": expected a non-empty array");
	if (pipes != NULL && (!json_is_array(pipes) || json_array_size(pipes) > 100))
		return fail(x, "\"pipes\": expected an array");
	np = pipes ? json_array_size(pipes) : 0;
	c->users = calloc(json_array_size(users), sizeof(*c->users));
	c->tables = calloc(json_array_size(tables), sizeof(*c->tables));
	c->pipes = calloc(np + json_array_size(tables), sizeof(*c->pipes));
	if (c->users == NULL || c->tables == NULL || c->pipes == NULL)
		return -ENOMEM;
	json_array_foreach(users, i, v) {
		c->nusers = i + 1;
		if ((r = load_user(x, v, i, &c->users[i])) < 0)
			return r;
	}
	json_array_foreach(tables, i, v) {
		c->ntables = i + 1;
		if ((r = load_table(x, v, i, &c->tables[i])) < 0)
			return r;
		for (size_t k = 0; k < i; k++)
			if (strcmp(c->tables[k].sql_name, c->tables[i].sql_name) == 0)
				return fail(x, "tables[%zu]: SQLite name %s used twice (set \"sqlite_name\")",
				    i, c->tables[i].sql_name);
	}
	for (i = 0; i < np; i++) {
		c->npipes = i + 1;
		if ((r = load_pipe(x, c, json_array_get(pipes, i), i, &c->pipes[i])) < 0)
			return r;
	}
	for (i = 0; i < c->ntables; i++) {
		c->npipes++;
		if ((r = default_pipe(&c->tables[i], &c->pipes[np + i])) < 0)
			return r;
	}
	return 0;
}

const char *
emu_strict_name(unsigned bit)
{
	for (size_t i = 0; strict_names[i] != NULL; i++)
		if (bit == 1u << i)
			return strict_names[i];
	return NULL;
}

static int
strict_bit(const char *name, size_t n, unsigned *ret)
{
	for (size_t i = 0; strict_names[i] != NULL; i++)
		if (strlen(strict_names[i]) == n && strncmp(strict_names[i], name, n) == 0) {
			*ret = 1u << i;
			return 0;
		}
	if (n == 3 && strncmp(name, "all", 3) == 0) {
		*ret = EMU_STRICT_ALL;
		return 0;
	}
	return -EINVAL;
}

int
emu_strict_parse(const char *list, unsigned *ret, char *err, size_t errlen)
{
	unsigned bits = 0, b;

	for (const char *p = list; *p != '\0';) {
		size_t n = strcspn(p, ",");

		if (n > 0 && strict_bit(p, n, &b) < 0) {
			snprintf(err, errlen, "unknown strict behaviour \"%.*s\" (expected all, "
			    "channel_case, invalid_409, pat_direct, scope_host, ts_micros)",
			    (int)(n > 40 ? 40 : n), p);
			return -EINVAL;
		}
		if (n > 0)
			bits |= b;
		p += n + (p[n] == ',');
	}
	*ret = bits;
	return 0;
}

bool
emu_strict(const struct emu_conf *c, unsigned bit)
{
	return (c->strict & bit) != 0;
}

void
emu_conf_set_strict(struct emu_conf *c, unsigned strict)
{
	c->strict = strict & EMU_STRICT_ALL;
	for (size_t i = 0; i < c->ntables; i++)
		for (size_t k = 0; k < c->tables[i].ncols; k++)
			c->tables[i].cols[k].ts_micros = emu_strict(c, EMU_STRICT_TS_MICROS);
}

/* "strict": true (all), false (none) or {"name": bool, ...} over the default. */
static int
load_strict(struct ctx *x, json_t *v, unsigned *ret)
{
	unsigned bits = EMU_STRICT_DEFAULT, b;
	const char *k;
	json_t *on;

	if (v == NULL) {
		*ret = bits;
		return 0;
	}
	if (json_is_boolean(v)) {
		*ret = json_is_true(v) ? EMU_STRICT_ALL : 0;
		return 0;
	}
	if (!json_is_object(v))
		return fail(x, "\"strict\": expected true, false or an object of booleans");
	if (json_is_boolean(json_object_get(v, "all")))	/* first, so names refine it */
		bits = json_is_true(json_object_get(v, "all")) ? EMU_STRICT_ALL : 0;
	json_object_foreach(v, k, on) {
		if (strncmp(k, "_comment", 8) == 0 || strcmp(k, "all") == 0)
			continue;
		if (strict_bit(k, strlen(k), &b) < 0 || !json_is_boolean(on))
			return fail(x, "strict: \"%s\": expected one of all, channel_case, "
			    "invalid_409, pat_direct, scope_host, ts_micros set to true or false", k);
		bits = json_is_true(on) ? bits | b : bits & ~b;
	}
	*ret = bits;
	return 0;
}

/* "ddl_file": tables and pipes from SQL, appended to those given in JSON. */
static int
load_ddl(struct ctx *x, json_t *root)
{
	json_t *f = json_object_get(root, "ddl_file"), *tables, *pipes;
	char path[PATH_MAX + 256];
	int r;

	if (f == NULL)
		return 0;
	if (!json_is_string(f))
		return fail(x, "\"ddl_file\": expected a string");
	tables = json_object_get(root, "tables");
	pipes = json_object_get(root, "pipes");
	tables = tables ? json_copy(tables) : json_array();
	pipes = pipes ? json_copy(pipes) : json_array();
	if (!json_is_array(tables) || !json_is_array(pipes)) {
		json_decref(tables);
		json_decref(pipes);
		return fail(x, "\"tables\" and \"pipes\" must be arrays");
	}
	resolve(x, json_string_value(f), path, sizeof(path));
	r = emu_ddl_load(path, tables, pipes, x->err, x->errlen);
	json_object_set_new(root, "tables", tables);
	json_object_set_new(root, "pipes", pipes);
	return r;
}

int
emu_conf_load(const char *path, struct emu_conf **ret, char *err, size_t errlen)
{
	static const char *const keys[] = { "account", "ingest_host", "scoped_token_ttl_s",
		"jwt_max_skew_s", "jwt_max_lifetime_s", "commit_lag_ms", "strict_accept",
		"strict_auth", "wire", "limits", "users", "tables", "pipes", "ddl_file", "strict",
		NULL };
	struct ctx x = { .path = path, .err = err, .errlen = errlen };
	struct emu_conf *c = calloc(1, sizeof(*c));
	json_error_t je;
	json_t *root = NULL;
	char *acct = NULL, *slash;
	unsigned strict = 0;
	int r;

	if (c == NULL)
		return -ENOMEM;
	snprintf(x.dir, sizeof(x.dir), "%s", path);
	slash = strrchr(x.dir, '/');
	if (slash != NULL)
		*slash = '\0';
	else
		snprintf(x.dir, sizeof(x.dir), ".");
	root = json_load_file(path, JSON_REJECT_DUPLICATES, &je);
	if (root == NULL) {
		r = fail(&x, "line %d: %s", je.line, je.text);
		goto out;
	}
	if ((r = check_keys(&x, root, "top level", keys)) < 0 ||
	    (r = get_str(&x, root, "top level", "account", true, NULL, &acct)) < 0 ||
	    (r = get_str(&x, root, "top level", "ingest_host", false, "127.0.0.1:{port}",
	    &c->ingest_host)) < 0 ||
	    (r = get_int(&x, root, "top level", "scoped_token_ttl_s", 1, 86400, 3600,
	    &c->scoped_token_ttl_s)) < 0 ||
	    (r = get_int(&x, root, "top level", "jwt_max_skew_s", 0, 86400, 60,
	    &c->jwt_max_skew_s)) < 0 ||
	    (r = get_int(&x, root, "top level", "jwt_max_lifetime_s", 1, 86400 * 365, 3600,
	    &c->jwt_max_lifetime_s)) < 0 ||
	    (r = get_int(&x, root, "top level", "commit_lag_ms", 0, 3600000, 1000,
	    &c->commit_lag_ms)) < 0 ||
	    (r = get_bool(&x, root, "top level", "strict_accept", true, &c->strict_accept)) < 0 ||
	    (r = get_bool(&x, root, "top level", "strict_auth", false, &c->strict_auth)) < 0 ||
	    (r = load_strict(&x, json_object_get(root, "strict"), &strict)) < 0 ||
	    (r = load_wire(&x, c, json_object_get(root, "wire"))) < 0 ||
	    (r = load_limits(&x, &c->limits, json_object_get(root, "limits"))) < 0)
		goto out;
	if ((r = emu_ident(acct, &c->account)) < 0 || (c->path = strdup(path)) == NULL) {
		r = -ENOMEM;
		goto out;
	}
	if (strchr(c->account, '.') != NULL) {
		r = fail(&x, "\"account\": no periods allowed (use ORG-ACCOUNT)");
		goto out;
	}
	if ((r = load_ddl(&x, root)) < 0 || (r = load_arrays(&x, c, root)) < 0)
		goto out;
	emu_conf_set_strict(c, strict);
	*ret = c;
	c = NULL;
out:
	free(acct);
	json_decref(root);
	emu_conf_free(c);
	return r;
}

static void
free_pipe(struct emu_pipe *p)
{
	free(p->db);
	free(p->schema);
	free(p->name);
	for (size_t i = 0; i < p->ncols; i++) {
		for (size_t k = 0; p->cols[i].path != NULL && p->cols[i].path[k] != NULL; k++)
			free(p->cols[i].path[k]);
		free(p->cols[i].path);
	}
	free(p->cols);
}

void
emu_conf_free(struct emu_conf *c)
{
	if (c == NULL)
		return;
	for (size_t i = 0; i < c->nusers; i++) {
		struct emu_user *u = &c->users[i];

		free(u->name);
		free(u->default_role);
		for (size_t k = 0; k < u->nkeys; k++)
			EVP_PKEY_free(u->keys[k]);
		for (size_t k = 0; k < u->npats; k++) {
			free(u->pats[k].name);
			free(u->pats[k].secret);
			free(u->pats[k].role);
		}
		free(u->pats);
	}
	for (size_t i = 0; i < c->ntables; i++) {
		struct emu_table *t = &c->tables[i];

		for (size_t k = 0; k < t->ncols; k++) {
			free(t->cols[k].name);
			json_decref(t->cols[k].def);
		}
		free(t->cols);
		free(t->db);
		free(t->schema);
		free(t->name);
		free(t->sql_name);
	}
	for (size_t i = 0; i < c->npipes; i++)
		free_pipe(&c->pipes[i]);
	free(c->users);
	free(c->tables);
	free(c->pipes);
	free(c->account);
	free(c->ingest_host);
	free(c->path);
	free(c);
}

const struct emu_pipe *
emu_conf_pipe(const struct emu_conf *c, const char *db, const char *schema, const char *pipe)
{
	for (size_t i = 0; i < c->npipes; i++)
		if (strcmp(c->pipes[i].db, db) == 0 && strcmp(c->pipes[i].schema, schema) == 0 &&
		    strcmp(c->pipes[i].name, pipe) == 0)
			return &c->pipes[i];
	return NULL;
}

bool
emu_conf_has_table(const struct emu_conf *c, const char *db, const char *schema,
    const char *name)
{
	for (size_t i = 0; i < c->ntables; i++)
		if (strcmp(c->tables[i].db, db) == 0 && strcmp(c->tables[i].schema, schema) == 0 &&
		    strcmp(c->tables[i].name, name) == 0)
			return true;
	return false;
}

const struct emu_user *
emu_conf_user(const struct emu_conf *c, const char *name)
{
	for (size_t i = 0; i < c->nusers; i++)
		if (strcmp(c->users[i].name, name) == 0)
			return &c->users[i];
	return NULL;
}
