// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Packet fuzzer for the XDP program: the real object, loaded through its
 * skeleton, run with BPF_PROG_TEST_RUN on generated frames in a private
 * network namespace with real listeners (as tests/unit/test_xdp.c does).
 *
 * A seed-fixed generator mutates valid SYNs, final ACKs carrying real
 * cookies (taken from SYN-ACKs the program itself sent), data segments and
 * fully random bytes, from and to ordinary and special addresses (martian
 * sources and destinations, broadcast/multicast, group and other MACs,
 * destinations this netns forwards or blackholes). Every frame is checked
 * against an oracle written here from README.md ("Packet path", "Cookie
 * format") and DESIGN.md ("Do no harm"), independent of the BPF headers;
 * the cookie is checked with the reference SipHash of tests/unit/frame.c.
 *
 * The oracle, for a SYN (no ACK) to a protected port, after the SYN+FIN/RST
 * drop, asks what the kernel alone would do, in this order:
 *   a martian source (IPv4 0/8, 127/8, 224/3; IPv6 ff00::/8, ::, ::1,
 *     ::ffff:0:0/96; its own destination) or destination (0/8, 127/8; ::,
 *     ::1) ............................................ DROP SYN_MARTIAN
 *   a multicast/broadcast destination (224/3, ff00::/8) . PASS SYN_NOT_HOST
 *   a group destination MAC, or not the config's MAC when set
 *                                                      PASS SYN_NOT_HOST
 *   track: malformed options DROP MALFORMED, else TRACK_SYN(_RETRANS) PASS
 *   proxy, the sockets of the netns: none for the tuple PASS SYN_NO_LISTENER,
 *     a non-listener (the established pair) ........ PASS SYN_SOCKET,
 *     an MPTCP listener .............................. PASS SYN_MPTCP,
 *     net.ipv4.tcp_syncookies=0 ................... PASS SYN_NO_SYNCOOKIES,
 *     a wildcard listener and a destination the routes forward, blackhole,
 *     refuse (forwarding on) .............................. PASS NOT_LOCAL,
 *     then malformed options DROP MALFORMED, else SYN-ACK (TX SYNACK_TX)
 *     without what tcp_timestamps/sack/window_scaling/ecn=0 turn off
 *     (SYN_OPT_OFF as well when the client offered one of those).
 * An ACK to a listener without a valid cookie: under track PASS ACK_KERNEL;
 * under proxy PASS NOT_LOCAL when the frame is not this host's (group or
 * other MAC, or a wildcard listener and a destination forwarded as above),
 * else DROP ACK_INVALID.
 *
 * "The routes forward" is what bpf_fib_lookup answers at the ingress
 * interface: with forwarding off nothing (FWD_DISABLED), local and
 * unrouted destinations NOT_FWDED (so answered), and IPv6 from or to a
 * link-local, multicast or loopback address NOT_FWDED before any lookup.
 *
 * One known limit of the program (README, "Design notes") is predicted as
 * it behaves (marked KNOWN LIMIT below) and its frames counted on a line of
 * their own: a SYN from an IPv6 link-local source for a destination the
 * routes take elsewhere is answered (the kernel alone would not: it never
 * forwards such a source; the FIB helper says NOT_FWDED before it looks).
 *
 * The run changes the netns and config every 2^14 frames (a phase): the
 * config's MAC set or not, IPv4/IPv6 forwarding on or off (routes to a veth,
 * blackhole, unreachable, prohibit), tcp_syncookies=0, and some of
 * tcp_timestamps/sack/window_scaling/ecn=0, so that each path is reached.
 *
 * Checks (each one pass/fail, passed when it saw 0 violations):
 *  1 a SYN-ACK (XDP_TX) only for a well-formed SYN to a protected port, from
 *    a unicast non-martian source to a unicast address and MAC of this
 *    host, that a listener the hand-off works for would take
 *  2 an ACK to the listener passes only with a valid cookie, or (without)
 *    when the frame is not this host's (NOT_LOCAL); else it is dropped
 *  3 every XDP_TX frame parses, its checksums verify, its cookie checks, it
 *    carries exactly the options the client offered and the sysctls allow
 *  4 counters add up (RX = frames, sum of verdict counters = frames)
 *  5 no XDP_ABORTED (and no BPF_PROG_TEST_RUN error)
 *  6 verdict and counter exactly as the oracle predicts
 * plus sanity checks that the mix is not vacuous (every verdict class,
 * every XDP counter, and each of the oracle's do-no-harm paths).
 *
 * With --policy track the program runs the track policy (README "Packet
 * path", under the track policy): a well-formed SYN to a protected port
 * (past the address and MAC checks above) passes unchanged and is recorded
 * in xdpsyn_hs, an ACK to the listener without a valid cookie passes as
 * ACK_KERNEL. The oracle keeps its own copy of the records (tuple -> ISN)
 * to tell a new handshake (TRACK_SYN) from a retransmission
 * (TRACK_SYN_RETRANS, same tuple and ISN) and an ACK that completes a
 * tracked handshake (TRACK_ESTABLISHED, the record goes).
 * The checks become:
 *  1 no SYN-ACK (XDP_TX) at all
 *  2 an ACK without a valid cookie passes as ACK_KERNEL, never ACK_VALID
 *  3 every frame leaves the program unchanged
 *  4-6 as above
 *  7 every tracked SYN leaves its xdpsyn_hs record (state SYN, its ISN,
 *    options, retransmission count), an ACK that completed one removes it,
 *    and the map holds exactly the oracle's records (compared whenever the
 *    oracle empties it, before the LRU could evict, and at the end)
 *
 * Usage: test_fuzz [--frames N] [--seed S] [--policy proxy|track]
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "xdpsyn.h"
#include "xdpsyn.skel.h"
#include "frame.h"
#include "harness.h"

#define V_ABORTED 0
#define V_DROP 1
#define V_PASS 2
#define V_TX 3

#define PORT_PROT 80        /* protected, listener */
#define PORT_PROT_NOLSN 443 /* protected, no listener */
#define PORT_OPEN 8080      /* not protected, listener */
#define PORT_WILD 8081      /* protected, listeners on the wildcard address */
#define PORT_MPTCP 8443     /* protected, MPTCP listeners (if the kernel has it) */

#ifndef IPPROTO_MPTCP
#define IPPROTO_MPTCP 262
#endif

#define OUT_MAX FRAME_MAX /* a multi-buffer frame passed back whole */
#define BATCH 256

enum { INV_TX, INV_ACK, INV_OUT, INV_CNT, INV_ABORT, INV_EXACT, INV_HS, NINV };
static const char *inv_name[NINV] = {
	"1 SYN-ACK only for a well-formed SYN to a protected port, this host's, a listener's",
	"2 an ACK to the listener passes only cookie-valid or not this host's (NOT_LOCAL)",
	"3 every XDP_TX frame parses, checksums, cookie and options verify",
	"4 counters add up (RX = frames, sum of verdicts = frames)",
	"5 no XDP_ABORTED / test-run error",
	"6 verdict and counter exactly as the oracle predicts",
	"7 xdpsyn_hs holds exactly the oracle's tracked handshakes",
};
/* The names of 1-3 under --policy track (7 is checked only there). */
static const char *inv_name_track[3] = {
	"1 no SYN-ACK at all (track: every SYN passes to the kernel)",
	"2 an ACK without a valid cookie passes as ACK_KERNEL, never ACK_VALID",
	"3 every frame leaves the program unchanged (track)",
};
static uint64_t viol[NINV];
#define SHOW_MAX 5

static struct xdpsyn *skel;
static int prog_fd, nproc;
static int track;          /* --policy track */
static uint32_t lo_ifindex; /* BPF_PROG_TEST_RUN's ingress (loopback) */

static const uint8_t srv4[4] = { 10, 201, 1, 1 };
static const uint8_t cli4[4] = { 10, 201, 2, 7 };
static uint8_t srv6[16], cli6[16];
static const uint8_t srv_mac[6] = { 0x02, 0, 0, 0, 0, 0x01 };
static const uint8_t cli_mac[6] = { 0x02, 0, 0, 0, 0, 0x02 };
static uint16_t est_port; /* cli4:est_port -> srv4:80 is ESTABLISHED */
static const uint8_t other_mac[6] = { 0x02, 0, 0, 0, 0, 0x09 }; /* another host */
static int have_mptcp;    /* the MPTCP listeners exist */

/* Destinations the routes of the netns treat each their own way when
 * forwarding is on (IPv4 10.201.P.0/24, IPv6 fd00:201::P:0/112): a route
 * through a veth (forwarded), blackhole, unreachable, prohibit; P = 99 has
 * no route at all. */
#define NET_FWD 64
#define NET_BLACKHOLE 65
#define NET_UNREACH 66
#define NET_PROHIBIT 67
#define NET_NOROUTE 99

/* The environment of the current phase (env_apply): the config's MAC,
 * forwarding, tcp_syncookies and which options the sysctls allow. */
#define ALLOW_TS 1
#define ALLOW_SACK 2
#define ALLOW_WS 4
#define ALLOW_ECN 8
#define ALLOW_ALL 15
static struct {
	int mac_on;     /* config mac = srv_mac (else all zero) */
	int fwd;        /* net.ipv4.ip_forward, net.ipv6.conf.all.forwarding */
	int syncookies; /* net.ipv4.tcp_syncookies */
	int allow;      /* ALLOW_*: tcp_timestamps, _sack, _window_scaling, _ecn */
} env = { 0, 0, 1, ALLOW_ALL };

static const uint8_t key_cur[16] = { 0x5a, 0x01, 0x92, 0x33, 0x14, 0xc5, 0x66, 0x07,
				     0x88, 0xf9, 0x2a, 0xbb, 0x4c, 0xdd, 0x0e, 0x9f };
static const uint8_t key_prev[16] = { 0x10, 0xe1, 0x22, 0xc3, 0x34, 0xa5, 0x46, 0x87,
				      0x58, 0x69, 0x6a, 0x4b, 0x7c, 0x2d, 0x8e, 0x0f };
static uint32_t prev_until; /* previous key accepted for counters <= this */

/* Config the oracle mirrors (README "Packet path" / "Cookie format"). */
#define CFG_MSS4 1460
#define CFG_MSS6 1440
#define CFG_ECN 1
static const int mss_tab4[4] = { 536, 1300, 1440, 1460 };
static const int mss_tab6[4] = { 1220, 1420, 1440, 8940 };

/* ---- helpers ------------------------------------------------------------ */

static uint16_t g16(const uint8_t *p) { return (uint16_t)(p[0] << 8 | p[1]); }
static uint32_t g32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}
static void p16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)(v >> 8); p[1] = (uint8_t)v; }
static void p32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24); p[1] = (uint8_t)(v >> 16); p[2] = (uint8_t)(v >> 8); p[3] = (uint8_t)v;
}

static uint64_t rng_s;
static uint64_t rnd(void)
{
	/* xorshift64* */
	rng_s ^= rng_s >> 12;
	rng_s ^= rng_s << 25;
	rng_s ^= rng_s >> 27;
	return rng_s * 0x2545F4914F6CDD1DULL;
}
static uint32_t rn(uint32_t n) { return n ? (uint32_t)(rnd() % n) : 0; }
static int chance(uint32_t pct) { return rn(100) < pct; }

static void hexdump(const char *tag, const uint8_t *b, size_t len)
{
	printf("    %s (%zu bytes):", tag, len);
	for (size_t i = 0; i < len; i++)
		printf("%s%02x", i % 32 ? "" : "\n      ", b[i]);
	printf("\n");
}

/* ---- the oracle's tracked handshakes (--policy track) -------------------- */

/* What the oracle expects in xdpsyn_hs for one client tuple: the SYN's ISN
 * and options (of the SYN that began the handshake) and the number of
 * retransmissions since. Nothing here is read from the program: a SYN that
 * the oracle predicts as a new handshake puts a record, one with the same
 * tuple and ISN counts a retransmission, an ACK_KERNEL that finds a record
 * removes it. Open addressing, linear probing, tombstones; emptied together
 * with the real map long before the LRU's capacity (hs_sync). */
struct hsrec {
	struct xdpsyn_flow_key k;
	uint32_t isn;
	uint32_t retrans;
	uint16_t mss;
	uint8_t ws, flags;
	uint8_t used; /* 0 empty, 1 live, 2 deleted */
};
#define HS_SLOTS (1u << 17)
static struct hsrec hs_tab[HS_SLOTS];
static uint32_t hs_live, hs_used; /* live records; live + deleted slots */

static uint32_t hs_hash(const struct xdpsyn_flow_key *k)
{
	const uint8_t *p = (const uint8_t *)k;
	uint32_t h = 2166136261u;

	for (size_t i = 0; i < sizeof(*k); i++)
		h = (h ^ p[i]) * 16777619u;
	return h;
}

static struct hsrec *hs_find(const struct xdpsyn_flow_key *k)
{
	for (uint32_t i = hs_hash(k) & (HS_SLOTS - 1);; i = (i + 1) & (HS_SLOTS - 1)) {
		struct hsrec *r = &hs_tab[i];

		if (!r->used)
			return NULL;
		if (r->used == 1 && !memcmp(&r->k, k, sizeof(*k)))
			return r;
	}
}

/* A new record for k (replacing any). */
static struct hsrec *hs_put(const struct xdpsyn_flow_key *k)
{
	struct hsrec *r = hs_find(k), *tomb = NULL;
	uint32_t i;

	if (r)
		return r;
	for (i = hs_hash(k) & (HS_SLOTS - 1); hs_tab[i].used; i = (i + 1) & (HS_SLOTS - 1))
		if (hs_tab[i].used == 2 && !tomb)
			tomb = &hs_tab[i];
	if (tomb) {
		r = tomb;
	} else {
		r = &hs_tab[i];
		hs_used++;
	}
	r->used = 1;
	r->k = *k;
	hs_live++;
	return r;
}

static void hs_del(struct hsrec *r)
{
	r->used = 2;
	hs_live--;
}

static void hs_clear(void)
{
	memset(hs_tab, 0, sizeof(hs_tab));
	hs_live = hs_used = 0;
}

