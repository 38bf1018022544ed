/* SPDX-License-Identifier: Apache-2.0 */
/*
 * journal: segment files "seg-<first seq, 20 digits>.jnl" in one directory.
 *
 * Segment header (40 bytes, little-endian): magic "SNSJRNL\0", version u32,
 * header size u32, journal_id u64, first_seq u64, CRC32C of the preceding 32
 * bytes u32, zero u32. Entry: payload length u32, CRC32C u32 (over the length
 * and everything after the CRC), seq u64, t i64, payload.
 *
 * The newest segment is the only one written and is never deleted, so the
 * journal id and the next seq survive even when every record was acked.
 * One entry is one pwrite() of header and payload; a crash can leave a torn
 * or partly written entry only at the end of the newest segment, which
 * recovery truncates. A bad entry elsewhere (bit rot) is skipped when the
 * entry after it is intact, and reported: a reader then sees a gap.
 *
 * State files, each one line replaced by temp + fsync + rename: "acked"
 * (journal id, acked seq, records dropped by retention ever) and "seqfloor"
 * (journal id, floor, seqs skipped ever, counted-below). No seq at or above
 * the floor has been handed out: with fsync "interval" or "never" the floor
 * is moved a block ahead before the block is used, and journal_close sets
 * it to the exact next seq after the last sync. The acked file is written
 * about once a second without the fsyncs (a process crash loses none of
 * it; each fsync is a wait for the disk, several wake-ups) and made
 * durable before a segment is deleted and at close: an ack a power cut
 * takes back only keeps records longer. See docs/journal.md.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "crc.h"
#include "fsutil.h"
#include "journal.h"
#include "log.h"

#define SEG_MAGIC "SNSJRNL"	/* plus its NUL: 8 bytes */
#define SEG_VERSION 1
#define ACKED_FILE "acked"
#define FLOOR_FILE "seqfloor"
#define STATE_MAX 256		/* either state file: one short line */
/* Seqs reserved per seq floor write (interval, never): the block doubles
 * while one lasts under BLOCK_FAST_NS of record time and halves past
 * BLOCK_SLOW_NS, so the floor is written about once a minute whatever the
 * record rate, and an unclean stop skips about a minute's worth of seqs. */
#define BLOCK_MIN 16
#define BLOCK_MAX (1U << 20)
#define BLOCK_FAST_NS (30LL * 1000000000LL)
#define BLOCK_SLOW_NS (300LL * 1000000000LL)
/* A reader holds at most two entries (one bad, the next to resync on). */
#define ER_MAX (2 * (JOURNAL_ENTRY_HDR + JOURNAL_MAX_ENTRY))
#define ER_INIT (32 * 1024)

struct seg {
	uint64_t first_seq;	/* from the header (= the file name) */
	uint64_t first_entry;	/* seq of the first entry, 0 when empty */
	uint64_t last_seq;	/* 0 when empty */
	uint64_t entries;
	uint64_t size;		/* bytes of valid data (header included) */
	int64_t last_t;
};

struct floor_state {
	uint64_t id, floor, skipped, counted;
};

struct journal {
	char dir[PATH_MAX - 64];	/* the directory's name, for messages */
	int dirfd;		/* the directory: every file is reached through it */
	struct journal_opts o;
	uint64_t id;
	struct seg *segs;	/* oldest first; the last one is active */
	size_t nsegs, capsegs;
	int fd;			/* the active segment */
	uint64_t next_seq;
	uint64_t floor_seq;	/* next_seq at least this (set-aside segments) */
	uint64_t reserved;	/* the seq floor on disk: seqs below it may be out */
	uint64_t block;		/* seqs the next reservation takes */
	int64_t block_t;	/* record time of the last reservation, 0: none yet */
	uint64_t skipped;	/* seqs skipped at start-ups, ever */
	uint64_t counted;	/* seqs below this are counted in skipped */
	bool sync_failed;	/* an fdatasync failed: what it covered may be lost */
	uint64_t acked, acked_saved;	/* saved: in the acked file and fsynced */
	bool acked_failing;	/* the last write of the acked file failed */
	uint64_t dropped, dropped_saved;
	uint64_t acked_written, dropped_written;	/* in the file, maybe not synced */
	uint64_t written;
	uint64_t bytes;
	unsigned damaged;
	bool dirty;		/* written since the last fdatasync */
	uint8_t *wbuf;		/* one framed entry */
};

/* Buffered reader of the entries of one segment file. */
struct ereader {
	int fd;
	uint64_t off;		/* file offset of buf[0] */
	uint8_t *buf;
	size_t cap, len, pos;
	uint64_t skipped;	/* bad entries stepped over */
};

struct journal_cursor {
	struct journal *j;
	uint64_t want;
	uint64_t seg_first;
	uint64_t limit;
	uint64_t bad_ends;	/* closed segments left early at unreadable data */
	struct ereader r;
};

/* ------------------------------------------------------------ encoding */

static uint32_t
le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	    (uint32_t)p[3] << 24;
}

static uint64_t
le64(const uint8_t *p)
{
	return (uint64_t)le32(p) | (uint64_t)le32(p + 4) << 32;
}

static void
put32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static void
put64(uint8_t *p, uint64_t v)
{
	put32(p, (uint32_t)v);
	put32(p + 4, (uint32_t)(v >> 32));
}

int
journal_entry_parse(const void *buf, size_t len, struct journal_entry *ret)
{
	const uint8_t *p = buf;
	uint32_t plen, crc;
	uint64_t seq;

	if (len < JOURNAL_ENTRY_HDR)
		return 0;
	plen = le32(p);
	if (plen == 0 || plen > JOURNAL_MAX_ENTRY)
		return -EBADMSG;
	if (len < JOURNAL_ENTRY_HDR + (size_t)plen)
		return 0;
	crc = crc32c(0, p, 4);
	crc = crc32c(crc, p + 8, JOURNAL_ENTRY_HDR - 8 + (size_t)plen);
	if (crc != le32(p + 4))
		return -EBADMSG;
	seq = le64(p + 8);
	if (seq == 0)
		return -EBADMSG;
	ret->seq = seq;
	ret->t = (int64_t)le64(p + 16);
	ret->data = p + JOURNAL_ENTRY_HDR;
	ret->len = plen;
	return JOURNAL_ENTRY_HDR + (int)plen;
}

