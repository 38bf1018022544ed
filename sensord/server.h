/*
 * server: sensord's SOCK_SEQPACKET listener and its clients. Each client is
 * checked by SO_PEERCRED, speaks the protocol of common/proto.h, and reads
 * records through its own journal cursor: it is fed only as its socket
 * drains, so a slow or stuck client costs a cursor and a few small replies
 * of memory and never delays the loop, a measurement or another client.
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
	const struct conf_int_list *uids;	/* allowed besides root and our uid */
	const struct conf_int_list *gids;	/* allowed primary gids */
	unsigned max_clients;
	const char *device;
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
/* Earliest CLOCK_MONOTONIC ns the server needs a turn at (INT64_MAX: none). */
int64_t server_next_deadline(const struct server *s);
/* Connected clients. */
unsigned server_clients(const struct server *s);

#endif
