/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Packet parsing: Ethernet, up to two VLAN tags, IPv4 (with options), IPv6
 * (with extension headers), the TCP header and its options.
 * Every access is bounds-checked against data_end right where it happens. */
#ifndef XDPSYN_BPF_PARSE_H
#define XDPSYN_BPF_PARSE_H

#include "defs.h"

#define MAX_VLAN_TAGS 2
#define MAX_IPV6_EXTHDRS 8
#define MAX_L4_OFF 1024 /* TCP header offset beyond any real header chain */
#define MAX_L3_OFF (sizeof(struct ethhdr) + MAX_VLAN_TAGS * sizeof(struct vlan_hdr))

/* The including program defines XDPSYN_LOAD_BYTES as bpf_xdp_load_bytes or
 * bpf_skb_load_bytes. */
#ifndef XDPSYN_LOAD_BYTES
#error "define XDPSYN_LOAD_BYTES before including parse.h"
#endif

enum parse_result {
	PARSE_TCP = 0,    /* a TCP header is at pkt.l4_off (20 bytes checked) */
	PARSE_NOT_IP,
	PARSE_NOT_TCP,
	PARSE_FRAGMENT,   /* non-first fragment */
	PARSE_MALFORMED,
};

struct pkt {
	__u32 l3_off;     /* IP header */
	__u32 l4_off;     /* TCP header */
	__u8 family;      /* enum xdpsyn_family */
	/* Handed from one of the XDP program's global functions to the
	 * next (each has its own stack): a valid cookie's info byte, whether
	 * the previous key made it, whether the ACK had timestamps. */
	__u8 ck_info;
	__u8 ck_prev_key;
	__u8 ck_ts;
	__be32 saddr[4];  /* IPv4 uses [0] */
	__be32 daddr[4];
	__u32 ck_rtt_us;  /* RTT from the valid cookie's TSecr */
	/* From the listener lookup (bpf/host.h) to the SYN-ACK or the ACK
	 * check: the options the kernel would agree to (SYN_ALLOW_*), its
	 * TCP_MAXSEG, and whether it is bound to the wildcard address. */
	__u8 syn_allow;
	__u8 wildcard;
	__u16 user_mss;
	__u8 kc_ts2;      /* kernel-cookie hand-off: tcp_timestamps is 2, so
			   * options can ride in TSval */
	__u8 ck_kc;       /* the ACK's cookie is the kernel's (MSS unknown) */
	__u8 kc_given;    /* kc_isn holds the kernel's cookie for this SYN */
	__u8 vlan_meta;   /* the outermost tag below came from receive
			   * metadata (offloaded): a reply carries it in
			   * the frame */
	__u32 kc_isn;
	__u16 vlan;       /* TCI of the outermost VLAN tag, 0 if untagged */
	__be16 vlan_proto; /* its TPID (with vlan_meta) */
	__u64 now;        /* CLOCK_TAI, once a path has read it */
	__u8 csum_partial; /* gateway: the TCP checksum is the pseudo-header's
			    * only, left to offload (bpf/gateway.h) */
};

static __always_inline int parse_l2(void *data, void *data_end, __u32 *off,
				    __u16 *proto, __u16 *tci)
{
	struct ethhdr *eth = data;
	__u16 p;

	if ((void *)(eth + 1) > data_end)
		return PARSE_MALFORMED;
	p = bpf_ntohs(eth->h_proto);
	*off = sizeof(*eth);

#pragma unroll
	for (int i = 0; i < MAX_VLAN_TAGS; i++) {
		struct vlan_hdr *vh = data + *off;

		if (p != ETH_P_8021Q && p != ETH_P_8021AD)
			break;
		if ((void *)(vh + 1) > data_end)
			return PARSE_MALFORMED;
		if (i == 0)
			*tci = bpf_ntohs(vh->h_vlan_TCI);
		p = bpf_ntohs(vh->h_vlan_encapsulated_proto);
		*off += sizeof(*vh);
	}
	*proto = p;
	return PARSE_TCP;
}

