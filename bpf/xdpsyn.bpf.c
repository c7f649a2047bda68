// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* xdpsyn XDP program: answer SYNs to protected ports with a cookie SYN-ACK
 * (XDP_TX), drop final ACKs whose cookie does not check, pass the rest;
 * under the track policy pass SYNs to the kernel and record the handshake.
 * See ../README.md ("Packet path") for the verdict table. */
#define XDPSYN_LOAD_BYTES bpf_xdp_load_bytes
#include "defs.h"
#include "parse.h"
#include "cookie.h"
#include "csum.h"
#include "synack.h"
#include "maps.h"
#include "top.h"
#include "flows.h"
#include "handshakes.h"
#include "policy.h"
#include "host.h"
#include "xdp_verdict.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

/* Set by the loader (attach --handoff): enum xdpsyn_handoff_mode. */
const volatile __u8 handoff_mode = XDPSYN_HANDOFF_REQSK;

/* The VLAN tag a driver took off the frame on receive (rx-vlan-offload):
 * kernel >= 6.8, in a program bound to the device (xdpsyn_xdp_vlan; the
 * loader does not load it elsewhere). Weak: older kernels lack it. */
extern int bpf_xdp_metadata_rx_vlan_tag(const struct xdp_md *ctx,
					__be16 *vlan_proto,
					__u16 *vlan_tci) __weak __ksym;
#define ENODATA 61

/* xdpsyn_syn_check's answers when the SYN is to be tracked, or answered
 * with a cookie (ours, or under the kernel-cookie hand-off the kernel's,
 * which xdpsyn_syn_kc gets first). */
#define SYN_TRACK 0x100
#define SYN_PROXY 0x103
#define SYN_KCOOKIE 0x105
/* xdpsyn_ack's (and xdpsyn_ack_other's) answer when the ACK carries no
 * cookie that anyone accepts: dropped, unless it is not ours at all
 * (xdpsyn_ack_forged). */
#define ACK_FORGED 0x104
/* xdpsyn_ack's answer when the cookie is not ours (xdpsyn_ack_other). */
#define ACK_NOT_OURS 0x101
/* xdpsyn_ack's answer when the cookie is valid (xdpsyn_ack_valid). */
#define ACK_VALID 0x102

/* The SYN and ACK paths are global functions: the verifier checks each once
 * with unknown offsets instead of once per header layout of the caller. */

/* A SYN to a protected port: everything the kernel alone would do with it
 * that is not "answer it from the listener" is left to the kernel (or,
 * for what it drops anyway, dropped): martian and non-host addresses,
 * then, under proxy, a tuple a socket holds (time-wait reuse, a request
 * the kernel answered), no listener (the kernel resets), an MPTCP
 * listener, tcp_syncookies = 0, a destination this host forwards. One
 * socket lookup, and a FIB lookup only for wildcard listeners. */
