/* SPDX-License-Identifier: Apache-2.0 */
/*
 * safedir: checks are made on the open directory (fstat of the fd), never
 * on a path looked up a second time, so what was checked is what is used.
 * O_NOFOLLOW applies to the last component only: a symbolic link higher up
 * (e.g. /var -> /data/var) is the administrator's layout, not a planted one.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "safedir.h"

/* A user's name for a message, or "uid N". */
static const char *
user_name(uid_t uid, char *buf, size_t len)
{
	struct passwd *pw = getpwuid(uid);

	if (pw)
		snprintf(buf, len, "%s", pw->pw_name);
	else
		snprintf(buf, len, "uid %u", (unsigned)uid);
	return buf;
}

static int
check_fd(int fd, const char *dir, const char *key, uid_t owner, char *err, size_t errlen)
{
	char who[64], want[64];
	struct stat st;

	if (fstat(fd, &st) < 0) {
		snprintf(err, errlen, "%s %s: %s", key, dir, strerror(errno));
		return -errno;
	}
	if (st.st_uid != 0 && st.st_uid != owner) {
		snprintf(err, errlen, "%s %s is owned by %s, not by root or sensord's user %s: "
		    "run chown %s %s (as root), or choose another %s", key, dir,
		    user_name(st.st_uid, who, sizeof(who)), user_name(owner, want, sizeof(want)),
		    want, dir, key);
		return -EPERM;
	}
	if (st.st_mode & (S_IWGRP | S_IWOTH)) {
		snprintf(err, errlen, "%s %s is writable by %s (mode %04o): anyone there could "
		    "add or replace what sensord keeps in it; run chmod go-w %s", key, dir,
		    st.st_mode & S_IWOTH ? "everyone" : "its group",
		    (unsigned)(st.st_mode & 07777), dir);
		return -EACCES;
	}
	return 0;
}

/* Opens dir without following a symlink; the refusal says which it was. */
static int
open_nofollow(const char *dir, const char *key, int *ret_fd, char *err, size_t errlen)
{
	struct stat st;
	int fd, r;

	fd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd >= 0) {
		*ret_fd = fd;
		return 0;
	}
	r = -errno;
	if ((r == -ELOOP || r == -ENOTDIR) && lstat(dir, &st) == 0 && S_ISLNK(st.st_mode)) {
		snprintf(err, errlen, "%s %s is a symbolic link: sensord does not follow it "
		    "(as root it would give the link's target to its user); set %s to the "
		    "real directory", key, dir, key);
		return -ELOOP;
	}
	if (r == -ENOTDIR)
		snprintf(err, errlen, "%s %s is not a directory", key, dir);
	else if (r != -ENOENT)
		snprintf(err, errlen, "cannot open %s %s: %s", key, dir, strerror(-r));
	return r;
}

int
safedir_open(const char *dir, const char *key, uid_t owner, int *ret_fd, char *err,
    size_t errlen)
{
	int fd, r;

	r = open_nofollow(dir, key, &fd, err, errlen);
	if (r == -ENOENT) {
		if (mkdir(dir, 0700) < 0 && errno != EEXIST) {
			r = -errno;
			snprintf(err, errlen, "cannot create %s %s: %s", key, dir, strerror(-r));
			return r;
		}
		r = open_nofollow(dir, key, &fd, err, errlen);
		if (r == -ENOENT)
			snprintf(err, errlen, "cannot open %s %s: %s", key, dir, strerror(-r));
	}
	if (r < 0)
		return r;
	r = check_fd(fd, dir, key, owner, err, errlen);
	if (r < 0) {
		close(fd);
		return r;
	}
	*ret_fd = fd;
	return 0;
}

int
safedir_check_parent(const char *path, const char *key, uid_t owner, char *err,
    size_t errlen)
{
	char dir[PATH_MAX], what[64];
	char *slash;
	int fd, r;

	if (snprintf(dir, sizeof(dir), "%s", path) >= (int)sizeof(dir)) {
		snprintf(err, errlen, "%s %.64s...: path too long", key, path);
		return -ENAMETOOLONG;
	}
	slash = strrchr(dir, '/');
	if (!slash) {
		snprintf(err, errlen, "%s %s: expected an absolute path", key, path);
		return -EINVAL;
	}
	slash[slash == dir] = '\0';	/* "/x" -> "/" */
	snprintf(what, sizeof(what), "%s's directory", key);
	r = open_nofollow(dir, what, &fd, err, errlen);
	if (r == -ENOENT)
		snprintf(err, errlen, "%s %s does not exist", what, dir);
	if (r < 0)
		return r;
	r = check_fd(fd, dir, what, owner, err, errlen);
	close(fd);
	return r;
}
