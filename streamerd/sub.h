/*
 * sub: streamerd's side of the sensord socket — a non-blocking
 * SOCK_SEQPACKET client that says hello, subscribes from a position, reads
 * decoded messages and sends acks. One message per datagram, decoded with
 * the strict protocol decoder; anything malformed ends the connection.
 */
#ifndef STREAMERD_SUB_H
#define STREAMERD_SUB_H

#include <stdint.h>

#include "proto.h"

struct sub;

/* Connects to the socket at path and sends hello with client name
 * "streamerd" (new; sub_close). Returns 0 or -errno. */
int sub_connect(const char *path, struct sub **ret);
/* Closes the connection and frees s (NULL is fine). */
void sub_close(struct sub *s);
/* The socket fd, for poll. */
int sub_fd(const struct sub *s);
/* Reads one message into *ret. Returns 0, -EAGAIN (nothing now),
 * -ECONNRESET (peer closed), -EBADMSG (malformed: close) or -errno. */
int sub_read(struct sub *s, struct proto_msg *ret);
/* Sends subscribe from seq (0 with from_oldest for "oldest"). 0 or -errno. */
int sub_subscribe(struct sub *s, bool from_oldest, uint64_t seq);
/* Sends ack seq. 0, -EAGAIN (socket full: try later) or -errno. */
int sub_ack(struct sub *s, uint64_t seq);

#endif
