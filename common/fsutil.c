/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fsutil: the durable way to replace a file is temp + fsync + rename +
 * fsync of the directory; anything less can leave an empty file after a
 * power cut on an SD card.
 */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fsutil.h"

static int
write_full(int fd, const void *data, size_t len)
{
	const char *p = data;

	while (len > 0) {
		ssize_t n = write(fd, p, len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

int
fs_fsync_dir(const char *dir)
{
	int fd, r = 0;

	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fsync(fd) < 0)
		r = -errno;
	close(fd);
	return r;
}

/* fsyncs the directory holding path, so a rename in it is durable. */
static int
fsync_dir_of(const char *path)
{
	char copy[PATH_MAX];

	if (snprintf(copy, sizeof(copy), "%s", path) >= (int)sizeof(copy))
		return -ENAMETOOLONG;
	return fs_fsync_dir(dirname(copy));
}

/* temp + write + chmod (+ fsync) + rename (+ fsync of the directory), all
 * relative to dirfd (AT_FDCWD: name is a path). A leftover temp file is
 * removed and the new one created with O_EXCL: an old temp file that is a
 * hard link to some other file is never written through. */
static int
replace(int dirfd, const char *name, const void *data, size_t len, mode_t mode,
    bool durable)
{
	char tmp[PATH_MAX];
	int fd, r;

	if (snprintf(tmp, sizeof(tmp), "%s.tmp", name) >= (int)sizeof(tmp))
		return -ENAMETOOLONG;
	if (unlinkat(dirfd, tmp, 0) < 0 && errno != ENOENT)
		return -errno;
	fd = openat(dirfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, mode);
	if (fd < 0)
		return -errno;
	r = write_full(fd, data, len);
	if (r == 0 && fchmod(fd, mode) < 0)
		r = -errno;
	if (r == 0 && durable && fsync(fd) < 0)
		r = -errno;
	if (close(fd) < 0 && r == 0)
		r = -errno;
	if (r == 0 && renameat(dirfd, tmp, dirfd, name) < 0)
		r = -errno;
	if (r < 0) {
		(void)unlinkat(dirfd, tmp, 0);
		return r;
	}
	if (!durable)
		return 0;
	if (dirfd == AT_FDCWD)
		return fsync_dir_of(name);
	return fsync(dirfd) < 0 ? -errno : 0;
}

int
fs_write_atomic(const char *path, const void *data, size_t len, mode_t mode)
{
	return replace(AT_FDCWD, path, data, len, mode, true);
}

int
fs_write_atomic_nosync(const char *path, const void *data, size_t len, mode_t mode)
{
	return replace(AT_FDCWD, path, data, len, mode, false);
}

int
fs_write_atomic_at(int dirfd, const char *name, const void *data, size_t len, mode_t mode)
{
	return replace(dirfd, name, data, len, mode, true);
}

int
fs_write_atomic_at_nosync(int dirfd, const char *name, const void *data, size_t len,
    mode_t mode)
{
	return replace(dirfd, name, data, len, mode, false);
}

/* Reads the regular file open on fd whole (see fs_read_all). */
static int
read_fd(int fd, size_t max, char **ret_buf, size_t *ret_len)
{
	struct stat st;
	char *buf = NULL;
	size_t len = 0;
	int r = 0;

	if (fstat(fd, &st) < 0)
		return -errno;
	if (!S_ISREG(st.st_mode))
		return -EINVAL;
	if ((size_t)st.st_size > max)
		return -EFBIG;
	buf = malloc((size_t)st.st_size + 1);
	if (!buf)
		return -ENOMEM;
	while (len <= (size_t)st.st_size) {
		ssize_t n = read(fd, buf + len, (size_t)st.st_size + 1 - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			r = -errno;
			goto out;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	if (len > (size_t)st.st_size) {	/* grew while reading */
		r = -EFBIG;
		goto out;
	}
	buf[len] = '\0';
	*ret_buf = buf;
	*ret_len = len;
	buf = NULL;
out:
	free(buf);
	return r;
}

/* Opens name relative to dirfd with the extra flags and reads it whole. */
static int
read_at(int dirfd, const char *name, int flags, size_t max, char **ret_buf,
    size_t *ret_len)
{
	int fd, r;

	fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC | flags);
	if (fd < 0)
		return -errno;
	r = read_fd(fd, max, ret_buf, ret_len);
	close(fd);
	return r;
}

int
fs_read_all(const char *path, size_t max, char **ret_buf, size_t *ret_len)
{
	return read_at(AT_FDCWD, path, 0, max, ret_buf, ret_len);
}

int
fs_read_all_at(int dirfd, const char *name, size_t max, char **ret_buf, size_t *ret_len)
{
	/* O_NONBLOCK: a FIFO planted under the name must not hang the open. */
	return read_at(dirfd, name, O_NOFOLLOW | O_NONBLOCK, max, ret_buf, ret_len);
}

int
fs_check_private(const char *path, mode_t *ret_mode, uid_t *ret_uid)
{
	struct stat st;

	if (stat(path, &st) < 0)
		return -errno;
	if (ret_mode)
		*ret_mode = st.st_mode & 07777;
	if (ret_uid)
		*ret_uid = st.st_uid;
	if (!S_ISREG(st.st_mode))
		return -EINVAL;
	if (st.st_uid != geteuid())
		return -EPERM;
	if (st.st_mode & 077)
		return -EACCES;
	return 0;
}

int
fs_mkdir(const char *path, mode_t mode)
{
	if (mkdir(path, mode) < 0 && errno != EEXIST)
		return -errno;
	return 0;
}
