// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * vlan_emu: a VLAN sub-interface (IFACE.VID) emulated on a veth with TC,
 * for tests/e2e/test_ifaces.sh on kernels without 802.1Q (this machine's).
 * Loaded by tests/tools/tcxload.c as a clsact filter, its array noharm_cfg
 * holding the direction at 1 (0 ingress, 1 egress) and the VLAN at 2.
 *
 * Egress: every frame leaves tagged VID, the tag in the skb's metadata
 * (bpf_skb_vlan_push on a device with tx-vlan-offload, as the 8021q driver
 * hands frames to the parent), so the peer veth receives it offloaded
 * (rx-vlan-offload): its XDP program sees an untagged frame and the tag
 * only through bpf_xdp_metadata_rx_vlan_tag.
 * Ingress: a frame tagged VID (offloaded, or in the frame: the stack has
 * moved it to metadata by now) is untagged and goes on, as 8021q would
 * deliver it to IFACE.VID; every other frame is dropped, as on a host
 * whose only address is on IFACE.VID.
 *
 * Counters (array noharm_cnt, read by tcxload count as fin= bytes= tcp=
 * syn=): 0 untagged frames dropped, 1 IP payload bytes of the untagged
 * TCP frames among them, 2 tagged frames accepted, 3 TCP SYN-ACKs among
 * them (the answers a client is waiting for).
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/pkt_cls.h>
#include <linux/tcp.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#include "noharm_maps.h"

/* The TCP header of an untagged IPv4/IPv6 frame, or NULL. */
static __always_inline struct tcphdr *tcp_of(struct __sk_buff *skb)
{
	void *data = (void *)(long)skb->data;
	void *data_end = (void *)(long)skb->data_end;
	struct ethhdr *eth = data;

	if ((void *)(eth + 1) > data_end)
		return NULL;
	if (eth->h_proto == bpf_htons(ETH_P_IP)) {
		struct iphdr *ip = (void *)(eth + 1);

		if ((void *)(ip + 1) > data_end || ip->protocol != IPPROTO_TCP ||
		    ip->ihl != 5)
			return NULL;
		return (void *)(ip + 1) + sizeof(struct tcphdr) <= data_end ?
		       (void *)(ip + 1) : NULL;
	}
	if (eth->h_proto == bpf_htons(ETH_P_IPV6)) {
		struct ipv6hdr *ip6 = (void *)(eth + 1);

		if ((void *)(ip6 + 1) > data_end || ip6->nexthdr != IPPROTO_TCP)
			return NULL;
		return (void *)(ip6 + 1) + sizeof(struct tcphdr) <= data_end ?
		       (void *)(ip6 + 1) : NULL;
	}
	return NULL;
}

SEC("tc")
int vlan_emu(struct __sk_buff *skb)
{
	__u32 vid = cfg(2);
	struct tcphdr *th;

	if (cfg(1) == 1) /* egress */
		return bpf_skb_vlan_push(skb, bpf_htons(ETH_P_8021Q), vid) ?
		       TC_ACT_SHOT : TC_ACT_OK;
	if (skb->vlan_present && (skb->vlan_tci & 0x0fff) == vid) {
		if (bpf_skb_vlan_pop(skb))
			return TC_ACT_SHOT;
		add(2, 1);
		th = tcp_of(skb);
		if (th && th->syn && th->ack)
			add(3, 1);
		return TC_ACT_OK;
	}
	add(0, 1);
	th = tcp_of(skb);
	if (th)
		add(1, skb->len);
	return TC_ACT_SHOT;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
