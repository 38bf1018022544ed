/*
 * record: the field table. Its order is the order on the wire (the
 * MessagePack map sensord journals), in sensortap's JSON and among the row's
 * extra keys.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "record.h"

static const struct record_field scd4x_fields[] = {
	RECORD_VAL("co2", RECORD_U32, scd4x.co2, "ppm", "CO2 concentration"),
	RECORD_VAL("t", RECORD_F64, scd4x.t, "°C", "temperature"),
	RECORD_VAL("rh", RECORD_F64, scd4x.rh, "%RH", "relative humidity"),
	RECORD_VAL("t_meas", RECORD_I64, scd4x.t_meas, "ns",
	    "when the chip's sample was read, Unix ns"),
};

static const struct record_field sgp30_fields[] = {
	RECORD_VAL("eco2", RECORD_U32, sgp30.eco2, "ppm",
	    "equivalent CO2 (during warm-up the chip's fixed 400)"),
	RECORD_VAL("tvoc", RECORD_U32, sgp30.tvoc, "ppb",
	    "total volatile organic compounds (during warm-up the chip's fixed 0)"),
	RECORD_VAL("t_meas", RECORD_I64, sgp30.t_meas, "ns",
	    "when the chip's sample was read, Unix ns"),
	RECORD_VAL("warmup", RECORD_BOOL, sgp30.warmup, "",
	    "within 15 s of the chip's init: eco2 and tvoc are constants, not measurements"),
	RECORD_VAL("baseline_ok", RECORD_BOOL, sgp30.baseline_ok, "",
	    "the chip's baseline was restored from the state file or learned (12 h)"),
};

static const struct record_field icp10125_fields[] = {
	RECORD_VAL("p", RECORD_F64, icp10125.p, "Pa", "air pressure"),
	RECORD_VAL("t", RECORD_F64, icp10125.t, "°C", "temperature"),
	RECORD_VAL("t_meas", RECORD_I64, icp10125.t_meas, "ns",
	    "when the chip's sample was read, Unix ns"),
};

static const struct record_field sys_fields[] = {
	RECORD_OPT("cpu_t", RECORD_F64, sys.cpu_t, sys.has_cpu_t, "°C",
	    "CPU temperature; null when no thermal zone can be read"),
	RECORD_OPT("cpu", RECORD_F64, sys.cpu, sys.has_cpu, "%",
	    "CPU busy since the previous record; null on the first one"),
	RECORD_OPT("mem", RECORD_F64, sys.mem, sys.has_mem, "%", "memory in use"),
	RECORD_OPT("disk_free_mb", RECORD_U64, sys.disk_free_mb, sys.has_disk, "MiB",
	    "free space on the file system of sensord's disk_path"),
};

static const struct record_field fields[] = {
	RECORD_VAL("seq", RECORD_U64, seq, "",
	    "journal sequence number: 1, 2, 3, ... within one journal"),
	{ .key = "t", .klen = 1, .type = RECORD_I64, .off = RECORD_OFF(t),
	  .has = RECORD_NOT_NULL, .unit = "ns", .flat = "t_ns",
	  .doc = "when the record was assembled, Unix ns (CLOCK_REALTIME)" },
	RECORD_VAL("boot_ns", RECORD_U64, boot_ns, "ns",
	    "CLOCK_BOOTTIME at the same moment: time since boot"),
	RECORD_VAL("synced", RECORD_BOOL, synced, "",
	    "the system clock was synchronised (adjtimex) at that moment"),
	RECORD_STRING("device", device,
	    "device id (sensord's \"device\", default the host name)"),
	RECORD_BLOCK("scd4x", scd4x_fields, RECORD_OFF(has_scd4x),
	    "Sensirion SCD4x; null when it gave no fresh sample this interval"),
	RECORD_BLOCK("sgp30", sgp30_fields, RECORD_OFF(has_sgp30),
	    "Sensirion SGP30; null when it gave no fresh sample this interval"),
	RECORD_BLOCK("icp10125", icp10125_fields, RECORD_OFF(has_icp10125),
	    "TDK ICP-10125; null when it gave no fresh sample this interval"),
	RECORD_BLOCK("sys", sys_fields, RECORD_NOT_NULL, "the machine sensord runs on"),
	{ .key = "faults", .klen = 6, .type = RECORD_STRS, .off = RECORD_OFF(faults),
	  .has = RECORD_NOT_NULL, .size = RECORD_FAULT_LEN, .count = RECORD_OFF(nfaults),
	  .max = RECORD_MAX_FAULTS, .unit = "",
	  .doc = "what went wrong this interval, if anything (at most 8 lines)" },
};

const struct record_field record_root =
	RECORD_BLOCK("", fields, RECORD_NOT_NULL, "one record");

static const struct record_field *
find_in(const struct record_field *map, const char *key, size_t klen)
{
	for (size_t i = 0; i < map->nfields; i++)
		if (map->fields[i].klen == klen && memcmp(map->fields[i].key, key, klen) == 0)
			return &map->fields[i];
	return NULL;
}

const struct record_field *
record_find(const char *path, const struct record_field **ret_blk)
{
	const char *dot = strchr(path, '.');
	const struct record_field *blk = NULL, *f;

	if (dot != NULL) {
		blk = find_in(&record_root, path, (size_t)(dot - path));
		if (blk == NULL || blk->type != RECORD_MAP)
			return NULL;
		path = dot + 1;
	}
	f = find_in(blk ? blk : &record_root, path, strlen(path));
	if (f != NULL)
		*ret_blk = blk;
	return f;
}

int
record_flat_name(const struct record_field *blk, const struct record_field *f, char *buf,
    size_t cap)
{
	int n;

	if (f->flat != NULL)
		n = snprintf(buf, cap, "%s", f->flat);
	else if (blk != NULL)
		n = snprintf(buf, cap, "%s_%s", blk->key, f->key);
	else
		n = snprintf(buf, cap, "%s", f->key);
	if (n < 0 || (size_t)n >= cap)
		return -ENOSPC;
	return n;
}

const char *
record_type_name(enum record_type t)
{
	switch (t) {
	case RECORD_U32: case RECORD_U64: return "uint";
	case RECORD_I64: return "int";
	case RECORD_F64: return "float";
	case RECORD_BOOL: return "bool";
	case RECORD_STR: return "str";
	case RECORD_STRS: return "array of str";
	case RECORD_MAP: return "map";
	}
	return "?";
}

void
record_add_fault(struct record *r, const char *fmt, ...)
{
	va_list ap;

	if (r->nfaults >= RECORD_MAX_FAULTS) {
		/* keep the last slot honest about what did not fit */
		snprintf(r->faults[RECORD_MAX_FAULTS - 1], RECORD_FAULT_LEN,
		    "more faults than fit in one record");
		return;
	}
	va_start(ap, fmt);
	vsnprintf(r->faults[r->nfaults++], RECORD_FAULT_LEN, fmt, ap);
	va_end(ap);
}
