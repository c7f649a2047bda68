# `make deb`: build/xdpsyn_<version>_<arch>.deb with dpkg-deb (no debhelper),
# included from the top-level Makefile. The version is the top entry of
# packaging/changelog (make deb DEB_VERSION=... overrides it). Depends come
# from dpkg-shlibdeps on the binary. The tree is staged by
# `make install-user DESTDIR=... PREFIX=/usr` (binary, man page, units),
# then the man page is gzipped and the completion (option lists generated
# from the binary's --help), the dashboard and the docs are added.
DEB_VERSION    ?= $(shell dpkg-parsechangelog -l packaging/changelog -S Version 2>/dev/null)
DEB_ARCH       ?= $(shell dpkg --print-architecture)
DEB_MAINTAINER ?= $(shell dpkg-parsechangelog -l packaging/changelog -S Maintainer 2>/dev/null)
DEB_STAGE      := $(BUILD)/deb
DEB_FILE       := $(BUILD)/xdpsyn_$(DEB_VERSION)_$(DEB_ARCH).deb
DEB_SRCS       := packaging/deb.mk packaging/control.in packaging/changelog \
		  packaging/copyright packaging/xdpsyn.bash-completion \
		  packaging/gen-completion.sh packaging/grafana-dashboard.json \
		  man/xdpsyn.8 $(wildcard packaging/*.service)

.PHONY: deb deb-lintian

deb: $(DEB_FILE)

$(DEB_FILE): $(BUILD)/xdpsyn $(DEB_SRCS)
	$(call msg,DEB,$@)
	$(Q)test -n "$(DEB_VERSION)" || { echo "xdpsyn: make deb: no version (dpkg-parsechangelog packaging/changelog)" >&2; exit 1; }
	$(Q)rm -rf $(DEB_STAGE) && mkdir -p $(DEB_STAGE)/root/DEBIAN
	$(Q)$(MAKE) --no-print-directory install-user Q=@ msg= DESTDIR=$(CURDIR)/$(DEB_STAGE)/root \
		PREFIX=/usr UNITDIR=/lib/systemd/system >/dev/null
	$(Q)r=$(DEB_STAGE)/root && \
	strip --remove-section=.comment --remove-section=.note --strip-unneeded $$r/usr/sbin/xdpsyn && \
	gzip -9n $$r/usr/share/man/man8/xdpsyn.8 && \
	install -d $$r/usr/share/bash-completion/completions $$r/usr/share/xdpsyn $$r/usr/share/doc/xdpsyn && \
	packaging/gen-completion.sh $(BUILD)/xdpsyn packaging/xdpsyn.bash-completion \
		> $$r/usr/share/bash-completion/completions/xdpsyn && \
	chmod 0644 $$r/usr/share/bash-completion/completions/xdpsyn && \
	install -m 0644 packaging/grafana-dashboard.json $$r/usr/share/xdpsyn/grafana-dashboard.json && \
	install -m 0644 packaging/copyright $$r/usr/share/doc/xdpsyn/copyright && \
	gzip -9nc packaging/changelog > $$r/usr/share/doc/xdpsyn/changelog.gz && \
	chmod 0644 $$r/usr/share/doc/xdpsyn/changelog.gz && \
	mkdir -p $(DEB_STAGE)/shlibs/debian && \
	printf 'Source: xdpsyn\n\nPackage: xdpsyn\nArchitecture: any\n' > $(DEB_STAGE)/shlibs/debian/control && \
	depends=$$(cd $(DEB_STAGE)/shlibs && dpkg-shlibdeps -O $(CURDIR)/$$r/usr/sbin/xdpsyn 2>/dev/null | \
		sed -n 's/^shlibs:Depends=//p') && \
	test -n "$$depends" || { echo "xdpsyn: make deb: dpkg-shlibdeps found no dependencies" >&2; exit 1; }; \
	size=$$(du -sk --exclude=DEBIAN $$r | cut -f1) && \
	sed -e 's|@VERSION@|$(DEB_VERSION)|' -e 's|@ARCH@|$(DEB_ARCH)|' \
	    -e 's|@MAINTAINER@|$(DEB_MAINTAINER)|' -e "s|@SIZE@|$$size|" \
	    -e "s|@DEPENDS@|$$depends|" packaging/control.in > $$r/DEBIAN/control && \
	(cd $$r && find . -path ./DEBIAN -prune -o -type f -printf '%P\0' | sort -z | \
		xargs -0 md5sum > DEBIAN/md5sums) && \
	chmod 0644 $$r/DEBIAN/control $$r/DEBIAN/md5sums && \
	find $$r -type d -exec chmod 0755 {} + && \
	dpkg-deb --root-owner-group -Zxz --build $$r $@.tmp >/dev/null && mv $@.tmp $@

# lintian, if installed (apt-get install lintian): errors fail, warnings show.
deb-lintian: $(DEB_FILE)
	$(Q)lintian --fail-on error $(DEB_FILE)
