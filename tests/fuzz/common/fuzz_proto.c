/*
 * libFuzzer target for the socket protocol decoder, both directions. A
 * message that decodes must re-encode, and the re-encoding must decode to
 * the same struct (the codec loses nothing it accepted).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "proto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check(const uint8_t *data, size_t size, enum proto_side side)
{
	static uint8_t buf[PROTO_MAX_MSG];
	struct proto_msg a, b;
	char err[128];
	size_t len;

	if (proto_decode(data, size, side, &a, err, sizeof(err)) < 0)
		return;
	if (proto_encode(&a, side, buf, sizeof(buf), &len) < 0)
		abort();
	if (proto_decode(buf, len, side, &b, err, sizeof(err)) < 0)
		abort();
	if (a.op != b.op)
		abort();
	if (a.op == PROTO_OP_REC && (a.u.rec.seq != b.u.rec.seq ||
	    a.u.rec.nfaults != b.u.rec.nfaults || strcmp(a.u.rec.device, b.u.rec.device)))
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	check(data, size, PROTO_CLIENT);
	check(data, size, PROTO_SERVER);
	return 0;
}
