// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* xdpsyn flows: the completed handshakes of xdpsyn_flows, and a live
 * stream of new ones from the ring buffer xdpsyn_events. */
#include <errno.h>
#include <stddef.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <json-c/json.h>
#include "cli.h"

/* (gw_flows_one takes the same numbers) */
enum flow_sort { SORT_TIME, SORT_RTT, SORT_SERVER };

/* A record's state as shown: enum xdpsyn_hs_state, plus timeout (derived
 * at read time: an incomplete one older than the handshake timeout). */
enum flow_state {
	FS_COOKIE = XDPSYN_HS_COOKIE,
	FS_SYN = XDPSYN_HS_SYN,
	FS_SYNACK = XDPSYN_HS_SYNACK,
	FS_ESTABLISHED = XDPSYN_HS_ESTABLISHED,
	FS_RESET = XDPSYN_HS_RESET,
	FS_TIMEOUT,
	FS_UNKNOWN,              /* a state this xdpsyn does not know */
	FS_N,
};
static const char *const fs_names[FS_N] = {
	"cookie", "syn", "synack", "established", "reset", "timeout", "unknown",
};
#define FS_INCOMPLETE (1u << FS_SYN | 1u << FS_SYNACK | 1u << FS_TIMEOUT)

struct flows_opts {
	unsigned long limit;     /* 0: all */
	enum flow_sort sort;
	unsigned states;         /* mask of 1 << enum flow_state; 0: all */
	const char *states_arg;  /* --state as given */
	bool states_bad;         /* not local states (a gateway's, maybe) */
	bool follow;
	bool iface_col;          /* an IFACE column (no IFACE given) */
	__s64 tai_off;           /* TAI - realtime, ns */
	/* per interface (flows_one) */
	__u64 tai_now;           /* CLOCK_TAI of the read */
	__u64 timeout_ns;        /* the handshake timeout; 0: none (follow) */
};

static void flows_help(FILE *f)
{
	fprintf(f,
		"Usage: xdpsyn flows [IFACE] [--sort time|rtt|server] [--limit N]\n"
		"                    [--state LIST] [-j]\n"
		"       xdpsyn flows [IFACE] --follow [--state LIST] [-j]\n"
		"\n"
		"Handshakes on IFACE (default: every attached interface): those completed\n"
		"through xdpsyn's cookie (proxy policy) or tracked to completion (track\n"
		"policy) in one table of at most attach --flows-max records, and, with\n"
		"the track policy, those in progress, reset or timed out; oldest\n"
		"evicted first.\n"
		"\n"
		"Columns: TIME (local, last event) SADDR:SPORT (client) DADDR:DPORT,\n"
		"STATE cookie | syn | synack | established | reset | timeout (incomplete\n"
		"and older than attach --handshake-timeout), SYN>SA(ms) the server half\n"
		"(last SYN to the kernel's SYN-ACK; tracked only), SA>ACK(ms) the client\n"
		"half (SYN-ACK to final ACK; cookie: from the timestamp echo, 16 us\n"
		"resolution, '-' without timestamps), RETX SYN/SYN-ACK retransmissions,\n"
		"MSS agreed (cookie) or client/server offers (tracked), WS(c/s) client/\n"
		"server window scale, SACK, TS, ECN agreed, HANDOFF ok when the listener\n"
		"took a cookie connection, kernel for a tracked one (kernel,kcookie: the\n"
		"kernel answered with its own SYN cookie), VLAN of the client's\n"
		"outermost tag (in the frame or offloaded; '-' untagged).\n"
		"\n"
		"A gateway (attach --gateway) lists its state table instead: CLIENT,\n"
		"SERVER, STATE syn_sent | established | fin_wait | closed, C_RTT(ms)\n"
		"the client's handshake (cookie SYN-ACK to ACK), S_RTT(ms) the\n"
		"server's (our SYN to its SYN-ACK), C2S/S2C segments translated, AGE\n"
		"and IDLE seconds, C_OPTS/S_OPTS the options each side agreed (TS,\n"
		"SACK, WS, ECN), WS(c/g/s) the client's, ours (told the client) and the\n"
		"server's window scales, MARK ADOPTED (older than the attach) or RST.\n"
		"--sort rtt and server sort by C_RTT and S_RTT.\n"
		"\n"
		"Options:\n"
		"  --sort time      chronological (default); --limit keeps the newest\n"
		"  --sort rtt       slowest client half (SA>ACK) first; --limit keeps\n"
		"                   the slowest\n"
		"  --sort server    slowest server half (SYN>SA) first\n"
		"  --limit N        at most N flows per interface (default: all)\n"
		"  --state LIST     only these states, comma-separated: cookie, syn,\n"
		"                   synack, established, reset, timeout, incomplete\n"
		"                   (= syn,synack,timeout); a gateway's: syn_sent,\n"
		"                   established, fin_wait, closed\n"
		"  --follow         print new handshakes as they complete, until Ctrl-C\n"
		"                   (one reader at a time: readers share the ring)\n"
		"  -j, --json       JSON output: {\"interfaces\": [{\"name\", \"flows\":\n"
		"                   [...]}]}, or the one interface's object when IFACE is\n"
		"                   given; with --follow one object per line\n"
		"  -h, --help       this help\n");
}

