// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Floor programs for bench/micro.c: the least work each xdpsyn path could
 * possibly do, run on the same frames in the same process, so the real
 * program's cost is read as a ratio to a floor rather than as a bare number.
 * They are multi-buffer programs (xdp.frags) like xdpsyn's XDP entry: a
 * tail call joins only programs alike in that; the dispatcher's stay
 * single-buffer, like the extension loaded into their slot.
 *
 *   floor_empty       return XDP_PASS: the cost of BPF_PROG_TEST_RUN itself
 *   floor_parse_pass  Ethernet + fixed IPv4/IPv6 header + TCP/UDP header
 *   floor_parse_drop  bounds-checked, ports read; XDP_PASS / XDP_DROP
 *   floor_lookup      the same parse, then one bpf_skc_lookup_tcp (+ release)
 *   floor_synack      a Linux SYN (MSS, SACK_PERM, TS, NOP, WS at their fixed
 *                     places) rewritten in place into the SYN-ACK xdpsyn would
 *                     send, with full IPv4 and TCP checksums and a constant
 *                     ISN and TSval: no option parsing, no VLANs, no hash
 *
 * With repeat > 1 the kernel runs every iteration on the same buffer without
 * resetting it, so a program that rewrites the frame sees its own output from
 * the second iteration on. For the SYN path the bench therefore runs
 * floor_restore_tail: it writes the original frame back (bytes kept in .bss,
 * set by the bench) and tail-calls the program under test (xdpsyn_xdp or
 * floor_synack) from slot 0 of floors_jmp. The same wrapper tail-calling
 * floor_empty measures what the restore and the tail call cost, which the
 * bench subtracts. floor_restore_only restores without a tail call.
 * With del_flow set it deletes one flow record first (see del_key).
 * With bump_off set, the wrapper also writes a new source port and sequence
 * number (a run counter) into the TCP header at bump_off after the restore:
 * every run is then a new handshake (the track policy's SYN path).
 *
 *   floor_tc_empty    a TC program returning TC_ACT_UNSPEC: the floor of the TC
 *                     egress paths
 */
#include "defs.h"
#include "csum.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

#define FLOOR_FRAME_MAX 192 /* the bench's frames: SYNs 74 (v4) / 94 (v6) bytes, the
			     * gateway rows' data segments up to 146 */
#define FLOOR_ISN 0x12345678
#define FLOOR_TSVAL 0x01000000
#define FLOOR_MSS 1460
#define FLOOR_WSCALE 7
#define FLOOR_WINDOW 65535
#define FLOOR_TTL 64
#define IPPROTO_TCP_ 6
#define IPPROTO_UDP_ 17

/* Set by the bench before a run (the skeleton's mmapped .bss). */
__u8 orig[FLOOR_FRAME_MAX];
__u32 orig_len;
/* del_flow: the wrapper also deletes del_key from xdpsyn's flow table (the
 * bench hands this object that map), so a valid ACK run again is a first
 * validation every time: xdpsyn writes one record per handshake. */
struct xdpsyn_flow_key del_key;
__u32 del_flow;

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 65536);
	__type(key, struct xdpsyn_flow_key);
	__type(value, struct xdpsyn_flow);
} xdpsyn_flows SEC(".maps");
__u32 bump_off; /* TCP header offset, 0: no bump */
__u32 bump_ctr;

struct {
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
} floors_jmp SEC(".maps");

static __always_inline int restore(struct xdp_md *ctx)
{
	__u32 len = orig_len;
	int cur = (int)(ctx->data_end - ctx->data);

	if (len == 0 || len > FLOOR_FRAME_MAX)
		return -1;
	if (cur != (int)len && bpf_xdp_adjust_tail(ctx, (int)len - cur))
		return -1;
	if (bpf_xdp_store_bytes(ctx, 0, orig, len))
		return -1;
	if (bump_off) {
		__u32 n = ++bump_ctr;
		__be16 port = bpf_htons((__u16)(1024 + n % 60000));
		__be32 seq = bpf_htonl(n);

		if (bpf_xdp_store_bytes(ctx, bump_off, &port, sizeof(port)) ||
		    bpf_xdp_store_bytes(ctx, bump_off + 4, &seq, sizeof(seq)))
			return -1;
	}
	return 0;
}

