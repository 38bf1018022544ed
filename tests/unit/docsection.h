/* SPDX-License-Identifier: Apache-2.0 */
/*
 * docsection: the check that keeps docs/schema.md's generated tables equal
 * to the tables in the code. A unit test renders its table as markdown and
 * calls doc_section(); run with SCHEMA_DOC_UPDATE=1 (`make schema-doc`) it
 * rewrites the section instead of failing. Header-only: included by
 * test_record.c and test_row.c, which link different libraries.
 */
#ifndef SNOWSENSE_DOCSECTION_H
#define SNOWSENSE_DOCSECTION_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DOC_END "<!-- end of generated section -->\n"

/* Compares (or, to update, replaces) the lines between the line begin and
 * DOC_END in $TOP/docs/schema.md with text. */
static void
doc_section(const char *begin, const char *text)
{
	static char doc[256 * 1024], out[sizeof(doc)];
	const char *top = getenv("TOP") ? getenv("TOP") : ".";
	char path[4096], tmp[4200];
	const char *b, *e;
	size_t n;
	FILE *f;

	snprintf(path, sizeof(path), "%s/docs/schema.md", top);
	f = fopen(path, "r");
	if (f == NULL)
		fail_msg("cannot open %s (TOP=%s)", path, top);
	n = fread(doc, 1, sizeof(doc) - 1, f);
	fclose(f);
	doc[n] = '\0';
	b = strstr(doc, begin);
	if (b == NULL || (e = strstr(b, DOC_END)) == NULL)
		fail_msg("%s: no section \"%.*s\" ... \"%s\"", path, (int)strcspn(begin, "\n"),
		    begin, "<!-- end of generated section -->");
	b += strlen(begin);
	if ((size_t)(e - b) == strlen(text) && memcmp(b, text, strlen(text)) == 0)
		return;
	if (getenv("SCHEMA_DOC_UPDATE") == NULL)
		fail_msg("%s is out of date with the code's table: run `make schema-doc` "
		    "and commit it. Expected:\n%s", path, text);
	n = (size_t)snprintf(out, sizeof(out), "%.*s%s%s", (int)(b - doc), doc, text, e);
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	f = fopen(tmp, "w");
	if (f == NULL || fwrite(out, 1, n, f) != n || fclose(f) != 0 || rename(tmp, path) != 0)
		fail_msg("cannot rewrite %s", path);
}

#endif
