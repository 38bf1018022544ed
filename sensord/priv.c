/* SPDX-License-Identifier: Apache-2.0 */
/*
 * priv: the order is the OpenNTPD one — acquire (bus, state dir, socket),
 * then drop, then sandbox — and every step is checked: a half-dropped
 * daemon is worse than one that refuses to start.
 *
 * The seccomp list is what the loop touches after start-up: files in the
 * state dir, /proc, /sys and the metrics file; the listener and its
 * clients; datagrams to syslog or systemd on sockets opened before; i2c-dev
 * ioctls. No socket can be created or connected once sensord listens: a
 * compromised loop cannot reach another local service. (The price: glibc's
 * syslog cannot reconnect after syslogd restarts; under systemd and
 * supervise sensord logs to stderr.) Forbidden calls fail with EPERM
 * rather than killing, so a rule we missed shows up as a logged error
 * instead of a dead daemon with no message.
 *
 * Handing the state dir over is done on the open directory (fchown,
 * fchownat without following links) and never to a file with more than
 * one hard link: one planted by whoever could write there must not make
 * root give away the file it links to.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "priv.h"
#include "sandbox.h"

/* From <linux/i2c-dev.h>, kept here to avoid the kernel header. */
#define I2C_RETRIES_REQ 0x0701
#define I2C_TIMEOUT_REQ 0x0702
#define I2C_SLAVE_REQ 0x0703
#define I2C_FUNCS_REQ 0x0705
#define I2C_RDWR_REQ 0x0707

static const struct sandbox_rule sensord_rules[] = {
	/* files: journal segments, acked and metrics (temp + rename), /proc, /sys */
	SANDBOX_ALLOW("openat"), SANDBOX_ALLOW("open"), SANDBOX_ALLOW("unlink"),
	SANDBOX_ALLOW("unlinkat"), SANDBOX_ALLOW("rename"), SANDBOX_ALLOW("renameat"),
	SANDBOX_ALLOW("renameat2"), SANDBOX_ALLOW("fsync"), SANDBOX_ALLOW("fdatasync"),
	SANDBOX_ALLOW("ftruncate"), SANDBOX_ALLOW("fchmod"), SANDBOX_ALLOW("stat"),
	SANDBOX_ALLOW("lstat"), SANDBOX_ALLOW("statfs"), SANDBOX_ALLOW("fstatfs"),
	SANDBOX_ALLOW("getdents64"), SANDBOX_ALLOW("access"), SANDBOX_ALLOW("faccessat"),
	SANDBOX_ALLOW("faccessat2"), SANDBOX_ALLOW("readlink"), SANDBOX_ALLOW("readlinkat"),
	/* the listener and its clients; syslog and sd_notify datagrams on
	 * sockets opened at start-up: no socket() or connect() */
	SANDBOX_ALLOW("accept4"), SANDBOX_ALLOW("getsockopt"), SANDBOX_ALLOW("sendto"),
	SANDBOX_ALLOW("sendmsg"), SANDBOX_ALLOW("sendmmsg"), SANDBOX_ALLOW("recvfrom"),
	SANDBOX_ALLOW("recvmsg"), SANDBOX_ALLOW("shutdown"),
	/* i2c-dev, and what stdio asks a terminal */
	SANDBOX_ALLOW_ARG("ioctl", 1, I2C_RDWR_REQ), SANDBOX_ALLOW_ARG("ioctl", 1, I2C_FUNCS_REQ),
	SANDBOX_ALLOW_ARG("ioctl", 1, I2C_SLAVE_REQ), SANDBOX_ALLOW_ARG("ioctl", 1, I2C_TIMEOUT_REQ),
	SANDBOX_ALLOW_ARG("ioctl", 1, I2C_RETRIES_REQ), SANDBOX_ALLOW_ARG("ioctl", 1, TCGETS),
	SANDBOX_ALLOW_ARG("ioctl", 1, FIONREAD),
	/* misc the loop uses */
	SANDBOX_ALLOW("uname"), SANDBOX_ALLOW("getppid"), SANDBOX_ALLOW("clock_adjtime"),
	SANDBOX_ALLOW("adjtimex"), SANDBOX_ALLOW("clock_getres"), SANDBOX_ALLOW("getresuid"),
	SANDBOX_ALLOW("getresgid"), SANDBOX_ALLOW("umask"),
};

