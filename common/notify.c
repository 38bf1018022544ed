/* SPDX-License-Identifier: Apache-2.0 */
/*
 * notify: the socket is connected once at start, before the privilege
 * drop, so later sends need no permission on the path; '@' names an
 * abstract socket. A failed send is logged at debug only: systemd not
 * listening must never stop the daemon.
 */
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "log.h"
#include "notify.h"

struct notify {
	int fd;
	struct sockaddr_un sa;
	socklen_t salen;
};

int
notify_open(struct notify **ret)
{
	const char *path = getenv("NOTIFY_SOCKET");
	struct notify *n;
	size_t len;

	*ret = NULL;
	if (!path || !*path)
		return 0;
	len = strlen(path);
	if ((path[0] != '/' && path[0] != '@') || len >= sizeof(n->sa.sun_path))
		return -EINVAL;
	n = calloc(1, sizeof(*n));
	if (!n)
		return -ENOMEM;
	n->sa.sun_family = AF_UNIX;
	memcpy(n->sa.sun_path, path, len);
	if (path[0] == '@')
		n->sa.sun_path[0] = '\0';
	n->salen = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len +
	    (path[0] == '@' ? 0 : 1));
	n->fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (n->fd < 0 || connect(n->fd, (struct sockaddr *)&n->sa, n->salen) < 0) {
		int r = -errno;
		if (n->fd >= 0)
			close(n->fd);
		free(n);
		return r;
	}
	*ret = n;
	return 0;
}

void
notify_send(struct notify *n, const char *msg)
{
	if (!n)
		return;
	if (send(n->fd, msg, strlen(msg), MSG_NOSIGNAL) < 0)
		log_debug("sd_notify %s: %s", msg, strerror(errno));
}

void
notify_close(struct notify *n)
{
	if (!n)
		return;
	close(n->fd);
	free(n);
}
