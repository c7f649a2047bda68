/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Turn a SYN into our SYN-ACK in place: Ethernet and VLAN tags kept (MACs
 * swapped), a fresh IP header without options or extension headers, a TCP
 * header with the cookie ISN and the options Linux would send, in Linux's
 * order, for what the client offered. Checksums are computed in full. */
#ifndef XDPSYN_BPF_SYNACK_H
#define XDPSYN_BPF_SYNACK_H

#include "defs.h"
#include "parse.h"
#include "cookie.h"
#include "csum.h"

#define SYNACK_MAX_OPTWORDS 5 /* MSS, SACK_PERM/NOPs + TS (3), NOP + WS */

/* The MSS tables packed four 16-bit entries to a 64-bit constant: a lookup
 * is a shift, with no .rodata array. */
#define MSS_PACK4(a, b, c, d) \
	((__u64)(a) | (__u64)(b) << 16 | (__u64)(c) << 32 | (__u64)(d) << 48)
#define MSS_PACK(...) MSS_PACK4(__VA_ARGS__)
#define MSS_PACKED_V4 MSS_PACK(XDPSYN_MSS_TABLE_V4)
#define MSS_PACKED_V6 MSS_PACK(XDPSYN_MSS_TABLE_V6)

static __always_inline __u16 mss_value(__u8 family, __u8 idx)
{
	__u64 t = family == XDPSYN_V4 ? MSS_PACKED_V4 : MSS_PACKED_V6;

	return (t >> ((idx & (XDPSYN_MSS_TABLE_LEN - 1)) * 16)) & 0xffff;
}

/* Largest table entry not above mss (entry 0 when all are above). */
static __always_inline __u8 mss_index(__u8 family, __u16 mss)
{
	__u8 idx = 0;

#pragma unroll
	for (int i = 1; i < XDPSYN_MSS_TABLE_LEN; i++)
		if (mss_value(family, i) <= mss)
			idx = i;
	return idx;
}

struct synack_in {
	__be16 sport;     /* the client's */
	__be16 dport;
	__u32 client_isn;
	__u8 flags;       /* the SYN's TCP flags */
	__u8 given;       /* 1: isn and tsval below are the cookie (the
			   * kernel's), not ours from key */
	__u8 pad[2];
	__u32 isn;
	__u32 tsval;
};

static __always_inline void swap_mac(struct ethhdr *eth)
{
	__u8 tmp[ETH_ALEN];

	__builtin_memcpy(tmp, eth->h_source, ETH_ALEN);
	__builtin_memcpy(eth->h_source, eth->h_dest, ETH_ALEN);
	__builtin_memcpy(eth->h_dest, tmp, ETH_ALEN);
}

/* Returns 0 when the frame holds the SYN-ACK, -1 if it could not be resized
 * (the frame is then unchanged or unusable: the caller drops it). */
