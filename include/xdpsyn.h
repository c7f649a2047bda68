/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * xdpsyn: definitions shared by the BPF programs and userspace.
 *
 * Only fixed-width kernel types (__u8 ... __u64, __be16, __be32) appear here,
 * so the layout is identical on both sides. The BPF side includes vmlinux.h
 * before this file; userspace gets the types from <linux/types.h>.
 */
#ifndef XDPSYN_H
#define XDPSYN_H

#ifndef __VMLINUX_H__
#include <linux/types.h>
#include <linux/bpf.h> /* struct bpf_timer */
#endif

/* Address families, used as map keys and in records. */
enum xdpsyn_family {
	XDPSYN_V4 = 0,
	XDPSYN_V6 = 1,
	XDPSYN_NFAMILIES = 2,
};

/*
 * Counters: one per-CPU slot per verdict and reason. X(NAME, help) keeps the
 * enum and the names userspace prints in one list. Append only: the index is
 * the on-map layout of pinned maps.
 */
#define XDPSYN_COUNTERS(X)                                                     \
	X(RX, "frames seen by the XDP program")                                \
	X(NOT_IP, "not IPv4/IPv6 (ARP, other ethertypes, >2 VLAN tags): passed") \
	X(NOT_TCP, "IP but not TCP (UDP, ICMP, ...): passed")                  \
	X(FRAGMENT, "non-first IP fragment: passed")                           \
	X(MALFORMED, "truncated or inconsistent L3/L4 header or TCP option: dropped") \
	X(UNPROTECTED, "TCP to a port that is not protected: passed")          \
	X(SYN, "SYN to a protected port")                                      \
	X(SYNACK_TX, "SYN-ACK with a cookie sent back (XDP_TX)")               \
	X(SYN_BAD_FLAGS, "SYN with FIN or RST to a protected port: dropped")   \
	X(TX_ERROR, "SYN-ACK could not be built (frame resize failed): dropped") \
	X(ESTABLISHED, "segment of an existing connection (non-listener socket): passed") \
	X(NO_SOCKET, "no socket for a protected port: passed (the kernel resets)") \
	X(LISTENER_OTHER, "non-ACK segment (RST, SYN-ACK) to a listener: passed") \
	X(ACK_VALID, "handshake ACK with a valid cookie: passed")              \
	X(ACK_INVALID, "handshake ACK with an invalid or expired cookie: dropped") \
	X(ACK_PREV_KEY, "valid cookie made with the previous key (after rotation)") \
	X(CONFIG_MISSING, "config or port map not readable: passed")           \
	X(HANDOFF_OK, "TC: request socket handed to the listener")             \
	X(HANDOFF_INVALID, "TC: ACK to the listener without a valid cookie of ours (the kernel's own cookie, or under track): passed")      \
	X(HANDOFF_ERR, "TC: bpf_sk_assign_tcp_reqsk failed: passed")          \
	X(TRACK_SYN, "track: SYN of a new handshake passed to the kernel")     \
	X(TRACK_SYN_RETRANS, "track: retransmitted SYN passed to the kernel")  \
	X(TRACK_SYNACK, "TC egress: the kernel's SYN-ACK to a tracked SYN")    \
	X(TRACK_SYNACK_RETRANS, "TC egress: the kernel retransmitted a SYN-ACK") \
	X(TRACK_ESTABLISHED, "track: the client's ACK reached the kernel's request socket") \
	X(TRACK_RESET, "track: handshake reset by the client or the kernel")   \
	X(KERNEL_COOKIE, "TC egress: the kernel answered a SYN with its own cookie (SYN queue full)") \
	X(ACK_KERNEL, "handshake ACK without our cookie, passed to the kernel (track policy, or the kernel's own cookie)") \
	X(POLICY_TO_PROXY, "auto: switched to answering SYNs with cookies")    \
	X(POLICY_TO_TRACK, "auto: switched back to tracking (rate calm)")   \
	X(SYN_NOT_HOST, "SYN to a broadcast, multicast or other host's address (L2 or L3): passed, never answered") \
	X(SYN_MARTIAN, "SYN from a martian source (0/8, 127/8, multicast, ::1, v4-mapped, its own destination): dropped, never answered") \
	X(NOT_LOCAL, "TCP to a protected port that is not for this host (another or a group MAC, or an address it forwards, e.g. to a container): passed untouched") \
	X(SYN_SOCKET, "SYN for a tuple a socket holds (time-wait, established, request): passed to the kernel") \
	X(SYN_NO_LISTENER, "SYN to a protected port with no listener: passed (the kernel resets)") \
	X(SYN_MPTCP, "SYN to an MPTCP listener: passed to the kernel (its own SYN cookies protect it)") \
	X(SYN_NO_SYNCOOKIES, "SYN passed to the kernel unanswered: net.ipv4.tcp_syncookies is 0 (not 2, with the kernel-cookie hand-off), the hand-off cannot work") \
	X(SYN_OPT_OFF, "SYN-ACK without an option the client offered: the server's sysctl turns it off (tcp_timestamps, tcp_sack, tcp_window_scaling, tcp_ecn)") \
	X(HANDOFF_DUP, "TC: another segment of a handshake just handed off (ACK and data in one batch): passed to the connection the first one makes") \
	X(HANDOFF_NO_SYNCOOKIES, "TC: valid cookie but net.ipv4.tcp_syncookies is 0 now: not handed off (the kernel resets it)") \
	X(ACK_BURST, "data segment of a handshake validated in the same receive batch (its seq no longer names the ISN): passed") \
	X(MULTIBUF_PASS, "multi-buffer frame (jumbo MTU) whose first buffer ends inside its headers (a header split), or a SYN whose SYN-ACK would not fit it: passed to the kernel") \
	X(SYN_VLAN_UNKNOWN, "SYN whose offloaded VLAN tag the driver could not report (bpf_xdp_metadata_rx_vlan_tag): passed to the kernel, never answered untagged") \
	X(GW_NOT_SERVER, "gateway: TCP to a protected port of an address not behind the gateway (not in --servers, or not routed out IFACE_S): passed untouched") \
	X(GW_CONN_NEW, "gateway: valid final ACK: state made, the client's SYN sent on to the server") \
	X(GW_TABLE_FULL, "gateway: valid final ACK but the state table is full: dropped (the client's next probe retries)") \
	X(GW_SYN_RETRANS, "gateway: the client's SYN sent to the server again (a repeated ACK or a window probe while the server had not answered)") \
	X(GW_SERVER_SYNACK, "gateway: server SYN-ACK spliced: ACK to the server, window opened to the client") \
	X(GW_SERVER_SYNACK_DUP, "gateway: the server repeated its SYN-ACK: ACKed again, not forwarded") \
	X(GW_SERVER_REFUSED, "gateway: the server answered the SYN with RST (no listener): reset sent to the client") \
	X(GW_C2S, "gateway: client-to-server segment translated and forwarded") \
	X(GW_S2C, "gateway: server-to-client segment translated and forwarded") \
	X(GW_C2S_NO_STATE, "gateway: client segment (no SYN) to a protected server without state and without a valid cookie: dropped") \
	X(GW_S2C_NO_STATE, "gateway: server segment without state: passed untouched (a connection older than the attach, or one whose state expired)") \
	X(GW_ADOPTED, "gateway: a connection older than the attach, confirmed by a segment from its server within --gw-adopt seconds of it: state made with nothing to translate") \
	X(GW_CLOSED, "gateway: state closed by FIN in both directions or RST (removed after gw-close seconds)") \
	X(GW_EXPIRED, "gateway: state removed after being idle for gw-idle seconds (or gw-close after closing)") \
	X(GW_SYNACK_TIMEOUT, "gateway: no SYN-ACK from the server within gw-syn-timeout seconds of our SYN: the server is down, or its replies do not cross this gateway (asymmetric routing)") \
	X(GW_ONE_WAY, "gateway: connection ended having carried segments in one direction only: its other direction does not cross this gateway (asymmetric routing)") \
	X(GW_WS_TRANSLATED, "gateway: connection whose window scale differs between client and server: windows translated") \
	X(GW_OPT_TS_LOST, "gateway: the client was told timestamps but the server refused them: the client's go on, the server's are missing (learned for the next connection)") \
	X(GW_OPT_SACK_LOST, "gateway: the client was told SACK but the server refused it: the server ignores the client's SACK blocks (learned for the next connection)") \
	X(GW_FORWARD_FIB, "gateway: translated segment sent with bpf_fib_lookup and XDP_REDIRECT") \
	X(GW_FORWARD_KERNEL, "gateway: translated segment passed to the kernel's forwarding (no neighbour yet, or a route XDP cannot use)") \
	X(GW_ADOPT_PASS, "gateway: client segment without state within --gw-adopt seconds of the attach: passed untouched (adopted once its server answers)")

