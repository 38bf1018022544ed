/* SPDX-License-Identifier: Apache-2.0 */
/*
 * streamerd: streams sensord's records into a Snowflake table through the
 * Snowpipe Streaming REST API, exactly once. This file is the command line,
 * start-up (config, credential checks, key, sandbox) and the --check
 * report; the loop is stream.c, its decisions engine.c.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <malloc.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "auth.h"
#include "clock.h"
#include "log.h"
#include "notify.h"
#include "preview.h"
#include "row.h"
#include "sandbox.h"
#include "config.h"
#include "stream.h"

static volatile sig_atomic_t stop_flag;

struct opts {
	const char *file;
	int foreground, verbose, configtest, check, drop, accept_token;
	int64_t batch_size;		/* 0: from config */
	double flush_s;			/* 0: from config */
	int print_config;
	int64_t print_rows;		/* 0: not asked */
	int from_set;
	uint64_t from_seq;
};

static void
usage(FILE *f)
{
	fprintf(f,
	    "usage: streamerd [-f FILE] [-d] [-n] [--check] [--drop-channel]\n"
	    "                 [--batch-size N] [--flush-interval SECONDS]\n"
	    "                 [--accept-committed-token] [-v] [--help] [--version]\n"
	    "       streamerd [-f FILE] --print-config | --print-rows N [--from SEQ]\n"
	    "  -f FILE              configuration (default " CONFIG_DEFAULT_PATH ")\n"
	    "  -d                   stay in the foreground and log to stderr\n"
	    "  -n                   check the configuration and credential files, then exit\n"
	    "  --print-config       print the configuration in effect (the file, the defaults it\n"
	    "                       leaves out, the overrides below; the PAT redacted) as JSON\n"
	    "  --print-rows N       print the rows of the next N records as they would be\n"
	    "                       appended; sends nothing, acks nothing, reads no credential\n"
	    "  --from SEQ           with --print-rows: from record SEQ instead of the next one\n"
	    "  --check              check every stage (config, credentials, key, clock, sensord,\n"
	    "                       hostname, token, pipe) and print PASS/FAIL per stage\n"
	    "  --drop-channel       drop the channel and its offset token on the server, then exit\n"
	    "  --batch-size N       rows per append at most (config batch_max_rows)\n"
	    "  --flush-interval S   seconds before a partial batch is sent (alias --interval)\n"
	    "  --accept-committed-token\n"
	    "                       take a committed offset token the journal cannot explain\n"
	    "                       (ahead of it, or from another journal) as meant, once\n"
	    "  -v                   more logging (repeat for more)\n"
	    "exit status: 0 ok, 1 runtime failure, 2 usage, 3 configuration or credential\n"
	    "file, 4 production rules not met (authentication refused, missing pipe/table,\n"
	    "missing grants, a refusal that repeats, a committed offset token the journal\n"
	    "cannot explain)\n");
}

static void
on_signal(int sig)
{
	(void)sig;
	stop_flag = 1;
}

/* --print-rows N (1..1000000) and --from SEQ (>= 1). */
static int
parse_print_arg(int c, const char *arg, struct opts *o)
{
	unsigned long long v;
	char *end;

	errno = 0;
	v = strtoull(arg, &end, 10);
	if (errno != 0 || end == arg || *end != '\0' || arg[0] == '-' || v < 1 ||
	    (c == 'R' && v > 1000000)) {
		fprintf(stderr, "streamerd: %s: expected %s, got \"%s\"\n",
		    c == 'R' ? "--print-rows" : "--from", c == 'R' ? "1..1000000" :
		    "a seq of 1 or more", arg);
		return -EINVAL;
	}
	if (c == 'R') {
		o->print_rows = (int64_t)v;
	} else {
		o->from_set = 1;
		o->from_seq = v;
	}
	return 0;
}