static void
seg_hdr_build(uint8_t *p, uint64_t id, uint64_t first)
{
	memset(p, 0, JOURNAL_SEG_HDR);
	memcpy(p, SEG_MAGIC, 8);
	put32(p + 8, SEG_VERSION);
	put32(p + 12, JOURNAL_SEG_HDR);
	put64(p + 16, id);
	put64(p + 24, first);
	put32(p + 32, crc32c(0, p, 32));
}

static int
seg_hdr_parse(const uint8_t *p, uint64_t *ret_id, uint64_t *ret_first)
{
	if (memcmp(p, SEG_MAGIC, 8) != 0 || le32(p + 8) != SEG_VERSION ||
	    le32(p + 12) != JOURNAL_SEG_HDR || crc32c(0, p, 32) != le32(p + 32) ||
	    le64(p + 24) == 0)
		return -EBADMSG;
	*ret_id = le64(p + 16);
	*ret_first = le64(p + 24);
	return 0;
}

/* ------------------------------------------------------------ reader */

static void
er_init(struct ereader *r)
{
	memset(r, 0, sizeof(*r));
	r->fd = -1;
}

static void
er_start(struct ereader *r, int fd, uint64_t off)
{
	r->fd = fd;
	r->off = off;
	r->len = r->pos = 0;
}

static void
er_done(struct ereader *r)
{
	if (r->fd >= 0)
		close(r->fd);
	free(r->buf);
	er_init(r);
}

/* Makes at least need bytes from pos available (fewer at limit or EOF). */
static int
er_fill(struct ereader *r, size_t need, uint64_t limit)
{
	if (r->len - r->pos >= need)
		return 0;
	if (r->pos > 0) {
		memmove(r->buf, r->buf + r->pos, r->len - r->pos);
		r->off += r->pos;
		r->len -= r->pos;
		r->pos = 0;
	}
	if (need > r->cap || !r->buf) {
		size_t ncap = need > ER_INIT ? need : ER_INIT;
		uint8_t *nb;
		if (ncap > ER_MAX)
			return -EINVAL;
		nb = realloc(r->buf, ncap);
		if (!nb)
			return -ENOMEM;
		r->buf = nb;
		r->cap = ncap;
	}
	while (r->len < need && r->off + r->len < limit) {
		uint64_t left = limit - (r->off + r->len);
		size_t want = r->cap - r->len;
		ssize_t n;

		if (want > left)
			want = (size_t)left;
		n = pread(r->fd, r->buf + r->len, want, (off_t)(r->off + r->len));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			break;
		r->len += (size_t)n;
	}
	return 0;
}

/* Entry at pos (need more bytes? fetch them): size > 0, 0 torn, -EBADMSG. */
static int
er_parse_at(struct ereader *r, size_t at, uint64_t limit, struct journal_entry *e)
{
	size_t need;
	int n, rc;

	rc = er_fill(r, at + JOURNAL_ENTRY_HDR, limit);
	if (rc < 0)
		return rc;
	n = journal_entry_parse(r->buf + r->pos + at, r->len - r->pos - at, e);
	if (n != 0 || r->len - r->pos - at < JOURNAL_ENTRY_HDR)
		return n;
	need = at + JOURNAL_ENTRY_HDR + le32(r->buf + r->pos + at);
	rc = er_fill(r, need, limit);
	if (rc < 0)
		return rc;
	return journal_entry_parse(r->buf + r->pos + at, r->len - r->pos - at, e);
}

/* 1 and *e: an entry; 0: clean end at limit; -EPIPE: a partial entry runs
 * to limit (torn tail); -EBADMSG: a bad entry at the current position that
 * cannot be stepped over; other -errno: I/O. */
static int
er_next(struct ereader *r, uint64_t limit, struct journal_entry *e)
{
	int n, n2;

	for (;;) {
		if (r->off + r->pos >= limit)
			return 0;
		n = er_parse_at(r, 0, limit, e);
		if (n > 0) {
			e->off = r->off + r->pos;
			r->pos += (size_t)n;
			return 1;
		}
		if (n == 0)
			return -EPIPE;
		if (n != -EBADMSG)
			return n;
		/* Bad entry: step over it only if its length leads to an intact
		 * entry, so a corrupted length never derails the reader. */
		if (r->len - r->pos < JOURNAL_ENTRY_HDR)
			return -EBADMSG;
		n = JOURNAL_ENTRY_HDR + (int)le32(r->buf + r->pos);
		if (le32(r->buf + r->pos) == 0 || le32(r->buf + r->pos) > JOURNAL_MAX_ENTRY)
			return -EBADMSG;
		n2 = er_parse_at(r, (size_t)n, limit, e);
		if (n2 <= 0)
			return n2 == 0 || n2 == -EBADMSG ? -EBADMSG : n2;
		r->pos += (size_t)n;
		r->skipped++;
		/* the entry after the bad one is parsed again on the next turn */
	}
}

/* ------------------------------------------------------------ scanning */

enum { TAIL_CLEAN, TAIL_TORN, TAIL_BAD };

#define JUMPS_SHOWN 4

struct seg_scan {
	uint64_t id, first_seq;
	uint64_t first_entry, last_seq, entries;
	int64_t last_t;
	uint64_t good_end;	/* after the last good entry */
	uint64_t size;		/* of the file */
	uint64_t skipped;
	/* Seqs jumped over between two intact neighbours (or after the
	 * header): only the writer makes those, when a start-up continued
	 * above the seq floor or a set-aside segment. Not damage. */
	unsigned jumps;
	uint64_t jump[JUMPS_SHOWN][2];
	int tail;
	bool bad_header;
	bool torn_header;	/* shorter than a header, or only zeros */
};

/* 1 when fd holds only zero bytes from off to size, 0 if not, or -errno.
 * A power cut can leave a file longer than what reached the disk, the rest
 * reading as zeros (ext4 commits a size whose blocks were never written):
 * that is a torn end, not damage. */
