/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fsutil: atomic replace leaves either the old or the new content, the
 * read cap is enforced, and the secret-file check says why it refuses.
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
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "fsutil.h"

static char dir[64];

static int
setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/test_fsutil_XXXXXX");
	return mkdtemp(dir) ? 0 : -1;
}

static int
teardown(void **state)
{
	char cmd[128];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return WEXITSTATUS(system(cmd)) == 0 ? 0 : -1;
}

static void
test_atomic_write_and_read(void **state)
{
	char path[128], tmp[140], *buf;
	size_t len;
	struct stat st;

	(void)state;
	snprintf(path, sizeof(path), "%s/acked", dir);
	assert_int_equal(fs_write_atomic(path, "first", 5, 0600), 0);
	assert_int_equal(fs_write_atomic(path, "second!", 7, 0640), 0);
	assert_int_equal(fs_read_all(path, 100, &buf, &len), 0);
	assert_int_equal(len, 7);
	assert_string_equal(buf, "second!");
	free(buf);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0640);
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	assert_int_equal(access(tmp, F_OK), -1);	/* no temp file left behind */
	assert_int_equal(fs_read_all(path, 6, &buf, &len), -EFBIG);
	assert_int_equal(fs_read_all(dir, 100, &buf, &len), -EINVAL);
	assert_int_equal(fs_read_all("/nonexistent/x", 100, &buf, &len), -ENOENT);
}

/* The no-fsync variant replaces just as atomically, with exactly the mode
 * asked for whatever the umask, and never writes through a planted temp
 * file: a symlink or a hard link there is removed, its target untouched. */
static void
test_atomic_nosync(void **state)
{
	char path[128], tmp[140], victim[140], *buf;
	size_t len;
	struct stat st;
	mode_t old;

	(void)state;
	snprintf(path, sizeof(path), "%s/m.prom", dir);
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	snprintf(victim, sizeof(victim), "%s/victim", dir);
	old = umask(077);
	assert_int_equal(fs_write_atomic_nosync(path, "a 1\n", 4, 0644), 0);
	umask(old);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0644);
	assert_int_equal(fs_write_atomic_nosync(path, "a 22\n", 5, 0640), 0);
	assert_int_equal(fs_read_all(path, 100, &buf, &len), 0);
	assert_string_equal(buf, "a 22\n");
	free(buf);
	assert_int_equal(access(tmp, F_OK), -1);
	assert_int_equal(symlink(victim, tmp), 0);
	assert_int_equal(fs_write_atomic_nosync(path, "b", 1, 0644), 0);
	assert_int_equal(access(victim, F_OK), -1);	/* not created through the link */
	assert_int_equal(fs_write_atomic(victim, "keep", 4, 0600), 0);
	assert_int_equal(link(victim, tmp), 0);
	assert_int_equal(fs_write_atomic_nosync(path, "c", 1, 0644), 0);
	assert_int_equal(fs_read_all(victim, 100, &buf, &len), 0);
	assert_string_equal(buf, "keep");	/* not truncated through the link */
	free(buf);
	assert_int_equal(fs_read_all(path, 100, &buf, &len), 0);
	assert_string_equal(buf, "c");
	free(buf);
}

/* The dirfd variants: the same file through an open directory, never
 * following a symlink for the name read, never hanging on a FIFO. */
static void
test_at_variants(void **state)
{
	char path[128], *buf;
	size_t len;
	int dfd;

	(void)state;
	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	assert_true(dfd >= 0);
	assert_int_equal(fs_write_atomic_at(dfd, "acked", "one", 3, 0640), 0);
	assert_int_equal(fs_read_all_at(dfd, "acked", 10, &buf, &len), 0);
	assert_string_equal(buf, "one");
	free(buf);
	assert_int_equal(symlinkat("acked", dfd, "link"), 0);
	assert_int_equal(fs_read_all_at(dfd, "link", 10, &buf, &len), -ELOOP);
	assert_int_equal(mkfifoat(dfd, "fifo", 0600), 0);
	assert_int_equal(fs_read_all_at(dfd, "fifo", 10, &buf, &len), -EINVAL);
	snprintf(path, sizeof(path), "%s/acked", dir);
	assert_int_equal(fs_read_all_at(AT_FDCWD, path, 10, &buf, &len), 0);
	free(buf);
	close(dfd);
}

static void
test_check_private(void **state)
{
	char path[128];
	mode_t mode;
	uid_t uid;
	int fd;

	(void)state;
	snprintf(path, sizeof(path), "%s/key.p8", dir);
	fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
	assert_true(fd >= 0);
	close(fd);
	assert_int_equal(fs_check_private(path, &mode, &uid), 0);
	assert_int_equal(mode, 0600);
	assert_int_equal(uid, geteuid());
	assert_int_equal(chmod(path, 0640), 0);
	assert_int_equal(fs_check_private(path, &mode, &uid), -EACCES);
	assert_int_equal(mode, 0640);
	assert_int_equal(chmod(path, 0604), 0);
	assert_int_equal(fs_check_private(path, NULL, NULL), -EACCES);
	assert_int_equal(chmod(path, 0400), 0);
	assert_int_equal(fs_check_private(path, NULL, NULL), 0);
	if (geteuid() == 0) {
		assert_int_equal(chown(path, 65534, 65534), 0);
		assert_int_equal(fs_check_private(path, NULL, &uid), -EPERM);
		assert_int_equal(uid, 65534);
	}
	assert_int_equal(fs_check_private(dir, NULL, NULL), -EINVAL);
	assert_int_equal(fs_check_private("/nonexistent/k", NULL, NULL), -ENOENT);
}

static void
test_mkdir(void **state)
{
	char path[128];
	struct stat st;

	(void)state;
	snprintf(path, sizeof(path), "%s/state", dir);
	assert_int_equal(fs_mkdir(path, 0750), 0);
	assert_int_equal(fs_mkdir(path, 0750), 0);
	assert_int_equal(stat(path, &st), 0);
	assert_true(S_ISDIR(st.st_mode));
	assert_int_equal(fs_mkdir("/nonexistent/a/b", 0750), -ENOENT);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_atomic_write_and_read),
		cmocka_unit_test(test_atomic_nosync),
		cmocka_unit_test(test_at_variants),
		cmocka_unit_test(test_check_private),
		cmocka_unit_test(test_mkdir),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
