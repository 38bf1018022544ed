/* SPDX-License-Identifier: Apache-2.0 */
/*
 * config: key table and cross-key validation. The prototype's config keys
 * are accepted unchanged so an existing snowflake_config.json works; the
 * secret keys are flagged so that no error message ever echoes a PAT.
 */
#include <ctype.h>
#include <errno.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "batch.h"
#include "conf.h"
#include "fsutil.h"
#include "config.h"

static const char *const comp_names[] = { "gzip", "zstd", "none", NULL };

#define S struct config
static const struct conf_key keys[] = {
	CONF_K_STR("pat", S, pat, "", CONF_SECRET),
	CONF_K_STR("private_key_file", S, private_key_file, "", 0),
	CONF_K_STR("private_key_passphrase_file", S, private_key_passphrase_file, "", 0),
	CONF_K_STR("user", S, user, "", 0),
	CONF_K_STR("account", S, account, "", 0),
	CONF_K_STR("role", S, role, "", 0),
	CONF_K_BOOL("scope_role", S, scope_role, false, 0),
	CONF_K_STR("database", S, database, "", CONF_REQUIRED),
	CONF_K_STR("schema", S, schema, "", CONF_REQUIRED),
	CONF_K_STR("pipe", S, pipe, "", 0),
	CONF_K_STR("table", S, table, "", 0),
	CONF_K_STR("channel_name", S, channel_name, "", 0),
	CONF_K_STR("url", S, url, "", 0),
	CONF_K_STR("account_url", S, account_url, "", 0),
	CONF_K_STR("ca_file", S, ca_file, "", 0),
	CONF_K_STR("socket", S, socket, CONFIG_DEFAULT_SOCKET, 0),
	CONF_K_STR("sensord_user", S, sensord_user, "snowsense", 0),
	CONF_K_INT("batch_max_rows", S, batch_max_rows, 1, 1000000, 100000, 0),
	CONF_K_INT("batch_max_bytes", S, batch_max_bytes, 4096, 256000000, 64000000, 0),
	CONF_K_INT("batch_max_wire_bytes", S, batch_max_wire_bytes, BATCH_WIRE_MIN,
	    BATCH_WIRE_MAX, BATCH_WIRE_DEFAULT, 0),
	CONF_K_INT("queue_max_wire_bytes", S, queue_max_wire_bytes, 2 * BATCH_WIRE_MIN,
	    64000000, BATCH_QUEUE_DEFAULT, 0),
	CONF_K_INT("flush_interval_ms", S, flush_interval_ms, 10, 600000, 1000, 0),
	CONF_K_ENUM("compression", S, compression, comp_names, BATCH_COMP_ZSTD, 0),
	CONF_K_INT("commit_poll_ms", S, commit_poll_ms, 100, 60000, 500, 0),
	CONF_K_INT("clock_sync_wait_s", S, clock_sync_wait_s, 0, 3600, 120, 0),
	CONF_K_INT("unsynced_hold_s", S, unsynced_hold_s, 0, 86400, 300, 0),
	CONF_K_STR("metrics_file", S, metrics_file, "", 0),
	CONF_K_STR("user_agent_app", S, user_agent_app, "snowsense", 0),
	CONF_K_END,
};
#undef S

bool
config_uses_keypair(const struct config *c)
{
	return c->private_key_file[0] != '\0';
}

/* https://host[:port] from a URL or bare host; false when it is not one. */
static bool
base_from(const char *in, char *out, size_t cap)
{
	const char *h = in;
	size_t n;

	if (strncmp(h, "https://", 8) == 0)
		h += 8;
	else if (strstr(h, "://") != NULL)
		return false;	/* TLS only: no http:// */
	n = strcspn(h, "/?#");
	if (n == 0 || n > 300)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!(isalnum((unsigned char)h[i]) || strchr("-._:[]", h[i]) != NULL))
			return false;
	snprintf(out, cap, "https://%.*s", (int)n, h);
	for (char *p = out + 8; *p != '\0'; p++)
		*p = *p == '_' ? '-' : (char)tolower((unsigned char)*p);
	return true;
}

/* The user that must serve sensord's socket, by name as sysusers.d names
 * it; resolved once at start, before the sandbox. */
static int
derive_sensord_uid(struct config *c, const char *name, char *err, size_t errlen)
{
	struct passwd *pw;

	errno = 0;
	pw = getpwnam(c->sensord_user);
	if (!pw) {
		snprintf(err, errlen, "%s: \"sensord_user\": user \"%s\" does not exist (the "
		    "user sensord runs as: create it with systemd-sysusers, or name that user)",
		    name, c->sensord_user);
		return -EINVAL;
	}
	c->sensord_uid = pw->pw_uid;
	return 0;
}

