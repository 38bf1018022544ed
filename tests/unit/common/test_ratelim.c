/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ratelim: a lone event passes at once, a flood passes `burst` per window
 * and the rest comes back as one count, either with the next event let
 * through or from ratelim_flush once the window is over, never twice.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "clock.h"
#include "ratelim.h"

#define W (10 * NS_PER_S)

static void
test_lone_event_passes(void **state)
{
	struct ratelim rl = RATELIM_INIT(W, 3);
	uint64_t n = 99;

	(void)state;
	assert_true(ratelim_allow(&rl, 5 * NS_PER_S, &n));
	assert_int_equal(n, 0);
	assert_int_equal(ratelim_deadline(&rl), INT64_MAX);
	assert_int_equal(ratelim_flush(&rl, 100 * NS_PER_S), 0);
	/* also at time 0 (a window start of 0 means "none") */
	rl = (struct ratelim)RATELIM_INIT(W, 1);
	assert_true(ratelim_allow(&rl, 0, NULL));
	assert_false(ratelim_allow(&rl, 1, NULL));
}

static void
test_flood_counted_then_flushed(void **state)
{
	struct ratelim rl = RATELIM_INIT(W, 3);
	int64_t t = 1000;
	unsigned passed = 0;

	(void)state;
	for (int i = 0; i < 303500; i++)
		passed += ratelim_allow(&rl, t + i, NULL);
	assert_int_equal(passed, 3);
	assert_int_equal(ratelim_deadline(&rl), 1000 + W);
	assert_int_equal(ratelim_flush(&rl, 1000 + W - 1), 0);	/* not over yet */
	assert_int_equal(ratelim_flush(&rl, 1000 + W), 303497);
	assert_int_equal(ratelim_flush(&rl, 1000 + 2 * W), 0);	/* reported once */
	assert_int_equal(ratelim_deadline(&rl), INT64_MAX);
}

static void
test_count_rides_on_next_event(void **state)
{
	struct ratelim rl = RATELIM_INIT(W, 1);
	uint64_t n = 0;

	(void)state;
	assert_true(ratelim_allow(&rl, NS_PER_S, &n));
	assert_false(ratelim_allow(&rl, 2 * NS_PER_S, &n));
	assert_false(ratelim_allow(&rl, 3 * NS_PER_S, &n));
	/* next window: let through, carrying the two held back */
	assert_true(ratelim_allow(&rl, NS_PER_S + W, &n));
	assert_int_equal(n, 2);
	assert_int_equal(ratelim_flush(&rl, 5 * W), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_lone_event_passes),
		cmocka_unit_test(test_flood_counted_then_flushed),
		cmocka_unit_test(test_count_rides_on_next_event),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
