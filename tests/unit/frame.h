/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Test-side packet tools, written independently of the BPF headers:
 * a frame builder, an RFC 1071 checksum, a SYN-ACK parser, and a reference
 * SipHash-2-4 / cookie computed from the README's cookie format. */
#ifndef XDPSYN_TEST_FRAME_H
#define XDPSYN_TEST_FRAME_H

#include <stdint.h>
#include <stddef.h>

#define FRAME_MAX 10240 /* a jumbo frame (MTU 9000) and more */

struct frame {
	uint8_t b[FRAME_MAX];
	size_t len;
};

/* What to build. Addresses are in network order byte arrays. */
struct spec {
	int v6;
	int vlans;             /* 0, 1 or 2 tags (outer 802.1ad when 2) */
	uint8_t smac[6], dmac[6];
	uint8_t saddr[16], daddr[16];
	uint16_t sport, dport;
	uint32_t seq, ack;
	uint8_t flags;         /* TCP flags byte */
	uint16_t window;
	const uint8_t *opts;   /* raw TCP option bytes */
	size_t optlen;         /* padded by the builder to a multiple of 4 */
	int raw_doff;          /* if non-zero: data offset written as is */
	size_t payload;        /* bytes of payload */
	size_t ipopt_len;      /* IPv4 options (NOPs + EOL), multiple of 4 */
	const uint8_t *ext;    /* IPv6 extension headers, already chained */
	size_t ext_len;
	uint8_t ext_first;     /* next header of the fixed IPv6 header if ext */
	uint8_t l4proto;       /* default 6 */
	uint16_t frag_off;     /* IPv4 frag_off field, host order */
	uint8_t ttl;
};

#define F_FIN 0x01
#define F_SYN 0x02
#define F_RST 0x04
#define F_PSH 0x08
#define F_ACK 0x10
#define F_URG 0x20
#define F_ECE 0x40
#define F_CWR 0x80

void frame_build(struct frame *f, const struct spec *s);

uint16_t inet_csum(const void *data, size_t len, uint32_t seed);
uint32_t csum_partial(const void *data, size_t len, uint32_t sum);

/* A parsed SYN-ACK (or any TCP frame), all fields host order. */
struct parsed {
	int ok;
	char why[128];
	int v6;
	int vlans;
	uint16_t vlan_tci[2], vlan_tpid[2];
	uint8_t smac[6], dmac[6];
	uint8_t saddr[16], daddr[16];
	uint8_t ttl;
	int df;
	int ip_csum_ok;
	uint16_t sport, dport;
	uint32_t seq, ack;
	uint8_t flags;
	uint16_t window;
	int tcp_csum_ok;
	uint8_t opts[40];
	size_t optlen;
	size_t payload;
	size_t frame_len_expected; /* from the IP length field */
};

void frame_parse(const uint8_t *b, size_t len, struct parsed *p);

/* SipHash-2-4 over bytes (reference implementation). */
uint64_t ref_siphash(const uint8_t key[16], const uint8_t *in, size_t len);

/* Cookie per the README: returns the 64-bit hash. */
uint64_t ref_cookie_hash(const uint8_t key[16], int v6, const uint8_t *saddr,
			 const uint8_t *daddr, uint16_t sport, uint16_t dport,
			 uint32_t isn, uint32_t counter, uint8_t info);

#endif
