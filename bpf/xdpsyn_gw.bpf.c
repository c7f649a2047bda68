// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* xdpsyn gateway mode (include/xdpsyn.h, "Gateway mode"). XDP on IFACE_C
 * (the clients' side): cookie SYN-ACKs for the servers behind, a valid
 * final ACK becomes the client's SYN to the server, then client -> server
 * translation. XDP on IFACE_S: server -> client translation. TC ingress on
 * IFACE_S: the server's SYN-ACK becomes the ACK that completes its
 * handshake (cloned back to it) and the window update that lets the
 * client send. The maps of bpf/maps.h are the local-mode object's (attach
 * reuses them by name); bpf/gateway_maps.h's are this object's. */
#define XDPSYN_LOAD_BYTES bpf_xdp_load_bytes
#include "defs.h"
#include "parse.h"
#include "cookie.h"
#include "csum.h"
#include "synack.h"
#include "maps.h"
#include "top.h"
#include "gateway.h"
#include "xdp_verdict.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

#define TC_ACT_UNSPEC (-1)
#define TC_ACT_OK 0
#define TC_ACT_SHOT 2
#define TC_ACT_REDIRECT 7

/* Answers of gw_c2s, gw_c2s_new and gw_ack_new for the entry, so that the global
 * functions' stacks are never on top of each other. */
#define GW_NO_STATE 0x200
#define GW_ACK_NEW 0x201
#define GW_SYN_SEND 0x202 /* gw_syn_send: the client's SYN to the server */
#define GW_CONN_MAKE 0x203 /* gw_conn_make: the state of a valid ACK */

/* The destination is a server behind the gateway: in --servers, or (no
 * list) routed out IFACE_S. */
static __always_inline int gw_server_behind(struct xdp_md *ctx,
					    const struct pkt *pkt,
					    const struct xdpsyn_config *cfg)
{
	struct bpf_fib_lookup fib = {};
	long rc;

	if (cfg->gw_flags & XDPSYN_GWCFG_PREFIXES) {
		struct xdpsyn_gw_prefix k = {};

		k.plen = 32 + (pkt->family == XDPSYN_V4 ? 32 : 128);
		k.family = pkt->family;
		__builtin_memcpy(k.addr, pkt->daddr, sizeof(k.addr));
		return bpf_map_lookup_elem(&xdpsyn_gw_prefixes, &k) != NULL;
	}
	fib.ifindex = ctx->ingress_ifindex;
	fib.l4_protocol = IPPROTO_TCP;
	if (pkt->family == XDPSYN_V4) {
		fib.family = AF_INET;
		fib.ipv4_src = pkt->saddr[0];
		fib.ipv4_dst = pkt->daddr[0];
	} else {
		fib.family = AF_INET6;
		__builtin_memcpy(fib.ipv6_src, pkt->saddr, sizeof(fib.ipv6_src));
		__builtin_memcpy(fib.ipv6_dst, pkt->daddr, sizeof(fib.ipv6_dst));
	}
	rc = bpf_fib_lookup(ctx, &fib, sizeof(fib), BPF_FIB_LOOKUP_SKIP_NEIGH);
	return (rc == BPF_FIB_LKUP_RET_SUCCESS || rc == BPF_FIB_LKUP_RET_NO_NEIGH) &&
	       fib.ifindex == cfg->gw_ifindex;
}

/* A SYN to a protected port of a server behind: a cookie SYN-ACK with
 * window 0, offering what the client offered and the server is known to
 * agree to (its learned or static options), our window scale the
 * server's, so that nothing needs translating. */
__noinline int gw_syn(struct xdp_md *ctx, struct pkt *pkt)
{
	struct synack_in sin = {}, *in = &sin;
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct xdpsyn_stats *st = stats_get();
	struct xdpsyn_config *cfg = gw_config();
	struct xdpsyn_gw_server *srv;
	struct xdpsyn_gw_conn *old;
	struct xdpsyn_gw_key key = {};
	struct cookie_keys k;
	struct tcp_opts o;
	struct tcphdr *th;
	__u32 cookie;
	int ret;

	if (!pkt || !cfg)
		return XDP_PASS;
	th = pkt_tcp(pkt, data, data_end);
	if (!th)
		return XDP_DROP;
	if (!gw_server_behind(ctx, pkt, cfg)) {
		count(st, XDPSYN_CNT_GW_NOT_SERVER);
		return XDP_PASS;
	}
	if (tcp_opts_read(ctx, pkt, th, data_end, 1, &o))
		return opts_unreadable(ctx, st, th, data_end);
	if (keys_get(cfg, &k)) {
		count(st, XDPSYN_CNT_CONFIG_MISSING);
		return XDP_PASS;
	}
	top_syn(cfg, pkt->family, pkt->saddr);
	in->sport = th->source;
	in->dport = th->dest;
	in->client_isn = bpf_ntohl(th->seq);
	in->flags = tcp_flags(th);
	in->gw = 1;
	in->ws = cfg->wscale;
	gw_key_fill(&key, pkt, th, 1);
	/* A new SYN on the tuple of a connection that ended (time-wait
	 * reuse) or never got its SYN-ACK: that state is over. An
	 * established one stays (a SYN in it is the server's to judge,
	 * as without us). */
	old = bpf_map_lookup_elem(&xdpsyn_gw_conns, &key);
	if (old && old->state != XDPSYN_GW_ESTABLISHED)
		bpf_map_delete_elem(&xdpsyn_gw_conns, &key);
	srv = gw_server_get(&key);
	if (srv) {
		pkt->user_mss = srv->mss;
		if (!(srv->flags & XDPSYN_GW_SRV_TS))
			o.ts_ok = 0;
		if (!(srv->flags & XDPSYN_GW_SRV_SACK))
			o.sack_ok = 0;
		if (srv->ws == XDPSYN_WSCALE_NONE)
			o.wscale = XDPSYN_WSCALE_NONE;
		else
			in->ws = srv->ws;
		if (!(srv->flags & XDPSYN_GW_SRV_ECN))
			in->flags &= ~(TCPF_ECE | TCPF_CWR);
	}
	ret = synack_build(ctx, pkt, in, &o, cfg, k.cur, bpf_ktime_get_tai_ns(),
			   &cookie);
	if (ret > 0) {
		count(st, XDPSYN_CNT_MULTIBUF_PASS);
		return XDP_PASS;
	}
	if (ret) {
		count(st, XDPSYN_CNT_TX_ERROR);
		return XDP_DROP;
	}
	count(st, XDPSYN_CNT_SYNACK_TX);
	return XDP_TX;
}

