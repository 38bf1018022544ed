# SPDX-License-Identifier: Apache-2.0
# docs/: schema.md's generated tables are written from the field table
# (common/record.c) and the row's column table (streamerd/row.c) by the two
# unit tests that check them, run in their update mode.
.PHONY: schema-doc
schema-doc: $(BUILD)/tests/test_record $(BUILD)/tests/test_row
	SCHEMA_DOC_UPDATE=1 TOP=$(CURDIR) $(BUILD)/tests/test_record >/dev/null
	SCHEMA_DOC_UPDATE=1 TOP=$(CURDIR) $(BUILD)/tests/test_row >/dev/null
