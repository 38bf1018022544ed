/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests for the socket protocol codec: every message kind survives a
 * round trip, and every class of malformed input is rejected without
 * touching the output.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

/* the whole codec, to reach rd_map and pk_map with a table of the test's own
 * (before cmocka.h, whose fail() macro would rename proto.c's) */
#include "proto.c"

#include <cmocka.h>
#include <msgpack.h>


static uint8_t buf[PROTO_MAX_MSG + 16], other_buf[PROTO_MAX_MSG];

static void
full_record(struct record *r)
{
	memset(r, 0, sizeof(*r));
	r->seq = 123456789012ULL;
	r->t = 1764000000123456789LL;
	r->boot_ns = 98765432100ULL;
	r->synced = true;
	snprintf(r->device, sizeof(r->device), "pi-kitchen");
	r->has_scd4x = true;
	r->scd4x = (struct rec_scd4x){ 812, 22.53, 41.07, r->t - 1000 };
	r->scd4x.has_co2 = true;
	r->has_sgp30 = true;
	r->sgp30 = (struct rec_sgp30){ 450, 12, r->t - 2000, true, false };
	r->has_icp10125 = true;
	r->icp10125 = (struct rec_icp10125){ 100734.5, -3.25, r->t - 3000 };
	r->sys = (struct rec_sys){ true, true, true, true, 48.3, 3.5, 41.0, 12345 };
	record_add_fault(r, "sgp30: crc error on measure_iaq");
}

static void
roundtrip(const struct proto_msg *in, enum proto_side side, struct proto_msg *out)
{
	char err[128] = "";
	size_t len = 0;

	assert_int_equal(proto_encode(in, side, buf, sizeof(buf), &len), 0);
	assert_true(len > 0);
	assert_int_equal(proto_decode(buf, len, side, out, err, sizeof(err)), 0);
	assert_int_equal(out->op, in->op);
}

static void
test_record_roundtrip(void **state)
{
	struct proto_msg in = { .op = PROTO_OP_REC }, out;

	(void)state;
	full_record(&in.u.rec);
	roundtrip(&in, PROTO_SERVER, &out);
	assert_memory_equal(&out.u.rec, &in.u.rec, offsetof(struct record, faults));
	assert_int_equal(out.u.rec.nfaults, 1);
	assert_string_equal(out.u.rec.faults[0], "sgp30: crc error on measure_iaq");
	assert_true(out.u.rec.icp10125.t == -3.25);
}

static void
test_record_nil_blocks(void **state)
{
	struct proto_msg in = { .op = PROTO_OP_REC }, out;

	(void)state;
	full_record(&in.u.rec);
	in.u.rec.has_scd4x = in.u.rec.has_sgp30 = in.u.rec.has_icp10125 = false;
	in.u.rec.sys.has_cpu_t = in.u.rec.sys.has_disk = false;
	roundtrip(&in, PROTO_SERVER, &out);
	assert_false(out.u.rec.has_scd4x);
	assert_false(out.u.rec.has_sgp30);
	assert_false(out.u.rec.has_icp10125);
	assert_false(out.u.rec.sys.has_cpu_t);
	assert_true(out.u.rec.sys.has_cpu);
	assert_false(out.u.rec.sys.has_disk);
	/* a nil block leaves nothing behind: no stale value can leak into a row */
	assert_int_equal(out.u.rec.scd4x.co2, 0);
	assert_true(out.u.rec.sys.cpu_t == 0.0);
}

static void
test_encode_record_matches_rec_message(void **state)
{
	struct proto_msg in = { .op = PROTO_OP_REC };
	uint8_t other[2048];
	size_t a, b;

	(void)state;
	full_record(&in.u.rec);
	assert_int_equal(proto_encode(&in, PROTO_SERVER, buf, sizeof(buf), &a), 0);
	assert_int_equal(proto_encode_record(&in.u.rec, other, sizeof(other), &b), 0);
	assert_int_equal(a, b);
	assert_memory_equal(buf, other, a);
}

