/* SPDX-License-Identifier: Apache-2.0 */
/*
 * sensord: start-up (config, bus, state dir, journal, chips, socket, then
 * privilege drop and sandbox) and the one loop. Each turn reads
 * CLOCK_MONOTONIC once, waits in ppoll until the earliest timer (next
 * record, the chips' schedule, fsync, ack persistence, retention, watchdog)
 * or socket activity, and dispatches. Signals are blocked except inside
 * ppoll, and their handlers only set flags.
 *
 * A record is journaled before any client can see it: the server reads
 * records only from the journal.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "fsutil.h"
#include "i2c_bus.h"
#include "journal.h"
#include "log.h"
#include "metrics.h"
#include "notify.h"
#include "priv.h"
#include "proto.h"
#include "config.h"
#include "safedir.h"
#include "sensors.h"
#include "server.h"
#include "sysstat.h"
#include "timer.h"

#define DEFAULT_CONF "/etc/snowsense/sensord.json"
#define WATCHDOG_NS NS_PER_S
/* The ack flush rides on the chips' tick: after running on it
 * (early), it is due 1.1 s later and may run from 0.5 s on, a window that
 * holds the next tick whatever the loop's latency; after running on its own
 * deadline, it is due 1.25 s later from 0.5 s on, so it joins the tick. */
/* Retention rides on the same tick: max_bytes is enforced at every
 * segment roll (journal_append), so a late retention run only delays
 * deleting acked segments and enforcing max_age_days. */
#define HOUSEKEEPING_DUE_NS (NS_PER_S + NS_PER_S / 10)
#define HOUSEKEEPING_CATCH_NS (NS_PER_S + NS_PER_S / 4)
#define HOUSEKEEPING_MIN_NS (NS_PER_S / 2)
/* with the 1.25 s tick on top: the metrics file is at most ~10 s old */
#define METRICS_MAX_AGE_NS (9 * NS_PER_S)
#define NS_PER_DAY (86400LL * NS_PER_S)

static volatile sig_atomic_t got_term, got_hup;

/* Who may do what on the socket, resolved from the names in the config. */
struct access {
	uid_t streamer;
	uid_t uids[2 * CONF_LIST_MAX];
	size_t nuids;
	gid_t gids[2 * CONF_LIST_MAX + 1];
	size_t ngids;
	char hint[160];		/* what a refused client is told */
};

struct daemon {
	struct config conf;
	struct i2c_bus *bus;
	struct sensors *sensors;
	struct journal *journal;
	struct server *server;
	struct sysstat *sys;
	struct notify *notify;
	int64_t start;			/* CLOCK_MONOTONIC */
	int64_t interval_ns;
	struct timer_set timers;
	struct timer t_chips, t_record, t_fsync, t_ack_flush, t_retain, t_watchdog;
	int64_t last_watchdog;		/* when WATCHDOG=1 was last sent */
	int state_fd;			/* the state dir, opened once (safedir) */
	struct access access;
	uint64_t append_failures;	/* records lost: not journaled */
	bool metrics_failing;
	int64_t metrics_at;		/* mono: the file was last written */
	int64_t last_commit_ns;		/* when the newest record was journaled */
	uint64_t overruns;
	int64_t next_overrun_log;
	struct pollfd *fds;
	size_t nfds_cap;
	uint8_t *msg;			/* PROTO_MAX_MSG: the record being encoded */
};

static void
usage(FILE *f)
{
	fprintf(f, "usage: sensord [-f FILE] [-d] [-n] [-v] [--interval SECONDS] [--probe]\n"
	    "               [--verify-journal] [--print-config] [--help] [--version]\n"
	    "  -f FILE            configuration (default " DEFAULT_CONF ")\n"
	    "  -d                 stay in the foreground, log to stderr\n"
	    "  -n                 check the configuration and exit\n"
	    "  -v                 more verbose (debug) logging\n"
	    "  --interval SECONDS record interval, overrides interval_ms\n"
	    "  --probe            test the chips on the bus once and exit\n"
	    "  --verify-journal   check every journal entry, print a report, exit 0 if clean\n"
	    "  --print-config     print the configuration in effect (file, defaults and\n"
	    "                     --interval) as JSON and exit\n"
	    "exit status: 0 ok, 1 runtime failure, 2 usage, 3 configuration,\n"
	    "             4 production mode failed (no bus or no chips)\n");
}

