/* SPDX-License-Identifier: Apache-2.0 */
/*
 * conf: defaults, nested blocks, lists, enums, and the exact wording of
 * every error message (file, key, what was expected, what was found).
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "conf.h"

struct inner {
	bool on;
	double offset;
};

struct cfg {
	int64_t rows;
	double interval;
	char name[16];
	char secret[64];
	int mode;
	bool flag;
	struct conf_int_list uids;
	struct conf_str_list users;
	struct inner in;
	int64_t depth;
};

static const char *const modes[] = { "gzip", "zstd", "none", NULL };

static const struct conf_key inner_keys[] = {
	CONF_K_BOOL("on", struct inner, on, 1, 0),
	CONF_K_DOUBLE("offset", struct inner, offset, -10, 10, 4.0, 0),
	CONF_K_END,
};

static const struct conf_key fs_keys[] = {
	CONF_K_INT("depth", struct cfg, depth, 1, 9, 3, 0),
	CONF_K_END,
};

static const struct conf_key keys[] = {
	CONF_K_INT("batch_max_rows", struct cfg, rows, 1, 100000, 500, 0),
	CONF_K_DOUBLE("interval", struct cfg, interval, 0.1, 3600, 5, 0),
	CONF_K_STR("name", struct cfg, name, "pi", 0),
	CONF_K_STR("pat", struct cfg, secret, NULL, CONF_SECRET),
	CONF_K_ENUM("compression", struct cfg, mode, modes, 1, 0),
	CONF_K_BOOL("flag", struct cfg, flag, 0, CONF_REQUIRED),
	CONF_K_INTLIST("allowed_uids", struct cfg, uids, 0, 65535, 0),
	CONF_K_STRLIST("allowed_users", struct cfg, users, 0),
	CONF_K_SUB("scd4x", struct cfg, in, inner_keys, 0),
	CONF_K_OBJ("journal", fs_keys, 0),
	CONF_K_END,
};

static int
load(const char *json, struct cfg *c, char *err)
{
	memset(c, 0x5A, sizeof(*c));
	return conf_load_string("streamerd.json", json, strlen(json), keys, c, err, 256);
}

static void
test_defaults_and_values(void **state)
{
	struct cfg c;
	char err[256] = "";

	(void)state;
	assert_int_equal(load("{\"flag\": true, \"_comment\": \"x\", \"_comment2\": 1}", &c, err), 0);
	assert_int_equal(c.rows, 500);
	assert_true(c.interval == 5.0);
	assert_string_equal(c.name, "pi");
	assert_string_equal(c.secret, "");
	assert_int_equal(c.mode, 1);
	assert_true(c.flag);
	assert_int_equal(c.uids.n, 0);
	assert_int_equal(c.users.n, 0);
	assert_true(c.in.on);
	assert_true(c.in.offset == 4.0);
	assert_int_equal(c.depth, 3);

	assert_int_equal(load("{\"flag\": false, \"batch_max_rows\": 7, \"interval\": 2,"
	    "\"name\": \"kitchen\", \"compression\": \"none\", \"allowed_uids\": [0, 1000],"
	    "\"allowed_users\": [\"streamerd\", \"alice\"],"
	    "\"scd4x\": {\"on\": false, \"offset\": -1.5}, \"journal\": {\"depth\": 9}}",
	    &c, err), 0);
	assert_int_equal(c.rows, 7);
	assert_true(c.interval == 2.0);
	assert_string_equal(c.name, "kitchen");
	assert_int_equal(c.mode, 2);
	assert_int_equal(c.uids.n, 2);
	assert_int_equal(c.uids.v[1], 1000);
	assert_int_equal(c.users.n, 2);
	assert_string_equal(c.users.v[0], "streamerd");
	assert_string_equal(c.users.v[1], "alice");
	assert_false(c.in.on);
	assert_true(c.in.offset == -1.5);
	assert_int_equal(c.depth, 9);

	/* an optional string given as "" (or null) means "not set": default */
	assert_int_equal(load("{\"flag\": true, \"name\": \"\", \"pat\": null}", &c, err), 0);
	assert_string_equal(c.name, "pi");
	assert_string_equal(c.secret, "");
}