__noinline int xdpsyn_syn_check(struct xdp_md *ctx, struct pkt *pkt)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct xdpsyn_stats *st = stats_get();
	struct bpf_sock_tuple tuple = {};
	struct listener_view lv;
	struct xdpsyn_config *cfg;
	struct bpf_sock *sk;
	struct tcp_sock *tp;
	struct tcphdr *th;
	__u32 zero = 0, tsize;
	int wild;
	__u64 now;

	cfg = bpf_map_lookup_elem(&xdpsyn_config, &zero);
	if (!pkt)
		return XDP_PASS;
	if (!cfg) {
		count(st, XDPSYN_CNT_CONFIG_MISSING);
		return XDP_PASS;
	}
	th = pkt_tcp(pkt, data, data_end);
	if (!th)
		return XDP_DROP;
	switch (addr_class(pkt)) {
	case ADDR_MARTIAN:
		count(st, XDPSYN_CNT_SYN_MARTIAN);
		return XDP_DROP;
	case ADDR_NOT_HOST:
		count(st, XDPSYN_CNT_SYN_NOT_HOST);
		return XDP_PASS;
	}
	if (l2_not_host(data, data_end, cfg)) {
		count(st, XDPSYN_CNT_SYN_NOT_HOST);
		return XDP_PASS;
	}
	now = bpf_ktime_get_tai_ns();
	pkt->now = now;
	if (cfg->policy != XDPSYN_POLICY_PROXY &&
	    policy_for_syn(cfg, now) == XDPSYN_POLICY_TRACK)
		return SYN_TRACK;

	tuple_fill(&tuple, &tsize, pkt, th);
	sk = bpf_skc_lookup_tcp(ctx, &tuple, tsize, BPF_F_CURRENT_NETNS, 0);
	if (!sk) {
		count(st, XDPSYN_CNT_SYN_NO_LISTENER);
		return XDP_PASS;
	}
	if (sk->state != BPF_TCP_LISTEN) {
		bpf_sk_release(sk);
		count(st, XDPSYN_CNT_SYN_SOCKET);
		return XDP_PASS;
	}
	wild = listener_wildcard(sk, pkt->family);
	tp = bpf_skc_to_tcp_sock(sk);
	if (!tp) { /* a listener is always a tcp_sock */
		bpf_sk_release(sk);
		count(st, XDPSYN_CNT_SYN_NO_LISTENER);
		return XDP_PASS;
	}
	listener_read(tp, &lv);
	bpf_sk_release(sk);
	if (lv.mptcp) {
		count(st, XDPSYN_CNT_SYN_MPTCP);
		return XDP_PASS;
	}
	if (!lv.syncookies) {
		count(st, XDPSYN_CNT_SYN_NO_SYNCOOKIES);
		return XDP_PASS;
	}
	if (wild && dest_elsewhere(ctx, pkt, ctx->ingress_ifindex, th, cfg)) {
		count(st, XDPSYN_CNT_NOT_LOCAL);
		return XDP_PASS;
	}
	pkt->syn_allow = lv.allow;
	pkt->user_mss = lv.user_mss;
	pkt->kc_ts2 = lv.timestamps == 2;
	return handoff_mode == XDPSYN_HANDOFF_KCOOKIE ? SYN_KCOOKIE : SYN_PROXY;
}

/* The kernel's SYN cookie TSval for the options OPTS: its TCP clock in ms
 * (CLOCK_MONOTONIC) with the low bits replaced, never ahead of the clock
 * (cookie_init_timestamp in net/ipv4/syncookies.c). */
static __always_inline __u32 kc_tsval(__u32 opts)
{
	__u64 now_ms = bpf_ktime_get_ns() / 1000000;
	__u64 ts = (now_ms >> XDPSYN_KC_TSBITS) << XDPSYN_KC_TSBITS | opts;

	if (ts > now_ms)
		ts -= 1ULL << XDPSYN_KC_TSBITS;
	return (__u32)ts;
}

/* Answer the SYN in the frame with a SYN-ACK: the options the client
 * offered and the kernel allows (pkt->syn_allow, stamped by
 * xdpsyn_syn_check), the ISN our cookie or, when pkt->kc_given, the
 * kernel's (pkt->kc_isn), which keeps options only in TSval and only with
 * tcp_timestamps = 2. */
