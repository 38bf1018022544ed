/* SPDX-License-Identifier: Apache-2.0 */
/*
 * timer: due timers run earliest first (equal deadlines in arming order),
 * exactly once per timer_run; callbacks may re-arm themselves, arm others
 * or cancel others; far-future deadlines neither fire nor overflow; a timer
 * with slack runs early only when the loop is awake anyway.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "timer.h"

#define NT 6

struct fixture {
	struct timer_set set;
	struct timer t[NT];
	char log[64];		/* one letter per callback run, 'a' + index */
	size_t nlog;
	int64_t period[NT];	/* > 0: the callback re-arms at when + period */
	struct timer *arm_other;	/* the callback of t[0] arms this ... */
	int64_t arm_other_at;		/* ... for this deadline */
	struct timer *cancel_other;	/* the callback of t[0] cancels this */
};

static void
on_timer(struct timer *t, void *arg, int64_t now)
{
	struct fixture *f = arg;
	size_t i = (size_t)(t - f->t);

	assert_false(timer_armed(t));
	assert_true(timer_when(t) <= now || timer_when(t) - now <= t->slack);	/* or in its slack */
	if (f->nlog < sizeof(f->log) - 1)
		f->log[f->nlog++] = (char)('a' + i);
	if (f->period[i] > 0)
		timer_arm(t, timer_when(t) + f->period[i]);
	if (i == 0 && f->arm_other)
		timer_arm(f->arm_other, f->arm_other_at);
	if (i == 0 && f->cancel_other)
		timer_cancel(f->cancel_other);
}

static struct fixture *
fixture(void)
{
	static struct fixture f;

	memset(&f, 0, sizeof(f));
	timer_set_init(&f.set);
	for (size_t i = 0; i < NT; i++)
		timer_init(&f.t[i], &f.set, on_timer, &f);
	return &f;
}

static const char *
ran(struct fixture *f)
{
	f->log[f->nlog] = '\0';
	f->nlog = 0;
	return f->log;
}

static void
test_empty(void **state)
{
	struct fixture *f = fixture();

	(void)state;
	assert_int_equal(timer_next(&f->set), TIMER_NEVER);
	assert_int_equal(timer_run(&f->set, 1000), 0);
	assert_false(timer_armed(&f->t[0]));
	timer_cancel(&f->t[0]);	/* cancelling a disarmed timer is harmless */
	assert_int_equal(timer_next(&f->set), TIMER_NEVER);
}

static void
test_order_by_deadline(void **state)
{
	struct fixture *f = fixture();

	(void)state;
	timer_arm(&f->t[0], 300);
	timer_arm(&f->t[1], 100);
	timer_arm(&f->t[2], 200);
	timer_arm(&f->t[3], 400);
	assert_int_equal(timer_next(&f->set), 100);
	assert_int_equal(timer_run(&f->set, 99), 0);
	assert_int_equal(timer_run(&f->set, 300), 3);
	assert_string_equal(ran(f), "bca");
	assert_int_equal(timer_next(&f->set), 400);
	assert_true(timer_armed(&f->t[3]));
	assert_int_equal(timer_run(&f->set, 1000), 1);
	assert_string_equal(ran(f), "d");
	assert_int_equal(timer_next(&f->set), TIMER_NEVER);
	assert_int_equal(timer_when(&f->t[3]), 400);	/* the deadline it ran at */
}

static void
test_equal_deadlines_in_arming_order(void **state)
{
	struct fixture *f = fixture();

	(void)state;
	timer_arm(&f->t[3], 50);
	timer_arm(&f->t[1], 50);
	timer_arm(&f->t[2], 50);
	timer_arm(&f->t[0], 40);
	timer_arm(&f->t[4], 60);
	/* re-arming moves a timer behind the others with its deadline */
	timer_arm(&f->t[3], 50);
	assert_int_equal(timer_run(&f->set, 60), 5);
	assert_string_equal(ran(f), "abcde");
}

static void
test_rearm_replaces_deadline(void **state)
{
	struct fixture *f = fixture();

	(void)state;
	timer_arm(&f->t[0], 100);
	timer_arm(&f->t[0], 500);
	timer_arm(&f->t[1], 200);
	assert_int_equal(timer_next(&f->set), 200);
	assert_int_equal(timer_run(&f->set, 400), 1);
	assert_string_equal(ran(f), "b");
	timer_arm(&f->t[0], 150);	/* earlier again */
	assert_int_equal(timer_next(&f->set), 150);
	timer_arm_in(&f->t[1], 1000, 5);
	assert_int_equal(timer_when(&f->t[1]), 1005);
}

