# SPDX-License-Identifier: Apache-2.0
# cross.mk: cross-building for the Raspberry Pi's processors (deps-cross,
# check-cross); not part of `make all`. Included by the top Makefile after
# the module fragments.

.PHONY: deps-cross check-cross

# ARCH=arm64 (Pi 3/4/5 on a 64-bit OS) or armhf (32-bit Raspberry Pi OS).
ARCH ?= arm64
cross_triplet = $(if $(filter armhf,$(1)),arm-linux-gnueabihf,aarch64-linux-gnu)
cross_qemu    = $(if $(filter armhf,$(1)),qemu-arm,qemu-aarch64)
# The multiarch -dev packages every unit test links against, plus pkgconf for
# the <triplet>-pkg-config wrapper that the top Makefile uses with CROSS=.
CROSS_DEV_PKGS := libcurl4-openssl-dev libmsgpack-dev libjansson-dev libssl-dev \
	libseccomp-dev zlib1g-dev libzstd-dev libcmocka-dev libmicrohttpd-dev \
	libsqlite3-dev pkgconf

deps-cross:
	@if [ "$$(id -u)" != 0 ]; then echo "make deps-cross installs Debian packages and must run as root"; exit 1; fi
	@case "$(ARCH)" in arm64|armhf) ;; *) echo "ARCH must be arm64 or armhf"; exit 1;; esac
	@dpkg --print-foreign-architectures | grep -qx '$(ARCH)' || dpkg --add-architecture $(ARCH)
	@pk="gcc-$(call cross_triplet,$(ARCH)) libc6-dev-$(ARCH)-cross qemu-user $(addsuffix :$(ARCH),$(CROSS_DEV_PKGS))"; \
	missing=$$(for p in $$pk; do \
		dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q '^install ok installed' || echo $$p; done); \
	if [ -z "$$missing" ]; then echo "make deps-cross: all packages present"; else \
		echo "make deps-cross: installing $$missing"; \
		scripts/apt-update $(ARCH) && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends $$missing; fi

# Build the unit tests for ARCH and run them under qemu-user. Only the unit
# tests: integration tests need the preload fakes and the emulator, which are
# host tools. The recipe expands UNIT_NAMES late, after the top Makefile set it.
# CROSS_SKIP: tests that cannot mean anything under qemu-user. A seccomp
# filter built for aarch64 is checked by the host kernel against qemu's own
# x86-64 system calls, so the tests that load a filter (test_sandbox,
# test_clock's adjtimex-denied case) would test qemu, not our code (they
# spin on EPERM). qemu-user has no translation for the i2c-dev ioctls
# (test_i2c_bus expects the kernel's ENOTTY for I2C_FUNCS on /dev/null), and
# test_server's forked setuid(65534) client spins under qemu's emulation of
# fork + setuid. Each test gets CROSS_TIMEOUT seconds.
CROSS_SKIP    ?= test_sandbox test_clock test_i2c_bus test_server
CROSS_TIMEOUT ?= 120
CROSS_QEMU_LD = /usr/$(call cross_triplet,$(ARCH))
cross_units = $(addprefix build-$(call cross_triplet,$(ARCH))/tests/,\
	$(filter-out $(CROSS_SKIP),$(UNIT_NAMES)))
check-cross:
	@command -v $(call cross_triplet,$(ARCH))-gcc >/dev/null || \
		{ echo "no $(call cross_triplet,$(ARCH))-gcc: run  sudo make deps-cross ARCH=$(ARCH)"; exit 1; }
	@command -v $(call cross_qemu,$(ARCH)) >/dev/null || \
		{ echo "no $(call cross_qemu,$(ARCH)): run  sudo make deps-cross ARCH=$(ARCH)"; exit 1; }
	$(MAKE) CROSS=$(call cross_triplet,$(ARCH)) all $(cross_units)
	@echo "check-cross: not run under qemu-user: $(CROSS_SKIP)"
	@RUNNER="timeout $(CROSS_TIMEOUT) $(call cross_qemu,$(ARCH)) -L $(CROSS_QEMU_LD)" \
		BUILD=build-$(call cross_triplet,$(ARCH)) tests/run-tests $(cross_units)
