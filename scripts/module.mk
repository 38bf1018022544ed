# SPDX-License-Identifier: Apache-2.0
# scripts/: supervise (installed), the demo and the Debian packages.

.PHONY: demo install-scripts uninstall-scripts
install-extra: install-scripts
uninstall-extra: uninstall-scripts

# `make demo`: the whole pipeline on this machine, against fake chips and
# the local Snowpipe emulator, for DEMO_SECONDS (60; 0: until Ctrl-C). The
# build says one line; its output goes to $(BUILD)/demo-build.log, shown
# only when it fails.
DEMO_SECONDS ?= 60
demo:
	@mkdir -p $(BUILD)
	@printf '== building snowsense (make all tests, log in %s) ... ' $(BUILD)/demo-build.log
	@if $(MAKE) --no-print-directory all tests >$(BUILD)/demo-build.log 2>&1; then \
		echo done; \
	else \
		echo failed; tail -n 30 $(BUILD)/demo-build.log; exit 1; \
	fi
	@BUILD=$(BUILD) DEMO_SECONDS=$(DEMO_SECONDS) scripts/demo

install-scripts:
	install -d $(DESTDIR)$(SBINDIR)
	install -m 0755 scripts/supervise $(DESTDIR)$(SBINDIR)/supervise

uninstall-scripts:
	rm -f $(DESTDIR)$(SBINDIR)/supervise

# ---------------------------------------------------------------- deb
# `make deb`: Debian packages, built by dpkg-buildpackage from debian/ (see
# scripts/build-deb), into $(DEB_OUT)/.
#   make deb                          this machine's architecture
#   make deb ARCH=arm64               cross-built (after sudo make deps-cross ARCH=arm64)
#   make deb ARCH="amd64 arm64 armhf" several
# DEB_BUILD_OPTIONS=nocheck skips the unit tests of a native build.

# debhelper and lintian build and check the package (dpkg-dev comes with
# build-essential).
EXTRA_DEB_PACKAGES += debhelper lintian

DEB_OUT ?= build-deb
# ARCH has a default in cross.mk (arm64, for check-cross); only
# an ARCH the user gives selects what `make deb` builds.
DEB_ARCHS = $(if $(filter command line environment,$(origin ARCH)),$(ARCH),$(shell dpkg --print-architecture))

.PHONY: deb clean-deb
deb:
	@for a in $(DEB_ARCHS); do scripts/build-deb $(DEB_OUT) $(VERSION) $$a || exit 1; done

clean: clean-deb
clean-deb:
	rm -rf $(DEB_OUT)
