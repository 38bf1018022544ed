/* SPDX-License-Identifier: Apache-2.0 */
/*
 * clock: the three clocks snowsense reads, in nanoseconds, and whether the
 * system clock is synchronised (so a record can say its time is trusted).
 */
#ifndef SNOWSENSE_CLOCK_H
#define SNOWSENSE_CLOCK_H

#include <stdbool.h>
#include <stdint.h>

#define NS_PER_MS 1000000LL
#define NS_PER_S 1000000000LL

/* CLOCK_REALTIME as Unix ns. */
int64_t clock_realtime_ns(void);
/* CLOCK_BOOTTIME in ns (counts suspend). */
int64_t clock_boottime_ns(void);
/* CLOCK_MONOTONIC in ns: the clock all deadlines use. */
int64_t clock_mono_ns(void);
/* True when the kernel says the clock is synchronised (adjtimex). */
bool clock_synced(void);

#endif
