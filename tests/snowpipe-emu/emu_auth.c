/* SPDX-License-Identifier: Apache-2.0 */
/*
 * emu_auth: credential checks in the order Snowflake documents its JWT
 * failure codes, so a failing test can read the specific reason in the log
 * while the client only sees the generic 390144, as with the real service.
 * Scoped tokens are HMAC-SHA256 JWTs carrying a generation number: bumping
 * the generation (a fault) expires every token at once.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include "emu_auth.h"
#include "emu_b64.h"
#include "log.h"

#define JWT_MAX 8192

struct emu_auth {
	const struct emu_conf *conf;
	unsigned char secret[32];
	int64_t gen;
	int64_t max_age_s;	/* 0: JWTs may be reused until exp */
};

int
emu_auth_new(const struct emu_conf *c, const unsigned char secret[32], int64_t gen,
    struct emu_auth **ret)
{
	struct emu_auth *a = calloc(1, sizeof(*a));

	if (a == NULL)
		return -ENOMEM;
	a->conf = c;
	memcpy(a->secret, secret, sizeof(a->secret));
	a->gen = gen;
	*ret = a;
	return 0;
}

void
emu_auth_free(struct emu_auth *a)
{
	if (a != NULL)
		OPENSSL_cleanse(a->secret, sizeof(a->secret));
	free(a);
}

void
emu_auth_set_max_age(struct emu_auth *a, int64_t max_age_s)
{
	a->max_age_s = max_age_s;
}

int64_t
emu_auth_expire_all(struct emu_auth *a)
{
	return ++a->gen;
}

void
emu_uuid(char out[37])
{
	unsigned char b[16];

	if (RAND_bytes(b, sizeof(b)) != 1)
		memset(b, 0x42, sizeof(b));
	b[6] = (unsigned char)((b[6] & 0x0f) | 0x40);
	b[8] = (unsigned char)((b[8] & 0x3f) | 0x80);
	snprintf(out, 37, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
	    b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12],
	    b[13], b[14], b[15]);
}

static int __attribute__((format(printf, 4, 5)))
refuse(struct emu_auth_err *e, int status, const char *code, const char *fmt, ...)
{
	char uuid[37];
	va_list ap;

	emu_uuid(uuid);
	e->status = status;
	e->code = code;
	if (strcmp(code, "390144") == 0)
		snprintf(e->message, sizeof(e->message), "JWT token is invalid. [%s]", uuid);
	else if (strcmp(code, "PAT_INVALID") == 0)
		snprintf(e->message, sizeof(e->message),
		    "Programmatic access token is invalid. [%s]", uuid);
	else
		snprintf(e->message, sizeof(e->message), "OAuth access token is invalid. [%s]",
		    uuid);
	va_start(ap, fmt);
	vsnprintf(e->reason, sizeof(e->reason), fmt, ap);
	va_end(ap);
	log_info("auth refused [%s]: %s", uuid, e->reason);
	return -EACCES;
}

/* Splits a compact JWT into its parsed header and payload and the signature. */
struct jwt {
	json_t *hdr, *claims;
	unsigned char *sig;
	size_t siglen;
	size_t signed_len;	/* bytes of "<h>.<p>" */
};

static void
jwt_clear(struct jwt *j)
{
	json_decref(j->hdr);
	json_decref(j->claims);
	free(j->sig);
	memset(j, 0, sizeof(*j));
}

static json_t *
decode_part(const char *s, size_t len)
{
	unsigned char *raw;
	size_t rawlen;
	json_t *v;

	if (emu_b64url_decode(s, len, &raw, &rawlen) < 0)
		return NULL;
	v = json_loadb((const char *)raw, rawlen, JSON_REJECT_DUPLICATES, NULL);
	free(raw);
	if (v != NULL && !json_is_object(v)) {
		json_decref(v);
		v = NULL;
	}
	return v;
}

static int
jwt_split(const char *tok, struct jwt *j)
{
	const char *d1 = strchr(tok, '.'), *d2;

	memset(j, 0, sizeof(*j));
	if (d1 == NULL || (d2 = strchr(d1 + 1, '.')) == NULL || strchr(d2 + 1, '.') != NULL)
		return -EINVAL;
	j->hdr = decode_part(tok, (size_t)(d1 - tok));
	j->claims = decode_part(d1 + 1, (size_t)(d2 - d1 - 1));
	j->signed_len = (size_t)(d2 - tok);
	if (j->hdr == NULL || j->claims == NULL ||
	    emu_b64url_decode(d2 + 1, strlen(d2 + 1), &j->sig, &j->siglen) < 0) {
		jwt_clear(j);
		return -EINVAL;
	}
	return 0;
}

static int
claim_int(json_t *claims, const char *k, int64_t *ret)
{
	json_t *v = json_object_get(claims, k);

	if (json_is_integer(v)) {
		*ret = json_integer_value(v);
		return 0;
	}
	if (json_is_real(v) && json_real_value(v) > -9e15 && json_real_value(v) < 9e15) {
		*ret = (int64_t)json_real_value(v);
		return 0;
	}
	return -EINVAL;
}

static int
rs256_ok(EVP_PKEY *k, const char *data, size_t len, const unsigned char *sig, size_t siglen)
{
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	int ok = 0;

	if (md != NULL && EVP_DigestVerifyInit(md, NULL, EVP_sha256(), NULL, k) == 1)
		ok = EVP_DigestVerify(md, sig, siglen, (const unsigned char *)data, len) == 1;
	EVP_MD_CTX_free(md);
	return ok;
}

/* iss = ACCOUNT.USER.SHA256:fp and sub = ACCOUNT.USER; user names may hold dots. */
static int
check_issuer(struct emu_auth *a, struct jwt *j, const struct emu_user **ret_user,
    const char **ret_fp, struct emu_auth_err *e)
{
	const char *iss = json_string_value(json_object_get(j->claims, "iss"));
	const char *sub = json_string_value(json_object_get(j->claims, "sub"));
	const char *fp, *dot;
	char acct[256], user[256];
	const struct emu_user *u;

	if (iss == NULL || sub == NULL)
		return refuse(e, 401, "390144", "JWT_TOKEN_INVALID: iss or sub missing");
	fp = strstr(iss, ".SHA256:");
	dot = strchr(iss, '.');
	if (fp == NULL || dot == NULL || dot >= fp || (size_t)(dot - iss) >= sizeof(acct) ||
	    (size_t)(fp - dot - 1) >= sizeof(user))
		return refuse(e, 401, "390144", "JWT_TOKEN_INVALID: iss \"%.80s\" not "
		    "ACCOUNT.USER.SHA256:<fp>", iss);
	snprintf(acct, sizeof(acct), "%.*s", (int)(dot - iss), iss);
	snprintf(user, sizeof(user), "%.*s", (int)(fp - dot - 1), dot + 1);
	if (strcmp(acct, a->conf->account) != 0)
		return refuse(e, 401, "390144", "JWT_TOKEN_ACCOUNT_MISMATCH (394307): account "
		    "\"%.60s\" in iss, expected \"%s\"", acct, a->conf->account);
	u = emu_conf_user(a->conf, user);
	if (u == NULL)
		return refuse(e, 401, "390144", "JWT_TOKEN_INVALID_USER_IN_ISSUER (394300): "
		    "user \"%.60s\"", user);
	if (strncmp(sub, iss, (size_t)(fp - iss)) != 0 || sub[fp - iss] != '\0')
		return refuse(e, 401, "390144", "JWT_TOKEN_INVALID: sub \"%.80s\" is not "
		    "\"%s.%s\"", sub, acct, user);
	*ret_user = u;
	*ret_fp = fp + 1;
	return 0;
}

static int
check_times(struct emu_auth *a, json_t *claims, int64_t now, unsigned allowed,
    struct emu_principal *p, struct emu_auth_err *e)
{
	const struct emu_conf *c = a->conf;
	int64_t iat, exp, nbf;

	if (claim_int(claims, "iat", &iat) < 0 || claim_int(claims, "exp", &exp) < 0)
		return refuse(e, 401, "390144",
		    "JWT_TOKEN_MISSING_ISSUE_OR_EXPIRATION_TIME (394301)");
	if (iat > now + c->jwt_max_skew_s)
		return refuse(e, 401, "390144", "JWT_TOKEN_INVALID_ISSUE_TIME (394302): iat %lld "
		    "is %lld s in the future (max skew %lld s)", (long long)iat,
		    (long long)(iat - now), (long long)c->jwt_max_skew_s);
	if (exp <= now)
		return refuse(e, 401, "390144", "JWT_TOKEN_INVALID_EXPIRATION_TIME (394303): "
		    "expired %lld s ago", (long long)(now - exp));
	if (exp - iat > c->jwt_max_lifetime_s)
		return refuse(e, 401, "390144", "JWT_TOKEN_INVALID_EXPIRATION_TIME (394303): "
		    "lifetime %lld s > %lld s", (long long)(exp - iat),
		    (long long)c->jwt_max_lifetime_s);
	if (exp <= iat)
		return refuse(e, 401, "390144", "JWT_TOKEN_INVALID_EXPIRATION_TIME (394303): "
		    "exp before iat");
	if (claim_int(claims, "nbf", &nbf) == 0 && nbf > now + c->jwt_max_skew_s)
		return refuse(e, 401, "390144", "JWT_TOKEN_INVALID: nbf in the future");
	if ((allowed & EMU_CRED_CONTROL) && a->max_age_s > 0 && now - iat > a->max_age_s)
		return refuse(e, 401, "390144", "JWT_TOKEN_INVALID_ISSUE_TIME (394302): issued "
		    "%lld s ago, more than %lld s before it was received (on demand)",
		    (long long)(now - iat), (long long)a->max_age_s);
	p->exp = exp;
	p->iat = iat;
	return 0;
}

static int
verify_keypair(struct emu_auth *a, const char *tok, struct jwt *j, int64_t now,
    unsigned allowed, struct emu_principal *p, struct emu_auth_err *e)
{
	const char *alg = json_string_value(json_object_get(j->hdr, "alg"));
	const char *scp = json_string_value(json_object_get(j->claims, "scp"));
	const struct emu_user *u = NULL;
	const char *fp = NULL;
	size_t k;
	int r;

	if (alg == NULL || strcmp(alg, "RS256") != 0)
		return refuse(e, 401, "390144", "JWT_TOKEN_INVALID_ALGORITHM (394305): alg "
		    "\"%.20s\"", alg ? alg : "(none)");
	if ((r = check_issuer(a, j, &u, &fp, e)) < 0)
		return r;
	for (k = 0; k < u->nkeys; k++)
		if (strcmp(fp, u->fp[k]) == 0)
			break;
	if (k == u->nkeys)
		return refuse(e, 401, "390144", "JWT_TOKEN_INVALID_PUBLIC_KEY_FINGERPRINT_MISMATCH "
		    "(394304): %.60s is not registered for %s", fp, u->name);
	if (!rs256_ok(u->keys[k], tok, j->signed_len, j->sig, j->siglen))
		return refuse(e, 401, "390144", "JWT_TOKEN_INVALID_SIGNATURE (394306) for %s",
		    u->name);
	if ((r = check_times(a, j->claims, now, allowed, p, e)) < 0)
		return r;
	p->user = u;
	p->kind = EMU_CRED_JWT;
	if (scp != NULL && strncmp(scp, "session:role:", 13) == 0)
		snprintf(p->role, sizeof(p->role), "%s", scp + 13);
	else
		snprintf(p->role, sizeof(p->role), "%s", u->default_role);
	return 0;
}

static int
hmac(struct emu_auth *a, const char *data, size_t len, unsigned char out[32])
{
	unsigned int n = 32;

	return HMAC(EVP_sha256(), a->secret, sizeof(a->secret), (const unsigned char *)data,
	    len, out, &n) != NULL ? 0 : -EIO;
}

static int
verify_scoped(struct emu_auth *a, const char *tok, struct jwt *j, int64_t now,
    struct emu_principal *p, struct emu_auth_err *e)
{
	unsigned char mac[32];
	const char *sub = json_string_value(json_object_get(j->claims, "sub"));
	const char *role = json_string_value(json_object_get(j->claims, "role"));
	const struct emu_user *u;
	int64_t gen, exp;

	if (j->siglen != 32 || hmac(a, tok, j->signed_len, mac) < 0 ||
	    CRYPTO_memcmp(mac, j->sig, 32) != 0)
		return refuse(e, 401, "390303", "scoped token: bad signature");
	if (claim_int(j->claims, "gen", &gen) < 0 || gen != a->gen)
		return refuse(e, 401, "390303", "scoped token: revoked (generation %lld, now %lld)",
		    (long long)gen, (long long)a->gen);
	if (claim_int(j->claims, "exp", &exp) < 0 || exp <= now)
		return refuse(e, 401, "390303", "scoped token: expired");
	if (sub == NULL || strchr(sub, '.') == NULL ||
	    (u = emu_conf_user(a->conf, strchr(sub, '.') + 1)) == NULL)
		return refuse(e, 401, "390303", "scoped token: unknown subject");
	p->user = u;
	p->kind = EMU_CRED_SCOPED;
	p->exp = exp;
	snprintf(p->role, sizeof(p->role), "%s", role ? role : u->default_role);
	return 0;
}

static int
verify_pat(struct emu_auth *a, const char *tok, int64_t now, struct emu_principal *p,
    struct emu_auth_err *e)
{
	size_t tl = strlen(tok);

