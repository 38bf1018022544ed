/* SPDX-License-Identifier: Apache-2.0 */
/*
 * promfile: reads a Prometheus text file (exposition format 0.0.4) such as
 * streamerd's metrics file, for the few figures sensortap --watch shows.
 * Comments and HELP/TYPE lines are skipped, and so is any line that is not
 * a sample; a sample is looked up by its metric name (the first one of
 * that name wins), its labels on demand.
 *
 * Caps: files up to PROMFILE_MAX_BYTES, the first PROMFILE_MAX_SAMPLES
 * samples; beyond either the rest is not read (a metrics file of ours is
 * a few KB).
 */
#ifndef SNOWSENSE_PROMFILE_H
#define SNOWSENSE_PROMFILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PROMFILE_MAX_BYTES (256 * 1024)
#define PROMFILE_MAX_SAMPLES 1024
#define PROMFILE_LABEL_MAX 512	/* longest label value returned, incl. NUL */

struct promfile;

/* Parses text (borrowed, len bytes, not necessarily NUL-terminated). 0 and
 * *ret (new; promfile_free), or -ENOMEM. */
int promfile_parse(const char *text, size_t len, struct promfile **ret);
/* Reads and parses the file at path; *ret_mtime_ns (may be NULL) gets its
 * modification time (Unix ns). 0 and *ret (new), or -errno (-ENOENT: no
 * file yet). */
int promfile_read(const char *path, struct promfile **ret, int64_t *ret_mtime_ns);
/* Frees pf (NULL is fine). */
void promfile_free(struct promfile *pf);
/* The value of the first sample named name (NaN and ±Inf as Prometheus
 * spells them); false when there is none. */
bool promfile_value(const struct promfile *pf, const char *name, double *ret);
/* The value of label of the first sample named name, unescaped (borrowed
 * from pf, valid until the next promfile_label on it), or NULL. */
const char *promfile_label(struct promfile *pf, const char *name, const char *label);

#endif
