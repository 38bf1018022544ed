/* SPDX-License-Identifier: Apache-2.0 */
/*
 * prom: the exact text of a file (HELP/TYPE per family, common labels
 * first), escaping of help text and label values, invalid UTF-8 replaced,
 * Prometheus's spelling of NaN/+Inf/-Inf and shortest round-trip floats,
 * name rules, family rules (once per file, samples inside one, summary
 * suffixes), sticky errors, a full buffer, and the file replace.
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
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "fsutil.h"
#include "prom.h"

static char buf[4096];

/* The file so far, NUL-terminated, or NULL when the build failed. */
static const char *
text(struct prom *p, int want_err)
{
	size_t len;

	assert_int_equal(prom_end(p, &len), want_err);
	if (want_err)
		return NULL;
	assert_true(len < sizeof(buf));
	buf[len] = '\0';
	return buf;
}

static void
test_families_and_labels(void **state)
{
	static const struct prom_label dev[] = { { "device", "pi-1" } };
	struct prom p;

	(void)state;
	prom_init(&p, buf, sizeof(buf), dev, 1);
	prom_metric_u64(&p, "x_uptime_seconds", PROM_GAUGE, "Seconds since start.", 42);
	prom_family(&p, "x_chip_faults_total", PROM_COUNTER, "Faults per chip.");
	prom_sample_u64(&p, NULL, (struct prom_label[]){ { "chip", "scd4x" } }, 1, 3);
	prom_sample_u64(&p, "", (struct prom_label[]){ { "chip", "sgp30" } }, 1, 0);
	prom_family(&p, "x_latency_seconds", PROM_SUMMARY, "Append to commit.");
	prom_sample(&p, NULL, (struct prom_label[]){ { "quantile", "0.5" } }, 1, 0.25);
	prom_sample(&p, "_sum", NULL, 0, 1.5);
	prom_sample_u64(&p, "_count", NULL, 0, 6);
	assert_string_equal(text(&p, 0),
	    "# HELP x_uptime_seconds Seconds since start.\n"
	    "# TYPE x_uptime_seconds gauge\n"
	    "x_uptime_seconds{device=\"pi-1\"} 42\n"
	    "# HELP x_chip_faults_total Faults per chip.\n"
	    "# TYPE x_chip_faults_total counter\n"
	    "x_chip_faults_total{device=\"pi-1\",chip=\"scd4x\"} 3\n"
	    "x_chip_faults_total{device=\"pi-1\",chip=\"sgp30\"} 0\n"
	    "# HELP x_latency_seconds Append to commit.\n"
	    "# TYPE x_latency_seconds summary\n"
	    "x_latency_seconds{device=\"pi-1\",quantile=\"0.5\"} 0.25\n"
	    "x_latency_seconds_sum{device=\"pi-1\"} 1.5\n"
	    "x_latency_seconds_count{device=\"pi-1\"} 6\n");
	/* without common labels, no braces at all */
	prom_init(&p, buf, sizeof(buf), NULL, 0);
	prom_metric(&p, "up", PROM_UNTYPED, "h", 1);
	assert_string_equal(text(&p, 0), "# HELP up h\n# TYPE up untyped\nup 1\n");
}

static void
test_escaping(void **state)
{
	/* a backslash, a quote and a line feed; "é" stays, a lone 0xFF and a
	 * truncated sequence do not */
	static const struct prom_label dev[] = {
		{ "device", "a\\b\"c\nd\xC3\xA9\xFF\xE2\x82" },
	};
	struct prom p;

	(void)state;
	prom_init(&p, buf, sizeof(buf), dev, 1);
	prom_metric(&p, "m", PROM_GAUGE, "back\\slash \"quoted\"\nnext", 1);
	assert_string_equal(text(&p, 0),
	    "# HELP m back\\\\slash \"quoted\"\\nnext\n"
	    "# TYPE m gauge\n"
	    "m{device=\"a\\\\b\\\"c\\nd\xC3\xA9\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD\"} 1\n");
	/* overlong, surrogate and past U+10FFFF are not UTF-8 either */
	prom_init(&p, buf, sizeof(buf), NULL, 0);
	prom_family(&p, "m", PROM_GAUGE, "h");
	prom_sample(&p, NULL, (struct prom_label[]){
	    { "v", "\xC0\xAF" "\xED\xA0\x80" "\xF4\x90\x80\x80" "\xF0\x9F\x98\x80" } }, 1, 0);
#define R "\xEF\xBF\xBD"	/* U+FFFD, once per byte that is not UTF-8 */
	assert_non_null(strstr(text(&p, 0),
	    "m{v=\"" R R  R R R  R R R R  "\xF0\x9F\x98\x80\"} 0\n"));
#undef R
}

