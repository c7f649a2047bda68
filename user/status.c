// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* xdpsyn status: attached interfaces, their programs and settings. */
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <json-c/json.h>
#include <linux/if_link.h>
#include "cli.h"

/* Counters shown by status; `xdpsyn stats` shows them all. */
static const enum xdpsyn_counter headline[] = {
	XDPSYN_CNT_SYNACK_TX, XDPSYN_CNT_ACK_VALID, XDPSYN_CNT_ACK_INVALID,
	XDPSYN_CNT_HANDOFF_OK,
};
#define NHEADLINE (sizeof(headline) / sizeof(headline[0]))
/* ... in gateway mode. */
static const enum xdpsyn_counter gw_headline[] = {
	XDPSYN_CNT_SYNACK_TX, XDPSYN_CNT_ACK_VALID, XDPSYN_CNT_ACK_INVALID,
	XDPSYN_CNT_GW_CONN_NEW, XDPSYN_CNT_GW_SERVER_SYNACK,
	XDPSYN_CNT_GW_SYNACK_TIMEOUT,
};
#define NGW_HEADLINE (sizeof(gw_headline) / sizeof(gw_headline[0]))

struct status {
	const char *ifname;
	bool have_meta, have_config, have_ports, have_stats, same_ns;
	struct xdpsyn_meta meta;
	struct xdpsyn_config cfg;
	struct setting_vals sv;      /* the settings (cfg, map sizes) */
	char *ports[XDPSYN_NFAMILIES];
	__u64 cnt[XDPSYN_CNT_MAX];
	__u32 xdp_prog_id, tc_prog_id, tc_egress_prog_id, link_id;
	bool have_policy;            /* policy pin read (else: an older xdpsyn) */
	struct xdpsyn_policy_state ps;
	__u64 syn_rate_now;          /* SYN/s, from the per-CPU rate windows */
	__s64 tai_off;               /* CLOCK_TAI - CLOCK_REALTIME, ns */
	__u32 flows_max;             /* 0: no flow map pinned */
	__u32 hs_max;                /* 0: no handshake map pinned */
	int link_ifindex;            /* an older xdpsyn's XDP link: 0 detached */
	bool legacy_link;            /* attached by an older xdpsyn (bpf_link) */
	/* the interface's XDP chain (libxdp's dispatcher), read in its netns:
	 * 0, or -errno (-ENOENT: no XDP program) */
	int xdp_err;
	struct xdp_chain xdp;
	int xdp_pos;                 /* ours in xdp.e[], -1 not there */
	const char *state;
	bool tcx;                    /* the TC programs are tcx links */
	/* The TC ingress [0] and egress [1] hooks in the order they run
	 * (read in the interface's netns only): entries, or -errno. */
	bool have_chains;
	int nchain[2];
	struct tc_entry chain[2][TC_CHAIN_MAX];
	int first_other;             /* chain[0]'s entry that runs before our
				      * ingress program; -1 none */
	struct handoff ho;
	char warn[6][480];           /* what is wrong, beside the state */
	int nwarn;
	struct gw_status *gw;        /* gateway mode (or its kept state) */
};

/* Gateway mode: IFACE_S, its programs, the servers, the state table. */
struct gw_status {
	bool kept_only;              /* detached, only the state table left */
	char ifname[32];             /* IFACE_S, or "ifindex N (gone)" */
	bool srv_present;            /* IFACE_S is there (this netns) */
	__u32 xdp_prog_id, tc_prog_id;
	bool tcx;
	int xdp_err;                 /* IFACE_S's XDP chain: 0 or -errno */
	struct xdp_chain xdp;
	int xdp_pos;                 /* ours in xdp.e[], -1 not there */
	int ntc;                     /* IFACE_S's TC ingress chain, or -errno */
	struct tc_entry tc[TC_CHAIN_MAX];
	struct xdpsyn_gw_prefix *prefixes;
	size_t nprefixes;
	bool have_conns;
	__u64 conns, conns_max, by_state[GW_NSTATES];
	__u64 adopted;               /* entries marked ADOPTED */
	bool have_servers;
	__u64 servers, learned, statics;
	char mismatch[160];          /* servers with opt_mismatch, "a:p, ..." */
	__s64 adopt_left_s;          /* the adopt window, seconds left; <= 0 closed */
};

static void status_help(FILE *f)
{
	fprintf(f,
		"Usage: xdpsyn status [IFACE] [-j]\n"
		"\n"
		"Interfaces xdpsyn is attached to (default: all), their programs,\n"
		"settings, the TC chains in the order they run, whether the\n"
		"hand-off can work (the sysctls and MPTCP listeners of this network\n"
		"namespace) and headline counters.\n"
		"\n"
		"Options:\n"
		"  -j, --json     JSON output: {\"interfaces\": [...]}, or the one\n"
		"                 interface's object when IFACE is given\n"
		"  -h, --help     this help\n");
}