int
priv_lookup(const char *user, const char *group, uid_t *ret_uid, gid_t *ret_gid,
    char *err, size_t errlen)
{
	struct passwd *pw;
	gid_t gid;

	errno = 0;
	pw = getpwnam(user);
	if (!pw) {
		snprintf(err, errlen, "user \"%s\" does not exist", user);
		return -ENOENT;
	}
	if (priv_group(group, &gid) < 0) {
		snprintf(err, errlen, "group \"%s\" does not exist", group);
		return -ENOENT;
	}
	if (pw->pw_uid == 0) {
		snprintf(err, errlen, "user \"%s\" is root: nothing would be dropped", user);
		return -EINVAL;
	}
	*ret_uid = pw->pw_uid;
	*ret_gid = gid;
	return 0;
}

int
priv_user(const char *user, uid_t *ret_uid)
{
	struct passwd *pw;

	errno = 0;
	pw = getpwnam(user);
	if (!pw)
		return -ENOENT;
	*ret_uid = pw->pw_uid;
	return 0;
}

int
priv_group(const char *group, gid_t *ret_gid)
{
	struct group *gr;

	errno = 0;
	gr = getgrnam(group);
	if (!gr)
		return -ENOENT;
	*ret_gid = gr->gr_gid;
	return 0;
}

/* Gives one entry of the directory to uid:gid when it is a regular file
 * with a single link; anything else is left alone. 0, or -EMLINK with the
 * entry named in err. */
static int
chown_entry(int dirfd, const char *name, uid_t uid, gid_t gid, char *err, size_t errlen)
{
	struct stat st;

	if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISREG(st.st_mode))
		return 0;
	if (st.st_nlink > 1) {
		snprintf(err, errlen, "%s has %lu hard links: refusing to give it away (it may "
		    "link to a file outside); remove it", name, (unsigned long)st.st_nlink);
		return -EMLINK;
	}
	if (st.st_uid == uid && st.st_gid == gid)
		return 0;
	if (fchownat(dirfd, name, uid, gid, AT_SYMLINK_NOFOLLOW) < 0) {
		snprintf(err, errlen, "%s: %s", name, strerror(errno));
		return -errno;
	}
	return 0;
}

int
priv_chown_dir(int dirfd, uid_t uid, gid_t gid, char *err, size_t errlen)
{
	struct dirent *d;
	DIR *dp;
	int fd, r = 0;

	if (fchown(dirfd, uid, gid) < 0) {
		snprintf(err, errlen, "%s", strerror(errno));
		return -errno;
	}
	/* fdopendir takes the fd it is given: read a duplicate, from its start */
	fd = fcntl(dirfd, F_DUPFD_CLOEXEC, 0);
	if (fd < 0 || (dp = fdopendir(fd)) == NULL) {
		r = -errno;
		snprintf(err, errlen, "%s", strerror(-r));
		if (fd >= 0)
			close(fd);
		return r;
	}
	rewinddir(dp);
	while (r == 0 && (d = readdir(dp)) != NULL)
		r = chown_entry(dirfd, d->d_name, uid, gid, err, errlen);
	closedir(dp);
	return r;
}

int
priv_drop(uid_t uid, gid_t gid, char *err, size_t errlen)
{
	uid_t ru, eu, su;
	gid_t rg, eg, sg;

	if (setgroups(1, &gid) < 0) {
		snprintf(err, errlen, "setgroups: %s", strerror(errno));
		return -errno;
	}
	if (setresgid(gid, gid, gid) < 0) {
		snprintf(err, errlen, "setresgid(%u): %s", gid, strerror(errno));
		return -errno;
	}
	if (setresuid(uid, uid, uid) < 0) {
		snprintf(err, errlen, "setresuid(%u): %s", uid, strerror(errno));
		return -errno;
	}
	if (getresuid(&ru, &eu, &su) < 0 || getresgid(&rg, &eg, &sg) < 0 || ru != uid ||
	    eu != uid || su != uid || rg != gid || eg != gid || sg != gid) {
		snprintf(err, errlen, "ids after the drop are not %u/%u", uid, gid);
		return -EPERM;
	}
	/* The drop must be one-way: if any of these works, something kept
	 * root (a capability, a saved id) and we refuse to go on. */
	if (setuid(0) == 0 || seteuid(0) == 0 || setgid(0) == 0) {
		snprintf(err, errlen, "root could be regained after the drop");
		return -EPERM;
	}
	/* The uid change set "dumpable" from fs.suid_dumpable, which may be 1:
	 * say again that this process leaves no core and admits no ptrace. */
	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0) {
		snprintf(err, errlen, "PR_SET_DUMPABLE: %s", strerror(errno));
		return -errno;
	}
	return 0;
}

int
priv_sandbox(void)
{
	return sandbox_apply(sensord_rules, sizeof(sensord_rules) / sizeof(sensord_rules[0]),
	    false);
}