static __always_inline int parse_ipv4(void *data, void *data_end,
				      struct pkt *pkt)
{
	struct iphdr *iph = data + pkt->l3_off;
	__u32 ihl;

	if ((void *)(iph + 1) > data_end)
		return PARSE_MALFORMED;
	if (iph->version != 4 || iph->ihl < 5)
		return PARSE_MALFORMED;
	ihl = iph->ihl * 4;
	if (data + pkt->l3_off + ihl > data_end)
		return PARSE_MALFORMED;
	if (iph->protocol != IPPROTO_TCP)
		return PARSE_NOT_TCP;
	if (iph->frag_off & bpf_htons(IP_OFFMASK))
		return PARSE_FRAGMENT;
	if (bpf_ntohs(iph->tot_len) < ihl + sizeof(struct tcphdr))
		return PARSE_MALFORMED;
	pkt->family = XDPSYN_V4;
	pkt->saddr[0] = iph->saddr;
	pkt->daddr[0] = iph->daddr;
	pkt->l4_off = pkt->l3_off + ihl;
	return PARSE_TCP;
}

struct ext_walk {
	void *ctx;        /* struct xdp_md or struct __sk_buff */
	__u32 off;        /* offset of the header named by nexthdr */
	__u8 nexthdr;
	__u8 result;      /* enum parse_result */
};

/* One IPv6 header per call; returns 1 to stop. Reads go through the load
 * helper, so the offset stays a plain scalar and the verifier checks this
 * step once rather than once per possible chain. */
static long ext_step(__u32 idx, void *arg)
{
	struct ext_walk *w = arg;
	__u8 h[4];

	switch (w->nexthdr) {
	case NEXTHDR_TCP:
		w->result = PARSE_TCP;
		return 1;
	case NEXTHDR_HOP:
	case NEXTHDR_ROUTING:
	case NEXTHDR_DEST:
		if (XDPSYN_LOAD_BYTES(w->ctx, w->off, h, 2))
			return 1;
		w->nexthdr = h[0];
		w->off += (h[1] + 1) * 8;
		return 0;
	case NEXTHDR_AUTH:
		if (XDPSYN_LOAD_BYTES(w->ctx, w->off, h, 2))
			return 1;
		w->nexthdr = h[0];
		w->off += (h[1] + 2) * 4;
		return 0;
	case NEXTHDR_FRAGMENT:
		if (XDPSYN_LOAD_BYTES(w->ctx, w->off, h, 4))
			return 1;
		/* frag_off: offset (13 bits) | res (2) | M; non-first passes */
		if ((((__u16)h[2] << 8) | h[3]) & 0xfff8) {
			w->result = PARSE_FRAGMENT;
			return 1;
		}
		w->nexthdr = h[0];
		w->off += sizeof(struct frag_hdr);
		return 0;
	default:
		w->result = PARSE_NOT_TCP;
		return 1;
	}
}

static __always_inline int parse_ipv6(void *ctx, void *data, void *data_end,
				      struct pkt *pkt)
{
	struct ipv6hdr *ip6 = data + pkt->l3_off;
	struct ext_walk w;

	if ((void *)(ip6 + 1) > data_end)
		return PARSE_MALFORMED;
	if (ip6->version != 6)
		return PARSE_MALFORMED;
	pkt->family = XDPSYN_V6;
	__builtin_memcpy(pkt->saddr, &ip6->saddr, sizeof(pkt->saddr));
	__builtin_memcpy(pkt->daddr, &ip6->daddr, sizeof(pkt->daddr));
	if (ip6->nexthdr == NEXTHDR_TCP) { /* the common case, no walk */
		pkt->l4_off = pkt->l3_off + sizeof(*ip6);
		return PARSE_TCP;
	}
	w.ctx = ctx;
	w.off = pkt->l3_off + sizeof(*ip6);
	w.nexthdr = ip6->nexthdr;
	/* A chain that does not reach TCP within MAX_IPV6_EXTHDRS headers, or
	 * runs past the frame, stays MALFORMED: refused rather than let it
	 * carry a SYN past the proxy. */
	w.result = PARSE_MALFORMED;
	bpf_loop(MAX_IPV6_EXTHDRS + 1, ext_step, &w, 0);
	pkt->l4_off = w.off;
	return w.result;
}