static void
test_values(void **state)
{
	static const struct { double v; const char *s; } f[] = {
		{ NAN, "NaN" }, { INFINITY, "+Inf" }, { -INFINITY, "-Inf" }, { 0, "0" },
		{ 0.1, "0.1" }, { -2.25, "-2.25" }, { 1e-7, "1e-07" }, { 1234567, "1234567" },
		{ 1.0 / 3, "0.3333333333333333" }, { 1767225600.123, "1767225600.123" },
		{ 1e300, "1e+300" },
	};
	char want[64];
	struct prom p;

	(void)state;
	for (size_t i = 0; i < sizeof(f) / sizeof(f[0]); i++) {
		prom_init(&p, buf, sizeof(buf), NULL, 0);
		prom_metric(&p, "v", PROM_GAUGE, "h", f[i].v);
		snprintf(want, sizeof(want), "# HELP v h\n# TYPE v gauge\nv %s\n", f[i].s);
		assert_string_equal(text(&p, 0), want);
	}
	prom_init(&p, buf, sizeof(buf), NULL, 0);
	prom_metric_u64(&p, "c_total", PROM_COUNTER, "h", UINT64_MAX);
	assert_non_null(strstr(text(&p, 0), "\nc_total 18446744073709551615\n"));
}

/* Each case is built on a fresh writer and must fail with err, the first
 * error sticking while later calls add nothing. */
static void
expect_error(void (*build)(struct prom *), int err)
{
	struct prom p;
	size_t len;

	prom_init(&p, buf, sizeof(buf), (struct prom_label[]){ { "device", "d" } }, 1);
	build(&p);
	prom_metric(&p, "after_error", PROM_GAUGE, "h", 1);
	assert_int_equal(prom_end(&p, &len), err);
	assert_null(memmem(buf, p.len, "after_error", 11));
}

static void bad_metric_digit(struct prom *p) { prom_metric(p, "1x", PROM_GAUGE, "h", 0); }
static void bad_metric_dash(struct prom *p) { prom_metric(p, "a-b", PROM_GAUGE, "h", 0); }
static void bad_metric_empty(struct prom *p) { prom_metric(p, "", PROM_GAUGE, "h", 0); }
static void no_help(struct prom *p) { prom_metric(p, "a", PROM_GAUGE, "", 0); }
static void bad_type(struct prom *p) { prom_metric(p, "a", (enum prom_type)9, "h", 0); }

static void
bad_metric_long(struct prom *p)
{
	char name[PROM_NAME_MAX + 2];

	memset(name, 'a', sizeof(name) - 1);
	name[sizeof(name) - 1] = '\0';
	prom_metric(p, name, PROM_GAUGE, "h", 0);
}

static void
bad_label_names(struct prom *p)
{
	prom_family(p, "ok:name", PROM_GAUGE, "colons are fine in metric names");
	prom_sample(p, NULL, (struct prom_label[]){ { "a:b", "x" } }, 1, 0);
}

static void
reserved_label(struct prom *p)
{
	prom_family(p, "a", PROM_GAUGE, "h");
	prom_sample(p, NULL, (struct prom_label[]){ { "__name__", "x" } }, 1, 0);
}

static void
repeated_label(struct prom *p)
{
	prom_family(p, "a", PROM_GAUGE, "h");
	prom_sample(p, NULL, (struct prom_label[]){ { "chip", "x" }, { "chip", "y" } }, 2, 0);
}

static void
label_shadows_common(struct prom *p)
{
	prom_family(p, "a", PROM_GAUGE, "h");
	prom_sample(p, NULL, (struct prom_label[]){ { "device", "x" } }, 1, 0);
}

static void
null_label_value(struct prom *p)
{
	prom_family(p, "a", PROM_GAUGE, "h");
	prom_sample(p, NULL, (struct prom_label[]){ { "chip", NULL } }, 1, 0);
}

static void sample_first(struct prom *p) { prom_sample(p, NULL, NULL, 0, 0); }

