/* SPDX-License-Identifier: Apache-2.0 */
/*
 * metrics: sensord's counters as a Prometheus text file (common/prom),
 * replaced atomically after every record (node_exporter's textfile
 * collector and scripts read it whenever they like).
 */
#ifndef SNOWSENSE_METRICS_H
#define SNOWSENSE_METRICS_H

#include <stddef.h>
#include <stdint.h>

#include "proto.h"

/* sensord's counters that the status message does not carry. */
struct metrics_extra {
	uint64_t records_lost;		/* not journaled: the append failed (disk) */
	uint64_t records_damaged;	/* unreadable in the journal, sent as gaps */
	uint64_t clients_refused;	/* not allowed, or no slot for them */
	uint64_t acks_refused;		/* read-only client, or beyond what was sent */
	int64_t last_commit_ns;		/* Unix time in ns the newest record was
					 * journaled (0: none since start) */
};

/* Renders st and x into buf (cap bytes); returns the length or -errno
 * (-EMSGSIZE when it does not fit). */
int metrics_format(const struct proto_status *st, const struct metrics_extra *x,
    const char *device, char *buf, size_t cap);
/* Renders st and x and replaces path with it (mode 0644 whatever the umask,
 * so node_exporter's textfile collector can read it). 0 or -errno. */
int metrics_write(const char *path, const struct proto_status *st,
    const struct metrics_extra *x, const char *device);

#endif
