/*
 * row: record -> NDJSON row. Written by hand into a caller buffer (no JSON
 * library) because it runs once per record during a backlog drain and must
 * stay cheap; every string that came from outside (device, faults, host) goes
 * through the escaper. Formats follow SCHEMA.md exactly; a value the record
 * does not carry is written as null, never as 0 or a sentinel.
 */
#include <errno.h>
#include <ifaddrs.h>
#include <inttypes.h>
#include <math.h>
#include <net/if.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <netpacket/packet.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/sha.h>

#include "row.h"

/* A bounded writer: once it overflows it stays overflowed and writes nothing. */
struct sb {
	char *p;
	size_t len, cap;
	bool over;
};

static void
sb_add(struct sb *b, const char *s, size_t n)
{
	if (b->over || b->len + n + 1 > b->cap) {
		b->over = true;
		return;
	}
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
}

static void
sb_str(struct sb *b, const char *s)
{
	sb_add(b, s, strlen(s));
}

static void __attribute__((format(printf, 2, 3)))
sb_fmt(struct sb *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (b->over)
		return;
	va_start(ap, fmt);
	n = vsnprintf(b->p + b->len, b->cap - b->len, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= b->cap - b->len) {
		b->over = true;
		return;
	}
	b->len += (size_t)n;
}

/* JSON string with RFC 8259 escaping of quote, backslash and controls;
 * bytes >= 0x80 pass through as UTF-8. */
static void
sb_jstr(struct sb *b, const char *s)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *u = (const unsigned char *)s;
	size_t run = 0;

	sb_add(b, "\"", 1);
	for (size_t i = 0; u[i] != '\0'; i++) {
		unsigned char c = u[i];
		char esc[7];

		if (c >= 0x20 && c != '"' && c != '\\') {
			run++;
			continue;
		}
		sb_add(b, s + i - run, run);
		run = 0;
		if (c == '"' || c == '\\') {
			esc[0] = '\\';
			esc[1] = (char)c;
			sb_add(b, esc, 2);
		} else {
			memcpy(esc, "\\u00", 4);
			esc[4] = hex[c >> 4];
			esc[5] = hex[c & 15];
			sb_add(b, esc, 6);
		}
	}
	sb_add(b, s + strlen(s) - run, run);
	sb_add(b, "\"", 1);
}

static void
sb_key(struct sb *b, const char *k)
{
	if (b->len > 0 && b->p[b->len - 1] != '{')
		sb_add(b, ",", 1);
	sb_add(b, "\"", 1);
	sb_str(b, k);
	sb_add(b, "\":", 2);
}

/* A finite double as JSON; anything else (NaN, inf) is null. */
static void
sb_num(struct sb *b, const char *k, bool have, double v)
{
	sb_key(b, k);
	if (!have || !isfinite(v))
		sb_str(b, "null");
	else
		sb_fmt(b, "%.10g", v);
}

static void
sb_strval(struct sb *b, const char *k, const char *v)
{
	sb_key(b, k);
	if (v == NULL || v[0] == '\0')
		sb_str(b, "null");
	else
		sb_jstr(b, v);
}

void
row_offset_token(uint64_t journal_id, uint64_t seq, char buf[ROW_OFFSET_TOKEN_LEN])
{
	snprintf(buf, ROW_OFFSET_TOKEN_LEN, "%016" PRIx64 "-%020" PRIu64, journal_id, seq);
}

int
row_parse_offset_token(const char *tok, uint64_t *ret_journal_id, uint64_t *ret_seq)
{
	uint64_t jid = 0, seq = 0;

	if (tok == NULL || strlen(tok) != ROW_OFFSET_TOKEN_LEN - 1 || tok[16] != '-')
		return -EINVAL;
	for (int i = 0; i < 16; i++) {
		char c = tok[i];
		unsigned v;

		if (c >= '0' && c <= '9')
			v = (unsigned)(c - '0');
		else if (c >= 'a' && c <= 'f')
			v = (unsigned)(c - 'a' + 10);
		else
			return -EINVAL;
		jid = jid << 4 | v;
	}
	for (int i = 17; i < ROW_OFFSET_TOKEN_LEN - 1; i++) {
		unsigned d;

		if (tok[i] < '0' || tok[i] > '9')
			return -EINVAL;
		d = (unsigned)(tok[i] - '0');
		if (seq > (UINT64_MAX - d) / 10)
			return -EINVAL;
		seq = seq * 10 + d;
	}
	*ret_journal_id = jid;
	*ret_seq = seq;
	return 0;
}

