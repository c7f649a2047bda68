/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* What the kernel alone would do with a segment to a protected port, asked
 * before xdpsyn answers or drops anything ("do no harm"):
 *  - addresses it never answers: martian sources and destinations (dropped
 *    by its routing) and broadcast/multicast (dropped by TCP);
 *  - frames for another host: another unicast MAC (bridge port,
 *    promiscuous NIC), or an address this host does not own (it forwards
 *    them, e.g. to a container);
 *  - the listener and the settings of its network namespace: whether the
 *    hand-off can work (tcp_syncookies, not MPTCP) and which options the
 *    kernel itself would agree to (tcp_timestamps, tcp_sack,
 *    tcp_window_scaling, tcp_ecn, the listener's TCP_MAXSEG). */
#ifndef XDPSYN_BPF_HOST_H
#define XDPSYN_BPF_HOST_H

#include "defs.h"
#include "parse.h"
#include "maps.h"
#include <bpf/bpf_core_read.h>

#define AF_INET 2
#define AF_INET6 10

enum addr_class {
	ADDR_OK = 0,
	ADDR_MARTIAN,     /* the kernel drops it: never answered, dropped */
	ADDR_NOT_HOST,    /* broadcast/multicast: passed, never answered */
};

/* IPv4: 0/8, 127/8 are martian; 224/4 and 240/4 (with the limited
 * broadcast) are not unicast. First octet of a network-order address. */
static __always_inline int v4_octet(__be32 a)
{
	return bpf_ntohl(a) >> 24;
}

static __always_inline int v6_zero_hi(const __be32 *a)
{
	return !a[0] && !a[1];
}

/* The class of a SYN's addresses, as the kernel's routing and TCP would
 * see them. A source equal to the destination (a "land" SYN) is martian:
 * the kernel refuses a local source address from outside. */
static __always_inline int addr_class(const struct pkt *pkt)
{
	if (pkt->family == XDPSYN_V4) {
		int s = v4_octet(pkt->saddr[0]), d = v4_octet(pkt->daddr[0]);

		if (s == 0 || s == 127 || s >= 224 ||
		    pkt->saddr[0] == pkt->daddr[0] || d == 0 || d == 127)
			return ADDR_MARTIAN;
		if (d >= 224)
			return ADDR_NOT_HOST;
		return ADDR_OK;
	}
	/* IPv6: multicast ff00::/8; ::, ::1 and v4-mapped ::ffff:0:0/96 */
	if ((bpf_ntohl(pkt->saddr[0]) >> 24) == 0xff)
		return ADDR_MARTIAN;
	if (v6_zero_hi(pkt->saddr) &&
	    (!pkt->saddr[2] || pkt->saddr[2] == bpf_htonl(0xffff)) &&
	    (pkt->saddr[2] || !pkt->saddr[3] || pkt->saddr[3] == bpf_htonl(1)))
		return ADDR_MARTIAN;
	if (pkt->saddr[0] == pkt->daddr[0] && pkt->saddr[1] == pkt->daddr[1] &&
	    pkt->saddr[2] == pkt->daddr[2] && pkt->saddr[3] == pkt->daddr[3])
		return ADDR_MARTIAN;
	if ((bpf_ntohl(pkt->daddr[0]) >> 24) == 0xff)
		return ADDR_NOT_HOST;
	if (v6_zero_hi(pkt->daddr) && !pkt->daddr[2] &&
	    (!pkt->daddr[3] || pkt->daddr[3] == bpf_htonl(1)))
		return ADDR_MARTIAN;
	return ADDR_OK;
}

/* The frame is not for this host at L2: a group (broadcast, multicast)
 * destination MAC, or, when attach recorded the interface's MAC, another
 * unicast one. The kernel drops TCP in both (PACKET_BROADCAST/MULTICAST,
 * PACKET_OTHERHOST). */
static __always_inline int l2_not_host(void *data, void *data_end,
				       const struct xdpsyn_config *cfg)
{
	struct ethhdr *eth = data;
	const __u8 *m = cfg->mac;

	if ((void *)(eth + 1) > data_end)
		return 1;
	if (eth->h_dest[0] & 1)
		return 1;
	if (!(m[0] | m[1] | m[2] | m[3] | m[4] | m[5]))
		return 0;
	return !!((eth->h_dest[0] ^ m[0]) | (eth->h_dest[1] ^ m[1]) |
	       (eth->h_dest[2] ^ m[2]) | (eth->h_dest[3] ^ m[3]) |
	       (eth->h_dest[4] ^ m[4]) | (eth->h_dest[5] ^ m[5]));
}

/* Options and hand-off as the kernel would do them (struct pkt's
 * syn_allow): bits of the client's options the SYN-ACK may agree to. */
#define SYN_ALLOW_TS 0x01
#define SYN_ALLOW_SACK 0x02
#define SYN_ALLOW_WS 0x04
#define SYN_ALLOW_ECN 0x08
#define SYN_ALLOW_ALL 0x0f

/* What the listener found for a SYN tells (read before the socket is
 * released; tp is the listener as a tcp_sock). */
struct listener_view {
	__u8 mptcp;       /* an MPTCP listener: the kfunc refuses it */
	__u8 syncookies;  /* net.ipv4.tcp_syncookies of its netns */
	__u8 allow;       /* SYN_ALLOW_* from its netns's sysctls */
	__u8 timestamps;  /* net.ipv4.tcp_timestamps (2: no TS offset) */
	__u16 user_mss;   /* TCP_MAXSEG on the listener (0: none) */
};

static __always_inline void listener_read(struct tcp_sock *tp,
					  struct listener_view *v)
{
	struct net *net = tp->inet_conn.icsk_inet.sk.__sk_common.skc_net.net;

	v->mptcp = 0;
	if (bpf_core_field_exists(tp->is_mptcp))
		v->mptcp = tp->is_mptcp;
	v->user_mss = tp->rx_opt.user_mss;
	v->syncookies = 0;
	v->allow = 0;
	v->timestamps = 0;
	if (!net)
		return;
	v->syncookies = net->ipv4.sysctl_tcp_syncookies;
	v->timestamps = net->ipv4.sysctl_tcp_timestamps;
	if (v->timestamps)
		v->allow |= SYN_ALLOW_TS;
	if (net->ipv4.sysctl_tcp_sack)
		v->allow |= SYN_ALLOW_SACK;
	if (net->ipv4.sysctl_tcp_window_scaling)
		v->allow |= SYN_ALLOW_WS;
	if (net->ipv4.sysctl_tcp_ecn)
		v->allow |= SYN_ALLOW_ECN;
}

/* A listener bound to the wildcard address accepts any destination the
 * lookup is given, local or not. */
static __always_inline int listener_wildcard(const struct bpf_sock *sk,
					     __u8 family)
{
	if (family == XDPSYN_V4)
		return !sk->src_ip4;
	return !(sk->src_ip6[0] | sk->src_ip6[1] | sk->src_ip6[2] | sk->src_ip6[3]);
}

/* The destination is one of the addresses attach listed (the FIB cannot
 * say so on a host that does not forward). */
static __always_inline int dest_listed(const struct pkt *pkt)
{
	struct xdpsyn_addr a = {};

	a.family = pkt->family;
	if (pkt->family == XDPSYN_V4)
		a.addr[0] = pkt->daddr[0];
	else
		__builtin_memcpy(a.addr, pkt->daddr, sizeof(a.addr));
	return bpf_map_lookup_elem(&xdpsyn_local_addrs, &a) != NULL;
}

/* The destination belongs to another host: the kernel would forward the
 * segment (a route with a next hop or a neighbour to resolve) or drop it
 * (blackhole, unreachable, prohibit). A local or broadcast destination
 * (not forwarded) is this host's. On an interface that does not forward,
 * the FIB answers FWD_DISABLED before any lookup, and the kernel drops
 * whatever is not its own: the addresses attach listed decide (without a
 * list, it is taken as this host's). One FIB lookup (no flags: the same
 * on every kernel since 4.18), and a hash lookup on such a host. */
static __always_inline int dest_elsewhere(void *ctx, const struct pkt *pkt,
					  __u32 ifindex, const struct tcphdr *th,
					  const struct xdpsyn_config *cfg)
{
	struct bpf_fib_lookup p = {};
	long rc;

	p.ifindex = ifindex;
	p.l4_protocol = IPPROTO_TCP;
	p.sport = th->source;
	p.dport = th->dest;
	if (pkt->family == XDPSYN_V4) {
		p.family = AF_INET;
		p.ipv4_src = pkt->saddr[0];
		p.ipv4_dst = pkt->daddr[0];
	} else {
		p.family = AF_INET6;
		__builtin_memcpy(p.ipv6_src, pkt->saddr, sizeof(p.ipv6_src));
		__builtin_memcpy(p.ipv6_dst, pkt->daddr, sizeof(p.ipv6_dst));
	}
	rc = bpf_fib_lookup(ctx, &p, sizeof(p), 0);
	switch (rc) {
	case BPF_FIB_LKUP_RET_SUCCESS:
	case BPF_FIB_LKUP_RET_NO_NEIGH:
	case BPF_FIB_LKUP_RET_FRAG_NEEDED:
	case BPF_FIB_LKUP_RET_BLACKHOLE:
	case BPF_FIB_LKUP_RET_UNREACHABLE:
	case BPF_FIB_LKUP_RET_PROHIBIT:
		return 1;
	case BPF_FIB_LKUP_RET_FWD_DISABLED:
		/* a host that does not forward drops what is not its own:
		 * the addresses attach listed tell (when it did) */
		return (cfg->flags & XDPSYN_CFG_LOCAL_ADDRS) && !dest_listed(pkt);
	default:
		return 0;
	}
}

#endif
