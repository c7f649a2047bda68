// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include "frame.h"

#include <string.h>

static void put16(uint8_t *p, uint16_t v) { p[0] = v >> 8; p[1] = v; }
static void put32(uint8_t *p, uint32_t v) { p[0] = v >> 24; p[1] = v >> 16; p[2] = v >> 8; p[3] = v; }
static uint16_t get16(const uint8_t *p) { return (uint16_t)(p[0] << 8 | p[1]); }
static uint32_t get32(const uint8_t *p) { return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3]; }

/* RFC 1071, on big-endian 16-bit words, byte by byte. */
uint32_t csum_partial(const void *data, size_t len, uint32_t sum)
{
	const uint8_t *p = data;
	size_t i;

	for (i = 0; i + 1 < len; i += 2)
		sum += (uint32_t)(p[i] << 8 | p[i + 1]);
	if (len & 1)
		sum += (uint32_t)p[len - 1] << 8;
	return sum;
}

uint16_t inet_csum(const void *data, size_t len, uint32_t seed)
{
	uint32_t sum = csum_partial(data, len, seed);

	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

static uint32_t pseudo_sum(int v6, const uint8_t *s, const uint8_t *d, uint32_t len)
{
	uint32_t sum = 0;
	int alen = v6 ? 16 : 4;

	sum = csum_partial(s, alen, sum);
	sum = csum_partial(d, alen, sum);
	sum += 6;
	sum += len >> 16;
	sum += len & 0xffff;
	return sum;
}

void frame_build(struct frame *f, const struct spec *s)
{
	uint8_t *p = f->b;
	size_t off = 0, l3, l4, optlen, doff, tcplen, iplen;

	memset(f->b, 0, sizeof(f->b));
	memcpy(p, s->dmac, 6);
	memcpy(p + 6, s->smac, 6);
	off = 12;
	if (s->vlans == 2) {
		put16(p + off, 0x88a8); put16(p + off + 2, 100);
		off += 4;
	}
	if (s->vlans >= 1) {
		put16(p + off, 0x8100); put16(p + off + 2, 200);
		off += 4;
	}
	put16(p + off, s->v6 ? 0x86dd : 0x0800);
	off += 2;
	l3 = off;

	optlen = (s->optlen + 3) & ~(size_t)3;
	doff = s->raw_doff ? (size_t)s->raw_doff * 4 : 20 + optlen;
	tcplen = 20 + optlen + s->payload;

	if (!s->v6) {
		iplen = 20 + s->ipopt_len;
		p[l3] = 0x40 | (uint8_t)(iplen / 4);
		put16(p + l3 + 2, (uint16_t)(iplen + tcplen));
		put16(p + l3 + 4, 0x1234);
		put16(p + l3 + 6, s->frag_off);
		p[l3 + 8] = s->ttl ? s->ttl : 64;
		p[l3 + 9] = s->l4proto ? s->l4proto : 6;
		memcpy(p + l3 + 12, s->saddr, 4);
		memcpy(p + l3 + 16, s->daddr, 4);
		for (size_t i = 0; i < s->ipopt_len; i++)
			p[l3 + 20 + i] = i + 1 == s->ipopt_len ? 0 : 1; /* NOPs, EOL */
		put16(p + l3 + 10, inet_csum(p + l3, iplen, 0));
	} else {
		iplen = 40 + s->ext_len;
		p[l3] = 0x60;
		put16(p + l3 + 4, (uint16_t)(s->ext_len + tcplen));
		p[l3 + 6] = s->ext_len ? s->ext_first : (s->l4proto ? s->l4proto : 6);
		p[l3 + 7] = s->ttl ? s->ttl : 64;
		memcpy(p + l3 + 8, s->saddr, 16);
		memcpy(p + l3 + 24, s->daddr, 16);
		if (s->ext_len)
			memcpy(p + l3 + 40, s->ext, s->ext_len);
	}
	l4 = l3 + iplen;
	put16(p + l4, s->sport);
	put16(p + l4 + 2, s->dport);
	put32(p + l4 + 4, s->seq);
	put32(p + l4 + 8, s->ack);
	p[l4 + 12] = (uint8_t)((doff / 4) << 4);
	p[l4 + 13] = s->flags;
	put16(p + l4 + 14, s->window ? s->window : 64240);
	if (s->optlen)
		memcpy(p + l4 + 20, s->opts, s->optlen);
	for (size_t i = 0; i < s->payload; i++)
		p[l4 + 20 + optlen + i] = (uint8_t)(0xa0 + i);
	put16(p + l4 + 16, inet_csum(p + l4, tcplen,
				     pseudo_sum(s->v6, s->saddr, s->daddr, (uint32_t)tcplen)));
	f->len = l4 + tcplen;
}

#define FAIL(...) do { snprintf(p->why, sizeof(p->why), __VA_ARGS__); return; } while (0)
#include <stdio.h>

void frame_parse(const uint8_t *b, size_t len, struct parsed *p)
{
	size_t off = 12, l3, l4, iplen, tcplen, doff;
	uint16_t proto;

	memset(p, 0, sizeof(*p));
	if (len < 14)
		FAIL("frame of %zu bytes", len);
	memcpy(p->dmac, b, 6);
	memcpy(p->smac, b + 6, 6);
	proto = get16(b + off);
	while ((proto == 0x8100 || proto == 0x88a8) && p->vlans < 2) {
		if (len < off + 6)
			FAIL("truncated VLAN tag");
		p->vlan_tpid[p->vlans] = proto;
		p->vlan_tci[p->vlans] = get16(b + off + 2);
		p->vlans++;
		off += 4;
		proto = get16(b + off);
	}
	l3 = off + 2;
	if (proto == 0x0800) {
		if (len < l3 + 20)
			FAIL("truncated IPv4 header");
		if (b[l3] != 0x45)
			FAIL("IPv4 version/ihl byte 0x%02x, want 0x45", b[l3]);
		iplen = 20;
		tcplen = get16(b + l3 + 2) - iplen;
		p->df = (get16(b + l3 + 6) & 0x4000) != 0;
		if (get16(b + l3 + 6) & 0x3fff)
			FAIL("IPv4 fragment bits set");
		p->ttl = b[l3 + 8];
		if (b[l3 + 9] != 6)
			FAIL("IPv4 protocol %u", b[l3 + 9]);
		memcpy(p->saddr, b + l3 + 12, 4);
		memcpy(p->daddr, b + l3 + 16, 4);
		p->ip_csum_ok = inet_csum(b + l3, 20, 0) == 0;
	} else if (proto == 0x86dd) {
		if (len < l3 + 40)
			FAIL("truncated IPv6 header");
		if ((b[l3] >> 4) != 6)
			FAIL("IPv6 version %u", b[l3] >> 4);
		if (b[l3 + 6] != 6)
			FAIL("IPv6 next header %u, want TCP", b[l3 + 6]);
		p->v6 = 1;
		iplen = 40;
		tcplen = get16(b + l3 + 4);
		p->ttl = b[l3 + 7];
		memcpy(p->saddr, b + l3 + 8, 16);
		memcpy(p->daddr, b + l3 + 24, 16);
		p->ip_csum_ok = 1;
	} else {
		FAIL("ethertype 0x%04x", proto);
	}
	l4 = l3 + iplen;
	p->frame_len_expected = l4 + tcplen;
	if (len != l4 + tcplen)
		FAIL("frame is %zu bytes, IP length says %zu", len, l4 + tcplen);
	if (tcplen < 20)
		FAIL("TCP length %zu", tcplen);
	doff = (size_t)(b[l4 + 12] >> 4) * 4;
	if (doff < 20 || doff > tcplen)
		FAIL("TCP data offset %zu of %zu", doff, tcplen);
	p->sport = get16(b + l4);
	p->dport = get16(b + l4 + 2);
	p->seq = get32(b + l4 + 4);
	p->ack = get32(b + l4 + 8);
	p->flags = b[l4 + 13];
	p->window = get16(b + l4 + 14);
	p->optlen = doff - 20;
	memcpy(p->opts, b + l4 + 20, p->optlen);
	p->payload = tcplen - doff;
	p->tcp_csum_ok = inet_csum(b + l4, tcplen,
				   pseudo_sum(p->v6, p->saddr, p->daddr, (uint32_t)tcplen)) == 0;
	p->ok = 1;
}

/* SipHash-2-4, from the paper's description, over a byte string. */
#define ROTL(x, b) (uint64_t)(((x) << (b)) | ((x) >> (64 - (b))))
static uint64_t le64(const uint8_t *p)
{
	uint64_t v = 0;

	for (int i = 7; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

static void sipround(uint64_t v[4])
{
	v[0] += v[1]; v[1] = ROTL(v[1], 13); v[1] ^= v[0]; v[0] = ROTL(v[0], 32);
	v[2] += v[3]; v[3] = ROTL(v[3], 16); v[3] ^= v[2];
	v[0] += v[3]; v[3] = ROTL(v[3], 21); v[3] ^= v[0];
	v[2] += v[1]; v[1] = ROTL(v[1], 17); v[1] ^= v[2]; v[2] = ROTL(v[2], 32);
}

uint64_t ref_siphash(const uint8_t key[16], const uint8_t *in, size_t len)
{
	uint64_t k0 = le64(key), k1 = le64(key + 8);
	uint64_t v[4] = { 0x736f6d6570736575ULL ^ k0, 0x646f72616e646f6dULL ^ k1,
			  0x6c7967656e657261ULL ^ k0, 0x7465646279746573ULL ^ k1 };
	uint8_t last[8] = { 0 };
	size_t i, full = len / 8 * 8;
	uint64_t m;

	for (i = 0; i < full; i += 8) {
		m = le64(in + i);
		v[3] ^= m; sipround(v); sipround(v); v[0] ^= m;
	}
	memcpy(last, in + full, len - full);
	last[7] = (uint8_t)len;
	m = le64(last);
	v[3] ^= m; sipround(v); sipround(v); v[0] ^= m;
	v[2] ^= 0xff;
	sipround(v); sipround(v); sipround(v); sipround(v);
	return v[0] ^ v[1] ^ v[2] ^ v[3];
}

/* The message of README.md "Cookie format": 64-bit words, each stored
 * little-endian. */
static void put_le64(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

uint64_t ref_cookie_hash(const uint8_t key[16], int v6, const uint8_t *saddr,
			 const uint8_t *daddr, uint16_t sport, uint16_t dport,
			 uint32_t isn, uint32_t counter, uint8_t info)
{
	uint8_t msg[48];
	uint64_t ports = (uint64_t)sport << 48 | (uint64_t)dport << 32 | isn;
	uint64_t tail = (uint64_t)counter << 32 | (uint64_t)info << 8 | (v6 ? 6 : 4);
	uint64_t w;
	size_t n = 0;

	if (!v6) {
		w = (uint64_t)get32(saddr) << 32 | get32(daddr);
		put_le64(msg + n, w); n += 8;
	} else {
		for (int i = 0; i < 16; i += 8) {
			w = (uint64_t)get32(saddr + i) << 32 | get32(saddr + i + 4);
			put_le64(msg + n, w); n += 8;
		}
		for (int i = 0; i < 16; i += 8) {
			w = (uint64_t)get32(daddr + i) << 32 | get32(daddr + i + 4);
			put_le64(msg + n, w); n += 8;
		}
	}
	put_le64(msg + n, ports); n += 8;
	put_le64(msg + n, tail); n += 8;
	return ref_siphash(key, msg, n);
}
