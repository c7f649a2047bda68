/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* The maps of the test TC programs that tests/tools/tcxload.c loads
 * (noharm_tc, noharm_delay, vlan_emu): it writes noharm_cfg ([0] a TCP
 * port, [1] the direction, 0 ingress / 1 egress, [2] the program's own
 * argument) and reads noharm_cnt (four counters, each program says which). */
#ifndef NOHARM_MAPS_H
#define NOHARM_MAPS_H

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 4);
	__type(key, __u32);
	__type(value, __u64);
} noharm_cnt SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 3);
	__type(key, __u32);
	__type(value, __u32);
} noharm_cfg SEC(".maps");

static __always_inline void add(__u32 i, __u64 v)
{
	__u64 *c = bpf_map_lookup_elem(&noharm_cnt, &i);

	if (c)
		__sync_fetch_and_add(c, v);
}

static __always_inline __u32 cfg(__u32 i)
{
	__u32 *v = bpf_map_lookup_elem(&noharm_cfg, &i);

	return v ? *v : 0;
}

#endif
