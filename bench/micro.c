// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * bench_micro: the cost of each path of the real XDP program (build/xdpsyn
 * skeleton), measured with BPF_PROG_TEST_RUN at a large repeat, beside floor
 * programs (bench/floors.bpf.c) run on the same frame in the same process.
 *
 * Runs in a private network namespace it creates, as tests/unit does: the
 * server addresses are on its loopback with real listeners on the protected
 * port, and a real established loopback connection supplies the tuple of
 * the "established" path, so bpf_skc_lookup_tcp finds real sockets.
 *
 * The SYN path rewrites the frame in place, and with repeat > 1 the kernel
 * does not reset the frame between iterations (the live-frames mode does not
 * either: recycled pages keep what the program wrote). The SYN path and its
 * floor are therefore run behind floor_restore_tail, which writes the SYN
 * back and tail-calls the program; the same wrapper tail-calling an empty
 * program gives the wrapper's own cost, which is subtracted:
 *     SYN cost = T(wrapper -> prog) - T(wrapper -> empty) + T(empty)
 * Each run is checked: the verdict, the counter of the path moving exactly
 * once per iteration, and for SYNs a SYN-ACK with correct checksums.
 *
 * Behind a dispatcher (issue 13): the same XDP program loaded once more as
 * an extension (BPF_PROG_TYPE_EXT) of a slot of the bench's own dispatcher
 * (floors.bpf.c floor_disp*, libxdp's shape), a few paths run direct and
 * through it with interleaved trials, and the dispatcher alone with an
 * empty extension (dispext.bpf.c). Where the kernel refuses extension
 * programs with EPERM the rows are skipped and the output says so.
 *
 *   bench_micro [--repeat N] [--trials N] [--md FILE] [--tsv FILE] [--smoke] [--cpu N]
 *
 * --md writes the table and notes as markdown, --tsv one row per path:
 * path, verdict, xdpsyn ns, then each floor's ns (- when not run), and the
 * name of the floor the ratio is taken against.
 *
 * Ends with "N passed, N failed" (the checks); exit 1 on any failure.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <getopt.h>
#include <netinet/in.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>
#include <net/if.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "xdpsyn.h"
#include "xdpsyn.skel.h"
#include "floors.skel.h"
#include "parts.skel.h"
#include "dispext.skel.h"
#include "xdpsyn_tc.skel.h"
#include "xdpsyn_gw.skel.h"
#include "frame.h"
#include "harness.h"

#define V_ABORTED 0
#define V_DROP 1
#define V_PASS 2
#define V_TX 3
#define V_TC_NEXT -1 /* TC_ACT_UNSPEC (continue the chain), the TC paths */
#define V_UNSET INT_MIN /* no trial ran yet */

#define PORT_PROT 80
#define PORT_OPEN 8080
#define PORT_WILD 8081 /* protected, listeners on the wildcard address: the
			* SYN path adds a FIB lookup (is the address ours?) */
#define CLI_PORT 1234 /* below the ephemeral range: never the established pair's */

static struct xdpsyn *xs;
static struct floors *fl;
static struct parts *pt;
static struct xdpsyn_tc *tcs;
static struct xdpsyn *xk; /* the program for the kernel-cookie hand-off */
static struct xdpsyn *xd; /* the same program loaded as an extension (freplace)
			   * of the bench dispatcher's slot (floors.bpf.c) */
static struct dispext *dx; /* the empty extension */
static int nproc;
static int passed, failed;
static unsigned repeat = 1000000, trials = 5;
static int smoke;

static const uint8_t srv4[4] = { 10, 201, 1, 1 };
static const uint8_t cli4[4] = { 10, 201, 2, 7 };
static uint8_t srv6[16], cli6[16];
static const uint8_t srv_mac[6] = { 0x02, 0, 0, 0, 0, 0x01 };
static const uint8_t cli_mac[6] = { 0x02, 0, 0, 0, 0, 0x02 };
/* A Linux SYN's options: MSS 1460, SACK_PERM, TS, NOP, WS 7. */
static const uint8_t linux_opts[20] = { 2, 4, 0x05, 0xb4, 4, 2, 8, 10, 0x11, 0x22, 0x33, 0x44,
					0, 0, 0, 0, 1, 3, 3, 7 };

/* ---- small helpers ------------------------------------------------------ */

static void check(int ok, const char *fmt, ...)
{
	va_list ap;

	printf("%s ", ok ? "ok  " : "FAIL");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	if (ok)
		passed++;
	else
		failed++;
}

static struct bpf_map *stats_map; /* the counters stats_read reads (NULL: xdpsyn's) */

static void stats_read(uint64_t out[XDPSYN_CNT_MAX])
{
	stats_sum(stats_map ? stats_map : xs->maps.xdpsyn_stats, nproc, out);
}

static const char *cnt_names[] = {
#define N(name, help) #name,
	XDPSYN_COUNTERS(N)
#undef N
};

static const char *vname(int v)
{
	static const char *n[] = { "ABORTED", "DROP", "PASS", "TX", "REDIRECT" };

	return v >= 0 && v <= 4 ? n[v] : "?";
}

/* A path's verdict name (TC: TC_ACT_UNSPEC). */
static const char *pvname(int egress, int v)
{
	if (egress)
		return v == V_TC_NEXT ? "TC_ACT_UNSPEC" : "TC_?";
	return vname(v);
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* ---- measuring ------------------------------------------------------------ */

struct meas {
	double ns;        /* median over trials of the kernel's per-run duration
			   * (its own timer around the loop, truncated to 1 ns) */
	int verdict;
	int ok;           /* every trial ran and returned the same verdict */
	uint8_t out[FRAME_MAX];
	uint32_t out_len;
	uint64_t delta[XDPSYN_CNT_MAX]; /* xdpsyn counters over the trials */
};

static void measure(int prog_fd, const struct frame *f, struct meas *m)
{
	double kern[64];
	uint64_t before[XDPSYN_CNT_MAX], after[XDPSYN_CNT_MAX];
	unsigned t;

	memset(m, 0, sizeof(*m));
	m->ok = 1;
	m->verdict = V_UNSET;
	{ /* warm-up: caches, branch predictors, the JIT'd image */
		LIBBPF_OPTS(bpf_test_run_opts, w, .data_in = f->b, .data_size_in = (uint32_t)f->len,
			    .repeat = repeat / 10 ? repeat / 10 : 1);
		bpf_prog_test_run_opts(prog_fd, &w);
	}
	stats_read(before);
	for (t = 0; t < trials; t++) {
		LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = f->b, .data_size_in = (uint32_t)f->len,
			    .data_out = m->out, .data_size_out = sizeof(m->out), .repeat = repeat);
		int err = bpf_prog_test_run_opts(prog_fd, &o);

		if (err) {
			fprintf(stderr, "bench_micro: BPF_PROG_TEST_RUN: %s\n", strerror(errno));
			m->ok = 0;
			return;
		}
		if (m->verdict != V_UNSET && m->verdict != (int)o.retval)
			m->ok = 0;
		m->verdict = (int)o.retval;
		m->out_len = o.data_size_out;
		kern[t] = o.duration;
	}
	stats_read(after);
	for (int i = 0; i < XDPSYN_CNT_MAX; i++)
		m->delta[i] = after[i] - before[i];
	qsort(kern, trials, sizeof(double), cmp_double);
	m->ns = kern[trials / 2];
}

/* Run prog behind the restore wrapper: the frame written back, then a tail
 * call into prog. */
static void measure_wrapped(int prog_fd, const struct frame *f, struct meas *m)
{
	__u32 zero = 0, fd = (__u32)prog_fd;

	if (f->len > sizeof(fl->bss->orig)) {
		fprintf(stderr, "bench_micro: frame too large for the restore wrapper\n");
		exit(1);
	}
	memcpy(fl->bss->orig, f->b, f->len);
	fl->bss->orig_len = (uint32_t)f->len;
	if (bpf_map__update_elem(fl->maps.floors_jmp, &zero, sizeof(zero), &fd, sizeof(fd), 0)) {
		fprintf(stderr, "bench_micro: prog array update: %s\n", strerror(errno));
		exit(1);
	}
	measure(bpf_program__fd(fl->progs.floor_restore_tail), f, m);
}

/* ---- frames ----------------------------------------------------------------- */

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
	s->sport = CLI_PORT;
	s->dport = PORT_PROT;
	s->seq = 0x11223344;
	s->flags = F_SYN;
	s->window = 64240;
}

static void syn_frame(struct frame *f, int v6, int dport)
{
	struct spec s;

	spec_base(&s, v6);
	s.dport = dport;
	s.opts = linux_opts;
	s.optlen = sizeof(linux_opts);
	frame_build(f, &s);
}

/* The final ACK of a handshake whose SYN-ACK the real program made now
 * (repeat 1, no wrapper): ack = cookie + 1; with ts, TSecr = our TSval.
 * Without ts, the SYN offered MSS, SACK_PERM and WS but no timestamps. */
static int valid_ack_frame(struct frame *f, int v6, int with_ts)
{
	static const uint8_t no_ts_opts[12] = { 2, 4, 0x05, 0xb4, 1, 1, 4, 2, 1, 3, 3, 7 };
	struct frame syn;
	struct parsed p;
	struct spec s;
	uint8_t out[FRAME_MAX], ts[12] = { 1, 1, 8, 10, 0x55, 0x66, 0x77, 0x88 };
	LIBBPF_OPTS(bpf_test_run_opts, o, .data_out = out, .data_size_out = sizeof(out), .repeat = 1);

	syn_frame(&syn, v6, PORT_PROT);
	if (!with_ts) {
		spec_base(&s, v6);
		s.opts = no_ts_opts;
		s.optlen = sizeof(no_ts_opts);
		frame_build(&syn, &s);
	}
	o.data_in = syn.b;
	o.data_size_in = (uint32_t)syn.len;
	if (bpf_prog_test_run_opts(bpf_program__fd(xs->progs.xdpsyn_xdp), &o) || o.retval != V_TX)
		return -1;
	frame_parse(out, o.data_size_out, &p);
	/* SYN-ACK options with TS: MSS(4), SACK_PERM(2) TS(2) TSval TSecr, NOP WS */
	if (!p.ok || (with_ts && (p.optlen < 16 || p.opts[6] != 8)))
		return -1;
	memcpy(ts + 8, p.opts + 8, 4); /* TSecr = our TSval */
	spec_base(&s, v6);
	s.flags = F_ACK;
	s.seq = 0x11223344 + 1;
	s.ack = p.seq + 1;
	if (with_ts) {
		s.opts = ts;
		s.optlen = sizeof(ts);
	}
	frame_build(f, &s);
	return 0;
}

/* An ACK with a random acknowledgment number; with ts, NOP NOP TS with a
 * random TSval and a TSecr whose clock is now (random hash bits): inside the
 * cookie's validity window, so the program must hash once to reject it (a
 * random TSecr falls outside half the time and is rejected before hashing). */
static void forged_ack_frame(struct frame *f, int with_ts, int dport)
{
	struct spec s;
	uint32_t r[3] = { 0x9e3779b9, 0x7f4a7c15, 0x85ebca6b };
	uint8_t ts[12] = { 1, 1, 8, 10 };
	struct timespec now;
	uint32_t clk;

	if (getrandom(r, sizeof(r), 0) != sizeof(r))
		r[0] ^= (uint32_t)time(NULL);
	clock_gettime(CLOCK_TAI, &now);
	clk = (uint32_t)((((uint64_t)now.tv_sec * 1000000000ull + now.tv_nsec) >> XDPSYN_TSCLK_NS_SHIFT) &
			 XDPSYN_TSCLK_MASK);
	r[2] = clk << 8 | (r[2] & 0xff);
	memcpy(ts + 4, &r[1], 4);
	ts[8] = r[2] >> 24;
	ts[9] = r[2] >> 16;
	ts[10] = r[2] >> 8;
	ts[11] = r[2];
	spec_base(&s, 0);
	s.dport = dport;
	s.flags = F_ACK;
	s.seq = 0x11223344 + 1;
	s.ack = r[0];
	if (with_ts) {
		s.opts = ts;
		s.optlen = sizeof(ts);
	}
	frame_build(f, &s);
}