__noinline int xdpsyn_synack(struct xdp_md *ctx, struct pkt *pkt)
{
	struct synack_in sin = {}, *in = &sin;
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct xdpsyn_stats *st = stats_get();
	struct xdpsyn_config *cfg;
	struct cookie_keys k;
	struct tcp_opts o;
	struct tcphdr *th;
	__u32 zero = 0, cookie;
	__u8 allow;
	int ret;

	cfg = bpf_map_lookup_elem(&xdpsyn_config, &zero);
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
	top_syn(cfg, pkt->family, pkt->saddr);
	in->sport = th->source;
	in->dport = th->dest;
	in->client_isn = bpf_ntohl(th->seq);
	in->flags = tcp_flags(th);
	in->given = pkt->kc_given;
	in->isn = pkt->kc_isn;
	/* Never offer what the kernel's own settings refuse: the hand-off
	 * would fail, or the connection differ from a direct one. */
	allow = pkt->syn_allow;
	if (allow != SYN_ALLOW_ALL) {
		int off = 0;

		if (!(allow & SYN_ALLOW_TS) && o.ts_ok) {
			o.ts_ok = 0;
			off = 1;
		}
		if (!(allow & SYN_ALLOW_SACK) && o.sack_ok) {
			o.sack_ok = 0;
			off = 1;
		}
		if (!(allow & SYN_ALLOW_WS) && o.wscale != XDPSYN_WSCALE_NONE) {
			o.wscale = XDPSYN_WSCALE_NONE;
			off = 1;
		}
		/* an ECN offer is ECE and CWR together (RFC 3168) */
		if (!(allow & SYN_ALLOW_ECN) &&
		    (in->flags & (TCPF_ECE | TCPF_CWR)) == (TCPF_ECE | TCPF_CWR)) {
			in->flags &= ~(TCPF_ECE | TCPF_CWR);
			off = 1;
		}
		if (off)
			count(st, XDPSYN_CNT_SYN_OPT_OFF);
	}
	if (in->given) {
		/* The kernel's cookie keeps window scale, SACK and ECN only
		 * in TSval (and reads them back only with a zero TS offset):
		 * without, it keeps the MSS alone, so nothing else is
		 * offered, as the kernel's own cookie SYN-ACK would. */
		if (!o.ts_ok || !pkt->kc_ts2) {
			o.ts_ok = 0;
			o.sack_ok = 0;
			o.wscale = XDPSYN_WSCALE_NONE;
			in->flags &= ~(TCPF_ECE | TCPF_CWR);
		} else {
			__u32 opts = o.wscale != XDPSYN_WSCALE_NONE ?
				     o.wscale : XDPSYN_KC_WSCALE_MASK;

			if (o.sack_ok)
				opts |= XDPSYN_KC_SACK;
			if ((in->flags & (TCPF_ECE | TCPF_CWR)) == (TCPF_ECE | TCPF_CWR) &&
			    cfg->ecn)
				opts |= XDPSYN_KC_ECN;
			in->tsval = kc_tsval(opts);
		}
	}
	ret = synack_build(ctx, pkt, in, &o, cfg, k.cur, pkt->now, &cookie);
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

/* The kernel-cookie hand-off (xdpsyn_syn_check passed the SYN): the kernel
 * makes the cookie from the SYN's headers (copied to the stack, so their
 * lengths may vary) for the listener, which it marks as having sent
 * cookies, so that its own check accepts the final ACK. Leaves it in
 * pkt->kc_isn for xdpsyn_synack (SYN_PROXY), or a verdict. The listener is
 * looked up again: a socket cannot be handed to another global function. */
__noinline int xdpsyn_syn_kc(struct xdp_md *ctx, struct pkt *pkt)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct xdpsyn_stats *st = stats_get();
	struct bpf_sock_tuple tuple = {};
	struct bpf_sock *sk;
	struct tcphdr *th;
	__u8 ih[sizeof(struct ipv6hdr)], tb[60];
	__u32 tsize, tlen;
	__s64 r;

	th = pkt_tcp(pkt, data, data_end);
	if (!th)
		return XDP_DROP;
	tlen = th->doff * 4;
	if (tlen < sizeof(struct tcphdr) || tlen > sizeof(tb) ||
	    bpf_xdp_load_bytes(ctx, pkt->l4_off, tb, tlen))
		return XDP_DROP;
	if (pkt->family == XDPSYN_V4) {
		if (bpf_xdp_load_bytes(ctx, pkt->l3_off, ih, sizeof(struct iphdr)))
			return XDP_DROP;
	} else if (bpf_xdp_load_bytes(ctx, pkt->l3_off, ih, sizeof(struct ipv6hdr))) {
		return XDP_DROP;
	}
	tuple_fill(&tuple, &tsize, pkt, th);
	sk = bpf_skc_lookup_tcp(ctx, &tuple, tsize, BPF_F_CURRENT_NETNS, 0);
	if (!sk) {
		count(st, XDPSYN_CNT_SYN_NO_LISTENER);
		return XDP_PASS;
	}
	if (pkt->family == XDPSYN_V4)
		r = bpf_tcp_gen_syncookie(sk, ih, sizeof(struct iphdr),
					  (struct tcphdr *)tb, tlen);
	else
		r = bpf_tcp_gen_syncookie(sk, ih, sizeof(struct ipv6hdr),
					  (struct tcphdr *)tb, tlen);
	bpf_sk_release(sk);
	if (r < 0) {
		/* -ENOENT: tcp_syncookies is not 2 (set after attach) */
		count(st, XDPSYN_CNT_SYN_NO_SYNCOOKIES);
		return XDP_PASS;
	}
	pkt->kc_given = 1;
	pkt->kc_isn = (__u32)r;
	return SYN_PROXY;
}

