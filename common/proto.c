/* SPDX-License-Identifier: Apache-2.0 */
/*
 * proto: encoding goes through msgpack-c's packer writing into the caller's
 * fixed buffer (no allocation, overflow is an error); decoding uses the
 * strict mpack reader. Each control message is a table of keys with a
 * handler and a "required" bit; the record is walked through record.c's
 * field table, so its map sizes, keys, types and nulls come from there.
 * Required-key, duplicate-key, type and depth checks are the same for both.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <msgpack.h>

#include "mpack.h"
#include "proto.h"

static const char *const op_names[] = {
	[PROTO_OP_HELLO] = "hello", [PROTO_OP_SUBSCRIBE] = "subscribe",
	[PROTO_OP_REC] = "rec", [PROTO_OP_GAP] = "gap", [PROTO_OP_ACK] = "ack",
	[PROTO_OP_STATUS] = "status", [PROTO_OP_ERR] = "err",
};

const char *
proto_op_name(enum proto_op op)
{
	if ((unsigned)op < sizeof(op_names) / sizeof(op_names[0]) && op_names[op])
		return op_names[op];
	return "?";
}

/* ------------------------------------------------------------ encoder */

struct wbuf {
	uint8_t *p;
	size_t len, cap;
	bool overflow;
	bool invalid;		/* the message breaks a cap of the record table */
};

static int
wbuf_write(void *data, const char *buf, size_t len)
{
	struct wbuf *w = data;

	if (w->overflow || len > w->cap - w->len) {
		w->overflow = true;
		return -1;
	}
	memcpy(w->p + w->len, buf, len);
	w->len += len;
	return 0;
}

static void
pk_str(msgpack_packer *pk, const char *s)
{
	size_t n = strlen(s);

	msgpack_pack_str(pk, n);
	msgpack_pack_str_body(pk, s, n);
}

static void
pk_key(msgpack_packer *pk, const char *k)
{
	pk_str(pk, k);
}

static void pk_map(msgpack_packer *pk, const struct record *r,
    const struct record_field *map, const char *op);

/* One value of the record, nil when it is null. blk: the map f is in. */
static void
pk_value(msgpack_packer *pk, const struct record *r, const struct record_field *blk,
    const struct record_field *f)
{
	const char *p = record_value(r, f);
	unsigned n;

	if (!record_present(r, blk, f)) {
		msgpack_pack_nil(pk);
		return;
	}
	switch (f->type) {
	case RECORD_U32: msgpack_pack_uint32(pk, *(const uint32_t *)p); return;
	case RECORD_U64: msgpack_pack_uint64(pk, *(const uint64_t *)p); return;
	case RECORD_I64: msgpack_pack_int64(pk, *(const int64_t *)p); return;
	case RECORD_F64: msgpack_pack_double(pk, *(const double *)p); return;
	case RECORD_BOOL:
		*(const bool *)p ? msgpack_pack_true(pk) : msgpack_pack_false(pk);
		return;
	case RECORD_STR: pk_str(pk, p); return;
	case RECORD_STRS:
		n = *(const unsigned *)((const char *)r + f->count);
		if (n > f->max) {
			((struct wbuf *)pk->data)->invalid = true;
			return;
		}
		msgpack_pack_array(pk, n);
		for (unsigned i = 0; i < n; i++)
			pk_str(pk, p + (size_t)i * f->size);
		return;
	case RECORD_MAP: pk_map(pk, r, f, NULL); return;
	}
	((struct wbuf *)pk->data)->invalid = true;
}

/* A map of the record table, its size counted from the table; op, when
 * given, goes first (the record as a "rec" message). */
static void
pk_map(msgpack_packer *pk, const struct record *r, const struct record_field *map,
    const char *op)
{
	msgpack_pack_map(pk, map->nfields + (op != NULL));
	if (op != NULL) {
		pk_key(pk, "op");
		pk_str(pk, op);
	}
	for (size_t i = 0; i < map->nfields; i++) {
		const struct record_field *f = &map->fields[i];

		msgpack_pack_str(pk, f->klen);
		msgpack_pack_str_body(pk, f->key, f->klen);
		pk_value(pk, r, map, f);
	}
}

