# SPDX-License-Identifier: Apache-2.0
# snowsense — top-level GNU Makefile (non-recursive).
#
# Each directory adds its programs, libraries and tests through a module.mk
# fragment included below, so adding a module never means editing this file.
# Include paths are per directory: a fragment sets CPPFLAGS.<dir> for each
# directory it compiles, so a file sees only the headers it may use (neither
# daemon sees the other's headers, common/ sees only its own).
# Objects go to $(BUILD): build/ normally, build-san/ with SAN=1,
# build-fuzz/ for the libFuzzer targets, build-<triplet>/ with CROSS=.

-include config.mk

VERSION   := 0.1.0
PREFIX    ?= /usr/local
BINDIR    ?= $(PREFIX)/bin
SBINDIR   ?= $(PREFIX)/sbin
MANDIR    ?= $(PREFIX)/share/man
SYSCONFDIR ?= /etc
DESTDIR   ?=

CROSS     ?=
ifneq ($(CROSS),)
CC        := $(CROSS)-gcc
AR        := $(CROSS)-ar
PKG_CONFIG ?= $(CROSS)-pkg-config
BUILD     ?= build-$(CROSS)
else
CC        ?= cc
PKG_CONFIG ?= pkg-config
endif

ifeq ($(SAN),1)
BUILD     ?= build-san
SANFLAGS  := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
else
BUILD     ?= build
SANFLAGS  :=
endif

WARN := -Wall -Wextra -Wformat=2 -Wshadow -Wstrict-prototypes \
	-Wmissing-prototypes -Wpointer-arith -Wcast-qual -Wundef \
	-Wno-missing-field-initializers
ifneq ($(CI),)
WARN += -Werror
endif
HARDEN := -fstack-protector-strong -fPIE
ifeq ($(SAN),)
HARDEN += -D_FORTIFY_SOURCE=2
endif

CFLAGS  ?= -O2 -g
CPPFLAGS_ALL := -D_GNU_SOURCE -DSNOWSENSE_VERSION='"$(VERSION)"' $(CPPFLAGS)
# 64-bit off_t and ino_t on 32-bit targets (armhf) too: a 32-bit readdir
# fails with EOVERFLOW on a file system that hands out 64-bit inode numbers
# or directory offsets (the journal's segment listing under qemu-arm on a
# 64-bit kernel, big disks). For programs, libraries and tests; not for the
# LD_PRELOAD fakes (pic/), which define both open and open64 and so must
# see them as two functions. No-op on 64-bit targets.
LFS := -D_FILE_OFFSET_BITS=64
CFLAGS_ALL   := -std=c17 $(WARN) $(HARDEN) $(SANFLAGS) $(CFLAGS)
LDFLAGS_ALL  := -pie -Wl,-z,relro,-z,now $(SANFLAGS) $(LDFLAGS)

pkgcflags = $(if $(1),$(shell $(PKG_CONFIG) --cflags $(1)))
pkglibs   = $(if $(1),$(shell $(PKG_CONFIG) --libs $(1)))

# Fragments define rules (install-man, bench, …) before the `all` rule below.
.DEFAULT_GOAL := all

# Filled in by the module.mk fragments.
PROGS        :=	# installed programs
TEST_PROGS   :=	# helper programs built for `make check`
TEST_SHLIBS  :=	# shared objects built for `make check` (LD_PRELOAD fakes)
LIBS         :=	# static convenience libraries, linked by programs and unit tests
ALL_PKGS     :=	# every pkg-config package any unit test may need
# Per directory, also set by the fragments:
#   CPPFLAGS.<dir>   include paths of the sources in <dir>, e.g. -Icommon -I<dir>
#   TEST_LIBS.<dir>  libraries (in link order) of the unit tests (test_*.c) and
#                    fuzz targets (fuzz_*.c) in <dir>

