/*
 * journal: appends survive a reopen with the same id and continuing seqs;
 * cursors replay, wait at the end and follow rolls; a torn tail is cut and a
 * flipped byte is skipped and reported; retention by acks, bytes and age,
 * with forced drops counted and seen by a reader as a jump in seq.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
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

#include "journal.h"
#include "log.h"

#define DAY_NS (86400LL * 1000000000LL)

static char dir[64];

static int
setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/test_journal.XXXXXX");
	assert_non_null(mkdtemp(dir));
	log_init("test_journal", 1, 0);
	return 0;
}

static int
teardown(void **state)
{
	char cmd[128];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	assert_int_equal(system(cmd), 0);
	return 0;
}

static struct journal *
jopen(uint64_t seg, uint64_t max, int64_t age)
{
	struct journal_opts o = { seg, max, age, JOURNAL_FSYNC_NEVER };
	struct journal *j = NULL;
	char err[256] = "";

	if (journal_open(dir, &o, &j, err, sizeof(err)) != 0)
		fail_msg("journal_open: %s", err);
	return j;
}

/* Payload of seq s: recognisable, varying length. */
static size_t
payload(uint64_t s, char *buf, size_t cap)
{
	int n = snprintf(buf, cap, "record %" PRIu64 " %.*s", s, (int)(s % 50),
	    "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx");
	return (size_t)n;
}

static void
append_n(struct journal *j, unsigned n, int64_t t)
{
	char buf[128];

	for (unsigned i = 0; i < n; i++) {
		uint64_t want = journal_next_seq(j), got = 0;
		size_t len = payload(want, buf, sizeof(buf));
		assert_int_equal(journal_append(j, buf, len, t, &got), 0);
		assert_int_equal(got, want);
	}
}

static void
expect_entry(struct journal_cursor *c, uint64_t seq)
{
	struct journal_entry e;
	char buf[128];
	size_t len;

	assert_int_equal(journal_cursor_next(c, &e), 0);
	assert_int_equal(e.seq, seq);
	len = payload(seq, buf, sizeof(buf));
	assert_int_equal(e.len, len);
	assert_memory_equal(e.data, buf, len);
}

static int
verify_quiet(void)
{
	FILE *f = fopen("/dev/null", "w");
	int r = journal_verify(dir, f);
	fclose(f);
	return r;
}

static void
test_reopen_continues(void **state)
{
	struct journal_stats a, b;
	struct journal *j;

	(void)state;
	j = jopen(4096, 1 << 20, 0);
	append_n(j, 300, 1);
	journal_stats(j, &a);
	assert_true(a.segments > 3);	/* rolled */
	assert_int_equal(a.first_seq, 1);
	assert_int_equal(a.last_seq, 300);
	journal_close(j);
	assert_int_equal(verify_quiet(), 0);

	j = jopen(4096, 1 << 20, 0);
	journal_stats(j, &b);
	assert_int_equal(b.journal_id, a.journal_id);
	assert_int_equal(b.first_seq, 1);
	assert_int_equal(b.last_seq, 300);
	assert_int_equal(journal_next_seq(j), 301);
	assert_int_equal(b.damaged, 0);
	append_n(j, 1, 1);
	journal_close(j);
}

static void
test_cursor_replay_and_live(void **state)
{
	struct journal_cursor *c, *mid;
	struct journal_entry e;
	struct journal *j;

	(void)state;
	j = jopen(4096, 1 << 20, 0);
	append_n(j, 200, 1);
	assert_int_equal(journal_cursor_new(j, 1, &c), 0);
	assert_int_equal(journal_cursor_new(j, 150, &mid), 0);
	for (uint64_t s = 1; s <= 200; s++)
		expect_entry(c, s);
	assert_int_equal(journal_cursor_next(c, &e), -EAGAIN);
	expect_entry(mid, 150);
	append_n(j, 100, 1);	/* crosses segment boundaries */
	for (uint64_t s = 201; s <= 300; s++)
		expect_entry(c, s);
	assert_int_equal(journal_cursor_next(c, &e), -EAGAIN);
	for (uint64_t s = 151; s <= 300; s++)
		expect_entry(mid, s);
	journal_cursor_free(mid);
	/* a cursor in the future waits for its seq, skipping older ones */
	assert_int_equal(journal_cursor_new(j, 305, &mid), 0);
	assert_int_equal(journal_cursor_next(mid, &e), -EAGAIN);
	append_n(j, 10, 1);
	expect_entry(mid, 305);
	journal_cursor_free(mid);
	journal_cursor_free(c);
	journal_close(j);
}

