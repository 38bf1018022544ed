/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer target for the socket protocol decoder, both directions. A
 * message that decodes must re-encode, the re-encoding must decode, and
 * encoding that again must give the same bytes: the codec (for records,
 * the field table) loses and invents nothing it accepted. The input is
 * also walked as a pack (proto_decode_first): every message taken must end
 * inside the input and after where it began.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "proto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check(const uint8_t *data, size_t size, enum proto_side side)
{
	static uint8_t buf[PROTO_MAX_MSG], again[PROTO_MAX_MSG];
	struct proto_msg a, b;
	char err[128];
	size_t len, len2;

	if (proto_decode(data, size, side, &a, err, sizeof(err)) < 0)
		return;
	if (proto_encode(&a, side, buf, sizeof(buf), &len) < 0)
		abort();
	if (proto_decode(buf, len, side, &b, err, sizeof(err)) < 0)
		abort();
	if (a.op != b.op)
		abort();
	if (proto_encode(&b, side, again, sizeof(again), &len2) < 0)
		abort();
	if (len2 != len || memcmp(buf, again, len) != 0)
		abort();
}

static void
walk(const uint8_t *data, size_t size)
{
	struct proto_msg m;
	size_t off = 0, used;

	while (off < size &&
	    proto_decode_first(data + off, size - off, PROTO_SERVER, &m, &used, NULL, 0) == 0) {
		if (used == 0 || used > size - off)
			abort();
		off += used;
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	check(data, size, PROTO_CLIENT);
	check(data, size, PROTO_SERVER);
	walk(data, size);
	return 0;
}
