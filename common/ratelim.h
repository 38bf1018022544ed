/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ratelim: turns a flood of similar log lines into a few lines and a count.
 * A limiter lets `burst` events through per window; the events over that
 * are counted, and the count is handed back with the next event let
 * through or, once the window is over, by ratelim_flush, so the caller can
 * say "N more were suppressed". Nothing here logs: the caller words its
 * lines (common/ never logs above debug).
 */
#ifndef SNOWSENSE_RATELIM_H
#define SNOWSENSE_RATELIM_H

#include <stdbool.h>
#include <stdint.h>

struct ratelim {
	int64_t window_ns;	/* length of a window */
	unsigned burst;		/* events let through per window */
	int64_t start;		/* CLOCK_MONOTONIC ns the window began; 0: none yet */
	unsigned used;		/* events let through in this window */
	uint64_t suppressed;	/* events held back and not reported yet */
};

/* A limiter of burst events per window_ns, for a static or member initialiser. */
#define RATELIM_INIT(window_ns, burst) { (window_ns), (burst), 0, 0, 0 }

/* One event at now (CLOCK_MONOTONIC ns). true: log it, and *ret_suppressed
 * (may be NULL) gets how many events were held back since the last report
 * (the count is then reported). false: held back and counted. */
bool ratelim_allow(struct ratelim *rl, int64_t now, uint64_t *ret_suppressed);
/* The events held back in a window that is over at now, reported once:
 * the count (reset to 0), or 0 when there is nothing to report yet. */
uint64_t ratelim_flush(struct ratelim *rl, int64_t now);
/* When ratelim_flush will have a count to report: the end of the current
 * window when events were held back in it, else INT64_MAX. */
int64_t ratelim_deadline(const struct ratelim *rl);

#endif
