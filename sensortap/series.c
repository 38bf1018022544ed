/* SPDX-License-Identifier: Apache-2.0 */
/*
 * series: slot i holds the second sec[i] with sec[i] % SERIES_SECONDS == i.
 */
#include <math.h>
#include <stdbool.h>

#include "series.h"

#define SPARK_MAX_COLS 512	/* wider windows are drawn this wide */

static const char *const bars[] = { "▁", "▂", "▃", "▄", "▅", "▆", "▇", "█" };

static int64_t
second_of(int64_t ns)
{
	return ns / 1000000000 - (ns % 1000000000 < 0);
}

void
series_add(struct series *s, int64_t t_ns, double v)
{
	int64_t sec = second_of(t_ns);
	size_t i = (size_t)(((sec % SERIES_SECONDS) + SERIES_SECONDS) % SERIES_SECONDS);

	if (!isfinite(v) || sec <= 0 || s->sec[i] > sec)
		return;
	if (s->sec[i] != sec) {
		s->sec[i] = sec;
		s->sum[i] = 0;
		s->n[i] = 0;
		s->min[i] = v;
		s->max[i] = v;
	}
	s->min[i] = fmin(s->min[i], v);
	s->max[i] = fmax(s->max[i], v);
	s->sum[i] += v;
	s->n[i]++;
}

/* The mean of cell c of cols over the window ending with second end;
 * *lo and *hi take in the values it covers. */
static double
cell_mean(const struct series *s, int64_t end, size_t c, size_t cols, double *lo, double *hi)
{
	int64_t from = end - SERIES_SECONDS + 1 + (int64_t)(c * SERIES_SECONDS / cols);
	int64_t to = end - SERIES_SECONDS + 1 + (int64_t)((c + 1) * SERIES_SECONDS / cols);
	double sum = 0;
	uint32_t n = 0;

	for (int64_t sec = from; sec < to; sec++) {
		size_t i = (size_t)(((sec % SERIES_SECONDS) + SERIES_SECONDS) % SERIES_SECONDS);

		if (s->sec[i] == sec) {
			sum += s->sum[i];
			n += s->n[i];
			*lo = fmin(*lo, s->min[i]);
			*hi = fmax(*hi, s->max[i]);
		}
	}
	return n ? sum / n : NAN;
}

bool
series_spark(const struct series *s, int64_t now_ns, size_t cols, struct text *t,
    double *ret_lo, double *ret_hi)
{
	double mean[SPARK_MAX_COLS], lo = INFINITY, hi = -INFINITY;
	double min = INFINITY, max = -INFINITY;
	int64_t end = second_of(now_ns);
	size_t n = cols < SPARK_MAX_COLS ? cols : SPARK_MAX_COLS;

	for (size_t c = 0; c < n; c++) {
		mean[c] = cell_mean(s, end, c, n, &min, &max);
		if (!isnan(mean[c])) {
			lo = fmin(lo, mean[c]);
			hi = fmax(hi, mean[c]);
		}
	}
	*ret_lo = min <= max ? min : NAN;
	*ret_hi = min <= max ? max : NAN;
	for (size_t c = 0; c < n; c++) {
		/* a flat line sits in the middle */
		size_t b = hi > lo ? (size_t)lround((mean[c] - lo) / (hi - lo) * 7) : 3;

		text_add(t, "%s", isnan(mean[c]) ? " " : bars[b > 7 ? 7 : b]);
	}
	text_pad(t, t->cols + (cols - n));
	return lo <= hi;
}
