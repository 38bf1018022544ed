/* SPDX-License-Identifier: Apache-2.0 */
/*
 * config: the table is the documentation of every key sensord accepts; the
 * example config/sensord.json mirrors it. Checks that involve two keys
 * (journal sizes, the socket mode string, the per-uid client cap) run
 * after the table pass so a message can still name the key at fault.
 * User and group names are resolved at start-up (main.c), not here: a
 * config is checked the same way on a machine that lacks the users.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"

static const char *const fsync_choices[] = { "always", "interval", "never", NULL };

static const struct conf_key journal_keys[] = {
	CONF_K_INT("max_bytes", struct config_journal, max_bytes, 64 * 1024,
	    INT64_C(1) << 40, 256 * 1024 * 1024, 0),
	CONF_K_INT("max_age_days", struct config_journal, max_age_days, 0, 3650, 30, 0),
	CONF_K_ENUM("fsync", struct config_journal, fsync, fsync_choices,
	    CONFIG_FSYNC_ALWAYS, 0),
	CONF_K_INT("fsync_interval_ms", struct config_journal, fsync_interval_ms, 10,
	    600000, 1000, 0),
	CONF_K_INT("segment_bytes", struct config_journal, segment_bytes, 4096,
	    256 * 1024 * 1024, 1024 * 1024, 0),
	CONF_K_END,
};

const struct conf_key config_keys[] = {
	CONF_K_STR("bus", struct config, bus, "/dev/i2c-1", 0),
	CONF_K_STR("device", struct config, device, NULL, 0),
	CONF_K_INT("interval_ms", struct config, interval_ms, 10, 3600000, 5000, 0),
	CONF_K_STR("socket", struct config, socket, "/run/snowsense/sensord.sock", 0),
	CONF_K_STR("socket_mode", struct config, socket_mode, "0660", 0),
	CONF_K_STR("socket_group", struct config, socket_group, NULL, 0),
	CONF_K_STR("streamer_user", struct config, streamer_user, "streamerd", 0),
	CONF_K_STRLIST("allowed_users", struct config, allowed_users, 0),
	CONF_K_STRLIST("allowed_groups", struct config, allowed_groups, 0),
	CONF_K_INTLIST("allowed_uids", struct config, allowed_uids, 0, UINT32_MAX - 1, 0),
	CONF_K_INTLIST("allowed_gids", struct config, allowed_gids, 0, UINT32_MAX - 1, 0),
	CONF_K_INT("max_clients", struct config, max_clients, 2, 1024, 128, 0),
	CONF_K_INT("max_clients_per_uid", struct config, max_clients_per_uid, 1, 1023, 32, 0),
	CONF_K_STR("state_dir", struct config, state_dir, "/var/lib/snowsense/sensord",
	    0),
	CONF_K_SUB("journal", struct config, journal, journal_keys, 0),
	CONF_K_STR("user", struct config, user, "snowsense", 0),
	CONF_K_STR("group", struct config, group, "snowsense", 0),
	CONF_K_STR("disk_path", struct config, disk_path, "/", 0),
	CONF_K_STR("metrics_file", struct config, metrics_file, NULL, 0),
	CONF_K_SUB("scd4x", struct config, sensors.scd4x, scd4x_conf_keys, 0),
	CONF_K_SUB("sgp30", struct config, sensors.sgp30, sgp30_conf_keys, 0),
	CONF_K_SUB("icp10125", struct config, sensors.icp10125, icp10125_conf_keys, 0),
	CONF_K_ENUM("require", struct config, sensors.require, sensors_require_choices,
	    REQUIRE_SCD4X_OR_ICP, 0),
	CONF_K_END,
};

/* The device id goes into every record, row and log line as it is: a
 * newline or an escape in it would forge log lines or break a terminal. */
static int
check_device(const char *name, const struct config *c, char *err, size_t errlen)
{
	for (size_t i = 0; c->device[i]; i++) {
		unsigned char ch = (unsigned char)c->device[i];

		if (ch < 0x20 || ch == 0x7f) {
			snprintf(err, errlen, "%s: \"device\": expected printable characters, got "
			    "control character 0x%02x at byte %zu", name, ch, i);
			return -EINVAL;
		}
	}
	return 0;
}

static int
check(const char *name, struct config *c, char *err, size_t errlen)
{
	char *end;
	long mode;

	errno = 0;
	mode = strtol(c->socket_mode, &end, 8);
	if (errno || end == c->socket_mode || *end || mode < 0 || mode > 0777 ||
	    (mode & 0600) != 0600) {
		snprintf(err, errlen, "%s: \"socket_mode\": expected an octal mode 0600..0777 "
		    "with owner read and write, got \"%s\"", name, c->socket_mode);
		return -EINVAL;
	}
	c->socket_mode_bits = (unsigned)mode;
	if (c->journal.max_bytes < 2 * c->journal.segment_bytes) {
		snprintf(err, errlen, "%s: \"journal.max_bytes\": expected at least twice "
		    "journal.segment_bytes (%lld), got %lld", name,
		    (long long)c->journal.segment_bytes, (long long)c->journal.max_bytes);
		return -EINVAL;
	}
	/* Absolute: the daemon changes to / when it detaches. */
	if (c->state_dir[0] != '/' || c->socket[0] != '/' || c->disk_path[0] != '/' ||
	    (c->metrics_file[0] && c->metrics_file[0] != '/')) {
		snprintf(err, errlen, "%s: \"%s\": expected an absolute path", name,
		    c->state_dir[0] != '/' ? "state_dir" : c->socket[0] != '/' ? "socket" :
		    c->disk_path[0] != '/' ? "disk_path" : "metrics_file");
		return -EINVAL;
	}
	/* Room for the streamer: one uid alone never fills the server. */
	if (c->max_clients_per_uid >= c->max_clients) {
		snprintf(err, errlen, "%s: \"max_clients_per_uid\": expected less than "
		    "max_clients (%lld), got %lld", name, (long long)c->max_clients,
		    (long long)c->max_clients_per_uid);
		return -EINVAL;
	}
	if (!c->device[0] && gethostname(c->device, sizeof(c->device)) < 0) {
		snprintf(err, errlen, "%s: \"device\" not set and the hostname cannot be "
		    "read: %s", name, strerror(errno));
		return -errno;
	}
	c->device[sizeof(c->device) - 1] = '\0';
	return check_device(name, c, err, errlen);
}

int
config_load_string(const char *name, const char *text, size_t len, struct config *c,
    char *err, size_t errlen)
{
	struct config tmp;
	int r;

	r = conf_load_string(name, text, len, config_keys, &tmp, err, errlen);
	if (r == 0)
		r = check(name, &tmp, err, errlen);
	if (r == 0)
		*c = tmp;
	return r;
}

int
config_load(const char *path, struct config *c, char *err, size_t errlen)
{
	struct config tmp;
	int r;

	r = conf_load(path, config_keys, &tmp, err, errlen);
	if (r == 0)
		r = check(path, &tmp, err, errlen);
	if (r == 0)
		*c = tmp;
	return r;
}
