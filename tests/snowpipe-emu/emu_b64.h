/* SPDX-License-Identifier: Apache-2.0 */
/*
 * emu_b64: base64 (standard, padded) and base64url (unpadded) codecs for the
 * Snowpipe emulator's JWTs, key fingerprints and scoped tokens.
 */
#ifndef EMU_B64_H
#define EMU_B64_H

#include <stddef.h>

/* Encodes len bytes as base64url without padding into *ret (new, NUL-terminated). */
int emu_b64url_encode(const void *data, size_t len, char **ret);
/* Encodes len bytes as standard padded base64 into *ret (new, NUL-terminated). */
int emu_b64_encode(const void *data, size_t len, char **ret);
/* Decodes base64url (padding optional; '+' and '/' refused) into *ret (new,
 * NUL-terminated for convenience) and *ret_len; -EINVAL on bad input. */
int emu_b64url_decode(const char *s, size_t len, unsigned char **ret, size_t *ret_len);

#endif
