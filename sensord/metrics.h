/*
 * metrics: sensord's counters in the Prometheus text exposition format,
 * replaced atomically (node_exporter's textfile collector reads the file
 * whenever it likes, so it must never see half of one).
 */
#ifndef SNOWSENSE_METRICS_H
#define SNOWSENSE_METRICS_H

#include <stddef.h>

#include "proto.h"

/* Renders st into buf (cap bytes); returns the length or -EMSGSIZE. */
int metrics_format(const struct proto_status *st, const char *device, char *buf,
    size_t cap);
/* Renders st and replaces path with it (mode 0644). 0 or -errno. */
int metrics_write(const char *path, const struct proto_status *st, const char *device);

#endif