static void
family_twice(struct prom *p)
{
	prom_metric(p, "a_b", PROM_GAUGE, "h", 0);
	prom_metric(p, "a", PROM_GAUGE, "a prefix of a_b is another family", 0);
	prom_metric(p, "a_b", PROM_COUNTER, "h", 0);
}

static void
suffix_outside_summary(struct prom *p)
{
	prom_family(p, "a", PROM_COUNTER, "h");
	prom_sample(p, "_sum", NULL, 0, 0);
}

static void
summary_without_quantile(struct prom *p)
{
	prom_family(p, "a", PROM_SUMMARY, "h");
	prom_sample(p, NULL, NULL, 0, 0);
}

static void
summary_bad_suffix(struct prom *p)
{
	prom_family(p, "a", PROM_SUMMARY, "h");
	prom_sample(p, "_bucket", NULL, 0, 0);
}

static void
test_rules(void **state)
{
	struct prom p;

	(void)state;
	expect_error(bad_metric_digit, -EINVAL);
	expect_error(bad_metric_dash, -EINVAL);
	expect_error(bad_metric_empty, -EINVAL);
	expect_error(bad_metric_long, -EINVAL);
	expect_error(no_help, -EINVAL);
	expect_error(bad_type, -EINVAL);
	expect_error(bad_label_names, -EINVAL);
	expect_error(reserved_label, -EINVAL);
	expect_error(repeated_label, -EINVAL);
	expect_error(label_shadows_common, -EINVAL);
	expect_error(null_label_value, -EINVAL);
	expect_error(sample_first, -EINVAL);
	expect_error(family_twice, -EEXIST);
	expect_error(suffix_outside_summary, -EINVAL);
	expect_error(summary_without_quantile, -EINVAL);
	expect_error(summary_bad_suffix, -EINVAL);
	/* a bad common label fails the whole file */
	prom_init(&p, buf, sizeof(buf), (struct prom_label[]){ { "0dev", "d" } }, 1);
	prom_metric(&p, "a", PROM_GAUGE, "h", 0);
	assert_null(text(&p, -EINVAL));
}

static void
test_full_buffer(void **state)
{
	char small[64];
	struct prom p;
	size_t len;

	(void)state;
	prom_init(&p, small, sizeof(small), NULL, 0);
	prom_metric(&p, "a", PROM_GAUGE, "fits", 1);
	assert_int_equal(prom_end(&p, &len), 0);
	assert_int_equal(len, strlen("# HELP a fits\n# TYPE a gauge\na 1\n"));
	prom_metric(&p, "b", PROM_GAUGE, "does not fit", 1);
	assert_int_equal(prom_end(&p, &len), -EMSGSIZE);
	assert_true(p.len <= sizeof(small));
}

static void
test_write(void **state)
{
	char dir[] = "/tmp/test_prom.XXXXXX", path[64], tmp[80], *got;
	struct prom p;
	struct stat st;
	size_t len;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/x.prom", dir);
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	prom_init(&p, buf, sizeof(buf), NULL, 0);
	prom_metric(&p, "a", PROM_GAUGE, "h", 1);
	assert_int_equal(prom_write(&p, path, 0644), 0);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0644);
	assert_int_equal(fs_read_all(path, 4096, &got, &len), 0);
	assert_string_equal(got, "# HELP a h\n# TYPE a gauge\na 1\n");
	free(got);
	/* a failed build leaves the previous file as it was */
	prom_init(&p, buf, sizeof(buf), NULL, 0);
	prom_metric(&p, "a", PROM_GAUGE, "h", 2);
	prom_metric(&p, "a", PROM_GAUGE, "h", 3);
	assert_int_equal(prom_write(&p, path, 0640), -EEXIST);
	assert_int_equal(fs_read_all(path, 4096, &got, &len), 0);
	assert_string_equal(got, "# HELP a h\n# TYPE a gauge\na 1\n");
	free(got);
	assert_int_equal(access(tmp, F_OK), -1);
	assert_int_equal(unlink(path), 0);
	assert_int_equal(rmdir(dir), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_families_and_labels),
		cmocka_unit_test(test_escaping),
		cmocka_unit_test(test_values),
		cmocka_unit_test(test_rules),
		cmocka_unit_test(test_full_buffer),
		cmocka_unit_test(test_write),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