static void
on_signal(int sig)
{
	if (sig == SIGHUP)
		got_hup = 1;
	else
		got_term = 1;
}

static void
setup_signals(sigset_t *ret_waitmask)
{
	struct sigaction sa = { .sa_handler = on_signal };
	sigset_t block;

	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&block);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGHUP);
	sigprocmask(SIG_BLOCK, &block, ret_waitmask);
	sigdelset(ret_waitmask, SIGTERM);
	sigdelset(ret_waitmask, SIGINT);
	sigdelset(ret_waitmask, SIGHUP);
}

/* ------------------------------------------------------------ status */

static void
fill_status(void *ctx, struct proto_status *st)
{
	struct daemon *d = ctx;
	struct journal_stats js;

	memset(st, 0, sizeof(*st));
	journal_stats(d->journal, &js);
	st->uptime_s = (uint64_t)((clock_mono_ns() - d->start) / NS_PER_S);
	st->journal_id = js.journal_id;
	st->first_seq = js.first_seq;
	st->last_seq = js.last_seq;
	st->acked_seq = js.acked_seq;
	st->records_written = js.records_written;
	st->records_dropped = js.records_dropped;
	st->seqs_skipped = js.seqs_skipped;
	st->clients = d->server ? server_clients(d->server) : 0;
	if (d->sensors)
		sensors_status(d->sensors, st);
}

/* The one start line: what a person checks first in the log. */
static void
ready_line(struct daemon *d, bool dropped)
{
	struct journal_stats st;
	char who[sizeof(d->conf.user) + sizeof(d->conf.group) + 40] = "";

	journal_stats(d->journal, &st);
	if (dropped)
		snprintf(who, sizeof(who), ", running as %s:%s (dropped privileges)", d->conf.user,
		    d->conf.group);
	log_info("sensord %s ready: device \"%s\", socket %s, record every %" PRId64 " ms, "
	    "journal %016" PRIx64 " holding %" PRIu64 " records (seq %" PRIu64 "..%" PRIu64
	    ", acked %" PRIu64 ")%s", SNOWSENSE_VERSION, d->conf.device, d->conf.socket,
	    d->conf.interval_ms, st.journal_id, st.first_seq ? st.last_seq - st.first_seq + 1 : 0,
	    st.first_seq, st.last_seq, st.acked_seq, who);
}

/* ------------------------------------------------------------ records */

/* Rewrites the metrics file, warning when it starts failing, not on every
 * record. Also after a record was lost: the count of lost records is what
 * an operator watches on a full disk. */
static void
write_metrics(struct daemon *d)
{
	struct metrics_extra x = { .records_lost = d->append_failures };
	struct server_stats ss;
	struct proto_status st;
	int rc;

	if (!d->conf.metrics_file[0])
		return;
	fill_status(d, &st);
	server_stats(d->server, &ss);
	x.records_damaged = ss.records_damaged;
	x.clients_refused = ss.clients_refused;
	x.acks_refused = ss.acks_refused;
	x.last_commit_ns = d->last_commit_ns;
	d->metrics_at = clock_mono_ns();
	rc = metrics_write(d->conf.metrics_file, &st, &x, d->conf.device);
	if (rc < 0 && !d->metrics_failing)
		log_warnx("cannot write metrics_file %s: %s", d->conf.metrics_file,
		    strerror(-rc));
	d->metrics_failing = rc < 0;
}

