# systemd/: the generator behind `cairn systemd`, the man pages, and
# `make install` (see man/cairn-systemd.8). The generator is linked into
# build/cairn by mk/cli.mk:  cairn_SRCS += $(CMD_SYSTEMD_SRCS)
# (cli/cmd_systemd.c needs common/config.c, i.e. $(COMMON_SRCS), and
# $(LIB_JANSSON) through it).
SYSTEMD_SRCS := systemd/systemd.c systemd/unit.c
CMD_SYSTEMD_SRCS := cli/cmd_systemd.c $(SYSTEMD_SRCS)

PREFIX ?= /usr/local
DESTDIR ?=
INSTALL ?= install
MANDIR ?= $(PREFIX)/share/man
MAN1_PAGES := man/cairn.1
MAN8_PAGES := man/cairn-systemd.8 man/raftd.8 man/gossipd.8 man/checkd.8 \
	man/httpd.8 man/dnsd.8
# What `make install` copies from build/, when it has been built.
INSTALL_BINARIES := raftd gossipd checkd httpd dnsd cairn

# Installs the binaries that exist (run `make` first: install does not
# build, so `sudo make install` never compiles as root).
install-bin:
	$(INSTALL) -d $(DESTDIR)$(PREFIX)/bin
	@for b in $(INSTALL_BINARIES); do \
		if [ -x build/$$b ]; then \
			echo "$(INSTALL) -m 0755 build/$$b $(DESTDIR)$(PREFIX)/bin/$$b"; \
			$(INSTALL) -m 0755 build/$$b $(DESTDIR)$(PREFIX)/bin/$$b || exit 1; \
		else \
			echo "install: build/$$b not built, skipped" >&2; \
		fi; \
	done

install-man:
	$(INSTALL) -d $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(MANDIR)/man8
	$(INSTALL) -m 0644 $(MAN1_PAGES) $(DESTDIR)$(MANDIR)/man1/
	$(INSTALL) -m 0644 $(MAN8_PAGES) $(DESTDIR)$(MANDIR)/man8/

install-systemd: install-bin install-man

install: install-systemd

# mandoc -Tlint over every page (needs the mandoc package).
lint-man:
	mandoc -Tlint -W warning $(MAN1_PAGES) $(MAN8_PAGES)

# Boots a real systemd in a throwaway root (not part of `make check`).
check-systemd: all
	sh tests/systemd/run.sh

.PHONY: install install-bin install-man install-systemd lint-man check-systemd