static void
pk_record(msgpack_packer *pk, const struct record *r)
{
	pk_map(pk, r, &record_root, "rec");
}

static void
pk_status(msgpack_packer *pk, const struct proto_status *st)
{
	msgpack_pack_map(pk, 11);
	pk_key(pk, "op"); pk_str(pk, "status");
	pk_key(pk, "uptime_s"); msgpack_pack_uint64(pk, st->uptime_s);
	pk_key(pk, "journal_id"); msgpack_pack_uint64(pk, st->journal_id);
	pk_key(pk, "first_seq"); msgpack_pack_uint64(pk, st->first_seq);
	pk_key(pk, "last_seq"); msgpack_pack_uint64(pk, st->last_seq);
	pk_key(pk, "acked_seq"); msgpack_pack_uint64(pk, st->acked_seq);
	pk_key(pk, "records_written"); msgpack_pack_uint64(pk, st->records_written);
	pk_key(pk, "records_dropped"); msgpack_pack_uint64(pk, st->records_dropped);
	pk_key(pk, "seqs_skipped"); msgpack_pack_uint64(pk, st->seqs_skipped);
	pk_key(pk, "clients"); msgpack_pack_uint32(pk, st->clients);
	pk_key(pk, "chips");
	msgpack_pack_array(pk, st->nchips);
	for (uint32_t i = 0; i < st->nchips; i++) {
		const struct proto_chip_status *c = &st->chips[i];
		msgpack_pack_map(pk, 5);
		pk_key(pk, "name"); pk_str(pk, c->name);
		pk_key(pk, "state"); pk_str(pk, c->state);
		pk_key(pk, "measurements"); msgpack_pack_uint64(pk, c->measurements);
		pk_key(pk, "faults"); msgpack_pack_uint64(pk, c->faults);
		pk_key(pk, "last_ok"); msgpack_pack_int64(pk, c->last_ok);
	}
}

static int
pk_msg(msgpack_packer *pk, const struct proto_msg *m, enum proto_side side)
{
	switch (m->op) {
	case PROTO_OP_HELLO:
		if (side == PROTO_CLIENT) {
			msgpack_pack_map(pk, 3 + m->u.hello_c.pack);
			pk_key(pk, "op"); pk_str(pk, "hello");
			pk_key(pk, "v"); msgpack_pack_uint32(pk, m->u.hello_c.v);
			pk_key(pk, "name"); pk_str(pk, m->u.hello_c.name);
			if (m->u.hello_c.pack) {	/* absent when false, as before it existed */
				pk_key(pk, "pack");
				msgpack_pack_true(pk);
			}
		} else {
			msgpack_pack_map(pk, 6);
			pk_key(pk, "op"); pk_str(pk, "hello");
			pk_key(pk, "v"); msgpack_pack_uint32(pk, m->u.hello_s.v);
			pk_key(pk, "journal_id"); msgpack_pack_uint64(pk, m->u.hello_s.journal_id);
			pk_key(pk, "first_seq"); msgpack_pack_uint64(pk, m->u.hello_s.first_seq);
			pk_key(pk, "last_seq"); msgpack_pack_uint64(pk, m->u.hello_s.last_seq);
			pk_key(pk, "device"); pk_str(pk, m->u.hello_s.device);
		}
		return 0;
	case PROTO_OP_SUBSCRIBE:
		msgpack_pack_map(pk, 2);
		pk_key(pk, "op"); pk_str(pk, "subscribe");
		pk_key(pk, "from");
		switch (m->u.subscribe.from) {
		case PROTO_FROM_SEQ: msgpack_pack_uint64(pk, m->u.subscribe.seq); break;
		case PROTO_FROM_OLDEST: pk_str(pk, "oldest"); break;
		case PROTO_FROM_NOW: pk_str(pk, "now"); break;
		default: return -EINVAL;
		}
		return 0;
	case PROTO_OP_REC:
		pk_record(pk, &m->u.rec);
		return 0;
	case PROTO_OP_GAP:
		msgpack_pack_map(pk, 3);
		pk_key(pk, "op"); pk_str(pk, "gap");
		pk_key(pk, "from"); msgpack_pack_uint64(pk, m->u.gap.from);
		pk_key(pk, "to"); msgpack_pack_uint64(pk, m->u.gap.to);
		return 0;
	case PROTO_OP_ACK:
		msgpack_pack_map(pk, 2);
		pk_key(pk, "op"); pk_str(pk, "ack");
		pk_key(pk, "seq"); msgpack_pack_uint64(pk, m->u.ack.seq);
		return 0;
	case PROTO_OP_STATUS:
		if (side == PROTO_CLIENT) {
			msgpack_pack_map(pk, 1);
			pk_key(pk, "op"); pk_str(pk, "status");
		} else {
			if (m->u.status.nchips > PROTO_MAX_CHIPS)
				return -EINVAL;
			pk_status(pk, &m->u.status);
		}
		return 0;
	case PROTO_OP_ERR:
		msgpack_pack_map(pk, 3);
		pk_key(pk, "op"); pk_str(pk, "err");
		pk_key(pk, "code"); msgpack_pack_uint32(pk, m->u.err.code);
		pk_key(pk, "msg"); pk_str(pk, m->u.err.msg);
		return 0;
	}
	return -EINVAL;
}