static void
expect(const char *json, const char *msg)
{
	struct cfg c;
	char err[256] = "";

	assert_int_equal(load(json, &c, err), -EINVAL);
	if (strcmp(err, msg) != 0)
		fail_msg("got:      %s\nexpected: %s", err, msg);
}

static void
test_error_messages(void **state)
{
	(void)state;
	expect("{\"flag\": true, \"batch_max_rows\": \"ten\"}",
	    "streamerd.json: \"batch_max_rows\": expected integer 1..100000, got \"ten\"");
	expect("{\"flag\": true, \"batch_max_rows\": 0}",
	    "streamerd.json: \"batch_max_rows\": expected integer 1..100000, got 0");
	expect("{\"flag\": true, \"batch_size\": 5}",
	    "streamerd.json: \"batch_size\": unknown key");
	expect("{}", "streamerd.json: \"flag\": required key is missing");
	expect("{\"flag\": 1}", "streamerd.json: \"flag\": expected true or false, got 1");
	expect("{\"flag\": true, \"compression\": \"lz4\"}",
	    "streamerd.json: \"compression\": expected one of \"gzip\", \"zstd\", \"none\", got \"lz4\"");
	expect("{\"flag\": true, \"name\": \"a-name-that-is-too-long\"}",
	    "streamerd.json: \"name\": expected a string of 1..15 bytes, got \"a-name-that-is-too-long\"");
	expect("{\"flag\": true, \"scd4x\": {\"offset\": 99}}",
	    "streamerd.json: \"scd4x.offset\": expected number -10..10, got 99");
	expect("{\"flag\": true, \"scd4x\": {\"color\": 1}}",
	    "streamerd.json: \"scd4x.color\": unknown key");
	expect("{\"flag\": true, \"scd4x\": 3}",
	    "streamerd.json: \"scd4x\": expected an object, got 3");
	expect("{\"flag\": true, \"allowed_uids\": [1, -2]}",
	    "streamerd.json: \"allowed_uids\": expected an array of at most 32 integers 0..65535, got [1,-2]");
	expect("{\"flag\": true, \"allowed_users\": [\"ok\", 3]}",
	    "streamerd.json: \"allowed_users\": expected an array of at most 32 strings of 1..63 bytes, got [\"ok\",3]");
	expect("{\"flag\": true, \"allowed_users\": [\"\"]}",
	    "streamerd.json: \"allowed_users\": expected an array of at most 32 strings of 1..63 bytes, got [\"\"]");
	expect("{\"flag\": true, \"allowed_users\": \"alice\"}",
	    "streamerd.json: \"allowed_users\": expected an array of at most 32 strings of 1..63 bytes, got \"alice\"");
	expect("{\"flag\": true, \"flag\": false}",
	    "streamerd.json:1:21: invalid JSON: duplicate object key near '\"flag\"'");
	expect("{\"flag\": true,", "streamerd.json:1:14: invalid JSON: string or '}' expected near end of file");
	expect("[1]", "streamerd.json: expected a JSON object at the top level");
}

static void
test_secret_never_echoed(void **state)
{
	struct cfg c;
	char err[256] = "";

	(void)state;
	assert_int_equal(load("{\"flag\": true, \"pat\": 123456789}", &c, err), -EINVAL);
	assert_null(strstr(err, "123456789"));
	assert_non_null(strstr(err, "\"pat\""));
	assert_non_null(strstr(err, "value not shown"));
}

static void
test_file_errors(void **state)
{
	struct cfg c;
	char err[256] = "", path[] = "/tmp/test_conf_XXXXXX";
	int fd;

	(void)state;
	assert_int_equal(conf_load("/nonexistent/sensord.json", keys, &c, err, sizeof(err)),
	    -ENOENT);
	assert_string_equal(err, "/nonexistent/sensord.json: cannot read: No such file or directory");
	fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "{\"flag\": true, \"batch_max_rows\": 9}", 35), 35);
	close(fd);
	assert_int_equal(conf_load(path, keys, &c, err, sizeof(err)), 0);
	assert_int_equal(c.rows, 9);
	unlink(path);
}

