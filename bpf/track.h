/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* The handshake tracker: flow records for completed handshakes, and top
 * source prefixes (a count-min sketch of SYNs plus a heavy-hitter table).
 * Nothing here runs per SYN except the sketch's few counter increments. */
#ifndef XDPSYN_BPF_TRACK_H
#define XDPSYN_BPF_TRACK_H

#include "defs.h"
#include "parse.h"
#include "cookie.h"
#include "synack.h"
#include "maps.h"

static __always_inline __be32 prefix_mask(int bits)
{
	if (bits <= 0)
		return 0;
	if (bits >= 32)
		return 0xffffffff;
	return bpf_htonl(0xffffffffu << (32 - bits));
}

static __always_inline void prefix_of(struct xdpsyn_prefix *p,
				      const struct xdpsyn_config *cfg,
				      __u8 family, const __be32 *saddr)
{
	int plen;

	p->family = family;
	p->pad[0] = 0;
	p->pad[1] = 0;
	if (family == XDPSYN_V4) {
		plen = cfg->top_plen4 ? cfg->top_plen4 : XDPSYN_TOP_PLEN4_DEFAULT;
		if (plen > 32)
			plen = 32;
		p->plen = plen;
		p->addr[0] = saddr[0] & prefix_mask(plen);
		p->addr[1] = 0;
		p->addr[2] = 0;
		p->addr[3] = 0;
		return;
	}
	plen = cfg->top_plen6 ? cfg->top_plen6 : XDPSYN_TOP_PLEN6_DEFAULT;
	if (plen > 128)
		plen = 128;
	p->plen = plen;
#pragma unroll
	for (int i = 0; i < 4; i++)
		p->addr[i] = saddr[i] & prefix_mask(plen - 32 * i);
}

static __always_inline void top_touch(const struct xdpsyn_prefix *p, __u64 now,
				      int completed)
{
	struct xdpsyn_top_val *v = bpf_map_lookup_elem(&xdpsyn_top, p);

	if (v) {
		v->last_ns = now;
		if (completed)
			__sync_fetch_and_add(&v->completed, 1);
	} else {
		struct xdpsyn_top_val nv = {
			.first_ns = now, .last_ns = now, .completed = completed,
		};

		bpf_map_update_elem(&xdpsyn_top, p, &nv, BPF_NOEXIST);
	}
}

/* The flow record's key: interface and the client's tuple. */
static __always_inline void flow_key_fill(struct xdpsyn_flow_key *k,
					  __u32 ifindex, const struct pkt *pkt,
					  const struct tcphdr *th)
{
	k->ifindex = ifindex;
	k->family = pkt->family;
	__builtin_memcpy(k->saddr, pkt->saddr, sizeof(k->saddr));
	__builtin_memcpy(k->daddr, pkt->daddr, sizeof(k->daddr));
	k->sport = th->source;
	k->dport = th->dest;
}

/* A SYN from saddr: count it in the sketch; a prefix whose estimate on this
 * CPU reaches a power of two >= XDPSYN_HH_MIN is (re)listed as a top
 * source. */
static __always_inline void track_syn(const struct xdpsyn_config *cfg,
				      __u8 family, const __be32 *saddr)
{
	struct xdpsyn_prefix p;
	struct xdpsyn_cms *cms;
	__u32 zero = 0, est = 0xffffffff;
	__u64 h;

	cms = bpf_map_lookup_elem(&xdpsyn_cms, &zero);
	if (!cms)
		return;
	prefix_of(&p, cfg, family, saddr);
	h = xdpsyn_prefix_hash(&p);
#pragma unroll
	for (int r = 0; r < XDPSYN_CMS_ROWS; r++) {
		__u32 col = xdpsyn_cms_col(h, r) & (XDPSYN_CMS_COLS - 1);
		__u32 c = ++cms->c[r][col];

		if (c < est)
			est = c;
	}
	if (est >= XDPSYN_HH_MIN && !(est & (est - 1)))
		top_touch(&p, bpf_ktime_get_tai_ns(), 0);
}

