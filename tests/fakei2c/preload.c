/* SPDX-License-Identifier: Apache-2.0 */
/*
 * preload: fakei2c.so, the LD_PRELOAD library that stands in for one
 * /dev/i2c-N so the unmodified sensord talks to the chip models in
 * fakebus.c. It interposes open/open64/openat/openat64 (and the fortify
 * __open_2 family), close, close_range, closefrom, ioctl, read and write
 * (and __read_chk); only the configured device path (FAKEI2C_DEVICE,
 * default /dev/i2c-1) and the descriptors opened on it are handled here,
 * everything else goes straight to the next definition (dlsym RTLD_NEXT).
 *
 * The device descriptor is a real descriptor on /dev/null (O_CLOEXEC and
 * O_NONBLOCK honoured) so poll/fstat/close behave. Everything that needs a
 * new resource — the scenario, the stats file, the control file — is
 * opened when the device is opened, i.e. before sensord sandboxes itself;
 * afterwards the library only uses stat, open/read/close of the control
 * file (every ~100 ms at most, on a bus access), pwrite on the stats fd and
 * the vDSO clock. No threads.
 *
 * Chip time is (CLOCK_MONOTONIC − time of the first open) × time_scale.
 */
#undef _FORTIFY_SOURCE	/* we define the functions fortify would wrap */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/i2c-dev.h>
#include <linux/i2c.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "fakebus.h"

#define MAX_FDS 16		/* device descriptors open at once; more: EMFILE */
#define SCENARIO_MAX (1 << 20)	/* bytes of scenario or control JSON */
#define CONTROL_PERIOD_NS 100000000LL
#define MSG_MAX 8192		/* i2c-dev's per-message limit */

/* Prototypes for the interposed symbols -Wmissing-prototypes wants and
 * fortify-less headers do not declare. */
int __open_2(const char *path, int flags);
int __open64_2(const char *path, int flags);
int __openat_2(int dirfd, const char *path, int flags);
int __openat64_2(int dirfd, const char *path, int flags);
ssize_t __read_chk(int fd, void *buf, size_t n, size_t buflen);

static struct {
	int (*open)(const char *, int, ...);
	int (*openat)(int, const char *, int, ...);
	int (*close)(int);
	int (*close_range)(unsigned int, unsigned int, int);
	int (*ioctl)(int, unsigned long, ...);
	ssize_t (*read)(int, void *, size_t);
	ssize_t (*write)(int, const void *, size_t);
} real;

/* Recursive: libraries we call (jansson seeding its hash from /dev/urandom)
 * come back through our read()/open(). */
static pthread_mutex_t lock = PTHREAD_RECURSIVE_MUTEX_INITIALIZER_NP;

static struct {
	char device[4096];
	struct fakebus *bus;
	int open_errno;			/* scenario "device": {"open_errno": ...} */
	unsigned long funcs;
	int64_t mono0;
	double scale;
	struct { int fd; uint16_t addr; } fds[MAX_FDS];
	/* control file */
	char ctl_path[4096];
	int ctl_fd;			/* fallback when open() is refused later */
	int64_t ctl_checked;
	struct ctl_sig {
		ino_t ino;
		off_t size;
		struct timespec mtime;
	} ctl_path_sig, ctl_fd_sig;	/* of the content last applied */
	bool ctl_failed_logged;
	uint64_t ctl_applied, ctl_errors;
	/* stats file */
	int stats_fd;
	size_t stats_len;		/* longest content written (padding) */
	uint64_t transfers;
} st = { .ctl_fd = -1, .stats_fd = -1 };