#define XDPSYN_CNT_ENUM(name, help) XDPSYN_CNT_##name,
enum xdpsyn_counter {
	XDPSYN_COUNTERS(XDPSYN_CNT_ENUM)
	XDPSYN_CNT_MAX
};
#undef XDPSYN_CNT_ENUM

/* Value of the per-CPU counter map (a single slot, key 0). */
struct xdpsyn_stats {
	__u64 cnt[XDPSYN_CNT_MAX];
};

/* Slots of the per-CPU map of bpf_sk_assign_tcp_reqsk failures, by errno. */
#define XDPSYN_ERRNO_SLOTS 64

/* xdpsyn_config.flags */
#define XDPSYN_CFG_LOCAL_ADDRS 0x1 /* xdpsyn_local_addrs holds the netns's
				    * addresses (attach filled it) */

/* The addresses of the interface's network namespace (attach, and `set
 * addresses=refresh`). Asked only where the FIB cannot tell: on a host that
 * does not forward, a SYN through a wildcard listener for an address not
 * in the set is not this host's (the kernel would drop it). */
#define XDPSYN_LOCAL_ADDRS_MAX 4096
struct xdpsyn_addr {
	__u8 family;  /* enum xdpsyn_family */
	__u8 pad[3];
	__be32 addr[4]; /* IPv4 in [0] */
};