/* The bytes the hand-written encoder produced before the field table drove
 * it: today's data keeps today's wire format (journals already written, and
 * peers of the previous release, read it). */
static const uint8_t golden_rec[] =
	"\x8b\xa2\x6f\x70\xa3\x72\x65\x63\xa3\x73\x65\x71\xcf\x00\x00\x00"
	"\x1c\xbe\x99\x1a\x14\xa1\x74\xcf\x18\x7a\xfc\xa7\x6f\x25\xcd\x15"
	"\xa7\x62\x6f\x6f\x74\x5f\x6e\x73\xcf\x00\x00\x00\x16\xfe\xe0\xe5"
	"\x24\xa6\x73\x79\x6e\x63\x65\x64\xc3\xa6\x64\x65\x76\x69\x63\x65"
	"\xaa\x70\x69\x2d\x6b\x69\x74\x63\x68\x65\x6e\xa5\x73\x63\x64\x34"
	"\x78\x84\xa3\x63\x6f\x32\xcd\x03\x2c\xa1\x74\xcb\x40\x36\x87\xae"
	"\x14\x7a\xe1\x48\xa2\x72\x68\xcb\x40\x44\x88\xf5\xc2\x8f\x5c\x29"
	"\xa6\x74\x5f\x6d\x65\x61\x73\xcf\x18\x7a\xfc\xa7\x6f\x25\xc9\x2d"
	"\xa5\x73\x67\x70\x33\x30\x85\xa4\x65\x63\x6f\x32\xcd\x01\xc2\xa4"
	"\x74\x76\x6f\x63\x0c\xa6\x74\x5f\x6d\x65\x61\x73\xcf\x18\x7a\xfc"
	"\xa7\x6f\x25\xc5\x45\xa6\x77\x61\x72\x6d\x75\x70\xc3\xab\x62\x61"
	"\x73\x65\x6c\x69\x6e\x65\x5f\x6f\x6b\xc2\xa8\x69\x63\x70\x31\x30"
	"\x31\x32\x35\xc0\xa3\x73\x79\x73\x84\xa5\x63\x70\x75\x5f\x74\xcb"
	"\x40\x48\x26\x66\x66\x66\x66\x66\xa3\x63\x70\x75\xc0\xa3\x6d\x65"
	"\x6d\xcb\x40\x44\x80\x00\x00\x00\x00\x00\xac\x64\x69\x73\x6b\x5f"
	"\x66\x72\x65\x65\x5f\x6d\x62\xcd\x30\x39\xa6\x66\x61\x75\x6c\x74"
	"\x73\x91\xbf\x73\x67\x70\x33\x30\x3a\x20\x63\x72\x63\x20\x65\x72"
	"\x72\x6f\x72\x20\x6f\x6e\x20\x6d\x65\x61\x73\x75\x72\x65\x5f\x69"
	"\x61\x71";

/* True when the table has a field added since golden_rec was taken. */
static bool
added_since(const struct record_field *map)
{
	for (size_t i = 0; i < map->nfields; i++)
		if (map->fields[i].optional ||
		    (map->fields[i].type == RECORD_MAP && added_since(&map->fields[i])))
			return true;
	return false;
}

static void
test_record_wire_format_unchanged(void **state)
{
	struct proto_msg out;
	struct record r;
	size_t len;

	(void)state;
	full_record(&r);
	r.has_icp10125 = false;		/* a nil block */
	r.sys.has_cpu = false;		/* a null value */
	assert_int_equal(proto_encode_record(&r, buf, sizeof(buf), &len), 0);
	/* byte for byte while the table has only the first release's fields */
	if (!added_since(&record_root)) {
		assert_int_equal(len, sizeof(golden_rec) - 1);
		assert_memory_equal(buf, golden_rec, len);
	}
	/* and a record of the first release always reads the same */
	assert_int_equal(proto_decode(golden_rec, sizeof(golden_rec) - 1, PROTO_SERVER, &out,
	    NULL, 0), 0);
	assert_false(out.u.rec.has_icp10125);
	assert_false(out.u.rec.sys.has_cpu);
	assert_true(out.u.rec.sys.has_mem && out.u.rec.sys.mem == 41.0);
	assert_true(out.u.rec.has_scd4x && out.u.rec.scd4x.co2 == 812);
	assert_string_equal(out.u.rec.faults[0], "sgp30: crc error on measure_iaq");
	out.u.rec.sys.cpu = r.sys.cpu;		/* what the nulls hid */
	out.u.rec.icp10125 = r.icp10125;
	assert_int_equal(proto_encode_record(&out.u.rec, other_buf, sizeof(other_buf), &len), 0);
	assert_memory_equal(other_buf, buf, len);
}

