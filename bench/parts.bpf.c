// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Parts of xdpsyn's SYN and ACK paths, each alone, for bench/micro.c's cost
 * breakdown. They call the project's own code (the headers in bpf/) on the bench's
 * frames, with the same build flags, so a part costs what it costs inside
 * xdpsyn_xdp (less the inlining context). None of them writes the frame.
 *
 *   part_ktime      bpf_ktime_get_tai_ns() once (the SYN and ACK paths
 *                   each call it once)
 *   part_opts       parse_tcp_opts() on the frame's TCP options
 *   part_hash       cookie_hash() over the frame's IPv4 tuple: one SipHash-2-4
 *                   of 3 words (the SYN path makes one; a forged ACK without
 *                   timestamps costs two)
 *   part_top_syn  top_syn(): the count-min sketch of SYN sources
 *   part_flow_complete  flow_complete(): the flow record and the top-sources
 *                   completion, after deleting the previous run's record
 *                   touch a valid ACK writes
 */
#define XDPSYN_LOAD_BYTES bpf_xdp_load_bytes
#include "defs.h"
#include "parse.h"
#include "cookie.h"
#include "csum.h"
#include "synack.h"
#include "maps.h"
#include "top.h"
#include "flows.h"
#include "handshakes.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

#define L4_OFF_V4 (14 + 20)

__u64 sink; /* results land here, so nothing is optimised away */

SEC("xdp.frags")
int part_ktime(struct xdp_md *ctx)
{
	sink += bpf_ktime_get_tai_ns();
	return XDP_PASS;
}

SEC("xdp.frags")
int part_opts(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct tcphdr *th = data + L4_OFF_V4;
	struct tcp_opts o;

	if ((void *)(th + 1) > data_end)
		return XDP_ABORTED;
	if (parse_tcp_opts(ctx, L4_OFF_V4, th->doff * 4, &o))
		return XDP_ABORTED;
	sink += o.mss + o.tsval + o.wscale;
	return XDP_PASS;
}

SEC("xdp.frags")
int part_hash(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct iphdr *iph = data + 14;
	struct tcphdr *th = data + L4_OFF_V4;
	struct cookie_in c = {};
	struct xdpsyn_key *key;
	__u32 zero = 0;

	if ((void *)(th + 1) > data_end)
		return XDP_ABORTED;
	key = bpf_map_lookup_elem(&xdpsyn_keys, &zero);
	if (!key)
		return XDP_ABORTED;
	c.family = XDPSYN_V4;
	c.saddr[0] = iph->saddr;
	c.daddr[0] = iph->daddr;
	c.sport = th->source;
	c.dport = th->dest;
	c.isn = bpf_ntohl(th->seq);
	sink += cookie_hash(key, &c, 12345, 0x9f);
	return XDP_PASS;
}

SEC("xdp.frags")
int part_top_syn(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct iphdr *iph = data + 14;
	struct xdpsyn_config *cfg;
	__be32 saddr[4] = {};
	__u32 zero = 0;

	if ((void *)(iph + 1) > data_end)
		return XDP_ABORTED;
	cfg = bpf_map_lookup_elem(&xdpsyn_config, &zero);
	if (!cfg)
		return XDP_ABORTED;
	saddr[0] = iph->saddr;
	top_syn(cfg, XDPSYN_V4, saddr);
	return XDP_PASS;
}

SEC("xdp.frags")
int part_flow_complete(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct iphdr *iph = data + 14;
	struct tcphdr *th = data + L4_OFF_V4;
	struct xdpsyn_config *cfg;
	struct pkt pkt = { .ck_info = 0xd7, .ck_rtt_us = 100, .ck_ts = 1 };
	__u32 zero = 0;

	if ((void *)(th + 1) > data_end)
		return XDP_ABORTED;
	cfg = bpf_map_lookup_elem(&xdpsyn_config, &zero);
	if (!cfg)
		return XDP_ABORTED;
	pkt.family = XDPSYN_V4;
	pkt.l3_off = 14;
	pkt.l4_off = L4_OFF_V4;
	pkt.saddr[0] = iph->saddr;
	pkt.daddr[0] = iph->daddr;
	pkt.now = bpf_ktime_get_tai_ns();
	{
		/* xdpsyn keeps one record per handshake: remove the last
		 * run's, so every run writes one (the delete is counted) */
		struct xdpsyn_flow_key k = {};

		flow_key_fill(&k, ctx->ingress_ifindex, &pkt, th);
		bpf_map_delete_elem(&xdpsyn_flows, &k);
	}
	flow_complete(ctx->ingress_ifindex, cfg, &pkt, th);
	return XDP_PASS;
}