static int
zeros_from(int fd, uint64_t off, uint64_t size)
{
	uint8_t buf[4096];

	while (off < size) {
		size_t want = size - off < sizeof(buf) ? (size_t)(size - off) : sizeof(buf);
		ssize_t n = pread(fd, buf, want, (off_t)off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			break;
		for (ssize_t i = 0; i < n; i++)
			if (buf[i])
				return 0;
		off += (uint64_t)n;
	}
	return 1;
}

/* Reads a whole segment from fd. Fails only on I/O errors; damage is in *s. */
static int
scan_fd(int fd, struct seg_scan *s)
{
	uint8_t hdr[JOURNAL_SEG_HDR];
	struct journal_entry e;
	struct ereader r;
	struct stat st;
	ssize_t n;
	int rc = 0;

	memset(s, 0, sizeof(*s));
	if (fstat(fd, &st) < 0)
		return -errno;
	s->size = (uint64_t)st.st_size;
	n = pread(fd, hdr, sizeof(hdr), 0);
	if (n < 0)
		return -errno;
	if (n < (ssize_t)sizeof(hdr) || seg_hdr_parse(hdr, &s->id, &s->first_seq) < 0) {
		s->bad_header = true;
		rc = zeros_from(fd, 0, s->size);
		s->torn_header = rc == 1 || n < (ssize_t)sizeof(hdr);
		return rc < 0 ? rc : 0;
	}
	s->good_end = JOURNAL_SEG_HDR;
	er_init(&r);
	er_start(&r, fd, JOURNAL_SEG_HDR);
	for (;;) {
		uint64_t bad = r.skipped, prev;

		rc = er_next(&r, s->size, &e);
		if (rc == 1 && (e.seq < s->first_seq || e.seq <= s->last_seq))
			rc = -EBADMSG;	/* a seq going backwards is damage too */
		if (rc != 1)
			break;
		prev = s->last_seq ? s->last_seq : s->first_seq - 1;
		if (e.seq > prev + 1 && r.skipped == bad) {
			if (s->jumps < JUMPS_SHOWN) {
				s->jump[s->jumps][0] = prev + 1;
				s->jump[s->jumps][1] = e.seq - 1;
			}
			s->jumps++;
		}
		if (!s->first_entry)
			s->first_entry = e.seq;
		s->last_seq = e.seq;
		s->last_t = e.t;
		s->entries++;
		s->good_end = r.off + r.pos;
	}
	s->skipped = r.skipped;
	r.fd = -1;		/* the caller owns fd */
	er_done(&r);
	if (rc == 0)
		s->tail = s->good_end == s->size ? TAIL_CLEAN : TAIL_BAD;
	else if (rc == -EPIPE)
		s->tail = TAIL_TORN;
	else if (rc == -EBADMSG)
		s->tail = TAIL_BAD;
	else
		return rc;
	if (s->tail == TAIL_BAD) {
		rc = zeros_from(fd, s->good_end, s->size);
		if (rc < 0)
			return rc;
		if (rc == 1)
			s->tail = TAIL_TORN;
	}
	return 0;
}

/* Opens the directory on dirfd for reading, from its start (the dup shares
 * the file offset with dirfd and earlier readers). *ret new: closedir. */
static int
dir_open(int dirfd, DIR **ret)
{
	int fd = fcntl(dirfd, F_DUPFD_CLOEXEC, 0);
	DIR *dp;

	if (fd < 0)
		return -errno;
	dp = fdopendir(fd);
	if (!dp) {
		close(fd);
		return -errno;
	}
	rewinddir(dp);
	*ret = dp;
	return 0;
}

/* Segment file names, sorted by first seq. *ret_v new. */
static int
list_segments(int dirfd, uint64_t **ret_v, size_t *ret_n)
{
	uint64_t *v = NULL, *nv;
	size_t n = 0, cap = 0;
	struct dirent *d;
	DIR *dp;
	int r;

	if ((r = dir_open(dirfd, &dp)) < 0)
		return r;
	while ((d = readdir(dp)) != NULL) {
		unsigned long long seq;
		int end = 0;

		if (strlen(d->d_name) != 28 ||
		    sscanf(d->d_name, "seg-%20llu.jnl%n", &seq, &end) != 1 || end != 28 ||
		    seq == 0)
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 16;
			nv = realloc(v, cap * sizeof(*v));
			if (!nv) {
				free(v);
				closedir(dp);
				return -ENOMEM;
			}
			v = nv;
		}
		v[n++] = seq;
	}
	closedir(dp);
	for (size_t i = 1; i < n; i++)	/* few segments: insertion sort */
		for (size_t k = i; k > 0 && v[k - 1] > v[k]; k--) {
			uint64_t t = v[k];
			v[k] = v[k - 1];
			v[k - 1] = t;
		}
	*ret_v = v;
	*ret_n = n;
	return 0;
}

#define SEG_NAME_LEN 32	/* "seg-<20 digits>.jnl" and its NUL */

/* The file name of the segment whose first seq is first. */
static void
seg_name(uint64_t first, char out[SEG_NAME_LEN])
{
	snprintf(out, SEG_NAME_LEN, "seg-%020" PRIu64 ".jnl", first);
}

/* ------------------------------------------------------------ state files */

/* Reads a state file of one line: a hex journal id and n-1 decimals (n <= 4);
 * fields past n are ignored, so a newer sensord may append some. */
static int
state_read(int dirfd, const char *name, uint64_t *v, int n)
{
	char *text, *end;
	const char *p;
	size_t len;
	int r;

	r = fs_read_all_at(dirfd, name, STATE_MAX, &text, &len);
	if (r < 0)
		return r;
	p = text;
	for (int i = 0; i < n; i++) {
		while (*p == ' ')
			p++;
		errno = 0;
		v[i] = strtoull(p, &end, i == 0 ? 16 : 10);
		if (errno || end == p || (*end != ' ' && *end != '\n')) {
			free(text);
			return -EBADMSG;
		}
		p = end;
	}
	free(text);
	return 0;
}

static int
acked_read(int dirfd, uint64_t *ret_id, uint64_t *ret_acked, uint64_t *ret_dropped)
{
	uint64_t v[3];
	int r = state_read(dirfd, ACKED_FILE, v, 3);

	if (r < 0)
		return r;
	*ret_id = v[0];
	*ret_acked = v[1];
	*ret_dropped = v[2];
	return 0;
}

/* The seq floor file: "<id> <floor> <skipped> <counted>". No seq at or
 * above floor was ever handed out; skipped counts the seqs start-ups jumped
 * over, ever; seqs below counted are already in skipped (a second unclean
 * stop before any append must not count the same range twice). */
static int
floor_read(int dirfd, struct floor_state *ret)
{
	uint64_t v[4];
	int r = state_read(dirfd, FLOOR_FILE, v, 4);

	if (r < 0)
		return r;
	ret->id = v[0];
	ret->floor = v[1];
	ret->skipped = v[2];
	ret->counted = v[3];
	return 0;
}