static bool is_track(const struct xdpsyn_flow *f)
{
	return f->state != XDPSYN_HS_COOKIE;
}

/* The kernel's SYN-ACK was seen (its options and the server half are in
 * the record). A reset or established record may never have had one. */
static bool has_synack(const struct xdpsyn_flow *f)
{
	return is_track(f) && (f->state == XDPSYN_HS_SYNACK || f->srv_ns ||
			       f->srv_mss || f->srv_flags);
}

static enum flow_state flow_state(const struct flows_opts *o,
				  const struct xdpsyn_flow *f)
{
	switch (f->state) {
	case XDPSYN_HS_SYN:
	case XDPSYN_HS_SYNACK:
		if (o->timeout_ns && o->tai_now > f->syn_ns &&
		    o->tai_now - f->syn_ns > o->timeout_ns)
			return FS_TIMEOUT;
		return f->state;
	case XDPSYN_HS_COOKIE:
	case XDPSYN_HS_ESTABLISHED:
	case XDPSYN_HS_RESET:
		return f->state;
	default:
		return FS_UNKNOWN;
	}
}

static bool state_shown(const struct flows_opts *o, const struct xdpsyn_flow *f)
{
	return !o->states || (o->states & 1u << flow_state(o, f));
}

/* The server half (SYN -> SYN-ACK) in ns; false when there is none. A
 * gateway's cookie record has one too (its SYN to the server, the
 * server's SYN-ACK). */
static bool server_ns(const struct xdpsyn_flow *f, __u64 *ns)
{
	if (!has_synack(f) && !(f->state == XDPSYN_HS_COOKIE && f->srv_ns))
		return false;
	*ns = f->srv_ns;
	return true;
}

/* The client half (SYN-ACK -> ACK) in ns: the measured one of a tracked
 * handshake that completed, or a cookie's RTT from the timestamp echo. */
static bool client_ns(const struct xdpsyn_flow *f, __u64 *ns)
{
	if (!is_track(f)) {
		if (!(f->flags & XDPSYN_FLOW_TS))
			return false;
		*ns = (__u64)f->rtt_us * 1000;
		return true;
	}
	if (f->state != XDPSYN_HS_ESTABLISHED || !has_synack(f))
		return false;
	*ns = f->cli_ns;
	return true;
}

/* SACK/TS/ECN/WS agreed: a cookie's, or what both sides of a tracked
 * handshake offered (nothing before the kernel's SYN-ACK). */
static __u8 flow_agreed(const struct xdpsyn_flow *f)
{
	const __u8 opts = XDPSYN_FLOW_SACK | XDPSYN_FLOW_TS | XDPSYN_FLOW_ECN |
			  XDPSYN_FLOW_WS;

	if (!is_track(f))
		return f->flags;
	if (!has_synack(f))
		return 0;
	return f->flags & f->srv_flags & opts;
}

/* The MSS agreed: a cookie's; tracked: the smaller of the two offers (a
 * side without the option counts as the family's default), the client's
 * alone before the SYN-ACK. */
