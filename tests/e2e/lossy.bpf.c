// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * lossy: netem's "loss P% reorder Q%" for tests/e2e/test_gateway.sh on a
 * kernel without sch_netem (and without sch_fq's time-based reordering):
 * a clsact egress filter (tests/tools/tcxload.c, "tc") on an end host's
 * interface that, for each TCP segment (to or from any port when
 * noharm_cfg[0] is 0), draws bpf_get_prandom_u32() % 10000 and
 *   - below LOSS: drops it (TC_ACT_SHOT), counter 0;
 *   - below LOSS + REORDER: sets skb->priority to HTB class 1:20, counter 1
 *     (the test makes 1:20 a slow class: a segment sent there waits in its
 *     queue while later ones in 1:10 leave: reordered);
 *   - else: class 1:10, counter 2.
 * noharm_cfg[0] = LOSS, noharm_cfg[2] = REORDER, both per 10000 (tcxload's
 * PORT and ARG). Counter 3: every TCP segment seen.
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#include "noharm_maps.h"

SEC("tc")
int lossy(struct __sk_buff *skb)
{
	__u32 loss, reorder, r;
	__u8 proto;

	if (skb->protocol == bpf_htons(ETH_P_IP)) {
		if (bpf_skb_load_bytes(skb, ETH_HLEN + 9, &proto, 1))
			return TC_ACT_OK;
	} else if (skb->protocol == bpf_htons(ETH_P_IPV6)) {
		if (bpf_skb_load_bytes(skb, ETH_HLEN + 6, &proto, 1))
			return TC_ACT_OK;
	} else {
		return TC_ACT_OK;
	}
	if (proto != IPPROTO_TCP)
		return TC_ACT_OK;
	add(3, 1);
	loss = cfg(0);
	reorder = cfg(2);
	r = bpf_get_prandom_u32() % 10000;
	if (r < loss) {
		add(0, 1);
		return TC_ACT_SHOT;
	}
	if (r < loss + reorder) {
		add(1, 1);
		skb->priority = 0x10020;
	} else {
		add(2, 1);
		skb->priority = 0x10010;
	}
	return TC_ACT_OK;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