/* Durably records that no seq at or above floor has been handed out. */
static int
floor_write(struct journal *j, uint64_t floor)
{
	char text[128];
	int n, r;

	n = snprintf(text, sizeof(text), "%016" PRIx64 " %" PRIu64 " %" PRIu64 " %" PRIu64
	    "\n", j->id, floor, j->skipped, j->counted);
	r = fs_write_atomic_at(j->dirfd, FLOOR_FILE, text, (size_t)n, 0640);
	if (r < 0)
		return r;
	j->reserved = floor;
	return 0;
}

/* Replaces the acked file with the current acked seq and dropped count,
 * durable (fsync of the file and of the directory) or not. */
static int
acked_write(struct journal *j, bool durable)
{
	char text[96];
	int n, r;

	n = snprintf(text, sizeof(text), "%016" PRIx64 " %" PRIu64 " %" PRIu64 "\n", j->id,
	    j->acked, j->dropped);
	r = durable ? fs_write_atomic_at(j->dirfd, ACKED_FILE, text, (size_t)n, 0640) :
	    fs_write_atomic_at_nosync(j->dirfd, ACKED_FILE, text, (size_t)n, 0640);
	if (r < 0) {
		/* Once per failing spell: a full disk fails every second. */
		if (!j->acked_failing)
			log_warnx("journal: cannot write %s/%s: %s", j->dir, ACKED_FILE,
			    strerror(-r));
		j->acked_failing = true;
		return r;
	}
	if (j->acked_failing)
		log_info("journal: %s/%s written again", j->dir, ACKED_FILE);
	j->acked_failing = false;
	j->acked_written = j->acked;
	j->dropped_written = j->dropped;
	if (durable) {
		j->acked_saved = j->acked;
		j->dropped_saved = j->dropped;
	}
	return 0;
}

int
journal_flush_acked(struct journal *j)
{
	if (j->acked == j->acked_saved && j->dropped == j->dropped_saved)
		return 0;
	return acked_write(j, true);
}

int
journal_write_acked(struct journal *j)
{
	if (j->acked == j->acked_written && j->dropped == j->dropped_written)
		return 0;
	return acked_write(j, false);
}

/* ------------------------------------------------------------ open */

static int
segs_push(struct journal *j, const struct seg *s)
{
	if (j->nsegs == j->capsegs) {
		size_t cap = j->capsegs ? j->capsegs * 2 : 16;
		struct seg *n = realloc(j->segs, cap * sizeof(*n));
		if (!n)
			return -ENOMEM;
		j->segs = n;
		j->capsegs = cap;
	}
	j->segs[j->nsegs++] = *s;
	j->bytes += s->size;
	return 0;
}

/* Creates the segment whose first seq is first and makes it active. */
static int
seg_create(struct journal *j, uint64_t first)
{
	uint8_t hdr[JOURNAL_SEG_HDR];
	char name[SEG_NAME_LEN];
	struct seg s = { 0 };
	ssize_t n;
	int fd, r;

	seg_name(first, name);
	fd = openat(j->dirfd, name, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0640);
	if (fd < 0)
		return -errno;
	seg_hdr_build(hdr, j->id, first);
	n = pwrite(fd, hdr, sizeof(hdr), 0);
	if (n != (ssize_t)sizeof(hdr)) {
		r = n < 0 ? -errno : -EIO;
		goto fail;
	}
	if (j->o.fsync != JOURNAL_FSYNC_NEVER &&
	    (fdatasync(fd) < 0 || fsync(j->dirfd) < 0)) {
		r = -errno;
		goto fail;
	}
	s.first_seq = first;
	s.size = JOURNAL_SEG_HDR;
	r = segs_push(j, &s);
	if (r < 0)
		goto fail;
	if (j->fd >= 0)
		close(j->fd);
	j->fd = fd;
	return 0;
fail:
	close(fd);
	(void)unlinkat(j->dirfd, name, 0);
	return r;
}

static void
set_aside(struct journal *j, const char *name, const char *why)
{
	char bad[SEG_NAME_LEN + 8];	/* name plus ".damaged" */

	j->damaged++;
	snprintf(bad, sizeof(bad), "%s.damaged", name);
	if (renameat(j->dirfd, name, j->dirfd, bad) < 0)
		log_warn("journal: %s/%s: %s; cannot rename it", j->dir, name, why);
	else
		log_errx("journal: %s/%s: %s; set aside as %s", j->dir, name, why, bad);
}