static void established_frame(struct frame *f, uint16_t est_port)
{
	struct spec s;
	static const uint8_t ts[12] = { 1, 1, 8, 10, 0, 0, 1, 0, 0, 0, 2, 0 };

	spec_base(&s, 0);
	s.sport = est_port;
	s.flags = F_ACK;
	s.seq = 1000;
	s.ack = 2000;
	s.opts = ts;
	s.optlen = sizeof(ts);
	frame_build(f, &s);
}

/* A UDP datagram (32 bytes of payload) to port 53: frame_build lays out a
 * TCP header, so the L4 header is rewritten as UDP (checksum 0: none). */
static void udp_frame(struct frame *f)
{
	struct spec s;
	size_t l4 = 14 + 20;

	spec_base(&s, 0);
	s.l4proto = 17;
	s.payload = 12; /* 20-byte "TCP" header + 12 = 8-byte UDP header + 24 */
	frame_build(f, &s);
	f->b[l4 + 0] = CLI_PORT >> 8;
	f->b[l4 + 1] = CLI_PORT & 0xff;
	f->b[l4 + 2] = 0;
	f->b[l4 + 3] = 53;
	f->b[l4 + 4] = 0;
	f->b[l4 + 5] = 32;
	f->b[l4 + 6] = 0;
	f->b[l4 + 7] = 0;
}

/* A SYN of the track paths' own client port (the record the egress path
 * then finds). */
#define TRACK_CLI_PORT 65000
static void hs_retrans_frame(struct frame *f)
{
	struct spec s;

	spec_base(&s, 0);
	s.sport = TRACK_CLI_PORT;
	s.opts = linux_opts;
	s.optlen = sizeof(linux_opts);
	frame_build(f, &s);
}

/* What the server sends to TRACK_CLI_PORT: its SYN-ACK, or a data segment
 * of 100 bytes. */
static void server_frame(struct frame *f, int synack)
{
	struct spec s;

	memset(&s, 0, sizeof(s));
	memcpy(s.smac, srv_mac, 6);
	memcpy(s.dmac, cli_mac, 6);
	memcpy(s.saddr, srv4, 4);
	memcpy(s.daddr, cli4, 4);
	s.sport = PORT_PROT;
	s.dport = TRACK_CLI_PORT;
	s.seq = 0x55667788;
	s.ack = 0x11223344 + 1;
	s.window = 65160;
	if (synack) {
		s.flags = F_SYN | F_ACK;
		s.opts = linux_opts;
		s.optlen = sizeof(linux_opts);
	} else {
		s.flags = F_ACK | F_PSH;
		s.payload = 100;
	}
	frame_build(f, &s);
}

/* ---- setup -------------------------------------------------------------------- */

static void xdpsyn_configure(void)
{
	struct xdpsyn_config cfg = { .mss = { 1460, 1440 }, .window = 64240, .wscale = 7,
				     .ttl = 64, .ecn = 1 };
	struct xdpsyn_key key;
	static struct xdpsyn_ports ports;
	__u32 zero = 0;

	if (getrandom(&key, sizeof(key), 0) != sizeof(key)) {
		perror("bench_micro: getrandom");
		exit(1);
	}
	ports.bits[PORT_PROT / 64] |= 1ull << (PORT_PROT % 64);
	ports.bits[PORT_WILD / 64] |= 1ull << (PORT_WILD % 64);
	for (__u32 fam = 0; fam < XDPSYN_NFAMILIES; fam++)
		bpf_map__update_elem(xs->maps.xdpsyn_ports, &fam, sizeof(fam), &ports, sizeof(ports), 0);
	bpf_map__update_elem(xs->maps.xdpsyn_keys, &zero, sizeof(zero), &key, sizeof(key), 0);
	bpf_map__update_elem(xs->maps.xdpsyn_config, &zero, sizeof(zero), &cfg, sizeof(cfg), 0);
}

/* The policy for the next path: proxy, track, or auto with a rate no bench
 * reaches (so it never switches by itself) in state AUTO_STATE. */
static void policy_set(int policy, int auto_state)
{
	struct xdpsyn_config cfg;
	struct xdpsyn_policy_state ps = { .state = (__u64)auto_state };
	__u32 zero = 0;

	bpf_map__lookup_elem(xs->maps.xdpsyn_config, &zero, sizeof(zero), &cfg, sizeof(cfg), 0);
	cfg.policy = (__u8)policy;
	cfg.syn_rate = 1000000000;
	cfg.rate_hi = xdpsyn_rate_threshold(cfg.syn_rate);
	cfg.rate_hi_cpu = cfg.rate_hi / (nproc > 0 ? (unsigned)nproc : 1);
	cfg.rate_lo = cfg.rate_hi / 2;
	cfg.calm_s = 10;
	cfg.calm_ns = 10000000000ULL;
	bpf_map__update_elem(xs->maps.xdpsyn_config, &zero, sizeof(zero), &cfg, sizeof(cfg), 0);
	bpf_map__update_elem(xs->maps.xdpsyn_policy, &zero, sizeof(zero), &ps, sizeof(ps), 0);
}

/* ---- the paths ---------------------------------------------------------------- */

enum floor_id { FL_EMPTY, FL_PARSE_PASS, FL_PARSE_DROP, FL_LOOKUP, FL_SYNACK, FL_TC_EMPTY, FL_MAX };
static const char *floor_names[FL_MAX] = { "empty", "parse+PASS", "parse+DROP", "parse+lookup",
					   "SYN-ACK floor", "TC empty" };
static const char *floor_keys[FL_MAX] = { "empty", "parse_pass", "parse_drop", "lookup",
					  "synack_floor", "tc_empty" };
static const int floor_verdict[FL_MAX] = { V_PASS, V_PASS, V_DROP, V_PASS, V_TX, V_TC_NEXT };

struct path {
	const char *name;
	struct frame f;
	int syn;             /* rewrites the frame: measured behind the wrapper */
	int want_verdict;
	int want_counter;    /* moves once per run */
	unsigned floors;     /* bitmask of enum floor_id */
	int primary;         /* floor for the ratio */
	int also;            /* a second counter that moves once per run, or -1 */
	int policy;          /* enum xdpsyn_policy set for the run */
	int auto_state;      /* auto: the policy state set for the run */
	int egress;          /* run the TC egress program, not XDP */
	int bump;            /* wrapper writes a new port and ISN per run */
	int delflow;         /* wrapper deletes the flow's record per run */
	int kc;              /* the program loaded for the kernel-cookie
			      * hand-off (handoff_mode KCOOKIE) */
	/* results */
	double ns, ns_raw, fns[FL_MAX];
	int valid;
};

static int prog_floor_fd(int id)
{
	switch (id) {
	case FL_EMPTY: return bpf_program__fd(fl->progs.floor_empty);
	case FL_PARSE_PASS: return bpf_program__fd(fl->progs.floor_parse_pass);
	case FL_PARSE_DROP: return bpf_program__fd(fl->progs.floor_parse_drop);
	case FL_LOOKUP: return bpf_program__fd(fl->progs.floor_lookup);
	case FL_TC_EMPTY: return bpf_program__fd(fl->progs.floor_tc_empty);
	default: return bpf_program__fd(fl->progs.floor_synack);
	}
}

static int synack_ok(const struct meas *m, const struct frame *syn, const char **why)
{
	struct parsed p;

	frame_parse(m->out, m->out_len, &p);
	*why = "";
	if (!p.ok) {
		*why = "output does not parse";
		return 0;
	}
	if (!p.ip_csum_ok || !p.tcp_csum_ok) {
		*why = "bad checksum";
		return 0;
	}
	if (p.flags != (F_SYN | F_ACK) || p.ack != 0x11223344 + 1 || p.optlen != 20) {
		*why = "not the SYN-ACK for this SYN";
		return 0;
	}
	(void)syn;
	return 1;
}

static double wrapper_cost; /* per frame size: set per SYN path */

static void run_path(struct path *p)
{
	struct meas m, wrap_empty;
	uint64_t runs = (uint64_t)repeat * trials;
	int xfd = p->egress ? bpf_program__fd(tcs->progs.xdpsyn_tc_egress) :
		  p->kc ? bpf_program__fd(xk->progs.xdpsyn_xdp) :
			  bpf_program__fd(xs->progs.xdpsyn_xdp);
	double empty_ns = 0;

	policy_set(p->policy, p->auto_state);
	fl->bss->bump_off = p->bump ? (p->f.b[12] == 0x86 ? 14 + 40 : 14 + 20) : 0;
	fl->bss->del_flow = 0;
	if (p->delflow) {
		/* the client's tuple as xdpsyn keys it (test runs: ifindex of lo) */
		struct xdpsyn_flow_key *k = &fl->bss->del_key;
		int v6 = p->f.b[12] == 0x86;

		memset(k, 0, sizeof(*k));
		k->ifindex = 1;
		k->family = v6;
		memcpy(k->saddr, v6 ? cli6 : cli4, v6 ? 16 : 4);
		memcpy(k->daddr, v6 ? srv6 : srv4, v6 ? 16 : 4);
		k->sport = htons(CLI_PORT);
		k->dport = htons(PORT_PROT);
		fl->bss->del_flow = 1;
	}

	/* floors first, so the empty baseline is known */
	for (int id = 0; id < FL_MAX; id++) {
		if (!(p->floors & (1u << id)) && id != FL_EMPTY)
			continue;
		if (id == FL_SYNACK) {
			measure_wrapped(prog_floor_fd(id), &p->f, &m);
			p->fns[id] = m.ns - wrapper_cost + empty_ns;
		} else {
			measure(prog_floor_fd(id), &p->f, &m);
			p->fns[id] = m.ns;
		}
		if (id == FL_EMPTY)
			empty_ns = m.ns;
		check(m.ok && m.verdict == floor_verdict[id] && m.ns > 0,
		      "%-30s floor %-13s verdict %s (want %s), %.0f ns", p->name, floor_names[id],
		      pvname(id == FL_TC_EMPTY, m.verdict), pvname(id == FL_TC_EMPTY, floor_verdict[id]),
		      p->fns[id]);
		if (id == FL_SYNACK) {
			const char *why = "";
			int good = synack_ok(&m, &p->f, &why);

			check(good, "%-30s floor %-13s output is a valid SYN-ACK %s", p->name,
			      floor_names[id], why);
		}
		if (id == FL_EMPTY && p->syn) {
			measure_wrapped(prog_floor_fd(FL_EMPTY), &p->f, &wrap_empty);
			wrapper_cost = wrap_empty.ns;
			check(wrap_empty.ok && wrap_empty.verdict == V_PASS && wrap_empty.ns > 0,
			      "%-30s restore wrapper -> empty: %.0f ns (%.0f ns over empty)", p->name,
			      wrap_empty.ns, wrap_empty.ns - empty_ns);
		}
	}

	if (p->syn) {
		measure_wrapped(xfd, &p->f, &m);
		p->ns_raw = m.ns;
		p->ns = m.ns - wrapper_cost + empty_ns;
	} else {
		measure(xfd, &p->f, &m);
		p->ns_raw = m.ns;
		p->ns = m.ns;
	}
	check(m.ok && m.verdict == p->want_verdict && p->ns > 0,
	      "%-30s xdpsyn verdict %s (want %s), %.0f ns/packet%s", p->name,
	      pvname(p->egress, m.verdict), pvname(p->egress, p->want_verdict), p->ns,
	      p->syn ? " (wrapper subtracted)" : "");
	{
		int good = 1;
		char bad[256] = "";

		for (int i = 0; i < XDPSYN_CNT_MAX; i++) {
			uint64_t want = 0;

			if ((i == XDPSYN_CNT_RX && !p->egress) || i == p->want_counter ||
			    i == p->also)
				want = runs;
			if (m.delta[i] != want) {
				good = 0;
				snprintf(bad + strlen(bad), sizeof(bad) - strlen(bad), " %s=%llu",
					 cnt_names[i], (unsigned long long)m.delta[i]);
			}
		}
		check(good, "%-30s every one of %llu runs took the path (%s +%llu)%s%s", p->name,
		      (unsigned long long)runs,
		      p->want_counter >= 0 ? cnt_names[p->want_counter] : "no counter",
		      p->want_counter >= 0 ? (unsigned long long)m.delta[p->want_counter] : 0ULL,
		      good ? "" : ", also:", bad);
	}
	if (p->delflow) {
		struct xdpsyn_flow rec;

		check(!bpf_map__lookup_elem(xs->maps.xdpsyn_flows, &fl->bss->del_key,
					    sizeof(fl->bss->del_key), &rec, sizeof(rec), 0),
		      "%-30s the record the wrapper deletes is the one xdpsyn writes", p->name);
	}
	fl->bss->bump_off = 0;
	fl->bss->del_flow = 0;
	policy_set(XDPSYN_POLICY_PROXY, 0);
	if (p->want_verdict == V_TX) {
		const char *why = "";
		int good = synack_ok(&m, &p->f, &why);

		check(good, "%-30s xdpsyn output is a valid SYN-ACK %s", p->name, why);
	}
	p->valid = 1;
}

