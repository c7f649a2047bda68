// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* xdpsyn attach: its options (the settings of settings.h and a few more),
 * its --help, and the config map's value they give. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/if_link.h>
#include "attach.h"

#define MSS_MIN 88

/* getopt values: 256 + setting id, 512 + id for --no-NAME (on/off), and
 * the options that are not settings. */
#define O_SETTING 256
#define O_NO 512
enum { O_KEYFILE = 1024, O_SYSCTL };
static const struct {
	struct option opt;
	const char *left, *help;
} other_opts[] = {
	{ { "key-file", required_argument, NULL, O_KEYFILE }, "  --key-file PATH",
	  "cookie key: 16 bytes or 32 hex characters, not readable by "
	  "group/others (default: random)" },
	{ { "set-sysctl", no_argument, NULL, O_SYSCTL }, "  --set-sysctl",
	  "set net.ipv4.tcp_syncookies to 1 if it is 0 (for kernel-cookie: "
	  "tcp_syncookies to 2, and tcp_timestamps to 2 if it is 1)" },
	{ { "verbose", no_argument, NULL, 'v' }, "  -v, --verbose",
	  "libbpf debug output" },
	{ { "help", no_argument, NULL, 'h' }, "  -h, --help", "this help" },
};
#define NOTHER (sizeof(other_opts) / sizeof(other_opts[0]))

static void attach_help(FILE *f)
{
	fprintf(f,
		"Usage: xdpsyn attach IFACE [OPTIONS]\n"
		"       xdpsyn attach IFACE --gateway IFACE_S [--servers LIST] [OPTIONS]\n"
		"\n"
		"Load the XDP and TC programs, attach them to IFACE and pin everything\n"
		"under " PIN_BASE "/IFACE/. Needs kernel >= 6.1 and\n"
		"net.ipv4.tcp_syncookies != 0 (2 for the kernel-cookie hand-off).\n"
		"With --gateway the servers are behind this host: IFACE (the clients'\n"
		"side) and IFACE_S (the servers' side) get XDP programs, IFACE_S a TC\n"
		"ingress program; this host must forward (net.ipv4.ip_forward=1).\n"
		"Waits (up to %d s) for another attach or detach.\n"
		"\n"
		"Options:\n", LOCK_WAIT_S);
	settings_help(f, SF_ATTACH);
	for (size_t i = 0; i < NOTHER; i++)
		help_item(f, other_opts[i].left, 22, other_opts[i].help);
}

/* The options: every attach setting (on/off ones twice), then the others. */
static struct option *attach_options(void)
{
	static char no_names[SETTING_N][40];
	static struct option opts[2 * (size_t)SETTING_N + NOTHER + 1];
	int n = 0;

	if (opts[0].name)
		return opts;
	for (int i = 0; i < SETTING_N; i++) {
		const struct setting *s = &settings[i];

		if (!(s->flags & SF_ATTACH))
			continue;
		opts[n++] = (struct option){ s->name, s->type == ST_ONOFF ?
			no_argument : required_argument, NULL, O_SETTING + i };
		if (s->type != ST_ONOFF)
			continue;
		snprintf(no_names[i], sizeof(no_names[i]), "no-%s", s->name);
		opts[n++] = (struct option){ no_names[i], no_argument, NULL,
					     O_NO + i };
	}
	for (size_t i = 0; i < NOTHER; i++)
		opts[n++] = other_opts[i].opt;
	return opts;
}

/* What attach uses of the settings, in its own terms. */
static void attach_args_of(struct attach_args *a)
{
	const long *v = a->sv.v;

	a->xdp_flags = v[SETTING_MODE] ? XDP_FLAGS_SKB_MODE : XDP_FLAGS_DRV_MODE;
	a->policy = v[SETTING_POLICY];
	a->tc_mode = v[SETTING_TC];
	a->handoff = v[SETTING_HANDOFF] - 1; /* auto: -1 */
	a->vlan = (int)v[SETTING_VLAN] - 1; /* enum vlan_mode: auto -1 */
	a->priority = v[SETTING_PRIORITY];
	a->flows_max = v[SETTING_FLOWS_MAX];
	a->hs_max = v[SETTING_HS_MAX];
	a->gateway = a->sv.given[SETTING_GATEWAY];
	a->gw_ifname = a->gateway ? a->sv.ifname : NULL;
	a->gw_conns = v[SETTING_GW_CONNS];
}