static __u16 flow_mss(const struct xdpsyn_flow_key *k, const struct xdpsyn_flow *f)
{
	__u16 def = k->family == XDPSYN_V6 ? XDPSYN_MSS_DEFAULT_V6 :
		    XDPSYN_MSS_DEFAULT_V4;
	__u16 c = f->mss ? f->mss : def, s;

	if (!is_track(f))
		return f->mss;
	if (!has_synack(f))
		return c;
	s = f->srv_mss ? f->srv_mss : def;
	return c < s ? c : s;
}

static __u64 flow_realtime(const struct flows_opts *o, const struct xdpsyn_flow *f)
{
	return f->time_ns - o->tai_off;
}

static json_object *ms_json(bool have, __u64 ns)
{
	return have ? json_object_new_double(ns / 1e6) : NULL;
}

/* One side's offer of a tracked handshake: MSS, WSCALE, FLAGS. */
static json_object *side_json(__u16 mss, __u8 wscale, __u8 flags)
{
	json_object *j = json_object_new_object();

	json_object_object_add(j, "mss", mss ? json_object_new_int(mss) : NULL);
	json_object_object_add(j, "wscale", flags & XDPSYN_FLOW_WS ?
			       json_object_new_int(wscale) : NULL);
	json_object_object_add(j, "sack",
			       json_object_new_boolean(flags & XDPSYN_FLOW_SACK));
	json_object_object_add(j, "ts",
			       json_object_new_boolean(flags & XDPSYN_FLOW_TS));
	json_object_object_add(j, "ecn",
			       json_object_new_boolean(flags & XDPSYN_FLOW_ECN));
	return j;
}

static json_object *flow_json(const struct flows_opts *o,
			      const struct xdpsyn_flow_event *ev,
			      const char *ifname)
{
	const struct xdpsyn_flow_key *k = &ev->key;
	const struct xdpsyn_flow *f = &ev->flow;
	json_object *j = json_object_new_object();
	bool track = is_track(f);
	__u8 agreed = flow_agreed(f);
	bool ws = agreed & XDPSYN_FLOW_WS;
	char buf[INET6_ADDRSTRLEN + 8];
	__u64 rt = flow_realtime(o, f), sns = 0, cns = 0;
	bool have_s = server_ns(f, &sns), have_c = client_ns(f, &cns);

#define ADD(key, v) json_object_object_add(j, key, v)
	if (ifname)
		ADD("ifname", json_object_new_string(ifname));
	fmt_rfc3339(buf, sizeof(buf), rt);
	ADD("time", json_object_new_string(buf));
	ADD("time_ns", json_object_new_uint64(rt));
	ADD("family", json_object_new_int(k->family == XDPSYN_V6 ? 6 : 4));
	fmt_addr(buf, sizeof(buf), k->family, k->saddr);
	ADD("saddr", json_object_new_string(buf));
	ADD("sport", json_object_new_int(ntohs(k->sport)));
	fmt_addr(buf, sizeof(buf), k->family, k->daddr);
	ADD("daddr", json_object_new_string(buf));
	ADD("dport", json_object_new_int(ntohs(k->dport)));
	ADD("state", json_object_new_string(fs_names[flow_state(o, f)]));
	ADD("rtt_us", have_c ? json_object_new_int64(cns / 1000) : NULL);
	ADD("server_ms", ms_json(have_s, sns));
	ADD("client_ms", ms_json(have_c, cns));
	ADD("syn_retrans", track ? json_object_new_int(f->syn_retrans) : NULL);
	ADD("synack_retrans", track ? json_object_new_int(f->synack_retrans) :
	    NULL);
	if (track)
		fmt_rfc3339(buf, sizeof(buf), f->syn_ns - o->tai_off);
	ADD("syn_time", track ? json_object_new_string(buf) : NULL);
	ADD("mss", json_object_new_int(flow_mss(k, f)));
	ADD("wscale", json_object_new_boolean(ws));
	ADD("client_wscale", ws ? json_object_new_int(f->snd_wscale) : NULL);
	ADD("server_wscale", ws ? json_object_new_int(f->rcv_wscale) : NULL);
	ADD("sack", json_object_new_boolean(agreed & XDPSYN_FLOW_SACK));
	ADD("ts", json_object_new_boolean(agreed & XDPSYN_FLOW_TS));
	ADD("ecn", json_object_new_boolean(agreed & XDPSYN_FLOW_ECN));
	ADD("handoff", json_object_new_boolean(!track &&
					       (f->flags & XDPSYN_FLOW_HANDOFF)));
	ADD("prev_key", json_object_new_boolean(!track &&
						(f->flags & XDPSYN_FLOW_PREV_KEY)));
	ADD("kernel_cookie", json_object_new_boolean(track &&
		(f->srv_flags & XDPSYN_FLOW_KCOOKIE)));
	ADD("client", track ? side_json(f->mss, f->snd_wscale, f->flags) : NULL);
	ADD("server", has_synack(f) ?
	    side_json(f->srv_mss, f->rcv_wscale, f->srv_flags) : NULL);
	ADD("vlan", f->vlan & XDPSYN_VLAN_VID_MASK ?
	    json_object_new_int(f->vlan & XDPSYN_VLAN_VID_MASK) : NULL);
#undef ADD
	return j;
}

