/* SPDX-License-Identifier: Apache-2.0 */
/*
 * auth: the credentials side of Snowflake's key-pair authentication — loads
 * the RSA private key (PKCS#8 plain or encrypted, or PKCS#1), computes the
 * public-key fingerprint Snowflake shows in DESC USER, normalises the
 * account and user for the claims, mints RS256 JWTs, and reads the expiry
 * of a JWT-shaped token. Nothing here logs: callers never log what it makes.
 */
#ifndef STREAMERD_AUTH_H
#define STREAMERD_AUTH_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>

#define AUTH_FP_LEN 52		/* "SHA256:" + 44 base64 chars + NUL */
#define AUTH_JWT_LIFETIME 3540	/* 59 minutes, as Snowflake's own sample */

/* Loads the private key at key_path, decrypting it with the first line of
 * pass_path when that is non-NULL. Requires RSA >= 2048 bits. *ret_key is
 * new (EVP_PKEY_free). On failure returns -errno / -EINVAL / -EKEYREJECTED
 * (wrong or missing passphrase) with a message in err. */
int auth_load_key(const char *key_path, const char *pass_path, EVP_PKEY **ret_key,
    char *err, size_t errlen);
/* Writes "SHA256:<base64 of SHA-256 of the SubjectPublicKeyInfo DER>". */
int auth_fingerprint(EVP_PKEY *key, char out[AUTH_FP_LEN]);
/* Account for the claims: upper-case, URL scheme and domain stripped, a
 * region/cloud suffix of a locator cut, other dots turned into hyphens. */
void auth_claim_account(const char *account, char *out, size_t cap);
/* Upper-cased copy of s (user names in claims). */
void auth_upper(const char *s, char *out, size_t cap);
/* Mints an RS256 JWT (iss ACCOUNT.USER.<fp>, sub ACCOUNT.USER, iat now,
 * exp now + lifetime, and scp when scp is not NULL: "session:role:R" picks
 * a role other than the user's default). *ret_jwt is new (free). */
int auth_make_jwt(EVP_PKEY *key, const char *claim_account, const char *claim_user,
    const char *fp, const char *scp, int64_t now_s, int64_t lifetime_s, char **ret_jwt);
/* Reads the exp claim of a JWT-shaped token. 0 or -EINVAL. */
int auth_token_exp(const char *token, int64_t *ret_exp);
/* base64url without padding of len bytes; *ret is new. */
int auth_b64url(const unsigned char *in, size_t len, char **ret);

#endif
