/* SPDX-License-Identifier: Apache-2.0 */
/*
 * priv: what sensord gives up after start-up — root (when started as
 * root: supplementary groups, gid and uid, then proof that root cannot be
 * regained) and then most system calls (no-new-privs and sensord's seccomp
 * allow-list: no new sockets of any kind, no exec, no ptrace, ioctl only for
 * i2c-dev and the terminal).
 */
#ifndef SNOWSENSE_PRIV_H
#define SNOWSENSE_PRIV_H

#include <stddef.h>
#include <sys/types.h>

/* Resolves user and group names. 0, or -ENOENT with a message in err. */
int priv_lookup(const char *user, const char *group, uid_t *ret_uid, gid_t *ret_gid,
    char *err, size_t errlen);
/* Resolves a user name alone (streamer_user, allowed_users). 0 or -ENOENT. */
int priv_user(const char *user, uid_t *ret_uid);
/* Resolves a group name alone (socket_group, allowed_groups). 0 or -ENOENT. */
int priv_group(const char *group, gid_t *ret_gid);
/* Gives the directory open on dirfd and the regular files directly in it
 * to uid:gid (as root, for the state directory the dropped process must
 * write), never following a link and refusing (-EMLINK) a file with more
 * than one hard link. 0, or -errno with what failed in err. */
int priv_chown_dir(int dirfd, uid_t uid, gid_t gid, char *err, size_t errlen);
/* Drops to uid/gid for good and checks that root cannot be regained. 0, or
 * -errno with what failed in err. */
int priv_drop(uid_t uid, gid_t gid, char *err, size_t errlen);
/* Sets no-new-privs and loads sensord's seccomp allow-list (anything else
 * fails with EPERM). 0 or -errno. */
int priv_sandbox(void);

#endif
