# tapserver: a tiny scripted sensord stand-in for sensortap's tests.
CPPFLAGS.tests/tapserver := -Icommon
TEST_PROGS += tapserver
tapserver_SRCS := tests/tapserver/tapserver.c
tapserver_LIBS := common
tapserver_PKGS := msgpack jansson
