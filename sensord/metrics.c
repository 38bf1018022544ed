/*
 * metrics: one gauge or counter per status field, chip series labelled by
 * chip name, plus a sensord_chip_state{state="..."} 1 series so a
 * dashboard can show the state as text. Label values come from our own
 * config (device) and fixed chip names, so escaping covers quotes and
 * backslashes only.
 *
 * The file is replaced by rename, without fsync: readers must never see
 * half a file, but after a power cut a stale or missing metrics file is
 * harmless, and an fsync per record would cost more than the record.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "metrics.h"

struct out {
	char *buf;
	size_t cap, len;
	bool over;
};

static void
put(struct out *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void
put(struct out *o, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (o->over)
		return;
	va_start(ap, fmt);
	n = vsnprintf(o->buf + o->len, o->cap - o->len, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= o->cap - o->len)
		o->over = true;
	else
		o->len += (size_t)n;
}

static void
escape(const char *in, char *out, size_t cap)
{
	size_t k = 0;

	for (; *in && k + 3 < cap; in++) {
		if (*in == '"' || *in == '\\')
			out[k++] = '\\';
		out[k++] = *in == '\n' ? ' ' : *in;
	}
	out[k] = '\0';
}

static void
metric(struct out *o, const char *name, const char *type, const char *help,
    const char *dev, uint64_t v)
{
	put(o, "# HELP %s %s\n# TYPE %s %s\n%s{device=\"%s\"} %" PRIu64 "\n", name, help,
	    name, type, name, dev, v);
}

int
metrics_format(const struct proto_status *st, const char *device, char *buf, size_t cap)
{
	struct out o = { buf, cap, 0, false };
	char dev[2 * PROTO_NAME_LEN], state[2 * PROTO_NAME_LEN];

	escape(device, dev, sizeof(dev));
	metric(&o, "sensord_uptime_seconds", "gauge", "Seconds since sensord started.", dev,
	    st->uptime_s);
	metric(&o, "sensord_journal_first_seq", "gauge", "Oldest seq in the journal.", dev,
	    st->first_seq);
	metric(&o, "sensord_journal_last_seq", "gauge", "Newest seq in the journal.", dev,
	    st->last_seq);
	metric(&o, "sensord_journal_acked_seq", "gauge", "Highest seq acked downstream.",
	    dev, st->acked_seq);
	metric(&o, "sensord_records_written_total", "counter",
	    "Records journaled since start.", dev, st->records_written);
	metric(&o, "sensord_records_dropped_total", "counter",
	    "Unacked records forced out by retention, ever.", dev, st->records_dropped);
	metric(&o, "sensord_seqs_skipped_total", "counter",
	    "Seqs skipped at start-ups after unclean stops (records among them handed out "
	    "before a power cut are lost), ever.", dev, st->seqs_skipped);
	metric(&o, "sensord_clients", "gauge", "Connected socket clients.", dev, st->clients);
	put(&o, "# HELP sensord_chip_measurements_total Good samples since start.\n"
	    "# TYPE sensord_chip_measurements_total counter\n");
	for (uint32_t i = 0; i < st->nchips && i < PROTO_MAX_CHIPS; i++)
		put(&o, "sensord_chip_measurements_total{device=\"%s\",chip=\"%s\"} %" PRIu64
		    "\n", dev, st->chips[i].name, st->chips[i].measurements);
	put(&o, "# HELP sensord_chip_faults_total NACKs, timeouts and CRC failures since "
	    "start.\n# TYPE sensord_chip_faults_total counter\n");
	for (uint32_t i = 0; i < st->nchips && i < PROTO_MAX_CHIPS; i++)
		put(&o, "sensord_chip_faults_total{device=\"%s\",chip=\"%s\"} %" PRIu64 "\n",
		    dev, st->chips[i].name, st->chips[i].faults);
	put(&o, "# HELP sensord_chip_last_ok_seconds Unix time of the last good sample "
	    "(0: never).\n# TYPE sensord_chip_last_ok_seconds gauge\n");
	for (uint32_t i = 0; i < st->nchips && i < PROTO_MAX_CHIPS; i++)
		put(&o, "sensord_chip_last_ok_seconds{device=\"%s\",chip=\"%s\"} %.3f\n", dev,
		    st->chips[i].name, (double)st->chips[i].last_ok / 1e9);
	put(&o, "# HELP sensord_chip_state Current state of each chip.\n"
	    "# TYPE sensord_chip_state gauge\n");
	for (uint32_t i = 0; i < st->nchips && i < PROTO_MAX_CHIPS; i++) {
		escape(st->chips[i].state, state, sizeof(state));
		put(&o, "sensord_chip_state{device=\"%s\",chip=\"%s\",state=\"%s\"} 1\n", dev,
		    st->chips[i].name, state);
	}
	return o.over ? -EMSGSIZE : (int)o.len;
}

int
metrics_write(const char *path, const struct proto_status *st, const char *device)
{
	char buf[8192], tmp[4096];
	int fd, n, r = 0;

	n = metrics_format(st, device, buf, sizeof(buf));
	if (n < 0)
		return n;
	if (snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= (int)sizeof(tmp))
		return -ENAMETOOLONG;
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644);
	if (fd < 0)
		return -errno;
	if (write(fd, buf, (size_t)n) != n)
		r = errno ? -errno : -EIO;
	if (close(fd) < 0 && r == 0)
		r = -errno;
	if (r == 0 && rename(tmp, path) < 0)
		r = -errno;
	if (r < 0)
		(void)unlink(tmp);
	return r;
}
