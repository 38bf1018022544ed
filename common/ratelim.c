/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ratelim: fixed windows that start at the first event after a quiet
 * spell, so a lone event is always logged at once and a flood costs
 * `burst` lines per window plus one count when it stops.
 */
#include <stddef.h>

#include "ratelim.h"

static bool
window_over(const struct ratelim *rl, int64_t now)
{
	return rl->start == 0 || now - rl->start >= rl->window_ns;
}

bool
ratelim_allow(struct ratelim *rl, int64_t now, uint64_t *ret_suppressed)
{
	if (window_over(rl, now)) {
		rl->start = now ? now : 1;
		rl->used = 0;
	}
	if (rl->used >= rl->burst) {
		rl->suppressed++;
		return false;
	}
	rl->used++;
	if (ret_suppressed)
		*ret_suppressed = rl->suppressed;
	rl->suppressed = 0;
	return true;
}

uint64_t
ratelim_flush(struct ratelim *rl, int64_t now)
{
	uint64_t n;

	if (rl->suppressed == 0 || !window_over(rl, now))
		return 0;
	n = rl->suppressed;
	rl->suppressed = 0;
	return n;
}

int64_t
ratelim_deadline(const struct ratelim *rl)
{
	return rl->suppressed ? rl->start + rl->window_ns : INT64_MAX;
}