/* The record key of a frame from sa:sp to da:dp (as flow_key_fill makes
 * it: zero padding, IPv4 in word 0, ports in network order). */
static void hs_key(struct xdpsyn_flow_key *k, int v6, const uint8_t *sa, const uint8_t *da,
		   uint16_t sp, uint16_t dp)
{
	memset(k, 0, sizeof(*k));
	k->ifindex = lo_ifindex;
	k->family = v6 ? XDPSYN_V6 : XDPSYN_V4;
	memcpy(k->saddr, sa, v6 ? 16 : 4);
	memcpy(k->daddr, da, v6 ? 16 : 4);
	k->sport = htons(sp);
	k->dport = htons(dp);
}

/* The program's memory of validated handshakes (xdpsyn_handoffs, written
 * by XDP on a valid ACK): a later segment of the same receive batch (same
 * tuple and cookie, data past the ISN + 1, within 20 ms of the validation)
 * passes as ACK_BURST though its seq no longer names the ISN (README,
 * "Design notes"). The newest validations, searched newest first. */
#define VAL_SLOTS 4096
#define BURST_NS 20000000ull
static struct val {
	struct xdpsyn_flow_key k;
	uint32_t isn, cookie;
	uint64_t t0, t1;  /* the validating run's bounds */
} val_tab[VAL_SLOTS];
static unsigned val_n;

static struct val *val_find(const struct xdpsyn_flow_key *k)
{
	for (unsigned i = 0; i < val_n && i < VAL_SLOTS; i++) {
		struct val *v = &val_tab[(val_n - 1 - i) % VAL_SLOTS];

		if (!memcmp(&v->k, k, sizeof(*k)))
			return v;
	}
	return NULL;
}

/* A valid ACK: the first of a handshake makes the entry; the same
 * handshake again within 20 ms keeps the older one. */
static void val_commit(const struct xdpsyn_flow_key *k, uint32_t isn, uint32_t cookie,
		       uint64_t t0, uint64_t t1)
{
	struct val *v = val_find(k);

	if (v && v->isn == isn && v->cookie == cookie) {
		if (t1 - v->t0 < BURST_NS)
			return; /* kept */
		if (t0 - v->t1 < BURST_NS) {
			/* kept or replaced, by nanoseconds: its time is
			 * somewhere in [old t0, new t1] */
			v->t1 = t1;
			return;
		}
	}
	v = &val_tab[val_n++ % VAL_SLOTS];
	v->k = *k;
	v->isn = isn;
	v->cookie = cookie;
	v->t0 = t0;
	v->t1 = t1;
}

/* 1: the segment (seq, ack) is a later one of a batch validated moments
 * ago, 0: not, -1: its age straddles 20 ms during the run. */
static int val_burst(const struct xdpsyn_flow_key *k, uint32_t seq, uint32_t ack,
		     uint64_t t0, uint64_t t1)
{
	struct val *v = val_find(k);
	uint32_t off;

	if (!v || v->cookie != ack - 1)
		return 0;
	off = seq - (v->isn + 1);
	if (!off || off >= (1u << 24))
		return 0;
	if (t1 - v->t0 < BURST_NS)
		return 1;
	if (t0 - v->t1 >= BURST_NS)
		return 0;
	return -1;
}

/* ---- the oracle ------------------------------------------------------- */

struct topts {
	int mss;   /* 0: none */
	int ws;    /* -1: none, else clamped to 14 */
	int sack, ts;
	uint32_t tsval, tsecr;
};

/* TCP options per README: EOL ends, NOP skipped, MSS/WS/SACK_PERM/TS must
 * have their exact length, unknown skipped by a length >= 2 that stays
 * inside the header. Returns -1 when malformed. */
static int opts_walk(const uint8_t *p, size_t n, struct topts *o)
{
	size_t i = 0;

	memset(o, 0, sizeof(*o));
	o->ws = -1;
	while (i < n) {
		uint8_t k = p[i], l;

		if (k == 0)
			break;
		if (k == 1) {
			i++;
			continue;
		}
		if (i + 2 > n)
			return -1;
		l = p[i + 1];
		if (l < 2 || i + l > n)
			return -1;
		switch (k) {
		case 2:
			if (l != 4)
				return -1;
			o->mss = g16(p + i + 2);
			break;
		case 3:
			if (l != 3)
				return -1;
			o->ws = p[i + 2] > 14 ? 14 : p[i + 2];
			break;
		case 4:
			if (l != 2)
				return -1;
			o->sack = 1;
			break;
		case 8:
			if (l != 10)
				return -1;
			o->ts = 1;
			o->tsval = g32(p + i + 2);
			o->tsecr = g32(p + i + 6);
			break;
		default:
			break;
		}
		i += l;
	}
	return 0;
}

/* The oracle's do-no-harm paths (what the kernel alone would do decided
 * the verdict), tallied for the sanity checks. */
enum {
	P_NONE,
	P_MARTIAN_SRC,    /* SYN from a martian source: DROP */
	P_MARTIAN_LAND,   /* SYN with source == destination: DROP */
	P_MARTIAN_DST,    /* SYN to 0/8, 127/8, ::, ::1: DROP */
	P_MCAST_DST,      /* SYN to a broadcast/multicast address: PASS */
	P_SYN_L2_GROUP,   /* SYN to a group MAC: PASS */
	P_SYN_L2_OTHER,   /* SYN to another unicast MAC (config MAC set): PASS */
	P_SYN_SOCKET,     /* SYN for the established pair's tuple: PASS */
	P_SYN_NOLSN,      /* SYN with no listener: PASS */
	P_SYN_NOLSN_BAD,  /* ... with malformed options: PASS, not dropped */
	P_SYN_MPTCP,      /* SYN to an MPTCP listener: PASS */
	P_SYN_NOCOOKIES,  /* SYN while tcp_syncookies=0: PASS */
	P_SYN_FWD,        /* SYN to a wildcard listener, routed elsewhere: PASS */
	P_SYN_WILD_LOCAL, /* ... forwarding on, destination local or unrouted: TX */
	P_ACK_L2_GROUP,   /* forged ACK to a group MAC: PASS NOT_LOCAL */
	P_ACK_L2_OTHER,   /* forged ACK to another unicast MAC: PASS NOT_LOCAL */
	P_ACK_FWD,        /* forged ACK, wildcard listener, routed elsewhere: PASS */
	P_ACK_WILD_LOCAL, /* ... forwarding on, local or unrouted: DROP */
	P_ACK_BURST,      /* data past the ISN + 1 of a handshake validated
			   * in the last 20 ms: PASS ACK_BURST */
	/* known limits of the program (README "Design notes": the FIB helper
	 * cannot say "local" positively; counted and shown, not required) */
	P_SYN_FWD_LL,     /* SYN from fe80::/10 for a routed destination: TX */
	NPATH
};
#define P_KNOWN_GAP P_SYN_FWD_LL /* the first known limit */
static const char *path_name[NPATH] = {
	"", "SYN martian source", "SYN source = destination", "SYN martian destination",
	"SYN broadcast/multicast destination", "SYN group MAC", "SYN other MAC (config MAC)",
	"SYN for a socket's tuple", "SYN no listener", "SYN no listener, bad options",
	"SYN MPTCP listener", "SYN tcp_syncookies=0", "SYN forwarded destination",
	"SYN wildcard listener, forwarding on, this host's", "forged ACK group MAC",
	"forged ACK other MAC", "forged ACK forwarded destination",
	"forged ACK wildcard listener, forwarding on, this host's",
	"data of a handshake validated in the same batch",
	"SYN from a link-local source for a forwarded destination: answered (FIB NOT_FWDED)",
};

struct orc {
	int cnt;          /* the verdict counter expected */
	int verdict;
	int syn;          /* SYN counter expected to move */
	int ack_path;     /* reached the cookie check */
	int ambiguous;    /* cookie validity changes between t0 and t1 */
	int prev_key;     /* valid only with the previous key */
	int alt_cnt, alt_verdict; /* ACK path: what an invalid cookie gets */
	int burst_amb;    /* a batch segment or not, by the 20 ms age */
	struct xdpsyn_flow_key vkey; /* the ACK's tuple, for the validations */
	uint32_t vseq, vack;
	int path;         /* P_*: the do-no-harm path taken (P_NONE if none) */
	int opt_off;      /* SYN_OPT_OFF expected with SYNACK_TX */
	/* the SYN, for checking the SYN-ACK */
	int v6, vlans;
	uint8_t saddr[16], daddr[16], smac[6], dmac[6];
	uint16_t sport, dport;
	uint32_t seq;
	uint8_t info;
	int ts;
	uint32_t tsval;
	int mss;          /* the client's MSS (0: none) */
	int want_opts;    /* ALLOW_* bits: TS, SACK, WS (ours), ECE in the SYN-ACK */
	/* track */
	int hs;           /* SYN: 1 new handshake, 2 retransmission */
	int has_rec;      /* ACK path: the oracle holds a record for the tuple */
	int est;          /* TRACK_ESTABLISHED expected (the record goes) */
	struct xdpsyn_flow_key key;
	uint16_t hs_mss;  /* the record a new handshake makes */
	uint8_t hs_ws, hs_flags;
};

static int port_protected(uint16_t p)
{
	return p == PORT_PROT || p == PORT_PROT_NOLSN || p == PORT_WILD || p == PORT_MPTCP;
}

/* The socket a lookup of the tuple finds among those main() opened. */
enum { SK_NONE, SK_LISTENER, SK_OTHER, SK_MPTCP, SK_WILD };
static int sock_kind(int v6, const uint8_t *sa, const uint8_t *da, uint16_t sp, uint16_t dp)
{
	if (!v6 && !memcmp(da, srv4, 4) && dp == PORT_PROT && !memcmp(sa, cli4, 4) && sp == est_port)
		return SK_OTHER; /* the established pair */
	if (dp == PORT_WILD)
		return SK_WILD;  /* any destination: bound to 0.0.0.0 / :: */
	if (memcmp(da, v6 ? srv6 : srv4, v6 ? 16 : 4))
		return SK_NONE;
	if (dp == PORT_PROT || (!v6 && dp == PORT_OPEN))
		return SK_LISTENER;
	if (dp == PORT_MPTCP && have_mptcp)
		return SK_MPTCP;
	return SK_NONE;
}

/* A listener the hand-off works for (its SYN-ACKs make handshakes). */
static int sk_listener(int kind) { return kind == SK_LISTENER || kind == SK_WILD; }

/* An IPv6 address the kernel's FIB helper never forwards from or to
 * (rt6_need_strict: multicast ff00::/8, link-local fe80::/10, ::1). */
static int v6_strict(const uint8_t *a)
{
	static const uint8_t lo[16] = { [15] = 1 };

	return a[0] == 0xff || (a[0] == 0xfe && (a[1] & 0xc0) == 0x80) || !memcmp(a, lo, 16);
}

/* The routes of the netns (setup) take the destination to another host:
 * forwarding on, and a route through the veth, a blackhole, unreachable
 * or prohibit route (not a local address, not one without any route). */
static int routes_elsewhere(int v6, const uint8_t *da)
{
	static const uint8_t pfx6[12] = { 0xfd, 0, 0x02, 0x01 };
	int net;

	if (!env.fwd)
		return 0;
	if (v6) {
		if (memcmp(da, pfx6, 12) || da[12])
			return 0;
		net = da[13];
	} else {
		if (da[0] != 10 || da[1] != 201)
			return 0;
		net = da[2];
	}
	return net == NET_FWD || net == NET_BLACKHOLE || net == NET_UNREACH || net == NET_PROHIBIT;
}

/* The FIB lookup (bpf_fib_lookup at the ingress interface) says the
 * destination belongs to another host (SUCCESS, NO_NEIGH, BLACKHOLE,
 * UNREACHABLE, PROHIBIT): where the routes take it elsewhere, except
 * (IPv6) from or to a multicast, link-local or loopback address (NOT_FWDED
 * before any lookup). With forwarding off FWD_DISABLED; local addresses
 * and destinations without a route NOT_FWDED. */
static int fib_elsewhere(int v6, const uint8_t *sa, const uint8_t *da)
{
	if (v6 && (v6_strict(sa) || v6_strict(da)))
		return 0;
	return routes_elsewhere(v6, da);
}

/* A SYN's addresses, as the kernel's routing and TCP take them (DESIGN "Do
 * no harm"): P_MARTIAN_* (dropped), P_MCAST_DST (not for this host), or
 * P_NONE. Sources first, then the destination. */
static int addr_path(int v6, const uint8_t *sa, const uint8_t *da)
{
	static const uint8_t zero[16], mapped[12] = { [10] = 0xff, [11] = 0xff };

	if (!v6) {
		if (sa[0] == 0 || sa[0] == 127 || sa[0] >= 224)
			return P_MARTIAN_SRC;
		if (!memcmp(sa, da, 4))
			return P_MARTIAN_LAND;
		if (da[0] == 0 || da[0] == 127)
			return P_MARTIAN_DST;
		return da[0] >= 224 ? P_MCAST_DST : P_NONE;
	}
	if (sa[0] == 0xff || (!memcmp(sa, zero, 15) && sa[15] <= 1) || !memcmp(sa, mapped, 12))
		return P_MARTIAN_SRC;
	if (!memcmp(sa, da, 16))
		return P_MARTIAN_LAND;
	if (!memcmp(da, zero, 15) && da[15] <= 1)
		return P_MARTIAN_DST;
	return da[0] == 0xff ? P_MCAST_DST : P_NONE;
}

/* The frame is another host's at L2: 1 a group destination MAC, 2 another
 * unicast MAC than the config's (when set), 0 ours. */
static int l2_other(const uint8_t *dmac)
{
	if (dmac[0] & 1)
		return 1;
	return env.mac_on && memcmp(dmac, srv_mac, 6) ? 2 : 0;
}

