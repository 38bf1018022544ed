/* SPDX-License-Identifier: Apache-2.0 */
/*
 * log: stderr or syslog, errno-preserving, with a per-line level tag in the
 * foreground so a supervisor's log file stays greppable.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>

#include "log.h"

static struct {
	const char *ident;
	int foreground;
	int verbose;
	int syslog_open;
} lg = { "snowsense", 1, 0, 0 };

void
log_init(const char *ident, int foreground, int verbose)
{
	lg.ident = ident;
	lg.foreground = foreground;
	lg.verbose = verbose;
	if (!foreground && !lg.syslog_open) {
		openlog(ident, LOG_PID | LOG_NDELAY, LOG_DAEMON);
		lg.syslog_open = 1;
	}
}

void
log_set_verbose(int verbose)
{
	lg.verbose = verbose;
}

void
log_fini(void)
{
	if (lg.syslog_open)
		closelog();
	lg.syslog_open = 0;
}

static void
vlog(enum log_level lvl, const char *errstr, const char *fmt, va_list ap)
{
	static const int prio[] = { LOG_ERR, LOG_WARNING, LOG_INFO, LOG_DEBUG };
	static const char *tag[] = { "error", "warning", "info", "debug" };
	char msg[1024];
	int saved = errno;

	if (lvl == LOG_LVL_DEBUG && lg.verbose < 1) {
		errno = saved;
		return;
	}
	vsnprintf(msg, sizeof(msg), fmt, ap);
	if (lg.foreground) {
		struct timespec ts;
		struct tm tm;
		char when[32];

		clock_gettime(CLOCK_REALTIME, &ts);
		gmtime_r(&ts.tv_sec, &tm);
		strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%S", &tm);
		fprintf(stderr, "%s.%03ldZ %s[%s] %s%s%s\n", when, ts.tv_nsec / 1000000,
		    lg.ident, tag[lvl], msg, errstr ? ": " : "", errstr ? errstr : "");
	} else {
		syslog(prio[lvl], "%s%s%s", msg, errstr ? ": " : "", errstr ? errstr : "");
	}
	errno = saved;
}

#define LOGFN(name, lvl, witherr)					\
	void name(const char *fmt, ...)					\
	{								\
		const char *e = (witherr) ? strerror(errno) : NULL;	\
		va_list ap;						\
		va_start(ap, fmt);					\
		vlog(lvl, e, fmt, ap);					\
		va_end(ap);						\
	}

LOGFN(log_warn, LOG_LVL_WARN, 1)
LOGFN(log_warnx, LOG_LVL_WARN, 0)
LOGFN(log_errx, LOG_LVL_ERR, 0)
LOGFN(log_info, LOG_LVL_INFO, 0)
LOGFN(log_debug, LOG_LVL_DEBUG, 0)

void
fatal(const char *fmt, ...)
{
	const char *e = strerror(errno);
	va_list ap;

	va_start(ap, fmt);
	vlog(LOG_LVL_ERR, e, fmt, ap);
	va_end(ap);
	exit(EXIT_RUNTIME);
}

void
fatalx_code(int status, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(LOG_LVL_ERR, NULL, fmt, ap);
	va_end(ap);
	exit(status);
}
