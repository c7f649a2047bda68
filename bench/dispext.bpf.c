// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * An empty extension for the bench's dispatcher (bench/floors.bpf.c,
 * floor_disp1/floor_disp2): loaded as BPF_PROG_TYPE_EXT in place of a
 * slot function, it returns XDP_PASS (the chain goes on). bench/micro.c sets
 * the target before loading and attaches it to each slot it measures: the
 * cost of the dispatcher mechanism itself against an empty XDP program.
 */
#include "defs.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

SEC("freplace/disp_slot0")
int ext_pass(struct xdp_md *ctx)
{
	return XDP_PASS;
}