/* Journals one record and publishes it; false when it was not journaled. */
static bool
make_record(struct daemon *d)
{
	struct record *r;
	size_t len;
	uint64_t seq;
	int rc;

	r = calloc(1, sizeof(*r));
	if (!r) {
		log_warnx("out of memory: record skipped");
		return false;
	}
	r->seq = journal_next_seq(d->journal);
	r->t = clock_realtime_ns();
	r->boot_ns = (uint64_t)clock_boottime_ns();
	r->synced = clock_synced();
	snprintf(r->device, sizeof(r->device), "%s", d->conf.device);
	if (sysstat_boot_id(d->sys)) {
		r->has_boot_id = true;
		snprintf(r->boot_id, sizeof(r->boot_id), "%s", sysstat_boot_id(d->sys));
	}
	sensors_take(d->sensors, r);
	sysstat_sample(d->sys, &r->sys);
	rc = proto_encode_record(r, d->msg, PROTO_MAX_MSG, &len);
	if (rc == 0)
		rc = journal_append(d->journal, d->msg, len, r->t, &seq);
	if (rc < 0) {
		/* Logged on the first failure and then every 100th, so a full
		 * disk does not flood the log at a short interval; every one is
		 * counted in sensord_records_lost_total. */
		if (d->append_failures++ % 100 == 0)
			log_errx("record %" PRIu64 " not journaled (%" PRIu64 " lost so far): "
			    "%s", r->seq, d->append_failures, strerror(-rc));
	} else {
		d->last_commit_ns = clock_realtime_ns();
		server_wake(d->server);
	}
	free(r);
	write_metrics(d);
	return rc == 0;
}

/* ------------------------------------------------------------ loop */

static int64_t
min64(int64_t a, int64_t b)
{
	return a < b ? a : b;
}

static int64_t
max64(int64_t a, int64_t b)
{
	return a > b ? a : b;
}

static void record_on_tick(struct daemon *d, int64_t now);

/* The chip manager keeps its own schedule (each driver says when it wants
 * its next poll, and sensors_next_deadline coalesces deadlines a few ms
 * apart); this timer follows it, re-read after each run because a run is
 * the only thing that changes it. The chips share one tick among
 * themselves (sensors_run serves a slot early on another chip's wake-up);
 * the once-a-second housekeeping below has slack, so it rides on that tick
 * instead of waking on its own, and a record whose slot comes before the
 * next tick is taken on this one (record_on_tick). This timer has none:
 * serving the chips on any wake-up (a client's message) would pull their
 * grids off the tick. */
static void
on_chips(struct timer *t, void *arg, int64_t now)
{
	struct daemon *d = arg;

	sensors_run(d->sensors, now);
	record_on_tick(d, now);
	timer_arm(t, sensors_next_deadline(d->sensors));
}

/* WATCHDOG=1 means "records are being journaled": armed by a journaled
 * record (progressed), sent at most once a second, and not re-armed, so
 * an idle or failing journal sends none and costs no wake-up. */
static void
on_watchdog(struct timer *t, void *arg, int64_t now)
{
	struct daemon *d = arg;

	(void)t;
	notify_send(d->notify, "WATCHDOG=1");
	d->last_watchdog = now;
}

static void
progressed(struct daemon *d, int64_t now)
{
	if (!timer_armed(&d->t_watchdog))
		timer_arm(&d->t_watchdog, max64(now, d->last_watchdog + WATCHDOG_NS));
}

/* How much before its slot a record may be taken on the chips' tick: up to
 * 1 s, and not at all for records less than 2 s apart. When the chips are
 * off their regular tick (retrying, restarting), their wake-ups come at
 * odd times; a 1 s record taken on them would now and then catch two of a
 * 1 Hz chip's reads and leave its neighbour none (seen in chip-faults.sh),
 * while a record 2 s or more long holds at least one whatever the jitter. */
static int64_t
record_slack(const struct daemon *d)
{
	return d->interval_ns < 2 * NS_PER_S ? 0 : min64(NS_PER_S, d->interval_ns / 2);
}

/* Where the record grid lies against the chips' 1 s tick, which starts
 * with them (a few ms before this): records 2 s or more apart are taken on
 * the tick (record_on_tick); 1 s records on their own timer, half a second
 * off the tick. Right before it, as they were, a record timer that fired a
 * few tens of ms late (a busy Pi) took that tick's answers too and left the
 * next record none; half a second off, each record takes the same answers
 * whatever the lateness. The chips keep their tick's phase when one is
 * re-initialised (chip_grid_resume). Other intervals under 2 s meet the
 * tick at changing places anyway (1.5 s), or most of their records hold
 * no 1 Hz answer at all (sub-second): they start at once. */
