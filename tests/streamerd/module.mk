# tests/streamerd/: test helpers for streamerd (a scripted sensord stand-in).
CPPFLAGS.tests/streamerd := -Icommon
TEST_PROGS += fake-sensord
fake-sensord_SRCS := tests/streamerd/fake-sensord.c
fake-sensord_LIBS := common
fake-sensord_PKGS := msgpack jansson
