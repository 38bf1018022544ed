/* SPDX-License-Identifier: Apache-2.0 */
/*
 * preview: one blocking client of sensord's socket that subscribes, formats
 * and prints. It sends hello and subscribe only, never ack, so sensord's
 * acked seq and retention are untouched. The seccomp filter is applied once
 * the connection is up: from then on the process cannot open any socket,
 * so "sends nothing" holds whatever the configuration says.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "clock.h"
#include "preview.h"
#include "proto.h"
#include "sandbox.h"
#include "sdsock.h"
#include "timefix.h"

#define HELLO_WAIT_MS 5000

/* Talking on the one socket already connected, and reading the clock's
 * NTP state (adjtimex with modes 0, as streamerd does); nothing else. */
static const struct sandbox_rule preview_rules[] = {
	SANDBOX_ALLOW("sendto"), SANDBOX_ALLOW("recvfrom"), SANDBOX_ALLOW("sendmsg"),
	SANDBOX_ALLOW("recvmsg"), SANDBOX_ALLOW("recvmmsg"), SANDBOX_ALLOW("adjtimex"),
	SANDBOX_ALLOW("clock_adjtime"), SANDBOX_ALLOW("clock_adjtime64"),
};

static int
start(const struct preview_opts *o, struct sdsock **ret, struct proto_msg *hello,
    char *err, size_t errlen)
{
	int r;

	if ((r = sdsock_open(o->socket, o->server_uid, "streamerd --print-rows",
	    HELLO_WAIT_MS, ret, hello)) < 0) {
		snprintf(err, errlen, "cannot reach sensord at %s: %s", o->socket,
		    r == -EPROTO ? "refused (see sensord's log)" : sdsock_strerror(r));
		return r;
	}
	if ((r = sandbox_apply(preview_rules, sizeof(preview_rules) /
	    sizeof(preview_rules[0]), false)) < 0) {
		snprintf(err, errlen, "cannot enter the seccomp sandbox: %s", strerror(-r));
		return r;
	}
	if ((r = sdsock_subscribe(*ret, o->from_seq ? PROTO_FROM_SEQ : PROTO_FROM_NOW,
	    o->seq)) < 0)
		snprintf(err, errlen, "cannot subscribe to sensord: %s", strerror(-r));
	return r;
}

/* One record: its row on out, its time corrected as streamerd would. */
static int
print_row(const struct record *rec, uint64_t jid, const struct row_host *h,
    const struct timefix *tf, FILE *out, char *err, size_t errlen)
{
	static char buf[ROW_MAX];
	int64_t real = clock_realtime_ns(), boot = clock_boottime_ns(), t = rec->t;
	enum timefix_verdict v = timefix_decide(tf, rec, !rec->synced && clock_synced(), boot);
	size_t len;
	int r;

	if (v == TIMEFIX_CORRECT)
		t = timefix_time(rec, real, boot);
	else if (v == TIMEFIX_HOLD)
		fprintf(stderr, "streamerd: record %" PRIu64 " was taken before the clock was "
		    "synchronised: streamerd holds it for a correction (up to unsynced_hold_s); "
		    "printed as it is\n", rec->seq);
	if ((r = row_format_at(rec, jid, h, real, t, v == TIMEFIX_CORRECT, buf, sizeof(buf),
	    &len)) < 0) {
		snprintf(err, errlen, "record %" PRIu64 " does not fit in a row: %s", rec->seq,
		    strerror(-r));
		return r;
	}
	if (fwrite(buf, 1, len, out) != len || fflush(out) != 0) {
		snprintf(err, errlen, "cannot write row %" PRIu64 ": %s", rec->seq,
		    strerror(errno));
		return -EIO;
	}
	return 0;
}

int
preview_rows(const struct preview_opts *o, const struct row_host *h, FILE *out,
    char *err, size_t errlen)
{
	struct sdsock *c = NULL;
	struct proto_msg hello, m;
	struct timefix tf;
	uint64_t done = 0;
	int r;

	/* Before the sandbox: it reads /proc. Unreadable, nothing is corrected,
	 * as in streamerd. */
	(void)timefix_init(&tf, "/proc/sys/kernel/random/boot_id", o->hold_ns);
	if ((r = start(o, &c, &hello, err, errlen)) < 0)
		goto out;
	while (done < o->n) {
		if ((r = sdsock_wait(c, -1, &m)) < 0) {
			snprintf(err, errlen, "sensord connection lost after %" PRIu64 " of %"
			    PRIu64 " rows: %s", done, o->n, r == -ECONNRESET ?
			    "closed by sensord" : *sdsock_why(c, NULL) ? sdsock_why(c, NULL) :
			    strerror(-r));
			goto out;
		}
		if (m.op == PROTO_OP_REC) {
			if ((r = print_row(&m.u.rec, hello.u.hello_s.journal_id, h, &tf, out,
			    err, errlen)) < 0)
				goto out;
			done++;
		} else if (m.op == PROTO_OP_GAP) {
			fprintf(stderr, "streamerd: seqs %" PRIu64 "..%" PRIu64 " are no longer in "
			    "the journal: streamerd would skip them\n", m.u.gap.from, m.u.gap.to);
		} else if (m.op == PROTO_OP_ERR) {
			snprintf(err, errlen, "sensord refused: error %u: %s", m.u.err.code,
			    m.u.err.msg);
			r = -EPROTO;
			goto out;
		}
	}
	r = 0;
out:
	sdsock_close(c);
	return r;
}