/* The client's SYN, rebuilt in the frame of its final ACK (or of a
 * window probe): same addresses and ports, seq the client's ISN, the
 * options the cookie kept (MSS from its table, SACK, window scale), ECN
 * asked when agreed, the client's TSval, its window unscaled. Passed to
 * the kernel, which forwards it to the server. 0, or -1 when the frame
 * could not be rebuilt (IP options or extension headers, a resize). */
static __always_inline int gw_syn_rebuild(struct xdp_md *ctx,
					  const struct pkt *pkt,
					  const struct xdpsyn_gw_conn *v,
					  const struct xdpsyn_config *cfg)
{
	__u32 iplen = pkt->family == XDPSYN_V4 ? sizeof(struct iphdr) :
						 sizeof(struct ipv6hdr);
	struct tcp_opts o = {};
	struct synack_in in = {};
	struct synack_plan p = {};
	__u32 nw, l3_off = pkt->l3_off, tcplen, total, linear;
	void *data, *data_end;
	union tcp_word_hdr *tw;
	struct tcphdr *th;
	__u32 win, flags = TCPF_SYN;
	__u64 sum;

	if (pkt->l4_off != l3_off + iplen || l3_off > MAX_L3_OFF)
		return -1;
	/* the options in the order Linux writes them, as a SYN-ACK's: MSS,
	 * SACK_PERM and TS (its TSval the client's, no echo), NOP and WS */
	o.ts_ok = !!(v->flags & XDPSYN_GW_C_TS);
	o.sack_ok = !!(v->flags & XDPSYN_GW_C_SACK);
	o.wscale = v->flags & XDPSYN_GW_C_WS ? v->c_ws : XDPSYN_WSCALE_NONE;
	in.gw = 1;
	in.ws = v->c_ws;
	p.mss = v->c_mss;
	synack_options(&o, cfg, &in, v->c_tsval, &p);
	nw = p.nw;
	if (v->flags & XDPSYN_GW_C_ECN)
		flags |= TCPF_ECE | TCPF_CWR;
	win = v->flags & XDPSYN_GW_C_WS ? (__u32)v->c_win << (v->c_ws & 15) : v->c_win;
	if (win > 65535)
		win = 65535;

	tcplen = sizeof(struct tcphdr) + nw * 4;
	linear = ctx->data_end - ctx->data;
	total = bpf_xdp_get_buff_len(ctx);
	if (total > linear)
		return -1;
	if (bpf_xdp_adjust_tail(ctx, (int)(l3_off + iplen + tcplen) - (int)total))
		return -1;
	barrier_var(ctx);
	data = (void *)(long)ctx->data;
	data_end = (void *)(long)ctx->data_end;
	if (pkt->family == XDPSYN_V4) {
		struct iphdr *iph = data + l3_off;
		__u64 isum = 0;

		if ((void *)(iph + 1) > data_end)
			return -1;
		iph->tos &= ~3; /* a SYN is not ECN-capable (RFC 3168) */
		iph->tot_len = bpf_htons(sizeof(*iph) + tcplen);
		iph->check = 0;
#pragma unroll
		for (int i = 0; i < 5; i++)
			isum += ((__be32 *)iph)[i];
		iph->check = csum_fold(isum);
	} else {
		struct ipv6hdr *ip6 = data + l3_off;

		if ((void *)(ip6 + 1) > data_end)
			return -1;
		ip6->flow_lbl[0] &= ~0x30;
		ip6->payload_len = bpf_htons(tcplen);
	}
	tw = data + l3_off + iplen;
	th = &tw->hdr;
	if ((void *)(th + 1) > data_end)
		return -1;
	th->seq = bpf_htonl(v->c_isn);
	th->ack_seq = 0;
	tw->words[3] = bpf_htonl(((5 + nw) << 28) | (flags << 16) | win);
	tw->words[4] = 0;
	sum = csum_pseudo(pkt->family, pkt->saddr, pkt->daddr, tcplen);
	sum += tw->words[0] + (__u64)tw->words[1] + tw->words[2] + tw->words[3];
#pragma unroll
	for (int i = 0; i < SYNACK_MAX_OPTWORDS; i++) {
		__be32 *opt = (__be32 *)(th + 1) + i;

		if (i < nw) {
			if ((void *)(opt + 1) > data_end)
				return -1;
			*opt = p.ow[i];
			sum += p.ow[i];
		}
	}
	th->check = csum_fold(sum);
	return 0;
}

/* Within gw-adopt seconds of the attach: a segment without state may be
 * a connection's older than the attach. */
static __always_inline int gw_adopting(const struct xdpsyn_config *cfg)
{
	return bpf_ktime_get_coarse_ns() < cfg->gw_adopt_until_ns;
}

/* A client segment with no state and no valid cookie: a forged ACK,
 * unless it may be an older connection's (passed untouched, no state:
 * its server's next segment adopts it, gw_s2c). */
static __always_inline int gw_no_cookie(const struct xdpsyn_config *cfg,
					struct xdpsyn_stats *st)
{
	if (gw_adopting(cfg)) {
		count(st, XDPSYN_CNT_GW_ADOPT_PASS);
		return XDP_PASS;
	}
	count(st, XDPSYN_CNT_ACK_INVALID);
	return XDP_DROP;
}

/* A final ACK (or window probe) with no state: its cookie checked. The
 * outcome goes in pkt (ck_*, and the client's ISN in kc_isn) for
 * gw_conn_make. */
