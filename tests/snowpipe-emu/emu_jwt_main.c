/* SPDX-License-Identifier: Apache-2.0 */
/*
 * emu-jwt: mints key-pair JWTs the way a Snowflake client does (RS256,
 * iss = ACCOUNT.USER.SHA256:<fp>, sub = ACCOUNT.USER, iat/exp), plus the
 * deliberately broken variants the emulator's auth tests need (wrong
 * fingerprint, bad signature, skewed or over-long times, other algorithms).
 * Test-only; prints the token on stdout.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/sha.h>
#include <openssl/x509.h>

#include "emu_b64.h"
#include "log.h"

struct jopts {
	const char *key, *account, *user, *fp, *alg, *role, *iss, *sub;
	long long iat_off, lifetime;
	int no_times, bad_sig, print_fp;
};

static void
usage(FILE *f)
{
	fprintf(f, "usage: emu-jwt --key PRIVATE.pem --account ACCT --user USER\n"
	    "               [--iat-offset S] [--lifetime S] [--alg RS256|RS384|HS256|none]\n"
	    "               [--fp SHA256:...] [--iss ISS] [--sub SUB] [--role ROLE]\n"
	    "               [--no-times] [--bad-signature]\n"
	    "       emu-jwt --key PRIVATE.pem --fingerprint\n");
}

static long long
num(const char *s)
{
	char *end;
	long long v;

	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0')
		fatalx_code(EXIT_USAGE, "not a number: %s", s);
	return v;
}

static void
parse(int argc, char **argv, struct jopts *o)
{
	static const struct option lo[] = {
		{ "key", required_argument, NULL, 'k' }, { "account", required_argument, NULL, 'a' },
		{ "user", required_argument, NULL, 'u' }, { "fp", required_argument, NULL, 'f' },
		{ "alg", required_argument, NULL, 'A' }, { "role", required_argument, NULL, 'r' },
		{ "iss", required_argument, NULL, 'i' }, { "sub", required_argument, NULL, 's' },
		{ "iat-offset", required_argument, NULL, 'o' },
		{ "lifetime", required_argument, NULL, 'l' },
		{ "no-times", no_argument, NULL, 'n' }, { "bad-signature", no_argument, NULL, 'b' },
		{ "fingerprint", no_argument, NULL, 'F' }, { "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	o->alg = "RS256";
	o->lifetime = 3540;
	while ((c = getopt_long(argc, argv, "h", lo, NULL)) != -1) {
		switch (c) {
		case 'k': o->key = optarg; break;
		case 'a': o->account = optarg; break;
		case 'u': o->user = optarg; break;
		case 'f': o->fp = optarg; break;
		case 'A': o->alg = optarg; break;
		case 'r': o->role = optarg; break;
		case 'i': o->iss = optarg; break;
		case 's': o->sub = optarg; break;
		case 'o': o->iat_off = num(optarg); break;
		case 'l': o->lifetime = num(optarg); break;
		case 'n': o->no_times = 1; break;
		case 'b': o->bad_sig = 1; break;
		case 'F': o->print_fp = 1; break;
		case 'h': usage(stdout); exit(0);
		default: usage(stderr); exit(EXIT_USAGE);
		}
	}
	if (o->key == NULL || (!o->print_fp && (o->account == NULL || o->user == NULL))) {
		usage(stderr);
		exit(EXIT_USAGE);
	}
}

static EVP_PKEY *
load_key(const char *path)
{
	FILE *f = fopen(path, "re");
	EVP_PKEY *k;

	if (f == NULL)
		fatal("%s", path);
	k = PEM_read_PrivateKey(f, NULL, NULL, NULL);
	fclose(f);
	if (k == NULL)
		fatalx("%s: not a PEM private key", path);
	return k;
}

static void
fingerprint(EVP_PKEY *k, char *out, size_t len)
{
	unsigned char *der = NULL, md[32];
	char *b64;
	int n = i2d_PUBKEY(k, &der);

	if (n <= 0)
		fatalx("cannot encode the public key");
	SHA256(der, (size_t)n, md);
	OPENSSL_free(der);
	if (emu_b64_encode(md, sizeof(md), &b64) < 0)
		fatalx("out of memory");
	snprintf(out, len, "SHA256:%s", b64);
	free(b64);
}

static char *
b64json(json_t *o)
{
	char *s = json_dumps(o, JSON_COMPACT), *b = NULL;

	if (s == NULL || emu_b64url_encode(s, strlen(s), &b) < 0)
		fatalx("out of memory");
	free(s);
	json_decref(o);
	return b;
}

static char *
sign(EVP_PKEY *k, const char *alg, const char *data, int bad)
{
	const EVP_MD *md = strcmp(alg, "RS384") == 0 ? EVP_sha384() : EVP_sha256();
	EVP_MD_CTX *c = NULL;
	unsigned char sig[1024];
	size_t siglen = sizeof(sig);
	char *b = NULL;

	if (strcmp(alg, "none") == 0)
		return strdup("");
	if (strcmp(alg, "HS256") == 0) {
		memset(sig, 0x5a, 32);
		siglen = 32;
	} else if ((c = EVP_MD_CTX_new()) == NULL || EVP_DigestSignInit(c, NULL, md, NULL, k) != 1 ||
	    EVP_DigestSign(c, sig, &siglen, (const unsigned char *)data, strlen(data)) != 1) {
		fatalx("signing failed");
	}
	EVP_MD_CTX_free(c);
	if (bad)
		sig[siglen / 2] ^= 0x01;
	if (emu_b64url_encode(sig, siglen, &b) < 0)
		fatalx("out of memory");
	return b;
}

int
main(int argc, char **argv)
{
	struct jopts o = { 0 };
	char fp[80], iss[512], sub[512], *h, *c, *s, *data;
	EVP_PKEY *k;
	json_t *claims;
	time_t now = time(NULL);
	size_t n;

	log_init("emu-jwt", 1, 0);
	parse(argc, argv, &o);
	k = load_key(o.key);
	fingerprint(k, fp, sizeof(fp));
	if (o.print_fp) {
		printf("%s\n", fp);
		return 0;
	}
	snprintf(iss, sizeof(iss), "%s.%s.%s", o.account, o.user, o.fp ? o.fp : fp);
	snprintf(sub, sizeof(sub), "%s.%s", o.account, o.user);
	claims = json_pack("{s:s, s:s}", "iss", o.iss ? o.iss : iss, "sub", o.sub ? o.sub : sub);
	if (!o.no_times) {
		json_object_set_new(claims, "iat", json_integer(now + o.iat_off));
		json_object_set_new(claims, "exp", json_integer(now + o.iat_off + o.lifetime));
	}
	if (o.role != NULL) {
		char scp[300];

		snprintf(scp, sizeof(scp), "session:role:%s", o.role);
		json_object_set_new(claims, "scp", json_string(scp));
	}
	h = b64json(json_pack("{s:s, s:s}", "alg", o.alg, "typ", "JWT"));
	c = b64json(claims);
	n = strlen(h) + strlen(c) + 2;
	data = malloc(n);
	if (data == NULL)
		fatalx("out of memory");
	snprintf(data, n, "%s.%s", h, c);
	s = sign(k, o.alg, data, o.bad_sig);
	printf("%s.%s\n", data, s);
	free(h);
	free(c);
	free(s);
	free(data);
	EVP_PKEY_free(k);
	return 0;
}