/* The nonzero counter deltas, as "name +n, ...". */
static void deltas_str(char *buf, size_t len, const uint64_t *b, const uint64_t *a)
{
	buf[0] = 0;
	for (int i = 0; i < XDPSYN_CNT_MAX; i++)
		if (a[i] != b[i])
			snprintf(buf + strlen(buf), len - strlen(buf), "%s%s +%llu", buf[0] ? ", " : "",
				 cnt_names[i], (unsigned long long)(a[i] - b[i]));
}

/* What a program that rewrites the frame sees with a plain repeat, and in
 * the live-frames mode: which path the iterations took (by the counters). */
static void evidence(const struct frame *syn, FILE *md)
{
	int xfd = bpf_program__fd(xs->progs.xdpsyn_xdp);
	uint64_t b[XDPSYN_CNT_MAX], a[XDPSYN_CNT_MAX];
	unsigned n = 10000;
	char line[2][512], d[256];

	{
		uint8_t out[FRAME_MAX];
		LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = syn->b, .data_size_in = (uint32_t)syn->len,
			    .data_out = out, .data_size_out = sizeof(out), .repeat = n);

		stats_read(b);
		bpf_prog_test_run_opts(xfd, &o);
		stats_read(a);
		deltas_str(d, sizeof(d), b, a);
		snprintf(line[0], sizeof(line[0]),
			 "xdpsyn on the v4 SYN, plain repeat=%u, no wrapper: counters %s "
			 "(from the 2nd run on it sees its own SYN-ACK, whose destination port is the "
			 "client's, unprotected)", n, d);
	}
	{
		LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = syn->b, .data_size_in = (uint32_t)syn->len,
			    .repeat = n, .flags = BPF_F_TEST_XDP_LIVE_FRAMES, .batch_size = 64);
		int err;

		stats_read(b);
		err = bpf_prog_test_run_opts(xfd, &o);
		stats_read(a);
		deltas_str(d, sizeof(d), b, a);
		if (err)
			snprintf(line[1], sizeof(line[1]), "live frames repeat=%u: refused: %s", n,
				 strerror(errno));
		else
			snprintf(line[1], sizeof(line[1]),
				 "xdpsyn on the v4 SYN, BPF_F_TEST_XDP_LIVE_FRAMES repeat=%u batch 64: "
				 "counters %s (a recycled page keeps what the program wrote; only the first "
				 "use of each page sees the SYN)", n, d);
	}
	for (int i = 0; i < 2; i++) {
		printf("note %s\n", line[i]);
		if (md)
			fprintf(md, "- %s\n", line[i]);
	}
}

/* Parts of the paths alone, on the paths' own frames: ns above the empty
 * program (the test-run overhead). */
static void breakdown(struct path *paths, int np, FILE *md)
{
	static const struct {
		const char *path;
		const char *part;
		int which;
	} rows[] = {
		{ "SYN v4 -> SYN-ACK", "bpf_ktime_get_tai_ns", 0 },
		{ "SYN v4 -> SYN-ACK", "parse_tcp_opts (MSS, SACK, TS, NOP, WS)", 1 },
		{ "SYN v4 -> SYN-ACK", "cookie_hash (SipHash-2-4, 3 words)", 2 },
		{ "SYN v4 -> SYN-ACK", "top_syn (count-min sketch)", 3 },
		{ "valid ACK v4 (TS)", "parse_tcp_opts (NOP, NOP, TS)", 1 },
		{ "valid ACK v4 (TS)", "flow_complete (flow record + top touch, after deleting the last run's record)", 4 },
	};
	FILE *outs[2] = { stdout, md };
	double ns[sizeof(rows) / sizeof(rows[0])];
	double empty = 0;
	struct meas m;

	for (size_t r = 0; r < sizeof(rows) / sizeof(rows[0]); r++) {
		struct bpf_program *progs[] = { pt->progs.part_ktime, pt->progs.part_opts,
						pt->progs.part_hash, pt->progs.part_top_syn,
						pt->progs.part_flow_complete };
		const struct path *p = NULL;

		ns[r] = -1;
		for (int i = 0; i < np; i++)
			if (!strcmp(paths[i].name, rows[r].path) && paths[i].valid)
				p = &paths[i];
		if (!p)
			continue;
		measure(bpf_program__fd(fl->progs.floor_empty), &p->f, &m);
		empty = m.ns;
		measure(bpf_program__fd(progs[rows[r].which]), &p->f, &m);
		check(m.ok && m.verdict == V_PASS, "part %-42s on %-18s verdict %s, %.0f ns", rows[r].part,
		      rows[r].path, vname(m.verdict), m.ns);
		ns[r] = m.ns - empty;
	}
	for (int o = 0; o < 2; o++) {
		FILE *out = outs[o];

		if (!out)
			continue;
		fprintf(out, "\nParts alone (ns above the empty program, %.0f ns):\n\n"
			     "| on the frame of | part | ns |\n|---|---|---:|\n", empty);
		for (size_t r = 0; r < sizeof(rows) / sizeof(rows[0]); r++)
			if (ns[r] >= 0)
				fprintf(out, "| %s | %s | %.0f |\n", rows[r].path, rows[r].part, ns[r]);
	}
}

/* ---- behind a dispatcher (issue 13) ------------------------------------------
 * xdpsyn's XDP program loaded a second time as BPF_PROG_TYPE_EXT in the slot
 * of a dispatcher of libxdp's shape (bench/floors.bpf.c floor_disp*: our own
 * code; libxdp 1.3's cannot take xdpsyn on kernels >= 6.13, its slots do not
 * change packet data), on the same maps, against the direct program. The
 * trials of the programs compared are interleaved (every program once per
 * trial, in turn), so a burst of load from elsewhere on the machine falls
 * on all of them alike. */

struct job {
	int fd;
	int jmp; /* >= 0: fd is the restore wrapper, tail-calling this */
};

#define JOBS_MAX 6

static void measure_set(const struct job *jobs, int n, const struct frame *f, struct meas *m)
{
	double kern[JOBS_MAX][64];
	__u32 zero = 0;

	if (f->len > sizeof(fl->bss->orig) || n > JOBS_MAX) {
		fprintf(stderr, "bench_micro: frame too large for the restore wrapper\n");
		exit(1);
	}
	memcpy(fl->bss->orig, f->b, f->len);
	fl->bss->orig_len = (uint32_t)f->len;
	for (int j = 0; j < n; j++) {
		memset(&m[j], 0, sizeof(m[j]));
		m[j].ok = 1;
		m[j].verdict = V_UNSET;
	}
	for (unsigned t = 0; t <= trials; t++) { /* t == 0: the warm-up */
		for (int j = 0; j < n; j++) {
			uint64_t before[XDPSYN_CNT_MAX], after[XDPSYN_CNT_MAX];
			LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = f->b, .data_size_in = (uint32_t)f->len,
				    .data_out = m[j].out, .data_size_out = sizeof(m[j].out),
				    .repeat = t ? repeat : (repeat / 10 ? repeat / 10 : 1));
			__u32 fd = (__u32)jobs[j].jmp;

			if (jobs[j].jmp >= 0 &&
			    bpf_map__update_elem(fl->maps.floors_jmp, &zero, sizeof(zero), &fd, sizeof(fd), 0)) {
				fprintf(stderr, "bench_micro: prog array update: %s\n", strerror(errno));
				exit(1);
			}
			stats_read(before);
			if (bpf_prog_test_run_opts(jobs[j].fd, &o)) {
				fprintf(stderr, "bench_micro: BPF_PROG_TEST_RUN: %s\n", strerror(errno));
				m[j].ok = 0;
				continue;
			}
			stats_read(after);
			if (!t)
				continue;
			for (int i = 0; i < XDPSYN_CNT_MAX; i++)
				m[j].delta[i] += after[i] - before[i];
			if (m[j].verdict != V_UNSET && m[j].verdict != (int)o.retval)
				m[j].ok = 0;
			m[j].verdict = (int)o.retval;
			m[j].out_len = o.data_size_out;
			kern[j][t - 1] = o.duration;
		}
	}
	for (int j = 0; j < n; j++) {
		qsort(kern[j], trials, sizeof(double), cmp_double);
		m[j].ns = kern[j][trials / 2];
	}
}

/* The counters of path p moved exactly runs times, and nothing else moved. */
static int counters_ok(const struct path *p, const uint64_t *delta, uint64_t runs, char *bad, size_t len)
{
	int good = 1;

	bad[0] = 0;
	for (int i = 0; i < XDPSYN_CNT_MAX; i++) {
		uint64_t want = 0;

		if ((i == XDPSYN_CNT_RX && !p->egress) || i == p->want_counter || i == p->also)
			want = runs;
		if (delta[i] != want) {
			good = 0;
			snprintf(bad + strlen(bad), len - strlen(bad), " %s=%llu", cnt_names[i],
				 (unsigned long long)delta[i]);
		}
	}
	return good;
}

struct drow {
	char name[96];
	const char *verdict;
	double direct, disp; /* ns per packet */
	const char *direct_what; /* what "direct" is, for the mechanism rows */
};

/* One of xdpsyn's paths, direct and behind the dispatcher, interleaved.
 * SYN: direct = T(wrapper -> xdpsyn) - T(wrapper -> empty) + T(empty), as
 * run_path; behind the dispatcher = T(restore, dispatcher -> xdpsyn) -
 * T(restore, XDP_PASS) + T(empty): the restore work is the same code in
 * both (an extended program cannot be a tail call target). */
static void run_disp_path(const struct path *p, struct drow *r, struct path *row)
{
	struct meas m[5];
	uint64_t runs = (uint64_t)repeat * trials;
	int xfd = bpf_program__fd(xs->progs.xdpsyn_xdp);
	int efd = bpf_program__fd(fl->progs.floor_empty);
	const struct meas *md, *mx;
	char bad[256];
	int good;

	policy_set(XDPSYN_POLICY_PROXY, 0);
	fl->bss->bump_off = 0;
	fl->bss->del_flow = 0;
	snprintf(r->name, sizeof(r->name), "%s", p->name);
	r->verdict = pvname(0, p->want_verdict);
	r->direct_what = NULL;
	if (p->syn) {
		struct job jobs[] = {
			{ efd, -1 },
			{ bpf_program__fd(fl->progs.floor_restore_tail), efd },
			{ bpf_program__fd(fl->progs.floor_restore_tail), xfd },
			{ bpf_program__fd(fl->progs.floor_restore_pass), -1 },
			{ bpf_program__fd(fl->progs.floor_disp_xs_restore), -1 },
		};

		measure_set(jobs, 5, &p->f, m);
		r->direct = m[2].ns - m[1].ns + m[0].ns;
		r->disp = m[4].ns - m[3].ns + m[0].ns;
		check(m[0].ok && m[1].ok && m[3].ok && m[0].verdict == V_PASS && m[1].verdict == V_PASS &&
		      m[3].verdict == V_PASS,
		      "%-30s dispatcher baselines: empty %.0f, wrapper -> empty %.0f, restore+PASS %.0f ns",
		      p->name, m[0].ns, m[1].ns, m[3].ns);
		mx = &m[2];
		md = &m[4];
	} else {
		struct job jobs[] = {
			{ efd, -1 },
			{ xfd, -1 },
			{ bpf_program__fd(fl->progs.floor_disp_xs), -1 },
		};

		measure_set(jobs, 3, &p->f, m);
		r->direct = m[1].ns;
		r->disp = m[2].ns;
		mx = &m[1];
		md = &m[2];
	}
	for (int k = 0; k < 2; k++) {
		const struct meas *mm = k ? md : mx;
		const char *how = k ? "behind the dispatcher" : "direct (interleaved)";

		check(mm->ok && mm->verdict == p->want_verdict, "%-30s %s: verdict %s (want %s), %.0f ns",
		      p->name, how, vname(mm->verdict), vname(p->want_verdict), k ? r->disp : r->direct);
		good = counters_ok(p, mm->delta, runs, bad, sizeof(bad));
		check(good, "%-30s %s: every one of %llu runs took the path%s%s", p->name, how,
		      (unsigned long long)runs, good ? "" : ", counters:", bad);
		if (p->want_verdict == V_TX) {
			const char *why = "";

			check(synack_ok(mm, &p->f, &why), "%-30s %s: output is a valid SYN-ACK %s", p->name,
			      how, why);
		}
	}
	/* its row in the main table: the direct path's floors */
	*row = *p; /* the caller names it */
	row->ns = row->ns_raw = r->disp;
	row->valid = 1;
}

