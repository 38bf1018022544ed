/* SPDX-License-Identifier: Apache-2.0 */
/*
 * i2c-poke: a tiny i2c-dev client that behaves like a driver, for the
 * fakei2c integration tests. Its arguments are a script of operations run
 * in order, each printing one line ("OP result"), so a shell test can run
 * it under with-chips and compare the output with the frames of docs/chips.md §6:
 *
 *   open PATH | openat PATH      open (O_RDWR|O_CLOEXEC); becomes the current fd
 *   funcs                        ioctl I2C_FUNCS
 *   slave ADDR                   ioctl I2C_SLAVE (hex)
 *   w HEX                        write() the bytes
 *   r N                          read() N bytes
 *   xw ADDR HEX                  I2C_RDWR, one write message
 *   xr ADDR N                    I2C_RDWR, one read message
 *   xwr ADDR HEX N               I2C_RDWR, write + read in one transfer
 *   xrw ADDR N HEX               I2C_RDWR, read first (refused by bcm2835)
 *   cloexec                      prints whether the current fd has FD_CLOEXEC
 *   sleep MS                     nanosleep
 *   close                        close the current fd
 *   cat PATH                     open/read/close a file, print its first line
 *   sandbox                      seccomp allow-list (kill on anything else)
 *   sandbox-nofiles              the same without opening or stat'ing paths
 *                                (those fail with EACCES), as after a
 *                                privilege drop: only fds already open work
 *
 * Results: "ok", the bytes as hex, or the errno name.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/i2c-dev.h>
#include <linux/i2c.h>
#include <seccomp.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#define BUF_MAX 64

static int
parse_hex(const char *s, uint8_t *buf, size_t max, size_t *ret)
{
	size_t n = 0;

	while (s[0] != '\0') {
		char two[3] = { s[0], s[1], '\0' };
		char *end;
		unsigned long v;

		if (s[1] == '\0' || n == max)
			return -1;
		v = strtoul(two, &end, 16);
		if (*end != '\0')
			return -1;
		buf[n++] = (uint8_t)v;
		s += 2;
	}
	*ret = n;
	return 0;
}

static long
num(const char *s, int base)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, base);
	if (errno != 0 || end == s || *end != '\0' || v < 0 || v > 100000) {
		fprintf(stderr, "i2c-poke: bad number \"%s\"\n", s);
		exit(2);
	}
	return v;
}

static void
result(const char *op, int rc, const uint8_t *buf, size_t n)
{
	printf("%s", op);
	if (rc < 0) {
		const char *name = strerrorname_np(errno);
		printf(" %s\n", name != NULL ? name : "?");
	} else if (buf == NULL) {
		printf(" ok\n");
	} else {
		for (size_t i = 0; i < n; i++)
			printf(" %02X", buf[i]);
		printf("\n");
	}
	fflush(stdout);
}

static int
rdwr(int fd, struct i2c_msg *m, unsigned n)
{
	struct i2c_rdwr_ioctl_data d = { .msgs = m, .nmsgs = n };

	return ioctl(fd, I2C_RDWR, &d) == (int)n ? 0 : -1;
}

static void
sandbox(bool nofiles)
{
	static const char *const allow[] = {
		"read", "write", "pwrite64", "pread64", "ioctl", "close", "fstat", "lseek",
		"clock_gettime", "clock_nanosleep", "nanosleep", "exit_group", "exit", "brk",
		"mmap", "munmap", "mremap", "madvise", "futex", "rt_sigreturn",
		"rt_sigprocmask", "getrandom",
	};
	static const char *const files[] = { "openat", "newfstatat", "statx" };
	scmp_filter_ctx ctx = seccomp_init(nofiles ? SCMP_ACT_ERRNO(EACCES) : SCMP_ACT_KILL_PROCESS);
	int rc = ctx == NULL ? -ENOMEM : 0;

	for (size_t i = 0; i < sizeof(allow) / sizeof(allow[0]) && rc == 0; i++)
		rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, seccomp_syscall_resolve_name(allow[i]), 0);
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]) && rc == 0 && !nofiles; i++)
		rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, seccomp_syscall_resolve_name(files[i]), 0);
	/* glibc's fstat() is newfstatat(fd, "", AT_EMPTY_PATH): keep that one */
	if (rc == 0 && nofiles)
		rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(newfstatat), 1,
		    SCMP_A3(SCMP_CMP_EQ, AT_EMPTY_PATH));
	if (rc == 0)
		rc = seccomp_load(ctx);
	seccomp_release(ctx);
	if (rc < 0) {
		fprintf(stderr, "i2c-poke: seccomp: %s\n", strerror(-rc));
		exit(2);
	}
	result(nofiles ? "sandbox-nofiles" : "sandbox", 0, NULL, 0);
}

static void
cat(const char *path)
{
	char buf[256];
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0) {
		result("cat", -1, NULL, 0);
		return;
	}
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n < 0) {
		result("cat", -1, NULL, 0);
		return;
	}
	buf[n] = '\0';
	buf[strcspn(buf, "\n")] = '\0';
	printf("cat %s\n", buf);
	fflush(stdout);
}

