# xdpsyn CLI, included from the top-level Makefile: one binary from user/*.c,
# built against the skeletons of both BPF objects.
USER_SRCS := $(wildcard user/*.c)
USER_HDRS := $(wildcard user/*.h)
USER_OBJS := $(patsubst user/%.c,$(BUILD)/user/%.o,$(USER_SRCS))

$(BUILD)/user/%.o: user/%.c $(USER_HDRS) $(BPF_SKELS) include/xdpsyn.h
	$(Q)mkdir -p $(@D)
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS_USER) -c $< -o $@

$(BUILD)/xdpsyn: $(USER_OBJS)
	$(call msg,LD,$@)
	$(Q)$(CC) $(CFLAGS_USER) $^ -o $@ $(LDLIBS_USER) -ljson-c
