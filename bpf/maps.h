/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Maps shared by the XDP and TC programs. The loader pins them under
 * /sys/fs/bpf/xdpsyn/<ifname>/ and the CLI reads them from there. */
#ifndef XDPSYN_BPF_MAPS_H
#define XDPSYN_BPF_MAPS_H

#include "defs.h"
#include "cookie.h"

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct xdpsyn_config);
} xdpsyn_config SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, XDPSYN_KEY_SLOTS);
	__type(key, __u32);
	__type(value, struct xdpsyn_key);
} xdpsyn_keys SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, XDPSYN_NFAMILIES);
	__type(key, __u32);
	__type(value, struct xdpsyn_ports);
} xdpsyn_ports SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct xdpsyn_stats);
} xdpsyn_stats SEC(".maps");

/* Completed handshakes, one record per flow (the loader may resize). */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 65536);
	__type(key, struct xdpsyn_flow_key);
	__type(value, struct xdpsyn_flow);
} xdpsyn_flows SEC(".maps");

/* One event per completed handshake, for `xdpsyn flows --follow`. */
struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 256 * 1024);
} xdpsyn_events SEC(".maps");

/* Top sources: the per-CPU count-min sketch and the heavy-hitter table
 * (include/xdpsyn.h explains both). */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct xdpsyn_cms);
} xdpsyn_cms SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 4096);
	__type(key, struct xdpsyn_prefix);
	__type(value, struct xdpsyn_top_val);
} xdpsyn_top SEC(".maps");

/* Handshakes being tracked (track policy): SYN seen, SYN-ACK sent, or
 * reset / timed out. A completed one moves to xdpsyn_flows. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 65536);
	__uint(map_flags, BPF_F_NO_COMMON_LRU);
	__type(key, struct xdpsyn_flow_key);
	__type(value, struct xdpsyn_flow);
} xdpsyn_hs SEC(".maps");

/* The network namespace's own addresses (include/xdpsyn.h). */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, XDPSYN_LOCAL_ADDRS_MAX);
	__type(key, struct xdpsyn_addr);
	__type(value, __u8);
} xdpsyn_local_addrs SEC(".maps");

/* TC: recent hand-offs, so that the second segment of a batch (final ACK
 * and data together) never makes a second request socket. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 16384);
	__uint(map_flags, BPF_F_NO_COMMON_LRU);
	__type(key, struct xdpsyn_flow_key);
	__type(value, struct xdpsyn_handoff);
} xdpsyn_handoffs SEC(".maps");

/* Auto policy: SYN rate windows per CPU, and the policy state with its
 * timer (include/xdpsyn.h). */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct xdpsyn_rate);
} xdpsyn_rate SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct xdpsyn_policy_state);
} xdpsyn_policy SEC(".maps");

static __always_inline struct xdpsyn_policy_state *policy_get(void)
{
	__u32 zero = 0;

	return bpf_map_lookup_elem(&xdpsyn_policy, &zero);
}

static __always_inline void count(struct xdpsyn_stats *st, enum xdpsyn_counter c)
{
	if (st)
		st->cnt[c]++;
}

static __always_inline struct xdpsyn_stats *stats_get(void)
{
	__u32 zero = 0;

	return bpf_map_lookup_elem(&xdpsyn_stats, &zero);
}

static __always_inline int port_protected(__u8 family, __be16 port)
{
	__u32 key = family;
	struct xdpsyn_ports *p = bpf_map_lookup_elem(&xdpsyn_ports, &key);
	__u16 hport = bpf_ntohs(port);

	if (!p)
		return 0;
	return (p->bits[hport >> 6] >> (hport & 63)) & 1;
}

/* The current and previous cookie keys as the config names them. */
static __always_inline int keys_get(const struct xdpsyn_config *cfg,
				    struct cookie_keys *k)
{
	__u32 cur = cfg->key_cur & 1, prev = cur ^ 1;

	k->cur = bpf_map_lookup_elem(&xdpsyn_keys, &cur);
	k->prev = bpf_map_lookup_elem(&xdpsyn_keys, &prev);
	k->prev_until = cfg->key_prev_until;
	return k->cur ? 0 : -1;
}

#endif
