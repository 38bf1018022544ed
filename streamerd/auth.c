/* SPDX-License-Identifier: Apache-2.0 */
/*
 * auth: key loading, fingerprint, claim normalisation and RS256 signing with
 * OpenSSL EVP, JSON with jansson. Key text and passphrase are wiped from
 * memory as soon as the key object exists; tokens are only ever handed to the
 * HTTP layer, never to the log.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/sha.h>
#include <openssl/x509.h>

#include "auth.h"
#include "fsutil.h"

#define KEY_FILE_MAX (64 * 1024)
#define PASS_MAX 1024

struct pass_ctx {
	const char *pass;
	int asked;
};

static int
pass_cb(char *buf, int size, int rwflag, void *u)
{
	struct pass_ctx *pc = u;
	size_t n;

	(void)rwflag;
	pc->asked = 1;
	if (pc->pass == NULL)
		return 0;
	n = strlen(pc->pass);
	if (n > (size_t)size)
		return 0;
	memcpy(buf, pc->pass, n);
	return (int)n;
}

/* Reads the passphrase file's first line into a new buffer. */
static int
read_pass(const char *path, char **ret, char *err, size_t errlen)
{
	char *buf;
	size_t len;
	int r;

	if ((r = fs_read_all(path, PASS_MAX, &buf, &len)) < 0) {
		snprintf(err, errlen, "%s: cannot read passphrase file: %s", path, strerror(-r));
		return r;
	}
	buf[strcspn(buf, "\r\n")] = '\0';
	*ret = buf;
	return 0;
}

int
auth_load_key(const char *key_path, const char *pass_path, EVP_PKEY **ret_key,
    char *err, size_t errlen)
{
	char *text = NULL, *pass = NULL;
	size_t len = 0;
	struct pass_ctx pc = { 0 };
	BIO *bio = NULL;
	EVP_PKEY *key = NULL;
	int r;

	if ((r = fs_read_all(key_path, KEY_FILE_MAX, &text, &len)) < 0) {
		snprintf(err, errlen, "%s: cannot read private key: %s", key_path, strerror(-r));
		goto cleanup;
	}
	if (pass_path != NULL && pass_path[0] != '\0' &&
	    (r = read_pass(pass_path, &pass, err, errlen)) < 0)
		goto cleanup;
	pc.pass = pass;
	if ((bio = BIO_new_mem_buf(text, (int)len)) == NULL) {
		r = -ENOMEM;
		snprintf(err, errlen, "out of memory");
		goto cleanup;
	}
	key = PEM_read_bio_PrivateKey(bio, NULL, pass_cb, &pc);
	ERR_clear_error();
	if (key == NULL) {
		r = pc.asked ? -EKEYREJECTED : -EINVAL;
		if (pc.asked && pass == NULL)
			snprintf(err, errlen, "%s: the key is encrypted; set "
			    "\"private_key_passphrase_file\"", key_path);
		else if (pc.asked)
			snprintf(err, errlen, "%s: cannot decrypt the key with the passphrase "
			    "from %s (wrong passphrase?)", key_path, pass_path);
		else
			snprintf(err, errlen, "%s: not a PEM private key (expected PKCS#8 "
			    "\"BEGIN PRIVATE KEY\" or \"BEGIN ENCRYPTED PRIVATE KEY\")", key_path);
		goto cleanup;
	}
	if (EVP_PKEY_get_base_id(key) != EVP_PKEY_RSA || EVP_PKEY_get_bits(key) < 2048) {
		r = -EINVAL;
		snprintf(err, errlen, "%s: Snowflake needs an RSA key of at least 2048 bits "
		    "(this one: %s, %d bits)", key_path,
		    EVP_PKEY_get_base_id(key) == EVP_PKEY_RSA ? "RSA" : "not RSA",
		    EVP_PKEY_get_bits(key));
		goto cleanup;
	}
	*ret_key = key;
	key = NULL;
	r = 0;
cleanup:
	EVP_PKEY_free(key);
	BIO_free(bio);
	if (text != NULL) {
		OPENSSL_cleanse(text, len);
		free(text);
	}
	if (pass != NULL) {
		OPENSSL_cleanse(pass, strlen(pass));
		free(pass);
	}
	return r;
}

