/* SPDX-License-Identifier: Apache-2.0 */
/*
 * timefix: the true time of a record taken before the clock was
 * synchronised. A Pi has no real-time clock: until NTP syncs, the wall
 * clock runs from the last saved time and sensord marks its records
 * synced: false. Each record also carries CLOCK_BOOTTIME (boot_ns) and the
 * boot's id; CLOCK_BOOTTIME never jumps, so once this process's clock is
 * synchronised, a record of the same boot was taken at
 *	realtime_now - (boottime_now - boot_ns).
 * Records of another boot cannot be placed (that boot's offset is gone)
 * and keep their time. The journal is never rewritten: the correction is
 * made each time the row is formatted, so a replay may differ by the
 * clock's drift in between, and the offset token still de-duplicates it.
 */
#ifndef STREAMERD_TIMEFIX_H
#define STREAMERD_TIMEFIX_H

#include <stdbool.h>
#include <stdint.h>

#include "record.h"

enum timefix_verdict {
	TIMEFIX_AS_IS,		/* send the record's own time */
	TIMEFIX_CORRECT,	/* send timefix_time's */
	TIMEFIX_HOLD,		/* not yet: the clock may still sync */
};

struct timefix {
	char boot_id[RECORD_BOOT_ID_LEN];	/* this boot's; "" unknown: nothing corrected */
	int64_t hold_ns;			/* how long a record may be held */
};

/* Reads this boot's id from path (/proc/sys/kernel/random/boot_id); when it
 * cannot be read no record is ever corrected or held. 0 or -errno. */
int timefix_init(struct timefix *tf, const char *path, int64_t hold_ns);
/* What to do with r now, given whether the clock is synchronised and
 * CLOCK_BOOTTIME: correct a record of this boot taken unsynchronised once
 * the clock is, hold it while it is younger than hold_ns and the clock is
 * not, else send it as it is. */
enum timefix_verdict timefix_decide(const struct timefix *tf, const struct record *r,
    bool synced_now, int64_t boottime_now);
/* r's true Unix time in ns, from the clocks read now (realtime then
 * boottime, back to back). */
int64_t timefix_time(const struct record *r, int64_t realtime_now, int64_t boottime_now);

#endif
