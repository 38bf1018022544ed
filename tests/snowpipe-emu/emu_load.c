/* SPDX-License-Identifier: Apache-2.0 */
/*
 * emu-load: a load generator for snowpipe-emu (and the benchmark). It
 * exchanges a PAT for a scoped token, opens N channels, builds one batch of
 * unique ~700-byte NDJSON rows, compresses it once, and keeps every channel
 * busy appending that batch over keep-alive HTTPS (libcurl multi) for a
 * given time. Prints one JSON line with rows/s; exit 0 when every append was
 * answered 200.
 */
#include <errno.h>
#include <stdint.h>
#include <unistd.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>
#include <zlib.h>
#include <zstd.h>

#include "clock.h"
#include "fsutil.h"
#include "log.h"

struct lopts {
	const char *url, *cacert, *pat_file, *enc, *db, *schema, *pipe;
	long rows, row_bytes, channels;
	double seconds;
};

struct chan {
	CURL *h;
	struct curl_slist *hdrs;
	char name[64], ct[64], resp[4096];
	size_t resp_len;
	long n;
};

static void
usage(FILE *f)
{
	fprintf(f, "usage: emu-load --url URL --cacert FILE --pat-file FILE [--seconds S]\n"
	    "                [--rows N] [--row-bytes B] [--encoding zstd|gzip|none]\n"
	    "                [--channels N] [--db D --schema S --pipe P]\n");
}

static long
num(const char *s, long lo, long hi)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || v < lo || v > hi)
		fatalx_code(EXIT_USAGE, "bad number %s (%ld..%ld)", s, lo, hi);
	return v;
}

static void
parse(int argc, char **argv, struct lopts *o)
{
	static const struct option lo[] = {
		{ "url", required_argument, NULL, 'u' }, { "cacert", required_argument, NULL, 'c' },
		{ "pat-file", required_argument, NULL, 'p' }, { "seconds", required_argument, NULL, 's' },
		{ "rows", required_argument, NULL, 'r' }, { "row-bytes", required_argument, NULL, 'b' },
		{ "encoding", required_argument, NULL, 'e' },
		{ "channels", required_argument, NULL, 'n' }, { "db", required_argument, NULL, 'D' },
		{ "schema", required_argument, NULL, 'S' }, { "pipe", required_argument, NULL, 'P' },
		{ "help", no_argument, NULL, 'h' }, { NULL, 0, NULL, 0 },
	};
	int c;

	*o = (struct lopts){ .enc = "zstd", .db = "DEMO_DB", .schema = "DEMO_SCHEMA",
		.pipe = "THERMAL_SENSOR_PIPE", .rows = 2000, .row_bytes = 700, .channels = 2,
		.seconds = 5 };
	while ((c = getopt_long(argc, argv, "h", lo, NULL)) != -1) {
		switch (c) {
		case 'u': o->url = optarg; break;
		case 'c': o->cacert = optarg; break;
		case 'p': o->pat_file = optarg; break;
		case 's': o->seconds = (double)num(optarg, 1, 3600); break;
		case 'r': o->rows = num(optarg, 1, 1000000); break;
		case 'b': o->row_bytes = num(optarg, 200, 100000); break;
		case 'e': o->enc = optarg; break;
		case 'n': o->channels = num(optarg, 1, 64); break;
		case 'D': o->db = optarg; break;
		case 'S': o->schema = optarg; break;
		case 'P': o->pipe = optarg; break;
		case 'h': usage(stdout); exit(0);
		default: usage(stderr); exit(EXIT_USAGE);
		}
	}
	if (o->url == NULL || o->pat_file == NULL) {
		usage(stderr);
		exit(EXIT_USAGE);
	}
	if (strcmp(o->enc, "zstd") != 0 && strcmp(o->enc, "gzip") != 0 &&
	    strcmp(o->enc, "none") != 0)
		fatalx_code(EXIT_USAGE, "--encoding: zstd, gzip or none");
}

static size_t
collect(char *p, size_t sz, size_t n, void *arg)
{
	struct chan *c = arg;
	size_t len = sz * n, room = sizeof(c->resp) - 1 - c->resp_len;

	memcpy(c->resp + c->resp_len, p, len < room ? len : room);
	c->resp_len += len < room ? len : room;
	c->resp[c->resp_len] = '\0';
	return len;
}

static void
setup(CURL *h, const struct lopts *o, struct chan *c)
{
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, collect);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, c);
	if (o->cacert)
		curl_easy_setopt(h, CURLOPT_CAINFO, o->cacert);
	curl_easy_setopt(h, CURLOPT_TIMEOUT, 60L);
}