include $(sort $(wildcard */module.mk tests/*/module.mk)) cross.mk

# ---------------------------------------------------------------- rules

objs = $(patsubst %.c,$(BUILD)/obj/%.o,$(1))
picobjs = $(patsubst %.c,$(BUILD)/pic/%.o,$(1))
libfile = $(BUILD)/lib/lib$(1).a
libfiles = $(foreach l,$(1),$(call libfile,$(l)))

# The include paths of the directory a source is in; a directory nobody
# declared is an error rather than a compile that finds the wrong header.
srcdir = $(patsubst %/,%,$(dir $(1)))
dircppflags = $(if $(filter undefined,$(origin CPPFLAGS.$(call srcdir,$(1)))),\
	$(error $(1): no include paths for $(call srcdir,$(1))/: set CPPFLAGS.$(call srcdir,$(1)) in its module.mk),\
	$(CPPFLAGS.$(call srcdir,$(1))))

$(BUILD)/obj/%.o: %.c $(BUILD)/.flags
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS_ALL) $(LFS) $(call dircppflags,$<) $(CFLAGS_ALL) $(call pkgcflags,$(ALL_PKGS)) -MMD -MP -c -o $@ $<

$(BUILD)/pic/%.o: %.c $(BUILD)/.flags
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS_ALL) $(call dircppflags,$<) $(filter-out -fPIE,$(CFLAGS_ALL)) -fPIC $(call pkgcflags,$(ALL_PKGS)) -MMD -MP -c -o $@ $<

# Rebuild everything when the flags change (per-directory ones included).
FLAGSTR := $(CC) $(CPPFLAGS_ALL) $(LFS) $(CFLAGS_ALL) $(LDFLAGS_ALL) \
	$(foreach v,$(sort $(filter CPPFLAGS.%,$(.VARIABLES))),$(v)=$($(v)))
$(BUILD)/.flags: FORCE
	@mkdir -p $(@D)
	@echo '$(FLAGSTR)' | cmp -s - $@ || echo '$(FLAGSTR)' > $@

define lib_rule
$(call libfile,$(1)): $(call objs,$($(1)_SRCS))
	@mkdir -p $$(@D)
	rm -f $$@ && $(AR) rcs $$@ $$^
endef
$(foreach l,$(LIBS),$(eval $(call lib_rule,$(l))))

# A program links its own objects, then the libraries it names (in order).
define prog_rule
$(BUILD)/bin/$(1): $(call objs,$($(1)_SRCS)) $(foreach l,$($(1)_LIBS),$(call libfile,$(l)))
	@mkdir -p $$(@D)
	$(CC) $(LDFLAGS_ALL) -o $$@ $$^ $(call pkglibs,$($(1)_PKGS)) $($(1)_LDLIBS)
endef
$(foreach p,$(PROGS) $(TEST_PROGS),$(eval $(call prog_rule,$(p))))

define shlib_rule
$(BUILD)/lib/$(1).so: $(call picobjs,$($(1)_SRCS))
	@mkdir -p $$(@D)
	$(CC) -shared $(SANFLAGS) $(LDFLAGS) -o $$@ $$^ $(call pkglibs,$($(1)_PKGS)) $($(1)_LDLIBS) -ldl
endef
$(foreach s,$(TEST_SHLIBS),$(eval $(call shlib_rule,$(s))))

# Unit tests and fuzz targets are found by name: test_*.c and fuzz_*.c in
# tests/unit/<component>/, tests/fuzz/<component>/ and beside a test tool
# (tests/<tool>/). Each links only the libraries TEST_LIBS.<dir> names, so
# the two daemons' modules (both have a config_load) never meet in one link.
# Binaries are $(BUILD)/tests/test_<name> and build-fuzz/fuzz/fuzz_<name>:
# names must be unique across directories.
UNIT_SRCS  := $(sort $(wildcard tests/unit/*/test_*.c tests/*/test_*.c))
UNIT_NAMES := $(basename $(notdir $(UNIT_SRCS)))
UNIT_BINS  := $(addprefix $(BUILD)/tests/,$(UNIT_NAMES))
FUZZ_SRCS  := $(sort $(wildcard tests/fuzz/*/fuzz_*.c tests/*/fuzz_*.c))
FUZZ_NAMES := $(basename $(notdir $(FUZZ_SRCS)))

testlibs = $(if $(filter undefined,$(origin TEST_LIBS.$(call srcdir,$(1)))),\
	$(error $(1): set TEST_LIBS.$(call srcdir,$(1)) (the libraries its tests link) in a module.mk),\
	$(strip $(call libfiles,$(TEST_LIBS.$(call srcdir,$(1))))))
$(foreach n,$(sort $(UNIT_NAMES) $(FUZZ_NAMES)),\
	$(if $(word 2,$(filter %/$(n).c,$(UNIT_SRCS) $(FUZZ_SRCS))),\
	$(error two tests are named $(n): $(filter %/$(n).c,$(UNIT_SRCS) $(FUZZ_SRCS)))))

define unit_rule
$(BUILD)/tests/$(basename $(notdir $(1))): $(call objs,$(1)) $(call testlibs,$(1))
	@mkdir -p $$(@D)
	$(CC) $(LDFLAGS_ALL) -o $$@ $$< -Wl,--start-group $(call testlibs,$(1)) -Wl,--end-group \
		$(call pkglibs,cmocka $(ALL_PKGS)) -lm
endef
$(foreach t,$(UNIT_SRCS),$(eval $(call unit_rule,$(t))))

PROG_BINS := $(addprefix $(BUILD)/bin/,$(PROGS))
TEST_BINS := $(addprefix $(BUILD)/bin/,$(TEST_PROGS)) \
	$(addprefix $(BUILD)/lib/,$(addsuffix .so,$(TEST_SHLIBS))) $(UNIT_BINS)

.PHONY: all tests check check-unit valgrind fuzz fuzz-run deps install uninstall clean FORCE
all: $(PROG_BINS)

tests: all $(TEST_BINS)

# Integration tests are found by place: tests/integration/<group>/*.sh for
# the product, tests/<tool>/test-*.sh for a test tool's own (the fake chips',
# the emulator's). They run group by group in TEST_GROUPS' order (fast and
# basic first), each group's scripts in name order; a group missing from
# the list still runs, last. tests/README.md has the map.
TEST_GROUPS := lint fakei2c fakeclock snowpipe-emu sensortap sensord streamerd ops chaos fleet
group_scripts = $(sort $(wildcard tests/integration/$(1)/*.sh tests/$(1)/test-*.sh))
ALL_SCRIPTS := $(sort $(wildcard tests/integration/*/*.sh tests/*/test-*.sh))
IT_SCRIPTS := $(foreach g,$(TEST_GROUPS),$(call group_scripts,$(g)))
IT_SCRIPTS += $(filter-out $(IT_SCRIPTS),$(ALL_SCRIPTS))
# A group's unit tests: tests/unit/<group>/test_*.c and tests/<group>/test_*.c.
UNIT_GROUPS := $(notdir $(patsubst %/,%,$(wildcard tests/unit/*/)))
group_units = $(addprefix $(BUILD)/tests/,$(basename $(notdir \
	$(wildcard tests/unit/$(1)/test_*.c tests/$(1)/test_*.c))))