static void
test_control_roundtrips(void **state)
{
	struct proto_msg in, out;

	(void)state;
	memset(&in, 0, sizeof(in));
	in.op = PROTO_OP_HELLO;
	in.u.hello_c.v = PROTO_VERSION;
	snprintf(in.u.hello_c.name, sizeof(in.u.hello_c.name), "streamerd");
	roundtrip(&in, PROTO_CLIENT, &out);
	assert_string_equal(out.u.hello_c.name, "streamerd");
	assert_int_equal(out.u.hello_c.v, PROTO_VERSION);
	assert_false(out.u.hello_c.pack);
	/* without "pack" the hello is the three keys it always was */
	assert_int_equal(buf[0], 0x83);
	in.u.hello_c.pack = true;
	roundtrip(&in, PROTO_CLIENT, &out);
	assert_true(out.u.hello_c.pack);
	assert_int_equal(buf[0], 0x84);

	memset(&in, 0, sizeof(in));
	in.op = PROTO_OP_HELLO;
	in.u.hello_s.v = 1;
	in.u.hello_s.journal_id = 0xdeadbeefcafef00dULL;
	in.u.hello_s.first_seq = 5;
	in.u.hello_s.last_seq = 99;
	snprintf(in.u.hello_s.device, sizeof(in.u.hello_s.device), "pi");
	roundtrip(&in, PROTO_SERVER, &out);
	assert_true(out.u.hello_s.journal_id == 0xdeadbeefcafef00dULL);
	assert_int_equal(out.u.hello_s.first_seq, 5);
	assert_int_equal(out.u.hello_s.last_seq, 99);
	assert_string_equal(out.u.hello_s.device, "pi");

	for (int f = PROTO_FROM_SEQ; f <= PROTO_FROM_NOW; f++) {
		memset(&in, 0, sizeof(in));
		in.op = PROTO_OP_SUBSCRIBE;
		in.u.subscribe.from = f;
		in.u.subscribe.seq = f == PROTO_FROM_SEQ ? 77 : 0;
		roundtrip(&in, PROTO_CLIENT, &out);
		assert_int_equal(out.u.subscribe.from, f);
		assert_int_equal(out.u.subscribe.seq, in.u.subscribe.seq);
	}

	memset(&in, 0, sizeof(in));
	in.op = PROTO_OP_GAP;
	in.u.gap.from = 10, in.u.gap.to = 20;
	roundtrip(&in, PROTO_SERVER, &out);
	assert_int_equal(out.u.gap.from, 10);
	assert_int_equal(out.u.gap.to, 20);

	memset(&in, 0, sizeof(in));
	in.op = PROTO_OP_ACK;
	in.u.ack.seq = UINT64_MAX;
	roundtrip(&in, PROTO_CLIENT, &out);
	assert_true(out.u.ack.seq == UINT64_MAX);

	memset(&in, 0, sizeof(in));
	in.op = PROTO_OP_STATUS;
	roundtrip(&in, PROTO_CLIENT, &out);

	memset(&in, 0, sizeof(in));
	in.op = PROTO_OP_ERR;
	in.u.err.code = PROTO_ERR_MALFORMED;
	snprintf(in.u.err.msg, sizeof(in.u.err.msg), "bad value for \"seq\"");
	roundtrip(&in, PROTO_SERVER, &out);
	assert_int_equal(out.u.err.code, PROTO_ERR_MALFORMED);
	assert_string_equal(out.u.err.msg, "bad value for \"seq\"");
}

