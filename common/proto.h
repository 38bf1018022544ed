/* SPDX-License-Identifier: Apache-2.0 */
/*
 * proto: the sensord socket protocol as plain C structs (the record's are in
 * record.h), with a MessagePack encoder (msgpack-c) and a strict decoder.
 *
 * One SOCK_SEQPACKET message = one MessagePack map with an "op" key, at most
 * PROTO_MAX_MSG bytes; or, to a client that asked in its hello ("pack"),
 * several "rec" maps back to back in one message of at most that size. The decoder accepts exactly what docs/schema.md lists:
 * every required key with the right type, no key twice, no unknown op, no
 * trailing bytes, nesting no deeper than a record needs. Unknown keys are
 * skipped (so a newer peer can add fields); inside a record's blocks, where
 * required keys are checked as everywhere, an unknown key may only carry a
 * scalar.
 *
 * The decoder allocates nothing: strings are copied into fixed buffers and
 * anything longer than a buffer is an error, so hostile input costs at most
 * one pass over its bytes.
 */
#ifndef SNOWSENSE_PROTO_H
#define SNOWSENSE_PROTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "record.h"

#define PROTO_VERSION 1
#define PROTO_MAX_MSG (64 * 1024)
/* The most sensord packs into one message for a client that asks: enough
 * that the kernel's cost per message is small beside the records' own, few
 * enough that a reader's receive slots stay small (sdsock keeps eight). */
#define PROTO_PACK_MAX (16 * 1024)
#define PROTO_NAME_LEN 64	/* device and client names, incl. NUL */
#define PROTO_MSG_LEN 256	/* err.msg and chip state strings, incl. NUL */
#define PROTO_MAX_CHIPS 4

/* ---- status -------------------------------------------------------- */

struct proto_chip_status {
	char name[16];			/* "scd4x", "sgp30", "icp10125" */
	char state[PROTO_NAME_LEN];	/* "ok", "absent", "retrying", "warmup", ... */
	uint64_t measurements;		/* good samples since start */
	uint64_t faults;		/* NACK, timeout, CRC failures since start */
	int64_t last_ok;		/* Unix ns of the last good sample, 0 = never */
};

struct proto_status {
	uint64_t uptime_s;
	uint64_t journal_id;
	uint64_t first_seq, last_seq, acked_seq;
	uint64_t records_written;	/* since start */
	uint64_t records_dropped;	/* unacked records forced out by retention, ever */
	uint64_t seqs_skipped;		/* jumped over after unclean stops, ever */
	uint32_t clients;
	uint32_t nchips;
	struct proto_chip_status chips[PROTO_MAX_CHIPS];
};

/* ---- messages ------------------------------------------------------ */

enum proto_op {
	PROTO_OP_HELLO = 1,	/* both directions */
	PROTO_OP_SUBSCRIBE,	/* client */
	PROTO_OP_REC,		/* server */
	PROTO_OP_GAP,		/* server */
	PROTO_OP_ACK,		/* client */
	PROTO_OP_STATUS,	/* both: request (client, no fields) and answer (server) */
	PROTO_OP_ERR,		/* server */
};

enum proto_from { PROTO_FROM_SEQ, PROTO_FROM_OLDEST, PROTO_FROM_NOW };

/* Error codes carried by an err message. */
enum proto_err {
	PROTO_ERR_MALFORMED = 1,	/* message could not be decoded */
	PROTO_ERR_VERSION = 2,		/* unsupported protocol version */
	PROTO_ERR_STATE = 3,		/* op not valid now (e.g. subscribe twice) */
	PROTO_ERR_DENIED = 4,		/* peer credentials not allowed */
	PROTO_ERR_BUSY = 5,		/* too many clients */
};

struct proto_msg {
	enum proto_op op;
	union {
		struct {		/* client hello */
			uint32_t v;
			char name[PROTO_NAME_LEN];
			bool pack;	/* takes several records in one message */
		} hello_c;
		struct {		/* server hello */
			uint32_t v;
			uint64_t journal_id;
			uint64_t first_seq, last_seq;	/* 0, 0 when the journal is empty */
			char device[PROTO_NAME_LEN];
		} hello_s;
		struct {
			enum proto_from from;
			uint64_t seq;	/* with PROTO_FROM_SEQ */
		} subscribe;
		struct record rec;
		struct {
			uint64_t from, to;	/* inclusive range no longer in the journal */
		} gap;
		struct {
			uint64_t seq;
		} ack;
		struct proto_status status;	/* server answer; empty for the request */
		struct {
			uint32_t code;
			char msg[PROTO_MSG_LEN];
		} err;
	} u;
};

/* Which side sent a message: "hello" and "status" differ by direction. */
enum proto_side { PROTO_CLIENT, PROTO_SERVER };

/* Encodes msg (sent by side) into buf of size cap; *ret_len gets the length.
 * Returns 0, -EMSGSIZE when it does not fit, -EINVAL on a bad msg. */
int proto_encode(const struct proto_msg *msg, enum proto_side side, void *buf,
    size_t cap, size_t *ret_len);
/* Decodes one message of len bytes sent by side into *ret (untouched on
 * failure). Returns 0, or -EMSGSIZE (over PROTO_MAX_MSG) / -EBADMSG (anything
 * malformed); when errbuf is given it says what was wrong. */
int proto_decode(const void *buf, size_t len, enum proto_side side,
    struct proto_msg *ret, char *errbuf, size_t errlen);
/* Decodes the first of the messages packed back to back in buf (len bytes)
 * into *ret, as proto_decode does one, and gives its size in *ret_used: the
 * next one starts there. A record is a self-delimiting map, so sensord may
 * pack consecutive ones into one socket message for a client whose hello
 * says "pack". Same returns as proto_decode, but *ret is clobbered on
 * failure. */
int proto_decode_first(const void *buf, size_t len, enum proto_side side,
    struct proto_msg *ret, size_t *ret_used, char *errbuf, size_t errlen);
/* Encodes a record as a "rec" message; shorthand for proto_encode. */
int proto_encode_record(const struct record *r, void *buf, size_t cap, size_t *ret_len);
/* Name of an op ("hello", ...), or "?" — for log lines. */
const char *proto_op_name(enum proto_op op);

#endif
