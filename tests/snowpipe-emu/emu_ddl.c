/* SPDX-License-Identifier: Apache-2.0 */
/*
 * emu_ddl: a tokenizer (identifiers, "quoted identifiers", 'strings',
 * numbers, $1 paths, punctuation; -- and block comments dropped) and a
 * recursive reader for the two statements the emulator needs, plus USE
 * DATABASE / USE SCHEMA so that names may be unqualified as in the Python
 * prototype's DDL. Inputs are files the test author controls, but the reader
 * still bounds everything it keeps.
 */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "emu_ddl.h"
#include "fsutil.h"

#define MAX_SQL (4 << 20)
#define MAX_TOK 256

enum tk { T_END, T_WORD, T_QIDENT, T_STRING, T_NUMBER, T_PATH, T_PUNCT };

struct tok {
	enum tk kind;
	char text[MAX_TOK];
};

struct lexer {
	const char *p, *end;
	const char *path;
	int stmt;
	struct tok t;		/* current token */
	char *err;
	size_t errlen;
	char db[MAX_TOK + 2], schema[MAX_TOK + 2];	/* from USE; "" if none */
};

static int __attribute__((format(printf, 2, 3)))
fail(struct lexer *lx, const char *fmt, ...)
{
	va_list ap;
	int n = snprintf(lx->err, lx->errlen, "%s: statement %d: ", lx->path, lx->stmt);

	va_start(ap, fmt);
	if (n > 0 && (size_t)n < lx->errlen)
		vsnprintf(lx->err + n, lx->errlen - (size_t)n, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

static void
skip_space(struct lexer *lx)
{
	for (;;) {
		while (lx->p < lx->end && isspace((unsigned char)*lx->p))
			lx->p++;
		if (lx->end - lx->p >= 2 && lx->p[0] == '-' && lx->p[1] == '-') {
			while (lx->p < lx->end && *lx->p != '\n')
				lx->p++;
		} else if (lx->end - lx->p >= 2 && lx->p[0] == '/' && lx->p[1] == '*') {
			const char *e = memmem(lx->p + 2, (size_t)(lx->end - lx->p - 2), "*/", 2);

			lx->p = e ? e + 2 : lx->end;
		} else {
			return;
		}
	}
}

static int
take_quoted(struct lexer *lx, char q, enum tk kind)
{
	size_t n = 0;

	lx->p++;
	while (lx->p < lx->end) {
		if (*lx->p == q) {
			if (lx->p + 1 < lx->end && lx->p[1] == q) {
				lx->p++;	/* doubled quote */
			} else {
				lx->p++;
				lx->t.kind = kind;
				lx->t.text[n] = '\0';
				return 0;
			}
		}
		if (n + 1 >= MAX_TOK)
			return fail(lx, "quoted text longer than %d bytes", MAX_TOK - 1);
		lx->t.text[n++] = *lx->p++;
	}
	return fail(lx, "unterminated %c", q);
}

/* $1, $1:key, $1:a.b, $1:"Key", each with an optional ::TYPE. */
static int
take_path(struct lexer *lx)
{
	size_t n = 0;

	while (lx->p < lx->end && (isalnum((unsigned char)*lx->p) || strchr("$:._\"", *lx->p))) {
		if (*lx->p == '"') {
			const char *e = memchr(lx->p + 1, '"', (size_t)(lx->end - lx->p - 1));

			if (e == NULL || n + (size_t)(e - lx->p) + 2 >= MAX_TOK)
				return fail(lx, "bad $1 path");
			memcpy(lx->t.text + n, lx->p, (size_t)(e - lx->p) + 1);
			n += (size_t)(e - lx->p) + 1;
			lx->p = e + 1;
			continue;
		}
		if (n + 1 >= MAX_TOK)
			return fail(lx, "$1 path too long");
		lx->t.text[n++] = *lx->p++;
	}
	lx->t.text[n] = '\0';
	lx->t.kind = T_PATH;
	return 0;
}

static int
next(struct lexer *lx)
{
	size_t n = 0;

	skip_space(lx);
	lx->t.kind = T_END;
	lx->t.text[0] = '\0';
	if (lx->p >= lx->end) {
		lx->t.kind = T_END;
		return 0;
	}
	if (*lx->p == '"')
		return take_quoted(lx, '"', T_QIDENT);
	if (*lx->p == '\'')
		return take_quoted(lx, '\'', T_STRING);
	if (*lx->p == '$')
		return take_path(lx);
	if (isalpha((unsigned char)*lx->p) || *lx->p == '_' || isdigit((unsigned char)*lx->p) ||
	    ((*lx->p == '-' || *lx->p == '+') && lx->p + 1 < lx->end &&
	    isdigit((unsigned char)lx->p[1]))) {
		bool num = !isalpha((unsigned char)*lx->p) && *lx->p != '_';

		do {
			if (n + 1 >= MAX_TOK)
				return fail(lx, "word longer than %d bytes", MAX_TOK - 1);
			lx->t.text[n++] = *lx->p++;
		} while (lx->p < lx->end && (isalnum((unsigned char)*lx->p) || *lx->p == '_' ||
		    *lx->p == '$' || (num && *lx->p == '.')));
		lx->t.text[n] = '\0';
		lx->t.kind = num ? T_NUMBER : T_WORD;
		return 0;
	}
	if (lx->end - lx->p >= 2 && lx->p[0] == '=' && lx->p[1] == '>') {
		snprintf(lx->t.text, MAX_TOK, "=>");
		lx->p += 2;
	} else {
		lx->t.text[0] = *lx->p++;
		lx->t.text[1] = '\0';
	}
	lx->t.kind = T_PUNCT;
	return 0;
}

static bool
is_word(const struct lexer *lx, const char *w)
{
	return lx->t.kind == T_WORD && strcasecmp(lx->t.text, w) == 0;
}

static bool
is_punct(const struct lexer *lx, const char *p)
{
	return lx->t.kind == T_PUNCT && strcmp(lx->t.text, p) == 0;
}

static int
expect_word(struct lexer *lx, const char *w)
{
	if (!is_word(lx, w))
		return fail(lx, "expected %s, found \"%s\"", w, lx->t.text);
	return next(lx);
}

static int
expect_punct(struct lexer *lx, const char *p)
{
	if (!is_punct(lx, p))
		return fail(lx, "expected '%s', found \"%s\"", p, lx->t.text);
	return next(lx);
}

/* One identifier as the config writes it: quoted ones keep their quotes. */
static int
ident(struct lexer *lx, char *out, size_t outlen)
{
	if (lx->t.kind == T_WORD)
		snprintf(out, outlen, "%s", lx->t.text);
	else if (lx->t.kind == T_QIDENT)
		snprintf(out, outlen, "\"%s\"", lx->t.text);
	else
		return fail(lx, "expected a name, found \"%s\"", lx->t.text);
	return next(lx);
}

/* [[DB.]SCHEMA.]NAME into three parts; the missing ones come from USE. */
static int
qname(struct lexer *lx, char db[MAX_TOK + 2], char sc[MAX_TOK + 2], char nm[MAX_TOK + 2])
{
	char part[3][MAX_TOK + 2];
	int n = 0, r;

	for (;;) {
		if ((r = ident(lx, part[n++], MAX_TOK + 2)) < 0)
			return r;
		if (n == 3 || !is_punct(lx, "."))
			break;
		if ((r = next(lx)) < 0)
			return r;
	}
	if ((n < 3 && lx->db[0] == '\0') || (n < 2 && lx->schema[0] == '\0'))
		return fail(lx, "%s is not qualified: give DB.SCHEMA.%s or USE DATABASE and "
		    "USE SCHEMA before it", part[n - 1], part[n - 1]);
	snprintf(db, MAX_TOK + 2, "%.*s", MAX_TOK + 1, n == 3 ? part[0] : lx->db);
	snprintf(sc, MAX_TOK + 2, "%.*s", MAX_TOK + 1, n >= 2 ? part[n - 2] : lx->schema);
	snprintf(nm, MAX_TOK + 2, "%.*s", MAX_TOK + 1, part[n - 1]);
	return 0;
}


/* Skips tokens, balancing parentheses: to the end of the statement, or
 * (group) over one "( ... )" that starts at the current token. */
static int
skip_balanced(struct lexer *lx, bool group)
{
	int depth = 0, r;

	while (lx->t.kind != T_END && !(depth == 0 && is_punct(lx, ";"))) {
		if (is_punct(lx, "("))
			depth++;
		else if (is_punct(lx, ")"))
			depth--;
		if ((r = next(lx)) < 0)
			return r;
		if (group && depth == 0)
			return 0;
	}
	return group ? fail(lx, "unbalanced parentheses") : 0;
}

static int
skip_statement(struct lexer *lx)
{
	return skip_balanced(lx, false);
}

/* TYPE words and (args) glued back together: "NUMBER(38,0)". */
static int
type_text(struct lexer *lx, char *out, size_t outlen)
{
	size_t n = 0;
	int r;

	if (lx->t.kind != T_WORD)
		return fail(lx, "expected a type, found \"%s\"", lx->t.text);
	n = (size_t)snprintf(out, outlen, "%s", lx->t.text);
	if ((r = next(lx)) < 0)
		return r;
	if (is_word(lx, "PRECISION") || is_word(lx, "VARYING")) {
		n += (size_t)snprintf(out + n, outlen - n, " %s", lx->t.text);
		if ((r = next(lx)) < 0)
			return r;
	}
	if (!is_punct(lx, "("))
		return 0;
	while (!is_punct(lx, ")")) {
		if (lx->t.kind == T_END || n + strlen(lx->t.text) + 2 >= outlen)
			return fail(lx, "bad type arguments");
		n += (size_t)snprintf(out + n, outlen - n, "%s", lx->t.text);
		if ((r = next(lx)) < 0)
			return r;
	}
	snprintf(out + n, outlen - n, ")");
	return next(lx);
}

static json_t *
literal(struct lexer *lx)
{
	char *end;

	if (lx->t.kind == T_STRING)
		return json_string(lx->t.text);
	if (lx->t.kind == T_NUMBER) {
		long long v;

		errno = 0;
		v = strtoll(lx->t.text, &end, 10);
		if (errno == 0 && *end == '\0')
			return json_integer(v);
		return json_real(strtod(lx->t.text, &end));
	}
	if (is_word(lx, "TRUE") || is_word(lx, "FALSE"))
		return json_boolean(is_word(lx, "TRUE"));
	return NULL;
}

/* A time function as a DEFAULT: NAME or NAME(), kept as "NAME()" in *ret
 * for emu_conf to evaluate once; 1 when the current token is none. */
static int
default_fn(struct lexer *lx, char *ret, size_t len)
{
	static const char *const fns[] = { "CURRENT_TIMESTAMP", "LOCALTIMESTAMP", "SYSDATE",
		"GETDATE", "SYSTIMESTAMP", "CURRENT_DATE", NULL };
	size_t i;
	int r;

	for (i = 0; fns[i] != NULL && !is_word(lx, fns[i]); i++)
		;
	if (fns[i] == NULL)
		return 1;
	snprintf(ret, len, "%s()", fns[i]);
	if ((r = next(lx)) < 0 || !is_punct(lx, "("))
		return r;
	if ((r = next(lx)) < 0)
		return r;
	return expect_punct(lx, ")");
}

/* NAME TYPE [NOT NULL | NULL | DEFAULT lit | DEFAULT CURRENT_TIMESTAMP() |
 * COMMENT 'x' | COLLATE 'x']... */
static int
column(struct lexer *lx, json_t *cols)
{
	char name[MAX_TOK + 2], type[512], fn[32] = "";
	json_t *col, *def = NULL;
	bool not_null = false;
	int r;

	if ((r = ident(lx, name, sizeof(name))) < 0 || (r = type_text(lx, type, sizeof(type))) < 0)
		return r;
	while (r == 0 && !is_punct(lx, ",") && !is_punct(lx, ")")) {
		if (is_word(lx, "NOT")) {
			if ((r = next(lx)) == 0 && (r = expect_word(lx, "NULL")) == 0)
				not_null = true;
		} else if (is_word(lx, "NULL")) {
			r = next(lx);
		} else if (is_word(lx, "DEFAULT")) {
			if ((r = next(lx)) < 0)
				break;
			json_decref(def);
			fn[0] = '\0';
			if ((def = literal(lx)) == NULL && (r = default_fn(lx, fn, sizeof(fn))) <= 0)
				continue;
			if (def == NULL && !is_word(lx, "NULL"))
				r = fail(lx, "column %s: only literal and CURRENT_TIMESTAMP() DEFAULTs "
				    "are supported", name);
			else
				r = next(lx);
		} else if (is_word(lx, "COMMENT") || is_word(lx, "COLLATE")) {
			if ((r = next(lx)) == 0 && is_punct(lx, "="))
				r = next(lx);
			if (r == 0)
				r = next(lx);
		} else {
			r = fail(lx, "column %s: unsupported \"%s\"", name, lx->t.text);
		}
	}
	if (r < 0) {
		json_decref(def);
		return r;
	}
	col = json_pack("{s:s, s:s, s:b}", "name", name, "type", type, "not_null", not_null);
	if (def != NULL)
		json_object_set_new(col, "default", def);
	else if (fn[0] != '\0')
		json_object_set_new(col, "default_expr", json_string(fn));
	json_array_append_new(cols, col);
	return 0;
}

static int
create_table(struct lexer *lx, json_t *tables)
{
	char db[MAX_TOK + 2], sc[MAX_TOK + 2], nm[MAX_TOK + 2];
	json_t *cols = json_array();
	int r;

	if ((r = qname(lx, db, sc, nm)) < 0 || (r = expect_punct(lx, "(")) < 0)
		goto out;
	for (;;) {
		if ((r = column(lx, cols)) < 0)
			goto out;
		if (is_punct(lx, ")"))
			break;
		if ((r = expect_punct(lx, ",")) < 0)
			goto out;
	}
	if ((r = next(lx)) < 0 || (r = skip_statement(lx)) < 0)
		goto out;
	json_array_append_new(tables, json_pack("{s:s, s:s, s:s, s:O}", "database", db, "schema",
	    sc, "name", nm, "columns", cols));
out:
	json_decref(cols);
	return r;
}

static int
name_list(struct lexer *lx, json_t *out)
{
	char name[MAX_TOK + 2];
	int r;

	if ((r = expect_punct(lx, "(")) < 0)
		return r;
	for (;;) {
		if ((r = ident(lx, name, sizeof(name))) < 0)
			return r;
		json_array_append_new(out, json_string(name));
		if (is_punct(lx, ")"))
			return next(lx);
		if ((r = expect_punct(lx, ",")) < 0)
			return r;
	}
}

/* Conversion functions a pipe may wrap around a path. The column's type
 * converts the value here anyway, so they change nothing, like casts. */
static const char *const conv_fns[] = { "TO_TIMESTAMP", "TO_TIMESTAMP_NTZ",
	"TO_TIMESTAMP_LTZ", "TO_TIMESTAMP_TZ", "TO_DATE", "TO_VARCHAR", "TO_CHAR",
	"TO_NUMBER", "TO_DECIMAL", "TO_NUMERIC", "TO_DOUBLE", "TO_BOOLEAN", "TO_VARIANT",
	NULL };

/* A path token ends before a cast's arguments: "$1:t::DECIMAL" "(10,4)". */
static int
path_token(struct lexer *lx, char *out, size_t len)
{
	int r;

	if (lx->t.kind != T_PATH)
		return fail(lx, "only $1, $1:path and conversion functions of them are "
		    "supported, found \"%s\"", lx->t.text);
	snprintf(out, len, "%s", lx->t.text);
	if ((r = next(lx)) < 0)
		return r;
	return strstr(out, "::") != NULL && is_punct(lx, "(") ? skip_balanced(lx, true) : 0;
}

/* ::TYPE[(args)] after a function call. */
static int
cast_suffix(struct lexer *lx)
{
	int r;

	while (is_punct(lx, ":")) {
		if ((r = next(lx)) < 0 || (r = expect_punct(lx, ":")) < 0)
			return r;
		if (lx->t.kind != T_WORD)
			return fail(lx, "expected a type after ::");
		if ((r = next(lx)) < 0)
			return r;
		if (is_punct(lx, "(") && (r = skip_balanced(lx, true)) < 0)
			return r;
	}
	return 0;
}

/* $1[:path][::TYPE[(p,s)]] or CONV($1:path)[::TYPE], then [AS] alias. */
static int
select_item(struct lexer *lx, json_t *out)
{
	char path[MAX_TOK], alias[MAX_TOK + 2];
	size_t i;
	int r;

	for (i = 0; conv_fns[i] != NULL && !is_word(lx, conv_fns[i]); i++)
		;
	if (conv_fns[i] != NULL) {
		if ((r = next(lx)) < 0 || (r = expect_punct(lx, "(")) < 0 ||
		    (r = path_token(lx, path, sizeof(path))) < 0)
			return r;
		if (!is_punct(lx, ")"))
			return fail(lx, "%s: only one argument, a $1 path", conv_fns[i]);
		if ((r = next(lx)) < 0 || (r = cast_suffix(lx)) < 0)
			return r;
	} else if ((r = path_token(lx, path, sizeof(path))) < 0) {
		return r;
	}
	if (is_word(lx, "AS") && (r = next(lx)) < 0)
		return r;
	if ((lx->t.kind == T_WORD && !is_word(lx, "FROM")) || lx->t.kind == T_QIDENT) {
		if ((r = ident(lx, alias, sizeof(alias))) < 0)	/* the alias names nothing */
			return r;
	}
	json_array_append_new(out, json_string(path));
	return 0;
}

/* FROM ( SELECT item, ... FROM TABLE ( DATA_SOURCE ( TYPE => 'STREAMING' ) ) ) */
static int
select_list(struct lexer *lx, json_t *out)
{
	int r;

	if ((r = expect_word(lx, "FROM")) < 0 || (r = expect_punct(lx, "(")) < 0 ||
	    (r = expect_word(lx, "SELECT")) < 0)
		return r;
	for (;;) {
		if ((r = select_item(lx, out)) < 0)
			return r;
		if (!is_punct(lx, ","))
			break;
		if ((r = next(lx)) < 0)
			return r;
	}
	if ((r = expect_word(lx, "FROM")) < 0 || (r = expect_word(lx, "TABLE")) < 0 ||
	    (r = expect_punct(lx, "(")) < 0 || (r = expect_word(lx, "DATA_SOURCE")) < 0 ||
	    (r = expect_punct(lx, "(")) < 0 || (r = expect_word(lx, "TYPE")) < 0 ||
	    (r = expect_punct(lx, "=>")) < 0)
		return r;
	if (lx->t.kind != T_STRING || strcasecmp(lx->t.text, "STREAMING") != 0)
		return fail(lx, "not a streaming pipe (DATA_SOURCE TYPE must be 'STREAMING')");
	if ((r = next(lx)) < 0 || (r = expect_punct(lx, ")")) < 0 ||
	    (r = expect_punct(lx, ")")) < 0)
		return r;
	if (is_word(lx, "WHERE"))
		return fail(lx, "pipe WHERE filters are not emulated");
	return expect_punct(lx, ")");
}

/* Identifiers as written compare like resolved ones: "Quoted" exactly
 * (quotes off), unquoted without regard to case. */
static bool
ident_eq(const char *a, const char *b)
{
	bool qa = a[0] == '"', qb = b[0] == '"';
	size_t la = strlen(a), lb = strlen(b);

	if (qa)
		a++, la -= 2;
	if (qb)
		b++, lb -= 2;
	if (la != lb)
		return false;
	for (size_t i = 0; i < la; i++) {
		char x = qa ? a[i] : (char)toupper((unsigned char)a[i]);
		char y = qb ? b[i] : (char)toupper((unsigned char)b[i]);

		if (x != y)
			return false;
	}
	return true;
}

/* COPY INTO t FROM (SELECT ...) without a column list: the SELECT fills the
 * table's first n columns in order. */
static int
table_columns(struct lexer *lx, json_t *tables, const char *db, const char *sc,
    const char *nm, size_t n, json_t *cols)
{
	json_t *t, *tc;
	size_t i;

	json_array_foreach(tables, i, t) {
		if (!ident_eq(json_string_value(json_object_get(t, "database")), db) ||
		    !ident_eq(json_string_value(json_object_get(t, "schema")), sc) ||
		    !ident_eq(json_string_value(json_object_get(t, "name")), nm))
			continue;
		tc = json_object_get(t, "columns");
		if (json_array_size(tc) < n)
			return fail(lx, "SELECT gives %zu values, table %s has %zu columns", n, nm,
			    json_array_size(tc));
		for (size_t k = 0; k < n; k++)
			json_array_append(cols, json_object_get(json_array_get(tc, k), "name"));
		return 0;
	}
	return fail(lx, "COPY INTO %s without a column list needs the table's CREATE TABLE "
	    "earlier in the file", nm);
}

static int
create_pipe(struct lexer *lx, json_t *tables, json_t *pipes)
{
	char db[MAX_TOK + 2], sc[MAX_TOK + 2], nm[MAX_TOK + 2];
	char tdb[MAX_TOK + 2], tsc[MAX_TOK + 2], tnm[MAX_TOK + 2];
	json_t *cols = json_array(), *sel = json_array();
	bool listed;
	int r;

	if ((r = qname(lx, db, sc, nm)) < 0)
		goto out;
	while (!is_word(lx, "AS")) {	/* COMMENT = '...', AUTO_INGEST, ... */
		if (lx->t.kind == T_END || is_punct(lx, ";")) {
			r = fail(lx, "CREATE PIPE without AS");
			goto out;
		}
		if ((r = next(lx)) < 0)
			goto out;
	}
	if ((r = next(lx)) < 0 || (r = expect_word(lx, "COPY")) < 0 ||
	    (r = expect_word(lx, "INTO")) < 0 || (r = qname(lx, tdb, tsc, tnm)) < 0)
		goto out;
	listed = is_punct(lx, "(");
	if ((listed && (r = name_list(lx, cols)) < 0) || (r = select_list(lx, sel)) < 0)
		goto out;
	if (!listed && (r = table_columns(lx, tables, tdb, tsc, tnm, json_array_size(sel),
	    cols)) < 0)
		goto out;
	if (json_array_size(cols) != json_array_size(sel)) {
		r = fail(lx, "COPY INTO names %zu columns, SELECT gives %zu",
		    json_array_size(cols), json_array_size(sel));
		goto out;
	}
	if (!ident_eq(db, tdb) || !ident_eq(sc, tsc)) {
		r = fail(lx, "pipe %s and table %s must share database and schema", nm, tnm);
		goto out;
	}
	if ((r = skip_statement(lx)) < 0)
		goto out;
	json_array_append_new(pipes, json_pack("{s:s, s:s, s:s, s:s, s:O, s:O}", "database", db,
	    "schema", sc, "name", nm, "table", tnm, "columns", cols, "select", sel));
out:
	json_decref(cols);
	json_decref(sel);
	return r;
}

/* USE DATABASE d | USE SCHEMA [d.]s | USE d[.s]; other USE forms (ROLE,
 * WAREHOUSE, SECONDARY ROLES) change nothing here. */
static int
use(struct lexer *lx)
{
	char a[MAX_TOK + 2], b[MAX_TOK + 2] = "";
	bool schema = false;
	int r;

	if ((r = next(lx)) < 0)
		return r;
	if (is_word(lx, "ROLE") || is_word(lx, "WAREHOUSE") || is_word(lx, "SECONDARY"))
		return skip_statement(lx);
	if (is_word(lx, "DATABASE") || is_word(lx, "SCHEMA")) {
		schema = is_word(lx, "SCHEMA");
		if ((r = next(lx)) < 0)
			return r;
	}
	if ((r = ident(lx, a, sizeof(a))) < 0)
		return r;
	if (is_punct(lx, ".") && ((r = next(lx)) < 0 || (r = ident(lx, b, sizeof(b))) < 0))
		return r;
	if (schema && b[0] == '\0') {
		snprintf(lx->schema, sizeof(lx->schema), "%s", a);
	} else {
		/* USE DATABASE makes the database's PUBLIC schema current */
		snprintf(lx->db, sizeof(lx->db), "%s", a);
		snprintf(lx->schema, sizeof(lx->schema), "%s", b[0] != '\0' ? b : "PUBLIC");
	}
	return skip_statement(lx);
}

static int
statement(struct lexer *lx, json_t *tables, json_t *pipes)
{
	int r;

	if (is_word(lx, "USE"))
		return use(lx);
	if (!is_word(lx, "CREATE"))
		return skip_statement(lx);
	if ((r = next(lx)) < 0)
		return r;
	if (is_word(lx, "OR")) {
		if ((r = next(lx)) < 0 || (r = expect_word(lx, "REPLACE")) < 0)
			return r;
	}
	while (is_word(lx, "TRANSIENT") || is_word(lx, "TEMPORARY") || is_word(lx, "TEMP"))
		if ((r = next(lx)) < 0)
			return r;
	if (is_word(lx, "TABLE") || is_word(lx, "PIPE")) {
		bool table = is_word(lx, "TABLE");

		if ((r = next(lx)) < 0)
			return r;
		if (is_word(lx, "IF")) {
			if ((r = next(lx)) < 0 || (r = expect_word(lx, "NOT")) < 0 ||
			    (r = expect_word(lx, "EXISTS")) < 0)
				return r;
		}
		return table ? create_table(lx, tables) : create_pipe(lx, tables, pipes);
	}
	return skip_statement(lx);
}

int
emu_ddl_parse(const char *name, const char *buf, size_t len, json_t *tables, json_t *pipes,
    char *err, size_t errlen)
{
	struct lexer lx = { .path = name, .err = err, .errlen = errlen, .stmt = 1,
		.p = buf, .end = buf + len };
	int r;

	if ((r = next(&lx)) < 0)
		return r;
	while (lx.t.kind != T_END) {
		if (is_punct(&lx, ";")) {
			lx.stmt++;
			r = next(&lx);
		} else {
			r = statement(&lx, tables, pipes);
		}
		if (r < 0)
			return r;
	}
	return 0;
}

int
emu_ddl_load(const char *path, json_t *tables, json_t *pipes, char *err, size_t errlen)
{
	char *buf;
	size_t len;
	int r;

	if ((r = fs_read_all(path, MAX_SQL, &buf, &len)) < 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(-r));
		return -EINVAL;
	}
	r = emu_ddl_parse(path, buf, len, tables, pipes, err, errlen);
	free(buf);
	return r;
}
