// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* xdpsyn TC programs.
 *
 * Ingress: hand a handshake whose final ACK carries a
 * valid cookie to its listener as a request socket (bpf_sk_assign_tcp_reqsk,
 * kernel >= 6.9), with the options the cookie recorded. XDP already dropped
 * invalid ACKs; the cookie is checked again here so the handoff never rests
 * on the XDP program alone; this program never drops (XDP decides). The
 * other segments of a batch that carried the final ACK (its data) are not
 * handed off again: they reach the connection the first one makes.
 * Any other packet passes untouched.
 *
 * Egress: watch the kernel's own SYN-ACKs and RSTs from protected ports to
 * advance the handshakes the track policy records, and notice when the
 * kernel answers with its own SYN cookies (its SYN queue is full). Never
 * changes or drops a packet. */
#define XDPSYN_LOAD_BYTES bpf_skb_load_bytes
#include "defs.h"
#include "parse.h"
#include "cookie.h"
#include "synack.h"
#include "maps.h"
#include "top.h"
#include "flows.h"
#include "handshakes.h"
#include "host.h"

/* Every verdict of both programs: "continue" (TC_ACT_UNSPEC, which is
 * TCX_NEXT under tcx), so the programs and filters after xdpsyn's still
 * see every packet; the kernel takes it when the chain ends. */
#define TC_NEXT -1
/* xdpsyn_tc_ack's answer after a hand-off (xdpsyn_tc_handed follows). */
#define HANDED_OFF 0x200

char LICENSE[] SEC("license") = "Dual BSD/GPL";

/* Weak: kernels before 6.9 lack it; the loader then does not load
 * xdpsyn_tc (the kernel-cookie hand-off needs no TC ingress program) and
 * the object loads all the same. */
extern int bpf_sk_assign_tcp_reqsk(struct __sk_buff *skb, struct sock *sk,
				   struct bpf_tcp_req_attrs *attrs,
				   int attrs__sz) __weak __ksym;

/* Failures of bpf_sk_assign_tcp_reqsk, per errno (per-CPU, index = -err,
 * clamped to XDPSYN_ERRNO_SLOTS - 1). */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, XDPSYN_ERRNO_SLOTS);
	__type(key, __u32);
	__type(value, __u64);
} xdpsyn_handoff_err SEC(".maps");

static __always_inline void count_errno(int err)
{
	__u32 slot = err < 0 ? -err : err;
	__u64 *v;

	if (slot >= XDPSYN_ERRNO_SLOTS)
		slot = XDPSYN_ERRNO_SLOTS - 1;
	v = bpf_map_lookup_elem(&xdpsyn_handoff_err, &slot);
	if (v)
		(*v)++;
}

/* The XDP program wrote the flow's record when its cookie validated: mark
 * the handoff's outcome and announce the completed handshake. */
static __always_inline void flow_handed_off(struct __sk_buff *skb,
					    const struct pkt *pkt,
					    const struct tcphdr *th, int ok)
{
	struct xdpsyn_flow_key k = {};
	struct xdpsyn_flow_event *ev;
	struct xdpsyn_flow *f;

	flow_key_fill(&k, skb->ingress_ifindex, pkt, th);
	f = bpf_map_lookup_elem(&xdpsyn_flows, &k);
	if (!f)
		return;
	if (ok)
		f->flags |= XDPSYN_FLOW_HANDOFF;
	ev = bpf_ringbuf_reserve(&xdpsyn_events, sizeof(*ev), 0);
	if (!ev)
		return;
	ev->key = k;
	ev->flow = *f;
	bpf_ringbuf_submit(ev, 0);
}

/* One hand-off per handshake: another segment of one handed off in this
 * receive batch (TC runs on the whole batch before TCP sees the first; XDP
 * passed its later data) goes to the kernel as is, and finds the new
 * connection. 1 for such a segment. */
