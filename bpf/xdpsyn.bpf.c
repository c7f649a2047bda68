// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* xdpsyn XDP program: answer SYNs to protected ports with a cookie SYN-ACK
 * (XDP_TX), drop final ACKs whose cookie does not check, pass the rest.
 * See ../README.md ("Packet path") for the verdict table. */
#define XDPSYN_LOAD_BYTES bpf_xdp_load_bytes
#include "defs.h"
#include "parse.h"
#include "cookie.h"
#include "csum.h"
#include "synack.h"
#include "maps.h"
#include "track.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

/* The SYN and ACK paths are global functions: the verifier checks each once
 * with unknown offsets instead of once per header layout of the caller. */
__noinline int xdpsyn_syn(struct xdp_md *ctx, struct pkt *pkt)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct xdpsyn_stats *st = stats_get();
	struct xdpsyn_config *cfg;
	struct tcphdr *th;
	__u32 zero = 0;
	struct synack_in in;
	struct tcp_opts o;
	struct cookie_keys k;
	__u32 doff, cookie;

	cfg = bpf_map_lookup_elem(&xdpsyn_config, &zero);
	if (!pkt)
		return XDP_PASS;
	if (!cfg) {
		count(st, XDPSYN_CNT_CONFIG_MISSING);
		return XDP_PASS;
	}
	if (pkt->l4_off > MAX_L4_OFF)
		return XDP_DROP;
	th = data + pkt->l4_off;
	if ((void *)(th + 1) > data_end)
		return XDP_DROP;
	doff = th->doff * 4;
	if (doff < sizeof(*th) || (void *)th + doff > data_end ||
	    (!parse_tcp_opts_linux(th, doff, data_end, &o) &&
	     parse_tcp_opts(ctx, pkt->l4_off, doff, &o))) {
		count(st, XDPSYN_CNT_MALFORMED);
		return XDP_DROP;
	}
	if (keys_get(cfg, &k)) {
		count(st, XDPSYN_CNT_CONFIG_MISSING);
		return XDP_PASS;
	}
	track_syn(cfg, pkt->family, pkt->saddr);
	in.sport = th->source;
	in.dport = th->dest;
	in.client_isn = bpf_ntohl(th->seq);
	in.flags = tcp_flags(th);
	if (synack_build(ctx, pkt, &in, &o, cfg, k.cur, bpf_ktime_get_tai_ns(),
			 &cookie)) {
		count(st, XDPSYN_CNT_TX_ERROR);
		return XDP_DROP;
	}
	count(st, XDPSYN_CNT_SYNACK_TX);
	return XDP_TX;
}

/* A segment with ACK (no SYN, no RST) to a listener: the handshake's final
 * ACK, or the first data segment when that ACK was lost. */
__noinline int xdpsyn_ack(struct xdp_md *ctx, struct pkt *pkt)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct xdpsyn_stats *st = stats_get();
	struct xdpsyn_config *cfg;
	struct tcphdr *th;
	__u32 zero = 0;
	struct cookie_result r = {};
	struct cookie_keys k;
	struct cookie_in c;
	struct tcp_opts o;
	__u32 doff;
	__u64 now;

	cfg = bpf_map_lookup_elem(&xdpsyn_config, &zero);
	if (!pkt)
		return XDP_PASS;
	if (!cfg) {
		count(st, XDPSYN_CNT_CONFIG_MISSING);
		return XDP_PASS;
	}
	if (pkt->l4_off > MAX_L4_OFF)
		return XDP_DROP;
	th = data + pkt->l4_off;
	if ((void *)(th + 1) > data_end)
		return XDP_DROP;
	doff = th->doff * 4;
	if (doff < sizeof(*th) || (void *)th + doff > data_end ||
	    (!parse_tcp_opts_linux(th, doff, data_end, &o) &&
	     parse_tcp_opts(ctx, pkt->l4_off, doff, &o))) {
		count(st, XDPSYN_CNT_MALFORMED);
		return XDP_DROP;
	}
	if (keys_get(cfg, &k)) {
		count(st, XDPSYN_CNT_CONFIG_MISSING);
		return XDP_PASS;
	}
	cookie_in_fill(&c, pkt, th, bpf_ntohl(th->seq) - 1);
	now = bpf_ktime_get_tai_ns();
	if (!cookie_check(&k, &c, bpf_ntohl(th->ack_seq) - 1, &o, now, &r)) {
		count(st, XDPSYN_CNT_ACK_INVALID);
		return XDP_DROP;
	}
	count(st, XDPSYN_CNT_ACK_VALID);
	if (r.prev_key)
		count(st, XDPSYN_CNT_ACK_PREV_KEY);
	track_complete(ctx, cfg, pkt, th, &r, &o, now);
	return XDP_PASS;
}

SEC("xdp")
int xdpsyn_xdp(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct xdpsyn_stats *st = stats_get();
	struct bpf_sock_tuple tuple = {};
	struct bpf_sock *sk;
	struct pkt pkt = {};
	struct tcphdr *th;
	__u32 tsize;
	__u8 flags;
	int ret;

	count(st, XDPSYN_CNT_RX);
	ret = parse_pkt(ctx, data, data_end, &pkt);
	switch (ret) {
	case PARSE_TCP:
		break;
	case PARSE_NOT_IP:
		count(st, XDPSYN_CNT_NOT_IP);
		return XDP_PASS;
	case PARSE_NOT_TCP:
		count(st, XDPSYN_CNT_NOT_TCP);
		return XDP_PASS;
	case PARSE_FRAGMENT:
		count(st, XDPSYN_CNT_FRAGMENT);
		return XDP_PASS;
	default:
		count(st, XDPSYN_CNT_MALFORMED);
		return XDP_DROP;
	}

	th = data + pkt.l4_off;
	if ((void *)(th + 1) > data_end)
		return XDP_DROP;
	if (!port_protected(pkt.family, th->dest)) {
		count(st, XDPSYN_CNT_UNPROTECTED);
		return XDP_PASS;
	}
	flags = tcp_flags(th);
	if (flags & TCPF_SYN && !(flags & TCPF_ACK)) {
		count(st, XDPSYN_CNT_SYN);
		if (flags & (TCPF_FIN | TCPF_RST)) {
			count(st, XDPSYN_CNT_SYN_BAD_FLAGS);
			return XDP_DROP;
		}
		return xdpsyn_syn(ctx, &pkt);
	}

	tuple_fill(&tuple, &tsize, &pkt, th);
	sk = bpf_skc_lookup_tcp(ctx, &tuple, tsize, BPF_F_CURRENT_NETNS, 0);
	if (!sk) {
		count(st, XDPSYN_CNT_NO_SOCKET);
		return XDP_PASS;
	}
	if (sk->state != BPF_TCP_LISTEN) {
		bpf_sk_release(sk);
		count(st, XDPSYN_CNT_ESTABLISHED);
		return XDP_PASS;
	}
	bpf_sk_release(sk);
	if ((flags & (TCPF_ACK | TCPF_SYN | TCPF_RST)) != TCPF_ACK) {
		count(st, XDPSYN_CNT_LISTENER_OTHER);
		return XDP_PASS;
	}
	return xdpsyn_ack(ctx, &pkt);
}
