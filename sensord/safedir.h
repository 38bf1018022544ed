/* SPDX-License-Identifier: Apache-2.0 */
/*
 * safedir: the directories sensord trusts, checked before it uses them:
 * the state directory (the journal, the acked seq, the SGP30 baseline),
 * opened once and then used only through its fd, and the directory of the
 * socket. Each must be the directory itself (not a symbolic link to one),
 * owned by root or by sensord's user, and writable by no one else: whoever
 * can create entries there could plant a segment, a hard link for root to
 * hand over, or a socket of their own while sensord is down.
 */
#ifndef SNOWSENSE_SAFEDIR_H
#define SNOWSENSE_SAFEDIR_H

#include <stddef.h>
#include <sys/types.h>

/* Opens dir (named by config key `key` in messages) with O_NOFOLLOW and
 * O_DIRECTORY, creating it mode 0700 when it is missing, and checks the
 * rules on what was opened; owner is the user sensord runs as once
 * started. 0 and *ret_fd (new: the caller closes it), or -errno with a
 * message naming the directory and the fix in err: -ELOOP (a symbolic
 * link), -ENOTDIR, -EPERM (another owner), -EACCES (group or other may
 * write), or what open or mkdir said. */
int safedir_open(const char *dir, const char *key, uid_t owner, int *ret_fd, char *err,
    size_t errlen);
/* Checks the directory holding path (the socket named by `key`) by the
 * same rules, without creating it. 0 or -errno with the message in err. */
int safedir_check_parent(const char *path, const char *key, uid_t owner, char *err,
    size_t errlen);

#endif