/* A name-based UUID (version 8, RFC 9562 "custom") from SHA-256 of the
 * offset token, so the same record always gets the same uuid. */
static void
row_uuid(const char *token, char out[37])
{
	unsigned char h[SHA256_DIGEST_LENGTH];

	SHA256((const unsigned char *)token, strlen(token), h);
	h[6] = (unsigned char)((h[6] & 0x0f) | 0x80);
	h[8] = (unsigned char)((h[8] & 0x3f) | 0x80);
	snprintf(out, 37,
	    "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
	    h[0], h[1], h[2], h[3], h[4], h[5], h[6], h[7], h[8], h[9], h[10], h[11],
	    h[12], h[13], h[14], h[15]);
}

static void
sb_times(struct sb *b, int64_t t_ns)
{
	time_t secs = (time_t)(t_ns >= 0 ? t_ns / 1000000000 : -((-t_ns + 999999999) / 1000000000));
	long ms = (long)((t_ns - (int64_t)secs * 1000000000) / 1000000);
	struct tm tm;
	char us[64], iso[96];

	if (gmtime_r(&secs, &tm) == NULL) {
		const char *k[] = { "ts", "systemtime", "starttime", "endtime", "datetimestamp" };

		for (size_t i = 0; i < sizeof(k) / sizeof(k[0]); i++) {
			sb_key(b, k[i]);
			sb_str(b, "null");
		}
		return;
	}
	strftime(us, sizeof(us), "%m/%d/%Y %H:%M:%S", &tm);
	snprintf(iso, sizeof(iso), "%04d-%02d-%02dT%02d:%02d:%02d.%03ld",
	    tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, ms);
	sb_key(b, "ts");
	sb_fmt(b, "%lld", (long long)secs);
	sb_strval(b, "systemtime", us);
	sb_strval(b, "starttime", us);
	sb_key(b, "endtime");
	sb_fmt(b, "\"%lld\"", (long long)secs);
	sb_strval(b, "datetimestamp", iso);
}

static double
c_to_f(double c)
{
	return c * 9.0 / 5.0 + 32.0;
}

static void
row_extras(struct sb *b, const struct record *r, uint64_t journal_id)
{
	char jid[17];

	snprintf(jid, sizeof(jid), "%016" PRIx64, journal_id);
	sb_key(b, "seq");
	sb_fmt(b, "%" PRIu64, r->seq);
	sb_strval(b, "device", r->device);
	sb_key(b, "synced");
	sb_str(b, r->synced ? "true" : "false");
	sb_key(b, "sgp30_warmup");
	sb_str(b, !r->has_sgp30 ? "null" : r->sgp30.warmup ? "true" : "false");
	sb_key(b, "sgp30_baseline_ok");
	sb_str(b, !r->has_sgp30 ? "null" : r->sgp30.baseline_ok ? "true" : "false");
	sb_key(b, "faults");
	sb_add(b, "[", 1);
	for (unsigned i = 0; i < r->nfaults && i < RECORD_MAX_FAULTS; i++) {
		if (i > 0)
			sb_add(b, ",", 1);
		sb_jstr(b, r->faults[i]);
	}
	sb_add(b, "]", 1);
	sb_key(b, "t_ns");
	sb_fmt(b, "%" PRId64, r->t);
	sb_strval(b, "journal_id", jid);
}

