/* SPDX-License-Identifier: Apache-2.0 */
/*
 * promfile: the file is kept as read; a sample is its name's and its label
 * set's place in it and the parsed value. Label values are unescaped only
 * when asked for.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "promfile.h"

struct sample {
	size_t name, name_len;		/* in text */
	size_t labels, labels_len;	/* between the braces; 0 long: none */
	double v;
};

struct promfile {
	char *text;
	size_t len, n;
	struct sample s[PROMFILE_MAX_SAMPLES];
	char label[PROMFILE_LABEL_MAX];
};

static bool
name_char(char c, bool first)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == ':' ||
	    (!first && c >= '0' && c <= '9');
}

static size_t
skip_blanks(const char *p, size_t i, size_t end)
{
	while (i < end && (p[i] == ' ' || p[i] == '\t'))
		i++;
	return i;
}

/* The end of a label set starting after '{' at i: the index of its '}',
 * or end when there is none. Quoted values may hold '}' and escapes. */
static size_t
labels_end(const char *p, size_t i, size_t end)
{
	bool quoted = false;

	for (; i < end; i++) {
		if (quoted && p[i] == '\\')
			i++;
		else if (p[i] == '"')
			quoted = !quoted;
		else if (!quoted && p[i] == '}')
			return i;
	}
	return end;
}

static bool
parse_value(const char *p, size_t i, size_t end, double *ret)
{
	char num[64], *stop;
	size_t n = 0;

	while (i + n < end && p[i + n] != ' ' && p[i + n] != '\t')
		n++;
	if (n == 0 || n >= sizeof(num))
		return false;
	memcpy(num, p + i, n);
	num[n] = '\0';
	*ret = strtod(num, &stop);
	return *stop == '\0';
}

/* One line [i, end): a sample added to pf, or nothing. */
static void
parse_line(struct promfile *pf, size_t i, size_t end)
{
	const char *p = pf->text;
	struct sample s = { 0 };

	i = skip_blanks(p, i, end);
	if (i == end || p[i] == '#' || !name_char(p[i], true))
		return;
	s.name = i;
	while (i < end && name_char(p[i], false))
		i++;
	s.name_len = i - s.name;
	if (i < end && p[i] == '{') {
		s.labels = i + 1;
		i = labels_end(p, i + 1, end);
		if (i == end)
			return;
		s.labels_len = i - s.labels;
		i++;
	}
	if (i == end || (p[i] != ' ' && p[i] != '\t'))
		return;
	if (parse_value(p, skip_blanks(p, i, end), end, &s.v) && pf->n < PROMFILE_MAX_SAMPLES)
		pf->s[pf->n++] = s;
}

int
promfile_parse(const char *text, size_t len, struct promfile **ret)
{
	struct promfile *pf;
	size_t i = 0;

	if (len > PROMFILE_MAX_BYTES)
		len = PROMFILE_MAX_BYTES;
	pf = calloc(1, sizeof(*pf));
	if (pf == NULL || (pf->text = malloc(len + 1)) == NULL) {
		free(pf);
		return -ENOMEM;
	}
	memcpy(pf->text, text, len);
	pf->text[len] = '\0';
	pf->len = len;
	while (i < len) {
		const char *nl = memchr(pf->text + i, '\n', len - i);
		size_t end = nl ? (size_t)(nl - pf->text) : len;

		parse_line(pf, i, end);
		i = end + 1;
	}
	*ret = pf;
	return 0;
}

int
promfile_read(const char *path, struct promfile **ret, int64_t *ret_mtime_ns)
{
	char *buf = NULL;
	struct stat st;
	ssize_t n = 0, got = 0;
	int fd, r;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0 || (buf = malloc(PROMFILE_MAX_BYTES)) == NULL) {
		r = buf ? -errno : -ENOMEM;
		goto out;
	}
	while (n < PROMFILE_MAX_BYTES &&
	    (got = read(fd, buf + n, (size_t)(PROMFILE_MAX_BYTES - n))) > 0)
		n += got;
	if (got < 0 && n < PROMFILE_MAX_BYTES) {
		r = -errno;
		goto out;
	}
	r = promfile_parse(buf, (size_t)n, ret);
	if (r == 0 && ret_mtime_ns != NULL)
		*ret_mtime_ns = (int64_t)st.st_mtim.tv_sec * 1000000000 + st.st_mtim.tv_nsec;
out:
	free(buf);
	close(fd);
	return r;
}

void
promfile_free(struct promfile *pf)
{
	if (pf == NULL)
		return;
	free(pf->text);
	free(pf);
}

static const struct sample *
find(const struct promfile *pf, const char *name)
{
	size_t len = strlen(name);

	for (size_t i = 0; i < pf->n; i++)
		if (pf->s[i].name_len == len && memcmp(pf->text + pf->s[i].name, name, len) == 0)
			return &pf->s[i];
	return NULL;
}

bool
promfile_value(const struct promfile *pf, const char *name, double *ret)
{
	const struct sample *s = find(pf, name);

	if (s == NULL)
		return false;
	*ret = s->v;
	return true;
}

/* Unescapes the quoted value at p[i] (after its opening quote) into
 * pf->label; returns the index after the closing quote, or end. */
static size_t
unquote(struct promfile *pf, size_t i, size_t end)
{
	const char *p = pf->text;
	size_t n = 0;

	for (; i < end && p[i] != '"'; i++) {
		char c = p[i];

		if (c == '\\' && i + 1 < end) {
			c = p[++i];
			if (c == 'n')
				c = '\n';
		}
		if (n < sizeof(pf->label) - 1)
			pf->label[n++] = c;
	}
	pf->label[n] = '\0';
	return i < end ? i + 1 : end;
}

/* Reads the label at *i: its name's place into *ret_k and *ret_klen, its
 * value into pf->label; moves *i past it (and past a comma). False when
 * it is malformed. */
static bool
next_label(struct promfile *pf, size_t *i, size_t end, size_t *ret_k, size_t *ret_klen)
{
	const char *p = pf->text;
	size_t j = skip_blanks(p, *i, end), k = j;

	while (j < end && name_char(p[j], j == k) && p[j] != ':')
		j++;
	*ret_k = k;
	*ret_klen = j - k;
	if (j == k)
		return false;
	j = skip_blanks(p, j, end);
	if (j >= end || p[j] != '=')
		return false;
	j = skip_blanks(p, j + 1, end);
	if (j >= end || p[j] != '"')
		return false;
	j = skip_blanks(p, unquote(pf, j + 1, end), end);
	if (j < end && p[j] == ',')
		j++;
	*i = j;
	return true;
}

const char *
promfile_label(struct promfile *pf, const char *name, const char *label)
{
	const struct sample *s = find(pf, name);
	size_t llen = strlen(label), i, end, k, klen;

	if (s == NULL)
		return NULL;
	i = s->labels;
	end = s->labels + s->labels_len;
	while (skip_blanks(pf->text, i, end) < end && next_label(pf, &i, end, &k, &klen))
		if (klen == llen && memcmp(pf->text + k, label, llen) == 0)
			return pf->label;
	return NULL;
}
