/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fuzz_emu_ndjson: the Snowpipe emulator's row path on hostile bytes. Each
 * NDJSON line goes through the syntax-only validator (--store count) and,
 * differentially, through jansson: whatever jansson accepts as an object the
 * validator must accept too (it may be stricter only on nesting depth). Each
 * object is then projected through a default pipe whose table has one column
 * of every type, exercising every conversion.
 */
#include <stdint.h>
#include <stdlib.h>

#include "emu_rows.c"

static struct emu_column cols[] = {
	{ .name = "N", .type = EMU_T_NUMBER, .precision = 10, .scale = 2 },
	{ .name = "I", .type = EMU_T_NUMBER, .precision = 38, .scale = 0 },
	{ .name = "F", .type = EMU_T_FLOAT },
	{ .name = "S", .type = EMU_T_VARCHAR, .max_len = 8 },
	{ .name = "B", .type = EMU_T_BOOLEAN },
	{ .name = "T", .type = EMU_T_TIMESTAMP },
	{ .name = "D", .type = EMU_T_DATE },
	{ .name = "V", .type = EMU_T_VARIANT },
	{ .name = "O", .type = EMU_T_OBJECT, .not_null = true },
	{ .name = "A", .type = EMU_T_ARRAY },
};
#define NCOLS (sizeof(cols) / sizeof(cols[0]))

static int
max_depth(const char *s, size_t n)
{
	int d = 0, m = 0;

	for (size_t i = 0; i < n; i++) {
		if (s[i] == '{' || s[i] == '[')
			m = ++d > m ? d : m;
		else if (s[i] == '}' || s[i] == ']')
			d--;
	}
	return m;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct emu_pipe_col pcols[NCOLS];
	static struct emu_table table = { .name = "T", .cols = cols, .ncols = NCOLS };
	static struct emu_pipe pipe = { .table = &table, .cols = pcols, .ncols = NCOLS,
		.is_default = true };
	const char *buf = (const char *)data, *line;
	size_t pos = 0, n;

	for (size_t i = 0; i < NCOLS; i++)
		pcols[i] = (struct emu_pipe_col){ .col = i, .by_name = true };
	while (emu_rows_next_line(buf, size, &pos, &line, &n)) {
		bool ours = emu_rows_valid_object(line, n);
		json_t *j = json_loadb(line, n, 0, NULL);
		struct emu_val vals[NCOLS] = { 0 };
		char err[300];

		/* jansson skips raw NUL bytes; JSON (and the emulator) does not */
		if (j != NULL && json_is_object(j) && !ours && max_depth(line, n) < 200 &&
		    memchr(line, '\0', n) == NULL)
			abort();	/* the validator refused valid JSON */
		if (j != NULL && json_is_object(j))
			(void)emu_rows_project(&pipe, j, vals, err, sizeof(err));
		for (size_t i = 0; i < NCOLS; i++)
			emu_val_clear(&vals[i]);
		json_decref(j);
	}
	return 0;
}
