# SPDX-License-Identifier: Apache-2.0
# tests/unit/: cmocka unit tests, one folder per component, each test_*.c one
# binary (found by the top Makefile). A folder compiles with its component's
# include path and links only its component's libraries plus common/, so
# sensord's and streamerd's same-named modules (config, metrics) never meet.
# sensord's driver tests run the chips on the in-process fake bus
# (tests/fakei2c/fakebus_bus.h, libfakebus.a).
CPPFLAGS.tests/unit/common = $(CPPFLAGS.common)
TEST_LIBS.tests/unit/common = common

CPPFLAGS.tests/unit/sensord = $(CPPFLAGS.sensord) -Itests/fakei2c
TEST_LIBS.tests/unit/sensord = sensord_core fakebus common

# streamerd's engine tests read the service's canned answers
# (tests/snowpipe-emu/answers/) with the emulator's reader.
CPPFLAGS.tests/unit/streamerd = $(CPPFLAGS.streamerd) -Itests/snowpipe-emu
TEST_LIBS.tests/unit/streamerd = streamerd_core emu_answer common

CPPFLAGS.tests/unit/sensortap = $(CPPFLAGS.sensortap)
TEST_LIBS.tests/unit/sensortap = sensortap_core common