/* Gateway mode's options: the gateway settings need --gateway; what does
 * not apply to it is refused, naming why. 0 or EXIT_USAGE. */
static int gateway_args_check(const struct attach_args *a)
{
	const bool *given = a->sv.given;

	for (int i = 0; !a->gateway && i < SETTING_N; i++)
		if (given[i] && (settings[i].flags & SF_GATEWAY))
			return usage_err("attach", "--%s is a gateway setting: add "
					 "--gateway IFACE_S (the interface toward "
					 "the servers), or leave it out",
					 settings[i].name);
	if (!a->gateway)
		return 0;
	if (!strcmp(a->gw_ifname, a->ifname))
		return usage_err("attach", "--gateway %s: the servers' side must be "
				 "another interface than %s, the clients' side",
				 a->gw_ifname, a->ifname);
	if (given[SETTING_POLICY] && a->policy != XDPSYN_POLICY_PROXY)
		return usage_err("attach", "--policy %s with --gateway: a gateway "
				 "answers every SYN to the servers with a cookie "
				 "(proxy); the track and auto policies watch a local "
				 "listener's handshakes: leave --policy out",
				 a->policy == XDPSYN_POLICY_TRACK ? "track" : "auto");
	if (given[SETTING_HANDOFF] && a->handoff == XDPSYN_HANDOFF_KCOOKIE)
		return usage_err("attach", "--handoff kernel-cookie with --gateway: "
				 "the servers are other hosts, whose kernels never "
				 "see our cookies (the gateway opens each connection "
				 "to the server itself): leave --handoff out");
	if (a->vlan == VLAN_METADATA)
		return usage_err("attach", "--vlan metadata with --gateway: the "
				 "gateway's programs read tags in the frame only "
				 "(turn the offload off: ethtool -K %s rxvlan off), "
				 "leave --vlan out", a->ifname);
	return 0;
}

int attach_parse(int argc, char **argv, struct attach_args *a)
{
	const struct option *opts = attach_options();
	char shown[96];
	int c, ret = 0;

	while (!ret && (c = getopt_long(argc, argv, "vh", opts, NULL)) != -1) {
		if (c >= O_NO && c < O_NO + SETTING_N) {
			a->sv.v[c - O_NO] = 0;
			a->sv.given[c - O_NO] = true;
		} else if (c >= O_SETTING && c < O_SETTING + SETTING_N &&
			   settings[c - O_SETTING].type == ST_ONOFF) {
			a->sv.v[c - O_SETTING] = 1;
			a->sv.given[c - O_SETTING] = true;
		} else if (c >= O_SETTING && c < O_SETTING + SETTING_N) {
			snprintf(shown, sizeof(shown), "--%s %s",
				 settings[c - O_SETTING].name, optarg);
			ret = setting_parse("attach", shown, c - O_SETTING, optarg,
					    &a->sv);
		} else if (c == O_KEYFILE) {
			a->key_file = optarg;
		} else if (c == O_SYSCTL) {
			a->set_sysctl = true;
		} else if (c == 'v') {
			verbose = true;
		} else if (c == 'h') {
			attach_help(stdout);
			return -1;
		} else {
			return bad_option("attach", argv);
		}
	}
	if (ret)
		return ret;
	if (optind + 1 != argc)
		return usage_err("attach", optind == argc ? "missing IFACE" :
				 "one interface at a time");
	setting_vals_defaults(&a->sv);
	attach_args_of(a);
	if (a->policy == XDPSYN_POLICY_AUTO && !a->sv.given[SETTING_SYN_RATE])
		return usage_err("attach", "--policy auto needs --syn-rate N (the "
				 "SYNs/s that switch to proxy)");
	a->ifname = argv[optind];
	return gateway_args_check(a);
}

