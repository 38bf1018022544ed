# SPDX-License-Identifier: Apache-2.0
# sensortap/: the reference client of sensord's socket protocol (debug tap,
# --pretty lines, the --watch view). Everything but sensortap.c is a library
# so unit tests and fuzz targets can reach the modules. It links only
# common/.
CPPFLAGS.sensortap := -Icommon -Isensortap
LIBS += sensortap_core
sensortap_core_SRCS := sensortap/pretty.c sensortap/promfile.c sensortap/series.c \
	sensortap/text.c sensortap/view.c sensortap/watch.c

PROGS += sensortap
sensortap_SRCS := sensortap/sensortap.c
sensortap_LIBS := sensortap_core common
sensortap_PKGS := msgpack jansson
sensortap_LDLIBS := -lm