static int ck_try(const uint8_t key[16], int v6, const uint8_t *sa, const uint8_t *da,
		  uint16_t sp, uint16_t dp, uint32_t isn, uint32_t ctr, uint32_t cookie,
		  int has_ts, uint32_t tsecr)
{
	uint64_t h = ref_cookie_hash(key, v6, sa, da, sp, dp, isn, ctr, (uint8_t)cookie);

	return (uint32_t)(h & 0xffffff) == cookie >> 8 &&
	       (!has_ts || ((h >> 24) & 0xff) == (tsecr & 0xff));
}

/* The current key, then (within its grace) the previous one. */
static int ck_keys(int v6, const uint8_t *sa, const uint8_t *da, uint16_t sp, uint16_t dp,
		   uint32_t isn, uint32_t ctr, uint32_t cookie, int has_ts, uint32_t tsecr,
		   int *prev)
{
	if (ck_try(key_cur, v6, sa, da, sp, dp, isn, ctr, cookie, has_ts, tsecr))
		return 1;
	if (ctr > prev_until)
		return 0;
	if (ck_try(key_prev, v6, sa, da, sp, dp, isn, ctr, cookie, has_ts, tsecr)) {
		*prev = 1;
		return 1;
	}
	return 0;
}

/* README "Cookie format": cookie = ack - 1, client ISN = seq - 1; with TS,
 * TSecr's clock names the period (current or previous only) and 8 more hash
 * bits; without, the current and the previous period are tried. */
static int cookie_ok(int v6, const uint8_t *sa, const uint8_t *da, uint16_t sp, uint16_t dp,
		     uint32_t seq, uint32_t ack, const struct topts *to, uint64_t now, int *prev)
{
	uint32_t now_ctr = (uint32_t)(now >> 36);
	uint32_t cookie = ack - 1, isn = seq - 1;

	*prev = 0;
	if (to->ts) {
		uint64_t clk = now >> 14;
		uint32_t age = ((uint32_t)clk - (to->tsecr >> 8)) & 0xffffff;
		uint32_t ctr = (uint32_t)((clk - age) >> 22);

		if (now_ctr - ctr > 1)
			return 0;
		return ck_keys(v6, sa, da, sp, dp, isn, ctr, cookie, 1, to->tsecr, prev);
	}
	if (ck_keys(v6, sa, da, sp, dp, isn, now_ctr, cookie, 0, 0, prev))
		return 1;
	return ck_keys(v6, sa, da, sp, dp, isn, now_ctr - 1, cookie, 0, 0, prev);
}

/* The cookie's info byte of a SYN-ACK to a SYN with options to and flags,
 * of what the sysctls allow (ALLOW_*). */
static uint8_t syn_info(int v6, const struct topts *to, uint8_t flags, int allow)
{
	int cap = v6 ? CFG_MSS6 : CFG_MSS4;
	const int *t = v6 ? mss_tab6 : mss_tab4;
	int mss = to->mss && to->mss < cap ? to->mss : cap;
	int peer = to->mss ? mss : (v6 ? 1220 : 536);
	int idx = 0;

	if (peer > cap)
		peer = cap;
	for (int i = 1; i < 4; i++)
		if (t[i] <= peer)
			idx = i;
	return (uint8_t)(idx << 6 |
			 ((flags & 0xc0) == 0xc0 && CFG_ECN && (allow & ALLOW_ECN) ? 0x20 : 0) |
			 (to->sack && (allow & ALLOW_SACK) ? 0x10 : 0) |
			 (to->ws >= 0 && (allow & ALLOW_WS) ? to->ws : 0xf));
}

/* The oracle's records after a frame it predicted (ambiguity resolved). */
static void hs_commit(const struct orc *o)
{
	struct hsrec *r;

	if (!track)
		return;
	if (o->hs == 1) {
		r = hs_put(&o->key);
		r->isn = o->seq;
		r->retrans = 0;
		r->mss = o->hs_mss;
		r->ws = o->hs_ws;
		r->flags = o->hs_flags;
	} else if (o->hs == 2) {
		r = hs_find(&o->key);
		if (r && r->retrans < 255)
			r->retrans++;
	} else if (o->est) {
		r = hs_find(&o->key);
		if (r)
			hs_del(r);
	}
}

#define RES(c, v) do { o->cnt = (c); o->verdict = (v); return; } while (0)

static void oracle(const uint8_t *b, size_t len, uint64_t t0, uint64_t t1, struct orc *o)
{
	size_t off = 12, l3, l4, doff;
	uint16_t proto, dport, sport;
	const uint8_t *sa, *da, *th;
	struct topts to;
	uint8_t flags;
	int v6, tags = 0, kind;

	memset(o, 0, sizeof(*o));
	if (len < 14)
		RES(XDPSYN_CNT_MALFORMED, V_DROP);
	proto = g16(b + 12);
	while ((proto == 0x8100 || proto == 0x88a8) && tags < 2) {
		if (off + 6 > len)
			RES(XDPSYN_CNT_MALFORMED, V_DROP);
		proto = g16(b + off + 4);
		off += 4;
		tags++;
	}
	l3 = off + 2;
	if (proto == 0x0800) {
		size_t ihl;

		if (l3 + 20 > len)
			RES(XDPSYN_CNT_MALFORMED, V_DROP);
		if ((b[l3] >> 4) != 4 || (b[l3] & 15) < 5)
			RES(XDPSYN_CNT_MALFORMED, V_DROP);
		ihl = (size_t)(b[l3] & 15) * 4;
		if (l3 + ihl > len)
			RES(XDPSYN_CNT_MALFORMED, V_DROP);
		if (b[l3 + 9] != 6)
			RES(XDPSYN_CNT_NOT_TCP, V_PASS);
		if (g16(b + l3 + 6) & 0x1fff)
			RES(XDPSYN_CNT_FRAGMENT, V_PASS);
		if (g16(b + l3 + 2) < ihl + 20)
			RES(XDPSYN_CNT_MALFORMED, V_DROP);
		v6 = 0;
		sa = b + l3 + 12;
		da = b + l3 + 16;
		l4 = l3 + ihl;
	} else if (proto == 0x86dd) {
		uint8_t nh;
		size_t p;
		int done = 0;

		if (l3 + 40 > len)
			RES(XDPSYN_CNT_MALFORMED, V_DROP);
		if ((b[l3] >> 4) != 6)
			RES(XDPSYN_CNT_MALFORMED, V_DROP);
		v6 = 1;
		sa = b + l3 + 8;
		da = b + l3 + 24;
		nh = b[l3 + 6];
		p = l3 + 40;
		/* up to 8 extension headers, then TCP */
		for (int i = 0; i < 9 && !done; i++) {
			switch (nh) {
			case 6:
				done = 1;
				break;
			case 0: case 43: case 60:
				if (p + 2 > len)
					RES(XDPSYN_CNT_MALFORMED, V_DROP);
				nh = b[p];
				p += ((size_t)b[p + 1] + 1) * 8;
				break;
			case 51:
				if (p + 2 > len)
					RES(XDPSYN_CNT_MALFORMED, V_DROP);
				nh = b[p];
				p += ((size_t)b[p + 1] + 2) * 4;
				break;
			case 44:
				if (p + 4 > len)
					RES(XDPSYN_CNT_MALFORMED, V_DROP);
				if (g16(b + p + 2) & 0xfff8)
					RES(XDPSYN_CNT_FRAGMENT, V_PASS);
				nh = b[p];
				p += 8;
				break;
			default:
				RES(XDPSYN_CNT_NOT_TCP, V_PASS);
			}
		}
		if (!done)
			RES(XDPSYN_CNT_MALFORMED, V_DROP);
		l4 = p;
	} else {
		RES(XDPSYN_CNT_NOT_IP, V_PASS);
	}
	if (l4 > 1024 || l4 + 20 > len)
		RES(XDPSYN_CNT_MALFORMED, V_DROP);
	th = b + l4;
	sport = g16(th);
	dport = g16(th + 2);
	if (!port_protected(dport))
		RES(XDPSYN_CNT_UNPROTECTED, V_PASS);
	flags = th[13];
	doff = (size_t)(th[12] >> 4) * 4;
	if ((flags & F_SYN) && !(flags & F_ACK)) {
		int bad_opts, allow = env.allow, ecn = (flags & 0xc0) == 0xc0;

		o->syn = 1;
		if (flags & (F_FIN | F_RST))
			RES(XDPSYN_CNT_SYN_BAD_FLAGS, V_DROP);
		/* what the kernel alone would never answer: its addresses,
		 * then its MAC; the options are read only after */
		bad_opts = doff < 20 || l4 + doff > len || opts_walk(th + 20, doff - 20, &to);
		o->path = addr_path(v6, sa, da);
		if (o->path == P_MCAST_DST)
			RES(XDPSYN_CNT_SYN_NOT_HOST, V_PASS);
		if (o->path)
			RES(XDPSYN_CNT_SYN_MARTIAN, V_DROP);
		switch (l2_other(b)) {
		case 1:
			o->path = P_SYN_L2_GROUP;
			RES(XDPSYN_CNT_SYN_NOT_HOST, V_PASS);
		case 2:
			o->path = P_SYN_L2_OTHER;
			RES(XDPSYN_CNT_SYN_NOT_HOST, V_PASS);
		}
		if (bad_opts && track)
			RES(XDPSYN_CNT_MALFORMED, V_DROP);
		o->v6 = v6;
		o->vlans = tags;
		memcpy(o->saddr, sa, v6 ? 16 : 4);
		memcpy(o->daddr, da, v6 ? 16 : 4);
		memcpy(o->dmac, b, 6);
		memcpy(o->smac, b + 6, 6);
		o->sport = sport;
		o->dport = dport;
		o->seq = g32(th + 4);
		if (track) {
			/* passed to the kernel; a record with this tuple and
			 * ISN (the oracle's, all in state SYN: nothing here
			 * sends the kernel's SYN-ACK) makes it a retransmission */
			const struct hsrec *r;

			hs_key(&o->key, v6, sa, da, sport, dport);
			r = hs_find(&o->key);
			o->hs = r && r->isn == o->seq ? 2 : 1;
			o->hs_mss = (uint16_t)to.mss;
			o->hs_ws = to.ws >= 0 ? (uint8_t)to.ws : 0x0f;
			o->hs_flags = (to.sack ? XDPSYN_FLOW_SACK : 0) | (to.ts ? XDPSYN_FLOW_TS : 0) |
				      (to.ws >= 0 ? XDPSYN_FLOW_WS : 0) |
				      ((flags & 0xc0) == 0xc0 ? XDPSYN_FLOW_ECN : 0);
			o->ts = to.ts;
			RES(o->hs == 1 ? XDPSYN_CNT_TRACK_SYN : XDPSYN_CNT_TRACK_SYN_RETRANS, V_PASS);
		}
		/* proxy: answered only where the kernel's own listener would
		 * take the SYN and the hand-off can work */
		kind = sock_kind(v6, sa, da, sport, dport);
		if (kind == SK_NONE) {
			o->path = bad_opts ? P_SYN_NOLSN_BAD : P_SYN_NOLSN;
			RES(XDPSYN_CNT_SYN_NO_LISTENER, V_PASS);
		}
		if (kind == SK_OTHER) {
			o->path = P_SYN_SOCKET;
			RES(XDPSYN_CNT_SYN_SOCKET, V_PASS);
		}
		if (kind == SK_MPTCP) {
			o->path = P_SYN_MPTCP;
			RES(XDPSYN_CNT_SYN_MPTCP, V_PASS);
		}
		if (!env.syncookies) {
			o->path = P_SYN_NOCOOKIES;
			RES(XDPSYN_CNT_SYN_NO_SYNCOOKIES, V_PASS);
		}
		if (kind == SK_WILD && env.fwd) {
			o->path = fib_elsewhere(v6, sa, da) ? P_SYN_FWD : P_SYN_WILD_LOCAL;
			if (o->path == P_SYN_FWD)
				RES(XDPSYN_CNT_NOT_LOCAL, V_PASS);
			/* KNOWN LIMIT (README): from a link-local source the
			 * FIB helper says NOT_FWDED before it looks, so a SYN
			 * for a destination the routes take elsewhere is
			 * answered, where the kernel alone would not (it never
			 * forwards a link-local source, nor answers for an
			 * address it does not own) */
			if (v6 && v6_strict(sa) && routes_elsewhere(v6, da))
				o->path = P_SYN_FWD_LL;
		}
		if (bad_opts)
			RES(XDPSYN_CNT_MALFORMED, V_DROP);
		/* the SYN-ACK offers what the client offered and the sysctls
		 * allow; SYN_OPT_OFF when they took one away (ECN offered:
		 * ECE and CWR, RFC 3168) */
		o->info = syn_info(v6, &to, flags, allow);
		o->ts = to.ts && (allow & ALLOW_TS);
		o->tsval = to.tsval;
		o->mss = to.mss;
		o->want_opts = (o->ts ? ALLOW_TS : 0) | (to.sack && (allow & ALLOW_SACK) ? ALLOW_SACK : 0) |
			       (to.ws >= 0 && (allow & ALLOW_WS) ? ALLOW_WS : 0) |
			       (ecn && CFG_ECN && (allow & ALLOW_ECN) ? ALLOW_ECN : 0);
		o->opt_off = (to.ts && !(allow & ALLOW_TS)) || (to.sack && !(allow & ALLOW_SACK)) ||
			     (to.ws >= 0 && !(allow & ALLOW_WS)) || (ecn && !(allow & ALLOW_ECN));
		RES(XDPSYN_CNT_SYNACK_TX, V_TX);
	}
	kind = sock_kind(v6, sa, da, sport, dport);
	if (kind == SK_NONE)
		RES(XDPSYN_CNT_NO_SOCKET, V_PASS);
	if (kind == SK_OTHER)
		RES(XDPSYN_CNT_ESTABLISHED, V_PASS);
	if ((flags & (F_ACK | F_SYN | F_RST)) != F_ACK)
		RES(XDPSYN_CNT_LISTENER_OTHER, V_PASS);
	o->ack_path = 1;
	if (doff < 20 || l4 + doff > len || opts_walk(th + 20, doff - 20, &to))
		RES(XDPSYN_CNT_MALFORMED, V_DROP);
	if (track) {
		hs_key(&o->key, v6, sa, da, sport, dport);
		o->has_rec = hs_find(&o->key) != NULL;
	}
	hs_key(&o->vkey, v6, sa, da, sport, dport);
	o->vseq = g32(th + 4);
	o->vack = g32(th + 8);
	{
		int p0, p1;
		int v0 = cookie_ok(v6, sa, da, sport, dport, g32(th + 4), g32(th + 8), &to, t0, &p0);
		int v1 = cookie_ok(v6, sa, da, sport, dport, g32(th + 4), g32(th + 8), &to, t1, &p1);

		if (v0 != v1 || p0 != p1)
			o->ambiguous = 1;
		o->prev_key = v0 && p0;
		/* without a valid cookie: track hands it to the kernel, record
		 * untouched (only a valid kernel cookie would complete it, and
		 * the fuzz never makes the kernel send one: kcookie_ns stays
		 * 0); proxy drops it, unless the frame is not this host's */
		o->alt_cnt = XDPSYN_CNT_ACK_INVALID;
		o->alt_verdict = V_DROP;
		if (track) {
			o->alt_cnt = XDPSYN_CNT_ACK_KERNEL;
			o->alt_verdict = V_PASS;
		} else {
			int l2 = l2_other(b);

			o->path = l2 == 1 ? P_ACK_L2_GROUP : l2 == 2 ? P_ACK_L2_OTHER : P_NONE;
			if (!o->path && kind == SK_WILD && env.fwd)
				o->path = fib_elsewhere(v6, sa, da) ? P_ACK_FWD : P_ACK_WILD_LOCAL;
			if (o->path && o->path != P_ACK_WILD_LOCAL) {
				o->alt_cnt = XDPSYN_CNT_NOT_LOCAL;
				o->alt_verdict = V_PASS;
			} else {
				/* data (the IP length past the headers: a forged
				 * ACK without payload is not looked up) */
				size_t iplen = v6 ? 40 + ((size_t)b[l3 + 4] << 8 | b[l3 + 5])
						  : ((size_t)b[l3 + 2] << 8 | b[l3 + 3]);
				int bu = iplen > (l4 - l3) + doff ?
					 val_burst(&o->vkey, g32(th + 4), g32(th + 8), t0, t1) : 0;

				if (bu) {
					o->path = P_ACK_BURST;
					o->alt_cnt = XDPSYN_CNT_ACK_BURST;
					o->alt_verdict = V_PASS;
					o->burst_amb = bu < 0;
				}
			}
		}
		if (v0)
			RES(XDPSYN_CNT_ACK_VALID, V_PASS);
		RES(o->alt_cnt, o->alt_verdict);
	}
}