/* Protected ports: 65536 bits per family; key = enum xdpsyn_family. */
#define XDPSYN_PORT_WORDS (65536 / 64)
struct xdpsyn_ports {
	__u64 bits[XDPSYN_PORT_WORDS];
};

/* Cookie key: SipHash-2-4 128-bit key as two little-endian 64-bit halves. */
struct xdpsyn_key {
	__u64 k0;
	__u64 k1;
};
#define XDPSYN_KEY_SLOTS 2

/*
 * Live settings (array map, one slot). Changed by `xdpsyn set` while the
 * program runs; each field is read once per packet.
 */
struct xdpsyn_config {
	__u16 mss[XDPSYN_NFAMILIES]; /* MSS we offer, per family (cap) */
	__u16 window;                /* SYN-ACK window, unscaled, never 0 */
	__u8 wscale;                 /* our window scale, 0..14 */
	__u8 ttl;                    /* IPv4 TTL and IPv6 hop limit */
	__u8 ecn;                    /* 1: agree to ECN when the SYN asks */
	__u8 key_cur;                /* slot of the current key (0 or 1) */
	__u8 top_plen4;              /* top sources: IPv4 prefix length (0 = 24) */
	__u8 top_plen6;              /* top sources: IPv6 prefix length (0 = 64) */
	__u32 key_prev_until;        /* previous key accepted while the
	                              * cookie counter is <= this value */
	__u32 flags;                 /* XDPSYN_CFG_* */
	__u8 mac[6];                 /* the interface's MAC, set by attach: a
	                              * SYN to another unicast MAC (bridge
	                              * port, promiscuous NIC) is not ours;
	                              * all zero: not checked */
	__u8 pad0[2];
	/* Policy (enum xdpsyn_policy) and the auto policy's thresholds. */
	__u8 policy;
	__u8 pad[3];
	__u32 syn_rate;              /* auto: SYNs/s that switch to proxy */
	__u32 calm_s;                /* auto: seconds below syn_rate / 2 to
	                              * switch back to track */
	__u32 hs_timeout_s;          /* track: an incomplete handshake older
	                              * than this is shown as timed out */
	__u64 rate_hi;               /* syn_rate as a window sum:
	                              * xdpsyn_rate_threshold(syn_rate) */
	__u64 rate_hi_cpu;           /* rate_hi / CPUs: a CPU whose own sum
	                              * reaches this adds up all CPUs */
	__u64 rate_lo;               /* rate_hi / 2 */
	__u64 calm_ns;               /* calm_s in ns */
	/* Gateway mode (attach --gateway; zero in local mode). */
	__u32 gw_ifindex;            /* IFACE_S: the servers' side */
	__u32 gw_ifindex_c;          /* IFACE_C: the clients' side */
	__u32 gw_idle_s;             /* idle state removed after this */
	__u32 gw_close_s;            /* closed state removed after this */
	__u32 gw_syn_timeout_s;      /* no server SYN-ACK after this: removed */
	__u32 gw_flags;              /* XDPSYN_GWCFG_* */
	__u64 gw_adopt_until_ns;     /* CLOCK_MONOTONIC: until then a segment
	                              * without state is an older connection's */
	__u32 gw_forward;            /* enum xdpsyn_gw_forward */
	__u32 gw_pad;
};

/* How gateway mode sends a translated segment on (attach/set gw-forward).
 * XDP: bpf_fib_lookup + XDP_REDIRECT where the route is plain, else the
 * kernel; KERNEL: always the kernel's forwarding (its firewall sees
 * every segment). */
enum xdpsyn_gw_forward {
	XDPSYN_GW_FORWARD_XDP = 0,
	XDPSYN_GW_FORWARD_KERNEL = 1,
};

/* xdpsyn_config.gw_flags */
#define XDPSYN_GWCFG_ON 0x1          /* gateway mode */
#define XDPSYN_GWCFG_PREFIXES 0x2    /* xdpsyn_gw_prefixes lists the servers
				      * (else: what routes out gw_ifindex) */
#define XDPSYN_GWCFG_VETH 0x8        /* an interface is virtual (veth):
				      * frames may carry a checksum left to
				      * offload (gw_csum_partial) */