int
auth_fingerprint(EVP_PKEY *key, char out[AUTH_FP_LEN])
{
	unsigned char *der = NULL, h[SHA256_DIGEST_LENGTH];
	unsigned char b64[64];
	int n;

	if ((n = i2d_PUBKEY(key, &der)) <= 0)
		return -EINVAL;
	SHA256(der, (size_t)n, h);
	OPENSSL_free(der);
	EVP_EncodeBlock(b64, h, sizeof(h));
	snprintf(out, AUTH_FP_LEN, "SHA256:%.44s", (const char *)b64);
	return 0;
}

void
auth_upper(const char *s, char *out, size_t cap)
{
	size_t i;

	if (cap == 0)
		return;
	for (i = 0; s[i] != '\0' && i + 1 < cap; i++)
		out[i] = (char)toupper((unsigned char)s[i]);
	out[i] = '\0';
}

/* True when what follows the first dot of an account names a region or a
 * cloud (a legacy locator like xy12345.us-east-1.aws), not an account. */
static int
is_region_suffix(const char *rest)
{
	return strchr(rest, '-') != NULL || strncmp(rest, "AWS", 3) == 0 ||
	    strncmp(rest, "AZURE", 5) == 0 || strncmp(rest, "GCP", 3) == 0 ||
	    strstr(rest, "GLOBAL") != NULL;
}

void
auth_claim_account(const char *account, char *out, size_t cap)
{
	char buf[256];
	char *p = buf, *dom, *dot;

	if (strncmp(account, "https://", 8) == 0)
		account += 8;
	auth_upper(account, buf, sizeof(buf));
	buf[strcspn(buf, "/:")] = '\0';
	if ((dom = strstr(buf, ".PRIVATELINK.SNOWFLAKECOMPUTING.COM")) != NULL ||
	    (dom = strstr(buf, ".SNOWFLAKECOMPUTING.COM")) != NULL)
		*dom = '\0';
	if (strstr(buf, ".GLOBAL") != NULL) {
		/* Snowflake's drivers: a global URL cuts at the first hyphen. */
		p[strcspn(p, "-")] = '\0';
	} else if ((dot = strchr(p, '.')) != NULL) {
		if (is_region_suffix(dot + 1))
			*dot = '\0';
		else
			for (char *c = p; *c != '\0'; c++)
				if (*c == '.')
					*c = '-';
	}
	snprintf(out, cap, "%s", p);
}

int
auth_b64url(const unsigned char *in, size_t len, char **ret)
{
	size_t cap = 4 * ((len + 2) / 3) + 1;
	char *out = malloc(cap);
	size_t n;

	if (out == NULL)
		return -ENOMEM;
	EVP_EncodeBlock((unsigned char *)out, in, (int)len);
	n = strlen(out);
	while (n > 0 && out[n - 1] == '=')
		out[--n] = '\0';
	for (size_t i = 0; i < n; i++) {
		if (out[i] == '+')
			out[i] = '-';
		else if (out[i] == '/')
			out[i] = '_';
	}
	*ret = out;
	return 0;
}

static int
b64url_json(json_t *j, char **ret)
{
	char *s = json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER);
	int r;

	if (s == NULL)
		return -ENOMEM;
	r = auth_b64url((const unsigned char *)s, strlen(s), ret);
	free(s);
	return r;
}

static int
sign_rs256(EVP_PKEY *key, const char *msg, unsigned char **ret, size_t *ret_len)
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	unsigned char *sig = NULL;
	size_t len = 0;
	int r = -EIO;

	if (ctx == NULL)
		return -ENOMEM;
	if (EVP_DigestSignInit(ctx, NULL, EVP_sha256(), NULL, key) != 1 ||
	    EVP_DigestSign(ctx, NULL, &len, (const unsigned char *)msg, strlen(msg)) != 1)
		goto cleanup;
	if ((sig = malloc(len)) == NULL) {
		r = -ENOMEM;
		goto cleanup;
	}
	if (EVP_DigestSign(ctx, sig, &len, (const unsigned char *)msg, strlen(msg)) != 1) {
		free(sig);
		goto cleanup;
	}
	*ret = sig;
	*ret_len = len;
	r = 0;
cleanup:
	ERR_clear_error();
	EVP_MD_CTX_free(ctx);
	return r;
}