/* A handshake completed (cookie valid; xdpsyn_ack left the cookie's
 * outcome in pkt->ck_* and the time in pkt->now): its flow record and its
 * source's completion count. Returns 1, or 0 when this handshake was
 * already recorded (nothing written). */
static __always_inline int track_complete(__u32 ifindex,
					   const struct xdpsyn_config *cfg,
					   const struct pkt *pkt,
					   const struct tcphdr *th)
{
	struct xdpsyn_flow_key k = {};
	struct xdpsyn_flow f = {};
	struct xdpsyn_flow *old;
	struct xdpsyn_prefix p;
	__u8 info = pkt->ck_info, ws = info & XDPSYN_INFO_WS_MASK;
	__u32 isn = bpf_ntohl(th->seq) - 1;

	flow_key_fill(&k, ifindex, pkt, th);
	f.isn = isn;
	f.state = XDPSYN_HS_COOKIE;
	f.time_ns = pkt->now;
	f.rtt_us = pkt->ck_rtt_us;
	f.mss = mss_value(pkt->family, info >> XDPSYN_INFO_MSS_SHIFT);
	f.snd_wscale = ws;
	f.rcv_wscale = ws == XDPSYN_WSCALE_NONE ? XDPSYN_WSCALE_NONE :
		       (cfg->wscale > XDPSYN_WSCALE_MAX ? XDPSYN_WSCALE_MAX : cfg->wscale);
	if (info & XDPSYN_INFO_SACK)
		f.flags |= XDPSYN_FLOW_SACK;
	if (pkt->ck_ts)
		f.flags |= XDPSYN_FLOW_TS;
	if (info & XDPSYN_INFO_ECN)
		f.flags |= XDPSYN_FLOW_ECN;
	if (ws != XDPSYN_WSCALE_NONE)
		f.flags |= XDPSYN_FLOW_WS;
	if (pkt->ck_prev_key)
		f.flags |= XDPSYN_FLOW_PREV_KEY;
	if (pkt->ck_kc) {
		/* the kernel's cookie: it keeps the MSS to itself */
		f.mss = 0;
		f.flags |= XDPSYN_FLOW_KCOOKIE;
	}
	if (bpf_map_update_elem(&xdpsyn_flows, &k, &f, BPF_NOEXIST)) {
		/* The tuple has a record. The same handshake validated again
		 * (its final ACK and the first data segment in one receive
		 * batch both reach XDP before the kernel has the connection):
		 * one record, one completion. An older connection's: replaced. */
		old = bpf_map_lookup_elem(&xdpsyn_flows, &k);
		if (old && old->state == XDPSYN_HS_COOKIE && old->isn == isn &&
		    pkt->now - old->time_ns < (1ULL << XDPSYN_COUNTER_NS_SHIFT) * 2)
			return 0;
		bpf_map_update_elem(&xdpsyn_flows, &k, &f, BPF_ANY);
	}

	prefix_of(&p, cfg, pkt->family, pkt->saddr);
	top_touch(&p, pkt->now, 1);
	if (pkt->ck_kc) {
		/* no TC hand-off follows to announce it */
		struct xdpsyn_flow_event *ev;

		ev = bpf_ringbuf_reserve(&xdpsyn_events, sizeof(*ev), 0);
		if (ev) {
			ev->key = k;
			ev->flow = f;
			bpf_ringbuf_submit(ev, 0);
		}
	}
	return 1;
}

/* ---- Track policy: handshakes the kernel answers ---------------------- */

static __always_inline __u32 clamp_u32(__u64 v)
{
	return v > 0xffffffffULL ? 0xffffffff : (__u32)v;
}

/* Options a SYN or SYN-ACK carries, as XDPSYN_FLOW_* flags. */
static __always_inline __u8 opts_flags(const struct tcp_opts *o, int ecn)
{
	__u8 f = 0;

	if (o->sack_ok)
		f |= XDPSYN_FLOW_SACK;
	if (o->ts_ok)
		f |= XDPSYN_FLOW_TS;
	if (o->wscale != XDPSYN_WSCALE_NONE)
		f |= XDPSYN_FLOW_WS;
	if (ecn)
		f |= XDPSYN_FLOW_ECN;
	return f;
}