SEC("xdp.frags")
int floor_restore_only(struct xdp_md *ctx)
{
	return restore(ctx) ? XDP_ABORTED : XDP_TX;
}

SEC("xdp.frags")
int floor_restore_tail(struct xdp_md *ctx)
{
	if (restore(ctx))
		return XDP_ABORTED;
	if (del_flow)
		bpf_map_delete_elem(&xdpsyn_flows, &del_key);
	bpf_tail_call(ctx, &floors_jmp, 0);
	return XDP_ABORTED; /* slot empty */
}

/* ---- a dispatcher: what running behind libxdp's multi-program dispatcher
 * costs. Our own minimal program of that shape (the mechanism only): the XDP
 * program calls global, never inlined slot functions in order, each taking
 * the context and returning an action; XDP_PASS goes on to the next slot,
 * any other action ends the chain. The bench replaces a slot's body with a
 * program loaded as BPF_PROG_TYPE_EXT (freplace): xdpsyn's own XDP program,
 * or dispext.bpf.c's empty pass-through. A slot's own body returns XDP_PASS;
 * it also calls bpf_xdp_adjust_head(ctx, 0) under disp_never, which is
 * always 0 but volatile in .bss (neither clang nor the verifier can drop the
 * call), so the kernel counts the slot as changing packet data: since 6.13
 * it refuses an extension that changes packet data (xdpsyn: adjust_head and
 * adjust_tail for SYN-ACKs) in place of a function that does not, which is
 * why libxdp 1.3's own dispatcher cannot take xdpsyn there.
 *
 *   floor_disp1          one slot
 *   floor_disp2          two slots (the per-slot cost)
 *   floor_disp_xs        one slot, for xdpsyn's paths that leave the frame as
 *                        it is
 *   floor_disp_xs_restore  the restore wrapper's work (restore, del_flow),
 *                        then one slot: xdpsyn's SYN and valid-ACK paths (an
 *                        extended program cannot be a tail call target, so
 *                        the wrapper cannot tail-call a dispatcher)
 *   floor_restore_pass   the same restore work, then XDP_PASS: the baseline
 *                        subtracted from floor_disp_xs_restore
 * Each entry program has its own copy of the slots (libbpf appends
 * subprograms per program), so each is its own freplace target. */
volatile __u32 disp_never;

__noinline int disp_slot0(struct xdp_md *ctx)
{
	if (!ctx)
		return XDP_ABORTED;
	if (disp_never)
		return bpf_xdp_adjust_head(ctx, 0) ? XDP_ABORTED : XDP_PASS;
	return XDP_PASS;
}

__noinline int disp_slot1(struct xdp_md *ctx)
{
	if (!ctx)
		return XDP_ABORTED;
	if (disp_never)
		return bpf_xdp_adjust_head(ctx, 0) ? XDP_ABORTED : XDP_PASS;
	return XDP_PASS;
}

SEC("xdp")
int floor_disp1(struct xdp_md *ctx)
{
	return disp_slot0(ctx);
}

SEC("xdp")
int floor_disp2(struct xdp_md *ctx)
{
	int ret = disp_slot0(ctx);

	if (ret != XDP_PASS)
		return ret;
	return disp_slot1(ctx);
}

SEC("xdp")
int floor_disp_xs(struct xdp_md *ctx)
{
	return disp_slot0(ctx);
}

SEC("xdp")
int floor_disp_xs_restore(struct xdp_md *ctx)
{
	if (restore(ctx))
		return XDP_ABORTED;
	if (del_flow)
		bpf_map_delete_elem(&xdpsyn_flows, &del_key);
	return disp_slot0(ctx);
}

SEC("xdp.frags")
int floor_restore_pass(struct xdp_md *ctx)
{
	if (restore(ctx))
		return XDP_ABORTED;
	if (del_flow)
		bpf_map_delete_elem(&xdpsyn_flows, &del_key);
	return XDP_PASS;
}