__noinline int gw_ack_new(struct xdp_md *ctx, struct pkt *pkt)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct xdpsyn_stats *st = stats_get();
	struct xdpsyn_config *cfg = gw_config();
	struct cookie_result r = {};
	struct cookie_keys k;
	struct cookie_in c;
	struct tcp_opts o;
	struct tcphdr *th;
	__u32 seq, cookie;
	__u64 now;

	if (!pkt || !cfg)
		return XDP_PASS;
	th = pkt_tcp(pkt, data, data_end);
	if (!th)
		return XDP_DROP;
	if (tcp_opts_read(ctx, pkt, th, data_end, 1, &o))
		return opts_unreadable(ctx, st, th, data_end);
	if (keys_get(cfg, &k)) {
		count(st, XDPSYN_CNT_CONFIG_MISSING);
		return XDP_PASS;
	}
	now = bpf_ktime_get_tai_ns();
	seq = bpf_ntohl(th->seq);
	cookie = bpf_ntohl(th->ack_seq) - 1;
	cookie_in_fill(&c, pkt, th, seq - 1);
	if (!cookie_check(&k, &c, cookie, &o, now, &r)) {
		/* a zero-window probe repeats the last byte acked: seq is
		 * the ISN itself (its final ACK was lost) */
		c.isn = seq;
		if (tcp_has_payload(data, data_end, pkt, th) ||
		    !cookie_check(&k, &c, cookie, &o, now, &r))
			return gw_no_cookie(cfg, st);
	}
	count(st, XDPSYN_CNT_ACK_VALID);
	if (r.prev_key)
		count(st, XDPSYN_CNT_ACK_PREV_KEY);
	pkt->ck_info = r.info;
	pkt->ck_prev_key = r.prev_key;
	pkt->ck_ts = o.ts_ok;
	pkt->ck_rtt_us = r.rtt_us;
	pkt->kc_isn = c.isn;
	return GW_CONN_MAKE;
}

/* The state of a handshake gw_ack_new validated, armed to expire when
 * the server never answers; then the client's SYN goes to it. */
__noinline int gw_conn_make(struct xdp_md *ctx, struct pkt *pkt)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct xdpsyn_stats *st = stats_get();
	struct xdpsyn_config *cfg = gw_config();
	struct xdpsyn_gw_conn nv = {}, *v;
	struct xdpsyn_gw_server *srv;
	struct xdpsyn_gw_key key = {};
	struct tcp_opts o;
	struct tcphdr *th;
	__u8 ws, info;
	long err;

	if (!pkt || !cfg)
		return XDP_PASS;
	th = pkt_tcp(pkt, data, data_end);
	if (!th)
		return XDP_DROP;
	if (tcp_opts_read(ctx, pkt, th, data_end, 1, &o))
		return XDP_DROP;
	info = pkt->ck_info;
	gw_key_fill(&key, pkt, th, 1);
	ws = info & XDPSYN_INFO_WS_MASK;
	nv.created_ns = bpf_ktime_get_ns();
	nv.last_ns = bpf_ktime_get_coarse_ns();
	nv.c_isn = pkt->kc_isn;
	nv.cookie = bpf_ntohl(th->ack_seq) - 1;
	nv.c_rtt_us = pkt->ck_rtt_us;
	nv.c_win = bpf_ntohs(th->window);
	nv.c_mss = mss_value(pkt->family, info >> XDPSYN_INFO_MSS_SHIFT,
			     cfg->mss[XDPSYN_V4]);
	nv.c_ws = ws;
	nv.s_ws = XDPSYN_WSCALE_NONE;
	nv.vlan = pkt->vlan;
	nv.state = XDPSYN_GW_SYN_SENT;
	if (o.ts_ok) {
		nv.flags |= XDPSYN_GW_C_TS;
		nv.our_tsval = o.tsecr;
		nv.c_tsval = o.tsval;
	}
	if (info & XDPSYN_INFO_SACK)
		nv.flags |= XDPSYN_GW_C_SACK;
	if (info & XDPSYN_INFO_ECN)
		nv.flags |= XDPSYN_GW_C_ECN;
	srv = gw_server_get(&key);
	if (ws != XDPSYN_WSCALE_NONE) {
		nv.flags |= XDPSYN_GW_C_WS;
		/* what gw_syn offered: the server's scale when known */
		nv.g_ws = srv && srv->ws != XDPSYN_WSCALE_NONE ? srv->ws : cfg->wscale;
		if (nv.g_ws > XDPSYN_WSCALE_MAX)
			nv.g_ws = XDPSYN_WSCALE_MAX;
	}
	err = bpf_map_update_elem(&xdpsyn_gw_conns, &key, &nv, BPF_NOEXIST);
	if (err && err != -17 /* EEXIST: a repeated ACK, on another CPU */) {
		count(st, XDPSYN_CNT_GW_TABLE_FULL);
		return XDP_DROP;
	}
	if (err)
		return GW_SYN_SEND;
	v = bpf_map_lookup_elem(&xdpsyn_gw_conns, &key);
	if (!v)
		return XDP_DROP;
	bpf_timer_init(&v->timer, &xdpsyn_gw_conns, CLOCK_MONOTONIC);
	bpf_timer_set_callback(&v->timer, gw_timer_fire);
	bpf_timer_start(&v->timer, gw_secs(cfg->gw_syn_timeout_s,
					   XDPSYN_GW_SYN_TIMEOUT_DEFAULT), 0);
	count(st, XDPSYN_CNT_GW_CONN_NEW);
	if (srv)
		__sync_fetch_and_add(&srv->conns, 1);
	{
		struct xdpsyn_prefix p;

		/* a completed handshake, for `xdpsyn top` */
		prefix_of(&p, cfg, pkt->family, pkt->saddr);
		top_touch(&p, bpf_ktime_get_tai_ns(), 1);
	}
	return GW_SYN_SEND;
}

/* The client's SYN to the server, made of the segment in the frame
 * (gw_ack_new's final ACK, or gw_c2s's repeat while waiting). */
__noinline int gw_syn_send(struct xdp_md *ctx, struct pkt *pkt)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct xdpsyn_stats *st = stats_get();
	struct xdpsyn_config *cfg = gw_config();
	struct xdpsyn_gw_key key = {};
	struct xdpsyn_gw_conn *v;
	struct tcphdr *th;

	if (!pkt || !cfg)
		return XDP_PASS;
	th = pkt_tcp(pkt, data, data_end);
	if (!th)
		return XDP_DROP;
	gw_key_fill(&key, pkt, th, 1);
	v = bpf_map_lookup_elem(&xdpsyn_gw_conns, &key);
	if (!v || v->state != XDPSYN_GW_SYN_SENT)
		return XDP_DROP;
	if (gw_syn_rebuild(ctx, pkt, v, cfg)) {
		count(st, XDPSYN_CNT_TX_ERROR);
		return XDP_DROP;
	}
	return XDP_PASS;
}