static void
resolve(void)
{
	if (real.open != NULL)
		return;
	real.openat = (int (*)(int, const char *, int, ...))dlsym(RTLD_NEXT, "openat");
	real.close = (int (*)(int))dlsym(RTLD_NEXT, "close");
	real.close_range = (int (*)(unsigned int, unsigned int, int))dlsym(RTLD_NEXT, "close_range");
	real.ioctl = (int (*)(int, unsigned long, ...))dlsym(RTLD_NEXT, "ioctl");
	real.read = (ssize_t (*)(int, void *, size_t))dlsym(RTLD_NEXT, "read");
	real.write = (ssize_t (*)(int, const void *, size_t))dlsym(RTLD_NEXT, "write");
	real.open = (int (*)(const char *, int, ...))dlsym(RTLD_NEXT, "open");
}

__attribute__((constructor)) static void
preload_init(void)
{
	const char *dev = getenv("FAKEI2C_DEVICE");

	resolve();
	snprintf(st.device, sizeof(st.device), "%s", dev != NULL && *dev != '\0' ? dev : "/dev/i2c-1");
}

static int64_t
mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static int64_t
chip_now(void)
{
	return (int64_t)((double)(mono_ns() - st.mono0) * st.scale);
}

static bool
is_device(const char *path)
{
	return path != NULL && st.device[0] != '\0' && strcmp(path, st.device) == 0;
}

static int
slot_of(int fd)
{
	for (int i = 0; i < MAX_FDS; i++)
		if (st.bus != NULL && st.fds[i].fd == fd && fd >= 0)
			return i;
	return -1;
}

/* Reads a whole small file through the real libc: with read() on a fresh
 * descriptor, with pread() from 0 on a kept one. New; NULL with errno. */