/* The mechanism alone: the dispatcher with its slots' own bodies, then
 * with the empty extension in every slot, against an empty XDP program. */
static int run_disp_mechanism(struct drow *r)
{
	struct meas m[3];
	const struct frame *f;
	struct frame fr;
	struct job jobs[] = {
		{ bpf_program__fd(fl->progs.floor_empty), -1 },
		{ bpf_program__fd(fl->progs.floor_disp1), -1 },
		{ bpf_program__fd(fl->progs.floor_disp2), -1 },
	};
	static const char *jnames[] = { "floor_empty", "floor_disp1", "floor_disp2" };
	static const struct {
		const char *slot;
		int two;
	} at[] = { { "disp_slot0", 0 }, { "disp_slot0", 1 }, { "disp_slot1", 1 } };
	int n = 0;

	syn_frame(&fr, 0, PORT_OPEN);
	f = &fr;
	for (int phase = 0; phase < 2; phase++) {
		if (phase == 1)
			for (size_t i = 0; i < sizeof(at) / sizeof(at[0]); i++) {
				struct bpf_program *tgt = at[i].two ? fl->progs.floor_disp2 : fl->progs.floor_disp1;
				struct bpf_link *l = bpf_program__attach_freplace(dx->progs.ext_pass,
										  bpf_program__fd(tgt),
										  at[i].slot);

				check(l != NULL, "empty extension attached to %s's %s%s%s",
				      bpf_program__name(tgt), at[i].slot, l ? "" : ": ",
				      l ? "" : strerror(errno));
				if (!l)
					return n;
				/* kept until exit */
			}
		measure_set(jobs, 3, f, m);
		for (int j = 0; j < 3; j++)
			check(m[j].ok && m[j].verdict == V_PASS, "dispatcher mechanism, %s: %s verdict %s, %.0f ns",
			      phase ? "empty extension in its slots" : "its slots' own bodies",
			      jnames[j], vname(m[j].verdict), m[j].ns);
		for (int j = 1; j < 3; j++, n++) {
			snprintf(r[n].name, sizeof(r[n].name), "dispatcher, %s, %s", j == 1 ? "1 slot" : "2 slots",
				 phase ? (j == 1 ? "an empty extension (freplace) in it" :
					  "an empty extension (freplace) in each") :
					 (j == 1 ? "no extension (the slot's own body)" :
					  "no extension (the slots' own bodies)"));
			r[n].verdict = "PASS";
			r[n].direct = m[0].ns;
			r[n].disp = m[j].ns;
			r[n].direct_what = "empty XDP program";
		}
	}
	return n;
}

/* ---- gateway mode (issue 16) -----------------------------------------------
 * The gateway object (build/xdpsyn_gw.skel.h, bpf/xdpsyn_gw.bpf.c) on maps of
 * its own, configured as `attach lo --gateway lo --servers 10.201.1.1/32,
 * fd00:201::1/128 --ports 80` would (both sides on the fixture's loopback,
 * the interface BPF_PROG_TEST_RUN runs on), with two ESTABLISHED entries in
 * xdpsyn_gw_conns: CLI_PORT (window scales 7/7/7) and GW_WS_PORT (client 7,
 * told 7, server 9). Each row is checked on a run of its own (repeat 1)
 * before it is timed: the verdict, and for translated frames the output's
 * translated fields (ack, SACK edges, TSecr, or seq, TSval, window) moved by
 * the entry's deltas, everything else as it was, checksums valid. A row that
 * fails its check prints "not measured: why" in place of a figure (the stub
 * bpf/xdpsyn_gw.bpf.c, which passes every frame untouched, does that on
 * every translation row; its own time is shown as the stub's). Frames that
 * the program rewrites are timed behind the restore wrapper, as the SYN
 * rows above. */

#define GW_WS_PORT (CLI_PORT + 1) /* the entry with differing window scales */
#define GW_NOSTATE_PORT (CLI_PORT + 2) /* no entry: the forged ACK's */
/* The forwarded rows: a server and a client behind veths of the fixture's
 * namespace (xgs0: the servers' side, gw_ifindex; xgc0: the clients',
 * gw_ifindex_c), routed there with permanent neighbour entries, forwarding
 * on while the gateway rows run: bpf_fib_lookup succeeds, XDP_REDIRECT. */
static const uint8_t fsrv4[4] = { 10, 201, 3, 1 };
static const uint8_t fcli4[4] = { 10, 201, 4, 7 };
#define GW_SEQ_DELTA 0x10203040u
#define GW_TS_DELTA 0x01000000u
#define GW_PAYLOAD 32
#define GW_CLI_TSVAL 0x11111111u /* the client's TSval */
#define GW_CLI_TSECR 0x22222222u /* what it echoes (our clock) */
#define GW_SRV_TSVAL 0x33333333u /* the server's (its clock) */
#define GW_SRV_TSECR 0x44444444u
#define GW_SRV_WINDOW 1000

static struct xdpsyn_gw *gw;

enum gw_kind { GWK_C2S, GWK_S2C, GWK_SYNACK, GWK_DROP, GWK_PASS };

struct gwrow {
	const char *name;
	const char *prog_name;
	int srv;           /* xdpsyn_gw_srv_xdp (else xdpsyn_gw_xdp) */
	enum gw_kind kind;
	int nsack;         /* C2S: SACK blocks in the frame */
	int ws_shift;      /* S2C: s_ws - g_ws */
	int counter;       /* what moves once per run in the data path */
	struct frame f;
	/* results */
	int measured;
	double ns, ns_raw, empty_ns;
	int verdict;
	char what[160];    /* what the check saw (measured) or why not */
	char counters[256];
};

static uint32_t rd32(const uint8_t *p) { return (uint32_t)p[0] << 24 | p[1] << 16 | p[2] << 8 | p[3]; }
static void wr32(uint8_t *p, uint32_t v) { p[0] = v >> 24; p[1] = v >> 16; p[2] = v >> 8; p[3] = v; }

/* TCP options: NOP NOP TS(val, ecr) [NOP NOP SACK with nsack blocks]. */
static size_t gw_opts(uint8_t *o, uint32_t tsval, uint32_t tsecr, int nsack, uint32_t sack0)
{
	size_t n = 0;

	o[n++] = 1; o[n++] = 1; o[n++] = 8; o[n++] = 10;
	wr32(o + n, tsval); n += 4;
	wr32(o + n, tsecr); n += 4;
	if (nsack) {
		o[n++] = 1; o[n++] = 1; o[n++] = 5; o[n++] = (uint8_t)(2 + 8 * nsack);
		for (int i = 0; i < nsack; i++) {
			wr32(o + n, sack0 + 3000u * (uint32_t)i); n += 4;
			wr32(o + n, sack0 + 3000u * (uint32_t)i + 1000u); n += 4;
		}
	}
	return n;
}

/* The client's data segment to the server (ack in the client's view: the
 * cookie's sequence space), TS, nsack SACK blocks. */
static void gw_c2s_frame(struct frame *f, int v6, int nsack, const uint8_t *daddr)
{
	static uint8_t o[40];
	struct spec s;

	spec_base(&s, v6);
	if (daddr)
		memcpy(s.daddr, daddr, 4);
	s.flags = F_ACK | F_PSH;
	s.seq = 0x11223344 + 1;
	s.ack = 0x55000001;
	s.window = 502;
	s.optlen = gw_opts(o, GW_CLI_TSVAL, GW_CLI_TSECR, nsack, 0x55001000);
	s.opts = o;
	s.payload = GW_PAYLOAD;
	frame_build(f, &s);
}

/* An address: OVER (IPv4) when given, else the fixture's of the family. */
static void gw_addr(void *dst, int v6, const uint8_t *def6, const uint8_t *def4, const uint8_t *over)
{
	if (over)
		memcpy(dst, over, 4);
	else
		memcpy(dst, v6 ? def6 : def4, v6 ? 16 : 4);
}

/* The server's data segment to the client (seq in the server's space). */
static void gw_s2c_frame(struct frame *f, int v6, uint16_t cport, const uint8_t *saddr, const uint8_t *daddr)
{
	static uint8_t o[40];
	struct spec s;

	memset(&s, 0, sizeof(s));
	s.v6 = v6;
	memcpy(s.smac, srv_mac, 6);
	memcpy(s.dmac, cli_mac, 6);
	gw_addr(s.saddr, v6, srv6, srv4, saddr);
	gw_addr(s.daddr, v6, cli6, cli4, daddr);
	s.sport = PORT_PROT;
	s.dport = cport;
	s.flags = F_ACK | F_PSH;
	s.seq = 0x66000001;
	s.ack = 0x11223344 + 1;
	s.window = GW_SRV_WINDOW;
	s.optlen = gw_opts(o, GW_SRV_TSVAL, GW_SRV_TSECR, 0, 0);
	s.opts = o;
	s.payload = GW_PAYLOAD;
	frame_build(f, &s);
}

/* An ACK with a random acknowledgment number, no options, from a client
 * port without state: no entry, no valid cookie. */
static void gw_forged_frame(struct frame *f)
{
	struct spec s;
	uint32_t r = 0x9e3779b9;

	if (getrandom(&r, sizeof(r), 0) != sizeof(r))
		r ^= (uint32_t)time(NULL);
	spec_base(&s, 0);
	s.sport = GW_NOSTATE_PORT;
	s.flags = F_ACK;
	s.seq = 0x11223344 + 1;
	s.ack = r;
	frame_build(f, &s);
}

static int gw_conn_add(int v6, uint16_t cport, uint8_t s_ws, const uint8_t *caddr, const uint8_t *saddr)
{
	struct xdpsyn_gw_key k;
	struct xdpsyn_gw_conn c;
	struct timespec now;

	memset(&k, 0, sizeof(k));
	memset(&c, 0, sizeof(c));
	k.family = v6 ? XDPSYN_V6 : XDPSYN_V4;
	gw_addr(k.caddr, v6, cli6, cli4, caddr);
	gw_addr(k.saddr, v6, srv6, srv4, saddr);
	k.cport = htons(cport);
	k.sport = htons(PORT_PROT);
	clock_gettime(CLOCK_MONOTONIC, &now);
	c.created_ns = c.last_ns = (uint64_t)now.tv_sec * 1000000000ull + (uint64_t)now.tv_nsec;
	c.state = XDPSYN_GW_ESTABLISHED;
	c.flags = XDPSYN_GW_C_TS | XDPSYN_GW_S_TS | XDPSYN_GW_C_SACK | XDPSYN_GW_S_SACK | XDPSYN_GW_C_WS |
		  XDPSYN_GW_S_WS;
	c.c_isn = 0x11223344;
	c.cookie = 0x55000000;
	c.seq_delta = GW_SEQ_DELTA;
	c.s_isn = c.cookie + c.seq_delta;
	c.ts_delta = GW_TS_DELTA;
	c.our_tsval = GW_CLI_TSECR - 100;
	c.c_tsval = GW_CLI_TSVAL;
	c.c_win = 502;
	c.c_mss = 1460;
	c.s_mss = 1460;
	c.c_ws = 7;
	c.g_ws = 7;
	c.s_ws = s_ws;
	return bpf_map__update_elem(gw->maps.xdpsyn_gw_conns, &k, sizeof(k), &c, sizeof(c), 0);
}