int
proto_encode(const struct proto_msg *msg, enum proto_side side, void *buf, size_t cap,
    size_t *ret_len)
{
	struct wbuf w = { buf, 0, cap < PROTO_MAX_MSG ? cap : PROTO_MAX_MSG, false, false };
	msgpack_packer pk;
	int r;

	msgpack_packer_init(&pk, &w, wbuf_write);
	r = pk_msg(&pk, msg, side);
	if (r < 0 || w.invalid)
		return r < 0 ? r : -EINVAL;
	if (w.overflow)
		return -EMSGSIZE;
	*ret_len = w.len;
	return 0;
}

int
proto_encode_record(const struct record *r, void *buf, size_t cap, size_t *ret_len)
{
	struct wbuf w = { buf, 0, cap < PROTO_MAX_MSG ? cap : PROTO_MAX_MSG, false, false };
	msgpack_packer pk;

	msgpack_packer_init(&pk, &w, wbuf_write);
	pk_record(&pk, r);
	if (w.invalid)
		return -EINVAL;
	if (w.overflow)
		return -EMSGSIZE;
	*ret_len = w.len;
	return 0;
}

/* ------------------------------------------------------------ decoder */

struct dctx {
	struct mpack m;
	char *err;
	size_t errlen;
	unsigned ops;		/* "op" keys a record's top level had */
};

/* One key of a map: its name, whether it must be present, and the reader
 * that stores its value into dst. */
struct field {
	const char *key;
	bool required;
	int (*read)(struct dctx *d, void *dst);
	size_t off;
};

#define FIELD(k, req, fn, S, F) { k, req, fn, offsetof(S, F) }

static int
fail(struct dctx *d, const char *fmt, ...)
{
	va_list ap;

	if (d->err && d->errlen) {
		va_start(ap, fmt);
		vsnprintf(d->err, d->errlen, fmt, ap);
		va_end(ap);
	}
	return -EBADMSG;
}

static int rd_u64(struct dctx *d, void *dst) { return mpack_read_u64(&d->m, dst); }
static int rd_bool(struct dctx *d, void *dst) { return mpack_read_bool(&d->m, dst); }
static int rd_i64(struct dctx *d, void *dst) { return mpack_read_i64(&d->m, dst); }

static int
rd_u32(struct dctx *d, void *dst)
{
	uint64_t v;

	if (mpack_read_u64(&d->m, &v) < 0 || v > UINT32_MAX)
		return -EBADMSG;
	*(uint32_t *)dst = (uint32_t)v;
	return 0;
}

