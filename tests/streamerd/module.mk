# SPDX-License-Identifier: Apache-2.0
# tests/streamerd/: fake-sensord, the scripted sensord stand-in for the tests of
# its clients (streamerd, sensortap), and check.py, which mirrors its records.
CPPFLAGS.tests/streamerd := -Icommon
TEST_PROGS += fake-sensord
fake-sensord_SRCS := tests/streamerd/fake-sensord.c
fake-sensord_LIBS := common
fake-sensord_PKGS := msgpack jansson
