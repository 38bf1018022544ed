/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer target for the journal's readers of on-disk bytes: the entry
 * decoder, and start-up recovery of a segment whose body (or, when the
 * first byte is odd, whole file including the header) is the input.
 * Properties: a parsed entry never claims more bytes than it was given;
 * after recovery the newest segment scans clean (torn tail cut), and a
 * cursor returns strictly increasing seqs, each a valid entry.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "journal.c"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char fdir[64], fseg[128];

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	snprintf(fdir, sizeof(fdir), "/tmp/fuzz_journal.XXXXXX");
	if (!mkdtemp(fdir))
		abort();
	snprintf(fseg, sizeof(fseg), "%s/seg-%020d.jnl", fdir, 1);
	log_init("fuzz_journal", 1, -1);
	/* Recovery logs every damage it finds, thousands of lines a second
	 * here. Point the stdio stream the log writes to at /dev/null; fd 2
	 * stays open for libFuzzer's and the sanitizers' own reports (glibc
	 * lets stderr be assigned). */
	{
		FILE *null = fopen("/dev/null", "w");
		if (null)
			stderr = null;
	}
	return 0;
}

static void
clean_dir(void)
{
	char path[256];

	unlink(fseg);
	snprintf(path, sizeof(path), "%s.damaged", fseg);
	unlink(path);
	snprintf(path, sizeof(path), "%s/acked", fdir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/seqfloor", fdir);	/* each input on its own */
	unlink(path);
	snprintf(path, sizeof(path), "%s/seg-%020d.jnl", fdir, 1);
	unlink(path);
}

static void
check_recovery(const uint8_t *data, size_t size)
{
	struct journal_opts o = { 1 << 20, 8 << 20, 0, JOURNAL_FSYNC_NEVER };
	uint8_t hdr[JOURNAL_SEG_HDR];
	struct journal_cursor *c;
	struct journal_entry e;
	struct journal *j = NULL;
	struct seg_scan sc;
	uint64_t last = 0;
	char err[256];
	int fd, r;

	clean_dir();
	fd = open(fseg, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		abort();
	if (size && (data[0] & 1)) {
		if (write(fd, data + 1, size - 1) != (ssize_t)(size - 1))
			abort();
	} else {
		seg_hdr_build(hdr, 0x1234, 1);
		if (write(fd, hdr, sizeof(hdr)) != (ssize_t)sizeof(hdr) ||
		    (size && write(fd, data, size) != (ssize_t)size))
			abort();
	}
	close(fd);
	fd = open(fdir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		abort();
	r = journal_open(fd, fdir, &o, &j, err, sizeof(err));
	close(fd);
	if (r != 0)
		return;
	fd = open(fseg, O_RDONLY | O_CLOEXEC);
	if (fd >= 0) {
		if (scan_fd(fd, &sc) != 0)
			abort();
		if (!sc.bad_header && sc.tail != TAIL_CLEAN)
			abort();	/* recovery must leave the newest segment clean */
		close(fd);
	}
	if (journal_cursor_new(j, 1, &c) != 0)
		abort();
	while (journal_cursor_next(c, &e) == 0) {
		if (e.seq <= last || e.len == 0 || e.len > JOURNAL_MAX_ENTRY)
			abort();
		last = e.seq;
	}
	journal_cursor_free(c);
	if (journal_next_seq(j) <= last)
		abort();	/* a seq must never be reused */
	journal_close(j);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct journal_entry e;
	int n;

	n = journal_entry_parse(data, size, &e);
	if (n > 0 && ((size_t)n > size || e.data + e.len != data + n))
		abort();
	check_recovery(data, size);
	return 0;
}