SEC("tc")
int floor_tc_empty(struct __sk_buff *skb)
{
	return -1; /* TC_ACT_UNSPEC, as xdpsyn's TC programs */
}

SEC("xdp.frags")
int floor_empty(struct xdp_md *ctx)
{
	return XDP_PASS;
}

/* Minimal parse: Ethernet, IPv4 without options or IPv6 without extension
 * headers, then the TCP or UDP header in bounds; the TCP 4-tuple filled as
 * bpf_skc_lookup_tcp wants it. Returns the L4 protocol, or -1. */
static __always_inline int floor_parse(struct xdp_md *ctx, struct bpf_sock_tuple *t,
				       __u32 *tsize)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	struct tcphdr *th;
	__u8 proto;

	if ((void *)(eth + 1) > data_end)
		return -1;
	if (eth->h_proto == bpf_htons(ETH_P_IP)) {
		struct iphdr *iph = (void *)(eth + 1);

		if ((void *)(iph + 1) > data_end || iph->ihl != 5)
			return -1;
		proto = iph->protocol;
		th = (void *)(iph + 1);
		t->ipv4.saddr = iph->saddr;
		t->ipv4.daddr = iph->daddr;
		*tsize = sizeof(t->ipv4);
	} else if (eth->h_proto == bpf_htons(ETH_P_IPV6)) {
		struct ipv6hdr *ip6 = (void *)(eth + 1);

		if ((void *)(ip6 + 1) > data_end)
			return -1;
		proto = ip6->nexthdr;
		th = (void *)(ip6 + 1);
		__builtin_memcpy(t->ipv6.saddr, &ip6->saddr, 16);
		__builtin_memcpy(t->ipv6.daddr, &ip6->daddr, 16);
		*tsize = sizeof(t->ipv6);
	} else {
		return -1;
	}
	if (proto == IPPROTO_UDP_) {
		struct udphdr *uh = (void *)th;

		if ((void *)(uh + 1) > data_end || !uh->dest)
			return -1;
		return proto;
	}
	if (proto != IPPROTO_TCP_ || (void *)(th + 1) > data_end || !th->dest)
		return -1;
	/* sport/dport sit at the same offsets in both tuple layouts' tails */
	if (*tsize == sizeof(t->ipv4)) {
		t->ipv4.sport = th->source;
		t->ipv4.dport = th->dest;
	} else {
		t->ipv6.sport = th->source;
		t->ipv6.dport = th->dest;
	}
	return proto;
}

SEC("xdp.frags")
int floor_parse_pass(struct xdp_md *ctx)
{
	struct bpf_sock_tuple t;
	__u32 tsize;

	return floor_parse(ctx, &t, &tsize) < 0 ? XDP_ABORTED : XDP_PASS;
}

SEC("xdp.frags")
int floor_parse_drop(struct xdp_md *ctx)
{
	struct bpf_sock_tuple t;
	__u32 tsize;

	return floor_parse(ctx, &t, &tsize) < 0 ? XDP_ABORTED : XDP_DROP;
}

SEC("xdp.frags")
int floor_lookup(struct xdp_md *ctx)
{
	struct bpf_sock_tuple t = {};
	struct bpf_sock *sk;
	__u32 tsize = 0;
	int state;

	if (floor_parse(ctx, &t, &tsize) != IPPROTO_TCP_)
		return XDP_ABORTED;
	sk = bpf_skc_lookup_tcp(ctx, &t, tsize, BPF_F_CURRENT_NETNS, 0);
	if (!sk)
		return XDP_DROP; /* the bench expects a socket: DROP flags a miss */
	state = sk->state;
	bpf_sk_release(sk);
	return state ? XDP_PASS : XDP_ABORTED;
}

