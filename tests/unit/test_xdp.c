// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Unit tests of the XDP program: the real object, loaded through its
 * skeleton, run with BPF_PROG_TEST_RUN on crafted frames. Runs in a private
 * network namespace it creates: the frames' server addresses sit on its
 * loopback with listening sockets on the protected port, so
 * bpf_skc_lookup_tcp finds real sockets.
 *
 * Output: one line per fixture, then "N passed, N failed"; exit 1 on any
 * failure. `test_unit --bench` prints ns/packet of a few paths instead.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <linux/if_link.h>
#include <net/if.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
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
#include "xdpsyn_tc.skel.h"
#include "frame.h"
#include "harness.h"

#define XDP_DROP_ 1
#define XDP_PASS_ 2
#define XDP_TX_ 3

#define TC_NEXT -1 /* TC_ACT_UNSPEC: continue the chain (both TC programs) */
#define PORT_PROT 80      /* protected, listener */
#define PORT_PROT_NOLSN 443 /* protected, no listener */
#define PORT_OPEN 8080    /* not protected, listener */
#define PORT_MPTCP 8443   /* protected, an MPTCP listener */
#define PORT_WILD 8081    /* protected, listeners on the wildcard address */
#define PORT_MAXSEG 8082  /* protected, a listener with TCP_MAXSEG 1000 */

static struct xdpsyn *skel;
static struct xdpsyn_tc *tcskel;
static int prog_fd, egress_fd, ingress_fd;
static int passed, failed;
static int nproc;

static const uint8_t srv4[4] = { 10, 201, 1, 1 };
static const uint8_t cli4[4] = { 10, 201, 2, 7 };
static uint8_t srv6[16], cli6[16];
static const uint8_t srv_mac[6] = { 0x02, 0, 0, 0, 0, 0x01 };
static const uint8_t cli_mac[6] = { 0x02, 0, 0, 0, 0, 0x02 };

static uint8_t key_a[16] = { 0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77,
			     0x88, 0x99, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff };
static uint8_t key_b[16] = { 0xf0, 0xe1, 0xd2, 0xc3, 0xb4, 0xa5, 0x96, 0x87,
			     0x78, 0x69, 0x5a, 0x4b, 0x3c, 0x2d, 0x1e, 0x0f };

static struct xdpsyn_config cfg_default = {
	.mss = { 1460, 1440 },
	.window = 64240,
	.wscale = 7,
	.ttl = 61,
	.ecn = 1,
};

/* ---- small helpers ---------------------------------------------------- */

static uint32_t counter_now(void)
{
	return (uint32_t)(tai_ns() >> XDPSYN_COUNTER_NS_SHIFT);
}

static void key_put(int slot, const uint8_t k[16])
{
	struct xdpsyn_key v;
	__u32 idx = slot;

	memcpy(&v.k0, k, 8); /* little-endian host: bytes 0..7 are k0 */
	memcpy(&v.k1, k + 8, 8);
	if (bpf_map__update_elem(skel->maps.xdpsyn_keys, &idx, sizeof(idx), &v, sizeof(v), 0)) {
		perror("key update");
		exit(1);
	}
}

static void cfg_put(const struct xdpsyn_config *c)
{
	__u32 zero = 0;

	if (bpf_map__update_elem(skel->maps.xdpsyn_config, &zero, sizeof(zero), c, sizeof(*c), 0)) {
		perror("config update");
		exit(1);
	}
}

static void ports_put(int family, const int *ports, int n)
{
	static struct xdpsyn_ports p;
	__u32 key = family;

	memset(&p, 0, sizeof(p));
	for (int i = 0; i < n; i++)
		p.bits[ports[i] / 64] |= 1ull << (ports[i] % 64);
	if (bpf_map__update_elem(skel->maps.xdpsyn_ports, &key, sizeof(key), &p, sizeof(p), 0)) {
		perror("ports update");
		exit(1);
	}
}

/* Counters summed over CPUs. */
static void stats_read(uint64_t out[XDPSYN_CNT_MAX])
{
	stats_sum(skel->maps.xdpsyn_stats, nproc, out);
}

static const char *cnt_names[] = {
#define N(name, help) #name,
	XDPSYN_COUNTERS(N)
#undef N
};

/* ---- running a frame -------------------------------------------------- */

struct result {
	int verdict;
	uint8_t out[FRAME_MAX];
	uint32_t out_len;
	uint64_t delta[XDPSYN_CNT_MAX];
	uint64_t t0, t1; /* CLOCK_TAI around the run */
};

static int run_frame(const struct frame *f, struct result *r)
{
	uint64_t before[XDPSYN_CNT_MAX], after[XDPSYN_CNT_MAX];
	LIBBPF_OPTS(bpf_test_run_opts, opts,
		    .data_in = f->b,
		    .data_size_in = (uint32_t)f->len,
		    .data_out = r->out,
		    .data_size_out = sizeof(r->out),
		    .repeat = 1);
	int err;

	stats_read(before);
	r->t0 = tai_ns();
	err = bpf_prog_test_run_opts(prog_fd, &opts);
	r->t1 = tai_ns();
	stats_read(after);
	if (err)
		return -errno;
	r->verdict = (int)opts.retval;
	r->out_len = opts.data_size_out;
	for (int i = 0; i < XDPSYN_CNT_MAX; i++)
		r->delta[i] = after[i] - before[i];
	return 0;
}

/* ---- reporting -------------------------------------------------------- */

static char fail_msg[512];

static int check(int cond, const char *fmt, ...)
{
	va_list ap;

	if (cond || fail_msg[0])
		return cond;
	va_start(ap, fmt);
	vsnprintf(fail_msg, sizeof(fail_msg), fmt, ap);
	va_end(ap);
	return 0;
}

static void report(const char *name)
{
	if (fail_msg[0]) {
		printf("FAIL %s: %s\n", name, fail_msg);
		failed++;
	} else {
		printf("ok   %s\n", name);
		passed++;
	}
	fail_msg[0] = 0;
	fflush(stdout);
}

static const char *verdict_name(int v)
{
	switch (v) {
	case 0: return "XDP_ABORTED";
	case XDP_DROP_: return "XDP_DROP";
	case XDP_PASS_: return "XDP_PASS";
	case XDP_TX_: return "XDP_TX";
	default: return "?";
	}
}

/* Exactly counter c, RX (and `also`, if >= 0) moved by one, nothing else. */
static void check_counters2(const struct result *r, int c, int also)
{
	for (int i = 0; i < XDPSYN_CNT_MAX; i++) {
		uint64_t want = (i == XDPSYN_CNT_RX || i == c || i == also) ? 1 : 0;

		if (i == XDPSYN_CNT_SYN && (c == XDPSYN_CNT_SYNACK_TX || c == XDPSYN_CNT_SYN_BAD_FLAGS))
			want = 1;
		if (i == XDPSYN_CNT_ACK_PREV_KEY)
			continue; /* checked where it matters */
		check(r->delta[i] == want, "counter %s moved by %llu, want %llu",
		      cnt_names[i], (unsigned long long)r->delta[i], (unsigned long long)want);
	}
}

static void check_counters(const struct result *r, int c)
{
	check_counters2(r, c, -1);
}

/* ---- frames ------------------------------------------------------------ */

static void spec_base(struct spec *s, int v6)
{
	memset(s, 0, sizeof(*s));
	s->v6 = v6;
	memcpy(s->smac, cli_mac, 6);
	memcpy(s->dmac, srv_mac, 6);
	if (v6) {
		memcpy(s->saddr, cli6, 16);
		memcpy(s->daddr, srv6, 16);
	} else {
		memcpy(s->saddr, cli4, 4);
		memcpy(s->daddr, srv4, 4);
	}
	s->sport = 40000;
	s->dport = PORT_PROT;
	s->seq = 0x11223344;
	s->flags = F_SYN;
	s->window = 64240;
}

/* Client option sets. */
struct optset {
	const char *name;
	uint8_t bytes[40];
	size_t len;
	int mss;     /* 0 = none */
	int sack, ts, ws; /* ws: -1 none */
	uint32_t tsval;
	int ecn;     /* SYN carries ECE|CWR */
};

static const struct optset optsets[] = {
	{ "no options", {0}, 0, 0, 0, 0, -1, 0, 0 },
	{ "MSS only", {2, 4, 0x05, 0xb4}, 4, 1460, 0, 0, -1, 0, 0 },
	{ "MSS+SACK+TS+WS (Linux)", {2, 4, 0x05, 0xb4, 4, 2, 8, 10, 0xde, 0xad, 0xbe, 0xef, 0, 0, 0, 0, 1, 3, 3, 7},
	  20, 1460, 1, 1, 7, 0xdeadbeef, 0 },
	{ "TS without WS", {1, 1, 8, 10, 0, 0, 0x10, 0x01, 0, 0, 0, 0, 2, 4, 0x05, 0x78}, 16, 1400, 0, 1, -1, 0x1001, 0 },
	{ "WS without TS", {2, 4, 0x05, 0xb4, 1, 3, 3, 14, 1, 1, 4, 2}, 12, 1460, 1, 0, 14, 0, 0 },
	{ "ECN SYN, MSS+WS", {2, 4, 0x05, 0xb4, 1, 3, 3, 2}, 8, 1460, 0, 0, 2, 0, 1 },
	{ "small MSS 1000, SACK", {2, 4, 0x03, 0xe8, 1, 1, 4, 2}, 8, 1000, 1, 0, -1, 0, 0 },
	{ "unknown option skipped, WS 15 clamped", {30, 6, 1, 2, 3, 4, 3, 3, 15, 0}, 10, 0, 0, 0, 14, 0, 0 },
	{ "EOL ends options", {2, 4, 0x05, 0xb4, 0, 3, 3, 9}, 8, 1460, 0, 0, -1, 0, 0 },
};

/* The client's MSS capped by ours, rounded down in the table. */
static int table_index(int v6, int mss)
{
	static const int t4[] = { XDPSYN_MSS_TABLE_V4 }, t6[] = { XDPSYN_MSS_TABLE_V6 };
	const int *t = v6 ? t6 : t4;
	int idx = 0;

	for (int i = 1; i < XDPSYN_MSS_TABLE_LEN; i++)
		if (t[i] <= mss)
			idx = i;
	return idx;
}

/* What the SYN-ACK's options must be, byte for byte (Linux order). */
static size_t expected_opts(const struct optset *o, int v6, uint8_t *b, uint32_t tsecr_echo)
{
	int cap = cfg_default.mss[v6];
	int mss = o->mss && o->mss < cap ? o->mss : cap;
	size_t n = 0;

	b[n++] = 2; b[n++] = 4; b[n++] = mss >> 8; b[n++] = mss & 0xff;
	if (o->ts) {
		if (o->sack) { b[n++] = 4; b[n++] = 2; } else { b[n++] = 1; b[n++] = 1; }
		b[n++] = 8; b[n++] = 10;
		n += 4; /* TSval: checked separately */
		b[n++] = tsecr_echo >> 24; b[n++] = tsecr_echo >> 16;
		b[n++] = tsecr_echo >> 8; b[n++] = tsecr_echo;
	} else if (o->sack) {
		b[n++] = 1; b[n++] = 1; b[n++] = 4; b[n++] = 2;
	}
	if (o->ws >= 0) {
		b[n++] = 1; b[n++] = 3; b[n++] = 3; b[n++] = cfg_default.wscale;
	}
	return n;
}

static uint8_t expected_info(const struct optset *o, int v6, int ecn_agreed)
{
	int cap = cfg_default.mss[v6];
	int peer = o->mss ? o->mss : (v6 ? XDPSYN_MSS_DEFAULT_V6 : XDPSYN_MSS_DEFAULT_V4);

	if (peer > cap)
		peer = cap;
	return (uint8_t)(table_index(v6, peer) << 6 | (ecn_agreed ? 0x20 : 0) |
			 (o->sack ? 0x10 : 0) | (o->ws >= 0 ? o->ws : 0xf));
}

/* ---- SYN fixtures ------------------------------------------------------ */

/* Handshake state one SYN fixture leaves for the ACK fixtures. */
struct handshake {
	struct spec syn;
	uint32_t cookie;
	uint32_t our_tsval;
	int ts;
};

/* A counter that moves with SYNACK_TX in syn_case (-1: none). */
static int syn_case_also = -1;

static int syn_case(const char *name, struct spec *s, const struct optset *o,
		    struct handshake *hs)
{
	struct frame f;
	struct result r;
	struct parsed p;
	uint8_t want[40];
	size_t wantlen;
	int ecn_agreed = o->ecn && cfg_default.ecn;
	uint8_t info = expected_info(o, s->v6, ecn_agreed);
	int alen = s->v6 ? 16 : 4;