static void
test_status_roundtrip(void **state)
{
	struct proto_msg in, out;

	(void)state;
	memset(&in, 0, sizeof(in));
	in.op = PROTO_OP_STATUS;
	in.u.status.uptime_s = 3600;
	in.u.status.journal_id = 42;
	in.u.status.first_seq = 1;
	in.u.status.last_seq = 720;
	in.u.status.acked_seq = 700;
	in.u.status.records_written = 720;
	in.u.status.records_dropped = 3;
	in.u.status.seqs_skipped = 16;
	in.u.status.clients = 2;
	in.u.status.nchips = 2;
	snprintf(in.u.status.chips[0].name, 16, "scd4x");
	snprintf(in.u.status.chips[0].state, PROTO_NAME_LEN, "ok");
	in.u.status.chips[0].measurements = 120;
	in.u.status.chips[0].faults = 1;
	in.u.status.chips[0].last_ok = 17;
	snprintf(in.u.status.chips[1].name, 16, "sgp30");
	snprintf(in.u.status.chips[1].state, PROTO_NAME_LEN, "warmup");
	roundtrip(&in, PROTO_SERVER, &out);
	assert_memory_equal(&out.u.status, &in.u.status, sizeof(in.u.status));
}

/* Packs an arbitrary message with msgpack-c for the malformed-input cases. */
static size_t
pack(void (*fill)(msgpack_packer *pk))
{
	msgpack_sbuffer sb;
	msgpack_packer pk;
	size_t len;

	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
	fill(&pk);
	len = sb.size;
	memcpy(buf, sb.data, len);
	msgpack_sbuffer_destroy(&sb);
	return len;
}

static void
ps(msgpack_packer *pk, const char *s)
{
	msgpack_pack_str(pk, strlen(s));
	msgpack_pack_str_body(pk, s, strlen(s));
}

static void
op(msgpack_packer *pk, uint32_t n, const char *name)
{
	msgpack_pack_map(pk, n);
	ps(pk, "op");
	ps(pk, name);
}

static void fill_unknown_op(msgpack_packer *pk) { op(pk, 1, "launch"); }
static void fill_no_op(msgpack_packer *pk) { msgpack_pack_map(pk, 1); ps(pk, "seq"); msgpack_pack_uint8(pk, 1); }
static void fill_ack_no_seq(msgpack_packer *pk) { op(pk, 1, "ack"); }
static void fill_ack_str_seq(msgpack_packer *pk) { op(pk, 2, "ack"); ps(pk, "seq"); ps(pk, "12"); }
static void fill_ack_neg_seq(msgpack_packer *pk) { op(pk, 2, "ack"); ps(pk, "seq"); msgpack_pack_int8(pk, -1); }
static void fill_dup_key(msgpack_packer *pk) { op(pk, 3, "ack"); ps(pk, "seq"); msgpack_pack_uint8(pk, 1); ps(pk, "seq"); msgpack_pack_uint8(pk, 2); }
static void fill_not_map(msgpack_packer *pk) { msgpack_pack_array(pk, 2); ps(pk, "op"); ps(pk, "ack"); }
static void fill_sub_bad(msgpack_packer *pk) { op(pk, 2, "subscribe"); ps(pk, "from"); ps(pk, "yesterday"); }
static void fill_int_key(msgpack_packer *pk) { op(pk, 2, "ack"); msgpack_pack_uint8(pk, 1); msgpack_pack_uint8(pk, 1); }

static void
fill_name_long(msgpack_packer *pk)
{
	char name[PROTO_NAME_LEN + 1];

	memset(name, 'x', sizeof(name) - 1);
	name[sizeof(name) - 1] = 0;
	op(pk, 3, "hello");
	ps(pk, "v");
	msgpack_pack_uint8(pk, 1);
	ps(pk, "name");
	ps(pk, name);
}

static void
fill_deep(msgpack_packer *pk)
{
	op(pk, 3, "ack");
	ps(pk, "seq");
	msgpack_pack_uint8(pk, 1);
	ps(pk, "x");
	for (int i = 0; i < 40; i++)
		msgpack_pack_array(pk, 1);
	msgpack_pack_nil(pk);
}