static const char *yes_no(bool v)
{
	return v ? "yes" : "no";
}

#define FLOW_FMT "%-12s %-*s %-*s %-11s %10s %10s %5s %9s %-7s %-4s %-3s %-3s %-14s %s\n"

static void flow_header(const struct flows_opts *o, int aw)
{
	if (o->iface_col)
		printf("%-15s ", "IFACE");
	printf(FLOW_FMT, "TIME", aw, "SADDR:SPORT", aw, "DADDR:DPORT", "STATE",
	       "SYN>SA(ms)", "SA>ACK(ms)", "RETX", "MSS", "WS(c/s)", "SACK", "TS",
	       "ECN", "HANDOFF", "VLAN");
}

static void fmt_ms(char *buf, size_t len, bool have, __u64 ns)
{
	if (have)
		snprintf(buf, len, "%.3f", ns / 1e6);
	else
		snprintf(buf, len, "-");
}

static void flow_print(const struct flows_opts *o,
		       const struct xdpsyn_flow_event *ev, const char *ifname,
		       int aw)
{
	const struct xdpsyn_flow *f = &ev->flow;
	char t[32], src[INET6_ADDRSTRLEN + 8], dst[INET6_ADDRSTRLEN + 8];
	char srv[24], cli[24], retx[16] = "-", mss[16], ws[16] = "-", vlan[8] = "-";
	const char *sack = "-", *ts = "-", *ecn = "-", *handoff;
	bool track = is_track(f), synack = has_synack(f);
	__u8 agreed = flow_agreed(f);
	__u64 ns = 0;
	bool have;

	fmt_clock(t, sizeof(t), flow_realtime(o, f));
	fmt_endpoint(src, sizeof(src), ev->key.family, ev->key.saddr,
		     ev->key.sport);
	fmt_endpoint(dst, sizeof(dst), ev->key.family, ev->key.daddr,
		     ev->key.dport);
	have = server_ns(f, &ns);
	fmt_ms(srv, sizeof(srv), have, ns);
	have = client_ns(f, &ns);
	fmt_ms(cli, sizeof(cli), have, ns);
	if (agreed & XDPSYN_FLOW_WS)
		snprintf(ws, sizeof(ws), "%u/%u", f->snd_wscale, f->rcv_wscale);
	if (!track || synack) {
		/* before the kernel's SYN-ACK nothing is agreed yet: '-' */
		sack = yes_no(agreed & XDPSYN_FLOW_SACK);
		ts = yes_no(agreed & XDPSYN_FLOW_TS);
		ecn = yes_no(agreed & XDPSYN_FLOW_ECN);
	}
	if (track) {
		char c[8] = "-", s[8] = "-";

		snprintf(retx, sizeof(retx), "%u/%u", f->syn_retrans,
			 f->synack_retrans);
		if (f->mss)
			snprintf(c, sizeof(c), "%u", f->mss);
		if (synack && f->srv_mss)
			snprintf(s, sizeof(s), "%u", f->srv_mss);
		snprintf(mss, sizeof(mss), "%s/%s", c, s);
		handoff = f->srv_flags & XDPSYN_FLOW_KCOOKIE ? "kernel,kcookie" :
			  "kernel";
	} else {
		snprintf(mss, sizeof(mss), "%u", f->mss);
		handoff = f->flags & XDPSYN_FLOW_HANDOFF ? "ok" : "no";
	}
	if (f->vlan & XDPSYN_VLAN_VID_MASK)
		snprintf(vlan, sizeof(vlan), "%u", f->vlan & XDPSYN_VLAN_VID_MASK);
	if (o->iface_col)
		printf("%-15s ", ifname);
	printf(FLOW_FMT, t, aw, src, aw, dst, fs_names[flow_state(o, f)], srv,
	       cli, retx, mss, ws, sack, ts, ecn, handoff, vlan);
}