/* A segment from the client with state. Waiting for the server: a
 * repeated final ACK or a window probe sends the SYN again; anything
 * else waits (the window is 0). Else translated and forwarded. */
__noinline int gw_c2s(struct xdp_md *ctx, struct pkt *pkt)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct xdpsyn_stats *st = stats_get();
	struct xdpsyn_config *cfg = gw_config();
	struct xdpsyn_gw_key key = {};
	struct xdpsyn_gw_conn *v;
	struct tcphdr *th;
	__u8 flags;

	if (!pkt || !cfg)
		return XDP_PASS;
	th = pkt_tcp(pkt, data, data_end);
	if (!th)
		return XDP_DROP;
	gw_key_fill(&key, pkt, th, 1);
	v = bpf_map_lookup_elem(&xdpsyn_gw_conns, &key);
	if (!v)
		return GW_NO_STATE;
	flags = tcp_flags(th);
	v->last_ns = bpf_ktime_get_coarse_ns();
	if (v->state == XDPSYN_GW_SYN_SENT) {
		__u32 seq = bpf_ntohl(th->seq);

		if (flags & TCPF_RST) {
			gw_seen_flags(v, flags, 1, cfg, st);
			return XDP_DROP;
		}
		if (!(flags & TCPF_ACK) || bpf_ntohl(th->ack_seq) != v->cookie + 1 ||
		    (seq != v->c_isn + 1 && seq != v->c_isn) ||
		    tcp_has_payload(data, data_end, pkt, th))
			return XDP_DROP;
		count(st, XDPSYN_CNT_GW_SYN_RETRANS);
		return GW_SYN_SEND;
	}
	if (v->state == XDPSYN_GW_CLOSED && v->flags & XDPSYN_GW_RST &&
	    !(flags & TCPF_RST))
		v->state = XDPSYN_GW_ESTABLISHED; /* the RST missed (blind) */
	gw_seen_flags(v, flags, 1, cfg, st);
	v->c2s_pkts++;
	count(st, XDPSYN_CNT_GW_C2S);
	if (cfg->gw_flags & XDPSYN_GWCFG_VETH)
		pkt->csum_partial = gw_csum_partial(data, data_end, pkt, th);
	if (!(v->flags & XDPSYN_GW_ADOPTED))
		gw_translate(ctx, pkt, th, data_end, v, 1);
	return gw_forward(ctx, pkt, cfg, cfg->gw_ifindex, st);
}

/* A client segment (not a SYN) with no state: a final ACK, or a
 * connection older than the attach while the adopt window is open. */
__noinline int gw_c2s_new(struct xdp_md *ctx, struct pkt *pkt)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct xdpsyn_stats *st = stats_get();
	struct xdpsyn_config *cfg = gw_config();
	struct tcphdr *th;
	__u8 flags;

	if (!pkt || !cfg)
		return XDP_PASS;
	th = pkt_tcp(pkt, data, data_end);
	if (!th)
		return XDP_DROP;
	flags = tcp_flags(th);
	if ((flags & (TCPF_ACK | TCPF_SYN | TCPF_RST)) == TCPF_ACK)
		return GW_ACK_NEW;
	if (gw_adopting(cfg)) {
		count(st, XDPSYN_CNT_GW_ADOPT_PASS);
		return XDP_PASS;
	}
	count(st, XDPSYN_CNT_GW_C2S_NO_STATE);
	return XDP_DROP;
}

/* IFACE_C: every frame from the clients' side. */
static __always_inline int gw_client_run(struct xdp_md *ctx)
{
	struct xdpsyn_stats *st = stats_get();
	struct pkt pkt = {};
	struct tcphdr *th;
	__u8 flags;
	int ret;

	ret = tcp_to_protected(ctx, st, &pkt, &th, &flags);
	if (ret >= 0)
		return ret;
	if (flags & TCPF_SYN && !(flags & TCPF_ACK))
		return gw_syn(ctx, &pkt);
	ret = gw_c2s(ctx, &pkt);
	if (ret == GW_NO_STATE)
		ret = gw_c2s_new(ctx, &pkt);
	if (ret == GW_ACK_NEW)
		ret = gw_ack_new(ctx, &pkt);
	if (ret == GW_CONN_MAKE)
		ret = gw_conn_make(ctx, &pkt);
	if (ret == GW_SYN_SEND)
		ret = gw_syn_send(ctx, &pkt);
	return ret;
}

/* A connection older than the attach, its server's segment seen within
 * the adopt window (a server does not send data, or anything but RST,
 * for a connection that does not exist): state with nothing to
 * translate, expiring as any other. */
static __always_inline void gw_adopt(const struct xdpsyn_gw_key *key,
				     const struct pkt *pkt,
				     const struct xdpsyn_config *cfg,
				     struct xdpsyn_stats *st)
{
	struct xdpsyn_gw_conn nv = {}, *v;

	nv.created_ns = bpf_ktime_get_ns();
	nv.last_ns = bpf_ktime_get_coarse_ns();
	nv.state = XDPSYN_GW_ESTABLISHED;
	nv.flags = XDPSYN_GW_ADOPTED;
	nv.c_ws = nv.s_ws = XDPSYN_WSCALE_NONE;
	nv.vlan = pkt->vlan;
	nv.s2c_pkts = 1;
	if (bpf_map_update_elem(&xdpsyn_gw_conns, key, &nv, BPF_NOEXIST))
		return;
	v = bpf_map_lookup_elem(&xdpsyn_gw_conns, key);
	if (!v)
		return;
	bpf_timer_init(&v->timer, &xdpsyn_gw_conns, CLOCK_MONOTONIC);
	bpf_timer_set_callback(&v->timer, gw_timer_fire);
	bpf_timer_start(&v->timer, gw_secs(cfg->gw_idle_s, XDPSYN_GW_IDLE_DEFAULT), 0);
	count(st, XDPSYN_CNT_GW_ADOPTED);
}

