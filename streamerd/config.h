/* SPDX-License-Identifier: Apache-2.0 */
/*
 * config: streamerd's configuration — the JSON keys (the prototype's
 * snowflake_config.json keys plus streamerd's own), their defaults and
 * ranges, the cross-key rules (one credential, pipe or table, a reachable
 * account URL), and the permission check of every credential file.
 */
#ifndef STREAMERD_CONFIG_H
#define STREAMERD_CONFIG_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>	/* FILE: config_print */
#include <stdint.h>
#include <sys/types.h>

#define CONFIG_DEFAULT_PATH "/etc/snowsense/streamerd.json"
#define CONFIG_DEFAULT_SOCKET "/run/snowsense/sensord.sock"

struct config {
	char path[PATH_MAX];		/* the file it came from */
	char pat[4096];
	char private_key_file[PATH_MAX];
	char private_key_passphrase_file[PATH_MAX];
	char user[256];
	char account[256];
	char role[256];
	bool scope_role;		/* send " session:role:<role>" in the token scope */
	char database[256];
	char schema[256];
	char pipe[256];
	char table[256];
	char channel_name[256];
	char url[512];
	char account_url[512];
	char ca_file[PATH_MAX];
	char socket[108];
	char sensord_user[64];		/* who must serve the socket (or root) */
	int64_t batch_max_rows;
	int64_t batch_max_bytes;		/* NDJSON bytes, before compression */
	int64_t batch_max_wire_bytes;		/* one body, after compression */
	int64_t queue_max_wire_bytes;		/* every body held, after compression */
	int64_t flush_interval_ms;
	int compression;		/* enum batch_comp */
	int64_t commit_poll_ms;
	int64_t clock_sync_wait_s;	/* at start, wait this long for a synchronised clock */
	int64_t unsynced_hold_s;	/* hold this boot's unsynced records for a correction */
	char metrics_file[PATH_MAX];
	char user_agent_app[128];
	char control_base[600];		/* derived: https://host[:port] of the account */
	uid_t sensord_uid;		/* derived: sensord_user's uid */
};

/* Loads and validates path into c. Returns 0, or -EINVAL / -errno with a
 * message naming the file and key in err. */
int config_load(const char *path, struct config *c, char *err, size_t errlen);
/* Checks every credential file (the config itself when it holds a PAT, the
 * key, the passphrase file): owned by the running user, no group/other
 * access. Returns 0 or -EPERM/-EACCES/-errno with the fix in err. */
int config_check_credentials(const struct config *c, char *err, size_t errlen);
/* True when key-pair (JWT) authentication is configured. */
bool config_uses_keypair(const struct config *c);
/* Prints c as JSON on out, every key with its value, the PAT redacted
 * (conf_print). 0 or -errno. */
int config_print(const struct config *c, FILE *out);

#endif
