// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Gateway mode's data path under BPF_PROG_TEST_RUN (bpf/xdpsyn_gw.bpf.c):
 * every step of a connection through the gateway, for each client option
 * set, IPv4 and IPv6, judged by an independent reading of the frames
 * (tests/unit/frame.c): the cookie SYN-ACK (window 0, what the server is
 * known to agree to), the final ACK rebuilt into the client's SYN, the
 * server's SYN-ACK spliced in TC into the client's window update, both
 * directions translated (seq, ack, SACK, timestamps, window scale) with
 * valid checksums, and the state's end. Then the refusals: forged ACKs,
 * not a server, no state, a full table; the window probe, the server's
 * RST, checksums left to offload, connections older than the attach.
 * Prints "ok   NAME" / "FAIL NAME: why", then "N passed, N failed".
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "xdpsyn.h"
#include "xdpsyn_gw.skel.h"
#include "frame.h"
#define HARNESS_CHECKS
#include "harness.h"

#define XDP_DROP_ 1
#define XDP_PASS_ 2
#define XDP_TX_ 3
#define TC_OK_ 0
#define PORT 80
#define CONNS_MAX 16
#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

static struct xdpsyn_gw *skel;
static int c_fd, s_fd, tc_fd, nproc;
static const uint8_t srv4[4] = { 10, 201, 1, 1 }, cli4[4] = { 10, 201, 2, 7 };
static const uint8_t other4[4] = { 10, 201, 9, 9 };
static uint8_t srv6[16], cli6[16];
static const uint8_t cli_mac[6] = { 0x02, 0, 0, 0, 0, 0x02 };
static const uint8_t gw_mac[6] = { 0x02, 0, 0, 0, 0, 0x01 };
static const uint8_t srv_mac[6] = { 0x02, 0, 0, 0, 0, 0x03 };
static const uint8_t key[16] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16 };
static struct xdpsyn_config cfg;
static uint16_t next_port = 40000;

static const char *cnt_names[] = {
#define N(name, help) #name,
	XDPSYN_COUNTERS(N)
#undef N
};

/* ---- running frames ------------------------------------------------------ */

struct result {
	int verdict;
	uint8_t out[FRAME_MAX];
	uint32_t out_len;
	uint64_t delta[XDPSYN_CNT_MAX];
	struct parsed p;
};

static int run(int fd, const struct frame *f, struct result *r)
{
	uint64_t before[XDPSYN_CNT_MAX], after[XDPSYN_CNT_MAX];
	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = f->b, .data_size_in = (uint32_t)f->len,
		    .data_out = r->out, .data_size_out = sizeof(r->out), .repeat = 1);

	stats_sum(skel->maps.xdpsyn_stats, nproc, before);
	if (bpf_prog_test_run_opts(fd, &o))
		return check(0, "BPF_PROG_TEST_RUN: %s", strerror(errno)), -1;
	stats_sum(skel->maps.xdpsyn_stats, nproc, after);
	r->verdict = (int)o.retval;
	r->out_len = o.data_size_out;
	for (int i = 0; i < XDPSYN_CNT_MAX; i++)
		r->delta[i] = after[i] - before[i];
	frame_parse(r->out, r->out_len, &r->p);
	return 0;
}

/* Counter C moved by N (and the counters in ALSO by theirs). */
static void check_count(const struct result *r, int c, uint64_t n)
{
	check(r->delta[c] == n, "counter %s moved by %llu, want %llu", cnt_names[c],
	      (unsigned long long)r->delta[c], (unsigned long long)n);
}

/* ---- TCP options, written and read independently of the BPF ------------ */

struct opts {
	uint16_t mss;
	int ws;        /* -1: none */
	int sack_ok;
	int ts;
	uint32_t tsval, tsecr;
	uint32_t sack[4][2];
	int nsack;
};

static size_t opts_write(const struct opts *o, uint8_t *b)
{
	size_t n = 0;

	if (o->mss) {
		b[n++] = 2; b[n++] = 4; b[n++] = o->mss >> 8; b[n++] = o->mss & 0xff;
	}
	if (o->sack_ok && o->ts) {
		b[n++] = 4; b[n++] = 2;
	} else if (o->ts) {
		b[n++] = 1; b[n++] = 1;
	}
	if (o->ts) {
		b[n++] = 8; b[n++] = 10;
		for (int i = 3; i >= 0; i--)
			b[n++] = o->tsval >> (8 * i);
		for (int i = 3; i >= 0; i--)
			b[n++] = o->tsecr >> (8 * i);
	} else if (o->sack_ok) {
		b[n++] = 1; b[n++] = 1; b[n++] = 4; b[n++] = 2;
	}
	if (o->ws >= 0) {
		b[n++] = 1; b[n++] = 3; b[n++] = 3; b[n++] = (uint8_t)o->ws;
	}
	if (o->nsack) {
		b[n++] = 1; b[n++] = 1; b[n++] = 5; b[n++] = (uint8_t)(2 + 8 * o->nsack);
		for (int k = 0; k < o->nsack; k++)
			for (int e = 0; e < 2; e++)
				for (int i = 3; i >= 0; i--)
					b[n++] = o->sack[k][e] >> (8 * i);
	}
	return n;
}

static uint32_t be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void opts_read(const struct parsed *p, struct opts *o)
{
	memset(o, 0, sizeof(*o));
	o->ws = -1;
	for (size_t i = 0; i < p->optlen;) {
		uint8_t k = p->opts[i], l;

		if (k == 0)
			break;
		if (k == 1) {
			i++;
			continue;
		}
		if (i + 1 >= p->optlen || (l = p->opts[i + 1]) < 2 || i + l > p->optlen)
			break;
		if (k == 2 && l == 4)
			o->mss = (uint16_t)(p->opts[i + 2] << 8 | p->opts[i + 3]);
		else if (k == 3 && l == 3)
			o->ws = p->opts[i + 2];
		else if (k == 4 && l == 2)
			o->sack_ok = 1;
		else if (k == 8 && l == 10) {
			o->ts = 1;
			o->tsval = be32(p->opts + i + 2);
			o->tsecr = be32(p->opts + i + 6);
		} else if (k == 5) {
			o->nsack = (l - 2) / 8;
			for (int b = 0; b < o->nsack && b < 4; b++) {
				o->sack[b][0] = be32(p->opts + i + 2 + 8 * b);
				o->sack[b][1] = be32(p->opts + i + 6 + 8 * b);
			}
		}
		i += l;
	}
}

/* ---- frames ---------------------------------------------------------------- */

