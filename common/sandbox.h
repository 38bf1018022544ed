/* SPDX-License-Identifier: Apache-2.0 */
/*
 * sandbox: the last step of both daemons' start-up — PR_SET_NO_NEW_PRIVS and
 * a seccomp allow-list the caller describes as data. Anything not allowed
 * fails with EPERM (or kills the process, if the caller asks), so a missing
 * rule shows up as a clean error in the log rather than a silent hole.
 */
#ifndef SNOWSENSE_SANDBOX_H
#define SNOWSENSE_SANDBOX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Allow syscall `name`; when arg >= 0 only when argument number arg equals
 * value (several rules for one syscall are alternatives). Names the running
 * architecture does not have (e.g. "open" on arm64) are skipped. */
struct sandbox_rule {
	const char *name;
	int arg;
	uint64_t value;
};

#define SANDBOX_ALLOW(n) { n, -1, 0 }
#define SANDBOX_ALLOW_ARG(n, a, v) { n, a, (uint64_t)(v) }

/* What any single-threaded libc program here needs: memory, signals,
 * clocks, poll, read/write/close on open fds, exit. */
extern const struct sandbox_rule sandbox_base[];
extern const size_t sandbox_base_len;

/* Sets no-new-privs and loads sandbox_base plus rules[0..n). kill selects
 * SCMP_ACT_KILL_PROCESS instead of EPERM for everything else. Returns 0 or
 * -errno; on failure nothing may be assumed about the filter. */
int sandbox_apply(const struct sandbox_rule *rules, size_t n, bool kill);

#endif
