/* SPDX-License-Identifier: Apache-2.0 */
/*
 * timefix: which records get a corrected time (unsynced, this boot, clock
 * synchronised now), which wait (this boot, clock not synchronised, younger
 * than the hold), which go as they are (synced, another boot, no boot id,
 * held long enough); the correction itself; and the row: time columns from
 * the corrected time, the record's own t and synced kept, time_corrected.
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

#include "clock.h"
#include "row.h"
#include "timefix.h"

#define BOOT "0f2c8d1e-6b1a-4c7e-9d2f-3a4b5c6d7e8f"

static struct record
unsynced(const char *boot_id, uint64_t boot_ns)
{
	struct record r = { .seq = 7, .t = 1767225600000000000, .boot_ns = boot_ns };

	snprintf(r.device, sizeof(r.device), "pi");
	if (boot_id) {
		r.has_boot_id = true;
		snprintf(r.boot_id, sizeof(r.boot_id), "%s", boot_id);
	}
	return r;
}

static void
test_decide(void **state)
{
	struct timefix tf = { .hold_ns = 300 * NS_PER_S };
	struct record r = unsynced(BOOT, 100 * NS_PER_S);
	struct record other = unsynced("11111111-2222-3333-4444-555555555555", 100 * NS_PER_S);
	struct record none = unsynced(NULL, 100 * NS_PER_S);

	(void)state;
	/* this boot unknown: nothing is corrected or held */
	assert_int_equal(timefix_decide(&tf, &r, true, 200 * NS_PER_S), TIMEFIX_AS_IS);
	memcpy(tf.boot_id, BOOT, sizeof(BOOT));
	assert_int_equal(timefix_decide(&tf, &r, true, 200 * NS_PER_S), TIMEFIX_CORRECT);
	assert_int_equal(timefix_decide(&tf, &r, false, 200 * NS_PER_S), TIMEFIX_HOLD);
	assert_int_equal(timefix_decide(&tf, &r, false, 399 * NS_PER_S), TIMEFIX_HOLD);
	assert_int_equal(timefix_decide(&tf, &r, false, 400 * NS_PER_S), TIMEFIX_AS_IS);
	/* a clock read before the record's own boot_ns: still young */
	assert_int_equal(timefix_decide(&tf, &r, false, 50 * NS_PER_S), TIMEFIX_HOLD);
	assert_int_equal(timefix_decide(&tf, &other, true, 200 * NS_PER_S), TIMEFIX_AS_IS);
	assert_int_equal(timefix_decide(&tf, &other, false, 200 * NS_PER_S), TIMEFIX_AS_IS);
	assert_int_equal(timefix_decide(&tf, &none, true, 200 * NS_PER_S), TIMEFIX_AS_IS);
	r.synced = true;
	assert_int_equal(timefix_decide(&tf, &r, true, 200 * NS_PER_S), TIMEFIX_AS_IS);
	assert_int_equal(timefix_decide(&tf, &r, false, 200 * NS_PER_S), TIMEFIX_AS_IS);
	/* hold 0: never held */
	r.synced = false;
	tf.hold_ns = 0;
	assert_int_equal(timefix_decide(&tf, &r, false, 100 * NS_PER_S), TIMEFIX_AS_IS);
}

static void
test_time(void **state)
{
	struct record r = unsynced(BOOT, 100 * NS_PER_S);

	(void)state;
	/* taken 60.5 s before now, whatever the record's own t said */
	assert_true(timefix_time(&r, 1767484800000000000, 160500000000) ==
	    1767484800000000000 - 60500000000);
}

static void
test_init(void **state)
{
	char dir[] = "/tmp/test_timefix.XXXXXX", path[64];
	struct timefix tf;
	FILE *f;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/boot_id", dir);
	assert_int_equal(timefix_init(&tf, path, 5), -ENOENT);
	assert_string_equal(tf.boot_id, "");
	assert_non_null(f = fopen(path, "w"));
	fputs(BOOT "\n", f);
	fclose(f);
	assert_int_equal(timefix_init(&tf, path, 5), 0);
	assert_string_equal(tf.boot_id, BOOT);
	assert_true(tf.hold_ns == 5);
	assert_non_null(f = fopen(path, "w"));
	fputs("not-a-uuid\n", f);
	fclose(f);
	assert_int_equal(timefix_init(&tf, path, 5), -EINVAL);
	assert_string_equal(tf.boot_id, "");
	unlink(path);
	rmdir(dir);
	/* the real one */
	assert_int_equal(timefix_init(&tf, "/proc/sys/kernel/random/boot_id", 0), 0);
	assert_int_equal(strlen(tf.boot_id), 36);
}

static void
test_row(void **state)
{
	static char buf[ROW_MAX];
	struct row_host h = { .host = "h" };
	struct record r = unsynced(BOOT, 100 * NS_PER_S);
	int64_t fixed = 1767484800250000000;	/* 2026-01-04T00:00:00.250Z */
	size_t len;

	(void)state;
	assert_int_equal(row_format_at(&r, 0xab, &h, fixed + NS_PER_S, fixed, true, buf,
	    sizeof(buf), &len), 0);
	assert_non_null(strstr(buf, "\"ts\":1767484800,"));
	assert_non_null(strstr(buf, "\"datetimestamp\":\"2026-01-04T00:00:00.250\""));
	assert_non_null(strstr(buf, "\"systemtime\":\"01/04/2026 00:00:00\""));
	assert_non_null(strstr(buf, "\"endtime\":\"1767484800\""));
	assert_non_null(strstr(buf, "\"te\":\"1.0000\""));
	assert_non_null(strstr(buf, "\"t_ns\":1767225600000000000,"));	/* the original */
	assert_non_null(strstr(buf, "\"synced\":false"));
	assert_non_null(strstr(buf, ",\"time_corrected\":true}\n"));
	/* as it is: no flag, the record's own time */
	assert_int_equal(row_format(&r, 0xab, &h, fixed, buf, sizeof(buf), &len), 0);
	assert_non_null(strstr(buf, "\"ts\":1767225600,"));
	assert_null(strstr(buf, "time_corrected"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_decide),
		cmocka_unit_test(test_time),
		cmocka_unit_test(test_init),
		cmocka_unit_test(test_row),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
