# tests/bench/: the benchmark table (`make bench`, not part of `make all`)
# and the two programs it runs besides the daemons.
CPPFLAGS.tests/bench := -Icommon -Isensord

.PHONY: bench

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

# BENCH_QUICK=1: shorter runs (smaller backlog, 20 s footprint window).
bench:
	@$(MAKE) --no-print-directory tests >/dev/null
	@BUILD=$(abspath $(BUILD)) TOP=$(CURDIR) BENCH_QUICK=$(BENCH_QUICK) \
		python3 tests/bench/bench --json $(BUILD)/bench.json