static int cmp_time(const void *a, const void *b)
{
	const struct xdpsyn_flow_event *x = a, *y = b;

	if (x->flow.time_ns != y->flow.time_ns)
		return x->flow.time_ns < y->flow.time_ns ? -1 : 1;
	return memcmp(&x->key, &y->key, sizeof(x->key));
}

/* Slowest first by the value GET gives; records without one last. */
static int cmp_half(const void *a, const void *b,
		    bool (*get)(const struct xdpsyn_flow *, __u64 *))
{
	const struct xdpsyn_flow_event *x = a, *y = b;
	__u64 xv = 0, yv = 0;
	bool xh = get(&x->flow, &xv), yh = get(&y->flow, &yv);

	if (xh != yh)
		return xh ? -1 : 1;
	if (xv != yv)
		return xv > yv ? -1 : 1;
	return cmp_time(a, b);
}

/* Slowest client half (SYN-ACK to ACK, a cookie's RTT) first. */
static int cmp_rtt(const void *a, const void *b)
{
	return cmp_half(a, b, client_ns);
}

/* Slowest server half (SYN to SYN-ACK) first. */
static int cmp_server(const void *a, const void *b)
{
	return cmp_half(a, b, server_ns);
}

/* Widest endpoint of a list, for aligned columns. */
static int endpoint_width(const struct xdpsyn_flow_event *ev, size_t n)
{
	char buf[INET6_ADDRSTRLEN + 8];
	int w = 21; /* "255.255.255.255:65535" */

	for (size_t i = 0; i < n; i++) {
		int l;

		fmt_endpoint(buf, sizeof(buf), ev[i].key.family, ev[i].key.saddr,
			     ev[i].key.sport);
		l = strlen(buf);
		if (l > w)
			w = l;
		fmt_endpoint(buf, sizeof(buf), ev[i].key.family, ev[i].key.daddr,
			     ev[i].key.dport);
		l = strlen(buf);
		if (l > w)
			w = l;
	}
	return w;
}

/* The handshake timeout of the attachment (its config), in ns. */
static __u64 hs_timeout_ns(const struct pins *p)
{
	struct xdpsyn_config cfg = {};
	__u32 zero = 0;

	if (p->config_fd >= 0)
		bpf_map_lookup_elem(p->config_fd, &zero, &cfg);
	return (__u64)(cfg.hs_timeout_s ? cfg.hs_timeout_s :
		       XDPSYN_HS_TIMEOUT_DEFAULT) * 1000000000ULL;
}

/* Both tables of IFNAME into one list: the completed records (*ncomp of
 * them) and, when pinned, the handshakes of xdpsyn_hs (*nhs, -1 without
 * the pin: an older attachment). 0 or an exit code after a message. */