/* IFACE_S: a segment from a protected server port with state,
 * translated; its SYN-ACK goes to TC (two packets come of it); an RST
 * to our SYN (no listener) becomes the client's reset. */
__noinline int gw_s2c(struct xdp_md *ctx, struct pkt *pkt)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct xdpsyn_stats *st = stats_get();
	struct xdpsyn_config *cfg = gw_config();
	struct xdpsyn_gw_key key = {};
	struct xdpsyn_gw_conn *v;
	union tcp_word_hdr *tw;
	struct tcphdr *th;
	__u8 flags;

	if (!pkt || !cfg)
		return XDP_PASS;
	th = pkt_tcp(pkt, data, data_end);
	if (!th)
		return XDP_DROP;
	tw = (union tcp_word_hdr *)th;
	gw_key_fill(&key, pkt, th, 0);
	v = bpf_map_lookup_elem(&xdpsyn_gw_conns, &key);
	flags = tcp_flags(th);
	if (!v) {
		if (!(flags & (TCPF_RST | TCPF_SYN)) && gw_adopting(cfg))
			gw_adopt(&key, pkt, cfg, st);
		else
			count(st, XDPSYN_CNT_GW_S2C_NO_STATE);
		return XDP_PASS;
	}
	if ((flags & (TCPF_SYN | TCPF_ACK)) == (TCPF_SYN | TCPF_ACK))
		return XDP_PASS; /* TC's */
	v->last_ns = bpf_ktime_get_coarse_ns();
	if (v->state == XDPSYN_GW_SYN_SENT) {
		struct xdpsyn_gw_server *srv;
		__be32 old3 = tw->words[3], oseq = th->seq, oack = th->ack_seq;
		__u64 sum;

		if (!(flags & TCPF_RST) || !(flags & TCPF_ACK) ||
		    bpf_ntohl(th->ack_seq) != v->c_isn + 1)
			return XDP_DROP;
		/* refused: the client, established with us, is reset
		 * (RST without ACK at its next expected sequence number) */
		sum = (__u16)~th->check;
		th->seq = bpf_htonl(v->cookie + 1);
		th->ack_seq = 0;
		tw->words[3] = bpf_htonl((bpf_ntohl(old3) & 0xf0000000) | (TCPF_RST << 16));
		csum_acc32(&sum, oseq, th->seq);
		csum_acc32(&sum, oack, th->ack_seq);
		csum_acc32(&sum, old3, tw->words[3]);
		th->check = csum_fold(sum);
		count(st, XDPSYN_CNT_GW_SERVER_REFUSED);
		srv = gw_server_get(&key);
		if (srv)
			__sync_fetch_and_add(&srv->refused, 1);
		gw_seen_flags(v, TCPF_RST, 0, cfg, st);
		return XDP_PASS;
	}
	if (v->state == XDPSYN_GW_CLOSED && v->flags & XDPSYN_GW_RST &&
	    !(flags & TCPF_RST))
		v->state = XDPSYN_GW_ESTABLISHED;
	gw_seen_flags(v, flags, 0, cfg, st);
	v->s2c_pkts++;
	count(st, XDPSYN_CNT_GW_S2C);
	if (cfg->gw_flags & XDPSYN_GWCFG_VETH)
		pkt->csum_partial = gw_csum_partial(data, data_end, pkt, th);
	if (!(v->flags & XDPSYN_GW_ADOPTED))
		gw_translate(ctx, pkt, th, data_end, v, 0);
	return gw_forward(ctx, pkt, cfg, cfg->gw_ifindex_c, st);
}

static __always_inline int gw_server_run(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct xdpsyn_stats *st = stats_get();
	struct pkt pkt = {};
	struct tcphdr *th;

	count(st, XDPSYN_CNT_RX);
	if (parse_pkt(ctx, data, data_end, &pkt) != PARSE_TCP)
		return XDP_PASS;
	th = data + pkt.l4_off;
	if ((void *)(th + 1) > data_end)
		return XDP_DROP;
	if (!port_protected(pkt.family, th->source)) {
		count(st, XDPSYN_CNT_UNPROTECTED);
		return XDP_PASS;
	}
	return gw_s2c(ctx, &pkt);
}

SEC("xdp.frags")
int xdpsyn_gw_xdp(struct xdp_md *ctx)
{
	return gw_client_run(ctx);
}

SEC("xdp")
int xdpsyn_gw_xdp_skb(struct xdp_md *ctx)
{
	return gw_client_run(ctx);
}

SEC("xdp.frags")
int xdpsyn_gw_srv_xdp(struct xdp_md *ctx)
{
	return gw_server_run(ctx);
}

SEC("xdp")
int xdpsyn_gw_srv_xdp_skb(struct xdp_md *ctx)
{
	return gw_server_run(ctx);
}

/* ---- TC ingress on IFACE_S: the server's SYN-ACK ---- */

#define GW_TCP_MAX 60

/* The SYN-ACK's headers as TC found them (linear after a pull). */
struct gw_tc_pkt {
	__u32 l3_off, l4_off, tcplen;
	__u8 family;
	__u8 flags;
	__u16 win;
	__u32 seq, ack;
	struct tcp_opts o;
	struct xdpsyn_gw_key key;
	__u8 eth[2 * ETH_ALEN];
	__u8 ip[sizeof(struct ipv6hdr)];
};