	s->opts = o->bytes;
	s->optlen = o->len;
	if (o->ecn)
		s->flags |= F_ECE | F_CWR;
	frame_build(&f, s);
	if (run_frame(&f, &r)) {
		check(0, "BPF_PROG_TEST_RUN failed: %s", strerror(errno));
		report(name);
		return -1;
	}
	check(r.verdict == XDP_TX_, "verdict %s, want XDP_TX", verdict_name(r.verdict));
	check_counters2(&r, XDPSYN_CNT_SYNACK_TX, syn_case_also);
	frame_parse(r.out, r.out_len, &p);
	check(p.ok, "SYN-ACK does not parse: %s", p.why);
	if (!p.ok) {
		report(name);
		return -1;
	}
	check(!memcmp(p.dmac, s->smac, 6) && !memcmp(p.smac, s->dmac, 6), "MACs not swapped");
	check(p.vlans == s->vlans, "%d VLAN tags out, %d in", p.vlans, s->vlans);
	if (s->vlans == 2)
		check(p.vlan_tpid[0] == 0x88a8 && p.vlan_tci[0] == 100 &&
		      p.vlan_tpid[1] == 0x8100 && p.vlan_tci[1] == 200, "VLAN tags changed");
	if (s->vlans == 1)
		check(p.vlan_tpid[0] == 0x8100 && p.vlan_tci[0] == 200, "VLAN tag changed");
	check(p.v6 == s->v6, "address family changed");
	check(!memcmp(p.saddr, s->daddr, alen) && !memcmp(p.daddr, s->saddr, alen),
	      "addresses not swapped");
	check(p.ip_csum_ok, "IPv4 header checksum wrong");
	check(p.tcp_csum_ok, "TCP checksum wrong");
	check(p.ttl == cfg_default.ttl, "TTL/hop limit %u, want %u", p.ttl, cfg_default.ttl);
	if (!s->v6)
		check(p.df, "IPv4 DF not set");
	check(p.sport == s->dport && p.dport == s->sport, "ports not swapped");
	check(p.flags == (F_SYN | F_ACK | (ecn_agreed ? F_ECE : 0)), "TCP flags 0x%02x", p.flags);
	check(p.ack == s->seq + 1, "ack %u, want ISN+1 %u", p.ack, s->seq + 1);
	check(p.window == cfg_default.window, "window %u, want %u", p.window, cfg_default.window);
	check(p.payload == 0, "SYN-ACK carries %zu payload bytes", p.payload);

	wantlen = expected_opts(o, s->v6, want, o->tsval);
	check(p.optlen == wantlen, "options %zu bytes, want %zu", p.optlen, wantlen);
	if (p.optlen == wantlen) {
		size_t tsv_at = o->ts ? 8 : 64;

		for (size_t i = 0; i < wantlen; i++) {
			if (i >= tsv_at && i < tsv_at + 4)
				continue;
			if (!check(p.opts[i] == want[i], "option byte %zu is %u, want %u",
				   i, p.opts[i], want[i]))
				break;
		}
	}

	/* The cookie: the reference hash under key A, at the counter of the
	 * run (either side of a boundary if one passed during it). */
	check((p.seq & 0xff) == info, "cookie info byte 0x%02x, want 0x%02x", p.seq & 0xff, info);
	{
		uint32_t c0 = (uint32_t)(r.t0 >> XDPSYN_COUNTER_NS_SHIFT);
		uint32_t c1 = (uint32_t)(r.t1 >> XDPSYN_COUNTER_NS_SHIFT);
		int found = 0;

		for (uint32_t c = c0; c <= c1 && !found; c++) {
			uint64_t h = ref_cookie_hash(key_a, s->v6, s->saddr, s->daddr, s->sport,
						     s->dport, s->seq, c, info);
			if ((uint32_t)(h & 0xffffff) << 8 == (p.seq & 0xffffff00)) {
				found = 1;
				if (o->ts) {
					uint32_t tsval = (uint32_t)p.opts[8] << 24 | p.opts[9] << 16 |
							 p.opts[10] << 8 | p.opts[11];
					uint32_t clk0 = (r.t0 >> XDPSYN_TSCLK_NS_SHIFT) & XDPSYN_TSCLK_MASK;
					uint32_t age = (((tsval >> 8) - clk0) & XDPSYN_TSCLK_MASK);

					check((tsval & 0xff) == ((h >> 24) & 0xff), "TSval hash bits wrong");
					check(age <= ((r.t1 - r.t0) >> XDPSYN_TSCLK_NS_SHIFT) + 1,
					      "TSval clock %u not the clock of the run (%u)", tsval >> 8, clk0);
					hs->our_tsval = tsval;
				}
			}
		}
		check(found, "cookie 0x%08x is not the reference SipHash cookie", p.seq);
	}
	hs->syn = *s;
	hs->cookie = p.seq;
	hs->ts = o->ts;
	report(name);
	return 0;
}

/* ---- ACK fixtures ------------------------------------------------------ */

/* The final ACK a client sends for a handshake (optionally altered). */
static void ack_frame(struct frame *f, const struct handshake *hs, uint32_t ack, uint16_t sport,
		      int with_ts, uint32_t tsecr)
{
	struct spec s = hs->syn;
	static uint8_t ts[12];

	s.flags = F_ACK;
	s.seq = hs->syn.seq + 1;
	s.ack = ack;
	s.sport = sport;
	s.payload = 0;
	s.opts = NULL;
	s.optlen = 0;
	if (with_ts) {
		uint32_t tsval = 0x01020304;

		ts[0] = 1; ts[1] = 1; ts[2] = 8; ts[3] = 10;
		ts[4] = tsval >> 24; ts[5] = tsval >> 16; ts[6] = tsval >> 8; ts[7] = tsval;
		ts[8] = tsecr >> 24; ts[9] = tsecr >> 16; ts[10] = tsecr >> 8; ts[11] = tsecr;
		s.opts = ts;
		s.optlen = 12;
	}
	frame_build(f, &s);
}

/* Run f: verdict, exactly these counters, and no change to the frame
 * unless it is sent back. */
static void expect2(const char *name, const struct frame *f, int verdict, int counter, int also)
{
	struct result r;

	if (run_frame(f, &r)) {
		check(0, "BPF_PROG_TEST_RUN failed: %s", strerror(errno));
		report(name);
		return;
	}
	check(r.verdict == verdict, "verdict %s, want %s", verdict_name(r.verdict),
	      verdict_name(verdict));
	check_counters2(&r, counter, also);
	if (verdict != XDP_TX_)
		check(r.out_len == f->len && !memcmp(r.out, f->b, f->len),
		      "frame modified on a %s verdict", verdict_name(verdict));
	report(name);
}

static void expect(const char *name, const struct frame *f, int verdict, int counter)
{
	expect2(name, f, verdict, counter, -1);
}

static void expect_prev_key(const char *name, const struct frame *f, int want_prev)
{
	struct result r;

	if (run_frame(f, &r)) {
		check(0, "BPF_PROG_TEST_RUN failed: %s", strerror(errno));
		report(name);
		return;
	}
	check(r.verdict == XDP_PASS_, "verdict %s, want XDP_PASS", verdict_name(r.verdict));
	check(r.delta[XDPSYN_CNT_ACK_VALID] == 1, "ack_valid did not move");
	check(r.delta[XDPSYN_CNT_ACK_PREV_KEY] == (uint64_t)want_prev,
	      "ack_prev_key moved by %llu, want %d",
	      (unsigned long long)r.delta[XDPSYN_CNT_ACK_PREV_KEY], want_prev);
	report(name);
}

/* A cookie made by the reference for an arbitrary counter (no TS). */
static uint32_t ref_cookie(const uint8_t key[16], const struct handshake *hs, uint32_t counter,
			   uint8_t info)
{
	const struct spec *s = &hs->syn;
	uint64_t h = ref_cookie_hash(key, s->v6, s->saddr, s->daddr, s->sport, s->dport, s->seq,
				     counter, info);

	return (uint32_t)(h & 0xffffff) << 8 | info;
}


/* ---- tracker checks ------------------------------------------------------ */

static int record_find(int fd, const struct spec *s, struct xdpsyn_flow *out);

/* The flow record for a client tuple (any ifindex), or -1. */
static int flow_find(const struct spec *s, struct xdpsyn_flow *out)
{
	return record_find(bpf_map__fd(skel->maps.xdpsyn_flows), s, out);
}

static int top_find(int v6, const uint8_t *addr, int plen, struct xdpsyn_top_val *out)
{
	struct xdpsyn_prefix p = { .family = v6, .plen = plen };

	memcpy(p.addr, addr, v6 ? 16 : 4);
	return bpf_map__lookup_elem(skel->maps.xdpsyn_top, &p, sizeof(p), out, sizeof(*out), 0);
}

/* SYN estimate of a prefix from the sketch: sum over CPUs, min over rows. */
static uint64_t cms_estimate(int v6, const uint8_t *addr, int plen)
{
	struct xdpsyn_prefix p = { .family = v6, .plen = plen };
	struct xdpsyn_cms *v = calloc(nproc, sizeof(*v));
	uint64_t est = UINT64_MAX;
	__u32 zero = 0;
	__u64 h;

	memcpy(p.addr, addr, v6 ? 16 : 4);
	h = xdpsyn_prefix_hash(&p);
	if (!v || bpf_map__lookup_elem(skel->maps.xdpsyn_cms, &zero, sizeof(zero), v,
				       sizeof(*v) * nproc, 0))
		return 0;
	for (int r = 0; r < XDPSYN_CMS_ROWS; r++) {
		uint64_t sum = 0;

		for (int c = 0; c < nproc; c++)
			sum += v[c].c[r][xdpsyn_cms_col(h, r)];
		if (sum < est)
			est = sum;
	}
	free(v);
	return est;
}


/* ---- policies: track and auto ------------------------------------------- */

/* The TC object, its maps shared with the XDP object's (as the loader
 * does), for its egress program. */
static int tc_load(void)
{
	struct bpf_map *m;

	tcskel = xdpsyn_tc__open();
	if (!tcskel)
		return -1;
	bpf_object__for_each_map(m, tcskel->obj) {
		struct bpf_map *x = bpf_object__find_map_by_name(skel->obj, bpf_map__name(m));

		if (x && bpf_map__reuse_fd(m, bpf_map__fd(x)))
			return -1;
	}
	if (xdpsyn_tc__load(tcskel))
		return -1;
	egress_fd = bpf_program__fd(tcskel->progs.xdpsyn_tc_egress);
	ingress_fd = bpf_program__fd(tcskel->progs.xdpsyn_tc);
	return 0;
}

/* Run a TC program (FD) on a frame. */
static int run_tc(int fd, const struct frame *f, struct result *r)
{
	uint64_t before[XDPSYN_CNT_MAX], after[XDPSYN_CNT_MAX];
	LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = f->b,
		    .data_size_in = (uint32_t)f->len, .repeat = 1);
	int err;

	stats_read(before);
	r->t0 = tai_ns();
	err = bpf_prog_test_run_opts(fd, &opts);
	r->t1 = tai_ns();
	stats_read(after);
	if (err)
		return -errno;
	r->verdict = (int)opts.retval;
	for (int i = 0; i < XDPSYN_CNT_MAX; i++)
		r->delta[i] = after[i] - before[i];
	return 0;
}

/* Run the TC egress program on a frame the server sends. */
static int run_egress(const struct frame *f, struct result *r)
{
	return run_tc(egress_fd, f, r);
}

/* The record of a client tuple in map FD (any ifindex), or -1. */
static int record_find(int fd, const struct spec *s, struct xdpsyn_flow *out)
{
	struct xdpsyn_flow_key k, next;
	int alen = s->v6 ? 16 : 4;
	void *prev = NULL;

	while (!bpf_map_get_next_key(fd, prev, &next)) {
		k = next;
		prev = &k;
		if (k.family == s->v6 && !memcmp(k.saddr, s->saddr, alen) &&
		    !memcmp(k.daddr, s->daddr, alen) && ntohs(k.sport) == s->sport &&
		    ntohs(k.dport) == s->dport)
			return bpf_map_lookup_elem(fd, &k, out);
	}
	return -1;
}

static int hs_find(const struct spec *s, struct xdpsyn_flow *out)
{
	return record_find(bpf_map__fd(skel->maps.xdpsyn_hs), s, out);
}

static void policy_put(const struct xdpsyn_policy_state *ps)
{
	__u32 zero = 0;

	if (bpf_map__update_elem(skel->maps.xdpsyn_policy, &zero, sizeof(zero), ps,
				 sizeof(*ps), 0)) {
		perror("policy update");
		exit(1);
	}
}

static void policy_get(struct xdpsyn_policy_state *ps)
{
	__u32 zero = 0;

	if (bpf_map__lookup_elem(skel->maps.xdpsyn_policy, &zero, sizeof(zero), ps,
				 sizeof(*ps), 0)) {
		perror("policy read");
		exit(1);
	}
}

/* The auto policy's config for RATE SYN/s. */
static void cfg_auto(struct xdpsyn_config *c, uint32_t rate, uint32_t calm_s)
{
	*c = cfg_default;
	c->policy = XDPSYN_POLICY_AUTO;
	c->syn_rate = rate;
	c->rate_hi = xdpsyn_rate_threshold(rate);
	c->rate_hi_cpu = c->rate_hi / (nproc > 0 ? nproc : 1);
	c->rate_lo = c->rate_hi / 2;
	c->calm_s = calm_s;
	c->calm_ns = (uint64_t)calm_s * 1000000000ULL;
}

/* A real request socket (SYN_RECV) for client addr:sport -> srv4:PORT_PROT:
 * the SYN goes in through a raw socket from an address that is not local;
 * the kernel's SYN-ACK is routed to a veth where nobody answers ARP, so
 * nothing answers or resets it (setup_netns made the route). */