/* A segment from the client (c2s) or from the server, on PORT. */
static void seg(struct frame *f, int v6, int c2s, uint16_t cport, uint8_t flags,
		uint32_t seq, uint32_t ack, uint16_t win, const struct opts *o,
		size_t payload)
{
	struct spec s = { .v6 = v6, .flags = flags, .seq = seq, .ack = ack,
			  .window = win, .payload = payload };
	uint8_t ob[40];
	const uint8_t *ca = v6 ? cli6 : cli4, *sa = v6 ? srv6 : srv4;
	size_t al = v6 ? 16 : 4;

	memcpy(s.smac, c2s ? cli_mac : srv_mac, 6);
	memcpy(s.dmac, gw_mac, 6);
	memcpy(s.saddr, c2s ? ca : sa, al);
	memcpy(s.daddr, c2s ? sa : ca, al);
	s.sport = c2s ? cport : PORT;
	s.dport = c2s ? PORT : cport;
	if (o) {
		s.optlen = opts_write(o, ob);
		s.opts = ob;
	}
	frame_build(f, &s);
}

static int conn_get(int v6, uint16_t cport, struct xdpsyn_gw_conn *v)
{
	struct xdpsyn_gw_key k = { .family = v6 ? XDPSYN_V6 : XDPSYN_V4 };

	memcpy(k.caddr, v6 ? cli6 : cli4, v6 ? 16 : 4);
	memcpy(k.saddr, v6 ? srv6 : srv4, v6 ? 16 : 4);
	k.cport = htons(cport);
	k.sport = htons(PORT);
	return bpf_map__lookup_elem(skel->maps.xdpsyn_gw_conns, &k, sizeof(k), v, sizeof(*v), 0);
}

static void conn_put(int v6, uint16_t cport, const struct xdpsyn_gw_conn *v)
{
	struct xdpsyn_gw_key k = { .family = v6 ? XDPSYN_V6 : XDPSYN_V4 };

	memcpy(k.caddr, v6 ? cli6 : cli4, v6 ? 16 : 4);
	memcpy(k.saddr, v6 ? srv6 : srv4, v6 ? 16 : 4);
	k.cport = htons(cport);
	k.sport = htons(PORT);
	if (bpf_map__update_elem(skel->maps.xdpsyn_gw_conns, &k, sizeof(k), v, sizeof(*v), 0))
		check(0, "state insert: %s", strerror(errno));
}

static void server_put(int v6, const struct xdpsyn_gw_server *s)
{
	struct xdpsyn_gw_server_key k = { .family = v6 ? XDPSYN_V6 : XDPSYN_V4,
					  .port = htons(PORT) };

	memcpy(k.addr, v6 ? srv6 : srv4, v6 ? 16 : 4);
	if (s)
		bpf_map__update_elem(skel->maps.xdpsyn_gw_servers, &k, sizeof(k), s, sizeof(*s), 0);
	else
		bpf_map__delete_elem(skel->maps.xdpsyn_gw_servers, &k, sizeof(k), 0);
}

static int server_get(int v6, struct xdpsyn_gw_server *s)
{
	struct xdpsyn_gw_server_key k = { .family = v6 ? XDPSYN_V6 : XDPSYN_V4,
					  .port = htons(PORT) };

	memcpy(k.addr, v6 ? srv6 : srv4, v6 ? 16 : 4);
	return bpf_map__lookup_elem(skel->maps.xdpsyn_gw_servers, &k, sizeof(k), s, sizeof(*s), 0);
}

static void conns_clear(void)
{
	struct xdpsyn_gw_key k, next;
	int fd = bpf_map__fd(skel->maps.xdpsyn_gw_conns);

	while (!bpf_map_get_next_key(fd, NULL, &next)) {
		k = next;
		bpf_map_delete_elem(fd, &k);
	}
}

static void cfg_put(void)
{
	__u32 zero = 0;

	if (bpf_map__update_elem(skel->maps.xdpsyn_config, &zero, sizeof(zero), &cfg, sizeof(cfg), 0)) {
		perror("config");
		exit(1);
	}
}

static uint64_t mono_coarse_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* The cookie table's MSS for a client's MSS (README "Cookie format"). */
static uint16_t table_mss(int v6, uint16_t mss)
{
	static const uint16_t t4[] = { 536, 1300, 1440, 1460 }, t6[] = { 1220, 1420, 1440, 8940 };
	const uint16_t *t = v6 ? t6 : t4;
	uint16_t m = t[0];

	for (int i = 0; i < 4; i++)
		if (t[i] <= mss)
			m = t[i];
	return m;
}

/* ---- one connection through the gateway, step by step -------------------- */

static const struct optset {
	const char *name;
	struct opts o;     /* the client's SYN */
	int ecn;
} optsets[] = {
	{ "Linux options", { .mss = 1460, .ws = 10, .sack_ok = 1, .ts = 1 }, 0 },
	{ "ECN, Linux options", { .mss = 1460, .ws = 10, .sack_ok = 1, .ts = 1 }, 1 },
	{ "no timestamps", { .mss = 1400, .ws = 7, .sack_ok = 1 }, 0 },
	{ "timestamps only", { .mss = 1460, .ws = -1, .ts = 1 }, 0 },
	{ "MSS only", { .mss = 1380, .ws = -1 }, 0 },
	{ "window scale only", { .mss = 1460, .ws = 14 }, 0 },
};

/* What the server answers our SYN with, in the splice step. */
static const struct opts server_opts = { .mss = 1400, .ws = 8, .sack_ok = 1, .ts = 1 };
#define SRV_ISN 0x7a000000u
#define SRV_TS 0x50000000u
#define SRV_WIN 65160

