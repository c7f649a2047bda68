/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* The SYN cookie: SipHash-2-4 over the connection, keyed from a map.
 * Shared by the XDP program (make, check) and the TC handoff (check, decode).
 * The message layout is specified in README.md ("Cookie format"). */
#ifndef XDPSYN_BPF_COOKIE_H
#define XDPSYN_BPF_COOKIE_H

#include "defs.h"
#include "parse.h"

#define SIP_ROTL(x, b) (((x) << (b)) | ((x) >> (64 - (b))))
#define SIP_ROUND(v0, v1, v2, v3)                                              \
	do {                                                                   \
		v0 += v1; v1 = SIP_ROTL(v1, 13); v1 ^= v0; v0 = SIP_ROTL(v0, 32); \
		v2 += v3; v3 = SIP_ROTL(v3, 16); v3 ^= v2;                     \
		v0 += v3; v3 = SIP_ROTL(v3, 21); v3 ^= v0;                     \
		v2 += v1; v1 = SIP_ROTL(v1, 17); v1 ^= v2; v2 = SIP_ROTL(v2, 32); \
	} while (0)

/* SipHash-2-4 of the 8*n byte little-endian string whose 64-bit words are
 * m[0..n-1]. n is a compile-time constant at every call site. */
static __always_inline __u64 siphash24(const struct xdpsyn_key *key,
				       const __u64 *m, const int n)
{
	__u64 v0 = 0x736f6d6570736575ULL ^ key->k0;
	__u64 v1 = 0x646f72616e646f6dULL ^ key->k1;
	__u64 v2 = 0x6c7967656e657261ULL ^ key->k0;
	__u64 v3 = 0x7465646279746573ULL ^ key->k1;
	__u64 b = (__u64)(8 * n) << 56;

#pragma unroll
	for (int i = 0; i < n; i++) {
		v3 ^= m[i];
		SIP_ROUND(v0, v1, v2, v3);
		SIP_ROUND(v0, v1, v2, v3);
		v0 ^= m[i];
	}
	v3 ^= b;
	SIP_ROUND(v0, v1, v2, v3);
	SIP_ROUND(v0, v1, v2, v3);
	v0 ^= b;
	v2 ^= 0xff;
	SIP_ROUND(v0, v1, v2, v3);
	SIP_ROUND(v0, v1, v2, v3);
	SIP_ROUND(v0, v1, v2, v3);
	SIP_ROUND(v0, v1, v2, v3);
	return v0 ^ v1 ^ v2 ^ v3;
}

/* What the cookie hash covers, seen from the client: it sent the SYN from
 * saddr:sport to daddr:dport with sequence number isn. */
struct cookie_in {
	__be32 saddr[4];
	__be32 daddr[4];
	__be16 sport;
	__be16 dport;
	__u32 isn;     /* client ISN, host order */
	__u8 family;
};

/* What a segment's cookie covers: its tuple, and the client ISN (host
 * order: the SYN's seq, or a later segment's seq - 1). */
static __always_inline void cookie_in_fill(struct cookie_in *c,
					   const struct pkt *pkt,
					   const struct tcphdr *th, __u32 isn)
{
	c->family = pkt->family;
	__builtin_memcpy(c->saddr, pkt->saddr, sizeof(c->saddr));
	__builtin_memcpy(c->daddr, pkt->daddr, sizeof(c->daddr));
	c->sport = th->source;
	c->dport = th->dest;
	c->isn = isn;
}

static __always_inline __u64 addr_word(__be32 hi, __be32 lo)
{
	return ((__u64)bpf_ntohl(hi) << 32) | bpf_ntohl(lo);
}

static __always_inline __u64 cookie_hash(const struct xdpsyn_key *key,
					 const struct cookie_in *c,
					 __u32 counter, __u8 info)
{
	__u64 ports = ((__u64)bpf_ntohs(c->sport) << 48) |
		      ((__u64)bpf_ntohs(c->dport) << 32) | c->isn;
	__u64 m[6];

	if (c->family == XDPSYN_V4) {
		m[0] = addr_word(c->saddr[0], c->daddr[0]);
		m[1] = ports;
		m[2] = ((__u64)counter << 32) | ((__u32)info << 8) | 4;
		return siphash24(key, m, 3);
	}
	m[0] = addr_word(c->saddr[0], c->saddr[1]);
	m[1] = addr_word(c->saddr[2], c->saddr[3]);
	m[2] = addr_word(c->daddr[0], c->daddr[1]);
	m[3] = addr_word(c->daddr[2], c->daddr[3]);
	m[4] = ports;
	m[5] = ((__u64)counter << 32) | ((__u32)info << 8) | 6;
	return siphash24(key, m, 6);
}