/* What the XDP program does with SYNs now: the configured policy, or the
 * auto policy's state PS. */
static __always_inline __u32 policy_now(const struct xdpsyn_config *cfg,
					const struct xdpsyn_policy_state *ps)
{
	if (cfg->policy != XDPSYN_POLICY_AUTO)
		return cfg->policy;
	return ps ? ps->state : XDPSYN_POLICY_PROXY;
}

/* The kernel sent a SYN cookie of its own recently enough that an ACK may
 * still carry one it accepts. */
static __always_inline int kcookie_recent(const struct xdpsyn_policy_state *ps,
					  __u64 now)
{
	return ps && ps->kcookie_ns && now - ps->kcookie_ns <= XDPSYN_KCOOKIE_LIFE_NS;
}

/* An ACK to the listener carries a valid cookie of the kernel's own (its
 * secret, its count, an MSS index it knows). */
static __always_inline int kernel_cookie_check(struct xdp_md *ctx,
					       const struct pkt *pkt,
					       struct tcphdr *th)
{
	void *ip = pkt_ip(pkt, (void *)(long)ctx->data, (void *)(long)ctx->data_end);

	if (!ip)
		return 0;
	if (pkt->family == XDPSYN_V4)
		return bpf_tcp_raw_check_syncookie_ipv4(ip, th) == 0;
	return bpf_tcp_raw_check_syncookie_ipv6(ip, th) == 0;
}

/* ... and the kernel sent cookies recently enough to still accept it. */
static __always_inline int kernel_cookie_ok(struct xdp_md *ctx,
					    const struct pkt *pkt,
					    struct tcphdr *th, __u64 now)
{
	return kcookie_recent(policy_get(), now) &&
	       kernel_cookie_check(ctx, pkt, th);
}

/* A segment of a handshake the kernel answered (its request socket
 * exists): the client's ACK or RST for a tracked record. */
__noinline int xdpsyn_hs_seg(struct xdp_md *ctx, struct pkt *pkt)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct xdpsyn_stats *st = stats_get();
	struct xdpsyn_config *cfg;
	struct tcphdr *th;
	__u32 zero = 0;

	cfg = bpf_map_lookup_elem(&xdpsyn_config, &zero);
	th = pkt_tcp(pkt, data, data_end);
	if (!th)
		return 0;
	switch (hs_client_seg(ctx->ingress_ifindex, cfg, pkt, th)) {
	case XDPSYN_HS_ESTABLISHED:
		count(st, XDPSYN_CNT_TRACK_ESTABLISHED);
		break;
	case XDPSYN_HS_RESET:
		count(st, XDPSYN_CNT_TRACK_RESET);
		break;
	}
	return 0;
}

/* A SYN under the track policy (syn_check decided and stamped pkt->now):
 * record it and pass it to the kernel. A function of its own, called by
 * the entry after xdpsyn_syn returned, so the two stacks are never on top
 * of each other. */
__noinline int xdpsyn_hs_syn(struct xdp_md *ctx, struct pkt *pkt)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct xdpsyn_stats *st = stats_get();
	struct xdpsyn_config *cfg;
	struct tcp_opts o;
	struct tcphdr *th;
	__u32 zero = 0;

	cfg = bpf_map_lookup_elem(&xdpsyn_config, &zero);
	th = pkt_tcp(pkt, data, data_end);
	if (!th || !cfg)
		return XDP_PASS;
	if (tcp_opts_read(ctx, pkt, th, data_end, 1, &o))
		return opts_unreadable(ctx, st, th, data_end);
	if (hs_syn(ctx->ingress_ifindex, pkt, th, &o, pkt->now)) {
		count(st, XDPSYN_CNT_TRACK_SYN);
		top_syn(cfg, pkt->family, pkt->saddr);
	} else {
		count(st, XDPSYN_CNT_TRACK_SYN_RETRANS);
	}
	return XDP_PASS;
}

