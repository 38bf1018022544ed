# SPDX-License-Identifier: Apache-2.0
# common/: code both daemons share (logging, config, protocol codec, the
# socket transport, CRCs, clocks, loop timers, the Prometheus text writer,
# sandbox, small file helpers).
CPPFLAGS.common := -Icommon
LIBS += common
common_SRCS := $(sort $(wildcard common/*.c))
ALL_PKGS += msgpack jansson libseccomp