static char *
slurp_fd(int fd, bool from_start)
{
	size_t len = 0, cap = 4096;
	char *buf = malloc(cap + 1);
	ssize_t n;

	if (buf == NULL)
		return NULL;
	for (;;) {
		if (len == cap) {
			char *nb;
			if (cap >= SCENARIO_MAX || (nb = realloc(buf, cap * 2 + 1)) == NULL) {
				free(buf);
				errno = EFBIG;
				return NULL;
			}
			buf = nb;
			cap *= 2;
		}
		n = from_start ? pread(fd, buf + len, cap - len, (off_t)len) :
		    real.read(fd, buf + len, cap - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			free(buf);
			return NULL;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	buf[len] = '\0';
	return buf;
}

static char *
slurp(const char *path)
{
	int fd = real.open(path, O_RDONLY | O_CLOEXEC);
	char *s;
	int e;

	if (fd < 0)
		return NULL;
	s = slurp_fd(fd, false);
	e = errno;
	real.close(fd);
	errno = e;
	return s;
}

static void
stats_write(void)
{
	char *s, *full;
	size_t len;
	int n;

	if (st.stats_fd < 0 || st.bus == NULL)
		return;
	s = fakebus_stats_json(st.bus, chip_now());
	if (s == NULL)
		return;
	len = strlen(s);
	/* s ends with '}': splice the library's own counters in. */
	full = malloc(len + 256 + st.stats_len);
	if (full == NULL) {
		free(s);
		return;
	}
	s[len - 1] = '\0';
	n = snprintf(full, len + 256, "%s,\"preload\":{\"transfers\":%llu,\"control_applied\":%llu,"
	    "\"control_errors\":%llu}}\n", s, (unsigned long long)st.transfers,
	    (unsigned long long)st.ctl_applied, (unsigned long long)st.ctl_errors);
	free(s);
	len = (size_t)n;
	/* Never truncate (a sandbox may refuse ftruncate): pad with blanks. */
	if (len < st.stats_len) {
		memset(full + len, ' ', st.stats_len - len);
		len = st.stats_len;
	}
	st.stats_len = len;
	/* Best effort: a test reading stale stats will notice. */
	(void)!pwrite(st.stats_fd, full, len, 0);
	free(full);
}

static void
control_apply(const char *text)
{
	char err[256] = "";

	if (fakebus_control_err(st.bus, text, chip_now(), err, sizeof(err)) < 0) {
		st.ctl_errors++;
		if (!st.ctl_failed_logged)
			fprintf(stderr, "fakei2c: control %s: %s\n", st.ctl_path, err);
		st.ctl_failed_logged = true;
		return;
	}
	st.ctl_applied++;
	st.ctl_failed_logged = false;
}

static struct ctl_sig
sig_of(const struct stat *sb)
{
	return (struct ctl_sig){ sb->st_ino, sb->st_size, sb->st_mtim };
}

static bool
sig_eq(struct ctl_sig a, struct ctl_sig b)
{
	return a.ino == b.ino && a.size == b.size && a.mtime.tv_sec == b.mtime.tv_sec &&
	    a.mtime.tv_nsec == b.mtime.tv_nsec;
}

/* Applies text; true when it parsed (a writer caught mid-way is retried). */
static bool
control_take(char *text)
{
	control_apply(text);
	free(text);
	if (st.ctl_failed_logged)
		return false;
	stats_write();
	return true;
}

/* Re-reads the control file when it changed (at most every 100 ms): by path
 * (any new inode, e.g. written then renamed), else — the path cannot be
 * stat'ed or opened any more, as after a privilege drop — through the
 * descriptor opened at start, which sees in-place rewrites of that inode. */
static void
control_poll(bool force)
{
	struct stat sb, fsb;
	int64_t now = mono_ns();
	char *text;

	if (st.ctl_path[0] == '\0' || (!force && now - st.ctl_checked < CONTROL_PERIOD_NS))
		return;
	st.ctl_checked = now;
	if (stat(st.ctl_path, &sb) == 0) {
		if (sb.st_size == 0 || sig_eq(sig_of(&sb), st.ctl_path_sig))
			return;
		if ((text = slurp(st.ctl_path)) != NULL) {
			if (control_take(text)) {
				st.ctl_path_sig = sig_of(&sb);
				if (st.ctl_fd >= 0 && fstat(st.ctl_fd, &fsb) == 0)
					st.ctl_fd_sig = sig_of(&fsb);
			}
			return;
		}
	}
	if (st.ctl_fd < 0 || fstat(st.ctl_fd, &fsb) < 0 || fsb.st_size == 0 ||
	    sig_eq(sig_of(&fsb), st.ctl_fd_sig))
		return;
	if ((text = slurp_fd(st.ctl_fd, true)) != NULL && control_take(text))
		st.ctl_fd_sig = sig_of(&fsb);
}

static int
parse_device(const char *text)
{
	json_t *root = json_loads(text, 0, NULL), *dev, *v;
	const char *e;

	st.funcs = I2C_FUNC_I2C | I2C_FUNC_SMBUS_EMUL;
	st.open_errno = 0;
	dev = json_object_get(root, "device");
	if ((v = json_object_get(dev, "funcs")) != NULL && json_is_integer(v))
		st.funcs = (unsigned long)json_integer_value(v);
	if ((v = json_object_get(dev, "open_errno")) != NULL && (e = json_string_value(v)) != NULL) {
		static const struct { const char *n; int e; } names[] = {
			{ "ENOENT", ENOENT }, { "EACCES", EACCES }, { "ENODEV", ENODEV },
			{ "EBUSY", EBUSY }, { "EPERM", EPERM }, { "ENXIO", ENXIO },
		};
		for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
			if (strcmp(e, names[i].n) == 0)
				st.open_errno = names[i].e;
		if (st.open_errno == 0) {
			fprintf(stderr, "fakei2c: device.open_errno \"%s\" unknown\n", e);
			json_decref(root);
			return -EINVAL;
		}
	}
	json_decref(root);
	return 0;
}

/* First open of the device: scenario, control and stats files. */
static int
bus_load(void)
{
	const char *scen = getenv("FAKEI2C_SCENARIO");
	const char *ctl = getenv("FAKEI2C_CONTROL");
	const char *stats = getenv("FAKEI2C_STATS");
	char err[256] = "";
	char *text;

	if (scen == NULL || *scen == '\0') {
		fprintf(stderr, "fakei2c: FAKEI2C_SCENARIO is not set (use tests/fakei2c/with-chips)\n");
		return -ENOENT;
	}
	if ((text = slurp(scen)) == NULL) {
		int e = errno;
		fprintf(stderr, "fakei2c: cannot read scenario %s: %s\n", scen, strerror(e));
		return -e;
	}
	st.bus = fakebus_new(text, err, sizeof(err));
	if (st.bus == NULL || parse_device(text) < 0) {
		fprintf(stderr, "fakei2c: scenario %s: %s\n", scen, err);
		fakebus_free(st.bus);
		st.bus = NULL;
		free(text);
		return -EINVAL;
	}
	free(text);
	for (int i = 0; i < MAX_FDS; i++)
		st.fds[i].fd = -1;
	st.scale = fakebus_time_scale(st.bus);
	st.mono0 = mono_ns();
	fakebus_set_origin(st.bus, 0);
	if (stats != NULL && *stats != '\0') {
		st.stats_fd = real.open(stats, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
		if (st.stats_fd < 0)
			fprintf(stderr, "fakei2c: cannot open stats %s: %s\n", stats, strerror(errno));
	}
	if (ctl != NULL && *ctl != '\0') {
		snprintf(st.ctl_path, sizeof(st.ctl_path), "%s", ctl);
		st.ctl_fd = real.open(ctl, O_RDONLY | O_CLOEXEC);
		control_poll(true);
	}
	stats_write();
	return 0;
}

static int
device_open(int flags)
{
	int fd, rc, slot = -1;

	pthread_mutex_lock(&lock);
	if (st.bus == NULL && (rc = bus_load()) < 0)
		goto fail;
	if (st.open_errno != 0) {
		rc = -st.open_errno;
		goto fail;
	}
	for (int i = 0; i < MAX_FDS && slot < 0; i++)
		if (st.fds[i].fd < 0)
			slot = i;
	if (slot < 0) {
		rc = -EMFILE;
		goto fail;
	}
	fd = real.open("/dev/null", O_RDWR | (flags & (O_CLOEXEC | O_NONBLOCK)));
	if (fd < 0) {
		rc = -errno;
		goto fail;
	}
	st.fds[slot].fd = fd;
	st.fds[slot].addr = 0;	/* i2c-dev's default until I2C_SLAVE */
	pthread_mutex_unlock(&lock);
	return fd;
fail:
	pthread_mutex_unlock(&lock);
	errno = -rc;
	return -1;
}

static mode_t
open_mode(int flags, va_list ap)
{
	if ((flags & O_CREAT) || (flags & O_TMPFILE) == O_TMPFILE)
		return (mode_t)va_arg(ap, int);
	return 0;
}

int
open(const char *path, int flags, ...)
{
	va_list ap;
	mode_t mode;

	resolve();
	if (is_device(path))
		return device_open(flags);
	va_start(ap, flags);
	mode = open_mode(flags, ap);
	va_end(ap);
	return real.open(path, flags, mode);
}

int
open64(const char *path, int flags, ...)
{
	va_list ap;
	mode_t mode;

	resolve();
	if (is_device(path))
		return device_open(flags);
	va_start(ap, flags);
	mode = open_mode(flags, ap);
	va_end(ap);
	return real.open(path, flags | O_LARGEFILE, mode);
}

int
openat(int dirfd, const char *path, int flags, ...)
{
	va_list ap;
	mode_t mode;

	resolve();
	if (is_device(path))
		return device_open(flags);
	va_start(ap, flags);
	mode = open_mode(flags, ap);
	va_end(ap);
	return real.openat(dirfd, path, flags, mode);
}

int
openat64(int dirfd, const char *path, int flags, ...)
{
	va_list ap;
	mode_t mode;

	resolve();
	if (is_device(path))
		return device_open(flags);
	va_start(ap, flags);
	mode = open_mode(flags, ap);
	va_end(ap);
	return real.openat(dirfd, path, flags | O_LARGEFILE, mode);
}

int
__open_2(const char *path, int flags)
{
	return open(path, flags);
}

int
__open64_2(const char *path, int flags)
{
	return open64(path, flags);
}

int
__openat_2(int dirfd, const char *path, int flags)
{
	return openat(dirfd, path, flags);
}

int
__openat64_2(int dirfd, const char *path, int flags)
{
	return openat64(dirfd, path, flags);
}

static bool
is_internal(int fd)
{
	return fd >= 0 && (fd == st.stats_fd || fd == st.ctl_fd);
}

int
close(int fd)
{
	int slot;

	resolve();
	pthread_mutex_lock(&lock);
	/* A daemon closing "all other fds" must not take the stats/control
	 * descriptors from under us (or have their numbers reused). */
	if (is_internal(fd)) {
		pthread_mutex_unlock(&lock);
		return 0;
	}
	if ((slot = slot_of(fd)) >= 0)
		st.fds[slot].fd = -1;
	pthread_mutex_unlock(&lock);
	return real.close(fd);
}

int
close_range(unsigned int first, unsigned int last, int flags)
{
	int keep[2] = { st.stats_fd, st.ctl_fd }, rc = 0;
	unsigned int from = first;

	resolve();
	if (real.close_range == NULL) {
		errno = ENOSYS;
		return -1;
	}
	pthread_mutex_lock(&lock);
	if (!(flags & CLOSE_RANGE_CLOEXEC))
		for (int i = 0; i < MAX_FDS; i++)
			if (st.bus != NULL && st.fds[i].fd >= 0 && (unsigned int)st.fds[i].fd >= first &&
			    (unsigned int)st.fds[i].fd <= last)
				st.fds[i].fd = -1;
	if (keep[0] > keep[1]) {
		int x = keep[0];
		keep[0] = keep[1];
		keep[1] = x;
	}
	/* Close around the descriptors we keep. */
	for (int i = 0; i < 2 && rc == 0; i++) {
		if (keep[i] < 0 || (unsigned int)keep[i] < from || (unsigned int)keep[i] > last)
			continue;
		if ((unsigned int)keep[i] > from)
			rc = real.close_range(from, (unsigned int)keep[i] - 1, flags);
		from = (unsigned int)keep[i] + 1;
	}
	if (rc == 0 && from >= first && from <= last)
		rc = real.close_range(from, last, flags);
	pthread_mutex_unlock(&lock);
	return rc;
}

void
closefrom(int lowfd)
{
	if (lowfd >= 0)
		close_range((unsigned int)lowfd, ~0U, 0);
}

/* One message on the emulated bus; 0 or -errno. */
static int
xfer(uint16_t addr, bool rd, uint8_t *buf, size_t len, int64_t now)
{
	st.transfers++;
	if (rd)
		return fakebus_read(st.bus, addr, buf, len, now);
	return fakebus_write(st.bus, addr, buf, len, now);
}

static int
rdwr(const struct i2c_rdwr_ioctl_data *d)
{
	int64_t now;
	int rc = 0;

	if (d == NULL || d->msgs == NULL)
		return -EFAULT;
	if (d->nmsgs == 0 || d->nmsgs > I2C_RDWR_IOCTL_MAX_MSGS)
		return -EINVAL;
	for (uint32_t i = 0; i < d->nmsgs; i++) {
		const struct i2c_msg *m = &d->msgs[i];
		if (m->len > MSG_MAX || m->addr > 0x7F || (m->flags & ~I2C_M_RD) != 0 ||
		    (m->len > 0 && m->buf == NULL))
			return -EINVAL;
		/* bcm2835: "only one read message supported, has to be last" */
		if ((m->flags & I2C_M_RD) && i + 1 < d->nmsgs)
			return -EOPNOTSUPP;
	}
	now = chip_now();
	for (uint32_t i = 0; i < d->nmsgs && rc == 0; i++) {
		const struct i2c_msg *m = &d->msgs[i];
		rc = xfer(m->addr, m->flags & I2C_M_RD, m->buf, m->len, now);
	}
	return rc < 0 ? rc : (int)d->nmsgs;
}

static int
smbus(uint16_t addr, const struct i2c_smbus_ioctl_data *d)
{
	/* Only what i2cdetect-style probing needs: quick write, receive byte. */
	if (d == NULL)
		return -EFAULT;
	if (d->size == I2C_SMBUS_QUICK && d->read_write == I2C_SMBUS_WRITE)
		return xfer(addr, false, NULL, 0, chip_now());
	if (d->size == I2C_SMBUS_BYTE && d->read_write == I2C_SMBUS_READ && d->data != NULL)
		return xfer(addr, true, &d->data->byte, 1, chip_now());
	return -EOPNOTSUPP;
}

static int
device_ioctl(int slot, unsigned long req, void *arg)
{
	unsigned long a = (unsigned long)arg;

	switch (req) {
	case I2C_FUNCS:
		if (arg == NULL)
			return -EFAULT;
		*(unsigned long *)arg = st.funcs;
		return 0;
	case I2C_SLAVE:
	case I2C_SLAVE_FORCE:
		if (a > 0x7F)
			return -EINVAL;
		st.fds[slot].addr = (uint16_t)a;
		return 0;
	case I2C_RDWR:
		control_poll(false);
		return rdwr(arg);
	case I2C_SMBUS:
		control_poll(false);
		return smbus(st.fds[slot].addr, arg);
	case I2C_TENBIT:
		return a ? -EINVAL : 0;
	case I2C_RETRIES:
	case I2C_TIMEOUT:
	case I2C_PEC:
		return 0;
	}
	return -ENOTTY;
}

int
ioctl(int fd, unsigned long req, ...)
{
	va_list ap;
	void *arg;
	int slot, rc;

	va_start(ap, req);
	arg = va_arg(ap, void *);
	va_end(ap);
	resolve();
	pthread_mutex_lock(&lock);
	slot = slot_of(fd);
	/* Generic requests (FIONBIO, FIOCLEX...) go to the /dev/null fd. */
	if (slot < 0 || ((req >> 8) & 0xFF) != 0x07) {
		pthread_mutex_unlock(&lock);
		return real.ioctl(fd, req, arg);
	}
	rc = device_ioctl(slot, req, arg);
	if (req == I2C_RDWR || req == I2C_SMBUS)
		stats_write();
	pthread_mutex_unlock(&lock);
	if (rc < 0) {
		errno = -rc;
		return -1;
	}
	return rc;
}

ssize_t
read(int fd, void *buf, size_t n)
{
	int slot, rc;

	resolve();
	pthread_mutex_lock(&lock);
	if ((slot = slot_of(fd)) < 0) {
		pthread_mutex_unlock(&lock);
		return real.read(fd, buf, n);
	}
	if (n > MSG_MAX)
		n = MSG_MAX;
	control_poll(false);
	rc = xfer(st.fds[slot].addr, true, buf, n, chip_now());
	stats_write();
	pthread_mutex_unlock(&lock);
	if (rc < 0) {
		errno = -rc;
		return -1;
	}
	return (ssize_t)n;
}

ssize_t
__read_chk(int fd, void *buf, size_t n, size_t buflen)
{
	if (n > buflen)
		abort();	/* what glibc's __chk_fail does */
	return read(fd, buf, n);
}

ssize_t
write(int fd, const void *buf, size_t n)
{
	uint8_t copy[MSG_MAX];
	int slot, rc;

	resolve();
	pthread_mutex_lock(&lock);
	if ((slot = slot_of(fd)) < 0) {
		pthread_mutex_unlock(&lock);
		return real.write(fd, buf, n);
	}
	if (n > MSG_MAX)
		n = MSG_MAX;
	memcpy(copy, buf, n);
	control_poll(false);
	rc = xfer(st.fds[slot].addr, false, copy, n, chip_now());
	stats_write();
	pthread_mutex_unlock(&lock);
	if (rc < 0) {
		errno = -rc;
		return -1;
	}
	return (ssize_t)n;
}
