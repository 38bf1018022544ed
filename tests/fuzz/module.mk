# SPDX-License-Identifier: Apache-2.0
# tests/fuzz/: libFuzzer targets (fuzz_*.c, built by `make fuzz`, run by
# `make fuzz-run` through run-all), one folder per component with its seed
# corpus in corpus/<target>/. Same include paths and libraries as the
# component's unit tests.
CPPFLAGS.tests/fuzz/common = $(CPPFLAGS.common)
TEST_LIBS.tests/fuzz/common = common

CPPFLAGS.tests/fuzz/sensord = $(CPPFLAGS.sensord)
TEST_LIBS.tests/fuzz/sensord = sensord_core common

CPPFLAGS.tests/fuzz/streamerd = $(CPPFLAGS.streamerd)
TEST_LIBS.tests/fuzz/streamerd = streamerd_core common

CPPFLAGS.tests/fuzz/sensortap = $(CPPFLAGS.sensortap)
TEST_LIBS.tests/fuzz/sensortap = sensortap_core common