# `make check`: every unit test binary and every integration script; the
# last line is "N passed, M failed".
check: tests
	@BUILD=$(BUILD) SAN=$(SAN) tests/run-tests $(UNIT_BINS) $(IT_SCRIPTS)

# `make check-GROUP` (check-sensord, check-streamerd, check-snowpipe-emu,
# check-common, ...): that group's unit tests and integration scripts.
check-%: tests
	@$(if $(strip $(call group_units,$*) $(call group_scripts,$*)),,\
		echo "no test group $*; groups: $(sort $(TEST_GROUPS) $(UNIT_GROUPS))"; exit 2;)
	@BUILD=$(BUILD) SAN=$(SAN) tests/run-tests $(call group_units,$*) $(call group_scripts,$*)

valgrind: tests
	@BUILD=$(BUILD) VALGRIND=1 tests/run-tests $(UNIT_BINS)

# The unit tests alone (what the Debian package build runs: no daemons, no
# emulator, no sandbox).
check-unit: $(UNIT_BINS)
	@BUILD=$(BUILD) tests/run-tests $(UNIT_BINS)

# ---------------------------------------------------------------- fuzzing
# A target's seed corpus is corpus/<name>/ beside its source.
FUZZ_SECONDS ?= 30
fuzz:
	$(MAKE) BUILD=build-fuzz CC=clang CI= CFLAGS='-O1 -g -fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=all' \
		$(addprefix build-fuzz/fuzz/,$(FUZZ_NAMES))

define fuzz_rule
$(BUILD)/fuzz/$(basename $(notdir $(1))): $(call objs,$(1)) $(call testlibs,$(1))
	@mkdir -p $$(@D)
	$(CC) $(CFLAGS) -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all -o $$@ $$< \
		-Wl,--start-group $(call testlibs,$(1)) -Wl,--end-group $(call pkglibs,$(ALL_PKGS)) -lm
endef
$(foreach t,$(FUZZ_SRCS),$(eval $(call fuzz_rule,$(t))))

fuzz-run: fuzz
	@tests/fuzz/run-all build-fuzz/fuzz $(FUZZ_SECONDS) $(FUZZ_SRCS)

# ---------------------------------------------------------------- deps
# Every Debian package the build, tests, demo and benchmarks need.
DEB_PACKAGES := build-essential pkg-config clang libclang-rt-14-dev \
	libcurl4-openssl-dev libmsgpack-dev libjansson-dev libssl-dev \
	libseccomp-dev zlib1g-dev libzstd-dev libcmocka-dev libmicrohttpd-dev \
	libsqlite3-dev sqlite3 curl openssl ca-certificates valgrind shellcheck \
	mandoc time python3 procps iproute2 $(EXTRA_DEB_PACKAGES)

deps:
	@if [ "$$(id -u)" != 0 ]; then \
		echo "make deps installs Debian packages and must run as root:"; \
		echo "  sudo make deps"; exit 1; fi
	@missing=$$(for p in $(DEB_PACKAGES); do \
		dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q '^install ok installed' || echo $$p; done); \
	if [ -z "$$missing" ]; then echo "make deps: all packages present"; else \
		echo "make deps: installing $$missing"; \
		apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends $$missing; fi

# ---------------------------------------------------------------- install
# The three programs here; what is not a program (supervise, man pages,
# units, example configs) is added to install-extra/uninstall-extra by the
# fragment of its directory (scripts/, man/, config/).
.PHONY: install-extra uninstall-extra
install: all install-extra
	install -d $(DESTDIR)$(SBINDIR) $(DESTDIR)$(BINDIR)
	install -m 0755 $(BUILD)/bin/sensord $(BUILD)/bin/streamerd $(DESTDIR)$(SBINDIR)/
	install -m 0755 $(BUILD)/bin/sensortap $(DESTDIR)$(BINDIR)/

uninstall: uninstall-extra
	rm -f $(DESTDIR)$(SBINDIR)/sensord $(DESTDIR)$(SBINDIR)/streamerd $(DESTDIR)$(BINDIR)/sensortap

clean:
	rm -rf build build-san build-fuzz build-*-linux-*

FORCE:

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)

# Keep intermediate objects (unit test .o files) between runs.
.SECONDARY:
