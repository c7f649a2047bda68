// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* A pass-through XDP program for the veth peer of the server's interface:
 * veth delivers XDP_TX frames only when the peer runs an XDP program. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "Dual BSD/GPL";

SEC("xdp")
int xdp_pass(struct xdp_md *ctx)
{
	return XDP_PASS;
}

/* The same for a peer at a jumbo MTU (multi-buffer frames). */
SEC("xdp.frags")
int xdp_pass_frags(struct xdp_md *ctx)
{
	return XDP_PASS;
}