static int reqsk_make(const struct spec *syn)
{
	struct sockaddr_in dst = { .sin_family = AF_INET };
	struct frame f;
	int one = 1, fd, ret = 0;

	frame_build(&f, syn);
	memcpy(&dst.sin_addr, syn->daddr, 4);
	fd = socket(AF_INET, SOCK_RAW, IPPROTO_RAW);
	if (fd < 0)
		return -1;
	setsockopt(fd, IPPROTO_IP, IP_HDRINCL, &one, sizeof(one));
	if (sendto(fd, f.b + 14, f.len - 14, 0, (void *)&dst, sizeof(dst)) < 0)
		ret = -1;
	close(fd);
	usleep(20000);
	return ret;
}

/* Is there a socket in SYN_RECV for that client port? (ss, no netlink code
 * here: the test's own check of what the kernel holds) */
static int reqsk_present(uint16_t sport)
{
	char cmd[160];

	snprintf(cmd, sizeof(cmd), "ss -Htn state syn-recv '( sport = :%d and dport = :%u )' | grep -q .",
		 PORT_PROT, sport);
	return system(cmd) == 0;
}

static void policy_cases(void)
{
	struct xdpsyn_config c = cfg_default;
	struct xdpsyn_policy_state ps;
	struct xdpsyn_flow fl;
	struct handshake hs;
	struct result r;
	struct spec s, sa;
	struct frame f;
	static const uint8_t ghost4[4] = { 10, 201, 2, 99 }; /* not local */
	static const uint8_t ghost24[4] = { 10, 201, 2, 0 };
	static const uint8_t sa_opts[] = { 2, 4, 0x05, 0xb4, 4, 2, 8, 10, 0, 0, 0, 1,
					   0xde, 0xad, 0xbe, 0xef, 1, 3, 3, 7 };
	uint64_t cms0, t_syn;

	/* track: a SYN passes to the kernel and opens a record */
	c.policy = XDPSYN_POLICY_TRACK;
	cfg_put(&c);
	spec_base(&s, 0);
	memcpy(s.saddr, ghost4, 4);
	s.sport = 47001;
	s.seq = 0x50000001;
	s.opts = optsets[2].bytes;
	s.optlen = optsets[2].len;
	s.flags |= F_ECE | F_CWR;
	frame_build(&f, &s);
	cms0 = cms_estimate(0, ghost24, 24);
	expect2("track: SYN -> PASS to the kernel, counted track_syn", &f, XDP_PASS_,
		XDPSYN_CNT_TRACK_SYN, XDPSYN_CNT_SYN);
	check(hs_find(&s, &fl) == 0, "no record in xdpsyn_hs");
	check(fl.state == XDPSYN_HS_SYN, "state %u, want SYN", fl.state);
	check(fl.isn == s.seq, "isn %08x", fl.isn);
	check(fl.mss == 1460 && fl.snd_wscale == 7, "client mss %u ws %u", fl.mss, fl.snd_wscale);
	check(fl.flags == (XDPSYN_FLOW_SACK | XDPSYN_FLOW_TS | XDPSYN_FLOW_WS | XDPSYN_FLOW_ECN),
	      "client options flags 0x%02x", fl.flags);
	check(fl.syn_ns && fl.syn_ns == fl.last_ns && fl.syn_retrans == 0, "syn times");
	check(cms_estimate(0, ghost24, 24) == cms0 + 1, "the SYN was not counted for top");
	report("track: the record holds state SYN, the ISN and the client's options");
	t_syn = fl.syn_ns;

	expect2("track: the same SYN again -> PASS, counted as a retransmission", &f, XDP_PASS_,
		XDPSYN_CNT_TRACK_SYN_RETRANS, XDPSYN_CNT_SYN);
	check(hs_find(&s, &fl) == 0 && fl.syn_retrans == 1 && fl.syn_ns == t_syn &&
	      fl.last_ns > t_syn, "retrans %u, syn_ns kept, last_ns moved", fl.syn_retrans);
	check(cms_estimate(0, ghost24, 24) == cms0 + 1, "a retransmission was counted for top");
	report("track: a retransmitted SYN counts once in top, syn_retrans 1");

	/* the kernel's SYN-ACK, seen by TC egress */
	memset(&sa, 0, sizeof(sa));
	memcpy(sa.smac, srv_mac, 6);
	memcpy(sa.dmac, cli_mac, 6);
	memcpy(sa.saddr, srv4, 4);
	memcpy(sa.daddr, ghost4, 4);
	sa.sport = PORT_PROT;
	sa.dport = s.sport;
	sa.seq = 0x7000;
	sa.ack = s.seq + 1;
	sa.flags = F_SYN | F_ACK | F_ECE;
	sa.window = 65160;
	sa.opts = sa_opts;
	sa.optlen = sizeof(sa_opts);
	{
		struct frame g;

		frame_build(&g, &sa);
		check(run_egress(&g, &r) == 0, "egress test run: %s", strerror(errno));
		check((int)r.verdict == TC_NEXT, "egress verdict %d, want TC_ACT_UNSPEC (continue)", (int)r.verdict);
		check(r.delta[XDPSYN_CNT_TRACK_SYNACK] == 1, "track_synack did not move");
		check(hs_find(&s, &fl) == 0 && fl.state == XDPSYN_HS_SYNACK, "state %u", fl.state);
		check(fl.srv_ns > 0 && fl.srv_ns < r.t1 - t_syn + 1, "server half %u ns", fl.srv_ns);
		check(fl.srv_mss == 1460 && fl.rcv_wscale == 7, "server mss %u ws %u", fl.srv_mss,
		      fl.rcv_wscale);
		check((fl.srv_flags & ~XDPSYN_FLOW_KCOOKIE) ==
		      (XDPSYN_FLOW_SACK | XDPSYN_FLOW_TS | XDPSYN_FLOW_WS | XDPSYN_FLOW_ECN),
		      "server option flags 0x%02x", fl.srv_flags);
		report("track: TC egress sees the SYN-ACK: state SYNACK, server half > 0, its options");
		run_egress(&g, &r);
		check(r.delta[XDPSYN_CNT_TRACK_SYNACK_RETRANS] == 1, "track_synack_retrans did not move");
		check(hs_find(&s, &fl) == 0 && fl.synack_retrans == 1 && fl.state == XDPSYN_HS_SYNACK,
		      "synack_retrans %u", fl.synack_retrans);
		report("track: a second SYN-ACK counts as a SYN-ACK retransmission");
	}

	/* the client's ACK reaches a real request socket: established */
	check(reqsk_make(&s) == 0, "raw SYN: %s", strerror(errno));
	check(reqsk_present(s.sport), "the kernel holds no SYN_RECV socket for the raw SYN");
	{
		struct spec a = s;

		a.flags = F_ACK;
		a.seq = s.seq + 1;
		a.ack = 0x7001;
		a.opts = NULL;
		a.optlen = 0;
		frame_build(&f, &a);
		if (run_frame(&f, &r))
			check(0, "test run: %s", strerror(errno));
		check(r.verdict == XDP_PASS_, "verdict %s", verdict_name(r.verdict));
		check(r.delta[XDPSYN_CNT_ESTABLISHED] == 1 && r.delta[XDPSYN_CNT_TRACK_ESTABLISHED] == 1,
		      "established %llu track_established %llu",
		      (unsigned long long)r.delta[XDPSYN_CNT_ESTABLISHED],
		      (unsigned long long)r.delta[XDPSYN_CNT_TRACK_ESTABLISHED]);
		check(hs_find(&s, &fl) != 0, "the record is still in xdpsyn_hs");
		check(flow_find(&s, &fl) == 0 && fl.state == XDPSYN_HS_ESTABLISHED,
		      "no ESTABLISHED record in xdpsyn_flows");
		check(fl.cli_ns > 0 && fl.srv_ns > 0, "halves %u/%u ns", fl.srv_ns, fl.cli_ns);
		check(fl.syn_retrans == 1 && fl.synack_retrans == 1, "retransmission counts lost");
		report("track: ACK to the kernel's request socket -> PASS, record moves to flows, both halves > 0");
		if (run_frame(&f, &r))
			check(0, "test run: %s", strerror(errno));
		check(r.verdict == XDP_PASS_ && r.delta[XDPSYN_CNT_TRACK_ESTABLISHED] == 0,
		      "a second ACK counted again");
		report("track: a second ACK of the same handshake is not counted again");
	}

	/* RST from the client */
	{
		struct spec a;

		s.sport = 47002;
		s.seq = 0x50000002;
		frame_build(&f, &s);
		run_frame(&f, &r);
		check(reqsk_make(&s) == 0 && reqsk_present(s.sport), "no request socket");
		a = s;
		a.flags = F_RST;
		a.seq = s.seq + 1;
		a.opts = NULL;
		a.optlen = 0;
		frame_build(&f, &a);
		run_frame(&f, &r);
		check(r.verdict == XDP_PASS_ && r.delta[XDPSYN_CNT_TRACK_RESET] == 1, "verdict %s reset %llu",
		      verdict_name(r.verdict), (unsigned long long)r.delta[XDPSYN_CNT_TRACK_RESET]);
		check(hs_find(&s, &fl) == 0 && fl.state == XDPSYN_HS_RESET, "state %u, want RESET", fl.state);
		report("track: RST from the client -> PASS, record state RESET");
	}

	/* TC egress on mangled server frames: it only reads */
	{
		struct frame g;
		uint8_t out[FRAME_MAX];
		uint64_t seed = 0x9e3779b97f4a7c15ULL;
		int bad_verdict = 0, modified = 0, errs = 0, refused = 0;

		sa.dport = 47999; /* a tuple no test tracks */
		frame_build(&g, &sa);
		for (int i = 0; i < 20000; i++) {
			struct frame m = g;
			LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = m.b, .data_out = out,
				    .data_size_out = sizeof(out), .repeat = 1);

			for (int j = 0; j < 1 + i % 4; j++) { /* flip 1..4 random bytes */
				seed ^= seed << 13; seed ^= seed >> 7; seed ^= seed << 17;
				m.b[seed % m.len] ^= (uint8_t)(seed >> 32) | 1;
			}
			if (i % 5 == 0)
				m.len = 14 + (seed >> 40) % (g.len - 14); /* truncated */
			opts.data_size_in = (uint32_t)m.len;
			if (bpf_prog_test_run_opts(egress_fd, &opts)) {
				/* the kernel refuses some frames before the
				 * program runs (e.g. a mangled IP header it
				 * cannot take as an skb): not the program's */
				if (errno != EINVAL)
					errs++;
				else
					refused++;
				continue;
			}
			bad_verdict += (int)opts.retval != TC_NEXT;
			modified += opts.data_size_out != m.len || memcmp(out, m.b, m.len);
		}
		check(!errs && !bad_verdict && !modified && refused < 20000 / 4,
		      "%d run errors, %d refused by test_run, %d verdicts not TC_ACT_UNSPEC, "
		      "%d frames modified", errs, refused, bad_verdict, modified);
		{
			char nm[160];

			snprintf(nm, sizeof(nm), "TC egress: 20000 mangled or truncated server frames "
				 "(%d refused by test_run), every one run TC_ACT_UNSPEC (continue) and untouched",
				 refused);
			report(nm);
		}
	}

	/* cookies issued under proxy still validate under track; nothing else
	 * is dropped under track */
	c.policy = XDPSYN_POLICY_PROXY;
	cfg_put(&c);
	spec_base(&s, 0);
	s.sport = 47003;
	s.seq = 0x50000003;
	syn_case("proxy: SYN before a switch to track -> SYN-ACK", &s, &optsets[1], &hs);
	c.policy = XDPSYN_POLICY_TRACK;
	cfg_put(&c);
	ack_frame(&f, &hs, hs.cookie + 1, hs.syn.sport, 0, 0);
	expect("track: ACK with a cookie issued under proxy -> PASS, ack_valid", &f, XDP_PASS_,
	       XDPSYN_CNT_ACK_VALID);
	ack_frame(&f, &hs, hs.cookie + 2, hs.syn.sport, 0, 0);
	expect("track: ACK with no cookie of ours -> PASS to the kernel, ack_kernel", &f, XDP_PASS_,
	       XDPSYN_CNT_ACK_KERNEL);
	c.policy = XDPSYN_POLICY_PROXY;
	cfg_put(&c);
	expect("proxy: the same ACK -> DROP, ack_invalid", &f, XDP_DROP_, XDPSYN_CNT_ACK_INVALID);

	/* proxy: the final ACK and the first data segment of one handshake
	 * both validate (one receive batch): one record, one completion */
	{
		struct xdpsyn_flow f1, f2;
		struct xdpsyn_top_val t1, t2;
		static const uint8_t cli24[4] = { 10, 201, 2, 0 };

		spec_base(&s, 0);
		s.sport = 47007;
		s.seq = 0x50000007;
		syn_case("proxy: SYN of a handshake validated twice -> SYN-ACK", &s, &optsets[1], &hs);
		ack_frame(&f, &hs, hs.cookie + 1, hs.syn.sport, 0, 0);
		run_frame(&f, &r);
		check(flow_find(&hs.syn, &f1) == 0 && top_find(0, cli24, 24, &t1) == 0,
		      "no record or top entry after the first ACK");
		run_frame(&f, &r);
		check(r.verdict == XDP_PASS_ && r.delta[XDPSYN_CNT_ACK_VALID] == 1,
		      "second segment: verdict %s", verdict_name(r.verdict));
		check(flow_find(&hs.syn, &f2) == 0 && f2.time_ns == f1.time_ns && f2.isn == s.seq,
		      "the record was written again");
		check(top_find(0, cli24, 24, &t2) == 0 && t2.completed == t1.completed,
		      "top completed moved %llu -> %llu", (unsigned long long)t1.completed,
		      (unsigned long long)t2.completed);
		report("proxy: a handshake validated twice keeps one record and one completion in top");
	}

	/* proxy: a handshake the kernel began (request socket) completes */
	{
		struct spec a;

		spec_base(&s, 0);
		memcpy(s.saddr, ghost4, 4);
		s.sport = 47004;
		s.seq = 0x50000004;
		check(reqsk_make(&s) == 0 && reqsk_present(s.sport), "no request socket");
		a = s;
		a.flags = F_ACK;
		a.seq = s.seq + 1;
		a.ack = 12345;
		frame_build(&f, &a);
		expect("proxy: ACK to a request socket the kernel made before a switch -> PASS", &f,
		       XDP_PASS_, XDPSYN_CNT_ESTABLISHED);
	}

	/* auto: the SYN rate flips track -> proxy, a timer flips it back */
	cfg_auto(&c, 1000, 1);
	cfg_put(&c);
	memset(&ps, 0, sizeof(ps));
	ps.state = XDPSYN_POLICY_TRACK;
	ps.since_ns = tai_ns();
	policy_put(&ps);
	spec_base(&s, 0);
	memcpy(s.saddr, ghost4, 4);
	s.sport = 47005;
	frame_build(&f, &s);
	expect2("auto (track state): SYN -> PASS to the kernel", &f, XDP_PASS_, XDPSYN_CNT_TRACK_SYN,
		XDPSYN_CNT_SYN);
	{
		/* 1000/s over a 268 ms window is 268 SYNs: send 400 at once */
		LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = f.b, .data_size_in = (uint32_t)f.len,
			    .repeat = 400);
		uint64_t before[XDPSYN_CNT_MAX], after[XDPSYN_CNT_MAX], t0 = tai_ns();

		stats_read(before);
		bpf_prog_test_run_opts(prog_fd, &opts);
		stats_read(after);
		policy_get(&ps);
		check(ps.state == XDPSYN_POLICY_PROXY, "state %llu after 400 SYNs, want proxy",
		      (unsigned long long)ps.state);
		check(ps.reason == XDPSYN_SWITCH_RATE, "reason %u, want rate", ps.reason);
		check(ps.since_ns >= t0 && ps.since_ns <= tai_ns(), "since_ns not in the run");
		check(ps.switch_rate >= 1000, "switch_rate %llu", (unsigned long long)ps.switch_rate);
		check(after[XDPSYN_CNT_POLICY_TO_PROXY] - before[XDPSYN_CNT_POLICY_TO_PROXY] == 1,
		      "policy_to_proxy moved by %llu",
		      (unsigned long long)(after[XDPSYN_CNT_POLICY_TO_PROXY] - before[XDPSYN_CNT_POLICY_TO_PROXY]));
		check(after[XDPSYN_CNT_SYNACK_TX] - before[XDPSYN_CNT_SYNACK_TX] > 0 &&
		      after[XDPSYN_CNT_SYNACK_TX] - before[XDPSYN_CNT_SYNACK_TX] < 400,
		      "some, not all, of the 400 SYNs answered with cookies");
		check(ps.switches == 1 && ps.history[0].time_ns == ps.since_ns &&
		      ps.history[0].to == XDPSYN_POLICY_PROXY &&
		      ps.history[0].reason == XDPSYN_SWITCH_RATE &&
		      ps.history[0].rate == ps.switch_rate,
		      "history: %llu switches, [0] to %u reason %u", (unsigned long long)ps.switches,
		      ps.history[0].to, ps.history[0].reason);
		report("auto: SYNs above syn-rate switch to proxy once, reason rate, timestamped");
	}
	run_frame(&f, &r);
	check(r.verdict == XDP_TX_, "verdict %s, want XDP_TX", verdict_name(r.verdict));
	report("auto (proxy state): the next SYN is answered with a cookie");
	{
		/* calm 1 s below 500/s: the timer switches back */
		uint64_t t0 = tai_ns(), t_back = 0, before[XDPSYN_CNT_MAX], after[XDPSYN_CNT_MAX];

		stats_read(before);
		for (int i = 0; i < 60; i++) {
			policy_get(&ps);
			if (ps.state == XDPSYN_POLICY_TRACK) {
				t_back = tai_ns();
				break;
			}
			usleep(50000);
		}
		stats_read(after);
		check(ps.state == XDPSYN_POLICY_TRACK, "still proxy 3 s after the SYNs stopped");
		check(ps.reason == XDPSYN_SWITCH_CALM, "reason %u, want calm", ps.reason);
		check(t_back - t0 >= 800000000ULL, "back after %.2f s, before calm (1 s)",
		      (t_back - t0) / 1e9);
		check(after[XDPSYN_CNT_POLICY_TO_TRACK] - before[XDPSYN_CNT_POLICY_TO_TRACK] == 1,
		      "policy_to_track did not move by 1");
		check(ps.switches == 2 && ps.history[1].to == XDPSYN_POLICY_TRACK &&
		      ps.history[1].reason == XDPSYN_SWITCH_CALM && ps.history[1].time_ns == ps.since_ns,
		      "history: %llu switches, [1] to %u reason %u", (unsigned long long)ps.switches,
		      ps.history[1].to, ps.history[1].reason);
		report("auto: with no SYNs the timer switches back to track after calm (1 s), once");
	}
	/* the kernel's own cookies also flip it */
	policy_get(&ps);
	ps.kcookie_ns = tai_ns();
	policy_put(&ps);
	s.sport = 47006;
	frame_build(&f, &s);
	run_frame(&f, &r);
	policy_get(&ps);
	check(r.verdict == XDP_TX_, "verdict %s, want XDP_TX", verdict_name(r.verdict));
	check(ps.state == XDPSYN_POLICY_PROXY && ps.reason == XDPSYN_SWITCH_KCOOKIE,
	      "state %llu reason %u", (unsigned long long)ps.state, ps.reason);
	report("auto: a kernel cookie seen by TC egress switches to proxy at the next SYN");

	cfg_put(&cfg_default);
	memset(&ps, 0, sizeof(ps));
	policy_put(&ps);
}

