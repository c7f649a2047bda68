# Packet fuzzer of the XDP program (tests/fuzz/fuzz.c), included from the
# Makefile. `make fuzz` runs 10^7 frames under each policy (proxy, then
# track); the test suite runs 10^5 of each (build/test_fuzz [--policy track]).

FUZZ_SRCS := tests/fuzz/fuzz.c tests/unit/frame.c tests/unit/harness.c
FUZZ_FRAMES ?= 10000000

.PHONY: fuzz

$(BUILD)/test_fuzz: $(FUZZ_SRCS) tests/unit/frame.h $(BUILD)/xdpsyn.skel.h include/xdpsyn.h
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS_USER) -Itests/unit $(FUZZ_SRCS) -o $@ $(LDLIBS_USER)

fuzz: $(BUILD)/test_fuzz
	$(Q)$(BUILD)/test_fuzz --frames $(FUZZ_FRAMES)
	$(Q)$(BUILD)/test_fuzz --frames $(FUZZ_FRAMES) --policy track

all: $(BUILD)/test_fuzz
