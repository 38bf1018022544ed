# SPDX-License-Identifier: Apache-2.0
# tests/snowpipe-emu: the Snowpipe Streaming REST emulator (test-only), its
# JWT-minting helper and its load generator; beside them, the emulator's unit
# tests (test_emu_*.c) and fuzz targets (fuzz_emu_*.c, seeds in corpus/); canned
# answers of the real service in answers/.
CPPFLAGS.tests/snowpipe-emu := -Icommon
TEST_LIBS.tests/snowpipe-emu := common
TEST_PROGS += snowpipe-emu emu-jwt emu-load
snowpipe-emu_SRCS := $(addprefix tests/snowpipe-emu/,emu_main.c emu_api.c emu_answer.c \
	emu_auth.c emu_b64.c emu_chan.c emu_codec.c emu_conf.c emu_ddl.c emu_fault.c \
	emu_http.c emu_rows.c emu_store.c)
snowpipe-emu_LIBS := common
snowpipe-emu_PKGS := libmicrohttpd jansson libcrypto zlib libzstd sqlite3
snowpipe-emu_LDLIBS := -lm

# The canned-answer reader alone, for tests of clients (streamerd's engine
# tests read answers/ through it).
LIBS += emu_answer
emu_answer_SRCS := tests/snowpipe-emu/emu_answer.c

emu-jwt_SRCS := tests/snowpipe-emu/emu_jwt_main.c tests/snowpipe-emu/emu_b64.c
emu-jwt_LIBS := common
emu-jwt_PKGS := jansson libcrypto

emu-load_SRCS := tests/snowpipe-emu/emu_load.c
emu-load_LIBS := common
emu-load_PKGS := libcurl jansson zlib libzstd
EXTRA_DEB_PACKAGES += zstd
