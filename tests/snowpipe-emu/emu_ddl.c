/*
 * emu_ddl: a tokenizer (identifiers, "quoted identifiers", 'strings',
 * numbers, $1 paths, punctuation; -- and block comments dropped) and a
 * recursive reader for the two statements the emulator needs. Names must be
 * fully qualified (DB.SCHEMA.NAME), as in setup.sql. Inputs are files the
 * test author controls, but the reader still bounds everything it keeps.
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

/* DB.SCHEMA.NAME into three parts. */
static int
qname(struct lexer *lx, char db[MAX_TOK + 2], char sc[MAX_TOK + 2], char nm[MAX_TOK + 2])
{
	int r;

	if ((r = ident(lx, db, MAX_TOK + 2)) < 0 || (r = expect_punct(lx, ".")) < 0 ||
	    (r = ident(lx, sc, MAX_TOK + 2)) < 0 || (r = expect_punct(lx, ".")) < 0 ||
	    (r = ident(lx, nm, MAX_TOK + 2)) < 0)
		return r == -EINVAL ? fail(lx, "names must be DB.SCHEMA.NAME") : r;
	return 0;
}

/* Skips to the end of the statement, balancing parentheses. */
static int
skip_statement(struct lexer *lx)
{
	int depth = 0, r;

	while (lx->t.kind != T_END && !(depth == 0 && is_punct(lx, ";"))) {
		if (is_punct(lx, "("))
			depth++;
		else if (is_punct(lx, ")"))
			depth--;
		if ((r = next(lx)) < 0)
			return r;
	}
	return 0;
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

/* NAME TYPE [NOT NULL | NULL | DEFAULT lit | COMMENT 'x' | COLLATE 'x']... */
static int
column(struct lexer *lx, json_t *cols)
{
	char name[MAX_TOK + 2], type[512];
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
			if ((def = literal(lx)) == NULL && !is_word(lx, "NULL"))
				r = fail(lx, "column %s: only literal DEFAULTs are supported", name);
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

/* FROM ( SELECT $1..., ... FROM TABLE ( DATA_SOURCE ( TYPE => 'STREAMING' ) ) ) */
static int
select_list(struct lexer *lx, json_t *out)
{
	int r;

	if ((r = expect_word(lx, "FROM")) < 0 || (r = expect_punct(lx, "(")) < 0 ||
	    (r = expect_word(lx, "SELECT")) < 0)
		return r;
	for (;;) {
		if (lx->t.kind != T_PATH)
			return fail(lx, "only $1 and $1:path expressions are supported, found \"%s\"",
			    lx->t.text);
		json_array_append_new(out, json_string(lx->t.text));
		if ((r = next(lx)) < 0)
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

static int
create_pipe(struct lexer *lx, json_t *pipes)
{
	char db[MAX_TOK + 2], sc[MAX_TOK + 2], nm[MAX_TOK + 2];
	char tdb[MAX_TOK + 2], tsc[MAX_TOK + 2], tnm[MAX_TOK + 2];
	json_t *cols = json_array(), *sel = json_array();
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
	    (r = expect_word(lx, "INTO")) < 0 || (r = qname(lx, tdb, tsc, tnm)) < 0 ||
	    (r = name_list(lx, cols)) < 0 || (r = select_list(lx, sel)) < 0)
		goto out;
	if (json_array_size(cols) != json_array_size(sel)) {
		r = fail(lx, "COPY INTO names %zu columns, SELECT gives %zu",
		    json_array_size(cols), json_array_size(sel));
		goto out;
	}
	if (strcasecmp(db, tdb) != 0 || strcasecmp(sc, tsc) != 0) {
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

static int
statement(struct lexer *lx, json_t *tables, json_t *pipes)
{
	int r;

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
		return table ? create_table(lx, tables) : create_pipe(lx, pipes);
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