/* ---- the program ---------------------------------------------------------- */

static void stats_read(uint64_t out[XDPSYN_CNT_MAX])
{
	stats_sum(skel->maps.xdpsyn_stats, nproc, out);
}

static const char *cnt_names[] = {
#define N(name, help) #name,
	XDPSYN_COUNTERS(N)
#undef N
};

static int is_verdict_counter(int i)
{
	return i != XDPSYN_CNT_RX && i != XDPSYN_CNT_SYN && i != XDPSYN_CNT_ACK_PREV_KEY &&
	       i != XDPSYN_CNT_TRACK_ESTABLISHED && i != XDPSYN_CNT_TRACK_RESET &&
	       i != XDPSYN_CNT_SYN_OPT_OFF;
}

/* Increments of the count-min sketch (row 0 summed over CPUs): one per
 * SYN it counts (every SYN-ACK under proxy, new handshakes under track). */
static uint64_t cms_total(void)
{
	static struct xdpsyn_cms *v;
	__u32 zero = 0;
	uint64_t n = 0;

	if (!v && !(v = calloc((size_t)nproc, sizeof(*v)))) {
		perror("test_fuzz: calloc");
		exit(1);
	}
	if (bpf_map__lookup_elem(skel->maps.xdpsyn_cms, &zero, sizeof(zero), v,
				 (size_t)nproc * sizeof(*v), 0)) {
		perror("test_fuzz: reading xdpsyn_cms");
		exit(1);
	}
	for (int c = 0; c < nproc; c++)
		for (int i = 0; i < XDPSYN_CMS_COLS; i++)
			n += v[c].c[0][i];
	return n;
}

static const char *vname(int v)
{
	static const char *n[] = { "ABORTED", "DROP", "PASS", "TX", "REDIRECT" };

	return v >= 0 && v <= 4 ? n[v] : "?";
}

/* ---- the generator ------------------------------------------------------ */

/* A handshake whose SYN-ACK the program sent: the ACK it expects. */
struct hs {
	int v6;
	uint8_t cli[16], srv[16];
	uint16_t cport, sport;
	uint32_t isn, cookie, tsval;
	int ts;
};
#define POOL 128
static struct hs pool[POOL];
static int pool_n;

struct gen {
	struct frame f;
	size_t l3, l4, doff; /* as built, before mutations */
	int v6;
};

static void rnd_bytes(uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (uint8_t)rnd();
}

/* Destination MAC: mostly the server's; sometimes a group MAC (broadcast,
 * IPv4 and IPv6 multicast) or another host's unicast MAC (not ours when
 * the config's MAC is set). */
static void pick_dmac(uint8_t *m)
{
	static const uint8_t group[3][6] = { { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff },
					     { 0x01, 0x00, 0x5e, 0x00, 0x00, 0x01 },
					     { 0x33, 0x33, 0x00, 0x00, 0x00, 0x01 } };
	uint32_t r = rn(100);

	if (r < 4)
		memcpy(m, group[rn(3)], 6);
	else if (r < 10)
		memcpy(m, other_mac, 6);
	else
		memcpy(m, srv_mac, 6);
}

static void addr_parse(int v6, const char *txt, uint8_t *a)
{
	if (inet_pton(v6 ? AF_INET6 : AF_INET, txt, a) != 1) {
		fprintf(stderr, "test_fuzz: bad address %s\n", txt);
		exit(1);
	}
}

/* Addresses the kernel would not take from outside (martian sources and
 * destinations, broadcast/multicast destinations), and some just beside
 * them that it would. */
static const char *const src_special4[] = { "0.0.0.0", "0.1.2.3", "127.0.0.1", "127.9.9.9",
	"224.0.0.1", "239.1.2.3", "240.0.0.1", "255.255.255.255" };
static const char *const src_special6[] = { "::", "::1", "::ffff:10.201.2.7", "::ffff:0.0.0.0",
	"ff02::1", "ff05::1:3", "ffff::1" };
static const char *const src_beside4[] = { "1.0.0.1", "126.255.255.255", "128.0.0.1",
	"223.255.255.254" };
static const char *const src_beside6[] = { "::2", "::fffe:a01:1", "::1:ffff:a01:1", "fe80::1",
	"feff::1", "::1:0", "1::1" };
static const char *const dst_special4[] = { "0.0.0.0", "0.9.9.9", "127.0.0.1", "224.0.0.1",
	"239.255.255.250", "240.1.1.1", "255.255.255.255" };
static const char *const dst_special6[] = { "::", "::1", "ff02::1", "ff0e::fb", "ff01::2" };
static const char *const dst_beside4[] = { "1.0.0.1", "126.1.1.1", "128.0.0.1", "223.0.0.1" };
static const char *const dst_beside6[] = { "::2", "feff::1", "::ffff:10.201.1.1", "fe80::2" };
#define PICK(a) (a)[rn(sizeof(a) / sizeof((a)[0]))]

static void spec_addrs(struct spec *s)
{
	int alen = s->v6 ? 16 : 4;
	uint32_t r;

	memcpy(s->smac, cli_mac, 6);
	pick_dmac(s->dmac);
	memcpy(s->saddr, s->v6 ? cli6 : cli4, alen);
	memcpy(s->daddr, s->v6 ? srv6 : srv4, alen);
	if (chance(20))
		rnd_bytes(s->saddr, alen);
	if (chance(8))
		rnd_bytes(s->daddr, alen);
	r = rn(100);
	if (r < 5)
		addr_parse(s->v6, s->v6 ? PICK(src_special6) : PICK(src_special4), s->saddr);
	else if (r < 7)
		addr_parse(s->v6, s->v6 ? PICK(src_beside6) : PICK(src_beside4), s->saddr);
	r = rn(100);
	if (r < 5)
		addr_parse(s->v6, s->v6 ? PICK(dst_special6) : PICK(dst_special4), s->daddr);
	else if (r < 6)
		addr_parse(s->v6, s->v6 ? PICK(dst_beside6) : PICK(dst_beside4), s->daddr);
	if (chance(2))
		memcpy(s->saddr, s->daddr, alen); /* a "land" frame */
}

/* A destination in one of the networks setup() routes (or not). */
static void routed_dst(int v6, uint8_t *a)
{
	static const uint8_t nets[] = { NET_FWD, NET_BLACKHOLE, NET_UNREACH, NET_PROHIBIT,
					NET_NOROUTE };
	uint8_t net = nets[rn(sizeof(nets))], host = (uint8_t)(1 + rn(254));

	if (v6) {
		memset(a, 0, 16);
		a[0] = 0xfd;
		a[2] = 0x02;
		a[3] = 0x01;
		a[13] = net;
		a[15] = host;
	} else {
		a[0] = 10;
		a[1] = 201;
		a[2] = net;
		a[3] = host;
	}
}

static uint16_t rnd_dport(void)
{
	uint32_t r = rn(100);

	if (r < 50)
		return PORT_PROT;
	if (r < 62)
		return PORT_PROT_NOLSN;
	if (r < 74)
		return PORT_WILD;
	if (r < 80)
		return PORT_MPTCP;
	if (r < 90)
		return PORT_OPEN;
	return (uint16_t)rnd();
}

/* An IPv6 extension header chain of n headers ending in `last`. */
static size_t ext_chain(uint8_t *b, size_t cap, int n, uint8_t last, uint8_t *first, int big)
{
	static const uint8_t kinds[] = { 0, 43, 60, 44, 51 };
	size_t off = 0, prev = 0;
	int have_prev = 0;

	for (int i = 0; i < n; i++) {
		uint8_t k = kinds[rn(sizeof(kinds))];
		size_t sz;

		if (k == 44)
			sz = 8;
		else if (k == 51)
			sz = (rn(5) + 2) * 4; /* hdrlen field 0..4 */
		else
			sz = (big ? rn(160) + 1 : rn(3) + 1) * 8;
		if (off + sz > cap)
			break;
		if (have_prev)
			b[prev] = k;
		else
			*first = k;
		memset(b + off, 0, sz);
		if (k == 44) {
			/* mostly a first fragment, sometimes a later one */
			uint16_t fo = chance(80) ? (uint16_t)rn(2) : (uint16_t)(rn(0x2000) << 3 | rn(2));
			p16(b + off + 2, fo);
			p32(b + off + 4, (uint32_t)rnd());
		} else if (k == 51) {
			b[off + 1] = (uint8_t)(sz / 4 - 2);
			rnd_bytes(b + off + 4, sz - 4);
		} else {
			b[off + 1] = (uint8_t)(sz / 8 - 1);
			if (k == 43)
				rnd_bytes(b + off + 2, sz - 2);
		}
		prev = off;
		have_prev = 1;
		off += sz;
	}
	if (have_prev)
		b[prev] = last;
	else
		*first = last;
	return off;
}

/* Random but well-formed TCP options (may end with EOL and junk). */
static size_t rnd_opts(uint8_t *o, size_t cap, int allow_ts)
{
	size_t n = 0;
	int items = (int)rn(8);

	for (int i = 0; i < items; i++) {
		uint32_t r = rn(9);

		if (r == 0 && n + 1 <= cap) {
			o[n++] = 1;
		} else if (r == 1 && n + 4 <= cap) {
			o[n++] = 2; o[n++] = 4; p16(o + n, (uint16_t)rnd()); n += 2;
		} else if (r == 2 && n + 3 <= cap) {
			o[n++] = 3; o[n++] = 3; o[n++] = (uint8_t)rn(20);
		} else if (r == 3 && n + 2 <= cap) {
			o[n++] = 4; o[n++] = 2;
		} else if (r == 4 && allow_ts && n + 10 <= cap) {
			o[n++] = 8; o[n++] = 10; rnd_bytes(o + n, 8); n += 8;
		} else if (r == 5) {
			size_t l = 2 + rn(9);

			if (n + l <= cap) {
				o[n++] = (uint8_t)(5 + rn(250)); /* kinds 5..254 */
				if (o[n - 1] == 8)
					o[n - 1] = 30;
				o[n++] = (uint8_t)l;
				rnd_bytes(o + n, l - 2);
				n += l - 2;
			}
		} else if (r == 6 && n < cap) {
			o[n++] = 0; /* EOL: the rest is not read */
			if (chance(50)) {
				size_t j = rn((uint32_t)(cap - n + 1));

				rnd_bytes(o + n, j);
				n += j;
			}
			break;
		}
	}
	return n;
}

static const uint8_t linux_syn_opts[20] = { 2, 4, 0x05, 0xb4, 4, 2, 8, 10, 0, 0, 0, 0,
					    0, 0, 0, 0, 1, 3, 3, 7 };

static void spec_common(struct spec *s, uint8_t *ext, size_t extcap)
{
	s->vlans = chance(75) ? 0 : (int)rn(3);
	if (!s->v6 && chance(10))
		s->ipopt_len = 4 * rn(11);
	if (s->v6 && chance(15)) {
		int n = (int)rn(11), big = chance(15);

		s->ext_len = ext_chain(ext, extcap, n, 6, &s->ext_first, big);
		s->ext = ext;
	}
	if (!s->v6 && chance(6)) {
		uint32_t r = rn(3);

		s->frag_off = r == 0 ? 0x2000 : r == 1 ? (uint16_t)(rn(0x2000) | (rn(2) << 13)) : 0x4000;
	}
	if (chance(3))
		s->l4proto = chance(50) ? 17 : (uint8_t)rn(256);
	if (chance(15))
		s->payload = rn(200);
	else if (chance(2)) /* beyond a page: a multi-buffer frame */
		s->payload = 4000 + rn(5000);
}

