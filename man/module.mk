# SPDX-License-Identifier: Apache-2.0
# man/: the manual pages, generated from man/*.in. @DATADIR@, @SBINDIR@ and
# @BINDIR@ become this install's directories: `make` writes the pages to
# $(BUILD)/man (to read with man -l, and for tests/integration/ops/man-pages.sh),
# `make install` writes them straight into the tree it installs, with that
# install's PREFIX.

# man-db + groff (man -l rendering in tests/integration/ops/man-pages.sh).
EXTRA_DEB_PACKAGES += man-db groff-base

MAN_IN := $(sort $(wildcard man/*.in))
MAN8 := $(filter %.8,$(MAN_IN:man/%.in=%))
MAN1 := $(filter %.1,$(MAN_IN:man/%.in=%))
MAN_BUILT := $(addprefix $(BUILD)/man/,$(MAN8) $(MAN1))

# man_subst SRC DEST: fails if a @NAME@ is left (a template using a name
# this list lacks).
man_subst = sed -e 's\#@DATADIR@\#$(SNOWSENSE_DATADIR)\#g' -e 's\#@SBINDIR@\#$(SBINDIR)\#g' \
		-e 's\#@BINDIR@\#$(BINDIR)\#g' $(1) >$(2).tmp && \
	if grep -n '@[A-Z_]*@' $(2).tmp; then echo "$(1): unknown @NAME@ left" >&2; rm -f $(2).tmp; exit 1; fi && \
	chmod 0644 $(2).tmp && mv -f $(2).tmp $(2)

.PHONY: install-man uninstall-man
all: $(MAN_BUILT)
install-extra: install-man
uninstall-extra: uninstall-man

# Regenerate the pages when the directories they name change.
MAN_SUBST_STR = $(SNOWSENSE_DATADIR) $(SBINDIR) $(BINDIR)
$(BUILD)/.mansubst: FORCE
	@mkdir -p $(@D)
	@echo '$(MAN_SUBST_STR)' | cmp -s - $@ || echo '$(MAN_SUBST_STR)' > $@

$(BUILD)/man/%: man/%.in $(BUILD)/.mansubst
	@mkdir -p $(@D)
	@$(call man_subst,$<,$@)

install-man:
	install -d $(DESTDIR)$(MANDIR)/man8 $(DESTDIR)$(MANDIR)/man1
	for m in $(MAN8); do $(call man_subst,man/$$m.in,$(DESTDIR)$(MANDIR)/man8/$$m) || exit 1; done
	for m in $(MAN1); do $(call man_subst,man/$$m.in,$(DESTDIR)$(MANDIR)/man1/$$m) || exit 1; done

uninstall-man:
	rm -f $(addprefix $(DESTDIR)$(MANDIR)/man8/,$(MAN8))
	rm -f $(addprefix $(DESTDIR)$(MANDIR)/man1/,$(MAN1))
