# scripts/: supervise (installed) and the demo.

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
