# SPDX-License-Identifier: Apache-2.0
# config/: systemd units, sysusers.d/tmpfiles.d, the example configs and the
# Snowflake DDL, and their installation. Units name the installed paths;
# everything else is copied as is.

UNITDIR     ?= $(PREFIX)/lib/systemd/system
SYSUSERSDIR ?= $(PREFIX)/lib/sysusers.d
TMPFILESDIR ?= $(PREFIX)/lib/tmpfiles.d
SNOWSENSE_CONFDIR ?= $(SYSCONFDIR)/snowsense
SNOWSENSE_DATADIR ?= $(PREFIX)/share/snowsense

# systemd-analyze (unit verification); setsid/setpriv come with util-linux,
# which every Debian system has.
EXTRA_DEB_PACKAGES += systemd

CONFIG_UNITS := config/systemd/sensord.service config/systemd/streamerd.service
CONFIG_EXAMPLES := $(wildcard config/sensord.json config/streamerd.json)

.PHONY: install-config uninstall-config
install-extra: install-config
uninstall-extra: uninstall-config

# An existing config is never overwritten: the new example goes to
# $(SNOWSENSE_DATADIR)/examples for comparison.
install-config:
	install -d $(DESTDIR)$(UNITDIR) $(DESTDIR)$(SYSUSERSDIR) $(DESTDIR)$(TMPFILESDIR) \
		$(DESTDIR)$(SNOWSENSE_DATADIR)/examples $(DESTDIR)$(SNOWSENSE_DATADIR)/snowflake
	[ -d $(DESTDIR)$(SNOWSENSE_CONFDIR) ] || install -d -m 0755 $(DESTDIR)$(SNOWSENSE_CONFDIR)
	for u in $(CONFIG_UNITS); do \
		sed -e 's#/usr/local/sbin/#$(SBINDIR)/#g' -e 's#/etc/snowsense/#$(SNOWSENSE_CONFDIR)/#g' \
			$$u > $(DESTDIR)$(UNITDIR)/$$(basename $$u).tmp && \
		chmod 0644 $(DESTDIR)$(UNITDIR)/$$(basename $$u).tmp && \
		mv -f $(DESTDIR)$(UNITDIR)/$$(basename $$u).tmp $(DESTDIR)$(UNITDIR)/$$(basename $$u) || exit 1; \
	done
	install -m 0644 config/sysusers.d/snowsense.conf $(DESTDIR)$(SYSUSERSDIR)/snowsense.conf
	install -m 0644 config/tmpfiles.d/snowsense.conf $(DESTDIR)$(TMPFILESDIR)/snowsense.conf
	install -m 0644 config/snowflake/setup.sql $(DESTDIR)$(SNOWSENSE_DATADIR)/snowflake/
	install -m 0755 config/snowflake/keys.sh $(DESTDIR)$(SNOWSENSE_DATADIR)/snowflake/
	@for c in $(CONFIG_EXAMPLES); do \
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
uninstall-config:
	rm -f $(addprefix $(DESTDIR)$(UNITDIR)/,$(notdir $(CONFIG_UNITS)))
	rm -f $(DESTDIR)$(SYSUSERSDIR)/snowsense.conf $(DESTDIR)$(TMPFILESDIR)/snowsense.conf
	rm -rf $(DESTDIR)$(SNOWSENSE_DATADIR)
	-rmdir $(DESTDIR)$(UNITDIR) $(DESTDIR)$(SYSUSERSDIR) $(DESTDIR)$(TMPFILESDIR) 2>/dev/null
	@if [ -d $(DESTDIR)$(SNOWSENSE_CONFDIR) ]; then \
		echo "kept $(DESTDIR)$(SNOWSENSE_CONFDIR) (your configuration; remove it by hand)"; fi
