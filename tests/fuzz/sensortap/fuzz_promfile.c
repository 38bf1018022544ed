/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer target for promfile, sensortap's reader of streamerd's metrics
 * file: any bytes parse (a line that is not a sample is skipped), and every
 * name a line begins with can be looked up, value and labels, with the
 * label value bounded and NUL-terminated.
 */
#include <assert.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "promfile.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Looks up the name at the start of each line of text. */
static void
lookups(struct promfile *pf, const char *text, size_t len)
{
	static const char *const labels[] = { "device", "error", "quantile", "" };
	char name[128];
	double v;

	for (size_t i = 0; i < len;) {
		size_t n = strcspn(text + i, "{ \t\n");

		if (n > 0 && n < sizeof(name)) {
			memcpy(name, text + i, n);
			name[n] = '\0';
			(void)promfile_value(pf, name, &v);
			for (size_t k = 0; k < sizeof(labels) / sizeof(labels[0]); k++) {
				const char *l = promfile_label(pf, name, labels[k]);

				assert(l == NULL || strlen(l) < PROMFILE_LABEL_MAX);
			}
		}
		i += strcspn(text + i, "\n") + 1;
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct promfile *pf;
	char *text = malloc(size + 1);

	if (text == NULL)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	if (promfile_parse((const char *)data, size, &pf) == 0) {
		lookups(pf, text, strlen(text));
		promfile_free(pf);
	}
	free(text);
	return 0;
}