/* The window scale the kernel advertises (tcp_select_initial_window): from
 * the largest receive buffer a socket may get, ilog2(space) - 15. */
static long default_wscale(void)
{
	char buf[128];
	unsigned long r0, r1, r2, space = 0;
	long core_max;
	int ws = 0;

	if (!sysctl_read("net.ipv4.tcp_rmem", buf, sizeof(buf)) &&
	    /* NOLINTNEXTLINE(cert-err34-c): kernel-formatted tcp_rmem, three in-range decimals */
	    sscanf(buf, "%lu %lu %lu", &r0, &r1, &r2) == 3)
		space = r2;
	if (!sysctl_read_long("net.core.rmem_max", &core_max) &&
	    (unsigned long)core_max > space)
		space = core_max;
	while ((space >> 1) > 0 && ws < 64) {
		space >>= 1;
		ws++;
	}
	ws -= 15;
	return ws < 0 ? 0 : ws > XDPSYN_WSCALE_MAX ? XDPSYN_WSCALE_MAX : ws;
}

static long clamp_mss(long v)
{
	return v < MSS_MIN ? MSS_MIN : v > 65535 ? 65535 : v;
}

/* The gateway fields of the config: zero in local mode (the settings'
 * defaults were written), else the interfaces, the flags and the end of
 * the adopt window. */
static void gateway_config(const struct attach_args *a,
			   struct xdpsyn_config *cfg)
{
	if (!a->gateway) {
		cfg->gw_idle_s = cfg->gw_close_s = cfg->gw_syn_timeout_s = 0;
		return;
	}
	cfg->gw_flags = XDPSYN_GWCFG_ON;
	if (a->sv.nprefixes)
		cfg->gw_flags |= XDPSYN_GWCFG_PREFIXES;
	cfg->gw_ifindex = a->gw_ifindex;
	cfg->gw_ifindex_c = a->ifindex;
	/* a local stack's frames on veth carry checksums left to offload
	 * (bpf/gateway.h, gw_csum_partial) */
	if (iface_is_veth(a->ifname) || iface_is_veth(a->gw_ifname))
		cfg->gw_flags |= XDPSYN_GWCFG_VETH;
	cfg->gw_adopt_until_ns = a->sv.v[SETTING_GW_ADOPT] ?
		mono_now_ns() + a->sv.v[SETTING_GW_ADOPT] * 1000000000ULL : 0;
}

int config_fill(const struct attach_args *a, struct xdpsyn_config *cfg)
{
	const bool *given = a->sv.given;
	long ttl = 64;
	int mtu;

	memset(cfg, 0, sizeof(*cfg));
	mtu = iface_mtu(a->ifname);
	if (mtu < 0 && (!given[SETTING_MSS4] || !given[SETTING_MSS6])) {
		errmsg(a->ifname, "cannot read the MTU: %s: give --mss4 and --mss6",
		       strerror(-mtu));
		return EXIT_RUNTIME;
	}
	/* the derived defaults, then every setting given or with a default */
	cfg->mss[XDPSYN_V4] = clamp_mss(mtu - 40);
	cfg->mss[XDPSYN_V6] = clamp_mss(mtu - 60);
	if (!given[SETTING_WSCALE])
		cfg->wscale = default_wscale();
	if (!given[SETTING_TTL] &&
	    (sysctl_read_long("net.ipv4.ip_default_ttl", &ttl) ||
	     ttl < 1 || ttl > 255)) {
		warnmsg("net.ipv4.ip_default_ttl", "unreadable, using TTL 64");
		ttl = 64;
	}
	cfg->ttl = ttl;
	settings_to_config(&a->sv, cfg, true);
	config_policy_derive(cfg);
	/* SYNs to another unicast MAC are not ours (a bridge port, a
	 * promiscuous NIC); other link types have no MAC: left 0, unchecked */
	iface_mac(a->ifname, cfg->mac);
	/* on a host that does not forward, SYNs for other addresses go to
	 * the kernel (maps_fill lists this netns's addresses) */
	cfg->flags |= XDPSYN_CFG_LOCAL_ADDRS;
	gateway_config(a, cfg);
	return 0;
}