int
row_format(const struct record *r, uint64_t journal_id, const struct row_host *h,
    int64_t now_ns, char *buf, size_t cap, size_t *ret_len)
{
	struct sb b = { .p = buf, .cap = cap };
	char tok[ROW_OFFSET_TOKEN_LEN], uuid[37], disk[32];
	bool sgp = r->has_sgp30 && !r->sgp30.warmup;
	const struct rec_sys *s = &r->sys;

	if (cap == 0)
		return -ENOSPC;
	buf[0] = '\0';
	row_offset_token(journal_id, r->seq, tok);
	row_uuid(tok, uuid);
	sb_add(&b, "{", 1);
	sb_strval(&b, "uuid", uuid);
	sb_strval(&b, "rowid", tok);
	sb_strval(&b, "hostname", r->device);
	sb_strval(&b, "host", h->host);
	sb_strval(&b, "ipaddress", h->ip);
	sb_strval(&b, "macaddress", h->mac);
	sb_num(&b, "temperature", r->has_scd4x, r->scd4x.t);
	sb_num(&b, "humidity", r->has_scd4x, r->scd4x.rh);
	sb_num(&b, "co2", r->has_scd4x, r->scd4x.co2);
	/* During warm-up the SGP30 returns fixed constants, not measurements. */
	sb_num(&b, "equivalentco2ppm", sgp, r->sgp30.eco2);
	sb_num(&b, "totalvocppb", sgp, r->sgp30.tvoc);
	sb_num(&b, "pressure", r->has_icp10125, r->icp10125.p);
	sb_key(&b, "cputempf");
	if (s->has_cpu_t && isfinite(s->cpu_t))
		sb_fmt(&b, "%ld", lround(c_to_f(s->cpu_t)));
	else
		sb_str(&b, "null");
	sb_num(&b, "temperatureicp", r->has_icp10125, c_to_f(r->icp10125.t));
	sb_num(&b, "cpu", s->has_cpu, s->cpu);
	sb_num(&b, "memory", s->has_mem, s->mem);
	snprintf(disk, sizeof(disk), "%" PRIu64 " MB", s->disk_free_mb);
	sb_strval(&b, "diskusage", s->has_disk ? disk : NULL);
	sb_key(&b, "runtime");
	sb_fmt(&b, "%" PRIu64, r->boot_ns / 1000000000u);
	sb_times(&b, r->t);
	sb_key(&b, "te");
	sb_fmt(&b, "\"%.4f\"", (double)(now_ns > r->t ? now_ns - r->t : 0) / 1e9);
	row_extras(&b, r, journal_id);
	sb_add(&b, "}\n", 2);
	if (b.over)
		return -ENOSPC;
	*ret_len = b.len;
	return 0;
}

void
row_host_probe(struct row_host *h)
{
	struct ifaddrs *ifa = NULL;
	char ifname[IF_NAMESIZE + 1] = "";

	memset(h, 0, sizeof(*h));
	if (gethostname(h->host, sizeof(h->host) - 1) < 0)
		h->host[0] = '\0';
	if (getifaddrs(&ifa) < 0)
		return;
	for (struct ifaddrs *i = ifa; i != NULL; i = i->ifa_next) {
		if (i->ifa_addr == NULL || i->ifa_addr->sa_family != AF_INET ||
		    (i->ifa_flags & IFF_LOOPBACK) || !(i->ifa_flags & IFF_UP))
			continue;
		inet_ntop(AF_INET, &((struct sockaddr_in *)(void *)i->ifa_addr)->sin_addr,
		    h->ip, sizeof(h->ip));
		snprintf(ifname, sizeof(ifname), "%s", i->ifa_name);
		break;
	}
	for (struct ifaddrs *i = ifa; ifname[0] != '\0' && i != NULL; i = i->ifa_next) {
		const struct sockaddr_ll *ll;

		if (i->ifa_addr == NULL || i->ifa_addr->sa_family != AF_PACKET ||
		    strcmp(i->ifa_name, ifname) != 0)
			continue;
		ll = (const struct sockaddr_ll *)(const void *)i->ifa_addr;
		if (ll->sll_halen == 6)
			snprintf(h->mac, sizeof(h->mac), "%02x:%02x:%02x:%02x:%02x:%02x",
			    ll->sll_addr[0], ll->sll_addr[1], ll->sll_addr[2],
			    ll->sll_addr[3], ll->sll_addr[4], ll->sll_addr[5]);
		break;
	}
	freeifaddrs(ifa);
}
