/* SPDX-License-Identifier: Apache-2.0 */
/*
 * sandbox: a child process applies an allow-list and proves that what is
 * allowed works and what is not fails with EPERM (or is killed).
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "sandbox.h"

/* valgrind does not implement the seccomp syscall: nothing to test there. */
static void
skip_under_valgrind(void)
{
	if (getenv("RUNNING_UNDER_VALGRIND"))
		skip();
}

/* Runs fn in a child after applying rules; returns the child's wait status. */
static int
in_child(const struct sandbox_rule *rules, size_t n, bool kill, int (*fn)(void))
{
	int status;
	pid_t pid = fork();

	assert_true(pid >= 0);
	if (pid == 0) {
		if (sandbox_apply(rules, n, kill) < 0)
			_exit(100);
		_exit(fn());
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	return status;
}

static int
try_sockets(void)
{
	int u = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	int i = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	int e = errno;

	if (u < 0)
		return 1;	/* AF_UNIX was allowed and must work */
	close(u);
	if (i >= 0) {
		close(i);
		return 2;	/* AF_INET must fail ... */
	}
	return e == EPERM ? 0 : 2;	/* ... with EPERM */
}

static void
test_socket_family_filter(void **state)
{
	static const struct sandbox_rule rules[] = {
		SANDBOX_ALLOW_ARG("socket", 0, AF_UNIX),
	};
	int st;

	(void)state;
	skip_under_valgrind();
	st = in_child(rules, 1, false, try_sockets);
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 0);
}

static int
try_open(void)
{
	return open("/dev/null", O_RDONLY | O_CLOEXEC) >= 0 ? 3 : 0;
}

static void
test_kill_mode(void **state)
{
	int st;

	(void)state;
	skip_under_valgrind();
	/* neither open nor openat is allowed: the process is killed by SIGSYS */
	st = in_child(NULL, 0, true, try_open);
	assert_true(WIFSIGNALED(st));
	assert_int_equal(WTERMSIG(st), SIGSYS);
}

static void
test_unknown_names_skipped(void **state)
{
	static const struct sandbox_rule rules[] = {
		SANDBOX_ALLOW("no_such_syscall_here"),
		SANDBOX_ALLOW("socket"),
	};
	int st;

	(void)state;
	skip_under_valgrind();
	/* with socket fully allowed, AF_INET works, so try_sockets reports 2 */
	st = in_child(rules, 2, false, try_sockets);
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 2);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_socket_family_filter),
		cmocka_unit_test(test_kill_mode),
		cmocka_unit_test(test_unknown_names_skipped),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
