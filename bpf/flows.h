/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Flow records: one per completed handshake in xdpsyn_flows, keyed by the
 * interface and the client's tuple (the track policy's handshakes in
 * progress are in handshakes.h). */
#ifndef XDPSYN_BPF_FLOWS_H
#define XDPSYN_BPF_FLOWS_H

#include "defs.h"
#include "parse.h"
#include "synack.h"
#include "maps.h"
#include "top.h"

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

/* A handshake completed (cookie valid; xdpsyn_ack left the cookie's
 * outcome in pkt->ck_* and the time in pkt->now): its flow record and its
 * source's completion count. Returns 1, or 0 when this handshake was
 * already recorded (nothing written). */
static __always_inline int flow_complete(__u32 ifindex,
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
	f.vlan = pkt->vlan;
	f.state = XDPSYN_HS_COOKIE;
	f.time_ns = pkt->now;
	f.rtt_us = pkt->ck_rtt_us;
	f.mss = mss_value(pkt->family, info >> XDPSYN_INFO_MSS_SHIFT, cfg->mss[XDPSYN_V4]);
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

#endif