__noinline int xdpsyn_tc_dup(struct __sk_buff *skb, struct pkt *pkt)
{
	void *data = (void *)(long)skb->data;
	void *data_end = (void *)(long)skb->data_end;
	struct xdpsyn_flow_key hk = {};
	struct xdpsyn_handoff *ho;
	struct tcphdr *th;

	th = pkt_tcp(pkt, data, data_end);
	if (!th)
		return 0;
	flow_key_fill(&hk, skb->ingress_ifindex, pkt, th);
	ho = bpf_map_lookup_elem(&xdpsyn_handoffs, &hk);
	if (!ho || !ho->handed_ns || ho->cookie != bpf_ntohl(th->ack_seq) - 1 ||
	    bpf_ktime_get_tai_ns() - ho->handed_ns >= XDPSYN_HANDOFF_DUP_NS)
		return 0;
	count(stats_get(), XDPSYN_CNT_HANDOFF_DUP);
	return 1;
}

/* Global: verified once, whatever header layout the caller parsed. */
__noinline int xdpsyn_tc_ack(struct __sk_buff *skb, struct pkt *pkt)
{
	void *data = (void *)(long)skb->data;
	void *data_end = (void *)(long)skb->data_end;
	struct xdpsyn_stats *st = stats_get();
	struct bpf_tcp_req_attrs attrs = {};
	struct listener_view lv;
	__u64 now;
	struct bpf_sock_tuple tuple = {};
	struct cookie_result r = {};
	struct xdpsyn_config *cfg;
	struct cookie_keys k;
	struct cookie_in c;
	struct tcp_opts o;
	struct bpf_sock *sk;
	struct tcp_sock *tp;
	struct tcphdr *th;
	__u32 zero = 0, tsize;
	__u8 ws;
	int err;

	cfg = bpf_map_lookup_elem(&xdpsyn_config, &zero);
	th = pkt_tcp(pkt, data, data_end);
	if (!th || !cfg)
		return TC_NEXT;
	if (tcp_opts_read(skb, pkt, th, data_end, 0, &o))
		return TC_NEXT;

	tuple_fill(&tuple, &tsize, pkt, th);

	if (keys_get(cfg, &k))
		return TC_NEXT;
	cookie_in_fill(&c, pkt, th, bpf_ntohl(th->seq) - 1);

	/* Any socket of the tuple: a request socket of the kernel's own (a
	 * SYN it answered itself, e.g. under the track policy) or an
	 * established one means this is not ours to hand off; only the
	 * listener itself is. */
	sk = bpf_skc_lookup_tcp(skb, &tuple, tsize, BPF_F_CURRENT_NETNS, 0);
	if (!sk)
		return TC_NEXT;
	if (sk->state != BPF_TCP_LISTEN) {
		bpf_sk_release(sk);
		return TC_NEXT;
	}
	now = bpf_ktime_get_tai_ns();
	if (!cookie_check(&k, &c, bpf_ntohl(th->ack_seq) - 1, &o, now, &r)) {
		bpf_sk_release(sk);
		count(st, XDPSYN_CNT_HANDOFF_INVALID);
		return TC_NEXT;
	}
	/* the kfunc wants the listener as a full socket */
	tp = bpf_skc_to_tcp_sock(sk);
	if (!tp) {
		bpf_sk_release(sk);
		return TC_NEXT;
	}
	/* The kernel accepts a handed-off request only while tcp_syncookies
	 * is set: without it, it would reset the connection anyway. */
	listener_read(tp, &lv);
	if (!lv.syncookies) {
		bpf_sk_release(sk);
		count(st, XDPSYN_CNT_HANDOFF_NO_SYNCOOKIES);
		return TC_NEXT;
	}

	ws = r.info & XDPSYN_INFO_WS_MASK;
	attrs.mss = mss_value(pkt->family, r.info >> XDPSYN_INFO_MSS_SHIFT,
			      cfg->mss[XDPSYN_V4]);
	if (ws != XDPSYN_WSCALE_NONE) {
		attrs.wscale_ok = 1;
		attrs.snd_wscale = ws;
		attrs.rcv_wscale = cfg->wscale > XDPSYN_WSCALE_MAX ?
				   XDPSYN_WSCALE_MAX : cfg->wscale;
	}
	attrs.sack_ok = !!(r.info & XDPSYN_INFO_SACK);
	attrs.ecn_ok = !!(r.info & XDPSYN_INFO_ECN);
	if (o.ts_ok) {
		attrs.tstamp_ok = 1;
		attrs.rcv_tsval = o.tsval;
		attrs.rcv_tsecr = o.tsecr;
	}
	err = bpf_sk_assign_tcp_reqsk(skb, (struct sock *)tp, &attrs, sizeof(attrs));
	bpf_sk_release(sk);
	if (err) {
		count(st, XDPSYN_CNT_HANDOFF_ERR);
		count_errno(err);
		flow_handed_off(skb, pkt, th, 0);
		return TC_NEXT;
	}
	count(st, XDPSYN_CNT_HANDOFF_OK);
	pkt->now = now;
	return HANDED_OFF;
}

