/* SPDX-License-Identifier: Apache-2.0 */
/*
 * journal: sensord's durable, append-only record store. Records are kept as
 * the exact bytes sent to clients (an encoded "rec" message), framed with
 * length, seq, time and CRC32C in segment files under the state directory,
 * so a replay sends stored bytes as they are. Each segment starts with a
 * header carrying the journal's random 64-bit id and its first seq.
 *
 * seq numbers are assigned here, at append, and never reused, whatever the
 * fsync mode: start-up recovery truncates a torn tail and continues after
 * the last good seq, and never below the acked seq or the seq floor. When
 * records are not synced one by one (fsync interval, never), seqs are
 * reserved ahead in blocks in a small fsynced file before they are handed
 * out, so after an unclean stop the seqs a power cut may have taken are
 * skipped (a reader sees a gap), counted and logged. An orderly close
 * persists the exact next seq, so a clean restart skips nothing. Retention
 * deletes whole closed segments when fully acked or when max_bytes /
 * max_age force it; records forced out before being acked are counted and
 * logged with their seq range.
 */
#ifndef SNOWSENSE_JOURNAL_H
#define SNOWSENSE_JOURNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define JOURNAL_MAX_ENTRY (64 * 1024)	/* payload cap: one protocol message */
#define JOURNAL_ENTRY_HDR 24		/* len, crc, seq, t */
#define JOURNAL_SEG_HDR 40

enum journal_fsync { JOURNAL_FSYNC_ALWAYS, JOURNAL_FSYNC_INTERVAL, JOURNAL_FSYNC_NEVER };

struct journal_opts {
	uint64_t segment_bytes;	/* close a segment once it would grow past this */
	uint64_t max_bytes;	/* all segments together */
	int64_t max_age_ns;	/* 0: no age limit */
	int fsync;		/* enum journal_fsync */
};

struct journal_entry {
	uint64_t seq;
	int64_t t;		/* Unix ns given at append */
	const uint8_t *data;	/* the payload */
	size_t len;
	uint64_t seg, off;	/* where it lies, for journal_cursor_rewind */
};

struct journal_stats {
	uint64_t journal_id;
	uint64_t first_seq, last_seq;	/* 0, 0 when no record is held */
	uint64_t next_seq;
	uint64_t acked_seq;
	uint64_t records_written;	/* since open */
	uint64_t records_dropped;	/* unacked, forced out by retention, ever */
	uint64_t seqs_skipped;		/* jumped over at start-ups, ever */
	uint64_t bytes;
	unsigned segments;
	unsigned damaged;		/* damage found at open (entries or spans) */
};

struct journal;
struct journal_cursor;

/* Opens (creating if needed) the journal in the directory open on dirfd
 * (dir: its name, for messages), recovering a torn tail. Every file is
 * reached relative to the journal's own copy of dirfd (the caller keeps
 * its own), so no path is resolved again. Returns 0 and *ret (new), or
 * -errno with a message in err. */
int journal_open(int dirfd, const char *dir, const struct journal_opts *o,
    struct journal **ret, char *err, size_t errlen);
/* Syncs, persists the acked seq and frees; NULL is fine. Cursors must be
 * freed first. */
void journal_close(struct journal *j);
/* The seq the next append will get (to encode it into the payload). */
uint64_t journal_next_seq(const struct journal *j);
/* Appends one payload of at most JOURNAL_MAX_ENTRY bytes with time t (Unix
 * ns) as seq journal_next_seq(); durable on return with fsync "always".
 * Returns 0 and *ret_seq, or -errno (nothing appended, seq not consumed). */
int journal_append(struct journal *j, const void *payload, size_t len, int64_t t,
    uint64_t *ret_seq);
/* fdatasync of the active segment when something was written since. */
int journal_sync(struct journal *j);
/* Records that everything up to seq is committed downstream. -ERANGE past
 * the last seq; an older seq is ignored. */
int journal_ack(struct journal *j, uint64_t seq);
/* Writes the acked seq (atomic replace, fsynced) when it changed since it
 * was last made durable. */
int journal_flush_acked(struct journal *j);
/* The same without the fsyncs (the cheap, frequent write): a crash of the
 * process loses nothing written, a power cut may bring back an older
 * acked seq, which only means records a client acked are kept and offered
 * again; nothing is deleted on the strength of an ack not made durable. */
int journal_write_acked(struct journal *j);
/* Deletes closed segments that are fully acked or forced out by the limits
 * (now: Unix ns, for max_age), each only once the acked file (acked seq and
 * dropped count) is durable: none while it cannot be. Then writes the acked
 * file without fsync (journal_write_acked) when it changed. */
void journal_retain(struct journal *j, int64_t now);
/* Counters and ranges. */
void journal_stats(const struct journal *j, struct journal_stats *st);

/* A reader positioned at seq from (records before the oldest one held come
 * back as the next entry having a higher seq: the caller reports the gap).
 * Returns 0 and *ret (new), or -errno. */
int journal_cursor_new(struct journal *j, uint64_t from, struct journal_cursor **ret);
/* Frees; NULL is fine. */
void journal_cursor_free(struct journal_cursor *c);
/* Next entry (payload borrowed until the next call on c): 0, or -EAGAIN when
 * nothing newer is journaled yet, or another -errno. */
int journal_cursor_next(struct journal_cursor *c, struct journal_entry *ret);
/* Moves c back so that e, returned by c earlier, comes next again (after a
 * partial send); 0 or -errno. */
int journal_cursor_rewind(struct journal_cursor *c, const struct journal_entry *e);
/* The seq the cursor will return next (or later, after a gap). */
uint64_t journal_cursor_pos(const struct journal_cursor *c);
/* How often the cursor stepped over unreadable data (a bad CRC, a bad
 * segment end) so far: when it grew, the seqs skipped are damage, not
 * retention. Only ever grows. */
uint64_t journal_cursor_damage(const struct journal_cursor *c);

/* Parses one entry at the start of buf: returns its total size (> 0) and
 * fills *ret, 0 when buf holds only part of an entry, -EBADMSG when it is
 * not a valid entry. */
int journal_entry_parse(const void *buf, size_t len, struct journal_entry *ret);
/* Checks every segment in the directory open on dirfd read-only and
 * prints segments, seq range, acked seq and damage to out. Returns 0 when
 * clean, 1 when damaged, or -errno when it cannot be read. */
int journal_verify(int dirfd, FILE *out);

#endif