/* Parse up to the TCP header; on PARSE_TCP the fixed 20-byte TCP header at
 * pkt->l4_off is inside the frame. */
static __always_inline int parse_pkt(void *ctx, void *data, void *data_end,
				     struct pkt *pkt)
{
	struct tcphdr *th;
	__u16 proto;
	int ret;

	ret = parse_l2(data, data_end, &pkt->l3_off, &proto, &pkt->vlan);
	if (ret != PARSE_TCP)
		return ret;
	if (proto == ETH_P_IP)
		ret = parse_ipv4(data, data_end, pkt);
	else if (proto == ETH_P_IPV6)
		ret = parse_ipv6(ctx, data, data_end, pkt);
	else
		return PARSE_NOT_IP;
	if (ret != PARSE_TCP)
		return ret;
	if (pkt->l4_off > MAX_L4_OFF)
		return PARSE_MALFORMED;
	th = data + pkt->l4_off;
	if ((void *)(th + 1) > data_end)
		return PARSE_MALFORMED;
	return PARSE_TCP;
}

/* TCP options the proxy reads. */
struct tcp_opts {
	__u32 tsval;
	__u32 tsecr;
	__u16 mss;      /* 0: none sent */
	__u8 wscale;    /* XDPSYN_WSCALE_NONE: none sent */
	__u8 sack_ok;
	__u8 ts_ok;
	__u8 pad[3];
};

#define OPT_BUF 64 /* power of two above TCP_MAX_OPTLEN: index masks */

struct opt_walk {
	__u8 buf[OPT_BUF]; /* the option bytes, copied from the frame */
	__u32 off;
	__u32 len;
	struct tcp_opts *o;
	int err;
};

static __always_inline __u32 opt_be32(const __u8 *b, __u32 at)
{
	return ((__u32)b[at & (OPT_BUF - 1)] << 24) |
	       ((__u32)b[(at + 1) & (OPT_BUF - 1)] << 16) |
	       ((__u32)b[(at + 2) & (OPT_BUF - 1)] << 8) |
	       b[(at + 3) & (OPT_BUF - 1)];
}

/* One option per call; returns 1 to stop the walk. The offset stays a plain
 * scalar (stack index, masked), so the verifier checks this once. */
static long opt_step(__u32 idx, void *arg)
{
	struct opt_walk *w = arg;
	struct tcp_opts *o = w->o;
	__u32 off = w->off, optlen = w->len;
	__u8 kind, len;

	/* Explicit bounds keep the verifier's view of off small, so its
	 * check of this step converges after a few rounds. */
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
		goto bad;
	len = w->buf[(off + 1) & (OPT_BUF - 1)];
	if (len < 2 || off + len > optlen)
		goto bad;

	switch (kind) {
	case TCPOPT_MSS:
		if (len != TCPOLEN_MSS)
			goto bad;
		o->mss = opt_be32(w->buf, off) & 0xffff;
		break;
	case TCPOPT_WINDOW:
		if (len != TCPOLEN_WINDOW)
			goto bad;
		/* RFC 7323 2.3: a shift above 14 is used as 14. */
		o->wscale = w->buf[(off + 2) & (OPT_BUF - 1)];
		if (o->wscale > XDPSYN_WSCALE_MAX)
			o->wscale = XDPSYN_WSCALE_MAX;
		break;
	case TCPOPT_SACK_PERM:
		if (len != TCPOLEN_SACK_PERM)
			goto bad;
		o->sack_ok = 1;
		break;
	case TCPOPT_TIMESTAMP:
		if (len != TCPOLEN_TIMESTAMP)
			goto bad;
		o->ts_ok = 1;
		o->tsval = opt_be32(w->buf, off + 2);
		o->tsecr = opt_be32(w->buf, off + 6);
		break;
	default: /* unknown: skipped by its length */
		break;
	}
	w->off = off + len;
	return 0;
bad:
	w->err = 1;
	return 1;
}