static void status_warn(struct status *s, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void status_warn(struct status *s, const char *fmt, ...)
{
	va_list ap;

	if (s->nwarn >= (int)(sizeof(s->warn) / sizeof(s->warn[0])))
		return;
	va_start(ap, fmt);
	vsnprintf(s->warn[s->nwarn++], sizeof(s->warn[0]), fmt, ap);
	va_end(ap);
}

/* True when program ID is in N entries of chain C. */
static bool chain_has(const struct tc_entry *c, int n, __u32 id)
{
	for (int i = 0; id && i < n; i++)
		if (c[i].prog_id == id)
			return true;
	return false;
}

/* The TC chains of the interface; the state says when our programs are
 * not in them; a warning when something runs before our ingress one. */
static void status_read_chains(struct status *s)
{
	int n[2];

	for (int e = 0; e < 2; e++) {
		s->nchain[e] = tc_chain_read(s->meta.ifindex, e, s->chain[e],
					     TC_CHAIN_MAX);
		n[e] = s->nchain[e] < TC_CHAIN_MAX ? s->nchain[e] : TC_CHAIN_MAX;
	}
	s->have_chains = s->nchain[0] >= 0 && s->nchain[1] >= 0;
	s->first_other = -1;
	if (!s->have_chains)
		return;
	if (s->ho.kcookie)
		; /* the kernel-cookie hand-off has no TC ingress program */
	else if (!chain_has(s->chain[0], n[0], s->tc_prog_id))
		s->state = s->tcx ? "tcx link missing" : "tc filter missing";
	else if (s->tc_egress_prog_id &&
		 !chain_has(s->chain[1], n[1], s->tc_egress_prog_id))
		s->state = s->tcx ? "tcx egress link missing" :
				    "tc egress filter missing";
	s->first_other = s->ho.kcookie ? -1 :
			 tc_chain_first_other(s->chain[0], n[0], s->tc_prog_id);
	if (s->first_other >= 0) {
		char msg[256];

		tc_not_first_msg(msg, sizeof(msg), &s->chain[0][s->first_other]);
		status_warn(s, "%s", msg);
	}
}

/* The gateway's tables: its prefixes, the state table by state, the
 * servers learned and those an option mismatch names. */
static void gw_read_tables(struct gw_status *g, const struct pins *p)
{
	struct xdpsyn_gw_key *k = NULL;
	struct xdpsyn_gw_conn *v = NULL;
	struct xdpsyn_gw_server_key *sk = NULL;
	struct xdpsyn_gw_server *sv = NULL;
	size_t n, len = 0;

	if (p->gw_conns_fd >= 0 && !gw_conns_read(p->gw_conns_fd, &k, &v, &n)) {
		g->have_conns = true;
		g->conns = n;
		g->conns_max = map_max_entries(p->gw_conns_fd);
		for (size_t i = 0; i < n; i++) {
			g->by_state[v[i].state < GW_NSTATES ? v[i].state : 0]++;
			g->adopted += !!(v[i].flags & XDPSYN_GW_ADOPTED);
		}
	}
	free(k);
	free(v);
	if (p->gw_servers_fd >= 0 && !gw_servers_read(p->gw_servers_fd, &sk, &sv, &n)) {
		g->have_servers = true;
		g->servers = n;
		for (size_t i = 0; i < n; i++) {
			char ep[INET6_ADDRSTRLEN + 8];

			g->learned += !!(sv[i].flags & XDPSYN_GW_SRV_LEARNED);
			g->statics += !!(sv[i].flags & XDPSYN_GW_SRV_STATIC);
			if (!sv[i].opt_mismatch || len >= sizeof(g->mismatch) - 1)
				continue;
			fmt_endpoint(ep, sizeof(ep), sk[i].family, sk[i].addr, sk[i].port);
			len += snprintf(g->mismatch + len, sizeof(g->mismatch) - len,
					"%s%s (%llu)", len ? ", " : "", ep,
					sv[i].opt_mismatch);
		}
	}
	free(sk);
	free(sv);
	if (p->gw_prefixes_fd >= 0 &&
	    gw_prefixes_read(p->gw_prefixes_fd, &g->prefixes, &g->nprefixes))
		g->nprefixes = 0;
}

/* IFACE_S's programs: in its XDP chain and TC ingress chain (read in the
 * interface's netns only). Sets the state when one is missing. */
static void gw_read_srv(struct status *s, struct gw_status *g,
			const struct pins *p)
{
	const struct xdpsyn_meta *m = &s->meta;
	char name[IF_NAMESIZE];

	g->xdp_prog_id = prog_id_of(p->gw_xdp_prog_fd);
	g->tc_prog_id = prog_id_of(p->gw_tc_fd);
	g->tcx = (m->flags & XDPSYN_META_GW_TCX) || p->gw_tc_link_fd >= 0;
	g->srv_present = s->same_ns && if_indextoname(m->gw_ifindex, name);
	g->xdp_err = -ENOENT;
	g->xdp_pos = -1;
	g->ntc = -ENOENT;
	if (g->srv_present)
		snprintf(g->ifname, sizeof(g->ifname), "%s", name);
	else
		snprintf(g->ifname, sizeof(g->ifname), "ifindex %u%s", m->gw_ifindex,
			 s->same_ns ? " (gone)" : "");
	if (!g->srv_present) {
		if (s->same_ns && !strcmp(s->state, "attached"))
			s->state = "servers' interface gone";
		return;
	}
	g->xdp_err = xdp_chain_read(m->gw_ifindex, g->xdp_prog_id,
				    map_id_of(p->config_fd), &g->xdp);
	for (int i = 0; !g->xdp_err && i < g->xdp.n && g->xdp_pos < 0; i++)
		if (g->xdp.e[i].ours)
			g->xdp_pos = i;
	g->ntc = tc_chain_read(m->gw_ifindex, false, g->tc, TC_CHAIN_MAX);
	if (strcmp(s->state, "attached"))
		return;
	if (g->xdp_pos < 0)
		s->state = "servers' side xdp program detached";
	else if (g->ntc >= 0 && !chain_has(g->tc, g->ntc < TC_CHAIN_MAX ?
					   g->ntc : TC_CHAIN_MAX, g->tc_prog_id))
		s->state = g->tcx ? "servers' side tcx link missing" :
				    "servers' side tc filter missing";
}

/* What the gateway's counters and servers say is wrong. */
static void gw_warnings(struct status *s, const struct gw_status *g)
{
	__u64 to = s->cnt[XDPSYN_CNT_GW_SYNACK_TIMEOUT];
	__u64 one = s->cnt[XDPSYN_CNT_GW_ONE_WAY];
	__u64 ts = s->cnt[XDPSYN_CNT_GW_OPT_TS_LOST];
	__u64 sack = s->cnt[XDPSYN_CNT_GW_OPT_SACK_LOST];

	if (!s->have_stats)
		return;
	if (to || one)
		status_warn(s, "asymmetric routing? %llu connections got no SYN-ACK "
			    "from the server through this gateway (gw_synack_timeout) "
			    "and %llu carried segments one way only (gw_one_way): the "
			    "servers' replies to the clients must route back through "
			    "%s (check the servers' routes and default gateway, other "
			    "gateways or ECMP paths), or the servers are down "
			    "(synack_timeouts by server: xdpsyn servers %s)", to, one,
			    g->ifname, s->ifname);
	if (ts || sack)
		status_warn(s, "what cannot be translated: %llu connections were "
			    "told timestamps and %llu SACK that the server then "
			    "refused (their segments go on without them; learned for "
			    "the next connections): servers %s; set them with xdpsyn "
			    "servers %s set ADDR PORT ts=off sack=off", ts, sack,
			    g->mismatch[0] ? g->mismatch : "(none listed)", s->ifname);
}

/* Gateway mode, attached or its state kept. */
static void gw_status_read(struct status *s, const struct pins *p, bool kept)
{
	struct gw_status *g = calloc(1, sizeof(*g));

	if (!g)
		return;
	s->gw = g;
	g->kept_only = kept;
	gw_read_tables(g, p);
	if (kept || !s->have_config)
		return;
	s->sv.v[SETTING_GW_CONNS] = g->conns_max;
	s->sv.given[SETTING_GW_CONNS] = g->conns_max > 0;
	g->adopt_left_s = s->cfg.gw_adopt_until_ns ?
		((__s64)s->cfg.gw_adopt_until_ns - (__s64)mono_now_ns()) / 1000000000LL : 0;
	gw_read_srv(s, g, p);
	gw_warnings(s, g);
}

static void status_read(struct status *s, const struct pins *p)
{
	struct bpf_link_info li = {};
	struct bpf_prog_info pi = {};
	static const __u8 zero_mac[6];
	char name[IF_NAMESIZE];
	__u32 len, zero = 0;
	__u8 mac[6];
	bool gateway;

	if (pin_dir_state_only(s->ifname)) {
		s->state = "detached, gateway state kept";
		gw_status_read(s, p, true);
		return;
	}
	s->have_meta = p->have_meta;
	gateway = p->have_meta && (p->meta.flags & XDPSYN_META_GATEWAY);
	s->meta = p->meta;
	s->same_ns = s->have_meta && netns_is_current(&s->meta);
	s->have_config = p->config_fd >= 0 &&
			 !bpf_map_lookup_elem(p->config_fd, &zero, &s->cfg);
	if (p->ports_fd >= 0) {
		struct xdpsyn_ports *ports = malloc(sizeof(*ports));

		s->have_ports = ports != NULL;
		for (__u32 f = 0; s->have_ports && f < XDPSYN_NFAMILIES; f++) {
			s->have_ports = !bpf_map_lookup_elem(p->ports_fd, &f, ports);
			if (s->have_ports)
				s->ports[f] = ports_format(ports);
		}
		free(ports);
	}
	s->have_stats = p->stats_fd >= 0 && !counters_read(p->stats_fd, s->cnt);
	s->flows_max = p->flows_fd >= 0 ? map_max_entries(p->flows_fd) : 0;
	s->hs_max = p->hs_fd >= 0 ? map_max_entries(p->hs_fd) : 0;
	settings_of(&s->sv, s->have_config ? &s->cfg : NULL, s->flows_max,
		    s->hs_max);

	s->link_ifindex = -1;
	s->xdp_pos = -1;
	s->xdp_err = -ENOENT;
	len = sizeof(li);
	if (p->link_fd >= 0 && !bpf_obj_get_info_by_fd(p->link_fd, &li, &len)) {
		s->legacy_link = true;
		s->link_id = li.id;
		s->xdp_prog_id = li.prog_id;
		s->link_ifindex = li.xdp.ifindex;
	} else if (p->xdp_prog_fd >= 0) {
		s->xdp_prog_id = prog_id_of(p->xdp_prog_fd);
	}
	len = sizeof(pi);
	if (p->tc_fd >= 0 && !bpf_obj_get_info_by_fd(p->tc_fd, &pi, &len))
		s->tc_prog_id = pi.id;
	s->tc_egress_prog_id = prog_id_of(p->tc_egress_fd);
	s->have_policy = p->policy_fd >= 0 &&
			 !bpf_map_lookup_elem(p->policy_fd, &zero, &s->ps);
	if (s->have_policy)
		s->syn_rate_now = syn_rate_read(p->rate_fd);
	s->tai_off = tai_offset_ns();

	if (!s->legacy_link && s->xdp_prog_id && s->same_ns &&
	    if_indextoname(s->meta.ifindex, name)) {
		s->xdp_err = xdp_chain_read(s->meta.ifindex, s->xdp_prog_id,
					    map_id_of(p->config_fd), &s->xdp);
		for (int i = 0; !s->xdp_err && i < s->xdp.n && s->xdp_pos < 0; i++)
			if (s->xdp.e[i].ours)
				s->xdp_pos = i;
	}
	if (!s->have_meta || !s->have_config ||
	    (s->legacy_link ? s->link_ifindex < 0 : !s->xdp_prog_id))
		s->state = "incomplete";
	else if (s->legacy_link && s->link_ifindex == 0)
		s->state = s->same_ns && !if_indextoname(s->meta.ifindex, name) ?
			   "interface gone" : "xdp link detached";
	else if (!s->same_ns)
		s->state = "other netns";
	else if (!if_indextoname(s->meta.ifindex, name))
		s->state = "interface gone";
	else if (!s->legacy_link && s->xdp_pos < 0) {
		s->state = "xdp program detached";
		status_warn(s, "xdpsyn's XDP program %u is not in %s's XDP chain "
			    "(%s): SYNs reach the kernel unprotected: xdpsyn detach "
			    "%s, then attach again", s->xdp_prog_id, s->ifname,
			    s->xdp_err == -ENOENT ? "no XDP program attached" :
			    "removed by another tool", s->ifname);
	} else
		s->state = "attached";
	s->tcx = (s->have_meta && (s->meta.flags & XDPSYN_META_TCX)) ||
		 p->tc_link_fd >= 0;
	if (s->have_meta && !strcmp(s->state, "attached")) {
		char w[320];

		if (vlan_warning(s->ifname, s->meta.flags & XDPSYN_META_VLAN_META,
				 s->meta.xdp_flags & XDP_FLAGS_DRV_MODE, w, sizeof(w)))
			status_warn(s, "%s", w);
	}
	/* In our netns, with the interface there: the TC chains, with our
	 * programs in them and first on ingress */
	handoff_read(&s->ho, p, !gateway);
	if (gateway) {
		gw_status_read(s, p, false);
		return; /* no hand-off, no local listener: nothing below applies */
	}
	if (!strcmp(s->state, "attached"))
		status_read_chains(s);
	if (s->ho.other_netns)
		status_warn(s, "hand-off: the sysctls and MPTCP listeners shown "
			    "are this network namespace's, not the interface's: "
			    "run xdpsyn status there (nsenter --net=...)");
	/* on a host that does not forward, SYNs for an address missing from
	 * the list go to the kernel unprotected */
	if (s->have_config && s->same_ns && (s->cfg.flags & XDPSYN_CFG_LOCAL_ADDRS)) {
		char missing[256];
		int n = p->local_addrs_fd < 0 ? 0 :
			local_addrs_missing(p->local_addrs_fd, missing,
					    sizeof(missing));

		if (n > 0)
			status_warn(s, "%d address%s of this network namespace not in "
				    "xdpsyn's list (%s): if this host does not forward, "
				    "SYNs to them go to the kernel unprotected: xdpsyn set "
				    "%s addresses=refresh", n, n > 1 ? "es" : "", missing,
				    p->ifname);
	}
	/* SYNs to another unicast MAC are passed as not ours */
	if (s->have_config && s->same_ns && memcmp(s->cfg.mac, zero_mac, 6) &&
	    if_indextoname(s->meta.ifindex, name) && !iface_mac(name, mac) &&
	    memcmp(mac, s->cfg.mac, 6)) {
		char was[24], now_[24];

		fmt_mac(was, sizeof(was), s->cfg.mac);
		fmt_mac(now_, sizeof(now_), mac);
		status_warn(s, "the interface's MAC is %s, not %s as at attach: "
			    "SYNs to the new MAC pass unanswered: detach and "
			    "attach again", now_, was);
	}
}

static void status_free(struct status *s)
{
	if (s->gw)
		free(s->gw->prefixes);
	free(s->gw);
	for (int f = 0; f < XDPSYN_NFAMILIES; f++)
		free(s->ports[f]);
}

/* What XDP does with SYNs now: the policy, or under auto its state. */
static __u32 policy_state(const struct status *s)
{
	if (s->cfg.policy != XDPSYN_POLICY_AUTO || !s->have_policy)
		return s->cfg.policy == XDPSYN_POLICY_TRACK ? XDPSYN_POLICY_TRACK :
							      XDPSYN_POLICY_PROXY;
	return s->ps.state == XDPSYN_POLICY_PROXY ? XDPSYN_POLICY_PROXY :
						    XDPSYN_POLICY_TRACK;
}

static __u64 tai_to_real(const struct status *s, __u64 tai_ns)
{
	return tai_ns - s->tai_off;
}

static json_object *json_time(const struct status *s, __u64 tai_ns)
{
	char t[40];

	fmt_rfc3339(t, sizeof(t), tai_to_real(s, tai_ns));
	return json_object_new_string(t);
}

static json_object *policy_json(const struct status *s)
{
	json_object *o = json_object_new_object(), *h;
	char num[40];

#define ADD(k, v) json_object_object_add(o, k, v)
	settings_json(o, &s->sv, SF_JSON_POLICY, true);
	ADD("state", json_object_new_string(policy_name(policy_state(s))));
	if (s->have_policy) {
		__u64 real = tai_to_real(s, s->ps.since_ns);

		ADD("since", json_time(s, s->ps.since_ns));
		snprintf(num, sizeof(num), "%llu.%03llu", real / 1000000000ULL,
			 real / 1000000ULL % 1000);
		ADD("since_unix", json_object_new_double_s(real / 1e9, num));
		ADD("reason", json_object_new_string(
			switch_reason_name(s->ps.reason)));
	} else {
		ADD("older_xdpsyn", json_object_new_boolean(true));
	}
	if (!s->have_policy)
		goto out;
	ADD("syn_rate_now", json_object_new_uint64(s->syn_rate_now));
	ADD("switches_to_proxy", json_object_new_uint64(
		s->have_stats ? s->cnt[XDPSYN_CNT_POLICY_TO_PROXY] : 0));
	ADD("switches_to_track", json_object_new_uint64(
		s->have_stats ? s->cnt[XDPSYN_CNT_POLICY_TO_TRACK] : 0));
	ADD("kernel_cookie_last", s->ps.kcookie_ns ?
	    json_time(s, s->ps.kcookie_ns) : NULL);
	/* the auto policy's last switches, oldest first */
	h = json_object_new_array();
	for (__u64 i = s->ps.switches > XDPSYN_SWITCH_HIST ?
		       s->ps.switches - XDPSYN_SWITCH_HIST : 0;
	     i < s->ps.switches; i++) {
		const struct xdpsyn_switch *w = &s->ps.history[i % XDPSYN_SWITCH_HIST];
		json_object *e = json_object_new_object();

		json_object_object_add(e, "time", json_time(s, w->time_ns));
		json_object_object_add(e, "to", json_object_new_string(
			policy_name(w->to)));
		json_object_object_add(e, "reason", json_object_new_string(
			switch_reason_name(w->reason)));
		json_object_object_add(e, "syn_rate", json_object_new_uint64(w->rate));
		json_object_array_add(h, e);
	}
	ADD("history", h);
out:
#undef ADD
	return o;
}

/* {"mechanism": "tcx"|"clsact", "ingress": [...], "egress": [...],
 * "ingress_first": bool}: the chains in the order they run. */
static json_object *tc_json(const struct status *s)
{
	static const char *const hooks[] = { "ingress", "egress" };
	__u32 ours[2] = { s->tc_prog_id, s->tc_egress_prog_id };
	json_object *o = json_object_new_object();

	json_object_object_add(o, "mechanism", json_object_new_string(
		s->tcx ? "tcx" : "clsact"));
	if (!s->have_chains)
		return o;
	for (int h = 0; h < 2; h++) {
		json_object *arr = json_object_new_array();

		for (int i = 0; i < s->nchain[h] && i < TC_CHAIN_MAX; i++) {
			const struct tc_entry *e = &s->chain[h][i];
			json_object *j = json_object_new_object();

#define J(k, v) json_object_object_add(j, k, v)
			J("hook", json_object_new_string(e->tcx ? "tcx" : "clsact"));
			if (!e->tcx) {
				J("chain", json_object_new_int64(e->chain));
				J("prio", json_object_new_int64(e->prio));
				J("handle", json_object_new_int64(e->handle));
				J("kind", json_object_new_string(e->kind));
			}
			J("prog_id", json_object_new_int64(e->prog_id));
			J("name", json_object_new_string(e->name));
			J("xdpsyn", json_object_new_boolean(e->prog_id &&
							    e->prog_id == ours[h]));
#undef J
			json_object_array_add(arr, j);
		}
		json_object_object_add(o, hooks[h], arr);
	}
	json_object_object_add(o, "ingress_first", json_object_new_boolean(
		s->first_other < 0 && chain_has(s->chain[0], s->nchain[0] <
			TC_CHAIN_MAX ? s->nchain[0] : TC_CHAIN_MAX, s->tc_prog_id)));
	return o;
}

/* {"dispatcher_prog_id", "mode", "priority", "position" (1-based, 0: not
 * in the chain), "chain": [{"prog_id", "name", "priority",
 * "chain_call_actions", "xdpsyn"}]} in the order they run; null when not
 * read (another netns, the interface gone, an older xdpsyn's link). */
static json_object *xdp_json(const struct status *s)
{
	json_object *o, *arr;
	char acts[96];

	if (s->legacy_link || (s->xdp_err && s->xdp_err != -ENOENT) ||
	    !s->xdp_prog_id || !s->same_ns || !strcmp(s->state, "interface gone"))
		return NULL;
	o = json_object_new_object();
	arr = json_object_new_array();
	json_object_object_add(o, "dispatcher_prog_id", json_object_new_int64(
		s->xdp_err || s->xdp.legacy ? 0 : s->xdp.main_id));
	json_object_object_add(o, "mode", json_object_new_string(
		s->xdp_err ? "none" : s->xdp.mode == 2 ? "generic" : "native"));
	json_object_object_add(o, "priority", s->xdp_pos >= 0 && !s->xdp.legacy ?
		json_object_new_int64(s->xdp.e[s->xdp_pos].prio) : NULL);
	json_object_object_add(o, "position", json_object_new_int(s->xdp_pos + 1));
	for (int i = 0; !s->xdp_err && i < s->xdp.n; i++) {
		const struct xdp_entry *e = &s->xdp.e[i];
		json_object *j = json_object_new_object();

		xdp_actions_format(acts, sizeof(acts), e->chain_actions);
		json_object_object_add(j, "prog_id", json_object_new_int64(e->prog_id));
		json_object_object_add(j, "name", json_object_new_string(e->name));
		json_object_object_add(j, "priority", s->xdp.legacy ? NULL :
				       json_object_new_int64(e->prio));
		json_object_object_add(j, "chain_call_actions",
				       json_object_new_string(acts));
		json_object_object_add(j, "xdpsyn", json_object_new_boolean(e->ours));
		json_object_array_add(arr, j);
	}
	json_object_object_add(o, "chain", arr);
	return o;
}

/* {"kept_only", "iface_s", "servers": [...] (null: routed), "state_table":
 * {"count", "max", "states": {...}, "adopted"}, "adopt_left_s", the
 * gateway settings, "servers_known", "servers_learned", "servers_static",
 * "xdp_prog_id_s", "tc_prog_id_s", "tc_mechanism_s", "xdp_s"}. */
static json_object *gw_json(const struct status *s)
{
	const struct gw_status *g = s->gw;
	json_object *o = json_object_new_object(), *t, *st;
	char buf[64];

#define ADD(k, v) json_object_object_add(o, k, v)
	ADD("kept_only", json_object_new_boolean(g->kept_only));
	if (g->have_conns) {
		t = json_object_new_object();
		st = json_object_new_object();
		json_object_object_add(t, "count", json_object_new_uint64(g->conns));
		json_object_object_add(t, "max", json_object_new_uint64(g->conns_max));
		for (int i = 1; i < GW_NSTATES; i++)
			json_object_object_add(st, gw_state_name(i),
					       json_object_new_uint64(g->by_state[i]));
		if (g->by_state[0])
			json_object_object_add(st, "unknown",
					       json_object_new_uint64(g->by_state[0]));
		json_object_object_add(t, "states", st);
		json_object_object_add(t, "adopted", json_object_new_uint64(g->adopted));
		ADD("state_table", t);
	}
	if (g->kept_only)
		goto out;
	ADD("iface_c", json_object_new_string(s->ifname));
	ADD("iface_s", json_object_new_string(g->ifname));
	ADD("iface_s_ifindex", json_object_new_int64(s->meta.gw_ifindex));
	if (g->nprefixes) {
		t = json_object_new_array();
		for (size_t i = 0; i < g->nprefixes; i++) {
			gw_prefix_format(buf, sizeof(buf), &g->prefixes[i]);
			json_object_array_add(t, json_object_new_string(buf));
		}
		ADD("servers", t);
	} else {
		ADD("servers", NULL);
	}
	ADD("servers_routed", json_object_new_boolean(!g->nprefixes));
	ADD("adopt_left_s", json_object_new_int64(g->adopt_left_s > 0 ?
						  g->adopt_left_s : 0));
	settings_json(o, &s->sv, SF_SHOW_GATEWAY, false);
	ADD("servers_known", json_object_new_uint64(g->servers));
	ADD("servers_learned", json_object_new_uint64(g->learned));
	ADD("servers_static", json_object_new_uint64(g->statics));
	ADD("xdp_prog_id_s", json_object_new_int64(g->xdp_prog_id));
	ADD("xdp_s_attached", json_object_new_boolean(g->xdp_pos >= 0));
	ADD("tc_prog_id_s", json_object_new_int64(g->tc_prog_id));
	ADD("tc_mechanism_s", json_object_new_string(g->tcx ? "tcx" : "clsact"));
out:
#undef ADD
	return o;
}

static json_object *status_json(const struct status *s, __u64 now)
{
	json_object *o = json_object_new_object();
	json_object *c;

#define ADD(k, v) json_object_object_add(o, k, v)
	ADD("name", json_object_new_string(s->ifname));
	ADD("state", json_object_new_string(s->state));
	if (s->have_meta) {
		ADD("ifindex", json_object_new_int(s->meta.ifindex));
		ADD("mode", json_object_new_string(xdp_mode_name(s->meta.xdp_flags)));
		ADD("vlan", json_object_new_string(vlan_mode_name(
			s->meta.flags & XDPSYN_META_VLAN_META ? VLAN_METADATA : VLAN_FRAME)));
	}
	ADD("xdp_prog_id", json_object_new_int64(s->xdp_prog_id));
	ADD("tc_prog_id", json_object_new_int64(s->tc_prog_id));
	ADD("link_id", json_object_new_int64(s->link_id));
	ADD("xdp", xdp_json(s));
	if (s->have_meta) {
		ADD("tc_handle", json_object_new_int64(s->meta.tc_handle));
		ADD("tc_priority", json_object_new_int64(s->meta.tc_priority));
		ADD("attached_at", json_object_new_int64(s->meta.attached_at));
		ADD("key_rotated_at", json_object_new_int64(s->meta.key_rotated_at));
		ADD("key_age_s", json_object_new_int64(now - s->meta.key_rotated_at));
	}
	if (s->have_ports) {
		ADD("ports4", json_object_new_string(s->ports[XDPSYN_V4]));
		ADD("ports6", json_object_new_string(s->ports[XDPSYN_V6]));
	}
	if (s->have_config)
		ADD("key_slot", json_object_new_int(s->cfg.key_cur));
	settings_json(o, &s->sv, SF_SHOW_SETTINGS | SF_SHOW_TRACKER, false);
	if (s->tc_egress_prog_id)
		ADD("tc_egress_prog_id", json_object_new_int64(s->tc_egress_prog_id));
	if (s->have_config)
		ADD("policy", policy_json(s));
	if (s->have_config) {
		char mac[24];

		fmt_mac(mac, sizeof(mac), s->cfg.mac);
		ADD("mac", json_object_new_string(mac));
	}
	ADD("gateway", s->gw ? gw_json(s) : NULL);
	ADD("tc", s->gw ? NULL : tc_json(s)); /* a gateway's: in "gateway" */
	ADD("handoff", s->gw ? NULL : handoff_json(&s->ho));
	c = json_object_new_array();
	for (int i = 0; i < s->nwarn; i++)
		json_object_array_add(c, json_object_new_string(s->warn[i]));
	ADD("warnings", c);
	if (s->have_stats) {
		const enum xdpsyn_counter *h = s->gw ? gw_headline : headline;
		size_t nh = s->gw ? NGW_HEADLINE : NHEADLINE;

		c = json_object_new_object();
		for (size_t i = 0; i < nh; i++)
			json_object_object_add(c, counter_name(h[i]),
				json_object_new_uint64(s->cnt[h[i]]));
		ADD("counters", c);
	}
#undef ADD
	return o;
}

/* A CLOCK_TAI time as the local time of day, with the date when it is not
 * within the last day. */
static void fmt_when(char *buf, size_t len, const struct status *s,
		     __u64 tai_ns)
{
	__u64 real = tai_to_real(s, tai_ns), now = realtime_now_ns();
	time_t t = real / 1000000000ULL;
	struct tm tm;

	if (!localtime_r(&t, &tm) ||
	    !strftime(buf, len, real + 86400000000000ULL > now ? "%H:%M:%S" :
		      "%Y-%m-%d %H:%M:%S", &tm))
		snprintf(buf, len, "%llu", real / 1000000000ULL);
}

/* "3s" since a CLOCK_TAI time. */
static void fmt_ago(char *buf, size_t len, __u64 tai_ns)
{
	__u64 now = tai_now_ns();

	fmt_duration(buf, len, now > tai_ns ? (now - tai_ns) / 1000000000ULL : 0);
}

static void policy_print(const struct status *s)
{
	const struct xdpsyn_config *c = &s->cfg;
	char when[32], ago[32], why[96];

	if (!s->have_policy) {
		printf("    policy   proxy (attached by an older xdpsyn)\n");
		return;
	}
	fmt_when(when, sizeof(when), s, s->ps.since_ns);
	fmt_ago(ago, sizeof(ago), s->ps.since_ns);
	switch (c->policy == XDPSYN_POLICY_AUTO ? s->ps.reason : XDPSYN_SWITCH_SET) {
	case XDPSYN_SWITCH_RATE:
		snprintf(why, sizeof(why), "SYN rate %llu/s reached %u/s",
			 s->ps.switch_rate, c->syn_rate);
		break;
	case XDPSYN_SWITCH_KCOOKIE:
		snprintf(why, sizeof(why), "the kernel sent its own SYN cookies");
		break;
	case XDPSYN_SWITCH_CALM:
		snprintf(why, sizeof(why), "calm");
		break;
	default:
		snprintf(why, sizeof(why), "set");
		break;
	}
	if (c->policy != XDPSYN_POLICY_AUTO)
		printf("    policy   %s since %s (%s; %s)\n", policy_name(c->policy),
		       when, ago, why);
	else if (policy_state(s) == XDPSYN_POLICY_PROXY)
		printf("    policy   auto: proxy since %s (%s; %s), back to track "
		       "after %us below %u/s\n", when, ago, why, c->calm_s,
		       c->syn_rate / 2);
	else
		printf("    policy   auto: track since %s (%s; %s), proxy at %u/s\n",
		       when, ago, why, c->syn_rate);
	printf("             switches to proxy %llu, to track %llu",
	       s->have_stats ? s->cnt[XDPSYN_CNT_POLICY_TO_PROXY] : 0ULL,
	       s->have_stats ? s->cnt[XDPSYN_CNT_POLICY_TO_TRACK] : 0ULL);
	if (c->policy == XDPSYN_POLICY_AUTO)
		printf("  SYN rate now %llu/s", s->syn_rate_now);
	if (s->ps.kcookie_ns) {
		fmt_when(when, sizeof(when), s, s->ps.kcookie_ns);
		fmt_ago(ago, sizeof(ago), s->ps.kcookie_ns);
		printf("  kernel cookies last %s (%s ago)\n", when, ago);
	} else {
		printf("  kernel cookies never\n");
	}
}

/* An interface's XDP chain (libxdp's dispatcher), one program a line, in
 * run order, after LABEL (9 columns). */
static void xdp_chain_print(const char *label, const struct xdp_chain *c,
			    int err, int pos)
{
	char acts[96];

	if (err) {
		printf("    %-8s %s\n", label, err == -ENOENT ?
		       "no XDP program attached" : strerror(-err));
		return;
	}
	if (c->legacy) {
		printf("    %-8s prog %u %s alone, no libxdp dispatcher (%s)\n", label,
		       c->main_id, c->main_name, pos >= 0 ?
		       "this kernel refused it: other XDP programs cannot join" :
		       "attached without libxdp");
		return;
	}
	printf("    %-8s libxdp dispatcher prog %u (%s); what runs, in order "
	       "(* xdpsyn):\n", label, c->main_id,
	       c->mode == 2 ? "generic" : "native");
	for (int i = 0; i < c->n; i++) {
		const struct xdp_entry *e = &c->e[i];

		xdp_actions_format(acts, sizeof(acts), e->chain_actions);
		printf("             prio %-4u prog %u %s (goes on after %s)%s\n",
		       e->prio, e->prog_id, e->name, acts, e->ours ? " *" : "");
	}
}

/* The XDP chain (libxdp's dispatcher), one program a line, in run order. */
static void xdp_print(const struct status *s)
{

	if (s->legacy_link) {
		printf("    xdp      an XDP link (attached by an older xdpsyn; no "
		       "dispatcher)\n");
		return;
	}
	if (!s->xdp_prog_id || !s->same_ns || !strcmp(s->state, "interface gone"))
		return;
	xdp_chain_print("xdp", &s->xdp, s->xdp_err, s->xdp_pos);
}

/* "10.0.1.0/24,fd00::/64", or how the servers are found without them. */
static void gw_servers_text(char *buf, size_t len, const struct gw_status *g)
{
	size_t n = 0;

	buf[0] = 0;
	for (size_t i = 0; i < g->nprefixes && n < len; i++) {
		char p[64];

		gw_prefix_format(p, sizeof(p), &g->prefixes[i]);
		n += snprintf(buf + n, len - n, "%s%s", i ? "," : "", p);
	}
	if (!g->nprefixes)
		snprintf(buf, len, "routed out %s (bpf_fib_lookup)", g->ifname);
}

static void gw_states_print(const struct gw_status *g)
{
	printf("%llu of %llu:", g->conns, g->conns_max);
	for (int st = 1; st < GW_NSTATES; st++)
		printf(" %s %llu", gw_state_name(st), g->by_state[st]);
	if (g->by_state[0])
		printf(" unknown %llu", g->by_state[0]);
	printf(" (adopted %llu)\n", g->adopted);
}

/* The gateway section of status. */
static void gw_print(const struct status *s)
{
	const struct gw_status *g = s->gw;
	char buf[512];

	if (g->kept_only) {
		printf("    gateway  not attached: %llu connections' state kept (%s) "
		       "for the next attach --gateway; xdpsyn detach %s "
		       "--flush-state removes it\n", g->conns,
		       pin_names[PIN_GW_CONNS], s->ifname);
		if (g->have_conns) {
			printf("    state    ");
			gw_states_print(g);
		}
		return;
	}
	printf("    gateway  %s (clients) -> %s (servers)\n", s->ifname, g->ifname);
	gw_servers_text(buf, sizeof(buf), g);
	printf("    servers  %s\n", buf);
	if (g->have_servers)
		printf("             %llu known (%llu learned from SYN-ACKs, %llu "
		       "static): xdpsyn servers %s\n", g->servers, g->learned,
		       g->statics, s->ifname);
	if (g->have_conns) {
		printf("    state    ");
		gw_states_print(g);
	}
	if (g->adopt_left_s > 0)
		printf("    adopt    connections older than the attach adopted for "
		       "%llds more\n", (long long)g->adopt_left_s);
	else
		printf("    adopt    window closed (older connections' segments pass "
		       "untouched)\n");
	printf("    gw       ");
	settings_print(stdout, &s->sv, SF_SHOW_GATEWAY);
	printf("\n");
	if (g->srv_present)
		xdp_chain_print("xdp srv", &g->xdp, g->xdp_err, g->xdp_pos);
	printf("    tc srv   %s, ingress prog %u", g->tcx ? "tcx link" :
	       "clsact filter", g->tc_prog_id);
	if (!g->tcx)
		printf(" (handle 0x%x prio %u)", s->meta.gw_tc_handle,
		       s->meta.gw_tc_priority);
	for (int i = 0; i < g->ntc && i < TC_CHAIN_MAX; i++) {
		tc_entry_format(buf, sizeof(buf), &g->tc[i]);
		printf("%s%s%s", i ? "\n             " : "; what runs, in order "
		       "(* xdpsyn):\n             ", buf,
		       g->tc[i].prog_id == g->tc_prog_id ? " *" : "");
	}
	printf("\n");
}

/* The TC chains, one entry a line, in the order they run. */
static void tc_print(const struct status *s)
{
	static const char *const hooks[] = { "ingress", "egress " };
	__u32 ours[2] = { s->tc_prog_id, s->tc_egress_prog_id };

	if (!s->have_meta)
		return;
	if (s->tcx)
		printf("    tc       tcx links, first in their chains when attached");
	else
		printf("    tc       clsact filters, ingress handle 0x%x prio %u",
		       s->meta.tc_handle, s->meta.tc_priority);
	if (!s->have_chains) {
		printf("\n");
		return;
	}
	printf("; what runs, in order (* xdpsyn):\n");
	for (int h = 0; h < 2; h++) {
		int n = s->nchain[h] < TC_CHAIN_MAX ? s->nchain[h] : TC_CHAIN_MAX;

		if (!n)
			printf("             %s  (nothing)\n", hooks[h]);
		for (int i = 0; i < n; i++) {
			const struct tc_entry *e = &s->chain[h][i];
			char buf[96];

			tc_entry_format(buf, sizeof(buf), e);
			printf("             %s  %s%s\n", i ? "       " : hooks[h], buf,
			       e->prog_id && e->prog_id == ours[h] ? " *" : "");
		}
	}
}

/* Whether the hand-off can work (sysctls), what is not offered, the
 * protected ports whose SYNs go to an MPTCP listener. */
static void handoff_print(const struct status *s)
{
	char buf[320];

	handoff_summary(buf, sizeof(buf), &s->ho);
	printf("%s hand-off %s\n", s->ho.ready ? "   " : " !!", buf);
	handoff_not_offered(buf, sizeof(buf), &s->ho);
	if (buf[0])
		printf("             not offered: %s\n", buf);
	for (int i = 0; i < s->ho.nmptcp; i++)
		printf("             port %u: MPTCP listener: SYNs go to the kernel "
		       "(its own SYN cookies protect it)\n", s->ho.mptcp_ports[i]);
	if (s->ho.nmptcp >= HANDOFF_MPTCP_MAX)
		printf("             (more ports with MPTCP listeners: ss -Mlt)\n");
	if (!s->ho.mptcp_read && s->ho.mptcp_err)
		printf("             MPTCP listeners unknown: %s\n",
		       strerror(-s->ho.mptcp_err));
}

static void status_print(const struct status *s, __u64 now)
{
	char since[64] = "-", age[32], ifindex[16] = "-";
	const char *mode = "-";

	if (s->have_meta) {
		fmt_time(since, sizeof(since), s->meta.attached_at);
		fmt_duration(age, sizeof(age), now - s->meta.attached_at);
		snprintf(since + strlen(since), sizeof(since) - strlen(since),
			 " (%s)", age);
		snprintf(ifindex, sizeof(ifindex), "%u", s->meta.ifindex);
		mode = xdp_mode_name(s->meta.xdp_flags);
	}
	printf("%-16s %-7s %-8s %-7u %-7u %-7u %s\n", s->ifname, ifindex, mode,
	       s->xdp_prog_id, s->tc_prog_id, s->link_id, since);
	if (strcmp(s->state, "attached"))
		printf(" !! %s\n", s->state);
	for (int i = 0; i < s->nwarn; i++)
		printf(" !! %s\n", s->warn[i]);
	if (s->have_ports) {
		printf(" => ports4   %s\n", s->ports[XDPSYN_V4]);
		printf("    ports6   %s\n", s->ports[XDPSYN_V6]);
	}
	if (s->have_config) {
		printf("    settings ");
		settings_print(stdout, &s->sv, SF_SHOW_SETTINGS);
		printf("\n    tracker  ");
		settings_print(stdout, &s->sv, SF_SHOW_TRACKER);
		printf("\n");
		policy_print(s);
	}
	if (s->have_meta) {
		fmt_duration(age, sizeof(age), now - s->meta.key_rotated_at);
		printf("    key      age %s (slot %u)\n", age, s->cfg.key_cur);
	}
	if (s->have_meta)
		printf("    vlan     %s\n", s->meta.flags & XDPSYN_META_VLAN_META ?
		       "metadata: offloaded tags read (" VLAN_KFUNC "), restored on "
		       "SYN-ACKs" : "frame: tags read in the frame");
	xdp_print(s);
	if (s->gw) {
		gw_print(s);
	} else {
		tc_print(s);
		handoff_print(s);
	}
	if (s->have_stats) {
		const enum xdpsyn_counter *h = s->gw ? gw_headline : headline;
		size_t nh = s->gw ? NGW_HEADLINE : NHEADLINE;

		printf("    counters");
		for (size_t i = 0; i < nh; i++)
			printf(" %s %llu", counter_name(h[i]), s->cnt[h[i]]);
		printf("\n");
	}
}

int cmd_status(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	char **names = NULL;
	bool named;
	json_object *root = NULL, *jarr = NULL;
	__u64 now = realtime_now();
	int c, ret = 0, err;

	while ((c = getopt_long(argc, argv, "jvh", opts, NULL)) != -1) {
		switch (c) {
		case 'j':
			json_out = true;
			break;
		case 'v':
			verbose = true;
			break;
		case 'h':
			status_help(stdout);
			return EXIT_OK;
		default:
			return bad_option("status", argv);
		}
	}
	names = ifaces_select("status", argc, argv, optind, &named, &err);
	if (!names)
		return err;

	if (json_out) {
		root = json_object_new_object();
		jarr = json_object_new_array();
		json_object_object_add(root, "interfaces", jarr);
	} else if (!named && !names[0]) {
		printf("no interface attached\n");
	} else {
		printf("%-16s %-7s %-8s %-7s %-7s %-7s %s\n", "Interface", "Ifindex",
		       "Mode", "XDP id", "TC id", "Link id", "Attached since");
		printf("%.*s\n", 90, "-------------------------------------------"
		       "-----------------------------------------------");
	}
	for (char **n = names; *n; n++) {
		struct status s = { .ifname = *n };
		struct pins p;

		err = pins_open(&p, *n, 0);
		if (err) {
			ret = ret ? ret : err;
			continue;
		}
		status_read(&s, &p);
		pins_close(&p);
		if (jarr)
			json_object_array_add(jarr, status_json(&s, now));
		else
			status_print(&s, now);
		status_free(&s);
	}
	if (root)
		json_print_list(root, named);
	names_free(names);
	return ret;
}
