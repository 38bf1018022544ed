# scripts/: supervise (installed), the demo and the Debian packages.

.PHONY: demo install-scripts uninstall-scripts
install-extra: install-scripts
uninstall-extra: uninstall-scripts

# `make demo`: the whole pipeline on this machine, against fake chips and
# the local Snowpipe emulator. DEMO_SECONDS=N stops it after N seconds.
demo: all tests
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
