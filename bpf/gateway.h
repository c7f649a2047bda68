/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Gateway mode's pieces shared by its XDP and TC programs
 * (bpf/xdpsyn_gw.bpf.c; include/xdpsyn.h "Gateway mode" has the design):
 * the state key, the servers' learned options, checksum updates, the
 * translation of an established segment, forwarding, and the idle timer. */
#ifndef XDPSYN_BPF_GATEWAY_H
#define XDPSYN_BPF_GATEWAY_H

#include "defs.h"
#include "parse.h"
#include "csum.h"
#include "maps.h"
#include "gateway_maps.h"

#define AF_INET 2
#define AF_INET6 10
#define NS_PER_S 1000000000ULL

static __always_inline struct xdpsyn_config *gw_config(void)
{
	__u32 zero = 0;
	struct xdpsyn_config *cfg = bpf_map_lookup_elem(&xdpsyn_config, &zero);

	return cfg && cfg->gw_flags & XDPSYN_GWCFG_ON ? cfg : NULL;
}

/* The state key of a segment from the client (C2S) or from the server. */
static __always_inline void gw_key_fill(struct xdpsyn_gw_key *k,
					const struct pkt *pkt,
					const struct tcphdr *th, int c2s)
{
	k->family = pkt->family;
	if (c2s) {
		__builtin_memcpy(k->caddr, pkt->saddr, sizeof(k->caddr));
		__builtin_memcpy(k->saddr, pkt->daddr, sizeof(k->saddr));
		k->cport = th->source;
		k->sport = th->dest;
	} else {
		__builtin_memcpy(k->caddr, pkt->daddr, sizeof(k->caddr));
		__builtin_memcpy(k->saddr, pkt->saddr, sizeof(k->saddr));
		k->cport = th->dest;
		k->sport = th->source;
	}
}

static __always_inline void gw_server_key(struct xdpsyn_gw_server_key *sk,
					  const struct xdpsyn_gw_key *k)
{
	sk->family = k->family;
	sk->pad = 0;
	sk->port = k->sport;
	__builtin_memcpy(sk->addr, k->saddr, sizeof(sk->addr));
}

static __always_inline struct xdpsyn_gw_server *
gw_server_get(const struct xdpsyn_gw_key *k)
{
	struct xdpsyn_gw_server_key sk;

	gw_server_key(&sk, k);
	return bpf_map_lookup_elem(&xdpsyn_gw_servers, &sk);
}

/* RFC 1624: the checksum after a 32-bit (or 16-bit) field changed,
 * accumulated in SUM (started from ~check) and folded once. */
static __always_inline void csum_acc32(__u64 *sum, __be32 from, __be32 to)
{
	*sum += (__u32)~from;
	*sum += to;
}

static __always_inline void csum_acc16(__u64 *sum, __be16 from, __be16 to)
{
	*sum += (__u16)~from;
	*sum += to;
}

/* Positions (from the TCP header) of the timestamp option's TSval and of
 * the SACK blocks, found by gw_opts_find. 0: none. */
struct gw_opt_pos {
	__u32 ts;
	__u32 sack;
	__u32 sack_n;
};

struct gw_opt_walk {
	__u8 buf[OPT_BUF];
	__u32 off;
	__u32 len;
	struct gw_opt_pos *pos;
};

/* A walk of its own, not parse.h's opt_step recording positions too: a
 * position is used to address the packet, so the verifier tracks it
 * precisely, and stored by every step of parse.h's walk (which every
 * path runs) it kept that walk's states from converging (over 1M
 * instructions). Here only the segments translated pay for it. */
static long gw_opt_step(__u32 idx, void *arg)
{
	struct gw_opt_walk *w = arg;
	__u32 off = w->off, optlen = w->len;
	__u8 kind, len;

	if (off >= optlen || off >= TCP_MAX_OPTLEN || optlen > TCP_MAX_OPTLEN)
		return 1;
	kind = w->buf[off & (OPT_BUF - 1)];
	if (kind == TCPOPT_EOL)
		return 1;
	if (kind == TCPOPT_NOP) {
		w->off = off + 1;
		return 0;
	}
	if (off + 2 > optlen)
		return 1;
	len = w->buf[(off + 1) & (OPT_BUF - 1)];
	if (len < 2 || off + len > optlen)
		return 1;
	if (kind == TCPOPT_TIMESTAMP && len == TCPOLEN_TIMESTAMP)
		w->pos->ts = sizeof(struct tcphdr) + off + 2;
	else if (kind == 5 /* SACK */ && len >= 10 && (len - 2) % 8 == 0) {
		w->pos->sack = sizeof(struct tcphdr) + off + 2;
		w->pos->sack_n = (len - 2) / 8;
	}
	w->off = off + len;
	return 0;
}

