# SPDX-License-Identifier: Apache-2.0
# sensord/: the privileged daemon (bus, chips, journal, socket server).
# Everything but main.c goes into sensord_core so unit tests, fuzz targets
# and benchmarks link the same code the daemon runs.
CPPFLAGS.sensord := -Icommon -Isensord
LIBS += sensord_core
sensord_core_SRCS := $(filter-out sensord/main.c,$(sort $(wildcard sensord/*.c)))

PROGS += sensord
sensord_SRCS := sensord/main.c
sensord_LIBS := sensord_core common
sensord_PKGS := msgpack jansson libseccomp
sensord_LDLIBS := -lm
