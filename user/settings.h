/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The settings of `xdpsyn attach` and `xdpsyn set`, one row each. Parsing
 * (attach's options, set's KEY=VALUE), both --help texts, the values
 * written to the config map and what status prints come from this table;
 * tests/docs/check_man.py checks that man/xdpsyn.8 documents every row
 * with its range and default. A new setting is one row here (and its
 * field in struct xdpsyn_config, if the BPF programs read it).
 *
 * X(ID, name, type, where in the config, min, max, default, default text,
 *   unit, flags, values, help)
 *   name     as the user types it: attach --NAME, set NAME=
 *   type     ST_UINT (min..max), ST_ONOFF (attach --NAME / --no-NAME, set
 *            NAME=on|off), ST_ENUM (one of VALUES, stored as its index),
 *            ST_PORTS (a port list), ST_ACTION (set only: NAME=VALUES),
 *            ST_IFNAME (an interface name), ST_PREFIXES (a list of IPv4
 *            and IPv6 prefixes)
 *   where    CFG(field of struct xdpsyn_config), or NOCFG (attach uses the
 *            value itself: a map size, a mode)
 *   default  the value when not given; DEF_DERIVED: attach derives it (the
 *            default text says from what); DEF_NONE: no value
 *   unit     "s" (seconds: status prints 64s, JSON key name_s), or ""
 *   flags    SF_ATTACH (an attach option), SF_LIVE (a key of set),
 *            SF_SHOW_SETTINGS / SF_SHOW_TRACKER (a status line),
 *            SF_JSON_POLICY (its status JSON key is in "policy"),
 *            SF_GATEWAY (gateway mode only: attach refuses it without
 *            --gateway, set on a local-mode attachment; status shows it
 *            in the gateway section), SF_SHOW_GATEWAY (a line of that
 *            section)
 */
#ifndef XDPSYN_SETTINGS_H
#define XDPSYN_SETTINGS_H

#include <stdbool.h>
#include <stddef.h>
#include "xdpsyn.h"

enum setting_type { ST_UINT, ST_ONOFF, ST_ENUM, ST_PORTS, ST_ACTION, ST_IFNAME,
		    ST_PREFIXES };

#define SF_ATTACH 0x01
#define SF_LIVE 0x02
#define SF_SHOW_SETTINGS 0x04
#define SF_SHOW_TRACKER 0x08
#define SF_JSON_POLICY 0x10
#define SF_GATEWAY 0x20
#define SF_SHOW_GATEWAY 0x40

#define DEF_DERIVED (-1L)
#define DEF_NONE (-2L)

#define CFG(f) .cfg_off = offsetof(struct xdpsyn_config, f), \
	.cfg_size = sizeof(((struct xdpsyn_config *)0)->f)
#define NOCFG .cfg_size = 0

#define FLOWS_MAX_LIMIT (1 << 24)
#define SYN_RATE_MAX 100000000
#define POLICY_SECS_MAX 3600
#define XDP_PRIO_DEFAULT 20 /* after xdp-filter (10), before libxdp's 50 */
#define XDP_PRIO_MAX 1000
#define GW_IDLE_MAX (30 * 86400)
#define GW_ADOPT_MAX 86400

