/* SPDX-License-Identifier: Apache-2.0 */
/*
 * snowpipe-emu: a local Snowpipe Streaming REST server for tests and the
 * demo. main() wires the modules together in dependency order (config,
 * store, auth, channels, faults, API, HTTP) and runs one loop: serve HTTP
 * until the next commit is due, then run the commit worker.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "emu_api.h"
#include "emu_auth.h"
#include "emu_chan.h"
#include "emu_conf.h"
#include "emu_fault.h"
#include "emu_http.h"
#include "emu_store.h"
#include "fsutil.h"
#include "log.h"

static volatile sig_atomic_t stop;

static void
on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static void
usage(FILE *f)
{
	fprintf(f,
	    "usage: snowpipe-emu --config FILE --db FILE [--listen ADDR:PORT]\n"
	    "                    [--tls-cert FILE --tls-key FILE] [--commit-lag-ms N]\n"
	    "                    [--store rows|count] [--faults FILE] [--no-limits]\n"
	    "                    [--strict[=LIST] | --no-strict] [-d] [-v]\n"
	    "\n"
	    "A local emulator of the Snowpipe Streaming REST API (high-performance\n"
	    "architecture, /v2/streaming/...): key-pair JWT and PAT auth, scoped tokens,\n"
	    "channels with continuation tokens, commits after a lag into SQLite, limits\n"
	    "and injectable faults. See tests/snowpipe-emu/README.md.\n"
	    "\n"
	    "  --config FILE       world description (account, users, tables, pipes) in JSON\n"
	    "  --db FILE           SQLite file for committed rows and channel state\n"
	    "                      (created if missing; kept across restarts)\n"
	    "  --listen ADDR:PORT  IPv4 address and port, port 0 = any free one\n"
	    "                      (default 127.0.0.1:0)\n"
	    "  --tls-cert FILE     PEM certificate; with --tls-key serves HTTPS\n"
	    "  --tls-key FILE      PEM private key (without both: plain HTTP)\n"
	    "  --commit-lag-ms N   delay between append and commit (default: config, 1000)\n"
	    "  --store rows|count  store rows in SQLite (default) or only check and count\n"
	    "  --faults FILE       faults to apply at start (same JSON as POST /_emu/faults)\n"
	    "  --no-limits         no rate limit, 1 GiB body and pending caps (benchmarks)\n"
	    "  --strict[=LIST]     documented behaviours today's clients may not handle:\n"
	    "                      all of them, or exactly LIST (comma-separated:\n"
	    "                      channel_case, invalid_409, pat_direct, scope_host,\n"
	    "                      ts_micros); overrides the config's \"strict\"\n"
	    "  --no-strict         none of them (the lenient emulator)\n"
	    "  -d, -v              debug logging (every request) on stderr\n"
	    "  -h, --help          this text\n"
	    "\n"
	    "When ready it prints one line to stdout:\n"
	    "  snowpipe-emu: listening on https://127.0.0.1:PORT\n"
	    "Control endpoints (no auth): GET /_emu/stats, GET /_emu/health,\n"
	    "GET|POST|DELETE /_emu/faults, POST /_emu/commit.\n");
}

struct opts {
	const char *config, *db, *listen, *cert, *key, *faults;
	int64_t lag_ms;
	bool count, no_limits;
	bool strict_set;	/* --strict or --no-strict given: strict overrides the config */
	unsigned strict;
	int verbose;
};

static int
parse_i64(const char *s, int64_t lo, int64_t hi, int64_t *ret)
{
	char *end;
	long long v;

	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || v < lo || v > hi)
		return -EINVAL;
	*ret = v;
	return 0;
}

static void
strict_opt(struct opts *o, const char *list)
{
	char err[200];

	o->strict_set = true;
	o->strict = EMU_STRICT_ALL;
	if (list != NULL && emu_strict_parse(list, &o->strict, err, sizeof(err)) < 0)
		fatalx_code(EXIT_USAGE, "--strict: %s", err);
}

