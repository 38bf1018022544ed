/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ops-sysfilter: runs a command under a system call allow-list, the way
 * systemd applies a unit's SystemCallFilter= with SystemCallErrorNumber=EPERM:
 * every system call not named in LISTFILE (one name per line) fails with
 * EPERM. The ops tests feed it the expanded filter of the units in
 * config/systemd/, so the daemons are shown to work inside their units'
 * filters without a running systemd.
 *
 *   ops-sysfilter LISTFILE -- COMMAND [ARGS...]
 */
#include <errno.h>
#include <seccomp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int
load_list(scmp_filter_ctx ctx, const char *path)
{
	char line[128];
	FILE *f = fopen(path, "re");
	int n = 0;

	if (!f) {
		fprintf(stderr, "ops-sysfilter: %s: %s\n", path, strerror(errno));
		return -1;
	}
	while (fgets(line, sizeof(line), f)) {
		int nr;

		line[strcspn(line, " \t\r\n")] = '\0';
		if (line[0] == '\0' || line[0] == '#')
			continue;
		nr = seccomp_syscall_resolve_name(line);
		if (nr == __NR_SCMP_ERROR)
			continue;	/* not on this architecture, as systemd skips it */
		if (seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nr, 0) == 0)
			n++;
	}
	fclose(f);
	return n;
}

int
main(int argc, char **argv)
{
	scmp_filter_ctx ctx;
	int n;

	if (argc < 4 || strcmp(argv[2], "--") != 0) {
		fprintf(stderr, "usage: ops-sysfilter LISTFILE -- COMMAND [ARGS...]\n");
		return 2;
	}
	ctx = seccomp_init(SCMP_ACT_ERRNO(EPERM));
	if (!ctx)
		return 1;
	/* systemd always lets these through so the service can exec and exit */
	seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(execve), 0);
	seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(exit_group), 0);
	n = load_list(ctx, argv[1]);
	if (n <= 0) {
		fprintf(stderr, "ops-sysfilter: no system calls allowed by %s\n", argv[1]);
		return 1;
	}
	if (seccomp_load(ctx) < 0) {
		fprintf(stderr, "ops-sysfilter: cannot load the filter\n");
		return 1;
	}
	seccomp_release(ctx);
	execvp(argv[3], argv + 3);
	fprintf(stderr, "ops-sysfilter: %s: %s\n", argv[3], strerror(errno));
	return 127;
}
