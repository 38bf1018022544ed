/* SPDX-License-Identifier: Apache-2.0 */
/*
 * sensortap: the reference client of sensord's socket protocol. It says
 * hello, then either asks for status or subscribes (live, from a seq, or
 * from the oldest record the journal still holds) and prints every record
 * as one JSON line with the keys of the record's field table (record.c,
 * docs/schema.md), or as one line for people (--pretty, pretty.h), or
 * shows a live full-screen view (--watch, watch.h). Gap notices go to
 * stderr.
 *
 * It never acks: a tap must not move the committed position (and sensord
 * would refuse: only streamerd's user may).
 *
 * It trusts a socket only when it is served by root or by the owner of the
 * socket's directory (the directory only sensord's user may create entries
 * in), so a process that took the path cannot show it forged records.
 */
#include <errno.h>
#include <getopt.h>
#include <grp.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "log.h"
#include "pretty.h"
#include "proto.h"
#include "sdsock.h"
#include "watch.h"

#define DEFAULT_SOCKET "/run/snowsense/sensord.sock"
#define DEFAULT_METRICS "/run/snowsense-metrics/streamerd.prom"	/* streamerd.json's example */
#define PRETTY_MAX 2048		/* one --pretty line */

/* sensortap's own exit codes (documented in --help and sensortap(1)). */
enum {
	TAP_OK = 0,
	TAP_FAIL = 1,		/* connection lost, protocol error, sensord said err */
	TAP_USAGE = 2,
	TAP_NOSOCKET = 3,	/* no socket at that path: is sensord running? */
	TAP_REFUSED = 4,	/* socket file exists but nobody listens (stale) */
	TAP_DENIED = 5,		/* no permission on the socket, or sensord refused us */
	TAP_TIMEOUT = 6,	/* sensord did not answer in time */
};

struct opts {
	const char *path;
	enum proto_from from;
	uint64_t from_seq;	/* with PROTO_FROM_SEQ */
	uint64_t count;		/* 0 = until interrupted */
	int status;
	int pretty;		/* one line for people per record */
	int watch;		/* the live view */
	const char *metrics;	/* streamerd's metrics file, for --watch */
	int timeout_ms;		/* for hello and status answers */
};

static void
usage(FILE *f)
{
	fprintf(f,
	    "usage: sensortap [-s SOCKET] [--from SEQ|oldest|now] [-n COUNT] [--pretty]\n"
	    "       sensortap [-s SOCKET] --watch [--metrics FILE]\n"
	    "       sensortap [-s SOCKET] --status\n"
	    "\n"
	    "Prints sensord's records as JSON lines (one per record) on stdout.\n"
	    "\n"
	    "  -s, --socket PATH   sensord's socket (default %s)\n"
	    "  -f, --from WHERE    SEQ: replay from that sequence number, then follow;\n"
	    "                      oldest: from the oldest record still journaled;\n"
	    "                      now: only new records (default)\n"
	    "  -n, --count N       exit after N records\n"
	    "  -p, --pretty        one line per record for people: local time, values\n"
	    "                      with units, each chip's state, what went wrong\n"
	    "  -w, --watch         a live full-screen view: values, chip states, the last\n"
	    "                      10 minutes as sparklines, the pipeline's lag; q quits\n"
	    "      --metrics FILE  streamerd's metrics file, for the lag (default %s)\n"
	    "      --status        print sensord's status as one JSON object and exit\n"
	    "  -h, --help          this text\n"
	    "      --version       print the version\n"
	    "\n"
	    "Gaps (records retention already dropped) are reported on stderr.\n"
	    "Exit status: 0 ok, 1 connection lost or protocol error, 2 usage,\n"
	    "3 no socket (is sensord running?), 4 connection refused (stale socket),\n"
	    "5 permission denied (the message says what to change), 6 timeout.\n"
	    "Colour only on a terminal, and never with NO_COLOR set.\n",
	    DEFAULT_SOCKET, DEFAULT_METRICS);
}

static int
parse_u64(const char *s, uint64_t *ret)
{
	char *end;
	unsigned long long v;

	if (!*s || *s == '-' || *s == '+')
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || *end)
		return -EINVAL;
	*ret = v;
	return 0;
}

