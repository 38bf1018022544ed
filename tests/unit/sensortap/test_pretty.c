/* SPDX-License-Identifier: Apache-2.0 */
/*
 * pretty: the line of a record as people read it, in UTC so the test is
 * the same anywhere: local ISO time, values rounded with their units (Pa
 * as hPa), a chip without a sample by its state, the same columns whatever
 * the values and nulls, faults and an unsynchronised clock at the end;
 * and the chips and values come from the field table, not from names.
 */
#include <errno.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "pretty.h"

#define T0 1796622910000000000LL	/* 2026-12-07T05:55:10Z */

static struct record
rec(uint64_t seq)
{
	struct record r = { .seq = seq, .t = T0 + (int64_t)seq * 1000000000, .synced = true,
		.has_scd4x = true, .has_sgp30 = true, .has_icp10125 = true };

	snprintf(r.device, sizeof(r.device), "pi-1");
	r.scd4x = (struct rec_scd4x){ .co2 = 627, .t = 21.8276, .rh = 44.0696, .t_meas = r.t,
		.has_co2 = true };
	r.sgp30 = (struct rec_sgp30){ .eco2 = 437, .tvoc = 24, .t_meas = r.t };
	r.icp10125 = (struct rec_icp10125){ .p = 100736.9975, .t = 21.3006, .t_meas = r.t };
	return r;
}

static const char *
line(const struct record *r)
{
	static char buf[1024];

	assert_true(pretty_line(r, false, buf, sizeof(buf)) > 0);
	return buf;
}

static int
setup(void **state)
{
	(void)state;
	setenv("TZ", "UTC", 1);
	tzset();
	return 0;
}

static void
test_values_and_units(void **state)
{
	struct record r = rec(3);

	(void)state;
	assert_string_equal(line(&r), "2026-12-07T05:55:13+00:00  seq 3         "
	    "scd4x   627 ppm   21.8 °C   44.1 %RH  sgp30   437 ppm     24 ppb  "
	    "icp10125 1007.37 hPa   21.3 °C");
}

static void
test_nulls_keep_the_columns(void **state)
{
	struct record a = rec(9), b = rec(10);
	char la[1024], lb[1024];
	const char *icp_a, *icp_b;

	(void)state;
	b.has_scd4x = false;
	b.has_sgp30 = false;
	b.icp10125.p = 100.0;	/* a far smaller value: the column stays */
	snprintf(la, sizeof(la), "%s", line(&a));
	snprintf(lb, sizeof(lb), "%s", line(&b));
	assert_non_null(strstr(lb, "scd4x no sample "));
	assert_non_null(strstr(lb, "sgp30 no sample "));
	icp_a = strstr(la, "icp10125");
	icp_b = strstr(lb, "icp10125");
	assert_non_null(icp_a);
	assert_non_null(icp_b);
	assert_non_null(strstr(icp_b, "icp10125    1.00 hPa"));
	/* the same column, though "°C" takes more bytes than "no sample" */
	la[icp_a - la] = '\0';
	lb[icp_b - lb] = '\0';
	assert_int_equal(text_cols(la), text_cols(lb));
	assert_int_not_equal(strlen(la), strlen(lb));
}

static void
test_faults_and_clock(void **state)
{
	struct record r = rec(4);

	(void)state;
	r.synced = false;
	r.has_icp10125 = false;
	record_add_fault(&r, "icp10125: no answer (nack)");
	record_add_fault(&r, "icp10125: no answer (nack)");	/* said once */
	assert_non_null(strstr(line(&r), "icp10125 no sample"));
	assert_string_equal(strstr(line(&r), "icp10125 no sample") + 18,
	    "              icp10125: no answer (nack); clock not synchronised");
}

/* Each chip's state as the record says it: in the chip's slot when it has
 * no values, and a failing chip's since and error after the columns. */