/* ---- do no harm: what the kernel alone would do ---------------------- */

static void sysctl_set(const char *name, const char *val)
{
	run_cmd("sysctl -qw %s=%s", name, val);
}

/* A listener on PORT at ADDR (NULL: the wildcard address) with protocol
 * PROTO (0, or IPPROTO_MPTCP) and, if MAXSEG, TCP_MAXSEG. */
static int listen_ext(int v6, const uint8_t *addr, int port, int proto, int maxseg)
{
	int one = 1, fd = socket(v6 ? AF_INET6 : AF_INET, SOCK_STREAM, proto);
	struct sockaddr_in6 a6 = { .sin6_family = AF_INET6, .sin6_port = htons(port) };
	struct sockaddr_in a4 = { .sin_family = AF_INET, .sin_port = htons(port) };

	if (fd < 0)
		return -1;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (maxseg)
		setsockopt(fd, IPPROTO_TCP, TCP_MAXSEG, &maxseg, sizeof(maxseg));
	if (v6) {
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
		if (addr)
			memcpy(&a6.sin6_addr, addr, 16);
		if (bind(fd, (void *)&a6, sizeof(a6)) || listen(fd, 16))
			goto err;
	} else {
		if (addr)
			memcpy(&a4.sin_addr, addr, 4);
		if (bind(fd, (void *)&a4, sizeof(a4)) || listen(fd, 16))
			goto err;
	}
	return fd;
err:
	close(fd);
	return -1;
}

/* A SYN fixture: a change to the base SYN, and what the program must do. */
struct noharm_syn {
	const char *name;
	int v6;
	const char *saddr, *daddr; /* NULL: the base's */
	int group_mac;             /* destination MAC 01:00:5e:00:00:01 or ff:.. */
	int dport;                 /* 0: PORT_PROT */
	int verdict, counter;
};

static const struct noharm_syn noharm_syns[] = {
	{ "SYN from 127.0.0.1 (martian source) -> DROP, never answered", 0, "127.0.0.1", NULL, 0, 0, XDP_DROP_, XDPSYN_CNT_SYN_MARTIAN },
	{ "SYN from 0.0.0.0 (martian source) -> DROP", 0, "0.0.0.0", NULL, 0, 0, XDP_DROP_, XDPSYN_CNT_SYN_MARTIAN },
	{ "SYN from 224.0.0.5 (multicast source) -> DROP", 0, "224.0.0.5", NULL, 0, 0, XDP_DROP_, XDPSYN_CNT_SYN_MARTIAN },
	{ "SYN from the server's own address (land) -> DROP", 0, "10.201.1.1", NULL, 0, 0, XDP_DROP_, XDPSYN_CNT_SYN_MARTIAN },
	{ "SYN to 127.0.0.1 from outside (martian destination) -> DROP", 0, NULL, "127.0.0.1", 0, 0, XDP_DROP_, XDPSYN_CNT_SYN_MARTIAN },
	{ "SYN to 224.0.0.1 (multicast) -> PASS, never answered", 0, NULL, "224.0.0.1", 0, 0, XDP_PASS_, XDPSYN_CNT_SYN_NOT_HOST },
	{ "SYN to 255.255.255.255 (broadcast) -> PASS, never answered", 0, NULL, "255.255.255.255", 0, 0, XDP_PASS_, XDPSYN_CNT_SYN_NOT_HOST },
	{ "SYN to the broadcast MAC -> PASS, never answered", 0, NULL, NULL, 2, 0, XDP_PASS_, XDPSYN_CNT_SYN_NOT_HOST },
	{ "SYN to a multicast MAC -> PASS, never answered", 0, NULL, NULL, 1, 0, XDP_PASS_, XDPSYN_CNT_SYN_NOT_HOST },
	{ "v6 SYN from ::1 (martian source) -> DROP", 1, "::1", NULL, 0, 0, XDP_DROP_, XDPSYN_CNT_SYN_MARTIAN },
	{ "v6 SYN from :: -> DROP", 1, "::", NULL, 0, 0, XDP_DROP_, XDPSYN_CNT_SYN_MARTIAN },
	{ "v6 SYN from a v4-mapped address -> DROP", 1, "::ffff:10.201.2.7", NULL, 0, 0, XDP_DROP_, XDPSYN_CNT_SYN_MARTIAN },
	{ "v6 SYN from ff02::1 (multicast source) -> DROP", 1, "ff02::1", NULL, 0, 0, XDP_DROP_, XDPSYN_CNT_SYN_MARTIAN },
	{ "v6 SYN from the server's own address (land) -> DROP", 1, "fd00:201::1", NULL, 0, 0, XDP_DROP_, XDPSYN_CNT_SYN_MARTIAN },
	{ "v6 SYN to ff02::1 (multicast) -> PASS, never answered", 1, NULL, "ff02::1", 0, 0, XDP_PASS_, XDPSYN_CNT_SYN_NOT_HOST },
	{ "v6 SYN to ::1 from outside -> DROP", 1, NULL, "::1", 0, 0, XDP_DROP_, XDPSYN_CNT_SYN_MARTIAN },
	{ "v6 SYN to the all-nodes MAC 33:33:00:00:00:01 -> PASS", 1, NULL, NULL, 3, 0, XDP_PASS_, XDPSYN_CNT_SYN_NOT_HOST },
	{ "SYN to a protected port with no listener -> PASS (the kernel resets)", 0, NULL, NULL, 0, PORT_PROT_NOLSN, XDP_PASS_, XDPSYN_CNT_SYN_NO_LISTENER },
	{ "v6 SYN to a protected port with no listener -> PASS", 1, NULL, NULL, 0, PORT_PROT_NOLSN, XDP_PASS_, XDPSYN_CNT_SYN_NO_LISTENER },
	{ "SYN to an MPTCP listener -> PASS (the kernel's own cookies)", 0, NULL, NULL, 0, PORT_MPTCP, XDP_PASS_, XDPSYN_CNT_SYN_MPTCP },
	{ "v6 SYN to an MPTCP listener -> PASS", 1, NULL, NULL, 0, PORT_MPTCP, XDP_PASS_, XDPSYN_CNT_SYN_MPTCP },
	{ "SYN to a wildcard listener, local address -> SYN-ACK", 0, NULL, NULL, 0, PORT_WILD, XDP_TX_, XDPSYN_CNT_SYNACK_TX },
	{ "v6 SYN to a wildcard listener, local address -> SYN-ACK", 1, NULL, NULL, 0, PORT_WILD, XDP_TX_, XDPSYN_CNT_SYNACK_TX },
};