/* Extra VLAN tags in front (beyond the builder's two: not IP). */
static void vlan_insert(struct frame *f)
{
	if (f->len + 4 > FRAME_MAX)
		return;
	memmove(f->b + 16, f->b + 12, f->len - 12);
	p16(f->b + 12, chance(50) ? 0x8100 : 0x88a8);
	p16(f->b + 14, (uint16_t)rn(4096));
	f->len += 4;
}

static void finish(struct gen *g, const struct spec *s)
{
	size_t optlen = (s->optlen + 3) & ~(size_t)3;

	frame_build(&g->f, s);
	g->v6 = s->v6;
	g->l3 = 14 + 4 * (size_t)s->vlans;
	g->l4 = g->l3 + (s->v6 ? 40 + s->ext_len : 20 + s->ipopt_len);
	g->doff = 20 + optlen;
	if (chance(3)) {
		int n = 1 + (int)rn(2);

		for (int i = 0; i < n; i++)
			vlan_insert(&g->f);
		g->l3 += 4 * (size_t)n;
		g->l4 += 4 * (size_t)n;
	}
}

static void gen_syn(struct gen *g)
{
	struct spec s;
	uint8_t opts[40], ext[1400];
	uint32_t r = rn(100);

	memset(&s, 0, sizeof(s));
	s.v6 = chance(40);
	spec_addrs(&s);
	s.sport = (uint16_t)(chance(90) ? 1024 + rn(64000) : rnd());
	s.dport = rnd_dport();
	if (s.dport == PORT_WILD && chance(60))
		routed_dst(s.v6, s.daddr);
	if (!s.v6 && chance(3)) {
		/* the tuple of the established pair (proxy: SYN_SOCKET) */
		memcpy(s.saddr, cli4, 4);
		memcpy(s.daddr, srv4, 4);
		s.sport = est_port;
		s.dport = PORT_PROT;
	}
	s.seq = (uint32_t)rnd();
	s.flags = F_SYN;
	if (chance(15))
		s.flags |= F_ECE | F_CWR;
	if (chance(8))
		s.flags = (uint8_t)((rnd() & ~F_ACK) | F_SYN);
	s.window = (uint16_t)rnd();
	if (r < 40) {
		memcpy(opts, linux_syn_opts, 20);
		p32(opts + 8, (uint32_t)rnd());
		opts[19] = (uint8_t)rn(16);
		s.optlen = 20;
	} else if (r < 50) {
		s.optlen = 0;
	} else if (r < 60) {
		opts[0] = 2; opts[1] = 4; p16(opts + 2, (uint16_t)rnd());
		s.optlen = 4;
	} else {
		s.optlen = rnd_opts(opts, 40, 1);
	}
	s.opts = opts;
	spec_common(&s, ext, sizeof(ext));
	finish(g, &s);
}

/* A final ACK of a handshake from the pool (or a forged/prev-key one). */
static void gen_ack(struct gen *g)
{
	struct spec s;
	uint8_t opts[40], ext[1400];
	struct hs h;
	int r = (int)rn(100);

	memset(&s, 0, sizeof(s));
	/* under track the pool holds tracked SYNs' tuples (no cookie of ours):
	 * fewer from it, so that synthetic cookies still validate often */
	if (pool_n && r < (track ? 50 : 80)) {
		h = pool[rn((uint32_t)pool_n)];
	} else {
		/* a synthetic handshake: a cookie made by the reference (mostly
		 * under the previous key, some expired), or a plain guess */
		memset(&h, 0, sizeof(h));
		h.v6 = chance(40);
		memcpy(h.cli, h.v6 ? cli6 : cli4, h.v6 ? 16 : 4);
		memcpy(h.srv, h.v6 ? srv6 : srv4, h.v6 ? 16 : 4);
		h.cport = (uint16_t)(1024 + rn(64000));
		h.sport = PORT_PROT;
		if (chance(20)) {
			h.sport = PORT_WILD;
			if (chance(70))
				routed_dst(h.v6, h.srv);
		}
		h.isn = (uint32_t)rnd();
		h.cookie = (uint32_t)rnd();
		if (r < 92) {
			uint8_t info = (uint8_t)rnd();
			uint64_t now = tai_ns();
			/* this, the previous or (expired) the one before */
			uint32_t ctr = (uint32_t)(now >> 36) - (uint32_t)rn(3);
			const uint8_t *key = chance(70) ? key_prev : key_cur;
			uint64_t hh = ref_cookie_hash(key, h.v6, h.cli, h.srv, h.cport, h.sport,
						      h.isn, ctr, info);
			uint64_t clk = ctr == (uint32_t)(now >> 36) ? now >> 14
				       : ((uint64_t)ctr << 22) + rn(1u << 22);

			h.cookie = (uint32_t)(hh & 0xffffff) << 8 | info;
			h.ts = chance(50);
			h.tsval = (uint32_t)(clk & 0xffffff) << 8 | (uint32_t)((hh >> 24) & 0xff);
		}
	}
	s.v6 = h.v6;
	memcpy(s.smac, cli_mac, 6);
	pick_dmac(s.dmac);
	memcpy(s.saddr, h.cli, 16);
	memcpy(s.daddr, h.srv, 16);
	s.sport = h.cport;
	s.dport = h.sport;
	s.seq = h.isn + 1;
	s.ack = h.cookie + 1;
	/* a later data segment of the same batch (its seq past the ISN + 1):
	 * passes only within 20 ms of the handshake's validation */
	if (chance(12)) {
		s.seq += 1 + (uint32_t)rn(chance(90) ? 65536 : 0xffffffffu);
		s.payload = 1 + rn(1400);
	}
	s.flags = F_ACK;
	r = (int)rn(100);
	if (r < 10)
		s.flags |= F_PSH;
	else if (r < 13)
		s.flags |= F_FIN;
	else if (r < 15)
		s.flags |= F_URG | F_ECE | F_CWR;
	else if (r < 18)
		s.flags = (uint8_t)rnd();
	s.window = (uint16_t)rnd();
	if (h.ts && chance(85)) {
		opts[0] = 1; opts[1] = 1; opts[2] = 8; opts[3] = 10;
		p32(opts + 4, (uint32_t)rnd());
		p32(opts + 8, h.tsval);
		s.optlen = 12;
		if (chance(15)) {
			/* the same TS behind other options */
			uint8_t ts[10];

			memcpy(ts, opts + 2, 10);
			s.optlen = rnd_opts(opts, 30, 0);
			memcpy(opts + s.optlen, ts, 10);
			s.optlen += 10;
		}
	} else if (chance(20)) {
		s.optlen = rnd_opts(opts, 40, 0);
	}
	s.opts = opts;
	{
		spec_common(&s, ext, sizeof(ext));
		finish(g, &s);
	}
}

/* Other segments: to the established connection, RSTs, SYN-ACKs, random
 * flags, random ports. */
static void gen_data(struct gen *g)
{
	struct spec s;
	uint8_t opts[40], ext[1400];

	memset(&s, 0, sizeof(s));
	s.v6 = chance(30);
	spec_addrs(&s);
	s.sport = (uint16_t)(1024 + rn(64000));
	s.dport = rnd_dport();
	if (s.dport == PORT_WILD && chance(60))
		routed_dst(s.v6, s.daddr);
	if (!s.v6 && chance(30)) {
		memcpy(s.saddr, cli4, 4);
		memcpy(s.daddr, srv4, 4);
		s.sport = est_port;
		s.dport = PORT_PROT;
	}
	s.seq = (uint32_t)rnd();
	s.ack = (uint32_t)rnd();
	switch (rn(6)) {
	case 0: s.flags = F_RST; break;
	case 1: s.flags = F_RST | F_ACK; break;
	case 2: s.flags = F_SYN | F_ACK; break;
	case 3: s.flags = F_ACK | F_PSH; break;
	case 4: s.flags = F_FIN | F_ACK; break;
	default: s.flags = (uint8_t)rnd(); break;
	}
	s.payload = rn(300);
	s.optlen = chance(30) ? rnd_opts(opts, 40, 1) : 0;
	s.opts = opts;
	spec_common(&s, ext, sizeof(ext));
	finish(g, &s);
}

static void gen_random(struct gen *g)
{
	size_t len = 14 + rn(300);

	g->f.len = len;
	rnd_bytes(g->f.b, len);
	g->l3 = 14;
	g->l4 = 34;
	g->doff = 20;
	g->v6 = 0;
	if (chance(60)) {
		/* random after a plausible Ethernet + IP version */
		g->v6 = chance(50);
		p16(g->f.b + 12, g->v6 ? 0x86dd : 0x0800);
		g->f.b[14] = (uint8_t)(g->v6 ? 0x60 | (g->f.b[14] & 15) : 0x40 | (g->f.b[14] & 15));
		if (chance(50)) {
			if (g->v6)
				g->f.b[20] = 6;
			else
				g->f.b[23] = 6;
		}
		if (g->v6)
			g->l4 = 54;
	}
}

/* Mutations of a built frame. */
static void mutate(struct gen *g)
{
	struct frame *f = &g->f;
	int n = 1 + (int)rn(3);

	for (int i = 0; i < n; i++) {
		size_t hdr_end = g->l4 + g->doff < f->len ? g->l4 + g->doff : f->len;

		switch (rn(12)) {
		case 0: /* bit flips in the headers */
		case 1: {
			int k = 1 + (int)rn(4);

			for (int j = 0; j < k && hdr_end; j++) {
				size_t at = rn((uint32_t)hdr_end);

				f->b[at] ^= (uint8_t)(1 << rn(8));
			}
			break;
		}
		case 2: /* bit flip anywhere */
			if (f->len)
				f->b[rn((uint32_t)f->len)] ^= (uint8_t)(1 << rn(8));
			break;
		case 3: /* truncation */
			if (f->len > 14)
				f->len = 14 + rn((uint32_t)(f->len - 14));
			break;
		case 4: /* ihl (IPv4) / version */
			if (g->l3 < f->len) {
				if (!g->v6)
					f->b[g->l3] = (uint8_t)((f->b[g->l3] & 0xf0) | rn(16));
				else if (chance(30))
					f->b[g->l3] = (uint8_t)((rn(16) << 4) | (f->b[g->l3] & 15));
			}
			break;
		case 5: /* doff */
			if (g->l4 + 12 < f->len)
				f->b[g->l4 + 12] = (uint8_t)((rn(16) << 4) | (f->b[g->l4 + 12] & 15));
			break;
		case 6: /* random option bytes */
			for (size_t at = g->l4 + 20; at < hdr_end; at++)
				if (chance(30))
					f->b[at] = chance(50) ? (uint8_t)rn(12) : (uint8_t)rnd();
			break;
		case 7: /* flags */
			if (g->l4 + 13 < f->len)
				f->b[g->l4 + 13] = (uint8_t)rnd();
			break;
		case 8: /* tot_len / payload_len / frag_off / nexthdr */
			if (g->l3 + 8 < f->len) {
				if (g->v6) {
					if (chance(50))
						p16(f->b + g->l3 + 4, (uint16_t)rnd());
					else
						f->b[g->l3 + 6] = chance(50) ? (uint8_t)rn(64) : (uint8_t)rnd();
				} else if (chance(50)) {
					p16(f->b + g->l3 + 2, (uint16_t)rn(120));
				} else {
					p16(f->b + g->l3 + 6, (uint16_t)rnd());
				}
			}
			break;
		case 9: /* ports */
			if (g->l4 + 4 <= f->len)
				p16(f->b + g->l4 + 2, rnd_dport());
			break;
		case 10: /* extension-header bytes / ethertype */
			if (g->v6 && g->l4 > g->l3 + 40 && g->l4 <= f->len)
				f->b[g->l3 + 40 + rn((uint32_t)(g->l4 - g->l3 - 40))] = (uint8_t)rnd();
			else if (g->l3 >= 2 && chance(30))
				p16(f->b + g->l3 - 2, chance(50) ? 0x8100 : (uint16_t)rnd());
			break;
		default: /* append garbage */
			if (f->len < FRAME_MAX - 64) {
				size_t k = 1 + rn(64);

				rnd_bytes(f->b + f->len, k);
				f->len += k;
			}
			break;
		}
	}
}

/* ---- running and checking ---------------------------------------------- */

static struct {
	uint8_t b[FRAME_MAX];
	size_t len;
	struct orc o;
	int verdict;
} batch[BATCH];
static int batch_n;
static uint64_t before[XDPSYN_CNT_MAX], cms_before;
static uint64_t frames, mix[5], ack_valid_seen, ambiguous, burst_evicted;
static uint64_t cnt_total[XDPSYN_CNT_MAX];
static uint64_t path_n[NPATH];
static int shown[NINV];

static void violation(int inv, const char *why, const uint8_t *b, size_t len,
		      const struct orc *o, int verdict)
{
	viol[inv]++;
	if (shown[inv]++ >= SHOW_MAX)
		return;
	if (o)
		printf("  VIOLATION %s: %s (oracle %s/%s, program %s)\n", inv_name[inv], why,
		       cnt_names[o->cnt], vname(o->verdict), vname(verdict));
	else
		printf("  VIOLATION %s: %s\n", inv_name[inv], why);
	if (b)
		hexdump("frame", b, len);
}