static void connection(int v6, const struct optset *os)
{
	const struct opts *co = &os->o;
	struct opts so, ao, got;
	struct result r;
	struct frame f;
	struct xdpsyn_gw_conn v;
	struct xdpsyn_gw_server sv;
	uint16_t cport = next_port++;
	uint32_t isn = 0x10000000u + cport, cookie, our_ts = 0, cts = 0x1000;
	char name[160];
	uint8_t syn_flags = F_SYN | (os->ecn ? F_ECE | F_CWR : 0);
	uint16_t want_mss;
	int g_ws;

	/* 1. the SYN: a cookie SYN-ACK, window 0 */
	snprintf(name, sizeof(name), "%s %s: SYN answered with a cookie SYN-ACK, window 0",
		 v6 ? "v6" : "v4", os->name);
	so = *co;
	so.tsval = cts;
	seg(&f, v6, 1, cport, syn_flags, isn, 0, 64240, &so, 0);
	if (run(c_fd, &f, &r))
		return report(name);
	opts_read(&r.p, &got);
	want_mss = co->mss < cfg.mss[v6] ? co->mss : cfg.mss[v6];
	check(r.verdict == XDP_TX_, "verdict %d, want XDP_TX", r.verdict);
	check(r.p.ok && r.p.tcp_csum_ok && (v6 || r.p.ip_csum_ok), "SYN-ACK unreadable or bad checksum: %s", r.p.why);
	check(r.p.flags == (F_SYN | F_ACK | (os->ecn ? F_ECE : 0)), "flags %#x", r.p.flags);
	check(r.p.window == 0, "window %u, want 0 (the client waits for the server)", r.p.window);
	check(r.p.ack == isn + 1, "ack %u, want %u", r.p.ack, isn + 1);
	check(got.mss == want_mss, "MSS %u, want %u", got.mss, want_mss);
	check(got.sack_ok == co->sack_ok, "SACK_PERM %d, want %d", got.sack_ok, co->sack_ok);
	check(got.ts == co->ts && (!co->ts || got.tsecr == cts), "TS %d ecr %u", got.ts, got.tsecr);
	check(got.ws == (co->ws >= 0 ? cfg.wscale : -1), "window scale %d, want %d", got.ws,
	      co->ws >= 0 ? cfg.wscale : -1);
	check_count(&r, XDPSYN_CNT_SYNACK_TX, 1);
	report(name);
	cookie = r.p.seq;
	our_ts = got.tsval;
	g_ws = got.ws;

	/* 2. the final ACK: state, and the client's SYN to the server */
	snprintf(name, sizeof(name), "%s %s: final ACK becomes the client's SYN to the server",
		 v6 ? "v6" : "v4", os->name);
	memset(&ao, 0, sizeof(ao));
	ao.ws = -1;
	ao.ts = co->ts;
	ao.tsval = cts + 1;
	ao.tsecr = our_ts;
	seg(&f, v6, 1, cport, F_ACK, isn + 1, cookie + 1, 502, co->ts ? &ao : NULL, 0);
	if (run(c_fd, &f, &r))
		return report(name);
	opts_read(&r.p, &got);
	check(r.verdict == XDP_PASS_, "verdict %d, want XDP_PASS", r.verdict);
	check(r.p.ok && r.p.tcp_csum_ok && (v6 || r.p.ip_csum_ok), "SYN unreadable or bad checksum: %s", r.p.why);
	check(r.p.flags == syn_flags, "flags %#x, want %#x", r.p.flags, syn_flags);
	check(r.p.seq == isn && r.p.ack == 0, "seq %u ack %u, want %u 0", r.p.seq, r.p.ack, isn);
	check(r.p.payload == 0, "payload %zu", r.p.payload);
	check(!memcmp(r.p.saddr, v6 ? cli6 : cli4, v6 ? 16 : 4) && r.p.sport == cport,
	      "not from the client's address and port");
	check(got.mss == table_mss(v6, want_mss), "MSS %u, want the cookie's %u", got.mss,
	      table_mss(v6, want_mss));
	check(got.sack_ok == co->sack_ok, "SACK_PERM %d, want %d", got.sack_ok, co->sack_ok);
	check(got.ts == co->ts && (!co->ts || (got.tsval == cts + 1 && got.tsecr == 0)),
	      "TS %d val %u ecr %u, want the client's TSval", got.ts, got.tsval, got.tsecr);
	check(got.ws == co->ws, "window scale %d, want the client's %d", got.ws, co->ws);
	check(r.p.window == (co->ws >= 0 ? (502u << co->ws > 65535 ? 65535 : 502u << co->ws) : 502),
	      "window %u: not the client's, unscaled", r.p.window);
	check_count(&r, XDPSYN_CNT_ACK_VALID, 1);
	check_count(&r, XDPSYN_CNT_GW_CONN_NEW, 1);
	check(!conn_get(v6, cport, &v) && v.state == XDPSYN_GW_SYN_SENT && v.cookie == cookie &&
	      v.c_isn == isn, "no state in SYN_SENT with the cookie and the ISN");
	report(name);

	/* 3. the server's SYN-ACK in TC: the client's window update */
	snprintf(name, sizeof(name), "%s %s: server SYN-ACK becomes the client's window update",
		 v6 ? "v6" : "v4", os->name);
	so = server_opts;
	so.sack_ok = co->sack_ok;
	so.ts = co->ts;
	so.ws = co->ws >= 0 ? server_opts.ws : -1;
	so.tsval = SRV_TS;
	so.tsecr = cts + 1;
	seg(&f, v6, 0, cport, F_SYN | F_ACK | (os->ecn ? F_ECE : 0), SRV_ISN, isn + 1, SRV_WIN, &so, 0);
	if (run(tc_fd, &f, &r))
		return report(name);
	opts_read(&r.p, &got);
	check(r.verdict == TC_OK_, "verdict %d, want TC_ACT_OK", r.verdict);
	check(r.p.ok && r.p.tcp_csum_ok && (v6 || r.p.ip_csum_ok), "unreadable or bad checksum: %s", r.p.why);
	check(r.p.flags == F_ACK, "flags %#x, want ACK", r.p.flags);
	check(r.p.seq == cookie + 1 && r.p.ack == isn + 1, "seq %u ack %u, want %u %u",
	      r.p.seq, r.p.ack, cookie + 1, isn + 1);
	check(!memcmp(r.p.saddr, v6 ? srv6 : srv4, v6 ? 16 : 4) && r.p.dport == cport,
	      "not from the server to the client");
	{
		uint32_t w = g_ws >= 0 ? SRV_WIN >> g_ws : SRV_WIN;

		check(r.p.window == w, "window %u, want %u (the server's, in our scale)", r.p.window, w);
	}
	check(!co->ts || (got.ts && got.tsval == our_ts && got.tsecr == cts + 1),
	      "TS %d val %u ecr %u, want %u %u", got.ts, got.tsval, got.tsecr, our_ts, cts + 1);
	check_count(&r, XDPSYN_CNT_GW_SERVER_SYNACK, 1);
	check(!conn_get(v6, cport, &v) && v.state == XDPSYN_GW_ESTABLISHED &&
	      v.s_isn == SRV_ISN && v.seq_delta == SRV_ISN - cookie,
	      "state not ESTABLISHED with the server's ISN");
	check(!server_get(v6, &sv) && sv.flags & XDPSYN_GW_SRV_LEARNED && sv.mss == server_opts.mss &&
	      (co->ws < 0 || sv.ws == server_opts.ws), "server's options not learned");
	report(name);

	/* 4. client -> server: ack, TSecr (and SACK blocks) translated */
	snprintf(name, sizeof(name), "%s %s: client data translated to the server",
		 v6 ? "v6" : "v4", os->name);
	memset(&ao, 0, sizeof(ao));
	ao.ws = -1;
	ao.ts = co->ts;
	ao.tsval = cts + 2;
	ao.tsecr = our_ts + 7;
	if (co->sack_ok) {
		ao.nsack = 2;
		ao.sack[0][0] = cookie + 3001; ao.sack[0][1] = cookie + 4001;
		ao.sack[1][0] = cookie + 5001; ao.sack[1][1] = cookie + 6001;
	}
	seg(&f, v6, 1, cport, F_ACK | F_PSH, isn + 1, cookie + 1001, 502, &ao, 100);
	if (run(c_fd, &f, &r))
		return report(name);
	opts_read(&r.p, &got);
	check(r.verdict == XDP_PASS_, "verdict %d, want XDP_PASS (kernel forwarding)", r.verdict);
	check(r.p.ok && r.p.tcp_csum_ok, "bad checksum after translation");
	check(r.p.seq == isn + 1 && r.p.ack == SRV_ISN + 1001, "seq %u ack %u, want %u %u",
	      r.p.seq, r.p.ack, isn + 1, SRV_ISN + 1001);
	check(!co->ts || (got.tsval == cts + 2 && got.tsecr == SRV_TS + 7),
	      "TS val %u ecr %u, want %u %u", got.tsval, got.tsecr, cts + 2, SRV_TS + 7);
	check(!co->sack_ok || (got.nsack == 2 && got.sack[0][0] == SRV_ISN + 3001 &&
			       got.sack[1][1] == SRV_ISN + 6001),
	      "SACK blocks not in the server's sequence space");
	check(r.p.window == 502, "window %u changed", r.p.window);
	check_count(&r, XDPSYN_CNT_GW_C2S, 1);
	report(name);

	/* 5. server -> client: seq, TSval and the window's scale translated */
	snprintf(name, sizeof(name), "%s %s: server data translated to the client",
		 v6 ? "v6" : "v4", os->name);
	memset(&ao, 0, sizeof(ao));
	ao.ws = -1;
	ao.ts = co->ts;
	ao.tsval = SRV_TS + 9;
	ao.tsecr = cts + 2;
	seg(&f, v6, 0, cport, F_ACK | F_PSH, SRV_ISN + 1, isn + 101, 300, &ao, 1000);
	if (run(s_fd, &f, &r))
		return report(name);
	opts_read(&r.p, &got);
	check(r.verdict == XDP_PASS_, "verdict %d, want XDP_PASS", r.verdict);
	check(r.p.ok && r.p.tcp_csum_ok, "bad checksum after translation");
	check(r.p.seq == cookie + 1 && r.p.ack == isn + 101, "seq %u ack %u, want %u %u",
	      r.p.seq, r.p.ack, cookie + 1, isn + 101);
	check(!co->ts || (got.tsval == our_ts + 9 && got.tsecr == cts + 2),
	      "TS val %u ecr %u, want %u %u", got.tsval, got.tsecr, our_ts + 9, cts + 2);
	{
		/* the server scales by 8, the client was told g_ws */
		uint32_t w = co->ws >= 0 ? (300u << server_opts.ws) >> g_ws : 300;

		check(r.p.window == (w > 65535 ? 65535 : w), "window %u, want %u", r.p.window, w);
	}
	check_count(&r, XDPSYN_CNT_GW_S2C, 1);
	report(name);

	/* 6. FIN both ways: closed, removed gw_close_s later */
	snprintf(name, sizeof(name), "%s %s: FIN both ways closes, the state goes",
		 v6 ? "v6" : "v4", os->name);
	seg(&f, v6, 1, cport, F_ACK | F_FIN, isn + 101, cookie + 1001, 502, NULL, 0);
	run(c_fd, &f, &r);
	check(r.verdict == XDP_PASS_ && !conn_get(v6, cport, &v) && v.state == XDPSYN_GW_FIN_WAIT,
	      "after the client's FIN: verdict %d state %d", r.verdict, v.state);
	seg(&f, v6, 0, cport, F_ACK | F_FIN, SRV_ISN + 1001, isn + 102, 300, NULL, 0);
	run(s_fd, &f, &r);
	check(r.verdict == XDP_PASS_ && !conn_get(v6, cport, &v) && v.state == XDPSYN_GW_CLOSED,
	      "after the server's FIN: verdict %d state %d", r.verdict, v.state);
	check_count(&r, XDPSYN_CNT_GW_CLOSED, 1);
	report(name);
	server_put(v6, NULL);
}

