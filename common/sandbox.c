/* SPDX-License-Identifier: Apache-2.0 */
/*
 * sandbox: libseccomp does the BPF; this file only turns the caller's table
 * into rules. The base list is deliberately small; each daemon adds what its
 * own loop needs (files, sockets of one family, ioctls by request number).
 */
#include <errno.h>
#include <stdlib.h>
#include <sys/prctl.h>

#include <seccomp.h>

#include "log.h"
#include "sandbox.h"

const struct sandbox_rule sandbox_base[] = {
	SANDBOX_ALLOW("read"), SANDBOX_ALLOW("write"), SANDBOX_ALLOW("readv"),
	SANDBOX_ALLOW("writev"), SANDBOX_ALLOW("pread64"), SANDBOX_ALLOW("pwrite64"),
	SANDBOX_ALLOW("close"), SANDBOX_ALLOW("lseek"), SANDBOX_ALLOW("fstat"),
	SANDBOX_ALLOW("newfstatat"), SANDBOX_ALLOW("fstatat64"), SANDBOX_ALLOW("fstat64"),
	SANDBOX_ALLOW("statx"), SANDBOX_ALLOW("fcntl"), SANDBOX_ALLOW("fcntl64"),
	SANDBOX_ALLOW("brk"), SANDBOX_ALLOW("mmap"), SANDBOX_ALLOW("mmap2"),
	SANDBOX_ALLOW("munmap"), SANDBOX_ALLOW("mremap"), SANDBOX_ALLOW("mprotect"),
	SANDBOX_ALLOW("madvise"), SANDBOX_ALLOW("rt_sigreturn"), SANDBOX_ALLOW("sigreturn"),
	SANDBOX_ALLOW("rt_sigaction"), SANDBOX_ALLOW("rt_sigprocmask"),
	SANDBOX_ALLOW("sigaltstack"), SANDBOX_ALLOW("clock_gettime"),
	SANDBOX_ALLOW("clock_gettime64"), SANDBOX_ALLOW("clock_nanosleep"),
	SANDBOX_ALLOW("clock_nanosleep_time64"), SANDBOX_ALLOW("nanosleep"),
	SANDBOX_ALLOW("gettimeofday"), SANDBOX_ALLOW("poll"), SANDBOX_ALLOW("ppoll"),
	SANDBOX_ALLOW("ppoll_time64"), SANDBOX_ALLOW("futex"), SANDBOX_ALLOW("futex_time64"),
	SANDBOX_ALLOW("getpid"), SANDBOX_ALLOW("gettid"), SANDBOX_ALLOW("getuid"),
	SANDBOX_ALLOW("geteuid"), SANDBOX_ALLOW("getgid"), SANDBOX_ALLOW("getegid"),
	SANDBOX_ALLOW("getrandom"), SANDBOX_ALLOW("exit"), SANDBOX_ALLOW("exit_group"),
	SANDBOX_ALLOW("restart_syscall"), SANDBOX_ALLOW("sched_yield"),
	SANDBOX_ALLOW("tgkill"), SANDBOX_ALLOW("getrlimit"), SANDBOX_ALLOW("prlimit64"),
};
const size_t sandbox_base_len = sizeof(sandbox_base) / sizeof(sandbox_base[0]);

static int
add_rule(scmp_filter_ctx ctx, const struct sandbox_rule *r)
{
	int nr = seccomp_syscall_resolve_name(r->name);

	if (nr == __NR_SCMP_ERROR) {
		log_debug("sandbox: no syscall \"%s\" on this architecture", r->name);
		return 0;
	}
	if (r->arg < 0)
		return seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nr, 0);
	return seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nr, 1,
	    SCMP_CMP((unsigned)r->arg, SCMP_CMP_EQ, r->value));
}

int
sandbox_apply(const struct sandbox_rule *rules, size_t n, bool kill)
{
	scmp_filter_ctx ctx;
	int r = 0;

	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		return -errno;
	ctx = seccomp_init(kill ? SCMP_ACT_KILL_PROCESS : SCMP_ACT_ERRNO(EPERM));
	if (!ctx)
		return -ENOMEM;
	for (size_t i = 0; i < sandbox_base_len && r == 0; i++)
		r = add_rule(ctx, &sandbox_base[i]);
	for (size_t i = 0; i < n && r == 0; i++)
		r = add_rule(ctx, &rules[i]);
	if (r == 0)
		r = seccomp_load(ctx);
	seccomp_release(ctx);
	return r;
}
