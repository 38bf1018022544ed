/* SPDX-License-Identifier: Apache-2.0 */
/*
 * journal: appends survive a reopen with the same id and continuing seqs;
 * cursors replay, wait at the end and follow rolls; a torn tail is cut and a
 * flipped byte is skipped and reported; retention by acks, bytes and age,
 * with forced drops counted and seen by a reader as a jump in seq; the seq
 * floor: after an unclean stop that lost records (a power cut, modelled by
 * abandoning the journal and cutting its files back to the last sync) no
 * seq is handed out twice, the jump is counted once and verifies clean.
 *
 * journal.c is included to reach its statics: crash() drops a journal
 * without journal_close's orderly-stop work.
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

#include "journal.c"

#define DAY_NS (86400LL * 1000000000LL)

static char dir[64];

/* The test directory opened, as sensord opens its state dir; the caller
 * closes it. */
static int
dir_fd(void)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	assert_true(fd >= 0);
	return fd;
}

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
jopen_mode(uint64_t seg, uint64_t max, int64_t age, int mode)
{
	struct journal_opts o = { seg, max, age, mode };
	struct journal *j = NULL;
	char err[256] = "";
	int fd = dir_fd(), r;

	r = journal_open(fd, dir, &o, &j, err, sizeof(err));
	close(fd);
	if (r != 0)
		fail_msg("journal_open: %s", err);
	return j;
}

static struct journal *
jopen(uint64_t seg, uint64_t max, int64_t age)
{
	return jopen_mode(seg, max, age, JOURNAL_FSYNC_NEVER);
}

