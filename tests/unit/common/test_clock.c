/* SPDX-License-Identifier: Apache-2.0 */
/*
 * clock_synced: the "synced" flag every record carries must never claim a
 * synchronised clock it could not check. Under systemd's ProtectClock= or a
 * seccomp filter without adjtimex, the read-only adjtimex call fails with
 * EPERM; that has to read as "not synchronised", not as success.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/timex.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>
#include <seccomp.h>

#include "clock.h"

/* Without a filter the answer follows the kernel's own. */
static void
test_synced_matches_kernel(void **state)
{
	struct timex tx = { 0 };
	int r;

	(void)state;
	r = adjtimex(&tx);
	assert_true(r >= 0);
	assert_int_equal(clock_synced(), r != TIME_ERROR && !(tx.status & STA_UNSYNC));
}

/* In a child (a filter cannot be removed): adjtimex and clock_adjtime fail
 * with EPERM, as under ProtectClock=yes; clock_synced must say false. */
static void
test_synced_false_when_adjtimex_denied(void **state)
{
	pid_t pid;
	int status;

	(void)state;
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ALLOW);

		if (!ctx ||
		    seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(adjtimex), 0) < 0 ||
		    seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(clock_adjtime), 0) < 0 ||
		    seccomp_load(ctx) < 0)
			_exit(3);
		struct timex tx = { 0 };
		if (adjtimex(&tx) != -1 || errno != EPERM)
			_exit(4);	/* the filter did not bite: the test proves nothing */
		_exit(clock_synced() ? 1 : 0);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_synced_matches_kernel),
		cmocka_unit_test(test_synced_false_when_adjtimex_denied),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
