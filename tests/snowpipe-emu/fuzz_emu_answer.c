/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fuzz_emu_answer: the canned-answer reader on arbitrary bytes: never crash,
 * never read past the buffer, and an accepted answer is consistent (status
 * in range, headers with names, a NUL-terminated body of the stated length).
 */
#include <stdint.h>
#include <stdlib.h>

#include "emu_answer.c"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct emu_answer a;
	char err[200];

	if (emu_answer_parse((const char *)data, size, &a, err, sizeof(err)) != 0)
		return 0;
	if (a.status < 100 || a.status > 599 || a.reason == NULL || a.body == NULL ||
	    a.body[a.body_len] != '\0' || a.body_len > size)
		abort();
	for (size_t i = 0; i < a.nhdr; i++)
		if (a.names[i][0] == '\0' || a.values[i] == NULL)
			abort();
	emu_answer_clear(&a);
	return 0;
}
