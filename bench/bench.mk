# xdpsyn benchmarks, included from the top-level Makefile.
#   make bench        micro benchmark + flood lab + flip + gateway; writes bench/RESULTS.md,
#                     bench/flood.png (raw data in bench/results/)
#   make bench-micro  BPF_PROG_TEST_RUN per path, beside floor programs
#   make bench-flood  the netns lab under SYN floods, four defences
#   make bench-flip   the auto policy's time to flip under a flood, and back
#   make bench-gateway the gateway lab (issue 16): plain forwarding vs nftables
#                     SYNPROXY + conntrack vs xdpsyn gateway mode on a gateway,
#                     under a flood and in bulk
#   make bench-smoke  a tiny run of each; ends with "N passed, N failed"
# Debian packages the benchmarks need beyond DEB_PKGS (the plot):
BENCH_DEB_PKGS := gnuplot-nox

BENCH_TOOLS := $(BUILD)/bench_micro $(BUILD)/bench_legit $(BUILD)/floors.bpf.o

.PHONY: bench bench-micro bench-flood bench-flip bench-gateway bench-smoke bench-tools

# Floor and part programs; their skeletons come from the Makefile's
# generic %.skel.h rule.
$(BUILD)/%.bpf.o: bench/%.bpf.c $(BPF_HDRS) $(BUILD)/vmlinux.h
	$(call msg,BPF,$@)
	$(Q)$(CLANG) $(BPF_CFLAGS) -c $< -o $@

$(BUILD)/bench_micro: bench/micro.c tests/unit/frame.c tests/unit/frame.h tests/unit/harness.c tests/unit/harness.h \
		$(BUILD)/xdpsyn.skel.h $(BUILD)/xdpsyn_tc.skel.h $(BUILD)/xdpsyn_gw.skel.h $(BUILD)/floors.skel.h $(BUILD)/parts.skel.h $(BUILD)/dispext.skel.h include/xdpsyn.h
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS_USER) -Itests/unit bench/micro.c tests/unit/frame.c tests/unit/harness.c -o $@ $(LDLIBS_USER)

$(BUILD)/bench_legit: bench/legit.c | $(BUILD)/.deps
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS_USER) $< -o $@

bench-tools: all $(BENCH_TOOLS)

bench-micro: bench-tools
	$(Q)bench/run.sh micro

bench-flood: bench-tools
	$(Q)bench/run.sh flood

bench-flip: bench-tools
	$(Q)bench/run.sh flip

bench-gateway: bench-tools
	$(Q)bench/run.sh gateway

bench: bench-tools
	$(Q)bench/run.sh all

bench-smoke: bench-tools
	$(Q)bench/run.sh smoke