static void case_connections(void)
{
	for (size_t i = 0; i < ARRAY_LEN(optsets); i++)
		for (int v6 = 0; v6 < 2; v6++)
			connection(v6, &optsets[i]);
	/* closed states leave gw_close_s (1 s) after */
	sleep(2);
	{
		struct xdpsyn_gw_key k;
		int n = 0, fd = bpf_map__fd(skel->maps.xdpsyn_gw_conns);
		uint64_t c[XDPSYN_CNT_MAX];

		while (!bpf_map_get_next_key(fd, n ? &k : NULL, &k))
			n++;
		stats_sum(skel->maps.xdpsyn_stats, nproc, c);
		check(n == 0, "%d states left %d s after closing", n, 2);
		check(c[XDPSYN_CNT_GW_EXPIRED] == 2 * ARRAY_LEN(optsets), "GW_EXPIRED %llu, want %zu",
		      (unsigned long long)c[XDPSYN_CNT_GW_EXPIRED], 2 * ARRAY_LEN(optsets));
		report("closed connections' state removed after gw-close seconds");
	}
}

/* The server's options as learned (or set) shape the SYN-ACK. */
static void case_server_options(void)
{
	for (int v6 = 0; v6 < 2; v6++) {
		struct xdpsyn_gw_server s = { .mss = 1300, .ws = 9,
					      .flags = XDPSYN_GW_SRV_SACK | XDPSYN_GW_SRV_STATIC };
		struct opts o = { .mss = 1460, .ws = 10, .sack_ok = 1, .ts = 1, .tsval = 5 }, got;
		struct result r;
		struct frame f;
		char name[128];

		snprintf(name, sizeof(name), "%s: the SYN-ACK offers what the server agrees to "
			 "(its MSS and window scale, no timestamps, no ECN)", v6 ? "v6" : "v4");
		server_put(v6, &s);
		seg(&f, v6, 1, next_port++, F_SYN | F_ECE | F_CWR, 77, 0, 64240, &o, 0);
		if (!run(c_fd, &f, &r)) {
			opts_read(&r.p, &got);
			check(r.verdict == XDP_TX_, "verdict %d", r.verdict);
			check(got.mss == 1300 && got.ws == 9 && got.sack_ok && !got.ts,
			      "MSS %u ws %d SACK %d TS %d, want 1300 9 1 0", got.mss, got.ws,
			      got.sack_ok, got.ts);
			check(!(r.p.flags & F_ECE), "ECN agreed for a server without it");
		}
		report(name);
		server_put(v6, NULL);
	}
}

static const struct refusal {
	const char *name;
	int v6, c2s;
	const uint8_t *dst4;
	uint8_t flags;
	int verdict, counter;
} refusals[] = {
	{ "v4 forged ACK (no state, no cookie) -> DROP", 0, 1, NULL, F_ACK, XDP_DROP_, XDPSYN_CNT_ACK_INVALID },
	{ "v6 forged ACK (no state, no cookie) -> DROP", 1, 1, NULL, F_ACK, XDP_DROP_, XDPSYN_CNT_ACK_INVALID },
	{ "v4 data with a forged ACK -> DROP", 0, 1, NULL, F_ACK | F_PSH, XDP_DROP_, XDPSYN_CNT_ACK_INVALID },
	{ "v4 RST without state -> DROP", 0, 1, NULL, F_RST, XDP_DROP_, XDPSYN_CNT_GW_C2S_NO_STATE },
	{ "v4 SYN to an address not behind the gateway -> PASS untouched", 0, 1, other4, F_SYN, XDP_PASS_, XDPSYN_CNT_GW_NOT_SERVER },
	{ "v4 server segment without state -> PASS untouched", 0, 0, NULL, F_ACK, XDP_PASS_, XDPSYN_CNT_GW_S2C_NO_STATE },
	{ "v6 server segment without state -> PASS untouched", 1, 0, NULL, F_ACK, XDP_PASS_, XDPSYN_CNT_GW_S2C_NO_STATE },
};