/*
 * Policies. proxy: answer every SYN to a protected port with a cookie (XDP).
 * track: pass SYNs and ACKs to the kernel and record each handshake's
 * states (the TC egress program sees the kernel's SYN-ACKs). auto: track
 * until the SYN rate reaches syn_rate or the kernel sends its own cookies,
 * then proxy until the rate stays below syn_rate / 2 for calm_s.
 * In every policy an ACK carrying a cookie we issued validates for the
 * cookie's lifetime, and a handshake the kernel began completes.
 */
enum xdpsyn_policy {
	XDPSYN_POLICY_PROXY = 0,
	XDPSYN_POLICY_TRACK = 1,
	XDPSYN_POLICY_AUTO = 2,
};

/*
 * How a validated handshake reaches the listener (a load-time constant of
 * the XDP program, chosen by attach --handoff).
 * REQSK: our own SipHash cookie; the TC ingress program hands the final
 * ACK to the listener with bpf_sk_assign_tcp_reqsk (kernel >= 6.9), with
 * every option the client offered.
 * KCOOKIE: the kernel's own SYN cookie (bpf_tcp_gen_syncookie, which also
 * marks the listener as having sent cookies); the kernel itself creates
 * the connection from the final ACK, which XDP checks with the kernel's
 * own check first (kernel >= 6.1; needs net.ipv4.tcp_syncookies = 2). It
 * keeps what the kernel's cookies keep: the MSS, and window scale, SACK
 * and ECN only when the client sends timestamps and
 * net.ipv4.tcp_timestamps = 2 (the options ride in the low 6 bits of
 * TSval, which the kernel reads back from TSecr minus its per-connection
 * offset, 0 only then).
 */
enum xdpsyn_handoff_mode {
	XDPSYN_HANDOFF_REQSK = 0,
	XDPSYN_HANDOFF_KCOOKIE = 1,
};
/* The kernel's SYN cookie TSval (net/ipv4/syncookies.c): its TCP clock in
 * ms (CLOCK_MONOTONIC) with the low 6 bits replaced by the options. */
#define XDPSYN_KC_TSBITS 6
#define XDPSYN_KC_WSCALE_MASK 0x0f
#define XDPSYN_KC_SACK 0x10
#define XDPSYN_KC_ECN 0x20

/* Why the policy state last changed (struct xdpsyn_policy_state.reason). */
enum xdpsyn_switch_reason {
	XDPSYN_SWITCH_SET = 0,       /* attach or `xdpsyn set policy=` */
	XDPSYN_SWITCH_RATE = 1,      /* SYN rate reached syn_rate */
	XDPSYN_SWITCH_KCOOKIE = 2,   /* the kernel sent its own SYN cookies */
	XDPSYN_SWITCH_CALM = 3,      /* rate below syn_rate / 2 for calm_s */
};

/*
 * SYN rate (auto policy), per CPU: SYNs counted in windows of
 * 2^XDPSYN_RATE_WIN_SHIFT ns (268 ms). The rate over the last window is
 * estimated as cur + prev * (time left of the current window) / window,
 * kept scaled by the window length so no division is needed:
 * sum = cur * W + prev * (W - offset), in SYN·ns; SYN/s = sum * 1e9 / W^2.
 */
#define XDPSYN_RATE_WIN_SHIFT 28
#define XDPSYN_RATE_WIN_NS (1ULL << XDPSYN_RATE_WIN_SHIFT)
/* The auto policy's timer re-checks the rate this often while in proxy. */
#define XDPSYN_POLICY_TICK_NS (XDPSYN_RATE_WIN_NS / 2)
/* A kernel cookie seen this recently switches auto to proxy; kernel
 * cookies are checked in XDP for this long after the last one was sent
 * (the kernel accepts them for up to two 64 s periods). */
#define XDPSYN_KCOOKIE_TRIGGER_NS 1000000000ULL
#define XDPSYN_KCOOKIE_LIFE_NS (130ULL * 1000000000ULL)
#define XDPSYN_MAX_CPUS 1024
/* A receive batch (NAPI, GRO, a NIC's interrupt coalescing) can hold a
 * handshake's final ACK and several data segments: XDP sees them all, then
 * TC sees them all, before TCP has made the connection from the first.
 * For this long after XDP validated a handshake (or TC handed it off), its
 * other segments (same tuple, same cookie, data further on) are the same
 * batch's: XDP passes them though their seq no longer names the ISN, and
 * TC gives them to the kernel without a second request socket; they find
 * the connection the first one made. Far below the minimum RTO (200 ms),
 * so a retransmission after a failed hand-off is handed off again. */
#define XDPSYN_HANDOFF_DUP_NS (20ULL * 1000000ULL)
/* How far past the ISN such a segment's data may start (bytes). */
#define XDPSYN_BURST_SEQ_MAX (1U << 24)