/* One blocking request used during set-up; returns the HTTP status. */
static long
simple(const struct lopts *o, struct chan *c, const char *method, const char *path,
    const char *auth, const char *ctype, const char *body)
{
	char url[1024], a[4096], ct[128];
	struct curl_slist *h = NULL;
	long code = 0;

	snprintf(url, sizeof(url), "%s%s", o->url, path);
	snprintf(a, sizeof(a), "Authorization: Bearer %s", auth);
	snprintf(ct, sizeof(ct), "Content-Type: %s", ctype);
	h = curl_slist_append(h, a);
	h = curl_slist_append(h, ct);
	h = curl_slist_append(h, "Accept: application/json");
	c->resp_len = 0;
	c->resp[0] = '\0';
	curl_easy_setopt(c->h, CURLOPT_URL, url);
	curl_easy_setopt(c->h, CURLOPT_CUSTOMREQUEST, method);
	curl_easy_setopt(c->h, CURLOPT_HTTPHEADER, h);
	curl_easy_setopt(c->h, CURLOPT_POSTFIELDS, body);
	if (curl_easy_perform(c->h) == CURLE_OK)
		curl_easy_getinfo(c->h, CURLINFO_RESPONSE_CODE, &code);
	curl_easy_setopt(c->h, CURLOPT_CUSTOMREQUEST, NULL);
	curl_easy_setopt(c->h, CURLOPT_HTTPHEADER, NULL);
	curl_slist_free_all(h);
	return code;
}

static int
next_token(struct chan *c)
{
	const char *k = strstr(c->resp, "\"next_continuation_token\":\"");
	const char *e;

	if (k == NULL)
		return -EINVAL;
	k += strlen("\"next_continuation_token\":\"");
	e = strchr(k, '"');
	if (e == NULL || (size_t)(e - k) >= sizeof(c->ct))
		return -EINVAL;
	snprintf(c->ct, sizeof(c->ct), "%.*s", (int)(e - k), k);
	return 0;
}

/* Unique rows of about row_bytes each, shaped like the THERMAL table's. */
static char *
make_rows(const struct lopts *o, size_t *ret_len)
{
	size_t cap = (size_t)o->rows * ((size_t)o->row_bytes + 64), len = 0;
	char *buf = malloc(cap);
	uint64_t rng = 0x9e3779b97f4a7c15ULL;

	if (buf == NULL)
		fatalx("out of memory");
	for (long i = 0; i < o->rows; i++) {
		size_t start = len;
		int n = snprintf(buf + len, cap - len,
		    "{\"uuid\":\"%08lx-0000-4000-8000-%012lx\",\"rowid\":\"00000000000000ab-%020ld\","
		    "\"hostname\":\"bench-pi\",\"host\":\"bench\",\"ipaddress\":\"10.0.0.2\","
		    "\"macaddress\":\"dc:a6:32:00:00:01\",\"temperature\":%.2f,\"humidity\":%.2f,"
		    "\"co2\":%ld,\"equivalentco2ppm\":%ld,\"totalvocppb\":%ld,\"pressure\":%.1f,"
		    "\"cputempf\":%ld,\"temperatureicp\":%.2f,\"cpu\":%.1f,\"memory\":%.1f,"
		    "\"diskusage\":\"12000 MB\",\"runtime\":%ld,\"ts\":%ld,"
		    "\"systemtime\":\"01/01/2026 00:00:00\",\"starttime\":\"01/01/2026 00:00:00\","
		    "\"endtime\":\"%ld\",\"datetimestamp\":\"2026-01-01T00:00:00.000\","
		    "\"te\":\"0.0123\",\"seq\":%ld,\"device\":\"bench-pi\",\"synced\":true,"
		    "\"faults\":[],\"pad\":\"",
		    (unsigned long)i, (unsigned long)i * 7919, i, 20 + (i % 100) / 10.0,
		    40 + (i % 37) / 3.0, 400 + i % 800, 400 + i % 60, i % 300,
		    101325 + (i % 500) / 10.0, 100 + i % 50, 68 + (i % 41) / 7.0, (i % 100) / 3.0,
		    30 + (i % 70) / 2.0, i, 1767225600 + i, 1767225600 + i, i);

		if (n < 0 || (size_t)n >= cap - len)
			fatalx("row buffer");
		len += (size_t)n;
		/* pad to the row size with pseudo-random letters (xorshift), so
		 * the batch compresses like real, varied rows and not to nothing */
		while (len - start + 3 < (size_t)o->row_bytes && len + 3 < cap) {
			rng ^= rng << 13;
			rng ^= rng >> 7;
			rng ^= rng << 17;
			buf[len++] = (char)('a' + rng % 26);
		}
		buf[len++] = '"';
		buf[len++] = '}';
		buf[len++] = '\n';
	}
	*ret_len = len;
	return buf;
}

