// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * noharm_tc: "another TC program on the interface" for tests/e2e/test_noharm.sh
 * (a stand-in for a firewall or Cilium's tcx program). It counts the TCP
 * segments to one port that it sees and returns 0, which is TC_ACT_OK for a
 * classic clsact filter in direct-action mode and TCX_PASS for a tcx
 * program: both END the chain, so whatever runs after it does not run.
 *
 * Counters (array noharm_cnt): 0 FIN segments, 1 TCP payload bytes,
 * 2 every TCP segment, 3 SYN segments. The first two are deterministic for
 * a given workload (one FIN per direction per connection, every payload
 * byte once unless retransmitted); ACK counts are not (delayed ACKs).
 * noharm_cfg[0] is the port to count (0: every port), noharm_cfg[1] the
 * direction: 0 ingress (the port is the destination), 1 egress (the
 * source); both written by the loader (tests/tools/tcxload.c).
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/tcp.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#include "noharm_maps.h"

SEC("tc")
int noharm_count(struct __sk_buff *skb)
{
	__u32 zero = 0, one = 1, l4off, l4len, *port, *egress;
	struct tcphdr th;
	__u8 b[40];

	if (skb->protocol == bpf_htons(ETH_P_IP)) {
		struct iphdr *ip = (void *)b;

		if (bpf_skb_load_bytes(skb, ETH_HLEN, b, sizeof(*ip)))
			return 0;
		if (ip->protocol != IPPROTO_TCP || (ip->frag_off & bpf_htons(0x1fff)))
			return 0;
		l4off = ETH_HLEN + ip->ihl * 4;
		l4len = bpf_ntohs(ip->tot_len) - ip->ihl * 4;
	} else if (skb->protocol == bpf_htons(ETH_P_IPV6)) {
		struct ipv6hdr *ip6 = (void *)b;

		if (bpf_skb_load_bytes(skb, ETH_HLEN, b, sizeof(*ip6)))
			return 0;
		if (ip6->nexthdr != IPPROTO_TCP) /* the lab sends no extension headers */
			return 0;
		l4off = ETH_HLEN + sizeof(*ip6);
		l4len = bpf_ntohs(ip6->payload_len);
	} else {
		return 0;
	}
	if (bpf_skb_load_bytes(skb, l4off, &th, sizeof(th)))
		return 0;
	port = bpf_map_lookup_elem(&noharm_cfg, &zero);
	egress = bpf_map_lookup_elem(&noharm_cfg, &one);
	if (port && *port && bpf_ntohs(egress && *egress ? th.source : th.dest) != *port)
		return 0;
	add(2, 1);
	if (th.fin)
		add(0, 1);
	if (th.syn)
		add(3, 1);
	if (l4len > th.doff * 4u)
		add(1, l4len - th.doff * 4u);
	return 0; /* TC_ACT_OK / TCX_PASS: the chain ends here */
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
