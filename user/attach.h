/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* xdpsyn attach: its arguments (attach_opts.c parses them) and the
 * settings derived from them, shared with attach.c. */
#ifndef XDPSYN_ATTACH_H
#define XDPSYN_ATTACH_H

#include "cli.h"

/* --tc: how the TC programs are attached (the row's values, in order). */
enum tc_mode {
	TC_AUTO,   /* tcx where the kernel has it (>= 6.6), else clsact */
	TC_TCX,    /* tcx links, or fail */
	TC_CLSACT, /* classic clsact filters */
};

struct attach_args {
	const char *ifname;
	int ifindex;
	struct setting_vals sv;  /* the settings: given, or their defaults */
	/* of sv, as attach uses them: */
	__u32 xdp_flags;         /* --mode */
	int policy;              /* enum xdpsyn_policy */
	enum tc_mode tc_mode;
	int handoff;             /* enum xdpsyn_handoff_mode, -1: auto */
	long priority;           /* libxdp run priority, lower first */
	long flows_max, hs_max;
	/* not settings: */
	const char *key_file;
	bool set_sysctl;
	bool xdp_others;         /* XDP programs on the interface already */
	int vlan;                /* enum vlan_mode */
	/* gateway mode (--gateway): IFACE is the clients' side */
	bool gateway;
	const char *gw_ifname;   /* IFACE_S, the servers' side */
	int gw_ifindex;
	bool gw_xdp_others;      /* XDP programs on IFACE_S already */
	long gw_conns;           /* the state table's size */
};

/* Parse attach's argv into A. 0, -1 after --help, or an exit code after
 * a message. */
int attach_parse(int argc, char **argv, struct attach_args *a);
/* The config map's value of A: the settings, the defaults derived from
 * the interface and the host (MSS from the MTU, window scale and TTL from
 * sysctls), the interface's MAC. 0 or an exit code after a message. */
int config_fill(const struct attach_args *a, struct xdpsyn_config *cfg);

#endif