static char *
compress_body(const char *enc, const char *in, size_t len, size_t *ret_len)
{
	char *out;

	if (strcmp(enc, "zstd") == 0) {
		size_t cap = ZSTD_compressBound(len), n;

		out = malloc(cap);
		n = out ? ZSTD_compress(out, cap, in, len, 3) : 0;
		if (out == NULL || ZSTD_isError(n))
			fatalx("zstd");
		*ret_len = n;
		return out;
	}
	if (strcmp(enc, "gzip") == 0) {
		z_stream z = { 0 };
		size_t cap = compressBound((uLong)len) + 64;

		out = malloc(cap);
		if (out == NULL || deflateInit2(&z, 6, Z_DEFLATED, 15 + 16, 8,
		    Z_DEFAULT_STRATEGY) != Z_OK)
			fatalx("gzip");
		z.next_in = (Bytef *)(uintptr_t)in;
		z.avail_in = (uInt)len;
		z.next_out = (Bytef *)out;
		z.avail_out = (uInt)cap;
		if (deflate(&z, Z_FINISH) != Z_STREAM_END)
			fatalx("gzip");
		*ret_len = cap - z.avail_out;
		deflateEnd(&z);
		return out;
	}
	out = malloc(len);
	if (out == NULL)
		fatalx("out of memory");
	memcpy(out, in, len);
	*ret_len = len;
	return out;
}