static void
parse_opts(int argc, char **argv, struct opts *o)
{
	static const struct option lo[] = {
		{ "config", required_argument, NULL, 'c' }, { "db", required_argument, NULL, 'b' },
		{ "listen", required_argument, NULL, 'l' },
		{ "tls-cert", required_argument, NULL, 'C' },
		{ "tls-key", required_argument, NULL, 'K' },
		{ "commit-lag-ms", required_argument, NULL, 'L' },
		{ "store", required_argument, NULL, 's' }, { "faults", required_argument, NULL, 'f' },
		{ "no-limits", no_argument, NULL, 'N' }, { "help", no_argument, NULL, 'h' },
		{ "strict", optional_argument, NULL, 'S' },
		{ "no-strict", no_argument, NULL, 'n' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	o->listen = "127.0.0.1:0";
	o->lag_ms = -1;
	while ((c = getopt_long(argc, argv, "dvh", lo, NULL)) != -1) {
		switch (c) {
		case 'c': o->config = optarg; break;
		case 'b': o->db = optarg; break;
		case 'l': o->listen = optarg; break;
		case 'C': o->cert = optarg; break;
		case 'K': o->key = optarg; break;
		case 'f': o->faults = optarg; break;
		case 'N': o->no_limits = true; break;
		case 'n': o->strict_set = true; o->strict = 0; break;
		case 'S': strict_opt(o, optarg); break;
		case 'd': case 'v': o->verbose++; break;
		case 'h': usage(stdout); exit(EXIT_OK);
		case 'L':
			if (parse_i64(optarg, 0, 3600000, &o->lag_ms) < 0)
				fatalx_code(EXIT_USAGE, "--commit-lag-ms: expected 0..3600000");
			break;
		case 's':
			if (strcmp(optarg, "count") != 0 && strcmp(optarg, "rows") != 0)
				fatalx_code(EXIT_USAGE, "--store: expected rows or count");
			o->count = strcmp(optarg, "count") == 0;
			break;
		default:
			usage(stderr);
			exit(EXIT_USAGE);
		}
	}
	if (optind != argc || o->config == NULL || o->db == NULL) {
		usage(stderr);
		exit(EXIT_USAGE);
	}
	if ((o->cert == NULL) != (o->key == NULL))
		fatalx_code(EXIT_USAGE, "--tls-cert and --tls-key go together");
}

static void
load_faults(struct emu_api *api, const char *path)
{
	json_error_t je;
	json_t *doc = json_load_file(path, JSON_REJECT_DUPLICATES, &je);
	char err[256];

	if (doc == NULL)
		fatalx_code(EXIT_CONFIG, "%s: line %d: %s", path, je.line, je.text);
	if (emu_api_apply_faults(api, doc, err, sizeof(err)) < 0)
		fatalx_code(EXIT_CONFIG, "%s: %s", path, err);
	json_decref(doc);
}

static void
serve(struct emu_http *http, struct emu_chans *chans)
{
	while (!stop) {
		int64_t now = clock_mono_ns(), due = emu_chans_next_due(chans), wait_ms = 1000;

		if (due != INT64_MAX)
			wait_ms = due <= now ? 0 : (due - now) / NS_PER_MS + 1;
		emu_http_run(http, wait_ms);
		emu_chans_commit_due(chans, clock_mono_ns(), false);
	}
}

int
main(int argc, char **argv)
{
	struct opts o = { 0 };
	struct emu_conf *conf = NULL;
	struct emu_store *store = NULL;
	struct emu_auth *auth = NULL;
	struct emu_chans *chans = NULL;
	struct emu_faults *faults = NULL;
	struct emu_api *api = NULL;
	struct emu_http *http = NULL;
	struct sigaction sa = { .sa_handler = on_signal };
	unsigned char secret[32];
	char err[512];
	int64_t gen;
	int r;

	log_init("snowpipe-emu", 1, 0);
	parse_opts(argc, argv, &o);
	log_set_verbose(o.verbose);
	if ((r = emu_conf_load(o.config, &conf, err, sizeof(err))) < 0)
		fatalx_code(EXIT_CONFIG, "%s", r == -EINVAL ? err : strerror(-r));
	if (o.lag_ms >= 0)
		conf->commit_lag_ms = o.lag_ms;
	if (o.strict_set)
		emu_conf_set_strict(conf, o.strict);
	if (o.no_limits) {
		conf->limits.requests_per_s = 0;
		conf->limits.max_body_bytes = 1LL << 30;
		conf->limits.max_decompressed_bytes = 1LL << 31;
		conf->limits.max_pending_bytes = 1LL << 32;
	}
	if ((r = emu_store_open(o.db, conf, &store)) < 0)
		fatalx_code(EXIT_CONFIG, "%s: cannot open the database: %s", o.db, strerror(-r));
	if ((r = emu_store_secret(store, secret, &gen)) < 0 ||
	    (r = emu_auth_new(conf, secret, gen, &auth)) < 0 ||
	    (r = emu_chans_new(conf, store, o.count, conf->commit_lag_ms, &chans)) < 0 ||
	    (r = emu_faults_new(&faults)) < 0 ||
	    (r = emu_api_new(conf, auth, chans, faults, store, o.count, &api)) < 0)
		fatalx("start-up failed: %s", strerror(-r));
	if ((r = emu_http_start(o.listen, o.cert, o.key, (size_t)conf->limits.max_body_bytes,
	    emu_api_handle, api, &http)) < 0)
		fatalx("cannot listen on %s", o.listen);
	emu_api_set_http(api, http);
	if (o.faults != NULL)
		load_faults(api, o.faults);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	log_info("account %s, ingest host %s, store %s, commit lag %lld ms, strict 0x%x",
	    conf->account, emu_api_ingest_host(api), o.count ? "count" : "rows",
	    (long long)conf->commit_lag_ms, conf->strict);
	printf("snowpipe-emu: listening on %s://127.0.0.1:%u\n", emu_http_tls(http) ? "https" :
	    "http", emu_http_port(http));
	fflush(stdout);
	serve(http, chans);
	log_info("stopping");
	emu_http_stop(http);
	emu_api_free(api);
	emu_faults_free(faults);
	emu_chans_free(chans);
	emu_auth_free(auth);
	emu_store_close(store);
	emu_conf_free(conf);
	log_fini();
	return EXIT_OK;
}