/* Recovers one segment file and adds it; last says it is the newest. */
static int
recover_one(struct journal *j, uint64_t first, bool last)
{
	char name[SEG_NAME_LEN], path[PATH_MAX];
	struct seg_scan sc;
	struct seg s = { 0 };
	int fd, r;

	seg_name(first, name);
	snprintf(path, sizeof(path), "%s/%s", j->dir, name);	/* for messages */
	fd = openat(j->dirfd, name, O_RDWR | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return -errno;
	r = scan_fd(fd, &sc);
	if (r < 0)
		goto out;
	if (sc.bad_header && last && sc.torn_header) {
		log_warnx("journal: %s: torn at creation (%" PRIu64 " bytes), removed", path,
		    sc.size);
		r = unlinkat(j->dirfd, name, 0) < 0 ? -errno : 0;
		goto out;
	}
	if (sc.bad_header || sc.first_seq != first || (j->id && sc.id != j->id) ||
	    (j->nsegs && first <= j->segs[j->nsegs - 1].last_seq)) {
		set_aside(j, name, sc.bad_header ? "bad segment header" :
		    sc.first_seq != first ? "header does not match the file name" :
		    sc.id != j->id ? "belongs to another journal" : "seqs overlap the previous segment");
		/* Its records may have been delivered: never hand their seqs out
		 * again. It cannot hold more entries than its size allows. */
		if (first + sc.size / (JOURNAL_ENTRY_HDR + 1) + 1 > j->floor_seq)
			j->floor_seq = first + sc.size / (JOURNAL_ENTRY_HDR + 1) + 1;
		goto out;
	}
	j->id = sc.id;
	if (sc.skipped) {
		j->damaged += (unsigned)sc.skipped;
		log_errx("journal: %s: %" PRIu64 " damaged entr%s skipped (bad CRC)", path,
		    sc.skipped, sc.skipped == 1 ? "y" : "ies");
	}
	if (sc.tail != TAIL_CLEAN) {
		const char *what = sc.tail == TAIL_TORN ? "torn tail" : "damaged entry";
		if (sc.tail == TAIL_BAD)
			j->damaged++;
		if (last) {
			if (ftruncate(fd, (off_t)sc.good_end) < 0 || fsync(fd) < 0) {
				r = -errno;
				goto out;
			}
			(sc.tail == TAIL_TORN ? log_warnx : log_errx)(
			    "journal: %s: %s at offset %" PRIu64 ": truncated %" PRIu64
			    " bytes after seq %" PRIu64, path, what, sc.good_end,
			    sc.size - sc.good_end, sc.last_seq);
		} else {
			j->damaged += sc.tail == TAIL_TORN;
			log_errx("journal: %s: %s at offset %" PRIu64 " (after seq %" PRIu64
			    "): the remaining %" PRIu64 " bytes are unreadable", path, what,
			    sc.good_end, sc.last_seq, sc.size - sc.good_end);
		}
	}
	s.first_seq = first;
	s.first_entry = sc.first_entry;
	s.last_seq = sc.last_seq;
	s.entries = sc.entries;
	s.size = sc.good_end;
	s.last_t = sc.last_t;
	r = segs_push(j, &s);
out:
	close(fd);
	return r;
}

static void
load_acked(struct journal *j)
{
	uint64_t id, acked, dropped;
	int r;

	r = acked_read(j->dirfd, &id, &acked, &dropped);
	if (r == -ENOENT)
		return;
	if (r < 0) {
		log_warnx("journal: %s/%s unreadable (%s); starting with nothing acked",
		    j->dir, ACKED_FILE, strerror(-r));
		return;
	}
	if (id != j->id) {
		log_warnx("journal: %s/%s belongs to journal %016" PRIx64 ", not %016" PRIx64
		    "; ignored", j->dir, ACKED_FILE, id, j->id);
		return;
	}
	j->acked = j->acked_saved = j->acked_written = acked;
	j->dropped = j->dropped_saved = j->dropped_written = dropped;
}

/* Applies the seq floor file to next_seq (set to the recovered tail). */
static void
load_floor(struct journal *j)
{
	struct floor_state f;
	int r = floor_read(j->dirfd, &f);

	if (r == -ENOENT)
		return;		/* a journal older than the seq floor */
	if (r < 0) {
		/* Which seqs went out is unknown: jump the largest block, which
		 * covers any reservation made at a sane record rate. */
		j->damaged++;
		log_errx("journal: %s/%s unreadable (%s); skipping %u seqs in case they were "
		    "handed out", j->dir, FLOOR_FILE, strerror(-r), BLOCK_MAX);
		j->next_seq += BLOCK_MAX;
		return;
	}
	if (f.id != j->id) {
		log_warnx("journal: %s/%s belongs to journal %016" PRIx64 ", not %016" PRIx64
		    "; ignored", j->dir, FLOOR_FILE, f.id, j->id);
		return;
	}
	j->reserved = f.floor;
	j->skipped = f.skipped;
	j->counted = f.counted;
	if (f.floor > j->next_seq)
		j->next_seq = f.floor;
}

/* next_seq after recovery: after the last seq any segment holds, and above
 * every seq that may have been handed out before (set-aside segments, the
 * seq floor, the acked seq). A jump is counted once and persisted. */
static void
choose_next_seq(struct journal *j)
{
	uint64_t tail = j->segs[j->nsegs - 1].first_seq, from;
	int r;

	for (size_t i = 0; i < j->nsegs; i++)
		if (j->segs[i].last_seq >= tail)
			tail = j->segs[i].last_seq + 1;
	j->next_seq = tail;
	if (j->floor_seq > j->next_seq) {
		log_errx("journal: continuing at seq %" PRIu64 " after the set-aside segment(s)",
		    j->floor_seq);
		j->next_seq = j->floor_seq;
	}
	load_floor(j);
	if (j->acked >= j->next_seq) {
		log_errx("journal: acked seq %" PRIu64 " is past the last record %" PRIu64
		    "; continuing after it so no seq is reused", j->acked, j->next_seq - 1);
		j->next_seq = j->acked + 1;
	}
	if (j->next_seq == tail)
		return;
	if (j->next_seq <= j->counted) {
		log_info("journal: continuing at seq %" PRIu64 " (seqs %" PRIu64 "..%" PRIu64
		    " were given up at an earlier start)", j->next_seq, tail, j->next_seq - 1);
		return;
	}
	from = tail > j->counted ? tail : j->counted;
	j->skipped += j->next_seq - from;
	j->counted = j->next_seq;
	log_warnx("journal: seqs %" PRIu64 "..%" PRIu64 " skipped: they may have been handed "
	    "out before the last stop but are not in the journal (a power cut with fsync "
	    "\"interval\" or \"never\" loses the last records, the price of those modes; or "
	    "a crash, or damage); none of them is handed out again and subscribers see a gap",
	    tail, j->next_seq - 1);
	if ((r = floor_write(j, j->next_seq)) < 0)
		log_warnx("journal: cannot write %s/%s: %s", j->dir, FLOOR_FILE, strerror(-r));
}

static int
new_id(uint64_t *ret)
{
	uint64_t id = 0;

	while (id == 0)
		if (getrandom(&id, sizeof(id), 0) != (ssize_t)sizeof(id))
			return errno ? -errno : -EIO;
	*ret = id;
	return 0;
}

static int
recover(struct journal *j, char *err, size_t errlen)
{
	uint64_t *names = NULL;
	size_t n = 0;
	struct seg *a;
	char name[SEG_NAME_LEN];
	int r;

	r = list_segments(j->dirfd, &names, &n);
	if (r < 0) {
		snprintf(err, errlen, "journal: cannot list %s: %s", j->dir, strerror(-r));
		return r;
	}
	for (size_t i = 0; i < n; i++) {
		r = recover_one(j, names[i], i + 1 == n);
		if (r < 0) {
			snprintf(err, errlen, "journal: cannot recover segment %020" PRIu64
			    " in %s: %s", names[i], j->dir, strerror(-r));
			goto out;
		}
	}
	if (j->nsegs == 0) {
		r = new_id(&j->id);
		if (r < 0) {
			snprintf(err, errlen, "journal: getrandom: %s", strerror(-r));
			goto out;
		}
		j->next_seq = 1;
		r = seg_create(j, j->next_seq);
		if (r < 0) {
			snprintf(err, errlen, "journal: cannot create the first segment in %s: %s",
			    j->dir, strerror(-r));
			goto out;
		}
		log_info("journal: new journal %016" PRIx64 " in %s", j->id, j->dir);
		goto out;
	}
	load_acked(j);
	a = &j->segs[j->nsegs - 1];
	choose_next_seq(j);
	seg_name(a->first_seq, name);
	j->fd = openat(j->dirfd, name, O_RDWR | O_CLOEXEC | O_NOFOLLOW);
	if (j->fd < 0) {
		r = -errno;
		snprintf(err, errlen, "journal: cannot open %s/%s: %s", j->dir, name,
		    strerror(-r));
	}
out:
	free(names);
	return r;
}

int
journal_open(int dirfd, const char *dir, const struct journal_opts *o,
    struct journal **ret, char *err, size_t errlen)
{
	struct journal *j;
	int r;

	j = calloc(1, sizeof(*j));
	if (!j)
		return -ENOMEM;
	j->fd = -1;
	j->o = *o;
	j->block = BLOCK_MIN;
	snprintf(j->dir, sizeof(j->dir), "%s", dir);
	j->dirfd = fcntl(dirfd, F_DUPFD_CLOEXEC, 0);
	if (j->dirfd < 0) {
		r = -errno;
		snprintf(err, errlen, "journal: %s: %s", dir, strerror(-r));
		goto fail;
	}
	j->wbuf = malloc(JOURNAL_ENTRY_HDR + JOURNAL_MAX_ENTRY);
	if (!j->wbuf) {
		r = -ENOMEM;
		goto fail;
	}
	r = recover(j, err, errlen);
	if (r < 0)
		goto fail;
	*ret = j;
	return 0;
fail:
	journal_close(j);
	return r;
}

void
journal_close(struct journal *j)
{
	if (!j)
		return;
	if (j->fd >= 0) {
		bool synced = journal_sync(j) == 0 && !j->sync_failed;
		int r;

		(void)journal_flush_acked(j);
		/* An orderly stop: every seq handed out is durable now, so the
		 * next start continues at next_seq without a gap (nothing to do
		 * when this run handed none out). After a failed fdatasync the
		 * kernel may have dropped data that a later one no longer
		 * reports, so the reserved floor stays. */
		if (synced && j->written && j->reserved != j->next_seq &&
		    (r = floor_write(j, j->next_seq)) < 0)
			log_warnx("journal: cannot write %s/%s: %s", j->dir, FLOOR_FILE,
			    strerror(-r));
		close(j->fd);
	}
	if (j->dirfd >= 0)
		close(j->dirfd);
	free(j->segs);
	free(j->wbuf);
	free(j);
}

/* ------------------------------------------------------------ writing */

uint64_t
journal_next_seq(const struct journal *j)
{
	return j->next_seq;
}

/* Synced even with fsync "never" (one fdatasync per closed segment): only
 * the newest segment can then lose records at a power cut. The new one is
 * named after the closed one's last seq, not next_seq, so that segment
 * names always continue each other and a start-up's jump lies inside a
 * segment: a seq hole between segments is then always damage. */
static int
roll(struct journal *j)
{
	int r = journal_sync(j);

	return r < 0 ? r : seg_create(j, j->segs[j->nsegs - 1].last_seq + 1);
}

/* Durably moves the seq floor a block past next_seq before next_seq is
 * handed out, when records are not synced one by one: a start-up after an
 * unclean stop continues at the floor, so no seq whose record a power cut
 * took is handed out again. One small fsynced write per block. */
static int
reserve(struct journal *j, int64_t t)
{
	uint64_t block = j->block;
	int r;

	if (j->block_t) {
		int64_t took = t - j->block_t;
		if (took < BLOCK_FAST_NS && block < BLOCK_MAX)
			block *= 2;
		else if (took > BLOCK_SLOW_NS && block > BLOCK_MIN)
			block /= 2;
	}
	r = floor_write(j, j->next_seq + block);
	if (r < 0)
		return r;
	j->block = block;
	j->block_t = t;
	return 0;
}

int
journal_append(struct journal *j, const void *payload, size_t len, int64_t t,
    uint64_t *ret_seq)
{
	struct seg *a = &j->segs[j->nsegs - 1];
	size_t total = JOURNAL_ENTRY_HDR + len, done = 0;
	uint32_t crc;
	int r;

	if (len == 0 || len > JOURNAL_MAX_ENTRY)
		return -EINVAL;
	if (j->o.fsync != JOURNAL_FSYNC_ALWAYS && j->next_seq >= j->reserved) {
		r = reserve(j, t);
		if (r < 0)
			return r;
	}
	if (a->entries > 0 && a->size + total > j->o.segment_bytes) {
		r = roll(j);
		if (r < 0)
			return r;
		/* max_bytes holds at every roll, not only at the loop's
		 * retention runs: all segments together stay below max_bytes
		 * plus the one being written. */
		if (j->bytes > j->o.max_bytes)
			journal_retain(j, t);
		a = &j->segs[j->nsegs - 1];
	}
	put32(j->wbuf, (uint32_t)len);
	put64(j->wbuf + 8, j->next_seq);
	put64(j->wbuf + 16, (uint64_t)t);
	memcpy(j->wbuf + JOURNAL_ENTRY_HDR, payload, len);
	crc = crc32c(0, j->wbuf, 4);
	crc = crc32c(crc, j->wbuf + 8, total - 8);
	put32(j->wbuf + 4, crc);
	while (done < total) {
		ssize_t n = pwrite(j->fd, j->wbuf + done, total - done,
		    (off_t)(a->size + done));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			r = n < 0 ? -errno : -EIO;
			goto undo;
		}
		done += (size_t)n;
	}
	if (j->o.fsync == JOURNAL_FSYNC_ALWAYS && fdatasync(j->fd) < 0) {
		r = -errno;
		j->sync_failed = true;
		goto undo;
	}
	j->dirty = j->o.fsync != JOURNAL_FSYNC_ALWAYS;
	if (!a->first_entry)
		a->first_entry = j->next_seq;
	a->last_seq = j->next_seq;
	a->last_t = t;
	a->entries++;
	a->size += total;
	j->bytes += total;
	j->written++;
	*ret_seq = j->next_seq++;
	return 0;
undo:
	/* Leave no partial entry behind; recovery would cut it anyway. */
	if (ftruncate(j->fd, (off_t)a->size) < 0)
		log_warn("journal: cannot cut a failed append back");
	return r;
}

