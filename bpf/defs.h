/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Common includes and protocol constants for the BPF programs.
 * All BPF code uses the vmlinux.h generated at build time (no uapi headers),
 * because the TC handoff needs kernel types (struct bpf_tcp_req_attrs).
 * vmlinux.h carries types but no #defines: the protocol numbers are here. */
#ifndef XDPSYN_BPF_DEFS_H
#define XDPSYN_BPF_DEFS_H

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include "xdpsyn.h"

#define CLOCK_MONOTONIC 1 /* bpf_timer_init */

#define ETH_ALEN 6
#define ETH_P_IP 0x0800
#define ETH_P_IPV6 0x86DD
#define ETH_P_8021Q 0x8100
#define ETH_P_8021AD 0x88A8

#define IP_MF 0x2000
#define IP_DF 0x4000
#define IP_OFFMASK 0x1fff

#define NEXTHDR_HOP 0
#define NEXTHDR_TCP 6
#define NEXTHDR_ROUTING 43
#define NEXTHDR_FRAGMENT 44
#define NEXTHDR_AUTH 51
#define NEXTHDR_DEST 60
#define IP6_OFFSET 0xfff8 /* fragment offset bits of frag_off (network order) */

#define TCPOPT_EOL 0
#define TCPOPT_NOP 1
#define TCPOPT_MSS 2
#define TCPOPT_WINDOW 3
#define TCPOPT_SACK_PERM 4
#define TCPOPT_TIMESTAMP 8
#define TCPOLEN_MSS 4
#define TCPOLEN_WINDOW 3
#define TCPOLEN_SACK_PERM 2
#define TCPOLEN_TIMESTAMP 10
#define TCP_MAX_OPTLEN 40

/* TCP flags: bits 16..23 of the header's fourth 32-bit word (host order),
 * read and written through union tcp_word_hdr as the kernel does. */
#define TCPF_FIN 0x0001
#define TCPF_SYN 0x0002
#define TCPF_RST 0x0004
#define TCPF_PSH 0x0008
#define TCPF_ACK 0x0010
#define TCPF_URG 0x0020
#define TCPF_ECE 0x0040
#define TCPF_CWR 0x0080


static __always_inline __u32 tcp_word3(const struct tcphdr *th)
{
	return bpf_ntohl(((const union tcp_word_hdr *)th)->words[3]);
}

static __always_inline __u8 tcp_flags(const struct tcphdr *th)
{
	return (tcp_word3(th) >> 16) & 0xff;
}

#endif