static int
parse_args(int argc, char **argv, struct opts *o)
{
	static const struct option lo[] = {
		{ "socket", required_argument, NULL, 's' },
		{ "from", required_argument, NULL, 'f' },
		{ "count", required_argument, NULL, 'n' },
		{ "status", no_argument, NULL, 'S' },
		{ "pretty", no_argument, NULL, 'p' },
		{ "watch", no_argument, NULL, 'w' },
		{ "metrics", required_argument, NULL, 'M' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	o->path = DEFAULT_SOCKET;
	o->from = PROTO_FROM_NOW;
	o->metrics = DEFAULT_METRICS;
	o->timeout_ms = 5000;
	while ((c = getopt_long(argc, argv, "s:f:n:pwh", lo, NULL)) != -1) {
		switch (c) {
		case 's': o->path = optarg; break;
		case 'f':
			if (strcmp(optarg, "oldest") == 0)
				o->from = PROTO_FROM_OLDEST;
			else if (strcmp(optarg, "now") == 0)
				o->from = PROTO_FROM_NOW;
			else if (parse_u64(optarg, &o->from_seq) == 0)
				o->from = PROTO_FROM_SEQ;
			else {
				fprintf(stderr, "sensortap: --from: expected a sequence number, "
				    "\"oldest\" or \"now\", got \"%s\"\n", optarg);
				return -EINVAL;
			}
			break;
		case 'n':
			if (parse_u64(optarg, &o->count) < 0 || o->count == 0) {
				fprintf(stderr, "sensortap: -n: expected a positive count, got \"%s\"\n",
				    optarg);
				return -EINVAL;
			}
			break;
		case 'S': o->status = 1; break;
		case 'p': o->pretty = 1; break;
		case 'w': o->watch = 1; break;
		case 'M': o->metrics = optarg; break;
		case 'h': usage(stdout); exit(TAP_OK);
		case 'V': printf("sensortap %s\n", SNOWSENSE_VERSION); exit(TAP_OK);
		default: usage(stderr); return -EINVAL;
		}
	}
	if (optind != argc) {
		fprintf(stderr, "sensortap: unexpected argument \"%s\"\n", argv[optind]);
		usage(stderr);
		return -EINVAL;
	}
	if (o->status + o->pretty + o->watch > 1 || (o->watch && o->count)) {
		fprintf(stderr, "sensortap: --status, --pretty and --watch exclude each other "
		    "(and --watch -n)\n");
		return -EINVAL;
	}
	return 0;
}

/* Says how to get in when the socket file itself refused us: its group,
 * by name, is what opens it. */
static void
hint_file_denied(const char *path)
{
	struct stat st;
	struct group *gr;

	if (stat(path, &st) == 0 && (gr = getgrgid(st.st_gid)) != NULL)
		fprintf(stderr, "sensortap: %s: permission denied: it is for group \"%s\"; join "
		    "it (`sudo usermod -aG %s $USER`), then log in again\n", path, gr->gr_name,
		    gr->gr_name);
	else
		fprintf(stderr, "sensortap: %s: permission denied: ask the administrator for "
		    "access to sensord's socket\n", path);
}

/* Connects, waiting up to timeout_ms while sensord's backlog is full. */
static int
connect_sensord(const char *path, int timeout_ms, struct sdsock **ret)
{
	int r = sdsock_connect(path, sdsock_dir_owner(path), timeout_ms, ret);

	switch (r) {
	case 0:
		return TAP_OK;
	case -ENAMETOOLONG:
		fprintf(stderr, "sensortap: socket path too long: %s\n", path);
		return TAP_USAGE;
	case -ENOENT:
		fprintf(stderr, "sensortap: %s does not exist: is sensord running? "
		    "(see `supervise status` or `systemctl status sensord`)\n", path);
		return TAP_NOSOCKET;
	case -ECONNREFUSED:
		fprintf(stderr, "sensortap: %s: connection refused: sensord is not "
		    "listening there (stale socket file?)\n", path);
		return TAP_REFUSED;
	case -EACCES:
	case -EPERM:
		hint_file_denied(path);
		return TAP_DENIED;
	case -ESRCH:
		fprintf(stderr, "sensortap: %s: %s: it is neither root's nor its "
		    "directory owner's; not reading from it\n", path, sdsock_strerror(r));
		return TAP_FAIL;
	case -ETIMEDOUT:
		fprintf(stderr, "sensortap: sensord did not answer within %d ms\n", timeout_ms);
		return TAP_TIMEOUT;
	}
	fprintf(stderr, "sensortap: cannot connect to %s: %s\n", path, strerror(-r));
	return TAP_FAIL;
}

/* The outcome of sending a request (r: 0 or -errno). */
static int
sent(int r)
{
	if (r == 0)
		return TAP_OK;
	fprintf(stderr, "sensortap: send: %s\n", strerror(-r));
	return TAP_FAIL;
}

/* Receives one message; timeout_ms < 0 waits forever. */
static int
recv_msg(struct sdsock *c, int timeout_ms, struct proto_msg *m)
{
	const char *why;
	size_t len;
	int r = sdsock_wait(c, timeout_ms, m);

	switch (r) {
	case 0:
		break;
	case -ETIMEDOUT:
		fprintf(stderr, "sensortap: sensord did not answer within %d ms\n", timeout_ms);
		return TAP_TIMEOUT;
	case -ECONNRESET:
		fprintf(stderr, "sensortap: sensord closed the connection\n");
		return TAP_FAIL;
	case -EBADMSG:
	case -EMSGSIZE:
		why = sdsock_why(c, &len);
		fprintf(stderr, "sensortap: malformed message from sensord (%zu bytes): %s\n",
		    len, why);
		return TAP_FAIL;
	case -EPROTONOSUPPORT:
		fprintf(stderr, "sensortap: %s\n", sdsock_why(c, NULL));
		return TAP_FAIL;
	default:
		fprintf(stderr, "sensortap: recv: %s\n", strerror(-r));
		return TAP_FAIL;
	}
	if (m->op == PROTO_OP_ERR && m->u.err.code == PROTO_ERR_DENIED) {
		/* sensord's message names what would let this user in */
		fprintf(stderr, "sensortap: sensord refused this user (uid %u): %s; group "
		    "membership counts from the next login\n", (unsigned)getuid(),
		    m->u.err.msg);
		return TAP_DENIED;
	}
	if (m->op == PROTO_OP_ERR) {
		fprintf(stderr, "sensortap: sensord refused: %s (code %" PRIu32 ")\n",
		    m->u.err.msg, m->u.err.code);
		return TAP_FAIL;
	}
	return TAP_OK;
}

/* A record value as JSON, walking the field table: a block becomes an
 * object, a null value null. blk: the map f is in. */
static json_t *
field_json(const struct record *r, const struct record_field *blk,
    const struct record_field *f)
{
	const char *v = record_value(r, f);
	json_t *o;

	if (!record_present(r, blk, f))
		return json_null();
	switch (f->type) {
	case RECORD_U32: return json_integer(*(const uint32_t *)v);
	case RECORD_U64: return json_integer((json_int_t)*(const uint64_t *)v);
	case RECORD_I64: return json_integer(*(const int64_t *)v);
	case RECORD_F64: return json_real(*(const double *)v);
	case RECORD_BOOL: return json_boolean(*(const bool *)v);
	case RECORD_STR: return json_string(v);
	case RECORD_STRS:
		o = json_array();
		for (unsigned i = 0, n = *(const unsigned *)((const char *)r + f->count);
		    i < n && i < f->max; i++)
			json_array_append_new(o, json_string(v + (size_t)i * f->size));
		return o;
	case RECORD_MAP:
		o = json_object();
		for (size_t i = 0; i < f->nfields; i++)
			json_object_set_new(o, f->fields[i].key, field_json(r, f, &f->fields[i]));
		return o;
	}
	return json_null();
}

static json_t *
record_json(const struct record *r)
{
	return field_json(r, NULL, &record_root);
}

static json_t *
status_json(const struct proto_status *st)
{
	json_t *chips = json_array();
	char jid[17];

	for (uint32_t i = 0; i < st->nchips; i++) {
		const struct proto_chip_status *c = &st->chips[i];
		json_array_append_new(chips, json_pack("{s:s, s:s, s:I, s:I, s:I}",
		    "name", c->name, "state", c->state,
		    "measurements", (json_int_t)c->measurements,
		    "faults", (json_int_t)c->faults, "last_ok", (json_int_t)c->last_ok));
	}
	snprintf(jid, sizeof(jid), "%016" PRIx64, st->journal_id);
	return json_pack("{s:I, s:s, s:I, s:I, s:I, s:I, s:I, s:I, s:i, s:o}",
	    "uptime_s", (json_int_t)st->uptime_s, "journal_id", jid,
	    "first_seq", (json_int_t)st->first_seq, "last_seq", (json_int_t)st->last_seq,
	    "acked_seq", (json_int_t)st->acked_seq,
	    "records_written", (json_int_t)st->records_written,
	    "records_dropped", (json_int_t)st->records_dropped,
	    "seqs_skipped", (json_int_t)st->seqs_skipped,
	    "clients", (int)st->clients, "chips", chips);
}

static int
print_json(json_t *o)
{
	int r = json_dumpf(o, stdout, JSON_COMPACT | JSON_PRESERVE_ORDER |
	    JSON_REAL_PRECISION(12));

	json_decref(o);
	if (r < 0 || putchar('\n') == EOF || fflush(stdout) == EOF)
		return TAP_FAIL;	/* stdout closed (e.g. `| head`): stop quietly */
	return TAP_OK;
}

static int
print_pretty(const struct record *r, bool color)
{
	char line[PRETTY_MAX];

	if (pretty_line(r, color, line, sizeof(line)) < 0)
		return print_json(record_json(r));	/* a record too long to line up */
	if (puts(line) == EOF || fflush(stdout) == EOF)
		return TAP_FAIL;	/* stdout closed: stop quietly */
	return TAP_OK;
}

static int
stream(struct sdsock *c, const struct opts *o)
{
	bool color = o->pretty && isatty(STDOUT_FILENO) && getenv("NO_COLOR") == NULL;
	struct proto_msg m;
	uint64_t n = 0;
	int r;

	if ((r = sent(sdsock_subscribe(c, o->from, o->from_seq))) != TAP_OK)
		return r;
	for (;;) {
		if ((r = recv_msg(c, -1, &m)) != TAP_OK)
			return r;
		if (m.op == PROTO_OP_GAP) {
			fprintf(stderr, "sensortap: gap: records %" PRIu64 "..%" PRIu64
			    " are no longer in the journal\n", m.u.gap.from, m.u.gap.to);
			continue;
		}
		if (m.op != PROTO_OP_REC) {
			fprintf(stderr, "sensortap: unexpected \"%s\" from sensord\n",
			    proto_op_name(m.op));
			return TAP_FAIL;
		}
		r = o->pretty ? print_pretty(&m.u.rec, color) : print_json(record_json(&m.u.rec));
		if (r != TAP_OK)
			return r;
		if (o->count && ++n >= o->count)
			return TAP_OK;
	}
}

int
main(int argc, char **argv)
{
	struct opts o = { 0 };
	struct proto_msg m;
	struct sdsock *c;
	int r;

	log_init("sensortap", 1, 0);
	if (parse_args(argc, argv, &o) < 0)
		return TAP_USAGE;
	if ((r = connect_sensord(o.path, o.timeout_ms, &c)) != TAP_OK)
		return r;
	/* A refused client finds sensord's err waiting even when the hello
	 * could no longer be sent: read it before giving up. */
	r = sdsock_hello(c, "sensortap");
	if (r < 0 && r != -EPIPE && r != -ECONNRESET) {
		r = sent(r);
		goto out;
	}
	if ((r = recv_msg(c, o.timeout_ms, &m)) != TAP_OK)
		goto out;
	if (m.op != PROTO_OP_HELLO) {
		fprintf(stderr, "sensortap: expected hello from sensord, got \"%s\"\n",
		    proto_op_name(m.op));
		r = TAP_FAIL;
		goto out;
	}
	if (o.status) {
		if ((r = sent(sdsock_ask_status(c))) != TAP_OK ||
		    (r = recv_msg(c, o.timeout_ms, &m)) != TAP_OK)
			goto out;
		r = m.op == PROTO_OP_STATUS ? print_json(status_json(&m.u.status)) : TAP_FAIL;
		goto out;
	}
	if (o.watch)
		return watch_run(c, o.path, o.metrics);	/* it closes c */
	r = stream(c, &o);
out:
	sdsock_close(c);
	return r;
}