static __always_inline int gw_tc_parse(struct __sk_buff *skb, struct gw_tc_pkt *p)
{
	void *data, *data_end;
	struct ethhdr *eth;
	struct opt_walk w;
	struct tcphdr *th;
	__u32 off = sizeof(struct ethhdr);
	__u64 optlen;
	__u16 proto;

	if (skb->len > 256) /* a SYN-ACK carries no data */
		return -1;
	if (bpf_skb_pull_data(skb, skb->len))
		return -1;
	data = (void *)(long)skb->data;
	data_end = (void *)(long)skb->data_end;
	eth = data;
	if ((void *)(eth + 1) > data_end)
		return -1;
	proto = bpf_ntohs(eth->h_proto);
	if (proto == ETH_P_8021Q || proto == ETH_P_8021AD) {
		struct vlan_hdr *vh = data + off;

		if ((void *)(vh + 1) > data_end)
			return -1;
		proto = bpf_ntohs(vh->h_vlan_encapsulated_proto);
		off += sizeof(*vh);
	}
	p->l3_off = off;
	if (proto == ETH_P_IP) {
		struct iphdr *iph = data + off;

		if ((void *)(iph + 1) > data_end || iph->ihl != 5 ||
		    iph->protocol != IPPROTO_TCP)
			return -1;
		p->family = XDPSYN_V4;
		off += sizeof(*iph);
	} else if (proto == ETH_P_IPV6) {
		struct ipv6hdr *ip6 = data + off;

		if ((void *)(ip6 + 1) > data_end || ip6->nexthdr != IPPROTO_TCP)
			return -1;
		p->family = XDPSYN_V6;
		off += sizeof(*ip6);
	} else {
		return -1;
	}
	p->l4_off = off;
	if (off > MAX_L3_OFF + sizeof(struct ipv6hdr))
		return -1;
	th = data + off;
	if ((void *)(th + 1) > data_end)
		return -1;
	p->flags = tcp_flags(th);
	if ((p->flags & (TCPF_SYN | TCPF_ACK | TCPF_RST | TCPF_FIN)) != (TCPF_SYN | TCPF_ACK))
		return -1;
	if (!port_protected(p->family, th->source))
		return -1;
	p->tcplen = th->doff * 4;
	if (p->tcplen < sizeof(*th) || p->tcplen > GW_TCP_MAX)
		return -1;
	p->seq = bpf_ntohl(th->seq);
	p->ack = bpf_ntohl(th->ack_seq);
	p->win = bpf_ntohs(th->window);
	p->key.family = p->family;
	p->key.cport = th->dest;
	p->key.sport = th->source;
	if (bpf_skb_load_bytes(skb, 0, p->eth, sizeof(p->eth)))
		return -1;
	if (p->family == XDPSYN_V4) {
		struct iphdr ih;

		if (bpf_skb_load_bytes(skb, p->l3_off, &ih, sizeof(ih)))
			return -1;
		p->key.caddr[0] = ih.daddr;
		p->key.saddr[0] = ih.saddr;
		__builtin_memcpy(p->ip, &ih, sizeof(ih));
	} else {
		struct ipv6hdr ih;

		if (bpf_skb_load_bytes(skb, p->l3_off, &ih, sizeof(ih)))
			return -1;
		__builtin_memcpy(p->key.caddr, &ih.daddr, 16);
		__builtin_memcpy(p->key.saddr, &ih.saddr, 16);
		__builtin_memcpy(p->ip, &ih, sizeof(ih));
	}
	p->o.mss = 0;
	p->o.wscale = XDPSYN_WSCALE_NONE;
	p->o.sack_ok = 0;
	p->o.ts_ok = 0;
	p->o.tsval = 0;
	p->o.tsecr = 0;
	optlen = p->tcplen & 0x3c; /* 64 bits: the checks bound the load */
	optlen -= sizeof(*th);
	if (optlen >= 4 && optlen <= TCP_MAX_OPTLEN) {
		if (bpf_skb_load_bytes(skb, p->l4_off + sizeof(*th), w.buf, optlen))
			return -1;
		w.off = 0;
		w.len = optlen;
		w.o = &p->o;
		w.err = 0;
		bpf_loop(TCP_MAX_OPTLEN, opt_step, &w, 0);
	}
	return 0;
}

/* Write the TCP header HDR (LEN bytes, checksum field as it is in the
 * packet) over OLD, and the checksum by the difference: right for a
 * checksum the stack still has to finish (CHECKSUM_PARTIAL, where the
 * helper leaves it) and for a complete one alike. The addresses only
 * swap, so the pseudo-header's sum does not change. */
static __always_inline int gw_tc_tcp_write(struct __sk_buff *skb, __u32 l4_off,
					   __u8 *old, __u8 *hdr, __u64 len)
{
	__s64 diff;

	if (len < sizeof(struct tcphdr) || len > GW_TCP_MAX || len & 3)
		return -1;
	diff = bpf_csum_diff((__be32 *)old, len, (__be32 *)hdr, len, 0);
	if (diff < 0 && diff > -4096)
		return -1;
	if (bpf_skb_store_bytes(skb, l4_off, hdr, len, 0))
		return -1;
	return bpf_l4_csum_replace(skb, l4_off + 16, 0, (__u32)diff, 0) ? -1 : 0;
}

/* The IP header: the SYN-ACK's own (FWD) or with the addresses swapped
 * and a fresh TTL (toward the server). */
static __always_inline int gw_tc_ip_write(struct __sk_buff *skb,
					  const struct gw_tc_pkt *p, int fwd)
{
	if (p->family == XDPSYN_V4) {
		struct iphdr ih;
		__u64 isum = 0;

		__builtin_memcpy(&ih, p->ip, sizeof(ih));
		if (!fwd) {
			ih.saddr = p->key.caddr[0];
			ih.daddr = p->key.saddr[0];
			ih.ttl = 64;
			ih.tos = 0;
			ih.id = 0;
		}
		ih.check = 0;
#pragma unroll
		for (int i = 0; i < 5; i++)
			isum += ((__be32 *)&ih)[i];
		ih.check = csum_fold(isum);
		return bpf_skb_store_bytes(skb, p->l3_off, &ih, sizeof(ih), 0) ? -1 : 0;
	} else {
		struct ipv6hdr ih;

		__builtin_memcpy(&ih, p->ip, sizeof(ih));
		if (!fwd) {
			__builtin_memcpy(&ih.saddr, p->key.caddr, 16);
			__builtin_memcpy(&ih.daddr, p->key.saddr, 16);
			ih.hop_limit = 64;
		}
		return bpf_skb_store_bytes(skb, p->l3_off, &ih, sizeof(ih), 0) ? -1 : 0;
	}
}

/* A pure ACK's TCP header in HDR, as long as the SYN-ACK's (its option
 * space: the timestamp, NOPs for the rest). Ports SRC -> DST. */