/* Value of xdpsyn_handoffs (key: struct xdpsyn_flow_key). */
struct xdpsyn_handoff {
	__u64 valid_ns;  /* CLOCK_TAI when XDP first validated it */
	__u64 handed_ns; /* CLOCK_TAI of TC's hand-off (0: not yet) */
	__u32 isn;       /* the client's ISN */
	__u32 cookie;    /* our ISN (the cookie) */
};

struct xdpsyn_rate {
	__u64 win;  /* window number: ns >> XDPSYN_RATE_WIN_SHIFT */
	__u32 cur;  /* SYNs in window win */
	__u32 prev; /* SYNs in window win - 1 */
};

/* One CPU's sliding-window sum at NOW (CLOCK_TAI ns), in SYN·ns. */
static inline __u64 xdpsyn_rate_sum(const struct xdpsyn_rate *r, __u64 now)
{
	__u64 w = now >> XDPSYN_RATE_WIN_SHIFT;
	__u64 left = XDPSYN_RATE_WIN_NS - (now & (XDPSYN_RATE_WIN_NS - 1));

	if (r->win == w)
		return ((__u64)r->cur << XDPSYN_RATE_WIN_SHIFT) + r->prev * left;
	if (r->win + 1 == w)
		return r->cur * left;
	return 0;
}

/* SYNs per second as a window sum (the unit of xdpsyn_rate_sum). */
static inline __u64 xdpsyn_rate_threshold(__u32 per_sec)
{
	/* W^2 / 1e9 = 2^56 / 1e9 = 72057594.04 */
	return (__u64)per_sec * 72057594ULL;
}

#define XDPSYN_SWITCH_HIST 8

/* The policy state (array map xdpsyn_policy, one slot). Written by the
 * loader on attach and `set policy=`, and by the XDP program and its timer
 * when the auto policy switches. */
struct xdpsyn_policy_state {
	struct bpf_timer timer;  /* auto: re-checks the rate while in proxy */
	__u64 state;             /* XDPSYN_POLICY_PROXY or _TRACK: what the
	                          * XDP program does with SYNs now (64 bits:
	                          * switched with a 64-bit compare-exchange) */
	__u32 reason;            /* enum xdpsyn_switch_reason of the last change */
	__u32 pad;
	__u64 since_ns;          /* CLOCK_TAI of the last change */
	__u64 last_high_ns;      /* auto: the rate was last >= syn_rate / 2 */
	__u64 kcookie_ns;        /* last SYN-ACK the kernel sent with its own
	                          * cookie (0: never) */
	__u64 switch_rate;       /* SYN/s estimate at the last switch */
	/* The last XDPSYN_SWITCH_HIST switches made by the auto policy, the
	 * latest at history[(switches - 1) % XDPSYN_SWITCH_HIST]. */
	__u64 switches;
	struct xdpsyn_switch {
		__u64 time_ns;   /* CLOCK_TAI */
		__u64 rate;      /* SYN/s estimate then */
		__u32 to;        /* XDPSYN_POLICY_PROXY or _TRACK */
		__u32 reason;    /* enum xdpsyn_switch_reason */
	} history[XDPSYN_SWITCH_HIST];
};

/*
 * The cookie. ISN = hash24 << 8 | info, info = MSS index (2 bits) | ECN |
 * SACK | client wscale (4 bits, 0xf = none). The hash is SipHash-2-4 under
 * the key of the slot in use, over the message described in README.md
 * ("Cookie format"): addresses, ports, client ISN, counter, info, family.
 * The counter is CLOCK_TAI nanoseconds >> 36 (a period of 68.7 s); cookies
 * of the current and the previous counter are accepted (68.7-137.4 s).
 *
 * When the client sends timestamps, our TSval = clock24 << 8 | hash8, where
 * clock24 is CLOCK_TAI ns >> 14 (16.384 us ticks, wrapping every 275 s) and
 * hash8 is 8 more bits of the same hash. The final ACK's TSecr gives the
 * handshake RTT and the exact counter the cookie was made with.
 */
#define XDPSYN_COUNTER_NS_SHIFT 36
#define XDPSYN_TSCLK_NS_SHIFT 14
#define XDPSYN_TSCLK_BITS 24
#define XDPSYN_TSCLK_MASK ((1u << XDPSYN_TSCLK_BITS) - 1)
#define XDPSYN_INFO_MSS_SHIFT 6
#define XDPSYN_INFO_ECN 0x20
#define XDPSYN_INFO_SACK 0x10
#define XDPSYN_INFO_WS_MASK 0x0f
#define XDPSYN_WSCALE_NONE 0x0f
#define XDPSYN_WSCALE_MAX 14

/* MSS table per family, ascending (the entry used is the largest not above
 * the client's MSS). Lists, for `{ XDPSYN_MSS_TABLE_V4 }` or packing. */
