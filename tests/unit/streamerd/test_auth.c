/* SPDX-License-Identifier: Apache-2.0 */
/*
 * auth: keys load in every PEM form Snowflake users have (PKCS#8 plain and
 * encrypted with the passphrase file), wrong/missing passphrases and weak
 * keys are refused with a message, the fingerprint matches an independent
 * computation, the JWT verifies with the public key and carries the claims
 * Snowflake checks, and account names normalise as docs/snowpipe.md §2.2 says.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#include "auth.h"

static char dir[] = "/tmp/test_auth.XXXXXX";
static EVP_PKEY *key2048;

static void
path(char *out, const char *name)
{
	snprintf(out, 256, "%s/%s", dir, name);
}

static void
write_key(EVP_PKEY *k, const char *name, const char *pass)
{
	char p[256];
	FILE *f;

	path(p, name);
	f = fopen(p, "w");
	assert_non_null(f);
	assert_int_equal(PEM_write_PKCS8PrivateKey(f, k, pass ? EVP_aes_256_cbc() : NULL,
	    pass ? (char *)(uintptr_t)pass : NULL, pass ? (int)strlen(pass) : 0, NULL, NULL), 1);
	fclose(f);
	chmod(p, 0600);
}

static void
write_file(const char *name, const char *text)
{
	char p[256];
	FILE *f;

	path(p, name);
	f = fopen(p, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static int
setup(void **state)
{
	(void)state;
	if (mkdtemp(dir) == NULL)
		return -1;
	key2048 = EVP_RSA_gen(2048);
	return key2048 ? 0 : -1;
}

static int
teardown(void **state)
{
	char cmd[300];

	(void)state;
	EVP_PKEY_free(key2048);
	snprintf(cmd, sizeof(cmd), "%s", dir);
	/* remove the files we made, then the directory */
	for (const char *const *n = (const char *const[]){ "plain.p8", "enc.p8", "pass",
	    "badpass", "small.p8", "junk.p8", NULL }; *n != NULL; n++) {
		char p[256];

		path(p, *n);
		unlink(p);
	}
	rmdir(cmd);
	return 0;
}

static void
test_load_plain_and_encrypted(void **state)
{
	char p[256], pp[256], err[512];
	EVP_PKEY *k = NULL;

	(void)state;
	write_key(key2048, "plain.p8", NULL);
	path(p, "plain.p8");
	assert_int_equal(auth_load_key(p, NULL, &k, err, sizeof(err)), 0);
	assert_int_equal(EVP_PKEY_eq(k, key2048), 1);
	EVP_PKEY_free(k);
	k = NULL;

	write_key(key2048, "enc.p8", "s3cret pass");
	write_file("pass", "s3cret pass\n");
	path(p, "enc.p8");
	path(pp, "pass");
	assert_int_equal(auth_load_key(p, pp, &k, err, sizeof(err)), 0);
	assert_int_equal(EVP_PKEY_eq(k, key2048), 1);
	EVP_PKEY_free(k);
	k = NULL;

	write_file("badpass", "nope\n");
	path(pp, "badpass");
	assert_int_equal(auth_load_key(p, pp, &k, err, sizeof(err)), -EKEYREJECTED);
	assert_non_null(strstr(err, "wrong passphrase"));
	assert_null(strstr(err, "nope"));	/* the passphrase is never echoed */
	assert_int_equal(auth_load_key(p, NULL, &k, err, sizeof(err)), -EKEYREJECTED);
	assert_non_null(strstr(err, "private_key_passphrase_file"));
	assert_null(k);
}

static void
test_refuse_bad_keys(void **state)
{
	char p[256], err[512];
	EVP_PKEY *small = EVP_RSA_gen(1024), *k = NULL;

	(void)state;
	assert_non_null(small);
	write_key(small, "small.p8", NULL);
	EVP_PKEY_free(small);
	path(p, "small.p8");
	assert_int_equal(auth_load_key(p, NULL, &k, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "2048"));
	write_file("junk.p8", "-----BEGIN NOTHING-----\nabc\n");
	path(p, "junk.p8");
	assert_int_equal(auth_load_key(p, NULL, &k, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "PKCS#8"));
	path(p, "missing.p8");
	assert_int_equal(auth_load_key(p, NULL, &k, err, sizeof(err)), -ENOENT);
	assert_null(k);
}

static void
test_fingerprint(void **state)
{
	char fp[AUTH_FP_LEN], expect[80];
	unsigned char *der = NULL, md[32], b64[64];
	unsigned int mdlen = 0;
	int n;

	(void)state;
	assert_int_equal(auth_fingerprint(key2048, fp), 0);
	/* independent path: DER via the X509_PUBKEY object, EVP_Digest */
	{
		X509_PUBKEY *xp = NULL;

		assert_int_equal(X509_PUBKEY_set(&xp, key2048), 1);
		n = i2d_X509_PUBKEY(xp, &der);
		X509_PUBKEY_free(xp);
	}
	assert_true(n > 0);
	assert_int_equal(EVP_Digest(der, (size_t)n, md, &mdlen, EVP_sha256(), NULL), 1);
	OPENSSL_free(der);
	EVP_EncodeBlock(b64, md, 32);
	snprintf(expect, sizeof(expect), "SHA256:%s", b64);
	assert_string_equal(fp, expect);
	assert_int_equal(strlen(fp), 7 + 44);
	assert_int_equal(fp[strlen(fp) - 1], '=');	/* standard base64, padded */
}