int
auth_make_jwt(EVP_PKEY *key, const char *claim_account, const char *claim_user,
    const char *fp, const char *scp, int64_t now_s, int64_t lifetime_s, char **ret_jwt)
{
	char iss[600], sub[520];
	json_t *hdr = NULL, *pl = NULL;
	char *h = NULL, *p = NULL, *msg = NULL, *s = NULL;
	unsigned char *sig = NULL;
	size_t siglen = 0, mlen;
	int r = -ENOMEM;

	snprintf(sub, sizeof(sub), "%s.%s", claim_account, claim_user);
	snprintf(iss, sizeof(iss), "%s.%s", sub, fp);
	hdr = json_pack("{s:s, s:s}", "alg", "RS256", "typ", "JWT");
	pl = json_pack("{s:s, s:s, s:I, s:I}", "iss", iss, "sub", sub,
	    "iat", (json_int_t)now_s, "exp", (json_int_t)(now_s + lifetime_s));
	if (hdr == NULL || pl == NULL ||
	    (scp != NULL && json_object_set_new(pl, "scp", json_string(scp)) < 0))
		goto cleanup;
	if ((r = b64url_json(hdr, &h)) < 0 || (r = b64url_json(pl, &p)) < 0)
		goto cleanup;
	mlen = strlen(h) + strlen(p) + 2;
	if ((msg = malloc(mlen)) == NULL) {
		r = -ENOMEM;
		goto cleanup;
	}
	snprintf(msg, mlen, "%s.%s", h, p);
	if ((r = sign_rs256(key, msg, &sig, &siglen)) < 0 ||
	    (r = auth_b64url(sig, siglen, &s)) < 0)
		goto cleanup;
	mlen += strlen(s) + 1;
	{
		char *jwt = malloc(mlen);

		if (jwt == NULL) {
			r = -ENOMEM;
			goto cleanup;
		}
		snprintf(jwt, mlen, "%s.%s", msg, s);
		*ret_jwt = jwt;
	}
	r = 0;
cleanup:
	json_decref(hdr);
	json_decref(pl);
	free(h);
	free(p);
	free(msg);
	free(sig);
	free(s);
	return r;
}

/* Decodes base64url (no padding needed) into a new NUL-terminated buffer. */
static int
b64url_decode(const char *in, size_t len, char **ret)
{
	size_t padded = (len + 3) / 4 * 4;
	unsigned char *tmp, *out;
	int n;

	if (len == 0 || len > 8192 || len % 4 == 1)
		return -EINVAL;
	if ((tmp = malloc(padded + 1)) == NULL)
		return -ENOMEM;
	for (size_t i = 0; i < padded; i++) {
		char c = i < len ? in[i] : '=';

		if (c == '-')
			c = '+';
		else if (c == '_')
			c = '/';
		else if (!(isalnum((unsigned char)c) || c == '=' || c == '+' || c == '/')) {
			free(tmp);
			return -EINVAL;
		}
		tmp[i] = (unsigned char)c;
	}
	tmp[padded] = '\0';
	if ((out = malloc(padded / 4 * 3 + 1)) == NULL) {
		free(tmp);
		return -ENOMEM;
	}
	n = EVP_DecodeBlock(out, tmp, (int)padded);
	free(tmp);
	if (n < 0) {
		free(out);
		return -EINVAL;
	}
	/* EVP_DecodeBlock counts the padding bytes as zeros; drop them. */
	n -= (int)(padded - len);
	out[n] = '\0';
	*ret = (char *)out;
	return 0;
}

int
auth_token_exp(const char *token, int64_t *ret_exp)
{
	const char *a, *b;
	char *payload = NULL;
	json_t *j = NULL, *e;
	int r = -EINVAL;

	if (token == NULL || (a = strchr(token, '.')) == NULL || (b = strchr(a + 1, '.')) == NULL)
		return -EINVAL;
	if (b64url_decode(a + 1, (size_t)(b - a - 1), &payload) < 0)
		return -EINVAL;
	if ((j = json_loads(payload, JSON_REJECT_DUPLICATES, NULL)) == NULL)
		goto cleanup;
	e = json_object_get(j, "exp");
	if (json_is_integer(e) && json_integer_value(e) > 0) {
		*ret_exp = json_integer_value(e);
		r = 0;
	} else if (json_is_real(e) && json_real_value(e) > 0 && json_real_value(e) < 1e15) {
		*ret_exp = (int64_t)json_real_value(e);
		r = 0;
	}
cleanup:
	json_decref(j);
	free(payload);
	return r;
}