static void case_refusals(void)
{
	for (size_t i = 0; i < ARRAY_LEN(refusals); i++) {
		const struct refusal *t = &refusals[i];
		struct result r;
		struct frame f;
		struct xdpsyn_gw_conn v;
		uint16_t cport = next_port++;

		seg(&f, t->v6, t->c2s, cport, t->flags, 1234567, 7654321, 502, NULL,
		    t->flags & F_PSH ? 100 : 0);
		if (t->dst4) {
			struct spec s = { .flags = t->flags, .seq = 1, .sport = cport, .dport = PORT };

			memcpy(s.saddr, cli4, 4);
			memcpy(s.daddr, t->dst4, 4);
			frame_build(&f, &s);
		}
		if (!run(t->c2s ? c_fd : s_fd, &f, &r)) {
			check(r.verdict == t->verdict, "verdict %d, want %d", r.verdict, t->verdict);
			check_count(&r, t->counter, 1);
			check(t->verdict != XDP_PASS_ || (r.out_len == f.len && !memcmp(r.out, f.b, f.len)),
			      "frame changed");
			check(conn_get(t->v6, cport, &v), "state made");
		}
		report(t->name);
	}
}

/* Handshake up to SYN_SENT (steps 1-2 of connection()). */
static int to_syn_sent(int v6, uint16_t cport, uint32_t isn, uint32_t *cookie)
{
	struct opts o = { .mss = 1460, .ws = 7, .sack_ok = 1 };
	struct result r;
	struct frame f;

	seg(&f, v6, 1, cport, F_SYN, isn, 0, 64240, &o, 0);
	if (run(c_fd, &f, &r) || r.verdict != XDP_TX_)
		return check(0, "no SYN-ACK"), -1;
	*cookie = r.p.seq;
	seg(&f, v6, 1, cport, F_ACK, isn + 1, *cookie + 1, 502, NULL, 0);
	if (run(c_fd, &f, &r) || r.verdict != XDP_PASS_ || r.p.flags != F_SYN)
		return check(0, "no SYN to the server"), -1;
	return 0;
}

/* The final ACK was lost: the client's zero-window probe (seq = ISN)
 * validates and sends the SYN; with state, a repeat sends it again. */
static void case_probe(void)
{
	for (int v6 = 0; v6 < 2; v6++) {
		uint16_t cport = next_port++;
		uint32_t isn = 424242, cookie;
		struct result r;
		struct frame f;
		char name[128];

		snprintf(name, sizeof(name), "%s: a repeated final ACK while waiting sends the SYN again",
			 v6 ? "v6" : "v4");
		if (!to_syn_sent(v6, cport, isn, &cookie)) {
			seg(&f, v6, 1, cport, F_ACK, isn + 1, cookie + 1, 502, NULL, 0);
			run(c_fd, &f, &r);
			check(r.verdict == XDP_PASS_ && r.p.flags == F_SYN && r.p.seq == isn,
			      "verdict %d flags %#x", r.verdict, r.p.flags);
			check_count(&r, XDPSYN_CNT_GW_SYN_RETRANS, 1);
		}
		report(name);

		snprintf(name, sizeof(name), "%s: a zero-window probe (seq = ISN) with no state "
			 "validates and sends the SYN", v6 ? "v6" : "v4");
		conns_clear();
		seg(&f, v6, 1, cport, F_ACK, isn, cookie + 1, 502, NULL, 0);
		if (!run(c_fd, &f, &r)) {
			check(r.verdict == XDP_PASS_ && r.p.flags == F_SYN && r.p.seq == isn,
			      "verdict %d flags %#x seq %u", r.verdict, r.p.flags, r.p.seq);
			check_count(&r, XDPSYN_CNT_GW_CONN_NEW, 1);
		}
		report(name);
		conns_clear();
	}
}

/* Time-wait reuse: the client opens the tuple of a connection that
 * closed moments ago; its new handshake gets new state (the closed one
 * would translate it with the old connection's numbers). */
static void case_timewait_reuse(void)
{
	for (int v6 = 0; v6 < 2; v6++) {
		uint16_t cport = next_port++;
		uint32_t cookie, cookie2;
		struct xdpsyn_gw_conn v;
		char name[128];

		snprintf(name, sizeof(name), "%s: a new handshake on a closed connection's tuple "
			 "(time-wait reuse) gets new state", v6 ? "v6" : "v4");
		if (!to_syn_sent(v6, cport, 1000, &cookie) && !conn_get(v6, cport, &v)) {
			v.state = XDPSYN_GW_CLOSED;
			v.s_isn = 99;
			v.seq_delta = 99 - cookie;
			conn_put(v6, cport, &v);
			if (!to_syn_sent(v6, cport, 900000, &cookie2))
				check(!conn_get(v6, cport, &v) && v.state == XDPSYN_GW_SYN_SENT &&
				      v.c_isn == 900000 && v.cookie == cookie2,
				      "state %d isn %u: not the new handshake's", v.state, v.c_isn);
		}
		report(name);
	}
	conns_clear();
}

/* The server answers our SYN with RST (no listener): the client, which
 * we told the connection was open, is reset at its next sequence number. */
static void case_refused(void)
{
	for (int v6 = 0; v6 < 2; v6++) {
		uint16_t cport = next_port++;
		uint32_t isn = 555, cookie;
		struct xdpsyn_gw_conn v;
		struct result r;
		struct frame f;
		char name[128];

		snprintf(name, sizeof(name), "%s: the server's RST to our SYN resets the client",
			 v6 ? "v6" : "v4");
		if (!to_syn_sent(v6, cport, isn, &cookie)) {
			seg(&f, v6, 0, cport, F_RST | F_ACK, 0, isn + 1, 0, NULL, 0);
			if (!run(s_fd, &f, &r)) {
				check(r.verdict == XDP_PASS_, "verdict %d", r.verdict);
				check(r.p.ok && r.p.tcp_csum_ok, "bad checksum");
				check(r.p.flags == F_RST && r.p.seq == cookie + 1,
				      "flags %#x seq %u, want RST at %u", r.p.flags, r.p.seq, cookie + 1);
				check_count(&r, XDPSYN_CNT_GW_SERVER_REFUSED, 1);
				check(!conn_get(v6, cport, &v) && v.state == XDPSYN_GW_CLOSED,
				      "state not closed");
			}
		}
		report(name);
	}
	conns_clear();
}

/* A frame from a local stack through a veth: its TCP checksum is the
 * pseudo-header's only; translated, it stays so (the stack finishes it),
 * and goes to the kernel, never XDP_REDIRECT. */
