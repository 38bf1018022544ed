# SPDX-License-Identifier: Apache-2.0
# tests/bench/: the benchmark table (`make bench`, not part of `make all`),
# the two programs it runs besides the daemons, and the fleet of device
# pipelines (fleet.sh, on the test harness; `make bench-fleet` alone).
CPPFLAGS.tests/bench := -Icommon -Isensord -Istreamerd

.PHONY: bench bench-fleet

# `make bench` runs this: journal append rate (fsync never/always) and
# replay rate through the server to one client, as one JSON line.
TEST_PROGS += journal-bench
journal-bench_SRCS := tests/bench/journal-bench.c
journal-bench_LIBS := sensord_core common
journal-bench_PKGS := msgpack jansson libseccomp
journal-bench_LDLIBS := -lm

# A sensord journal with a backlog, for the drain benchmark.
TEST_PROGS += journal-fill
journal-fill_SRCS := tests/bench/journal-fill.c
journal-fill_LIBS := sensord_core common
journal-fill_PKGS := msgpack jansson libseccomp
journal-fill_LDLIBS := -lm

# A row's cost inside streamerd, stage by stage (decode, format, compress),
# on a journal that journal-fill wrote: the fastest of several passes.
TEST_PROGS += row-bench
row-bench_SRCS := tests/bench/row-bench.c
row-bench_LIBS := streamerd_core sensord_core common
row-bench_PKGS := libcurl libcrypto jansson libzstd zlib msgpack libseccomp
row-bench_LDLIBS := -lm

# BENCH_QUICK=1: shorter runs (smaller backlog, 20 s footprint window, a
# fleet of 10 for 30 s). FLEET_DEVICES / FLEET_SECONDS size the fleet phase
# (tests/bench/fleet.sh; default 50 devices for 120 s); make passes them on
# from its command line or the environment.
bench:
	@$(MAKE) --no-print-directory tests >/dev/null
	@BUILD=$(abspath $(BUILD)) TOP=$(CURDIR) BENCH_QUICK=$(BENCH_QUICK) \
		python3 tests/bench/bench --json $(BUILD)/bench.json

# The fleet phase alone: `make bench-fleet [FLEET_DEVICES=N] [FLEET_SECONDS=S]`.
bench-fleet:
	@$(MAKE) --no-print-directory tests >/dev/null
	@BUILD=$(abspath $(BUILD)) TOP=$(CURDIR) BENCH_QUICK=$(BENCH_QUICK) \
		python3 tests/bench/bench --only fleet --json $(BUILD)/bench-fleet.json