/* Parse the options of the TCP header at l4_off with data offset doff
 * (checked by the caller: 20 <= doff, header inside the frame). Unknown
 * options are skipped by their length; a length below 2, an option running
 * past the header, or a known option with the wrong length is malformed
 * (-1). The bytes are copied to the stack first and walked with bpf_loop
 * (inlined by the verifier), keeping verification linear. */
static __always_inline int parse_tcp_opts(void *ctx, __u32 l4_off,
					  __u32 doff, struct tcp_opts *o)
{
	struct opt_walk w;
	__u32 optlen = doff - sizeof(struct tcphdr);
	o->mss = 0;
	o->wscale = XDPSYN_WSCALE_NONE;
	o->sack_ok = 0;
	o->ts_ok = 0;
	o->tsval = 0;
	o->tsecr = 0;
	/* optlen is a multiple of 4: "< 4" is "no options", and gives older
	 * verifiers (6.1) the lower bound the load below needs */
	if (optlen < 4)
		return 0;
	if (optlen > TCP_MAX_OPTLEN)
		return -1;
	if (XDPSYN_LOAD_BYTES(ctx, l4_off + sizeof(struct tcphdr), w.buf, optlen))
		return -1;
	w.off = 0;
	w.len = optlen;
	w.o = o;
	w.err = 0;
	/* Each step consumes at least one byte of at most 40. */
	bpf_loop(TCP_MAX_OPTLEN, opt_step, &w, 0);
	return w.err ? -1 : 0;
}

/* The layouts Linux sends, read straight from the frame: a SYN's MSS,
 * SACK_PERM, TS, NOP, WS (20 bytes) and an ACK's NOP, NOP, TS (12 bytes).
 * Returns 1 when the options are exactly one of these (o filled), 0 to fall
 * back to the general walk. Most handshakes, and floods that mimic them,
 * take this path. */
static __always_inline int parse_tcp_opts_linux(struct tcphdr *th, __u32 doff,
						void *data_end,
						struct tcp_opts *o)
{
	__u8 *p = (__u8 *)(th + 1);

	if (doff == sizeof(*th) + 20) {
		if ((void *)(p + 20) > data_end)
			return 0;
		if (p[0] != TCPOPT_MSS || p[1] != TCPOLEN_MSS ||
		    p[4] != TCPOPT_SACK_PERM || p[5] != TCPOLEN_SACK_PERM ||
		    p[6] != TCPOPT_TIMESTAMP || p[7] != TCPOLEN_TIMESTAMP ||
		    p[16] != TCPOPT_NOP || p[17] != TCPOPT_WINDOW ||
		    p[18] != TCPOLEN_WINDOW)
			return 0;
		o->mss = (p[2] << 8) | p[3];
		o->sack_ok = 1;
		o->ts_ok = 1;
		o->tsval = ((__u32)p[8] << 24) | ((__u32)p[9] << 16) |
			   ((__u32)p[10] << 8) | p[11];
		o->tsecr = ((__u32)p[12] << 24) | ((__u32)p[13] << 16) |
			   ((__u32)p[14] << 8) | p[15];
		o->wscale = p[19] > XDPSYN_WSCALE_MAX ? XDPSYN_WSCALE_MAX : p[19];
		return 1;
	}
	if (doff == sizeof(*th) + 12) {
		if ((void *)(p + 12) > data_end)
			return 0;
		if (p[0] != TCPOPT_NOP || p[1] != TCPOPT_NOP ||
		    p[2] != TCPOPT_TIMESTAMP || p[3] != TCPOLEN_TIMESTAMP)
			return 0;
		o->mss = 0;
		o->sack_ok = 0;
		o->wscale = XDPSYN_WSCALE_NONE;
		o->ts_ok = 1;
		o->tsval = ((__u32)p[4] << 24) | ((__u32)p[5] << 16) |
			   ((__u32)p[6] << 8) | p[7];
		o->tsecr = ((__u32)p[8] << 24) | ((__u32)p[9] << 16) |
			   ((__u32)p[10] << 8) | p[11];
		return 1;
	}
	return 0;
}

