/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fuzz_emu_ddl: the Snowpipe emulator's DDL reader (CREATE TABLE / CREATE
 * PIPE subset) on arbitrary SQL text: never crash, never read past the
 * buffer, and whatever it accepts has the shapes emu_conf expects (with USE
 * DATABASE/SCHEMA, names as written unqualified still end up qualified).
 */
#include <stdint.h>
#include <stdlib.h>

#include "emu_ddl.c"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Every accepted object is fully qualified (USE fills in what SQL left out). */
static bool
named(json_t *o)
{
	return json_string_length(json_object_get(o, "database")) > 0 &&
	    json_string_length(json_object_get(o, "schema")) > 0 &&
	    json_string_length(json_object_get(o, "name")) > 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	json_t *tables = json_array(), *pipes = json_array(), *v;
	char err[300];
	size_t i;

	if (emu_ddl_parse("fuzz", (const char *)data, size, tables, pipes, err,
	    sizeof(err)) == 0) {
		json_array_foreach(tables, i, v)
			if (!json_is_array(json_object_get(v, "columns")) || !named(v))
				abort();
		json_array_foreach(pipes, i, v)
			if (json_array_size(json_object_get(v, "columns")) !=
			    json_array_size(json_object_get(v, "select")) || !named(v))
				abort();
	}
	json_decref(tables);
	json_decref(pipes);
	return 0;
}