/* A SYN the kernel will answer: a new record in xdpsyn_hs, or a
 * retransmission (same ISN) of one in progress. Returns 1 for a new
 * handshake. */
static __always_inline int hs_syn(__u32 ifindex, const struct pkt *pkt,
				  const struct tcphdr *th,
				  const struct tcp_opts *o, __u64 now)
{
	struct xdpsyn_flow_key k = {};
	struct xdpsyn_flow nf = {};
	struct xdpsyn_flow *f;
	__u32 isn = bpf_ntohl(th->seq);
	__u8 fl = tcp_flags(th);

	flow_key_fill(&k, ifindex, pkt, th);
	f = bpf_map_lookup_elem(&xdpsyn_hs, &k);
	if (f && f->isn == isn &&
	    (f->state == XDPSYN_HS_SYN || f->state == XDPSYN_HS_SYNACK)) {
		if (f->syn_retrans < 255)
			f->syn_retrans++;
		if (f->state == XDPSYN_HS_SYN)
			f->last_ns = now;
		f->time_ns = now;
		return 0;
	}
	nf.state = XDPSYN_HS_SYN;
	nf.time_ns = now;
	nf.syn_ns = now;
	nf.last_ns = now;
	nf.isn = isn;
	nf.mss = o->mss;
	nf.snd_wscale = o->wscale;
	nf.rcv_wscale = XDPSYN_WSCALE_NONE;
	nf.flags = opts_flags(o, (fl & (TCPF_ECE | TCPF_CWR)) ==
				 (TCPF_ECE | TCPF_CWR));
	bpf_map_update_elem(&xdpsyn_hs, &k, &nf, BPF_ANY);
	return 1;
}

/* The client's segment (ACK or RST) reached a handshake in progress. An
 * ACK completes it: the record moves to xdpsyn_flows, the source's
 * completion is counted and `flows --follow` hears of it. Returns the new
 * state, or 0 when no tracked handshake matched. */
static __always_inline int hs_client_seg(__u32 ifindex,
					 const struct xdpsyn_config *cfg,
					 const struct pkt *pkt,
					 const struct tcphdr *th)
{
	struct xdpsyn_flow_key k = {};
	struct xdpsyn_flow_event *ev;
	struct xdpsyn_prefix p;
	struct xdpsyn_flow *f;
	__u8 fl = tcp_flags(th);
	__u64 now;

	flow_key_fill(&k, ifindex, pkt, th);
	f = bpf_map_lookup_elem(&xdpsyn_hs, &k);
	if (!f || (f->state != XDPSYN_HS_SYN && f->state != XDPSYN_HS_SYNACK))
		return 0;
	now = bpf_ktime_get_tai_ns();
	f->time_ns = now;
	if (fl & TCPF_RST) {
		f->state = XDPSYN_HS_RESET;
		return XDPSYN_HS_RESET;
	}
	if (!(fl & TCPF_ACK))
		return 0;
	if (f->state == XDPSYN_HS_SYNACK)
		f->cli_ns = clamp_u32(now - f->last_ns);
	f->state = XDPSYN_HS_ESTABLISHED;
	bpf_map_update_elem(&xdpsyn_flows, &k, f, BPF_ANY);
	ev = bpf_ringbuf_reserve(&xdpsyn_events, sizeof(*ev), 0);
	if (ev) {
		ev->key = k;
		ev->flow = *f;
		bpf_ringbuf_submit(ev, 0);
	}
	bpf_map_delete_elem(&xdpsyn_hs, &k);
	if (cfg) {
		prefix_of(&p, cfg, pkt->family, pkt->saddr);
		top_touch(&p, now, 1);
	}
	return XDPSYN_HS_ESTABLISHED;
}

#endif
