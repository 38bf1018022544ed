# SPDX-License-Identifier: Apache-2.0
# tests/fakei2c/: byte-level chip models (libfakebus.a, for the driver unit
# tests), the LD_PRELOAD library standing in for /dev/i2c-N (fakei2c.so,
# used through tests/fakei2c/with-chips) and i2c-poke, a tiny driver-like
# client the integration tests run under it. See README.md. The models' own
# unit tests (test_fakebus_*.c) sit beside them.
CPPFLAGS.tests/fakei2c := -Icommon
TEST_LIBS.tests/fakei2c := fakebus common
fakebus_SRCS := tests/fakei2c/fakebus.c tests/fakei2c/scd4x.c \
	tests/fakei2c/sgp30.c tests/fakei2c/icp10125.c
LIBS += fakebus

TEST_SHLIBS += fakei2c
fakei2c_SRCS := tests/fakei2c/preload.c $(fakebus_SRCS) common/crc.c
fakei2c_PKGS := jansson
fakei2c_LDLIBS := -lm -lpthread

TEST_PROGS += i2c-poke
i2c-poke_SRCS := tests/fakei2c/i2c-poke.c
i2c-poke_PKGS := libseccomp
