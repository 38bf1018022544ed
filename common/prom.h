/* SPDX-License-Identifier: Apache-2.0 */
/*
 * prom: metrics files in the Prometheus text exposition format (0.0.4), the
 * one writer both daemons use. A file is built family by family into the
 * caller's fixed buffer — "# HELP", "# TYPE", then that family's samples —
 * with names checked, label values and help text escaped, and values
 * spelled as Prometheus spells them (NaN, +Inf, -Inf); then it replaces the
 * old file by rename, so node_exporter's textfile collector or a script
 * never reads half of one.
 *
 * Errors are sticky: the first one (a bad name, a sample outside its
 * family, a family repeated, the buffer full) stops the build and is what
 * prom_end and prom_write return, so callers add samples without checking
 * each one and never publish a file that lost part of its families.
 */
#ifndef SNOWSENSE_PROM_H
#define SNOWSENSE_PROM_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define PROM_NAME_MAX 128	/* longest metric or label name accepted */

enum prom_type { PROM_COUNTER, PROM_GAUGE, PROM_SUMMARY, PROM_UNTYPED };

struct prom_label {
	const char *name;	/* [a-zA-Z_][a-zA-Z0-9_]*, not starting with "__" */
	const char *value;	/* any UTF-8 (invalid bytes become U+FFFD) */
};

/* Members are private to prom.c; visible so a writer can live on the
 * caller's stack with the caller's buffer. */
struct prom {
	char *buf;
	size_t cap, len;
	int err;
	const struct prom_label *common;
	size_t ncommon;
	char family[PROM_NAME_MAX + 1];	/* the family samples go to; "" before one */
	enum prom_type type;
};

/* Starts a file in buf (borrowed, cap bytes: the most it will hold). The
 * common labels (borrowed until prom_end/prom_write) go on every sample,
 * before the sample's own, e.g. the device. */
void prom_init(struct prom *p, char *buf, size_t cap, const struct prom_label *common,
    size_t ncommon);
/* Starts family name ([a-zA-Z_:][a-zA-Z0-9_:]*) with its type and a help
 * text (required, any UTF-8). A family may appear once per file. */
void prom_family(struct prom *p, const char *name, enum prom_type type, const char *help);
/* Adds a sample to the current family: name + suffix (NULL or "" for the
 * family's own name; "_sum" or "_count" in a summary, whose quantile
 * samples carry a "quantile" label) with labels (borrowed, n of them). */
void prom_sample(struct prom *p, const char *suffix, const struct prom_label *labels,
    size_t n, double v);
/* Same with an integer value, printed exactly. */
void prom_sample_u64(struct prom *p, const char *suffix, const struct prom_label *labels,
    size_t n, uint64_t v);
/* A family of one unlabelled (but for the common labels) sample. */
void prom_metric(struct prom *p, const char *name, enum prom_type type, const char *help,
    double v);
/* Same with an integer value. */
void prom_metric_u64(struct prom *p, const char *name, enum prom_type type,
    const char *help, uint64_t v);
/* Ends the file: 0 and its length in *ret_len (the text is in buf, not
 * NUL-terminated), or the sticky error: -EINVAL (a name, suffix or help
 * the format does not allow), -EEXIST (a family twice), -EMSGSIZE (buf
 * full). */
int prom_end(struct prom *p, size_t *ret_len);
/* Ends the file and replaces path with it (temp file in the same
 * directory, then rename) with exactly mode. No fsync: readers need a
 * whole file, not a durable one, and the next write comes soon. 0 or
 * -errno. */
int prom_write(struct prom *p, const char *path, mode_t mode);

#endif