static void
fill_rec_nan(msgpack_packer *pk)
{
	op(pk, 3, "rec");
	ps(pk, "seq");
	msgpack_pack_uint8(pk, 1);
	ps(pk, "t");
	msgpack_pack_double(pk, 0.0 / 0.0);
}

/* A record with one mistake in it (or none), packed by hand. */
static enum { REC_OK, REC_DUP_IN_BLOCK, REC_MISSING_IN_BLOCK, REC_UNKNOWN_SCALAR,
	REC_UNKNOWN_MAP, REC_NIL_VALUE, REC_NIL_CO2, REC_BLOCK_NOT_MAP, REC_MANY_FAULTS,
	REC_NO_SYS, REC_DUP_OP } variant;

static void
fill_scd4x(msgpack_packer *pk)
{
	bool more = variant == REC_DUP_IN_BLOCK || variant == REC_UNKNOWN_SCALAR ||
	    variant == REC_UNKNOWN_MAP;

	if (variant == REC_BLOCK_NOT_MAP) {
		ps(pk, "x");
		return;
	}
	msgpack_pack_map(pk, variant == REC_MISSING_IN_BLOCK ? 3 : more ? 5 : 4);
	ps(pk, "co2");
	if (variant == REC_NIL_CO2)
		msgpack_pack_nil(pk);
	else
		msgpack_pack_uint16(pk, 800);
	ps(pk, "t");
	if (variant == REC_NIL_VALUE)
		msgpack_pack_nil(pk);
	else
		msgpack_pack_double(pk, 20.5);
	if (variant != REC_MISSING_IN_BLOCK) {
		ps(pk, "rh");
		msgpack_pack_double(pk, 40.0);
	}
	ps(pk, "t_meas");
	msgpack_pack_int64(pk, 5);
	if (variant == REC_DUP_IN_BLOCK) {
		ps(pk, "t");
		msgpack_pack_double(pk, 21.5);
	} else if (variant == REC_UNKNOWN_SCALAR) {
		ps(pk, "x");
		msgpack_pack_uint8(pk, 1);
	} else if (variant == REC_UNKNOWN_MAP) {
		ps(pk, "x");
		msgpack_pack_map(pk, 1);
		ps(pk, "a");
		msgpack_pack_uint8(pk, 1);
	}
}

static void
fill_rec(msgpack_packer *pk)
{
	int nfaults = variant == REC_MANY_FAULTS ? RECORD_MAX_FAULTS + 1 : 1;

	op(pk, variant == REC_NO_SYS ? 10 : variant == REC_DUP_OP ? 12 : 11, "rec");
	ps(pk, "seq");
	msgpack_pack_uint8(pk, 1);
	ps(pk, "t");
	msgpack_pack_int64(pk, 5);
	ps(pk, "boot_ns");
	msgpack_pack_uint8(pk, 1);
	ps(pk, "synced");
	msgpack_pack_true(pk);
	ps(pk, "device");
	ps(pk, "pi");
	ps(pk, "scd4x");
	fill_scd4x(pk);
	ps(pk, "sgp30");
	msgpack_pack_nil(pk);
	ps(pk, "icp10125");
	msgpack_pack_nil(pk);
	if (variant != REC_NO_SYS) {
		ps(pk, "sys");
		msgpack_pack_map(pk, 4);
		ps(pk, "cpu_t");
		msgpack_pack_nil(pk);
		ps(pk, "cpu");
		msgpack_pack_nil(pk);
		ps(pk, "mem");
		msgpack_pack_nil(pk);
		ps(pk, "disk_free_mb");
		msgpack_pack_nil(pk);
	}
	ps(pk, "faults");
	msgpack_pack_array(pk, (size_t)nfaults);
	for (int i = 0; i < nfaults; i++)
		ps(pk, "f");
	if (variant == REC_DUP_OP) {	/* a second "op", last: find_op stops at the first */
		ps(pk, "op");
		ps(pk, "gap");
	}
}