int
journal_sync(struct journal *j)
{
	if (!j->dirty)
		return 0;
	if (fdatasync(j->fd) < 0) {
		j->sync_failed = true;
		return -errno;
	}
	j->dirty = false;
	return 0;
}

int
journal_ack(struct journal *j, uint64_t seq)
{
	if (seq >= j->next_seq)
		return -ERANGE;
	if (seq > j->acked)
		j->acked = seq;
	return 0;
}

/* ------------------------------------------------------------ retention */

static const char *
retain_reason(const struct journal *j, const struct seg *s, int64_t now)
{
	if (s->entries == 0 || s->last_seq <= j->acked)
		return "acked";
	if (j->bytes > j->o.max_bytes)
		return "max_bytes";
	if (j->o.max_age_ns > 0 && s->last_t < now - j->o.max_age_ns)
		return "max_age_days";
	return NULL;
}

void
journal_retain(struct journal *j, int64_t now)
{
	char name[SEG_NAME_LEN];
	const char *why;

	/* The acked file is written before a segment goes: a deleted segment
	 * must never be one that a restart would consider unacked, nor a
	 * forced drop one that the persisted count misses. When the file
	 * cannot be written (a full disk), nothing is deleted until it can. */
	while (j->nsegs > 1 && (why = retain_reason(j, &j->segs[0], now)) != NULL) {
		struct seg *s = &j->segs[0];
		bool forced = strcmp(why, "acked") != 0;
		uint64_t from = s->first_entry > j->acked ? s->first_entry : j->acked + 1;
		uint64_t lost = forced ? s->last_seq - from + 1 : 0;

		j->dropped += lost;
		if (journal_flush_acked(j) < 0) {
			j->dropped -= lost;
			return;
		}
		seg_name(s->first_seq, name);
		if (unlinkat(j->dirfd, name, 0) < 0 && errno != ENOENT) {
			log_warn("journal: cannot delete %s/%s", j->dir, name);
			j->dropped -= lost;	/* still there: the next flush says so */
			return;
		}
		if (forced)
			log_errx("journal: %s forced out unacked records %" PRIu64 "..%" PRIu64
			    " (%" PRIu64 " dropped in total)", why, from, s->last_seq, j->dropped);
		else
			log_debug("journal: deleted %s/%s (acked)", j->dir, name);
		j->bytes -= s->size;
		memmove(j->segs, j->segs + 1, (j->nsegs - 1) * sizeof(*s));
		j->nsegs--;
	}
	(void)journal_write_acked(j);
}

