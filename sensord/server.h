/* SPDX-License-Identifier: Apache-2.0 */
/*
 * server: sensord's SOCK_SEQPACKET listener and its clients. Each client is
 * checked by SO_PEERCRED and SO_PEERGROUPS, speaks the protocol of
 * common/proto.h, and reads records through its own journal cursor: it is
 * fed only as its socket drains, so a slow or stuck client costs a cursor
 * and a few small replies of memory and never delays the loop, a
 * measurement or another client.
 *
 * Two roles: every admitted client may read (subscribe, status); only the
 * streamer's uid may ack, and only up to what was sent on its own
 * subscription, because an ack lets sensord delete records.
 */
#ifndef SNOWSENSE_SERVER_H
#define SNOWSENSE_SERVER_H

#include <poll.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "conf.h"
#include "proto.h"

struct journal;
struct server;

struct server_conf {
	const char *path;
	unsigned mode;			/* chmod after bind */
	uid_t uid;			/* chown after bind (the user a root start drops
					 * to, so it can remove the socket, even in a
					 * sticky dir); (uid_t)-1 to keep */
	gid_t gid;			/* chgrp after bind; (gid_t)-1 to keep */
	uid_t streamer;			/* the one uid that may ack; always has a slot */
	const char *streamer_name;	/* its user name, for messages */
	const uid_t *uids;		/* read-only clients besides root, our uid and
					 * the streamer (copied) */
	size_t nuids;
	const gid_t *gids;		/* groups whose members (primary or
					 * supplementary) are read-only clients (copied) */
	size_t ngids;
	const char *denied_hint;	/* told to a refused client: what would let it
					 * in (copied; at most PROTO_MSG_LEN - 64 bytes) */
	unsigned max_clients;
	unsigned max_per_uid;		/* connections one uid may hold */
	const char *device;
};

/* What the server counted since it started (for the metrics file). */
struct server_stats {
	uint64_t clients_refused;	/* not allowed, or no slot for them */
	uint64_t acks_refused;		/* from a read-only client, or beyond what was sent */
	uint64_t records_damaged;	/* unreadable journal entries sent as gaps (seqs) */
};

/* Fills a status answer (everything but the client count). */
typedef void server_status_fn(void *ctx, struct proto_status *st);

/* Binds the socket (refusing when another sensord answers on the path,
 * removing a stale one). j and ctx are borrowed for the server's life.
 * Returns 0 and *ret (new), or -errno with a message in err. */
int server_new(const struct server_conf *conf, struct journal *j,
    server_status_fn *status, void *ctx, struct server **ret, char *err, size_t errlen);
/* Closes every client and the listener and removes the socket; NULL is fine. */
void server_free(struct server *s);
/* Most pollfds server_pollfds can fill. */
size_t server_maxfds(const struct server *s);
/* Fills fds with what the server waits for (now: CLOCK_MONOTONIC ns);
 * returns how many. */
size_t server_pollfds(struct server *s, struct pollfd *fds, size_t cap, int64_t now);
/* Handles what poll reported on the fds filled by server_pollfds. */
void server_dispatch(struct server *s, const struct pollfd *fds, size_t n, int64_t now);
/* New records were journaled: feeds the clients waiting for them. */
void server_wake(struct server *s);
/* Earliest CLOCK_MONOTONIC ns the server needs a turn at (INT64_MAX: none):
 * the end of an accept pause, or a count of suppressed log lines due. */
int64_t server_next_deadline(const struct server *s);
/* The server's timed work at now: logs the counts of refusals whose lines
 * were suppressed once their window is over. */
void server_tick(struct server *s, int64_t now);
/* Counters since start. */
void server_stats(const struct server *s, struct server_stats *st);
/* Connected clients. */
unsigned server_clients(const struct server *s);

#endif