static void check_synack(const uint8_t *in, size_t inlen, const struct orc *o,
			 const uint8_t *out, size_t outlen, uint64_t t0, uint64_t t1)
{
	struct parsed p;
	int alen = o->v6 ? 16 : 4, found = 0;
	const char *why = NULL;

	frame_parse(out, outlen, &p);
	if (!p.ok)
		why = p.why;
	else if (!p.ip_csum_ok)
		why = "IPv4 header checksum wrong";
	else if (!p.tcp_csum_ok)
		why = "TCP checksum wrong";
	else if (p.v6 != o->v6 || p.vlans != o->vlans)
		why = "family or VLAN tags changed";
	else if (memcmp(p.saddr, o->daddr, alen) || memcmp(p.daddr, o->saddr, alen))
		why = "addresses not swapped";
	else if (memcmp(p.smac, o->dmac, 6) || memcmp(p.dmac, o->smac, 6))
		why = "MACs not swapped";
	else if (p.sport != o->dport || p.dport != o->sport)
		why = "ports not swapped";
	else if (p.ack != o->seq + 1)
		why = "ack is not the client ISN + 1";
	else if ((p.flags & (F_SYN | F_ACK | F_RST | F_FIN)) != (F_SYN | F_ACK))
		why = "flags not SYN|ACK";
	else if ((p.seq & 0xff) != o->info)
		why = "cookie info byte not what the SYN's options and the sysctls give";
	if (!why) {
		/* README: MSS (min of the client's and ours), SACK_PERM,
		 * timestamps, window scale for what the client offered (and
		 * the sysctls allow), ECE when it asked for ECN and ECN is on */
		int have = 0, mss = -1, cap = o->v6 ? CFG_MSS6 : CFG_MSS4;
		size_t i = 0;

		while (i < p.optlen && p.opts[i]) {
			if (p.opts[i] == 1) {
				i++;
				continue;
			}
			if (i + 1 >= p.optlen || p.opts[i + 1] < 2)
				break;
			if (p.opts[i] == 2 && p.opts[i + 1] == 4 && i + 4 <= p.optlen)
				mss = g16(p.opts + i + 2);
			have |= p.opts[i] == 8 ? ALLOW_TS : p.opts[i] == 4 ? ALLOW_SACK
			      : p.opts[i] == 3 ? ALLOW_WS : 0;
			i += p.opts[i + 1];
		}
		if (p.flags & F_ECE)
			have |= ALLOW_ECN;
		if (have != o->want_opts)
			why = "SYN-ACK options/ECE (TS 1, SACK 2, WS 4, ECE 8) not what the client offered and the sysctls allow";
		else if (mss != (o->mss && o->mss < cap ? o->mss : cap))
			why = "SYN-ACK MSS not min(client's, ours)";
	}
	if (!why) {
		for (uint32_t c = (uint32_t)(t0 >> 36); c <= (uint32_t)(t1 >> 36) && !found; c++) {
			uint64_t h = ref_cookie_hash(key_cur, o->v6, o->saddr, o->daddr, o->sport,
						     o->dport, o->seq, c, o->info);

			found = (uint32_t)(h & 0xffffff) == p.seq >> 8;
		}
		if (!found)
			why = "cookie is not the reference SipHash cookie";
	}
	if (why) {
		violation(INV_OUT, why, in, inlen, o, V_TX);
		if (shown[INV_OUT] <= SHOW_MAX)
			hexdump("SYN-ACK", out, outlen);
		return;
	}
	/* a good SYN-ACK to a listener: its ACK goes to the pool */
	if (sk_listener(sock_kind(o->v6, o->saddr, o->daddr, o->sport, o->dport))) {
		struct hs *h = &pool[pool_n < POOL ? pool_n++ : (int)rn(POOL)];
		size_t i = 0;

		memset(h, 0, sizeof(*h));
		h->v6 = o->v6;
		memcpy(h->cli, o->saddr, alen);
		memcpy(h->srv, o->daddr, alen);
		h->cport = o->sport;
		h->sport = o->dport;
		h->isn = o->seq;
		h->cookie = p.seq;
		while (i + 1 < p.optlen) {
			if (p.opts[i] == 1) {
				i++;
				continue;
			}
			if (p.opts[i] == 8 && i + 10 <= p.optlen) {
				h->ts = 1;
				h->tsval = g32(p.opts + i + 2);
			}
			if (p.opts[i + 1] < 2)
				break;
			i += p.opts[i + 1];
		}
	}
}

static void stats_check_batch(void);

/* After a frame the oracle predicted as a tracked SYN: its record, as the
 * oracle holds it. After an ACK that completed one: no record. */
static void hs_check_frame(const uint8_t *b, size_t len, const struct orc *o, int v)
{
	struct xdpsyn_flow f;
	const struct hsrec *r = hs_find(&o->key);
	char why[200];
	int err;

	err = bpf_map__lookup_elem(skel->maps.xdpsyn_hs, &o->key, sizeof(o->key), &f, sizeof(f), 0);
	if (o->est) {
		if (!err)
			violation(INV_HS, "the ACK completed the tracked handshake but its record stayed",
				  b, len, o, v);
		return;
	}
	if (err) {
		violation(INV_HS, "no xdpsyn_hs record after a tracked SYN", b, len, o, v);
		return;
	}
	if (!r)
		return; /* cannot happen: hs_commit just put it */
	if ((f.state != XDPSYN_HS_SYN && f.state != XDPSYN_HS_SYNACK) || f.isn != r->isn ||
	    f.syn_retrans != r->retrans || f.mss != r->mss || f.snd_wscale != r->ws ||
	    f.flags != r->flags || f.rcv_wscale != 0x0f) {
		snprintf(why, sizeof(why),
			 "xdpsyn_hs record state %u isn %08x retrans %u mss %u ws %u flags %#x, "
			 "oracle: state SYN isn %08x retrans %u mss %u ws %u flags %#x",
			 f.state, f.isn, f.syn_retrans, f.mss, f.snd_wscale, f.flags, r->isn,
			 r->retrans, r->mss, r->ws, r->flags);
		violation(INV_HS, why, b, len, o, v);
	}
}

/* The whole of xdpsyn_hs against the oracle's records (every record of
 * either side on the other, equal); then, when `empty`, both emptied. */
static void hs_sync(int empty)
{
	static struct xdpsyn_flow_key keys[65536];
	struct xdpsyn_flow_key k, *prev = NULL;
	struct xdpsyn_flow f;
	uint32_t n = 0, matched = 0;
	char why[160];

	while (n < sizeof(keys) / sizeof(keys[0]) &&
	       !bpf_map__get_next_key(skel->maps.xdpsyn_hs, prev, &k, sizeof(k))) {
		keys[n] = k;
		prev = &keys[n++];
	}
	for (uint32_t i = 0; i < n; i++) {
		const struct hsrec *r = hs_find(&keys[i]);

		if (bpf_map__lookup_elem(skel->maps.xdpsyn_hs, &keys[i], sizeof(keys[i]), &f,
					 sizeof(f), 0))
			continue;
		if (!r) {
			snprintf(why, sizeof(why),
				 "xdpsyn_hs has a record (isn %08x, port %u -> %u) the oracle never made",
				 f.isn, ntohs(keys[i].sport), ntohs(keys[i].dport));
			violation(INV_HS, why, NULL, 0, NULL, 0);
		} else if (f.state != XDPSYN_HS_SYN || f.isn != r->isn || f.syn_retrans != r->retrans) {
			snprintf(why, sizeof(why),
				 "record isn %08x state %u retrans %u, oracle isn %08x state SYN retrans %u",
				 f.isn, f.state, f.syn_retrans, r->isn, r->retrans);
			violation(INV_HS, why, NULL, 0, NULL, 0);
		} else {
			matched++;
		}
	}
	if (matched != hs_live) {
		snprintf(why, sizeof(why), "%u of the oracle's %u records are in xdpsyn_hs (%u there)",
			 matched, hs_live, n);
		violation(INV_HS, why, NULL, 0, NULL, 0);
	}
	if (!empty)
		return;
	for (uint32_t i = 0; i < n; i++)
		bpf_map__delete_elem(skel->maps.xdpsyn_hs, &keys[i], sizeof(keys[i]), 0);
	hs_clear();
}

/* When both verdicts of an ACK whose cookie validity changed during the run
 * are XDP_PASS (track: ACK_KERNEL; proxy: NOT_LOCAL), which counter moved
 * tells: ACK_VALID, or alt (the batch's earlier frames moved ACK_VALID as
 * predicted, or the batch check says so). */
static int ack_resolve(int alt)
{
	uint64_t now[XDPSYN_CNT_MAX], w = 0;

	stats_read(now);
	for (int i = 0; i < batch_n; i++)
		w += batch[i].o.cnt == XDPSYN_CNT_ACK_VALID;
	return now[XDPSYN_CNT_ACK_VALID] - before[XDPSYN_CNT_ACK_VALID] > w ? XDPSYN_CNT_ACK_VALID : alt;
}

/* A tracked handshake's client: its ACK (kernel ISN unknown, any cookie). */
static void pool_add_tracked(const struct orc *o)
{
	struct hs *h;
	int alen = o->v6 ? 16 : 4;

	if (!sk_listener(sock_kind(o->v6, o->saddr, o->daddr, o->sport, o->dport)))
		return;
	h = &pool[pool_n < POOL ? pool_n++ : (int)rn(POOL)];
	memset(h, 0, sizeof(*h));
	h->v6 = o->v6;
	memcpy(h->cli, o->saddr, alen);
	memcpy(h->srv, o->daddr, alen);
	h->cport = o->sport;
	h->sport = o->dport;
	h->isn = o->seq;
	h->cookie = (uint32_t)rnd();
	h->ts = o->ts;
	h->tsval = (uint32_t)rnd();
}

static void run_one(const uint8_t *b, size_t len)
{
	static uint8_t out[OUT_MAX];
	LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = b, .data_size_in = (uint32_t)len,
		    .data_out = out, .data_size_out = sizeof(out), .repeat = 1);
	struct orc o;
	uint64_t t0, t1;
	int err, v;

	t0 = tai_ns();
	err = bpf_prog_test_run_opts(prog_fd, &opts);
	t1 = tai_ns();
	oracle(b, len, t0, t1, &o);
	if (err) {
		char why[96];

		snprintf(why, sizeof(why), "BPF_PROG_TEST_RUN failed: %s", strerror(errno));
		violation(INV_ABORT, why, b, len, &o, -1);
		return;
	}
	v = (int)opts.retval;
	frames++;
	mix[v >= 0 && v <= 4 ? v : 4]++;
	if (o.burst_amb && !o.ambiguous) {
		ambiguous++;
		o.cnt = v == V_PASS ? XDPSYN_CNT_ACK_BURST : XDPSYN_CNT_ACK_INVALID;
		o.verdict = v;
	}
	if (o.cnt == XDPSYN_CNT_ACK_BURST && v == V_DROP && !o.ambiguous) {
		/* the map is an LRU: under the fuzz's churn it may have
		 * evicted the entry (then the segment waits for a
		 * retransmission, as without the batch rule); told by the map
		 * itself, counted, never more than a few */
		struct xdpsyn_handoff h;

		if (bpf_map__lookup_elem(skel->maps.xdpsyn_handoffs, &o.vkey, sizeof(o.vkey), &h,
					 sizeof(h), 0) ||
		    h.cookie != o.vack - 1) {
			burst_evicted++;
			o.cnt = XDPSYN_CNT_ACK_INVALID;
			o.verdict = V_DROP;
		}
	}
	if (o.ambiguous) {
		ambiguous++;
		if (o.alt_verdict == V_PASS) {
			o.cnt = ack_resolve(o.alt_cnt);
			o.verdict = V_PASS;
		} else {
			o.cnt = v == V_PASS ? XDPSYN_CNT_ACK_VALID : o.alt_cnt;
			o.verdict = v;
		}
		/* no kernel cookie in the fuzz: an ACK never completes a
		 * tracked handshake (o.est stays 0) */
	}
	if (o.path && o.cnt != XDPSYN_CNT_ACK_VALID)
		path_n[o.path]++;
	hs_commit(&o);
	if (o.ack_path && o.cnt == XDPSYN_CNT_ACK_VALID)
		val_commit(&o.vkey, o.vseq - 1, o.vack - 1, t0, t1);
	if (v == V_ABORTED)
		violation(INV_ABORT, "XDP_ABORTED", b, len, &o, v);
	if ((v == V_TX) != (o.verdict == V_TX))
		violation(INV_TX, v == V_TX ? (track ? "SYN-ACK sent under the track policy"
						     : "SYN-ACK sent for a frame the oracle does not answer")
					     : "well-formed SYN to this host's listener not answered",
			  b, len, &o, v);
	if (o.ack_path && (v == V_PASS) != (o.verdict == V_PASS))
		violation(INV_ACK, v == V_PASS ? "ACK to this host passed with an invalid cookie"
				   : track ? "ACK to the listener not passed under the track policy"
				   : o.verdict == V_PASS && o.cnt == XDPSYN_CNT_NOT_LOCAL
					   ? "ACK not for this host (NOT_LOCAL) dropped"
					   : "ACK with a valid cookie not passed",
			  b, len, &o, v);
	if (v != o.verdict)
		violation(INV_EXACT, "verdict differs", b, len, &o, v);
	if (v == V_TX && o.verdict == V_TX)
		check_synack(b, len, &o, out, opts.data_size_out, t0, t1);
	if (track) {
		if (opts.data_size_out != len || memcmp(out, b, len)) {
			violation(INV_OUT, "the frame left the program changed", b, len, &o, v);
			if (shown[INV_OUT] <= SHOW_MAX)
				hexdump("out", out, opts.data_size_out);
		}
		if (o.hs || o.est)
			hs_check_frame(b, len, &o, v);
		if (o.hs == 1)
			pool_add_tracked(&o);
	}
	if (o.verdict == V_PASS && o.cnt == XDPSYN_CNT_ACK_VALID)
		ack_valid_seen++;

	memcpy(batch[batch_n].b, b, len);
	batch[batch_n].len = len;
	batch[batch_n].o = o;
	batch[batch_n].verdict = v;
	if (++batch_n == BATCH)
		stats_check_batch();
}

/* Counters over the batch: RX and the sum of verdict counters equal the
 * frame count (4); every counter moved as the oracle predicts (6). On a
 * mismatch the batch is run again frame by frame to name the frames. */