static void
expect_reject(size_t len, enum proto_side side, const char *why)
{
	struct proto_msg out;
	char err[128] = "";

	memset(&out, 0xA5, sizeof(out));
	assert_int_equal(proto_decode(buf, len, side, &out, err, sizeof(err)), -EBADMSG);
	if (!strstr(err, why))
		fail_msg("expected \"%s\" in \"%s\"", why, err);
	/* the output is untouched on failure */
	assert_int_equal(((uint8_t *)&out)[0], 0xA5);
}

static void
test_malformed_classes(void **state)
{
	(void)state;
	expect_reject(pack(fill_unknown_op), PROTO_CLIENT, "unknown op");
	expect_reject(pack(fill_no_op), PROTO_CLIENT, "missing key \"op\"");
	expect_reject(pack(fill_ack_no_seq), PROTO_CLIENT, "missing key \"seq\"");
	expect_reject(pack(fill_ack_str_seq), PROTO_CLIENT, "bad value for \"seq\"");
	expect_reject(pack(fill_ack_neg_seq), PROTO_CLIENT, "bad value for \"seq\"");
	expect_reject(pack(fill_dup_key), PROTO_CLIENT, "duplicate key");
	expect_reject(pack(fill_not_map), PROTO_CLIENT, "not a map");
	expect_reject(pack(fill_sub_bad), PROTO_CLIENT, "bad value for \"from\"");
	expect_reject(pack(fill_int_key), PROTO_CLIENT, "not a string");
	expect_reject(pack(fill_name_long), PROTO_CLIENT, "bad value for \"name\"");
	expect_reject(pack(fill_deep), PROTO_CLIENT, "malformed");
	expect_reject(pack(fill_rec_nan), PROTO_SERVER, "bad value for \"t\"");
	/* an op from the wrong side */
	expect_reject(pack(fill_ack_no_seq), PROTO_SERVER, "not valid from the server");
}

/* Every check the hand-written decoder made inside a chip block, now made
 * from the table; messages name the block. */
static void
test_record_block_checks(void **state)
{
	struct proto_msg out;

	(void)state;
	variant = REC_OK;
	assert_int_equal(proto_decode(buf, pack(fill_rec), PROTO_SERVER, &out, NULL, 0), 0);
	assert_true(out.u.rec.has_scd4x && out.u.rec.scd4x.co2 == 800 && out.u.rec.scd4x.rh == 40.0);
	assert_false(out.u.rec.has_sgp30);
	assert_false(out.u.rec.sys.has_cpu_t);
	variant = REC_UNKNOWN_SCALAR;	/* a newer sensord's scalar: skipped */
	assert_int_equal(proto_decode(buf, pack(fill_rec), PROTO_SERVER, &out, NULL, 0), 0);
	assert_true(out.u.rec.scd4x.t == 20.5);
	variant = REC_DUP_IN_BLOCK;
	expect_reject(pack(fill_rec), PROTO_SERVER, "duplicate key \"scd4x.t\"");
	variant = REC_MISSING_IN_BLOCK;
	expect_reject(pack(fill_rec), PROTO_SERVER, "missing key \"scd4x.rh\"");
	variant = REC_UNKNOWN_MAP;	/* a block holds scalars only */
	expect_reject(pack(fill_rec), PROTO_SERVER, "malformed value for unknown key");
	variant = REC_NIL_VALUE;	/* t is never null on its own */
	expect_reject(pack(fill_rec), PROTO_SERVER, "bad value for \"scd4x.t\"");
	variant = REC_NIL_CO2;		/* co2 may be (a 0 ppm reading) */
	assert_int_equal(proto_decode(buf, pack(fill_rec), PROTO_SERVER, &out, NULL, 0), 0);
	assert_true(out.u.rec.has_scd4x && !out.u.rec.scd4x.has_co2);
	assert_true(out.u.rec.scd4x.t == 20.5);
	variant = REC_BLOCK_NOT_MAP;
	expect_reject(pack(fill_rec), PROTO_SERVER, "expected a map for \"scd4x\"");
	variant = REC_MANY_FAULTS;
	expect_reject(pack(fill_rec), PROTO_SERVER, "bad value for \"faults\"");
	variant = REC_NO_SYS;
	expect_reject(pack(fill_rec), PROTO_SERVER, "missing key \"sys\"");
	variant = REC_DUP_OP;
	expect_reject(pack(fill_rec), PROTO_SERVER, "\"op\" is not a single string");
}

