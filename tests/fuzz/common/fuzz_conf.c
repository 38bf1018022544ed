/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer target for the config loader: any bytes give either a loaded
 * config or an error message that names the file; never a crash, and the
 * message is always NUL-terminated within its buffer; a loaded config dumps
 * (conf_dump) into text that loads back, secret redacted.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "conf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct inner {
	bool on;
	double offset;
	int64_t alt;
};

struct cfg {
	int64_t rows;
	double interval;
	char name[16];
	char pat[128];
	int mode;
	bool flag;
	struct conf_int_list uids;
	struct inner a, b;
};

static const char *const modes[] = { "always", "interval", "never", NULL };

static const struct conf_key inner_keys[] = {
	CONF_K_BOOL("enabled", struct inner, on, 1, 0),
	CONF_K_DOUBLE("temperature_offset", struct inner, offset, -10, 10, 4.0, 0),
	CONF_K_INT("altitude", struct inner, alt, -500, 9000, 0, 0),
	CONF_K_END,
};

static const struct conf_key keys[] = {
	CONF_K_INT("batch_max_rows", struct cfg, rows, 1, 100000, 500, 0),
	CONF_K_DOUBLE("interval", struct cfg, interval, 0.1, 3600, 5, 0),
	CONF_K_STR("device", struct cfg, name, NULL, 0),
	CONF_K_STR("pat", struct cfg, pat, NULL, CONF_SECRET),
	CONF_K_ENUM("fsync", struct cfg, mode, modes, 0, 0),
	CONF_K_BOOL("flag", struct cfg, flag, 0, 0),
	CONF_K_INTLIST("allowed_uids", struct cfg, uids, 0, 65535, 0),
	CONF_K_SUB("scd4x", struct cfg, a, inner_keys, 0),
	CONF_K_SUB("icp10125", struct cfg, b, inner_keys, CONF_REQUIRED),
	CONF_K_END,
};

/* A loaded config dumps, the dump loads back with the secret redacted, and
 * dumping that gives the same text. */
static void
check_dump(const struct cfg *c)
{
	struct cfg back;
	char err[256], *s = NULL, *s2 = NULL;

	if (conf_dump("fuzz.json", keys, c, &s) < 0)
		abort();
	if (conf_load_string("dump", s, strlen(s), keys, &back, err, sizeof(err)) < 0)
		abort();
	if (back.pat[0] != '\0' && strcmp(back.pat, CONF_REDACTED) != 0)
		abort();
	memcpy(back.pat, c->pat, sizeof(back.pat));
	if (conf_dump("fuzz.json", keys, &back, &s2) < 0 || strcmp(s, s2) != 0)
		abort();
	free(s);
	free(s2);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cfg c;
	char err[256];

	memset(err, 'x', sizeof(err));
	if (conf_load_string("fuzz.json", (const char *)data, size, keys, &c, err,
	    sizeof(err)) < 0) {
		if (!memchr(err, '\0', sizeof(err)) || strncmp(err, "fuzz.json", 9) != 0)
			abort();
	} else if (c.uids.n > CONF_LIST_MAX || c.rows < 1 || c.mode < 0 || c.mode > 2) {
		abort();
	} else {
		check_dump(&c);
	}
	return 0;
}
