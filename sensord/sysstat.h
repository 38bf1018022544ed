/* SPDX-License-Identifier: Apache-2.0 */
/*
 * sysstat: the "sys" block of a record — CPU temperature, CPU busy % since
 * the previous sample, memory used % and free disk space — read from
 * /sys/class/thermal, /proc/stat, /proc/meminfo and statvfs — and the
 * record's boot id. A figure that cannot be read is absent (has_* false),
 * never a placeholder.
 */
#ifndef SNOWSENSE_SYSSTAT_H
#define SNOWSENSE_SYSSTAT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "proto.h"

struct sysstat;

/* Starts sampling; disk_path is copied; reads the boot id once. Returns 0
 * and *ret (new) or -errno. */
int sysstat_new(const char *disk_path, struct sysstat **ret);
/* Frees; NULL is fine. */
void sysstat_free(struct sysstat *s);
/* Fills *out with what can be read now. The first CPU % needs a previous
 * sample, so it is absent in the first record. */
void sysstat_sample(struct sysstat *s, struct rec_sys *out);
/* The kernel's boot id as read at start (borrowed from s), or NULL when
 * /proc/sys/kernel/random/boot_id could not be read. */
const char *sysstat_boot_id(const struct sysstat *s);

/* Parsers, separate from the files for tests. */
/* Aggregate "cpu" line of /proc/stat: total and idle (idle + iowait) jiffies. */
int sysstat_parse_stat(const char *text, uint64_t *ret_total, uint64_t *ret_idle);
/* % of memory used from /proc/meminfo (MemTotal, MemAvailable). */
int sysstat_parse_meminfo(const char *text, double *ret_used_pct);
/* A thermal zone's temp file (millidegrees) in °C. */
int sysstat_parse_temp(const char *text, double *ret_c);
/* The boot_id file: one lower-case UUID and an optional newline, copied
 * without the newline into buf (cap >= RECORD_BOOT_ID_LEN); else -EINVAL. */
int sysstat_parse_boot_id(const char *text, char *buf, size_t cap);

#endif