static int64_t
record_phase(const struct daemon *d)
{
	return d->interval_ns == NS_PER_S ? NS_PER_S / 2 : 0;
}

static void on_record(struct timer *t, void *arg, int64_t now);

/* A record whose slot comes before the chips' next wake-up, and at most
 * record_slack away, is taken now, right after the chips ran: it costs no
 * wake-up of its own, and it is taken on the same tick of the chips' grid
 * every time, so each record gets the samples of the same ticks (a record
 * taken at whatever wake-up came first would now and then catch two of a
 * chip's reads and leave the next record none). The grid it keeps is its
 * slots'; the samples are still those that arrived since the previous
 * record. */
static void
record_on_tick(struct daemon *d, int64_t now)
{
	int64_t slot = timer_when(&d->t_record);

	if (timer_armed(&d->t_record) && slot > now && slot - now <= record_slack(d) &&
	    slot <= sensors_next_deadline(d->sensors))
		on_record(&d->t_record, d, now);
}

/* Records keep their grid (start + k * interval) so they do not drift. */
static void
on_record(struct timer *t, void *arg, int64_t now)
{
	struct daemon *d = arg;
	int64_t next = timer_when(t) + d->interval_ns;

	if (make_record(d))
		progressed(d, now);
	if (next <= now) {
		/* A whole interval was lost (machine stalled): restart the grid
		 * from now rather than firing a burst of records. Logged once a
		 * minute at most, with a count. */
		d->overruns++;
		if (now >= d->next_overrun_log) {
			log_warnx("record interval overrun (%" PRIu64 " so far)", d->overruns);
			d->next_overrun_log = now + 60 * NS_PER_S;
		}
		next = now + d->interval_ns;
	}
	timer_arm(t, next);
}

static void
on_fsync(struct timer *t, void *arg, int64_t now)
{
	struct daemon *d = arg;

	if (journal_sync(d->journal) < 0)
		log_warn("journal fsync");
	timer_arm_in(t, now, d->conf.journal.fsync_interval_ms * NS_PER_MS);
}

static void
arm_housekeeping(struct timer *t, int64_t now)
{
	int64_t due = now < timer_when(t) ? HOUSEKEEPING_DUE_NS : HOUSEKEEPING_CATCH_NS;

	timer_arm_slack(t, now + due, due - HOUSEKEEPING_MIN_NS);
}

/* Acks are written about once a second (on the chips' tick, at most
 * 1.25 s apart), not per ack, and without fsync (journal_write_acked): a
 * crash of sensord loses none of them, and the journal makes them durable
 * itself before it deletes a segment they cover. Losing the last acks at a
 * power cut only means streamerd resumes from Snowflake's committed token
 * and records stay a little longer, while an fsync per ack (three to eight
 * waits for the disk) would be most of sensord's wake-ups at defaults and
 * wear an SD card at high ack rates. */
static void
on_ack_flush(struct timer *t, void *arg, int64_t now)
{
	struct daemon *d = arg;

	(void)journal_write_acked(d->journal);
	/* with a long interval the records alone leave the file too old */
	if (now - d->metrics_at >= METRICS_MAX_AGE_NS)
		write_metrics(d);
	arm_housekeeping(t, now);
}

static void
on_retain(struct timer *t, void *arg, int64_t now)
{
	struct daemon *d = arg;

	journal_retain(d->journal, clock_realtime_ns());
	arm_housekeeping(t, now);
}

static void
start_timers(struct daemon *d, int64_t now)
{
	timer_set_init(&d->timers);
	timer_init(&d->t_chips, &d->timers, on_chips, d);
	timer_init(&d->t_record, &d->timers, on_record, d);
	timer_init(&d->t_fsync, &d->timers, on_fsync, d);
	timer_init(&d->t_ack_flush, &d->timers, on_ack_flush, d);
	timer_init(&d->t_retain, &d->timers, on_retain, d);
	timer_init(&d->t_watchdog, &d->timers, on_watchdog, d);
	timer_arm(&d->t_chips, sensors_next_deadline(d->sensors));
	timer_arm(&d->t_record, now + d->interval_ns + record_phase(d));
	if (d->conf.journal.fsync == CONFIG_FSYNC_INTERVAL)
		timer_arm(&d->t_fsync, now + d->conf.journal.fsync_interval_ms * NS_PER_MS);
	timer_arm_slack(&d->t_ack_flush, now + HOUSEKEEPING_CATCH_NS,
	    HOUSEKEEPING_CATCH_NS - HOUSEKEEPING_MIN_NS);
	timer_arm(&d->t_retain, now);
	d->last_watchdog = now - WATCHDOG_NS;
}