static int gw_configure(void)
{
	struct xdpsyn_config cfg = { .mss = { 1460, 1440 }, .window = 64240, .wscale = 7, .ttl = 64, .ecn = 1 };
	struct xdpsyn_key key;
	static struct xdpsyn_ports ports;
	struct xdpsyn_gw_prefix pfx;
	__u8 one = 1;
	__u32 zero = 0;
	int err = 0;

	cfg.gw_ifindex = cfg.gw_ifindex_c = 1; /* the fixture's loopback */
	cfg.gw_idle_s = XDPSYN_GW_IDLE_DEFAULT;
	cfg.gw_close_s = XDPSYN_GW_CLOSE_DEFAULT;
	cfg.gw_syn_timeout_s = XDPSYN_GW_SYN_TIMEOUT_DEFAULT;
	cfg.gw_flags = XDPSYN_GWCFG_ON | XDPSYN_GWCFG_PREFIXES;
	if (getrandom(&key, sizeof(key), 0) != sizeof(key))
		return -1;
	ports.bits[PORT_PROT / 64] |= 1ull << (PORT_PROT % 64);
	for (__u32 fam = 0; fam < XDPSYN_NFAMILIES; fam++)
		err |= bpf_map__update_elem(gw->maps.xdpsyn_ports, &fam, sizeof(fam), &ports, sizeof(ports), 0);
	err |= bpf_map__update_elem(gw->maps.xdpsyn_keys, &zero, sizeof(zero), &key, sizeof(key), 0);
	err |= bpf_map__update_elem(gw->maps.xdpsyn_config, &zero, sizeof(zero), &cfg, sizeof(cfg), 0);
	for (int v6 = 0; v6 < 2; v6++) {
		memset(&pfx, 0, sizeof(pfx));
		pfx.plen = 32 + (v6 ? 128 : 32); /* family and pad first */
		pfx.family = v6 ? XDPSYN_V6 : XDPSYN_V4;
		memcpy(pfx.addr, v6 ? srv6 : srv4, v6 ? 16 : 4);
		err |= bpf_map__update_elem(gw->maps.xdpsyn_gw_prefixes, &pfx, sizeof(pfx), &one, sizeof(one), 0);
		err |= gw_conn_add(v6, CLI_PORT, 7, NULL, NULL);
	}
	err |= gw_conn_add(0, GW_WS_PORT, 9, NULL, NULL);
	/* the forwarded rows: client -> fsrv4, fsrv4 -> fcli4 */
	memset(&pfx, 0, sizeof(pfx));
	pfx.plen = 32 + 32;
	pfx.family = XDPSYN_V4;
	memcpy(pfx.addr, fsrv4, 4);
	err |= bpf_map__update_elem(gw->maps.xdpsyn_gw_prefixes, &pfx, sizeof(pfx), &one, sizeof(one), 0);
	err |= gw_conn_add(0, CLI_PORT, 7, NULL, fsrv4);
	err |= gw_conn_add(0, CLI_PORT, 7, fcli4, fsrv4);
	return err ? -1 : 0;
}

/* The veths and routes of the forwarded rows, forwarding on (or off again):
 * only while the gateway rows run (local mode's rows run without). */
static int gw_net(int up)
{
	struct xdpsyn_config cfg;
	__u32 zero = 0;

	if (!up) {
		run_cmd("sysctl -qw net.ipv4.ip_forward=0");
		return 0;
	}
	run_cmd("ip link add xgc0 type veth peer name xgc1");
	run_cmd("ip link add xgs0 type veth peer name xgs1");
	run_cmd("ip link set xgc0 up && ip link set xgc1 up && ip link set xgs0 up && ip link set xgs1 up");
	run_cmd("ip route add 10.201.3.0/24 dev xgs0");
	run_cmd("ip neigh replace 10.201.3.1 lladdr 02:00:00:00:03:01 dev xgs0 nud permanent");
	run_cmd("ip route add 10.201.4.0/24 dev xgc0");
	run_cmd("ip neigh replace 10.201.4.7 lladdr 02:00:00:00:04:07 dev xgc0 nud permanent");
	run_cmd("sysctl -qw net.ipv4.ip_forward=1");
	if (bpf_map__lookup_elem(gw->maps.xdpsyn_config, &zero, sizeof(zero), &cfg, sizeof(cfg), 0))
		return -1;
	cfg.gw_ifindex = if_nametoindex("xgs0");
	cfg.gw_ifindex_c = if_nametoindex("xgc0");
	return bpf_map__update_elem(gw->maps.xdpsyn_config, &zero, sizeof(zero), &cfg, sizeof(cfg), 0);
}

/* Is OUT the translation of IN for row R? 1 with what was seen in WHAT, or
 * 0 with why not. */
static int gw_translated(const struct gwrow *r, const uint8_t *out, uint32_t out_len, char *what, size_t wl)
{
	struct parsed pi, po;
	uint32_t tv_i, te_i, tv_o, te_o;

	frame_parse(r->f.b, r->f.len, &pi);
	frame_parse(out, out_len, &po);
	if (!po.ok) {
		snprintf(what, wl, "output does not parse (%s)", po.why);
		return 0;
	}
	if (!po.ip_csum_ok || !po.tcp_csum_ok) {
		snprintf(what, wl, "output checksum wrong (IP %s, TCP %s)", po.ip_csum_ok ? "ok" : "bad",
			 po.tcp_csum_ok ? "ok" : "bad");
		return 0;
	}
	if (po.optlen != pi.optlen || po.payload != pi.payload || po.sport != pi.sport || po.dport != pi.dport ||
	    memcmp(po.saddr, pi.saddr, 16) || memcmp(po.daddr, pi.daddr, 16) || po.flags != pi.flags) {
		snprintf(what, wl, "output is not the same segment (tuple, flags, options or payload length changed)");
		return 0;
	}
	tv_i = rd32(pi.opts + 4), te_i = rd32(pi.opts + 8);
	tv_o = rd32(po.opts + 4), te_o = rd32(po.opts + 8);
	if (r->kind == GWK_C2S) {
		if (po.ack == pi.ack && te_o == te_i) {
			snprintf(what, wl, "verdict %s, ack and TSecr unchanged: not translated", vname(r->verdict));
			return 0;
		}
		if (po.seq != pi.seq || po.ack != pi.ack + GW_SEQ_DELTA || tv_o != tv_i || te_o != te_i + GW_TS_DELTA ||
		    po.window != pi.window) {
			snprintf(what, wl, "ack %+d (want %+d), TSecr %+d (want %+d), seq %+d, TSval %+d, window %u->%u",
				 (int)(po.ack - pi.ack), (int)GW_SEQ_DELTA, (int)(te_o - te_i), (int)GW_TS_DELTA,
				 (int)(po.seq - pi.seq), (int)(tv_o - tv_i), pi.window, po.window);
			return 0;
		}
		for (int i = 0; i < r->nsack; i++)
			for (int e = 0; e < 2; e++) {
				size_t at = 12 + 4 + 8 * (size_t)i + 4 * (size_t)e;
				uint32_t a = rd32(pi.opts + at), b = rd32(po.opts + at);

				if (b != a + GW_SEQ_DELTA) {
					snprintf(what, wl, "SACK block %d %s edge %+d (want %+d)", i + 1,
						 e ? "right" : "left", (int)(b - a), (int)GW_SEQ_DELTA);
					return 0;
				}
			}
		snprintf(what, wl, "ack +seq_delta, TSecr +ts_delta%s, checksums valid",
			 r->nsack ? ", SACK edges +seq_delta" : "");
		return 1;
	}
	/* server -> client */
	if (po.seq == pi.seq && tv_o == tv_i) {
		snprintf(what, wl, "verdict %s, seq and TSval unchanged: not translated", vname(r->verdict));
		return 0;
	}
	{
		uint32_t want_w = (uint32_t)pi.window << r->ws_shift;

		if (want_w > 65535)
			want_w = 65535;
		if (po.ack != pi.ack || po.seq != pi.seq - GW_SEQ_DELTA || tv_o != tv_i - GW_TS_DELTA ||
		    te_o != te_i || ((uint32_t)po.window + 1 < want_w || (uint32_t)po.window > want_w + 1)) {
			snprintf(what, wl, "seq %+d (want %+d), TSval %+d (want %+d), ack %+d, TSecr %+d, window %u->%u (want %u)",
				 (int)(po.seq - pi.seq), -(int)GW_SEQ_DELTA, (int)(tv_o - tv_i), -(int)GW_TS_DELTA,
				 (int)(po.ack - pi.ack), (int)(te_o - te_i), pi.window, po.window, want_w);
			return 0;
		}
	}
	snprintf(what, wl, "seq -seq_delta, TSval -ts_delta, window %u->%u, checksums valid", pi.window, po.window);
	return 1;
}

/* The gateway's cookie SYN-ACK: SYN|ACK, ack = ISN + 1, window 0, checksums. */
static int gw_synack_ok(const uint8_t *out, uint32_t out_len, char *what, size_t wl)
{
	struct parsed p;

	frame_parse(out, out_len, &p);
	if (!p.ok || !p.ip_csum_ok || !p.tcp_csum_ok || p.flags != (F_SYN | F_ACK) || p.ack != 0x11223344 + 1) {
		snprintf(what, wl, "not a SYN-ACK for this SYN with valid checksums");
		return 0;
	}
	if (p.window != 0) {
		snprintf(what, wl, "SYN-ACK window %u (gateway mode's is 0)", p.window);
		return 0;
	}
	snprintf(what, wl, "SYN-ACK, ack = ISN + 1, window 0, checksums valid");
	return 1;
}

static int gw_counters_moved; /* any gateway counter moved: the data path is there */

static void gw_counters_str(char *buf, size_t len, const uint64_t *d)
{
	buf[0] = 0;
	for (int i = 0; i < XDPSYN_CNT_MAX; i++)
		if (d[i])
			snprintf(buf + strlen(buf), len - strlen(buf), "%s%s +%llu", buf[0] ? ", " : "", cnt_names[i],
				 (unsigned long long)d[i]);
	if (!buf[0])
		snprintf(buf, len, "none");
}