static void case_partial_checksum(void)
{
	struct xdpsyn_gw_conn v = { .state = XDPSYN_GW_ESTABLISHED, .seq_delta = 1000,
				    .c_ws = 7, .g_ws = 7, .s_ws = 7,
				    .flags = XDPSYN_GW_C_WS | XDPSYN_GW_S_WS };
	uint16_t cport = next_port++;
	struct result r;
	struct frame f;
	uint32_t ps;
	uint8_t ph[12];

	cfg.gw_flags |= XDPSYN_GWCFG_VETH;
	cfg.gw_forward = XDPSYN_GW_FORWARD_XDP;
	cfg_put();
	v.last_ns = mono_coarse_ns();
	conn_put(0, cport, &v);
	seg(&f, 0, 1, cport, F_ACK | F_PSH, 1, 5001, 502, NULL, 200);
	/* the pseudo-header's sum, folded, not complemented */
	memcpy(ph, cli4, 4);
	memcpy(ph + 4, srv4, 4);
	ph[8] = 0; ph[9] = 6; ph[10] = 0; ph[11] = 20 + 200;
	ps = csum_partial(ph, 12, 0);
	while (ps >> 16)
		ps = (ps & 0xffff) + (ps >> 16);
	f.b[14 + 20 + 16] = ps >> 8;
	f.b[14 + 20 + 17] = ps & 0xff;
	if (!run(c_fd, &f, &r)) {
		check(r.verdict == XDP_PASS_, "verdict %d, want XDP_PASS (the kernel finishes it)", r.verdict);
		check(r.p.ack == 6001, "ack %u not translated", r.p.ack);
		check(r.out[14 + 20 + 16] == (ps >> 8) && r.out[14 + 20 + 17] == (ps & 0xff),
		      "checksum field changed: the offload would count the change twice");
		check_count(&r, XDPSYN_CNT_GW_FORWARD_KERNEL, 1);
	}
	report("v4: a checksum left to offload (veth) stays the pseudo-header's, the frame goes to the kernel");
	cfg.gw_flags &= ~XDPSYN_GWCFG_VETH;
	cfg.gw_forward = XDPSYN_GW_FORWARD_KERNEL;
	cfg_put();
	conns_clear();
}

/* Connections older than the attach: while the window is open the
 * client's segments pass untouched, and the server's first segment adopts
 * the connection (nothing translated); a forged ACK makes no state. After
 * the window an unknown segment is a forged ACK. */
static void case_adopt(void)
{
	uint16_t cport = next_port++;
	struct xdpsyn_gw_conn v;
	struct result r;
	struct frame f;

	cfg.gw_adopt_until_ns = mono_coarse_ns() + 60ull * 1000000000ull;
	cfg_put();
	seg(&f, 0, 1, cport, F_ACK | F_PSH, 99, 7777, 502, NULL, 50);
	if (!run(c_fd, &f, &r)) {
		check(r.verdict == XDP_PASS_, "verdict %d", r.verdict);
		check(r.out_len == f.len && !memcmp(r.out, f.b, f.len), "frame changed");
		check_count(&r, XDPSYN_CNT_GW_ADOPT_PASS, 1);
		check(conn_get(0, cport, &v), "state made from the client's side (a forged ACK would fill the table)");
	}
	report("v4: within gw-adopt a client segment without state passes untouched, no state made");
	{
		uint32_t cookie;
		uint16_t p2 = next_port++;

		/* the window is for old connections: new ones are proxied */
		check(!to_syn_sent(0, p2, 31337, &cookie) && !conn_get(0, p2, &v) &&
		      v.state == XDPSYN_GW_SYN_SENT, "no state from a valid final ACK");
		report("v4: within gw-adopt a new connection's final ACK still makes state and the SYN");
	}
	seg(&f, 0, 0, cport, F_ACK, 7777, 149, 300, NULL, 10);
	if (!run(s_fd, &f, &r)) {
		check(r.verdict == XDP_PASS_ && r.out_len == f.len && !memcmp(r.out, f.b, f.len),
		      "the server's segment changed");
		check_count(&r, XDPSYN_CNT_GW_ADOPTED, 1);
		check(!conn_get(0, cport, &v) && v.flags & XDPSYN_GW_ADOPTED, "not adopted");
	}
	report("v4: within gw-adopt the server's segment adopts the connection");
	seg(&f, 0, 0, next_port++, F_RST | F_ACK, 7777, 149, 300, NULL, 0);
	if (!run(s_fd, &f, &r))
		check(r.delta[XDPSYN_CNT_GW_ADOPTED] == 0, "an RST from the server adopted a connection");
	report("v4: a server's RST (its answer to a forged ACK) adopts nothing");
	cfg.gw_adopt_until_ns = 0;
	cfg_put();
	seg(&f, 0, 1, cport, F_ACK | F_PSH, 149, 7787, 502, NULL, 50);
	if (!run(c_fd, &f, &r))
		check(r.verdict == XDP_PASS_ && r.out_len == f.len && !memcmp(r.out, f.b, f.len),
		      "the adopted connection's segment: verdict %d or changed", r.verdict);
	report("v4: after gw-adopt the adopted connection goes on untouched");
	seg(&f, 0, 1, next_port++, F_ACK | F_PSH, 99, 7777, 502, NULL, 50);
	if (!run(c_fd, &f, &r)) {
		check(r.verdict == XDP_DROP_, "verdict %d, want DROP after the window", r.verdict);
		check_count(&r, XDPSYN_CNT_ACK_INVALID, 1);
	}
	report("v4: after gw-adopt, an unknown segment is a forged ACK");
	conns_clear();
}

/* A full table: the valid final ACK is dropped and counted (the client's
 * probe retries), never passed to the server without state. */
static void case_table_full(void)
{
	uint32_t cookie;
	int made = 0;
	struct result r;
	struct frame f;
	struct opts o = { .mss = 1460, .ws = -1 };

	conns_clear();
	for (int i = 0; i < CONNS_MAX; i++)
		made += !to_syn_sent(0, next_port++, 1000 + i, &cookie);
	fail_msg[0] = 0;
	check(made == CONNS_MAX, "filled %d of %d", made, CONNS_MAX);
	seg(&f, 0, 1, next_port, F_SYN, 5, 0, 64240, &o, 0);
	if (!run(c_fd, &f, &r) && r.verdict == XDP_TX_) {
		cookie = r.p.seq;
		seg(&f, 0, 1, next_port, F_ACK, 6, cookie + 1, 502, NULL, 0);
		if (!run(c_fd, &f, &r)) {
			check(r.verdict == XDP_DROP_, "verdict %d, want DROP", r.verdict);
			check_count(&r, XDPSYN_CNT_GW_TABLE_FULL, 1);
		}
	} else {
		check(0, "no SYN-ACK");
	}
	next_port++;
	report("v4: with the state table full a valid final ACK is dropped and counted");
	conns_clear();
}

/* ---- fuzz: mutated segments against an independent oracle -------------- */

#define FUZZ_FRAMES 30000

static uint64_t fz_state = 0x9e3779b97f4a7c15ull;

static uint32_t fz_rand(void)
{
	fz_state ^= fz_state << 13;
	fz_state ^= fz_state >> 7;
	fz_state ^= fz_state << 17;
	return (uint32_t)fz_state;
}