/* After a hand-off (xdpsyn_tc_ack said HANDED_OFF; a function of its own
 * for the stack): mark it in the handshake's entry, for the rest of its
 * receive batch, and announce the completed handshake. */
__noinline int xdpsyn_tc_handed(struct __sk_buff *skb, struct pkt *pkt)
{
	void *data = (void *)(long)skb->data;
	void *data_end = (void *)(long)skb->data_end;
	struct xdpsyn_flow_key hk = {};
	struct xdpsyn_handoff h = {}, *ho;
	struct tcphdr *th;

	th = pkt_tcp(pkt, data, data_end);
	if (!th)
		return TC_NEXT;
	flow_key_fill(&hk, skb->ingress_ifindex, pkt, th);
	h.valid_ns = pkt->now;
	h.handed_ns = pkt->now;
	h.isn = bpf_ntohl(th->seq) - 1;
	h.cookie = bpf_ntohl(th->ack_seq) - 1;
	ho = bpf_map_lookup_elem(&xdpsyn_handoffs, &hk);
	if (ho && ho->cookie == h.cookie) { /* XDP's entry */
		ho->isn = h.isn;
		ho->handed_ns = h.handed_ns;
	} else {
		bpf_map_update_elem(&xdpsyn_handoffs, &hk, &h, BPF_ANY);
	}
	flow_handed_off(skb, pkt, th, 1);
	return TC_NEXT;
}

SEC("tc")
int xdpsyn_tc(struct __sk_buff *skb)
{
	void *data = (void *)(long)skb->data;
	void *data_end = (void *)(long)skb->data_end;
	struct pkt pkt = {};
	struct tcphdr *th;
	__u8 flags;

	if (parse_pkt(skb, data, data_end, &pkt) != PARSE_TCP)
		return TC_NEXT;
	th = data + pkt.l4_off;
	if ((void *)(th + 1) > data_end)
		return TC_NEXT;
	flags = tcp_flags(th);
	if ((flags & (TCPF_ACK | TCPF_SYN | TCPF_RST)) != TCPF_ACK)
		return TC_NEXT;
	if (!port_protected(pkt.family, th->dest))
		return TC_NEXT;
	if (xdpsyn_tc_dup(skb, &pkt))
		return TC_NEXT;
	if (xdpsyn_tc_ack(skb, &pkt) == HANDED_OFF)
		return xdpsyn_tc_handed(skb, &pkt);
	return TC_NEXT;
}

