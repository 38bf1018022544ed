/* SPDX-License-Identifier: Apache-2.0 */
/*
 * timefix: a pure decision and one subtraction; the only I/O is reading
 * the boot id once, before the sandbox.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "timefix.h"

int
timefix_init(struct timefix *tf, const char *path, int64_t hold_ns)
{
	char buf[64];
	ssize_t n;
	int fd;

	memset(tf, 0, sizeof(*tf));
	tf->hold_ns = hold_ns;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return -errno;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n < 0)
		return -EIO;
	buf[n] = '\0';
	buf[strcspn(buf, "\n")] = '\0';
	/* sensord copies the same file into each record; a UUID is 36 bytes */
	if (strlen(buf) != RECORD_BOOT_ID_LEN - 1)
		return -EINVAL;
	memcpy(tf->boot_id, buf, RECORD_BOOT_ID_LEN);
	return 0;
}

enum timefix_verdict
timefix_decide(const struct timefix *tf, const struct record *r, bool synced_now,
    int64_t boottime_now)
{
	if (r->synced || !r->has_boot_id || tf->boot_id[0] == '\0' ||
	    strcmp(r->boot_id, tf->boot_id) != 0)
		return TIMEFIX_AS_IS;
	if (synced_now)
		return TIMEFIX_CORRECT;
	/* unsigned: boot_ns may be ahead of a clock read earlier */
	if (boottime_now >= 0 && (uint64_t)boottime_now < r->boot_ns + (uint64_t)tf->hold_ns)
		return TIMEFIX_HOLD;
	return TIMEFIX_AS_IS;
}

int64_t
timefix_time(const struct record *r, int64_t realtime_now, int64_t boottime_now)
{
	return realtime_now - (boottime_now - (int64_t)r->boot_ns);
}
