# xdpsyn build. `make` builds everything, `make test` runs every test,
# `make demo` runs the lab demo. Quiet by default; V=1 shows the commands.

CC       ?= gcc
CLANG    ?= clang
BPFTOOL  ?= $(or $(shell command -v bpftool 2>/dev/null),/usr/sbin/bpftool)
ARCH_INC := /usr/include/$(shell $(CC) -dumpmachine)
BUILD    := build

ifeq ($(V),1)
Q :=
msg :=
else
Q := @
msg = @printf '  %-8s %s\n' "$(1)" "$(2)";
endif

# Debian 12 packages the build and the tests need (make deps installs the
# missing ones; it does nothing when all are there).
DEB_PKGS := clang llvm libbpf-dev libxdp-dev xdp-tools bpftool libelf-dev zlib1g-dev pkg-config \
	    iproute2 procps ethtool libjson-c-dev libmicrohttpd-dev jq nftables tcpdump curl iputils-ping \
	    dpkg-dev lintian

CFLAGS_USER := -O2 -g -Wall -Wextra -Werror -I$(BUILD) -Iinclude
LDLIBS_USER := -lxdp -lbpf -lelf -lz
BPF_CFLAGS  := -target bpf -O2 -g -Wall -Werror -D__TARGET_ARCH_x86 \
	       -I$(BUILD) -Iinclude -Ibpf -I$(ARCH_INC)