/* What the oracle reads of an input frame, as leniently as the program
 * parses (README "Packet path": an IP length past the frame is allowed,
 * a shorter one than the headers is not): ok only for TCP in IPv4
 * (no later fragment) or IPv6 without extension headers, header in the
 * frame. */
struct seg_view {
	int ok, v6;
	uint8_t saddr[16], daddr[16];
	uint16_t sport, dport;
	uint32_t seq, ack;
	uint8_t flags;
};

static void seg_view(const uint8_t *b, size_t len, struct seg_view *v)
{
	size_t l3 = 14, l4;
	uint16_t proto;

	memset(v, 0, sizeof(*v));
	if (len < 14)
		return;
	proto = (uint16_t)(b[12] << 8 | b[13]);
	if (proto == 0x0800) {
		size_t ihl;

		if (len < l3 + 20 || b[l3] >> 4 != 4 || (b[l3] & 15) < 5 || b[l3 + 9] != 6 ||
		    ((b[l3 + 6] << 8 | b[l3 + 7]) & 0x1fff))
			return;
		ihl = (size_t)(b[l3] & 15) * 4;
		if ((size_t)(b[l3 + 2] << 8 | b[l3 + 3]) < ihl + 20)
			return;
		memcpy(v->saddr, b + l3 + 12, 4);
		memcpy(v->daddr, b + l3 + 16, 4);
		l4 = l3 + ihl;
	} else if (proto == 0x86dd) {
		if (len < l3 + 40 || b[l3] >> 4 != 6 || b[l3 + 6] != 6)
			return;
		v->v6 = 1;
		memcpy(v->saddr, b + l3 + 8, 16);
		memcpy(v->daddr, b + l3 + 24, 16);
		l4 = l3 + 40;
	} else {
		return;
	}
	if (len < l4 + 20 || (b[l4 + 12] >> 4) < 5 || len < l4 + (b[l4 + 12] >> 4) * 4u)
		return;
	v->sport = (uint16_t)(b[l4] << 8 | b[l4 + 1]);
	v->dport = (uint16_t)(b[l4 + 2] << 8 | b[l4 + 3]);
	v->seq = be32(b + l4 + 4);
	v->ack = be32(b + l4 + 8);
	v->flags = b[l4 + 13];
	v->ok = 1;
}

static int to_server(const struct seg_view *p)
{
	return p->ok && p->dport == PORT && !memcmp(p->daddr, p->v6 ? srv6 : srv4, p->v6 ? 16 : 4);
}

/* The cookies this run issued: (client port, family) -> cookie. A state
 * may only come of a frame whose tuple and ACK name one of them. */
struct issued {
	int v6;
	uint16_t cport;
	uint32_t cookie;
};

static int issued_has(const struct issued *t, int n, const struct seg_view *p)
{
	for (int i = 0; i < n; i++)
		if (t[i].v6 == p->v6 && t[i].cport == p->sport && t[i].cookie == p->ack - 1)
			return 1;
	return 0;
}

/* The input's TCP checksum is valid (the strict reader says so). */
static int in_csum_ok(const struct frame *f)
{
	struct parsed p;

	frame_parse(f->b, f->len, &p);
	return p.ok && p.tcp_csum_ok;
}

/* Each frame is one of the connection's own (SYN, final ACK, data either
 * way, the server's SYN-ACK) with 1-6 bytes changed, or cut short. The
 * oracle reads input and output with tests/unit/frame.c: a verdict in the
 * set; XDP_TX only for a SYN to a protected server, and then a SYN-ACK to
 * it with valid checksums; state only from a final ACK naming a cookie
 * this run issued; anything passed that is not TCP to a protected server
 * untouched; translated segments keep a valid checksum. */
static void case_fuzz(void)
{
	struct issued iss[8];
	int niss = 0, bad_verdict = 0, bad_tx = 0, forged_state = 0, touched = 0,
	    bad_csum = 0, runs = 0, refused = 0;
	static struct frame base[16], f;
	static struct result r;
	int nbase = 0;
	char why[256] = "";

	fz_state = getenv("GW_FUZZ_SEED") ? strtoull(getenv("GW_FUZZ_SEED"), NULL, 0)
				       : (uint64_t)time(NULL) * 0x9e3779b97f4a7c15ull;
	fz_state |= 1;
	printf("# seed %#llx (GW_FUZZ_SEED= repeats it)\n", (unsigned long long)fz_state);
	conns_clear();
	for (int v6 = 0; v6 < 2; v6++) {
		struct opts o = { .mss = 1460, .ws = 7, .sack_ok = 1, .ts = 1, .tsval = 100 };
		struct opts a = { .ws = -1, .ts = 1, .tsval = 101 };
		uint16_t cport = next_port++;
		uint32_t isn = 777 + v6, cookie;

		seg(&base[nbase++], v6, 1, cport, F_SYN, isn, 0, 64240, &o, 0);
		if (run(c_fd, &base[nbase - 1], &r) || r.verdict != XDP_TX_)
			return check(0, "no SYN-ACK to start from"), report("fuzz");
		cookie = r.p.seq;
		iss[niss++] = (struct issued){ v6, cport, cookie };
		{
			struct opts got;

			opts_read(&r.p, &got);
			a.tsecr = got.tsval;
		}
		seg(&base[nbase++], v6, 1, cport, F_ACK, isn + 1, cookie + 1, 502, &a, 0);
		seg(&base[nbase++], v6, 1, cport, F_ACK | F_PSH, isn + 1, cookie + 1, 502, &a, 300);
		seg(&base[nbase++], v6, 0, cport, F_ACK | F_PSH, 5000, isn + 301, 502, &a, 300);
		{
			struct opts so = server_opts;

			so.tsval = 9;
			so.tsecr = 101;
			seg(&base[nbase++], v6, 0, cport, F_SYN | F_ACK, SRV_ISN, isn + 1, 65000, &so, 0);
		}
	}
	for (int i = 0; i < FUZZ_FRAMES; i++) {
		const struct frame *b = &base[fz_rand() % nbase];
		struct seg_view in;
		int c2s, fd, kind = fz_rand() % 8;
		uint64_t made;

		f = *b;
		if (kind == 0) {
			f.len = 14 + fz_rand() % (f.len - 14);
		} else {
			int n = 1 + fz_rand() % 6;

			for (int k = 0; k < n; k++)
				f.b[14 + fz_rand() % (f.len - 14)] ^= (uint8_t)(1 + fz_rand() % 255);
		}
		seg_view(f.b, f.len, &in);
		c2s = !memcmp(f.b + 6, cli_mac, 6);
		fd = c2s ? c_fd : s_fd;
		if (!c2s && b->b[14 + (b->b[12] == 0x86 ? 40 : 20) + 13] == (F_SYN | F_ACK))
			fd = tc_fd;
		if (run(fd, &f, &r)) {
			/* test_run refuses frames too short for an skb (TC) */
			if (errno != EINVAL)
				break;
			fail_msg[0] = 0;
			refused++;
			continue;
		}
		runs++;
		made = r.delta[XDPSYN_CNT_GW_CONN_NEW] + r.delta[XDPSYN_CNT_GW_ADOPTED];
		if (fd == tc_fd) {
			if (r.verdict != TC_OK_ && r.verdict != -1 && r.verdict != 2)
				bad_verdict++;
			continue;
		}
		if (r.verdict < 1 || r.verdict > 4) {
			bad_verdict++;
			snprintf(why, sizeof(why), "frame %d: verdict %d", i, r.verdict);
		}
		if (r.verdict == XDP_TX_ &&
		    !(c2s && to_server(&in) && (in.flags & (F_SYN | F_ACK | F_FIN | F_RST)) == F_SYN &&
		      r.p.ok && r.p.tcp_csum_ok && r.p.flags & F_SYN && r.p.flags & F_ACK &&
		      r.p.dport == in.sport && r.p.ack == in.seq + 1)) {
			bad_tx++;
			if (getenv("GW_FUZZ_DUMP")) {
				for (size_t q = 0; q < f.len; q++)
					fprintf(stderr, "%02x%s", f.b[q], q % 16 == 15 ? "\n" : " ");
				fprintf(stderr, "\n");
			}
			snprintf(why, sizeof(why), "frame %d: XDP_TX of %s (reply %s)", i,
				 in.ok ? "a segment that is not a SYN to a server" : "an unreadable frame",
				 r.p.ok ? "readable" : r.p.why);
		}
		if (made && !(in.ok && to_server(&in) && issued_has(iss, niss, &in))) {
			forged_state++;
			snprintf(why, sizeof(why), "frame %d: state from a segment naming no issued cookie", i);
		}
		if (r.verdict == XDP_PASS_ && c2s && in.ok && !to_server(&in) &&
		    (r.out_len != f.len || memcmp(r.out, f.b, f.len))) {
			touched++;
			snprintf(why, sizeof(why), "frame %d: passed changed, not to a protected server", i);
		}
		if ((r.delta[XDPSYN_CNT_GW_C2S] || r.delta[XDPSYN_CNT_GW_S2C]) &&
		    in_csum_ok(&f) && !(r.p.ok && r.p.tcp_csum_ok)) {
			bad_csum++;
			snprintf(why, sizeof(why), "frame %d: translated with a broken checksum", i);
		}
		/* the state a good frame made is kept; keep the table small */
		if (i % 512 == 511)
			conns_clear();
	}
	check(runs + refused == FUZZ_FRAMES && refused < FUZZ_FRAMES / 20,
	      "%d of %d frames run, %d refused by test_run", runs, FUZZ_FRAMES, refused);
	check(!bad_verdict && !bad_tx && !forged_state && !touched && !bad_csum,
	      "verdicts %d, XDP_TX %d, forged state %d, untouched %d, checksums %d: last %s",
	      bad_verdict, bad_tx, forged_state, touched, bad_csum, why);
	report("fuzz: 30000 mutated segments of a connection, v4 and v6, against the oracle");
	conns_clear();
}

