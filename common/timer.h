/* SPDX-License-Identifier: Apache-2.0 */
/*
 * timer: a daemon loop's deadlines kept in one place, as Redis's ae time
 * events and chrony's sched timeouts are. Each deadline is a struct timer
 * the caller owns (usually a member of its daemon struct) with a callback;
 * the loop sleeps until timer_next() and then calls timer_run() with the
 * one CLOCK_MONOTONIC time it read for that turn.
 *
 * Nothing here allocates: timers are linked into their set through their
 * own storage, so a set holds exactly the timers its owner declared and a
 * tick costs no memory. The armed timers form a list sorted by deadline,
 * which stays a handful of entries long in a daemon (arm is O(n), next is
 * O(1)).
 *
 * A timer may be given slack: it may run that much before its deadline if
 * the loop is awake anyway (timer_run runs it with whatever is due, or
 * with whatever woke the loop), so housekeeping rides on the wake-ups that
 * real work needs instead of adding its own. timer_next() is still the
 * earliest deadline: slack never wakes the loop earlier.
 */
#ifndef SNOWSENSE_TIMER_H
#define SNOWSENSE_TIMER_H

#include <stdbool.h>
#include <stdint.h>

#define TIMER_NEVER INT64_MAX	/* timer_next() when nothing is armed */

struct timer;
struct timer_set;

/* Called once when the timer is due, already disarmed (re-arm it to make it
 * periodic); now is the time the loop passed to timer_run. */
typedef void timer_fn(struct timer *t, void *arg, int64_t now);

/* Members are private to timer.c; they are visible only so a timer can live
 * inside its owner's struct. */
struct timer {
	struct timer_set *set;
	timer_fn *fn;
	void *arg;
	int64_t when;		/* the deadline it has, or had when it last ran */
	int64_t slack;		/* how much earlier it may run (timer_arm_slack) */
	bool armed;
	uint64_t ran_in;	/* the timer_run pass that last ran it */
	struct timer *next;	/* in set->armed, sorted by when */
};

struct timer_set {
	struct timer *armed;	/* earliest first; equal deadlines in arming order */
	uint64_t pass;		/* timer_run calls so far */
};

/* Starts an empty set. */
void timer_set_init(struct timer_set *set);
/* Ties t (borrowed: must outlive its use in set) to set and fn(t, arg, now),
 * disarmed. */
void timer_init(struct timer *t, struct timer_set *set, timer_fn *fn, void *arg);
/* Arms t for CLOCK_MONOTONIC ns when, replacing any deadline it had. A
 * deadline in the past runs at the next timer_run. */
void timer_arm(struct timer *t, int64_t when);
/* Arms t for now + delay, saturating at TIMER_NEVER. */
void timer_arm_in(struct timer *t, int64_t now, int64_t delay);
/* Arms t for when, letting timer_run run it up to slack ns (>= 0) earlier:
 * from when - slack on, any timer_run call runs it. timer_arm and
 * timer_arm_in arm without slack. */
void timer_arm_slack(struct timer *t, int64_t when, int64_t slack);
/* Disarms t; harmless when it is not armed. */
void timer_cancel(struct timer *t);
/* True while t is armed. */
bool timer_armed(const struct timer *t);
/* The deadline t has while armed, or the one it ran at last (for timers that
 * keep a grid: timer_arm(t, timer_when(t) + period) from the callback). */
int64_t timer_when(const struct timer *t);
/* The earliest armed deadline, or TIMER_NEVER. */
int64_t timer_next(const struct timer_set *set);
/* Runs every timer due at now, earliest deadline first and equal deadlines
 * in arming order, and every timer whose slack reaches now; a timer a
 * callback arms for now or earlier (itself included) runs in the same call
 * unless it already ran in it, so a call always ends. Returns how many
 * callbacks ran. */
unsigned timer_run(struct timer_set *set, int64_t now);

#endif
