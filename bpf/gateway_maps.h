/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Gateway mode's maps (include/xdpsyn.h, "Gateway mode"): the state of
 * every validated connection, what each server's SYN-ACKs say, and the
 * servers' prefixes. Pinned with the others under
 * /sys/fs/bpf/xdpsyn/<IFACE_C>/; the state table outlives a detach. */
#ifndef XDPSYN_BPF_GATEWAY_MAPS_H
#define XDPSYN_BPF_GATEWAY_MAPS_H

#include "defs.h"

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, XDPSYN_GW_CONNS_DEFAULT); /* attach --gw-conns */
	__type(key, struct xdpsyn_gw_key);
	__type(value, struct xdpsyn_gw_conn);
} xdpsyn_gw_conns SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4096);
	__type(key, struct xdpsyn_gw_server_key);
	__type(value, struct xdpsyn_gw_server);
} xdpsyn_gw_servers SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, XDPSYN_GW_PREFIXES_MAX);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct xdpsyn_gw_prefix);
	__type(value, __u8);
} xdpsyn_gw_prefixes SEC(".maps");

#endif