static __always_inline void gw_tc_ack(__u8 *hdr, const __u8 *synack, __u32 len,
				      int to_server, __u32 seq, __u32 ack,
				      __u16 win, int ts, __u32 tsval, __u32 tsecr)
{
	union tcp_word_hdr *tw = (union tcp_word_hdr *)hdr;
	const struct tcphdr *sa = (const struct tcphdr *)synack;
	__u8 *opt = hdr + sizeof(struct tcphdr);

	tw->hdr.source = to_server ? sa->dest : sa->source;
	tw->hdr.dest = to_server ? sa->source : sa->dest;
	tw->hdr.seq = bpf_htonl(seq);
	tw->hdr.ack_seq = bpf_htonl(ack);
	tw->words[3] = bpf_htonl(((len / 4) << 28) | (TCPF_ACK << 16) | win);
	tw->hdr.check = sa->check;
	tw->hdr.urg_ptr = 0;
#pragma unroll
	for (int i = 0; i < GW_TCP_MAX - sizeof(struct tcphdr); i++)
		opt[i] = TCPOPT_NOP;
	if (ts && len >= sizeof(struct tcphdr) + 12) {
		opt[2] = TCPOPT_TIMESTAMP;
		opt[3] = TCPOLEN_TIMESTAMP;
		*(__be32 *)(opt + 4) = bpf_htonl(tsval);
		*(__be32 *)(opt + 8) = bpf_htonl(tsecr);
	}
}

/* Learn what the server's SYN-ACK says, for what our SYN offered. */
static __always_inline void gw_tc_learn(const struct gw_tc_pkt *p,
					const struct xdpsyn_gw_conn *v)
{
	struct xdpsyn_gw_server_key sk;
	struct xdpsyn_gw_server *srv, ns = {};

	gw_server_key(&sk, &p->key);
	srv = bpf_map_lookup_elem(&xdpsyn_gw_servers, &sk);
	if (!srv) {
		ns.ws = XDPSYN_WSCALE_NONE;
		ns.flags = XDPSYN_GW_SRV_TS | XDPSYN_GW_SRV_SACK | XDPSYN_GW_SRV_ECN;
		bpf_map_update_elem(&xdpsyn_gw_servers, &sk, &ns, BPF_NOEXIST);
		srv = bpf_map_lookup_elem(&xdpsyn_gw_servers, &sk);
		if (!srv)
			return;
		srv->conns++; /* the SYN that made this one */
	}
	__sync_fetch_and_add(&srv->established, 1);
	if ((v->flags & XDPSYN_GW_C_TS && !(v->flags & XDPSYN_GW_S_TS)) ||
	    (v->flags & XDPSYN_GW_C_SACK && !(v->flags & XDPSYN_GW_S_SACK)))
		__sync_fetch_and_add(&srv->opt_mismatch, 1);
	if (srv->flags & XDPSYN_GW_SRV_STATIC)
		return;
	srv->learned_ns = bpf_ktime_get_ns();
	srv->mss = p->o.mss;
	if (v->flags & XDPSYN_GW_C_WS)
		srv->ws = p->o.wscale;
	if (v->flags & XDPSYN_GW_C_TS)
		srv->flags = (srv->flags & ~XDPSYN_GW_SRV_TS) | (p->o.ts_ok ? XDPSYN_GW_SRV_TS : 0);
	if (v->flags & XDPSYN_GW_C_SACK)
		srv->flags = (srv->flags & ~XDPSYN_GW_SRV_SACK) | (p->o.sack_ok ? XDPSYN_GW_SRV_SACK : 0);
	if (v->flags & XDPSYN_GW_C_ECN)
		srv->flags = (srv->flags & ~XDPSYN_GW_SRV_ECN) |
			     (v->flags & XDPSYN_GW_S_ECN ? XDPSYN_GW_SRV_ECN : 0);
	srv->flags |= XDPSYN_GW_SRV_LEARNED;
}

/* The connection is spliced: an event for `xdpsyn flows --follow`, the
 * client's half and the server's half of the handshake. */
static __always_inline void gw_tc_event(const struct gw_tc_pkt *p,
					const struct xdpsyn_gw_conn *v,
					const struct xdpsyn_config *cfg)
{
	struct xdpsyn_flow_event *ev;

	ev = bpf_ringbuf_reserve(&xdpsyn_events, sizeof(*ev), 0);
	if (!ev)
		return;
	__builtin_memset(ev, 0, sizeof(*ev));
	ev->key.ifindex = cfg->gw_ifindex_c;
	ev->key.family = p->family;
	__builtin_memcpy(ev->key.saddr, p->key.caddr, sizeof(ev->key.saddr));
	__builtin_memcpy(ev->key.daddr, p->key.saddr, sizeof(ev->key.daddr));
	ev->key.sport = p->key.cport;
	ev->key.dport = p->key.sport;
	ev->flow.time_ns = bpf_ktime_get_tai_ns();
	ev->flow.state = XDPSYN_HS_COOKIE;
	ev->flow.rtt_us = v->c_rtt_us;
	ev->flow.cli_ns = v->c_rtt_us * 1000;
	ev->flow.srv_ns = v->s_rtt_us * 1000;
	ev->flow.mss = v->c_mss;
	ev->flow.srv_mss = v->s_mss;
	ev->flow.snd_wscale = v->flags & XDPSYN_GW_C_WS ? v->c_ws : XDPSYN_WSCALE_NONE;
	ev->flow.rcv_wscale = v->flags & XDPSYN_GW_C_WS ? v->g_ws : XDPSYN_WSCALE_NONE;
	ev->flow.flags = (v->flags & XDPSYN_GW_C_SACK ? XDPSYN_FLOW_SACK : 0) |
			 (v->flags & XDPSYN_GW_C_TS ? XDPSYN_FLOW_TS : 0) |
			 (v->flags & XDPSYN_GW_C_ECN ? XDPSYN_FLOW_ECN : 0) |
			 (v->flags & XDPSYN_GW_C_WS ? XDPSYN_FLOW_WS : 0);
	ev->flow.srv_flags = (v->flags & XDPSYN_GW_S_SACK ? XDPSYN_FLOW_SACK : 0) |
			     (v->flags & XDPSYN_GW_S_TS ? XDPSYN_FLOW_TS : 0) |
			     (v->flags & XDPSYN_GW_S_ECN ? XDPSYN_FLOW_ECN : 0) |
			     (v->flags & XDPSYN_GW_S_WS ? XDPSYN_FLOW_WS : 0);
	ev->flow.isn = v->c_isn;
	ev->flow.vlan = v->vlan;
	bpf_ringbuf_submit(ev, 0);
}