static int rd_name(struct dctx *d, void *dst) { return mpack_read_cstr(&d->m, dst, PROTO_NAME_LEN); }
static int rd_msg(struct dctx *d, void *dst) { return mpack_read_cstr(&d->m, dst, PROTO_MSG_LEN); }
static int rd_chipname(struct dctx *d, void *dst) { return mpack_read_cstr(&d->m, dst, 16); }

/* Walks one map: every key must be in fields (unknown keys are skipped,
 * so a newer peer may add fields), none twice, required ones present. */
static int
read_fields(struct dctx *d, const struct field *fields, size_t nf, void *base,
    int depth)
{
	uint64_t seen = 0;
	uint32_t n;

	if (depth <= 0)
		return fail(d, "nesting too deep");
	if (mpack_read_map(&d->m, &n) < 0)
		return fail(d, "expected a map");
	while (n--) {
		const char *k;
		uint32_t klen;
		size_t i;

		if (mpack_read_str(&d->m, &k, &klen) < 0)
			return fail(d, "map key is not a string");
		for (i = 0; i < nf; i++)
			if (strlen(fields[i].key) == klen && memcmp(fields[i].key, k, klen) == 0)
				break;
		if (i == nf) {
			if (mpack_skip(&d->m, depth - 1) < 0)
				return fail(d, "malformed value for unknown key");
			continue;
		}
		if (seen & (1ULL << i))
			return fail(d, "duplicate key \"%s\"", fields[i].key);
		seen |= 1ULL << i;
		if (!fields[i].read) {	/* "op": checked by find_op */
			if (mpack_skip(&d->m, 1) < 0)
				return fail(d, "malformed \"op\"");
			continue;
		}
		if (fields[i].read(d, (char *)base + fields[i].off) < 0)
			return fail(d, "bad value for \"%s\"", fields[i].key);
	}
	for (size_t i = 0; i < nf; i++)
		if (fields[i].required && !(seen & (1ULL << i)))
			return fail(d, "missing key \"%s\"", fields[i].key);
	return 0;
}

#define NF(a) (sizeof(a) / sizeof((a)[0]))

/* ---- the record, walked through its table (record.c) */

static int rd_map(struct dctx *d, const struct record_field *map, char *base, int depth);

static int
rd_strs(struct dctx *d, const struct record_field *f, char *base)
{
	uint32_t n;

	if (mpack_read_array(&d->m, &n) < 0 || n > f->max)
		return -EBADMSG;
	for (uint32_t i = 0; i < n; i++)
		if (mpack_read_cstr(&d->m, base + f->off + (size_t)i * f->size, f->size) < 0)
			return -EBADMSG;
	*(unsigned *)(base + f->count) = n;
	return 0;
}

/* One value of f into the record at base; nil is only taken where f may be
 * null, and then clears its presence flag. */
static int
rd_value(struct dctx *d, const struct record_field *f, char *base)
{
	char *p = base + f->off;

	if (f->has >= 0 && !(*(bool *)(base + f->has) = !mpack_read_nil(&d->m)))
		return 0;
	switch (f->type) {
	case RECORD_U32: return rd_u32(d, p);
	case RECORD_U64: return mpack_read_u64(&d->m, (uint64_t *)p);
	case RECORD_I64: return mpack_read_i64(&d->m, (int64_t *)p);
	case RECORD_F64: return mpack_read_double(&d->m, (double *)p);
	case RECORD_BOOL: return mpack_read_bool(&d->m, (bool *)p);
	case RECORD_STR: return mpack_read_cstr(&d->m, p, f->size);
	case RECORD_STRS: return rd_strs(d, f, base);
	case RECORD_MAP: return rd_map(d, f, base, 2);	/* a block holds only scalars */
	}
	return -EBADMSG;
}

/* Whether the n bytes at a and b are equal: a record's keys are a few
 * bytes long and a drain compares some fifty per record, where a call to
 * memcmp cost more than the comparison. Up to 16 bytes, two words of a
 * fixed size that overlap in the middle, reading nothing past n. */
