/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Internet checksum (RFC 1071) over values as they sit in memory.
 * The ones' complement sum does not depend on byte order, so raw network
 * order words are added as loaded and the folded result stored as is. */
#ifndef XDPSYN_BPF_CSUM_H
#define XDPSYN_BPF_CSUM_H

#include "defs.h"

static __always_inline __u16 csum_fold(__u64 sum)
{
	sum = (sum & 0xffffffff) + (sum >> 32);
	sum = (sum & 0xffffffff) + (sum >> 32);
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	return ~sum & 0xffff;
}

/* Sum of the IPv4 or IPv6 pseudo-header for TCP (RFC 9293, RFC 8200). */
static __always_inline __u64 csum_pseudo(__u8 family, const __be32 *saddr,
					 const __be32 *daddr, __u32 tcp_len)
{
	__u64 sum = bpf_htonl(IPPROTO_TCP) + bpf_htonl(tcp_len);

	if (family == XDPSYN_V4)
		return sum + saddr[0] + daddr[0];
#pragma unroll
	for (int i = 0; i < 4; i++)
		sum += (__u64)saddr[i] + daddr[i];
	return sum;
}

#endif
