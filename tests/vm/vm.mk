# Kernel VM tests (included by the Makefile).
#
#   make test-kernels      boot Debian's 6.1 (bookworm) and 6.12
#                          (bookworm-backports) cloud kernels in qemu and run
#                          tests/vm/suite.sh inside each; ends with one
#                          "N passed, N failed" line
#   make vm-fetch          only fetch and unpack the kernels, busybox-static
#                          and install qemu (cached under build/vm/)
#   make vm-clean          remove build/vm/ (the next run downloads again)
#
# Options (environment or make variables): XS_VM_TIMEOUT (seconds per VM,
# default 240), XS_VM_MODE (auto|refuse|full), XS_VM_NIC (1: a virtio-net NIC
# on a tap in a test namespace, the default; 0: no network device at all),
# XS_VM_KERNELS (default "6.1 6.12"). See tests/vm/run.sh.

XS_VM_KERNELS ?= 6.1 6.12

.PHONY: test-kernels vm-fetch vm-clean

test-kernels: all
	$(Q)tests/vm/run.sh $(XS_VM_KERNELS)

vm-fetch:
	$(Q)tests/vm/fetch.sh

vm-clean:
	$(call msg,CLEAN,$(BUILD)/vm)
	$(Q)rm -rf $(BUILD)/vm
