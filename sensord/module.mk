# sensord/: the privileged daemon (bus, chips, journal, socket server).
# Everything but main.c goes into sensord_core so unit tests, fuzz targets
# and benchmarks link the same code the daemon runs.
LIBS += sensord_core
sensord_core_SRCS := $(filter-out sensord/main.c,$(sort $(wildcard sensord/*.c)))

PROGS += sensord
sensord_SRCS := sensord/main.c
sensord_LIBS := sensord_core common
sensord_PKGS := msgpack jansson libseccomp
sensord_LDLIBS := -lm

# `make bench` runs this: journal append rate (fsync never/always) and
# replay rate through the server to one client, as one JSON line.
TEST_PROGS += journal-bench
journal-bench_SRCS := tests/bench/journal-bench.c
journal-bench_LIBS := sensord_core common
journal-bench_PKGS := msgpack jansson libseccomp
journal-bench_LDLIBS := -lm