static void stats_check_batch(void)
{
	uint64_t after[XDPSYN_CNT_MAX], want[XDPSYN_CNT_MAX] = { 0 }, sum = 0;
	uint64_t cms_after, cms_want = 0;
	int n = batch_n, exact_ok = 1;
	char why[160];

	batch_n = 0;
	if (!n)
		return;
	stats_read(after);
	cms_after = cms_total();
	for (int i = 0; i < n; i++) {
		const struct orc *o = &batch[i].o;

		want[XDPSYN_CNT_RX]++;
		want[o->cnt]++;
		if (o->syn)
			want[XDPSYN_CNT_SYN]++;
		if (o->prev_key && o->cnt == XDPSYN_CNT_ACK_VALID && !o->ambiguous)
			want[XDPSYN_CNT_ACK_PREV_KEY]++;
		if (o->est)
			want[XDPSYN_CNT_TRACK_ESTABLISHED]++;
		if (o->opt_off && o->cnt == XDPSYN_CNT_SYNACK_TX)
			want[XDPSYN_CNT_SYN_OPT_OFF]++;
		if (o->cnt == XDPSYN_CNT_SYNACK_TX || o->cnt == XDPSYN_CNT_TRACK_SYN)
			cms_want++;
	}
	/* the sketch counts every answered SYN (proxy), only new handshakes
	 * (track) */
	if (cms_after - cms_before != cms_want) {
		snprintf(why, sizeof(why), "batch of %d frames: the SYN sketch moved by %llu, oracle says %llu",
			 n, (unsigned long long)(cms_after - cms_before), (unsigned long long)cms_want);
		violation(INV_EXACT, why, NULL, 0, NULL, 0);
	}
	for (int i = 0; i < XDPSYN_CNT_MAX; i++) {
		uint64_t d = after[i] - before[i];

		cnt_total[i] += d;
		if (is_verdict_counter(i))
			sum += d;
		if (d != want[i]) {
			exact_ok = 0;
			if (shown[INV_EXACT] < SHOW_MAX)
				printf("  batch: counter %s moved by %llu, oracle says %llu\n", cnt_names[i],
				       (unsigned long long)d, (unsigned long long)want[i]);
		}
	}
	if (after[XDPSYN_CNT_RX] - before[XDPSYN_CNT_RX] != (uint64_t)n || sum != (uint64_t)n) {
		snprintf(why, sizeof(why), "batch of %d frames: RX moved by %llu, verdict counters by %llu", n,
			 (unsigned long long)(after[XDPSYN_CNT_RX] - before[XDPSYN_CNT_RX]),
			 (unsigned long long)sum);
		viol[INV_CNT]++;
		if (shown[INV_CNT]++ < SHOW_MAX)
			printf("  VIOLATION %s: %s\n", inv_name[INV_CNT], why);
	}
	if (!exact_ok) {
		/* name the frames: one run each, its counter deltas */
		for (int i = 0; i < n; i++) {
			uint64_t b0[XDPSYN_CNT_MAX], b1[XDPSYN_CNT_MAX];
			static uint8_t out[OUT_MAX];
			LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = batch[i].b,
				    .data_size_in = (uint32_t)batch[i].len, .data_out = out,
				    .data_size_out = sizeof(out), .repeat = 1);
			const struct orc *o = &batch[i].o;
			struct orc o2;
			uint64_t t0, t1;

			stats_read(b0);
			t0 = tai_ns();
			bpf_prog_test_run_opts(prog_fd, &opts);
			t1 = tai_ns();
			stats_read(b1);
			if (track) {
				/* the records moved on with the first run: the
				 * oracle predicts this run from its own */
				oracle(batch[i].b, batch[i].len, t0, t1, &o2);
				if (o2.ambiguous)
					o2.cnt = b1[XDPSYN_CNT_ACK_VALID] != b0[XDPSYN_CNT_ACK_VALID]
							 ? XDPSYN_CNT_ACK_VALID
							 : o2.alt_cnt;
				hs_commit(&o2);
				o = &o2;
			}
			for (int c = 0; c < XDPSYN_CNT_MAX; c++) {
				uint64_t w = c == XDPSYN_CNT_RX || c == o->cnt ||
					     (c == XDPSYN_CNT_SYN && o->syn) ||
					     (c == XDPSYN_CNT_ACK_PREV_KEY && o->prev_key &&
					      o->cnt == XDPSYN_CNT_ACK_VALID) ||
					     (c == XDPSYN_CNT_TRACK_ESTABLISHED && o->est) ||
					     (c == XDPSYN_CNT_SYN_OPT_OFF && o->opt_off &&
					      o->cnt == XDPSYN_CNT_SYNACK_TX);

				if (c == XDPSYN_CNT_ACK_PREV_KEY && o->ambiguous)
					continue;
				if (b1[c] - b0[c] != w) {
					snprintf(why, sizeof(why), "counter %s moved by %llu, oracle says %llu",
						 cnt_names[c], (unsigned long long)(b1[c] - b0[c]),
						 (unsigned long long)w);
					violation(INV_EXACT, why, batch[i].b, batch[i].len, o,
						  batch[i].verdict);
					/* track: an ACK's cookie verdict is in
					 * its counter, not in XDP_PASS */
					if (track && o->ack_path &&
					    (c == XDPSYN_CNT_ACK_VALID || c == XDPSYN_CNT_ACK_KERNEL ||
					     c == XDPSYN_CNT_ACK_INVALID))
						violation(INV_ACK, why, batch[i].b, batch[i].len, o,
							  batch[i].verdict);
					break;
				}
			}
		}
		stats_read(after);
		cms_after = cms_total();
	}
	memcpy(before, after, sizeof(before));
	cms_before = cms_after;
}

/* ---- setup ---------------------------------------------------------------- */

static void map_put(struct bpf_map *m, __u32 key, const void *v, size_t vs)
{
	if (bpf_map__update_elem(m, &key, sizeof(key), v, vs, 0)) {
		perror("test_fuzz: map update");
		exit(1);
	}
}

/* An MPTCP listener on addr:PORT_MPTCP; 0 if the kernel has no MPTCP. */
static int mptcp_listen(int v6, const uint8_t *addr)
{
	int one = 1, fd = socket(v6 ? AF_INET6 : AF_INET, SOCK_STREAM, IPPROTO_MPTCP);
	struct sockaddr_in6 a6 = { .sin6_family = AF_INET6, .sin6_port = htons(PORT_MPTCP) };
	struct sockaddr_in a4 = { .sin_family = AF_INET, .sin_port = htons(PORT_MPTCP) };

	if (fd < 0)
		return 0;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (v6) {
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
		memcpy(&a6.sin6_addr, addr, 16);
		if (bind(fd, (void *)&a6, sizeof(a6)))
			return 0;
	} else {
		memcpy(&a4.sin_addr, addr, 4);
		if (bind(fd, (void *)&a4, sizeof(a4)))
			return 0;
	}
	return !listen(fd, 16);
}

static void sysctl_put(const char *path, int v)
{
	FILE *f = fopen(path, "w");

	if (!f || fprintf(f, "%d\n", v) < 0 || fclose(f)) {
		fprintf(stderr, "test_fuzz: writing %s: %s\n", path, strerror(errno));
		exit(1);
	}
}

/* The environment of phase n (every 2^14 frames): the config's MAC set in
 * odd phases; forwarding on in phases 1, 2 (mod 4); tcp_syncookies=0 in
 * phase 3 (mod 4); in phases 2 (mod 3) the sysctls turn off all four
 * options, then TS, then SACK and WS, then ECN, in turn. */
static void env_apply(uint64_t n)
{
	static const int off_sets[4] = { 0, ALLOW_ALL & ~ALLOW_TS, ALLOW_ALL & ~(ALLOW_SACK | ALLOW_WS),
					 ALLOW_ALL & ~ALLOW_ECN };
	int mac_on = (int)(n & 1), fwd = n % 4 == 1 || n % 4 == 2, syncookies = n % 4 != 3;
	int allow = n % 3 == 2 ? off_sets[(n / 3) % 4] : ALLOW_ALL;

	stats_check_batch();
	if (mac_on != env.mac_on) {
		struct xdpsyn_config cfg;
		__u32 zero = 0;

		bpf_map__lookup_elem(skel->maps.xdpsyn_config, &zero, sizeof(zero), &cfg, sizeof(cfg), 0);
		memcpy(cfg.mac, mac_on ? srv_mac : (const uint8_t[6]){ 0 }, 6);
		map_put(skel->maps.xdpsyn_config, 0, &cfg, sizeof(cfg));
	}
	if (fwd != env.fwd) {
		sysctl_put("/proc/sys/net/ipv4/ip_forward", fwd);
		sysctl_put("/proc/sys/net/ipv6/conf/all/forwarding", fwd);
	}
	if (syncookies != env.syncookies)
		sysctl_put("/proc/sys/net/ipv4/tcp_syncookies", syncookies);
	if (allow != env.allow) {
		sysctl_put("/proc/sys/net/ipv4/tcp_timestamps", !!(allow & ALLOW_TS));
		sysctl_put("/proc/sys/net/ipv4/tcp_sack", !!(allow & ALLOW_SACK));
		sysctl_put("/proc/sys/net/ipv4/tcp_window_scaling", !!(allow & ALLOW_WS));
		sysctl_put("/proc/sys/net/ipv4/tcp_ecn", allow & ALLOW_ECN ? 2 : 0);
	}
	env.mac_on = mac_on;
	env.fwd = fwd;
	env.syncookies = syncookies;
	env.allow = allow;
}

static void setup(void)
{
	struct xdpsyn_config cfg = { .mss = { CFG_MSS4, CFG_MSS6 }, .window = 64240,
				     .wscale = 7, .ttl = 61, .ecn = CFG_ECN,
				     .policy = track ? XDPSYN_POLICY_TRACK : XDPSYN_POLICY_PROXY };
	static struct xdpsyn_ports ports;
	struct xdpsyn_key k;
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(PORT_PROT) };
	struct sockaddr_in c = { .sin_family = AF_INET };
	socklen_t cl = sizeof(c);
	int l4, fd;

	netns_fixture(srv6, cli6);
	/* BPF_PROG_TEST_RUN without a context runs on the loopback's queue */
	lo_ifindex = if_nametoindex("lo");

	libbpf_set_print(libbpf_quiet);
	nproc = libbpf_num_possible_cpus();
	skel = xdpsyn__open();
	/* the entry that reads VLAN metadata loads only bound to a device */
	if (skel)
		bpf_program__set_autoload(skel->progs.xdpsyn_xdp_vlan, false);
	if (skel && xdpsyn__load(skel)) {
		xdpsyn__destroy(skel);
		skel = NULL;
	}
	if (!skel) {
		fprintf(stderr, "test_fuzz: loading build/xdpsyn.bpf.o failed\n");
		printf("0 passed, 1 failed\n");
		exit(1);
	}
	prog_fd = bpf_program__fd(skel->progs.xdpsyn_xdp);

	/* the previous key stays accepted for the whole run */
	prev_until = (uint32_t)(tai_ns() >> 36) + 1000;
	cfg.key_cur = 0;
	cfg.key_prev_until = prev_until;
	map_put(skel->maps.xdpsyn_config, 0, &cfg, sizeof(cfg));
	memcpy(&k.k0, key_cur, 8);
	memcpy(&k.k1, key_cur + 8, 8);
	map_put(skel->maps.xdpsyn_keys, 0, &k, sizeof(k));
	memcpy(&k.k0, key_prev, 8);
	memcpy(&k.k1, key_prev + 8, 8);
	map_put(skel->maps.xdpsyn_keys, 1, &k, sizeof(k));
	ports.bits[PORT_PROT / 64] |= 1ull << (PORT_PROT % 64);
	ports.bits[PORT_PROT_NOLSN / 64] |= 1ull << (PORT_PROT_NOLSN % 64);
	ports.bits[PORT_WILD / 64] |= 1ull << (PORT_WILD % 64);
	ports.bits[PORT_MPTCP / 64] |= 1ull << (PORT_MPTCP % 64);
	map_put(skel->maps.xdpsyn_ports, XDPSYN_V4, &ports, sizeof(ports));
	map_put(skel->maps.xdpsyn_ports, XDPSYN_V6, &ports, sizeof(ports));

	l4 = listen_on(0, srv4, PORT_PROT);
	listen_on(1, srv6, PORT_PROT);
	listen_on(0, srv4, PORT_OPEN);
	{
		static const uint8_t any[16];

		listen_on(0, any, PORT_WILD);
		listen_on(1, any, PORT_WILD); /* IPV6_V6ONLY */
	}
	have_mptcp = mptcp_listen(0, srv4) && mptcp_listen(1, srv6);
	if (!have_mptcp)
		printf("test_fuzz: no MPTCP listener (%s): port %d has no listener, SYN_MPTCP not "
		       "reached\n", strerror(errno), PORT_MPTCP);
	/* networks forwarding would take elsewhere (fib_elsewhere) */
	run_cmd("ip link add xfz0 type veth peer name xfz1");
	run_cmd("ip link set xfz0 up");
	run_cmd("ip link set xfz1 up");
	run_cmd("ip route add 10.201.%d.0/24 dev xfz0", NET_FWD);
	run_cmd("ip route add blackhole 10.201.%d.0/24", NET_BLACKHOLE);
	run_cmd("ip route add unreachable 10.201.%d.0/24", NET_UNREACH);
	run_cmd("ip route add prohibit 10.201.%d.0/24", NET_PROHIBIT);
	run_cmd("ip -6 route add fd00:201::%x:0/112 dev xfz0", NET_FWD);
	run_cmd("ip -6 route add blackhole fd00:201::%x:0/112", NET_BLACKHOLE);
	run_cmd("ip -6 route add unreachable fd00:201::%x:0/112", NET_UNREACH);
	run_cmd("ip -6 route add prohibit fd00:201::%x:0/112", NET_PROHIBIT);
	/* a real established connection cli4:est_port -> srv4:80 */
	fd = socket(AF_INET, SOCK_STREAM, 0);
	memcpy(&c.sin_addr, cli4, 4);
	memcpy(&a.sin_addr, srv4, 4);
	if (bind(fd, (void *)&c, sizeof(c)) || connect(fd, (void *)&a, sizeof(a)) ||
	    accept(l4, NULL, NULL) < 0 || getsockname(fd, (void *)&c, &cl)) {
		perror("test_fuzz: established connection");
		printf("0 passed, 1 failed\n");
		exit(1);
	}
	est_port = ntohs(c.sin_port);
}