/* Where TSval and the SACK blocks are in the XDP frame's TCP header: the
 * layout Linux sends on data segments (NOP, NOP, TS) read in place, any
 * other walked on a copy. A malformed option list ends the walk (what
 * was found before it is translated; the receiver drops the rest). */
static __always_inline void gw_opts_find(struct xdp_md *ctx,
					 const struct pkt *pkt,
					 struct tcphdr *th, void *data_end,
					 struct gw_opt_pos *pos)
{
	__u32 optlen = th->doff * 4 - sizeof(*th);
	__u8 *p = (__u8 *)(th + 1);
	struct gw_opt_walk w;

	pos->ts = 0;
	pos->sack = 0;
	pos->sack_n = 0;
	if (optlen == 12 && (void *)(p + 12) <= data_end &&
	    p[0] == TCPOPT_NOP && p[1] == TCPOPT_NOP &&
	    p[2] == TCPOPT_TIMESTAMP && p[3] == TCPOLEN_TIMESTAMP) {
		pos->ts = sizeof(*th) + 4;
		return;
	}
	if (optlen < 4 || optlen > TCP_MAX_OPTLEN)
		return;
	if (bpf_xdp_load_bytes(ctx, pkt->l4_off + sizeof(*th), w.buf, optlen))
		return;
	w.off = 0;
	w.len = optlen;
	w.pos = pos;
	bpf_loop(TCP_MAX_OPTLEN, gw_opt_step, &w, 0);
}

/* A 32-bit field at OFF bytes into the TCP header, bounds-checked here. */
static __always_inline __be32 *gw_field(struct tcphdr *th, __u32 off,
					void *data_end)
{
	__be32 *f;

	off &= 63;
	f = (void *)th + off;
	if ((void *)(f + 1) > data_end)
		return NULL;
	return f;
}

static __always_inline void gw_add32(__u64 *sum, __be32 *f, __u32 delta)
{
	__be32 old = *f, new = bpf_htonl(bpf_ntohl(old) + delta);

	*f = new;
	csum_acc32(sum, old, new);
}

/* The window field WIN (scaled by FROM) as a receiver scaling by TO reads
 * it: rounded down, but never to 0 from a window that is not 0. */
static __always_inline __u16 gw_rescale(__u16 win, __u8 from, __u8 to)
{
	__u32 real = (__u32)win << (from & 15), w = real >> (to & 15);

	if (!w && real)
		w = 1;
	return w > 65535 ? 65535 : w;
}

/* The shifts each end applies to the other's window fields. */
static __always_inline __u8 gw_c_shift(const struct xdpsyn_gw_conn *v)
{
	return v->flags & XDPSYN_GW_C_WS ? v->c_ws & 15 : 0;
}

static __always_inline __u8 gw_s_shift(const struct xdpsyn_gw_conn *v)
{
	return v->flags & XDPSYN_GW_S_WS ? v->s_ws & 15 : 0;
}

/* The window scale we told the client (applies to server -> client). */
static __always_inline __u8 gw_g_shift(const struct xdpsyn_gw_conn *v)
{
	return v->flags & XDPSYN_GW_C_WS ? v->g_ws & 15 : 0;
}

/* Translate an established segment in place. Client -> server: the ACK
 * number and SACK blocks move into the server's sequence space, TSecr
 * into its clock, the window to the scale the server applies. Server ->
 * client: the sequence number and TSval the other way, the window to the
 * scale we told the client. Checksum updated incrementally. */
/* The checksum field holds only the pseudo-header's sum: a frame from a
 * local stack on a virtual interface (veth) with the checksum left to
 * offload (CHECKSUM_PARTIAL), which XDP sees before anyone finishes it.
 * Asked only where attach says such frames can come (XDPSYN_GWCFG_VETH):
 * a full checksum equals it once in 65536. */
static __always_inline int gw_csum_partial(void *data, void *data_end,
					   const struct pkt *pkt,
					   const struct tcphdr *th)
{
	void *ip = pkt_ip(pkt, data, data_end);
	__u32 len;

	if (!ip)
		return 0;
	if (pkt->family == XDPSYN_V4)
		len = bpf_ntohs(((struct iphdr *)ip)->tot_len) - (pkt->l4_off - pkt->l3_off);
	else
		len = bpf_ntohs(((struct ipv6hdr *)ip)->payload_len) + sizeof(struct ipv6hdr) -
		      (pkt->l4_off - pkt->l3_off);
	return th->check == (__u16)~csum_fold(csum_pseudo(pkt->family, pkt->saddr,
							   pkt->daddr, len & 0xffff));
}