static const struct gw_case {
	const char *name;
	void (*run)(void);
} cases[] = {
	{ "connections", case_connections },
	{ "server_options", case_server_options },
	{ "refusals", case_refusals },
	{ "probe", case_probe },
	{ "refused", case_refused },
	{ "timewait_reuse", case_timewait_reuse },
	{ "partial_checksum", case_partial_checksum },
	{ "adopt", case_adopt },
	{ "table_full", case_table_full },
	{ "fuzz", case_fuzz },
};

static void setup(void)
{
	struct xdpsyn_key k;
	static struct xdpsyn_ports ports;
	__u32 zero = 0, one = 1;
	__u8 yes = 1;

	netns_fixture(srv6, cli6);
	/* where the TC program's clone (the ACK to the server) goes and dies */
	run_cmd("ip link add xsgw0 type veth peer name xsgw1");
	run_cmd("ip link set xsgw0 up");
	run_cmd("ip link set xsgw1 up");
	nproc = libbpf_num_possible_cpus();
	libbpf_set_print(libbpf_quiet);
	skel = xdpsyn_gw__open();
	if (!skel || bpf_map__set_max_entries(skel->maps.xdpsyn_gw_conns, CONNS_MAX) ||
	    xdpsyn_gw__load(skel)) {
		fprintf(stderr, "test_gw: loading the gateway object failed\n");
		printf("0 passed, 1 failed\n");
		exit(1);
	}
	c_fd = bpf_program__fd(skel->progs.xdpsyn_gw_xdp);
	s_fd = bpf_program__fd(skel->progs.xdpsyn_gw_srv_xdp);
	tc_fd = bpf_program__fd(skel->progs.xdpsyn_gw_tc);
	memcpy(&k.k0, key, 8);
	memcpy(&k.k1, key + 8, 8);
	bpf_map__update_elem(skel->maps.xdpsyn_keys, &zero, 4, &k, sizeof(k), 0);
	bpf_map__update_elem(skel->maps.xdpsyn_keys, &one, 4, &k, sizeof(k), 0);
	ports.bits[PORT / 64] |= 1ull << (PORT % 64);
	bpf_map__update_elem(skel->maps.xdpsyn_ports, &zero, 4, &ports, sizeof(ports), 0);
	bpf_map__update_elem(skel->maps.xdpsyn_ports, &one, 4, &ports, sizeof(ports), 0);
	for (int v6 = 0; v6 < 2; v6++) {
		struct xdpsyn_gw_prefix p = { .plen = 32 + (v6 ? 128 : 32),
					      .family = v6 ? XDPSYN_V6 : XDPSYN_V4 };

		memcpy(p.addr, v6 ? srv6 : srv4, v6 ? 16 : 4);
		bpf_map__update_elem(skel->maps.xdpsyn_gw_prefixes, &p, sizeof(p), &yes, 1, 0);
	}
	cfg.mss[XDPSYN_V4] = 1460;
	cfg.mss[XDPSYN_V6] = 1440;
	cfg.window = 64240;
	cfg.wscale = 7;
	cfg.ttl = 61;
	cfg.ecn = 1;
	cfg.gw_flags = XDPSYN_GWCFG_ON | XDPSYN_GWCFG_PREFIXES;
	cfg.gw_forward = XDPSYN_GW_FORWARD_KERNEL; /* deterministic: PASS */
	cfg.gw_ifindex = if_nametoindex("xsgw0");
	cfg.gw_ifindex_c = 1;
	cfg.gw_close_s = 1;
	cfg.gw_idle_s = 3600;
	cfg.gw_syn_timeout_s = 20;
	cfg_put();
}

int main(int argc, char **argv)
{
	harness_prog = "test_gw";
	if (geteuid() != 0) {
		fprintf(stderr, "test_gw: must run as root (BPF, network namespace)\n");
		printf("0 passed, 1 failed\n");
		return 1;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	setup();
	for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
		if (argc > 1 && strcmp(argv[1], cases[i].name))
			continue;
		printf("# %s\n", cases[i].name);
		cases[i].run();
		if (fail_msg[0])
			report(cases[i].name);
	}
	printf("%d passed, %d failed\n", passed, failed);
	return failed ? 1 : 0;
}