/* ---- main ------------------------------------------------------------------- */

/* Track: recent SYNs, sent again as retransmissions (same tuple and ISN,
 * perhaps mutated) or with a new ISN on the same tuple. */
#define SYN_RING 32
static struct gen syn_ring[SYN_RING];
static uint32_t syn_ring_n;

static void gen_any(struct gen *g)
{
	uint32_t r = rn(100);

	if (r < 38 && track && syn_ring_n && chance(25)) {
		*g = syn_ring[rn(syn_ring_n < SYN_RING ? syn_ring_n : SYN_RING)];
		if (chance(10) && g->l4 + 8 <= g->f.len)
			p32(g->f.b + g->l4 + 4, (uint32_t)rnd());
	} else if (r < 38) {
		gen_syn(g);
		if (track)
			syn_ring[syn_ring_n++ % SYN_RING] = *g;
	} else if (r < 68)
		gen_ack(g);
	else if (r < 88)
		gen_data(g);
	else {
		gen_random(g);
		return;
	}
	if (chance(40))
		mutate(g);
}

int main(int argc, char **argv)
{
	uint64_t nframes = 100000, seed = 1, t_start, t_end;
	uint32_t hs_cap, hs_syncs = 0;
	uint64_t phase = 0;
	int passed = 0, failed = 0;
	static struct gen g;
	double secs;

	harness_prog = "test_fuzz";

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--frames") && i + 1 < argc)
			nframes = strtoull(argv[++i], NULL, 0);
		else if (!strcmp(argv[i], "--seed") && i + 1 < argc)
			seed = strtoull(argv[++i], NULL, 0);
		else if (!strcmp(argv[i], "--policy") && i + 1 < argc &&
			 (!strcmp(argv[i + 1], "proxy") || !strcmp(argv[i + 1], "track")))
			track = !strcmp(argv[++i], "track");
		else {
			fprintf(stderr, "usage: test_fuzz [--frames N] [--seed S] [--policy proxy|track]\n");
			return 2;
		}
	}
	if (track)
		for (int i = 0; i < 3; i++)
			inv_name[i] = inv_name_track[i];
	if (geteuid() != 0) {
		fprintf(stderr, "test_fuzz: must run as root (BPF, network namespace)\n");
		printf("0 passed, 1 failed\n");
		return 1;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	{
		cpu_set_t set;

		CPU_ZERO(&set);
		CPU_SET(0, &set);
		sched_setaffinity(0, sizeof(set), &set);
	}
	setup();
	rng_s = seed * 0x9E3779B97F4A7C15ULL + 0x632BE59BD9B4E019ULL;
	if (!rng_s)
		rng_s = 1;
	printf("test_fuzz: %llu frames, seed %llu%s\n", (unsigned long long)nframes,
	       (unsigned long long)seed, track ? ", policy track" : "");
	stats_read(before);
	cms_before = cms_total();
	/* track: the map and the oracle's records are compared and emptied
	 * at 3/4 of the LRU's per-CPU share (this process runs on one CPU),
	 * so no record is ever evicted */
	hs_cap = 65536 / (uint32_t)nproc;
	t_start = tai_ns();
	while (frames < nframes) {
		/* every 2^14 frames a new environment (env_apply) */
		if (frames >> 14 != phase)
			env_apply(phase = frames >> 14);
		/* every 2^20 frames (and early on): some frames truncated at
		 * every length from 14 (the test run's minimum) to full */
		if ((frames & 0xfffff) == 2000 && frames + 4000 < nframes) {
			for (int k = 0; k < 16; k++) {
				size_t full;

				memset(&g, 0, sizeof(g));
				if (k < 8)
					gen_syn(&g);
				else
					gen_ack(&g);
				full = g.f.len;
				for (size_t l = 14; l <= full; l++)
					run_one(g.f.b, l);
			}
		}
		/* every 2^16 frames the previous key's grace flips between
		 * "the whole run" and "only the previous period" */
		if ((frames & 0xffff) == 0x8000 || (frames & 0xffff) == 0) {
			struct xdpsyn_config cfg;
			__u32 zero = 0;

			stats_check_batch();
			bpf_map__lookup_elem(skel->maps.xdpsyn_config, &zero, sizeof(zero), &cfg,
					     sizeof(cfg), 0);
			prev_until = (uint32_t)(tai_ns() >> 36) + ((frames & 0xffff) ? (uint32_t)-1 : 1000);
			cfg.key_prev_until = prev_until;
			map_put(skel->maps.xdpsyn_config, 0, &cfg, sizeof(cfg));
		}
		if (track && (hs_live >= hs_cap / 4 * 3 || hs_used >= HS_SLOTS / 2)) {
			stats_check_batch();
			hs_sync(1);
			hs_syncs++;
		}
		gen_any(&g);
		if (g.f.len < 14)
			g.f.len = 14;
		run_one(g.f.b, g.f.len);
	}
	stats_check_batch();
	if (track) {
		hs_sync(0);
		printf("xdpsyn_hs: %u records at the end, compared and emptied %u times before\n",
		       hs_live, hs_syncs);
	}
	t_end = tai_ns();
	secs = (double)(t_end - t_start) / 1e9;

	printf("frames: %llu in %.2f s, %.0f frames/s\n", (unsigned long long)frames, secs,
	       (double)frames / secs);
	printf("verdict mix: TX %.2f%%, DROP %.2f%%, PASS %.2f%%, ABORTED %llu, ACK_VALID %.2f%% "
	       "(%llu), cookie checks at a period boundary %llu\n",
	       100.0 * mix[V_TX] / frames, 100.0 * mix[V_DROP] / frames,
	       100.0 * mix[V_PASS] / frames, (unsigned long long)mix[V_ABORTED],
	       100.0 * cnt_total[XDPSYN_CNT_ACK_VALID] / frames,
	       (unsigned long long)cnt_total[XDPSYN_CNT_ACK_VALID], (unsigned long long)ambiguous);
	printf("     batch segments whose handshake the LRU had evicted: %llu (of %llu)\n",
	       (unsigned long long)burst_evicted, (unsigned long long)(path_n[P_ACK_BURST] + burst_evicted));
	printf("counters:");
	for (int i = 0; i < XDPSYN_CNT_MAX; i++)
		if (cnt_total[i])
			printf(" %s=%llu", cnt_names[i], (unsigned long long)cnt_total[i]);
	printf("\n");
	for (int i = 0; i < NINV; i++) {
		if (i == INV_HS && !track)
			continue;
		printf("%-4s invariant %s: %llu violations\n", viol[i] ? "FAIL" : "ok", inv_name[i],
		       (unsigned long long)viol[i]);
		if (viol[i])
			failed++;
		else
			passed++;
	}
	/* the fuzzer is not vacuous: every class of verdict is reached */
	{
		struct sanity { const char *name; uint64_t n; double min_pct; } sp[] = {
			{ "XDP_TX (SYN-ACK)", mix[V_TX], 5 },
			{ "XDP_DROP", mix[V_DROP], 5 },
			{ "XDP_PASS", mix[V_PASS], 5 },
			{ "ACK_VALID (cookie-valid ACK passed)", cnt_total[XDPSYN_CNT_ACK_VALID], 2 },
			{ "ACK_PREV_KEY (previous-key cookie)", cnt_total[XDPSYN_CNT_ACK_PREV_KEY], 0.1 },
			{ "SYN_MARTIAN (martian SYN dropped)", cnt_total[XDPSYN_CNT_SYN_MARTIAN], 0.5 },
			{ "SYN_NOT_HOST (SYN not for this host passed)", cnt_total[XDPSYN_CNT_SYN_NOT_HOST], 0.5 },
			{ "SYN_NO_LISTENER (SYN without listener passed)", cnt_total[XDPSYN_CNT_SYN_NO_LISTENER], 1 },
			{ "SYN_SOCKET (SYN for a socket's tuple passed)", cnt_total[XDPSYN_CNT_SYN_SOCKET], 0.1 },
			{ "SYN_NO_SYNCOOKIES (tcp_syncookies=0)", cnt_total[XDPSYN_CNT_SYN_NO_SYNCOOKIES], 0.1 },
			{ "SYN_OPT_OFF (options the sysctls turn off)", cnt_total[XDPSYN_CNT_SYN_OPT_OFF], 0.1 },
			{ "NOT_LOCAL (other host's frame passed)", cnt_total[XDPSYN_CNT_NOT_LOCAL], 0.1 },
			{ "SYN_MPTCP (SYN to an MPTCP listener passed)", cnt_total[XDPSYN_CNT_SYN_MPTCP],
			  have_mptcp ? 0.1 : -1 },
		}, st[] = {
			{ "TRACK_SYN (new handshake tracked)", cnt_total[XDPSYN_CNT_TRACK_SYN], 5 },
			{ "TRACK_SYN_RETRANS (retransmitted SYN)", cnt_total[XDPSYN_CNT_TRACK_SYN_RETRANS], 1 },
			{ "XDP_DROP", mix[V_DROP], 5 },
			{ "XDP_PASS", mix[V_PASS], 5 },
			{ "ACK_VALID (cookie-valid ACK passed)", cnt_total[XDPSYN_CNT_ACK_VALID], 2 },
			{ "ACK_PREV_KEY (previous-key cookie)", cnt_total[XDPSYN_CNT_ACK_PREV_KEY], 0.1 },
			{ "ACK_KERNEL (ACK without our cookie passed)", cnt_total[XDPSYN_CNT_ACK_KERNEL], 2 },
			{ "SYN_MARTIAN (martian SYN dropped)", cnt_total[XDPSYN_CNT_SYN_MARTIAN], 0.5 },
			{ "SYN_NOT_HOST (SYN not for this host passed)", cnt_total[XDPSYN_CNT_SYN_NOT_HOST], 0.5 },
		};
		struct sanity *s = track ? st : sp;
		size_t ns = track ? sizeof(st) / sizeof(st[0]) : sizeof(sp) / sizeof(sp[0]);
		int cover = 1;

		for (size_t i = 0; i < ns; i++) {
			double pct = frames ? 100.0 * s[i].n / frames : 0;
			int ok = s[i].n > 0 && pct >= s[i].min_pct;

			if (s[i].min_pct < 0)
				continue; /* not in this kernel (said above) */

			printf("%-4s sanity: %s %.2f%% of frames (want >= %.1f%%)\n", ok ? "ok" : "FAIL",
			       s[i].name, pct, s[i].min_pct);
			ok ? passed++ : failed++;
		}
		printf("     counters never moved:");
		for (int i = 0; i < XDPSYN_CNT_MAX; i++) {
			/* track: no SYN-ACK and no ACK dropped, but the SYN
			 * and ACK paths' own counters */
			/* TRACK_ESTABLISHED needs a kernel request socket or
			 * a kernel cookie, neither of which the fuzz makes:
			 * tests/unit covers it */
			/* the do-no-harm counters: under track only the
			 * address and MAC checks come before the policy */
			int dnh = i == XDPSYN_CNT_SYN_MARTIAN || i == XDPSYN_CNT_SYN_NOT_HOST;
			int dnh_proxy = dnh || i == XDPSYN_CNT_NOT_LOCAL || i == XDPSYN_CNT_SYN_SOCKET ||
					i == XDPSYN_CNT_SYN_NO_LISTENER ||
					i == XDPSYN_CNT_SYN_NO_SYNCOOKIES ||
					i == XDPSYN_CNT_SYN_OPT_OFF ||
					(i == XDPSYN_CNT_SYN_MPTCP && have_mptcp);
			int want = track ? i != XDPSYN_CNT_SYNACK_TX && i != XDPSYN_CNT_ACK_INVALID &&
						   (i < XDPSYN_CNT_HANDOFF_OK ||
						    i == XDPSYN_CNT_TRACK_SYN ||
						    i == XDPSYN_CNT_TRACK_SYN_RETRANS ||
						    i == XDPSYN_CNT_ACK_KERNEL || dnh)
					 : i < XDPSYN_CNT_HANDOFF_OK || dnh_proxy;

			if (cnt_total[i] || i == XDPSYN_CNT_TX_ERROR || i == XDPSYN_CNT_CONFIG_MISSING ||
			    !want)
				continue;
			printf(" %s", cnt_names[i]);
			cover = 0;
		}
		printf("%s\n", cover ? " (none of the XDP verdict counters)" : "");
		printf("%-4s sanity: every XDP counter reached (but TX_ERROR, CONFIG_MISSING)\n",
		       cover ? "ok" : "FAIL");
		cover ? passed++ : failed++;

		/* each of the oracle's do-no-harm paths (its verdicts and
		 * counters checked above) taken often enough; under track only
		 * those before the policy */
		{
			uint64_t min_n = frames / 2000 > 20 ? frames / 2000 : 20;
			int all = 1;

			printf("     do-no-harm paths (frames):");
			for (int i = 1; i < P_KNOWN_GAP; i++)
				if (!track || i <= P_SYN_L2_OTHER)
					printf("%s %s %llu", i > 1 ? "," : "", path_name[i],
					       (unsigned long long)path_n[i]);
			printf("\n");
			if (!track) {
				printf("     known program limits (README; predicted as the program does):");
				for (int i = P_KNOWN_GAP; i < NPATH; i++)
					printf("%s %s %llu", i > P_KNOWN_GAP ? "," : "", path_name[i],
					       (unsigned long long)path_n[i]);
				printf("\n");
			}
			for (int i = 1; i < P_KNOWN_GAP; i++) {
				if ((track && i > P_SYN_L2_OTHER) || (i == P_SYN_MPTCP && !have_mptcp) ||
				    path_n[i] >= min_n)
					continue;
				if (all)
					printf("     paths taken fewer than %llu times:", (unsigned long long)min_n);
				printf(" [%s]", path_name[i]);
				all = 0;
			}
			if (!all)
				printf("\n");
			printf("%-4s sanity: every do-no-harm path taken >= %llu times\n", all ? "ok" : "FAIL",
			       (unsigned long long)min_n);
			all ? passed++ : failed++;
		}
	}
	printf("%d passed, %d failed\n", passed, failed);
	return failed ? 1 : 0;
}
