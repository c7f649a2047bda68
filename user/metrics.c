// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* xdpsyn CLI: Prometheus text exposition (format version 0.0.4) of the
 * attached interfaces, served by `xdpsyn exporter` and printed by
 * `xdpsyn stats --prometheus`. Metric names are stable (xdpsyn.8):
 *
 *   xdpsyn_<counter>_total{ifname,ifindex}            counter, one family
 *                                                     per XDPSYN_COUNTERS entry
 *   xdpsyn_handoff_errors_total{ifname,ifindex,errno} counter
 *   xdpsyn_flows{ifname,ifindex}                      gauge
 *   xdpsyn_flows_max{ifname,ifindex}                  gauge
 *   xdpsyn_handshakes{ifname,ifindex,state}           gauge, track table
 *   xdpsyn_handshake_rtt_seconds{ifname,ifindex,le}   histogram of the flow
 *                                                     records at scrape time
 *   xdpsyn_policy_proxy_active{ifname,ifindex}        gauge, 1 or 0
 *   xdpsyn_policy_info{ifname,ifindex,policy}         gauge, always 1
 *   xdpsyn_policy_since_seconds{ifname,ifindex}       gauge, unix time
 *   xdpsyn_syn_rate{ifname,ifindex}                   gauge, SYN/s
 *   xdpsyn_handoff_ready{ifname,ifindex}              gauge, 1 or 0
 *   xdpsyn_handoff_sysctl{ifname,ifindex,sysctl}      gauge, its value
 * (the last two for interfaces of the exporter's network namespace only)
 * and samples of gateways (attach --gateway) only:
 *   xdpsyn_gw_conns{ifname,ifindex,state}             gauge, state table
 *   xdpsyn_gw_conns_max{ifname,ifindex}               gauge
 *   xdpsyn_gw_srv_<c>_total{ifname,ifindex,server,port}  counter, c one of
 *       conns, established, refused, synack_timeouts, opt_mismatch
 */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <bpf/bpf.h>
#include "cli.h"

/* Upper bounds of the RTT histogram: label text and microseconds. */
static const struct {
	const char *le;
	__u32 us;
} rtt_buckets[] = {
	{ "0.00005", 50 }, { "0.0001", 100 }, { "0.00025", 250 },
	{ "0.0005", 500 }, { "0.001", 1000 }, { "0.0025", 2500 },
	{ "0.005", 5000 }, { "0.01", 10000 }, { "0.025", 25000 },
	{ "0.05", 50000 }, { "0.1", 100000 }, { "0.25", 250000 },
	{ "0.5", 500000 }, { "1", 1000000 },
};
#define NBUCKETS (sizeof(rtt_buckets) / sizeof(rtt_buckets[0]))

struct ifmetrics {
	struct ifstats st;
	char labels[128];        /* ifname="...",ifindex="..." */
	bool have_flows;
	__u64 flows, flows_max;
	__u64 rtt_le[NBUCKETS];  /* cumulative */
	__u64 rtt_count, rtt_sum_us;
	bool have_config;        /* the policy settings read */
	__u32 policy;            /* enum xdpsyn_policy */
	bool proxy_active;       /* XDP answers SYNs with cookies now */
	bool have_policy;        /* policy pin read (else an older xdpsyn) */
	__u64 since_real_ns;     /* CLOCK_REALTIME of the last policy change */
	__u64 syn_rate;          /* SYN/s now */
	bool have_hs;            /* handshakes-in-progress table read */
	__u64 hs[4];             /* its records by HS_* below */
	bool gw;                 /* a gateway: its tables read */
	__u64 gw_conns[GW_NSTATES], gw_max;
	struct xdpsyn_gw_server_key *srv_keys;
	struct xdpsyn_gw_server *srv;
	size_t nsrv;
};

/* The per-server counters: metric name part and field. */
static const struct {
	const char *name, *help;
	size_t off;
} srv_counters[] = {
#define SRV_(f, h) { #f, h, offsetof(struct xdpsyn_gw_server, f) }
	SRV_(conns, "Gateway: connections opened to the server (our SYNs)"),
	SRV_(established, "Gateway: the server's SYN-ACK spliced"),
	SRV_(refused, "Gateway: the server answered the SYN with RST"),
	SRV_(synack_timeouts, "Gateway: no SYN-ACK from the server within "
	     "gw-syn-timeout (server down, or asymmetric routing)"),
	SRV_(opt_mismatch, "Gateway: an option the client was told that the "
	     "server refused"),
#undef SRV_
};

/* Gateway mode: the state table by state, its size, the servers. */
static void gw_read(struct ifmetrics *m, const struct pins *p)
{
	struct xdpsyn_gw_key *k = NULL;
	struct xdpsyn_gw_conn *v = NULL;
	size_t n;

	if (!p->have_meta || !(p->meta.flags & XDPSYN_META_GATEWAY) ||
	    p->gw_conns_fd < 0)
		return;
	m->gw = true;
	m->gw_max = map_max_entries(p->gw_conns_fd);
	if (!gw_conns_read(p->gw_conns_fd, &k, &v, &n))
		for (size_t i = 0; i < n; i++)
			m->gw_conns[v[i].state < GW_NSTATES ? v[i].state : 0]++;
	free(k);
	free(v);
	if (p->gw_servers_fd < 0 ||
	    gw_servers_read(p->gw_servers_fd, &m->srv_keys, &m->srv, &m->nsrv))
		m->nsrv = 0;
}

/* xdpsyn_handshakes{state=...}: the records of xdpsyn_hs at scrape time. */
enum { HS_SYN, HS_SYNACK, HS_RESET, HS_TIMEOUT };
static const char *const hs_state_names[] = { "syn", "synack", "reset", "timeout" };

/* Count the records of the handshake table by state; an incomplete one
 * older than the handshake timeout is "timeout" (as `flows` shows it). */
static void hs_read(struct ifmetrics *m, const struct pins *p)
{
	struct xdpsyn_config cfg = {};
	struct xdpsyn_flow_event *ev = NULL;
	__u64 now = tai_now_ns(), timeout_ns;
	__u32 zero = 0;
	size_t n;

	if (p->hs_fd < 0 || flows_read(p->hs_fd, &ev, &n))
		return;
	if (p->config_fd >= 0)
		bpf_map_lookup_elem(p->config_fd, &zero, &cfg);
	timeout_ns = (__u64)(cfg.hs_timeout_s ? cfg.hs_timeout_s : XDPSYN_HS_TIMEOUT_DEFAULT) *
		     1000000000ULL;
	m->have_hs = true;
	for (size_t i = 0; i < n; i++) {
		const struct xdpsyn_flow *f = &ev[i].flow;

		if (f->state == XDPSYN_HS_RESET)
			m->hs[HS_RESET]++;
		else if (f->state != XDPSYN_HS_SYN && f->state != XDPSYN_HS_SYNACK)
			continue;
		else if (now > f->syn_ns && now - f->syn_ns > timeout_ns)
			m->hs[HS_TIMEOUT]++;
		else
			m->hs[f->state == XDPSYN_HS_SYN ? HS_SYN : HS_SYNACK]++;
	}
	free(ev);
}

/* The policy: configured, in force now, since when; the SYN rate. */
static void policy_read(struct ifmetrics *m, const struct pins *p)
{
	struct xdpsyn_config cfg = {};
	struct xdpsyn_policy_state ps;
	__u32 zero = 0;

	if (p->config_fd < 0 || bpf_map_lookup_elem(p->config_fd, &zero, &cfg))
		return;
	m->have_config = true;
	m->policy = cfg.policy;
	m->proxy_active = cfg.policy == XDPSYN_POLICY_PROXY;
	if (p->policy_fd < 0 || bpf_map_lookup_elem(p->policy_fd, &zero, &ps))
		return; /* attached by an older xdpsyn: proxy */
	m->have_policy = true;
	if (cfg.policy == XDPSYN_POLICY_AUTO)
		m->proxy_active = ps.state == XDPSYN_POLICY_PROXY;
	m->since_real_ns = ps.since_ns - tai_offset_ns();
	m->syn_rate = syn_rate_read(p->rate_fd);
}

/* A label value with \, " and newline escaped. */
static void label_escape(char *buf, size_t len, const char *s)
{
	size_t o = 0;

	for (; *s && o + 3 < len; s++) {
		if (*s == '\\' || *s == '"') {
			buf[o++] = '\\';
			buf[o++] = *s;
		} else if (*s == '\n') {
			buf[o++] = '\\';
			buf[o++] = 'n';
		} else {
			buf[o++] = *s;
		}
	}
	buf[o] = 0;
}

static int ifmetrics_read(struct ifmetrics *m, const char *name)
{
	struct xdpsyn_flow_event *ev = NULL;
	char esc[2 * IF_NAMESIZE + 1];
	struct pins p;
	size_t n;
	int ret, err;

	memset(m, 0, sizeof(*m));
	ret = ifstats_read(&m->st, name);
	if (ret)
		return ret;
	label_escape(esc, sizeof(esc), name);
	snprintf(m->labels, sizeof(m->labels), "ifname=\"%s\",ifindex=\"%u\"",
		 esc, m->st.ifindex);
	if (pins_open(&p, name, 0))
		return 0;
	policy_read(m, &p);
	hs_read(m, &p);
	gw_read(m, &p);
	if (p.flows_fd < 0) { /* attached by an xdpsyn without the tracker */
		pins_close(&p);
		return 0;
	}
	m->flows_max = map_max_entries(p.flows_fd);
	err = flows_read(p.flows_fd, &ev, &n);
	pins_close(&p);
	if (err) {
		errmsg(name, "reading %s: %s", pin_names[PIN_FLOWS], strerror(-err));
		return 0;
	}
	m->have_flows = true;
	m->flows = n;
	for (size_t i = 0; i < n; i++) {
		const struct xdpsyn_flow *f = &ev[i].flow;
		__u32 us;

		if (f->state == XDPSYN_HS_ESTABLISHED) {
			/* tracked: the client half, SYN-ACK to ACK, in ns */
			if (!f->cli_ns)
				continue;
			us = f->cli_ns / 1000;
		} else {
			if (!(f->flags & XDPSYN_FLOW_TS))
				continue;
			us = f->rtt_us;
		}
		m->rtt_count++;
		m->rtt_sum_us += us;
		for (size_t b = 0; b < NBUCKETS; b++)
			if (us <= rtt_buckets[b].us)
				m->rtt_le[b]++;
	}
	free(ev);
	return 0;
}

/* The hand-off's sysctls were read in the interface's netns. */
static bool handoff_known(const struct handoff *h)
{
	return !h->other_netns && h->val[HO_SYNCOOKIES] >= 0;
}

static void family(FILE *f, const char *name, const char *type,
		   const char *help)
{
	fprintf(f, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* The gateway families: samples of the gateways among the N interfaces M
 * (the families are always there, so dashboards find them). */
static void gw_metrics_write(FILE *f, const struct ifmetrics *m, size_t n)
{
	char name[64], addr[INET6_ADDRSTRLEN];

	family(f, "xdpsyn_gw_conns", "gauge",
	       "Gateway: connections in the state table at scrape time, by state "
	       "(syn_sent, established, fin_wait, closed)");
	for (size_t i = 0; i < n; i++)
		for (int st = 1; m[i].gw && st < GW_NSTATES; st++)
			fprintf(f, "xdpsyn_gw_conns{%s,state=\"%s\"} %llu\n",
				m[i].labels, gw_state_name(st), m[i].gw_conns[st]);
	family(f, "xdpsyn_gw_conns_max", "gauge",
	       "Gateway: size of the state table (attach --gw-conns)");
	for (size_t i = 0; i < n; i++)
		if (m[i].gw)
			fprintf(f, "xdpsyn_gw_conns_max{%s} %llu\n", m[i].labels,
				m[i].gw_max);
	for (size_t c = 0; c < sizeof(srv_counters) / sizeof(srv_counters[0]); c++) {
		snprintf(name, sizeof(name), "xdpsyn_gw_srv_%s_total",
			 srv_counters[c].name);
		family(f, name, "counter", srv_counters[c].help);
		for (size_t i = 0; i < n; i++) {
			for (size_t s = 0; s < m[i].nsrv; s++) {
				const struct xdpsyn_gw_server_key *k = &m[i].srv_keys[s];

				fmt_addr(addr, sizeof(addr), k->family, k->addr);
				fprintf(f, "%s{%s,server=\"%s\",port=\"%u\"} %llu\n",
					name, m[i].labels, addr, ntohs(k->port),
					*(const __u64 *)((const char *)&m[i].srv[s] +
							 srv_counters[c].off));
			}
		}
	}
}

int metrics_write(FILE *f, char *const *names)
{
	struct ifmetrics *m;
	size_t n = 0, ok = 0;
	int ret = 0;

	while (names[n])
		n++;
	m = calloc(n ? n : 1, sizeof(*m));
	if (!m) {
		errmsg("memory", "out of memory");
		return EXIT_RUNTIME;
	}
	for (size_t i = 0; i < n; i++) {
		int err = ifmetrics_read(&m[ok], names[i]);

		if (err)
			ret = ret ? ret : err;
		else
			ok++;
	}

	for (int c = 0; c < XDPSYN_CNT_MAX; c++) {
		char name[64];

		snprintf(name, sizeof(name), "xdpsyn_%s_total", counter_name(c));
		family(f, name, "counter", counter_help(c));
		for (size_t i = 0; i < ok; i++)
			fprintf(f, "%s{%s} %llu\n", name, m[i].labels, m[i].st.cnt[c]);
	}
	family(f, "xdpsyn_handoff_errors_total", "counter",
	       "TC: bpf_sk_assign_tcp_reqsk failures by errno name (\"other\": "
	       "errno 63 or larger)");
	for (size_t i = 0; i < ok; i++)
		for (int e = 0; m[i].st.have_errs && e < XDPSYN_ERRNO_SLOTS; e++)
			if (m[i].st.errs[e])
				fprintf(f, "xdpsyn_handoff_errors_total{%s,errno=\"%s\"} "
					"%llu\n", m[i].labels, errno_name(e),
					m[i].st.errs[e]);
	family(f, "xdpsyn_flows", "gauge",
	       "Flow records (completed handshakes) in the flow table");
	for (size_t i = 0; i < ok; i++)
		if (m[i].have_flows)
			fprintf(f, "xdpsyn_flows{%s} %llu\n", m[i].labels, m[i].flows);
	family(f, "xdpsyn_handshakes", "gauge",
	       "Handshakes in the track policy's table at scrape time, by state: "
	       "syn (no SYN-ACK yet), synack (waiting for the client), reset, "
	       "timeout (incomplete and older than the handshake timeout)");
	for (size_t i = 0; i < ok; i++)
		for (int h = 0; m[i].have_hs && h < 4; h++)
			fprintf(f, "xdpsyn_handshakes{%s,state=\"%s\"} %llu\n", m[i].labels,
				hs_state_names[h], m[i].hs[h]);
	family(f, "xdpsyn_flows_max", "gauge",
	       "Size of the flow table (LRU: the oldest records are evicted)");
	for (size_t i = 0; i < ok; i++)
		if (m[i].have_flows)
			fprintf(f, "xdpsyn_flows_max{%s} %llu\n", m[i].labels,
				m[i].flows_max);
	family(f, "xdpsyn_handshake_rtt_seconds", "histogram",
	       "Handshake RTT (SYN-ACK to final ACK: for cookie records from the "
	       "TCP timestamp echo, 16 us resolution; for tracked records as seen "
	       "by TC egress and XDP) of the flow records in the flow "
	       "table, computed at scrape time: records evicted from the table "
	       "leave the counts");
	for (size_t i = 0; i < ok; i++) {
		if (!m[i].have_flows)
			continue;
		for (size_t b = 0; b < NBUCKETS; b++)
			fprintf(f, "xdpsyn_handshake_rtt_seconds_bucket{%s,le=\"%s\"} "
				"%llu\n", m[i].labels, rtt_buckets[b].le,
				m[i].rtt_le[b]);
		fprintf(f, "xdpsyn_handshake_rtt_seconds_bucket{%s,le=\"+Inf\"} "
			"%llu\n", m[i].labels, m[i].rtt_count);
		fprintf(f, "xdpsyn_handshake_rtt_seconds_sum{%s} %llu.%06llu\n",
			m[i].labels, m[i].rtt_sum_us / 1000000,
			m[i].rtt_sum_us % 1000000);
		fprintf(f, "xdpsyn_handshake_rtt_seconds_count{%s} %llu\n",
			m[i].labels, m[i].rtt_count);
	}
	family(f, "xdpsyn_policy_proxy_active", "gauge",
	       "1 when XDP answers SYNs to protected ports with cookies now (the "
	       "proxy policy, or auto while proxying), 0 while tracking");
	for (size_t i = 0; i < ok; i++)
		if (m[i].have_config)
			fprintf(f, "xdpsyn_policy_proxy_active{%s} %d\n", m[i].labels,
				m[i].proxy_active);
	family(f, "xdpsyn_policy_info", "gauge",
	       "The policy set (label policy: proxy, track or auto); always 1");
	for (size_t i = 0; i < ok; i++)
		if (m[i].have_config)
			fprintf(f, "xdpsyn_policy_info{%s,policy=\"%s\"} 1\n",
				m[i].labels, policy_name(m[i].policy));
	family(f, "xdpsyn_policy_since_seconds", "gauge",
	       "Unix time of the last policy change (attach, set, or a switch of "
	       "the auto policy)");
	for (size_t i = 0; i < ok; i++)
		if (m[i].have_policy)
			fprintf(f, "xdpsyn_policy_since_seconds{%s} %llu.%03llu\n",
				m[i].labels, m[i].since_real_ns / 1000000000ULL,
				m[i].since_real_ns / 1000000ULL % 1000);
	family(f, "xdpsyn_syn_rate", "gauge",
	       "SYNs per second to protected ports now, as the auto policy "
	       "estimates it (sliding window of 268 ms, summed over CPUs; 0 under "
	       "the other policies, which do not count)");
	for (size_t i = 0; i < ok; i++)
		if (m[i].have_policy)
			fprintf(f, "xdpsyn_syn_rate{%s} %llu\n", m[i].labels,
				m[i].syn_rate);
	family(f, "xdpsyn_handoff_ready", "gauge",
	       "1 when the kernel takes handed-off connections "
	       "(net.ipv4.tcp_syncookies is not 0), 0 when it does not: then "
	       "the XDP program passes SYNs to the kernel unanswered and "
	       "unprotected (counter syn_no_syncookies). Interfaces of the "
	       "exporter's network namespace only");
	for (size_t i = 0; i < ok; i++)
		if (handoff_known(&m[i].st.handoff))
			fprintf(f, "xdpsyn_handoff_ready{%s} %d\n", m[i].labels,
				m[i].st.handoff.ready);
	family(f, "xdpsyn_handoff_sysctl", "gauge",
	       "The sysctls the hand-off follows (label sysctl): with "
	       "tcp_syncookies 0 it cannot work; an option whose sysctl is 0 "
	       "is not offered (counter syn_opt_off)");
	for (size_t i = 0; i < ok; i++)
		for (int h = 0; h < HO_N && handoff_known(&m[i].st.handoff); h++)
			if (m[i].st.handoff.val[h] >= 0)
				fprintf(f, "xdpsyn_handoff_sysctl{%s,sysctl=\"%s\"} "
					"%ld\n", m[i].labels, handoff_sysctl(h),
					m[i].st.handoff.val[h]);
	gw_metrics_write(f, m, ok);
	for (size_t i = 0; i < ok; i++) {
		free(m[i].srv_keys);
		free(m[i].srv);
	}
	free(m);
	return ret;
}