static void gw_run_row(struct gwrow *r)
{
	int pfd = r->srv ? bpf_program__fd(gw->progs.xdpsyn_gw_srv_xdp) : bpf_program__fd(gw->progs.xdpsyn_gw_xdp);
	int efd = bpf_program__fd(fl->progs.floor_empty);
	int wrapped = r->kind == GWK_C2S || r->kind == GWK_S2C || r->kind == GWK_SYNACK;
	uint8_t out[FRAME_MAX];
	uint64_t before[XDPSYN_CNT_MAX], after[XDPSYN_CNT_MAX], d[XDPSYN_CNT_MAX];
	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = r->f.b, .data_size_in = (uint32_t)r->f.len, .data_out = out,
		    .data_size_out = sizeof(out), .repeat = 1);
	struct meas m, wrap_empty, empty;
	int good = 0, vok;

	stats_map = gw->maps.xdpsyn_stats;
	/* the check: one run */
	stats_read(before);
	if (bpf_prog_test_run_opts(pfd, &o)) {
		snprintf(r->what, sizeof(r->what), "BPF_PROG_TEST_RUN: %s", strerror(errno));
		goto out;
	}
	stats_read(after);
	for (int i = 0; i < XDPSYN_CNT_MAX; i++)
		if ((d[i] = after[i] - before[i]) && i >= XDPSYN_CNT_GW_NOT_SERVER && i <= XDPSYN_CNT_GW_FORWARD_KERNEL)
			gw_counters_moved = 1;
	gw_counters_str(r->counters, sizeof(r->counters), d);
	r->verdict = (int)o.retval;
	switch (r->kind) {
	case GWK_C2S:
	case GWK_S2C:
		/* forwarded by XDP (REDIRECT), or passed to the kernel's forwarding */
		vok = r->verdict == V_PASS || r->verdict == 4 /* XDP_REDIRECT */;
		good = vok && gw_translated(r, out, o.data_size_out, r->what, sizeof(r->what));
		if (!vok)
			snprintf(r->what, sizeof(r->what), "verdict %s (want PASS or REDIRECT)", vname(r->verdict));
		break;
	case GWK_SYNACK:
		good = r->verdict == V_TX && gw_synack_ok(out, o.data_size_out, r->what, sizeof(r->what));
		if (r->verdict != V_TX)
			snprintf(r->what, sizeof(r->what), "verdict %s (want TX, the cookie SYN-ACK)", vname(r->verdict));
		break;
	case GWK_DROP:
		/* no state and no valid cookie: the gateway's own counter, or
		 * local mode's invalid-cookie one */
		if (!d[r->counter] && d[XDPSYN_CNT_ACK_INVALID])
			r->counter = XDPSYN_CNT_ACK_INVALID;
		good = r->verdict == V_DROP && d[r->counter] == 1;
		snprintf(r->what, sizeof(r->what), good ? "dropped, %s +1" : "verdict %s, %s %+lld (want DROP, +1)",
			 good ? cnt_names[r->counter] : vname(r->verdict), cnt_names[r->counter],
			 (long long)d[r->counter]);
		break;
	case GWK_PASS:
		good = r->verdict == V_PASS && d[r->counter] == 1 && o.data_size_out == r->f.len &&
		       !memcmp(out, r->f.b, r->f.len);
		snprintf(r->what, sizeof(r->what), good ? "passed untouched, %s +1" :
			 "verdict %s, %s %+lld, frame %s (want PASS, +1, untouched)",
			 good ? cnt_names[r->counter] : vname(r->verdict), cnt_names[r->counter],
			 (long long)d[r->counter], o.data_size_out == r->f.len && !memcmp(out, r->f.b, r->f.len) ?
			 "untouched" : "changed");
		break;
	}
	if (good && r->counter >= 0 && d[r->counter] != 1) {
		snprintf(r->what + strlen(r->what), sizeof(r->what) - strlen(r->what), "; but %s +%llu (want +1)",
			 cnt_names[r->counter], (unsigned long long)d[r->counter]);
		good = 0;
	}
	/* the timing: the program's own time even when the check failed (the
	 * stub's), reported as such */
	measure(efd, &r->f, &empty);
	r->empty_ns = empty.ns;
	if (wrapped) {
		measure_wrapped(efd, &r->f, &wrap_empty);
		measure_wrapped(pfd, &r->f, &m);
		r->ns_raw = m.ns;
		r->ns = m.ns - wrap_empty.ns + empty.ns;
	} else {
		measure(pfd, &r->f, &m);
		r->ns_raw = r->ns = m.ns;
	}
	if (good && (!m.ok || m.verdict != r->verdict)) {
		snprintf(r->what, sizeof(r->what), "the timed runs' verdict %s differs from the checked run's %s",
			 vname(m.verdict), vname(r->verdict));
		good = 0;
	}
	if (good && r->counter >= 0 && m.delta[r->counter] != (uint64_t)repeat * trials) {
		snprintf(r->what, sizeof(r->what), "%s moved %llu times in %llu timed runs", cnt_names[r->counter],
			 (unsigned long long)m.delta[r->counter], (unsigned long long)repeat * trials);
		good = 0;
	}
out:
	stats_map = NULL;
	r->measured = good;
}

/* Returns the number of rows; fills rows. */
static int gw_rows(struct gwrow *rows)
{
	int n = 0;

#define GWROW(nm, s, k, c) (rows[n] = (struct gwrow){ .name = nm, .srv = s, .kind = k, .counter = c, \
		.prog_name = (s) ? "xdpsyn_gw_srv_xdp" : "xdpsyn_gw_xdp" }, &rows[n++])
	gw_c2s_frame(&GWROW("gw: client->server data v4 (TS)", 0, GWK_C2S, XDPSYN_CNT_GW_C2S)->f, 0, 0, NULL);
	gw_c2s_frame(&GWROW("gw: client->server data v6 (TS)", 0, GWK_C2S, XDPSYN_CNT_GW_C2S)->f, 1, 0, NULL);
	gw_c2s_frame(&GWROW("gw: client->server data v4 (TS), forwarded (XDP_REDIRECT)", 0, GWK_C2S,
			    XDPSYN_CNT_GW_C2S)->f, 0, 0, fsrv4);
	{
		struct gwrow *r = GWROW("gw: client->server v4 (TS, 1 SACK block)", 0, GWK_C2S, XDPSYN_CNT_GW_C2S);

		r->nsack = 1;
		gw_c2s_frame(&r->f, 0, 1, NULL);
		r = GWROW("gw: client->server v4 (TS, 3 SACK blocks)", 0, GWK_C2S, XDPSYN_CNT_GW_C2S);
		r->nsack = 3;
		gw_c2s_frame(&r->f, 0, 3, NULL);
	}
	gw_s2c_frame(&GWROW("gw: server->client data v4 (TS)", 1, GWK_S2C, XDPSYN_CNT_GW_S2C)->f, 0, CLI_PORT, NULL,
		     NULL);
	gw_s2c_frame(&GWROW("gw: server->client data v6 (TS)", 1, GWK_S2C, XDPSYN_CNT_GW_S2C)->f, 1, CLI_PORT, NULL,
		     NULL);
	gw_s2c_frame(&GWROW("gw: server->client data v4 (TS), forwarded (XDP_REDIRECT)", 1, GWK_S2C,
			    XDPSYN_CNT_GW_S2C)->f, 0, CLI_PORT, fsrv4, fcli4);
	{
		struct gwrow *r = GWROW("gw: server->client v4 (TS, window rescaled: server ws 9, client told 7)", 1,
					GWK_S2C, XDPSYN_CNT_GW_S2C);

		r->ws_shift = 2;
		gw_s2c_frame(&r->f, 0, GW_WS_PORT, NULL, NULL);
	}
	syn_frame(&GWROW("gw: SYN v4 to a protected server -> cookie SYN-ACK", 0, GWK_SYNACK,
			 XDPSYN_CNT_SYNACK_TX)->f, 0, PORT_PROT);
	gw_forged_frame(&GWROW("gw: forged ACK v4 (no state, bad cookie)", 0, GWK_DROP,
			       XDPSYN_CNT_GW_C2S_NO_STATE)->f);
	syn_frame(&GWROW("gw: unprotected port v4 (the floor)", 0, GWK_PASS, XDPSYN_CNT_UNPROTECTED)->f, 0,
		  PORT_OPEN);
#undef GWROW
	return n;
}

/* The gateway table, to stdout and md; rows to the TSV (xdpsyn_ns "-" when
 * not measured). */
static void gw_report(const struct gwrow *rows, int n, const char *load_err, FILE *md)
{
	FILE *outs[2] = { stdout, md };
	double floor_ns = -1;

	for (int i = 0; i < n; i++)
		if (rows[i].kind == GWK_PASS && rows[i].measured)
			floor_ns = rows[i].ns;
	for (int o = 0; o < 2; o++) {
		FILE *out = outs[o];

		if (!out)
			continue;
		fprintf(out, "\nGateway mode (bpf/xdpsyn_gw.bpf.c; ESTABLISHED entries with seq_delta 0x%x, ts_delta "
			     "0x%x; timestamps, SACK and window scaling both sides; %d-byte payloads):\n\n",
			GW_SEQ_DELTA, GW_TS_DELTA, GW_PAYLOAD);
		if (load_err) {
			fprintf(out, "Not measured: %s.\n", load_err);
			continue;
		}
		fprintf(out, "| path | program | verdict | ns/pkt | over the unprotected-port row ns | empty ns | checked | counters (check run) |\n"
			     "|---|---|---|---:|---:|---:|---|---|\n");
		for (int i = 0; i < n; i++) {
			const struct gwrow *r = &rows[i];

			if (r->measured)
			{
				char over[32] = "-";

				if (floor_ns >= 0 && r->kind != GWK_PASS)
					snprintf(over, sizeof(over), "%+.0f", r->ns - floor_ns);
				fprintf(out, "| %s | %s | %s | %.0f | %s | %.0f | %s | %s |\n", r->name, r->prog_name,
					vname(r->verdict), r->ns, over, r->empty_ns, r->what, r->counters);
			}
			else
				fprintf(out, "| %s | %s | %s | not measured: %s (the program ran in %.0f ns) | - | %.0f | - | %s |\n",
					r->name, r->prog_name, vname(r->verdict), r->what, r->ns, r->empty_ns, r->counters);
		}
		if (!gw_counters_moved)
			fprintf(out, "\nNo gateway counter moved in any row: the program is the stub of bpf/xdpsyn_gw.bpf.c "
				     "(every frame passed untouched), no data path yet; the times in the not-measured rows are "
				     "the stub's, not the paths'.\n");
		fprintf(out, "\nTranslated frames and the SYN: behind the restore wrapper, its cost subtracted, as the SYN rows "
			     "above. A translated frame's verdict says how it was forwarded: REDIRECT (bpf_fib_lookup + "
			     "XDP_REDIRECT: the \"forwarded\" rows, whose far end is routed out a veth of the fixture's "
			     "namespace with a permanent neighbour entry, forwarding on) or PASS (the kernel's "
			     "forwarding: the other rows, whose far end, 10.201.1.1 / fd00:201::1 or the client "
			     "10.201.2.7 / fd00:201::2:7, is an address of the fixture's loopback, so the FIB "
			     "lookup finds a local route).\n");
	}
}

static void usage(void)
{
	fprintf(stderr, "usage: bench_micro [--repeat N] [--trials N] [--md FILE] [--tsv FILE] [--smoke] [--cpu N]\n");
	exit(2);
}

