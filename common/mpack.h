/* SPDX-License-Identifier: Apache-2.0 */
/*
 * mpack: a strict, allocation-free MessagePack reader over one buffer.
 *
 * msgpack-c's unpacker allocates room for a container's declared element
 * count before it has seen the elements, so a 5-byte hostile header can ask
 * for gigabytes; this reader never allocates and checks every length against
 * the bytes that remain. Used by proto_decode.
 */
#ifndef SNOWSENSE_MPACK_H
#define SNOWSENSE_MPACK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define MPACK_MAX_DEPTH 8

struct mpack {
	const uint8_t *p;	/* next byte; borrowed from the caller's buffer */
	const uint8_t *end;
};

enum mpack_kind {
	MPACK_NIL, MPACK_BOOL, MPACK_UINT, MPACK_INT, MPACK_FLOAT, MPACK_STR,
	MPACK_BIN, MPACK_ARRAY, MPACK_MAP, MPACK_EXT, MPACK_INVALID,
};

/* Kind of the next value without consuming it (MPACK_INVALID at the end or
 * on a reserved byte). */
enum mpack_kind mpack_peek(const struct mpack *m);
/* Each reader consumes one value of its kind and returns 0, or -EBADMSG
 * (wrong kind, truncated, out of range) leaving the cursor unspecified. */
int mpack_read_map(struct mpack *m, uint32_t *ret_n);
int mpack_read_array(struct mpack *m, uint32_t *ret_n);
/* *ret_s is borrowed from the buffer and not NUL-terminated. */
int mpack_read_str(struct mpack *m, const char **ret_s, uint32_t *ret_len);
/* Copies a string into buf (size cap incl. NUL); -EBADMSG if it does not
 * fit or contains a NUL byte. */
int mpack_read_cstr(struct mpack *m, char *buf, size_t cap);
int mpack_read_u64(struct mpack *m, uint64_t *ret);
int mpack_read_i64(struct mpack *m, int64_t *ret);
/* Accepts float32, float64 and integers; rejects NaN and infinities. */
int mpack_read_double(struct mpack *m, double *ret);
int mpack_read_bool(struct mpack *m, bool *ret);
/* Consumes a nil and returns true, or returns false and consumes nothing. */
bool mpack_read_nil(struct mpack *m);
/* Skips one value of any kind, containers included, to depth levels. */
int mpack_skip(struct mpack *m, int depth);

#endif