static int
parse_opts(int argc, char **argv, struct opts *o)
{
	static const struct option lo[] = {
		{ "check", no_argument, NULL, 'C' },
		{ "drop-channel", no_argument, NULL, 'D' },
		{ "print-config", no_argument, NULL, 'P' },
		{ "print-rows", required_argument, NULL, 'R' },
		{ "from", required_argument, NULL, 'F' },
		{ "batch-size", required_argument, NULL, 'b' },
		{ "flush-interval", required_argument, NULL, 'i' },
		{ "interval", required_argument, NULL, 'i' },
		{ "accept-committed-token", no_argument, NULL, 'A' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	char *end;
	int c;

	o->file = CONFIG_DEFAULT_PATH;
	while ((c = getopt_long(argc, argv, "f:dnvh", lo, NULL)) != -1) {
		switch (c) {
		case 'f': o->file = optarg; break;
		case 'd': o->foreground = 1; break;
		case 'n': o->configtest = 1; break;
		case 'v': o->verbose++; break;
		case 'C': o->check = 1; break;
		case 'P': o->print_config = 1; break;
		case 'R': case 'F':
			if (parse_print_arg(c, optarg, o) < 0)
				return -EINVAL;
			break;
		case 'D': o->drop = 1; break;
		case 'A': o->accept_token = 1; break;
		case 'b':
			errno = 0;
			o->batch_size = strtoll(optarg, &end, 10);
			if (errno != 0 || end == optarg || *end != '\0' || o->batch_size < 1 ||
			    o->batch_size > 1000000) {
				fprintf(stderr, "streamerd: --batch-size: expected 1..1000000, got "
				    "\"%s\"\n", optarg);
				return -EINVAL;
			}
			break;
		case 'i':
			errno = 0;
			o->flush_s = strtod(optarg, &end);
			if (errno != 0 || end == optarg || *end != '\0' || !isfinite(o->flush_s) ||
			    o->flush_s < 0.01 || o->flush_s > 600) {
				fprintf(stderr, "streamerd: --flush-interval: expected seconds "
				    "0.01..600, got \"%s\"\n", optarg);
				return -EINVAL;
			}
			break;
		case 'h': usage(stdout); exit(EXIT_OK);
		case 'V': printf("streamerd %s\n", SNOWSENSE_VERSION); exit(EXIT_OK);
		default: return -EINVAL;
		}
	}
	if (optind != argc) {
		fprintf(stderr, "streamerd: unexpected argument \"%s\"\n", argv[optind]);
		return -EINVAL;
	}
	if (o->check + o->drop + o->configtest + o->print_config + (o->print_rows > 0) > 1) {
		fprintf(stderr, "streamerd: -n, --check, --drop-channel, --print-config and "
		    "--print-rows exclude each other\n");
		return -EINVAL;
	}
	if (o->from_set && !o->print_rows) {
		fprintf(stderr, "streamerd: --from goes with --print-rows\n");
		return -EINVAL;
	}
	return 0;
}

/* What libcurl, OpenSSL, glibc's resolver (threaded: clone), syslog and the
 * metrics file need on top of the common base. Not allowed, among others:
 * execve, ptrace, every ioctl but three terminal/socket ones (so no i2c-dev
 * I2C_RDWR/I2C_SLAVE), socket families other than Unix/IPv4/IPv6. No
 * netlink: glibc's getaddrinfo asks the kernel's routing socket for the
 * local addresses only to sort several answers (and for AI_ADDRCONFIG,
 * which libcurl does not ask for); refused, it assumes IPv4 and IPv6 are
 * both there and still answers. */
static const struct sandbox_rule streamerd_rules[] = {
	SANDBOX_ALLOW_ARG("socket", 0, AF_UNIX), SANDBOX_ALLOW_ARG("socket", 0, AF_INET),
	SANDBOX_ALLOW_ARG("socket", 0, AF_INET6),
	SANDBOX_ALLOW("socketpair"), SANDBOX_ALLOW("connect"), SANDBOX_ALLOW("bind"),
	SANDBOX_ALLOW("getsockname"), SANDBOX_ALLOW("getpeername"),
	SANDBOX_ALLOW("setsockopt"), SANDBOX_ALLOW("getsockopt"), SANDBOX_ALLOW("shutdown"),
	SANDBOX_ALLOW("sendto"), SANDBOX_ALLOW("recvfrom"), SANDBOX_ALLOW("sendmsg"),
	SANDBOX_ALLOW("recvmsg"), SANDBOX_ALLOW("sendmmsg"), SANDBOX_ALLOW("recvmmsg"),
	SANDBOX_ALLOW("pipe2"), SANDBOX_ALLOW("eventfd2"), SANDBOX_ALLOW("select"),
	SANDBOX_ALLOW("pselect6"),
	SANDBOX_ALLOW("open"), SANDBOX_ALLOW("openat"), SANDBOX_ALLOW("stat"),
	SANDBOX_ALLOW("lstat"), SANDBOX_ALLOW("access"), SANDBOX_ALLOW("faccessat"),
	SANDBOX_ALLOW("faccessat2"), SANDBOX_ALLOW("readlink"), SANDBOX_ALLOW("getdents64"),
	SANDBOX_ALLOW("rename"), SANDBOX_ALLOW("renameat"), SANDBOX_ALLOW("renameat2"),
	SANDBOX_ALLOW("unlink"), SANDBOX_ALLOW("unlinkat"), SANDBOX_ALLOW("fsync"),
	SANDBOX_ALLOW("fdatasync"), SANDBOX_ALLOW("fchmod"), SANDBOX_ALLOW("dup"),
	SANDBOX_ALLOW("clone"), SANDBOX_ALLOW("clone3"), SANDBOX_ALLOW("set_robust_list"),
	SANDBOX_ALLOW("rseq"), SANDBOX_ALLOW("sched_getaffinity"), SANDBOX_ALLOW("uname"),
	SANDBOX_ALLOW("sysinfo"), SANDBOX_ALLOW("getcwd"), SANDBOX_ALLOW("clock_getres"),
	/* Reading the clock's NTP state (adjtimex with modes 0) before the
	 * first JWT; setting the clock needs CAP_SYS_TIME, which streamerd
	 * never has. */
	SANDBOX_ALLOW("adjtimex"), SANDBOX_ALLOW("clock_adjtime"), SANDBOX_ALLOW("clock_adjtime64"),
	SANDBOX_ALLOW("membarrier"),
	SANDBOX_ALLOW_ARG("ioctl", 1, FIONREAD), SANDBOX_ALLOW_ARG("ioctl", 1, FIONBIO),
	SANDBOX_ALLOW_ARG("ioctl", 1, TCGETS),
};

/* The one start line: what a person checks first in the log. fp is the
 * key's fingerprint ("" with a PAT). */
static void
banner(const struct config *cf, const char *fp)
{
	log_info("streamerd %s starting: account %s, pipe %s.%s.%s, auth %s%s, compression "
	    "%s, batches of up to %" PRId64 " rows / %" PRId64 " bytes (%" PRId64 " on the "
	    "wire) every %" PRId64 " ms", SNOWSENSE_VERSION, cf->control_base, cf->database,
	    cf->schema, cf->pipe, config_uses_keypair(cf) ? "key-pair JWT, key fingerprint " :
	    "programmatic access token", fp,
	    cf->compression == 0 ? "gzip" : cf->compression == 1 ? "zstd" : "none",
	    cf->batch_max_rows, cf->batch_max_bytes, cf->batch_max_wire_bytes,
	    cf->flush_interval_ms);
}

static void
apply_overrides(const struct opts *o, struct config *cf)
{
	if (o->batch_size)
		cf->batch_max_rows = o->batch_size;
	if (o->flush_s > 0)
		cf->flush_interval_ms = (int64_t)(o->flush_s * 1000.0 + 0.5);
}

/* --print-config and --print-rows: the configuration alone; no credential
 * file is read or checked and nothing is sent (preview.c). */
static int
print_mode(const struct opts *o, struct config *cf)
{
	struct preview_opts po = { .n = (uint64_t)o->print_rows, .from_seq = o->from_set,
	    .seq = o->from_seq };
	struct row_host host;
	char err[1024];

	if (config_load(o->file, cf, err, sizeof(err)) < 0) {
		fprintf(stderr, "streamerd: %s\n", err);
		return EXIT_CONFIG;
	}
	apply_overrides(o, cf);
	if (o->print_config)
		return config_print(cf, stdout) < 0 ? EXIT_RUNTIME : EXIT_OK;
	po.socket = cf->socket;
	po.server_uid = cf->sensord_uid;
	po.hold_ns = cf->unsynced_hold_s * NS_PER_S;
	row_host_probe(&host);
	if (preview_rows(&po, &host, stdout, err, sizeof(err)) < 0) {
		fprintf(stderr, "streamerd: %s\n", err);
		return EXIT_RUNTIME;
	}
	return EXIT_OK;
}

/* Loads, validates and checks the configuration and its credential files;
 * in check mode prints PASS/FAIL lines instead of exiting. Returns the key
 * (NULL with a PAT) or exits. */
static EVP_PKEY *
startup(const struct opts *o, struct config *cf, char fp[AUTH_FP_LEN], int *fails)
{
	char err[1024];
	EVP_PKEY *key = NULL;
	int r;

	if ((r = config_load(o->file, cf, err, sizeof(err))) < 0) {
		if (o->check) {
			printf("FAIL config: %s\n", err);
			exit(EXIT_CONFIG);
		}
		fatalx_code(EXIT_CONFIG, "%s", err);
	}
	apply_overrides(o, cf);
	if (o->check)
		printf("PASS config: %s (pipe %s.%s.%s at %s)\n", o->file, cf->database,
		    cf->schema, cf->pipe, cf->control_base);
	if ((r = config_check_credentials(cf, err, sizeof(err))) < 0) {
		if (!o->check)
			fatalx_code(EXIT_CONFIG, "refusing to run: %s", err);
		printf("FAIL credential file permissions: %s\n", err);
		exit(EXIT_CONFIG);
	}
	if (o->check)
		printf("PASS credential file permissions\n");
	if (config_uses_keypair(cf)) {
		if ((r = auth_load_key(cf->private_key_file, cf->private_key_passphrase_file, &key,
		    err, sizeof(err))) < 0) {
			if (!o->check)
				fatalx_code(EXIT_CONFIG, "%s", err);
			printf("FAIL private key: %s\n", err);
			exit(EXIT_CONFIG);
		}
		auth_fingerprint(key, fp);
		if (o->check)
			printf("PASS private key: %s loads, RSA %d bits, fingerprint %s "
			    "(compare with RSA_PUBLIC_KEY_FP in DESC USER)\n",
			    cf->private_key_file, EVP_PKEY_get_bits(key), fp);
	} else if (o->check) {
		printf("PASS private key: not used (programmatic access token)\n");
	}
	if (o->check) {
		if (clock_synced()) {
			printf("PASS clock synchronised\n");
		} else {
			printf("FAIL clock synchronised: the kernel says the clock is not synchronised "
			    "(JWTs need it within 60 s of real time: start NTP)\n");
			(*fails)++;
		}
	}
	return key;
}

int
main(int argc, char **argv)
{
	struct opts o = { 0 };
	struct config *cf = NULL;
	struct row_host host;
	struct stream *s = NULL;
	struct notify *nt = NULL;
	struct engine_opts eo = { 0 };
	EVP_PKEY *key;
	char fp[AUTH_FP_LEN] = "";
	sigset_t sigs;
	int fails = 0, r;

	/* From the first instruction on, SIGTERM means "stop cleanly" (a
	 * supervisor may send it while we are still starting). */
	signal(SIGTERM, on_signal);
	signal(SIGINT, on_signal);
	/* No core file or ptrace by our own user: the memory holds the PAT,
	 * the private key and the scoped token. */
	(void)prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
	/* Request bodies (up to 4 MB each) get pages of their own that go back
	 * to the system when freed: a fixed threshold stops glibc from raising
	 * it after the first free and serving later bodies from a heap that
	 * keeps its peak. */
	mallopt(M_MMAP_THRESHOLD, 256 * 1024);
	if (parse_opts(argc, argv, &o) < 0) {
		usage(stderr);
		r = EXIT_USAGE;
		goto cleanup;
	}
	/* Allocated once the arguments are known good and freed at cleanup
	 * on every return path (startup()'s exits and fatalx() leave it
	 * reachable from this frame, not leaked). */
	if ((cf = calloc(1, sizeof(*cf))) == NULL) {
		fprintf(stderr, "streamerd: out of memory\n");
		r = EXIT_RUNTIME;
		goto cleanup;
	}
	if (o.check || o.drop || o.configtest || o.print_config || o.print_rows) {
		signal(SIGTERM, SIG_DFL);
		signal(SIGINT, SIG_DFL);
	}
	log_init("streamerd", o.foreground || o.check || o.configtest || o.drop ||
	    o.print_config || o.print_rows, o.verbose);
	if (o.print_config || o.print_rows) {
		r = print_mode(&o, cf);
		goto cleanup;
	}
	key = startup(&o, cf, fp, &fails);
	if (o.configtest) {
		printf("streamerd: configuration %s OK\n", o.file);
		EVP_PKEY_free(key);
		r = EXIT_OK;
		goto cleanup;
	}
	row_host_probe(&host);
	/* systemd's notify socket is connected before the sandbox. */
	if (!o.check && !o.drop && (r = notify_open(&nt)) < 0)
		fatalx_code(EXIT_CONFIG, "NOTIFY_SOCKET: %s", strerror(-r));
	eo.mode = o.check ? ENGINE_CHECK : o.drop ? ENGINE_DROP : ENGINE_STREAM;
	eo.accept_committed_token = o.accept_token;
	if ((r = stream_new(cf, key, &host, nt, &eo, &s)) < 0)
		fatalx("cannot start: %s", strerror(-r));
	if (o.check) {
		fails += stream_check(s);
		printf("%s: %d stage(s) failed\n", fails ? "FAIL" : "PASS", fails);
		r = fails ? EXIT_PRODUCTION : EXIT_OK;
	} else if (o.drop) {
		r = stream_drop(s) == 0 ? EXIT_OK : EXIT_RUNTIME;
	} else {
		banner(cf, fp);
		if ((r = sandbox_apply(streamerd_rules, sizeof(streamerd_rules) /
		    sizeof(streamerd_rules[0]), false)) < 0)
			fatalx("cannot enter the seccomp sandbox: %s", strerror(-r));
		if (geteuid() == 0)
			log_warnx("running as root: streamerd should run as its own unprivileged "
			    "user (see config/ and scripts/supervise)");
		signal(SIGPIPE, SIG_IGN);
		sigemptyset(&sigs);
		sigaddset(&sigs, SIGTERM);
		sigaddset(&sigs, SIGINT);
		sigprocmask(SIG_BLOCK, &sigs, NULL);
		r = stream_run(s, &stop_flag) < 0 ? EXIT_RUNTIME : EXIT_OK;
		log_info("stopping");
	}
cleanup:
	stream_free(s);
	notify_close(nt);
	log_fini();
	free(cf);
	return r;
}