static inline bool
same_key(const char *a, const char *b, size_t n)
{
	uint64_t x, y, x2, y2;
	uint32_t u, v, u2, v2;

	if (n >= 8 && n <= 16) {
		memcpy(&x, a, 8);
		memcpy(&y, b, 8);
		memcpy(&x2, a + n - 8, 8);
		memcpy(&y2, b + n - 8, 8);
		return ((x ^ y) | (x2 ^ y2)) == 0;
	}
	if (n >= 4 && n < 8) {
		memcpy(&u, a, 4);
		memcpy(&v, b, 4);
		memcpy(&u2, a + n - 4, 4);
		memcpy(&v2, b + n - 4, 4);
		return ((u ^ v) | (u2 ^ v2)) == 0;
	}
	if (n < 4) {
		while (n > 0 && *a == *b) {
			a++;
			b++;
			n--;
		}
		return n == 0;
	}
	return memcmp(a, b, n) == 0;
}

/* A map key: the short form (fixstr, every key of a record) read here,
 * any other through mpack. */
static inline int
rd_key(struct dctx *d, const char **ret_k, uint32_t *ret_len)
{
	const uint8_t *p = d->m.p;

	if (p < d->m.end && (*p & 0xe0) == 0xa0 && (size_t)(*p & 0x1f) < (size_t)(d->m.end - p)) {
		*ret_len = *p & 0x1f;
		*ret_k = (const char *)p + 1;
		d->m.p = p + 1 + *ret_len;
		return 0;
	}
	return mpack_read_str(&d->m, ret_k, ret_len);
}

/* Walks one map of the record table like read_fields, naming a block's keys
 * "block.key" in messages. Every field is required unless .optional; the
 * top-level "op" is one of the unknown keys here (find_op read it; a second
 * one is refused). */
static int
rd_map(struct dctx *d, const struct record_field *map, char *base, int depth)
{
	const char *dot = map->klen ? "." : "";
	uint64_t seen = 0;
	size_t next = 0;
	uint32_t n;

	if (depth <= 0)
		return fail(d, "nesting too deep");
	if (mpack_read_map(&d->m, &n) < 0)
		return fail(d, "expected a map for \"%s\"", map->key);
	while (n--) {
		const struct record_field *f = NULL;
		const char *k;
		uint32_t klen;
		size_t i = 0;

		if (rd_key(d, &k, &klen) < 0)
			return fail(d, "map key is not a string");
		/* Keys come in the table's order from our own encoder: try the
		 * one after the last match first (a drain decodes every record). */
		for (size_t j = 0; j < map->nfields && f == NULL; j++) {
			i = next + j < map->nfields ? next + j : next + j - map->nfields;
			if (map->fields[i].klen == klen && same_key(map->fields[i].key, k, klen))
				f = &map->fields[i];
		}
		if (f == NULL) {
			if (depth == MPACK_MAX_DEPTH && klen == 2 && memcmp(k, "op", 2) == 0 &&
			    d->ops++ > 0)
				return fail(d, "\"op\" is not a single string");
			if (mpack_skip(&d->m, depth - 1) < 0)
				return fail(d, "malformed value for unknown key");
			continue;
		}
		next = i + 1;
		if (seen & (1ULL << i))
			return fail(d, "duplicate key \"%s%s%s\"", map->key, dot, f->key);
		seen |= 1ULL << i;
		if (rd_value(d, f, base) < 0)
			return f->type == RECORD_MAP ? -EBADMSG :	/* rd_map said why */
			    fail(d, "bad value for \"%s%s%s\"", map->key, dot, f->key);
	}
	for (size_t i = 0; i < map->nfields; i++)
		if (!map->fields[i].optional && !(seen & (1ULL << i)))
			return fail(d, "missing key \"%s%s%s\"", map->key, dot, map->fields[i].key);
	return 0;
}

static int
rd_from(struct dctx *d, void *dst)
{
	struct proto_msg *m = (struct proto_msg *)((char *)dst -
	    offsetof(struct proto_msg, u.subscribe));
	const char *s;
	uint32_t n;

	if (mpack_peek(&d->m) == MPACK_STR) {
		if (mpack_read_str(&d->m, &s, &n) < 0)
			return -EBADMSG;
		if (n == 6 && memcmp(s, "oldest", 6) == 0)
			m->u.subscribe.from = PROTO_FROM_OLDEST;
		else if (n == 3 && memcmp(s, "now", 3) == 0)
			m->u.subscribe.from = PROTO_FROM_NOW;
		else
			return -EBADMSG;
		return 0;
	}
	m->u.subscribe.from = PROTO_FROM_SEQ;
	return mpack_read_u64(&d->m, &m->u.subscribe.seq);
}

