/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* What the XDP programs (local and gateway mode) do with a frame that is
 * not plain TCP to look at, or whose headers they cannot read. */
#ifndef XDPSYN_BPF_XDP_VERDICT_H
#define XDPSYN_BPF_XDP_VERDICT_H

#include "defs.h"
#include "parse.h"
#include "maps.h"

/* A multi-buffer frame (jumbo MTU) whose first buffer is shorter than the
 * longest header chain parsed (a driver's header split, a small first
 * page): headers may run past what direct packet access reaches. A
 * malformed header in a first buffer that holds any header chain is
 * malformed all the same (a jumbo frame is no way past the proxy). */
static __always_inline int multibuf_cut(struct xdp_md *ctx)
{
	__u32 linear = ctx->data_end - ctx->data;

	return linear < MAX_L4_OFF + 60 && bpf_xdp_get_buff_len(ctx) > linear;
}

/* The verdict for a segment whose TCP options did not parse: a TCP header
 * cut by a multi-buffer frame's first buffer is the kernel's to read;
 * anything else is malformed. */
static __always_inline int opts_unreadable(struct xdp_md *ctx,
					   struct xdpsyn_stats *st,
					   const struct tcphdr *th,
					   void *data_end)
{
	if ((void *)th + th->doff * 4 > data_end && multibuf_cut(ctx)) {
		count(st, XDPSYN_CNT_MULTIBUF_PASS);
		return XDP_PASS;
	}
	count(st, XDPSYN_CNT_MALFORMED);
	return XDP_DROP;
}

/* The verdict for what parse_pkt did not call TCP: other protocols and
 * later fragments are the kernel's; headers that run past a multi-buffer
 * frame's first buffer too; anything else is malformed, dropped (no way
 * past the proxy). */
static __always_inline int parse_verdict(struct xdp_md *ctx,
					 struct xdpsyn_stats *st, int ret)
{
	switch (ret) {
	case PARSE_NOT_IP:
		count(st, XDPSYN_CNT_NOT_IP);
		return XDP_PASS;
	case PARSE_NOT_TCP:
		count(st, XDPSYN_CNT_NOT_TCP);
		return XDP_PASS;
	case PARSE_FRAGMENT:
		count(st, XDPSYN_CNT_FRAGMENT);
		return XDP_PASS;
	}
	if (multibuf_cut(ctx)) {
		count(st, XDPSYN_CNT_MULTIBUF_PASS);
		return XDP_PASS;
	}
	count(st, XDPSYN_CNT_MALFORMED);
	return XDP_DROP;
}

/* The front of every XDP entry (local and gateway mode): the frame
 * counted and parsed; what is not TCP to a protected destination port
 * gets its verdict here (>= 0). For the rest, -1 with TH and FLAGS set;
 * a SYN (no ACK) is counted, and one with FIN or RST dropped. */
static __always_inline int tcp_to_protected(struct xdp_md *ctx,
					    struct xdpsyn_stats *st,
					    struct pkt *pkt,
					    struct tcphdr **thp, __u8 *flags)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct tcphdr *th;
	int ret;

	count(st, XDPSYN_CNT_RX);
	ret = parse_pkt(ctx, data, data_end, pkt);
	if (ret != PARSE_TCP)
		return parse_verdict(ctx, st, ret);
	th = data + pkt->l4_off;
	if ((void *)(th + 1) > data_end)
		return XDP_DROP;
	if (!port_protected(pkt->family, th->dest)) {
		count(st, XDPSYN_CNT_UNPROTECTED);
		return XDP_PASS;
	}
	*flags = tcp_flags(th);
	*thp = th;
	if (*flags & TCPF_SYN && !(*flags & TCPF_ACK)) {
		count(st, XDPSYN_CNT_SYN);
		if (*flags & (TCPF_FIN | TCPF_RST)) {
			count(st, XDPSYN_CNT_SYN_BAD_FLAGS);
			return XDP_DROP;
		}
	}
	return -1;
}

#endif
