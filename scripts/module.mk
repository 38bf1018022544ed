# scripts/: supervise, the demo, and the installation of everything that is
# not a binary (man pages, systemd units, sysusers.d/tmpfiles.d, example
# configs, Snowflake DDL). The top-level install/uninstall rules handle the
# three programs; these add to them.

UNITDIR     ?= $(PREFIX)/lib/systemd/system
SYSUSERSDIR ?= $(PREFIX)/lib/sysusers.d
TMPFILESDIR ?= $(PREFIX)/lib/tmpfiles.d
SNOWSENSE_CONFDIR ?= $(SYSCONFDIR)/snowsense
SNOWSENSE_DATADIR ?= $(PREFIX)/share/snowsense

# systemd-analyze (unit verification), man-db + groff (man -l rendering);
# setsid/setpriv come with util-linux, which every Debian system has.
EXTRA_DEB_PACKAGES += systemd man-db groff-base

OPS_MAN8 := man/sensord.8 man/streamerd.8 man/supervise.8
OPS_MAN1 := man/sensortap.1
OPS_UNITS := config/systemd/sensord.service config/systemd/streamerd.service
OPS_EXAMPLES := $(wildcard config/sensord.json config/streamerd.json)

# The rules below would otherwise make `install` the default goal, since
# module fragments are read before the top-level `all` rule.
.DEFAULT_GOAL := all

.PHONY: demo install-extra uninstall-extra
install: install-extra
uninstall: uninstall-extra

# `make demo`: the whole pipeline on this machine, against fake chips and
# the local Snowpipe emulator. DEMO_SECONDS=N stops it after N seconds.
demo: all tests
	@BUILD=$(BUILD) DEMO_SECONDS=$(DEMO_SECONDS) scripts/demo

# Units name the installed paths; everything else is copied as is. An
# existing config is never overwritten: the new example goes to
# $(SNOWSENSE_DATADIR)/examples for comparison.
install-extra:
	install -d $(DESTDIR)$(SBINDIR) $(DESTDIR)$(MANDIR)/man8 $(DESTDIR)$(MANDIR)/man1 \
		$(DESTDIR)$(UNITDIR) $(DESTDIR)$(SYSUSERSDIR) $(DESTDIR)$(TMPFILESDIR) \
		$(DESTDIR)$(SNOWSENSE_DATADIR)/examples $(DESTDIR)$(SNOWSENSE_DATADIR)/snowflake
	[ -d $(DESTDIR)$(SNOWSENSE_CONFDIR) ] || install -d -m 0755 $(DESTDIR)$(SNOWSENSE_CONFDIR)
	install -m 0755 scripts/supervise $(DESTDIR)$(SBINDIR)/supervise
	install -m 0644 $(OPS_MAN8) $(DESTDIR)$(MANDIR)/man8/
	install -m 0644 $(OPS_MAN1) $(DESTDIR)$(MANDIR)/man1/
	for u in $(OPS_UNITS); do \
		sed -e 's#/usr/local/sbin/#$(SBINDIR)/#g' -e 's#/etc/snowsense/#$(SNOWSENSE_CONFDIR)/#g' \
			$$u > $(DESTDIR)$(UNITDIR)/$$(basename $$u).tmp && \
		chmod 0644 $(DESTDIR)$(UNITDIR)/$$(basename $$u).tmp && \
		mv -f $(DESTDIR)$(UNITDIR)/$$(basename $$u).tmp $(DESTDIR)$(UNITDIR)/$$(basename $$u) || exit 1; \
	done
	install -m 0644 config/sysusers.d/snowsense.conf $(DESTDIR)$(SYSUSERSDIR)/snowsense.conf
	install -m 0644 config/tmpfiles.d/snowsense.conf $(DESTDIR)$(TMPFILESDIR)/snowsense.conf
	install -m 0644 config/snowflake/setup.sql $(DESTDIR)$(SNOWSENSE_DATADIR)/snowflake/
	install -m 0755 config/snowflake/keys.sh $(DESTDIR)$(SNOWSENSE_DATADIR)/snowflake/
	@for c in $(OPS_EXAMPLES); do \
		n=$$(basename $$c); mode=0644; \
		case $$n in streamerd.json) mode=0600 ;; esac; \
		install -m 0644 $$c $(DESTDIR)$(SNOWSENSE_DATADIR)/examples/$$n || exit 1; \
		if [ -e $(DESTDIR)$(SNOWSENSE_CONFDIR)/$$n ]; then \
			echo "kept existing $(DESTDIR)$(SNOWSENSE_CONFDIR)/$$n (new example: $(SNOWSENSE_DATADIR)/examples/$$n)"; \
		else \
			echo "install -m $$mode $$c $(DESTDIR)$(SNOWSENSE_CONFDIR)/$$n"; \
			install -m $$mode $$c $(DESTDIR)$(SNOWSENSE_CONFDIR)/$$n || exit 1; \
		fi; \
	done
	@if [ -z "$(DESTDIR)" ] && [ -d /run/systemd/system ]; then \
		echo "next: systemd-sysusers; systemd-tmpfiles --create; systemctl daemon-reload"; fi

# Configuration in $(SNOWSENSE_CONFDIR) is yours and stays; so do the journal
# in /var/lib/snowsense and the logs.
uninstall-extra:
	rm -f $(DESTDIR)$(SBINDIR)/supervise
	rm -f $(addprefix $(DESTDIR)$(MANDIR)/man8/,$(notdir $(OPS_MAN8)))
	rm -f $(addprefix $(DESTDIR)$(MANDIR)/man1/,$(notdir $(OPS_MAN1)))
	rm -f $(addprefix $(DESTDIR)$(UNITDIR)/,$(notdir $(OPS_UNITS)))
	rm -f $(DESTDIR)$(SYSUSERSDIR)/snowsense.conf $(DESTDIR)$(TMPFILESDIR)/snowsense.conf
	rm -rf $(DESTDIR)$(SNOWSENSE_DATADIR)
	-rmdir $(DESTDIR)$(UNITDIR) $(DESTDIR)$(SYSUSERSDIR) $(DESTDIR)$(TMPFILESDIR) 2>/dev/null
	@if [ -d $(DESTDIR)$(SNOWSENSE_CONFDIR) ]; then \
		echo "kept $(DESTDIR)$(SNOWSENSE_CONFDIR) (your configuration; remove it by hand)"; fi