static int
rd_chips(struct dctx *d, void *dst)
{
	static const struct field f[] = {
		FIELD("name", true, rd_chipname, struct proto_chip_status, name),
		FIELD("state", true, rd_name, struct proto_chip_status, state),
		FIELD("measurements", true, rd_u64, struct proto_chip_status, measurements),
		FIELD("faults", true, rd_u64, struct proto_chip_status, faults),
		FIELD("last_ok", true, rd_i64, struct proto_chip_status, last_ok),
	};
	struct proto_status *st = (struct proto_status *)((char *)dst -
	    offsetof(struct proto_status, chips));
	uint32_t n;

	if (mpack_read_array(&d->m, &n) < 0 || n > PROTO_MAX_CHIPS)
		return -EBADMSG;
	for (uint32_t i = 0; i < n; i++)
		if (read_fields(d, f, NF(f), &st->chips[i], 2) < 0)
			return -EBADMSG;
	st->nchips = n;
	return 0;
}

#define UF(k, fn, F) { k, true, fn, offsetof(struct proto_msg, u.F) }
#define OPF { "op", true, NULL, 0 }

static const struct field hello_c_fields[] = {
	OPF, UF("v", rd_u32, hello_c.v), UF("name", rd_name, hello_c.name),
	/* optional: a client from before packing does not send it */
	FIELD("pack", false, rd_bool, struct proto_msg, u.hello_c.pack),
};
static const struct field hello_s_fields[] = {
	OPF, UF("v", rd_u32, hello_s.v), UF("journal_id", rd_u64, hello_s.journal_id),
	UF("first_seq", rd_u64, hello_s.first_seq), UF("last_seq", rd_u64, hello_s.last_seq),
	UF("device", rd_name, hello_s.device),
};
static const struct field subscribe_fields[] = { OPF, UF("from", rd_from, subscribe) };
static const struct field gap_fields[] = {
	OPF, UF("from", rd_u64, gap.from), UF("to", rd_u64, gap.to),
};
static const struct field ack_fields[] = { OPF, UF("seq", rd_u64, ack.seq) };
static const struct field status_c_fields[] = { OPF };
static const struct field status_s_fields[] = {
	OPF, UF("uptime_s", rd_u64, status.uptime_s),
	UF("journal_id", rd_u64, status.journal_id),
	UF("first_seq", rd_u64, status.first_seq), UF("last_seq", rd_u64, status.last_seq),
	UF("acked_seq", rd_u64, status.acked_seq),
	UF("records_written", rd_u64, status.records_written),
	UF("records_dropped", rd_u64, status.records_dropped),
	/* optional: a sensord from before the seq floor does not send it */
	FIELD("seqs_skipped", false, rd_u64, struct proto_msg, u.status.seqs_skipped),
	UF("clients", rd_u32, status.clients), UF("chips", rd_chips, status.chips),
};
static const struct field err_fields[] = {
	OPF, UF("code", rd_u32, err.code), UF("msg", rd_msg, err.msg),
};

/* Which ops each side may send, and the key table for each (NULL: the
 * record's own table). */
