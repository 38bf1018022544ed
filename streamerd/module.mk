# SPDX-License-Identifier: Apache-2.0
# streamerd/: the Snowpipe Streaming client daemon. Everything but main.c is
# a library so unit tests and fuzz targets can reach the modules.
CPPFLAGS.streamerd := -Icommon -Istreamerd
LIBS += streamerd_core
streamerd_core_SRCS := streamerd/api.c streamerd/auth.c streamerd/batch.c \
	streamerd/config.c streamerd/engine.c streamerd/http.c streamerd/metrics.c \
	streamerd/row.c streamerd/stream.c streamerd/timefix.c

PROGS += streamerd
streamerd_SRCS := streamerd/main.c
streamerd_LIBS := streamerd_core common
streamerd_PKGS := libcurl libcrypto jansson libzstd zlib msgpack libseccomp
streamerd_LDLIBS := -lm

ALL_PKGS += libcurl libcrypto jansson libzstd zlib

# --print-rows
streamerd_core_SRCS += streamerd/preview.c