/* The server's SYN-ACK to our SYN (or again, when our ACK was lost):
 * the ACK that completes its handshake goes back to it (a clone), then
 * the same packet becomes the client's window update and is forwarded. */
SEC("tc")
int xdpsyn_gw_tc(struct __sk_buff *skb)
{
	struct xdpsyn_stats *st = stats_get();
	struct xdpsyn_config *cfg = gw_config();
	struct xdpsyn_gw_conn *v;
	struct gw_tc_pkt p = {};
	__u8 orig[GW_TCP_MAX], hdr[GW_TCP_MAX];
	__u64 tlen;
	__u32 cwin;
	__u16 win;
	int first;

	if (!cfg || gw_tc_parse(skb, &p))
		return TC_ACT_UNSPEC;
	v = bpf_map_lookup_elem(&xdpsyn_gw_conns, &p.key);
	if (!v)
		return TC_ACT_UNSPEC;
	if (p.ack != v->c_isn + 1)
		return TC_ACT_SHOT;
	first = v->state == XDPSYN_GW_SYN_SENT;
	if (!first && p.seq != v->s_isn)
		return TC_ACT_SHOT;
	tlen = p.tcplen & 0x3c;
	if (tlen < sizeof(struct tcphdr) ||
	    bpf_skb_load_bytes(skb, p.l4_off, orig, tlen))
		return TC_ACT_SHOT;
	if (first) {
		v->s_isn = p.seq;
		v->seq_delta = p.seq - v->cookie;
		v->s_mss = p.o.mss;
		v->s_ws = p.o.wscale;
		if (p.o.ts_ok)
			v->flags |= XDPSYN_GW_S_TS;
		if (p.o.sack_ok)
			v->flags |= XDPSYN_GW_S_SACK;
		if (p.o.wscale != XDPSYN_WSCALE_NONE)
			v->flags |= XDPSYN_GW_S_WS;
		if (p.flags & TCPF_ECE)
			v->flags |= XDPSYN_GW_S_ECN;
		if ((v->flags & (XDPSYN_GW_C_TS | XDPSYN_GW_S_TS)) ==
		    (XDPSYN_GW_C_TS | XDPSYN_GW_S_TS))
			v->ts_delta = p.o.tsval - v->our_tsval;
		v->s_rtt_us = (bpf_ktime_get_ns() - v->created_ns) / 1000;
		v->state = XDPSYN_GW_ESTABLISHED;
		if (gw_s_shift(v) != gw_g_shift(v) ||
		    (v->flags & XDPSYN_GW_C_WS && !(v->flags & XDPSYN_GW_S_WS)))
			count(st, XDPSYN_CNT_GW_WS_TRANSLATED);
		if (v->flags & XDPSYN_GW_C_TS && !(v->flags & XDPSYN_GW_S_TS))
			count(st, XDPSYN_CNT_GW_OPT_TS_LOST);
		if (v->flags & XDPSYN_GW_C_SACK && !(v->flags & XDPSYN_GW_S_SACK))
			count(st, XDPSYN_CNT_GW_OPT_SACK_LOST);
		gw_tc_learn(&p, v);
		gw_tc_event(&p, v, cfg);
		count(st, XDPSYN_CNT_GW_SERVER_SYNACK);
	} else {
		count(st, XDPSYN_CNT_GW_SERVER_SYNACK_DUP);
	}
	v->last_ns = bpf_ktime_get_coarse_ns();

	/* 1. the ACK to the server: the client's window as the server
	 * scales it, the client's last TSval echoing the server's */
	cwin = v->c_win;
	if (v->flags & XDPSYN_GW_C_WS && !(v->flags & XDPSYN_GW_S_WS))
		cwin = gw_rescale(v->c_win, v->c_ws, 0);
	gw_tc_ack(hdr, orig, p.tcplen, 1, v->c_isn + 1, p.seq + 1, cwin,
		  v->flags & XDPSYN_GW_S_TS && v->flags & XDPSYN_GW_C_TS,
		  v->c_tsval, p.o.tsval);
	{
		__u8 macs[2 * ETH_ALEN];

		__builtin_memcpy(macs, p.eth + ETH_ALEN, ETH_ALEN);
		__builtin_memcpy(macs + ETH_ALEN, p.eth, ETH_ALEN);
		if (bpf_skb_store_bytes(skb, 0, macs, sizeof(macs), 0) ||
		    gw_tc_ip_write(skb, &p, 0) ||
		    gw_tc_tcp_write(skb, p.l4_off, orig, hdr, tlen) ||
		    bpf_clone_redirect(skb, cfg->gw_ifindex, 0))
			return TC_ACT_SHOT;
	}

	/* 2. the window update to the client: our sequence numbers, the
	 * server's window as the client scales it, our TSval */
	win = gw_rescale(p.win, 0, gw_g_shift(v));
	gw_tc_ack(hdr, orig, p.tcplen, 0, v->cookie + 1, v->c_isn + 1, win,
		  v->flags & XDPSYN_GW_C_TS,
		  v->flags & XDPSYN_GW_S_TS ? p.o.tsval - v->ts_delta : v->our_tsval,
		  v->c_tsval);
	/* both headers carry the SYN-ACK's checksum field, which the first
	 * write put back: each moves it by its difference to the SYN-ACK */
	if (bpf_skb_store_bytes(skb, 0, p.eth, sizeof(p.eth), 0) ||
	    gw_tc_ip_write(skb, &p, 1) ||
	    gw_tc_tcp_write(skb, p.l4_off, orig, hdr, tlen))
		return TC_ACT_SHOT;
	return TC_ACT_OK;
}