static const struct {
	enum proto_op op;
	enum proto_side side;
	const struct field *f;
	size_t nf;
	size_t base;	/* where the table's offsets start inside struct proto_msg */
} op_table[] = {
	{ PROTO_OP_HELLO, PROTO_CLIENT, hello_c_fields, NF(hello_c_fields), 0 },
	{ PROTO_OP_HELLO, PROTO_SERVER, hello_s_fields, NF(hello_s_fields), 0 },
	{ PROTO_OP_SUBSCRIBE, PROTO_CLIENT, subscribe_fields, NF(subscribe_fields), 0 },
	{ PROTO_OP_REC, PROTO_SERVER, NULL, 0, offsetof(struct proto_msg, u.rec) },
	{ PROTO_OP_GAP, PROTO_SERVER, gap_fields, NF(gap_fields), 0 },
	{ PROTO_OP_ACK, PROTO_CLIENT, ack_fields, NF(ack_fields), 0 },
	{ PROTO_OP_STATUS, PROTO_CLIENT, status_c_fields, NF(status_c_fields), 0 },
	{ PROTO_OP_STATUS, PROTO_SERVER, status_s_fields, NF(status_s_fields), 0 },
	{ PROTO_OP_ERR, PROTO_SERVER, err_fields, NF(err_fields), 0 },
};

/* First pass: find the "op" string anywhere in the top-level map; the
 * second pass, which reads every key, refuses a second "op" (read_fields as
 * a duplicate key, rd_map by counting). */
static int
find_op(struct dctx *d, enum proto_op *ret)
{
	struct mpack save = d->m;
	uint32_t n;
	int found = 0;

	if (mpack_read_map(&d->m, &n) < 0)
		return fail(d, "message is not a map");
	while (n-- && !found) {
		const char *k, *v;
		uint32_t klen, vlen;

		if (mpack_read_str(&d->m, &k, &klen) < 0)
			return fail(d, "map key is not a string");
		if (klen != 2 || memcmp(k, "op", 2) != 0) {
			if (mpack_skip(&d->m, MPACK_MAX_DEPTH) < 0)
				return fail(d, "malformed value");
			continue;
		}
		if (found++ || mpack_read_str(&d->m, &v, &vlen) < 0)
			return fail(d, "\"op\" is not a single string");
		for (size_t i = 1; i < NF(op_names); i++)
			if (strlen(op_names[i]) == vlen && memcmp(op_names[i], v, vlen) == 0)
				*ret = (enum proto_op)i;
		if (*ret == 0)
			return fail(d, "unknown op \"%.*s\"", (int)(vlen > 32 ? 32 : vlen), v);
	}
	if (!found)
		return fail(d, "missing key \"op\"");
	d->m = save;
	return 0;
}

int
proto_decode_first(const void *buf, size_t len, enum proto_side side, struct proto_msg *ret,
    size_t *ret_used, char *errbuf, size_t errlen)
{
	struct dctx d = { { buf, (const uint8_t *)buf + len }, errbuf, errlen };
	enum proto_op op = 0;
	char *base;

	if (len > PROTO_MAX_MSG) {
		fail(&d, "message of %zu bytes exceeds %d", len, PROTO_MAX_MSG);
		return -EMSGSIZE;
	}
	if (find_op(&d, &op) < 0)
		return -EBADMSG;
	for (size_t i = 0; i < NF(op_table); i++) {
		if (op_table[i].op != op || op_table[i].side != side)
			continue;
		memset(ret, 0, sizeof(*ret));
		ret->op = op;
		base = (char *)ret + op_table[i].base;
		if ((op_table[i].f ? read_fields(&d, op_table[i].f, op_table[i].nf, base,
		    MPACK_MAX_DEPTH) : rd_map(&d, &record_root, base, MPACK_MAX_DEPTH)) < 0)
			return -EBADMSG;
		*ret_used = (size_t)(d.m.p - (const uint8_t *)buf);
		return 0;
	}
	return fail(&d, "op \"%s\" is not valid from the %s", proto_op_name(op),
	    side == PROTO_CLIENT ? "client" : "server");
}

int
proto_decode(const void *buf, size_t len, enum proto_side side, struct proto_msg *ret,
    char *errbuf, size_t errlen)
{
	struct proto_msg m;
	size_t used;
	int r;

	if ((r = proto_decode_first(buf, len, side, &m, &used, errbuf, errlen)) < 0)
		return r;
	if (used != len) {
		if (errbuf && errlen)
			snprintf(errbuf, errlen, "%zu trailing bytes after the message",
			    len - used);
		return -EBADMSG;
	}
	*ret = m;
	return 0;
}