/* A Linux SYN's 20 option bytes: MSS(4) SACK_PERM(2) TS(10) NOP(1) WS(3). */
SEC("xdp.frags")
int floor_synack(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	union tcp_word_hdr *tw;
	struct tcphdr *th;
	__u8 *opt, mac[ETH_ALEN];
	__be32 *ow;
	__u32 isn, tsval;
	__u64 sum;

	if ((void *)(eth + 1) > data_end)
		return XDP_ABORTED;
	if (eth->h_proto == bpf_htons(ETH_P_IP)) {
		struct iphdr *iph = (void *)(eth + 1);
		__be32 a;
		__u64 isum = 0;

		if ((void *)(iph + 1) > data_end || iph->ihl != 5 ||
		    iph->protocol != IPPROTO_TCP_)
			return XDP_PASS;
		tw = (void *)(iph + 1);
		a = iph->saddr;
		iph->saddr = iph->daddr;
		iph->daddr = a;
		iph->tos = 0;
		iph->tot_len = bpf_htons(sizeof(*iph) + 40);
		iph->id = 0;
		iph->frag_off = bpf_htons(IP_DF);
		iph->ttl = FLOOR_TTL;
		iph->check = 0;
#pragma unroll
		for (int i = 0; i < 5; i++)
			isum += ((__be32 *)iph)[i];
		iph->check = csum_fold(isum);
		sum = csum_pseudo(XDPSYN_V4, &iph->saddr, &iph->daddr, 40);
	} else if (eth->h_proto == bpf_htons(ETH_P_IPV6)) {
		struct ipv6hdr *ip6 = (void *)(eth + 1);
		__be32 a[4];

		if ((void *)(ip6 + 1) > data_end || ip6->nexthdr != IPPROTO_TCP_)
			return XDP_PASS;
		tw = (void *)(ip6 + 1);
		__builtin_memcpy(a, &ip6->saddr, 16);
		__builtin_memcpy(&ip6->saddr, &ip6->daddr, 16);
		__builtin_memcpy(&ip6->daddr, a, 16);
		ip6->payload_len = bpf_htons(40);
		ip6->hop_limit = FLOOR_TTL;
		sum = csum_pseudo(XDPSYN_V6, (__be32 *)&ip6->saddr, (__be32 *)&ip6->daddr, 40);
	} else {
		return XDP_PASS;
	}
	th = &tw->hdr;
	opt = (__u8 *)(th + 1);
	if ((void *)(opt + 20) > data_end || th->doff != 10 ||
	    tcp_flags(th) != TCPF_SYN || opt[0] != TCPOPT_MSS ||
	    opt[4] != TCPOPT_SACK_PERM || opt[6] != TCPOPT_TIMESTAMP ||
	    opt[17] != TCPOPT_WINDOW)
		return XDP_PASS;

	__builtin_memcpy(mac, eth->h_source, ETH_ALEN);
	__builtin_memcpy(eth->h_source, eth->h_dest, ETH_ALEN);
	__builtin_memcpy(eth->h_dest, mac, ETH_ALEN);

	isn = bpf_ntohl(th->seq);
	tsval = ((__u32)opt[8] << 24) | ((__u32)opt[9] << 16) | ((__u32)opt[10] << 8) | opt[11];
	{
		__be16 p = th->source;

		th->source = th->dest;
		th->dest = p;
	}
	th->seq = bpf_htonl(FLOOR_ISN);
	th->ack_seq = bpf_htonl(isn + 1);
	tw->words[3] = bpf_htonl((10u << 28) | ((__u32)(TCPF_SYN | TCPF_ACK) << 16) | FLOOR_WINDOW);
	tw->words[4] = 0;
	ow = (__be32 *)opt;
	ow[0] = bpf_htonl((TCPOPT_MSS << 24) | (TCPOLEN_MSS << 16) | FLOOR_MSS);
	ow[1] = bpf_htonl((TCPOPT_SACK_PERM << 24) | (TCPOLEN_SACK_PERM << 16) |
			  (TCPOPT_TIMESTAMP << 8) | TCPOLEN_TIMESTAMP);
	ow[2] = bpf_htonl(FLOOR_TSVAL);
	ow[3] = bpf_htonl(tsval);
	ow[4] = bpf_htonl((TCPOPT_NOP << 24) | (TCPOPT_WINDOW << 16) |
			  (TCPOLEN_WINDOW << 8) | FLOOR_WSCALE);
#pragma unroll
	for (int i = 0; i < 10; i++)
		sum += ((__be32 *)th)[i];
	th->check = csum_fold(sum);
	return XDP_TX;
}
