// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Unit tests of the XDP and TC programs: the real objects, loaded through
 * their skeletons, run with BPF_PROG_TEST_RUN on crafted frames. Runs in a
 * private network namespace it creates: the frames' server addresses sit
 * on its loopback with listening sockets on the protected ports, so
 * bpf_skc_lookup_tcp finds real sockets.
 *
 * The tests are named cases (the table `cases` at the end), each one
 * concern, most of them a loop over a fixture table at the top of their
 * group: a name, the frame (a change to the base SYN, or a builder), the
 * verdict and counters it must give, checks on the output. Every case
 * starts from the same fixture (fixture_reset): default config, key A,
 * the protected ports, empty flow/handshake/top tables, the netns's
 * sysctls as found; a case that needs a handshake makes it itself
 * (handshake_make), so any case runs alone and in any order.
 *
 *   test_unit            every case in order
 *   test_unit -l         the case names, one a line
 *   test_unit -r NAME    that case alone (-r may repeat)
 *   test_unit --bench    ns/packet of a few paths instead
 *
 * Output: "# case" before each case, one "ok"/"FAIL" line per check, then
 * "N passed, N failed"; exit 1 on any failure.
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
#define HARNESS_CHECKS
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

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

static const int prot_ports[] = { PORT_PROT, PORT_PROT_NOLSN, PORT_MPTCP, PORT_WILD, PORT_MAXSEG };

static struct xdpsyn *skel;
static struct xdpsyn_tc *tcskel;
static int prog_fd, egress_fd, ingress_fd;
static int nproc;

/* The shared fixture's sockets (fixture_setup). */
static int l4 = -1, l6 = -1, lo4 = -1;  /* listeners on PORT_PROT (v4, v6), PORT_OPEN */
static int est_fd = -1, acc_fd = -1;    /* an established connection to PORT_PROT */
static uint16_t est_port;               /* its client port */
static int mptcp_fd[2] = { -1, -1 };    /* MPTCP listeners on PORT_MPTCP (v4, v6) */
static int mptcp_errno;
static int wild_fd[2] = { -1, -1 };     /* wildcard listeners on PORT_WILD (v4, v6) */
static int maxseg_fd = -1;              /* PORT_MAXSEG, TCP_MAXSEG 1000 */

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