int main(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "repeat", required_argument, NULL, 'r' }, { "trials", required_argument, NULL, 't' },
		{ "md", required_argument, NULL, 'm' },     { "smoke", no_argument, NULL, 's' },
		{ "cpu", required_argument, NULL, 'c' },    { "tsv", required_argument, NULL, 'v' },
		{ NULL, 0, NULL, 0 },
	};
	const char *md_path = NULL, *tsv_path = NULL;
	int cpu = -1, opt, l4, l6, lo4, est_fd, acc_fd;
	uint16_t est_port;
	FILE *md = NULL;
	struct path paths[32];
	int np = 0;
	struct drow drows[12];
	int nd = 0;
	struct bpf_link *xd_links[2] = { NULL, NULL };
	char disp_err[512] = ""; /* why the dispatcher rows are not measured */
	int disp_skip = 0;       /* the kernel refuses extension programs */
	char gw_err[256] = "";   /* why the gateway rows are not measured */
	struct gwrow gwr[16];
	int ngw = 0;
	cpu_set_t set;

	harness_prog = "bench_micro";

	while ((opt = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		switch (opt) {
		case 'r': repeat = (unsigned)strtoul(optarg, NULL, 0); break;
		case 't': trials = (unsigned)strtoul(optarg, NULL, 0); break;
		case 'm': md_path = optarg; break;
		case 's': smoke = 1; break;
		case 'c': cpu = atoi(optarg); break;
		case 'v': tsv_path = optarg; break;
		default: usage();
		}
	}
	if (smoke) {
		repeat = 1000;
		trials = 1;
	}
	if (!repeat || !trials || trials > 64)
		usage();
	if (geteuid() != 0) {
		fprintf(stderr, "bench_micro: must run as root (BPF, network namespace)\n");
		printf("0 passed, 1 failed\n");
		return 1;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	libbpf_set_print(libbpf_quiet);

	/* one core, the last, unless told */
	if (cpu < 0)
		cpu = (int)sysconf(_SC_NPROCESSORS_ONLN) - 1;
	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	if (sched_setaffinity(0, sizeof(set), &set))
		perror("bench_micro: sched_setaffinity (continuing unpinned)");

	netns_fixture(srv6, cli6);
	nproc = libbpf_num_possible_cpus();

	xs = xdpsyn__open();
	if (xs) {
		/* the entry that reads VLAN metadata loads only bound to a device */
		bpf_program__set_autoload(xs->progs.xdpsyn_xdp_vlan, false);
		xs->rodata->nr_cpus = (__u32)nproc;
		if (xdpsyn__load(xs)) {
			xdpsyn__destroy(xs);
			xs = NULL;
		}
	}
	/* the floors' wrapper deletes records from xdpsyn's own flow table */
	fl = floors__open();
	if (fl && xs && (bpf_map__reuse_fd(fl->maps.xdpsyn_flows, bpf_map__fd(xs->maps.xdpsyn_flows)) ||
			 floors__load(fl))) {
		floors__destroy(fl);
		fl = NULL;
	}
	/* the parts share the real program's maps (config, keys, sketch, flows) */
	pt = parts__open();
	if (pt && xs) {
		struct bpf_map *mine[] = { pt->maps.xdpsyn_config, pt->maps.xdpsyn_keys,
					   pt->maps.xdpsyn_ports, pt->maps.xdpsyn_stats,
					   pt->maps.xdpsyn_flows, pt->maps.xdpsyn_events,
					   pt->maps.xdpsyn_cms, pt->maps.xdpsyn_top };
		struct bpf_map *theirs[] = { xs->maps.xdpsyn_config, xs->maps.xdpsyn_keys,
					     xs->maps.xdpsyn_ports, xs->maps.xdpsyn_stats,
					     xs->maps.xdpsyn_flows, xs->maps.xdpsyn_events,
					     xs->maps.xdpsyn_cms, xs->maps.xdpsyn_top };

		for (size_t i = 0; i < sizeof(mine) / sizeof(mine[0]); i++)
			if (bpf_map__reuse_fd(mine[i], bpf_map__fd(theirs[i])))
				fprintf(stderr, "bench_micro: reusing map %s failed\n", bpf_map__name(mine[i]));
		if (parts__load(pt)) {
			parts__destroy(pt);
			pt = NULL;
		}
	}
	if (!pt)
		fprintf(stderr, "bench_micro: loading the parts object failed\n");
	/* the TC object shares every map of the XDP object (as attach does) */
	tcs = xs ? xdpsyn_tc__open() : NULL;
	if (tcs) {
		struct bpf_map *m;

		bpf_object__for_each_map(m, tcs->obj) {
			struct bpf_map *x = bpf_object__find_map_by_name(xs->obj, bpf_map__name(m));

			if (x && bpf_map__reuse_fd(m, bpf_map__fd(x)))
				fprintf(stderr, "bench_micro: reusing map %s failed\n", bpf_map__name(m));
		}
		if (xdpsyn_tc__load(tcs)) {
			xdpsyn_tc__destroy(tcs);
			tcs = NULL;
		}
	}
	/* the same program for the kernel-cookie hand-off, on the same maps
	 * (its SYN path makes the kernel's cookie: tcp_syncookies=2) */
	run_cmd("sysctl -qw net.ipv4.tcp_syncookies=2 net.ipv4.tcp_timestamps=2");
	xk = xs ? xdpsyn__open() : NULL;
	if (xk) {
		struct bpf_map *m;

		bpf_program__set_autoload(xk->progs.xdpsyn_xdp_vlan, false);
		xk->rodata->nr_cpus = (__u32)nproc;
		xk->rodata->handoff_mode = XDPSYN_HANDOFF_KCOOKIE;
		bpf_object__for_each_map(m, xk->obj) {
			struct bpf_map *x = bpf_map__is_internal(m) ? NULL :
					    bpf_object__find_map_by_name(xs->obj, bpf_map__name(m));

			if (x && bpf_map__reuse_fd(m, bpf_map__fd(x)))
				fprintf(stderr, "bench_micro: reusing map %s failed\n", bpf_map__name(m));
		}
		if (xdpsyn__load(xk)) {
			xdpsyn__destroy(xk);
			xk = NULL;
		}
	}
	/* the gateway object (issue 16), on maps of its own */
	gw = xdpsyn_gw__open();
	if (gw && xdpsyn_gw__load(gw)) {
		snprintf(gw_err, sizeof(gw_err), "loading the gateway object (build/xdpsyn_gw.bpf.o) failed: %s",
			 strerror(errno));
		xdpsyn_gw__destroy(gw);
		gw = NULL;
	} else if (!gw)
		snprintf(gw_err, sizeof(gw_err), "opening the gateway object failed: %s", strerror(errno));
	if (gw && gw_configure()) {
		snprintf(gw_err, sizeof(gw_err), "configuring the gateway maps (config, prefixes, state) failed: %s",
			 strerror(errno));
		xdpsyn_gw__destroy(gw);
		gw = NULL;
	}
	/* xdpsyn's XDP program once more, as an extension (freplace) of the
	 * bench dispatcher's slot, on the same maps; the empty extension.
	 * libbpf prints the verifier's log when the kernel refuses. */
	xd = xs && fl ? xdpsyn__open() : NULL;
	if (xd) {
		struct bpf_map *m;

		xd->rodata->nr_cpus = (__u32)nproc;
		/* only the entry that is measured */
		bpf_program__set_autoload(xd->progs.xdpsyn_xdp_vlan, false);
		bpf_program__set_autoload(xd->progs.xdpsyn_xdp_skb, false);
		bpf_object__for_each_map(m, xd->obj) {
			struct bpf_map *x = bpf_map__is_internal(m) ? NULL :
					    bpf_object__find_map_by_name(xs->obj, bpf_map__name(m));

			if (x && bpf_map__reuse_fd(m, bpf_map__fd(x)))
				fprintf(stderr, "bench_micro: reusing map %s failed\n", bpf_map__name(m));
		}
		/* the verifier's log, in full, when it refuses */
		static char xd_log[4 << 20];

		bpf_program__set_log_buf(xd->progs.xdpsyn_xdp, xd_log, sizeof(xd_log));
		bpf_program__set_log_level(xd->progs.xdpsyn_xdp, 1);
		/* SEC("xdp") set expected_attach_type BPF_XDP, which the
		 * kernel refuses (EINVAL, no log) for an extension */
		if (bpf_program__set_type(xd->progs.xdpsyn_xdp, BPF_PROG_TYPE_EXT) ||
		    bpf_program__set_expected_attach_type(xd->progs.xdpsyn_xdp, 0) ||
		    bpf_program__set_attach_target(xd->progs.xdpsyn_xdp,
						   bpf_program__fd(fl->progs.floor_disp_xs), "disp_slot0") ||
		    xdpsyn__load(xd)) {
			disp_skip = errno == EPERM;
			if (xd_log[0])
				fprintf(stderr, "bench_micro: xdpsyn as an extension: the verifier's log "
						"(%zu bytes):\n-- begin --\n%s\n-- end --\n", strlen(xd_log), xd_log);
			snprintf(disp_err, sizeof(disp_err), "the kernel refused xdpsyn's XDP program as an "
				 "extension (BPF_PROG_TYPE_EXT) of the dispatcher's slot: %s%s", strerror(errno),
				 !xd_log[0] ? " (no verifier log: refused before the verifier ran)" :
					      " (the verifier's log is on stderr)");
			xdpsyn__destroy(xd);
			xd = NULL;
		}
	}
	if (xd) {
		struct bpf_program *tgt[2] = { fl->progs.floor_disp_xs, fl->progs.floor_disp_xs_restore };

		for (int i = 0; i < 2 && !disp_err[0]; i++) {
			xd_links[i] = bpf_program__attach_freplace(xd->progs.xdpsyn_xdp,
								   bpf_program__fd(tgt[i]), "disp_slot0");
			if (!xd_links[i])
				snprintf(disp_err, sizeof(disp_err), "attaching xdpsyn to %s's disp_slot0: %s",
					 bpf_program__name(tgt[i]), strerror(errno));
		}
	}
	dx = xd && !disp_err[0] ? dispext__open() : NULL;
	if (dx && (bpf_program__set_attach_target(dx->progs.ext_pass, bpf_program__fd(fl->progs.floor_disp1),
						  "disp_slot0") ||
		   dispext__load(dx))) {
		snprintf(disp_err, sizeof(disp_err), "loading the empty extension: %s", strerror(errno));
		dispext__destroy(dx);
		dx = NULL;
	}
	if (xs && fl && !disp_err[0] && (!xd || !dx))
		snprintf(disp_err, sizeof(disp_err), "opening the extension objects failed");
	if (!xs || !fl || !pt || !tcs || !xk) {
		fprintf(stderr, "bench_micro: loading %s failed\n",
			!xs ? "xdpsyn" : !fl ? "floors" : !pt ? "parts" :
			!tcs ? "xdpsyn_tc" : "xdpsyn (kernel-cookie)");
		printf("0 passed, 1 failed\n");
		return 1;
	}
	xdpsyn_configure();
	l4 = listen_on(0, srv4, PORT_PROT);
	l6 = listen_on(1, srv6, PORT_PROT);
	lo4 = listen_on(0, srv4, PORT_OPEN);
	{
		static const uint8_t any[16];

		listen_on(0, any, PORT_WILD);
		listen_on(1, any, PORT_WILD);
	}
	est_fd = established_pair(cli4, srv4, PORT_PROT, l4, &est_port, &acc_fd);
	if (est_fd < 0 || acc_fd < 0) {
		perror("bench_micro: established connection");
		printf("0 passed, 1 failed\n");
		return 1;
	}
	(void)l6;
	(void)lo4;

	printf("bench_micro: repeat %u, %u trials (median), pinned to CPU %d\n", repeat, trials, cpu);
	if (md_path) {
		md = fopen(md_path, "w");
		if (!md) {
			perror(md_path);
			return 1;
		}
	}

#define PATH(nm, sy, v, c, fls, pr) \
	(paths[np] = (struct path){ .name = nm, .syn = sy, .want_verdict = v, .want_counter = c, \
				    .floors = fls, .primary = pr, \
				    .also = (c) == XDPSYN_CNT_SYNACK_TX ? XDPSYN_CNT_SYN : -1 }, \
	 &paths[np++])
#define B(x) (1u << (x))
	syn_frame(&PATH("SYN v4 -> SYN-ACK", 1, V_TX, XDPSYN_CNT_SYNACK_TX,
			B(FL_PARSE_PASS) | B(FL_SYNACK), FL_SYNACK)->f, 0, PORT_PROT);
	syn_frame(&PATH("SYN v6 -> SYN-ACK", 1, V_TX, XDPSYN_CNT_SYNACK_TX,
			B(FL_PARSE_PASS) | B(FL_SYNACK), FL_SYNACK)->f, 1, PORT_PROT);
	syn_frame(&PATH("SYN v4, wildcard listener", 1, V_TX, XDPSYN_CNT_SYNACK_TX,
			B(FL_PARSE_PASS) | B(FL_SYNACK), FL_SYNACK)->f, 0, PORT_WILD);
	syn_frame(&PATH("SYN v6, wildcard listener", 1, V_TX, XDPSYN_CNT_SYNACK_TX,
			B(FL_PARSE_PASS) | B(FL_SYNACK), FL_SYNACK)->f, 1, PORT_WILD);
	/* behind the wrapper, which deletes the record the last run wrote:
	 * every run is the handshake's first validation */
	PATH("valid ACK v4 (TS)", 1, V_PASS, XDPSYN_CNT_ACK_VALID, B(FL_PARSE_PASS) | B(FL_LOOKUP),
	     FL_LOOKUP)->delflow = 1;
	PATH("valid ACK v6 (TS)", 1, V_PASS, XDPSYN_CNT_ACK_VALID, B(FL_PARSE_PASS) | B(FL_LOOKUP),
	     FL_LOOKUP)->delflow = 1;
	PATH("valid ACK v4 (no TS)", 1, V_PASS, XDPSYN_CNT_ACK_VALID, B(FL_PARSE_PASS) | B(FL_LOOKUP),
	     FL_LOOKUP)->delflow = 1;
	forged_ack_frame(&PATH("forged ACK v4 (no TS)", 0, V_DROP, XDPSYN_CNT_ACK_INVALID,
			       B(FL_PARSE_DROP) | B(FL_LOOKUP), FL_LOOKUP)->f, 0, PORT_PROT);
	forged_ack_frame(&PATH("forged ACK v4 (TS, TSecr now)", 0, V_DROP, XDPSYN_CNT_ACK_INVALID,
			       B(FL_PARSE_DROP) | B(FL_LOOKUP), FL_LOOKUP)->f, 1, PORT_PROT);
	forged_ack_frame(&PATH("forged ACK v4, wildcard listener", 0, V_DROP, XDPSYN_CNT_ACK_INVALID,
			       B(FL_PARSE_DROP) | B(FL_LOOKUP), FL_LOOKUP)->f, 0, PORT_WILD);
	/* the kernel-cookie hand-off (kernels without the reqsk kfunc), on
	 * this kernel, which has both */
	{
		struct path *p;

		p = PATH("kernel-cookie: SYN v4 -> SYN-ACK", 1, V_TX, XDPSYN_CNT_SYNACK_TX,
			 B(FL_PARSE_PASS) | B(FL_SYNACK), FL_SYNACK);
		p->kc = 1;
		syn_frame(&p->f, 0, PORT_PROT);
		p = PATH("kernel-cookie: SYN v6 -> SYN-ACK", 1, V_TX, XDPSYN_CNT_SYNACK_TX,
			 B(FL_PARSE_PASS) | B(FL_SYNACK), FL_SYNACK);
		p->kc = 1;
		syn_frame(&p->f, 1, PORT_PROT);
		p = PATH("kernel-cookie: forged ACK v4 (no TS)", 0, V_DROP, XDPSYN_CNT_ACK_INVALID,
			 B(FL_PARSE_DROP) | B(FL_LOOKUP), FL_LOOKUP);
		p->kc = 1;
		forged_ack_frame(&p->f, 0, PORT_PROT);
	}
	established_frame(&PATH("established v4", 0, V_PASS, XDPSYN_CNT_ESTABLISHED,
				B(FL_PARSE_PASS) | B(FL_LOOKUP), FL_LOOKUP)->f, est_port);
	syn_frame(&PATH("unprotected port v4", 0, V_PASS, XDPSYN_CNT_UNPROTECTED,
			B(FL_PARSE_PASS), FL_PARSE_PASS)->f, 0, PORT_OPEN);
	udp_frame(&PATH("UDP v4 (non-TCP)", 0, V_PASS, XDPSYN_CNT_NOT_TCP, B(FL_PARSE_PASS),
			FL_PARSE_PASS)->f);
	/* the track and auto policies (issue 8) */
	{
		struct path *p;

		p = PATH("track: SYN v4, new handshake", 1, V_PASS, XDPSYN_CNT_TRACK_SYN,
			 B(FL_PARSE_PASS), FL_PARSE_PASS);
		p->also = XDPSYN_CNT_SYN;
		p->policy = XDPSYN_POLICY_TRACK;
		p->bump = 1;
		syn_frame(&p->f, 0, PORT_PROT);
		p = PATH("track: SYN v4, retransmitted", 0, V_PASS, XDPSYN_CNT_TRACK_SYN_RETRANS,
			 B(FL_PARSE_PASS), FL_PARSE_PASS);
		p->also = XDPSYN_CNT_SYN;
		p->policy = XDPSYN_POLICY_TRACK;
		hs_retrans_frame(&p->f);
		p = PATH("auto, tracking: SYN v4, new", 1, V_PASS, XDPSYN_CNT_TRACK_SYN,
			 B(FL_PARSE_PASS), FL_PARSE_PASS);
		p->also = XDPSYN_CNT_SYN;
		p->policy = XDPSYN_POLICY_AUTO;
		p->auto_state = XDPSYN_POLICY_TRACK;
		p->bump = 1;
		syn_frame(&p->f, 0, PORT_PROT);
		p = PATH("auto, proxying: SYN v4 -> SYN-ACK", 1, V_TX, XDPSYN_CNT_SYNACK_TX,
			 B(FL_PARSE_PASS) | B(FL_SYNACK), FL_SYNACK);
		p->policy = XDPSYN_POLICY_AUTO;
		p->auto_state = XDPSYN_POLICY_PROXY;
		syn_frame(&p->f, 0, PORT_PROT);
		/* after "retransmitted" made the record: every run is a
		 * SYN-ACK retransmission of a tracked handshake */
		p = PATH("TC egress: SYN-ACK, tracked", 0, V_TC_NEXT, XDPSYN_CNT_TRACK_SYNACK_RETRANS,
			 B(FL_TC_EMPTY), FL_TC_EMPTY);
		p->egress = 1;
		server_frame(&p->f, 1);
		p = PATH("TC egress: data segment", 0, V_TC_NEXT, -1, B(FL_TC_EMPTY), FL_TC_EMPTY);
		p->egress = 1;
		server_frame(&p->f, 0);
	}

	for (int i = 0; i < np; i++) {
		struct path *p = &paths[i];

		/* a fresh cookie right before its run: valid for >= 68 s */
		if (p->want_counter == XDPSYN_CNT_ACK_VALID &&
		    valid_ack_frame(&p->f, strstr(p->name, "v6") != NULL,
				    strstr(p->name, "no TS") == NULL)) {
			check(0, "%s: could not make a SYN-ACK to answer", p->name);
			continue;
		}
		run_path(p);
	}
	/* behind a dispatcher: a few paths, and the mechanism alone. Where
	 * the kernel refuses extension programs at all (this machine's 6.18
	 * refuses BPF_PROG_TYPE_EXT and fentry programs with EPERM before the
	 * verifier runs), the rows are skipped and the table says why; a
	 * refusal after loading (attach, a run) is a failure. */
	if (disp_skip)
		printf("skip dispatcher rows: %s\n", disp_err);
	else if (disp_err[0])
		check(0, "dispatcher: %s", disp_err);
	else {
		static const char *which[] = { "SYN v4 -> SYN-ACK", "SYN v6 -> SYN-ACK", "forged ACK v4 (no TS)",
					       "established v4", "unprotected port v4" };
		int ndirect = np;

		for (size_t w = 0; w < sizeof(which) / sizeof(which[0]); w++)
			for (int i = 0; i < ndirect; i++)
				if (paths[i].valid && !strcmp(paths[i].name, which[w])) {
					static char rown[8][96];
					struct path *row = &paths[np++];

					run_disp_path(&paths[i], &drows[nd], row);
					snprintf(rown[w], sizeof(rown[w]), "%s, behind a dispatcher (freplace)",
						 paths[i].name);
					row->name = rown[w];
					nd++;
				}
		nd += run_disp_mechanism(&drows[nd]);
	}
	/* gateway mode (issue 16), in the same run */
	if (gw && gw_net(1)) {
		check(0, "gateway rows: setting the forwarded rows' ifindexes in the config: %s", strerror(errno));
		xdpsyn_gw__destroy(gw);
		gw = NULL;
		snprintf(gw_err, sizeof(gw_err), "the config update failed");
	}
	if (gw) {
		ngw = gw_rows(gwr);
		for (int i = 0; i < ngw; i++) {
			gw_run_row(&gwr[i]);
			if (gwr[i].measured)
				printf("ok   %-66s verdict %s, %.0f ns/packet (%s; counters %s)\n", gwr[i].name,
				       vname(gwr[i].verdict), gwr[i].ns, gwr[i].what, gwr[i].counters);
			else
				printf("skip %-66s not measured: %s (the program ran in %.0f ns, not this path; counters %s)\n",
				       gwr[i].name, gwr[i].what, gwr[i].ns, gwr[i].counters);
			if (gwr[i].measured)
				passed++;
		}
		/* with the data path there (its counters move), a row whose
		 * check fails is a failure; with the stub it is only not measured */
		for (int i = 0; i < ngw && gw_counters_moved; i++)
			if (!gwr[i].measured)
				check(0, "gateway %s: %s", gwr[i].name, gwr[i].what);
		gw_net(0);
	} else
		check(0, "gateway rows: %s", gw_err);
	if (md)
		fprintf(md, "Notes from the run:\n\n");
	evidence(&paths[0].f, md);
	breakdown(paths, np, md);

	/* the table */
	{
		FILE *outs[2] = { stdout, md };

		for (int o = 0; o < 2; o++) {
			FILE *out = outs[o];

			if (!out)
				continue;
			fprintf(out, "\n| path | verdict | xdpsyn ns/pkt | Mpps/core | floor | floor ns | "
				     "ratio | over floor ns | other floors (ns) |\n"
				     "|---|---|---:|---:|---|---:|---:|---:|---|\n");
			for (int i = 0; i < np; i++) {
				struct path *p = &paths[i];
				char others[160] = "";

				if (!p->valid)
					continue;
				for (int id = 0; id < FL_MAX; id++)
					if (id != p->primary && (id == FL_EMPTY || p->floors & (1u << id)))
						snprintf(others + strlen(others), sizeof(others) - strlen(others),
							 "%s%s %.0f", others[0] ? ", " : "", floor_names[id],
							 p->fns[id]);
				fprintf(out, "| %s | %s | %.0f | %.2f | %s | %.0f | %.2f | %.0f | %s |\n",
					p->name, pvname(p->egress, p->want_verdict), p->ns, 1000.0 / p->ns,
					floor_names[p->primary], p->fns[p->primary],
					p->ns / p->fns[p->primary], p->ns - p->fns[p->primary], others);
			}
			fprintf(out, "\nSYN and valid-ACK rows: measured behind the restore wrapper, its cost subtracted "
				     "(T(wrapper->prog) - T(wrapper->empty) + T(empty)); the SYN-ACK floor the same "
				     "way. For the valid ACKs the wrapper also deletes the flow record the last run wrote "
				     "(xdpsyn keeps one per handshake), so each run is a first validation; the baseline "
				     "deletes a missing key, a little cheaper.\nReference (DESIGN.md, same machine, not re-measured here): kernel selftest "
				     "xdp_synproxy about 390 ns/SYN and 180 ns/forged ACK.\n");
			if (nd)
				fprintf(out, "\nBehind a dispatcher: the rows \"..., behind a dispatcher (freplace)\" run "
					     "xdpsyn's XDP program loaded as an extension (BPF_PROG_TYPE_EXT) in the slot of a "
					     "dispatcher of libxdp's shape (bench/floors.bpf.c floor_disp*), on the same maps and "
					     "frames; they come from the table below, whose trials interleave the direct "
					     "program, the dispatched one and their baselines (every program once per trial, "
					     "in turn), so its direct column is a second measurement of the rows above.\n\n"
					     "| path | verdict | direct ns/pkt | behind the dispatcher ns/pkt | difference ns | ratio |\n"
					     "|---|---|---:|---:|---:|---:|\n");
			for (int i = 0; i < nd; i++) {
				struct drow *r = &drows[i];
				char direct[96];

				if (r->direct_what)
					snprintf(direct, sizeof(direct), "%.0f (%s)", r->direct, r->direct_what);
				else
					snprintf(direct, sizeof(direct), "%.0f", r->direct);
				fprintf(out, "| %s | %s | %s | %.0f | %+.0f | %.2f |\n", r->name, r->verdict, direct,
					r->disp, r->disp - r->direct, r->direct > 0 ? r->disp / r->direct : 0);
			}
			if (disp_err[0])
				fprintf(out, "\nBehind a dispatcher: not measured: %s.\n", disp_err);
			if (nd)
				fprintf(out, "\nSYN rows: direct = T(wrapper->xdpsyn) - T(wrapper->empty) + T(empty) as above; "
					     "behind the dispatcher = T(restore, dispatcher->xdpsyn) - T(restore, XDP_PASS) + "
					     "T(empty): the same restore code, without the tail call (the kernel refuses an "
					     "extended program as a tail call target).\n");
		}
	}
	gw_report(gwr, ngw, gw ? NULL : gw_err, md);
	if (md)
		fclose(md);
	if (tsv_path) {
		FILE *t = fopen(tsv_path, "w");

		if (!t) {
			perror(tsv_path);
			return 1;
		}
		fprintf(t, "path\tverdict\txdpsyn_ns");
		for (int id = 0; id < FL_MAX; id++)
			fprintf(t, "\t%s", floor_keys[id]);
		fprintf(t, "\tprimary\n");
		for (int i = 0; i < np; i++) {
			struct path *p = &paths[i];

			if (!p->valid)
				continue;
			fprintf(t, "%s\t%s\t%.0f", p->name, pvname(p->egress, p->want_verdict), p->ns);
			for (int id = 0; id < FL_MAX; id++) {
				if (id == FL_EMPTY || p->floors & (1u << id))
					fprintf(t, "\t%.0f", p->fns[id]);
				else
					fprintf(t, "\t-");
			}
			fprintf(t, "\t%s\n", floor_keys[p->primary]);
		}
		/* gateway rows: their own time ("-" when not measured), the empty
		 * program's on the same frame */
		for (int i = 0; i < ngw; i++) {
			fprintf(t, gwr[i].measured ? "%s\t%s\t%.0f" : "%s\t%s\t-", gwr[i].name, vname(gwr[i].verdict),
				gwr[i].ns);
			for (int id = 0; id < FL_MAX; id++)
				fprintf(t, id == FL_EMPTY ? "\t%.0f" : "\t-", gwr[i].empty_ns);
			fprintf(t, "\tempty\n");
		}
		fclose(t);
	}
	printf("%d passed, %d failed\n", passed, failed);
	return failed ? 1 : 0;
}