static __always_inline int synack_build(struct xdp_md *ctx,
					const struct pkt *pkt,
					const struct synack_in *in,
					const struct tcp_opts *o,
					const struct xdpsyn_config *cfg,
					const struct xdpsyn_key *key,
					__u64 now_ns, __u32 *cookie_out)
{
	__be32 ow[SYNACK_MAX_OPTWORDS] = {};
	struct cookie_in c = {};
	__u32 nw = 0, tsval = 0, cookie, iplen, tcplen, new_len;
	__u16 cap, mss, peer_mss, window;
	__u8 info, flags = TCPF_SYN | TCPF_ACK, ws = XDPSYN_WSCALE_NONE;
	void *data, *data_end;
	__u32 l3_off = pkt->l3_off;
	__u64 sum;
	int delta;

	/* What the cookie records of this handshake. */
	cap = cfg->mss[pkt->family & 1];
	if (pkt->user_mss && pkt->user_mss < cap) /* the listener's TCP_MAXSEG */
		cap = pkt->user_mss;
	/* We advertise min(client's MSS, ours); the cookie keeps the MSS we
	 * may send with: the client's (RFC 9293 default without the option),
	 * capped by ours, rounded down to the table. */
	mss = o->mss && o->mss < cap ? o->mss : cap;
	peer_mss = o->mss ? mss : (pkt->family == XDPSYN_V4 ? XDPSYN_MSS_DEFAULT_V4
							    : XDPSYN_MSS_DEFAULT_V6);
	if (peer_mss > cap)
		peer_mss = cap;
	info = mss_index(pkt->family, peer_mss) << XDPSYN_INFO_MSS_SHIFT;
	if (o->sack_ok)
		info |= XDPSYN_INFO_SACK;
	if (o->wscale != XDPSYN_WSCALE_NONE) {
		ws = cfg->wscale > XDPSYN_WSCALE_MAX ? XDPSYN_WSCALE_MAX : cfg->wscale;
		info |= o->wscale & XDPSYN_INFO_WS_MASK;
	} else {
		info |= XDPSYN_WSCALE_NONE;
	}
	if ((in->flags & (TCPF_ECE | TCPF_CWR)) == (TCPF_ECE | TCPF_CWR) && cfg->ecn) {
		info |= XDPSYN_INFO_ECN;
		flags |= TCPF_ECE;
	}

	c.family = pkt->family;
	__builtin_memcpy(c.saddr, pkt->saddr, sizeof(c.saddr));
	__builtin_memcpy(c.daddr, pkt->daddr, sizeof(c.daddr));
	c.sport = in->sport;
	c.dport = in->dport;
	c.isn = in->client_isn;
	if (in->given) {
		cookie = in->isn;
		tsval = in->tsval;
	} else {
		cookie = cookie_make(key, &c, now_ns, info, &tsval);
	}
	*cookie_out = cookie;

	/* Options, as Linux's tcp_options_write orders them. */
	ow[nw++] = bpf_htonl((TCPOPT_MSS << 24) | (TCPOLEN_MSS << 16) | mss);
	if (o->ts_ok) {
		if (o->sack_ok)
			ow[nw++] = bpf_htonl((TCPOPT_SACK_PERM << 24) |
					     (TCPOLEN_SACK_PERM << 16) |
					     (TCPOPT_TIMESTAMP << 8) | TCPOLEN_TIMESTAMP);
		else
			ow[nw++] = bpf_htonl((TCPOPT_NOP << 24) | (TCPOPT_NOP << 16) |
					     (TCPOPT_TIMESTAMP << 8) | TCPOLEN_TIMESTAMP);
		ow[nw++] = bpf_htonl(tsval);
		ow[nw++] = bpf_htonl(o->tsval);
	} else if (o->sack_ok) {
		ow[nw++] = bpf_htonl((TCPOPT_NOP << 24) | (TCPOPT_NOP << 16) |
				     (TCPOPT_SACK_PERM << 8) | TCPOLEN_SACK_PERM);
	}
	if (ws != XDPSYN_WSCALE_NONE)
		ow[nw++] = bpf_htonl((TCPOPT_NOP << 24) | (TCPOPT_WINDOW << 16) |
				     (TCPOLEN_WINDOW << 8) | ws);

	/* Resize the frame to exactly L2 + IP + TCP + options. */
	iplen = pkt->family == XDPSYN_V4 ? sizeof(struct iphdr) : sizeof(struct ipv6hdr);
	tcplen = sizeof(struct tcphdr) + nw * 4;
	new_len = l3_off + iplen + tcplen;
	delta = (int)new_len - (int)(ctx->data_end - ctx->data);
	if (delta && bpf_xdp_adjust_tail(ctx, delta))
		return -1;
	barrier_var(ctx); /* reload data/data_end from ctx, not a derived reg */
	data = (void *)(long)ctx->data;
	data_end = (void *)(long)ctx->data_end;
	if (l3_off > 2 * sizeof(struct vlan_hdr) + sizeof(struct ethhdr))
		return -1;

	if (data + sizeof(struct ethhdr) > data_end)
		return -1;
	swap_mac(data);

	sum = csum_pseudo(pkt->family, pkt->daddr, pkt->saddr, tcplen);
	if (pkt->family == XDPSYN_V4) {
		struct iphdr *iph = data + l3_off;
		__u64 isum;

		if ((void *)(iph + 1) > data_end)
			return -1;
		iph->version = 4;
		iph->ihl = 5;
		iph->tos = 0;
		iph->tot_len = bpf_htons(iplen + tcplen);
		iph->id = 0;
		iph->frag_off = bpf_htons(IP_DF);
		iph->ttl = cfg->ttl ? cfg->ttl : 64;
		iph->protocol = IPPROTO_TCP;
		iph->check = 0;
		iph->saddr = pkt->daddr[0];
		iph->daddr = pkt->saddr[0];
		isum = 0;
#pragma unroll
		for (int i = 0; i < 5; i++)
			isum += ((__be32 *)iph)[i];
		iph->check = csum_fold(isum);
	} else {
		struct ipv6hdr *ip6 = data + l3_off;

		if ((void *)(ip6 + 1) > data_end)
			return -1;
		ip6->version = 6;
		ip6->priority = 0;
		ip6->flow_lbl[0] = 0;
		ip6->flow_lbl[1] = 0;
		ip6->flow_lbl[2] = 0;
		ip6->payload_len = bpf_htons(tcplen);
		ip6->nexthdr = IPPROTO_TCP;
		ip6->hop_limit = cfg->ttl ? cfg->ttl : 64;
		__builtin_memcpy(&ip6->saddr, pkt->daddr, sizeof(ip6->saddr));
		__builtin_memcpy(&ip6->daddr, pkt->saddr, sizeof(ip6->daddr));
	}

	{
		union tcp_word_hdr *tw = data + l3_off + iplen;
		struct tcphdr *th = &tw->hdr;
		__be32 *opt = (__be32 *)(th + 1);

		if ((void *)(th + 1) > data_end)
			return -1;
		window = cfg->window ? cfg->window : 65535;
		th->source = in->dport;
		th->dest = in->sport;
		th->seq = bpf_htonl(cookie);
		th->ack_seq = bpf_htonl(in->client_isn + 1);
		tw->words[3] = bpf_htonl(((5 + nw) << 28) | ((__u32)flags << 16) | window);
		tw->words[4] = 0; /* checksum, urgent pointer */
		sum += tw->words[0] + (__u64)tw->words[1] + tw->words[2] + tw->words[3];
#pragma unroll
		for (int i = 0; i < SYNACK_MAX_OPTWORDS; i++) {
			if (i < nw) {
				if ((void *)(opt + i + 1) > data_end)
					return -1;
				opt[i] = ow[i];
				sum += ow[i];
			}
		}
		th->check = csum_fold(sum);
	}
	return 0;
}

#endif