static json_t *
b64url_json(const char *s, size_t n)
{
	char *pad = calloc(1, n + 4);
	unsigned char out[2048];
	size_t m = n;
	int len;
	json_t *j;

	assert_non_null(pad);
	memcpy(pad, s, n);
	for (size_t i = 0; i < n; i++)
		pad[i] = pad[i] == '-' ? '+' : pad[i] == '_' ? '/' : pad[i];
	while (m % 4)
		pad[m++] = '=';
	len = EVP_DecodeBlock(out, (unsigned char *)pad, (int)m);
	free(pad);
	assert_true(len > 0 && (size_t)len < sizeof(out));
	out[len] = '\0';	/* padding decodes to NULs: strlen stops at the JSON's end */
	j = json_loadb((char *)out, strlen((char *)out), 0, NULL);
	assert_non_null(j);
	return j;
}

static void
test_jwt(void **state)
{
	char fp[AUTH_FP_LEN], iss[300];
	char *jwt = NULL;
	const char *d1, *d2;
	json_t *h, *p;
	int64_t exp = 0;
	EVP_MD_CTX *ctx;
	unsigned char sig[512];
	int siglen;

	(void)state;
	assert_int_equal(auth_fingerprint(key2048, fp), 0);
	assert_int_equal(auth_make_jwt(key2048, "MYORG-ACCT1", "INGEST_SVC", fp,
	    "session:role:INGEST_ROLE", 1767225600, AUTH_JWT_LIFETIME, &jwt), 0);
	d1 = strchr(jwt, '.');
	d2 = strchr(d1 + 1, '.');
	assert_non_null(d2);
	assert_null(strchr(jwt, '='));	/* base64url, unpadded */
	h = b64url_json(jwt, (size_t)(d1 - jwt));
	p = b64url_json(d1 + 1, (size_t)(d2 - d1 - 1));
	assert_string_equal(json_string_value(json_object_get(h, "alg")), "RS256");
	snprintf(iss, sizeof(iss), "MYORG-ACCT1.INGEST_SVC.%s", fp);
	assert_string_equal(json_string_value(json_object_get(p, "iss")), iss);
	assert_string_equal(json_string_value(json_object_get(p, "sub")), "MYORG-ACCT1.INGEST_SVC");
	assert_int_equal(json_integer_value(json_object_get(p, "iat")), 1767225600);
	assert_int_equal(json_integer_value(json_object_get(p, "exp")), 1767225600 + 3540);
	assert_string_equal(json_string_value(json_object_get(p, "scp")), "session:role:INGEST_ROLE");
	json_decref(h);
	json_decref(p);
	assert_int_equal(auth_token_exp(jwt, &exp), 0);
	assert_int_equal(exp, 1767225600 + 3540);
	/* the signature verifies with the public key over "<h>.<p>" */
	{
		char *b64 = calloc(1, strlen(d2 + 1) + 4);
		size_t m = strlen(d2 + 1);

		memcpy(b64, d2 + 1, m);
		for (size_t i = 0; i < m; i++)
			b64[i] = b64[i] == '-' ? '+' : b64[i] == '_' ? '/' : b64[i];
		while (m % 4)
			b64[m++] = '=';
		siglen = EVP_DecodeBlock(sig, (unsigned char *)b64, (int)m);
		free(b64);
		siglen -= (int)(m - strlen(d2 + 1));
	}
	assert_int_equal(siglen, 256);
	ctx = EVP_MD_CTX_new();
	assert_int_equal(EVP_DigestVerifyInit(ctx, NULL, EVP_sha256(), NULL, key2048), 1);
	assert_int_equal(EVP_DigestVerify(ctx, sig, (size_t)siglen, (const unsigned char *)jwt,
	    (size_t)(d2 - jwt)), 1);
	EVP_MD_CTX_free(ctx);
	free(jwt);
}

static void
test_token_exp(void **state)
{
	int64_t e = 0;

	(void)state;
	/* {"exp":1767229200} */
	assert_int_equal(auth_token_exp("x.eyJleHAiOjE3NjcyMjkyMDB9.sig", &e), 0);
	assert_int_equal(e, 1767229200);
	assert_int_equal(auth_token_exp("opaque-token", &e), -EINVAL);
	assert_int_equal(auth_token_exp("a.!!!.c", &e), -EINVAL);
	assert_int_equal(auth_token_exp("a.e30.c", &e), -EINVAL);	/* {} */
	assert_int_equal(auth_token_exp(NULL, &e), -EINVAL);
}

static void
test_claim_account(void **state)
{
	static const char *const cases[][2] = {
		{ "myorg-acct1", "MYORG-ACCT1" },
		{ "my_org-my_acct", "MY_ORG-MY_ACCT" },
		{ "xy12345.us-east-1.aws", "XY12345" },
		{ "xy12345.eu-central-1", "XY12345" },
		{ "xy12345.east-us-2.azure", "XY12345" },
		{ "myorg.acct1", "MYORG-ACCT1" },
		{ "https://myorg-acct1.snowflakecomputing.com", "MYORG-ACCT1" },
		{ "myorg-acct1.privatelink.snowflakecomputing.com", "MYORG-ACCT1" },
		{ "xy12345-global.global", "XY12345" },
	};
	char out[256];

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		auth_claim_account(cases[i][0], out, sizeof(out));
		assert_string_equal(out, cases[i][1]);
	}
	auth_upper("ingest_svc", out, sizeof(out));
	assert_string_equal(out, "INGEST_SVC");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_load_plain_and_encrypted),
		cmocka_unit_test(test_refuse_bad_keys),
		cmocka_unit_test(test_fingerprint),
		cmocka_unit_test(test_jwt),
		cmocka_unit_test(test_token_exp),
		cmocka_unit_test(test_claim_account),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
