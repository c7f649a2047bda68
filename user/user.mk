# xdpsyn CLI, included from the top-level Makefile: one binary from user/*.c,
# built against the skeletons of both BPF objects; its man page, systemd
# units and `make install-user`.
USER_SRCS := $(wildcard user/*.c)
USER_HDRS := $(wildcard user/*.h)
USER_OBJS := $(patsubst user/%.c,$(BUILD)/user/%.o,$(USER_SRCS))
USER_LIBS := -ljson-c -lmicrohttpd

$(BUILD)/user/%.o: user/%.c $(USER_HDRS) $(BPF_SKELS) include/xdpsyn.h
	$(Q)mkdir -p $(@D)
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS_USER) -c $< -o $@

$(BUILD)/xdpsyn: $(USER_OBJS)
	$(call msg,LD,$@)
	$(Q)$(CC) $(CFLAGS_USER) $^ -o $@ $(LDLIBS_USER) $(USER_LIBS)

# Install: the CLI (the BPF objects are inside it, in the skeletons), the
# man page and the systemd units. `make install-user DESTDIR=/tmp/stage
# PREFIX=/usr` for a package; the units' ExecStart follow SBINDIR.
PREFIX     ?= /usr/local
DESTDIR    ?=
SBINDIR    ?= $(PREFIX)/sbin
MANDIR     ?= $(PREFIX)/share/man
UNITDIR    ?= $(PREFIX)/lib/systemd/system
INSTALL    ?= install
USER_UNITS := $(wildcard packaging/*.service)

.PHONY: install-user uninstall-user check-man

install-user: $(BUILD)/xdpsyn
	$(call msg,INSTALL,$(DESTDIR)$(SBINDIR)/xdpsyn)
	$(Q)$(INSTALL) -d $(DESTDIR)$(SBINDIR) $(DESTDIR)$(MANDIR)/man8 $(DESTDIR)$(UNITDIR)
	$(Q)$(INSTALL) -m 0755 $(BUILD)/xdpsyn $(DESTDIR)$(SBINDIR)/xdpsyn
	$(call msg,INSTALL,$(DESTDIR)$(MANDIR)/man8/xdpsyn.8)
	$(Q)$(INSTALL) -m 0644 man/xdpsyn.8 $(DESTDIR)$(MANDIR)/man8/xdpsyn.8
	$(Q)for u in $(USER_UNITS); do \
		printf '  %-8s %s\n' INSTALL "$(DESTDIR)$(UNITDIR)/$${u##*/}"; \
		sed 's|/usr/sbin/xdpsyn|$(SBINDIR)/xdpsyn|g' "$$u" > "$(DESTDIR)$(UNITDIR)/$${u##*/}.tmp" && \
		chmod 0644 "$(DESTDIR)$(UNITDIR)/$${u##*/}.tmp" && \
		mv "$(DESTDIR)$(UNITDIR)/$${u##*/}.tmp" "$(DESTDIR)$(UNITDIR)/$${u##*/}" || exit 1; \
	done

uninstall-user:
	$(Q)rm -f $(DESTDIR)$(SBINDIR)/xdpsyn $(DESTDIR)$(MANDIR)/man8/xdpsyn.8 \
		$(patsubst packaging/%,$(DESTDIR)$(UNITDIR)/%,$(USER_UNITS))

# The man page renders without a warning (groff's checks).
check-man:
	$(Q)out=$$(LC_ALL=C.UTF-8 MANWIDTH=80 man --warnings -E UTF-8 -l man/xdpsyn.8 2>&1 >/dev/null); \
	if [ -n "$$out" ]; then echo "$$out" >&2; exit 1; fi