static void noharm_syn_frame(struct frame *f, const struct noharm_syn *c, uint16_t sport)
{
	static const uint8_t macs[4][6] = {
		{0}, { 0x01, 0x00, 0x5e, 0, 0, 1 }, { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff },
		{ 0x33, 0x33, 0, 0, 0, 1 },
	};
	struct spec s;

	spec_base(&s, c->v6);
	if (c->saddr)
		inet_pton(c->v6 ? AF_INET6 : AF_INET, c->saddr, s.saddr);
	if (c->daddr)
		inet_pton(c->v6 ? AF_INET6 : AF_INET, c->daddr, s.daddr);
	if (c->group_mac)
		memcpy(s.dmac, macs[c->group_mac], 6);
	if (c->dport)
		s.dport = c->dport;
	s.sport = sport;
	s.opts = optsets[2].bytes;
	s.optlen = optsets[2].len;
	frame_build(f, &s);
}

/* A SYN the kernel's own settings shape: the SYN-ACK offers what the
 * kernel would (syn_case checks every byte against the fixture's
 * expectations), and syn_opt_off counts it. */
static void sysctl_syn_case(const char *name, const char *sysctl, struct optset o,
			    int ecn_syn, uint16_t sport)
{
	struct handshake hs;
	struct spec s;

	sysctl_set(sysctl, "0");
	spec_base(&s, 0);
	s.sport = sport;
	if (ecn_syn)
		s.flags |= F_ECE | F_CWR;
	syn_case_also = XDPSYN_CNT_SYN_OPT_OFF;
	syn_case(name, &s, &o, &hs);
	syn_case_also = -1;
	sysctl_set(sysctl, "1");
}

static void noharm_cases(int l4)
{
	static const uint8_t wild_mac_other[6] = { 0x02, 0, 0, 0, 0, 0x03 };
	int fds[8], nfd = 0, tw_cli, tw_acc, est_cli, est_acc;
	uint16_t tw_port, est_port2;
	struct xdpsyn_config c;
	struct handshake hs;
	struct result r;
	struct spec s;
	struct frame f;
	char name[200];

	/* listeners: MPTCP, wildcard (both families), TCP_MAXSEG */
	for (int v6 = 0; v6 <= 1; v6++) {
		fds[nfd] = listen_ext(v6, v6 ? srv6 : srv4, PORT_MPTCP, IPPROTO_MPTCP, 0);
		if (fds[nfd] < 0) {
			check(0, "MPTCP listener: %s (net.mptcp.enabled?)", strerror(errno));
			report("an MPTCP listener for the MPTCP cases");
		}
		nfd++;
		fds[nfd++] = listen_ext(v6, NULL, PORT_WILD, 0, 0);
	}
	fds[nfd++] = listen_ext(0, srv4, PORT_MAXSEG, 0, 1000);

	for (size_t i = 0; i < sizeof(noharm_syns) / sizeof(noharm_syns[0]); i++) {
		const struct noharm_syn *nc = &noharm_syns[i];

		noharm_syn_frame(&f, nc, (uint16_t)(41000 + i));
		if (nc->verdict == XDP_TX_) {
			run_frame(&f, &r);
			check(r.verdict == XDP_TX_, "verdict %s, want XDP_TX", verdict_name(r.verdict));
			check_counters(&r, XDPSYN_CNT_SYNACK_TX);
			report(nc->name);
		} else {
			expect2(nc->name, &f, nc->verdict, XDPSYN_CNT_SYN, nc->counter);
		}
	}

	/* a tuple a socket holds: established, and TIME_WAIT on the server
	 * (it closed first), which the kernel reuses for a new SYN */
	est_cli = established_pair(cli4, srv4, PORT_PROT, l4, &est_port2, &est_acc);
	tw_cli = established_pair(cli4, srv4, PORT_PROT, l4, &tw_port, &tw_acc);
	check(est_cli >= 0 && tw_cli >= 0, "connections for the socket cases failed");
	close(tw_acc);
	usleep(20000);
	close(tw_cli);
	usleep(50000);
	{
		char cmd[200];

		snprintf(cmd, sizeof(cmd), "ss -Htn state time-wait '( sport = :%d and dport = :%u )' | grep -q .",
			 PORT_PROT, tw_port);
		check(system(cmd) == 0, "the server's socket is not in TIME_WAIT");
	}
	spec_base(&s, 0);
	s.sport = tw_port;
	s.seq = 0x7fff0000;
	frame_build(&f, &s);
	expect2("SYN for a tuple the server holds in TIME_WAIT -> PASS (the kernel reuses it)",
		&f, XDP_PASS_, XDPSYN_CNT_SYN, XDPSYN_CNT_SYN_SOCKET);
	spec_base(&s, 0);
	s.sport = est_port2;
	frame_build(&f, &s);
	expect2("SYN for an established tuple -> PASS (the kernel's challenge ACK)",
		&f, XDP_PASS_, XDPSYN_CNT_SYN, XDPSYN_CNT_SYN_SOCKET);
	close(est_cli);
	close(est_acc);

	/* the netns's sysctls, read live from the listener */
	sysctl_set("net.ipv4.tcp_syncookies", "0");
	spec_base(&s, 0);
	s.sport = 41500;
	frame_build(&f, &s);
	expect2("tcp_syncookies=0: SYN -> PASS to the kernel, not answered", &f, XDP_PASS_,
		XDPSYN_CNT_SYN, XDPSYN_CNT_SYN_NO_SYNCOOKIES);
	sysctl_set("net.ipv4.tcp_syncookies", "1");
	{
		struct optset o = optsets[2]; /* MSS+SACK+TS+WS */

		o.ts = 0;
		sysctl_syn_case("tcp_timestamps=0: SYN-ACK without timestamps (the client offered them)",
				"net.ipv4.tcp_timestamps", o, 0, 41501);
		o = optsets[2];
		o.sack = 0;
		sysctl_syn_case("tcp_sack=0: SYN-ACK without SACK_PERM", "net.ipv4.tcp_sack", o, 0, 41502);
		o = optsets[2];
		o.ws = -1;
		sysctl_syn_case("tcp_window_scaling=0: SYN-ACK without window scale, cookie records none",
				"net.ipv4.tcp_window_scaling", o, 0, 41503);
		o = optsets[5]; /* the ECN SYN */
		o.ecn = 0;
		sysctl_syn_case("tcp_ecn=0: an ECN SYN gets no ECE", "net.ipv4.tcp_ecn", o, 1, 41504);
		sysctl_set("net.ipv4.tcp_ecn", "2");
	}
	{
		struct parsed p;

		spec_base(&s, 0);
		s.dport = PORT_MAXSEG;
		s.sport = 41505;
		s.opts = optsets[2].bytes;
		s.optlen = optsets[2].len;
		frame_build(&f, &s);
		run_frame(&f, &r);
		frame_parse(r.out, r.out_len, &p);
		check(r.verdict == XDP_TX_ && p.ok, "no SYN-ACK");
		check(p.optlen >= 4 && (p.opts[2] << 8 | p.opts[3]) == 1000, "MSS %u, want 1000",
		      p.optlen >= 4 ? p.opts[2] << 8 | p.opts[3] : 0);
		report("a listener with TCP_MAXSEG 1000: the SYN-ACK offers MSS 1000");
	}

	/* another unicast MAC (bridge port, promiscuous NIC): not ours */
	c = cfg_default;
	memcpy(c.mac, srv_mac, 6);
	cfg_put(&c);
	spec_base(&s, 0);
	s.sport = 41600;
	memcpy(s.dmac, wild_mac_other, 6);
	frame_build(&f, &s);
	expect2("attach's MAC recorded: a SYN to another unicast MAC -> PASS, never answered",
		&f, XDP_PASS_, XDPSYN_CNT_SYN, XDPSYN_CNT_SYN_NOT_HOST);
	spec_base(&s, 0);
	s.sport = 41601;
	s.flags = F_ACK;
	s.ack = 0x12345678;
	memcpy(s.dmac, wild_mac_other, 6);
	frame_build(&f, &s);
	expect("attach's MAC recorded: a forged ACK to another unicast MAC -> PASS untouched",
	       &f, XDP_PASS_, XDPSYN_CNT_NOT_LOCAL);
	spec_base(&s, 0);
	s.sport = 41602;
	frame_build(&f, &s);
	run_frame(&f, &r);
	check(r.verdict == XDP_TX_, "verdict %s, want XDP_TX", verdict_name(r.verdict));
	report("attach's MAC recorded: a SYN to that MAC -> SYN-ACK");
	cfg_put(&cfg_default);

	/* a destination this host forwards (a container behind it) reached
	 * through a wildcard listener's lookup: untouched */
	sysctl_set("net.ipv4.ip_forward", "1");
	sysctl_set("net.ipv6.conf.all.forwarding", "1");
	run_cmd("ip route add 10.201.64.0/24 dev xsdum0");
	run_cmd("ip -6 route add fd00:201::64:0/112 dev xsdum0");
	for (int v6 = 0; v6 <= 1; v6++) {
		const char *ctr = v6 ? "fd00:201::64:2" : "10.201.64.2";

		spec_base(&s, v6);
		inet_pton(v6 ? AF_INET6 : AF_INET, ctr, s.daddr);
		s.dport = PORT_WILD;
		s.sport = (uint16_t)(41700 + v6);
		frame_build(&f, &s);
		snprintf(name, sizeof(name), "%s SYN for a forwarded destination (%s) behind a wildcard "
			 "listener's port -> PASS untouched", v6 ? "v6" : "v4", ctr);
		expect2(name, &f, XDP_PASS_, XDPSYN_CNT_SYN, XDPSYN_CNT_NOT_LOCAL);
		s.flags = F_ACK;
		s.seq += 1;
		s.ack = 0x12345678;
		frame_build(&f, &s);
		snprintf(name, sizeof(name), "%s data segment of a forwarded connection -> PASS untouched, "
			 "not dropped as a forged ACK", v6 ? "v6" : "v4");
		expect(name, &f, XDP_PASS_, XDPSYN_CNT_NOT_LOCAL);
		spec_base(&s, v6);
		s.dport = PORT_WILD;
		s.sport = (uint16_t)(41710 + v6);
		s.flags = F_ACK;
		s.ack = 0x12345678;
		frame_build(&f, &s);
		snprintf(name, sizeof(name), "%s forged ACK to the wildcard listener at a local address "
			 "(forwarding on) -> DROP", v6 ? "v6" : "v4");
		expect(name, &f, XDP_DROP_, XDPSYN_CNT_ACK_INVALID);
	}
	run_cmd("ip route del 10.201.64.0/24 dev xsdum0");
	run_cmd("ip -6 route del fd00:201::64:0/112 dev xsdum0");
	sysctl_set("net.ipv4.ip_forward", "0");
	sysctl_set("net.ipv6.conf.all.forwarding", "0");

	/* TC: no hand-off while tcp_syncookies=0 (the kernel would reset it),
	 * and every verdict continues the chain */
	spec_base(&s, 0);
	s.sport = 41800;
	syn_case("SYN for the TC cases -> SYN-ACK", &s, &optsets[2], &hs);
	ack_frame(&f, &hs, hs.cookie + 1, hs.syn.sport, 1, hs.our_tsval);
	sysctl_set("net.ipv4.tcp_syncookies", "0");
	check(run_tc(ingress_fd, &f, &r) == 0, "TC test run: %s", strerror(errno));
	check(r.verdict == TC_NEXT, "TC verdict %d, want TC_ACT_UNSPEC", r.verdict);
	check(r.delta[XDPSYN_CNT_HANDOFF_NO_SYNCOOKIES] == 1 && r.delta[XDPSYN_CNT_HANDOFF_OK] == 0 &&
	      r.delta[XDPSYN_CNT_HANDOFF_ERR] == 0, "handoff_no_syncookies +%llu ok +%llu err +%llu",
	      (unsigned long long)r.delta[XDPSYN_CNT_HANDOFF_NO_SYNCOOKIES],
	      (unsigned long long)r.delta[XDPSYN_CNT_HANDOFF_OK],
	      (unsigned long long)r.delta[XDPSYN_CNT_HANDOFF_ERR]);
	report("TC: a valid final ACK while tcp_syncookies=0 -> not handed off, chain continues");
	sysctl_set("net.ipv4.tcp_syncookies", "1");
	spec_base(&s, 0);
	s.dport = PORT_OPEN;
	s.flags = F_ACK;
	frame_build(&f, &s);
	check(run_tc(ingress_fd, &f, &r) == 0 && r.verdict == TC_NEXT, "TC verdict %d", r.verdict);
	report("TC ingress: a segment to an unprotected port -> TC_ACT_UNSPEC (continue)");

	for (int i = 0; i < nfd; i++)
		if (fds[i] >= 0)
			close(fds[i]);
}

/* ---- the kernel-cookie hand-off (kernels without the reqsk kfunc) ------ */

/* The same program loaded with handoff_mode = KCOOKIE: the kernel's own
 * cookie in the SYN-ACK, its own check on the final ACK. */
