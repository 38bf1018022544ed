# SPDX-License-Identifier: Apache-2.0
# tests/ops/: helpers for the ops integration tests (tests/integration/ops/).
CPPFLAGS.tests/ops :=	# system headers only
TEST_PROGS += ops-sysfilter
ops-sysfilter_SRCS := tests/ops/sysfilter.c
ops-sysfilter_PKGS := libseccomp