static int
derive(struct config *c, const char *name, char *err, size_t errlen)
{
	char host[300];

	if ((c->pat[0] != '\0') == (c->private_key_file[0] != '\0')) {
		snprintf(err, errlen, "%s: set exactly one of \"pat\" (programmatic access "
		    "token) or \"private_key_file\" (key-pair JWT)", name);
		return -EINVAL;
	}
	if (config_uses_keypair(c) && (c->user[0] == '\0' || c->account[0] == '\0')) {
		snprintf(err, errlen, "%s: key-pair authentication needs \"user\" and "
		    "\"account\"", name);
		return -EINVAL;
	}
	if (c->scope_role && c->role[0] == '\0') {
		snprintf(err, errlen, "%s: \"scope_role\": true needs \"role\"", name);
		return -EINVAL;
	}
	if (c->pipe[0] == '\0' && c->table[0] == '\0') {
		snprintf(err, errlen, "%s: set \"pipe\", or \"table\" to use its default pipe "
		    "<TABLE>-STREAMING", name);
		return -EINVAL;
	}
	if (c->pipe[0] == '\0')
		snprintf(c->pipe, sizeof(c->pipe), "%.200s-STREAMING", c->table);
	if (c->account_url[0] != '\0') {
		if (!base_from(c->account_url, c->control_base, sizeof(c->control_base))) {
			snprintf(err, errlen, "%s: \"account_url\": expected https://host[:port], "
			    "got \"%s\"", name, c->account_url);
			return -EINVAL;
		}
	} else if (c->url[0] != '\0') {
		if (!base_from(c->url, c->control_base, sizeof(c->control_base))) {
			snprintf(err, errlen, "%s: \"url\": expected https://host, got \"%s\"",
			    name, c->url);
			return -EINVAL;
		}
	} else if (c->account[0] != '\0') {
		snprintf(host, sizeof(host), "%.200s.snowflakecomputing.com", c->account);
		if (!base_from(host, c->control_base, sizeof(c->control_base))) {
			snprintf(err, errlen, "%s: \"account\": not a valid account identifier: "
			    "\"%s\"", name, c->account);
			return -EINVAL;
		}
	} else {
		snprintf(err, errlen, "%s: set \"account\" (or \"url\"/\"account_url\") so the "
		    "account host is known", name);
		return -EINVAL;
	}
	return derive_sensord_uid(c, name, err, errlen);
}

int
config_load(const char *path, struct config *c, char *err, size_t errlen)
{
	const char *name = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
	int r;

	memset(c, 0, sizeof(*c));
	if ((r = conf_load(path, keys, c, err, errlen)) < 0)
		return r;
	snprintf(c->path, sizeof(c->path), "%s", path);
	return derive(c, name, err, errlen);
}

static int
check_one(const char *what, const char *path, char *err, size_t errlen)
{
	mode_t mode = 0;
	uid_t uid = 0;
	struct passwd *pw;
	const char *me;
	int r = fs_check_private(path, &mode, &uid);

	if (r == 0)
		return 0;
	pw = getpwuid(geteuid());
	me = pw ? pw->pw_name : "streamerd";
	if (r == -EPERM)
		snprintf(err, errlen, "%s %s is owned by uid %u, not by streamerd's user %s "
		    "(uid %u); run: chown %s %s", what, path, (unsigned)uid, me,
		    (unsigned)geteuid(), me, path);
	else if (r == -EACCES)
		snprintf(err, errlen, "%s %s has mode %04o: group/other may access it; "
		    "run: chmod 600 %s", what, path, (unsigned)mode, path);
	else if (r == -EINVAL)
		snprintf(err, errlen, "%s %s is not a regular file", what, path);
	else
		snprintf(err, errlen, "%s %s: %s", what, path, strerror(-r));
	return r;
}

int
config_check_credentials(const struct config *c, char *err, size_t errlen)
{
	int r;

	if (c->pat[0] != '\0' &&
	    (r = check_one("config file (it holds \"pat\")", c->path, err, errlen)) < 0)
		return r;
	if (c->private_key_file[0] != '\0' &&
	    (r = check_one("private key", c->private_key_file, err, errlen)) < 0)
		return r;
	if (c->private_key_passphrase_file[0] != '\0' &&
	    (r = check_one("passphrase file", c->private_key_passphrase_file, err, errlen)) < 0)
		return r;
	return 0;
}

int
config_print(const struct config *c, FILE *out)
{
	return conf_print(out, c->path, keys, c);
}
