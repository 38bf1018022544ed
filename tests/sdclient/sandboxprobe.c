/* SPDX-License-Identifier: Apache-2.0 */
/*
 * sandboxprobe.so: a test-side LD_PRELOAD hook proving a daemon's seccomp
 * filter from inside the running daemon, with no hook in the product.
 * It wraps statvfs(), which sensord calls once per record for the disk
 * figure, and renameat() and rename(), with which the daemons replace
 * their metrics file (renameat now, rename in older builds, so a test can
 * be run against both) — all after the sandbox is in place — and there
 * tries AF_INET, AF_INET6, AF_NETLINK and AF_UNIX sockets and execve.
 * Results go as one line per call to SANDBOXPROBE_OUT, opened in the
 * constructor (before the sandbox exists); the test says which must fail.
 */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/statvfs.h>
#include <unistd.h>

int statvfs(const char *path, struct statvfs *buf);
int statvfs64(const char *path, struct statvfs64 *buf);
int renameat(int olddirfd, const char *oldpath, int newdirfd, const char *newpath);
int rename(const char *oldpath, const char *newpath);

static int out = -1;

__attribute__((constructor)) static void
probe_init(void)
{
	const char *p = getenv("SANDBOXPROBE_OUT");

	if (p)
		out = open(p, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
}

static const char *
try_socket(int family, int type)
{
	int fd = socket(family, type | SOCK_CLOEXEC, 0);

	if (fd >= 0) {
		close(fd);
		return "ALLOWED";
	}
	return strerrorname_np(errno);
}

static void
probe(void)
{
	char *const argv[] = { "/nonexistent/sandboxprobe", NULL };
	char line[256];
	const char *ex;
	int n;

	if (out < 0)
		return;
	execve(argv[0], argv, NULL);	/* returns: ENOENT if allowed, EPERM if not */
	ex = strerrorname_np(errno);
	n = snprintf(line, sizeof(line), "inet=%s inet6=%s netlink=%s unix=%s execve=%s\n",
	    try_socket(AF_INET, SOCK_STREAM), try_socket(AF_INET6, SOCK_DGRAM),
	    try_socket(AF_NETLINK, SOCK_RAW), try_socket(AF_UNIX, SOCK_DGRAM), ex);
	if (n > 0)
		(void)!write(out, line, (size_t)n);
}

int
statvfs(const char *path, struct statvfs *buf)
{
	int (*real)(const char *, struct statvfs *) =
	    (int (*)(const char *, struct statvfs *))dlsym(RTLD_NEXT, "statvfs");

	probe();
	return real(path, buf);
}

int
statvfs64(const char *path, struct statvfs64 *buf)
{
	int (*real)(const char *, struct statvfs64 *) =
	    (int (*)(const char *, struct statvfs64 *))dlsym(RTLD_NEXT, "statvfs64");

	probe();
	return real(path, buf);
}

int
renameat(int olddirfd, const char *oldpath, int newdirfd, const char *newpath)
{
	int (*real)(int, const char *, int, const char *) =
	    (int (*)(int, const char *, int, const char *))dlsym(RTLD_NEXT, "renameat");

	probe();
	return real(olddirfd, oldpath, newdirfd, newpath);
}

int
rename(const char *oldpath, const char *newpath)
{
	int (*real)(const char *, const char *) =
	    (int (*)(const char *, const char *))dlsym(RTLD_NEXT, "rename");

	probe();
	return real(oldpath, newpath);
}
