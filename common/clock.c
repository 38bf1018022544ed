/* SPDX-License-Identifier: Apache-2.0 */
/*
 * clock: thin wrappers so every caller reads clocks the same way.
 */
#include <sys/timex.h>
#include <time.h>

#include "clock.h"

static int64_t
read_clock(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (int64_t)ts.tv_sec * NS_PER_S + ts.tv_nsec;
}

int64_t clock_realtime_ns(void) { return read_clock(CLOCK_REALTIME); }
int64_t clock_boottime_ns(void) { return read_clock(CLOCK_BOOTTIME); }
int64_t clock_mono_ns(void) { return read_clock(CLOCK_MONOTONIC); }

bool
clock_synced(void)
{
	struct timex tx = { 0 };
	int r;

	/* adjtimex with modes 0 only reads; TIME_ERROR means unsynchronised.
	 * A failed call (EPERM under systemd's ProtectClock= or a seccomp
	 * filter) proves nothing, so it is not synchronised either. */
	r = adjtimex(&tx);
	return r >= 0 && r != TIME_ERROR && !(tx.status & STA_UNSYNC);
}
