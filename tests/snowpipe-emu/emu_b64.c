/* SPDX-License-Identifier: Apache-2.0 */
/*
 * emu_b64: the two base64 alphabets JWTs and key fingerprints use. Small and
 * strict on decode, since JWT segments come from the network.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "emu_b64.h"

static const char std_alpha[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
static const char url_alpha[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

static int
encode(const char *alpha, int pad, const void *data, size_t len, char **ret)
{
	const unsigned char *p = data;
	size_t n = (len + 2) / 3 * 4 + 1, o = 0;
	char *out;

	if (len > SIZE_MAX / 2)
		return -EOVERFLOW;
	out = malloc(n);
	if (out == NULL)
		return -ENOMEM;
	for (size_t i = 0; i < len; i += 3) {
		uint32_t v = (uint32_t)p[i] << 16;
		size_t rem = len - i;

		if (rem > 1)
			v |= (uint32_t)p[i + 1] << 8;
		if (rem > 2)
			v |= p[i + 2];
		out[o++] = alpha[(v >> 18) & 63];
		out[o++] = alpha[(v >> 12) & 63];
		if (rem > 1)
			out[o++] = alpha[(v >> 6) & 63];
		else if (pad)
			out[o++] = '=';
		if (rem > 2)
			out[o++] = alpha[v & 63];
		else if (pad)
			out[o++] = '=';
	}
	out[o] = '\0';
	*ret = out;
	return 0;
}

int
emu_b64url_encode(const void *data, size_t len, char **ret)
{
	return encode(url_alpha, 0, data, len, ret);
}

int
emu_b64_encode(const void *data, size_t len, char **ret)
{
	return encode(std_alpha, 1, data, len, ret);
}

static int
url_val(char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '-')
		return 62;
	if (c == '_')
		return 63;
	return -1;
}

int
emu_b64url_decode(const char *s, size_t len, unsigned char **ret, size_t *ret_len)
{
	unsigned char *out;
	uint32_t acc = 0;
	size_t o = 0;
	int bits = 0;

	while (len > 0 && s[len - 1] == '=')
		len--;
	if (len % 4 == 1)
		return -EINVAL;
	out = malloc(len / 4 * 3 + 4);
	if (out == NULL)
		return -ENOMEM;
	for (size_t i = 0; i < len; i++) {
		int v = url_val(s[i]);

		if (v < 0) {
			free(out);
			return -EINVAL;
		}
		acc = (acc << 6) | (uint32_t)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			out[o++] = (unsigned char)(acc >> bits);
			acc &= (1u << bits) - 1;
		}
	}
	/* Leftover bits must be zero: one canonical encoding per byte string. */
	if (acc != 0) {
		free(out);
		return -EINVAL;
	}
	out[o] = '\0';
	*ret = out;
	*ret_len = o;
	return 0;
}