/* An optional field (one added after records were journaled) is null when
 * absent, and counts in the map size the encoder computes. */
static const struct record_field opt_fields[] = {
	RECORD_VAL("seq", RECORD_U64, seq, "", "a required one"),
	RECORD_ADDED("later", RECORD_U64, sys.disk_free_mb, sys.has_disk, "", "an added one"),
};
static const struct record_field opt_root = RECORD_BLOCK("", opt_fields, RECORD_NOT_NULL, "");

static void fill_old(msgpack_packer *pk) { msgpack_pack_map(pk, 1); ps(pk, "seq"); msgpack_pack_uint8(pk, 3); }

static void
test_optional_field(void **state)
{
	struct wbuf w = { buf, 0, sizeof(buf), false, false };
	struct dctx d = { { buf, buf } , NULL, 0 };
	msgpack_packer pk;
	struct record r;

	(void)state;
	memset(&r, 0, sizeof(r));
	d.m.end = buf + pack(fill_old);
	assert_int_equal(rd_map(&d, &opt_root, (char *)&r, MPACK_MAX_DEPTH), 0);
	assert_int_equal(r.seq, 3);
	assert_false(r.sys.has_disk);
	r.sys.has_disk = true;
	r.sys.disk_free_mb = 77;
	msgpack_packer_init(&pk, &w, wbuf_write);
	pk_map(&pk, &r, &opt_root, NULL);
	assert_int_equal(buf[0], 0x82);		/* fixmap of 2: counted from the table */
	memset(&r, 0, sizeof(r));
	d.m.p = buf;
	d.m.end = buf + w.len;
	assert_int_equal(rd_map(&d, &opt_root, (char *)&r, MPACK_MAX_DEPTH), 0);
	assert_true(r.sys.has_disk && r.sys.disk_free_mb == 77 && r.seq == 3);
}

/* Records back to back (a pack): proto_decode_first takes them one at a
 * time and says where each ends; proto_decode refuses the lot as trailing
 * bytes, and a cut last record is refused in its turn. */
static void
test_decode_first(void **state)
{
	struct proto_msg in = { .op = PROTO_OP_REC }, out;
	size_t len = 0, n, off = 0, used;
	char err[128];

	(void)state;
	full_record(&in.u.rec);
	for (int i = 0; i < 3; i++) {
		in.u.rec.seq = 100 + (uint64_t)i;
		assert_int_equal(proto_encode(&in, PROTO_SERVER, buf + len, sizeof(buf) - len, &n),
		    0);
		len += n;
	}
	assert_int_equal(proto_decode(buf, len, PROTO_SERVER, &out, err, sizeof(err)), -EBADMSG);
	assert_non_null(strstr(err, "trailing"));
	for (int i = 0; i < 3; i++) {
		assert_int_equal(proto_decode_first(buf + off, len - off, PROTO_SERVER, &out, &used,
		    err, sizeof(err)), 0);
		assert_int_equal(used, n);	/* the three differ only in seq's value */
		assert_int_equal(out.op, PROTO_OP_REC);
		assert_int_equal(out.u.rec.seq, 100 + (uint64_t)i);
		assert_string_equal(out.u.rec.faults[0], "sgp30: crc error on measure_iaq");
		off += used;
	}
	assert_int_equal(off, len);
	assert_int_equal(proto_decode_first(buf + 2 * n, n - 1, PROTO_SERVER, &out, &used, err,
	    sizeof(err)), -EBADMSG);
}

/* same_key compares keys in words by length class: for every length up to
 * 40, equal bytes match and a difference in any one byte does not. */
