/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer target for every HTTP answer streamerd parses: hostname, token,
 * open channel, append, bulk status, error bodies, and the exp claim of a
 * scoped token. Each parser sees every input; on success the outputs must
 * satisfy the parsers' promises (normalised host, printable token, bounded
 * strings), on failure the out-parameters stay untouched.
 */
#include <assert.h>
#include <ctype.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "auth.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *body = (const char *)data;
	char host[API_HOST_MAX], code[128], *tok = NULL, *cont = NULL, *nul;
	struct api_chstatus st;
	bool found = false;
	int64_t exp = 0;

	if (api_parse_hostname(body, size, host) == 0) {
		assert(strlen(host) > 0 && strlen(host) < API_HOST_MAX);
		for (const char *p = host; *p; p++)
			assert(!isupper((unsigned char)*p) && *p != '_' && *p != '/');
	}
	if (api_parse_token(body, size, &tok) == 0) {
		assert(strlen(tok) > 0 && strlen(tok) <= API_TOKEN_MAX);
		for (const char *p = tok; *p; p++)
			assert(isgraph((unsigned char)*p));
		free(tok);
	}
	if (api_parse_open(body, size, &cont, &st) == 0) {
		assert(cont != NULL && strlen(st.code) < sizeof(st.code));
		free(cont);
		cont = NULL;
	}
	assert(cont == NULL);
	if (api_parse_append(body, size, &cont) == 0)
		free(cont);
	(void)api_parse_status(body, size, "pi-7", &st, &found);
	api_error_code(body, size, code, sizeof(code));
	assert(strlen(code) < sizeof(code));
	(void)api_classify(size % 600, code);
	/* the token expiry reader takes a NUL-terminated string */
	if ((nul = malloc(size + 1)) != NULL) {
		memcpy(nul, data, size);
		nul[size] = '\0';
		(void)auth_token_exp(nul, &exp);
		free(nul);
	}
	return 0;
}
