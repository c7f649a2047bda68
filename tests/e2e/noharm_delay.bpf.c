// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * noharm_delay: a slow switch port for case 1 of tests/e2e/test_noharm.sh.
 * Attached to the switch's port facing the client (TC ingress, classic
 * clsact filter), it holds the FIRST pure ACK of each connection to one
 * port (the handshake's final ACK) for a few hundred microseconds, busy in
 * the receiving CPU's softirq, as a congested switch or NIC interrupt
 * coalescing would. With Receive Packet Steering sending that port's
 * receive to another CPU than the client's, the client's first request,
 * sent meanwhile, queues in the same backlog right behind the ACK, and the
 * two reach the server in one NAPI batch.
 *
 * noharm_cfg: [0] the TCP destination port, [1] unused (direction),
 * [2] the hold in microseconds. Written by tests/tools/tcxload.c. Every
 * frame is passed (TC_ACT_OK): it is the only filter on that port.
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

struct tuple {
	__u32 saddr[4];
	__u32 daddr[4];
	__u16 sport;
	__u16 dport;
};

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 16384);
	__type(key, struct tuple);
	__type(value, __u8);
} noharm_seen SEC(".maps");

/* noharm_cnt[0]: how many ACKs were held */
#include "noharm_maps.h"

struct spin {
	__u64 until;
};

static long spin_cb(__u32 i, void *ctx)
{
	struct spin *s = ctx;

	return bpf_ktime_get_ns() >= s->until; /* 1: stop */
}

SEC("tc")
int noharm_delay(struct __sk_buff *skb)
{
	__u32 k0 = 0, k2 = 2, l4off, l4len, *port, *hold_us;
	struct tuple t = {};
	struct tcphdr th;
	struct spin s;
	__u8 b[40], one = 1;
	__u64 *held;

	if (skb->protocol == bpf_htons(ETH_P_IP)) {
		struct iphdr *ip = (void *)b;

		if (bpf_skb_load_bytes(skb, ETH_HLEN, b, sizeof(*ip)))
			return TC_ACT_OK;
		if (ip->protocol != IPPROTO_TCP || (ip->frag_off & bpf_htons(0x1fff)))
			return TC_ACT_OK;
		l4off = ETH_HLEN + ip->ihl * 4;
		l4len = bpf_ntohs(ip->tot_len) - ip->ihl * 4;
		t.saddr[0] = ip->saddr;
		t.daddr[0] = ip->daddr;
	} else if (skb->protocol == bpf_htons(ETH_P_IPV6)) {
		struct ipv6hdr *ip6 = (void *)b;

		if (bpf_skb_load_bytes(skb, ETH_HLEN, b, sizeof(*ip6)))
			return TC_ACT_OK;
		if (ip6->nexthdr != IPPROTO_TCP)
			return TC_ACT_OK;
		l4off = ETH_HLEN + sizeof(*ip6);
		l4len = bpf_ntohs(ip6->payload_len);
		__builtin_memcpy(t.saddr, &ip6->saddr, 16);
		__builtin_memcpy(t.daddr, &ip6->daddr, 16);
	} else {
		return TC_ACT_OK;
	}
	if (bpf_skb_load_bytes(skb, l4off, &th, sizeof(th)))
		return TC_ACT_OK;
	port = bpf_map_lookup_elem(&noharm_cfg, &k0);
	hold_us = bpf_map_lookup_elem(&noharm_cfg, &k2);
	if (!port || !hold_us || bpf_ntohs(th.dest) != *port)
		return TC_ACT_OK;
	/* a pure ACK: no SYN, FIN, RST, no payload */
	if (!th.ack || th.syn || th.fin || th.rst || l4len != th.doff * 4u)
		return TC_ACT_OK;
	t.sport = th.source;
	t.dport = th.dest;
	if (bpf_map_update_elem(&noharm_seen, &t, &one, BPF_NOEXIST))
		return TC_ACT_OK; /* not the connection's first */
	s.until = bpf_ktime_get_ns() + (__u64)*hold_us * 1000;
	bpf_loop(1 << 22, spin_cb, &s, 0);
	held = bpf_map_lookup_elem(&noharm_cnt, &k0);
	if (held)
		__sync_fetch_and_add(held, 1);
	return TC_ACT_OK;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
