/* SPDX-License-Identifier: Apache-2.0 */
/*
 * notify: systemd's readiness and watchdog protocol (sd_notify) without
 * libsystemd: one AF_UNIX datagram per state change to $NOTIFY_SOCKET.
 */
#ifndef SNOWSENSE_NOTIFY_H
#define SNOWSENSE_NOTIFY_H

struct notify;

/* Opens the socket named by NOTIFY_SOCKET (before the sandbox). 0 and *ret
 * (new; NULL when not started by systemd), or -errno. */
int notify_open(struct notify **ret);
/* Sends msg ("READY=1", "WATCHDOG=1", ...); NULL n is a no-op. */
void notify_send(struct notify *n, const char *msg);
/* Closes; NULL is fine. */
void notify_close(struct notify *n);

#endif
