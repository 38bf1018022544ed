# SPDX-License-Identifier: Apache-2.0
# tests/sdclient/: a scriptable socket client for sensord's integration
# tests (acks, stuck and hostile clients, many subscribers at once).
CPPFLAGS.tests/sdclient := -Icommon
TEST_PROGS += sdclient
sdclient_SRCS := tests/sdclient/sdclient.c
sdclient_LIBS := common
sdclient_PKGS := msgpack jansson libseccomp

# sandboxprobe.so: preloaded into sensord by tests/integration/sensord/seccomp.sh;
# tries forbidden calls from inside the sandboxed daemon and reports the errnos.
TEST_SHLIBS += sandboxprobe
sandboxprobe_SRCS := tests/sdclient/sandboxprobe.c