static uint32_t be32_at(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
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

/* Run program FD on f (out: the frame it leaves, if r->out is wanted). */
static int run_prog(int fd, const struct frame *f, struct result *r, int want_out)
{
	uint64_t before[XDPSYN_CNT_MAX], after[XDPSYN_CNT_MAX];
	LIBBPF_OPTS(bpf_test_run_opts, opts,
		    .data_in = f->b,
		    .data_size_in = (uint32_t)f->len,
		    .repeat = 1);
	int err;

	if (want_out) {
		opts.data_out = r->out;
		opts.data_size_out = sizeof(r->out);
	}
	stats_read(before);
	r->t0 = tai_ns();
	err = bpf_prog_test_run_opts(fd, &opts);
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

/* Run the XDP program on f. */
static int run_frame(const struct frame *f, struct result *r)
{
	return run_prog(prog_fd, f, r, 1);
}

/* Run a TC program (FD) on f. */
static int run_tc(int fd, const struct frame *f, struct result *r)
{
	return run_prog(fd, f, r, 0);
}

/* ---- reporting -------------------------------------------------------- */

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

/* ---- frames ------------------------------------------------------------ */

/* The base SYN: client -> server:PORT_PROT, no options. */
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

/* A fixture's frame: the fixture's spec, the base SYN's (of family
 * mod->v6) where it leaves a field zero, and always the base's MACs and
 * addresses. */
static void spec_from(struct spec *s, const struct spec *mod)
{
	struct spec base;

	spec_base(&base, mod->v6);
	*s = *mod;
	memcpy(s->smac, base.smac, sizeof(s->smac));
	memcpy(s->dmac, base.dmac, sizeof(s->dmac));
	memcpy(s->saddr, base.saddr, sizeof(s->saddr));
	memcpy(s->daddr, base.daddr, sizeof(s->daddr));
	s->sport = s->sport ? s->sport : base.sport;
	s->dport = s->dport ? s->dport : base.dport;
	s->seq = s->seq ? s->seq : base.seq;
	s->flags = s->flags ? s->flags : base.flags;
	s->window = s->window ? s->window : base.window;
}

/* A frame fixture: the frame, and what the program must do with it. */
struct frame_case {
	const char *name;
	struct spec mod;       /* spec_from: the base SYN with these fields */
	void (*build)(struct frame *f, struct spec *s); /* instead of frame_build */
	size_t cut;            /* non-zero: the frame is cut to this many bytes */
	int verdict;
	int counter;           /* the counter it moves (and RX) */
	int also;              /* another one, 0 for none (RX moves anyway) */
};

_Static_assert(XDPSYN_CNT_RX == 0, "frame_case.also 0 means none");

/* Every fixture of a table: build, run, expect2 (one check line each). */
static void frame_cases_run(const struct frame_case *t, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		const struct frame_case *c = &t[i];
		struct spec s;
		struct frame f;

		spec_from(&s, &c->mod);
		if (c->build)
			c->build(&f, &s);
		else
			frame_build(&f, &s);
		if (c->cut)
			f.len = c->cut;
		expect2(c->name, &f, c->verdict, c->counter, c->also ? c->also : -1);
	}
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

enum { OPTS_NONE, OPTS_MSS, OPTS_LINUX, OPTS_ECN = 5 }; /* rows of optsets used by name */

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

/* The client offers option set o in the SYN s. */
static void spec_opts(struct spec *s, const struct optset *o)
{
	s->opts = o->bytes;
	s->optlen = o->len;
}

/* Run the frame of s; *p is the frame the program leaves, parsed (the
 * SYN-ACK when it answers; p->ok 0 and r->verdict -1 if the run fails). */
static int run_parsed(const struct spec *s, struct result *r, struct parsed *p)
{
	struct frame f;

	frame_build(&f, s);
	if (run_frame(&f, r)) {
		memset(p, 0, sizeof(*p));
		snprintf(p->why, sizeof(p->why), "BPF_PROG_TEST_RUN failed: %s", strerror(errno));
		r->verdict = -1;
		return -1;
	}
	frame_parse(r->out, r->out_len, p);
	return 0;
}

/* ---- tracker lookups ----------------------------------------------------- */

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

/* The flow record (a completed handshake) of a client tuple, or -1. */
static int flow_find(const struct spec *s, struct xdpsyn_flow *out)
{
	return record_find(bpf_map__fd(skel->maps.xdpsyn_flows), s, out);
}

/* The track policy's handshake record of a client tuple, or -1. */
static int hs_find(const struct spec *s, struct xdpsyn_flow *out)
{
	return record_find(bpf_map__fd(skel->maps.xdpsyn_hs), s, out);
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
				       sizeof(*v) * nproc, 0)) {
		free(v);
		return 0;
	}
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

/* ---- SYN: the SYN-ACK and its cookie ----------------------------------- */

/* IPv4 options, IPv6 extension headers, a SYN's payload: left out of the
 * SYN-ACK (the option sets are the table optsets above). */
static const uint8_t ext_hbh_dst_frag[] = { /* hop-by-hop (8) -> dest opts (16) -> fragment (first) -> TCP */
	60, 0, 1, 4, 0, 0, 0, 0,
	44, 1, 1, 12, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	6, 0, 0x00, 0x01, 0, 0, 0, 42,
};
static const uint8_t ext_routing[] = { 6, 0, 0, 0, 0, 0, 0, 0 }; /* type 0, segleft 0 */

static const struct syn_header_case {
	const char *name;
	struct spec mod;
	int optset;
} syn_headers[] = {
	{ "SYN v4 with 8 bytes of IP options -> SYN-ACK without them",
	  { .ipopt_len = 8 }, OPTS_LINUX },
	{ "SYN v4 with 30 bytes of payload -> SYN-ACK without it",
	  { .payload = 30 }, OPTS_LINUX },
	{ "SYN v6 via hop-by-hop, dest-opts, first fragment -> SYN-ACK",
	  { .v6 = 1, .ext = ext_hbh_dst_frag, .ext_len = sizeof(ext_hbh_dst_frag), .ext_first = 0 },
	  OPTS_LINUX },
	{ "SYN v6 with a routing header, 1 VLAN tag -> SYN-ACK",
	  { .v6 = 1, .ext = ext_routing, .ext_len = sizeof(ext_routing), .ext_first = 43, .vlans = 1 },
	  OPTS_MSS },
	/* beyond a page: BPF_PROG_TEST_RUN makes it a multi-buffer frame */
	{ "SYN v4 with 8000 bytes of payload (multi-buffer frame) -> SYN-ACK without it",
	  { .payload = 8000 }, OPTS_LINUX },
	{ "SYN v6 with 8000 bytes of payload, 1 VLAN tag (multi-buffer) -> SYN-ACK without it",
	  { .v6 = 1, .payload = 8000, .vlans = 1 }, OPTS_MSS },
};

/* Handshake state a SYN leaves for the ACKs that answer it. */
struct handshake {
	struct spec syn;
	uint32_t cookie;
	uint32_t our_tsval;
	int ts;
};

/* A counter that moves with SYNACK_TX in syn_case (-1: none). */
static int syn_case_also = -1;

/* Run the SYN s with the client options o: one check line NAME over every
 * byte of the SYN-ACK and its cookie against the reference; *hs is the
 * handshake for the ACK that would answer it. */
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

	spec_opts(s, o);
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
					uint32_t tsval = be32_at(p.opts + 8);
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

/* The test's own reference: the SipHash-2-4 paper's vector. */
static void case_siphash_reference(void)
{
	uint8_t k[16], m[15];

	for (int i = 0; i < 16; i++)
		k[i] = i;
	for (int i = 0; i < 15; i++)
		m[i] = i;
	check(ref_siphash(k, m, 15) == 0xa129ca6149be45e5ULL, "reference SipHash wrong");
	report("reference SipHash-2-4 matches the published test vector");
}

/* Every client option set, v4 and v6; 0, 1 and 2 VLAN tags for no options
 * and the full Linux set. */
static void case_syn_options(void)
{
	struct handshake hs;
	struct spec s;
	char name[160];

	for (int v6 = 0; v6 <= 1; v6++) {
		for (size_t i = 0; i < ARRAY_LEN(optsets); i++) {
			for (int vl = 0; vl <= 2; vl++) {
				if (vl && i != OPTS_LINUX && i != OPTS_NONE)
					continue;
				spec_base(&s, v6);
				s.vlans = vl;
				s.seq = 0x11223344 + (uint32_t)(i * 7919 + vl * 104729 + v6);
				s.sport = (uint16_t)(40000 + v6 * 100 + i * 10 + vl); /* a flow each */
				snprintf(name, sizeof(name), "SYN %s, %s, %d VLAN tag%s -> SYN-ACK",
					 v6 ? "v6" : "v4", optsets[i].name, vl, vl == 1 ? "" : "s");
				syn_case(name, &s, &optsets[i], &hs);
			}
		}
	}
}

static void case_syn_headers(void)
{
	struct handshake hs;
	struct spec s;

	for (size_t i = 0; i < ARRAY_LEN(syn_headers); i++) {
		spec_from(&s, &syn_headers[i].mod);
		syn_case(syn_headers[i].name, &s, &optsets[syn_headers[i].optset], &hs);
	}
}

/* Frames whose first buffer ends inside the headers (a driver's header
 * split, a small first page): what direct packet access cannot reach is
 * the kernel's to read. A cut single-buffer frame stays malformed. */
static const uint8_t opt_bad_len[] = { 2, 3, 5, 0 }; /* MSS of length 3 */

static const struct multibuf_case {
	const char *name;
	struct spec mod;
	uint32_t linear;       /* bytes in the first buffer (0: as test_run puts them) */
	int verdict, counter;
} multibuf_cases[] = {
	/* found by the fuzzer: a jumbo frame must not carry a forged ACK past */
	{ "ACK with a malformed option in a jumbo frame (headers in its first buffer) -> DROP",
	  { .flags = F_ACK, .payload = 8000, .opts = opt_bad_len, .optlen = sizeof(opt_bad_len) },
	  0, XDP_DROP_, XDPSYN_CNT_MALFORMED },
	{ "SYN whose TCP header runs past the first buffer -> PASS", { .payload = 8000 },
	  14 + 20 + 10, XDP_PASS_, XDPSYN_CNT_MULTIBUF_PASS },
	{ "SYN whose TCP options run past the first buffer -> PASS", { .payload = 8000 },
	  14 + 20 + 24, XDP_PASS_, XDPSYN_CNT_MULTIBUF_PASS },
	{ "v6 ACK whose TCP header runs past the first buffer -> PASS",
	  { .v6 = 1, .flags = F_ACK, .payload = 8000 }, 14 + 40 + 8, XDP_PASS_,
	  XDPSYN_CNT_MULTIBUF_PASS },
};

static void case_multibuf(void)
{
	struct spec s;
	struct frame f;

	for (size_t i = 0; i < ARRAY_LEN(multibuf_cases); i++) {
		const struct multibuf_case *c = &multibuf_cases[i];
		struct xdp_md md = { .data_end = c->linear };
		LIBBPF_OPTS(bpf_test_run_opts, opts, .repeat = 1,
			    .ctx_in = c->linear ? &md : NULL,
			    .ctx_size_in = c->linear ? sizeof(md) : 0);
		int other = c->counter == XDPSYN_CNT_MALFORMED ? XDPSYN_CNT_MULTIBUF_PASS :
							      XDPSYN_CNT_MALFORMED;
		uint64_t before[XDPSYN_CNT_MAX], after[XDPSYN_CNT_MAX];

		spec_from(&s, &c->mod);
		if (!(s.flags & F_ACK) && !s.opts)
			spec_opts(&s, &optsets[OPTS_LINUX]);
		frame_build(&f, &s);
		opts.data_in = f.b;
		opts.data_size_in = (uint32_t)f.len;
		stats_read(before);
		if (!check(bpf_prog_test_run_opts(prog_fd, &opts) == 0,
			   "BPF_PROG_TEST_RUN failed: %s", strerror(errno))) {
			report(c->name);
			continue;
		}
		stats_read(after);
		check((int)opts.retval == c->verdict, "verdict %s, want %s",
		      verdict_name((int)opts.retval), verdict_name(c->verdict));
		check(after[c->counter] - before[c->counter] == 1, "%s did not move",
		      cnt_names[c->counter]);
		check(after[other] == before[other], "counted as %s too", cnt_names[other]);
		report(c->name);
	}
	/* the same cut in a frame of one buffer: truncated, dropped */
	spec_from(&s, &multibuf_cases[1].mod);
	s.payload = 0;
	frame_build(&f, &s);
	f.len = multibuf_cases[1].linear;
	expect("the same SYN cut short in a single-buffer frame -> DROP (malformed)", &f,
	       XDP_DROP_, XDPSYN_CNT_MALFORMED);
}

/* ---- the handshake fixture -------------------------------------------- */

/* The handshakes the ACK cases answer (the flows of three SYN fixtures of
 * syn_options: the same tuples and ISNs). */
enum { HS_V4_TS, HS_V6_TS, HS_V4_PLAIN, HS_N };

static const struct hs_fixture {
	const char *what;
	int v6, optset;
	uint16_t sport;
	uint32_t seq;
} hs_fixtures[HS_N] = {
	[HS_V4_TS]    = { "v4 MSS+SACK+TS+WS", 0, OPTS_LINUX, 40020, 0x11223344 + 2 * 7919 },
	[HS_V6_TS]    = { "v6 MSS+SACK+TS+WS", 1, OPTS_LINUX, 40120, 0x11223344 + 2 * 7919 + 1 },
	[HS_V4_PLAIN] = { "v4 MSS only", 0, OPTS_MSS, 40010, 0x11223344 + 7919 },
};

/* Send fixture WHICH's SYN and keep what its SYN-ACK says. No check line
 * of its own: a failure shows in the case's next one. */
static void handshake_make(int which, struct handshake *hs)
{
	const struct hs_fixture *h = &hs_fixtures[which];
	const struct optset *o = &optsets[h->optset];
	struct result r;
	struct parsed p;

	memset(hs, 0, sizeof(*hs));
	spec_base(&hs->syn, h->v6);
	hs->syn.sport = h->sport;
	hs->syn.seq = h->seq;
	spec_opts(&hs->syn, o);
	hs->ts = o->ts;
	run_parsed(&hs->syn, &r, &p);
	check(r.verdict == XDP_TX_ && p.ok, "handshake %s: no SYN-ACK (verdict %s; %s)", h->what,
	      verdict_name(r.verdict), p.why);
	hs->cookie = p.seq;
	if (o->ts && p.optlen >= 12)
		hs->our_tsval = be32_at(p.opts + 8);
}

static void handshakes_make(struct handshake hs[HS_N])
{
	for (int i = 0; i < HS_N; i++)
		handshake_make(i, &hs[i]);
}

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

/* ---- ACK: the round trip and its forgeries ----------------------------- */

/* An ACK fixture: the answer to handshake HS, as the client sends it
 * (altered by the non-zero fields), and what the program must do. */
enum ack_layout {
	ACK_LINUX,     /* the final ACK, with TS when the SYN offered it */
	ACK_TS_FIRST,  /* TS first, NOPs after: not Linux's layout (the general walk) */
	ACK_DATA,      /* the first data segment (the final ACK lost), no options */
};

struct ack_case {
	const char *name;
	int hs;
	enum ack_layout layout;
	uint32_t ack_xor;      /* flipped in ack_seq (the cookie + 1) */
	int sport_delta;       /* added to the client's port */
	uint8_t saddr_xor;     /* flipped in the last byte of the client's address */
	uint32_t tsecr_xor;    /* flipped in TSecr */
	size_t payload;        /* ACK_DATA: bytes of data (default 100) */
	int verdict, counter;
};

static const struct ack_case acks_valid[] = {
	{ "ACK v4 with TS for our SYN-ACK validates -> PASS", HS_V4_TS, ACK_LINUX,
	  .verdict = XDP_PASS_, .counter = XDPSYN_CNT_ACK_VALID },
	{ "ACK v6 with TS for our SYN-ACK validates -> PASS", HS_V6_TS, ACK_LINUX,
	  .verdict = XDP_PASS_, .counter = XDPSYN_CNT_ACK_VALID },
	{ "ACK v4 without TS validates -> PASS", HS_V4_PLAIN, ACK_LINUX,
	  .verdict = XDP_PASS_, .counter = XDPSYN_CNT_ACK_VALID },
	{ "ACK v6 with TS in a non-Linux option layout validates -> PASS", HS_V6_TS, ACK_TS_FIRST,
	  .verdict = XDP_PASS_, .counter = XDPSYN_CNT_ACK_VALID },
	{ "first data segment (final ACK lost) validates -> PASS", HS_V4_PLAIN, ACK_DATA,
	  .verdict = XDP_PASS_, .counter = XDPSYN_CNT_ACK_VALID },
	{ "first data segment of 8000 bytes (multi-buffer frame) validates -> PASS", HS_V6_TS,
	  ACK_DATA, .payload = 8000, .verdict = XDP_PASS_, .counter = XDPSYN_CNT_ACK_VALID },
};

static const struct ack_case acks_forged[] = {
	{ "ACK with one bit flipped in ack_seq -> DROP", HS_V4_TS, ACK_LINUX, .ack_xor = 0x00010000,
	  .verdict = XDP_DROP_, .counter = XDPSYN_CNT_ACK_INVALID },
	{ "ACK without TS, one bit flipped -> DROP", HS_V4_PLAIN, ACK_LINUX, .ack_xor = 0x100,
	  .verdict = XDP_DROP_, .counter = XDPSYN_CNT_ACK_INVALID },
	{ "ACK with TSecr hash bits altered -> DROP", HS_V4_TS, ACK_LINUX, .tsecr_xor = 0x1,
	  .verdict = XDP_DROP_, .counter = XDPSYN_CNT_ACK_INVALID },
	{ "same ACK from another source port -> DROP", HS_V4_TS, ACK_LINUX, .sport_delta = 1,
	  .verdict = XDP_DROP_, .counter = XDPSYN_CNT_ACK_INVALID },
	{ "same ACK from another source address -> DROP", HS_V4_PLAIN, ACK_LINUX, .saddr_xor = 1,
	  .verdict = XDP_DROP_, .counter = XDPSYN_CNT_ACK_INVALID },
};

/* Cookies of other periods: the reference's cookie for the counter of a
 * moment AGE periods ago (negative: ahead), with a TSecr of that moment's
 * clock when the handshake has timestamps (TS names the period). */
static const struct period_case {
	const char *name;
	int hs;
	double age;
	int verdict, counter;
} cookie_periods[] = {
	{ "ACK for a cookie of the previous period validates -> PASS", HS_V4_PLAIN, 1.0,
	  XDP_PASS_, XDPSYN_CNT_ACK_VALID },
	{ "ACK for a cookie two periods old -> DROP", HS_V4_PLAIN, 2.0,
	  XDP_DROP_, XDPSYN_CNT_ACK_INVALID },
	{ "ACK for a cookie of a future period -> DROP", HS_V4_PLAIN, -1.0,
	  XDP_DROP_, XDPSYN_CNT_ACK_INVALID },
	{ "ACK with TS from a SYN-ACK 2.1 periods old -> DROP", HS_V4_TS, 2.1,
	  XDP_DROP_, XDPSYN_CNT_ACK_INVALID },
	{ "ACK with TS from a SYN-ACK half a period old validates -> PASS", HS_V4_TS, 0.5,
	  XDP_PASS_, XDPSYN_CNT_ACK_VALID },
};

/* The client tuple an ACK fixture is sent from (the handshake's SYN with
 * the fixture's changes). */
static struct spec ack_case_tuple(const struct ack_case *c, const struct handshake *hs)
{
	struct spec s = hs->syn;

	s.sport = (uint16_t)(s.sport + c->sport_delta);
	s.saddr[s.v6 ? 15 : 3] ^= c->saddr_xor;
	return s;
}

/* Every fixture of an ACK table: build, run, expect (one check line each). */
static void ack_cases_run(const struct ack_case *t, size_t n, const struct handshake hs[HS_N])
{
	for (size_t i = 0; i < n; i++) {
		const struct ack_case *c = &t[i];
		const struct handshake *h = &hs[c->hs];
		struct handshake alt = *h;
		uint32_t ack = (h->cookie + 1) ^ c->ack_xor, tsecr = h->our_tsval ^ c->tsecr_xor;
		struct spec s;
		struct frame f;

		alt.syn = ack_case_tuple(c, h);
		switch (c->layout) {
		case ACK_LINUX:
			ack_frame(&f, &alt, ack, alt.syn.sport, h->ts, tsecr);
			break;
		case ACK_TS_FIRST: {
			uint8_t o[12] = { 8, 10, 0, 0, 0, 9, (uint8_t)(tsecr >> 24), (uint8_t)(tsecr >> 16),
					  (uint8_t)(tsecr >> 8), (uint8_t)tsecr, 1, 1 };

			s = alt.syn;
			s.flags = F_ACK;
			s.seq = h->syn.seq + 1;
			s.ack = ack;
			s.opts = o;
			s.optlen = sizeof(o);
			frame_build(&f, &s);
			break;
		}
		case ACK_DATA:
			s = alt.syn;
			s.flags = F_ACK | F_PSH;
			s.seq = h->syn.seq + 1;
			s.ack = ack;
			s.opts = NULL;
			s.optlen = 0;
			s.payload = c->payload ? c->payload : 100;
			frame_build(&f, &s);
			break;
		}
		expect(c->name, &f, c->verdict, c->counter);
	}
}

/* Final ACKs (and a first data segment) that validate, and what the
 * tracker keeps of them: the flow record, one completion per handshake. */
static void case_ack_valid(void)
{
	struct handshake hs[HS_N];
	struct xdpsyn_flow fl;
	struct xdpsyn_top_val tv;
	const uint8_t cli24[4] = { cli4[0], cli4[1], cli4[2], 0 };

	handshakes_make(hs);
	ack_cases_run(acks_valid, ARRAY_LEN(acks_valid), hs);

	check(flow_find(&hs[HS_V4_TS].syn, &fl) == 0, "no flow record for the validated v4 ACK");
	check(fl.mss == 1460, "flow mss %u, want 1460", fl.mss);
	check(fl.snd_wscale == 7 && fl.rcv_wscale == cfg_default.wscale,
	      "flow wscale %u/%u, want 7/%u", fl.snd_wscale, fl.rcv_wscale, cfg_default.wscale);
	check((fl.flags & (XDPSYN_FLOW_SACK | XDPSYN_FLOW_TS | XDPSYN_FLOW_WS | XDPSYN_FLOW_ECN)) ==
	      (XDPSYN_FLOW_SACK | XDPSYN_FLOW_TS | XDPSYN_FLOW_WS), "flow flags 0x%x", fl.flags);
	check(fl.rtt_us < 1000000, "flow rtt %u us for a handshake made just now", fl.rtt_us);
	check(fl.time_ns > tai_ns() - 60ull * 1000000000 && fl.time_ns <= tai_ns(),
	      "flow time not now");
	report("valid ACK writes the flow record: MSS, wscales, SACK/TS/WS flags, time");
	check(flow_find(&hs[HS_V4_PLAIN].syn, &fl) == 0 && !(fl.flags & XDPSYN_FLOW_TS) &&
	      fl.rtt_us == 0, "flow without timestamps: record missing, or TS flag/RTT set");
	report("valid ACK without TS: record with no TS flag and RTT 0");
	/* two v4 handshakes validated, HS_V4_PLAIN twice (its ACK and its
	 * first data segment) */
	memset(&tv, 0, sizeof(tv));
	check(top_find(0, cli24, 24, &tv) == 0, "client /24 not in top sources");
	check(tv.completed == 2, "completed %llu, want 2 (one per handshake)",
	      (unsigned long long)tv.completed);
	report("completions counted for the client's /24 in top sources, once per handshake");
}

/* Forged final ACKs: dropped, and no flow record for any of them. */
static void case_ack_forged(void)
{
	struct handshake hs[HS_N];
	struct xdpsyn_flow fl;

	handshakes_make(hs);
	ack_cases_run(acks_forged, ARRAY_LEN(acks_forged), hs);
	for (size_t i = 0; i < ARRAY_LEN(acks_forged); i++) {
		struct spec tuple = ack_case_tuple(&acks_forged[i], &hs[acks_forged[i].hs]);

		check(flow_find(&tuple, &fl) != 0, "a forged ACK (%s) left a flow record",
		      acks_forged[i].name);
	}
	report("forged ACKs leave no flow record");
}

/* ACKs for cookies of other periods (the table cookie_periods). */
static void case_cookie_periods(void)
{
	struct handshake hs[HS_N];

	handshakes_make(hs);
	for (size_t i = 0; i < ARRAY_LEN(cookie_periods); i++) {
		const struct period_case *c = &cookie_periods[i];
		const struct handshake *h = &hs[c->hs];
		const struct spec *sy = &h->syn;
		uint8_t info = h->cookie & 0xff;
		uint64_t then = tai_ns() - (int64_t)(c->age * (double)(1ull << XDPSYN_COUNTER_NS_SHIFT));
		uint32_t ctr = (uint32_t)(then >> XDPSYN_COUNTER_NS_SHIFT);
		uint64_t hash = ref_cookie_hash(key_a, sy->v6, sy->saddr, sy->daddr, sy->sport,
						sy->dport, sy->seq, ctr, info);
		uint32_t cookie = (uint32_t)(hash & 0xffffff) << 8 | info;
		uint32_t tsv = (uint32_t)(((then >> XDPSYN_TSCLK_NS_SHIFT) & XDPSYN_TSCLK_MASK) << 8) |
			       (uint32_t)((hash >> 24) & 0xff);
		struct frame f;

		ack_frame(&f, h, cookie + 1, sy->sport, h->ts, tsv);
		expect(c->name, &f, c->verdict, c->counter);
	}
}

/* ---- top sources ------------------------------------------------------ */

/* SYNs from one /24 and one /64, with no completions: listed. */
static void case_top_sources(void)
{
	static const uint8_t net[4] = { 10, 201, 77, 0 };
	struct xdpsyn_top_val tv;
	struct result r;
	struct spec s;
	struct frame f;
	uint8_t net6[16];
	uint64_t est;

	/* 40 SYNs from one /24: listed in top with 0 completions; the
	 * sketch's estimate covers them */
	for (int i = 0; i < 40; i++) {
		spec_base(&s, 0);
		memcpy(s.saddr, net, 3);
		s.saddr[3] = (uint8_t)(i + 1);
		s.sport = (uint16_t)(20000 + i);
		frame_build(&f, &s);
		run_frame(&f, &r);
	}
	check(top_find(0, net, 24, &tv) == 0, "10.201.77.0/24 not listed after 40 SYNs");
	check(tv.completed == 0, "flooding /24 shows %llu completions", (unsigned long long)tv.completed);
	est = cms_estimate(0, net, 24);
	check(est >= 40, "sketch estimate %llu < 40 SYNs sent", (unsigned long long)est);
	report("40 SYNs from one /24: listed in top, 0 completed, sketch estimate >= 40");

	for (int i = 0; i < 20; i++) {
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

/* ---- key rotation ------------------------------------------------------ */

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

/* Key B becomes current; cookies of key A stay valid as the previous key
 * until its period is over. */
static void case_key_rotation(void)
{
	struct xdpsyn_config c = cfg_default;
	struct handshake old, hs;
	uint32_t now = counter_now();
	struct result r;
	struct parsed p;
	struct spec s;
	struct frame f;
	uint8_t info;
	uint64_t h;

	handshake_make(HS_V4_TS, &old); /* under key A */
	key_put(1, key_b);
	c.key_cur = 1;
	c.key_prev_until = now;
	cfg_put(&c);
	ack_frame(&f, &old, old.cookie + 1, old.syn.sport, 1, old.our_tsval);
	expect_prev_key("after key rotation, ACK for the old key's cookie still validates", &f, 1);

	/* a new SYN gets a key-B cookie; its ACK validates with the current key */
	spec_base(&s, 0);
	s.seq = 0x55667788;
	spec_opts(&s, &optsets[OPTS_MSS]);
	run_parsed(&s, &r, &p);
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

	c.key_prev_until = now - 2; /* the rotation is two periods old */
	cfg_put(&c);
	ack_frame(&f, &old, old.cookie + 1, old.syn.sport, 1, old.our_tsval);
	expect("old key's cookie once its period is over -> DROP", &f, XDP_DROP_,
	       XDPSYN_CNT_ACK_INVALID);
}

/* IPv4 on a jumbo-frame interface (config mss4 above 1460): the MSS table
 * ends in mss4 (XDPSYN_MSS_TABLE_V4_JUMBO), at the SYN and at the ACK. */
static const struct jumbo_mss_case {
	const char *name;
	uint16_t client_mss;
	uint16_t want;           /* the MSS the validated ACK records */
} jumbo_mss[] = {
	{ "mss4 8960: a jumbo client (MSS 8960) keeps it through the cookie", 8960, 8960 },
	{ "mss4 8960: a client above it (MSS 9000) gets 8960", 9000, 8960 },
	{ "mss4 8960: a 1500-MTU client (MSS 1460) keeps 1460", 1460, 1460 },
	{ "mss4 8960: MSS 1452 rounds down to 1300 (1440 left the table)", 1452, 1300 },
};

static void case_mss_jumbo(void)
{
	struct xdpsyn_config c = cfg_default;

	c.mss[0] = 8960;
	cfg_put(&c);
	for (size_t i = 0; i < ARRAY_LEN(jumbo_mss); i++) {
		const struct jumbo_mss_case *t = &jumbo_mss[i];
		uint8_t o[4] = { 2, 4, (uint8_t)(t->client_mss >> 8), (uint8_t)t->client_mss };
		struct handshake hs = {0};
		struct xdpsyn_flow fl;
		struct result r;
		struct parsed p;
		struct frame f;
		struct spec s;
		uint16_t adv;

		spec_base(&s, 0);
		s.sport = (uint16_t)(41000 + i);
		s.opts = o;
		s.optlen = sizeof(o);
		run_parsed(&s, &r, &p);
		if (!check(r.verdict == XDP_TX_ && p.ok, "no SYN-ACK")) {
			report(t->name);
			continue;
		}
		adv = p.optlen >= 4 ? (uint16_t)(p.opts[2] << 8 | p.opts[3]) : 0;
		check(adv == (t->client_mss < 8960 ? t->client_mss : 8960),
		      "SYN-ACK advertises MSS %u", adv);
		hs.syn = s;
		hs.cookie = p.seq;
		ack_frame(&f, &hs, hs.cookie + 1, s.sport, 0, 0);
		if (check(run_frame(&f, &r) == 0 && r.verdict == XDP_PASS_ &&
			  r.delta[XDPSYN_CNT_ACK_VALID] == 1, "final ACK did not validate"))
			check(flow_find(&s, &fl) == 0 && fl.mss == t->want,
			      "flow MSS %u, want %u", fl.mss, t->want);
		report(t->name);
	}
	cfg_put(&cfg_default);
}

/* ---- not ours, malformed ------------------------------------------------ */

/* Builders for the frames a spec cannot say. */
static void build_established(struct frame *f, struct spec *s)
{
	s->sport = est_port; /* the fixture's established connection */
	frame_build(f, s);
}

static void build_arp(struct frame *f, struct spec *s)
{
	(void)s;
	memset(f, 0, sizeof(*f));
	memcpy(f->b, "\xff\xff\xff\xff\xff\xff", 6);
	memcpy(f->b + 6, cli_mac, 6);
	f->b[12] = 0x08; f->b[13] = 0x06; /* ARP */
	f->len = 42;
}

/* Three VLAN tags: not parsed further. */
static void build_three_vlans(struct frame *f, struct spec *s)
{
	s->vlans = 2;
	frame_build(f, s);
	memmove(f->b + 16 + 4, f->b + 16, f->len - 16);
	f->b[16] = 0x81; f->b[17] = 0x00; f->b[18] = 0; f->b[19] = 5;
	f->len += 4;
}

static const uint8_t ext_frag_nonfirst[] = { 6, 0, 0x00, 0x64, 0, 0, 0, 7 }; /* offset 100*8 */

/* Segments that are not the program's to answer: passed as they are. */
static const struct frame_case not_ours[] = {
	{ "segment of an established connection -> PASS", { .flags = F_ACK, .ack = 777 },
	  .build = build_established, .verdict = XDP_PASS_, .counter = XDPSYN_CNT_ESTABLISHED },
	{ "ACK to a protected port with no socket -> PASS", { .dport = PORT_PROT_NOLSN, .flags = F_ACK },
	  .verdict = XDP_PASS_, .counter = XDPSYN_CNT_NO_SOCKET },
	{ "RST to the listener -> PASS", { .flags = F_RST },
	  .verdict = XDP_PASS_, .counter = XDPSYN_CNT_LISTENER_OTHER },
	{ "SYN to an unprotected port -> PASS", { .dport = PORT_OPEN },
	  .verdict = XDP_PASS_, .counter = XDPSYN_CNT_UNPROTECTED },
	{ "v6 ACK to an unprotected port -> PASS", { .v6 = 1, .dport = 22, .flags = F_ACK },
	  .verdict = XDP_PASS_, .counter = XDPSYN_CNT_UNPROTECTED },
	{ "UDP -> PASS", { .l4proto = 17 }, .verdict = XDP_PASS_, .counter = XDPSYN_CNT_NOT_TCP },
	{ "ICMPv6 -> PASS", { .v6 = 1, .l4proto = 58 }, .verdict = XDP_PASS_, .counter = XDPSYN_CNT_NOT_TCP },
	{ "ICMP -> PASS", { .l4proto = 1 }, .verdict = XDP_PASS_, .counter = XDPSYN_CNT_NOT_TCP },
	{ "ARP -> PASS", .build = build_arp, .verdict = XDP_PASS_, .counter = XDPSYN_CNT_NOT_IP },
	{ "SYN-ACK to the listener -> PASS, not answered", { .flags = F_SYN | F_ACK },
	  .verdict = XDP_PASS_, .counter = XDPSYN_CNT_LISTENER_OTHER },
	{ "IPv4 non-first fragment -> PASS", { .frag_off = 100 }, /* offset 800 bytes */
	  .verdict = XDP_PASS_, .counter = XDPSYN_CNT_FRAGMENT },
	{ "IPv6 non-first fragment -> PASS",
	  { .v6 = 1, .ext = ext_frag_nonfirst, .ext_len = sizeof(ext_frag_nonfirst), .ext_first = 44 },
	  .verdict = XDP_PASS_, .counter = XDPSYN_CNT_FRAGMENT },
	{ "three VLAN tags -> PASS as not-IP", .build = build_three_vlans,
	  .verdict = XDP_PASS_, .counter = XDPSYN_CNT_NOT_IP },
};

static void case_not_ours(void)
{
	frame_cases_run(not_ours, ARRAY_LEN(not_ours));
}

static const uint8_t opt_zero_len[] = { 2, 4, 5, 0xb4, 30, 0, 1, 1 };
static const uint8_t opt_past_end[] = { 2, 4, 5, 0xb4, 1, 1, 30, 9 };
static const uint8_t opt_bad_mss[] = { 2, 3, 5, 1 };
/* nine destination-options headers (PadN inside), the last -> TCP */
static const uint8_t ext_chain9[] = {
	60, 0, 1, 4, 0, 0, 0, 0,   60, 0, 1, 4, 0, 0, 0, 0,   60, 0, 1, 4, 0, 0, 0, 0,
	60, 0, 1, 4, 0, 0, 0, 0,   60, 0, 1, 4, 0, 0, 0, 0,   60, 0, 1, 4, 0, 0, 0, 0,
	60, 0, 1, 4, 0, 0, 0, 0,   60, 0, 1, 4, 0, 0, 0, 0,    6, 0, 1, 4, 0, 0, 0, 0,
};
/* two destination-options headers -> TCP, the frame cut inside the second */
static const uint8_t ext_chain2[] = {
	60, 0, 1, 4, 0, 0, 0, 0,    6, 0, 1, 4, 0, 0, 0, 0,
};

/* Truncated or inconsistent headers, and SYNs no one may answer: dropped.
 * (BPF_PROG_TEST_RUN refuses frames under 14 bytes, so a cut inside the
 * Ethernet header cannot be run; the cut VLAN tag is the L2 case.) */
static const struct frame_case malformed[] = {
	{ "VLAN tag cut off after the Ethernet header -> DROP", { .vlans = 1 }, .cut = 16,
	  .verdict = XDP_DROP_, .counter = XDPSYN_CNT_MALFORMED },
	{ "truncated IPv4 header -> DROP", { .vlans = 1 }, .cut = 14 + 12,
	  .verdict = XDP_DROP_, .counter = XDPSYN_CNT_MALFORMED },
	{ "truncated IPv6 header -> DROP", { .v6 = 1 }, .cut = 14 + 30,
	  .verdict = XDP_DROP_, .counter = XDPSYN_CNT_MALFORMED },
	{ "truncated TCP header -> DROP", { .v6 = 0 }, .cut = 14 + 20 + 12,
	  .verdict = XDP_DROP_, .counter = XDPSYN_CNT_MALFORMED },
	{ "SYN with TCP data offset 4 (< 5) -> DROP", { .raw_doff = 4 },
	  .verdict = XDP_DROP_, .counter = XDPSYN_CNT_MALFORMED, .also = XDPSYN_CNT_SYN },
	{ "SYN with data offset beyond the packet -> DROP", { .raw_doff = 15 },
	  .verdict = XDP_DROP_, .counter = XDPSYN_CNT_MALFORMED, .also = XDPSYN_CNT_SYN },
	{ "SYN with an option of length 0 -> DROP", { .opts = opt_zero_len, .optlen = sizeof(opt_zero_len) },
	  .verdict = XDP_DROP_, .counter = XDPSYN_CNT_MALFORMED, .also = XDPSYN_CNT_SYN },
	{ "SYN with an option running past the header -> DROP",
	  { .opts = opt_past_end, .optlen = sizeof(opt_past_end) },
	  .verdict = XDP_DROP_, .counter = XDPSYN_CNT_MALFORMED, .also = XDPSYN_CNT_SYN },
	{ "v6 SYN with an MSS option of length 3 -> DROP",
	  { .v6 = 1, .opts = opt_bad_mss, .optlen = sizeof(opt_bad_mss) },
	  .verdict = XDP_DROP_, .counter = XDPSYN_CNT_MALFORMED, .also = XDPSYN_CNT_SYN },
	{ "ACK to the listener with a malformed option -> DROP",
	  { .flags = F_ACK, .opts = opt_zero_len, .optlen = sizeof(opt_zero_len) },
	  .verdict = XDP_DROP_, .counter = XDPSYN_CNT_MALFORMED },
	{ "SYN+FIN -> DROP, no SYN-ACK", { .flags = F_SYN | F_FIN },
	  .verdict = XDP_DROP_, .counter = XDPSYN_CNT_SYN_BAD_FLAGS },
	{ "SYN+RST -> DROP, no SYN-ACK", { .flags = F_SYN | F_RST },
	  .verdict = XDP_DROP_, .counter = XDPSYN_CNT_SYN_BAD_FLAGS },
	{ "IPv6 SYN behind 9 extension headers -> DROP, not passed",
	  { .v6 = 1, .ext = ext_chain9, .ext_len = sizeof(ext_chain9), .ext_first = 60 },
	  .verdict = XDP_DROP_, .counter = XDPSYN_CNT_MALFORMED },
	{ "IPv6 extension chain truncated -> DROP",
	  { .v6 = 1, .ext = ext_chain2, .ext_len = sizeof(ext_chain2), .ext_first = 60 },
	  .cut = 14 + 40 + 8 + 4, .verdict = XDP_DROP_, .counter = XDPSYN_CNT_MALFORMED },
};

static void case_malformed(void)
{
	frame_cases_run(malformed, ARRAY_LEN(malformed));
}

/* ---- live settings ------------------------------------------------------ */

/* The config and the port map changed while the program runs. */
static void case_live_settings(void)
{
	struct xdpsyn_config c = cfg_default;
	struct result r;
	struct parsed p;
	struct spec s;
	struct frame f;

	/* MSS cap, window, TTL, wscale, ECN off */
	c.mss[0] = 1200;
	c.window = 1000;
	c.ttl = 5;
	c.wscale = 3;
	c.ecn = 0;
	cfg_put(&c);
	spec_base(&s, 0);
	spec_opts(&s, &optsets[OPTS_ECN]); /* ECN SYN, MSS 1460 + WS */
	s.flags |= F_ECE | F_CWR;
	run_parsed(&s, &r, &p);
	check(r.verdict == XDP_TX_ && p.ok, "no SYN-ACK");
	check(p.optlen == 8 && p.opts[2] == (1200 >> 8) && p.opts[3] == (1200 & 0xff),
	      "MSS not capped to 1200");
	check(p.optlen == 8 && p.opts[7] == 3, "wscale not 3");
	check(p.window == 1000 && p.ttl == 5, "window %u ttl %u", p.window, p.ttl);
	check(!(p.flags & F_ECE), "ECE set with ECN off");
	check((p.seq >> 6 & 3) == 0 && !(p.seq & 0x20), "cookie info 0x%02x: want MSS index 0 (536), no ECN", p.seq & 0xff);
	report("live config: MSS cap 1200, window 1000, TTL 5, wscale 3, ECN off");
	cfg_put(&cfg_default);

	/* the port map emptied, then filled again */
	ports_put(XDPSYN_V4, NULL, 0);
	spec_base(&s, 0);
	frame_build(&f, &s);
	expect("SYN after its port was unprotected live -> PASS", &f, XDP_PASS_,
	       XDPSYN_CNT_UNPROTECTED);
	ports_put(XDPSYN_V4, prot_ports, ARRAY_LEN(prot_ports));
	run_frame(&f, &r);
	check(r.verdict == XDP_TX_, "verdict %s after re-protecting", verdict_name(r.verdict));
	report("SYN after its port was protected again live -> XDP_TX");
}

/* ---- policies: track and auto ------------------------------------------- */

static const uint8_t ghost4[4] = { 10, 201, 2, 99 };  /* not local: its SYN-ACKs vanish */
static const uint8_t ghost24[4] = { 10, 201, 2, 0 };

/* Run the TC egress program on a frame the server sends. */
static int run_egress(const struct frame *f, struct result *r)
{
	return run_tc(egress_fd, f, r);
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

static void policy_set(uint32_t policy)
{
	struct xdpsyn_config c = cfg_default;

	c.policy = policy;
	cfg_put(&c);
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

/* A SYN from the not-local client ghost4 (full Linux options, ECN). */
static void ghost_syn(struct spec *s, uint16_t sport, uint32_t seq)
{
	spec_base(s, 0);
	memcpy(s->saddr, ghost4, 4);
	s->sport = sport;
	s->seq = seq;
	spec_opts(s, &optsets[OPTS_LINUX]);
	s->flags |= F_ECE | F_CWR;
}

/* The kernel's SYN-ACK to ghost4:cport (MSS 1460, SACK, TS, WS 7, ECE). */
static void kernel_synack(struct spec *sa, uint16_t cport, uint32_t ack)
{
	static const uint8_t sa_opts[] = { 2, 4, 0x05, 0xb4, 4, 2, 8, 10, 0, 0, 0, 1,
					   0xde, 0xad, 0xbe, 0xef, 1, 3, 3, 7 };

	memset(sa, 0, sizeof(*sa));
	memcpy(sa->smac, srv_mac, 6);
	memcpy(sa->dmac, cli_mac, 6);
	memcpy(sa->saddr, srv4, 4);
	memcpy(sa->daddr, ghost4, 4);
	sa->sport = PORT_PROT;
	sa->dport = cport;
	sa->seq = 0x7000;
	sa->ack = ack;
	sa->flags = F_SYN | F_ACK | F_ECE;
	sa->window = 65160;
	sa->opts = sa_opts;
	sa->optlen = sizeof(sa_opts);
}

/* track: a handshake the kernel makes, recorded at each step (SYN in XDP,
 * SYN-ACK on TC egress, ACK or RST in XDP). */
static void case_policy_track(void)
{
	struct xdpsyn_flow fl;
	struct result r;
	struct spec s, sa, a;
	struct frame f, g;
	uint64_t cms0, t_syn;

	/* a SYN passes to the kernel and opens a record */
	policy_set(XDPSYN_POLICY_TRACK);
	ghost_syn(&s, 47001, 0x50000001);
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
	kernel_synack(&sa, s.sport, s.seq + 1);
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

	/* the client's ACK reaches a real request socket: established */
	check(reqsk_make(&s) == 0, "raw SYN: %s", strerror(errno));
	check(reqsk_present(s.sport), "the kernel holds no SYN_RECV socket for the raw SYN");
	a = s;
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

	/* RST from the client */
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

/* TC egress on mangled server frames: it only reads. */
static void case_tc_egress_mangled(void)
{
	enum { RUNS = 20000 };
	struct spec sa;
	struct frame g;
	uint8_t out[FRAME_MAX];
	uint64_t seed = 0x9e3779b97f4a7c15ULL;
	int bad_verdict = 0, modified = 0, errs = 0, refused = 0;
	char name[160];

	policy_set(XDPSYN_POLICY_TRACK);
	kernel_synack(&sa, 47999, 0x50000003); /* a tuple no test tracks */
	frame_build(&g, &sa);
	for (int i = 0; i < RUNS; i++) {
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
			/* the kernel refuses some frames before the program
			 * runs (e.g. a mangled IP header it cannot take as an
			 * skb): not the program's */
			if (errno != EINVAL)
				errs++;
			else
				refused++;
			continue;
		}
		bad_verdict += (int)opts.retval != TC_NEXT;
		modified += opts.data_size_out != m.len || memcmp(out, m.b, m.len);
	}
	check(!errs && !bad_verdict && !modified && refused < RUNS / 4,
	      "%d run errors, %d refused by test_run, %d verdicts not TC_ACT_UNSPEC, "
	      "%d frames modified", errs, refused, bad_verdict, modified);
	snprintf(name, sizeof(name), "TC egress: %d mangled or truncated server frames "
		 "(%d refused by test_run), every one run TC_ACT_UNSPEC (continue) and untouched",
		 RUNS, refused);
	report(name);
}

/* Switching between proxy and track loses no handshake: cookies issued
 * under proxy still validate under track, nothing else is dropped under
 * track, and a handshake the kernel began completes under proxy. */
static void case_policy_switch(void)
{
	static const uint8_t cli24[4] = { 10, 201, 2, 0 };
	struct xdpsyn_flow f1, f2;
	struct xdpsyn_top_val t1, t2;
	struct handshake hs;
	struct result r;
	struct spec s, a;
	struct frame f;

	spec_base(&s, 0);
	s.sport = 47003;
	s.seq = 0x50000003;
	syn_case("proxy: SYN before a switch to track -> SYN-ACK", &s, &optsets[OPTS_MSS], &hs);
	policy_set(XDPSYN_POLICY_TRACK);
	ack_frame(&f, &hs, hs.cookie + 1, hs.syn.sport, 0, 0);
	expect("track: ACK with a cookie issued under proxy -> PASS, ack_valid", &f, XDP_PASS_,
	       XDPSYN_CNT_ACK_VALID);
	ack_frame(&f, &hs, hs.cookie + 2, hs.syn.sport, 0, 0);
	expect("track: ACK with no cookie of ours -> PASS to the kernel, ack_kernel", &f, XDP_PASS_,
	       XDPSYN_CNT_ACK_KERNEL);
	policy_set(XDPSYN_POLICY_PROXY);
	expect("proxy: the same ACK -> DROP, ack_invalid", &f, XDP_DROP_, XDPSYN_CNT_ACK_INVALID);

	/* proxy: the final ACK and the first data segment of one handshake
	 * both validate (one receive batch): one record, one completion */
	spec_base(&s, 0);
	s.sport = 47007;
	s.seq = 0x50000007;
	syn_case("proxy: SYN of a handshake validated twice -> SYN-ACK", &s, &optsets[OPTS_MSS], &hs);
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

	/* proxy: a handshake the kernel began (request socket) completes */
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

/* auto: the SYN rate flips track -> proxy, a timer flips it back, the
 * kernel's own cookies flip it too. */
static void case_policy_auto(void)
{
	struct xdpsyn_policy_state ps;
	struct xdpsyn_config c;
	struct result r;
	struct spec s;
	struct frame f;

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
}

/* ---- do no harm: what the kernel alone would do ---------------------- */

static void sysctl_set(const char *name, const char *val)
{
	run_cmd("sysctl -qw %s=%s", name, val);
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
	spec_opts(&s, &optsets[OPTS_LINUX]);
	frame_build(f, &s);
}

/* Sources, destinations and listeners the kernel would not answer (or
 * answer itself): martians, group addresses, no listener, MPTCP. */
static void case_noharm_addresses(void)
{
	struct result r;
	struct frame f;

	if (mptcp_fd[0] < 0 || mptcp_fd[1] < 0) {
		check(0, "MPTCP listener: %s (net.mptcp.enabled?)", strerror(mptcp_errno));
		report("an MPTCP listener for the MPTCP cases");
	}
	for (size_t i = 0; i < ARRAY_LEN(noharm_syns); i++) {
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
}

/* A tuple a socket holds: established, and TIME_WAIT on the server (it
 * closed first), which the kernel reuses for a new SYN. */
static void case_noharm_sockets(void)
{
	int tw_cli, tw_acc, est_cli, est_acc;
	uint16_t tw_port, est_port2;
	struct spec s;
	struct frame f;
	char cmd[200];

	est_cli = established_pair(cli4, srv4, PORT_PROT, l4, &est_port2, &est_acc);
	tw_cli = established_pair(cli4, srv4, PORT_PROT, l4, &tw_port, &tw_acc);
	check(est_cli >= 0 && tw_cli >= 0, "connections for the socket cases failed");
	close(tw_acc);
	usleep(20000);
	close(tw_cli);
	usleep(50000);
	snprintf(cmd, sizeof(cmd), "ss -Htn state time-wait '( sport = :%d and dport = :%u )' | grep -q .",
		 PORT_PROT, tw_port);
	check(system(cmd) == 0, "the server's socket is not in TIME_WAIT");
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
}

/* A sysctl the kernel's own SYN-ACK follows, at 0: the SYN-ACK leaves out
 * what the kernel would (syn_case checks every byte against the option
 * set with that part off) and syn_opt_off counts it. */
enum { OFF_TS, OFF_SACK, OFF_WS, OFF_ECN };

static const struct sysctl_syn {
	const char *name;
	const char *sysctl, *restore; /* set to 0, then back to restore */
	int optset;                   /* what the client offers */
	int off;                      /* what the kernel leaves out */
	uint16_t sport;
} sysctl_syns[] = {
	{ "tcp_timestamps=0: SYN-ACK without timestamps (the client offered them)",
	  "net.ipv4.tcp_timestamps", "1", OPTS_LINUX, OFF_TS, 41501 },
	{ "tcp_sack=0: SYN-ACK without SACK_PERM",
	  "net.ipv4.tcp_sack", "1", OPTS_LINUX, OFF_SACK, 41502 },
	{ "tcp_window_scaling=0: SYN-ACK without window scale, cookie records none",
	  "net.ipv4.tcp_window_scaling", "1", OPTS_LINUX, OFF_WS, 41503 },
	{ "tcp_ecn=0: an ECN SYN gets no ECE",
	  "net.ipv4.tcp_ecn", "2", OPTS_ECN, OFF_ECN, 41504 },
};

static void sysctl_syn_case(const struct sysctl_syn *c)
{
	struct optset o = optsets[c->optset];
	struct handshake hs;
	struct spec s;

	switch (c->off) {
	case OFF_TS: o.ts = 0; break;
	case OFF_SACK: o.sack = 0; break;
	case OFF_WS: o.ws = -1; break;
	case OFF_ECN: o.ecn = 0; break;
	}
	sysctl_set(c->sysctl, "0");
	spec_base(&s, 0);
	s.sport = c->sport;
	if (optsets[c->optset].ecn)
		s.flags |= F_ECE | F_CWR; /* the SYN still offers ECN */
	syn_case_also = XDPSYN_CNT_SYN_OPT_OFF;
	syn_case(c->name, &s, &o, &hs);
	syn_case_also = -1;
	sysctl_set(c->sysctl, c->restore);
}

/* The netns's sysctls and a listener's TCP_MAXSEG, read live. */
static void case_noharm_sysctls(void)
{
	struct result r;
	struct parsed p;
	struct spec s;
	struct frame f;

	sysctl_set("net.ipv4.tcp_syncookies", "0");
	spec_base(&s, 0);
	s.sport = 41500;
	frame_build(&f, &s);
	expect2("tcp_syncookies=0: SYN -> PASS to the kernel, not answered", &f, XDP_PASS_,
		XDPSYN_CNT_SYN, XDPSYN_CNT_SYN_NO_SYNCOOKIES);
	sysctl_set("net.ipv4.tcp_syncookies", "1");

	for (size_t i = 0; i < ARRAY_LEN(sysctl_syns); i++)
		sysctl_syn_case(&sysctl_syns[i]);

	spec_base(&s, 0);
	s.dport = PORT_MAXSEG;
	s.sport = 41505;
	spec_opts(&s, &optsets[OPTS_LINUX]);
	run_parsed(&s, &r, &p);
	check(r.verdict == XDP_TX_ && p.ok, "no SYN-ACK");
	check(p.optlen >= 4 && (p.opts[2] << 8 | p.opts[3]) == 1000, "MSS %u, want 1000",
	      p.optlen >= 4 ? p.opts[2] << 8 | p.opts[3] : 0);
	report("a listener with TCP_MAXSEG 1000: the SYN-ACK offers MSS 1000");
}

/* With attach's MAC recorded, frames to another unicast MAC (bridge port,
 * promiscuous NIC) are not ours. */
static const uint8_t other_mac[6] = { 0x02, 0, 0, 0, 0, 0x03 };

static void case_noharm_mac(void)
{
	struct xdpsyn_config c = cfg_default;
	struct result r;
	struct spec s;
	struct frame f;

	memcpy(c.mac, srv_mac, 6);
	cfg_put(&c);
	spec_base(&s, 0);
	s.sport = 41600;
	memcpy(s.dmac, other_mac, 6);
	frame_build(&f, &s);
	expect2("attach's MAC recorded: a SYN to another unicast MAC -> PASS, never answered",
		&f, XDP_PASS_, XDPSYN_CNT_SYN, XDPSYN_CNT_SYN_NOT_HOST);
	spec_base(&s, 0);
	s.sport = 41601;
	s.flags = F_ACK;
	s.ack = 0x12345678;
	memcpy(s.dmac, other_mac, 6);
	frame_build(&f, &s);
	expect("attach's MAC recorded: a forged ACK to another unicast MAC -> PASS untouched",
	       &f, XDP_PASS_, XDPSYN_CNT_NOT_LOCAL);
	spec_base(&s, 0);
	s.sport = 41602;
	frame_build(&f, &s);
	run_frame(&f, &r);
	check(r.verdict == XDP_TX_, "verdict %s, want XDP_TX", verdict_name(r.verdict));
	report("attach's MAC recorded: a SYN to that MAC -> SYN-ACK");
}

/* A destination this host forwards (a container behind it) reached
 * through a wildcard listener's lookup: untouched. */
static void case_noharm_forwarding(void)
{
	struct spec s;
	struct frame f;
	char name[200];

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

	/* forwarding off: the FIB says nothing (FWD_DISABLED); attach's list
	 * of the netns's addresses decides */
	{
		struct xdpsyn_config c = cfg_default;
		struct xdpsyn_addr a = { .family = XDPSYN_V4 };
		__u8 one = 1;
		struct result r;

		memcpy(a.addr, srv4, 4);
		bpf_map__update_elem(skel->maps.xdpsyn_local_addrs, &a, sizeof(a), &one, 1, 0);
		c.flags |= XDPSYN_CFG_LOCAL_ADDRS;
		cfg_put(&c);
		spec_base(&s, 0);
		inet_pton(AF_INET, "10.201.0.99", s.daddr);
		s.dport = PORT_WILD;
		s.sport = 41720;
		frame_build(&f, &s);
		expect2("forwarding off, address list: a SYN for an address not in it -> PASS "
			"(the kernel drops it)", &f, XDP_PASS_, XDPSYN_CNT_SYN, XDPSYN_CNT_NOT_LOCAL);
		spec_base(&s, 0);
		s.dport = PORT_WILD;
		s.sport = 41721;
		frame_build(&f, &s);
		run_frame(&f, &r);
		check(r.verdict == XDP_TX_, "verdict %s, want XDP_TX", verdict_name(r.verdict));
		report("forwarding off, address list: a SYN for a listed address -> SYN-ACK");
		cfg_put(&cfg_default);
		spec_base(&s, 0);
		inet_pton(AF_INET, "10.201.0.99", s.daddr);
		s.dport = PORT_WILD;
		s.sport = 41722;
		frame_build(&f, &s);
		run_frame(&f, &r);
		check(r.verdict == XDP_TX_, "verdict %s, want XDP_TX", verdict_name(r.verdict));
		report("forwarding off, no address list (older attach): taken as this host's -> SYN-ACK");
		bpf_map__delete_elem(skel->maps.xdpsyn_local_addrs, &a, sizeof(a), 0);
	}
}

/* TC ingress: no hand-off while tcp_syncookies=0 (the kernel would reset
 * it), and every verdict continues the chain. */
static void case_tc_handoff(void)
{
	struct handshake hs;
	struct result r;
	struct spec s;
	struct frame f;

	spec_base(&s, 0);
	s.sport = 41800;
	syn_case("SYN for the TC cases -> SYN-ACK", &s, &optsets[OPTS_LINUX], &hs);
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
}

/* ---- the kernel-cookie hand-off (kernels without the reqsk kfunc) ------ */

/* The same program loaded with handoff_mode = KCOOKIE: the kernel's own
 * cookie in the SYN-ACK, its own check on the final ACK. */
static void case_kcookie(void)
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
		bpf_program__set_autoload(k->progs.xdpsyn_xdp_vlan, false);
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
	ports_put(XDPSYN_V4, prot_ports, ARRAY_LEN(prot_ports));
	ports_put(XDPSYN_V6, prot_ports, ARRAY_LEN(prot_ports));
	sysctl_set("net.ipv4.tcp_syncookies", "2");
	sysctl_set("net.ipv4.tcp_timestamps", "2");

	for (int v6 = 0; v6 <= 1; v6++) {
		const char *fam = v6 ? "v6" : "v4";
		char name[160];
		uint32_t tsval = 0;
		struct xdpsyn_flow fl;

		spec_base(&s, v6);
		s.sport = (uint16_t)(42000 + v6);
		spec_opts(&s, &optsets[OPTS_LINUX]); /* MSS 1460, SACK, TS, WS 7 */
		run_parsed(&s, &r, &p);
		check(r.verdict == XDP_TX_ && p.ok, "verdict %s, want XDP_TX", verdict_name(r.verdict));
		check_counters(&r, XDPSYN_CNT_SYNACK_TX);
		/* MSS, SACK_PERM, TS, NOP, WS: what the client offered */
		check(p.optlen == 20 && p.opts[4] == 4 && p.opts[6] == 8 && p.opts[17] == 3 &&
		      p.opts[19] == cfg_default.wscale, "options (%zu bytes) not MSS SACK TS WS", p.optlen);
		if (p.optlen == 20) {
			uint64_t now_ms;
			struct timespec ts;

			tsval = be32_at(p.opts + 8);
			clock_gettime(CLOCK_MONOTONIC, &ts);
			now_ms = (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
			check((tsval & 0x3f) == (7 | 0x10), "TSval low bits 0x%02x, want wscale 7 | SACK",
			      tsval & 0x3f);
			check((uint32_t)now_ms - tsval < 1000, "TSval %u is not the kernel's ms clock (%u)",
			      tsval, (uint32_t)now_ms);
		}
		snprintf(name, sizeof(name), "kernel cookie, %s: SYN-ACK with the kernel's cookie, "
			 "options in TSval's low bits (tcp_timestamps=2)", fam);
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
			 "check in XDP", fam);
		report(name);

		check(flow_find(&s, &fl) == 0, "no flow record");
		check(fl.mss == 0 && (fl.flags & XDPSYN_FLOW_KCOOKIE) && fl.snd_wscale == 7 &&
		      (fl.flags & XDPSYN_FLOW_SACK), "record mss %u ws %u flags 0x%x", fl.mss,
		      fl.snd_wscale, fl.flags);
		snprintf(name, sizeof(name), "kernel cookie, %s: the flow record has the options "
			 "TSecr carried, MSS unknown", fam);
		report(name);

		/* not cookie + 1: the kernel's cookie takes a neighbouring
		 * MSS index as valid (part of its 2^-29) */
		ack_frame(&f, &hs, (hs.cookie ^ 0x5a5a5a00) + 1, s.sport, 1, tsval);
		snprintf(name, sizeof(name), "kernel cookie, %s: a forged ACK -> DROP", fam);
		expect(name, &f, XDP_DROP_, XDPSYN_CNT_ACK_INVALID);
	}

	/* without a zero TS offset the kernel cannot read options back from
	 * TSecr: MSS only, as the kernel's own cookie SYN-ACK */
	sysctl_set("net.ipv4.tcp_timestamps", "1");
	spec_base(&s, 0);
	s.sport = 42010;
	spec_opts(&s, &optsets[OPTS_LINUX]);
	run_parsed(&s, &r, &p);
	check(r.verdict == XDP_TX_ && p.ok && p.optlen == 4 && p.opts[0] == 2,
	      "verdict %s, %zu option bytes, want the MSS alone", verdict_name(r.verdict), p.optlen);
	report("kernel cookie, tcp_timestamps=1: SYN-ACK with the MSS alone (the kernel keeps no more)");

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

/* ---- attach: native and generic XDP on a veth ---------------------------- */

static const struct attach_mode {
	const char *name;
	__u32 flags;
} attach_modes[] = {
	{ "attach by bpf_link in native mode on a veth, then detach", XDP_FLAGS_DRV_MODE },
	{ "attach by bpf_link in generic mode on a veth, then detach", XDP_FLAGS_SKB_MODE },
};

static void case_attach(void)
{
	if (!if_nametoindex("xsyn0")) {
		run_cmd("ip link add xsyn0 type veth peer name xsyn1");
		run_cmd("ip link set xsyn0 up");
		run_cmd("ip link set xsyn1 up");
	}
	for (size_t i = 0; i < ARRAY_LEN(attach_modes); i++) {
		__u32 flags = attach_modes[i].flags;
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
		report(attach_modes[i].name);
	}
}

/* A receive batch with the final ACK and several data segments: XDP sees
 * them all before the kernel has the connection. Later data (its seq past
 * the ISN + 1, the same cookie) passes for 20 ms after the validation;
 * anything else to the listener without a valid cookie is still dropped. */
static const struct batch_row {
	const char *name;
	int data;           /* a data segment, not the bare final ACK */
	uint32_t seq_off;   /* its data offset past the ISN + 1 */
	uint32_t ack_xor;   /* changes the acknowledged cookie */
	int sleep_ms;       /* wait before this one */
	int verdict, counter;
} batch_rows[] = {
	{ "batch: the final ACK -> PASS, validated", 0, 0, 0, 0, XDP_PASS_, XDPSYN_CNT_ACK_VALID },
	{ "batch: the first data segment (seq ISN + 1) -> PASS, validated", 1, 0, 0, 0, XDP_PASS_,
	  XDPSYN_CNT_ACK_VALID },
	{ "batch: the second data segment (seq ISN + 1449) -> PASS, ack_burst", 1, 1448, 0, 0,
	  XDP_PASS_, XDPSYN_CNT_ACK_BURST },
	{ "batch: the 40th segment (seq ISN + 57921) -> PASS, ack_burst", 1, 57920, 0, 0, XDP_PASS_,
	  XDPSYN_CNT_ACK_BURST },
	{ "batch: later data acknowledging another cookie -> DROP", 1, 1448, 0x00ff0000, 0,
	  XDP_DROP_, XDPSYN_CNT_ACK_INVALID },
	{ "batch: data 16 MiB past the ISN -> DROP", 1, 1u << 24, 0, 0, XDP_DROP_,
	  XDPSYN_CNT_ACK_INVALID },
	{ "batch: the same later data 30 ms after the validation -> DROP", 1, 1448, 0, 30,
	  XDP_DROP_, XDPSYN_CNT_ACK_INVALID },
};

static void case_noharm_batch(void)
{
	struct handshake hs;
	struct frame f;

	handshake_make(HS_V4_TS, &hs);
	for (size_t i = 0; i < ARRAY_LEN(batch_rows); i++) {
		const struct batch_row *b = &batch_rows[i];

		ack_frame(&f, &hs, (hs.cookie ^ b->ack_xor) + 1, hs.syn.sport, 1, hs.our_tsval);
		if (b->data) {
			struct spec s = hs.syn;
			static uint8_t ts[12];

			memcpy(ts, f.b + f.len - 12, 12); /* the ACK's timestamps */
			s.flags = F_ACK | F_PSH;
			s.seq = hs.syn.seq + 1 + b->seq_off;
			s.ack = (hs.cookie ^ b->ack_xor) + 1;
			s.opts = ts;
			s.optlen = 12;
			s.payload = 1448;
			frame_build(&f, &s);
		}
		if (b->sleep_ms)
			usleep((useconds_t)b->sleep_ms * 1000);
		expect(b->name, &f, b->verdict, b->counter);
	}
}

/* ---- the cases, in the order of a full run ------------------------------- */

static const struct unit_case {
	const char *name;
	void (*run)(void);
} cases[] = {
	{ "siphash_reference",  case_siphash_reference },
	{ "syn_options",        case_syn_options },
	{ "syn_headers",        case_syn_headers },
	{ "multibuf",           case_multibuf },
	{ "mss_jumbo",          case_mss_jumbo },
	{ "ack_valid",          case_ack_valid },
	{ "ack_forged",         case_ack_forged },
	{ "cookie_periods",     case_cookie_periods },
	{ "top_sources",        case_top_sources },
	{ "key_rotation",       case_key_rotation },
	{ "not_ours",           case_not_ours },
	{ "malformed",          case_malformed },
	{ "live_settings",      case_live_settings },
	{ "policy_track",       case_policy_track },
	{ "tc_egress_mangled",  case_tc_egress_mangled },
	{ "policy_switch",      case_policy_switch },
	{ "policy_auto",        case_policy_auto },
	{ "noharm_addresses",   case_noharm_addresses },
	{ "noharm_sockets",     case_noharm_sockets },
	{ "noharm_sysctls",     case_noharm_sysctls },
	{ "noharm_mac",         case_noharm_mac },
	{ "noharm_forwarding",  case_noharm_forwarding },
	{ "noharm_batch",       case_noharm_batch },
	{ "tc_handoff",         case_tc_handoff },
	{ "kcookie",            case_kcookie },
	{ "attach",             case_attach },
};

/* ---- the shared fixture ---------------------------------------------------- */

/* The sysctls cases change, as found at setup (restored before each case). */
static struct {
	const char *path;
	char val[32];
} sysctls[] = {
	{ .path = "/proc/sys/net/ipv4/tcp_syncookies" },
	{ .path = "/proc/sys/net/ipv4/tcp_timestamps" },
	{ .path = "/proc/sys/net/ipv4/tcp_sack" },
	{ .path = "/proc/sys/net/ipv4/tcp_window_scaling" },
	{ .path = "/proc/sys/net/ipv4/tcp_ecn" },
	{ .path = "/proc/sys/net/ipv4/ip_forward" },
	{ .path = "/proc/sys/net/ipv6/conf/all/forwarding" },
};

static int sysctl_read(const char *path, char *val, size_t len)
{
	FILE *fp = fopen(path, "r");
	int ok = fp && fgets(val, (int)len, fp);

	if (fp)
		fclose(fp);
	return ok ? 0 : -1;
}

static void sysctls_restore(void)
{
	for (size_t i = 0; i < ARRAY_LEN(sysctls); i++) {
		char now[32];
		FILE *fp;

		if (!sysctl_read(sysctls[i].path, now, sizeof(now)) && !strcmp(now, sysctls[i].val))
			continue;
		fp = fopen(sysctls[i].path, "w");
		if (!fp || fputs(sysctls[i].val, fp) < 0 || fclose(fp)) {
			fprintf(stderr, "test_unit: restoring %s: %s\n", sysctls[i].path, strerror(errno));
			exit(1);
		}
	}
}

/* Empty a hash map. */
static void map_clear(struct bpf_map *m)
{
	int fd = bpf_map__fd(m);
	char key[256];

	while (!bpf_map_get_next_key(fd, NULL, key))
		bpf_map_delete_elem(fd, key);
}

/* Zero a one-entry per-CPU array. */
static void percpu_zero(struct bpf_map *m)
{
	size_t sz = ((size_t)bpf_map__value_size(m) + 7) / 8 * 8 * nproc;
	void *v = calloc(1, sz);
	__u32 zero = 0;

	if (!v || bpf_map__update_elem(m, &zero, sizeof(zero), v, sz, 0)) {
		fprintf(stderr, "test_unit: zeroing %s: %s\n", bpf_map__name(m), strerror(errno));
		exit(1);
	}
	free(v);
}

/* What every case starts from: the default config, key A current (slot 1
 * empty), the protected ports, no policy state, empty flow, handshake,
 * hand-off and top tables, a zero sketch and rate, the netns's sysctls. */
static void fixture_reset(void)
{
	static const uint8_t no_key[16];
	struct xdpsyn_policy_state ps;

	cfg_put(&cfg_default);
	key_put(0, key_a);
	key_put(1, no_key);
	ports_put(XDPSYN_V4, prot_ports, ARRAY_LEN(prot_ports));
	ports_put(XDPSYN_V6, prot_ports, ARRAY_LEN(prot_ports));
	memset(&ps, 0, sizeof(ps));
	policy_put(&ps);
	map_clear(skel->maps.xdpsyn_flows);
	map_clear(skel->maps.xdpsyn_hs);
	map_clear(skel->maps.xdpsyn_handoffs);
	map_clear(skel->maps.xdpsyn_top);
	percpu_zero(skel->maps.xdpsyn_cms);
	percpu_zero(skel->maps.xdpsyn_rate);
	sysctls_restore();
	syn_case_also = -1;
	fail_msg[0] = 0;
}

static void setup_netns(void)
{
	netns_fixture(srv6, cli6);
	/* where SYN-ACKs to 10.201.2.99 (policy tests) go and vanish */
	run_cmd("ip link add xsdum0 type veth peer name xsdum1");
	run_cmd("ip link set xsdum0 up");
	run_cmd("ip route add 10.201.2.99/32 dev xsdum0");
}

/* The TC object, its maps shared with the XDP object's (as the loader
 * does), for its ingress and egress programs. */
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

/* The netns, both objects loaded, the listeners and an established
 * connection; 0, or -1 with a message. */
static int fixture_setup(void)
{
	cpu_set_t set;

	/* one CPU: the per-CPU sketch thresholds see every SYN */
	CPU_ZERO(&set);
	CPU_SET(0, &set);
	sched_setaffinity(0, sizeof(set), &set);
	libbpf_set_print(libbpf_quiet);
	setup_netns();
	nproc = libbpf_num_possible_cpus();

	skel = xdpsyn__open();
	if (skel) {
		/* the entry that reads VLAN metadata loads only bound to a
		 * device (attach --vlan metadata; tests/e2e/test_ifaces.sh) */
		bpf_program__set_autoload(skel->progs.xdpsyn_xdp_vlan, false);
		skel->rodata->nr_cpus = nproc;
	}
	if (!skel || xdpsyn__load(skel)) {
		fprintf(stderr, "test_unit: loading build/xdpsyn.bpf.o failed\n");
		return -1;
	}
	prog_fd = bpf_program__fd(skel->progs.xdpsyn_xdp);
	if (tc_load()) {
		fprintf(stderr, "test_unit: loading build/xdpsyn_tc.bpf.o failed\n");
		return -1;
	}
	for (size_t i = 0; i < ARRAY_LEN(sysctls); i++)
		if (sysctl_read(sysctls[i].path, sysctls[i].val, sizeof(sysctls[i].val))) {
			fprintf(stderr, "test_unit: reading %s: %s\n", sysctls[i].path, strerror(errno));
			return -1;
		}
	fixture_reset();

	l4 = listen_on(0, srv4, PORT_PROT);
	l6 = listen_on(1, srv6, PORT_PROT);
	lo4 = listen_on(0, srv4, PORT_OPEN);
	est_fd = established_pair(cli4, srv4, PORT_PROT, l4, &est_port, &acc_fd);
	if (est_fd < 0 || acc_fd < 0) {
		perror("test_unit: established connection");
		return -1;
	}
	/* the do-no-harm listeners: MPTCP, wildcard (both families), TCP_MAXSEG */
	for (int v6 = 0; v6 <= 1; v6++) {
		mptcp_fd[v6] = listen_ext(v6, v6 ? srv6 : srv4, PORT_MPTCP, IPPROTO_MPTCP, 0);
		if (mptcp_fd[v6] < 0)
			mptcp_errno = errno;
		wild_fd[v6] = listen_ext(v6, NULL, PORT_WILD, 0, 0);
	}
	maxseg_fd = listen_ext(0, srv4, PORT_MAXSEG, 0, 1000);
	return 0;
}

static void fixture_teardown(void)
{
	int fds[] = { est_fd, acc_fd, l4, l6, lo4, mptcp_fd[0], mptcp_fd[1],
		      wild_fd[0], wild_fd[1], maxseg_fd };

	for (size_t i = 0; i < ARRAY_LEN(fds); i++)
		if (fds[i] >= 0)
			close(fds[i]);
	xdpsyn_tc__destroy(tcskel);
	xdpsyn__destroy(skel);
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

static void bench(void)
{
	struct spec s;
	struct frame f;

	spec_base(&s, 0);
	spec_opts(&s, &optsets[OPTS_LINUX]);
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
}

/* ---- main ---------------------------------------------------------------- */

static const struct unit_case *case_find(const char *name)
{
	for (size_t i = 0; i < ARRAY_LEN(cases); i++)
		if (!strcmp(cases[i].name, name))
			return &cases[i];
	return NULL;
}

static void usage(FILE *out)
{
	fprintf(out, "usage: test_unit [-l | -r NAME [-r NAME ...] | --bench]\n"
		     "  (none)     run every case in order\n"
		     "  -l         list the cases, one name a line\n"
		     "  -r NAME    run that case alone (may repeat)\n"
		     "  --bench    ns/packet of a few paths\n");
}

int main(int argc, char **argv)
{
	const struct unit_case *run[ARRAY_LEN(cases)];
	size_t nrun = 0;
	int do_bench = 0;

	harness_prog = "test_unit";
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "-l")) {
			for (size_t j = 0; j < ARRAY_LEN(cases); j++)
				printf("%s\n", cases[j].name);
			return 0;
		} else if (!strcmp(argv[i], "-r") && i + 1 < argc) {
			const struct unit_case *c = case_find(argv[++i]);

			if (!c) {
				fprintf(stderr, "test_unit: no case %s (test_unit -l lists them)\n", argv[i]);
				printf("0 passed, 1 failed\n");
				return 1;
			}
			if (nrun < ARRAY_LEN(run))
				run[nrun++] = c;
		} else if (!strcmp(argv[i], "--bench")) {
			do_bench = 1;
		} else if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
			usage(stdout);
			return 0;
		} else {
			usage(stderr);
			printf("0 passed, 1 failed\n");
			return 1;
		}
	}
	if (!nrun)
		for (size_t j = 0; j < ARRAY_LEN(cases); j++)
			run[nrun++] = &cases[j];

	if (geteuid() != 0) {
		fprintf(stderr, "test_unit: must run as root (BPF, network namespace)\n");
		printf("0 passed, 1 failed\n");
		return 1;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (fixture_setup()) {
		printf("0 passed, 1 failed\n");
		return 1;
	}
	if (do_bench) {
		bench();
		fixture_teardown();
		return 0;
	}
	for (size_t i = 0; i < nrun; i++) {
		fixture_reset();
		printf("# %s\n", run[i]->name);
		run[i]->run();
		if (fail_msg[0]) /* a failed check no report() took */
			report(run[i]->name);
	}
	fixture_teardown();
	printf("%d passed, %d failed\n", passed, failed);
	return failed ? 1 : 0;
}