#define XDPSYN_MSS_TABLE_V4 536, 1300, 1440, 1460
#define XDPSYN_MSS_TABLE_V6 1220, 1420, 1440, 8940
#define XDPSYN_MSS_TABLE_LEN 4
/* IPv4 where the interface's MSS (config mss4) is above the table's top,
 * 1460 (an MTU above 1500): that MSS becomes the top entry, and 1440 goes,
 * so jumbo-frame clients keep their MSS (1440's get 1300). The table
 * follows mss4 at the SYN and at the ACK alike. */
#define XDPSYN_MSS_V4_TOP 1460
#define XDPSYN_MSS_TABLE_V4_JUMBO(mss4) 536, 1300, 1460, (mss4)
/* MSS assumed when a SYN carries none (RFC 9293 defaults). */
#define XDPSYN_MSS_DEFAULT_V4 536
#define XDPSYN_MSS_DEFAULT_V6 1220

/* Flow record key: the client's tuple as it arrives. Completed handshakes
 * are in xdpsyn_flows, tracked ones in progress in xdpsyn_hs. */
struct xdpsyn_flow_key {
	__u32 ifindex;
	__u8 family;
	__u8 pad[3];
	__be32 saddr[4]; /* client; IPv4 in [0] */
	__be32 daddr[4]; /* server */
	__be16 sport;
	__be16 dport;
};

#define XDPSYN_FLOW_SACK 0x01
#define XDPSYN_FLOW_TS 0x02
#define XDPSYN_FLOW_ECN 0x04
#define XDPSYN_FLOW_WS 0x08
#define XDPSYN_FLOW_HANDOFF 0x10
#define XDPSYN_FLOW_PREV_KEY 0x20
#define XDPSYN_FLOW_KCOOKIE 0x40 /* the kernel's own cookie (track: the kernel answered
                                   * with it; kernel-cookie hand-off: XDP did) */

/* A record's state. Cookie records (proxy) are written once, complete;
 * tracked handshakes move from SYN to SYNACK to ESTABLISHED or RESET. An
 * incomplete one older than the config's hs_timeout_s is shown as timed
 * out (the kernel gives up silently; nothing marks it). */
enum xdpsyn_hs_state {
	XDPSYN_HS_COOKIE = 0,       /* completed with our cookie (proxy) */
	XDPSYN_HS_SYN = 1,          /* SYN passed, no SYN-ACK from the kernel yet */
	XDPSYN_HS_SYNACK = 2,       /* the kernel sent its SYN-ACK */
	XDPSYN_HS_ESTABLISHED = 3,  /* the client's ACK reached the kernel */
	XDPSYN_HS_RESET = 4,        /* RST from the client or the kernel */
};
/* Default hs_timeout_s: the kernel's SYN-ACK retries with
 * tcp_synack_retries = 5 span 1+2+4+8+16+32 = 63 s. */
#define XDPSYN_HS_TIMEOUT_DEFAULT 64

#define XDPSYN_VLAN_VID_MASK 0x0fff /* the VLAN of a TCI */

struct xdpsyn_flow {
	__u64 time_ns;   /* CLOCK_TAI: cookie: when the final ACK validated;
			  * track: the last event (SYN, SYN-ACK, ACK, RST) */
	__u32 rtt_us;    /* cookie: SYN-ACK to ACK from TSecr, 16 us
			  * resolution; 0 without timestamps */
	__u16 mss;       /* cookie: MSS decoded from the cookie;
			  * track: the client's MSS option (0: none) */
	__u8 snd_wscale; /* client's window scale (0xf = none) */
	__u8 rcv_wscale; /* cookie: ours; track: the kernel's SYN-ACK's */
	__u8 flags;      /* XDPSYN_FLOW_*; track: what the client offered */
	__u8 state;      /* enum xdpsyn_hs_state */
	__u8 syn_retrans;    /* track: SYNs after the first (same ISN) */
	__u8 synack_retrans; /* track: SYN-ACKs after the first */
	__u16 srv_mss;   /* track: MSS in the kernel's SYN-ACK */
	__u8 srv_flags;  /* track: SACK/TS/ECN/WS in the kernel's SYN-ACK,
			  * XDPSYN_FLOW_KCOOKIE */
	__u8 pad;
	__u64 syn_ns;    /* track: CLOCK_TAI of the first SYN */
	__u64 last_ns;   /* track: the last SYN before the SYN-ACK, then the
			  * last SYN-ACK (the halves are measured from it) */
	__u32 srv_ns;    /* track: server half, last SYN -> first SYN-ACK, ns */
	__u32 cli_ns;    /* track: client half, last SYN-ACK -> ACK, ns */
	__u32 isn;       /* track: the client's ISN (a retransmitted SYN
			  * repeats it; a new one starts a new record) */
	__u16 vlan;      /* TCI of the outermost VLAN tag (in the frame or
			  * offloaded), 0 when untagged; the VLAN is its
			  * low 12 bits */
	__u16 pad2;
};

