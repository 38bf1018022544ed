/* SPDX-License-Identifier: Apache-2.0 */
/*
 * sdsock: sensord's socket as every process speaks it — sensord's server,
 * streamerd, sensortap and the test tools share this one transport, as
 * OpenNTPD's processes and its control tool share imsg.
 *
 * Two layers:
 * - one message on a SOCK_SEQPACKET fd, for either side: encode and send
 *   without blocking; receive, check the size and decode strictly
 *   (common/proto);
 * - the client's connection: connect (non-blocking, close-on-exec), hello
 *   (the server's protocol version checked), subscribe from a cursor,
 *   status, ack, and receive one decoded message.
 *
 * Every call on a connection returns at once, so it fits a poll loop
 * (sdsock_fd); sdsock_wait and sdsock_open add a bounded wait for callers
 * that simply want the next answer. Gap and err messages are handed to the
 * caller as messages: what a gap or a refusal means is the caller's call.
 * Errors are 0 or -errno; nothing here logs or exits.
 */
#ifndef SNOWSENSE_SDSOCK_H
#define SNOWSENSE_SDSOCK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "proto.h"

/* ---- one message on a fd (both sides) ----------------------------- */

/* Encodes m as sent by side and sends it on fd as one message, without
 * blocking. Returns 0, -EAGAIN (the peer's queue is full: try again when fd
 * is writable), -EPIPE / -ECONNRESET (the peer is gone), -EMSGSIZE or
 * -EINVAL (m cannot be encoded), or -errno. */
int sdsock_send_msg(int fd, const struct proto_msg *m, enum proto_side side);
/* Receives one message from fd without blocking into buf (scratch of at
 * least PROTO_MAX_MSG bytes, borrowed) and decodes it as sent by peer into
 * *ret (untouched on failure). *ret_len (may be NULL) gets the message's
 * size whenever one arrived, refused or not. Returns 0, -EAGAIN (nothing
 * now), -ECONNRESET (the peer closed), -EMSGSIZE (over PROTO_MAX_MSG),
 * -EBADMSG (malformed), or -errno; on -EMSGSIZE / -EBADMSG why (may be
 * NULL) says what was wrong. */
int sdsock_recv_msg(int fd, void *buf, enum proto_side peer, struct proto_msg *ret,
    size_t *ret_len, char *why, size_t whylen);

/* ---- the client's connection ----------------------------------------- */

struct sdsock;

/* Messages the client receives per syscall, each slot PROTO_MAX_MSG. With
 * packs of some thirty records four are plenty, and each slot a drain
 * fills is 16 KiB more at streamerd's peak. */
#define SDSOCK_BATCH 4

/* server_uid for a caller that trusts whoever listens (tests, tools that
 * judge the records themselves). */
#define SDSOCK_ANY_SERVER ((uid_t)-1)

/* Connects to sensord's socket at path; the connection is non-blocking
 * and close-on-exec. The listener must be server_uid or root (checked by
 * SO_PEERCRED before anything is read), else -ESRCH: someone else holds
 * the path. With wait_ms 0 it never blocks (-EAGAIN: the server's backlog
 * is full, retry later); with wait_ms > 0 it waits that long for room in
 * the backlog (-ETIMEDOUT). Other errors as connect(2) says them: -ENOENT
 * (no socket), -ECONNREFUSED (nobody listens), -EACCES, ...; -ENAMETOOLONG
 * for a path that does not fit. 0 and *ret (new; sdsock_close). */
int sdsock_connect(const char *path, uid_t server_uid, int wait_ms, struct sdsock **ret);
/* What an error of these functions means (borrowed, static): strerror, but
 * -ESRCH from sdsock_connect says that the server is not trusted. */
const char *sdsock_strerror(int err);
/* Closes the connection and frees c (NULL is fine). */
void sdsock_close(struct sdsock *c);
/* The connection's fd, for poll (borrowed: c owns it). */
int sdsock_fd(const struct sdsock *c);
/* Says hello as client name (at most PROTO_NAME_LEN - 1 bytes); the server
 * answers with its own hello. 0, -ENAMETOOLONG, or sdsock_send_msg's errors. */
int sdsock_hello(struct sdsock *c, const char *name);
/* Subscribes from seq (PROTO_FROM_SEQ), the oldest record journaled
 * (PROTO_FROM_OLDEST) or the next one (PROTO_FROM_NOW; seq is ignored for
 * both). 0 or sdsock_send_msg's errors. */
int sdsock_subscribe(struct sdsock *c, enum proto_from from, uint64_t seq);
/* Acknowledges every record up to seq. 0 or sdsock_send_msg's errors
 * (-EAGAIN: the socket is full, ack later). */
int sdsock_ack(struct sdsock *c, uint64_t seq);
/* Asks for the server's status (answered by a status message). 0 or
 * sdsock_send_msg's errors. */
int sdsock_ask_status(struct sdsock *c);
/* Reads one message from the server into *ret, without blocking: any op
 * the server sends (hello, rec, gap, status, err), in the order sent. Returns 0, -EAGAIN
 * (nothing now), -ECONNRESET (the server closed), -EBADMSG / -EMSGSIZE
 * (malformed: close), -EPROTONOSUPPORT (a hello of another protocol
 * version: close), or -errno; sdsock_why says what was wrong. */
int sdsock_read(struct sdsock *c, struct proto_msg *ret);
/* Whether sdsock_read has messages already received and not handed out:
 * it takes up to SDSOCK_BATCH from the socket at once, so a caller that
 * stops reading before -EAGAIN must not wait for the fd to poll readable
 * while this is true. */
bool sdsock_pending(const struct sdsock *c);
/* Gives the pages of the receive slots back to the kernel when none holds
 * a message still to hand out (for an idle caller after a burst). */
void sdsock_trim(struct sdsock *c);
/* As sdsock_read, but waits up to timeout_ms (< 0: for ever) for a message:
 * -ETIMEDOUT when none came. */
int sdsock_wait(struct sdsock *c, int timeout_ms, struct proto_msg *ret);
/* What was wrong with the message the last read refused (borrowed, valid
 * until the next read on c; "" when nothing was refused) and, when ret_len
 * is not NULL, its size. */
const char *sdsock_why(const struct sdsock *c, size_t *ret_len);
/* For blocking clients: connects to a server run by server_uid or root
 * (waiting up to timeout_ms for the backlog), says hello as name and waits
 * up to timeout_ms for the server's.
 * 0 with *ret (new) and, when ret_hello is not NULL, the server's hello;
 * -EPROTO when the server answered anything else (an err: refused), or the
 * errors of sdsock_connect, sdsock_hello and sdsock_wait. */
int sdsock_open(const char *path, uid_t server_uid, const char *name, int timeout_ms,
    struct sdsock **ret, struct proto_msg *ret_hello);
/* The owner of the directory holding path: the user sensord runs as when
 * the directory is set up as installed (only that user may create entries
 * in it); SDSOCK_ANY_SERVER when unknown (then connecting fails on its own).
 * For readers that know no configured server user (sensortap). */
uid_t sdsock_dir_owner(const char *path);

#endif