static int
run(struct daemon *d, const sigset_t *waitmask)
{
	int64_t now = clock_mono_ns();

	start_timers(d, now);
	while (!got_term) {
		/* The server's one deadline (the end of an accept pause) changes
		 * inside server_dispatch, so the loop asks for it each turn
		 * rather than mirroring it in a timer. */
		int64_t next = min64(timer_next(&d->timers), server_next_deadline(d->server));
		int64_t wait = next - now;
		struct timespec ts;
		size_t n;
		int r;

		if (wait < 0)
			wait = 0;
		ts.tv_sec = wait / NS_PER_S;
		ts.tv_nsec = wait % NS_PER_S;
		n = server_pollfds(d->server, d->fds, d->nfds_cap, now);
		r = ppoll(d->fds, n, &ts, waitmask);
		if (r < 0 && errno != EINTR) {
			log_warn("ppoll");
			return EXIT_RUNTIME;
		}
		now = clock_mono_ns();
		if (got_hup) {
			/* Nothing to reopen: stderr, or syslog's socket opened at
			 * start (the sandbox allows no new one). */
			got_hup = 0;
			log_info("SIGHUP: nothing to reload (the configuration is read at "
			    "start only)");
		}
		if (got_term)
			break;
		if (r > 0)
			server_dispatch(d->server, d->fds, n, now);
		server_tick(d->server, now);
		timer_run(&d->timers, now);
	}
	log_info("stopping");
	return EXIT_OK;
}

/* ------------------------------------------------------------ start-up */

struct opts {
	const char *conf;
	bool foreground, check, probe, verify;
	int verbose;
	double interval_s;	/* 0: from the config */
	bool print_config;
};

