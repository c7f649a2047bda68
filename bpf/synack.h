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

/* Entry IDX of FAMILY's table for an interface whose IPv4 MSS (config
 * mss4) is MSS4: above 1460 it is the top entry (XDPSYN_MSS_TABLE_V4_JUMBO). */
static __always_inline __u16 mss_value(__u8 family, __u8 idx, __u16 mss4)
{
	__u64 t = family != XDPSYN_V4 ? MSS_PACKED_V6 :
		  mss4 > XDPSYN_MSS_V4_TOP ? MSS_PACK(XDPSYN_MSS_TABLE_V4_JUMBO(mss4)) :
					     MSS_PACKED_V4;

	return (t >> ((idx & (XDPSYN_MSS_TABLE_LEN - 1)) * 16)) & 0xffff;
}

/* Largest table entry not above mss (entry 0 when all are above). */
static __always_inline __u8 mss_index(__u8 family, __u16 mss, __u16 mss4)
{
	__u8 idx = 0;

#pragma unroll
	for (int i = 1; i < XDPSYN_MSS_TABLE_LEN; i++)
		if (mss_value(family, i, mss4) <= mss)
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
	__u8 gw;          /* gateway mode: window 0 (the client holds its
			   * data until the server is connected) */
	__u8 ws;          /* window scale to offer (gw), else cfg's */
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

/* What the SYN-ACK says, worked out before the frame is touched. */
struct synack_plan {
	__be32 ow[SYNACK_MAX_OPTWORDS]; /* the TCP options, as written */
	__u32 nw;                       /* 32-bit option words used */
	__u32 cookie;
	__u16 mss;                      /* advertised */
	__u8 flags;                     /* TCP flags */
	__u8 pad;
};

/* The cookie's info byte for this handshake (the MSS we may send with,
 * SACK, the client's window scale, ECN) and what we advertise, then the
 * cookie itself (ours from KEY, or the kernel's given in IN). */
static __always_inline void synack_cookie(const struct pkt *pkt,
					  const struct synack_in *in,
					  const struct tcp_opts *o,
					  const struct xdpsyn_config *cfg,
					  const struct xdpsyn_key *key,
					  __u64 now_ns, __u32 *tsval,
					  struct synack_plan *p)
{
	struct cookie_in c = {};
	__u16 cap, peer_mss;
	__u8 info;

	cap = cfg->mss[pkt->family & 1];
	if (pkt->user_mss && pkt->user_mss < cap) /* the listener's TCP_MAXSEG */
		cap = pkt->user_mss;
	/* We advertise min(client's MSS, ours); the cookie keeps the MSS we
	 * may send with: the client's (RFC 9293 default without the option),
	 * capped by ours, rounded down to the table. */
	p->mss = o->mss && o->mss < cap ? o->mss : cap;
	peer_mss = o->mss ? p->mss : (pkt->family == XDPSYN_V4 ? XDPSYN_MSS_DEFAULT_V4
							       : XDPSYN_MSS_DEFAULT_V6);
	if (peer_mss > cap)
		peer_mss = cap;
	info = mss_index(pkt->family, peer_mss, cfg->mss[XDPSYN_V4]) << XDPSYN_INFO_MSS_SHIFT;
	if (o->sack_ok)
		info |= XDPSYN_INFO_SACK;
	info |= o->wscale != XDPSYN_WSCALE_NONE ? o->wscale & XDPSYN_INFO_WS_MASK
						 : XDPSYN_WSCALE_NONE;
	p->flags = TCPF_SYN | TCPF_ACK;
	if ((in->flags & (TCPF_ECE | TCPF_CWR)) == (TCPF_ECE | TCPF_CWR) && cfg->ecn) {
		info |= XDPSYN_INFO_ECN;
		p->flags |= TCPF_ECE;
	}
	if (in->given) {
		p->cookie = in->isn;
		*tsval = in->tsval;
		return;
	}
	c.family = pkt->family;
	__builtin_memcpy(c.saddr, pkt->saddr, sizeof(c.saddr));
	__builtin_memcpy(c.daddr, pkt->daddr, sizeof(c.daddr));
	c.sport = in->sport;
	c.dport = in->dport;
	c.isn = in->client_isn;
	p->cookie = cookie_make(key, &c, now_ns, info, tsval);
}

/* The options, as Linux's tcp_options_write orders them: MSS, SACK_PERM
 * and TS (or NOPs), NOP and WS; only what the client offered. */
static __always_inline void synack_options(const struct tcp_opts *o,
					   const struct xdpsyn_config *cfg,
					   const struct synack_in *in,
					   __u32 tsval, struct synack_plan *p)
{
	__u32 nw = 0;

	p->ow[nw++] = bpf_htonl((TCPOPT_MSS << 24) | (TCPOLEN_MSS << 16) | p->mss);
	if (o->ts_ok) {
		if (o->sack_ok)
			p->ow[nw++] = bpf_htonl((TCPOPT_SACK_PERM << 24) |
						(TCPOLEN_SACK_PERM << 16) |
						(TCPOPT_TIMESTAMP << 8) | TCPOLEN_TIMESTAMP);
		else
			p->ow[nw++] = bpf_htonl((TCPOPT_NOP << 24) | (TCPOPT_NOP << 16) |
						(TCPOPT_TIMESTAMP << 8) | TCPOLEN_TIMESTAMP);
		p->ow[nw++] = bpf_htonl(tsval);
		p->ow[nw++] = bpf_htonl(o->tsval);
	} else if (o->sack_ok) {
		p->ow[nw++] = bpf_htonl((TCPOPT_NOP << 24) | (TCPOPT_NOP << 16) |
					(TCPOPT_SACK_PERM << 8) | TCPOLEN_SACK_PERM);
	}
	if (o->wscale != XDPSYN_WSCALE_NONE) {
		__u8 ws = in->gw ? in->ws : cfg->wscale;

		if (ws > XDPSYN_WSCALE_MAX)
			ws = XDPSYN_WSCALE_MAX;

		p->ow[nw++] = bpf_htonl((TCPOPT_NOP << 24) | (TCPOPT_WINDOW << 16) |
					(TCPOLEN_WINDOW << 8) | ws);
	}
	p->nw = nw;
}

/* Resize the frame to exactly L2 + IP + TCP header + options: the tail
 * (all buffers of a multi-buffer frame: a SYN's payload goes), and, when
 * the receive path took the outermost VLAN tag into metadata, 4 bytes at
 * the head for it. 0, 1 when the reply would not fit the frame's first
 * buffer (frame unchanged: the caller passes it), -1 when a resize
 * failed. */
static __always_inline int synack_resize(struct xdp_md *ctx,
					 const struct pkt *pkt, __u32 new_len)
{
	__u32 linear = ctx->data_end - ctx->data;
	__u32 total = bpf_xdp_get_buff_len(ctx);
	int delta;

	/* the headers are all in the first buffer (parsed there); a reply
	 * longer than it would end in a fragment */
	if (total > linear && new_len > linear)
		return 1;
	delta = (int)new_len - (int)total;
	if (delta && bpf_xdp_adjust_tail(ctx, delta))
		return -1;
	if (pkt->vlan_meta) {
		__u8 macs[2 * ETH_ALEN];
		void *data, *data_end;
		__be16 *tag;

		if (bpf_xdp_adjust_head(ctx, -(int)sizeof(struct vlan_hdr)))
			return -1;
		data = (void *)(long)ctx->data;
		data_end = (void *)(long)ctx->data_end;
		tag = data + 2 * ETH_ALEN;
		if ((void *)(tag + 2) + sizeof(struct vlan_hdr) > data_end)
			return -1;
		/* the MACs move to the new start; the tag (TPID, TCI) goes
		 * between them and the frame's EtherType or in-frame tags */
		__builtin_memcpy(macs, data + sizeof(struct vlan_hdr), sizeof(macs));
		__builtin_memcpy(data, macs, sizeof(macs));
		tag[0] = pkt->vlan_proto;
		tag[1] = bpf_htons(pkt->vlan);
	}
	return 0;
}

/* The IP header (no options, no extension headers) at L3_OFF. 0, or -1
 * when outside the frame. */
static __always_inline int synack_ip(void *data, void *data_end, __u32 l3_off,
				     const struct pkt *pkt,
				     const struct xdpsyn_config *cfg,
				     __u32 tcplen)
{
	if (pkt->family == XDPSYN_V4) {
		struct iphdr *iph = data + l3_off;
		__u64 isum = 0;

		if ((void *)(iph + 1) > data_end)
			return -1;
		iph->version = 4;
		iph->ihl = 5;
		iph->tos = 0;
		iph->tot_len = bpf_htons(sizeof(*iph) + tcplen);
		iph->id = 0;
		iph->frag_off = bpf_htons(IP_DF);
		iph->ttl = cfg->ttl ? cfg->ttl : 64;
		iph->protocol = IPPROTO_TCP;
		iph->check = 0;
		iph->saddr = pkt->daddr[0];
		iph->daddr = pkt->saddr[0];
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
	return 0;
}

/* The TCP header and options at L4_OFF, checksum included. */
static __always_inline int synack_tcp(void *data, void *data_end, __u32 l4_off,
				      const struct pkt *pkt,
				      const struct synack_in *in,
				      const struct xdpsyn_config *cfg,
				      const struct synack_plan *p)
{
	union tcp_word_hdr *tw = data + l4_off;
	struct tcphdr *th = &tw->hdr;
	__be32 *opt = (__be32 *)(th + 1);
	__u32 tcplen = sizeof(*th) + p->nw * 4;
	__u16 window = in->gw ? 0 : cfg->window ? cfg->window : 65535;
	__u64 sum;

	if ((void *)(th + 1) > data_end)
		return -1;
	sum = csum_pseudo(pkt->family, pkt->daddr, pkt->saddr, tcplen);
	th->source = in->dport;
	th->dest = in->sport;
	th->seq = bpf_htonl(p->cookie);
	th->ack_seq = bpf_htonl(in->client_isn + 1);
	tw->words[3] = bpf_htonl(((5 + p->nw) << 28) | ((__u32)p->flags << 16) | window);
	tw->words[4] = 0; /* checksum, urgent pointer */
	sum += tw->words[0] + (__u64)tw->words[1] + tw->words[2] + tw->words[3];
#pragma unroll
	for (int i = 0; i < SYNACK_MAX_OPTWORDS; i++) {
		if (i < p->nw) {
			if ((void *)(opt + i + 1) > data_end)
				return -1;
			opt[i] = p->ow[i];
			sum += p->ow[i];
		}
	}
	th->check = csum_fold(sum);
	return 0;
}

/* Turn the SYN in the frame into the SYN-ACK. Returns 0 when the frame
 * holds it, 1 when it does not fit a multi-buffer frame's first buffer
 * (frame unchanged: pass it), -1 if it could not be built (the frame is
 * then unusable: the caller drops it). */
static __always_inline int synack_build(struct xdp_md *ctx,
					const struct pkt *pkt,
					const struct synack_in *in,
					const struct tcp_opts *o,
					const struct xdpsyn_config *cfg,
					const struct xdpsyn_key *key,
					__u64 now_ns, __u32 *cookie_out)
{
	struct synack_plan p = {};
	__u32 tsval = 0, iplen, tcplen, l3_off;
	void *data, *data_end;
	int ret;

	synack_cookie(pkt, in, o, cfg, key, now_ns, &tsval, &p);
	*cookie_out = p.cookie;
	synack_options(o, cfg, in, tsval, &p);

	iplen = pkt->family == XDPSYN_V4 ? sizeof(struct iphdr) : sizeof(struct ipv6hdr);
	tcplen = sizeof(struct tcphdr) + p.nw * 4;
	ret = synack_resize(ctx, pkt, pkt->l3_off + iplen + tcplen);
	if (ret)
		return ret;
	l3_off = pkt->l3_off;
	if (l3_off > MAX_L3_OFF)
		return -1;
	if (pkt->vlan_meta) /* the IP header is after the tag restored */
		l3_off += sizeof(struct vlan_hdr);
	barrier_var(ctx); /* reload data/data_end from ctx, not a derived reg */
	data = (void *)(long)ctx->data;
	data_end = (void *)(long)ctx->data_end;
	if (data + sizeof(struct ethhdr) > data_end)
		return -1;
	swap_mac(data);
	if (synack_ip(data, data_end, l3_off, pkt, cfg, tcplen))
		return -1;
	return synack_tcp(data, data_end, l3_off + iplen, pkt, in, cfg, &p);
}

#endif