static void
start_append(CURLM *m, const struct lopts *o, struct chan *c, const char *body, size_t len)
{
	char url[1024];

	snprintf(url, sizeof(url), "%s/v2/streaming/data/databases/%s/schemas/%s/pipes/%s/"
	    "channels/%s/rows?continuationToken=%s&startOffsetToken=s%ld&endOffsetToken=e%ld",
	    o->url, o->db, o->schema, o->pipe, c->name, c->ct, c->n, c->n);
	c->resp_len = 0;
	c->resp[0] = '\0';
	curl_easy_setopt(c->h, CURLOPT_URL, url);
	curl_easy_setopt(c->h, CURLOPT_HTTPHEADER, c->hdrs);
	curl_easy_setopt(c->h, CURLOPT_POSTFIELDS, body);
	curl_easy_setopt(c->h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
	curl_multi_add_handle(m, c->h);
}

/* Exchanges the PAT and opens every channel; returns the scoped token (new). */
static char *
open_channels(const struct lopts *o, struct chan *ch, const char *pat)
{
	char form[1024], hdr[4096], host[512], *scoped;

	snprintf(host, sizeof(host), "%s", strstr(o->url, "://") ? strstr(o->url, "://") + 3 :
	    o->url);
	snprintf(form, sizeof(form), "grant_type=urn:ietf:params:oauth:grant-type:jwt-bearer"
	    "&scope=%s", host);
	if (simple(o, &ch[0], "POST", "/oauth/token", pat, "application/x-www-form-urlencoded",
	    form) != 200)
		fatalx("token exchange failed: %s", ch[0].resp);
	if ((scoped = strdup(ch[0].resp)) == NULL)
		fatalx("out of memory");
	for (long i = 0; i < o->channels; i++) {
		char path[512];

		snprintf(path, sizeof(path), "/v2/streaming/databases/%s/schemas/%s/pipes/%s/"
		    "channels/%s", o->db, o->schema, o->pipe, ch[i].name);
		if (simple(o, &ch[i], "PUT", path, scoped, "application/json", "{}") != 200 ||
		    next_token(&ch[i]) < 0)
			fatalx("open %s failed: %s", ch[i].name, ch[i].resp);
		snprintf(hdr, sizeof(hdr), "Authorization: Bearer %s", scoped);
		ch[i].hdrs = curl_slist_append(NULL, hdr);
		ch[i].hdrs = curl_slist_append(ch[i].hdrs, "Accept: application/json");
		ch[i].hdrs = curl_slist_append(ch[i].hdrs, "Content-Type: application/x-ndjson");
		ch[i].hdrs = curl_slist_append(ch[i].hdrs, "Expect:");
		if (strcmp(o->enc, "none") != 0) {
			snprintf(hdr, sizeof(hdr), "Content-Encoding: %s", o->enc);
			ch[i].hdrs = curl_slist_append(ch[i].hdrs, hdr);
		}
		curl_easy_setopt(ch[i].h, CURLOPT_CUSTOMREQUEST, NULL);
		curl_easy_setopt(ch[i].h, CURLOPT_POST, 1L);
	}
	return scoped;
}

/* One finished append: counts it and starts the next one before the deadline. */
static void
finished(CURLM *m, const struct lopts *o, struct chan *ch, CURLMsg *msg, const char *body,
    size_t len, int64_t deadline, long *running, long *done, long *failed)
{
	struct chan *c = NULL;
	long code = 0;

	for (long i = 0; i < o->channels; i++)
		if (ch[i].h == msg->easy_handle)
			c = &ch[i];
	if (c == NULL)
		return;
	curl_easy_getinfo(c->h, CURLINFO_RESPONSE_CODE, &code);
	curl_multi_remove_handle(m, c->h);
	(*running)--;
	if (msg->data.result != CURLE_OK || code != 200 || next_token(c) < 0) {
		log_warnx("%s: append failed (%ld): %.200s", c->name, code, c->resp);
		(*failed)++;
		return;
	}
	(*done)++;
	c->n++;
	if (clock_mono_ns() < deadline) {
		start_append(m, o, c, body, len);
		(*running)++;
	}
}

/* Keeps every channel appending body until the deadline; returns elapsed ns. */
static int64_t
run_load(const struct lopts *o, struct chan *ch, const char *body, size_t len, long *done,
    long *failed)
{
	CURLM *m = curl_multi_init();
	int64_t t0 = clock_mono_ns(), deadline = t0 + (int64_t)(o->seconds * 1e9);
	long running = 0;

	if (m == NULL)
		fatalx("out of memory");
	for (long i = 0; i < o->channels; i++, running++)
		start_append(m, o, &ch[i], body, len);
	while (running > 0) {
		CURLMsg *msg;
		int still, q;

		curl_multi_perform(m, &still);
		while ((msg = curl_multi_info_read(m, &q)) != NULL)
			if (msg->msg == CURLMSG_DONE)
				finished(m, o, ch, msg, body, len, deadline, &running, done, failed);
		if (running > 0)
			curl_multi_poll(m, NULL, 0, 100, NULL);
	}
	curl_multi_cleanup(m);
	return clock_mono_ns() - t0;
}

int
main(int argc, char **argv)
{
	struct lopts o;
	struct chan *ch;
	char *pat, *rows, *body, *scoped;
	size_t patlen, rows_len, body_len;
	long done = 0, failed = 0;
	double secs, nrows;

	log_init("emu-load", 1, 0);
	parse(argc, argv, &o);
	if (fs_read_all(o.pat_file, 4096, &pat, &patlen) < 0)
		fatal("%s", o.pat_file);
	while (patlen > 0 && (pat[patlen - 1] == '\n' || pat[patlen - 1] == ' '))
		pat[--patlen] = '\0';
	curl_global_init(CURL_GLOBAL_DEFAULT);
	ch = calloc((size_t)o.channels, sizeof(*ch));
	if (ch == NULL)
		fatalx("out of memory");
	for (long i = 0; i < o.channels; i++) {
		ch[i].h = curl_easy_init();
		setup(ch[i].h, &o, &ch[i]);
		snprintf(ch[i].name, sizeof(ch[i].name), "load-%ld-%ld", (long)getpid(), i);
	}
	scoped = open_channels(&o, ch, pat);
	rows = make_rows(&o, &rows_len);
	body = compress_body(o.enc, rows, rows_len, &body_len);
	secs = (double)run_load(&o, ch, body, body_len, &done, &failed) / 1e9;
	nrows = (double)done * (double)o.rows;
	printf("{\"bench\":\"emu-load\",\"encoding\":\"%s\",\"channels\":%ld,"
	    "\"rows_per_request\":%ld,\"row_bytes\":%.0f,\"requests\":%ld,\"failed\":%ld,"
	    "\"rows\":%.0f,\"seconds\":%.3f,\"rows_per_s\":%.0f,\"wire_bytes_per_request\":%zu,"
	    "\"uncompressed_mb_per_s\":%.1f}\n", o.enc, o.channels, o.rows,
	    (double)rows_len / (double)o.rows, done, failed, nrows, secs, nrows / secs,
	    body_len, (double)done * (double)rows_len / secs / 1e6);
	for (long i = 0; i < o.channels; i++) {
		curl_slist_free_all(ch[i].hdrs);
		curl_easy_cleanup(ch[i].h);
	}
	curl_global_cleanup();
	free(ch);
	free(rows);
	free(body);
	free(scoped);
	free(pat);
	return failed == 0 && done > 0 ? 0 : 1;
}