	for (size_t i = 0; i < a->conf->nusers; i++) {
		const struct emu_user *u = &a->conf->users[i];

		for (size_t k = 0; k < u->npats; k++) {
			const struct emu_pat *pat = &u->pats[k];

			if (strlen(pat->secret) != tl || CRYPTO_memcmp(pat->secret, tok, tl) != 0)
				continue;
			if (pat->expires_at != 0 && pat->expires_at <= now)
				return refuse(e, 401, "PAT_INVALID", "PAT %s of %s expired",
				    pat->name, u->name);
			p->user = u;
			p->kind = EMU_CRED_PAT;
			p->exp = pat->expires_at;
			snprintf(p->role, sizeof(p->role), "%s",
			    pat->role ? pat->role : u->default_role);
			return 0;
		}
	}
	return refuse(e, 401, "PAT_INVALID", "token matches no JWT shape and no PAT");
}

int
emu_auth_verify(struct emu_auth *a, const char *tok, unsigned allowed, int64_t now,
    struct emu_principal *ret, struct emu_auth_err *e)
{
	struct emu_principal p = { 0 };
	struct jwt j;
	const char *kid;
	int r;

	if (tok == NULL || *tok == '\0')
		return refuse(e, 401, "390144", "no bearer token");
	if (strlen(tok) > JWT_MAX)
		return refuse(e, 401, "390144", "token longer than %d bytes", JWT_MAX);
	if (strchr(tok, '.') == NULL) {
		if (!(allowed & EMU_CRED_PAT))
			return refuse(e, 401, "PAT_INVALID", "PAT not accepted on this endpoint");
		r = verify_pat(a, tok, now, &p, e);
	} else if (jwt_split(tok, &j) < 0) {
		return refuse(e, 401, "390144", "JWT_TOKEN_INVALID: not a decodable JWT");
	} else {
		kid = json_string_value(json_object_get(j.hdr, "kid"));
		if (kid != NULL && strcmp(kid, "snowpipe-emu-scoped") == 0) {
			r = (allowed & EMU_CRED_SCOPED) ? verify_scoped(a, tok, &j, now, &p, e) :
			    refuse(e, 401, "390303", "scoped token not accepted on this endpoint");
		} else {
			r = (allowed & EMU_CRED_JWT) ?
			    verify_keypair(a, tok, &j, now, allowed, &p, e) :
			    refuse(e, 401, "390144", "key-pair JWT not accepted on this endpoint");
		}
		jwt_clear(&j);
	}
	if (r == 0)
		*ret = p;
	return r;
}

int
emu_auth_mint_scoped(struct emu_auth *a, const struct emu_principal *p, const char *scope,
    int64_t now, char **ret)
{
	char *h = NULL, *c = NULL, *hb = NULL, *cb = NULL, *sb = NULL, *out = NULL, sub[300];
	unsigned char mac[32];
	int64_t exp = now + a->conf->scoped_token_ttl_s;
	json_t *claims;
	size_t n;
	int r = -ENOMEM;

	if (p->kind == EMU_CRED_JWT && p->exp > 0 && p->exp < exp)
		exp = p->exp;
	snprintf(sub, sizeof(sub), "%s.%s", a->conf->account, p->user->name);
	claims = json_pack("{s:s, s:s, s:s, s:I, s:I, s:I, s:s}", "iss", "snowpipe-emu",
	    "sub", sub, "aud", scope, "iat", (json_int_t)now, "exp", (json_int_t)exp, "gen",
	    (json_int_t)a->gen, "role", p->role);
	h = strdup("{\"alg\":\"HS256\",\"typ\":\"JWT\",\"kid\":\"snowpipe-emu-scoped\"}");
	c = claims ? json_dumps(claims, JSON_COMPACT) : NULL;
	json_decref(claims);
	if (h == NULL || c == NULL || emu_b64url_encode(h, strlen(h), &hb) < 0 ||
	    emu_b64url_encode(c, strlen(c), &cb) < 0)
		goto out;
	n = strlen(hb) + strlen(cb) + 64;
	if ((out = malloc(n)) == NULL)
		goto out;
	snprintf(out, n, "%s.%s", hb, cb);
	if ((r = hmac(a, out, strlen(out), mac)) < 0 ||
	    (r = emu_b64url_encode(mac, sizeof(mac), &sb)) < 0)
		goto out;
	snprintf(out + strlen(out), n - strlen(out), ".%s", sb);
	*ret = out;
	out = NULL;
	r = 0;
out:
	free(h);
	free(c);
	free(hb);
	free(cb);
	free(sb);
	free(out);
	return r;
}