/* A handshake ACK to the listener without a valid cookie of ours (called
 * by the entry after xdpsyn_ack, which stamped pkt->now): the kernel's own
 * cookie (sent under the track policy, accepted for as long as the kernel
 * accepts it), or under track whatever the kernel makes of it, passes;
 * anything else is dropped. */
__noinline int xdpsyn_ack_other(struct xdp_md *ctx, struct pkt *pkt)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct xdpsyn_stats *st = stats_get();
	struct xdpsyn_config *cfg;
	struct tcphdr *th;
	__u32 zero = 0;
	int kcookie;

	cfg = bpf_map_lookup_elem(&xdpsyn_config, &zero);
	th = pkt_tcp(pkt, data, data_end);
	if (!th || !cfg)
		return ACK_FORGED;
	kcookie = kernel_cookie_ok(ctx, pkt, th, pkt->now);
	if (kcookie || policy_now(cfg, policy_get()) == XDPSYN_POLICY_TRACK) {
		count(st, XDPSYN_CNT_ACK_KERNEL);
		/* only a valid kernel cookie completes a tracked handshake
		 * here; anything else the kernel resets or drops */
		if (kcookie && hs_client_seg(ctx->ingress_ifindex, cfg, pkt, th) ==
			       XDPSYN_HS_ESTABLISHED)
			count(st, XDPSYN_CNT_TRACK_ESTABLISHED);
		return XDP_PASS;
	}
	return ACK_FORGED;
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
	__u64 now;

	cfg = bpf_map_lookup_elem(&xdpsyn_config, &zero);
	if (!pkt)
		return XDP_PASS;
	if (!cfg) {
		count(st, XDPSYN_CNT_CONFIG_MISSING);
		return XDP_PASS;
	}
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
	if (handoff_mode == XDPSYN_HANDOFF_KCOOKIE) {
		/* the kernel's cookie, checked as the kernel will; the
		 * options ride in TSecr's low bits (the MSS is not known) */
		if (!kernel_cookie_check(ctx, pkt, th)) {
			if (policy_now(cfg, policy_get()) != XDPSYN_POLICY_TRACK)
				return ACK_FORGED;
			pkt->now = now;
			return ACK_NOT_OURS;
		}
		count(st, XDPSYN_CNT_ACK_VALID);
		pkt->ck_kc = 1;
		pkt->ck_info = o.ts_ok ? o.tsecr & (XDPSYN_INFO_ECN | XDPSYN_INFO_SACK |
						    XDPSYN_INFO_WS_MASK) :
					 XDPSYN_WSCALE_NONE;
		pkt->ck_prev_key = 0;
		pkt->ck_ts = o.ts_ok;
		pkt->ck_rtt_us = 0;
		pkt->now = now;
		return ACK_VALID;
	}
	cookie_in_fill(&c, pkt, th, bpf_ntohl(th->seq) - 1);
	if (!cookie_check(&k, &c, bpf_ntohl(th->ack_seq) - 1, &o, now, &r)) {
		struct xdpsyn_policy_state *ps = policy_get();

		/* A forged-ACK flood under proxy ends here; only with a recent
		 * kernel cookie or under track is there more to look at. */
		if (!kcookie_recent(ps, now) &&
		    policy_now(cfg, ps) != XDPSYN_POLICY_TRACK)
			return ACK_FORGED;
		pkt->now = now;
		return ACK_NOT_OURS;
	}
	count(st, XDPSYN_CNT_ACK_VALID);
	if (r.prev_key)
		count(st, XDPSYN_CNT_ACK_PREV_KEY);
	pkt->ck_info = r.info;
	pkt->ck_prev_key = r.prev_key;
	pkt->ck_ts = o.ts_ok;
	pkt->ck_rtt_us = r.rtt_us;
	pkt->now = now;
	return ACK_VALID;
}

/* Remember a validated handshake for the rest of its receive batch
 * (burst_segment, and TC's one hand-off). The batch's first valid segment
 * makes the entry; the others (ACK and first data both carry the ISN)
 * leave it, so TC still sees whether it handed the handshake off. */
