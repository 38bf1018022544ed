/* SPDX-License-Identifier: Apache-2.0 */
/*
 * emu_answer: canned HTTP answers kept as files (tests/snowpipe-emu/answers/):
 * comment lines naming the public source, a status line, headers, a blank
 * line and the body. The emulator replays them on demand (fault "answer");
 * unit tests of clients read them as recorded answers of the real service.
 */
#ifndef EMU_ANSWER_H
#define EMU_ANSWER_H

#include <stddef.h>

#define EMU_ANSWER_MAX_BYTES (1 << 20)
#define EMU_ANSWER_MAX_HEADERS 64

struct emu_answer {
	int status;		/* 100..599 */
	char *reason;		/* reason phrase, may be "" */
	char *source;		/* the "# source:" text (first such line) */
	char *names[EMU_ANSWER_MAX_HEADERS], *values[EMU_ANSWER_MAX_HEADERS];
	size_t nhdr;
	char *body;		/* NUL-terminated for convenience; body_len bytes */
	size_t body_len;
};

/* Parses buf[0..len) into *ret (strings new; emu_answer_clear frees them).
 * -EINVAL with a message naming the line in err. */
int emu_answer_parse(const char *buf, size_t len, struct emu_answer *ret, char *err,
    size_t errlen);
/* Reads and parses the file at path (at most EMU_ANSWER_MAX_BYTES). */
int emu_answer_load(const char *path, struct emu_answer *ret, char *err, size_t errlen);
/* Frees what a owns; a zeroed or cleared answer is fine. */
void emu_answer_clear(struct emu_answer *a);
/* The value of header name (case-insensitive), borrowed from a, or NULL. */
const char *emu_answer_header(const struct emu_answer *a, const char *name);

#endif
