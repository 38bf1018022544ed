/* SPDX-License-Identifier: Apache-2.0 */
/*
 * clock-poke: reads the clock the way the daemons do, for the fakeclock
 * preload's own test. Its arguments are operations run in order, each
 * printing one line:
 *
 *   synced          adjtimex (modes 0): "synced 1|0 status 0xS ret R"
 *   ntp             the same through ntp_adjtime
 *   clock           the same through clock_adjtime(CLOCK_REALTIME)
 *   realtime        "realtime S" (clock_gettime CLOCK_REALTIME, seconds)
 *   wall            "wall S S" (gettimeofday, time)
 *   mono            "mono S" (CLOCK_MONOTONIC, never shifted)
 *   sleep MS        nanosleep
 *   sandbox         a seccomp allow-list as strict as a daemon's after
 *                   start-up, without adjtimex/clock_adjtime (kill on
 *                   anything else): the preload must answer on its own
 */
#include <errno.h>
#include <seccomp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <sys/timex.h>
#include <time.h>

static void
show_timex(const char *what, int r, const struct timex *tx)
{
	if (r < 0) {
		printf("%s error %s\n", what, strerror(errno));
		return;
	}
	printf("%s %d status 0x%x ret %d\n", what,
	    r != TIME_ERROR && !(tx->status & STA_UNSYNC), (unsigned)tx->status, r);
}

static void
sandbox(void)
{
	static const char *const allow[] = {
		"read", "write", "close", "fstat", "newfstatat", "statx", "openat", "lseek",
		"clock_gettime", "gettimeofday", "time", "clock_nanosleep", "nanosleep",
		"exit_group", "exit", "brk", "mmap", "munmap", "futex", "rt_sigreturn",
		"rt_sigprocmask",
	};
	scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_KILL_PROCESS);
	int rc = ctx == NULL ? -ENOMEM : 0;

	for (size_t i = 0; i < sizeof(allow) / sizeof(allow[0]) && rc == 0; i++) {
		int nr = seccomp_syscall_resolve_name(allow[i]);

		if (nr != __NR_SCMP_ERROR)
			rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nr, 0);
	}
	if (rc == 0)
		rc = seccomp_load(ctx);
	seccomp_release(ctx);
	if (rc < 0) {
		fprintf(stderr, "clock-poke: seccomp: %s\n", strerror(-rc));
		exit(2);
	}
	printf("sandbox ok\n");
}

int
main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	for (int i = 1; i < argc; i++) {
		struct timex tx = { 0 };
		struct timespec ts;
		struct timeval tv;

		if (strcmp(argv[i], "synced") == 0) {
			show_timex("synced", adjtimex(&tx), &tx);
		} else if (strcmp(argv[i], "ntp") == 0) {
			show_timex("ntp", ntp_adjtime(&tx), &tx);
		} else if (strcmp(argv[i], "clock") == 0) {
			show_timex("clock", clock_adjtime(CLOCK_REALTIME, &tx), &tx);
		} else if (strcmp(argv[i], "realtime") == 0) {
			clock_gettime(CLOCK_REALTIME, &ts);
			printf("realtime %lld\n", (long long)ts.tv_sec);
		} else if (strcmp(argv[i], "wall") == 0) {
			gettimeofday(&tv, NULL);
			printf("wall %lld %lld\n", (long long)tv.tv_sec, (long long)time(NULL));
		} else if (strcmp(argv[i], "mono") == 0) {
			clock_gettime(CLOCK_MONOTONIC, &ts);
			printf("mono %lld\n", (long long)ts.tv_sec);
		} else if (strcmp(argv[i], "sleep") == 0 && i + 1 < argc) {
			long ms = strtol(argv[++i], NULL, 10);
			struct timespec d = { ms / 1000, (ms % 1000) * 1000000L };

			nanosleep(&d, NULL);
		} else if (strcmp(argv[i], "sandbox") == 0) {
			sandbox();
		} else {
			fprintf(stderr, "clock-poke: unknown operation %s\n", argv[i]);
			return 2;
		}
	}
	return 0;
}
