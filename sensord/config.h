/* SPDX-License-Identifier: Apache-2.0 */
/*
 * config: sensord's configuration — the struct the daemon runs from and the
 * key table common/conf.c validates sensord.json against (types, ranges,
 * defaults), plus the cross-key checks a table cannot express.
 */
#ifndef SNOWSENSE_CONFIG_H
#define SNOWSENSE_CONFIG_H

#include <stddef.h>
#include <stdint.h>

#include "conf.h"
#include "sensors.h"

#define CONFIG_PATH_LEN 256
#define CONFIG_NAME_LEN 64

enum config_fsync { CONFIG_FSYNC_ALWAYS, CONFIG_FSYNC_INTERVAL, CONFIG_FSYNC_NEVER };

struct config_journal {
	int64_t max_bytes;		/* all segments together */
	int64_t max_age_days;		/* 0: no age limit */
	int fsync;			/* enum config_fsync */
	int64_t fsync_interval_ms;
	int64_t segment_bytes;		/* a segment is closed once it reaches this */
};

struct config {
	char bus[CONFIG_PATH_LEN];
	char device[CONFIG_NAME_LEN];	/* "" in the file: the hostname */
	int64_t interval_ms;
	char socket[CONFIG_PATH_LEN];
	char socket_mode[8];		/* octal string, e.g. "0660" */
	char socket_group[CONFIG_NAME_LEN];	/* "": leave the group alone */
	char streamer_user[CONFIG_NAME_LEN];	/* the one user that may ack */
	struct conf_str_list allowed_users;	/* read-only clients, by name */
	struct conf_str_list allowed_groups;	/* by name: primary or supplementary */
	struct conf_int_list allowed_uids;	/* the same by number (older configs) */
	struct conf_int_list allowed_gids;
	int64_t max_clients;
	int64_t max_clients_per_uid;
	char state_dir[CONFIG_PATH_LEN];
	struct config_journal journal;
	char user[CONFIG_NAME_LEN];	/* used only when started as root */
	char group[CONFIG_NAME_LEN];
	char disk_path[CONFIG_PATH_LEN];
	char metrics_file[CONFIG_PATH_LEN];	/* "": no metrics file */
	struct sensors_conf sensors;
	/* derived by config_load */
	unsigned socket_mode_bits;
};

/* The key table (borrowed, static). */
extern const struct conf_key config_keys[];

/* Loads path into *c (defaults first), then checks what spans keys and fills
 * the derived fields; the device defaults to the hostname. Returns 0, or
 * -EINVAL / -errno with a message naming the file and key in err. */
int config_load(const char *path, struct config *c, char *err, size_t errlen);
/* Same from a string (name used in messages), for tests and fuzzing. */
int config_load_string(const char *name, const char *text, size_t len, struct config *c,
    char *err, size_t errlen);

#endif