static __always_inline __u32 cookie_counter(__u64 now_ns)
{
	return now_ns >> XDPSYN_COUNTER_NS_SHIFT;
}

static __always_inline __u32 cookie_tsclk(__u64 now_ns)
{
	return (now_ns >> XDPSYN_TSCLK_NS_SHIFT) & XDPSYN_TSCLK_MASK;
}

/* The cookie ISN for info, and our TSval (used when the client sent TS). */
static __always_inline __u32 cookie_make(const struct xdpsyn_key *key,
					 const struct cookie_in *c,
					 __u64 now_ns, __u8 info, __u32 *tsval)
{
	__u64 h = cookie_hash(key, c, cookie_counter(now_ns), info);

	*tsval = (cookie_tsclk(now_ns) << 8) | ((h >> 24) & 0xff);
	return ((__u32)(h & 0xffffff) << 8) | info;
}

struct cookie_keys {
	const struct xdpsyn_key *cur;
	const struct xdpsyn_key *prev;
	__u32 prev_until;  /* prev accepted for counters <= this */
};

struct cookie_result {
	__u8 info;
	__u8 prev_key;     /* validated with the previous key */
	__u8 pad[2];
	__u32 rtt_us;      /* from TSecr, 0 without timestamps */
};

static __always_inline int cookie_try(const struct cookie_keys *k,
				      const struct cookie_in *c, __u32 counter,
				      __u32 cookie, int has_ts, __u32 tsecr,
				      struct cookie_result *r)
{
	__u8 info = cookie & 0xff;
	__u64 h;

	h = cookie_hash(k->cur, c, counter, info);
	if ((__u32)(h & 0xffffff) == cookie >> 8 &&
	    (!has_ts || ((h >> 24) & 0xff) == (tsecr & 0xff)))
		goto ok;
	if (!k->prev || counter > k->prev_until)
		return 0;
	h = cookie_hash(k->prev, c, counter, info);
	if ((__u32)(h & 0xffffff) == cookie >> 8 &&
	    (!has_ts || ((h >> 24) & 0xff) == (tsecr & 0xff))) {
		r->prev_key = 1;
		goto ok;
	}
	return 0;
ok:
	r->info = info;
	return 1;
}

/* Check the cookie a final ACK returns (cookie = ack_seq - 1; c->isn =
 * seq - 1). With timestamps, TSecr names the exact counter the cookie was
 * made in and 8 more hash bits; without, the current and the previous
 * counter are tried. Returns 1 when valid and fills r. */
static __always_inline int cookie_check(const struct cookie_keys *k,
					const struct cookie_in *c, __u32 cookie,
					const struct tcp_opts *o, __u64 now_ns,
					struct cookie_result *r)
{
	__u32 now_ctr = cookie_counter(now_ns);

	r->prev_key = 0;
	r->rtt_us = 0;
	if (o->ts_ok) {
		__u64 now_clk = now_ns >> XDPSYN_TSCLK_NS_SHIFT;
		__u32 age = ((__u32)now_clk - (o->tsecr >> 8)) & XDPSYN_TSCLK_MASK;
		__u32 ctr = (now_clk - age) >> (XDPSYN_COUNTER_NS_SHIFT -
						XDPSYN_TSCLK_NS_SHIFT);

		if (now_ctr - ctr > 1)
			return 0;
		if (!cookie_try(k, c, ctr, cookie, 1, o->tsecr, r))
			return 0;
		r->rtt_us = ((__u64)age << XDPSYN_TSCLK_NS_SHIFT) / 1000;
		return 1;
	}
	if (cookie_try(k, c, now_ctr, cookie, 0, 0, r))
		return 1;
	return cookie_try(k, c, now_ctr - 1, cookie, 0, 0, r);
}

#endif