static void
test_dump_defaults(void **state)
{
	struct cfg c;
	char err[256] = "", *s = NULL;

	(void)state;
	assert_int_equal(load("{\"flag\": true}", &c, err), 0);
	assert_int_equal(conf_dump("/etc/x.json", keys, &c, &s), 0);
	assert_string_equal(s, "{\n"
	    "  \"_comment\": \"effective configuration: /etc/x.json with the defaults of "
	    "every key it leaves out and the command-line overrides; secrets redacted\",\n"
	    "  \"batch_max_rows\": 500,\n"
	    "  \"interval\": 5.0,\n"
	    "  \"name\": \"pi\",\n"
	    "  \"pat\": null,\n"
	    "  \"compression\": \"zstd\",\n"
	    "  \"flag\": true,\n"
	    "  \"allowed_uids\": [],\n"
	    "  \"allowed_users\": [],\n"
	    "  \"scd4x\": {\n"
	    "    \"on\": true,\n"
	    "    \"offset\": 4.0\n"
	    "  },\n"
	    "  \"journal\": {\n"
	    "    \"depth\": 3\n"
	    "  }\n"
	    "}");
	free(s);
}

/* What was loaded and what a caller changed after (a command-line
 * override) are what is printed; the secret is not, and the text loads
 * back into the same values. */
static void
test_dump_values_and_secret(void **state)
{
	struct cfg c, back;
	char err[256] = "", *s = NULL, *s2 = NULL;

	(void)state;
	assert_int_equal(load("{\"flag\": false, \"pat\": \"ver-secret-1\", \"name\": "
	    "\"gh\\u00e9\", \"compression\": \"none\", \"allowed_uids\": [7, 0], "
	    "\"scd4x\": {\"offset\": -2.5}, \"interval\": 0.1, \"allowed_users\": [\"al\"]}", &c,
	    err), 0);
	c.rows = 42;
	assert_int_equal(conf_dump("f", keys, &c, &s), 0);
	assert_null(strstr(s, "ver-secret-1"));
	assert_non_null(strstr(s, "\"pat\": \"" CONF_REDACTED "\""));
	assert_non_null(strstr(s, "\"batch_max_rows\": 42,"));
	assert_non_null(strstr(s, "\"interval\": 0.1,"));
	assert_non_null(strstr(s, "\"compression\": \"none\""));
	assert_non_null(strstr(s, "\"allowed_uids\": [\n    7,\n    0\n  ]"));
	assert_non_null(strstr(s, "\"offset\": -2.5"));
	assert_non_null(strstr(s, "\"allowed_users\": [\n    \"al\"\n  ]"));
	assert_non_null(strstr(s, "\"flag\": false"));
	memset(&back, 0x5A, sizeof(back));
	assert_int_equal(conf_load_string("dump", s, strlen(s), keys, &back, err, sizeof(err)),
	    0);
	assert_string_equal(back.secret, CONF_REDACTED);
	snprintf(back.secret, sizeof(back.secret), "%s", c.secret);
	assert_int_equal(conf_dump("f", keys, &back, &s2), 0);
	assert_string_equal(s, s2);
	free(s);
	free(s2);
}

static void
test_dump_not_utf8(void **state)
{
	struct cfg c;
	char err[256] = "", *s = NULL;

	(void)state;
	assert_int_equal(load("{\"flag\": true}", &c, err), 0);
	memcpy(c.name, "\xff\xfe", 3);
	assert_int_equal(conf_dump("f", keys, &c, &s), -EINVAL);
	assert_null(s);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults_and_values),
		cmocka_unit_test(test_error_messages),
		cmocka_unit_test(test_secret_never_echoed),
		cmocka_unit_test(test_file_errors),
		cmocka_unit_test(test_dump_defaults),
		cmocka_unit_test(test_dump_values_and_secret),
		cmocka_unit_test(test_dump_not_utf8),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