static __always_inline void gw_translate(struct xdp_md *ctx,
					 const struct pkt *pkt,
					 struct tcphdr *th, void *data_end,
					 const struct xdpsyn_gw_conn *v, int c2s)
{
	union tcp_word_hdr *tw = (union tcp_word_hdr *)th;
	__u64 sum = (__u16)~th->check;
	int ts = (v->flags & (XDPSYN_GW_C_TS | XDPSYN_GW_S_TS)) ==
		 (XDPSYN_GW_C_TS | XDPSYN_GW_S_TS);
	struct gw_opt_pos pos;
	__be32 *f;

	if (c2s) {
		if (tcp_flags(th) & TCPF_ACK)
			gw_add32(&sum, &th->ack_seq, v->seq_delta);
		/* the server applies the client's scale only if it agreed */
		if ((v->flags & XDPSYN_GW_C_WS) && !(v->flags & XDPSYN_GW_S_WS)) {
			__be16 old = th->window;

			th->window = bpf_htons(gw_rescale(bpf_ntohs(old),
							  gw_c_shift(v), 0));
			csum_acc16(&sum, old, th->window);
		}
	} else {
		gw_add32(&sum, &th->seq, -v->seq_delta);
		if (gw_s_shift(v) != gw_g_shift(v)) {
			__be16 old = th->window;

			th->window = bpf_htons(gw_rescale(bpf_ntohs(old),
							  gw_s_shift(v),
							  gw_g_shift(v)));
			csum_acc16(&sum, old, th->window);
		}
	}
	(void)tw;
	if (th->doff > 5 && (ts || c2s)) {
		gw_opts_find(ctx, pkt, th, data_end, &pos);
		if (ts && pos.ts) {
			if (c2s) {
				f = gw_field(th, pos.ts + 4, data_end);
				if (f)
					gw_add32(&sum, f, v->ts_delta);
			} else {
				f = gw_field(th, pos.ts, data_end);
				if (f)
					gw_add32(&sum, f, -v->ts_delta);
			}
		}
		if (c2s && pos.sack) {
			/* the client's SACK blocks name the server's data */
#pragma unroll
			for (int i = 0; i < 8; i++) {
				if (i >= pos.sack_n * 2)
					break;
				f = gw_field(th, pos.sack + i * 4, data_end);
				if (f)
					gw_add32(&sum, f, v->seq_delta);
			}
		}
	}
	if (!pkt->csum_partial)
		th->check = csum_fold(sum);
}

/* Send a translated segment on: the FIB's route, the next hop's MAC and
 * XDP_REDIRECT out EGRESS (the gateway's other side), where the route is
 * that plain; else the kernel's forwarding (XDP_PASS): a neighbour not
 * resolved yet, another egress (a VLAN or bond device), TTL running out,
 * a frame above the MTU, a tagged or multi-buffer frame, or the operator
 * asked for it (gw-forward kernel: firewall rules on the forward path). */
static __always_inline int gw_forward(struct xdp_md *ctx, const struct pkt *pkt,
				      const struct xdpsyn_config *cfg,
				      __u32 egress, struct xdpsyn_stats *st)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct bpf_fib_lookup fib = {};
	struct ethhdr *eth = data;
	long rc;

	if (cfg->gw_forward == XDPSYN_GW_FORWARD_KERNEL || pkt->vlan || pkt->csum_partial ||
	    pkt->l3_off != sizeof(struct ethhdr) ||
	    bpf_xdp_get_buff_len(ctx) > (__u64)(data_end - data))
		goto kernel;
	if ((void *)(eth + 1) > data_end)
		goto kernel;
	fib.ifindex = ctx->ingress_ifindex;
	fib.l4_protocol = IPPROTO_TCP;
	if (pkt->family == XDPSYN_V4) {
		struct iphdr *iph = data + sizeof(struct ethhdr);

		if ((void *)(iph + 1) > data_end || iph->ttl <= 1)
			goto kernel;
		fib.family = AF_INET;
		fib.tos = iph->tos;
		fib.tot_len = bpf_ntohs(iph->tot_len);
		fib.ipv4_src = iph->saddr;
		fib.ipv4_dst = iph->daddr;
		rc = bpf_fib_lookup(ctx, &fib, sizeof(fib), 0);
		if (rc != BPF_FIB_LKUP_RET_SUCCESS || fib.ifindex != egress)
			goto kernel;
		{
			__u32 check = iph->check;

			check += bpf_htons(0x0100);
			iph->check = (__u16)(check + (check >= 0xffff));
			iph->ttl--;
		}
	} else {
		struct ipv6hdr *ip6 = data + sizeof(struct ethhdr);

		if ((void *)(ip6 + 1) > data_end || ip6->hop_limit <= 1)
			goto kernel;
		fib.family = AF_INET6;
		fib.flowinfo = *(__be32 *)ip6 & bpf_htonl(0x0fffffff);
		fib.tot_len = bpf_ntohs(ip6->payload_len) + sizeof(*ip6);
		__builtin_memcpy(fib.ipv6_src, &ip6->saddr, sizeof(fib.ipv6_src));
		__builtin_memcpy(fib.ipv6_dst, &ip6->daddr, sizeof(fib.ipv6_dst));
		rc = bpf_fib_lookup(ctx, &fib, sizeof(fib), 0);
		if (rc != BPF_FIB_LKUP_RET_SUCCESS || fib.ifindex != egress)
			goto kernel;
		ip6->hop_limit--;
	}
	__builtin_memcpy(eth->h_dest, fib.dmac, ETH_ALEN);
	__builtin_memcpy(eth->h_source, fib.smac, ETH_ALEN);
	count(st, XDPSYN_CNT_GW_FORWARD_FIB);
	return bpf_redirect(fib.ifindex, 0);