/* The process dies: nothing of journal_close runs. */
static void
crash(struct journal *j)
{
	close(j->fd);
	close(j->dirfd);
	free(j->segs);
	free(j->wbuf);
	free(j);
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
	int fd = dir_fd(), r = journal_verify(fd, f);

	close(fd);
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
	struct journal_cursor *c = NULL, *mid = NULL;
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
	mid = NULL;
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
	/* seq 10 was handed out before the close: never again */
	assert_int_equal(journal_next_seq(j), 11);
	assert_int_equal(st.seqs_skipped, 1);
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
	struct journal_cursor *c = NULL;
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
	assert_int_equal(journal_next_seq(j), 21);	/* 15..20 were handed out */
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

/* max_bytes holds between the loop's retention runs too: a segment roll
 * over the limit forces the oldest out at once (at 100 records/s the once a
 * second retention let the journal pass max_bytes by a second of records). */
static void
test_retention_bytes_at_roll(void **state)
{
	struct journal_stats st;
	struct journal *j;

	(void)state;
	j = jopen(4096, 16384, 0);
	for (unsigned i = 0; i < 1000; i++) {
		append_n(j, 1, 1);
		journal_stats(j, &st);
		assert_true(st.bytes <= 16384 + 4096);
	}
	assert_true(st.records_dropped > 0);
	assert_int_equal(st.records_dropped, st.first_seq - 1);
	journal_close(j);
}

static void
test_retention_bytes_forced(void **state)
{
	struct journal_cursor *c = NULL;
	struct journal_entry e;
	struct journal_stats st;
	struct journal *j;

	(void)state;
	j = jopen(4096, 16384, 0);
	append_n(j, 10, 1);
	assert_int_equal(journal_ack(j, 10), 0);
	append_n(j, 990, 1);
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

/* The acked file cannot be written (here: a directory squats its temp
 * file's name, as a full disk would fail its write): nothing is deleted,
 * acked or forced, until it can be; then retention catches up and the
 * persisted count of forced drops is right. */
static void
test_retention_waits_for_acked_file(void **state)
{
	struct journal_stats before, st;
	struct journal *j;
	char tmp[128];

	(void)state;
	j = jopen(4096, 16384, 0);
	append_n(j, 100, 1);
	assert_int_equal(journal_ack(j, 100), 0);
	snprintf(tmp, sizeof(tmp), "%s/acked.tmp", dir);
	assert_int_equal(mkdir(tmp, 0700), 0);
	append_n(j, 900, 1);	/* the rolls' retention waits too */
	journal_stats(j, &before);
	assert_true(before.segments > 4);
	journal_retain(j, 2);
	journal_stats(j, &st);
	assert_int_equal(st.segments, before.segments);
	assert_int_equal(st.first_seq, 1);
	assert_int_equal(st.records_dropped, 0);
	assert_int_equal(rmdir(tmp), 0);
	journal_retain(j, 2);
	journal_stats(j, &st);
	assert_true(st.first_seq > 101);
	assert_true(st.bytes <= 16384);
	assert_int_equal(st.records_dropped, st.first_seq - 101);
	journal_close(j);
	j = jopen(4096, 16384, 0);
	journal_stats(j, &before);
	assert_int_equal(before.records_dropped, st.records_dropped);
	assert_int_equal(before.acked_seq, 100);
	journal_close(j);
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

/* ------------------------------------------------------------ seq floor */

static off_t
file_size(const char *path)
{
	struct stat sb;

	assert_int_equal(stat(path, &sb), 0);
	return sb.st_size;
}

static struct floor_state
floor_now(void)
{
	struct floor_state f;
	int fd = dir_fd();

	assert_int_equal(floor_read(fd, &f), 0);
	close(fd);
	return f;
}

/* journal_verify's report (static buffer) and its result in *ret. */
static const char *
verify_text(int *ret)
{
	static char text[8192];
	FILE *f = fmemopen(text, sizeof(text), "w");

	int fd = dir_fd();

	assert_non_null(f);
	*ret = journal_verify(fd, f);
	close(fd);
	fclose(f);
	return text;
}

static void
write_file(const char *name, const char *text)
{
	char path[128];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

/* A power cut after records were handed out but before they were synced:
 * the restart continues above the reserved floor, counts the jump, a
 * reader sees it, and the journal verifies clean. */
static void
test_floor_power_cut(void **state)
{
	struct journal_cursor *c = NULL;
	struct journal_entry e;
	struct journal_stats st;
	struct journal *j;
	const char *text;
	char seg[256];
	off_t durable;
	int rc;

	(void)state;
	j = jopen_mode(1 << 20, 4 << 20, 0, JOURNAL_FSYNC_INTERVAL);
	append_n(j, 10, 1);
	assert_int_equal(journal_sync(j), 0);
	snprintf(seg, sizeof(seg), "%s", last_segment());
	durable = file_size(seg);
	append_n(j, 5, 1);	/* 11..15 handed out, not synced */
	assert_int_equal(floor_now().floor, 1 + BLOCK_MIN);
	assert_int_equal(journal_ack(j, 13), 0);	/* committed downstream */
	assert_int_equal(journal_flush_acked(j), 0);
	crash(j);
	assert_int_equal(truncate(seg, durable), 0);	/* the cut took 11..15 */

	j = jopen_mode(1 << 20, 4 << 20, 0, JOURNAL_FSYNC_INTERVAL);
	journal_stats(j, &st);
	assert_int_equal(st.last_seq, 10);
	assert_int_equal(st.acked_seq, 13);
	assert_int_equal(journal_next_seq(j), 1 + BLOCK_MIN);
	assert_int_equal(st.seqs_skipped, BLOCK_MIN - 10);
	append_n(j, 1, 1);
	assert_int_equal(journal_cursor_new(j, 1, &c), 0);
	for (uint64_t s = 1; s <= 10; s++)
		expect_entry(c, s);
	expect_entry(c, 1 + BLOCK_MIN);	/* the reader sees the jump */
	assert_int_equal(journal_cursor_next(c, &e), -EAGAIN);
	journal_cursor_free(c);
	journal_close(j);
	text = verify_text(&rc);
	assert_int_equal(rc, 0);
	assert_non_null(strstr(text, "seqs 11..16 skipped at a start-up"));
	assert_non_null(strstr(text, "6 seqs skipped at start-ups"));
}

/* An orderly stop persists the exact next seq: no gap, in either mode. */
static void
test_floor_clean_stop_no_gap(void **state)
{
	static const int modes[] = { JOURNAL_FSYNC_INTERVAL, JOURNAL_FSYNC_NEVER };
	struct journal_stats st;
	struct journal *j;

	(void)state;
	for (size_t m = 0; m < 2; m++) {
		j = jopen_mode(1 << 20, 4 << 20, 0, modes[m]);
		append_n(j, 10, 1);
		journal_close(j);
		assert_int_equal(floor_now().floor, 20 * m + 11);
		j = jopen_mode(1 << 20, 4 << 20, 0, modes[m]);
		journal_stats(j, &st);
		assert_int_equal(journal_next_seq(j), 20 * m + 11);
		assert_int_equal(st.seqs_skipped, 0);
		append_n(j, 10, 1);
		journal_close(j);
	}
	assert_int_equal(verify_quiet(), 0);
}

/* One floor write per block, not per record; the block grows while blocks
 * go fast and shrinks when they go slowly. */
static void
test_floor_blocks(void **state)
{
	int64_t slow = 400LL * 1000000000LL;
	struct journal *j;
	char path[128];
	struct stat a, b;

	(void)state;
	snprintf(path, sizeof(path), "%s/%s", dir, FLOOR_FILE);
	j = jopen_mode(1 << 20, 4 << 20, 0, JOURNAL_FSYNC_NEVER);
	append_n(j, 1, 1);
	assert_int_equal(floor_now().floor, 1 + BLOCK_MIN);
	assert_int_equal(stat(path, &a), 0);
	append_n(j, BLOCK_MIN - 1, 1);	/* the rest of the block: no write */
	assert_int_equal(stat(path, &b), 0);
	assert_int_equal(a.st_ino, b.st_ino);	/* replaced by rename when written */
	assert_int_equal(floor_now().floor, 1 + BLOCK_MIN);
	append_n(j, 1, 1);	/* used up at once: twice as large */
	assert_int_equal(floor_now().floor, 1 + BLOCK_MIN + 2 * BLOCK_MIN);
	append_n(j, 2 * BLOCK_MIN - 1, 1);
	append_n(j, 1, 1 + slow);	/* took minutes: half as large */
	assert_int_equal(floor_now().floor, 1 + 3 * BLOCK_MIN + BLOCK_MIN);
	append_n(j, BLOCK_MIN - 1, 1 + slow);
	append_n(j, 1, 1 + 2 * slow);	/* never below BLOCK_MIN */
	assert_int_equal(floor_now().floor, 1 + 4 * BLOCK_MIN + BLOCK_MIN);
	journal_close(j);
}

/* fsync "always": records are durable before anyone sees them, so nothing
 * is reserved and a crash skips nothing; a floor an earlier "interval"
 * run reserved still holds after a mode change. */
static void
test_floor_always_mode(void **state)
{
	struct journal_stats st;
	struct journal *j;
	char seg[256];
	off_t durable;

	(void)state;
	j = jopen_mode(1 << 20, 4 << 20, 0, JOURNAL_FSYNC_ALWAYS);
	append_n(j, 10, 1);
	crash(j);
	j = jopen_mode(1 << 20, 4 << 20, 0, JOURNAL_FSYNC_ALWAYS);
	journal_stats(j, &st);
	assert_int_equal(journal_next_seq(j), 11);
	assert_int_equal(st.seqs_skipped, 0);
	crash(j);

	j = jopen_mode(1 << 20, 4 << 20, 0, JOURNAL_FSYNC_INTERVAL);
	snprintf(seg, sizeof(seg), "%s", last_segment());
	durable = file_size(seg);
	append_n(j, 5, 1);	/* 11..15, reserved up to 26 */
	crash(j);
	assert_int_equal(truncate(seg, durable), 0);
	j = jopen_mode(1 << 20, 4 << 20, 0, JOURNAL_FSYNC_ALWAYS);
	journal_stats(j, &st);
	assert_int_equal(journal_next_seq(j), 11 + BLOCK_MIN);
	assert_int_equal(st.seqs_skipped, BLOCK_MIN);
	journal_close(j);
	assert_int_equal(verify_quiet(), 0);
}

/* Two unclean stops in a row with nothing appended between them: the same
 * range is skipped, and counted once. */
static void
test_floor_counted_once(void **state)
{
	struct journal_stats st;
	struct journal *j;
	char seg[256];
	off_t durable;

	(void)state;
	j = jopen_mode(1 << 20, 4 << 20, 0, JOURNAL_FSYNC_INTERVAL);
	append_n(j, 10, 1);
	assert_int_equal(journal_sync(j), 0);
	snprintf(seg, sizeof(seg), "%s", last_segment());
	durable = file_size(seg);
	append_n(j, 3, 1);
	crash(j);
	assert_int_equal(truncate(seg, durable), 0);
	for (int i = 0; i < 2; i++) {
		j = jopen_mode(1 << 20, 4 << 20, 0, JOURNAL_FSYNC_INTERVAL);
		journal_stats(j, &st);
		assert_int_equal(journal_next_seq(j), 1 + BLOCK_MIN);
		assert_int_equal(st.seqs_skipped, BLOCK_MIN - 10);
		crash(j);
	}
	j = jopen_mode(1 << 20, 4 << 20, 0, JOURNAL_FSYNC_INTERVAL);
	append_n(j, 1, 1);
	journal_close(j);
	assert_int_equal(verify_quiet(), 0);
}

/* The floor is written before its block is used: when it cannot be, the
 * append fails and consumes nothing. A crash in the middle of the write
 * leaves the old floor (and perhaps a stale temp file), which still covers
 * every seq handed out. */
static void
test_floor_write_first(void **state)
{
	struct journal_stats st;
	struct journal *j;
	char tmp[128], buf[16];
	uint64_t seq = 0;

	(void)state;
	snprintf(tmp, sizeof(tmp), "%s/%s.tmp", dir, FLOOR_FILE);
	j = jopen_mode(1 << 20, 4 << 20, 0, JOURNAL_FSYNC_INTERVAL);
	append_n(j, BLOCK_MIN, 1);	/* the first block, used up */
	assert_int_equal(mkdir(tmp, 0700), 0);	/* the next floor write fails */
	assert_int_equal(journal_append(j, "x", 1, 1, &seq), -EISDIR);
	assert_int_equal(journal_next_seq(j), 1 + BLOCK_MIN);
	journal_stats(j, &st);
	assert_int_equal(st.last_seq, BLOCK_MIN);
	crash(j);
	assert_int_equal(rmdir(tmp), 0);
	write_file(FLOOR_FILE ".tmp", "00");	/* torn temp file */
	j = jopen_mode(1 << 20, 4 << 20, 0, JOURNAL_FSYNC_INTERVAL);
	journal_stats(j, &st);
	assert_int_equal(journal_next_seq(j), 1 + BLOCK_MIN);	/* no needless jump */
	assert_int_equal(st.seqs_skipped, 0);
	snprintf(buf, sizeof(buf), "x");
	assert_int_equal(journal_append(j, buf, 1, 1, &seq), 0);
	assert_int_equal(seq, 1 + BLOCK_MIN);
	journal_close(j);
}

/* An unreadable floor file is damage: the restart jumps the largest block
 * and rewrites it, after which the journal verifies clean. */
static void
test_floor_unreadable(void **state)
{
	struct journal_stats st;
	struct journal *j;
	int rc;

	(void)state;
	j = jopen_mode(1 << 20, 4 << 20, 0, JOURNAL_FSYNC_INTERVAL);
	append_n(j, 10, 1);
	journal_close(j);
	write_file(FLOOR_FILE, "garbage\n");
	assert_non_null(strstr(verify_text(&rc), "seq floor file: Bad message: DAMAGED"));
	assert_int_equal(rc, 1);
	j = jopen_mode(1 << 20, 4 << 20, 0, JOURNAL_FSYNC_INTERVAL);
	journal_stats(j, &st);
	assert_int_equal(journal_next_seq(j), 11 + BLOCK_MAX);
	assert_int_equal(st.seqs_skipped, BLOCK_MAX);
	assert_true(st.damaged >= 1);
	append_n(j, 1, 1);
	journal_close(j);
	assert_int_equal(verify_quiet(), 0);
}

/* A cut just after a segment roll: the new segment kept its header but lost
 * its records. The jump lies inside it, after its header's first seq, and
 * is no damage; a missing segment in the middle still is. */
static void
test_floor_cut_after_roll(void **state)
{
	struct journal_cursor *c = NULL;
	struct journal_stats st;
	struct journal *j;
	char seg[256];
	uint64_t a, next, last = 0;
	const char *text;
	int rc;

	(void)state;
	j = jopen_mode(4096, 1 << 20, 0, JOURNAL_FSYNC_INTERVAL);
	do {
		append_n(j, 1, 1);
		journal_stats(j, &st);
	} while (st.segments < 2);
	a = st.last_seq;	/* the first record of the new segment */
	crash(j);
	snprintf(seg, sizeof(seg), "%s", last_segment());
	assert_int_equal(truncate(seg, JOURNAL_SEG_HDR), 0);
	j = jopen_mode(4096, 1 << 20, 0, JOURNAL_FSYNC_INTERVAL);
	next = journal_next_seq(j);
	assert_true(next > a);
	append_n(j, 1, 1);
	assert_int_equal(journal_cursor_new(j, 1, &c), 0);
	for (uint64_t s = 1; s < a; s++)
		expect_entry(c, s);
	expect_entry(c, next);
	journal_cursor_free(c);
	journal_close(j);
	text = verify_text(&rc);
	assert_int_equal(rc, 0);
	snprintf(seg, sizeof(seg), "seqs %" PRIu64 "..%" PRIu64 " skipped at a start-up", a,
	    next - 1);
	assert_non_null(strstr(text, seg));

	j = jopen_mode(4096, 1 << 20, 0, JOURNAL_FSYNC_INTERVAL);
	append_n(j, 200, 1);
	journal_stats(j, &st);
	last = st.last_seq;
	journal_close(j);
	snprintf(seg, sizeof(seg), "%s/seg-%020" PRIu64 ".jnl", dir, a);
	assert_int_equal(unlink(seg), 0);	/* now a segment in the middle */
	assert_non_null(strstr(verify_text(&rc), "DAMAGED: starts at seq"));
	assert_int_equal(rc, 1);
	assert_true(last > next);
}

/* A cut that took a segment's creation: the restart continues in the full
 * segment before it, and its first append rolls at once. The new segment
 * is named after the last record, so names stay continuous and the jump
 * lies inside it. */
static void
test_floor_jump_then_roll(void **state)
{
	struct journal_stats st;
	struct journal *j;
	char buf[100], name[64];
	uint64_t seq, next;
	const char *text;
	int rc;

	(void)state;
	memset(buf, 'r', sizeof(buf));
	j = jopen_mode(4096, 1 << 20, 0, JOURNAL_FSYNC_NEVER);
	do {
		assert_int_equal(journal_append(j, buf, sizeof(buf), 1, &seq), 0);
		journal_stats(j, &st);
	} while (st.segments < 2);
	crash(j);
	assert_int_equal(unlink(last_segment()), 0);	/* its creation never landed */
	j = jopen_mode(4096, 1 << 20, 0, JOURNAL_FSYNC_NEVER);
	next = journal_next_seq(j);
	assert_true(next > seq);
	assert_int_equal(journal_append(j, buf, sizeof(buf), 1, &seq), 0);	/* rolls */
	assert_int_equal(seq, next);
	journal_stats(j, &st);
	assert_int_equal(st.segments, 2);
	journal_close(j);
	text = verify_text(&rc);
	assert_int_equal(rc, 0);
	snprintf(name, sizeof(name), "seg-%020" PRIu64 ".jnl: seq %" PRIu64, st.first_seq +
	    (uint64_t)(4096 - JOURNAL_SEG_HDR) / (JOURNAL_ENTRY_HDR + sizeof(buf)), next);
	assert_non_null(strstr(text, name));
}

/* A power cut can leave a file longer than what reached the disk, reading
 * as zeros: at the end of the newest segment that is a torn tail, and a
 * newest segment of zeros was torn at creation; neither is damage. */
static void
test_zero_tail(void **state)
{
	struct journal_stats st;
	struct journal *j;
	char seg[256];
	int rc;

	(void)state;
	j = jopen(1 << 20, 4 << 20, 0);
	append_n(j, 10, 1);
	journal_close(j);
	snprintf(seg, sizeof(seg), "%s", last_segment());
	assert_int_equal(truncate(seg, file_size(seg) + 700), 0);
	assert_non_null(strstr(verify_text(&rc), "DAMAGED: torn tail"));
	assert_int_equal(rc, 1);
	j = jopen(1 << 20, 4 << 20, 0);
	journal_stats(j, &st);
	assert_int_equal(st.damaged, 0);
	assert_int_equal(st.last_seq, 10);
	journal_close(j);
	assert_int_equal(verify_quiet(), 0);
	/* closed segments are synced: only the newest can be torn at creation */
	snprintf(seg, sizeof(seg), "%s/seg-%020d.jnl", dir, 11);
	write_file(strrchr(seg, '/') + 1, "");
	assert_int_equal(truncate(seg, 4096), 0);
	assert_non_null(strstr(verify_text(&rc), "DAMAGED: torn at creation"));
	j = jopen(1 << 20, 4 << 20, 0);
	journal_stats(j, &st);
	assert_int_equal(st.damaged, 0);
	assert_int_equal(st.segments, 1);	/* the zero segment is gone */
	assert_int_equal(st.last_seq, 10);
	assert_int_equal(journal_next_seq(j), 11);
	append_n(j, 1, 1);
	journal_close(j);
	assert_int_equal(verify_quiet(), 0);
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
		cmocka_unit_test_setup_teardown(test_retention_bytes_at_roll, setup, teardown),
		cmocka_unit_test_setup_teardown(test_retention_waits_for_acked_file, setup, teardown),
		cmocka_unit_test_setup_teardown(test_retention_age, setup, teardown),
		cmocka_unit_test(test_entry_parse),
		cmocka_unit_test_setup_teardown(test_floor_power_cut, setup, teardown),
		cmocka_unit_test_setup_teardown(test_floor_clean_stop_no_gap, setup, teardown),
		cmocka_unit_test_setup_teardown(test_floor_blocks, setup, teardown),
		cmocka_unit_test_setup_teardown(test_floor_always_mode, setup, teardown),
		cmocka_unit_test_setup_teardown(test_floor_counted_once, setup, teardown),
		cmocka_unit_test_setup_teardown(test_floor_write_first, setup, teardown),
		cmocka_unit_test_setup_teardown(test_floor_unreadable, setup, teardown),
		cmocka_unit_test_setup_teardown(test_floor_cut_after_roll, setup, teardown),
		cmocka_unit_test_setup_teardown(test_floor_jump_then_roll, setup, teardown),
		cmocka_unit_test_setup_teardown(test_zero_tail, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