/* The options of the TCP header TH of PKT: Linux's layouts read straight
 * from the frame, anything else with the general walk. IN_FRAME (XDP): the
 * whole header must lie inside [data, data_end); TC reads what the linear
 * part lacks with bpf_skb_load_bytes. 0, or -1 when the data offset or an
 * option is malformed. */
static __always_inline int tcp_opts_read(void *ctx, const struct pkt *pkt,
					 struct tcphdr *th, void *data_end,
					 int in_frame, struct tcp_opts *o)
{
	__u32 doff = th->doff * 4;

	if (doff < sizeof(*th) || (in_frame && (void *)th + doff > data_end))
		return -1;
	if (parse_tcp_opts_linux(th, doff, data_end, o))
		return 0;
	return parse_tcp_opts(ctx, pkt->l4_off, doff, o);
}

/* The TCP header of a parsed packet, its 20 bytes checked against data_end
 * here (for a function that did not parse it itself); NULL when outside. */
static __always_inline struct tcphdr *pkt_tcp(const struct pkt *pkt, void *data,
					      void *data_end)
{
	struct tcphdr *th;

	if (!pkt || pkt->l4_off > MAX_L4_OFF)
		return NULL;
	th = data + pkt->l4_off;
	if ((void *)(th + 1) > data_end)
		return NULL;
	return th;
}

/* The fixed IP header of a parsed packet (its family's), bounds-checked
 * here for a function that did not parse it itself; NULL when outside. */
static __always_inline void *pkt_ip(const struct pkt *pkt, void *data,
				    void *data_end)
{
	void *ip = data + pkt->l3_off;
	__u32 len = pkt->family == XDPSYN_V4 ? sizeof(struct iphdr) :
					       sizeof(struct ipv6hdr);

	if (pkt->l3_off > MAX_L3_OFF || ip + len > data_end)
		return NULL;
	return ip;
}

/* The segment carries data: the IP length (not the frame's, which may be
 * padded to the Ethernet minimum) exceeds the headers. */
static __always_inline int tcp_has_payload(void *data, void *data_end,
					   const struct pkt *pkt,
					   const struct tcphdr *th)
{
	__u32 hdrs = pkt->l4_off - pkt->l3_off + th->doff * 4;
	void *ip = pkt_ip(pkt, data, data_end);

	if (!ip)
		return 0;
	if (pkt->family == XDPSYN_V4)
		return bpf_ntohs(((struct iphdr *)ip)->tot_len) > hdrs;
	return bpf_ntohs(((struct ipv6hdr *)ip)->payload_len) +
	       sizeof(struct ipv6hdr) > hdrs;
}

/* The socket-lookup tuple of a parsed TCP segment, as the sender sent it. */
static __always_inline void tuple_fill(struct bpf_sock_tuple *t, __u32 *size,
				       const struct pkt *pkt,
				       const struct tcphdr *th)
{
	if (pkt->family == XDPSYN_V4) {
		t->ipv4.saddr = pkt->saddr[0];
		t->ipv4.daddr = pkt->daddr[0];
		t->ipv4.sport = th->source;
		t->ipv4.dport = th->dest;
		*size = sizeof(t->ipv4);
	} else {
		__builtin_memcpy(t->ipv6.saddr, pkt->saddr, sizeof(t->ipv6.saddr));
		__builtin_memcpy(t->ipv6.daddr, pkt->daddr, sizeof(t->ipv6.daddr));
		t->ipv6.sport = th->source;
		t->ipv6.dport = th->dest;
		*size = sizeof(t->ipv6);
	}
}

#endif