static void
test_same_key(void **state)
{
	char a[41], b[41];

	(void)state;
	for (size_t n = 0; n <= 40; n++) {
		for (size_t i = 0; i < n; i++)
			a[i] = b[i] = (char)('a' + (i * 5 + n) % 26);
		assert_true(same_key(a, b, n));
		for (size_t i = 0; i < n; i++) {
			b[i] ^= 0x20;
			assert_false(same_key(a, b, n));
			b[i] ^= 0x20;
		}
	}
}

static void
test_trailing_truncated_oversized(void **state)
{
	struct proto_msg in = { .op = PROTO_OP_ACK }, out;
	char err[128];
	size_t len;

	(void)state;
	in.u.ack.seq = 5;
	assert_int_equal(proto_encode(&in, PROTO_CLIENT, buf, sizeof(buf), &len), 0);
	buf[len] = 0xc0;
	assert_int_equal(proto_decode(buf, len + 1, PROTO_CLIENT, &out, err, sizeof(err)),
	    -EBADMSG);
	assert_non_null(strstr(err, "trailing"));
	for (size_t cut = 0; cut < len; cut++)
		assert_int_equal(proto_decode(buf, cut, PROTO_CLIENT, &out, NULL, 0), -EBADMSG);
	assert_int_equal(proto_decode(buf, PROTO_MAX_MSG + 1, PROTO_CLIENT, &out, NULL, 0),
	    -EMSGSIZE);
}

static void
test_hostile_counts(void **state)
{
	/* map32 claiming 4 billion entries, str32 likewise: rejected at once */
	static const uint8_t map_bomb[] = { 0xdf, 0xff, 0xff, 0xff, 0xff, 0xa2, 'o', 'p' };
	static const uint8_t str_bomb[] = { 0x81, 0xa2, 'o', 'p', 0xdb, 0x7f, 0xff, 0xff, 0xff };
	struct proto_msg out;

	(void)state;
	assert_int_equal(proto_decode(map_bomb, sizeof(map_bomb), PROTO_CLIENT, &out, NULL, 0),
	    -EBADMSG);
	assert_int_equal(proto_decode(str_bomb, sizeof(str_bomb), PROTO_CLIENT, &out, NULL, 0),
	    -EBADMSG);
}

static void
test_encode_overflow(void **state)
{
	struct proto_msg in = { .op = PROTO_OP_REC };
	size_t len;

	(void)state;
	full_record(&in.u.rec);
	assert_int_equal(proto_encode(&in, PROTO_SERVER, buf, 20, &len), -EMSGSIZE);
	in.u.rec.nfaults = RECORD_MAX_FAULTS + 1;
	assert_int_equal(proto_encode(&in, PROTO_SERVER, buf, sizeof(buf), &len), -EINVAL);
}

static void
test_fault_cap(void **state)
{
	struct record r;

	(void)state;
	memset(&r, 0, sizeof(r));
	for (int i = 0; i < RECORD_MAX_FAULTS + 3; i++)
		record_add_fault(&r, "fault %d", i);
	assert_int_equal(r.nfaults, RECORD_MAX_FAULTS);
	assert_string_equal(r.faults[0], "fault 0");
	assert_string_equal(r.faults[RECORD_MAX_FAULTS - 1], "more faults than fit in one record");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_record_roundtrip),
		cmocka_unit_test(test_record_nil_blocks),
		cmocka_unit_test(test_encode_record_matches_rec_message),
		cmocka_unit_test(test_record_wire_format_unchanged),
		cmocka_unit_test(test_record_block_checks),
		cmocka_unit_test(test_optional_field),
		cmocka_unit_test(test_control_roundtrips),
		cmocka_unit_test(test_status_roundtrip),
		cmocka_unit_test(test_malformed_classes),
		cmocka_unit_test(test_decode_first),
		cmocka_unit_test(test_same_key),
		cmocka_unit_test(test_trailing_truncated_oversized),
		cmocka_unit_test(test_hostile_counts),
		cmocka_unit_test(test_encode_overflow),
		cmocka_unit_test(test_fault_cap),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
