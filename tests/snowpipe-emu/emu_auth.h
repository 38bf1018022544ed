/* SPDX-License-Identifier: Apache-2.0 */
/*
 * emu_auth: the emulator's credential checks — key-pair JWTs verified for real
 * (RS256 against the user's registered key, iss fingerprint, sub, iat/exp,
 * lifetime, skew), programmatic access tokens, and the scoped tokens it mints
 * itself (HMAC-signed, JWT-shaped, expiring, revocable all at once).
 */
#ifndef EMU_AUTH_H
#define EMU_AUTH_H

#include <stdint.h>

#include "emu_conf.h"

/* Credential kinds an endpoint takes; EMU_CRED_CONTROL marks a control-plane
 * call (hostname, token), where the on-demand JWT age limit applies. */
enum emu_cred {
	EMU_CRED_JWT = 1, EMU_CRED_PAT = 2, EMU_CRED_SCOPED = 4, EMU_CRED_CONTROL = 8
};

struct emu_principal {
	const struct emu_user *user;	/* borrowed from the config */
	enum emu_cred kind;
	int64_t exp;			/* Unix s; 0 = none */
	int64_t iat;			/* key-pair JWT: issue time, Unix s */
	char role[128];
};

/* Why a credential was refused: HTTP status, wire code and message, and the
 * specific reason (a 3943xx name) that only goes to the emulator's log. */
struct emu_auth_err {
	int status;
	const char *code;
	char message[160];
	char reason[200];
};

struct emu_auth;

/* Creates the checker over c (borrowed for the checker's life) with a 32-byte
 * scoped-token secret (copied) and the current token generation. */
int emu_auth_new(const struct emu_conf *c, const unsigned char secret[32], int64_t gen,
    struct emu_auth **ret);
/* Frees a; NULL is fine. */
void emu_auth_free(struct emu_auth *a);
/* Verifies a bearer token whose kind must be in the allowed mask. Fills *ret
 * on success (returns 0) or *err (returns -EACCES). */
int emu_auth_verify(struct emu_auth *a, const char *token, unsigned allowed, int64_t now,
    struct emu_principal *ret, struct emu_auth_err *err);
/* Mints a scoped token for p valid for scope (new string in *ret). */
int emu_auth_mint_scoped(struct emu_auth *a, const struct emu_principal *p,
    const char *scope, int64_t now, char **ret);
/* On control-plane calls, refuse key-pair JWTs issued more than max_age_s
 * ago (394302, "received more than 60 s after the issue time"); 0 = off. */
void emu_auth_set_max_age(struct emu_auth *a, int64_t max_age_s);
/* Invalidates every scoped token minted so far; returns the new generation. */
int64_t emu_auth_expire_all(struct emu_auth *a);
/* Writes a random RFC 4122 v4 UUID into out (37 bytes). */
void emu_uuid(char out[37]);

#endif