kernel:
	count(st, XDPSYN_CNT_GW_FORWARD_KERNEL);
	return XDP_PASS;
}

static __always_inline __u64 gw_secs(__u32 s, __u32 def)
{
	return (__u64)(s ? s : def) * NS_PER_S;
}

/* The state's timer: removes it once idle longer than its state allows
 * (no SYN-ACK yet: gw_syn_timeout_s; closed: gw_close_s; else gw_idle_s),
 * else waits for the rest. Armed when the state is made and re-armed
 * when it closes; a segment only stamps last_ns. */
static int gw_timer_fire(void *map, struct xdpsyn_gw_key *key,
			 struct xdpsyn_gw_conn *v)
{
	__u32 zero = 0;
	struct xdpsyn_config *cfg = bpf_map_lookup_elem(&xdpsyn_config, &zero);
	struct xdpsyn_stats *st = stats_get();
	struct xdpsyn_gw_server *srv;
	__u64 now = bpf_ktime_get_ns(), life;

	if (!cfg)
		return 0;
	if (v->state == XDPSYN_GW_SYN_SENT)
		life = gw_secs(cfg->gw_syn_timeout_s, XDPSYN_GW_SYN_TIMEOUT_DEFAULT);
	else if (v->state == XDPSYN_GW_CLOSED)
		life = gw_secs(cfg->gw_close_s, XDPSYN_GW_CLOSE_DEFAULT);
	else
		life = gw_secs(cfg->gw_idle_s, XDPSYN_GW_IDLE_DEFAULT);
	if (now < v->last_ns + life) {
		bpf_timer_start(&v->timer, v->last_ns + life - now, 0);
		return 0;
	}
	if (v->state == XDPSYN_GW_SYN_SENT) {
		count(st, XDPSYN_CNT_GW_SYNACK_TIMEOUT);
		srv = gw_server_get(key);
		if (srv)
			__sync_fetch_and_add(&srv->synack_timeouts, 1);
	} else {
		count(st, XDPSYN_CNT_GW_EXPIRED);
		if (!(v->flags & XDPSYN_GW_ADOPTED) &&
		    !v->c2s_pkts != !v->s2c_pkts)
			count(st, XDPSYN_CNT_GW_ONE_WAY);
	}
	bpf_map_delete_elem(map, key);
	return 0;
}

/* FIN and RST move the state on; closed state goes gw_close_s later. */
static __always_inline void gw_seen_flags(struct xdpsyn_gw_conn *v, __u8 flags,
					  int c2s, const struct xdpsyn_config *cfg,
					  struct xdpsyn_stats *st)
{
	__u16 fin = c2s ? XDPSYN_GW_FIN_C : XDPSYN_GW_FIN_S;

	if (!(flags & (TCPF_FIN | TCPF_RST)) || v->state == XDPSYN_GW_CLOSED)
		return;
	if (flags & TCPF_RST) {
		v->flags |= XDPSYN_GW_RST;
	} else {
		v->flags |= fin;
		if ((v->flags & (XDPSYN_GW_FIN_C | XDPSYN_GW_FIN_S)) !=
		    (XDPSYN_GW_FIN_C | XDPSYN_GW_FIN_S)) {
			v->state = XDPSYN_GW_FIN_WAIT;
			return;
		}
	}
	v->state = XDPSYN_GW_CLOSED;
	count(st, XDPSYN_CNT_GW_CLOSED);
	bpf_timer_start(&v->timer, gw_secs(cfg->gw_close_s, XDPSYN_GW_CLOSE_DEFAULT), 0);
}

#endif