static void
test_states(void **state)
{
	struct record r = rec(6);
	const char *l;

	(void)state;
	snprintf(r.scd4x_st.state, sizeof(r.scd4x_st.state), RECORD_OK);
	r.scd4x_st.has_state = true;
	snprintf(r.sgp30_st.state, sizeof(r.sgp30_st.state), RECORD_WARMING_UP);
	r.sgp30_st.has_state = true;
	r.has_sgp30 = false;
	snprintf(r.icp10125_st.state, sizeof(r.icp10125_st.state), RECORD_RETRYING);
	snprintf(r.icp10125_st.error, sizeof(r.icp10125_st.error), "no answer (nack)");
	r.icp10125_st.since = T0 + 2 * 1000000000LL;
	r.icp10125_st.has_state = r.icp10125_st.has_since = r.icp10125_st.has_error = true;
	r.has_icp10125 = false;
	record_add_fault(&r, "icp10125: no answer (nack)");	/* said by since/error */
	record_add_fault(&r, "icp10125: nack on measure");
	l = line(&r);
	assert_non_null(strstr(l, "scd4x   627 ppm"));
	assert_non_null(strstr(l, "sgp30 warming up "));
	assert_non_null(strstr(l, "icp10125 retrying "));
	assert_non_null(strstr(l, "  icp10125 since 05:55:12: no answer (nack); "
	    "icp10125: nack on measure"));
	assert_null(strstr(l, "icp10125: no answer"));
	assert_null(strstr(l, "scd4x since"));
}

static void
test_color(void **state)
{
	struct record r = rec(5);
	char buf[1024];

	(void)state;
	r.has_sgp30 = false;
	assert_true(pretty_line(&r, true, buf, sizeof(buf)) > 0);
	assert_non_null(strstr(buf, "\033[2mno sample\033[0m"));
	assert_true(pretty_line(&r, false, buf, sizeof(buf)) > 0);
	assert_null(strchr(buf, '\033'));
	assert_int_equal(pretty_line(&r, false, buf, 40), -ENOSPC);
}

/* Every chip value with a unit is shown, found through the table. */
static void
test_table_driven(void **state)
{
	size_t chips = 0, shown = 0;

	(void)state;
	for (size_t i = 0; i < record_root.nfields; i++) {
		const struct record_field *b = &record_root.fields[i];

		if (!pretty_is_chip(b))
			continue;
		chips++;
		for (size_t k = 0; k < b->nfields; k++) {
			shown += pretty_shown(&b->fields[k]);
			/* times and flags are not columns */
			if (strcmp(b->fields[k].unit, "ns") == 0 || b->fields[k].type == RECORD_BOOL)
				assert_false(pretty_shown(&b->fields[k]));
		}
	}
	assert_int_equal(chips, 3);
	assert_true(shown >= 7);	/* co2 t rh, eco2 tvoc, p t */
	assert_false(pretty_is_chip(record_find("sys", &(const struct record_field *){ NULL })));
}

static void
test_numbers_and_durations(void **state)
{
	const struct record_field *blk, *p = record_find("icp10125.p", &blk);
	char buf[64];
	struct text t;

	(void)state;
	text_init(&t, buf, sizeof(buf), false);
	pretty_number(&t, p, 100734.5, true);
	pretty_number(&t, p, NAN, true);
	assert_string_equal(buf, "1007.35 hPa      - hPa");
	assert_int_equal(pretty_cols(p), 11);
	pretty_duration(0.44, buf, sizeof(buf));
	assert_string_equal(buf, "0.4 s");
	pretty_duration(192, buf, sizeof(buf));
	assert_string_equal(buf, "3 min 12 s");
	pretty_duration(18600, buf, sizeof(buf));
	assert_string_equal(buf, "5 h 10 min");
	pretty_time(T0, false, buf, sizeof(buf));
	assert_string_equal(buf, "05:55:10");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_values_and_units),
		cmocka_unit_test(test_nulls_keep_the_columns),
		cmocka_unit_test(test_faults_and_clock),
		cmocka_unit_test(test_states),
		cmocka_unit_test(test_color),
		cmocka_unit_test(test_table_driven),
		cmocka_unit_test(test_numbers_and_durations),
	};

	return cmocka_run_group_tests(tests, setup, NULL);
}
