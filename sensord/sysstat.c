/* SPDX-License-Identifier: Apache-2.0 */
/*
 * sysstat: each figure is read fresh per sample with small whole-file reads
 * (the files are tiny and the kernel generates them on read). The CPU
 * thermal zone is picked once at start by its type (cpu-thermal on a Pi,
 * x86_pkg_temp on a PC), falling back to zone 0. The boot id is read once
 * at start: it cannot change while the process lives.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "sysstat.h"

#define THERMAL "/sys/class/thermal"
#define MAX_ZONES 16
#define BOOT_ID "/proc/sys/kernel/random/boot_id"

struct sysstat {
	char disk_path[PATH_MAX];
	char temp_path[PATH_MAX];	/* "" when no zone */
	char boot_id[RECORD_BOOT_ID_LEN];	/* "" when it cannot be read */
	bool have_prev;
	uint64_t prev_total, prev_idle;
};

/* Reads a small proc/sys file into buf (NUL-terminated). */
static int
read_small(const char *path, char *buf, size_t cap)
{
	size_t len = 0;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	while (len + 1 < cap) {
		ssize_t n = read(fd, buf + len, cap - 1 - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			int r = -errno;
			close(fd);
			return r;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	close(fd);
	buf[len] = '\0';
	return 0;
}

static int
parse_u64(const char **p, uint64_t *ret)
{
	char *end;
	unsigned long long v;

	while (**p == ' ' || **p == '\t')
		(*p)++;
	if (**p < '0' || **p > '9')
		return -EINVAL;
	errno = 0;
	v = strtoull(*p, &end, 10);
	if (errno)
		return -errno;
	*p = end;
	*ret = v;
	return 0;
}

int
sysstat_parse_stat(const char *text, uint64_t *ret_total, uint64_t *ret_idle)
{
	uint64_t v[10] = { 0 }, total = 0;
	const char *p = text;
	int n = 0;

	if (strncmp(p, "cpu ", 4) != 0)
		return -EINVAL;
	p += 4;
	/* user nice system idle iowait irq softirq steal (guest counted in user) */
	while (n < 8 && parse_u64(&p, &v[n]) == 0)
		n++;
	if (n < 4)
		return -EINVAL;
	for (int i = 0; i < n; i++)
		total += v[i];
	*ret_total = total;
	*ret_idle = v[3] + v[4];
	return 0;
}

static int
meminfo_field(const char *text, const char *key, uint64_t *ret)
{
	const char *p = text;
	size_t kl = strlen(key);

	while (p && *p) {
		if (strncmp(p, key, kl) == 0 && p[kl] == ':') {
			p += kl + 1;
			return parse_u64(&p, ret);
		}
		p = strchr(p, '\n');
		if (p)
			p++;
	}
	return -ENOENT;
}

int
sysstat_parse_meminfo(const char *text, double *ret_used_pct)
{
	uint64_t total, avail;

	if (meminfo_field(text, "MemTotal", &total) < 0 ||
	    meminfo_field(text, "MemAvailable", &avail) < 0 || total == 0 || avail > total)
		return -EINVAL;
	*ret_used_pct = 100.0 * (double)(total - avail) / (double)total;
	return 0;
}

int
sysstat_parse_temp(const char *text, double *ret_c)
{
	char *end;
	long long v;

	errno = 0;
	v = strtoll(text, &end, 10);
	if (errno || end == text || (*end != '\n' && *end != '\0'))
		return -EINVAL;
	/* Beyond what any running board reports: a broken sensor, not a value. */
	if (v < -60000 || v > 150000)
		return -ERANGE;
	*ret_c = (double)v / 1000.0;
	return 0;
}

int
sysstat_parse_boot_id(const char *text, char *buf, size_t cap)
{
	static const char form[] = "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx";
	size_t n = sizeof(form) - 1;

	if (cap <= n || strlen(text) < n || (text[n] != '\0' && strcmp(text + n, "\n") != 0))
		return -EINVAL;
	for (size_t i = 0; i < n; i++)
		if (form[i] == '-' ? text[i] != '-' :
		    !isxdigit((unsigned char)text[i]) || isupper((unsigned char)text[i]))
			return -EINVAL;
	memcpy(buf, text, n);
	buf[n] = '\0';
	return 0;
}

static void
pick_zone(struct sysstat *s)
{
	char path[PATH_MAX], type[64];

	s->temp_path[0] = '\0';
	for (int i = 0; i < MAX_ZONES; i++) {
		snprintf(path, sizeof(path), THERMAL "/thermal_zone%d/type", i);
		if (read_small(path, type, sizeof(type)) < 0)
			continue;
		if (!s->temp_path[0] || strncmp(type, "cpu", 3) == 0 ||
		    strncmp(type, "x86_pkg_temp", 12) == 0 || strstr(type, "soc")) {
			snprintf(s->temp_path, sizeof(s->temp_path),
			    THERMAL "/thermal_zone%d/temp", i);
			if (strncmp(type, "cpu", 3) == 0 || strncmp(type, "x86_pkg", 7) == 0)
				return;
		}
	}
}

int
sysstat_new(const char *disk_path, struct sysstat **ret)
{
	struct sysstat *s = calloc(1, sizeof(*s));
	char buf[64];

	if (!s)
		return -ENOMEM;
	snprintf(s->disk_path, sizeof(s->disk_path), "%s", disk_path);
	pick_zone(s);
	if (read_small(BOOT_ID, buf, sizeof(buf)) < 0 ||
	    sysstat_parse_boot_id(buf, s->boot_id, sizeof(s->boot_id)) < 0)
		s->boot_id[0] = '\0';
	*ret = s;
	return 0;
}

const char *
sysstat_boot_id(const struct sysstat *s)
{
	return s->boot_id[0] ? s->boot_id : NULL;
}

void
sysstat_free(struct sysstat *s)
{
	free(s);
}

void
sysstat_sample(struct sysstat *s, struct rec_sys *out)
{
	char buf[4096];
	uint64_t total, idle;
	struct statvfs vfs;

	memset(out, 0, sizeof(*out));
	if (s->temp_path[0] && read_small(s->temp_path, buf, sizeof(buf)) == 0 &&
	    sysstat_parse_temp(buf, &out->cpu_t) == 0)
		out->has_cpu_t = true;
	if (read_small("/proc/stat", buf, sizeof(buf)) == 0 &&
	    sysstat_parse_stat(buf, &total, &idle) == 0) {
		if (s->have_prev && total > s->prev_total && idle >= s->prev_idle &&
		    idle - s->prev_idle <= total - s->prev_total) {
			out->cpu = 100.0 * (double)((total - s->prev_total) - (idle - s->prev_idle)) /
			    (double)(total - s->prev_total);
			out->has_cpu = true;
		}
		if (!s->have_prev || total > s->prev_total) {
			s->prev_total = total;
			s->prev_idle = idle;
			s->have_prev = true;
		}
	}
	if (read_small("/proc/meminfo", buf, sizeof(buf)) == 0 &&
	    sysstat_parse_meminfo(buf, &out->mem) == 0)
		out->has_mem = true;
	if (statvfs(s->disk_path, &vfs) == 0) {
		out->disk_free_mb = (uint64_t)vfs.f_bavail * vfs.f_frsize / (1024 * 1024);
		out->has_disk = true;
	}
}