static char *
last_segment(void)
{
	static char path[256];
	char cmd[160];
	FILE *p;

	snprintf(cmd, sizeof(cmd), "ls %s/seg-*.jnl | tail -n 1", dir);
	p = popen(cmd, "r");
	assert_non_null(fgets(path, sizeof(path), p));
	pclose(p);
	path[strcspn(path, "\n")] = '\0';
	return path;
}

static void
test_torn_tail(void **state)
{
	struct journal_stats st;
	struct journal *j;
	struct stat sb;
	char *seg;

	(void)state;
	j = jopen(1 << 20, 4 << 20, 0);
	append_n(j, 10, 1);
	journal_close(j);
	seg = last_segment();
	assert_int_equal(stat(seg, &sb), 0);
	assert_int_equal(truncate(seg, sb.st_size - 5), 0);	/* inside entry 10 */
	assert_int_equal(verify_quiet(), 1);

	j = jopen(1 << 20, 4 << 20, 0);
	journal_stats(j, &st);
	assert_int_equal(st.last_seq, 9);
	assert_int_equal(journal_next_seq(j), 10);
	append_n(j, 1, 1);
	journal_close(j);
	assert_int_equal(verify_quiet(), 0);
}

static void
flip(const char *path, off_t at)
{
	unsigned char b;
	int fd = open(path, O_RDWR);

	assert_true(fd >= 0);
	assert_int_equal(pread(fd, &b, 1, at), 1);
	b ^= 0x10;
	assert_int_equal(pwrite(fd, &b, 1, at), 1);
	close(fd);
}

static void
test_flipped_byte(void **state)
{
	struct journal_cursor *c;
	struct journal_entry e;
	struct journal_stats st;
	struct journal *j;
	char buf[128];
	off_t at = JOURNAL_SEG_HDR;

	(void)state;
	j = jopen(1 << 20, 4 << 20, 0);
	append_n(j, 20, 1);
	journal_close(j);
	for (uint64_t s = 1; s < 5; s++)
		at += JOURNAL_ENTRY_HDR + (off_t)payload(s, buf, sizeof(buf));
	flip(last_segment(), at + JOURNAL_ENTRY_HDR + 3);	/* payload of seq 5 */
	assert_int_equal(verify_quiet(), 1);

	j = jopen(1 << 20, 4 << 20, 0);
	journal_stats(j, &st);
	assert_int_equal(st.damaged, 1);
	assert_int_equal(st.last_seq, 20);
	assert_int_equal(journal_next_seq(j), 21);
	assert_int_equal(journal_cursor_new(j, 1, &c), 0);
	for (uint64_t s = 1; s <= 20; s++)
		if (s != 5)
			expect_entry(c, s);
	assert_int_equal(journal_cursor_next(c, &e), -EAGAIN);
	journal_cursor_free(c);
	journal_close(j);
	/* still reported: the damage is on disk until retention removes it */
	assert_int_equal(verify_quiet(), 1);
}

static void
test_flipped_length_truncates(void **state)
{
	struct journal_stats st;
	struct journal *j;
	char buf[128];
	off_t at = JOURNAL_SEG_HDR;

	(void)state;
	j = jopen(1 << 20, 4 << 20, 0);
	append_n(j, 20, 1);
	journal_close(j);
	for (uint64_t s = 1; s < 15; s++)
		at += JOURNAL_ENTRY_HDR + (off_t)payload(s, buf, sizeof(buf));
	flip(last_segment(), at);	/* length of seq 15: no way to resync */
	j = jopen(1 << 20, 4 << 20, 0);
	journal_stats(j, &st);
	assert_int_equal(st.last_seq, 14);
	assert_int_equal(st.damaged, 1);
	assert_int_equal(journal_next_seq(j), 15);
	journal_close(j);
	assert_int_equal(verify_quiet(), 0);	/* the cut tail is gone */
}

static void
test_bad_header_set_aside(void **state)
{
	struct journal_stats st;
	struct journal *j;

	(void)state;
	j = jopen(4096, 1 << 20, 0);
	append_n(j, 100, 1);	/* several segments */
	journal_close(j);
	flip(last_segment(), 20);	/* the newest segment's journal id */
	assert_int_equal(verify_quiet(), 1);
	j = jopen(4096, 1 << 20, 0);
	journal_stats(j, &st);
	assert_int_equal(st.damaged, 1);
	assert_true(st.last_seq < 100);
	/* no seq of the set-aside segment is handed out again */
	assert_true(journal_next_seq(j) > 100);
	journal_close(j);
}

