/* SPDX-License-Identifier: Apache-2.0 */
/*
 * metrics: one family per status field, every series labelled with the
 * device, chip series also with the chip, plus sensord_chip_state with the
 * state as a label (value 1) so a dashboard can show it as text.
 *
 * The file is replaced without fsync (see prom_write): an fsync per record
 * would cost more than the record, and a stale metrics file after a power
 * cut is harmless.
 */
#include <errno.h>

#include "metrics.h"
#include "prom.h"

#define METRICS_MAX 8192	/* the file: ~2 KB with three chips */

/* Whole seconds and the fraction apart: ns since 1970 do not fit a
 * double's 53 bits, and dividing them would print 1767225600.1229999. */
static double
unix_seconds(int64_t ns)
{
	return (double)(ns / 1000000000) + (double)(ns % 1000000000) / 1e9;
}

static void
chip_series(struct prom *p, const struct proto_status *st)
{
	uint32_t n = st->nchips < PROTO_MAX_CHIPS ? st->nchips : PROTO_MAX_CHIPS;

	prom_family(p, "sensord_chip_measurements_total", PROM_COUNTER,
	    "Good samples per chip since start.");
	for (uint32_t i = 0; i < n; i++)
		prom_sample_u64(p, NULL, &(struct prom_label){ "chip", st->chips[i].name }, 1,
		    st->chips[i].measurements);
	prom_family(p, "sensord_chip_faults_total", PROM_COUNTER,
	    "NACKs, timeouts and CRC failures per chip since start.");
	for (uint32_t i = 0; i < n; i++)
		prom_sample_u64(p, NULL, &(struct prom_label){ "chip", st->chips[i].name }, 1,
		    st->chips[i].faults);
	prom_family(p, "sensord_chip_last_ok_timestamp_seconds", PROM_GAUGE,
	    "Unix time of the chip's last good sample (0: never).");
	for (uint32_t i = 0; i < n; i++)
		prom_sample(p, NULL, &(struct prom_label){ "chip", st->chips[i].name }, 1,
		    unix_seconds(st->chips[i].last_ok));
	prom_family(p, "sensord_chip_state", PROM_GAUGE,
	    "Current state of each chip (the state label; value always 1).");
	for (uint32_t i = 0; i < n; i++)
		prom_sample_u64(p, NULL, (struct prom_label[]){ { "chip", st->chips[i].name },
		    { "state", st->chips[i].state } }, 2, 1);
}

static void
render(struct prom *p, const struct proto_status *st, const struct metrics_extra *x)
{
	prom_metric_u64(p, "sensord_uptime_seconds", PROM_GAUGE,
	    "Seconds since sensord started.", st->uptime_s);
	prom_metric_u64(p, "sensord_journal_first_seq", PROM_GAUGE,
	    "Oldest seq in the journal (0: empty).", st->first_seq);
	prom_metric_u64(p, "sensord_journal_last_seq", PROM_GAUGE,
	    "Newest seq in the journal.", st->last_seq);
	prom_metric_u64(p, "sensord_journal_acked_seq", PROM_GAUGE,
	    "Highest seq acked downstream.", st->acked_seq);
	prom_metric(p, "sensord_last_commit_timestamp_seconds", PROM_GAUGE,
	    "Unix time the newest record was journaled (0: none since start).",
	    unix_seconds(x->last_commit_ns));
	prom_metric_u64(p, "sensord_records_written_total", PROM_COUNTER,
	    "Records journaled since start.", st->records_written);
	prom_metric_u64(p, "sensord_records_dropped_total", PROM_COUNTER,
	    "Unacked records forced out by retention, ever.", st->records_dropped);
	prom_metric_u64(p, "sensord_seqs_skipped_total", PROM_COUNTER,
	    "Seqs skipped at start-ups after unclean stops (records among them handed out "
	    "before a power cut are lost), ever.", st->seqs_skipped);
	prom_metric_u64(p, "sensord_records_lost_total", PROM_COUNTER,
	    "Records not journaled because the append failed (disk full, I/O error), "
	    "since start.", x->records_lost);
	prom_metric_u64(p, "sensord_records_damaged_total", PROM_COUNTER,
	    "Journal entries found unreadable (bad CRC) and sent to clients as a gap, "
	    "by seq, since start.", x->records_damaged);
	prom_metric_u64(p, "sensord_clients", PROM_GAUGE, "Connected socket clients.",
	    st->clients);
	prom_metric_u64(p, "sensord_clients_refused_total", PROM_COUNTER,
	    "Socket connections refused (not allowed, or no slot), since start.",
	    x->clients_refused);
	prom_metric_u64(p, "sensord_acks_refused_total", PROM_COUNTER,
	    "Acks refused (from a read-only client, or past what its subscription was "
	    "sent), since start.", x->acks_refused);
	chip_series(p, st);
}

int
metrics_format(const struct proto_status *st, const struct metrics_extra *x,
    const char *device, char *buf, size_t cap)
{
	struct prom p;
	size_t len = 0;
	int r;

	prom_init(&p, buf, cap, &(struct prom_label){ "device", device }, 1);
	render(&p, st, x);
	r = prom_end(&p, &len);
	return r < 0 ? r : (int)len;
}

int
metrics_write(const char *path, const struct proto_status *st,
    const struct metrics_extra *x, const char *device)
{
	char buf[METRICS_MAX];
	struct prom p;

	prom_init(&p, buf, sizeof(buf), &(struct prom_label){ "device", device }, 1);
	render(&p, st, x);
	return prom_write(&p, path, 0644);
}