void
journal_stats(const struct journal *j, struct journal_stats *st)
{
	memset(st, 0, sizeof(*st));
	st->journal_id = j->id;
	for (size_t i = 0; i < j->nsegs; i++)
		if (j->segs[i].entries) {
			if (!st->first_seq)
				st->first_seq = j->segs[i].first_entry;
			st->last_seq = j->segs[i].last_seq;
		}
	st->next_seq = j->next_seq;
	st->acked_seq = j->acked;
	st->records_written = j->written;
	st->records_dropped = j->dropped;
	st->seqs_skipped = j->skipped;
	st->bytes = j->bytes;
	st->segments = (unsigned)j->nsegs;
	st->damaged = j->damaged;
}

/* ------------------------------------------------------------ cursors */

int
journal_cursor_new(struct journal *j, uint64_t from, struct journal_cursor **ret)
{
	struct journal_cursor *c;

	c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	c->j = j;
	c->want = from ? from : 1;
	er_init(&c->r);
	*ret = c;
	return 0;
}

void
journal_cursor_free(struct journal_cursor *c)
{
	if (!c)
		return;
	er_done(&c->r);
	free(c);
}

uint64_t
journal_cursor_pos(const struct journal_cursor *c)
{
	return c->want;
}

uint64_t
journal_cursor_damage(const struct journal_cursor *c)
{
	return c->r.skipped + c->bad_ends;
}

