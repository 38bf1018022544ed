/* SPDX-License-Identifier: Apache-2.0 */
/*
 * config: the shipped example loads as is; defaults; the cross-key checks
 * (socket mode, journal sizes, absolute paths, the per-uid client cap) and
 * the device's characters name the key at fault;
 * unknown keys in nested blocks are refused; device falls back to the
 * hostname.
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

#include "config.h"

static int
load(const char *text, struct config *c, char *err, size_t errlen)
{
	return config_load_string("t.json", text, strlen(text), c, err, errlen);
}

static void
test_example_loads(void **state)
{
	struct config c;
	char err[256] = "", path[512], host[64] = "";

	(void)state;
	snprintf(path, sizeof(path), "%s/config/sensord.json", getenv("TOP") ?
	    getenv("TOP") : ".");
	if (config_load(path, &c, err, sizeof(err)) != 0)
		fail_msg("%s", err);
	/* the example names no device: the host name is used */
	gethostname(host, sizeof(host) - 1);
	assert_string_equal(c.device, host);
	assert_int_equal(c.socket_mode_bits, 0660);
	assert_int_equal(c.journal.fsync, CONFIG_FSYNC_ALWAYS);
	assert_true(c.sensors.scd4x.enabled);
	/* the package's roles by name: no uid to edit in */
	assert_string_equal(c.streamer_user, "streamerd");
	assert_string_equal(c.socket_group, "snowsense");
}

static void
test_defaults(void **state)
{
	struct config c;
	char err[256], host[64] = "";

	(void)state;
	assert_int_equal(load("{}", &c, err, sizeof(err)), 0);
	assert_string_equal(c.bus, "/dev/i2c-1");
	assert_int_equal(c.interval_ms, 5000);
	assert_string_equal(c.socket, "/run/snowsense/sensord.sock");
	assert_int_equal(c.socket_mode_bits, 0660);
	assert_int_equal(c.journal.fsync, CONFIG_FSYNC_ALWAYS);
	assert_int_equal(c.journal.segment_bytes, 1024 * 1024);
	assert_int_equal(c.max_clients, 128);
	assert_int_equal(c.max_clients_per_uid, 32);
	assert_string_equal(c.streamer_user, "streamerd");
	assert_int_equal(c.allowed_users.n, 0);
	assert_int_equal(c.allowed_groups.n, 0);
	assert_string_equal(c.metrics_file, "");
	gethostname(host, sizeof(host) - 1);
	assert_string_equal(c.device, host);
	assert_int_equal(c.sensors.require, REQUIRE_SCD4X_OR_ICP);
}

static void
test_errors_name_the_key(void **state)
{
	static const struct {
		const char *text, *want;
	} cases[] = {
		{ "{\"socket_mode\":\"0999\"}", "\"socket_mode\"" },
		{ "{\"socket_mode\":\"0440\"}", "\"socket_mode\"" },
		{ "{\"journal\":{\"max_bytes\":100000,\"segment_bytes\":60000}}",
		  "\"journal.max_bytes\"" },
		{ "{\"journal\":{\"fsync\":\"sometimes\"}}", "\"journal.fsync\"" },
		{ "{\"journal\":{\"bogus\":1}}", "\"journal.bogus\": unknown key" },
		{ "{\"state_dir\":\"relative\"}", "\"state_dir\"" },
		{ "{\"metrics_file\":\"m.prom\"}", "\"metrics_file\": expected an absolute" },
		{ "{\"interval_ms\":1}", "\"interval_ms\"" },
		{ "{\"allowed_uids\":[\"x\"]}", "\"allowed_uids\"" },
		{ "{\"allowed_users\":[1000]}", "\"allowed_users\": expected an array" },
		{ "{\"allowed_groups\":\"snowsense\"}", "\"allowed_groups\": expected an array" },
		{ "{\"max_clients\":8,\"max_clients_per_uid\":8}",
		  "\"max_clients_per_uid\": expected less than max_clients (8), got 8" },
		{ "{\"max_clients\":1}", "\"max_clients\"" },
		{ "{\"device\":\"pi\\nsensord[1]: forged\"}",
		  "\"device\": expected printable characters, got control character 0x0a at byte 2" },
		{ "{\"device\":\"pi\\u001b[2J\"}", "control character 0x1b at byte 2" },
		{ "{\"device\":\"pi\\u007f\"}", "control character 0x7f" },
		{ "{\"scd4x\":{\"colour\":1}}", "\"scd4x.colour\": unknown key" },
		{ "{\"require\":\"most\"}", "\"require\"" },
	};
	struct config c;
	char err[256];

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		err[0] = '\0';
		assert_int_equal(load(cases[i].text, &c, err, sizeof(err)), -EINVAL);
		if (!strstr(err, cases[i].want))
			fail_msg("%s: got \"%s\", want \"%s\"", cases[i].text, err, cases[i].want);
	}
}

static void
test_failed_load_leaves_config(void **state)
{
	struct config c;
	char err[256];

	(void)state;
	assert_int_equal(load("{\"interval_ms\":250}", &c, err, sizeof(err)), 0);
	assert_int_equal(load("{\"interval_ms\":100,\"socket_mode\":\"7\"}", &c, err,
	    sizeof(err)), -EINVAL);
	assert_int_equal(c.interval_ms, 250);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_example_loads),
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_errors_name_the_key),
		cmocka_unit_test(test_failed_load_leaves_config),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
