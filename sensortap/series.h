/* SPDX-License-Identifier: Apache-2.0 */
/*
 * series: the last ten minutes of one value, for --watch's sparklines. A
 * record every 10 ms or every hour costs the same: values are summed into
 * one slot per second of the window (a fixed array; a slot is reused when
 * its second comes round again), and a sparkline cell is the mean of the
 * seconds it covers.
 */
#ifndef SNOWSENSE_SERIES_H
#define SNOWSENSE_SERIES_H

#include <stddef.h>
#include <stdint.h>

#include "text.h"

#define SERIES_SECONDS 600	/* the window */

struct series {
	int64_t sec[SERIES_SECONDS];	/* the Unix second a slot holds; 0: empty */
	double sum[SERIES_SECONDS], min[SERIES_SECONDS], max[SERIES_SECONDS];
	uint32_t n[SERIES_SECONDS];
};

/* Adds value v measured at t_ns (Unix ns). An older value than the second
 * a slot holds now is dropped: it is outside the window. */
void series_add(struct series *s, int64_t t_ns, double v);
/* Appends the window ending at now_ns as cols sparkline cells (one of
 * "▁▂▃▄▅▆▇█" each, a blank where there was no value), oldest first, scaled
 * from the lowest to the highest cell; returns false, and appends cols
 * blanks, when the window holds nothing. *ret_lo and *ret_hi get the
 * lowest and highest value in the window, as measured, not as averaged
 * into cells (NAN when empty). */
bool series_spark(const struct series *s, int64_t now_ns, size_t cols, struct text *t,
    double *ret_lo, double *ret_hi);

#endif
