/* SPDX-License-Identifier: Apache-2.0 */
/*
 * safedir and priv_chown_dir: attacks 3 and 4 on the state directory. A
 * missing state dir is created 0700; a symbolic link in its place, one
 * owned by another user, or one that group or others may write is refused
 * with a message that names the directory and the fix; the socket's
 * directory follows the same rules. Handing the state dir over never
 * follows a link and refuses a file with a second hard link. Ownership
 * cases need root (they are skipped otherwise).
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "priv.h"
#include "safedir.h"

static char top[64], path[128], err[512];
static uid_t me;

static int
setup(void **state)
{
	(void)state;
	snprintf(top, sizeof(top), "/tmp/test_safedir.XXXXXX");
	assert_non_null(mkdtemp(top));
	snprintf(path, sizeof(path), "%s/state", top);
	me = geteuid();
	err[0] = '\0';
	return 0;
}

static int
teardown(void **state)
{
	char cmd[128];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf %s", top);
	return system(cmd) == 0 ? 0 : -1;
}

/* The refusal r with err naming the directory and saying want. */
static void
expect_refused(int r, int want_r, const char *want)
{
	assert_int_equal(r, want_r);
	assert_non_null(strstr(err, path));
	if (!strstr(err, want))
		fail_msg("\"%s\" does not say \"%s\"", err, want);
}

static void
test_created_0700(void **state)
{
	struct stat st;
	int fd = -1;

	(void)state;
	assert_int_equal(safedir_open(path, "state_dir", me, &fd, err, sizeof(err)), 0);
	assert_true(fd >= 0);
	assert_int_equal(fstat(fd, &st), 0);
	assert_true(S_ISDIR(st.st_mode));
	assert_int_equal(st.st_mode & 07777, 0700);
	assert_true(fcntl(fd, F_GETFD) & FD_CLOEXEC);
	close(fd);
	/* an existing one that nobody else may write is fine, kept as it is */
	assert_int_equal(chmod(path, 0750), 0);
	assert_int_equal(safedir_open(path, "state_dir", me, &fd, err, sizeof(err)), 0);
	assert_int_equal(fstat(fd, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0750);
	close(fd);
}

/* Attack 3: root must not follow a state_dir that is a symbolic link. */
static void
test_symlink_refused(void **state)
{
	char target[160];
	int fd = -1;

	(void)state;
	snprintf(target, sizeof(target), "%s/elsewhere", top);
	assert_int_equal(mkdir(target, 0700), 0);
	assert_int_equal(symlink(target, path), 0);
	expect_refused(safedir_open(path, "state_dir", me, &fd, err, sizeof(err)), -ELOOP,
	    "is a symbolic link");
	assert_non_null(strstr(err, "set state_dir to the real directory"));
	assert_int_equal(fd, -1);
}

/* Attack 4: a directory others may write is refused, sticky or not. */
static void
test_loose_modes_refused(void **state)
{
	static const mode_t modes[] = { 0777, 01777, 0770, 0720, 0702 };
	int fd = -1;

	(void)state;
	assert_int_equal(mkdir(path, 0700), 0);
	for (size_t i = 0; i < sizeof(modes) / sizeof(modes[0]); i++) {
		assert_int_equal(chmod(path, modes[i]), 0);
		expect_refused(safedir_open(path, "state_dir", me, &fd, err, sizeof(err)),
		    -EACCES, "run chmod go-w");
		assert_int_equal(fd, -1);
	}
}

static void
test_other_owner_refused(void **state)
{
	int fd = -1;

	(void)state;
	if (me != 0)
		skip();
	assert_int_equal(mkdir(path, 0700), 0);
	assert_int_equal(chown(path, 4242, 4242), 0);
	expect_refused(safedir_open(path, "state_dir", 65534, &fd, err, sizeof(err)), -EPERM,
	    "not by root or sensord's user");
	/* sensord's own user, or root, may own it */
	assert_int_equal(safedir_open(path, "state_dir", 4242, &fd, err, sizeof(err)), 0);
	close(fd);
	assert_int_equal(chown(path, 0, 0), 0);
	assert_int_equal(safedir_open(path, "state_dir", 4242, &fd, err, sizeof(err)), 0);
	close(fd);
}

/* The socket's directory: whoever may create entries there could bind the
 * socket path while sensord is down (attack 2). */
static void
test_socket_dir(void **state)
{
	char sock[160];

	(void)state;
	assert_int_equal(mkdir(path, 0755), 0);
	snprintf(sock, sizeof(sock), "%s/sensord.sock", path);
	assert_int_equal(safedir_check_parent(sock, "socket", me, err, sizeof(err)), 0);
	assert_int_equal(chmod(path, 01770), 0);
	expect_refused(safedir_check_parent(sock, "socket", me, err, sizeof(err)), -EACCES,
	    "writable by its group");
	assert_int_equal(chmod(path, 0755), 0);
	snprintf(sock, sizeof(sock), "%s/missing/sensord.sock", path);
	assert_int_equal(safedir_check_parent(sock, "socket", me, err, sizeof(err)), -ENOENT);
	assert_non_null(strstr(err, "does not exist"));
	assert_int_equal(safedir_check_parent("/sensord.sock", "socket", me, err, sizeof(err)),
	    0);
}

/* Handing the state dir over: its regular files go, a symlink's target
 * and a file with a second hard link do not. */
static void
test_chown_dir(void **state)
{
	char f[160], link2[160], outside[160];
	struct stat st;
	int dfd, fd;

	(void)state;
	if (me != 0)
		skip();
	assert_int_equal(mkdir(path, 0700), 0);
	snprintf(f, sizeof(f), "%s/acked", path);
	fd = open(f, O_WRONLY | O_CREAT | O_CLOEXEC, 0640);
	assert_true(fd >= 0);
	close(fd);
	snprintf(outside, sizeof(outside), "%s/shadow", top);
	fd = open(outside, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
	assert_true(fd >= 0);
	close(fd);
	snprintf(link2, sizeof(link2), "%s/seg-link", path);
	assert_int_equal(symlink(outside, link2), 0);
	dfd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	assert_true(dfd >= 0);
	assert_int_equal(priv_chown_dir(dfd, 4242, 4243, err, sizeof(err)), 0);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_uid, 4242);
	assert_int_equal(stat(f, &st), 0);
	assert_int_equal(st.st_uid, 4242);
	assert_int_equal(st.st_gid, 4243);
	assert_int_equal(stat(outside, &st), 0);
	assert_int_equal(st.st_uid, 0);		/* the link was not followed */
	/* a hard link to a file outside: refused, and nothing given away */
	snprintf(link2, sizeof(link2), "%s/seqfloor", path);
	assert_int_equal(link(outside, link2), 0);
	assert_int_equal(priv_chown_dir(dfd, 4244, 4244, err, sizeof(err)), -EMLINK);
	assert_non_null(strstr(err, "seqfloor has 2 hard links"));
	assert_int_equal(stat(outside, &st), 0);
	assert_int_equal(st.st_uid, 0);
	close(dfd);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_created_0700, setup, teardown),
		cmocka_unit_test_setup_teardown(test_symlink_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_loose_modes_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_other_owner_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_socket_dir, setup, teardown),
		cmocka_unit_test_setup_teardown(test_chown_dir, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