static int flows_load(struct flows_opts *o, const char *ifname,
		      struct xdpsyn_flow_event **out, size_t *ncomp,
		      long *nhs, __u32 *max, __u32 *hs_max)
{
	struct xdpsyn_flow_event *ev = NULL, *hs = NULL, *all;
	size_t n = 0, nh = 0;
	struct pins p;
	int ret, err;

	ret = pins_open(&p, ifname, PINS_FLOWS);
	if (ret)
		return ret;
	o->timeout_ns = hs_timeout_ns(&p);
	*max = map_max_entries(p.flows_fd);
	*hs_max = p.hs_fd >= 0 ? map_max_entries(p.hs_fd) : 0;
	err = flows_read(p.flows_fd, &ev, &n);
	if (err) {
		errmsg(ifname, "reading %s: %s", pin_names[PIN_FLOWS], strerror(-err));
		pins_close(&p);
		return EXIT_RUNTIME;
	}
	if (p.hs_fd >= 0) {
		err = flows_read(p.hs_fd, &hs, &nh);
		if (err) {
			errmsg(ifname, "reading %s: %s", pin_names[PIN_HS], strerror(-err));
			free(ev);
			pins_close(&p);
			return EXIT_RUNTIME;
		}
	}
	o->tai_now = tai_now_ns();
	*nhs = p.hs_fd >= 0 ? (long)nh : -1;
	pins_close(&p);
	all = realloc(ev, (n + nh ? n + nh : 1) * sizeof(*ev));
	if (!all) {
		errmsg("memory", "out of memory");
		free(ev);
		free(hs);
		return EXIT_RUNTIME;
	}
	if (nh)
		memcpy(all + n, hs, nh * sizeof(*hs));
	free(hs);
	*out = all;
	*ncomp = n;
	return 0;
}

/* A gateway (or the state table its detach kept): its connections;
 * *DONE false for a local-mode attachment. */
static int flows_gateway(const struct flows_opts *o, const char *ifname,
			 json_object *jarr, bool first, bool *done)
{
	struct pins p;
	int ret = pins_open(&p, ifname, 0);

	*done = false;
	if (ret)
		return ret;
	if (p.gw_conns_fd >= 0 &&
	    (!p.have_meta || (p.meta.flags & XDPSYN_META_GATEWAY))) {
		*done = true;
		ret = gw_flows_one(&p, o->sort, o->limit, o->states_arg, jarr, first);
	}
	pins_close(&p);
	return ret;
}

static int flows_one(const struct flows_opts *opts, const char *ifname,
		     json_object *jarr, bool first)
{
	struct flows_opts o = *opts;
	struct xdpsyn_flow_event *ev = NULL, *shown;
	size_t ncomp, n, nsel = 0, nshown, st[FS_N] = { 0 };
	long nhs;
	__u32 max, hs_max;
	bool done;
	int ret;

	ret = flows_gateway(opts, ifname, jarr, first, &done);
	if (ret || done)
		return ret;
	if (o.states_bad)
		return usage_err("flows", "--state %s: expected a comma-separated "
				 "list of cookie, syn, synack, established, reset, "
				 "timeout, incomplete", o.states_arg);

	ret = flows_load(&o, ifname, &ev, &ncomp, &nhs, &max, &hs_max);
	if (ret)
		return ret;
	n = ncomp + (nhs > 0 ? (size_t)nhs : 0);
	/* count every state, keep the selected ones in front */
	for (size_t i = 0; i < n; i++) {
		st[flow_state(&o, &ev[i].flow)]++;
		if (state_shown(&o, &ev[i].flow))
			ev[nsel++] = ev[i];
	}
	qsort(ev, nsel, sizeof(*ev), o.sort == SORT_RTT ? cmp_rtt :
	      o.sort == SORT_SERVER ? cmp_server : cmp_time);
	shown = ev;
	nshown = nsel;
	if (o.limit && nsel > o.limit) {
		nshown = o.limit;
		if (o.sort == SORT_TIME) /* the newest, still in order */
			shown = ev + (nsel - o.limit);
	}
	if (jarr) {
		json_object *j = json_object_new_object();
		json_object *jf = json_object_new_array();
		json_object *js = json_object_new_object();

#define ADD(key, v) json_object_object_add(j, key, v)
		ADD("name", json_object_new_string(ifname));
		ADD("count", json_object_new_uint64(ncomp));
		ADD("max", json_object_new_uint64(max));
		ADD("hs_count", nhs >= 0 ? json_object_new_int64(nhs) : NULL);
		ADD("hs_max", nhs >= 0 ? json_object_new_uint64(hs_max) : NULL);
		ADD("in_progress", nhs >= 0 ?
		    json_object_new_uint64(st[FS_SYN] + st[FS_SYNACK]) : NULL);
		for (int s = 0; s < FS_N; s++)
			if (s != FS_UNKNOWN || st[s])
				json_object_object_add(js, fs_names[s],
					json_object_new_uint64(st[s]));
		ADD("states", js);
		for (size_t i = 0; i < nshown; i++)
			json_object_array_add(jf, flow_json(&o, &shown[i], NULL));
		ADD("flows", jf);
#undef ADD
		json_object_array_add(jarr, j);
	} else {
		int aw = endpoint_width(shown, nshown);

		printf("%s%s: ", first ? "" : "\n", ifname);
		if (nhs < 0) {
			printf("%zu flow record%s (max %u)", ncomp,
			       ncomp == 1 ? "" : "s", max);
		} else {
			printf("%zu completed (max %u), %zu in progress", ncomp,
			       max, st[FS_SYN] + st[FS_SYNACK]);
			if (st[FS_TIMEOUT])
				printf(", %zu timeout", st[FS_TIMEOUT]);
			if (st[FS_RESET])
				printf(", %zu reset", st[FS_RESET]);
			printf(" (max %u)", hs_max);
		}
		if (o.states)
			printf(", %zu match --state %s", nsel, o.states_arg);
		if (nshown < nsel)
			printf(", %zu %s shown", nshown,
			       o.sort == SORT_TIME ? "newest" : "slowest");
		printf("\n");
		if (nshown) {
			flow_header(&o, aw);
			for (size_t i = 0; i < nshown; i++)
				flow_print(&o, &shown[i], ifname, aw);
		}
	}
	free(ev);
	return 0;
}

