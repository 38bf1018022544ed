/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fakeclock: the LD_PRELOAD library that stands in for the kernel's clock
 * discipline, so a test can say from outside whether the unmodified daemon
 * sees a synchronised clock (adjtimex and its aliases, read-only calls) and
 * by how much its wall clock is off (CLOCK_REALTIME readings: clock_gettime,
 * gettimeofday, time). Everything else goes straight to the next definition
 * (dlsym RTLD_NEXT). See README.md for the controls.
 *
 * The control file is re-read when it changed (inode, size or mtime), at
 * most every CHECK_NS, with stat/open/read/close only: what a daemon's
 * seccomp filter (sensord's, streamerd's) allows after start-up. A file that
 * cannot be read or parsed keeps the last values. No threads of its own;
 * a daemon's threads (libcurl's resolver) may call in at any time, so the
 * re-read is under a lock and the values are read atomically.
 */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/timex.h>
#include <time.h>
#include <unistd.h>

#define CHECK_NS 20000000LL	/* re-stat the control file at most every 20 ms */
#define FILE_MAX 4096

/* glibc's internal alias of adjtimex, exported and interposed too. */
int __adjtimex(struct timex *tx);

static struct {
	int (*adjtimex)(struct timex *);
	int (*clock_adjtime)(clockid_t, struct timex *);
	int (*clock_gettime)(clockid_t, struct timespec *);
	int (*gettimeofday)(struct timeval *, void *);
	time_t (*time)(time_t *);
} real;

/* The state tests control; -1 in synced: not faked (the real adjtimex). */
static struct {
	char path[4096];
	long long synced, offset_ns, maxerror_us, esterror_us;
	long long checked_ns;
	ino_t ino;
	off_t size;
	struct timespec mtime;
} st = { .synced = -1, .maxerror_us = -1, .esterror_us = -1 };

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;

static long long
get(const long long *v)
{
	return __atomic_load_n(v, __ATOMIC_RELAXED);
}

static void
set(long long *v, long long x)
{
	__atomic_store_n(v, x, __ATOMIC_RELAXED);
}

/* "KEY VALUE" lines, '#' comments; an unknown key or a bad value rejects
 * the whole file (the last good values stay). */
static int
parse(const char *text, long long *synced, long long *offset, long long *maxerr,
    long long *esterr)
{
	const char *p = text;

	while (*p != '\0') {
		char key[32];
		long long v;
		int n = 0;

		while (*p == ' ' || *p == '\t' || *p == '\n')
			p++;
		if (*p == '\0')
			break;
		if (*p == '#') {
			p += strcspn(p, "\n");
			continue;
		}
		if (sscanf(p, "%31s %lld%n", key, &v, &n) != 2)
			return -1;
		p += n;
		if (strcmp(key, "synced") == 0 && (v == 0 || v == 1))
			*synced = v;
		else if (strcmp(key, "offset_ns") == 0)
			*offset = v;
		else if (strcmp(key, "maxerror_us") == 0 && v >= 0)
			*maxerr = v;
		else if (strcmp(key, "esterror_us") == 0 && v >= 0)
			*esterr = v;
		else
			return -1;
		p += strspn(p, " \t");
		if (*p == '#')
			p += strcspn(p, "\n");
		if (*p != '\n' && *p != '\0')
			return -1;
	}
	return 0;
}