static void kcookie_cases(const int *ports, int nports)
{
	struct xdpsyn *main_skel = skel, *k;
	int main_fd = prog_fd;
	struct handshake hs = {0};
	struct result r;
	struct parsed p;
	struct spec s;
	struct frame f;

	k = xdpsyn__open();
	if (k) {
		k->rodata->nr_cpus = nproc;
		k->rodata->handoff_mode = XDPSYN_HANDOFF_KCOOKIE;
	}
	if (!k || xdpsyn__load(k)) {
		check(0, "loading the program with handoff_mode KCOOKIE failed");
		report("kernel-cookie hand-off: the program loads");
		xdpsyn__destroy(k);
		return;
	}
	skel = k;
	prog_fd = bpf_program__fd(k->progs.xdpsyn_xdp);
	cfg_put(&cfg_default);
	key_put(0, key_a);
	ports_put(XDPSYN_V4, ports, nports);
	ports_put(XDPSYN_V6, ports, nports);
	sysctl_set("net.ipv4.tcp_syncookies", "2");
	sysctl_set("net.ipv4.tcp_timestamps", "2");

	for (int v6 = 0; v6 <= 1; v6++) {
		char name[160];
		uint32_t tsval = 0;

		spec_base(&s, v6);
		s.sport = (uint16_t)(42000 + v6);
		s.opts = optsets[2].bytes; /* MSS 1460, SACK, TS, WS 7 */
		s.optlen = optsets[2].len;
		frame_build(&f, &s);
		run_frame(&f, &r);
		frame_parse(r.out, r.out_len, &p);
		check(r.verdict == XDP_TX_ && p.ok, "verdict %s, want XDP_TX", verdict_name(r.verdict));
		check_counters(&r, XDPSYN_CNT_SYNACK_TX);
		/* MSS, SACK_PERM, TS, NOP, WS: what the client offered */
		check(p.optlen == 20 && p.opts[4] == 4 && p.opts[6] == 8 && p.opts[17] == 3 &&
		      p.opts[19] == cfg_default.wscale, "options (%zu bytes) not MSS SACK TS WS", p.optlen);
		if (p.optlen == 20) {
			uint64_t now_ms;
			struct timespec ts;

			tsval = (uint32_t)p.opts[8] << 24 | p.opts[9] << 16 | p.opts[10] << 8 | p.opts[11];
			clock_gettime(CLOCK_MONOTONIC, &ts);
			now_ms = (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
			check((tsval & 0x3f) == (7 | 0x10), "TSval low bits 0x%02x, want wscale 7 | SACK",
			      tsval & 0x3f);
			check((uint32_t)now_ms - tsval < 1000, "TSval %u is not the kernel's ms clock (%u)",
			      tsval, (uint32_t)now_ms);
		}
		snprintf(name, sizeof(name), "kernel cookie, %s: SYN-ACK with the kernel's cookie, "
			 "options in TSval's low bits (tcp_timestamps=2)", v6 ? "v6" : "v4");
		report(name);

		hs.syn = s;
		hs.cookie = p.seq;
		hs.our_tsval = tsval;
		ack_frame(&f, &hs, hs.cookie + 1, s.sport, 1, tsval);
		run_frame(&f, &r);
		check(r.verdict == XDP_PASS_ && r.delta[XDPSYN_CNT_ACK_VALID] == 1,
		      "verdict %s ack_valid +%llu: the kernel's check refused the cookie",
		      verdict_name(r.verdict), (unsigned long long)r.delta[XDPSYN_CNT_ACK_VALID]);
		snprintf(name, sizeof(name), "kernel cookie, %s: the final ACK passes the kernel's own "
			 "check in XDP", v6 ? "v6" : "v4");
		report(name);
		{
			struct xdpsyn_flow fl;

			check(flow_find(&s, &fl) == 0, "no flow record");
			check(fl.mss == 0 && (fl.flags & XDPSYN_FLOW_KCOOKIE) && fl.snd_wscale == 7 &&
			      (fl.flags & XDPSYN_FLOW_SACK), "record mss %u ws %u flags 0x%x", fl.mss,
			      fl.snd_wscale, fl.flags);
			snprintf(name, sizeof(name), "kernel cookie, %s: the flow record has the options "
				 "TSecr carried, MSS unknown", v6 ? "v6" : "v4");
			report(name);
		}
		/* not cookie + 1: the kernel's cookie takes a neighbouring
		 * MSS index as valid (part of its 2^-29) */
		ack_frame(&f, &hs, (hs.cookie ^ 0x5a5a5a00) + 1, s.sport, 1, tsval);
		snprintf(name, sizeof(name), "kernel cookie, %s: a forged ACK -> DROP", v6 ? "v6" : "v4");
		expect(name, &f, XDP_DROP_, XDPSYN_CNT_ACK_INVALID);
	}

	/* without a zero TS offset the kernel cannot read options back from
	 * TSecr: MSS only, as the kernel's own cookie SYN-ACK */
	sysctl_set("net.ipv4.tcp_timestamps", "1");
	spec_base(&s, 0);
	s.sport = 42010;
	s.opts = optsets[2].bytes;
	s.optlen = optsets[2].len;
	frame_build(&f, &s);
	run_frame(&f, &r);
	frame_parse(r.out, r.out_len, &p);
	check(r.verdict == XDP_TX_ && p.ok && p.optlen == 4 && p.opts[0] == 2,
	      "verdict %s, %zu option bytes, want the MSS alone", verdict_name(r.verdict), p.optlen);
	report("kernel cookie, tcp_timestamps=1: SYN-ACK with the MSS alone (the kernel keeps no more)");
	sysctl_set("net.ipv4.tcp_timestamps", "1");

	sysctl_set("net.ipv4.tcp_syncookies", "1");
	spec_base(&s, 0);
	s.sport = 42011;
	frame_build(&f, &s);
	expect2("kernel cookie, tcp_syncookies=1: the kernel makes no cookie -> PASS to the kernel",
		&f, XDP_PASS_, XDPSYN_CNT_SYN, XDPSYN_CNT_SYN_NO_SYNCOOKIES);

	skel = main_skel;
	prog_fd = main_fd;
	xdpsyn__destroy(k);
}

/* ---- setup ------------------------------------------------------------- */

static void setup_netns(void)
{
	if (unshare(CLONE_NEWNET)) {
		perror("test_unit: unshare(CLONE_NEWNET)");
		exit(1);
	}
	run_cmd("ip link set lo up");
	run_cmd("ip addr add 10.201.1.1/32 dev lo");
	run_cmd("ip addr add 10.201.2.7/32 dev lo");
	run_cmd("ip -6 addr add fd00:201::1/128 dev lo nodad");
	run_cmd("ip -6 addr add fd00:201::2:7/128 dev lo nodad");
	/* where SYN-ACKs to 10.201.2.99 (policy tests) go and vanish */
	run_cmd("ip link add xsdum0 type veth peer name xsdum1");
	run_cmd("ip link set xsdum0 up");
	run_cmd("ip route add 10.201.2.99/32 dev xsdum0");
	inet_pton(AF_INET6, "fd00:201::1", srv6);
	inet_pton(AF_INET6, "fd00:201::2:7", cli6);
}

/* ---- the attach test: native and generic XDP on a veth ------------------ */

static void attach_case(const char *name, __u32 flags)
{
	LIBBPF_OPTS(bpf_link_create_opts, opts, .flags = flags);
	int ifindex = if_nametoindex("xsyn0");
	int link;
	__u32 id = 0;
	struct bpf_xdp_query_opts q = { .sz = sizeof(q) };

	check(ifindex > 0, "veth xsyn0 missing");
	link = bpf_link_create(prog_fd, ifindex, BPF_XDP, &opts);
	check(link >= 0, "bpf_link_create: %s", strerror(errno));
	if (link >= 0) {
		bpf_xdp_query(ifindex, 0, &q);
		id = flags & XDP_FLAGS_SKB_MODE ? q.skb_prog_id : q.drv_prog_id;
		check(id != 0, "no program attached in that mode after link_create");
		close(link);
		memset(&q, 0, sizeof(q));
		q.sz = sizeof(q);
		bpf_xdp_query(ifindex, 0, &q);
		check(q.prog_id == 0 && q.skb_prog_id == 0 && q.drv_prog_id == 0,
		      "program still attached after the link closed");
	}
	report(name);
}

/* ---- bench: a first look at ns per packet -------------------------------- */

static double ns_per_packet(const struct frame *f, int runs)
{
	uint8_t out[FRAME_MAX];
	uint64_t total = 0;

	for (int i = 0; i < runs; i++) {
		LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = f->b,
			    .data_size_in = (uint32_t)f->len, .data_out = out,
			    .data_size_out = sizeof(out), .repeat = 1);
		bpf_prog_test_run_opts(prog_fd, &opts);
		total += opts.duration;
	}
	return (double)total / runs;
}

/* ---- main ---------------------------------------------------------------- */

