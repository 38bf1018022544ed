/* SPDX-License-Identifier: Apache-2.0 */
/*
 * timer: a sorted singly linked list through the timers themselves. A
 * callback may arm or cancel any timer of its set, so timer_run never holds
 * on to a list position across a callback: it looks for the next due timer
 * from the head each time. Each timer runs at most once per pass, which is
 * what ends a pass whose callbacks keep arming timers in the past.
 */
#include <stddef.h>

#include "timer.h"

void
timer_set_init(struct timer_set *set)
{
	set->armed = NULL;
	set->pass = 0;
}

void
timer_init(struct timer *t, struct timer_set *set, timer_fn *fn, void *arg)
{
	*t = (struct timer){ .set = set, .fn = fn, .arg = arg, .when = TIMER_NEVER };
}

void
timer_cancel(struct timer *t)
{
	struct timer **pp;

	if (!t->armed)
		return;
	for (pp = &t->set->armed; *pp != t; pp = &(*pp)->next)
		;
	*pp = t->next;
	t->next = NULL;
	t->armed = false;
}

void
timer_arm(struct timer *t, int64_t when)
{
	struct timer **pp;

	timer_cancel(t);
	/* After every timer with the same deadline: equal deadlines run in
	 * the order they were armed. */
	for (pp = &t->set->armed; *pp && (*pp)->when <= when; pp = &(*pp)->next)
		;
	t->when = when;
	t->slack = 0;
	t->next = *pp;
	*pp = t;
	t->armed = true;
}

void
timer_arm_slack(struct timer *t, int64_t when, int64_t slack)
{
	timer_arm(t, when);
	t->slack = slack > 0 ? slack : 0;
}

void
timer_arm_in(struct timer *t, int64_t now, int64_t delay)
{
	timer_arm(t, delay > 0 && now > TIMER_NEVER - delay ? TIMER_NEVER : now + delay);
}

bool
timer_armed(const struct timer *t)
{
	return t->armed;
}

int64_t
timer_when(const struct timer *t)
{
	return t->when;
}

int64_t
timer_next(const struct timer_set *set)
{
	return set->armed ? set->armed->when : TIMER_NEVER;
}

/* The earliest timer due at now that has not run in this pass, or NULL. */
/* When t may run: its deadline less its slack (no lower than INT64_MIN). */
static int64_t
earliest(const struct timer *t)
{
	return t->when < INT64_MIN + t->slack ? INT64_MIN : t->when - t->slack;
}

/* The first timer of the pass to run: due, or within its slack. The list
 * is sorted by deadline, not by earliest, so it is walked to its end; it
 * holds a handful of timers. */
static struct timer *
next_due(const struct timer_set *set, int64_t now)
{
	for (struct timer *t = set->armed; t; t = t->next)
		if (t->ran_in != set->pass && (t->when <= now || earliest(t) <= now))
			return t;
	return NULL;
}

unsigned
timer_run(struct timer_set *set, int64_t now)
{
	struct timer *t;
	unsigned n = 0;

	set->pass++;
	while ((t = next_due(set, now)) != NULL) {
		timer_cancel(t);
		t->ran_in = set->pass;
		t->fn(t, t->arg, now);
		n++;
	}
	return n;
}