static __always_inline void handshake_validated(__u32 ifindex,
						const struct pkt *pkt,
						const struct tcphdr *th)
{
	struct xdpsyn_flow_key k = {};
	struct xdpsyn_handoff h = {}, *old;

	flow_key_fill(&k, ifindex, pkt, th);
	h.valid_ns = pkt->now;
	h.isn = bpf_ntohl(th->seq) - 1;
	h.cookie = bpf_ntohl(th->ack_seq) - 1;
	/* a lookup first: an LRU insert that finds the key is dearer */
	old = bpf_map_lookup_elem(&xdpsyn_handoffs, &k);
	if (old && old->isn == h.isn && old->cookie == h.cookie &&
	    h.valid_ns - old->valid_ns < XDPSYN_HANDOFF_DUP_NS)
		return;
	bpf_map_update_elem(&xdpsyn_handoffs, &k, &h, BPF_ANY);
}

/* A handshake ACK whose cookie validated (called by the entry after
 * xdpsyn_ack): write the flow record, pass the ACK to TC's handoff. */
__noinline int xdpsyn_ack_valid(struct xdp_md *ctx, struct pkt *pkt)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct xdpsyn_config *cfg;
	struct tcphdr *th;
	__u32 zero = 0;

	cfg = bpf_map_lookup_elem(&xdpsyn_config, &zero);
	th = pkt_tcp(pkt, data, data_end);
	if (!th || !cfg)
		return XDP_PASS;
	flow_complete(ctx->ingress_ifindex, cfg, pkt, th);
	handshake_validated(ctx->ingress_ifindex, pkt, th);
	return XDP_PASS;
}

/* A segment to the listener whose handshake XDP validated moments ago, in
 * the same receive batch: same tuple, same cookie, data further on than
 * the first segment (whose seq named the ISN). */
static __always_inline int burst_segment(struct xdp_md *ctx, const struct pkt *pkt,
					 const struct tcphdr *th)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct xdpsyn_flow_key k = {};
	struct xdpsyn_handoff *h;
	__u32 off;

	/* only a segment with data can be a batch's later one: a forged-ACK
	 * flood without payload costs no lookup */
	if (!tcp_has_payload(data, data_end, pkt, th))
		return 0;
	flow_key_fill(&k, ctx->ingress_ifindex, pkt, th);
	h = bpf_map_lookup_elem(&xdpsyn_handoffs, &k);
	if (!h || h->cookie != bpf_ntohl(th->ack_seq) - 1)
		return 0;
	/* at the ISN + 1 the cookie itself decides (it failed): only data
	 * further on is the batch's */
	off = bpf_ntohl(th->seq) - (h->isn + 1);
	return off && off < XDPSYN_BURST_SEQ_MAX &&
	       bpf_ktime_get_tai_ns() - h->valid_ns < XDPSYN_HANDOFF_DUP_NS;
}

/* An ACK to a listener that no cookie validates: dropped, unless the frame
 * is not this host's (another MAC, or a destination it forwards, reached
 * through a wildcard listener's lookup) or a later segment of a handshake
 * validated in the same batch: those pass untouched. */
__noinline int xdpsyn_ack_forged(struct xdp_md *ctx, struct pkt *pkt)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct xdpsyn_stats *st = stats_get();
	struct xdpsyn_config *cfg;
	struct tcphdr *th;
	__u32 zero = 0;

	cfg = bpf_map_lookup_elem(&xdpsyn_config, &zero);
	th = pkt_tcp(pkt, data, data_end);
	if (th && cfg &&
	    (l2_not_host(data, data_end, cfg) ||
	     (pkt->wildcard && dest_elsewhere(ctx, pkt, ctx->ingress_ifindex, th, cfg)))) {
		count(st, XDPSYN_CNT_NOT_LOCAL);
		return XDP_PASS;
	}
	if (th && burst_segment(ctx, pkt, th)) {
		count(st, XDPSYN_CNT_ACK_BURST);
		return XDP_PASS;
	}
	count(st, XDPSYN_CNT_ACK_INVALID);
	return XDP_DROP;
}

/* The outermost VLAN tag from receive metadata into PKT (VLAN_META, a
 * constant, selects the entry that reads it). 0, or -1 when the driver
 * cannot tell whether there was one. */