/* Event on the ring buffer xdpsyn_events for every completed handshake
 * (`xdpsyn flows --follow`). */
struct xdpsyn_flow_event {
	struct xdpsyn_flow_key key;
	struct xdpsyn_flow flow;
};

/*
 * Top sources. Every SYN to a protected port increments a count-min sketch
 * (per CPU, XDPSYN_CMS_ROWS x XDPSYN_CMS_COLS counters) at its source prefix;
 * a prefix whose count on a CPU reaches a power of two >= XDPSYN_HH_MIN
 * enters the heavy-hitter table xdpsyn_top (an LRU hash), which also counts
 * the prefix's completed handshakes. A random-source flood costs a few
 * counter increments per SYN and touches the table rarely; memory is fixed.
 * `xdpsyn top` estimates each listed prefix's SYNs from the sketch (sum over
 * CPUs, minimum over rows).
 */
#define XDPSYN_CMS_ROWS 4
#define XDPSYN_CMS_COLS 1024
#define XDPSYN_HH_MIN 16
#define XDPSYN_TOP_PLEN4_DEFAULT 24
#define XDPSYN_TOP_PLEN6_DEFAULT 64

struct xdpsyn_cms {
	__u32 c[XDPSYN_CMS_ROWS][XDPSYN_CMS_COLS];
};

struct xdpsyn_prefix {
	__u8 family;
	__u8 plen;
	__u8 pad[2];
	__be32 addr[4]; /* masked; IPv4 in [0] */
};

struct xdpsyn_top_val {
	__u64 first_ns;      /* CLOCK_TAI when the prefix entered the table */
	__u64 last_ns;       /* last SYN threshold crossing or completion */
	__u64 completed;     /* handshakes completed (valid final ACK) */
};

/* The sketch's hash of a masked prefix (same on both sides): a 64-bit mix
 * of the prefix words; row r uses column (h1 + r * h2) % COLS. */
static inline __u64 xdpsyn_prefix_hash(const struct xdpsyn_prefix *p)
{
	__u64 h = 0x9e3779b97f4a7c15ULL ^ ((__u64)p->family << 8 | p->plen);

	for (int i = 0; i < 4; i++) {
		h ^= p->addr[i];
		h *= 0xbf58476d1ce4e5b9ULL;
		h ^= h >> 31;
	}
	h *= 0x94d049bb133111ebULL;
	return h ^ (h >> 29);
}

static inline __u32 xdpsyn_cms_col(__u64 h, int row)
{
	__u32 h1 = (__u32)h, h2 = (__u32)(h >> 32) | 1;

	return (h1 + (__u32)row * h2) % XDPSYN_CMS_COLS;
}

/*
 * Gateway mode (attach IFACE_C --gateway IFACE_S): the servers are behind
 * this host, which forwards. XDP on IFACE_C answers SYNs to their
 * protected ports with cookie SYN-ACKs (window 0, as nftables SYNPROXY:
 * the client holds its data until the server is connected); a valid final
 * ACK makes a state entry and becomes the client's SYN to the server
 * (client's address, ports, ISN, TSval; the options the cookie kept). The
 * server's SYN-ACK (TC ingress on IFACE_S) is answered with the ACK that
 * completes its handshake (bpf_clone_redirect) and becomes the window
 * update that lets the client send. From then on XDP on both interfaces
 * translates: server->client seq -= seq_delta, TSval -= ts_delta; client->
 * server ack (and SACK blocks) += seq_delta, TSecr += ts_delta; windows
 * when the window scales differ.
 */

/* The state table's key: the connection as the client sees it. */
struct xdpsyn_gw_key {
	__u8 family;     /* enum xdpsyn_family */
	__u8 pad[3];
	__be32 caddr[4]; /* client; IPv4 in [0] */
	__be32 saddr[4]; /* server */
	__be16 cport;
	__be16 sport;
};

enum xdpsyn_gw_state {
	XDPSYN_GW_SYN_SENT = 1,    /* cookie validated, SYN sent to the server */
	XDPSYN_GW_ESTABLISHED = 2, /* server SYN-ACK seen: translating */
	XDPSYN_GW_FIN_WAIT = 3,    /* FIN seen in one direction */
	XDPSYN_GW_CLOSED = 4,      /* FIN both ways, or RST: removed after close_s */
};

/* xdpsyn_gw_conn.flags: what each side negotiated. */
#define XDPSYN_GW_C_TS 0x0001     /* timestamps with the client */
#define XDPSYN_GW_C_SACK 0x0002   /* SACK with the client */
#define XDPSYN_GW_C_WS 0x0004     /* window scaling with the client */
#define XDPSYN_GW_C_ECN 0x0008    /* ECN agreed with the client */
#define XDPSYN_GW_S_TS 0x0010     /* the server's SYN-ACK: timestamps */
#define XDPSYN_GW_S_SACK 0x0020
#define XDPSYN_GW_S_WS 0x0040
#define XDPSYN_GW_S_ECN 0x0080
#define XDPSYN_GW_FIN_C 0x0100    /* FIN from the client seen */
#define XDPSYN_GW_FIN_S 0x0200    /* FIN from the server seen */
#define XDPSYN_GW_ADOPTED 0x0400  /* older than the attach: nothing translated */
#define XDPSYN_GW_RST 0x0800      /* ended by RST */