static void
parse_args(int argc, char **argv, struct opts *o)
{
	static const struct option longopts[] = {
		{ "interval", required_argument, NULL, 'i' },
		{ "probe", no_argument, NULL, 'p' },
		{ "verify-journal", no_argument, NULL, 'J' },
		{ "print-config", no_argument, NULL, 'P' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	char *end;
	int c;

	memset(o, 0, sizeof(*o));
	o->conf = DEFAULT_CONF;
	while ((c = getopt_long(argc, argv, "f:dnvh", longopts, NULL)) != -1) {
		switch (c) {
		case 'f': o->conf = optarg; break;
		case 'd': o->foreground = true; break;
		case 'n': o->check = true; break;
		case 'v': o->verbose++; break;
		case 'p': o->probe = true; break;
		case 'J': o->verify = true; break;
		case 'P': o->print_config = true; break;
		case 'h': usage(stdout); exit(EXIT_OK);
		case 'V': printf("sensord %s\n", SNOWSENSE_VERSION); exit(EXIT_OK);
		case 'i':
			errno = 0;
			o->interval_s = strtod(optarg, &end);
			if (errno || end == optarg || *end || !isfinite(o->interval_s) ||
			    o->interval_s < 0.01 || o->interval_s > 3600) {
				fprintf(stderr, "sensord: --interval: expected seconds 0.01..3600, "
				    "got \"%s\"\n", optarg);
				exit(EXIT_USAGE);
			}
			break;
		default:
			usage(stderr);
			exit(EXIT_USAGE);
		}
	}
	if (optind != argc) {
		fprintf(stderr, "sensord: unexpected argument \"%s\"\n", argv[optind]);
		usage(stderr);
		exit(EXIT_USAGE);
	}
}

static void
open_bus(struct daemon *d)
{
	int r = i2c_bus_open(d->conf.bus, &d->bus);

	if (r < 0)
		fatalx_code(EXIT_PRODUCTION, "PRODUCTION MODE FAILED: cannot open %s: %s "
		    "(is I2C enabled, e.g. dtparam=i2c_arm=on on a Raspberry Pi, and is "
		    "sensord's user in the group owning %s, usually \"i2c\"?)", d->conf.bus,
		    strerror(-r), d->conf.bus);
}

/* Opens the state dir once (created 0700 when missing) and checks it and
 * the socket's dir: owned by root or owner (the user sensord runs as once
 * started), writable by no one else. A socket dir sensord creates as root
 * goes to that user so it can remove its socket at exit. */
static void
prepare_dirs(struct daemon *d, bool root, uid_t owner, gid_t gid)
{
	char sockdir[CONFIG_PATH_LEN], err[512];
	char *slash;

	if (safedir_open(d->conf.state_dir, "state_dir", owner, &d->state_fd, err,
	    sizeof(err)) < 0)
		fatalx_code(EXIT_CONFIG, "%s", err);
	snprintf(sockdir, sizeof(sockdir), "%s", d->conf.socket);
	slash = strrchr(sockdir, '/');
	if (slash && slash != sockdir) {
		*slash = '\0';
		if (mkdir(sockdir, 0755) == 0) {
			if (root && chown(sockdir, owner, gid) < 0)
				fatal("cannot give %s to uid %u", sockdir, owner);
		} else if (errno != EEXIST) {
			fatal("cannot create %s", sockdir);
		}
	}
	if (safedir_check_parent(d->conf.socket, "socket", owner, err, sizeof(err)) < 0)
		fatalx_code(EXIT_CONFIG, "%s", err);
}

/* As root, just before the drop: the dropped process writes segments and
 * state files in the state dir, including those created above as root. */
static void
give_state_dir(struct daemon *d, uid_t uid, gid_t gid)
{
	char err[256];
	int r = priv_chown_dir(d->state_fd, uid, gid, err, sizeof(err));

	if (r < 0)
		fatalx("cannot give state_dir %s to uid %u: %s", d->conf.state_dir, uid, err);
}

static void
open_journal(struct daemon *d)
{
	struct journal_opts o = {
		.segment_bytes = (uint64_t)d->conf.journal.segment_bytes,
		.max_bytes = (uint64_t)d->conf.journal.max_bytes,
		.max_age_ns = d->conf.journal.max_age_days * NS_PER_DAY,
		.fsync = d->conf.journal.fsync == CONFIG_FSYNC_ALWAYS ? JOURNAL_FSYNC_ALWAYS :
		    d->conf.journal.fsync == CONFIG_FSYNC_INTERVAL ? JOURNAL_FSYNC_INTERVAL :
		    JOURNAL_FSYNC_NEVER,
	};
	char err[512];
	struct journal_stats st;

	if (journal_open(d->state_fd, d->conf.state_dir, &o, &d->journal, err,
	    sizeof(err)) < 0)
		fatalx("%s", err);
	journal_stats(d->journal, &st);
	log_debug("journal %016" PRIx64 ": %" PRIu64 " records held (seq %" PRIu64 "..%" PRIu64
	    "), next seq %" PRIu64 ", acked %" PRIu64 "%s", st.journal_id,
	    st.first_seq ? st.last_seq - st.first_seq + 1 : 0, st.first_seq, st.last_seq,
	    st.next_seq, st.acked_seq, st.damaged ? " (damage found, see above)" : "");
}

static void
start_sensors(struct daemon *d)
{
	char err[512] = "";
	int r;

	/* a 1 s record needs each 1 Hz answer read when it is ready */
	d->conf.sensors.reads_wait = d->interval_ns >= 2 * NS_PER_S;
	r = sensors_new(&d->conf.sensors, d->bus, d->conf.state_dir, clock_mono_ns(),
	    &d->sensors, err, sizeof(err));
	if (r == -ENODEV)
		fatalx_code(EXIT_PRODUCTION, "PRODUCTION MODE FAILED: %s", err);
	if (r < 0)
		fatalx("cannot start the chips on %s: %s%s%s", d->conf.bus, strerror(-r),
		    err[0] ? ": " : "", err);
}

static void
start_server(struct daemon *d, bool root, uid_t uid, gid_t sock_gid)
{
	struct server_conf sc = {
		.path = d->conf.socket,
		.mode = d->conf.socket_mode_bits,
		.uid = root ? uid : (uid_t)-1,
		.gid = root || d->conf.socket_group[0] ? sock_gid : (gid_t)-1,
		.streamer = d->access.streamer,
		.streamer_name = d->conf.streamer_user,
		.uids = d->access.uids,
		.nuids = d->access.nuids,
		.gids = d->access.gids,
		.ngids = d->access.ngids,
		.denied_hint = d->access.hint,
		.max_clients = (unsigned)d->conf.max_clients,
		.max_per_uid = (unsigned)d->conf.max_clients_per_uid,
		.device = d->conf.device,
	};
	char err[512];

	if (server_new(&sc, d->journal, fill_status, d, &d->server, err, sizeof(err)) < 0)
		fatalx("%s", err);
	d->nfds_cap = server_maxfds(d->server);
	d->fds = calloc(d->nfds_cap, sizeof(*d->fds));
	if (!d->fds)
		fatalx("out of memory");
}

/* --verify-journal: read-only, through the directory opened once, never
 * following a symbolic link in place of it. */
static int
verify(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC), rc;

	if (fd < 0) {
		fprintf(stderr, "sensord: cannot read %s: %s\n", dir, strerror(errno));
		return EXIT_RUNTIME;
	}
	rc = journal_verify(fd, stdout);
	close(fd);
	if (rc < 0)
		fprintf(stderr, "sensord: cannot read %s: %s\n", dir, strerror(-rc));
	return rc == 0 ? EXIT_OK : EXIT_RUNTIME;
}

/* Resolves who may do what on the socket from the names in the config;
 * a name that does not exist is a configuration error (exit 3) naming the
 * file and the key. sock_gid: socket_group's gid, or (gid_t)-1. */
static int
resolve_access(struct daemon *d, const char *file, gid_t sock_gid)
{
	const struct config *c = &d->conf;
	struct access *a = &d->access;
	size_t i;

	if (priv_user(c->streamer_user, &a->streamer) < 0) {
		fprintf(stderr, "sensord: %s: \"streamer_user\": user \"%s\" does not exist "
		    "(the user streamerd runs as: create it with systemd-sysusers, or name "
		    "that user)\n", file, c->streamer_user);
		return EXIT_CONFIG;
	}
	for (i = 0; i < c->allowed_users.n; i++)
		if (priv_user(c->allowed_users.v[i], &a->uids[a->nuids++]) < 0) {
			fprintf(stderr, "sensord: %s: \"allowed_users\": user \"%s\" does not "
			    "exist\n", file, c->allowed_users.v[i]);
			return EXIT_CONFIG;
		}
	for (i = 0; i < c->allowed_uids.n; i++)
		a->uids[a->nuids++] = (uid_t)c->allowed_uids.v[i];
	for (i = 0; i < c->allowed_groups.n; i++)
		if (priv_group(c->allowed_groups.v[i], &a->gids[a->ngids++]) < 0) {
			fprintf(stderr, "sensord: %s: \"allowed_groups\": group \"%s\" does not "
			    "exist\n", file, c->allowed_groups.v[i]);
			return EXIT_CONFIG;
		}
	for (i = 0; i < c->allowed_gids.n; i++)
		a->gids[a->ngids++] = (gid_t)c->allowed_gids.v[i];
	/* Whoever the socket's file permissions let in by its group is in. */
	if (sock_gid != (gid_t)-1)
		a->gids[a->ngids++] = sock_gid;
	if (c->socket_group[0])
		snprintf(a->hint, sizeof(a->hint), "join group \"%s\" (its socket_group), or "
		    "ask to be named in allowed_users", c->socket_group);
	else
		snprintf(a->hint, sizeof(a->hint), "ask to be named in allowed_users or "
		    "allowed_groups of sensord's configuration");
	return EXIT_OK;
}

static void
shutdown_all(struct daemon *d)
{
	server_free(d->server);
	sensors_free(d->sensors);
	if (d->journal && journal_sync(d->journal) < 0)
		log_warn("journal fsync at exit");
	journal_close(d->journal);
	if (d->state_fd >= 0)
		close(d->state_fd);
	i2c_bus_free(d->bus);
	sysstat_free(d->sys);
	notify_close(d->notify);
	free(d->fds);
	free(d->msg);
}

int
main(int argc, char **argv)
{
	static struct daemon d;
	struct opts o;
	sigset_t waitmask;
	char err[512];
	bool root = geteuid() == 0;
	uid_t uid = 0;
	gid_t gid = 0, sock_gid = (gid_t)-1;
	int rc;

	/* No core file or ptrace by our user: the journal's records pass
	 * through memory, and a core of a root process lands where root says. */
	(void)prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
	d.state_fd = -1;
	parse_args(argc, argv, &o);
	if (config_load(o.conf, &d.conf, err, sizeof(err)) < 0) {
		fprintf(stderr, "sensord: %s\n", err);
		return EXIT_CONFIG;
	}
	if (o.interval_s > 0)
		d.conf.interval_ms = (int64_t)llround(o.interval_s * 1000.0);
	if (o.print_config)
		return conf_print(stdout, o.conf, config_keys, &d.conf) < 0 ? EXIT_RUNTIME :
		    EXIT_OK;
	if (root && !o.verify && priv_lookup(d.conf.user, d.conf.group, &uid, &gid, err,
	    sizeof(err)) < 0) {
		fprintf(stderr, "sensord: %s: \"user\"/\"group\": %s\n", o.conf, err);
		return EXIT_CONFIG;
	}
	if (d.conf.socket_group[0] && priv_group(d.conf.socket_group, &sock_gid) < 0) {
		fprintf(stderr, "sensord: %s: \"socket_group\": group \"%s\" does not exist\n",
		    o.conf, d.conf.socket_group);
		return EXIT_CONFIG;
	}
	if ((rc = resolve_access(&d, o.conf, d.conf.socket_group[0] ? sock_gid :
	    (gid_t)-1)) != EXIT_OK)
		return rc;
	if (root && sock_gid == (gid_t)-1)
		sock_gid = gid;
	if (o.check) {
		printf("configuration OK\n");
		return EXIT_OK;
	}
	if (o.verify)
		return verify(d.conf.state_dir);
	log_init("sensord", o.foreground || o.probe, o.verbose);
	open_bus(&d);
	if (o.probe) {
		rc = sensors_probe(&d.conf.sensors, d.bus);
		i2c_bus_free(d.bus);
		return rc == 0 ? EXIT_OK : EXIT_PRODUCTION;
	}
	setup_signals(&waitmask);
	d.start = clock_mono_ns();
	d.interval_ns = d.conf.interval_ms * NS_PER_MS;
	d.msg = malloc(PROTO_MAX_MSG);
	if (!d.msg)
		fatalx("out of memory");
	prepare_dirs(&d, root, root ? uid : geteuid(), gid);
	open_journal(&d);
	start_sensors(&d);
	start_server(&d, root, uid, sock_gid);
	if (sysstat_new(d.conf.disk_path, &d.sys) < 0)
		fatalx("out of memory");
	if ((rc = notify_open(&d.notify)) < 0)
		log_warnx("NOTIFY_SOCKET unusable: %s", strerror(-rc));
	if (!o.foreground && !d.notify && daemon(0, 0) < 0)
		fatal("daemon");
	if (root) {
		give_state_dir(&d, uid, gid);
		if (priv_drop(uid, gid, err, sizeof(err)) < 0)
			fatalx("privilege drop to %s:%s failed: %s", d.conf.user, d.conf.group, err);
		log_debug("dropped privileges to %s:%s (uid %u, gid %u)", d.conf.user,
		    d.conf.group, uid, gid);
	}
	if ((rc = priv_sandbox()) < 0) {
		errno = -rc;
		fatal("cannot enter the seccomp sandbox");
	}
	ready_line(&d, root);
	notify_send(d.notify, "READY=1");
	rc = run(&d, &waitmask);
	notify_send(d.notify, "STOPPING=1");
	shutdown_all(&d);
	log_fini();
	return rc;
}