/* Egress: a SYN-ACK or RST the kernel sends from a protected port. */
__noinline int xdpsyn_tc_out(struct __sk_buff *skb, struct pkt *pkt)
{
	void *data = (void *)(long)skb->data;
	void *data_end = (void *)(long)skb->data_end;
	struct xdpsyn_stats *st = stats_get();
	struct xdpsyn_flow_key k = {};
	struct xdpsyn_flow *f;
	struct tcp_opts o;
	struct tcphdr *th;
	__u64 now;
	__u8 fl;
	int kcookie;

	th = pkt_tcp(pkt, data, data_end);
	if (!th)
		return TC_NEXT;
	fl = tcp_flags(th);

	/* The record is keyed by the client's tuple as it arrives. */
	k.ifindex = skb->ifindex;
	k.family = pkt->family;
	__builtin_memcpy(k.saddr, pkt->daddr, sizeof(k.saddr));
	__builtin_memcpy(k.daddr, pkt->saddr, sizeof(k.daddr));
	k.sport = th->dest;
	k.dport = th->source;

	now = bpf_ktime_get_tai_ns();
	if (fl & TCPF_RST) {
		f = bpf_map_lookup_elem(&xdpsyn_hs, &k);
		if (f && (f->state == XDPSYN_HS_SYN || f->state == XDPSYN_HS_SYNACK)) {
			f->state = XDPSYN_HS_RESET;
			f->time_ns = now;
			count(st, XDPSYN_CNT_TRACK_RESET);
		}
		return TC_NEXT;
	}

	/* A SYN-ACK the kernel sends for a request socket carries that
	 * socket; one made as a SYN cookie carries none (tcp_make_synack). */
	kcookie = !skb->sk;
	if (kcookie) {
		struct xdpsyn_policy_state *ps = policy_get();

		if (ps)
			ps->kcookie_ns = now;
		count(st, XDPSYN_CNT_KERNEL_COOKIE);
	}
	f = bpf_map_lookup_elem(&xdpsyn_hs, &k);
	if (!f)
		return TC_NEXT;
	if (f->state == XDPSYN_HS_SYNACK) {
		if (f->synack_retrans < 255)
			f->synack_retrans++;
		f->last_ns = now;
		f->time_ns = now;
		count(st, XDPSYN_CNT_TRACK_SYNACK_RETRANS);
		return TC_NEXT;
	}
	if (f->state != XDPSYN_HS_SYN)
		return TC_NEXT;
	if (tcp_opts_read(skb, pkt, th, data_end, 0, &o)) {
		/* The kernel's own header: not expected; record no options. */
		__builtin_memset(&o, 0, sizeof(o));
		o.wscale = XDPSYN_WSCALE_NONE;
	}
	f->srv_ns = clamp_u32(now - f->last_ns);
	f->last_ns = now;
	f->time_ns = now;
	f->srv_mss = o.mss;
	f->rcv_wscale = o.wscale;
	f->srv_flags = opts_flags(&o, fl & TCPF_ECE) |
		       (kcookie ? XDPSYN_FLOW_KCOOKIE : 0);
	f->state = XDPSYN_HS_SYNACK;
	count(st, XDPSYN_CNT_TRACK_SYNACK);
	return TC_NEXT;
}

SEC("tc")
int xdpsyn_tc_egress(struct __sk_buff *skb)
{
	void *data = (void *)(long)skb->data;
	void *data_end = (void *)(long)skb->data_end;
	struct pkt pkt = {};
	struct tcphdr *th;
	__u8 flags;

	if (parse_pkt(skb, data, data_end, &pkt) != PARSE_TCP)
		return TC_NEXT;
	th = data + pkt.l4_off;
	if ((void *)(th + 1) > data_end)
		return TC_NEXT;
	flags = tcp_flags(th);
	if ((flags & (TCPF_SYN | TCPF_ACK)) != (TCPF_SYN | TCPF_ACK) &&
	    !(flags & TCPF_RST))
		return TC_NEXT;
	if (!port_protected(pkt.family, th->source))
		return TC_NEXT;
	return xdpsyn_tc_out(skb, &pkt);
}