int main(int argc, char **argv)
{
	int bench = argc > 1 && !strcmp(argv[1], "--bench");
	int ports[] = { PORT_PROT, PORT_PROT_NOLSN, PORT_MPTCP, PORT_WILD, PORT_MAXSEG };
	struct handshake hs_v4_full = {0}, hs_v6_full = {0}, hs_v4_plain = {0}, hs;
	struct spec s;
	struct frame f;
	char name[160];
	int l4, l6, lo4, est_fd, acc_fd;
	uint16_t est_port;

	if (geteuid() != 0) {
		fprintf(stderr, "test_unit: must run as root (BPF, network namespace)\n");
		printf("0 passed, 1 failed\n");
		return 1;
	}
	harness_prog = "test_unit";
	setvbuf(stdout, NULL, _IOLBF, 0);
	{
		/* one CPU: the per-CPU sketch thresholds see every SYN */
		cpu_set_t set;

		CPU_ZERO(&set);
		CPU_SET(0, &set);
		sched_setaffinity(0, sizeof(set), &set);
	}
	libbpf_set_print(libbpf_quiet);
	setup_netns();
	nproc = libbpf_num_possible_cpus();

	skel = xdpsyn__open();
	if (skel)
		skel->rodata->nr_cpus = nproc;
	if (!skel || xdpsyn__load(skel)) {
		fprintf(stderr, "test_unit: loading build/xdpsyn.bpf.o failed\n");
		printf("0 passed, 1 failed\n");
		return 1;
	}
	prog_fd = bpf_program__fd(skel->progs.xdpsyn_xdp);
	if (tc_load()) {
		fprintf(stderr, "test_unit: loading build/xdpsyn_tc.bpf.o failed\n");
		printf("0 passed, 1 failed\n");
		return 1;
	}
	cfg_put(&cfg_default);
	key_put(0, key_a);
	ports_put(XDPSYN_V4, ports, sizeof(ports) / sizeof(ports[0]));
	ports_put(XDPSYN_V6, ports, sizeof(ports) / sizeof(ports[0]));

	l4 = listen_on(0, srv4, PORT_PROT);
	l6 = listen_on(1, srv6, PORT_PROT);
	lo4 = listen_on(0, srv4, PORT_OPEN);
	est_fd = established_pair(cli4, srv4, PORT_PROT, l4, &est_port, &acc_fd);
	if (est_fd < 0 || acc_fd < 0) {
		perror("test_unit: established connection");
		return 1;
	}

	if (bench) {
		spec_base(&s, 0);
		s.opts = optsets[2].bytes;
		s.optlen = optsets[2].len;
		frame_build(&f, &s);
		printf("SYN v4 MSS+SACK+TS+WS -> SYN-ACK: %.1f ns/packet\n", ns_per_packet(&f, 100000));
		spec_base(&s, 0);
		s.flags = F_ACK;
		s.sport = est_port;
		frame_build(&f, &s);
		printf("established ACK v4:                %.1f ns/packet\n", ns_per_packet(&f, 100000));
		spec_base(&s, 0);
		s.flags = F_ACK;
		s.ack = 12345;
		frame_build(&f, &s);
		printf("forged ACK v4 (no TS):             %.1f ns/packet\n", ns_per_packet(&f, 100000));
		return 0;
	}

	/* 0. the test's own reference: SipHash-2-4 paper vector */
	{
		uint8_t k[16], m[15];

		for (int i = 0; i < 16; i++)
			k[i] = i;
		for (int i = 0; i < 15; i++)
			m[i] = i;
		check(ref_siphash(k, m, 15) == 0xa129ca6149be45e5ULL, "reference SipHash wrong");
		report("reference SipHash-2-4 matches the published test vector");
	}

	/* 1. SYNs: every option set, v4/v6, 0/1/2 VLAN tags */
	for (int v6 = 0; v6 <= 1; v6++) {
		for (size_t i = 0; i < sizeof(optsets) / sizeof(optsets[0]); i++) {
			for (int vl = 0; vl <= 2; vl++) {
				if (vl && i != 2 && i != 0)
					continue; /* tags x {none, full options} */
				spec_base(&s, v6);
				s.vlans = vl;
				s.seq = 0x11223344 + (uint32_t)(i * 7919 + vl * 104729 + v6);
				s.sport = (uint16_t)(40000 + v6 * 100 + i * 10 + vl); /* a flow each */
				snprintf(name, sizeof(name), "SYN %s, %s, %d VLAN tag%s -> SYN-ACK",
					 v6 ? "v6" : "v4", optsets[i].name, vl, vl == 1 ? "" : "s");
				syn_case(name, &s, &optsets[i], &hs);
				if (i == 2 && vl == 0)
					*(v6 ? &hs_v6_full : &hs_v4_full) = hs;
				if (i == 1 && vl == 0 && !v6)
					hs_v4_plain = hs;
			}
		}
	}
	/* IPv4 options, IPv6 extension headers, SYN payload */
	spec_base(&s, 0);
	s.ipopt_len = 8;
	syn_case("SYN v4 with 8 bytes of IP options -> SYN-ACK without them", &s, &optsets[2], &hs);
	spec_base(&s, 0);
	s.payload = 30;
	syn_case("SYN v4 with 30 bytes of payload -> SYN-ACK without it", &s, &optsets[2], &hs);
	{
		/* hop-by-hop (8) -> destination options (16) -> fragment (first) -> TCP */
		static const uint8_t ext[] = {
			60, 0, 1, 4, 0, 0, 0, 0,
			44, 1, 1, 12, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
			6, 0, 0x00, 0x01, 0, 0, 0, 42,
		};
		static const uint8_t routing[] = { 6, 0, 0, 0, 0, 0, 0, 0 }; /* type 0, segleft 0 */

		spec_base(&s, 1);
		s.ext = ext;
		s.ext_len = sizeof(ext);
		s.ext_first = 0;
		syn_case("SYN v6 via hop-by-hop, dest-opts, first fragment -> SYN-ACK", &s, &optsets[2], &hs);
		spec_base(&s, 1);
		s.ext = routing;
		s.ext_len = sizeof(routing);
		s.ext_first = 43;
		s.vlans = 1;
		syn_case("SYN v6 with a routing header, 1 VLAN tag -> SYN-ACK", &s, &optsets[1], &hs);
	}

	/* 2. ACKs: the round trip and its forgeries */
	ack_frame(&f, &hs_v4_full, hs_v4_full.cookie + 1, hs_v4_full.syn.sport, 1, hs_v4_full.our_tsval);
	expect("ACK v4 with TS for our SYN-ACK validates -> PASS", &f, XDP_PASS_, XDPSYN_CNT_ACK_VALID);
	ack_frame(&f, &hs_v6_full, hs_v6_full.cookie + 1, hs_v6_full.syn.sport, 1, hs_v6_full.our_tsval);
	expect("ACK v6 with TS for our SYN-ACK validates -> PASS", &f, XDP_PASS_, XDPSYN_CNT_ACK_VALID);
	ack_frame(&f, &hs_v4_plain, hs_v4_plain.cookie + 1, hs_v4_plain.syn.sport, 0, 0);
	expect("ACK v4 without TS validates -> PASS", &f, XDP_PASS_, XDPSYN_CNT_ACK_VALID);
	{
		/* TS first, NOPs after: not Linux's layout, so the general walk */
		struct spec as = hs_v6_full.syn;
		uint32_t t = hs_v6_full.our_tsval;
		uint8_t o[12] = { 8, 10, 0, 0, 0, 9, (uint8_t)(t >> 24), (uint8_t)(t >> 16),
				  (uint8_t)(t >> 8), (uint8_t)t, 1, 1 };

		as.flags = F_ACK;
		as.seq = hs_v6_full.syn.seq + 1;
		as.ack = hs_v6_full.cookie + 1;
		as.opts = o;
		as.optlen = sizeof(o);
		frame_build(&f, &as);
		expect("ACK v6 with TS in a non-Linux option layout validates -> PASS", &f, XDP_PASS_,
		       XDPSYN_CNT_ACK_VALID);
	}
	{
		struct spec ds;

		ack_frame(&f, &hs_v4_plain, hs_v4_plain.cookie + 1, hs_v4_plain.syn.sport, 0, 0);
		ds = hs_v4_plain.syn;
		ds.flags = F_ACK | F_PSH;
		ds.seq = hs_v4_plain.syn.seq + 1;
		ds.ack = hs_v4_plain.cookie + 1;
		ds.opts = NULL;
		ds.optlen = 0;
		ds.payload = 100;
		frame_build(&f, &ds);
		expect("first data segment (final ACK lost) validates -> PASS", &f, XDP_PASS_,
		       XDPSYN_CNT_ACK_VALID);
	}
	ack_frame(&f, &hs_v4_full, (hs_v4_full.cookie + 1) ^ 0x00010000, hs_v4_full.syn.sport, 1,
		  hs_v4_full.our_tsval);
	expect("ACK with one bit flipped in ack_seq -> DROP", &f, XDP_DROP_, XDPSYN_CNT_ACK_INVALID);
	ack_frame(&f, &hs_v4_plain, (hs_v4_plain.cookie + 1) ^ 0x100, hs_v4_plain.syn.sport, 0, 0);
	expect("ACK without TS, one bit flipped -> DROP", &f, XDP_DROP_, XDPSYN_CNT_ACK_INVALID);
	ack_frame(&f, &hs_v4_full, hs_v4_full.cookie + 1, hs_v4_full.syn.sport, 1,
		  hs_v4_full.our_tsval ^ 0x1);
	expect("ACK with TSecr hash bits altered -> DROP", &f, XDP_DROP_, XDPSYN_CNT_ACK_INVALID);
	ack_frame(&f, &hs_v4_full, hs_v4_full.cookie + 1, hs_v4_full.syn.sport + 1, 1,
		  hs_v4_full.our_tsval);
	expect("same ACK from another source port -> DROP", &f, XDP_DROP_, XDPSYN_CNT_ACK_INVALID);
	{
		struct spec ds = hs_v4_full.syn;

		ds.saddr[3] ^= 1;
		hs = hs_v4_plain;
		hs.syn.saddr[3] ^= 1;
		ack_frame(&f, &hs, hs_v4_plain.cookie + 1, hs.syn.sport, 0, 0);
		expect("same ACK from another source address -> DROP", &f, XDP_DROP_,
		       XDPSYN_CNT_ACK_INVALID);
	}
	/* 2b. the tracker: flow records, completions, top sources */
	{
		struct xdpsyn_flow fl;
		struct xdpsyn_top_val tv;
		uint8_t cli24[4] = { cli4[0], cli4[1], cli4[2], 0 };

		check(flow_find(&hs_v4_full.syn, &fl) == 0, "no flow record for the validated v4 ACK");
		check(fl.mss == 1460, "flow mss %u, want 1460", fl.mss);
		check(fl.snd_wscale == 7 && fl.rcv_wscale == cfg_default.wscale,
		      "flow wscale %u/%u, want 7/%u", fl.snd_wscale, fl.rcv_wscale, cfg_default.wscale);
		check((fl.flags & (XDPSYN_FLOW_SACK | XDPSYN_FLOW_TS | XDPSYN_FLOW_WS | XDPSYN_FLOW_ECN)) ==
		      (XDPSYN_FLOW_SACK | XDPSYN_FLOW_TS | XDPSYN_FLOW_WS), "flow flags 0x%x", fl.flags);
		check(fl.rtt_us < 1000000, "flow rtt %u us for a handshake made just now", fl.rtt_us);
		check(fl.time_ns > tai_ns() - 60ull * 1000000000 && fl.time_ns <= tai_ns(),
		      "flow time not now");
		report("valid ACK writes the flow record: MSS, wscales, SACK/TS/WS flags, time");
		check(flow_find(&hs_v4_plain.syn, &fl) == 0 && !(fl.flags & XDPSYN_FLOW_TS) && fl.rtt_us == 0,
		      "flow without timestamps: record missing, or TS flag/RTT set");
		report("valid ACK without TS: record with no TS flag and RTT 0");
		{
			struct spec fs = hs_v4_full.syn;

			fs.sport += 1; /* the forged "another source port" ACK */
			check(flow_find(&fs, &fl) != 0, "a forged ACK left a flow record");
			report("forged ACKs leave no flow record");
		}
		/* two v4 handshakes validated: hs_v4_full (its ACK ran several
		 * times above: one completion) and hs_v4_plain */
		memset(&tv, 0, sizeof(tv));
		check(top_find(0, cli24, 24, &tv) == 0, "client /24 not in top sources");
		check(tv.completed == 2, "completed %llu, want 2 (one per handshake)",
		      (unsigned long long)tv.completed);
		report("completions counted for the client's /24 in top sources, once per handshake");
	}
	{
		uint32_t now = counter_now();
		uint8_t info = hs_v4_plain.cookie & 0xff;
		uint32_t c;

		c = ref_cookie(key_a, &hs_v4_plain, now - 1, info);
		ack_frame(&f, &hs_v4_plain, c + 1, hs_v4_plain.syn.sport, 0, 0);
		expect("ACK for a cookie of the previous period validates -> PASS", &f, XDP_PASS_,
		       XDPSYN_CNT_ACK_VALID);
		c = ref_cookie(key_a, &hs_v4_plain, now - 2, info);
		ack_frame(&f, &hs_v4_plain, c + 1, hs_v4_plain.syn.sport, 0, 0);
		expect("ACK for a cookie two periods old -> DROP", &f, XDP_DROP_, XDPSYN_CNT_ACK_INVALID);
		c = ref_cookie(key_a, &hs_v4_plain, now + 1, info);
		ack_frame(&f, &hs_v4_plain, c + 1, hs_v4_plain.syn.sport, 0, 0);
		expect("ACK for a cookie of a future period -> DROP", &f, XDP_DROP_, XDPSYN_CNT_ACK_INVALID);
	}
	{
		/* TS names the period: a TSecr clock 2.1 periods old fails even
		 * with a cookie the reference made for that period. */
		uint64_t now = tai_ns();
		uint64_t then = now - (uint64_t)(2.1 * (1ull << XDPSYN_COUNTER_NS_SHIFT));
		uint8_t info = hs_v4_full.cookie & 0xff;
		const struct spec *sy = &hs_v4_full.syn;
		uint32_t ctr = (uint32_t)(then >> XDPSYN_COUNTER_NS_SHIFT);
		uint64_t h = ref_cookie_hash(key_a, 0, sy->saddr, sy->daddr, sy->sport, sy->dport,
					     sy->seq, ctr, info);
		uint32_t cookie = (uint32_t)(h & 0xffffff) << 8 | info;
		uint32_t tsv = (uint32_t)(((then >> XDPSYN_TSCLK_NS_SHIFT) & XDPSYN_TSCLK_MASK) << 8) |
			       (uint32_t)((h >> 24) & 0xff);

		ack_frame(&f, &hs_v4_full, cookie + 1, sy->sport, 1, tsv);
		expect("ACK with TS from a SYN-ACK 2.1 periods old -> DROP", &f, XDP_DROP_,
		       XDPSYN_CNT_ACK_INVALID);
		then = now - (uint64_t)(0.5 * (1ull << XDPSYN_COUNTER_NS_SHIFT));
		ctr = (uint32_t)(then >> XDPSYN_COUNTER_NS_SHIFT);
		h = ref_cookie_hash(key_a, 0, sy->saddr, sy->daddr, sy->sport, sy->dport, sy->seq, ctr,
				    info);
		cookie = (uint32_t)(h & 0xffffff) << 8 | info;
		tsv = (uint32_t)(((then >> XDPSYN_TSCLK_NS_SHIFT) & XDPSYN_TSCLK_MASK) << 8) |
		      (uint32_t)((h >> 24) & 0xff);
		ack_frame(&f, &hs_v4_full, cookie + 1, sy->sport, 1, tsv);
		expect("ACK with TS from a SYN-ACK half a period old validates -> PASS", &f, XDP_PASS_,
		       XDPSYN_CNT_ACK_VALID);
	}


	{
		/* 40 SYNs from one /24: listed in top with 0 completions; the
		 * sketch's estimate covers them */
		uint8_t net[4] = { 10, 201, 77, 0 };
		struct xdpsyn_top_val tv;
		uint64_t est;

		for (int i = 0; i < 40; i++) {
			struct result r;

			spec_base(&s, 0);
			s.saddr[0] = 10; s.saddr[1] = 201; s.saddr[2] = 77; s.saddr[3] = (uint8_t)(i + 1);
			s.sport = (uint16_t)(20000 + i);
			frame_build(&f, &s);
			run_frame(&f, &r);
		}
		check(top_find(0, net, 24, &tv) == 0, "10.201.77.0/24 not listed after 40 SYNs");
		check(tv.completed == 0, "flooding /24 shows %llu completions", (unsigned long long)tv.completed);
		est = cms_estimate(0, net, 24);
		check(est >= 40, "sketch estimate %llu < 40 SYNs sent", (unsigned long long)est);
		report("40 SYNs from one /24: listed in top, 0 completed, sketch estimate >= 40");
	}
	{
		/* v6: a /64 of SYNs */
		struct xdpsyn_top_val tv;
		uint8_t net6[16];

		for (int i = 0; i < 20; i++) {
			struct result r;

			spec_base(&s, 1);
			s.saddr[15] = (uint8_t)(i + 9);
			s.saddr[8] = 0x77;
			s.sport = (uint16_t)(21000 + i);
			frame_build(&f, &s);
			run_frame(&f, &r);
		}
		memcpy(net6, cli6, 16);
		memset(net6 + 8, 0, 8);
		check(top_find(1, net6, 64, &tv) == 0, "client /64 not listed after 20 v6 SYNs");
		report("20 SYNs from one IPv6 /64: listed in top");
	}

	/* 3. key rotation: B becomes current, A stays valid as previous */
	{
		struct xdpsyn_config c = cfg_default;
		uint32_t now = counter_now();

		key_put(1, key_b);
		c.key_cur = 1;
		c.key_prev_until = now;
		cfg_put(&c);
		ack_frame(&f, &hs_v4_full, hs_v4_full.cookie + 1, hs_v4_full.syn.sport, 1,
			  hs_v4_full.our_tsval);
		expect_prev_key("after key rotation, ACK for the old key's cookie still validates", &f, 1);
		spec_base(&s, 0);
		s.seq = 0x55667788;
		{
			/* a new SYN gets a key-B cookie; its ACK validates with the current key */
			struct frame sf;
			struct result r;
			struct parsed p;
			uint8_t info;
			uint64_t h;

			s.opts = optsets[1].bytes;
			s.optlen = optsets[1].len;
			frame_build(&sf, &s);
			run_frame(&sf, &r);
			frame_parse(r.out, r.out_len, &p);
			info = p.seq & 0xff;
			h = ref_cookie_hash(key_b, 0, s.saddr, s.daddr, s.sport, s.dport, s.seq,
					    (uint32_t)(r.t0 >> XDPSYN_COUNTER_NS_SHIFT), info);
			check(r.verdict == XDP_TX_ && p.ok, "no SYN-ACK after rotation");
			check((uint32_t)(h & 0xffffff) << 8 == (p.seq & 0xffffff00),
			      "after rotation the cookie is not made with the new key");
			report("after key rotation, new SYN-ACKs carry new-key cookies");
			hs.syn = s;
			hs.cookie = p.seq;
			ack_frame(&f, &hs, hs.cookie + 1, s.sport, 0, 0);
			expect_prev_key("after key rotation, ACK for a new-key cookie validates", &f, 0);
		}
		c.key_prev_until = now - 2; /* the rotation is two periods old */
		cfg_put(&c);
		ack_frame(&f, &hs_v4_full, hs_v4_full.cookie + 1, hs_v4_full.syn.sport, 1,
			  hs_v4_full.our_tsval);
		expect("old key's cookie once its period is over -> DROP", &f, XDP_DROP_,
		       XDPSYN_CNT_ACK_INVALID);
		cfg_put(&cfg_default);
	}

	/* 4. everything that is not ours */
	spec_base(&s, 0);
	s.flags = F_ACK;
	s.sport = est_port;
	s.ack = 777;
	frame_build(&f, &s);
	expect("segment of an established connection -> PASS", &f, XDP_PASS_, XDPSYN_CNT_ESTABLISHED);
	spec_base(&s, 0);
	s.dport = PORT_PROT_NOLSN;
	s.flags = F_ACK;
	frame_build(&f, &s);
	expect("ACK to a protected port with no socket -> PASS", &f, XDP_PASS_, XDPSYN_CNT_NO_SOCKET);
	spec_base(&s, 0);
	s.flags = F_RST;
	frame_build(&f, &s);
	expect("RST to the listener -> PASS", &f, XDP_PASS_, XDPSYN_CNT_LISTENER_OTHER);
	spec_base(&s, 0);
	s.dport = PORT_OPEN;
	frame_build(&f, &s);
	expect("SYN to an unprotected port -> PASS", &f, XDP_PASS_, XDPSYN_CNT_UNPROTECTED);
	spec_base(&s, 1);
	s.dport = 22;
	s.flags = F_ACK;
	frame_build(&f, &s);
	expect("v6 ACK to an unprotected port -> PASS", &f, XDP_PASS_, XDPSYN_CNT_UNPROTECTED);
	spec_base(&s, 0);
	s.l4proto = 17;
	frame_build(&f, &s);
	expect("UDP -> PASS", &f, XDP_PASS_, XDPSYN_CNT_NOT_TCP);
	spec_base(&s, 1);
	s.l4proto = 58;
	frame_build(&f, &s);
	expect("ICMPv6 -> PASS", &f, XDP_PASS_, XDPSYN_CNT_NOT_TCP);
	spec_base(&s, 0);
	s.l4proto = 1;
	frame_build(&f, &s);
	expect("ICMP -> PASS", &f, XDP_PASS_, XDPSYN_CNT_NOT_TCP);
	{
		memset(&f, 0, sizeof(f));
		memcpy(f.b, "\xff\xff\xff\xff\xff\xff", 6);
		memcpy(f.b + 6, cli_mac, 6);
		f.b[12] = 0x08; f.b[13] = 0x06; /* ARP */
		f.len = 42;
		expect("ARP -> PASS", &f, XDP_PASS_, XDPSYN_CNT_NOT_IP);
	}
	/* (BPF_PROG_TEST_RUN refuses frames under 14 bytes, so a cut inside
	 * the Ethernet header cannot be run; the cut VLAN tag is the L2 case.) */
	spec_base(&s, 0);
	s.vlans = 1;
	frame_build(&f, &s);
	f.len = 16;
	expect("VLAN tag cut off after the Ethernet header -> DROP", &f, XDP_DROP_,
	       XDPSYN_CNT_MALFORMED);
	frame_build(&f, &s);
	f.len = 14 + 12;
	expect("truncated IPv4 header -> DROP", &f, XDP_DROP_, XDPSYN_CNT_MALFORMED);
	spec_base(&s, 1);
	frame_build(&f, &s);
	f.len = 14 + 30;
	expect("truncated IPv6 header -> DROP", &f, XDP_DROP_, XDPSYN_CNT_MALFORMED);
	spec_base(&s, 0);
	frame_build(&f, &s);
	f.len = 14 + 20 + 12;
	expect("truncated TCP header -> DROP", &f, XDP_DROP_, XDPSYN_CNT_MALFORMED);
	spec_base(&s, 0);
	s.raw_doff = 4;
	frame_build(&f, &s);
	expect2("SYN with TCP data offset 4 (< 5) -> DROP", &f, XDP_DROP_, XDPSYN_CNT_MALFORMED, XDPSYN_CNT_SYN);
	spec_base(&s, 0);
	s.raw_doff = 15;
	frame_build(&f, &s);
	expect2("SYN with data offset beyond the packet -> DROP", &f, XDP_DROP_, XDPSYN_CNT_MALFORMED, XDPSYN_CNT_SYN);
	{
		static const uint8_t zero_len[] = { 2, 4, 5, 0xb4, 30, 0, 1, 1 };
		static const uint8_t past_end[] = { 2, 4, 5, 0xb4, 1, 1, 30, 9 };
		static const uint8_t bad_mss[] = { 2, 3, 5, 1 };

		spec_base(&s, 0);
		s.opts = zero_len;
		s.optlen = sizeof(zero_len);
		frame_build(&f, &s);
		expect2("SYN with an option of length 0 -> DROP", &f, XDP_DROP_, XDPSYN_CNT_MALFORMED, XDPSYN_CNT_SYN);
		spec_base(&s, 0);
		s.opts = past_end;
		s.optlen = sizeof(past_end);
		frame_build(&f, &s);
		expect2("SYN with an option running past the header -> DROP", &f, XDP_DROP_,
			XDPSYN_CNT_MALFORMED, XDPSYN_CNT_SYN);
		spec_base(&s, 1);
		s.opts = bad_mss;
		s.optlen = sizeof(bad_mss);
		frame_build(&f, &s);
		expect2("v6 SYN with an MSS option of length 3 -> DROP", &f, XDP_DROP_,
			XDPSYN_CNT_MALFORMED, XDPSYN_CNT_SYN);
		spec_base(&s, 0);
		s.flags = F_ACK;
		s.opts = zero_len;
		s.optlen = sizeof(zero_len);
		frame_build(&f, &s);
		expect("ACK to the listener with a malformed option -> DROP", &f, XDP_DROP_,
		       XDPSYN_CNT_MALFORMED);
	}
	spec_base(&s, 0);
	s.flags = F_SYN | F_FIN;
	frame_build(&f, &s);
	expect("SYN+FIN -> DROP, no SYN-ACK", &f, XDP_DROP_, XDPSYN_CNT_SYN_BAD_FLAGS);
	spec_base(&s, 0);
	s.flags = F_SYN | F_RST;
	frame_build(&f, &s);
	expect("SYN+RST -> DROP, no SYN-ACK", &f, XDP_DROP_, XDPSYN_CNT_SYN_BAD_FLAGS);
	spec_base(&s, 0);
	s.flags = F_SYN | F_ACK;
	frame_build(&f, &s);
	expect("SYN-ACK to the listener -> PASS, not answered", &f, XDP_PASS_,
	       XDPSYN_CNT_LISTENER_OTHER);
	spec_base(&s, 0);
	s.frag_off = 100; /* offset 800 bytes, a non-first fragment */
	frame_build(&f, &s);
	expect("IPv4 non-first fragment -> PASS", &f, XDP_PASS_, XDPSYN_CNT_FRAGMENT);
	{
		static const uint8_t frag[] = { 6, 0, 0x00, 0x64, 0, 0, 0, 7 }; /* offset 100*8 */
		static uint8_t chain[8 * 9];

		spec_base(&s, 1);
		s.ext = frag;
		s.ext_len = sizeof(frag);
		s.ext_first = 44;
		frame_build(&f, &s);
		expect("IPv6 non-first fragment -> PASS", &f, XDP_PASS_, XDPSYN_CNT_FRAGMENT);
		for (int i = 0; i < 9; i++) {
			chain[i * 8] = i == 8 ? 6 : 60;
			chain[i * 8 + 1] = 0;
			chain[i * 8 + 2] = 1;
			chain[i * 8 + 3] = 4;
		}
		spec_base(&s, 1);
		s.ext = chain;
		s.ext_len = sizeof(chain);
		s.ext_first = 60;
		frame_build(&f, &s);
		expect("IPv6 SYN behind 9 extension headers -> DROP, not passed", &f, XDP_DROP_,
		       XDPSYN_CNT_MALFORMED);
		spec_base(&s, 1);
		s.ext = chain;
		s.ext_len = 16;
		s.ext_first = 60;
		chain[8] = 60;
		frame_build(&f, &s);
		f.len -= 20 + 24; /* cut inside the chain: TCP header missing */
		expect("IPv6 extension chain truncated -> DROP", &f, XDP_DROP_, XDPSYN_CNT_MALFORMED);
	}
	{
		/* three VLAN tags: not parsed further, passed as not-IP */
		spec_base(&s, 0);
		s.vlans = 2;
		frame_build(&f, &s);
		memmove(f.b + 16 + 4, f.b + 16, f.len - 16);
		f.b[16] = 0x81; f.b[17] = 0x00; f.b[18] = 0; f.b[19] = 5;
		f.len += 4;
		expect("three VLAN tags -> PASS as not-IP", &f, XDP_PASS_, XDPSYN_CNT_NOT_IP);
	}
	{
		/* a config with no key slot set up must not answer with key 0s:
		 * here keys exist, so check the other guard: an empty port map */
		int none[] = { 0 };

		ports_put(XDPSYN_V4, none, 0);
		spec_base(&s, 0);
		frame_build(&f, &s);
		expect("SYN after its port was unprotected live -> PASS", &f, XDP_PASS_,
		       XDPSYN_CNT_UNPROTECTED);
		ports_put(XDPSYN_V4, ports, sizeof(ports) / sizeof(ports[0]));
		{
			struct result r;

			run_frame(&f, &r);
			check(r.verdict == XDP_TX_, "verdict %s after re-protecting", verdict_name(r.verdict));
			report("SYN after its port was protected again live -> XDP_TX");
		}
	}

	/* 5. live settings: MSS cap, window, TTL, wscale, ECN off */
	{
		struct xdpsyn_config c = cfg_default;
		struct result r;
		struct parsed p;

		c.mss[0] = 1200;
		c.window = 1000;
		c.ttl = 5;
		c.wscale = 3;
		c.ecn = 0;
		cfg_put(&c);
		spec_base(&s, 0);
		s.opts = optsets[5].bytes; /* ECN SYN, MSS 1460 + WS */
		s.optlen = optsets[5].len;
		s.flags |= F_ECE | F_CWR;
		frame_build(&f, &s);
		run_frame(&f, &r);
		frame_parse(r.out, r.out_len, &p);
		check(r.verdict == XDP_TX_ && p.ok, "no SYN-ACK");
		check(p.optlen == 8 && p.opts[2] == (1200 >> 8) && p.opts[3] == (1200 & 0xff),
		      "MSS not capped to 1200");
		check(p.optlen == 8 && p.opts[7] == 3, "wscale not 3");
		check(p.window == 1000 && p.ttl == 5, "window %u ttl %u", p.window, p.ttl);
		check(!(p.flags & F_ECE), "ECE set with ECN off");
		check((p.seq >> 6 & 3) == 0 && !(p.seq & 0x20), "cookie info 0x%02x: want MSS index 0 (536), no ECN", p.seq & 0xff);
		report("live config: MSS cap 1200, window 1000, TTL 5, wscale 3, ECN off");
		cfg_put(&cfg_default);
	}

	/* 6. policies: track, auto, switching */
	policy_cases();

	/* 7. do no harm: what the kernel alone would do */
	noharm_cases(l4);
	kcookie_cases(ports, sizeof(ports) / sizeof(ports[0]));

	/* 8. attach to a veth, native then generic, and detach */
	run_cmd("ip link add xsyn0 type veth peer name xsyn1");
	run_cmd("ip link set xsyn0 up");
	run_cmd("ip link set xsyn1 up");
	attach_case("attach by bpf_link in native mode on a veth, then detach", XDP_FLAGS_DRV_MODE);
	attach_case("attach by bpf_link in generic mode on a veth, then detach", XDP_FLAGS_SKB_MODE);

	close(est_fd);
	close(acc_fd);
	close(l4);
	close(l6);
	close(lo4);
	xdpsyn_tc__destroy(tcskel);
	xdpsyn__destroy(skel);
	printf("%d passed, %d failed\n", passed, failed);
	return failed ? 1 : 0;
}