/* Value of xdpsyn_gw_conns (hash, max entries = attach --gw-conns). */
struct xdpsyn_gw_conn {
	struct bpf_timer timer;  /* idle expiry (re-armed lazily from last_ns) */
	__u64 created_ns;        /* CLOCK_MONOTONIC (bpf_ktime_get_ns) */
	__u64 last_ns;           /* last segment either way, coarse clock */
	__u64 c2s_pkts;          /* segments translated client -> server */
	__u64 s2c_pkts;          /* ... server -> client */
	__u32 c_isn;             /* the client's ISN */
	__u32 cookie;            /* our ISN towards the client */
	__u32 s_isn;             /* the server's ISN (state >= ESTABLISHED) */
	__u32 seq_delta;         /* s_isn - cookie */
	__u32 ts_delta;          /* server TSval - our TSval at the handshake */
	__u32 our_tsval;         /* TSval of our cookie SYN-ACK (its TSecr) */
	__u32 c_tsval;           /* the client's last TSval (for the ACK we
	                          * send the server on its SYN-ACK) */
	__u32 c_rtt_us;          /* client half: SYN-ACK -> ACK (cookie TSecr) */
	__u32 s_rtt_us;          /* server half: our SYN -> its SYN-ACK */
	__u16 flags;             /* XDPSYN_GW_* */
	__u16 c_win;             /* the client's window field in its ACK */
	__u16 c_mss;             /* the client's MSS (the cookie's table value) */
	__u16 s_mss;             /* the server's MSS option */
	__u16 vlan;              /* TCI as in xdpsyn_flow, 0 untagged */
	__u8 state;              /* enum xdpsyn_gw_state */
	__u8 c_ws;               /* the client's window scale (0xf: none) */
	__u8 g_ws;               /* the window scale we told the client */
	__u8 s_ws;               /* the server's (0xf: none) */
	__u8 pad[2];
};

/* Per server address and port (hash xdpsyn_gw_servers): the options its
 * SYN-ACKs carry (learned, or set statically), used in the cookie SYN-ACKs
 * that follow so client and server agree; and its counters. */
#define XDPSYN_GW_SRV_TS 0x01
#define XDPSYN_GW_SRV_SACK 0x02
#define XDPSYN_GW_SRV_ECN 0x04
#define XDPSYN_GW_SRV_LEARNED 0x40 /* from a SYN-ACK */
#define XDPSYN_GW_SRV_STATIC 0x80  /* set by the operator: never learned over */
struct xdpsyn_gw_server_key {
	__u8 family;
	__u8 pad;
	__be16 port;
	__be32 addr[4];
};
struct xdpsyn_gw_server {
	__u16 mss;              /* its MSS option */
	__u8 ws;                /* its window scale (0xf: none) */
	__u8 flags;             /* XDPSYN_GW_SRV_* */
	__u32 pad;
	__u64 learned_ns;       /* CLOCK_MONOTONIC of the last SYN-ACK */
	__u64 conns;            /* connections opened to it (our SYNs) */
	__u64 established;      /* its SYN-ACK spliced */
	__u64 refused;          /* it answered RST */
	__u64 synack_timeouts;  /* no SYN-ACK within gw-syn-timeout */
	__u64 opt_mismatch;     /* option the client was told that it refused */
};

/* The servers behind the gateway (LPM trie xdpsyn_gw_prefixes; empty:
 * every destination routed out IFACE_S, by bpf_fib_lookup). */
#define XDPSYN_GW_PREFIXES_MAX 1024
struct xdpsyn_gw_prefix {
	__u32 plen;             /* bpf_lpm_trie_key prefix length: 32 + the
	                         * address prefix length (family and pad,
	                         * zero, are matched first) */
	__u8 family;
	__u8 pad[3];
	__be32 addr[4];
};

/* Defaults of the gateway settings (struct xdpsyn_config gw_*). */
#define XDPSYN_GW_CONNS_DEFAULT 131072
#define XDPSYN_GW_IDLE_DEFAULT 432000  /* 5 days, conntrack's established */
#define XDPSYN_GW_CLOSE_DEFAULT 10     /* after FIN both ways or RST */
#define XDPSYN_GW_SYN_TIMEOUT_DEFAULT 20 /* no SYN-ACK from the server */
#define XDPSYN_GW_ADOPT_DEFAULT 300    /* adopt older connections this long */

#endif /* XDPSYN_H */