static __always_inline int vlan_meta_read(struct xdp_md *ctx, struct pkt *pkt,
					  const int vlan_meta)
{
	__be16 proto = 0;
	__u16 tci = 0;
	int err;

	if (!vlan_meta)
		return 0;
	err = bpf_xdp_metadata_rx_vlan_tag(ctx, &proto, &tci);
	if (err == -ENODATA) /* not tagged, or the tag is in the frame */
		return 0;
	if (err)
		return -1;
	pkt->vlan_meta = 1;
	pkt->vlan = tci;
	pkt->vlan_proto = proto;
	return 0;
}

/* Both entries: VLAN_META reads offloaded tags (xdpsyn_xdp_vlan). */
static __always_inline int xdpsyn_run(struct xdp_md *ctx, const int vlan_meta)
{
	struct xdpsyn_stats *st = stats_get();
	struct bpf_sock_tuple tuple = {};
	struct bpf_sock *sk;
	struct pkt pkt = {};
	struct tcphdr *th;
	__u32 tsize;
	__u8 flags;
	int ret;

	ret = tcp_to_protected(ctx, st, &pkt, &th, &flags);
	if (ret >= 0)
		return ret;
	if (flags & TCPF_SYN && !(flags & TCPF_ACK)) {
		/* never answer a SYN whose tag the reply would lose */
		if (vlan_meta_read(ctx, &pkt, vlan_meta)) {
			count(st, XDPSYN_CNT_SYN_VLAN_UNKNOWN);
			return XDP_PASS;
		}
		ret = xdpsyn_syn_check(ctx, &pkt);
		if (ret == SYN_KCOOKIE)
			ret = xdpsyn_syn_kc(ctx, &pkt);
		if (ret == SYN_PROXY)
			return xdpsyn_synack(ctx, &pkt);
		if (ret == SYN_TRACK)
			return xdpsyn_hs_syn(ctx, &pkt);
		return ret;
	}

	tuple_fill(&tuple, &tsize, &pkt, th);
	sk = bpf_skc_lookup_tcp(ctx, &tuple, tsize, BPF_F_CURRENT_NETNS, 0);
	if (!sk) {
		count(st, XDPSYN_CNT_NO_SOCKET);
		return XDP_PASS;
	}
	if (sk->state != BPF_TCP_LISTEN) {
		__u32 state = sk->state;

		bpf_sk_release(sk);
		count(st, XDPSYN_CNT_ESTABLISHED);
		if (state == BPF_TCP_NEW_SYN_RECV)
			xdpsyn_hs_seg(ctx, &pkt);
		return XDP_PASS;
	}
	pkt.wildcard = listener_wildcard(sk, pkt.family);
	bpf_sk_release(sk);
	if ((flags & (TCPF_ACK | TCPF_SYN | TCPF_RST)) != TCPF_ACK) {
		count(st, XDPSYN_CNT_LISTENER_OTHER);
		return XDP_PASS;
	}
	vlan_meta_read(ctx, &pkt, vlan_meta); /* for the flow record */
	ret = xdpsyn_ack(ctx, &pkt);
	if (ret == ACK_VALID)
		return xdpsyn_ack_valid(ctx, &pkt);
	if (ret == ACK_NOT_OURS)
		ret = xdpsyn_ack_other(ctx, &pkt);
	if (ret == ACK_FORGED)
		return xdpsyn_ack_forged(ctx, &pkt);
	return ret;
}

/* Multi-buffer aware (xdp.frags): native XDP at any MTU the driver allows;
 * headers are read in the first buffer, SYN payload is cut. */
SEC("xdp.frags")
int xdpsyn_xdp(struct xdp_md *ctx)
{
	return xdpsyn_run(ctx, 0);
}

/* The same for generic mode, single-buffer: there the kernel hands a
 * multi-buffer program's frames to TC ingress without their Ethernet
 * header (seen on 6.18), and the hand-off would never see the final ACK;
 * generic XDP needs no frags at any MTU (it runs on the skb). */
SEC("xdp")
int xdpsyn_xdp_skb(struct xdp_md *ctx)
{
	return xdpsyn_run(ctx, 0);
}

/* The same, bound to the device to read offloaded VLAN tags (attach
 * loads it instead of xdpsyn_xdp when the interface strips tags on
 * receive and the kernel has the kfunc). */
SEC("xdp.frags")
int xdpsyn_xdp_vlan(struct xdp_md *ctx)
{
	return xdpsyn_run(ctx, 1);
}