BPF_SRCS  := $(wildcard bpf/*.bpf.c)
BPF_HDRS  := $(wildcard bpf/*.h) include/xdpsyn.h
BPF_OBJS  := $(patsubst bpf/%.bpf.c,$(BUILD)/%.bpf.o,$(BPF_SRCS))
BPF_SKELS := $(patsubst bpf/%.bpf.c,$(BUILD)/%.skel.h,$(BPF_SRCS))

UNIT_COMMON := tests/unit/frame.c tests/unit/harness.c
UNIT_SRCS := tests/unit/test_xdp.c $(UNIT_COMMON)
UNIT_GW_SRCS := tests/unit/test_gw.c $(UNIT_COMMON)
UNIT_HDRS := $(wildcard tests/unit/*.h)

.PHONY: all deps test unit e2e demo clean install uninstall check
.SECONDARY:
.DEFAULT_GOAL := all

TOOLS := $(BUILD)/tcpecho $(BUILD)/xdp_pass.bpf.o $(BUILD)/tcxload \
	 $(BUILD)/noharm_tc.bpf.o $(BUILD)/noharm_delay.bpf.o $(BUILD)/settings_dump \
	 $(BUILD)/vlan_emu.bpf.o $(BUILD)/lossy.bpf.o
ifneq ($(wildcard tests/tools/synflood.c),)
TOOLS += $(BUILD)/synflood
endif

all: $(BUILD)/.deps $(BPF_SKELS) $(BUILD)/test_unit $(BUILD)/test_gw $(TOOLS)

deps: $(BUILD)/.deps

# Installs what is missing, once per build tree (remove build/ to recheck).
$(BUILD)/.deps: Makefile
	$(Q)mkdir -p $(BUILD)
	$(Q)missing=$$(for p in $(DEB_PKGS); do \
		dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q '^install ok installed' || echo $$p; \
	done); \
	if [ -n "$$missing" ]; then \
		echo "  DEPS     installing:" $$missing; \
		if [ "$$(id -u)" != 0 ]; then echo "xdpsyn: make deps: need root to install: $$missing" >&2; exit 1; fi; \
		export DEBIAN_FRONTEND=noninteractive; \
		{ apt-get update -qq && \
		  apt-get install -y -qq --no-install-recommends $$missing; } >$(BUILD)/apt.log 2>&1 || \
		{ cat $(BUILD)/apt.log >&2; echo "xdpsyn: make deps: apt-get failed (log above)" >&2; exit 1; }; \
	fi
	$(Q)touch $@

$(BUILD)/vmlinux.h: | $(BUILD)/.deps
	$(call msg,BTF,$@)
	$(Q)$(BPFTOOL) btf dump file /sys/kernel/btf/vmlinux format c > $@.tmp && mv $@.tmp $@

$(BUILD)/%.bpf.o: bpf/%.bpf.c $(BPF_HDRS) $(BUILD)/vmlinux.h
	$(call msg,BPF,$@)
	$(Q)$(CLANG) $(BPF_CFLAGS) -c $< -o $@

$(BUILD)/xdp_pass.bpf.o: tests/e2e/xdp_pass.bpf.c $(BUILD)/vmlinux.h
	$(call msg,BPF,$@)
	$(Q)$(CLANG) $(BPF_CFLAGS) -c $< -o $@

# The test TC programs tests/tools/tcxload.c loads (uapi headers, no
# vmlinux.h): the "do no harm" suite's other programs, and a VLAN
# sub-interface emulated with TC (tests/e2e/test_ifaces.sh); loss and
# reordering on a kernel without sch_netem (tests/e2e/test_gateway.sh).
TEST_TC_OBJS := $(BUILD)/noharm_tc.bpf.o $(BUILD)/noharm_delay.bpf.o $(BUILD)/vlan_emu.bpf.o \
		$(BUILD)/lossy.bpf.o
$(TEST_TC_OBJS): $(BUILD)/%.bpf.o: tests/e2e/%.bpf.c tests/e2e/noharm_maps.h | $(BUILD)/.deps
	$(call msg,BPF,$@)
	$(Q)$(CLANG) -target bpf -O2 -g -Wall -Werror -I$(ARCH_INC) -c $< -o $@

# their loader (clsact filters or tcx links)
$(BUILD)/tcxload: tests/tools/tcxload.c | $(BUILD)/.deps
	$(call msg,CC,$@)
	$(Q)$(CC) -O2 -g -Wall -Wextra -Werror -o $@ $< -lbpf

$(BUILD)/%.skel.h: $(BUILD)/%.bpf.o
	$(call msg,SKEL,$@)
	$(Q)$(BPFTOOL) gen skeleton $< name $* > $@.tmp && mv $@.tmp $@

$(BUILD)/test_unit: $(UNIT_SRCS) $(UNIT_HDRS) $(BPF_SKELS) include/xdpsyn.h
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS_USER) -Itests/unit $(UNIT_SRCS) -o $@ $(LDLIBS_USER)

$(BUILD)/test_gw: $(UNIT_GW_SRCS) $(UNIT_HDRS) $(BPF_SKELS) include/xdpsyn.h
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS_USER) -Itests/unit $(UNIT_GW_SRCS) -o $@ $(LDLIBS_USER)

# The settings table as text, for the man page check (tests/docs).
$(BUILD)/settings_dump: tests/tools/settings_dump.c user/settings_table.c \
			user/settings.h include/xdpsyn.h | $(BUILD)/.deps
	$(call msg,CC,$@)
	$(Q)$(CC) -O2 -g -Wall -Wextra -Werror -Iinclude -Iuser -o $@ $< user/settings_table.c

$(BUILD)/tcpecho $(BUILD)/synflood: $(BUILD)/%: tests/tools/%.c | $(BUILD)/.deps
	$(call msg,CC,$@)
	$(Q)$(CC) -O2 -g -Wall -Wextra -Werror -o $@ $<

demo: all
	$(Q)bench/demo.sh

# promtool, the Prometheus text-format parser the tracker test checks the
# exporter with: taken from Debian's prometheus package without installing
# it (that would also install and start a Prometheus server).
$(BUILD)/promtool: | $(BUILD)/.deps
	$(call msg,FETCH,$@ (from Debian's prometheus package))
	$(Q)rm -rf $(BUILD)/prom && mkdir -p $(BUILD)/prom && cd $(BUILD)/prom && \
		apt-get download -qq prometheus >/dev/null 2>&1 && \
		dpkg-deb -x prometheus_*.deb root && cp root/usr/bin/promtool ../promtool && \
		cd .. && rm -rf prom

test: all bench-tools $(BUILD)/promtool
	$(Q)tests/run.sh

unit: all
	$(Q)$(BUILD)/test_unit

clean:
	$(call msg,CLEAN,$(BUILD))
	$(Q)rm -rf $(BUILD)

include user/user.mk
include packaging/deb.mk
include bench/bench.mk
include tests/fuzz/fuzz.mk
include tests/check.mk
include tests/vm/vm.mk
install: install-user
uninstall: uninstall-user
all: $(BUILD)/xdpsyn