#define SF_BOTH (SF_ATTACH | SF_LIVE)
#define XDPSYN_SETTINGS(X)                                                     \
	X(PORTS, "ports", ST_PORTS, NOCFG, 0, 0, DEF_NONE,                     \
	  "none, everything passes", "", SF_BOTH, NULL,                        \
	  "protected ports, both families: 80,443,8000-8100 or none")          \
	X(PORTS4, "ports4", ST_PORTS, NOCFG, 0, 0, DEF_NONE, NULL, "", SF_LIVE, \
	  NULL, "protected ports, IPv4 only")                                  \
	X(PORTS6, "ports6", ST_PORTS, NOCFG, 0, 0, DEF_NONE, NULL, "", SF_LIVE, \
	  NULL, "protected ports, IPv6 only")                                  \
	X(MODE, "mode", ST_ENUM, NOCFG, 0, 1, 0, NULL, "", SF_ATTACH,          \
	  "native|generic", "XDP mode; never falls back")                      \
	X(PRIORITY, "priority", ST_UINT, NOCFG, 0, XDP_PRIO_MAX,               \
	  XDP_PRIO_DEFAULT, NULL, "", SF_ATTACH, NULL,                         \
	  "run order among the interface's XDP programs (libxdp's "            \
	  "dispatcher), lower first: xdp-filter's is 10, libxdp's default "    \
	  "50; XDP_PASS goes on to the next, XDP_TX and XDP_DROP end the "     \
	  "chain")                                                             \
	X(MSS4, "mss4", ST_UINT, CFG(mss[XDPSYN_V4]), 88, 65535, DEF_DERIVED,  \
	  "the MTU less 40", "", SF_BOTH | SF_SHOW_SETTINGS, NULL,             \
	  "MSS offered over IPv4")                                             \
	X(MSS6, "mss6", ST_UINT, CFG(mss[XDPSYN_V6]), 88, 65535, DEF_DERIVED,  \
	  "the MTU less 60", "", SF_BOTH | SF_SHOW_SETTINGS, NULL,             \
	  "MSS offered over IPv6")                                             \
	X(WSCALE, "wscale", ST_UINT, CFG(wscale), 0, XDPSYN_WSCALE_MAX,        \
	  DEF_DERIVED, "what the kernel would offer, from net.ipv4.tcp_rmem "  \
	  "and net.core.rmem_max", "", SF_BOTH | SF_SHOW_SETTINGS, NULL,       \
	  "window scale offered (not with the kernel-cookie hand-off)")        \
	X(TTL, "ttl", ST_UINT, CFG(ttl), 1, 255, DEF_DERIVED,                  \
	  "net.ipv4.ip_default_ttl", "", SF_BOTH | SF_SHOW_SETTINGS, NULL,     \
	  "TTL / hop limit of SYN-ACKs")                                       \
	X(WINDOW, "window", ST_UINT, CFG(window), 1, 65535, 65535, NULL, "",   \
	  SF_BOTH | SF_SHOW_SETTINGS, NULL, "SYN-ACK window")                  \
	X(ECN, "ecn", ST_ONOFF, CFG(ecn), 0, 1, 1, NULL, "",                   \
	  SF_BOTH | SF_SHOW_SETTINGS, NULL, "agree to ECN when the client asks") \
	X(TOP_PLEN4, "top-plen4", ST_UINT, CFG(top_plen4), 1, 32,              \
	  XDPSYN_TOP_PLEN4_DEFAULT, NULL, "", SF_BOTH | SF_SHOW_TRACKER, NULL, \
	  "top sources: IPv4 prefix length (SYNs counted before a change "     \
	  "stay under the old prefix)")                                        \
	X(TOP_PLEN6, "top-plen6", ST_UINT, CFG(top_plen6), 1, 128,             \
	  XDPSYN_TOP_PLEN6_DEFAULT, NULL, "", SF_BOTH | SF_SHOW_TRACKER, NULL, \
	  "top sources: IPv6 prefix length")                                   \
	X(FLOWS_MAX, "flows-max", ST_UINT, NOCFG, 1, FLOWS_MAX_LIMIT, 65536,   \
	  NULL, "", SF_ATTACH | SF_SHOW_TRACKER, NULL, "flow records kept (LRU)") \
	X(HS_MAX, "handshakes-max", ST_UINT, NOCFG, 1, FLOWS_MAX_LIMIT, 65536, \
	  NULL, "", SF_ATTACH | SF_SHOW_TRACKER, NULL,                         \
	  "handshakes in progress tracked (LRU)")                              \
	X(POLICY, "policy", ST_ENUM, CFG(policy), 0, 2, XDPSYN_POLICY_PROXY,   \
	  NULL, "", SF_BOTH | SF_JSON_POLICY, "proxy|track|auto",              \
	  "what XDP does with SYNs. proxy: answer them with cookies; track: "  \
	  "pass them to the kernel and record each handshake; auto: track "    \
	  "until the SYN rate reaches syn-rate (or the kernel sends its own "  \
	  "cookies), then proxy until it stays below half that for calm "      \
	  "seconds")                                                           \
	X(SYN_RATE, "syn-rate", ST_UINT, CFG(syn_rate), 1, SYN_RATE_MAX,       \
	  DEF_NONE, "none", "", SF_BOTH | SF_JSON_POLICY, NULL,                \
	  "auto: SYNs/s that switch to proxy (required with policy auto)")     \
	X(CALM, "calm", ST_UINT, CFG(calm_s), 1, POLICY_SECS_MAX, 10, NULL,    \
	  "s", SF_BOTH | SF_JSON_POLICY, NULL,                                 \
	  "auto: seconds below half the syn-rate to switch back to track")     \
	X(HS_TIMEOUT, "handshake-timeout", ST_UINT, CFG(hs_timeout_s), 1,      \
	  POLICY_SECS_MAX, XDPSYN_HS_TIMEOUT_DEFAULT, NULL, "s",               \
	  SF_BOTH | SF_SHOW_TRACKER | SF_JSON_POLICY, NULL,                    \
	  "track: an incomplete handshake older than this shows as timed "     \
	  "out")                                                               \
	X(TC, "tc", ST_ENUM, NOCFG, 0, 2, 0, NULL, "", SF_ATTACH, "auto|tcx|clsact", \
	  "how the TC programs are attached. auto: as tcx links at the front " \
	  "of the chain where the kernel has tcx (>= 6.6), else clsact "       \
	  "filters (ingress at priority 1 when free)")                         \
	X(HANDOFF, "handoff", ST_ENUM, NOCFG, 0, 2, 0, NULL, "", SF_ATTACH,    \
	  "auto|reqsk|kernel-cookie",                                          \
	  "how a validated handshake reaches the listener. auto: reqsk where " \
	  "the kernel has bpf_sk_assign_tcp_reqsk (>= 6.9), else "             \
	  "kernel-cookie; reqsk: our cookie, every option the client "         \
	  "offered; kernel-cookie: the kernel's own cookie (>= 6.1; needs "    \
	  "tcp_syncookies 2; keeps the MSS, and window scale, SACK, ECN only " \
	  "for clients with timestamps and tcp_timestamps 2)")                 \
	X(VLAN, "vlan", ST_ENUM, NOCFG, 0, 2, 0, NULL, "", SF_ATTACH,          \
	  "auto|frame|metadata",                                               \
	  "VLAN tags. auto: metadata when IFACE has VLAN sub-interfaces and "  \
	  "strips their tags on receive (rxvlan), else frame; frame: only "    \
	  "tags in the frame; metadata: read stripped tags "                   \
	  "(bpf_xdp_metadata_rx_vlan_tag, >= 6.8, native mode, no other XDP "  \
	  "program) and tag SYN-ACKs alike")                                   \
	X(GATEWAY, "gateway", ST_IFNAME, NOCFG, 0, 0, DEF_NONE,               \
	  "none, local mode", "", SF_ATTACH, NULL,                             \
	  "gateway mode: the servers are behind this host, reached through "   \
	  "IFACE_S (IFACE is the clients' side); this host must forward")      \
	X(SERVERS, "servers", ST_PREFIXES, NOCFG, 0, 0, DEF_NONE,              \
	  "what routes out IFACE_S", "", SF_ATTACH | SF_GATEWAY, NULL,         \
	  "gateway: the servers' prefixes, IPv4 and IPv6: "                    \
	  "10.0.1.0/24,fd00::/64")                                             \
	X(GW_CONNS, "gw-conns", ST_UINT, NOCFG, 1, FLOWS_MAX_LIMIT,            \
	  XDPSYN_GW_CONNS_DEFAULT, NULL, "", SF_ATTACH | SF_GATEWAY |          \
	  SF_SHOW_GATEWAY, NULL,                                               \
	  "gateway: connections the state table holds (when full, new "        \
	  "connections wait)")                                                 \
	X(GW_IDLE, "gw-idle", ST_UINT, CFG(gw_idle_s), 1, GW_IDLE_MAX,         \
	  XDPSYN_GW_IDLE_DEFAULT, NULL, "s", SF_BOTH | SF_GATEWAY |             \
	  SF_SHOW_GATEWAY, NULL,                                               \
	  "gateway: an idle connection's state is removed after this")         \
	X(GW_CLOSE, "gw-close", ST_UINT, CFG(gw_close_s), 1, POLICY_SECS_MAX,  \
	  XDPSYN_GW_CLOSE_DEFAULT, NULL, "s", SF_BOTH | SF_GATEWAY |            \
	  SF_SHOW_GATEWAY, NULL,                                               \
	  "gateway: a closed connection's state (FIN both ways, or RST) is "   \
	  "removed after this")                                                \
	X(GW_SYN_TIMEOUT, "gw-syn-timeout", ST_UINT, CFG(gw_syn_timeout_s), 1, \
	  POLICY_SECS_MAX, XDPSYN_GW_SYN_TIMEOUT_DEFAULT, NULL, "s",           \
	  SF_BOTH | SF_GATEWAY | SF_SHOW_GATEWAY, NULL,                        \
	  "gateway: state waiting for the server's SYN-ACK is removed after "  \
	  "this")                                                              \
	X(GW_FORWARD, "gw-forward", ST_ENUM, CFG(gw_forward), 0, 1,             \
	  XDPSYN_GW_FORWARD_XDP, NULL, "", SF_BOTH | SF_GATEWAY |               \
	  SF_SHOW_GATEWAY, "xdp|kernel",                                       \
	  "gateway: how translated segments go on. xdp: bpf_fib_lookup and "  \
	  "XDP_REDIRECT where the route is plain (the other side's "           \
	  "interface, neighbour known, untagged), else the kernel; kernel: "   \
	  "always the kernel's forwarding, so that its firewall sees every "   \
	  "segment")                                                           \
	X(GW_ADOPT, "gw-adopt", ST_UINT, NOCFG, 0, GW_ADOPT_MAX,               \
	  XDPSYN_GW_ADOPT_DEFAULT, NULL, "s", SF_ATTACH | SF_GATEWAY, NULL,    \
	  "gateway: for this long after the attach, segments of connections "  \
	  "older than it are adopted (passed on with nothing to translate); "  \
	  "0: none")                                                           \
	X(ADDRESSES, "addresses", ST_ACTION, NOCFG, 0, 0, DEF_NONE, NULL, "",  \
	  SF_LIVE, "refresh",                                                  \
	  "list this network namespace's addresses again (on a host that "     \
	  "does not forward, SYNs for others go to the kernel; status warns "  \
	  "when one is missing)")

#define SETTING_ENUM_(id, ...) SETTING_##id,
enum setting_id { XDPSYN_SETTINGS(SETTING_ENUM_) SETTING_N };
#undef SETTING_ENUM_

struct setting {
	const char *name;
	enum setting_type type;
	unsigned flags;             /* SF_* */
	size_t cfg_off, cfg_size;   /* cfg_size 0: not in the config */
	long min, max, def;
	const char *def_text;       /* NULL: def itself */
	const char *unit;
	const char *values;         /* ST_ENUM, ST_ACTION: "a|b|c" */
	const char *help;
};

/* The table, by enum setting_id (settings_table.c). */
extern const struct setting settings[SETTING_N];

#endif
