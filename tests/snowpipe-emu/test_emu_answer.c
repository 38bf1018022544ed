/* SPDX-License-Identifier: Apache-2.0 */
/*
 * emu_answer (canned answer files): the reader takes the documented format
 * (comments, status line, headers, blank line, body minus one final newline)
 * and refuses what is not; and every file in tests/snowpipe-emu/answers/
 * names its public source and parses, with a JSON body wherever it says so.
 */
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "emu_answer.c"

static int
parse(const char *text, struct emu_answer *a)
{
	char err[200];

	return emu_answer_parse(text, strlen(text), a, err, sizeof(err));
}

static void
test_format(void **state)
{
	struct emu_answer a;

	(void)state;
	assert_int_equal(parse("# source: x\r\n# more\r\nHTTP/1.1 409 Conflict\r\n"
	    "Content-Type: application/json\r\nX-A:  spaced value \r\n\r\n"
	    "{\"a\":1}\n", &a), 0);
	assert_int_equal(a.status, 409);
	assert_string_equal(a.reason, "Conflict");
	assert_string_equal(a.source, "x");
	assert_int_equal(a.nhdr, 2);
	assert_string_equal(emu_answer_header(&a, "x-a"), "spaced value");
	assert_string_equal(emu_answer_header(&a, "content-type"), "application/json");
	assert_null(emu_answer_header(&a, "x-b"));
	assert_int_equal(a.body_len, 7);
	assert_string_equal(a.body, "{\"a\":1}");
	emu_answer_clear(&a);

	/* no reason, no headers, a body that keeps one newline */
	assert_int_equal(parse("HTTP/2 200\n\nline\n\n", &a), 0);
	assert_int_equal(a.status, 200);
	assert_string_equal(a.reason, "");
	assert_null(a.source);
	assert_int_equal(a.body_len, 5);
	assert_memory_equal(a.body, "line\n", 5);
	emu_answer_clear(&a);

	/* the head ends the file: empty body */
	assert_int_equal(parse("HTTP/1.1 204 No Content\nA: b\n", &a), 0);
	assert_int_equal(a.body_len, 0);
	emu_answer_clear(&a);
}

static void
test_refused(void **state)
{
	struct emu_answer a;

	(void)state;
	assert_int_equal(parse("", &a), -EINVAL);
	assert_int_equal(parse("# only a comment\n", &a), -EINVAL);
	assert_int_equal(parse("200 OK\n\n{}", &a), -EINVAL);
	assert_int_equal(parse("HTTP/1.1 20 OK\n\n", &a), -EINVAL);
	assert_int_equal(parse("HTTP/1.1 2000\n\n", &a), -EINVAL);
	assert_int_equal(parse("HTTP/1.1 099 x\n\n", &a), -EINVAL);
	assert_int_equal(parse("HTTP/1.1 200 OK\nno colon\n\n", &a), -EINVAL);
	assert_int_equal(parse("HTTP/1.1 200 OK\nbad name: v\n\n", &a), -EINVAL);
	assert_int_equal(parse("HTTP/1.1 200 OK\n: v\n\n", &a), -EINVAL);
}

static const char *
answers_dir(char *buf, size_t len)
{
	const char *top = getenv("TOP");

	snprintf(buf, len, "%s/tests/snowpipe-emu/answers", top ? top : ".");
	return buf;
}

/* Checks one file; returns 1 when it was an answer file. */
static int
check_file(const char *dir, const char *name)
{
	char path[1024], err[300];
	struct emu_answer a;
	const char *ct;
	size_t n = strlen(name);

	if (n < 6 || strcmp(name + n - 5, ".http") != 0)
		return 0;
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if (emu_answer_load(path, &a, err, sizeof(err)) < 0)
		fail_msg("%s", err);
	if (a.source == NULL || strlen(a.source) < 10)
		fail_msg("%s: no \"# source:\" line naming the public source", name);
	ct = emu_answer_header(&a, "Content-Type");
	if (ct == NULL)
		fail_msg("%s: no Content-Type", name);
	if (strstr(ct, "json") != NULL) {
		json_t *j = json_loadb(a.body, a.body_len, JSON_DECODE_ANY, NULL);

		if (j == NULL)
			fail_msg("%s: body is not JSON", name);
		json_decref(j);
	}
	emu_answer_clear(&a);
	return 1;
}

static void
test_answer_files(void **state)
{
	char dir[900];
	struct dirent *e;
	DIR *d;
	int n = 0;

	(void)state;
	d = opendir(answers_dir(dir, sizeof(dir)));
	assert_non_null(d);
	while ((e = readdir(d)) != NULL)
		n += check_file(dir, e->d_name);
	closedir(d);
	assert_true(n >= 10);
}

static void
load(const char *name, struct emu_answer *a)
{
	char dir[900], path[1024], err[300];

	snprintf(path, sizeof(path), "%s/%s", answers_dir(dir, sizeof(dir)), name);
	if (emu_answer_load(path, a, err, sizeof(err)) < 0)
		fail_msg("%s", err);
}

/* The answers a client's tests lean on hardest say what they should. */
static void
test_key_answers(void **state)
{
	struct emu_answer a;
	json_t *j;

	(void)state;
	load("stale-sequencer-emqx-18056.http", &a);
	assert_int_equal(a.status, 400);
	assert_string_equal(emu_answer_header(&a, "X-Snowflake-Session"),
	    "MTAuNC4zLjE0NDoxMDAwMA==");
	j = json_loadb(a.body, a.body_len, 0, NULL);
	assert_string_equal(json_string_value(json_object_get(j, "code")),
	    "STALE_CONTINUATION_TOKEN_SEQUENCER");
	json_decref(j);
	emu_answer_clear(&a);

	load("hostname-prototype.http", &a);
	assert_int_equal(a.status, 200);
	assert_string_equal(a.body, "LXB29530.ingest.iadaax.snowflakecomputing.com");
	emu_answer_clear(&a);

	load("open-prototype.http", &a);
	j = json_loadb(a.body, a.body_len, 0, NULL);
	assert_string_equal(json_string_value(json_object_get(j, "next_continuation_token")),
	    "0_1");
	assert_true(json_is_null(json_object_get(json_object_get(j, "channel_status"),
	    "last_committed_offset_token")));
	json_decref(j);
	emu_answer_clear(&a);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_format),
		cmocka_unit_test(test_refused),
		cmocka_unit_test(test_answer_files),
		cmocka_unit_test(test_key_answers),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
