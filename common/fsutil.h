/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fsutil: small file helpers both daemons need — atomic state files,
 * whole-file reads with a cap, and permission checks on secrets and dirs.
 */
#ifndef SNOWSENSE_FSUTIL_H
#define SNOWSENSE_FSUTIL_H

#include <stddef.h>
#include <sys/types.h>

/* Writes data to path via temp file + fsync + rename + directory fsync,
 * with the given mode. Returns 0 or -errno. */
int fs_write_atomic(const char *path, const void *data, size_t len, mode_t mode);
/* Same without either fsync: readers see the old or the new file, never
 * half of one, but a power cut may leave either (for files rewritten
 * often whose loss is harmless, e.g. metrics). 0 or -errno. */
int fs_write_atomic_nosync(const char *path, const void *data, size_t len, mode_t mode);
/* fs_write_atomic for the file name in the directory open on dirfd; the
 * directory's fsync is fsync(dirfd), so no path is resolved again. 0 or
 * -errno. */
int fs_write_atomic_at(int dirfd, const char *name, const void *data, size_t len,
    mode_t mode);
/* fs_write_atomic_nosync for the file name in the directory open on dirfd.
 * 0 or -errno. */
int fs_write_atomic_at_nosync(int dirfd, const char *name, const void *data, size_t len,
    mode_t mode);
/* Reads a whole file of at most max bytes into *ret_buf (new, NUL-terminated,
 * caller frees) and its length into *ret_len. -EFBIG when larger. */
int fs_read_all(const char *path, size_t max, char **ret_buf, size_t *ret_len);
/* fs_read_all for name in the directory open on dirfd (AT_FDCWD: name is a
 * path), never following a symbolic link in its last component (-ELOOP)
 * and never waiting on a FIFO (-EINVAL: not a regular file). For state
 * files, whose directory was checked once. */
int fs_read_all_at(int dirfd, const char *name, size_t max, char **ret_buf,
    size_t *ret_len);
/* Checks that a secret file is a regular file owned by the running uid and
 * not readable or writable by group or others. Returns 0, -EPERM (owner),
 * -EACCES (mode) or another -errno; ret_mode and ret_uid say what was found. */
int fs_check_private(const char *path, mode_t *ret_mode, uid_t *ret_uid);
/* fsyncs directory dir (after creating, renaming or unlinking in it). 0 or
 * -errno. */
int fs_fsync_dir(const char *dir);
/* mkdir -p for one directory level with mode; EEXIST is success. */
int fs_mkdir(const char *path, mode_t mode);

#endif
