// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* xdpsyn gateway mode (include/xdpsyn.h, "Gateway mode"). XDP on IFACE_C
 * (the clients' side), XDP and TC ingress on IFACE_S (the servers' side).
 * The maps of bpf/maps.h are the local-mode object's (attach reuses them
 * by name); bpf/gateway_maps.h's are this object's. */
#define XDPSYN_LOAD_BYTES bpf_xdp_load_bytes
#include "defs.h"
#include "parse.h"
#include "cookie.h"
#include "csum.h"
#include "synack.h"
#include "maps.h"
#include "gateway_maps.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

SEC("xdp.frags")
int xdpsyn_gw_xdp(struct xdp_md *ctx)
{
	return XDP_PASS;
}

SEC("xdp")
int xdpsyn_gw_xdp_skb(struct xdp_md *ctx)
{
	return XDP_PASS;
}

SEC("xdp.frags")
int xdpsyn_gw_srv_xdp(struct xdp_md *ctx)
{
	return XDP_PASS;
}

SEC("xdp")
int xdpsyn_gw_srv_xdp_skb(struct xdp_md *ctx)
{
	return XDP_PASS;
}

SEC("tc")
int xdpsyn_gw_tc(struct __sk_buff *skb)
{
	return -1; /* TC_ACT_UNSPEC: the next filter */
}