static struct seg *
seg_find(struct journal *j, uint64_t first)
{
	size_t lo = 0, hi = j->nsegs;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (j->segs[mid].first_seq == first)
			return &j->segs[mid];
		if (j->segs[mid].first_seq < first)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

/* Opens the oldest segment holding a seq >= want. -EAGAIN: none yet. */
static int
cursor_open(struct journal_cursor *c)
{
	struct journal *j = c->j;
	char name[SEG_NAME_LEN];
	struct seg *s = NULL;
	int fd;

	for (size_t i = 0; i < j->nsegs && !s; i++)
		if (j->segs[i].entries && j->segs[i].last_seq >= c->want)
			s = &j->segs[i];
	if (!s) {
		/* Nothing at or after want yet: wait at the end of the active
		 * segment instead of rescanning it from its start later. */
		s = &j->segs[j->nsegs - 1];
		if (c->want < s->first_seq)
			return -EAGAIN;
	}
	seg_name(s->first_seq, name);
	fd = openat(j->dirfd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return -errno;
	c->seg_first = s->first_seq;
	c->limit = s->size;
	er_start(&c->r, fd, s->last_seq < c->want ? s->size : JOURNAL_SEG_HDR);
	return 0;
}

int
journal_cursor_next(struct journal_cursor *c, struct journal_entry *ret)
{
	struct journal *j = c->j;
	struct journal_entry e;
	struct seg *s;
	int r;

	for (;;) {
		if (c->r.fd < 0) {
			r = cursor_open(c);
			if (r < 0)
				return r;
		}
		s = seg_find(j, c->seg_first);
		if (s)
			c->limit = s->size;
		r = er_next(&c->r, c->limit, &e);
		if (r == 1) {
			if (e.seq < c->want)
				continue;
			e.seg = c->seg_first;
			c->want = e.seq + 1;
			*ret = e;
			return 0;
		}
		if (r == 0 && s == &j->segs[j->nsegs - 1])
			return -EAGAIN;
		if (r < 0 && r != -EPIPE && r != -EBADMSG)
			return r;
		if (r < 0)
			c->bad_ends++;
		/* End of a closed segment, or damage: go on with the next one. */
		if (s && s->last_seq >= c->want)
			c->want = s->last_seq + 1;
		close(c->r.fd);
		c->r.fd = -1;
	}
}

int
journal_cursor_rewind(struct journal_cursor *c, const struct journal_entry *e)
{
	char name[SEG_NAME_LEN];
	int fd;

	c->want = e->seq;
	if (c->r.fd >= 0 && c->seg_first == e->seg) {
		/* Usually still buffered: step back without reading again. */
		if (e->off >= c->r.off && e->off <= c->r.off + c->r.len)
			c->r.pos = (size_t)(e->off - c->r.off);
		else
			er_start(&c->r, c->r.fd, e->off);
		return 0;
	}
	if (c->r.fd >= 0)
		close(c->r.fd);
	c->r.fd = -1;
	seg_name(e->seg, name);
	fd = openat(c->j->dirfd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return errno == ENOENT ? 0 : -errno;	/* gone: the next open skips on */
	c->seg_first = e->seg;
	er_start(&c->r, fd, e->off);
	return 0;
}

/* ------------------------------------------------------------ verify */

static int
verify_one(int dirfd, uint64_t first, FILE *out, uint64_t *id, uint64_t *prev_last,
    uint64_t *ret_first, unsigned *problems)
{
	char name[SEG_NAME_LEN];
	struct seg_scan sc;
	int fd, r;

	seg_name(first, name);
	fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return -errno;
	r = scan_fd(fd, &sc);
	close(fd);
	if (r < 0)
		return r;
	fprintf(out, "segment seg-%020" PRIu64 ".jnl: ", first);
	if (sc.bad_header || sc.first_seq != first || (*id && sc.id != *id)) {
		fprintf(out, "DAMAGED: %s\n", sc.torn_header ? "torn at creation" :
		    sc.bad_header ? "bad header" :
		    sc.first_seq != first ? "header does not match the name" :
		    "journal id differs from the previous segment");
		(*problems)++;
		return 0;
	}
	*id = sc.id;
	if (sc.entries)
		fprintf(out, "seq %" PRIu64 "..%" PRIu64 ", %" PRIu64 " entries, %" PRIu64
		    " bytes", sc.first_entry, sc.last_seq, sc.entries, sc.size);
	else
		fprintf(out, "empty, %" PRIu64 " bytes", sc.size);
	/* A segment is created at the seq after the newest record, so its
	 * name continues the previous one; a start-up's jump lies inside. */
	if (*prev_last && first != *prev_last + 1) {
		fprintf(out, "; DAMAGED: starts at seq %" PRIu64 " after seq %" PRIu64, first,
		    *prev_last);
		(*problems)++;
	}
	for (unsigned i = 0; i < sc.jumps && i < JUMPS_SHOWN; i++)
		fprintf(out, "; seqs %" PRIu64 "..%" PRIu64 " skipped at a start-up", sc.jump[i][0],
		    sc.jump[i][1]);
	if (sc.jumps > JUMPS_SHOWN)
		fprintf(out, "; %u more skips", sc.jumps - JUMPS_SHOWN);
	if (sc.skipped) {
		fprintf(out, "; DAMAGED: %" PRIu64 " entries with a bad CRC", sc.skipped);
		(*problems)++;
	}
	if (sc.tail != TAIL_CLEAN) {
		fprintf(out, "; DAMAGED: %s at offset %" PRIu64 " (%" PRIu64 " bytes)",
		    sc.tail == TAIL_TORN ? "torn tail" : "bad entry", sc.good_end,
		    sc.size - sc.good_end);
		(*problems)++;
	}
	fputc('\n', out);
	if (sc.entries) {
		if (!*ret_first)
			*ret_first = sc.first_entry;
		*prev_last = sc.last_seq;
	}
	return 0;
}

/* Prints the seq floor; 1 when its file is unreadable (a problem: the
 * next start cannot tell which seqs went out), else 0. */
static unsigned
verify_floor(int dirfd, uint64_t id, FILE *out)
{
	struct floor_state f;
	int r = floor_read(dirfd, &f);

	if (r == 0 && f.id == id)
		fprintf(out, "seq floor %" PRIu64 " (a restart continues at or above it), %" PRIu64
		    " seqs skipped at start-ups after unclean stops\n", f.floor, f.skipped);
	else if (r == -ENOENT)
		fprintf(out, "seq floor: none\n");
	else if (r == 0)
		fprintf(out, "seq floor file: another journal's\n");
	else
		fprintf(out, "seq floor file: %s: DAMAGED\n", strerror(-r));
	return r < 0 && r != -ENOENT;
}

int
journal_verify(int dirfd, FILE *out)
{
	uint64_t *names = NULL, id = 0, prev_last = 0, first = 0, aid, acked, dropped;
	unsigned problems = 0;
	struct dirent *d;
	size_t n = 0;
	DIR *dp;
	int r;

	r = list_segments(dirfd, &names, &n);
	if (r < 0)
		return r;
	for (size_t i = 0; i < n; i++) {
		r = verify_one(dirfd, names[i], out, &id, &prev_last, &first, &problems);
		if (r < 0) {
			fprintf(out, "segment seg-%020" PRIu64 ".jnl: unreadable: %s\n", names[i],
			    strerror(-r));
			problems++;
		}
	}
	free(names);
	if (dir_open(dirfd, &dp) == 0) {
		while ((d = readdir(dp)) != NULL) {
			size_t l = strlen(d->d_name);
			if (l > 8 && strcmp(d->d_name + l - 8, ".damaged") == 0) {
				fprintf(out, "set aside by recovery: %s: DAMAGED\n", d->d_name);
				problems++;
			}
		}
		closedir(dp);
	}
	r = acked_read(dirfd, &aid, &acked, &dropped);
	if (r == 0 && aid == id)
		fprintf(out, "acked seq %" PRIu64 ", %" PRIu64 " unacked records dropped by "
		    "retention\n", acked, dropped);
	else if (r == -ENOENT)
		fprintf(out, "acked seq: none\n");
	else
		fprintf(out, "acked file: %s\n", r < 0 ? strerror(-r) : "another journal's");
	problems += verify_floor(dirfd, id, out);
	if (first)
		fprintf(out, "journal %016" PRIx64 ": %zu segments, seq %" PRIu64 "..%" PRIu64
		    ", ", id, n, first, prev_last);
	else
		fprintf(out, "journal %016" PRIx64 ": %zu segments, no records, ", id, n);
	if (problems)
		fprintf(out, "%u problem%s\n", problems, problems == 1 ? "" : "s");
	else
		fprintf(out, "clean\n");
	return problems ? 1 : 0;
}
