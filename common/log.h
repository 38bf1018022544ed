/* SPDX-License-Identifier: Apache-2.0 */
/*
 * log: the one way snowsense daemons report what happens.
 *
 * Lines go to stderr in the foreground (-d) and to syslog otherwise. Every
 * function preserves errno. Callers never pass secrets (tokens, keys, PATs):
 * log lines name objects (bus, address, client uid, channel, seqs) instead.
 * The log_* calls are the only ones in common/ that may exit (fatal*), and
 * other common/ modules only ever call log_debug.
 */
#ifndef SNOWSENSE_LOG_H
#define SNOWSENSE_LOG_H

#include <stdarg.h>

enum log_level { LOG_LVL_ERR, LOG_LVL_WARN, LOG_LVL_INFO, LOG_LVL_DEBUG };

/* Starts logging as ident; foreground selects stderr instead of syslog;
 * verbose raises the threshold (0 info, 1+ debug). */
void log_init(const char *ident, int foreground, int verbose);
/* Changes the threshold at run time. */
void log_set_verbose(int verbose);
/* Closes syslog if it was open. */
void log_fini(void);

/* Error or warning with ": strerror(errno)" appended. */
void log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Warning without errno. */
void log_warnx(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Error without errno (not fatal). */
void log_errx(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Logs with strerror(errno), then exits with status 1. */
void fatal(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
/* Logs, then exits with the given status (see the EXIT_* codes below). */
void fatalx_code(int status, const char *fmt, ...)
	__attribute__((format(printf, 2, 3), noreturn));
#define fatalx(...) fatalx_code(1, __VA_ARGS__)

/* Exit codes shared by sensord, streamerd and sensortap. */
enum {
	EXIT_OK = 0,
	EXIT_RUNTIME = 1,	/* failed while running */
	EXIT_USAGE = 2,		/* bad command line */
	EXIT_CONFIG = 3,	/* bad configuration or credentials file */
	EXIT_PRODUCTION = 4,	/* production rules not met (no bus, no chips, auth refused) */
};

#endif
