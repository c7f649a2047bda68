# `make check`: sanitizers, static analysis and valgrind on the userspace
# CLI (included from the Makefile; not part of `make test`). Runs
# tests/check.sh, which ends with one "N passed, N failed" line:
#   1. an ASan+UBSan build (build/san/xdpsyn) through the e2e, tracker,
#      bad-input and lifecycle suites
#   2. clang-tidy (.clang-tidy) on user/*.c and tests/tools/*.c
#   3. cppcheck on the same files
#   4. valgrind on stats/flows/top/status against a lab attachment

# Debian packages `make check` needs on top of DEB_PKGS (valgrind too).
CHECK_DEB_PKGS := clang-tidy cppcheck valgrind

SAN_BUILD  := $(BUILD)/san
# clang: with gcc's combined ASan+UBSan runtime, UBSan ignores log_path and
# its reports go only to stderr, which some suites discard.
SAN_CC     := $(CLANG)
SAN_FLAGS  := -fsanitize=address,undefined -fno-omit-frame-pointer -g
SAN_CFLAGS := -O1 $(SAN_FLAGS) -Wall -Wextra -Werror -I$(BUILD) -Iinclude
SAN_OBJS   := $(patsubst user/%.c,$(SAN_BUILD)/user/%.o,$(USER_SRCS))

.PHONY: check

$(SAN_BUILD)/user/%.o: user/%.c $(USER_HDRS) $(BPF_SKELS) include/xdpsyn.h
	$(Q)mkdir -p $(@D)
	$(call msg,CC-SAN,$@)
	$(Q)$(SAN_CC) $(SAN_CFLAGS) -c $< -o $@

$(SAN_BUILD)/xdpsyn: $(SAN_OBJS)
	$(call msg,LD-SAN,$@)
	$(Q)$(SAN_CC) $(SAN_CFLAGS) $^ -o $@ $(LDLIBS_USER) $(USER_LIBS)

check: all $(SAN_BUILD)/xdpsyn $(BUILD)/promtool
	$(Q)tests/check.sh