static void
test_periodic_rearm_from_callback(void **state)
{
	struct fixture *f = fixture();

	(void)state;
	f->period[0] = 100;
	timer_arm(&f->t[0], 100);
	/* a late turn runs the timer once, not once per missed period, and
	 * the re-armed deadline (200, already past) waits for the next turn */
	assert_int_equal(timer_run(&f->set, 350), 1);
	assert_string_equal(ran(f), "a");
	assert_int_equal(timer_next(&f->set), 200);
	assert_int_equal(timer_run(&f->set, 350), 1);
	assert_int_equal(timer_next(&f->set), 300);
	assert_int_equal(timer_run(&f->set, 350), 1);
	assert_int_equal(timer_next(&f->set), 400);
	assert_int_equal(timer_run(&f->set, 350), 0);
	assert_string_equal(ran(f), "aa");
}

static void
test_callback_arms_and_cancels_others(void **state)
{
	struct fixture *f = fixture();

	(void)state;
	/* t[0] arms t[4] in the past: it runs in the same pass, after t[0]
	 * and in deadline order with the rest; t[0] cancels t[2], due too */
	f->arm_other = &f->t[4];
	f->arm_other_at = 5;
	f->cancel_other = &f->t[2];
	timer_arm(&f->t[0], 1);
	timer_arm(&f->t[1], 10);
	timer_arm(&f->t[2], 3);
	timer_arm(&f->t[3], 500);
	assert_int_equal(timer_run(&f->set, 100), 3);
	assert_string_equal(ran(f), "aeb");
	assert_false(timer_armed(&f->t[2]));
	assert_int_equal(timer_next(&f->set), 500);
	/* a cancelled timer can be armed again */
	f->arm_other = NULL;
	f->cancel_other = NULL;
	timer_arm(&f->t[2], 600);
	timer_cancel(&f->t[3]);
	assert_int_equal(timer_next(&f->set), 600);
	assert_int_equal(timer_run(&f->set, 600), 1);
	assert_string_equal(ran(f), "c");
}

static void
test_far_future(void **state)
{
	struct fixture *f = fixture();

	(void)state;
	timer_arm_in(&f->t[0], INT64_MAX - 10, 100);	/* saturates, no overflow */
	assert_int_equal(timer_when(&f->t[0]), TIMER_NEVER);
	timer_arm(&f->t[1], INT64_MAX - 1);
	timer_arm(&f->t[2], 7);
	assert_int_equal(timer_next(&f->set), 7);
	assert_int_equal(timer_run(&f->set, INT64_MAX - 2), 1);
	assert_string_equal(ran(f), "c");
	assert_int_equal(timer_next(&f->set), INT64_MAX - 1);
	assert_true(timer_armed(&f->t[0]));
	assert_true(timer_armed(&f->t[1]));
}

/* Slack: a timer may run early when the loop is awake anyway, never wakes
 * it early, and timer_arm takes the slack away again. */
static void
test_slack_rides_on_other_wakeups(void **state)
{
	struct fixture *f = fixture();

	(void)state;
	timer_arm_slack(&f->t[0], 1000, 600);	/* may run from 400 on */
	timer_arm(&f->t[1], 500);
	assert_int_equal(timer_next(&f->set), 500);	/* slack wakes nobody */
	assert_int_equal(timer_run(&f->set, 300), 0);	/* too early for it */
	assert_int_equal(timer_run(&f->set, 500), 2);	/* awake for b: a too */
	assert_string_equal(ran(f), "ba");
	assert_int_equal(timer_next(&f->set), TIMER_NEVER);
	/* a wake-up for something else (timer_run with nothing due) serves it */
	timer_arm_slack(&f->t[0], 2000, 500);
	assert_int_equal(timer_run(&f->set, 1600), 1);
	assert_string_equal(ran(f), "a");
	/* re-armed without slack: only at its deadline */
	timer_arm_slack(&f->t[0], 3000, 500);
	timer_arm(&f->t[0], 3000);
	assert_int_equal(timer_run(&f->set, 2900), 0);
	assert_int_equal(timer_run(&f->set, 3000), 1);
	/* slack reaching below INT64_MIN does not wrap */
	timer_arm_slack(&f->t[2], INT64_MIN + 5, 100);
	assert_int_equal(timer_run(&f->set, INT64_MIN), 1);
	assert_string_equal(ran(f), "ac");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_empty),
		cmocka_unit_test(test_order_by_deadline),
		cmocka_unit_test(test_equal_deadlines_in_arming_order),
		cmocka_unit_test(test_rearm_replaces_deadline),
		cmocka_unit_test(test_periodic_rearm_from_callback),
		cmocka_unit_test(test_callback_arms_and_cancels_others),
		cmocka_unit_test(test_far_future),
		cmocka_unit_test(test_slack_rides_on_other_wakeups),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