static void
test_retention_acked(void **state)
{
	struct journal_stats st;
	struct journal *j;

	(void)state;
	j = jopen(4096, 1 << 20, 0);
	append_n(j, 300, 1);
	assert_int_equal(journal_ack(j, 301), -ERANGE);
	assert_int_equal(journal_ack(j, 150), 0);
	assert_int_equal(journal_ack(j, 100), 0);	/* older: ignored */
	journal_retain(j, 2);
	journal_stats(j, &st);
	assert_int_equal(st.acked_seq, 150);
	assert_int_equal(st.records_dropped, 0);
	assert_true(st.first_seq > 1 && st.first_seq <= 151);
	journal_close(j);
	j = jopen(4096, 1 << 20, 0);
	journal_stats(j, &st);
	assert_int_equal(st.acked_seq, 150);
	/* everything acked: only the active segment stays, seqs go on */
	assert_int_equal(journal_ack(j, 300), 0);
	journal_retain(j, 2);
	journal_stats(j, &st);
	assert_int_equal(st.segments, 1);
	assert_int_equal(journal_next_seq(j), 301);
	journal_close(j);
	j = jopen(4096, 1 << 20, 0);
	assert_int_equal(journal_next_seq(j), 301);
	journal_close(j);
}

static void
test_retention_bytes_forced(void **state)
{
	struct journal_cursor *c;
	struct journal_entry e;
	struct journal_stats st;
	struct journal *j;

	(void)state;
	j = jopen(4096, 16384, 0);
	append_n(j, 1000, 1);
	assert_int_equal(journal_ack(j, 10), 0);
	journal_retain(j, 2);
	journal_stats(j, &st);
	assert_true(st.bytes <= 16384);
	assert_true(st.first_seq > 11);
	assert_int_equal(st.records_dropped, st.first_seq - 11);
	assert_int_equal(journal_cursor_new(j, 1, &c), 0);
	assert_int_equal(journal_cursor_next(c, &e), 0);
	assert_int_equal(e.seq, st.first_seq);	/* the reader sees the jump */
	journal_cursor_free(c);
	journal_close(j);
	j = jopen(4096, 16384, 0);
	journal_stats(j, &st);
	assert_true(st.records_dropped > 0);	/* persisted: "ever" */
	journal_close(j);
	assert_int_equal(verify_quiet(), 0);
}

static void
test_retention_age(void **state)
{
	struct journal_stats st;
	struct journal *j;
	int64_t now = 100 * DAY_NS;

	(void)state;
	j = jopen(4096, 1 << 20, DAY_NS);
	append_n(j, 100, now - 3 * DAY_NS);	/* old */
	append_n(j, 100, now - DAY_NS / 2);	/* young */
	journal_retain(j, now);
	journal_stats(j, &st);
	assert_true(st.first_seq > 1);
	assert_true(st.first_seq <= 101);	/* no young record went */
	assert_int_equal(st.records_dropped, st.first_seq - 1);
	journal_close(j);
}

static void
test_entry_parse(void **state)
{
	struct journal_entry e;
	uint8_t buf[64] = { 0 };

	(void)state;
	assert_int_equal(journal_entry_parse(buf, 10, &e), 0);
	assert_int_equal(journal_entry_parse(buf, sizeof(buf), &e), -EBADMSG);
	buf[0] = 0xff;
	buf[1] = 0xff;
	buf[2] = 0xff;	/* length past the cap */
	assert_int_equal(journal_entry_parse(buf, sizeof(buf), &e), -EBADMSG);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_reopen_continues, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cursor_replay_and_live, setup, teardown),
		cmocka_unit_test_setup_teardown(test_torn_tail, setup, teardown),
		cmocka_unit_test_setup_teardown(test_flipped_byte, setup, teardown),
		cmocka_unit_test_setup_teardown(test_flipped_length_truncates, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_header_set_aside, setup, teardown),
		cmocka_unit_test_setup_teardown(test_retention_acked, setup, teardown),
		cmocka_unit_test_setup_teardown(test_retention_bytes_forced, setup, teardown),
		cmocka_unit_test_setup_teardown(test_retention_age, setup, teardown),
		cmocka_unit_test(test_entry_parse),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