static void
load(void)
{
	char buf[FILE_MAX + 1];
	long long synced = get(&st.synced), offset = get(&st.offset_ns);
	long long maxerr = get(&st.maxerror_us), esterr = get(&st.esterror_us);
	ssize_t n;
	int fd = open(st.path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return;
	n = read(fd, buf, FILE_MAX);
	close(fd);
	if (n < 0)
		return;
	buf[n] = '\0';
	if (parse(buf, &synced, &offset, &maxerr, &esterr) < 0)
		return;
	set(&st.synced, synced);
	set(&st.offset_ns, offset);
	set(&st.maxerror_us, maxerr);
	set(&st.esterror_us, esterr);
}

/* Re-reads the control file when it changed and CHECK_NS passed. */
static void
refresh(void)
{
	struct timespec now;
	struct stat sb;
	long long ns;

	if (st.path[0] == '\0' || real.clock_gettime == NULL ||
	    real.clock_gettime(CLOCK_MONOTONIC, &now) < 0)
		return;
	ns = (long long)now.tv_sec * 1000000000LL + now.tv_nsec;
	if (ns - get(&st.checked_ns) < CHECK_NS || pthread_mutex_trylock(&lock) != 0)
		return;
	set(&st.checked_ns, ns);
	if (stat(st.path, &sb) == 0 && (sb.st_ino != st.ino || sb.st_size != st.size ||
	    sb.st_mtim.tv_sec != st.mtime.tv_sec || sb.st_mtim.tv_nsec != st.mtime.tv_nsec)) {
		st.ino = sb.st_ino;
		st.size = sb.st_size;
		st.mtime = sb.st_mtim;
		load();
	}
	pthread_mutex_unlock(&lock);
}

static long long
env_ll(const char *name, long long def)
{
	const char *v = getenv(name);
	char *end;
	long long x;

	if (v == NULL || *v == '\0')
		return def;
	errno = 0;
	x = strtoll(v, &end, 10);
	return errno == 0 && *end == '\0' ? x : def;
}

__attribute__((constructor)) static void
fakeclock_init(void)
{
	const char *path = getenv("FAKECLOCK_FILE");

	real.adjtimex = (int (*)(struct timex *))dlsym(RTLD_NEXT, "adjtimex");
	real.clock_adjtime = (int (*)(clockid_t, struct timex *))dlsym(RTLD_NEXT, "clock_adjtime");
	real.clock_gettime = (int (*)(clockid_t, struct timespec *))dlsym(RTLD_NEXT,
	    "clock_gettime");
	real.gettimeofday = (int (*)(struct timeval *, void *))dlsym(RTLD_NEXT, "gettimeofday");
	real.time = (time_t (*)(time_t *))dlsym(RTLD_NEXT, "time");
	st.synced = env_ll("FAKECLOCK_SYNCED", -1);
	st.offset_ns = env_ll("FAKECLOCK_OFFSET_NS", 0);
	if (path != NULL && *path != '\0') {
		snprintf(st.path, sizeof(st.path), "%s", path);
		refresh();
	}
}

/* ------------------------------------------------------------ discipline */

/* A read-only adjtimex (modes 0) answered from the control state; anything
 * else, or no state, goes to the kernel. */
static bool
fake_timex(struct timex *tx, int *ret)
{
	long long synced, maxerr, esterr;

	refresh();
	synced = get(&st.synced);
	if (synced < 0 || tx == NULL || tx->modes != 0)
		return false;
	maxerr = get(&st.maxerror_us);
	esterr = get(&st.esterror_us);
	memset(tx, 0, sizeof(*tx));
	tx->status = synced ? STA_PLL : STA_UNSYNC;
	tx->maxerror = maxerr >= 0 ? (long)maxerr : synced ? 100000 : 16000000;
	tx->esterror = esterr >= 0 ? (long)esterr : synced ? 1000 : 16000000;
	tx->constant = 2;
	tx->precision = 1;
	tx->tolerance = 32768000;
	*ret = synced ? TIME_OK : TIME_ERROR;
	return true;
}

int
adjtimex(struct timex *tx)
{
	int r;

	if (fake_timex(tx, &r))
		return r;
	return real.adjtimex ? real.adjtimex(tx) : (errno = ENOSYS, -1);
}

int
__adjtimex(struct timex *tx)
{
	return adjtimex(tx);
}

int
ntp_adjtime(struct timex *tx)
{
	return adjtimex(tx);
}

int
clock_adjtime(clockid_t id, struct timex *tx)
{
	int r;

	if (id == CLOCK_REALTIME && fake_timex(tx, &r))
		return r;
	return real.clock_adjtime ? real.clock_adjtime(id, tx) : (errno = ENOSYS, -1);
}

/* ------------------------------------------------------------ wall clock */

static void
shift(struct timespec *ts, long long ns)
{
	long long t = (long long)ts->tv_nsec + ns % 1000000000LL;

	ts->tv_sec += (time_t)(ns / 1000000000LL);
	if (t < 0) {
		t += 1000000000LL;
		ts->tv_sec--;
	} else if (t >= 1000000000LL) {
		t -= 1000000000LL;
		ts->tv_sec++;
	}
	ts->tv_nsec = (long)t;
}

int
clock_gettime(clockid_t id, struct timespec *ts)
{
	int r = real.clock_gettime ? real.clock_gettime(id, ts) : (errno = ENOSYS, -1);

	if (r == 0 && (id == CLOCK_REALTIME || id == CLOCK_REALTIME_COARSE)) {
		refresh();
		shift(ts, get(&st.offset_ns));
	}
	return r;
}

int
gettimeofday(struct timeval *restrict tv, void *restrict tz)
{
	struct timespec ts;
	int r = real.gettimeofday ? real.gettimeofday(tv, tz) : (errno = ENOSYS, -1);

	if (r == 0) {
		refresh();
		ts.tv_sec = tv->tv_sec;
		ts.tv_nsec = tv->tv_usec * 1000L;
		shift(&ts, get(&st.offset_ns));
		tv->tv_sec = ts.tv_sec;
		tv->tv_usec = ts.tv_nsec / 1000L;
	}
	return r;
}

time_t
time(time_t *t)
{
	struct timespec ts;
	time_t now;

	if (clock_gettime(CLOCK_REALTIME, &ts) < 0)
		return (time_t)-1;
	now = ts.tv_sec;
	if (t != NULL)
		*t = now;
	return now;
}
