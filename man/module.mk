# man/: the manual pages, installed as they are.

# man-db + groff (man -l rendering in tests/integration/54-ops-man.sh).
EXTRA_DEB_PACKAGES += man-db groff-base

MAN8 := man/sensord.8 man/streamerd.8 man/supervise.8
MAN1 := man/sensortap.1

.PHONY: install-man uninstall-man
install-extra: install-man
uninstall-extra: uninstall-man

install-man:
	install -d $(DESTDIR)$(MANDIR)/man8 $(DESTDIR)$(MANDIR)/man1
	install -m 0644 $(MAN8) $(DESTDIR)$(MANDIR)/man8/
	install -m 0644 $(MAN1) $(DESTDIR)$(MANDIR)/man1/

uninstall-man:
	rm -f $(addprefix $(DESTDIR)$(MANDIR)/man8/,$(notdir $(MAN8)))
	rm -f $(addprefix $(DESTDIR)$(MANDIR)/man1/,$(notdir $(MAN1)))
