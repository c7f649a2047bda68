/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* The track policy's handshake table xdpsyn_hs: a record per SYN the
 * kernel answers, advanced by its SYN-ACK (TC egress) and the client's ACK
 * or RST, moved to the flow records when it completes. */
#ifndef XDPSYN_BPF_HANDSHAKES_H
#define XDPSYN_BPF_HANDSHAKES_H

#include "defs.h"
#include "parse.h"
#include "maps.h"
#include "top.h"
#include "flows.h"

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
	nf.vlan = pkt->vlan;
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