/* Runs one operation starting at argv[i]; returns how many args it used. */
static int
run(int fd_cur[1], char **argv, int i, int argc)
{
	const char *op = argv[i];
	uint8_t buf[BUF_MAX], wbuf[BUF_MAX];
	size_t n = 0, wn = 0;
	int fd = fd_cur[0], rc;
	int need = strcmp(op, "xwr") == 0 || strcmp(op, "xrw") == 0 ? 3 :
	    strcmp(op, "xw") == 0 || strcmp(op, "xr") == 0 ? 2 :
	    strcmp(op, "funcs") == 0 || strcmp(op, "close") == 0 || strncmp(op, "sandbox", 7) == 0 ||
	    strcmp(op, "cloexec") == 0 ? 0 : 1;

	if (i + need >= argc) {
		fprintf(stderr, "i2c-poke: %s needs %d argument(s)\n", op, need);
		exit(2);
	}
	if (strcmp(op, "open") == 0 || strcmp(op, "openat") == 0) {
		fd = op[4] == 'a' ? openat(AT_FDCWD, argv[i + 1], O_RDWR | O_CLOEXEC) :
		    open(argv[i + 1], O_RDWR | O_CLOEXEC);
		result(op, fd, NULL, 0);
		if (fd >= 0)
			fd_cur[0] = fd;
	} else if (strcmp(op, "funcs") == 0) {
		unsigned long f = 0;
		rc = ioctl(fd, I2C_FUNCS, &f);
		if (rc < 0)
			result(op, rc, NULL, 0);
		else
			printf("funcs %08lx\n", f);
	} else if (strcmp(op, "slave") == 0) {
		result(op, ioctl(fd, I2C_SLAVE, num(argv[i + 1], 16)), NULL, 0);
	} else if (strcmp(op, "w") == 0) {
		if (parse_hex(argv[i + 1], buf, sizeof(buf), &n) < 0)
			goto bad_hex;
		result(op, write(fd, buf, n) == (ssize_t)n ? 0 : -1, NULL, 0);
	} else if (strcmp(op, "r") == 0) {
		n = (size_t)num(argv[i + 1], 10);
		if (n > sizeof(buf))
			n = sizeof(buf);
		result(op, read(fd, buf, n) == (ssize_t)n ? 0 : -1, buf, n);
	} else if (op[0] == 'x') {
		uint16_t addr = (uint16_t)num(argv[i + 1], 16);
		struct i2c_msg m[2];
		if (strcmp(op, "xw") == 0 || strcmp(op, "xwr") == 0)
			if (parse_hex(argv[i + 2], wbuf, sizeof(wbuf), &wn) < 0)
				goto bad_hex;
		if (strcmp(op, "xr") == 0 || strcmp(op, "xwr") == 0)
			n = (size_t)num(argv[i + (strcmp(op, "xr") == 0 ? 2 : 3)], 10);
		if (strcmp(op, "xrw") == 0) {
			n = (size_t)num(argv[i + 2], 10);
			if (parse_hex(argv[i + 3], wbuf, sizeof(wbuf), &wn) < 0)
				goto bad_hex;
		}
		if (n > sizeof(buf))
			n = sizeof(buf);
		struct i2c_msg w = { .addr = addr, .flags = 0, .len = (uint16_t)wn, .buf = wbuf };
		struct i2c_msg r = { .addr = addr, .flags = I2C_M_RD, .len = (uint16_t)n, .buf = buf };
		if (strcmp(op, "xw") == 0) {
			m[0] = w;
			result(op, rdwr(fd, m, 1), NULL, 0);
		} else if (strcmp(op, "xr") == 0) {
			m[0] = r;
			result(op, rdwr(fd, m, 1), buf, n);
		} else if (strcmp(op, "xwr") == 0) {
			m[0] = w, m[1] = r;
			result(op, rdwr(fd, m, 2), buf, n);
		} else if (strcmp(op, "xrw") == 0) {
			m[0] = r, m[1] = w;
			result(op, rdwr(fd, m, 2), buf, n);
		} else {
			goto bad_op;
		}
	} else if (strcmp(op, "cloexec") == 0) {
		rc = fcntl(fd, F_GETFD);
		printf("cloexec %s\n", rc < 0 ? "error" : (rc & FD_CLOEXEC) ? "yes" : "no");
	} else if (strcmp(op, "sleep") == 0) {
		long ms = num(argv[i + 1], 10);
		struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
		while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
			;
	} else if (strcmp(op, "close") == 0) {
		result(op, close(fd), NULL, 0);
		fd_cur[0] = -1;
	} else if (strcmp(op, "cat") == 0) {
		cat(argv[i + 1]);
	} else if (strcmp(op, "sandbox") == 0 || strcmp(op, "sandbox-nofiles") == 0) {
		sandbox(op[7] == '-');
	} else {
		goto bad_op;
	}
	fflush(stdout);
	return 1 + need;
bad_hex:
	fprintf(stderr, "i2c-poke: %s: bad hex\n", op);
	exit(2);
bad_op:
	fprintf(stderr, "i2c-poke: unknown operation \"%s\"\n", op);
	exit(2);
}

int
main(int argc, char **argv)
{
	int fd[1] = { -1 };

	if (argc < 2) {
		fprintf(stderr, "usage: i2c-poke OP [ARGS] [OP [ARGS]...] (see the source)\n");
		return 2;
	}
	for (int i = 1; i < argc;)
		i += run(fd, argv, i, argc);
	return 0;
}