/* --follow: one ring buffer per interface, polled together. */
struct follow_src {
	const struct flows_opts *o;
	const char *ifname;
	int events_fd;
	bool draining;           /* events from before we started: skipped */
};

static int follow_event(void *ctx, void *data, size_t len)
{
	struct follow_src *src = ctx;
	struct xdpsyn_flow_event evbuf = {};
	const struct xdpsyn_flow_event *ev = &evbuf;

	/* an older xdpsyn's events are shorter: the cookie fields only */
	if (src->draining ||
	    len < offsetof(struct xdpsyn_flow_event, flow.state))
		return 0;
	memcpy(&evbuf, data, len < sizeof(evbuf) ? len : sizeof(evbuf));
	if (!state_shown(src->o, &ev->flow))
		return 0;
	if (json_out) {
		json_object *j = flow_json(src->o, ev, src->ifname);

		printf("%s\n", json_object_to_json_string_ext(j,
			JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
		json_object_put(j);
	} else {
		flow_print(src->o, ev, src->ifname, 21);
	}
	fflush(stdout);
	return 0;
}

static int flows_follow(const struct flows_opts *o, char **names)
{
	struct ring_buffer *rb = NULL;
	struct follow_src *src;
	size_t n = 0;
	int ret = 0, err;

	while (names[n])
		n++;
	if (!n) {
		errmsg("flows", "no interface attached");
		return EXIT_CONFLICT;
	}
	src = calloc(n, sizeof(*src));
	if (!src) {
		errmsg("memory", "out of memory");
		return EXIT_RUNTIME;
	}
	for (size_t i = 0; i < n; i++)
		src[i] = (struct follow_src){ .o = o, .ifname = names[i],
					      .events_fd = -1, .draining = true };
	for (size_t i = 0; !ret && i < n; i++) {
		struct pins p;

		ret = pins_open(&p, names[i], PINS_EVENTS);
		if (ret)
			break;
		/* the ring buffer polls this fd: keep it, close the others */
		src[i].events_fd = p.events_fd;
		p.events_fd = -1;
		pins_close(&p);
		if (!rb) {
			rb = ring_buffer__new(src[i].events_fd, follow_event, &src[i],
					      NULL);
			err = rb ? 0 : -errno;
		} else {
			err = ring_buffer__add(rb, src[i].events_fd, follow_event,
					       &src[i]);
		}
		if (err) {
			errmsg(names[i], "opening the ring buffer %s: %s", pin_names[PIN_EVENTS],
			       strerror(-err));
			ret = EXIT_RUNTIME;
		}
	}
	if (ret)
		goto out;
	stop_signals_install();
	ring_buffer__consume(rb);
	for (size_t i = 0; i < n; i++)
		src[i].draining = false;
	if (!json_out) {
		flow_header(o, 21);
		fflush(stdout);
	}
	while (!stop_requested) {
		err = ring_buffer__poll(rb, 500);
		if (err < 0 && err != -EINTR) {
			errmsg("flows", "polling the ring buffer: %s", strerror(-err));
			ret = EXIT_RUNTIME;
			break;
		}
	}
out:
	ring_buffer__free(rb);
	for (size_t i = 0; i < n; i++)
		if (src[i].events_fd >= 0)
			close(src[i].events_fd);
	free(src);
	return ret;
}

/* "syn,synack,timeout" into a mask of 1 << enum flow_state; -1 on an
 * unknown or empty name. */
static int states_parse(const char *arg, unsigned *mask)
{
	const char *p = arg;

	*mask = 0;
	for (;;) {
		size_t len = strcspn(p, ",");
		int s;

		if (len == strlen("incomplete") && !strncmp(p, "incomplete", len)) {
			*mask |= FS_INCOMPLETE;
		} else {
			for (s = 0; s < FS_UNKNOWN; s++)
				if (strlen(fs_names[s]) == len &&
				    !strncmp(p, fs_names[s], len))
					break;
			if (s == FS_UNKNOWN)
				return -1;
			*mask |= 1u << s;
		}
		if (!p[len])
			return 0;
		p += len + 1;
	}
}

int cmd_flows(int argc, char **argv)
{
	enum { O_LIMIT = 256, O_SORT, O_FOLLOW, O_STATE };
	static const struct option opts[] = {
		{ "limit", required_argument, NULL, O_LIMIT },
		{ "sort", required_argument, NULL, O_SORT },
		{ "state", required_argument, NULL, O_STATE },
		{ "follow", no_argument, NULL, O_FOLLOW },
		{ "json", no_argument, NULL, 'j' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	struct flows_opts o = { .sort = SORT_TIME };
	json_object *root = NULL, *jarr = NULL;
	char **names = NULL;
	bool named;
	bool sort_set = false;
	int c, ret = 0, err;

	while ((c = getopt_long(argc, argv, "jvh", opts, NULL)) != -1) {
		switch (c) {
		case O_LIMIT:
			if (parse_ulong(optarg, 0, 1UL << 24, &o.limit))
				return usage_err("flows", "--limit %s: expected 0..%lu",
						 optarg, 1UL << 24);
			break;
		case O_SORT:
			if (!strcmp(optarg, "time"))
				o.sort = SORT_TIME;
			else if (!strcmp(optarg, "rtt"))
				o.sort = SORT_RTT;
			else if (!strcmp(optarg, "server"))
				o.sort = SORT_SERVER;
			else
				return usage_err("flows", "--sort %s: expected time, "
						 "rtt or server", optarg);
			sort_set = true;
			break;
		case O_STATE:
			/* checked per interface: a gateway has its own */
			o.states_bad = states_parse(optarg, &o.states) != 0;
			o.states_arg = optarg;
			break;
		case O_FOLLOW:
			o.follow = true;
			break;
		case 'j':
			json_out = true;
			break;
		case 'v':
			verbose = true;
			break;
		case 'h':
			flows_help(stdout);
			return EXIT_OK;
		default:
			return bad_option("flows", argv);
		}
	}
	if (o.follow && (sort_set || o.limit))
		return usage_err("flows", "--follow prints flows as they come: "
				 "no --sort or --limit");
	names = ifaces_select("flows", argc, argv, optind, &named, &err);
	if (!names)
		return err;
	if (!named)
		o.iface_col = o.follow;
	o.tai_off = tai_offset_ns();
	if (o.follow) {
		ret = flows_follow(&o, names);
		names_free(names);
		return ret;
	}
	if (json_out) {
		root = json_object_new_object();
		jarr = json_object_new_array();
		json_object_object_add(root, "interfaces", jarr);
	}
	for (char **n = names; *n; n++) {
		err = flows_one(&o, *n, jarr, n == (names));
		if (err && !ret)
			ret = err;
	}
	if (!json_out && !named && !names[0])
		printf("no interface attached\n");
	if (root)
		json_print_list(root, named);
	names_free(names);
	return ret;
}
