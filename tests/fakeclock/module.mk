# SPDX-License-Identifier: Apache-2.0
# tests/fakeclock/: the LD_PRELOAD library that fakes the kernel's clock
# discipline (adjtimex: synchronised or not) and offsets the wall clock, for
# tests of the unmodified daemons (see README.md), and clock-poke, the tiny
# client its own test runs under it.
CPPFLAGS.tests/fakeclock := -Icommon
TEST_SHLIBS += fakeclock
fakeclock_SRCS := tests/fakeclock/fakeclock.c
fakeclock_LDLIBS := -lpthread

TEST_PROGS += clock-poke
clock-poke_SRCS := tests/fakeclock/clock-poke.c
clock-poke_PKGS := libseccomp
