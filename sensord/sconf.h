/*
 * sconf: sensord's configuration — the struct the daemon runs from and the
 * key table common/conf.c validates sensord.json against (types, ranges,
 * defaults), plus the cross-key checks a table cannot express.
 */
#ifndef SNOWSENSE_SCONF_H
#define SNOWSENSE_SCONF_H

#include <stddef.h>
#include <stdint.h>

#include "conf.h"
#include "sensors.h"

#define SCONF_PATH_LEN 256
#define SCONF_NAME_LEN 64

enum sconf_fsync { SCONF_FSYNC_ALWAYS, SCONF_FSYNC_INTERVAL, SCONF_FSYNC_NEVER };

struct sconf_journal {
	int64_t max_bytes;		/* all segments together */
	int64_t max_age_days;		/* 0: no age limit */
	int fsync;			/* enum sconf_fsync */
	int64_t fsync_interval_ms;
	int64_t segment_bytes;		/* a segment is closed once it reaches this */
};

struct sconf {
	char bus[SCONF_PATH_LEN];
	char device[SCONF_NAME_LEN];	/* "" in the file: the hostname */
	int64_t interval_ms;
	char socket[SCONF_PATH_LEN];
	char socket_mode[8];		/* octal string, e.g. "0660" */
	char socket_group[SCONF_NAME_LEN];	/* "": leave the group alone */
	struct conf_int_list allowed_uids;
	struct conf_int_list allowed_gids;
	int64_t max_clients;
	char state_dir[SCONF_PATH_LEN];
	struct sconf_journal journal;
	char user[SCONF_NAME_LEN];	/* used only when started as root */
	char group[SCONF_NAME_LEN];
	char disk_path[SCONF_PATH_LEN];
	char metrics_file[SCONF_PATH_LEN];	/* "": no metrics file */
	struct sensors_conf sensors;
	/* derived by sconf_load */
	unsigned socket_mode_bits;
};

/* The key table (borrowed, static). */
extern const struct conf_key sconf_keys[];

/* Loads path into *c (defaults first), then checks what spans keys and fills
 * the derived fields; the device defaults to the hostname. Returns 0, or
 * -EINVAL / -errno with a message naming the file and key in err. */
int sconf_load(const char *path, struct sconf *c, char *err, size_t errlen);
/* Same from a string (name used in messages), for tests and fuzzing. */
int sconf_load_string(const char *name, const char *text, size_t len, struct sconf *c,
    char *err, size_t errlen);

#endif
